/* hw/vtd/regs.c — the unit's register file: MMIO decoding, the GCMD/GSTS state
 * machine, fault status and primary fault recording, the event-control registers
 * (FECTL, IECTL, PECTL) and virtual commands.
 *
 * Owns: every register field of struct vtd marked (L) except the queue pointers
 * that qi.c and prq.c advance, the translation state latched by SRTP and TE (rta,
 * ttm, te: stored here with atomics, read lock-free by xlate.c), the fault
 * recording registers and the VCMD PASID bitmap.
 *
 * Locking: vtd_read, vtd_write and vtd_record_fault take v->lock; the *_locked
 * helpers expect it held. An event is only marked in v->pending_events here;
 * vtd_unlock() calls the callback after releasing the mutex, so a handler may
 * read and write registers as an interrupt handler does.
 *
 * Facts: docs/facts/vtd-structures.md §1 (registers), §1.9 (the event rule),
 * §1.10-1.11 (fault recording), §1.14 (VCMD), §6 (qualified faults). Where the
 * sources leave a choice, a comment at the spot names the choice made.
 */
#include "hw/vtd/vtd_internal.h"

/* FSTS fields whose being set is a pending fault status (PPF included). */
#define FSTS_STATUS   (FSTS_RW1C | FSTS_PPF)
/* FSTS fields whose setting is a fault-event condition; PFO and AFO are not. */
#define FSTS_EVENTS   (FSTS_APF | FSTS_IQE | FSTS_ICE | FSTS_ITE)

#define GCMD_PERSISTENT (GCMD_TE | GCMD_EAFL | GCMD_QIE | GCMD_IRE | GCMD_CFI)

/* VCRSP.SC for a command other than allocate/free: rev 3.0 used 1 ("undefined
 * command") beside 2 for the PASID errors; the 3.3 value is not in the facts. */
#define VCRSP_SC_UNDEFINED 1

/* ---- events (§1.9) ------------------------------------------------------------------- */

static uint32_t *event_ctl(struct vtd *v, enum vtd_event ev)
{
	switch (ev) {
	case VTD_EVENT_FAULT:
		return &v->fectl;
	case VTD_EVENT_INV_WAIT:
		return &v->iectl;
	default:
		return &v->pectl;
	}
}

static void send_event(struct vtd *v, enum vtd_event ev)
{
	v->pending_events |= 1u << ev;
}

void vtd_raise_locked(struct vtd *v, enum vtd_event ev)
{
	uint32_t *ctl = event_ctl(v, ev);

	if (*ctl & XECTL_IM) {
		*ctl |= XECTL_IP;               /* held until unmasked or serviced */
		return;
	}
	*ctl &= ~XECTL_IP;                      /* the message is sent at once */
	send_event(v, ev);
}

/* IM is the control register's only writable bit; clearing it sends a held event. */
static void write_ectl(struct vtd *v, enum vtd_event ev, uint32_t val)
{
	uint32_t *ctl = event_ctl(v, ev);

	*ctl = (*ctl & XECTL_IP) | (val & XECTL_IM);
	if (!(*ctl & XECTL_IM) && (*ctl & XECTL_IP)) {
		*ctl &= ~XECTL_IP;
		send_event(v, ev);
	}
}

/* ---- fault status ---------------------------------------------------------------------- */

static void update_ppf(struct vtd *v)
{
	v->fsts &= ~FSTS_PPF;
	for (unsigned i = 0; i < v->cfg.nfr; i++) {
		if (v->frcd[2 * i + 1] & FRCD_HI_F) {
			v->fsts |= FSTS_PPF;
			return;
		}
	}
}

/* FECTL.IP clears once software has serviced every pending status: all F bits
 * (PPF = 0), PFO, AFO, APF, IQE, ICE and ITE. The facts (EDC wording, QEMU) read
 * "all pending status fields" so; VBOX-C clears IP on any single change. */
static void fault_status_serviced(struct vtd *v)
{
	if (!(v->fsts & FSTS_STATUS))
		v->fectl &= ~XECTL_IP;
}

void vtd_fsts_set_locked(struct vtd *v, uint32_t bits)
{
	bool was_pending = v->fsts & FSTS_STATUS;

	bits &= FSTS_RW1C;
	v->fsts |= bits;
	/* A condition is new only if no status field at all was already set. */
	if (!was_pending && (bits & FSTS_EVENTS))
		vtd_raise_locked(v, VTD_EVENT_FAULT);
}

