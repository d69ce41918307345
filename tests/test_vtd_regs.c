/* tests/test_vtd_regs.c — the VT-d unit's register file as a driver sees it:
 * reset values and capability encodings, the GCMD/GSTS protocol, SRTP latching,
 * TE/QIE rules, every RW1C bit, primary fault recording (FPD, the circular
 * index, PFO, FRI, PPF) with the FECTL event rule, virtual commands, and the
 * access rules (sizes, alignment, 32-bit halves).
 *
 * Expected values are worked by hand from docs/facts/vtd-structures.md; each
 * derivation is in the comment next to it.
 */
#include "check.h"

#include <string.h>

#include "hw/vtd/vtd_internal.h"

#define RAM_SIZE   0x100000ull
#define QUEUE_PA   0x10000ull

/* Linux's GCMD procedure (EDC, WIN/BF): GSTS without the one-shot status bits. */
#define GSTS_KEEP  0x96ffffffu

static unsigned events[3];

static void count_event(void *ctx, enum vtd_event ev)
{
	(void)ctx;
	events[ev]++;
}

static void die(const char *what)
{
	fprintf(stderr, "test_vtd_regs: setup failed: %s\n", what);
	exit(1);
}

static struct mem_space *new_space(void)
{
	struct mem_space *s = mem_space_new();

	if (!s || mem_add_anon(s, 0, RAM_SIZE, MEM_RW, NULL))
		die("mem space");
	return s;
}

static struct vtd *new_unit(const struct vtd_config *c, struct mem_space *mem)
{
	struct vtd *v = vtd_new(c, mem);

	if (!v)
		die("vtd_new");
	memset(events, 0, sizeof(events));
	vtd_set_event_cb(v, count_event, NULL);
	return v;
}

static uint32_t rd32(struct vtd *v, uint32_t off)
{
	return (uint32_t)vtd_read(v, off, 4);
}

static uint64_t rd64(struct vtd *v, uint32_t off)
{
	return vtd_read(v, off, 8);
}

static void wr32(struct vtd *v, uint32_t off, uint32_t val)
{
	vtd_write(v, off, 4, val);
}

static void wr64(struct vtd *v, uint32_t off, uint64_t val)
{
	vtd_write(v, off, 8, val);
}

/* Changes one GCMD field the way Linux does and polls GSTS (at most 100 reads)
 * until it shows want; returns whether it did. */
static bool gcmd(struct vtd *v, uint32_t cmd, bool on, uint32_t sts_bit, bool want)
{
	uint32_t val = rd32(v, VTD_GSTS) & GSTS_KEEP;

	wr32(v, VTD_GCMD, on ? val | cmd : val & ~cmd);
	for (int i = 0; i < 100; i++)
		if (!!(rd32(v, VTD_GSTS) & sts_bit) == want)
			return true;
	return false;
}

static void fill_one(struct hwc *c, uint64_t key)
{
	uint64_t tag[HWC_TAG_WORDS] = { key, 0, 0 }, val[HWC_VAL_WORDS] = { 0 };

	if (!hwc_fill(c, hwc_hash(key, 0), tag, val, hwc_gen(c)))
		die("hwc_fill");
}

/* ---- reset values -------------------------------------------------------------- */

