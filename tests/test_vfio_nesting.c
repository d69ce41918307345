/* test_vfio_nesting: the seed's user API end to end, on both models.
 *
 * A VMM's view: a VFIO type1 nesting container over a VT-d unit or an SMMUv3
 * driven by vsva's host drivers; guest RAM mapped with MAP_DMA; PASIDs from
 * PASID_REQUEST; a guest page table (VT-d: x86 first stage per PASID; SMMU: an
 * LPAE stage 1 behind a guest CD table) built in guest RAM at guest-physical
 * addresses; BIND_PGTBL; DMA with the PASID lands where the guest table and
 * the host second stage say; a guest PTE change passed down as CACHE_INVLD
 * (the models' coherence checker reports the missing invalidation when it is
 * skipped); UNBIND and the fault read from the fault channel; a PRI round trip;
 * identity and guest-owned PASID VMs side by side; every validation error of
 * every ioctl with nothing changed after it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "hw/smmuv3/smmuv3.h"
#include "hw/smmuv3/smmuv3_regs.h"
#include "hw/vtd/vtd.h"
#include "iommu/arm_smmuv3.h"
#include "iommu/intel.h"
#include "iommu/iommu.h"
#include "iommu/pasid.h"
#include "pgtable/pgtable.h"
#include "vsva/uapi/iommu.h"
#include "vsva/uapi/vfio.h"
#include "vsva/vfio_container.h"

#define PG        4096u
#define POOL_PA   UINT64_C(0xf00000000000)   /* host tables: above any user VA, below 2^48 */
#define POOL_SIZE (64u << 20)
#define GPA_BASE  UINT64_C(0x80000000)       /* guest RAM at 2 GiB guest-physical */
#define RAM_SIZE  (32u << 20)
#define GPOOL_OFF (16u << 20)                /* guest page tables in the upper half */
#define DATA_OFF  UINT64_C(0x100000)         /* guest data pages from 1 MiB */
#define GVA       UINT64_C(0x40000000)       /* where the guest process maps them */
/* User pages, not global: tagged with the ASID on Arm as Linux maps them, so that
 * an invalidation by ASID drops them (x86 first-stage pages are never global). */
#define S1PROT    (PGT_PROT_R | PGT_PROT_W | PGT_PROT_U | PGT_PROT_NG)

static void die(const char *what)
{
	fprintf(stderr, "setup failed: %s\n", what);
	exit(1);
}

/* ---- the platform: host memory, one unit, its driver ---------------------------- */

struct plat {
	enum iommu_vendor vendor;
	struct mem_space *host;
	struct mem_frames *pool;
	struct vtd *vtd;
	struct smmu *smmu;
	struct iommu_unit *unit;
	struct pasid_space *pasids;
	unsigned stale;
};

static void on_vtd_stale(void *ctx, const struct vtd_stale *s)
{
	__atomic_fetch_add(&((struct plat *)ctx)->stale, 1, __ATOMIC_RELAXED);
}

static void on_smmu_stale(void *ctx, const struct smmu_stale *s)
{
	__atomic_fetch_add(&((struct plat *)ctx)->stale, 1, __ATOMIC_RELAXED);
}

static void plat_init(struct plat *p, enum iommu_vendor vendor)
{
	memset(p, 0, sizeof(*p));
	p->vendor = vendor;
	p->host = mem_space_new();
	if (!p->host || mem_add_anon(p->host, POOL_PA, POOL_SIZE, MEM_RW, NULL))
		die("host memory");
	p->pool = mem_frames_new(p->host, POOL_PA, POOL_SIZE);
	if (!p->pool)
		die("pool");
	if (vendor == IOMMU_VENDOR_INTEL_VTD) {
		struct vtd_config c;

		vtd_config_default(&c);
		c.checker = true;
		p->vtd = vtd_new(&c, p->host);
		if (!p->vtd)
			die("vtd_new");
		vtd_set_stale_cb(p->vtd, on_vtd_stale, p);
		if (intel_iommu_probe(p->vtd, p->host, p->pool, &p->unit))
			die("intel_iommu_probe");
	} else {
		struct smmu_config c;

		smmu_config_default(&c);
		c.checker = true;
		p->smmu = smmu_new(&c, p->host);
		if (!p->smmu)
			die("smmu_new");
		smmu_set_stale_cb(p->smmu, on_smmu_stale, p);
		if (arm_smmu_probe(p->smmu, p->host, p->pool, &p->unit))
			die("arm_smmu_probe");
	}
	p->pasids = pasid_space_new(20);
	if (!p->pasids)
		die("pasid space");
}

static void plat_fini(struct plat *p)
{
	pasid_space_free(p->pasids);
	iommu_unit_free(p->unit);
	if (p->vtd)
		vtd_free(p->vtd);
	if (p->smmu)
		smmu_free(p->smmu);
	mem_frames_free_pool(p->pool);
	mem_space_free(p->host);
}

struct edev {
	struct dev_ep *ep;
	struct iommu_device *dev;
	struct vsva_vfio_group *group;
};

static void edev_init(struct plat *p, struct edev *e, uint16_t rid, bool ats_pri)
{
	struct dev_ep_config c = {
		.rid = rid, .pasid_bits = 20, .exec_perm = true, .priv_mode = true,
		.ats = ats_pri, .atc_entries = ats_pri ? 64 : 0, .atc_ways = 4,
		.pri = ats_pri, .pri_outstanding = 32,
	};

	e->ep = dev_ep_new(&c, p->host);
	if (!e->ep)
		die("dev_ep_new");
	if (p->vtd ? vtd_attach(p->vtd, e->ep) : smmu_attach(p->smmu, e->ep))
		die("attach endpoint");
	dev_ep_enable_pasid(e->ep, true);
	if (ats_pri) {
		dev_ep_enable_ats(e->ep, true);
		dev_ep_enable_pri(e->ep, true);
	}
	if (iommu_device_add(p->unit, e->ep, &e->dev))
		die("iommu_device_add");
	if (vsva_vfio_group_new(e->dev, &e->group))
		die("group");
}

