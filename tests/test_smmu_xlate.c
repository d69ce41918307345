/* tests/test_smmu_xlate.c — the SMMUv3 model's translation path, programmed as a
 * driver programs it (STRTAB_BASE, STRTAB_BASE_CFG, EVENTQ_BASE, CR0 and its
 * CR0ACK), with stream table entries, context descriptors and page tables
 * written by hand: stage 1 through a linear CD table, stage 2 only, the
 * configuration errors (C_BAD_STREAMID, C_BAD_STE, C_BAD_SUBSTREAMID, C_BAD_CD),
 * translation faults and their event records, and the caches' counts.
 *
 * Expected values are worked by hand from docs/facts/smmuv3-structures.md and
 * docs/facts/arm-lpae.md: each entry's value is built in a comment from its
 * fields' bit positions, each address from the index bits of the input.
 *
 * Memory: 128 MiB of RAM at 0. Layout:
 *   0x010000  stream table, linear, LOG2SIZE 8: STE n at 0x10000 + n * 64
 *   0x020000  CD table (linear) of SID 0x10: CD n at 0x20000 + n * 64
 *   0x040000  event queue, 2^4 entries of 32 bytes
 *   0x100000  stage-1 tables of SID 0x10 (4K granule, T0SZ 16: levels 0-3)
 *   0x200000  stage-2 tables of SID 0x18 (4K granule, T0SZ 25, SL0 1: levels 1-3)
 */
#include <string.h>

#include "check.h"
#include "dev/dev.h"
#include "hw/smmuv3/smmuv3_internal.h"
#include "mem/mem.h"

#define RAM_SIZE   0x8000000ull
#define STRTAB     0x10000ull
#define CDTAB      0x20000ull
#define EVTQ       0x40000ull
#define EVTQ_LOG2  4

#define SID_S1     0x10
#define SID_BAD    0x11              /* STE left zero: V = 0 */
#define SID_S2     0x18
#define STE(sid)   (STRTAB + (uint64_t)(sid) * 64)

#define VA         0x12345678ull     /* 4K, 48-bit: L0 0, L1 0, L2 0x91, L3 0x145 */

static struct mem_space *ms;

static void die(const char *what)
{
	fprintf(stderr, "test_smmu_xlate: setup failed: %s\n", what);
	exit(1);
}

static void put(uint64_t pa, uint64_t val)
{
	if (mem_store64(ms, pa, val))
		die("mem_store64");
}

static uint64_t get(uint64_t pa)
{
	uint64_t v = 0;

	if (mem_load64(ms, pa, &v))
		die("mem_load64");
	return v;
}

static void fresh_memory(void)
{
	if (ms)
		mem_space_free(ms);
	ms = mem_space_new();
	if (!ms || mem_add_anon(ms, 0, RAM_SIZE, MEM_RW, NULL))
		die("memory");
}

