/* tests/test_smmu_checker.c — the SMMU's coherence checker and its front cache.
 *
 * 1. The checker catches what software left out: a page-table change without
 *    its TLBI (stage 1, stage 2, a table pointer behind a walk-cache entry), an
 *    STE change without CFGI_STE, a CD change without CFGI_CD; each report names
 *    the cache, what it held, what memory says and the missing command, and
 *    with the command issued nothing is reported.
 * 2. The front cache against the full path: two SMMUs on two copies of the same
 *    memory, one with the checker on (every hit takes the full path) and one
 *    without (repeats are answered by the per-thread front cache), get the same
 *    random stream of requests, table changes and the invalidations software
 *    must issue for them; small caches, so that fills evict. Every answer and
 *    every statistic must be the same, and the checker must report nothing.
 *
 * Tables are built with pgtable/'s pgt_map (their layout is not the subject
 * here; test_smmu_xlate and test_smmu_tables check layouts by hand).
 * Memory (128 MiB at 0): stream table 0x10000 (linear, LOG2SIZE 8), CD of SID
 * 0x10 at 0x20000, CD of SID 0x20 at IPA 0x30000, stage-1 table pool
 * 0x1000000-0x2000000, stage-2 pool 0x2000000-0x3000000. Stage 2 (VMID 7) maps
 * IPA 0-0x4000000 to the same PA (so the nested SID's CD and tables are where
 * their IPAs say) and IPA 0x40000000 + k pages to 0x5100000 + k pages.
 */
#include <inttypes.h>
#include <string.h>

#include "check.h"
#include "dev/dev.h"
#include "hw/smmuv3/smmuv3_internal.h"
#include "mem/mem.h"
#include "pgtable/pgtable.h"

#define RAM_SIZE   0x8000000ull
#define STRTAB     0x10000ull
#define CD_S1      0x20000ull
#define CD_NEST    0x30000ull
#define SID_S1     0x10
#define SID_S2     0x18
#define SID_NEST   0x20
#define STE(sid)   (STRTAB + (uint64_t)(sid) * 64)
#define NPAGES     16
#define VA_S1      0x400000ull
#define VA_NEST    0x800000ull
#define IPA_DATA   0x40000000ull
#define PA_S1      0x5000000ull
#define PA_S2      0x5100000ull
#define ALT        0x80000ull        /* remapped pages go this much higher */

struct side {
	struct mem_space *ms;
	struct mem_frames *s1pool, *s2pool;
	struct smmu *s;
	uint64_t s1root, nestroot, s2root;
	unsigned stale;
	struct smmu_stale last;
	char missing[160];      /* last.missing is valid during the callback only */
};

static struct pgt_fmt s1f, s2f;

static void die(const char *what)
{
	fprintf(stderr, "test_smmu_checker: setup failed: %s\n", what);
	exit(1);
}

static void put(struct side *d, uint64_t pa, uint64_t val)
{
	if (mem_store64(d->ms, pa, val))
		die("mem_store64");
}

static void stale_cb(void *ctx, const struct smmu_stale *st)
{
	struct side *d = ctx;

	d->stale++;
	d->last = *st;
	snprintf(d->missing, sizeof(d->missing), "%s", st->missing);
	d->last.missing = d->missing;
}

/*
 * STEs (facts §2.2): SID 0x10: V | Config 0b101 (0xa) | S1ContextPtr 0x20000;
 * SID 0x18: V | Config 0b110 (0xc), dw2 S2VMID 7 | S2T0SZ 25 | S2SL0 1 | S2PS
 * 48 bits | S2AA64 | S2R = 0x040d005900000007, dw3 S2TTB; SID 0x20: V | Config
 * 0b111 (0xe) | S1ContextPtr 0x30000 (an IPA) with the same dw2/dw3.
 * CDs: T0SZ 25 | EPD1 | V | IPS 48 | AA64 | R | A | ASID (ASID 4 for SID 0x10,
 * 5 for SID 0x20), dw1 TTB0.
 */
static uint64_t cd0(uint16_t asid)
{
	return 25 | 1ull << 30 | 1ull << 31 | 5ull << 32 | 1ull << 41 | 1ull << 45 | 1ull << 46 |
	       (uint64_t)asid << 48;
}

