/* pgtable/fmt.c — format geometry: validation, derived sizes, names, parsing.
 *
 * Every rule here is a configuration rule of a specification; a combination
 * the specification does not allow is -EINVAL, never a guess.
 */
#include "pgtable/pgtable.h"

#include "pgtable/lpae.h"
#include "pgtable/vtd_ss.h"
#include "pgtable/x86_fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const x86_names[] = { "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };
static const char *const ss_names[] = { "SL-PTE", "SL-PDE", "SL-PDPE", "SL-PML4E", "SL-PML5E" };
static const char *const lpae_names[] = { "L3", "L2", "L1", "L0" };

const char *pgt_level_name(const struct pgt_fmt *f, unsigned height)
{
	if (height >= f->levels)
		return "?";
	switch (f->family) {
	case PGT_X86_FS:
		return x86_names[height];
	case PGT_VTD_SS:
		return ss_names[height];
	default:
		return lpae_names[height];
	}
}

/* IPS / PS encodings of the Arm architecture (output sizes a CD or STE can name). */
static bool lpae_oas_ok(unsigned oas, unsigned granule)
{
	switch (oas) {
	case 32: case 36: case 40: case 42: case 44: case 48:
		return true;
	case 52:
		return granule == 65536;    /* 52-bit OA without LPA2 needs the 64K granule */
	default:
		return false;
	}
}

static int init_x86(struct pgt_fmt *f, const struct pgt_cfg *c)
{
	if ((c->levels != 4 && c->levels != 5) || (c->granule && c->granule != 4096) || c->tsz ||
	    c->sl0 || (c->flags & ~(PGT_CFG_NXE | PGT_CFG_WPE | PGT_CFG_NO1G | PGT_CFG_SMEP)))
		return -EINVAL;
	f->levels = (uint8_t)c->levels;
	f->gshift = 12;
	f->stride = 9;
	f->ia_bits = (uint8_t)(12 + 9 * c->levels);   /* 48 or 57 */
	f->root_bits = 9;
	f->leaf_ok = BIT(0) | BIT(1) | ((c->flags & PGT_CFG_NO1G) ? 0 : BIT(2));
	snprintf(f->name, sizeof(f->name), "x86-fs%u", c->levels);
	return 0;
}

static int init_vtd_ss(struct pgt_fmt *f, const struct pgt_cfg *c)
{
	if (c->levels < 3 || c->levels > 5 || (c->granule && c->granule != 4096) || c->tsz ||
	    c->sl0 ||
	    (c->flags & ~(PGT_CFG_AD | PGT_CFG_NO1G | PGT_CFG_NO2M | PGT_CFG_SLEE | PGT_CFG_NOSC)))
		return -EINVAL;
	f->levels = (uint8_t)c->levels;
	f->gshift = 12;
	f->stride = 9;
	f->ia_bits = (uint8_t)(12 + 9 * c->levels);   /* AW 1, 2, 3: 39, 48, 57 bits */
	f->root_bits = 9;
	f->leaf_ok = BIT(0) | ((c->flags & PGT_CFG_NO2M) ? 0 : BIT(1)) |
		     ((c->flags & PGT_CFG_NO1G) ? 0 : BIT(2));
	snprintf(f->name, sizeof(f->name), "vtd-ss%u", c->levels);
	return 0;
}

static int lpae_granule(struct pgt_fmt *f, unsigned granule)
{
	switch (granule) {
	case 4096:
		f->gshift = 12;
		/* Blocks: 1 GiB at level 1 and 2 MiB at level 2 (heights 2 and 1). */
		f->leaf_ok = BIT(0) | BIT(1) | BIT(2);
		break;
	case 16384:
		f->gshift = 14;
		/* Blocks: 32 MiB at level 2 only (level 1 needs 52-bit LPA2). */
		f->leaf_ok = BIT(0) | BIT(1);
		break;
	case 65536:
		f->gshift = 16;
		/* Blocks: 512 MiB at level 2, and 4 TiB at level 1 because vsva's 64K
		 * granule implements FEAT_LPA (52-bit PA; BlockDescSupported tests the
		 * implemented PA size, not the configured one). */
		f->leaf_ok = BIT(0) | BIT(1) | BIT(2);
		break;
	default:
		return -EINVAL;
	}
	f->stride = (uint8_t)(f->gshift - 3);
	return 0;
}

static const char *granule_name(unsigned g)
{
	return g == 4096 ? "4k" : g == 16384 ? "16k" : "64k";
}

