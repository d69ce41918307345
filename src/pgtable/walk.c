/* pgtable/walk.c — the one walker: every format, one stage or two.
 *
 * A stage walk goes from the root at height levels-1 down to a leaf, reading one
 * 64-bit entry per level through mem/. The format decides, per entry, whether it
 * is absent, malformed, a table or a leaf, and what it allows; the walker keeps
 * the rest common: index arithmetic, references, tracing, hardware flag updates
 * by compare-exchange, and nesting, where each stage-1 table address (and the
 * stage-1 output) is itself translated by a stage-2 walk before it is used.
 *
 * Order of checks, from the specifications:
 *  - x86 FS and VT-d SS: presence and reserved bits level by level; access rights
 *    once the translation is complete (VT-d 3.6.2, 3.7.2). The A flag of a
 *    non-leaf entry is set as the walk passes it; the leaf's A/D only for a
 *    permitted access (implementation-defined on hardware: this is QEMU's and
 *    OpenVMM's choice too).
 *  - LPAE: translation, then address size, per level; at the leaf address size,
 *    access flag, permission (Arm ARM AArch64.S1Walk/S2Walk; SMMUv3 7.3.22). AF and
 *    dirty state are written only when the access is permitted.
 *  - Nested: the stage-2 faults of a stage-1 table address come before the stage-1
 *    fetch; the stage-2 faults of the final address come last.
 */
#include "pgtable/pgtable.h"

#include <string.h>

#include "pgtable/lpae.h"
#include "pgtable/vtd_fr.h"
#include "pgtable/vtd_ss.h"
#include "pgtable/x86_fs.h"

/* A hardware update raced with a change of the entry: walk again, a bounded number
 * of times (a guest rewriting an entry forever must not hang the walker). */
#define MAX_RESTARTS 16

/* What went wrong, finer than enum pgt_reason: it picks the format's own code. */
enum cond {
	C_INPUT_RANGE,     /* input address outside the stage's input range */
	C_ROOT_RANGE,      /* LPAE: table base above the output size */
	C_FETCH_FAIL,      /* entry not readable */
	C_NOT_PRESENT,
	C_RESERVED,
	C_ADDR_SIZE,
	C_ACCESS_FLAG,
	C_PERM_USER,       /* x86: user request, U/S = 0 */
	C_PERM_READ,
	C_PERM_WRITE,
	C_PERM_EXEC,
	C_UPDATE_FAIL,     /* A/D/AF/dirty write refused by memory */
};

/* Why a stage is walking: for itself, or for a stage-1 table access. */
struct purpose {
	bool s1_fetch;
	bool s1_root;
	bool s1_write;
};

struct wctx {
	struct mem_view *v;
	const struct pgt_trace *trace;
	struct pgt_result *r;
	const struct pgt_fmt *s2;      /* nested: stage 2 of the stage-1 walk */
	uint64_t s2_root;
};

/* One stage's answer. */
struct xlate {
	uint64_t oa;
	uint64_t size;
	unsigned perm;
	uint64_t leaf;
	uint64_t leaf_pa;       /* host physical address of the leaf entry */
	uint64_t leaf_ea;
	uint64_t leaf_table;    /* base of the leaf's table (table space) */
	int8_t level;
	unsigned height;
};

enum { WALK_OK = 0, WALK_FAULT = 1, WALK_RESTART = 2 };

static bool is_lpae(const struct pgt_fmt *f)
{
	return f->family == PGT_LPAE_S1 || f->family == PGT_LPAE_S2;
}

