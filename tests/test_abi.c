/* tests/test_abi.c — vsva's uapi headers against Linux's, and their layouts at run
 * time.
 *
 * 1. Against the system: abi_linux.c (which sees only <linux/iommu.h> and
 *    <linux/vfio.h>) exports tables of sizes, offsets and constant values; this
 *    file (which sees only vsva/uapi/) builds the same tables and compares them row
 *    by row, printing every mismatch by name. Every row the system has must be in
 *    vsva's table with the same value; a layout row of vsva's that the system lacks
 *    is a failure too (the two lists drifted), a constant the system lacks is only
 *    noted. What mainline Linux never had (PASID requests, nesting operations, the
 *    nesting capability, the invalidation, bind and nesting-info structures) is
 *    checked by the headers' own static assertions and by part 2.
 * 2. Byte views: each structure is filled through its fields and read back from a
 *    byte copy at the offsets worked by hand, so the layouts are exercised at run
 *    time, not only asserted.
 *
 * Exit 77 when neither system header is installed (Debian: linux-libc-dev).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vsva/uapi/iommu.h"
#include "vsva/uapi/vfio.h"

/* Shared with abi_linux.c (written out in both: no header may see both sides). */
struct abi_entry {
	const char *name;	/* NULL ends a table */
	uint64_t value;
};