static int init_lpae_s1(struct pgt_fmt *f, const struct pgt_cfg *c)
{
	unsigned bits;

	if (c->levels || c->sl0 || c->tsz < 16 || c->tsz > 39 ||
	    (c->flags & ~(PGT_CFG_HA | PGT_CFG_HD | PGT_CFG_HAD | PGT_CFG_AFFD | PGT_CFG_NOLPA)) ||
	    ((c->flags & PGT_CFG_HD) && !(c->flags & PGT_CFG_HA)))
		return -EINVAL;
	if (lpae_granule(f, c->granule))
		return -EINVAL;
	if ((c->flags & PGT_CFG_NOLPA) && f->gshift == 16)
		f->leaf_ok &= (uint8_t)~BIT(2);        /* level 1 (height 2): needs LPA */
	f->ia_bits = (uint8_t)(64 - c->tsz);
	bits = f->ia_bits - f->gshift;                 /* bits resolved by tables */
	f->levels = (uint8_t)((bits + f->stride - 1) / f->stride);
	f->root_bits = (uint8_t)(bits - f->stride * (f->levels - 1));
	f->leaf_ok &= (uint8_t)(BIT(f->levels) - 1);
	snprintf(f->name, sizeof(f->name), "lpae-s1:%s:t0sz=%u", granule_name(c->granule), c->tsz);
	return 0;
}

/*
 * Stage 2 start level from SL0, and the Arm ARM's consistency rule: the start
 * level must resolve at least one and at most (stride + 4) input bits, the extra
 * 4 bits being up to 16 concatenated tables (AArch64.S2InconsistentSL).
 */
static int lpae_s2_start(unsigned granule, unsigned sl0, unsigned oas)
{
	if (granule == 4096) {
		if (sl0 > 2)
			return -1;             /* SL0 = 3 (level 3 start) needs FEAT_TTST */
		if (sl0 == 2 && oas < 44)
			return -1;             /* level 0 start needs PA size >= 44 */
		return 2 - (int)sl0;
	}
	if (sl0 > 2)
		return -1;                     /* 16K: level 0 needs LPA2; 64K: reserved */
	if (sl0 == 2 && oas < (granule == 16384 ? 42u : 44u))
		return -1;
	return 3 - (int)sl0;
}

static int init_lpae_s2(struct pgt_fmt *f, const struct pgt_cfg *c)
{
	int start;
	unsigned min_ia, max_ia;

	if (c->levels || c->tsz < 16 || c->tsz > 39 ||
	    (c->flags & ~(PGT_CFG_HA | PGT_CFG_HD | PGT_CFG_AFFD | PGT_CFG_NOLPA)) ||
	    ((c->flags & PGT_CFG_HD) && !(c->flags & PGT_CFG_HA)))
		return -EINVAL;
	if (lpae_granule(f, c->granule))
		return -EINVAL;
	if ((c->flags & PGT_CFG_NOLPA) && f->gshift == 16)
		f->leaf_ok &= (uint8_t)~BIT(2);        /* level 1 (height 2): needs LPA */
	start = lpae_s2_start(c->granule, c->sl0, f->oas);
	if (start < 0)
		return -EINVAL;
	f->levels = (uint8_t)(4 - start);
	f->ia_bits = (uint8_t)(64 - c->tsz);
	min_ia = (f->levels - 1u) * f->stride + f->gshift + 1;
	max_ia = min_ia + f->stride - 1 + 4;
	if (f->ia_bits < min_ia || f->ia_bits > max_ia)
		return -EINVAL;
	f->root_bits = (uint8_t)(f->ia_bits - f->gshift - f->stride * (f->levels - 1));
	f->leaf_ok &= (uint8_t)(BIT(f->levels) - 1);
	snprintf(f->name, sizeof(f->name), "lpae-s2:%s:t0sz=%u:sl0=%u", granule_name(c->granule),
		 c->tsz, c->sl0);
	return 0;
}

static uint64_t root_align(const struct pgt_fmt *f);

/*
 * The per-height masks a walk uses. Reserved bits from the specifications:
 * x86 FS (VT-d 3.x first-stage entries): bits 51:HAW everywhere; XD unless NXE;
 * PS in PML5E/PML4E, and in a PDPTE without 1 GiB pages; 20:13 in a 2 MiB leaf,
 * 29:13 in a 1 GiB leaf (bit 12 is PAT there).
 * VT-d SS: bits 51:HAW and 62 everywhere; SNP (11) in non-leaf entries and, without
 * snoop control, in leaves; PS in SL-PML5E/PML4E and where the size is not
 * supported; 20:12 / 29:12 in large leaves (no PAT bit).
 * A walk tests PS (or the LPAE type) first to pick the mask: an entry whose PS is
 * set where PS is reserved takes the leaf mask, which holds PS itself.
 */
