/* tests/test_lpae.c — the Arm VMSAv8-64 (LPAE) formats, stage 1 and stage 2.
 *
 * Covers, with every expected value worked by hand from the Arm ARM pseudocode
 * (AArch64.S1Walk/S2Walk and friends) and the SMMUv3 specification, never from
 * the walker itself:
 *  - format rules: T0SZ, OAS, HA/HD, and the stage-2 SL0 rules (S2InvalidSL,
 *    S2InconsistentSL), with the accepted T0SZ ranges listed by hand;
 *  - golden walks for the 4K, 16K and 64K granules at every start level, with
 *    blocks of each size, 52-bit output addresses with the 64K granule, the top
 *    and bottom of each input range and the first address beyond it;
 *  - stage 2 start levels from SL0 and concatenated start-level tables (2 to 16),
 *    checked against decoy entries where a non-concatenating walker would look;
 *  - every fault with its SMMU event ID, level, stage, entry and table address,
 *    and the priority order translation > address size > access flag > permission;
 *  - the stage-1 permission matrix (AP x APTable x UXN/PXN/XNTable/PXNTable, for
 *    privileged and unprivileged read/write/execute) and the stage-2 one;
 *  - hardware access flag and dirty state (HA/HD/DBM): the exact descriptors
 *    written back, refs and updates, no update on a fault, and an update into
 *    read-only memory (F_WALK_EABT);
 *  - a few nested walks (the rest is tests/test_nested.c).
 *
 * Tables are written with mem_store64 at fixed physical addresses of one 32 MiB
 * region; each area builds its own space so areas cannot see each other's tables.
 * The derivation of each vector sits in the comment above it: start level from
 * T0SZ (IA = 64 - T0SZ), the input bits each level indexes, entry addresses
 * (table + 8 * index) and the output.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mem/mem.h"
#include "pgtable/lpae.h"
#include "pgtable/pgtable.h"

#define REGION_SIZE UINT64_C(0x2000000)        /* 32 MiB of RAM at PA 0 */
#define NO_MEMORY   UINT64_C(0x3000000)        /* beyond the region: no memory here */

#define PERM_RWX (PGT_PERM_R | PGT_PERM_W | PGT_PERM_X)
#define PERM_RW  (PGT_PERM_R | PGT_PERM_W)
#define PERM_RX  (PGT_PERM_R | PGT_PERM_X)

/* Stage-1 AP[2:1] (bits 7:6). */
#define AP_PRIV_RW 0                            /* 00: EL1 RW, EL0 none */
#define AP_ALL_RW  LPAE_AP1                     /* 01: EL1 RW, EL0 RW */
#define AP_PRIV_RO LPAE_AP2                     /* 10: EL1 RO, EL0 none */
#define AP_ALL_RO  (LPAE_AP2 | LPAE_AP1)        /* 11: EL1 RO, EL0 RO */

/* Stage-2 S2AP (bits 7:6): bit 6 read, bit 7 write. */
#define S2AP_RW (LPAE_S2AP_R | LPAE_S2AP_W)

#define SZ_4K   UINT64_C(0x1000)
#define SZ_16K  UINT64_C(0x4000)
#define SZ_64K  UINT64_C(0x10000)
#define SZ_2M   UINT64_C(0x200000)
#define SZ_32M  UINT64_C(0x2000000)
#define SZ_512M UINT64_C(0x20000000)
#define SZ_1G   UINT64_C(0x40000000)
#define SZ_4T   UINT64_C(0x40000000000)

/* ---- helpers -------------------------------------------------------------------- */

/* A setup step that cannot fail unless the harness itself is broken. */
static void setup_failed(const char *what, int err)
{
	check_failures++;
	fprintf(stderr, "setup failed: %s (%d)\n", what, err);
}

static struct mem_space *new_space(void)
{
	struct mem_space *s = mem_space_new();
	int err;

	if (!s) {
		fprintf(stderr, "mem_space_new failed\n");
		exit(1);
	}
	err = mem_add_anon(s, 0, REGION_SIZE, MEM_RW, NULL);
	if (err) {
		fprintf(stderr, "mem_add_anon failed: %d\n", err);
		exit(1);
	}
	return s;
}

static void put(struct mem_space *s, uint64_t pa, uint64_t desc)
{
	int err = mem_store64(s, pa, desc);

	if (err)
		setup_failed("mem_store64", err);
}

static uint64_t get(struct mem_space *s, uint64_t pa)
{
	uint64_t v = 0;
	int err = mem_load64(s, pa, &v);

	if (err)
		setup_failed("mem_load64", err);
	return v;
}

static uint64_t table_desc(uint64_t pa)
{
	return pa | LPAE_TYPE_TABLE;
}

/* A level-3 page with AF set (bits[1:0] = 11 at level 3). */
static uint64_t page_desc(uint64_t pa, uint64_t attrs)
{
	return pa | LPAE_TYPE_TABLE | LPAE_AF | attrs;
}

/* A block at level 0-2 with AF set (bits[1:0] = 01). */
static uint64_t block_desc(uint64_t pa, uint64_t attrs)
{
	return pa | LPAE_TYPE_BLOCK | LPAE_AF | attrs;
}

static int try_fmt(struct pgt_fmt *f, enum pgt_family family, unsigned granule, unsigned tsz,
		   unsigned sl0, unsigned oas, unsigned flags)
{
	struct pgt_cfg cfg = {
		.family = family, .granule = granule, .tsz = tsz, .sl0 = sl0, .oas = oas,
		.flags = flags,
	};

	return pgt_fmt_init(f, &cfg);
}

/* A format the specification allows; anything else is a broken test. */
static struct pgt_fmt make_fmt(enum pgt_family family, unsigned granule, unsigned tsz,
			       unsigned sl0, unsigned oas, unsigned flags)
{
	struct pgt_fmt f;
	int err = try_fmt(&f, family, granule, tsz, sl0, oas, flags);

	if (err) {
		fprintf(stderr, "pgt_fmt_init(%s, granule %u, t0sz %u, sl0 %u, oas %u, flags 0x%x) = %d\n",
			family == PGT_LPAE_S1 ? "S1" : "S2", granule, tsz, sl0, oas, flags, err);
		exit(1);
	}
	return f;
}

static struct pgt_fmt s1_fmt(unsigned granule, unsigned tsz, unsigned oas, unsigned flags)
{
	return make_fmt(PGT_LPAE_S1, granule, tsz, 0, oas, flags);
}

static struct pgt_fmt s2_fmt(unsigned granule, unsigned tsz, unsigned sl0, unsigned oas,
			     unsigned flags)
{
	return make_fmt(PGT_LPAE_S2, granule, tsz, sl0, oas, flags);
}

static struct pgt_result walk(const struct pgt_fmt *f, struct mem_space *s, uint64_t root,
			      uint64_t ia, unsigned access)
{
	struct pgt_result r;
	int err = pgt_walk(f, s, root, ia, access, &r, NULL);

	if (err) {
		setup_failed("pgt_walk returned an error", err);
		memset(&r, 0, sizeof(r));
	}
	return r;
}

static void expect_ok(const char *what, const struct pgt_result *r, uint64_t oa, uint64_t size,
		      unsigned perm, unsigned refs)
{
	CHECK_MSG(r->ok, "%s: faulted: %s, event 0x%x, stage %u, level %d", what,
		  pgt_reason_name(r->fault.reason), r->fault.code, r->fault.stage, r->fault.level);
	if (!r->ok)
		return;
	CHECK_MSG(r->oa == oa, "%s: oa 0x%" PRIx64 ", expected 0x%" PRIx64, what, r->oa, oa);
	CHECK_MSG(r->page_size == size, "%s: page size 0x%" PRIx64 ", expected 0x%" PRIx64, what,
		  r->page_size, size);
	CHECK_MSG(r->perm == perm, "%s: perm 0x%x, expected 0x%x", what, r->perm, perm);
	CHECK_MSG(r->refs == refs, "%s: refs %u, expected %u", what, r->refs, refs);
}

static enum pgt_reason reason_of(uint16_t code)
{
	switch (code) {
	case SMMU_EVT_F_TRANSLATION:
		return PGT_FAULT_NOT_PRESENT;
	case SMMU_EVT_F_ADDR_SIZE:
		return PGT_FAULT_ADDR_SIZE;
	case SMMU_EVT_F_ACCESS:
		return PGT_FAULT_ACCESS_FLAG;
	case SMMU_EVT_F_PERMISSION:
		return PGT_FAULT_PERMISSION;
	default:
		return PGT_FAULT_TABLE_ACCESS;   /* F_WALK_EABT */
	}
}

/* A fault with this event ID (and its reason), stage, level and input address. */
static void expect_fault(const char *what, const struct pgt_result *r, uint16_t code,
			 unsigned stage, int level, uint64_t addr)
{
	CHECK_MSG(!r->ok, "%s: translated to 0x%" PRIx64 ", expected event 0x%x at level %d", what,
		  r->oa, code, level);
	if (r->ok)
		return;
	CHECK_MSG(r->fault.code == code && r->fault.reason == reason_of(code) &&
		  r->fault.stage == stage && r->fault.level == level,
		  "%s: got %s (event 0x%x) stage %u level %d, expected %s (event 0x%x) stage %u level %d",
		  what, pgt_reason_name(r->fault.reason), r->fault.code, r->fault.stage,
		  r->fault.level, pgt_reason_name(reason_of(code)), code, stage, level);
	CHECK_MSG(r->fault.addr == addr, "%s: fault addr 0x%" PRIx64 ", expected 0x%" PRIx64, what,
		  r->fault.addr, addr);
}

static void expect_entry(const char *what, const struct pgt_result *r, uint64_t entry_pa,
			 uint64_t table_pa)
{
	if (r->ok)
		return;                 /* expect_fault has reported it */
	CHECK_MSG(r->fault.have_entry && r->fault.entry_pa == entry_pa &&
		  r->fault.table == table_pa,
		  "%s: entry %d 0x%" PRIx64 " table 0x%" PRIx64 ", expected entry 0x%" PRIx64
		  " table 0x%" PRIx64, what, r->fault.have_entry, r->fault.entry_pa,
		  r->fault.table, entry_pa, table_pa);
}

static void expect_no_entry(const char *what, const struct pgt_result *r)
{
	if (r->ok)
		return;
	CHECK_MSG(!r->fault.have_entry, "%s: have_entry set (entry 0x%" PRIx64 ") for a fault "
		  "that involves no entry", what, r->fault.entry_pa);
}

/* The first input address beyond the range: stage-N Translation fault at level 0,
 * not at the start level (AArch64.S1Translate VAIsOutOfRange, S2Translate
 * IPAIsOutOfRange), with no entry read. */
static void expect_beyond(const char *what, const struct pgt_fmt *f, struct mem_space *s,
			  uint64_t root, uint64_t ia, unsigned stage)
{
	struct pgt_result r = walk(f, s, root, ia, 0);

	expect_fault(what, &r, SMMU_EVT_F_TRANSLATION, stage, 0, ia);
	expect_no_entry(what, &r);
	CHECK_MSG(r.refs == 0, "%s: refs %u, expected 0", what, r.refs);
}

/* ---- 1. format rules ------------------------------------------------------------ */

/*
 * Stage-2 SL0/T0SZ pairs the Arm ARM allows, worked from AArch64.S2InconsistentSL:
 * with levels = 3 - start level, the start level must resolve between
 * levels*stride + gb + 1 and that + stride - 1 + 4 input bits (IA = 64 - T0SZ);
 * intersected with T0SZ 16..39 (no LPA/TTST). Start level 4K: 2 - SL0; 16K/64K:
 * 3 - SL0.
 *   4K  SL0=0 L2: IA 22..34 -> T0SZ 30..39   SL0=1 L1: IA 31..43 -> T0SZ 21..33
 *       SL0=2 L0: IA 40..52 -> T0SZ 16..24 (S2InvalidSL: needs PA >= 44)
 *   16K SL0=0 L3: IA 15..29 -> T0SZ 35..39   SL0=1 L2: IA 26..40 -> T0SZ 24..38
 *       SL0=2 L1: IA 37..51 -> T0SZ 16..27 (needs PA >= 42)
 *   64K SL0=0 L3: IA 17..33 -> T0SZ 31..39   SL0=1 L2: IA 30..46 -> T0SZ 18..34
 *       SL0=2 L1: IA 43..59 -> T0SZ 16..21 (needs PA >= 44)
 *   SL0=3 is reserved here for every granule (4K L3 needs TTST, 16K L0 needs
 *   LPA2, 64K reserved).
 */
static const struct {
	unsigned granule, sl0, lo, hi;  /* accepted T0SZ lo..hi; lo > hi: none */
} s2_consistent[] = {
	{ 4096, 0, 30, 39 }, { 4096, 1, 21, 33 }, { 4096, 2, 16, 24 }, { 4096, 3, 1, 0 },
	{ 16384, 0, 35, 39 }, { 16384, 1, 24, 38 }, { 16384, 2, 16, 27 }, { 16384, 3, 1, 0 },
	{ 65536, 0, 31, 39 }, { 65536, 1, 18, 34 }, { 65536, 2, 16, 21 }, { 65536, 3, 1, 0 },
};

