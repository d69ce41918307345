/* hw/smmuv3/queue.c — the SMMU as producer of the event queue and the PRI queue:
 * laying out event records and PRI queue entries, writing them at PROD through
 * mem/, advancing PROD with its wrap flag, overflow, write aborts, the queues'
 * interrupts, and the automatic PRG responses the SMMU sends for page requests
 * it cannot queue.
 *
 * Owns: EVENTQ_PROD and PRIQ_PROD (index, wrap and OVFLG; software sets them
 * only while the queue is disabled, through regs.c), GERROR.EVENTQ_ABT_ERR and
 * PRIQ_ABT_ERR (through smmu_gerror_locked), events_written/events_lost.
 *
 * Callers: xlate.c (smmu_event, from any translating thread; smmu_page_request
 * with the lock held), tests and the CLI (smmu_event_encode, smmu_event_name).
 * Locking: smmu_event takes s->lock; the *_locked functions expect it held.
 * dev_ep_page_response is called with the lock held: it takes only the
 * endpoint's PRI mutex, and no endpoint lock is ever held while calling into
 * the SMMU, so the order s->lock -> pri_lock is the only one.
 *
 * Rules (SMMUv3 specification §3.5, §7.2-7.4, §8; docs/facts/smmuv3-structures.md
 * §1.12, §5, §6):
 *  - The event queue is writable while EVENTQEN = 1, it is not full and no
 *    EVENTQ_ABT_ERR is active. A record that finds it full is discarded and, if
 *    no overflow is already signalled (PROD.OVFLG == CONS.OVACKFLG), OVFLG
 *    toggles; one that finds it disabled is discarded without overflow. Stall
 *    records are never discarded (-EAGAIN: the stall path keeps them). Further
 *    records are written during an unacknowledged overflow (7.4).
 *  - The PRI queue takes requests while the effective PRIQEN is 1 (SMMUEN and
 *    PRIQEN), no PRIQ_ABT_ERR is active and no overflow is active: unlike the
 *    event queue, an active overflow inhibits every write until software
 *    acknowledges it (8.1).
 *  - A queue is full when its indexes are equal and the wraps differ; a pair in
 *    an inconsistent state (more used entries than the queue holds) is treated
 *    as full, one of the behaviours 3.5.1 permits.
 *  - A write that is not to writable memory is an external abort: synchronous
 *    in this model (PROD does not move), activating the queue's *_ABT_ERR.
 *  - Interrupts: the event queue's when it goes from empty to non-empty; the
 *    PRI queue's likewise, or with PRIQ_IRQ_CFG2.LO for every Last request
 *    written or discarded by an overflow (3.18.2, 6.3.36).
 */
#include "hw/smmuv3/smmuv3_internal.h"

#include <errno.h>

#ifndef IDR3_PPS
#define IDR3_PPS        BIT(5)          /* spec 6.3.4: PASID on overflow responses */
#endif
#ifndef PRIQ_CFG2_LO
#define PRIQ_CFG2_LO    BIT(31)
#endif

/* ---- event records (spec 7.3) ------------------------------------------------------------ */

/* Which of the record's fields an event type has (the others are RES0). */
enum {
	F_SUB = 1u << 0,                /* SSV and SubstreamID */
	F_SSID_ONLY = 1u << 1,          /* SubstreamID without SSV (C_BAD_SUBSTREAMID) */
	F_ATTR = 1u << 2,               /* PnU, InD, RnW */
	F_RNW = 1u << 3,                /* RnW alone (F_TRANSL_FORBIDDEN) */
	F_STAGE = 1u << 4,              /* S2, CLASS */
	F_STALL = 1u << 5,              /* Stall, STAG */
	F_TTRNW = 1u << 6,              /* TTRnW (with CLASS = TT) */
	F_INPUT = 1u << 7,              /* InputAddr[63:0] */
	F_INPUT_PAGE = 1u << 8,         /* InputAddr[63:12] (E_PAGE_REQUEST) */
	F_IPA = 1u << 9,                /* IPA[51:12] (with S2 = 1) */
	F_FETCH = 1u << 10,             /* FetchAddr[51:3] */
	F_REASON16 = 1u << 11,          /* IMPLEMENTATION DEFINED Reason at [79:64] */
	F_REASON32 = 1u << 12,          /* IMPLEMENTATION DEFINED Reason at [95:64] */
	F_ATS_TREQ = 1u << 13,          /* R, W, X, Priv, Span of an ATS request */
};