static void edev_fini(struct plat *p, struct edev *e)
{
	vsva_vfio_group_free(e->group);
	iommu_device_remove(e->dev);
	if (p->vtd)
		vtd_detach(p->vtd, e->ep);
	else
		smmu_detach(p->smmu, e->ep);
	dev_ep_free(e->ep);
}

/* ---- a VM: guest RAM, its guest-physical view, a container ------------------------ */

struct vm {
	struct plat *p;
	uint8_t *ram;
	struct mem_space *gspace;
	struct mem_frames *gpool;
	struct vsva_vfio_container *c;
	struct pgt_fmt s1;
	uint64_t cdtab;             /* SMMU: the guest's CD table (GPA) */
};

static void vm_init(struct vm *vm, struct plat *p, bool guest_pasids, unsigned quota)
{
	struct vsva_vfio_config cfg = { .pasids = p->pasids, .pasid_quota = quota,
					.guest_pasids = guest_pasids, .fault_depth = 8 };

	memset(vm, 0, sizeof(*vm));
	vm->p = p;
	vm->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->ram == MAP_FAILED)
		die("guest RAM");
	vm->gspace = mem_space_new();
	if (!vm->gspace || mem_add(vm->gspace, GPA_BASE, RAM_SIZE, vm->ram, MEM_RW))
		die("guest space");
	vm->gpool = mem_frames_new(vm->gspace, GPA_BASE + GPOOL_OFF, RAM_SIZE - GPOOL_OFF);
	if (!vm->gpool)
		die("guest pool");
	if (pgt_fmt_parse(&vm->s1, p->vendor == IOMMU_VENDOR_INTEL_VTD ? "x86-fs4" : "lpae-s1:4k:t0sz=16",
			  NULL, 0))
		die("s1 format");
	if (vsva_vfio_container_new(&cfg, &vm->c))
		die("container");
	if (p->vendor == IOMMU_VENDOR_ARM_SMMUV3 &&
	    mem_frames_alloc(vm->gpool, PG, &vm->cdtab))   /* 64 CDs, zeroed: all invalid */
		die("cd table");
}

static void vm_fini(struct vm *vm)
{
	vsva_vfio_container_free(vm->c);
	mem_frames_free_pool(vm->gpool);
	mem_space_free(vm->gspace);
	munmap(vm->ram, RAM_SIZE);
}

static uint64_t ram_gpa(uint64_t off)
{
	return GPA_BASE + off;
}

/* A guest first stage mapping GVA + i pages -> data pages; returns its root. */
static uint64_t guest_table(struct vm *vm, uint64_t data_off, unsigned pages)
{
	uint64_t root;

	if (pgt_root_alloc(&vm->s1, vm->gpool, &root) ||
	    pgt_map(&vm->s1, vm->gpool, root, GVA, ram_gpa(data_off), pages * PG, S1PROT, PG))
		die("guest table");
	return root;
}

/* SMMU: the guest writes CD ssid (a 48-bit VA, 4K granule, TTB0 = root). */
static void guest_cd(struct vm *vm, unsigned ssid, uint16_t asid, uint64_t root)
{
	uint64_t cd[8] = { 0 };

	cd[0] = FIELD_PREP(CD0_T0SZ, 16) | FIELD_PREP(CD0_TG0, 0) | FIELD_PREP(CD0_IR0, 1) |
		FIELD_PREP(CD0_OR0, 1) | FIELD_PREP(CD0_SH0, 3) | CD0_EPD1 | CD0_V |
		FIELD_PREP(CD0_IPS, 5) | CD0_AA64 | CD0_R | CD0_A | FIELD_PREP(CD0_ASID, asid);
	cd[1] = root & CD1_TTB0;
	if (mem_write(vm->gspace, vm->cdtab + ssid * CD_SIZE, cd, sizeof(cd)))
		die("cd write");
}

/* ---- ioctl helpers ----------------------------------------------------------- */

static long map_dma(struct vm *vm, uint64_t vaddr, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = flags,
					      .vaddr = vaddr, .iova = iova, .size = size };

	return vsva_vfio_ioctl(vm->c, VFIO_IOMMU_MAP_DMA, (unsigned long)&m);
}

static long pasid_req(struct vm *vm, uint32_t flags, uint32_t min, uint32_t max)
{
	struct vfio_iommu_type1_pasid_request r = { .argsz = sizeof(r), .flags = flags,
						    .range = { min, max } };

	return vsva_vfio_ioctl(vm->c, VFIO_IOMMU_PASID_REQUEST, (unsigned long)&r);
}

struct nest_buf {
	struct vfio_iommu_type1_nesting_op op;
	union {
		struct iommu_gpasid_bind_data bind;
		struct iommu_cache_invalidate_info inv;
		uint8_t raw[128];
	};
};

static long nesting_op(struct vm *vm, unsigned op, const void *data, size_t len)
{
	struct nest_buf b;

	memset(&b, 0, sizeof(b));
	b.op.argsz = (uint32_t)(sizeof(b.op) + len);
	b.op.flags = op;
	memcpy(b.raw, data, len);
	return vsva_vfio_ioctl(vm->c, VFIO_IOMMU_NESTING_OP, (unsigned long)&b);
}

static struct iommu_gpasid_bind_data bind_vtd(uint64_t gpgd, uint64_t hpasid)
{
	struct iommu_gpasid_bind_data b;

	memset(&b, 0, sizeof(b));
	b.argsz = sizeof(b);
	b.version = IOMMU_GPASID_BIND_VERSION_1;
	b.format = IOMMU_PASID_FORMAT_INTEL_VTD;
	b.addr_width = 48;
	b.gpgd = gpgd;
	b.hpasid = hpasid;
	return b;
}