static void test_reset_values(struct mem_space *mem)
{
	struct vtd_config c;
	struct vtd *v;
	uint64_t cap, ecap;

	vtd_config_default(&c);
	c.haw = 46;
	c.sagaw = BIT(1) | BIT(2);
	c.fl1gp = false;
	c.fl5lp = true;
	c.sllps_2m = true;
	c.sllps_1g = false;
	c.pasid_bits = 16;
	c.sc = false;
	c.ers = false;
	c.eafs = false;
	c.smpwcs = false;
	c.rprivs = false;
	c.mamv = 9;
	c.nfr = 4;
	v = new_unit(&c, mem);

	/* VER: major 6 (no register-based invalidation), minor 0. */
	CHECK_EQ(rd32(v, VTD_VER), 0x60);
	/*
	 * CAP, field by field:
	 *   ND 6 (16-bit DIDs)            2:0    0x6
	 *   SAGAW 0b00110 (39, 48 bits)   12:8   0x600
	 *   MGAW 46 - 1 = 0x2d            21:16  0x2d0000
	 *   FRO 0x200 / 16 = 0x20         33:24  0x20000000
	 *   SLLPS 2M                      34     0x4_00000000
	 *   PSI                           39     0x80_00000000
	 *   NFR 4 - 1 = 3                 47:40  0x300_00000000
	 *   MAMV 9                        53:48  0x9_0000_00000000
	 *   FL5LP                         60
	 *   ESRTPS                        63     -> 0x9009_0384_202d_0606
	 */
	cap = rd64(v, VTD_CAP);
	CHECK_EQ(cap, 0x90090384202d0606ull);
	CHECK_EQ(FIELD_GET(CAP_SAGAW, cap), c.sagaw);
	CHECK_EQ(FIELD_GET(CAP_MGAW, cap) + 1, c.haw);
	CHECK_EQ(FIELD_GET(CAP_NFR, cap) + 1, c.nfr);
	CHECK_EQ(FIELD_GET(CAP_MAMV, cap), c.mamv);
	CHECK_EQ(FIELD_GET(CAP_FRO, cap) * 16, VTD_FRCD_BASE);
	CHECK(!(cap & CAP_FL1GP) && (cap & CAP_FL5LP) && (cap & CAP_PSI));
	CHECK(!(cap & (CAP_DWD | CAP_DRD | CAP_RWBF | CAP_CM | CAP_PI)));
	/* The two 32-bit halves read the same 64 bits. */
	CHECK_EQ(rd32(v, VTD_CAP), 0x202d0606u);
	CHECK_EQ(rd32(v, VTD_CAP + 4), 0x90090384u);
	/*
	 * ECAP: C 0, QI 1, DT 2, PT 6 -> 0x47; NEST 26, PRS 29, SRS 31 -> 0xa4000047;
	 * high dword: PSS 15 at 35:35+4 -> 0x78, PASID 40 -> 0x100, PDS 42 -> 0x400,
	 * SMTS 43 -> 0x800, VCS 44, SLADS 45, SLTS 46, FLTS 47 -> 0xf000, RPS 49 ->
	 * 0x20000: 0x2fd78. No IR, SC, ERS, EAFS, SMPWCS, RPRIVS, ADMS, MTS.
	 */
	ecap = rd64(v, VTD_ECAP);
	CHECK_EQ(ecap, 0x0002fd78a4000047ull);
	CHECK_EQ(FIELD_GET(ECAP_PSS, ecap) + 1, c.pasid_bits);
	CHECK(!(ecap & (ECAP_IR | ECAP_SC | ECAP_ERS | ECAP_EAFS | ECAP_ADMS | ECAP_MTS)));

	/* Everything else resets to 0, the three interrupt masks to 1. */
	CHECK_EQ(rd32(v, VTD_GCMD), 0);
	CHECK_EQ(rd32(v, VTD_GSTS), 0);
	CHECK_EQ(rd64(v, VTD_RTADDR), 0);
	CHECK_EQ(rd32(v, VTD_FSTS), 0);
	CHECK_EQ(rd32(v, VTD_FECTL), 0x80000000u);
	CHECK_EQ(rd32(v, VTD_IECTL), 0x80000000u);
	CHECK_EQ(rd32(v, VTD_PECTL), 0x80000000u);
	CHECK_EQ(rd64(v, VTD_IQH), 0);
	CHECK_EQ(rd64(v, VTD_IQT), 0);
	CHECK_EQ(rd64(v, VTD_IQA), 0);
	CHECK_EQ(rd32(v, VTD_ICS), 0);
	CHECK_EQ(rd64(v, VTD_IQERCD), 0);
	CHECK_EQ(rd64(v, VTD_PQH), 0);
	CHECK_EQ(rd64(v, VTD_PQT), 0);
	CHECK_EQ(rd64(v, VTD_PQA), 0);
	CHECK_EQ(rd32(v, VTD_PRS), 0);
	for (unsigned i = 0; i < c.nfr; i++) {
		CHECK_EQ(rd64(v, VTD_FRCD_BASE + 16 * i), 0);
		CHECK_EQ(rd64(v, VTD_FRCD_BASE + 16 * i + 8), 0);
	}
	/* VCCAP.PAS with VCS and PASIDs. */
	CHECK_EQ(rd64(v, VTD_VCCAP), 1);
	CHECK(!atomic_load(&v->te) && atomic_load(&v->rta) == 0 && atomic_load(&v->ttm) == 0);
	vtd_free(v);
}

/* ---- GCMD / GSTS ----------------------------------------------------------------- */

