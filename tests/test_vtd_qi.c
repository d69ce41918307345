/* tests/test_vtd_qi.c — queued invalidation and the page request queue of the
 * VT-d unit, driven as a driver drives them: program RTADDR, SRTP, IQA (256-bit
 * descriptors), QIE; write descriptors into queue memory and advance IQT.
 *
 * Covered: wait descriptors (status write, IWC and the IECTL rule, FN/PD, the
 * status write that fails), every descriptor type's effect (caches through their
 * contents, device-TLB invalidations and page group responses through a real
 * dev/ endpoint on a stand-in port), every invalid case (type, type[6:4],
 * reserved bits of each type, granularities, AM > MAMV, width, tail, fetch, TTM)
 * stopping at the right IQH with the right IQEI and nothing after it run, then
 * recovery; wrap-around and N - 1 capacity; the device-TLB size encoding; and
 * the PRQ: descriptor bytes, PQT advance and wrap, PPR, overflow and PRO,
 * dropping, consuming, events.
 *
 * Expected values are worked by hand from docs/facts/vtd-structures.md §1.12,
 * §1.13, §4 and §5; derivations are in the comments.
 */
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dev/dev.h"
#include "hw/vtd/vtd_internal.h"

#define RAM_SIZE    0x1000000ull    /* 16 MiB at 0 */
#define ROOT_PA     0x10000ull
#define QUEUE_PA    0x100000ull     /* QS 0: 4 KiB, 128 256-bit descriptors */
#define QUEUE_BYTES 0x1000ull
#define STATUS_PA   0x200000ull
#define PRQ_PA      0x300000ull
#define DMA_PA      0x400000ull     /* endpoint DMAs land here (identity) */
#define NOT_MEMORY  0x70000000ull

#define EP_RID      0x0010          /* 00:02.0 */

static struct mem_space *mem;
static unsigned events[3];

static void count_event(void *ctx, enum vtd_event ev)
{
	(void)ctx;
	events[ev]++;
}

static void die(const char *what)
{
	fprintf(stderr, "test_vtd_qi: setup failed: %s\n", what);
	exit(1);
}

static void put64(uint64_t pa, uint64_t val)
{
	if (mem_store64(mem, pa, val))
		die("mem_store64");
}

static uint64_t get64(uint64_t pa)
{
	uint64_t val;

	if (mem_load64(mem, pa, &val))
		die("mem_load64");
	return val;
}

static uint32_t get32(uint64_t pa)
{
	uint8_t b[4];

	if (mem_read(mem, pa, b, 4))
		die("mem_read");
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
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

/* Linux's GCMD procedure: GSTS without one-shot bits, one field changed. */
static void gcmd(struct vtd *v, uint32_t cmd, bool on)
{
	uint32_t val = rd32(v, VTD_GSTS) & 0x96ffffffu;

	wr32(v, VTD_GCMD, on ? val | cmd : val & ~cmd);
}

/* ---- a unit programmed as a driver does ----------------------------------------- */

struct rig {
	struct vtd *v;
	uint64_t tail;                  /* software's copy of IQT */
};

static void rig_start(struct rig *r, const struct vtd_config *c, unsigned ttm, bool dw)
{
	r->v = vtd_new(c, mem);
	if (!r->v)
		die("vtd_new");
	memset(events, 0, sizeof(events));
	vtd_set_event_cb(r->v, count_event, NULL);
	if (mem_fill(mem, QUEUE_PA, 0, QUEUE_BYTES) || mem_fill(mem, STATUS_PA, 0x11, 0x1000) ||
	    mem_fill(mem, ROOT_PA, 0, 0x1000))
		die("mem_fill");
	wr64(r->v, VTD_RTADDR, ROOT_PA | (uint64_t)ttm << 10);
	gcmd(r->v, GCMD_SRTP, true);
	wr64(r->v, VTD_IQA, QUEUE_PA | (dw ? IQA_DW : 0));
	wr64(r->v, VTD_IQT, 0);
	gcmd(r->v, GCMD_QIE, true);
	r->tail = 0;
}

static void rig_default(struct rig *r)
{
	struct vtd_config c;

	vtd_config_default(&c);
	rig_start(r, &c, TTM_SCALABLE, true);
}

static void rig_stop(struct rig *r)
{
	vtd_free(r->v);
	r->v = NULL;
}

static void put_desc(struct rig *r, uint64_t qw0, uint64_t qw1, uint64_t qw2, uint64_t qw3)
{
	put64(QUEUE_PA + r->tail, qw0);
	put64(QUEUE_PA + r->tail + 8, qw1);
	put64(QUEUE_PA + r->tail + 16, qw2);
	put64(QUEUE_PA + r->tail + 24, qw3);
	r->tail = (r->tail + 32) % QUEUE_BYTES;
}

static void kick(struct rig *r)
{
	wr64(r->v, VTD_IQT, r->tail);
}

static void submit(struct rig *r, uint64_t qw0, uint64_t qw1)
{
	put_desc(r, qw0, qw1, 0, 0);
	kick(r);
}

/* A wait descriptor writing data to status slot i (STATUS_PA + 4 i). */
static uint64_t wait_sw(uint32_t data)
{
	return QI_WAIT | QI_WAIT_SW | (uint64_t)data << 32;
}

static uint64_t slot(unsigned i)
{
	return STATUS_PA + 4 * i;
}

static uint64_t descs(struct rig *r, unsigned type)
{
	return atomic_load(&r->v->descriptors[type]);
}

/* ---- wait descriptors -------------------------------------------------------------- */

static void test_wait(void)
{
	struct vtd_config c;
	struct rig r;

	rig_default(&r);
	/* SW: 0xdeadbeef to 0x200004, a 32-bit write; the bytes around it keep
	 * the 0x11 fill: the word at 0x200000 reads 0xdeadbeef_11111111. */
	submit(&r, wait_sw(0xdeadbeef), slot(1));
	CHECK_EQ(get64(STATUS_PA), 0xdeadbeef11111111ull);
	CHECK_EQ(get64(STATUS_PA + 8), 0x1111111111111111ull);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0x20);
	CHECK_EQ(descs(&r, QI_WAIT), 1);
	CHECK_EQ(rd32(r.v, VTD_ICS), 0);                /* no IF */
	CHECK_EQ(rd32(r.v, VTD_FSTS), 0);

	/* IF with IECTL.IM = 1: IWC set, IP held, no event. */
	submit(&r, QI_WAIT | QI_WAIT_IF, 0);
	CHECK_EQ(rd32(r.v, VTD_ICS), ICS_IWC);
	CHECK_EQ(rd32(r.v, VTD_IECTL), 0xc0000000u);
	CHECK_EQ(events[VTD_EVENT_INV_WAIT], 0);
	/* Unmasking sends it. */
	wr32(r.v, VTD_IECTL, 0);
	CHECK_EQ(events[VTD_EVENT_INV_WAIT], 1);
	CHECK_EQ(rd32(r.v, VTD_IECTL), 0);
	/* IF again while IWC is still 1: no new interrupt. */
	submit(&r, QI_WAIT | QI_WAIT_IF, 0);
	CHECK_EQ(events[VTD_EVENT_INV_WAIT], 1);
	CHECK_EQ(rd32(r.v, VTD_IECTL), 0);
	/* Software clears IWC; the next IF with IM = 0 interrupts at once, after
	 * its status write (SW and IF together). */
	wr32(r.v, VTD_ICS, ICS_IWC);
	submit(&r, wait_sw(0x12345678) | QI_WAIT_IF, slot(2));
	CHECK_EQ(get32(slot(2)), 0x12345678);
	CHECK_EQ(events[VTD_EVENT_INV_WAIT], 2);
	CHECK_EQ(rd32(r.v, VTD_ICS), ICS_IWC);
	wr32(r.v, VTD_ICS, ICS_IWC);

	/* Neither SW nor IF is valid and does nothing but complete; FN and PD
	 * (ECAP.PDS = 1) complete at once. */
	submit(&r, QI_WAIT, 0);
	submit(&r, QI_WAIT | QI_WAIT_FN | QI_WAIT_PD, 0);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0xc0);
	CHECK_EQ(descs(&r, QI_WAIT), 6);
	CHECK_EQ(rd32(r.v, VTD_ICS), 0);

	/* A status address that is not memory: the queue stops at the wait with
	 * IQE, IQEI 2 (the documented choice), and its IF is not carried out. */
	submit(&r, wait_sw(7) | QI_WAIT_IF, NOT_MEMORY);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0xc0);
	CHECK_EQ(rd32(r.v, VTD_FSTS), FSTS_IQE);
	CHECK_EQ(rd64(r.v, VTD_IQERCD), IQEI_FETCH);
	CHECK_EQ(rd32(r.v, VTD_ICS), 0);
	CHECK_EQ(descs(&r, QI_WAIT), 6);
	rig_stop(&r);

	/* PD is reserved without ECAP.PDS. */
	vtd_config_default(&c);
	c.pds = false;
	rig_start(&r, &c, TTM_SCALABLE, true);
	submit(&r, QI_WAIT | QI_WAIT_PD, 0);
	CHECK_EQ(rd32(r.v, VTD_FSTS), FSTS_IQE);
	CHECK_EQ(rd64(r.v, VTD_IQERCD), IQEI_RSVD);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0);
	rig_stop(&r);
}

