/* tests/test_smmu_regs.c — the SMMUv3 model's register file as a driver sees it,
 * and the two output queues: ID register encodings, the CR0/CR0ACK handshake
 * and its side effects (caches, translation enable), the guards (STRTAB_* while
 * SMMUEN, queue bases and pointers while their queue is enabled, MSI
 * configuration while its interrupt is enabled, CR1, CR2), GBPA and its Update
 * protocol, IRQ_CTRL/IRQ_CTRLACK, GERROR/GERRORN and the GERROR interrupt and
 * MSI, access sizes and halves; the event queue (records, wrap, full,
 * overflow and its acknowledgement, disabled, write aborts, stall records,
 * interrupts) with every event type's record layout, and the PRI queue
 * (entries, wrap, overflow that inhibits writes, PRIQEN off, aborts, the LO
 * interrupt rule).
 *
 * Expected values are worked by hand from the SMMUv3 specification (IHI 0070)
 * as docs/facts/smmuv3-structures.md and ../shared/reference/smmuv3.md give its
 * bit positions; each derivation is in the comment next to it.
 */
#include "check.h"

#include <errno.h>
#include <string.h>

#include "hw/smmuv3/smmuv3_internal.h"

#define RAM_SIZE    0x1000000ull    /* 16 MiB at 0 */
#define EVQ_PA      0x100000ull
#define PRQ_PA      0x200000ull
#define MSI_PA      0x300000ull
#define NOT_MEMORY  0x70000000ull

static struct mem_space *mem;
static unsigned irqs[5];

static void count_irq(void *ctx, enum smmu_irq irq)
{
	(void)ctx;
	irqs[irq]++;
}

