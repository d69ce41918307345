/* hw/smmuv3/xlate.c — how the SMMU translates a transaction: the stream table
 * (linear or two-level) gives the STE of the StreamID, the STE's configuration
 * (abort, bypass, stage 1, stage 2, nested) selects the context descriptor of
 * the SubstreamID (linear or two-level CD tables, read through stage 2 when
 * nested), the CD selects TTB0 or TTB1, and the pgtable/ LPAE walkers translate.
 * Faults become event records (queue.c), ATS translation requests get their
 * completions, and the caches are filled and invalidated here.
 *
 * Owns: the configuration cache (STEs tagged by SID, CDs by SID + SSID), the TLB
 * (tagged by VMID, ASID, kind, page size and address), and the walk caches of
 * stage 1 and stage 2; the invalidation primitives the commands use.
 *
 * Locking: translations take no lock: they read the (A) fields of struct smmu and
 * the caches (hw/hwcache). Events take the lock in queue.c.
 *
 * Facts: docs/facts/smmuv3-structures.md (registers, STE, CD, events) and
 * docs/facts/arm-lpae.md (tables). Where the sources leave a choice, a comment
 * at the spot says which was taken.
 *
 * TLB tags. Hardware matches a global (nG = 0) stage-1 entry for any ASID; this
 * model tags every entry with the ASID it was filled under, so a global entry
 * serves only that ASID (other ASIDs walk and fill their own). Invalidations
 * treat global entries as the spec says (TLBI_NH_VA drops them whatever their
 * ASID), so nothing stale can survive that hardware would drop; only sharing
 * (hit counts) differs. Combined (nested) entries hold the stage-1 tags and the
 * VMID, and are not dropped by TLBI_S2_IPA: software must follow a stage-2
 * change of a nest parent with TLBI_S12_VMALL (or NH_ALL), as Linux does.
 */
#include "hw/smmuv3/smmuv3_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hw/xlview.h"

#define HOT              __attribute__((always_inline)) inline

/* Config cache tag[0] kinds. */
#define CFG_STE          1
#define CFG_CD           2

/* TLB entry kinds (tag[0] bits 35:32). */
enum tlb_kind { TK_S1 = 1, TK_S2 = 2, TK_NESTED = 3 };
#define TLB_VMID         GENMASK(15, 0)
#define TLB_ASID         GENMASK(31, 16)
#define TLB_KIND         GENMASK(35, 32)
#define TLB_SHIFT        GENMASK(41, 36)
/* val[1] flags */
#define TLBV_PERM        GENMASK(2, 0)      /* PGT_PERM_* as writable now */
#define TLBV_PRIV        BIT(3)             /* the perms were for a privileged request */
#define TLBV_GLOBAL      BIT(4)
#define TLBV_LEVEL       GENMASK(11, 8)     /* stage-1 (or only stage) leaf level */
#define TLBV_GSHIFT      GENMASK(19, 12)    /* that stage's granule */
#define TLBV_S2LEVEL     GENMASK(23, 20)
#define TLBV_S2GSHIFT    GENMASK(31, 24)

/* A request as the SMMU sees it. */
struct sreq {
	uint32_t sid;
	bool ssv;
	uint32_t ssid;
	bool write, exec, priv;
	uint8_t at;
	uint64_t addr;
};


/* How one resolution runs. */
struct xmode {
	bool cached;             /* look the caches up and fill them */
	bool count;
	const struct xtrace *tr;
	struct xview *view;
	uint64_t gen_cfg, gen_tlb, gen_s1wc, gen_s2wc;
};

/* The configuration a request resolved to. */
struct xcfg {
	uint64_t ste[4];
	uint64_t cd[4];
	unsigned config;         /* STE_CFG_* */
	bool s1, s2;             /* the stages that translate this request */
	bool have_cd;
	uint16_t vmid, asid;
	struct pgt_fmt s1f, s2f;
	uint64_t s1root, s2root;
	bool ste_hit, cd_hit;
	bool ste_read;           /* the STE was read (from the cache or memory) */
	uint64_t wa;             /* the walk's input: the VA within its range's input size */
	uint64_t ta;             /* the TLB's tag address: the VA, top byte canonical with TBI */
};

/* What one resolution found. */
struct xres {
	struct xcfg c;
	bool fault;              /* an event (or a silent abort) */
	bool silent;             /* terminated without an event (STE abort, GBPA) */
	bool ats_no_access;      /* ATS: translation fault answered with R = W = 0 */
	bool ur;                 /* ATS: unsupported request */
	bool bypass_fault;       /* F_ADDR_SIZE of a bypassed stage 1: never stalls */
	struct smmu_event ev;
	bool record;             /* write ev to the event queue */
	/* translation */
	uint64_t page, size;
	unsigned perm;
	bool priv;
	bool tlb_hit, walked;
	bool s1wc_hit, s2wc_hit; /* the walk started from walk-cache entries */
	bool global;             /* the stage-1 leaf is global (nG = 0) */
	uint64_t ipa;            /* nested: the stage-1 output page */
};

static struct mem_view *view(struct smmu *s, struct xmode *m)
{
	return xview_get(m->view, s->mem);
}

static bool xl_load(struct smmu *s, struct xmode *m, uint64_t pa, uint64_t *val, const char *what)
{
	return xview_load(m->view, s->mem, m->tr, pa, val, what);
}

static uint64_t cache_hash(const uint64_t tag[HWC_TAG_WORDS])
{
	return hwc_hash(tag[0] ^ (tag[2] << 7), tag[1]);
}

/* ---- events ------------------------------------------------------------------------------------ */

static void ev_init(struct xres *r, const struct sreq *rq, uint8_t id)
{
	r->fault = true;
	r->record = true;
	memset(&r->ev, 0, sizeof(r->ev));
	r->ev.id = id;
	r->ev.sid = rq->sid;
	r->ev.ssv = rq->ssv;
	r->ev.ssid = rq->ssv ? rq->ssid : 0;
	r->ev.pnu = rq->priv;
	r->ev.ind = rq->exec;
	r->ev.rnw = !rq->write;
	r->ev.input_addr = rq->addr;
}

static void ev_fetch(struct xres *r, const struct sreq *rq, uint8_t id, uint64_t pa)
{
	ev_init(r, rq, id);
	r->ev.fetch_addr = pa;
}

/* ---- the stream table ------------------------------------------------------------------------- */

/* A StreamID the stream table does not cover: C_BAD_STREAMID when CR2.RECINVSID
 * asks for it, else the transaction aborts without a record (facts §1.11). */
static void bad_streamid(struct smmu *s, const struct sreq *rq, struct xres *r)
{
	ev_init(r, rq, EVT_C_BAD_STREAMID);
	if (!(atomic_load_explicit(&s->xl_ctrl, memory_order_relaxed) & SMMU_XL_RECINVSID)) {
		r->silent = true;
		r->record = false;
	}
}

/* Base address bits below this are taken as 0 (facts §1.11: the table's
 * alignment, from the LOG2SIZE as written). */
static uint64_t strtab_align_mask(unsigned log2size, bool two_level, unsigned split)
{
	unsigned bits = two_level ? (log2size > split + 3 ? log2size - split + 3 : 6)
				  : log2size + 6;

	return bits >= 64 ? ~UINT64_C(0) : BIT(bits) - 1;
}

/*
 * The STE address of sid, or an event: C_BAD_STREAMID when sid is beyond the
 * table (STRTAB_BASE_CFG.LOG2SIZE, the L1 descriptor's Span), F_STE_FETCH when a
 * descriptor cannot be read.
 */