static void write_fsts(struct vtd *v, uint32_t val)
{
	uint32_t clear = val & FSTS_RW1C & v->fsts;

	/* Bit 7 (a 2.x "PRO" that Linux still writes) is reserved in 3.x: ignored. */
	v->fsts &= ~clear;
	/* IQERCD keeps its IQEI: it is defined only while IQE is set. */
	fault_status_serviced(v);
	/* Clearing IQE or ITE lets the queue resume at IQH (Linux qi_check_fault). */
	if (clear & (FSTS_IQE | FSTS_ITE))
		vtd_qi_process_locked(v);
}

/* ---- primary fault recording (§1.10, §1.11, §6) ------------------------------------- */

bool vtd_fault_qualified(uint8_t reason)
{
	if (reason >= 0x70)                     /* every first/second-stage paging fault */
		return true;
	if ((reason >= 0x41 && reason <= 0x48) || reason == 0x51 || reason == 0x52 ||
	    (reason >= 0x59 && reason <= 0x5d))
		return true;
	/* Legacy-mode reasons QEMU's table marks qualified; this unit never raises
	 * them in scalable mode, but the classification is the spec's. */
	return (reason >= 0x02 && reason <= 0x07) || (reason >= 0x0b && reason <= 0x0e);
}

void vtd_record_fault(struct vtd *v, const struct vtd_fault *f)
{
	uint64_t *rec;
	unsigned slot;
	bool was_pending, had_ppf;

	atomic_fetch_add(&v->faults[f->reason], 1);
	if (f->fpd && vtd_fault_qualified(f->reason)) {
		atomic_fetch_add(&v->faults_suppressed, 1);
		return;
	}
	vtd_lock(v);
	if (v->fsts & FSTS_PFO) {
		/* While PFO is set no primary fault is recorded (EDC). */
		atomic_fetch_add(&v->faults_overflow, 1);
		goto out;
	}
	slot = v->fr_next;
	rec = &v->frcd[2 * slot];
	if (rec[1] & FRCD_HI_F) {
		/* The next slot of the circular index is still pending: overflow.
		 * PFO is not a fault-event condition, so nothing is raised. */
		v->fsts |= FSTS_PFO;
		atomic_fetch_add(&v->faults_overflow, 1);
		goto out;
	}
	was_pending = v->fsts & FSTS_STATUS;
	had_ppf = v->fsts & FSTS_PPF;
	/* FI holds the request's page address; bits at and above MGAW are 0 (EDC). */
	rec[0] = f->addr & GENMASK(v->cfg.haw - 1, 12);
	/* Request type (T2, T1): write 00, read 01, page request 10. PV is given
	 * only with PP: a request without PASID carries none (OVMM's reading). F is
	 * set with the other fields; every reader holds the lock, so none sees a
	 * half-written record. */
	rec[1] = FIELD_PREP(FRCD_HI_SID, f->sid) |
		 (f->page_request ? FRCD_HI_T2 : 0) |
		 (!f->page_request && !f->write ? FRCD_HI_T1 : 0) |
		 (f->priv ? FRCD_HI_PRIV : 0) |
		 (f->exec ? FRCD_HI_EXE : 0) |
		 (f->pasid_present ? FRCD_HI_PP | FIELD_PREP(FRCD_HI_PV, f->pasid) : 0) |
		 FIELD_PREP(FRCD_HI_FR, f->reason) |
		 FIELD_PREP(FRCD_HI_AT, f->at) |
		 FRCD_HI_F;
	v->fr_next = (slot + 1) % v->cfg.nfr;
	v->fsts |= FSTS_PPF;
	atomic_fetch_add(&v->faults_recorded, 1);
	if (!had_ppf) {
		/* PPF 0 -> 1: FRI names the first pending record; the event follows
		 * only if no other status was pending. */
		v->fsts = (v->fsts & ~(uint32_t)FSTS_FRI) | (uint32_t)FIELD_PREP(FSTS_FRI, slot);
		if (!was_pending)
			vtd_raise_locked(v, VTD_EVENT_FAULT);
	}
out:
	vtd_unlock(v);
}