static void die(const char *what)
{
	fprintf(stderr, "test_smmu_regs: setup failed: %s\n", what);
	exit(1);
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

static struct smmu *unit(const struct smmu_config *c)
{
	struct smmu *s = smmu_new(c, mem);

	if (!s)
		die("smmu_new");
	memset(irqs, 0, sizeof(irqs));
	smmu_set_irq_cb(s, count_irq, NULL);
	return s;
}

static struct smmu *default_unit(void)
{
	struct smmu_config c;

	smmu_config_default(&c);
	return unit(&c);
}

static uint32_t rd32(struct smmu *s, uint32_t off)
{
	return (uint32_t)smmu_read(s, off, 4);
}

static uint64_t rd64(struct smmu *s, uint32_t off)
{
	return smmu_read(s, off, 8);
}

static void wr32(struct smmu *s, uint32_t off, uint32_t val)
{
	smmu_write(s, off, 4, val);
}

static void wr64(struct smmu *s, uint32_t off, uint64_t val)
{
	smmu_write(s, off, 8, val);
}

static void gerror(struct smmu *s, uint32_t err)
{
	smmu_lock(s);
	smmu_gerror_locked(s, err);
	smmu_unlock(s);
}

static void fill_one(struct hwc *c)
{
	uint64_t tag[HWC_TAG_WORDS] = { 0x77, 0x88, 0x99 }, val[HWC_VAL_WORDS] = { 0 };

	if (!hwc_fill(c, hwc_hash(0x77, 0x88), tag, val, hwc_gen(c)))
		die("hwc_fill");
}

static unsigned valid_entries(struct smmu *s)
{
	return hwc_count_valid(s->cfgc) + hwc_count_valid(s->tlb) + hwc_count_valid(s->s1wc) +
	       hwc_count_valid(s->s2wc);
}

static void fill_caches(struct smmu *s)
{
	fill_one(s->cfgc);
	fill_one(s->tlb);
	fill_one(s->s1wc);
	fill_one(s->s2wc);
}

/* ---- ID registers ------------------------------------------------------------------------ */

static void test_id_registers(void)
{
	struct smmu_config c;
	struct smmu *s;

	/*
	 * Default configuration (smmuv3.h): S1P, S2P, TTF AArch64, ATS, PRI, HTTU 2,
	 * VMID16, ASID16, CD2L, ST_LEVEL 1, stall model 0, SEV, MSI, SIDSIZE 16,
	 * SSIDSIZE 20, queues 2^19, RIL, OAS 48, all granules, STALL_MAX 64; the
	 * model also reports COHACC and little-endian walks (TTENDIAN 0b10).
	 * IDR0 = S2P (bit 0) 0x1 | S1P (bit 1) 0x2 | TTF 0b10 (3:2) 0x8 |
	 *        COHACC (bit 4) 0x10 | HTTU 0b10 (7:6) 0x80 | ATS (bit 10) 0x400 |
	 *        NS1ATS (bit 11: no split-stage ATS) 0x800 | ASID16 (bit 12) 0x1000 | MSI (bit 13) 0x2000 | SEV (bit 14) 0x4000 |
	 *        PRI (bit 16) 0x10000 | VMID16 (bit 18) 0x40000 | CD2L (bit 19)
	 *        0x80000 | TTENDIAN 0b10 (22:21) 0x400000 | ST_LEVEL 0b01 (28:27)
	 *        0x8000000 = 0x084d7c9b.
	 * (Hyp, bit 9, is 0 as configured: note that the spec makes Hyp mandatory
	 * for an SMMUv3.2 with both stages.)
	 * IDR1 = SIDSIZE 16 (5:0) 0x10 | SSIDSIZE 20 (10:6) 0x500 | PRIQS 19 (15:11)
	 *        0x9800 | EVENTQS 19 (20:16) 0x130000 | CMDQS 19 (25:21) 0x2600000
	 *      = 0x02739d10.
	 * IDR3 = RIL (bit 10) 0x400 | HAD (bit 2, mandatory from v3.1 with stage 1)
	 *        0x4 = 0x404. IDR2 = IDR4 = 0.
	 * IDR5 = OAS 48 = 0b101 (2:0) | GRAN4K 0x10 | GRAN16K 0x20 | GRAN64K 0x40 |
	 *        STALL_MAX 64 (31:16) 0x400000 = 0x00400075.
	 * IIDR = 0; AIDR = ArchMajorRev 0 (SMMUv3.x), ArchMinorRev 2 (v3.2) = 0x2.
	 */
	s = default_unit();
	CHECK_EQ(rd32(s, SMMU_IDR0), 0x084d7c9bu);
	CHECK_EQ(rd32(s, SMMU_IDR1), 0x02739d10u);
	CHECK_EQ(rd32(s, SMMU_IDR2), 0);
	CHECK_EQ(rd32(s, SMMU_IDR3), 0x404);
	CHECK_EQ(rd32(s, SMMU_IDR4), 0);
	CHECK_EQ(rd32(s, SMMU_IDR5), 0x00400075u);
	CHECK_EQ(rd32(s, SMMU_IIDR), 0);
	CHECK_EQ(rd32(s, SMMU_AIDR), 0x2);
	/* Read-only: writes change nothing. */
	wr32(s, SMMU_IDR0, 0);
	wr32(s, SMMU_IDR5, 0xffffffff);
	wr32(s, SMMU_AIDR, 0x35);
	CHECK_EQ(rd32(s, SMMU_IDR0), 0x084d7c9bu);
	CHECK_EQ(rd32(s, SMMU_IDR5), 0x00400075u);
	CHECK_EQ(rd32(s, SMMU_AIDR), 0x2);
	/* Reset values of the control registers: 0, GBPA ABORT (bit 20). */
	CHECK_EQ(rd32(s, SMMU_CR0), 0);
	CHECK_EQ(rd32(s, SMMU_CR0ACK), 0);
	CHECK_EQ(rd32(s, SMMU_GERROR), 0);
	CHECK_EQ(rd32(s, SMMU_GBPA), 0x00100000u);
	CHECK_EQ(rd32(s, SMMU_STATUSR), 0);
	/* Illegal accesses are RAZ/WI: an 8-byte read of two 32-bit registers,
	 * sizes 1/2, unaligned offsets, offsets past page 1. */
	CHECK_EQ(rd64(s, SMMU_IDR0), 0);
	CHECK_EQ(smmu_read(s, SMMU_IDR0, 2), 0);
	CHECK_EQ(smmu_read(s, SMMU_IDR0 + 2, 4), 0);
	CHECK_EQ(smmu_read(s, SMMU_STRTAB_BASE + 4, 8), 0);
	CHECK_EQ(smmu_read(s, SMMU_REG_SIZE, 4), 0);
	smmu_write(s, SMMU_CR0 + 1, 4, CR0_SMMUEN);
	smmu_write(s, SMMU_CR0, 2, CR0_SMMUEN);
	smmu_write(s, SMMU_CR0, 8, CR0_SMMUEN);
	CHECK_EQ(rd32(s, SMMU_CR0), 0);
	CHECK(!atomic_load(&s->enabled));
	smmu_free(s);

	/*
	 * A smaller SMMU: stage 1 only, no ATS/PRI/MSI/SEV, 8-bit ASIDs, stall model
	 * 1 (terminate only), linear stream tables only, SIDSIZE 8, no substreams,
	 * OAS 40, no 16K granule, CMDQS 8, EVENTQS 7, no RIL, no HTTU.
	 * IDR0 = S1P 0x2 | TTF 0x8 | COHACC 0x10 | TTENDIAN 0x400000 | STALL_MODEL
	 *        0b01 (25:24) 0x1000000 = 0x0140001a.
	 * IDR1 = SIDSIZE 8 | EVENTQS 7 << 16 (0x70000) | CMDQS 8 << 21 (0x1000000);
	 *        PRIQS is 0 without PRI = 0x01070008.
	 * IDR3 = HAD (bit 2: stage 1) = 0x4. IDR5 = OAS 40 = 0b010 | GRAN4K 0x10 |
	 *        GRAN64K 0x40 | STALL_MAX 0 = 0x52.
	 */
	smmu_config_default(&c);
	c.s2p = false;
	c.ats = c.pri = c.msi = c.sev = false;
	c.asid16 = c.vmid16 = false;
	c.stall_model = 1;
	c.st_level = 0;
	c.cd2l = false;
	c.sidsize = 8;
	c.ssidsize = 0;
	c.oas = 40;
	c.gran16k = false;
	c.cmdqs = 8;
	c.eventqs = 7;
	c.ril = false;
	c.httu = 0;
	s = unit(&c);
	CHECK_EQ(rd32(s, SMMU_IDR0), 0x0140001au);
	CHECK_EQ(rd32(s, SMMU_IDR1), 0x01070008u);
	CHECK_EQ(rd32(s, SMMU_IDR3), 0x4);
	CHECK_EQ(rd32(s, SMMU_IDR5), 0x52);

	/* What the smaller SMMU lacks is RES0 in its control registers:
	 * CR0: SMMUEN | EVENTQEN | CMDQEN = 0xd (no PRIQEN, no ATSCHK);
	 * IRQ_CTRL: GERROR | EVENTQ = 0x5; GERRORN: CMDQ_ERR | EVENTQ_ABT_ERR |
	 * SFM_ERR = 0x105 (no PRI, no MSI bits); STRTAB_BASE_CFG: LOG2SIZE only
	 * (ST_LEVEL 0) = 0x3f; STRTAB_BASE: RA (bit 62) | ADDR 39:6 (OAS 40)
	 * = 0x400000ffffffffc0; the MSI and PRI queue registers RAZ/WI. */
	wr32(s, SMMU_CR0, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_CR0), 0xd);
	CHECK_EQ(rd32(s, SMMU_CR0ACK), 0xd);
	wr32(s, SMMU_CR0, 0);
	wr32(s, SMMU_IRQ_CTRL, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_IRQ_CTRL), 0x5);
	CHECK_EQ(rd32(s, SMMU_IRQ_CTRLACK), 0x5);
	wr32(s, SMMU_IRQ_CTRL, 0);
	wr32(s, SMMU_GERRORN, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_GERRORN), 0x105);
	wr32(s, SMMU_GERRORN, 0);
	wr32(s, SMMU_STRTAB_BASE_CFG, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_STRTAB_BASE_CFG), 0x3f);
	wr64(s, SMMU_STRTAB_BASE, ~0ull);
	CHECK_EQ(rd64(s, SMMU_STRTAB_BASE), 0x400000ffffffffc0ull);
	wr64(s, SMMU_GERROR_IRQ_CFG0, MSI_PA);
	wr32(s, SMMU_GERROR_IRQ_CFG1, 0x1234);
	wr32(s, SMMU_GERROR_IRQ_CFG2, 0x3f);
	CHECK_EQ(rd64(s, SMMU_GERROR_IRQ_CFG0), 0);
	CHECK_EQ(rd32(s, SMMU_GERROR_IRQ_CFG1), 0);
	CHECK_EQ(rd32(s, SMMU_GERROR_IRQ_CFG2), 0);
	wr64(s, SMMU_PRIQ_BASE, PRQ_PA | 2);
	wr32(s, SMMU_PRIQ_CONS, 1);
	wr32(s, SMMU_PRIQ_IRQ_CFG2, 0x80000000u);
	CHECK_EQ(rd64(s, SMMU_PRIQ_BASE), 0);
	CHECK_EQ(rd32(s, SMMU_PRIQ_CONS), 0);
	CHECK_EQ(rd32(s, SMMU_PRIQ_IRQ_CFG2), 0);
	/* A GERROR bit the SMMU lacks is never activated. */
	gerror(s, GERROR_PRIQ_ABT_ERR | GERROR_MSI_CMDQ_ABT);
	CHECK_EQ(rd32(s, SMMU_GERROR), 0);
	smmu_free(s);
}

/* ---- CR0, CR1, CR2 ----------------------------------------------------------------------- */

