/* hw/smmuv3/regs.c — the SMMU's register file: MMIO decoding of page 0 and page 1,
 * the CR0/CR0ACK and IRQ_CTRL/IRQ_CTRLACK handshakes, CR1, CR2, GBPA, GERROR and
 * GERRORN, the MSI configuration registers, STRTAB_BASE(_CFG), and the base and
 * pointer registers of the three queues; interrupts (wired, through the
 * callback, and MSIs through mem/) and global errors for the other parts.
 *
 * Owns: every register field of struct smmu marked (L) except the pointers the
 * SMMU itself advances (CMDQ_CONS in cmdq.c, EVENTQ_PROD and PRIQ_PROD in
 * queue.c), and the (A) fields st_base, st_cfg, enabled and gbpa_now, which it
 * stores with atomics for the lock-free translation path.
 *
 * Callers: software through smmu_read/smmu_write (they take s->lock through
 * smmu_lock/smmu_unlock); queue.c, cmdq.c and xlate.c through the *_locked
 * helpers with the lock held. An interrupt is only marked in s->pending_irqs
 * here; smmu_unlock() calls the callback after releasing the mutex, so a
 * handler may access registers as an interrupt handler does.
 *
 * Facts: the SMMUv3 specification (IHI 0070, v3.2 rules), §6.2 (access sizes,
 * 64-bit registers as two halves), §6.3 (each register), §3.5 (queues), §3.18
 * (interrupts and MSIs), §7.5 (GERROR); docs/facts/smmuv3-structures.md §1.
 * Every Update completes within the write that starts it, so each ACK register
 * equals its control register as soon as the write returns. Where the spec
 * leaves a choice, a comment at the spot names the choice made.
 */
#include "hw/smmuv3/smmuv3_internal.h"

#include <errno.h>

/* Fields of a queue pointer register that exist: the index and wrap bit (19:0
 * at most) and, on the event and PRI queues, the overflow flag. */
#define Q_PTR_FIELD     GENMASK(19, 0)
/* Base registers: RA/WA, ADDR, LOG2SIZE (ADDR bits above OAS are RES0 and, as
 * the spec permits, not stored). */
#define Q_BASE_HINT     BIT(62)
/* MSI configuration (spec 6.3.21-23, 6.3.36). */
#ifndef IRQ_CFG0_ADDR
#define IRQ_CFG0_ADDR   GENMASK(51, 2)
#endif
#ifndef IRQ_CFG2_SH
#define IRQ_CFG2_SH     GENMASK(5, 4)
#endif
#ifndef IRQ_CFG2_MEMATTR
#define IRQ_CFG2_MEMATTR GENMASK(3, 0)
#endif
#ifndef PRIQ_CFG2_LO
#define PRIQ_CFG2_LO    BIT(31)
#endif
/* CR1 (spec 6.3.11): the TABLE_* fields guarded by SMMUEN, QUEUE_* by the queues. */
#ifndef CR1_TABLE
#define CR1_TABLE       GENMASK(11, 6)
#endif
#ifndef CR1_QUEUE
#define CR1_QUEUE       GENMASK(5, 0)
#endif
/* IDR0 bits the write masks depend on (spec 6.3.1) beyond smmuv3_regs.h. */
#ifndef IDR0_VMW
#define IDR0_VMW        BIT(17)
#endif
#ifndef IDR0_ATSRECERR
#define IDR0_ATSRECERR  BIT(23)
#endif
#ifndef CR2_REC_CFG_ATS
#define CR2_REC_CFG_ATS BIT(3)
#endif

static bool has(const struct smmu *s, uint32_t idr0_bit)
{
	return s->idr[0] & idr0_bit;
}

static uint64_t oas_mask(const struct smmu *s)
{
	return GENMASK(s->cfg.oas - 1, 0);
}

/* ---- interrupts and global errors (spec 3.18, 7.5) --------------------------------------- */

uint32_t smmu_gerror_active_locked(const struct smmu *s, uint32_t err)
{
	return (s->gerror ^ s->gerrorn) & err;
}