/* ---- invalid descriptors ------------------------------------------------------------ */

struct bad_case {
	const char *what;
	uint64_t qw[4];
	unsigned iqei;
};

#define DID(d)    ((uint64_t)(d) << 16)
#define PASID(p)  ((uint64_t)(p) << 32)

static const struct bad_case bad_cases[] = {
	/* Types: 0, 10 and above, and any of type[6:4] (bits 11:9) set. */
	{ "type 0", { 0x0 }, IQEI_TYPE },
	{ "type 0xa", { 0xa }, IQEI_TYPE },
	{ "type 0xf", { 0xf }, IQEI_TYPE },
	{ "type 0x205 (bit 9 + wait)", { 0x205 }, IQEI_TYPE },
	{ "type 0x27 (bit 10 + PASID cache 0x37)", { 0x437 }, IQEI_TYPE },
	{ "type 0x71 (bits 11:9 + context 0x11)", { 0xe11 }, IQEI_TYPE },
	{ "type 4 without ECAP.IR", { 0x4 }, IQEI_TYPE },
	/* 0x1 context cache: G 00; reserved 8:6, 15:12, 63:50, qw1-qw3. */
	{ "cc G=00", { 0x01 }, IQEI_RSVD },
	{ "cc bit 6", { 0x11 | BIT(6) }, IQEI_RSVD },
	{ "cc bit 8", { 0x11 | BIT(8) }, IQEI_RSVD },
	{ "cc bit 12", { 0x11 | BIT(12) }, IQEI_RSVD },
	{ "cc bit 15", { 0x11 | BIT(15) }, IQEI_RSVD },
	{ "cc bit 50", { 0x11 | BIT(50) }, IQEI_RSVD },
	{ "cc bit 63", { 0x11 | BIT(63) }, IQEI_RSVD },
	{ "cc qw1", { 0x11, BIT(0) }, IQEI_RSVD },
	{ "cc qw2", { 0x11, 0, BIT(0) }, IQEI_RSVD },
	{ "cc qw3", { 0x11, 0, 0, BIT(63) }, IQEI_RSVD },
	/* 0x2 IOTLB: G 00; reserved 8, 15:12, 63:32, qw1 11:7, qw2-qw3; AM > MAMV. */
	{ "iotlb G=00", { 0x02 }, IQEI_RSVD },
	{ "iotlb bit 8", { 0x12 | BIT(8) }, IQEI_RSVD },
	{ "iotlb bit 12", { 0x12 | BIT(12) }, IQEI_RSVD },
	{ "iotlb bit 32", { 0x12 | BIT(32) }, IQEI_RSVD },
	{ "iotlb bit 63", { 0x12 | BIT(63) }, IQEI_RSVD },
	{ "iotlb qw1 bit 7", { 0x12, BIT(7) }, IQEI_RSVD },
	{ "iotlb qw1 bit 11", { 0x12, BIT(11) }, IQEI_RSVD },
	{ "iotlb qw2", { 0x12, 0, BIT(5) }, IQEI_RSVD },
	{ "iotlb qw3", { 0x12, 0, 0, 1 }, IQEI_RSVD },
	{ "iotlb AM 19 > MAMV 18", { 0x32 | DID(1), 19 }, IQEI_RSVD },
	/* 0x3 device TLB: reserved 8:4, 31:21, 51:48, qw1 11:1. */
	{ "devtlb bit 4", { 0x3 | BIT(4) }, IQEI_RSVD },
	{ "devtlb bit 8", { 0x3 | BIT(8) }, IQEI_RSVD },
	{ "devtlb bit 21", { 0x3 | BIT(21) }, IQEI_RSVD },
	{ "devtlb bit 31", { 0x3 | BIT(31) }, IQEI_RSVD },
	{ "devtlb bit 48", { 0x3 | BIT(48) }, IQEI_RSVD },
	{ "devtlb bit 51", { 0x3 | BIT(51) }, IQEI_RSVD },
	{ "devtlb qw1 bit 1", { 0x3, BIT(1) }, IQEI_RSVD },
	{ "devtlb qw1 bit 11", { 0x3, BIT(11) }, IQEI_RSVD },
	/* 0x5 wait: reserved 8, 31:12, qw1 1:0, qw2-qw3. */
	{ "wait bit 8", { 0x5 | BIT(8) }, IQEI_RSVD },
	{ "wait bit 12", { 0x5 | BIT(12) }, IQEI_RSVD },
	{ "wait bit 31", { 0x5 | BIT(31) }, IQEI_RSVD },
	{ "wait qw1 bit 0", { 0x25, STATUS_PA | 1 }, IQEI_RSVD },
	{ "wait qw1 bit 1", { 0x25, STATUS_PA | 2 }, IQEI_RSVD },
	{ "wait qw2", { 0x5, 0, BIT(63) }, IQEI_RSVD },
	/* 0x6 PASID-based IOTLB: G 00 and 01; reserved 8:6, 15:12, 63:52, qw1
	 * 11:7, qw2-qw3. */
	{ "piotlb G=00", { 0x06 }, IQEI_RSVD },
	{ "piotlb G=01", { 0x16 }, IQEI_RSVD },
	{ "piotlb bit 6", { 0x26 | BIT(6) }, IQEI_RSVD },
	{ "piotlb bit 8", { 0x26 | BIT(8) }, IQEI_RSVD },
	{ "piotlb bit 12", { 0x26 | BIT(12) }, IQEI_RSVD },
	{ "piotlb bit 52", { 0x26 | BIT(52) }, IQEI_RSVD },
	{ "piotlb qw1 bit 7", { 0x36, BIT(7) }, IQEI_RSVD },
	{ "piotlb qw1 bit 11", { 0x36, BIT(11) }, IQEI_RSVD },
	{ "piotlb qw3", { 0x26, 0, 0, BIT(0) }, IQEI_RSVD },
	/* 0x7 PASID cache: G 10; reserved 8:6, 15:12, 63:52, qw1-qw3. */
	{ "pc G=10", { 0x27 }, IQEI_RSVD },
	{ "pc bit 6", { 0x37 | BIT(6) }, IQEI_RSVD },
	{ "pc bit 15", { 0x37 | BIT(15) }, IQEI_RSVD },
	{ "pc bit 52", { 0x37 | BIT(52) }, IQEI_RSVD },
	{ "pc qw1", { 0x37, BIT(63) }, IQEI_RSVD },
	{ "pc qw2", { 0x37, 0, BIT(1) }, IQEI_RSVD },
	/* 0x8 PASID-based device TLB: qw1 10:1. */
	{ "pdevtlb qw1 bit 1", { 0x8, BIT(1) }, IQEI_RSVD },
	{ "pdevtlb qw1 bit 10", { 0x8, BIT(10) }, IQEI_RSVD },
	/* 0x9 page group response: reserved 8:6, 63:52, qw1 1:0 and 63:12; RC
	 * other than 0, 1, 0xf. */
	{ "pgr bit 6", { 0x9 | BIT(6) }, IQEI_RSVD },
	{ "pgr bit 8", { 0x9 | BIT(8) }, IQEI_RSVD },
	{ "pgr bit 52", { 0x9 | BIT(52) }, IQEI_RSVD },
	{ "pgr qw1 bit 0", { 0x9, BIT(0) }, IQEI_RSVD },
	{ "pgr qw1 bit 12", { 0x9, BIT(12) }, IQEI_RSVD },
	{ "pgr RC 2", { 0x9 | 0x2000 }, IQEI_RSVD },
	{ "pgr RC 0xe", { 0x9 | 0xe000 }, IQEI_RSVD },
};