static bool ste_addr(struct smmu *s, struct xmode *m, const struct sreq *rq, struct xres *r,
		     uint64_t *pa)
{
	uint64_t base = atomic_load_explicit(&s->st_base, memory_order_acquire) & STRTAB_BASE_ADDR;
	uint32_t cfg = atomic_load_explicit(&s->st_cfg, memory_order_acquire);
	unsigned written = (unsigned)FIELD_GET(STRTAB_CFG_LOG2SIZE, cfg), log2size = written;
	unsigned split = (unsigned)FIELD_GET(STRTAB_CFG_SPLIT, cfg);
	bool two_level = FIELD_GET(STRTAB_CFG_FMT, cfg) == STRTAB_FMT_2LVL && s->cfg.st_level;
	uint64_t l1, desc;
	unsigned span;

	/* SPLIT: 6, 8 or 10; any other value behaves as 6 (facts §1.11). */
	if (split != 8 && split != 10)
		split = 6;
	base &= ~strtab_align_mask(written, two_level, split);
	/* LOG2SIZE above SIDSIZE acts as SIDSIZE (the StreamIDs that exist). */
	if (log2size > s->cfg.sidsize)
		log2size = s->cfg.sidsize;
	if (log2size < 32 && rq->sid >= BIT(log2size)) {
		bad_streamid(s, rq, r);
		return false;
	}
	if (!two_level) {
		*pa = base + (uint64_t)rq->sid * STE_SIZE;
		return true;
	}
	/* LOG2SIZE below SPLIT: one L1 descriptor, and the level-2 table is still
	 * indexed by SID[SPLIT-1:0] (facts §1.11). */
	l1 = base + (uint64_t)(rq->sid >> split) * STE_L1_SIZE;
	if (!xl_load(s, m, l1, &desc, "l1-std")) {
		ev_fetch(r, rq, EVT_F_STE_FETCH, l1);
		return false;
	}
	span = (unsigned)FIELD_GET(STE_L1_SPAN, desc);
	/* Span 0: invalid descriptor; Span > SPLIT + 1: reserved (treated as invalid). */
	if (!span || span > split + 1 ||
	    (rq->sid & (BIT(split) - 1)) >= BIT(span - 1)) {
		bad_streamid(s, rq, r);
		return false;
	}
	/* L2Ptr is aligned to its table's size: bits [Span + 4:0] are taken as 0. */
	*pa = (desc & STE_L1_L2PTR & ~(BIT(span + 5) - 1)) +
	      (uint64_t)(rq->sid & (BIT(split) - 1)) * STE_SIZE;
	return true;
}

static bool ste_get(struct smmu *s, struct xmode *m, const struct sreq *rq, struct xres *r)
{
	uint64_t tag[HWC_TAG_WORDS] = { CFG_STE, rq->sid, 0 };
	uint64_t val[HWC_VAL_WORDS];
	uint64_t pa;

	if (m->cached && hwc_lookup(s->cfgc, cache_hash(tag), tag, val)) {
		memcpy(r->c.ste, val, sizeof(r->c.ste));
		r->c.ste_hit = true;
		r->c.ste_read = true;
		return true;
	}
	if (!ste_addr(s, m, rq, r, &pa))
		return false;
	for (unsigned i = 0; i < 4; i++) {
		static const char *const names[4] = { "ste[0]", "ste[1]", "ste[2]", "ste[3]" };

		if (!xl_load(s, m, pa + 8 * i, &r->c.ste[i], names[i])) {
			ev_fetch(r, rq, EVT_F_STE_FETCH, pa + 8 * i);
			return false;
		}
	}
	r->c.ste_read = true;
	if (m->cached)
		hwc_fill(s->cfgc, cache_hash(tag), tag, r->c.ste, m->gen_cfg);
	return true;
}

static unsigned tg_shift_s2(unsigned tg)
{
	return tg == S2TG_4K ? 12 : tg == S2TG_64K ? 16 : tg == S2TG_16K ? 14 : 0;
}

static bool gran_ok(const struct smmu *s, unsigned shift)
{
	return (shift == 12 && s->cfg.gran4k) || (shift == 14 && s->cfg.gran16k) ||
	       (shift == 16 && s->cfg.gran64k);
}

/* IDR5.OAS / CD.IPS / STE.S2PS encodings to bits (0b110: 52). */
static unsigned ps_bits(unsigned enc)
{
	static const unsigned bits[8] = { 32, 36, 40, 42, 44, 48, 52, 52 };

	return bits[enc & 7];
}

/*
 * Decodes the STE into r->c: config, the stages, the stage-2 format. C_BAD_STE for
 * what the spec calls ILLEGAL (facts §2): reserved Config values, a stage the SMMU
 * does not implement, AArch32 stage 2, a granule not implemented, a stage-2 T0SZ
 * and SL0 that give no valid start level, S2HA/S2HD without HTTU, big-endian
 * tables, an EL2 StreamWorld without HYP, EATS without ATS.
 */
static bool ste_decode(struct smmu *s, const struct sreq *rq, struct xres *r)
{
	const uint64_t *ste = r->c.ste;
	unsigned config = (unsigned)FIELD_GET(STE0_CONFIG, ste[0]);

	if (!(ste[0] & STE0_V))
		goto bad;
	/* Config 0b0xx aborts silently and is never ILLEGAL (facts §2.4). */
	r->c.config = config < STE_CFG_BYPASS ? STE_CFG_ABORT : config;
	if (r->c.config == STE_CFG_ABORT || r->c.config == STE_CFG_BYPASS)
		return true;
	r->c.s1 = config & 1;
	r->c.s2 = config & 2;
	if ((r->c.s1 && !s->cfg.s1p) || (r->c.s2 && !s->cfg.s2p))
		goto bad;
	/* EATS is checked only with IDR0.ATS; 0b11 (no DPT) behaves as 0b00; split-
	 * stage 0b10 is ILLEGAL with IDR0.NS1ATS = 1 (the model has no split-stage
	 * ATS); full ATS with stage-2 stalls is ILLEGAL (v3.1+). */
	if (s->cfg.ats && FIELD_GET(STE1_EATS, ste[1]) == EATS_S1CHK)
		goto bad;
	if (s->cfg.ats && FIELD_GET(STE1_EATS, ste[1]) == EATS_TRANS && r->c.s2 &&
	    (ste[2] & STE2_S2S))
		goto bad;
	if (FIELD_GET(STE1_STRW, ste[1]) & 1)
		goto bad;                       /* STRW 0bx1 is ILLEGAL */
	if (r->c.s1) {
		unsigned fmt = (unsigned)FIELD_GET(STE0_S1FMT, ste[0]);
		unsigned cdmax = (unsigned)FIELD_GET(STE0_S1CDMAX, ste[0]);

		if ((ste[1] & STE1_S1STALLD) && s->cfg.stall_model != 0)
			goto bad;
		if (s->cfg.ssidsize && cdmax > s->cfg.ssidsize)
			goto bad;
		/* S1Fmt 0b11 behaves as linear; two-level needs CD2L. */
		if (s->cfg.ssidsize && cdmax && !s->cfg.cd2l &&
		    (fmt == S1FMT_4K_L2 || fmt == S1FMT_64K_L2))
			goto bad;
		if (!r->c.s2 && (ste[0] & STE0_S1CTXPTR & ~GENMASK(s->cfg.oas - 1, 0)))
			goto bad;               /* S1ContextPtr beyond the OAS (v3.1+) */
	}
	if (r->c.s2) {
		unsigned shift = tg_shift_s2((unsigned)FIELD_GET(STE2_S2TG, ste[2]));
		unsigned ps = ps_bits((unsigned)FIELD_GET(STE2_S2PS, ste[2]));
		bool ha = ste[2] & STE2_S2HA, hd = ste[2] & STE2_S2HD;
		struct pgt_cfg pc;

		if (!(ste[2] & STE2_S2AA64) || (ste[2] & STE2_S2ENDI) || !gran_ok(s, shift))
			goto bad;
		if (((ha || hd) && s->cfg.httu == 0) || (hd && s->cfg.httu == 1))
			goto bad;
		if (((ste[2] & STE2_S2S) && s->cfg.stall_model == 1) ||
		    (!(ste[2] & STE2_S2S) && s->cfg.stall_model == 2))
			goto bad;
		/* S2T0SZ in [MAX(16, 64 - IAS), 39] (IAS = OAS: no AArch32 stage 1). */
		{
			unsigned tsz = (unsigned)FIELD_GET(STE2_S2T0SZ, ste[2]);
			unsigned lo = 64 - s->cfg.oas > 16 ? 64 - s->cfg.oas : 16;

			if (tsz < lo || tsz > 39)
				goto bad;
		}
		hd = hd && ha;                  /* dirty state is managed only with HA */
		if (!s->cfg.vmid16 && (ste[2] & GENMASK(15, 8)))
			goto bad;
		if (ps > s->cfg.oas)
			ps = s->cfg.oas;        /* S2PS above OAS acts as OAS */
		pc = (struct pgt_cfg){
			.family = PGT_LPAE_S2, .granule = 1u << shift,
			.tsz = (unsigned)FIELD_GET(STE2_S2T0SZ, ste[2]),
			.sl0 = (unsigned)FIELD_GET(STE2_S2SL0, ste[2]), .oas = ps,
			.flags = (ha ? PGT_CFG_HA : 0) | (hd ? PGT_CFG_HD : 0) |
				 (ste[2] & STE2_S2AFFD ? PGT_CFG_AFFD : 0) |
				 (s->cfg.oas < 52 ? PGT_CFG_NOLPA : 0),
		};
		if (pgt_fmt_init(&r->c.s2f, &pc))
			goto bad;
		/* S2TTB bits below the (concatenated) root's alignment are taken as 0
		 * (facts §2.2); beyond the output size (or 48 bits with 4K and 16K
		 * granules) it is ILLEGAL. */
		r->c.s2root = ste[3] & STE3_S2TTB & ~(pgt_root_align(&r->c.s2f) - 1);
		if ((r->c.s2root & ~GENMASK(ps - 1, 0)) ||
		    (shift != 16 && (r->c.s2root & ~GENMASK(47, 0))))
			goto bad;
		r->c.vmid = (uint16_t)FIELD_GET(STE2_S2VMID, ste[2]);
	} else {
		/* Stage 1 only: TLB entries are tagged with S2VMID as well (with S2P;
		 * Linux writes 0 there for stage-1 domains and invalidates with VMID 0). */
		r->c.vmid = s->cfg.s2p ? (uint16_t)FIELD_GET(STE2_S2VMID, ste[2]) : 0;
	}
	return true;
bad:
	ev_init(r, rq, EVT_C_BAD_STE);
	return false;
}