/* The GERROR bits this SMMU implements (the others are RES0 in both registers). */
static uint32_t gerror_mask(const struct smmu *s)
{
	uint32_t m = GERROR_CMDQ_ERR | GERROR_EVENTQ_ABT_ERR | GERROR_SFM_ERR;

	if (has(s, IDR0_PRI))
		m |= GERROR_PRIQ_ABT_ERR;
	if (has(s, IDR0_MSI))
		m |= GERROR_MSI_CMDQ_ABT | GERROR_MSI_EVENTQ_ABT | GERROR_MSI_GERROR_ABT;
	if (has(s, IDR0_MSI) && has(s, IDR0_PRI))
		m |= GERROR_MSI_PRIQ_ABT;
	return m;
}

int smmu_msi_write_locked(struct smmu *s, uint64_t addr, uint32_t data)
{
	struct mem_view v;
	uint32_t *p;
	int err = -EFAULT;

	addr &= IRQ_CFG0_ADDR & oas_mask(s);
	mem_view_begin(&v, s->mem);
	p = mem_view_ptr(&v, addr, 4, MEM_WRITE, &err);
	/* One 32-bit single-copy-atomic write (software polls the word); memory is
	 * little-endian, as mem/ assumes of the host. */
	if (p)
		__atomic_store_n(p, data, __ATOMIC_RELEASE);
	mem_view_end(&v);
	return p ? 0 : err;
}

void smmu_gerror_locked(struct smmu *s, uint32_t err)
{
	uint32_t toggle = err & gerror_mask(s) & ~(s->gerror ^ s->gerrorn);

	if (!toggle)
		return;
	s->gerror ^= toggle;
	/* Spec 7.5.1: every activation interrupts except MSI_GERROR_ABT_ERR (a
	 * second GERROR MSI to the same address would abort again). */
	if (toggle & ~(uint32_t)GERROR_MSI_GERROR_ABT)
		smmu_raise_locked(s, SMMU_IRQ_GERROR);
}

/*
 * Spec 3.18.2: an enabled source pulses its wired output (the callback) and, with
 * IDR0.MSI and a non-zero MSI address, writes its MSI; an MSI that aborts is
 * recorded in GERROR. IRQ_CTRLACK is the enable: an occurrence while a source is
 * disabled is never signalled later. CMD_SYNC and SEV have no enable.
 */
void smmu_raise_locked(struct smmu *s, enum smmu_irq irq)
{
	uint32_t en, data, abt;
	uint64_t cfg0;

	switch (irq) {
	case SMMU_IRQ_GERROR:
		en = IRQ_CTRL_GERROR_IRQEN;
		cfg0 = s->gerror_irq_cfg0;
		data = s->gerror_irq_cfg1;
		abt = GERROR_MSI_GERROR_ABT;
		break;
	case SMMU_IRQ_EVENTQ:
		en = IRQ_CTRL_EVENTQ_IRQEN;
		cfg0 = s->eventq_irq_cfg0;
		data = s->eventq_irq_cfg1;
		abt = GERROR_MSI_EVENTQ_ABT;
		break;
	case SMMU_IRQ_PRIQ:
		en = IRQ_CTRL_PRIQ_IRQEN;
		cfg0 = s->priq_irq_cfg0;
		data = s->priq_irq_cfg1;
		abt = GERROR_MSI_PRIQ_ABT;
		break;
	default:
		s->pending_irqs |= 1u << irq;
		return;
	}
	if (!(s->irq_ctrlack & en))
		return;
	s->pending_irqs |= 1u << irq;
	if (has(s, IDR0_MSI) && (cfg0 & IRQ_CFG0_ADDR) && smmu_msi_write_locked(s, cfg0, data))
		smmu_gerror_locked(s, abt);
}

/* ---- queue geometry (spec 3.5.1, 6.3.26) ------------------------------------------------- */

void smmu_qgeom(const struct smmu *s, uint64_t base, unsigned max_log2, struct smmu_qgeom *g)
{
	unsigned log2 = (unsigned)FIELD_GET(Q_BASE_LOG2SIZE, base);

	/* "Any use of the value of this field is capped at the maximum." */
	if (log2 > max_log2)
		log2 = max_log2;
	g->log2size = log2;
	g->idx_mask = (uint32_t)(BIT(log2) - 1);
	g->wrap = (uint32_t)BIT(log2);
	g->addr = base & Q_BASE_ADDR & oas_mask(s);
}

