/* hw/vtd/xlate.c — translation of endpoint requests in scalable mode: root,
 * context, PASID directory and PASID table entries, the page walks (pgtable/),
 * the unit's five caches, the coherence checker, page-request checks, and the
 * cache invalidation primitives that qi.c and regs.c call.
 *
 * Facts: docs/facts/vtd-structures.md (§2 structures and faults 0x30-0x5D, FPD,
 * check order; §3 requests with and without PASID; §4.2 invalidation scopes; §5
 * page requests; §6 what is recorded) and docs/facts/vtd-paging.md (walk faults).
 *
 * Locking: translations take no lock. They read the latched translation state
 * (v->te, v->ttm, v->rta: atomics written by regs.c under the lock) and the caches
 * (hw/hwcache: seqlocked, lock-free lookups). A hit allocates nothing and opens no
 * memory view. Faults go to vtd_record_fault(), which takes v->lock, so no path
 * here holds the lock while recording. vtd_page_request() takes the lock only
 * around vtd_prq_write_locked() and answers the endpoint after releasing it. The
 * invalidation primitives take no lock (callers may hold v->lock): hwc_invalidate()
 * serialises per set.
 *
 * Coherence of fills: every translation reads the generation of all five caches
 * before its first lookup or memory read, and fills with it, so an invalidation
 * that starts after that point voids every fill the translation would make. The
 * generations are read before the context-cache lookup (not just before the memory
 * each cache is filled from) because a fill also depends on what the caches above
 * it returned: an IOTLB entry built from a PASID entry that is being invalidated
 * must not survive the IOTLB invalidation that follows.
 *
 * ---- cache layouts (tag words t0 t1 t2, value words v0..v3) ----------------------------
 *
 * Context cache, one entry per source ID, valid context entries only:
 *   t0 = SID; t1 = t2 = 0.   v0, v1 = context entry words 0 and 1 (words 2-3 of a
 *   valid entry are zero).
 * PASID cache, one entry per (SID, PASID), valid PASID-table entries only (the
 * PASID is the request's or RID_PASID):
 *   t0 = SID | PASID << 16; t1 = t2 = 0.   v0..v2 = PASID entry words 0-2 (words 3-7
 *   of a valid entry are zero; the DID, word 1 bits 15:0, is what domain- and
 *   PASID-selective invalidations match); v3 bit 0 = FPD of the directory entry OR
 *   the PASID entry (the context entry's FPD is ORed in at use, from the context
 *   entry in use, so that it is never older than that entry).
 * IOTLB, one entry per translated page:
 *   t0 = input page base | size code (0 4K, 1 2M, 2 1G);
 *   t1 = DID | PASID << 16 | kind << 36 | privilege << 38 (kind: 0 second-stage
 *   only, 1 first-stage only, 2 nested, 3 pass-through; privilege only for the
 *   first-stage kinds, where permissions depend on it; else 0); t2 = 0.
 *   v0 = output page base; v1 = permissions for that privilege (bit 0 R, 1 W, 2 X)
 *   | bit 3 "dirty": the leaf D bits a write needs are already set (a write that
 *   hits an entry without it walks again so that the walker sets D); v2 = nested:
 *   the guest-physical page (first-stage output) of the entry, for the checker.
 *   Lookups probe 4K first, then 2M and 1G only once an entry of that size was
 *   ever filled (v->xl_iotlb_sizes; a stale bit costs a probe, never an answer).
 * First-stage paging-structure cache (through struct pgt_wcache), one entry per
 * first-stage table below the root:
 *   t0 = input address bits above the table (the base of the region it maps);
 *   t1 = DID | PASID << 16 | height << 36 | levels << 39 | region shift << 42 |
 *   nested << 48; t2 = 0.   v0 = table address (a GPA when nested); v1, v2 = the
 *   walker's accumulated entry bits above the table (pgt_wcache acc[2]).
 * Second-stage paging-structure cache: the same without PASID and nested bit
 *   (second-stage tables are the domain's: DID names them).
 *
 * Hit and miss counts: one per request per cache consulted (the PSCs: one per walk,
 * a hit if any lookup of that stage hit). v->translations counts every request;
 * v->walks and v->walk_refs count page-table walks and their entry reads (the
 * structure reads are not references of a walk).
 *
 * Formats: the pgtable formats a PASID entry can name (first stage: 4 or 5 levels
 * x NXE x WPE x SMEP; second stage: 3-5 levels x SLADE x SLEE; the unit's FL1GP,
 * SLLPS, SC and HAW fixed) are built once per unit, on the first walk, into a
 * table in struct vtd (vtd.c, which creates the unit, is not this file's); a PASID
 * entry indexes it by its fields. The hit path needs no format.
 *
 * Front cache (see its section): per thread, the whole answer of a request whose
 * context, PASID and IOTLB lookups all hit, used while none of those three caches
 * has been filled or invalidated since. Not a sixth cache: it changes no answer,
 * count, eviction or stale behaviour, and the checker bypasses it.
 *
 * Hit path cost (measured by bench/vtd, one 2-core VM, -O2): a translation whose
 * context, PASID and IOTLB lookups all hit takes about 40 ns as three seqlocked
 * lookups (about 5.5 ns each) and the work around them, 22x a bare
 * open-addressing hash lookup of the same keys (about 1.8 ns). Answered from the
 * front cache it takes about 5.5 ns, 2.9-3.2x: one load of the unit's front
 * version, the request's key, one probe of a four-way set, one counter add to
 * the thread's own slot, five stores of the answer. Taking out everything but
 * the probe and the output address still measures 2.2x: a call that takes a
 * request and writes a whole answer costs that much more than a lookup that
 * returns one word. The 1.5x is not met; see the issue 3 note.
 *
 * ---- choices where the facts are uncertain or silent ------------------------------------
 *  - TE = 0: requests are not remapped: the output is the input, 4K, rwx.
 *  - TTM 00 (legacy): requests with PASID fault 0x31; this model implements no
 *    legacy translation and reports requests without PASID as 0x30.
 *  - RID_PASID beyond the PDTS range, and a PASID directory whose last entry lies
 *    at or above 2^HAW: 0x43. SRE without SRS, ERE without ERS, EAFE without EAFS:
 *    reserved, 0x5A (OVMM's capability-gated rule). 0x5D is checked before 0x5C, for
 *    every PGTT (the facts do not restrict them to first-stage kinds).
 *  - Requests without PASID: privilege RID_PRIV (user without RPRIVS), never
 *    execute; fault records carry no PASID, PRIV or EXE (OVMM's reading, §3).
 *  - Second-stage input at or above 2^min(HAW, AGAW) faults 0x84 before the walk.
 *    Nested walks check GPAs against the AGAW only (the walker knows no MGAW).
 *  - Pass-through faults 0x83 at or above 2^HAW; it is blocked with 0x87 in the
 *    interrupt range with or without PASID (QEMU quoting 3.4 §3.14); other kinds
 *    give 0x87 only for requests without PASID.
 *  - ATS translation requests: not-present and permission faults of a walk are not
 *    recorded and complete with R = W = 0 (DEV_XLATE_NO_ACCESS); every other fault
 *    (structures, reserved bits, table access, address width, interrupt range) is
 *    recorded and answered DEV_XLATE_UR. A write request denied write permission
 *    gets the read-only translation. Execute is not requested of the walk: the
 *    completion reports the X permission.
 *  - Translated requests (AT = 2) need the root and context entries and DTE, then
 *    pass through; no PASID entry is consulted.
 *  - An IOTLB hit that does not permit the access (or a write on a clean entry) is
 *    handled as a miss: the unit walks, so permission upgrades work without an
 *    invalidation (as x86 CPUs re-walk on a fault) and faults always come from
 *    memory. Translations that fault fill nothing.
 *  - Type-2 page-selective invalidation treats pass-through entries like
 *    second-stage ones (dropped when their page is in the range). With IH the
 *    paging-structure caches are kept; without, second-stage PSC entries of the DID
 *    overlapping the range and every first-stage PSC entry of the DID go.
 *  - The invalidation primitives return the number of entries dropped from all the
 *    caches they touch.
 *  - Page requests: TE = 0 drops the request unrecorded (answered Invalid Request
 *    if last in its group); checks are root/context/PASID structures (with the
 *    caches), PASIDE and PDTS range for requests with PASID, then PRE = 0 -> 0x47
 *    with the FPD of all three levels. A request dropped by a check is answered
 *    Invalid Request when last in its group and returns -EINVAL. A full queue
 *    answers a last-in-group request Success (the facts mark it unconfirmed).
 *  - The walker always makes A/D updates (snooped page walks): 0x7C/0x90 (update
 *    needed with PWSNP = 0) are not raised, and EA (EAFE) is not maintained.
 *
 * Coherence checker (cfg.checker): after a translation that hit any cache, the
 * same request is resolved again from memory alone and compared layer by layer:
 * context entry (words 0-1), PASID entry (words 0-2 and FPD), then the IOTLB entry
 * (output page, size, permissions, and for a write whether the walk had to set a D
 * bit the entry said was set) or, for a walk that started from paging-structure-
 * cache entries, each entry used: the table and accumulated bits it gave against
 * those a walk from memory passes at that height (so a leaf changing meanwhile is
 * not blamed on it). The first layer that differs is reported (a difference below
 * it follows from it) with the invalidation that would have dropped the entry,
 * and the fresh resolution is served. The stale entry is left in place, so each
 * use is reported. Report values: context and PASID entries, the first differing
 * word; IOTLB, output page | permissions (R 1, W 2, X 4), 0 for a fault; PSC, the
 * table address (fresh 0 if memory no longer reaches that height). The uncached
 * re-walks make the A/D updates a miss would make. A difference seen while an
 * invalidation of that cache ran concurrently is served fresh but not reported:
 * it may be the window between a table update and its invalidation, where either
 * answer is legal.
 */
