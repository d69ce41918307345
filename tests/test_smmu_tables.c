/* tests/test_smmu_tables.c — the SMMUv3 model's configuration structures and
 * table formats, driven as a driver drives them (CR2, STRTAB_BASE(_CFG),
 * EVENTQ_BASE/PROD/CONS, CR0 and its CR0ACK), with stream tables, context
 * descriptors and page tables written by hand, every result read back as a
 * driver reads it: the translated address, or the event record in the event
 * queue in memory (EVENTQ_PROD, then the record, then EVENTQ_CONS advanced).
 *
 *  1. two-level stream tables: SPLIT 6, 8, 10, reserved SPLIT, SPLIT >= LOG2SIZE,
 *     the L1STD Span rules, SID >= 2^LOG2SIZE, C_BAD_STREAMID with CR2.RECINVSID
 *     1 and 0, F_STE_FETCH, STRTAB_BASE alignment;
 *  2. two-level CD tables (S1Fmt 1 and 2), S1DSS, S1CDMax, F_CD_FETCH;
 *  3. every STE Config, C_BAD_STE for V = 0 and some ILLEGAL STEs;
 *  4. the 4K, 16K and 64K granules at stage 1 (TTB0 and TTB1) and stage 2,
 *     blocks, concatenated stage-2 start tables, TBI, EPD, TxSZ limits;
 *  5. nested: stage-2 faults on the CD fetch, on a stage-1 table fetch or
 *     update (TTRnW) and on the output, and which stage's flag (STE.S2R, CD.R)
 *     records them;
 *  6. F_ADDR_SIZE, F_ACCESS, F_PERMISSION, F_WALK_EABT, and ATS:
 *     F_TRANSL_FORBIDDEN, F_BAD_ATS_TREQ.
 *
 * Every expected value is worked by hand from docs/facts/smmuv3-structures.md
 * ("facts") and docs/facts/arm-lpae.md ("lpae"): entries from their fields' bit
 * positions, addresses from the index bits of the input, records from the
 * field positions of facts §5.1. (Written before the model was right on S1DSS
 * 0b11, TTB1/TBI, 64K level-1 blocks with OAS 48, S2TTB alignment, external
 * aborts during CD fetches, AFFD and F_WALK_EABT's CLASS: these checks found
 * those bugs.)
 *
 * Memory: 128 MiB of RAM at 0; nothing at and above 0x8000000, so a structure
 * or table placed at 0x9xxxxxx is "unreadable memory" (an external abort).
 * The event queue is at 0x4000 with 2^4 entries; each test consumes every
 * record at once, so PROD must always be exactly one past CONS after a fault
 * that is recorded, and equal to CONS otherwise.
 *
 * Event record words used below (facts §5.1; record bit = 64 * word + bit):
 *   dw0 = ID (7:0) | SSV (11) | SubstreamID (31:12) | StreamID (63:32)
 *   dw1: PnU bit 33 = 0x2_0000_0000, InD bit 34 = 0x4_0000_0000,
 *        RnW bit 35 = 0x8_0000_0000, S2 bit 39 = 0x80_0000_0000,
 *        CLASS 41:40: CD 0, TT 1 << 40 = 0x100_0000_0000, IN 2 << 40 = 0x200_0000_0000,
 *        TTRnW bit 44 = 0x1000_0000_0000; Reason (fetch events) 15:0 (spec 7.3.4:
 *        record bits 79:64), IMPLEMENTATION DEFINED, so not compared
 *     stage-1 read,  CLASS IN:  0x8_0000_0000 + 0x200_0000_0000 = 0x0000020800000000
 *     stage-1 write, CLASS IN:                                      0x0000020000000000
 *     stage-2 read,  CLASS IN:  + S2 0x80_0000_0000             = 0x0000028800000000
 *     stage-2 write, CLASS IN:                                      0x0000028000000000
 *     stage-2 read,  CLASS CD:  0x8_0000_0000 + 0x80_0000_0000  = 0x0000008800000000
 *     stage-2 read,  CLASS TT:  0x88_0000_0000 + 0x100_0000_0000 = 0x0000018800000000
 *     stage-1 read,  CLASS TT:  0x8_0000_0000 + 0x100_0000_0000  = 0x0000010800000000
 *   dw2 = InputAddr[63:0]; dw3 = IPA[55:12] (stage-2 faults) or FetchAddr[55:3].
 *   IPA is UNKNOWN for a stage-1 fault and TTRnW outside F_PERMISSION with CLASS
 *   TT: where the spec leaves a field UNKNOWN the check ignores it (a mask), so
 *   no check depends on the model's choice there.
 */
#include <inttypes.h>
#include <string.h>

#include "check.h"
#include "dev/dev.h"
#include "hw/smmuv3/smmuv3_internal.h"
#include "mem/mem.h"

#define RAM_SIZE   0x8000000ull
#define EVTQ       0x4000ull
#define EVTQ_LOG2  4
#define QMASK      ((1u << (EVTQ_LOG2 + 1)) - 1)  /* index and wrap bit */
#define QIDX       ((1u << EVTQ_LOG2) - 1)
#define LINEAR     0x10000ull                      /* linear stream table, LOG2SIZE 8 */
#define STE(sid)   (LINEAR + (uint64_t)(sid) * 64)

#define REASON     0xffffull                       /* dw1 15:0, IMPLEMENTATION DEFINED */
#define TTRNW      0x0000100000000000ull           /* dw1 bit 44 */
#define SSVBIT     0x800ull                        /* dw0 bit 11 */

/* STRTAB_BASE_CFG of the linear table: FMT 0, LOG2SIZE 8 (5:0). */
#define CFG_LINEAR 8u

static struct mem_space *ms;
static struct smmu *s;
static uint32_t evcons;

