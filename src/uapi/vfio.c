/* uapi/vfio.c — the seed's VFIO type1 nesting container over the iommu/ core.
 *
 * A container holds groups (one device each), one io_pagetable (MAP_DMA), one
 * paging domain per IOMMU unit its devices sit behind (a nest parent for
 * VFIO_TYPE1_NESTING_IOMMU), one PASID set (the VM's), one fault channel, and
 * the binds made through VFIO_IOMMU_NESTING_OP.
 *
 * Locking: the container mutex serialises every call. PASID release callbacks
 * (pasid_user.release) run inside pasid_free / pasid_set_free, which this file
 * calls only with the container mutex held: the callback therefore unbinds
 * without taking it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/iommu.h"
#include "iommu/iopt.h"
#include "iommu/pasid.h"
#include "uapi/fault.h"
#include "vsva/uapi/vfio.h"
#include "vsva/vfio_container.h"

#define CTR_MAX_UNITS 4

struct ctr_unit {
	struct iommu_unit *unit;
	struct iommu_domain *s2;    /* the container's paging domain on this unit */
};

/* One BIND_PGTBL. VT-d: a nested domain per unit, attached at hpasid on every
 * device. SMMUv3: a nested domain per unit (the guest's CD table) attached to
 * every device in place of the container's stage 2. */
struct ctr_bind {
	struct vsva_vfio_container *c;
	enum iommu_vendor vendor;
	uint32_t hpasid, gpasid;
	bool gpasid_valid;
	struct iommu_domain *nested[CTR_MAX_UNITS];
	struct pasid_user user;     /* VT-d: released when hpasid is freed */
	struct ctr_bind *next;
};

struct vsva_vfio_group {
	struct iommu_device *dev;
	struct vsva_vfio_container *c;
	struct vsva_vfio_group *next;
};

struct vsva_vfio_container {
	pthread_mutex_t lock;
	struct vsva_vfio_config cfg;
	int type;                   /* 0 until VFIO_SET_IOMMU */
	enum iommu_vendor vendor;   /* of the first group's unit */
	struct iopt iopt;
	bool iopt_live;
	struct vsva_vfio_group *groups;
	struct ctr_unit units[CTR_MAX_UNITS];
	unsigned nunits;
	struct pasid_set *set;
	struct fault_chan *faults;
	struct ctr_bind *binds;
};

/* ---- helpers ------------------------------------------------------------------ */

static struct ctr_unit *ctr_unit_of(struct vsva_vfio_container *c, struct iommu_unit *u)
{
	for (unsigned i = 0; i < c->nunits; i++)
		if (c->units[i].unit == u)
			return &c->units[i];
	return NULL;
}

static unsigned ctr_unit_index(struct vsva_vfio_container *c, struct iommu_unit *u)
{
	return (unsigned)(ctr_unit_of(c, u) - c->units);
}

static bool nesting(const struct vsva_vfio_container *c)
{
	return c->type == VFIO_TYPE1_NESTING_IOMMU;
}

static bool unit_can_nest(const struct iommu_unit *u)
{
	const struct iommu_hw_info *i = &u->info;

	if (i->vendor == IOMMU_VENDOR_INTEL_VTD)
		return (i->vtd.ecap >> 26) & 1;         /* ECAP.NEST */
	/* SMMUv3: both stages (IDR0.S1P bit 1, S2P bit 0). */
	return (i->smmu.idr[0] & 3) == 3;
}

/* ---- binds ---------------------------------------------------------------------- */

static void bind_undo_devices(struct vsva_vfio_container *c, struct ctr_bind *b)
{
	for (struct vsva_vfio_group *g = c->groups; g; g = g->next) {
		struct iommu_device *dev = g->dev;
		struct ctr_unit *cu = ctr_unit_of(c, dev->unit);

		if (!cu || !b->nested[cu - c->units])
			continue;
		if (b->vendor == IOMMU_VENDOR_INTEL_VTD) {
			if (iommu_attached_domain(dev, true, b->hpasid) == b->nested[cu - c->units])
				iommu_detach_dev_pasid(dev, b->hpasid);
		} else if (iommu_attached_domain(dev, false, 0) == b->nested[cu - c->units]) {
			/* Back to the VM's stage 2; page requests of the CD table's
			 * PASIDs are answered Invalid by the replacing attach. */
			iommu_attach_dev(cu->s2, dev);
			iommu_answer_outstanding(dev, IOMMU_ANSWER_ALL, 0, IOMMU_PAGE_RESP_INVALID);
		}
	}
}

