/* bench/passdown/bench_passdown.c — generic invalidations passed down per second,
 * one per call and batched, on both vendors (issue 5), each rate against the
 * others measured in the same run.
 *
 * The platform is built as tests/test_vfio_nesting.c builds it: host memory, a
 * VT-d or SMMUv3 model with vsva's host driver probed on it, one endpoint
 * (00:20.0) in a VFIO type1 nesting container, guest RAM mapped with MAP_DMA, a
 * PASID from PASID_REQUEST, a guest first stage in guest RAM (VT-d: an x86 table
 * bound at the host PASID; SMMU: an LPAE stage 1 behind CD 3 of the guest's CD
 * table, ASID 0x42, every leaf nG as a process's pages are) and BIND_PGTBL. Each
 * vendor is built three times: the endpoint without ATS; with ATS enabled (a
 * device TLB in the endpoint); and without ATS on a unit whose IOTLB / TLB and
 * walk caches are configured away ("model_caches":"off"). The models invalidate
 * by scanning every entry of a cache (hw/hwcache), so with the default caches a
 * page invalidation costs one to two microseconds of scan whatever it names; the
 * cacheless unit shows what the passdown itself (user API, core, driver, queue,
 * descriptor decode) costs and what batching saves of it.
 *
 * Paths timed (every entry: IOTLB, the bound PASID; ADDR: one 4 KiB granule,
 * the address cycling over CYCLE_PAGES pages of the guest table):
 *   ioctl   vsva_vfio_ioctl(VFIO_IOMMU_NESTING_OP, CACHE_INVLD) with one struct
 *           iommu_cache_invalidate_info: the seed's user API, one entry and one
 *           completion wait per call. ADDR and PASID granularity.
 *   core    iommu_cache_invalidate(nested domain, device, inv[], n) with n = 1,
 *           16, 64 of the ADDR entries: the driver-level batch, one completion
 *           wait per call (VT-d: one wait descriptor; SMMU: one CMD_SYNC, two
 *           with device TLBs: TLBI, SYNC, ATC_INV, SYNC).
 * With ATS the entries are cache = IOTLB on VT-d (an IOTLB invalidation with ATS
 * on also invalidates the device TLB) and IOTLB | DEV_IOTLB on SMMUv3.
 *
 * Results, one JSON object per line:
 *  "rate": one path: the median over runs of ns per invalidation and its
 *     inverse, invalidations per second; the hardware side from the model's own
 *     counters over every timed run: VT-d descriptors processed by type, SMMU
 *     commands by opcode, per invalidation; "entries_dropped_per_inv" is the
 *     IOTLB / TLB entries the timed invalidations removed (0: no DMA touches
 *     the cycled pages, so the cost measured is the passdown, not refills).
 *  "ratios": per unit (vendor, ATS, model caches), rates over the ioctl
 *     one-per-call rate and over the core's batch of 1
 *     (ratio of medians; "_paired": the median of each run's own ratio, a drift
 *     check), and the per-call split: ioctl minus core batch of 1 is what the
 *     user-API layer adds (decode, checks, PASID lookup, bind lookup), as ns and
 *     as a share of the ioctl's time.
 * Runs interleave the paths (run r times every path once, after one untimed
 * warm-up run) so that drift hits them alike. Before timing, every path is
 * checked once on the units with caches: a guest PTE is moved, a DMA still
 * reaches the old page (the translation is cached), the path invalidates, a DMA
 * reaches the new page; any failure exits non-zero.
 *
 * `--quick` runs fewer runs of fewer invalidations.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "dev/dev.h"
#include "hw/smmuv3/smmuv3.h"
#include "hw/smmuv3/smmuv3_regs.h"
#include "hw/vtd/vtd.h"
#include "hw/vtd/vtd_regs.h"
#include "iommu/arm_smmuv3.h"
#include "iommu/intel.h"
#include "iommu/iommu.h"
#include "iommu/pasid.h"
#include "mem/mem.h"
#include "pgtable/lpae.h"
#include "pgtable/pgtable.h"
#include "vsva/uapi/iommu.h"
#include "vsva/uapi/vfio.h"
#include "vsva/vfio_container.h"

#define PAGE          4096ull

#include "bench_util.h"

#define POOL_PA       UINT64_C(0xf00000000000)  /* host tables: above any user VA */
#define POOL_SIZE     (64u << 20)
#define GPA_BASE      UINT64_C(0x80000000)      /* guest RAM at 2 GiB guest-physical */
#define RAM_SIZE      (32u << 20)
#define GPOOL_OFF     (16u << 20)               /* guest page tables in the upper half */
#define DATA_OFF      UINT64_C(0x100000)        /* guest data pages from 1 MiB */
#define GVA           UINT64_C(0x40000000)      /* where the guest process maps them */
/* User pages, not global (nG on Arm), as Linux maps a process's pages: so that
 * TLBI_NH_ASID, the PASID-granularity invalidation, drops them. */