#include "hw/vtd/vtd_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/xlview.h"
#include "pgtable/vtd_ss.h"
#include "pgtable/x86_fs.h"

enum { G_CC, G_PC, G_IOTLB, G_FSPSC, G_SSPSC, G_N };

enum kind {
	K_SS = 0,
	K_FS = 1,
	K_NESTED = 2,
	K_PT = 3,
	K_NONE = 4,     /* no PASID-entry translation: TE off, translated request */
};

/* The hit path is a few dozen nanoseconds: its helpers are expanded in place. */
#define HOT              __attribute__((always_inline)) inline

#define IOTLB_DIRTY      BIT(3)
#define IOTLB_PERM       (PGT_PERM_R | PGT_PERM_W | PGT_PERM_X)
#define CC_SALT          0x636f6e74ull
#define PC_SALT          0x70617369ull
#define INTR_BASE        0xfee00000ull   /* interrupt address range, 1 MiB */

/* A request as the unit sees it. */
struct req {
	uint16_t sid;
	bool pp;                /* it carried a PASID */
	uint32_t pasid;         /* ... that PASID */
	bool priv, exec;        /* its attributes (only with a PASID) */
	bool write;
	uint8_t at;
	uint64_t addr;
};


/* How one resolution runs. */
struct xmode {
	bool cached;            /* look the caches up and fill them */
	bool count;             /* count walks (not the checker's own) */
	bool detect_d;          /* note whether the walk had to set a leaf D bit */
	const struct xtrace *tr;
	struct xview *view;
	uint64_t gen[G_N];      /* read before anything else (cached mode) */
};

/* What one resolution found. */
struct xres {
	uint64_t ce[4];         /* context entry (words 2-3 not set when from the cache) */
	uint64_t pe[8];         /* PASID entry (words 3-7 not set when from the cache) */
	bool ce_read, pe_read;  /* the words above are known */
	bool pfpd;              /* FPD of the directory and PASID entries */
	bool fpd;               /* accumulated FPD for the fault */
	uint64_t rta;           /* the latched root-table address and mode it read */
	unsigned ttm;
	uint32_t pasid;         /* effective PASID (request's or RID_PASID) */
	bool priv;              /* effective privilege */
	bool cc_hit, pc_hit, iotlb_hit, walked, fs_psc_hit, ss_psc_hit, d_set;
	/* outcome */
	uint8_t reason;         /* 0: translated */
	bool walk_fault;        /* reason came from a page walk ... */
	enum pgt_reason wreason;/* ... for this reason */
	enum kind kind;
	uint16_t did;
	uint64_t page;          /* output page base */
	uint64_t size;
	unsigned perm;
	bool dirty;
	uint64_t gpa;           /* nested: the first-stage output page */
	/* (checker) the paging-structure-cache hits the walk used */
	unsigned npsc;
	struct psc_hit {
		uint8_t stage, height;
		uint64_t ia, table, acc[2];
	} psc[8];
};

static inline uint64_t above_haw(const struct vtd *v)
{
	return GENMASK(63, v->cfg.haw);
}

/*
 * A word of a value hwc_lookup() just stored word by word: read it alone. Left to
 * itself the compiler copies such values with 16-byte loads, which cannot be
 * forwarded from the two 8-byte stores and stall for the whole store to retire,
 * several nanoseconds on a path that is a few dozen.
 */
static inline uint64_t vword(const uint64_t *val, unsigned i)
{
	return ((const volatile uint64_t *)val)[i];
}

/* ---- names ------------------------------------------------------------------------------- */

static const struct {
	uint8_t code;
	const char *name, *text;
} fault_names[] = {
	{ 0x30, "RTA.1", "invalid root-table address or translation mode" },
	{ 0x31, "RTA.2", "request with PASID in legacy mode" },
	{ 0x32, "RTA.3", "page request in legacy mode" },
	{ 0x38, "SRT.1", "error reading the root entry" },
	{ 0x39, "SRT.2", "root entry not present" },
	{ 0x3a, "SRT.3", "reserved bit in the root entry" },
	{ 0x40, "SCT.1", "error reading the context entry" },
	{ 0x41, "SCT.2", "context entry not present" },
	{ 0x42, "SCT.3", "reserved bit in the context entry" },
	{ 0x43, "SCT.4", "invalid context entry" },
	{ 0x44, "SCT.5", "translation or translated request with DTE = 0" },
	{ 0x45, "SCT.6", "request with PASID and PASIDE = 0" },
	{ 0x46, "SCT.7", "PASID beyond the PASID directory (PDTS)" },
	{ 0x47, "SCT.8", "page request with PRE = 0" },
	{ 0x50, "SPD.1", "error reading the PASID-directory entry" },
	{ 0x51, "SPD.2", "PASID-directory entry not present" },
	{ 0x52, "SPD.3", "reserved bit in the PASID-directory entry" },
	{ 0x58, "SPT.1", "error reading the PASID-table entry" },
	{ 0x59, "SPT.2", "PASID-table entry not present" },
	{ 0x5a, "SPT.3", "reserved bit in the PASID-table entry" },
	{ 0x5b, "SPT.4", "invalid PASID-table entry" },
	{ 0x5c, "SPT.5", "execute request with ERE = 0" },
	{ 0x5d, "SPT.6", "privileged request with SRE = 0" },
	{ 0x70, "SFS.1", "error reading a first-stage entry" },
	{ 0x71, "SFS.2", "first-stage entry not present" },
	{ 0x72, "SFS.3", "reserved bit in a first-stage entry" },
	{ 0x73, "SFS.4", "error reading the top first-stage entry" },
	{ 0x74, "SFS.5", "first-stage table address beyond the second-stage width" },
	{ 0x75, "SFS.6", "second stage denies reading the top first-stage table" },
	{ 0x76, "SFS.7", "second stage denies reading a first-stage table" },
	{ 0x77, "SFS.8", "second stage denies a first-stage A/D update" },
	{ 0x78, "SSS.1", "error reading a second-stage entry" },
	{ 0x79, "SSS.2", "second-stage entry not present (R = W = 0)" },
	{ 0x7a, "SSS.3", "reserved bit in a second-stage entry" },
	{ 0x7b, "SSS.4", "error reading the top second-stage entry" },
	{ 0x7c, "SSS.5", "second-stage A/D update with a non-snooped walk" },
	{ 0x7d, "SSS.6", "second-stage A/D update failed" },
	{ 0x80, "SGN.1", "non-canonical first-stage input" },
	{ 0x81, "SGN.2", "user request to a supervisor page" },
	{ 0x82, "SGN.3", "execute request without execute permission" },
	{ 0x83, "SGN.4", "input beyond the host address width" },
	{ 0x84, "SGN.5", "second-stage input beyond its width" },
	{ 0x85, "SGN.6", "write without write permission" },
	{ 0x86, "SGN.7", "read without read permission" },
	{ 0x87, "SGN.8", "output in the interrupt address range" },
	{ 0x90, "SFS.9", "first-stage A/D update with a non-snooped walk" },
	{ 0x91, "SFS.10", "first-stage A/D update failed" },
};

const char *vtd_fault_name(uint8_t reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(fault_names); i++)
		if (fault_names[i].code == reason)
			return fault_names[i].name;
	return "?";
}

const char *vtd_fault_text(uint8_t reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(fault_names); i++)
		if (fault_names[i].code == reason)
			return fault_names[i].text;
	return "unknown fault reason";
}

/* ---- formats ------------------------------------------------------------------------------ */

