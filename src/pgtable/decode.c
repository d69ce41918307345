/* pgtable/decode.c — names and human-readable decoding for traces and the CLI. */
#include "pgtable/pgtable.h"

#include <stdarg.h>
#include <stdio.h>

#include "pgtable/lpae.h"
#include "pgtable/vtd_fr.h"
#include "pgtable/vtd_ss.h"
#include "pgtable/x86_fs.h"

const char *pgt_reason_name(enum pgt_reason reason)
{
	switch (reason) {
	case PGT_FAULT_NONE: return "none";
	case PGT_FAULT_NOT_PRESENT: return "not-present";
	case PGT_FAULT_PERMISSION: return "permission";
	case PGT_FAULT_RESERVED: return "reserved-bit";
	case PGT_FAULT_ADDR_SIZE: return "address-size";
	case PGT_FAULT_ACCESS_FLAG: return "access-flag";
	case PGT_FAULT_NON_CANONICAL: return "non-canonical";
	case PGT_FAULT_TABLE_ACCESS: return "table-access";
	}
	return "?";
}

const char *pgt_code_name(const struct pgt_fmt *f, uint16_t code)
{
	if (f->family == PGT_LPAE_S1 || f->family == PGT_LPAE_S2) {
		switch (code) {
		case SMMU_EVT_F_WALK_EABT: return "F_WALK_EABT";
		case SMMU_EVT_F_TRANSLATION: return "F_TRANSLATION";
		case SMMU_EVT_F_ADDR_SIZE: return "F_ADDR_SIZE";
		case SMMU_EVT_F_ACCESS: return "F_ACCESS";
		case SMMU_EVT_F_PERMISSION: return "F_PERMISSION";
		}
		return "?";
	}
	switch (code) {
	case VTD_FR_FS_ENTRY_ACCESS: return "SFS.1";
	case VTD_FR_FS_ENTRY_NP: return "SFS.2";
	case VTD_FR_FS_ENTRY_RSVD: return "SFS.3";
	case VTD_FR_FS_ROOT_ACCESS: return "SFS.4";
	case VTD_FR_FS_NEST_ADDR: return "SFS.5";
	case VTD_FR_FS_NEST_ROOT_RD: return "SFS.6";
	case VTD_FR_FS_NEST_RD: return "SFS.7";
	case VTD_FR_FS_NEST_WR: return "SFS.8";
	case VTD_FR_SS_ENTRY_ACCESS: return "SSS.1";
	case VTD_FR_SS_ENTRY_NP: return "SSS.2";
	case VTD_FR_SS_ENTRY_RSVD: return "SSS.3";
	case VTD_FR_SS_ROOT_ACCESS: return "SSS.4";
	case VTD_FR_SS_AD_NOSNOOP: return "SSS.5";
	case VTD_FR_SS_AD_FAIL: return "SSS.6";
	case VTD_FR_NON_CANONICAL: return "SGN.1";
	case VTD_FR_USER_PRIV: return "SGN.2";
	case VTD_FR_EXEC: return "SGN.3";
	case VTD_FR_HAW: return "SGN.4";
	case VTD_FR_SS_INPUT_WIDTH: return "SGN.5";
	case VTD_FR_WRITE: return "SGN.6";
	case VTD_FR_READ: return "SGN.7";
	case VTD_FR_FS_AD_NOSNOOP: return "SFS.9";
	case VTD_FR_FS_AD_FAIL: return "SFS.10";
	}
	return "?";
}

struct sbuf {
	char *p;
	size_t left;
};

__attribute__((format(printf, 2, 3)))
static void put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->left)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p, b->left, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->left)
		n = (int)b->left - 1;
	b->p += n;
	b->left -= (size_t)n;
}

static void flag(struct sbuf *b, uint64_t d, uint64_t bit, const char *name)
{
	if (d & bit)
		put(b, " %s", name);
}

static void describe_x86(struct sbuf *b, const struct pgt_fmt *f, unsigned h, uint64_t d)
{
	bool leaf = h == 0 || (h <= 2 && (d & X86_PS));

	if (!(d & X86_P)) {
		put(b, " not-present");
		return;
	}
	flag(b, d, X86_P, "P");
	flag(b, d, X86_RW, "RW");
	flag(b, d, X86_US, "US");
	flag(b, d, X86_PWT, "PWT");
	flag(b, d, X86_PCD, "PCD");
	flag(b, d, X86_A, "A");
	if (leaf)
		flag(b, d, X86_D, "D");
	if (h == 0)
		flag(b, d, X86_PAT_PTE, "PAT");
	else
		flag(b, d, X86_PS, "PS");
	if (leaf && h > 0)
		flag(b, d, X86_PAT_LG, "PAT");
	flag(b, d, X86_XD, "XD");
	put(b, " %s=0x%llx", leaf ? "page" : "table",
	    (unsigned long long)(d & X86_ADDR & ~(BIT(pgt_shift(f, leaf ? h : 0)) - 1)));
}