/*
 * The tables of every scenario.
 *
 * SID 0x10, stage 1: STE at 0x10000 + 0x10 * 64 = 0x10400.
 *   dw0 = V (bit 0) | Config 0b101 (bits 3:1: 0xa) | S1Fmt 0 | S1ContextPtr
 *         0x20000 (bits 51:6, the address itself) | S1CDMax 4 (bits 63:59)
 *       = 0x1 + 0xa + 0x20000 + 0x2000000000000000 = 0x200000000002000b
 *   dw1 = S1DSS 0b10 (bits 1:0: substream 0 for requests without one) = 0x2
 * CD 1 (SSID 1) at 0x20040, CD 0 at 0x20000:
 *   dw0 = T0SZ 16 (5:0: 0x10) | TG0 0 (4K) | EPD1 (bit 30) | V (bit 31) |
 *         IPS 0b101 (34:32, 48 bits) | AA64 (bit 41) | R (bit 45) | A (bit 46) |
 *         ASID (63:48)
 *       = 0x10 + 0x40000000 + 0x80000000 + 0x500000000 + 0x20000000000 +
 *         0x200000000000 + 0x400000000000 = 0x00006205c0000010, plus ASID << 48:
 *         ASID 5 (CD 1): 0x00056205c0000010; ASID 4 (CD 0): 0x00046205c0000010
 *   dw1 = TTB0 0x100000 (bits 51:4)
 * Stage-1 tables for VA 0x12345678 (bits 47:39 = 0, 38:30 = 0, 29:21 = 0x91,
 * 20:12 = 0x145):
 *   L0 0x100000[0]            = 0x101003 (table)
 *   L1 0x101000[0]            = 0x102003
 *   L2 0x102000 + 0x91 * 8 = 0x102488  = 0x103003
 *   L3 0x103000 + 0x145 * 8 = 0x103a28 = 0x7655000 | AF 0x400 | AP[1] 0x40 | 3
 *                             = 0x7655443 (EL0 read/write)
 *   VA 0x12346000 (L3 index 0x146, entry 0x103a30) stays 0: invalid.
 *
 * SID 0x18, stage 2 only: STE at 0x10600.
 *   dw0 = V | Config 0b110 (0xc) = 0xd
 *   dw2 = S2VMID 7 | S2T0SZ 25 (37:32: 0x1900000000) | S2SL0 1 (39:38:
 *         0x4000000000) | S2TG 0 (4K) | S2PS 0b101 (50:48: 0x5000000000000) |
 *         S2AA64 (bit 51: 0x8000000000000) | S2R (bit 58: 0x400000000000000)
 *       = 0x040d005900000007
 *   dw3 = S2TTB 0x200000 (51:4)
 * 39-bit IPA, start level 1: IPA 0x12345678 has L1 index (38:30) 0, L2 0x91,
 * L3 0x145:
 *   L1 0x200000[0]            = 0x201003
 *   L2 0x201000 + 0x488       = 0x202003
 *   L3 0x202000 + 0xa28       = 0x7656000 | AF 0x400 | S2AP 0b11 (7:6: 0xc0) | 3
 *                             = 0x76564c3
 */
static void tables(void)
{
	put(STE(SID_S1), 0x200000000002000bull);
	put(STE(SID_S1) + 8, 0x2);
	put(CDTAB, 0x00046205c0000010ull);
	put(CDTAB + 8, 0x100000);
	put(CDTAB + 64, 0x00056205c0000010ull);
	put(CDTAB + 64 + 8, 0x100000);
	put(0x100000, 0x101003);
	put(0x101000, 0x102003);
	put(0x102488, 0x103003);
	put(0x103a28, 0x7655443);

	put(STE(SID_S2), 0xd);
	put(STE(SID_S2) + 16, 0x040d005900000007ull);
	put(STE(SID_S2) + 24, 0x200000);
	put(0x200000, 0x201003);
	put(0x201488, 0x202003);
	put(0x202a28, 0x76564c3);
}

/* As a driver: stream table (linear, LOG2SIZE 8), event queue, then CR0 with
 * SMMUEN and EVENTQEN, waiting for CR0ACK. */
static struct smmu *unit(void)
{
	struct smmu_config c;
	struct smmu *s;
	uint32_t cr0 = (uint32_t)(CR0_SMMUEN | CR0_EVENTQEN);

	smmu_config_default(&c);
	s = smmu_new(&c, ms);
	if (!s)
		die("smmu_new");
	smmu_write(s, SMMU_STRTAB_BASE, 8, STRTAB);
	smmu_write(s, SMMU_STRTAB_BASE_CFG, 4, 8);     /* FMT 0 linear, LOG2SIZE 8 */
	smmu_write(s, SMMU_EVENTQ_BASE, 8, EVTQ | EVTQ_LOG2);
	smmu_write(s, SMMU_CR0, 4, cr0);
	if ((uint32_t)smmu_read(s, SMMU_CR0ACK, 4) != cr0)
		die("CR0ACK");
	return s;
}

static struct dev_xlate tx(struct smmu *s, uint16_t sid, int ssid, bool write, bool priv,
			   uint64_t addr)
{
	struct dev_txn t = {
		.rid = sid, .pasid_valid = ssid >= 0, .pasid = ssid >= 0 ? (uint32_t)ssid : 0,
		.priv = priv, .write = write, .at = DEV_AT_UNTRANSLATED, .addr = addr,
	};
	struct dev_xlate x;

	memset(&x, 0xa5, sizeof(x));
	smmu_translate(s, &t, &x);
	return x;
}