static void test_format_rules(void)
{
	static const unsigned granules[] = { 4096, 16384, 65536 };
	struct pgt_fmt f;
	char err[160];

	/* Stage 1: T0SZ 16..39 for every granule (S1MinTxSZ 16, MaxTxSZ 39). */
	for (unsigned g = 0; g < ARRAY_SIZE(granules); g++) {
		for (unsigned tsz = 0; tsz < 64; tsz++) {
			bool want = tsz >= 16 && tsz <= 39;
			int ret = try_fmt(&f, PGT_LPAE_S1, granules[g], tsz, 0, 0, 0);

			CHECK_MSG((ret == 0) == want, "S1 granule %u T0SZ %u: %d, expected %s",
				  granules[g], tsz, ret, want ? "accepted" : "-EINVAL");
			if (want && !ret)
				CHECK_MSG(f.ia_bits == 64 - tsz, "S1 granule %u T0SZ %u: ia_bits %u",
					  granules[g], tsz, f.ia_bits);
		}
	}
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S1, 8192, 25, 0, 0, 0), -EINVAL);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S1, 0, 25, 0, 0, 0), -EINVAL);

	/* OAS: the IPS/PS encodings 32, 36, 40, 42, 44, 48; 52 only with 64K (no LPA2). */
	for (unsigned g = 0; g < ARRAY_SIZE(granules); g++) {
		for (unsigned oas = 1; oas <= 64; oas++) {
			bool want = oas == 32 || oas == 36 || oas == 40 || oas == 42 || oas == 44 ||
				    oas == 48 || (oas == 52 && granules[g] == 65536);

			CHECK_MSG((try_fmt(&f, PGT_LPAE_S1, granules[g], 25, 0, oas, 0) == 0) == want,
				  "S1 granule %u oas %u: expected %s", granules[g], oas,
				  want ? "accepted" : "-EINVAL");
		}
	}
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S1, 4096, 25, 0, 0, 0), 0);
	CHECK_EQ(f.oas, 48);                    /* 0 = the format's maximum without LPA */

	/* HD needs HA (SMMU CD {HD,HA} = 10 is reserved). */
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S1, 4096, 25, 0, 0, PGT_CFG_HA), 0);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S1, 4096, 25, 0, 0, PGT_CFG_HA | PGT_CFG_HD), 0);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S1, 4096, 25, 0, 0, PGT_CFG_HD), -EINVAL);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 4096, 25, 1, 0, PGT_CFG_HD), -EINVAL);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 4096, 25, 1, 0, PGT_CFG_HA | PGT_CFG_HD), 0);

	/* Stage 2: every SL0/T0SZ pair against the hand-made table (PA 48). */
	for (unsigned i = 0; i < ARRAY_SIZE(s2_consistent); i++) {
		for (unsigned tsz = 0; tsz < 64; tsz++) {
			bool want = tsz >= s2_consistent[i].lo && tsz <= s2_consistent[i].hi;
			int ret = try_fmt(&f, PGT_LPAE_S2, s2_consistent[i].granule, tsz,
					  s2_consistent[i].sl0, 48, 0);

			CHECK_MSG((ret == 0) == want, "S2 granule %u SL0 %u T0SZ %u: %d, expected %s",
				  s2_consistent[i].granule, s2_consistent[i].sl0, tsz, ret,
				  want ? "accepted" : "-EINVAL");
		}
	}
	for (unsigned g = 0; g < ARRAY_SIZE(granules); g++)
		for (unsigned sl0 = 3; sl0 < 8; sl0++)
			CHECK_MSG(try_fmt(&f, PGT_LPAE_S2, granules[g], 24, sl0, 48, 0) == -EINVAL,
				  "S2 granule %u SL0 %u is reserved", granules[g], sl0);

	/* S2InvalidSL: the level-1 (16K) or level-0 (4K) / level-1 (64K) start needs a
	 * PA size of at least 42 / 44 bits. */
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 4096, 16, 2, 42, 0), -EINVAL);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 4096, 24, 2, 42, 0), -EINVAL);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 4096, 16, 2, 44, 0), 0);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 4096, 24, 2, 44, 0), 0);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 16384, 20, 2, 40, 0), -EINVAL);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 16384, 20, 2, 42, 0), 0);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 65536, 20, 2, 42, 0), -EINVAL);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 65536, 20, 2, 44, 0), 0);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 65536, 16, 2, 52, 0), 0);
	/* The smaller start levels do not depend on the PA size. */
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 4096, 24, 1, 32, 0), 0);
	CHECK_EQ(try_fmt(&f, PGT_LPAE_S2, 16384, 30, 1, 32, 0), 0);

	/* The CLI spelling reaches the same rules. */
	CHECK_EQ(pgt_fmt_parse(&f, "lpae-s2:4k:t0sz=24:sl0=1", err, sizeof(err)), 0);
	CHECK_EQ(f.family, PGT_LPAE_S2);
	CHECK_EQ(f.ia_bits, 40);
	CHECK_EQ(pgt_fmt_parse(&f, "lpae-s2:4k:t0sz=34:sl0=1", err, sizeof(err)), -EINVAL);
	CHECK_EQ(pgt_fmt_parse(&f, "lpae-s1:64k:t0sz=16:oas=52", err, sizeof(err)), 0);
	CHECK_EQ(pgt_fmt_parse(&f, "lpae-s1:4k:t0sz=16:oas=52", err, sizeof(err)), -EINVAL);
	CHECK_EQ(pgt_fmt_parse(&f, "lpae-s1:4k:t0sz=25:hd", err, sizeof(err)), -EINVAL);
}

/* ---- 2. stage-1 golden walks ------------------------------------------------------ */

/* 4K granule: 9 index bits a level, pages 4K, blocks 1G (L1) and 2M (L2). */
static void test_s1_4k(void)
{
	struct mem_space *s = new_space();
	struct pgt_fmt f;
	struct pgt_result r;
	uint64_t leaf;

	/*
	 * T0SZ=16 (IA 48): start = 3 - (48-1-12)/9 = 3 - 3 = L0.
	 * VA 0x3a5b7c9d1e2f:
	 *   L0 index VA[47:39] = 0x74  -> 0x10000 + 0x3a0 = 0x103a0 -> table 0x11000
	 *   L1 index VA[38:30] = 0x16d -> 0x11000 + 0xb68 = 0x11b68 -> table 0x12000
	 *   L2 index VA[29:21] = 0x1e4 -> 0x12000 + 0xf20 = 0x12f20 -> table 0x13000
	 *   L3 index VA[20:12] = 0x1d1 -> 0x13000 + 0xe88 = 0x13e88 -> page 0x12345000
	 *   OA = 0x12345000 | VA[11:0] 0xe2f = 0x12345e2f; 4 entries read.
	 * AP=00 at EL1: RW, and executable (PXN=0, not EL0-writable) -> RWX.
	 */
	f = s1_fmt(4096, 16, 48, 0);
	put(s, 0x103a0, table_desc(0x11000));
	put(s, 0x11b68, table_desc(0x12000));
	put(s, 0x12f20, table_desc(0x13000));
	leaf = page_desc(0x12345000, AP_PRIV_RW);
	put(s, 0x13e88, leaf);
	r = walk(&f, s, 0x10000, 0x3a5b7c9d1e2f, 0);
	expect_ok("4K T0SZ=16 page", &r, 0x12345e2f, SZ_4K, PERM_RWX, 4);
	CHECK_EQ(r.leaf[0], leaf);
	CHECK_EQ(r.leaf_level[0], 3);
	CHECK_EQ(r.leaf_level[1], -1);
	CHECK_EQ(r.updates, 0);
	/* Bottom, VA 0: L0[0] @0x10000 -> table 0x14000; L1[0] @0x14000 = 1G block
	 * 0x40000000 -> OA 0x40000000, 2 entries. */
	put(s, 0x10000, table_desc(0x14000));
	put(s, 0x14000, block_desc(0x40000000, AP_PRIV_RW));
	r = walk(&f, s, 0x10000, 0, 0);
	expect_ok("4K T0SZ=16 bottom (1G block)", &r, 0x40000000, SZ_1G, PERM_RWX, 2);
	CHECK_EQ(r.leaf_level[0], 1);
	/* Top, VA 0xffffffffffff: L0[511] @0x10ff8 -> 0x15000; L1[511] @0x15ff8 ->
	 * 0x16000; L2[511] @0x16ff8 = 2M block 0x7fe00000 -> OA 0x7fe00000 + 0x1fffff
	 * = 0x7fffffff, 3 entries. */
	put(s, 0x10ff8, table_desc(0x15000));
	put(s, 0x15ff8, table_desc(0x16000));
	put(s, 0x16ff8, block_desc(0x7fe00000, AP_PRIV_RW));
	r = walk(&f, s, 0x10000, 0xffffffffffff, 0);
	expect_ok("4K T0SZ=16 top (2M block)", &r, 0x7fffffff, SZ_2M, PERM_RWX, 3);
	CHECK_EQ(r.leaf_level[0], 2);
	expect_beyond("4K T0SZ=16 beyond", &f, s, 0x10000, UINT64_C(1) << 48, 1);
	/* Every bit above the range counts, not only bit 48. */
	expect_beyond("4K T0SZ=16 VA bit 63", &f, s, 0x10000, BIT(63) | 0x3a5b7c9d1e2f, 1);

	/*
	 * T0SZ=25 (IA 39): start = 3 - (39-1-12)/9 = 3 - 2 = L1.
	 * VA 0x5ab3c4d5e6:
	 *   L1 index VA[38:30] = 0x16a -> 0x20000 + 0xb50 = 0x20b50 -> table 0x21000
	 *   L2 index VA[29:21] = 0x19e -> 0x21000 + 0xcf0 = 0x21cf0 -> table 0x22000
	 *   L3 index VA[20:12] = 0x4d  -> 0x22000 + 0x268 = 0x22268 -> page 0x0abcd000
	 *   OA = 0x0abcd000 | 0x5e6 = 0xabcd5e6; 3 entries.
	 */
	f = s1_fmt(4096, 25, 48, 0);
	put(s, 0x20b50, table_desc(0x21000));
	put(s, 0x21cf0, table_desc(0x22000));
	put(s, 0x22268, page_desc(0x0abcd000, AP_PRIV_RW));
	r = walk(&f, s, 0x20000, 0x5ab3c4d5e6, 0);
	expect_ok("4K T0SZ=25 page", &r, 0xabcd5e6, SZ_4K, PERM_RWX, 3);
	/* Bottom: L1[0] @0x20000 = 1G block 0x80000000, 1 entry. */
	put(s, 0x20000, block_desc(0x80000000, AP_PRIV_RW));
	r = walk(&f, s, 0x20000, 0, 0);
	expect_ok("4K T0SZ=25 bottom (1G block at the root)", &r, 0x80000000, SZ_1G, PERM_RWX, 1);
	/* Top 0x7fffffffff: L1[511] @0x20ff8 -> 0x23000; L2[511] @0x23ff8 = 2M block
	 * 0x200000 -> OA 0x3fffff, 2 entries. */
	put(s, 0x20ff8, table_desc(0x23000));
	put(s, 0x23ff8, block_desc(0x200000, AP_PRIV_RW));
	r = walk(&f, s, 0x20000, 0x7fffffffff, 0);
	expect_ok("4K T0SZ=25 top", &r, 0x3fffff, SZ_2M, PERM_RWX, 2);
	expect_beyond("4K T0SZ=25 beyond", &f, s, 0x20000, UINT64_C(1) << 39, 1);

	/*
	 * T0SZ=34 (IA 30): start = 3 - (30-1-12)/9 = 3 - 1 = L2.
	 * VA 0x2bcde123:
	 *   L2 index VA[29:21] = 0x15e -> 0x30000 + 0xaf0 = 0x30af0 -> table 0x31000
	 *   L3 index VA[20:12] = 0xde  -> 0x31000 + 0x6f0 = 0x316f0 -> page 0x00fed000
	 *   OA = 0xfed000 | 0x123 = 0xfed123; 2 entries.
	 */
	f = s1_fmt(4096, 34, 48, 0);
	put(s, 0x30af0, table_desc(0x31000));
	put(s, 0x316f0, page_desc(0x00fed000, AP_PRIV_RW));
	r = walk(&f, s, 0x30000, 0x2bcde123, 0);
	expect_ok("4K T0SZ=34 page", &r, 0xfed123, SZ_4K, PERM_RWX, 2);
	/* Bottom: L2[0] @0x30000 = 2M block 0x600000, 1 entry. */
	put(s, 0x30000, block_desc(0x600000, AP_PRIV_RW));
	r = walk(&f, s, 0x30000, 0, 0);
	expect_ok("4K T0SZ=34 bottom", &r, 0x600000, SZ_2M, PERM_RWX, 1);
	/* Top 0x3fffffff: L2[511] @0x30ff8 -> 0x32000; L3[511] @0x32ff8 = page
	 * 0xabc000 -> OA 0xabcfff. */
	put(s, 0x30ff8, table_desc(0x32000));
	put(s, 0x32ff8, page_desc(0xabc000, AP_PRIV_RW));
	r = walk(&f, s, 0x30000, 0x3fffffff, 0);
	expect_ok("4K T0SZ=34 top", &r, 0xabcfff, SZ_4K, PERM_RWX, 2);
	expect_beyond("4K T0SZ=34 beyond", &f, s, 0x30000, UINT64_C(1) << 30, 1);

	/* The root's low bits below its size (4K here) are ignored, not faulted. */
	r = walk(&f, s, 0x30ff8, 0x2bcde123, 0);
	expect_ok("4K T0SZ=34 root 0x30ff8 (low bits ignored)", &r, 0xfed123, SZ_4K, PERM_RWX, 2);

	/* 4K/16K without LPA2: descriptor bits 51:48 are not address bits (NextTableBase
	 * and LeafBase take [47:gb]), so they neither fault nor reach the OA. Table at
	 * 0x30af0 and page at 0x316f0 of the T0SZ=34 tree get bits 51:48 set (in the
	 * page DBM = bit 51, which has no effect without HD). */
	put(s, 0x30af0, table_desc(0x31000) | LPAE_OA_HI);
	put(s, 0x316f0, page_desc(0x00fed000, AP_PRIV_RW) | LPAE_OA_HI);
	r = walk(&f, s, 0x30000, 0x2bcde123, 0);
	expect_ok("4K bits 51:48 ignored", &r, 0xfed123, SZ_4K, PERM_RWX, 2);

	/* Write and execute together is not a request. */
	CHECK_EQ(pgt_walk(&f, s, 0x30000, 0x2bcde123, PGT_ACC_WRITE | PGT_ACC_EXEC, &r, NULL),
		 -EINVAL);
	mem_space_free(s);
}

