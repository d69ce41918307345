/* hw/smmuv3/cmdq.c — the command queue: fetching 16-byte commands at CMDQ_CONS,
 * checking them as the SMMU does, and carrying out each command's effect
 * through the invalidation primitives of xlate.c, the endpoints (ATC
 * invalidations, PRI responses) and the stall primitives.
 *
 * Owns: CMDQ_CONS (RD, its wrap flag and ERR; software sets RD only while the
 * queue is disabled, through regs.c), GERROR.CMDQ_ERR and MSI_CMDQ_ABT_ERR
 * (through smmu_gerror_locked), the per-opcode counts in s->commands.
 *
 * Callers: regs.c, on a CMDQ_PROD write, CR0.CMDQEN going to 1 and CMDQ_ERR
 * being acknowledged. Locking: called with s->lock held. Around an ATC
 * invalidation the lock is dropped, because the endpoint waits for its DMAs in
 * flight and a DMA may be recording an event (which takes the lock).
 * s->cmdq_busy keeps a second thread from processing meanwhile (it leaves the
 * new work to the busy one, which re-reads PROD before every command), and
 * s->cmdq_epoch tells whether CMDQEN changed during the window.
 *
 * Rules (SMMUv3 specification chapter 4, §7.1; docs/facts/smmuv3-structures.md §4):
 *  - Commands run in order from CONS towards PROD while CMDQEN = 1 and no
 *    CMDQ_ERR is active. A command completes before CONS passes it, so a
 *    CMD_SYNC completes on arrival: every earlier invalidation is done (the
 *    primitives and dev_ep_atc_invalidate return only when it is).
 *  - A fetch that aborts sets CONS.ERR = CERROR_ABT; an illegal command
 *    CERROR_ILL. Either way CONS stays on the command and GERROR.CMDQ_ERR is
 *    activated, in that order; nothing after it runs. Software fixes or
 *    replaces the command (Linux writes a CMD_SYNC over it) and acknowledges
 *    through GERRORN; processing then restarts at CONS, re-fetching it. No
 *    CMDQ_PROD write is needed (7.1).
 *  - Illegal (4.1.3, 4.1.5): a Reserved opcode, including every Secure-only and
 *    EL3 command, CFGI_VMS_PIDM (no MPAM), DPT and IMPLEMENTATION DEFINED ones;
 *    a command of a feature the SMMU lacks (stage 1 for CFGI_CD*, TLBI_NH_*;
 *    stage 2 for TLBI_S12_VMALL, S2_IPA; Hyp for TLBI_EL2_*; ATS for ATC_INV; PRI
 *    for PRI_RESP; the stall model for RESUME, STALL_TERM); SSec = 1; an invalid
 *    value (PRI_RESP Resp 3, CMD_SYNC CS 3, ATC_INV Size > 52, a range TLBI with
 *    NUM = SCALE = TTL = 0). Choice: a Reserved (RES0) field that is not zero is
 *    illegal too, as 4.1.5 permits — except in CMD_PREFETCH_ADDR's second word,
 *    whose Stride/NS layout the facts do not give.
 *  - Out-of-range StreamIDs and SubstreamIDs are CONSTRAINED UNPREDICTABLE (4.1.7):
 *    the command acts on them as given (finding nothing). The upper 8 bits of an
 *    ASID or VMID without 16-bit support are ignored (4.4: the command need not
 *    affect entries; ignoring them over-invalidates, which is permitted).
 *  - With SMMUEN = 0, ATC_INV and PRI_RESP are consumed and ignored (6.3.9.6).
 */
#include "hw/smmuv3/smmuv3_internal.h"

#include <errno.h>

#ifndef CMD0_SSEC
#define CMD0_SSEC        BIT(10)
#endif
#define ATC_SIZE_ALL     52            /* Size 52: a 2^64-byte span */

enum cmd_need {
	NEED_NONE,
	NEED_S1,
	NEED_S2,
	NEED_HYP,
	NEED_ATS,
	NEED_PRI,
	NEED_STALL,
};

/* The fields each command defines, word by word; the rest is RES0. */
struct cmd_desc {
	bool valid;
	enum cmd_need need;
	uint64_t dw0, dw1;
};

