/* iommu/core.c — units, devices, domains, attachments and fault routing.
 *
 * Everything here is control path: it may allocate and sleep. Lock order:
 * domain->map_lock, then unit->lock, then dev->fault_lock, then the driver's
 * own locks (its queues). ops->page_response is never called with fault_lock
 * held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/iommu.h"

/* ---- units -------------------------------------------------------------------- */

struct iommu_unit *iommu_unit_new(const struct iommu_ops *ops, struct mem_space *mem,
				  struct mem_frames *pool, void *drv)
{
	struct iommu_unit *u = calloc(1, sizeof(*u));

	if (!u) {
		errno = ENOMEM;
		return NULL;
	}
	u->ops = ops;
	u->mem = mem;
	u->pool = pool;
	u->drv = drv;
	pthread_mutex_init(&u->lock, NULL);
	if (ops->hw_info)
		ops->hw_info(u, &u->info);
	return u;
}

void iommu_unit_free(struct iommu_unit *u)
{
	if (!u)
		return;
	if (u->ops->unit_free)
		u->ops->unit_free(u);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

/* ---- devices ------------------------------------------------------------------ */

int iommu_device_add(struct iommu_unit *u, struct dev_ep *ep, struct iommu_device **out)
{
	struct iommu_device *dev = calloc(1, sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	dev->unit = u;
	dev->ep = ep;
	dev->rid = dev_ep_rid(ep);
	dev->caps = *dev_ep_get_config(ep);
	pthread_mutex_init(&dev->fault_lock, NULL);

	pthread_mutex_lock(&u->lock);
	ret = u->ops->probe_device(u, dev);
	pthread_mutex_unlock(&u->lock);
	if (ret) {
		pthread_mutex_destroy(&dev->fault_lock);
		free(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

static void attach_unlink(struct iommu_attach *a)
{
	struct iommu_attach **pp;

	for (pp = &a->domain->attached; *pp; pp = &(*pp)->next_in_domain) {
		if (*pp == a) {
			*pp = a->next_in_domain;
			break;
		}
	}
	for (pp = &a->dev->attached; *pp; pp = &(*pp)->next_in_dev) {
		if (*pp == a) {
			*pp = a->next_in_dev;
			break;
		}
	}
	a->domain->users--;
	a->domain = NULL;
}

static struct iommu_attach *attach_find(struct iommu_device *dev, bool pasid_valid,
					uint32_t pasid)
{
	for (struct iommu_attach *a = dev->attached; a; a = a->next_in_dev)
		if (a->pasid_valid == pasid_valid && (!pasid_valid || a->pasid == pasid))
			return a;
	return NULL;
}

void iommu_device_remove(struct iommu_device *dev)
{
	struct iommu_unit *u = dev->unit;

	/* PASID attachments first, then the device's own. */
	for (;;) {
		uint32_t pasid = 0;
		bool found = false;

		pthread_mutex_lock(&u->lock);
		for (struct iommu_attach *a = dev->attached; a; a = a->next_in_dev) {
			if (a->pasid_valid) {
				pasid = a->pasid;
				found = true;
				break;
			}
		}
		pthread_mutex_unlock(&u->lock);
		if (!found)
			break;
		iommu_detach_dev_pasid(dev, pasid);
	}
	iommu_detach_dev(dev);
	iommu_answer_outstanding(dev, IOMMU_ANSWER_ALL, 0, IOMMU_PAGE_RESP_INVALID);

	pthread_mutex_lock(&u->lock);
	u->ops->release_device(u, dev);
	pthread_mutex_unlock(&u->lock);
	pthread_mutex_destroy(&dev->fault_lock);
	free(dev);
}

/* ---- domains ------------------------------------------------------------------ */

static struct iommu_domain *domain_new(struct iommu_unit *u, enum iommu_domain_type type)
{
	struct iommu_domain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->type = type;
	d->unit = u;
	pthread_mutex_init(&d->map_lock, NULL);
	return d;
}

static void domain_delete(struct iommu_domain *d)
{
	pthread_mutex_destroy(&d->map_lock);
	free(d);
}

int iommu_domain_alloc_paging(struct iommu_unit *u, unsigned flags, struct iommu_domain **out)
{
	struct iommu_domain *d;
	int ret;

	if (flags & ~(IOMMU_DOMAIN_F_NEST_PARENT | IOMMU_DOMAIN_F_FIRST_STAGE))
		return -EINVAL;
	if ((flags & IOMMU_DOMAIN_F_NEST_PARENT) && (flags & IOMMU_DOMAIN_F_FIRST_STAGE))
		return -EINVAL;
	d = domain_new(u, IOMMU_DOMAIN_PAGING);
	if (!d)
		return -ENOMEM;
	d->flags = flags;

	pthread_mutex_lock(&u->lock);
	ret = u->ops->domain_init(u, d);
	if (!ret) {
		ret = pgt_root_alloc(&d->fmt, u->pool, &d->root);
		if (ret)
			u->ops->domain_fini(u, d);
	}
	pthread_mutex_unlock(&u->lock);
	if (ret) {
		domain_delete(d);
		return ret;
	}
	d->aperture_end = d->fmt.ia_bits >= 64 ? UINT64_MAX : BIT(d->fmt.ia_bits) - 1;
	d->pgsize_bitmap = pgt_page_sizes(&d->fmt);
	*out = d;
	return 0;
}

int iommu_domain_alloc_nested(struct iommu_domain *parent, const struct iommu_user_s1 *s1,
			      struct iommu_domain **out)
{
	struct iommu_unit *u = parent->unit;
	struct iommu_domain *d;
	int ret;

	if (parent->type != IOMMU_DOMAIN_PAGING || !(parent->flags & IOMMU_DOMAIN_F_NEST_PARENT))
		return -EINVAL;
	if (s1->vendor != u->ops->vendor)
		return -EINVAL;
	d = domain_new(u, IOMMU_DOMAIN_NESTED);
	if (!d)
		return -ENOMEM;
	d->parent = parent;
	d->s1 = *s1;

	pthread_mutex_lock(&u->lock);
	ret = u->ops->domain_init(u, d);
	if (!ret)
		parent->users++;
	pthread_mutex_unlock(&u->lock);
	if (ret) {
		domain_delete(d);
		return ret;
	}
	*out = d;
	return 0;
}

int iommu_domain_free(struct iommu_domain *d)
{
	struct iommu_unit *u = d->unit;

	pthread_mutex_lock(&u->lock);
	if (d->users) {
		pthread_mutex_unlock(&u->lock);
		return -EBUSY;
	}
	u->ops->domain_fini(u, d);
	if (d->type == IOMMU_DOMAIN_NESTED)
		d->parent->users--;
	pthread_mutex_unlock(&u->lock);
	if (d->type == IOMMU_DOMAIN_PAGING)
		pgt_free_tree(&d->fmt, u->pool, d->root);
	domain_delete(d);
	return 0;
}

int iommu_map(struct iommu_domain *d, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot)
{
	int ret;

	if (d->type != IOMMU_DOMAIN_PAGING)
		return -EINVAL;
	pthread_mutex_lock(&d->map_lock);
	ret = pgt_map(&d->fmt, d->unit->pool, d->root, iova, pa, size, prot, 0);
	pthread_mutex_unlock(&d->map_lock);
	/* A new mapping needs no invalidation: neither model caches a not-present
	 * entry (VT-d CAP.CM = 0; the SMMU never caches faults). */
	return ret;
}

int iommu_unmap(struct iommu_domain *d, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	uint64_t done = 0;
	int ret;

	if (d->type != IOMMU_DOMAIN_PAGING)
		return -EINVAL;
	pthread_mutex_lock(&d->map_lock);
	ret = pgt_unmap(&d->fmt, d->unit->pool, d->root, iova, size, &done);
	if (!ret && done) {
		pthread_mutex_lock(&d->unit->lock);
		d->unit->ops->flush_range(d, iova, size);
		pthread_mutex_unlock(&d->unit->lock);
	}
	pthread_mutex_unlock(&d->map_lock);
	if (unmapped)
		*unmapped = done;
	return ret;
}

int iommu_domain_read(struct iommu_domain *d, uint64_t iova, void *buf, uint64_t len)
{
	uint8_t *p = buf;

	if (d->type != IOMMU_DOMAIN_PAGING)
		return -EINVAL;
	while (len) {
		struct pgt_result r;
		uint64_t chunk;

		if (pgt_walk(&d->fmt, d->unit->mem, d->root, iova, 0, &r, NULL) || !r.ok ||
		    !(r.perm & PGT_PERM_R))
			return -EFAULT;
		chunk = r.page_size - (iova & (r.page_size - 1));
		if (chunk > len)
			chunk = len;
		if (mem_read(d->unit->mem, r.oa, p, chunk))
			return -EFAULT;
		p += chunk;
		iova += chunk;
		len -= chunk;
	}
	return 0;
}

/* ---- attach ------------------------------------------------------------------- */

static bool pasid_ok(struct iommu_device *dev, uint32_t pasid)
{
	unsigned bits = dev->unit->info.pasid_bits;

	if (dev->caps.pasid_bits < bits)
		bits = dev->caps.pasid_bits;
	if (!bits || pasid >= (UINT32_C(1) << bits))
		return false;
	/* VT-d uses PASID 0 for requests without one (RID_PASID). */
	return !(pasid == 0 && dev->unit->ops->vendor == IOMMU_VENDOR_INTEL_VTD);
}

static void attach_link(struct iommu_attach *a, struct iommu_domain *d)
{
	a->domain = d;
	a->next_in_domain = d->attached;
	d->attached = a;
	d->users++;
}

int iommu_attach_dev(struct iommu_domain *d, struct iommu_device *dev)
{
	struct iommu_unit *u = dev->unit;
	struct iommu_attach *a = &dev->rid_attach;
	struct iommu_domain *old;
	int ret;

	if (d->unit != u)
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	old = a->domain;
	if (old == d) {
		pthread_mutex_unlock(&u->lock);
		return 0;
	}
	ret = u->ops->attach_dev(d, dev, old);
	if (!ret) {
		if (old)
			attach_unlink(a);
		a->dev = dev;
		a->pasid_valid = false;
		a->pasid = 0;
		attach_link(a, d);
		a->next_in_dev = dev->attached;
		dev->attached = a;
	}
	pthread_mutex_unlock(&u->lock);
	return ret;
}

int iommu_detach_dev(struct iommu_device *dev)
{
	struct iommu_unit *u = dev->unit;
	struct iommu_attach *a = &dev->rid_attach;

	pthread_mutex_lock(&u->lock);
	if (!a->domain) {
		pthread_mutex_unlock(&u->lock);
		return -ENOENT;
	}
	u->ops->detach_dev(a->domain, dev);
	attach_unlink(a);
	pthread_mutex_unlock(&u->lock);
	/* The requests that waited for this translation: without a PASID, or every
	 * one where the device's attachment covers its PASIDs too (SMMU CD table). */
	iommu_answer_outstanding(dev, u->ops->rid_covers_pasids ? IOMMU_ANSWER_ALL :
				 IOMMU_ANSWER_NO_PASID, 0, IOMMU_PAGE_RESP_INVALID);
	return 0;
}

int iommu_attach_dev_pasid(struct iommu_domain *d, struct iommu_device *dev, uint32_t pasid)
{
	struct iommu_unit *u = dev->unit;
	struct iommu_attach *a, *fresh = NULL;
	struct iommu_domain *old;
	int ret;

	if (d->unit != u || !pasid_ok(dev, pasid))
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	a = attach_find(dev, true, pasid);
	old = a ? a->domain : NULL;
	if (old == d) {
		pthread_mutex_unlock(&u->lock);
		return 0;
	}
	if (!a) {
		fresh = calloc(1, sizeof(*fresh));
		if (!fresh) {
			pthread_mutex_unlock(&u->lock);
			return -ENOMEM;
		}
	}
	ret = u->ops->attach_dev_pasid(d, dev, pasid, old);
	if (ret) {
		pthread_mutex_unlock(&u->lock);
		free(fresh);
		return ret;
	}
	if (a) {
		attach_unlink(a);
		a->next_in_dev = dev->attached;
	} else {
		a = fresh;
		a->dev = dev;
		a->pasid_valid = true;
		a->pasid = pasid;
		a->next_in_dev = dev->attached;
	}
	attach_link(a, d);
	dev->attached = a;
	pthread_mutex_unlock(&u->lock);
	return 0;
}

int iommu_detach_dev_pasid(struct iommu_device *dev, uint32_t pasid)
{
	struct iommu_unit *u = dev->unit;
	struct iommu_attach *a;

	pthread_mutex_lock(&u->lock);
	a = attach_find(dev, true, pasid);
	if (!a) {
		pthread_mutex_unlock(&u->lock);
		return -ENOENT;
	}
	u->ops->detach_dev_pasid(a->domain, dev, pasid);
	attach_unlink(a);
	pthread_mutex_unlock(&u->lock);
	free(a);
	iommu_answer_outstanding(dev, IOMMU_ANSWER_PASID, pasid, IOMMU_PAGE_RESP_INVALID);
	return 0;
}

struct iommu_domain *iommu_attached_domain(struct iommu_device *dev, bool pasid_valid,
					   uint32_t pasid)
{
	struct iommu_attach *a;
	struct iommu_domain *d;

	pthread_mutex_lock(&dev->unit->lock);
	a = attach_find(dev, pasid_valid, pasid);
	d = a ? a->domain : NULL;
	pthread_mutex_unlock(&dev->unit->lock);
	return d;
}

int iommu_cache_invalidate(struct iommu_domain *d, struct iommu_device *dev,
			   const struct iommu_inv *inv, unsigned n, unsigned *done)
{
	struct iommu_unit *u = d->unit;
	bool attached = false;
	int ret;

	*done = 0;
	if (d->type != IOMMU_DOMAIN_NESTED || dev->unit != u)
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	for (struct iommu_attach *a = dev->attached; a; a = a->next_in_dev)
		if (a->domain == d)
			attached = true;
	ret = attached ? u->ops->cache_invalidate(d, dev, inv, n, done) : -EINVAL;
	pthread_mutex_unlock(&u->lock);
	return ret;
}

/* ---- faults ------------------------------------------------------------------- */

void iommu_device_set_fault_handler(struct iommu_device *dev, iommu_fault_fn fn, void *ctx)
{
	pthread_mutex_lock(&dev->fault_lock);
	dev->fault_fn = fn;
	dev->fault_ctx = ctx;
	pthread_mutex_unlock(&dev->fault_lock);
}

static bool group_match(const struct iommu_prq_group *g, bool pasid_valid, uint32_t pasid,
			uint32_t grpid)
{
	if (!g->used || g->grpid != grpid)
		return false;
	/* A response carries the PASID exactly when the request needed it back. */
	if (pasid_valid)
		return g->pasid_valid && g->pasid == pasid;
	return true;
}

int iommu_report_fault(struct iommu_device *dev, const struct iommu_fault *f)
{
	const struct iommu_fault_page_request *prm = &f->prm;
	bool group = f->type == IOMMU_FAULT_PAGE_REQ &&
		     (prm->flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE);
	bool pasid_valid = prm->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID;
	struct iommu_prq_group *slot = NULL;
	iommu_fault_fn fn;
	void *ctx;
	int ret = -ENODEV;

	pthread_mutex_lock(&dev->fault_lock);
	fn = dev->fault_fn;
	ctx = dev->fault_ctx;
	if (group && fn) {
		for (unsigned i = 0; i < IOMMU_PRQ_GROUPS; i++) {
			if (!dev->groups[i].used) {
				slot = &dev->groups[i];
				break;
			}
		}
		if (slot) {
			slot->used = true;
			slot->pasid_valid = pasid_valid;
			slot->pasid = prm->pasid;
			slot->grpid = prm->grpid;
			slot->seq = ++dev->group_seq;
			slot->prm = *prm;
		} else {
			dev->groups_overflow++;
		}
	}
	pthread_mutex_unlock(&dev->fault_lock);

	if (fn && (!group || slot))
		ret = fn(ctx, dev, f);

	pthread_mutex_lock(&dev->fault_lock);
	if (ret) {
		dev->faults_dropped++;
		if (slot)
			slot->used = false;
	} else {
		dev->faults_reported++;
	}
	pthread_mutex_unlock(&dev->fault_lock);

	/* Nobody will answer this group: the device must not wait for ever. */
	if (ret && group)
		dev->unit->ops->page_response(dev, pasid_valid, prm->pasid, prm->grpid,
					      IOMMU_PAGE_RESP_INVALID);
	return ret;
}

int iommu_page_response(struct iommu_device *dev, bool pasid_valid, uint32_t pasid,
			uint32_t grpid, enum iommu_page_response_code code)
{
	struct iommu_prq_group *best = NULL;
	bool g_pasid_valid;
	uint32_t g_pasid;

	if (code != IOMMU_PAGE_RESP_SUCCESS && code != IOMMU_PAGE_RESP_INVALID &&
	    code != IOMMU_PAGE_RESP_FAILURE)
		return -EINVAL;
	pthread_mutex_lock(&dev->fault_lock);
	for (unsigned i = 0; i < IOMMU_PRQ_GROUPS; i++) {
		struct iommu_prq_group *g = &dev->groups[i];

		if (group_match(g, pasid_valid, pasid, grpid) && (!best || g->seq < best->seq))
			best = g;
	}
	if (!best) {
		pthread_mutex_unlock(&dev->fault_lock);
		return -EINVAL;
	}
	best->used = false;
	g_pasid_valid = best->pasid_valid;
	g_pasid = best->pasid;
	pthread_mutex_unlock(&dev->fault_lock);
	return dev->unit->ops->page_response(dev, g_pasid_valid, g_pasid, grpid, code);
}

void iommu_answer_outstanding(struct iommu_device *dev, enum iommu_answer_scope scope,
			      uint32_t pasid, enum iommu_page_response_code code)
{
	for (;;) {
		struct iommu_prq_group g = { 0 };

		pthread_mutex_lock(&dev->fault_lock);
		for (unsigned i = 0; i < IOMMU_PRQ_GROUPS; i++) {
			struct iommu_prq_group *s = &dev->groups[i];
			bool hit;

			if (!s->used)
				continue;
			switch (scope) {
			case IOMMU_ANSWER_ALL:
				hit = true;
				break;
			case IOMMU_ANSWER_NO_PASID:
				hit = !s->pasid_valid;
				break;
			default:
				hit = s->pasid_valid && s->pasid == pasid;
				break;
			}
			if (!hit)
				continue;
			g = *s;
			s->used = false;
			break;
		}
		pthread_mutex_unlock(&dev->fault_lock);
		if (!g.used)
			return;
		dev->unit->ops->page_response(dev, g.pasid_valid, g.pasid, g.grpid, code);
	}
}
