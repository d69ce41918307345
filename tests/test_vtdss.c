/* tests/test_vtdss.c — VT-d second-stage paging (PGT_VTD_SS), scalable mode.
 *
 * Every expected value here was worked out by hand from the VT-d 3.x facts
 * (docs/facts/vtd-paging.md §4-§6; ../shared/reference/vtd.md), never by running
 * the walker. Covered:
 *  - golden vectors: 3, 4 and 5 levels (39/48/57-bit input) with 4K, 2M and 1G
 *    pages, the top and bottom of each input range and the first address beyond
 *    it (0x84);
 *  - every second-stage fault (0x78 0x79 0x7a 0x7b 0x7d 0x82 0x84 0x85 0x86) with
 *    its level, entry and table address, and the memory image after it;
 *  - reserved bits of every entry kind (PML5E, PML4E, PDPE, PDE, PTE, 2M and 1G
 *    leaves): 51:HAW, 62, SNP (non-leaf, and leaf with NOSC), PS at the top and
 *    with NO1G/NO2M, the large leaves' 29:12 / 20:12; ignored bits 63, 61:52, 10,
 *    6:3; an entry with R = W = 0 ignores everything else;
 *  - the rights matrix: R/W/X at each level x SLEE x read/write/execute, with the
 *    combined R = W = 0 case (0x79);
 *  - A/D with and without SSADE, and 0x7d for an update into read-only memory.
 *
 * Memory: one RAM region [0, 1 MiB) per test case; tables at 0x1000, 0x2000, ...
 * Output pages need no memory (a walk never touches them).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "mem/mem.h"
#include "pgtable/pgtable.h"
#include "pgtable/vtd_fr.h"
#include "pgtable/vtd_ss.h"

#define RAM_SIZE    0x100000ull      /* [0, 1 MiB): every table of these tests */
#define ABSENT      0x200000ull      /* no memory from here (table access faults) */
#define RO_BASE     0x800000ull      /* read-only table memory in the A/D tests */
#define SNAP_BYTES  0x8000u          /* tables live in [0x1000, 0x6000) */
#define TEST_NAME   "test_vtdss"
#define TEST_STAGE  2
#include "walk_check.h"

#define SS_RW   (SS_R | SS_W)                /* 0x003 */
#define SS_RWX  (SS_R | SS_W | SS_X)         /* 0x007 */
#define PERM_RWX (PGT_PERM_R | PGT_PERM_W | PGT_PERM_X)

/* The addresses used by most cases, and their entries in the standard layout
 * (root at 0x1000, each level below in the next page).
 *
 * 3-level (39-bit input), GPA 0x0000001234567abc:
 *   L3 (PDPE) index = bits 38:30 = 0x048 -> 0x1000 + 8 * 0x048 = 0x1240
 *   L2 (PDE)  index = bits 29:21 = 0x1a2 -> 0x2000 + 8 * 0x1a2 = 0x2d10
 *   L1 (PTE)  index = bits 20:12 = 0x167 -> 0x3000 + 8 * 0x167 = 0x3b38
 *   offset: 4K 0xabc, 2M 0x167abc, 1G 0x34567abc
 *
 * 4-level (48-bit input), GPA 0x0000fedcba987654:
 *   L4 (PML4E) index = bits 47:39 = 0x1fd -> 0x1000 + 8 * 0x1fd = 0x1fe8
 *   L3 (PDPE)  index = bits 38:30 = 0x172 -> 0x2000 + 8 * 0x172 = 0x2b90
 *   L2 (PDE)   index = bits 29:21 = 0x1d4 -> 0x3000 + 8 * 0x1d4 = 0x3ea0
 *   L1 (PTE)   index = bits 20:12 = 0x187 -> 0x4000 + 8 * 0x187 = 0x4c38
 *   offset: 4K 0x654, 2M 0x187654, 1G 0x3a987654
 *
 * 5-level (57-bit input), GPA 0x01abcdef12345678:
 *   L5 (PML5E) index = bits 56:48 = 0x1ab -> 0x1000 + 8 * 0x1ab = 0x1d58
 *   L4 (PML4E) index = bits 47:39 = 0x19b -> 0x2000 + 8 * 0x19b = 0x2cd8
 *   L3 (PDPE)  index = bits 38:30 = 0x1bc -> 0x3000 + 8 * 0x1bc = 0x3de0
 *   L2 (PDE)   index = bits 29:21 = 0x091 -> 0x4000 + 8 * 0x091 = 0x4488
 *   L1 (PTE)   index = bits 20:12 = 0x145 -> 0x5000 + 8 * 0x145 = 0x5a28
 *   offset: 4K 0x678, 2M 0x145678, 1G 0x12345678
 */
#define G3          0x0000001234567abcull
#define G3_L3       0x1240ull
#define G3_L2       0x2d10ull
#define G3_L1       0x3b38ull

#define G4          0x0000fedcba987654ull
#define G4_L4       0x1fe8ull
#define G4_L3       0x2b90ull
#define G4_L2       0x3ea0ull
#define G4_L1       0x4c38ull

#define G5          0x01abcdef12345678ull
#define G5_L5       0x1d58ull
#define G5_L4       0x2cd8ull
#define G5_L3       0x3de0ull
#define G5_L2       0x4488ull
#define G5_L1       0x5a28ull

/* ---- helpers ---------------------------------------------------------------- */

static struct pgt_fmt ss_fmt(unsigned levels, unsigned flags, unsigned oas)
{
	struct pgt_cfg cfg = {
		.family = PGT_VTD_SS, .levels = levels, .oas = oas, .flags = flags,
	};
	struct pgt_fmt f;

	if (pgt_fmt_init(&f, &cfg))
		die("pgt_fmt_init");
	return f;
}

static uint64_t std_gpa(unsigned levels)
{
	return levels == 3 ? G3 : levels == 4 ? G4 : G5;
}

/* Writes the chain that maps gpa in the standard layout, the leaf at leaf_level
 * (1 = 4K PTE, 2 = 2M PDE, 3 = 1G PDPE) pointing at oa; every entry carries
 * bits, a large leaf PS too. */
static void ss_chain(struct mem_space *s, unsigned levels, uint64_t gpa, unsigned leaf_level,
		     uint64_t oa, uint64_t bits)
{
	for (unsigned l = levels; l > leaf_level; l--)
		put(s, std_entry(levels, l, gpa), std_table(levels, l - 1) | bits);
	put(s, std_entry(levels, leaf_level, gpa), oa | bits | (leaf_level > 1 ? SS_PS : 0));
}

/* ---- 1. golden vectors -------------------------------------------------------- */

/* The builder must put entries where the hand derivations above say. */
static void test_layout(void)
{
	CHECK_EQ(std_entry(3, 3, G3), G3_L3);
	CHECK_EQ(std_entry(3, 2, G3), G3_L2);
	CHECK_EQ(std_entry(3, 1, G3), G3_L1);
	CHECK_EQ(std_entry(4, 4, G4), G4_L4);
	CHECK_EQ(std_entry(4, 3, G4), G4_L3);
	CHECK_EQ(std_entry(4, 2, G4), G4_L2);
	CHECK_EQ(std_entry(4, 1, G4), G4_L1);
	CHECK_EQ(std_entry(5, 5, G5), G5_L5);
	CHECK_EQ(std_entry(5, 4, G5), G5_L4);
	CHECK_EQ(std_entry(5, 3, G5), G5_L3);
	CHECK_EQ(std_entry(5, 2, G5), G5_L2);
	CHECK_EQ(std_entry(5, 1, G5), G5_L1);
}

/*
 * 3-level, 4K, G3.
 * L3 0x1240 = 0x2003, L2 0x2d10 = 0x3003 (R|W), L1 0x3b38 = 0x000fedcba9876007
 * (R|W|X, address bits 51:12 = 0x000fedcba9876000; bit 51 is an address bit with
 * HAW 52). => OA 0x000fedcba9876abc, 4 KiB, 3 entries.
 * Without SSADE nothing is written, even for a write. With SSADE a read sets
 * A (bit 8) in all three: 0x2103, 0x3103, 0x000fedcba9876107; a write then sets
 * D (bit 9) in the leaf only: 0x000fedcba9876307.
 * Rights: R|W, and X because SLEE is off (execute needs only R).
 */