uint64_t smmu_qentry(const struct smmu_qgeom *g, unsigned entry_bytes, uint32_t ptr)
{
	uint64_t bytes = (uint64_t)entry_bytes << g->log2size;
	uint64_t align = bytes > 32 ? bytes : 32;

	return (g->addr & ~(align - 1)) + (uint64_t)(ptr & g->idx_mask) * entry_bytes;
}

uint32_t smmu_qused(const struct smmu_qgeom *g, uint32_t prod, uint32_t cons)
{
	uint32_t m = g->idx_mask | g->wrap;

	return ((prod & m) - (cons & m)) & m;
}

uint32_t smmu_qnext(const struct smmu_qgeom *g, uint32_t ptr)
{
	uint32_t m = g->idx_mask | g->wrap;

	return ((ptr & m) + 1) & m;
}

/* ---- CR0 (spec 6.3.9) -------------------------------------------------------------------- */

static uint32_t cr0_mask(const struct smmu *s)
{
	uint32_t m = CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN;

	if (has(s, IDR0_PRI))
		m |= CR0_PRIQEN;
	if (has(s, IDR0_ATS))
		m |= CR0_ATSCHK;
	if (has(s, IDR0_VMW))
		m |= CR0_VMW;
	return m;
}

/* The CR0ACK and CR2 bits the translation path reads (as (A) state). CR2 is
 * writable only while SMMUEN is 0, so it takes effect with the enable (6.3.12). */
static void xl_ctrl_update(struct smmu *s)
{
	atomic_store(&s->xl_ctrl, (s->cr2 & CR2_RECINVSID ? SMMU_XL_RECINVSID : 0) |
				  (s->cr0ack & CR0_ATSCHK ? SMMU_XL_ATSCHK : 0));
	xfront_bump(&s->xl_front);
}

static void write_cr0(struct smmu *s, uint32_t val)
{
	uint32_t old = s->cr0ack, cr0 = val & cr0_mask(s);
	uint32_t on = cr0 & ~old, off = old & ~cr0;

	s->cr0 = cr0;
	if (on & CR0_SMMUEN) {
		/* Choice: the caches are emptied on both transitions (the spec
		 * permits it and requires software to invalidate before enabling
		 * anyway), before translation starts. */
		smmu_inv_all(s);
		atomic_store(&s->enabled, true);
		xfront_bump(&s->xl_front);  /* remembered answers are void */
	}
	if (off & CR0_SMMUEN) {
		atomic_store(&s->enabled, false);
		xfront_bump(&s->xl_front);  /* remembered answers are void */
		/* 6.3.9.6: completion marks every stalled transaction for
		 * termination (their STAGs are free again). */
		smmu_stall_term_all_locked(s);
		/* After the enable went: a fill that raced with it carries an
		 * older generation and is dropped (hwcache.h). */
		smmu_inv_all(s);
	}
	if ((on | off) & CR0_CMDQEN)
		s->cmdq_epoch++;
	/* Every field's Update completes now: CR0ACK follows. A disabled
	 * command queue leaves CONS at the next unconsumed command (6.3.9.3). */
	s->cr0ack = cr0;
	xl_ctrl_update(s);
	if (on & CR0_EVENTQEN)
		smmu_stall_wake_locked(s);
	if (on & CR0_CMDQEN)
		smmu_cmdq_process_locked(s);    /* last: it may drop the lock */
}

/* ---- GBPA, IRQ_CTRL, GERRORN ------------------------------------------------------------- */

/* Spec 6.3.14.1: a write without Update = 1 is IGNORED (v3.2); with it the fields
 * apply and the Update completes at once, so Update always reads 0. Choice: the
 * override fields keep what was written although IDR1.ATTR_*_OVR = 0 makes them
 * "use incoming" (the spec lets them read as written or as zero). */
static void write_gbpa(struct smmu *s, uint32_t val)
{
	if (!(val & GBPA_UPDATE))
		return;
	s->gbpa = val & (uint32_t)GBPA_FIELDS;
	atomic_store(&s->gbpa_now, s->gbpa);
	xfront_bump(&s->xl_front);  /* remembered answers are void */
}

static uint32_t irq_ctrl_mask(const struct smmu *s)
{
	return (uint32_t)(IRQ_CTRL_GERROR_IRQEN | IRQ_CTRL_EVENTQ_IRQEN |
			  (has(s, IDR0_PRI) ? IRQ_CTRL_PRIQ_IRQEN : 0));
}