static struct iommu_gpasid_bind_data bind_smmu(uint64_t cdtab, uint8_t cdmax)
{
	struct iommu_gpasid_bind_data b;

	memset(&b, 0, sizeof(b));
	b.argsz = sizeof(b);
	b.version = IOMMU_GPASID_BIND_VERSION_1;
	b.format = IOMMU_PASID_FORMAT_SMMUV3;
	b.gpgd = cdtab;
	b.vendor.smmuv3.s1cdmax = cdmax;
	b.vendor.smmuv3.s1dss = 1;      /* requests without a PASID: stage 2 only */
	return b;
}

static long bind(struct vm *vm, const struct iommu_gpasid_bind_data *b)
{
	return nesting_op(vm, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, b, sizeof(*b));
}

static long unbind(struct vm *vm, const struct iommu_gpasid_bind_data *b)
{
	return nesting_op(vm, VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, b, sizeof(*b));
}

static struct iommu_cache_invalidate_info inv_addr(uint32_t pasid, uint64_t addr, uint64_t pages)
{
	struct iommu_cache_invalidate_info i;

	memset(&i, 0, sizeof(i));
	i.argsz = sizeof(i);
	i.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1;
	i.cache = IOMMU_CACHE_INV_TYPE_IOTLB;
	i.granularity = IOMMU_INV_GRANU_ADDR;
	i.granu.addr_info.flags = IOMMU_INV_ADDR_FLAGS_PASID;
	i.granu.addr_info.pasid = pasid;
	i.granu.addr_info.addr = addr;
	i.granu.addr_info.granule_size = PG;
	i.granu.addr_info.nb_granules = pages;
	return i;
}

static long invalidate(struct vm *vm, const struct iommu_cache_invalidate_info *i)
{
	return nesting_op(vm, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, i, sizeof(*i));
}

/* One page of DMA: returns the report's status (DEV_DMA_OK...). */
static int dma(struct edev *e, bool pasid_valid, uint32_t pasid, uint64_t iova, bool write,
	       void *buf, uint64_t len, bool use_pri)
{
	struct dev_dma d = { .pasid_valid = pasid_valid, .pasid = pasid, .write = write,
			     .iova = iova, .buf = buf, .len = len, .use_pri = use_pri,
			     .retry_wait_ns = 5000000000ull };
	struct dev_dma_report rep;

	if (dev_dma(e->ep, &d, &rep))
		return -1;
	return rep.status;
}

static bool fault_readable(struct vm *vm, int timeout_ms)
{
	struct pollfd pfd = { .fd = vsva_vfio_fault_fd(vm->c), .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

/* ---- the container's life before any bind --------------------------------------- */

static void test_setup_errors(struct vm *vm, struct edev *e)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	long r;

	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_GET_API_VERSION, 0), VFIO_API_VERSION);
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_NESTING_IOMMU), 1);
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 0);
	CHECK_EQ(vsva_vfio_ioctl(vm->c, 0x3b00 | 99, 0), -ENOTTY);
	/* No group yet: no IOMMU can be set; type1 ioctls have no driver. */
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU), -EINVAL);
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_GET_INFO, (unsigned long)&info), -EINVAL);
	CHECK_EQ(map_dma(vm, (uintptr_t)vm->ram, GPA_BASE, RAM_SIZE, 3), -EINVAL);

	struct vfio_group_status st = { .argsz = sizeof(st) };
	CHECK_EQ(vsva_vfio_group_ioctl(e->group, VFIO_GROUP_GET_STATUS, (unsigned long)&st), 0);
	CHECK_EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE);
	st.argsz = 4;
	CHECK_EQ(vsva_vfio_group_ioctl(e->group, VFIO_GROUP_GET_STATUS, (unsigned long)&st), -EINVAL);
	CHECK_EQ(vsva_vfio_group_ioctl(e->group, VFIO_GROUP_SET_CONTAINER, (unsigned long)vm->c), 0);
	CHECK_EQ(vsva_vfio_group_ioctl(e->group, VFIO_GROUP_SET_CONTAINER, (unsigned long)vm->c),
		 -EINVAL);
	st.argsz = sizeof(st);
	CHECK_EQ(vsva_vfio_group_ioctl(e->group, VFIO_GROUP_GET_STATUS, (unsigned long)&st), 0);
	CHECK_EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
	CHECK_EQ(vsva_vfio_group_free(e->group), -EBUSY);

	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), -ENODEV);
	/* PASIDs need the nesting type: a plain v2 container refuses them. */
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	CHECK_EQ(pasid_req(vm, VFIO_IOMMU_FLAG_ALLOC_PASID, 1, 100), -EOPNOTSUPP);
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU), -EBUSY);
	/* The last group leaving takes the IOMMU with it (Linux's rule). */
	CHECK_EQ(vsva_vfio_group_ioctl(e->group, VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	CHECK_EQ(vsva_vfio_group_ioctl(e->group, VFIO_GROUP_UNSET_CONTAINER, 0), -EINVAL);
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_GET_INFO, (unsigned long)&info), -EINVAL);
	CHECK_EQ(vsva_vfio_group_ioctl(e->group, VFIO_GROUP_SET_CONTAINER, (unsigned long)vm->c), 0);
	r = vsva_vfio_ioctl(vm->c, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU);
	CHECK_EQ(r, 0);
}