static void test_golden_3level_4k(void)
{
	struct pgt_fmt f = ss_fmt(3, 0, 0), fad = ss_fmt(3, PGT_CFG_AD, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	put(s, 0x1240, 0x2003);
	put(s, 0x2d10, 0x3003);
	put(s, 0x3b38, 0x000fedcba9876007ull);
	snap_take(s);

	walk(&f, s, 0x1000, G3, PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x000fedcba9876abcull, 0x1000, PERM_RWX);
	CHECK_EQ(r.refs, 3);
	CHECK_EQ(r.updates, 0);
	CHECK_EQ(r.leaf[1], 0x000fedcba9876007ull);
	CHECK_EQ(r.leaf_level[1], 1);
	CHECK_EQ(r.leaf_level[0], -1);
	SNAP_CHECK(s);

	walk(&fad, s, 0x1000, G3, 0, &r);
	EXPECT_OK(&r, 0x000fedcba9876abcull, 0x1000, PERM_RWX);
	CHECK_EQ(r.updates, 3);
	CHECK_EQ(get(s, 0x1240), 0x2103);
	CHECK_EQ(get(s, 0x2d10), 0x3103);
	CHECK_EQ(get(s, 0x3b38), 0x000fedcba9876107ull);

	walk(&fad, s, 0x1000, G3, PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x000fedcba9876abcull, 0x1000, PERM_RWX);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(get(s, 0x1240), 0x2103);       /* no D outside the leaf */
	CHECK_EQ(get(s, 0x2d10), 0x3103);
	CHECK_EQ(get(s, 0x3b38), 0x000fedcba9876307ull);
	CHECK_EQ(r.leaf[1], 0x000fedcba9876307ull);

	/* The low 12 bits of the root pointer are ignored (SSPTPTR is 63:12). */
	walk(&f, s, 0x1fff, G3 + 2, 0, &r);
	EXPECT_OK(&r, 0x000fedcba9876abeull, 0x1000, PERM_RWX);
	mem_space_free(s);
}

/*
 * 3-level, 2M, G3.
 * L3 0x1240 = 0x2003, L2 0x2d10 = 0x00000abcde000083 (PS|R|W; address bits 51:21
 * = 0x00000abcde000000). => OA 0x00000abcde000000 + 0x167abc = 0x00000abcde167abc,
 * 2 MiB, 2 entries. SSADE write: 0x2103 and 0x00000abcde000383.
 */
static void test_golden_3level_2m(void)
{
	struct pgt_fmt f = ss_fmt(3, PGT_CFG_AD, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	put(s, 0x1240, 0x2003);
	put(s, 0x2d10, 0x00000abcde000083ull);
	put(s, 0x3b38, 0x5003);                 /* a decoy PTE the walk must not reach */
	snap_take(s);
	walk(&f, s, 0x1000, G3, PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x00000abcde167abcull, 0x200000, PERM_RWX);
	CHECK_EQ(r.refs, 2);
	CHECK_EQ(r.updates, 2);
	CHECK_EQ(r.leaf_level[1], 2);
	snap_or(0x1240, SS_A);
	snap_or(0x2d10, SS_A | SS_D);
	SNAP_CHECK(s);
	CHECK_EQ(get(s, 0x2d10), 0x00000abcde000383ull);
	mem_space_free(s);
}

/*
 * 3-level, 1G, G3: the root entry itself is the leaf.
 * L3 0x1240 = 0x0000012340000087 (PS|R|W|X; address bits 51:30 =
 * 0x0000012340000000). => OA 0x0000012340000000 + 0x34567abc = 0x0000012374567abc.
 * With SLEE the execute needs X, which is there: rights R|W|X. SSADE execute:
 * A only, 0x0000012340000187.
 */
static void test_golden_3level_1g(void)
{
	struct pgt_fmt f = ss_fmt(3, PGT_CFG_AD | PGT_CFG_SLEE, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	put(s, 0x1240, 0x0000012340000087ull);
	walk(&f, s, 0x1000, G3, PGT_ACC_EXEC, &r);
	EXPECT_OK(&r, 0x0000012374567abcull, 0x40000000, PERM_RWX);
	CHECK_EQ(r.refs, 1);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(r.leaf_level[1], 3);
	CHECK_EQ(get(s, 0x1240), 0x0000012340000187ull);
	mem_space_free(s);
}

/*
 * 4-level, G4, the three page sizes (separate trees).
 *  4K: 0x1fe8 = 0x2003, 0x2b90 = 0x3003, 0x3ea0 = 0x4003, 0x4c38 = 0x777777003
 *      => OA 0x777777654, rights R|W|X (SLEE off), 4 entries.
 *  2M: 0x1fe8 = 0x2003, 0x2b90 = 0x3003, 0x3ea0 = 0x0000000180000083
 *      => OA 0x180000000 + 0x187654 = 0x180187654, 3 entries.
 *  1G: 0x1fe8 = 0x2003, 0x2b90 = 0x000fffffc0000081 (PS|R, read-only, the highest
 *      1G frame with HAW 52) => OA 0x000fffffc0000000 + 0x3a987654 =
 *      0x000ffffffa987654, rights R|X, 2 entries.
 */
static void test_golden_4level(void)
{
	struct pgt_fmt f = ss_fmt(4, 0, 0);
	struct mem_space *s;
	struct pgt_result r;

	s = new_space();
	put(s, 0x1fe8, 0x2003);
	put(s, 0x2b90, 0x3003);
	put(s, 0x3ea0, 0x4003);
	put(s, 0x4c38, 0x777777003);
	walk(&f, s, 0x1000, G4, 0, &r);
	EXPECT_OK(&r, 0x777777654, 0x1000, PERM_RWX);
	CHECK_EQ(r.refs, 4);
	mem_space_free(s);

	s = new_space();
	put(s, 0x1fe8, 0x2003);
	put(s, 0x2b90, 0x3003);
	put(s, 0x3ea0, 0x0000000180000083ull);
	walk(&f, s, 0x1000, G4, PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x180187654, 0x200000, PERM_RWX);
	CHECK_EQ(r.refs, 3);
	mem_space_free(s);

	s = new_space();
	put(s, 0x1fe8, 0x2003);
	put(s, 0x2b90, 0x000fffffc0000081ull);
	walk(&f, s, 0x1000, G4, 0, &r);
	EXPECT_OK(&r, 0x000ffffffa987654ull, 0x40000000, PGT_PERM_R | PGT_PERM_X);
	CHECK_EQ(r.refs, 2);
	mem_space_free(s);
}

/*
 * 5-level, G5, the three page sizes.
 *  4K: 0x1d58 = 0x2003, 0x2cd8 = 0x3003, 0x3de0 = 0x4003, 0x4488 = 0x5003,
 *      0x5a28 = 0x55555003 => OA 0x55555678, 5 entries.
 *  2M: ... 0x4488 = 0x40000083 => OA 0x40000000 + 0x145678 = 0x40145678, 4 entries.
 *  1G: ... 0x3de0 = 0x80000083 => OA 0x80000000 + 0x12345678 = 0x92345678, 3.
 * With SSADE, a write to the 4K page: A in all five (bit 8), D in the leaf.
 */
static void test_golden_5level(void)
{
	struct pgt_fmt f = ss_fmt(5, PGT_CFG_AD, 0);
	struct mem_space *s;
	struct pgt_result r;

	s = new_space();
	put(s, 0x1d58, 0x2003);
	put(s, 0x2cd8, 0x3003);
	put(s, 0x3de0, 0x4003);
	put(s, 0x4488, 0x5003);
	put(s, 0x5a28, 0x55555003);
	walk(&f, s, 0x1000, G5, PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x55555678, 0x1000, PERM_RWX);
	CHECK_EQ(r.refs, 5);
	CHECK_EQ(r.updates, 5);
	CHECK_EQ(get(s, 0x1d58), 0x2103);
	CHECK_EQ(get(s, 0x2cd8), 0x3103);
	CHECK_EQ(get(s, 0x3de0), 0x4103);
	CHECK_EQ(get(s, 0x4488), 0x5103);
	CHECK_EQ(get(s, 0x5a28), 0x55555303);
	mem_space_free(s);

	s = new_space();
	put(s, 0x1d58, 0x2003);
	put(s, 0x2cd8, 0x3003);
	put(s, 0x3de0, 0x4003);
	put(s, 0x4488, 0x40000083);
	walk(&f, s, 0x1000, G5, 0, &r);
	EXPECT_OK(&r, 0x40145678, 0x200000, PERM_RWX);
	CHECK_EQ(r.refs, 4);
	mem_space_free(s);

	s = new_space();
	put(s, 0x1d58, 0x2003);
	put(s, 0x2cd8, 0x3003);
	put(s, 0x3de0, 0x80000083);
	walk(&f, s, 0x1000, G5, 0, &r);
	EXPECT_OK(&r, 0x92345678, 0x40000000, PERM_RWX);
	CHECK_EQ(r.refs, 3);
	mem_space_free(s);
}

/*
 * The input range of each width: the top page, the last byte, the bottom, and the
 * first address beyond (0x84, before any memory reference). The tables map index
 * 0 at every level, which the first address beyond the range would hit if its
 * high bits were dropped (2^39, 2^48, 2^57 have zero bits below the width).
 *  3-level (2^39): top 0x0000007ffffff000: indices 0x1ff, 0x1ff, 0x1ff ->
 *                  0x1ff8, 0x2ff8, 0x3ff8; bottom: 0x1000, 0x2000, 0x3000;
 *                  beyond: 0x0000008000000000.
 *  4-level (2^48): top 0x0000fffffffff000 -> 0x1ff8, 0x2ff8, 0x3ff8, 0x4ff8;
 *                  beyond: 0x0001000000000000.
 *  5-level (2^57): top 0x01fffffffffff000 -> 0x1ff8 ... 0x5ff8;
 *                  beyond: 0x0200000000000000.
 * Top leaf 0xa003 => the last byte translates to 0xafff; bottom leaf 0xb003 =>
 * 0xb000.
 */
static void test_golden_edges(void)
{
	static const uint64_t beyond[] = { 0, 0, 0, 0x0000008000000000ull,
					   0x0001000000000000ull, 0x0200000000000000ull };

	for (unsigned levels = 3; levels <= 5; levels++) {
		struct pgt_fmt f = ss_fmt(levels, 0, 0);
		struct mem_space *s = new_space();
		uint64_t top = beyond[levels] - 0x1000;
		struct pgt_result r;

		/* Top: entry 0x1ff8 of each table; bottom: entry 0 of each table. */
		for (unsigned i = 0; i + 1 < levels; i++) {
			put(s, 0x1ff8 + 0x1000ull * i, 0x2000 + 0x1000ull * i + SS_RW);
			put(s, 0x1000 + 0x1000ull * i, 0x2000 + 0x1000ull * i + SS_RW);
		}
		put(s, 0x1ff8 + 0x1000ull * (levels - 1), 0xa003);
		put(s, 0x1000 + 0x1000ull * (levels - 1), 0xb003);
		snap_take(s);

		walk(&f, s, 0x1000, top, 0, &r);
		EXPECT_OK(&r, 0xa000, 0x1000, PERM_RWX);
		CHECK_EQ(r.refs, levels);
		walk(&f, s, 0x1000, top + 0xfff, PGT_ACC_WRITE, &r);
		EXPECT_OK(&r, 0xafff, 0x1000, PERM_RWX);
		walk(&f, s, 0x1000, 0, 0, &r);
		EXPECT_OK(&r, 0xb000, 0x1000, PERM_RWX);
		CHECK_EQ(r.refs, levels);

		walk(&f, s, 0x1000, beyond[levels], 0, &r);
		EXPECT_FAULT(&r, VTD_FR_SS_INPUT_WIDTH, PGT_FAULT_ADDR_SIZE, -1, beyond[levels], 0, 0);
		CHECK_EQ(r.refs, 0);
		walk(&f, s, 0x1000, beyond[levels] + 0x1000, PGT_ACC_WRITE, &r);
		EXPECT_FAULT(&r, VTD_FR_SS_INPUT_WIDTH, PGT_FAULT_ADDR_SIZE, -1,
			     beyond[levels] + 0x1000, 0, 0);
		walk(&f, s, 0x1000, 0xffffffffffffffffull, 0, &r);
		EXPECT_FAULT(&r, VTD_FR_SS_INPUT_WIDTH, PGT_FAULT_ADDR_SIZE, -1,
			     0xffffffffffffffffull, 0, 0);
		walk(&f, s, 0x1000, 0x8000000000000000ull, PGT_ACC_EXEC, &r);
		EXPECT_FAULT(&r, VTD_FR_SS_INPUT_WIDTH, PGT_FAULT_ADDR_SIZE, -1,
			     0x8000000000000000ull, 0, 0);
		SNAP_CHECK(s);
		mem_space_free(s);
	}

	/* A 48-bit address is beyond a 3-level table, within a 4-level one. */
	{
		struct pgt_fmt f3 = ss_fmt(3, 0, 0);
		struct mem_space *s = new_space();
		struct pgt_result r;

		walk(&f3, s, 0x1000, G4, 0, &r);
		EXPECT_FAULT(&r, VTD_FR_SS_INPUT_WIDTH, PGT_FAULT_ADDR_SIZE, -1, G4, 0, 0);
		mem_space_free(s);
	}
}

/* ---- 2. every fault ------------------------------------------------------------ */

/* The standard tree for the width's address: R|W everywhere, R|W|X in the leaf. */
static struct mem_space *std_tree(unsigned levels)
{
	struct mem_space *s = new_space();
	uint64_t gpa = std_gpa(levels);

	ss_chain(s, levels, gpa, 1, 0x12345000, SS_RW);
	put(s, std_entry(levels, 1, gpa), 0x12345000 | SS_RWX);
	return s;
}

/* 0x7b: the top entry cannot be read through SSPTPTR; 0x78: a lower one. */
static void test_fault_table_access(void)
{
	struct pgt_fmt f3 = ss_fmt(3, PGT_CFG_AD, 0), f4 = ss_fmt(4, PGT_CFG_AD, 0);
	struct pgt_fmt f5 = ss_fmt(5, PGT_CFG_AD, 0);
	struct mem_space *s;
	struct pgt_result r;

	/* Roots at 0x200000 (no memory):
	 *  3-level: L3 entry 0x200000 + 8 * 0x048 = 0x200240;
	 *  4-level: L4 entry 0x200000 + 8 * 0x1fd = 0x200fe8;
	 *  5-level: L5 entry 0x200000 + 8 * 0x1ab = 0x200d58. */
	s = std_tree(3);
	snap_take(s);
	walk(&f3, s, ABSENT, G3, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ROOT_ACCESS, PGT_FAULT_TABLE_ACCESS, 3, G3, 0x200240, ABSENT);
	CHECK_EQ(r.refs, 0);
	SNAP_CHECK(s);
	walk(&f4, s, ABSENT, G4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ROOT_ACCESS, PGT_FAULT_TABLE_ACCESS, 4, G4, 0x200fe8, ABSENT);
	walk(&f5, s, ABSENT, G5, PGT_ACC_WRITE, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ROOT_ACCESS, PGT_FAULT_TABLE_ACCESS, 5, G5, 0x200d58, ABSENT);
	mem_space_free(s);

	/* 4-level, SSADE: a table below the root is missing. Entries used before
	 * keep their A.
	 *  L4 -> 0x200000: L3 entry 0x200000 + 8 * 0x172 = 0x200b90, level 3;
	 *  L3 -> 0x300000: L2 entry 0x300000 + 8 * 0x1d4 = 0x300ea0, level 2;
	 *  L2 -> 0x400000: L1 entry 0x400000 + 8 * 0x187 = 0x400c38, level 1. */
	s = std_tree(4);
	put(s, G4_L4, ABSENT | SS_RW);
	snap_take(s);
	walk(&f4, s, 0x1000, G4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_ACCESS, PGT_FAULT_TABLE_ACCESS, 3, G4, 0x200b90, ABSENT);
	CHECK_EQ(r.refs, 1);
	snap_or(G4_L4, SS_A);
	SNAP_CHECK(s);
	mem_space_free(s);

	s = std_tree(4);
	put(s, G4_L3, 0x300000 | SS_RW);
	snap_take(s);
	walk(&f4, s, 0x1000, G4, PGT_ACC_WRITE, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_ACCESS, PGT_FAULT_TABLE_ACCESS, 2, G4, 0x300ea0, 0x300000);
	CHECK_EQ(r.refs, 2);
	snap_or(G4_L4, SS_A);
	snap_or(G4_L3, SS_A);
	SNAP_CHECK(s);
	mem_space_free(s);

	s = std_tree(4);
	put(s, G4_L2, 0x400000 | SS_RW);
	snap_take(s);
	walk(&f4, s, 0x1000, G4, PGT_ACC_EXEC, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_ACCESS, PGT_FAULT_TABLE_ACCESS, 1, G4, 0x400c38, 0x400000);
	CHECK_EQ(r.refs, 3);
	snap_or(G4_L4, SS_A);
	snap_or(G4_L3, SS_A);
	snap_or(G4_L2, SS_A);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* 5-level: L5 -> 0x200000: the PML4E at 0x200000 + 8 * 0x19b = 0x200cd8 is not
	 * the top entry: 0x78 (not 0x7b), level 4. */
	s = std_tree(5);
	put(s, G5_L5, ABSENT | SS_RW);
	walk(&f5, s, 0x1000, G5, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_ACCESS, PGT_FAULT_TABLE_ACCESS, 4, G5, 0x200cd8, ABSENT);
	mem_space_free(s);
}

/*
 * 0x79: an entry with R = W = 0 at each level. X alone does not make an entry
 * present, and with R = W = 0 every other bit is ignored, reserved ones included.
 */
static void test_fault_not_present(void)
{
	static const uint64_t values[] = {
		0,
		SS_X | 0x5000,                           /* X alone */
		SS_X | SS_PS | SS_SNP | SS_TM | BIT(51) | SS_A | SS_D | 0x5000,
	};

	for (unsigned levels = 3; levels <= 5; levels++) {
		struct pgt_fmt f = ss_fmt(levels, PGT_CFG_AD | PGT_CFG_NOSC, 46);
		uint64_t gpa = std_gpa(levels);

		for (unsigned level = levels; level >= 1; level--) {
			for (unsigned v = 0; v < ARRAY_SIZE(values); v++) {
				uint64_t entry = std_entry(levels, level, gpa);
				struct mem_space *s = std_tree(levels);
				struct pgt_result r;

				put(s, entry, values[v]);
				snap_take(s);
				walk(&f, s, 0x1000, gpa, PGT_ACC_WRITE, &r);
				EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_NP, PGT_FAULT_NOT_PRESENT, (int)level,
					     gpa, entry, std_table(levels, level));
				CHECK_EQ(r.refs, levels - level + 1);
				for (unsigned l = levels; l > level; l--)
					snap_or(std_entry(levels, l, gpa), SS_A);
				SNAP_CHECK(s);
				mem_space_free(s);
			}
		}
	}
}

/*
 * 0x79 also when each entry is present alone but R and W are 0 once combined
 * over the levels (SSS.2; OVMM). The walk completes, so the fault is at the
 * leaf: level 1, the PTE.
 * 4-level G4: L4 R only, L3 W only, L2 R|W, L1 R|W|X.
 */
static void test_fault_combined_not_present(void)
{
	struct pgt_fmt f = ss_fmt(4, PGT_CFG_AD, 0);
	struct mem_space *s = std_tree(4);
	struct pgt_result r;

	put(s, G4_L4, 0x2000 | SS_R);
	put(s, G4_L3, 0x3000 | SS_W);
	snap_take(s);
	walk(&f, s, 0x1000, G4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_NP, PGT_FAULT_NOT_PRESENT, 1, G4, G4_L1, 0x4000);
	CHECK_EQ(r.refs, 4);
	/* The non-leaf entries were used (A); the leaf is not accessed (no A). */
	snap_or(G4_L4, SS_A);
	snap_or(G4_L3, SS_A);
	snap_or(G4_L2, SS_A);
	SNAP_CHECK(s);
	walk(&f, s, 0x1000, G4, PGT_ACC_WRITE, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_NP, PGT_FAULT_NOT_PRESENT, 1, G4, G4_L1, 0x4000);
	walk(&f, s, 0x1000, G4, PGT_ACC_EXEC, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_NP, PGT_FAULT_NOT_PRESENT, 1, G4, G4_L1, 0x4000);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* A 2M leaf with W only under an R-only parent: level 2, the PDE. */
	s = new_space();
	ss_chain(s, 4, G4, 2, 0x40000000, SS_RW);
	put(s, G4_L3, 0x3000 | SS_R);
	put(s, G4_L2, 0x40000000 | SS_PS | SS_W);
	walk(&f, s, 0x1000, G4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_NP, PGT_FAULT_NOT_PRESENT, 2, G4, G4_L2, 0x3000);
	mem_space_free(s);
}

/* 0x7a, one per level here (every bit is in test_reserved_*): entries above the
 * faulting one keep A (SSADE); it and those below are untouched. */
static void test_fault_reserved(void)
{
	static const struct {
		unsigned level;
		uint64_t entry, table, bits;
	} cases[] = {
		{ 4, G4_L4, 0x1000, SS_PS },          /* PS in an SL-PML4E */
		{ 3, G4_L3, 0x2000, SS_TM },          /* bit 62 */
		{ 2, G4_L2, 0x3000, SS_SNP },         /* SNP in a non-leaf entry */
		{ 1, G4_L1, 0x4000, BIT(46) },        /* above HAW 46 */
	};
	struct pgt_fmt f = ss_fmt(4, PGT_CFG_AD, 46);

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mem_space *s = std_tree(4);
		struct pgt_result r;

		put(s, cases[i].entry, get(s, cases[i].entry) | cases[i].bits);
		snap_take(s);
		walk(&f, s, 0x1000, G4, PGT_ACC_WRITE, &r);
		EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_RSVD, PGT_FAULT_RESERVED, (int)cases[i].level, G4,
			     cases[i].entry, cases[i].table);
		CHECK_EQ(r.refs, 5 - cases[i].level);
		for (unsigned l = 4; l > cases[i].level; l--)
			snap_or(std_entry(4, l, G4), SS_A);
		SNAP_CHECK(s);
		mem_space_free(s);
	}
}