static void side_init(struct side *d, bool checker, bool small)
{
	struct smmu_config c;
	uint32_t cr0 = (uint32_t)CR0_SMMUEN;

	memset(d, 0, sizeof(*d));
	d->ms = mem_space_new();
	if (!d->ms || mem_add_anon(d->ms, 0, RAM_SIZE, MEM_RW, NULL))
		die("memory");
	d->s1pool = mem_frames_new(d->ms, 0x1000000, 0x1000000);
	d->s2pool = mem_frames_new(d->ms, 0x2000000, 0x1000000);
	if (!d->s1pool || !d->s2pool || pgt_root_alloc(&s1f, d->s1pool, &d->s1root) ||
	    pgt_root_alloc(&s1f, d->s1pool, &d->nestroot) ||
	    pgt_root_alloc(&s2f, d->s2pool, &d->s2root))
		die("roots");
	for (unsigned k = 0; k < NPAGES; k++)
		if (pgt_map(&s1f, d->s1pool, d->s1root, VA_S1 + k * 0x1000ull, PA_S1 + k * 0x1000ull,
			    0x1000, PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0) ||
		    pgt_map(&s1f, d->s1pool, d->nestroot, VA_NEST + k * 0x1000ull,
			    IPA_DATA + k * 0x1000ull, 0x1000, PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0) ||
		    pgt_map(&s2f, d->s2pool, d->s2root, IPA_DATA + k * 0x1000ull,
			    PA_S2 + k * 0x1000ull, 0x1000, PGT_PROT_R | PGT_PROT_W, 0))
			die("pgt_map");
	if (pgt_map(&s2f, d->s2pool, d->s2root, 0, 0, 0x4000000, PGT_PROT_R | PGT_PROT_W, 0))
		die("pgt_map identity");
	put(d, STE(SID_S1), 0xb | CD_S1);
	put(d, STE(SID_S2), 0xd);
	put(d, STE(SID_S2) + 16, 0x040d005900000007ull);
	put(d, STE(SID_S2) + 24, d->s2root);
	put(d, STE(SID_NEST), 0xf | CD_NEST);
	put(d, STE(SID_NEST) + 16, 0x040d005900000007ull);
	put(d, STE(SID_NEST) + 24, d->s2root);
	put(d, CD_S1, cd0(4));
	put(d, CD_S1 + 8, d->s1root);
	put(d, CD_NEST, cd0(5));
	put(d, CD_NEST + 8, d->nestroot);

	smmu_config_default(&c);
	c.checker = checker;
	if (small) {
		c.cfg_entries = 4;
		c.cfg_ways = 2;
		c.tlb_entries = 16;
		c.tlb_ways = 4;
		c.s1wc_entries = 8;
		c.s2wc_entries = 8;
		c.wc_ways = 2;
	}
	d->s = smmu_new(&c, d->ms);
	if (!d->s)
		die("smmu_new");
	smmu_set_stale_cb(d->s, stale_cb, d);
	smmu_write(d->s, SMMU_STRTAB_BASE, 8, STRTAB);
	smmu_write(d->s, SMMU_STRTAB_BASE_CFG, 4, 8);
	smmu_write(d->s, SMMU_CR0, 4, cr0);
	if ((uint32_t)smmu_read(d->s, SMMU_CR0ACK, 4) != cr0)
		die("CR0ACK");
}

static void side_free(struct side *d)
{
	smmu_free(d->s);
	mem_frames_free_pool(d->s1pool);
	mem_frames_free_pool(d->s2pool);
	mem_space_free(d->ms);
}

static struct dev_xlate tx(struct side *d, uint16_t sid, bool write, uint64_t addr)
{
	struct dev_txn t = { .rid = sid, .write = write, .at = DEV_AT_UNTRANSLATED, .addr = addr };
	struct dev_xlate x;

	memset(&x, 0xa5, sizeof(x));
	smmu_translate(d->s, &t, &x);
	return x;
}