static void test_srtp_and_te(struct mem_space *mem)
{
	struct vtd_config c;
	struct vtd *v;

	vtd_config_default(&c);
	v = new_unit(&c, mem);

	/* TE before any SRTP is refused: GSTS unchanged, translation still off. */
	CHECK(gcmd(v, GCMD_TE, true, GSTS_TES, false));
	CHECK_EQ(rd32(v, VTD_GSTS), 0);
	CHECK(!atomic_load(&v->te));

	/* RTADDR: bits 9:0 reserved, 11:10 TTM, 63:12 address. */
	wr64(v, VTD_RTADDR, 0x12345fffull);
	CHECK_EQ(rd64(v, VTD_RTADDR), 0x12345c00ull);
	wr64(v, VTD_RTADDR, 0x12345400ull);             /* TTM 01: scalable */
	CHECK_EQ(rd64(v, VTD_RTADDR), 0x12345400ull);
	CHECK_EQ(atomic_load(&v->rta), 0);              /* nothing latched yet */

	/* SRTP latches address and TTM, sets RTPS and (ESRTPS) empties every cache. */
	fill_one(v->cc, 1);
	fill_one(v->pc, 2);
	fill_one(v->iotlb, 3);
	fill_one(v->fspsc, 4);
	fill_one(v->sspsc, 5);
	CHECK(gcmd(v, GCMD_SRTP, true, GSTS_RTPS, true));
	CHECK_EQ(rd32(v, VTD_GSTS), GSTS_RTPS);
	CHECK_EQ(atomic_load(&v->rta), 0x12345000ull);
	CHECK_EQ(atomic_load(&v->ttm), TTM_SCALABLE);
	CHECK_EQ(hwc_count_valid(v->cc) + hwc_count_valid(v->pc) + hwc_count_valid(v->iotlb) +
		 hwc_count_valid(v->fspsc) + hwc_count_valid(v->sspsc), 0);

	/* A later RTADDR write changes nothing until the next SRTP... */
	wr64(v, VTD_RTADDR, 0x777000ull);
	CHECK_EQ(rd64(v, VTD_RTADDR), 0x777000ull);
	CHECK_EQ(atomic_load(&v->rta), 0x12345000ull);
	CHECK_EQ(atomic_load(&v->ttm), TTM_SCALABLE);

	/* ...and enabling TE (RTPS masked out of the write) does not re-latch. */
	CHECK(gcmd(v, GCMD_TE, true, GSTS_TES, true));
	CHECK_EQ(rd32(v, VTD_GSTS), GSTS_TES | GSTS_RTPS);
	CHECK(atomic_load(&v->te));
	CHECK_EQ(atomic_load(&v->rta), 0x12345000ull);

	/* The next SRTP latches 0x777000 with TTM 00. */
	CHECK(gcmd(v, GCMD_SRTP, true, GSTS_RTPS, true));
	CHECK_EQ(atomic_load(&v->rta), 0x777000ull);
	CHECK_EQ(atomic_load(&v->ttm), TTM_LEGACY);
	CHECK_EQ(rd32(v, VTD_GSTS), GSTS_TES | GSTS_RTPS);

	/* TTM 10 (reserved) is latched as written: translation faults 0x30. */
	wr64(v, VTD_RTADDR, 0x12345800ull);
	CHECK(gcmd(v, GCMD_SRTP, true, GSTS_RTPS, true));
	CHECK_EQ(atomic_load(&v->ttm), 2);

	/* Clearing TE on this SMTS unit empties every cache. */
	fill_one(v->cc, 1);
	fill_one(v->iotlb, 3);
	CHECK(gcmd(v, GCMD_TE, false, GSTS_TES, false));
	CHECK(!atomic_load(&v->te));
	CHECK_EQ(rd32(v, VTD_GSTS), GSTS_RTPS);
	CHECK_EQ(hwc_count_valid(v->cc) + hwc_count_valid(v->iotlb), 0);

	/* One-shot commands: WBF completes at once (WBFS reads 0, Linux polls for 0);
	 * SFL and SIRTP set their status on completion; none of them persists into
	 * the next masked write. */
	CHECK(gcmd(v, GCMD_WBF, true, GSTS_WBFS, false));
	CHECK(gcmd(v, GCMD_SFL, true, GSTS_FLS, true));
	CHECK(gcmd(v, GCMD_SIRTP, true, GSTS_IRTPS, true));
	CHECK_EQ(rd32(v, VTD_GSTS), GSTS_RTPS | GSTS_FLS | GSTS_IRTPS);

	/* EAFL, IRE and CFI are plain persistent status bits; the mask keeps them
	 * through writes that change another field. */
	CHECK(gcmd(v, GCMD_IRE, true, GSTS_IRES, true));
	CHECK(gcmd(v, GCMD_CFI, true, GSTS_CFIS, true));
	CHECK(gcmd(v, GCMD_EAFL, true, GSTS_AFLS, true));
	CHECK(gcmd(v, GCMD_TE, true, GSTS_TES, true));
	CHECK_EQ(rd32(v, VTD_GSTS), GSTS_TES | GSTS_RTPS | GSTS_FLS | GSTS_AFLS | GSTS_IRES |
				    GSTS_IRTPS | GSTS_CFIS);
	CHECK(gcmd(v, GCMD_IRE, false, GSTS_IRES, false));
	CHECK(gcmd(v, GCMD_CFI, false, GSTS_CFIS, false));
	CHECK(gcmd(v, GCMD_EAFL, false, GSTS_AFLS, false));
	CHECK_EQ(rd32(v, VTD_GSTS), GSTS_TES | GSTS_RTPS | GSTS_FLS | GSTS_IRTPS);
	CHECK(atomic_load(&v->te));

	/* GCMD is write-only; GSTS is read-only. */
	CHECK_EQ(rd32(v, VTD_GCMD), 0);
	wr32(v, VTD_GSTS, 0);
	CHECK_EQ(rd32(v, VTD_GSTS), GSTS_TES | GSTS_RTPS | GSTS_FLS | GSTS_IRTPS);

	/* CCMD has no effect (VER major 6: no register-based invalidation). */
	fill_one(v->cc, 1);
	wr64(v, VTD_CCMD, BIT(63) | BIT(61));           /* ICC, global */
	CHECK_EQ(rd64(v, VTD_CCMD), 0);
	CHECK_EQ(hwc_count_valid(v->cc), 1);
	vtd_free(v);
}

/* Two wait descriptors (type 5, no SW/IF) at QUEUE_PA, 256-bit. */
static void put_two_waits(struct mem_space *mem)
{
	static const uint64_t zero[8];

	if (mem_write(mem, QUEUE_PA, zero, sizeof(zero)) ||
	    mem_store64(mem, QUEUE_PA, 0x5) || mem_store64(mem, QUEUE_PA + 32, 0x5))
		die("queue");
}