/* The event records written since *cons (EVENTQ_PROD's index), one by one. */
static bool next_event(struct smmu *s, uint32_t *cons, uint64_t rec[4])
{
	uint32_t prod = (uint32_t)smmu_read(s, SMMU_EVENTQ_PROD, 4);
	uint32_t mask = (1u << (EVTQ_LOG2 + 1)) - 1;     /* index and wrap */

	if ((prod & mask) == (*cons & mask))
		return false;
	for (unsigned i = 0; i < 4; i++)
		rec[i] = get(EVTQ + (uint64_t)(*cons & ((1u << EVTQ_LOG2) - 1)) * 32 + 8 * i);
	*cons = (*cons + 1) & mask;
	smmu_write(s, SMMU_EVENTQ_CONS, 4, *cons);
	return true;
}

static void test_stage1(void)
{
	struct smmu *s;
	struct smmu_stats st;
	struct dev_xlate x;
	uint32_t cons = 0;
	uint64_t rec[4];

	fresh_memory();
	tables();
	s = unit();

	x = tx(s, SID_S1, 1, false, false, VA);
	CHECK_EQ(x.status, DEV_XLATE_OK);
	CHECK_EQ(x.pa, 0x7655678);
	CHECK_EQ(x.size, 4096);
	CHECK_EQ(x.page_base, 0x12345000);
	CHECK(x.r && x.w && x.x);        /* AP 0b01, UXN 0: EL0 may read, write, execute */
	/* Again: from the TLB (one configuration hit for the STE, one for the CD). */
	x = tx(s, SID_S1, 1, true, false, VA);
	CHECK_EQ(x.status, DEV_XLATE_OK);
	CHECK_EQ(x.pa, 0x7655678);
	smmu_get_stats(s, &st);
	CHECK_EQ(st.translations, 2);
	CHECK_EQ(st.tlb.hits, 1);
	CHECK_EQ(st.tlb.misses, 1);
	CHECK_EQ(st.walks, 1);
	/* 4 levels of stage 1: four table entries read. */
	CHECK_EQ(st.walk_refs, 4);
	CHECK_EQ(st.cfg.hits, 1);       /* the STE; the CD is counted with it */

	/* No SSID: S1DSS 0b10 takes CD 0 (ASID 4), the same tables. */
	x = tx(s, SID_S1, -1, false, false, VA);
	CHECK_EQ(x.status, DEV_XLATE_OK);
	CHECK_EQ(x.pa, 0x7655678);
	CHECK(!next_event(s, &cons, rec));

	/* An invalid L3 entry: F_TRANSLATION, recorded (CD.R = 1). The record:
	 * dw0 = ID 0x10 | SSV (bit 11) | SSID 1 (31:12) | SID 0x10 (63:32)
	 *     = 0x10 + 0x800 + 0x1000 + 0x1000000000 = 0x0000001000001810
	 * dw1 = RnW (bit 35: a read) | CLASS 0b10 (41:40: IN) = 0x0000020800000000
	 * dw2 = the input address 0x12346008 */
	x = tx(s, SID_S1, 1, false, false, 0x12346008);
	CHECK_EQ(x.status, DEV_XLATE_FAULT);
	CHECK_EQ(x.fault_reason, 0x10);
	CHECK(next_event(s, &cons, rec));
	CHECK_EQ(rec[0], 0x0000001000001810ull);
	CHECK_EQ(rec[1], 0x0000020800000000ull);
	CHECK_EQ(rec[2], 0x12346008);
	CHECK(!next_event(s, &cons, rec));

	/* SSID 16 with S1CDMax 4: C_BAD_SUBSTREAMID (0x08). Its SubstreamID is always
	 * valid and bit 11 is reserved in this record (facts §3.1, spec 7.3.9):
	 * dw0 = 0x08 | SSID 16 << 12 (0x10000) | SID 0x10 << 32 */
	x = tx(s, SID_S1, 16, false, false, VA);
	CHECK_EQ(x.status, DEV_XLATE_FAULT);
	CHECK_EQ(x.fault_reason, 0x08);
	CHECK(next_event(s, &cons, rec));
	CHECK_EQ(rec[0], 0x0000001000010008ull);

	/* SID 0x11: STE V = 0: C_BAD_STE (0x04), dw0 = 0x04 | SID 0x11 << 32. */
	x = tx(s, SID_BAD, -1, false, false, VA);
	CHECK_EQ(x.status, DEV_XLATE_FAULT);
	CHECK_EQ(x.fault_reason, 0x04);
	CHECK(next_event(s, &cons, rec));
	CHECK_EQ(rec[0], 0x0000001100000004ull);

	/* SID 0x100 is beyond LOG2SIZE 8: aborted, and C_BAD_STREAMID (0x02) is
	 * recorded only with CR2.RECINVSID (bit 1), which is 0 so far. */
	x = tx(s, 0x100, -1, false, false, VA);
	CHECK_EQ(x.status, DEV_XLATE_FAULT);
	CHECK_EQ(x.fault_reason, 0x02);
	CHECK(!next_event(s, &cons, rec));
	/* CR2 is writable only while SMMUEN is 0: disable, set RECINVSID, enable. */
	smmu_write(s, SMMU_CR0, 4, CR0_EVENTQEN);
	smmu_write(s, SMMU_CR2, 4, CR2_RECINVSID);
	smmu_write(s, SMMU_CR0, 4, CR0_SMMUEN | CR0_EVENTQEN);
	CHECK_EQ(smmu_read(s, SMMU_CR0ACK, 4), CR0_SMMUEN | CR0_EVENTQEN);
	x = tx(s, 0x100, -1, false, false, VA);
	CHECK_EQ(x.status, DEV_XLATE_FAULT);
	CHECK_EQ(x.fault_reason, 0x02);
	CHECK(next_event(s, &cons, rec));
	CHECK_EQ(rec[0], 0x0000010000000002ull);
	CHECK(!next_event(s, &cons, rec));

	/* CD 1 with AA64 cleared: C_BAD_CD (0x0a); the CD is re-read after CFGI. */
	put(CDTAB + 64, 0x00056005c0000010ull);
	smmu_inv_cd(s, SID_S1, false, 1);
	x = tx(s, SID_S1, 1, false, false, VA);
	CHECK_EQ(x.status, DEV_XLATE_FAULT);
	CHECK_EQ(x.fault_reason, 0x0a);
	CHECK(next_event(s, &cons, rec));
	CHECK_EQ(rec[0], 0x000000100000180aull);
	smmu_free(s);
}