#define TLBI_RANGE0  (CMD0_NUM | CMD0_SCALE)
#define TLBI_ADDR1   (CMD1_LEAF | CMD1_TTL | CMD1_TG | CMD1_VA)

static const struct cmd_desc cmd_descs[256] = {
	[CMD_PREFETCH_CONFIG] = { true, NEED_NONE, CMD0_OP | CMD0_SSEC | CMD0_SSV | CMD0_SSID |
						    CMD0_SID, 0 },
	[CMD_PREFETCH_ADDR] = { true, NEED_NONE, CMD0_OP | CMD0_SSEC | CMD0_SSV | CMD0_SSID | CMD0_SID,
				~UINT64_C(0) },
	[CMD_CFGI_STE] = { true, NEED_NONE, CMD0_OP | CMD0_SSEC | CMD0_SID, CMD1_LEAF },
	[CMD_CFGI_STE_RANGE] = { true, NEED_NONE, CMD0_OP | CMD0_SSEC | CMD0_SID, CMD1_RANGE },
	[CMD_CFGI_CD] = { true, NEED_S1, CMD0_OP | CMD0_SSEC | CMD0_SSID | CMD0_SID, CMD1_LEAF },
	[CMD_CFGI_CD_ALL] = { true, NEED_S1, CMD0_OP | CMD0_SSEC | CMD0_SID, 0 },
	[CMD_TLBI_NH_ALL] = { true, NEED_S1, CMD0_OP | CMD0_VMID, 0 },
	[CMD_TLBI_NH_ASID] = { true, NEED_S1, CMD0_OP | CMD0_VMID | CMD0_ASID, 0 },
	[CMD_TLBI_NH_VA] = { true, NEED_S1, CMD0_OP | TLBI_RANGE0 | CMD0_VMID | CMD0_ASID,
			     TLBI_ADDR1 },
	[CMD_TLBI_NH_VAA] = { true, NEED_S1, CMD0_OP | TLBI_RANGE0 | CMD0_VMID, TLBI_ADDR1 },
	[CMD_TLBI_EL2_ALL] = { true, NEED_HYP, CMD0_OP, 0 },
	[CMD_TLBI_EL2_ASID] = { true, NEED_HYP, CMD0_OP | CMD0_ASID, 0 },
	[CMD_TLBI_EL2_VA] = { true, NEED_HYP, CMD0_OP | TLBI_RANGE0 | CMD0_ASID, TLBI_ADDR1 },
	[CMD_TLBI_EL2_VAA] = { true, NEED_HYP, CMD0_OP | TLBI_RANGE0, TLBI_ADDR1 },
	[CMD_TLBI_S12_VMALL] = { true, NEED_S2, CMD0_OP | CMD0_VMID, 0 },
	[CMD_TLBI_S2_IPA] = { true, NEED_S2, CMD0_OP | TLBI_RANGE0 | CMD0_VMID,
			      CMD1_LEAF | CMD1_TTL | CMD1_TG | CMD1_IPA },
	[CMD_TLBI_NSNH_ALL] = { true, NEED_NONE, CMD0_OP, 0 },
	[CMD_ATC_INV] = { true, NEED_ATS, CMD0_OP | CMD0_GLOBAL | CMD0_SSV | CMD0_SSID | CMD0_SID,
			  CMD1_ATC_SIZE | CMD1_ATC_ADDR },
	[CMD_PRI_RESP] = { true, NEED_PRI, CMD0_OP | CMD0_SSV | CMD0_SSID | CMD0_SID,
			   CMD1_PRGI | CMD1_RESP },
	[CMD_RESUME] = { true, NEED_STALL, CMD0_OP | CMD0_SSEC | CMD0_RESUME_AC | CMD0_RESUME_AB |
					     CMD0_SID, CMD1_STAG },
	[CMD_STALL_TERM] = { true, NEED_STALL, CMD0_OP | CMD0_SSEC | CMD0_SID, 0 },
	[CMD_SYNC] = { true, NEED_NONE, CMD0_OP | CMD0_CS | CMD0_MSH | CMD0_MSIATTR | CMD0_MSIDATA,
		       CMD1_MSIADDR },
	/* TLBI_EL3_ALL/VA (Secure queue only), CFGI_VMS_PIDM (needs MPAM), the
	 * Secure and DPT commands and the IMPLEMENTATION DEFINED range have no
	 * entry: illegal on this queue. */
};

