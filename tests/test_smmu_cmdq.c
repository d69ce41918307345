/* tests/test_smmu_cmdq.c — the SMMUv3 model's command queue, driven as a driver
 * drives it: CMDQ_BASE, CMDQ_PROD/CONS, CR0.CMDQEN; 16-byte commands written
 * into queue memory by hand from the facts' bit layout, PROD advanced.
 *
 * Covered: CMD_SYNC (SIG_NONE, SIG_IRQ with and without an MSI, an MSI that
 * aborts, SIG_SEV, MSIs and SEV absent), queue wrap, a full queue and its SEV,
 * an inconsistent PROD/CONS pair, CMDQEN off; every illegal case (opcodes,
 * SSec, reserved fields of each command, invalid values, commands of features
 * the SMMU lacks) stopping the queue at the right CONS with CONS.ERR = ILL and
 * GERROR.CMDQ_ERR and nothing after it run, then the recovery protocol; a fetch
 * that aborts (CERROR_ABT); every invalidation command's effect observed
 * through real translations of hand-built tables (configuration cache hits and
 * fills, TLB hits, walk references); ATC_INV reaching an endpoint's device TLB
 * with the Size encoding, SSV/Global, SMMUEN = 0, and a DMA racing it that
 * takes the SMMU's lock; PRI_RESP's three responses and a response with no
 * group outstanding; the PRI queue end to end with automatic responses on
 * overflow (STE.PPAR) and with PRIQEN = 0; RESUME and STALL_TERM on parked
 * stalls.
 *
 * Expected values are worked by hand from the SMMUv3 specification (chapter 4,
 * §7.1, chapter 8) as docs/facts/smmuv3-structures.md and
 * ../shared/reference/smmuv3.md give the layouts; derivations are in comments.
 */
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dev/dev.h"
#include "hw/smmuv3/smmuv3_internal.h"

#define RAM_SIZE    0x1000000ull    /* 16 MiB at 0 */
#define STRTAB      0x10000ull      /* linear, LOG2SIZE 8: STE n at 0x10000 + 64 n */
#define CDTAB       0x20000ull      /* CD n at 0x20000 + 64 n */
#define CMDQ_PA     0x30000ull      /* 16 commands (LOG2SIZE 4) */
#define CMDQ_LOG2   4
#define EVTQ_PA     0x40000ull
#define PRIQ_PA     0x50000ull
#define MSI_PA      0x60000ull      /* CMD_SYNC status words */
#define S1_PA       0x100000ull     /* stage-1 tables */
#define S2_PA       0x200000ull     /* stage-2 tables */
#define DMA_PA      0x400000ull     /* endpoint DMAs land here (identity stand-in) */
#define NOT_MEMORY  0x70000000ull

#define SID_A       0x10            /* stage 1, CD table at CDTAB */
#define SID_B       0x11            /* the same configuration */
#define SID_C       0x12            /* the same configuration */
#define SID_D       0x18            /* stage 2, VMID 7 */
#define SID_E       0x20            /* stage 2, VMID 8, the same tables */
#define EP_SID      0x30            /* the endpoint (00:06.0) */
#define STE(sid)    (STRTAB + 64ull * (sid))

#define VA1         0x12345000ull   /* nG = 1 */
#define VA2         0x12346000ull   /* nG = 1 */
#define VA3         0x12347000ull   /* global (nG = 0) */

static struct mem_space *mem;
static unsigned irqs[5];

static void count_irq(void *ctx, enum smmu_irq irq)
{
	(void)ctx;
	__atomic_fetch_add(&irqs[irq], 1, __ATOMIC_RELAXED);
}

static void die(const char *what)
{
	fprintf(stderr, "test_smmu_cmdq: setup failed: %s\n", what);
	exit(1);
}

static void put64(uint64_t pa, uint64_t val)
{
	if (mem_store64(mem, pa, val))
		die("mem_store64");
}

static uint64_t get64(uint64_t pa)
{
	uint64_t v;

	if (mem_load64(mem, pa, &v))
		die("mem_load64");
	return v;
}

