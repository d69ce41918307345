/* tests/test_vtd_xlate.c — the VT-d unit's translation path: root, context, PASID
 * directory and PASID table entries written by hand in memory, every PGTT (first
 * stage 4 and 5 levels, second stage 3, 4 and 5 levels, nested, pass-through),
 * requests with and without PASID, the structure faults with their FPD rules,
 * the five caches and every invalidation primitive's scope, A/D, ATS translation
 * and translated requests, page-request checks, the coherence checker, and
 * concurrent translations racing table updates and invalidations.
 *
 * Expected values are worked by hand from docs/facts/vtd-structures.md and
 * vtd-paging.md: each table entry's address is derived from the address bits in
 * a comment where it is written, and each expected output from those entries.
 *
 * Memory: 16 MiB of RAM at 0. Layout used throughout:
 *   0x10000  root table (bus 0: lo -> 0x11000, hi -> 0x12000)
 *   0x11000  context table, devfn 0-127;  0x12000 devfn 128-255
 *   0x13000  PASID directory (PDTS 0: 128 entries, PASIDs < 2^13)
 *   0x14000  PASID table for PASIDs 0-63 (entry p at 0x14000 + p * 64)
 *   0x100000 second stage, 4 levels (PASID 0, DID 1; nested PASID 7)
 *   0x110000 second stage with SLADE (PASID 11)
 *   0x200000 first stage, 4 levels (PASID 5)
 *   0x300000 first stage, 5 levels (PASID 6)
 *   0x400000 second stage, 3 levels (PASID 9)
 *   0x500000 second stage, 5 levels (PASID 10)
 *   0x600000 the nested guest's first-stage tables (GPA 0x1000 -> HPA 0x601000 ...)
 *   0x800000 page request queue
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dev/dev.h"
#include "hw/vtd/vtd_internal.h"
#include "mem/mem.h"
#include "pgtable/vtd_ss.h"
#include "pgtable/x86_fs.h"

#define RAM_SIZE  0x1000000ull
#define ROOT      0x10000ull
#define CTX_LO    0x11000ull
#define CTX_HI    0x12000ull
#define DIR       0x13000ull
#define PT0       0x14000ull
#define PRQ       0x800000ull
#define UNMAPPED  0x2000000ull        /* not memory */

#define DEV_A     0x0010              /* 00:02.0, devfn 0x10 */
#define DEV_B     0x0018              /* 00:03.0, devfn 0x18 */
#define DEV_C     0x0020              /* 00:04.0, devfn 0x20 */
#define DEV_H     0x0081              /* 00:10.1, devfn 0x81: the root entry's hi half */
#define CE_A      (CTX_LO + 0x10 * 32)   /* 0x11200 */
#define CE_B      (CTX_LO + 0x18 * 32)   /* 0x11300 */
#define CE_C      (CTX_LO + 0x20 * 32)   /* 0x11400 */
#define CE_H      (CTX_HI + 0x01 * 32)   /* 0x12020 */
#define PE(p)     (PT0 + (uint64_t)(p) * 64)

#define VA_FS     0x00007f1234567abcull  /* PML4 0xfe, PDPT 0x48, PD 0x1a2, PT 0x167 */
#define IOVA_SS   0x12345678ull          /* SL-PML4 0, SL-PDP 0, SL-PD 0x91, SL-PT 0x145 */

/* Request flags for tx(). */
#define F_W       BIT(0)
#define F_X       BIT(1)
#define F_PRIV    BIT(2)
#define F_ATS     BIT(3)   /* AT = 01, translation request */
#define F_TRANSL  BIT(4)   /* AT = 10, translated */
#define NOPASID   (-1)

static struct mem_space *ms;