/*
 * Software acknowledges errors by making GERRORN equal GERROR. Choice (spec
 * 6.3.20 leaves it CONSTRAINED UNPREDICTABLE): a bit toggled for an error that
 * was not active is stored as written and the error then counts as active (no
 * interrupt: the SMMU did not activate it). Acknowledging CMDQ_ERR restarts the
 * command queue at CONS (spec 7.1: no PROD write is needed).
 */
static void write_gerrorn(struct smmu *s, uint32_t val)
{
	uint32_t was = smmu_gerror_active_locked(s, GERROR_CMDQ_ERR);

	s->gerrorn = val & gerror_mask(s);
	smmu_stall_wake_locked(s);              /* EVENTQ_ABT_ERR may be acknowledged */
	if (was && !smmu_gerror_active_locked(s, GERROR_CMDQ_ERR))
		smmu_cmdq_process_locked(s);    /* last: it may drop the lock */
}

/* ---- decoding ---------------------------------------------------------------------------- */

static bool smmuen(const struct smmu *s)
{
	return (s->cr0 | s->cr0ack) & CR0_SMMUEN;
}

static bool queue_on(const struct smmu *s, uint32_t en)
{
	return (s->cr0 | s->cr0ack) & en;
}

static bool irq_on(const struct smmu *s, uint32_t en)
{
	return (s->irq_ctrl | s->irq_ctrlack) & en;
}

/* The 64-bit registers of page 0 (readable and writable as one access or as two
 * 32-bit halves). The PRI queue's exist only with IDR0.PRI, the MSI
 * configuration only with IDR0.MSI (RAZ/WI otherwise). */
static bool is_reg64(const struct smmu *s, uint32_t off)
{
	switch (off) {
	case SMMU_STRTAB_BASE:
	case SMMU_CMDQ_BASE:
	case SMMU_EVENTQ_BASE:
		return true;
	case SMMU_PRIQ_BASE:
		return has(s, IDR0_PRI);
	case SMMU_GERROR_IRQ_CFG0:
	case SMMU_EVENTQ_IRQ_CFG0:
		return has(s, IDR0_MSI);
	case SMMU_PRIQ_IRQ_CFG0:
		return has(s, IDR0_MSI) && has(s, IDR0_PRI);
	}
	return false;
}

static uint64_t read64(const struct smmu *s, uint32_t off)
{
	switch (off) {
	case SMMU_STRTAB_BASE:
		return s->strtab_base;
	case SMMU_CMDQ_BASE:
		return s->cmdq.base;
	case SMMU_EVENTQ_BASE:
		return s->eventq.base;
	case SMMU_PRIQ_BASE:
		return s->priq.base;
	case SMMU_GERROR_IRQ_CFG0:
		return s->gerror_irq_cfg0;
	case SMMU_EVENTQ_IRQ_CFG0:
		return s->eventq_irq_cfg0;
	case SMMU_PRIQ_IRQ_CFG0:
		return s->priq_irq_cfg0;
	}
	return 0;
}

static uint64_t merge(uint64_t old, uint64_t val, uint64_t wmask)
{
	return (old & ~wmask) | (val & wmask);
}

static uint64_t qbase_fields(const struct smmu *s)
{
	return Q_BASE_HINT | (Q_BASE_ADDR & oas_mask(s)) | Q_BASE_LOG2SIZE;
}

/* A write of the bits in wmask (all 64, or one 32-bit half) of a 64-bit register.
 * Each guarded register ignores writes while its guard is set (the v3.2 rule). */