/* F_BAD_ATS_TREQ's dw1 (docs/facts §5.2, from a garbled table: single source). */
#define EVT1_TREQ_R            BIT(31)
#define EVT1_TREQ_W            BIT(30)
#define EVT1_TREQ_X            BIT(29)
#define EVT1_TREQ_PRIV         BIT(28)
#define EVT1_TREQ_SPAN         GENMASK(3, 0)

#define F_XLATE (F_SUB | F_ATTR | F_STAGE | F_STALL | F_TTRNW | F_INPUT | F_IPA)

static unsigned event_fields(uint8_t id)
{
	switch (id) {
	case EVT_F_UUT:
		return F_SUB | F_ATTR | F_INPUT | F_REASON16;
	case EVT_C_BAD_STREAMID:
	case EVT_C_BAD_STE:
	case EVT_C_BAD_CD:
		return F_SUB;
	case EVT_F_STE_FETCH:
	case EVT_F_CD_FETCH:
	case EVT_F_VMS_FETCH:
		return F_SUB | F_FETCH | F_REASON16;
	case EVT_F_BAD_ATS_TREQ:
		return F_SUB | F_ATS_TREQ | F_INPUT_PAGE;
	case EVT_F_STREAM_DISABLED:
		return 0;                       /* StreamID only */
	case EVT_F_TRANSL_FORBIDDEN:
		return F_RNW | F_INPUT;         /* Translated requests carry no PASID */
	case EVT_C_BAD_SUBSTREAMID:
		return F_SSID_ONLY;
	case EVT_F_WALK_EABT:
		/* Reason: its position is not in the facts; at 79:64 as in the other
		 * external-abort records (F_WALK_EABT never stalls, so no STAG). */
		return F_SUB | F_ATTR | F_STAGE | F_INPUT | F_FETCH | F_REASON16;
	case EVT_F_TRANSLATION:
	case EVT_F_ADDR_SIZE:
	case EVT_F_ACCESS:
		return F_XLATE & ~F_TTRNW;      /* TTRnW is F_PERMISSION's (CLASS TT) */
	case EVT_F_PERMISSION:
		return F_XLATE;
	case EVT_F_TLB_CONFLICT:
		return F_SUB | F_ATTR | F_STAGE | F_INPUT | F_IPA | F_REASON32;
	case EVT_F_CFG_CONFLICT:
		return F_SUB | F_REASON32;
	case EVT_E_PAGE_REQUEST:
		return F_SUB | F_INPUT_PAGE;
	}
	/* IMPDEF_EVENTn and unknown IDs: the common identification fields. */
	return F_SUB;
}

void smmu_event_encode(const struct smmu_event *e, uint64_t rec[4])
{
	unsigned f = event_fields(e->id);

	rec[0] = FIELD_PREP(EVT0_ID, e->id) | FIELD_PREP(EVT0_SID, e->sid);
	rec[1] = rec[2] = rec[3] = 0;
	/* SubstreamID is UNKNOWN without SSV: written as 0. */
	if ((f & F_SUB) && e->ssv)
		rec[0] |= EVT0_SSV | FIELD_PREP(EVT0_SSID, e->ssid);
	if (f & F_SSID_ONLY)
		rec[0] |= FIELD_PREP(EVT0_SSID, e->ssid);
	if (f & F_ATTR)
		rec[1] |= (e->pnu ? EVT1_PNU : 0) | (e->ind ? EVT1_IND : 0) |
			  (e->rnw ? EVT1_RNW : 0);
	if (f & F_RNW)
		rec[1] |= e->rnw ? EVT1_RNW : 0;
	/* An ATS Translation Request always asks for read (R = 1), W = !NW, X and
	 * Priv as requested; the model's endpoints ask for one STU (Span 1). */
	if (f & F_ATS_TREQ)
		rec[1] |= EVT1_TREQ_R | (e->rnw ? 0 : EVT1_TREQ_W) | (e->ind ? EVT1_TREQ_X : 0) |
			  (e->pnu ? EVT1_TREQ_PRIV : 0) | FIELD_PREP(EVT1_TREQ_SPAN, 1);
	if (f & F_STAGE)
		rec[1] |= (e->s2 ? EVT1_S2 : 0) | FIELD_PREP(EVT1_CLASS, e->class_);
	if ((f & F_STALL) && e->stall)
		rec[1] |= EVT1_STALL | FIELD_PREP(EVT1_STAG, e->stag);
	/* TTRnW is defined only for CLASS = TT (UNKNOWN otherwise: 0). */
	if ((f & F_TTRNW) && e->class_ == EVT_CLASS_TT && e->ttrnw)
		rec[1] |= EVT1_TTRNW;
	if (f & F_REASON16)
		rec[1] |= FIELD_PREP(EVT1_REASON, e->reason);
	if (f & F_REASON32)
		rec[1] |= FIELD_PREP(EVT1_REASON_CONFLICT, e->reason);
	if (f & F_INPUT)
		rec[2] = e->input_addr;
	if (f & F_INPUT_PAGE)
		rec[2] = e->input_addr & ~UINT64_C(0xfff);
	/* IPA is valid only for a stage-2 fault (UNKNOWN otherwise: 0). */
	if ((f & F_IPA) && e->s2)
		rec[3] = e->ipa & EVT3_IPA;
	if (f & F_FETCH)
		rec[3] = e->fetch_addr & EVT3_FETCH_ADDR;
}