static void test_cr0(void)
{
	struct smmu *s = default_unit();

	/* Every field's Update completes within the write: CR0ACK follows. All
	 * defined fields: SMMUEN 0x1 | PRIQEN 0x2 | EVENTQEN 0x4 | CMDQEN 0x8 |
	 * ATSCHK 0x10 = 0x1f; VMW (8:6) is RES0 without IDR0.VMW, bit 5 and 31:11
	 * are RES0. */
	wr32(s, SMMU_CR0, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_CR0), 0x1f);
	CHECK_EQ(rd32(s, SMMU_CR0ACK), 0x1f);
	CHECK(atomic_load(&s->enabled));
	wr32(s, SMMU_CR0, 0);
	CHECK_EQ(rd32(s, SMMU_CR0ACK), 0);
	CHECK(!atomic_load(&s->enabled));

	/* SMMUEN 0 -> 1 and 1 -> 0 empty every cache (configuration, TLB, both
	 * walk caches); changing another field does not. */
	fill_caches(s);
	CHECK_EQ(valid_entries(s), 4);
	wr32(s, SMMU_CR0, CR0_SMMUEN);
	CHECK_EQ(valid_entries(s), 0);
	CHECK(atomic_load(&s->enabled));
	fill_caches(s);
	wr32(s, SMMU_CR0, CR0_SMMUEN | CR0_EVENTQEN);
	CHECK_EQ(valid_entries(s), 4);
	CHECK_EQ(rd32(s, SMMU_CR0ACK), CR0_SMMUEN | CR0_EVENTQEN);
	wr32(s, SMMU_CR0, CR0_EVENTQEN);
	CHECK_EQ(valid_entries(s), 0);
	CHECK(!atomic_load(&s->enabled));
	CHECK_EQ(rd32(s, SMMU_CR0ACK), CR0_EVENTQEN);

	/* SMMUEN 1 -> 0 marks every stalled transaction for termination. */
	wr32(s, SMMU_CR0, CR0_SMMUEN);
	s->stalls[3] = (struct smmu_stall){ .state = STALL_STALLED, .sid = 0x10 };
	s->stalls[9] = (struct smmu_stall){ .state = STALL_QUEUED, .sid = 0x22 };
	s->stalls[11] = (struct smmu_stall){ .state = STALL_ABANDONED, .sid = 0x22 };
	wr32(s, SMMU_CR0, 0);
	CHECK(s->stalls[3].state == STALL_ANSWERED && s->stalls[3].answer == DEV_STALL_ABORT);
	CHECK(s->stalls[9].state == STALL_ANSWERED && s->stalls[9].answer == DEV_STALL_ABORT);
	CHECK_EQ(s->stalls[11].state, STALL_FREE);      /* nobody waits for it */

	/* CR1: all 12 bits while everything is off; TABLE_* (11:6) read-only while
	 * SMMUEN, QUEUE_* (5:0) while any queue is enabled. */
	wr32(s, SMMU_CR1, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_CR1), 0xfff);
	wr32(s, SMMU_CR0, CR0_SMMUEN);
	wr32(s, SMMU_CR1, 0);
	CHECK_EQ(rd32(s, SMMU_CR1), 0xfc0);             /* QUEUE_* cleared */
	wr32(s, SMMU_CR0, CR0_EVENTQEN);
	wr32(s, SMMU_CR1, 0x555);
	CHECK_EQ(rd32(s, SMMU_CR1), 0x540);             /* 0x555's TABLE_* bits only */
	wr32(s, SMMU_CR0, 0);

	/* CR2: RECINVSID (bit 1) only: E2H needs Hyp, PTM needs BTM, REC_CFG_ATS
	 * needs ATSRECERR; read-only while SMMUEN. */
	wr32(s, SMMU_CR2, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_CR2), 0x2);
	wr32(s, SMMU_CR0, CR0_SMMUEN);
	wr32(s, SMMU_CR2, 0);
	CHECK_EQ(rd32(s, SMMU_CR2), 0x2);
	wr32(s, SMMU_CR0, 0);
	wr32(s, SMMU_CR2, 0);
	CHECK_EQ(rd32(s, SMMU_CR2), 0);
	smmu_free(s);
}

/* ---- STRTAB_BASE(_CFG) ------------------------------------------------------------------- */

static void test_strtab(void)
{
	struct smmu *s = default_unit();

	/* RA (bit 62) | ADDR 51:6 stored up to OAS 48 (47:6); 63, 61:48 above OAS
	 * and 5:0 are dropped: ~0 -> 0x4000ffffffffffc0. */
	wr64(s, SMMU_STRTAB_BASE, ~0ull);
	CHECK_EQ(rd64(s, SMMU_STRTAB_BASE), 0x4000ffffffffffc0ull);
	CHECK_EQ(atomic_load(&s->st_base), 0x4000ffffffffffc0ull);
	/* Two 32-bit halves: low at 0x80, high at 0x84, each alone. */
	wr32(s, SMMU_STRTAB_BASE, 0x12345047);
	CHECK_EQ(rd64(s, SMMU_STRTAB_BASE), 0x4000ffff12345040ull);
	wr32(s, SMMU_STRTAB_BASE + 4, 0x00000abc);
	CHECK_EQ(rd64(s, SMMU_STRTAB_BASE), 0x00000abc12345040ull);
	CHECK_EQ(rd32(s, SMMU_STRTAB_BASE), 0x12345040);
	CHECK_EQ(rd32(s, SMMU_STRTAB_BASE + 4), 0x00000abc);
	CHECK_EQ(atomic_load(&s->st_base), 0x00000abc12345040ull);
	/* CFG: FMT 17:16 | SPLIT 10:6 | LOG2SIZE 5:0 = 0x307ff of ~0. */
	wr32(s, SMMU_STRTAB_BASE_CFG, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_STRTAB_BASE_CFG), 0x307ff);
	/* FMT 1, SPLIT 8, LOG2SIZE 16: 0x10000 | 0x200 | 0x10 = 0x10210. */
	wr32(s, SMMU_STRTAB_BASE_CFG, 0x10210);
	CHECK_EQ(atomic_load(&s->st_cfg), 0x10210);

	/* While SMMUEN = 1 both registers are read-only (the v3.2 rule): 64-bit
	 * writes, halves, and the (A) copies all stay. */
	wr32(s, SMMU_CR0, CR0_SMMUEN);
	wr64(s, SMMU_STRTAB_BASE, 0x80000);
	wr32(s, SMMU_STRTAB_BASE, 0x40);
	wr32(s, SMMU_STRTAB_BASE + 4, 0);
	wr32(s, SMMU_STRTAB_BASE_CFG, 8);
	CHECK_EQ(rd64(s, SMMU_STRTAB_BASE), 0x00000abc12345040ull);
	CHECK_EQ(atomic_load(&s->st_base), 0x00000abc12345040ull);
	CHECK_EQ(rd32(s, SMMU_STRTAB_BASE_CFG), 0x10210);
	CHECK_EQ(atomic_load(&s->st_cfg), 0x10210);
	/* Disabled again: writable. */
	wr32(s, SMMU_CR0, 0);
	wr64(s, SMMU_STRTAB_BASE, 0x80000);
	wr32(s, SMMU_STRTAB_BASE_CFG, 8);
	CHECK_EQ(atomic_load(&s->st_base), 0x80000);
	CHECK_EQ(atomic_load(&s->st_cfg), 8);
	smmu_free(s);
}

/* ---- GBPA -------------------------------------------------------------------------------- */

static void test_gbpa(void)
{
	struct smmu *s = default_unit();

	CHECK_EQ(atomic_load(&s->gbpa_now), GBPA_ABORT);
	/* Without Update the write is IGNORED (v3.2). */
	wr32(s, SMMU_GBPA, 0);
	CHECK_EQ(rd32(s, SMMU_GBPA), 0x00100000u);
	CHECK_EQ(atomic_load(&s->gbpa_now), GBPA_ABORT);
	/* With Update: applied at once, Update reads 0 (the poll ends at once). */
	wr32(s, SMMU_GBPA, GBPA_UPDATE);
	CHECK_EQ(rd32(s, SMMU_GBPA), 0);
	CHECK_EQ(atomic_load(&s->gbpa_now), 0);
	/* Every field: MemAttr 0xf | MTCFG 0x10 | ALLOCCFG 0xf00 | SHCFG 0x3000 |
	 * PRIVCFG 0x30000 | INSTCFG 0xc0000 | ABORT 0x100000 = 0x1f3f1f; bits 30:21,
	 * 15:14, 7:5 are RES0. */
	wr32(s, SMMU_GBPA, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_GBPA), 0x001f3f1fu);
	CHECK_EQ(atomic_load(&s->gbpa_now), 0x001f3f1fu);
	/* Bypass with attributes: ABORT 0, SHCFG 0b01 (0x1000). */
	wr32(s, SMMU_GBPA, GBPA_UPDATE | 0x1000);
	CHECK_EQ(rd32(s, SMMU_GBPA), 0x1000);
	CHECK_EQ(atomic_load(&s->gbpa_now), 0x1000);
	smmu_free(s);
}