/* 16K granule: 11 index bits a level, pages 16K, blocks 32M (L2 only). */
static void test_s1_16k(void)
{
	struct mem_space *s = new_space();
	struct pgt_fmt f;
	struct pgt_result r;

	/*
	 * T0SZ=16 (IA 48): start = 3 - (48-1-14)/11 = 3 - 3 = L0, which resolves only
	 * VA[47]: a 2-entry (16-byte) root at 0x100000.
	 * VA 0x987654321abc (user read; AP=11 -> EL0 RO, UXN=0 -> user R|X):
	 *   L0 index VA[47]    = 1     -> 0x100000 + 0x8    = 0x100008 -> table 0x104000
	 *   L1 index VA[46:36] = 0x187 -> 0x104000 + 0xc38  = 0x104c38 -> table 0x108000
	 *   L2 index VA[35:25] = 0x32a -> 0x108000 + 0x1950 = 0x109950 -> table 0x10c000
	 *   L3 index VA[24:14] = 0xc8  -> 0x10c000 + 0x640  = 0x10c640 -> page 0x1234000
	 *   OA = 0x1234000 | VA[13:0] 0x1abc = 0x1235abc; 4 entries.
	 */
	f = s1_fmt(16384, 16, 48, 0);
	put(s, 0x100008, table_desc(0x104000));
	put(s, 0x104c38, table_desc(0x108000));
	put(s, 0x109950, table_desc(0x10c000));
	put(s, 0x10c640, page_desc(0x1234000, AP_ALL_RO));
	r = walk(&f, s, 0x100000, 0x987654321abc, PGT_ACC_USER);
	expect_ok("16K T0SZ=16 page", &r, 0x1235abc, SZ_16K, PERM_RX, 4);
	CHECK_EQ(pgt_root_align(&f), 16);
	/* A root given as 0x100008: bit 3 is below the 16-byte root size, so it is
	 * ignored; were it used, VA[47]=1 would read 0x100010 (zero) and fault. */
	r = walk(&f, s, 0x100008, 0x987654321abc, PGT_ACC_USER);
	expect_ok("16K T0SZ=16 root 0x100008 (low bits ignored)", &r, 0x1235abc, SZ_16K, PERM_RX, 4);
	/* Bottom: L0[0] @0x100000 -> 0x110000; L1[0] @0x110000 -> 0x114000; L2[0]
	 * @0x114000 = 32M block 0x2000000 -> OA 0x2000000, 3 entries. */
	put(s, 0x100000, table_desc(0x110000));
	put(s, 0x110000, table_desc(0x114000));
	put(s, 0x114000, block_desc(0x2000000, AP_ALL_RO));
	r = walk(&f, s, 0x100000, 0, PGT_ACC_USER);
	expect_ok("16K T0SZ=16 bottom (32M block)", &r, 0x2000000, SZ_32M, PERM_RX, 3);
	/* Top 0xffffffffffff: L0[1] (above) -> 0x104000; L1[2047] @0x107ff8 -> 0x118000;
	 * L2[2047] @0x11bff8 -> 0x11c000; L3[2047] @0x11fff8 = page 0xffc000 ->
	 * OA 0xffc000 | 0x3fff = 0xffffff, 4 entries. */
	put(s, 0x107ff8, table_desc(0x118000));
	put(s, 0x11bff8, table_desc(0x11c000));
	put(s, 0x11fff8, page_desc(0xffc000, AP_ALL_RO));
	r = walk(&f, s, 0x100000, 0xffffffffffff, PGT_ACC_USER);
	expect_ok("16K T0SZ=16 top", &r, 0xffffff, SZ_16K, PERM_RX, 4);
	expect_beyond("16K T0SZ=16 beyond", &f, s, 0x100000, UINT64_C(1) << 48, 1);

	/*
	 * T0SZ=17 (IA 47): start = 3 - (47-1-14)/11 = 3 - 2 = L1 (11 bits, full table).
	 * VA 0x5555aaaa1234:
	 *   L1 index VA[46:36] = 0x555 -> 0x120000 + 0x2aa8 = 0x122aa8 -> table 0x124000
	 *   L2 index VA[35:25] = 0x2d5 -> 0x124000 + 0x16a8 = 0x1256a8 -> table 0x128000
	 *   L3 index VA[24:14] = 0x2a8 -> 0x128000 + 0x1540 = 0x129540 -> page 0x4568000
	 *   OA = 0x4568000 | 0x1234 = 0x4569234; 3 entries.
	 */
	f = s1_fmt(16384, 17, 48, 0);
	put(s, 0x122aa8, table_desc(0x124000));
	put(s, 0x1256a8, table_desc(0x128000));
	put(s, 0x129540, page_desc(0x4568000, AP_ALL_RO));
	r = walk(&f, s, 0x120000, 0x5555aaaa1234, PGT_ACC_USER);
	expect_ok("16K T0SZ=17 page", &r, 0x4569234, SZ_16K, PERM_RX, 3);
	/* Bottom: L1[0] @0x120000 -> 0x12c000; L2[0] @0x12c000 = 32M block 0x4000000. */
	put(s, 0x120000, table_desc(0x12c000));
	put(s, 0x12c000, block_desc(0x4000000, AP_ALL_RO));
	r = walk(&f, s, 0x120000, 0, PGT_ACC_USER);
	expect_ok("16K T0SZ=17 bottom", &r, 0x4000000, SZ_32M, PERM_RX, 2);
	/* Top 0x7fffffffffff: L1[2047] @0x123ff8 -> 0x130000; L2[2047] @0x133ff8 = 32M
	 * block 0x6000000 -> OA 0x6000000 + 0x1ffffff = 0x7ffffff. */
	put(s, 0x123ff8, table_desc(0x130000));
	put(s, 0x133ff8, block_desc(0x6000000, AP_ALL_RO));
	r = walk(&f, s, 0x120000, 0x7fffffffffff, PGT_ACC_USER);
	expect_ok("16K T0SZ=17 top", &r, 0x7ffffff, SZ_32M, PERM_RX, 2);
	expect_beyond("16K T0SZ=17 beyond", &f, s, 0x120000, UINT64_C(1) << 47, 1);

	/*
	 * T0SZ=28 (IA 36): start = 3 - (36-1-14)/11 = 3 - 1 = L2.
	 * VA 0x987654321:
	 *   L2 index VA[35:25] = 0x4c3 -> 0x140000 + 0x2618 = 0x142618 -> table 0x144000
	 *   L3 index VA[24:14] = 0x595 -> 0x144000 + 0x2ca8 = 0x146ca8 -> page 0xaaac000
	 *   OA = 0xaaac000 | VA[13:0] 0x0321 = 0xaaac321; 2 entries.
	 */
	f = s1_fmt(16384, 28, 48, 0);
	put(s, 0x142618, table_desc(0x144000));
	put(s, 0x146ca8, page_desc(0xaaac000, AP_ALL_RO));
	r = walk(&f, s, 0x140000, 0x987654321, PGT_ACC_USER);
	expect_ok("16K T0SZ=28 page", &r, 0xaaac321, SZ_16K, PERM_RX, 2);
	/* Bottom: L2[0] @0x140000 = 32M block 0x8000000, 1 entry. */
	put(s, 0x140000, block_desc(0x8000000, AP_ALL_RO));
	r = walk(&f, s, 0x140000, 0, PGT_ACC_USER);
	expect_ok("16K T0SZ=28 bottom", &r, 0x8000000, SZ_32M, PERM_RX, 1);
	/* Top 0xfffffffff: L2[2047] @0x143ff8 -> 0x148000; L3[2047] @0x14bff8 = page
	 * 0xbbbc000 -> OA 0xbbbffff. */
	put(s, 0x143ff8, table_desc(0x148000));
	put(s, 0x14bff8, page_desc(0xbbbc000, AP_ALL_RO));
	r = walk(&f, s, 0x140000, 0xfffffffff, PGT_ACC_USER);
	expect_ok("16K T0SZ=28 top", &r, 0xbbbffff, SZ_16K, PERM_RX, 2);
	expect_beyond("16K T0SZ=28 beyond", &f, s, 0x140000, UINT64_C(1) << 36, 1);

	/*
	 * T0SZ=39 (IA 25): start = 3 - (25-1-14)/11 = 3 - 0 = L3; one table indexed by
	 * VA[24:14].
	 * VA 0x1234567: L3 index 0x48d -> 0x160000 + 0x2468 = 0x162468 -> page 0xcccc000
	 *   OA = 0xcccc000 | 0x0567 = 0xcccc567; 1 entry.
	 */
	f = s1_fmt(16384, 39, 48, 0);
	put(s, 0x162468, page_desc(0xcccc000, AP_ALL_RO));
	r = walk(&f, s, 0x160000, 0x1234567, PGT_ACC_USER);
	expect_ok("16K T0SZ=39 page", &r, 0xcccc567, SZ_16K, PERM_RX, 1);
	CHECK_EQ(r.leaf_level[0], 3);
	/* Bottom: L3[0] @0x160000 = page 0x10000. Top 0x1ffffff: L3[2047] @0x163ff8 =
	 * page 0x20000 -> OA 0x23fff. */
	put(s, 0x160000, page_desc(0x10000, AP_ALL_RO));
	put(s, 0x163ff8, page_desc(0x20000, AP_ALL_RO));
	r = walk(&f, s, 0x160000, 0, PGT_ACC_USER);
	expect_ok("16K T0SZ=39 bottom", &r, 0x10000, SZ_16K, PERM_RX, 1);
	r = walk(&f, s, 0x160000, 0x1ffffff, PGT_ACC_USER);
	expect_ok("16K T0SZ=39 top", &r, 0x23fff, SZ_16K, PERM_RX, 1);
	expect_beyond("16K T0SZ=39 beyond", &f, s, 0x160000, UINT64_C(1) << 25, 1);

	/* Bits 51:48 are not address bits with 16K either (table 0x142618 of T0SZ=28). */
	f = s1_fmt(16384, 28, 48, 0);
	put(s, 0x142618, table_desc(0x144000) | LPAE_OA_HI);
	r = walk(&f, s, 0x140000, 0x987654321, PGT_ACC_USER);
	expect_ok("16K bits 51:48 ignored", &r, 0xaaac321, SZ_16K, PERM_RX, 2);
	mem_space_free(s);
}

/* 64K granule: 13 index bits a level, pages 64K, blocks 512M (L2) and 4T (L1, the
 * model implements FEAT_LPA); descriptor bits 15:12 are OA[51:48]. */
static void test_s1_64k(void)
{
	struct mem_space *s = new_space();
	struct pgt_fmt f;
	struct pgt_result r;

	/*
	 * T0SZ=16 (IA 48): start = 3 - (48-1-16)/13 = 3 - 2 = L1 (64K never starts at
	 * L0), which resolves VA[47:42]: a 64-entry root.
	 * VA 0xabcdef123456 (privileged read; AP=01 is EL0-writable, so PXN is implied:
	 * EL1 gets R|W without X):
	 *   L1 index VA[47:42] = 0x2a   -> 0x200000 + 0x150  = 0x200150 -> table 0x210000
	 *   L2 index VA[41:29] = 0x1e6f -> 0x210000 + 0xf378 = 0x21f378 -> table 0x220000
	 *   L3 index VA[28:16] = 0xf12  -> 0x220000 + 0x7890 = 0x227890 -> page 0x12340000
	 *   OA = 0x12340000 | VA[15:0] 0x3456 = 0x12343456; 3 entries.
	 */
	f = s1_fmt(65536, 16, 48, 0);
	put(s, 0x200150, table_desc(0x210000));
	put(s, 0x21f378, table_desc(0x220000));
	put(s, 0x227890, page_desc(0x12340000, AP_ALL_RW));
	r = walk(&f, s, 0x200000, 0xabcdef123456, 0);
	expect_ok("64K T0SZ=16 page", &r, 0x12343456, SZ_64K, PERM_RW, 3);
	/* Bottom: L1[0] @0x200000 -> 0x230000; L2[0] @0x230000 = 512M block 0x20000000. */
	put(s, 0x200000, table_desc(0x230000));
	put(s, 0x230000, block_desc(0x20000000, AP_ALL_RW));
	r = walk(&f, s, 0x200000, 0, 0);
	expect_ok("64K T0SZ=16 bottom (512M block)", &r, 0x20000000, SZ_512M, PERM_RW, 2);
	/* Top 0xffffffffffff: L1[63] @0x2001f8 = 4T block 0x3c0000000000 -> OA
	 * 0x3c0000000000 + 0x3ffffffffff = 0x3fffffffffff, 1 entry. */
	put(s, 0x2001f8, block_desc(0x3c0000000000, AP_ALL_RW));
	r = walk(&f, s, 0x200000, 0xffffffffffff, 0);
	expect_ok("64K T0SZ=16 top (4T block)", &r, 0x3fffffffffff, SZ_4T, PERM_RW, 1);
	CHECK_EQ(r.leaf_level[0], 1);
	expect_beyond("64K T0SZ=16 beyond", &f, s, 0x200000, UINT64_C(1) << 48, 1);

	/*
	 * T0SZ=22 (IA 42): start = 3 - (42-1-16)/13 = 3 - 1 = L2.
	 * VA 0x2aa55551234:
	 *   L2 index VA[41:29] = 0x1552 -> 0x300000 + 0xaa90 = 0x30aa90 -> table 0x310000
	 *   L3 index VA[28:16] = 0x1555 -> 0x310000 + 0xaaa8 = 0x31aaa8 -> page 0x5670000
	 *   OA = 0x5670000 | 0x1234 = 0x5671234; 2 entries.
	 */
	f = s1_fmt(65536, 22, 48, 0);
	put(s, 0x30aa90, table_desc(0x310000));
	put(s, 0x31aaa8, page_desc(0x5670000, AP_ALL_RW));
	r = walk(&f, s, 0x300000, 0x2aa55551234, 0);
	expect_ok("64K T0SZ=22 page", &r, 0x5671234, SZ_64K, PERM_RW, 2);
	/* Bottom: L2[0] @0x300000 = 512M block 0x40000000. */
	put(s, 0x300000, block_desc(0x40000000, AP_ALL_RW));
	r = walk(&f, s, 0x300000, 0, 0);
	expect_ok("64K T0SZ=22 bottom", &r, 0x40000000, SZ_512M, PERM_RW, 1);
	/* Top 0x3ffffffffff: L2[8191] @0x30fff8 -> 0x320000; L3[8191] @0x32fff8 = page
	 * 0x7890000 -> OA 0x789ffff. */
	put(s, 0x30fff8, table_desc(0x320000));
	put(s, 0x32fff8, page_desc(0x7890000, AP_ALL_RW));
	r = walk(&f, s, 0x300000, 0x3ffffffffff, 0);
	expect_ok("64K T0SZ=22 top", &r, 0x789ffff, SZ_64K, PERM_RW, 2);
	expect_beyond("64K T0SZ=22 beyond", &f, s, 0x300000, UINT64_C(1) << 42, 1);

	/*
	 * T0SZ=35 (IA 29): start = 3 - (29-1-16)/13 = 3 - 0 = L3 (VA[28:16]).
	 * VA 0x12345678: L3 index 0x1234 -> 0x400000 + 0x91a0 = 0x4091a0 -> page
	 *   0xabc0000; OA = 0xabc0000 | 0x5678 = 0xabc5678; 1 entry.
	 */
	f = s1_fmt(65536, 35, 48, 0);
	put(s, 0x4091a0, page_desc(0xabc0000, AP_ALL_RW));
	r = walk(&f, s, 0x400000, 0x12345678, 0);
	expect_ok("64K T0SZ=35 page", &r, 0xabc5678, SZ_64K, PERM_RW, 1);
	/* Bottom: L3[0] @0x400000 = page 0x10000; top 0x1fffffff: L3[8191] @0x40fff8 =
	 * page 0x20000 -> OA 0x2ffff. */
	put(s, 0x400000, page_desc(0x10000, AP_ALL_RW));
	put(s, 0x40fff8, page_desc(0x20000, AP_ALL_RW));
	r = walk(&f, s, 0x400000, 0, 0);
	expect_ok("64K T0SZ=35 bottom", &r, 0x10000, SZ_64K, PERM_RW, 1);
	r = walk(&f, s, 0x400000, 0x1fffffff, 0);
	expect_ok("64K T0SZ=35 top", &r, 0x2ffff, SZ_64K, PERM_RW, 1);
	expect_beyond("64K T0SZ=35 beyond", &f, s, 0x400000, UINT64_C(1) << 29, 1);

	/*
	 * 52-bit OA, T0SZ=16, root 0x500000 (privileged read, AP=10 -> R|X):
	 * VA 0x123456789abc: L1 index VA[47:42] = 4 -> 0x500020 = 4T block for OA
	 *   0xabc0000000000: OA[51:48] = 0xa in bits 15:12, OA[47:42] in bits 47:42
	 *   (0x0000bc0000000000). OA = 0xabc0000000000 | VA[41:0] 0x23456789abc =
	 *   0xabe3456789abc; 1 entry.
	 * VA 0x76543210fedc:
	 *   L1 index VA[47:42] = 0x1d   -> 0x500000 + 0xe8   = 0x5000e8 -> table 0x510000
	 *   L2 index VA[41:29] = 0x12a1 -> 0x510000 + 0x9508 = 0x519508 -> table 0x520000
	 *   L3 index VA[28:16] = 0x1210 -> 0x520000 + 0x9080 = 0x529080 -> page
	 *   0xf012345670000: bits 47:16 = 0x01234567, bits 15:12 = 0xf.
	 *   OA = 0xf012345670000 | 0xfedc = 0xf01234567fedc; 3 entries.
	 */
	f = s1_fmt(65536, 16, 52, 0);
	put(s, 0x500020, block_desc(0x0000bc0000000000, AP_PRIV_RO) | (UINT64_C(0xa) << 12));
	r = walk(&f, s, 0x500000, 0x123456789abc, 0);
	expect_ok("64K oas 52 4T block", &r, 0xabe3456789abc, SZ_4T, PERM_RX, 1);
	put(s, 0x5000e8, table_desc(0x510000));
	put(s, 0x519508, table_desc(0x520000));
	put(s, 0x529080, page_desc(0x0000012345670000, AP_PRIV_RO) | (UINT64_C(0xf) << 12));
	r = walk(&f, s, 0x500000, 0x76543210fedc, 0);
	expect_ok("64K oas 52 page", &r, 0xf01234567fedc, SZ_64K, PERM_RX, 3);

	/*
	 * Root alignment with 52-bit OA: T0SZ=21 (IA 43) starts at L1 resolving only
	 * VA[42], a 16-byte root; with a 52-bit OA the root is aligned to 64 bytes at
	 * least (S1TTBaseAddress; SMMU CD.TTB0), so root 0x600010 means 0x600000.
	 * With OA 48 the root is 16-byte aligned and 0x600010 is used as is.
	 * VA 0x123 (VA[42] = 0): entry root + 0.
	 *   0x600000 = 4T block 0x40000000000 -> OA 0x40000000123 (OA 52)
	 *   0x600010 = 4T block 0x80000000000 -> OA 0x80000000123 (OA 48)
	 */
	put(s, 0x600000, block_desc(0x40000000000, AP_PRIV_RO));
	put(s, 0x600010, block_desc(0x80000000000, AP_PRIV_RO));
	f = s1_fmt(65536, 21, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 16);
	r = walk(&f, s, 0x600010, 0x123, 0);
	expect_ok("64K T0SZ=21 oas 48 root 0x600010", &r, 0x80000000123, SZ_4T, PERM_RX, 1);
	f = s1_fmt(65536, 21, 52, 0);
	CHECK_EQ(pgt_root_align(&f), 64);
	r = walk(&f, s, 0x600010, 0x123, 0);
	expect_ok("64K T0SZ=21 oas 52 root 0x600010", &r, 0x40000000123, SZ_4T, PERM_RX, 1);
	mem_space_free(s);
}