static void tlbi(struct side *d, enum smmu_tlbi_kind kind, uint16_t vmid, uint16_t asid,
		 uint64_t addr, bool leaf)
{
	struct smmu_tlbi t = { .kind = kind, .vmid = vmid, .asid = asid, .addr = addr,
			       .size = 0x1000, .leaf = leaf };

	smmu_inv_tlb(d->s, &t);
}

/* ---- 1. what the checker catches ----------------------------------------------------------- */

static void level2_entry(void *ctx, const struct pgt_step *st)
{
	if (st->level == 2 && !st->write)
		*(uint64_t *)ctx = st->pa;
}

static void test_catches(void)
{
	struct side d;
	struct dev_xlate x;

	side_init(&d, true, false);

	/* Stage 1: page 3 moved without CMD_TLBI_NH_VA. The TLB entry (VMID 0:
	 * S2VMID of a stage-1 STE, ASID 4) is stale; the answer is memory's. The
	 * words: output page | PGT_PERM_R | W (pgt_map without X sets UXN). */
	x = tx(&d, SID_S1, false, VA_S1 + 0x3010);
	CHECK_EQ(x.pa, PA_S1 + 0x3010);
	if (pgt_unmap(&s1f, d.s1pool, d.s1root, VA_S1 + 0x3000, 0x1000, NULL) ||
	    pgt_map(&s1f, d.s1pool, d.s1root, VA_S1 + 0x3000, PA_S1 + ALT + 0x3000, 0x1000,
		    PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0))
		die("remap");
	x = tx(&d, SID_S1, false, VA_S1 + 0x3010);
	CHECK_EQ(d.stale, 1);
	CHECK(!strcmp(d.last.cache, "tlb"));
	CHECK_EQ(d.last.sid, SID_S1);
	CHECK_EQ(d.last.asid, 4);
	CHECK_EQ(d.last.cached, PA_S1 + 0x3000 + (PGT_PERM_R | PGT_PERM_W));
	CHECK_EQ(d.last.fresh, PA_S1 + ALT + 0x3000 + (PGT_PERM_R | PGT_PERM_W));
	CHECK(strstr(d.last.missing, "CMD_TLBI_NH_VA (VMID 0, ASID 4, VA 0x403010)") != NULL);
	CHECK_EQ(x.pa, PA_S1 + ALT + 0x3010);
	/* With the TLBI, nothing more is reported. */
	tlbi(&d, SMMU_TLBI_NH_VA, 0, 4, VA_S1 + 0x3000, true);
	x = tx(&d, SID_S1, false, VA_S1 + 0x3010);
	x = tx(&d, SID_S1, false, VA_S1 + 0x3010);
	CHECK_EQ(d.stale, 1);
	CHECK_EQ(x.pa, PA_S1 + ALT + 0x3010);

	/* Stage 2 only: IPA page 5 moved without CMD_TLBI_S2_IPA. */
	x = tx(&d, SID_S2, true, IPA_DATA + 0x5008);
	CHECK_EQ(x.pa, PA_S2 + 0x5008);
	if (pgt_unmap(&s2f, d.s2pool, d.s2root, IPA_DATA + 0x5000, 0x1000, NULL) ||
	    pgt_map(&s2f, d.s2pool, d.s2root, IPA_DATA + 0x5000, PA_S2 + ALT + 0x5000, 0x1000,
		    PGT_PROT_R | PGT_PROT_W, 0))
		die("remap s2");
	x = tx(&d, SID_S2, true, IPA_DATA + 0x5008);
	CHECK_EQ(d.stale, 2);
	CHECK(!strcmp(d.last.cache, "tlb"));
	CHECK_EQ(d.last.vmid, 7);
	CHECK(strstr(d.last.missing, "CMD_TLBI_S2_IPA (VMID 7, IPA 0x40005008)") != NULL);
	/* Nested over the same stage 2: VA_NEST page 5 -> IPA page 5 now lands at
	 * the new PA; a combined entry made before would need TLBI_S12_VMALL. */
	tlbi(&d, SMMU_TLBI_S2_IPA, 7, 0, IPA_DATA + 0x5000, true);
	x = tx(&d, SID_NEST, false, VA_NEST + 0x5008);
	CHECK_EQ(x.pa, PA_S2 + ALT + 0x5008);
	if (pgt_unmap(&s2f, d.s2pool, d.s2root, IPA_DATA + 0x5000, 0x1000, NULL) ||
	    pgt_map(&s2f, d.s2pool, d.s2root, IPA_DATA + 0x5000, PA_S2 + 0x5000, 0x1000,
		    PGT_PROT_R | PGT_PROT_W, 0))
		die("remap s2 back");
	tlbi(&d, SMMU_TLBI_S2_IPA, 7, 0, IPA_DATA + 0x5000, true);   /* not enough */
	x = tx(&d, SID_NEST, false, VA_NEST + 0x5008);
	CHECK_EQ(d.stale, 3);
	CHECK(!strcmp(d.last.cache, "tlb"));
	CHECK(strstr(d.last.missing, "CMD_TLBI_S12_VMALL (VMID 7)") != NULL);
	CHECK_EQ(x.pa, PA_S2 + 0x5008);
	tlbi(&d, SMMU_TLBI_S12_VMALL, 7, 0, 0, false);
	x = tx(&d, SID_NEST, false, VA_NEST + 0x5008);
	CHECK_EQ(d.stale, 3);

	/* The CD of SID 0x10 now names another table root (the nested tree, whose
	 * VA_NEST pages are unmapped... at VA_S1: a fault) without CMD_CFGI_CD. */
	put(&d, CD_S1 + 8, d.nestroot);
	x = tx(&d, SID_S1, false, VA_S1 + 0x1000);
	CHECK_EQ(d.stale, 4);
	CHECK(!strcmp(d.last.cache, "cd"));
	CHECK_EQ(d.last.cached, d.s1root);
	CHECK_EQ(d.last.fresh, d.nestroot);
	CHECK(strstr(d.last.missing, "CMD_CFGI_CD (SID 0x10, SSID 0x0)") != NULL);
	put(&d, CD_S1 + 8, d.s1root);
	smmu_inv_cd(d.s, SID_S1, false, 0);
	x = tx(&d, SID_S1, false, VA_S1 + 0x1000);
	CHECK_EQ(d.stale, 4);

	/* The STE of SID 0x18 made invalid (V = 0) without CMD_CFGI_STE. */
	put(&d, STE(SID_S2), 0xc);
	x = tx(&d, SID_S2, false, IPA_DATA);
	CHECK_EQ(d.stale, 5);
	CHECK(!strcmp(d.last.cache, "ste"));
	CHECK_EQ(d.last.cached, 0xd);
	CHECK_EQ(d.last.fresh, 0xc);
	CHECK(strstr(d.last.missing, "CMD_CFGI_STE (SID 0x18)") != NULL);
	CHECK_EQ(x.status, DEV_XLATE_FAULT);
	CHECK_EQ(x.fault_reason, 0x04);          /* C_BAD_STE: memory's answer */
	put(&d, STE(SID_S2), 0xd);
	smmu_inv_ste(d.s, SID_S2, 0);

	/* A walk-cache entry: page 9 is not in the TLB, but the walk to page 8
	 * cached the level-2 table; the leaf table of VA_S1 is replaced by another
	 * (with page 9 mapped elsewhere) without a non-leaf TLBI. */
	{
		uint64_t l2e_pa = 0, l3_new, e;
		struct pgt_result res;
		struct pgt_trace tr = { level2_entry, &l2e_pa };

		tlbi(&d, SMMU_TLBI_NSNH_ALL, 0, 0, 0, false);
		x = tx(&d, SID_S1, false, VA_S1 + 0x8000);
		/* The level-2 entry for VA_S1 (its L3 table pointer): a walk tells. */
		pgt_walk(&s1f, d.ms, d.s1root, VA_S1 + 0x8000, 0, &res, &tr);
		if (mem_load64(d.ms, l2e_pa, &e) || mem_frames_alloc(d.s1pool, 0x1000, &l3_new))
			die("walk");
		/* Copy the old leaf table, page 9's entry pointing at PA_S1 + ALT. */
		for (unsigned i = 0; i < 512; i++) {
			uint64_t v;

			if (mem_load64(d.ms, (e & 0xfffffffff000ull) + 8 * i, &v))
				die("copy");
			if (i == ((VA_S1 + 0x9000) >> 12 & 511))
				v = (v & ~0xfffffffff000ull) | (PA_S1 + ALT + 0x9000);
			put(&d, l3_new + 8 * i, v);
		}
		put(&d, l2e_pa, (e & ~0xfffffffff000ull) | l3_new);
		x = tx(&d, SID_S1, false, VA_S1 + 0x9000);
		CHECK_EQ(d.stale, 6);
		CHECK(!strcmp(d.last.cache, "s1-walk"));
		CHECK(strstr(d.last.missing, "CMD_TLBI_NH_VA (VMID 0, ASID 4, VA 0x409000, Leaf 0)"));
		CHECK_EQ(x.pa, PA_S1 + ALT + 0x9000);
	}
	side_free(&d);
}