static void bind_destroy(struct vsva_vfio_container *c, struct ctr_bind *b)
{
	struct ctr_bind **pp;

	bind_undo_devices(c, b);
	for (unsigned i = 0; i < CTR_MAX_UNITS; i++)
		if (b->nested[i])
			iommu_domain_free(b->nested[i]);
	if (b->gpasid_valid && c->set)
		pasid_unmap_guest(c->set, b->gpasid);
	for (pp = &c->binds; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	free(b);
}

/* The PASID is being freed (VFIO FREE_PASID, or the container going away): the
 * container mutex is held by whoever freed it. */
static void bind_release(struct pasid_user *u, uint32_t pasid)
{
	struct ctr_bind *b = u->priv;

	bind_destroy(b->c, b);
}

static struct ctr_bind *bind_find_vtd(struct vsva_vfio_container *c, uint32_t hpasid)
{
	for (struct ctr_bind *b = c->binds; b; b = b->next)
		if (b->vendor == IOMMU_VENDOR_INTEL_VTD && b->hpasid == hpasid)
			return b;
	return NULL;
}

static struct ctr_bind *bind_find_smmu(struct vsva_vfio_container *c)
{
	for (struct ctr_bind *b = c->binds; b; b = b->next)
		if (b->vendor == IOMMU_VENDOR_ARM_SMMUV3)
			return b;
	return NULL;
}

/* Attach b's nested domains where they belong; undone as a whole on error. */
static int bind_attach(struct vsva_vfio_container *c, struct ctr_bind *b)
{
	for (struct vsva_vfio_group *g = c->groups; g; g = g->next) {
		struct iommu_device *dev = g->dev;
		struct iommu_domain *d = b->nested[ctr_unit_index(c, dev->unit)];
		int ret;

		ret = b->vendor == IOMMU_VENDOR_INTEL_VTD ? iommu_attach_dev_pasid(d, dev, b->hpasid)
							  : iommu_attach_dev(d, dev);
		if (ret) {
			bind_undo_devices(c, b);
			return ret;
		}
	}
	return 0;
}

static int bind_s1_vtd(const struct iommu_gpasid_bind_data *bd, struct iommu_user_s1 *s1)
{
	const struct iommu_gpasid_bind_data_vtd *v = &bd->vendor.vtd;

	/* Undefined vendor flags (the kernel: everything from GPASID_LAST up). */
	if (v->flags & ~(uint64_t)(IOMMU_SVA_VTD_GPASID_LAST - 1))
		return -EINVAL;
	memset(s1, 0, sizeof(*s1));
	s1->vendor = IOMMU_VENDOR_INTEL_VTD;
	s1->vtd.pgtbl = bd->gpgd;
	s1->vtd.addr_width = bd->addr_width;
	if (v->flags & IOMMU_SVA_VTD_GPASID_SRE)
		s1->vtd.flags |= IOMMU_VTD_S1_SRE;
	if (v->flags & IOMMU_SVA_VTD_GPASID_EAFE)
		s1->vtd.flags |= IOMMU_VTD_S1_EAFE;
#ifdef IOMMU_VTD_S1_PCD
	if (v->flags & IOMMU_SVA_VTD_GPASID_PCD)
		s1->vtd.flags |= IOMMU_VTD_S1_PCD;
	if (v->flags & IOMMU_SVA_VTD_GPASID_PWT)
		s1->vtd.flags |= IOMMU_VTD_S1_PWT;
	if (v->flags & IOMMU_SVA_VTD_GPASID_EMTE)
		s1->vtd.flags |= IOMMU_VTD_S1_EMTE;
	if (v->flags & IOMMU_SVA_VTD_GPASID_CD)
		s1->vtd.flags |= IOMMU_VTD_S1_CD;
	s1->vtd.pat = v->pat;
	s1->vtd.emt = v->emt;
#else
	if (v->flags & IOMMU_SVA_VTD_GPASID_MTS_MASK)
		return -EINVAL;
#endif
	return 0;
}

static int bind_s1_smmu(const struct iommu_gpasid_bind_data *bd, struct iommu_user_s1 *s1)
{
	const struct iommu_gpasid_bind_data_smmuv3 *v = &bd->vendor.smmuv3;

	/* The guest's CD table binds every SubstreamID at once: there is no host
	 * PASID to name, and the CD carries the address size. */
	if (bd->hpasid || bd->gpasid || (bd->flags & IOMMU_SVA_GPASID_VAL) || bd->addr_width)
		return -EINVAL;
	if ((v->flags & ~(uint32_t)IOMMU_SVA_SMMUV3_S1STALLD) || v->padding)
		return -EINVAL;
	memset(s1, 0, sizeof(*s1));
	s1->vendor = IOMMU_VENDOR_ARM_SMMUV3;
	s1->smmu.cdtab = bd->gpgd;
	s1->smmu.s1fmt = v->s1fmt;
	s1->smmu.s1cdmax = v->s1cdmax;
	s1->smmu.s1dss = v->s1dss;
	s1->smmu.s1stalld = v->flags & IOMMU_SVA_SMMUV3_S1STALLD;
	return 0;
}

/* Copies the user's bind data (argsz-sized, zero-extended) and applies the
 * generic checks of the seed's iommu_uapi_sva_bind_gpasid. */
static int bind_data_get(const void *data, size_t len, struct iommu_gpasid_bind_data *bd)
{
	const size_t minsz = offsetof(struct iommu_gpasid_bind_data, vendor);
	uint32_t argsz;

	if (len < sizeof(uint32_t))
		return -EINVAL;
	memcpy(&argsz, data, sizeof(argsz));
	if (argsz < minsz || argsz > len)
		return -EINVAL;
	memset(bd, 0, sizeof(*bd));
	memcpy(bd, data, argsz < sizeof(*bd) ? argsz : sizeof(*bd));
	if (bd->version != IOMMU_GPASID_BIND_VERSION_1)
		return -EINVAL;
	if (bd->format == 0 || bd->format >= IOMMU_PASID_FORMAT_LAST)
		return -EINVAL;
	if (bd->flags & ~(uint64_t)IOMMU_SVA_GPASID_VAL)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(bd->padding); i++)
		if (bd->padding[i])
			return -EINVAL;
	/* The vendor part must be there whole. */
	if (bd->format == IOMMU_PASID_FORMAT_INTEL_VTD &&
	    argsz < offsetof(struct iommu_gpasid_bind_data, vendor) +
			    sizeof(struct iommu_gpasid_bind_data_vtd))
		return -EINVAL;
	if (bd->format == IOMMU_PASID_FORMAT_SMMUV3 &&
	    argsz < offsetof(struct iommu_gpasid_bind_data, vendor) +
			    sizeof(struct iommu_gpasid_bind_data_smmuv3))
		return -EINVAL;
	return 0;
}