static void fill_level_masks(struct pgt_fmt *f)
{
	uint64_t above_haw = ~f->oa_mask & GENMASK(51, 12);

	for (unsigned h = 0; h < f->levels; h++) {
		unsigned bits = h == f->levels - 1u ? f->root_bits : f->stride;
		bool big_ok = f->leaf_ok & BIT(h);
		uint64_t lg = h ? GENMASK(f->gshift + f->stride * h - 1, f->gshift) : 0;

		f->shift[h] = (uint8_t)(f->gshift + f->stride * h);
		/* x86 and VT-d count up from the PTE (1); Arm counts down to level 3. */
		f->level[h] = (int8_t)(f->family == PGT_LPAE_S1 || f->family == PGT_LPAE_S2 ? 3 - (int)h
											: (int)h + 1);
		f->idx_mask[h] = BIT(bits) - 1;
		switch (f->family) {
		case PGT_X86_FS:
			f->rsvd_tbl[h] = above_haw | ((f->flags & PGT_CFG_NXE) ? 0 : X86_XD);
			f->rsvd_leaf[h] = f->rsvd_tbl[h] | (h && !big_ok ? X86_PS : 0) |
					  (lg & ~X86_PAT_LG);
			f->leaf_addr[h] = X86_ADDR & ~(BIT(f->shift[h]) - 1);
			f->tbl_addr = X86_ADDR;
			break;
		case PGT_VTD_SS:
			f->rsvd_tbl[h] = above_haw | SS_TM | SS_SNP;
			f->rsvd_leaf[h] = above_haw | SS_TM | ((f->flags & PGT_CFG_NOSC) ? SS_SNP : 0) |
					  (h && !big_ok ? SS_PS : 0) | lg;
			f->leaf_addr[h] = SS_ADDR & ~(BIT(f->shift[h]) - 1);
			f->tbl_addr = SS_ADDR;
			break;
		default:
			/* LPAE has no reserved-bit fault; out-of-range addresses are address
			 * size faults, decided on the assembled address. */
			f->rsvd_tbl[h] = f->rsvd_leaf[h] = 0;
			f->leaf_addr[h] = GENMASK(47, f->shift[h]);
			f->tbl_addr = GENMASK(47, f->gshift);
			break;
		}
	}
}

int pgt_fmt_init(struct pgt_fmt *f, const struct pgt_cfg *c)
{
	struct pgt_fmt n = { .cfg = *c, .family = c->family, .flags = c->flags };
	int ret;

	switch (c->family) {
	case PGT_X86_FS:
	case PGT_VTD_SS:
		n.oas = (uint8_t)(c->oas ? c->oas : 52);
		if (n.oas < 32 || n.oas > 52)
			return -EINVAL;
		ret = c->family == PGT_X86_FS ? init_x86(&n, c) : init_vtd_ss(&n, c);
		break;
	case PGT_LPAE_S1:
	case PGT_LPAE_S2:
		n.oas = (uint8_t)(c->oas ? c->oas : 48);
		if (!lpae_oas_ok(n.oas, c->granule))
			return -EINVAL;
		ret = c->family == PGT_LPAE_S1 ? init_lpae_s1(&n, c) : init_lpae_s2(&n, c);
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	n.cfg.oas = n.oas;
	n.oa_mask = GENMASK(n.oas - 1, 0);
	n.root_size = UINT64_C(8) << n.root_bits;
	fill_level_masks(&n);
	n.root_align = root_align(&n);
	*f = n;
	return 0;
}

static uint64_t root_align(const struct pgt_fmt *f)
{
	/* x86 and VT-d roots are 4 KiB pages (the pointer fields start at bit 12).
	 * Arm start-level tables are aligned to their size, concatenated stage-2
	 * tables to their total size; a 52-bit OA with the 64K granule needs 64 bytes
	 * at least (Arm ARM S1TTBaseAddress/S2TTBaseAddress). */
	if (f->family == PGT_X86_FS || f->family == PGT_VTD_SS)
		return 4096;
	if (f->gshift == 16 && f->oas == 52 && f->root_size < 64)
		return 64;
	return f->root_size;
}

/* ---- parsing the CLI spelling ----------------------------------------------- */

static bool parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!*s)
		return false;
	v = strtoul(s, &end, 0);
	if (*end || v > 0xffff)
		return false;
	*out = (unsigned)v;
	return true;
}

