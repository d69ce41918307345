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

/* A walk's own region cache, one per stage: [base, base + limit + 8) is readable
 * at host. Entries of one stage's tables usually sit in one region. */
struct rcache {
	uint64_t base, limit;
	uintptr_t delta;        /* host address - physical address */
};

struct wctx {
	struct mem_view *v;
	const struct pgt_trace *trace;
	struct pgt_result *r;
	const struct pgt_fmt *s2;      /* nested: stage 2 of the stage-1 walk */
	uint64_t s2_root;
	struct rcache rc[2];
	const struct pgt_wcache *wc;   /* walk caches, or NULL */
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

/*
 * Permission state carried down the levels: the bits every entry had (x86 R/W,
 * U/S; VT-d R, W, X) and the bits any entry had (x86 XD; LPAE stage-1 table
 * controls APTable, XNTable, PXNTable, which only table descriptors carry).
 */
struct acc {
	uint64_t all, any;
};

/* The output address of an LPAE descriptor: bits 47:shift, and with the 64K
 * granule OA[51:48] from bits 15:12 (vsva's 64K granule implements FEAT_LPA). */
static inline uint64_t lpae_addr(const struct pgt_fmt *f, uint64_t d, uint64_t mask)
{
	uint64_t a = d & mask;

	if (f->gshift == 16)
		a |= (d & LPAE_64K_OA_HI) << 36;
	return a;
}

/* The leaf's permissions for this requester (fam == f->family, a constant in walks). */
static __attribute__((always_inline)) inline unsigned
leaf_perm(const struct pgt_fmt *f, const struct acc *a, uint64_t d, bool user,
	  const enum pgt_family fam)
{
	unsigned p = 0;

	switch (fam) {
	case PGT_X86_FS: {
		bool x = !(a->any & X86_XD) || !(f->flags & PGT_CFG_NXE);
		bool us = a->all & X86_US, rw = a->all & X86_RW;

		if (user) {
			if (!us)
				return 0;
			return PGT_PERM_R | (rw ? PGT_PERM_W : 0) | (x ? PGT_PERM_X : 0);
		}
		if ((f->flags & PGT_CFG_SMEP) && us)
			x = false;
		return PGT_PERM_R | (!(f->flags & PGT_CFG_WPE) || rw ? PGT_PERM_W : 0) |
		       (x ? PGT_PERM_X : 0);
	}
	case PGT_VTD_SS:
		p = ((a->all & SS_R) ? PGT_PERM_R : 0) | ((a->all & SS_W) ? PGT_PERM_W : 0);
		if ((a->all & SS_R) && (!(f->flags & PGT_CFG_SLEE) || (a->all & SS_X)))
			p |= PGT_PERM_X;
		return p;
	case PGT_LPAE_S1: {
		/* Hierarchical attributes disabled: the table controls are ignored. */
		uint64_t any = (f->flags & PGT_CFG_HAD) ? 0 : a->any;
		bool clean = (f->flags & PGT_CFG_HD) && (d & LPAE_DBM);
		bool ro = ((d & LPAE_AP2) && !clean) || (any & LPAE_APTABLE1);
		bool el0 = (d & LPAE_AP1) && !(any & LPAE_APTABLE0);

		/* APTable[1] beats the dirty state: a writable-clean page under it is
		 * read-only. */
		if (user) {
			if (el0)
				p = PGT_PERM_R | (ro ? 0 : PGT_PERM_W);
			if (!(d & LPAE_UXN) && !(any & LPAE_XNTABLE))
				p |= PGT_PERM_X;        /* EL0 execute-only is possible */
		} else {
			p = PGT_PERM_R | (ro ? 0 : PGT_PERM_W);
			/* Regions writable at EL0 are privileged-execute-never. */
			if (!(d & LPAE_PXN) && !(any & LPAE_PXNTABLE) && !(el0 && !ro))
				p |= PGT_PERM_X;
		}
		return p;
	}
	default: {
		bool clean = (f->flags & PGT_CFG_HD) && (d & LPAE_DBM);

		return ((d & LPAE_S2AP_R) ? PGT_PERM_R : 0) |
		       (((d & LPAE_S2AP_W) || clean) ? PGT_PERM_W : 0) |
		       ((d & LPAE_S2_XN) ? 0 : PGT_PERM_X);
	}
	}
}

/* The leaf value after a permitted access: flags hardware sets. */
static __attribute__((always_inline)) inline uint64_t
leaf_update(const struct pgt_fmt *f, uint64_t d, bool write, const enum pgt_family fam)
{
	switch (fam) {
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
	struct where w = { x->leaf_ea, x->leaf_pa, x->leaf_table };
	uint64_t nv;
	int err;

	if (!(x->perm & PGT_PERM_W))
		return fault(c, f, C_PERM_WRITE, 2, x->level, false, gpa, &w, &p);
	nv = leaf_update(f, x->leaf, true, f->family);
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
static __attribute__((noinline)) int entry_update(struct wctx *c, const struct pgt_fmt *f,
						  uint8_t stage, unsigned h, uint64_t ia,
						  const struct where *w, struct xlate *s2x,
						  uint64_t old, uint64_t nv, const struct purpose *p)
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

/* The region cache missed: find the region through the view and remember it. */
static __attribute__((noinline)) bool load_slow(struct wctx *c, uint8_t stage, uint64_t pa,
						uint64_t *d)
{
	struct rcache *rc = &c->rc[stage - 1];
	int err;
	const uint64_t *p = mem_view_ptr(c->v, pa, 8, MEM_READ, &err);

	if (!p || (pa & 7))
		return false;
	rc->base = c->v->hit->base;
	rc->limit = c->v->hit->size - 8;
	rc->delta = (uintptr_t)c->v->hit->host - (uintptr_t)c->v->hit->base;
	*d = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return true;
}

/*
 * One stage, specialised by the compiler for each family (fam is a constant at
 * every call): the loop decides each entry with the format's per-height masks.
 */
static __attribute__((always_inline)) inline int
walk_one(struct wctx *c, const struct pgt_fmt *f, uint64_t root, uint64_t ia, unsigned acc,
	 uint8_t stage, const struct purpose *p, struct xlate *out, const enum pgt_family fam,
	 const bool nested, const bool may_cache)
{
	/* Read once into a register: the calls below take c and would force reloads. */
	const struct pgt_wcache *const wc = may_cache ? c->wc : NULL;
	const bool lpae = fam == PGT_LPAE_S1 || fam == PGT_LPAE_S2;
	const struct pgt_trace *const trace = c->trace;
	struct rcache rc = c->rc[stage - 1];
	unsigned refs = 0;
	struct acc a = { ~UINT64_C(0), 0 };
	struct xlate s2x;
	struct where w;
	uint64_t table = root, d, addr, ea, pa, nv;
	unsigned h = f->levels - 1u;
	enum cond why;
	unsigned perm;
	int ret;

	/* Input range. */
	if (fam == PGT_X86_FS) {
		if (unlikely(sext64(ia, f->ia_bits - 1u) != ia))
			return fault(c, f, C_INPUT_RANGE, stage, -1, false, ia, NULL, p);
	} else if (unlikely(ia >> f->ia_bits)) {
		return fault(c, f, C_INPUT_RANGE, stage, lpae ? 0 : -1, false, ia, NULL, p);
	}
	if (lpae && unlikely(root & ~f->oa_mask)) {
		w = (struct where){ 0, 0, root };
		return fault(c, f, C_ROOT_RANGE, stage, 0, true, ia, &w, p);
	}
	if (wc) {
		uint64_t acc2[2], t;
		int hh = wc->lookup(wc->ctx, f, stage, ia, &t, acc2);

		if (hh >= 0 && hh < (int)h) {
			h = (unsigned)hh;
			table = t;
			a.all = acc2[0];
			a.any = acc2[1];
		}
	}

	for (;;) {
		ea = table + ((ia >> f->shift[h]) & f->idx_mask[h]) * 8;
		pa = ea;
		if (nested) {
			struct purpose sp = { .s1_fetch = true, .s1_root = h == f->levels - 1u };

			c->r->refs += refs;       /* keep the count in reference order */
			refs = 0;
			c->rc[stage - 1] = rc;
			ret = stage_walk(c, c->s2, c->s2_root, ea, 0, 2, &sp, &s2x);
			if (ret)
				return ret;
			pa = s2x.oa;
		}
		/* The bounds test is off the dependency chain (predicted); the load's
		 * address is the entry's physical address plus the region's delta. */
		if (likely(pa - rc.base <= rc.limit)) {
			d = __atomic_load_n((const uint64_t *)(uintptr_t)(pa + rc.delta), __ATOMIC_ACQUIRE);
		} else {
			c->rc[stage - 1] = rc;
			if (unlikely(!load_slow(c, stage, pa, &d))) {
				why = C_FETCH_FAIL;
				goto entry_fault;
			}
			rc = c->rc[stage - 1];
		}
		refs++;
		if (unlikely(trace != NULL)) {
			c->r->refs += refs;
			refs = 0;
			trace_step(c, f, stage, h, ia, ea, pa, d, d, false, p);
		}

		if (fam == PGT_X86_FS || fam == PGT_VTD_SS) {
			uint64_t present = fam == PGT_X86_FS ? X86_P : (SS_R | SS_W);
			uint64_t ps = fam == PGT_X86_FS ? X86_PS : SS_PS;
			bool leaf = h == 0 || (d & ps);

			if (unlikely(!(d & present))) {
				why = C_NOT_PRESENT;
				goto entry_fault;
			}
			if (unlikely(d & (leaf ? f->rsvd_leaf[h] : f->rsvd_tbl[h]))) {
				why = C_RESERVED;
				goto entry_fault;
			}
			a.all &= d;
			a.any |= d;
			if (leaf) {
				addr = d & f->leaf_addr[h];
				break;
			}
			/* A is set in each table entry the walk passes (SSADE for SS). */
			if (fam == PGT_X86_FS ? !(d & X86_A) : (f->flags & PGT_CFG_AD) && !(d & SS_A)) {
				nv = d | (fam == PGT_X86_FS ? X86_A : SS_A);
				w = (struct where){ ea, pa, table };
				c->r->refs += refs;
				refs = 0;
				c->rc[stage - 1] = rc;
				ret = entry_update(c, f, stage, h, ia, &w, nested ? &s2x : NULL, d, nv, p);
				if (ret)
					return ret;
			}
			table = d & f->tbl_addr;
			if (wc) {
				uint64_t acc2[2] = { a.all, a.any };

				wc->fill(wc->ctx, f, stage, h - 1, ia, table, acc2);
			}
		} else {
			if (unlikely(!(d & LPAE_VALID))) {
				why = C_NOT_PRESENT;
				goto entry_fault;
			}
			if (h > 0 && (d & LPAE_TABLE)) {
				addr = lpae_addr(f, d, f->tbl_addr);
				if (unlikely(addr & ~f->oa_mask)) {
					why = C_ADDR_SIZE;
					goto entry_fault;
				}
				if (fam == PGT_LPAE_S1)     /* stage-2 tables carry no controls */
					a.any |= d;
				table = addr;
				if (wc) {
					uint64_t acc2[2] = { a.all, a.any };

					wc->fill(wc->ctx, f, stage, h - 1, ia, table, acc2);
				}
			} else {
				/* A page at level 3 is type 0b11 (0b01 is reserved); a block
				 * (0b01) only where the granule allows one. */
				if (unlikely(h == 0 ? !(d & LPAE_TABLE) : !(f->leaf_ok & BIT(h)))) {
					why = C_NOT_PRESENT;
					goto entry_fault;
				}
				addr = lpae_addr(f, d, f->leaf_addr[h]);
				if (unlikely(addr & ~f->oa_mask)) {
					why = C_ADDR_SIZE;
					goto entry_fault;
				}
				break;
			}
		}
		h--;
	}

	/* The leaf at height h: access flag, then permissions, then the updates. */
	c->r->refs += refs;
	c->rc[stage - 1] = rc;
	w = (struct where){ ea, pa, table };
	if (lpae && unlikely(!(d & LPAE_AF)) && !(f->flags & (PGT_CFG_HA | PGT_CFG_AFFD)))
		return fault(c, f, C_ACCESS_FLAG, stage, pgt_level_of(f, h), false, ia, &w, p);
	perm = leaf_perm(f, &a, d, acc & PGT_ACC_USER, fam);
	if (fam == PGT_VTD_SS && unlikely(!(perm & (PGT_PERM_R | PGT_PERM_W))))
		why = C_NOT_PRESENT;                 /* R and W are 0 once combined: SSS.2 */
	else if (fam == PGT_X86_FS && (acc & PGT_ACC_USER) && unlikely(!(a.all & X86_US)))
		why = C_PERM_USER;
	else if ((acc & PGT_ACC_WRITE) && unlikely(!(perm & PGT_PERM_W)))
		why = C_PERM_WRITE;
	else if ((acc & PGT_ACC_EXEC) && unlikely(!(perm & PGT_PERM_X)))
		why = C_PERM_EXEC;
	else if (!(acc & (PGT_ACC_WRITE | PGT_ACC_EXEC)) && unlikely(!(perm & PGT_PERM_R)))
		why = C_PERM_READ;
	else
		goto permitted;
	return fault(c, f, why, stage, pgt_level_of(f, h), false, ia, &w, p);

permitted:
	nv = leaf_update(f, d, acc & PGT_ACC_WRITE, fam);
	if (unlikely(nv != d)) {
		ret = entry_update(c, f, stage, h, ia, &w, nested ? &s2x : NULL, d, nv, p);
		if (ret)
			return ret;
		d = nv;
	}
	out->size = BIT(f->shift[h]);
	out->oa = addr | (ia & (out->size - 1));
	out->perm = perm;
	out->leaf = d;
	out->leaf_pa = pa;
	out->leaf_ea = ea;
	out->leaf_table = table;
	out->height = h;
	out->level = (int8_t)pgt_level_of(f, h);
	return WALK_OK;

entry_fault:
	c->r->refs += refs;
	w = (struct where){ ea, pa, table };
	return fault(c, f, why, stage, pgt_level_of(f, h), h == f->levels - 1u, ia, &w, p);
}

#define WALKER(name, fam, nested)                                                          \
	static __attribute__((noinline)) int name(struct wctx *c, const struct pgt_fmt *f,  \
						  uint64_t root, uint64_t ia, unsigned acc, \
						  uint8_t stage, const struct purpose *p,   \
						  struct xlate *out)                        \
	{                                                                                  \
		return walk_one(c, f, root, ia, acc, stage, p, out, fam, nested, true);   \
	}

WALKER(walk_x86, PGT_X86_FS, false)
WALKER(walk_x86_nested, PGT_X86_FS, true)
WALKER(walk_ss, PGT_VTD_SS, false)
WALKER(walk_lpae_s1, PGT_LPAE_S1, false)
WALKER(walk_lpae_s1_nested, PGT_LPAE_S1, true)
WALKER(walk_lpae_s2, PGT_LPAE_S2, false)

/*
 * Walks one stage, again while a hardware update raced with a change (bounded).
 * With expand (one-stage walks from the API), the walker is expanded in place, so
 * that a 4-level walk pays for one call, not three: a warm walk is a few dozen
 * cycles and the fixed costs matter. Otherwise the out-of-line walkers serve.
 */
static __attribute__((always_inline)) inline int
stage_walk_inline(struct wctx *c, const struct pgt_fmt *f, uint64_t root, uint64_t ia,
		  unsigned acc, uint8_t stage, const struct purpose *p, struct xlate *out,
		  const bool expand, const bool may_cache)
{
	const bool nested = stage == 1 && c->s2;

	for (unsigned tries = 0;; tries++) {
		int ret;

		switch (f->family) {
		case PGT_X86_FS:
			ret = expand ? walk_one(c, f, root, ia, acc, stage, p, out, PGT_X86_FS, false,
						 may_cache)
				     : (nested ? walk_x86_nested : walk_x86)(c, f, root, ia, acc, stage,
									     p, out);
			break;
		case PGT_VTD_SS:
			ret = expand ? walk_one(c, f, root, ia, acc, stage, p, out, PGT_VTD_SS, false,
						 may_cache)
				     : walk_ss(c, f, root, ia, acc, stage, p, out);
			break;
		case PGT_LPAE_S1:
			ret = expand ? walk_one(c, f, root, ia, acc, stage, p, out, PGT_LPAE_S1, false,
						 may_cache)
				     : (nested ? walk_lpae_s1_nested : walk_lpae_s1)(c, f, root, ia, acc,
										     stage, p, out);
			break;
		default:
			ret = expand ? walk_one(c, f, root, ia, acc, stage, p, out, PGT_LPAE_S2, false,
						 may_cache)
				     : walk_lpae_s2(c, f, root, ia, acc, stage, p, out);
			break;
		}
		if (likely(ret != WALK_RESTART))
			return ret;
		if (tries == MAX_RESTARTS)
			return fault(c, f, C_UPDATE_FAIL, stage, -1, false, ia, NULL, p);
	}
}

static __attribute__((noinline)) int stage_walk(struct wctx *c, const struct pgt_fmt *f,
						uint64_t root, uint64_t ia, unsigned acc,
						uint8_t stage, const struct purpose *p,
						struct xlate *out)
{
	return stage_walk_inline(c, f, root, ia, acc, stage, p, out, false, true);
}

/* Decodes a leaf's attributes; inline so that a walk's result costs a few shifts. */
static inline void leaf_attrs(const struct pgt_fmt *f, unsigned height, uint64_t d,
			      struct pgt_attrs *a)
{
	*a = (struct pgt_attrs){ 0 };
	switch (f->family) {
	case PGT_X86_FS: {
		/* PAT is bit 7 in a PTE and bit 12 in a 2M/1G leaf (where 7 is PS). */
		bool pat = height ? d & X86_PAT_LG : d & X86_PAT_PTE;

		a->memtype = (uint8_t)((pat ? 4 : 0) | ((d & X86_PCD) ? 2 : 0) | ((d & X86_PWT) ? 1 : 0));
		a->global = d & X86_G;
		break;
	}
	case PGT_VTD_SS:
		a->memtype = (uint8_t)FIELD_GET(SS_EMT, d);
		a->ipat = d & SS_IPAT;
		a->snp = d & SS_SNP;
		break;
	case PGT_LPAE_S1:
		a->memtype = (uint8_t)FIELD_GET(LPAE_ATTRINDX, d);
		a->sh = (uint8_t)FIELD_GET(LPAE_SH, d);
		a->global = !(d & LPAE_NG);
		a->ns = d & LPAE_NS;
		a->contig = d & LPAE_CONT;
		break;
	default:
		a->memtype = (uint8_t)FIELD_GET(LPAE_MEMATTR, d);
		a->sh = (uint8_t)FIELD_GET(LPAE_SH, d);
		a->contig = d & LPAE_CONT;
		break;
	}
}

void pgt_leaf_attrs(const struct pgt_fmt *f, unsigned height, uint64_t desc, struct pgt_attrs *a)
{
	leaf_attrs(f, height, desc, a);
}

/* Starts the walk's region caches at the view's last region. */
static inline void seed_cache(struct wctx *c)
{
	const struct mem_region *hit = c->v->hit;

	/* Empty: pa - base is pa + 1, never <= 0 for an aligned pa. */
	c->rc[0] = c->rc[1] = (struct rcache){ UINT64_MAX, 0, 0 };
	if (likely(hit && (hit->prot & MEM_READ) && hit->size >= 8)) {
		c->rc[0] = (struct rcache){ hit->base, hit->size - 8,
					    (uintptr_t)hit->host - (uintptr_t)hit->base };
		c->rc[1] = c->rc[0];
	}
}

static void result_init(struct pgt_result *r)
{
	r->ok = false;
	r->oa = r->page_size = 0;
	r->perm = 0;
	r->refs = r->updates = 0;
	r->leaf[0] = r->leaf[1] = 0;
	r->leaf_level[0] = r->leaf_level[1] = -1;
	r->fault.reason = PGT_FAULT_NONE;   /* fault() fills the rest when there is one */
}

#define PGT_ACC_ALL (PGT_ACC_WRITE | PGT_ACC_EXEC | PGT_ACC_USER)

static bool bad_access(unsigned access)
{
	return (access & ~PGT_ACC_ALL) ||
	       ((access & PGT_ACC_WRITE) && (access & PGT_ACC_EXEC));
}

/* One-stage walks; inline so that wc == NULL folds away in pgt_walk_view. */
static __attribute__((always_inline)) inline int
walk_view(const struct pgt_fmt *f, struct mem_view *v, uint64_t root, uint64_t ia,
	  unsigned access, struct pgt_result *r, const struct pgt_trace *trace,
	  const struct pgt_wcache *wc)
{
	struct wctx c = { .v = v, .trace = trace, .r = r, .wc = wc };
	struct purpose p = { 0 };
	struct xlate x = { 0 };
	uint8_t stage = (f->family == PGT_VTD_SS || f->family == PGT_LPAE_S2) ? 2 : 1;

	if (bad_access(access))
		return -EINVAL;
	result_init(r);
	seed_cache(&c);
	root &= ~(pgt_root_align(f) - 1);
	if (stage_walk_inline(&c, f, root, ia, access, stage, &p, &x, true, wc != NULL))
		return 0;
	r->ok = true;
	r->oa = x.oa;
	r->page_size = x.size;
	r->perm = x.perm;
	r->leaf[stage - 1] = x.leaf;
	r->leaf_level[stage - 1] = x.level;
	leaf_attrs(f, x.height, x.leaf, &r->attrs[stage - 1]);
	return 0;
}

int pgt_walk_view(const struct pgt_fmt *f, struct mem_view *v, uint64_t root, uint64_t ia,
		  unsigned access, struct pgt_result *r, const struct pgt_trace *trace)
{
	return walk_view(f, v, root, ia, access, r, trace, NULL);
}

int pgt_walk_wc(const struct pgt_fmt *f, struct mem_view *v, uint64_t root, uint64_t ia,
		unsigned access, struct pgt_result *r, const struct pgt_trace *trace,
		const struct pgt_wcache *wc)
{
	return walk_view(f, v, root, ia, access, r, trace, wc);
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
	return pgt_walk_nested_wc(s1, s1_root, s2, s2_root, v, ia, access, r, trace, NULL);
}

int pgt_walk_nested_wc(const struct pgt_fmt *s1, uint64_t s1_root, const struct pgt_fmt *s2,
		       uint64_t s2_root, struct mem_view *v, uint64_t ia, unsigned access,
		       struct pgt_result *r, const struct pgt_trace *trace,
		       const struct pgt_wcache *wc)
{
	struct wctx c = { .v = v, .trace = trace, .r = r, .s2 = s2, .s2_root = s2_root,
			  .wc = wc };
	struct purpose p = { 0 };
	struct xlate x1, x2;

	if (!pair_ok(s1, s2) || bad_access(access))
		return -EINVAL;
	result_init(r);
	seed_cache(&c);
	s1_root &= ~(pgt_root_align(s1) - 1);
	c.s2_root = s2_root & ~(pgt_root_align(s2) - 1);
	if (stage_walk(&c, s1, s1_root, ia, access, 1, &p, &x1))
		return 0;
	r->leaf[0] = x1.leaf;
	r->leaf_level[0] = x1.level;
	leaf_attrs(s1, x1.height, x1.leaf, &r->attrs[0]);
	/* The stage-1 output is a guest-physical address: stage 2 finishes the job. */
	if (stage_walk(&c, s2, s2_root, x1.oa, access & ~PGT_ACC_USER, 2, &p, &x2))
		return 0;
	r->ok = true;
	r->oa = x2.oa;
	r->page_size = x1.size < x2.size ? x1.size : x2.size;
	r->perm = x1.perm & x2.perm;
	r->leaf[1] = x2.leaf;
	r->leaf_level[1] = x2.level;
	leaf_attrs(s2, x2.height, x2.leaf, &r->attrs[1]);
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