static void test_stage2(void)
{
	struct smmu *s;
	struct smmu_stats st;
	struct dev_xlate x;
	uint32_t cons = 0;
	uint64_t rec[4];

	fresh_memory();
	tables();
	s = unit();
	x = tx(s, SID_S2, -1, true, false, VA);
	CHECK_EQ(x.status, DEV_XLATE_OK);
	CHECK_EQ(x.pa, 0x7656678);
	CHECK_MSG(x.r && x.w, "r %d w %d x %d", x.r, x.w, x.x);
	smmu_get_stats(s, &st);
	CHECK_EQ(st.walk_refs, 3);      /* levels 1, 2, 3 */

	/* A substream on a stage-2-only STE: C_BAD_SUBSTREAMID. */
	x = tx(s, SID_S2, 3, false, false, VA);
	CHECK_EQ(x.status, DEV_XLATE_FAULT);
	CHECK_EQ(x.fault_reason, 0x08);
	CHECK(next_event(s, &cons, rec));

	/* IPA 0x12346000: invalid L3 entry, a stage-2 F_TRANSLATION recorded with
	 * S2R: dw1 = S2 (bit 39) | CLASS IN (0x20000000000) | RnW = 0 (a write)
	 *          = 0x0000028000000000; dw3 = IPA 0x12346000 (51:12). */
	x = tx(s, SID_S2, -1, true, false, 0x12346010);
	CHECK_EQ(x.status, DEV_XLATE_FAULT);
	CHECK_EQ(x.fault_reason, 0x10);
	CHECK(next_event(s, &cons, rec));
	CHECK_EQ(rec[0], 0x0000001800000010ull);
	CHECK_EQ(rec[1], 0x0000028000000000ull);
	CHECK_EQ(rec[2], 0x12346010);
	CHECK_EQ(rec[3], 0x12346000);
	smmu_free(s);
}

int main(void)
{
	test_stage1();
	test_stage2();
	mem_space_free(ms);
	return check_exit();
}