#define S1PROT        (PGT_PROT_R | PGT_PROT_W | PGT_PROT_U | PGT_PROT_NG)
#define RID           0x0100                    /* 00:20.0 */
#define SMMU_SSID     3                         /* the guest's CD for the process */
#define SMMU_ASID     0x42

#define CYCLE_PAGES   256                       /* the ADDR entries' pages: GVA + i */
#define CHECK_PAGE    512                       /* the checks' pages: GVA + 512 + k */
#define CHECK_PAGES   16
#define MAP_PAGES     (CHECK_PAGE + CHECK_PAGES)
#define MOVED_PAGE    1024                      /* where a check moves its page: + k */
#define MAX_BATCH     64
#define MAX_RUNS      15

static void die(const char *what, long err)
{
	fprintf(stderr, "bench_passdown: %s failed (%ld)\n", what, err);
	exit(1);
}

/* ---- the platform: host memory, one unit and its driver, one endpoint, a VM ---- */

struct rig {
	enum iommu_vendor vendor;
	bool ats;
	bool caches_off;            /* no IOTLB / TLB, no walk caches in the model */
	struct mem_space *host;
	struct mem_frames *pool;
	struct vtd *vtd;
	struct smmu *smmu;
	struct iommu_unit *unit;
	struct pasid_space *pasids;
	struct dev_ep *ep;
	struct iommu_device *dev;
	struct vsva_vfio_group *group;
	/* The VM. */
	uint8_t *ram;
	struct mem_space *gspace;
	struct mem_frames *gpool;
	struct vsva_vfio_container *c;
	struct pgt_fmt s1;
	uint64_t root, cdtab;
	uint32_t pasid;             /* what invalidations name: VT-d host PASID, SMMU SSID */
	struct iommu_domain *nested;
	unsigned checks;            /* check pages used */
};

static const char *vendor_name(const struct rig *r)
{
	return r->vendor == IOMMU_VENDOR_INTEL_VTD ? "vtd" : "smmuv3";
}

static uint8_t inv_cache(const struct rig *r)
{
	/* VT-d: an IOTLB invalidation covers the device TLB when ATS is on. */
	if (r->ats && r->vendor == IOMMU_VENDOR_ARM_SMMUV3)
		return IOMMU_CACHE_INV_TYPE_IOTLB | IOMMU_CACHE_INV_TYPE_DEV_IOTLB;
	return IOMMU_CACHE_INV_TYPE_IOTLB;
}

static void plat_init(struct rig *r)
{
	r->host = mem_space_new();
	if (!r->host || mem_add_anon(r->host, POOL_PA, POOL_SIZE, MEM_RW, NULL))
		bench_oom("host memory");
	r->pool = mem_frames_new(r->host, POOL_PA, POOL_SIZE);
	if (!r->pool)
		bench_oom("pool");
	if (r->vendor == IOMMU_VENDOR_INTEL_VTD) {
		struct vtd_config c;

		vtd_config_default(&c);
		if (r->caches_off)
			c.iotlb_entries = c.fspsc_entries = c.sspsc_entries = 0;
		r->vtd = vtd_new(&c, r->host);
		if (!r->vtd)
			die("vtd_new", -errno);
		if (intel_iommu_probe(r->vtd, r->host, r->pool, &r->unit))
			die("intel_iommu_probe", -ENODEV);
	} else {
		struct smmu_config c;

		smmu_config_default(&c);
		if (r->caches_off)
			c.tlb_entries = c.s1wc_entries = c.s2wc_entries = 0;
		r->smmu = smmu_new(&c, r->host);
		if (!r->smmu)
			die("smmu_new", -errno);
		if (arm_smmu_probe(r->smmu, r->host, r->pool, &r->unit))
			die("arm_smmu_probe", -ENODEV);
	}
	r->pasids = pasid_space_new(20);
	if (!r->pasids)
		bench_oom("pasid space");
}