/* The PASID the host programs for a bind: identity sets use hpasid and accept
 * gpasid only equal to it; guest sets need gpasid and record G->H. */
static int bind_pasids(struct vsva_vfio_container *c, const struct iommu_gpasid_bind_data *bd,
		       uint32_t *hpasid)
{
	bool gval = bd->flags & IOMMU_SVA_GPASID_VAL;

	if (bd->hpasid == 0 || bd->hpasid >= (UINT64_C(1) << 20) || bd->gpasid >= (UINT64_C(1) << 20))
		return -EINVAL;
	if (pasid_check(c->set, (uint32_t)bd->hpasid))
		return -EINVAL;         /* not this VM's PASID */
	if (pasid_set_mode(c->set) == PASID_MAP_IDENTITY) {
		if (gval && bd->gpasid != bd->hpasid)
			return -EINVAL;
	} else if (!gval || bd->gpasid == 0) {
		return -EINVAL;
	}
	*hpasid = (uint32_t)bd->hpasid;
	return 0;
}

static int op_bind(struct vsva_vfio_container *c, const void *data, size_t len)
{
	struct iommu_gpasid_bind_data bd;
	struct iommu_user_s1 s1;
	struct ctr_bind *b;
	uint32_t hpasid = 0;
	int ret;

	ret = bind_data_get(data, len, &bd);
	if (ret)
		return ret;
	if ((int)bd.format != (int)c->vendor)
		return -EINVAL;
	if (c->vendor == IOMMU_VENDOR_INTEL_VTD) {
		ret = bind_s1_vtd(&bd, &s1);
		if (!ret)
			ret = bind_pasids(c, &bd, &hpasid);
		if (ret)
			return ret;
		if (bind_find_vtd(c, hpasid))
			return -EBUSY;
	} else {
		ret = bind_s1_smmu(&bd, &s1);
		if (ret)
			return ret;
		if (bind_find_smmu(c))
			return -EBUSY;
	}
	if (!c->groups)
		return -EINVAL;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->c = c;
	b->vendor = c->vendor;
	b->hpasid = hpasid;
	b->gpasid = (uint32_t)bd.gpasid;
	b->gpasid_valid = c->vendor == IOMMU_VENDOR_INTEL_VTD &&
			  pasid_set_mode(c->set) == PASID_MAP_GUEST;
	b->user.release = bind_release;
	b->user.priv = b;
	for (unsigned i = 0; i < c->nunits; i++) {
		ret = iommu_domain_alloc_nested(c->units[i].s2, &s1, &b->nested[i]);
		if (ret)
			goto fail;
	}
	if (b->gpasid_valid) {
		ret = pasid_map_guest(c->set, b->gpasid, hpasid);
		if (ret) {
			b->gpasid_valid = false;
			ret = ret == -EINVAL ? -EINVAL : -EBUSY;
			goto fail;
		}
	}
	ret = bind_attach(c, b);
	if (ret)
		goto fail;
	if (b->vendor == IOMMU_VENDOR_INTEL_VTD) {
		ret = pasid_user_add(c->set, hpasid, &b->user);
		if (ret) {
			bind_undo_devices(c, b);
			goto fail;
		}
	}
	b->next = c->binds;
	c->binds = b;
	return 0;
fail:
	for (unsigned i = 0; i < CTR_MAX_UNITS; i++)
		if (b->nested[i])
			iommu_domain_free(b->nested[i]);
	if (b->gpasid_valid)
		pasid_unmap_guest(c->set, b->gpasid);
	free(b);
	return ret;
}

static int op_unbind(struct vsva_vfio_container *c, const void *data, size_t len)
{
	struct iommu_gpasid_bind_data bd;
	struct ctr_bind *b;
	int ret;

	ret = bind_data_get(data, len, &bd);
	if (ret)
		return ret;
	if ((int)bd.format != (int)c->vendor)
		return -EINVAL;
	if (c->vendor == IOMMU_VENDOR_ARM_SMMUV3) {
		b = bind_find_smmu(c);
		if (!b)
			return -EINVAL;
		bind_destroy(c, b);
		return 0;
	}
	if (bd.hpasid >= (UINT64_C(1) << 20))
		return -EINVAL;
	b = bind_find_vtd(c, (uint32_t)bd.hpasid);
	if (!b || ((bd.flags & IOMMU_SVA_GPASID_VAL) && b->gpasid_valid && b->gpasid != bd.gpasid))
		return -EINVAL;
	pasid_user_del(c->set, b->hpasid, &b->user);
	bind_destroy(c, b);
	return 0;
}