struct cmd {
	uint64_t dw0, dw1;
	uint8_t op;
};

static bool need_met(const struct smmu *s, enum cmd_need need)
{
	switch (need) {
	case NEED_NONE:
		return true;
	case NEED_S1:
		return s->idr[0] & IDR0_S1P;
	case NEED_S2:
		return s->idr[0] & IDR0_S2P;
	case NEED_HYP:
		return s->idr[0] & IDR0_HYP;
	case NEED_ATS:
		return s->idr[0] & IDR0_ATS;
	case NEED_PRI:
		return s->idr[0] & IDR0_PRI;
	case NEED_STALL:
		return FIELD_GET(IDR0_STALL_MODEL, s->idr[0]) != 1;
	}
	return false;
}

/* The range of a TLBI by address (4.4.1.1), or false when the command is illegal.
 * Without RIL, or with TG = 0, the command names the one address; NUM, SCALE and
 * TTL are RES0 then (as are TG and TTL128 without RIL). */
static bool tlbi_range(const struct smmu *s, const struct cmd *c, uint64_t addr,
		       struct smmu_tlbi *t)
{
	unsigned tg = (unsigned)FIELD_GET(CMD1_TG, c->dw1);
	unsigned ttl = (unsigned)FIELD_GET(CMD1_TTL, c->dw1);
	unsigned num = (unsigned)FIELD_GET(CMD0_NUM, c->dw0);
	unsigned scale = (unsigned)FIELD_GET(CMD0_SCALE, c->dw0);
	unsigned gshift;

	t->leaf = c->dw1 & CMD1_LEAF;
	t->addr = addr;
	if (!tg) {
		if (ttl || num || scale)
			return false;
		/* Addresses need not be aligned to an entry: the entry that holds
		 * addr goes, whatever its size (4.4). */
		t->size = 4096;
		return true;
	}
	if (!(s->idr[3] & IDR3_RIL))
		return false;
	gshift = tg == 1 ? 12 : tg == 2 ? 14 : 16;
	/* 16K with TTL 1 is Reserved without IDR5.DS and treated as TTL 0 (this
	 * SMMU has no DS), which the next check may then make illegal. */
	if (tg == 2 && ttl == 1)
		ttl = 0;
	if (!num && !scale && !ttl)
		return false;
	/* (NUM + 1) * 2^SCALE granules from addr: at most 32 << (31 + 16) = 2^52
	 * bytes; a range past 2^64 does not wrap to 0. */
	t->size = (uint64_t)(num + 1) << (scale + gshift);
	if (addr + (t->size - 1) < addr)
		t->size = 0 - addr;
	t->ttl_level = ttl;
	t->tg_shift = ttl ? gshift : 0;
	return true;
}

static uint16_t cmd_vmid(const struct smmu *s, const struct cmd *c)
{
	uint16_t vmid = (uint16_t)FIELD_GET(CMD0_VMID, c->dw0);

	return s->cfg.vmid16 ? vmid : (uint16_t)(vmid & 0xff);
}

static uint16_t cmd_asid(const struct smmu *s, const struct cmd *c)
{
	uint16_t asid = (uint16_t)FIELD_GET(CMD0_ASID, c->dw0);

	return s->cfg.asid16 ? asid : (uint16_t)(asid & 0xff);
}

