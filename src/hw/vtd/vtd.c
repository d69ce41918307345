/* hw/vtd/vtd.c — creating a unit from its configuration, the lock and event
 * delivery, endpoints, statistics. */
#include "hw/vtd/vtd_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void vtd_config_default(struct vtd_config *c)
{
	*c = (struct vtd_config){
		.haw = 48,
		.sagaw = BIT(1) | BIT(2) | BIT(3),
		.fl1gp = true, .fl5lp = true, .sllps_2m = true, .sllps_1g = true,
		.flts = true, .slts = true, .nest = true, .pt = true,
		.pasid_bits = 20,
		.prs = true, .dt = true, .sc = true, .srs = true, .ers = true, .eafs = true,
		.slads = true, .smpwcs = true, .pds = true, .vcs = true, .rps = true,
		.rprivs = true,
		.psi = true, .mamv = 18,
		.nfr = 8,
		.cc_entries = 64, .cc_ways = 4,
		.pc_entries = 256, .pc_ways = 4,
		.iotlb_entries = 1024, .iotlb_ways = 8,
		.fspsc_entries = 256, .sspsc_entries = 256, .psc_ways = 4,
	};
}

static bool config_ok(const struct vtd_config *c)
{
	if (c->haw < 32 || c->haw > 52 || !c->sagaw || (c->sagaw & ~(BIT(1) | BIT(2) | BIT(3))))
		return false;
	/* Fault records sit from VTD_FRCD_BASE up to the VCMD registers at 0xe00. */
	if (c->pasid_bits > 20 || c->nfr < 1 || c->nfr > (VTD_VCMD - VTD_FRCD_BASE) / 16 ||
	    c->mamv > 63)
		return false;
	if (!c->flts && !c->slts)
		return false;                   /* scalable mode translates somehow */
	if (c->nest && !(c->flts && c->slts))
		return false;
	if (c->prs && !c->pasid_bits)
		return false;
	return true;
}

static uint64_t make_cap(const struct vtd_config *c)
{
	return FIELD_PREP(CAP_ND, 6) |                       /* 16-bit domain IDs */
	       FIELD_PREP(CAP_SAGAW, c->sagaw) |
	       FIELD_PREP(CAP_MGAW, c->haw - 1) |
	       FIELD_PREP(CAP_FRO, VTD_FRCD_BASE / 16) |
	       (c->sllps_2m ? CAP_SLLPS_2M : 0) | (c->sllps_1g ? CAP_SLLPS_1G : 0) |
	       (c->psi ? CAP_PSI : 0) |
	       FIELD_PREP(CAP_NFR, c->nfr - 1) |
	       FIELD_PREP(CAP_MAMV, c->mamv) |
	       (c->fl1gp ? CAP_FL1GP : 0) | (c->fl5lp ? CAP_FL5LP : 0) |
	       CAP_ESRTPS;
}

static uint64_t make_ecap(const struct vtd_config *c)
{
	return ECAP_C | ECAP_QI |
	       (c->dt ? ECAP_DT : 0) | (c->pt ? ECAP_PT : 0) | (c->sc ? ECAP_SC : 0) |
	       (c->nest ? ECAP_NEST : 0) | (c->prs ? ECAP_PRS : 0) | (c->ers ? ECAP_ERS : 0) |
	       (c->srs ? ECAP_SRS : 0) | (c->eafs ? ECAP_EAFS : 0) |
	       (c->pasid_bits ? ECAP_PASID | FIELD_PREP(ECAP_PSS, c->pasid_bits - 1) : 0) |
	       (c->pds ? ECAP_PDS : 0) | ECAP_SMTS | (c->vcs ? ECAP_VCS : 0) |
	       (c->slads ? ECAP_SLADS : 0) | (c->slts ? ECAP_SLTS : 0) |
	       (c->flts ? ECAP_FLTS : 0) | (c->smpwcs ? ECAP_SMPWCS : 0) |
	       (c->rps ? ECAP_RPS : 0) | (c->rprivs ? ECAP_RPRIVS : 0);
}

static void port_translate(void *iommu, const struct dev_txn *t, struct dev_xlate *x)
{
	vtd_translate(iommu, t, x);
}

static int port_page_request(void *iommu, const struct dev_page_req *pr)
{
	return vtd_page_request(iommu, pr);
}

struct vtd *vtd_new(const struct vtd_config *c, struct mem_space *mem)
{
	struct vtd *v;