/*
 * A good wait (data 1 to slot 0), the bad descriptor, a good wait (data 2 to
 * slot 1): the queue stops at IQH 0x20 with IQE and the IQEI, the first wait
 * ran and the second did not; then software puts a wait (data 3 to slot 2) in
 * the bad slot and clears IQE: both remaining run.
 */
static void run_bad(const struct vtd_config *c, const char *what, const uint64_t qw[4],
		    unsigned iqei)
{
	struct rig r;

	rig_start(&r, c, TTM_SCALABLE, true);
	put_desc(&r, wait_sw(1), slot(0), 0, 0);
	put_desc(&r, qw[0], qw[1], qw[2], qw[3]);
	put_desc(&r, wait_sw(2), slot(1), 0, 0);
	kick(&r);
	CHECK_MSG(rd64(r.v, VTD_IQH) == 0x20, "%s: IQH 0x%llx", what,
		  (unsigned long long)rd64(r.v, VTD_IQH));
	CHECK_MSG(rd32(r.v, VTD_FSTS) == FSTS_IQE, "%s: FSTS 0x%x", what, rd32(r.v, VTD_FSTS));
	CHECK_MSG(rd64(r.v, VTD_IQERCD) == iqei, "%s: IQERCD 0x%llx, want %u", what,
		  (unsigned long long)rd64(r.v, VTD_IQERCD), iqei);
	CHECK_MSG(get32(slot(0)) == 1 && get32(slot(1)) == 0x11111111, "%s: status", what);
	CHECK_MSG(descs(&r, QI_WAIT) == 1, "%s: waits run", what);
	/* While IQE is set, IQT writes fetch nothing. */
	kick(&r);
	CHECK_MSG(rd64(r.v, VTD_IQH) == 0x20 && get32(slot(1)) == 0x11111111, "%s: stopped", what);

	put64(QUEUE_PA + 0x20, wait_sw(3));
	put64(QUEUE_PA + 0x28, slot(2));
	put64(QUEUE_PA + 0x30, 0);
	put64(QUEUE_PA + 0x38, 0);
	wr32(r.v, VTD_FSTS, FSTS_IQE);
	CHECK_MSG(rd64(r.v, VTD_IQH) == 0x60, "%s: resumed IQH 0x%llx", what,
		  (unsigned long long)rd64(r.v, VTD_IQH));
	CHECK_MSG(get32(slot(2)) == 3 && get32(slot(1)) == 2, "%s: resumed", what);
	CHECK_MSG(rd32(r.v, VTD_FSTS) == 0, "%s: FSTS after", what);
	rig_stop(&r);
}

static void test_invalid_descriptors(void)
{
	struct vtd_config c;

	vtd_config_default(&c);
	for (unsigned i = 0; i < ARRAY_SIZE(bad_cases); i++)
		run_bad(&c, bad_cases[i].what, bad_cases[i].qw, bad_cases[i].iqei);

	/* Page-selective IOTLB invalidation without CAP.PSI. */
	vtd_config_default(&c);
	c.psi = false;
	run_bad(&c, "iotlb G=11 without PSI", (uint64_t[4]){ 0x32 | DID(1) }, IQEI_RSVD);
	/* Device-TLB types without ECAP.DT are invalid types. */
	vtd_config_default(&c);
	c.dt = false;
	run_bad(&c, "devtlb without DT", (uint64_t[4]){ 0x3 }, IQEI_TYPE);
	run_bad(&c, "pdevtlb without DT", (uint64_t[4]){ 0x8 }, IQEI_TYPE);
	/* A smaller MAMV bounds AM: MAMV 3, AM 4. */
	vtd_config_default(&c);
	c.mamv = 3;
	run_bad(&c, "iotlb AM 4 > MAMV 3", (uint64_t[4]){ 0x32 | DID(1), 0x10000 | 4 }, IQEI_RSVD);
}

/* Fields that look like noise but are defined: each descriptor completes. */
static void test_valid_edges(void)
{
	struct rig r;

	rig_default(&r);
	/* IOTLB page-selective at AM = MAMV (18); DW and DR (drain hints) set. */
	submit(&r, 0x32 | QI_IOTLB_DW | QI_IOTLB_DR | DID(5), 0x40000000ull | 18 | QI_ADDR_IH);
	/* Device TLB with PFSID and MIP set; qw2/qw3 of types 3, 8, 9 are not
	 * reserved. SID 0xffff has no endpoint: nothing to do. */
	put_desc(&r, 0x3 | QI_DT_PFSID_LO | QI_DT_MIP | ((uint64_t)0xffff << 32) | QI_DT_PFSID_HI,
		 0x5000, ~0ull, ~0ull);
	/* Type 8 with every qw0 bit outside the type set: MIP 8:4, PFSID,
	 * SID 0xffff, PASID, no reserved bit there. */
	put_desc(&r, 0xfffffffffffff1f8ull, 0x1000 | QI_PDT_G | QI_PDT_S, ~0ull, 0);
	/* Page group response with 3.x PDP (bit 5) and private data, RID with no
	 * endpoint, RC 0xf. */
	put_desc(&r, 0x9 | QI_PGR_PP | QI_PGR_PDP | 0xf000 | ((uint64_t)0xffff << 16),
		 QI_PGR_LPIG | (0x1ffull << 3), 0x1234, 0x5678);
	/* PASID-based IOTLB with AM 63 (MAMV does not bound it) and address bits. */
	put_desc(&r, 0x36 | DID(5) | PASID(0xfffff), ~0ull & ~GENMASK(11, 7), 0, 0);
	/* PASID cache, domain- and PASID-selective. */
	put_desc(&r, 0x07 | DID(5), 0, 0, 0);
	put_desc(&r, 0x17 | DID(5) | PASID(1), 0, 0, 0);
	/* Context cache, device-selective with FM 11. */
	put_desc(&r, 0x31 | DID(5) | ((uint64_t)0x0010 << 32) | ((uint64_t)3 << 48), 0, 0, 0);
	kick(&r);
	CHECK_EQ(rd32(r.v, VTD_FSTS), 0);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0x100);
	CHECK_EQ(descs(&r, QI_IOTLB), 1);
	CHECK_EQ(descs(&r, QI_DEV_TLB), 1);
	CHECK_EQ(descs(&r, QI_PDEV_TLB), 1);
	CHECK_EQ(descs(&r, QI_PGRP_RESP), 1);
	CHECK_EQ(descs(&r, QI_PIOTLB), 1);
	CHECK_EQ(descs(&r, QI_PC), 2);
	CHECK_EQ(descs(&r, QI_CC), 1);
	rig_stop(&r);
}

/* ---- the queue's own errors ------------------------------------------------------------ */

static void expect_queue_error(struct rig *r, uint64_t iqh, unsigned iqei, const char *what)
{
	CHECK_MSG(rd32(r->v, VTD_FSTS) == FSTS_IQE, "%s: FSTS 0x%x", what, rd32(r->v, VTD_FSTS));
	CHECK_MSG(rd64(r->v, VTD_IQERCD) == iqei, "%s: IQEI %llu, want %u", what,
		  (unsigned long long)rd64(r->v, VTD_IQERCD), iqei);
	CHECK_MSG(rd64(r->v, VTD_IQH) == iqh, "%s: IQH 0x%llx", what,
		  (unsigned long long)rd64(r->v, VTD_IQH));
}