static void edev_init(struct rig *r)
{
	struct dev_ep_config c = {
		.rid = RID, .pasid_bits = 20, .exec_perm = true, .priv_mode = true,
		.ats = r->ats, .atc_entries = r->ats ? 64 : 0, .atc_ways = 4,
	};

	r->ep = dev_ep_new(&c, r->host);
	if (!r->ep)
		die("dev_ep_new", -errno);
	if (r->vtd ? vtd_attach(r->vtd, r->ep) : smmu_attach(r->smmu, r->ep))
		die("attaching the endpoint", -EINVAL);
	dev_ep_enable_pasid(r->ep, true);
	if (r->ats)
		dev_ep_enable_ats(r->ep, true);
	if (iommu_device_add(r->unit, r->ep, &r->dev))
		die("iommu_device_add", -EINVAL);
	if (vsva_vfio_group_new(r->dev, &r->group))
		die("vsva_vfio_group_new", -EINVAL);
}

struct nest_buf {
	struct vfio_iommu_type1_nesting_op op;
	union {
		struct iommu_gpasid_bind_data bind;
		struct iommu_cache_invalidate_info inv;
		uint8_t raw[128];
	};
};

static long nesting_op(struct rig *r, unsigned op, const void *data, size_t len)
{
	struct nest_buf b;

	memset(&b, 0, sizeof(b));
	b.op.argsz = (uint32_t)(sizeof(b.op) + len);
	b.op.flags = op;
	if (len > sizeof(b.raw))
		die("nesting_op", -E2BIG);
	memcpy(b.raw, data, len);
	return vsva_vfio_ioctl(r->c, VFIO_IOMMU_NESTING_OP, (unsigned long)&b);
}

/* SMMU: the guest writes CD ssid (a 48-bit VA, 4K granule, TTB0 = root). */
static void guest_cd(struct rig *r, unsigned ssid, uint16_t asid, uint64_t root)
{
	uint64_t cd[8] = { 0 };

	cd[0] = FIELD_PREP(CD0_T0SZ, 16) | FIELD_PREP(CD0_TG0, 0) | FIELD_PREP(CD0_IR0, 1) |
		FIELD_PREP(CD0_OR0, 1) | FIELD_PREP(CD0_SH0, 3) | CD0_EPD1 | CD0_V |
		FIELD_PREP(CD0_IPS, 5) | CD0_AA64 | CD0_R | CD0_A | FIELD_PREP(CD0_ASID, asid);
	cd[1] = root & CD1_TTB0;
	if (mem_write(r->gspace, r->cdtab + ssid * CD_SIZE, cd, sizeof(cd)))
		die("writing the CD", -EFAULT);
}

/* The VM: guest RAM and its guest-physical view, the container with the
 * endpoint, RAM mapped, a PASID, a guest table and the bind. */