/* ---- IRQ_CTRL, GERROR, MSIs -------------------------------------------------------------- */

static void test_irq_and_gerror(void)
{
	struct smmu *s = default_unit();

	if (mem_fill(mem, MSI_PA, 0x11, 0x100))
		die("mem_fill");
	/* IRQ_CTRL: GERROR 0x1 | PRIQ 0x2 | EVENTQ 0x4; IRQ_CTRLACK follows. */
	wr32(s, SMMU_IRQ_CTRL, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_IRQ_CTRL), 0x7);
	CHECK_EQ(rd32(s, SMMU_IRQ_CTRLACK), 0x7);
	wr32(s, SMMU_IRQ_CTRLACK, 0);                   /* read-only */
	CHECK_EQ(rd32(s, SMMU_IRQ_CTRLACK), 0x7);

	/* MSI configuration is read-only while its interrupt is enabled. */
	wr64(s, SMMU_GERROR_IRQ_CFG0, MSI_PA);
	wr32(s, SMMU_GERROR_IRQ_CFG1, 0xcafe);
	CHECK_EQ(rd64(s, SMMU_GERROR_IRQ_CFG0), 0);
	CHECK_EQ(rd32(s, SMMU_GERROR_IRQ_CFG1), 0);
	wr32(s, SMMU_IRQ_CTRL, 0);
	/* CFG0: ADDR 51:2 up to OAS (47:2): ~0 -> 0x0000fffffffffffc; CFG1 all 32
	 * bits; CFG2: SH 5:4 | MemAttr 3:0 = 0x3f; PRIQ CFG2 also LO (bit 31). */
	wr64(s, SMMU_GERROR_IRQ_CFG0, ~0ull);
	CHECK_EQ(rd64(s, SMMU_GERROR_IRQ_CFG0), 0x0000fffffffffffcull);
	wr32(s, SMMU_GERROR_IRQ_CFG2, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_GERROR_IRQ_CFG2), 0x3f);
	wr32(s, SMMU_PRIQ_IRQ_CFG2, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_PRIQ_IRQ_CFG2), 0x8000003fu);
	wr32(s, SMMU_EVENTQ_IRQ_CFG1, 0x12345678);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_IRQ_CFG1), 0x12345678);
	/* Halves of CFG0. */
	wr32(s, SMMU_GERROR_IRQ_CFG0, (uint32_t)MSI_PA | 3);
	wr32(s, SMMU_GERROR_IRQ_CFG0 + 4, 0);
	CHECK_EQ(rd64(s, SMMU_GERROR_IRQ_CFG0), MSI_PA);
	wr32(s, SMMU_GERROR_IRQ_CFG1, 0xcafe0001u);

	/* GERROR is read-only; an error is active while GERROR and GERRORN
	 * differ. With GERROR_IRQEN = 0 activation interrupts nothing. */
	wr32(s, SMMU_GERROR, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_GERROR), 0);
	gerror(s, GERROR_CMDQ_ERR);
	CHECK_EQ(rd32(s, SMMU_GERROR), 0x1);
	CHECK_EQ(irqs[SMMU_IRQ_GERROR], 0);
	CHECK_EQ(get32(MSI_PA), 0x11111111u);
	/* Active: a second occurrence does not toggle it back. */
	gerror(s, GERROR_CMDQ_ERR);
	CHECK_EQ(rd32(s, SMMU_GERROR), 0x1);
	/* Software acknowledges by toggling GERRORN to match. */
	wr32(s, SMMU_GERRORN, 0x1);
	CHECK_EQ(rd32(s, SMMU_GERRORN), 0x1);
	/* Enabled: the next activation toggles bit 0 back to 0 (GERROR 0 !=
	 * GERRORN 1), interrupts once and writes the MSI (0xcafe0001 at MSI_PA). */
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
	gerror(s, GERROR_CMDQ_ERR | GERROR_EVENTQ_ABT_ERR);
	CHECK_EQ(rd32(s, SMMU_GERROR), 0x4);            /* bit 0: 1 -> 0, bit 2: 0 -> 1 */
	CHECK_EQ(irqs[SMMU_IRQ_GERROR], 1);
	CHECK_EQ(get32(MSI_PA), 0xcafe0001u);
	CHECK_EQ(get32(MSI_PA + 4), 0x11111111u);       /* a 32-bit write only */
	/* Both active now; acknowledge both: GERRORN = GERROR = 0x4. */
	wr32(s, SMMU_GERRORN, 0x4);
	CHECK_EQ(rd32(s, SMMU_GERRORN), 0x4);
	/* GERRORN keeps only defined bits: 0xfff -> 0x1fd (bit 1 and 31:9 RES0). */
	wr32(s, SMMU_GERRORN, 0xfff);
	CHECK_EQ(rd32(s, SMMU_GERRORN), 0x1fd);
	wr32(s, SMMU_GERRORN, 0x4);

	/* A GERROR MSI that aborts activates MSI_GERROR_ABT_ERR (bit 7), which
	 * itself does not interrupt (spec 7.5.1): one interrupt in all. */
	wr32(s, SMMU_IRQ_CTRL, 0);
	wr64(s, SMMU_GERROR_IRQ_CFG0, NOT_MEMORY);
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
	memset(irqs, 0, sizeof(irqs));
	gerror(s, GERROR_SFM_ERR);
	CHECK_EQ(rd32(s, SMMU_GERROR), 0x4 | 0x100 | 0x80);
	CHECK_EQ(irqs[SMMU_IRQ_GERROR], 1);
	/* MSI address 0: the wired interrupt only, no MSI. */
	wr32(s, SMMU_IRQ_CTRL, 0);
	wr64(s, SMMU_GERROR_IRQ_CFG0, 0);
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
	wr32(s, SMMU_GERRORN, 0x4 | 0x100 | 0x80);
	gerror(s, GERROR_EVENTQ_ABT_ERR);
	CHECK_EQ(irqs[SMMU_IRQ_GERROR], 2);
	CHECK_EQ(rd32(s, SMMU_GERROR), 0x100 | 0x80);
	/* Disabling the source: no interrupt, and none later for it. */
	wr32(s, SMMU_IRQ_CTRL, 0);
	wr32(s, SMMU_GERRORN, 0x100 | 0x80);
	gerror(s, GERROR_CMDQ_ERR);
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
	CHECK_EQ(irqs[SMMU_IRQ_GERROR], 2);
	smmu_free(s);
}

/* ---- queue registers --------------------------------------------------------------------- */

