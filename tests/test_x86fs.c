/* tests/test_x86fs.c — x86-64 paging as the VT-d first stage (PGT_X86_FS).
 *
 * Every expected value here was worked out by hand from the VT-d 3.x facts
 * (docs/facts/vtd-paging.md §1-§3, §5; ../shared/reference/vtd.md), never by
 * running the walker. Covered:
 *  - golden vectors: 4-level 4K/2M/1G, 5-level 4K/1G, upper-half canonical
 *    addresses, the top and bottom of each address space, the canonical hole;
 *  - every first-stage fault (0x70 0x71 0x72 0x73 0x80 0x81 0x82 0x85 0x91) with
 *    its level, entry and table address, and the memory image after it;
 *  - reserved bits of every entry kind (PML5E, PML4E, PDPTE, PDE, PTE, 2M and 1G
 *    leaves), the ignored bits, XD with and without NXE, a HAW below 52, NO1G;
 *  - the access-rights matrix: user/supervisor x read/write/execute x U/S, R/W
 *    and XD at each level x WPE/SMEP/NXE, for 4K, 2M and 1G leaves;
 *  - A/D: A at every level, D only in the leaf on a write, nothing in the leaf on
 *    a denied access, upper A kept on a lower fault, and 0x91 in read-only memory.
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
#include "pgtable/x86_fs.h"

#define RAM_SIZE    0x100000ull      /* [0, 1 MiB): every table of these tests */
#define ABSENT      0x200000ull      /* no memory from here (table access faults) */
#define RO_BASE     0x800000ull      /* read-only table memory in the A/D tests */
#define SNAP_BYTES  0x8000u          /* tables live in [0x1000, 0x6000) */
#define TEST_NAME   "test_x86fs"
#define TEST_STAGE  1
#include "walk_check.h"

#define PRESENT_RW_US (X86_P | X86_RW | X86_US)   /* 0x007 */

/* The address used by most cases below, and its entries in the standard layout
 * (root at 0x1000, each level below in the next page):
 * VA 0x00007f1234567abc (bit 47 = 0, bits 63:48 = 0: canonical)
 *   PML4 index = bits 47:39 = 0x0fe -> PML4E at 0x1000 + 8 * 0x0fe = 0x17f0
 *   PDPT index = bits 38:30 = 0x048 -> PDPTE at 0x2000 + 8 * 0x048 = 0x2240
 *   PD index   = bits 29:21 = 0x1a2 -> PDE   at 0x3000 + 8 * 0x1a2 = 0x3d10
 *   PT index   = bits 20:12 = 0x167 -> PTE   at 0x4000 + 8 * 0x167 = 0x4b38
 *   offset: 4K bits 11:0 = 0xabc, 2M bits 20:0 = 0x167abc, 1G bits 29:0 = 0x34567abc
 */
#define VA4         0x00007f1234567abcull
#define VA4_PML4E   0x17f0ull
#define VA4_PDPTE   0x2240ull
#define VA4_PDE     0x3d10ull
#define VA4_PTE     0x4b38ull

/* The 5-level counterpart:
 * VA 0x00abcdef12345678 (bit 56 = 0, bits 63:57 = 0: canonical with 57 bits)
 *   PML5 index = bits 56:48 = 0x0ab -> PML5E at 0x1000 + 8 * 0x0ab = 0x1558
 *   PML4 index = bits 47:39 = 0x19b -> PML4E at 0x2000 + 8 * 0x19b = 0x2cd8
 *   PDPT index = bits 38:30 = 0x1bc -> PDPTE at 0x3000 + 8 * 0x1bc = 0x3de0
 *   PD index   = bits 29:21 = 0x091 -> PDE   at 0x4000 + 8 * 0x091 = 0x4488
 *   PT index   = bits 20:12 = 0x145 -> PTE   at 0x5000 + 8 * 0x145 = 0x5a28
 *   offset: 4K 0x678, 2M 0x145678, 1G 0x12345678
 */
#define VA5         0x00abcdef12345678ull
#define VA5_PML5E   0x1558ull
#define VA5_PML4E   0x2cd8ull
#define VA5_PDPTE   0x3de0ull
#define VA5_PDE     0x4488ull
#define VA5_PTE     0x5a28ull

/* ---- helpers ---------------------------------------------------------------- */

static struct pgt_fmt fs_fmt(unsigned levels, unsigned flags, unsigned oas)
{
	struct pgt_cfg cfg = {
		.family = PGT_X86_FS, .levels = levels, .oas = oas, .flags = flags,
	};
	struct pgt_fmt f;

	if (pgt_fmt_init(&f, &cfg))
		die("pgt_fmt_init");
	return f;
}

/* Writes the chain that maps va in the standard layout, with the leaf at
 * leaf_level (1 = PTE, 2 = 2M PDE, 3 = 1G PDPTE) pointing at oa; every entry
 * carries bits, a large leaf PS too. */
static void fs_chain(struct mem_space *s, unsigned levels, uint64_t va, unsigned leaf_level,
		     uint64_t oa, uint64_t bits)
{
	for (unsigned l = levels; l > leaf_level; l--)
		put(s, std_entry(levels, l, va), std_table(levels, l - 1) | bits);
	put(s, std_entry(levels, leaf_level, va), oa | bits | (leaf_level > 1 ? X86_PS : 0));
}

/* ---- 1. golden vectors -------------------------------------------------------- */

/* The builder must put entries where the hand derivations above say. */
static void test_layout(void)
{
	CHECK_EQ(std_entry(4, 4, VA4), VA4_PML4E);
	CHECK_EQ(std_entry(4, 3, VA4), VA4_PDPTE);
	CHECK_EQ(std_entry(4, 2, VA4), VA4_PDE);
	CHECK_EQ(std_entry(4, 1, VA4), VA4_PTE);
	CHECK_EQ(std_entry(5, 5, VA5), VA5_PML5E);
	CHECK_EQ(std_entry(5, 4, VA5), VA5_PML4E);
	CHECK_EQ(std_entry(5, 3, VA5), VA5_PDPTE);
	CHECK_EQ(std_entry(5, 2, VA5), VA5_PDE);
	CHECK_EQ(std_entry(5, 1, VA5), VA5_PTE);
}

/*
 * 4-level, 4K page, VA4 (indices above).
 * PML4E 0x17f0 = 0x2007, PDPTE 0x2240 = 0x3007, PDE 0x3d10 = 0x4007,
 * PTE 0x4b38 = 0x000fedcba9876007: address bits 51:12 = 0x000fedcba9876000 (bit 51
 * is an address bit with HAW 52).
 * => OA 0x000fedcba9876abc, 4 KiB, 4 entries read.
 * Supervisor read: A (bit 5) set in all four entries, no D: 0x2027, 0x3027,
 * 0x4027, 0x000fedcba9876027, 4 updates. Then a user write: only D in the PTE
 * (0x...067), 1 update. Then an execute: nothing left to set, 0 updates.
 * Rights (no NXE/WPE/SMEP, U/S and R/W everywhere): R|W|X for either privilege.
 */