static void test_info(struct vm *vm)
{
	struct plat *p = vm->p;
	union {
		struct vfio_iommu_type1_info info;
		uint8_t raw[512];
	} u;
	struct vfio_iommu_type1_info *info = &u.info;

	/* argsz below the minimum (16). */
	memset(&u, 0, sizeof(u));
	info->argsz = 12;
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_GET_INFO, (unsigned long)info), -EINVAL);
	/* 16: page sizes only, nothing written past them. */
	memset(&u, 0xee, sizeof(u));
	info->argsz = 16;
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_GET_INFO, (unsigned long)info), 0);
	CHECK_EQ(info->flags, VFIO_IOMMU_INFO_PGSIZES);
	CHECK(info->iova_pgsizes & PG);
	CHECK_EQ(u.raw[16], 0xee);
	/* 24: room for cap_offset but not the chain: argsz says what is needed. */
	memset(&u, 0, sizeof(u));
	info->argsz = sizeof(*info);
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_GET_INFO, (unsigned long)info), 0);
	CHECK_EQ(info->flags, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
	CHECK_EQ(info->cap_offset, 0);
	/* 24 + the IOVA-range cap (16 + one range of 16) + the nesting cap (64). */
	CHECK_EQ(info->argsz, 24 + 32 + 64);
	uint32_t need = info->argsz;
	memset(&u, 0, sizeof(u));
	info->argsz = need;
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_GET_INFO, (unsigned long)info), 0);
	CHECK_EQ(info->cap_offset, 24);

	struct vfio_iommu_type1_info_cap_iova_range ir;
	struct vfio_iova_range range;
	memcpy(&ir, u.raw + 24, sizeof(ir));
	memcpy(&range, u.raw + 24 + sizeof(ir), sizeof(range));
	CHECK_EQ(ir.header.id, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	CHECK_EQ(ir.header.version, 1);
	CHECK_EQ(ir.header.next, 24 + 32);
	CHECK_EQ(ir.nr_iovas, 1);
	CHECK_EQ(range.start, 0);
	/* The second stage takes 48-bit input on both models' defaults. */
	CHECK_EQ(range.end, (UINT64_C(1) << 48) - 1);

	struct vfio_iommu_type1_info_cap_nesting nc;
	memcpy(&nc, u.raw + 24 + 32, sizeof(nc));
	CHECK_EQ(nc.header.id, VFIO_IOMMU_TYPE1_INFO_CAP_NESTING);
	CHECK_EQ(nc.header.next, 0);
	CHECK_EQ(nc.info.argsz, sizeof(struct iommu_nesting_info));
	CHECK_EQ(nc.info.flags, 0);
	CHECK_EQ(nc.info.pasid_bits, 20);
	if (p->vendor == IOMMU_VENDOR_INTEL_VTD) {
		CHECK_EQ(nc.info.format, IOMMU_PASID_FORMAT_INTEL_VTD);
		CHECK_EQ(nc.info.features, IOMMU_NESTING_FEAT_SYSWIDE_PASID |
					   IOMMU_NESTING_FEAT_BIND_PGTBL |
					   IOMMU_NESTING_FEAT_CACHE_INVLD);
		CHECK_EQ(nc.info.addr_width, 48);
		CHECK_EQ(nc.info.vendor.vtd.cap_reg, vtd_read(p->vtd, 0x08, 8));
		CHECK_EQ(nc.info.vendor.vtd.ecap_reg, vtd_read(p->vtd, 0x10, 8));
	} else {
		CHECK_EQ(nc.info.format, IOMMU_PASID_FORMAT_SMMUV3);
		CHECK_EQ(nc.info.features, IOMMU_NESTING_FEAT_BIND_PGTBL |
					   IOMMU_NESTING_FEAT_CACHE_INVLD);
		CHECK_EQ(nc.info.vendor.smmuv3.idr0, smmu_read(p->smmu, SMMU_IDR0, 4));
		CHECK_EQ(nc.info.vendor.smmuv3.idr1, smmu_read(p->smmu, SMMU_IDR1, 4));
		CHECK_EQ(nc.info.vendor.smmuv3.idr3, smmu_read(p->smmu, SMMU_IDR3, 4));
		CHECK_EQ(nc.info.vendor.smmuv3.idr5, smmu_read(p->smmu, SMMU_IDR5, 4));
		CHECK_EQ(nc.info.vendor.smmuv3.aidr, smmu_read(p->smmu, SMMU_AIDR, 4));
	}
}

static void test_map(struct vm *vm, struct edev *e)
{
	uint64_t ram = (uintptr_t)vm->ram;
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m) - 1, .flags = 3, .vaddr = ram,
					      .iova = GPA_BASE, .size = RAM_SIZE };
	uint8_t buf[64];

	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_MAP_DMA, (unsigned long)&m), -EINVAL);
	CHECK_EQ(map_dma(vm, ram, GPA_BASE, RAM_SIZE, 3 | VFIO_DMA_MAP_FLAG_VADDR), -EINVAL);
	CHECK_EQ(map_dma(vm, ram, GPA_BASE, RAM_SIZE, 0), -EINVAL);
	CHECK_EQ(map_dma(vm, ram + 1, GPA_BASE, RAM_SIZE, 3), -EINVAL);
	CHECK_EQ(map_dma(vm, ram, GPA_BASE + 8, RAM_SIZE, 3), -EINVAL);
	CHECK_EQ(map_dma(vm, ram, GPA_BASE, 0, 3), -EINVAL);
	/* Beyond the second stage's input range. */
	CHECK_EQ(map_dma(vm, ram, UINT64_C(1) << 48, PG, 3), -EINVAL);
	/* Nothing mapped: a DMA to guest RAM faults. */
	CHECK_EQ(dma(e, false, 0, GPA_BASE, false, buf, 64, false), DEV_DMA_FAULT);

	CHECK_EQ(map_dma(vm, ram, GPA_BASE, RAM_SIZE, 3), 0);
	CHECK_EQ(map_dma(vm, ram, GPA_BASE + PG, PG, 3), -EEXIST);
	memset(buf, 0xa5, sizeof(buf));
	CHECK_EQ(dma(e, false, 0, GPA_BASE + 0x3000, true, buf, 64, false), DEV_DMA_OK);
	CHECK_EQ(vm->ram[0x3000], 0xa5);
	CHECK_EQ(vm->ram[0x3000 + 63], 0xa5);

	/* Unmap: argsz, flags, a cut through the mapping; then a real one. */
	struct vfio_iommu_type1_dma_unmap um = { .argsz = sizeof(um), .iova = GPA_BASE,
						 .size = PG };
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&um), -EINVAL);
	um.flags = VFIO_DMA_UNMAP_FLAG_ALL;
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&um), -EINVAL);
	um.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	um.size = RAM_SIZE;
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&um), -EINVAL);
	CHECK_EQ(dma(e, false, 0, GPA_BASE + 0x3000, false, buf, 64, false), DEV_DMA_OK);
	/* A second mapping of the same memory, then unmap it: the first stays. */
	CHECK_EQ(map_dma(vm, ram, UINT64_C(0x200000000), 2 * PG, 1), 0);
	um.flags = 0;
	um.iova = UINT64_C(0x200000000);
	um.size = 16 * PG;
	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&um), 0);
	CHECK_EQ(um.size, 2 * PG);
	CHECK_EQ(dma(e, false, 0, UINT64_C(0x200000000), false, buf, 64, false), DEV_DMA_FAULT);
	CHECK_EQ(dma(e, false, 0, GPA_BASE + 0x3000, false, buf, 64, false), DEV_DMA_OK);
	/* The DMA fault of a request without PASID reached the channel too. */
	struct iommu_fault f[8];
	while (vsva_vfio_fault_read(vm->c, f, sizeof(f)) > 0)
		;
}