/* ---- 3. stage 2: start levels from SL0 and concatenation ------------------------ */

static void test_s2_start_levels(void)
{
	struct mem_space *s = new_space();
	struct pgt_fmt f;
	struct pgt_result r;
	uint64_t leaf;

	/*
	 * 4K, SL0=0 -> L2, T0SZ=34 (IA 30). IPA 0x13579bdf:
	 *   L2 index IPA[29:21] = 0x9a  -> 0x700000 + 0x4d0 = 0x7004d0 -> table 0x701000
	 *   L3 index IPA[20:12] = 0x179 -> 0x701000 + 0xbc8 = 0x701bc8 -> page 0x2468000
	 *   OA = 0x2468000 | 0xbdf = 0x2468bdf; S2AP=11, XN=0 -> RWX; 2 entries.
	 */
	f = s2_fmt(4096, 34, 0, 48, 0);
	put(s, 0x7004d0, table_desc(0x701000));
	leaf = page_desc(0x2468000, S2AP_RW);
	put(s, 0x701bc8, leaf);
	r = walk(&f, s, 0x700000, 0x13579bdf, 0);
	expect_ok("S2 4K SL0=0 T0SZ=34", &r, 0x2468bdf, SZ_4K, PERM_RWX, 2);
	CHECK_EQ(r.leaf[1], leaf);
	CHECK_EQ(r.leaf_level[1], 3);
	CHECK_EQ(r.leaf_level[0], -1);
	expect_beyond("S2 4K T0SZ=34 beyond", &f, s, 0x700000, UINT64_C(1) << 30, 2);

	/*
	 * 4K, SL0=1 -> L1, T0SZ=25 (IA 39). IPA 0x6543210fed:
	 *   L1 index IPA[38:30] = 0x195 -> 0x710000 + 0xca8 = 0x710ca8 -> table 0x711000
	 *   L2 index IPA[29:21] = 0x19  -> 0x711000 + 0xc8  = 0x7110c8 -> table 0x712000
	 *   L3 index IPA[20:12] = 0x10  -> 0x712000 + 0x80  = 0x712080 -> page 0x369c000
	 *   OA = 0x369c000 | 0xfed = 0x369cfed; 3 entries.
	 */
	f = s2_fmt(4096, 25, 1, 48, 0);
	put(s, 0x710ca8, table_desc(0x711000));
	put(s, 0x7110c8, table_desc(0x712000));
	put(s, 0x712080, page_desc(0x369c000, S2AP_RW));
	r = walk(&f, s, 0x710000, 0x6543210fed, 0);
	expect_ok("S2 4K SL0=1 T0SZ=25", &r, 0x369cfed, SZ_4K, PERM_RWX, 3);
	expect_beyond("S2 4K T0SZ=25 beyond", &f, s, 0x710000, UINT64_C(1) << 39, 2);

	/*
	 * 4K, SL0=2 -> L0, T0SZ=16 (IA 48), PA 48. IPA 0xfedcba987654:
	 *   L0 index IPA[47:39] = 0x1fd -> 0x720000 + 0xfe8 = 0x720fe8 -> table 0x721000
	 *   L1 index IPA[38:30] = 0x172 -> 0x721000 + 0xb90 = 0x721b90 -> table 0x722000
	 *   L2 index IPA[29:21] = 0x1d4 -> 0x722000 + 0xea0 = 0x722ea0 -> table 0x723000
	 *   L3 index IPA[20:12] = 0x187 -> 0x723000 + 0xc38 = 0x723c38 -> page 0x48ac000
	 *   OA = 0x48ac000 | 0x654 = 0x48ac654; 4 entries.
	 */
	f = s2_fmt(4096, 16, 2, 48, 0);
	put(s, 0x720fe8, table_desc(0x721000));
	put(s, 0x721b90, table_desc(0x722000));
	put(s, 0x722ea0, table_desc(0x723000));
	put(s, 0x723c38, page_desc(0x48ac000, S2AP_RW));
	r = walk(&f, s, 0x720000, 0xfedcba987654, 0);
	expect_ok("S2 4K SL0=2 T0SZ=16", &r, 0x48ac654, SZ_4K, PERM_RWX, 4);
	expect_beyond("S2 4K T0SZ=16 beyond", &f, s, 0x720000, UINT64_C(1) << 48, 2);

	/*
	 * 16K, SL0=1 -> L2, T0SZ=30 (IA 34): the start level resolves IPA[33:25], 9 bits,
	 * a 4 KiB root. IPA 0x23456789a:
	 *   L2 index IPA[33:25] = 0x11a -> 0x730000 + 0x8d0 = 0x7308d0 -> table 0x734000
	 *   L3 index IPA[24:14] = 0x159 -> 0x734000 + 0xac8 = 0x734ac8 -> page 0x5ab4000
	 *   OA = 0x5ab4000 | IPA[13:0] 0x389a = 0x5ab789a; 2 entries.
	 */
	f = s2_fmt(16384, 30, 1, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 0x1000);
	put(s, 0x7308d0, table_desc(0x734000));
	put(s, 0x734ac8, page_desc(0x5ab4000, S2AP_RW));
	r = walk(&f, s, 0x730000, 0x23456789a, 0);
	expect_ok("S2 16K SL0=1 T0SZ=30", &r, 0x5ab789a, SZ_16K, PERM_RWX, 2);
	expect_beyond("S2 16K T0SZ=30 beyond", &f, s, 0x730000, UINT64_C(1) << 34, 2);

	/*
	 * 16K, SL0=2 -> L1 (needs PA >= 42), T0SZ=20 (IA 44), PA 42. IPA 0xabcdef01234:
	 *   L1 index IPA[43:36] = 0xab  -> 0x740000 + 0x558  = 0x740558 -> table 0x744000
	 *   L2 index IPA[35:25] = 0x66f -> 0x744000 + 0x3378 = 0x747378 -> table 0x748000
	 *   L3 index IPA[24:14] = 0x3c0 -> 0x748000 + 0x1e00 = 0x749e00 -> page 0x1230000
	 *   OA = 0x1230000 | 0x1234 = 0x1231234; 3 entries.
	 */
	f = s2_fmt(16384, 20, 2, 42, 0);
	put(s, 0x740558, table_desc(0x744000));
	put(s, 0x747378, table_desc(0x748000));
	put(s, 0x749e00, page_desc(0x1230000, S2AP_RW));
	r = walk(&f, s, 0x740000, 0xabcdef01234, 0);
	expect_ok("S2 16K SL0=2 T0SZ=20", &r, 0x1231234, SZ_16K, PERM_RWX, 3);

	/*
	 * 64K, SL0=0 -> L3, T0SZ=33 (IA 31): L3 resolves IPA[30:16], 15 bits = 4
	 * concatenated 64K tables (256 KiB) at 0x780000. IPA 0x5a5a5a5a: flat index
	 * 0x5a5a = 23130 = table 2, entry 6746 -> 0x780000 + 0x2d2d0 = 0x7ad2d0 -> page
	 * 0xace0000; OA = 0xace0000 | 0x5a5a = 0xace5a5a; 1 entry.
	 */
	f = s2_fmt(65536, 33, 0, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 0x40000);
	put(s, 0x7ad2d0, page_desc(0xace0000, S2AP_RW));
	r = walk(&f, s, 0x780000, 0x5a5a5a5a, 0);
	expect_ok("S2 64K SL0=0 T0SZ=33", &r, 0xace5a5a, SZ_64K, PERM_RWX, 1);

	/*
	 * 64K, SL0=1 -> L2, T0SZ=24 (IA 40): L2 resolves IPA[39:29], 11 bits: one
	 * partial table of 16 KiB, no concatenation. IPA 0xa5a5a5a5a5:
	 *   L2 index IPA[39:29] = 0x52d -> 0x7c0000 + 0x2968 = 0x7c2968 -> table 0x7d0000
	 *   L3 index IPA[28:16] = 0x5a5 -> 0x7d0000 + 0x2d28 = 0x7d2d28 -> page 0xbdf0000
	 *   OA = 0xbdf0000 | 0xa5a5 = 0xbdfa5a5; 2 entries.
	 */
	f = s2_fmt(65536, 24, 1, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 0x4000);
	put(s, 0x7c2968, table_desc(0x7d0000));
	put(s, 0x7d2d28, page_desc(0xbdf0000, S2AP_RW));
	r = walk(&f, s, 0x7c0000, 0xa5a5a5a5a5, 0);
	expect_ok("S2 64K SL0=1 T0SZ=24", &r, 0xbdfa5a5, SZ_64K, PERM_RWX, 2);

	/*
	 * 64K, SL0=2 -> L1 (needs PA >= 44), T0SZ=16 (IA 48). IPA 0x842184218421:
	 *   L1 index IPA[47:42] = 0x21  -> 0x7e0000 + 0x108  = 0x7e0108 -> table 0x7f0000
	 *   L2 index IPA[41:29] = 0x10c -> 0x7f0000 + 0x860  = 0x7f0860 -> table 0x800000
	 *   L3 index IPA[28:16] = 0x421 -> 0x800000 + 0x2108 = 0x802108 -> page 0xcab0000
	 *   OA = 0xcab0000 | 0x8421 = 0xcab8421; 3 entries.
	 */
	f = s2_fmt(65536, 16, 2, 48, 0);
	put(s, 0x7e0108, table_desc(0x7f0000));
	put(s, 0x7f0860, table_desc(0x800000));
	put(s, 0x802108, page_desc(0xcab0000, S2AP_RW));
	r = walk(&f, s, 0x7e0000, 0x842184218421, 0);
	expect_ok("S2 64K SL0=2 T0SZ=16", &r, 0xcab8421, SZ_64K, PERM_RWX, 3);
	mem_space_free(s);
}

/*
 * Concatenated start-level tables (S2SLTTEntryAddress): one flat index
 * IPA[IA-1 : lsb], lsb = levels*stride + gb; table number = index / entries per
 * table. Each case also writes a decoy where a walker that kept only a one-table
 * index (index mod entries) would look, so landing in the wrong table shows.
 */