static void vm_init(struct rig *r)
{
	struct vsva_vfio_config cfg = { .pasids = r->pasids, .pasid_quota = 16, .fault_depth = 8 };
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = 3, .iova = GPA_BASE,
					      .size = RAM_SIZE };
	struct vfio_iommu_type1_pasid_request pr = { .argsz = sizeof(pr),
						     .flags = VFIO_IOMMU_FLAG_ALLOC_PASID,
						     .range = { 1, (1u << 20) - 1 } };
	struct iommu_gpasid_bind_data b;
	long ret;

	r->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->ram == MAP_FAILED)
		bench_oom("guest RAM");
	r->gspace = mem_space_new();
	if (!r->gspace || mem_add(r->gspace, GPA_BASE, RAM_SIZE, r->ram, MEM_RW))
		bench_oom("guest space");
	r->gpool = mem_frames_new(r->gspace, GPA_BASE + GPOOL_OFF, RAM_SIZE - GPOOL_OFF);
	if (!r->gpool)
		bench_oom("guest pool");
	if (pgt_fmt_parse(&r->s1, r->vtd ? "x86-fs4" : "lpae-s1:4k:t0sz=16", NULL, 0))
		die("pgt_fmt_parse", -EINVAL);
	if (vsva_vfio_container_new(&cfg, &r->c))
		die("vsva_vfio_container_new", -EINVAL);
	if ((ret = vsva_vfio_group_ioctl(r->group, VFIO_GROUP_SET_CONTAINER, (unsigned long)r->c)))
		die("VFIO_GROUP_SET_CONTAINER", ret);
	if ((ret = vsva_vfio_ioctl(r->c, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU)))
		die("VFIO_SET_IOMMU", ret);
	m.vaddr = (uintptr_t)r->ram;
	if ((ret = vsva_vfio_ioctl(r->c, VFIO_IOMMU_MAP_DMA, (unsigned long)&m)))
		die("VFIO_IOMMU_MAP_DMA", ret);
	ret = vsva_vfio_ioctl(r->c, VFIO_IOMMU_PASID_REQUEST, (unsigned long)&pr);
	if (ret < 1)
		die("VFIO_IOMMU_PASID_REQUEST", ret);

	/* The guest table: GVA + i -> data page i. */
	if (pgt_root_alloc(&r->s1, r->gpool, &r->root) ||
	    pgt_map(&r->s1, r->gpool, r->root, GVA, GPA_BASE + DATA_OFF, MAP_PAGES * PAGE, S1PROT,
		    PAGE))
		die("building the guest table", -ENOMEM);
	memset(&b, 0, sizeof(b));
	b.argsz = sizeof(b);
	b.version = IOMMU_GPASID_BIND_VERSION_1;
	if (r->vtd) {
		b.format = IOMMU_PASID_FORMAT_INTEL_VTD;
		b.addr_width = 48;
		b.gpgd = r->root;
		b.hpasid = (uint64_t)ret;
		r->pasid = (uint32_t)ret;
	} else {
		if (mem_frames_alloc(r->gpool, PAGE, &r->cdtab))  /* 64 CDs, zeroed */
			bench_oom("CD table");
		guest_cd(r, SMMU_SSID, SMMU_ASID, r->root);
		b.format = IOMMU_PASID_FORMAT_SMMUV3;
		b.gpgd = r->cdtab;
		b.vendor.smmuv3.s1cdmax = 6;
		b.vendor.smmuv3.s1dss = 1;
		r->pasid = SMMU_SSID;
	}
	if ((ret = nesting_op(r, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &b, sizeof(b))))
		die("BIND_PGTBL", ret);
	r->nested = r->vtd ? iommu_attached_domain(r->dev, true, r->pasid)
			   : iommu_attached_domain(r->dev, false, 0);
	if (!r->nested || r->nested->type != IOMMU_DOMAIN_NESTED)
		die("finding the nested domain", -ENOENT);
}

static void rig_init(struct rig *r, enum iommu_vendor vendor, bool ats, bool caches_off)
{
	memset(r, 0, sizeof(*r));
	r->vendor = vendor;
	r->ats = ats;
	r->caches_off = caches_off;
	plat_init(r);
	edev_init(r);
	vm_init(r);
}

static void rig_fini(struct rig *r)
{
	vsva_vfio_container_free(r->c);
	mem_frames_free_pool(r->gpool);
	mem_space_free(r->gspace);
	munmap(r->ram, RAM_SIZE);
	vsva_vfio_group_free(r->group);
	iommu_device_remove(r->dev);
	if (r->vtd)
		vtd_detach(r->vtd, r->ep);
	else
		smmu_detach(r->smmu, r->ep);
	dev_ep_free(r->ep);
	pasid_space_free(r->pasids);
	iommu_unit_free(r->unit);
	if (r->vtd)
		vtd_free(r->vtd);
	if (r->smmu)
		smmu_free(r->smmu);
	mem_frames_free_pool(r->pool);
	mem_space_free(r->host);
}

/* ---- the entries ------------------------------------------------------------- */

static struct iommu_cache_invalidate_info uinv(const struct rig *r, uint8_t granu, uint64_t addr)
{
	struct iommu_cache_invalidate_info i;