static void formats_build(struct vtd *v)
{
	unsigned st = 0;

	if (atomic_load_explicit(&v->xl_fmt_state, memory_order_acquire) == 2)
		return;
	if (!atomic_compare_exchange_strong(&v->xl_fmt_state, &st, 1)) {
		while (atomic_load_explicit(&v->xl_fmt_state, memory_order_acquire) != 2)
			sched_yield();
		return;
	}
	for (unsigned i = 0; i < 16; i++) {
		struct pgt_cfg c = {
			.family = PGT_X86_FS, .levels = 4 + (i >> 3), .oas = v->cfg.haw,
			.flags = ((i & 4) ? PGT_CFG_NXE : 0) | ((i & 2) ? PGT_CFG_WPE : 0) |
				 ((i & 1) ? PGT_CFG_SMEP : 0) |
				 ((v->cap & CAP_FL1GP) ? 0 : PGT_CFG_NO1G),
		};

		/* A format the walker refuses stays zeroed (levels 0): the PASID entry
		 * using it is then invalid (0x5B). Not expected for a valid config. */
		if (pgt_fmt_init(&v->xl_fs[i], &c))
			memset(&v->xl_fs[i], 0, sizeof(v->xl_fs[i]));
	}
	for (unsigned i = 0; i < 12; i++) {
		struct pgt_cfg c = {
			.family = PGT_VTD_SS, .levels = 3 + (i >> 2), .oas = v->cfg.haw,
			.flags = ((i & 2) ? PGT_CFG_AD : 0) | ((i & 1) ? PGT_CFG_SLEE : 0) |
				 ((v->ecap & ECAP_SC) ? 0 : PGT_CFG_NOSC) |
				 ((v->cap & CAP_SLLPS_1G) ? 0 : PGT_CFG_NO1G) |
				 ((v->cap & CAP_SLLPS_2M) ? 0 : PGT_CFG_NO2M),
		};

		if (pgt_fmt_init(&v->xl_ss[i], &c))
			memset(&v->xl_ss[i], 0, sizeof(v->xl_ss[i]));
	}
	atomic_store_explicit(&v->xl_fmt_state, 2, memory_order_release);
}

/* The first-stage format of a PASID entry: levels 4 + FLPM, NXE, WPE, SMEP. */
static const struct pgt_fmt *fs_fmt(struct vtd *v, uint64_t pe2)
{
	unsigned i = (unsigned)FIELD_GET(PTE2_FLPM, pe2) * 8 + ((pe2 & PTE2_NXE) ? 4 : 0) +
		     ((pe2 & PTE2_WPE) ? 2 : 0) + ((pe2 & PTE2_SMEP) ? 1 : 0);

	return &v->xl_fs[i];
}

/* The second-stage format of a PASID entry: levels AW + 2, SLADE, SLEE. */
static const struct pgt_fmt *ss_fmt(struct vtd *v, uint64_t pe0)
{
	unsigned i = ((unsigned)FIELD_GET(PTE0_AW, pe0) - 1) * 4 + ((pe0 & PTE0_SLADE) ? 2 : 0) +
		     ((pe0 & PTE0_SLEE) ? 1 : 0);

	return &v->xl_ss[i];
}

/* ---- memory and trace --------------------------------------------------------------------- */

/* The translation's memory view, opened on first use (a hit never opens one). */
static struct mem_view *view(struct vtd *v, struct xmode *m)
{
	return xview_get(m->view, v->mem);
}

static bool xl_load(struct vtd *v, struct xmode *m, uint64_t pa, uint64_t *val, const char *what)
{
	return xview_load(m->view, v->mem, m->tr, pa, val, what);
}

/* The checker's walk: did it set a leaf's D bit (the cache said it was set)? */
static void d_step(void *ctx, const struct pgt_step *s)
{
	bool *d_set = ctx;
	uint64_t d = s->fmt->family == PGT_X86_FS ? X86_D : SS_D;

	if (s->write && (s->value & ~s->old & d))
		*d_set = true;
}

/* ---- structures --------------------------------------------------------------------------- */

static uint8_t context_check(const struct vtd *v, const uint64_t ce[4])
{
	uint64_t rsvd0 = CE0_RSVD | above_haw(v), rsvd1 = CE1_RSVD;
	unsigned pdts;

	if (!(ce[0] & CE0_P))
		return VTD_FR_CE_NP;
	if (!(v->ecap & ECAP_DT))
		rsvd0 |= CE0_DTE;
	if (!(v->ecap & ECAP_PASID))
		rsvd0 |= CE0_PASIDE;
	if (!(v->ecap & ECAP_PRS))
		rsvd0 |= CE0_PRE;
	if (!(v->ecap & ECAP_RPS))
		rsvd1 |= CE1_RID_PASID;
	if (!(v->ecap & ECAP_RPRIVS))
		rsvd1 |= CE1_RID_PRIV;
	if ((ce[0] & rsvd0) || (ce[1] & rsvd1) || ce[2] || ce[3])
		return VTD_FR_CE_RSVD;
	pdts = (unsigned)FIELD_GET(CE0_PDTS, ce[0]);
	if (FIELD_GET(CE1_RID_PASID, ce[1]) >> (pdts + 13))
		return VTD_FR_CE_INVALID;
	/* The directory (2^(PDTS+7) 8-byte entries) must end below 2^HAW. */
	if ((((ce[0] & CE0_PDTP) + (UINT64_C(8) << (pdts + 7)) - 1) & above_haw(v)))
		return VTD_FR_CE_INVALID;
	return 0;
}

/* Root entry and context entry from memory. */
static uint8_t context_mem(struct vtd *v, struct xmode *m, uint64_t rt, uint16_t sid,
			   struct xres *r)
{
	static const char *const names[4] = { "context[0]", "context[1]", "context[2]",
					      "context[3]" };
	bool hi = sid & 0x80;
	uint64_t re, pa;

	r->ce_read = false;
	r->fpd = false;
	if (!xl_load(v, m, rt + (uint64_t)(sid >> 8) * 16 + (hi ? 8 : 0), &re,
		     hi ? "root-entry.hi" : "root-entry.lo"))
		return VTD_FR_RE_ACCESS;
	if (!(re & RE_P))
		return VTD_FR_RE_NP;
	if (re & (RE_RSVD | above_haw(v)))
		return VTD_FR_RE_RSVD;
	pa = (re & RE_CTP) + (uint64_t)(sid & 0x7f) * 32;
	for (unsigned i = 0; i < 4; i++)
		if (!xl_load(v, m, pa + 8 * i, &r->ce[i], names[i]))
			return VTD_FR_CE_ACCESS;
	r->ce_read = true;
	r->fpd = r->ce[0] & CE0_FPD;         /* read even when P = 0 */
	return context_check(v, r->ce);
}

static HOT uint8_t context_get(struct vtd *v, struct xmode *m, uint64_t rt, uint16_t sid,
			       struct xres *r)
{
	uint64_t tag[HWC_TAG_WORDS] = { sid, 0, 0 }, val[HWC_VAL_WORDS];
	uint64_t h = hwc_hash(sid, CC_SALT);
	uint8_t reason;

	if (m->cached) {
		if (hwc_lookup(v->cc, h, tag, val)) {
			hwc_count_hit(v->cc);
			r->ce[0] = vword(val, 0);
			r->ce[1] = vword(val, 1);
			r->ce_read = true;
			r->cc_hit = true;
			r->fpd = r->ce[0] & CE0_FPD;
			return 0;
		}
		hwc_count_miss(v->cc);
	}
	reason = context_mem(v, m, rt, sid, r);
	if (!reason && m->cached) {
		val[0] = r->ce[0];
		val[1] = r->ce[1];
		val[2] = val[3] = 0;
		hwc_fill(v->cc, h, tag, val, m->gen[G_CC]);
	}
	return reason;
}

static uint8_t pasid_check(const struct vtd *v, const uint64_t pe[8])
{
	uint64_t rsvd0 = PTE0_RSVD | above_haw(v), rsvd1 = PTE1_RSVD;
	uint64_t rsvd2 = PTE2_RSVD | above_haw(v);
	unsigned pgtt;

	if (!(pe[0] & PTE0_P))
		return VTD_FR_PTE_NP;
	if (!(v->ecap & ECAP_SLADS))
		rsvd0 |= PTE0_SLADE;
	if (!(v->ecap & ECAP_SMPWCS))
		rsvd1 |= PTE1_PWSNP;
	if (!(v->ecap & ECAP_SC))
		rsvd1 |= PTE1_PGSNP;
	if (!(v->ecap & ECAP_MTS))
		rsvd1 |= PTE1_MTS_FIELDS;
	if (!(v->ecap & ECAP_SRS))
		rsvd2 |= PTE2_SRE;
	if (!(v->ecap & ECAP_ERS))
		rsvd2 |= PTE2_ERE;
	if (!(v->ecap & ECAP_EAFS))
		rsvd2 |= PTE2_EAFE;
	if ((pe[0] & rsvd0) || (pe[1] & rsvd1) || (pe[2] & rsvd2) || pe[3] || pe[4] || pe[5] ||
	    pe[6] || pe[7])
		return VTD_FR_PTE_RSVD;
	pgtt = (unsigned)FIELD_GET(PTE0_PGTT, pe[0]);
	switch (pgtt) {
	case PGTT_FS:
		if (!(v->ecap & ECAP_FLTS))
			return VTD_FR_PTE_INVALID;
		break;
	case PGTT_SS:
		if (!(v->ecap & ECAP_SLTS))
			return VTD_FR_PTE_INVALID;
		break;
	case PGTT_NESTED:
		if (!(v->ecap & ECAP_NEST))
			return VTD_FR_PTE_INVALID;
		break;
	case PGTT_PT:
		if (!(v->ecap & ECAP_PT))
			return VTD_FR_PTE_INVALID;
		break;
	default:
		return VTD_FR_PTE_INVALID;
	}
	if (pgtt == PGTT_SS || pgtt == PGTT_NESTED) {
		unsigned aw = (unsigned)FIELD_GET(PTE0_AW, pe[0]);

		if (aw < 1 || aw > 3 || !(FIELD_GET(CAP_SAGAW, v->cap) & BIT(aw)))
			return VTD_FR_PTE_INVALID;
	}
	if (pgtt == PGTT_FS || pgtt == PGTT_NESTED) {
		unsigned flpm = (unsigned)FIELD_GET(PTE2_FLPM, pe[2]);

		if (flpm > 1 || (flpm == 1 && !(v->cap & CAP_FL5LP)))
			return VTD_FR_PTE_INVALID;
	}
	return 0;
}