static void test_s2_concatenation(void)
{
	struct mem_space *s = new_space();
	struct pgt_fmt f;
	struct pgt_result r;

	/*
	 * 4K SL0=1 (L1) T0SZ=24 (IA 40): lsb 30, index IPA[39:30] = 10 bits -> 2 tables,
	 * 8 KiB root at 0x800000.
	 * IPA 0x856789abcd: index 0x215 = 533 = table 1, entry 21 -> 0x800000 + 0x10a8
	 *   = 0x8010a8 = 1G block 0x40000000 -> OA 0x40000000 | IPA[29:0] 0x2789abcd =
	 *   0x6789abcd; 1 entry. Decoy: table 0 entry 21 = 0x8000a8.
	 */
	f = s2_fmt(4096, 24, 1, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 0x2000);
	CHECK_EQ(f.root_size, 0x2000);
	put(s, 0x8010a8, block_desc(0x40000000, S2AP_RW));
	put(s, 0x8000a8, block_desc(0xc0000000, S2AP_RW));
	r = walk(&f, s, 0x800000, 0x856789abcd, 0);
	expect_ok("S2 4K T0SZ=24 2 tables: table 1", &r, 0x6789abcd, SZ_1G, PERM_RWX, 1);
	/* The root's bits below 8 KiB are ignored: 0x801ff8 means 0x800000. */
	r = walk(&f, s, 0x801ff8, 0x856789abcd, 0);
	expect_ok("S2 4K T0SZ=24 root 0x801ff8 masked", &r, 0x6789abcd, SZ_1G, PERM_RWX, 1);
	/*
	 * IPA 0x123456789a: index 0x48 = 72 (table 0) -> 0x800240 -> table 0x803000;
	 *   L2 index IPA[29:21] = 0x1a2 -> 0x803d10 -> table 0x804000;
	 *   L3 index IPA[20:12] = 0x167 -> 0x804b38 -> page 0xdead000 -> OA 0xdead89a.
	 */
	put(s, 0x800240, table_desc(0x803000));
	put(s, 0x803d10, table_desc(0x804000));
	put(s, 0x804b38, page_desc(0xdead000, S2AP_RW));
	r = walk(&f, s, 0x800000, 0x123456789a, 0);
	expect_ok("S2 4K T0SZ=24 table 0, 3 levels", &r, 0xdead89a, SZ_4K, PERM_RWX, 3);
	/* Top IPA 0xffffffffff: index 1023 -> last entry 0x801ff8 = 1G block 0x1c0000000
	 * -> OA 0x1ffffffff. */
	put(s, 0x801ff8, block_desc(0x1c0000000, S2AP_RW));
	r = walk(&f, s, 0x800000, 0xffffffffff, 0);
	expect_ok("S2 4K T0SZ=24 top", &r, 0x1ffffffff, SZ_1G, PERM_RWX, 1);
	expect_beyond("S2 4K T0SZ=24 beyond", &f, s, 0x800000, UINT64_C(1) << 40, 2);

	/*
	 * 4K SL0=1 T0SZ=22 (IA 42): index IPA[41:30] = 12 bits -> 8 tables, 32 KiB root
	 * at 0x810000. IPA 0x2edcba98765: index 0xbb7 = 2999 = table 5, entry 439 ->
	 * 0x810000 + 0x5db8 = 0x815db8 = 1G block 0x80000000 -> OA 0x80000000 |
	 * 0x0ba98765 = 0x8ba98765. Decoy: table 0 entry 439 = 0x810db8.
	 */
	f = s2_fmt(4096, 22, 1, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 0x8000);
	put(s, 0x815db8, block_desc(0x80000000, S2AP_RW));
	put(s, 0x810db8, block_desc(0xc0000000, S2AP_RW));
	r = walk(&f, s, 0x810000, 0x2edcba98765, 0);
	expect_ok("S2 4K T0SZ=22 8 tables: table 5", &r, 0x8ba98765, SZ_1G, PERM_RWX, 1);

	/*
	 * 4K SL0=1 T0SZ=21 (IA 43): index IPA[42:30] = 13 bits -> 16 tables, 64 KiB root
	 * at 0x820000.
	 * IPA 0x5a5a5a5a5a5: index 0x1696 = 5782 = table 11, entry 150 -> 0x820000 +
	 *   0xb4b0 = 0x82b4b0 = 1G block 0x100000000 -> OA 0x125a5a5a5. Decoy: table 0
	 *   entry 150 = 0x8204b0.
	 * IPA 0x7ffffffffff (top): index 8191 = table 15, entry 511 -> 0x82fff8 -> table
	 *   0x830000; L2[511] @0x830ff8 -> 0x831000; L3[511] @0x831ff8 = page 0xf00f000
	 *   -> OA 0xf00ffff; 3 entries.
	 */
	f = s2_fmt(4096, 21, 1, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 0x10000);
	put(s, 0x82b4b0, block_desc(0x100000000, S2AP_RW));
	put(s, 0x8204b0, block_desc(0xc0000000, S2AP_RW));
	r = walk(&f, s, 0x820000, 0x5a5a5a5a5a5, 0);
	expect_ok("S2 4K T0SZ=21 16 tables: table 11", &r, 0x125a5a5a5, SZ_1G, PERM_RWX, 1);
	put(s, 0x82fff8, table_desc(0x830000));
	put(s, 0x830ff8, table_desc(0x831000));
	put(s, 0x831ff8, page_desc(0xf00f000, S2AP_RW));
	r = walk(&f, s, 0x820000, 0x7ffffffffff, 0);
	expect_ok("S2 4K T0SZ=21 top: table 15", &r, 0xf00ffff, SZ_4K, PERM_RWX, 3);
	expect_beyond("S2 4K T0SZ=21 beyond", &f, s, 0x820000, UINT64_C(1) << 43, 2);

	/*
	 * 16K SL0=1 (L2) T0SZ=27 (IA 37): lsb 25, index IPA[36:25] = 12 bits -> 2 tables,
	 * 32 KiB root at 0x840000. IPA 0x1bcdef1234: index 0xde6 = 3558 = table 1, entry
	 * 1510 -> 0x840000 + 0x6f30 = 0x846f30 = 32M block 0xe000000 -> OA 0xe000000 |
	 * IPA[24:0] 0x1ef1234 = 0xfef1234. Decoy: table 0 entry 1510 = 0x842f30.
	 */
	f = s2_fmt(16384, 27, 1, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 0x8000);
	put(s, 0x846f30, block_desc(0xe000000, S2AP_RW));
	put(s, 0x842f30, block_desc(0x2000000, S2AP_RW));
	r = walk(&f, s, 0x840000, 0x1bcdef1234, 0);
	expect_ok("S2 16K T0SZ=27 2 tables: table 1", &r, 0xfef1234, SZ_32M, PERM_RWX, 1);

	/*
	 * 16K SL0=0 (L3) T0SZ=35 (IA 29): lsb 14, index IPA[28:14] = 15 bits -> 16
	 * level-3 tables, 256 KiB root at 0x880000. IPA 0x1badcafe: index 0x6eb7 = 28343
	 * = table 13, entry 1719 -> 0x880000 + 0x375b8 = 0x8b75b8 = page 0xbee0000 ->
	 * OA 0xbee0000 | IPA[13:0] 0xafe = 0xbee0afe. Decoy: table 0 entry 1719 =
	 * 0x8835b8.
	 */
	f = s2_fmt(16384, 35, 0, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 0x40000);
	put(s, 0x8b75b8, page_desc(0xbee0000, S2AP_RW));
	put(s, 0x8835b8, page_desc(0x10000, S2AP_RW));
	r = walk(&f, s, 0x880000, 0x1badcafe, 0);
	expect_ok("S2 16K T0SZ=35 16 L3 tables: table 13", &r, 0xbee0afe, SZ_16K, PERM_RWX, 1);

	/*
	 * 64K SL0=1 (L2) T0SZ=20 (IA 44): lsb 29, index IPA[43:29] = 15 bits -> 4 tables,
	 * 256 KiB root at 0x900000. IPA 0xdef01234567: index 0x6f78 = 28536 = table 3,
	 * entry 3960 -> 0x900000 + 0x37bc0 = 0x937bc0 -> table 0x980000; L3 index
	 * IPA[28:16] = 0x123 -> 0x980918 = page 0xfed0000 -> OA 0xfed4567; 2 entries.
	 * Decoy: table 0 entry 3960 = 0x907bc0.
	 */
	f = s2_fmt(65536, 20, 1, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 0x40000);
	put(s, 0x937bc0, table_desc(0x980000));
	put(s, 0x980918, page_desc(0xfed0000, S2AP_RW));
	put(s, 0x907bc0, block_desc(0x20000000, S2AP_RW));
	r = walk(&f, s, 0x900000, 0xdef01234567, 0);
	expect_ok("S2 64K T0SZ=20 4 tables: table 3", &r, 0xfed4567, SZ_64K, PERM_RWX, 2);

	/*
	 * 64K SL0=1 T0SZ=18 (IA 46): index IPA[45:29] = 17 bits -> 16 tables, 1 MiB root
	 * at 0xa00000. IPA 0x3badcafef00d: index 0x1dd6e = 122222 = table 14, entry 7534
	 * -> 0xa00000 + 0xeeb70 = 0xaeeb70 = 512M block 0x20000000 -> OA 0x20000000 |
	 * IPA[28:0] 0x0afef00d = 0x2afef00d. Decoy: table 0 entry 7534 = 0xa0eb70.
	 */
	f = s2_fmt(65536, 18, 1, 48, 0);
	CHECK_EQ(pgt_root_align(&f), 0x100000);
	put(s, 0xaeeb70, block_desc(0x20000000, S2AP_RW));
	put(s, 0xa0eb70, block_desc(0x40000000, S2AP_RW));
	r = walk(&f, s, 0xa00000, 0x3badcafef00d, 0);
	expect_ok("S2 64K T0SZ=18 16 tables: table 14", &r, 0x2afef00d, SZ_512M, PERM_RWX, 1);
	/* Low root bits below 1 MiB are ignored. */
	r = walk(&f, s, 0xa80000, 0x3badcafef00d, 0);
	expect_ok("S2 64K T0SZ=18 root 0xa80000 masked", &r, 0x2afef00d, SZ_512M, PERM_RWX, 1);
	mem_space_free(s);
}

/* ---- 4. faults and their priority ------------------------------------------------- */