static void write64(struct smmu *s, uint32_t off, uint64_t val, uint64_t wmask)
{
	switch (off) {
	case SMMU_STRTAB_BASE:
		if (smmuen(s))
			return;
		s->strtab_base = merge(s->strtab_base, val, wmask) &
				 (STRTAB_BASE_RA | (STRTAB_BASE_ADDR & oas_mask(s)));
		atomic_store(&s->st_base, s->strtab_base);
		xfront_bump(&s->xl_front);  /* remembered answers are void */
		return;
	case SMMU_CMDQ_BASE:
		if (!queue_on(s, CR0_CMDQEN))
			s->cmdq.base = merge(s->cmdq.base, val, wmask) & qbase_fields(s);
		return;
	case SMMU_EVENTQ_BASE:
		if (!queue_on(s, CR0_EVENTQEN))
			s->eventq.base = merge(s->eventq.base, val, wmask) & qbase_fields(s);
		return;
	case SMMU_PRIQ_BASE:
		/* Guarded by the actual PRIQEN, not its effective value (6.3.9.5). */
		if (!queue_on(s, CR0_PRIQEN))
			s->priq.base = merge(s->priq.base, val, wmask) & qbase_fields(s);
		return;
	case SMMU_GERROR_IRQ_CFG0:
		if (!irq_on(s, IRQ_CTRL_GERROR_IRQEN))
			s->gerror_irq_cfg0 = merge(s->gerror_irq_cfg0, val, wmask) &
					     IRQ_CFG0_ADDR & oas_mask(s);
		return;
	case SMMU_EVENTQ_IRQ_CFG0:
		if (!irq_on(s, IRQ_CTRL_EVENTQ_IRQEN))
			s->eventq_irq_cfg0 = merge(s->eventq_irq_cfg0, val, wmask) &
					     IRQ_CFG0_ADDR & oas_mask(s);
		return;
	case SMMU_PRIQ_IRQ_CFG0:
		if (!irq_on(s, IRQ_CTRL_PRIQ_IRQEN))
			s->priq_irq_cfg0 = merge(s->priq_irq_cfg0, val, wmask) &
					   IRQ_CFG0_ADDR & oas_mask(s);
		return;
	}
}

static uint32_t read32(const struct smmu *s, uint32_t off)
{
	switch (off) {
	case SMMU_IDR0:
	case SMMU_IDR1:
	case SMMU_IDR2:
	case SMMU_IDR3:
	case SMMU_IDR4:
	case SMMU_IDR5:
		return s->idr[off / 4];
	case SMMU_IIDR:
		return s->iidr;
	case SMMU_AIDR:
		return s->aidr;
	case SMMU_CR0:
		return s->cr0;
	case SMMU_CR0ACK:
		return s->cr0ack;
	case SMMU_CR1:
		return s->cr1;
	case SMMU_CR2:
		return s->cr2;
	case SMMU_STATUSR:
		return 0;               /* DORMANT exists only with IDR0.DORMHINT */
	case SMMU_GBPA:
		return s->gbpa;         /* Update is always complete: reads 0 */
	case SMMU_IRQ_CTRL:
		return s->irq_ctrl;
	case SMMU_IRQ_CTRLACK:
		return s->irq_ctrlack;
	case SMMU_GERROR:
		return s->gerror;
	case SMMU_GERRORN:
		return s->gerrorn;
	case SMMU_GERROR_IRQ_CFG1:
		return has(s, IDR0_MSI) ? s->gerror_irq_cfg1 : 0;
	case SMMU_GERROR_IRQ_CFG2:
		return s->gerror_irq_cfg2;
	case SMMU_STRTAB_BASE_CFG:
		return s->strtab_base_cfg;
	case SMMU_CMDQ_PROD:
		return s->cmdq.prod;
	case SMMU_CMDQ_CONS:
		return s->cmdq.cons;
	case SMMU_EVENTQ_IRQ_CFG1:
		return has(s, IDR0_MSI) ? s->eventq_irq_cfg1 : 0;
	case SMMU_EVENTQ_IRQ_CFG2:
		return s->eventq_irq_cfg2;
	case SMMU_PRIQ_IRQ_CFG1:
		return has(s, IDR0_MSI) && has(s, IDR0_PRI) ? s->priq_irq_cfg1 : 0;
	case SMMU_PRIQ_IRQ_CFG2:
		return has(s, IDR0_PRI) ? s->priq_irq_cfg2 : 0;
	case SMMU_EVENTQ_PROD:
		return s->eventq.prod;
	case SMMU_EVENTQ_CONS:
		return s->eventq.cons;
	case SMMU_PRIQ_PROD:
		return has(s, IDR0_PRI) ? s->priq.prod : 0;
	case SMMU_PRIQ_CONS:
		return has(s, IDR0_PRI) ? s->priq.cons : 0;
	}
	/* AGBPA (no IMPLEMENTATION DEFINED attributes: RES0), the optional page-0
	 * aliases of the page-1 pointers (RAZ/WI, as permitted), everything else. */
	return 0;
}