static uint16_t cond_code(const struct pgt_fmt *f, enum cond c, const struct purpose *p,
			  bool at_root, enum pgt_reason *reason)
{
	switch (f->family) {
	case PGT_X86_FS:
		switch (c) {
		case C_INPUT_RANGE: *reason = PGT_FAULT_NON_CANONICAL; return VTD_FR_NON_CANONICAL;
		case C_FETCH_FAIL:
			*reason = PGT_FAULT_TABLE_ACCESS;
			return at_root ? VTD_FR_FS_ROOT_ACCESS : VTD_FR_FS_ENTRY_ACCESS;
		case C_NOT_PRESENT: *reason = PGT_FAULT_NOT_PRESENT; return VTD_FR_FS_ENTRY_NP;
		case C_RESERVED: *reason = PGT_FAULT_RESERVED; return VTD_FR_FS_ENTRY_RSVD;
		case C_PERM_USER: *reason = PGT_FAULT_PERMISSION; return VTD_FR_USER_PRIV;
		case C_PERM_READ: *reason = PGT_FAULT_PERMISSION; return VTD_FR_READ;
		case C_PERM_WRITE: *reason = PGT_FAULT_PERMISSION; return VTD_FR_WRITE;
		case C_PERM_EXEC: *reason = PGT_FAULT_PERMISSION; return VTD_FR_EXEC;
		case C_UPDATE_FAIL: *reason = PGT_FAULT_TABLE_ACCESS; return VTD_FR_FS_AD_FAIL;
		default: break;
		}
		break;
	case PGT_VTD_SS:
		switch (c) {
		case C_INPUT_RANGE:
			*reason = PGT_FAULT_ADDR_SIZE;
			return p->s1_fetch ? VTD_FR_FS_NEST_ADDR : VTD_FR_SS_INPUT_WIDTH;
		case C_FETCH_FAIL:
			*reason = PGT_FAULT_TABLE_ACCESS;
			return at_root ? VTD_FR_SS_ROOT_ACCESS : VTD_FR_SS_ENTRY_ACCESS;
		case C_NOT_PRESENT: *reason = PGT_FAULT_NOT_PRESENT; return VTD_FR_SS_ENTRY_NP;
		case C_RESERVED: *reason = PGT_FAULT_RESERVED; return VTD_FR_SS_ENTRY_RSVD;
		case C_PERM_READ:
			*reason = PGT_FAULT_PERMISSION;
			if (p->s1_fetch)
				return p->s1_root ? VTD_FR_FS_NEST_ROOT_RD : VTD_FR_FS_NEST_RD;
			return VTD_FR_READ;
		case C_PERM_WRITE:
			*reason = PGT_FAULT_PERMISSION;
			return p->s1_fetch ? VTD_FR_FS_NEST_WR : VTD_FR_WRITE;
		case C_PERM_EXEC: *reason = PGT_FAULT_PERMISSION; return VTD_FR_EXEC;
		case C_UPDATE_FAIL: *reason = PGT_FAULT_TABLE_ACCESS; return VTD_FR_SS_AD_FAIL;
		default: break;
		}
		break;
	case PGT_LPAE_S1:
	case PGT_LPAE_S2:
		switch (c) {
		case C_INPUT_RANGE:
		case C_NOT_PRESENT: *reason = PGT_FAULT_NOT_PRESENT; return SMMU_EVT_F_TRANSLATION;
		case C_ROOT_RANGE:
		case C_ADDR_SIZE: *reason = PGT_FAULT_ADDR_SIZE; return SMMU_EVT_F_ADDR_SIZE;
		case C_FETCH_FAIL:
		case C_UPDATE_FAIL: *reason = PGT_FAULT_TABLE_ACCESS; return SMMU_EVT_F_WALK_EABT;
		case C_ACCESS_FLAG: *reason = PGT_FAULT_ACCESS_FLAG; return SMMU_EVT_F_ACCESS;
		case C_PERM_USER:
		case C_PERM_READ:
		case C_PERM_WRITE:
		case C_PERM_EXEC: *reason = PGT_FAULT_PERMISSION; return SMMU_EVT_F_PERMISSION;
		default: break;
		}
		break;
	}
	*reason = PGT_FAULT_NONE;
	return 0;
}

/* Where a faulting entry is: its address in the stage's table space (an IPA/GPA
 * for a nested stage 1), its physical address, and its table's base (table space). */
struct where {
	uint64_t ea, pa, table;
};

static int fault(struct wctx *c, const struct pgt_fmt *f, enum cond cond, uint8_t stage,
		 int level, bool at_root, uint64_t addr, const struct where *w,
		 const struct purpose *p)
{
	struct pgt_fault *ft = &c->r->fault;

	memset(ft, 0, sizeof(*ft));
	ft->code = cond_code(f, cond, p, at_root, &ft->reason);
	ft->stage = stage;
	ft->s1_fetch = p->s1_fetch;
	ft->root = p->s1_fetch && p->s1_root;
	ft->s1_write = p->s1_write;
	ft->level = (int8_t)level;
	ft->addr = addr;
	if (w) {
		ft->entry_ea = w->ea;
		ft->entry_pa = w->pa;
		ft->table = w->table;
		ft->have_entry = cond != C_ROOT_RANGE;
	}
	return WALK_FAULT;
}