/*
 * Access-right faults at the leaf (level 1, PTE 0x4c38 in table 0x4000 for G4):
 * read without R 0x86, write without W 0x85, execute without R (or X with SLEE)
 * 0x82. Non-leaf entries were used (A); the leaf is not updated (not accessed).
 */
static void perm_fault_case(int line, unsigned flags, uint64_t entry, uint64_t clear,
			    unsigned access, uint16_t code)
{
	struct pgt_fmt f = ss_fmt(4, flags | PGT_CFG_AD, 0);
	struct mem_space *s = std_tree(4);
	struct pgt_result r;

	put(s, entry, get(s, entry) & ~clear);
	snap_take(s);
	walk(&f, s, 0x1000, G4, access, &r);
	expect_fault(line, &r, code, PGT_FAULT_PERMISSION, 1, G4, G4_L1, 0x4000);
	CHECK_EQ(r.refs, 4);
	snap_or(G4_L4, SS_A);
	snap_or(G4_L3, SS_A);
	snap_or(G4_L2, SS_A);
	snap_check(line, s);
	mem_space_free(s);
}

static void test_fault_permission(void)
{
	/* 0x86: read, R = 0 in the L3 entry (W only there). */
	perm_fault_case(__LINE__, 0, G4_L3, SS_R, 0, VTD_FR_READ);
	/* 0x86: read, R = 0 in the leaf. */
	perm_fault_case(__LINE__, PGT_CFG_SLEE, G4_L1, SS_R, 0, VTD_FR_READ);
	/* 0x85: write, W = 0 in the root entry. */
	perm_fault_case(__LINE__, 0, G4_L4, SS_W, PGT_ACC_WRITE, VTD_FR_WRITE);
	/* 0x85: write, W = 0 in the leaf. */
	perm_fault_case(__LINE__, 0, G4_L1, SS_W, PGT_ACC_WRITE, VTD_FR_WRITE);
	/* 0x82: execute with SLEE; std_tree's non-leaf entries have no X. */
	perm_fault_case(__LINE__, PGT_CFG_SLEE, G4_L1, 0, PGT_ACC_EXEC, VTD_FR_EXEC);
	/* 0x82: execute without SLEE needs R: the leaf is W|X only. */
	perm_fault_case(__LINE__, 0, G4_L1, SS_R, PGT_ACC_EXEC, VTD_FR_EXEC);

	/* SLEE with X everywhere but the L2 entry: 0x82; with X everywhere: allowed. */
	{
		struct pgt_fmt f = ss_fmt(4, PGT_CFG_SLEE, 0);
		struct mem_space *s = new_space();
		struct pgt_result r;

		ss_chain(s, 4, G4, 1, 0x12345000, SS_RWX);
		walk(&f, s, 0x1000, G4, PGT_ACC_EXEC, &r);
		EXPECT_OK(&r, 0x12345654, 0x1000, PERM_RWX);
		put(s, G4_L2, get(s, G4_L2) & ~SS_X);
		walk(&f, s, 0x1000, G4, PGT_ACC_EXEC, &r);
		EXPECT_FAULT(&r, VTD_FR_EXEC, PGT_FAULT_PERMISSION, 1, G4, G4_L1, 0x4000);
		walk(&f, s, 0x1000, G4, 0, &r);
		EXPECT_OK(&r, 0x12345654, 0x1000, PGT_PERM_R | PGT_PERM_W);
		mem_space_free(s);
	}

	/* A 1G leaf (3-level: the root entry) that is read-only: a write is 0x85 at
	 * level 3, entry 0x1240 in table 0x1000. */
	{
		struct pgt_fmt f = ss_fmt(3, PGT_CFG_AD, 0);
		struct mem_space *s = new_space();
		struct pgt_result r;

		put(s, G3_L3, 0x40000000 | SS_PS | SS_R);
		snap_take(s);
		walk(&f, s, 0x1000, G3, PGT_ACC_WRITE, &r);
		EXPECT_FAULT(&r, VTD_FR_WRITE, PGT_FAULT_PERMISSION, 3, G3, G3_L3, 0x1000);
		SNAP_CHECK(s);
		mem_space_free(s);
	}

	/* The second stage has no privilege: a user request is treated the same. */
	{
		struct pgt_fmt f = ss_fmt(4, 0, 0);
		struct mem_space *s = std_tree(4);
		struct pgt_result r;

		walk(&f, s, 0x1000, G4, PGT_ACC_USER | PGT_ACC_WRITE, &r);
		EXPECT_OK(&r, 0x12345654, 0x1000, PERM_RWX);
		put(s, G4_L2, get(s, G4_L2) & ~SS_W);
		walk(&f, s, 0x1000, G4, PGT_ACC_USER | PGT_ACC_WRITE, &r);
		EXPECT_FAULT(&r, VTD_FR_WRITE, PGT_FAULT_PERMISSION, 1, G4, G4_L1, 0x4000);
		mem_space_free(s);
	}
}