static void write_frcd_hi(struct vtd *v, unsigned idx, uint64_t val)
{
	uint64_t *hi = &v->frcd[2 * idx + 1];

	/* F is the only writable bit (RW1C); the record's fields stay readable. */
	if ((val & FRCD_HI_F) && (*hi & FRCD_HI_F)) {
		*hi &= ~FRCD_HI_F;
		update_ppf(v);
		fault_status_serviced(v);
	}
}

/* ---- GCMD / GSTS (§1.5) ---------------------------------------------------------------- */

static void set_root_table_pointer(struct vtd *v)
{
	/* Latch address and TTM. An invalid TTM (10, 11 without ADMS, 01 without
	 * SMTS) is latched as written: translation faults with 0x30 and the queue
	 * reports IQEI 7 for it. */
	atomic_store(&v->ttm, (unsigned)FIELD_GET(RTADDR_TTM, v->rtaddr));
	atomic_store(&v->rta, v->rtaddr & RTADDR_RTA);
	xfront_bump(&v->xl_front);  /* remembered answers are void */
	v->gsts |= GSTS_RTPS;                   /* cleared on the command, set on completion */
	/* CAP.ESRTPS: SRTP itself invalidates every DMA-remapping cache. */
	vtd_inv_all(v);
}

static void write_gcmd(struct vtd *v, uint32_t val)
{
	uint32_t on = val & ~v->gsts & GCMD_PERSISTENT;
	uint32_t off = ~val & v->gsts & GCMD_PERSISTENT;
	bool start_queue = false;

	/* One-shot commands act whenever written as 1 (software masks them out of
	 * its GSTS copy with 0x96FFFFFF); each completes before the write returns. */
	if (val & GCMD_SRTP)
		set_root_table_pointer(v);
	if (val & GCMD_SFL)
		v->gsts |= GSTS_FLS;            /* no advanced fault log (CAP.AFL = 0) */
	if (val & GCMD_WBF)
		v->gsts &= ~GSTS_WBFS;          /* the flush is done at once: WBFS reads 0 */
	if (val & GCMD_SIRTP)
		v->gsts |= GSTS_IRTPS;          /* no interrupt remapping: nothing to latch */

	/* Persistent commands act where the written value differs from GSTS. */
	if (on & GCMD_TE) {
		/* Translation needs a root table pointer: refused otherwise (OVMM). */
		if (v->gsts & GSTS_RTPS) {
			v->gsts |= GSTS_TES;
			atomic_store(&v->te, true);
			xfront_bump(&v->xl_front);
		}
	}
	if (off & GCMD_TE) {
		v->gsts &= ~GSTS_TES;
		atomic_store(&v->te, false);
		xfront_bump(&v->xl_front);
		/* On an SMTS unit, disabling translation invalidates every
		 * DMA-remapping cache (EDC, Core Ultra 200V). */
		vtd_inv_all(v);
	}
	if (on & GCMD_QIE) {
		/* IQH restarts at 0; IQT is taken as software left it (QEMU tolerates
		 * IQT != 0 at enable). */
		v->iqh = 0;
		v->gsts |= GSTS_QIES;
		v->qi_epoch++;
		start_queue = true;
	}
	if (off & GCMD_QIE) {
		/* Disabling resets IQH (EDC, VBOX-C, QEMU). No refusal while TE is on
		 * or the queue is busy: those are OVMM's and QEMU's own policies. */
		v->iqh = 0;
		v->gsts &= ~GSTS_QIES;
		v->qi_epoch++;
	}
	/* Accepted as plain status bits: this unit has no advanced fault logging,
	 * no interrupt remapping and hence nothing for CFI to act on. */
	v->gsts = (v->gsts & ~(uint32_t)(GCMD_EAFL | GCMD_IRE | GCMD_CFI)) |
		  (val & (GCMD_EAFL | GCMD_IRE | GCMD_CFI));
	if (start_queue)
		vtd_qi_process_locked(v);       /* last: it may drop the lock */
}

/* ---- virtual commands (§1.14, 3.3 layout) --------------------------------------------- */