static void die(const char *what)
{
	fprintf(stderr, "test_vtd_xlate: setup failed: %s\n", what);
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

/* ---- fault tap ---------------------------------------------------------------------------- */

#define TAP_MAX 64
static pthread_mutex_t tap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vtd_fault tapped[TAP_MAX];
static unsigned ntapped;

static void tap(void *ctx, const struct vtd_fault *f)
{
	(void)ctx;
	pthread_mutex_lock(&tap_lock);
	if (ntapped < TAP_MAX)
		tapped[ntapped] = *f;
	ntapped++;
	pthread_mutex_unlock(&tap_lock);
}

static void tap_reset(void)
{
	ntapped = 0;
}

/* ---- the unit ------------------------------------------------------------------------------ */

/* Sets the latched translation state as SRTP and TE would (tests of states the
 * registers do not produce, and the path before regs.c existed). */
static void set_state(struct vtd *v, uint64_t rta, unsigned ttm, bool te)
{
	vtd_lock(v);
	atomic_store(&v->rta, rta);
	atomic_store(&v->ttm, ttm);
	atomic_store(&v->te, te);
	v->gsts = (v->gsts & ~(GSTS_RTPS | GSTS_TES)) | GSTS_RTPS | (te ? GSTS_TES : 0);
	vtd_unlock(v);
	vtd_inv_all(v);
}

/* As a driver: RTADDR, SRTP (GSTS & 0x96FFFFFF | SRTP), then TE. Falls back to the
 * direct state when the register file does not take the commands. */
static void enable(struct vtd *v, uint64_t rta, unsigned ttm)
{
	uint32_t g;

	vtd_write(v, VTD_RTADDR, 8, rta | FIELD_PREP(RTADDR_TTM, ttm));
	g = (uint32_t)vtd_read(v, VTD_GSTS, 4) & 0x96ffffffu;
	vtd_write(v, VTD_GCMD, 4, g | GCMD_SRTP);
	g = (uint32_t)vtd_read(v, VTD_GSTS, 4) & 0x96ffffffu;
	vtd_write(v, VTD_GCMD, 4, g | GCMD_TE);
	if (!(vtd_read(v, VTD_GSTS, 4) & GSTS_TES))
		set_state(v, rta, ttm, true);
}

static struct vtd *unit(const struct vtd_config *c)
{
	struct vtd_config d;
	struct vtd *v;

	if (!c) {
		vtd_config_default(&d);
		c = &d;
	}
	v = vtd_new(c, ms);
	if (!v)
		die("vtd_new");
	v->xl_fault_tap = tap;
	v->xl_fault_tap_ctx = NULL;
	enable(v, ROOT, TTM_SCALABLE);
	return v;
}

static bool regs_work(struct vtd *v)
{
	return vtd_read(v, VTD_CAP, 8) != 0;
}

/* Clears PFO and every pending fault record (F is RW1C). */
static void clear_records(struct vtd *v)
{
	vtd_write(v, VTD_FSTS, 4, FSTS_RW1C);
	for (unsigned i = 0; i < v->cfg.nfr; i++)
		vtd_write(v, VTD_FRCD_BASE + 16 * i + 8, 8, FRCD_HI_F);
}

/* The high half of the first pending record, or 0 when none is pending. */
static uint64_t pending_record(struct vtd *v, uint64_t *lo)
{
	uint32_t fsts = (uint32_t)vtd_read(v, VTD_FSTS, 4);
	unsigned fri = (unsigned)FIELD_GET(FSTS_FRI, fsts);

	if (!(fsts & FSTS_PPF))
		return 0;
	if (lo)
		*lo = vtd_read(v, VTD_FRCD_BASE + 16 * fri, 8);
	return vtd_read(v, VTD_FRCD_BASE + 16 * fri + 8, 8);
}

static struct dev_xlate tx(struct vtd *v, uint16_t sid, int pasid, unsigned flags, uint64_t addr)
{
	struct dev_txn t = {
		.rid = sid, .pasid_valid = pasid >= 0, .pasid = pasid >= 0 ? (uint32_t)pasid : 0,
		.priv = flags & F_PRIV, .exec = flags & F_X, .write = flags & F_W,
		.at = (flags & F_ATS) ? DEV_AT_TRANS_REQ :
		      (flags & F_TRANSL) ? DEV_AT_TRANSLATED : DEV_AT_UNTRANSLATED,
		.addr = addr,
	};
	struct dev_xlate x;

	memset(&x, 0xa5, sizeof(x));
	vtd_translate(v, &t, &x);
	return x;
}

static const char *perm_str(const struct dev_xlate *x)
{
	static char s[4][4];
	static unsigned n;
	char *p = s[n++ % 4];

	p[0] = x->r ? 'r' : '-';
	p[1] = x->w ? 'w' : '-';
	p[2] = x->x ? 'x' : '-';
	p[3] = 0;
	return p;
}

static void expect_ok(int line, struct dev_xlate x, uint64_t pa, uint64_t size, const char *perm)
{
	CHECK_MSG(x.status == DEV_XLATE_OK && x.pa == pa && x.size == size &&
			  !strcmp(perm_str(&x), perm),
		  "line %d: status %d reason 0x%x pa 0x%" PRIx64 " size 0x%" PRIx64 " perm %s; "
		  "expected pa 0x%" PRIx64 " size 0x%" PRIx64 " perm %s", line, x.status,
		  x.fault_reason, x.pa, x.size, perm_str(&x), pa, size, perm);
}

#define OK(x, pa, size, perm) expect_ok(__LINE__, x, pa, size, perm)

/* A fault answer: status, reason, one tap with that reason and FPD state. */
static void expect_fault(int line, struct dev_xlate x, enum dev_xlate_status st, uint8_t reason,
			 bool fpd)
{
	CHECK_MSG(x.status == st && x.fault_reason == reason,
		  "line %d: status %d reason 0x%x, expected status %d reason 0x%x", line, x.status,
		  x.fault_reason, st, reason);
	CHECK_MSG(ntapped == 1 && tapped[0].reason == reason && tapped[0].fpd == fpd,
		  "line %d: %u faults tapped, first 0x%x fpd %d; expected one 0x%x fpd %d", line,
		  ntapped, ntapped ? tapped[0].reason : 0, ntapped ? tapped[0].fpd : 0, reason, fpd);
}

#define FAULT(x, reason, fpd) expect_fault(__LINE__, x, DEV_XLATE_FAULT, reason, fpd)

/* ---- the standard structures ------------------------------------------------------------ */

static void std_structures(void)
{
	/* Bus 0 root entry: lo LP -> 0x11000, hi UP -> 0x12000. */
	put(ROOT, CTX_LO | 1);
	put(ROOT + 8, CTX_HI | 1);
	/* 00:02.0: P DTE PASIDE PRE (0x1d), PDTS 0, PDTP 0x13000; RID_PASID 0. */
	put(CE_A, DIR | 0x1d);
	put(CE_A + 8, 0);
	/* 00:03.0: P only; RID_PASID 5 with RID_PRIV (bit 20): 0x100005. */
	put(CE_B, DIR | 0x1);
	put(CE_B + 8, 0x100005);
	/* 00:04.0: P DTE PASIDE, no PRE. */
	put(CE_C, DIR | 0xd);
	/* 00:10.1 (hi half, index 1): as 00:02.0. */
	put(CE_H, DIR | 0x1d);
	/* Directory entry 0: P -> PASID table 0x14000. */
	put(DIR, PT0 | 1);

	/* PASID 0: SS only, 4 levels: SLPTPTR 0x100000 | PGTT 2<<6 | AW 2<<2 | P. DID 1. */
	put(PE(0), 0x100089);
	put(PE(0) + 8, 1);
	/* PASID 5 (0x14140): FS only, 4 levels: PGTT 1<<6 | P; DID 2; FLPTPTR 0x200000 | SRE. */
	put(PE(5), 0x41);
	put(PE(5) + 8, 2);
	put(PE(5) + 16, 0x200001);
	/* PASID 6 (0x14180): FS, 5 levels: FLPM 1 (bit 2); DID 3; SRE. */
	put(PE(6), 0x41);
	put(PE(6) + 8, 3);
	put(PE(6) + 16, 0x300005);
	/* PASID 7 (0x141c0): nested, SS 0x100000: 0x100000 | 3<<6 | 2<<2 | 1; DID 4;
	 * FLPTPTR GPA 0x1000 | SRE. */
	put(PE(7), 0x1000c9);
	put(PE(7) + 8, 4);
	put(PE(7) + 16, 0x1001);
	/* PASID 8 (0x14200): pass-through: PGTT 4<<6 | P; DID 5. */
	put(PE(8), 0x101);
	put(PE(8) + 8, 5);
	/* PASID 9 (0x14240): SS, 3 levels: 0x400000 | 2<<6 | 1<<2 | 1; DID 6. */
	put(PE(9), 0x400085);
	put(PE(9) + 8, 6);
	/* PASID 10 (0x14280): SS, 5 levels: 0x500000 | 2<<6 | 3<<2 | 1; DID 7. */
	put(PE(10), 0x50008d);
	put(PE(10) + 8, 7);
	/* PASID 11 (0x142c0): SS 4 levels with SLADE (bit 9): 0x110000 | 0x200 | 0x89; DID 8. */
	put(PE(11), 0x110289);
	put(PE(11) + 8, 8);
	/* PASID 12 (0x14300): as PASID 5 with WPE (bit 4); DID 9. */
	put(PE(12), 0x41);
	put(PE(12) + 8, 9);
	put(PE(12) + 16, 0x200011);
	/* PASID 13 (0x14340): as PASID 5 with NXE (bit 5) and ERE (bit 1); DID 10. */
	put(PE(13), 0x41);
	put(PE(13) + 8, 10);
	put(PE(13) + 16, 0x200023);

	/* Second stage at 0x100000, IOVA 0x12345678. */
	put(0x100000, 0x101003);        /* SL-PML4E 0: R W -> 0x101000 */
	put(0x101000, 0x102003);        /* SL-PDPE 0 -> 0x102000 */
	put(0x102488, 0x103003);        /* SL-PDE 0x91 (0x102000 + 0x91*8) -> 0x103000 */
	put(0x103a28, 0x7654003);       /* SL-PTE 0x145 (0x103000 + 0x145*8): R W -> 0x7654000 */
	put(0x103a30, 0x7655003);       /* SL-PTE 0x146: IOVA 0x12346000 -> 0x7655000 */
	/* (SL-PTE 0x147, IOVA 0x12347000, is zero.) */
	put(0x102008, 0xa00083);        /* SL-PDE 1: PS R W, 2 MiB page 0xa00000 (IOVA 0x200000) */
	put(0x1024c0, 0xfee00083);      /* SL-PDE 0x98 (IOVA 0x13000000): 2 MiB at 0xfee00000 */
	/* GPAs of the nested guest: SL-PDE 0 -> SL-PT 0x104000, GPA[20:12] indexes it. */
	put(0x102000, 0x104003);
	put(0x104008, 0x601003);        /* GPA 0x1000 -> 0x601000 */
	put(0x104010, 0x602003);        /* GPA 0x2000 -> 0x602000 */
	put(0x104018, 0x603003);        /* GPA 0x3000 -> 0x603000 */
	put(0x104020, 0x604003);        /* GPA 0x4000 -> 0x604000 */
	put(0x104028, 0x605002);        /* GPA 0x5000 -> 0x605000, W only: not readable */
	put(0x104040, 0x7658003);       /* GPA 0x8000 -> 0x7658000 */
	/* (GPA 0x6000, SL-PTE 6, is zero.) */

	/* The nested guest's first stage for VA 0x7f1234567abc, A already set. */
	put(0x6017f0, 0x2027);          /* PML4E 0xfe at GPA 0x17f0: P RW US A -> GPA 0x2000 */
	put(0x602240, 0x3027);          /* PDPTE 0x48 at GPA 0x2240 -> GPA 0x3000 */
	put(0x603d10, 0x4027);          /* PDE 0x1a2 at GPA 0x3d10 -> GPA 0x4000 */
	put(0x604b38, 0x8027);          /* PTE 0x167 at GPA 0x4b38: P RW US A -> GPA 0x8000 */
	put(0x6017f8, 0x6027);          /* PML4E 0xff (VA 0x7f8000000000) -> GPA 0x6000: unmapped */
	put(0x6017e8, 0x5027);          /* PML4E 0xfd (VA 0x7e8000000000) -> GPA 0x5000: W only */

	/* First stage at 0x200000 for VA 0x7f1234567abc (x86 4-level indices above). */
	put(0x2007f0, 0x201007);        /* PML4E 0xfe: P RW US -> 0x201000 */
	put(0x201240, 0x202007);        /* PDPTE 0x48 -> 0x202000 */
	put(0x202d10, 0x203007);        /* PDE 0x1a2 -> 0x203000 */
	put(0x203b38, 0x89abc005);      /* PTE 0x167: P US, read-only -> 0x89abc000 */
	put(0x203b40, 0x89abd007);      /* PTE 0x168 (VA +0x1000): P RW US -> 0x89abd000 */
	put(0x203b48, 0x8000000089abe005ull); /* PTE 0x169: XD set: reserved unless NXE */
	/* (PTE 0x160, VA 0x7f1234560000, is zero.) */

	/* First stage, 5 levels, at 0x300000: VA 0xff00000040201abc (canonical for 57
	 * bits): PML5 [56:48] 0x100 -> 0x300800; PML4 [47:39] 0; PDPT [38:30] 1. */
	put(0x300800, 0x301003);        /* PML5E: P RW (supervisor) -> 0x301000 */
	put(0x301000, 0x302003);        /* PML4E 0 -> 0x302000 */
	put(0x302008, 0xc0000083);      /* PDPTE 1: P RW PS: 1 GiB page 0xc0000000 */

	/* Second stage, 3 levels, at 0x400000: IOVA 0x7ffffffabc, every index 0x1ff. */
	put(0x400ff8, 0x401003);        /* SL-PDPE 0x1ff -> 0x401000 */
	put(0x401ff8, 0x402003);        /* SL-PDE 0x1ff -> 0x402000 */
	put(0x402ff8, 0x7777001);       /* SL-PTE 0x1ff: R only -> 0x7777000 */

	/* Second stage, 5 levels, at 0x500000: IOVA 0x0009000000001000: SL-PML5 [56:48]
	 * 9, then 0, 0, 0, SL-PT 1. */
	put(0x500048, 0x501003);        /* SL-PML5E 9 (0x500000 + 9*8) -> 0x501000 */
	put(0x501000, 0x502003);
	put(0x502000, 0x503003);
	put(0x503000, 0x504003);
	put(0x504008, 0x5555003);       /* SL-PTE 1 -> 0x5555000 */

	/* Second stage with SLADE at 0x110000: IOVA 0x1000 (indices 0, 0, 0, 1). */
	put(0x110000, 0x111003);
	put(0x111000, 0x112003);
	put(0x112000, 0x113003);
	put(0x113008, 0x7000003);       /* R W -> 0x7000000 */
}

static void fresh_memory(void)
{
	if (ms)
		mem_space_free(ms);
	ms = mem_space_new();
	if (!ms || mem_add_anon(ms, 0, RAM_SIZE, MEM_RW, NULL))
		die("memory");
	std_structures();
}

static uint64_t stat_walks(struct vtd *v)
{
	struct vtd_stats st;

	vtd_get_stats(v, &st);
	return st.walks;
}

static uint64_t stat_refs(struct vtd *v)
{
	struct vtd_stats st;

	vtd_get_stats(v, &st);
	return st.walk_refs;
}

/* ---- translation through every PGTT ------------------------------------------------------ */

static void test_second_stage(void)
{
	struct vtd_config c;
	struct vtd *v;
	struct dev_xlate x;

	fresh_memory();
	v = unit(NULL);
	tap_reset();

	/* Without PASID: RID_PASID 0 -> PASID 0 (SS 4 levels). SLEE = 0: X with R. */
	x = tx(v, DEV_A, NOPASID, 0, IOVA_SS);
	OK(x, 0x7654678, 0x1000, "rwx");
	CHECK(!x.priv && x.page_base == 0x12345000);
	/* SL-PDE 1 is a 2 MiB leaf: 0x212345 -> 0xa00000 + 0x12345. */
	x = tx(v, DEV_A, NOPASID, F_W, 0x212345);
	OK(x, 0xa12345, 0x200000, "rwx");
	CHECK_EQ(x.page_base, 0x200000);
	/* The same 2 MiB page again, elsewhere in it: an IOTLB hit of the 2M entry. */
	{
		struct vtd_stats a, b;

		vtd_get_stats(v, &a);
		x = tx(v, DEV_A, NOPASID, 0, 0x3ffff8);
		vtd_get_stats(v, &b);
		OK(x, 0xbffff8, 0x200000, "rwx");
		CHECK_EQ(b.iotlb.hits - a.iotlb.hits, 1);
		CHECK_EQ(b.walks, a.walks);
	}
	/* The same page with PASID 0: a request with PASID, same entry, no interrupt-range
	 * rule: IOVA 0x13000010 -> 0xfee00010 is translated normally. */
	x = tx(v, DEV_A, 0, 0, 0x13000010);
	OK(x, 0xfee00010, 0x200000, "rwx");
	CHECK_EQ(ntapped, 0);
	/* Without PASID the output is in the interrupt range: SGN.8 (0x87). */
	x = tx(v, DEV_A, NOPASID, 0, 0x13000010);
	FAULT(x, 0x87, false);
	CHECK(!tapped[0].pasid_present && tapped[0].addr == 0x13000000);
	tap_reset();
	/* SL-PTE 0x147 is zero: SSS.2 (0x79), recorded, no PASID in the record. */
	x = tx(v, DEV_A, NOPASID, 0, 0x12347000);
	FAULT(x, 0x79, false);
	CHECK(!tapped[0].pasid_present && tapped[0].sid == DEV_A && !tapped[0].write &&
	      tapped[0].at == 0);
	tap_reset();

	/* 3 levels (AW 1), with PASID 9: R only -> r-x; a write is SGN.6 (0x85). */
	x = tx(v, DEV_A, 9, 0, 0x7ffffffabc);
	OK(x, 0x7777abc, 0x1000, "r-x");
	x = tx(v, DEV_A, 9, F_W, 0x7ffffffabc);
	FAULT(x, 0x85, false);
	CHECK(tapped[0].pasid_present && tapped[0].pasid == 9 && tapped[0].write);
	tap_reset();
	/* Beyond 39 bits: the walker's width check, SGN.5 (0x84). */
	x = tx(v, DEV_A, 9, 0, 0x8000000000);
	FAULT(x, 0x84, false);
	tap_reset();

	/* 5 levels (AW 3) on a 48-bit unit: IOVA 0x0009000000001000 is above
	 * min(MGAW 48, AGAW 57): SGN.5 before any walk. */
	x = tx(v, DEV_A, 10, 0, 0x0009000000001000ull);
	FAULT(x, 0x84, false);
	tap_reset();
	vtd_free(v);

	/* A 52-bit unit walks it: PML5 index 9 ... SL-PTE 1 -> 0x5555000. */
	vtd_config_default(&c);
	c.haw = 52;
	v = unit(&c);
	x = tx(v, DEV_A, 10, 0, 0x0009000000001000ull);
	OK(x, 0x5555000, 0x1000, "rwx");
	CHECK_EQ(stat_refs(v), 5);
	CHECK_EQ(ntapped, 0);
	vtd_free(v);

	/* SLADE: a read sets A (bit 8) in every entry, the leaf's D (bit 9) waits for a
	 * write. The IOTLB entry from the read is clean: a write hitting it walks again
	 * so that D gets set; the next write hits. */
	v = unit(NULL);
	x = tx(v, DEV_A, 11, 0, 0x1abc);
	OK(x, 0x7000abc, 0x1000, "rwx");
	CHECK_EQ(get(0x110000), 0x111103);
	CHECK_EQ(get(0x111000), 0x112103);
	CHECK_EQ(get(0x112000), 0x113103);
	CHECK_EQ(get(0x113008), 0x7000103);
	CHECK_EQ(stat_walks(v), 1);
	x = tx(v, DEV_A, 11, 0, 0x1000);            /* read: hits */
	CHECK_EQ(stat_walks(v), 1);
	x = tx(v, DEV_A, 11, F_W, 0x1008);          /* write on a clean entry: walks */
	OK(x, 0x7001008 - 0x1000, 0x1000, "rwx");
	CHECK_EQ(stat_walks(v), 2);
	CHECK_EQ(get(0x113008), 0x7000303);
	x = tx(v, DEV_A, 11, F_W, 0x1010);          /* dirty now: hits */
	CHECK_EQ(stat_walks(v), 2);
	CHECK_EQ(ntapped, 0);
	vtd_free(v);
}

static void test_first_stage(void)
{
	struct vtd *v;
	struct dev_xlate x;

	fresh_memory();
	v = unit(NULL);
	tap_reset();

	/* PASID 5, user read: U/S in every entry, R/W 0 in the PTE: r-x (NXE = 0), and
	 * A set in all four entries. */
	x = tx(v, DEV_A, 5, 0, VA_FS);
	OK(x, 0x89abcabc, 0x1000, "r-x");
	CHECK(!x.priv);
	CHECK_EQ(get(0x2007f0), 0x201027);
	CHECK_EQ(get(0x203b38), 0x89abc025);
	/* User write: R/W = 0 -> SGN.6 (0x85); the record carries PASID 5, user. */
	x = tx(v, DEV_A, 5, F_W, VA_FS);
	FAULT(x, 0x85, false);
	CHECK(tapped[0].pasid_present && tapped[0].pasid == 5 && !tapped[0].priv &&
	      tapped[0].write && tapped[0].addr == 0x7f1234567000);
	tap_reset();
	/* Supervisor write (SRE = 1, WPE = 0): allowed on the read-only page; D set. */
	x = tx(v, DEV_A, 5, F_W | F_PRIV, VA_FS);
	OK(x, 0x89abcabc, 0x1000, "rwx");
	CHECK(x.priv);
	CHECK_EQ(get(0x203b38), 0x89abc065);
	/* PASID 12 has WPE: the supervisor write obeys R/W -> 0x85. */
	x = tx(v, DEV_A, 12, F_W | F_PRIV, VA_FS);
	FAULT(x, 0x85, false);
	CHECK(tapped[0].priv);
	tap_reset();
	/* PTE 0x169 has XD: reserved without NXE (PASID 5) -> SFS.3 (0x72); with NXE
	 * (PASID 13) a read is allowed without X, and an execute request is SGN.3. */
	x = tx(v, DEV_A, 5, 0, 0x7f1234569000);
	FAULT(x, 0x72, false);
	tap_reset();
	x = tx(v, DEV_A, 13, 0, 0x7f1234569000);
	OK(x, 0x89abe000, 0x1000, "r--");
	x = tx(v, DEV_A, 13, F_X, 0x7f1234569000);
	FAULT(x, 0x82, false);
	CHECK(tapped[0].exec && !tapped[0].write);
	tap_reset();
	/* Execute request with ERE = 0 (PASID 5): SPT.5 (0x5C); privileged request with
	 * SRE = 0 (PASID 0): SPT.6 (0x5D). */
	x = tx(v, DEV_A, 5, F_X, VA_FS);
	FAULT(x, 0x5c, false);
	tap_reset();
	x = tx(v, DEV_A, 0, F_PRIV, IOVA_SS);
	FAULT(x, 0x5d, false);
	tap_reset();
	/* The PT entry of VA 0x7f1234560000 is zero: SFS.2 (0x71). */
	x = tx(v, DEV_A, 5, 0, 0x7f1234560000);
	FAULT(x, 0x71, false);
	tap_reset();
	/* Bit 47 without sign extension: SGN.1 (0x80). */
	x = tx(v, DEV_A, 5, 0, 0x0000800000000000ull);
	FAULT(x, 0x80, false);
	tap_reset();

	/* 5 levels (PASID 6): a supervisor read of the 1 GiB page at 0xc0000000. */
	x = tx(v, DEV_A, 6, F_PRIV, 0xff00000040201abcull);
	OK(x, 0xc0201abc, 0x40000000, "rwx");
	CHECK_EQ(x.page_base, 0xff00000040000000ull);
	/* A user read: no U/S anywhere -> SGN.2 (0x81). */
	x = tx(v, DEV_A, 6, 0, 0xff00000040201abcull);
	FAULT(x, 0x81, false);
	tap_reset();

	/* Without PASID through RID_PASID 5 with RID_PRIV (00:03.0): supervisor, so the
	 * write to the read-only page is allowed (WPE = 0); the translation is priv. */
	x = tx(v, DEV_B, NOPASID, F_W, VA_FS);
	OK(x, 0x89abcabc, 0x1000, "rwx");
	CHECK(x.priv);
	/* Its fault record carries no PASID and no PRIV (the request had no prefix). */
	x = tx(v, DEV_B, NOPASID, 0, 0x7f1234560000);
	FAULT(x, 0x71, false);
	CHECK(!tapped[0].pasid_present && tapped[0].pasid == 0 && !tapped[0].priv &&
	      tapped[0].sid == DEV_B);
	tap_reset();
	/* The request's own privilege and execute attributes are ignored without PASID. */
	x = tx(v, DEV_A, NOPASID, F_PRIV, IOVA_SS);
	OK(x, 0x7654678, 0x1000, "rwx");
	CHECK(!x.priv);
	vtd_free(v);
}

static void test_nested(void)
{
	struct vtd *v;
	struct dev_xlate x;
	uint64_t refs;

	fresh_memory();
	v = unit(NULL);
	tap_reset();

	/* PASID 7: VA 0x7f1234567abc -> GPA 0x8abc -> HPA 0x7658abc. Without
	 * paging-structure caches each of the 4 first-stage entries needs 4
	 * second-stage reads (FLPTPTR and the table GPAs), the output GPA 4 more:
	 * 4*4 + 4 + 4 = 24 references. */
	{
		struct vtd_config c;
		struct vtd *u;

		vtd_config_default(&c);
		c.fspsc_entries = c.sspsc_entries = 0;
		u = unit(&c);
		x = tx(u, DEV_A, 7, 0, VA_FS);
		OK(x, 0x7658abc, 0x1000, "rwx");
		CHECK_EQ(stat_refs(u), 24);
		vtd_free(u);
	}
	/* With them, cold: GPA 0x1000 (the FS root) takes 4 SS reads and fills the
	 * SS-PSC for [0, 512G), [0, 1G) and [0, 2M); GPAs 0x2000, 0x3000, 0x4000 and
	 * the output 0x8000 lie in [0, 2M): one SL-PTE read each. 4 + 4 FS entries +
	 * 4 = 12 references. */
	x = tx(v, DEV_A, 7, 0, VA_FS);
	OK(x, 0x7658abc, 0x1000, "rwx");
	CHECK_EQ(stat_refs(v), 12);
	/* The same page again: an IOTLB hit, no references. */
	x = tx(v, DEV_A, 7, 0, VA_FS + 0x10);
	OK(x, 0x7658acc, 0x1000, "rwx");
	CHECK_EQ(stat_refs(v), 12);
	/* A write: the IOTLB entry is clean (FS PTE D = 0): walk again; the FS D update
	 * needs stage-2 write permission on GPA 0x4000 (R W): PTE 0x8027 -> 0x8067. With
	 * the paging-structure caches warm the walk starts at the FS PT (FS-PSC, GPA
	 * 0x4000): its GPA 0x4b38 costs one SL-PTE read (SS-PSC [0, 2M)), then the FS
	 * PTE, then the output GPA's SL-PTE: 3 references. */
	refs = stat_refs(v);
	x = tx(v, DEV_A, 7, F_W, VA_FS);
	OK(x, 0x7658abc, 0x1000, "rwx");
	CHECK_EQ(get(0x604b38), 0x8067);
	CHECK_EQ(stat_refs(v) - refs, 3);
	/* First-stage PDPT at GPA 0x6000, which stage 2 does not map: SSS.2 (0x79) while
	 * fetching a first-stage table. */
	x = tx(v, DEV_A, 7, 0, 0x00007f8000000000ull);
	FAULT(x, 0x79, false);
	tap_reset();
	/* First-stage PDPT at GPA 0x5000, mapped write-only: SFS.7 (0x76), the second
	 * stage denies reading a first-stage table. */
	x = tx(v, DEV_A, 7, 0, 0x00007e8000000000ull);
	FAULT(x, 0x76, false);
	tap_reset();
	vtd_free(v);
}

static void test_pass_through(void)
{
	struct vtd *v;
	struct dev_xlate x;

	fresh_memory();
	v = unit(NULL);
	tap_reset();
	/* PASID 8: output = input, 4K, rwx, no walk. */
	x = tx(v, DEV_A, 8, F_W, 0x123456);
	OK(x, 0x123456, 0x1000, "rwx");
	CHECK_EQ(stat_walks(v), 0);
	x = tx(v, DEV_A, 8, 0, 0x123ff0);           /* IOTLB hit */
	OK(x, 0x123ff0, 0x1000, "rwx");
	/* At 2^48 = 2^HAW: SGN.4 (0x83). */
	x = tx(v, DEV_A, 8, 0, BIT(48));
	FAULT(x, 0x83, false);
	tap_reset();
	/* Pass-through is blocked in the interrupt range even with a PASID: 0x87. */
	x = tx(v, DEV_A, 8, F_W, 0xfee00010);
	FAULT(x, 0x87, false);
	tap_reset();
	vtd_free(v);
}

static void fcase(int line, struct vtd *v, uint16_t sid, int pasid, unsigned flags, uint64_t addr,
		  uint8_t reason, bool fpd, bool recorded, unsigned cc, unsigned pc);
#define FC(...) fcase(__LINE__, __VA_ARGS__)

/* TE off: requests pass untranslated. Registers: SRTP latches, TE enables, TE off
 * invalidates every cache; TTM 00 (legacy) gives 0x30 / 0x31. */
static void test_registers_and_modes(void)
{
	struct vtd_config c;
	struct vtd *v;
	struct dev_xlate x;
	uint32_t g;

	fresh_memory();
	vtd_config_default(&c);
	v = vtd_new(&c, ms);
	if (!v)
		die("vtd_new");
	v->xl_fault_tap = tap;
	tap_reset();
	/* Before TE: not remapped. */
	x = tx(v, DEV_A, NOPASID, F_W, 0x12345678);
	OK(x, 0x12345678, 0x1000, "rwx");
	if (regs_work(v)) {
		vtd_write(v, VTD_RTADDR, 8, ROOT | FIELD_PREP(RTADDR_TTM, TTM_SCALABLE));
		g = (uint32_t)vtd_read(v, VTD_GSTS, 4) & 0x96ffffffu;
		vtd_write(v, VTD_GCMD, 4, g | GCMD_SRTP);
		CHECK(vtd_read(v, VTD_GSTS, 4) & GSTS_RTPS);
		g = (uint32_t)vtd_read(v, VTD_GSTS, 4) & 0x96ffffffu;
		vtd_write(v, VTD_GCMD, 4, g | GCMD_TE);
		CHECK(vtd_read(v, VTD_GSTS, 4) & GSTS_TES);
		x = tx(v, DEV_A, NOPASID, 0, IOVA_SS);
		OK(x, 0x7654678, 0x1000, "rwx");
		CHECK(hwc_count_valid(v->iotlb) == 1 && hwc_count_valid(v->cc) == 1);
		/* TE off: every cache is dropped, requests pass again. */
		g = (uint32_t)vtd_read(v, VTD_GSTS, 4) & 0x96ffffffu;
		vtd_write(v, VTD_GCMD, 4, g & ~GCMD_TE);
		CHECK_EQ(hwc_count_valid(v->iotlb) + hwc_count_valid(v->cc) + hwc_count_valid(v->pc) +
			 hwc_count_valid(v->sspsc), 0);
		x = tx(v, DEV_A, NOPASID, 0, IOVA_SS);
		OK(x, IOVA_SS, 0x1000, "rwx");
		/* Legacy TTM through the registers: with PASID 0x31, without 0x30. */
		enable(v, ROOT, TTM_LEGACY);
		x = tx(v, DEV_A, 5, 0, VA_FS);
		FAULT(x, 0x31, false);
		tap_reset();
		x = tx(v, DEV_A, NOPASID, 0, IOVA_SS);
		FAULT(x, 0x30, false);
		tap_reset();
	}
	/* The same states set directly (as SRTP and TE would). */
	set_state(v, ROOT, TTM_SCALABLE, true);
	x = tx(v, DEV_A, NOPASID, 0, IOVA_SS);
	OK(x, 0x7654678, 0x1000, "rwx");
	/* Unqualified, recorded, nothing cached. */
	set_state(v, ROOT, 2, true);                /* TTM 10: reserved */
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x30, false, true, 0, 0);
	set_state(v, ROOT, 3, true);                /* TTM 11 without ADMS */
	FC(v, DEV_A, 5, 0, VA_FS, 0x30, false, true, 0, 0);
	set_state(v, ROOT, TTM_LEGACY, true);
	FC(v, DEV_A, 5, 0, VA_FS, 0x31, false, true, 0, 0);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x30, false, true, 0, 0);
	set_state(v, BIT(48) | ROOT, TTM_SCALABLE, true);   /* root address above HAW */
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x30, false, true, 0, 0);
	/* Root table not in memory: SRT.1 (0x38). */
	set_state(v, UNMAPPED, TTM_SCALABLE, true);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x38, false, true, 0, 0);
	tap_reset();
	set_state(v, ROOT, TTM_SCALABLE, false);
	x = tx(v, DEV_A, 5, F_W | F_PRIV, 0xabc);
	OK(x, 0xabc, 0x1000, "rwx");
	CHECK(x.priv);
	CHECK_EQ(ntapped, 0);
	vtd_free(v);
}