#define ABI_SIZE(s) { "sizeof(struct " #s ")", sizeof(struct s) }
#define ABI_FIELD(s, f)                                                                \
	{ "offsetof(struct " #s ", " #f ")", offsetof(struct s, f) },                   \
	{ "sizeof(struct " #s "." #f ")", sizeof(((struct s *)0)->f) }
#define ABI_FLEX(s, f) { "offsetof(struct " #s ", " #f ")", offsetof(struct s, f) }
#define ABI_CONST(c) { #c, (uint64_t)(c) }
#define ABI_END { NULL, 0 }

extern const int abi_linux_have_iommu, abi_linux_have_vfio;
extern const struct abi_entry abi_linux_iommu[], abi_linux_vfio[];

static const struct abi_entry vsva_iommu[] = {
	ABI_SIZE(iommu_fault_unrecoverable),
	ABI_FIELD(iommu_fault_unrecoverable, reason),
	ABI_FIELD(iommu_fault_unrecoverable, flags),
	ABI_FIELD(iommu_fault_unrecoverable, pasid),
	ABI_FIELD(iommu_fault_unrecoverable, perm),
	ABI_FIELD(iommu_fault_unrecoverable, addr),
	ABI_FIELD(iommu_fault_unrecoverable, fetch_addr),

	ABI_SIZE(iommu_fault_page_request),
	ABI_FIELD(iommu_fault_page_request, flags),
	ABI_FIELD(iommu_fault_page_request, pasid),
	ABI_FIELD(iommu_fault_page_request, grpid),
	ABI_FIELD(iommu_fault_page_request, perm),
	ABI_FIELD(iommu_fault_page_request, addr),
	ABI_FIELD(iommu_fault_page_request, private_data),

	ABI_SIZE(iommu_fault),
	ABI_FIELD(iommu_fault, type),
	ABI_FIELD(iommu_fault, padding),
	ABI_FIELD(iommu_fault, event),
	ABI_FIELD(iommu_fault, event.reason),
	ABI_FIELD(iommu_fault, event.flags),
	ABI_FIELD(iommu_fault, event.pasid),
	ABI_FIELD(iommu_fault, event.perm),
	ABI_FIELD(iommu_fault, event.addr),
	ABI_FIELD(iommu_fault, event.fetch_addr),
	ABI_FIELD(iommu_fault, prm),
	ABI_FIELD(iommu_fault, prm.flags),
	ABI_FIELD(iommu_fault, prm.pasid),
	ABI_FIELD(iommu_fault, prm.grpid),
	ABI_FIELD(iommu_fault, prm.perm),
	ABI_FIELD(iommu_fault, prm.addr),
	ABI_FIELD(iommu_fault, prm.private_data),
	ABI_FIELD(iommu_fault, padding2),

	ABI_SIZE(iommu_page_response),
	ABI_FIELD(iommu_page_response, argsz),
	ABI_FIELD(iommu_page_response, version),
	ABI_FIELD(iommu_page_response, flags),
	ABI_FIELD(iommu_page_response, pasid),
	ABI_FIELD(iommu_page_response, grpid),
	ABI_FIELD(iommu_page_response, code),

	ABI_CONST(IOMMU_FAULT_DMA_UNRECOV),
	ABI_CONST(IOMMU_FAULT_PAGE_REQ),
	ABI_CONST(IOMMU_FAULT_REASON_UNKNOWN),
	ABI_CONST(IOMMU_FAULT_REASON_PASID_FETCH),
	ABI_CONST(IOMMU_FAULT_REASON_BAD_PASID_ENTRY),
	ABI_CONST(IOMMU_FAULT_REASON_PASID_INVALID),
	ABI_CONST(IOMMU_FAULT_REASON_WALK_EABT),
	ABI_CONST(IOMMU_FAULT_REASON_PTE_FETCH),
	ABI_CONST(IOMMU_FAULT_REASON_PERMISSION),
	ABI_CONST(IOMMU_FAULT_REASON_ACCESS),
	ABI_CONST(IOMMU_FAULT_REASON_OOR_ADDRESS),
	ABI_CONST(IOMMU_PAGE_RESP_SUCCESS),
	ABI_CONST(IOMMU_PAGE_RESP_INVALID),
	ABI_CONST(IOMMU_PAGE_RESP_FAILURE),
	ABI_CONST(IOMMU_FAULT_PERM_READ),
	ABI_CONST(IOMMU_FAULT_PERM_WRITE),
	ABI_CONST(IOMMU_FAULT_PERM_EXEC),
	ABI_CONST(IOMMU_FAULT_PERM_PRIV),
	ABI_CONST(IOMMU_FAULT_UNRECOV_PASID_VALID),
	ABI_CONST(IOMMU_FAULT_UNRECOV_ADDR_VALID),
	ABI_CONST(IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID),
	ABI_CONST(IOMMU_FAULT_PAGE_REQUEST_PASID_VALID),
	ABI_CONST(IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE),
	ABI_CONST(IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA),
	ABI_CONST(IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID),
	ABI_CONST(IOMMU_PAGE_RESP_VERSION_1),
	ABI_CONST(IOMMU_PAGE_RESP_PASID_VALID),
	ABI_END
};

static const struct abi_entry vsva_vfio[] = {
	ABI_SIZE(vfio_group_status),
	ABI_FIELD(vfio_group_status, argsz),
	ABI_FIELD(vfio_group_status, flags),

	ABI_SIZE(vfio_info_cap_header),
	ABI_FIELD(vfio_info_cap_header, id),
	ABI_FIELD(vfio_info_cap_header, version),
	ABI_FIELD(vfio_info_cap_header, next),

	ABI_SIZE(vfio_iommu_type1_info),
	ABI_FIELD(vfio_iommu_type1_info, argsz),
	ABI_FIELD(vfio_iommu_type1_info, flags),
	ABI_FIELD(vfio_iommu_type1_info, iova_pgsizes),
	ABI_FIELD(vfio_iommu_type1_info, cap_offset),

	ABI_SIZE(vfio_iova_range),
	ABI_FIELD(vfio_iova_range, start),
	ABI_FIELD(vfio_iova_range, end),

	ABI_SIZE(vfio_iommu_type1_info_cap_iova_range),
	ABI_FIELD(vfio_iommu_type1_info_cap_iova_range, header),
	ABI_FIELD(vfio_iommu_type1_info_cap_iova_range, header.id),
	ABI_FIELD(vfio_iommu_type1_info_cap_iova_range, header.version),
	ABI_FIELD(vfio_iommu_type1_info_cap_iova_range, header.next),
	ABI_FIELD(vfio_iommu_type1_info_cap_iova_range, nr_iovas),
	ABI_FIELD(vfio_iommu_type1_info_cap_iova_range, reserved),
	ABI_FLEX(vfio_iommu_type1_info_cap_iova_range, iova_ranges),

	ABI_SIZE(vfio_iommu_type1_info_cap_migration),
	ABI_FIELD(vfio_iommu_type1_info_cap_migration, header),
	ABI_FIELD(vfio_iommu_type1_info_cap_migration, header.id),
	ABI_FIELD(vfio_iommu_type1_info_cap_migration, header.version),
	ABI_FIELD(vfio_iommu_type1_info_cap_migration, header.next),
	ABI_FIELD(vfio_iommu_type1_info_cap_migration, flags),
	ABI_FIELD(vfio_iommu_type1_info_cap_migration, pgsize_bitmap),
	ABI_FIELD(vfio_iommu_type1_info_cap_migration, max_dirty_bitmap_size),

	ABI_SIZE(vfio_iommu_type1_dma_map),
	ABI_FIELD(vfio_iommu_type1_dma_map, argsz),
	ABI_FIELD(vfio_iommu_type1_dma_map, flags),
	ABI_FIELD(vfio_iommu_type1_dma_map, vaddr),
	ABI_FIELD(vfio_iommu_type1_dma_map, iova),
	ABI_FIELD(vfio_iommu_type1_dma_map, size),

	ABI_SIZE(vfio_iommu_type1_dma_unmap),
	ABI_FIELD(vfio_iommu_type1_dma_unmap, argsz),
	ABI_FIELD(vfio_iommu_type1_dma_unmap, flags),
	ABI_FIELD(vfio_iommu_type1_dma_unmap, iova),
	ABI_FIELD(vfio_iommu_type1_dma_unmap, size),
	ABI_FLEX(vfio_iommu_type1_dma_unmap, data),

	ABI_CONST(VFIO_API_VERSION),
	ABI_CONST(VFIO_TYPE1_IOMMU),
	ABI_CONST(VFIO_SPAPR_TCE_IOMMU),
	ABI_CONST(VFIO_TYPE1v2_IOMMU),
	ABI_CONST(VFIO_DMA_CC_IOMMU),
	ABI_CONST(VFIO_EEH),
	ABI_CONST(VFIO_TYPE1_NESTING_IOMMU),
	ABI_CONST(VFIO_SPAPR_TCE_v2_IOMMU),
	ABI_CONST(VFIO_NOIOMMU_IOMMU),
	ABI_CONST(VFIO_UNMAP_ALL),
	ABI_CONST(VFIO_UPDATE_VADDR),
	ABI_CONST(VFIO_TYPE),
	ABI_CONST(VFIO_BASE),
	ABI_CONST(VFIO_GET_API_VERSION),
	ABI_CONST(VFIO_CHECK_EXTENSION),
	ABI_CONST(VFIO_SET_IOMMU),
	ABI_CONST(VFIO_GROUP_GET_STATUS),
	ABI_CONST(VFIO_GROUP_SET_CONTAINER),
	ABI_CONST(VFIO_GROUP_UNSET_CONTAINER),
	ABI_CONST(VFIO_GROUP_GET_DEVICE_FD),
	ABI_CONST(VFIO_IOMMU_GET_INFO),
	ABI_CONST(VFIO_IOMMU_MAP_DMA),
	ABI_CONST(VFIO_IOMMU_UNMAP_DMA),
	ABI_CONST(VFIO_IOMMU_ENABLE),
	ABI_CONST(VFIO_IOMMU_DISABLE),
	ABI_CONST(VFIO_IOMMU_DIRTY_PAGES),
	ABI_CONST(VFIO_IOMMU_PASID_REQUEST),
	ABI_CONST(VFIO_IOMMU_NESTING_OP),
	ABI_CONST(VFIO_GROUP_FLAGS_VIABLE),
	ABI_CONST(VFIO_GROUP_FLAGS_CONTAINER_SET),
	ABI_CONST(VFIO_IOMMU_INFO_PGSIZES),
	ABI_CONST(VFIO_IOMMU_INFO_CAPS),
	ABI_CONST(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE),
	ABI_CONST(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION),
	ABI_CONST(VFIO_DMA_MAP_FLAG_READ),
	ABI_CONST(VFIO_DMA_MAP_FLAG_WRITE),
	ABI_CONST(VFIO_DMA_MAP_FLAG_VADDR),
	ABI_CONST(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP),
	ABI_CONST(VFIO_DMA_UNMAP_FLAG_ALL),
	ABI_CONST(VFIO_DMA_UNMAP_FLAG_VADDR),
	ABI_END
};

static const struct abi_entry *abi_find(const struct abi_entry *t, const char *name)
{
	for (; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static int is_layout(const char *name)
{
	return strncmp(name, "sizeof(", 7) == 0 || strncmp(name, "offsetof(", 9) == 0;
}

/* Compares one header's tables; returns the number of rows compared. */
static unsigned compare(const char *hdr, const struct abi_entry *lx, const struct abi_entry *vs)
{
	unsigned compared = 0;

	for (const struct abi_entry *l = lx; l->name; l++) {
		const struct abi_entry *v = abi_find(vs, l->name);

		compared++;
		CHECK_MSG(v != NULL, "%s: %s is in the system header (0x%" PRIx64
			  ") but not in vsva's table", hdr, l->name, l->value);
		if (v)
			CHECK_MSG(v->value == l->value, "%s: %s: vsva 0x%" PRIx64
				  ", system 0x%" PRIx64, hdr, l->name, v->value, l->value);
	}
	for (const struct abi_entry *v = vs; v->name; v++) {
		if (abi_find(lx, v->name))
			continue;
		if (is_layout(v->name))
			CHECK_MSG(0, "%s: %s has no row from the system header", hdr, v->name);
		else
			printf("note: %s: %s (0x%" PRIx64 ") is not defined by the system header\n",
			       hdr, v->name, v->value);
	}
	return compared;
}

/* ---- part 2: byte views -------------------------------------------------------- */

/* The n-byte native-endian value at byte offset off of b. */
static uint64_t at(const void *b, size_t off, size_t n)
{
	const unsigned char *p = (const unsigned char *)b + off;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (n) {
	case 1: memcpy(&u8, p, 1); return u8;
	case 2: memcpy(&u16, p, 2); return u16;
	case 4: memcpy(&u32, p, 4); return u32;
	default: memcpy(&u64, p, 8); return u64;
	}
}

/* Copies the object into a byte buffer first, so only offsets connect the two. */
#define VIEW(obj, buf)                                                                  \
	unsigned char buf[sizeof(obj)];                                                 \
	memcpy(buf, &(obj), sizeof(obj))

static void test_fault_views(void)
{
	const struct iommu_fault pr = {
		.type = IOMMU_FAULT_PAGE_REQ,
		.prm = {
			.flags = IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
				 IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE,
			.pasid = 0x12345,
			.grpid = 0x1ff,
			.perm = IOMMU_FAULT_PERM_READ | IOMMU_FAULT_PERM_WRITE,
			.addr = 0x7f1234567000ull,
			.private_data = { 0x1111222233334444ull, 0x5555666677778888ull },
		},
	};
	VIEW(pr, b);

	CHECK_EQ(sizeof(b), 64);
	CHECK_EQ(at(b, 0, 4), 2);
	CHECK_EQ(at(b, 8, 4), 3);
	CHECK_EQ(at(b, 12, 4), 0x12345);
	CHECK_EQ(at(b, 16, 4), 0x1ff);
	CHECK_EQ(at(b, 20, 4), 3);
	CHECK_EQ(at(b, 24, 8), 0x7f1234567000ull);
	CHECK_EQ(at(b, 32, 8), 0x1111222233334444ull);
	CHECK_EQ(at(b, 40, 8), 0x5555666677778888ull);
	for (size_t i = 48; i < 64; i++)
		CHECK_EQ(b[i], 0);

	const struct iommu_fault ev = {
		.type = IOMMU_FAULT_DMA_UNRECOV,
		.event = {
			.reason = IOMMU_FAULT_REASON_WALK_EABT,
			.flags = IOMMU_FAULT_UNRECOV_PASID_VALID | IOMMU_FAULT_UNRECOV_ADDR_VALID |
				 IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID,
			.pasid = 7,
			.perm = IOMMU_FAULT_PERM_EXEC | IOMMU_FAULT_PERM_PRIV,
			.addr = 0xffff800000010000ull,
			.fetch_addr = 0x80002ff8ull,
		},
	};
	VIEW(ev, e);

	CHECK_EQ(at(e, 0, 4), 1);
	CHECK_EQ(at(e, 8, 4), 4);
	CHECK_EQ(at(e, 12, 4), 7);
	CHECK_EQ(at(e, 16, 4), 7);
	CHECK_EQ(at(e, 20, 4), 0xc);
	CHECK_EQ(at(e, 24, 8), 0xffff800000010000ull);
	CHECK_EQ(at(e, 32, 8), 0x80002ff8ull);

	const struct iommu_page_response r = {
		.argsz = sizeof(struct iommu_page_response),
		.version = IOMMU_PAGE_RESP_VERSION_1,
		.flags = IOMMU_PAGE_RESP_PASID_VALID,
		.pasid = 0xfffff,
		.grpid = 0x155,
		.code = IOMMU_PAGE_RESP_FAILURE,
	};
	VIEW(r, rb);

	CHECK_EQ(at(rb, 0, 4), 24);
	CHECK_EQ(at(rb, 4, 4), 1);
	CHECK_EQ(at(rb, 8, 4), 1);
	CHECK_EQ(at(rb, 12, 4), 0xfffff);
	CHECK_EQ(at(rb, 16, 4), 0x155);
	CHECK_EQ(at(rb, 20, 4), 2);
}

static void test_invalidate_views(void)
{
	/* 8 pages of 4 KiB at 0x40000000 for PASID 5 / ASID 9, leaves only */
	const struct iommu_cache_invalidate_info addr = {
		.argsz = sizeof(struct iommu_cache_invalidate_info),
		.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1,
		.cache = IOMMU_CACHE_INV_TYPE_IOTLB | IOMMU_CACHE_INV_TYPE_DEV_IOTLB,
		.granularity = IOMMU_INV_GRANU_ADDR,
		.granu.addr_info = {
			.flags = IOMMU_INV_ADDR_FLAGS_PASID | IOMMU_INV_ADDR_FLAGS_ARCHID |
				 IOMMU_INV_ADDR_FLAGS_LEAF,
			.archid = 9,
			.pasid = 5,
			.addr = 0x40000000,
			.granule_size = 4096,
			.nb_granules = 8,
		},
	};
	VIEW(addr, a);

	CHECK_EQ(sizeof(a), 56);
	CHECK_EQ(at(a, 0, 4), 56);
	CHECK_EQ(at(a, 4, 4), 1);
	CHECK_EQ(at(a, 8, 1), 3);
	CHECK_EQ(at(a, 9, 1), 2);
	for (size_t i = 10; i < 16; i++)
		CHECK_EQ(a[i], 0);
	CHECK_EQ(at(a, 16, 4), 7);
	CHECK_EQ(at(a, 20, 4), 9);
	CHECK_EQ(at(a, 24, 8), 5);
	CHECK_EQ(at(a, 32, 8), 0x40000000);
	CHECK_EQ(at(a, 40, 8), 4096);
	CHECK_EQ(at(a, 48, 8), 8);

	const struct iommu_cache_invalidate_info pasid = {
		.argsz = sizeof(struct iommu_cache_invalidate_info),
		.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1,
		.cache = IOMMU_CACHE_INV_TYPE_PASID,
		.granularity = IOMMU_INV_GRANU_PASID,
		.granu.pasid_info = {
			.flags = IOMMU_INV_PASID_FLAGS_PASID | IOMMU_INV_PASID_FLAGS_ARCHID,
			.archid = 0xbeef,
			.pasid = 0x54321,
		},
	};
	VIEW(pasid, p);

	CHECK_EQ(at(p, 8, 1), 4);
	CHECK_EQ(at(p, 9, 1), 1);
	CHECK_EQ(at(p, 16, 4), 3);
	CHECK_EQ(at(p, 20, 4), 0xbeef);
	CHECK_EQ(at(p, 24, 8), 0x54321);
}

static void test_bind_views(void)
{
	const struct iommu_gpasid_bind_data vtd = {
		.argsz = sizeof(struct iommu_gpasid_bind_data),
		.version = IOMMU_GPASID_BIND_VERSION_1,
		.format = IOMMU_PASID_FORMAT_INTEL_VTD,
		.addr_width = 57,
		.flags = IOMMU_SVA_GPASID_VAL,
		.gpgd = 0x12345000,
		.hpasid = 0x100,
		.gpasid = 0x20,
		.vendor.vtd = {
			.flags = IOMMU_SVA_VTD_GPASID_SRE | IOMMU_SVA_VTD_GPASID_MTS_MASK,
			.pat = 0x00070406,
			.emt = 6,
		},
	};
	VIEW(vtd, v);

	CHECK_EQ(sizeof(v), 72);
	CHECK_EQ(at(v, 0, 4), 72);
	CHECK_EQ(at(v, 4, 4), 1);
	CHECK_EQ(at(v, 8, 4), 1);
	CHECK_EQ(at(v, 12, 4), 57);
	CHECK_EQ(at(v, 16, 8), 1);
	CHECK_EQ(at(v, 24, 8), 0x12345000);
	CHECK_EQ(at(v, 32, 8), 0x100);
	CHECK_EQ(at(v, 40, 8), 0x20);
	CHECK_EQ(at(v, 48, 8), 0);
	CHECK_EQ(at(v, 56, 8), 0x3d);	/* SRE | CD | EMTE | PWT | PCD = bits 0, 2-5 */
	CHECK_EQ(at(v, 64, 4), 0x00070406);
	CHECK_EQ(at(v, 68, 4), 6);

	/* Arm: gpgd is the guest CD table (S1ContextPtr); 2-level CD table of 2^8 CDs,
	 * S1DSS = 0b01 (no-PASID traffic bypasses stage 1) */
	const struct iommu_gpasid_bind_data smmu = {
		.argsz = sizeof(struct iommu_gpasid_bind_data),
		.version = IOMMU_GPASID_BIND_VERSION_1,
		.format = IOMMU_PASID_FORMAT_SMMUV3,
		.addr_width = 48,
		.gpgd = 0x8000a000,
		.hpasid = 3,
		.vendor.smmuv3 = {
			.flags = IOMMU_SVA_SMMUV3_S1STALLD,
			.s1fmt = 1,
			.s1cdmax = 8,
			.s1dss = 1,
		},
	};
	VIEW(smmu, s);

	CHECK_EQ(at(s, 8, 4), 2);
	CHECK_EQ(at(s, 12, 4), 48);
	CHECK_EQ(at(s, 24, 8), 0x8000a000);
	CHECK_EQ(at(s, 32, 8), 3);
	CHECK_EQ(at(s, 56, 4), 1);
	CHECK_EQ(at(s, 60, 1), 1);
	CHECK_EQ(at(s, 61, 1), 8);
	CHECK_EQ(at(s, 62, 1), 1);
	CHECK_EQ(at(s, 63, 1), 0);
	for (size_t i = 64; i < 72; i++)
		CHECK_EQ(s[i], 0);
}

static void test_nesting_info_views(void)
{
	const struct iommu_nesting_info vtd = {
		.argsz = sizeof(struct iommu_nesting_info),
		.format = IOMMU_PASID_FORMAT_INTEL_VTD,
		.features = IOMMU_NESTING_FEAT_SYSWIDE_PASID | IOMMU_NESTING_FEAT_BIND_PGTBL |
			    IOMMU_NESTING_FEAT_CACHE_INVLD,
		.addr_width = 48,
		.pasid_bits = 20,
		.vendor.vtd = {
			.cap_reg = 0x00d2008c40660462ull,
			.ecap_reg = 0x00f050da9e0f0fefull,
		},
	};
	VIEW(vtd, v);

	CHECK_EQ(sizeof(v), 56);
	CHECK_EQ(at(v, 0, 4), 56);
	CHECK_EQ(at(v, 4, 4), 0);
	CHECK_EQ(at(v, 8, 4), 1);
	CHECK_EQ(at(v, 12, 4), 7);
	CHECK_EQ(at(v, 16, 2), 48);
	CHECK_EQ(at(v, 18, 2), 20);
	CHECK_EQ(at(v, 32, 4), 0);
	CHECK_EQ(at(v, 40, 8), 0x00d2008c40660462ull);
	CHECK_EQ(at(v, 48, 8), 0x00f050da9e0f0fefull);

	/* inside the VFIO capability, the same structure moves by 8 */
	const struct vfio_iommu_type1_info_cap_nesting cap = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_NESTING, .version = 1, .next = 0 },
		.info = {
			.argsz = sizeof(struct iommu_nesting_info),
			.format = IOMMU_PASID_FORMAT_SMMUV3,
			.features = IOMMU_NESTING_FEAT_BIND_PGTBL | IOMMU_NESTING_FEAT_CACHE_INVLD,
			.addr_width = 48,
			.pasid_bits = 16,
			.vendor.smmuv3 = {
				.aidr = 0x2,
				.idr0 = 0x0f0c5aaf,
				.idr1 = 0x0e739d08,
				.idr3 = 0x00000004,
				.idr5 = 0x00000075,
			},
		},
	};
	VIEW(cap, c);

	CHECK_EQ(sizeof(c), 64);
	CHECK_EQ(at(c, 0, 2), 3);
	CHECK_EQ(at(c, 2, 2), 1);
	CHECK_EQ(at(c, 4, 4), 0);
	CHECK_EQ(at(c, 8, 4), 56);
	CHECK_EQ(at(c, 16, 4), 2);
	CHECK_EQ(at(c, 20, 4), 6);
	CHECK_EQ(at(c, 24, 2), 48);
	CHECK_EQ(at(c, 26, 2), 16);
	CHECK_EQ(at(c, 40, 4), 0);
	CHECK_EQ(at(c, 44, 4), 2);
	CHECK_EQ(at(c, 48, 4), 0x0f0c5aaf);
	CHECK_EQ(at(c, 52, 4), 0x0e739d08);
	CHECK_EQ(at(c, 56, 4), 4);
	CHECK_EQ(at(c, 60, 4), 0x75);
}

static void test_vfio_views(void)
{
	const struct vfio_group_status gs = {
		.argsz = sizeof(gs),
		.flags = VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
	};
	VIEW(gs, g);
	CHECK_EQ(at(g, 0, 4), 8);
	CHECK_EQ(at(g, 4, 4), 3);

	const struct vfio_iommu_type1_info info = {
		.argsz = sizeof(info),
		.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS,
		.iova_pgsizes = 0x40201000,	/* 4K | 2M | 1G */
		.cap_offset = 24,
	};
	VIEW(info, i);
	CHECK_EQ(at(i, 0, 4), 24);
	CHECK_EQ(at(i, 4, 4), 3);
	CHECK_EQ(at(i, 8, 8), 0x40201000);
	CHECK_EQ(at(i, 16, 4), 24);

	/* a capability chain as GET_INFO returns it: iova ranges, then migration */
	union {
		uint64_t align;
		unsigned char b[24 + 16 + 2 * 16 + 32];
	} buf;
	memset(&buf, 0, sizeof(buf));
	struct vfio_iommu_type1_info_cap_iova_range *ir = (void *)(buf.b + 24);
	ir->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	ir->header.version = 1;
	ir->header.next = 24 + 16 + 2 * 16;
	ir->nr_iovas = 2;
	ir->iova_ranges[0] = (struct vfio_iova_range){ 0, 0xfedfffff };
	ir->iova_ranges[1] = (struct vfio_iova_range){ 0xfef00000, 0xffffffffffffull };
	struct vfio_iommu_type1_info_cap_migration *mig = (void *)(buf.b + 72);
	mig->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION;
	mig->header.version = 1;
	mig->flags = 0;
	mig->pgsize_bitmap = 0x1000;
	mig->max_dirty_bitmap_size = 256ull << 20;

	CHECK_EQ(at(buf.b, 24, 2), 1);
	CHECK_EQ(at(buf.b, 26, 2), 1);
	CHECK_EQ(at(buf.b, 28, 4), 72);
	CHECK_EQ(at(buf.b, 32, 4), 2);
	CHECK_EQ(at(buf.b, 40, 8), 0);
	CHECK_EQ(at(buf.b, 48, 8), 0xfedfffff);
	CHECK_EQ(at(buf.b, 56, 8), 0xfef00000);
	CHECK_EQ(at(buf.b, 64, 8), 0xffffffffffffull);
	CHECK_EQ(at(buf.b, 72, 2), 2);
	CHECK_EQ(at(buf.b, 76, 4), 0);
	CHECK_EQ(at(buf.b, 88, 8), 0x1000);
	CHECK_EQ(at(buf.b, 96, 8), 256ull << 20);

	const struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = 0x7f0000000000ull,
		.iova = 0x100000000ull,
		.size = 0x200000,
	};
	VIEW(map, m);
	CHECK_EQ(at(m, 0, 4), 32);
	CHECK_EQ(at(m, 4, 4), 3);
	CHECK_EQ(at(m, 8, 8), 0x7f0000000000ull);
	CHECK_EQ(at(m, 16, 8), 0x100000000ull);
	CHECK_EQ(at(m, 24, 8), 0x200000);

	const struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = VFIO_DMA_UNMAP_FLAG_VADDR,
		.iova = 0x100000000ull,
		.size = 0x200000,
	};
	VIEW(unmap, u);
	CHECK_EQ(sizeof(u), 24);
	CHECK_EQ(at(u, 0, 4), 24);
	CHECK_EQ(at(u, 4, 4), 4);
	CHECK_EQ(at(u, 8, 8), 0x100000000ull);
	CHECK_EQ(at(u, 16, 8), 0x200000);

	const struct vfio_iommu_type1_pasid_request preq = {
		.argsz = sizeof(preq),
		.flags = VFIO_IOMMU_FLAG_ALLOC_PASID,
		.range = { .min = 1, .max = (1u << 20) - 1 },
	};
	VIEW(preq, pr);
	CHECK_EQ(sizeof(pr), 16);
	CHECK_EQ(at(pr, 0, 4), 16);
	CHECK_EQ(at(pr, 4, 4), 1);
	CHECK_EQ(at(pr, 8, 4), 1);
	CHECK_EQ(at(pr, 12, 4), 0xfffff);
	CHECK_EQ(VFIO_PASID_REQUEST_MASK, 3);

	/* a NESTING_OP carrying a bind: the bind starts at data[], byte 8 */
	size_t len = sizeof(struct vfio_iommu_type1_nesting_op) + sizeof(struct iommu_gpasid_bind_data);
	struct vfio_iommu_type1_nesting_op *op = calloc(1, len);
	CHECK(op != NULL);
	if (!op)
		return;
	const struct iommu_gpasid_bind_data bind = {
		.argsz = sizeof(bind),
		.version = IOMMU_GPASID_BIND_VERSION_1,
		.format = IOMMU_PASID_FORMAT_SMMUV3,
		.gpgd = 0x8000a000,
		.hpasid = 3,
		.vendor.smmuv3 = { .s1cdmax = 4 },
	};
	op->argsz = (uint32_t)len;
	op->flags = VFIO_IOMMU_NESTING_OP_BIND_PGTBL;
	memcpy(op->data, &bind, sizeof(bind));
	CHECK_EQ(len, 80);
	CHECK_EQ(at(op, 0, 4), 80);
	CHECK_EQ(at(op, 4, 4) & VFIO_NESTING_OP_MASK, 0);
	CHECK_EQ(at(op, 8, 4), 72);
	CHECK_EQ(at(op, 16, 4), 2);
	CHECK_EQ(at(op, 8 + 24, 8), 0x8000a000);
	CHECK_EQ(at(op, 8 + 32, 8), 3);
	CHECK_EQ(at(op, 8 + 61, 1), 4);
	free(op);
}