/* ---- 2. the front cache against the full path -------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct req {
	uint16_t sid;
	bool write;
	uint64_t addr;
};

static void random_req(uint64_t *seed, struct req *q)
{
	static const uint16_t sids[3] = { SID_S1, SID_S2, SID_NEST };
	static const uint64_t bases[3] = { VA_S1, IPA_DATA, VA_NEST };
	unsigned which = (unsigned)(rnd(seed) % 3);
	unsigned page = (unsigned)(rnd(seed) % (NPAGES + 2));   /* 2 unmapped pages */

	q->sid = sids[which];
	q->write = rnd(seed) & 1;
	q->addr = bases[which] + page * 0x1000ull + (rnd(seed) & 0xff8);
}

/* What software changes, then the invalidation it must issue, on both sides. */
static void random_event(struct side d[2], uint64_t *seed, uint16_t *asid)
{
	unsigned k = (unsigned)(rnd(seed) % NPAGES), kind = (unsigned)(rnd(seed) % 4);

	for (int i = 0; i < 2; i++) {
		uint64_t va = VA_S1 + k * 0x1000ull, ipa = IPA_DATA + k * 0x1000ull;
		uint64_t pa;
		struct pgt_result res;

		switch (kind) {
		case 0:         /* stage 1: page k moves between PA_S1 and PA_S1 + ALT */
			pgt_walk(&s1f, d[i].ms, d[i].s1root, va, 0, &res, NULL);
			pa = (res.oa & ~0xfffull) ^ ALT;
			if (pgt_unmap(&s1f, d[i].s1pool, d[i].s1root, va, 0x1000, NULL) ||
			    pgt_map(&s1f, d[i].s1pool, d[i].s1root, va, pa, 0x1000,
				    PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0))
				die("event s1");
			tlbi(&d[i], SMMU_TLBI_NH_VA, 0, *asid, va, false);
			break;
		case 1:         /* stage 2: IPA page k moves; combined entries too */
			pgt_walk(&s2f, d[i].ms, d[i].s2root, ipa, 0, &res, NULL);
			pa = (res.oa & ~0xfffull) ^ ALT;
			if (pgt_unmap(&s2f, d[i].s2pool, d[i].s2root, ipa, 0x1000, NULL) ||
			    pgt_map(&s2f, d[i].s2pool, d[i].s2root, ipa, pa, 0x1000,
				    PGT_PROT_R | PGT_PROT_W, 0))
				die("event s2");
			tlbi(&d[i], SMMU_TLBI_S2_IPA, 7, 0, ipa, false);
			tlbi(&d[i], SMMU_TLBI_S12_VMALL, 7, 0, 0, false);
			break;
		case 2:         /* SID 0x10's ASID changes: CFGI_CD, TLBI_NH_ASID (old) */
			put(&d[i], CD_S1, cd0(*asid == 4 ? 6 : 4));
			smmu_inv_cd(d[i].s, SID_S1, false, 0);
			tlbi(&d[i], SMMU_TLBI_NH_ASID, 0, *asid, 0, false);
			break;
		default:        /* everything */
			tlbi(&d[i], SMMU_TLBI_NSNH_ALL, 0, 0, 0, false);
			smmu_inv_cfg_all(d[i].s);
			break;
		}
	}
	if (kind == 2)
		*asid = *asid == 4 ? 6 : 4;
}