/* ---- context descriptors ---------------------------------------------------------------------- */

/* Reads n consecutive words of one CD-table structure (an L1CD, a CD: never
 * across a page) at table address a: an IPA when nested, which stage 2
 * translates once for the structure (a stage-2 fault is reported with CLASS =
 * CD); F_CD_FETCH at the word's PA when memory cannot be read. */
static bool cd_read(struct smmu *s, struct xmode *m, const struct sreq *rq, struct xres *r,
		    uint64_t a, unsigned n, uint64_t *vals, const char *const *what)
{
	uint64_t pa = a;

	if (r->c.s2) {
		struct pgt_result res;
		struct pgt_trace pt = { xtrace_pg_step, (void *)m->tr };

		pgt_walk_view(&r->c.s2f, view(s, m), r->c.s2root, a, 0, &res,
			      m->tr ? &pt : NULL);
		if (m->count) {
			pcounter_add(&s->walks, 1);
			pcounter_add(&s->walk_refs, res.refs);
		}
		if (!res.ok) {
			ev_init(r, rq, (uint8_t)res.fault.code);
			r->ev.s2 = true;
			r->ev.class_ = EVT_CLASS_CD;
			r->ev.ipa = a;
			r->ev.ttrnw = true;
			r->record = (r->c.ste[2] & STE2_S2R) != 0;
			if (res.fault.reason == PGT_FAULT_TABLE_ACCESS) {
				/* External abort: always aborts, always recorded. */
				r->ev.id = EVT_F_WALK_EABT;
				r->ev.fetch_addr = res.fault.entry_pa;
				r->record = true;
			}
			return false;
		}
		pa = res.oa;
	}
	for (unsigned i = 0; i < n; i++)
		if (!xl_load(s, m, pa + 8 * i, &vals[i], what[i])) {
			ev_fetch(r, rq, EVT_F_CD_FETCH, pa + 8 * i);
			return false;
		}
	return true;
}

/*
 * The CD of the request's substream (or of substream 0, or none, for a request
 * without one, as S1DSS says): C_BAD_SUBSTREAMID for an SSID the STE does not
 * allow or an invalid L1 CD descriptor, F_CD_FETCH when memory cannot be read.
 * Returns false with *bypass_s1 set when S1DSS says stage 1 is bypassed.
 */
static bool cd_get(struct smmu *s, struct xmode *m, const struct sreq *rq, struct xres *r,
		   bool *bypass_s1)
{
	const uint64_t *ste = r->c.ste;
	unsigned cdmax = (unsigned)FIELD_GET(STE0_S1CDMAX, ste[0]);
	unsigned fmt = (unsigned)FIELD_GET(STE0_S1FMT, ste[0]);
	uint64_t ptr = ste[0] & STE0_S1CTXPTR, a, desc;
	uint32_t ssid = 0;
	uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS];

	*bypass_s1 = false;
	if (rq->ssv) {
		if (!cdmax || rq->ssid >= BIT(cdmax)) {
			ev_init(r, rq, EVT_C_BAD_SUBSTREAMID);
			return false;
		}
		ssid = rq->ssid;
		/* S1DSS = 0b10 reserves substream 0 for requests without one: an
		 * explicit SSID 0 is F_STREAM_DISABLED (facts §3.1). */
		if (ssid == 0 && FIELD_GET(STE1_S1DSS, ste[1]) == S1DSS_SSID0) {
			ev_init(r, rq, EVT_F_STREAM_DISABLED);
			return false;
		}
	} else if (cdmax) {
		switch (FIELD_GET(STE1_S1DSS, ste[1])) {
		case S1DSS_TERMINATE:
		case 3:                 /* reserved: behaves as 0b00 (facts §2.2) */
			ev_init(r, rq, EVT_F_STREAM_DISABLED);
			return false;
		case S1DSS_BYPASS:
			*bypass_s1 = true;
			return false;
		default:
			ssid = 0;
		}
	}
	tag[0] = CFG_CD;
	tag[1] = rq->sid;
	tag[2] = ssid;
	if (m->cached && hwc_lookup(s->cfgc, cache_hash(tag), tag, val)) {
		memcpy(r->c.cd, val, sizeof(r->c.cd));
		r->c.cd_hit = true;
		r->c.have_cd = true;
		return true;
	}
	if (fmt == S1FMT_LINEAR || !cdmax) {
		a = ptr + (uint64_t)ssid * CD_SIZE;
	} else {
		unsigned split = fmt == S1FMT_4K_L2 ? 6 : 10;
		uint64_t l1 = ptr + (uint64_t)(ssid >> split) * CD_L1_SIZE;

		static const char *const l1name[1] = { "l1-cd" };

		if (!cd_read(s, m, rq, r, l1, 1, &desc, l1name))
			return false;
		if (!(desc & CD_L1_V)) {
			ev_init(r, rq, EVT_C_BAD_SUBSTREAMID);
			return false;
		}
		a = (desc & CD_L1_L2PTR) + (uint64_t)(ssid & (BIT(split) - 1)) * CD_SIZE;
	}
	{
		static const char *const names[4] = { "cd[0]", "cd[1]", "cd[2]", "cd[3]" };

		if (!cd_read(s, m, rq, r, a, 4, r->c.cd, names))
			return false;
	}
	r->c.have_cd = true;
	if (m->cached)
		hwc_fill(s->cfgc, cache_hash(tag), tag, r->c.cd, m->gen_cfg);
	return true;
}

/* TG0 / TG1 to a granule shift (0: reserved). */
static unsigned tg0_shift(unsigned tg)
{
	return tg == TG0_4K ? 12 : tg == TG0_64K ? 16 : tg == TG0_16K ? 14 : 0;
}

static unsigned tg1_shift(unsigned tg)
{
	return tg == TG1_4K ? 12 : tg == TG1_64K ? 16 : tg == TG1_16K ? 14 : 0;
}

/*
 * One translation table range of a CD as CdIllegal checks it (facts §3.4 items
 * 10, 11), whether or not the request uses it: TxSZ in [16, 39], a granule the
 * SMMU implements (TG1 0b00 and TG0 0b11 are reserved), TTBx within the
 * effective IPS, and within 48 bits with 4K and 16K granules (no 52-bit DS).
 */