static void test_golden_4level_4k(void)
{
	struct pgt_fmt f = fs_fmt(4, 0, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	put(s, 0x17f0, 0x2007);
	put(s, 0x2240, 0x3007);
	put(s, 0x3d10, 0x4007);
	put(s, 0x4b38, 0x000fedcba9876007ull);

	walk(&f, s, 0x1000, VA4, 0, &r);
	EXPECT_OK(&r, 0x000fedcba9876abcull, 0x1000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.refs, 4);
	CHECK_EQ(r.updates, 4);
	CHECK_EQ(r.leaf[0], 0x000fedcba9876027ull);
	CHECK_EQ(r.leaf_level[0], 1);
	CHECK_EQ(r.leaf_level[1], -1);
	CHECK_EQ(get(s, 0x17f0), 0x2027);
	CHECK_EQ(get(s, 0x2240), 0x3027);
	CHECK_EQ(get(s, 0x3d10), 0x4027);
	CHECK_EQ(get(s, 0x4b38), 0x000fedcba9876027ull);

	walk(&f, s, 0x1000, VA4, PGT_ACC_USER | PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x000fedcba9876abcull, 0x1000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.refs, 4);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(get(s, 0x17f0), 0x2027);      /* no D outside the leaf */
	CHECK_EQ(get(s, 0x2240), 0x3027);
	CHECK_EQ(get(s, 0x3d10), 0x4027);
	CHECK_EQ(get(s, 0x4b38), 0x000fedcba9876067ull);

	walk(&f, s, 0x1000, VA4, PGT_ACC_EXEC, &r);
	EXPECT_OK(&r, 0x000fedcba9876abcull, 0x1000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.updates, 0);

	/* The low 12 bits of the root pointer are ignored (FSPTPTR is 63:12). */
	walk(&f, s, 0x1abc, VA4 + 1, 0, &r);
	EXPECT_OK(&r, 0x000fedcba9876abdull, 0x1000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	mem_space_free(s);
}

/*
 * 4-level, 2M page, VA4.
 * PML4E 0x17f0 = 0x2007, PDPTE 0x2240 = 0x3007,
 * PDE 0x3d10 = 0x00000abcde001087: PS, P|R/W|U/S, bit 12 = PAT (not an address bit
 * in a large leaf); address bits 51:21 = 0x00000abcde000000.
 * => OA 0x00000abcde000000 + 0x167abc = 0x00000abcde167abc, 2 MiB, 3 entries read.
 * Write: A in PML4E and PDPTE (0x2027, 0x3027), A|D in the PDE: 0x00000abcde0010e7.
 * The page table at 0x4000 is not read or written.
 * VA4 - 0x1000 = 0x00007f1234566abc (same PDE, offset 0x166abc, bit 12 = 0): the
 * PAT bit must not leak into the output: OA 0x00000abcde166abc.
 */
static void test_golden_4level_2m(void)
{
	struct pgt_fmt f = fs_fmt(4, 0, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	put(s, 0x17f0, 0x2007);
	put(s, 0x2240, 0x3007);
	put(s, 0x3d10, 0x00000abcde001087ull);
	put(s, 0x4b38, 0x5007);                 /* a decoy PTE the walk must not reach */
	snap_take(s);

	walk(&f, s, 0x1000, VA4, PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x00000abcde167abcull, 0x200000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.refs, 3);
	CHECK_EQ(r.updates, 3);
	CHECK_EQ(r.leaf[0], 0x00000abcde0010e7ull);
	CHECK_EQ(r.leaf_level[0], 2);
	snap_or(0x17f0, X86_A);
	snap_or(0x2240, X86_A);
	snap_or(0x3d10, X86_A | X86_D);
	SNAP_CHECK(s);
	CHECK_EQ(get(s, 0x3d10), 0x00000abcde0010e7ull);
	CHECK_EQ(get(s, 0x4b38), 0x5007);

	walk(&f, s, 0x1000, 0x00007f1234566abcull, 0, &r);
	EXPECT_OK(&r, 0x00000abcde166abcull, 0x200000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.updates, 0);
	mem_space_free(s);
}

/*
 * 4-level, 1G page, VA4.
 * PML4E 0x17f0 = 0x2007, PDPTE 0x2240 = 0x0000012340000087: PS, P|R/W|U/S,
 * address bits 51:30 = 0x0000012340000000.
 * => OA 0x0000012340000000 + 0x34567abc = 0x0000012374567abc, 1 GiB, 2 entries.
 * Supervisor execute: A only: PML4E 0x2027, PDPTE 0x00000123400000a7.
 */
static void test_golden_4level_1g(void)
{
	struct pgt_fmt f = fs_fmt(4, 0, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	put(s, 0x17f0, 0x2007);
	put(s, 0x2240, 0x0000012340000087ull);
	snap_take(s);

	walk(&f, s, 0x1000, VA4, PGT_ACC_EXEC, &r);
	EXPECT_OK(&r, 0x0000012374567abcull, 0x40000000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.refs, 2);
	CHECK_EQ(r.updates, 2);
	CHECK_EQ(r.leaf_level[0], 3);
	snap_or(0x17f0, X86_A);
	snap_or(0x2240, X86_A);
	SNAP_CHECK(s);
	CHECK_EQ(get(s, 0x2240), 0x00000123400000a7ull);
	mem_space_free(s);
}

/*
 * 5-level, 4K page, VA5 (indices above).
 * PML5E 0x1558 = 0x2007, PML4E 0x2cd8 = 0x3007, PDPTE 0x3de0 = 0x4007,
 * PDE 0x4488 = 0x5007, PTE 0x5a28 = 0x55555007.
 * => OA 0x55555678, 4 KiB, 5 entries, user read: A in all five, no D.
 */
static void test_golden_5level_4k(void)
{
	struct pgt_fmt f = fs_fmt(5, 0, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	put(s, 0x1558, 0x2007);
	put(s, 0x2cd8, 0x3007);
	put(s, 0x3de0, 0x4007);
	put(s, 0x4488, 0x5007);
	put(s, 0x5a28, 0x55555007);
	snap_take(s);

	walk(&f, s, 0x1000, VA5, PGT_ACC_USER, &r);
	EXPECT_OK(&r, 0x55555678, 0x1000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.refs, 5);
	CHECK_EQ(r.updates, 5);
	CHECK_EQ(r.leaf[0], 0x55555027);
	snap_or(0x1558, X86_A);
	snap_or(0x2cd8, X86_A);
	snap_or(0x3de0, X86_A);
	snap_or(0x4488, X86_A);
	snap_or(0x5a28, X86_A);
	SNAP_CHECK(s);
	mem_space_free(s);
}

/*
 * 5-level, 1G page, VA5.
 * PML5E 0x1558 = 0x2007, PML4E 0x2cd8 = 0x3007,
 * PDPTE 0x3de0 = 0x000fffffc0000087: the highest 1G frame with HAW 52.
 * => OA 0x000fffffc0000000 + 0x12345678 = 0x000fffffd2345678, 1 GiB, 3 entries.
 * Write: A in PML5E/PML4E, A|D in the PDPTE (0x000fffffc00000e7).
 */
static void test_golden_5level_1g(void)
{
	struct pgt_fmt f = fs_fmt(5, 0, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	put(s, 0x1558, 0x2007);
	put(s, 0x2cd8, 0x3007);
	put(s, 0x3de0, 0x000fffffc0000087ull);

	walk(&f, s, 0x1000, VA5, PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x000fffffd2345678ull, 0x40000000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.refs, 3);
	CHECK_EQ(r.updates, 3);
	CHECK_EQ(get(s, 0x1558), 0x2027);
	CHECK_EQ(get(s, 0x2cd8), 0x3027);
	CHECK_EQ(get(s, 0x3de0), 0x000fffffc00000e7ull);
	mem_space_free(s);
}

/*
 * Upper-half (bit 47 / bit 56 = 1) canonical addresses.
 * a) 4-level VA 0xffffff8000001234: bits 63:47 all 1.
 *    PML4 index 0x1ff -> 0x1ff8; PDPT index 0 -> 0x2000; PD index 0 -> 0x3000;
 *    PT index 1 -> 0x4008; offset 0x234. PTE = 0x7007 => OA 0x7234.
 * b) 4-level VA 0xffff800000000000, the lowest upper-half address.
 *    PML4 index 0x100 -> 0x1800; PDPT index 0 -> 0x2000 = 1G leaf 0x40000087
 *    => OA 0x40000000.
 * c) 5-level VA 0xff5a5a5a5a5a5ff8: bits 63:56 = 0xff.
 *    PML5 0x15a -> 0x1ad0; PML4 0x0b4 -> 0x25a0; PDPT 0x169 -> 0x3b48;
 *    PD 0x0d2 -> 0x4690; PT 0x1a5 -> 0x5d28; offset 0xff8. PTE 0x9007 => OA 0x9ff8.
 * d) 5-level VA 0xff00000000000000, the lowest upper-half address.
 *    PML5 0x100 -> 0x1800; PML4 0 -> 0x2000; PDPT 0 -> 0x3000 = 1G leaf 0x80000087
 *    => OA 0x80000000.
 */
static void test_golden_upper_half(void)
{
	struct pgt_fmt f4 = fs_fmt(4, 0, 0), f5 = fs_fmt(5, 0, 0);
	const unsigned rwx = PGT_PERM_R | PGT_PERM_W | PGT_PERM_X;
	struct mem_space *s;
	struct pgt_result r;

	s = new_space();
	put(s, 0x1ff8, 0x2007);
	put(s, 0x2000, 0x3007);
	put(s, 0x3000, 0x4007);
	put(s, 0x4008, 0x7007);
	walk(&f4, s, 0x1000, 0xffffff8000001234ull, 0, &r);
	EXPECT_OK(&r, 0x7234, 0x1000, rwx);
	CHECK_EQ(r.refs, 4);
	CHECK_EQ(get(s, 0x4008), 0x7027);
	mem_space_free(s);

	s = new_space();
	put(s, 0x1800, 0x2007);
	put(s, 0x2000, 0x40000087);
	walk(&f4, s, 0x1000, 0xffff800000000000ull, 0, &r);
	EXPECT_OK(&r, 0x40000000, 0x40000000, rwx);
	CHECK_EQ(r.refs, 2);
	mem_space_free(s);

	s = new_space();
	put(s, 0x1ad0, 0x2007);
	put(s, 0x25a0, 0x3007);
	put(s, 0x3b48, 0x4007);
	put(s, 0x4690, 0x5007);
	put(s, 0x5d28, 0x9007);
	walk(&f5, s, 0x1000, 0xff5a5a5a5a5a5ff8ull, 0, &r);
	EXPECT_OK(&r, 0x9ff8, 0x1000, rwx);
	CHECK_EQ(r.refs, 5);
	mem_space_free(s);

	s = new_space();
	put(s, 0x1800, 0x2007);
	put(s, 0x2000, 0x3007);
	put(s, 0x3000, 0x80000087);
	walk(&f5, s, 0x1000, 0xff00000000000000ull, 0, &r);
	EXPECT_OK(&r, 0x80000000, 0x40000000, rwx);
	CHECK_EQ(r.refs, 3);
	mem_space_free(s);
}

/*
 * The top and bottom of each address space.
 * 4-level:
 *  - VA 0x00007ffffffff000 (last lower-half page): PML4 index 0x0ff -> 0x17f8;
 *    PDPT/PD/PT index 0x1ff -> 0x2ff8, 0x3ff8, 0x4ff8. PTE 0xb007.
 *    VA 0x00007fffffffffff => OA 0xbfff.
 *  - VA 0: every index 0 -> 0x1000, 0x2000, 0x3000, 0x4000. PTE 0xc007 => OA 0xc000.
 *  - VA 0xffffffffffffffff: every index 0x1ff -> 0x1ff8, 0x2ff8, 0x3ff8, 0x4ff8.
 *    PTE 0xd007 => OA 0xdfff.
 * 5-level:
 *  - VA 0x00fffffffffff000: PML5 index 0x0ff -> 0x17f8; then 0x1ff at every level
 *    -> 0x2ff8, 0x3ff8, 0x4ff8, 0x5ff8. PTE 0xe007; VA 0x00ffffffffffffff => 0xefff.
 *  - VA 0: 0x1000 ... 0x5000. PTE 0xf007 => OA 0xf000.
 *  - VA 0xffffffffffffffff: 0x1ff8, 0x2ff8, 0x3ff8, 0x4ff8, 0x5ff8. PTE 0x10007
 *    => OA 0x10fff.
 */
static void edge_case(unsigned levels, const uint64_t *entries, uint64_t pte, uint64_t va,
		      uint64_t oa)
{
	struct pgt_fmt f = fs_fmt(levels, 0, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	for (unsigned i = 0; i + 1 < levels; i++)
		put(s, entries[i], 0x2000ull + 0x1000ull * i + PRESENT_RW_US);
	put(s, entries[levels - 1], pte);
	walk(&f, s, 0x1000, va, 0, &r);
	EXPECT_OK(&r, oa, 0x1000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.refs, levels);
	CHECK_EQ(get(s, entries[levels - 1]), pte | X86_A);
	mem_space_free(s);
}

static void test_golden_edges(void)
{
	static const uint64_t top_user4[] = { 0x17f8, 0x2ff8, 0x3ff8, 0x4ff8 };
	static const uint64_t bottom4[] = { 0x1000, 0x2000, 0x3000, 0x4000 };
	static const uint64_t top4[] = { 0x1ff8, 0x2ff8, 0x3ff8, 0x4ff8 };
	static const uint64_t top_user5[] = { 0x17f8, 0x2ff8, 0x3ff8, 0x4ff8, 0x5ff8 };
	static const uint64_t bottom5[] = { 0x1000, 0x2000, 0x3000, 0x4000, 0x5000 };
	static const uint64_t top5[] = { 0x1ff8, 0x2ff8, 0x3ff8, 0x4ff8, 0x5ff8 };

	edge_case(4, top_user4, 0xb007, 0x00007ffffffff000ull, 0xb000);
	edge_case(4, top_user4, 0xb007, 0x00007fffffffffffull, 0xbfff);
	edge_case(4, bottom4, 0xc007, 0, 0xc000);
	edge_case(4, top4, 0xd007, 0xffffffffffffffffull, 0xdfff);
	edge_case(5, top_user5, 0xe007, 0x00fffffffffff000ull, 0xe000);
	edge_case(5, top_user5, 0xe007, 0x00ffffffffffffffull, 0xefff);
	edge_case(5, bottom5, 0xf007, 0, 0xf000);
	edge_case(5, top5, 0x10007, 0xffffffffffffffffull, 0x10fff);
}

/*
 * The canonical hole: bits 63:N must equal bit N-1 (N = 48 or 57), else 0x80
 * before any memory reference (level -1, no entry).
 * The tables map PML4 index 0x100 (4-level) / PML5 index 0x100 and 0x080
 * (5-level), which the hole addresses would hit if their high bits were dropped:
 * a walk that ignored the check would translate them.
 *  4-level: 0x0000800000000000, 0xffff7ffffffff000, 0x0080000000000000 and
 *           0x8000000000000000 are not canonical.
 *  5-level: 0x0100000000000000, 0xfeffffffffffffff and 0x8000000000000000 are
 *           not canonical; 0x0080000000000000 is (bit 56 = 0, 63:57 = 0):
 *           PML5 index = bits 56:48 = 0x080 -> 0x1400, then index 0 -> 0x2000,
 *           0x3000 (1G leaf 0x80000087) => OA 0x80000000.
 */
static void test_canonical_hole(void)
{
	static const uint64_t bad4[] = {
		0x0000800000000000ull, 0xffff7ffffffff000ull, 0x0080000000000000ull,
		0x8000000000000000ull, 0x7fffffffffffffffull,
	};
	static const uint64_t bad5[] = {
		0x0100000000000000ull, 0xfeffffffffffffffull, 0x8000000000000000ull,
		0x7fffffffffffffffull,
	};
	struct pgt_fmt f4 = fs_fmt(4, 0, 0), f5 = fs_fmt(5, 0, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	/* 4-level: PML4E[0x100] and [0x0ff] -> 1G pages. */
	put(s, 0x1800, 0x2007);
	put(s, 0x17f8, 0x2007);
	put(s, 0x2000, 0x40000087);
	put(s, 0x2ff8, 0x40000087);
	snap_take(s);
	for (unsigned i = 0; i < ARRAY_SIZE(bad4); i++) {
		walk(&f4, s, 0x1000, bad4[i], 0, &r);
		EXPECT_FAULT(&r, VTD_FR_NON_CANONICAL, PGT_FAULT_NON_CANONICAL, -1, bad4[i], 0, 0);
		CHECK_EQ(r.refs, 0);
		CHECK_EQ(r.updates, 0);
	}
	SNAP_CHECK(s);
	/* The last canonical address below the hole still translates. */
	walk(&f4, s, 0x1000, 0x00007fffffffffffull, 0, &r);
	EXPECT_OK(&r, 0x7fffffff, 0x40000000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	mem_space_free(s);

	s = new_space();
	put(s, 0x1800, 0x2007);    /* PML5E[0x100] */
	put(s, 0x1400, 0x2007);    /* PML5E[0x080] */
	put(s, 0x2000, 0x3007);
	put(s, 0x3000, 0x80000087);
	snap_take(s);
	for (unsigned i = 0; i < ARRAY_SIZE(bad5); i++) {
		walk(&f5, s, 0x1000, bad5[i], PGT_ACC_USER, &r);
		EXPECT_FAULT(&r, VTD_FR_NON_CANONICAL, PGT_FAULT_NON_CANONICAL, -1, bad5[i], 0, 0);
		CHECK_EQ(r.refs, 0);
	}
	SNAP_CHECK(s);
	walk(&f5, s, 0x1000, 0x0080000000000000ull, 0, &r);
	EXPECT_OK(&r, 0x80000000, 0x40000000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	mem_space_free(s);
}

/* ---- 2. every fault ------------------------------------------------------------ */

/* The standard 4-level tree for VA4: P|R/W|U/S everywhere, PTE -> 0x12345000. */
static struct mem_space *std_tree4(void)
{
	struct mem_space *s = new_space();

	fs_chain(s, 4, VA4, 1, 0x12345000, PRESENT_RW_US);
	return s;
}

/* 0x73: the top entry cannot be read through FSPTPTR; 0x70: a lower one. */
static void test_fault_table_access(void)
{
	struct pgt_fmt f4 = fs_fmt(4, 0, 0), f5 = fs_fmt(5, 0, 0);
	struct mem_space *s;
	struct pgt_result r;

	/* Root at 0x200000 (no memory): PML4E at 0x200000 + 8 * 0x0fe = 0x2007f0. */
	s = std_tree4();
	snap_take(s);
	walk(&f4, s, ABSENT, VA4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_ROOT_ACCESS, PGT_FAULT_TABLE_ACCESS, 4, VA4, 0x2007f0, ABSENT);
	CHECK_EQ(r.refs, 0);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* 5-level root at 0x200000: PML5E at 0x200000 + 8 * 0x0ab = 0x200558. */
	s = new_space();
	walk(&f5, s, ABSENT, VA5, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_ROOT_ACCESS, PGT_FAULT_TABLE_ACCESS, 5, VA5, 0x200558, ABSENT);
	mem_space_free(s);

	/* PML4E -> 0x200000: the PDPTE at 0x200000 + 8 * 0x048 = 0x200240 is
	 * unreadable: 0x70 at level 3. The PML4E was used: its A is set. */
	s = std_tree4();
	put(s, VA4_PML4E, ABSENT | PRESENT_RW_US);
	snap_take(s);
	walk(&f4, s, 0x1000, VA4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_ENTRY_ACCESS, PGT_FAULT_TABLE_ACCESS, 3, VA4, 0x200240, ABSENT);
	CHECK_EQ(r.refs, 1);
	snap_or(VA4_PML4E, X86_A);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* PDPTE -> 0x300000: PDE at 0x300000 + 8 * 0x1a2 = 0x300d10, level 2. */
	s = std_tree4();
	put(s, VA4_PDPTE, 0x300000 | PRESENT_RW_US);
	snap_take(s);
	walk(&f4, s, 0x1000, VA4, PGT_ACC_WRITE, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_ENTRY_ACCESS, PGT_FAULT_TABLE_ACCESS, 2, VA4, 0x300d10,
		     0x300000);
	CHECK_EQ(r.refs, 2);
	snap_or(VA4_PML4E, X86_A);
	snap_or(VA4_PDPTE, X86_A);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* PDE -> 0x400000: PTE at 0x400000 + 8 * 0x167 = 0x400b38, level 1. */
	s = std_tree4();
	put(s, VA4_PDE, 0x400000 | PRESENT_RW_US);
	snap_take(s);
	walk(&f4, s, 0x1000, VA4, PGT_ACC_USER, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_ENTRY_ACCESS, PGT_FAULT_TABLE_ACCESS, 1, VA4, 0x400b38,
		     0x400000);
	CHECK_EQ(r.refs, 3);
	snap_or(VA4_PML4E, X86_A);
	snap_or(VA4_PDPTE, X86_A);
	snap_or(VA4_PDE, X86_A);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* 5-level: PML5E -> 0x200000: the PML4E at 0x200000 + 8 * 0x19b = 0x200cd8 is
	 * not the top entry, so 0x70 (not 0x73), level 4. */
	s = new_space();
	fs_chain(s, 5, VA5, 1, 0x12345000, PRESENT_RW_US);
	put(s, VA5_PML5E, ABSENT | PRESENT_RW_US);
	walk(&f5, s, 0x1000, VA5, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_ENTRY_ACCESS, PGT_FAULT_TABLE_ACCESS, 4, VA5, 0x200cd8, ABSENT);
	mem_space_free(s);
}

/*
 * 0x71: P = 0 at each level; the entry's other bits do not matter, reserved ones
 * included (reserved bits are checked only when P = 1). Entries above keep A.
 */
static void test_fault_not_present(void)
{
	static const struct {
		unsigned level;
		uint64_t entry, table, value;
	} cases[] = {
		{ 4, VA4_PML4E, 0x1000, 0 },
		/* P clear, the rest of a normal entry. */
		{ 3, VA4_PDPTE, 0x2000, 0x3006 },
		/* P clear with XD (reserved without NXE) and PS, bits 51 and 62. */
		{ 2, VA4_PDE, 0x3000, 0xc008000000004086ull },
		/* P clear with A, D, R/W, U/S: a swapped-out page. */
		{ 1, VA4_PTE, 0x4000, 0x0000000012345066ull },
	};
	struct pgt_fmt f = fs_fmt(4, 0, 46);

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mem_space *s = std_tree4();
		struct pgt_result r;

		put(s, cases[i].entry, cases[i].value);
		snap_take(s);
		walk(&f, s, 0x1000, VA4, PGT_ACC_WRITE, &r);
		EXPECT_FAULT(&r, VTD_FR_FS_ENTRY_NP, PGT_FAULT_NOT_PRESENT, (int)cases[i].level, VA4,
			     cases[i].entry, cases[i].table);
		CHECK_EQ(r.refs, 5 - cases[i].level);
		for (unsigned l = 4; l > cases[i].level; l--)
			snap_or(std_entry(4, l, VA4), X86_A);
		SNAP_CHECK(s);
		mem_space_free(s);
	}

	/* 5-level, top entry not present. */
	{
		struct pgt_fmt f5 = fs_fmt(5, 0, 0);
		struct mem_space *s = new_space();
		struct pgt_result r;

		fs_chain(s, 5, VA5, 1, 0x12345000, PRESENT_RW_US);
		put(s, VA5_PML5E, 0x2006);
		walk(&f5, s, 0x1000, VA5, 0, &r);
		EXPECT_FAULT(&r, VTD_FR_FS_ENTRY_NP, PGT_FAULT_NOT_PRESENT, 5, VA5, VA5_PML5E,
			     0x1000);
		CHECK_EQ(r.refs, 1);
		mem_space_free(s);
	}
}

/* 0x72, one per level here (every bit is in test_reserved_*): entries above the
 * faulting one keep A; the faulting one and those below are untouched. */
static void test_fault_reserved(void)
{
	static const struct {
		unsigned level;
		uint64_t entry, table, bits;
	} cases[] = {
		{ 4, VA4_PML4E, 0x1000, X86_PS },          /* PS in a PML4E */
		{ 3, VA4_PDPTE, 0x2000, X86_XD },          /* XD without NXE */
		{ 2, VA4_PDE, 0x3000, BIT(51) },           /* above HAW 46 */
		{ 1, VA4_PTE, 0x4000, BIT(46) },           /* the lowest bit above HAW 46 */
	};
	struct pgt_fmt f = fs_fmt(4, 0, 46);

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mem_space *s = std_tree4();
		struct pgt_result r;

		put(s, cases[i].entry, get(s, cases[i].entry) | cases[i].bits);
		snap_take(s);
		walk(&f, s, 0x1000, VA4, PGT_ACC_WRITE, &r);
		EXPECT_FAULT(&r, VTD_FR_FS_ENTRY_RSVD, PGT_FAULT_RESERVED, (int)cases[i].level, VA4,
			     cases[i].entry, cases[i].table);
		CHECK_EQ(r.refs, 5 - cases[i].level);
		for (unsigned l = 4; l > cases[i].level; l--)
			snap_or(std_entry(4, l, VA4), X86_A);
		SNAP_CHECK(s);
		mem_space_free(s);
	}

	/* A 2M leaf with bit 13 set (2M leaf reserved 20:13): level 2, PDE 0x3d10. */
	{
		struct mem_space *s = new_space();
		struct pgt_result r;

		fs_chain(s, 4, VA4, 2, 0x40000000, PRESENT_RW_US);
		put(s, VA4_PDE, get(s, VA4_PDE) | BIT(13));
		snap_take(s);
		walk(&f, s, 0x1000, VA4, 0, &r);
		EXPECT_FAULT(&r, VTD_FR_FS_ENTRY_RSVD, PGT_FAULT_RESERVED, 2, VA4, VA4_PDE, 0x3000);
		snap_or(VA4_PML4E, X86_A);
		snap_or(VA4_PDPTE, X86_A);
		SNAP_CHECK(s);
		mem_space_free(s);
	}
}

/*
 * Access-right faults: evaluated once the walk is complete, so they are reported
 * at the leaf (level 1, PTE 0x4b38 in table 0x4000 for VA4; level 2 for a 2M
 * leaf). The non-leaf entries were used (A set); the leaf is not updated because
 * the access is not performed.
 */
static void perm_fault_case(int line, unsigned flags, uint64_t entry, uint64_t clear,
			    uint64_t set, unsigned access, uint16_t code)
{
	struct pgt_fmt f = fs_fmt(4, flags, 0);
	struct mem_space *s = std_tree4();
	struct pgt_result r;

	put(s, entry, (get(s, entry) & ~clear) | set);
	snap_take(s);
	walk(&f, s, 0x1000, VA4, access, &r);
	expect_fault(line, &r, code, PGT_FAULT_PERMISSION, 1, VA4, VA4_PTE, 0x4000);
	CHECK_EQ(r.refs, 4);
	snap_or(VA4_PML4E, X86_A);
	snap_or(VA4_PDPTE, X86_A);
	snap_or(VA4_PDE, X86_A);
	snap_check(line, s);
	mem_space_free(s);
}

static void test_fault_permission(void)
{
	/* 0x81: user read, U/S = 0 in the PDE. */
	perm_fault_case(__LINE__, 0, VA4_PDE, X86_US, 0, PGT_ACC_USER, VTD_FR_USER_PRIV);
	/* 0x81: user execute, U/S = 0 in the PML4E. */
	perm_fault_case(__LINE__, 0, VA4_PML4E, X86_US, 0, PGT_ACC_USER | PGT_ACC_EXEC,
			VTD_FR_USER_PRIV);
	/* 0x85: user write, R/W = 0 in the PDPTE. */
	perm_fault_case(__LINE__, 0, VA4_PDPTE, X86_RW, 0, PGT_ACC_USER | PGT_ACC_WRITE,
			VTD_FR_WRITE);
	/* 0x85: supervisor write with WPE, R/W = 0 in the PTE. */
	perm_fault_case(__LINE__, PGT_CFG_WPE, VA4_PTE, X86_RW, 0, PGT_ACC_WRITE, VTD_FR_WRITE);
	/* 0x82: supervisor execute with NXE, XD in the PML4E. */
	perm_fault_case(__LINE__, PGT_CFG_NXE, VA4_PML4E, 0, X86_XD, PGT_ACC_EXEC, VTD_FR_EXEC);
	/* 0x82: user execute with NXE, XD in the PTE. */
	perm_fault_case(__LINE__, PGT_CFG_NXE, VA4_PTE, 0, X86_XD, PGT_ACC_USER | PGT_ACC_EXEC,
			VTD_FR_EXEC);
	/* 0x82: supervisor execute with SMEP of a page user at every level. */
	perm_fault_case(__LINE__, PGT_CFG_SMEP, VA4_PTE, 0, 0, PGT_ACC_EXEC, VTD_FR_EXEC);

	/* A 2M leaf: the fault is at level 2, PDE 0x3d10 in table 0x3000. */
	{
		struct pgt_fmt f = fs_fmt(4, PGT_CFG_WPE, 0);
		struct mem_space *s = new_space();
		struct pgt_result r;

		fs_chain(s, 4, VA4, 2, 0x40000000, X86_P | X86_US);
		snap_take(s);
		walk(&f, s, 0x1000, VA4, PGT_ACC_WRITE, &r);
		EXPECT_FAULT(&r, VTD_FR_WRITE, PGT_FAULT_PERMISSION, 2, VA4, VA4_PDE, 0x3000);
		snap_or(VA4_PML4E, X86_A);
		snap_or(VA4_PDPTE, X86_A);
		SNAP_CHECK(s);
		mem_space_free(s);
	}
}

/* The documented names of the reasons the first stage reports. */
static void test_reason_names(void)
{
	CHECK(!strcmp(pgt_reason_name(PGT_FAULT_TABLE_ACCESS), "table-access"));
	CHECK(!strcmp(pgt_reason_name(PGT_FAULT_NOT_PRESENT), "not-present"));
	CHECK(!strcmp(pgt_reason_name(PGT_FAULT_RESERVED), "reserved-bit"));
	CHECK(!strcmp(pgt_reason_name(PGT_FAULT_NON_CANONICAL), "non-canonical"));
	CHECK(!strcmp(pgt_reason_name(PGT_FAULT_PERMISSION), "permission"));
}

/* ---- 2b. A/D update failures and read-only table memory ------------------------------ */

/*
 * Tables in a read-only region at 0x800000 (PML4 0x800000, PDPT 0x801000,
 * PD 0x802000, PT 0x803000). For VA4:
 *   PML4E 0x800000 + 8 * 0x0fe = 0x8007f0, PDPTE 0x801000 + 8 * 0x048 = 0x801240,
 *   PDE 0x802000 + 8 * 0x1a2 = 0x802d10, PTE 0x803000 + 8 * 0x167 = 0x803b38.
 * A hardware A/D update that cannot be made is 0x91 (SFS.10); an update that is
 * not needed (the flag already set) is not attempted, so read-only tables with
 * every flag set translate.
 */
static uint64_t ro_tables[4][512];
static uint64_t ro_before[4][512];

static struct mem_space *ro_space(uint64_t extra_bits, uint64_t leaf_bits)
{
	struct mem_space *s = new_space();

	memset(ro_tables, 0, sizeof(ro_tables));
	ro_tables[0][0x0fe] = 0x801000 | PRESENT_RW_US | extra_bits;
	ro_tables[1][0x048] = 0x802000 | PRESENT_RW_US | extra_bits;
	ro_tables[2][0x1a2] = 0x803000 | PRESENT_RW_US | extra_bits;
	ro_tables[3][0x167] = 0x12345000 | PRESENT_RW_US | leaf_bits;
	if (mem_add(s, RO_BASE, sizeof(ro_tables), ro_tables, MEM_READ))
		die("mem_add read-only");
	return s;
}

static void test_fault_ad_update(void)
{
	struct pgt_fmt f = fs_fmt(4, 0, 0);
	struct mem_space *s;
	struct pgt_result r;

	/* A clear in the top entry: the first update (PML4E A) fails, level 4, and
	 * nothing is written anywhere. */
	s = ro_space(0, 0);
	memcpy(ro_before, ro_tables, sizeof(ro_tables));
	walk(&f, s, RO_BASE, VA4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_AD_FAIL, PGT_FAULT_TABLE_ACCESS, 4, VA4, 0x8007f0, 0x800000);
	CHECK_EQ(r.refs, 1);
	CHECK_EQ(r.updates, 0);
	CHECK(!memcmp(ro_before, ro_tables, sizeof(ro_tables)));
	mem_space_free(s);

	/* A set everywhere, D clear: a read needs no update and succeeds; a write
	 * needs D in the PTE and fails there, level 1. */
	s = ro_space(X86_A, X86_A);
	walk(&f, s, RO_BASE, VA4, 0, &r);
	EXPECT_OK(&r, 0x12345abc, 0x1000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.updates, 0);
	walk(&f, s, RO_BASE, VA4, PGT_ACC_WRITE, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_AD_FAIL, PGT_FAULT_TABLE_ACCESS, 1, VA4, 0x803b38, 0x803000);
	CHECK_EQ(r.refs, 4);
	CHECK_EQ(ro_tables[3][0x167], 0x12345000 | PRESENT_RW_US | X86_A);
	mem_space_free(s);

	/* A and D already set: even a write needs nothing. */
	s = ro_space(X86_A, X86_A | X86_D);
	walk(&f, s, RO_BASE, VA4, PGT_ACC_USER | PGT_ACC_WRITE, &r);
	EXPECT_OK(&r, 0x12345abc, 0x1000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	CHECK_EQ(r.updates, 0);
	mem_space_free(s);

	/* Upper tables in RAM (standard layout), the PT read-only: the three upper
	 * A updates are made, the PTE's fails at level 1. */
	s = ro_space(0, 0);
	put(s, VA4_PML4E, 0x2007);
	put(s, VA4_PDPTE, 0x3007);
	put(s, VA4_PDE, 0x803000 | PRESENT_RW_US);
	walk(&f, s, 0x1000, VA4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_AD_FAIL, PGT_FAULT_TABLE_ACCESS, 1, VA4, 0x803b38, 0x803000);
	CHECK_EQ(r.updates, 3);
	CHECK_EQ(get(s, VA4_PML4E), 0x2027);
	CHECK_EQ(get(s, VA4_PDPTE), 0x3027);
	CHECK_EQ(get(s, VA4_PDE), 0x803027);
	CHECK_EQ(ro_tables[3][0x167], 0x12345000 | PRESENT_RW_US);
	mem_space_free(s);
}

/* ---- 3. reserved and ignored bits ------------------------------------------------ */

enum leaf_kind { LEAF_4K = 1, LEAF_2M = 2, LEAF_1G = 3 };

/*
 * Sets `bit` in the entry of level `level` of a chain for va (levels, leaf at
 * leaf_level) and walks (supervisor read). Expects 0x72 at that level when
 * `reserved`, else a translation to oa | offset with the page size of the leaf.
 */
static void bit_case(int line, unsigned levels, unsigned flags, unsigned oas, uint64_t va,
		     unsigned leaf_level, unsigned level, unsigned bit, bool reserved)
{
	static const uint64_t leaf_oa[] = { 0, 0x12345000, 0x40000000, 0x80000000 };
	struct pgt_fmt f = fs_fmt(levels, flags, oas);
	struct mem_space *s = new_space();
	uint64_t entry = std_entry(levels, level, va);
	uint64_t size = 1ull << (12 + 9 * (leaf_level - 1));
	struct pgt_result r;

	fs_chain(s, levels, va, leaf_level, leaf_oa[leaf_level], PRESENT_RW_US);
	put(s, entry, get(s, entry) | BIT(bit));
	snap_take(s);
	walk(&f, s, 0x1000, va, 0, &r);
	if (reserved) {
		CHECK_MSG(!r.ok && r.fault.code == VTD_FR_FS_ENTRY_RSVD &&
			  r.fault.level == (int)level && r.fault.entry_pa == entry &&
			  r.fault.table == std_table(levels, level) &&
			  r.fault.reason == PGT_FAULT_RESERVED,
			  "line %d: x86-fs%u flags 0x%x oas %u leaf L%u: bit %u in L%u: expected "
			  "0x72 at L%u entry 0x%" PRIx64 ", got ok %d code 0x%x level %d entry 0x%"
			  PRIx64, line, levels, flags, oas, leaf_level, bit, level, level, entry,
			  r.ok, r.fault.code, r.fault.level, r.fault.entry_pa);
		for (unsigned l = levels; l > level; l--)
			snap_or(std_entry(levels, l, va), X86_A);
		snap_check(line, s);
	} else {
		CHECK_MSG(r.ok && r.oa == (leaf_oa[leaf_level] | (va & (size - 1))) &&
			  r.page_size == size,
			  "line %d: x86-fs%u flags 0x%x oas %u leaf L%u: bit %u in L%u must be "
			  "ignored: ok %d oa 0x%" PRIx64 " size 0x%" PRIx64 " code 0x%x level %d",
			  line, levels, flags, oas, leaf_level, bit, level, r.ok, r.oa,
			  r.page_size, r.fault.code, r.fault.level);
	}
	mem_space_free(s);
}

/*
 * Reserved bits (§1): 51:HAW everywhere; PS in PML4E/PML5E; PS in a PDPTE without
 * 1G pages; 1G leaf 29:13; 2M leaf 20:13; XD without NXE. Each alone.
 */
static void test_reserved_bits(void)
{
	for (unsigned levels = 4; levels <= 5; levels++) {
		uint64_t va = levels == 4 ? VA4 : VA5;

		for (unsigned leaf = LEAF_4K; leaf <= LEAF_1G; leaf++) {
			for (unsigned level = levels; level >= leaf; level--) {
				/* HAW 46: bits 51:46 are reserved in every entry. */
				for (unsigned bit = 46; bit <= 51; bit++)
					bit_case(__LINE__, levels, 0, 46, va, leaf, level, bit, true);
				/* XD is reserved without NXE, in every entry. */
				bit_case(__LINE__, levels, 0, 0, va, leaf, level, 63, true);
				/* PS is reserved in PML4E and PML5E. */
				if (level >= 4)
					bit_case(__LINE__, levels, 0, 0, va, leaf, level, 7, true);
			}
			/* The large leaves' reserved ranges. */
			if (leaf == LEAF_2M) {
				for (unsigned bit = 13; bit <= 20; bit++)
					bit_case(__LINE__, levels, 0, 0, va, leaf, 2, bit, true);
			}
			if (leaf == LEAF_1G) {
				for (unsigned bit = 13; bit <= 29; bit++)
					bit_case(__LINE__, levels, 0, 0, va, leaf, 3, bit, true);
			}
		}
	}
}

/* Without 1G pages (FL1GP = 0), PS in a PDPTE is reserved; 2M pages still work. */
static void test_reserved_no1g(void)
{
	struct pgt_fmt f = fs_fmt(4, PGT_CFG_NO1G, 0);
	struct mem_space *s = new_space();
	struct pgt_result r;

	fs_chain(s, 4, VA4, LEAF_1G, 0x80000000, PRESENT_RW_US);
	walk(&f, s, 0x1000, VA4, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_ENTRY_RSVD, PGT_FAULT_RESERVED, 3, VA4, VA4_PDPTE, 0x2000);
	mem_space_free(s);

	s = new_space();
	fs_chain(s, 4, VA4, LEAF_2M, 0x40000000, PRESENT_RW_US);
	walk(&f, s, 0x1000, VA4, 0, &r);
	EXPECT_OK(&r, 0x40167abc, 0x200000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
	mem_space_free(s);

	/* 5-level: the PDPTE (level 3) at 0x3de0. */
	f = fs_fmt(5, PGT_CFG_NO1G, 0);
	s = new_space();
	fs_chain(s, 5, VA5, LEAF_1G, 0x80000000, PRESENT_RW_US);
	walk(&f, s, 0x1000, VA5, 0, &r);
	EXPECT_FAULT(&r, VTD_FR_FS_ENTRY_RSVD, PGT_FAULT_RESERVED, 3, VA5, VA5_PDPTE, 0x3000);
	mem_space_free(s);
}

/*
 * Ignored bits (§1): 62:52 and 11:8 in every entry; bit 6 (D) in a non-leaf
 * entry; bit 7 (PAT) in a PTE; bit 12 (PAT) in a large leaf; PWT/PCD. None of
 * them faults or moves the output address.
 */
static void test_ignored_bits(void)
{
	for (unsigned levels = 4; levels <= 5; levels++) {
		uint64_t va = levels == 4 ? VA4 : VA5;

		for (unsigned leaf = LEAF_4K; leaf <= LEAF_1G; leaf++) {
			for (unsigned level = levels; level >= leaf; level--) {
				for (unsigned bit = 52; bit <= 62; bit++)
					bit_case(__LINE__, levels, 0, 0, va, leaf, level, bit, false);
				for (unsigned bit = 8; bit <= 11; bit++)
					bit_case(__LINE__, levels, 0, 0, va, leaf, level, bit, false);
				bit_case(__LINE__, levels, 0, 0, va, leaf, level, 3, false);
				bit_case(__LINE__, levels, 0, 0, va, leaf, level, 4, false);
				if (level > leaf)
					bit_case(__LINE__, levels, 0, 0, va, leaf, level, 6, false);
			}
			if (leaf == LEAF_4K)
				bit_case(__LINE__, levels, 0, 0, va, leaf, 1, 7, false);
			else
				bit_case(__LINE__, levels, 0, 0, va, leaf, leaf, 12, false);
		}
	}
	/* HAW 46 moves nothing below bit 46: bit 45 of a leaf is an address bit.
	 * PTE 0x00003ffffffff007 => OA 0x00003ffffffff000 + 0xabc = 0x00003ffffffffabc. */
	{
		struct pgt_fmt f = fs_fmt(4, 0, 46);
		struct mem_space *s = new_space();
		struct pgt_result r;

		fs_chain(s, 4, VA4, LEAF_4K, 0x00003ffffffff000ull, PRESENT_RW_US);
		walk(&f, s, 0x1000, VA4, 0, &r);
		EXPECT_OK(&r, 0x00003ffffffffabcull, 0x1000, PGT_PERM_R | PGT_PERM_W | PGT_PERM_X);
		mem_space_free(s);
	}
}

/* XD with NXE: not reserved; it denies execute (0x82) from any level, and reads
 * and writes still work. */
static void test_xd_with_nxe(void)
{
	struct pgt_fmt f = fs_fmt(4, PGT_CFG_NXE, 0);

	for (unsigned level = 4; level >= 1; level--) {
		uint64_t entry = std_entry(4, level, VA4);
		struct mem_space *s = std_tree4();
		struct pgt_result r;

		put(s, entry, get(s, entry) | X86_XD);
		walk(&f, s, 0x1000, VA4, 0, &r);
		EXPECT_OK(&r, 0x12345abc, 0x1000, PGT_PERM_R | PGT_PERM_W);
		walk(&f, s, 0x1000, VA4, PGT_ACC_USER | PGT_ACC_WRITE, &r);
		EXPECT_OK(&r, 0x12345abc, 0x1000, PGT_PERM_R | PGT_PERM_W);
		walk(&f, s, 0x1000, VA4, PGT_ACC_EXEC, &r);
		EXPECT_FAULT(&r, VTD_FR_EXEC, PGT_FAULT_PERMISSION, 1, VA4, VA4_PTE, 0x4000);
		walk(&f, s, 0x1000, VA4, PGT_ACC_USER | PGT_ACC_EXEC, &r);
		EXPECT_FAULT(&r, VTD_FR_EXEC, PGT_FAULT_PERMISSION, 1, VA4, VA4_PTE, 0x4000);
		mem_space_free(s);
	}
	/* Without NXE the same XD in the PTE is a reserved-bit fault. */
	bit_case(__LINE__, 4, 0, 0, VA4, LEAF_4K, 1, 63, true);
	bit_case(__LINE__, 4, PGT_CFG_NXE, 0, VA4, LEAF_4K, 1, 63, false);
	bit_case(__LINE__, 5, PGT_CFG_NXE, 0, VA5, LEAF_1G, 5, 63, false);
}

/* ---- 4. access-rights matrix --------------------------------------------------- */

/*
 * The rules of §2, written from the spec text (not from walk.c):
 *  user:       read needs U/S everywhere (0x81); write also R/W everywhere (0x85);
 *              execute needs U/S everywhere (0x81) and, with NXE, no XD (0x82).
 *  supervisor: read always; write needs R/W everywhere only with WPE (0x85);
 *              execute: with NXE no XD, with SMEP not user at every level (0x82).
 * A user request to a supervisor page is 0x81 whatever else is wrong.
 * XD without NXE is a reserved bit (0x72) at the highest level that has it,
 * found during the walk, before any right is evaluated.
 */
struct fs_rights {
	bool ok;
	uint16_t code;
	int level;
	unsigned perm;
};

static struct fs_rights fs_expected(unsigned flags, unsigned access, unsigned leaf,
				    unsigned us_clear, unsigned rw_clear, unsigned xd_set)
{
	const unsigned span = (0xfu >> (leaf - 1)) << (leaf - 1);    /* levels leaf..4 */
	bool user = access & PGT_ACC_USER;
	bool us_all = !(us_clear & span), rw_all = !(rw_clear & span);
	bool nx = (flags & PGT_CFG_NXE) && (xd_set & span);
	struct fs_rights e = { .ok = true, .level = (int)leaf };
	bool w, x;

	if (!(flags & PGT_CFG_NXE) && (xd_set & span)) {
		for (int l = 4; l >= (int)leaf; l--) {
			if (xd_set & (1u << (l - 1))) {
				e.level = l;
				break;
			}
		}
		e.ok = false;
		e.code = VTD_FR_FS_ENTRY_RSVD;
		return e;
	}
	if (user) {
		w = rw_all;
		x = !nx;
	} else {
		w = !(flags & PGT_CFG_WPE) || rw_all;
		x = !nx && !((flags & PGT_CFG_SMEP) && us_all);
	}
	e.perm = PGT_PERM_R | (w ? PGT_PERM_W : 0) | (x ? PGT_PERM_X : 0);
	if (user && !us_all)
		e.code = VTD_FR_USER_PRIV;
	else if ((access & PGT_ACC_WRITE) && !w)
		e.code = VTD_FR_WRITE;
	else if ((access & PGT_ACC_EXEC) && !x)
		e.code = VTD_FR_EXEC;
	e.ok = !e.code;
	return e;
}

static void test_rights_matrix(void)
{
	static const unsigned accesses[] = {
		0, PGT_ACC_WRITE, PGT_ACC_EXEC,
		PGT_ACC_USER, PGT_ACC_USER | PGT_ACC_WRITE, PGT_ACC_USER | PGT_ACC_EXEC,
	};
	static const uint64_t leaf_oa[] = { 0, 0x12345000, 0x40000000, 0x80000000 };
	struct mem_space *s = new_space();
	unsigned walks = 0;

	for (unsigned leaf = LEAF_4K; leaf <= LEAF_1G; leaf++) {
		/* Each attribute: clear/set nowhere, at one level, or at all levels. */
		unsigned masks[6], nmasks = 0;
		uint64_t size = 1ull << (12 + 9 * (leaf - 1));

		masks[nmasks++] = 0;
		for (unsigned l = leaf; l <= 4; l++)
			masks[nmasks++] = 1u << (l - 1);
		masks[nmasks++] = 0xf;

		for (unsigned flags_i = 0; flags_i < 8; flags_i++) {
			unsigned flags = ((flags_i & 1) ? PGT_CFG_NXE : 0) |
					 ((flags_i & 2) ? PGT_CFG_WPE : 0) |
					 ((flags_i & 4) ? PGT_CFG_SMEP : 0);
			struct pgt_fmt f = fs_fmt(4, flags, 0);

			for (unsigned ui = 0; ui < nmasks; ui++)
			for (unsigned wi = 0; wi < nmasks; wi++)
			for (unsigned xi = 0; xi < nmasks; xi++)
			for (unsigned ai = 0; ai < ARRAY_SIZE(accesses); ai++) {
				unsigned us_clear = masks[ui], rw_clear = masks[wi], xd_set = masks[xi];
				unsigned access = accesses[ai];
				struct fs_rights e = fs_expected(flags, access, leaf, us_clear,
								 rw_clear, xd_set);
				uint64_t want[5] = { 0 }, got[5] = { 0 };
				bool mem_ok = true;
				struct pgt_result r;

				/* Build the chain with the attributes of each level. */
				for (unsigned l = 4; l >= leaf; l--) {
					uint64_t v = X86_P;

					v |= (us_clear & (1u << (l - 1))) ? 0 : X86_US;
					v |= (rw_clear & (1u << (l - 1))) ? 0 : X86_RW;
					v |= (xd_set & (1u << (l - 1))) ? X86_XD : 0;
					v |= l == leaf ? leaf_oa[leaf] | (leaf > 1 ? X86_PS : 0) :
						std_table(4, l - 1);
					put(s, std_entry(4, l, VA4), v);
					want[l] = v;
				}
				walk(&f, s, 0x1000, VA4, access, &r);
				walks++;

				/* Memory: A above the fault (all non-leaf entries for a
				 * rights fault or success); the leaf only on success. */
				for (unsigned l = 4; l >= leaf; l--) {
					if (l > leaf && (e.code != VTD_FR_FS_ENTRY_RSVD ||
							 (int)l > e.level))
						want[l] |= X86_A;
					if (l == leaf && e.ok)
						want[l] |= X86_A | ((access & PGT_ACC_WRITE) ? X86_D : 0);
					got[l] = get(s, std_entry(4, l, VA4));
					mem_ok &= got[l] == want[l];
				}
				CHECK_MSG(r.ok == e.ok && (e.ok ? r.perm == e.perm &&
					  r.oa == (leaf_oa[leaf] | (VA4 & (size - 1))) :
					  r.fault.code == e.code && r.fault.level == e.level) && mem_ok,
					  "leaf L%u flags 0x%x access 0x%x U/S clear 0x%x R/W clear 0x%x "
					  "XD 0x%x: expected ok %d code 0x%x level %d perm 0x%x; got ok %d "
					  "code 0x%x level %d perm 0x%x; leaf 0x%" PRIx64 " want 0x%" PRIx64
					  ", memory %s", leaf, flags, access, us_clear, rw_clear, xd_set,
					  e.ok, e.code, e.level, e.perm, r.ok, r.fault.code, r.fault.level,
					  r.perm, got[leaf], want[leaf], mem_ok ? "ok" : "WRONG");
			}
		}
	}
	CHECK_EQ(walks, (216 + 125 + 64) * 8 * 6);
	mem_space_free(s);
}

/*
 * Hand-written rows of the matrix, the spec's sentences one by one (VA4, 4K).
 */
static void rights_row(int line, unsigned flags, uint64_t entry, uint64_t clear, uint64_t set,
		       unsigned access, uint16_t code, unsigned perm)
{
	struct pgt_fmt f = fs_fmt(4, flags, 0);
	struct mem_space *s = std_tree4();
	struct pgt_result r;

	if (entry)
		put(s, entry, (get(s, entry) & ~clear) | set);
	walk(&f, s, 0x1000, VA4, access, &r);
	if (code)
		expect_fault(line, &r, code, PGT_FAULT_PERMISSION, 1, VA4, VA4_PTE, 0x4000);
	else
		expect_ok(line, &r, 0x12345abc, 0x1000, perm);
	mem_space_free(s);
}

static void test_rights_rows(void)
{
	const unsigned R = PGT_PERM_R, W = PGT_PERM_W, X = PGT_PERM_X;
	const unsigned U = PGT_ACC_USER, WR = PGT_ACC_WRITE, EX = PGT_ACC_EXEC;

	/* Supervisor read of a user page: allowed (there is no SMAP). */
	rights_row(__LINE__, PGT_CFG_SMEP | PGT_CFG_WPE, 0, 0, 0, 0, 0, R | W);
	/* Supervisor write to a read-only page without WPE: allowed. */
	rights_row(__LINE__, 0, VA4_PTE, X86_RW, 0, WR, 0, R | W | X);
	/* ... with WPE: denied, 0x85. */
	rights_row(__LINE__, PGT_CFG_WPE, VA4_PDE, X86_RW, 0, WR, VTD_FR_WRITE, 0);
	/* WPE does not look at U/S: supervisor write to a supervisor page is fine. */
	rights_row(__LINE__, PGT_CFG_WPE, VA4_PTE, X86_US, 0, WR, 0, R | W | X);
	/* User write needs R/W everywhere whatever WPE says. */
	rights_row(__LINE__, 0, VA4_PML4E, X86_RW, 0, U | WR, VTD_FR_WRITE, 0);
	/* User write to a supervisor read-only page: 0x81 first. */
	rights_row(__LINE__, 0, VA4_PTE, X86_US | X86_RW, 0, U | WR, VTD_FR_USER_PRIV, 0);
	/* User read of a read-only user page: allowed, no W in the rights. */
	rights_row(__LINE__, 0, VA4_PDPTE, X86_RW, 0, U, 0, R | X);
	/* SMEP: supervisor execute allowed when U/S = 0 in at least one entry. */
	rights_row(__LINE__, PGT_CFG_SMEP, VA4_PML4E, X86_US, 0, EX, 0, R | W | X);
	rights_row(__LINE__, PGT_CFG_SMEP, VA4_PTE, X86_US, 0, EX, 0, R | W | X);
	/* SMEP does not restrict user execute. */
	rights_row(__LINE__, PGT_CFG_SMEP, 0, 0, 0, U | EX, 0, R | W | X);
	/* NXE without XD: execute allowed. */
	rights_row(__LINE__, PGT_CFG_NXE, 0, 0, 0, EX, 0, R | W | X);
	/* XD and U/S = 0 on a user execute: 0x81 (U/S is checked first). */
	rights_row(__LINE__, PGT_CFG_NXE, VA4_PDE, X86_US, X86_XD, U | EX, VTD_FR_USER_PRIV, 0);
}

/* ---- 5. A/D flags ---------------------------------------------------------------- */

static void test_accessed_dirty(void)
{
	struct pgt_fmt f = fs_fmt(4, 0, 0);
	struct mem_space *s;
	struct pgt_result r;

	/* An entry whose A is already set is not rewritten: 3 updates for 4 entries. */
	s = std_tree4();
	put(s, VA4_PDPTE, get(s, VA4_PDPTE) | X86_A);
	snap_take(s);
	walk(&f, s, 0x1000, VA4, 0, &r);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 3);
	snap_or(VA4_PML4E, X86_A);
	snap_or(VA4_PDE, X86_A);
	snap_or(VA4_PTE, X86_A);
	SNAP_CHECK(s);

	/* Execute sets no D; a write then sets D in the leaf only (A already there). */
	walk(&f, s, 0x1000, VA4, PGT_ACC_EXEC | PGT_ACC_USER, &r);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 0);
	SNAP_CHECK(s);
	walk(&f, s, 0x1000, VA4, PGT_ACC_WRITE, &r);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 1);
	snap_or(VA4_PTE, X86_D);
	SNAP_CHECK(s);
	CHECK_EQ(r.leaf[0], 0x12345000 | PRESENT_RW_US | X86_A | X86_D);
	mem_space_free(s);

	/* A first access that is a write sets A and D in the leaf together (one
	 * update), A only above. */
	s = std_tree4();
	snap_take(s);
	walk(&f, s, 0x1000, VA4, PGT_ACC_WRITE | PGT_ACC_USER, &r);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 4);
	snap_or(VA4_PML4E, X86_A);
	snap_or(VA4_PDPTE, X86_A);
	snap_or(VA4_PDE, X86_A);
	snap_or(VA4_PTE, X86_A | X86_D);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* A denied write (WPE, R/W = 0 in the PTE) leaves the leaf alone: no A, no D. */
	f = fs_fmt(4, PGT_CFG_WPE, 0);
	s = std_tree4();
	put(s, VA4_PTE, get(s, VA4_PTE) & ~X86_RW);
	snap_take(s);
	walk(&f, s, 0x1000, VA4, PGT_ACC_WRITE, &r);
	CHECK_EQ(r.fault.code, VTD_FR_WRITE);
	snap_or(VA4_PML4E, X86_A);
	snap_or(VA4_PDPTE, X86_A);
	snap_or(VA4_PDE, X86_A);
	SNAP_CHECK(s);
	/* ... and a read of the same page then sets A only. */
	walk(&f, s, 0x1000, VA4, 0, &r);
	CHECK(r.ok);
	CHECK_EQ(r.updates, 1);
	snap_or(VA4_PTE, X86_A);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* Not present at the PDE: PML4E and PDPTE keep their A, nothing else. */
	f = fs_fmt(4, 0, 0);
	s = std_tree4();
	put(s, VA4_PDE, 0);
	snap_take(s);
	walk(&f, s, 0x1000, VA4, PGT_ACC_WRITE, &r);
	CHECK_EQ(r.fault.code, VTD_FR_FS_ENTRY_NP);
	CHECK_EQ(r.updates, 2);
	snap_or(VA4_PML4E, X86_A);
	snap_or(VA4_PDPTE, X86_A);
	SNAP_CHECK(s);
	mem_space_free(s);

	/* 5-level 1G write: A in PML5E and PML4E, A|D in the PDPTE, no D above. */
	f = fs_fmt(5, 0, 0);
	s = new_space();
	fs_chain(s, 5, VA5, LEAF_1G, 0x80000000, PRESENT_RW_US);
	snap_take(s);
	walk(&f, s, 0x1000, VA5, PGT_ACC_WRITE, &r);
	CHECK(r.ok);
	snap_or(VA5_PML5E, X86_A);
	snap_or(VA5_PML4E, X86_A);
	snap_or(VA5_PDPTE, X86_A | X86_D);
	SNAP_CHECK(s);
	mem_space_free(s);
}

/* pgt_walk's argument contract: write and execute together, or an unknown access
 * bit, is -EINVAL; anything else returns 0 with the outcome in the result. */
static void test_bad_access(void)
{
	struct pgt_fmt f = fs_fmt(4, 0, 0);
	struct mem_space *s = std_tree4();
	struct pgt_result r;

	CHECK_EQ(pgt_walk(&f, s, 0x1000, VA4, PGT_ACC_WRITE | PGT_ACC_EXEC, &r, NULL), -EINVAL);
	CHECK_EQ(pgt_walk(&f, s, 0x1000, VA4, BIT(7), &r, NULL), -EINVAL);
	CHECK_EQ(pgt_walk(&f, s, 0x1000, VA4, PGT_ACC_USER | PGT_ACC_EXEC, &r, NULL), 0);
	mem_space_free(s);
}

int main(void)
{
	test_layout();
	test_golden_4level_4k();
	test_golden_4level_2m();
	test_golden_4level_1g();
	test_golden_5level_4k();
	test_golden_5level_1g();
	test_golden_upper_half();
	test_golden_edges();
	test_canonical_hole();
	test_fault_table_access();
	test_fault_not_present();
	test_fault_reserved();
	test_fault_permission();
	test_reason_names();
	test_fault_ad_update();
	test_reserved_bits();
	test_reserved_no1g();
	test_ignored_bits();
	test_xd_with_nxe();
	test_rights_matrix();
	test_rights_rows();
	test_accessed_dirty();
	test_bad_access();
	return check_exit();
}