static void trace_step(struct wctx *c, const struct pgt_fmt *f, uint8_t stage, unsigned h,
		       uint64_t ia, uint64_t ea, uint64_t pa, uint64_t old, uint64_t val,
		       bool write, const struct purpose *p)
{
	struct pgt_step s = {
		.write = write, .stage = stage, .level = (int8_t)pgt_level_of(f, h),
		.s1_fetch = p->s1_fetch, .fmt = f, .height = h, .ia = ia, .ea = ea, .pa = pa,
		.old = old, .value = val,
	};

	c->trace->step(c->trace->ctx, &s);
}

/* ---- per-format entry decoding ------------------------------------------------ */

enum kind { K_INVALID, K_RESERVED, K_ADDR_SIZE, K_TABLE, K_LEAF };

/* Permission state carried down the levels. */
struct acc {
	bool rw, us, xd;            /* x86: R/W and U/S at every level, XD at any */
	bool r, w, x;               /* VT-d SS: AND over levels */
	bool ap_nouser, ap_ro;      /* LPAE S1: APTable[0], APTable[1] seen */
	bool xn_table, pxn_table;   /* LPAE S1: XNTable, PXNTable seen */
};

static uint64_t lpae_addr(const struct pgt_fmt *f, uint64_t d, unsigned shift)
{
	uint64_t a = d & GENMASK(47, shift);

	if (f->gshift == 16)
		a |= (d & LPAE_64K_OA_HI) << 36;   /* OA[51:48] from bits 15:12 */
	return a;
}

/* Returns the kind of entry d at height h and, for tables and leaves, the address. */
static enum kind decode(const struct pgt_fmt *f, unsigned h, uint64_t d, struct acc *a,
			uint64_t *addr)
{
	uint64_t rsvd;

	switch (f->family) {
	case PGT_X86_FS: {
		bool leaf;

		if (!(d & X86_P))
			return K_INVALID;
		rsvd = ~f->oa_mask & X86_ADDR;
		if (!(f->flags & PGT_CFG_NXE))
			rsvd |= X86_XD;
		leaf = h == 0 || ((d & X86_PS) && h <= 2);
		if (h >= 3 || (h == 2 && (f->flags & PGT_CFG_NO1G)))
			rsvd |= X86_PS;          /* PS reserved in PML5E/PML4E, PDPTE without 1G */
		else if (leaf && h == 1)
			rsvd |= X86_LG2M_RSVD;
		else if (leaf && h == 2)
			rsvd |= X86_LG1G_RSVD;
		if (d & rsvd)
			return K_RESERVED;
		a->rw &= !!(d & X86_RW);
		a->us &= !!(d & X86_US);
		a->xd |= (f->flags & PGT_CFG_NXE) && (d & X86_XD);
		*addr = d & X86_ADDR & ~(BIT(pgt_shift(f, leaf ? h : 0)) - 1);
		return leaf ? K_LEAF : K_TABLE;
	}
	case PGT_VTD_SS: {
		bool leaf;

		if (!(d & (SS_R | SS_W)))
			return K_INVALID;
		rsvd = (~f->oa_mask & SS_ADDR) | SS_TM;
		leaf = h == 0 || ((d & SS_PS) && h <= 2);
		if (h >= 3 || (h == 2 && (f->flags & PGT_CFG_NO1G)) ||
		    (h == 1 && (f->flags & PGT_CFG_NO2M)))
			rsvd |= SS_PS;
		if (!leaf || (f->flags & PGT_CFG_NOSC))
			rsvd |= SS_SNP;          /* SNP only in a leaf, with snoop control */
		if (leaf && h >= 1)
			rsvd |= GENMASK(pgt_shift(f, h) - 1, 12);
		if (d & rsvd)
			return K_RESERVED;
		a->r &= !!(d & SS_R);
		a->w &= !!(d & SS_W);
		a->x &= !!(d & SS_X);
		*addr = d & SS_ADDR & ~(BIT(pgt_shift(f, leaf ? h : 0)) - 1);
		return leaf ? K_LEAF : K_TABLE;
	}
	default: {
		uint64_t type = d & LPAE_TYPE;

		if (!(d & LPAE_VALID))
			return K_INVALID;
		if (h == 0) {
			if (type != LPAE_TYPE_TABLE)      /* 0b01 at level 3 is reserved */
				return K_INVALID;
		} else if (type == LPAE_TYPE_BLOCK && !(f->leaf_ok & BIT(h))) {
			return K_INVALID;                 /* no block at this level */
		}
		if (h > 0 && type == LPAE_TYPE_TABLE) {
			*addr = lpae_addr(f, d, f->gshift);
			if (*addr & ~f->oa_mask)
				return K_ADDR_SIZE;
			if (f->family == PGT_LPAE_S1) {
				/* Hierarchical controls; stage-2 tables have none. */
				a->ap_nouser |= !!(d & LPAE_APTABLE0);
				a->ap_ro |= !!(d & LPAE_APTABLE1);
				a->xn_table |= !!(d & LPAE_XNTABLE);
				a->pxn_table |= !!(d & LPAE_PXNTABLE);
			}
			return K_TABLE;
		}
		*addr = lpae_addr(f, d, pgt_shift(f, h));
		if (*addr & ~f->oa_mask)
			return K_ADDR_SIZE;
		return K_LEAF;
	}
	}
}