static void test_reason_names(void)
{
	CHECK(!strcmp(pgt_reason_name(PGT_FAULT_TABLE_ACCESS), "table-access"));
	CHECK(!strcmp(pgt_reason_name(PGT_FAULT_NOT_PRESENT), "not-present"));
	CHECK(!strcmp(pgt_reason_name(PGT_FAULT_RESERVED), "reserved-bit"));
	CHECK(!strcmp(pgt_reason_name(PGT_FAULT_ADDR_SIZE), "address-size"));
	CHECK(!strcmp(pgt_reason_name(PGT_FAULT_PERMISSION), "permission"));
}

/* ---- 2b. A/D update failures and read-only table memory ------------------------------ */

/*
 * Tables in a read-only region at 0x800000 (L4 0x800000, L3 0x801000, L2 0x802000,
 * L1 0x803000). For G4:
 *   L4 0x800000 + 8 * 0x1fd = 0x800fe8, L3 0x801000 + 8 * 0x172 = 0x801b90,
 *   L2 0x802000 + 8 * 0x1d4 = 0x802ea0, L1 0x803000 + 8 * 0x187 = 0x803c38.
 * A needed A/D update that cannot be made is 0x7d (SSS.6). Without SSADE nothing
 * is ever written, so read-only tables translate; with SSADE and every flag
 * already set, too.
 */