/* ---- generic invalidation --------------------------------------------------------- */

/* The seed's iommu_uapi_cache_invalidate and iommu_check_cache_invl_data, plus
 * the checks a converter needs (sizes that are powers of two, no wrap). */
static int inv_decode(const void *data, size_t len, struct iommu_inv *inv)
{
	struct iommu_cache_invalidate_info info;
	const size_t hdr = offsetof(struct iommu_cache_invalidate_info, granu);
	size_t minsz = hdr;
	uint32_t argsz;

	if (len < sizeof(uint32_t))
		return -EINVAL;
	memcpy(&argsz, data, sizeof(argsz));
	if (argsz < minsz || argsz > len)
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	memcpy(&info, data, argsz < sizeof(info) ? argsz : sizeof(info));
	if (info.version != IOMMU_CACHE_INVALIDATE_INFO_VERSION_1)
		return -EINVAL;
	if (info.granularity == IOMMU_INV_GRANU_PASID)
		minsz = hdr + sizeof(struct iommu_inv_pasid_info);
	else if (info.granularity == IOMMU_INV_GRANU_ADDR)
		minsz = hdr + sizeof(struct iommu_inv_addr_info);
	if (argsz < minsz)
		return -EINVAL;
	if (!info.cache || (info.cache & ~((1u << IOMMU_CACHE_INV_TYPE_NR) - 1)))
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(info.padding); i++)
		if (info.padding[i])
			return -EINVAL;

	memset(inv, 0, sizeof(*inv));
	inv->cache = info.cache;
	inv->granu = info.granularity;
	switch (info.granularity) {
	case IOMMU_INV_GRANU_DOMAIN:
		/* The table: no device-TLB invalidation of a whole domain. */
		if (info.cache & IOMMU_CACHE_INV_TYPE_DEV_IOTLB)
			return -EINVAL;
		break;
	case IOMMU_INV_GRANU_PASID: {
		const struct iommu_inv_pasid_info *p = &info.granu.pasid_info;

		if (p->flags & ~(uint32_t)(IOMMU_INV_PASID_FLAGS_PASID | IOMMU_INV_PASID_FLAGS_ARCHID))
			return -EINVAL;
		if (!p->flags)          /* at least one of them */
			return -EINVAL;
		if (p->pasid >= (UINT64_C(1) << 20))
			return -EINVAL;
		inv->pasid_valid = p->flags & IOMMU_INV_PASID_FLAGS_PASID;
		inv->pasid = (uint32_t)p->pasid;
		inv->archid_valid = p->flags & IOMMU_INV_PASID_FLAGS_ARCHID;
		inv->archid = p->archid;
		break;
	}
	case IOMMU_INV_GRANU_ADDR: {
		const struct iommu_inv_addr_info *a = &info.granu.addr_info;

		/* The table: the PASID cache is not invalidated by address. */
		if (info.cache & IOMMU_CACHE_INV_TYPE_PASID)
			return -EINVAL;
		if (a->flags & ~(uint32_t)(IOMMU_INV_ADDR_FLAGS_PASID | IOMMU_INV_ADDR_FLAGS_ARCHID |
					   IOMMU_INV_ADDR_FLAGS_LEAF))
			return -EINVAL;
		if (a->pasid >= (UINT64_C(1) << 20))
			return -EINVAL;
		if (a->granule_size < 4096 || (a->granule_size & (a->granule_size - 1)) ||
		    !a->nb_granules || a->nb_granules > (UINT64_MAX >> 12) / (a->granule_size >> 12) ||
		    (a->addr & 0xfff) ||
		    a->addr + a->granule_size * a->nb_granules - 1 < a->addr)
			return -EINVAL;
		inv->pasid_valid = a->flags & IOMMU_INV_ADDR_FLAGS_PASID;
		inv->pasid = (uint32_t)a->pasid;
		inv->archid_valid = a->flags & IOMMU_INV_ADDR_FLAGS_ARCHID;
		inv->archid = a->archid;
		inv->leaf = a->flags & IOMMU_INV_ADDR_FLAGS_LEAF;
		inv->addr = a->addr;
		inv->granule_size = a->granule_size;
		inv->nb_granules = a->nb_granules;
		break;
	}
	default:
		return -EINVAL;
	}
	return 0;
}

static int op_invalidate(struct vsva_vfio_container *c, const void *data, size_t len)
{
	struct iommu_inv inv;
	struct ctr_bind *b;
	int ret;

	ret = inv_decode(data, len, &inv);
	if (ret)
		return ret;
	if (c->vendor == IOMMU_VENDOR_INTEL_VTD) {
		uint32_t hpasid;

		/* Only first-stage (PASID-tagged) invalidations pass down: the host
		 * owns everything else (seed 003). The guest names its PASID; the
		 * host's goes to the hardware. */
		if (!inv.pasid_valid || pasid_g2h(c->set, inv.pasid, &hpasid))
			return -EINVAL;
		b = bind_find_vtd(c, hpasid);
		inv.pasid = hpasid;
	} else {
		/* SMMUv3: the PASID is the guest's SubstreamID in its own CD table. */
		b = bind_find_smmu(c);
	}
	if (!b)
		return -EINVAL;
	for (struct vsva_vfio_group *g = c->groups; g; g = g->next) {
		unsigned done;

		ret = iommu_cache_invalidate(b->nested[ctr_unit_index(c, g->dev->unit)], g->dev, &inv,
					     1, &done);
		if (ret)
			return ret;
	}
	return 0;
}