/*
 * The leaf's permissions for this requester, and the entry value that a
 * permitted access of this kind leaves behind (A/D, AF, dirty state).
 */
static unsigned leaf_perm(const struct pgt_fmt *f, const struct acc *a, uint64_t d, bool user)
{
	unsigned p = 0;

	switch (f->family) {
	case PGT_X86_FS: {
		bool x = !a->xd;

		if (user) {
			if (!a->us)
				return 0;
			p = PGT_PERM_R | (a->rw ? PGT_PERM_W : 0) | (x ? PGT_PERM_X : 0);
		} else {
			bool w = !(f->flags & PGT_CFG_WPE) || a->rw;

			if ((f->flags & PGT_CFG_SMEP) && a->us)
				x = false;
			p = PGT_PERM_R | (w ? PGT_PERM_W : 0) | (x ? PGT_PERM_X : 0);
		}
		return p;
	}
	case PGT_VTD_SS:
		p = (a->r ? PGT_PERM_R : 0) | (a->w ? PGT_PERM_W : 0);
		if (a->r && (!(f->flags & PGT_CFG_SLEE) || a->x))
			p |= PGT_PERM_X;
		return p;
	case PGT_LPAE_S1: {
		bool clean = (f->flags & PGT_CFG_HD) && (d & LPAE_DBM);
		bool ro = (d & LPAE_AP2) && !clean;
		bool el0;

		ro |= a->ap_ro;                     /* APTable[1] beats the dirty state */
		el0 = (d & LPAE_AP1) && !a->ap_nouser;
		if (user) {
			if (el0)
				p = PGT_PERM_R | (ro ? 0 : PGT_PERM_W);
			if (!(d & LPAE_UXN) && !a->xn_table)
				p |= PGT_PERM_X;        /* EL0 execute-only is possible */
		} else {
			p = PGT_PERM_R | (ro ? 0 : PGT_PERM_W);
			/* Regions writable at EL0 are privileged-execute-never. */
			if (!(d & LPAE_PXN) && !a->pxn_table && !(el0 && !ro))
				p |= PGT_PERM_X;
		}
		return p;
	}
	default: {
		bool clean = (f->flags & PGT_CFG_HD) && (d & LPAE_DBM);

		p = ((d & LPAE_S2AP_R) ? PGT_PERM_R : 0) |
		    (((d & LPAE_S2AP_W) || clean) ? PGT_PERM_W : 0) |
		    ((d & LPAE_S2_XN) ? 0 : PGT_PERM_X);
		return p;
	}
	}
}

/* The leaf value after a permitted access: flags hardware sets. */
static uint64_t leaf_update(const struct pgt_fmt *f, uint64_t d, bool write)
{
	switch (f->family) {
	case PGT_X86_FS:
		return d | X86_A | (write ? X86_D : 0);
	case PGT_VTD_SS:
		if (!(f->flags & PGT_CFG_AD))
			return d;
		return d | SS_A | (write ? SS_D : 0);
	case PGT_LPAE_S1:
		if (f->flags & PGT_CFG_HA)
			d |= LPAE_AF;
		if (write && (f->flags & PGT_CFG_HD) && (d & LPAE_DBM))
			d &= ~LPAE_AP2;                 /* writable-clean becomes dirty */
		return d;
	default:
		if (f->flags & PGT_CFG_HA)
			d |= LPAE_AF;
		if (write && (f->flags & PGT_CFG_HD) && (d & LPAE_DBM))
			d |= LPAE_S2AP_W;
		return d;
	}
}