static uint64_t vcmd_alloc(struct vtd *v)
{
	uint64_t limit = v->cfg.pasid_bits ? BIT(v->cfg.pasid_bits) : 0;
	uint64_t free_bits, pasid;

	/* The lowest free PASID from 1 (0 is RID_PASID by Linux's convention and
	 * never handed out). */
	for (uint64_t w = 0; w * 64 < limit; w++) {
		free_bits = ~v->vcmd_pasids[w] & (w == 0 ? ~BIT(0) : ~UINT64_C(0));
		if (!free_bits)
			continue;
		pasid = w * 64 + (uint64_t)__builtin_ctzll(free_bits);
		if (pasid >= limit)
			break;
		v->vcmd_pasids[w] |= BIT(pasid % 64);
		return FIELD_PREP(VCRSP_RESULT, pasid) | FIELD_PREP(VCRSP_SC, VCRSP_SC_OK);
	}
	return FIELD_PREP(VCRSP_SC, VCRSP_SC_NOPASID);
}

static uint64_t vcmd_free(struct vtd *v, uint64_t pasid)
{
	uint64_t limit = v->cfg.pasid_bits ? BIT(v->cfg.pasid_bits) : 0;

	if (pasid == 0 || pasid >= limit || !(v->vcmd_pasids[pasid / 64] & BIT(pasid % 64)))
		return FIELD_PREP(VCRSP_SC, VCRSP_SC_NOPASID);
	v->vcmd_pasids[pasid / 64] &= ~BIT(pasid % 64);
	return FIELD_PREP(VCRSP_SC, VCRSP_SC_OK);
}

/* The command completes within the write, so VCRSP.IP always reads 0. */
static void vcmd_execute(struct vtd *v)
{
	switch (FIELD_GET(VCMD_CMD, v->vcmd)) {
	case VCMD_ALLOC:
		v->vcrsp = vcmd_alloc(v);
		break;
	case VCMD_FREE:
		/* The whole operand is the PASID: stray high bits make it invalid. */
		v->vcrsp = vcmd_free(v, FIELD_GET(VCMD_OPERAND, v->vcmd));
		break;
	default:
		v->vcrsp = FIELD_PREP(VCRSP_SC, VCRSP_SC_UNDEFINED);
		break;
	}
}

/* ---- decoding ---------------------------------------------------------------------------- */

/* The fault recording register that holds offset off, if any. */
static bool frcd_index(const struct vtd *v, uint32_t off, unsigned *idx)
{
	if (off < VTD_FRCD_BASE || (off - VTD_FRCD_BASE) / 16 >= v->cfg.nfr)
		return false;
	*idx = (off - VTD_FRCD_BASE) / 16;
	return true;
}

static bool vcmd_present(const struct vtd *v)
{
	return v->ecap & ECAP_VCS;
}

/* 64-bit registers (off 8-aligned): readable as one access or two 32-bit halves.
 * The architectural offsets are decoded before the fault recording registers,
 * which CAP.FRO/NFR place from VTD_FRCD_BASE on. */
static bool is_reg64(const struct vtd *v, uint32_t off)
{
	unsigned idx;

	switch (off) {
	case VTD_CAP: case VTD_ECAP: case VTD_RTADDR: case VTD_CCMD:
	case VTD_IQH: case VTD_IQT: case VTD_IQA: case VTD_IQERCD:
	case VTD_PQH: case VTD_PQT: case VTD_PQA:
		return true;
	case VTD_VCCAP: case VTD_VCMD: case VTD_VCRSP:
		return vcmd_present(v);
	}
	return frcd_index(v, off, &idx);
}

static uint64_t read64(struct vtd *v, uint32_t off)
{
	unsigned idx;

	switch (off) {
	case VTD_CAP:
		return v->cap;
	case VTD_ECAP:
		return v->ecap;
	case VTD_RTADDR:
		return v->rtaddr;
	case VTD_CCMD:
		return 0;               /* no register-based invalidation (VER major 6) */
	case VTD_IQH:
		return v->iqh;
	case VTD_IQT:
		return v->iqt;
	case VTD_IQA:
		return v->iqa;
	case VTD_IQERCD:
		return v->iqercd;
	case VTD_PQH:
		return v->pqh;
	case VTD_PQT:
		return v->pqt;
	case VTD_PQA:
		return v->pqa;
	case VTD_VCCAP:
		return v->cfg.pasid_bits ? VCCAP_PAS : 0;
	case VTD_VCMD:
		return v->vcmd;
	case VTD_VCRSP:
		return v->vcrsp;
	}
	if (frcd_index(v, off, &idx))
		return v->frcd[2 * idx + (off - VTD_FRCD_BASE) % 16 / 8];
	return 0;
}