static void test_qie(struct mem_space *mem)
{
	struct vtd_config c;
	struct vtd *v;

	vtd_config_default(&c);
	v = new_unit(&c, mem);
	put_two_waits(mem);
	wr64(v, VTD_RTADDR, 0x400);                     /* TTM 01 at 0 */
	CHECK(gcmd(v, GCMD_SRTP, true, GSTS_RTPS, true));
	/* IQA: base, DW = 1 (bit 11), QS 0; bits 10:3 reserved. */
	wr64(v, VTD_IQA, QUEUE_PA | 0x800 | 0x7f8);
	CHECK_EQ(rd64(v, VTD_IQA), QUEUE_PA | 0x800);
	/* IQT before enabling (QEMU tolerates it): two 32-byte descriptors. */
	wr64(v, VTD_IQT, 0x40);
	CHECK_EQ(rd64(v, VTD_IQH), 0);                  /* QI off: nothing runs */
	CHECK(gcmd(v, GCMD_QIE, true, GSTS_QIES, true));
	CHECK_EQ(rd64(v, VTD_IQH), 0x40);               /* both ran */
	CHECK_EQ(atomic_load(&v->descriptors[QI_WAIT]), 2);

	/* IQA is ignored while QI is enabled; IQH is read-only. */
	wr64(v, VTD_IQA, 0x20000 | 0x800);
	CHECK_EQ(rd64(v, VTD_IQA), QUEUE_PA | 0x800);
	wr64(v, VTD_IQH, 0x20);
	CHECK_EQ(rd64(v, VTD_IQH), 0x40);

	/* Disabling QI resets IQH; IQT stays as software left it. */
	CHECK(gcmd(v, GCMD_QIE, false, GSTS_QIES, false));
	CHECK_EQ(rd64(v, VTD_IQH), 0);
	CHECK_EQ(rd64(v, VTD_IQT), 0x40);
	CHECK_EQ(atomic_load(&v->descriptors[QI_WAIT]), 2);
	/* Enabling again restarts at IQH 0: the two run again. */
	CHECK(gcmd(v, GCMD_QIE, true, GSTS_QIES, true));
	CHECK_EQ(rd64(v, VTD_IQH), 0x40);
	CHECK_EQ(atomic_load(&v->descriptors[QI_WAIT]), 4);
	CHECK_EQ(rd32(v, VTD_GSTS), GSTS_RTPS | GSTS_QIES);
	vtd_free(v);
}

/* ---- RW1C bits and the other simple registers ------------------------------------ */

static void set_fsts(struct vtd *v, uint32_t bits)
{
	vtd_lock(v);
	vtd_fsts_set_locked(v, bits);
	vtd_unlock(v);
}

static void test_rw1c(struct mem_space *mem)
{
	static const uint32_t rw1c[] = {
		FSTS_PFO, FSTS_AFO, FSTS_APF, FSTS_IQE, FSTS_ICE, FSTS_ITE,
	};
	struct vtd_config c;
	struct vtd *v;
	struct dev_page_req pr = { .rid = 0x10, .read = true, .last = true };

	vtd_config_default(&c);
	v = new_unit(&c, mem);

	/* FSTS: each RW1C bit survives 0s and other bits' 1s, clears on its 1. */
	for (unsigned i = 0; i < ARRAY_SIZE(rw1c); i++) {
		set_fsts(v, rw1c[i]);
		CHECK_EQ(rd32(v, VTD_FSTS), rw1c[i]);
		wr32(v, VTD_FSTS, 0);
		wr32(v, VTD_FSTS, ~rw1c[i] & 0xffff);
		CHECK_EQ(rd32(v, VTD_FSTS), rw1c[i]);
		wr32(v, VTD_FSTS, rw1c[i]);
		CHECK_EQ(rd32(v, VTD_FSTS), 0);
	}
	/* PPF and FRI are read-only, bit 7 (2.x PRO) reserved: writes do nothing. */
	wr32(v, VTD_FSTS, 0xffffffffu);
	CHECK_EQ(rd32(v, VTD_FSTS), 0);

	/* ICS.IWC via a wait descriptor with IF; RW1C. */
	if (mem_store64(mem, QUEUE_PA, 0x15) || mem_store64(mem, QUEUE_PA + 8, 0) ||
	    mem_store64(mem, QUEUE_PA + 16, 0) || mem_store64(mem, QUEUE_PA + 24, 0))
		die("queue");
	wr64(v, VTD_RTADDR, 0x400);
	CHECK(gcmd(v, GCMD_SRTP, true, GSTS_RTPS, true));
	wr64(v, VTD_IQA, QUEUE_PA | 0x800);
	CHECK(gcmd(v, GCMD_QIE, true, GSTS_QIES, true));
	wr64(v, VTD_IQT, 0x20);
	CHECK_EQ(rd32(v, VTD_ICS), 1);
	CHECK_EQ(rd32(v, VTD_IECTL), 0xc0000000u);      /* IM, IP: held */
	wr32(v, VTD_ICS, 0xfffffffeu);
	CHECK_EQ(rd32(v, VTD_ICS), 1);
	wr32(v, VTD_ICS, 1);
	CHECK_EQ(rd32(v, VTD_ICS), 0);
	CHECK_EQ(rd32(v, VTD_IECTL), 0x80000000u);      /* serviced: IP clear */
	CHECK_EQ(events[VTD_EVENT_INV_WAIT], 0);

	/* PRS: PPR and PRO, each RW1C. PQA 0 = one page at 0: 128 slots. */
	vtd_lock(v);
	CHECK_EQ(vtd_prq_write_locked(v, &pr), 0);
	vtd_unlock(v);
	CHECK_EQ(rd32(v, VTD_PRS), 1);
	vtd_lock(v);
	v->prs |= PRS_PRO;
	vtd_unlock(v);
	wr32(v, VTD_PRS, 0);
	CHECK_EQ(rd32(v, VTD_PRS), 3);
	wr32(v, VTD_PRS, 2);
	CHECK_EQ(rd32(v, VTD_PRS), 1);
	wr32(v, VTD_PRS, 0xfffffffdu);
	CHECK_EQ(rd32(v, VTD_PRS), 0);

	/* PQH is RW in bits 18:5; PQT is read-only here (the unit produces). */
	wr64(v, VTD_PQH, 0xffffffffffffffffull);
	CHECK_EQ(rd64(v, VTD_PQH), 0x7ffe0ull);
	wr64(v, VTD_PQH, 0);
	CHECK_EQ(rd64(v, VTD_PQT), 0x20);
	wr64(v, VTD_PQT, 0);
	CHECK_EQ(rd64(v, VTD_PQT), 0x20);
	/* PQA: PQS 2:0, base 63:12; writing it starts the new queue empty. */
	wr64(v, VTD_PQA, 0x20000 | 0xfff);
	CHECK_EQ(rd64(v, VTD_PQA), 0x20007);
	CHECK_EQ(rd64(v, VTD_PQT), 0);

	/* Message data 15:0, address 31:2, upper address 31:0. */
	wr32(v, VTD_FEDATA, 0xffffffffu);
	wr32(v, VTD_FEADDR, 0xffffffffu);
	wr32(v, VTD_FEUADDR, 0xffffffffu);
	wr32(v, VTD_IEDATA, 0xffffffffu);
	wr32(v, VTD_IEADDR, 0xffffffffu);
	wr32(v, VTD_IEUADDR, 0xffffffffu);
	wr32(v, VTD_PEDATA, 0xffffffffu);
	wr32(v, VTD_PEADDR, 0xffffffffu);
	wr32(v, VTD_PEUADDR, 0xffffffffu);
	CHECK_EQ(rd32(v, VTD_FEDATA), 0xffff);
	CHECK_EQ(rd32(v, VTD_FEADDR), 0xfffffffcu);
	CHECK_EQ(rd32(v, VTD_FEUADDR), 0xffffffffu);
	CHECK_EQ(rd32(v, VTD_IEDATA), 0xffff);
	CHECK_EQ(rd32(v, VTD_IEADDR), 0xfffffffcu);
	CHECK_EQ(rd32(v, VTD_IEUADDR), 0xffffffffu);
	CHECK_EQ(rd32(v, VTD_PEDATA), 0xffff);
	CHECK_EQ(rd32(v, VTD_PEADDR), 0xfffffffcu);
	CHECK_EQ(rd32(v, VTD_PEUADDR), 0xffffffffu);
	/* Control registers: only IM is writable (IP read-only, 29:0 reserved). */
	wr32(v, VTD_FECTL, 0x7fffffffu);
	CHECK_EQ(rd32(v, VTD_FECTL), 0);
	wr32(v, VTD_FECTL, 0xffffffffu);
	CHECK_EQ(rd32(v, VTD_FECTL), 0x80000000u);

	/* IQERCD is read-only. */
	wr64(v, VTD_IQERCD, 0xf);
	CHECK_EQ(rd64(v, VTD_IQERCD), 0);
	vtd_free(v);
}