static uint64_t ro_tables[4][512];
static uint64_t ro_before[4][512];

static struct mem_space *ro_space(uint64_t upper_bits, uint64_t leaf_bits)
{
	struct mem_space *s = new_space();

	memset(ro_tables, 0, sizeof(ro_tables));
	ro_tables[0][0x1fd] = 0x801000 | SS_RW | upper_bits;
	ro_tables[1][0x172] = 0x802000 | SS_RW | upper_bits;
	ro_tables[2][0x1d4] = 0x803000 | SS_RW | upper_bits;
	ro_tables[3][0x187] = 0x12345000 | SS_RW | leaf_bits;
	if (mem_add(s, RO_BASE, sizeof(ro_tables), ro_tables, MEM_READ))
		die("mem_add read-only");
	memcpy(ro_before, ro_tables, sizeof(ro_tables));
	return s;
}

static void test_fault_ad_update(void)
{
	struct pgt_fmt f = ss_fmt(4, 0, 0), fad = ss_fmt(4, PGT_CFG_AD, 0);
	struct mem_space *s;
	struct pgt_result r;

	/* Without SSADE: a write translates and writes nothing. */
	s = ro_space(0, 0);
	walk(&f, s, RO_BASE, G4, PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x12345654, 0x1000, PERM_RWX);
	CHECK_EQ(r.updates, 0);
	CHECK(!memcmp(ro_before, ro_tables, sizeof(ro_tables)));

	/* With SSADE: the root entry's A update fails, level 4, nothing written. */
	walk(&fad, s, RO_BASE, G4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_AD_FAIL, PGT_FAULT_TABLE_ACCESS, 4, G4, 0x800fe8, 0x800000);
	CHECK_EQ(r.refs, 1);
	CHECK_EQ(r.updates, 0);
	CHECK(!memcmp(ro_before, ro_tables, sizeof(ro_tables)));
	mem_space_free(s);

	/* A set everywhere: a read needs nothing; a write needs D in the leaf and
	 * fails there, level 1. */
	s = ro_space(SS_A, SS_A);
	walk(&fad, s, RO_BASE, G4, 0, &r);
	EXPECT_OK(&r, 0x12345654, 0x1000, PERM_RWX);
	CHECK_EQ(r.updates, 0);
	walk(&fad, s, RO_BASE, G4, PGT_ACC_WRITE, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_AD_FAIL, PGT_FAULT_TABLE_ACCESS, 1, G4, 0x803c38, 0x803000);
	CHECK_EQ(r.refs, 4);
	CHECK(!memcmp(ro_before, ro_tables, sizeof(ro_tables)));
	mem_space_free(s);

	/* A and D set: even a write needs nothing. */
	s = ro_space(SS_A, SS_A | SS_D);
	walk(&fad, s, RO_BASE, G4, PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x12345654, 0x1000, PERM_RWX);
	CHECK_EQ(r.updates, 0);
	mem_space_free(s);

	/* Upper tables in RAM, the leaf table read-only: three A updates made, the
	 * leaf's fails at level 1. */
	s = ro_space(0, 0);
	put(s, G4_L4, 0x2000 | SS_RW);
	put(s, G4_L3, 0x3000 | SS_RW);
	put(s, G4_L2, 0x803000 | SS_RW);
	walk(&fad, s, 0x1000, G4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_SS_AD_FAIL, PGT_FAULT_TABLE_ACCESS, 1, G4, 0x803c38, 0x803000);
	CHECK_EQ(r.updates, 3);
	CHECK_EQ(get(s, G4_L4), 0x2103);
	CHECK_EQ(get(s, G4_L3), 0x3103);
	CHECK_EQ(get(s, G4_L2), 0x803103);
	CHECK(!memcmp(ro_before, ro_tables, sizeof(ro_tables)));
	mem_space_free(s);
}