static void test_queue_errors(void)
{
	struct vtd_config c;
	struct rig r;

	vtd_config_default(&c);

	/* Tail beyond the 4 KiB queue: IQEI 1, IQH unchanged, nothing run. */
	rig_default(&r);
	put_desc(&r, wait_sw(1), slot(0), 0, 0);
	wr64(r.v, VTD_IQT, QUEUE_BYTES);
	expect_queue_error(&r, 0, IQEI_TAIL, "tail = size");
	CHECK_EQ(get32(slot(0)), 0x11111111);
	/* Software writes a good tail and clears IQE: the wait runs. */
	kick(&r);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0);                /* IQE still set */
	wr32(r.v, VTD_FSTS, FSTS_IQE);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0x20);
	CHECK_EQ(get32(slot(0)), 1);
	CHECK_EQ(rd32(r.v, VTD_FSTS), 0);
	/* Bits above 18 in IQT: an invalid tail too. */
	wr64(r.v, VTD_IQT, BIT(19) | 0x40);
	expect_queue_error(&r, 0x20, IQEI_TAIL, "tail bit 19");
	rig_stop(&r);

	/* Tail with bit 4 set in a 256-bit queue: IQEI 6. */
	rig_default(&r);
	put_desc(&r, wait_sw(1), slot(0), 0, 0);
	wr64(r.v, VTD_IQT, 0x10);
	expect_queue_error(&r, 0, IQEI_TAIL_ALIGN, "tail bit 4");
	CHECK_EQ(get32(slot(0)), 0x11111111);
	rig_stop(&r);

	/* A 128-bit queue in scalable mode: IQEI 5 at the first IQT. */
	rig_start(&r, &c, TTM_SCALABLE, false);
	put64(QUEUE_PA, wait_sw(1));
	put64(QUEUE_PA + 8, slot(0));
	wr64(r.v, VTD_IQT, 0x10);
	expect_queue_error(&r, 0, IQEI_WIDTH, "DW=0 in scalable mode");
	CHECK_EQ(get32(slot(0)), 0x11111111);
	/* Recovery: QI off, IQA with DW = 1, QI on, tail 0x20, clear IQE. */
	gcmd(r.v, GCMD_QIE, false);
	wr64(r.v, VTD_IQA, QUEUE_PA | IQA_DW);
	wr64(r.v, VTD_IQT, 0x20);
	gcmd(r.v, GCMD_QIE, true);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0);                /* IQE still stops it */
	wr32(r.v, VTD_FSTS, FSTS_IQE);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0x20);
	CHECK_EQ(get32(slot(0)), 1);
	rig_stop(&r);

	/* The queue itself is not memory: fetch error, IQEI 2. */
	rig_default(&r);
	gcmd(r.v, GCMD_QIE, false);
	wr64(r.v, VTD_IQA, NOT_MEMORY | IQA_DW);
	gcmd(r.v, GCMD_QIE, true);
	wr64(r.v, VTD_IQT, 0x20);
	expect_queue_error(&r, 0, IQEI_FETCH, "queue not memory");
	CHECK_EQ(descs(&r, QI_WAIT), 0);
	rig_stop(&r);

	/* TTM 10 latched: an invalid TTM, IQEI 7 (VBOX-H). */
	rig_start(&r, &c, 2, true);
	submit(&r, wait_sw(1), slot(0));
	expect_queue_error(&r, 0, IQEI_TTM, "TTM 10");
	CHECK_EQ(get32(slot(0)), 0x11111111);
	/* TTM 11 without ECAP.ADMS likewise. */
	rig_stop(&r);
	rig_start(&r, &c, 3, true);
	submit(&r, wait_sw(1), slot(0));
	expect_queue_error(&r, 0, IQEI_TTM, "TTM 11 without ADMS");
	rig_stop(&r);

	/* Legacy mode latched: 128-bit descriptors are fine and only types 1-5
	 * exist; a PASID-cache descriptor (type 7) is an invalid type there. */
	rig_start(&r, &c, TTM_LEGACY, false);
	put64(QUEUE_PA, wait_sw(1));
	put64(QUEUE_PA + 8, slot(0));
	put64(QUEUE_PA + 0x10, 0x37);
	wr64(r.v, VTD_IQT, 0x20);
	expect_queue_error(&r, 0x10, IQEI_TYPE, "type 7 in legacy mode");
	CHECK_EQ(get32(slot(0)), 1);
	rig_stop(&r);

	/* 128-bit queue before any SRTP: types 6, 7, 8 need 256 bits (QEMU); a
	 * context-cache descriptor is 16 bytes and moves IQH by 0x10. */
	if (mem_fill(mem, QUEUE_PA, 0, QUEUE_BYTES) || mem_fill(mem, STATUS_PA, 0x11, 0x100))
		die("mem_fill");
	for (unsigned type = 6; type <= 8; type++) {
		struct vtd *v = vtd_new(&c, mem);

		if (!v)
			die("vtd_new");
		put64(QUEUE_PA, 0x11);
		put64(QUEUE_PA + 0x10, type == 6 ? 0x26 : type == 7 ? 0x37 : 0x8);
		wr64(v, VTD_IQA, QUEUE_PA);
		gcmd(v, GCMD_QIE, true);
		wr64(v, VTD_IQT, 0x20);
		CHECK_MSG(rd64(v, VTD_IQH) == 0x10 && rd64(v, VTD_IQERCD) == IQEI_TYPE &&
			  rd32(v, VTD_FSTS) == FSTS_IQE, "type %u in a 128-bit queue", type);
		CHECK_EQ(atomic_load(&v->descriptors[QI_CC]), 1);
		vtd_free(v);
	}
}

/* ---- wrap-around and capacity --------------------------------------------------------- */

static void test_wrap_and_capacity(void)
{
	struct rig r;
	bool all;

	/* N - 1: 128 slots written while QI is off and IQT = IQH = 0 means empty:
	 * nothing runs. IQT = 0xfe0 (127 descriptors) runs them all. */
	rig_default(&r);
	gcmd(r.v, GCMD_QIE, false);
	for (unsigned i = 0; i < 128; i++)
		put_desc(&r, wait_sw(i), slot(i), 0, 0);
	CHECK_EQ(r.tail, 0);
	kick(&r);
	gcmd(r.v, GCMD_QIE, true);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0);
	CHECK_EQ(descs(&r, QI_WAIT), 0);
	wr64(r.v, VTD_IQT, 0xfe0);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0xfe0);
	CHECK_EQ(descs(&r, QI_WAIT), 127);
	all = true;
	for (unsigned i = 0; i < 127; i++)
		all &= get32(slot(i)) == i;
	CHECK(all);
	CHECK_EQ(get32(slot(127)), 0x11111111);         /* slot 127 not yet run */

	/* Wrap: the descriptor at 0xfe0 and two from offset 0 run in order. */
	r.tail = 0xfe0;
	put_desc(&r, wait_sw(0xaaaa), slot(200), 0, 0);
	put_desc(&r, wait_sw(0xbbbb), slot(201), 0, 0);
	put_desc(&r, wait_sw(0xcccc), slot(202), 0, 0);
	kick(&r);
	CHECK_EQ(r.tail, 0x40);
	CHECK_EQ(rd64(r.v, VTD_IQH), 0x40);
	CHECK_EQ(get32(slot(200)), 0xaaaa);
	CHECK_EQ(get32(slot(201)), 0xbbbb);
	CHECK_EQ(get32(slot(202)), 0xcccc);
	CHECK_EQ(descs(&r, QI_WAIT), 130);
	CHECK_EQ(rd32(r.v, VTD_FSTS), 0);
	rig_stop(&r);
}

/* ---- cache effects ---------------------------------------------------------------------- */

static void fill_one(struct hwc *c, uint64_t key)
{
	uint64_t tag[HWC_TAG_WORDS] = { key, key, key }, val[HWC_VAL_WORDS] = { 0 };

	if (!hwc_fill(c, hwc_hash(key, key), tag, val, hwc_gen(c)))
		die("hwc_fill");
}

static void fill_all(struct vtd *v)
{
	fill_one(v->cc, 1);
	fill_one(v->pc, 2);
	fill_one(v->iotlb, 3);
	fill_one(v->fspsc, 4);
	fill_one(v->sspsc, 5);
}

/* Valid entries of cc, pc, iotlb, fs-psc, ss-psc as five decimal digits. */
static unsigned cache_digits(struct vtd *v)
{
	return hwc_count_valid(v->cc) * 10000 + hwc_count_valid(v->pc) * 1000 +
	       hwc_count_valid(v->iotlb) * 100 + hwc_count_valid(v->fspsc) * 10 +
	       hwc_count_valid(v->sspsc);
}

/* The global forms, whatever tags the caches use: each empties its caches and
 * leaves the others. */
static void test_global_invalidations(void)
{
	struct rig r;

	rig_default(&r);
	/* Context cache, global (G 01) and domain-selective (G 10, which acts as
	 * global in scalable mode: DID is ignored): only the context cache. */
	fill_all(r.v);
	submit(&r, 0x11, 0);
	CHECK_EQ(cache_digits(r.v), 1111);
	fill_all(r.v);
	submit(&r, 0x21 | DID(77), 0);
	CHECK_EQ(cache_digits(r.v), 1111);
	/* PASID cache, global (G 11): only the PASID cache. */
	fill_all(r.v);
	submit(&r, 0x37, 0);
	CHECK_EQ(cache_digits(r.v), 10111);
	/* IOTLB, global (G 01): the IOTLB and both paging-structure caches. */
	fill_all(r.v);
	submit(&r, 0x12, 0);
	CHECK_EQ(cache_digits(r.v), 11000);
	CHECK_EQ(descs(&r, QI_CC), 2);
	CHECK_EQ(descs(&r, QI_PC), 1);
	CHECK_EQ(descs(&r, QI_IOTLB), 1);
	rig_stop(&r);
}