/* PASID-directory entry and PASID-table entry from memory. */
static uint8_t pasid_mem(struct vtd *v, struct xmode *m, uint32_t pasid, struct xres *r)
{
	static const char *const names[8] = {
		"pasid-entry[0]", "pasid-entry[1]", "pasid-entry[2]", "pasid-entry[3]",
		"pasid-entry[4]", "pasid-entry[5]", "pasid-entry[6]", "pasid-entry[7]",
	};
	uint64_t pde, pa;

	r->pe_read = false;
	r->pfpd = false;
	if (!xl_load(v, m, (r->ce[0] & CE0_PDTP) + (uint64_t)(pasid >> 6) * 8, &pde, "pasid-dir"))
		return VTD_FR_PDE_ACCESS;
	r->pfpd = pde & PDE_FPD;
	if (!(pde & PDE_P))
		return VTD_FR_PDE_NP;
	if (pde & (PDE_RSVD | above_haw(v)))
		return VTD_FR_PDE_RSVD;
	pa = (pde & PDE_PTP) + (uint64_t)(pasid & 63) * 64;
	for (unsigned i = 0; i < 8; i++)
		if (!xl_load(v, m, pa + 8 * i, &r->pe[i], names[i]))
			return VTD_FR_PTE_ACCESS;
	r->pe_read = true;
	r->pfpd |= r->pe[0] & PTE0_FPD;
	return pasid_check(v, r->pe);
}

static HOT uint8_t pasid_get(struct vtd *v, struct xmode *m, uint16_t sid, uint32_t pasid,
			     struct xres *r)
{
	uint64_t tag[HWC_TAG_WORDS] = { sid | (uint64_t)pasid << 16, 0, 0 }, val[HWC_VAL_WORDS];
	uint64_t h = hwc_hash(tag[0], PC_SALT);
	uint8_t reason;

	if (m->cached) {
		if (hwc_lookup(v->pc, h, tag, val)) {
			hwc_count_hit(v->pc);
			r->pe[0] = vword(val, 0);
			r->pe[1] = vword(val, 1);
			r->pe[2] = vword(val, 2);
			r->pe_read = true;
			r->pc_hit = true;
			r->pfpd = vword(val, 3) & 1;
			r->fpd |= r->pfpd;
			return 0;
		}
		hwc_count_miss(v->pc);
	}
	reason = pasid_mem(v, m, pasid, r);
	r->fpd |= r->pfpd;
	if (!reason && m->cached) {
		memcpy(val, r->pe, 3 * sizeof(uint64_t));
		val[3] = r->pfpd;
		hwc_fill(v->pc, h, tag, val, m->gen[G_PC]);
	}
	return reason;
}

/* ---- IOTLB --------------------------------------------------------------------------------- */

static inline uint64_t iotlb_t1(uint16_t did, uint32_t pasid, enum kind k, bool priv)
{
	return did | (uint64_t)pasid << 16 | (uint64_t)k << 36 | (uint64_t)priv << 38;
}

static inline uint64_t iotlb_hash(const uint64_t tag[HWC_TAG_WORDS])
{
	return hwc_hash(tag[0] >> 12, tag[1]);
}

/* Probes 4K, then the large sizes ever filled. Returns the size code or -1. */
static inline int iotlb_find(struct vtd *v, uint64_t t1, uint64_t addr, uint64_t val[HWC_VAL_WORDS])
{
	uint64_t tag[HWC_TAG_WORDS] = { addr & ~UINT64_C(0xfff), t1, 0 };
	unsigned sizes;

	if (likely(hwc_lookup(v->iotlb, iotlb_hash(tag), tag, val)))
		return 0;
	sizes = atomic_load_explicit(&v->xl_iotlb_sizes, memory_order_relaxed);
	for (unsigned c = 1; c <= 2; c++) {
		if (!(sizes & BIT(c - 1)))
			continue;
		tag[0] = (addr & ~(BIT(12 + 9 * c) - 1)) | c;
		if (hwc_lookup(v->iotlb, iotlb_hash(tag), tag, val))
			return (int)c;
	}
	return -1;
}

static void iotlb_fill(struct vtd *v, const struct xmode *m, uint64_t t1, uint64_t addr,
		       const struct xres *r)
{
	unsigned c = r->size == BIT(30) ? 2 : r->size == BIT(21) ? 1 : 0;
	uint64_t tag[HWC_TAG_WORDS] = { (addr & ~(r->size - 1)) | c, t1, 0 };
	uint64_t val[HWC_VAL_WORDS] = {
		r->page, r->perm | (r->dirty ? IOTLB_DIRTY : 0), r->gpa, 0,
	};

	if (r->size != BIT(12) && r->size != BIT(21) && r->size != BIT(30))
		return;
	/* The size bit goes first: a lookup that can see the entry probes its size. */
	if (c)
		atomic_fetch_or_explicit(&v->xl_iotlb_sizes, BIT(c - 1), memory_order_relaxed);
	hwc_fill(v->iotlb, iotlb_hash(tag), tag, val, m->gen[G_IOTLB]);
}

/* ---- paging-structure caches (struct pgt_wcache hooks) ----------------------------------- */

struct wctx {
	struct vtd *v;
	const struct xmode *m;
	struct xres *r;         /* records the hits for the checker, or NULL */
	uint16_t did;
	uint32_t pasid;
	bool nested;
	bool fs_on, ss_on, fill;
	bool fs_used, fs_hit, ss_used, ss_hit;
};

static void psc_tag(const struct wctx *w, const struct pgt_fmt *f, bool fs, unsigned h,
		    uint64_t ia, uint64_t tag[HWC_TAG_WORDS])
{
	unsigned rs = f->shift[h] + f->stride;     /* the table maps 2^rs bytes of input */

	tag[0] = rs >= 64 ? 0 : ia & ~(BIT(rs) - 1);
	tag[1] = w->did | (fs ? (uint64_t)w->pasid << 16 : 0) | (uint64_t)h << 36 |
		 (uint64_t)f->levels << 39 | (uint64_t)rs << 42 |
		 (fs && w->nested ? BIT(48) : 0);
	tag[2] = 0;
}

static int psc_lookup(void *ctx, const struct pgt_fmt *f, uint8_t stage, uint64_t ia,
		      uint64_t *table, uint64_t acc[2])
{
	struct wctx *w = ctx;
	bool fs = stage == 1;
	struct hwc *c = fs ? w->v->fspsc : w->v->sspsc;
	uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS];

	if (!(fs ? w->fs_on : w->ss_on))
		return -1;
	*(fs ? &w->fs_used : &w->ss_used) = true;
	/* The deepest table first: it saves the most references. */
	for (unsigned h = 0; h + 1u < f->levels; h++) {
		psc_tag(w, f, fs, h, ia, tag);
		if (hwc_lookup(c, iotlb_hash(tag), tag, val)) {
			*table = val[0];
			acc[0] = val[1];
			acc[1] = val[2];
			*(fs ? &w->fs_hit : &w->ss_hit) = true;
			if (unlikely(w->r) && w->r->npsc < ARRAY_SIZE(w->r->psc))
				w->r->psc[w->r->npsc++] = (struct psc_hit){
					stage, (uint8_t)h, ia, val[0], { val[1], val[2] } };
			return (int)h;
		}
	}
	return -1;
}

static void psc_fill(void *ctx, const struct pgt_fmt *f, uint8_t stage, unsigned height,
		     uint64_t ia, uint64_t table, const uint64_t acc[2])
{
	struct wctx *w = ctx;
	bool fs = stage == 1;
	uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS] = { table, acc[0], acc[1], 0 };

	if (!w->fill || !(fs ? w->fs_on : w->ss_on))
		return;
	psc_tag(w, f, fs, height, ia, tag);
	hwc_fill(fs ? w->v->fspsc : w->v->sspsc, iotlb_hash(tag), tag, val,
		 w->m->gen[fs ? G_FSPSC : G_SSPSC]);
}