/* An SMMU-owned pointer as software may set it while its queue is disabled:
 * index and wrap of the current size (the bits above are RAZ), and OVFLG. */
static uint32_t own_ptr(const struct smmu *s, uint64_t base, unsigned max_log2, uint32_t val,
			uint32_t extra)
{
	struct smmu_qgeom g;

	smmu_qgeom(s, base, max_log2, &g);
	return val & ((g.idx_mask | g.wrap) | extra);
}

static void write32(struct smmu *s, uint32_t off, uint32_t val)
{
	uint32_t m;

	switch (off) {
	case SMMU_CR0:
		write_cr0(s, val);
		return;
	case SMMU_CR1:
		/* TABLE_* are RO while SMMUEN, QUEUE_* while any queue is enabled
		 * (the v3.2 rule: such writes are IGNORED). */
		m = 0;
		if (!smmuen(s))
			m |= CR1_TABLE;
		if (!queue_on(s, CR0_CMDQEN | CR0_EVENTQEN | CR0_PRIQEN))
			m |= CR1_QUEUE;
		s->cr1 = (uint32_t)merge(s->cr1, val, m);
		return;
	case SMMU_CR2:
		/* RW only while SMMUEN is 0; E2H needs Hyp, PTM needs BTM,
		 * REC_CFG_ATS needs ATSRECERR (RES0 otherwise). */
		if (smmuen(s))
			return;
		m = CR2_RECINVSID;
		if (has(s, IDR0_HYP))
			m |= CR2_E2H;
		if (has(s, IDR0_BTM))
			m |= CR2_PTM;
		if (has(s, IDR0_ATSRECERR))
			m |= CR2_REC_CFG_ATS;
		s->cr2 = val & m;
		xl_ctrl_update(s);
		return;
	case SMMU_GBPA:
		write_gbpa(s, val);
		return;
	case SMMU_IRQ_CTRL:
		s->irq_ctrl = val & irq_ctrl_mask(s);
		s->irq_ctrlack = s->irq_ctrl;   /* Update completes at once */
		return;
	case SMMU_GERRORN:
		write_gerrorn(s, val);
		return;
	case SMMU_GERROR_IRQ_CFG1:
		if (has(s, IDR0_MSI) && !irq_on(s, IRQ_CTRL_GERROR_IRQEN))
			s->gerror_irq_cfg1 = val;
		return;
	case SMMU_GERROR_IRQ_CFG2:
		if (has(s, IDR0_MSI) && !irq_on(s, IRQ_CTRL_GERROR_IRQEN))
			s->gerror_irq_cfg2 = val & (uint32_t)(IRQ_CFG2_SH | IRQ_CFG2_MEMATTR);
		return;
	case SMMU_STRTAB_BASE_CFG:
		if (smmuen(s))
			return;
		/* FMT and SPLIT exist only with IDR0.ST_LEVEL != 0. */
		m = (uint32_t)STRTAB_CFG_LOG2SIZE;
		if (FIELD_GET(IDR0_ST_LEVEL, s->idr[0]))
			m |= (uint32_t)(STRTAB_CFG_SPLIT | STRTAB_CFG_FMT);
		s->strtab_base_cfg = val & m;
		atomic_store(&s->st_cfg, s->strtab_base_cfg);
		xfront_bump(&s->xl_front);  /* remembered answers are void */
		return;
	case SMMU_CMDQ_PROD:
		/* Bits above the wrap flag "might be stored but have no other
		 * effect": kept for readback, ignored by the queue. */
		s->cmdq.prod = val & (uint32_t)Q_PTR_FIELD;
		smmu_cmdq_process_locked(s);    /* last: it may drop the lock */
		return;
	case SMMU_CMDQ_CONS:
		/* Guarded by CMDQEN. Choice: ERR keeps the SMMU's value (the spec
		 * lets a write while disabled take the written ERR or ignore it). */
		if (queue_on(s, CR0_CMDQEN))
			return;
		s->cmdq.cons = (s->cmdq.cons & (uint32_t)CMDQ_CONS_ERR) |
			       own_ptr(s, s->cmdq.base, s->cfg.cmdqs, val, 0);
		return;
	case SMMU_EVENTQ_IRQ_CFG1:
		if (has(s, IDR0_MSI) && !irq_on(s, IRQ_CTRL_EVENTQ_IRQEN))
			s->eventq_irq_cfg1 = val;
		return;
	case SMMU_EVENTQ_IRQ_CFG2:
		if (has(s, IDR0_MSI) && !irq_on(s, IRQ_CTRL_EVENTQ_IRQEN))
			s->eventq_irq_cfg2 = val & (uint32_t)(IRQ_CFG2_SH | IRQ_CFG2_MEMATTR);
		return;
	case SMMU_PRIQ_IRQ_CFG1:
		if (has(s, IDR0_MSI) && has(s, IDR0_PRI) && !irq_on(s, IRQ_CTRL_PRIQ_IRQEN))
			s->priq_irq_cfg1 = val;
		return;
	case SMMU_PRIQ_IRQ_CFG2:
		/* LO exists whether or not MSIs do; SH and MemAttr only with MSIs. */
		if (!has(s, IDR0_PRI) || irq_on(s, IRQ_CTRL_PRIQ_IRQEN))
			return;
		m = (uint32_t)PRIQ_CFG2_LO;
		if (has(s, IDR0_MSI))
			m |= (uint32_t)(IRQ_CFG2_SH | IRQ_CFG2_MEMATTR);
		s->priq_irq_cfg2 = val & m;
		return;
	case SMMU_EVENTQ_PROD:
		if (!queue_on(s, CR0_EVENTQEN))
			s->eventq.prod = own_ptr(s, s->eventq.base, s->cfg.eventqs, val,
						 (uint32_t)Q_OVF);
		return;
	case SMMU_EVENTQ_CONS:
		/* RW at any time; the bits above the wrap flag are kept (RES0,
		 * "might be stored"). OVACKFLG acknowledges an overflow. */
		s->eventq.cons = val & (uint32_t)(Q_OVF | Q_PTR_FIELD);
		smmu_stall_wake_locked(s);      /* room for a queued stall record */
		return;
	case SMMU_PRIQ_PROD:
		if (has(s, IDR0_PRI) && !queue_on(s, CR0_PRIQEN))
			s->priq.prod = own_ptr(s, s->priq.base, s->cfg.priqs, val, (uint32_t)Q_OVF);
		return;
	case SMMU_PRIQ_CONS:
		if (has(s, IDR0_PRI))
			s->priq.cons = val & (uint32_t)(Q_OVF | Q_PTR_FIELD);
		return;
	}
	/* ID registers, CR0ACK, STATUSR, IRQ_CTRLACK and GERROR are read-only;
	 * AGBPA, the page-0 aliases and unknown offsets ignore writes. */
}