/* ---- 3. reserved and ignored bits ------------------------------------------------ */

enum leaf_kind { LEAF_4K = 1, LEAF_2M = 2, LEAF_1G = 3 };

/*
 * Sets `bit` in the entry of level `level` of a chain for the width's standard
 * address (leaf at leaf_level, R|W everywhere) and reads. Expects 0x7a at that
 * level when `reserved`, else a translation with the leaf's address and size.
 */
static void bit_case(int line, unsigned levels, unsigned flags, unsigned oas,
		     unsigned leaf_level, unsigned level, unsigned bit, bool reserved)
{
	static const uint64_t leaf_oa[] = { 0, 0x12345000, 0x40000000, 0x80000000 };
	struct pgt_fmt f = ss_fmt(levels, flags, oas);
	struct mem_space *s = new_space();
	uint64_t gpa = std_gpa(levels);
	uint64_t entry = std_entry(levels, level, gpa);
	uint64_t size = 1ull << (12 + 9 * (leaf_level - 1));
	struct pgt_result r;

	ss_chain(s, levels, gpa, leaf_level, leaf_oa[leaf_level], SS_RW);
	put(s, entry, get(s, entry) | BIT(bit));
	snap_take(s);
	walk(&f, s, 0x1000, gpa, 0, &r);
	if (reserved) {
		CHECK_MSG(!r.ok && r.fault.code == VTD_FR_SS_ENTRY_RSVD &&
			  r.fault.level == (int)level && r.fault.entry_pa == entry &&
			  r.fault.table == std_table(levels, level) &&
			  r.fault.reason == PGT_FAULT_RESERVED,
			  "line %d: vtd-ss%u flags 0x%x oas %u leaf L%u: bit %u in L%u: expected "
			  "0x7a at L%u entry 0x%" PRIx64 ", got ok %d code 0x%x level %d entry 0x%"
			  PRIx64, line, levels, flags, oas, leaf_level, bit, level, level, entry,
			  r.ok, r.fault.code, r.fault.level, r.fault.entry_pa);
		if (flags & PGT_CFG_AD) {
			for (unsigned l = levels; l > level; l--)
				snap_or(std_entry(levels, l, gpa), SS_A);
		}
		snap_check(line, s);
	} else {
		CHECK_MSG(r.ok && r.oa == (leaf_oa[leaf_level] | (gpa & (size - 1))) &&
			  r.page_size == size,
			  "line %d: vtd-ss%u flags 0x%x oas %u leaf L%u: bit %u in L%u must be "
			  "ignored: ok %d oa 0x%" PRIx64 " size 0x%" PRIx64 " code 0x%x level %d",
			  line, levels, flags, oas, leaf_level, bit, level, r.ok, r.oa,
			  r.page_size, r.fault.code, r.fault.level);
	}
	mem_space_free(s);
}

/*
 * Reserved bits (§4): 51:HAW and 62 everywhere; SNP in non-leaf entries always
 * and in leaves without snoop control; PS in PML4E/PML5E; the large leaves'
 * 29:12 / 20:12. Each alone, for every width and leaf size.
 */
static void test_reserved_bits(void)
{
	for (unsigned levels = 3; levels <= 5; levels++) {
		for (unsigned leaf = LEAF_4K; leaf <= LEAF_1G; leaf++) {
			for (unsigned level = levels; level >= leaf; level--) {
				for (unsigned bit = 46; bit <= 51; bit++)
					bit_case(__LINE__, levels, 0, 46, leaf, level, bit, true);
				bit_case(__LINE__, levels, 0, 0, leaf, level, 62, true);
				bit_case(__LINE__, levels, PGT_CFG_AD, 0, leaf, level, 62, true);
				/* SNP: reserved in a non-leaf entry, also with snoop control. */
				bit_case(__LINE__, levels, 0, 0, leaf, level, 11, level > leaf);
				bit_case(__LINE__, levels, PGT_CFG_NOSC, 0, leaf, level, 11, true);
				if (level >= 4)
					bit_case(__LINE__, levels, 0, 0, leaf, level, 7, true);
			}
			if (leaf == LEAF_2M) {
				for (unsigned bit = 12; bit <= 20; bit++)
					bit_case(__LINE__, levels, PGT_CFG_AD, 0, leaf, 2, bit, true);
			}
			if (leaf == LEAF_1G) {
				for (unsigned bit = 12; bit <= 29; bit++)
					bit_case(__LINE__, levels, 0, 0, leaf, 3, bit, true);
			}
		}
	}
}

/* Without 1G pages (SLLPS bit 35) PS in a PDPE is reserved; without 2M pages
 * (bit 34) PS in a PDE. The other size keeps working. */
static void test_reserved_page_sizes(void)
{
	for (unsigned levels = 3; levels <= 5; levels++) {
		bit_case(__LINE__, levels, PGT_CFG_NO1G, 0, LEAF_1G, 3, 7, true);
		bit_case(__LINE__, levels, PGT_CFG_NO2M, 0, LEAF_2M, 2, 7, true);
		/* (bit 3, EMT, is ignored: these only show the walk succeeds) */
		bit_case(__LINE__, levels, PGT_CFG_NO1G, 0, LEAF_2M, 2, 3, false);
		bit_case(__LINE__, levels, PGT_CFG_NO2M, 0, LEAF_1G, 3, 3, false);
		bit_case(__LINE__, levels, PGT_CFG_NO1G | PGT_CFG_NO2M, 0, LEAF_4K, 1, 3, false);
	}
	/* Hand-checked: 3-level, NO1G, L3 0x1240 = 0x40000083 -> 0x7a at level 3. */
	{
		struct pgt_fmt f = ss_fmt(3, PGT_CFG_NO1G, 0);
		struct mem_space *s = new_space();
		struct pgt_result r;

		put(s, G3_L3, 0x40000083);
		walk(&f, s, 0x1000, G3, 0, &r);
		EXPECT_FAULT(&r, VTD_FR_SS_ENTRY_RSVD, PGT_FAULT_RESERVED, 3, G3, G3_L3, 0x1000);
		mem_space_free(s);
	}
}

/*
 * Ignored bits (§4): 63, 61:52 and 10 everywhere; 6:3 (EMT/IPAT in a leaf,
 * ignored elsewhere); PS in a 4K PTE; A/D (8, 9) without SSADE, D in a non-leaf
 * entry with it; SNP in a leaf with snoop control; X without SLEE.
 */