/* ---- structure faults -------------------------------------------------------------------- */

/*
 * One faulting request on empty caches: the answer, the one fault handed to
 * recording (reason, accumulated FPD), whether the register file recorded it
 * (FSTS.PPF and the record's FR and SID), and what the caches hold afterwards (cc
 * context entries, pc PASID entries; never an IOTLB entry).
 */
static void fcase(int line, struct vtd *v, uint16_t sid, int pasid, unsigned flags, uint64_t addr,
		  uint8_t reason, bool fpd, bool recorded, unsigned cc, unsigned pc)
{
	struct dev_xlate x;

	vtd_inv_all(v);
	tap_reset();
	clear_records(v);
	x = tx(v, sid, pasid, flags, addr);
	expect_fault(line, x, (flags & F_ATS) ? DEV_XLATE_UR : DEV_XLATE_FAULT, reason, fpd);
	if (regs_work(v)) {
		uint64_t hi = pending_record(v, NULL);

		CHECK_MSG(recorded ? hi && FIELD_GET(FRCD_HI_FR, hi) == reason &&
					     FIELD_GET(FRCD_HI_SID, hi) == sid
				   : !hi,
			  "line %d: record hi 0x%" PRIx64 ", expected %s", line, hi,
			  recorded ? "a record" : "none (FPD)");
	}
	CHECK_MSG(hwc_count_valid(v->cc) == cc && hwc_count_valid(v->pc) == pc &&
			  hwc_count_valid(v->iotlb) == 0,
		  "line %d: cached cc %u pc %u iotlb %u, expected %u %u 0", line,
		  hwc_count_valid(v->cc), hwc_count_valid(v->pc), hwc_count_valid(v->iotlb), cc, pc);
}