int pgt_fmt_parse(struct pgt_fmt *f, const char *spec, char *err, size_t errlen)
{
	struct pgt_cfg c = { 0 };
	char buf[128], *rest, *tok;
	bool have_tsz = false, have_sl0 = false;
	int ret;

	if (!err) {
		static char sink[1];
		err = sink;
		errlen = sizeof(sink);
	}
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "format name too long");
		return -EINVAL;
	}
	strcpy(buf, spec);
	rest = buf;
	tok = strsep(&rest, ":");
	if (!strcmp(tok, "x86-fs4") || !strcmp(tok, "x86-fs5")) {
		c.family = PGT_X86_FS;
		c.levels = tok[6] - '0';
	} else if (!strcmp(tok, "vtd-ss3") || !strcmp(tok, "vtd-ss4") || !strcmp(tok, "vtd-ss5")) {
		c.family = PGT_VTD_SS;
		c.levels = tok[6] - '0';
	} else if (!strcmp(tok, "lpae-s1")) {
		c.family = PGT_LPAE_S1;
		c.granule = 4096;
	} else if (!strcmp(tok, "lpae-s2")) {
		c.family = PGT_LPAE_S2;
		c.granule = 4096;
	} else {
		snprintf(err, errlen,
			 "unknown format '%s' (x86-fs4, x86-fs5, vtd-ss3, vtd-ss4, vtd-ss5, lpae-s1, lpae-s2)",
			 tok);
		return -EINVAL;
	}
	bool lpae = c.family == PGT_LPAE_S1 || c.family == PGT_LPAE_S2;

	while ((tok = strsep(&rest, ":"))) {
		unsigned v;

		if (lpae && (!strcmp(tok, "4k") || !strcmp(tok, "16k") || !strcmp(tok, "64k"))) {
			c.granule = tok[0] == '4' ? 4096 : tok[0] == '1' ? 16384 : 65536;
		} else if (lpae && !strncmp(tok, "t0sz=", 5) && parse_uint(tok + 5, &v)) {
			c.tsz = v;
			have_tsz = true;
		} else if (c.family == PGT_LPAE_S2 && !strncmp(tok, "sl0=", 4) && parse_uint(tok + 4, &v)) {
			c.sl0 = v;
			have_sl0 = true;
		} else if (!strncmp(tok, "oas=", 4) && parse_uint(tok + 4, &v)) {
			c.oas = v;
		} else if (lpae && !strcmp(tok, "ha")) {
			c.flags |= PGT_CFG_HA;
		} else if (lpae && !strcmp(tok, "hd")) {
			c.flags |= PGT_CFG_HD;
		} else if (c.family == PGT_LPAE_S1 && !strcmp(tok, "had")) {
			c.flags |= PGT_CFG_HAD;
		} else if (c.family == PGT_VTD_SS && !strcmp(tok, "ad")) {
			c.flags |= PGT_CFG_AD;
		} else if (c.family == PGT_X86_FS && !strcmp(tok, "nxe")) {
			c.flags |= PGT_CFG_NXE;
		} else if (c.family == PGT_X86_FS && !strcmp(tok, "wpe")) {
			c.flags |= PGT_CFG_WPE;
		} else if (c.family == PGT_X86_FS && !strcmp(tok, "smep")) {
			c.flags |= PGT_CFG_SMEP;
		} else if (c.family == PGT_VTD_SS && !strcmp(tok, "slee")) {
			c.flags |= PGT_CFG_SLEE;
		} else if (c.family == PGT_VTD_SS && !strcmp(tok, "nosc")) {
			c.flags |= PGT_CFG_NOSC;
		} else if (!lpae && !strcmp(tok, "no1g")) {
			c.flags |= PGT_CFG_NO1G;
		} else if (c.family == PGT_VTD_SS && !strcmp(tok, "no2m")) {
			c.flags |= PGT_CFG_NO2M;
		} else {
			snprintf(err, errlen, "unknown or malformed option '%s' in format '%s'", tok, spec);
			return -EINVAL;
		}
	}
	if (lpae && !have_tsz)
		c.tsz = 16;
	if (c.family == PGT_LPAE_S2 && !have_sl0) {
		/* The start level that walks the fewest levels, concatenating if allowed. */
		struct pgt_fmt t;

		for (int sl0 = 0; sl0 <= 2; sl0++) {
			c.sl0 = (unsigned)sl0;
			if (!pgt_fmt_init(&t, &c))
				break;
		}
	}
	ret = pgt_fmt_init(f, &c);
	if (ret)
		snprintf(err, errlen, "format '%s' is not allowed by the specification "
			 "(check t0sz, sl0, oas and flags)", spec);
	return ret;
}