static uint32_t get32(uint64_t pa)
{
	uint8_t b[4];

	if (mem_read(mem, pa, b, 4))
		die("mem_read");
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint32_t rd32(struct smmu *s, uint32_t off)
{
	return (uint32_t)smmu_read(s, off, 4);
}

static void wr32(struct smmu *s, uint32_t off, uint32_t val)
{
	smmu_write(s, off, 4, val);
}

static void wr64(struct smmu *s, uint32_t off, uint64_t val)
{
	smmu_write(s, off, 8, val);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- commands, built from the layout (opcode 7:0 of the first word) ---------------------- */

/* CMD_SYNC: CS 13:12 (1 IRQ, 2 SEV), MSIData 63:32; word 1 MSIAddr 51:2. */
static uint64_t sync0(unsigned cs, uint32_t data)
{
	return 0x46 | (uint64_t)cs << 12 | (uint64_t)data << 32;
}

/* The status word CMD_SYNC n writes. */
static uint64_t slot(unsigned n)
{
	return MSI_PA + 4ull * n;
}

/* SID 63:32, SSID 31:12 with SSV 11; TLBI: VMID 47:32, ASID 63:48, NUM 16:12,
 * SCALE 24:20; word 1: Leaf 0, TTL 9:8, TG 11:10, address 63:12. */
#define sid_f(sid)    ((uint64_t)(sid) << 32)
#define ssid_f(ssid)  ((uint64_t)(ssid) << 12 | 0x800)
#define vmid_f(vmid)  ((uint64_t)(vmid) << 32)
#define asid_f(asid)  ((uint64_t)(asid) << 48)

/* ---- a unit programmed as a driver does -------------------------------------------------- */

struct rig {
	struct smmu *s;
	uint32_t prod;                  /* software's copy of CMDQ_PROD */
};

static void put_cmd(struct rig *r, uint64_t dw0, uint64_t dw1)
{
	uint32_t idx = r->prod & ((1u << CMDQ_LOG2) - 1);

	put64(CMDQ_PA + 16ull * idx, dw0);
	put64(CMDQ_PA + 16ull * idx + 8, dw1);
	r->prod = (r->prod + 1) & ((2u << CMDQ_LOG2) - 1);
}

static void kick(struct rig *r)
{
	wr32(r->s, SMMU_CMDQ_PROD, r->prod);
}

static void submit(struct rig *r, uint64_t dw0, uint64_t dw1)
{
	put_cmd(r, dw0, dw1);
	kick(r);
}

static uint32_t cons(struct rig *r)
{
	return rd32(r->s, SMMU_CMDQ_CONS);
}

static uint64_t cmds(struct rig *r, unsigned op)
{
	return atomic_load(&r->s->commands[op]);
}

static void rig_start(struct rig *r, const struct smmu_config *c)
{
	r->s = smmu_new(c, mem);
	if (!r->s)
		die("smmu_new");
	memset(irqs, 0, sizeof(irqs));
	smmu_set_irq_cb(r->s, count_irq, NULL);
	if (mem_fill(mem, CMDQ_PA, 0, 0x1000) || mem_fill(mem, MSI_PA, 0x11, 0x1000))
		die("mem_fill");
	wr64(r->s, SMMU_STRTAB_BASE, STRTAB);
	wr32(r->s, SMMU_STRTAB_BASE_CFG, 8);            /* linear, LOG2SIZE 8 */
	wr64(r->s, SMMU_CMDQ_BASE, CMDQ_PA | CMDQ_LOG2);
	wr32(r->s, SMMU_CMDQ_PROD, 0);
	wr32(r->s, SMMU_CMDQ_CONS, 0);
	wr64(r->s, SMMU_EVENTQ_BASE, EVTQ_PA | 4);
	wr32(r->s, SMMU_CR0, CR0_SMMUEN | CR0_CMDQEN | CR0_EVENTQEN);
	if (rd32(r->s, SMMU_CR0ACK) != (CR0_SMMUEN | CR0_CMDQEN | CR0_EVENTQEN))
		die("CR0ACK");
	r->prod = 0;
}

static void rig_default(struct rig *r)
{
	struct smmu_config c;

	smmu_config_default(&c);
	rig_start(r, &c);
}

static void rig_stop(struct rig *r)
{
	smmu_free(r->s);
	r->s = NULL;
}

/* ---- CMD_SYNC and the queue itself ------------------------------------------------------- */

static void test_sync(void)
{
	struct smmu_config c;
	struct rig r;

	rig_default(&r);
	/* SIG_NONE: consumed, nothing signalled; the MSI fields are IGNORED. */
	submit(&r, sync0(0, 0x1234), slot(0));
	CHECK_EQ(cons(&r), 1);
	CHECK_EQ(get32(slot(0)), 0x11111111u);
	CHECK_EQ(irqs[SMMU_IRQ_CMD_SYNC], 0);
	/* SIG_IRQ with MSIAddr: MSIData (32 bits) at MSIAddr, and the interrupt. */
	submit(&r, sync0(1, 0xdeadbeef), slot(1));
	CHECK_EQ(cons(&r), 2);
	CHECK_EQ(get32(slot(1)), 0xdeadbeefu);
	CHECK_EQ(get32(slot(2)), 0x11111111u);
	CHECK_EQ(irqs[SMMU_IRQ_CMD_SYNC], 1);
	/* SIG_IRQ with MSIAddr 0: the wired interrupt only. */
	submit(&r, sync0(1, 0x5555), 0);
	CHECK_EQ(irqs[SMMU_IRQ_CMD_SYNC], 2);
	CHECK_EQ(get32(slot(0)), 0x11111111u);
	/* MSIAddr bits above OAS (48) are truncated: bit 49 set addresses slot 3. */
	submit(&r, sync0(1, 0x33), slot(3) | 1ull << 49);
	CHECK_EQ(get32(slot(3)), 0x33);
	/* SIG_SEV: a WFE event. */
	submit(&r, sync0(2, 0), 0);
	CHECK_EQ(irqs[SMMU_IRQ_SEV], 1);
	CHECK_EQ(irqs[SMMU_IRQ_CMD_SYNC], 3);
	/* An MSI that aborts: MSI_CMDQ_ABT_ERR (bit 4) with the GERROR interrupt;
	 * the CMD_SYNC still completes and the queue goes on. */
	wr32(r.s, SMMU_IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
	submit(&r, sync0(1, 0x77), NOT_MEMORY);
	CHECK_EQ(rd32(r.s, SMMU_GERROR), GERROR_MSI_CMDQ_ABT);
	CHECK_EQ(irqs[SMMU_IRQ_GERROR], 1);
	CHECK_EQ(irqs[SMMU_IRQ_CMD_SYNC], 4);
	submit(&r, sync0(1, 0x88), slot(4));
	CHECK_EQ(get32(slot(4)), 0x88);
	CHECK_EQ(cons(&r), 7);
	CHECK_EQ(cmds(&r, CMD_SYNC), 7);
	CHECK_EQ((cons(&r) & CMDQ_CONS_ERR), 0);
	rig_stop(&r);

	/* Without MSIs the address is IGNORED; without SEV, SIG_SEV signals nothing. */
	smmu_config_default(&c);
	c.msi = false;
	c.sev = false;
	rig_start(&r, &c);
	submit(&r, sync0(1, 0x99), slot(5));
	CHECK_EQ(get32(slot(5)), 0x11111111u);
	CHECK_EQ(irqs[SMMU_IRQ_CMD_SYNC], 1);
	submit(&r, sync0(2, 0), 0);
	CHECK_EQ(irqs[SMMU_IRQ_SEV], 0);
	CHECK_EQ(cons(&r), 2);
	rig_stop(&r);
}

static void test_queue(void)
{
	struct rig r;
	bool all;

	rig_default(&r);
	/* CMDQEN off: PROD moves, nothing is consumed. 16 syncs fill the queue:
	 * PROD 0x10 = index 0 with the wrap bit (bit 4), CONS 0: full. */
	wr32(r.s, SMMU_CR0, CR0_SMMUEN | CR0_EVENTQEN);
	for (unsigned i = 0; i < 16; i++)
		put_cmd(&r, sync0(1, 0x100 + i), slot(i));
	CHECK_EQ(r.prod, 0x10);
	kick(&r);
	CHECK_EQ(cons(&r), 0);
	CHECK_EQ(get32(slot(0)), 0x11111111u);
	/* CMDQEN on: all 16 run in order; CONS 0x10. The queue software saw full
	 * became non-full: one SEV (IDR0.SEV). */
	wr32(r.s, SMMU_CR0, CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN);
	CHECK_EQ(cons(&r), 0x10);
	all = true;
	for (unsigned i = 0; i < 16; i++)
		all &= get32(slot(i)) == 0x100 + i;
	CHECK(all);
	CHECK_EQ(irqs[SMMU_IRQ_SEV], 1);
	/* Interrupts raised within one register access are delivered once when
	 * the lock is released (edge interrupts may coalesce, spec 3.18). */
	CHECK_EQ(irqs[SMMU_IRQ_CMD_SYNC], 1);
	/* Wrap: three more at indexes 0, 1, 2 (wrap 1): CONS 0x13. */
	put_cmd(&r, sync0(1, 0xa0), slot(20));
	put_cmd(&r, sync0(1, 0xa1), slot(21));
	put_cmd(&r, sync0(1, 0xa2), slot(22));
	kick(&r);
	CHECK_EQ(cons(&r), 0x13);
	CHECK_EQ(get32(slot(22)), 0xa2);
	/* An inconsistent PROD (index 5, wrap 0 against CONS index 3 wrap 1: 18
	 * "commands" in a queue of 16): nothing is consumed, no error. */
	put_cmd(&r, sync0(1, 0xb0), slot(23));
	put_cmd(&r, sync0(1, 0xb1), slot(24));
	wr32(r.s, SMMU_CMDQ_PROD, 0x05);
	CHECK_EQ(cons(&r), 0x13);
	CHECK_EQ(get32(slot(23)), 0x11111111u);
	CHECK_EQ(rd32(r.s, SMMU_GERROR), 0);
	/* The consistent PROD 0x15: both run. */
	wr32(r.s, SMMU_CMDQ_PROD, 0x15);
	CHECK_EQ(cons(&r), 0x15);
	CHECK_EQ(get32(slot(24)), 0xb1);
	CHECK_EQ(cmds(&r, CMD_SYNC), 21);
	/* PREFETCH_CONFIG and PREFETCH_ADDR are consumed and do nothing. */
	r.prod = 0x15;
	submit(&r, 0x01 | sid_f(SID_A) | ssid_f(3), 0);
	submit(&r, 0x02 | sid_f(SID_A), 0x12345000 | 0x1f);
	CHECK_EQ(cons(&r), 0x17);
	CHECK_EQ(cmds(&r, CMD_PREFETCH_CONFIG), 1);
	CHECK_EQ(cmds(&r, CMD_PREFETCH_ADDR), 1);
	rig_stop(&r);

	/* A queue that is not memory: CERROR_ABT (2) in CONS.ERR (30:24), CONS
	 * stays at 0, GERROR.CMDQ_ERR. */
	rig_default(&r);
	wr32(r.s, SMMU_CR0, CR0_SMMUEN);
	wr64(r.s, SMMU_CMDQ_BASE, NOT_MEMORY | CMDQ_LOG2);
	wr32(r.s, SMMU_CR0, CR0_SMMUEN | CR0_CMDQEN);
	wr32(r.s, SMMU_CMDQ_PROD, 1);
	CHECK_EQ(cons(&r), 0x02000000u);
	CHECK_EQ(rd32(r.s, SMMU_GERROR), GERROR_CMDQ_ERR);
	/* Recovery: disable, a good base, enable: CMDQ_ERR still stops it. */
	wr32(r.s, SMMU_CR0, CR0_SMMUEN);
	wr64(r.s, SMMU_CMDQ_BASE, CMDQ_PA | CMDQ_LOG2);
	put64(CMDQ_PA, sync0(1, 0x42));
	put64(CMDQ_PA + 8, slot(30));
	wr32(r.s, SMMU_CR0, CR0_SMMUEN | CR0_CMDQEN);
	CHECK_EQ(cons(&r) & 0xfffff, 0);
	CHECK_EQ(get32(slot(30)), 0x11111111u);
	/* Acknowledging CMDQ_ERR restarts the queue without a PROD write. */
	wr32(r.s, SMMU_GERRORN, GERROR_CMDQ_ERR);
	CHECK_EQ(cons(&r) & 0xfffff, 1);
	CHECK_EQ(get32(slot(30)), 0x42);
	rig_stop(&r);
}

/* ---- illegal commands -------------------------------------------------------------------- */

struct bad {
	const char *what;
	uint64_t dw0, dw1;
};

static const struct bad bad_cases[] = {
	/* Reserved opcodes, Secure-only and EL3 commands, CFGI_VMS_PIDM without
	 * MPAM, EL2 commands without Hyp, DPT, IMPLEMENTATION DEFINED. */
	{ "opcode 0x00", 0x00, 0 },
	{ "CFGI_VMS_PIDM 0x07", 0x07, 0 },
	{ "opcode 0x08", 0x08, 0 },
	{ "opcode 0x0b", 0x0b, 0 },
	{ "opcode 0x14", 0x14, 0 },
	{ "TLBI_EL3_ALL 0x18", 0x18, 0 },
	{ "TLBI_EL3_VA 0x1a", 0x1a, 0x12345000 },
	{ "TLBI_EL2_ALL without Hyp", 0x20, 0 },
	{ "TLBI_EL2_ASID without Hyp", 0x21, 0 },
	{ "TLBI_EL2_VA without Hyp", 0x22, 0x12345000 },
	{ "TLBI_EL2_VAA without Hyp", 0x23, 0x12345000 },
	{ "opcode 0x29", 0x29, 0 },
	{ "opcode 0x31", 0x31, 0 },
	{ "opcode 0x42", 0x42, 0 },
	{ "opcode 0x47", 0x47, 0 },
	{ "TLBI_S_EL2_ALL 0x50", 0x50, 0 },
	{ "TLBI_S_S12_VMALL 0x58", 0x58, 0 },
	{ "TLBI_SNH_ALL 0x60", 0x60, 0 },
	{ "DPTI_ALL 0x70", 0x70, 0 },
	{ "IMPDEF 0x80", 0x80, 0 },
	{ "opcode 0xff", 0xff, 0 },
	/* SSec (bit 10) on the Non-secure queue. */
	{ "CFGI_STE SSec", 0x03 | 0x400, 0 },
	{ "CFGI_ALL SSec", 0x04 | 0x400, 31 },
	{ "PREFETCH_CONFIG SSec", 0x01 | 0x400, 0 },
	{ "STALL_TERM SSec", 0x45 | 0x400, 0 },
	/* Reserved fields. */
	{ "PREFETCH_CONFIG word 1", 0x01, 1 },
	{ "CFGI_STE bit 11", 0x03 | 0x800, 0 },
	{ "CFGI_STE bit 31", 0x03 | 1ull << 31, 0 },
	{ "CFGI_STE word 1 bit 1", 0x03, 2 },
	{ "CFGI_STE_RANGE word 1 bit 5", 0x04, 0x20 },
	{ "CFGI_CD bit 11", 0x05 | 0x800, 0 },
	{ "CFGI_CD word 1 bit 63", 0x05, 1ull << 63 },
	{ "CFGI_CD_ALL SSID", 0x06 | 1ull << 12, 0 },
	{ "CFGI_CD_ALL word 1 bit 0", 0x06, 1 },
	{ "TLBI_NH_ALL ASID", 0x10 | asid_f(1), 0 },
	{ "TLBI_NH_ALL word 1", 0x10, 1 },
	{ "TLBI_NH_ASID bit 8", 0x11 | 0x100, 0 },
	{ "TLBI_NH_ASID word 1", 0x11, 0x1000 },
	{ "TLBI_NH_VA bit 25 (SCALE[5] without DS)", 0x12 | 1ull << 25, 0x12345000 },
	{ "TLBI_NH_VA bit 17", 0x12 | 1ull << 17, 0x12345000 },
	{ "TLBI_NH_VA word 1 bit 7 (TTL128)", 0x12, 0x12345000 | 0x80 },
	{ "TLBI_NH_VA word 1 bit 1", 0x12, 0x12345000 | 0x2 },
	{ "TLBI_NH_VAA ASID", 0x13 | asid_f(5), 0x12345000 },
	{ "TLBI_S12_VMALL ASID", 0x28 | asid_f(1), 0 },
	{ "TLBI_S2_IPA ASID", 0x2a | asid_f(1), 0x12345000 },
	{ "TLBI_S2_IPA word 1 bit 52", 0x2a, 0x12345000 | 1ull << 52 },
	{ "TLBI_NSNH_ALL VMID", 0x30 | vmid_f(1), 0 },
	{ "ATC_INV bit 10", 0x40 | 0x400, 0 },
	{ "ATC_INV word 1 bit 6", 0x40, 0x40 },
	{ "PRI_RESP bit 9", 0x41 | 0x200, 2ull << 12 },
	{ "PRI_RESP word 1 bit 9", 0x41, 2ull << 12 | 0x200 },
	{ "PRI_RESP word 1 bit 14", 0x41, 2ull << 12 | 0x4000 },
	{ "RESUME bit 14", 0x44 | 0x4000, 0 },
	{ "RESUME word 1 bit 16", 0x44, 0x10000 },
	{ "STALL_TERM word 1", 0x45, 1 },
	{ "CMD_SYNC bit 8", 0x46 | 0x100, 0 },
	{ "CMD_SYNC bit 28", 0x46 | 1ull << 28, 0 },
	{ "CMD_SYNC word 1 bit 0", 0x46, 1 },
	{ "CMD_SYNC word 1 bit 52", 0x46, 1ull << 52 },
	/* Invalid values. */
	{ "PRI_RESP Resp 3", 0x41 | sid_f(EP_SID), 3ull << 12 },
	{ "CMD_SYNC CS 3", 0x46 | 3ull << 12, 0 },
	{ "ATC_INV Size 53", 0x40 | sid_f(EP_SID), 53 },
	{ "ATC_INV Size 63", 0x40 | sid_f(EP_SID), 63 },
	/* Range TLBI: TG != 0 with NUM = SCALE = TTL = 0 is Reserved; 16K (TG 2)
	 * with TTL 1 is Reserved without DS and counts as TTL 0; with TG 0, NUM,
	 * SCALE and TTL are RES0. */
	{ "NH_VA TG 4K, NUM SCALE TTL 0", 0x12, 0x12345000 | 1ull << 10 },
	{ "NH_VAA TG 64K, NUM SCALE TTL 0", 0x13, 0x12340000 | 3ull << 10 },
	{ "S2_IPA TG 16K, NUM SCALE TTL 0", 0x2a | vmid_f(7), 0x12344000 | 2ull << 10 },
	{ "NH_VA TG 16K TTL 1", 0x12, 0x12344000 | 2ull << 10 | 1ull << 8 },
	{ "NH_VA TG 0 TTL 3", 0x12, 0x12345000 | 3ull << 8 },
	{ "NH_VA TG 0 NUM 1", 0x12 | 1ull << 12, 0x12345000 },
	{ "S2_IPA TG 0 SCALE 1", 0x2a | 1ull << 20, 0x12345000 },
};

/*
 * A good CMD_SYNC (data 1 to slot 0), the bad command, a good CMD_SYNC (data 2
 * to slot 1): the queue stops at CONS 1 with CONS.ERR = CERROR_ILL (1 in bits
 * 30:24: 0x01000001) and GERROR.CMDQ_ERR; the first sync ran, the second did
 * not. While CMDQ_ERR is active a PROD write runs nothing. Software replaces the
 * bad command with a CMD_SYNC (data 3 to slot 2), as Linux does, and
 * acknowledges through GERRORN: both remaining commands run, CONS 3.
 */
static void run_bad(const struct smmu_config *c, const char *what, uint64_t dw0, uint64_t dw1)
{
	struct rig r;
	uint64_t before;

	rig_start(&r, c);
	put_cmd(&r, sync0(1, 1), slot(0));
	put_cmd(&r, dw0, dw1);
	put_cmd(&r, sync0(1, 2), slot(1));
	kick(&r);
	before = cmds(&r, (uint8_t)dw0);
	CHECK_MSG(cons(&r) == 0x01000001u, "%s: CONS 0x%x", what, cons(&r));
	CHECK_MSG(rd32(r.s, SMMU_GERROR) == GERROR_CMDQ_ERR, "%s: GERROR 0x%x", what,
		  rd32(r.s, SMMU_GERROR));
	CHECK_MSG(get32(slot(0)) == 1 && get32(slot(1)) == 0x11111111u, "%s: syncs", what);
	kick(&r);
	CHECK_MSG(cons(&r) == 0x01000001u && get32(slot(1)) == 0x11111111u, "%s: stopped", what);

	put64(CMDQ_PA + 16, sync0(1, 3));
	put64(CMDQ_PA + 24, slot(2));
	wr32(r.s, SMMU_GERRORN, GERROR_CMDQ_ERR);
	/* CONS.ERR is UNKNOWN once the error is inactive; the model keeps it. */
	CHECK_MSG((cons(&r) & 0xfffff) == 3, "%s: resumed CONS 0x%x", what, cons(&r));
	CHECK_MSG(get32(slot(2)) == 3 && get32(slot(1)) == 2, "%s: resumed", what);
	CHECK_MSG(cmds(&r, (uint8_t)dw0) == before || (uint8_t)dw0 == CMD_SYNC,
		  "%s: counted", what);
	CHECK_MSG(cmds(&r, CMD_SYNC) == 3, "%s: syncs run %llu", what,
		  (unsigned long long)cmds(&r, CMD_SYNC));
	rig_stop(&r);
}

static void test_illegal(void)
{
	struct smmu_config c;

	smmu_config_default(&c);
	for (unsigned i = 0; i < ARRAY_SIZE(bad_cases); i++)
		run_bad(&c, bad_cases[i].what, bad_cases[i].dw0, bad_cases[i].dw1);

	/* Commands of a feature the SMMU lacks. Stage 2 only: CFGI_CD, CFGI_CD_ALL
	 * and the NH TLBIs. */
	smmu_config_default(&c);
	c.s1p = false;
	c.cd2l = false;
	run_bad(&c, "CFGI_CD without S1P", 0x05 | sid_f(SID_A), 0);
	run_bad(&c, "CFGI_CD_ALL without S1P", 0x06 | sid_f(SID_A), 0);
	run_bad(&c, "TLBI_NH_ALL without S1P", 0x10, 0);
	run_bad(&c, "TLBI_NH_ASID without S1P", 0x11 | asid_f(4), 0);
	run_bad(&c, "TLBI_NH_VA without S1P", 0x12 | asid_f(4), VA1);
	run_bad(&c, "TLBI_NH_VAA without S1P", 0x13, VA1);
	/* Stage 1 only: S12_VMALL and S2_IPA. */
	smmu_config_default(&c);
	c.s2p = false;
	run_bad(&c, "TLBI_S12_VMALL without S2P", 0x28 | vmid_f(7), 0);
	run_bad(&c, "TLBI_S2_IPA without S2P", 0x2a | vmid_f(7), VA1);
	/* No ATS (and so no PRI): ATC_INV and PRI_RESP. */
	smmu_config_default(&c);
	c.ats = false;
	c.pri = false;
	run_bad(&c, "ATC_INV without ATS", 0x40 | sid_f(EP_SID), 52);
	run_bad(&c, "PRI_RESP without PRI", 0x41 | sid_f(EP_SID), 2ull << 12);
	/* ATS but no PRI. */
	smmu_config_default(&c);
	c.pri = false;
	run_bad(&c, "PRI_RESP without PRI (ATS)", 0x41 | sid_f(EP_SID), 2ull << 12);
	/* Stall model 0b01 (terminate only): RESUME and STALL_TERM. */
	smmu_config_default(&c);
	c.stall_model = 1;
	run_bad(&c, "RESUME without stalls", 0x44 | sid_f(SID_A) | 1ull << 12, 0);
	run_bad(&c, "STALL_TERM without stalls", 0x45 | sid_f(SID_A), 0);
	/* No RIL: TG, TTL, NUM, SCALE are RES0. */
	smmu_config_default(&c);
	c.ril = false;
	run_bad(&c, "NH_VA range without RIL", 0x12 | 1ull << 12, VA1 | 1ull << 10);
	run_bad(&c, "NH_VA TTL without RIL", 0x12, VA1 | 1ull << 10 | 3ull << 8);
}

/* Values at the edges that are legal: each command completes. */
static void test_legal_edges(void)
{
	struct smmu_config c;
	struct rig r;

	rig_default(&r);
	/* Every defined field set. */
	put_cmd(&r, 0x01 | 0xffffffff00000000ull | ssid_f(0xfffff), 0);
	put_cmd(&r, 0x02 | 0xffffffff00000000ull | ssid_f(0xfffff), ~0ull);
	put_cmd(&r, 0x03 | 0xffffffff00000000ull, 1);
	put_cmd(&r, 0x04 | 0xffffffff00000000ull, 30);
	put_cmd(&r, 0x05 | 0xffffffff00000000ull | 0xfffff000ull, 1);
	put_cmd(&r, 0x06 | 0xffffffff00000000ull, 0);
	/* NH_VA with 16-bit ASID and VMID, NUM 31 (16:12: 0x1f000), SCALE 31
	 * (24:20: 0x1f00000), TG 64K, TTL 3, Leaf; a range from a high address
	 * does not wrap. */
	put_cmd(&r, 0x12 | 0xffffffff00000000ull | 0x1f1f000ull, ~0xfeull);
	put_cmd(&r, 0x2a | vmid_f(0xffff) | 0x1f1f000ull, 0x000ffffffffff000ull | 0xf01);
	put_cmd(&r, 0x30, 0);
	/* ATC_INV with Size 52 (all), Global without SSV (IGNORED). */
	put_cmd(&r, 0x40 | sid_f(0xffff) | 0x200 | 0xfffff000ull, 52 | ~0xfffull);
	/* PRI_RESP to no endpoint; RESUME of an unknown STAG; STALL_TERM. */
	put_cmd(&r, 0x41 | sid_f(0xffff) | ssid_f(0xfffff), 0x1ff | 2ull << 12);
	put_cmd(&r, 0x44 | sid_f(0xffff) | 3ull << 12, 0xffff);
	put_cmd(&r, 0x45 | sid_f(0xffff), 0);
	/* CMD_SYNC with MSH and MSIAttr set. */
	put_cmd(&r, sync0(1, 0xabc) | 3ull << 22 | 0xfull << 24, slot(9));
	kick(&r);
	CHECK_EQ(cons(&r), 14);
	CHECK_EQ(rd32(r.s, SMMU_GERROR), 0);
	CHECK_EQ(get32(slot(9)), 0xabc);
	rig_stop(&r);

	/* 8-bit ASIDs and VMIDs: the upper halves are ignored, not illegal. */
	smmu_config_default(&c);
	c.asid16 = false;
	c.vmid16 = false;
	rig_start(&r, &c);
	submit(&r, 0x11 | asid_f(0x1204) | vmid_f(0x3400), 0);
	CHECK_EQ(cons(&r), 1);
	CHECK_EQ(rd32(r.s, SMMU_GERROR), 0);
	rig_stop(&r);
}

/* ---- invalidations, observed through translations -----------------------------------------
 *
 * Hand-built structures (spec 5.2, 5.4; LPAE tables per docs/facts/arm-lpae.md):
 * STE of SIDs 0x10, 0x11, 0x12 (stage 1):
 *   dw0 = V (bit 0) | Config 0b101 (3:1: 0xa) | S1ContextPtr 0x20000 (51:6) |
 *         S1CDMax 4 (63:59) = 0x200000000002000b
 *   dw1 = S1DSS 0b10 (no-SSID traffic uses CD 0) = 0x2; dw2 = S2VMID 0.
 * CD 0 (ASID 4), CD 1 (ASID 5) at 0x20000 + 64 n:
 *   dw0 = T0SZ 16 (0x10) | EPD1 (bit 30) | V (bit 31) | IPS 0b101 (34:32) |
 *         AA64 (bit 41) | R (bit 45) | A (bit 46) | ASID << 48
 *       = 0x00006205c0000010 | ASID << 48; dw1 = TTB0 0x100000.
 * Stage 1, 4K, 48-bit: VA 0x12345000 has L0 0, L1 0, L2 0x91, L3 0x145:
 *   0x100000[0] = 0x101003, 0x101000[0] = 0x102003, 0x102488 = 0x103003,
 *   L3 0x103a28 (VA1) = 0x755000 | nG 0x800 | AF 0x400 | AP[1] 0x40 | 3 = 0x755c43
 *   L3 0x103a30 (VA2) = 0x756c43, L3 0x103a38 (VA3, global) = 0x757443.
 * STE of SID 0x18 (VMID 7) and 0x20 (VMID 8), stage 2:
 *   dw0 = V | Config 0b110 (0xc) = 0xd
 *   dw2 = S2VMID | S2T0SZ 25 (37:32) | S2SL0 1 (39:38) | S2PS 0b101 (50:48) |
 *         S2AA64 (51) | S2R (58) = 0x040d005900000000 | VMID; dw3 = S2TTB 0x200000.
 * Stage 2, 39-bit IPA, start level 1: L1 0x200000[0] = 0x201003, L2 0x201488 =
 *   0x202003, L3 0x202a28 (IPA VA1) = 0x765000 | AF | S2AP 0b11 (0xc0) | 3 =
 *   0x7654c3, L3 0x202a30 (VA2) = 0x7664c3.
 */
static void build_tables(void)
{
	static const uint32_t s1_sids[] = { SID_A, SID_B, SID_C };

	if (mem_fill(mem, STRTAB, 0, 0x4000) || mem_fill(mem, CDTAB, 0, 0x1000) ||
	    mem_fill(mem, S1_PA, 0, 0x4000) || mem_fill(mem, S2_PA, 0, 0x3000))
		die("mem_fill");
	for (unsigned i = 0; i < ARRAY_SIZE(s1_sids); i++) {
		put64(STE(s1_sids[i]), 0x200000000002000bull);
		put64(STE(s1_sids[i]) + 8, 0x2);
	}
	put64(CDTAB, 0x00046205c0000010ull);
	put64(CDTAB + 8, S1_PA);
	put64(CDTAB + 64, 0x00056205c0000010ull);
	put64(CDTAB + 64 + 8, S1_PA);
	put64(S1_PA, 0x101003);
	put64(S1_PA + 0x1000, 0x102003);
	put64(S1_PA + 0x2488, 0x103003);
	put64(S1_PA + 0x3a28, 0x755c43);
	put64(S1_PA + 0x3a30, 0x756c43);
	put64(S1_PA + 0x3a38, 0x757443);

	put64(STE(SID_D), 0xd);
	put64(STE(SID_D) + 16, 0x040d005900000007ull);
	put64(STE(SID_D) + 24, S2_PA);
	put64(STE(SID_E), 0xd);
	put64(STE(SID_E) + 16, 0x040d005900000008ull);
	put64(STE(SID_E) + 24, S2_PA);
	put64(S2_PA, 0x201003);
	put64(S2_PA + 0x1488, 0x202003);
	put64(S2_PA + 0x2a28, 0x7654c3);
	put64(S2_PA + 0x2a30, 0x7664c3);
}

struct probe {
	bool ok;
	uint64_t pa;
	bool ste_hit, tlb_hit;
	uint64_t cfg_fills, walk_refs;
};

static struct probe probe(struct smmu *s, uint32_t sid, int ssid, uint64_t addr)
{
	struct dev_txn t = {
		.rid = (uint16_t)sid, .pasid_valid = ssid >= 0,
		.pasid = ssid >= 0 ? (uint32_t)ssid : 0, .at = DEV_AT_UNTRANSLATED, .addr = addr,
	};
	struct smmu_stats a, b;
	struct dev_xlate x;
	struct probe p;

	smmu_get_stats(s, &a);
	smmu_translate(s, &t, &x);
	smmu_get_stats(s, &b);
	p.ok = x.status == DEV_XLATE_OK;
	p.pa = x.pa;
	p.ste_hit = b.cfg.hits > a.cfg.hits;
	p.tlb_hit = b.tlb.hits > a.tlb.hits;
	p.cfg_fills = b.cfg.fills - a.cfg.fills;
	p.walk_refs = b.walk_refs - a.walk_refs;
	return p;
}

/* Every translation the cases use, each filling what it needs. */
static void warm(struct smmu *s)
{
	static const struct { uint32_t sid; int ssid; uint64_t va; } w[] = {
		{ SID_A, 1, VA1 }, { SID_A, 1, VA2 }, { SID_A, 1, VA3 },
		{ SID_A, -1, VA1 }, { SID_A, -1, VA2 }, { SID_A, -1, VA3 },
		{ SID_B, 1, VA1 }, { SID_C, 1, VA1 },
		{ SID_D, -1, VA1 }, { SID_D, -1, VA2 }, { SID_E, -1, VA1 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(w); i++)
		probe(s, w[i].sid, w[i].ssid, w[i].va);
}

#define TLB_HIT(sid, ssid, va)   CHECK(probe(r.s, sid, ssid, va).tlb_hit)
#define TLB_MISS(sid, ssid, va)  CHECK(!probe(r.s, sid, ssid, va).tlb_hit)

static void test_invalidations(void)
{
	struct probe p;
	struct rig r;

	build_tables();
	rig_default(&r);
	p = probe(r.s, SID_A, 1, VA1 + 0x678);
	if (!p.ok) {
		printf("SKIP invalidations: the SMMU does not translate the test tables\n");
		rig_stop(&r);
		return;
	}
	CHECK_EQ(p.pa, 0x755678);
	CHECK_EQ(probe(r.s, SID_A, -1, VA3).pa, 0x757000);
	CHECK_EQ(probe(r.s, SID_D, -1, VA2 + 8).pa, 0x766008);
	warm(r.s);
	/* Warm: the STE hits, nothing is filled, the TLB hits. */
	p = probe(r.s, SID_A, 1, VA2);
	CHECK(p.ste_hit && p.tlb_hit && p.cfg_fills == 0);

	/* CFGI_STE SID 0x10 (Leaf 1): that STE and the CDs cached through it
	 * (two fills: STE and CD 1); SID 0x11 untouched; the TLB is not its
	 * business. */
	submit(&r, 0x03 | sid_f(SID_A), 1);
	p = probe(r.s, SID_A, 1, VA1);
	CHECK(!p.ste_hit && p.cfg_fills == 2 && p.tlb_hit);
	p = probe(r.s, SID_B, 1, VA1);
	CHECK(p.ste_hit && p.cfg_fills == 0);
	/* CFGI_STE_RANGE SID 0x11, Range 0: 2^1 StreamIDs aligned: 0x10 and 0x11,
	 * not 0x12. */
	warm(r.s);
	submit(&r, 0x04 | sid_f(SID_B), 0);
	CHECK(!probe(r.s, SID_A, 1, VA1).ste_hit);
	CHECK(!probe(r.s, SID_B, 1, VA1).ste_hit);
	CHECK(probe(r.s, SID_C, 1, VA1).ste_hit);
	/* Range 1 from SID 0x13: 4 StreamIDs 0x10-0x13 (the low 2 bits ignored). */
	warm(r.s);
	submit(&r, 0x04 | sid_f(0x13), 1);
	CHECK(!probe(r.s, SID_A, 1, VA1).ste_hit);
	CHECK(!probe(r.s, SID_C, 1, VA1).ste_hit);
	CHECK(probe(r.s, SID_D, -1, VA1).ste_hit);
	/* CFGI_ALL (Range 31, StreamID IGNORED): every STE. */
	warm(r.s);
	submit(&r, 0x04 | sid_f(0x1234), 31);
	CHECK(!probe(r.s, SID_A, 1, VA1).ste_hit);
	CHECK(!probe(r.s, SID_D, -1, VA1).ste_hit);
	CHECK(!probe(r.s, SID_E, -1, VA1).ste_hit);
	/* CFGI_CD SID 0x10 SSID 1: that CD only (one fill, the STE hits); CD 0 of
	 * SID 0x10 and CD 1 of SID 0x11 stay. */
	warm(r.s);
	submit(&r, 0x05 | sid_f(SID_A) | 1ull << 12, 1);
	p = probe(r.s, SID_A, 1, VA1);
	CHECK(p.ste_hit && p.cfg_fills == 1);
	p = probe(r.s, SID_A, -1, VA1);
	CHECK(p.ste_hit && p.cfg_fills == 0);
	p = probe(r.s, SID_B, 1, VA1);
	CHECK(p.ste_hit && p.cfg_fills == 0);
	/* CFGI_CD_ALL SID 0x10: both CDs of 0x10, not 0x11's. */
	warm(r.s);
	submit(&r, 0x06 | sid_f(SID_A), 0);
	CHECK_EQ(probe(r.s, SID_A, 1, VA1).cfg_fills, 1);
	CHECK_EQ(probe(r.s, SID_A, -1, VA1).cfg_fills, 1);
	CHECK_EQ(probe(r.s, SID_B, 1, VA1).cfg_fills, 0);

	/* TLBI_NH_ASID VMID 0 ASID 5: the non-global entries of ASID 5 (VA1, VA2 of
	 * SSID 1); the global VA3 and ASID 4's entries stay. */
	warm(r.s);
	submit(&r, 0x11 | vmid_f(0) | asid_f(5), 0);
	TLB_MISS(SID_A, 1, VA1);
	TLB_MISS(SID_A, 1, VA2);
	TLB_HIT(SID_A, 1, VA3);
	TLB_HIT(SID_A, -1, VA1);
	/* Another VMID: nothing. */
	warm(r.s);
	submit(&r, 0x11 | vmid_f(3) | asid_f(5), 0);
	TLB_HIT(SID_A, 1, VA1);
	/* TLBI_NH_VA ASID 5 at VA1 (TG 0: the entry holding the address): that
	 * page of ASID 5 only. */
	warm(r.s);
	submit(&r, 0x12 | asid_f(5), VA1);
	TLB_MISS(SID_A, 1, VA1);
	TLB_HIT(SID_A, 1, VA2);
	TLB_HIT(SID_A, -1, VA1);
	/* At the global VA3 with ASID 5: the global entry goes whatever ASID it
	 * was filled under (ASID 4's too). */
	warm(r.s);
	submit(&r, 0x12 | asid_f(5), VA3);
	TLB_MISS(SID_A, 1, VA3);
	TLB_MISS(SID_A, -1, VA3);
	TLB_HIT(SID_A, -1, VA1);
	/* TLBI_NH_VAA at VA1: every ASID's entry there. */
	warm(r.s);
	submit(&r, 0x13, VA1);
	TLB_MISS(SID_A, 1, VA1);
	TLB_MISS(SID_A, -1, VA1);
	TLB_HIT(SID_A, 1, VA2);
	/* Range (RIL): TG 0b01 (4K) with NUM 1, SCALE 0: (1 + 1) * 2^0 pages from
	 * VA1: VA1 and VA2, not VA3. */
	warm(r.s);
	submit(&r, 0x12 | asid_f(5) | 1ull << 12, VA1 | 1ull << 10);
	TLB_MISS(SID_A, 1, VA1);
	TLB_MISS(SID_A, 1, VA2);
	TLB_HIT(SID_A, 1, VA3);
	/* NUM 0, SCALE 1: (0 + 1) * 2^1 = 2 pages, the same. */
	warm(r.s);
	submit(&r, 0x13 | 1ull << 20, VA1 | 1ull << 10);
	TLB_MISS(SID_A, -1, VA1);
	TLB_MISS(SID_A, -1, VA2);
	TLB_HIT(SID_A, -1, VA3);
	/* NUM 0, SCALE 0 with the level hint TTL 3: one page. */
	warm(r.s);
	submit(&r, 0x13, VA2 | 1ull << 10 | 3ull << 8);
	TLB_HIT(SID_A, -1, VA1);
	TLB_MISS(SID_A, -1, VA2);
	/* A 64K-granule range (TG 0b11): only entries of 64K-granule tables need
	 * go, the model may drop more: only legality is checked here. */
	submit(&r, 0x13 | 1ull << 12, 0x12340000 | 3ull << 10);
	CHECK_EQ(rd32(r.s, SMMU_GERROR), 0);
	/* Leaf = 0 drops the walk-cache entries of the range too: the next walk
	 * reads all four levels. Leaf = 1 need only drop last-level entries: the
	 * model keeps the table pointers (one reference, the L3 entry). */
	warm(r.s);
	submit(&r, 0x12 | asid_f(5), VA1);
	p = probe(r.s, SID_A, 1, VA1);
	CHECK(!p.tlb_hit && p.walk_refs == 4);
	warm(r.s);
	submit(&r, 0x12 | asid_f(5), VA1 | 1);
	p = probe(r.s, SID_A, 1, VA1);
	CHECK(!p.tlb_hit && p.walk_refs == 1);
	/* TLBI_NH_ALL VMID 0: every stage-1 entry of VMID 0; stage 2 stays. */
	warm(r.s);
	submit(&r, 0x10, 0);
	TLB_MISS(SID_A, 1, VA1);
	TLB_MISS(SID_A, -1, VA3);
	TLB_HIT(SID_D, -1, VA1);

	/* TLBI_S2_IPA VMID 7 at VA1's IPA: that page of VMID 7; VA2 and VMID 8
	 * stay. */
	warm(r.s);
	submit(&r, 0x2a | vmid_f(7), VA1);
	TLB_MISS(SID_D, -1, VA1);
	TLB_HIT(SID_D, -1, VA2);
	TLB_HIT(SID_E, -1, VA1);
	/* ... as a range: TG 4K, NUM 1: both pages of VMID 7. */
	warm(r.s);
	submit(&r, 0x2a | vmid_f(7) | 1ull << 12, VA1 | 1ull << 10);
	TLB_MISS(SID_D, -1, VA1);
	TLB_MISS(SID_D, -1, VA2);
	TLB_HIT(SID_E, -1, VA1);
	/* TLBI_S12_VMALL VMID 7: every entry of VMID 7. */
	warm(r.s);
	submit(&r, 0x28 | vmid_f(7), 0);
	TLB_MISS(SID_D, -1, VA1);
	TLB_MISS(SID_D, -1, VA2);
	TLB_HIT(SID_E, -1, VA1);
	TLB_HIT(SID_A, 1, VA1);
	/* TLBI_NSNH_ALL: everything. */
	warm(r.s);
	submit(&r, 0x30, 0);
	TLB_MISS(SID_A, 1, VA1);
	TLB_MISS(SID_D, -1, VA1);
	TLB_MISS(SID_E, -1, VA1);

	CHECK_EQ(rd32(r.s, SMMU_GERROR), 0);
	CHECK_EQ(cmds(&r, CMD_CFGI_STE), 1);
	CHECK_EQ(cmds(&r, CMD_CFGI_STE_RANGE), 3);
	CHECK_EQ(cmds(&r, CMD_CFGI_CD), 1);
	CHECK_EQ(cmds(&r, CMD_CFGI_CD_ALL), 1);
	CHECK_EQ(cmds(&r, CMD_TLBI_NH_ASID), 2);
	CHECK_EQ(cmds(&r, CMD_TLBI_NH_VA), 5);
	CHECK_EQ(cmds(&r, CMD_TLBI_NH_VAA), 4);
	CHECK_EQ(cmds(&r, CMD_TLBI_NH_ALL), 1);
	CHECK_EQ(cmds(&r, CMD_TLBI_S2_IPA), 2);
	CHECK_EQ(cmds(&r, CMD_TLBI_S12_VMALL), 1);
	CHECK_EQ(cmds(&r, CMD_TLBI_NSNH_ALL), 1);
	rig_stop(&r);
}

/* ---- endpoints: ATC_INV, PRI_RESP, the PRI queue ----------------------------------------- */

struct stand_in {
	struct dev_port port;
	struct rig *rig;
	_Atomic bool present;           /* pages "present": ATS answers OK */
	unsigned respond;               /* PRI_RESP Resp the page_request handler queues */
	enum { SI_RESPOND, SI_REAL_QUEUE, SI_REAL_NO_SOFTWARE } mode;
	struct dev_page_req last_pr;
	unsigned page_requests;
	int last_ret;                   /* smmu_page_request's answer (real queue) */
	unsigned translate_delay_ms;    /* > 0: translate sleeps, then records an event */
	_Atomic int in_translate;
};

/* Identity translations of 4 KiB pages, standing in for the SMMU's translation
 * so that the endpoint's device TLB holds known entries. */
static void si_translate(void *iommu, const struct dev_txn *t, struct dev_xlate *x)
{
	struct stand_in *si = iommu;

	memset(x, 0, sizeof(x[0]));
	if (si->translate_delay_ms && t->at == DEV_AT_TRANS_REQ) {
		struct smmu_event e = { .id = EVT_F_TRANSLATION, .sid = t->rid, .rnw = true };

		atomic_store(&si->in_translate, 1);
		sleep_ms(si->translate_delay_ms);
		/* What the SMMU's translation does on a fault: takes its lock. */
		smmu_event(si->rig->s, &e);
	}
	if (t->at == DEV_AT_TRANS_REQ && !atomic_load(&si->present)) {
		x->status = DEV_XLATE_NO_ACCESS;
		return;
	}
	x->status = DEV_XLATE_OK;
	x->pa = t->addr;
	x->page_base = t->addr & ~0xfffull;
	x->size = 0x1000;
	x->r = x->w = true;
}

/* PRI_RESP for a page request: SID, SSV/SSID as the request, PRGIndex, Resp. */
static void respond(struct rig *r, uint32_t sid, bool ssv, uint32_t ssid, unsigned prgi,
		    unsigned resp)
{
	submit(r, 0x41 | sid_f(sid) | (ssv ? ssid_f(ssid) : 0), prgi | (uint64_t)resp << 12);
}

/* Software's page request handler: reads the PRI queue entry at CONS, consumes
 * it and answers from its fields (dw0 SID 31:0, SSID 51:32, SSV 63; dw1 PRGI
 * 8:0). */
static void software_handles_priq(struct stand_in *si)
{
	struct smmu *s = si->rig->s;
	uint32_t c = rd32(s, SMMU_PRIQ_CONS), idx = c & 3;
	uint64_t dw0 = get64(PRIQ_PA + 16ull * idx), dw1 = get64(PRIQ_PA + 16ull * idx + 8);

	wr32(s, SMMU_PRIQ_CONS, (c & 0x80000000u) | ((c + 1) & 7));
	respond(si->rig, (uint32_t)(dw0 & 0xffffffff), dw0 >> 63, (uint32_t)(dw0 >> 32) & 0xfffff,
		(unsigned)(dw1 & 0x1ff), si->respond);
}

static int si_page_request(void *iommu, const struct dev_page_req *pr)
{
	struct stand_in *si = iommu;
	int ret = 0;

	si->last_pr = *pr;
	si->page_requests++;
	switch (si->mode) {
	case SI_RESPOND:
		if (si->respond == PRI_RESP_SUCC)
			atomic_store(&si->present, true);
		respond(si->rig, pr->rid, pr->pasid_valid, pr->pasid, pr->prgi, si->respond);
		break;
	case SI_REAL_QUEUE:
		/* Through the SMMU's own page request path, then software. */
		ret = smmu_page_request(si->rig->s, pr);
		si->last_ret = ret;
		if (!ret) {
			if (si->respond == PRI_RESP_SUCC)
				atomic_store(&si->present, true);
			software_handles_priq(si);
		}
		break;
	case SI_REAL_NO_SOFTWARE:
		ret = smmu_page_request(si->rig->s, pr);
		si->last_ret = ret;
		break;
	}
	return ret;
}

static uint8_t dma_buf[64];

static int dma(struct dev_ep *ep, bool pasid_valid, uint32_t pasid, uint64_t iova,
	       uint64_t wait_ns, struct dev_dma_report *rep)
{
	struct dev_dma d = {
		.pasid_valid = pasid_valid, .pasid = pasid, .iova = iova, .buf = dma_buf,
		.len = 8, .use_pri = true, .retry_wait_ns = wait_ns,
	};

	return dev_dma(ep, &d, rep);
}

/* Whether a read DMA at iova hit the device TLB (a miss fills it again). */
static bool atc_hit(struct dev_ep *ep, bool pasid_valid, uint32_t pasid, uint64_t iova)
{
	struct dev_dma_report rep;

	if (dma(ep, pasid_valid, pasid, iova, 5000000000ull, &rep) || rep.status != DEV_DMA_OK)
		return false;
	return rep.atc_hits == 1;
}

static uint64_t dropped(struct dev_ep *ep)
{
	struct dev_ep_stats st;

	dev_ep_get_stats(ep, &st);
	return st.atc_invalidated;
}

static uint64_t responses(struct dev_ep *ep)
{
	struct dev_ep_stats st;

	dev_ep_get_stats(ep, &st);
	return st.prg_responses;
}

/* ATC_INV: SID 63:32, SSID 31:12, SSV 11, Global 9; word 1: Size 5:0, Addr 63:12. */
static uint64_t atc0(uint32_t sid, bool ssv, uint32_t ssid, bool global)
{
	return 0x40 | sid_f(sid) | (ssv ? ssid_f(ssid) : 0) | (global ? 0x200 : 0);
}

struct racer {
	struct dev_ep *ep;
	int status;
};

static void *race_dma(void *arg)
{
	struct racer *rc = arg;
	struct dev_dma_report rep;

	rc->status = dma(rc->ep, false, 0, DMA_PA + 0x10000, 5000000000ull, &rep) ? -1 :
		     (int)rep.status;
	return NULL;
}

static struct dev_ep *new_endpoint(void)
{
	struct dev_ep_config ec = {
		.rid = EP_SID, .pasid_bits = 20, .ats = true, .atc_entries = 64, .atc_ways = 4,
		.pri = true, .pri_outstanding = 8,
	};

	return dev_ep_new(&ec, mem);
}

static void attach(struct rig *r, struct stand_in *si, struct dev_ep *ep)
{
	*si = (struct stand_in){ 0 };
	si->rig = r;
	si->port = (struct dev_port){
		.iommu = si, .translate = si_translate, .page_request = si_page_request,
	};
	CHECK_EQ(smmu_attach(r->s, ep), 0);
	dev_ep_attach(ep, &si->port);           /* the stand-in translates */
	CHECK_EQ(dev_ep_enable_ats(ep, true), 0);
	CHECK_EQ(dev_ep_enable_pasid(ep, true), 0);
	CHECK_EQ(dev_ep_enable_pri(ep, true), 0);
	atomic_store(&si->present, true);
}

static void test_atc_inv(void)
{
	struct stand_in si;
	struct dev_ep *ep = new_endpoint();
	struct racer racer;
	pthread_t thr;
	struct rig r;
	uint64_t before;

	if (!ep)
		die("dev_ep_new");
	rig_default(&r);
	attach(&r, &si, ep);

	/* Device TLB: no PASID at DMA_PA + 0..3 pages; PASID 7 at +0, +1; PASID 9
	 * at +0. Each first DMA misses and fills, the second hits. */
	for (unsigned i = 0; i < 4; i++)
		CHECK(!atc_hit(ep, false, 0, DMA_PA + 0x1000 * i));
	CHECK(!atc_hit(ep, true, 7, DMA_PA));
	CHECK(!atc_hit(ep, true, 7, DMA_PA + 0x1000));
	CHECK(!atc_hit(ep, true, 9, DMA_PA));
	CHECK(atc_hit(ep, false, 0, DMA_PA + 0x3000));
	CHECK(atc_hit(ep, true, 9, DMA_PA));

	/* SSV, SSID 7, Size 0 (one 4 KiB page) at DMA_PA: one entry. */
	before = dropped(ep);
	submit(&r, atc0(EP_SID, true, 7, false), DMA_PA);
	CHECK_EQ(dropped(ep) - before, 1);
	CHECK(atc_hit(ep, true, 7, DMA_PA + 0x1000));
	CHECK(atc_hit(ep, true, 9, DMA_PA));
	CHECK(atc_hit(ep, false, 0, DMA_PA));
	/* SSV, SSID 9, Global, Size 52 (all): every PASID-tagged entry (PASID 7
	 * +1 and PASID 9 +0); the entries without PASID stay. */
	before = dropped(ep);
	submit(&r, atc0(EP_SID, true, 9, true), 52);
	CHECK_EQ(dropped(ep) - before, 2);
	for (unsigned i = 0; i < 4; i++)
		CHECK(atc_hit(ep, false, 0, DMA_PA + 0x1000 * i));
	/* No SSV, Size 2 (4 pages = 16 KiB) at DMA_PA + 0x1000: aligned to the
	 * span, DMA_PA..+0x3fff: the four entries. Global without SSV is IGNORED. */
	before = dropped(ep);
	submit(&r, atc0(EP_SID, false, 0, true), (DMA_PA + 0x1000) | 2);
	CHECK_EQ(dropped(ep) - before, 4);
	/* Refill two; Size 0 at DMA_PA + 0x1000: that page only. */
	CHECK(!atc_hit(ep, false, 0, DMA_PA));
	CHECK(!atc_hit(ep, false, 0, DMA_PA + 0x1000));
	before = dropped(ep);
	submit(&r, atc0(EP_SID, false, 0, false), DMA_PA + 0x1000);
	CHECK_EQ(dropped(ep) - before, 1);
	CHECK(atc_hit(ep, false, 0, DMA_PA));
	/* Size 1 (8 KiB) at DMA_PA + 0x3000: aligned to DMA_PA + 0x2000: DMA_PA +
	 * 0x2000 and 0x3000 (refilled first). */
	CHECK(!atc_hit(ep, false, 0, DMA_PA + 0x2000));
	CHECK(!atc_hit(ep, false, 0, DMA_PA + 0x3000));
	before = dropped(ep);
	submit(&r, atc0(EP_SID, false, 0, false), (DMA_PA + 0x3000) | 1);
	CHECK_EQ(dropped(ep) - before, 2);
	CHECK(atc_hit(ep, false, 0, DMA_PA));
	/* A StreamID with no endpoint: consumed, nothing happens. */
	before = dropped(ep);
	submit(&r, atc0(EP_SID + 1, false, 0, false), 52);
	CHECK_EQ(dropped(ep) - before, 0);
	/* With SMMUEN = 0 the command is consumed and IGNORED. */
	wr32(r.s, SMMU_CR0, CR0_CMDQEN);
	submit(&r, atc0(EP_SID, false, 0, false), 52);
	CHECK_EQ(dropped(ep) - before, 0);
	CHECK(atc_hit(ep, false, 0, DMA_PA));
	wr32(r.s, SMMU_CR0, CR0_SMMUEN | CR0_CMDQEN);
	/* Size 52 without SSV: everything. */
	submit(&r, atc0(EP_SID, false, 0, false), 52);
	CHECK_EQ(dropped(ep) - before, 1);
	CHECK_EQ(rd32(r.s, SMMU_GERROR), 0);
	CHECK_EQ(cmds(&r, CMD_ATC_INV), 8);

	/* An ATC_INV while a DMA is inside a translation that takes the SMMU's lock
	 * (it records an event): the queue must not hold the lock while the
	 * endpoint waits for that DMA. This would hang otherwise. */
	si.translate_delay_ms = 50;
	racer.ep = ep;
	if (pthread_create(&thr, NULL, race_dma, &racer))
		die("pthread_create");
	while (!atomic_load(&si.in_translate))
		sleep_ms(1);
	submit(&r, atc0(EP_SID, false, 0, false), 52);
	submit(&r, sync0(1, 0x5e), slot(40));
	pthread_join(thr, NULL);
	si.translate_delay_ms = 0;
	CHECK_EQ(racer.status, DEV_DMA_OK);
	CHECK_EQ(cons(&r), r.prod);
	CHECK_EQ(get32(slot(40)), 0x5e);
	CHECK_EQ(cmds(&r, CMD_ATC_INV), 9);

	rig_stop(&r);                           /* detaches the endpoint */
	dev_ep_free(ep);
}

static void test_pri_resp(void)
{
	struct dev_dma_report rep;
	struct stand_in si;
	struct dev_ep *ep = new_endpoint();
	struct rig r;

	if (!ep)
		die("dev_ep_new");
	rig_default(&r);
	attach(&r, &si, ep);

	/* Resp 2 (Success): the page is absent, the endpoint asks, the handler
	 * answers through the command queue with its PRGI and PASID; the endpoint
	 * retries and the DMA completes. */
	atomic_store(&si.present, false);
	si.respond = 2;
	CHECK_EQ(dma(ep, true, 7, DMA_PA + 0x8000, 5000000000ull, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_OK);
	CHECK_EQ(rep.page_requests, 1);
	CHECK(si.last_pr.pasid_valid && si.last_pr.pasid == 7);
	CHECK_EQ(responses(ep), 1);
	/* Resp 1 (InvalidRequest, PCIe 0b0001): the DMA fails; PRI goes on. */
	atomic_store(&si.present, false);
	si.respond = 1;
	CHECK_EQ(dma(ep, false, 0, DMA_PA + 0x9000, 5000000000ull, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_PRI_FAILED);
	CHECK_EQ(responses(ep), 2);
	CHECK_EQ(dma(ep, false, 0, DMA_PA + 0x9000, 5000000000ull, &rep), 0);
	CHECK_EQ(rep.page_requests, 1);                 /* still asking */
	CHECK_EQ(responses(ep), 3);
	/* Resp 0 (ResponseFailure, PCIe 0b1111): the DMA fails and the endpoint
	 * stops making page requests until PRI is re-enabled. */
	si.respond = 0;
	CHECK_EQ(dma(ep, false, 0, DMA_PA + 0xa000, 5000000000ull, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_PRI_FAILED);
	CHECK_EQ(responses(ep), 4);
	CHECK_EQ(dma(ep, false, 0, DMA_PA + 0xa000, 5000000000ull, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_FAULT);
	CHECK_EQ(rep.page_requests, 0);
	CHECK_EQ(dev_ep_enable_pri(ep, true), 0);
	/* A response with no group outstanding (PRGI 0x1ff): consumed, dropped. */
	respond(&r, EP_SID, false, 0, 0x1ff, 2);
	respond(&r, EP_SID, true, 3, 0x1ff, 2);
	CHECK_EQ(responses(ep), 4);
	/* With SMMUEN = 0 PRI_RESP is IGNORED. */
	wr32(r.s, SMMU_CR0, CR0_CMDQEN);
	respond(&r, EP_SID, false, 0, 0, 2);
	wr32(r.s, SMMU_CR0, CR0_SMMUEN | CR0_CMDQEN);
	CHECK_EQ(rd32(r.s, SMMU_GERROR), 0);
	CHECK_EQ(cmds(&r, CMD_PRI_RESP), 7);
	rig_stop(&r);
	dev_ep_free(ep);
}

/* The PRI queue end to end through smmu_page_request, and the automatic
 * responses of spec 8.1/8.2. */
static void test_pri_queue_responses(void)
{
	struct dev_dma_report rep;
	struct stand_in si;
	struct dev_ep *ep = new_endpoint();
	struct rig r;

	if (!ep)
		die("dev_ep_new");
	build_tables();
	/* The endpoint's STE: V | Config bypass (0b100: 0x8), EATS 0b01 (29:28),
	 * PPAR (bit 18) = 0 for now: dw0 = 0x9, dw1 = 0x10000000. */
	put64(STE(EP_SID), 0x9);
	put64(STE(EP_SID) + 8, 0x10000000);
	if (mem_fill(mem, PRIQ_PA, 0, 0x100))
		die("mem_fill");
	rig_default(&r);
	/* A PRI queue of 4 entries; PRIQEN. */
	wr64(r.s, SMMU_PRIQ_BASE, PRIQ_PA | 2);
	wr32(r.s, SMMU_PRIQ_PROD, 0);
	wr32(r.s, SMMU_PRIQ_CONS, 0);
	wr32(r.s, SMMU_CR0, CR0_SMMUEN | CR0_CMDQEN | CR0_PRIQEN);
	attach(&r, &si, ep);

	/* The request goes to the queue (SID 0x30, SSID 7, READ, LAST, SSV), the
	 * handler consumes it and answers Success from its fields. */
	si.mode = SI_REAL_QUEUE;
	si.respond = 2;
	atomic_store(&si.present, false);
	CHECK_EQ(dma(ep, true, 7, DMA_PA + 0x8000, 5000000000ull, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_OK);
	CHECK_EQ(si.last_ret, 0);
	/* dw0 = SID 0x30 | SSID 7 (51:32) | READ (60) | LAST (62) | SSV (63). */
	CHECK_EQ(get64(PRIQ_PA), 0xd000000700000030ull);
	CHECK_EQ(rd32(r.s, SMMU_PRIQ_PROD), 1);
	CHECK_EQ(rd32(r.s, SMMU_PRIQ_CONS), 1);
	CHECK_EQ(responses(ep), 1);

	/* Overflow. Without software: with CONS at 1, four requests fill the
	 * queue (PROD 5: index 1, wrap 1); each DMA times out after 20 ms, its
	 * group left outstanding. The fifth finds it full: OVFLG toggles and, being
	 * Last, the request gets an automatic response. IDR3.PPS = 0 and STE.PPAR
	 * = 0: Success without PASID, which a PASID group does not take (-ENOENT):
	 * that DMA times out too. */
	si.mode = SI_REAL_NO_SOFTWARE;
	atomic_store(&si.present, false);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(dma(ep, true, 7, DMA_PA + 0x10000 + 0x1000 * i, 20000000ull, &rep), 0);
		CHECK_EQ(rep.status, DEV_DMA_PRI_TIMEOUT);
		CHECK_EQ(si.last_ret, 0);
	}
	CHECK_EQ(rd32(r.s, SMMU_PRIQ_PROD), 5);
	CHECK_EQ(dma(ep, true, 7, DMA_PA + 0x14000, 20000000ull, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_PRI_TIMEOUT);
	CHECK_EQ(rd32(r.s, SMMU_PRIQ_PROD), 0x80000005u);
	CHECK_EQ(si.last_ret, -ENOSPC);
	CHECK_EQ(responses(ep), 1);
	/* STE.PPAR = 1 (after CFGI_STE): the automatic Success carries the PASID
	 * and the endpoint takes it: it retries (still absent: a fault). */
	put64(STE(EP_SID) + 8, 0x10000000 | BIT(18));
	submit(&r, 0x03 | sid_f(EP_SID), 1);
	CHECK_EQ(dma(ep, true, 7, DMA_PA + 0x20000, 5000000000ull, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_FAULT);
	CHECK_EQ(rep.page_requests, 1);
	CHECK_EQ(responses(ep), 2);
	/* Without PASID: Success without PASID, taken. */
	CHECK_EQ(dma(ep, false, 0, DMA_PA + 0x21000, 5000000000ull, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_FAULT);
	CHECK_EQ(responses(ep), 3);
	CHECK_EQ(rd32(r.s, SMMU_PRIQ_PROD), 0x80000005u);

	/* PRIQEN = 0 with SMMUEN = 1: Response Failure, no PASID: taken by a group
	 * without PASID; the endpoint then stops asking. */
	wr32(r.s, SMMU_CR0, CR0_SMMUEN | CR0_CMDQEN);
	CHECK_EQ(dma(ep, false, 0, DMA_PA + 0x22000, 5000000000ull, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_PRI_FAILED);
	CHECK_EQ(responses(ep), 4);
	CHECK_EQ(si.last_ret, -ENOSPC);
	rig_stop(&r);
	dev_ep_free(ep);
}

/* ---- RESUME, STALL_TERM ------------------------------------------------------------------ */

static void test_stalls(void)
{
	struct rig r;

	rig_default(&r);
	/* Stalled transactions (the STAG is the slot): 2 and 5 of SID 0x10, 6 and 8
	 * of SID 0x11 (records written: STALLED). */
	smmu_lock(r.s);
	r.s->stalls[2] = (struct smmu_stall){ .state = STALL_STALLED, .sid = SID_A };
	r.s->stalls[5] = (struct smmu_stall){ .state = STALL_STALLED, .sid = SID_A };
	r.s->stalls[6] = (struct smmu_stall){ .state = STALL_STALLED, .sid = SID_B };
	r.s->stalls[8] = (struct smmu_stall){ .state = STALL_STALLED, .sid = SID_B };
	smmu_unlock(r.s);
	/* RESUME (SID 63:32, Ac bit 12 retry; word 1 STAG 15:0) of STAG 2 with
	 * another StreamID: no effect. */
	submit(&r, 0x44 | sid_f(SID_B) | 1ull << 12, 2);
	CHECK_EQ(r.s->stalls[2].state, STALL_STALLED);
	/* STAG 3 holds nothing: no effect. */
	submit(&r, 0x44 | sid_f(SID_A) | 1ull << 12, 3);
	CHECK_EQ(r.s->stalls[3].state, STALL_FREE);
	CHECK(r.s->stalls[2].state == STALL_STALLED && r.s->stalls[5].state == STALL_STALLED);
	/* Retry of STAG 2 of SID 0x10: answered RETRY (the endpoint collects it). */
	submit(&r, 0x44 | sid_f(SID_A) | 1ull << 12, 2);
	CHECK(r.s->stalls[2].state == STALL_ANSWERED && r.s->stalls[2].answer == DEV_STALL_RETRY);
	CHECK_EQ(r.s->stalls[5].state, STALL_STALLED);
	/* Terminate with abort (Ac 0, Ab 1) of 6; terminate RAZ/WI (Ac 0, Ab 0) of 8;
	 * Ac 1 with Ab 1 retries (Ab ignored). */
	submit(&r, 0x44 | sid_f(SID_B) | 1ull << 13, 6);
	CHECK(r.s->stalls[6].state == STALL_ANSWERED && r.s->stalls[6].answer == DEV_STALL_ABORT);
	submit(&r, 0x44 | sid_f(SID_B), 8);
	CHECK(r.s->stalls[8].state == STALL_ANSWERED && r.s->stalls[8].answer == DEV_STALL_RAZ_WI);
	/* A second RESUME of an answered STAG is a no-op (it names no stalled
	 * transaction): the answer stays. */
	submit(&r, 0x44 | sid_f(SID_B) | 3ull << 12, 6);
	CHECK(r.s->stalls[6].state == STALL_ANSWERED && r.s->stalls[6].answer == DEV_STALL_ABORT);
	/* STALL_TERM SID 0x10: every stall of it, with abort. */
	smmu_lock(r.s);
	r.s->stalls[7] = (struct smmu_stall){ .state = STALL_STALLED, .sid = SID_C };
	smmu_unlock(r.s);
	submit(&r, 0x45 | sid_f(SID_A), 0);
	CHECK(r.s->stalls[5].state == STALL_ANSWERED && r.s->stalls[5].answer == DEV_STALL_ABORT);
	CHECK_EQ(r.s->stalls[7].state, STALL_STALLED);
	CHECK_EQ(cmds(&r, CMD_RESUME), 6);
	CHECK_EQ(cmds(&r, CMD_STALL_TERM), 1);
	CHECK_EQ(rd32(r.s, SMMU_GERROR), 0);
	rig_stop(&r);
}

int main(void)
{
	alarm(120);                     /* a deadlock fails the test instead of hanging */
	mem = mem_space_new();
	if (!mem || mem_add_anon(mem, 0, RAM_SIZE, MEM_RW, NULL))
		die("mem space");

	test_sync();
	test_queue();
	test_illegal();
	test_legal_edges();
	test_invalidations();
	test_atc_inv();
	test_pri_resp();
	test_pri_queue_responses();
	test_stalls();

	mem_space_free(mem);
	return check_exit();
}