static void test_structure_faults(void)
{
	struct vtd_config c;
	struct vtd *v;
	struct dev_xlate x;
	const uint64_t ce_a = DIR | 0x1d;

	fresh_memory();
	v = unit(NULL);

	/* Root entry (lo half for devfn 0x10): reserved bit 1, pointer bit 48 (HAW),
	 * LP = 0. Unqualified: always recorded, nothing cached. */
	put(ROOT, CTX_LO | 1 | 2);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x3a, false, true, 0, 0);
	put(ROOT, CTX_LO | BIT(48) | 1);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x3a, false, true, 0, 0);
	put(ROOT, CTX_LO);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x39, false, true, 0, 0);
	/* Only the half devfn bit 7 selects is checked: lo not present with a reserved
	 * bit does not matter to 00:10.1 (hi half), which translates. */
	put(ROOT, 0x2);
	vtd_inv_all(v);
	tap_reset();
	x = tx(v, DEV_H, NOPASID, 0, IOVA_SS);
	OK(x, 0x7654678, 0x1000, "rwx");
	CHECK_EQ(ntapped, 0);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x39, false, true, 0, 0);
	put(ROOT, CTX_LO | 1);
	put(ROOT + 8, 0);
	FC(v, DEV_H, NOPASID, 0, IOVA_SS, 0x39, false, true, 0, 0);
	put(ROOT + 8, CTX_HI | 1);
	/* Context table not in memory: SCT.1 (0x40). */
	put(ROOT, UNMAPPED | 1);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x40, false, true, 0, 0);
	put(ROOT, CTX_LO | 1);

	/* Context entry not present (0x41, qualified): FPD read although P = 0; other
	 * fields of a not-present entry are ignored. */
	put(CE_A, 0);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x41, false, true, 0, 0);
	put(CE_A, 0x2);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x41, true, false, 0, 0);
	put(CE_A, DIR | 0x20 | 0x2);                 /* reserved bit 5, but P = 0 */
	FC(v, DEV_A, 5, 0, VA_FS, 0x41, true, false, 0, 0);
	/* Reserved (0x42): bit 5, PDTP bit 48, word 1 bit 21, words 2 and 3. */
	put(CE_A, ce_a | BIT(5));
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x42, false, true, 0, 0);
	put(CE_A, ce_a | BIT(5) | 0x2);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x42, true, false, 0, 0);
	put(CE_A, ce_a | BIT(48));
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x42, false, true, 0, 0);
	put(CE_A, ce_a);
	put(CE_A + 8, BIT(21));
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x42, false, true, 0, 0);
	put(CE_A + 8, 0);
	put(CE_A + 16, 1);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x42, false, true, 0, 0);
	put(CE_A + 16, 0);
	put(CE_A + 24, BIT(63));
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x42, false, true, 0, 0);
	put(CE_A + 24, 0);
	/* Invalid (0x43): RID_PASID 0x2000 is not below 2^(PDTS + 13) = 2^13. */
	put(CE_A + 8, 0x2000);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x43, false, true, 0, 0);
	/* With PDTS 1 it is (2^14): the context is valid and cached; PASID 0x2000 is
	 * directory entry 0x80 at 0x13000 + 0x400, zero: SPD.2 (0x51). */
	put(CE_A, ce_a | 1 << 9);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x51, false, true, 1, 0);
	put(CE_A + 8, 0);
	/* A directory of 2^(3+7) entries (8 KiB) from the top page below 2^48 would end
	 * above 2^HAW: 0x43. With PDTS 0 (1 KiB) it fits, but is not memory: 0x50. */
	put(CE_A, 0xfffffffff000ull | 3 << 9 | 0x1d);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x43, false, true, 0, 0);
	put(CE_A, 0xfffffffff000ull | 0x1d);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x50, false, true, 1, 0);
	put(CE_A, ce_a);

	/* Capability-gated context bits are reserved without the capability. */
	vtd_config_default(&c);
	c.dt = false;
	{
		struct vtd *u = unit(&c);

		FC(u, DEV_A, NOPASID, 0, IOVA_SS, 0x42, false, true, 0, 0);   /* DTE */
		vtd_free(u);
	}
	vtd_config_default(&c);
	c.pasid_bits = 0;
	c.prs = false;
	{
		struct vtd *u = unit(&c);

		put(CE_A, DIR | 0x9);                                           /* PASIDE */
		FC(u, DEV_A, NOPASID, 0, IOVA_SS, 0x42, false, true, 0, 0);
		vtd_free(u);
	}
	vtd_config_default(&c);
	c.prs = false;
	{
		struct vtd *u = unit(&c);

		put(CE_A, DIR | 0x11);                                          /* PRE */
		FC(u, DEV_A, NOPASID, 0, IOVA_SS, 0x42, false, true, 0, 0);
		vtd_free(u);
	}
	put(CE_A, ce_a);
	vtd_config_default(&c);
	c.rps = false;
	c.rprivs = false;
	{
		struct vtd *u = unit(&c);

		put(CE_A + 8, 1);                                               /* RID_PASID */
		FC(u, DEV_A, NOPASID, 0, IOVA_SS, 0x42, false, true, 0, 0);
		put(CE_A + 8, BIT(20));                                         /* RID_PRIV */
		FC(u, DEV_A, NOPASID, 0, IOVA_SS, 0x42, false, true, 0, 0);
		put(CE_A + 8, 0);
		vtd_free(u);
	}

	/* Request checks against a valid (cached) context entry. DTE = 0: SCT.5 (0x44)
	 * for a translation request (answered UR) and a translated request. */
	put(CE_A, DIR | 0x19);
	FC(v, DEV_A, NOPASID, F_ATS, IOVA_SS, 0x44, false, true, 1, 0);
	CHECK(tapped[0].at == 1);
	FC(v, DEV_A, NOPASID, F_TRANSL, IOVA_SS, 0x44, false, true, 1, 0);
	CHECK(tapped[0].at == 2);
	put(CE_A, DIR | 0x19 | 0x2);
	FC(v, DEV_A, 5, F_ATS, VA_FS, 0x44, true, false, 1, 0);
	/* PASIDE = 0 and a request with PASID: SCT.6 (0x45). */
	put(CE_A, DIR | 0x15);
	FC(v, DEV_A, 5, 0, VA_FS, 0x45, false, true, 1, 0);
	put(CE_A, ce_a);
	/* PASID 0x2000 beyond the 2^13 of PDTS 0: SCT.7 (0x46). */
	FC(v, DEV_A, 0x2000, 0, VA_FS, 0x46, false, true, 1, 0);
	put(CE_A, ce_a | 0x2);
	FC(v, DEV_A, 0x2000, 0, VA_FS, 0x46, true, false, 1, 0);
	put(CE_A, ce_a);

	/* PASID directory: not memory (0x50, unqualified even under a context FPD);
	 * not present (0x51, its own FPD read although P = 0, or the context's);
	 * reserved (0x52). */
	put(CE_A, UNMAPPED | 0x1d);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x50, false, true, 1, 0);
	put(CE_A, UNMAPPED | 0x1d | 0x2);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x50, true, true, 1, 0);
	put(CE_A, ce_a);
	put(DIR, 0);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x51, false, true, 1, 0);
	put(DIR, 0x2);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x51, true, false, 1, 0);
	put(DIR, 0);
	put(CE_A, ce_a | 0x2);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x51, true, false, 1, 0);
	put(CE_A, ce_a);
	put(DIR, PT0 | 1 | BIT(2));
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x52, false, true, 1, 0);
	put(DIR, PT0 | 1 | BIT(48));
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x52, false, true, 1, 0);
	/* PASID table not memory: SPT.1 (0x58), recorded under a directory FPD. */
	put(DIR, UNMAPPED | 1);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x58, false, true, 1, 0);
	put(DIR, UNMAPPED | 3);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x58, true, true, 1, 0);
	put(DIR, PT0 | 1);

	/* PASID entry not present (0x59): each FPD of the chain suppresses it; a
	 * not-present entry's reserved bits do not matter. */
	put(PE(0), 0);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x59, false, true, 1, 0);
	put(PE(0), 0x2);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x59, true, false, 1, 0);
	put(PE(0), 0x400);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x59, false, true, 1, 0);
	put(PE(0), 0);
	put(DIR, PT0 | 3);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x59, true, false, 1, 0);
	put(DIR, PT0 | 1);
	put(CE_A, ce_a | 2);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x59, true, false, 1, 0);
	put(CE_A, ce_a);
	put(PE(0), 0x100089);

	/* Reserved (0x5A): word 0 bits 11:10 and SLPTPTR above HAW, word 1 bits 22:16
	 * and the memory-type fields (no ECAP.MTS), word 2 bits 11:8 and FLPTPTR above
	 * HAW, words 3-7. */
	{
		static const struct { unsigned word; uint64_t bit; } rsvd[] = {
			{ 0, BIT(10) }, { 0, BIT(11) }, { 0, BIT(48) }, { 1, BIT(16) },
			{ 1, BIT(22) }, { 1, BIT(25) }, { 1, BIT(32) }, { 2, BIT(8) },
			{ 2, BIT(11) }, { 2, BIT(48) }, { 3, 1 }, { 5, BIT(40) }, { 7, BIT(63) },
		};

		for (size_t i = 0; i < ARRAY_SIZE(rsvd); i++) {
			uint64_t pa = PE(0) + 8 * rsvd[i].word, old = get(pa);

			put(pa, old | rsvd[i].bit);
			FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x5a, false, true, 1, 0);
			put(pa, old);
		}
	}
	put(PE(0), 0x100089 | BIT(10) | 2);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x5a, true, false, 1, 0);
	/* Reserved before invalid: PGTT 0 and a reserved bit gives 0x5A. */
	put(PE(0), 0x100009 | BIT(10));
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x5a, false, true, 1, 0);
	/* Invalid (0x5B): PGTT 000, 101, 111; AW 0 and 4 for second-stage. */
	put(PE(0), 0x100009);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x5b, false, true, 1, 0);
	put(PE(0), 0x100149);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x5b, false, true, 1, 0);
	put(PE(0), 0x1001c9);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x5b, false, true, 1, 0);
	put(PE(0), 0x100081);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x5b, false, true, 1, 0);
	put(PE(0), 0x100091);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x5b, false, true, 1, 0);
	put(PE(0), 0x100091 | 2);
	FC(v, DEV_A, NOPASID, 0, IOVA_SS, 0x5b, true, false, 1, 0);
	put(PE(0), 0x100089);
	/* FLPM 10 and 11 are reserved values: invalid. */
	put(PE(5) + 16, 0x200009);
	FC(v, DEV_A, 5, 0, VA_FS, 0x5b, false, true, 1, 0);
	put(PE(5) + 16, 0x20000d);
	FC(v, DEV_A, 5, 0, VA_FS, 0x5b, false, true, 1, 0);
	put(PE(5) + 16, 0x200001);
	/* Capability-gated PASID-entry fields are fine with the capability... */
	put(PE(0) + 8, 1 | BIT(23) | BIT(24));      /* PWSNP, PGSNP */
	put(PE(5) + 16, 0x200001 | BIT(7));          /* EAFE */
	vtd_inv_all(v);
	tap_reset();
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7654678, 0x1000, "rwx");
	OK(tx(v, DEV_A, 5, 0, VA_FS), 0x89abcabc, 0x1000, "r-x");
	CHECK_EQ(ntapped, 0);
	/* ... and reserved without it. */
	{
		static const struct { int pasid; unsigned what; } gated[] = {
			{ 0, 0 }, { 0, 1 }, { 11, 2 }, { 5, 3 }, { 13, 4 }, { 5, 5 },
		};

		for (size_t i = 0; i < ARRAY_SIZE(gated); i++) {
			struct vtd *u;

			vtd_config_default(&c);
			switch (gated[i].what) {
			case 0: c.smpwcs = false; break;        /* PWSNP */
			case 1: c.sc = false; break;            /* PGSNP */
			case 2: c.slads = false; break;         /* SLADE (PASID 11) */
			case 3: c.srs = false; break;           /* SRE (PASID 5) */
			case 4: c.ers = false; break;           /* ERE (PASID 13) */
			default: c.eafs = false; break;         /* EAFE (PASID 5) */
			}
			u = unit(&c);
			FC(u, DEV_A, gated[i].pasid, 0, gated[i].pasid == 0 ? IOVA_SS : VA_FS, 0x5a,
			   false, true, 1, 0);
			vtd_free(u);
		}
	}
	put(PE(0) + 8, 1);
	put(PE(5) + 16, 0x200001);
	/* Invalid for this unit: a PGTT without its capability, AW not in SAGAW, FLPM
	 * 5-level without FL5LP. */
	{
		static const struct { int pasid; unsigned what; } inval[] = {
			{ 10, 0 }, { 6, 1 }, { 7, 2 }, { 8, 3 }, { 5, 4 }, { 0, 5 },
		};

		for (size_t i = 0; i < ARRAY_SIZE(inval); i++) {
			struct vtd *u;
			int p = inval[i].pasid;

			vtd_config_default(&c);
			switch (inval[i].what) {
			case 0: c.sagaw = BIT(1) | BIT(2); break;         /* AW 3 (PASID 10) */
			case 1: c.fl5lp = false; break;                   /* FLPM 1 (PASID 6) */
			case 2: c.nest = false; break;                    /* nested (PASID 7) */
			case 3: c.pt = false; break;                      /* pass-through */
			case 4: c.flts = false; c.nest = false; break;    /* first stage */
			default: c.slts = false; c.nest = false; break;   /* second stage */
			}
			u = unit(&c);
			FC(u, DEV_A, p, p == 6 ? F_PRIV : 0,
			   p == 6 ? 0xff00000040201abcull : p == 10 ? 0x1000 : p == 0 || p == 8 ? IOVA_SS
										  : VA_FS,
			   0x5b, false, true, 1, 0);
			vtd_free(u);
		}
	}

	/* ERE / SRE (0x5C / 0x5D): the PASID entry is valid and stays cached; its FPD
	 * suppresses the fault. */
	FC(v, DEV_A, 5, F_X, VA_FS, 0x5c, false, true, 1, 1);
	put(PE(5), 0x43);
	FC(v, DEV_A, 5, F_X, VA_FS, 0x5c, true, false, 1, 1);
	put(PE(5), 0x41);
	FC(v, DEV_A, 0, F_PRIV, IOVA_SS, 0x5d, false, true, 1, 1);
	put(DIR, PT0 | 3);
	FC(v, DEV_A, 0, F_PRIV, IOVA_SS, 0x5d, true, false, 1, 1);
	put(DIR, PT0 | 1);

	/* A walk fault (SSS.2) is qualified by the FPD of every level. */
	FC(v, DEV_A, NOPASID, 0, 0x12347000, 0x79, false, true, 1, 1);
	put(PE(0), 0x100089 | 2);
	FC(v, DEV_A, NOPASID, 0, 0x12347000, 0x79, true, false, 1, 1);
	put(PE(0), 0x100089);
	put(DIR, PT0 | 3);
	FC(v, DEV_A, NOPASID, 0, 0x12347000, 0x79, true, false, 1, 1);
	put(DIR, PT0 | 1);
	put(CE_A, ce_a | 2);
	FC(v, DEV_A, NOPASID, 0, 0x12347000, 0x79, true, false, 1, 1);
	put(CE_A, ce_a);

	/* The record's fields as the register file holds them: a user write with PASID
	 * 5 to the read-only page, SGN.6. */
	if (regs_work(v)) {
		uint64_t lo = 0, hi;

		vtd_inv_all(v);
		clear_records(v);
		tap_reset();
		tx(v, DEV_A, 5, F_W, VA_FS);
		hi = pending_record(v, &lo);
		CHECK_EQ(lo, 0x7f1234567000);
		/* SID 0x10, T2 = 0, T1 = 0 (write), PRIV 0, EXE 0, PP, FR 0x85, PV 5, AT 0. */
		CHECK_EQ(hi, FRCD_HI_F | FIELD_PREP(FRCD_HI_PV, 5) | FIELD_PREP(FRCD_HI_FR, 0x85) |
				     FRCD_HI_PP | 0x10);
		clear_records(v);
	}
	vtd_free(v);
}

/* ---- caches ------------------------------------------------------------------------------ */