/* ---- the walk ------------------------------------------------------------------------------ */

/*
 * Walks rq->addr through the tables of the PASID entry in r for kind (FS, SS or
 * nested) with the given access; psc: bit 0 first-stage, bit 1 second-stage PSC
 * (looked up always when set, filled in cached mode). Sets r's outcome.
 */
static void walk(struct vtd *v, struct xmode *m, const struct req *rq, struct xres *r,
		 unsigned acc, unsigned psc)
{
	const struct pgt_fmt *fs = NULL, *ss = NULL;
	struct pgt_result res;
	struct pgt_trace pt, *ptp = NULL;
	struct pgt_wcache wc;
	struct wctx w = {
		.v = v, .m = m, .r = m->cached && v->cfg.checker ? r : NULL, .did = r->did,
		.pasid = r->pasid, .nested = r->kind == K_NESTED, .fs_on = psc & 1,
		.ss_on = psc & 2, .fill = m->cached,
	};
	uint64_t fsroot = r->pe[2] & PTE2_FLPTPTR, ssroot = r->pe[0] & PTE0_SLPTPTR;
	bool first;

	formats_build(v);
	if (r->kind != K_SS)
		fs = fs_fmt(v, r->pe[2]);
	if (r->kind != K_FS)
		ss = ss_fmt(v, r->pe[0]);
	if ((fs && !fs->levels) || (ss && !ss->levels)) {
		r->reason = VTD_FR_PTE_INVALID;
		return;
	}
	if (m->tr) {
		pt = (struct pgt_trace){ xtrace_pg_step, (void *)m->tr };
		ptp = &pt;
	} else if (m->detect_d) {
		pt = (struct pgt_trace){ d_step, &r->d_set };
		ptp = &pt;
	}
	wc = (struct pgt_wcache){ psc_lookup, psc_fill, &w };
	r->d_set = false;
	r->npsc = 0;
	if (r->kind == K_SS)
		pgt_walk_wc(ss, view(v, m), ssroot, rq->addr, acc, &res, ptp, psc ? &wc : NULL);
	else if (r->kind == K_FS)
		pgt_walk_wc(fs, view(v, m), fsroot, rq->addr, acc, &res, ptp, psc ? &wc : NULL);
	else
		pgt_walk_nested_wc(fs, fsroot, ss, ssroot, view(v, m), rq->addr, acc, &res, ptp,
				   psc ? &wc : NULL);
	first = !r->walked;
	r->walked = true;
	r->fs_psc_hit |= w.fs_hit;
	r->ss_psc_hit |= w.ss_hit;
	if (m->count) {
		pcounter_add(&v->walks, 1);
		pcounter_add(&v->walk_refs, res.refs);
	}
	/* One count per request: an ATS write walked again for reading counts once. */
	if (m->cached && first) {
		if (w.fs_used)
			w.fs_hit ? hwc_count_hit(v->fspsc) : hwc_count_miss(v->fspsc);
		if (w.ss_used)
			w.ss_hit ? hwc_count_hit(v->sspsc) : hwc_count_miss(v->sspsc);
	}
	if (!res.ok) {
		r->reason = (uint8_t)res.fault.code;
		r->walk_fault = true;
		r->wreason = res.fault.reason;
		return;
	}
	r->reason = 0;
	r->size = res.page_size;
	r->page = res.oa & ~(res.page_size - 1);
	r->perm = res.perm;
	r->gpa = 0;
	r->dirty = true;
	if (fs)
		r->dirty = res.leaf[0] & X86_D;
	if (ss && (ss->flags & PGT_CFG_AD))
		r->dirty = r->dirty && (res.leaf[1] & SS_D);
	if (r->kind == K_NESTED) {
		uint64_t fsize = BIT(12 + 9 * (res.leaf_level[0] - 1));
		uint64_t gpa = (res.leaf[0] & X86_ADDR & ~(fsize - 1)) | (rq->addr & (fsize - 1));

		r->gpa = gpa & ~(r->size - 1);
	}
}

/* ---- resolution ---------------------------------------------------------------------------- */

static void outcome_fault(struct xres *r, uint8_t reason)
{
	r->reason = reason;
	r->walk_fault = false;
}

/* Untranslated: output = input, one 4K page, everything allowed. */
static void outcome_bypass(struct xres *r, const struct req *rq)
{
	r->reason = 0;
	r->kind = K_NONE;
	r->page = rq->addr & ~UINT64_C(0xfff);
	r->size = 4096;
	r->perm = IOTLB_PERM;
	r->dirty = true;
	r->priv = rq->priv;
}

/* The latched translation state: 0, or the fault of the root-table address / mode. */
static HOT uint8_t root_state(struct vtd *v, const struct req *rq, bool page_request,
			      struct xres *r, uint64_t *rt)
{
	unsigned ttm = atomic_load_explicit(&v->ttm, memory_order_acquire);
	uint64_t rta = atomic_load_explicit(&v->rta, memory_order_acquire);

	r->ttm = ttm;
	r->rta = rta;
	*rt = rta & RTADDR_RTA;
	if (ttm == TTM_LEGACY)
		return page_request ? VTD_FR_LEGACY_PRQ : rq->pp ? VTD_FR_LEGACY_PASID
								 : VTD_FR_RTA_INVALID;
	if (ttm != TTM_SCALABLE || !(v->ecap & ECAP_SMTS))
		return VTD_FR_RTA_INVALID;
	if ((rta & GENMASK(9, 0)) || (*rt & above_haw(v)))
		return VTD_FR_RTA_INVALID;
	return 0;
}

/*
 * Context entry, request checks, PASID entry: 0 or a fault (with r->fpd). Sets
 * r->pasid and r->priv. Shared by translations and page requests.
 */
static HOT uint8_t structures(struct vtd *v, struct xmode *m, const struct req *rq,
			      uint64_t rt, bool page_request, struct xres *r)
{
	uint8_t reason = context_get(v, m, rt, rq->sid, r);
	unsigned pdts;

	if (reason)
		return reason;
	if (!page_request && rq->at != DEV_AT_UNTRANSLATED && !(r->ce[0] & CE0_DTE))
		return VTD_FR_CE_DTE;
	if (!page_request && rq->at == DEV_AT_TRANSLATED)
		return 0;
	pdts = (unsigned)FIELD_GET(CE0_PDTS, r->ce[0]);
	if (rq->pp) {
		if (!(r->ce[0] & CE0_PASIDE))
			return VTD_FR_CE_PASIDE;
		if (rq->pasid >> (pdts + 13))
			return VTD_FR_CE_PASID_RANGE;
		r->pasid = rq->pasid;
		r->priv = rq->priv;
	} else {
		r->pasid = (uint32_t)FIELD_GET(CE1_RID_PASID, r->ce[1]);
		r->priv = (v->ecap & ECAP_RPRIVS) && (r->ce[1] & CE1_RID_PRIV);
	}
	return pasid_get(v, m, rq->sid, r->pasid, r);
}

static enum kind kind_of(uint64_t pe0)
{
	switch (FIELD_GET(PTE0_PGTT, pe0)) {
	case PGTT_FS: return K_FS;
	case PGTT_SS: return K_SS;
	case PGTT_NESTED: return K_NESTED;
	default: return K_PT;
	}
}

static inline bool in_intr_range(uint64_t pa)
{
	return (pa & ~UINT64_C(0xfffff)) == INTR_BASE;
}

/* The outcome's output address for rq (after the translation succeeded). */
static inline uint64_t out_addr(const struct xres *r, const struct req *rq)
{
	return r->page + (rq->addr & (r->size - 1));
}

/*
 * Resolves rq: sets r's outcome (reason 0 or a fault reason, r->fpd for it).
 * Records nothing: the caller does, once it knows which resolution it serves.
 */