static bool cd_range_ok(const struct smmu *s, const uint64_t cd[4], bool upper, unsigned ips)
{
	unsigned shift = upper ? tg1_shift((unsigned)FIELD_GET(CD0_TG1, cd[0]))
			       : tg0_shift((unsigned)FIELD_GET(CD0_TG0, cd[0]));
	unsigned tsz = (unsigned)(upper ? FIELD_GET(CD0_T1SZ, cd[0]) : FIELD_GET(CD0_T0SZ, cd[0]));
	uint64_t ttb = upper ? cd[2] & CD2_TTB1 : cd[1] & CD1_TTB0;

	if (!gran_ok(s, shift) || tsz < 16 || tsz > 39)
		return false;
	if (ttb & ~GENMASK(ips - 1, 0))
		return false;
	return shift == 16 || !(ttb & ~GENMASK(47, 0));
}

/*
 * Decodes the CD and selects the translation table for the request's address:
 * C_BAD_CD for an invalid or ILLEGAL CD (facts §3.4: V = 0, AArch32, the stall
 * and termination rules, ENDI with a table enabled, HA/HD without HTTU, ASID
 * beyond 8 bits, and each enabled range's TxSZ, granule and TTB); F_TRANSLATION
 * (stage 1, CLASS = IN) when the address lies in neither range or its range is
 * disabled by EPDx.
 */
static bool cd_decode(struct smmu *s, const struct sreq *rq, struct xres *r)
{
	const uint64_t *cd = r->c.cd;
	uint64_t va = rq->addr;
	bool upper, tbi, en0 = !(cd[0] & CD0_EPD0), en1 = !(cd[0] & CD0_EPD1);
	unsigned shift, tsz, ips;
	bool ha, hd;
	struct pgt_cfg pc;

	if (!(cd[0] & CD0_V) || !(cd[0] & CD0_AA64))
		goto bad;
	/* TTENDIAN is little-endian only: ENDI = 1 is ILLEGAL once a table is used. */
	if ((cd[0] & CD0_ENDI) && (en0 || en1))
		goto bad;
	ha = cd[0] & CD0_HA;
	hd = cd[0] & CD0_HD;
	if (((ha || hd) && s->cfg.httu == 0) || (hd && s->cfg.httu == 1))
		goto bad;
	hd = hd && ha;
	if (((r->c.ste[1] & STE1_S1STALLD) && (cd[0] & CD0_S)) ||
	    (s->cfg.term_model && !(cd[0] & CD0_A)) ||
	    (s->cfg.stall_model == 1 && (cd[0] & CD0_S)) ||
	    (s->cfg.stall_model == 2 && !(cd[0] & CD0_S)))
		goto bad;
	ips = ps_bits((unsigned)FIELD_GET(CD0_IPS, cd[0]));
	if (ips > s->cfg.oas)
		ips = s->cfg.oas;               /* IPS above OAS acts as OAS */
	r->c.asid = (uint16_t)FIELD_GET(CD0_ASID, cd[0]);
	if (!s->cfg.asid16 && (r->c.asid & 0xff00))
		goto bad;
	if ((en0 && !cd_range_ok(s, cd, false, ips)) || (en1 && !cd_range_ok(s, cd, true, ips)))
		goto bad;
	/* Which range: bit 55 selects (with TBI the top byte is not checked). */
	upper = va & BIT(55);
	tbi = cd[0] & (upper ? CD0_TBI1 : CD0_TBI0);
	tsz = (unsigned)(upper ? FIELD_GET(CD0_T1SZ, cd[0]) : FIELD_GET(CD0_T0SZ, cd[0]));
	/* The range check: the bits above the input size must all equal bit 55's
	 * side (the top byte excluded with TBI), and the range must be enabled. A
	 * disabled range's TxSZ is not checked, so clamp it for the mask. */
	{
		unsigned t = tsz < 16 ? 16 : tsz > 39 ? 39 : tsz;
		uint64_t top = tbi ? GENMASK(55, 64 - t) : GENMASK(63, 64 - t);
		uint64_t want = upper ? top : 0;

		if (!(upper ? en1 : en0) || (va & top) != want) {
			ev_init(r, rq, EVT_F_TRANSLATION);
			r->ev.class_ = EVT_CLASS_IN;
			r->record = (cd[0] & CD0_R) != 0;
			return false;
		}
	}
	shift = upper ? tg1_shift((unsigned)FIELD_GET(CD0_TG1, cd[0]))
		      : tg0_shift((unsigned)FIELD_GET(CD0_TG0, cd[0]));
	pc = (struct pgt_cfg){
		.family = PGT_LPAE_S1, .granule = 1u << shift, .tsz = tsz, .oas = ips,
		.flags = (ha ? PGT_CFG_HA : 0) | (hd ? PGT_CFG_HD : 0) |
			 ((upper ? cd[2] & CD2_HAD1 : cd[1] & CD1_HAD0) ? PGT_CFG_HAD : 0) |
			 (cd[0] & CD0_AFFD ? PGT_CFG_AFFD : 0) |
			 /* 4 TiB 64K blocks need 52-bit PAs: IDR5.OAS is the SMMU's PAMax */
			 (s->cfg.oas < 52 ? PGT_CFG_NOLPA : 0),
	};
	if (pgt_fmt_init(&r->c.s1f, &pc))
		goto bad;
	r->c.s1root = (upper ? cd[2] & CD2_TTB1 : cd[1] & CD1_TTB0);
	/* The walk sees the address within the range's input size (the bits above
	 * were checked); the TLB tags the VA with a canonical top byte under TBI,
	 * so that addresses differing only there share entries. */
	r->c.wa = va & GENMASK(63 - tsz, 0);
	r->c.ta = tbi ? (va & GENMASK(55, 0)) | (upper ? GENMASK(63, 56) : 0) : va;
	return true;
bad:
	ev_init(r, rq, EVT_C_BAD_CD);
	return false;
}

/* ---- TLB -------------------------------------------------------------------------------------- */

static void tlb_tag(const struct xcfg *c, enum tlb_kind k, unsigned shift, uint64_t ia,
		    uint64_t tag[HWC_TAG_WORDS])
{
	tag[0] = c->vmid | (uint64_t)(k == TK_S2 ? 0 : c->asid) << 16 | (uint64_t)k << 32 |
		 (uint64_t)shift << 36;
	tag[1] = ia >> shift;
	tag[2] = 0;
}

/* The page sizes a format can leaf at, as shifts, smallest first. */
static unsigned leaf_shifts(const struct pgt_fmt *f, unsigned out[PGT_MAX_LEVELS])
{
	unsigned n = 0;

	for (unsigned h = 0; h < f->levels; h++)
		if (f->leaf_ok & BIT(h))
			out[n++] = pgt_shift(f, h);
	return n;
}

static enum tlb_kind tlb_kind_of(const struct xcfg *c)
{
	return c->s1 && c->s2 ? TK_NESTED : c->s1 ? TK_S1 : TK_S2;
}

/* The stage whose leaf sizes tag the entry: stage 1 when there is one. */
static const struct pgt_fmt *tag_fmt(const struct xcfg *c)
{
	return c->s1 ? &c->s1f : &c->s2f;
}

static bool tlb_lookup(struct smmu *s, const struct sreq *rq, struct xres *r, unsigned need)
{
	unsigned shifts[PGT_MAX_LEVELS], n = leaf_shifts(tag_fmt(&r->c), shifts);
	uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS];
	enum tlb_kind k = tlb_kind_of(&r->c);

	for (unsigned i = 0; i < n; i++) {
		tlb_tag(&r->c, k, shifts[i], r->c.ta, tag);
		if (!hwc_lookup(s->tlb, cache_hash(tag), tag, val))
			continue;
		/* An entry filled for the other privilege answers for its own only. */
		if (((val[1] & TLBV_PRIV) != 0) != rq->priv)
			return false;
		if ((val[1] & need) != need)
			return false;           /* walk: permission fault or a D update */
		r->page = val[0];
		r->size = BIT(shifts[i]);
		r->perm = (unsigned)(val[1] & TLBV_PERM);
		r->ipa = val[2];
		r->tlb_hit = true;
		return true;
	}
	return false;
}

/* ---- walk caches (struct pgt_wcache hooks) ----------------------------------------------------- */

struct wctx {
	struct smmu *s;
	const struct xmode *m;
	const struct xcfg *c;
	bool fill;
	bool s1_used, s1_hit, s2_used, s2_hit;
};