static void test_caches(void)
{
	struct vtd_stats st;
	struct vtd *v;
	struct dev_xlate x;

	fresh_memory();
	v = unit(NULL);
	tap_reset();
	/* Cold: one miss in each cache consulted; the walk fills the SS-PSC with the
	 * three tables below the root (PDPT, PD, PT) and reads 4 entries. */
	x = tx(v, DEV_A, NOPASID, 0, IOVA_SS);
	OK(x, 0x7654678, 0x1000, "rwx");
	vtd_get_stats(v, &st);
	CHECK(st.cc.misses == 1 && st.cc.hits == 0 && st.cc.fills == 1);
	CHECK(st.pc.misses == 1 && st.pc.hits == 0 && st.pc.fills == 1);
	CHECK(st.iotlb.misses == 1 && st.iotlb.hits == 0 && st.iotlb.fills == 1);
	CHECK(st.sspsc.misses == 1 && st.sspsc.hits == 0 && st.sspsc.fills == 3);
	CHECK(st.fspsc.misses == 0 && st.fspsc.hits == 0);
	CHECK(st.walks == 1 && st.walk_refs == 4 && st.translations == 1);
	/* Warm: hits everywhere, no walk. */
	x = tx(v, DEV_A, NOPASID, F_W, IOVA_SS + 8);
	OK(x, 0x7654680, 0x1000, "rwx");
	vtd_get_stats(v, &st);
	CHECK(st.cc.hits == 1 && st.pc.hits == 1 && st.iotlb.hits == 1 && st.walks == 1);
	/* The next page: IOTLB miss, the SS-PSC gives the SL-PT: one reference. */
	x = tx(v, DEV_A, NOPASID, 0, 0x12346000);
	OK(x, 0x7655000, 0x1000, "rwx");
	vtd_get_stats(v, &st);
	CHECK(st.iotlb.misses == 2 && st.sspsc.hits == 1 && st.walks == 2 && st.walk_refs == 5);
	/* PASID 5: a new PASID-cache entry, the FS-PSC fills three tables. */
	x = tx(v, DEV_A, 5, 0, VA_FS);
	OK(x, 0x89abcabc, 0x1000, "r-x");
	vtd_get_stats(v, &st);
	CHECK(st.cc.hits == 3 && st.pc.misses == 2 && st.fspsc.misses == 1 && st.fspsc.fills == 3);
	CHECK(st.walk_refs == 9 && st.translations == 4);
	CHECK_EQ(hwc_count_valid(v->cc), 1);
	CHECK_EQ(hwc_count_valid(v->pc), 2);
	CHECK_EQ(hwc_count_valid(v->iotlb), 3);
	CHECK_EQ(hwc_count_valid(v->sspsc), 3);
	CHECK_EQ(hwc_count_valid(v->fspsc), 3);
	/* A user entry does not serve a supervisor request (FS privilege in the tag). */
	x = tx(v, DEV_A, 5, F_PRIV, VA_FS);
	OK(x, 0x89abcabc, 0x1000, "rwx");
	CHECK_EQ(hwc_count_valid(v->iotlb), 4);
	/* An entry that does not permit the access is not trusted: the user write walks
	 * and faults from memory. */
	x = tx(v, DEV_A, 5, F_W, VA_FS);
	FAULT(x, 0x85, false);
	tap_reset();
	vtd_get_stats(v, &st);
	CHECK_EQ(st.walks, 5);
	CHECK_EQ(st.faults[0x85], 1);
	vtd_free(v);
}

/* The IOTLB entries of the scope test, E1..E9 (bit i of a mask = E(i+1)). */
static const struct ent {
	int pasid;
	uint64_t addr;
} ents[9] = {
	{ NOPASID, 0x12345678 },  /* E1: SS, DID 1, PASID 0 (RID_PASID) */
	{ NOPASID, 0x12346000 },  /* E2: SS, DID 1 */
	{ 5, VA_FS },             /* E3: FS, DID 1, PASID 5 */
	{ 5, VA_FS + 0x1000 },    /* E4: FS, DID 1, PASID 5 */
	{ 7, VA_FS },             /* E5: nested, DID 1, PASID 7 */
	{ 8, 0x123456 },          /* E6: pass-through, DID 1, PASID 8 */
	{ 8, 0x12345678 },        /* E7: pass-through, DID 1, PASID 8 */
	{ 9, 0x7ffffffabc },      /* E8: SS 3 levels, DID 2, PASID 9 */
	{ 13, VA_FS },            /* E9: FS, DID 2, PASID 13 */
};

static void fill_all(struct vtd *v)
{
	vtd_inv_all(v);
	for (unsigned i = 0; i < 9; i++) {
		struct dev_xlate x = tx(v, DEV_A, ents[i].pasid, 0, ents[i].addr);

		CHECK_MSG(x.status == DEV_XLATE_OK, "E%u: status %d reason 0x%x", i + 1, x.status,
			  x.fault_reason);
	}
	/* SS-PSC: DID 1 [0,2^39) [0,2^30) [0x12200000,+2M) from E1, [0,2M) from E5's
	 * GPAs; DID 2 (3 levels) [0x7fc0000000,+1G) [0x7fffe00000,+2M). FS-PSC: three
	 * tables each for E3 (E4 shares them), E5 and E9. */
	CHECK(hwc_count_valid(v->iotlb) == 9 && hwc_count_valid(v->sspsc) == 6 &&
	      hwc_count_valid(v->fspsc) == 9);
}

/* Which of E1..E9 are still in the IOTLB (each probed once: a miss refills it). */
static unsigned present(struct vtd *v)
{
	unsigned mask = 0;

	for (unsigned i = 0; i < 9; i++) {
		struct vtd_stats a, b;

		vtd_get_stats(v, &a);
		tx(v, DEV_A, ents[i].pasid, 0, ents[i].addr);
		vtd_get_stats(v, &b);
		if (b.iotlb.hits != a.iotlb.hits)
			mask |= 1u << i;
	}
	return mask;
}

static void scope(int line, struct vtd *v, unsigned n, unsigned ret, unsigned keep, unsigned ss,
		  unsigned fs)
{
	unsigned got_ss = hwc_count_valid(v->sspsc), got_fs = hwc_count_valid(v->fspsc);
	unsigned got = present(v);

	CHECK_MSG(n == ret && got == keep && got_ss == ss && got_fs == fs,
		  "line %d: returned %u kept 0x%x ss-psc %u fs-psc %u; expected %u 0x%x %u %u",
		  line, n, got, got_ss, got_fs, ret, keep, ss, fs);
}

#define SCOPE(v, n, ret, keep, ss, fs) scope(__LINE__, v, n, ret, keep, ss, fs)

static void test_invalidation_scope(void)
{
	struct vtd *v;
	unsigned n;

	fresh_memory();
	/* PASIDs 5 (FS), 7 (nested), 8 (pass-through) share DID 1 with PASID 0 (SS);
	 * PASIDs 9 (SS) and 13 (FS) are DID 2. */
	put(PE(5) + 8, 1);
	put(PE(7) + 8, 1);
	put(PE(8) + 8, 1);
	put(PE(9) + 8, 2);
	put(PE(13) + 8, 2);
	v = unit(NULL);
	tap_reset();

	/* Type 2, page-selective, DID 1, [0x12345000, +4K): the SS entry E1 and the
	 * pass-through E7 in the range, every FS and nested entry of DID 1 (E3 E4 E5);
	 * without IH the SS-PSC entries of DID 1 covering the page (3 of 4) and every
	 * FS-PSC entry of DID 1 (6). */
	fill_all(v);
	n = vtd_inv_iotlb(v, VTD_IOTLB_PAGE, 1, 0x12345000, 0, false);
	SCOPE(v, n, 5 + 3 + 6, 0x1a2, 3, 3);
	/* With IH the paging-structure caches stay. */
	fill_all(v);
	n = vtd_inv_iotlb(v, VTD_IOTLB_PAGE, 1, 0x12345000, 0, true);
	SCOPE(v, n, 5, 0x1a2, 6, 9);
	/* AM 2: [0x12344000, 0x12348000) also holds E2. */
	fill_all(v);
	n = vtd_inv_iotlb(v, VTD_IOTLB_PAGE, 1, 0x12344000, 2, false);
	SCOPE(v, n, 6 + 3 + 6, 0x1a0, 3, 3);
	/* DID 2, the page of E8: E8, and E9 (FS of DID 2); SS-PSC of DID 2 covering
	 * 0x7ffffff000 (both), FS-PSC of DID 2 (3). */
	fill_all(v);
	n = vtd_inv_iotlb(v, VTD_IOTLB_PAGE, 2, 0x7ffffff000, 0, false);
	SCOPE(v, n, 2 + 2 + 3, 0x07f, 4, 6);
	/* Domain: everything of DID 1, of every kind and PASID. */
	fill_all(v);
	n = vtd_inv_iotlb(v, VTD_IOTLB_DOMAIN, 1, 0, 0, false);
	SCOPE(v, n, 7 + 4 + 6, 0x180, 2, 3);
	/* Global. */
	fill_all(v);
	n = vtd_inv_iotlb(v, VTD_IOTLB_GLOBAL, 0, 0, 0, false);
	SCOPE(v, n, 9 + 6 + 9, 0, 0, 0);
	CHECK(hwc_count_valid(v->cc) == 1 && hwc_count_valid(v->pc) == 6);

	/* Type 6, all of (DID 1, PASID 5): E3 E4 and PASID 5's FS-PSC; nothing else. */
	fill_all(v);
	n = vtd_inv_piotlb(v, false, 1, 5, 0, 0, false);
	SCOPE(v, n, 2 + 3, 0x1f3, 6, 6);
	/* Page-selective in PASID 5: E3 only; the FS-PSC entries covering it unless IH. */
	fill_all(v);
	n = vtd_inv_piotlb(v, true, 1, 5, 0x7f1234567000, 0, false);
	SCOPE(v, n, 1 + 3, 0x1fb, 6, 6);
	fill_all(v);
	n = vtd_inv_piotlb(v, true, 1, 5, 0x7f1234567000, 0, true);
	SCOPE(v, n, 1, 0x1fb, 6, 9);
	fill_all(v);
	n = vtd_inv_piotlb(v, true, 1, 5, 0x1000, 0, false);
	SCOPE(v, n, 0, 0x1ff, 6, 9);
	/* Never second-stage-only entries: PASID 0 of DID 1 keeps E1 E2. */
	fill_all(v);
	n = vtd_inv_piotlb(v, false, 1, 0, 0, 0, false);
	SCOPE(v, n, 0, 0x1ff, 6, 9);
	/* Pass-through (E6 E7) and nested (E5 and its FS-PSC) entries are its. */
	fill_all(v);
	n = vtd_inv_piotlb(v, false, 1, 8, 0, 0, false);
	SCOPE(v, n, 2, 0x19f, 6, 9);
	fill_all(v);
	n = vtd_inv_piotlb(v, false, 1, 7, 0, 0, false);
	SCOPE(v, n, 1 + 3, 0x1ef, 6, 6);
	/* DID and PASID must both match. */
	fill_all(v);
	n = vtd_inv_piotlb(v, false, 2, 5, 0, 0, false);
	SCOPE(v, n, 0, 0x1ff, 6, 9);

	/* PASID cache: 6 entries for 00:02.0 (PASIDs 0, 5, 7, 8 in DID 1; 9, 13 in
	 * DID 2). Domain- and PASID-selective match the cached entry's DID. */
	fill_all(v);
	CHECK_EQ(hwc_count_valid(v->pc), 6);
	CHECK_EQ(vtd_inv_pasid_cache(v, VTD_PC_PASID, 2, 5), 0);
	CHECK_EQ(vtd_inv_pasid_cache(v, VTD_PC_PASID, 1, 9), 0);
	CHECK_EQ(vtd_inv_pasid_cache(v, VTD_PC_PASID, 1, 5), 1);
	CHECK_EQ(vtd_inv_pasid_cache(v, VTD_PC_DOMAIN, 2, 0), 2);
	CHECK_EQ(vtd_inv_pasid_cache(v, VTD_PC_DOMAIN, 1, 0), 3);
	CHECK_EQ(hwc_count_valid(v->iotlb), 9);      /* the IOTLB is another cache */
	fill_all(v);
	CHECK_EQ(vtd_inv_pasid_cache(v, VTD_PC_GLOBAL, 0, 0), 6);
	CHECK(hwc_count_valid(v->cc) == 1 && hwc_count_valid(v->iotlb) == 9);
	vtd_free(v);

	/* Context cache: SIDs 00:02.0-00:02.2, 00:02.4, 00:02.6 and 00:03.0. FM masks
	 * function bits: 01 bit 2, 10 bits 2:1, 11 bits 2:0. */
	v = unit(NULL);
	{
		static const uint16_t sids[] = { 0x10, 0x11, 0x12, 0x14, 0x16, 0x18 };
		static const struct { unsigned fm; uint16_t sid; unsigned n, keep; } cc[] = {
			{ 0, 0x10, 1, 0x3e }, { 1, 0x10, 2, 0x36 }, { 2, 0x10, 4, 0x22 },
			{ 3, 0x10, 5, 0x20 }, { 0, 0x18, 1, 0x1f }, { 3, 0x14, 5, 0x20 },
			{ 1, 0x12, 2, 0x2b },
		};

		for (unsigned i = 1; i < 5; i++) {
			put(CTX_LO + sids[i] * 32, DIR | 0x1d);
			put(CTX_LO + sids[i] * 32 + 8, 0);
		}
		for (unsigned k = 0; k <= ARRAY_SIZE(cc); k++) {
			unsigned got, keep = 0, want_n = k < ARRAY_SIZE(cc) ? cc[k].n : 6;

			vtd_inv_all(v);
			for (unsigned i = 0; i < 6; i++)
				tx(v, sids[i], NOPASID, 0, i == 5 ? VA_FS : IOVA_SS);
			CHECK_EQ(hwc_count_valid(v->cc), 6);
			got = k < ARRAY_SIZE(cc) ? vtd_inv_context(v, false, cc[k].sid, cc[k].fm)
						 : vtd_inv_context(v, true, 0, 0);
			for (unsigned i = 0; i < 6; i++) {
				struct vtd_stats a, b;

				vtd_get_stats(v, &a);
				tx(v, sids[i], NOPASID, 0, i == 5 ? VA_FS : IOVA_SS);
				vtd_get_stats(v, &b);
				keep |= (b.cc.hits != a.cc.hits) << i;
			}
			CHECK_MSG(got == want_n && keep == (k < ARRAY_SIZE(cc) ? cc[k].keep : 0),
				  "context case %u: dropped %u kept 0x%x", k, got, keep);
			/* Only the context cache. The five SIDs on PASID 0 share one IOTLB
			 * entry (DID 1, PASID 0): the IOTLB is not tagged by SID. */
			CHECK(hwc_count_valid(v->pc) == 6 && hwc_count_valid(v->iotlb) == 2);
		}
		vtd_inv_all(v);
		CHECK_EQ(hwc_count_valid(v->cc) + hwc_count_valid(v->pc) + hwc_count_valid(v->iotlb) +
				 hwc_count_valid(v->sspsc) + hwc_count_valid(v->fspsc), 0);
	}
	CHECK_EQ(ntapped, 0);
	vtd_free(v);
}

/* ---- ATS translation requests and translated requests ----------------------------------- */