/* ---- scoped invalidations, observed through real translations --------------------------
 *
 * Hand-built scalable-mode structures (facts §2):
 *   root table 0x10000: bus 0 LP -> context table 0x11000
 *   context entries for devfn 0x10 (00:02.0) and 0x18 (00:03.0): P, PASIDE, PDTS 0,
 *     PASID directory 0x12000, RID_PASID 0
 *   directory entry 0 -> PASID table 0x13000
 *   PASID 0: second stage, AW 2 (4 levels), DID 5, tables at 0x20000
 *   PASID 1: first stage, 4 levels, DID 5, tables at 0x30000
 *   PASID 2: second stage, DID 6, the same tables as PASID 0
 * Second stage: 0x100000 -> 0x500000, 0x101000 -> 0x501000 (R W in every entry).
 * First stage: 0x100000 -> 0x540000, 0x101000 -> 0x541000 (P RW US everywhere).
 */
#define CTX_PA      0x11000ull
#define PDIR_PA     0x12000ull
#define PTBL_PA     0x13000ull
#define SS_PA       0x20000ull
#define FS_PA       0x30000ull
#define RID_A       0x0010
#define RID_B       0x0018

static void build_structures(void)
{
	if (mem_fill(mem, ROOT_PA, 0, 0x4000) || mem_fill(mem, SS_PA, 0, 0x4000) ||
	    mem_fill(mem, FS_PA, 0, 0x4000))
		die("mem_fill");
	put64(ROOT_PA, CTX_PA | 1);
	for (unsigned devfn = 0x10; devfn <= 0x18; devfn += 8)
		put64(CTX_PA + 32 * devfn, PDIR_PA | CE0_PASIDE | CE0_P);
	put64(PDIR_PA, PTBL_PA | PDE_P);
	/* word 0: P | AW 2 (0x8) | PGTT << 6 | SLPTPTR; word 1: DID; word 2: FLPTPTR. */
	put64(PTBL_PA + 64 * 0, SS_PA | (2 << 6) | 0x8 | 1);
	put64(PTBL_PA + 64 * 0 + 8, 5);
	put64(PTBL_PA + 64 * 1, (1 << 6) | 0x8 | 1);
	put64(PTBL_PA + 64 * 1 + 8, 5);
	put64(PTBL_PA + 64 * 1 + 16, FS_PA);
	put64(PTBL_PA + 64 * 2, SS_PA | (2 << 6) | 0x8 | 1);
	put64(PTBL_PA + 64 * 2 + 8, 6);
	/* Both stages index 0x100000 as 0, 0, 0, 0x100 (offset 0x800). */
	put64(SS_PA, (SS_PA + 0x1000) | 3);
	put64(SS_PA + 0x1000, (SS_PA + 0x2000) | 3);
	put64(SS_PA + 0x2000, (SS_PA + 0x3000) | 3);
	put64(SS_PA + 0x3800, 0x500000 | 3);
	put64(SS_PA + 0x3808, 0x501000 | 3);
	put64(FS_PA, (FS_PA + 0x1000) | 7);
	put64(FS_PA + 0x1000, (FS_PA + 0x2000) | 7);
	put64(FS_PA + 0x2000, (FS_PA + 0x3000) | 7);
	put64(FS_PA + 0x3800, 0x540000 | 7);
	put64(FS_PA + 0x3808, 0x541000 | 7);
}

struct probe {
	bool ok;
	uint64_t pa;
	unsigned reason;                /* the fault reason when !ok */
	bool cc, pc, iotlb, sspsc;      /* hit in that cache */
};

static struct probe probe(struct vtd *v, uint16_t rid, int pasid, uint64_t addr)
{
	struct dev_txn t = {
		.rid = rid, .pasid_valid = pasid >= 0, .pasid = pasid >= 0 ? (uint32_t)pasid : 0,
		.at = DEV_AT_UNTRANSLATED, .addr = addr,
	};
	struct vtd_stats a, b;
	struct dev_xlate x;
	struct probe p;

	vtd_get_stats(v, &a);
	vtd_translate(v, &t, &x);
	vtd_get_stats(v, &b);
	p.ok = x.status == DEV_XLATE_OK;
	p.pa = x.pa;
	p.reason = x.fault_reason;
	p.cc = b.cc.hits > a.cc.hits;
	p.pc = b.pc.hits > a.pc.hits;
	p.iotlb = b.iotlb.hits > a.iotlb.hits;
	p.sspsc = b.sspsc.hits > a.sspsc.hits;
	return p;
}

/* The seven translations the tests use, each filling what it needs. */
static void warm(struct vtd *v)
{
	probe(v, RID_A, -1, 0x100000);
	probe(v, RID_A, -1, 0x101000);
	probe(v, RID_A, 1, 0x100000);
	probe(v, RID_A, 1, 0x101000);
	probe(v, RID_A, 2, 0x100000);
	probe(v, RID_B, -1, 0x100000);
	probe(v, RID_B, 2, 0x100000);
}

#define HIT(field, rid, pasid, addr)    CHECK(probe(r.v, rid, pasid, addr).field)
#define MISS(field, rid, pasid, addr)   CHECK(!probe(r.v, rid, pasid, addr).field)