static void wc_tag(const struct wctx *w, const struct pgt_fmt *f, bool s1, unsigned h, uint64_t ia,
		   uint64_t tag[HWC_TAG_WORDS])
{
	unsigned rs = f->shift[h] + f->stride;     /* the table maps 2^rs bytes of input */

	tag[0] = rs >= 64 ? 0 : ia & ~(BIT(rs) - 1);
	tag[1] = w->c->vmid | (s1 ? (uint64_t)w->c->asid << 16 : 0) | (uint64_t)h << 32 |
		 (uint64_t)f->levels << 35 | (uint64_t)rs << 38 | (uint64_t)f->gshift << 45 |
		 (s1 && w->c->s2 ? BIT(50) : 0);
	tag[2] = f->ia_bits;
}

static int wc_lookup(void *ctx, const struct pgt_fmt *f, uint8_t stage, uint64_t ia,
		     uint64_t *table, uint64_t acc[2])
{
	struct wctx *w = ctx;
	bool s1 = stage == 1;
	struct hwc *c = s1 ? w->s->s1wc : w->s->s2wc;
	uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS];

	*(s1 ? &w->s1_used : &w->s2_used) = true;
	for (unsigned h = 0; h + 1u < f->levels; h++) {
		wc_tag(w, f, s1, h, ia, tag);
		if (hwc_lookup(c, cache_hash(tag), tag, val)) {
			*table = val[0];
			acc[0] = val[1];
			acc[1] = val[2];
			*(s1 ? &w->s1_hit : &w->s2_hit) = true;
			return (int)h;
		}
	}
	return -1;
}

static void wc_fill(void *ctx, const struct pgt_fmt *f, uint8_t stage, unsigned height,
		    uint64_t ia, uint64_t table, const uint64_t acc[2])
{
	struct wctx *w = ctx;
	bool s1 = stage == 1;
	uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS] = { table, acc[0], acc[1], 0 };

	if (!w->fill)
		return;
	wc_tag(w, f, s1, height, ia, tag);
	hwc_fill(s1 ? w->s->s1wc : w->s->s2wc, cache_hash(tag), tag, val,
		 s1 ? w->m->gen_s1wc : w->m->gen_s2wc);
}

/* ---- the walk ------------------------------------------------------------------------------------ */

static unsigned req_access(const struct sreq *rq)
{
	return (rq->write ? PGT_ACC_WRITE : 0) | (rq->exec ? PGT_ACC_EXEC : 0) |
	       (rq->priv ? 0 : PGT_ACC_USER);
}

/* A leaf as updated by the walk is writable without a further update: stage 1
 * AP[2] clear, stage 2 S2AP write set. */
static bool leaf_writable(const struct pgt_fmt *f, uint64_t leaf)
{
	return f->family == PGT_LPAE_S1 ? !(leaf & LPAE_AP2) : (leaf & LPAE_S2AP_W) != 0;
}

static void walk(struct smmu *s, struct xmode *m, const struct sreq *rq, struct xres *r)
{
	struct pgt_result res;
	struct pgt_trace pt = { xtrace_pg_step, (void *)m->tr };
	struct wctx w = { .s = s, .m = m, .c = &r->c, .fill = m->cached };
	struct pgt_wcache wc = { wc_lookup, wc_fill, &w };
	unsigned acc = req_access(rq);

	if (r->c.s1 && r->c.s2)
		pgt_walk_nested_wc(&r->c.s1f, r->c.s1root, &r->c.s2f, r->c.s2root, view(s, m),
				   r->c.wa, acc, &res, m->tr ? &pt : NULL, m->cached ? &wc : NULL);
	else if (r->c.s1)
		pgt_walk_wc(&r->c.s1f, view(s, m), r->c.s1root, r->c.wa, acc, &res,
			    m->tr ? &pt : NULL, m->cached ? &wc : NULL);
	else
		pgt_walk_wc(&r->c.s2f, view(s, m), r->c.s2root, r->c.wa, acc, &res,
			    m->tr ? &pt : NULL, m->cached ? &wc : NULL);
	r->walked = true;
	if (m->count) {
		pcounter_add(&s->walks, 1);
		pcounter_add(&s->walk_refs, res.refs);
	}
	r->s1wc_hit = w.s1_hit;
	r->s2wc_hit = w.s2_hit;
	if (m->cached) {
		if (w.s1_used)
			w.s1_hit ? hwc_count_hit(s->s1wc) : hwc_count_miss(s->s1wc);
		if (w.s2_used)
			w.s2_hit ? hwc_count_hit(s->s2wc) : hwc_count_miss(s->s2wc);
	}
	if (!res.ok) {
		bool s2 = res.fault.stage == 2;

		ev_init(r, rq, (uint8_t)res.fault.code);
		r->ev.s2 = s2;
		r->ev.class_ = res.fault.s1_fetch ? EVT_CLASS_TT : EVT_CLASS_IN;
		r->ev.ttrnw = res.fault.s1_fetch && !res.fault.s1_write;
		if (s2)
			r->ev.ipa = res.fault.addr;
		if (res.fault.reason == PGT_FAULT_TABLE_ACCESS) {
			/* The table is not memory: an external abort on the walk, which
			 * is always a table access (CLASS TT). */
			r->ev.id = EVT_F_WALK_EABT;
			/* A stage-1 descriptor fetch, or stage 2 translating one: TT;
			 * stage 2 translating the output: IN. */
			r->ev.class_ = !s2 || res.fault.s1_fetch ? EVT_CLASS_TT : EVT_CLASS_IN;
			r->ev.fetch_addr = res.fault.entry_pa;
			r->record = true;
		} else {
			r->record = s2 ? (r->c.ste[2] & STE2_S2R) != 0 : (r->c.cd[0] & CD0_R) != 0;
		}
		return;
	}
	r->size = res.page_size;
	r->page = res.oa & ~(res.page_size - 1);
	r->perm = res.perm;
	if (r->c.s1 && !leaf_writable(&r->c.s1f, res.leaf[0]))
		r->perm &= ~PGT_PERM_W;
	/* pgtable keeps a stage-2 leaf in leaf[1], in a 1-D walk too. */
	if (r->c.s2 && !leaf_writable(&r->c.s2f, res.leaf[1]))
		r->perm &= ~PGT_PERM_W;
	r->ipa = 0;
	r->global = r->c.s1 && res.attrs[0].global;
	if (r->c.s1 && r->c.s2) {
		/* The stage-1 output page (an IPA) of the request, at the entry's size. */
		unsigned s1shift = pgt_shift(&r->c.s1f, (unsigned)(3 - res.leaf_level[0]));
		uint64_t ipa = (res.leaf[0] & LPAE_OA_LO & ~(BIT(s1shift) - 1)) |
			       (rq->addr & (BIT(s1shift) - 1));

		r->ipa = ipa & ~(r->size - 1);
	}
}

static void tlb_fill(struct smmu *s, const struct xmode *m, const struct sreq *rq,
		     const struct xres *r)
{
	const struct pgt_fmt *f = tag_fmt(&r->c);
	unsigned shifts[PGT_MAX_LEVELS], n = leaf_shifts(f, shifts), shift = 0;
	uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS];

	/* The entry has the smallest of the stages' page sizes (r->size); it is
	 * tagged with that size if the tagging stage can leaf there, else not cached
	 * (a stage-2 page smaller than every stage-1 size cannot be). */
	for (unsigned i = 0; i < n; i++)
		if (BIT(shifts[i]) == r->size)
			shift = shifts[i];
	if (!shift)
		return;
	tlb_tag(&r->c, tlb_kind_of(&r->c), shift, r->c.ta, tag);
	val[0] = r->page;
	val[1] = r->perm | (rq->priv ? TLBV_PRIV : 0) | (r->global ? TLBV_GLOBAL : 0);
	val[2] = r->ipa;
	val[3] = 0;
	hwc_fill(s->tlb, cache_hash(tag), tag, val, m->gen_tlb);
}

/* ---- resolution ---------------------------------------------------------------------------------- */