static void die(const char *what)
{
	fprintf(stderr, "test_smmu_tables: setup failed: %s\n", what);
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
 * As a driver brings an SMMU up: CR2 (writable only while SMMUEN is 0), the
 * stream table registers, the event queue (BASE, then PROD and CONS, then
 * enable), then CR0, waiting for CR0ACK to show it.
 */
static void start_with(const struct smmu_config *c, uint64_t strtab, uint32_t strtab_cfg,
		       uint32_t cr2, uint32_t cr0)
{
	s = smmu_new(c, ms);
	if (!s)
		die("smmu_new");
	smmu_write(s, SMMU_CR2, 4, cr2);
	smmu_write(s, SMMU_STRTAB_BASE, 8, strtab);
	smmu_write(s, SMMU_STRTAB_BASE_CFG, 4, strtab_cfg);
	smmu_write(s, SMMU_EVENTQ_BASE, 8, EVTQ | EVTQ_LOG2);
	smmu_write(s, SMMU_EVENTQ_PROD, 4, 0);
	smmu_write(s, SMMU_EVENTQ_CONS, 4, 0);
	smmu_write(s, SMMU_CR0, 4, cr0);
	if ((uint32_t)smmu_read(s, SMMU_CR0ACK, 4) != cr0)
		die("CR0ACK");
	if ((uint32_t)smmu_read(s, SMMU_CR2, 4) != cr2)
		die("CR2");
	evcons = 0;
}

/* The default SMMU (smmu_config_default: S1P, S2P, ATS, HTTU 2, CD2L,
 * ST_LEVEL 1, SIDSIZE 16, SSIDSIZE 20, OAS 48, all granules), C_BAD_STREAMID
 * recorded (CR2.RECINVSID = 1, as Linux sets it), SMMUEN and EVENTQEN. */
static void start(uint64_t strtab, uint32_t strtab_cfg)
{
	struct smmu_config c;

	smmu_config_default(&c);
	start_with(&c, strtab, strtab_cfg, (uint32_t)CR2_RECINVSID,
		   (uint32_t)(CR0_SMMUEN | CR0_EVENTQEN));
}

static void stop(void)
{
	smmu_free(s);
	s = NULL;
}

enum { RD = 0, WR = 1, PRIV = 2, EXEC = 4 };

static struct dev_xlate xl(uint16_t sid, int ssid, unsigned fl, enum dev_at at, uint64_t addr)
{
	struct dev_txn t = {
		.rid = sid, .pasid_valid = ssid >= 0, .pasid = ssid >= 0 ? (uint32_t)ssid : 0,
		.priv = (fl & PRIV) != 0, .exec = (fl & EXEC) != 0, .write = (fl & WR) != 0,
		.at = at, .addr = addr,
	};
	struct dev_xlate x;

	memset(&x, 0xa5, sizeof(x));
	smmu_translate(s, &t, &x);
	return x;
}

/* The record at CONS, then CONS advanced (as a driver consumes it). */
static void take(uint64_t rec[4])
{
	for (unsigned i = 0; i < 4; i++)
		rec[i] = get(EVTQ + (uint64_t)(evcons & QIDX) * 32 + 8 * i);
	evcons = (evcons + 1) & QMASK;
	smmu_write(s, SMMU_EVENTQ_CONS, 4, evcons);
}

/* Records beyond the expected ones: reported, consumed, so that later checks
 * start from a clean queue. */
static void drain(int line, uint32_t prod)
{
	uint64_t rec[4];

	while ((prod & QMASK) != evcons) {
		take(rec);
		fprintf(stderr, "  line %d: unexpected record %016" PRIx64 " %016" PRIx64
			" %016" PRIx64 " %016" PRIx64 "\n", line, rec[0], rec[1], rec[2], rec[3]);
	}
}

/* No record since the last one: PROD == CONS, no overflow flag. */
static void none_(int line)
{
	uint32_t prod = (uint32_t)smmu_read(s, SMMU_EVENTQ_PROD, 4);

	CHECK_MSG(prod == evcons, "line %d: EVENTQ_PROD 0x%x, CONS 0x%x (no record expected)",
		  line, prod, evcons);
	drain(line, prod);
}

/* Exactly one record, equal to w (bits in m0, m1, m3 of dw0, dw1, dw3 not
 * compared: UNKNOWN or IMPLEMENTATION DEFINED fields). */
static void ev_(int line, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t m0,
		uint64_t m1, uint64_t m3)
{
	uint32_t prod = (uint32_t)smmu_read(s, SMMU_EVENTQ_PROD, 4);
	uint64_t rec[4];

	CHECK_MSG(prod == ((evcons + 1) & QMASK),
		  "line %d: EVENTQ_PROD 0x%x, CONS 0x%x (one record expected: %016" PRIx64 ")",
		  line, prod, evcons, w0);
	if ((prod & QMASK) == evcons)
		return;
	take(rec);
	CHECK_MSG((rec[0] & ~m0) == (w0 & ~m0), "line %d: dw0 %016" PRIx64 " != %016" PRIx64,
		  line, rec[0], w0);
	CHECK_MSG((rec[1] & ~m1) == (w1 & ~m1), "line %d: dw1 %016" PRIx64 " != %016" PRIx64,
		  line, rec[1], w1);
	CHECK_MSG(rec[2] == w2, "line %d: dw2 %016" PRIx64 " != %016" PRIx64, line, rec[2], w2);
	CHECK_MSG((rec[3] & ~m3) == (w3 & ~m3), "line %d: dw3 %016" PRIx64 " != %016" PRIx64,
		  line, rec[3], w3);
	drain(line, prod);
}

/* A translation to pa, and no record. */
static void ok_(int line, uint16_t sid, int ssid, unsigned fl, uint64_t addr, uint64_t pa)
{
	struct dev_xlate x = xl(sid, ssid, fl, DEV_AT_UNTRANSLATED, addr);

	CHECK_MSG(x.status == DEV_XLATE_OK && x.pa == pa,
		  "line %d: status %d reason 0x%x pa 0x%" PRIx64 " (want OK, 0x%" PRIx64 ")",
		  line, x.status, x.fault_reason, x.pa, pa);
	none_(line);
}

/* A terminated transaction whose reason is event id (0: not compared). */
static void fault_(int line, uint16_t sid, int ssid, unsigned fl, uint64_t addr, unsigned id)
{
	struct dev_xlate x = xl(sid, ssid, fl, DEV_AT_UNTRANSLATED, addr);

	CHECK_MSG(x.status == DEV_XLATE_FAULT && (!id || x.fault_reason == id),
		  "line %d: status %d reason 0x%x pa 0x%" PRIx64 " (want FAULT 0x%x)",
		  line, x.status, x.fault_reason, x.pa, id);
}

#define OK(sid, ssid, fl, a, pa)  ok_(__LINE__, sid, ssid, fl, a, pa)
/* Terminated with the event w0..w3 recorded. */
#define FEV(sid, ssid, fl, a, w0, w1, w2, w3)                                            \
	do {                                                                             \
		fault_(__LINE__, sid, ssid, fl, a, (unsigned)((w0) & 0xff));             \
		ev_(__LINE__, w0, w1, w2, w3, 0, 0, 0);                                  \
	} while (0)
#define FEVM(sid, ssid, fl, a, w0, w1, w2, w3, m0, m1)                                   \
	do {                                                                             \
		fault_(__LINE__, sid, ssid, fl, a, (unsigned)((w0) & 0xff));             \
		ev_(__LINE__, w0, w1, w2, w3, m0, m1, 0);                                \
	} while (0)
/* A translation-related fault (F_TRANSLATION, F_ADDR_SIZE, F_ACCESS,
 * F_PERMISSION) with InputAddr a: at stage 1 the IPA field is UNKNOWN (dw3 not
 * compared); TTRnW is UNKNOWN unless CLASS is TT and only F_PERMISSION defines
 * it (facts §5.1): not compared in these. */
#define XS1(sid, ssid, fl, a, w0, w1)                                                    \
	do {                                                                             \
		fault_(__LINE__, sid, ssid, fl, a, (unsigned)((w0) & 0xff));             \
		ev_(__LINE__, w0, w1, a, 0, 0, TTRNW, ~0ull);                            \
	} while (0)
#define XS2(sid, ssid, fl, a, w0, w1, ipa)                                               \
	do {                                                                             \
		fault_(__LINE__, sid, ssid, fl, a, (unsigned)((w0) & 0xff));             \
		ev_(__LINE__, w0, w1, a, ipa, 0, TTRNW, 0);                              \
	} while (0)
/* Terminated without a record. */
#define SILENT(sid, ssid, fl, a)                                                         \
	do {                                                                             \
		fault_(__LINE__, sid, ssid, fl, a, 0);                                   \
		none_(__LINE__);                                                         \
	} while (0)
/* C_BAD_STREAMID (0x02): recorded only with CR2.RECINVSID = 1 (facts §1.7, §5.2).
 * Its record has StreamID, SubstreamID and SSV only (spec 7.3.3). */
#define BADSID(rec, sid, ssid, w0)                                                       \
	do {                                                                             \
		if (rec) {                                                               \
			FEV(sid, ssid, RD, 0x1000, w0, 0, 0, 0);                         \
		} else {                                                                 \
			SILENT(sid, ssid, RD, 0x1000);                                   \
		}                                                                        \
	} while (0)

/* ---- 1. two-level stream tables ------------------------------------------------------------ */

/* The bypass STE: dw0 = V (bit 0) | Config 0b100 (3:1: 4 << 1 = 0x8) = 0x9. */
#define STE_BYPASS 0x9ull

/*
 * SPLIT 6, LOG2SIZE 10:
 *   STRTAB_BASE_CFG = FMT 1 (17:16: 0x10000) | SPLIT 6 (10:6: 6 << 6 = 0x180) |
 *                     LOG2SIZE 10 (5:0: 0xa) = 0x1018a
 *   L1 table at 0x10000: MAX(1, 2^(10-6)) = 16 L1STDs indexed by SID[9:6]; L2
 *   tables indexed by SID[5:0]. L1STD = L2Ptr (55:6) | Span (4:0).
 *   [1] 0x10008 = 0x13007: L2 at 0x13000, Span 7 = SPLIT + 1: 2^6 STEs, 4 KiB
 *                 (L2Ptr bits [5+7-1:0] taken as 0: 4 KiB aligned)
 *   [2] 0x10010 = 0: Span 0, invalid
 *   [3] 0x10018 = 0x14008: Span 8 > SPLIT + 1 = 7, reserved
 *   [4] 0x10020 = 0x15003: L2 at 0x15000, Span 3: 2^2 = 4 STEs
 *   [5] 0x10028 = 0x1600c: Span 12, reserved (12-31 behave as 0)
 *   STEs: SID 0x047 (SID[9:6] = 1, SID[5:0] = 7): 0x13000 + 7 * 64 = 0x131c0
 *         SID 0x103 (SID[9:6] = 4, SID[5:0] = 3): 0x15000 + 3 * 64 = 0x150c0
 *         SID 0x046 (slot 6): 0x13180, left zero (V = 0)
 *   Traps, valid bypass STEs that a lookup ignoring a Span rule would reach:
 *         0x14000 (SID 0x0c0, slot 0), 0x15100 (SID 0x104, slot 4 >= 2^(3-1)),
 *         0x16040 (SID 0x141, slot 1)
 */
static void split6_tables(void)
{
	put(0x10008, 0x13007);
	put(0x10018, 0x14008);
	put(0x10020, 0x15003);
	put(0x10028, 0x1600c);
	put(0x131c0, STE_BYPASS);
	put(0x150c0, STE_BYPASS);
	put(0x14000, STE_BYPASS);
	put(0x15100, STE_BYPASS);
	put(0x16040, STE_BYPASS);
}

static void test_split6(bool recinvsid)
{
	struct smmu_config c;

	fresh_memory();
	split6_tables();
	smmu_config_default(&c);
	start_with(&c, 0x10000, 0x1018a, recinvsid ? (uint32_t)CR2_RECINVSID : 0,
		   (uint32_t)(CR0_SMMUEN | CR0_EVENTQEN));

	/* Bypass: the output is the input. */
	OK(0x047, -1, RD, 0x123456, 0x123456);
	OK(0x103, -1, WR, 0x7654321, 0x7654321);
	/* A valid span reaching an STE with V = 0: C_BAD_STE (0x04) whatever
	 * RECINVSID says; dw0 = 0x04 | SID 0x46 << 32. */
	FEV(0x046, -1, RD, 0x1000, 0x0000004600000004ull, 0, 0, 0);
	/* Span 0: dw0 = 0x02 | SID 0x80 << 32 = 0x0000008000000002. */
	BADSID(recinvsid, 0x080, -1, 0x0000008000000002ull);
	/* With a SubstreamID: + SSV (0x800) + SSID 5 << 12 (0x5000). */
	BADSID(recinvsid, 0x080, 5, 0x0000008000005802ull);
	/* Span 8 > SPLIT + 1. */
	BADSID(recinvsid, 0x0c0, -1, 0x000000c000000002ull);
	/* SID[5:0] = 4 >= 2^(Span - 1) = 4. */
	BADSID(recinvsid, 0x104, -1, 0x0000010400000002ull);
	/* Span 12 (reserved). */
	BADSID(recinvsid, 0x141, -1, 0x0000014100000002ull);
	/* SID 0x400 = 2^LOG2SIZE, and the largest SID: out of range. */
	BADSID(recinvsid, 0x400, -1, 0x0000040000000002ull);
	BADSID(recinvsid, 0xffff, -1, 0x0000ffff00000002ull);
	stop();
}

/*
 * SPLIT 8, LOG2SIZE 12:
 *   STRTAB_BASE_CFG = 0x10000 | 8 << 6 (0x200) | 12 (0xc) = 0x1020c
 *   16 L1STDs indexed by SID[11:8]; L2 by SID[7:0].
 *   [5] 0x10028 = 0x20009: L2 0x20000, Span 9 = SPLIT + 1: 256 STEs, 16 KiB
 *   [6] 0x10030 = 0x24005: L2 0x24000, Span 5: 16 STEs (aligned 2^(5+5))
 *   [7] 0x10038 = 0x2800a: Span 10 > 9, reserved
 *   [8] 0x10040 = 0: Span 0
 *   STEs: SID 0x5a3 (slot 0xa3): 0x20000 + 0xa3 * 64 (0x28c0) = 0x228c0
 *         SID 0x5ff (slot 0xff, the last): 0x20000 + 0xff * 64 (0x3fc0) = 0x23fc0
 *         SID 0x60f (slot 0xf): 0x24000 + 15 * 64 (0x3c0) = 0x243c0
 *   Traps: 0x24400 (SID 0x610, slot 16 >= 2^4), 0x28000 (SID 0x700, slot 0)
 */
static void test_split8(void)
{
	fresh_memory();
	put(0x10028, 0x20009);
	put(0x10030, 0x24005);
	put(0x10038, 0x2800a);
	put(0x228c0, STE_BYPASS);
	put(0x23fc0, STE_BYPASS);
	put(0x243c0, STE_BYPASS);
	put(0x24400, STE_BYPASS);
	put(0x28000, STE_BYPASS);
	start(0x10000, 0x1020c);

	OK(0x5a3, -1, RD, 0x5000, 0x5000);
	OK(0x5ff, -1, RD, 0x5000, 0x5000);
	OK(0x60f, -1, RD, 0x5000, 0x5000);
	BADSID(true, 0x610, -1, 0x0000061000000002ull);
	BADSID(true, 0x700, -1, 0x0000070000000002ull);
	BADSID(true, 0x800, -1, 0x0000080000000002ull);
	BADSID(true, 0x1000, -1, 0x0000100000000002ull);     /* 2^12 */
	stop();
}

/*
 * SPLIT 10, LOG2SIZE 16:
 *   STRTAB_BASE_CFG = 0x10000 | 10 << 6 (0x280) | 16 (0x10) = 0x10290
 *   64 L1STDs (512 bytes; ADDR[MAX(5, 16-10+2):0] = [8:0] aligned) indexed by
 *   SID[15:10]; L2 by SID[9:0].
 *   [63] 0x10000 + 63 * 8 = 0x101f8 = 0x3000b: L2 0x30000, Span 11: 1024 STEs, 64 KiB
 *   [0]  0x10000 = 0x4000c: Span 12, reserved
 *   [1]  0x10008 = 0x50001: L2 0x50000, Span 1: 2^0 = one STE
 *   [2]  0x10010 = 0
 *   STEs: SID 0xfedc: SID[15:10] = 63, SID[9:0] = 0xfedc - 0xfc00 = 0x2dc:
 *                     0x30000 + 0x2dc * 64 (0xb700) = 0x3b700
 *         SID 0xffff: slot 0x3ff: 0x30000 + 0xffc0 = 0x3ffc0
 *         SID 0x400:  SID[15:10] = 1, slot 0: 0x50000
 *   Traps: 0x40140 (SID 0x005, slot 5), 0x50040 (SID 0x401, slot 1 >= 2^0)
 */
static void test_split10(void)
{
	fresh_memory();
	put(0x101f8, 0x3000b);
	put(0x10000, 0x4000c);
	put(0x10008, 0x50001);
	put(0x3b700, STE_BYPASS);
	put(0x3ffc0, STE_BYPASS);
	put(0x50000, STE_BYPASS);
	put(0x40140, STE_BYPASS);
	put(0x50040, STE_BYPASS);
	start(0x10000, 0x10290);

	OK(0xfedc, -1, RD, 0x2000, 0x2000);
	OK(0xffff, -1, WR, 0x2000, 0x2000);
	OK(0x400, -1, RD, 0x2000, 0x2000);
	BADSID(true, 0x005, -1, 0x0000000500000002ull);
	BADSID(true, 0x401, -1, 0x0000040100000002ull);
	BADSID(true, 0x800, -1, 0x0000080000000002ull);
	stop();
}

static void test_strtab_misc(void)
{
	/* F_STE_FETCH (0x03) on the L1STD: STRTAB_BASE 0x9000000 (no memory), SPLIT 6,
	 * LOG2SIZE 10: SID 0x47's L1STD at 0x9000000 + (0x47 >> 6 = 1) * 8 = 0x9000008.
	 * dw0 = 0x03 | SID 0x47 << 32; dw1: Reason only (not compared), GPCF (bit 16)
	 * 0; dw3 = FetchAddr[55:3] in its own bit positions = 0x9000008. */
	fresh_memory();
	start(0x9000000, 0x1018a);
	FEVM(0x047, -1, RD, 0x1000, 0x0000004700000003ull, 0, 0, 0x9000008, 0, REASON);
	stop();

	/* F_STE_FETCH on the STE: L1STD[1] = 0x9100007 (L2 at 0x9100000, Span 7); SID
	 * 0x47's STE at 0x9100000 + 7 * 64 = 0x91001c0. With SubstreamID 2:
	 * dw0 = 0x03 | SSV 0x800 | 2 << 12 (0x2000) | 0x47 << 32 = 0x0000004700002803. */
	fresh_memory();
	put(0x10008, 0x9100007);
	start(0x10000, 0x1018a);
	FEVM(0x047, 2, RD, 0x1000, 0x0000004700002803ull, 0, 0, 0x91001c0, 0, REASON);
	stop();

	/* STRTAB_BASE bits below the table's alignment are taken as 0 (facts §1.11):
	 * two-level, SPLIT 6, LOG2SIZE 10: ADDR[MAX(5, 6):0] = [6:0]; 0x10040 acts as
	 * 0x10000 (at 0x10040 + 8 = 0x10048 there is only a zero L1STD). */
	fresh_memory();
	split6_tables();
	start(0x10040, 0x1018a);
	OK(0x047, -1, RD, 0x3000, 0x3000);
	stop();

	/* Reserved SPLIT values behave as 6 (facts §1.11): SPLIT 9 (9 << 6 = 0x240,
	 * STRTAB_BASE_CFG 0x1024a) and 11 (0x2c0: 0x102ca) find SID 0x047 and 0x103
	 * through L1STD[SID[9:6]] exactly as SPLIT 6 does. */
	start(0x10000, 0x1024a);
	OK(0x047, -1, RD, 0x3000, 0x3000);
	OK(0x103, -1, RD, 0x3000, 0x3000);
	BADSID(true, 0x104, -1, 0x0000010400000002ull);
	stop();
	start(0x10000, 0x102ca);
	OK(0x047, -1, RD, 0x3000, 0x3000);
	OK(0x103, -1, RD, 0x3000, 0x3000);
	stop();

	/* SPLIT 8 >= LOG2SIZE 5 (STRTAB_BASE_CFG 0x10000 | 0x200 | 5 = 0x10205): one
	 * L1STD, one L2 table indexed by SID[7:0] with 2^5 usable entries; Span is
	 * valid up to SPLIT + 1 = 9 (spec 6.3.25 SPLIT note). L1STD[0] = 0x13007 (Span 7:
	 * 64 STEs at 0x13000). SID 0x1f: 0x13000 + 31 * 64 = 0x137c0 (bypass); SID 5:
	 * 0x13140, V = 0: C_BAD_STE; SID 0x20 >= 2^5: C_BAD_STREAMID. */
	fresh_memory();
	put(0x10000, 0x13007);
	put(0x137c0, STE_BYPASS);
	start(0x10000, 0x10205);
	OK(0x1f, -1, RD, 0x3000, 0x3000);
	FEV(0x05, -1, RD, 0x3000, 0x0000000500000004ull, 0, 0, 0);
	BADSID(true, 0x20, -1, 0x0000002000000002ull);
	stop();

	/* L1STD.L2Ptr bits [5+Span-1:0] are taken as 0 (facts §2.1): L1STD[1] =
	 * 0x13047 (L2Ptr 0x13040, Span 7: bits [11:0] cleared) finds SID 0x047's STE at
	 * 0x13000 + 7 * 64 = 0x131c0 (at 0x13040 + 0x1c0 = 0x13200 there is none). */
	fresh_memory();
	put(0x10008, 0x13047);
	put(0x131c0, STE_BYPASS);
	start(0x10000, 0x1018a);
	OK(0x047, -1, RD, 0x3000, 0x3000);
	stop();

	/* Linear: ADDR[LOG2SIZE+5:0] = [13:0] taken as 0; 0x13fc0 acts as 0x10000.
	 * SID 0x10's STE at 0x10000 + 0x10 * 64 = 0x10400 (bypass). */
	fresh_memory();
	put(STE(0x10), STE_BYPASS);
	start(0x13fc0, CFG_LINEAR);
	OK(0x10, -1, RD, 0x3000, 0x3000);
	stop();
}

/* ---- 2. two-level CD tables, S1DSS, S1CDMax ---------------------------------------------------- */

/*
 * A stage-1 CD (4K granule, T0SZ 25: a 39-bit VA, start level 1; facts §3.2):
 *   dw0 = T0SZ 25 (5:0: 0x19) | TG0 0b00 4K (7:6) | EPD1 (30: 0x40000000; TTB1
 *         unused) | V (31: 0x80000000) | IPS 0b101 48 bits (34:32: 0x500000000)
 *         | AA64 (41: 0x20000000000) | R (45: 0x200000000000) | A (46:
 *         0x400000000000) | ASID (63:48)
 *       = 0x19 + 0x40000000 + 0x80000000 + 0x500000000 + 0x20000000000 +
 *         0x200000000000 + 0x400000000000 = 0x00006205c0000019, | ASID << 48
 *   dw1 = TTB0 (51:4: the address itself)
 * Its tables: one level-1 table (index VA[38:30]) whose entry 0 is a 1 GiB block:
 *   OA (47:30) | AF (bit 10: 0x400) | AP 0b01 (7:6: 0x40, EL0 and EL1 RW) |
 *   0b01 (block) = OA | 0x441
 * so VA 0x1234 translates to OA + 0x1234: each CD gets its own OA, so the PA
 * tells which CD was used.
 */
static void cd_s1(uint64_t cd, uint16_t asid, uint64_t l1, uint64_t oa)
{
	put(cd, 0x00006205c0000019ull | (uint64_t)asid << 48);
	put(cd + 8, l1);
	put(l1, oa | 0x441);
}

/*
 * STEs (linear table; STE n at 0x10000 + n * 64):
 *   Config 0b101 (3:1: 0xa) | V (0x1) | S1Fmt (5:4) | S1ContextPtr (51:6, the
 *   address) | S1CDMax (63:59; 10 << 59 = 0x5000000000000000,
 *   12 << 59 = 0x6000000000000000); dw1 = S1DSS (1:0)
 *   SID 0x20: S1Fmt 1 (0x10), ptr 0x40000, CDMax 10, S1DSS 0b10:
 *             dw0 = 0x1 + 0xa + 0x10 + 0x40000 + 0x5000000000000000 = 0x500000000004001b
 *   SID 0x21: as 0x20 with ptr 0x9300000 (no memory): 0x500000000930001b
 *   SID 0x22: as 0x20 with ptr 0x40400 (an L1 CD table of zeros): 0x500000000004041b
 *   SID 0x23: S1Fmt 2 (0x20), ptr 0x40800, CDMax 12:
 *             dw0 = 0x1 + 0xa + 0x20 + 0x40800 + 0x6000000000000000 = 0x600000000004082b
 *   SID 0x24, 0x25, 0x26: as 0x20 with S1DSS 0b00, 0b01, 0b11
 *   SID 0x27: S1CDMax 0: one CD at 0x43000: dw0 = 0xb + 0x43000 = 0x4300b
 * S1Fmt 1 (4 KiB leaves, facts §3.1): L1CD index SSID[9:6] (N = 10: 16 L1CDs,
 * 128 bytes), leaf CD at L1CD.L2Ptr + SSID[5:0] * 64. L1CD = L2Ptr (55:12) | V.
 *   0x40000 [0] = 0x42001 (leaf table 0x42000), [1] 0x40008 = 0x41001,
 *   [2] 0x40010 = 0 (V = 0), [3] 0x40018 = 0x9200001 (leaf table in no memory)
 *   SSID 0x47: [1], CD at 0x41000 + 7 * 64 = 0x411c0; SSID 0: [0], CD at 0x42000
 * S1Fmt 2 (64 KiB leaves): index SSID[11:10] (N = 12: 4 L1CDs), leaf CD at
 * L2Ptr + SSID[9:0] * 64.
 *   0x40800 [2] 0x40810 = 0x50001 (leaf table 0x50000, 64 KiB aligned), [3] = 0
 *   SSID 0x9a7: SSID[11:10] = 2, SSID[9:0] = 0x9a7 - 0x800 = 0x1a7:
 *               CD at 0x50000 + 0x1a7 * 64 (0x69c0) = 0x569c0
 * CDs (ASID, level-1 table, block OA):
 *   0x42000 (SSID 0):       ASID 1, 0x100000, 0x40000000
 *   0x411c0 (SSID 0x47):    ASID 2, 0x101000, 0x80000000
 *   0x569c0 (SSID 0x9a7):   ASID 3, 0x102000, 0xc0000000
 *   0x43000 (SID 0x27):     ASID 5, 0x104000, 0x140000000
 */
static void test_cd_tables(void)
{
	fresh_memory();
	put(STE(0x20), 0x500000000004001bull);
	put(STE(0x20) + 8, 0x2);
	put(STE(0x21), 0x500000000930001bull);
	put(STE(0x21) + 8, 0x2);
	put(STE(0x22), 0x500000000004041bull);
	put(STE(0x22) + 8, 0x2);
	put(STE(0x23), 0x600000000004082bull);
	put(STE(0x23) + 8, 0x2);
	put(STE(0x24), 0x500000000004001bull);
	put(STE(0x24) + 8, 0x0);
	put(STE(0x25), 0x500000000004001bull);
	put(STE(0x25) + 8, 0x1);
	put(STE(0x26), 0x500000000004001bull);
	put(STE(0x26) + 8, 0x3);
	put(STE(0x27), 0x4300b);
	put(0x40000, 0x42001);
	put(0x40008, 0x41001);
	put(0x40018, 0x9200001);
	put(0x40810, 0x50001);
	cd_s1(0x42000, 1, 0x100000, 0x40000000);
	cd_s1(0x411c0, 2, 0x101000, 0x80000000);
	cd_s1(0x569c0, 3, 0x102000, 0xc0000000);
	cd_s1(0x43000, 5, 0x104000, 0x140000000ull);
	start(LINEAR, CFG_LINEAR);

	/* S1Fmt 1: SSID 0x47 through L1CD[1]: PA 0x80000000 + 0x1234. */
	OK(0x20, 0x47, RD, 0x1234, 0x80001234);
	/* No SubstreamID, S1DSS 0b10: CD 0 through L1CD[0]. */
	OK(0x20, -1, RD, 0x1234, 0x40001234);
	/* An explicit SubstreamID 0 with S1DSS 0b10: F_STREAM_DISABLED (0x06),
	 * dw0 = 0x06 | SID 0x20 << 32. The record is a figure in the spec; facts §5.2
	 * gives it no SubstreamID field: SSV (bit 11) is not compared. */
	FEVM(0x20, 0, RD, 0x1234, 0x0000002000000006ull, 0, 0, 0, SSVBIT, 0);
	/* L1CD[2] has V = 0: C_BAD_SUBSTREAMID (0x08), SubstreamID always valid and no
	 * SSV (spec 7.3.9): dw0 = 0x08 | 0x80 << 12 (0x80000) | 0x20 << 32. */
	FEV(0x20, 0x80, RD, 0x1234, 0x0000002000080008ull, 0, 0, 0);
	/* SSID 0x400 = 2^S1CDMax: dw0 = 0x08 | 0x400 << 12 (0x400000) | 0x20 << 32. */
	FEV(0x20, 0x400, RD, 0x1234, 0x0000002000400008ull, 0, 0, 0);
	/* SSID 0xc5: L1CD[3] (0xc5 >> 6 = 3) points at 0x9200000: the CD at
	 * 0x9200000 + (0xc5 & 63 = 5) * 64 = 0x9200140 cannot be read: F_CD_FETCH (0x09),
	 * dw0 = 0x09 | SSV 0x800 | 0xc5 << 12 (0xc5000) | 0x20 << 32; dw3 = FetchAddr. */
	FEVM(0x20, 0xc5, RD, 0x1234, 0x00000020000c5809ull, 0, 0, 0x9200140, 0, REASON);
	/* SID 0x21: the L1CD itself at 0x9300000 + 1 * 8 cannot be read:
	 * dw0 = 0x09 | 0x800 | 0x47000 | 0x21 << 32; dw3 = 0x9300008. */
	FEVM(0x21, 0x47, RD, 0x1234, 0x0000002100047809ull, 0, 0, 0x9300008, 0, REASON);
	/* SID 0x22, no SubstreamID (S1DSS 0b10: CD 0): L1CD[0] at 0x40400 has V = 0:
	 * C_BAD_SUBSTREAMID with SubstreamID 0 (spec 7.3.9): dw0 = 0x08 | 0x22 << 32. */
	FEV(0x22, -1, RD, 0x1234, 0x0000002200000008ull, 0, 0, 0);
	/* S1Fmt 2: SSID 0x9a7 through L1CD[2]: PA 0xc0000000 + 0x1234. */
	OK(0x23, 0x9a7, RD, 0x1234, 0xc0001234);
	/* SSID 0xc00: L1CD[3] (0xc00 >> 10) has V = 0: dw0 = 0x08 | 0xc00 << 12
	 * (0xc00000) | 0x23 << 32. */
	FEV(0x23, 0xc00, RD, 0x1234, 0x0000002300c00008ull, 0, 0, 0);
	/* SSID 0x1000 = 2^12: dw0 = 0x08 | 0x1000000 | 0x23 << 32. */
	FEV(0x23, 0x1000, WR, 0x1234, 0x0000002301000008ull, 0, 0, 0);
	/* S1DSS 0b00 without a SubstreamID: F_STREAM_DISABLED, dw0 = 0x06 | 0x24 << 32;
	 * with one, S1DSS does not apply: the CD of SSID 0x47. */
	FEV(0x24, -1, RD, 0x1234, 0x0000002400000006ull, 0, 0, 0);
	OK(0x24, 0x47, RD, 0x1234, 0x80001234);
	/* S1DSS 0b01: stage 1 bypassed, no stage 2: the output is the input. */
	OK(0x25, -1, RD, 0x1234, 0x1234);
	/* S1DSS 0b11 is reserved and behaves as 0b00 (facts §2.2 dw1). */
	FEV(0x26, -1, RD, 0x1234, 0x0000002600000006ull, 0, 0, 0);
	/* S1CDMax 0: the one CD at S1ContextPtr; a SubstreamID is C_BAD_SUBSTREAMID,
	 * dw0 = 0x08 | 1 << 12 | 0x27 << 32. */
	OK(0x27, -1, RD, 0x1234, 0x140001234ull);
	FEV(0x27, 1, RD, 0x1234, 0x0000002700001008ull, 0, 0, 0);
	stop();
}

/* ---- 3. every STE Config; ILLEGAL STEs ------------------------------------------------------- */

/*
 * Stage 2 of SID 0x37 (Config 0b110): dw0 = V | 0b110 << 1 (0xc) = 0xd
 *   dw2 = S2VMID 1 (15:0) | S2T0SZ 25 (37:32: 0x1900000000) | S2SL0 1 (39:38:
 *         0x4000000000) | S2TG 0b00 4K (47:46) | S2PS 0b101 (50:48: 0x5000000000000)
 *         | S2AA64 (51: 0x8000000000000) | S2R (58: 0x400000000000000)
 *       = 0x040d005900000001
 *   dw3 = S2TTB 0x200000: a level-1 table (start level 1: 4K, SL0 1), entry 0 a
 *         1 GiB block: OA 0x200000000 | AF 0x400 | S2AP 0b11 (7:6: 0xc0) | 0b01
 *         = 0x2000004c1. IPA 0x1234 -> 0x200001234.
 * Nested SID 0x38 (Config 0b111): dw0 = 0xf | S1ContextPtr 0x45000 = 0x4500f
 *   dw2 = as above with S2VMID 2 = 0x040d005900000002; dw3 = 0x201000
 *   stage 2 at 0x201000: [0] IPA 0-1 GiB -> PA 0 (block 0x4c1);
 *                        [1] IPA 1-2 GiB -> PA 0x300000000 (0x3000004c1)
 *   CD at IPA 0x45000 (= PA 0x45000 through [0]): ASID 8, TTB0 IPA 0x106000 whose
 *   entry 0 is a block to IPA 0x40000000 (0x40000441).
 *   VA 0x1234 -> IPA 0x40001234 -> PA 0x300001234.
 */
static void test_ste_configs(void)
{
	struct smmu_config c;

	fresh_memory();
	/* SID 0x30: all zero (V = 0). */
	put(STE(0x31), 0x1);                  /* V, Config 0b000 */
	put(STE(0x32), 0x3);                  /* Config 0b001: 1 << 1 | V */
	put(STE(0x33), 0x5);                  /* Config 0b010: 2 << 1 | V */
	put(STE(0x34), 0x7);                  /* Config 0b011: 3 << 1 | V */
	put(STE(0x35), STE_BYPASS);           /* Config 0b100 */
	/* Config 0b101, S1CDMax 0, CD at 0x44000: dw0 = 0xb | 0x44000. */
	put(STE(0x36), 0x4400b);
	cd_s1(0x44000, 7, 0x105000, 0x180000000ull);
	put(STE(0x37), 0xd);
	put(STE(0x37) + 16, 0x040d005900000001ull);
	put(STE(0x37) + 24, 0x200000);
	put(0x200000, 0x2000004c1ull);
	put(STE(0x38), 0x4500f);
	put(STE(0x38) + 16, 0x040d005900000002ull);
	put(STE(0x38) + 24, 0x201000);
	put(0x201000, 0x4c1);
	put(0x201008, 0x3000004c1ull);
	cd_s1(0x45000, 8, 0x106000, 0x40000000);

	/*
	 * ILLEGAL STEs (facts §2.4), each C_BAD_STE:
	 *  0x40: Config 0b101 with STRW 0b01 (dw1 31:30: 0x40000000) (§2.4 item 6)
	 *  0x41: S1CDMax 21 > SSIDSIZE 20 (21 << 59 = 0xa800000000000000) (item 7)
	 *  0x42: S2TG 0b11 (47:46: 0xc00000000000) (item 8)
	 *  0x43: S2T0SZ 40 > 39 (37:32: 0x2800000000), S2SL0 0 (start level 2)
	 *        = 0x0400000000000000 + 0x0008000000000000 + 0x0005000000000000 +
	 *          0x2800000000 + VMID 1 = 0x040d002800000001 (item 8)
	 *  0x44: S2T0SZ 15 < 16 (0xf00000000), S2SL0 2 (level 0: 0x8000000000)
	 *        = 0x040d008f00000001 (item 8)
	 *  0x45: S2T0SZ 24 (IA 40) with S2SL0 0 (level 2 holds IA 22-34 only:
	 *        lpae §1 S2InconsistentSL) = 0x040d001800000001
	 *  0x46: S2TTB 0x100000000 beyond S2PS 0b000 (32 bits); S2T0SZ 32, SL0 1:
	 *        0x0400000000000000 + 0x0008000000000000 + 0x4000000000 +
	 *        0x2000000000 + 1 = 0x0408006000000001 (item 8)
	 *  0x47: S2AA64 0 (TTF[0] = 0: no AArch32 tables): 0x0405005900000001
	 *  0x48: Config 0b110 with EATS 0b10 (dw1 29:28: 0x20000000) (item 5)
	 *  0x49: S2ENDI 1 (bit 52: 0x10000000000000) with little-endian-only TTENDIAN:
	 *        0x041d005900000001 (item 8)
	 *  0x4a: Config 0b101 with S1ContextPtr 0x1000000000000 (bit 48) beyond OAS 48:
	 *        0x000100000000000b (item 7, v3.1+)
	 */
	put(STE(0x40), 0x4400b);
	put(STE(0x40) + 8, 0x40000000);
	put(STE(0x41), 0xa80000000004400bull);
	put(STE(0x42), 0xd);
	put(STE(0x42) + 16, 0x040dc05900000001ull);
	put(STE(0x42) + 24, 0x200000);
	put(STE(0x43), 0xd);
	put(STE(0x43) + 16, 0x040d002800000001ull);
	put(STE(0x43) + 24, 0x200000);
	put(STE(0x44), 0xd);
	put(STE(0x44) + 16, 0x040d008f00000001ull);
	put(STE(0x44) + 24, 0x200000);
	put(STE(0x45), 0xd);
	put(STE(0x45) + 16, 0x040d001800000001ull);
	put(STE(0x45) + 24, 0x200000);
	put(STE(0x46), 0xd);
	put(STE(0x46) + 16, 0x0408006000000001ull);
	put(STE(0x46) + 24, 0x100000000ull);
	put(STE(0x47), 0xd);
	put(STE(0x47) + 16, 0x0405005900000001ull);
	put(STE(0x47) + 24, 0x200000);
	put(STE(0x48), 0xd);
	put(STE(0x48) + 8, 0x20000000);
	put(STE(0x48) + 16, 0x040d005900000001ull);
	put(STE(0x48) + 24, 0x200000);
	put(STE(0x49), 0xd);
	put(STE(0x49) + 16, 0x041d005900000001ull);
	put(STE(0x49) + 24, 0x200000);
	put(STE(0x4a), 0x000100000000000bull);
	start(LINEAR, CFG_LINEAR);

	/* V = 0: C_BAD_STE, dw0 = 0x04 | 0x30 << 32; with SubstreamID 2 the record
	 * has SSV and the SubstreamID (spec 7.3.5): + 0x800 + 0x2000. */
	FEV(0x30, -1, RD, 0x1000, 0x0000003000000004ull, 0, 0, 0);
	FEV(0x30, 2, RD, 0x1000, 0x0000003000002804ull, 0, 0, 0);
	/* Config 0b000 and the reserved 0b001-0b011: abort, no event (facts §2.3). */
	SILENT(0x31, -1, RD, 0x1000);
	SILENT(0x31, 3, WR, 0x1000);
	SILENT(0x32, -1, RD, 0x1000);
	SILENT(0x33, -1, RD, 0x1000);
	SILENT(0x34, -1, WR, 0x1000);
	/* 0b100: bypass. A SubstreamID with stage 1 off: C_BAD_SUBSTREAMID,
	 * dw0 = 0x08 | 1 << 12 | 0x35 << 32. */
	OK(0x35, -1, RD, 0x7654321, 0x7654321);
	OK(0x35, -1, WR, 0xfffffffff000ull, 0xfffffffff000ull);
	FEV(0x35, 1, RD, 0x1000, 0x0000003500001008ull, 0, 0, 0);
	/* 0b101: stage 1: VA 0x1234 -> 0x180000000 + 0x1234. */
	OK(0x36, -1, RD, 0x1234, 0x180001234ull);
	/* 0b110: stage 2: IPA 0x1234 -> 0x200001234; a SubstreamID:
	 * C_BAD_SUBSTREAMID, dw0 = 0x08 | 1 << 12 | 0x37 << 32. */
	OK(0x37, -1, WR, 0x1234, 0x200001234ull);
	FEV(0x37, 1, RD, 0x1234, 0x0000003700001008ull, 0, 0, 0);
	/* 0b111: nested. */
	OK(0x38, -1, RD, 0x1234, 0x300001234ull);
	/* ILLEGAL: C_BAD_STE, dw0 = 0x04 | SID << 32. */
	FEV(0x40, -1, RD, 0x1234, 0x0000004000000004ull, 0, 0, 0);
	FEV(0x41, -1, RD, 0x1234, 0x0000004100000004ull, 0, 0, 0);
	FEV(0x42, -1, RD, 0x1234, 0x0000004200000004ull, 0, 0, 0);
	FEV(0x43, -1, RD, 0x1234, 0x0000004300000004ull, 0, 0, 0);
	FEV(0x44, -1, RD, 0x1234, 0x0000004400000004ull, 0, 0, 0);
	FEV(0x45, -1, RD, 0x1234, 0x0000004500000004ull, 0, 0, 0);
	FEV(0x46, -1, RD, 0x1234, 0x0000004600000004ull, 0, 0, 0);
	FEV(0x47, -1, RD, 0x1234, 0x0000004700000004ull, 0, 0, 0);
	FEV(0x48, -1, RD, 0x1234, 0x0000004800000004ull, 0, 0, 0);
	FEV(0x49, -1, RD, 0x1234, 0x0000004900000004ull, 0, 0, 0);
	FEV(0x4a, -1, RD, 0x1234, 0x0000004a00000004ull, 0, 0, 0);
	stop();

	/* A stage the SMMU does not implement is ILLEGAL (facts §2.4 items 3, 4):
	 * without S1P, Config 0b101 (SID 0x36) and 0b111 (0x38); without S2P,
	 * Config 0b110 (0x37) and 0b111. Bypass still works. */
	smmu_config_default(&c);
	c.s1p = false;
	start_with(&c, LINEAR, CFG_LINEAR, (uint32_t)CR2_RECINVSID,
		   (uint32_t)(CR0_SMMUEN | CR0_EVENTQEN));
	FEV(0x36, -1, RD, 0x1234, 0x0000003600000004ull, 0, 0, 0);
	FEV(0x38, -1, RD, 0x1234, 0x0000003800000004ull, 0, 0, 0);
	OK(0x37, -1, RD, 0x1234, 0x200001234ull);
	OK(0x35, -1, RD, 0x1234, 0x1234);
	stop();
	smmu_config_default(&c);
	c.s2p = false;
	start_with(&c, LINEAR, CFG_LINEAR, (uint32_t)CR2_RECINVSID,
		   (uint32_t)(CR0_SMMUEN | CR0_EVENTQEN));
	FEV(0x37, -1, RD, 0x1234, 0x0000003700000004ull, 0, 0, 0);
	FEV(0x38, -1, RD, 0x1234, 0x0000003800000004ull, 0, 0, 0);
	OK(0x36, -1, RD, 0x1234, 0x180001234ull);
	stop();
}

/* ---- 4. granules, blocks, concatenation, TTB1, TBI, EPD, TxSZ ------------------------------ */

/* A stage-1-only STE with S1CDMax 0 and its CD at cd: dw0 = V | 0b101 << 1 | cd. */
static void ste_s1(uint16_t sid, uint64_t cd, uint64_t cd0, uint64_t ttb0, uint64_t ttb1)
{
	put(STE(sid), 0xb | cd);
	put(cd, cd0);
	put(cd + 8, ttb0);
	put(cd + 16, ttb1);
}

/*
 * Stage-1 tables (leaf descriptors: OA | AF 0x400 | AP 0b01 0x40 | 0b01 block
 * (0x441) or 0b11 page (0x443); table descriptors: address | 0b11):
 *
 * 4K, T0SZ 25 (IA 39: start level 1; L1 VA[38:30], L2 VA[29:21], L3 VA[20:12]):
 *   0x100000 [0] = 0x101003 (table); [1] 0x100008 = 0x100000441 (1 GiB block)
 *   0x101000 [0] = 0x102003; [1] 0x101008 = 0x600441 (2 MiB block at 0x600000)
 *   0x102000 [5] 0x102028 = 0x7000443 (page 0x7000000)
 *   VA 0x5abc:     L1 0, L2 0, L3 5 -> 0x7000abc
 *   VA 0x201234:   L1 0, L2 1 (0x201234 >> 21) -> 0x600000 + 0x1234 = 0x601234
 *   VA 0x40005678: L1 1 -> 0x100000000 + 0x5678 = 0x100005678
 * 16K, T0SZ 17 (IA 47: 3 - (47-1-14)/11 = start level 1; L1 VA[46:36], L2
 *   VA[35:25], L3 VA[24:14], 2048 entries, 16 KiB tables):
 *   VA 0x300a01dabc = 3 << 36 (0x3000000000) + 5 << 25 (0xa000000) +
 *                     7 << 14 (0x1c000) + 0x1abc
 *   0x110000 [3] 0x110018 = 0x114003; [4] 0x110020 = 0x1000000441 (a 64 GiB level-1
 *            block: not allowed with 16K without DS, lpae §3: F_TRANSLATION)
 *   0x114000 [5] 0x114028 = 0x118003; [6] 0x114030 = 0x6000441 (32 MiB block)
 *   0x118000 [7] 0x118038 = 0x5004443 (page 0x5004000, 16 KiB aligned)
 *   VA 0x300a01dabc -> 0x5004000 + 0x1abc = 0x5005abc
 *   VA 0x300c123456 = 3 << 36 + 6 << 25 (0xc000000) + 0x123456 -> 0x6123456
 *   VA 0x4000001234 (L1 4) -> F_TRANSLATION
 * 64K, T0SZ 22 (IA 42: 3 - (42-1-16)/13 = start level 2; L2 VA[41:29] (8192
 *   entries, 64 KiB), L3 VA[28:16]):
 *   0x120000 [2] 0x120010 = 0x130003; [3] 0x120018 = 0x20000441 (512 MiB block)
 *   0x130000 [9] 0x130048 = 0x5030443 (page 0x5030000, 64 KiB aligned)
 *   VA 0x4009beef = 2 << 29 (0x40000000) + 9 << 16 (0x90000) + 0xbeef -> 0x503beef
 *   VA 0x61234567 = 3 << 29 (0x60000000) + 0x1234567 -> 0x21234567
 * 64K, T0SZ 16 (IA 48: 3 - (48-1-16)/13 = start level 1; L1 VA[47:42]):
 *   0x140000 [1] 0x140008 = 0x40000000441 (4 TiB block at 1 << 42): with OAS 48
 *   (the implemented PA size) a 64K level-1 block is not allowed (lpae §3:
 *   BlockDescSupported needs PAMax >= 52): F_TRANSLATION for VA 0x40000001234.
 *
 * CDs (facts §3.2; base 0x00006205c0000000 = EPD1 | V | IPS 48 | AA64 | R | A,
 * see cd_s1; TG0 7:6: 4K 0, 64K 0x40, 16K 0x80; ASID 63:48):
 *   SID 0x50 4K T0SZ 25:   0x00106205c0000019, TTB0 0x100000
 *   SID 0x51 16K T0SZ 17:  0x11 + 0x80 = 0x91: 0x00116205c0000091, TTB0 0x110000
 *   SID 0x52 64K T0SZ 22:  0x16 + 0x40 = 0x56: 0x00126205c0000056, TTB0 0x120000
 *   SID 0x53 64K T0SZ 16:  0x10 + 0x40 = 0x50: 0x00136205c0000050, TTB0 0x140000
 */
static void s1_tables(void)
{
	put(0x100000, 0x101003);
	put(0x100008, 0x100000441ull);
	put(0x101000, 0x102003);
	put(0x101008, 0x600441);
	put(0x102028, 0x7000443);

	put(0x110018, 0x114003);
	put(0x110020, 0x1000000441ull);
	put(0x114028, 0x118003);
	put(0x114030, 0x6000441);
	put(0x118038, 0x5004443);

	put(0x120010, 0x130003);
	put(0x120018, 0x20000441);
	put(0x130048, 0x5030443);

	put(0x140008, 0x40000000441ull);
}

/*
 * TTB1 tables (TG1 7 encodings: 0b10 4K, 0b01 16K, 0b11 64K; facts §3.2):
 * 4K, T1SZ 25: upper VAs have VA[63:39] all ones; L1 index VA[38:30]:
 *   0x150000 [1] 0x150008 = 0x140000441 (1 GiB block at 0x140000000)
 *   VA 0xffffff8040001234: L1 1 -> 0x140000000 + 0x1234 = 0x140001234
 * 16K, T1SZ 28 (IA 36: 3 - (36-1-14)/11 = start level 2; L2 VA[35:25], L3 VA[24:14]):
 *   0x160000 [2] 0x160010 = 0x164003; [4] 0x160020 = 0x4000441 (32 MiB block)
 *   0x164000 [3] 0x164018 = 0x5080443 (page 0x5080000)
 *   VA 0xfffffff00400c123 = 0xfffffff000000000 + 2 << 25 (0x4000000) + 3 << 14
 *                           (0xc000) + 0x123 -> 0x5080123
 *   VA 0xfffffff008012345 = ... + 4 << 25 (0x8000000) + 0x12345 -> 0x4012345
 * 64K, T1SZ 22 (IA 42: start level 2; L2 VA[41:29], L3 VA[28:16]):
 *   0x170000 [5] 0x170028 = 0x40000441 (512 MiB block); [6] 0x170030 = 0x180003
 *   0x180000 [0xa] 0x180050 = 0x50a0443 (page 0x50a0000)
 *   VA 0xfffffc00a0076543 = 0xfffffc0000000000 + 5 << 29 (0xa0000000) + 0x76543
 *                           -> 0x40076543
 *   VA 0xfffffc00c00a4321 = ... + 6 << 29 (0xc0000000) + 0xa << 16 (0xa0000) +
 *                           0x4321 -> 0x50a4321
 *
 * CDs with TTB0 disabled: EPD0 (bit 14: 0x4000) | V | IPS 48 | AA64 | R | A =
 * 0x0000620580004000, + T1SZ (21:16) + TG1 (23:22) + ASID; T0SZ and TG0 are 0,
 * which would be ILLEGAL were TTB0 enabled (facts §3.3 EPDx: not checked):
 *   SID 0x54 TG1 4K (0b10 << 22 = 0x800000), T1SZ 25 (0x190000):
 *            0x0000620580004000 + 0x990000 = 0x0014620580994000, TTB1 0x150000
 *   SID 0x55 TG1 16K (0x400000), T1SZ 28 (0x1c0000): 0x00156205805c4000, TTB1 0x160000
 *   SID 0x56 TG1 64K (0xc00000), T1SZ 22 (0x160000): 0x0016620580d64000, TTB1 0x170000
 */
static void ttb1_tables(void)
{
	put(0x150008, 0x140000441ull);
	put(0x160010, 0x164003);
	put(0x160020, 0x4000441);
	put(0x164018, 0x5080443);
	put(0x170028, 0x40000441);
	put(0x170030, 0x180003);
	put(0x180050, 0x50a0443);
}

static void test_stage1_granules(void)
{
	fresh_memory();
	s1_tables();
	ttb1_tables();
	/* CDs at 0x60000 + 0x40 * n. */
	ste_s1(0x50, 0x60000, 0x00106205c0000019ull, 0x100000, 0);
	ste_s1(0x51, 0x60040, 0x00116205c0000091ull, 0x110000, 0);
	ste_s1(0x52, 0x60080, 0x00126205c0000056ull, 0x120000, 0);
	ste_s1(0x53, 0x600c0, 0x00136205c0000050ull, 0x140000, 0);
	ste_s1(0x54, 0x60100, 0x0014620580994000ull, 0, 0x150000);
	ste_s1(0x55, 0x60140, 0x00156205805c4000ull, 0, 0x160000);
	ste_s1(0x56, 0x60180, 0x0016620580d64000ull, 0, 0x170000);
	start(LINEAR, CFG_LINEAR);

	/* 4K: page, 2 MiB block, 1 GiB block. */
	OK(0x50, -1, RD, 0x5abc, 0x7000abc);
	OK(0x50, -1, WR, 0x201234, 0x601234);
	OK(0x50, -1, RD, 0x40005678, 0x100005678ull);
	/* VA bit 39 set with T0SZ 25 (and bit 55 clear): outside TTB0's range:
	 * F_TRANSLATION (0x10), stage 1, CLASS IN: dw0 = 0x10 | 0x50 << 32;
	 * dw1 = RnW | IN = 0x0000020800000000; dw2 = the VA (IPA UNKNOWN: stage 1). */
	XS1(0x50, -1, RD, 0x8000000000ull, 0x0000005000000010ull, 0x0000020800000000ull);
	/* 16K: page, 32 MiB block; a level-1 block is invalid: F_TRANSLATION. */
	OK(0x51, -1, RD, 0x300a01dabcull, 0x5005abc);
	OK(0x51, -1, WR, 0x300c123456ull, 0x6123456);
	XS1(0x51, -1, RD, 0x4000001234ull, 0x0000005100000010ull, 0x0000020800000000ull);
	/* 64K: page, 512 MiB block. */
	OK(0x52, -1, RD, 0x4009beef, 0x503beef);
	OK(0x52, -1, WR, 0x61234567, 0x21234567);
	/* 64K level-1 block with OAS 48: F_TRANSLATION. */
	XS1(0x53, -1, RD, 0x40000001234ull, 0x0000005300000010ull, 0x0000020800000000ull);

	/* TTB1 (VA[55] = 1), each granule (the model faults the upper range: the
	 * walk is given the address with its top bits set). */
	OK(0x54, -1, RD, 0xffffff8040001234ull, 0x140001234ull);
	OK(0x55, -1, RD, 0xfffffff00400c123ull, 0x5080123);
	OK(0x55, -1, RD, 0xfffffff008012345ull, 0x4012345);
	OK(0x56, -1, RD, 0xfffffc00a0076543ull, 0x40076543);
	OK(0x56, -1, WR, 0xfffffc00c00a4321ull, 0x50a4321);
	/* TTB0 of SID 0x54 is disabled (EPD0): F_TRANSLATION, CLASS IN. */
	XS1(0x54, -1, RD, 0x5abc, 0x0000005400000010ull, 0x0000020800000000ull);
	stop();
}

/*
 * Both ranges (4K, T0SZ 25 over 0x100000, T1SZ 25 over 0x150000), with TBI and
 * EPD (facts §3.3). dw0 = T0SZ 0x19 | T1SZ 0x19 << 16 (0x190000) | TG1 4K
 * (0x800000) | V (0x80000000) | IPS 0b101 (0x500000000) | AA64 (0x20000000000) |
 * R | A (0x600000000000) = 0x0000620580990019, plus:
 *   SID 0x57: TBI0 (38: 0x4000000000) | TBI1 (39: 0x8000000000), ASID 0x17:
 *             0x001762c580990019
 *   SID 0x58: no TBI, ASID 0x18: 0x0018620580990019
 *   SID 0x59: EPD0 (0x4000), ASID 0x19: 0x0019620580994019
 *   SID 0x5a: EPD1 (bit 30: 0x40000000), ASID 0x1a: 0x001a6205c0990019
 * TxSZ limits (v3.1+: [16, 39] for an enabled range, else C_BAD_CD, facts §3.4
 * item 10), one-range CDs (EPD1 set, base 0x00006205c0000000):
 *   SID 0x5b: T0SZ 15: 0x001b6205c000000f
 *   SID 0x5c: T0SZ 40 (0x28): 0x001c6205c0000028
 *   SID 0x5d: T0SZ 39 (0x27; IA 25, start level 2, L2 VA[24:21]): 0x001d6205c0000027,
 *             TTB0 0x190000: [1] 0x190008 = 0x800441 (2 MiB block)
 *             VA 0x200abc (L2 1) -> 0x800abc; VA 0x2000000 (bit 25): out of range
 *   SID 0x5e: T0SZ 16 (IA 48, start level 0): 0x001e6205c0000010, TTB0 0x1a0000:
 *             [0x1ff] 0x1a0ff8 = 0x1a1003; 0x1a1000 [0x1ff] 0x1a1ff8 = 0x1c0000441
 *             VA 0xfffffffff123: L0 VA[47:39] 0x1ff, L1 VA[38:30] 0x1ff, offset
 *             VA[29:0] 0x3ffff123 -> 0x1c0000000 + 0x3ffff123 = 0x1fffff123
 *   SID 0x63: TG0 0b11 (reserved: 0xc0): 0x19 + 0xc0 = 0xd9: 0x00236205c00000d9
 * Both ranges checked at decode, whichever the address selects (facts §3.4
 * items 10, 11: "for each enabled TTBx"):
 *   SID 0x5f: T1SZ 40 (0x280000) with TTB1 enabled: 0x19 + 0x280000 + 0x800000 +
 *             0x80000000 = 0x80a80019: 0x001f620580a80019
 *   SID 0x60: TG1 0b00 (reserved) with TTB1 enabled: 0x80190019: 0x0020620580190019
 *   SID 0x61: TG1 0b00 with EPD1: valid: 0xc0190019: 0x00216205c0190019
 * T1SZ limits, TTB0 disabled (EPD0 base 0x0000620580004000, TG1 4K 0x800000):
 *   SID 0x62: T1SZ 15 (0xf0000): 0x00226205808f4000
 *   SID 0x64: T1SZ 39 (0x270000): 0x0024620580a74000, TTB1 0x1a8000 (IA 25, start
 *             level 2, L2 VA[24:21]): [1] 0x1a8008 = 0x800441 (2 MiB block)
 *             VA 0xfffffffffe200abc = VA[63:25] all ones + 1 << 21 + 0xabc -> 0x800abc
 */
static void test_ttb_select(void)
{
	fresh_memory();
	s1_tables();
	ttb1_tables();
	ste_s1(0x57, 0x60000, 0x001762c580990019ull, 0x100000, 0x150000);
	ste_s1(0x58, 0x60040, 0x0018620580990019ull, 0x100000, 0x150000);
	ste_s1(0x59, 0x60080, 0x0019620580994019ull, 0x100000, 0x150000);
	ste_s1(0x5a, 0x600c0, 0x001a6205c0990019ull, 0x100000, 0x150000);
	ste_s1(0x5b, 0x60100, 0x001b6205c000000full, 0x100000, 0);
	ste_s1(0x5c, 0x60140, 0x001c6205c0000028ull, 0x100000, 0);
	ste_s1(0x5d, 0x60180, 0x001d6205c0000027ull, 0x190000, 0);
	put(0x190008, 0x800441);
	ste_s1(0x5e, 0x601c0, 0x001e6205c0000010ull, 0x1a0000, 0);
	put(0x1a0ff8, 0x1a1003);
	put(0x1a1ff8, 0x1c0000441ull);
	ste_s1(0x5f, 0x60200, 0x001f620580a80019ull, 0x100000, 0x150000);
	ste_s1(0x60, 0x60240, 0x0020620580190019ull, 0x100000, 0x150000);
	ste_s1(0x61, 0x60280, 0x00216205c0190019ull, 0x100000, 0);
	ste_s1(0x63, 0x602c0, 0x00236205c00000d9ull, 0x100000, 0);
	ste_s1(0x62, 0x60300, 0x00226205808f4000ull, 0, 0x150000);
	ste_s1(0x64, 0x60340, 0x0024620580a74000ull, 0, 0x1a8000);
	put(0x1a8008, 0x800441);
	start(LINEAR, CFG_LINEAR);

	/* TBI0: top byte 0x34 ignored, VA[55] = 0: TTB0, L3 5 -> 0x7000abc.
	 * (the walk is given the address with its top byte) */
	OK(0x57, -1, RD, 0x3400000000005abcull, 0x7000abc);
	/* TBI1: top byte 0x12 ignored, VA[55:39] all ones: TTB1 -> 0x140001234.
	 * */
	OK(0x57, -1, RD, 0x12ffff8040001234ull, 0x140001234ull);
	/* VA[55] selects TTB1 although VA[63] is 0 (facts §8 item 16). */
	OK(0x57, -1, RD, 0x00ffff8040001234ull, 0x140001234ull);
	/* Without TBI the top byte must equal VA[55]'s side: F_TRANSLATION, CLASS IN,
	 * InputAddr the unmodified 64-bit input. dw0 = 0x10 | 0x58 << 32. */
	XS1(0x58, -1, RD, 0x3400000000005abcull, 0x0000005800000010ull, 0x0000020800000000ull);
	XS1(0x58, -1, RD, 0x12ffff8040001234ull, 0x0000005800000010ull, 0x0000020800000000ull);
	XS1(0x58, -1, WR, 0x00ffff8040001234ull, 0x0000005800000010ull, 0x0000020000000000ull);
	/* Between the ranges: VA[55] = 0 but bit 47 set. */
	XS1(0x58, -1, RD, 0x0000800000000000ull, 0x0000005800000010ull, 0x0000020800000000ull);
	OK(0x58, -1, RD, 0x5abc, 0x7000abc);
	OK(0x58, -1, RD, 0xffffff8040001234ull, 0x140001234ull);
	/* EPD0: a TTB0 address faults, TTB1 still walks. */
	XS1(0x59, -1, RD, 0x5abc, 0x0000005900000010ull, 0x0000020800000000ull);
	OK(0x59, -1, RD, 0xffffff8040001234ull, 0x140001234ull);
	/* EPD1: the reverse. */
	XS1(0x5a, -1, RD, 0xffffff8040001234ull, 0x0000005a00000010ull, 0x0000020800000000ull);
	OK(0x5a, -1, RD, 0x5abc, 0x7000abc);
	/* T0SZ 15 and 40: C_BAD_CD (0x0a), dw0 = 0x0a | SID << 32. */
	FEV(0x5b, -1, RD, 0x5abc, 0x0000005b0000000aull, 0, 0, 0);
	FEV(0x5c, -1, RD, 0x5abc, 0x0000005c0000000aull, 0, 0, 0);
	/* T0SZ 39: the smallest range. */
	OK(0x5d, -1, RD, 0x200abc, 0x800abc);
	XS1(0x5d, -1, RD, 0x2000000, 0x0000005d00000010ull, 0x0000020800000000ull);
	/* T0SZ 16: the largest, top of the range. */
	OK(0x5e, -1, RD, 0xfffffffff123ull, 0x1fffff123ull);
	/* TG0 0b11: C_BAD_CD. */
	FEV(0x63, -1, RD, 0x5abc, 0x000000630000000aull, 0, 0, 0);
	/* The other range is checked too. */
	FEV(0x5f, -1, RD, 0x5abc, 0x0000005f0000000aull, 0, 0, 0);
	FEV(0x60, -1, RD, 0x5abc, 0x000000600000000aull, 0, 0, 0);
	OK(0x61, -1, RD, 0x5abc, 0x7000abc);
	/* T1SZ 15: C_BAD_CD; T1SZ 39: the smallest upper range. */
	FEV(0x62, -1, RD, 0xffffff8040001234ull, 0x000000620000000aull, 0, 0, 0);
	OK(0x64, -1, RD, 0xfffffffffe200abcull, 0x800abc);
	/* VA bit 24 clear in the upper range (VA[63:25] not all ones): F_TRANSLATION. */
	XS1(0x64, -1, RD, 0xfffffffffc200abcull, 0x0000006400000010ull, 0x0000020800000000ull);
	stop();
}

/*
 * Stage 2 (Config 0b110, dw0 0xd) with each granule (facts §2.2 dw2; stage-2 leaf:
 * OA | AF 0x400 | S2AP 0b11 0xc0 | 0b01 block (0x4c1) or 0b11 page (0x4c3)):
 *
 * SID 0x70: 4K, S2T0SZ 24 (IA 40), S2SL0 1 (start level 1). Level 1 resolves
 *   IPA[39:30]: 10 bits, 2 concatenated tables (lpae §2: 2^(40 - (2*9 + 12 + 9))),
 *   8 KiB aligned. dw2 = VMID 0x70 | T0SZ 24 (0x1800000000) | SL0 1 (0x4000000000)
 *   | PS 48 (0x5000000000000) | AA64 (0x8000000000000) | S2R (0x400000000000000)
 *   = 0x040d005800000070; dw3 = 0x200000
 *   IPA 0x8040001234: IPA[39:30] = 0x201 (bit 39 and bit 30): entry
 *     0x200000 + 0x201 * 8 = 0x201008 = 0x2400004c1 (1 GiB block) -> 0x240001234
 *   IPA 0x1234: entry 0x200000 = 0x202003; 0x202000 [0] = 0x62004c1 (2 MiB)
 *     -> 0x6201234
 *   IPA 0x202345: L2 1 (0x202345 >> 21): 0x202008 = 0x203003; 0x203000 [2]
 *     0x203010 = 0x63004c3 (page) -> 0x6300345
 *   IPA 0x10000000000 (bit 40): beyond IA 40 (within IAS 48): stage-2
 *     F_TRANSLATION, CLASS IN, IPA = 0x10000000000
 * SID 0x74: as 0x70 (VMID 0x74: 0x040d005800000074) with S2TTB 0x201000: bits
 *   below the 8 KiB alignment are taken as 0 (facts §2.2 dw3): the same tables.
 * SID 0x71: 16K, S2T0SZ 26 (IA 38), S2SL0 1 (start level 2). Level 2 resolves
 *   IPA[37:25]: 13 bits, 4 concatenated tables (2^(38 - (11 + 14 + 11))), 64 KiB.
 *   dw2 = VMID 0x71 | T0SZ 26 (0x1a00000000) | SL0 1 (0x4000000000) | TG 0b10
 *   (47:46: 0x800000000000) | PS | AA64 | S2R = 0x040d805a00000071; dw3 = 0x210000
 *   IPA 0x3006005678 = 0x1803 << 25 + 0x5678: entry 0x210000 + 0x1803 * 8
 *     (0xc018) = 0x21c018 = 0x2000004c1 (32 MiB block) -> 0x200005678
 *   IPA 0x4010: entry 0x210000 = 0x220003; 0x220000 [1] (IPA[24:14]) 0x220008 =
 *     0x64044c3 (page 0x6404000) -> 0x6404010
 * SID 0x72: 64K, S2T0SZ 21 (IA 43), S2SL0 1 (start level 2). Level 2 resolves
 *   IPA[42:29]: 14 bits, 2 concatenated tables (2^(43 - (13 + 16 + 13))), 128 KiB.
 *   dw2 = VMID 0x72 | T0SZ 21 (0x1500000000) | SL0 1 | TG 0b01 (0x400000000000) |
 *   PS | AA64 | S2R = 0x040d405500000072; dw3 = 0x240000
 *   IPA 0x40020000abc = 0x2001 << 29 + 0xabc: entry 0x240000 + 0x2001 * 8
 *     (0x10008) = 0x250008 = 0x600004c1 (512 MiB block) -> 0x60000abc
 *   IPA 0x31234: entry 0x240000 = 0x260003; 0x260000 [3] (IPA[28:16]) 0x260018 =
 *     0x65004c3 -> 0x6501234
 * SID 0x73: 64K, S2T0SZ 16 (IA 48), S2SL0 2 (start level 1, IPA[47:42]).
 *   dw2 = VMID 0x73 | T0SZ 16 (0x1000000000) | SL0 2 (0x8000000000) | TG 64K |
 *   PS | AA64 | S2R = 0x040d409000000073; dw3 = 0x280000
 *   0x280000 [0] = 0x290003; 0x290000 [0] = 0x200004c1 (512 MiB block)
 *     IPA 0x1234 -> 0x20001234
 *   0x280000 [1] 0x280008 = 0x400000004c1 (4 TiB level-1 block): invalid with
 *     OAS 48 (lpae §3): IPA 0x40000001234 -> stage-2 F_TRANSLATION.
 */
static void test_stage2_granules(void)
{
	fresh_memory();
	put(STE(0x70), 0xd);
	put(STE(0x70) + 16, 0x040d005800000070ull);
	put(STE(0x70) + 24, 0x200000);
	put(STE(0x74), 0xd);
	put(STE(0x74) + 16, 0x040d005800000074ull);
	put(STE(0x74) + 24, 0x201000);
	put(0x201008, 0x2400004c1ull);
	put(0x200000, 0x202003);
	put(0x202000, 0x62004c1);
	put(0x202008, 0x203003);
	put(0x203010, 0x63004c3);

	put(STE(0x71), 0xd);
	put(STE(0x71) + 16, 0x040d805a00000071ull);
	put(STE(0x71) + 24, 0x210000);
	put(0x21c018, 0x2000004c1ull);
	put(0x210000, 0x220003);
	put(0x220008, 0x64044c3);

	put(STE(0x72), 0xd);
	put(STE(0x72) + 16, 0x040d405500000072ull);
	put(STE(0x72) + 24, 0x240000);
	put(0x250008, 0x600004c1);
	put(0x240000, 0x260003);
	put(0x260018, 0x65004c3);

	put(STE(0x73), 0xd);
	put(STE(0x73) + 16, 0x040d409000000073ull);
	put(STE(0x73) + 24, 0x280000);
	put(0x280000, 0x290003);
	put(0x290000, 0x200004c1);
	put(0x280008, 0x400000004c1ull);
	start(LINEAR, CFG_LINEAR);

	OK(0x70, -1, RD, 0x8040001234ull, 0x240001234ull);
	OK(0x70, -1, WR, 0x1234, 0x6201234);
	OK(0x70, -1, RD, 0x202345, 0x6300345);
	/* Stage-2 F_TRANSLATION (0x10): dw0 = 0x10 | 0x70 << 32; dw1 = RnW | S2 | IN
	 * = 0x0000028800000000; dw2 = the input; dw3 = IPA[55:12] = 0x10000000000. */
	XS2(0x70, -1, RD, 0x10000000000ull, 0x0000007000000010ull, 0x0000028800000000ull,
	    0x10000000000ull);
	OK(0x74, -1, RD, 0x8040001234ull, 0x240001234ull);
	OK(0x71, -1, RD, 0x3006005678ull, 0x200005678ull);
	OK(0x71, -1, WR, 0x4010, 0x6404010);
	OK(0x72, -1, RD, 0x40020000abcull, 0x60000abc);
	OK(0x72, -1, WR, 0x31234, 0x6501234);
	OK(0x73, -1, RD, 0x1234, 0x20001234);
	/*: dw3 = IPA[55:12] = 0x40000001000. */
	XS2(0x73, -1, RD, 0x40000001234ull, 0x0000007300000010ull, 0x0000028800000000ull,
	    0x40000001000ull);
	stop();
}

/* ---- 5. nested ------------------------------------------------------------------------------ */

/*
 * Stage 2 (4K, S2T0SZ 25, S2SL0 1: levels 1-3), root 0x300000:
 *   0x300000 [0] = 0x301003
 *   0x301000, index IPA[29:21]:
 *     [0x10] 0x301080 = 0x40004c1: IPA 0x2000000-0x21fffff -> PA 0x4000000 (RW)
 *     [0x11] 0x301088 = 0:         IPA 0x2200000 unmapped
 *     [0x12] 0x301090 = 0x4400441: IPA 0x2400000 -> 0x4400000, S2AP 0b01 (0x40):
 *                                  read only
 *     [0x13] 0x301098 = 0:         IPA 0x2600000 unmapped
 *     [0x14] 0x3010a0 = 0x9700003: IPA 0x2800000: a level-3 table in no memory
 *     [0x20] 0x301100 = 0x50004c1: IPA 0x4000000 -> 0x5000000 (RW)
 *     [0x21] 0x301108 = 0x52000c1: IPA 0x4200000 -> 0x5200000, AF = 0
 * Stage 1 (4K, T0SZ 25), all in IPA space (PA = IPA + 0x2000000 in [0x10]):
 *   CD A at IPA 0x2000000 (PA 0x4000000): ASID 0x30, R = 1: 0x00306205c0000019,
 *     TTB0 IPA 0x2010000
 *   CD B at IPA 0x2000040 (PA 0x4000040): ASID 0x31, R = 0 (bit 45 clear:
 *     0x00306205c0000019 - 0x200000000000 = 0x00304205c0000019) | 0x31 << 48
 *     = 0x00314205c0000019, TTB0 IPA 0x2010000
 *   L1 IPA 0x2010000 (PA 0x4010000): [0] = 0x2011003; [1] +8 = 0x2600003 (a table
 *     at an IPA stage 2 does not map); [2] +0x10 = 0x2800003
 *   L2 IPA 0x2011000 (PA 0x4011000): [0] = 0x2012003
 *   L3 IPA 0x2012000 (PA 0x4012000): [1] +8 = 0x4001443 (IPA 0x4001000)
 *                                    [2] +0x10 = 0x2400443 (IPA 0x2400000)
 *                                    [3] +0x18 = 0x4200443 (IPA 0x4200000)
 *                                    [4] +0x20 = 0
 * STEs (Config 0b111: V | 0b111 << 1 = 0xf, | S1ContextPtr; dw2 = 4K, T0SZ 25,
 * SL0 1, PS 48, AA64 (0x000d005900000000) | S2R (0x0400000000000000) | VMID;
 * dw3 = 0x300000):
 *   0x80: CD A (0x200000f), S2R:        0x040d005900000080
 *   0x81: CD at IPA 0x2200000 (0x220000f), S2R: 0x040d005900000081
 *   0x82: CD A, S2R = 0:                0x000d005900000082
 *   0x83: CD B (0x200004f), S2R:        0x040d005900000083
 *   0x84: CD at IPA 0x2200000, S2R = 0: 0x000d005900000084
 *   0x85: CD at IPA 0x2801000 (0x280100f), S2R: 0x040d005900000085
 *   0x86: CD at IPA 0x2801000, S2R = 0: 0x000d005900000086
 *   0x87: CD C (0x200008f), S2R:        0x040d005900000087
 * CD C at IPA 0x2000080 (PA 0x4000080): CD A with HA (bit 43: 0x80000000000),
 *   ASID 0x32: 0x00326a05c0000019, TTB0 IPA 0x2010000
 * L1 [3] (PA 0x4010018) = 0x2401003: a level-2 table at IPA 0x2401000, which
 *   stage 2 maps read-only ([0x12]: PA 0x4401000); its [0] = 0x4000041: a 2 MiB
 *   block to IPA 0x4000000, AP 0b01, AF = 0.
 */
static void test_nested(void)
{
	static const struct { uint16_t sid; uint64_t dw0, dw2; } stes[] = {
		{ 0x80, 0x200000f, 0x040d005900000080ull },
		{ 0x81, 0x220000f, 0x040d005900000081ull },
		{ 0x82, 0x200000f, 0x000d005900000082ull },
		{ 0x83, 0x200004f, 0x040d005900000083ull },
		{ 0x84, 0x220000f, 0x000d005900000084ull },
		{ 0x85, 0x280100f, 0x040d005900000085ull },
		{ 0x86, 0x280100f, 0x000d005900000086ull },
		{ 0x87, 0x200008f, 0x040d005900000087ull },
	};

	fresh_memory();
	put(0x300000, 0x301003);
	put(0x301080, 0x40004c1);
	put(0x301090, 0x4400441);
	put(0x3010a0, 0x9700003);
	put(0x301100, 0x50004c1);
	put(0x301108, 0x52000c1);
	put(0x4000000, 0x00306205c0000019ull);
	put(0x4000008, 0x2010000);
	put(0x4000040, 0x00314205c0000019ull);
	put(0x4000048, 0x2010000);
	put(0x4000080, 0x00326a05c0000019ull);
	put(0x4000088, 0x2010000);
	put(0x4010018, 0x2401003);
	put(0x4401000, 0x4000041);
	put(0x4010000, 0x2011003);
	put(0x4010008, 0x2600003);
	put(0x4010010, 0x2800003);
	put(0x4011000, 0x2012003);
	put(0x4012008, 0x4001443);
	put(0x4012010, 0x2400443);
	put(0x4012018, 0x4200443);
	for (unsigned i = 0; i < sizeof(stes) / sizeof(stes[0]); i++) {
		put(STE(stes[i].sid), stes[i].dw0);
		put(STE(stes[i].sid) + 16, stes[i].dw2);
		put(STE(stes[i].sid) + 24, 0x300000);
	}
	start(LINEAR, CFG_LINEAR);

	/* VA 0x1abc: L3 1 -> IPA 0x4001abc -> [0x20] -> PA 0x5001abc. */
	OK(0x80, -1, RD, 0x1abc, 0x5001abc);
	/* VA 0x2000 -> IPA 0x2400000: readable; a write is a stage-2 permission fault
	 * on the output: F_PERMISSION (0x13), dw0 = 0x13 | 0x80 << 32; dw1 = S2 | IN
	 * (a write: RnW 0) = 0x0000028000000000; dw2 = VA; dw3 = IPA[55:12] = 0x2400000. */
	OK(0x80, -1, RD, 0x2000, 0x4400000);
	XS2(0x80, -1, WR, 0x2000, 0x0000008000000013ull, 0x0000028000000000ull, 0x2400000);
	/* VA 0x3010 -> IPA 0x4200010, stage-2 AF = 0 (S2HA = 0, S2AFFD = 0): F_ACCESS
	 * (0x12) at stage 2: dw1 = RnW | S2 | IN = 0x0000028800000000; dw3 = 0x4200000. */
	XS2(0x80, -1, RD, 0x3010, 0x0000008000000012ull, 0x0000028800000000ull, 0x4200000);
	/* VA 0x4000: stage-1 L3 entry invalid: stage-1 F_TRANSLATION, recorded (CD.R),
	 * dw1 = RnW | IN. */
	XS1(0x80, -1, RD, 0x4000, 0x0000008000000010ull, 0x0000020800000000ull);
	/* VA 0x40601abc: L1 1 -> the level-2 table at IPA 0x2600000, entry VA[29:21] = 3
	 * at IPA 0x2600018, which stage 2 does not map: F_TRANSLATION, S2 = 1, CLASS TT,
	 * dw1 = RnW | S2 | TT = 0x0000018800000000 (TTRnW not compared: F_TRANSLATION),
	 * dw3 = IPA[55:12] of the descriptor = 0x2600000. */
	XS2(0x80, -1, RD, 0x40601abc, 0x0000008000000010ull, 0x0000018800000000ull, 0x2600000);
	/* VA 0x80001000: L1 2 -> level-2 table at IPA 0x2800000, entry 0 at IPA 0x2800000:
	 * stage 2 reaches [0x14], a table at 0x9700000, entry IPA[20:12] = 0 at
	 * 0x9700000: F_WALK_EABT (0x0b), S2 = 1, CLASS TT (spec 7.3.12), dw1 = RnW | S2 |
	 * TT (Reason not compared), dw3 = FetchAddr 0x9700000. */
	FEVM(0x80, -1, RD, 0x80001000, 0x000000800000000bull, 0x0000018800000000ull, 0x80001000,
	     0x9700000, 0, REASON);
	/* The CD at IPA 0x2200000 is not mapped: F_TRANSLATION, S2 = 1, CLASS CD,
	 * dw1 = RnW | S2 = 0x0000008800000000, dw3 = IPA of the CD = 0x2200000. */
	XS2(0x81, -1, RD, 0x1abc, 0x0000008100000010ull, 0x0000008800000000ull, 0x2200000);
	/* S2R = 0: stage-2 faults are not recorded (the CD fetch fault neither), a
	 * stage-1 fault still is (CD.R = 1). */
	SILENT(0x82, -1, WR, 0x2000);
	SILENT(0x84, -1, RD, 0x1abc);
	XS1(0x82, -1, RD, 0x4000, 0x0000008200000010ull, 0x0000020800000000ull);
	OK(0x82, -1, RD, 0x1abc, 0x5001abc);
	/* CD.R = 0: the stage-1 fault is silent, a stage-2 fault recorded (S2R). */
	SILENT(0x83, -1, RD, 0x4000);
	XS2(0x83, -1, WR, 0x2000, 0x0000008300000013ull, 0x0000028000000000ull, 0x2400000);
	OK(0x83, -1, RD, 0x1abc, 0x5001abc);
	/* An external abort on the stage-2 walk for the CD (IPA 0x2801000: [0x14],
	 * level-3 entry IPA[20:12] = 1 at 0x9700008): F_WALK_EABT, S2 = 1, CLASS CD,
	 * FetchAddr 0x9700008 (spec 7.3.12), recorded whatever S2R says (facts §5.3:
	 * external aborts always abort and are always recorded). */
	FEVM(0x85, -1, RD, 0x1abc, 0x000000850000000bull, 0x0000008800000000ull, 0x1abc, 0x9700008,
	     0, REASON);
	FEVM(0x86, -1, RD, 0x1abc, 0x000000860000000bull, 0x0000008800000000ull, 0x1abc, 0x9700008,
	     0, REASON);
	/* VA 0xc0001234: L1 3 -> the block at IPA 0x2401000 + 0, AF = 0. With HA = 0
	 * (SID 0x80): stage-1 F_ACCESS, dw0 = 0x12 | 0x80 << 32, dw1 = RnW | IN. */
	XS1(0x80, -1, RD, 0xc0001234, 0x0000008000000012ull, 0x0000020800000000ull);
	/* With HA = 1 (SID 0x87) the SMMU must write AF into the descriptor, a write
	 * stage 2 does not allow: F_PERMISSION, S2 = 1, CLASS TT, TTRnW = 0 (a
	 * descriptor write, lpae §6, spec 7.3.16): dw0 = 0x13 | 0x87 << 32; dw1 = RnW
	 * | S2 | TT = 0x0000018800000000; dw3 = IPA[55:12] of the descriptor 0x2401000.
	 * The descriptor is unchanged. */
	FEV(0x87, -1, RD, 0xc0001234, 0x0000008700000013ull, 0x0000018800000000ull, 0xc0001234,
	    0x2401000);
	CHECK_EQ(get(0x4401000), 0x4000041);
	stop();
}

/* ---- 6. the other events -------------------------------------------------------------------- */

/*
 * F_ADDR_SIZE (0x11):
 *   SID 0x90: CD IPS 0b000 (32 bits): dw0 = 0x00006205c0000019 - 0x500000000 =
 *     0x00006200c0000019 | ASID 0x40 = 0x00406200c0000019, TTB0 0x1b0000:
 *     [0] = 0x1b1003; 0x1b1000 [0] = 0xa00441 (2 MiB block): VA 0x1234 -> 0xa01234
 *     [1] 0x1b0008 = 0x100000441: a block at 4 GiB, beyond 32 bits
 *     [2] 0x1b0010 = 0x100000003: a table at 4 GiB, beyond 32 bits
 *   SID 0x91: CD IPS 32 with TTB0 0x100000000 beyond it: ILLEGAL, C_BAD_CD (facts
 *     §3.4 item 11, "not CD errors" note): 0x00416200c0000019
 *   SID 0x92: stage 2, S2PS 0b000 (32 bits), S2T0SZ 32 (IA 32), S2SL0 1: dw2 =
 *     0x0408006000000092 (S2R | AA64 | SL0 1 0x4000000000 | T0SZ 32 0x2000000000 |
 *     VMID); S2TTB 0x1c0000: [0] = 0x4c1 (IPA 0-1 GiB -> 0); [1] 0x1c0008 =
 *     0x1000004c1 (beyond 32 bits)
 *   SID 0x93: bypass; an input above the OAS (48 bits): stage-1 F_ADDR_SIZE
 *     (facts §2.3 Config 100, §5.3)
 *   SID 0x94: stage 2 only (as 0x92 with S2PS 48, S2T0SZ 25: 0x040d005900000094);
 *     an input above the IAS (48): stage-1 F_ADDR_SIZE (stage 1 bypassed, facts §5.3)
 * F_ACCESS (0x12), stage 1, TTB0 0x1d0000: [0] = 0x40000041 (1 GiB block, AF = 0)
 *   SID 0x95: HA = 0, AFFD = 0: 0x00456205c0000019 (ASID 0x45)
 *   SID 0x96: AFFD (bit 35: 0x800000000): 0x0046620dc0000019
 *   SID 0x97: HA (bit 43: 0x80000000000): 0x00476a05c0000019
 * F_PERMISSION (0x13), stage 1: SID 0x98: S1CDMax 1 (1 << 59), two linear CDs at
 *   0x46000, S1DSS 0b10: dw0 = 0x1 + 0xa + 0x46000 + 0x0800000000000000 =
 *   0x080000000004600b, dw1 = 0x2. CD 0 ASID 0x48, CD 1 ASID 0x49, TTB0 0x1e0000:
 *   [0] = 0x400004c1: AP 0b11 (0xc0): read only, EL0 and EL1
 *   [1] 0x1e0008 = 0x80000401: AP 0b00: EL1 only
 *   [2] 0x1e0010 = 0x00200000c00004c1: AP 0b11, PXN (bit 53: 0x20000000000000)
 * F_WALK_EABT (0x0b):
 *   SID 0x99: TTB0 0x1f0000: [0] = 0x9400003 (a level-2 table in no memory)
 *   SID 0x9a: TTB0 0x9500000 (the level-1 table in no memory; within IPS)
 *   SID 0x9c: as 0x9a with CD.R = 0 (0x004c4205c0000019)
 *   SID 0x9b: stage 2 only, S2TTB 0x9600000 (dw2 0x040d00590000009b)
 * Stage-2 AF (lpae §7): S2TTB 0x1c8000 (4K, T0SZ 25, SL0 1): [0] = 0xc1 (1 GiB
 *   block at 0, S2AP 0b11, AF = 0):
 *   SID 0x9d: S2AFFD (bit 53: 0x20000000000000): 0x042d00590000009d: AF taken as 1
 *   SID 0x9e: no S2AFFD, S2HA = 0: 0x040d00590000009e: stage-2 F_ACCESS
 */
static void test_events(void)
{
	fresh_memory();
	ste_s1(0x90, 0x60000, 0x00406200c0000019ull, 0x1b0000, 0);
	put(0x1b0000, 0x1b1003);
	put(0x1b1000, 0xa00441);
	put(0x1b0008, 0x100000441ull);
	put(0x1b0010, 0x100000003ull);
	ste_s1(0x91, 0x60040, 0x00416200c0000019ull, 0x100000000ull, 0);
	put(STE(0x92), 0xd);
	put(STE(0x92) + 16, 0x0408006000000092ull);
	put(STE(0x92) + 24, 0x1c0000);
	put(0x1c0000, 0x4c1);
	put(0x1c0008, 0x1000004c1ull);
	put(STE(0x93), STE_BYPASS);
	put(STE(0x94), 0xd);
	put(STE(0x94) + 16, 0x040d005900000094ull);
	put(STE(0x94) + 24, 0x1c0000);

	ste_s1(0x95, 0x60080, 0x00456205c0000019ull, 0x1d0000, 0);
	ste_s1(0x96, 0x600c0, 0x0046620dc0000019ull, 0x1d0000, 0);
	ste_s1(0x97, 0x60100, 0x00476a05c0000019ull, 0x1d0000, 0);
	put(0x1d0000, 0x40000041);

	put(STE(0x98), 0x080000000004600bull);
	put(STE(0x98) + 8, 0x2);
	put(0x46000, 0x00486205c0000019ull);
	put(0x46008, 0x1e0000);
	put(0x46040, 0x00496205c0000019ull);
	put(0x46048, 0x1e0000);
	put(0x1e0000, 0x400004c1);
	put(0x1e0008, 0x80000401);
	put(0x1e0010, 0x00200000c00004c1ull);

	ste_s1(0x99, 0x60140, 0x004a6205c0000019ull, 0x1f0000, 0);
	put(0x1f0000, 0x9400003);
	ste_s1(0x9a, 0x60180, 0x004b6205c0000019ull, 0x9500000, 0);
	ste_s1(0x9c, 0x601c0, 0x004c4205c0000019ull, 0x9500000, 0);
	put(STE(0x9b), 0xd);
	put(STE(0x9b) + 16, 0x040d00590000009bull);
	put(STE(0x9b) + 24, 0x9600000);
	put(STE(0x9d), 0xd);
	put(STE(0x9d) + 16, 0x042d00590000009dull);
	put(STE(0x9d) + 24, 0x1c8000);
	put(STE(0x9e), 0xd);
	put(STE(0x9e) + 16, 0x040d00590000009eull);
	put(STE(0x9e) + 24, 0x1c8000);
	put(0x1c8000, 0xc1);
	start(LINEAR, CFG_LINEAR);

	/* Stage 1: in range, then a block and a table address beyond IPS: F_ADDR_SIZE,
	 * S2 = 0, CLASS IN: dw0 = 0x11 | 0x90 << 32; dw1 = RnW | IN. */
	OK(0x90, -1, RD, 0x1234, 0xa01234);
	XS1(0x90, -1, RD, 0x40000010, 0x0000009000000011ull, 0x0000020800000000ull);
	XS1(0x90, -1, WR, 0x80000000, 0x0000009000000011ull, 0x0000020000000000ull);
	/* TTB0 beyond IPS: C_BAD_CD, never F_ADDR_SIZE. */
	FEV(0x91, -1, RD, 0x1234, 0x000000910000000aull, 0, 0, 0);
	/* Stage 2: the output beyond S2PS: dw1 = RnW | S2 | IN, dw3 = IPA 0x40000000. */
	OK(0x92, -1, RD, 0x1234, 0x1234);
	XS2(0x92, -1, RD, 0x40000020, 0x0000009200000011ull, 0x0000028800000000ull, 0x40000000);
	/* Bypass, input 2^48 > OAS: stage-1 F_ADDR_SIZE, CLASS IN, always recorded. */
	OK(0x93, -1, RD, 0xffffffffffffull, 0xffffffffffffull);
	XS1(0x93, -1, RD, 0x1000000000000ull, 0x0000009300000011ull, 0x0000020800000000ull);
	/* Stage 1 bypassed (Config 0b110), input 2^48 > IAS: stage-1 F_ADDR_SIZE
	 * (S2 = 0, CLASS IN), not a stage-2 translation fault. */
	XS1(0x94, -1, RD, 0x1000000000000ull, 0x0000009400000011ull, 0x0000020800000000ull);

	/* AF = 0 with HA = 0: F_ACCESS, dw0 = 0x12 | 0x95 << 32. */
	XS1(0x95, -1, RD, 0x1234, 0x0000009500000012ull, 0x0000020800000000ull);
	/* AFFD: AF treated as 1; the descriptor is not changed. */
	OK(0x96, -1, RD, 0x1234, 0x40001234);
	CHECK_EQ(get(0x1d0000), 0x40000041);
	/* HA: the SMMU sets AF (bit 10: 0x40000041 | 0x400 = 0x40000441) ... */
	OK(0x97, -1, RD, 0x1234, 0x40001234);
	CHECK_EQ(get(0x1d0000), 0x40000441);
	/* ... after which SID 0x95 (whose fault filled no TLB entry) translates. */
	OK(0x95, -1, RD, 0x1234, 0x40001234);

	/* Stage-2 AF = 0: S2AFFD passes (), else F_ACCESS at stage 2,
	 * dw1 = RnW | S2 | IN, dw3 = IPA[55:12] = 0x5000. */
	OK(0x9d, -1, RD, 0x5678, 0x5678);
	XS2(0x9e, -1, RD, 0x5678, 0x0000009e00000012ull, 0x0000028800000000ull, 0x5000);
	CHECK_EQ(get(0x1c8000), 0xc1);

	/* AP 0b11: reads pass, a write is F_PERMISSION, dw1 = IN (RnW 0). */
	OK(0x98, -1, RD, 0x1234, 0x40001234);
	XS1(0x98, -1, WR, 0x1234, 0x0000009800000013ull, 0x0000020000000000ull);
	/* AP 0b00: unprivileged (no PASID: PnU 0) read faults; privileged (SSID 1,
	 * CD 1) passes. */
	XS1(0x98, -1, RD, 0x40001234, 0x0000009800000013ull, 0x0000020800000000ull);
	OK(0x98, 1, RD | PRIV, 0x40001234, 0x80001234);
	/* PXN: an unprivileged instruction fetch passes; a privileged one is
	 * F_PERMISSION: dw0 = 0x13 | SSV 0x800 | 1 << 12 | 0x98 << 32 =
	 * 0x0000009800001813; dw1 = PnU 0x200000000 | InD 0x400000000 | RnW
	 * 0x800000000 | IN 0x20000000000 = 0x0000020e00000000. */
	OK(0x98, 1, RD | EXEC, 0x80001234, 0xc0001234);
	XS1(0x98, 1, RD | EXEC | PRIV, 0x80001234, 0x0000009800001813ull, 0x0000020e00000000ull);

	/* F_WALK_EABT at stage 1: CLASS TT, S2 = 0 (spec 7.3.12, lpae §9: "the one
	 * stage-1 case with CLASS != IN"); in the three below (CLASS IN given).
	 * VA 0x601234: L2 index VA[29:21] = 3: FetchAddr 0x9400000 + 3 * 8 = 0x9400018. */
	FEVM(0x99, -1, RD, 0x601234, 0x000000990000000bull, 0x0000010800000000ull, 0x601234,
	     0x9400018, 0, REASON);
	/* The level-1 table itself: VA 0x40001234, index 1: FetchAddr 0x9500008.
	 * */
	FEVM(0x9a, -1, RD, 0x40001234, 0x0000009a0000000bull, 0x0000010800000000ull, 0x40001234,
	     0x9500008, 0, REASON);
	/* CD.R = 0 does not suppress it (facts §5.3). */
	FEVM(0x9c, -1, WR, 0x40001234, 0x0000009c0000000bull, 0x0000010000000000ull, 0x40001234,
	     0x9500008, 0, REASON);
	/* Stage 2 only: S2 = 1, CLASS IN, FetchAddr 0x9600000 (IPA[38:30] = 0). */
	FEVM(0x9b, -1, WR, 0x1234, 0x0000009b0000000bull, 0x0000028000000000ull, 0x1234, 0x9600000,
	     0, REASON);
	stop();
}

/*
 * ATS (IDR0.ATS = 1). STEs:
 *   0xa0: stage 1, S1CDMax 0, CD at 0x47000 (ASID 0x50, TTB0 0x1d8000, [0] =
 *         0x40000441: VA 0x1234 -> 0x40001234), EATS 0b00
 *   0xa1: as 0xa0 with EATS 0b01 (dw1 29:28: 0x10000000)
 *   0xa2: bypass (Config 0b100) with EATS 0b01: effective EATS 0b00 (facts §2.3)
 *   0xa3: V = 0
 *   0xa4: V = 1, Config 0b000
 *   0xa5: as 0xa1 with STRW 0b01 (ILLEGAL): dw1 = 0x10000000 | 0x40000000
 */
static void ats_tables(void)
{
	put(STE(0xa0), 0x4700b);
	put(STE(0xa1), 0x4700b);
	put(STE(0xa1) + 8, 0x10000000);
	put(STE(0xa2), STE_BYPASS);
	put(STE(0xa2) + 8, 0x10000000);
	put(STE(0xa4), 0x1);
	put(STE(0xa5), 0x4700b);
	put(STE(0xa5) + 8, 0x50000000);
	cd_s1(0x47000, 0x50, 0x1d8000, 0x40000000);
}

/* One ATS request: the status it gets, and with OK the address. */
static void ats_(int line, uint16_t sid, int ssid, unsigned fl, enum dev_at at, uint64_t addr,
		 enum dev_xlate_status st, uint64_t pa)
{
	struct dev_xlate x = xl(sid, ssid, fl, at, addr);

	CHECK_MSG(x.status == st && (st != DEV_XLATE_OK || x.pa == pa),
		  "line %d: status %d (want %d) reason 0x%x pa 0x%" PRIx64, line, x.status, st,
		  x.fault_reason, x.pa);
}
#define ATS(sid, ssid, fl, at, a, st, pa) ats_(__LINE__, sid, ssid, fl, at, a, st, pa)

static void test_ats(void)
{
	struct smmu_config c;
	struct dev_xlate x;

	fresh_memory();
	ats_tables();
	smmu_config_default(&c);
	start_with(&c, LINEAR, CFG_LINEAR, (uint32_t)CR2_RECINVSID,
		   (uint32_t)(CR0_SMMUEN | CR0_EVENTQEN | CR0_ATSCHK));

	/* Translated traffic, CR0.ATSCHK = 1 (facts §2.3 EATS, §5.2): EATS 0b00:
	 * F_TRANSL_FORBIDDEN (0x07): dw0 = 0x07 | 0xa0 << 32; dw1 = RnW (bit 35) for a
	 * read, 0 for a write; dw2 = the address. */
	ATS(0xa0, -1, RD, DEV_AT_TRANSLATED, 0x50001000, DEV_XLATE_FAULT, 0);
	ev_(__LINE__, 0x000000a000000007ull, 0x0000000800000000ull, 0x50001000, 0, 0, 0, 0);
	/* EATS 0b01: passes as it is. */
	ATS(0xa1, -1, WR, DEV_AT_TRANSLATED, 0x50001000, DEV_XLATE_OK, 0x50001000);
	none_(__LINE__);
	/* Config 0b100: forbidden too. */
	ATS(0xa2, -1, WR, DEV_AT_TRANSLATED, 0x50002000, DEV_XLATE_FAULT, 0);
	ev_(__LINE__, 0x000000a200000007ull, 0, 0x50002000, 0, 0, 0, 0);
	/* An invalid or ILLEGAL STE: terminated silently (facts §2.3 V; spec 7.3.22
	 * "any other error on receipt of an ATS Translated transaction ... silently
	 * terminated", REC_CFG_ATS not implemented). */
	ATS(0xa3, -1, RD, DEV_AT_TRANSLATED, 0x50001000, DEV_XLATE_FAULT, 0);
	none_(__LINE__);
	ATS(0xa5, -1, RD, DEV_AT_TRANSLATED, 0x50001000, DEV_XLATE_FAULT, 0);
	none_(__LINE__);
	/* Untranslated traffic is unaffected. */
	OK(0xa0, -1, RD, 0x1234, 0x40001234);

	/* Translation requests: EATS 0b00: UR and F_BAD_ATS_TREQ (0x05): dw0 = 0x05 |
	 * 0xa0 << 32; dw1 = R (bit 31, always 1) | W (bit 30 = !NW) | X (29) |
	 * Priv (28) | Span (3:0) 1 STU; dw2 = InputAddr[63:12]. */
	ATS(0xa0, -1, RD, DEV_AT_TRANS_REQ, 0x1234, DEV_XLATE_UR, 0);
	ev_(__LINE__, 0x000000a000000005ull, 0x0000000080000001ull, 0x1000, 0, 0, 0, 0);
	ATS(0xa0, -1, WR, DEV_AT_TRANS_REQ, 0x5678, DEV_XLATE_UR, 0);
	ev_(__LINE__, 0x000000a000000005ull, 0x00000000c0000001ull, 0x5000, 0, 0, 0, 0);
	/* With SubstreamID 3, privileged, execute: dw0 + SSV 0x800 + 3 << 12 (0x3000);
	 * dw1 = R 0x80000000 | X 0x20000000 | Priv 0x10000000 | 1 = 0xb0000001. The EATS
	 * check comes before the substream checks (S1CDMax 0). */
	ATS(0xa0, 3, RD | EXEC | PRIV, DEV_AT_TRANS_REQ, 0x9abc, DEV_XLATE_UR, 0);
	ev_(__LINE__, 0x000000a000003805ull, 0x00000000b0000001ull, 0x9000, 0, 0, 0, 0);
	/* EATS 0b01: the translation, with what it allows (AP 0b01: read, write). */
	x = xl(0xa1, -1, RD, DEV_AT_TRANS_REQ, 0x1234);
	CHECK_EQ(x.status, DEV_XLATE_OK);
	CHECK_EQ(x.pa, 0x40001234);
	CHECK(x.r && x.w);
	none_(__LINE__);
	/* A translation fault: a completion without access, no event. */
	ATS(0xa1, -1, RD, DEV_AT_TRANS_REQ, 0x40001234, DEV_XLATE_NO_ACCESS, 0);
	none_(__LINE__);
	/* Config 0b100 (effective EATS 0b00): UR and F_BAD_ATS_TREQ. */
	ATS(0xa2, -1, RD, DEV_AT_TRANS_REQ, 0x1234, DEV_XLATE_UR, 0);
	ev_(__LINE__, 0x000000a200000005ull, 0x0000000080000001ull, 0x1000, 0, 0, 0, 0);
	/* An invalid or ILLEGAL STE: UR (or CA) and no event (spec 7.3.6: translation
	 * requests record no other event). */
	x = xl(0xa3, -1, RD, DEV_AT_TRANS_REQ, 0x1234);
	CHECK(x.status == DEV_XLATE_UR);
	none_(__LINE__);
	x = xl(0xa5, -1, RD, DEV_AT_TRANS_REQ, 0x1234);
	CHECK(x.status == DEV_XLATE_UR);
	none_(__LINE__);
	/* Config 0b000: UR, no event (facts §2.3 Config table). */
	x = xl(0xa4, -1, RD, DEV_AT_TRANS_REQ, 0x1234);
	CHECK(x.status == DEV_XLATE_UR);
	none_(__LINE__);
	stop();

	/* CR0.ATSCHK = 0: translated traffic bypasses with no STE check (facts §1.6):
	 * EATS 0b00, and even an STE with V = 0, pass as they are, silently. */
	start(LINEAR, CFG_LINEAR);
	ATS(0xa0, -1, RD, DEV_AT_TRANSLATED, 0x50001000, DEV_XLATE_OK, 0x50001000);
	none_(__LINE__);
	ATS(0xa3, -1, WR, DEV_AT_TRANSLATED, 0x50003000, DEV_XLATE_OK, 0x50003000);
	none_(__LINE__);
	ATS(0xa1, -1, RD, DEV_AT_TRANSLATED, 0x50001000, DEV_XLATE_OK, 0x50001000);
	none_(__LINE__);
	stop();

	/* SMMUEN = 0 (GBPA as reset: ABORT): a translation request gets UR and
	 * F_BAD_ATS_TREQ, the one event SMMUEN = 0 reports for it (facts §5.2, spec
	 * 7.3.6 "Reported ... SMMU_CR0.SMMUEN == 0"). */
	start_with(&c, LINEAR, CFG_LINEAR, (uint32_t)CR2_RECINVSID, (uint32_t)CR0_EVENTQEN);
	ATS(0xa1, -1, RD, DEV_AT_TRANS_REQ, 0x1234, DEV_XLATE_UR, 0);
	ev_(__LINE__, 0x000000a100000005ull, 0x0000000080000001ull, 0x1000, 0, 0, 0, 0);
	stop();
}

int main(void)
{
	test_split6(true);
	test_split6(false);
	test_split8();
	test_split10();
	test_strtab_misc();
	test_cd_tables();
	test_ste_configs();
	test_stage1_granules();
	test_ttb_select();
	test_stage2_granules();
	test_nested();
	test_events();
	test_ats();
	mem_space_free(ms);
	return check_exit();
}