static void test_ignored_bits(void)
{
	for (unsigned levels = 3; levels <= 5; levels++) {
		for (unsigned leaf = LEAF_4K; leaf <= LEAF_1G; leaf++) {
			for (unsigned level = levels; level >= leaf; level--) {
				bit_case(__LINE__, levels, 0, 0, leaf, level, 63, false);
				for (unsigned bit = 52; bit <= 61; bit++)
					bit_case(__LINE__, levels, 0, 0, leaf, level, bit, false);
				bit_case(__LINE__, levels, 0, 0, leaf, level, 10, false);
				for (unsigned bit = 2; bit <= 6; bit++)
					bit_case(__LINE__, levels, 0, 0, leaf, level, bit, false);
				bit_case(__LINE__, levels, 0, 0, leaf, level, 8, false);
				bit_case(__LINE__, levels, 0, 0, leaf, level, 9, false);
				if (level > leaf)
					bit_case(__LINE__, levels, PGT_CFG_AD, 0, leaf, level, 9,
						 false);
			}
			if (leaf == LEAF_4K)
				bit_case(__LINE__, levels, 0, 0, leaf, 1, 7, false);
		}
	}
	/* HAW 46: bit 45 of a leaf is still an address bit.
	 * 3-level, L1 0x3b38 = 0x00003ffffffff003 => OA 0x00003ffffffffabc. */
	{
		struct pgt_fmt f = ss_fmt(3, 0, 46);
		struct mem_space *s = new_space();
		struct pgt_result r;

		ss_chain(s, 3, G3, LEAF_4K, 0x00003ffffffff000ull, SS_RW);
		walk(&f, s, 0x1000, G3, 0, &r);
		EXPECT_OK(&r, 0x00003ffffffffabcull, 0x1000, PERM_RWX);
		mem_space_free(s);
	}
}

/* ---- 4. rights matrix -------------------------------------------------------------- */

/*
 * The rules of §4, from the spec text (not from walk.c): R, W and X are ANDed over
 * every entry used. Combined R = W = 0 is 0x79; a read needs R (0x86), a write
 * W (0x85), an execute R and, with SLEE, X (0x82).
 */
struct ss_rights {
	bool ok;
	uint16_t code;
	unsigned perm;
};

static struct ss_rights ss_expected(unsigned flags, unsigned access, bool r, bool w, bool x)
{
	struct ss_rights e = { .ok = true };
	bool exec_ok = r && (!(flags & PGT_CFG_SLEE) || x);

	e.perm = (r ? PGT_PERM_R : 0) | (w ? PGT_PERM_W : 0) | (exec_ok ? PGT_PERM_X : 0);
	if (!r && !w)
		e.code = VTD_FR_SS_ENTRY_NP;
	else if ((access & PGT_ACC_WRITE) && !w)
		e.code = VTD_FR_WRITE;
	else if ((access & PGT_ACC_EXEC) && !exec_ok)
		e.code = VTD_FR_EXEC;
	else if (!(access & (PGT_ACC_WRITE | PGT_ACC_EXEC)) && !r)
		e.code = VTD_FR_READ;
	e.ok = !e.code;
	return e;
}

static void test_rights_matrix(void)
{
	/* Every present R/W/X combination of one entry (R or W set). */
	static const uint64_t combos[] = {
		SS_R, SS_W, SS_R | SS_W, SS_R | SS_X, SS_W | SS_X, SS_R | SS_W | SS_X,
	};
	static const unsigned accesses[] = { 0, PGT_ACC_WRITE, PGT_ACC_EXEC };
	static const uint64_t leaf_oa[] = { 0, 0x12345000, 0x40000000, 0x80000000 };
	struct mem_space *s = new_space();
	unsigned walks = 0;

	for (unsigned leaf = LEAF_4K; leaf <= LEAF_1G; leaf++) {
		unsigned n = 4 - leaf + 1, total = 1;
		uint64_t size = 1ull << (12 + 9 * (leaf - 1));

		for (unsigned i = 0; i < n; i++)
			total *= ARRAY_SIZE(combos);
		for (unsigned slee = 0; slee < 2; slee++) {
			unsigned flags = PGT_CFG_AD | (slee ? PGT_CFG_SLEE : 0);
			struct pgt_fmt f = ss_fmt(4, flags, 0);

			for (unsigned c = 0; c < total; c++)
			for (unsigned ai = 0; ai < ARRAY_SIZE(accesses); ai++) {
				unsigned access = accesses[ai], rest = c;
				bool rr = true, ww = true, xx = true, mem_ok = true;
				uint64_t want[5] = { 0 }, got[5] = { 0 };
				struct ss_rights e;
				struct pgt_result r;

				for (unsigned l = 4; l >= leaf; l--) {
					uint64_t p = combos[rest % ARRAY_SIZE(combos)];
					uint64_t v = p | (l == leaf ? leaf_oa[leaf] |
							  (leaf > 1 ? SS_PS : 0) : std_table(4, l - 1));

					rest /= ARRAY_SIZE(combos);
					rr &= !!(p & SS_R);
					ww &= !!(p & SS_W);
					xx &= !!(p & SS_X);
					put(s, std_entry(4, l, G4), v);
					want[l] = v;
				}
				e = ss_expected(flags, access, rr, ww, xx);
				walk(&f, s, 0x1000, G4, access, &r);
				walks++;

				/* SSADE: A in every non-leaf entry used; A (and D on a write) in
				 * the leaf only when the access is performed. */
				for (unsigned l = 4; l >= leaf; l--) {
					if (l > leaf)
						want[l] |= SS_A;
					else if (e.ok)
						want[l] |= SS_A | ((access & PGT_ACC_WRITE) ? SS_D : 0);
					got[l] = get(s, std_entry(4, l, G4));
					mem_ok &= got[l] == want[l];
				}
				CHECK_MSG(r.ok == e.ok && (e.ok ? r.perm == e.perm &&
					  r.oa == (leaf_oa[leaf] | (G4 & (size - 1))) :
					  r.fault.code == e.code && r.fault.level == (int)leaf &&
					  r.fault.entry_pa == std_entry(4, leaf, G4)) && mem_ok,
					  "leaf L%u flags 0x%x access 0x%x entries (L4..) %" PRIx64 " %"
					  PRIx64 " %" PRIx64 " %" PRIx64 ": expected ok %d code 0x%x perm "
					  "0x%x; got ok %d code 0x%x level %d perm 0x%x; memory %s",
					  leaf, flags, access, want[4] & 7, want[3] & 7, want[2] & 7,
					  want[1] & 7, e.ok, e.code, e.perm, r.ok, r.fault.code,
					  r.fault.level, r.perm, mem_ok ? "ok" : "WRONG");
			}
		}
	}
	CHECK_EQ(walks, (1296 + 216 + 36) * 2 * 3);
	mem_space_free(s);
}