static void test_pasid_request(struct vm *vm)
{
	struct vfio_iommu_type1_pasid_request r = { .argsz = 8, .flags = VFIO_IOMMU_FLAG_ALLOC_PASID,
						    .range = { 1, 10 } };

	CHECK_EQ(vsva_vfio_ioctl(vm->c, VFIO_IOMMU_PASID_REQUEST, (unsigned long)&r), -EINVAL);
	CHECK_EQ(pasid_req(vm, 0, 1, 10), -EINVAL);
	CHECK_EQ(pasid_req(vm, VFIO_IOMMU_FLAG_ALLOC_PASID | VFIO_IOMMU_FLAG_FREE_PASID, 1, 10),
		 -EINVAL);
	CHECK_EQ(pasid_req(vm, 4, 1, 10), -EINVAL);
	CHECK_EQ(pasid_req(vm, VFIO_IOMMU_FLAG_ALLOC_PASID, 10, 1), -EINVAL);
	CHECK_EQ(pasid_req(vm, VFIO_IOMMU_FLAG_ALLOC_PASID, 1, UINT32_C(1) << 31), -EINVAL);
	/* Beyond the 20-bit space: nothing there to allocate. */
	CHECK_EQ(pasid_req(vm, VFIO_IOMMU_FLAG_ALLOC_PASID, 1u << 20, 1u << 21), -ENOSPC);
}

/* ---- binding, DMA, invalidation, unbind (identity PASIDs) -------------------------- */

struct pri_run {
	struct edev *e;
	uint32_t pasid;
	uint64_t iova;
	uint8_t buf[64];
	int status;
};

static void *pri_dma(void *arg)
{
	struct pri_run *r = arg;

	r->status = dma(r->e, true, r->pasid, r->iova, true, r->buf, sizeof(r->buf), true);
	return NULL;
}

