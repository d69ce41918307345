/* tests/test_vtd_dma.c — end-to-end DMA: a PCIe endpoint (dev/) attached to the
 * VT-d unit (vtd_attach), the unit programmed as a driver programs it (root,
 * scalable-mode context, PASID directory and PASID table entries in memory;
 * RTADDR, SRTP, IQA, QIE and TE through the registers; invalidations through the
 * invalidation queue), and dev_dma() moving bytes through it, for every PGTT:
 *
 *   ss-rid     second stage only, 4 levels, requests without PASID (RID_PASID 7)
 *   ss-pasid   second stage only, 3 levels, requests with PASID 1
 *   fs4        first stage only, 4 levels (PASID 2)
 *   fs5        first stage only, 5 levels (PASID 3)
 *   nested     a guest's first stage in guest-physical memory over a host second
 *              stage (PASID 4)
 *   pt         pass-through (PASID 5)
 *
 * each once with ATS disabled (untranslated DMA) and once with ATS enabled
 * (translation requests, the device TLB, translated DMA). Each run:
 *   1. writes 0x3400 bytes of a pattern from page p0 + 0x600 to p3 + 0xa00 (four
 *      IOVA pages mapped to non-contiguous, out-of-order host pages), checks every
 *      byte at the host physical addresses derived below and that nothing else in
 *      RAM changed, and the A/D bits the walk set (first stage);
 *   2. reads the range back by DMA;
 *   3. writes 0x1000 bytes from p4 + 0x800 into p5, which is not mapped: the DMA
 *      stops at p5 with DEV_DMA_FAULT after 0x800 bytes; the fault is in FSTS/FRCD
 *      (untranslated), or the translation completes with R = W = 0 and nothing is
 *      recorded (ATS; pass-through's interrupt-range block is recorded either way);
 *   4. writes to the read-only page p6: refused, host memory unchanged;
 *   5. remaps p1 to a new host page and invalidates as a driver does: with ATS,
 *      the IOTLB invalidation alone leaves the device TLB's translation in use
 *      (the DMA still lands on the old page: PCIe/VT-d allow the device to cache
 *      until a device-TLB invalidation), then the device-TLB invalidation makes it
 *      land on the new one;
 *   6. reads the whole range back.
 * The unit's and the endpoint's counters are checked after every DMA.
 *
 * Expected values are worked by hand from docs/facts/vtd-structures.md (§1.5
 * GCMD, §1.10-1.11 fault recording, §2 structures, §3 RID_PASID, §4 descriptors
 * and what software must invalidate, §6 what is recorded) and vtd-paging.md
 * (entry layouts, A/D, access rights, fault reasons 0x70-0x87). Each table entry
 * is written with the index arithmetic that places it; each golden host address
 * is the entry value it comes from. No expected value is taken from the code.
 *
 * Memory: 16 MiB of RAM at 0; tables below 1 MiB, data pages above.
 *   0x10000  root table: bus 0 LP -> 0x11000
 *   0x11000  context table; 00:03.0 (devfn 0x18) at 0x11300
 *   0x12000  PASID directory (PDTS 0: 128 entries), entry 0 -> 0x13000
 *   0x13000  PASID table for PASIDs 0-63, entry p at 0x13000 + p * 64
 *   0x20000  ss-rid second stage (SL-PML4, SL-PDP 0x21000, SL-PD 0x22000, SL-PT 0x23000)
 *   0x30000  ss-pasid second stage, 3 levels (SL-PDP, SL-PD 0x31000, SL-PT 0x32000)
 *   0x40000  fs4 (PML4, PDPT 0x41000, PD 0x42000, PT 0x43000)
 *   0x50000  fs5 (PML5, PML4 0x51000, PDPT 0x52000, PD 0x53000, PT 0x54000)
 *   0x60000  nested: host second stage (SL-PT 0x63000); the guest's tables at GPA
 *            0x1000-0x4000 live at HPA 0x71000, 0x74000, 0x72000, 0x75000
 *   0x80000  pt: the second stage PASID 5 gets when it is remapped
 *   0x90000  invalidation queue (QS 0, 256-bit: 128 descriptors); 0x98000 status
 *   data pages (the same in every scenario): p0 0xa37000, p1 0x512000,
 *            p2 0xc09000, p3 0x77e000, p4 0x3c4000, p6 0x665000 (read-only),
 *            p1 after the change 0xd2b000; the rest of 1-16 MiB is 0xee.
 *   pt uses IOVA = HPA 0x9a0000-0x9a3fff and a 4 KiB page at 0xfedff000, just
 *            below the interrupt range.
 */
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "dev/dev.h"
#include "hw/vtd/vtd_internal.h"
#include "mem/mem.h"

#define RAM_SIZE   0x1000000ull
#define DATA_LO    0x100000ull        /* data pages from here: compared whole */
#define BG         0xee               /* the data area's background byte */
#define ROOT       0x10000ull
#define CTX        0x11000ull
#define DIR        0x12000ull
#define PTBL       0x13000ull
#define PE(p)      (PTBL + (uint64_t)(p) * 64)
#define IQ         0x90000ull
#define IQ_STATUS  0x98000ull
#define HIGH_PAGE  0xfedff000ull      /* pt: memory just below 0xfee00000 */

#define RID        0x0018             /* 00:03.0: bus 0, device 3, function 0 */
#define CE         (CTX + 0x18 * 32)  /* 0x11300 */

/* Host pages of IOVA pages p0..p6 (p5 unmapped) and of p1 after the change. */
#define HPA_P0     0xa37000ull
#define HPA_P1     0x512000ull
#define HPA_P2     0xc09000ull
#define HPA_P3     0x77e000ull
#define HPA_P4     0x3c4000ull
#define HPA_P6     0x665000ull
#define HPA_NEW    0xd2b000ull

#define PG         0x1000ull
#define MP_OFF     0x600ull           /* the multi-page DMA: p0 + 0x600 ... */
#define MP_LEN     0x3400ull          /* ... 0xa00 + 0x1000 + 0x1000 + 0xa00 bytes */
#define ANY        UINT64_MAX         /* a counter the facts do not determine */

static struct mem_space *ms;
static uint8_t *ram;                  /* host view of RAM */
static uint8_t shadow[RAM_SIZE];      /* what RAM's data area must hold */
static unsigned fault_events;

static void die(const char *what)
{
	fprintf(stderr, "test_vtd_dma: setup failed: %s\n", what);
	exit(1);
}

static void put(uint64_t pa, uint64_t val)
{
	if (mem_store64(ms, pa, val))
		die("mem_store64");
}

static uint64_t get(uint64_t pa)
{
	uint64_t v = 0;

	if (mem_load64(ms, pa, &v))
		die("mem_load64");
	return v;
}