const char *smmu_event_name(uint8_t id)
{
	switch (id) {
	case EVT_F_UUT:
		return "F_UUT";
	case EVT_C_BAD_STREAMID:
		return "C_BAD_STREAMID";
	case EVT_F_STE_FETCH:
		return "F_STE_FETCH";
	case EVT_C_BAD_STE:
		return "C_BAD_STE";
	case EVT_F_BAD_ATS_TREQ:
		return "F_BAD_ATS_TREQ";
	case EVT_F_STREAM_DISABLED:
		return "F_STREAM_DISABLED";
	case EVT_F_TRANSL_FORBIDDEN:
		return "F_TRANSL_FORBIDDEN";
	case EVT_C_BAD_SUBSTREAMID:
		return "C_BAD_SUBSTREAMID";
	case EVT_F_CD_FETCH:
		return "F_CD_FETCH";
	case EVT_C_BAD_CD:
		return "C_BAD_CD";
	case EVT_F_WALK_EABT:
		return "F_WALK_EABT";
	case EVT_F_TRANSLATION:
		return "F_TRANSLATION";
	case EVT_F_ADDR_SIZE:
		return "F_ADDR_SIZE";
	case EVT_F_ACCESS:
		return "F_ACCESS";
	case EVT_F_PERMISSION:
		return "F_PERMISSION";
	case EVT_F_TLB_CONFLICT:
		return "F_TLB_CONFLICT";
	case EVT_F_CFG_CONFLICT:
		return "F_CFG_CONFLICT";
	case EVT_E_PAGE_REQUEST:
		return "E_PAGE_REQUEST";
	case EVT_F_VMS_FETCH:
		return "F_VMS_FETCH";
	}
	if (id >= 0xe0 && id <= 0xef)
		return "IMPDEF_EVENT";          /* spec 7.3.21: 0xE0-0xEF */
	return "UNKNOWN";
}

/* ---- the event queue --------------------------------------------------------------------- */

static bool overflow_active(const struct smmu_queue *q)
{
	return (q->prod ^ q->cons) & Q_OVF;
}

/* Writes n little-endian words at pa through mem/: 0 or the mem/ error. The slot
 * lies beyond PROD, so software ignores a partly written one (3.5.2). */
static int put_words(struct smmu *s, uint64_t pa, const uint64_t *w, unsigned n)
{
	struct mem_view v;
	int err = 0;

	mem_view_begin(&v, s->mem);
	for (unsigned i = 0; i < n && !err; i++)
		err = mem_view_store64(&v, pa + 8 * i, w[i]);
	mem_view_end(&v);
	return err;
}

bool smmu_eventq_writable_locked(struct smmu *s)
{
	struct smmu_qgeom g;

	if (!(s->cr0ack & CR0_EVENTQEN) || smmu_gerror_active_locked(s, GERROR_EVENTQ_ABT_ERR))
		return false;
	smmu_qgeom(s, s->eventq.base, s->cfg.eventqs, &g);
	return smmu_qused(&g, s->eventq.prod, s->eventq.cons) < g.wrap;
}