static HOT void resolve(struct vtd *v, struct xmode *m, const struct req *rq, struct xres *r)
{
	uint64_t rt, t1, val[HWC_VAL_WORDS];
	unsigned need, acc;
	bool ats = rq->at == DEV_AT_TRANS_REQ;
	uint8_t reason;
	int c;

	r->cc_hit = r->pc_hit = r->iotlb_hit = r->walked = false;
	r->fs_psc_hit = r->ss_psc_hit = r->d_set = false;
	r->npsc = 0;
	r->ce_read = r->pe_read = false;
	r->fpd = r->pfpd = false;
	r->walk_fault = false;
	r->kind = K_NONE;
	r->did = 0;
	r->pasid = 0;
	r->priv = false;
	r->gpa = 0;

	if (!atomic_load_explicit(&v->te, memory_order_acquire)) {
		outcome_bypass(r, rq);
		return;
	}
	reason = root_state(v, rq, false, r, &rt);
	if (!reason)
		reason = structures(v, m, rq, rt, false, r);
	if (reason) {
		outcome_fault(r, reason);
		return;
	}
	if (rq->at == DEV_AT_TRANSLATED) {
		outcome_bypass(r, rq);
		return;
	}
	if (r->priv && !(r->pe[2] & PTE2_SRE)) {
		outcome_fault(r, VTD_FR_PTE_SRE);
		return;
	}
	if (rq->exec && !(r->pe[2] & PTE2_ERE)) {
		outcome_fault(r, VTD_FR_PTE_ERE);
		return;
	}
	r->kind = kind_of(r->pe[0]);
	r->did = (uint16_t)FIELD_GET(PTE1_DID, r->pe[1]);

	/* IOTLB. */
	need = rq->write ? PGT_PERM_W : (rq->exec && !ats) ? PGT_PERM_X : PGT_PERM_R;
	t1 = iotlb_t1(r->did, r->pasid, r->kind,
		      (r->kind == K_FS || r->kind == K_NESTED) && r->priv);
	if (m->cached) {
		c = iotlb_find(v, t1, rq->addr, val);
		if (c >= 0 && (vword(val, 1) & need) == need &&
		    (!rq->write || (vword(val, 1) & IOTLB_DIRTY))) {
			hwc_count_hit(v->iotlb);
			r->iotlb_hit = true;
			r->reason = 0;
			r->size = BIT(12 + 9 * c);
			r->page = vword(val, 0);
			r->perm = vword(val, 1) & IOTLB_PERM;
			r->dirty = vword(val, 1) & IOTLB_DIRTY;
			r->gpa = vword(val, 2);
			if (unlikely(in_intr_range(out_addr(r, rq))) && (!rq->pp || r->kind == K_PT))
				outcome_fault(r, VTD_FR_INTR_RANGE);
			return;
		}
		hwc_count_miss(v->iotlb);
	}

	if (r->kind == K_PT) {
		bool priv = r->priv;

		if (rq->addr & above_haw(v)) {
			outcome_fault(r, VTD_FR_HAW);
			return;
		}
		outcome_bypass(r, rq);
		r->kind = K_PT;
		r->priv = priv;
	} else {
		acc = rq->write ? PGT_ACC_WRITE : (rq->exec && !ats) ? PGT_ACC_EXEC : 0;
		if (r->kind != K_SS && !r->priv)
			acc |= PGT_ACC_USER;
		if (r->kind == K_SS) {
			/* Input beyond min(MGAW, AGAW): the walker checks the AGAW only. */
			if (rq->addr & above_haw(v)) {
				outcome_fault(r, VTD_FR_SS_INPUT_WIDTH);
				return;
			}
		}
		walk(v, m, rq, r, acc, m->cached ? 3 : 0);
		/* ATS: a write denied write permission gets the read-only translation. */
		if (ats && rq->write && r->reason && r->walk_fault &&
		    r->wreason == PGT_FAULT_PERMISSION)
			walk(v, m, rq, r, acc & ~PGT_ACC_WRITE, m->cached ? 3 : 0);
		if (r->reason)
			return;
	}
	if ((!rq->pp || r->kind == K_PT) && in_intr_range(out_addr(r, rq))) {
		outcome_fault(r, VTD_FR_INTR_RANGE);
		return;
	}
	if (m->cached)
		iotlb_fill(v, m, t1, rq->addr, r);
}

/* ---- coherence checker --------------------------------------------------------------------- */

static void sid_name(uint16_t sid, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x.%x", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
}

static uint64_t outcome_word(const struct xres *r, const struct req *rq)
{
	return r->reason ? 0 : (out_addr(r, rq) & ~UINT64_C(0xfff)) | r->perm;
}

static bool outcome_equal(const struct xres *a, const struct xres *b)
{
	if (a->reason != b->reason)
		return false;
	if (a->reason)
		return true;
	return a->page == b->page && a->size == b->size && a->perm == b->perm;
}

/* The invalidation descriptors a stale entry names (facts §4.2). */
static void missing_iotlb(char *msg, size_t len, uint16_t did, uint64_t addr, bool psc)
{
	snprintf(msg, len, "IOTLB invalidation (0x2, page-selective, DID %u, addr 0x%" PRIx64 ")%s",
		 did, addr & ~UINT64_C(0xfff), psc ? " without IH" : "");
}

static void missing_piotlb(char *msg, size_t len, uint16_t did, uint32_t pasid, uint64_t addr,
			   bool psc)
{
	snprintf(msg, len, "PASID-based IOTLB invalidation (0x6, DID %u, PASID 0x%x, addr 0x%"
		 PRIx64 ")%s", did, pasid, addr & ~UINT64_C(0xfff), psc ? " without IH" : "");
}

static void report(struct vtd *v, const struct xmode *m, unsigned g, const struct vtd_stale *s)
{
	/* An invalidation of this cache ran meanwhile: the difference may be the legal
	 * window between a table update and its invalidation. Served fresh, unreported. */
	if (hwc_gen(g == G_CC ? v->cc : g == G_PC ? v->pc : g == G_IOTLB ? v->iotlb :
		    g == G_FSPSC ? v->fspsc : v->sspsc) != m->gen[g])
		return;
	atomic_fetch_add(&v->stale_hits, 1);
	if (v->stale_cb)
		v->stale_cb(v->stale_ctx, s);
}

/* A walk from memory that notes the table the walker passes at one stage and
 * height on the way to an address: what a paging-structure-cache entry for it
 * should hold. */
struct verify {
	uint8_t stage, height;
	bool found;
	uint64_t table, acc[2];
};

static int verify_lookup(void *ctx, const struct pgt_fmt *f, uint8_t stage, uint64_t ia,
			 uint64_t *table, uint64_t acc[2])
{
	return -1;
}

static void verify_fill(void *ctx, const struct pgt_fmt *f, uint8_t stage, unsigned height,
			uint64_t ia, uint64_t table, const uint64_t acc[2])
{
	struct verify *c = ctx;

	if (stage == c->stage && height == c->height) {
		c->found = true;
		c->table = table;
		c->acc[0] = acc[0];
		c->acc[1] = acc[1];
	}
}

/* Does the paging-structure-cache hit h agree with memory? (*fresh: the table
 * memory gives at that height, 0 if the walk does not get there.) */
static bool psc_hit_ok(struct vtd *v, struct xmode *m, const struct xres *r,
		       const struct psc_hit *h, uint64_t *fresh)
{
	struct verify c = { .stage = h->stage, .height = h->height };
	struct pgt_wcache wc = { verify_lookup, verify_fill, &c };
	uint64_t fsroot = r->pe[2] & PTE2_FLPTPTR, ssroot = r->pe[0] & PTE0_SLPTPTR;
	struct pgt_result res;

	if (h->stage == 2)
		pgt_walk_wc(ss_fmt(v, r->pe[0]), view(v, m), ssroot, h->ia, 0, &res, NULL, &wc);
	else if (r->kind == K_FS)
		pgt_walk_wc(fs_fmt(v, r->pe[2]), view(v, m), fsroot, h->ia, 0, &res, NULL, &wc);
	else
		pgt_walk_nested_wc(fs_fmt(v, r->pe[2]), fsroot, ss_fmt(v, r->pe[0]), ssroot,
				   view(v, m), h->ia, 0, &res, NULL, &wc);
	*fresh = c.found ? c.table : 0;
	return c.found && c.table == h->table && c.acc[0] == h->acc[0] && c.acc[1] == h->acc[1];
}

/*
 * r hit at least one cache: resolve rq from memory alone, report the first layer
 * that differs, and serve the fresh resolution if any does.
 */