/* Fills t from a TLBI command, or returns false if the command is illegal. */
static bool decode_tlbi(const struct smmu *s, const struct cmd *c, struct smmu_tlbi *t)
{
	*t = (struct smmu_tlbi){ 0 };
	/* VMID of NH_*: matched only with stage 2 (RES0 otherwise; stage-1-only
	 * entries are tagged with VMID 0 then). */
	if (c->op <= CMD_TLBI_NH_VAA)
		t->vmid = s->cfg.s2p ? cmd_vmid(s, c) : 0;
	switch (c->op) {
	case CMD_TLBI_NH_ALL:
		t->kind = SMMU_TLBI_NH_ALL;
		return true;
	case CMD_TLBI_NH_ASID:
		t->kind = SMMU_TLBI_NH_ASID;
		t->asid = cmd_asid(s, c);
		return true;
	case CMD_TLBI_NH_VA:
		t->kind = SMMU_TLBI_NH_VA;
		t->asid = cmd_asid(s, c);
		return tlbi_range(s, c, c->dw1 & CMD1_VA, t);
	case CMD_TLBI_NH_VAA:
		t->kind = SMMU_TLBI_NH_VAA;
		return tlbi_range(s, c, c->dw1 & CMD1_VA, t);
	case CMD_TLBI_EL2_ALL:
	case CMD_TLBI_EL2_ASID:
		/* The model makes no EL2 entries: every EL2 form invalidates the
		 * EL2 regime as a whole (over-invalidation is permitted). */
		t->kind = SMMU_TLBI_EL2_ALL;
		return true;
	case CMD_TLBI_EL2_VA:
	case CMD_TLBI_EL2_VAA:
		t->kind = SMMU_TLBI_EL2_ALL;
		return tlbi_range(s, c, c->dw1 & CMD1_VA, t);
	case CMD_TLBI_S12_VMALL:
		t->kind = SMMU_TLBI_S12_VMALL;
		t->vmid = cmd_vmid(s, c);
		return true;
	case CMD_TLBI_S2_IPA:
		t->kind = SMMU_TLBI_S2_IPA;
		t->vmid = cmd_vmid(s, c);
		return tlbi_range(s, c, c->dw1 & CMD1_IPA, t);
	case CMD_TLBI_NSNH_ALL:
		t->kind = SMMU_TLBI_NSNH_ALL;
		return true;
	}
	return false;
}

/* The checks of 4.1.3 and of each command's description. */
static bool cmd_legal(const struct smmu *s, const struct cmd *c)
{
	const struct cmd_desc *d = &cmd_descs[c->op];
	struct smmu_tlbi t;

	if (!d->valid || !need_met(s, d->need))
		return false;
	if ((c->dw0 & ~d->dw0) || (c->dw1 & ~d->dw1))
		return false;                   /* a Reserved field set */
	if (c->dw0 & CMD0_SSEC)
		return false;                   /* Non-secure queue: SSec must be 0 */
	switch (c->op) {
	case CMD_ATC_INV:
		return FIELD_GET(CMD1_ATC_SIZE, c->dw1) <= ATC_SIZE_ALL;
	case CMD_PRI_RESP:
		return FIELD_GET(CMD1_RESP, c->dw1) != 3;
	case CMD_SYNC:
		return FIELD_GET(CMD0_CS, c->dw0) != 3;
	}
	if (c->op >= CMD_TLBI_NH_ALL && c->op <= CMD_TLBI_NSNH_ALL)
		return decode_tlbi(s, c, &t);
	return true;
}

enum cmd_done {
	CMD_DONE,                       /* completed: CONS moves past it */
	CMD_RESET,                      /* CMDQEN changed while the lock was dropped */
};

/* ATC_INV (4.5.1): a PCIe invalidation of 2^Size 4 KiB pages at Address aligned to
 * the span; Size 52 is everything. Global counts only with a PASID. Choice: SSV
 * on an SMMU without substreams acts as SSV = 0. */
static enum cmd_done atc_inv(struct smmu *s, const struct cmd *c)
{
	uint32_t sid = (uint32_t)FIELD_GET(CMD0_SID, c->dw0);
	bool ssv = (c->dw0 & CMD0_SSV) && s->cfg.ssidsize;
	unsigned size = (unsigned)FIELD_GET(CMD1_ATC_SIZE, c->dw1);
	uint64_t span = 0, addr = 0;
	unsigned epoch = s->cmdq_epoch;
	struct dev_ep *ep;