/* The value a non-leaf entry takes when the walk passes it. */
static uint64_t table_update(const struct pgt_fmt *f, uint64_t d)
{
	if (f->family == PGT_X86_FS)
		return d | X86_A;
	if (f->family == PGT_VTD_SS && (f->flags & PGT_CFG_AD))
		return d | SS_A;
	return d;
}

/* ---- stages ---------------------------------------------------------------------- */

static int stage_walk(struct wctx *c, const struct pgt_fmt *f, uint64_t root, uint64_t ia,
		      unsigned acc, uint8_t stage, const struct purpose *p, struct xlate *out);

/*
 * Stage 2 has translated the address of a stage-1 entry (x); before hardware
 * writes that entry, stage 2 must allow the write, and a stage 2 that tracks
 * dirty state records it.
 */
static int s2_allow_update(struct wctx *c, uint64_t gpa, struct xlate *x)
{
	const struct pgt_fmt *f = c->s2;
	struct purpose p = { .s1_fetch = true, .s1_write = true };
	uint64_t nv;
	int err;

	struct where w = { x->leaf_ea, x->leaf_pa, x->leaf_table };

	if (!(x->perm & PGT_PERM_W))
		return fault(c, f, C_PERM_WRITE, 2, x->level, false, gpa, &w, &p);
	nv = leaf_update(f, x->leaf, true);
	if (nv == x->leaf)
		return WALK_OK;
	err = mem_view_cas64(c->v, x->leaf_pa, &x->leaf, nv);
	if (err == -EAGAIN) {
		/* The stage-2 leaf changed under us: translate again for writing. */
		return stage_walk(c, f, c->s2_root, gpa, PGT_ACC_WRITE, 2, &p, x);
	}
	if (err)
		return fault(c, f, C_UPDATE_FAIL, 2, x->level, false, gpa, &w, &p);
	c->r->updates++;
	if (c->trace)
		trace_step(c, f, 2, x->height, gpa, x->leaf_ea, x->leaf_pa, x->leaf, nv, true, &p);
	x->leaf = nv;
	return WALK_OK;
}

/*
 * Hardware writes entry `old` -> `nv` at pa (ea in the stage's table space).
 * Returns WALK_RESTART when the entry changed since it was read.
 */
static int entry_update(struct wctx *c, const struct pgt_fmt *f, uint8_t stage, unsigned h,
			uint64_t ia, const struct where *w, struct xlate *s2x, uint64_t old,
			uint64_t nv, const struct purpose *p)
{
	uint64_t expect = old, ea = w->ea, pa = w->pa;
	int err;

	if (s2x) {
		int ret = s2_allow_update(c, ea, s2x);

		if (ret)
			return ret;
	}
	err = mem_view_cas64(c->v, pa, &expect, nv);
	if (err == -EAGAIN)
		return WALK_RESTART;
	if (err)
		return fault(c, f, C_UPDATE_FAIL, stage, pgt_level_of(f, h), h == f->levels - 1u,
			     ia, w, p);
	c->r->updates++;
	if (c->trace)
		trace_step(c, f, stage, h, ia, ea, pa, old, nv, true, p);
	return WALK_OK;
}

static int stage_walk_once(struct wctx *c, const struct pgt_fmt *f, uint64_t root, uint64_t ia,
			   unsigned acc, uint8_t stage, const struct purpose *p,
			   struct xlate *out)
{
	const bool nested = stage == 1 && c->s2;
	const bool user = acc & PGT_ACC_USER;
	struct acc a = { .rw = true, .us = true, .r = true, .w = true, .x = true };
	struct xlate s2x;
	uint64_t table = root, d = 0, addr = 0, ea = 0, pa = 0;
	struct where w = { 0, 0, 0 };
	unsigned h = f->levels - 1;
	unsigned perm;
	enum kind k;
	int ret;

	/* Input range. */
	if (f->family == PGT_X86_FS) {
		if (sext64(ia, f->ia_bits - 1) != ia)
			return fault(c, f, C_INPUT_RANGE, stage, -1, false, ia, NULL, p);
	} else if (ia >> f->ia_bits) {
		return fault(c, f, C_INPUT_RANGE, stage, is_lpae(f) ? 0 : -1, false, ia, NULL, p);
	}
	if (is_lpae(f) && (root & ~f->oa_mask)) {
		w.table = root;
		return fault(c, f, C_ROOT_RANGE, stage, 0, true, ia, &w, p);
	}

