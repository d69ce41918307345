/* tests/test_fmt.c — format geometry and configuration rules.
 *
 * Expected geometry is worked from the specifications: levels and root index bits
 * from the input size and granule, the Arm stage-2 start level rules
 * (AArch64.S2InvalidSL / S2InconsistentSL, tabulated by hand below), output sizes
 * a CD/STE can name, and the CLI spellings with every malformed one refused.
 */
#include <string.h>

#include "check.h"
#include "pgtable/pgtable.h"

static int parse(struct pgt_fmt *f, const char *spec)
{
	char err[200];

	return pgt_fmt_parse(f, spec, err, sizeof(err));
}

struct geom {
	const char *spec;
	const char *name;        /* canonical spelling */
	unsigned levels, ia_bits, root_bits, oas;
	uint64_t root_size, sizes;
};

#define K4 (1ull << 12)
#define K16 (1ull << 14)
#define K64 (1ull << 16)
#define M2 (1ull << 21)
#define M32 (1ull << 25)
#define M512 (1ull << 29)
#define G1 (1ull << 30)
#define T4 (1ull << 42)

static void test_geometry(void)
{
	static const struct geom g[] = {
		/* x86: 9 bits per level over a 12-bit page offset; 48 = 12 + 4*9. */
		{ "x86-fs4", "x86-fs4", 4, 48, 9, 52, 4096, K4 | M2 | G1 },
		{ "x86-fs5:nxe", "x86-fs5", 5, 57, 9, 52, 4096, K4 | M2 | G1 },
		{ "x86-fs4:no1g:oas=46", "x86-fs4", 4, 48, 9, 46, 4096, K4 | M2 },
		/* VT-d SS: AW 1/2/3 -> 39/48/57 bits, 3/4/5 levels. */
		{ "vtd-ss3", "vtd-ss3", 3, 39, 9, 52, 4096, K4 | M2 | G1 },
		{ "vtd-ss4:ad:no2m", "vtd-ss4", 4, 48, 9, 52, 4096, K4 | G1 },
		{ "vtd-ss5:no1g:no2m", "vtd-ss5", 5, 57, 9, 52, 4096, K4 },
		/* LPAE stage 1: levels = ceil((IA - g) / (g - 3)); the root resolves what is left.
		 * 4K, T0SZ 16: 36 bits = 4 x 9. T0SZ 25: 27 = 3 x 9. T0SZ 28: 24 = 9+9+6 ->
		 * root 6 bits (64 entries, 512 bytes). T0SZ 39: 13 = 9 + 4 -> 2 levels. */
		{ "lpae-s1", "lpae-s1:4k:t0sz=16", 4, 48, 9, 48, 4096, K4 | M2 | G1 },
		{ "lpae-s1:4k:t0sz=25", "lpae-s1:4k:t0sz=25", 3, 39, 9, 48, 4096, K4 | M2 | G1 },
		{ "lpae-s1:4k:t0sz=28", "lpae-s1:4k:t0sz=28", 3, 36, 6, 48, 512, K4 | M2 | G1 },
		{ "lpae-s1:4k:t0sz=39", "lpae-s1:4k:t0sz=39", 2, 25, 4, 48, 128, K4 | M2 },
		/* 16K, T0SZ 16: 34 bits = 11+11+11+1 -> 4 levels, a 2-entry L0 table (16 bytes). */
		{ "lpae-s1:16k", "lpae-s1:16k:t0sz=16", 4, 48, 1, 48, 16, K16 | M32 },
		{ "lpae-s1:16k:t0sz=39", "lpae-s1:16k:t0sz=39", 1, 25, 11, 48, 16384, K16 },
		/* 64K, T0SZ 16: 32 bits = 13+13+6 -> 3 levels from L1, L1 blocks of 4 TiB. */
		{ "lpae-s1:64k:oas=52", "lpae-s1:64k:t0sz=16", 3, 48, 6, 52, 512, K64 | M512 | T4 },
		{ "lpae-s1:64k:t0sz=22", "lpae-s1:64k:t0sz=22", 2, 42, 13, 48, 65536, K64 | M512 },
		/* LPAE stage 2: 4K, T0SZ 24, SL0 1 (level 1): 40 - 12 - 18 = 10 root bits,
		 * two concatenated tables; T0SZ 21: 13 bits, sixteen tables (64 KiB). */
		{ "lpae-s2:4k:t0sz=24:sl0=1", "lpae-s2:4k:t0sz=24:sl0=1", 3, 40, 10, 48, 8192,
		  K4 | M2 | G1 },
		{ "lpae-s2:4k:t0sz=21:sl0=1", "lpae-s2:4k:t0sz=21:sl0=1", 3, 43, 13, 48, 65536,
		  K4 | M2 | G1 },
		/* 64K, T0SZ 18, SL0 1 (level 2): 46 - 16 - 13 = 17 bits, 16 tables of 64K. */
		{ "lpae-s2:64k:t0sz=18:sl0=1", "lpae-s2:64k:t0sz=18:sl0=1", 2, 46, 17, 48, 1 << 20,
		  K64 | M512 },
		/* Default SL0: the fewest levels. 4K T0SZ 24 (40 bits): level 2 allows 22..34,
		 * level 1 allows 31..43 -> SL0 = 1. 4K T0SZ 16: only level 0 -> SL0 = 2. */
		{ "lpae-s2:4k:t0sz=24", "lpae-s2:4k:t0sz=24:sl0=1", 3, 40, 10, 48, 8192, K4 | M2 | G1 },
		{ "lpae-s2", "lpae-s2:4k:t0sz=16:sl0=2", 4, 48, 9, 48, 4096, K4 | M2 | G1 },
	};

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		struct pgt_fmt f;
		int ret = parse(&f, g[i].spec);

		CHECK_MSG(ret == 0, "%s", g[i].spec);
		if (ret)
			continue;
		CHECK_MSG(!strcmp(f.name, g[i].name), "%s named %s", g[i].spec, f.name);
		CHECK_MSG(f.levels == g[i].levels && f.ia_bits == g[i].ia_bits &&
			  f.root_bits == g[i].root_bits && f.oas == g[i].oas &&
			  f.root_size == g[i].root_size && pgt_page_sizes(&f) == g[i].sizes,
			  "%s: levels %u ia %u root_bits %u oas %u root_size %llu sizes %llx", g[i].spec,
			  f.levels, f.ia_bits, f.root_bits, f.oas, (unsigned long long)f.root_size,
			  (unsigned long long)pgt_page_sizes(&f));
	}
}