	if (!atomic_load(&s->enabled))
		return CMD_DONE;                /* ignored with SMMUEN = 0 */
	ep = smmu_endpoint(s, sid);
	if (!ep)
		return CMD_DONE;                /* no such function: nothing cached */
	if (size < ATC_SIZE_ALL) {
		span = UINT64_C(4096) << size;
		addr = (c->dw1 & CMD1_ATC_ADDR) & ~(span - 1);
	}
	smmu_unlock(s);
	dev_ep_atc_invalidate(ep, ssv, ssv ? (uint32_t)FIELD_GET(CMD0_SSID, c->dw0) : 0,
			      ssv && (c->dw0 & CMD0_GLOBAL), addr, span);
	smmu_lock(s);
	return epoch == s->cmdq_epoch ? CMD_DONE : CMD_RESET;
}

/* PRI_RESP (4.5.2): Resp 0 ResponseFailure, 1 InvalidRequest, 2 Success (the PCIe
 * codes 0b1111, 0b0001, 0b0000, spec 8.3). */
static void pri_resp(struct smmu *s, const struct cmd *c)
{
	static const enum dev_prg_resp code[3] = {
		[PRI_RESP_DENY] = DEV_PRG_FAILURE,
		[PRI_RESP_FAIL] = DEV_PRG_INVALID,
		[PRI_RESP_SUCC] = DEV_PRG_SUCCESS,
	};
	struct dev_ep *ep = smmu_endpoint(s, (uint32_t)FIELD_GET(CMD0_SID, c->dw0));
	bool ssv = (c->dw0 & CMD0_SSV) && s->cfg.ssidsize;

	if (!atomic_load(&s->enabled) || !ep)
		return;
	/* -ENOENT: no such group outstanding; the response is lost, as the
	 * endpoint drops an unexpected one. */
	dev_ep_page_response(ep, ssv, ssv ? (uint32_t)FIELD_GET(CMD0_SSID, c->dw0) : 0,
			     (uint16_t)FIELD_GET(CMD1_PRGI, c->dw1),
			     code[FIELD_GET(CMD1_RESP, c->dw1)]);
}

/* CMD_SYNC (4.7.3): complete on arrival. SIG_IRQ writes MSIData to MSIAddress
 * when MSIs exist and the address field is not zero, and pulses the wired
 * output (the callback) whatever the address; SIG_SEV sends an event only with
 * IDR0.SEV. */
static void cmd_sync(struct smmu *s, const struct cmd *c)
{
	unsigned cs = (unsigned)FIELD_GET(CMD0_CS, c->dw0);
	uint64_t msiaddr = c->dw1 & CMD1_MSIADDR;

	if (cs == CS_IRQ) {
		if ((s->idr[0] & IDR0_MSI) && msiaddr &&
		    smmu_msi_write_locked(s, msiaddr, (uint32_t)FIELD_GET(CMD0_MSIDATA, c->dw0)))
			smmu_gerror_locked(s, GERROR_MSI_CMDQ_ABT);
		smmu_raise_locked(s, SMMU_IRQ_CMD_SYNC);
	} else if (cs == CS_SEV && (s->idr[0] & IDR0_SEV)) {
		smmu_raise_locked(s, SMMU_IRQ_SEV);
	}
}

static enum cmd_done execute(struct smmu *s, const struct cmd *c)
{
	uint32_t sid = (uint32_t)FIELD_GET(CMD0_SID, c->dw0);
	struct smmu_tlbi t;