static long ioctl_nesting_op(struct vsva_vfio_container *c, void *arg)
{
	struct vfio_iommu_type1_nesting_op hdr;
	const size_t minsz = offsetof(struct vfio_iommu_type1_nesting_op, data);
	const uint8_t *data = (const uint8_t *)arg + minsz;
	size_t len;

	if (!arg)
		return -EFAULT;
	memcpy(&hdr, arg, minsz);
	if (hdr.argsz < minsz || (hdr.flags & ~(uint32_t)VFIO_NESTING_OP_MASK))
		return -EINVAL;
	if (!nesting(c))
		return -EOPNOTSUPP;
	len = hdr.argsz - minsz;
	switch (hdr.flags & VFIO_NESTING_OP_MASK) {
	case VFIO_IOMMU_NESTING_OP_BIND_PGTBL:
		return op_bind(c, data, len);
	case VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL:
		return op_unbind(c, data, len);
	case VFIO_IOMMU_NESTING_OP_CACHE_INVLD:
		return op_invalidate(c, data, len);
	default:
		return -EINVAL;
	}
}

/* ---- PASIDs ------------------------------------------------------------------------ */

static long ioctl_pasid_request(struct vsva_vfio_container *c, void *arg)
{
	struct vfio_iommu_type1_pasid_request req;
	const size_t minsz = offsetof(struct vfio_iommu_type1_pasid_request, range) +
			     sizeof(req.range);
	uint32_t min, max, top, pasid;
	int ret;

	if (!arg)
		return -EFAULT;
	memcpy(&req, arg, minsz);
	if (req.argsz < minsz || (req.flags & ~(uint32_t)VFIO_PASID_REQUEST_MASK))
		return -EINVAL;
	if (!nesting(c))
		return -EOPNOTSUPP;
	min = req.range.min;
	max = req.range.max;
	if (min > max || max >= (UINT32_C(1) << VFIO_IOMMU_PASID_BITS))
		return -EINVAL;
	top = (UINT32_C(1) << pasid_space_bits(c->cfg.pasids)) - 1;
	switch (req.flags) {
	case VFIO_IOMMU_FLAG_ALLOC_PASID:
		/* The range is the caller's wish; the space decides what exists.
		 * PASID 0 is never handed out (VT-d's RID_PASID). */
		if (min == 0)
			min = 1;
		if (max > top)
			max = top;
		if (min > max)
			return -ENOSPC;
		ret = pasid_alloc(c->set, min, max, &pasid);
		return ret ? ret : (long)pasid;
	case VFIO_IOMMU_FLAG_FREE_PASID:
		if (min > top)
			return 0;
		ret = pasid_free_range(c->set, min, max > top ? top : max);
		return ret < 0 ? ret : 0;
	default:
		return -EINVAL;         /* neither, or both */
	}
}

/* ---- groups and domains -------------------------------------------------------------- */

/* Puts g's device behind the container's domain for its unit (allocating the
 * domain and filling it from the io_pagetable the first time). */
static int group_attach(struct vsva_vfio_container *c, struct vsva_vfio_group *g)
{
	struct iommu_unit *u = g->dev->unit;
	struct ctr_unit *cu = ctr_unit_of(c, u);
	bool fresh = false;
	int ret;

	if (!cu) {
		if (c->nunits == CTR_MAX_UNITS)
			return -ENOSPC;
		if (u->mem != c->iopt.mem)
			return -EINVAL;
		cu = &c->units[c->nunits];
		ret = iommu_domain_alloc_paging(u, nesting(c) ? IOMMU_DOMAIN_F_NEST_PARENT : 0,
						&cu->s2);
		if (ret)
			return ret;
		ret = iopt_add_domain(&c->iopt, cu->s2);
		if (ret) {
			iommu_domain_free(cu->s2);
			return ret;
		}
		cu->unit = u;
		c->nunits++;
		fresh = true;
	}
	ret = iommu_attach_dev(cu->s2, g->dev);
	if (ret) {
		if (fresh) {
			iopt_remove_domain(&c->iopt, cu->s2);
			iommu_domain_free(cu->s2);
			c->nunits--;
		}
		return ret;
	}
	if (nesting(c))
		iommu_device_set_fault_handler(g->dev, fault_chan_push, c->faults);
	return 0;
}