static void test_ats(void)
{
	struct vtd_stats st;
	struct vtd *v;
	struct dev_xlate x;

	fresh_memory();
	v = unit(NULL);
	tap_reset();
	clear_records(v);
	/* A translation request is translated like a DMA. */
	x = tx(v, DEV_A, NOPASID, F_ATS, IOVA_SS);
	OK(x, 0x7654678, 0x1000, "rwx");
	/* Not present: R = W = 0 in the completion, nothing recorded (the device may
	 * send a page request). */
	x = tx(v, DEV_A, NOPASID, F_ATS, 0x12347000);
	CHECK(x.status == DEV_XLATE_NO_ACCESS && !x.r && !x.w && x.fault_reason == 0x79);
	/* Nested, the second stage misses a first-stage table: also "not present". */
	x = tx(v, DEV_A, 7, F_ATS, 0x00007f8000000000ull);
	CHECK(x.status == DEV_XLATE_NO_ACCESS && x.fault_reason == 0x79);
	/* A user request for a supervisor page (SGN.2): no access, unrecorded. */
	x = tx(v, DEV_A, 6, F_ATS, 0xff00000040201abcull);
	CHECK(x.status == DEV_XLATE_NO_ACCESS && x.fault_reason == 0x81);
	/* A write request for a read-only page gets the read-only translation. */
	x = tx(v, DEV_A, 5, F_ATS | F_W, VA_FS);
	OK(x, 0x89abcabc, 0x1000, "r-x");
	CHECK_EQ(ntapped, 0);
	vtd_get_stats(v, &st);
	CHECK_EQ(st.faults[0x79] + st.faults[0x81] + st.faults[0x85], 0);
	if (regs_work(v))
		CHECK_EQ(pending_record(v, NULL), 0);
	/* Errors other than not-present and permission are recorded and answered UR:
	 * a reserved bit in a first-stage entry, a structure fault. */
	x = tx(v, DEV_A, 5, F_ATS, 0x7f1234569000);
	expect_fault(__LINE__, x, DEV_XLATE_UR, 0x72, false);
	CHECK(tapped[0].at == 1);
	tap_reset();
	x = tx(v, DEV_A, 4, F_ATS, 0x1000);          /* PASID 4: entry not present */
	expect_fault(__LINE__, x, DEV_XLATE_UR, 0x59, false);
	tap_reset();
	/* Translated requests pass through once the context allows them (DTE). */
	{
		struct vtd_stats a, b;

		vtd_get_stats(v, &a);
		x = tx(v, DEV_A, 5, F_TRANSL | F_W, 0x7654678);
		vtd_get_stats(v, &b);
		OK(x, 0x7654678, 0x1000, "rwx");
		CHECK(b.pc.hits == a.pc.hits && b.pc.misses == a.pc.misses &&
		      b.iotlb.misses == a.iotlb.misses && b.walks == a.walks);
	}
	CHECK_EQ(ntapped, 0);
	vtd_free(v);
}

/* ---- page requests -------------------------------------------------------------------------- */

static struct dev_ep *endpoint(struct vtd *v, uint16_t rid)
{
	struct dev_ep_config ec = {
		.rid = rid, .pasid_bits = 20, .exec_perm = true, .priv_mode = true, .ats = true,
		.atc_entries = 16, .atc_ways = 4, .pri = true, .pri_outstanding = 8,
	};
	struct dev_ep *ep = dev_ep_new(&ec, ms);

	if (!ep || dev_ep_enable_pasid(ep, true) || dev_ep_enable_ats(ep, true) ||
	    dev_ep_enable_pri(ep, true) || vtd_attach(v, ep))
		die("endpoint");
	return ep;
}

static int page_request(struct vtd *v, uint16_t rid, int pasid, bool write, uint16_t prgi,
			uint64_t addr)
{
	struct dev_page_req pr = {
		.rid = rid, .pasid_valid = pasid >= 0, .pasid = pasid >= 0 ? (uint32_t)pasid : 0,
		.read = !write, .write = write, .last = true, .prgi = prgi, .addr = addr,
	};

	return vtd_page_request(v, &pr);
}

static void test_page_requests(void)
{
	struct dev_ep_stats es;
	struct dev_dma_report rep;
	struct dev_ep *ep_a, *ep_c;
	struct vtd_stats st;
	struct vtd *v;
	uint64_t buf = 0;
	int ret;

	fresh_memory();
	v = unit(NULL);
	tap_reset();
	if (!regs_work(v)) {
		vtd_free(v);
		return;
	}
	vtd_write(v, VTD_PQA, 8, PRQ);              /* one page: 128 descriptors */
	/* 00:02.0 has PRE: queued. Descriptor (facts §5): qw0 = type 1 | PP (bit 8) |
	 * RID 0x10 << 16 | PASID 5 << 32 = 0x500100101; qw1 = R | LPIG (bit 2) |
	 * PRGI 3 << 3 | address = 0x7f123456701d. */
	ret = page_request(v, DEV_A, 5, false, 3, 0x7f1234567000);
	CHECK_EQ(ret, 0);
	CHECK_EQ(vtd_read(v, VTD_PQT, 8), 0x20);
	CHECK_EQ(get(PRQ), 0x500100101);
	CHECK_EQ(get(PRQ + 8), 0x7f123456701d);
	/* Without PASID the checks use RID_PASID 0 (valid): queued. */
	CHECK_EQ(page_request(v, DEV_A, NOPASID, true, 4, 0x12345000), 0);
	CHECK_EQ(vtd_read(v, VTD_PQT, 8), 0x40);
	CHECK_EQ(ntapped, 0);
	/* 00:04.0 has no PRE: SCT.8 (0x47), recorded as a page request, dropped. */
	ret = page_request(v, DEV_C, 5, false, 5, 0x7f1234567000);
	CHECK_EQ(ret, -EINVAL);
	CHECK(ntapped == 1 && tapped[0].reason == 0x47 && tapped[0].page_request &&
	      tapped[0].pasid_present && tapped[0].pasid == 5 && !tapped[0].fpd);
	CHECK_EQ(vtd_read(v, VTD_PQT, 8), 0x40);
	tap_reset();
	/* ... qualified: its context FPD suppresses it (and the PASID entry's too). */
	put(CE_C, DIR | 0xd | 0x2);
	vtd_inv_context(v, false, DEV_C, 0);
	CHECK_EQ(page_request(v, DEV_C, 5, false, 5, 0x7f1234567000), -EINVAL);
	CHECK(ntapped == 1 && tapped[0].reason == 0x47 && tapped[0].fpd);
	tap_reset();
	put(CE_C, DIR | 0xd);
	vtd_inv_all(v);
	put(PE(5), 0x43);
	CHECK_EQ(page_request(v, DEV_C, 5, false, 5, 0x7f1234567000), -EINVAL);
	CHECK(ntapped == 1 && tapped[0].reason == 0x47 && tapped[0].fpd);
	tap_reset();
	put(PE(5), 0x41);
	vtd_inv_all(v);
	/* Structure faults as for DMA: PASID 4 is not present (0x59). */
	CHECK_EQ(page_request(v, DEV_A, 4, false, 6, 0x1000), -EINVAL);
	CHECK(ntapped == 1 && tapped[0].reason == 0x59 && tapped[0].page_request);
	tap_reset();
	/* Legacy mode: RTA.3 (0x32), with or without PASID. */
	set_state(v, ROOT, TTM_LEGACY, true);
	CHECK_EQ(page_request(v, DEV_A, 5, false, 7, 0x1000), -EINVAL);
	CHECK_EQ(page_request(v, DEV_A, NOPASID, false, 7, 0x1000), -EINVAL);
	CHECK(ntapped == 2 && tapped[0].reason == 0x32 && tapped[1].reason == 0x32 &&
	      !tapped[1].pasid_present);
	tap_reset();
	/* Translation disabled: dropped without a record. */
	set_state(v, ROOT, TTM_SCALABLE, false);
	CHECK_EQ(page_request(v, DEV_A, 5, false, 7, 0x1000), -EINVAL);
	CHECK_EQ(ntapped, 0);
	CHECK_EQ(vtd_read(v, VTD_PQT, 8), 0x40);
	set_state(v, ROOT, TTM_SCALABLE, true);

	/* A DMA through ATS with PRI: VA 0x7f1234560000 (PASID 5) is not present, the
	 * completion says R = W = 0 (unrecorded), the device sends a page request. The
	 * queue is full (PQH = PQT + 32): PRO is set and the unit answers the
	 * last-in-group request Success itself; the device retries, still no page:
	 * a DMA fault. */
	ep_a = endpoint(v, DEV_A);
	vtd_write(v, VTD_PQH, 8, 0x60);
	{
		struct dev_dma d = {
			.pasid_valid = true, .pasid = 5, .iova = 0x7f1234560000, .buf = &buf,
			.len = 8, .use_pri = true, .retry_wait_ns = 2000000000ull,
		};

		CHECK_EQ(dev_dma(ep_a, &d, &rep), 0);
		CHECK_EQ(rep.status, DEV_DMA_FAULT);
		CHECK_EQ(rep.page_requests, 1);
	}
	dev_ep_get_stats(ep_a, &es);
	CHECK_EQ(es.prg_responses, 1);
	CHECK(vtd_read(v, VTD_PRS, 4) & PRS_PRO);
	vtd_get_stats(v, &st);
	CHECK_EQ(st.prq_overflow, 1);
	CHECK_EQ(ntapped, 0);
	/* A device without PRE in its context: the page request fails its check (0x47),
	 * the unit answers Invalid Request: the DMA fails. */
	ep_c = endpoint(v, DEV_C);
	{
		struct dev_dma d = {
			.pasid_valid = true, .pasid = 5, .iova = 0x7f1234560000, .buf = &buf,
			.len = 8, .use_pri = true, .retry_wait_ns = 2000000000ull,
		};

		CHECK_EQ(dev_dma(ep_c, &d, &rep), 0);
		CHECK_EQ(rep.status, DEV_DMA_PRI_FAILED);
	}
	dev_ep_get_stats(ep_c, &es);
	CHECK_EQ(es.prg_responses, 1);
	CHECK(ntapped == 1 && tapped[0].reason == 0x47);
	tap_reset();
	vtd_free(v);
	dev_ep_free(ep_a);
	dev_ep_free(ep_c);
}

/* ---- coherence checker ------------------------------------------------------------------ */

#define STALE_MAX 16
static struct stale_copy {
	char cache[16], missing[160];
	struct vtd_stale s;
} stales[STALE_MAX];
static unsigned nstales;

static void stale_cb(void *ctx, const struct vtd_stale *s)
{
	(void)ctx;
	if (nstales < STALE_MAX) {
		struct stale_copy *c = &stales[nstales];

		c->s = *s;
		snprintf(c->cache, sizeof(c->cache), "%s", s->cache);
		snprintf(c->missing, sizeof(c->missing), "%s", s->missing);
	}
	nstales++;
}

/* Exactly one stale report since the last call, with these fields. */
static void expect_stale(int line, const char *cache, uint16_t did, uint32_t pasid,
			 uint64_t cached, uint64_t fresh, const char *missing)
{
	const struct stale_copy *c = &stales[0];

	CHECK_MSG(nstales == 1 && !strcmp(c->cache, cache) && c->s.sid == DEV_A &&
			  c->s.did == did && c->s.pasid == pasid && c->s.cached == cached &&
			  c->s.fresh == fresh && !strcmp(c->missing, missing),
		  "line %d: %u reports; first: %s DID %u PASID 0x%x cached 0x%" PRIx64 " fresh 0x%"
		  PRIx64 " missing '%s'", line, nstales, nstales ? c->cache : "-",
		  nstales ? c->s.did : 0, nstales ? c->s.pasid : 0, nstales ? c->s.cached : 0,
		  nstales ? c->s.fresh : 0, nstales ? c->missing : "-");
	nstales = 0;
}

#define STALE(...) expect_stale(__LINE__, __VA_ARGS__)
#define SILENT() do { CHECK_EQ(nstales, 0); nstales = 0; } while (0)

static struct vtd *checker_unit(void)
{
	struct vtd_config c;
	struct vtd *v;

	vtd_config_default(&c);
	c.checker = true;
	v = unit(&c);
	vtd_set_stale_cb(v, stale_cb, NULL);
	nstales = 0;
	return v;
}