static void outcome_bypass(struct xres *r, const struct sreq *rq)
{
	r->fault = false;
	r->page = rq->addr & ~UINT64_C(0xfff);
	r->size = 4096;
	r->perm = PGT_PERM_R | PGT_PERM_W | PGT_PERM_X;
}

/* A bypassed stage 1 whose input is wider than the IAS (= OAS): stage-1
 * F_ADDR_SIZE, CLASS = IN, always recorded and never stalled (facts §5.3). */
static bool bypass_too_wide(const struct smmu *s, const struct sreq *rq, struct xres *r)
{
	if (s->cfg.oas >= 64 || !(rq->addr >> s->cfg.oas))
		return false;
	ev_init(r, rq, EVT_F_ADDR_SIZE);
	r->ev.class_ = EVT_CLASS_IN;
	r->bypass_fault = true;
	return true;
}

static void outcome_abort(struct xres *r)
{
	r->fault = true;
	r->silent = true;
	r->record = false;
}

/*
 * Resolves rq: configuration, then the TLB, then a walk. Leaves r's outcome: a
 * translation, or a fault with r->ev (recorded if r->record).
 */
static void resolve(struct smmu *s, struct xmode *m, const struct sreq *rq, struct xres *r)
{
	unsigned eats;
	bool bypass_s1, atschk;
	unsigned need;

	memset(r, 0, sizeof(*r));
	r->priv = rq->priv;
	r->c.wa = r->c.ta = rq->addr;
	if (!atomic_load_explicit(&s->enabled, memory_order_acquire)) {
		/* SMMUEN = 0 (facts §1.6): GBPA says abort or bypass; no translation
		 * event. ATS translation requests get UR and F_BAD_ATS_TREQ (SMMUEN = 0
		 * is one of its listed causes, facts §5.2); translated traffic aborts. */
		if (rq->at == DEV_AT_TRANS_REQ) {
			ev_init(r, rq, EVT_F_BAD_ATS_TREQ);
			r->ur = true;
			return;
		}
		if (rq->at != DEV_AT_UNTRANSLATED ||
		    (atomic_load_explicit(&s->gbpa_now, memory_order_acquire) & GBPA_ABORT))
			outcome_abort(r);
		else
			outcome_bypass(r, rq);
		return;
	}
	atschk = atomic_load_explicit(&s->xl_ctrl, memory_order_relaxed) & SMMU_XL_ATSCHK;
	if (rq->at == DEV_AT_TRANSLATED && !atschk) {
		/* ATSCHK = 0, fast mode: translated traffic bypasses, no STE is read. */
		outcome_bypass(r, rq);
		return;
	}
	if (!ste_get(s, m, rq, r))
		return;
	if (!ste_decode(s, rq, r)) {
		/* An invalid STE: translated traffic aborts without an event (facts
		 * §2.3; a translation request gets CA, finish() records nothing). */
		if (rq->at == DEV_AT_TRANSLATED) {
			r->silent = true;
			r->record = false;
		}
		return;
	}
	if (rq->at == DEV_AT_TRANSLATED && r->c.config == STE_CFG_ABORT) {
		outcome_abort(r);               /* Config abort: silent for everyone */
		return;
	}
	/* EATS is IGNORED without IDR0.ATS or with Config 0b1x00 and 0b100 (bypass):
	 * effectively 0b00 then (facts §2.3). */
	eats = (unsigned)FIELD_GET(STE1_EATS, r->c.ste[1]);
	if (!s->cfg.ats || r->c.config == STE_CFG_BYPASS || r->c.config == STE_CFG_ABORT)
		eats = EATS_ABORT;
	if (eats == EATS_RSVD)
		eats = EATS_ABORT;              /* 0b11 (DPT) behaves as 0b00 */
	if (rq->at == DEV_AT_TRANS_REQ && r->c.config == STE_CFG_ABORT) {
		outcome_abort(r);               /* Config abort: UR, no event */
		r->ur = true;
		return;
	}
	if (rq->at == DEV_AT_TRANS_REQ && eats == EATS_ABORT) {
		ev_init(r, rq, EVT_F_BAD_ATS_TREQ);
		r->ur = true;
		return;
	}
	if (rq->at == DEV_AT_TRANSLATED) {
		/* Checked against EATS: forbidden without it, else passed as it is
		 * (no split-stage ATS: EATS 0b10 is ILLEGAL here). */
		if (eats == EATS_ABORT) {
			ev_init(r, rq, EVT_F_TRANSL_FORBIDDEN);
			return;
		}
		outcome_bypass(r, rq);
		return;
	}
	/* A substream where stage 1 is off (bypass, stage 2 only), or on an SMMU
	 * without substreams: C_BAD_SUBSTREAMID (facts §3.1). */
	if (rq->ssv && r->c.config != STE_CFG_ABORT && (!r->c.s1 || !s->cfg.ssidsize)) {
		ev_init(r, rq, EVT_C_BAD_SUBSTREAMID);
		return;
	}
	switch (r->c.config) {
	case STE_CFG_ABORT:
		outcome_abort(r);
		return;
	case STE_CFG_BYPASS:
		/* An input address beyond the OAS cannot pass (facts §2.3). */
		if (bypass_too_wide(s, rq, r))
			return;
		outcome_bypass(r, rq);
		return;
	}
	if (r->c.s1) {
		if (!cd_get(s, m, rq, r, &bypass_s1)) {
			if (!bypass_s1)
				return;
			r->c.s1 = false;        /* S1DSS bypass: stage 2 only, if any */
		} else if (!cd_decode(s, rq, r)) {
			return;
		}
	}
	if (!r->c.s1) {
		/* Stage 1 bypassed: its output (the IPA) must fit the IAS (= OAS: the
		 * model has no AArch32 stage 1). */
		if (bypass_too_wide(s, rq, r))
			return;
		if (!r->c.s2) {
			outcome_bypass(r, rq);
			return;
		}
	}
	need = rq->write ? PGT_PERM_W : rq->exec ? PGT_PERM_X : PGT_PERM_R;
	if (rq->at == DEV_AT_TRANS_REQ)
		need = PGT_PERM_R;              /* ATS asks what is allowed, not one access */
	if (m->cached && tlb_lookup(s, rq, r, need))
		return;
	walk(s, m, rq, r);
	if (!r->fault && m->cached)
		tlb_fill(s, m, rq, r);
}

/* The translation-related faults: the ones that may stall, and that an ATS
 * translation request answers with a no-access completion. */
static bool xl_fault_id(uint8_t id)
{
	return id == EVT_F_TRANSLATION || id == EVT_F_ADDR_SIZE || id == EVT_F_ACCESS ||
	       id == EVT_F_PERMISSION;
}

static void finish(struct smmu *s, const struct sreq *rq, struct xres *r, struct dev_xlate *x)
{
	memset(x, 0, sizeof(*x));
	if (!r->fault) {
		x->status = DEV_XLATE_OK;
		x->size = r->size;
		x->page_base = rq->addr & ~(r->size - 1);
		x->pa = r->page + (rq->addr & (r->size - 1));
		x->r = r->perm & PGT_PERM_R;
		x->w = r->perm & PGT_PERM_W;
		x->x = r->perm & PGT_PERM_X;
		x->priv = rq->priv;
		return;
	}
	x->fault_reason = r->ev.id;
	if (rq->at == DEV_AT_TRANS_REQ) {
		/* ATS translation requests never stall and record nothing but
		 * F_BAD_ATS_TREQ (facts §5.3): a translation-related fault is a
		 * completion without access (the device may ask for the page with
		 * PRI); anything else is UR or CA. */
		if (!r->ur && !r->silent && xl_fault_id(r->ev.id)) {
			x->status = DEV_XLATE_NO_ACCESS;
			x->size = 4096;
			x->page_base = rq->addr & ~UINT64_C(0xfff);
			return;
		}
		x->status = DEV_XLATE_UR;
		if (r->ev.id == EVT_F_BAD_ATS_TREQ) {
			atomic_fetch_add_explicit(&s->events[r->ev.id], 1, memory_order_relaxed);
			smmu_event(s, &r->ev);
		}
		return;
	}
	x->status = DEV_XLATE_FAULT;
	if (r->silent)
		return;                         /* terminated without an event */
	atomic_fetch_add_explicit(&s->events[r->ev.id], 1, memory_order_relaxed);
	if (rq->at == DEV_AT_UNTRANSLATED && xl_fault_id(r->ev.id) && !r->bypass_fault) {
		/* Stall or terminate (facts §5.3): the faulting stage's S decides a
		 * stall (always recorded); a stage-1 termination with CD.A = 0 is
		 * RAZ/WI; stage 2 always aborts. Translated traffic never stalls. */
		bool stall = r->ev.s2 ? (r->c.ste[2] & STE2_S2S) != 0 : (r->c.cd[0] & CD0_S) != 0;

		if (stall) {
			if (!smmu_stall_park(s, &r->ev, x))
				return;
			r->record = true;       /* no STAG free: terminated, recorded */
		} else if (!r->ev.s2 && !(r->c.cd[0] & CD0_A)) {
			x->status = DEV_XLATE_RAZ_WI;
			x->size = 4096;
			x->page_base = rq->addr & ~UINT64_C(0xfff);
		}
	}
	if (r->record)
		smmu_event(s, &r->ev);
}