static void group_detach(struct vsva_vfio_container *c, struct vsva_vfio_group *g)
{
	struct ctr_unit *cu = ctr_unit_of(c, g->dev->unit);
	bool last = true;

	if (!cu)
		return;
	/* Binds stay for the other devices; this one leaves them. */
	for (struct ctr_bind *b = c->binds; b; b = b->next) {
		struct iommu_domain *d = b->nested[cu - c->units];

		if (b->vendor == IOMMU_VENDOR_INTEL_VTD &&
		    iommu_attached_domain(g->dev, true, b->hpasid) == d)
			iommu_detach_dev_pasid(g->dev, b->hpasid);
	}
	iommu_detach_dev(g->dev);
	iommu_device_set_fault_handler(g->dev, NULL, NULL);
	if (c->faults)
		fault_chan_forget(c->faults, g->dev);
	for (struct vsva_vfio_group *o = c->groups; o; o = o->next)
		if (o != g && o->dev->unit == cu->unit)
			last = false;
	if (!last)
		return;
	/* The unit's last device: its nested domains and stage 2 go. */
	for (struct ctr_bind *b = c->binds; b; b = b->next) {
		if (b->nested[cu - c->units]) {
			iommu_domain_free(b->nested[cu - c->units]);
			b->nested[cu - c->units] = NULL;
		}
	}
	iopt_remove_domain(&c->iopt, cu->s2);
	iommu_domain_free(cu->s2);
	*cu = c->units[--c->nunits];
	/* Binds index units by position: keep them in step with the move. */
	for (struct ctr_bind *b = c->binds; b; b = b->next) {
		b->nested[cu - c->units] = b->nested[c->nunits];
		b->nested[c->nunits] = NULL;
	}
}