static void describe_ss(struct sbuf *b, const struct pgt_fmt *f, unsigned h, uint64_t d)
{
	bool leaf = h == 0 || (h <= 2 && (d & SS_PS));

	if (!(d & (SS_R | SS_W))) {
		put(b, " not-present");
		return;
	}
	flag(b, d, SS_R, "R");
	flag(b, d, SS_W, "W");
	flag(b, d, SS_X, "X");
	if (leaf) {
		put(b, " EMT=%llu", (unsigned long long)FIELD_GET(SS_EMT, d));
		flag(b, d, SS_IPAT, "IPAT");
	}
	if (h > 0)
		flag(b, d, SS_PS, "PS");
	flag(b, d, SS_A, "A");
	if (leaf)
		flag(b, d, SS_D, "D");
	flag(b, d, SS_SNP, "SNP");
	flag(b, d, SS_TM, "TM");
	put(b, " %s=0x%llx", leaf ? "page" : "table",
	    (unsigned long long)(d & SS_ADDR & ~(BIT(pgt_shift(f, leaf ? h : 0)) - 1)));
}

static void describe_lpae(struct sbuf *b, const struct pgt_fmt *f, unsigned h, uint64_t d)
{
	bool s1 = f->family == PGT_LPAE_S1;
	uint64_t type = d & LPAE_TYPE;
	uint64_t hi = f->gshift == 16 ? (d & LPAE_64K_OA_HI) << 36 : 0;

	if (!(d & LPAE_VALID)) {
		put(b, " invalid");
		return;
	}
	if (h > 0 && type == LPAE_TYPE_TABLE) {
		put(b, " table=0x%llx", (unsigned long long)((d & GENMASK(47, f->gshift)) | hi));
		if (s1) {
			flag(b, d, LPAE_NSTABLE, "NSTable");
			if (d & (LPAE_APTABLE0 | LPAE_APTABLE1))
				put(b, " APTable=%llu",
				    (unsigned long long)FIELD_GET(LPAE_APTABLE0 | LPAE_APTABLE1, d));
			flag(b, d, LPAE_XNTABLE, "XNTable");
			flag(b, d, LPAE_PXNTABLE, "PXNTable");
		}
		return;
	}
	if (h == 0 && type != LPAE_TYPE_TABLE) {
		put(b, " reserved-type");
		return;
	}
	put(b, " %s=0x%llx", h == 0 ? "page" : "block",
	    (unsigned long long)((d & GENMASK(47, pgt_shift(f, h))) | hi));
	if (s1) {
		put(b, " AttrIndx=%llu", (unsigned long long)FIELD_GET(LPAE_ATTRINDX, d));
		flag(b, d, LPAE_NS, "NS");
		put(b, " AP=%llu", (unsigned long long)FIELD_GET(LPAE_AP1 | LPAE_AP2, d));
	} else {
		put(b, " MemAttr=%llu", (unsigned long long)FIELD_GET(LPAE_MEMATTR, d));
		put(b, " S2AP=%llu", (unsigned long long)FIELD_GET(LPAE_S2AP_R | LPAE_S2AP_W, d));
	}
	put(b, " SH=%llu", (unsigned long long)FIELD_GET(LPAE_SH, d));
	flag(b, d, LPAE_AF, "AF");
	if (s1)
		flag(b, d, LPAE_NG, "nG");
	flag(b, d, LPAE_DBM, "DBM");
	flag(b, d, LPAE_CONT, "Cont");
	if (s1) {
		flag(b, d, LPAE_PXN, "PXN");
		flag(b, d, LPAE_UXN, "UXN");
	} else {
		flag(b, d, LPAE_S2_XN, "XN");
	}
}

const char *pgt_describe(const struct pgt_fmt *f, unsigned height, uint64_t desc, char *buf,
			 size_t len)
{
	struct sbuf b = { buf, len };

	if (!len)
		return buf;
	buf[0] = 0;
	switch (f->family) {
	case PGT_X86_FS:
		describe_x86(&b, f, height, desc);
		break;
	case PGT_VTD_SS:
		describe_ss(&b, f, height, desc);
		break;
	default:
		describe_lpae(&b, f, height, desc);
		break;
	}
	/* Drop the leading space. */
	return buf[0] == ' ' ? buf + 1 : buf;
}