/* Sizes 4 and 8 at offsets aligned to them, inside the two pages. Anything else
 * is an illegal access: RAZ/WI, one of the spec's permitted behaviours (6.2). */
static bool access_ok(uint32_t off, unsigned size)
{
	return (size == 4 || size == 8) && !(off & (size - 1)) && off <= SMMU_REG_SIZE - size;
}

uint64_t smmu_read(struct smmu *s, uint32_t off, unsigned size)
{
	uint32_t base = off & ~7u;
	uint64_t val = 0;

	if (!access_ok(off, size))
		return 0;
	smmu_lock(s);
	if (is_reg64(s, base)) {
		val = read64(s, base);
		if (size == 4)
			val = (val >> (8 * (off & 4))) & 0xffffffffu;
	} else if (size == 4) {
		val = read32(s, off);
	}
	/* An 8-byte access to two 32-bit registers, or to no register, is RAZ/WI
	 * (one of the CONSTRAINED UNPREDICTABLE behaviours of 6.2). */
	smmu_unlock(s);
	return val;
}

void smmu_write(struct smmu *s, uint32_t off, unsigned size, uint64_t val)
{
	uint32_t base = off & ~7u;

	if (!access_ok(off, size))
		return;
	smmu_lock(s);
	if (is_reg64(s, base)) {
		unsigned shift = 8 * (off & 4);
		uint64_t half = UINT64_C(0xffffffff) << shift;

		/* A 32-bit write changes its half; the other half keeps its value. */
		if (size == 8)
			write64(s, base, val, ~UINT64_C(0));
		else
			write64(s, base, (val << shift) & half, half);
	} else if (size == 4) {
		write32(s, off, (uint32_t)val);
	}
	smmu_unlock(s);
}
