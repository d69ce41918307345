/* tests/test_iommu_intel.c — the VT-d host driver (src/iommu/intel.c) driving the
 * VT-d model through the IOMMU core, end to end: probe, devices, paging and nested
 * domains, DMA through them, faults and page requests reaching the core's fault
 * handlers, and the generic invalidations converted to descriptors.
 *
 * What the driver programmed is read back from the hardware's point of view: the
 * registers (GSTS, RTADDR, IQA/IQT), the structures reached from RTADDR (root,
 * context, PASID directory and table entries) and the descriptors in the
 * invalidation queue just before IQT, with vtd_get_stats() counting what the unit
 * processed by type. Expected values are worked by hand from
 * docs/facts/vtd-structures.md (§2 structures, §4.2 descriptors, §1.10 fault
 * records) and shared/reference/vtd.md (the seed's invalidation map); the
 * derivations are in the comments at each check.
 *
 * Memory of every rig: 64 MiB of host RAM at HPA 0; the host frame pool (every
 * table and queue the driver and the core build) is [1 MiB, 17 MiB); host data
 * pages from 0x1800000. The guest: a second space whose one region is GPA
 * [0, 16 MiB) aliasing HPA [0x2000000, 0x3000000); its table pool is GPA
 * [1 MiB, 3 MiB); its data pages from GPA 0x800000. The nest parent maps GPA
 * [0, 16 MiB) -> HPA 0x2000000 + GPA.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "dev/dev.h"
#include "hw/vtd/vtd_internal.h"   /* only to make a unit without scalable mode */
#include "iommu/intel.h"
#include "iommu/iommu.h"
#include "mem/mem.h"
#include "pgtable/pgtable.h"

#define RAM_SIZE    0x4000000ull
#define POOL_BASE   0x100000ull
#define POOL_SIZE   0x1000000ull
#define HDATA       0x1800000ull       /* host data pages */
#define GUEST_HPA   0x2000000ull       /* GPA 0 */
#define GUEST_SIZE  0x1000000ull
#define GPOOL_BASE  0x100000ull        /* GPAs */
#define GPOOL_SIZE  0x200000ull
#define GDATA       0x800000ull        /* GPA of the guest's data pages */
#define GVA         0x7f0000000000ull  /* the guest's DMA addresses */
#define IOVA        0x40000000ull      /* the host paging domain's */

#define RID_A       0x0018             /* 00:03.0: PASIDs, no ATS */
#define RID_B       0x0020             /* 00:04.0: PASIDs, ATS, PRI */
#define RID_C       0x0028             /* 00:05.0: on the unit, not added to the core */
#define PG          0x1000ull

struct rig {
	struct mem_space *ms;
	uint8_t *ram;
	struct mem_frames *pool;
	struct vtd *hw;
	struct iommu_unit *u;
	struct mem_space *gs;              /* the guest's physical space */
	struct mem_frames *gpool;
	struct dev_ep *ep[3];
	struct iommu_device *dev[3];
};

static void die(const char *what)
{
	fprintf(stderr, "test_iommu_intel: setup failed: %s\n", what);
	exit(1);
}

static uint64_t get(struct rig *r, uint64_t pa)
{
	uint64_t v = 0;

	if (mem_load64(r->ms, pa, &v))
		die("mem_load64");
	return v;
}