static void req_from_txn(struct sreq *rq, const struct dev_txn *t)
{
	rq->sid = t->rid;
	rq->ssv = t->pasid_valid;
	rq->ssid = t->pasid_valid ? t->pasid : 0;
	rq->write = t->write;
	rq->exec = t->pasid_valid && t->exec && !t->write;
	rq->priv = t->pasid_valid && t->priv;
	rq->at = (uint8_t)t->at;
	rq->addr = t->addr;
}

static void mode_begin(struct smmu *s, struct xmode *m)
{
	m->gen_cfg = hwc_gen(s->cfgc);
	m->gen_tlb = hwc_gen(s->tlb);
	m->gen_s1wc = hwc_gen(s->s1wc);
	m->gen_s2wc = hwc_gen(s->s2wc);
}

/* ---- the coherence checker ------------------------------------------------------------------------
 *
 * With cfg.checker, every translation that used a cache entry is resolved again
 * from memory alone, and the first layer whose cached state differs from memory
 * is reported (smmu_stale: the cache, what it held, what memory says, and the
 * command software left out); the answer is then memory's. Layers: the STE and
 * the CD (word for word), the TLB (the outcome: fault or page, size and
 * permissions), and the walk caches (the outcome of a walk that started from
 * their entries: an entry that still leads to the same leaf is not reported).
 * A difference while an invalidation of that cache ran (its generation moved)
 * may be the legal window between a table update and its invalidation: served
 * fresh, not reported. The fresh walk makes the A/D updates a miss would. */

static bool outcome_equal(const struct xres *a, const struct xres *b)
{
	if (a->fault != b->fault)
		return false;
	if (a->fault)
		return a->silent == b->silent && a->ev.id == b->ev.id;
	return a->page == b->page && a->size == b->size && a->perm == b->perm;
}

static uint64_t outcome_word(const struct xres *r)
{
	return r->fault ? (r->silent ? 0 : UINT64_C(0xe0) | r->ev.id) : r->page | r->perm;
}

static void report(struct smmu *s, struct hwc *c, uint64_t gen, const struct smmu_stale *st)
{
	if (hwc_gen(c) != gen)
		return;
	atomic_fetch_add(&s->stale_hits, 1);
	if (s->stale_cb)
		s->stale_cb(s->stale_ctx, st);
}

static void check(struct smmu *s, struct xmode *m, const struct sreq *rq, struct xres *r)
{
	struct xmode fm = { .cached = false, .count = false, .view = m->view };
	struct xres f;
	char msg[160];
	struct smmu_stale st = { .sid = rq->sid, .ssid = rq->ssv ? rq->ssid : 0,
				 .vmid = r->c.vmid, .asid = r->c.asid, .addr = rq->addr,
				 .missing = msg };
	struct hwc *c = NULL;
	uint64_t gen = 0;

	resolve(s, &fm, rq, &f);
	if (r->c.ste_hit && (!f.c.ste_read || memcmp(f.c.ste, r->c.ste, sizeof(f.c.ste)))) {
		unsigned w = 0;

		while (w < 3 && f.c.ste_read && f.c.ste[w] == r->c.ste[w])
			w++;
		st.cache = "ste";
		st.cached = r->c.ste[w];
		st.fresh = f.c.ste_read ? f.c.ste[w] : 0;
		snprintf(msg, sizeof(msg), "CMD_CFGI_STE (SID 0x%x)", rq->sid);
		c = s->cfgc;
		gen = m->gen_cfg;
	} else if (r->c.cd_hit && (!f.c.have_cd || memcmp(f.c.cd, r->c.cd, sizeof(f.c.cd)))) {
		unsigned w = 0;

		while (w < 3 && f.c.have_cd && f.c.cd[w] == r->c.cd[w])
			w++;
		st.cache = "cd";
		st.cached = r->c.cd[w];
		st.fresh = f.c.have_cd ? f.c.cd[w] : 0;
		snprintf(msg, sizeof(msg), "CMD_CFGI_CD (SID 0x%x, SSID 0x%x)", rq->sid, st.ssid);
		c = s->cfgc;
		gen = m->gen_cfg;
	} else if ((r->tlb_hit || r->s1wc_hit || r->s2wc_hit) && !outcome_equal(r, &f)) {
		bool s2_moved = r->c.s1 && r->c.s2 && !f.fault && f.ipa == r->ipa;

		st.cached = outcome_word(r);
		st.fresh = outcome_word(&f);
		if (r->tlb_hit) {
			st.cache = "tlb";
			c = s->tlb;
			gen = m->gen_tlb;
		} else if (r->s1wc_hit) {
			st.cache = "s1-walk";
			c = s->s1wc;
			gen = m->gen_s1wc;
		} else {
			st.cache = "s2-walk";
			c = s->s2wc;
			gen = m->gen_s2wc;
		}
		if (!r->c.s1)
			snprintf(msg, sizeof(msg), "CMD_TLBI_S2_IPA (VMID %u, IPA 0x%" PRIx64 "%s)",
				 r->c.vmid, rq->addr, r->tlb_hit ? "" : ", Leaf 0");
		else if (s2_moved || (!r->tlb_hit && !r->s1wc_hit))
			snprintf(msg, sizeof(msg), "CMD_TLBI_S12_VMALL (VMID %u)", r->c.vmid);
		else
			snprintf(msg, sizeof(msg),
				 "CMD_TLBI_NH_VA (VMID %u, ASID %u, VA 0x%" PRIx64 "%s)", r->c.vmid,
				 r->c.asid, rq->addr, r->tlb_hit ? "" : ", Leaf 0");
	}
	if (!c)
		return;
	report(s, c, gen, &st);
	*r = f;
}

/* The full path (out of line: the front path is a leaf without its frame). */
static __attribute__((noinline)) void translate_full(struct smmu *s, const struct dev_txn *t,
						     struct dev_xlate *x)
{
	/* Before any lookup (acquire: no lookup moves above it): see hw/front.h. */
	uint64_t ver = xfront_version(&s->xl_front);
	struct xview view = { .open = false };
	struct xmode m = { .cached = true, .count = true, .view = &view };
	struct sreq rq;
	struct xres r;

	pcounter_add(&s->translations, 1);
	mode_begin(s, &m);
	req_from_txn(&rq, t);
	resolve(s, &m, &rq, &r);
	if (s->cfg.checker && (r.c.ste_hit || r.c.cd_hit || r.tlb_hit || r.s1wc_hit || r.s2wc_hit)) {
		struct xres cached = r;

		check(s, &m, &rq, &r);
		/* The counts are the cached path's: what the caches did. */
		r.c.ste_hit = cached.c.ste_hit;
		r.tlb_hit = cached.tlb_hit;
		r.walked = cached.walked;
	}
	xview_end(&view);
	if (r.c.ste_hit)
		hwc_count_hit(s->cfgc);
	else if (atomic_load_explicit(&s->enabled, memory_order_relaxed))
		hwc_count_miss(s->cfgc);
	/* The TLB was looked up iff it hit or the miss walked (bypass and
	 * translated traffic never look). */
	if (r.tlb_hit || r.walked)
		r.tlb_hit ? hwc_count_hit(s->tlb) : hwc_count_miss(s->tlb);
	finish(s, &rq, &r, x);
	/* Remembered only when every lookup hit (the STE, the CD if one was looked
	 * up, the TLB), so that a front hit stands for exactly one configuration
	 * hit and one TLB hit, and never with the checker on. */
	if (r.tlb_hit && r.c.ste_hit && (r.c.cd_hit || !r.c.have_cd) && !r.fault &&
	    !s->cfg.checker)
		xfront_fill(&s->xl_front, ver, t, x);
}