	if (!config_ok(c) || !mem) {
		errno = EINVAL;
		return NULL;
	}
	/* Aligned as the struct asks (its front-cache line). sizeof is a multiple of
	 * the alignment. */
	v = aligned_alloc(_Alignof(struct vtd), sizeof(*v));
	if (!v)
		goto nomem;
	memset(v, 0, sizeof(*v));
	v->cfg = *c;
	v->mem = mem;
	pthread_mutex_init(&v->lock, NULL);
	v->ver = 0x60;                  /* major 6: no register-based invalidation */
	v->cap = make_cap(c);
	v->ecap = make_ecap(c);
	v->fectl = XECTL_IM;            /* interrupt masks reset to 1 */
	v->iectl = XECTL_IM;
	v->pectl = XECTL_IM;
	v->frcd = calloc(2 * (size_t)c->nfr, sizeof(uint64_t));
	v->eps = calloc(65536, sizeof(*v->eps));
	v->vcmd_pasids = calloc((BIT(c->pasid_bits ? c->pasid_bits : 1) + 63) / 64, sizeof(uint64_t));
	v->cc = hwc_new("context", c->cc_entries, c->cc_ways ? c->cc_ways : 1);
	v->pc = hwc_new("pasid", c->pc_entries, c->pc_ways ? c->pc_ways : 1);
	v->iotlb = hwc_new("iotlb", c->iotlb_entries, c->iotlb_ways ? c->iotlb_ways : 1);
	v->fspsc = hwc_new("fs-psc", c->fspsc_entries, c->psc_ways ? c->psc_ways : 1);
	v->sspsc = hwc_new("ss-psc", c->sspsc_entries, c->psc_ways ? c->psc_ways : 1);
	if (!v->frcd || !v->eps || !v->vcmd_pasids || !v->cc || !v->pc || !v->iotlb ||
	    !v->fspsc || !v->sspsc) {
		int err = errno == EINVAL ? EINVAL : ENOMEM;

		vtd_free(v);
		errno = err;
		return NULL;
	}
	xfront_unit_init(&v->xl_front);
	hwc_set_watch(v->cc, &v->xl_front.ver);
	hwc_set_watch(v->pc, &v->xl_front.ver);
	hwc_set_watch(v->iotlb, &v->xl_front.ver);
	v->port.iommu = v;
	v->port.translate = port_translate;
	v->port.page_request = port_page_request;
	return v;

nomem:
	errno = ENOMEM;
	return NULL;
}

void vtd_free(struct vtd *v)
{
	if (!v)
		return;
	if (v->eps) {
		for (unsigned rid = 0; rid < 65536; rid++) {
			struct dev_ep *ep = atomic_load(&v->eps[rid]);

			if (ep)
				dev_ep_attach(ep, NULL);
		}
	}
	hwc_free(v->cc);
	hwc_free(v->pc);
	hwc_free(v->iotlb);
	hwc_free(v->fspsc);
	hwc_free(v->sspsc);
	free(v->frcd);
	free((void *)v->eps);
	free(v->vcmd_pasids);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

void vtd_set_event_cb(struct vtd *v, void (*cb)(void *ctx, enum vtd_event ev), void *ctx)
{
	vtd_lock(v);
	v->event_cb = cb;
	v->event_ctx = ctx;
	vtd_unlock(v);
}

void vtd_set_stale_cb(struct vtd *v, void (*cb)(void *ctx, const struct vtd_stale *s), void *ctx)
{
	vtd_lock(v);
	v->stale_cb = cb;
	v->stale_ctx = ctx;
	vtd_unlock(v);
}

void vtd_lock(struct vtd *v)
{
	pthread_mutex_lock(&v->lock);
}

void vtd_unlock(struct vtd *v)
{
	unsigned events = v->pending_events;
	void (*cb)(void *, enum vtd_event) = v->event_cb;
	void *ctx = v->event_ctx;

	v->pending_events = 0;
	pthread_mutex_unlock(&v->lock);
	/* Outside the lock: the handler may read registers (a driver's ISR does). */
	for (unsigned ev = 0; events && cb; ev++, events >>= 1)
		if (events & 1)
			cb(ctx, (enum vtd_event)ev);
}

struct dev_ep *vtd_endpoint(struct vtd *v, uint16_t rid)
{
	return atomic_load_explicit(&v->eps[rid], memory_order_acquire);
}

int vtd_attach(struct vtd *v, struct dev_ep *ep)
{
	struct dev_ep *none = NULL;

	if (!atomic_compare_exchange_strong(&v->eps[dev_ep_rid(ep)], &none, ep))
		return -EEXIST;
	dev_ep_attach(ep, &v->port);
	return 0;
}

void vtd_detach(struct vtd *v, struct dev_ep *ep)
{
	struct dev_ep *cur = ep;

	if (atomic_compare_exchange_strong(&v->eps[dev_ep_rid(ep)], &cur, NULL))
		dev_ep_attach(ep, NULL);
}

static void cache_stats(struct hwc *c, struct vtd_cache_stats *s)
{
	s->hits = pcounter_read(&c->stats.hits);
	s->misses = pcounter_read(&c->stats.misses);
	s->fills = pcounter_read(&c->stats.fills);
	s->evictions = pcounter_read(&c->stats.evictions);
	s->invalidated = pcounter_read(&c->stats.invalidated);
}

void vtd_get_stats(struct vtd *v, struct vtd_stats *st)
{
	uint64_t front;

	memset(st, 0, sizeof(*st));
	cache_stats(v->cc, &st->cc);
	cache_stats(v->pc, &st->pc);
	cache_stats(v->iotlb, &st->iotlb);
	cache_stats(v->fspsc, &st->fspsc);
	cache_stats(v->sspsc, &st->sspsc);
	front = xfront_hits(&v->xl_front);
	st->cc.hits += front;
	st->pc.hits += front;
	st->iotlb.hits += front;
	st->translations = pcounter_read(&v->translations) + front;
	st->walks = pcounter_read(&v->walks);
	st->walk_refs = pcounter_read(&v->walk_refs);
	for (unsigned i = 0; i < 256; i++)
		st->faults[i] = atomic_load(&v->faults[i]);
	st->faults_recorded = atomic_load(&v->faults_recorded);
	st->faults_suppressed = atomic_load(&v->faults_suppressed);
	st->faults_overflow = atomic_load(&v->faults_overflow);
	for (unsigned i = 0; i < 16; i++)
		st->descriptors[i] = atomic_load(&v->descriptors[i]);
	st->page_requests = atomic_load(&v->page_requests);
	st->prq_overflow = atomic_load(&v->prq_overflow);
	st->stale_hits = atomic_load(&v->stale_hits);
}