static void put(struct rig *r, uint64_t pa, uint64_t v)
{
	if (mem_store64(r->ms, pa, v))
		die("mem_store64");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void rig_memory(struct rig *r)
{
	void *host;

	memset(r, 0, sizeof(*r));
	r->ms = mem_space_new();
	if (!r->ms || mem_add_anon(r->ms, 0, RAM_SIZE, MEM_RW, &host))
		die("memory");
	r->ram = host;
	r->pool = mem_frames_new(r->ms, POOL_BASE, POOL_SIZE);
	r->gs = mem_space_new();
	if (!r->pool || !r->gs || mem_add(r->gs, 0, GUEST_SIZE, r->ram + GUEST_HPA, MEM_RW))
		die("guest memory");
	r->gpool = mem_frames_new(r->gs, GPOOL_BASE, GPOOL_SIZE);
	if (!r->gpool)
		die("guest pool");
}

/* A unit with config c, probed. */
static void rig_start(struct rig *r, const struct vtd_config *c)
{
	int ret;

	rig_memory(r);
	r->hw = vtd_new(c, r->ms);
	if (!r->hw)
		die("vtd_new");
	ret = intel_iommu_probe(r->hw, r->ms, r->pool, &r->u);
	if (ret)
		die("probe");
}

/* An endpoint on the unit's port (the PCIe topology: the test's job), added to
 * the core unless add is false. */
static void rig_ep(struct rig *r, unsigned i, uint16_t rid, bool ats_pri, bool add)
{
	struct dev_ep_config ec = {
		.rid = rid, .pasid_bits = 20, .ats = ats_pri, .atc_entries = ats_pri ? 64 : 0,
		.atc_ways = ats_pri ? 4 : 0, .pri = ats_pri, .pri_outstanding = ats_pri ? 16 : 0,
	};

	r->ep[i] = dev_ep_new(&ec, r->ms);
	if (!r->ep[i] || vtd_attach(r->hw, r->ep[i]))
		die("endpoint");
	if (add && iommu_device_add(r->u, r->ep[i], &r->dev[i]))
		die("iommu_device_add");
}

static void rig_stop(struct rig *r)
{
	for (unsigned i = 0; i < 3; i++) {
		if (r->dev[i])
			iommu_device_remove(r->dev[i]);
	}
	iommu_unit_free(r->u);
	/* Everything the driver and the core allocated went back. */
	CHECK_EQ(mem_frames_used(r->pool), 0);
	vtd_free(r->hw);
	for (unsigned i = 0; i < 3; i++)
		dev_ep_free(r->ep[i]);
	mem_frames_free_pool(r->gpool);
	mem_space_free(r->gs);
	mem_frames_free_pool(r->pool);
	mem_space_free(r->ms);
}

struct dcount {
	uint64_t n[10];
};

static void dsnap(struct rig *r, struct dcount *c)
{
	struct vtd_stats st;

	vtd_get_stats(r->hw, &st);
	for (unsigned i = 0; i < 10; i++)
		c->n[i] = st.descriptors[i];
}

/* The descriptors processed between a and now, by type, are want[type]. */
static void expect_desc(struct rig *r, int line, const struct dcount *a, const unsigned want[10])
{
	struct dcount b;

	dsnap(r, &b);
	for (unsigned t = 1; t < 10; t++)
		CHECK_MSG(b.n[t] - a->n[t] == want[t], "line %d: type %u: %" PRIu64 " descriptors, "
			  "expected %u", line, t, b.n[t] - a->n[t], want[t]);
}

/* The k-th 256-bit descriptor before IQT (k = 1: the last one queued). */
static void queued(struct rig *r, unsigned k, uint64_t *qw0, uint64_t *qw1)
{
	uint64_t iqa = vtd_read(r->hw, VTD_IQA, 8);
	uint64_t size = 4096ull << (iqa & 7);
	uint64_t tail = vtd_read(r->hw, VTD_IQT, 8) & IQ_PTR;
	uint64_t off = (tail + size - 32ull * k) % size;

	*qw0 = get(r, (iqa & IQA_IQA) + off);
	*qw1 = get(r, (iqa & IQA_IQA) + off + 8);
}

static void expect_queued(struct rig *r, int line, unsigned k, uint64_t qw0, uint64_t qw1)
{
	uint64_t a, b;

	queued(r, k, &a, &b);
	CHECK_MSG(a == qw0 && b == qw1, "line %d: descriptor -%u is %016" PRIx64 " %016" PRIx64
		  ", expected %016" PRIx64 " %016" PRIx64, line, k, a, b, qw0, qw1);
}

/* The hardware's path from RTADDR to the PASID entry of (rid, pasid) (facts §2):
 * root entry bus * 16 (+ 8 for devfn >= 128), context entry (devfn & 0x7f) * 32,
 * directory entry (pasid >> 6) * 8, table entry (pasid & 63) * 64. 0 if absent. */
static uint64_t context_entry(struct rig *r, uint16_t rid)
{
	uint64_t rta = vtd_read(r->hw, VTD_RTADDR, 8) & RTADDR_RTA;
	uint64_t re = get(r, rta + (rid >> 8) * 16 + ((rid & 0x80) ? 8 : 0));

	if (!(re & RE_P))
		return 0;
	return (re & RE_CTP) + (rid & 0x7f) * 32ull;
}

static uint64_t pasid_entry(struct rig *r, uint16_t rid, uint32_t pasid)
{
	uint64_t ce = context_entry(r, rid), pde;

	if (!ce || !(get(r, ce) & CE0_P))
		return 0;
	pde = get(r, (get(r, ce) & CE0_PDTP) + (pasid >> 6) * 8ull);
	if (!(pde & PDE_P))
		return 0;
	return (pde & PDE_PTP) + (pasid & 63) * 64ull;
}

/* ---- fault handlers ---------------------------------------------------------------------- */

#define REC_MAX 32

struct recorder {
	pthread_mutex_t lock;
	unsigned n;
	struct iommu_fault f[REC_MAX];
	struct iommu_device *dev[REC_MAX];
};

static int record_fault(void *ctx, struct iommu_device *dev, const struct iommu_fault *f)
{
	struct recorder *rec = ctx;

	pthread_mutex_lock(&rec->lock);
	if (rec->n < REC_MAX) {
		rec->f[rec->n] = *f;
		rec->dev[rec->n] = dev;
	}
	rec->n++;
	pthread_mutex_unlock(&rec->lock);
	return 0;
}

static unsigned rec_count(struct recorder *rec)
{
	unsigned n;

	pthread_mutex_lock(&rec->lock);
	n = rec->n;
	pthread_mutex_unlock(&rec->lock);
	return n;
}

static void rec_reset(struct recorder *rec)
{
	pthread_mutex_lock(&rec->lock);
	rec->n = 0;
	pthread_mutex_unlock(&rec->lock);
}

static struct recorder recs = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- DMA ---------------------------------------------------------------------------------- */

static int dma(struct rig *r, unsigned i, bool pasid_valid, uint32_t pasid, bool write,
	       uint64_t iova, void *buf, uint64_t len, struct dev_dma_report *rep)
{
	struct dev_dma d = {
		.pasid_valid = pasid_valid, .pasid = pasid, .write = write, .iova = iova,
		.buf = buf, .len = len,
	};

	return dev_dma(r->ep[i], &d, rep);
}

static void pattern(uint8_t *b, uint64_t n, unsigned seed)
{
	for (uint64_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 13 + seed * 0x3b + (i >> 7));
}

static void expect_host(struct rig *r, int line, uint64_t hpa, const uint8_t *want, uint64_t len)
{
	CHECK_MSG(!memcmp(r->ram + hpa, want, len), "line %d: bytes at HPA 0x%" PRIx64
		  " differ", line, hpa);
}

/* ---- probe ---------------------------------------------------------------------------------- */

static void test_probe(void)
{
	struct vtd_config c;
	struct rig r;
	struct vtd_stats st;
	const struct iommu_hw_info *info;
	uint64_t iqa;

	vtd_config_default(&c);
	rig_start(&r, &c);
	info = &r.u->info;
	/* TES | RTPS | QIES: bits 31, 30, 26 (facts §1.5). */
	CHECK_EQ((uint32_t)vtd_read(r.hw, VTD_GSTS, 4), 0xc4000000);
	/* RTADDR: the root table (4 KiB aligned, in the pool) with TTM 01 (bits 11:10). */
	CHECK_EQ(vtd_read(r.hw, VTD_RTADDR, 8) & ~RTADDR_RTA, 1 << 10);
	CHECK((vtd_read(r.hw, VTD_RTADDR, 8) & RTADDR_RTA) >= POOL_BASE);
	/* IQA: DW (bit 11) for 256-bit descriptors; the queue in the pool. */
	iqa = vtd_read(r.hw, VTD_IQA, 8);
	CHECK(iqa & IQA_DW);
	CHECK((iqa & IQA_IQA) >= POOL_BASE && (iqa & IQA_IQA) < POOL_BASE + POOL_SIZE);
	/* The page request queue is set up (ECAP.PRS) and its event unmasked, as is
	 * the fault event. */
	CHECK(vtd_read(r.hw, VTD_PQA, 8) & PQA_PQA);
	CHECK_EQ((uint32_t)vtd_read(r.hw, VTD_FECTL, 4), 0);
	CHECK_EQ((uint32_t)vtd_read(r.hw, VTD_PECTL, 4), 0);
	/* Global context-cache (1), PASID-cache (7) and IOTLB (2) invalidations and
	 * one wait (5). */
	vtd_get_stats(r.hw, &st);
	CHECK_EQ(st.descriptors[1], 1);
	CHECK_EQ(st.descriptors[7], 1);
	CHECK_EQ(st.descriptors[2], 1);
	CHECK_EQ(st.descriptors[5], 1);
	/* hw_info: ECAP.PSS 19 -> 20-bit PASIDs; 48-bit and (FL5LP) 57-bit first
	 * stages; MGAW 48; 4K, 2M (SLLPS bit 34), 1G (bit 35). */
	CHECK_EQ(info->vendor, IOMMU_VENDOR_INTEL_VTD);
	CHECK_EQ(info->pasid_bits, 20);
	CHECK_EQ(info->s1_addr_widths, BIT(48) | BIT(57));
	CHECK_EQ(info->oas, 48);
	CHECK_EQ(info->pgsize_bitmap, 0x40201000);
	CHECK_EQ(info->vtd.cap, vtd_read(r.hw, VTD_CAP, 8));
	CHECK_EQ(info->vtd.ecap, vtd_read(r.hw, VTD_ECAP, 8));
	rig_stop(&r);
	/* The unit is off again. */

	/* No scalable mode: the model has no knob for it, so the test clears SMTS in
	 * the fresh unit's ECAP (what a legacy-only unit would read). Likewise QI. */
	rig_memory(&r);
	r.hw = vtd_new(&c, r.ms);
	r.hw->ecap &= ~ECAP_SMTS;
	CHECK_EQ(intel_iommu_probe(r.hw, r.ms, r.pool, &r.u), -ENODEV);
	CHECK_EQ((uint32_t)vtd_read(r.hw, VTD_GSTS, 4), 0);
	CHECK_EQ(mem_frames_used(r.pool), 0);
	r.hw->ecap |= ECAP_SMTS;
	r.hw->ecap &= ~ECAP_QI;
	CHECK_EQ(intel_iommu_probe(r.hw, r.ms, r.pool, &r.u), -ENODEV);
	vtd_free(r.hw);
	mem_frames_free_pool(r.gpool);
	mem_space_free(r.gs);
	mem_frames_free_pool(r.pool);
	mem_space_free(r.ms);
}

/* ---- devices and the paging (second-stage) domain --------------------------------------------- */

static void test_paging(void)
{
	static uint8_t buf[0x2000];
	struct vtd_config c;
	struct rig r;
	struct iommu_domain *d;
	struct iommu_device *dup;
	struct dev_ep *ep_dup;
	struct dev_dma_report rep;
	struct dcount a;
	struct dev_ep_config ec = { .rid = RID_A, .pasid_bits = 20 };
	uint64_t ce, pe, w0, w1, did;

	vtd_config_default(&c);
	rig_start(&r, &c);
	rig_ep(&r, 0, RID_A, false, true);
	rig_ep(&r, 2, RID_C, false, false);

	/* Context entry of 00:03.0 (root entry bus 0 lo half, index 0x18): P, PASIDE
	 * (bit 3; no DTE, no PRE: no ATS, no PRI), PDTS = 20 - 13 = 7 (a directory of
	 * 2^14 entries covering 20-bit PASIDs); word 1 RID_PASID 0. */
	ce = context_entry(&r, RID_A);
	CHECK(ce != 0);
	w0 = get(&r, ce);
	CHECK_EQ(w0 & 0xfff, CE0_P | CE0_PASIDE | 7 << 9);
	CHECK_EQ(get(&r, ce + 8), 0);
	/* The directory: 2^14 entries of 8 bytes, 128 KiB, aligned to it. */
	CHECK_EQ((w0 & CE0_PDTP) & 0x1ffff, 0);
	/* The driver enabled PASID on the endpoint (its PASID DMAs are allowed). */
	CHECK(dev_ep_pasid_enabled(r.ep[0]));
	/* The RID is taken. */
	ep_dup = dev_ep_new(&ec, r.ms);
	CHECK_EQ(iommu_device_add(r.u, ep_dup, &dup), -EEXIST);
	dev_ep_free(ep_dup);

	iommu_device_set_fault_handler(r.dev[0], record_fault, &recs);
	rec_reset(&recs);
	CHECK_EQ(iommu_domain_alloc_paging(r.u, 0, &d), 0);
	/* Second stage, 4 levels (SAGAW has 48 bits): 48-bit IOVAs. */
	CHECK_EQ(d->fmt.family, PGT_VTD_SS);
	CHECK_EQ(d->fmt.levels, 4);
	CHECK_EQ(d->aperture_end, BIT(48) - 1);
	CHECK_EQ(iommu_map(d, IOVA, HDATA, 3 * PG, PGT_PROT_R | PGT_PROT_W), 0);
	CHECK_EQ(iommu_attach_dev(d, r.dev[0]), 0);
	/* RID_PASID (PASID 0) entry: SSPTPTR = the root | PGTT 2 (bits 8:6) | AW 2
	 * (bits 4:2, 4 levels) | P = root | 0x89; word 1 DID | PWSNP (bit 23:
	 * ECAP.SMPWCS); word 2 0. */
	pe = pasid_entry(&r, RID_A, 0);
	CHECK(pe != 0);
	CHECK_EQ(get(&r, pe), d->root | 0x89);
	w1 = get(&r, pe + 8);
	did = w1 & 0xffff;
	CHECK(did != 0);
	CHECK_EQ(w1 & ~0xffffull, BIT(23));
	CHECK_EQ(get(&r, pe + 16), 0);

	/* DMA without PASID: IOVA + 0x800, 0x2000 bytes -> HDATA + 0x800 onwards. */
	pattern(buf, sizeof(buf), 1);
	CHECK_EQ(dma(&r, 0, false, 0, true, IOVA + 0x800, buf, sizeof(buf), &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_OK);
	expect_host(&r, __LINE__, HDATA + 0x800, buf, sizeof(buf));
	CHECK_EQ(rec_count(&recs), 0);

	/* Unmap the middle page: flush_range [IOVA + 0x1000, +0x1000): one page,
	 * AM 0, IOTLB page-selective (type 2, G = 11): qw0 = 0x2 | 3 << 4 | DID << 16,
	 * qw1 = IOVA + 0x1000; then the wait. */
	dsnap(&r, &a);
	CHECK_EQ(iommu_unmap(d, IOVA + PG, PG, NULL), 0);
	expect_desc(&r, __LINE__, &a, (const unsigned[10]){ [2] = 1, [5] = 1 });
	expect_queued(&r, __LINE__, 2, 0x32 | did << 16, IOVA + PG);
	/* The DMA faults at IOVA + 0x1000 and the fault reaches the handler:
	 * second-stage entry not present (0x79 SSS.2) -> PTE_FETCH; the page address;
	 * no PASID; a write. */
	CHECK_EQ(dma(&r, 0, false, 0, true, IOVA + 0x800, buf, sizeof(buf), &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_FAULT);
	CHECK_EQ(rep.fault_iova, IOVA + PG);
	CHECK_EQ(rec_count(&recs), 1);
	CHECK_EQ(recs.dev[0], r.dev[0]);
	CHECK_EQ(recs.f[0].type, IOMMU_FAULT_DMA_UNRECOV);
	CHECK_EQ(recs.f[0].event.reason, IOMMU_FAULT_REASON_PTE_FETCH);
	CHECK_EQ(recs.f[0].event.flags, IOMMU_FAULT_UNRECOV_ADDR_VALID);
	CHECK_EQ(recs.f[0].event.addr, IOVA + PG);
	CHECK_EQ(recs.f[0].event.perm, IOMMU_FAULT_PERM_WRITE);
	/* The record was consumed: F cleared, FSTS clear (facts §1.10, §1.8). */
	CHECK_EQ((uint32_t)vtd_read(r.hw, VTD_FSTS, 4) & ~FSTS_FRI, 0);
	/* A read of the unmapped page: T1 -> READ. */
	CHECK_EQ(dma(&r, 0, false, 0, false, IOVA + PG, buf, 16, &rep), 0);
	CHECK_EQ(rec_count(&recs), 2);
	CHECK_EQ(recs.f[1].event.perm, IOMMU_FAULT_PERM_READ);

	/* A function the core does not know: context entry not present (0x41),
	 * recorded, its SID is no device: counted and dropped. */
	{
		struct intel_iommu_stats s0, s1;

		intel_iommu_get_stats(r.u, &s0);
		CHECK_EQ(dma(&r, 2, false, 0, false, IOVA, buf, 16, &rep), 0);
		CHECK_EQ(rep.status, DEV_DMA_FAULT);
		CHECK_EQ(rep.xlate.fault_reason, VTD_FR_CE_NP);
		intel_iommu_get_stats(r.u, &s1);
		CHECK_EQ(s1.faults_unknown - s0.faults_unknown, 1);
		CHECK_EQ(rec_count(&recs), 2);
	}

	/* Unmapping 3 pages at IOVA (first page 0x40000, last 0x40002: they first
	 * agree above bit 1 of the page number) is one block of 2^2 pages: AM 2.
	 * Pages 0x40003..0x40004 (xor 7) need AM 3 from 0x40000000. */
	CHECK_EQ(iommu_map(d, IOVA + PG, HDATA + PG, PG, PGT_PROT_R | PGT_PROT_W), 0);
	CHECK_EQ(iommu_map(d, IOVA + 3 * PG, HDATA + 3 * PG, 2 * PG, PGT_PROT_R), 0);
	CHECK_EQ(iommu_unmap(d, IOVA, 3 * PG, NULL), 0);
	expect_queued(&r, __LINE__, 2, 0x32 | did << 16, IOVA | 2);
	CHECK_EQ(iommu_unmap(d, IOVA + 3 * PG, 2 * PG, NULL), 0);
	expect_queued(&r, __LINE__, 2, 0x32 | did << 16, IOVA | 3);

	/* Detach: the entry goes (P = 0) with PASID-cache PASID-selective (type 7,
	 * G = 01: 0x7 | 1 << 4 | DID << 16, PASID 0) and IOTLB domain-selective
	 * (type 2, G = 10: 0x22 | DID << 16); no ATS, no device-TLB step. */
	dsnap(&r, &a);
	CHECK_EQ(iommu_detach_dev(r.dev[0]), 0);
	expect_desc(&r, __LINE__, &a, (const unsigned[10]){ [2] = 1, [5] = 1, [7] = 1 });
	expect_queued(&r, __LINE__, 3, 0x17 | did << 16, 0);
	expect_queued(&r, __LINE__, 2, 0x22 | did << 16, 0);
	CHECK_EQ(get(&r, pe), 0);
	/* Blocked now: the PASID entry is not present, 0x59 -> PASID_INVALID. */
	rec_reset(&recs);
	CHECK_EQ(dma(&r, 0, false, 0, false, IOVA + 3 * PG, buf, 16, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_FAULT);
	CHECK_EQ(rec_count(&recs), 1);
	CHECK_EQ(recs.f[0].event.reason, IOMMU_FAULT_REASON_PASID_INVALID);

	/* A first-stage paging domain at PASID 9 (PGTT 1, x86 4-level): FSPTPTR =
	 * the root, FLPM 0; prot needs U for requests without privilege. */
	{
		struct iommu_domain *fs;
		uint64_t fpe;

		CHECK_EQ(iommu_domain_alloc_paging(r.u, IOMMU_DOMAIN_F_FIRST_STAGE, &fs), 0);
		CHECK_EQ(fs->fmt.family, PGT_X86_FS);
		CHECK_EQ(iommu_map(fs, 0x10000, HDATA + 0x10000, PG,
				   PGT_PROT_R | PGT_PROT_W | PGT_PROT_U), 0);
		CHECK_EQ(iommu_attach_dev_pasid(fs, r.dev[0], 9), 0);
		fpe = pasid_entry(&r, RID_A, 9);
		/* Word 0: PGTT 1 (0x40) | AW 2 (0x8) | P; word 2: the root. */
		CHECK_EQ(get(&r, fpe), 0x49);
		CHECK_EQ(get(&r, fpe + 16), fs->root);
		pattern(buf, 64, 2);
		CHECK_EQ(dma(&r, 0, true, 9, true, 0x10040, buf, 64, &rep), 0);
		CHECK_EQ(rep.status, DEV_DMA_OK);
		expect_host(&r, __LINE__, HDATA + 0x10040, buf, 64);
		/* Unmap: PASID-based IOTLB page-selective for (DID, 9): type 6 G = 11. */
		did = get(&r, fpe + 8) & 0xffff;
		CHECK_EQ(iommu_unmap(fs, 0x10000, PG, NULL), 0);
		expect_queued(&r, __LINE__, 2, 0x36 | did << 16 | 9ull << 32, 0x10000);
		CHECK_EQ(iommu_detach_dev_pasid(r.dev[0], 9), 0);
		/* PGTT 1 tear-down: type 7, then type 6 G = 10 (0x26). */
		expect_queued(&r, __LINE__, 2, 0x26 | did << 16 | 9ull << 32, 0);
		CHECK_EQ(iommu_domain_free(fs), 0);
	}
	CHECK_EQ(iommu_domain_free(d), 0);
	rig_stop(&r);
}

/* ---- nested ---------------------------------------------------------------------------------- */

struct nest {
	struct iommu_domain *parent, *nested;
	struct pgt_fmt gfmt;
	uint64_t groot;                  /* the guest's PML4, a GPA */
	uint16_t did;
};

/* The nest parent maps GPA [0, 16 MiB) -> HPA 0x2000000 + GPA; the guest builds
 * a 4-level x86 table in its own memory (pgt_map with its pool) mapping
 * GVA + i * 4K -> GDATA + i * 4K for the n pages given. */
static void nest_setup(struct rig *r, struct nest *n, unsigned pages)
{
	struct iommu_user_s1 s1 = { .vendor = IOMMU_VENDOR_INTEL_VTD };
	struct pgt_cfg gc = { .family = PGT_X86_FS, .levels = 4, .oas = 48 };

	memset(n, 0, sizeof(*n));
	/* Three pieces, so that [GDATA, GDATA + 1 MiB) is mapped with 4 KiB pages
	 * (pgt_map takes the largest page the alignment and size allow). */
	if (iommu_domain_alloc_paging(r->u, IOMMU_DOMAIN_F_NEST_PARENT, &n->parent) ||
	    iommu_map(n->parent, 0, GUEST_HPA, GDATA, PGT_PROT_R | PGT_PROT_W) ||
	    iommu_map(n->parent, GDATA, GUEST_HPA + GDATA, 0x100000, PGT_PROT_R | PGT_PROT_W) ||
	    iommu_map(n->parent, GDATA + 0x100000, GUEST_HPA + GDATA + 0x100000,
		      GUEST_SIZE - GDATA - 0x100000, PGT_PROT_R | PGT_PROT_W) ||
	    pgt_fmt_init(&n->gfmt, &gc) || pgt_root_alloc(&n->gfmt, r->gpool, &n->groot))
		die("nest parent");
	if (pages && pgt_map(&n->gfmt, r->gpool, n->groot, GVA, GDATA, pages * PG,
			     PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0))
		die("guest map");
	s1.vtd.pgtbl = n->groot;
	s1.vtd.addr_width = 48;
	if (iommu_domain_alloc_nested(n->parent, &s1, &n->nested))
		die("nested");
}

static void nest_free(struct nest *n)
{
	CHECK_EQ(iommu_domain_free(n->nested), 0);
	CHECK_EQ(iommu_domain_free(n->parent), 0);
}

static struct {
	pthread_mutex_t lock;
	unsigned n;
	struct vtd_stale s;
} stales = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void stale_cb(void *ctx, const struct vtd_stale *s)
{
	(void)ctx;
	pthread_mutex_lock(&stales.lock);
	if (!stales.n++)
		stales.s = *s;
	pthread_mutex_unlock(&stales.lock);
}

static void test_nested(void)
{
	static uint8_t buf[PG], buf2[PG];
	struct vtd_config c;
	struct rig r;
	struct nest n;
	struct dev_dma_report rep;
	struct dcount a;
	struct iommu_inv inv;
	unsigned done;
	uint64_t pe, did;

	vtd_config_default(&c);
	rig_start(&r, &c);
	rig_ep(&r, 0, RID_A, false, true);
	iommu_device_set_fault_handler(r.dev[0], record_fault, &recs);
	rec_reset(&recs);
	nest_setup(&r, &n, 4);
	CHECK_EQ(iommu_attach_dev_pasid(n.nested, r.dev[0], 5), 0);

	/* PASID entry 5: SSPTPTR = the parent's root | PGTT 3 (0xc0) | AW 2 (0x8) | P
	 * = root | 0xc9; word 1 the parent's DID | PWSNP; word 2 FSPTPTR = the
	 * guest's root GPA, FLPM 0 (48-bit), no SRE/WPE/EAFE. */
	pe = pasid_entry(&r, RID_A, 5);
	CHECK(pe != 0);
	CHECK_EQ(get(&r, pe), n.parent->root | 0xc9);
	did = get(&r, pe + 8) & 0xffff;
	CHECK_EQ(get(&r, pe + 8), did | BIT(23));
	CHECK_EQ(get(&r, pe + 16), n.groot);
	CHECK(did != 0);

	/* DMA with PASID 5 at GVA + 0x1100: the guest maps it to GDATA + 0x1100,
	 * the parent to HPA 0x2000000 + 0x801100. */
	pattern(buf, 0x200, 3);
	CHECK_EQ(dma(&r, 0, true, 5, true, GVA + 0x1100, buf, 0x200, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_OK);
	expect_host(&r, __LINE__, GUEST_HPA + GDATA + 0x1100, buf, 0x200);

	/* The guest remaps GVA + 0x1000 to GDATA + 0x10000 (no invalidation yet):
	 * the IOTLB still holds the old translation, which the spec allows until the
	 * invalidation; the DMA lands on the old page. */
	CHECK_EQ(pgt_unmap(&n.gfmt, r.gpool, n.groot, GVA + PG, PG, NULL), 0);
	CHECK_EQ(pgt_map(&n.gfmt, r.gpool, n.groot, GVA + PG, GDATA + 0x10000, PG,
			 PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0), 0);
	pattern(buf2, 0x200, 4);
	CHECK_EQ(dma(&r, 0, true, 5, true, GVA + 0x1100, buf2, 0x200, &rep), 0);
	expect_host(&r, __LINE__, GUEST_HPA + GDATA + 0x1100, buf2, 0x200);

	/* IOTLB x ADDR, one 4 KiB granule, PASID 5, leaf: PASID-based IOTLB page-
	 * selective: qw0 = 0x6 | 3 << 4 | DID << 16 | 5 << 32, qw1 = GVA + 0x1000 |
	 * IH (bit 6) | AM 0; then the wait. No ATS on this endpoint: no type 8. */
	memset(&inv, 0, sizeof(inv));
	inv.cache = IOMMU_CACHE_INV_TYPE_IOTLB;
	inv.granu = IOMMU_INV_GRANU_ADDR;
	inv.pasid_valid = true;
	inv.pasid = 5;
	inv.leaf = true;
	inv.addr = GVA + PG;
	inv.granule_size = PG;
	inv.nb_granules = 1;
	dsnap(&r, &a);
	CHECK_EQ(iommu_cache_invalidate(n.nested, r.dev[0], &inv, 1, &done), 0);
	CHECK_EQ(done, 1);
	expect_desc(&r, __LINE__, &a, (const unsigned[10]){ [5] = 1, [6] = 1 });
	expect_queued(&r, __LINE__, 2, 0x36 | did << 16 | 5ull << 32, (GVA + PG) | BIT(6));
	CHECK_EQ(dma(&r, 0, true, 5, true, GVA + 0x1100, buf, 0x200, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_OK);
	expect_host(&r, __LINE__, GUEST_HPA + GDATA + 0x10100, buf, 0x200);

	/* A guest page not mapped: first-stage not present (0x71) -> PTE_FETCH, with
	 * the PASID; the request's (guest) address. */
	CHECK_EQ(dma(&r, 0, true, 5, false, GVA + 8 * PG, buf, 16, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_FAULT);
	CHECK_EQ(rec_count(&recs), 1);
	CHECK_EQ(recs.f[0].event.reason, IOMMU_FAULT_REASON_PTE_FETCH);
	CHECK_EQ(recs.f[0].event.flags,
		 IOMMU_FAULT_UNRECOV_ADDR_VALID | IOMMU_FAULT_UNRECOV_PASID_VALID);
	CHECK_EQ(recs.f[0].event.pasid, 5);
	CHECK_EQ(recs.f[0].event.addr, GVA + 8 * PG);
	CHECK_EQ(recs.f[0].event.perm, IOMMU_FAULT_PERM_READ);

	/* The host unmaps a GPA page the guest uses (GDATA + 0x2000, behind GVA +
	 * 0x2000; the parent maps it with 4 KiB pages): IOTLB page-selective in the
	 * parent's DID, AM 0 (type 2, G = 11), which also drops the DID's nested
	 * entries; the DMA then faults at the second stage (0x79 SSS.2 ->
	 * PTE_FETCH) on the guest's address. */
	CHECK_EQ(dma(&r, 0, true, 5, true, GVA + 2 * PG, buf, 16, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_OK);
	rec_reset(&recs);
	dsnap(&r, &a);
	CHECK_EQ(iommu_unmap(n.parent, GDATA + 2 * PG, PG, NULL), 0);
	expect_desc(&r, __LINE__, &a, (const unsigned[10]){ [2] = 1, [5] = 1 });
	expect_queued(&r, __LINE__, 2, 0x32 | did << 16, GDATA + 2 * PG);
	CHECK_EQ(dma(&r, 0, true, 5, true, GVA + 2 * PG, buf, 16, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_FAULT);
	CHECK_EQ(rep.xlate.fault_reason, VTD_FR_SS_ENTRY_NP);
	CHECK_EQ(rec_count(&recs), 1);
	CHECK_EQ(recs.f[0].event.reason, IOMMU_FAULT_REASON_PTE_FETCH);
	CHECK_EQ(recs.f[0].event.addr, GVA + 2 * PG);
	CHECK_EQ(recs.f[0].event.perm, IOMMU_FAULT_PERM_WRITE);
	CHECK_EQ(iommu_map(n.parent, GDATA + 2 * PG, GUEST_HPA + GDATA + 2 * PG, PG,
			   PGT_PROT_R | PGT_PROT_W), 0);
	rec_reset(&recs);

	/* Detach: PASID-cache PASID-selective (0x17 | DID | PASID 5), IOTLB
	 * domain-selective (nested, PGTT 3: type 2 G = 10), wait. */
	dsnap(&r, &a);
	CHECK_EQ(iommu_detach_dev_pasid(r.dev[0], 5), 0);
	expect_desc(&r, __LINE__, &a, (const unsigned[10]){ [2] = 1, [5] = 1, [7] = 1 });
	expect_queued(&r, __LINE__, 3, 0x17 | did << 16 | 5ull << 32, 0);
	expect_queued(&r, __LINE__, 2, 0x22 | did << 16, 0);
	CHECK_EQ(get(&r, pe), 0);
	nest_free(&n);
	rig_stop(&r);
}

/* ---- the coherence checker: a skipped invalidation is reported ------------------------- */

static void test_checker(void)
{
	static uint8_t buf[0x100];
	struct vtd_config c;
	struct rig r;
	struct nest n;
	struct dev_dma_report rep;
	struct iommu_inv inv = {
		.cache = IOMMU_CACHE_INV_TYPE_IOTLB, .granu = IOMMU_INV_GRANU_ADDR,
		.pasid_valid = true, .pasid = 5, .addr = GVA, .granule_size = PG, .nb_granules = 1,
	};
	unsigned done, nst;

	vtd_config_default(&c);
	c.checker = true;
	rig_start(&r, &c);
	vtd_set_stale_cb(r.hw, stale_cb, NULL);
	rig_ep(&r, 0, RID_A, false, true);
	nest_setup(&r, &n, 2);
	CHECK_EQ(iommu_attach_dev_pasid(n.nested, r.dev[0], 5), 0);
	pattern(buf, sizeof(buf), 5);
	CHECK_EQ(dma(&r, 0, true, 5, true, GVA, buf, sizeof(buf), &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_OK);
	/* The guest moves GVA to GDATA + 0x30000 and skips the invalidation: the
	 * IOTLB entry is stale and the checker says so, naming the PASID and the
	 * invalidation that was missing (it serves the fresh translation). */
	CHECK_EQ(pgt_unmap(&n.gfmt, r.gpool, n.groot, GVA, PG, NULL), 0);
	CHECK_EQ(pgt_map(&n.gfmt, r.gpool, n.groot, GVA, GDATA + 0x30000, PG,
			 PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0), 0);
	pthread_mutex_lock(&stales.lock);
	stales.n = 0;
	pthread_mutex_unlock(&stales.lock);
	CHECK_EQ(dma(&r, 0, true, 5, true, GVA, buf, sizeof(buf), &rep), 0);
	pthread_mutex_lock(&stales.lock);
	nst = stales.n;
	pthread_mutex_unlock(&stales.lock);
	CHECK(nst >= 1);
	if (nst) {
		CHECK(!strcmp(stales.s.cache, "iotlb"));
		CHECK_EQ(stales.s.pasid, 5);
		CHECK_EQ(stales.s.addr & ~0xfffull, GVA);
		CHECK(stales.s.missing != NULL);
	}
	/* With the invalidation passed down, nothing is stale. */
	CHECK_EQ(iommu_cache_invalidate(n.nested, r.dev[0], &inv, 1, &done), 0);
	pthread_mutex_lock(&stales.lock);
	stales.n = 0;
	pthread_mutex_unlock(&stales.lock);
	CHECK_EQ(dma(&r, 0, true, 5, true, GVA, buf, sizeof(buf), &rep), 0);
	CHECK_EQ(dma(&r, 0, true, 5, true, GVA, buf, sizeof(buf), &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_OK);
	expect_host(&r, __LINE__, GUEST_HPA + GDATA + 0x30000, buf, sizeof(buf));
	CHECK_EQ(stales.n, 0);
	CHECK_EQ(iommu_detach_dev_pasid(r.dev[0], 5), 0);
	nest_free(&n);
	rig_stop(&r);
}

/* ---- nested domain_init refusals ---------------------------------------------------------- */

static int try_nested(struct iommu_domain *parent, uint64_t pgtbl, uint32_t aw, uint32_t flags,
		      uint32_t pat, uint32_t emt)
{
	struct iommu_user_s1 s1 = { .vendor = IOMMU_VENDOR_INTEL_VTD };
	struct iommu_domain *d;
	int ret;

	s1.vtd.pgtbl = pgtbl;
	s1.vtd.addr_width = aw;
	s1.vtd.flags = flags;
	s1.vtd.pat = pat;
	s1.vtd.emt = emt;
	ret = iommu_domain_alloc_nested(parent, &s1, &d);
	if (!ret)
		CHECK_EQ(iommu_domain_free(d), 0);
	return ret;
}

static void test_refusals(void)
{
	struct vtd_config c;
	struct rig r;
	struct iommu_domain *p, *plain, *d;
	struct iommu_user_s1 s1 = { .vendor = IOMMU_VENDOR_ARM_SMMUV3 };

	/* A full unit: what it can do is accepted, what it cannot is refused. */
	vtd_config_default(&c);
	rig_start(&r, &c);
	CHECK_EQ(iommu_domain_alloc_paging(r.u, IOMMU_DOMAIN_F_NEST_PARENT, &p), 0);
	CHECK_EQ(iommu_domain_alloc_paging(r.u, 0, &plain), 0);
	CHECK_EQ(try_nested(p, 0x1000, 48, 0, 0, 0), 0);
	CHECK_EQ(try_nested(p, 0x1000, 57, 0, 0, 0), 0);                  /* FL5LP */
	CHECK_EQ(try_nested(p, 0x1000, 48, IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_WPE |
			    IOMMU_VTD_S1_EAFE, 0, 0), 0);
	CHECK_EQ(try_nested(p, 0x1000, 48, BIT(7), 0, 0), -EINVAL);         /* unknown flag */
	CHECK_EQ(try_nested(p, 0x1000, 48, BIT(31), 0, 0), -EINVAL);
	CHECK_EQ(try_nested(p, 0x1000, 39, 0, 0, 0), -EINVAL);              /* width */
	CHECK_EQ(try_nested(p, 0x1000, 0, 0, 0, 0), -EINVAL);
	CHECK_EQ(try_nested(p, 0x1000, 64, 0, 0, 0), -EINVAL);
	CHECK_EQ(try_nested(p, 0x1000, 48, IOMMU_VTD_S1_WPE, 0, 0), -EINVAL); /* WPE w/o SRE */
	/* No ECAP.MTS on this unit (the model has none): every memory-type field. */
	CHECK_EQ(try_nested(p, 0x1000, 48, IOMMU_VTD_S1_PCD, 0, 0), -EINVAL);
	CHECK_EQ(try_nested(p, 0x1000, 48, IOMMU_VTD_S1_PWT, 0, 0), -EINVAL);
	CHECK_EQ(try_nested(p, 0x1000, 48, IOMMU_VTD_S1_EMTE, 0, 0), -EINVAL);
	CHECK_EQ(try_nested(p, 0x1000, 48, IOMMU_VTD_S1_CD, 0, 0), -EINVAL);
	CHECK_EQ(try_nested(p, 0x1000, 48, 0, 0x06040600, 0), -EINVAL);
	CHECK_EQ(try_nested(p, 0x1000, 48, 0, 0, 6), -EINVAL);
	/* The guest's root GPA beyond the parent's 48-bit input range. */
	CHECK_EQ(try_nested(p, BIT(48), 48, 0, 0, 0), -EINVAL);
	CHECK_EQ(try_nested(p, BIT(48) - PG, 48, 0, 0, 0), 0);
	/* The core's own checks: a parent that is no nest parent, another vendor. */
	CHECK_EQ(try_nested(plain, 0x1000, 48, 0, 0, 0), -EINVAL);
	CHECK_EQ(iommu_domain_alloc_nested(p, &s1, &d), -EINVAL);
	CHECK_EQ(iommu_domain_alloc_paging(r.u, IOMMU_DOMAIN_F_NEST_PARENT |
					   IOMMU_DOMAIN_F_FIRST_STAGE, &d), -EINVAL);
	CHECK_EQ(iommu_domain_free(plain), 0);
	CHECK_EQ(iommu_domain_free(p), 0);
	rig_stop(&r);

	/* No SRS, EAFS, FL5LP: SRE, EAFE and 57 bits are refused. */
	vtd_config_default(&c);
	c.srs = false;
	c.eafs = false;
	c.fl5lp = false;
	rig_start(&r, &c);
	CHECK_EQ(r.u->info.s1_addr_widths, BIT(48));
	CHECK_EQ(iommu_domain_alloc_paging(r.u, IOMMU_DOMAIN_F_NEST_PARENT, &p), 0);
	CHECK_EQ(try_nested(p, 0x1000, 48, 0, 0, 0), 0);
	CHECK_EQ(try_nested(p, 0x1000, 48, IOMMU_VTD_S1_SRE, 0, 0), -EINVAL);
	CHECK_EQ(try_nested(p, 0x1000, 48, IOMMU_VTD_S1_EAFE, 0, 0), -EINVAL);
	CHECK_EQ(try_nested(p, 0x1000, 57, 0, 0, 0), -EINVAL);
	CHECK_EQ(iommu_domain_free(p), 0);
	rig_stop(&r);

	/* No ECAP.NEST: no nest parent (-EOPNOTSUPP, today's kernel), no user first
	 * stage advertised; plain second-stage domains still work. */
	vtd_config_default(&c);
	c.nest = false;
	rig_start(&r, &c);
	CHECK_EQ(r.u->info.s1_addr_widths, 0);
	CHECK_EQ(iommu_domain_alloc_paging(r.u, IOMMU_DOMAIN_F_NEST_PARENT, &p), -EOPNOTSUPP);
	CHECK_EQ(iommu_domain_alloc_paging(r.u, 0, &p), 0);
	CHECK_EQ(iommu_domain_free(p), 0);
	rig_stop(&r);

	/* Only 39-bit second stages and no large pages: 3 levels, 4 KiB only. */
	vtd_config_default(&c);
	c.sagaw = BIT(1);
	c.sllps_2m = c.sllps_1g = false;
	rig_start(&r, &c);
	CHECK_EQ(iommu_domain_alloc_paging(r.u, 0, &p), 0);
	CHECK_EQ(p->fmt.levels, 3);
	CHECK_EQ(p->aperture_end, BIT(39) - 1);
	CHECK_EQ(p->pgsize_bitmap, BIT(12));
	CHECK_EQ(r.u->info.pgsize_bitmap, BIT(12));
	CHECK_EQ(iommu_domain_free(p), 0);
	rig_stop(&r);
}

/* ---- a PASID entry the core does not know: -EBUSY ---------------------------------------- */

static void test_busy(void)
{
	struct vtd_config c;
	struct rig r;
	struct iommu_domain *d;
	uint64_t pe6;

	vtd_config_default(&c);
	rig_start(&r, &c);
	rig_ep(&r, 0, RID_A, false, true);
	CHECK_EQ(iommu_domain_alloc_paging(r.u, 0, &d), 0);
	CHECK_EQ(iommu_attach_dev_pasid(d, r.dev[0], 5), 0);
	/* PASIDs 5 and 6 share a PASID table (directory entry 0). Someone else makes
	 * entry 6 present: PGTT 2 | AW 2 | P over some table, DID 0x99. */
	pe6 = pasid_entry(&r, RID_A, 6);
	CHECK(pe6 != 0);
	put(&r, pe6 + 8, 0x99);
	put(&r, pe6, 0x123000 | 0x89);
	CHECK_EQ(iommu_attach_dev_pasid(d, r.dev[0], 6), -EBUSY);
	CHECK_EQ(get(&r, pe6), 0x123089);             /* left alone */
	CHECK_EQ(get(&r, pe6 + 8), 0x99);
	CHECK(iommu_attached_domain(r.dev[0], true, 6) == NULL);
	/* Once it is gone, the attach works; a PASID beyond 20 bits does not. */
	put(&r, pe6, 0);
	put(&r, pe6 + 8, 0);
	CHECK_EQ(iommu_attach_dev_pasid(d, r.dev[0], 6), 0);
	CHECK_EQ(iommu_attach_dev_pasid(d, r.dev[0], 1u << 20), -EINVAL);
	CHECK_EQ(iommu_attach_dev_pasid(d, r.dev[0], 0), -EINVAL);
	/* Replacing a known entry is no conflict. */
	{
		struct iommu_domain *d2;

		CHECK_EQ(iommu_domain_alloc_paging(r.u, 0, &d2), 0);
		CHECK_EQ(iommu_attach_dev_pasid(d2, r.dev[0], 6), 0);
		CHECK_EQ(get(&r, pe6), d2->root | 0x89);
		CHECK_EQ(iommu_detach_dev_pasid(r.dev[0], 6), 0);
		CHECK_EQ(iommu_domain_free(d2), 0);
	}
	CHECK_EQ(iommu_detach_dev_pasid(r.dev[0], 5), 0);
	CHECK_EQ(iommu_domain_free(d), 0);
	rig_stop(&r);
}

/* ---- the generic-to-VT-d invalidation map ------------------------------------------------ */

static struct iommu_inv inv_addr(uint8_t cache, uint32_t pasid, uint64_t addr, uint64_t granule,
				 uint64_t nb, bool leaf)
{
	struct iommu_inv e = {
		.cache = cache, .granu = IOMMU_INV_GRANU_ADDR, .pasid_valid = true, .pasid = pasid,
		.leaf = leaf, .addr = addr, .granule_size = granule, .nb_granules = nb,
	};

	return e;
}

static struct iommu_inv inv_pasid(uint8_t cache, uint32_t pasid)
{
	struct iommu_inv e = {
		.cache = cache, .granu = IOMMU_INV_GRANU_PASID, .pasid_valid = true, .pasid = pasid,
	};

	return e;
}

#define T_IOTLB  IOMMU_CACHE_INV_TYPE_IOTLB
#define T_DEV    IOMMU_CACHE_INV_TYPE_DEV_IOTLB
#define T_PASID  IOMMU_CACHE_INV_TYPE_PASID

/* One invalidation: the return, done, and the descriptors the unit processed. */
static void inv_one(struct rig *r, int line, struct iommu_domain *d, unsigned dev,
		    struct iommu_inv e, int want_ret, unsigned want_done, const unsigned want[10])
{
	struct dcount a;
	unsigned done = 99;
	int ret;

	dsnap(r, &a);
	ret = iommu_cache_invalidate(d, r->dev[dev], &e, 1, &done);
	CHECK_MSG(ret == want_ret && done == want_done, "line %d: returned %d done %u, "
		  "expected %d %u", line, ret, done, want_ret, want_done);
	expect_desc(r, line, &a, want);
}

static void test_inv_map(void)
{
	static const unsigned none[10], t6[10] = { [5] = 1, [6] = 1 },
		t8[10] = { [5] = 1, [8] = 1 }, t68[10] = { [5] = 1, [6] = 1, [8] = 1 };
	struct vtd_config c;
	struct rig r;
	struct nest n;
	struct iommu_inv batch[4];
	struct dcount a;
	unsigned done;
	uint64_t did, q0;

	vtd_config_default(&c);
	rig_start(&r, &c);
	rig_ep(&r, 0, RID_A, false, true);
	rig_ep(&r, 1, RID_B, true, true);
	nest_setup(&r, &n, 4);
	CHECK_EQ(iommu_attach_dev_pasid(n.nested, r.dev[0], 5), 0);
	CHECK_EQ(iommu_attach_dev_pasid(n.nested, r.dev[1], 7), 0);
	did = get(&r, pasid_entry(&r, RID_A, 5) + 8) & 0xffff;
	/* B's context entry has DTE and PRE besides PASIDE and P (bits 2, 4, 3, 0;
	 * FPD, bit 1, clear) and the driver enabled ATS and PRI on it. */
	CHECK_EQ(get(&r, context_entry(&r, RID_B)) & 0x1f, 0x1d);
	CHECK(dev_ep_ats_enabled(r.ep[1]));
	/* q0(pasid) = type 6 | DID << 16 | PASID << 32, G added below. */
	q0 = 0x6 | did << 16;

	/* IOTLB x PASID: PASID-based IOTLB, G = 10 (0x20), address 0. */
	inv_one(&r, __LINE__, n.nested, 0, inv_pasid(T_IOTLB, 5), 0, 1, t6);
	expect_queued(&r, __LINE__, 2, q0 | 0x20 | 5ull << 32, 0);
	/* IOTLB x ADDR, 3 granules of 4 KiB at GVA + 0x10000: 3 pages round up to
	 * 4 = 2^2: AM 2, the address 16 KiB aligned; G = 11 (0x30); not leaf. */
	inv_one(&r, __LINE__, n.nested, 0, inv_addr(T_IOTLB, 5, GVA + 0x10000, PG, 3, false),
		0, 1, t6);
	expect_queued(&r, __LINE__, 2, q0 | 0x30 | 5ull << 32, (GVA + 0x10000) | 2);
	/* One 2 MiB granule: 512 pages, AM 9; leaf: IH (bit 6). */
	inv_one(&r, __LINE__, n.nested, 0, inv_addr(T_IOTLB, 5, GVA + 0x200000, 0x200000, 1, true),
		0, 1, t6);
	expect_queued(&r, __LINE__, 2, q0 | 0x30 | 5ull << 32, (GVA + 0x200000) | 9 | BIT(6));
	/* Two 1 GiB granules: 2^19 pages, AM 19 > CAP.MAMV 18: the PASID-wide form. */
	inv_one(&r, __LINE__, n.nested, 0, inv_addr(T_IOTLB, 5, GVA, 1ull << 30, 2, false),
		0, 1, t6);
	expect_queued(&r, __LINE__, 2, q0 | 0x20 | 5ull << 32, 0);
	/* Misaligned: 2 pages (8 KiB) at GVA + 0x1000; one page at GVA + 0x800. */
	inv_one(&r, __LINE__, n.nested, 0, inv_addr(T_IOTLB, 5, GVA + PG, PG, 2, false),
		-ERANGE, 0, none);
	inv_one(&r, __LINE__, n.nested, 0, inv_addr(T_IOTLB, 5, GVA + 0x800, PG, 1, false),
		-ERANGE, 0, none);
	/* Refused combinations: every DOMAIN granularity, every PASID-cache request. */
	{
		static const uint8_t caches[] = { T_IOTLB, T_DEV, T_PASID, T_IOTLB | T_DEV };

		for (unsigned i = 0; i < ARRAY_SIZE(caches); i++) {
			struct iommu_inv e = inv_pasid(caches[i], 5);

			e.granu = IOMMU_INV_GRANU_DOMAIN;
			inv_one(&r, __LINE__, n.nested, 0, e, -EINVAL, 0, none);
		}
		inv_one(&r, __LINE__, n.nested, 0, inv_pasid(T_PASID, 5), -EINVAL, 0, none);
		inv_one(&r, __LINE__, n.nested, 0, inv_pasid(T_PASID | T_IOTLB, 5), -EINVAL, 0,
			none);
		inv_one(&r, __LINE__, n.nested, 0, inv_addr(T_PASID, 5, GVA, PG, 1, false),
			-EINVAL, 0, none);
	}
	/* A PASID the nested domain is not attached at on this device; no PASID (the
	 * domain is not attached at RID_PASID). */
	inv_one(&r, __LINE__, n.nested, 0, inv_pasid(T_IOTLB, 7), -EINVAL, 0, none);
	{
		struct iommu_inv e = inv_pasid(T_IOTLB, 0);

		e.pasid_valid = false;
		inv_one(&r, __LINE__, n.nested, 0, e, -EINVAL, 0, none);
	}
	/* DEV_IOTLB on an endpoint without ATS: nothing to do, not an error. */
	inv_one(&r, __LINE__, n.nested, 0, inv_addr(T_DEV, 5, GVA, PG, 1, false), 0, 1, none);

	/* With ATS (B, PASID 7). Type 8 qw0 = 0x8 | SID 0x20 << 16 | PASID 7 << 32 |
	 * PFSID (the RID 0x20: bits 15:12 = 0x0, bits 63:52 = 0x2) = 0x0020000700200008.
	 * DEV_IOTLB x ADDR, 4 pages at GVA + 0x10000: S = 1 (bit 11), the size 2^14
	 * coded by ADDR bit 12 = 1, bit 13 = 0: qw1 = GVA + 0x11000 | 0x800. */
	inv_one(&r, __LINE__, n.nested, 1, inv_addr(T_DEV, 7, GVA + 0x10000, PG, 4, false),
		0, 1, t8);
	expect_queued(&r, __LINE__, 2, 0x0020000700200008ull, (GVA + 0x11000) | 0x800);
	/* DEV_IOTLB x PASID: the whole space, ADDR bits 62:12 all ones, S. */
	inv_one(&r, __LINE__, n.nested, 1, inv_pasid(T_DEV, 7), 0, 1, t8);
	expect_queued(&r, __LINE__, 2, 0x0020000700200008ull, 0x7ffffffffffff800ull);
	/* IOTLB x ADDR with ATS: type 6 and then type 8 (one page: S = 0). */
	inv_one(&r, __LINE__, n.nested, 1, inv_addr(T_IOTLB, 7, GVA, PG, 1, false), 0, 1, t68);
	expect_queued(&r, __LINE__, 3, q0 | 0x30 | 7ull << 32, GVA);
	expect_queued(&r, __LINE__, 2, 0x0020000700200008ull, GVA);
	/* IOTLB and DEV_IOTLB together: one type 8, not two. */
	inv_one(&r, __LINE__, n.nested, 1, inv_pasid(T_IOTLB | T_DEV, 7), 0, 1, t68);

	/* The nested domain at B's RID too (RID_PASID, PGTT 3): a DMA without PASID
	 * through it; an invalidation without a PASID addresses PASID 0 (type 6) and
	 * the device TLB of requests without PASID (type 3: qw0 = 0x3 | SID 0x20 << 32
	 * | PFSID 0x20 (bits 63:52 = 0x2) = 0x0020002000000003). Two pages at GVA:
	 * AM 1 / S = 1 with ADDR bit 12 = 0 (8 KiB): qw1 = GVA | S (bit 0). */
	CHECK_EQ(iommu_attach_dev(n.nested, r.dev[1]), 0);
	{
		static uint8_t b8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
		struct dev_dma_report rep;
		struct iommu_inv e = inv_addr(T_IOTLB, 0, GVA, PG, 2, false);

		CHECK_EQ(dma(&r, 1, false, 0, true, GVA + 0x3008, b8, 8, &rep), 0);
		CHECK_EQ(rep.status, DEV_DMA_OK);
		expect_host(&r, __LINE__, GUEST_HPA + GDATA + 0x3008, b8, 8);
		e.pasid_valid = false;
		inv_one(&r, __LINE__, n.nested, 1, e, 0, 1,
			(const unsigned[10]){ [3] = 1, [5] = 1, [6] = 1 });
		expect_queued(&r, __LINE__, 3, q0 | 0x30, GVA | 1);
		expect_queued(&r, __LINE__, 2, 0x0020002000000003ull, GVA | 1);
		/* Detach at RID with ATS: type 7, type 2, type 3 for everything (bits
		 * 62:12 ones, S). */
		CHECK_EQ(iommu_detach_dev(r.dev[1]), 0);
		expect_queued(&r, __LINE__, 2, 0x0020002000000003ull, 0x7ffffffffffff001ull);
	}

	/* More descriptors than the queue holds (256 slots, 255 usable): the driver
	 * hands the full queue over and goes on; all 300 and one wait run. */
	{
		static struct iommu_inv many[300];

		for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
			many[i] = inv_addr(T_IOTLB, 5, GVA + i * PG, PG, 1, false);
		dsnap(&r, &a);
		CHECK_EQ(iommu_cache_invalidate(n.nested, r.dev[0], many, 300, &done), 0);
		CHECK_EQ(done, 300);
		expect_desc(&r, __LINE__, &a, (const unsigned[10]){ [5] = 1, [6] = 300 });
		expect_queued(&r, __LINE__, 2, q0 | 0x30 | 5ull << 32, GVA + 299 * PG);
		CHECK_EQ((uint32_t)vtd_read(r.hw, VTD_FSTS, 4) & FSTS_IQE, 0);
	}

	/* A batch stops at its first bad entry; the good ones before it took effect
	 * (two type 6 and one wait). */
	batch[0] = inv_pasid(T_IOTLB, 5);
	batch[1] = inv_addr(T_IOTLB, 5, GVA, PG, 1, false);
	batch[2] = inv_pasid(T_PASID, 5);
	batch[3] = inv_pasid(T_IOTLB, 5);
	dsnap(&r, &a);
	CHECK_EQ(iommu_cache_invalidate(n.nested, r.dev[0], batch, 4, &done), -EINVAL);
	CHECK_EQ(done, 2);
	expect_desc(&r, __LINE__, &a, (const unsigned[10]){ [5] = 1, [6] = 2 });

	/* The host unmaps a page of the nest parent: IOTLB page-selective in the DID
	 * (type 2), and B's device TLB for the nested PASID 7 as a whole (type 8,
	 * whole space): the device caches guest addresses. */
	dsnap(&r, &a);
	CHECK_EQ(iommu_unmap(n.parent, GDATA + 4 * PG, PG, NULL), 0);
	expect_desc(&r, __LINE__, &a, (const unsigned[10]){ [2] = 1, [5] = 1, [8] = 1 });
	expect_queued(&r, __LINE__, 3, 0x32 | did << 16, GDATA + 4 * PG);
	expect_queued(&r, __LINE__, 2, 0x0020000700200008ull, 0x7ffffffffffff800ull);

	/* Detaching B's PASID 7 (ATS): type 7, type 2, type 8 whole space, wait. */
	dsnap(&r, &a);
	CHECK_EQ(iommu_detach_dev_pasid(r.dev[1], 7), 0);
	expect_desc(&r, __LINE__, &a, (const unsigned[10]){ [2] = 1, [5] = 1, [7] = 1, [8] = 1 });
	CHECK_EQ(iommu_detach_dev_pasid(r.dev[0], 5), 0);
	nest_free(&n);
	rig_stop(&r);
}

/* ---- page requests: PRI round trip --------------------------------------------------------- */

struct pri_job {
	struct rig *r;
	uint32_t pasid;
	uint64_t iova;
	uint8_t *buf;
	uint64_t len;
	struct dev_dma_report rep;
	int ret;
};

static void *pri_thread(void *arg)
{
	struct pri_job *j = arg;
	struct dev_dma d = {
		.pasid_valid = true, .pasid = j->pasid, .write = true, .iova = j->iova,
		.buf = j->buf, .len = j->len, .use_pri = true,
		.retry_wait_ns = 20ull * 1000 * 1000 * 1000,
	};

	j->ret = dev_dma(j->r->ep[1], &d, &j->rep);
	return NULL;
}

/* Waits until the recorder holds n records (10 s at most). */
static bool wait_records(unsigned n)
{
	uint64_t start = now_ns();

	while (rec_count(&recs) < n) {
		if (now_ns() - start > 10ull * 1000 * 1000 * 1000)
			return false;
		sched_yield();
	}
	return true;
}

static void test_pri(void)
{
	static uint8_t buf[0x300];
	struct vtd_config c;
	struct rig r;
	struct nest n;
	struct pri_job j;
	pthread_t t;
	struct iommu_fault f;
	struct intel_iommu_stats st;

	vtd_config_default(&c);
	rig_start(&r, &c);
	rig_ep(&r, 1, RID_B, true, true);
	iommu_device_set_fault_handler(r.dev[1], record_fault, &recs);
	rec_reset(&recs);
	nest_setup(&r, &n, 1);
	CHECK_EQ(iommu_attach_dev_pasid(n.nested, r.dev[1], 7), 0);

	/* The endpoint writes to GVA + 0x5100, which the guest has not mapped: its
	 * ATS translation completes with R = W = 0 (not recorded), it sends a page
	 * request, the driver reports it. */
	pattern(buf, sizeof(buf), 7);
	memset(&j, 0, sizeof(j));
	j.r = &r;
	j.pasid = 7;
	j.iova = GVA + 0x5100;
	j.buf = buf;
	j.len = sizeof(buf);
	if (pthread_create(&t, NULL, pri_thread, &j))
		die("pthread_create");
	CHECK(wait_records(1));
	f = recs.f[0];
	CHECK_EQ(recs.dev[0], r.dev[1]);
	CHECK_EQ(f.type, IOMMU_FAULT_PAGE_REQ);
	CHECK_EQ(f.prm.flags, IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
		 IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE | IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID);
	CHECK_EQ(f.prm.pasid, 7);
	CHECK_EQ(f.prm.perm, IOMMU_FAULT_PERM_WRITE);
	CHECK_EQ(f.prm.addr, GVA + 0x5000);
	CHECK(f.prm.grpid < 512);
	/* The guest maps the page; the user answers Success: a page group response
	 * (type 9): qw0 = 0x9 | PP (bit 4) | RC 0 | RID 0x20 << 16 | PASID 7 << 32 =
	 * 0x700200019, qw1 = LPIG (bit 2) | PRGI << 3. The DMA's retry succeeds. */
	CHECK_EQ(pgt_map(&n.gfmt, r.gpool, n.groot, GVA + 0x5000, GDATA + 0x40000, PG,
			 PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0), 0);
	CHECK_EQ(iommu_page_response(r.dev[1], true, 7, f.prm.grpid, IOMMU_PAGE_RESP_SUCCESS), 0);
	expect_queued(&r, __LINE__, 2, 0x700200019ull, BIT(2) | (uint64_t)f.prm.grpid << 3);
	pthread_join(t, NULL);
	CHECK_EQ(j.ret, 0);
	CHECK_EQ(j.rep.status, DEV_DMA_OK);
	CHECK_EQ(j.rep.page_requests, 1);
	expect_host(&r, __LINE__, GUEST_HPA + GDATA + 0x40100, buf, sizeof(buf));
	/* Answered already; and a group nobody asked about. */
	CHECK_EQ(iommu_page_response(r.dev[1], true, 7, f.prm.grpid, IOMMU_PAGE_RESP_SUCCESS),
		 -EINVAL);
	CHECK_EQ(iommu_page_response(r.dev[1], true, 7, (f.prm.grpid + 1) % 512,
				     IOMMU_PAGE_RESP_SUCCESS), -EINVAL);

	/* Answered Invalid: RC 1 (bits 15:12), the DMA gives up. */
	rec_reset(&recs);
	j.iova = GVA + 0x6000;
	if (pthread_create(&t, NULL, pri_thread, &j))
		die("pthread_create");
	CHECK(wait_records(1));
	f = recs.f[0];
	CHECK_EQ(f.prm.addr, GVA + 0x6000);
	CHECK_EQ(iommu_page_response(r.dev[1], true, 7, f.prm.grpid, IOMMU_PAGE_RESP_INVALID), 0);
	expect_queued(&r, __LINE__, 2, 0x700201019ull, BIT(2) | (uint64_t)f.prm.grpid << 3);
	pthread_join(t, NULL);
	CHECK_EQ(j.rep.status, DEV_DMA_PRI_FAILED);

	/* No handler: the core answers Invalid itself through the driver. */
	iommu_device_set_fault_handler(r.dev[1], NULL, NULL);
	j.iova = GVA + 0x7000;
	if (pthread_create(&t, NULL, pri_thread, &j))
		die("pthread_create");
	pthread_join(t, NULL);
	CHECK_EQ(j.rep.status, DEV_DMA_PRI_FAILED);
	intel_iommu_get_stats(r.u, &st);
	CHECK_EQ(st.page_requests, 3);
	CHECK_EQ(st.prq_unknown, 0);
	/* The queue is empty again: PQH = PQT, PRS clear. */
	CHECK_EQ(vtd_read(r.hw, VTD_PQH, 8), vtd_read(r.hw, VTD_PQT, 8));
	CHECK_EQ((uint32_t)vtd_read(r.hw, VTD_PRS, 4), 0);

	CHECK_EQ(iommu_detach_dev_pasid(r.dev[1], 7), 0);
	nest_free(&n);
	rig_stop(&r);
}

/* ---- concurrent faults: none left behind ------------------------------------------------ */

struct fault_job {
	struct rig *r;
	unsigned i;
};

static void *fault_thread(void *arg)
{
	struct fault_job *j = arg;
	struct dev_dma_report rep;
	uint8_t b[8];

	for (unsigned k = 0; k < 200; k++)
		dma(j->r, 0, false, 0, (k & 1) != 0, IOVA + (j->i * 256 + k) * PG, b, 8, &rep);
	return NULL;
}

static void test_concurrent_faults(void)
{
	struct vtd_config c;
	struct rig r;
	struct iommu_domain *d;
	struct fault_job jobs[4];
	pthread_t t[4];
	struct vtd_stats st;
	struct intel_iommu_stats ist;

	vtd_config_default(&c);
	rig_start(&r, &c);
	rig_ep(&r, 0, RID_A, false, true);
	iommu_device_set_fault_handler(r.dev[0], record_fault, &recs);
	rec_reset(&recs);
	CHECK_EQ(iommu_domain_alloc_paging(r.u, 0, &d), 0);
	CHECK_EQ(iommu_attach_dev(d, r.dev[0]), 0);
	/* Four threads, 200 faulting DMAs each (nothing is mapped). Records may be
	 * lost to overflow (PFO) as on hardware, but every record made is read and
	 * reported, and none is left pending. */
	for (unsigned i = 0; i < 4; i++) {
		jobs[i].r = &r;
		jobs[i].i = i;
		if (pthread_create(&t[i], NULL, fault_thread, &jobs[i]))
			die("pthread_create");
	}
	for (unsigned i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	vtd_get_stats(r.hw, &st);
	intel_iommu_get_stats(r.u, &ist);
	CHECK_EQ(st.faults_recorded + st.faults_overflow, 800);
	CHECK_EQ(ist.faults, st.faults_recorded);
	CHECK_EQ(rec_count(&recs), st.faults_recorded);
	CHECK_EQ((uint32_t)vtd_read(r.hw, VTD_FSTS, 4) & (FSTS_PPF | FSTS_PFO), 0);
	CHECK_EQ(iommu_detach_dev(r.dev[0]), 0);
	CHECK_EQ(iommu_domain_free(d), 0);
	rig_stop(&r);
}

int main(void)
{
	test_probe();
	test_paging();
	test_nested();
	test_checker();
	test_refusals();
	test_busy();
	test_inv_map();
	test_pri();
	test_concurrent_faults();
	return check_exit();
}