	memset(&i, 0, sizeof(i));
	i.argsz = sizeof(i);
	i.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1;
	i.cache = inv_cache(r);
	i.granularity = granu;
	if (granu == IOMMU_INV_GRANU_ADDR) {
		i.granu.addr_info.flags = IOMMU_INV_ADDR_FLAGS_PASID;
		i.granu.addr_info.pasid = r->pasid;
		i.granu.addr_info.addr = addr;
		i.granu.addr_info.granule_size = PAGE;
		i.granu.addr_info.nb_granules = 1;
	} else {
		i.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_PASID;
		i.granu.pasid_info.pasid = r->pasid;
	}
	return i;
}

static void ioctl_buf(const struct rig *r, struct nest_buf *b, uint8_t granu, uint64_t addr)
{
	memset(b, 0, sizeof(*b));
	b->op.argsz = (uint32_t)(sizeof(b->op) + sizeof(b->inv));
	b->op.flags = VFIO_IOMMU_NESTING_OP_CACHE_INVLD;
	b->inv = uinv(r, granu, addr);
}

/* The core's record of the same ADDR entry (host PASID on VT-d, SSID on SMMU). */
static struct iommu_inv kinv(const struct rig *r, uint64_t addr)
{
	return (struct iommu_inv){
		.cache = inv_cache(r), .granu = IOMMU_INV_GRANU_ADDR, .pasid_valid = true,
		.pasid = r->pasid, .addr = addr, .granule_size = PAGE, .nb_granules = 1,
	};
}

/* ---- the check: an invalidation through a path makes DMA see the new page ------- */

enum path { PATH_IOCTL, PATH_CORE };

static int dma_write(struct rig *r, uint64_t iova, uint8_t val)
{
	uint8_t buf[64];
	struct dev_dma d = { .pasid_valid = true, .pasid = r->pasid, .write = true, .iova = iova,
			     .buf = buf, .len = sizeof(buf) };
	struct dev_dma_report rep;

	memset(buf, val, sizeof(buf));
	if (dev_dma(r->ep, &d, &rep))
		return -1;
	return rep.status;
}

static void check_path(struct rig *r, enum path p, uint8_t granu, unsigned batch,
		       const char *what)
{
	unsigned k = r->checks++;
	uint64_t va = GVA + (CHECK_PAGE + k) * PAGE, unmapped;
	uint64_t old_off = DATA_OFF + (CHECK_PAGE + k) * PAGE;
	uint64_t new_off = DATA_OFF + (MOVED_PAGE + k) * PAGE;
	struct iommu_inv inv[MAX_BATCH];
	long ret;
	unsigned done = 0;
	int st;

	if (k >= CHECK_PAGES)
		die("too many checks", -ENOSPC);
	/* Cached, then moved behind the cache's back: the old page still gets it. */
	if (dma_write(r, va, 0x11) != DEV_DMA_OK || r->ram[old_off] != 0x11)
		goto broken;
	if (pgt_unmap(&r->s1, r->gpool, r->root, va, PAGE, &unmapped) ||
	    pgt_map(&r->s1, r->gpool, r->root, va, GPA_BASE + new_off, PAGE, S1PROT, PAGE))
		die("moving a guest page", -EINVAL);
	if (dma_write(r, va, 0x22) != DEV_DMA_OK || r->ram[old_off] != 0x22 || r->ram[new_off]) {
		fprintf(stderr, "bench_passdown: %s %s%s: the moved page was not cached, so the "
			"invalidation cannot be checked\n", vendor_name(r), what, r->ats ? " (ats)" : "");
		exit(1);
	}
	if (p == PATH_IOCTL) {
		struct nest_buf b;

		ioctl_buf(r, &b, granu, va);
		ret = vsva_vfio_ioctl(r->c, VFIO_IOMMU_NESTING_OP, (unsigned long)&b);
	} else {
		/* The batch: the checked page among others of the cycle. */
		for (unsigned i = 0; i < batch; i++)
			inv[i] = kinv(r, GVA + (uint64_t)i * PAGE);
		inv[batch / 2] = kinv(r, va);
		ret = iommu_cache_invalidate(r->nested, r->dev, inv, batch, &done);
		if (!ret && done != batch)
			ret = -EIO;
	}
	if (ret)
		die(what, ret);
	st = dma_write(r, va, 0x33);
	if (st != DEV_DMA_OK || r->ram[new_off] != 0x33 || r->ram[old_off] != 0x22) {
		fprintf(stderr, "bench_passdown: %s %s%s: after the invalidation DMA status %d, "
			"old page 0x%02x (0x22 expected), new page 0x%02x (0x33 expected)\n",
			vendor_name(r), what, r->ats ? " (ats)" : "", st, r->ram[old_off],
			r->ram[new_off]);
		exit(1);
	}
	return;
broken:
	fprintf(stderr, "bench_passdown: %s %s%s: DMA to a freshly mapped page failed\n",
		vendor_name(r), what, r->ats ? " (ats)" : "");
	exit(1);
}