/*
 * Stage-2 start level rule, by hand from S2InconsistentSL: with start level s,
 * levels = 4 - s and the input must be within
 *   [ (3 - s)*stride + g + 1, that + stride - 1 + 4 ].
 * 4K (stride 9):  L2 22..34, L1 31..43, L0 40..52   -> T0SZ 30..39, 21..33, 16..24
 * 16K (stride 11): L3 15..29, L2 26..40, L1 37..51  -> T0SZ 35..39, 24..38, 16..27
 * 64K (stride 13): L3 17..33, L2 30..46, L1 43..59  -> T0SZ 31..39, 18..34, 16..21
 * (T0SZ is 16..39 without TTST/LVA.) SL0 = 2 (L0 for 4K, L1 for 16K/64K) also
 * needs a PA size of at least 44 (4K, 64K) or 42 (16K) bits; SL0 = 3 is refused.
 */
static void test_s2_start_levels(void)
{
	static const struct {
		unsigned granule, sl0, lo, hi;
	} ok[] = {
		{ 4096, 0, 30, 39 }, { 4096, 1, 21, 33 }, { 4096, 2, 16, 24 },
		{ 16384, 0, 35, 39 }, { 16384, 1, 24, 38 }, { 16384, 2, 16, 27 },
		{ 65536, 0, 31, 39 }, { 65536, 1, 18, 34 }, { 65536, 2, 16, 21 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		for (unsigned tsz = 10; tsz <= 45; tsz++) {
			struct pgt_cfg c = { .family = PGT_LPAE_S2, .granule = ok[i].granule,
					     .tsz = tsz, .sl0 = ok[i].sl0 };
			struct pgt_fmt f;
			bool want = tsz >= ok[i].lo && tsz <= ok[i].hi;
			int ret = pgt_fmt_init(&f, &c);

			CHECK_MSG((ret == 0) == want, "granule %u sl0 %u t0sz %u: got %d", ok[i].granule,
				  ok[i].sl0, tsz, ret);
			if (!ret) {
				unsigned start = ok[i].granule == 4096 ? 2 - ok[i].sl0 : 3 - ok[i].sl0;

				CHECK_EQ(f.levels, 4 - start);
			}
		}
		/* SL0 = 3 never. */
		struct pgt_cfg c3 = { .family = PGT_LPAE_S2, .granule = ok[i].granule, .tsz = ok[i].lo,
				      .sl0 = 3 };
		struct pgt_fmt f3;

		CHECK_EQ(pgt_fmt_init(&f3, &c3), -EINVAL);
	}
	/* PA size limits for SL0 = 2. */
	{
		struct pgt_cfg c = { .family = PGT_LPAE_S2, .granule = 4096, .tsz = 20, .sl0 = 2,
				     .oas = 42 };
		struct pgt_fmt f;

		CHECK_EQ(pgt_fmt_init(&f, &c), -EINVAL);
		c.oas = 44;
		CHECK_EQ(pgt_fmt_init(&f, &c), 0);
		c = (struct pgt_cfg){ .family = PGT_LPAE_S2, .granule = 16384, .tsz = 20, .sl0 = 2,
				      .oas = 40 };
		CHECK_EQ(pgt_fmt_init(&f, &c), -EINVAL);
		c.oas = 42;
		CHECK_EQ(pgt_fmt_init(&f, &c), 0);
		c = (struct pgt_cfg){ .family = PGT_LPAE_S2, .granule = 65536, .tsz = 18, .sl0 = 2,
				      .oas = 42 };
		CHECK_EQ(pgt_fmt_init(&f, &c), -EINVAL);
	}
}

static void test_bad_configs(void)
{
	static const struct pgt_cfg bad[] = {
		{ .family = PGT_X86_FS, .levels = 3 },
		{ .family = PGT_X86_FS, .levels = 4, .granule = 16384 },
		{ .family = PGT_X86_FS, .levels = 4, .flags = PGT_CFG_AD },
		{ .family = PGT_X86_FS, .levels = 4, .oas = 31 },
		{ .family = PGT_X86_FS, .levels = 4, .oas = 53 },
		{ .family = PGT_X86_FS, .levels = 4, .tsz = 16 },
		{ .family = PGT_VTD_SS, .levels = 6 },
		{ .family = PGT_VTD_SS, .levels = 2 },
		{ .family = PGT_VTD_SS, .levels = 4, .flags = PGT_CFG_NXE },
		{ .family = PGT_LPAE_S1, .granule = 8192, .tsz = 16 },
		{ .family = PGT_LPAE_S1, .granule = 4096, .tsz = 15 },
		{ .family = PGT_LPAE_S1, .granule = 4096, .tsz = 40 },
		{ .family = PGT_LPAE_S1, .granule = 4096, .tsz = 16, .levels = 4 },
		{ .family = PGT_LPAE_S1, .granule = 4096, .tsz = 16, .sl0 = 1 },
		{ .family = PGT_LPAE_S1, .granule = 4096, .tsz = 16, .oas = 47 },
		{ .family = PGT_LPAE_S1, .granule = 4096, .tsz = 16, .oas = 52 },  /* 52 needs 64K */
		{ .family = PGT_LPAE_S1, .granule = 4096, .tsz = 16, .flags = PGT_CFG_HD },
		{ .family = PGT_LPAE_S1, .granule = 4096, .tsz = 16, .flags = PGT_CFG_SLEE },
		{ .family = PGT_LPAE_S2, .granule = 16384, .tsz = 16, .sl0 = 1 },
		{ .family = (enum pgt_family)9, .levels = 4 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pgt_fmt f;

		memset(&f, 0x5a, sizeof(f));
		CHECK_MSG(pgt_fmt_init(&f, &bad[i]) == -EINVAL, "case %zu", i);
		/* Nothing is written on failure. */
		CHECK_MSG(((unsigned char *)&f)[0] == 0x5a && ((unsigned char *)&f)[sizeof(f) - 1] == 0x5a,
			  "case %zu wrote the format", i);
	}
}

static void test_spellings(void)
{
	static const char *const bad[] = {
		"", "x86", "x86-fs6", "vtd-ss2", "lpae-s3", "X86-FS4", "x86-fs4:", "x86-fs4::nxe",
		"x86-fs4:ad", "vtd-ss4:nxe", "lpae-s1:8k", "lpae-s1:t0sz=", "lpae-s1:t0sz=x",
		"lpae-s1:t0sz=99999", "lpae-s1:sl0=1", "lpae-s1:hd", "lpae-s2:4k:t0sz=16:sl0=0",
		"lpae-s2:4k:t0sz=16:sl0=3", "lpae-s1:4k:oas=52", "vtd-ss4:oas=60", "vtd-ss4:ha",
		"x86-fs4:slee",
	};
	char err[200];
	struct pgt_fmt f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		CHECK_MSG(pgt_fmt_parse(&f, bad[i], err, sizeof(err)) == -EINVAL && err[0],
			  "'%s' accepted or no message", bad[i]);
	}
	CHECK_EQ(pgt_fmt_parse(&f, "lpae-s1:4k:t0sz=25:ha:hd", NULL, 0), 0);
	CHECK_EQ(f.flags, PGT_CFG_HA | PGT_CFG_HD);
	CHECK_EQ(pgt_fmt_parse(&f, "vtd-ss4:ad:slee:nosc", NULL, 0), 0);
	CHECK_EQ(f.flags, PGT_CFG_AD | PGT_CFG_SLEE | PGT_CFG_NOSC);
	CHECK_EQ(pgt_fmt_parse(&f, "x86-fs4:nxe:wpe:smep", NULL, 0), 0);
	CHECK_EQ(f.flags, PGT_CFG_NXE | PGT_CFG_WPE | PGT_CFG_SMEP);
}

static void test_levels_and_alignment(void)
{
	struct pgt_fmt f;

	CHECK_EQ(parse(&f, "x86-fs5"), 0);
	CHECK(!strcmp(pgt_level_name(&f, 4), "PML5E") && pgt_level_of(&f, 4) == 5);
	CHECK(!strcmp(pgt_level_name(&f, 0), "PTE") && pgt_level_of(&f, 0) == 1);
	CHECK_EQ(pgt_root_align(&f), 4096);
	CHECK_EQ(parse(&f, "lpae-s1:4k:t0sz=25"), 0);
	CHECK(!strcmp(pgt_level_name(&f, 2), "L1") && pgt_level_of(&f, 2) == 1);
	CHECK_EQ(pgt_root_align(&f), 4096);
	/* A 16-byte root (16K granule, 48-bit) is aligned to its size... */
	CHECK_EQ(parse(&f, "lpae-s1:16k:t0sz=16"), 0);
	CHECK_EQ(pgt_root_align(&f), 16);
	/* ...concatenated stage-2 tables to their total size... */
	CHECK_EQ(parse(&f, "lpae-s2:4k:t0sz=21:sl0=1"), 0);
	CHECK_EQ(pgt_root_align(&f), 65536);
	/* ...and with a 52-bit OA and the 64K granule to 64 bytes at least. */
	CHECK_EQ(parse(&f, "lpae-s1:64k:t0sz=20:oas=52"), 0);   /* 44 - 16 - 26 = 2 bits */
	CHECK_EQ(f.root_size, 32);
	CHECK_EQ(pgt_root_align(&f), 64);
}

/*
 * Leaf attributes, decoded by hand from the entry formats:
 * x86: PWT bit 3, PCD bit 4, PAT bit 7 in a PTE but bit 12 in a 2M/1G leaf (bit 7
 * is PS there), G bit 8; the PAT index is PAT*4 + PCD*2 + PWT.
 * VT-d SS: EMT bits 5:3, IPAT bit 6, SNP bit 11.
 * LPAE stage 1: AttrIndx 4:2, NS 5, SH 9:8, nG 11, Contiguous 52; stage 2:
 * MemAttr 5:2, SH 9:8.
 */
static void test_leaf_attrs(void)
{
	struct pgt_fmt x, ss, s1, s2;
	struct pgt_attrs a;

	CHECK_EQ(parse(&x, "x86-fs4"), 0);
	CHECK_EQ(parse(&ss, "vtd-ss4"), 0);
	CHECK_EQ(parse(&s1, "lpae-s1"), 0);
	CHECK_EQ(parse(&s2, "lpae-s2"), 0);

	/* PTE 0x...19b: P RW PWT PCD PAT(7) G(8) -> index 7, global. */
	pgt_leaf_attrs(&x, 0, 0x1234019b, &a);
	CHECK(a.memtype == 7 && a.global && !a.snp && !a.sh);
	/* PTE with bit 12 set: an address bit, not PAT -> index 0. */
	pgt_leaf_attrs(&x, 0, 0x12341001, &a);
	CHECK(a.memtype == 0 && !a.global);
	/* 2M leaf 0x40001093: P RW PCD PS(7) PAT(12) -> index 4 + 2 = 6. */
	pgt_leaf_attrs(&x, 1, 0x40001093, &a);
	CHECK_EQ(a.memtype, 6);
	/* SS leaf 0x5873: R W EMT=6 (0x30) IPAT (0x40) SNP (0x800). */
	pgt_leaf_attrs(&ss, 0, 0x5873, &a);
	CHECK(a.memtype == 6 && a.ipat && a.snp);
	/* S1 page 0x10000000000eb7: type 3, AttrIndx 5 (0x14), NS (0x20), AP 10 (0x80),
	 * SH 2 (0x200), AF (0x400), nG (0x800), Contiguous (bit 52). */
	pgt_leaf_attrs(&s1, 0, 0x0010000000000eb7ull, &a);
	CHECK(a.memtype == 5 && a.ns && a.sh == 2 && !a.global && a.contig);
	/* S2 block 0x4000073d: type 1, MemAttr 0xf (0x3c), S2AP 00, SH 3, AF. */
	pgt_leaf_attrs(&s2, 1, 0x4000073dull, &a);
	CHECK(a.memtype == 0xf && a.sh == 3 && !a.contig && !a.ns);
}

int main(void)
{
	test_leaf_attrs();
	test_geometry();
	test_s2_start_levels();
	test_bad_configs();
	test_spellings();
	test_levels_and_alignment();
	return check_exit();
}