/* ---- fault recording --------------------------------------------------------------- */

static uint64_t frcd_lo(struct vtd *v, unsigned i)
{
	return rd64(v, VTD_FRCD_BASE + 16 * i);
}

static uint64_t frcd_hi(struct vtd *v, unsigned i)
{
	return rd64(v, VTD_FRCD_BASE + 16 * i + 8);
}

static void clear_frcd(struct vtd *v, unsigned i)
{
	/* F is bit 127 of the record: bit 31 of its last dword. */
	wr32(v, VTD_FRCD_BASE + 16 * i + 12, 0x80000000u);
}

static void record(struct vtd *v, uint8_t reason, uint16_t sid, uint64_t addr, bool fpd)
{
	struct vtd_fault f = {
		.reason = reason, .sid = sid, .addr = addr, .fpd = fpd,
	};

	vtd_record_fault(v, &f);
}

static void test_qualified(void)
{
	/* §6: qualified 0x41-0x48, 0x51-0x52, 0x59-0x5D, 0x70 and up. */
	static const uint8_t yes[] = {
		0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x51, 0x52,
		0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x70, 0x71, 0x7a, 0x80, 0x87, 0x91,
	};
	static const uint8_t no[] = {
		0x30, 0x31, 0x32, 0x38, 0x39, 0x3a, 0x40, 0x50, 0x58,
	};

	for (unsigned i = 0; i < ARRAY_SIZE(yes); i++)
		CHECK_MSG(vtd_fault_qualified(yes[i]), "reason 0x%x", yes[i]);
	for (unsigned i = 0; i < ARRAY_SIZE(no); i++)
		CHECK_MSG(!vtd_fault_qualified(no[i]), "reason 0x%x", no[i]);
}