int smmu_event_locked(struct smmu *s, const struct smmu_event *e)
{
	struct smmu_queue *q = &s->eventq;
	struct smmu_qgeom g;
	uint64_t rec[4];
	uint32_t used;

	if (!(s->cr0ack & CR0_EVENTQEN) || smmu_gerror_active_locked(s, GERROR_EVENTQ_ABT_ERR))
		goto unwritable;
	smmu_qgeom(s, q->base, s->cfg.eventqs, &g);
	used = smmu_qused(&g, q->prod, q->cons);
	if (used >= g.wrap) {
		if (e->stall)
			return -EAGAIN;         /* stall records do not overflow */
		/* Overflow: signalled once until software acknowledges it. */
		if (!overflow_active(q))
			q->prod ^= (uint32_t)Q_OVF;
		atomic_fetch_add_explicit(&s->events_lost, 1, memory_order_relaxed);
		return -ENOSPC;
	}
	smmu_event_encode(e, rec);
	if (put_words(s, smmu_qentry(&g, EVT_SIZE, q->prod), rec, 4)) {
		/* External abort: PROD stays, the record is lost. */
		smmu_gerror_locked(s, GERROR_EVENTQ_ABT_ERR);
		if (e->stall)
			return -EAGAIN;
		atomic_fetch_add_explicit(&s->events_lost, 1, memory_order_relaxed);
		return -ENOSPC;
	}
	q->prod = (q->prod & (uint32_t)Q_OVF) | smmu_qnext(&g, q->prod);
	atomic_fetch_add_explicit(&s->events_written, 1, memory_order_relaxed);
	if (!used)
		smmu_raise_locked(s, SMMU_IRQ_EVENTQ);
	return 0;

unwritable:
	/* Disabled or aborted: discarded without an overflow. */
	if (e->stall)
		return -EAGAIN;
	atomic_fetch_add_explicit(&s->events_lost, 1, memory_order_relaxed);
	return -ENOSPC;
}

int smmu_event(struct smmu *s, const struct smmu_event *e)
{
	int ret;

	smmu_lock(s);
	ret = smmu_event_locked(s, e);
	smmu_unlock(s);
	return ret;
}

/* ---- the PRI queue (spec chapter 8) ------------------------------------------------------ */

static void pri_encode(const struct dev_page_req *pr, uint32_t sid, bool ssv, uint64_t ent[2])
{
	/* Without a PASID, X and Priv are 0 and the SubstreamID UNKNOWN (0). */
	ent[0] = FIELD_PREP(PRI0_SID, sid) | (pr->read ? PRI0_READ : 0) |
		 (pr->write ? PRI0_WRITE : 0) | (pr->last ? PRI0_LAST : 0);
	if (ssv)
		ent[0] |= PRI0_SSV | FIELD_PREP(PRI0_SSID, pr->pasid) |
			  (pr->priv ? PRI0_PRIV : 0) | (pr->exec ? PRI0_EXEC : 0);
	ent[1] = FIELD_PREP(PRI1_PRGI, pr->prgi) | (pr->addr & PRI1_ADDR);
}

static void auto_response(struct smmu *s, uint32_t sid, const struct dev_page_req *pr,
			  bool with_pasid, enum dev_prg_resp code)
{
	struct dev_ep *ep = smmu_endpoint(s, sid);

	/* -ENOENT (no such group outstanding) drops the response, as the
	 * endpoint would. */
	if (ep)
		dev_ep_page_response(ep, with_pasid, with_pasid ? pr->pasid : 0, pr->prgi, code);
}

/*
 * Reads STE.PPAR of sid for an overflow response (8.1): false when the STE cannot
 * be checked (SMMUEN = 0, StreamID out of range, a fetch that aborts, V = 0 or a
 * reserved Config). Choice: the other ILLEGAL STE encodings (C_BAD_STE in the
 * translation path) are not re-checked here.
 */