static void test_bind_identity(struct vm *vm, struct edev *e, struct edev *epri)
{
	struct plat *p = vm->p;
	bool vtd = p->vendor == IOMMU_VENDOR_INTEL_VTD;
	uint8_t buf[64], back[64];
	struct iommu_gpasid_bind_data b, bad;
	struct iommu_cache_invalidate_info inv;
	struct iommu_fault f[4];
	long pasid;
	uint64_t root;
	uint32_t ssid;

	/* The platform's PASID space is fresh: the refused requests before took
	 * nothing, so the lowest PASID comes back. */
	pasid = pasid_req(vm, VFIO_IOMMU_FLAG_ALLOC_PASID, 1, (1u << 20) - 1);
	CHECK_EQ(pasid, 1);
	root = guest_table(vm, DATA_OFF, 4);
	if (vtd) {
		b = bind_vtd(root, (uint64_t)pasid);
		ssid = (uint32_t)pasid;
	} else {
		/* Arm: the guest's own SubstreamID space; CD 3 holds the process. */
		ssid = 3;
		guest_cd(vm, ssid, 0x42, root);
		b = bind_smmu(vm->cdtab, 6);
	}

	/* Every generic refusal; nothing bound after any of them. */
	bad = b; bad.version = 2;
	CHECK_EQ(bind(vm, &bad), -EINVAL);
	bad = b; bad.argsz = offsetof(struct iommu_gpasid_bind_data, vendor) - 4;
	CHECK_EQ(bind(vm, &bad), -EINVAL);
	bad = b; bad.argsz = offsetof(struct iommu_gpasid_bind_data, vendor) + 4;
	CHECK_EQ(bind(vm, &bad), -EINVAL);
	bad = b; bad.format = 0;
	CHECK_EQ(bind(vm, &bad), -EINVAL);
	bad = b; bad.format = IOMMU_PASID_FORMAT_LAST;
	CHECK_EQ(bind(vm, &bad), -EINVAL);
	bad = b; bad.format = vtd ? IOMMU_PASID_FORMAT_SMMUV3 : IOMMU_PASID_FORMAT_INTEL_VTD;
	CHECK_EQ(bind(vm, &bad), -EINVAL);
	bad = b; bad.flags = 2;
	CHECK_EQ(bind(vm, &bad), -EINVAL);
	bad = b; bad.padding[7] = 1;
	CHECK_EQ(bind(vm, &bad), -EINVAL);
	CHECK_EQ(nesting_op(vm, 3, &b, sizeof(b)), -EINVAL);
	CHECK_EQ(nesting_op(vm, VFIO_IOMMU_NESTING_OP_BIND_PGTBL | (1 << 16), &b, sizeof(b)), -EINVAL);
	if (vtd) {
		bad = b; bad.hpasid = (uint64_t)pasid + 1;      /* not this VM's */
		CHECK_EQ(bind(vm, &bad), -EINVAL);
		bad = b; bad.hpasid = 0;
		CHECK_EQ(bind(vm, &bad), -EINVAL);
		bad = b; bad.addr_width = 39;
		CHECK_EQ(bind(vm, &bad), -EINVAL);
		bad = b; bad.vendor.vtd.flags = IOMMU_SVA_VTD_GPASID_LAST;
		CHECK_EQ(bind(vm, &bad), -EINVAL);
		/* Identity PASIDs: a guest PASID other than the host's is refused. */
		bad = b; bad.flags = IOMMU_SVA_GPASID_VAL; bad.gpasid = (uint64_t)pasid + 7;
		CHECK_EQ(bind(vm, &bad), -EINVAL);
	} else {
		bad = b; bad.hpasid = 1;
		CHECK_EQ(bind(vm, &bad), -EINVAL);
		bad = b; bad.addr_width = 48;
		CHECK_EQ(bind(vm, &bad), -EINVAL);
		bad = b; bad.vendor.smmuv3.flags = 2;
		CHECK_EQ(bind(vm, &bad), -EINVAL);
		bad = b; bad.vendor.smmuv3.s1dss = 3;
		CHECK_EQ(bind(vm, &bad), -EINVAL);
		bad = b; bad.vendor.smmuv3.s1cdmax = 21;        /* beyond SSIDSIZE 20 */
		CHECK_EQ(bind(vm, &bad), -EINVAL);
		bad = b; bad.gpgd = vm->cdtab + 8;              /* CD tables are 64-byte aligned */
		CHECK_EQ(bind(vm, &bad), -EINVAL);
	}
	memset(buf, 0x3c, sizeof(buf));
	CHECK_EQ(dma(e, true, ssid, GVA + 0x10, true, buf, 64, false), DEV_DMA_FAULT);
	while (vsva_vfio_fault_read(vm->c, f, sizeof(f)) > 0)
		;

	/* The bind: DMA with the PASID lands where guest table + stage 2 say. */
	CHECK_EQ(bind(vm, &b), 0);
	CHECK_EQ(bind(vm, &b), -EBUSY);
	CHECK_EQ(dma(e, true, ssid, GVA + PG + 0x10, true, buf, 64, false), DEV_DMA_OK);
	CHECK_EQ(vm->ram[DATA_OFF + PG + 0x10], 0x3c);
	CHECK_EQ(vm->ram[DATA_OFF + PG + 0x10 + 63], 0x3c);
	/* Requests without a PASID still see the VM's stage 2. */
	CHECK_EQ(dma(e, false, 0, GPA_BASE + DATA_OFF + PG + 0x10, false, back, 64, false),
		 DEV_DMA_OK);
	CHECK(!memcmp(back, buf, 64));
	CHECK_EQ(p->stale, 0);

	/* The guest moves GVA + PG to another page and "forgets" to invalidate: the
	 * checker sees the cached translation differ from memory. */
	uint64_t unmapped;
	CHECK_EQ(pgt_unmap(&vm->s1, vm->gpool, root, GVA + PG, PG, &unmapped), 0);
	CHECK_EQ(pgt_map(&vm->s1, vm->gpool, root, GVA + PG, ram_gpa(DATA_OFF + 8 * PG), PG,
			 S1PROT, PG), 0);
	memset(buf, 0x77, sizeof(buf));
	CHECK_EQ(dma(e, true, ssid, GVA + PG, true, buf, 64, false), DEV_DMA_OK);
	CHECK(p->stale >= 1);
	unsigned stale = p->stale;

	/* Invalidation refusals, generic first; nothing invalidated by them. */
	inv = inv_addr(ssid, GVA + PG, 1);
	struct iommu_cache_invalidate_info bi;
	bi = inv; bi.version = 0;
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv; bi.argsz = 16 + 8;            /* shorter than the ADDR part */
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv; bi.cache = 0;
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv; bi.cache = 8;
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv; bi.granularity = IOMMU_INV_GRANU_NR;
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv; bi.padding[5] = 1;
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv; bi.cache = IOMMU_CACHE_INV_TYPE_PASID;         /* the table: ADDR x PASID cache */
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv; bi.granularity = IOMMU_INV_GRANU_DOMAIN; bi.cache = IOMMU_CACHE_INV_TYPE_DEV_IOTLB;
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv; bi.granu.addr_info.flags |= 8;
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv; bi.granu.addr_info.granule_size = 3 * PG;
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv; bi.granu.addr_info.nb_granules = 0;
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	bi = inv;
	bi.granularity = IOMMU_INV_GRANU_PASID;
	bi.granu.pasid_info.flags = 0;          /* neither PASID nor ARCHID */
	CHECK_EQ(invalidate(vm, &bi), -EINVAL);
	if (vtd) {
		bi = inv; bi.granu.addr_info.pasid = (uint64_t)pasid + 1;   /* not bound */
		CHECK_EQ(invalidate(vm, &bi), -EINVAL);
		bi = inv; bi.granu.addr_info.flags = 0;                    /* no PASID: host-owned */
		CHECK_EQ(invalidate(vm, &bi), -EINVAL);
		bi = inv; bi.granu.addr_info.nb_granules = 2;              /* 8K at a 4K boundary */
		CHECK_EQ(invalidate(vm, &bi), -ERANGE);
		bi = inv; bi.granularity = IOMMU_INV_GRANU_DOMAIN;
		CHECK_EQ(invalidate(vm, &bi), -EINVAL);
		bi = inv; bi.granularity = IOMMU_INV_GRANU_PASID; bi.cache = IOMMU_CACHE_INV_TYPE_PASID;
		bi.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_PASID;
		bi.granu.pasid_info.pasid = (uint64_t)pasid;
		CHECK_EQ(invalidate(vm, &bi), -EINVAL);                   /* the host's PASID cache */
	}
	/* Still stale: nothing above took effect. */
	CHECK_EQ(dma(e, true, ssid, GVA + PG, true, buf, 64, false), DEV_DMA_OK);
	CHECK(p->stale > stale);

	/* Passed down: the device sees the new page, and the checker is quiet. */
	CHECK_EQ(invalidate(vm, &inv), 0);
	stale = p->stale;
	memset(buf, 0x99, sizeof(buf));
	CHECK_EQ(dma(e, true, ssid, GVA + PG, true, buf, 64, false), DEV_DMA_OK);
	CHECK_EQ(p->stale, stale);
	CHECK_EQ(vm->ram[DATA_OFF + 8 * PG], 0x99);
	CHECK_EQ(vm->ram[DATA_OFF + PG + 0x10], 0x3c);  /* the old page kept its old data */

	/* PASID granularity (VT-d type 6 G=2, SMMU TLBI_NH_ASID): the same dance on
	 * another page, invalidated for the whole address space. */
	CHECK_EQ(dma(e, true, ssid, GVA + 2 * PG, true, buf, 64, false), DEV_DMA_OK);
	CHECK_EQ(pgt_unmap(&vm->s1, vm->gpool, root, GVA + 2 * PG, PG, &unmapped), 0);
	CHECK_EQ(pgt_map(&vm->s1, vm->gpool, root, GVA + 2 * PG, ram_gpa(DATA_OFF + 9 * PG), PG,
			 S1PROT, PG), 0);
	inv.granularity = IOMMU_INV_GRANU_PASID;
	memset(&inv.granu, 0, sizeof(inv.granu));
	inv.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_PASID;
	inv.granu.pasid_info.pasid = ssid;
	CHECK_EQ(invalidate(vm, &inv), 0);
	stale = p->stale;
	memset(buf, 0x44, sizeof(buf));
	CHECK_EQ(dma(e, true, ssid, GVA + 2 * PG, true, buf, 64, false), DEV_DMA_OK);
	CHECK_EQ(p->stale, stale);
	CHECK_EQ(vm->ram[DATA_OFF + 9 * PG], 0x44);

	/* PRI: the device asks for an unmapped page; the guest maps it and answers. */
	struct pri_run run = { .e = epri, .pasid = ssid, .iova = GVA + 16 * PG };
	pthread_t t;
	memset(run.buf, 0x5e, sizeof(run.buf));
	CHECK_EQ(pthread_create(&t, NULL, pri_dma, &run), 0);
	CHECK(fault_readable(vm, 5000));
	CHECK_EQ(vsva_vfio_fault_read(vm->c, f, sizeof(f)), (ssize_t)sizeof(f[0]));
	CHECK_EQ(f[0].type, IOMMU_FAULT_PAGE_REQ);
	CHECK(f[0].prm.flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID);
	CHECK(f[0].prm.flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE);
	CHECK(f[0].prm.flags & IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID);
	CHECK_EQ(f[0].prm.pasid, ssid);
	CHECK_EQ(f[0].prm.addr, GVA + 16 * PG);
	CHECK(f[0].prm.perm & IOMMU_FAULT_PERM_WRITE);
	/* A response naming another group changes nothing. */
	struct iommu_page_response resp = { .argsz = sizeof(resp), .version = 1,
					    .flags = IOMMU_PAGE_RESP_PASID_VALID, .pasid = ssid,
					    .grpid = f[0].prm.grpid + 1, .code = 0 };
	CHECK_EQ(vsva_vfio_fault_write(vm->c, &resp, sizeof(resp)), -EINVAL);
	CHECK_EQ(pgt_map(&vm->s1, vm->gpool, root, GVA + 16 * PG, ram_gpa(DATA_OFF + 20 * PG), PG,
			 S1PROT, PG), 0);
	resp.grpid = f[0].prm.grpid;
	CHECK_EQ(vsva_vfio_fault_write(vm->c, &resp, sizeof(resp)), (ssize_t)sizeof(resp));
	pthread_join(t, NULL);
	CHECK_EQ(run.status, DEV_DMA_OK);
	CHECK_EQ(vm->ram[DATA_OFF + 20 * PG], 0x5e);
	CHECK_EQ(vm->ram[DATA_OFF + 20 * PG + 63], 0x5e);

	/* Unbind: the PASID's DMA faults, and the fault comes out of the channel. */
	bad = b;
	if (vtd) {
		bad.hpasid = (uint64_t)pasid + 1;
		CHECK_EQ(unbind(vm, &bad), -EINVAL);
	}
	CHECK_EQ(unbind(vm, &b), 0);
	CHECK_EQ(unbind(vm, &b), -EINVAL);
	while (vsva_vfio_fault_read(vm->c, f, sizeof(f)) > 0)
		;
	CHECK_EQ(dma(e, true, ssid, GVA + PG, false, buf, 64, false), DEV_DMA_FAULT);
	CHECK(fault_readable(vm, 0));
	CHECK_EQ(vsva_vfio_fault_read(vm->c, f, sizeof(f)), (ssize_t)sizeof(f[0]));
	CHECK_EQ(f[0].type, IOMMU_FAULT_DMA_UNRECOV);
	CHECK(f[0].event.flags & IOMMU_FAULT_UNRECOV_PASID_VALID);
	CHECK_EQ(f[0].event.pasid, ssid);
	/* Nothing translates the PASID any more: VT-d 0x59 (PASID entry not present),
	 * SMMU C_BAD_SUBSTREAMID (the STE is stage 2 only again). Only VT-d's record
	 * carries the access type (T1); the SMMU's C_BAD_SUBSTREAMID has no RnW. */
	CHECK_EQ(f[0].event.reason, IOMMU_FAULT_REASON_PASID_INVALID);
	CHECK_EQ(f[0].event.perm, vtd ? IOMMU_FAULT_PERM_READ : 0);
	CHECK(!fault_readable(vm, 0));

	/* Bind again, then free the PASID: the bind goes with it. */
	if (vtd) {
		CHECK_EQ(bind(vm, &b), 0);
		CHECK_EQ(dma(e, true, ssid, GVA + PG, false, back, 64, false), DEV_DMA_OK);
		CHECK_EQ(pasid_req(vm, VFIO_IOMMU_FLAG_FREE_PASID, (uint32_t)pasid, (uint32_t)pasid), 0);
		CHECK_EQ(dma(e, true, ssid, GVA + PG, false, back, 64, false), DEV_DMA_FAULT);
		CHECK_EQ(bind(vm, &b), -EINVAL);
		while (vsva_vfio_fault_read(vm->c, f, sizeof(f)) > 0)
			;
	}
}