static long group_set_container(struct vsva_vfio_group *g, struct vsva_vfio_container *c)
{
	long ret = 0;

	if (!c)
		return -EBADF;
	if (g->c)
		return -EINVAL;         /* Linux: already in a container */
	pthread_mutex_lock(&c->lock);
	if (c->groups && g->dev->unit->info.vendor != c->vendor && nesting(c)) {
		ret = -EINVAL;
		goto out;
	}
	if (!c->groups && !c->type)
		c->vendor = g->dev->unit->info.vendor;
	if (c->type) {
		if (nesting(c) && (g->dev->unit->info.vendor != c->vendor || c->binds)) {
			/* A device joining a VM with live binds would miss them. */
			ret = c->binds ? -EBUSY : -EINVAL;
			goto out;
		}
		ret = group_attach(c, g);
		if (ret)
			goto out;
	}
	g->c = c;
	g->next = c->groups;
	c->groups = g;
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static void container_drop_binds(struct vsva_vfio_container *c)
{
	while (c->binds) {
		struct ctr_bind *b = c->binds;

		if (b->vendor == IOMMU_VENDOR_INTEL_VTD)
			pasid_user_del(c->set, b->hpasid, &b->user);
		bind_destroy(c, b);
	}
}

/* The container loses its IOMMU when its last group leaves (as in Linux). */
static void container_reset(struct vsva_vfio_container *c)
{
	container_drop_binds(c);
	if (c->set) {
		pasid_set_free(c->set);
		c->set = NULL;
	}
	if (c->iopt_live) {
		iopt_destroy(&c->iopt);
		c->iopt_live = false;
	}
	c->type = 0;
}

static long group_unset_container(struct vsva_vfio_group *g)
{
	struct vsva_vfio_container *c = g->c;

	if (!c)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	if (c->type)
		group_detach(c, g);
	for (struct vsva_vfio_group **pp = &c->groups; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	g->c = NULL;
	g->next = NULL;
	if (!c->groups && c->type)
		container_reset(c);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int vsva_vfio_group_new(struct iommu_device *dev, struct vsva_vfio_group **out)
{
	struct vsva_vfio_group *g;

	if (!dev)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->dev = dev;
	*out = g;
	return 0;
}

int vsva_vfio_group_free(struct vsva_vfio_group *g)
{
	if (g->c)
		return -EBUSY;
	free(g);
	return 0;
}

long vsva_vfio_group_ioctl(struct vsva_vfio_group *g, unsigned long request, unsigned long arg)
{
	switch (request) {
	case VFIO_GROUP_GET_STATUS: {
		struct vfio_group_status st;
		const size_t minsz = sizeof(st);

		if (!arg)
			return -EFAULT;
		memcpy(&st, (void *)arg, minsz);
		if (st.argsz < minsz)
			return -EINVAL;
		st.flags = VFIO_GROUP_FLAGS_VIABLE | (g->c ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
		memcpy((void *)arg, &st, minsz);
		return 0;
	}
	case VFIO_GROUP_SET_CONTAINER:
		return group_set_container(g, (struct vsva_vfio_container *)arg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return group_unset_container(g);
	default:
		return -ENOTTY;
	}
}

/* ---- the container ----------------------------------------------------------------- */

int vsva_vfio_container_new(const struct vsva_vfio_config *cfg, struct vsva_vfio_container **out)
{
	struct vsva_vfio_container *c;
	int ret;

	if (!cfg || !cfg->pasids)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	if (!c->cfg.pasid_quota)
		c->cfg.pasid_quota = 1024;
	if (!c->cfg.fault_depth)
		c->cfg.fault_depth = 256;
	if (!c->cfg.dma_entry_limit)
		c->cfg.dma_entry_limit = 65535;
	ret = fault_chan_new(c->cfg.fault_depth, &c->faults);
	if (ret) {
		free(c);
		return ret;
	}
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void vsva_vfio_container_free(struct vsva_vfio_container *c)
{
	if (!c)
		return;
	while (c->groups)
		group_unset_container(c->groups);
	pthread_mutex_lock(&c->lock);
	container_reset(c);
	pthread_mutex_unlock(&c->lock);
	fault_chan_free(c->faults);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static long check_extension(struct vsva_vfio_container *c, unsigned long ext)
{
	bool nest = true;

	switch (ext) {
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_TYPE1_NESTING_IOMMU:
		for (struct vsva_vfio_group *g = c->groups; g; g = g->next)
			nest &= unit_can_nest(g->dev->unit);
		return nest;
	default:
		return 0;
	}
}

static long set_iommu(struct vsva_vfio_container *c, unsigned long type)
{
	struct vsva_vfio_group *g;
	enum pasid_map_mode mode;
	int ret;

	if (type != VFIO_TYPE1v2_IOMMU && type != VFIO_TYPE1_NESTING_IOMMU)
		return -ENODEV;         /* no IOMMU driver takes that type */
	if (c->type)
		return -EBUSY;
	if (!c->groups)
		return -EINVAL;
	for (g = c->groups; g; g = g->next) {
		if (type == VFIO_TYPE1_NESTING_IOMMU &&
		    (!unit_can_nest(g->dev->unit) || g->dev->unit->info.vendor != c->vendor))
			return -EINVAL;
	}
	iopt_init(&c->iopt, c->groups->dev->unit->mem);
	c->iopt.max_areas = c->cfg.dma_entry_limit;
	c->iopt_live = true;
	c->type = (int)type;
	if (nesting(c)) {
		mode = c->cfg.guest_pasids ? PASID_MAP_GUEST : PASID_MAP_IDENTITY;
		ret = pasid_set_new(c->cfg.pasids, c->cfg.pasid_quota, mode, &c->set);
		if (ret)
			goto fail;
	}
	for (g = c->groups; g; g = g->next) {
		ret = group_attach(c, g);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	for (struct vsva_vfio_group *o = c->groups; o != g; o = o->next)
		group_detach(c, o);
	container_reset(c);
	return ret;
}

/* The capability chain of GET_INFO, built in buf (offsets from the start of the
 * info struct, as VFIO writes them). Returns its size. */
static size_t info_caps(struct vsva_vfio_container *c, uint8_t *buf, size_t base)
{
	struct vfio_iommu_type1_info_cap_iova_range ir = { 0 };
	struct vfio_iova_range range = { 0, UINT64_MAX };
	size_t at = 0;

	for (unsigned i = 0; i < c->nunits; i++)
		if (c->units[i].s2->aperture_end < range.end)
			range.end = c->units[i].s2->aperture_end;
	ir.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	ir.header.version = 1;
	ir.nr_iovas = 1;
	if (nesting(c))
		ir.header.next = (uint32_t)(base + sizeof(ir) + sizeof(range));
	memcpy(buf + at, &ir, sizeof(ir));
	memcpy(buf + at + sizeof(ir), &range, sizeof(range));
	at += sizeof(ir) + sizeof(range);

	if (nesting(c)) {
		struct vfio_iommu_type1_info_cap_nesting nc;
		const struct iommu_hw_info *hw = &c->units[0].unit->info;
		struct iommu_nesting_info *ni = &nc.info;

		memset(&nc, 0, sizeof(nc));
		nc.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_NESTING;
		nc.header.version = 1;
		ni->argsz = sizeof(*ni);
		ni->format = hw->vendor;
		ni->features = IOMMU_NESTING_FEAT_BIND_PGTBL | IOMMU_NESTING_FEAT_CACHE_INVLD;
		ni->pasid_bits = (uint16_t)hw->pasid_bits;
		if (hw->vendor == IOMMU_VENDOR_INTEL_VTD) {
			/* Host-allocated PASIDs, system wide. */
			ni->features |= IOMMU_NESTING_FEAT_SYSWIDE_PASID;
			ni->addr_width = (uint16_t)c->units[0].s2->fmt.ia_bits;
			ni->vendor.vtd.cap_reg = hw->vtd.cap;
			ni->vendor.vtd.ecap_reg = hw->vtd.ecap;
		} else {
			/* Stage 1 outputs IPAs: the stage-2 input size. */
			ni->addr_width = (uint16_t)c->units[0].s2->fmt.ia_bits;
			ni->vendor.smmuv3.aidr = hw->smmu.aidr;
			ni->vendor.smmuv3.idr0 = hw->smmu.idr[0];
			ni->vendor.smmuv3.idr1 = hw->smmu.idr[1];
			ni->vendor.smmuv3.idr3 = hw->smmu.idr[3];
			ni->vendor.smmuv3.idr5 = hw->smmu.idr[5];
		}
		memcpy(buf + at, &nc, sizeof(nc));
		at += sizeof(nc);
	}
	return at;
}

static long get_info(struct vsva_vfio_container *c, void *arg)
{
	struct vfio_iommu_type1_info info;
	const size_t minsz = offsetof(struct vfio_iommu_type1_info, iova_pgsizes) + 8;
	const size_t capsz = offsetof(struct vfio_iommu_type1_info, cap_offset) + 4;
	uint8_t caps[256];
	size_t ncaps, out = minsz;
	uint64_t pgsizes = UINT64_MAX;

	if (!arg)
		return -EFAULT;
	memset(&info, 0, sizeof(info));
	memcpy(&info, arg, minsz);
	if (info.argsz < minsz)
		return -EINVAL;
	for (unsigned i = 0; i < c->nunits; i++)
		pgsizes &= c->units[i].s2->pgsize_bitmap;
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = pgsizes;
	if (info.argsz >= capsz) {
		out = capsz;
		ncaps = info_caps(c, caps, sizeof(info));
		info.flags |= VFIO_IOMMU_INFO_CAPS;
		if (info.argsz < sizeof(info) + ncaps) {
			info.argsz = (uint32_t)(sizeof(info) + ncaps);
			info.cap_offset = 0;
		} else {
			memcpy((uint8_t *)arg + sizeof(info), caps, ncaps);
			info.cap_offset = sizeof(info);
		}
	}
	memcpy(arg, &info, out);
	return 0;
}

static long map_dma(struct vsva_vfio_container *c, void *arg)
{
	struct vfio_iommu_type1_dma_map map;
	const size_t minsz = offsetof(struct vfio_iommu_type1_dma_map, size) + 8;
	unsigned prot = 0;

	if (!arg)
		return -EFAULT;
	memcpy(&map, arg, minsz);
	if (map.argsz < minsz ||
	    (map.flags & ~(uint32_t)(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= PGT_PROT_R;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= PGT_PROT_W;
	if (!prot)
		return -EINVAL;
	return iopt_map(&c->iopt, map.iova, map.vaddr, map.size, prot);
}

static long unmap_dma(struct vsva_vfio_container *c, void *arg)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	const size_t minsz = offsetof(struct vfio_iommu_type1_dma_unmap, size) + 8;
	uint64_t done = 0;
	int ret;

	if (!arg)
		return -EFAULT;
	memcpy(&unmap, arg, minsz);
	if (unmap.argsz < minsz || (unmap.flags & ~(uint32_t)VFIO_DMA_UNMAP_FLAG_ALL))
		return -EINVAL;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
		ret = iopt_unmap_all(&c->iopt, &done);
	} else {
		ret = iopt_unmap(&c->iopt, unmap.iova, unmap.size, &done);
	}
	if (ret)
		return ret;
	unmap.size = done;
	memcpy(arg, &unmap, minsz);
	return 0;
}

long vsva_vfio_ioctl(struct vsva_vfio_container *c, unsigned long request, unsigned long arg)
{
	void *p = (void *)arg;
	long ret;

	switch (request) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		pthread_mutex_lock(&c->lock);
		ret = check_extension(c, arg);
		pthread_mutex_unlock(&c->lock);
		return ret;
	case VFIO_SET_IOMMU:
		pthread_mutex_lock(&c->lock);
		ret = set_iommu(c, arg);
		pthread_mutex_unlock(&c->lock);
		return ret;
	case VFIO_IOMMU_GET_INFO:
	case VFIO_IOMMU_MAP_DMA:
	case VFIO_IOMMU_UNMAP_DMA:
	case VFIO_IOMMU_PASID_REQUEST:
	case VFIO_IOMMU_NESTING_OP:
		break;
	default:
		return -ENOTTY;
	}
	pthread_mutex_lock(&c->lock);
	if (!c->type) {
		/* No IOMMU driver behind the container yet. */
		pthread_mutex_unlock(&c->lock);
		return -EINVAL;
	}
	switch (request) {
	case VFIO_IOMMU_GET_INFO:
		ret = get_info(c, p);
		break;
	case VFIO_IOMMU_MAP_DMA:
		ret = map_dma(c, p);
		break;
	case VFIO_IOMMU_UNMAP_DMA:
		ret = unmap_dma(c, p);
		break;
	case VFIO_IOMMU_PASID_REQUEST:
		ret = ioctl_pasid_request(c, p);
		break;
	default:
		ret = ioctl_nesting_op(c, p);
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int vsva_vfio_fault_fd(struct vsva_vfio_container *c)
{
	return fault_chan_fd(c->faults);
}

ssize_t vsva_vfio_fault_read(struct vsva_vfio_container *c, void *buf, size_t len)
{
	return fault_chan_read(c->faults, buf, len);
}

ssize_t vsva_vfio_fault_write(struct vsva_vfio_container *c, const void *buf, size_t len)
{
	return fault_chan_write(c->faults, buf, len);
}

int vsva_vfio_pasid_g2h(struct vsva_vfio_container *c, uint32_t gpasid, uint32_t *hpasid)
{
	int ret;

	pthread_mutex_lock(&c->lock);
	ret = c->set ? pasid_g2h(c->set, gpasid, hpasid) : -ENOENT;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int vsva_vfio_pasid_h2g(struct vsva_vfio_container *c, uint32_t hpasid, uint32_t *gpasid)
{
	int ret;

	pthread_mutex_lock(&c->lock);
	ret = c->set ? pasid_h2g(c->set, hpasid, gpasid) : -ENOENT;
	pthread_mutex_unlock(&c->lock);
	return ret;
}