static void test_fault_fields(struct mem_space *mem)
{
	struct vtd_config c;
	struct vtd *v;
	struct vtd_fault f = {
		.reason = 0x85, .sid = 0x0108, .addr = 0x1f1234567abcull,
		.pasid_present = true, .pasid = 0x12345, .priv = true, .write = true,
	};

	vtd_config_default(&c);
	c.haw = 46;
	v = new_unit(&c, mem);

	vtd_record_fault(v, &f);
	/* FI: the page address 0x1f1234567000 (below 2^46 = 0x4000_0000_0000). */
	CHECK_EQ(frcd_lo(v, 0), 0x1f1234567000ull);
	/*
	 * hi: SID 0x108; PRIV bit 29 (0x20000000); PP bit 31 (0x80000000); T1 = T2
	 * = 0 (write); FR 0x85 at 39:32; PV 0x12345 at 59:40 (0x12345 << 8 in the
	 * upper dword = 0x01234500); AT 0; F bit 63. -> 0x81234585_a0000108.
	 */
	CHECK_EQ(frcd_hi(v, 0), 0x81234585a0000108ull);
	/* The same through 32-bit reads. */
	CHECK_EQ(rd32(v, VTD_FRCD_BASE + 8), 0xa0000108u);
	CHECK_EQ(rd32(v, VTD_FRCD_BASE + 12), 0x81234585u);
	/* PPF set, FRI 0. */
	CHECK_EQ(rd32(v, VTD_FSTS), FSTS_PPF);

	/* A read without PASID, executing, from a translation request (AT 01):
	 * T1 bit 62, EXE bit 30, AT 61:60 = 01 (bit 60); no PP, PV 0, PRIV 0.
	 * FI keeps bits 45:12 only: 0xffffffffffff_f123 -> 0x3fff_ffff_f000.
	 * hi = 0x4000_0000 | 0x1000_0000 | 0x80000000 (F) in the upper dword with
	 * FR 0x82: 0xd0000082; lower: EXE 0x40000000 | SID 0xffff. */
	f = (struct vtd_fault){
		.reason = 0x82, .sid = 0xffff, .addr = 0xfffffffffffff123ull, .exec = true,
		.at = 1, .pasid = 0x777,
	};
	vtd_record_fault(v, &f);
	CHECK_EQ(frcd_lo(v, 1), 0x00003ffffffff000ull);
	CHECK_EQ(frcd_hi(v, 1), 0xd000008240000000ull | 0xffff);

	/* A page request: T2 bit 28, T1 0. FR 0x47, SID 0x10, PP with PASID 1. */
	f = (struct vtd_fault){
		.reason = 0x47, .sid = 0x10, .addr = 0x5000, .page_request = true,
		.pasid_present = true, .pasid = 1,
	};
	vtd_record_fault(v, &f);
	CHECK_EQ(frcd_lo(v, 2), 0x5000);
	CHECK_EQ(frcd_hi(v, 2), 0x8000014790000010ull);
	/* Only F is writable: a write of 0s or of every other bit changes nothing. */
	wr64(v, VTD_FRCD_BASE + 32 + 8, 0x7fffffffffffffffull);
	wr64(v, VTD_FRCD_BASE + 32, 0);
	CHECK_EQ(frcd_lo(v, 2), 0x5000);
	CHECK_EQ(frcd_hi(v, 2), 0x8000014790000010ull);
	/* Clearing F keeps the fields readable. */
	wr64(v, VTD_FRCD_BASE + 32 + 8, BIT(63));
	CHECK_EQ(frcd_hi(v, 2), 0x0000014790000010ull);
	CHECK_EQ(atomic_load(&v->faults_recorded), 3);
	vtd_free(v);
}