static void test_queue_registers(void)
{
	struct smmu *s = default_unit();

	/* Base: RA/WA (bit 62) | ADDR 51:5 up to OAS (47:5) | LOG2SIZE 4:0:
	 * ~0 -> 0x4000ffffffffffff... & (bit 62 | 47:5 | 4:0) = 0x4000ffffffffffff
	 * with bits 63 and 61:48 dropped. */
	wr64(s, SMMU_CMDQ_BASE, ~0ull);
	CHECK_EQ(rd64(s, SMMU_CMDQ_BASE), 0x4000ffffffffffffull);
	wr64(s, SMMU_EVENTQ_BASE, EVQ_PA | 3);
	wr64(s, SMMU_PRIQ_BASE, PRQ_PA | 3);
	wr64(s, SMMU_CMDQ_BASE, 0x400000 | 3);
	CHECK_EQ(rd64(s, SMMU_EVENTQ_BASE), EVQ_PA | 3);
	CHECK_EQ(rd64(s, SMMU_PRIQ_BASE), PRQ_PA | 3);

	/* Pointers of an 8-entry queue (LOG2SIZE 3): index 2:0, wrap bit 3. An
	 * SMMU-owned pointer (CMDQ_CONS, EVENTQ_PROD, PRIQ_PROD) keeps index and
	 * wrap (bits 19:4 are RAZ) and, for the output queues, OVFLG (bit 31). A
	 * software-owned one keeps bits 19:0 and OVACKFLG. */
	wr32(s, SMMU_CMDQ_CONS, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_CMDQ_CONS), 0xf);
	wr32(s, SMMU_CMDQ_PROD, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_CMDQ_PROD), 0xfffff);
	wr32(s, SMMU_EVENTQ_PROD, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x8000000fu);
	wr32(s, SMMU_EVENTQ_CONS, 0xffffffff);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_CONS), 0x800fffffu);
	wr32(s, SMMU_PRIQ_PROD, 0x8000000cu);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0x8000000cu);
	wr32(s, SMMU_PRIQ_CONS, 0x3);
	CHECK_EQ(rd32(s, SMMU_PRIQ_CONS), 0x3);
	/* The page-0 offsets of the page-1 pointers are RAZ/WI. */
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD - SMMU_PAGE1), 0);
	CHECK_EQ(rd32(s, SMMU_PRIQ_CONS - SMMU_PAGE1), 0);
	wr32(s, SMMU_EVENTQ_CONS - SMMU_PAGE1, 0);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_CONS), 0x800fffffu);

	/* Enabled queues guard their base and SMMU-owned pointer: writes are
	 * IGNORED; the software-owned pointer stays writable. */
	wr32(s, SMMU_CMDQ_PROD, 0);
	wr32(s, SMMU_CMDQ_CONS, 0);
	wr32(s, SMMU_CR0, CR0_SMMUEN | CR0_CMDQEN | CR0_EVENTQEN | CR0_PRIQEN);
	wr64(s, SMMU_CMDQ_BASE, 0x500000);
	wr64(s, SMMU_EVENTQ_BASE, 0x500000);
	wr64(s, SMMU_PRIQ_BASE, 0x500000);
	wr32(s, SMMU_PRIQ_BASE + 4, 1);
	wr32(s, SMMU_CMDQ_CONS, 5);
	wr32(s, SMMU_EVENTQ_PROD, 0);
	wr32(s, SMMU_PRIQ_PROD, 0);
	CHECK_EQ(rd64(s, SMMU_CMDQ_BASE), 0x400000 | 3);
	CHECK_EQ(rd64(s, SMMU_EVENTQ_BASE), EVQ_PA | 3);
	CHECK_EQ(rd64(s, SMMU_PRIQ_BASE), PRQ_PA | 3);
	CHECK_EQ(rd32(s, SMMU_CMDQ_CONS), 0);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x8000000fu);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0x8000000cu);
	wr32(s, SMMU_EVENTQ_CONS, 0x8000000fu);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_CONS), 0x8000000fu);
	/* The PRI queue is guarded by PRIQEN itself: SMMUEN = 0 (effective PRIQEN
	 * 0) does not make it writable. */
	wr32(s, SMMU_CR0, CR0_PRIQEN);
	wr64(s, SMMU_PRIQ_BASE, 0x500000);
	CHECK_EQ(rd64(s, SMMU_PRIQ_BASE), PRQ_PA | 3);
	wr32(s, SMMU_CR0, 0);
	wr64(s, SMMU_PRIQ_BASE, 0x500000);
	CHECK_EQ(rd64(s, SMMU_PRIQ_BASE), 0x500000);
	smmu_free(s);
}

/* ---- the event queue --------------------------------------------------------------------- */

/* A terminated F_TRANSLATION of SID n at 0x1000 * n (a read, CLASS IN). */
static struct smmu_event fault(unsigned n)
{
	return (struct smmu_event){
		.id = EVT_F_TRANSLATION, .sid = n, .rnw = true, .class_ = EVT_CLASS_IN,
		.input_addr = 0x1000ull * n,
	};
}

static int ev(struct smmu *s, unsigned n)
{
	struct smmu_event e = fault(n);

	return smmu_event(s, &e);
}

/* The record in slot i: dw0 = 0x10 | SID << 32, dw2 = the address. */
static bool slot_holds(unsigned i, unsigned n)
{
	return get64(EVQ_PA + 32 * i) == (0x10 | (uint64_t)n << 32) &&
	       get64(EVQ_PA + 32 * i + 16) == 0x1000ull * n;
}