static void test_scoped_invalidations(void)
{
	struct probe p;
	struct rig r;

	rig_default(&r);                /* clears the root table: build after it */
	build_structures();
	gcmd(r.v, GCMD_TE, true);
	p = probe(r.v, RID_A, -1, 0x100000);
	if (!p.ok) {
		printf("SKIP scoped invalidations: the unit does not translate the test tables "
		       "(status %u reason 0x%x)\n", (unsigned)!p.ok, p.reason);
		rig_stop(&r);
		return;
	}
	CHECK_EQ(p.pa, 0x500000);
	CHECK_EQ(probe(r.v, RID_A, 1, 0x100000).pa, 0x540000);
	CHECK_EQ(probe(r.v, RID_A, 2, 0x101000).pa, 0x501000);
	warm(r.v);
	/* Warm: everything hits. */
	p = probe(r.v, RID_A, 1, 0x101000);
	CHECK(p.cc && p.pc && p.iotlb);

	/* Type 1 device-selective, SID 00:02.0, FM 0: that context entry only; the
	 * PASID cache and IOTLB are untouched. */
	submit(&r, 0x31 | DID(5) | (uint64_t)RID_A << 32, 0);
	p = probe(r.v, RID_A, -1, 0x100000);
	CHECK(!p.cc && p.pc && p.iotlb);
	HIT(cc, RID_B, -1, 0x100000);
	/* FM 11 masks SID bits 2:0: 00:02.7 names 00:02.0 too, not 00:03.0. */
	submit(&r, 0x31 | (uint64_t)(RID_A | 7) << 32 | (uint64_t)3 << 48, 0);
	MISS(cc, RID_A, -1, 0x100000);
	HIT(cc, RID_B, -1, 0x100000);
	/* Type 1 domain-selective (DID 99): global in scalable mode. */
	submit(&r, 0x21 | DID(99), 0);
	MISS(cc, RID_A, -1, 0x100000);
	MISS(cc, RID_B, -1, 0x100000);

	/* Type 7 PASID-selective (DID 5, PASID 1): only that PASID's entry. */
	warm(r.v);
	submit(&r, 0x17 | DID(5) | PASID(1), 0);
	p = probe(r.v, RID_A, 1, 0x100000);
	CHECK(p.cc && !p.pc && p.iotlb);
	HIT(pc, RID_A, -1, 0x100000);
	/* ... with the wrong DID (6): nothing. */
	submit(&r, 0x17 | DID(6) | PASID(1), 0);
	HIT(pc, RID_A, 1, 0x100000);
	/* Type 7 domain-selective DID 6: PASID 2 of both devices, not DID 5's. */
	submit(&r, 0x07 | DID(6), 0);
	MISS(pc, RID_A, 2, 0x100000);
	MISS(pc, RID_B, 2, 0x100000);
	HIT(pc, RID_A, -1, 0x100000);
	HIT(pc, RID_A, 1, 0x100000);

	/* Type 2 domain-selective DID 6: PASID 2 only. */
	warm(r.v);
	submit(&r, 0x22 | DID(6), 0);
	p = probe(r.v, RID_A, 2, 0x100000);
	CHECK(p.cc && p.pc && !p.iotlb);
	HIT(iotlb, RID_A, -1, 0x100000);
	HIT(iotlb, RID_A, 1, 0x100000);

	/* Type 2 page-selective DID 5 at 0x100000, AM 0, IH 0: the second-stage
	 * page, not its neighbour; every first-stage entry of DID 5 whatever its
	 * address; DID 6 untouched. The walk of 0x100000 finds no second-stage
	 * paging-structure entry of the range either. */
	warm(r.v);
	submit(&r, 0x32 | DID(5), 0x100000);
	p = probe(r.v, RID_A, -1, 0x100000);
	CHECK(!p.iotlb && !p.sspsc && p.pa == 0x500000);
	HIT(iotlb, RID_A, -1, 0x101000);
	MISS(iotlb, RID_A, 1, 0x100000);
	MISS(iotlb, RID_A, 1, 0x101000);
	HIT(iotlb, RID_A, 2, 0x100000);
	/* With AM 1 the range is 8 KiB: both second-stage pages of DID 5. */
	warm(r.v);
	submit(&r, 0x32 | DID(5), 0x100000 | 1);
	MISS(iotlb, RID_A, -1, 0x100000);
	MISS(iotlb, RID_A, -1, 0x101000);
	HIT(iotlb, RID_A, 2, 0x100000);
	/* IH = 1 still drops the IOTLB entry. */
	warm(r.v);
	submit(&r, 0x32 | DID(5), 0x101000 | QI_ADDR_IH);
	MISS(iotlb, RID_A, -1, 0x101000);
	HIT(iotlb, RID_A, -1, 0x100000);

	/* Type 6 PASID-selective (G 10) of DID 5 PASID 0: second-stage-only entries
	 * are not its business. */
	warm(r.v);
	submit(&r, 0x26 | DID(5) | PASID(0), 0);
	HIT(iotlb, RID_A, -1, 0x100000);
	HIT(iotlb, RID_A, -1, 0x101000);
	/* DID 5 PASID 1 (first stage): both pages; PASID 0 stays. */
	submit(&r, 0x26 | DID(5) | PASID(1), 0);
	MISS(iotlb, RID_A, 1, 0x100000);
	MISS(iotlb, RID_A, 1, 0x101000);
	HIT(iotlb, RID_A, -1, 0x100000);
	/* Page-selective (G 11) at 0x101000: that page only. */
	submit(&r, 0x36 | DID(5) | PASID(1), 0x101000);
	MISS(iotlb, RID_A, 1, 0x101000);
	HIT(iotlb, RID_A, 1, 0x100000);
	/* Wrong DID: nothing. */
	submit(&r, 0x26 | DID(6) | PASID(1), 0);
	HIT(iotlb, RID_A, 1, 0x100000);

	CHECK_EQ(rd32(r.v, VTD_FSTS), 0);
	rig_stop(&r);
}

/* ---- the device-TLB size encoding ------------------------------------------------------ */

static void check_decode(uint64_t addr, bool s, uint64_t base, uint64_t size)
{
	uint64_t b = 1, z = 1;

	vtd_devtlb_decode(addr, s, &b, &z);
	CHECK_MSG(b == base && z == size, "ADDR 0x%llx S %d: base 0x%llx size 0x%llx",
		  (unsigned long long)addr, s, (unsigned long long)b, (unsigned long long)z);
}

static void test_devtlb_decode(void)
{
	/* S = 0: one 4 KiB page; ADDR is bits 63:12 (bits 11:0 are not ADDR). */
	check_decode(0x12345000, false, 0x12345000, 0x1000);
	check_decode(0x12345fff, false, 0x12345000, 0x1000);
	/* S = 1: bit 12 = 0 -> 8 KiB. */
	check_decode(0x12344000, true, 0x12344000, 0x2000);
	/* bit 12 = 1, bit 13 = 0 -> 16 KiB at 0x12344000 (0x5 = 0101). */
	check_decode(0x12345000, true, 0x12344000, 0x4000);
	/* bits 14:12 = 1, bit 15 = 0 (0x7 = 0111) -> 64 KiB at 0x12340000. */
	check_decode(0x12347000, true, 0x12340000, 0x10000);
	/* Linux's 2 MiB at 0x400000: bits 19:12 set (0xff000) -> 0x4ff000; eight
	 * ones then bit 20 = 0 -> 2^(13 + 8) = 2 MiB. */
	check_decode(0x4ff000, true, 0x400000, 0x200000);
	/* bits 46:12 ones, bit 47 = 0 -> 2^48 at 0. */
	check_decode(0x00007ffffffff000ull, true, 0, 1ull << 48);
	/* bits 61:12 ones, bit 62 = 0 -> 2^63 at 0; with bit 63 set, base 2^63. */
	check_decode(0x3ffffffffffff000ull, true, 0, 1ull << 63);
	check_decode(0xbffffffffffff000ull, true, 1ull << 63, 1ull << 63);
	/* bits 62:12 all ones: everything (base 0, size 0), bit 63 either way. */
	check_decode(0x7ffffffffffff000ull, true, 0, 0);
	check_decode(0xfffffffffffff000ull, true, 0, 0);
}

/* ---- device-TLB invalidations and page responses through an endpoint ----------------- */