/* Hand-written rows: the spec's sentences one by one (4-level G4, 4K). */
static void rights_row(int line, unsigned flags, const uint64_t perms[4], unsigned access,
		       uint16_t code, unsigned perm)
{
	struct pgt_fmt f = ss_fmt(4, flags, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	put(s, G4_L4, 0x2000 | perms[0]);
	put(s, G4_L3, 0x3000 | perms[1]);
	put(s, G4_L2, 0x4000 | perms[2]);
	put(s, G4_L1, 0x12345000 | perms[3]);
	walk(&f, s, 0x1000, G4, access, &r);
	if (code)
		expect_fault(line, &r, code, code == VTD_FR_SS_ENTRY_NP ? PGT_FAULT_NOT_PRESENT :
			     PGT_FAULT_PERMISSION, 1, G4, G4_L1, 0x4000);
	else
		expect_ok(line, &r, 0x12345654, 0x1000, perm);
	mem_space_free(s);
}

static void test_rights_rows(void)
{
	const uint64_t all_rw[4] = { SS_RW, SS_RW, SS_RW, SS_RW };
	const uint64_t read_only_mid[4] = { SS_RW, SS_R, SS_RW, SS_RW };
	const uint64_t write_only_leaf[4] = { SS_RWX, SS_RWX, SS_RWX, SS_W | SS_X };
	const uint64_t r_then_w[4] = { SS_R, SS_RW, SS_RW, SS_W };
	const uint64_t x_everywhere[4] = { SS_RWX, SS_RWX, SS_RWX, SS_RWX };
	const uint64_t x_leaf_only[4] = { SS_RW, SS_RW, SS_RW, SS_RWX };

	/* SLEE off: X is ignored, an execute needs only R. */
	rights_row(__LINE__, 0, all_rw, PGT_ACC_EXEC, 0, PERM_RWX);
	/* SLEE on: X must be set at every level. */
	rights_row(__LINE__, PGT_CFG_SLEE, all_rw, PGT_ACC_EXEC, VTD_FR_EXEC, 0);
	rights_row(__LINE__, PGT_CFG_SLEE, x_leaf_only, PGT_ACC_EXEC, VTD_FR_EXEC, 0);
	rights_row(__LINE__, PGT_CFG_SLEE, x_everywhere, PGT_ACC_EXEC, 0, PERM_RWX);
	rights_row(__LINE__, PGT_CFG_SLEE, all_rw, 0, 0, PGT_PERM_R | PGT_PERM_W);
	/* R only somewhere: reads and executes, no write. */
	rights_row(__LINE__, 0, read_only_mid, 0, 0, PGT_PERM_R | PGT_PERM_X);
	rights_row(__LINE__, 0, read_only_mid, PGT_ACC_WRITE, VTD_FR_WRITE, 0);
	/* W only in the leaf: writes; reads 0x86; execute (even with X) 0x82. */
	rights_row(__LINE__, 0, write_only_leaf, PGT_ACC_WRITE, 0, PGT_PERM_W);
	rights_row(__LINE__, 0, write_only_leaf, 0, VTD_FR_READ, 0);
	rights_row(__LINE__, PGT_CFG_SLEE, write_only_leaf, PGT_ACC_EXEC, VTD_FR_EXEC, 0);
	/* R at the top, W at the leaf: combined R = W = 0, 0x79 for any request. */
	rights_row(__LINE__, 0, r_then_w, 0, VTD_FR_SS_ENTRY_NP, 0);
	rights_row(__LINE__, 0, r_then_w, PGT_ACC_WRITE, VTD_FR_SS_ENTRY_NP, 0);
	rights_row(__LINE__, PGT_CFG_SLEE, r_then_w, PGT_ACC_EXEC, VTD_FR_SS_ENTRY_NP, 0);
}

/* ---- 5. A/D flags ---------------------------------------------------------------- */

static void test_accessed_dirty(void)
{
	struct pgt_fmt f = ss_fmt(4, 0, 0), fad = ss_fmt(4, PGT_CFG_AD, 0);
	struct mem_space *s;
	struct pgt_result r;

	/* Without SSADE nothing is written for any request, and bits 8/9 already
	 * set stay as they are. */
	s = std_tree(4);
	put(s, G4_L3, get(s, G4_L3) | SS_A | SS_D);
	snap_take(s);
	walk(&f, s, 0x1000, G4, PGT_ACC_WRITE, &r);
	CHECK(r.ok);
	walk(&f, s, 0x1000, G4, 0, &r);
	CHECK(r.ok);
	walk(&f, s, 0x1000, G4, PGT_ACC_EXEC, &r);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 0);
	SNAP_CHECK(s);

	/* With SSADE, a read: A in every entry (the L3's is already set: 3 updates),
	 * D nowhere. */
	walk(&fad, s, 0x1000, G4, 0, &r);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 3);
	snap_or(G4_L4, SS_A);
	snap_or(G4_L2, SS_A);
	snap_or(G4_L1, SS_A);
	SNAP_CHECK(s);
	/* An execute sets nothing more; a write sets D in the leaf only. */
	walk(&fad, s, 0x1000, G4, PGT_ACC_EXEC, &r);
	CHECK_EQ(r.updates, 0);
	walk(&fad, s, 0x1000, G4, PGT_ACC_WRITE, &r);
	CHECK_EQ(r.updates, 1);
	snap_or(G4_L1, SS_D);
	SNAP_CHECK(s);
	CHECK_EQ(r.leaf[1], 0x12345000 | SS_RWX | SS_A | SS_D);
	mem_space_free(s);

	/* A first write sets A and D in the leaf in one update. */
	s = std_tree(4);
	snap_take(s);
	walk(&fad, s, 0x1000, G4, PGT_ACC_WRITE, &r);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 4);
	snap_or(G4_L4, SS_A);
	snap_or(G4_L3, SS_A);
	snap_or(G4_L2, SS_A);
	snap_or(G4_L1, SS_A | SS_D);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* A denied write (leaf R only) never sets D; the leaf is not accessed, so no
	 * A either; a later read sets A only. */
	s = std_tree(4);
	put(s, G4_L1, 0x12345000 | SS_R);
	snap_take(s);
	walk(&fad, s, 0x1000, G4, PGT_ACC_WRITE, &r);
	CHECK_EQ(r.fault.code, VTD_FR_WRITE);
	snap_or(G4_L4, SS_A);
	snap_or(G4_L3, SS_A);
	snap_or(G4_L2, SS_A);
	SNAP_CHECK(s);
	walk(&fad, s, 0x1000, G4, 0, &r);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 1);
	snap_or(G4_L1, SS_A);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* R = W = 0 at L2: L4 and L3 keep their A, nothing else changes. */
	s = std_tree(4);
	put(s, G4_L2, 0x4000 | SS_X);
	snap_take(s);
	walk(&fad, s, 0x1000, G4, 0, &r);
	CHECK_EQ(r.fault.code, VTD_FR_SS_ENTRY_NP);
	CHECK_EQ(r.updates, 2);
	snap_or(G4_L4, SS_A);
	snap_or(G4_L3, SS_A);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* 5-level 2M write: A in L5, L4, L3; A|D in the L2 leaf; no D above. */
	{
		struct pgt_fmt f5 = ss_fmt(5, PGT_CFG_AD, 0);

		s = new_space();
		ss_chain(s, 5, G5, LEAF_2M, 0x40000000, SS_RW);
		snap_take(s);
		walk(&f5, s, 0x1000, G5, PGT_ACC_WRITE, &r);
		CHECK(r.ok);
		CHECK_EQ(r.updates, 4);
		snap_or(G5_L5, SS_A);
		snap_or(G5_L4, SS_A);
		snap_or(G5_L3, SS_A);
		snap_or(G5_L2, SS_A | SS_D);
		SNAP_CHECK(s);
		mem_space_free(s);
	}
}

/* pgt_walk's argument contract: write and execute together, or an unknown access
 * bit, is -EINVAL; anything else returns 0 with the outcome in the result. */
static void test_bad_access(void)
{
	struct pgt_fmt f = ss_fmt(4, 0, 0);
	struct mem_space *s = std_tree(4);
	struct pgt_result r;

	CHECK_EQ(pgt_walk(&f, s, 0x1000, G4, PGT_ACC_WRITE | PGT_ACC_EXEC, &r, NULL), -EINVAL);
	CHECK_EQ(pgt_walk(&f, s, 0x1000, G4, BIT(7), &r, NULL), -EINVAL);
	CHECK_EQ(pgt_walk(&f, s, 0x1000, G4, PGT_ACC_USER | PGT_ACC_EXEC, &r, NULL), 0);
	mem_space_free(s);
}

int main(void)
{
	test_layout();
	test_golden_3level_4k();
	test_golden_3level_2m();
	test_golden_3level_1g();
	test_golden_4level();
	test_golden_5level();
	test_golden_edges();
	test_fault_table_access();
	test_fault_not_present();
	test_fault_combined_not_present();
	test_fault_reserved();
	test_fault_permission();
	test_reason_names();
	test_fault_ad_update();
	test_reserved_bits();
	test_reserved_page_sizes();
	test_ignored_bits();
	test_rights_matrix();
	test_rights_rows();
	test_accessed_dirty();
	test_bad_access();
	return check_exit();
}