/* ---- the hardware's counters ------------------------------------------------------ */

struct hw_count {
	uint64_t op[256];           /* VT-d descriptors by type, SMMU commands by opcode */
	uint64_t dropped;           /* IOTLB / TLB entries invalidated */
};

static void hw_snap(const struct rig *r, struct hw_count *h)
{
	memset(h, 0, sizeof(*h));
	if (r->vtd) {
		struct vtd_stats st;

		vtd_get_stats(r->vtd, &st);
		for (unsigned i = 0; i < 16; i++)
			h->op[i] = st.descriptors[i];
		h->dropped = st.iotlb.invalidated;
	} else {
		struct smmu_stats st;

		smmu_get_stats(r->smmu, &st);
		for (unsigned i = 0; i < 256; i++)
			h->op[i] = st.commands[i];
		h->dropped = st.tlb.invalidated;
	}
}

static void hw_add_delta(struct hw_count *acc, const struct hw_count *a, const struct hw_count *b)
{
	for (unsigned i = 0; i < 256; i++)
		acc->op[i] += b->op[i] - a->op[i];
	acc->dropped += b->dropped - a->dropped;
}

/* ---- the timed paths ----------------------------------------------------------------- */

struct mcase {
	const char *name;
	enum path path;
	uint8_t granu;
	unsigned batch;
	double *ns;                 /* per run: ns per invalidation */
	struct hw_count hw;         /* over every timed run */
	uint64_t invs;
};

struct entries {
	struct nest_buf addr[CYCLE_PAGES], pasid;
	struct iommu_inv kinv[CYCLE_PAGES + MAX_BATCH];  /* wraps: any n from any start */
};

static double time_case(struct rig *r, struct entries *en, struct mcase *mc, unsigned n)
{
	struct hw_count a, b;
	unsigned done, total = 0;
	long bad = 0;
	double t;

	hw_snap(r, &a);
	if (mc->path == PATH_IOCTL) {
		if (mc->granu == IOMMU_INV_GRANU_ADDR) {
			t = now_ns();
			for (unsigned i = 0; i < n; i++)
				bad |= vsva_vfio_ioctl(r->c, VFIO_IOMMU_NESTING_OP,
						       (unsigned long)&en->addr[i % CYCLE_PAGES]);
			t = now_ns() - t;
		} else {
			t = now_ns();
			for (unsigned i = 0; i < n; i++)
				bad |= vsva_vfio_ioctl(r->c, VFIO_IOMMU_NESTING_OP,
						       (unsigned long)&en->pasid);
			t = now_ns() - t;
		}
		total = bad ? 0 : n;
	} else {
		unsigned k = mc->batch, calls = n / k;

		t = now_ns();
		for (unsigned c = 0; c < calls; c++) {
			bad |= iommu_cache_invalidate(r->nested, r->dev,
						      &en->kinv[(c * k) % CYCLE_PAGES], k, &done);
			total += done;
		}
		t = now_ns() - t;
	}
	hw_snap(r, &b);
	if (bad || total != n)
		die(mc->name, bad ? bad : -EIO);
	hw_add_delta(&mc->hw, &a, &b);
	mc->invs += n;
	bench_sink += total;
	return t / n;
}

static double per_inv(const struct mcase *mc, unsigned op)
{
	return (double)mc->hw.op[op] / (double)mc->invs;
}

/* The median of v[0..n), v left as it was (n <= MAX_RUNS). */
static double median_of(const double *v, unsigned n)
{
	double t[MAX_RUNS];

	memcpy(t, v, n * sizeof(t[0]));
	return median(t, n);
}