static void test_faults(void)
{
	struct mem_space *s = new_space();
	struct pgt_fmt f;
	struct pgt_result r;
	const uint64_t va16 = 0x3a5b7c9d1e2f, va25 = 0x5ab3c4d5e6;

	/*
	 * Invalid descriptors (bit 0 = 0) at each level of the 4K T0SZ=16 chain of
	 * test_s1_4k (same addresses): F_TRANSLATION at that level, the entry and its
	 * table reported, every entry up to it read.
	 */
	f = s1_fmt(4096, 16, 48, 0);
	r = walk(&f, s, 0x10000, va16, 0);
	expect_fault("invalid L0", &r, SMMU_EVT_F_TRANSLATION, 1, 0, va16);
	expect_entry("invalid L0", &r, 0x103a0, 0x10000);
	CHECK_EQ(r.refs, 1);
	put(s, 0x103a0, table_desc(0x11000));
	r = walk(&f, s, 0x10000, va16, 0);
	expect_fault("invalid L1", &r, SMMU_EVT_F_TRANSLATION, 1, 1, va16);
	expect_entry("invalid L1", &r, 0x11b68, 0x11000);
	CHECK_EQ(r.refs, 2);
	put(s, 0x11b68, table_desc(0x12000));
	/* A descriptor with everything but bit 0 set is still invalid. */
	put(s, 0x12f20, ~UINT64_C(1));
	r = walk(&f, s, 0x10000, va16, 0);
	expect_fault("invalid L2", &r, SMMU_EVT_F_TRANSLATION, 1, 2, va16);
	expect_entry("invalid L2", &r, 0x12f20, 0x12000);
	put(s, 0x12f20, table_desc(0x13000));
	r = walk(&f, s, 0x10000, va16, 0);
	expect_fault("invalid L3", &r, SMMU_EVT_F_TRANSLATION, 1, 3, va16);
	expect_entry("invalid L3", &r, 0x13e88, 0x13000);
	CHECK_EQ(r.refs, 4);
	/* Level 3 with bits[1:0] = 01 is reserved: F_TRANSLATION at level 3. */
	put(s, 0x13e88, block_desc(0x12345000, AP_PRIV_RW));
	r = walk(&f, s, 0x10000, va16, 0);
	expect_fault("4K L3 type 01", &r, SMMU_EVT_F_TRANSLATION, 1, 3, va16);
	expect_entry("4K L3 type 01", &r, 0x13e88, 0x13000);
	/* A block at L0 is not allowed with 4K (512G blocks need LPA2). */
	put(s, 0x103a0, block_desc(0x0000008000000000, AP_PRIV_RW));
	r = walk(&f, s, 0x10000, va16, 0);
	expect_fault("4K L0 block", &r, SMMU_EVT_F_TRANSLATION, 1, 0, va16);
	expect_entry("4K L0 block", &r, 0x103a0, 0x10000);

	/* 16K T0SZ=16 chain of test_s1_16k: an L0 block (L0 entry 1 at 0x100008) and
	 * an L1 block (0x104c38) are invalid; L3 type 01 (0x10c640) is reserved. */
	{
		const uint64_t va = 0x987654321abc;

		f = s1_fmt(16384, 16, 48, 0);
		put(s, 0x100008, block_desc(0, AP_PRIV_RW));
		r = walk(&f, s, 0x100000, va, 0);
		expect_fault("16K L0 block", &r, SMMU_EVT_F_TRANSLATION, 1, 0, va);
		expect_entry("16K L0 block", &r, 0x100008, 0x100000);
		put(s, 0x100008, table_desc(0x104000));
		put(s, 0x104c38, block_desc(0x1000000000, AP_PRIV_RW));
		r = walk(&f, s, 0x100000, va, 0);
		expect_fault("16K L1 block (64G needs LPA2)", &r, SMMU_EVT_F_TRANSLATION, 1, 1, va);
		expect_entry("16K L1 block", &r, 0x104c38, 0x104000);
		put(s, 0x104c38, table_desc(0x108000));
		put(s, 0x109950, table_desc(0x10c000));
		put(s, 0x10c640, block_desc(0x1234000, AP_PRIV_RW));
		r = walk(&f, s, 0x100000, va, 0);
		expect_fault("16K L3 type 01", &r, SMMU_EVT_F_TRANSLATION, 1, 3, va);
		expect_entry("16K L3 type 01", &r, 0x10c640, 0x10c000);
		put(s, 0x10c640, page_desc(0x1234000, AP_PRIV_RW));
		r = walk(&f, s, 0x100000, va, 0);
		expect_ok("16K chain restored", &r, 0x1235abc, SZ_16K, PERM_RWX, 4);
	}
	/* 64K T0SZ=35 (start L3, VA 0x12345678 -> entry 0x4091a0): L3 type 01. */
	f = s1_fmt(65536, 35, 48, 0);
	put(s, 0x4091a0, block_desc(0xabc0000, AP_PRIV_RW));
	r = walk(&f, s, 0x400000, 0x12345678, 0);
	expect_fault("64K L3 type 01", &r, SMMU_EVT_F_TRANSLATION, 1, 3, 0x12345678);
	expect_entry("64K L3 type 01", &r, 0x4091a0, 0x400000);

	/*
	 * Address size, 4K T0SZ=25 tree of test_s1_4k (root 0x20000, VA 0x5ab3c4d5e6:
	 * L1 0x20b50, L2 0x21cf0, L3 0x22268; VA 0 -> L1[0] at 0x20000), for each
	 * output size: the last page below 2^oas translates, 2^oas itself faults at the
	 * leaf; a table at 2^oas faults at the level of the table descriptor; a root at
	 * 2^oas faults at level 0 with no entry read; a 1G block at 2^oas faults at L1.
	 */
	{
		static const unsigned sizes[] = { 32, 36, 40, 42, 44 };
		char what[96];

		for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
			const uint64_t top = UINT64_C(1) << sizes[i];

			f = s1_fmt(4096, 25, sizes[i], 0);
			put(s, 0x20b50, table_desc(0x21000));
			put(s, 0x21cf0, table_desc(0x22000));
			put(s, 0x22268, page_desc(top - SZ_4K, AP_PRIV_RW));
			snprintf(what, sizeof(what), "oas %u: page below 2^oas", sizes[i]);
			r = walk(&f, s, 0x20000, va25, 0);
			expect_ok(what, &r, top - SZ_4K + 0x5e6, SZ_4K, PERM_RWX, 3);

			put(s, 0x22268, page_desc(top, AP_PRIV_RW));
			snprintf(what, sizeof(what), "oas %u: page at 2^oas", sizes[i]);
			r = walk(&f, s, 0x20000, va25, 0);
			expect_fault(what, &r, SMMU_EVT_F_ADDR_SIZE, 1, 3, va25);
			expect_entry(what, &r, 0x22268, 0x22000);
			CHECK_MSG(r.refs == 3, "%s: refs %u", what, r.refs);

			put(s, 0x21cf0, table_desc(top));
			snprintf(what, sizeof(what), "oas %u: L2 table at 2^oas", sizes[i]);
			r = walk(&f, s, 0x20000, va25, 0);
			expect_fault(what, &r, SMMU_EVT_F_ADDR_SIZE, 1, 2, va25);
			expect_entry(what, &r, 0x21cf0, 0x21000);
			CHECK_MSG(r.refs == 2, "%s: refs %u", what, r.refs);

			snprintf(what, sizeof(what), "oas %u: root at 2^oas", sizes[i]);
			r = walk(&f, s, top, va25, 0);
			expect_fault(what, &r, SMMU_EVT_F_ADDR_SIZE, 1, 0, va25);
			expect_no_entry(what, &r);
			CHECK_MSG(r.refs == 0, "%s: refs %u", what, r.refs);

			put(s, 0x20000, block_desc(top - SZ_1G, AP_PRIV_RW));
			snprintf(what, sizeof(what), "oas %u: 1G block below 2^oas", sizes[i]);
			r = walk(&f, s, 0x20000, 0x1234, 0);
			expect_ok(what, &r, top - SZ_1G + 0x1234, SZ_1G, PERM_RWX, 1);
			put(s, 0x20000, block_desc(top, AP_PRIV_RW));
			snprintf(what, sizeof(what), "oas %u: 1G block at 2^oas", sizes[i]);
			r = walk(&f, s, 0x20000, 0x1234, 0);
			expect_fault(what, &r, SMMU_EVT_F_ADDR_SIZE, 1, 1, 0x1234);
			expect_entry(what, &r, 0x20000, 0x20000);
		}
		put(s, 0x20000, 0);
		put(s, 0x21cf0, table_desc(0x22000));
	}

	/*
	 * 64K with a 48-bit OA: descriptor bits 15:12 are OA[51:48], so a nonzero value
	 * is an address beyond 48 bits (64k T0SZ=16 tree of test_s1_64k, VA
	 * 0xabcdef123456: L1 0x200150, L2 0x21f378, L3 0x227890).
	 */
	{
		const uint64_t va = 0xabcdef123456;

		f = s1_fmt(65536, 16, 48, 0);
		put(s, 0x200150, table_desc(0x210000));
		put(s, 0x21f378, table_desc(0x220000));
		put(s, 0x227890, page_desc(0x12340000, AP_PRIV_RW) | (UINT64_C(1) << 12));
		r = walk(&f, s, 0x200000, va, 0);
		expect_fault("64K oas 48 page bits 15:12", &r, SMMU_EVT_F_ADDR_SIZE, 1, 3, va);
		expect_entry("64K oas 48 page bits 15:12", &r, 0x227890, 0x220000);
		put(s, 0x227890, page_desc(0x12340000, AP_PRIV_RW));
		put(s, 0x21f378, table_desc(0x220000) | (UINT64_C(8) << 12));
		r = walk(&f, s, 0x200000, va, 0);
		expect_fault("64K oas 48 table bits 15:12", &r, SMMU_EVT_F_ADDR_SIZE, 1, 2, va);
		expect_entry("64K oas 48 table bits 15:12", &r, 0x21f378, 0x210000);
		/* With a 52-bit OA the same table descriptor names PA 0x8000000220000,
		 * where there is no memory: the L3 fetch is an external abort there. */
		f = s1_fmt(65536, 16, 52, 0);
		r = walk(&f, s, 0x200000, va, 0);
		expect_fault("64K oas 52 table bits 15:12", &r, SMMU_EVT_F_WALK_EABT, 1, 3, va);
		expect_entry("64K oas 52 table bits 15:12", &r, 0x8000000227890, 0x8000000220000);
		put(s, 0x21f378, table_desc(0x220000));
		r = walk(&f, s, 0x200000, va, 0);
		expect_ok("64K oas 52 restored", &r, 0x12343456, SZ_64K, PERM_RWX, 3);
	}

	/*
	 * External aborts on a fetch (F_WALK_EABT, reason table-access): a root with no
	 * memory behind it (4K T0SZ=25: L1 entry NO_MEMORY + 0xb50), and a table
	 * descriptor pointing there (L1 0x20b50 -> NO_MEMORY + 0x1000: the L2 entry
	 * NO_MEMORY + 0x1000 + 0xcf0 fails).
	 */
	f = s1_fmt(4096, 25, 48, 0);
	r = walk(&f, s, NO_MEMORY, va25, 0);
	expect_fault("EABT root", &r, SMMU_EVT_F_WALK_EABT, 1, 1, va25);
	expect_entry("EABT root", &r, NO_MEMORY + 0xb50, NO_MEMORY);
	CHECK_EQ(r.refs, 0);
	put(s, 0x20b50, table_desc(NO_MEMORY + 0x1000));
	r = walk(&f, s, 0x20000, va25, 0);
	expect_fault("EABT L2", &r, SMMU_EVT_F_WALK_EABT, 1, 2, va25);
	expect_entry("EABT L2", &r, NO_MEMORY + 0x1cf0, NO_MEMORY + 0x1000);
	CHECK_EQ(r.refs, 1);
	put(s, 0x20b50, table_desc(0x21000));

	/*
	 * Access flag: AF = 0 without HA is F_ACCESS at the leaf's level (page at L3
	 * 0x22268; 2M block at L2: VA 0x7fffffffff of the T0SZ=25 tree -> 0x23ff8).
	 */
	put(s, 0x22268, page_desc(0xabcd000, AP_PRIV_RW) & ~LPAE_AF);
	r = walk(&f, s, 0x20000, va25, 0);
	expect_fault("AF=0 page", &r, SMMU_EVT_F_ACCESS, 1, 3, va25);
	expect_entry("AF=0 page", &r, 0x22268, 0x22000);
	CHECK_EQ(r.updates, 0);
	put(s, 0x20ff8, table_desc(0x23000));
	put(s, 0x23ff8, block_desc(0x200000, AP_PRIV_RW) & ~LPAE_AF);
	r = walk(&f, s, 0x20000, 0x7fffffffff, 0);
	expect_fault("AF=0 2M block", &r, SMMU_EVT_F_ACCESS, 1, 2, 0x7fffffffff);
	expect_entry("AF=0 2M block", &r, 0x23ff8, 0x23000);

	/* Permission: a privileged write to AP=10 (read-only) at L3, and on a 2M block. */
	put(s, 0x22268, page_desc(0xabcd000, AP_PRIV_RO));
	r = walk(&f, s, 0x20000, va25, PGT_ACC_WRITE);
	expect_fault("write to RO page", &r, SMMU_EVT_F_PERMISSION, 1, 3, va25);
	expect_entry("write to RO page", &r, 0x22268, 0x22000);
	put(s, 0x23ff8, block_desc(0x200000, AP_PRIV_RO));
	r = walk(&f, s, 0x20000, 0x7fffffffff, PGT_ACC_WRITE);
	expect_fault("write to RO block", &r, SMMU_EVT_F_PERMISSION, 1, 2, 0x7fffffffff);

	/*
	 * Priority (Arm ARM S1Walk then S1Translate; SMMUv3 7.3.22): translation >
	 * address size > access flag > permission.
	 */
	{
		/* Out-of-range input and an out-of-range root: the input check comes first. */
		struct pgt_fmt f32 = s1_fmt(4096, 25, 32, 0);

		r = walk(&f32, s, UINT64_C(1) << 32, UINT64_C(1) << 39, 0);
		expect_fault("prio: VA range before TTB size", &r, SMMU_EVT_F_TRANSLATION, 1, 0,
			     UINT64_C(1) << 39);
		/* Leaf OA beyond 32 bits and AF = 0: address size. */
		put(s, 0x22268, page_desc(UINT64_C(1) << 32, AP_PRIV_RO) & ~LPAE_AF);
		r = walk(&f32, s, 0x20000, va25, PGT_ACC_WRITE);
		expect_fault("prio: OA size before AF", &r, SMMU_EVT_F_ADDR_SIZE, 1, 3, va25);
		/* AF = 0 and a write to read-only: access flag. */
		put(s, 0x22268, page_desc(0xabcd000, AP_PRIV_RO) & ~LPAE_AF);
		r = walk(&f32, s, 0x20000, va25, PGT_ACC_WRITE);
		expect_fault("prio: AF before permission", &r, SMMU_EVT_F_ACCESS, 1, 3, va25);
		/* Level 3 with bits[1:0] = 01, AF = 0 and an OA beyond 32 bits: translation. */
		put(s, 0x22268, (UINT64_C(1) << 32) | LPAE_TYPE_BLOCK);
		r = walk(&f32, s, 0x20000, va25, 0);
		expect_fault("prio: L3 type 01 before OA size", &r, SMMU_EVT_F_TRANSLATION, 1, 3,
			     va25);
		/* An L0-style illegal block above the OA: translation (4K T0SZ=16 root
		 * 0x10000, L0 entry 0x103a0, a 512G-aligned OA beyond 32 bits). */
		struct pgt_fmt f16 = s1_fmt(4096, 16, 32, 0);

		put(s, 0x103a0, block_desc(0x0000008000000000, AP_PRIV_RW));
		r = walk(&f16, s, 0x10000, va16, 0);
		expect_fault("prio: illegal block before OA size", &r, SMMU_EVT_F_TRANSLATION, 1,
			     0, va16);
		/* A table descriptor beyond 32 bits pointing where no memory is: address size
		 * at the descriptor's level, the next level is never fetched. */
		put(s, 0x21cf0, table_desc(UINT64_C(1) << 40));
		r = walk(&f32, s, 0x20000, va25, 0);
		expect_fault("prio: table size before fetch", &r, SMMU_EVT_F_ADDR_SIZE, 1, 2, va25);
		CHECK_EQ(r.refs, 2);
		put(s, 0x21cf0, table_desc(0x22000));
	}

	/*
	 * Stage 2 (4K SL0=0 T0SZ=34 of test_s2_start_levels: root 0x700000, IPA
	 * 0x13579bdf: L2 0x7004d0, L3 0x701bc8): every fault says stage 2.
	 */
	{
		const uint64_t ipa = 0x13579bdf;

		f = s2_fmt(4096, 34, 0, 32, 0);
		r = walk(&f, s, 0x700000, ipa, 0);
		expect_fault("S2 invalid L2", &r, SMMU_EVT_F_TRANSLATION, 2, 2, ipa);
		expect_entry("S2 invalid L2", &r, 0x7004d0, 0x700000);
		put(s, 0x7004d0, table_desc(0x701000));
		put(s, 0x701bc8, block_desc(0x2468000, S2AP_RW));
		r = walk(&f, s, 0x700000, ipa, 0);
		expect_fault("S2 L3 type 01", &r, SMMU_EVT_F_TRANSLATION, 2, 3, ipa);
		put(s, 0x701bc8, page_desc(UINT64_C(1) << 32, S2AP_RW) & ~LPAE_AF);
		r = walk(&f, s, 0x700000, ipa, 0);
		expect_fault("S2 OA size before AF", &r, SMMU_EVT_F_ADDR_SIZE, 2, 3, ipa);
		expect_entry("S2 OA size", &r, 0x701bc8, 0x701000);
		put(s, 0x701bc8, page_desc(0x2468000, 0) & ~LPAE_AF);
		r = walk(&f, s, 0x700000, ipa, 0);
		expect_fault("S2 AF before permission", &r, SMMU_EVT_F_ACCESS, 2, 3, ipa);
		put(s, 0x701bc8, page_desc(0x2468000, LPAE_S2AP_R));
		r = walk(&f, s, 0x700000, ipa, PGT_ACC_WRITE);
		expect_fault("S2 write to read-only", &r, SMMU_EVT_F_PERMISSION, 2, 3, ipa);
		expect_entry("S2 write to read-only", &r, 0x701bc8, 0x701000);
		put(s, 0x7004d0, table_desc(UINT64_C(1) << 32));
		r = walk(&f, s, 0x700000, ipa, 0);
		expect_fault("S2 table above OA", &r, SMMU_EVT_F_ADDR_SIZE, 2, 2, ipa);
		put(s, 0x7004d0, table_desc(NO_MEMORY));
		r = walk(&f, s, 0x700000, ipa, 0);
		expect_fault("S2 EABT", &r, SMMU_EVT_F_WALK_EABT, 2, 3, ipa);
		expect_entry("S2 EABT", &r, NO_MEMORY + 0xbc8, NO_MEMORY);
		r = walk(&f, s, UINT64_C(1) << 32, ipa, 0);
		expect_fault("S2 root above OA", &r, SMMU_EVT_F_ADDR_SIZE, 2, 0, ipa);
		expect_no_entry("S2 root above OA", &r);

		/* 4K SL0=2 (L0): an L0 block is illegal (IPA 0xfedcba987654 -> 0x720fe8). */
		f = s2_fmt(4096, 16, 2, 48, 0);
		put(s, 0x720fe8, block_desc(0, S2AP_RW));
		r = walk(&f, s, 0x720000, 0xfedcba987654, 0);
		expect_fault("S2 4K L0 block", &r, SMMU_EVT_F_TRANSLATION, 2, 0, 0xfedcba987654);
		expect_entry("S2 4K L0 block", &r, 0x720fe8, 0x720000);
		/* 16K SL0=2 (L1): an L1 block is illegal (IPA 0xabcdef01234 -> 0x740558). */
		f = s2_fmt(16384, 20, 2, 42, 0);
		put(s, 0x740558, block_desc(0, S2AP_RW));
		r = walk(&f, s, 0x740000, 0xabcdef01234, 0);
		expect_fault("S2 16K L1 block", &r, SMMU_EVT_F_TRANSLATION, 2, 1, 0xabcdef01234);
		/* 64K SL0=2 (L1): a 4T block is allowed (IPA 0x842184218421 -> 0x7e0108;
		 * OA 0x40000000000 | IPA[41:0] 0x2184218421 = 0x42184218421). */
		f = s2_fmt(65536, 16, 2, 48, 0);
		put(s, 0x7e0108, block_desc(0x40000000000, S2AP_RW));
		r = walk(&f, s, 0x7e0000, 0x842184218421, 0);
		expect_ok("S2 64K L1 4T block", &r, 0x42184218421, SZ_4T, PERM_RWX, 1);
	}
	mem_space_free(s);
}

/* ---- 5. permissions ------------------------------------------------------------- */

/*
 * AP[2:1] x APTable[1:0] (bit 62 no write below, bit 61 no EL0 below), worked from
 * the Arm ARM AP table and S1DirectBasePermissions (APTable applied after AP):
 * privileged and EL0 data permissions, and whether EL0 may write (EL0-writable
 * implies PXN).
 */
static const struct {
	uint64_t ap;
	unsigned aptable;               /* APTable[1:0] */
	unsigned priv, user;            /* data permissions */
	bool el0_writable;
} s1_ap_rows[] = {
	{ AP_PRIV_RW, 0, PERM_RW, 0, false },
	{ AP_PRIV_RW, 1, PERM_RW, 0, false },
	{ AP_PRIV_RW, 2, PGT_PERM_R, 0, false },
	{ AP_PRIV_RW, 3, PGT_PERM_R, 0, false },
	{ AP_ALL_RW, 0, PERM_RW, PERM_RW, true },
	{ AP_ALL_RW, 1, PERM_RW, 0, false },
	{ AP_ALL_RW, 2, PGT_PERM_R, PGT_PERM_R, false },
	{ AP_ALL_RW, 3, PGT_PERM_R, 0, false },
	{ AP_PRIV_RO, 0, PGT_PERM_R, 0, false },
	{ AP_PRIV_RO, 1, PGT_PERM_R, 0, false },
	{ AP_PRIV_RO, 2, PGT_PERM_R, 0, false },
	{ AP_PRIV_RO, 3, PGT_PERM_R, 0, false },
	{ AP_ALL_RO, 0, PGT_PERM_R, PGT_PERM_R, false },
	{ AP_ALL_RO, 1, PGT_PERM_R, 0, false },
	{ AP_ALL_RO, 2, PGT_PERM_R, PGT_PERM_R, false },
	{ AP_ALL_RO, 3, PGT_PERM_R, 0, false },
};

static const unsigned accesses[] = {
	0, PGT_ACC_WRITE, PGT_ACC_EXEC,
	PGT_ACC_USER, PGT_ACC_USER | PGT_ACC_WRITE, PGT_ACC_USER | PGT_ACC_EXEC,
};

static unsigned needed_perm(unsigned access)
{
	if (access & PGT_ACC_WRITE)
		return PGT_PERM_W;
	if (access & PGT_ACC_EXEC)
		return PGT_PERM_X;
	return PGT_PERM_R;
}

static const char *access_name(unsigned access)
{
	static const char *const names[] = {
		"priv read", "priv write", "priv exec", "?",
		"user read", "user write", "user exec", "?",
	};

	return names[access & 7];
}