static void test_event_queue(void)
{
	struct smmu *s = default_unit();
	struct smmu_event st = fault(7), none = { .id = EVT_F_TRANSLATION };
	struct smmu_stats stats;

	if (mem_fill(mem, EVQ_PA, 0xee, 0x1000))
		die("mem_fill");
	/* 4 entries (LOG2SIZE 2): index bits 1:0, wrap bit 2. The base written
	 * with bit 5 set is aligned by the SMMU to the queue's 128 bytes. */
	wr64(s, SMMU_EVENTQ_BASE, (EVQ_PA + 0x20) | 2);
	wr32(s, SMMU_EVENTQ_PROD, 0);
	wr32(s, SMMU_EVENTQ_CONS, 0);
	/* Disabled: the record is lost, no overflow, PROD unchanged. */
	CHECK_EQ(smmu_event(s, &none), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0);
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN);
	wr32(s, SMMU_CR0, CR0_EVENTQEN);

	/* First record: slot 0, PROD 1, interrupt (empty -> non-empty). */
	CHECK_EQ(ev(s, 1), 0);
	CHECK(slot_holds(0, 1));
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 1);
	CHECK_EQ(irqs[SMMU_IRQ_EVENTQ], 1);
	/* Three more: PROD 2, 3, then 4 = index 0 with the wrap bit: full. No
	 * further interrupt: the queue was not empty. */
	for (unsigned n = 2; n <= 4; n++)
		CHECK_EQ(ev(s, n), 0);
	CHECK(slot_holds(3, 4));
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 4);
	CHECK_EQ(irqs[SMMU_IRQ_EVENTQ], 1);
	/* Full: discarded; OVFLG toggles (PROD 0x80000004); slot 0 keeps record 1.
	 * A second discard does not toggle again. */
	CHECK_EQ(ev(s, 5), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x80000004u);
	CHECK(slot_holds(0, 1));
	CHECK_EQ(ev(s, 6), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x80000004u);
	/* A stall record is never discarded: -EAGAIN, no overflow, not lost. */
	st.stall = true;
	st.stag = 3;
	CHECK_EQ(smmu_event(s, &st), -EAGAIN);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x80000004u);
	smmu_get_stats(s, &stats);
	CHECK_EQ(stats.events_written, 4);
	CHECK_EQ(stats.events_lost, 3);                 /* disabled, 5, 6 */

	/* Software consumes two without acknowledging: an unacknowledged overflow
	 * does not stop writes (7.4): record 8 goes to slot 0, PROD 0x80000005;
	 * the queue was not empty: no interrupt. */
	wr32(s, SMMU_EVENTQ_CONS, 2);
	CHECK_EQ(ev(s, 8), 0);
	CHECK(slot_holds(0, 8));
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x80000005u);
	CHECK_EQ(irqs[SMMU_IRQ_EVENTQ], 1);
	/* Consume all and acknowledge: CONS = RD 5 (index 1, wrap 1) | OVACKFLG. */
	wr32(s, SMMU_EVENTQ_CONS, 0x80000005u);
	CHECK_EQ(ev(s, 9), 0);
	CHECK(slot_holds(1, 9));
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x80000006u);
	CHECK_EQ(irqs[SMMU_IRQ_EVENTQ], 2);
	/* The stall record now fits, in slot 2: dw1 = RnW (35) 0x800000000 |
	 * CLASS IN (41:40 = 0b10) 0x20000000000 | Stall (31) 0x80000000 | STAG 3
	 * = 0x0000020880000003. PROD 0x80000007. */
	CHECK_EQ(smmu_event(s, &st), 0);
	CHECK_EQ(get64(EVQ_PA + 32 * 2 + 8), 0x0000020880000003ull);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x80000007u);
	/* Two more fill it (slot 3, then slot 0 past the wrap: PROD 0x80000000,
	 * then 0x80000001 = index 1 wrap 0 against CONS index 1 wrap 1). The next
	 * overflows again: OVFLG toggles back to 0 since the last one was
	 * acknowledged (PROD 0x00000001). */
	CHECK_EQ(ev(s, 10), 0);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x80000000u);
	CHECK_EQ(ev(s, 11), 0);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x80000001u);
	CHECK_EQ(ev(s, 12), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x00000001u);
	CHECK(slot_holds(3, 10));
	CHECK(slot_holds(0, 11));
	CHECK(slot_holds(1, 9));

	/* An inconsistent pair (acknowledged; PROD index 1 wrap 0, CONS index 3
	 * wrap 0: 6 "used" of 4) is treated as full: discarded, and an overflow. */
	wr32(s, SMMU_EVENTQ_CONS, 0x00000003u);
	CHECK_EQ(ev(s, 13), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0x80000001u);
	CHECK(slot_holds(1, 9));

	/* A queue that is not memory: EVENTQ_ABT_ERR, PROD stays, no queue
	 * interrupt; while it is active nothing is written even to a good queue;
	 * acknowledged, writes resume. */
	wr32(s, SMMU_CR0, 0);
	wr64(s, SMMU_EVENTQ_BASE, NOT_MEMORY | 2);
	wr32(s, SMMU_EVENTQ_PROD, 0);
	wr32(s, SMMU_EVENTQ_CONS, 0);
	wr32(s, SMMU_CR0, CR0_EVENTQEN);
	memset(irqs, 0, sizeof(irqs));
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN | IRQ_CTRL_GERROR_IRQEN);
	CHECK_EQ(ev(s, 14), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_GERROR), GERROR_EVENTQ_ABT_ERR);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0);
	CHECK_EQ(irqs[SMMU_IRQ_GERROR], 1);
	CHECK_EQ(irqs[SMMU_IRQ_EVENTQ], 0);
	wr32(s, SMMU_CR0, 0);
	wr64(s, SMMU_EVENTQ_BASE, EVQ_PA | 2);
	wr32(s, SMMU_CR0, CR0_EVENTQEN);
	CHECK_EQ(ev(s, 15), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 0);
	CHECK_EQ(rd32(s, SMMU_GERROR), GERROR_EVENTQ_ABT_ERR);
	CHECK_EQ(irqs[SMMU_IRQ_GERROR], 1);
	wr32(s, SMMU_GERRORN, GERROR_EVENTQ_ABT_ERR);
	CHECK_EQ(ev(s, 16), 0);
	CHECK(slot_holds(0, 16));
	CHECK_EQ(rd32(s, SMMU_EVENTQ_PROD), 1);
	CHECK_EQ(irqs[SMMU_IRQ_EVENTQ], 1);
	/* Written: 1-4, 8, 9, the stall, 10, 11, 16; lost: the disabled one, 5, 6,
	 * 12, 13, 14, 15. */
	smmu_get_stats(s, &stats);
	CHECK_EQ(stats.events_written, 10);
	CHECK_EQ(stats.events_lost, 7);

	/* The event queue MSI: EVENTQ_IRQ_CFG1's data at EVENTQ_IRQ_CFG0's address
	 * (a 32-bit write at MSI_PA + 4) as the queue goes non-empty. */
	if (mem_fill(mem, MSI_PA, 0, 8))
		die("mem_fill");
	wr32(s, SMMU_IRQ_CTRL, 0);
	wr64(s, SMMU_EVENTQ_IRQ_CFG0, MSI_PA + 4);
	wr32(s, SMMU_EVENTQ_IRQ_CFG1, 0x5a5a0042);
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN);
	wr32(s, SMMU_EVENTQ_CONS, 1);
	CHECK_EQ(ev(s, 17), 0);
	CHECK_EQ(get64(MSI_PA), 0x5a5a004200000000ull);
	CHECK_EQ(irqs[SMMU_IRQ_EVENTQ], 2);
	/* An aborting event queue MSI: MSI_EVENTQ_ABT_ERR (bit 5). */
	wr32(s, SMMU_IRQ_CTRL, 0);
	wr64(s, SMMU_EVENTQ_IRQ_CFG0, NOT_MEMORY);
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN);
	wr32(s, SMMU_EVENTQ_CONS, 2);
	CHECK_EQ(ev(s, 18), 0);
	CHECK_EQ(rd32(s, SMMU_GERROR), GERROR_EVENTQ_ABT_ERR | GERROR_MSI_EVENTQ_ABT);
	smmu_free(s);
}

/* ---- event record layouts ---------------------------------------------------------------- */

struct rec_case {
	uint8_t id;
	uint64_t rec[4];
};