/* ---- a guest that owns its PASIDs, beside the identity VM --------------------------- */

static void test_guest_pasids(struct plat *p, struct edev *e)
{
	struct vm vm;
	uint8_t buf[64];
	uint32_t h, g;
	long hp;

	vm_init(&vm, p, true, 2);
	CHECK_EQ(vsva_vfio_group_ioctl(e->group, VFIO_GROUP_SET_CONTAINER, (unsigned long)vm.c), 0);
	CHECK_EQ(vsva_vfio_ioctl(vm.c, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU), 0);
	CHECK_EQ(map_dma(&vm, (uintptr_t)vm.ram, GPA_BASE, RAM_SIZE, 3), 0);
	/* The quota: two PASIDs, not three. */
	hp = pasid_req(&vm, VFIO_IOMMU_FLAG_ALLOC_PASID, 1, (1u << 20) - 1);
	CHECK(hp >= 1);
	long hp2 = pasid_req(&vm, VFIO_IOMMU_FLAG_ALLOC_PASID, 1, (1u << 20) - 1);
	CHECK(hp2 >= 1 && hp2 != hp);
	CHECK_EQ(pasid_req(&vm, VFIO_IOMMU_FLAG_ALLOC_PASID, 1, (1u << 20) - 1), -ENOSPC);
	CHECK_EQ(pasid_req(&vm, VFIO_IOMMU_FLAG_FREE_PASID, (uint32_t)hp2, (uint32_t)hp2), 0);

	uint64_t root = guest_table(&vm, DATA_OFF, 2);
	struct iommu_gpasid_bind_data b = bind_vtd(root, (uint64_t)hp);
	/* A guest-owned PASID space needs the guest PASID. */
	CHECK_EQ(bind(&vm, &b), -EINVAL);
	b.flags = IOMMU_SVA_GPASID_VAL;
	b.gpasid = 5;
	CHECK_EQ(bind(&vm, &b), 0);
	CHECK_EQ(vsva_vfio_pasid_g2h(vm.c, 5, &h), 0);
	CHECK_EQ(h, (uint32_t)hp);
	CHECK_EQ(vsva_vfio_pasid_h2g(vm.c, (uint32_t)hp, &g), 0);
	CHECK_EQ(g, 5);
	CHECK_EQ(vsva_vfio_pasid_g2h(vm.c, 6, &h), -ENOENT);
	/* Hardware sees only the host PASID. */
	memset(buf, 0x6b, sizeof(buf));
	CHECK_EQ(dma(e, true, (uint32_t)hp, GVA, true, buf, 64, false), DEV_DMA_OK);
	CHECK_EQ(vm.ram[DATA_OFF], 0x6b);
	/* Invalidations name the guest PASID; the host's is substituted. */
	struct iommu_cache_invalidate_info inv = inv_addr(5, GVA, 1);
	CHECK_EQ(invalidate(&vm, &inv), 0);
	inv = inv_addr(6, GVA, 1);
	CHECK_EQ(invalidate(&vm, &inv), -EINVAL);
	/* Unbind with the wrong guest PASID, then the right one. */
	b.gpasid = 6;
	CHECK_EQ(unbind(&vm, &b), -EINVAL);
	b.gpasid = 5;
	CHECK_EQ(unbind(&vm, &b), 0);
	CHECK_EQ(vsva_vfio_pasid_g2h(vm.c, 5, &h), -ENOENT);
	CHECK_EQ(dma(e, true, (uint32_t)hp, GVA, true, buf, 64, false), DEV_DMA_FAULT);
	CHECK_EQ(vsva_vfio_group_ioctl(e->group, VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	vm_fini(&vm);
}

static void run(enum iommu_vendor vendor)
{
	struct plat p;
	struct vm vm;
	struct edev e, epri, e3;

	plat_init(&p, vendor);
	edev_init(&p, &e, 0x0100, false);
	edev_init(&p, &epri, 0x0108, true);
	edev_init(&p, &e3, 0x0200, false);
	vm_init(&vm, &p, false, 16);
	test_setup_errors(&vm, &e);
	/* The PRI endpoint joins before the IOMMU is set up again... */
	CHECK_EQ(vsva_vfio_group_ioctl(e.group, VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	CHECK_EQ(vsva_vfio_group_ioctl(e.group, VFIO_GROUP_SET_CONTAINER, (unsigned long)vm.c), 0);
	CHECK_EQ(vsva_vfio_group_ioctl(epri.group, VFIO_GROUP_SET_CONTAINER, (unsigned long)vm.c), 0);
	CHECK_EQ(vsva_vfio_ioctl(vm.c, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU), 0);
	test_info(&vm);
	test_map(&vm, &e);
	test_pasid_request(&vm);
	test_bind_identity(&vm, &e, &epri);
	if (vendor == IOMMU_VENDOR_INTEL_VTD)
		test_guest_pasids(&p, &e3);
	vm_fini(&vm);
	edev_fini(&p, &e);
	edev_fini(&p, &epri);
	edev_fini(&p, &e3);
	plat_fini(&p);
}

int main(void)
{
	run(IOMMU_VENDOR_INTEL_VTD);
	run(IOMMU_VENDOR_ARM_SMMUV3);
	return check_exit();
}