static void test_s1_permissions(void)
{
	struct mem_space *s = new_space();
	struct pgt_fmt f = s1_fmt(4096, 34, 48, 0);
	struct pgt_result r;
	char what[160];
	/*
	 * 4K T0SZ=34 (start L2). VA 0x2bcde123: L2 index 0x15e -> 0x10af0, table
	 * descriptor (with the table attributes) -> 0x11000; L3 index 0xde -> 0x116f0,
	 * page 0xabc000 (with the leaf attributes) -> OA 0xabc123.
	 */
	const uint64_t va = 0x2bcde123, l2 = 0x10af0, l3 = 0x116f0;

	for (unsigned row = 0; row < ARRAY_SIZE(s1_ap_rows); row++) {
		for (unsigned xn = 0; xn < 16; xn++) {
			bool uxn = xn & 1, pxn = xn & 2, xntable = xn & 4, pxntable = xn & 8;
			uint64_t tdesc = table_desc(0x11000) |
					 ((s1_ap_rows[row].aptable & 1) ? LPAE_APTABLE0 : 0) |
					 ((s1_ap_rows[row].aptable & 2) ? LPAE_APTABLE1 : 0) |
					 (xntable ? LPAE_XNTABLE : 0) | (pxntable ? LPAE_PXNTABLE : 0);
			uint64_t leaf = page_desc(0xabc000, s1_ap_rows[row].ap) |
					(uxn ? LPAE_UXN : 0) | (pxn ? LPAE_PXN : 0);
			/* px = !(PXN | PXNTable | EL0-writable); ux = !(UXN | XNTable):
			 * EL0 execute does not need EL0 read (execute-only). */
			bool px = !pxn && !pxntable && !s1_ap_rows[row].el0_writable;
			bool ux = !uxn && !xntable;
			unsigned priv = s1_ap_rows[row].priv | (px ? PGT_PERM_X : 0);
			unsigned user = s1_ap_rows[row].user | (ux ? PGT_PERM_X : 0);

			put(s, l2, tdesc);
			put(s, l3, leaf);
			for (unsigned a = 0; a < ARRAY_SIZE(accesses); a++) {
				unsigned want = (accesses[a] & PGT_ACC_USER) ? user : priv;
				bool allowed = want & needed_perm(accesses[a]);

				snprintf(what, sizeof(what),
					 "S1 AP[2:1]=%u APTable=%u UXN=%d PXN=%d XNTable=%d PXNTable=%d %s",
					 (unsigned)(s1_ap_rows[row].ap >> 6), s1_ap_rows[row].aptable,
					 uxn, pxn, xntable, pxntable, access_name(accesses[a]));
				r = walk(&f, s, 0x10000, va, accesses[a]);
				if (allowed) {
					expect_ok(what, &r, 0xabc123, SZ_4K, want, 2);
				} else {
					expect_fault(what, &r, SMMU_EVT_F_PERMISSION, 1, 3, va);
					expect_entry(what, &r, l3, 0x11000);
				}
			}
		}
	}

	/*
	 * Table attributes accumulate down the walk: on the L1 descriptor of a 4K
	 * T0SZ=25 walk (root 0x20000, VA 0x5ab3c4d5e6: L1 0x20b50 -> 0x21000, L2 0x21cf0
	 * -> 0x22000, L3 0x22268 = page 0xabcd000 AP=01) they still apply at L3.
	 */
	{
		const uint64_t va25 = 0x5ab3c4d5e6;
		static const struct {
			uint64_t l1_attr;
			unsigned priv, user;    /* expected permissions */
		} rows[] = {
			{ 0, PERM_RW, PERM_RWX },               /* AP=01: EL0-writable -> PXN */
			{ LPAE_APTABLE0, PERM_RWX, PGT_PERM_X },
			{ LPAE_APTABLE1, PERM_RX, PERM_RX },
			{ LPAE_XNTABLE, PERM_RW, PERM_RW },
			{ LPAE_PXNTABLE, PERM_RW, PERM_RWX },
		};

		f = s1_fmt(4096, 25, 48, 0);
		put(s, 0x21cf0, table_desc(0x22000));
		put(s, 0x22268, page_desc(0xabcd000, AP_ALL_RW));
		for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
			put(s, 0x20b50, table_desc(0x21000) | rows[i].l1_attr);
			for (unsigned a = 0; a < ARRAY_SIZE(accesses); a++) {
				unsigned want = (accesses[a] & PGT_ACC_USER) ? rows[i].user
									     : rows[i].priv;

				snprintf(what, sizeof(what), "S1 L1 table attr 0x%" PRIx64 " %s",
					 rows[i].l1_attr, access_name(accesses[a]));
				r = walk(&f, s, 0x20000, va25, accesses[a]);
				if (want & needed_perm(accesses[a]))
					expect_ok(what, &r, 0xabcd5e6, SZ_4K, want, 3);
				else
					expect_fault(what, &r, SMMU_EVT_F_PERMISSION, 1, 3, va25);
			}
		}
	}
	mem_space_free(s);
}

/*
 * Stage 2: S2AP bit 6 = read, bit 7 = write, XN (bit 54) = no execute; execute
 * needs only XN = 0; requester privilege does not matter; table descriptors carry
 * no attributes (bits 63:59 set on the table change nothing).
 */
static void test_s2_permissions(void)
{
	static const struct {
		uint64_t s2ap;
		bool xn;
		unsigned perm;
	} rows[] = {
		{ 0, false, PGT_PERM_X },
		{ 0, true, 0 },
		{ LPAE_S2AP_R, false, PERM_RX },
		{ LPAE_S2AP_R, true, PGT_PERM_R },
		{ LPAE_S2AP_W, false, PGT_PERM_W | PGT_PERM_X },
		{ LPAE_S2AP_W, true, PGT_PERM_W },
		{ S2AP_RW, false, PERM_RWX },
		{ S2AP_RW, true, PERM_RW },
	};
	struct mem_space *s = new_space();
	struct pgt_fmt f = s2_fmt(4096, 34, 0, 48, 0);
	struct pgt_result r;
	char what[128];
	/* IPA 0x13579bdf: L2 0x7004d0 -> table 0x701000; L3 0x701bc8 -> page
	 * 0x2468000 -> OA 0x2468bdf (test_s2_start_levels). */
	const uint64_t ipa = 0x13579bdf;

	for (unsigned table_attrs = 0; table_attrs < 2; table_attrs++) {
		put(s, 0x7004d0, table_desc(0x701000) | (table_attrs ? GENMASK(63, 59) : 0));
		for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
			put(s, 0x701bc8, page_desc(0x2468000, rows[i].s2ap) |
					 (rows[i].xn ? LPAE_S2_XN : 0));
			for (unsigned a = 0; a < ARRAY_SIZE(accesses); a++) {
				snprintf(what, sizeof(what), "S2 S2AP=%u XN=%d table bits 63:59=%u %s",
					 (unsigned)(rows[i].s2ap >> 6), rows[i].xn, table_attrs,
					 access_name(accesses[a]));
				r = walk(&f, s, 0x700000, ipa, accesses[a]);
				if (rows[i].perm & needed_perm(accesses[a])) {
					expect_ok(what, &r, 0x2468bdf, SZ_4K, rows[i].perm, 2);
				} else {
					expect_fault(what, &r, SMMU_EVT_F_PERMISSION, 2, 3, ipa);
					expect_entry(what, &r, 0x701bc8, 0x701000);
				}
			}
		}
	}
	mem_space_free(s);
}

/* ---- 6. hardware access flag and dirty state ------------------------------------ */

static void test_hw_updates(void)
{
	struct mem_space *s = new_space();
	struct pgt_fmt f;
	struct pgt_result r;
	uint64_t leaf;
	/* 4K S1 T0SZ=34: VA 0x2bcde123 -> L2 0x10af0 -> table 0x11000, L3 0x116f0. */
	const uint64_t va = 0x2bcde123, l3 = 0x116f0;

	put(s, 0x10af0, table_desc(0x11000));

	/* HA: AF = 0 is set by the walk (one update), the descriptor is otherwise
	 * unchanged; the next walk has nothing to write. */
	f = s1_fmt(4096, 34, 48, PGT_CFG_HA);
	leaf = page_desc(0xabc000, AP_PRIV_RW) & ~LPAE_AF;
	put(s, l3, leaf);
	r = walk(&f, s, 0x10000, va, 0);
	expect_ok("HA: AF set on read", &r, 0xabc123, SZ_4K, PERM_RWX, 2);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(get(s, l3), leaf | LPAE_AF);
	CHECK_EQ(r.leaf[0], leaf | LPAE_AF);
	r = walk(&f, s, 0x10000, va, 0);
	CHECK_EQ(r.updates, 0);
	CHECK_EQ(get(s, l3), leaf | LPAE_AF);

	/* HA: no AF update when the access faults (an EL0 read of AP=00). */
	put(s, l3, leaf);
	r = walk(&f, s, 0x10000, va, PGT_ACC_USER);
	expect_fault("HA: permission fault", &r, SMMU_EVT_F_PERMISSION, 1, 3, va);
	CHECK_EQ(r.updates, 0);
	CHECK_EQ(get(s, l3), leaf);
	/* ... and HA turns the AF = 0 case from F_ACCESS into that permission fault. */
	r = walk(&f, s, 0x10000, va, PGT_ACC_WRITE | PGT_ACC_USER);
	expect_fault("HA: AF=0 + permission", &r, SMMU_EVT_F_PERMISSION, 1, 3, va);
	CHECK_EQ(get(s, l3), leaf);

	/* No HA: AF = 0 is F_ACCESS and nothing is written. */
	f = s1_fmt(4096, 34, 48, 0);
	r = walk(&f, s, 0x10000, va, 0);
	expect_fault("no HA: AF=0", &r, SMMU_EVT_F_ACCESS, 1, 3, va);
	CHECK_EQ(r.updates, 0);
	CHECK_EQ(get(s, l3), leaf);

	/*
	 * HA+HD: DBM=1 with AP[2]=1 is writable-clean. A read sees R|W (|X: AP=10 is not
	 * EL0-writable) and writes nothing; a write clears AP[2] (bit 7), once.
	 */
	f = s1_fmt(4096, 34, 48, PGT_CFG_HA | PGT_CFG_HD);
	leaf = page_desc(0xabc000, AP_PRIV_RO) | LPAE_DBM;
	put(s, l3, leaf);
	r = walk(&f, s, 0x10000, va, 0);
	expect_ok("HD: read writable-clean", &r, 0xabc123, SZ_4K, PERM_RWX, 2);
	CHECK_EQ(r.updates, 0);
	CHECK_EQ(get(s, l3), leaf);
	r = walk(&f, s, 0x10000, va, PGT_ACC_WRITE);
	expect_ok("HD: write writable-clean", &r, 0xabc123, SZ_4K, PERM_RWX, 2);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(get(s, l3), leaf & ~LPAE_AP2);
	CHECK_EQ(r.leaf[0], leaf & ~LPAE_AP2);
	r = walk(&f, s, 0x10000, va, PGT_ACC_WRITE);
	CHECK_EQ(r.updates, 0);

	/* HA+HD, AF = 0 and writable-clean: a write sets AF and clears AP[2] in one
	 * atomic update; a read only sets AF. */
	leaf = (page_desc(0xabc000, AP_PRIV_RO) | LPAE_DBM) & ~LPAE_AF;
	put(s, l3, leaf);
	r = walk(&f, s, 0x10000, va, PGT_ACC_WRITE);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(get(s, l3), (leaf | LPAE_AF) & ~LPAE_AP2);
	put(s, l3, leaf);
	r = walk(&f, s, 0x10000, va, 0);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(get(s, l3), leaf | LPAE_AF);

	/* HA+HD: APTable[1] on the table above still forbids the write: permission
	 * fault, no dirty update; a read sees no W. */
	leaf = page_desc(0xabc000, AP_PRIV_RO) | LPAE_DBM;
	put(s, l3, leaf);
	put(s, 0x10af0, table_desc(0x11000) | LPAE_APTABLE1);
	r = walk(&f, s, 0x10000, va, PGT_ACC_WRITE);
	expect_fault("HD + APTable[1]: write", &r, SMMU_EVT_F_PERMISSION, 1, 3, va);
	CHECK_EQ(r.updates, 0);
	CHECK_EQ(get(s, l3), leaf);
	r = walk(&f, s, 0x10000, va, 0);
	expect_ok("HD + APTable[1]: read", &r, 0xabc123, SZ_4K, PERM_RX, 2);
	put(s, 0x10af0, table_desc(0x11000));

	/* HA+HD, DBM = 0 with AP[2] = 1: plain read-only. */
	leaf = page_desc(0xabc000, AP_PRIV_RO);
	put(s, l3, leaf);
	r = walk(&f, s, 0x10000, va, PGT_ACC_WRITE);
	expect_fault("HD, DBM=0: write", &r, SMMU_EVT_F_PERMISSION, 1, 3, va);
	CHECK_EQ(get(s, l3), leaf);

	/*
	 * HA+HD, AP=11 + DBM: writable-clean for EL0 too, so EL0-writable and therefore
	 * privileged-execute-never; an EL0 write makes it dirty (AP becomes 01).
	 */
	leaf = page_desc(0xabc000, AP_ALL_RO) | LPAE_DBM;
	put(s, l3, leaf);
	r = walk(&f, s, 0x10000, va, PGT_ACC_EXEC);
	expect_fault("HD: EL0 writable-clean is PXN", &r, SMMU_EVT_F_PERMISSION, 1, 3, va);
	r = walk(&f, s, 0x10000, va, PGT_ACC_USER);
	expect_ok("HD: EL0 read writable-clean", &r, 0xabc123, SZ_4K, PERM_RWX, 2);
	r = walk(&f, s, 0x10000, va, PGT_ACC_USER | PGT_ACC_WRITE);
	expect_ok("HD: EL0 write writable-clean", &r, 0xabc123, SZ_4K, PERM_RWX, 2);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(get(s, l3), leaf & ~LPAE_AP2);

	/* HA without HD: DBM means nothing, AP[2] = 1 is read-only. */
	f = s1_fmt(4096, 34, 48, PGT_CFG_HA);
	leaf = page_desc(0xabc000, AP_PRIV_RO) | LPAE_DBM;
	put(s, l3, leaf);
	r = walk(&f, s, 0x10000, va, 0);
	expect_ok("DBM without HD: read", &r, 0xabc123, SZ_4K, PERM_RX, 2);
	r = walk(&f, s, 0x10000, va, PGT_ACC_WRITE);
	expect_fault("DBM without HD: write", &r, SMMU_EVT_F_PERMISSION, 1, 3, va);
	CHECK_EQ(r.updates, 0);
	CHECK_EQ(get(s, l3), leaf);

	/*
	 * Stage 2 (4K SL0=0 T0SZ=34: IPA 0x13579bdf -> L2 0x7004d0 -> table 0x701000,
	 * L3 0x701bc8): HA+HD, DBM with S2AP[1] = 0 is writable-clean; a write sets
	 * S2AP[1] (bit 7).
	 */
	{
		const uint64_t ipa = 0x13579bdf, s2l3 = 0x701bc8;

		put(s, 0x7004d0, table_desc(0x701000));
		f = s2_fmt(4096, 34, 0, 48, PGT_CFG_HA | PGT_CFG_HD);
		leaf = page_desc(0x2468000, LPAE_S2AP_R) | LPAE_DBM;
		put(s, s2l3, leaf);
		r = walk(&f, s, 0x700000, ipa, 0);
		expect_ok("S2 HD: read writable-clean", &r, 0x2468bdf, SZ_4K, PERM_RWX, 2);
		CHECK_EQ(r.updates, 0);
		r = walk(&f, s, 0x700000, ipa, PGT_ACC_WRITE);
		expect_ok("S2 HD: write writable-clean", &r, 0x2468bdf, SZ_4K, PERM_RWX, 2);
		CHECK_EQ(r.updates, 1);
		CHECK_EQ(get(s, s2l3), leaf | LPAE_S2AP_W);
		CHECK_EQ(r.leaf[1], leaf | LPAE_S2AP_W);
		r = walk(&f, s, 0x700000, ipa, PGT_ACC_WRITE);
		CHECK_EQ(r.updates, 0);

		/* AF = 0 + writable-clean + write: one update sets AF and S2AP[1]. */
		leaf = (page_desc(0x2468000, LPAE_S2AP_R) | LPAE_DBM) & ~LPAE_AF;
		put(s, s2l3, leaf);
		r = walk(&f, s, 0x700000, ipa, PGT_ACC_WRITE);
		CHECK(r.ok);
		CHECK_EQ(r.updates, 1);
		CHECK_EQ(get(s, s2l3), leaf | LPAE_AF | LPAE_S2AP_W);

		/* AF = 0 with S2AP = 00: a read is a permission fault, AF stays 0. */
		leaf = page_desc(0x2468000, 0) & ~LPAE_AF;
		put(s, s2l3, leaf);
		r = walk(&f, s, 0x700000, ipa, 0);
		expect_fault("S2 HA: AF=0 + no read", &r, SMMU_EVT_F_PERMISSION, 2, 3, ipa);
		CHECK_EQ(r.updates, 0);
		CHECK_EQ(get(s, s2l3), leaf);

		/* HA alone: AF set on read; DBM does nothing, the write faults. */
		f = s2_fmt(4096, 34, 0, 48, PGT_CFG_HA);
		leaf = (page_desc(0x2468000, LPAE_S2AP_R) | LPAE_DBM) & ~LPAE_AF;
		put(s, s2l3, leaf);
		r = walk(&f, s, 0x700000, ipa, PGT_ACC_WRITE);
		expect_fault("S2 DBM without HD: write", &r, SMMU_EVT_F_PERMISSION, 2, 3, ipa);
		CHECK_EQ(get(s, s2l3), leaf);
		r = walk(&f, s, 0x700000, ipa, 0);
		expect_ok("S2 HA: read sets AF", &r, 0x2468bdf, SZ_4K, PERM_RX, 2);
		CHECK_EQ(r.updates, 1);
		CHECK_EQ(get(s, s2l3), leaf | LPAE_AF);

		/* No HA: F_ACCESS, stage 2. */
		f = s2_fmt(4096, 34, 0, 48, 0);
		put(s, s2l3, leaf);
		r = walk(&f, s, 0x700000, ipa, 0);
		expect_fault("S2 no HA: AF=0", &r, SMMU_EVT_F_ACCESS, 2, 3, ipa);
		expect_entry("S2 no HA: AF=0", &r, s2l3, 0x701000);
	}
	mem_space_free(s);
}