struct stand_in {
	struct dev_port port;
	struct rig *rig;
	_Atomic bool present;           /* pages "present": ATS answers OK */
	unsigned respond_rc;            /* RC the page_request handler queues */
	struct dev_page_req last_pr;
	unsigned page_requests;
	unsigned translate_delay_ms;    /* >0: translate sleeps, then records a fault */
	_Atomic int in_translate;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Identity translations of 4 KiB pages, standing in for the unit's own
 * translation (xlate.c) so that the endpoint's device TLB holds known entries. */
static void si_translate(void *iommu, const struct dev_txn *t, struct dev_xlate *x)
{
	struct stand_in *si = iommu;

	memset(x, 0, sizeof(*x));
	if (si->translate_delay_ms && t->at == DEV_AT_TRANS_REQ) {
		struct vtd_fault f = { .reason = 0x71, .sid = t->rid, .addr = t->addr };

		atomic_store(&si->in_translate, 1);
		sleep_ms(si->translate_delay_ms);
		/* What the unit's translation does on a fault: takes its lock. */
		vtd_record_fault(si->rig->v, &f);
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

/* The endpoint's page request: software's handler answers it at once through
 * the invalidation queue with a page group response. */
static int si_page_request(void *iommu, const struct dev_page_req *pr)
{
	struct stand_in *si = iommu;
	uint64_t qw0 = QI_PGRP_RESP | FIELD_PREP(QI_PGR_RC, si->respond_rc) |
		       FIELD_PREP(QI_PGR_RID, pr->rid);

	si->last_pr = *pr;
	si->page_requests++;
	if (pr->pasid_valid)
		qw0 |= QI_PGR_PP | FIELD_PREP(QI_PASID, pr->pasid);
	if (si->respond_rc == DEV_PRG_SUCCESS)
		atomic_store(&si->present, true);
	submit(si->rig, qw0, QI_PGR_LPIG | FIELD_PREP(QI_PGR_PRGI, pr->prgi));
	return 0;
}

static uint8_t dma_buf[64];

static int dma(struct dev_ep *ep, bool pasid_valid, uint32_t pasid, uint64_t iova,
	       struct dev_dma_report *rep)
{
	struct dev_dma d = {
		.pasid_valid = pasid_valid, .pasid = pasid, .iova = iova, .buf = dma_buf,
		.len = 8, .use_pri = true, .retry_wait_ns = 5000000000ull,
	};

	return dev_dma(ep, &d, rep);
}

/* Whether a read DMA at iova hit the device TLB (a miss fills it again). */
static bool atc_hit(struct dev_ep *ep, bool pasid_valid, uint32_t pasid, uint64_t iova)
{
	struct dev_dma_report rep;

	if (dma(ep, pasid_valid, pasid, iova, &rep) || rep.status != DEV_DMA_OK)
		return false;
	return rep.atc_hits == 1;
}

static uint64_t atc_dropped(struct dev_ep *ep)
{
	struct dev_ep_stats st;

	dev_ep_get_stats(ep, &st);
	return st.atc_invalidated;
}

static uint64_t dt_desc(uint16_t sid)
{
	return QI_DEV_TLB | (uint64_t)sid << 32;
}

static uint64_t pdt_desc(uint16_t sid, uint32_t pasid)
{
	return QI_PDEV_TLB | (uint64_t)sid << 16 | PASID(pasid);
}

struct racer {
	struct dev_ep *ep;
	int status;
};

static void *race_dma(void *arg)
{
	struct racer *rc = arg;
	struct dev_dma_report rep;

	rc->status = dma(rc->ep, false, 0, DMA_PA + 0x10000, &rep) ? -1 : (int)rep.status;
	return NULL;
}

static void test_endpoint(void)
{
	struct dev_ep_config ec = {
		.rid = EP_RID, .pasid_bits = 20, .ats = true, .atc_entries = 64, .atc_ways = 4,
		.pri = true, .pri_outstanding = 8,
	};
	struct stand_in si = { 0 };
	struct dev_dma_report rep;
	struct dev_ep_stats st;
	struct dev_ep *ep;
	struct racer racer;
	pthread_t thr;
	struct rig r;
	uint64_t before;

	ep = dev_ep_new(&ec, mem);
	if (!ep) {
		printf("SKIP endpoint cases: dev_ep_new is not available (%s)\n", strerror(errno));
		return;
	}
	rig_default(&r);
	si.rig = &r;
	si.port = (struct dev_port){
		.iommu = &si, .translate = si_translate, .page_request = si_page_request,
	};
	CHECK_EQ(vtd_attach(r.v, ep), 0);
	dev_ep_attach(ep, &si.port);            /* the stand-in translates */
	CHECK_EQ(dev_ep_enable_ats(ep, true), 0);
	CHECK_EQ(dev_ep_enable_pasid(ep, true), 0);
	CHECK_EQ(dev_ep_enable_pri(ep, true), 0);
	atomic_store(&si.present, true);

	/* Device TLB: no PASID at DMA_PA + 0..3 pages; PASID 7 at +0, +1; PASID 9
	 * at +0. Each first DMA misses and fills, the second hits. */
	for (unsigned i = 0; i < 4; i++)
		CHECK(!atc_hit(ep, false, 0, DMA_PA + 0x1000 * i));
	CHECK(!atc_hit(ep, true, 7, DMA_PA));
	CHECK(!atc_hit(ep, true, 7, DMA_PA + 0x1000));
	CHECK(!atc_hit(ep, true, 9, DMA_PA));
	CHECK(atc_hit(ep, false, 0, DMA_PA + 0x3000));
	CHECK(atc_hit(ep, true, 9, DMA_PA));

	/* Type 8, PASID 7, S = 0 at DMA_PA: one entry. */
	before = atc_dropped(ep);
	submit(&r, pdt_desc(EP_RID, 7), DMA_PA);
	CHECK_EQ(atc_dropped(ep) - before, 1);
	CHECK(atc_hit(ep, true, 7, DMA_PA + 0x1000));
	CHECK(atc_hit(ep, true, 9, DMA_PA));
	CHECK(atc_hit(ep, false, 0, DMA_PA));
	/* Type 8, G = 1 (every PASID), S = 1 with bits 62:12 all 1 (everything):
	 * PASID 7 +1 and PASID 9 +0; the entries without PASID stay. */
	before = atc_dropped(ep);
	submit(&r, pdt_desc(EP_RID, 9), 0x7ffffffffffff000ull | QI_PDT_S | QI_PDT_G);
	CHECK_EQ(atc_dropped(ep) - before, 2);
	for (unsigned i = 0; i < 4; i++)
		CHECK(atc_hit(ep, false, 0, DMA_PA + 0x1000 * i));
	/* Type 3, S = 1, ADDR DMA_PA + 0x1000: bit 12 set, bit 13 clear -> 16 KiB
	 * at DMA_PA: the four entries without PASID. */
	before = atc_dropped(ep);
	submit(&r, dt_desc(EP_RID), (DMA_PA + 0x1000) | QI_DT_S);
	CHECK_EQ(atc_dropped(ep) - before, 4);
	/* Refill two; type 3, S = 0 at DMA_PA + 0x1000 drops that page only. */
	CHECK(!atc_hit(ep, false, 0, DMA_PA));
	CHECK(!atc_hit(ep, false, 0, DMA_PA + 0x1000));
	before = atc_dropped(ep);
	submit(&r, dt_desc(EP_RID), DMA_PA + 0x1000);
	CHECK_EQ(atc_dropped(ep) - before, 1);
	CHECK(atc_hit(ep, false, 0, DMA_PA));
	/* Another function (no endpoint at 00:02.1): nothing happens. */
	before = atc_dropped(ep);
	submit(&r, dt_desc(EP_RID + 1), 0x7ffffffffffff000ull | QI_DT_S);
	CHECK_EQ(atc_dropped(ep) - before, 0);
	/* Type 3 "everything". */
	submit(&r, dt_desc(EP_RID), 0x7ffffffffffff000ull | QI_DT_S);
	CHECK_EQ(atc_dropped(ep) - before, 1);
	CHECK_EQ(rd32(r.v, VTD_FSTS), 0);
	CHECK_EQ(descs(&r, QI_DEV_TLB), 4);
	CHECK_EQ(descs(&r, QI_PDEV_TLB), 2);

	/* Page group response: the page is absent, the endpoint sends a page
	 * request, the handler queues a response (Success) for its PRGI; the
	 * endpoint retries and the DMA completes. */
	atomic_store(&si.present, false);
	si.respond_rc = DEV_PRG_SUCCESS;
	CHECK_EQ(dma(ep, true, 7, DMA_PA + 0x8000, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_OK);
	CHECK_EQ(rep.page_requests, 1);
	CHECK_EQ(si.page_requests, 1);
	CHECK(si.last_pr.pasid_valid && si.last_pr.pasid == 7);
	dev_ep_get_stats(ep, &st);
	CHECK_EQ(st.prg_responses, 1);
	CHECK_EQ(descs(&r, QI_PGRP_RESP), 1);
	/* Invalid Request (RC 1): the DMA fails; without PASID (PP = 0). */
	atomic_store(&si.present, false);
	si.respond_rc = DEV_PRG_INVALID;
	CHECK_EQ(dma(ep, false, 0, DMA_PA + 0x9000, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_PRI_FAILED);
	CHECK(!si.last_pr.pasid_valid);
	dev_ep_get_stats(ep, &st);
	CHECK_EQ(st.prg_responses, 2);
	CHECK_EQ(descs(&r, QI_PGRP_RESP), 2);
	CHECK_EQ(rd32(r.v, VTD_FSTS), 0);

	/* A device-TLB invalidation while a DMA is inside a translation that
	 * records a fault (takes the unit's lock): the queue must not hold the
	 * lock while the endpoint waits for that DMA. This would hang otherwise. */
	atomic_store(&si.present, true);
	si.translate_delay_ms = 50;
	racer.ep = ep;
	if (pthread_create(&thr, NULL, race_dma, &racer))
		die("pthread_create");
	while (!atomic_load(&si.in_translate))
		sleep_ms(1);
	submit(&r, dt_desc(EP_RID), 0x7ffffffffffff000ull | QI_DT_S);
	pthread_join(thr, NULL);
	si.translate_delay_ms = 0;
	CHECK_EQ(racer.status, DEV_DMA_OK);
	CHECK_EQ(rd64(r.v, VTD_IQH), r.tail);
	CHECK_EQ(atomic_load(&r.v->faults[0x71]), 1);
	CHECK_EQ(descs(&r, QI_DEV_TLB), 5);

	rig_stop(&r);                           /* detaches the endpoint */
	dev_ep_free(ep);
}

/* ---- the page request queue ------------------------------------------------------------ */

static int prq_write(struct vtd *v, const struct dev_page_req *pr)
{
	int ret;

	vtd_lock(v);
	ret = vtd_prq_write_locked(v, pr);
	vtd_unlock(v);
	return ret;
}

static void test_prq(void)
{
	/* Bytes of the first descriptor:
	 * qw0 = type 1 | PP (bit 8) | RID 0x0010 << 16 | PASID 0x12345 << 32 |
	 *       EXE (bit 52) | PRIV (bit 53) = 0x00312345_00100101
	 * qw1 = R (bit 0) | LPIG (bit 2) | PRGI 0x1ab << 3 (0xd58) | ADDR
	 *       0x7f1234567000 = 0x00007f12_34567d5d; qw2 = qw3 = 0. */
	static const uint8_t want[32] = {
		0x01, 0x01, 0x10, 0x00, 0x45, 0x23, 0x31, 0x00,
		0x5d, 0x7d, 0x56, 0x34, 0x12, 0x7f, 0x00, 0x00,
	};
	struct dev_page_req pr = {
		.rid = EP_RID, .pasid_valid = true, .pasid = 0x12345, .priv = true, .exec = true,
		.read = true, .last = true, .prgi = 0x1ab, .addr = 0x7f1234567abcull,
	};
	struct dev_page_req plain = {
		.rid = 0x0011, .priv = true, .exec = true, .read = true, .write = true,
		.prgi = 5, .addr = 0x1000,
	};
	struct vtd_config c;
	struct vtd_stats stats;
	uint8_t got[32];
	struct vtd *v;
	int ret;

	vtd_config_default(&c);
	v = vtd_new(&c, mem);
	if (!v)
		die("vtd_new");
	memset(events, 0, sizeof(events));
	vtd_set_event_cb(v, count_event, NULL);
	if (mem_fill(mem, PRQ_PA, 0xee, 0x1000))
		die("mem_fill");
	/* One page (PQS 0): 128 slots of 32 bytes, 127 usable. */
	wr64(v, VTD_PQH, 0);
	wr64(v, VTD_PQA, PRQ_PA);

	CHECK_EQ(prq_write(v, &pr), 0);
	if (mem_read(mem, PRQ_PA, got, sizeof(got)))
		die("mem_read");
	CHECK(!memcmp(got, want, sizeof(want)));
	for (unsigned i = 0; i < 32; i++)
		CHECK_MSG(got[i] == want[i], "byte %u: 0x%02x, want 0x%02x", i, got[i], want[i]);
	CHECK_EQ(get64(PRQ_PA + 32), 0xeeeeeeeeeeeeeeeeull);   /* next slot untouched */
	CHECK_EQ(rd64(v, VTD_PQT), 0x20);
	CHECK_EQ(rd32(v, VTD_PRS), PRS_PPR);
	/* PECTL.IM = 1: held. Unmasking sends it. */
	CHECK_EQ(rd32(v, VTD_PECTL), 0xc0000000u);
	CHECK_EQ(events[VTD_EVENT_PAGE_REQUEST], 0);
	wr32(v, VTD_PECTL, 0);
	CHECK_EQ(events[VTD_EVENT_PAGE_REQUEST], 1);

	/* Without PASID: no PP, PASID, EXE or PRIV (they ride in the prefix).
	 * qw0 = 1 | RID 0x0011 << 16 = 0x00110001; qw1 = R | W (3) | PRGI 5 << 3
	 * (0x28) | 0x1000 = 0x102b. PPR was set: no new event. */
	CHECK_EQ(prq_write(v, &plain), 0);
	CHECK_EQ(get64(PRQ_PA + 0x20), 0x00110001ull);
	CHECK_EQ(get64(PRQ_PA + 0x28), 0x102bull);
	CHECK_EQ(get64(PRQ_PA + 0x30), 0);
	CHECK_EQ(get64(PRQ_PA + 0x38), 0);
	CHECK_EQ(rd64(v, VTD_PQT), 0x40);
	CHECK_EQ(events[VTD_EVENT_PAGE_REQUEST], 1);
	/* Software clears PPR: the next request is a new event. */
	wr32(v, VTD_PRS, PRS_PPR);
	CHECK_EQ(prq_write(v, &plain), 0);
	CHECK_EQ(events[VTD_EVENT_PAGE_REQUEST], 2);

	/* Fill: 3 written, 124 more make 127, PQT 0xfe0 (one slot short of PQH 0). */
	for (unsigned i = 0; i < 124; i++)
		CHECK_EQ(prq_write(v, &plain), 0);
	CHECK_EQ(rd64(v, VTD_PQT), 0xfe0);
	CHECK_EQ(events[VTD_EVENT_PAGE_REQUEST], 2);
	/* Full: (0xfe0 + 32) mod 4096 = 0 = PQH. PRO, an event, nothing written. */
	ret = prq_write(v, &pr);
	CHECK_EQ(ret, -ENOSPC);
	CHECK_EQ(rd32(v, VTD_PRS), PRS_PPR | PRS_PRO);
	CHECK_EQ(rd64(v, VTD_PQT), 0xfe0);
	CHECK_EQ(get64(PRQ_PA + 0xfe0), 0xeeeeeeeeeeeeeeeeull);
	CHECK_EQ(events[VTD_EVENT_PAGE_REQUEST], 3);
	/* While PRO: dropped, no event, nothing written, even with room made. */
	wr64(v, VTD_PQH, 0x40);
	ret = prq_write(v, &pr);
	CHECK_EQ(ret, -ENOSPC);
	CHECK_EQ(rd64(v, VTD_PQT), 0xfe0);
	CHECK_EQ(get64(PRQ_PA + 0xfe0), 0xeeeeeeeeeeeeeeeeull);
	CHECK_EQ(events[VTD_EVENT_PAGE_REQUEST], 3);

	/* Software consumes everything (PQH = PQT), clears PPR, then PRO (Linux's
	 * order): PECTL.IP had nothing held (IM = 0); the next request is written
	 * at 0xfe0, PQT wraps to 0, and it is a new event. */
	wr64(v, VTD_PQH, 0xfe0);
	wr32(v, VTD_PRS, PRS_PPR);
	wr32(v, VTD_PRS, PRS_PRO);
	CHECK_EQ(rd32(v, VTD_PRS), 0);
	CHECK_EQ(prq_write(v, &pr), 0);
	CHECK_EQ(rd64(v, VTD_PQT), 0);
	if (mem_read(mem, PRQ_PA + 0xfe0, got, sizeof(got)))
		die("mem_read");
	CHECK(!memcmp(got, want, sizeof(want)));
	CHECK_EQ(events[VTD_EVENT_PAGE_REQUEST], 4);
	CHECK_EQ(prq_write(v, &plain), 0);
	CHECK_EQ(rd64(v, VTD_PQT), 0x20);
	CHECK_EQ(get64(PRQ_PA), 0x00110001ull);

	/* PRO with IM = 1 is held in IP; clearing PPR alone leaves it, clearing
	 * PRO too services it. */
	wr32(v, VTD_PECTL, XECTL_IM);
	wr32(v, VTD_PRS, PRS_PPR);
	wr64(v, VTD_PQH, 0x40);                         /* full at PQT 0x20 */
	CHECK_EQ(prq_write(v, &plain), -ENOSPC);
	CHECK_EQ(rd32(v, VTD_PRS), PRS_PRO);
	CHECK_EQ(rd32(v, VTD_PECTL), 0xc0000000u);
	wr32(v, VTD_PRS, PRS_PRO);
	CHECK_EQ(rd32(v, VTD_PECTL), 0x80000000u);
	CHECK_EQ(events[VTD_EVENT_PAGE_REQUEST], 4);

	vtd_get_stats(v, &stats);
	CHECK_EQ(stats.page_requests, 129);
	CHECK_EQ(stats.prq_overflow, 3);

	/* A queue that is not memory: the request is dropped, PQT and PRS stay. */
	wr64(v, VTD_PQA, NOT_MEMORY);
	CHECK_EQ(rd64(v, VTD_PQT), 0);
	wr64(v, VTD_PQH, 0);
	ret = prq_write(v, &plain);
	CHECK(ret < 0 && ret != -ENOSPC);
	CHECK_EQ(rd64(v, VTD_PQT), 0);
	CHECK_EQ(rd32(v, VTD_PRS), 0);
	vtd_free(v);
}

int main(void)
{
	alarm(120);                     /* a deadlock fails the test instead of hanging */
	mem = mem_space_new();
	if (!mem || mem_add_anon(mem, 0, RAM_SIZE, MEM_RW, NULL))
		die("mem space");

	test_wait();
	test_invalid_descriptors();
	test_valid_edges();
	test_queue_errors();
	test_wrap_and_capacity();
	test_global_invalidations();
	test_scoped_invalidations();
	test_devtlb_decode();
	test_endpoint();
	test_prq();

	mem_space_free(mem);
	return check_exit();
}