static uint32_t get32(uint64_t pa)
{
	uint8_t b[4];

	if (mem_read(ms, pa, b, 4))
		die("mem_read");
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void pattern(uint8_t *b, uint64_t n, unsigned seed)
{
	for (uint64_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + (i >> 8) * 7 + seed * 0x55 + 1);
}

/* ---- host memory: the expected image and the checks -------------------------------------- */

static void fresh_memory(void)
{
	void *host;

	if (ms)
		mem_space_free(ms);
	ms = mem_space_new();
	if (!ms || mem_add_anon(ms, 0, RAM_SIZE, MEM_RW, &host))
		die("memory");
	ram = host;
	memset(ram + DATA_LO, BG, RAM_SIZE - DATA_LO);
	memset(shadow + DATA_LO, BG, RAM_SIZE - DATA_LO);
}

/* The DMA is expected to have written buf at hpa (in RAM). */
static void shadow_put(uint64_t hpa, const uint8_t *buf, uint64_t len)
{
	if (hpa < DATA_LO || hpa + len > RAM_SIZE)
		die("shadow_put");
	memcpy(shadow + hpa, buf, len);
}

/* The whole data area holds what the DMAs so far should have written, nothing else. */
static void check_ram(int line, const char *what)
{
	uint64_t off = DATA_LO;
	int same = !memcmp(ram + DATA_LO, shadow + DATA_LO, RAM_SIZE - DATA_LO);

	if (!same)
		while (ram[off] == shadow[off])
			off++;
	CHECK_MSG(same, "line %d, %s: RAM differs first at 0x%" PRIx64 ": 0x%02x, expected 0x%02x",
		  line, what, off, same ? 0 : ram[off], same ? 0 : shadow[off]);
}

/* The bytes at hpa (any memory) are want. */
static void expect_mem(int line, uint64_t hpa, const uint8_t *want, uint64_t len)
{
	static uint8_t got[0x4000];
	uint64_t i = 0;
	int same;

	if (len > sizeof(got) || mem_read(ms, hpa, got, len))
		die("expect_mem");
	same = !memcmp(got, want, len);
	if (!same)
		while (got[i] == want[i])
			i++;
	CHECK_MSG(same, "line %d: at 0x%" PRIx64 " + 0x%" PRIx64 ": 0x%02x, expected 0x%02x", line,
		  hpa, i, same ? 0 : got[i], same ? 0 : want[i]);
}

static void expect_bg(int line, uint64_t hpa, uint64_t len)
{
	static uint8_t bg[0x4000];

	memset(bg, BG, sizeof(bg));
	expect_mem(line, hpa, bg, len);
}

/* ---- the unit, the endpoint and the invalidation queue ------------------------------------- */

struct rig {
	struct vtd *v;
	struct dev_ep *ep;
	bool ats;
	uint64_t tail;                    /* software's IQT */
	unsigned queued;                  /* descriptors put since the last qi_sync */
	uint32_t seq;                     /* wait descriptors' status data */
};

static void count_event(void *ctx, enum vtd_event ev)
{
	(void)ctx;
	if (ev == VTD_EVENT_FAULT)
		fault_events++;
}

static uint32_t rd32(struct rig *r, uint32_t off)
{
	return (uint32_t)vtd_read(r->v, off, 4);
}

/* The GCMD procedure (facts §1.5): GSTS & 0x96ffffff, one bit set, write. */
static void gcmd_set(struct rig *r, uint32_t bit)
{
	vtd_write(r->v, VTD_GCMD, 4, (rd32(r, VTD_GSTS) & 0x96ffffffu) | bit);
}

/*
 * The structures every scenario shares (facts §2.1-2.3):
 *   root entry bus 0 (0x10000): LCTP 0x11000 | LP = 0x11001.
 *   context entry 00:03.0: devfn 0x18 < 128, so the lo table, index 0x18, at
 *     0x11000 + 0x18 * 32 = 0x11300. qw0 = PASIDDIRPTR 0x12000 | PDTS 0 | PASIDE
 *     (bit 3) | DTE (bit 2) | P = 0x1200d; qw1 = RID_PASID (bits 83:64 = qw1
 *     19:0) 7, RID_PRIV 0 = 0x7.
 *   PASID directory entry 0 (PASIDs 0-63, PASID[19:6] = 0) at 0x12000:
 *     0x13000 | P = 0x13001.
 */
static void common_structures(void)
{
	put(ROOT, CTX | 1);
	put(CE, DIR | 0xd);
	put(CE + 8, 7);
	put(DIR, PTBL | 1);
}

/* As a driver (Linux's order): RTADDR (TTM 01 scalable: 0x10000 | 1 << 10), SRTP,
 * the queue (IQA | DW, IQT 0, QIE), fault events unmasked, then TE. */
static void rig_start(struct rig *r, bool ats)
{
	struct vtd_config c;
	struct dev_ep_config ec = {
		.rid = RID, .pasid_bits = 20, .ats = true, .atc_entries = 256, .atc_ways = 8,
	};

	memset(r, 0, sizeof(*r));
	r->ats = ats;
	vtd_config_default(&c);
	r->v = vtd_new(&c, ms);
	if (!r->v)
		die("vtd_new");
	vtd_set_event_cb(r->v, count_event, NULL);
	fault_events = 0;
	vtd_write(r->v, VTD_RTADDR, 8, ROOT | 1 << 10);
	gcmd_set(r, GCMD_SRTP);
	CHECK(rd32(r, VTD_GSTS) & GSTS_RTPS);
	vtd_write(r->v, VTD_IQA, 8, IQ | IQA_DW);
	vtd_write(r->v, VTD_IQT, 8, 0);
	gcmd_set(r, GCMD_QIE);
	vtd_write(r->v, VTD_FECTL, 4, 0);
	gcmd_set(r, GCMD_TE);
	/* TES | RTPS | QIES = bits 31, 30, 26. */
	CHECK_EQ(rd32(r, VTD_GSTS), 0xc4000000);

	r->ep = dev_ep_new(&ec, ms);
	if (!r->ep || dev_ep_enable_pasid(r->ep, true) || dev_ep_enable_ats(r->ep, ats) ||
	    vtd_attach(r->v, r->ep))
		die("endpoint");
}

static void rig_stop(struct rig *r)
{
	vtd_free(r->v);
	dev_ep_free(r->ep);
}

/* One 256-bit descriptor at IQT (qw2, qw3 zero). */
static void qi_put(struct rig *r, uint64_t qw0, uint64_t qw1)
{
	put(IQ + r->tail, qw0);
	put(IQ + r->tail + 8, qw1);
	put(IQ + r->tail + 16, 0);
	put(IQ + r->tail + 24, 0);
	r->tail = (r->tail + 32) % 0x1000;
	r->queued++;
}

static uint64_t descriptors_done(struct rig *r)
{
	struct vtd_stats st;
	uint64_t n = 0;

	vtd_get_stats(r->v, &st);
	for (unsigned i = 0; i < 16; i++)
		n += st.descriptors[i];
	return n;
}

/*
 * Appends an invalidation wait descriptor (type 5 | SW, bit 5: qw0 = 0x25 | data
 * << 32, qw1 = the status address), writes IQT and checks that the unit ran all
 * of them: IQH = IQT, the status word written, no queue error (facts §4.1, §4.2).
 */
static void qi_sync(struct rig *r, int line)
{
	uint64_t before = descriptors_done(r);
	unsigned n;

	r->seq++;
	put(IQ_STATUS, 0);
	qi_put(r, 0x25 | (uint64_t)r->seq << 32, IQ_STATUS);
	n = r->queued;
	r->queued = 0;
	vtd_write(r->v, VTD_IQT, 8, r->tail);
	CHECK_MSG(vtd_read(r->v, VTD_IQH, 8) == r->tail && get32(IQ_STATUS) == r->seq &&
			  !(rd32(r, VTD_FSTS) & FSTS_IQE) && descriptors_done(r) - before == n,
		  "line %d: IQH 0x%" PRIx64 " (IQT 0x%" PRIx64 "), status 0x%x (0x%x), FSTS 0x%x, "
		  "%" PRIu64 " of %u descriptors done", line, vtd_read(r->v, VTD_IQH, 8), r->tail,
		  get32(IQ_STATUS), r->seq, rd32(r, VTD_FSTS), descriptors_done(r) - before, n);
}

/* ---- counters ------------------------------------------------------------------------------- */

struct snap {
	struct vtd_stats v;
	struct dev_ep_stats e;
	unsigned events;
};

static void snap(struct rig *r, struct snap *s)
{
	vtd_get_stats(r->v, &s->v);
	dev_ep_get_stats(r->ep, &s->e);
	s->events = fault_events;
}

/* Deltas of one DMA, by hand. cc/pc/tlb: context cache, PASID cache, IOTLB. */
struct counts {
	uint64_t tr, cc_hit, cc_miss, pc_hit, pc_miss, tlb_hit, tlb_miss, walks, atc_hit, atc_miss;
};

static void expect_counts(int line, const char *what, const struct snap *a, const struct snap *b,
			  const struct counts *c)
{
	static const char *const name[] = {
		"translations", "context hits", "context misses", "PASID-cache hits",
		"PASID-cache misses", "IOTLB hits", "IOTLB misses", "walks", "ATC hits",
		"ATC misses",
	};
	const uint64_t want[] = {
		c->tr, c->cc_hit, c->cc_miss, c->pc_hit, c->pc_miss, c->tlb_hit, c->tlb_miss,
		c->walks, c->atc_hit, c->atc_miss,
	};
	const uint64_t got[] = {
		b->v.translations - a->v.translations, b->v.cc.hits - a->v.cc.hits,
		b->v.cc.misses - a->v.cc.misses, b->v.pc.hits - a->v.pc.hits,
		b->v.pc.misses - a->v.pc.misses, b->v.iotlb.hits - a->v.iotlb.hits,
		b->v.iotlb.misses - a->v.iotlb.misses, b->v.walks - a->v.walks,
		b->e.atc_hits - a->e.atc_hits, b->e.atc_misses - a->e.atc_misses,
	};

	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		if (want[i] != ANY)
			CHECK_MSG(got[i] == want[i], "line %d, %s: %s %" PRIu64 ", expected %" PRIu64,
				  line, what, name[i], got[i], want[i]);
}

/* The endpoint's own counters for one DMA that moved bytes and ended faulted or not. */
static void expect_ep(int line, const struct snap *a, const struct snap *b, uint64_t bytes,
		      bool faulted)
{
	CHECK_MSG(b->e.dmas - a->e.dmas == 1 && b->e.bytes - a->e.bytes == bytes &&
			  b->e.faults - a->e.faults == (faulted ? 1u : 0u),
		  "line %d: dmas +%" PRIu64 ", bytes +0x%" PRIx64 " (0x%" PRIx64 "), faults +%"
		  PRIu64, line, b->e.dmas - a->e.dmas, b->e.bytes - a->e.bytes, bytes,
		  b->e.faults - a->e.faults);
}

/* ---- fault recording -------------------------------------------------------------------- */

/*
 * The record at index idx is pending with the hand-computed words lo (FI: the
 * request's page address, bits at and above MGAW = 48 zero, facts §1.10) and
 * hi; FSTS is PPF with FRI = idx and nothing else; one fault event was sent
 * (FECTL.IM = 0, PPF went 0 -> 1, facts §1.9, §1.11). Then software clears F
 * (RW1C) and FSTS reads 0 again.
 */
static void expect_record(struct rig *r, int line, unsigned idx, uint64_t lo, uint64_t hi,
			  const struct snap *a, const struct snap *b)
{
	uint32_t off = VTD_FRCD_BASE + 16 * idx;
	uint32_t fsts = rd32(r, VTD_FSTS);
	uint64_t got_lo = vtd_read(r->v, off, 8), got_hi = vtd_read(r->v, off + 8, 8);

	CHECK_MSG(fsts == (FSTS_PPF | idx << 8) && got_lo == lo && got_hi == hi,
		  "line %d: FSTS 0x%x, FRCD%u 0x%016" PRIx64 " %016" PRIx64 "; expected FSTS 0x%x, "
		  "0x%016" PRIx64 " %016" PRIx64, line, fsts, idx, got_hi, got_lo,
		  (unsigned)(FSTS_PPF | idx << 8), hi, lo);
	CHECK_MSG(b->events - a->events == 1 && b->v.faults_recorded - a->v.faults_recorded == 1 &&
			  rd32(r, VTD_FECTL) == 0,
		  "line %d: %u fault events, %" PRIu64 " recorded, FECTL 0x%x", line,
		  b->events - a->events, b->v.faults_recorded - a->v.faults_recorded,
		  rd32(r, VTD_FECTL));
	vtd_write(r->v, off + 8, 8, FRCD_HI_F);
	CHECK_EQ(rd32(r, VTD_FSTS) & ~FSTS_FRI, 0);        /* FRI means nothing once PPF = 0 */
}

static void expect_no_record(struct rig *r, int line, const struct snap *a, const struct snap *b)
{
	CHECK_MSG(!(rd32(r, VTD_FSTS) & ~FSTS_FRI) && b->events == a->events &&
			  b->v.faults_recorded == a->v.faults_recorded,
		  "line %d: FSTS 0x%x, %u events, %" PRIu64 " recorded; expected none", line,
		  rd32(r, VTD_FSTS), b->events - a->events,
		  b->v.faults_recorded - a->v.faults_recorded);
}

/* ---- one scenario ------------------------------------------------------------------------ */

struct entry {
	uint64_t pa, val;
};

struct scenario {
	const char *name;
	bool pp;                          /* the DMAs carry a PASID */
	uint32_t pasid;
	uint64_t iova;                    /* page p0; page i at iova + i * 0x1000 */
	uint64_t hpa[7];                  /* where page i lands (p5: unmapped) */
	bool walks;                       /* the translation walks tables (not pass-through) */
	/* The fault DMA: from fault_start (mapped, lands at fault_hpa) 0x1000 bytes,
	 * stopping at fault_iova after 0x800. */
	uint64_t fault_start, fault_hpa, fault_iova;
	uint8_t np_reason;
	uint64_t np_lo, np_hi[2];         /* FRCD words, [ats]; np_hi[ats] 0: not recorded */
	uint8_t ro_reason;                /* 0: no read-only page (pass-through) */
	uint64_t ro_lo, ro_hi;
	struct entry ad[12];              /* table words after the multi-page write (pa 0 ends) */
	struct entry ad4;                 /* after the fault DMA (pa 0: none) */
	bool change_pc_miss;              /* the change invalidated the PASID cache */
	void (*build)(void);              /* the scenario's PASID entry and tables */
	void (*change)(struct rig *r);    /* remap p1 to HPA_NEW, invalidate all but the ATC */
	void (*devtlb)(struct rig *r);    /* the device-TLB invalidation for p1 */
};

static int dma(struct rig *r, const struct scenario *s, bool write, uint64_t iova, void *buf,
	       uint64_t len, struct dev_dma_report *rep)
{
	struct dev_dma d = {
		.pasid_valid = s->pp, .pasid = s->pasid, .write = write, .iova = iova, .buf = buf,
		.len = len,
	};

	return dev_dma(r->ep, &d, rep);
}

static void expect_table(int line, const struct entry *e)
{
	uint64_t v = get(e->pa);

	CHECK_MSG(v == e->val, "line %d: entry at 0x%" PRIx64 " is 0x%" PRIx64 ", expected 0x%"
		  PRIx64, line, e->pa, v, e->val);
}

/*
 * Counters by hand (vtd_stats counts every request the unit sees; dev_ep_stats the
 * device TLB's lookups). A fresh unit: the first request misses the context and
 * PASID caches, later ones hit. Untranslated DMA: one request per 4 KiB page, each
 * a context, PASID-cache and IOTLB lookup, a walk on an IOTLB miss (none for
 * pass-through, which has no tables). ATS: per page one device-TLB lookup; on a
 * miss a translation request (as an untranslated request) and then the
 * translated request, which needs only the context entry (DTE) and is neither
 * looked up in the PASID cache nor the IOTLB (facts §2.5 0x44; PCIe: translated
 * requests carry no PASID).
 */
static void run(const struct scenario *s, bool ats)
{
	static uint8_t pat[MP_LEN], back[MP_LEN], pat2[PG], pat3[PG], pat4[PG], ro[0x100];
	const uint64_t w = s->walks ? 1 : 0;
	struct dev_dma_report rep;
	struct snap a, b;
	struct rig r;
	char what[64];

	snprintf(what, sizeof(what), "%s, ATS %s", s->name, ats ? "on" : "off");
	fresh_memory();
	common_structures();
	s->build();
	rig_start(&r, ats);

	/* 1. The multi-page write: p0 + 0x600 .. p3 + 0xa00. */
	pattern(pat, MP_LEN, 1);
	snap(&r, &a);
	CHECK_EQ(dma(&r, s, true, s->iova + MP_OFF, pat, MP_LEN, &rep), 0);
	snap(&r, &b);
	CHECK_MSG(rep.status == DEV_DMA_OK && rep.done == MP_LEN &&
			  rep.translations == 4 && rep.atc_misses == (ats ? 4u : 0u) &&
			  rep.atc_hits == 0,
		  "%s: write: status %d done 0x%" PRIx64 " translations %u ATC %u/%u", what,
		  rep.status, rep.done, rep.translations, rep.atc_hits, rep.atc_misses);
	expect_counts(__LINE__, what, &a, &b, ats ?
		      &(struct counts){ 8, 7, 1, 3, 1, 0, 4, 4 * w, 0, 4 } :
		      &(struct counts){ 4, 3, 1, 3, 1, 0, 4, 4 * w, 0, 0 });
	expect_ep(__LINE__, &a, &b, MP_LEN, false);
	/* The bytes at the hand-derived host pages: p0's last 0xa00, p1 and p2 whole,
	 * p3's first 0xa00. */
	expect_mem(__LINE__, s->hpa[0] + MP_OFF, pat, 0xa00);
	expect_mem(__LINE__, s->hpa[1], pat + 0xa00, PG);
	expect_mem(__LINE__, s->hpa[2], pat + 0x1a00, PG);
	expect_mem(__LINE__, s->hpa[3], pat + 0x2a00, 0xa00);
	expect_bg(__LINE__, s->hpa[0], MP_OFF);                 /* before the start */
	expect_bg(__LINE__, s->hpa[3] + 0xa00, PG - 0xa00);     /* after the end */
	shadow_put(s->hpa[0] + MP_OFF, pat, 0xa00);
	shadow_put(s->hpa[1], pat + 0xa00, PG);
	shadow_put(s->hpa[2], pat + 0x1a00, PG);
	shadow_put(s->hpa[3], pat + 0x2a00, 0xa00);
	check_ram(__LINE__, what);
	for (const struct entry *e = s->ad; e->pa; e++)
		expect_table(__LINE__, e);

	/* 2. Read back. */
	memset(back, 0, sizeof(back));
	snap(&r, &a);
	CHECK_EQ(dma(&r, s, false, s->iova + MP_OFF, back, MP_LEN, &rep), 0);
	snap(&r, &b);
	CHECK(rep.status == DEV_DMA_OK && rep.done == MP_LEN);
	CHECK_MSG(!memcmp(back, pat, MP_LEN), "%s: read back differs", what);
	CHECK_EQ(rep.translations, ats ? 0 : 4);
	CHECK_EQ(rep.atc_hits, ats ? 4 : 0);
	expect_counts(__LINE__, what, &a, &b, ats ?
		      &(struct counts){ 4, 4, 0, 0, 0, 0, 0, 0, 4, 0 } :
		      &(struct counts){ 4, 4, 0, 4, 0, 4, 0, 0, 0, 0 });
	expect_ep(__LINE__, &a, &b, MP_LEN, false);

	/* 3. Into the unmapped page: 0x800 bytes land, then the fault. With ATS the
	 * R = W = 0 completion carries no reason on the wire; the unit's answer still
	 * names the walk's fault, which shows the stage that found nothing. */
	pattern(pat2, PG, 2);
	snap(&r, &a);
	CHECK_EQ(dma(&r, s, true, s->fault_start, pat2, PG, &rep), 0);
	snap(&r, &b);
	CHECK_MSG(rep.status == DEV_DMA_FAULT && rep.done == 0x800 &&
			  rep.fault_iova == s->fault_iova && rep.xlate.fault_reason == s->np_reason &&
			  rep.xlate.status == (!ats ? DEV_XLATE_FAULT :
					       s->np_hi[1] ? DEV_XLATE_UR : DEV_XLATE_NO_ACCESS),
		  "%s: fault DMA: status %d done 0x%" PRIx64 " fault_iova 0x%" PRIx64
		  " answer %d reason 0x%x", what, rep.status, rep.done, rep.fault_iova,
		  rep.xlate.status, rep.xlate.fault_reason);
	CHECK_EQ(rep.translations, 2);
	expect_counts(__LINE__, what, &a, &b, ats ?
		      &(struct counts){ 3, 3, 0, 2, 0, 0, 2, 2 * w, 0, 2 } :
		      &(struct counts){ 2, 2, 0, 2, 0, 0, 2, 2 * w, 0, 0 });
	expect_ep(__LINE__, &a, &b, 0x800, true);
	CHECK_EQ(b.v.faults[s->np_reason] - a.v.faults[s->np_reason], s->np_hi[ats] ? 1 : 0);
	expect_mem(__LINE__, s->fault_hpa, pat2, 0x800);
	if (s->fault_hpa < RAM_SIZE)
		shadow_put(s->fault_hpa, pat2, 0x800);
	else
		expect_bg(__LINE__, s->fault_hpa - 0x800, 0x800);   /* the page's first half */
	check_ram(__LINE__, what);
	if (s->np_hi[ats])
		expect_record(&r, __LINE__, 0, s->np_lo, s->np_hi[ats], &a, &b);
	else
		expect_no_record(&r, __LINE__, &a, &b);
	if (s->ad4.pa)
		expect_table(__LINE__, &s->ad4);

	/* 4. A write to the read-only page p6: nothing lands. */
	if (s->ro_reason) {
		pattern(ro, sizeof(ro), 5);
		snap(&r, &a);
		CHECK_EQ(dma(&r, s, true, s->iova + 6 * PG + 0x10, ro, sizeof(ro), &rep), 0);
		snap(&r, &b);
		CHECK_MSG(rep.status == DEV_DMA_FAULT && rep.done == 0 &&
				  rep.fault_iova == s->iova + 6 * PG + 0x10,
			  "%s: read-only: status %d done 0x%" PRIx64 " fault_iova 0x%" PRIx64, what,
			  rep.status, rep.done, rep.fault_iova);
		if (ats) {
			/* The completion grants read only (W = 0): the device may not
			 * write; the unit records nothing (facts §6, xlate.c's choice for
			 * ATS). */
			CHECK(rep.xlate.status == DEV_XLATE_OK && rep.xlate.r && !rep.xlate.w);
			expect_no_record(&r, __LINE__, &a, &b);
		} else {
			CHECK_EQ(rep.xlate.status, DEV_XLATE_FAULT);
			CHECK_EQ(rep.xlate.fault_reason, s->ro_reason);
			CHECK_EQ(b.v.faults[s->ro_reason] - a.v.faults[s->ro_reason], 1);
			/* The circular index moved on to record 1 (facts §1.11 rule 4). */
			expect_record(&r, __LINE__, 1, s->ro_lo, s->ro_hi, &a, &b);
		}
		expect_counts(__LINE__, what, &a, &b, ats ?
			      &(struct counts){ 1, 1, 0, 1, 0, 0, 1, ANY, 0, 1 } :
			      &(struct counts){ 1, 1, 0, 1, 0, 0, 1, 1, 0, 0 });
		expect_ep(__LINE__, &a, &b, 0, true);
		expect_bg(__LINE__, s->hpa[6], PG);
		check_ram(__LINE__, what);
	}

	/* 5. p1 moves to HPA_NEW; the unit's caches are invalidated. */
	s->change(&r);
	pattern(pat3, PG, 3);
	snap(&r, &a);
	CHECK_EQ(dma(&r, s, true, s->iova + PG, pat3, PG, &rep), 0);
	snap(&r, &b);
	CHECK(rep.status == DEV_DMA_OK && rep.done == PG);
	expect_ep(__LINE__, &a, &b, PG, false);
	if (!ats) {
		/* The unit walks the new tables: the bytes land on the new page. */
		expect_counts(__LINE__, what, &a, &b,
			      &(struct counts){ 1, 1, 0, !s->change_pc_miss, s->change_pc_miss, 0, 1,
						1, 0, 0 });
		expect_mem(__LINE__, HPA_NEW, pat3, PG);
		expect_mem(__LINE__, s->hpa[1], pat + 0xa00, PG);   /* the old page kept */
		shadow_put(HPA_NEW, pat3, PG);
		check_ram(__LINE__, what);
		memcpy(pat + 0xa00, pat3, PG);
	} else {
		/* Without a device-TLB invalidation the device keeps its translation:
		 * one ATC hit, one translated request, the old page written. */
		expect_counts(__LINE__, what, &a, &b,
			      &(struct counts){ 1, 1, 0, 0, 0, 0, 0, 0, 1, 0 });
		expect_mem(__LINE__, s->hpa[1], pat3, PG);
		expect_bg(__LINE__, HPA_NEW, PG);
		shadow_put(s->hpa[1], pat3, PG);
		check_ram(__LINE__, what);

		snap(&r, &a);
		s->devtlb(&r);
		snap(&r, &b);
		CHECK_EQ(b.e.atc_invalidated - a.e.atc_invalidated, 1);    /* p1's entry */
		pattern(pat4, PG, 4);
		snap(&r, &a);
		CHECK_EQ(dma(&r, s, true, s->iova + PG, pat4, PG, &rep), 0);
		snap(&r, &b);
		CHECK(rep.status == DEV_DMA_OK && rep.done == PG);
		expect_counts(__LINE__, what, &a, &b,
			      &(struct counts){ 2, 2, 0, !s->change_pc_miss, s->change_pc_miss, 0, 1,
						1, 0, 1 });
		expect_ep(__LINE__, &a, &b, PG, false);
		expect_mem(__LINE__, HPA_NEW, pat4, PG);
		expect_mem(__LINE__, s->hpa[1], pat3, PG);
		shadow_put(HPA_NEW, pat4, PG);
		check_ram(__LINE__, what);
		memcpy(pat + 0xa00, pat4, PG);
	}

	/* 6. The whole range again: p0, p2, p3 as written first, p1 from its new page. */
	memset(back, 0, sizeof(back));
	CHECK_EQ(dma(&r, s, false, s->iova + MP_OFF, back, MP_LEN, &rep), 0);
	CHECK(rep.status == DEV_DMA_OK && rep.done == MP_LEN);
	CHECK_MSG(!memcmp(back, pat, MP_LEN), "%s: final read back differs", what);
	CHECK_EQ(rd32(&r, VTD_FSTS) & ~FSTS_FRI, 0);

	rig_stop(&r);
}

/* ---- second stage, requests without PASID (RID_PASID 7) ------------------------------------ */

/*
 * Requests without PASID use the context entry's RID_PASID, 7 (facts §3): PASID
 * table entry 7 at 0x13000 + 7 * 64 = 0x131c0: SLPTPTR 0x20000 | PGTT 010 (2 << 6)
 * | AW 010 (4 levels, 2 << 2) | P = 0x20089; qw1 DID 1.
 *
 * IOVA p0 = 0x80806f0000: bits 47:39 = 1, 38:30 = 2, 29:21 = 3, 20:12 = 0xf0
 * (1 << 39 | 2 << 30 | 3 << 21 | 0xf0 << 12). R = bit 0, W = bit 1 (vtd-paging §4):
 *   SL-PML4E 1 at 0x20000 + 1 * 8 = 0x20008: 0x21000 | R W = 0x21003
 *   SL-PDPE 2 at 0x21000 + 2 * 8 = 0x21010: 0x22003
 *   SL-PDE 3 at 0x22000 + 3 * 8 = 0x22018: 0x23003
 *   SL-PTE 0xf0 + i at 0x23000 + 0xf0 * 8 + 8 i = 0x23780 + 8 i:
 *     p0 0x23780 = 0xa37003, p1 0x23788 = 0x512003, p2 0x23790 = 0xc09003,
 *     p3 0x23798 = 0x77e003, p4 0x237a0 = 0x3c4003, p5 0x237a8 = 0 (R = W = 0:
 *     not present), p6 0x237b0 = 0x665001 (R only).
 * So p0..p3 land at 0xa37000, 0x512000, 0xc09000, 0x77e000.
 *
 * Fault records (facts §1.10): hi = F (bit 63) | FR << 32 | SID 0x18, T2 = T1 = 0
 * (a write), AT 00, and no PP/PV: the request carried no PASID (OVMM's reading,
 * §3; QEMU would report RID_PASID). p5 not present at the second stage: 0x79
 * (SSS.2): hi 0x8000007900000018, FI = p5 = 0x80806f5000. p6 write without W:
 * 0x85 (SGN.6): hi 0x8000008500000018, FI 0x80806f6000. Translation requests
 * that find no page complete with R = W = 0, unrecorded (facts §6).
 */
static void build_ss_rid(void)
{
	put(PE(7), 0x20089);
	put(PE(7) + 8, 1);
	put(0x20008, 0x21003);
	put(0x21010, 0x22003);
	put(0x22018, 0x23003);
	put(0x23780, HPA_P0 | 3);
	put(0x23788, HPA_P1 | 3);
	put(0x23790, HPA_P2 | 3);
	put(0x23798, HPA_P3 | 3);
	put(0x237a0, HPA_P4 | 3);
	put(0x237b0, HPA_P6 | 1);
}

/* SL-PTE p1 (0x23788) -> 0xd2b003. Second-stage mapping: IOTLB invalidation (type
 * 2), page-selective (G = 11) in DID 1, AM 0 (facts §4.2): qw0 = 0x2 | 3 << 4 | 1 <<
 * 16 = 0x10032, qw1 = p1 0x80806f1000. */
static void change_ss_rid(struct rig *r)
{
	put(0x23788, HPA_NEW | 3);
	qi_put(r, 0x10032, 0x80806f1000);
	qi_sync(r, __LINE__);
}

/* Device-TLB invalidation (type 3, translations without PASID) of one page (S = 0):
 * qw0 = 0x3 | SID 0x18 << 32 = 0x1800000003, qw1 = 0x80806f1000. */
static void devtlb_ss_rid(struct rig *r)
{
	qi_put(r, 0x1800000003, 0x80806f1000);
	qi_sync(r, __LINE__);
}

static void test_ss_rid_pasid(void)
{
	static const struct scenario s = {
		.name = "second stage, no PASID", .pp = false,
		.iova = 0x80806f0000,
		.hpa = { HPA_P0, HPA_P1, HPA_P2, HPA_P3, HPA_P4, 0, HPA_P6 },
		.walks = true,
		.fault_start = 0x80806f4800, .fault_hpa = HPA_P4 + 0x800,
		.fault_iova = 0x80806f5000,
		.np_reason = 0x79, .np_lo = 0x80806f5000, .np_hi = { 0x8000007900000018, 0 },
		.ro_reason = 0x85, .ro_lo = 0x80806f6000, .ro_hi = 0x8000008500000018,
		/* SSADE = 0: A and D are never written (vtd-paging §4). */
		.ad = { { 0x20008, 0x21003 }, { 0x23780, 0xa37003 }, { 0x23798, 0x77e003 } },
		.ad4 = { 0x237a0, 0x3c4003 },
		.build = build_ss_rid, .change = change_ss_rid, .devtlb = devtlb_ss_rid,
	};

	run(&s, false);
	run(&s, true);
}

/* ---- second stage, 3 levels, requests with PASID 1 ------------------------------------------ */

/*
 * PASID table entry 1 at 0x13040: SLPTPTR 0x30000 | PGTT 2 << 6 | AW 001 (3 levels,
 * 39 bits: 1 << 2) | P = 0x30085; DID 2.
 *
 * IOVA p0 = 0x54abc0000 (< 2^39): bits 38:30 = 0x15, 29:21 = 0x55, 20:12 = 0x1c0.
 *   SL-PDPE 0x15 at 0x30000 + 0xa8 = 0x300a8: 0x31003
 *   SL-PDE 0x55 at 0x31000 + 0x2a8 = 0x312a8: 0x32003
 *   SL-PTE 0x1c0 + i at 0x32000 + 0xe00 + 8 i = 0x32e00 + 8 i: p0 0xa37003,
 *     p1 0x512003, p2 0xc09003, p3 0x77e003, p4 0x3c4003, p5 0, p6 0x665001.
 * Records carry PP (bit 31) and PV 1 (bits 59:40: 0x100_0000_0000):
 *   p5 0x79: hi 0x8000017980000018, FI 0x54abc5000;
 *   p6 0x85: hi 0x8000018580000018, FI 0x54abc6000.
 */
static void build_ss_pasid(void)
{
	put(PE(1), 0x30085);
	put(PE(1) + 8, 2);
	put(0x300a8, 0x31003);
	put(0x312a8, 0x32003);
	put(0x32e00, HPA_P0 | 3);
	put(0x32e08, HPA_P1 | 3);
	put(0x32e10, HPA_P2 | 3);
	put(0x32e18, HPA_P3 | 3);
	put(0x32e20, HPA_P4 | 3);
	put(0x32e30, HPA_P6 | 1);
}

/* SL-PTE p1 (0x32e08) -> 0xd2b003. A second-stage mapping, with PASID or not, is
 * invalidated by type 2 (type 6 does not touch PGTT 010 entries, facts §4.2):
 * qw0 = 0x2 | 0x30 | 2 << 16 = 0x20032, qw1 = p1 0x54abc1000. */
static void change_ss_pasid(struct rig *r)
{
	put(0x32e08, HPA_NEW | 3);
	qi_put(r, 0x20032, 0x54abc1000);
	qi_sync(r, __LINE__);
}

/* PASID-based device-TLB invalidation (type 8), one page (G = 0, S = 0): qw0 =
 * 0x8 | SID 0x18 << 16 | PASID 1 << 32 = 0x100180008, qw1 = 0x54abc1000. */
static void devtlb_ss_pasid(struct rig *r)
{
	qi_put(r, 0x100180008, 0x54abc1000);
	qi_sync(r, __LINE__);
}

static void test_ss_with_pasid(void)
{
	static const struct scenario s = {
		.name = "second stage, PASID 1", .pp = true, .pasid = 1,
		.iova = 0x54abc0000,
		.hpa = { HPA_P0, HPA_P1, HPA_P2, HPA_P3, HPA_P4, 0, HPA_P6 },
		.walks = true,
		.fault_start = 0x54abc4800, .fault_hpa = HPA_P4 + 0x800, .fault_iova = 0x54abc5000,
		.np_reason = 0x79, .np_lo = 0x54abc5000, .np_hi = { 0x8000017980000018, 0 },
		.ro_reason = 0x85, .ro_lo = 0x54abc6000, .ro_hi = 0x8000018580000018,
		.ad = { { 0x300a8, 0x31003 }, { 0x32e00, 0xa37003 } },
		.ad4 = { 0x32e20, 0x3c4003 },
		.build = build_ss_pasid, .change = change_ss_pasid, .devtlb = devtlb_ss_pasid,
	};

	run(&s, false);
	run(&s, true);
}

/* ---- first stage, 4 levels (PASID 2) ------------------------------------------------------ */

/*
 * PASID table entry 2 at 0x13080: PGTT 001 (1 << 6) | P = 0x41; DID 3; qw2 =
 * FLPTPTR 0x40000, FLPM 00 (4 levels), SRE 0 (the DMAs are user requests).
 *
 * VA p0 = 0x7f1234500000: PML4 [47:39] 0xfe, PDPT [38:30] 0x48, PD [29:21] 0x1a2,
 * PT [20:12] 0x100. Entries P | RW | U/S = 7 (user requests need U/S in every
 * entry and, to write, R/W in every entry: vtd-paging §2):
 *   PML4E at 0x40000 + 0xfe * 8 = 0x407f0: 0x41007
 *   PDPTE at 0x41000 + 0x48 * 8 = 0x41240: 0x42007
 *   PDE at 0x42000 + 0x1a2 * 8 = 0x42d10: 0x43007
 *   PTE 0x100 + i at 0x43800 + 8 i: p0 0xa37007, p1 0x512007, p2 0xc09007,
 *     p3 0x77e007, p4 0x3c4007, p5 0 (P = 0), p6 0x665005 (R/W = 0).
 * After the write (vtd-paging §3): A (bit 5) in every entry used: non-leaf
 * 0x41027, 0x42027, 0x43027; A and D (bit 6) in the written leaves: 0xa37067 ...
 * p4's leaf untouched until the fault DMA writes its second half.
 * Records with PP, PV 2 (0x200_0000_0000):
 *   p5 P = 0: 0x71 (SFS.2): hi 0x8000027180000018, FI 0x7f1234505000;
 *   p6 user write, R/W = 0: 0x85 (SGN.6): hi 0x8000028580000018, FI 0x7f1234506000.
 */
static void build_fs4(void)
{
	put(PE(2), 0x41);
	put(PE(2) + 8, 3);
	put(PE(2) + 16, 0x40000);
	put(0x407f0, 0x41007);
	put(0x41240, 0x42007);
	put(0x42d10, 0x43007);
	put(0x43800, HPA_P0 | 7);
	put(0x43808, HPA_P1 | 7);
	put(0x43810, HPA_P2 | 7);
	put(0x43818, HPA_P3 | 7);
	put(0x43820, HPA_P4 | 7);
	put(0x43830, HPA_P6 | 5);
}

/* PTE p1 (0x43808) -> 0xd2b007. First stage: PASID-based IOTLB invalidation (type
 * 6), page-selective (G = 11): qw0 = 0x6 | 0x30 | DID 3 << 16 | PASID 2 << 32 =
 * 0x200030036, qw1 = p1 0x7f1234501000, AM 0, IH 0. */
static void change_fs4(struct rig *r)
{
	put(0x43808, HPA_NEW | 7);
	qi_put(r, 0x200030036, 0x7f1234501000);
	qi_sync(r, __LINE__);
}

/* Type 8: qw0 = 0x8 | 0x18 << 16 | 2 << 32 = 0x200180008, qw1 = 0x7f1234501000. */
static void devtlb_fs4(struct rig *r)
{
	qi_put(r, 0x200180008, 0x7f1234501000);
	qi_sync(r, __LINE__);
}

static void test_fs4(void)
{
	static const struct scenario s = {
		.name = "first stage, 4 levels", .pp = true, .pasid = 2,
		.iova = 0x7f1234500000,
		.hpa = { HPA_P0, HPA_P1, HPA_P2, HPA_P3, HPA_P4, 0, HPA_P6 },
		.walks = true,
		.fault_start = 0x7f1234504800, .fault_hpa = HPA_P4 + 0x800,
		.fault_iova = 0x7f1234505000,
		.np_reason = 0x71, .np_lo = 0x7f1234505000, .np_hi = { 0x8000027180000018, 0 },
		.ro_reason = 0x85, .ro_lo = 0x7f1234506000, .ro_hi = 0x8000028580000018,
		.ad = {
			{ 0x407f0, 0x41027 }, { 0x41240, 0x42027 }, { 0x42d10, 0x43027 },
			{ 0x43800, 0xa37067 }, { 0x43808, 0x512067 }, { 0x43810, 0xc09067 },
			{ 0x43818, 0x77e067 }, { 0x43820, 0x3c4007 },
		},
		.ad4 = { 0x43820, 0x3c4067 },
		.build = build_fs4, .change = change_fs4, .devtlb = devtlb_fs4,
	};

	run(&s, false);
	run(&s, true);
}

/* ---- first stage, 5 levels (PASID 3) ------------------------------------------------------ */

/*
 * PASID table entry 3 at 0x130c0: 0x41; DID 4; qw2 = FLPTPTR 0x50000 | FLPM 01
 * (bits 131:130 = qw2 bits 3:2: 0x4) = 0x50004 (CAP.FL5LP is set).
 *
 * VA p0 = 0x00abf98303350000, canonical for 57 bits (bits 63:57 = bit 56 = 0):
 * PML5 [56:48] 0xab, PML4 [47:39] 0x1f3, PDPT [38:30] 0xc, PD [29:21] 0x19,
 * PT [20:12] 0x150.
 *   PML5E at 0x50000 + 0xab * 8 = 0x50558: 0x51007
 *   PML4E at 0x51000 + 0x1f3 * 8 = 0x51f98: 0x52007
 *   PDPTE at 0x52000 + 0xc * 8 = 0x52060: 0x53007
 *   PDE at 0x53000 + 0x19 * 8 = 0x530c8: 0x54007
 *   PTE 0x150 + i at 0x54000 + 0xa80 + 8 i = 0x54a80 + 8 i: as fs4.
 * Records with PP, PV 3; FI is the page address with bits 63:48 zero: N = MGAW =
 * CAP.MGAW + 1 = 48 (facts §1.10, EDC; OVMM masks at the largest AGAW instead):
 *   p5 0x71: hi 0x8000037180000018, FI 0xf98303355000;
 *   p6 0x85: hi 0x8000038580000018, FI 0xf98303356000.
 */
static void build_fs5(void)
{
	put(PE(3), 0x41);
	put(PE(3) + 8, 4);
	put(PE(3) + 16, 0x50004);
	put(0x50558, 0x51007);
	put(0x51f98, 0x52007);
	put(0x52060, 0x53007);
	put(0x530c8, 0x54007);
	put(0x54a80, HPA_P0 | 7);
	put(0x54a88, HPA_P1 | 7);
	put(0x54a90, HPA_P2 | 7);
	put(0x54a98, HPA_P3 | 7);
	put(0x54aa0, HPA_P4 | 7);
	put(0x54ab0, HPA_P6 | 5);
}

/* PTE p1 (0x54a88) -> 0xd2b007; type 6 page-selective: qw0 = 0x6 | 0x30 | 4 << 16 |
 * 3 << 32 = 0x300040036, qw1 = p1 0x00abf98303351000. */
static void change_fs5(struct rig *r)
{
	put(0x54a88, HPA_NEW | 7);
	qi_put(r, 0x300040036, 0x00abf98303351000);
	qi_sync(r, __LINE__);
}

/* Type 8: qw0 = 0x8 | 0x18 << 16 | 3 << 32 = 0x300180008, qw1 = 0x00abf98303351000. */
static void devtlb_fs5(struct rig *r)
{
	qi_put(r, 0x300180008, 0x00abf98303351000);
	qi_sync(r, __LINE__);
}

static void test_fs5(void)
{
	static const struct scenario s = {
		.name = "first stage, 5 levels", .pp = true, .pasid = 3,
		.iova = 0x00abf98303350000,
		.hpa = { HPA_P0, HPA_P1, HPA_P2, HPA_P3, HPA_P4, 0, HPA_P6 },
		.walks = true,
		.fault_start = 0x00abf98303354800, .fault_hpa = HPA_P4 + 0x800,
		.fault_iova = 0x00abf98303355000,
		.np_reason = 0x71, .np_lo = 0xf98303355000, .np_hi = { 0x8000037180000018, 0 },
		.ro_reason = 0x85, .ro_lo = 0xf98303356000, .ro_hi = 0x8000038580000018,
		.ad = {
			{ 0x50558, 0x51027 }, { 0x51f98, 0x52027 }, { 0x52060, 0x53027 },
			{ 0x530c8, 0x54027 }, { 0x54a80, 0xa37067 }, { 0x54a88, 0x512067 },
			{ 0x54a90, 0xc09067 }, { 0x54a98, 0x77e067 }, { 0x54aa0, 0x3c4007 },
		},
		.ad4 = { 0x54aa0, 0x3c4067 },
		.build = build_fs5, .change = change_fs5, .devtlb = devtlb_fs5,
	};

	run(&s, false);
	run(&s, true);
}

/* ---- nested (PASID 4) ---------------------------------------------------------------------- */

/*
 * PASID table entry 4 at 0x13100: SLPTPTR 0x60000 | PGTT 011 (3 << 6) | AW 2 << 2 |
 * P = 0x600c9; DID 5; qw2 = FLPTPTR GPA 0x1000 (4 levels).
 *
 * Host second stage (GPAs below 2 MiB: indices 0, 0, 0, GPA[20:12]):
 *   0x60000: 0x61003, 0x61000: 0x62003, 0x62000: 0x63003
 *   SL-PTE g at 0x63000 + 8 g: GPA 0x1000 (g 1, 0x63008) -> 0x71003,
 *     0x2000 (0x63010) -> 0x74003, 0x3000 (0x63018) -> 0x72003,
 *     0x4000 (0x63020) -> 0x75003; data: 0x23000 (g 0x23, 0x63118) -> 0xa37003,
 *     0x21000 (0x63108) -> 0x512003, 0x27000 (0x63138) -> 0xc09003,
 *     0x25000 (0x63128) -> 0x77e003, 0x2a000 (0x63150) -> 0x3c4003,
 *     0x29000 (0x63148) = 0 (not present), 0x2c000 (0x63160) -> 0x665003,
 *     0x2e000 (0x63170) -> 0xd2b003.
 * The guest's first stage, VA p0 = 0x3f7fc0080000: PML4 [47:39] 0x7e, PDPT
 * [38:30] 0x1ff, PD [29:21] 0, PT [20:12] 0x80; each table's GPA translated above:
 *   PML4E at GPA 0x1000 + 0x7e * 8 = 0x13f0 (HPA 0x713f0): GPA 0x2000 | 7 = 0x2007
 *   PDPTE at GPA 0x2000 + 0x1ff * 8 = 0x2ff8 (HPA 0x74ff8): 0x3007
 *   PDE at GPA 0x3000 (HPA 0x72000): 0x4007
 *   PTE 0x80 + i at GPA 0x4400 + 8 i (HPA 0x75400 + 8 i): p0 GPA 0x23007,
 *     p1 0x21007, p2 0x27007, p3 0x25007, p4 0x2a007, p5 0x29007, p6 0x2c005
 *     (R/W = 0).
 * So p0..p3 land at GPA 0x23000, 0x21000, 0x27000, 0x25000 = HPA 0xa37000,
 * 0x512000, 0xc09000, 0x77e000. The guest's entries get A (and D in written
 * leaves); the second stage (SSADE = 0) is not written.
 * Records with PP, PV 4 (0x400_0000_0000): p5's GPA 0x29000 is not present at the
 * second stage: 0x79 (SSS.2), hi 0x8000047980000018, FI VA 0x3f7fc0085000 (the
 * request's address, not the GPA: facts §6); p6: first-stage R/W = 0, 0x85,
 * hi 0x8000048580000018, FI 0x3f7fc0086000.
 */
static void build_nested(void)
{
	put(PE(4), 0x600c9);
	put(PE(4) + 8, 5);
	put(PE(4) + 16, 0x1000);
	put(0x60000, 0x61003);
	put(0x61000, 0x62003);
	put(0x62000, 0x63003);
	put(0x63008, 0x71003);
	put(0x63010, 0x74003);
	put(0x63018, 0x72003);
	put(0x63020, 0x75003);
	put(0x63118, HPA_P0 | 3);
	put(0x63108, HPA_P1 | 3);
	put(0x63138, HPA_P2 | 3);
	put(0x63128, HPA_P3 | 3);
	put(0x63150, HPA_P4 | 3);
	put(0x63160, HPA_P6 | 3);
	put(0x63170, HPA_NEW | 3);
	put(0x713f0, 0x2007);
	put(0x74ff8, 0x3007);
	put(0x72000, 0x4007);
	put(0x75400, 0x23007);
	put(0x75408, 0x21007);
	put(0x75410, 0x27007);
	put(0x75418, 0x25007);
	put(0x75420, 0x2a007);
	put(0x75428, 0x29007);
	put(0x75430, 0x2c005);
}

/* The guest remaps p1: its PTE (HPA 0x75408) -> GPA 0x2e007, i.e. HPA 0xd2b000.
 * Nested mappings: type 6 page-selective: qw0 = 0x6 | 0x30 | 5 << 16 | 4 << 32 =
 * 0x400050036, qw1 = p1 0x3f7fc0081000. */
static void change_nested(struct rig *r)
{
	put(0x75408, 0x2e007);
	qi_put(r, 0x400050036, 0x3f7fc0081000);
	qi_sync(r, __LINE__);
}

/* Type 8: qw0 = 0x8 | 0x18 << 16 | 4 << 32 = 0x400180008, qw1 = 0x3f7fc0081000. */
static void devtlb_nested(struct rig *r)
{
	qi_put(r, 0x400180008, 0x3f7fc0081000);
	qi_sync(r, __LINE__);
}

static void test_nested(void)
{
	static const struct scenario s = {
		.name = "nested", .pp = true, .pasid = 4,
		.iova = 0x3f7fc0080000,
		.hpa = { HPA_P0, HPA_P1, HPA_P2, HPA_P3, HPA_P4, 0, HPA_P6 },
		.walks = true,
		.fault_start = 0x3f7fc0084800, .fault_hpa = HPA_P4 + 0x800,
		.fault_iova = 0x3f7fc0085000,
		.np_reason = 0x79, .np_lo = 0x3f7fc0085000, .np_hi = { 0x8000047980000018, 0 },
		.ro_reason = 0x85, .ro_lo = 0x3f7fc0086000, .ro_hi = 0x8000048580000018,
		.ad = {
			{ 0x713f0, 0x2027 }, { 0x74ff8, 0x3027 }, { 0x72000, 0x4027 },
			{ 0x75400, 0x23067 }, { 0x75408, 0x21067 }, { 0x75410, 0x27067 },
			{ 0x75418, 0x25067 }, { 0x75420, 0x2a007 }, { 0x63118, 0xa37003 },
			{ 0x63008, 0x71003 },
		},
		.ad4 = { 0x75420, 0x2a067 },
		.build = build_nested, .change = change_nested, .devtlb = devtlb_nested,
	};

	run(&s, false);
	run(&s, true);
}

/* ---- pass-through (PASID 5) ----------------------------------------------------------------- */

/*
 * PASID table entry 5 at 0x13140: PGTT 100 (4 << 6) | P = 0x101; DID 6. The
 * output is the input, so p0..p3 land at 0x9a0000.. 0x9a3000 (pass-through has no
 * tables to scatter pages, and no permissions: no read-only page).
 *
 * "Unmapped" for pass-through: a request with PASID whose address is in the
 * interrupt range 0xfee00000-0xfeefffff is blocked (facts §3, QEMU quoting rev
 * 3.4 §3.14): 0x87 (SGN.8). The fault DMA starts at 0xfedff800 (memory) and stops
 * at 0xfee00000. Not a not-present or permission fault, so it is recorded for a
 * translation request too, and answered UR (facts §6; xlate.c's reading):
 *   hi = F | PV 5 << 40 | FR 0x87 << 32 | PP | SID 0x18 = 0x8000058780000018,
 *   with ATS AT = 01 (bit 60): 0x9000058780000018; FI 0xfee00000.
 *
 * The change: PASID 5 becomes a second-stage entry (DID 7) mapping IOVA 0x9a1000
 * to 0xd2b000 and the other pages of the range to themselves, through a teardown
 * as facts §4.3 give it. Its second stage at 0x80000, IOVA 0x9a0000 + i * 0x1000:
 * indices 0, 0, 4 (0x9a0000 >> 21), 0x1a0 + i:
 *   0x80000: 0x81003, 0x81000: 0x82003, SL-PDE 4 at 0x82020: 0x83003,
 *   SL-PTE 0x1a0 + i at 0x83000 + 0xd00 + 8 i: p0 0x9a0003, p1 0xd2b003,
 *   p2 0x9a2003, p3 0x9a3003.
 */
static void build_pt(void)
{
	put(PE(5), 0x101);
	put(PE(5) + 8, 6);
	put(0x80000, 0x81003);
	put(0x81000, 0x82003);
	put(0x82020, 0x83003);
	put(0x83d00, 0x9a0003);
	put(0x83d08, HPA_NEW | 3);
	put(0x83d10, 0x9a2003);
	put(0x83d18, 0x9a3003);
	if (mem_add_anon(ms, HIGH_PAGE, PG, MEM_RW, NULL) || mem_fill(ms, HIGH_PAGE, BG, PG))
		die("high page");
}

/*
 * Teardown of PASID 5 (PGTT 100): P cleared; PASID-selective PASID-cache
 * invalidation (type 7, G = 01): qw0 = 0x7 | 1 << 4 | DID 6 << 16 | PASID 5 << 32
 * = 0x500060017; P_IOTLB for the PASID (type 6, G = 10): qw0 = 0x6 | 2 << 4 | 6 <<
 * 16 | 5 << 32 = 0x500060026, qw1 0. Then the new entry: qw1 DID 7 first, qw0 =
 * 0x80000 | PGTT 2 << 6 | AW 2 << 2 | P = 0x80089 last.
 */
static void change_pt(struct rig *r)
{
	put(PE(5), 0);
	qi_put(r, 0x500060017, 0);
	qi_put(r, 0x500060026, 0);
	qi_sync(r, __LINE__);
	put(PE(5) + 8, 7);
	put(PE(5), 0x80089);
}

/* Type 8 for p1: qw0 = 0x8 | 0x18 << 16 | 5 << 32 = 0x500180008, qw1 = 0x9a1000. */
static void devtlb_pt(struct rig *r)
{
	qi_put(r, 0x500180008, 0x9a1000);
	qi_sync(r, __LINE__);
}

static void test_pass_through(void)
{
	static const struct scenario s = {
		.name = "pass-through", .pp = true, .pasid = 5,
		.iova = 0x9a0000,
		.hpa = { 0x9a0000, 0x9a1000, 0x9a2000, 0x9a3000 },
		.walks = false,
		.fault_start = 0xfedff800, .fault_hpa = 0xfedff800, .fault_iova = 0xfee00000,
		.np_reason = 0x87, .np_lo = 0xfee00000,
		.np_hi = { 0x8000058780000018, 0x9000058780000018 },
		.ro_reason = 0,
		.change_pc_miss = true,
		.build = build_pt, .change = change_pt, .devtlb = devtlb_pt,
	};

	run(&s, false);
	run(&s, true);
}

int main(void)
{
	test_ss_rid_pasid();
	test_ss_with_pasid();
	test_fs4();
	test_fs5();
	test_nested();
	test_pass_through();
	mem_space_free(ms);
	return check_exit();
}