static void check(struct vtd *v, struct xmode *m, const struct req *rq, struct xres *r)
{
	struct xmode fm = { .cached = false, .count = false, .detect_d = true, .view = m->view };
	struct xres f;
	char sid[16], msg[160];
	struct vtd_stale s = { .sid = rq->sid, .pasid = r->pasid, .did = r->did, .addr = rq->addr,
			       .missing = msg };
	bool stale = false;
	unsigned g = G_CC;

	resolve(v, &fm, rq, &f);
	sid_name(rq->sid, sid, sizeof(sid));
	if (r->cc_hit) {
		bool ok = f.ce_read && !(f.reason >= 0x38 && f.reason <= 0x43) &&
			  f.ce[0] == r->ce[0] && f.ce[1] == r->ce[1];

		if (!ok) {
			bool w1 = f.ce_read && f.ce[0] == r->ce[0];

			s.cache = "context";
			s.pasid = 0;
			s.did = 0;
			s.cached = r->ce[w1 ? 1 : 0];
			s.fresh = f.ce_read ? f.ce[w1 ? 1 : 0] : 0;
			snprintf(msg, sizeof(msg),
				 "context-cache invalidation (0x1, device-selective, SID %s)", sid);
			stale = true;
			g = G_CC;
			goto out;
		}
	}
	if (r->pc_hit) {
		bool ok = f.pe_read && !(f.reason >= 0x50 && f.reason <= 0x5b) &&
			  !memcmp(f.pe, r->pe, 3 * sizeof(uint64_t)) && f.pfpd == r->pfpd;

		if (!ok) {
			unsigned w = 0;

			while (w < 2 && f.pe_read && f.pe[w] == r->pe[w])
				w++;
			s.cache = "pasid";
			s.did = (uint16_t)FIELD_GET(PTE1_DID, r->pe[1]);
			s.cached = r->pe[w];
			s.fresh = f.pe_read ? f.pe[w] : 0;
			snprintf(msg, sizeof(msg), "PASID-cache invalidation (0x7, PASID-selective, "
				 "DID %u, PASID 0x%x)", s.did, r->pasid);
			stale = true;
			g = G_PC;
			goto out;
		}
	}
	if (r->iotlb_hit) {
		if (!outcome_equal(r, &f) || (rq->write && f.d_set)) {
			uint64_t base = rq->addr & ~(r->size - 1);

			s.cache = "iotlb";
			s.cached = outcome_word(r, rq);
			s.fresh = outcome_word(&f, rq);
			if (r->kind == K_SS)
				missing_iotlb(msg, sizeof(msg), r->did, base, false);
			else if (r->kind == K_NESTED && !f.reason && f.gpa == r->gpa)
				/* The guest's stage still gives the same GPA: stage 2 moved. */
				missing_iotlb(msg, sizeof(msg), r->did, r->gpa, false);
			else
				missing_piotlb(msg, sizeof(msg), r->did, r->pasid, base, false);
			stale = true;
			g = G_IOTLB;
		}
		goto out;
	}
	/* A walk that started from paging-structure-cache entries: each entry used
	 * against the table memory gives at its height (a leaf changing meanwhile is
	 * not the PSC's business). */
	for (unsigned i = 0; r->walked && i < r->npsc; i++) {
		const struct psc_hit *h = &r->psc[i];
		uint64_t fresh;

		if (psc_hit_ok(v, &fm, r, h, &fresh))
			continue;
		s.addr = h->ia;
		s.cached = h->table;
		s.fresh = fresh;
		if (h->stage == 1) {
			s.cache = "fs-psc";
			missing_piotlb(msg, sizeof(msg), r->did, r->pasid, h->ia, true);
			g = G_FSPSC;
		} else {
			s.cache = "ss-psc";
			missing_iotlb(msg, sizeof(msg), r->did, h->ia, true);
			g = G_SSPSC;
		}
		stale = true;
		break;
	}
out:
	if (!stale)
		return;
	report(v, m, g, &s);
	*r = f;
}

/* ---- answers ------------------------------------------------------------------------------- */

static HOT void req_from_txn(struct req *rq, const struct dev_txn *t)
{
	rq->sid = t->rid;
	rq->pp = t->pasid_valid;
	rq->pasid = t->pasid_valid ? t->pasid : 0;
	rq->priv = t->pasid_valid && t->priv;
	/* Execute-requested is a read attribute (PCIe); a write never carries it. */
	rq->exec = t->pasid_valid && t->exec && !t->write;
	rq->write = t->write;
	rq->at = (uint8_t)t->at;
	rq->addr = t->addr;
}

static void record(struct vtd *v, const struct req *rq, uint8_t reason, bool fpd,
		   bool page_request)
{
	struct vtd_fault f = {
		.reason = reason,
		.sid = rq->sid,
		.addr = rq->addr & ~UINT64_C(0xfff),
		.pasid_present = rq->pp,
		.pasid = rq->pp ? rq->pasid : 0,
		.priv = rq->priv,
		.exec = rq->exec,
		.write = rq->write,
		.page_request = page_request,
		.at = rq->at,
		.fpd = fpd,
	};

	if (v->xl_fault_tap)
		v->xl_fault_tap(v->xl_fault_tap_ctx, &f);
	vtd_record_fault(v, &f);
}

static HOT void finish(struct vtd *v, const struct req *rq, const struct xres *r,
		       struct dev_xlate *x)
{
	x->page_base = rq->addr & ~UINT64_C(0xfff);
	x->size = 4096;
	if (!r->reason) {
		x->status = DEV_XLATE_OK;
		x->size = r->size;
		x->page_base = rq->addr & ~(r->size - 1);
		x->pa = out_addr(r, rq);
		x->r = r->perm & PGT_PERM_R;
		x->w = r->perm & PGT_PERM_W;
		x->x = r->perm & PGT_PERM_X;
		x->priv = r->priv;
		x->fault_reason = 0;
		return;
	}
	x->pa = 0;
	x->r = x->w = x->x = x->priv = false;
	x->fault_reason = r->reason;
	if (rq->at == DEV_AT_TRANS_REQ && r->walk_fault &&
	    (r->wreason == PGT_FAULT_NOT_PRESENT || r->wreason == PGT_FAULT_PERMISSION)) {
		/* The completion says R = W = 0; the device may ask for the page (PRI). */
		x->status = DEV_XLATE_NO_ACCESS;
		return;
	}
	record(v, rq, r->reason, r->fpd, false);
	x->status = rq->at == DEV_AT_TRANS_REQ ? DEV_XLATE_UR : DEV_XLATE_FAULT;
}

/* ---- front cache (hw/front.h) ----------------------------------------------------------------
 *
 * A request whose context, PASID and IOTLB lookups all hit costs three seqlocked
 * probes; hw/front.h remembers, per thread, the whole answer of such a request.
 *
 * Why not let the IOTLB itself answer in one probe, keyed by the request, with the
 * DID, PGTT and other context/PASID facts in its value (invalidations could still
 * match them)? Hardware tags the IOTLB by DID and PASID and finds them through its
 * context and PASID caches on every request, and a request-keyed IOTLB would not
 * show the same staleness:
 *  - Between a context-cache invalidation and the domain-selective IOTLB
 *    invalidation that must follow it (spec 6.5.3.3, facts §4.3), hardware reads
 *    the new context entry: a function being detached (P = 0) faults 0x41 at
 *    once, one moved to another PASID directory translates through the new
 *    PASID entry and DID. A request-keyed IOTLB would go on answering from the
 *    old translation until the IOTLB invalidation: it would hide the context-cache
 *    invalidation. Likewise a PASID entry torn down faults 0x59 as soon as the
 *    PASID cache is invalidated, before the PASID-based IOTLB invalidation.
 *  - Hardware shares an IOTLB entry among all requesters that reach the same DID
 *    and PASID (functions of one domain, RID_PASID and an explicit PASID 0): an
 *    entry filled through one serves the others, stale if their tables changed
 *    without an invalidation, and the checker reports it. Keyed by SID, the other
 *    requester would walk and see fresh tables: staleness that hardware shows
 *    would be hidden, and occupancy, evictions and hit rates would differ.
 * So the caches keep the spec's tags and the front cache only remembers what they
 * answered, for exactly as long as they would answer it again (hw/front.h).
 */

static HOT void mode_begin(struct vtd *v, struct xmode *m)
{
	m->gen[G_CC] = hwc_gen(v->cc);
	m->gen[G_PC] = hwc_gen(v->pc);
	m->gen[G_IOTLB] = hwc_gen(v->iotlb);
	m->gen[G_FSPSC] = hwc_gen(v->fspsc);
	m->gen[G_SSPSC] = hwc_gen(v->sspsc);
}

/* The full path (out of line: the front path is a leaf without its frame). */
static __attribute__((noinline)) void translate_full(struct vtd *v, const struct dev_txn *t,
						     struct dev_xlate *x)
{
	/* Before any lookup (acquire: no lookup moves above it): see the front cache. */
	uint64_t ver = xfront_version(&v->xl_front);
	struct xview view;
	struct xmode m;
	struct req rq;
	struct xres r;

	pcounter_add(&v->translations, 1);
	view.open = false;
	m.cached = true;
	m.count = true;
	m.detect_d = false;
	m.tr = NULL;
	m.view = &view;
	mode_begin(v, &m);
	req_from_txn(&rq, t);
	resolve(v, &m, &rq, &r);
	if (unlikely(v->cfg.checker)) {
		if (r.cc_hit || r.pc_hit || r.iotlb_hit || r.fs_psc_hit || r.ss_psc_hit)
			check(v, &m, &rq, &r);
	}
	xview_end(&view);
	finish(v, &rq, &r, x);
	if (!v->cfg.checker && r.iotlb_hit && r.cc_hit && r.pc_hit && !r.reason &&
	    x->status == DEV_XLATE_OK)
		xfront_fill(&v->xl_front, ver, t, x);
}

void vtd_translate(struct vtd *v, const struct dev_txn *t, struct dev_xlate *x)
{
	if (xfront_translate(&v->xl_front, t, x))
		return;
	translate_full(v, t, x);
}

void vtd_translate_trace(struct vtd *v, const struct dev_txn *t, struct dev_xlate *x,
			 void (*step)(void *ctx, const char *what, uint64_t pa, uint64_t val,
				      const struct pgt_step *pgs),
			 void *ctx)
{
	struct xtrace tr = { step, ctx };
	struct xview view = { .open = false };
	struct xmode m = { .cached = false, .count = true, .tr = &tr, .view = &view };
	struct req rq;
	struct xres r;

	pcounter_add(&v->translations, 1);
	req_from_txn(&rq, t);
	resolve(v, &m, &rq, &r);
	xview_end(&view);
	finish(v, &rq, &r, x);
}