/*
 * A hardware update into memory that refuses writes (a caller buffer added with
 * MEM_READ) is an external abort on the descriptor update: F_WALK_EABT, reason
 * table-access, at the leaf's level; the descriptor stays as it was.
 */
#define RO_BASE UINT64_C(0x4000000)
static uint64_t ro_mem[0x5000 / 8];

static void ro_put(uint64_t pa, uint64_t desc)
{
	ro_mem[(pa - RO_BASE) / 8] = desc;
}

static uint64_t ro_get(uint64_t pa)
{
	return ro_mem[(pa - RO_BASE) / 8];
}

static void test_update_readonly(void)
{
	struct mem_space *s = new_space();
	struct pgt_fmt f;
	struct pgt_result r;
	int err;

	err = mem_add(s, RO_BASE, sizeof(ro_mem), ro_mem, MEM_READ);
	if (err) {
		setup_failed("mem_add read-only", err);
		mem_space_free(s);
		return;
	}

	/*
	 * 4K T0SZ=34 (start L2) with tables in read-only memory: root 0x4000000, VA
	 * 0x2bcde123: L2 index 0x15e -> 0x4000af0 -> table 0x4001000; L3 index 0xde ->
	 * 0x40016f0 = page 0xabc000 -> OA 0xabc123.
	 */
	ro_put(0x4000af0, table_desc(0x4001000));
	ro_put(0x40016f0, page_desc(0xabc000, AP_PRIV_RW));
	f = s1_fmt(4096, 34, 48, PGT_CFG_HA);
	r = walk(&f, s, RO_BASE, 0x2bcde123, 0);
	expect_ok("RO tables: plain read", &r, 0xabc123, SZ_4K, PERM_RWX, 2);
	CHECK_EQ(r.updates, 0);
	ro_put(0x40016f0, page_desc(0xabc000, AP_PRIV_RW) & ~LPAE_AF);
	r = walk(&f, s, RO_BASE, 0x2bcde123, 0);
	expect_fault("RO tables: AF update", &r, SMMU_EVT_F_WALK_EABT, 1, 3, 0x2bcde123);
	expect_entry("RO tables: AF update", &r, 0x40016f0, 0x4001000);
	CHECK_EQ(r.updates, 0);
	CHECK_EQ(r.refs, 2);
	CHECK_EQ(ro_get(0x40016f0), page_desc(0xabc000, AP_PRIV_RW) & ~LPAE_AF);

	/*
	 * The leaf in a root smaller than a page: 4K T0SZ=36 (IA 28) starts at L2 =
	 * 3 - (28-1-12)/9 and resolves VA[27:21], 7 bits: a 1 KiB root, here at
	 * 0x4002400 (1 KiB aligned). VA 0xbadcafe: L2 index 0x5d -> 0x4002400 + 0x2e8 =
	 * 0x40026e8 = 2M block 0xc00000 -> OA 0xc00000 | 0x0dcafe = 0xcdcafe. The
	 * entry belongs to the table at 0x4002400, not to the page 0x4002000.
	 */
	f = s1_fmt(4096, 36, 48, PGT_CFG_HA);
	CHECK_EQ(pgt_root_align(&f), 0x400);
	ro_put(0x40026e8, block_desc(0xc00000, AP_PRIV_RW));
	r = walk(&f, s, 0x4002400, 0xbadcafe, 0);
	expect_ok("RO 1K root: plain read", &r, 0xcdcafe, SZ_2M, PERM_RWX, 1);
	ro_put(0x40026e8, block_desc(0xc00000, AP_PRIV_RW) & ~LPAE_AF);
	r = walk(&f, s, 0x4002400, 0xbadcafe, 0);
	expect_fault("RO 1K root: AF update", &r, SMMU_EVT_F_WALK_EABT, 1, 2, 0xbadcafe);
	expect_entry("RO 1K root: AF update", &r, 0x40026e8, 0x4002400);
	/* A fetch from a missing 1 KiB root names the same table base. */
	r = walk(&f, s, NO_MEMORY + 0x400, 0xbadcafe, 0);
	expect_fault("missing 1K root", &r, SMMU_EVT_F_WALK_EABT, 1, 2, 0xbadcafe);
	expect_entry("missing 1K root", &r, NO_MEMORY + 0x6e8, NO_MEMORY + 0x400);

	/*
	 * Stage 2, HA+HD, a write to a writable-clean leaf in read-only memory: 4K
	 * SL0=0 T0SZ=34, root 0x30000 (RAM), IPA 0x13579bdf: L2 0x304d0 -> table
	 * 0x4003000 (read-only); L3 0x4003bc8 = page 0x2468000, S2AP=01, DBM.
	 */
	f = s2_fmt(4096, 34, 0, 48, PGT_CFG_HA | PGT_CFG_HD);
	put(s, 0x304d0, table_desc(0x4003000));
	ro_put(0x4003bc8, page_desc(0x2468000, LPAE_S2AP_R) | LPAE_DBM);
	r = walk(&f, s, 0x30000, 0x13579bdf, 0);
	expect_ok("S2 RO tables: read", &r, 0x2468bdf, SZ_4K, PERM_RWX, 2);
	r = walk(&f, s, 0x30000, 0x13579bdf, PGT_ACC_WRITE);
	expect_fault("S2 RO tables: dirty update", &r, SMMU_EVT_F_WALK_EABT, 2, 3, 0x13579bdf);
	expect_entry("S2 RO tables: dirty update", &r, 0x4003bc8, 0x4003000);
	CHECK_EQ(r.updates, 0);
	CHECK_EQ(ro_get(0x4003bc8), page_desc(0x2468000, LPAE_S2AP_R) | LPAE_DBM);
	mem_space_free(s);
}

/* ---- 7. a few nested walks (more in test_nested.c) -------------------------------- */

static void test_nested_minimal(void)
{
	struct mem_space *s = new_space();
	struct pgt_fmt f1 = s1_fmt(4096, 34, 48, 0);
	struct pgt_fmt f1ha = s1_fmt(4096, 34, 48, PGT_CFG_HA);
	struct pgt_fmt f2 = s2_fmt(4096, 34, 0, 48, 0);
	struct pgt_result r;
	uint64_t s1leaf, s2leaf;
	int ret;

	/*
	 * Stage 2: 4K SL0=0 T0SZ=34 (L2 start, IPA[29:21] then IPA[20:12]), root
	 * 0x700000:
	 *   L2[1] @0x700008: IPA 0x200000-0x3fffff -> 2M block PA 0x800000, RW
	 *   L2[2] @0x700010: table 0x701000; L3[5] @0x701028: IPA 0x405000 -> PA
	 *                    0x1234000, RW, XN=0
	 *   L2[3] @0x700018: invalid (IPA 0x600000-0x7fffff)
	 *   L2[5] @0x700028: IPA 0xa00000-0xbfffff -> 2M block PA 0xa00000, read-only
	 * Stage 1: 4K T0SZ=34, root IPA 0x200000 (PA 0x800000).
	 *   VA 0x2bcde123: L2 index 0x15e -> IPA 0x200af0 -> table IPA 0x201000;
	 *   L3 index 0xde -> IPA 0x2016f0 = page IPA 0x405000 (AP=00) -> IPA 0x405123
	 *   -> PA 0x1234123. Entries read: S1 L2 (1 S2 entry + 1), S1 L3 (1 + 1),
	 *   final IPA (2 S2 entries) = 6.
	 */
	put(s, 0x700008, block_desc(0x800000, S2AP_RW));
	put(s, 0x700010, table_desc(0x701000));
	s2leaf = page_desc(0x1234000, S2AP_RW);
	put(s, 0x701028, s2leaf);
	put(s, 0x700028, block_desc(0xa00000, LPAE_S2AP_R));
	put(s, 0x800af0, table_desc(0x201000));
	s1leaf = page_desc(0x405000, AP_PRIV_RW);
	put(s, 0x8016f0, s1leaf);
	ret = pgt_walk_nested(&f1, 0x200000, &f2, 0x700000, s, 0x2bcde123, 0, &r, NULL);
	CHECK_EQ(ret, 0);
	expect_ok("nested 4K/4K", &r, 0x1234123, SZ_4K, PERM_RWX, 6);
	CHECK_EQ(r.leaf[0], s1leaf);
	CHECK_EQ(r.leaf[1], s2leaf);
	CHECK_EQ(r.leaf_level[0], 3);
	CHECK_EQ(r.leaf_level[1], 3);

	/*
	 * VA 0x2bede123: S1 L2 index 0x15f -> IPA 0x200af8 -> table IPA 0x600000; the
	 * S1 L3 descriptor's IPA 0x6006f0 has no stage-2 mapping (L2[3] invalid):
	 * a stage-2 F_TRANSLATION at S2 level 2 while fetching for stage 1 (SMMU
	 * CLASS=TT), address = the descriptor's IPA. Entries read: 1 + 1 + 1.
	 */
	put(s, 0x800af8, table_desc(0x600000));
	ret = pgt_walk_nested(&f1, 0x200000, &f2, 0x700000, s, 0x2bede123, 0, &r, NULL);
	CHECK_EQ(ret, 0);
	expect_fault("nested: S1 table IPA unmapped", &r, SMMU_EVT_F_TRANSLATION, 2, 2, 0x6006f0);
	expect_entry("nested: S1 table IPA unmapped", &r, 0x700018, 0x700000);
	CHECK(r.fault.s1_fetch);
	CHECK_EQ(r.refs, 3);

	/*
	 * VA 0x2c0de123 with stage-1 HA: S1 L2 index 0x160 -> IPA 0x200b00 -> table IPA
	 * 0xa00000, mapped read-only by stage 2; S1 L3 at IPA 0xa006f0 (PA 0xa006f0) has
	 * AF = 0. Setting AF is a write through stage 2, which forbids it: stage-2
	 * F_PERMISSION at S2 level 2 for a stage-1 descriptor write (TTRnW = 0), and
	 * the descriptor keeps AF = 0.
	 */
	put(s, 0x800b00, table_desc(0xa00000));
	s1leaf = page_desc(0x405000, AP_PRIV_RW) & ~LPAE_AF;
	put(s, 0xa006f0, s1leaf);
	ret = pgt_walk_nested(&f1ha, 0x200000, &f2, 0x700000, s, 0x2c0de123, 0, &r, NULL);
	CHECK_EQ(ret, 0);
	expect_fault("nested: S1 AF update through RO S2", &r, SMMU_EVT_F_PERMISSION, 2, 2,
		     0xa006f0);
	CHECK(r.fault.s1_fetch);
	CHECK(r.fault.s1_write);
	CHECK_EQ(get(s, 0xa006f0), s1leaf);

	/*
	 * A stage-1 fault in a nested walk: VA 0x2c2de123, S1 L2 index 0x161 -> IPA
	 * 0x200b08 (PA 0x800b08) is invalid: stage-1 F_TRANSLATION at level 2. The
	 * entry is reported at its PA 0x800b08 and at its IPA 0x200b08; its table in
	 * the stage's own table space, the root IPA 0x200000 (a stage-1 table need not
	 * be contiguous in physical memory, so only its IPA is a base).
	 * Entries read: 1 S2 + 1 S1.
	 */
	ret = pgt_walk_nested(&f1, 0x200000, &f2, 0x700000, s, 0x2c2de123, 0, &r, NULL);
	CHECK_EQ(ret, 0);
	expect_fault("nested: S1 invalid L2", &r, SMMU_EVT_F_TRANSLATION, 1, 2, 0x2c2de123);
	expect_entry("nested: S1 invalid L2", &r, 0x800b08, 0x200000);
	CHECK_EQ(r.fault.entry_ea, 0x200b08);
	CHECK(!r.fault.s1_fetch);
	CHECK_EQ(r.refs, 2);

	/* The final IPA unmapped: stage-2 fault on the output, not a table fetch.
	 * S1 L3 0x8016f0 -> page IPA 0x600000 -> IPA 0x600123, S2 L2[3] invalid. */
	put(s, 0x8016f0, page_desc(0x600000, AP_PRIV_RW));
	ret = pgt_walk_nested(&f1, 0x200000, &f2, 0x700000, s, 0x2bcde123, 0, &r, NULL);
	CHECK_EQ(ret, 0);
	expect_fault("nested: output IPA unmapped", &r, SMMU_EVT_F_TRANSLATION, 2, 2, 0x600123);
	CHECK(!r.fault.s1_fetch);
	mem_space_free(s);
}

/* PGT_CFG_NOLPA: an implementation without 52-bit PAs has no 4 TiB (2^42) level-1
 * blocks with the 64K granule (Arm ARM BlockDescSupported), only 512 MiB (2^29)
 * blocks and 64 KiB pages; the flag changes nothing for 4K; x86 refuses it. */
static void test_nolpa(void)
{
	struct pgt_cfg c = { .family = PGT_LPAE_S1, .granule = 65536, .tsz = 16, .oas = 48 };
	struct pgt_fmt f;

	CHECK_EQ(pgt_fmt_init(&f, &c), 0);
	CHECK_EQ(pgt_page_sizes(&f), (1ull << 42) | (1ull << 29) | (1ull << 16));
	c.flags = PGT_CFG_NOLPA;
	CHECK_EQ(pgt_fmt_init(&f, &c), 0);
	CHECK_EQ(pgt_page_sizes(&f), (1ull << 29) | (1ull << 16));
	c.family = PGT_LPAE_S2;
	c.tsz = 22;                     /* 42-bit IPA, SL0 1: start at level 1 */
	c.sl0 = 1;
	CHECK_EQ(pgt_fmt_init(&f, &c), 0);
	CHECK_EQ(pgt_page_sizes(&f), (1ull << 29) | (1ull << 16));
	c = (struct pgt_cfg){ .family = PGT_LPAE_S1, .granule = 4096, .tsz = 16, .oas = 48,
			      .flags = PGT_CFG_NOLPA };
	CHECK_EQ(pgt_fmt_init(&f, &c), 0);
	CHECK_EQ(pgt_page_sizes(&f), (1ull << 30) | (1ull << 21) | (1ull << 12));
	c = (struct pgt_cfg){ .family = PGT_X86_FS, .levels = 4, .oas = 52,
			      .flags = PGT_CFG_NOLPA };
	CHECK_EQ(pgt_fmt_init(&f, &c), -EINVAL);
}

int main(void)
{
	test_format_rules();
	test_nolpa();
	test_s1_4k();
	test_s1_16k();
	test_s1_64k();
	test_s2_start_levels();
	test_s2_concatenation();
	test_faults();
	test_s1_permissions();
	test_s2_permissions();
	test_hw_updates();
	test_update_readonly();
	test_nested_minimal();
	return check_exit();
}