static void test_fault_recording(struct mem_space *mem)
{
	struct vtd_config c;
	struct vtd *v;
	struct vtd_stats st;

	vtd_config_default(&c);
	c.nfr = 4;
	v = new_unit(&c, mem);

	/* FPD suppresses a qualified reason: counted, nothing recorded. */
	record(v, 0x59, 0x100, 0x1000, true);
	CHECK_EQ(rd32(v, VTD_FSTS), 0);
	CHECK_EQ(frcd_hi(v, 0), 0);
	/* FPD does not suppress an unqualified one (0x58: the PASID entry could
	 * not be read). */
	record(v, 0x58, 0x100, 0x1000, true);
	CHECK_EQ(FIELD_GET(FRCD_HI_FR, frcd_hi(v, 0)), 0x58);
	CHECK(frcd_hi(v, 0) & FRCD_HI_F);
	/* Without FPD a qualified one is recorded. */
	record(v, 0x59, 0x101, 0x2000, false);
	CHECK_EQ(FIELD_GET(FRCD_HI_FR, frcd_hi(v, 1)), 0x59);
	vtd_get_stats(v, &st);
	CHECK_EQ(st.faults[0x59], 2);
	CHECK_EQ(st.faults[0x58], 1);
	CHECK_EQ(st.faults_suppressed, 1);
	CHECK_EQ(st.faults_recorded, 2);

	/* FECTL.IM is 1: the first condition (PPF 0 -> 1) only set IP. */
	CHECK_EQ(events[VTD_EVENT_FAULT], 0);
	CHECK_EQ(rd32(v, VTD_FECTL), 0xc0000000u);
	/* Clearing IM sends the held event and clears IP. */
	wr32(v, VTD_FECTL, 0);
	CHECK_EQ(events[VTD_EVENT_FAULT], 1);
	CHECK_EQ(rd32(v, VTD_FECTL), 0);

	/* Fill slots 2 and 3: all four pending, index back at 0; no new event
	 * (PPF was already set). FRI stays 0. */
	record(v, 0x71, 0x102, 0x3000, false);
	record(v, 0x72, 0x103, 0x4000, false);
	CHECK_EQ(events[VTD_EVENT_FAULT], 1);
	for (unsigned i = 0; i < 4; i++)
		CHECK(frcd_hi(v, i) & FRCD_HI_F);
	CHECK_EQ(rd32(v, VTD_FSTS), FSTS_PPF);          /* FRI 0 */

	/* The next slot (0) still holds F: PFO, nothing written, no event. */
	record(v, 0x73, 0x104, 0x5000, false);
	CHECK_EQ(rd32(v, VTD_FSTS), FSTS_PPF | FSTS_PFO);
	CHECK_EQ(FIELD_GET(FRCD_HI_FR, frcd_hi(v, 0)), 0x58);
	CHECK_EQ(events[VTD_EVENT_FAULT], 1);
	/* Software clears F of record 0; while PFO stays set nothing is recorded,
	 * not even in the free slot. */
	clear_frcd(v, 0);
	record(v, 0x74, 0x105, 0x6000, false);
	CHECK_EQ(frcd_hi(v, 0) & FRCD_HI_F, 0);
	CHECK_EQ(FIELD_GET(FRCD_HI_FR, frcd_hi(v, 0)), 0x58);
	vtd_get_stats(v, &st);
	CHECK_EQ(st.faults_overflow, 2);
	CHECK_EQ(st.faults_recorded, 4);
	/* Clearing PFO: the next fault lands in slot 0 (the index did not move);
	 * PPF stayed 1 (slots 1-3), so FRI stays 0 and no event. */
	wr32(v, VTD_FSTS, FSTS_PFO);
	CHECK_EQ(rd32(v, VTD_FSTS), FSTS_PPF);
	record(v, 0x75, 0x106, 0x7000, false);
	CHECK_EQ(FIELD_GET(FRCD_HI_FR, frcd_hi(v, 0)), 0x75);
	CHECK_EQ(FIELD_GET(FRCD_HI_SID, frcd_hi(v, 0)), 0x106);
	CHECK_EQ(rd32(v, VTD_FSTS), FSTS_PPF);
	CHECK_EQ(events[VTD_EVENT_FAULT], 1);

	/* Service everything: PPF goes to 0 only with the last F. */
	clear_frcd(v, 0);
	clear_frcd(v, 1);
	clear_frcd(v, 2);
	CHECK_EQ(rd32(v, VTD_FSTS), FSTS_PPF);
	clear_frcd(v, 3);
	CHECK_EQ(rd32(v, VTD_FSTS) & FSTS_PPF, 0);
	/* The next fault goes to slot 1 (index after slot 0): PPF 0 -> 1 with
	 * nothing else pending is a new condition: FRI 1 and, IM = 0, an event. */
	record(v, 0x79, 0x107, 0x8000, false);
	CHECK(frcd_hi(v, 1) & FRCD_HI_F);
	CHECK_EQ(rd32(v, VTD_FSTS), FSTS_PPF | (1u << 8));
	CHECK_EQ(events[VTD_EVENT_FAULT], 2);
	CHECK_EQ(rd32(v, VTD_FECTL), 0);

	/* Another status pending (IQE) when PPF goes 0 -> 1: no new condition. */
	set_fsts(v, FSTS_IQE);                          /* PPF set: no event either */
	CHECK_EQ(events[VTD_EVENT_FAULT], 2);
	clear_frcd(v, 1);
	record(v, 0x7a, 0x108, 0x9000, false);          /* slot 2 */
	CHECK_EQ(rd32(v, VTD_FSTS), FSTS_PPF | FSTS_IQE | (2u << 8));
	CHECK_EQ(events[VTD_EVENT_FAULT], 2);
	clear_frcd(v, 2);
	wr32(v, VTD_FSTS, FSTS_IQE);
	CHECK_EQ(rd32(v, VTD_FSTS) & ~FSTS_FRI, 0);

	/* IQE on an idle FSTS is a condition of its own. */
	set_fsts(v, FSTS_IQE);
	CHECK_EQ(events[VTD_EVENT_FAULT], 3);
	wr32(v, VTD_FSTS, FSTS_IQE);

	/* IP with IM = 1: held until every status is serviced. */
	wr32(v, VTD_FECTL, XECTL_IM);
	record(v, 0x7b, 0x109, 0xa000, false);          /* slot 3 */
	CHECK_EQ(rd32(v, VTD_FECTL), 0xc0000000u);
	set_fsts(v, FSTS_ICE);
	clear_frcd(v, 3);                               /* PPF 0, ICE still set */
	CHECK_EQ(rd32(v, VTD_FECTL), 0xc0000000u);
	wr32(v, VTD_FSTS, FSTS_ICE);                    /* all serviced */
	CHECK_EQ(rd32(v, VTD_FECTL), 0x80000000u);
	/* Unmasking now sends nothing: the condition was serviced. */
	wr32(v, VTD_FECTL, 0);
	CHECK_EQ(events[VTD_EVENT_FAULT], 3);
	CHECK_EQ(rd32(v, VTD_FECTL), 0);

	/* PFO raises no event even when unmasked: fill all four, overflow. */
	for (unsigned i = 0; i < 4; i++)
		record(v, 0x80, 0x200, 0x1000 * i, false);
	CHECK_EQ(events[VTD_EVENT_FAULT], 4);           /* PPF 0 -> 1 only */
	record(v, 0x80, 0x200, 0x5000, false);
	CHECK_EQ(rd32(v, VTD_FSTS) & FSTS_PFO, FSTS_PFO);
	CHECK_EQ(events[VTD_EVENT_FAULT], 4);
	vtd_free(v);
}

/* ---- virtual commands ------------------------------------------------------------- */