/* ---- page requests ------------------------------------------------------------------------- */

int vtd_page_request(struct vtd *v, const struct dev_page_req *pr)
{
	struct xview view = { .open = false };
	struct xmode m = { .cached = true, .count = false, .view = &view };
	struct req rq = {
		.sid = pr->rid, .pp = pr->pasid_valid, .pasid = pr->pasid_valid ? pr->pasid : 0,
		.priv = pr->pasid_valid && pr->priv, .exec = pr->pasid_valid && pr->exec,
		.write = pr->write, .at = DEV_AT_UNTRANSLATED, .addr = pr->addr,
	};
	struct dev_ep *ep;
	struct xres r;
	uint64_t rt;
	uint8_t reason = 0;
	bool dropped = false;
	int ret;

	mode_begin(v, &m);
	r.fpd = false;
	r.cc_hit = r.pc_hit = false;
	if (!atomic_load_explicit(&v->te, memory_order_acquire)) {
		dropped = true;                 /* no translation, no page requests */
	} else {
		reason = root_state(v, &rq, true, &r, &rt);
		if (!reason)
			reason = structures(v, &m, &rq, rt, true, &r);
		if (!reason && !(r.ce[0] & CE0_PRE))
			reason = VTD_FR_CE_PRE;
	}
	xview_end(&view);
	if (reason) {
		record(v, &rq, reason, r.fpd, true);
		dropped = true;
	}
	ep = vtd_endpoint(v, pr->rid);
	if (dropped) {
		if (pr->last && ep)
			dev_ep_page_response(ep, pr->pasid_valid, pr->pasid, pr->prgi,
					     DEV_PRG_INVALID);
		return -EINVAL;
	}
	vtd_lock(v);
	ret = vtd_prq_write_locked(v, pr);
	vtd_unlock(v);
	/* Dropped by a full queue: the unit answers the group itself (Success, so the
	 * device retries; unconfirmed, see the facts §5). */
	if (ret == -ENOSPC && pr->last && ep)
		dev_ep_page_response(ep, pr->pasid_valid, pr->pasid, pr->prgi, DEV_PRG_SUCCESS);
	return ret;
}

/* ---- invalidation primitives ------------------------------------------------------------- */

struct inv {
	uint16_t did, sid_mask, sid;
	uint32_t pasid;
	uint64_t first, last;   /* inclusive input range */
};

static inline bool overlaps(uint64_t base, unsigned shift, const struct inv *q)
{
	uint64_t end = shift >= 64 ? UINT64_MAX : base + (BIT(shift) - 1);

	return base <= q->last && q->first <= end;
}

static void inv_range(struct inv *q, uint64_t addr, unsigned am)
{
	if (12 + am >= 64) {
		q->first = 0;
		q->last = UINT64_MAX;
		return;
	}
	q->first = addr & ~(BIT(12 + am) - 1);
	q->last = q->first + (BIT(12 + am) - 1);
}

static inline uint16_t tag_did(const uint64_t tag[HWC_TAG_WORDS])
{
	return (uint16_t)tag[1];
}

static inline uint32_t tag_pasid(const uint64_t tag[HWC_TAG_WORDS])
{
	return (uint32_t)((tag[1] >> 16) & 0xfffff);
}

static inline enum kind iotlb_kind(const uint64_t tag[HWC_TAG_WORDS])
{
	return (enum kind)((tag[1] >> 36) & 3);
}

static inline unsigned iotlb_shift(const uint64_t tag[HWC_TAG_WORDS])
{
	return 12 + 9 * (unsigned)(tag[0] & 3);
}

static inline unsigned psc_shift(const uint64_t tag[HWC_TAG_WORDS])
{
	return (unsigned)((tag[1] >> 42) & 63);
}

static bool m_cc_sid(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
		     const void *ctx)
{
	const struct inv *q = ctx;

	return ((uint16_t)tag[0] & q->sid_mask) == (q->sid & q->sid_mask);
}

unsigned vtd_inv_context(struct vtd *v, bool global, uint16_t sid, unsigned fm)
{
	/* FM masks function bits of the SID: 01 bit 2, 10 bits 2:1, 11 bits 2:0. */
	static const uint16_t fmask[4] = { 0, 0x4, 0x6, 0x7 };
	struct inv q = { .sid = sid, .sid_mask = (uint16_t)~fmask[fm & 3] };

	if (global)
		return hwc_invalidate_all(v->cc);
	return hwc_invalidate(v->cc, m_cc_sid, &q);
}

static bool m_pc_did(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
		     const void *ctx)
{
	const struct inv *q = ctx;

	return FIELD_GET(PTE1_DID, val[1]) == q->did;
}

static bool m_pc_pasid(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
		       const void *ctx)
{
	const struct inv *q = ctx;

	return FIELD_GET(PTE1_DID, val[1]) == q->did && (tag[0] >> 16) == q->pasid;
}

unsigned vtd_inv_pasid_cache(struct vtd *v, enum vtd_pc_gran g, uint16_t did, uint32_t pasid)
{
	struct inv q = { .did = did, .pasid = pasid };

	switch (g) {
	case VTD_PC_GLOBAL:
		return hwc_invalidate_all(v->pc);
	case VTD_PC_DOMAIN:
		return hwc_invalidate(v->pc, m_pc_did, &q);
	default:
		return hwc_invalidate(v->pc, m_pc_pasid, &q);
	}
}

/* IOTLB and PSC entries of a domain (tag layouts agree on the DID field). */
static bool m_did(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
		  const void *ctx)
{
	const struct inv *q = ctx;

	return tag_did(tag) == q->did;
}

/* Type 2 page-selective: second-stage (and pass-through) entries in the range, every
 * first-stage and nested entry of the domain. */
static bool m_iotlb_page(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
			 const void *ctx)
{
	const struct inv *q = ctx;
	enum kind k = iotlb_kind(tag);

	if (tag_did(tag) != q->did)
		return false;
	if (k == K_FS || k == K_NESTED)
		return true;
	return overlaps(tag[0] & ~UINT64_C(0xfff), iotlb_shift(tag), q);
}

static bool m_psc_range(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
			const void *ctx)
{
	const struct inv *q = ctx;

	return tag_did(tag) == q->did && overlaps(tag[0], psc_shift(tag), q);
}

unsigned vtd_inv_iotlb(struct vtd *v, enum vtd_iotlb_gran g, uint16_t did, uint64_t addr,
		       unsigned am, bool ih)
{
	struct inv q = { .did = did };
	unsigned n;

	switch (g) {
	case VTD_IOTLB_GLOBAL:
		n = hwc_invalidate_all(v->iotlb);
		n += hwc_invalidate_all(v->fspsc);
		return n + hwc_invalidate_all(v->sspsc);
	case VTD_IOTLB_DOMAIN:
		n = hwc_invalidate(v->iotlb, m_did, &q);
		n += hwc_invalidate(v->fspsc, m_did, &q);
		return n + hwc_invalidate(v->sspsc, m_did, &q);
	default:
		inv_range(&q, addr, am);
		n = hwc_invalidate(v->iotlb, m_iotlb_page, &q);
		if (!ih) {
			n += hwc_invalidate(v->sspsc, m_psc_range, &q);
			n += hwc_invalidate(v->fspsc, m_did, &q);
		}
		return n;
	}
}

/* Type 6: first-stage, nested and pass-through entries of (DID, PASID), all or in
 * the range; never second-stage-only entries. */
static bool m_piotlb(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
		     const void *ctx)
{
	const struct inv *q = ctx;

	if (tag_did(tag) != q->did || tag_pasid(tag) != q->pasid || iotlb_kind(tag) == K_SS)
		return false;
	return overlaps(tag[0] & ~UINT64_C(0xfff), iotlb_shift(tag), q);
}

static bool m_fspsc(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
		    const void *ctx)
{
	const struct inv *q = ctx;

	return tag_did(tag) == q->did && tag_pasid(tag) == q->pasid &&
	       overlaps(tag[0], psc_shift(tag), q);
}

unsigned vtd_inv_piotlb(struct vtd *v, bool page, uint16_t did, uint32_t pasid, uint64_t addr,
			unsigned am, bool ih)
{
	struct inv q = { .did = did, .pasid = pasid, .first = 0, .last = UINT64_MAX };
	unsigned n;

	if (page)
		inv_range(&q, addr, am);
	n = hwc_invalidate(v->iotlb, m_piotlb, &q);
	if (!page || !ih)
		n += hwc_invalidate(v->fspsc, m_fspsc, &q);
	return n;
}

void vtd_inv_all(struct vtd *v)
{
	hwc_invalidate_all(v->cc);
	hwc_invalidate_all(v->pc);
	hwc_invalidate_all(v->iotlb);
	hwc_invalidate_all(v->fspsc);
	hwc_invalidate_all(v->sspsc);
}