	for (;;) {
		unsigned bits = h == f->levels - 1u ? f->root_bits : f->stride;
		uint64_t idx = (ia >> pgt_shift(f, h)) & (BIT(bits) - 1);
		bool at_root = h == f->levels - 1u;

		ea = table + idx * 8;
		pa = ea;
		w = (struct where){ ea, ea, table };
		if (nested) {
			struct purpose sp = { .s1_fetch = true, .s1_root = at_root };

			ret = stage_walk(c, c->s2, c->s2_root, ea, 0, 2, &sp, &s2x);
			if (ret)
				return ret;
			pa = s2x.oa;
			w.pa = pa;
		}
		if (mem_view_load64(c->v, pa, &d))
			return fault(c, f, C_FETCH_FAIL, stage, pgt_level_of(f, h), at_root, ia, &w, p);
		c->r->refs++;
		if (c->trace)
			trace_step(c, f, stage, h, ia, ea, pa, d, d, false, p);

		k = decode(f, h, d, &a, &addr);
		if (k == K_INVALID)
			return fault(c, f, C_NOT_PRESENT, stage, pgt_level_of(f, h), at_root, ia, &w, p);
		if (k == K_RESERVED)
			return fault(c, f, C_RESERVED, stage, pgt_level_of(f, h), at_root, ia, &w, p);
		if (k == K_ADDR_SIZE)
			return fault(c, f, C_ADDR_SIZE, stage, pgt_level_of(f, h), at_root, ia, &w, p);
		if (k == K_LEAF)
			break;
		uint64_t nv = table_update(f, d);

		if (nv != d) {
			ret = entry_update(c, f, stage, h, ia, &w, nested ? &s2x : NULL, d, nv, p);
			if (ret)
				return ret;
		}
		table = addr;
		h--;
	}

	/* The leaf at height h: access flag, then permissions, then the updates. */
	if (is_lpae(f) && !(d & LPAE_AF) && !(f->flags & PGT_CFG_HA))
		return fault(c, f, C_ACCESS_FLAG, stage, pgt_level_of(f, h), false, ia, &w, p);
	perm = leaf_perm(f, &a, d, user);
	{
		enum cond why = C_NOT_PRESENT;
		bool denied = true;

		if (f->family == PGT_VTD_SS && !(perm & (PGT_PERM_R | PGT_PERM_W)))
			why = C_NOT_PRESENT;         /* R and W are 0 once combined: SSS.2 */
		else if (f->family == PGT_X86_FS && user && !a.us)
			why = C_PERM_USER;
		else if ((acc & PGT_ACC_WRITE) && !(perm & PGT_PERM_W))
			why = C_PERM_WRITE;
		else if ((acc & PGT_ACC_EXEC) && !(perm & PGT_PERM_X))
			why = C_PERM_EXEC;
		else if (!(acc & (PGT_ACC_WRITE | PGT_ACC_EXEC)) && !(perm & PGT_PERM_R))
			why = C_PERM_READ;
		else
			denied = false;
		if (denied)
			return fault(c, f, why, stage, pgt_level_of(f, h), false, ia, &w, p);
	}
	{
		uint64_t nv = leaf_update(f, d, acc & PGT_ACC_WRITE);

		if (nv != d) {
			ret = entry_update(c, f, stage, h, ia, &w, nested ? &s2x : NULL, d, nv, p);
			if (ret)
				return ret;
			d = nv;
		}
	}
	out->size = BIT(pgt_shift(f, h));
	out->oa = addr | (ia & (out->size - 1));
	out->perm = perm;
	out->leaf = d;
	out->leaf_pa = pa;
	out->leaf_ea = ea;
	out->leaf_table = table;
	out->height = h;
	out->level = (int8_t)pgt_level_of(f, h);
	return WALK_OK;
}

static int stage_walk(struct wctx *c, const struct pgt_fmt *f, uint64_t root, uint64_t ia,
		      unsigned acc, uint8_t stage, const struct purpose *p, struct xlate *out)
{
	for (unsigned tries = 0;; tries++) {
		int ret = stage_walk_once(c, f, root, ia, acc, stage, p, out);

		if (ret != WALK_RESTART)
			return ret;
		if (tries == MAX_RESTARTS)
			return fault(c, f, C_UPDATE_FAIL, stage, -1, false, ia, NULL, p);
	}
}