/* Values the system cannot vouch for: the proposal's and vsva's, worked by hand. */
static void test_extension_values(void)
{
	CHECK_EQ(VFIO_IOMMU_PASID_REQUEST, 0x3b76);	/* 0x3b << 8 | (100 + 18) */
	CHECK_EQ(VFIO_IOMMU_NESTING_OP, 0x3b77);
	CHECK_EQ(VFIO_IOMMU_GET_INFO, 0x3b70);
	CHECK_EQ(VFIO_IOMMU_TYPE1_INFO_CAP_NESTING, 3);
	CHECK_EQ(VFIO_IOMMU_PASID_BITS, 31);
	CHECK_EQ(VFIO_IOMMU_NESTING_OP_CACHE_INVLD, 2);
	CHECK_EQ(VFIO_IOMMU_NESTING_OP_NUM, 3);
	CHECK_EQ(IOMMU_PASID_FORMAT_INTEL_VTD, 1);
	CHECK_EQ(IOMMU_PASID_FORMAT_SMMUV3, 2);
	CHECK_EQ(IOMMU_PASID_FORMAT_LAST, 3);
	CHECK_EQ(IOMMU_INV_GRANU_NR, 3);
	CHECK_EQ(IOMMU_CACHE_INV_TYPE_NR, 3);
	CHECK_EQ(IOMMU_SVA_VTD_GPASID_MTS_MASK, 0x3c);
	CHECK_EQ(IOMMU_SVA_VTD_GPASID_LAST, 0x40);
	CHECK_EQ(IOMMU_SVA_SMMUV3_S1STALLD, 1);
}

int main(void)
{
	if (!abi_linux_have_iommu && !abi_linux_have_vfio) {
		printf("skip: neither <linux/iommu.h> nor <linux/vfio.h> is installed (linux-libc-dev)\n");
		return 77;
	}
	unsigned n = 0;

	if (abi_linux_have_iommu)
		n += compare("linux/iommu.h", abi_linux_iommu, vsva_iommu);
	else
		printf("note: <linux/iommu.h> is not installed; its rows were not compared\n");
	if (abi_linux_have_vfio)
		n += compare("linux/vfio.h", abi_linux_vfio, vsva_vfio);
	else
		printf("note: <linux/vfio.h> is not installed; its rows were not compared\n");
	printf("%u rows compared with the system headers\n", n);

	test_fault_views();
	test_invalidate_views();
	test_bind_views();
	test_nesting_info_views();
	test_vfio_views();
	test_extension_values();
	return check_exit();
}