static void print_rate(const struct rig *r, const struct mcase *mc, unsigned runs, unsigned n)
{
	double ns = median_of(mc->ns, runs);
	uint64_t all = 0;

	for (unsigned i = 0; i < 256; i++)
		all += mc->hw.op[i];
	printf("{\"bench\":\"passdown\",\"case\":\"rate\",\"vendor\":\"%s\",\"ats\":%s,"
	       "\"model_caches\":\"%s\",\"path\":\"%s\",\"granularity\":\"%s\",\"cache\":\"%s\",\"batch\":%u,"
	       "\"pages_cycled\":%u,\"runs\":%u,\"invalidations_per_run\":%u,\"stat\":\"median\","
	       "\"ns_per_inv\":%.1f,\"invalidations_per_s\":%.0f,", vendor_name(r),
	       r->ats ? "true" : "false", r->caches_off ? "off" : "on", mc->path == PATH_IOCTL ? "ioctl" : "core",
	       mc->granu == IOMMU_INV_GRANU_ADDR ? "addr" : "pasid",
	       inv_cache(r) & IOMMU_CACHE_INV_TYPE_DEV_IOTLB ? "iotlb|dev_iotlb" : "iotlb",
	       mc->batch, mc->granu == IOMMU_INV_GRANU_ADDR ? CYCLE_PAGES : 0, runs, n, ns,
	       1e9 / ns);
	if (r->vtd)
		printf("\"piotlb_per_inv\":%.3f,\"pdevtlb_per_inv\":%.3f,\"wait_per_inv\":%.3f,",
		       per_inv(mc, QI_PIOTLB), per_inv(mc, QI_PDEV_TLB), per_inv(mc, QI_WAIT));
	else
		printf("\"tlbi_nh_va_per_inv\":%.3f,\"tlbi_nh_asid_per_inv\":%.3f,"
		       "\"atc_inv_per_inv\":%.3f,\"cmd_sync_per_inv\":%.3f,",
		       per_inv(mc, CMD_TLBI_NH_VA), per_inv(mc, CMD_TLBI_NH_ASID),
		       per_inv(mc, CMD_ATC_INV), per_inv(mc, CMD_SYNC));
	printf("\"%s_per_inv\":%.3f,\"entries_dropped_per_inv\":%.3f}\n",
	       r->vtd ? "descriptors" : "commands", (double)all / (double)mc->invs,
	       (double)mc->hw.dropped / (double)mc->invs);
	fflush(stdout);
}

/* The median of each run's own ratio of rates: den's time over num's. */
static double paired(const double *num, const double *den, unsigned runs)
{
	double v[MAX_RUNS];

	for (unsigned i = 0; i < runs; i++)
		v[i] = den[i] / num[i];         /* ns: a rate ratio is the inverse */
	return median(v, runs);
}