static void compare_stats(struct side d[2], unsigned phase)
{
	struct smmu_stats a, b;
	const struct smmu_cache_stats *ca[4] = { &a.cfg, &a.tlb, &a.s1wc, &a.s2wc };
	const struct smmu_cache_stats *cb[4] = { &b.cfg, &b.tlb, &b.s1wc, &b.s2wc };
	bool same = true;

	smmu_get_stats(d[0].s, &a);
	smmu_get_stats(d[1].s, &b);
	for (int i = 0; i < 4; i++)
		same = same && !memcmp(ca[i], cb[i], sizeof(*ca[i]));
	same = same && a.translations == b.translations && a.walks == b.walks &&
	       a.walk_refs == b.walk_refs && !memcmp(a.events, b.events, sizeof(a.events)) &&
	       a.events_lost == b.events_lost;
	CHECK_MSG(same, "phase %u: translations %" PRIu64 "/%" PRIu64 ", tlb hits %" PRIu64
		  "/%" PRIu64 ", cfg hits %" PRIu64 "/%" PRIu64 ", walks %" PRIu64 "/%" PRIu64,
		  phase, a.translations, b.translations, a.tlb.hits, b.tlb.hits, a.cfg.hits,
		  b.cfg.hits, a.walks, b.walks);
}