static uint64_t merge(uint64_t old, uint64_t val, uint64_t wmask)
{
	return (old & ~wmask) | (val & wmask);
}

/* A write of the bits in wmask (all 64, or one 32-bit half) of a 64-bit register. */
static void write64(struct vtd *v, uint32_t off, uint64_t val, uint64_t wmask)
{
	unsigned idx;

	switch (off) {
	case VTD_RTADDR:
		/* Takes effect only at the next SRTP (OVMM); bits 9:0 reserved. */
		v->rtaddr = merge(v->rtaddr, val, wmask) & (RTADDR_TTM | RTADDR_RTA);
		return;
	case VTD_CCMD:
		/* Register-based invalidation does not exist on VER major >= 6 (rev 3.3
		 * §6.5): in scalable mode software invalidates through the queue only. */
		return;
	case VTD_IQT:
		/* Kept as written (bits 3:0 reserved); a bad tail is found, and
		 * reported, when the queue looks at it. */
		v->iqt = merge(v->iqt, val, wmask) & GENMASK(63, 4);
		vtd_qi_process_locked(v);
		return;
	case VTD_IQA:
		/* Ignored while QI is enabled (OVMM; the spec text is not in the facts). */
		if (v->gsts & GSTS_QIES)
			return;
		v->iqa = merge(v->iqa, val, wmask) & (IQA_QS | IQA_DW | IQA_IQA);
		return;
	case VTD_PQH:
		v->pqh = merge(v->pqh, val, wmask) & PQ_PTR;
		return;
	case VTD_PQT:
		return;                 /* the producer is the hardware in this model */
	case VTD_PQA:
		/* A new queue starts empty at offset 0. Software resets PQT itself on
		 * hardware where PQT is writable (Linux writes PQH = PQT = 0 around
		 * PQA); with PQT read-only here, writing PQA does that reset. */
		v->pqa = merge(v->pqa, val, wmask) & (PQA_PQS | PQA_PQA);
		v->pqt = 0;
		return;
	case VTD_VCMD:
		if (!vcmd_present(v))
			return;
		v->vcmd = merge(v->vcmd, val, wmask);
		/* The command byte is in the low half: writing it runs the command
		 * (software writing halves puts the operand first). */
		if (wmask & VCMD_CMD)
			vcmd_execute(v);
		return;
	}
	if (frcd_index(v, off, &idx) && (off - VTD_FRCD_BASE) % 16 == 8)
		write_frcd_hi(v, idx, val & wmask);
	/* Everything else (CAP, ECAP, IQH, IQERCD, VCCAP, VCRSP, FRCD low) is
	 * read-only. */
}

static bool is_reg32(uint32_t off)
{
	switch (off) {
	case VTD_VER: case VTD_GCMD: case VTD_GSTS: case VTD_FSTS:
	case VTD_FECTL: case VTD_FEDATA: case VTD_FEADDR: case VTD_FEUADDR:
	case VTD_ICS: case VTD_IECTL: case VTD_IEDATA: case VTD_IEADDR: case VTD_IEUADDR:
	case VTD_PRS: case VTD_PECTL: case VTD_PEDATA: case VTD_PEADDR: case VTD_PEUADDR:
		return true;
	}
	return false;
}

static uint32_t read32(struct vtd *v, uint32_t off)
{
	switch (off) {
	case VTD_VER:
		return v->ver;
	case VTD_GCMD:
		return 0;               /* write-only */
	case VTD_GSTS:
		return v->gsts;
	case VTD_FSTS:
		return v->fsts;
	case VTD_FECTL:
		return v->fectl;
	case VTD_FEDATA:
		return v->fedata;
	case VTD_FEADDR:
		return v->feaddr;
	case VTD_FEUADDR:
		return v->feuaddr;
	case VTD_ICS:
		return v->ics;
	case VTD_IECTL:
		return v->iectl;
	case VTD_IEDATA:
		return v->iedata;
	case VTD_IEADDR:
		return v->ieaddr;
	case VTD_IEUADDR:
		return v->ieuaddr;
	case VTD_PRS:
		return v->prs;
	case VTD_PECTL:
		return v->pectl;
	case VTD_PEDATA:
		return v->pedata;
	case VTD_PEADDR:
		return v->peaddr;
	case VTD_PEUADDR:
		return v->peuaddr;
	}
	return 0;
}