static void test_checker(void)
{
	struct vtd_stats st;
	struct vtd *v;

	fresh_memory();
	v = checker_unit();
	tap_reset();

	/* IOTLB, second stage: the SL-PTE moves to 0x7656000 without an invalidation.
	 * Reported on every use (the entry stays), the fresh translation is served.
	 * cached/fresh: output page | permissions (R 1, W 2, X 4). */
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7654678, 0x1000, "rwx");
	SILENT();
	put(0x103a28, 0x7656003);
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7656678, 0x1000, "rwx");
	STALE("iotlb", 1, 0, 0x7654007, 0x7656007,
	      "IOTLB invalidation (0x2, page-selective, DID 1, addr 0x12345000)");
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7656678, 0x1000, "rwx");
	STALE("iotlb", 1, 0, 0x7654007, 0x7656007,
	      "IOTLB invalidation (0x2, page-selective, DID 1, addr 0x12345000)");
	vtd_inv_iotlb(v, VTD_IOTLB_PAGE, 1, 0x12345000, 0, false);
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7656678, 0x1000, "rwx");
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7656678, 0x1000, "rwx");
	SILENT();
	vtd_get_stats(v, &st);
	CHECK_EQ(st.stale_hits, 2);

	/* IOTLB, first stage: the PTE (A set by the first walk) moves to 0x89abf000. */
	OK(tx(v, DEV_A, 5, 0, VA_FS), 0x89abcabc, 0x1000, "r-x");
	put(0x203b38, 0x89abf025);
	OK(tx(v, DEV_A, 5, 0, VA_FS), 0x89abfabc, 0x1000, "r-x");
	STALE("iotlb", 2, 5, 0x89abc005, 0x89abf005,
	      "PASID-based IOTLB invalidation (0x6, DID 2, PASID 0x5, addr 0x7f1234567000)");
	vtd_inv_piotlb(v, true, 2, 5, 0x7f1234567000, 0, false);
	OK(tx(v, DEV_A, 5, 0, VA_FS), 0x89abfabc, 0x1000, "r-x");
	SILENT();

	/* Nested: the host moves GPA 0x8000 (SL-PTE at 0x104040): the guest's GPA is
	 * unchanged, so the missing one is the host's type-2 invalidation of the GPA. */
	OK(tx(v, DEV_A, 7, 0, VA_FS), 0x7658abc, 0x1000, "rwx");
	put(0x104040, 0x7659003);
	OK(tx(v, DEV_A, 7, 0, VA_FS), 0x7659abc, 0x1000, "rwx");
	STALE("iotlb", 4, 7, 0x7658007, 0x7659007,
	      "IOTLB invalidation (0x2, page-selective, DID 4, addr 0x8000)");
	vtd_inv_iotlb(v, VTD_IOTLB_PAGE, 4, 0x8000, 0, false);
	OK(tx(v, DEV_A, 7, 0, VA_FS), 0x7659abc, 0x1000, "rwx");
	SILENT();
	/* ... and the guest moves its PTE to GPA 0x1000 (HPA 0x601000): type 6. */
	put(0x604b38, 0x1027);
	OK(tx(v, DEV_A, 7, 0, VA_FS), 0x601abc, 0x1000, "rwx");
	STALE("iotlb", 4, 7, 0x7659007, 0x601007,
	      "PASID-based IOTLB invalidation (0x6, DID 4, PASID 0x7, addr 0x7f1234567000)");
	vtd_inv_piotlb(v, true, 4, 7, 0x7f1234567000, 0, false);
	OK(tx(v, DEV_A, 7, 0, VA_FS), 0x601abc, 0x1000, "rwx");
	SILENT();

	/* Context cache: PRE cleared in 00:02.0's entry (0x1301d -> 0x1300d). */
	put(CE_A, DIR | 0xd);
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7656678, 0x1000, "rwx");
	CHECK(nstales == 1 && stales[0].s.did == 0 && stales[0].s.pasid == 0);
	stales[0].s.pasid = 0;
	STALE("context", 0, 0, DIR | 0x1d, DIR | 0xd,
	      "context-cache invalidation (0x1, device-selective, SID 00:02.0)");
	vtd_inv_context(v, false, DEV_A, 0);
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7656678, 0x1000, "rwx");
	SILENT();
	put(CE_A, DIR | 0x1d);
	vtd_inv_context(v, false, DEV_A, 0);

	/* PASID cache: PASID 0 moves to DID 11 (word 1). The fresh entry's DID misses in
	 * the IOTLB: a walk, same tables. */
	put(PE(0) + 8, 11);
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7656678, 0x1000, "rwx");
	STALE("pasid", 1, 0, 1, 11,
	      "PASID-cache invalidation (0x7, PASID-selective, DID 1, PASID 0x0)");
	vtd_inv_pasid_cache(v, VTD_PC_PASID, 1, 0);
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7656678, 0x1000, "rwx");
	SILENT();
	put(PE(0) + 8, 1);
	vtd_inv_pasid_cache(v, VTD_PC_PASID, 11, 0);
	vtd_inv_iotlb(v, VTD_IOTLB_DOMAIN, 11, 0, 0, false);
	vtd_free(v);

	/* Second-stage PSC: a new SL-PT at 0x105000 replaces 0x103000 under SL-PDE 0x91
	 * (0x102488) and only the leaf is invalidated (IH): the walk starts from the
	 * cached old table. Reported with the tables: cached 0x103000, memory 0x105000.
	 * Without IH: silent. */
	fresh_memory();
	v = checker_unit();
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7654678, 0x1000, "rwx");
	put(0x105a28, 0x7657003);
	put(0x102488, 0x105003);
	vtd_inv_iotlb(v, VTD_IOTLB_PAGE, 1, 0x12345000, 0, true);
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7657678, 0x1000, "rwx");
	STALE("ss-psc", 1, 0, 0x103000, 0x105000,
	      "IOTLB invalidation (0x2, page-selective, DID 1, addr 0x12345000) without IH");
	vtd_inv_iotlb(v, VTD_IOTLB_PAGE, 1, 0x12345000, 0, false);
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7657678, 0x1000, "rwx");
	OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), 0x7657678, 0x1000, "rwx");
	SILENT();

	/* First-stage PSC: a new PT at 0x204000 under PDE 0x1a2 (0x202d10), type 6 with
	 * IH: the cached PT 0x203000 against memory's 0x204000. */
	OK(tx(v, DEV_A, 5, 0, VA_FS), 0x89abcabc, 0x1000, "r-x");
	put(0x204b38, 0x89ac0025);
	put(0x202d10, 0x204027);
	vtd_inv_piotlb(v, true, 2, 5, 0x7f1234567000, 0, true);
	OK(tx(v, DEV_A, 5, 0, VA_FS), 0x89ac0abc, 0x1000, "r-x");
	STALE("fs-psc", 2, 5, 0x203000, 0x204000,
	      "PASID-based IOTLB invalidation (0x6, DID 2, PASID 0x5, addr 0x7f1234567000) "
	      "without IH");
	vtd_inv_piotlb(v, true, 2, 5, 0x7f1234567000, 0, false);
	OK(tx(v, DEV_A, 5, 0, VA_FS), 0x89ac0abc, 0x1000, "r-x");
	SILENT();

	/* Dirty state: the IOTLB entry of PASID 11 says D is set; software clears D
	 * (0x7000303 -> 0x7000103) without invalidating: the next write would not set
	 * it. Reported; the fresh walk sets D again. */
	OK(tx(v, DEV_A, 11, F_W, 0x1000), 0x7000000, 0x1000, "rwx");
	CHECK_EQ(get(0x113008), 0x7000303);
	put(0x113008, 0x7000103);
	OK(tx(v, DEV_A, 11, F_W, 0x1000), 0x7000000, 0x1000, "rwx");
	STALE("iotlb", 8, 11, 0x7000007, 0x7000007,
	      "IOTLB invalidation (0x2, page-selective, DID 8, addr 0x1000)");
	CHECK_EQ(get(0x113008), 0x7000303);
	put(0x113008, 0x7000103);
	vtd_inv_iotlb(v, VTD_IOTLB_PAGE, 8, 0x1000, 0, false);
	OK(tx(v, DEV_A, 11, F_W, 0x1000), 0x7000000, 0x1000, "rwx");
	SILENT();

	/* Correct software: every change followed by its invalidation, never a report. */
	for (unsigned r = 0; r < 8; r++) {
		uint64_t ss = 0x7660000 + r * 0x1000, fs = 0x89b00000 + r * 0x1000;

		put(0x105a28, ss | 3);
		vtd_inv_iotlb(v, VTD_IOTLB_PAGE, 1, 0x12345000, 0, true);
		put(0x204b38, fs | 0x25);
		vtd_inv_piotlb(v, true, 2, 5, 0x7f1234567000, 0, true);
		OK(tx(v, DEV_A, NOPASID, 0, IOVA_SS), ss + 0x678, 0x1000, "rwx");
		OK(tx(v, DEV_A, 5, 0, VA_FS), fs + 0xabc, 0x1000, "r-x");
		OK(tx(v, DEV_A, 5, 0, VA_FS), fs + 0xabc, 0x1000, "r-x");
	}
	SILENT();
	CHECK_EQ(ntapped, 0);
	vtd_free(v);
}

/* ---- the front cache against the full path ----------------------------------------------- */

/*
 * The unit answers repeated hits from a per-thread front cache (xlate.c) unless
 * the checker is on, when every hit takes the full path. Two units on two copies
 * of the same memory, one of each kind, get the same random stream: phases that
 * repeat a few requests (hits, served by the front cache on one side), with table
 * and structure changes made as software must make them, and invalidations of
 * every kind in between; with small caches, so that fills evict, and with the
 * default sizes. Every answer and every statistic must be the same: the front
 * cache may not change what the unit does, counts, evicts or keeps.
 */
static struct mem_space *fe_ms[2];

static void fe_put(uint64_t pa, uint64_t val)
{
	for (int i = 0; i < 2; i++)
		if (mem_store64(fe_ms[i], pa, val))
			die("mem_store64");
}

/*
 * The checker's re-walks make the A/D updates a miss would make, so a unit with
 * the checker on changes its memory where one without does not, and A/D updates
 * cost walks (a nested one translates the entry's GPA for writing) and change
 * what the paging-structure caches hold. With every A and D bit already set in
 * the tables the walks pass, memory never changes but by fe_put(), and the two
 * units must agree exactly.
 */
static void fe_preset_ad(void)
{
	/* Table pages: A in every present entry, D in leaves. */
	static const struct { uint64_t pa, pages, a, d; bool leaves; } t[] = {
		{ 0x200000, 3, X86_A, X86_D, false },      /* first stage, 4 levels */
		{ 0x203000, 1, X86_A, X86_D, true },
		{ 0x300000, 4, X86_A, X86_D, false },      /* 5 levels (PDPTE 1 is PS) */
		{ 0x601000, 3, X86_A, X86_D, false },      /* the nested guest's */
		{ 0x604000, 1, X86_A, X86_D, true },
		{ 0x110000, 3, SS_A, SS_D, false },        /* second stage with SLADE */
		{ 0x113000, 1, SS_A, SS_D, true },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(t); i++)
		for (uint64_t pa = t[i].pa; pa < t[i].pa + t[i].pages * 0x1000; pa += 8) {
			uint64_t e;

			for (int m = 0; m < 2; m++) {
				if (mem_load64(fe_ms[m], pa, &e))
					die("mem_load64");
				if (!(e & (t[i].a == X86_A ? X86_P : SS_R | SS_W)))
					continue;       /* not present */
				e |= t[i].a;
				if (t[i].leaves || (e & BIT(7)))    /* PS: a large leaf */
					e |= t[i].d;
				if (mem_store64(fe_ms[m], pa, e))
					die("mem_store64");
			}
		}
}

static uint64_t fe_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct fe_req {
	uint16_t sid;
	int pasid;
	unsigned flags;
	uint64_t addr;
};