static void test_front_equivalence(void)
{
	struct side d[2];
	uint64_t seed = 0x2545f4914f6cdd1dull, front;
	uint16_t asid = 4;
	unsigned answers = 0, mismatches = 0;

	side_init(&d[0], true, true);
	side_init(&d[1], false, true);
	for (unsigned phase = 0; phase < 2000; phase++) {
		struct req q[8];
		unsigned n = 1 + (unsigned)(rnd(&seed) % 8), rounds = 1 + (unsigned)(rnd(&seed) % 10);

		for (unsigned i = 0; i < n; i++)
			random_req(&seed, &q[i]);
		for (unsigned r = 0; r < rounds; r++)
			for (unsigned i = 0; i < n; i++) {
				const struct req *rq = &q[(i + r) % n];
				struct dev_xlate a = tx(&d[0], rq->sid, rq->write, rq->addr);
				struct dev_xlate b = tx(&d[1], rq->sid, rq->write, rq->addr);
				bool same = a.status == b.status && a.fault_reason == b.fault_reason &&
					    (a.status != DEV_XLATE_OK ||
					     (a.pa == b.pa && a.size == b.size &&
					      a.page_base == b.page_base && a.r == b.r && a.w == b.w &&
					      a.x == b.x && a.priv == b.priv));

				answers++;
				if (!same && mismatches++ < 5)
					fprintf(stderr, "phase %u: sid 0x%x addr 0x%" PRIx64 " %s: full "
						"path status %d pa 0x%" PRIx64 ", front status %d pa 0x%"
						PRIx64 "\n", phase, rq->sid, rq->addr,
						rq->write ? "write" : "read", a.status, a.pa, b.status,
						b.pa);
			}
		for (unsigned e = (unsigned)(rnd(&seed) % 3); e > 0; e--)
			random_event(d, &seed, &asid);
		if (phase % 500 == 499)
			compare_stats(d, phase);
	}
	compare_stats(d, 2000);
	CHECK_EQ(mismatches, 0);
	CHECK_EQ(d[0].stale, 0);
	CHECK_EQ(d[1].stale, 0);
	/* The stream repeats requests: the front cache must have answered some. */
	front = xfront_hits(&d[1].s->xl_front);
	CHECK(front > answers / 10);
	CHECK_EQ(xfront_hits(&d[0].s->xl_front), 0);
	printf("front cache: %u answers compared with the full path, %" PRIu64 " from the front\n",
	       answers, front);
	side_free(&d[0]);
	side_free(&d[1]);
}

int main(void)
{
	if (pgt_fmt_parse(&s1f, "lpae-s1:4k:t0sz=25:oas=48", NULL, 0) ||
	    pgt_fmt_parse(&s2f, "lpae-s2:4k:t0sz=25:sl0=1:oas=48", NULL, 0))
		die("formats");
	test_catches();
	test_front_equivalence();
	return check_exit();
}
