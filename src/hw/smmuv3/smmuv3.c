/* hw/smmuv3/smmuv3.c — creating an SMMU from its configuration (the ID register
 * values), the lock and interrupt delivery, endpoints, statistics. */
#include "hw/smmuv3/smmuv3_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void smmu_config_default(struct smmu_config *c)
{
	*c = (struct smmu_config){
		.s1p = true, .s2p = true, .ttf = IDR0_TTF_AARCH64,
		.ats = true, .pri = true, .httu = 2,
		.vmid16 = true, .asid16 = true, .cd2l = true, .st_level = 1,
		.stall_model = 0, .term_model = false, .sev = true, .msi = true,
		.sidsize = 16, .ssidsize = 20,
		.cmdqs = 19, .eventqs = 19, .priqs = 19,
		.ril = true, .oas = 48,
		.gran4k = true, .gran16k = true, .gran64k = true,
		.stall_max = 64,
		.cfg_entries = 64, .cfg_ways = 4,
		.tlb_entries = 2048, .tlb_ways = 8,
		.s1wc_entries = 256, .s2wc_entries = 256, .wc_ways = 4,
	};
}

/* IDR5.OAS encodings (the spec's table; 0b110 52 bits needs SMMUv3.1). */
static int oas_encoding(unsigned bits)
{
	static const unsigned enc[] = { 32, 36, 40, 42, 44, 48, 52 };

	for (unsigned i = 0; i < ARRAY_SIZE(enc); i++)
		if (enc[i] == bits)
			return (int)i;
	return -1;
}

static bool config_ok(const struct smmu_config *c)
{
	if (!c->s1p && !c->s2p)
		return false;
	if (c->ttf != IDR0_TTF_AARCH64)
		return false;                   /* the model walks AArch64 tables only */
	if (c->httu > 2 || c->stall_model > 2 || c->st_level > 1)
		return false;
	if (c->sidsize < 1 || c->sidsize > 32 || c->ssidsize > 20)
		return false;
	/* IDR1 queue sizes: 5-bit fields, at most 19 (2^19 entries). */
	if (c->cmdqs > 19 || c->eventqs > 19 || c->priqs > 19)
		return false;
	if (c->pri && (!c->ats || !c->ssidsize))
		return false;                   /* PRI needs ATS; page requests carry a PASID */
	if (c->cd2l && !c->ssidsize)
		return false;
	if (oas_encoding(c->oas) < 0 || !(c->gran4k || c->gran16k || c->gran64k))
		return false;
	if (c->stall_model != 1 && (c->stall_max < 1 || c->stall_max > 0xffff))
		return false;
	return true;
}

static void make_idrs(struct smmu *s)
{
	const struct smmu_config *c = &s->cfg;

	s->idr[0] = (uint32_t)((c->s2p ? IDR0_S2P : 0) | (c->s1p ? IDR0_S1P : 0) |
			       FIELD_PREP(IDR0_TTF, c->ttf) | IDR0_COHACC |
			       FIELD_PREP(IDR0_HTTU, c->httu) |
			       /* NS1ATS: split-stage ATS (EATS 0b10) is not implemented. */
			       (c->ats ? IDR0_ATS | IDR0_NS1ATS : 0) |
			       (c->asid16 ? IDR0_ASID16 : 0) |
			       (c->msi ? IDR0_MSI : 0) | (c->sev ? IDR0_SEV : 0) |
			       (c->pri ? IDR0_PRI : 0) | (c->vmid16 ? IDR0_VMID16 : 0) |
			       (c->cd2l ? IDR0_CD2L : 0) |
			       FIELD_PREP(IDR0_TTENDIAN, IDR0_TTENDIAN_LE) |
			       FIELD_PREP(IDR0_STALL_MODEL, c->stall_model) |
			       (c->term_model ? IDR0_TERM_MODEL : 0) |
			       FIELD_PREP(IDR0_ST_LEVEL, c->st_level));
	s->idr[1] = (uint32_t)(FIELD_PREP(IDR1_SIDSIZE, c->sidsize) |
			       FIELD_PREP(IDR1_SSIDSIZE, c->ssidsize) |
			       FIELD_PREP(IDR1_PRIQS, c->pri ? c->priqs : 0) |
			       FIELD_PREP(IDR1_EVENTQS, c->eventqs) |
			       FIELD_PREP(IDR1_CMDQS, c->cmdqs));
	s->idr[2] = 0;                          /* no VATOS */
	/* HAD is mandatory from v3.1 with stage 1: CD.HAD0/HAD1 are honoured. */
	s->idr[3] = (uint32_t)((c->ril ? IDR3_RIL : 0) | (c->s1p ? IDR3_HAD : 0));
	s->idr[4] = 0;                          /* IMPLEMENTATION DEFINED */
	s->idr[5] = (uint32_t)(FIELD_PREP(IDR5_OAS, (unsigned)oas_encoding(c->oas)) |
			       (c->gran4k ? IDR5_GRAN4K : 0) | (c->gran16k ? IDR5_GRAN16K : 0) |
			       (c->gran64k ? IDR5_GRAN64K : 0) |
			       FIELD_PREP(IDR5_STALL_MAX,
					  c->stall_model == 1 ? 0 : c->stall_max));
	s->iidr = 0;                            /* no implementer, product or revision */
	s->aidr = (uint32_t)FIELD_PREP(AIDR_MINOR, 2);   /* SMMUv3.2 */
}