static void fe_random_req(uint64_t *seed, struct fe_req *q)
{
	/* 00:10.1 is set up as 00:02.0; 00:03.0 has RID_PASID 5 with RID_PRIV. */
	static const uint16_t sids[] = { DEV_A, DEV_B, DEV_H };
	static const int pasids[] = { NOPASID, NOPASID, 0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
	static const uint64_t addrs[] = {
		IOVA_SS, 0x12346000, 0x12347000, 0x212345, 0x3ffff8, 0x13000010, VA_FS,
		VA_FS + 0x1000, VA_FS + 0x2000, 0x7f1234560000ull, 0xff00000040201abcull,
		0x7ffffffabc, 0x0009000000001000ull, 0x1000, 0x2000, 0x123456, 0x7e8000000000ull,
	};
	static const unsigned flags[] = { 0, 0, 0, F_W, F_W, F_X, F_PRIV, F_PRIV | F_W,
					  F_PRIV | F_X, F_ATS, F_ATS | F_W, F_TRANSL };

	q->sid = sids[fe_rnd(seed) % ARRAY_SIZE(sids)];
	q->pasid = pasids[fe_rnd(seed) % ARRAY_SIZE(pasids)];
	q->flags = flags[fe_rnd(seed) % ARRAY_SIZE(flags)];
	q->addr = addrs[fe_rnd(seed) % ARRAY_SIZE(addrs)] + (fe_rnd(seed) & 0xff8);
}

/* A change as software makes it, with the invalidations it needs, on both units. */
static void fe_event(struct vtd *v[2], uint64_t *seed, unsigned *state)
{
	unsigned e = (unsigned)(fe_rnd(seed) % 12);

	switch (e) {
	case 0: {       /* the SL-PTE of IOVA 0x12346000 moves; its page is invalidated */
		uint64_t pa = (*state ^= 1) & 1 ? 0x7656003 : 0x7655003;
		bool ih = fe_rnd(seed) & 1;

		fe_put(0x103a30, pa);
		for (int i = 0; i < 2; i++)
			vtd_inv_iotlb(v[i], VTD_IOTLB_PAGE, 1, 0x12346000, 0, ih);
		break;
	}
	case 1: {       /* the FS PTE of VA_FS + 0x1000 (PASIDs 5, 12, 13) changes */
		uint64_t pte = (*state ^= 2) & 2 ? 0x89abd065 : 0x89abd067;

		fe_put(0x203b40, pte);
		for (int i = 0; i < 2; i++) {
			vtd_inv_piotlb(v[i], true, 2, 5, VA_FS + 0x1000, 0, true);
			vtd_inv_piotlb(v[i], false, 9, 12, 0, 0, false);
			vtd_inv_piotlb(v[i], false, 10, 13, 0, 0, false);
		}
		break;
	}
	case 2: {       /* 00:03.0's context entry comes and goes; the context cache is told */
		fe_put(CE_B, (*state ^= 4) & 4 ? 0 : DIR | 0x1);
		for (int i = 0; i < 2; i++)
			vtd_inv_context(v[i], false, DEV_B, 0);
		break;
	}
	case 3: {       /* PASID 12's entry comes and goes; the PASID cache is told */
		fe_put(PE(12), (*state ^= 8) & 8 ? 0 : 0x41);
		for (int i = 0; i < 2; i++)
			vtd_inv_pasid_cache(v[i], VTD_PC_PASID, 9, 12);
		break;
	}
	case 4:
		for (int i = 0; i < 2; i++)
			vtd_inv_iotlb(v[i], VTD_IOTLB_DOMAIN, 1 + (unsigned)(*seed % 4), 0, 0, false);
		break;
	case 5:
		for (int i = 0; i < 2; i++)
			vtd_inv_iotlb(v[i], VTD_IOTLB_GLOBAL, 0, 0, 0, false);
		break;
	case 6:
		for (int i = 0; i < 2; i++)
			vtd_inv_pasid_cache(v[i], VTD_PC_DOMAIN, 1 + (unsigned)(*seed % 10), 0);
		break;
	case 7:
		for (int i = 0; i < 2; i++)
			vtd_inv_context(v[i], true, 0, 0);
		break;
	case 8:
		for (int i = 0; i < 2; i++)
			vtd_inv_piotlb(v[i], true, 2, 5, VA_FS, 0, false);
		break;
	case 10:        /* TE toggles: requests bypass while it is off */
		for (int i = 0; i < 2; i++) {
			uint32_t g = (uint32_t)vtd_read(v[i], VTD_GSTS, 4) & 0x96ffffffu;

			vtd_write(v[i], VTD_GCMD, 4, g ^ GCMD_TE);
		}
		break;
	case 11:        /* the root table pointer is latched again */
		for (int i = 0; i < 2; i++) {
			uint32_t g = (uint32_t)vtd_read(v[i], VTD_GSTS, 4) & 0x96ffffffu;

			vtd_write(v[i], VTD_GCMD, 4, g | GCMD_SRTP);
		}
		break;
	default:
		for (int i = 0; i < 2; i++)
			vtd_inv_iotlb(v[i], VTD_IOTLB_PAGE, 1, 0x12345000, 0, false);
		break;
	}
}

static void fe_compare_stats(struct vtd *v[2], unsigned phase)
{
	struct vtd_stats a, b;

	vtd_get_stats(v[0], &a);
	vtd_get_stats(v[1], &b);
	CHECK_MSG(!memcmp(&a.cc, &b.cc, sizeof(a.cc)) && !memcmp(&a.pc, &b.pc, sizeof(a.pc)) &&
			  !memcmp(&a.iotlb, &b.iotlb, sizeof(a.iotlb)) &&
			  !memcmp(&a.fspsc, &b.fspsc, sizeof(a.fspsc)) &&
			  !memcmp(&a.sspsc, &b.sspsc, sizeof(a.sspsc)) &&
			  a.translations == b.translations && a.walks == b.walks &&
			  a.walk_refs == b.walk_refs && !memcmp(a.faults, b.faults, sizeof(a.faults)),
		  "phase %u: full path: %" PRIu64 " translations, iotlb %" PRIu64 "/%" PRIu64 "/%"
		  PRIu64 "/%" PRIu64 ", cc %" PRIu64 "/%" PRIu64 ", pc %" PRIu64 "/%" PRIu64
		  ", walks %" PRIu64 "; front: %" PRIu64 ", iotlb %" PRIu64 "/%" PRIu64 "/%" PRIu64
		  "/%" PRIu64 ", cc %" PRIu64 "/%" PRIu64 ", pc %" PRIu64 "/%" PRIu64 ", walks %"
		  PRIu64, phase, a.translations, a.iotlb.hits, a.iotlb.misses, a.iotlb.fills,
		  a.iotlb.evictions, a.cc.hits, a.cc.misses, a.pc.hits, a.pc.misses, a.walks,
		  b.translations, b.iotlb.hits, b.iotlb.misses, b.iotlb.fills, b.iotlb.evictions,
		  b.cc.hits, b.cc.misses, b.pc.hits, b.pc.misses, b.walks);
	CHECK_EQ(a.stale_hits + b.stale_hits, 0);
	CHECK_EQ(hwc_count_valid(v[0]->iotlb), hwc_count_valid(v[1]->iotlb));
	CHECK_EQ(hwc_count_valid(v[0]->cc), hwc_count_valid(v[1]->cc));
	CHECK_EQ(hwc_count_valid(v[0]->pc), hwc_count_valid(v[1]->pc));
}

/* small: caches that evict all the time, else the default sizes (most repeats are
 * then answered by the front cache). */
static void test_front_equivalence(bool small)
{
	struct vtd_config c;
	struct vtd *v[2];
	uint64_t seed = small ? 0x9e3779b97f4a7c15ull : 0x2545f4914f6cdd1dull;
	unsigned state = 0, answers = 0, mismatches = 0;

	vtd_config_default(&c);
	if (small) {
		c.cc_entries = 2;       /* three SIDs: the context cache evicts too */
		c.cc_ways = 2;
		c.pc_entries = 8;
		c.pc_ways = 2;
		c.iotlb_entries = 16;
		c.iotlb_ways = 4;
		c.fspsc_entries = 8;
		c.sspsc_entries = 8;
		c.psc_ways = 2;
	}
	if (ms)
		mem_space_free(ms);
	for (int i = 0; i < 2; i++) {
		/* v[0]: checker on, so every hit takes the full path (no report is
		 * expected: software here invalidates what it changes). v[1]: off. */
		ms = NULL;
		fresh_memory();
		fe_ms[i] = ms;
		c.checker = i == 0;
		v[i] = unit(&c);
		vtd_set_stale_cb(v[i], stale_cb, NULL);
	}
	fe_preset_ad();
	nstales = 0;
	for (unsigned phase = 0; phase < 3000; phase++) {
		struct fe_req q[8];
		unsigned n = 1 + (unsigned)(fe_rnd(&seed) % 8);
		unsigned rounds = 1 + (unsigned)(fe_rnd(&seed) % 12);

		for (unsigned i = 0; i < n; i++)
			fe_random_req(&seed, &q[i]);
		for (unsigned r = 0; r < rounds; r++) {
			for (unsigned i = 0; i < n; i++) {
				const struct fe_req *rq = &q[(i + r) % n];
				struct dev_xlate a = tx(v[0], rq->sid, rq->pasid, rq->flags, rq->addr);
				struct dev_xlate b = tx(v[1], rq->sid, rq->pasid, rq->flags, rq->addr);
				bool same = a.status == b.status && a.fault_reason == b.fault_reason &&
					    (a.status != DEV_XLATE_OK ||
					     (a.pa == b.pa && a.size == b.size &&
					      a.page_base == b.page_base && a.r == b.r && a.w == b.w &&
					      a.x == b.x && a.priv == b.priv));

				answers++;
				if (!same && mismatches++ < 5)
					fprintf(stderr, "phase %u: sid 0x%x pasid %d flags 0x%x addr 0x%"
						PRIx64 ": full path status %d reason 0x%x pa 0x%" PRIx64
						", front status %d reason 0x%x pa 0x%" PRIx64 "\n", phase,
						rq->sid, rq->pasid, rq->flags, rq->addr, a.status,
						a.fault_reason, a.pa, b.status, b.fault_reason, b.pa);
			}
		}
		for (unsigned e = (unsigned)(fe_rnd(&seed) % 3); e > 0; e--)
			fe_event(v, &seed, &state);
		if (phase % 500 == 499)
			fe_compare_stats(v, phase);
		tap_reset();
	}
	fe_compare_stats(v, 3000);
	CHECK_EQ(mismatches, 0);
	CHECK_EQ(nstales, 0);
	printf("front cache (%s caches): %u answers compared with the full path\n",
	       small ? "small" : "default", answers);
	for (int i = 0; i < 2; i++) {
		vtd_free(v[i]);
		mem_space_free(fe_ms[i]);
	}
	ms = NULL;
	fresh_memory();
}

/* ---- concurrency ------------------------------------------------------------------------ */

#define CT_THREADS 4
#define CT_ITERS   20000
#define CT_PAGE    7

static struct vtd *ct_v;
static _Atomic unsigned ct_bad, ct_reports, ct_bad_reports;
static _Atomic bool ct_stop;

/* Page i of IOVA 0x40000000 maps 0x900000 + i * 0x1000; page 7 flips between
 * 0x907000 and 0x9f0000. */
static bool ct_good(unsigned i, uint64_t pa, uint64_t off)
{
	if (i != CT_PAGE)
		return pa == 0x900000 + i * 0x1000ull + off;
	return pa == 0x907000 + off || pa == 0x9f0000 + off;
}

static void ct_stale(void *ctx, const struct vtd_stale *s)
{
	(void)ctx;
	atomic_fetch_add(&ct_reports, 1);
	/* Only a leaf changes: a report can only be an IOTLB entry of page 7, inside
	 * the window between the PTE store and its invalidation. */
	if (strcmp(s->cache, "iotlb") || (s->addr & ~0xfffull) != 0x40007000 ||
	    (s->cached != 0x907007 && s->cached != 0x9f0007) ||
	    (s->fresh != 0x907007 && s->fresh != 0x9f0007))
	{
		atomic_fetch_add(&ct_bad_reports, 1);
		fprintf(stderr, "unexpected report: %s addr 0x%" PRIx64 " cached 0x%" PRIx64
			" fresh 0x%" PRIx64 " (%s)\n", s->cache, s->addr, s->cached, s->fresh,
			s->missing);
	}
}

static void *ct_reader(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;

	for (unsigned k = 0; k < CT_ITERS; k++) {
		unsigned i = (id * 7 + k * 5) % 64;
		uint64_t off = (k * 8) & 0xfff;
		struct dev_xlate x = tx(ct_v, DEV_A, k % 4 == 3 ? 0 : NOPASID, k % 3 ? 0 : F_W,
					0x40000000 + i * 0x1000ull + off);

		if (x.status != DEV_XLATE_OK || !ct_good(i, x.pa, off))
			atomic_fetch_add(&ct_bad, 1);
	}
	return NULL;
}

static void *ct_writer(void *arg)
{
	(void)arg;
	/* Until the readers are done, so that every translation races with it. */
	for (unsigned r = 0; !atomic_load(&ct_stop); r++) {
		put(0x107000 + CT_PAGE * 8, (r & 1 ? 0x9f0000 : 0x907000) | 3);
		/* Alternate the invalidations that cover the page: page-selective with and
		 * without IH, a 16-page AM, the whole domain. */
		switch (r % 4) {
		case 0: vtd_inv_iotlb(ct_v, VTD_IOTLB_PAGE, 1, 0x40007000, 0, true); break;
		case 1: vtd_inv_iotlb(ct_v, VTD_IOTLB_PAGE, 1, 0x40007000, 0, false); break;
		case 2: vtd_inv_iotlb(ct_v, VTD_IOTLB_PAGE, 1, 0x40000000, 4, false); break;
		default: vtd_inv_iotlb(ct_v, VTD_IOTLB_DOMAIN, 1, 0, 0, false); break;
		}
	}
	return NULL;
}

/* With the checker off, hits are served by the per-thread front cache of whole
 * translations (xlate.c): the same race, every answer legal, the counts exact. */
static void test_concurrency(bool checker)
{
	pthread_t r[CT_THREADS], w;
	struct vtd_config c;
	struct vtd_stats st;
	unsigned reports;

	fresh_memory();
	/* IOVA 0x40000000: SL-PDPE 1 (0x101008) -> 0x106000, SL-PDE 0 -> 0x107000,
	 * SL-PTE i at 0x107000 + i*8 -> 0x900000 + i*0x1000. */
	put(0x101008, 0x106003);
	put(0x106000, 0x107003);
	for (unsigned i = 0; i < 64; i++)
		put(0x107000 + i * 8, (0x900000 + i * 0x1000ull) | 3);
	vtd_config_default(&c);
	c.checker = checker;
	c.iotlb_entries = 64;           /* small: evictions race with fills too */
	c.iotlb_ways = 4;
	ct_v = unit(&c);
	vtd_set_stale_cb(ct_v, ct_stale, NULL);
	tap_reset();
	atomic_store(&ct_bad, 0);
	atomic_store(&ct_reports, 0);
	atomic_store(&ct_bad_reports, 0);

	atomic_store(&ct_stop, false);
	pthread_create(&w, NULL, ct_writer, NULL);
	for (unsigned i = 0; i < CT_THREADS; i++)
		pthread_create(&r[i], NULL, ct_reader, (void *)(uintptr_t)i);
	for (unsigned i = 0; i < CT_THREADS; i++)
		pthread_join(r[i], NULL);
	atomic_store(&ct_stop, true);
	pthread_join(w, NULL);
	CHECK_EQ(atomic_load(&ct_bad), 0);
	CHECK_EQ(atomic_load(&ct_bad_reports), 0);
	CHECK_EQ(ntapped, 0);

	/* Settled: the last value, invalidated; every page right and no report. */
	put(0x107000 + CT_PAGE * 8, 0x9f0003);
	vtd_inv_iotlb(ct_v, VTD_IOTLB_PAGE, 1, 0x40007000, 0, false);
	reports = atomic_load(&ct_reports);
	for (unsigned i = 0; i < 64; i++)
		for (unsigned k = 0; k < 2; k++) {
			struct dev_xlate x = tx(ct_v, DEV_A, NOPASID, 0, 0x40000000 + i * 0x1000ull);

			CHECK_MSG(x.status == DEV_XLATE_OK &&
					  x.pa == (i == CT_PAGE ? 0x9f0000 : 0x900000 + i * 0x1000ull),
				  "page %u: 0x%" PRIx64, i, x.pa);
		}
	CHECK_EQ(atomic_load(&ct_reports), reports);
	vtd_get_stats(ct_v, &st);
	CHECK_EQ(st.stale_hits, atomic_load(&ct_reports));
	CHECK_EQ(st.translations, CT_THREADS * CT_ITERS + 128);
	CHECK_EQ(st.cc.hits + st.cc.misses, st.translations);
	CHECK_EQ(st.pc.hits + st.pc.misses, st.translations);
	CHECK_EQ(st.iotlb.hits + st.iotlb.misses, st.translations);
	printf("concurrency (checker %s): %u translations, %" PRIu64 " IOTLB hits, %u stale "
	       "reports in the update windows\n", checker ? "on" : "off", CT_THREADS * CT_ITERS,
	       st.iotlb.hits, reports);
	if (!checker) {
		CHECK_EQ(reports, 0);
		vtd_free(ct_v);
		return;
	}

	/* The same race without invalidations is caught: the writer moves page 7 once,
	 * never invalidates; hits on the old entry are reported. */
	put(0x107000 + CT_PAGE * 8, 0x907003);
	tx(ct_v, DEV_A, NOPASID, 0, 0x40007000);
	tx(ct_v, DEV_A, NOPASID, 0, 0x40007000);
	CHECK_EQ(atomic_load(&ct_reports), reports + 2);
	vtd_free(ct_v);
}

int main(void)
{
	test_second_stage();
	test_first_stage();
	test_nested();
	test_pass_through();
	test_registers_and_modes();
	test_structure_faults();
	test_caches();
	test_invalidation_scope();
	test_ats();
	test_page_requests();
	test_checker();
	test_front_equivalence(true);
	test_front_equivalence(false);
	test_concurrency(true);
	test_concurrency(false);
	mem_space_free(ms);
	return check_exit();
}