static void bench_rig(enum iommu_vendor vendor, bool ats, bool caches_off, unsigned runs,
		      unsigned n)
{
	enum { C_IOCTL, C_IOCTL_PASID, C_CORE1, C_CORE16, C_CORE64, C_N };
	struct mcase mc[C_N] = {
		[C_IOCTL] = { "ioctl addr", PATH_IOCTL, IOMMU_INV_GRANU_ADDR, 1 },
		[C_IOCTL_PASID] = { "ioctl pasid", PATH_IOCTL, IOMMU_INV_GRANU_PASID, 1 },
		[C_CORE1] = { "core batch 1", PATH_CORE, IOMMU_INV_GRANU_ADDR, 1 },
		[C_CORE16] = { "core batch 16", PATH_CORE, IOMMU_INV_GRANU_ADDR, 16 },
		[C_CORE64] = { "core batch 64", PATH_CORE, IOMMU_INV_GRANU_ADDR, 64 },
	};
	struct entries *en = calloc(1, sizeof(*en));
	double p16, p64, pu, io, k1, k16, k64, v[MAX_RUNS];
	struct rig r;

	if (!en)
		bench_oom("entries");
	rig_init(&r, vendor, ats, caches_off);
	for (unsigned i = 0; i < CYCLE_PAGES; i++)
		ioctl_buf(&r, &en->addr[i], IOMMU_INV_GRANU_ADDR, GVA + (uint64_t)i * PAGE);
	ioctl_buf(&r, &en->pasid, IOMMU_INV_GRANU_PASID, 0);
	for (unsigned i = 0; i < CYCLE_PAGES + MAX_BATCH; i++)
		en->kinv[i] = kinv(&r, GVA + (uint64_t)(i % CYCLE_PAGES) * PAGE);

	/* Every path once, for real: a broken path is not worth timing. The PASID
	 * case only without ATS (it is timed only there). Without caches there is
	 * nothing to check: the same paths were checked on the unit with them. */
	for (unsigned c = 0; !caches_off && c < C_N; c++) {
		if (ats && c == C_IOCTL_PASID)
			continue;
		check_path(&r, mc[c].path, mc[c].granu, mc[c].batch, mc[c].name);
	}
	for (unsigned c = 0; c < C_N; c++) {
		mc[c].ns = calloc(runs, sizeof(double));
		if (!mc[c].ns)
			bench_oom("calloc");
	}
	/* A warm-up run (not counted), then the timed runs, each timing every
	 * path once. */
	for (unsigned w = 0; w <= runs; w++) {
		for (unsigned c = 0; c < C_N; c++) {
			if (ats && c == C_IOCTL_PASID)
				continue;
			if (w)
				mc[c].ns[w - 1] = time_case(&r, en, &mc[c], n);
			else
				time_case(&r, en, &mc[c], n);
		}
		if (!w)
			for (unsigned c = 0; c < C_N; c++) {
				memset(&mc[c].hw, 0, sizeof(mc[c].hw));
				mc[c].invs = 0;
			}
	}
	for (unsigned c = 0; c < C_N; c++)
		if (!(ats && c == C_IOCTL_PASID))
			print_rate(&r, &mc[c], runs, n);
	io = median_of(mc[C_IOCTL].ns, runs);
	k1 = median_of(mc[C_CORE1].ns, runs);
	k16 = median_of(mc[C_CORE16].ns, runs);
	k64 = median_of(mc[C_CORE64].ns, runs);
	p16 = paired(mc[C_CORE16].ns, mc[C_IOCTL].ns, runs);
	p64 = paired(mc[C_CORE64].ns, mc[C_IOCTL].ns, runs);
	for (unsigned i = 0; i < runs; i++)
		v[i] = (mc[C_IOCTL].ns[i] - mc[C_CORE1].ns[i]) / mc[C_IOCTL].ns[i];
	pu = median(v, runs);
	printf("{\"bench\":\"passdown\",\"case\":\"ratios\",\"vendor\":\"%s\",\"ats\":%s,"
	       "\"model_caches\":\"%s\",\"per_call\":\"ioctl addr\",\"runs\":%u,\"stat\":\"median\","
	       "\"batch16_over_per_call\":%.2f,\"batch16_over_per_call_paired\":%.2f,"
	       "\"batch64_over_per_call\":%.2f,\"batch64_over_per_call_paired\":%.2f,"
	       "\"batch16_over_core1\":%.2f,\"batch64_over_core1\":%.2f,"
	       "\"ioctl_ns\":%.1f,\"core1_ns\":%.1f,\"uapi_ns\":%.1f,"
	       "\"ioctl_over_core1\":%.2f,\"uapi_share\":%.3f,\"uapi_share_paired\":%.3f}\n",
	       vendor_name(&r), ats ? "true" : "false", caches_off ? "off" : "on", runs, io / k16, p16, io / k64, p64,
	       k1 / k16, k1 / k64, io, k1, io - k1, io / k1, (io - k1) / io, pu);
	fflush(stdout);
	for (unsigned c = 0; c < C_N; c++)
		free(mc[c].ns);
	free(en);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "--quick");
	unsigned runs = quick ? 3 : 7, n = quick ? 4096 : 16384;

	if (argc > 2 || (argc == 2 && !quick)) {
		fprintf(stderr, "usage: bench_passdown [--quick]\n");
		return 2;
	}
	for (int v = 0; v < 2; v++) {
		enum iommu_vendor vendor = v ? IOMMU_VENDOR_ARM_SMMUV3 : IOMMU_VENDOR_INTEL_VTD;

		bench_rig(vendor, false, false, runs, n);
		bench_rig(vendor, true, false, runs, n);
		bench_rig(vendor, false, true, runs, n);
	}
	return 0;
}