static bool ste_ppar(struct smmu *s, uint32_t sid, bool *ppar)
{
	uint64_t base = atomic_load(&s->st_base) & STRTAB_BASE_ADDR;
	uint32_t cfg = atomic_load(&s->st_cfg);
	unsigned log2 = (unsigned)FIELD_GET(STRTAB_CFG_LOG2SIZE, cfg);
	unsigned split = (unsigned)FIELD_GET(STRTAB_CFG_SPLIT, cfg), span;
	uint64_t ste = base + (uint64_t)sid * STE_SIZE, desc, w[2];
	struct mem_view v;
	bool ok = false;

	if (!atomic_load(&s->enabled))
		return false;
	if (log2 > s->cfg.sidsize)
		log2 = s->cfg.sidsize;
	if (log2 < 32 && sid >= BIT(log2))
		return false;
	mem_view_begin(&v, s->mem);
	if (FIELD_GET(STRTAB_CFG_FMT, cfg) == STRTAB_FMT_2LVL && s->cfg.st_level) {
		split = split >= 10 ? 10 : split >= 8 ? 8 : 6;  /* reserved: as 6 */
		if (mem_view_load64(&v, base + (uint64_t)(sid >> split) * STE_L1_SIZE, &desc))
			goto out;
		span = (unsigned)FIELD_GET(STE_L1_SPAN, desc);
		if (!span || span > split + 1 || (sid & (BIT(split) - 1)) >= BIT(span - 1))
			goto out;
		ste = (desc & STE_L1_L2PTR) + (uint64_t)(sid & (BIT(split) - 1)) * STE_SIZE;
	}
	if (mem_view_load64(&v, ste, &w[0]) || mem_view_load64(&v, ste + 8, &w[1]))
		goto out;
	if (!(w[0] & STE0_V))
		goto out;
	if (FIELD_GET(STE0_CONFIG, w[0]) != STE_CFG_ABORT &&
	    FIELD_GET(STE0_CONFIG, w[0]) < STE_CFG_BYPASS)
		goto out;
	*ppar = w[1] & STE1_PPAR;
	ok = true;
out:
	mem_view_end(&v);
	return ok;
}

/* A page request discarded because of an overflow: Last requests get Success
 * (the endpoint retries), with the request's PASID when IDR3.PPS says so or
 * STE.PPAR asks for it; Failure without PASID when the STE cannot be read. */
static void overflow_response(struct smmu *s, const struct dev_page_req *pr, uint32_t sid,
			      bool ssv)
{
	bool ppar = false;

	if (!pr->last)
		return;                         /* silently ignored */
	if (!ssv)
		auto_response(s, sid, pr, false, DEV_PRG_SUCCESS);
	else if (s->idr[3] & IDR3_PPS)
		auto_response(s, sid, pr, true, DEV_PRG_SUCCESS);
	else if (ste_ppar(s, sid, &ppar))
		auto_response(s, sid, pr, ppar, DEV_PRG_SUCCESS);
	else
		auto_response(s, sid, pr, false, DEV_PRG_FAILURE);
	if (s->priq_irq_cfg2 & PRIQ_CFG2_LO)
		smmu_raise_locked(s, SMMU_IRQ_PRIQ);
}

int smmu_priq_write_locked(struct smmu *s, const struct dev_page_req *pr, uint32_t sid)
{
	struct smmu_queue *q = &s->priq;
	/* Substreams supported and a PASID prefix present. */
	bool ssv = pr->pasid_valid && s->cfg.ssidsize;
	/* "LWR == 0b100 with a PASID": a Stop PASID marker. */
	bool stop = ssv && pr->last && !pr->read && !pr->write;
	struct smmu_qgeom g;
	uint64_t ent[2];
	uint32_t used;

	if (!s->cfg.pri || !atomic_load_explicit(&s->enabled, memory_order_relaxed) ||
	    !(s->cr0ack & CR0_PRIQEN) || smmu_gerror_active_locked(s, GERROR_PRIQ_ABT_ERR)) {
		/* Effective PRIQEN = 0 or an abort active: Response Failure, no
		 * PASID, for every request (8.2); none for a stop marker. */
		if (!stop)
			auto_response(s, sid, pr, false, DEV_PRG_FAILURE);
		return -ENOSPC;
	}
	smmu_qgeom(s, q->base, s->cfg.priqs, &g);
	used = smmu_qused(&g, q->prod, q->cons);
	if (!overflow_active(q) && used >= g.wrap)
		q->prod ^= (uint32_t)Q_OVF;    /* the overflow condition begins */
	if (overflow_active(q)) {
		if (!stop)
			overflow_response(s, pr, sid, ssv);
		return -ENOSPC;
	}
	pri_encode(pr, sid, ssv, ent);
	if (put_words(s, smmu_qentry(&g, PRI_SIZE, q->prod), ent, 2)) {
		/* A synchronous abort: PROD stays; Response Failure for the request
		 * whose write aborted (8.2). */
		smmu_gerror_locked(s, GERROR_PRIQ_ABT_ERR);
		if (!stop)
			auto_response(s, sid, pr, false, DEV_PRG_FAILURE);
		return -ENOSPC;
	}
	q->prod = (q->prod & (uint32_t)Q_OVF) | smmu_qnext(&g, q->prod);
	if ((s->priq_irq_cfg2 & PRIQ_CFG2_LO) ? pr->last : !used)
		smmu_raise_locked(s, SMMU_IRQ_PRIQ);
	return 0;
}