static void test_event_encoding(void)
{
	/*
	 * One event with every field set: SID 0x12345678, SSV, SSID 0xabcde, Stall,
	 * STAG 0x1234, PnU, InD, RnW, S2, CLASS TT (1), TTRnW, Reason 0xbeef,
	 * InputAddr 0xfedcba9876543210, IPA 0x000fedcba9876fff, FetchAddr
	 * 0x000fedcba987654f. Fields an event type lacks are RES0 (7.3):
	 *   dw0 with SSV: ID | SSV 0x800 | SSID 0xabcde << 12 (0xabcde000) |
	 *       SID << 32 = 0x12345678abcde800 | ID
	 *   translation faults, dw1: STAG 0x1234 | Stall (31) 0x80000000 |
	 *       PnU (33) 0x200000000 | InD (34) 0x400000000 | RnW (35) 0x800000000 |
	 *       S2 (39) 0x8000000000 | CLASS 1 (41:40) 0x10000000000 = 0x0000018e80001234,
	 *       and for F_PERMISSION TTRnW (44) 0x100000000000 = 0x0000118e80001234
	 *       (facts §5.1: TTRnW belongs to F_PERMISSION with CLASS TT)
	 *   dw3 = IPA bits 51:12 = 0x000fedcba9876000, or FetchAddr bits 51:3 =
	 *       0x000fedcba9876548
	 */
	static const struct rec_case cases[] = {
		{ 0x10, { 0x12345678abcde810ull, 0x0000018e80001234ull, 0xfedcba9876543210ull,
			  0x000fedcba9876000ull } },
		{ 0x11, { 0x12345678abcde811ull, 0x0000018e80001234ull, 0xfedcba9876543210ull,
			  0x000fedcba9876000ull } },
		{ 0x12, { 0x12345678abcde812ull, 0x0000018e80001234ull, 0xfedcba9876543210ull,
			  0x000fedcba9876000ull } },
		{ 0x13, { 0x12345678abcde813ull, 0x0000118e80001234ull, 0xfedcba9876543210ull,
			  0x000fedcba9876000ull } },
		/* F_WALK_EABT: attributes, S2, CLASS (0x18e << 32), Reason 15:0, no
		 * stall, no TTRnW; the fetch address in dw3. */
		{ 0x0b, { 0x12345678abcde80bull, 0x0000018e0000beefull, 0xfedcba9876543210ull,
			  0x000fedcba9876548ull } },
		/* Fetch aborts: Reason at bits 79:64 (dw1 15:0), FetchAddr. */
		{ 0x03, { 0x12345678abcde803ull, 0xbeef, 0, 0x000fedcba9876548ull } },
		{ 0x09, { 0x12345678abcde809ull, 0xbeef, 0, 0x000fedcba9876548ull } },
		{ 0x25, { 0x12345678abcde825ull, 0xbeef, 0, 0x000fedcba9876548ull } },
		/* Configuration errors: identification only. */
		{ 0x02, { 0x12345678abcde802ull, 0, 0, 0 } },
		{ 0x04, { 0x12345678abcde804ull, 0, 0, 0 } },
		{ 0x0a, { 0x12345678abcde80aull, 0, 0, 0 } },
		/* C_BAD_SUBSTREAMID: SubstreamID without SSV (bits 11:8 RES0). */
		{ 0x08, { 0x12345678abcde008ull, 0, 0, 0 } },
		/* F_STREAM_DISABLED: StreamID only. */
		{ 0x06, { 0x1234567800000006ull, 0, 0, 0 } },
		/* F_TRANSL_FORBIDDEN: StreamID, RnW (bit 99 = dw1 35), InputAddr. */
		{ 0x07, { 0x1234567800000007ull, 0x0000000800000000ull, 0xfedcba9876543210ull,
			  0 } },
		/* F_UUT: PnU/InD/RnW (0xe << 32), Reason 15:0, InputAddr. */
		{ 0x01, { 0x12345678abcde801ull, 0x0000000e0000beefull, 0xfedcba9876543210ull,
			  0 } },
		/* F_BAD_ATS_TREQ (facts §5.2): R (31) | W (30) = 0 for a read | X (29)
		 * | Priv (28) | Span 1 (3:0) = 0xb0000001; InputAddr[63:12]. */
		{ 0x05, { 0x12345678abcde805ull, 0x00000000b0000001ull, 0xfedcba9876543000ull,
			  0 } },
		/* F_TLB_CONFLICT: attributes, S2, CLASS, Reason 31:0, IPA. */
		{ 0x20, { 0x12345678abcde820ull, 0x0000018e0000beefull, 0xfedcba9876543210ull,
			  0x000fedcba9876000ull } },
		/* F_CFG_CONFLICT: Reason 31:0. */
		{ 0x21, { 0x12345678abcde821ull, 0xbeef, 0, 0 } },
		/* E_PAGE_REQUEST: InputAddr[63:12]. */
		{ 0x24, { 0x12345678abcde824ull, 0, 0xfedcba9876543000ull, 0 } },
	};
	struct smmu_event e = {
		.sid = 0x12345678, .ssv = true, .ssid = 0xabcde, .stall = true, .stag = 0x1234,
		.pnu = true, .ind = true, .rnw = true, .s2 = true, .class_ = EVT_CLASS_TT,
		.ttrnw = true, .reason = 0xbeef, .input_addr = 0xfedcba9876543210ull,
		.ipa = 0x000fedcba9876fffull, .fetch_addr = 0x000fedcba987654full,
	};
	uint64_t rec[4];

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		e.id = cases[i].id;
		memset(rec, 0x5a, sizeof(rec));
		smmu_event_encode(&e, rec);
		for (unsigned w = 0; w < 4; w++)
			CHECK_MSG(rec[w] == cases[i].rec[w], "event 0x%02x dw%u: 0x%016llx, want 0x%016llx",
				  e.id, w, (unsigned long long)rec[w],
				  (unsigned long long)cases[i].rec[w]);
	}
	/* Qualifiers: without SSV the SubstreamID is not written; without Stall
	 * no STAG; CLASS IN leaves TTRnW out; a stage-1 fault has no IPA.
	 * dw0 = 0x1234567800000010; dw1 = attributes 0xe | CLASS 0b10 (0x200)
	 * = 0x0000020e00000000. */
	e.id = EVT_F_TRANSLATION;
	e.ssv = false;
	e.stall = false;
	e.s2 = false;
	e.class_ = EVT_CLASS_IN;
	smmu_event_encode(&e, rec);
	CHECK_EQ(rec[0], 0x1234567800000010ull);
	CHECK_EQ(rec[1], 0x0000020e00000000ull);
	CHECK_EQ(rec[3], 0);
	/* An ATS request for write, unprivileged, data: R | W | Span 1 = 0xc0000001. */
	e.id = EVT_F_BAD_ATS_TREQ;
	e.rnw = e.ind = e.pnu = false;
	smmu_event_encode(&e, rec);
	CHECK_EQ(rec[1], 0x00000000c0000001ull);
	/* Names of every architected ID, and the rest. */
	CHECK(!strcmp(smmu_event_name(0x01), "F_UUT"));
	CHECK(!strcmp(smmu_event_name(0x02), "C_BAD_STREAMID"));
	CHECK(!strcmp(smmu_event_name(0x03), "F_STE_FETCH"));
	CHECK(!strcmp(smmu_event_name(0x04), "C_BAD_STE"));
	CHECK(!strcmp(smmu_event_name(0x05), "F_BAD_ATS_TREQ"));
	CHECK(!strcmp(smmu_event_name(0x06), "F_STREAM_DISABLED"));
	CHECK(!strcmp(smmu_event_name(0x07), "F_TRANSL_FORBIDDEN"));
	CHECK(!strcmp(smmu_event_name(0x08), "C_BAD_SUBSTREAMID"));
	CHECK(!strcmp(smmu_event_name(0x09), "F_CD_FETCH"));
	CHECK(!strcmp(smmu_event_name(0x0a), "C_BAD_CD"));
	CHECK(!strcmp(smmu_event_name(0x0b), "F_WALK_EABT"));
	CHECK(!strcmp(smmu_event_name(0x10), "F_TRANSLATION"));
	CHECK(!strcmp(smmu_event_name(0x11), "F_ADDR_SIZE"));
	CHECK(!strcmp(smmu_event_name(0x12), "F_ACCESS"));
	CHECK(!strcmp(smmu_event_name(0x13), "F_PERMISSION"));
	CHECK(!strcmp(smmu_event_name(0x20), "F_TLB_CONFLICT"));
	CHECK(!strcmp(smmu_event_name(0x21), "F_CFG_CONFLICT"));
	CHECK(!strcmp(smmu_event_name(0x24), "E_PAGE_REQUEST"));
	CHECK(!strcmp(smmu_event_name(0x25), "F_VMS_FETCH"));
	CHECK(!strcmp(smmu_event_name(0xe3), "IMPDEF_EVENT"));
	CHECK(!strcmp(smmu_event_name(0x00), "UNKNOWN"));
	CHECK(!strcmp(smmu_event_name(0x0c), "UNKNOWN"));
}