void smmu_translate(struct smmu *s, const struct dev_txn *t, struct dev_xlate *x)
{
	if (xfront_translate(&s->xl_front, t, x))
		return;
	translate_full(s, t, x);
}

void smmu_translate_trace(struct smmu *s, const struct dev_txn *t, struct dev_xlate *x,
			  void (*step)(void *ctx, const char *what, uint64_t pa, uint64_t val,
				       const struct pgt_step *pgs),
			  void *ctx, struct smmu_event *ev, bool *have_ev)
{
	struct xtrace tr = { step, ctx };
	struct xview view = { .open = false };
	struct xmode m = { .cached = false, .count = true, .tr = &tr, .view = &view };
	struct sreq rq;
	struct xres r;

	pcounter_add(&s->translations, 1);
	req_from_txn(&rq, t);
	resolve(s, &m, &rq, &r);
	xview_end(&view);
	*have_ev = r.fault && !r.silent;
	if (*have_ev)
		*ev = r.ev;
	finish(s, &rq, &r, x);
}

/* ---- invalidation primitives ---------------------------------------------------------------------- */

struct cfg_match {
	uint32_t sid_lo, sid_hi;        /* [lo, hi] */
	bool ste, cd, all_ssids;
	uint32_t ssid;
};

static bool cfg_match(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
		      const void *ctx)
{
	const struct cfg_match *cm = ctx;

	(void)val;
	if (tag[1] < cm->sid_lo || tag[1] > cm->sid_hi)
		return false;
	if (tag[0] == CFG_STE)
		return cm->ste;
	return cm->cd && (cm->all_ssids || tag[2] == cm->ssid);
}

/* CFGI_STE: the STE and (facts §7) every CD cached through it. */
unsigned smmu_inv_ste(struct smmu *s, uint32_t sid, unsigned span)
{
	uint64_t n = span >= 32 ? UINT64_C(1) << 32 : UINT64_C(1) << span;
	uint32_t lo = (uint32_t)(sid & ~(n - 1));
	struct cfg_match cm = { lo, (uint32_t)(lo + n - 1), true, true, true, 0 };

	return hwc_invalidate(s->cfgc, cfg_match, &cm);
}

unsigned smmu_inv_cd(struct smmu *s, uint32_t sid, bool all_ssids, uint32_t ssid)
{
	struct cfg_match cm = { sid, sid, false, true, all_ssids, ssid };

	return hwc_invalidate(s->cfgc, cfg_match, &cm);
}

unsigned smmu_inv_cfg_all(struct smmu *s)
{
	return hwc_invalidate_all(s->cfgc);
}

static bool range_hits(uint64_t base, unsigned shift, const struct smmu_tlbi *t)
{
	uint64_t lo = base << shift, hi = lo + (BIT(shift) - 1);

	return !(hi < t->addr || lo > t->addr + (t->size - 1));
}

static bool tlb_match(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
		      const void *ctx)
{
	const struct smmu_tlbi *t = ctx;
	uint16_t vmid = (uint16_t)FIELD_GET(TLB_VMID, tag[0]);
	uint16_t asid = (uint16_t)FIELD_GET(TLB_ASID, tag[0]);
	enum tlb_kind k = (enum tlb_kind)FIELD_GET(TLB_KIND, tag[0]);
	unsigned shift = (unsigned)FIELD_GET(TLB_SHIFT, tag[0]);
	bool global = val[1] & TLBV_GLOBAL;

	switch (t->kind) {
	case SMMU_TLBI_NSNH_ALL:
		return true;
	case SMMU_TLBI_EL2_ALL:
		return false;                   /* the model makes no EL2 entries */
	case SMMU_TLBI_S12_VMALL:
		return vmid == t->vmid;
	case SMMU_TLBI_NH_ALL:
		return vmid == t->vmid && k != TK_S2;
	case SMMU_TLBI_NH_ASID:
		return vmid == t->vmid && k != TK_S2 && asid == t->asid && !global;
	case SMMU_TLBI_NH_VA:
		return vmid == t->vmid && k != TK_S2 && (asid == t->asid || global) &&
		       range_hits(tag[1], shift, t);
	case SMMU_TLBI_NH_VAA:
		return vmid == t->vmid && k != TK_S2 && range_hits(tag[1], shift, t);
	case SMMU_TLBI_S2_IPA:
		/* Stage-2-only entries: tagged by IPA already. Combined entries are not
		 * required to go (see the header comment). */
		return vmid == t->vmid && k == TK_S2 && range_hits(tag[1], shift, t);
	}
	return false;
}

static bool wc_match(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
		     const void *ctx)
{
	const struct smmu_tlbi *t = ctx;
	uint16_t vmid = (uint16_t)(tag[1] & 0xffff);
	uint16_t asid = (uint16_t)((tag[1] >> 16) & 0xffff);
	unsigned rs = (unsigned)((tag[1] >> 38) & 0x7f);
	uint64_t lo = tag[0], hi = rs >= 64 ? UINT64_MAX : lo + (BIT(rs) - 1);

	(void)val;
	if (t->kind == SMMU_TLBI_NSNH_ALL)
		return true;
	if (vmid != t->vmid)
		return false;
	switch (t->kind) {
	case SMMU_TLBI_NH_ASID:
		return asid == t->asid;
	case SMMU_TLBI_NH_VA:
		return asid == t->asid && !(hi < t->addr || lo > t->addr + (t->size - 1));
	case SMMU_TLBI_NH_VAA:
	case SMMU_TLBI_S2_IPA:
		return !(hi < t->addr || lo > t->addr + (t->size - 1));
	default:
		return true;                    /* NH_ALL, S12_VMALL: the whole VMID */
	}
}

/*
 * TLB: the entries the command names (tlb_match). Walk caches: the command's
 * stage, unless Leaf says only last-level entries need go (walk-cache entries
 * are never last level). NH_* reach the stage-1 walk cache, S2_IPA the stage-2
 * one, S12_VMALL and NSNH_ALL both.
 */
unsigned smmu_inv_tlb(struct smmu *s, const struct smmu_tlbi *t)
{
	unsigned n = hwc_invalidate(s->tlb, tlb_match, t);
	bool s1 = t->kind != SMMU_TLBI_S2_IPA && t->kind != SMMU_TLBI_EL2_ALL;
	bool s2 = t->kind == SMMU_TLBI_S2_IPA || t->kind == SMMU_TLBI_S12_VMALL ||
		  t->kind == SMMU_TLBI_NSNH_ALL;

	if (t->leaf)
		return n;
	if (s1)
		n += hwc_invalidate(s->s1wc, wc_match, t);
	if (s2)
		n += hwc_invalidate(s->s2wc, wc_match, t);
	return n;
}

void smmu_inv_all(struct smmu *s)
{
	hwc_invalidate_all(s->cfgc);
	hwc_invalidate_all(s->tlb);
	hwc_invalidate_all(s->s1wc);
	hwc_invalidate_all(s->s2wc);
}

/* ---- page requests ------------------------------------------------------------------------------ */

/*
 * A PCIe page request: written to the PRI queue. Refused (-ENOSPC) when it cannot
 * be queued, in which case queue.c has already sent the group's automatic
 * response; priq_overflow counts those refusals.
 */
int smmu_page_request(struct smmu *s, const struct dev_page_req *pr)
{
	int ret;

	atomic_fetch_add_explicit(&s->page_requests, 1, memory_order_relaxed);
	smmu_lock(s);
	/* queue.c decides, and answers the group itself when it cannot queue it
	 * (SMMUEN or PRIQEN off, overflow, abort: facts §6.2). */
	ret = smmu_priq_write_locked(s, pr, pr->rid);
	if (ret)
		atomic_fetch_add_explicit(&s->priq_overflow, 1, memory_order_relaxed);
	smmu_unlock(s);
	return ret;
}