static void port_translate(void *iommu, const struct dev_txn *t, struct dev_xlate *x)
{
	smmu_translate(iommu, t, x);
}

static int port_page_request(void *iommu, const struct dev_page_req *pr)
{
	return smmu_page_request(iommu, pr);
}

static enum dev_stall_answer port_stall_wait(void *iommu, const struct dev_xlate *x,
					     uint64_t timeout_ns)
{
	return smmu_stall_wait(iommu, x, timeout_ns);
}

struct smmu *smmu_new(const struct smmu_config *c, struct mem_space *mem)
{
	struct smmu *s;

	if (!c || !config_ok(c) || !mem) {
		errno = EINVAL;
		return NULL;
	}
	s = aligned_alloc(_Alignof(struct smmu), sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->cfg = *c;
	s->mem = mem;
	pthread_mutex_init(&s->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);  /* stall waits' deadlines */
		pthread_cond_init(&s->stall_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	make_idrs(s);
	/* GBPA resets to ABORT = 1 on most implementations; the spec leaves the reset
	 * value IMPLEMENTATION DEFINED, and Linux sets it before enabling anyway. */
	s->gbpa = (uint32_t)GBPA_ABORT;
	atomic_store(&s->gbpa_now, s->gbpa);
	s->nstalls = c->stall_model == 1 ? 0 : c->stall_max;
	s->stalls = s->nstalls ? calloc(s->nstalls, sizeof(*s->stalls)) : NULL;
	s->eps = calloc(65536, sizeof(*s->eps));
	s->cfgc = hwc_new("config", c->cfg_entries, c->cfg_ways ? c->cfg_ways : 1);
	s->tlb = hwc_new("tlb", c->tlb_entries, c->tlb_ways ? c->tlb_ways : 1);
	s->s1wc = hwc_new("s1-walk", c->s1wc_entries, c->wc_ways ? c->wc_ways : 1);
	s->s2wc = hwc_new("s2-walk", c->s2wc_entries, c->wc_ways ? c->wc_ways : 1);
	if ((s->nstalls && !s->stalls) || !s->eps || !s->cfgc || !s->tlb || !s->s1wc ||
	    !s->s2wc) {
		int err = errno == EINVAL ? EINVAL : ENOMEM;

		smmu_free(s);
		errno = err;
		return NULL;
	}
	xfront_unit_init(&s->xl_front);
	hwc_set_watch(s->cfgc, &s->xl_front.ver);
	hwc_set_watch(s->tlb, &s->xl_front.ver);
	s->port.iommu = s;
	s->port.translate = port_translate;
	s->port.page_request = port_page_request;
	s->port.stall_wait = port_stall_wait;
	return s;
}

void smmu_free(struct smmu *s)
{
	if (!s)
		return;
	if (s->eps)
		for (unsigned i = 0; i < 65536; i++)
			if (atomic_load(&s->eps[i]))
				dev_ep_attach(atomic_load(&s->eps[i]), NULL);
	hwc_free(s->cfgc);
	hwc_free(s->tlb);
	hwc_free(s->s1wc);
	hwc_free(s->s2wc);
	free(s->eps);
	free(s->stalls);
	pthread_cond_destroy(&s->stall_cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void smmu_lock(struct smmu *s)
{
	pthread_mutex_lock(&s->lock);
}

void smmu_unlock(struct smmu *s)
{
	unsigned pending = s->pending_irqs;
	void (*cb)(void *, enum smmu_irq) = s->irq_cb;
	void *ctx = s->irq_ctx;

	s->pending_irqs = 0;
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; pending && cb; i++, pending >>= 1)
		if (pending & 1)
			cb(ctx, (enum smmu_irq)i);
}

void smmu_set_irq_cb(struct smmu *s, void (*cb)(void *ctx, enum smmu_irq irq), void *ctx)
{
	smmu_lock(s);
	s->irq_cb = cb;
	s->irq_ctx = ctx;
	smmu_unlock(s);
}

void smmu_set_stale_cb(struct smmu *s, void (*cb)(void *ctx, const struct smmu_stale *st),
		       void *ctx)
{
	smmu_lock(s);
	s->stale_cb = cb;
	s->stale_ctx = ctx;
	smmu_unlock(s);
}

struct dev_ep *smmu_endpoint(struct smmu *s, uint32_t sid)
{
	return sid < 65536 ? atomic_load_explicit(&s->eps[sid], memory_order_acquire) : NULL;
}

int smmu_attach(struct smmu *s, struct dev_ep *ep)
{
	uint16_t sid = dev_ep_rid(ep);
	struct dev_ep *none = NULL;

	if (s->cfg.sidsize < 16 && sid >= BIT(s->cfg.sidsize))
		return -EINVAL;
	if (!atomic_compare_exchange_strong(&s->eps[sid], &none, ep))
		return -EEXIST;
	dev_ep_attach(ep, &s->port);
	return 0;
}

void smmu_detach(struct smmu *s, struct dev_ep *ep)
{
	struct dev_ep *cur = ep;

	if (atomic_compare_exchange_strong(&s->eps[dev_ep_rid(ep)], &cur, NULL))
		dev_ep_attach(ep, NULL);
}

static void cache_stats(struct hwc *c, struct smmu_cache_stats *st)
{
	st->hits = pcounter_read(&c->stats.hits);
	st->misses = pcounter_read(&c->stats.misses);
	st->fills = pcounter_read(&c->stats.fills);
	st->evictions = pcounter_read(&c->stats.evictions);
	st->invalidated = pcounter_read(&c->stats.invalidated);
}

void smmu_get_stats(struct smmu *s, struct smmu_stats *st)
{
	uint64_t front;

	memset(st, 0, sizeof(*st));
	cache_stats(s->cfgc, &st->cfg);
	cache_stats(s->tlb, &st->tlb);
	cache_stats(s->s1wc, &st->s1wc);
	cache_stats(s->s2wc, &st->s2wc);
	front = xfront_hits(&s->xl_front);
	st->cfg.hits += front;
	st->tlb.hits += front;
	st->translations = pcounter_read(&s->translations) + front;
	st->walks = pcounter_read(&s->walks);
	st->walk_refs = pcounter_read(&s->walk_refs);
	for (unsigned i = 0; i < 256; i++) {
		st->events[i] = atomic_load(&s->events[i]);
		st->commands[i] = atomic_load(&s->commands[i]);
	}
	st->events_written = atomic_load(&s->events_written);
	st->events_lost = atomic_load(&s->events_lost);
	st->page_requests = atomic_load(&s->page_requests);
	st->priq_overflow = atomic_load(&s->priq_overflow);
	st->stalls = atomic_load(&s->stall_count);
	st->stale_hits = atomic_load(&s->stale_hits);
}