/* Message data: bits 15:0 (31:16 were EIMD in old revisions, reserved since). */
#define XEDATA_MASK   0xffffu
/* Message address: bits 31:2 (1:0 reserved). */
#define XEADDR_MASK   0xfffffffcu

static void write32(struct vtd *v, uint32_t off, uint32_t val)
{
	switch (off) {
	case VTD_GCMD:
		write_gcmd(v, val);
		break;
	case VTD_FSTS:
		write_fsts(v, val);
		break;
	case VTD_FECTL:
		write_ectl(v, VTD_EVENT_FAULT, val);
		break;
	case VTD_FEDATA:
		v->fedata = val & XEDATA_MASK;
		break;
	case VTD_FEADDR:
		v->feaddr = val & XEADDR_MASK;
		break;
	case VTD_FEUADDR:
		v->feuaddr = val;
		break;
	case VTD_ICS:
		/* IWC is RW1C; clearing it services (cancels) a held wait event. */
		if (val & v->ics & ICS_IWC) {
			v->ics &= ~(uint32_t)ICS_IWC;
			v->iectl &= ~XECTL_IP;
		}
		break;
	case VTD_IECTL:
		write_ectl(v, VTD_EVENT_INV_WAIT, val);
		break;
	case VTD_IEDATA:
		v->iedata = val & XEDATA_MASK;
		break;
	case VTD_IEADDR:
		v->ieaddr = val & XEADDR_MASK;
		break;
	case VTD_IEUADDR:
		v->ieuaddr = val;
		break;
	case VTD_PRS:
		/* PPR and PRO are RW1C; with both clear a held event is serviced. */
		v->prs &= ~(val & (uint32_t)(PRS_PPR | PRS_PRO));
		if (!(v->prs & (PRS_PPR | PRS_PRO)))
			v->pectl &= ~XECTL_IP;
		break;
	case VTD_PECTL:
		write_ectl(v, VTD_EVENT_PAGE_REQUEST, val);
		break;
	case VTD_PEDATA:
		v->pedata = val & XEDATA_MASK;
		break;
	case VTD_PEADDR:
		v->peaddr = val & XEADDR_MASK;
		break;
	case VTD_PEUADDR:
		v->peuaddr = val;
		break;
	}
	/* VER and GSTS are read-only. */
}

/* Sizes 4 and 8 at offsets aligned to them, inside the register page. */
static bool access_ok(uint32_t off, unsigned size)
{
	return (size == 4 || size == 8) && !(off & (size - 1)) && off <= VTD_REG_SIZE - size;
}

uint64_t vtd_read(struct vtd *v, uint32_t off, unsigned size)
{
	uint32_t base = off & ~7u;
	uint64_t val = 0;

	if (!access_ok(off, size))
		return 0;
	vtd_lock(v);
	if (is_reg64(v, base)) {
		val = read64(v, base);
		if (size == 4)
			val = (val >> (8 * (off & 4))) & 0xffffffffu;
	} else if (size == 4 && is_reg32(off)) {
		val = read32(v, off);
	}
	/* An 8-byte access to a 32-bit register, or to no register, reads 0. */
	vtd_unlock(v);
	return val;
}

void vtd_write(struct vtd *v, uint32_t off, unsigned size, uint64_t val)
{
	uint32_t base = off & ~7u;

	if (!access_ok(off, size))
		return;
	vtd_lock(v);
	if (is_reg64(v, base)) {
		unsigned shift = 8 * (off & 4);
		uint64_t half = UINT64_C(0xffffffff) << shift;

		/* A 32-bit write changes its half; the other half is not written. */
		if (size == 8)
			write64(v, base, val, ~UINT64_C(0));
		else
			write64(v, base, (val << shift) & half, half);
	} else if (size == 4 && is_reg32(off)) {
		write32(v, off, (uint32_t)val);
	}
	vtd_unlock(v);
}