/* ---- the PRI queue ----------------------------------------------------------------------- */

static int priq(struct smmu *s, const struct dev_page_req *pr)
{
	int ret;

	smmu_lock(s);
	ret = smmu_priq_write_locked(s, pr, pr->rid);
	smmu_unlock(s);
	return ret;
}

static void test_pri_queue(void)
{
	struct dev_page_req pr = {
		.rid = 0x0010, .pasid_valid = true, .pasid = 0x12345, .priv = true, .exec = true,
		.read = true, .last = true, .prgi = 0x1ab, .addr = 0x7f1234567abcull,
	};
	struct dev_page_req plain = {
		.rid = 0x0011, .priv = true, .exec = true, .read = true, .write = true,
		.prgi = 5, .addr = 0x1000,
	};
	struct smmu *s = default_unit();

	if (mem_fill(mem, PRQ_PA, 0xee, 0x1000))
		die("mem_fill");
	/* 4 entries of 16 bytes (LOG2SIZE 2). */
	wr64(s, SMMU_PRIQ_BASE, PRQ_PA | 2);
	wr32(s, SMMU_PRIQ_PROD, 0);
	wr32(s, SMMU_PRIQ_CONS, 0);
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_PRIQ_IRQEN);
	/* PRIQEN alone with SMMUEN = 0: the effective PRIQEN is 0: nothing. */
	wr32(s, SMMU_CR0, CR0_PRIQEN);
	CHECK_EQ(priq(s, &pr), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0);
	CHECK_EQ(get64(PRQ_PA), 0xeeeeeeeeeeeeeeeeull);
	wr32(s, SMMU_CR0, CR0_SMMUEN | CR0_PRIQEN);

	/* The entry:
	 * dw0 = SID 0x10 (31:0) | SSID 0x12345 (51:32) | PRIV (58) | EXEC (59) |
	 *       READ (60) | LAST (62) | SSV (63)
	 *     = 0x10 + 0x0001234500000000 + 0xdc00000000000000 = 0xdc01234500000010
	 * dw1 = PRGI 0x1ab (8:0) | address bits 63:12 = 0x00007f12345671ab */
	CHECK_EQ(priq(s, &pr), 0);
	CHECK_EQ(get64(PRQ_PA), 0xdc01234500000010ull);
	CHECK_EQ(get64(PRQ_PA + 8), 0x00007f12345671abull);
	CHECK_EQ(get64(PRQ_PA + 16), 0xeeeeeeeeeeeeeeeeull);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 1);
	CHECK_EQ(irqs[SMMU_IRQ_PRIQ], 1);
	/* Without a PASID: no SSV, SSID, PRIV or EXEC (they ride in the prefix).
	 * dw0 = 0x11 | READ | WRITE (61) = 0x3000000000000011; dw1 = 5 | 0x1000. */
	CHECK_EQ(priq(s, &plain), 0);
	CHECK_EQ(get64(PRQ_PA + 16), 0x3000000000000011ull);
	CHECK_EQ(get64(PRQ_PA + 24), 0x1005);
	CHECK_EQ(irqs[SMMU_IRQ_PRIQ], 1);               /* not empty before: no interrupt */
	/* Two more fill it: PROD 4 = index 0, wrap 1. */
	CHECK_EQ(priq(s, &plain), 0);
	CHECK_EQ(priq(s, &plain), 0);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 4);
	/* Full: OVFLG toggles (0x80000004), the request is discarded. */
	CHECK_EQ(priq(s, &pr), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0x80000004u);
	CHECK_EQ(get64(PRQ_PA), 0xdc01234500000010ull);
	/* Unlike the event queue, an active overflow inhibits writes even with
	 * room: software consumed two but has not acknowledged. */
	wr32(s, SMMU_PRIQ_CONS, 2);
	CHECK_EQ(priq(s, &plain), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0x80000004u);
	/* Acknowledged (OVACKFLG = OVFLG, RD 4): the next goes to slot 0, PROD
	 * 0x80000005, and the queue was empty: an interrupt. */
	wr32(s, SMMU_PRIQ_CONS, 0x80000004u);
	CHECK_EQ(priq(s, &pr), 0);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0x80000005u);
	CHECK_EQ(get64(PRQ_PA), 0xdc01234500000010ull);
	CHECK_EQ(irqs[SMMU_IRQ_PRIQ], 2);

	/* PRIQ_IRQ_CFG2.LO: an interrupt for every Last request (written), none
	 * for the others, whatever the queue held. */
	wr32(s, SMMU_IRQ_CTRL, 0);
	wr32(s, SMMU_PRIQ_IRQ_CFG2, 0x80000000u);
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_PRIQ_IRQEN);
	CHECK_EQ(priq(s, &pr), 0);
	CHECK_EQ(irqs[SMMU_IRQ_PRIQ], 3);
	CHECK_EQ(priq(s, &plain), 0);
	CHECK_EQ(irqs[SMMU_IRQ_PRIQ], 3);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0x80000007u);
	/* Full again (CONS 0x80000004 = index 0 wrap 1... PROD index 3 wrap 1:
	 * three used); one more fills, the next overflows: a discarded Last
	 * request interrupts with LO. */
	CHECK_EQ(priq(s, &plain), 0);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0x80000000u);
	CHECK_EQ(priq(s, &pr), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0x00000000u);
	CHECK_EQ(irqs[SMMU_IRQ_PRIQ], 4);
	CHECK_EQ(priq(s, &plain), -ENOSPC);             /* not Last: no interrupt */
	CHECK_EQ(irqs[SMMU_IRQ_PRIQ], 4);

	/* A queue that is not memory: PRIQ_ABT_ERR, PROD stays; while active every
	 * request is refused; acknowledged, writes resume. */
	wr32(s, SMMU_CR0, CR0_SMMUEN);
	wr64(s, SMMU_PRIQ_BASE, NOT_MEMORY | 2);
	wr32(s, SMMU_PRIQ_PROD, 0);
	wr32(s, SMMU_PRIQ_CONS, 0);
	wr32(s, SMMU_CR0, CR0_SMMUEN | CR0_PRIQEN);
	CHECK_EQ(priq(s, &pr), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_GERROR), GERROR_PRIQ_ABT_ERR);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0);
	wr32(s, SMMU_CR0, CR0_SMMUEN);
	wr64(s, SMMU_PRIQ_BASE, PRQ_PA | 2);
	wr32(s, SMMU_CR0, CR0_SMMUEN | CR0_PRIQEN);
	CHECK_EQ(priq(s, &pr), -ENOSPC);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 0);
	wr32(s, SMMU_GERRORN, GERROR_PRIQ_ABT_ERR);
	CHECK_EQ(priq(s, &plain), 0);
	CHECK_EQ(rd32(s, SMMU_PRIQ_PROD), 1);
	CHECK_EQ(get64(PRQ_PA), 0x3000000000000011ull);
	smmu_free(s);
}

int main(void)
{
	mem = mem_space_new();
	if (!mem || mem_add_anon(mem, 0, RAM_SIZE, MEM_RW, NULL))
		die("mem space");

	test_id_registers();
	test_cr0();
	test_strtab();
	test_gbpa();
	test_irq_and_gerror();
	test_queue_registers();
	test_event_queue();
	test_event_encoding();
	test_pri_queue();

	mem_space_free(mem);
	return check_exit();
}