static void result_init(struct pgt_result *r)
{
	memset(r, 0, sizeof(*r));
	r->leaf_level[0] = r->leaf_level[1] = -1;
}

#define PGT_ACC_ALL (PGT_ACC_WRITE | PGT_ACC_EXEC | PGT_ACC_USER)

static bool bad_access(unsigned access)
{
	return (access & ~PGT_ACC_ALL) ||
	       ((access & PGT_ACC_WRITE) && (access & PGT_ACC_EXEC));
}

int pgt_walk_view(const struct pgt_fmt *f, struct mem_view *v, uint64_t root, uint64_t ia,
		  unsigned access, struct pgt_result *r, const struct pgt_trace *trace)
{
	struct wctx c = { .v = v, .trace = trace, .r = r };
	struct purpose p = { 0 };
	struct xlate x;
	uint8_t stage = (f->family == PGT_VTD_SS || f->family == PGT_LPAE_S2) ? 2 : 1;

	if (bad_access(access))
		return -EINVAL;
	result_init(r);
	root &= ~(pgt_root_align(f) - 1);
	if (stage_walk(&c, f, root, ia, access, stage, &p, &x))
		return 0;
	r->ok = true;
	r->oa = x.oa;
	r->page_size = x.size;
	r->perm = x.perm;
	r->leaf[stage - 1] = x.leaf;
	r->leaf_level[stage - 1] = x.level;
	return 0;
}

int pgt_walk(const struct pgt_fmt *f, struct mem_space *s, uint64_t root, uint64_t ia,
	     unsigned access, struct pgt_result *r, const struct pgt_trace *trace)
{
	struct mem_view v;
	int ret;

	mem_view_begin(&v, s);
	ret = pgt_walk_view(f, &v, root, ia, access, r, trace);
	mem_view_end(&v);
	return ret;
}

static bool pair_ok(const struct pgt_fmt *s1, const struct pgt_fmt *s2)
{
	return (s1->family == PGT_X86_FS && s2->family == PGT_VTD_SS) ||
	       (s1->family == PGT_LPAE_S1 && s2->family == PGT_LPAE_S2);
}

int pgt_walk_nested_view(const struct pgt_fmt *s1, uint64_t s1_root, const struct pgt_fmt *s2,
			 uint64_t s2_root, struct mem_view *v, uint64_t ia, unsigned access,
			 struct pgt_result *r, const struct pgt_trace *trace)
{
	struct wctx c = { .v = v, .trace = trace, .r = r, .s2 = s2, .s2_root = s2_root };
	struct purpose p = { 0 };
	struct xlate x1, x2;

	if (!pair_ok(s1, s2) || bad_access(access))
		return -EINVAL;
	result_init(r);
	s1_root &= ~(pgt_root_align(s1) - 1);
	c.s2_root = s2_root & ~(pgt_root_align(s2) - 1);
	if (stage_walk(&c, s1, s1_root, ia, access, 1, &p, &x1))
		return 0;
	r->leaf[0] = x1.leaf;
	r->leaf_level[0] = x1.level;
	/* The stage-1 output is a guest-physical address: stage 2 finishes the job. */
	if (stage_walk(&c, s2, s2_root, x1.oa, access & ~PGT_ACC_USER, 2, &p, &x2))
		return 0;
	r->ok = true;
	r->oa = x2.oa;
	r->page_size = x1.size < x2.size ? x1.size : x2.size;
	r->perm = x1.perm & x2.perm;
	r->leaf[1] = x2.leaf;
	r->leaf_level[1] = x2.level;
	return 0;
}

int pgt_walk_nested(const struct pgt_fmt *s1, uint64_t s1_root, const struct pgt_fmt *s2,
		    uint64_t s2_root, struct mem_space *s, uint64_t ia, unsigned access,
		    struct pgt_result *r, const struct pgt_trace *trace)
{
	struct mem_view v;
	int ret;

	mem_view_begin(&v, s);
	ret = pgt_walk_nested_view(s1, s1_root, s2, s2_root, &v, ia, access, r, trace);
	mem_view_end(&v);
	return ret;
}