static void test_vcmd(struct mem_space *mem)
{
	struct vtd_config c;
	struct vtd *v;

	vtd_config_default(&c);
	v = new_unit(&c, mem);
	/* 3.3 layout: VCMD 0xe00 (command 7:0, operand from 16), VCRSP 0xe10 (IP
	 * 0, SC 7:1, result from 16). Allocation gives the lowest free PASID >= 1. */
	wr64(v, VTD_VCMD, VCMD_ALLOC);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x10000);          /* PASID 1, SC 0, IP 0 */
	wr64(v, VTD_VCMD, VCMD_ALLOC);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x20000);
	wr64(v, VTD_VCMD, VCMD_ALLOC);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x30000);
	/* Free PASID 1 (0x1_0002), then allocation returns 1 again. */
	wr64(v, VTD_VCMD, 0x10002);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0);
	CHECK_EQ(rd64(v, VTD_VCMD), 0x10002);
	wr64(v, VTD_VCMD, VCMD_ALLOC);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x10000);
	/* Freeing one not allocated (5), PASID 0, or one beyond 20 bits: SC 16,
	 * which is 16 << 1 = 0x20 in the register. */
	wr64(v, VTD_VCMD, 0x50002);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x20);
	wr64(v, VTD_VCMD, 0x2);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x20);
	wr64(v, VTD_VCMD, (1ull << 36) | 0x2);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x20);
	/* Free 2 twice: the second is invalid. */
	wr64(v, VTD_VCMD, 0x20002);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0);
	wr64(v, VTD_VCMD, 0x20002);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x20);
	/* Written in 32-bit halves: operand half first, the command half runs it. */
	wr32(v, VTD_VCMD + 4, 0);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x20);
	wr32(v, VTD_VCMD, 0x30002);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0);
	/* An undefined command: SC 1 (the 3.0 code; 0x2 in the register). */
	wr64(v, VTD_VCMD, 3);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x2);
	/* VCCAP and VCRSP are read-only. */
	wr64(v, VTD_VCRSP, 0x12345);
	wr64(v, VTD_VCCAP, 0);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x2);
	CHECK_EQ(rd64(v, VTD_VCCAP), VCCAP_PAS);
	vtd_free(v);

	/* One PASID bit: only PASID 1 can be handed out. */
	vtd_config_default(&c);
	c.pasid_bits = 1;
	c.prs = false;
	v = new_unit(&c, mem);
	wr64(v, VTD_VCMD, VCMD_ALLOC);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x10000);
	wr64(v, VTD_VCMD, VCMD_ALLOC);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0x20);             /* no PASID available */
	vtd_free(v);

	/* Without ECAP.VCS the registers do not exist. */
	vtd_config_default(&c);
	c.vcs = false;
	v = new_unit(&c, mem);
	CHECK_EQ(rd64(v, VTD_ECAP) & ECAP_VCS, 0);
	CHECK_EQ(rd64(v, VTD_VCCAP), 0);
	wr64(v, VTD_VCMD, VCMD_ALLOC);
	CHECK_EQ(rd64(v, VTD_VCMD), 0);
	CHECK_EQ(rd64(v, VTD_VCRSP), 0);
	vtd_free(v);
}

/* ---- access rules -------------------------------------------------------------------- */

static void test_access(struct mem_space *mem)
{
	struct vtd_config c;
	struct vtd *v;

	vtd_config_default(&c);
	v = new_unit(&c, mem);
	wr64(v, VTD_RTADDR, 0xabcd000ull);

	/* Misaligned or odd-sized reads return 0. */
	CHECK_EQ(vtd_read(v, VTD_CAP + 4, 8), 0);
	CHECK_EQ(vtd_read(v, VTD_CAP + 2, 4), 0);
	CHECK_EQ(vtd_read(v, VTD_CAP, 2), 0);
	CHECK_EQ(vtd_read(v, VTD_CAP, 1), 0);
	CHECK_EQ(vtd_read(v, VTD_CAP, 16), 0);
	CHECK_EQ(vtd_read(v, VTD_RTADDR + 1, 4), 0);
	CHECK_EQ(vtd_read(v, VTD_REG_SIZE, 4), 0);
	CHECK_EQ(vtd_read(v, 0xfffffff8u, 8), 0);
	/* An 8-byte access to a 32-bit register, or to nothing, reads 0. */
	CHECK_EQ(vtd_read(v, VTD_FECTL, 8), 0);
	CHECK_EQ(vtd_read(v, VTD_GCMD, 8), 0);
	CHECK_EQ(vtd_read(v, 0xff8, 8), 0);
	CHECK_EQ(vtd_read(v, 0x100, 4), 0);

	/* Misaligned or odd-sized writes change nothing. */
	vtd_write(v, VTD_RTADDR + 4, 8, 0x1000);
	vtd_write(v, VTD_RTADDR + 2, 4, 0x1000);
	vtd_write(v, VTD_RTADDR, 2, 0x1000);
	vtd_write(v, VTD_RTADDR, 1, 0x1000);
	vtd_write(v, VTD_FECTL, 8, 0);                  /* would clear IM */
	vtd_write(v, VTD_GCMD, 8, GCMD_SRTP);           /* would latch */
	CHECK_EQ(rd64(v, VTD_RTADDR), 0xabcd000ull);
	CHECK_EQ(rd32(v, VTD_FECTL), 0x80000000u);
	CHECK_EQ(rd32(v, VTD_GSTS), 0);
	CHECK_EQ(atomic_load(&v->rta), 0);
	/* Read-only registers ignore writes. */
	wr64(v, VTD_CAP, 0);
	wr64(v, VTD_ECAP, 0);
	wr32(v, VTD_VER, 0);
	CHECK_EQ(rd64(v, VTD_CAP), v->cap);
	CHECK_EQ(rd64(v, VTD_ECAP), v->ecap);
	CHECK_EQ(rd32(v, VTD_VER), 0x60);

	/* A 64-bit register written as two 32-bit halves. */
	wr32(v, VTD_RTADDR, 0x55555400u);
	CHECK_EQ(rd64(v, VTD_RTADDR), 0x55555400ull);
	wr32(v, VTD_RTADDR + 4, 0x12u);
	CHECK_EQ(rd64(v, VTD_RTADDR), 0x1255555400ull);
	CHECK_EQ(rd32(v, VTD_RTADDR + 4), 0x12);
	CHECK(gcmd(v, GCMD_SRTP, true, GSTS_RTPS, true));
	CHECK_EQ(atomic_load(&v->rta), 0x1255555000ull);
	vtd_free(v);
}

int main(void)
{
	struct mem_space *mem = new_space();

	test_reset_values(mem);
	test_srtp_and_te(mem);
	test_qie(mem);
	test_rw1c(mem);
	test_qualified();
	test_fault_fields(mem);
	test_fault_recording(mem);
	test_vcmd(mem);
	test_access(mem);
	mem_space_free(mem);
	return check_exit();
}