	switch (c->op) {
	case CMD_PREFETCH_CONFIG:
	case CMD_PREFETCH_ADDR:
		return CMD_DONE;                /* a hint; the model prefetches nothing */
	case CMD_CFGI_STE:
		/* Leaf or not: the model caches no L1 descriptors. */
		smmu_inv_ste(s, sid, 0);
		return CMD_DONE;
	case CMD_CFGI_STE_RANGE:
		/* 2^(Range + 1) StreamIDs, aligned; Range 31 is CFGI_ALL. */
		if (FIELD_GET(CMD1_RANGE, c->dw1) == 31)
			smmu_inv_cfg_all(s);
		else
			smmu_inv_ste(s, sid, (unsigned)FIELD_GET(CMD1_RANGE, c->dw1) + 1);
		return CMD_DONE;
	case CMD_CFGI_CD:
		smmu_inv_cd(s, sid, false, (uint32_t)FIELD_GET(CMD0_SSID, c->dw0));
		return CMD_DONE;
	case CMD_CFGI_CD_ALL:
		smmu_inv_cd(s, sid, true, 0);
		return CMD_DONE;
	case CMD_ATC_INV:
		return atc_inv(s, c);
	case CMD_PRI_RESP:
		pri_resp(s, c);
		return CMD_DONE;
	case CMD_RESUME:
		/* Ac = 1 retries, Ac = 0 terminates (Ab: abort or RAZ/WI). An
		 * unknown STAG, or one of another StreamID, is a no-op (-EINVAL). */
		smmu_stall_resume_locked(s, sid, (uint16_t)FIELD_GET(CMD1_STAG, c->dw1),
					 c->dw0 & CMD0_RESUME_AC ? DEV_STALL_RETRY :
					 c->dw0 & CMD0_RESUME_AB ? DEV_STALL_ABORT :
					 DEV_STALL_RAZ_WI);
		return CMD_DONE;
	case CMD_STALL_TERM:
		smmu_stall_term_locked(s, sid);
		return CMD_DONE;
	case CMD_SYNC:
		cmd_sync(s, c);
		return CMD_DONE;
	}
	if (decode_tlbi(s, c, &t))
		smmu_inv_tlb(s, &t);
	return CMD_DONE;
}

static int fetch(struct smmu *s, uint64_t pa, struct cmd *c)
{
	struct mem_view v;
	int err;

	mem_view_begin(&v, s->mem);
	err = mem_view_load64(&v, pa, &c->dw0);
	if (!err)
		err = mem_view_load64(&v, pa + 8, &c->dw1);
	mem_view_end(&v);
	c->op = (uint8_t)FIELD_GET(CMD0_OP, c->dw0);
	return err;
}

/* CONS.ERR is made visible before the global error (7.1). */
static void queue_error(struct smmu *s, unsigned err)
{
	s->cmdq.cons = (s->cmdq.cons & ~(uint32_t)CMDQ_CONS_ERR) |
		       (uint32_t)FIELD_PREP(CMDQ_CONS_ERR, err);
	smmu_gerror_locked(s, GERROR_CMDQ_ERR);
}

void smmu_cmdq_process_locked(struct smmu *s)
{
	struct smmu_qgeom g;
	struct cmd c;
	uint32_t used;
	bool was_full = false, first = true;

	if (s->cmdq_busy)
		return;                         /* the busy thread will reach the new PROD */
	s->cmdq_busy = true;
	while ((s->cr0ack & CR0_CMDQEN) && !smmu_gerror_active_locked(s, GERROR_CMDQ_ERR)) {
		smmu_qgeom(s, s->cmdq.base, s->cfg.cmdqs, &g);
		used = smmu_qused(&g, s->cmdq.prod, s->cmdq.cons);
		/* Empty, or an inconsistent pair: nothing is consumed (3.5.1). */
		if (!used || used > g.wrap)
			break;
		if (first)
			was_full = used == g.wrap;
		first = false;
		if (fetch(s, smmu_qentry(&g, CMD_SIZE, s->cmdq.cons), &c)) {
			queue_error(s, CMDQ_ERR_ABT);
			break;
		}
		if (!cmd_legal(s, &c)) {
			queue_error(s, CMDQ_ERR_ILL);
			break;
		}
		if (execute(s, &c) == CMD_RESET)
			continue;               /* start over from the new queue state */
		s->cmdq.cons = (s->cmdq.cons & (uint32_t)CMDQ_CONS_ERR) |
			       smmu_qnext(&g, s->cmdq.cons);
		atomic_fetch_add_explicit(&s->commands[c.op], 1, memory_order_relaxed);
		if (was_full) {
			/* 4.1.2: a queue that software could see full became
			 * non-full: a WFE wake-up event with IDR0.SEV. */
			if (s->idr[0] & IDR0_SEV)
				smmu_raise_locked(s, SMMU_IRQ_SEV);
			was_full = false;
		}
	}
	s->cmdq_busy = false;
}
