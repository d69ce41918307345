/* tests/abi_linux.c — the system's Linux user ABI as tables, for test_abi.c.
 *
 * This file includes only the system's <linux/iommu.h> and <linux/vfio.h> (from
 * linux-libc-dev); test_abi.c includes only vsva's uapi headers. The two sets
 * define the same names and cannot meet in one translation unit, so each side
 * writes what it sees as a table of (name, value) rows: a structure's sizeof, each
 * field's offsetof and sizeof, each constant's value. The rows are spelt by the
 * same macros on both sides, so equal names mean the same question.
 *
 * Macro constants are listed under #ifdef: a header that no longer ships one simply
 * has no row for it. A header that is missing altogether gives an empty table and
 * its abi_linux_have_* flag clear.
 */
#include <stddef.h>
#include <stdint.h>

#if defined(__has_include)
#if __has_include(<linux/iommu.h>)
#include <linux/iommu.h>
#define ABI_HAVE_IOMMU 1
#endif
#if __has_include(<linux/vfio.h>)
#include <linux/vfio.h>
#define ABI_HAVE_VFIO 1
#endif
#endif

/* Shared with test_abi.c (written out in both: no header may see both sides). */
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

#ifdef ABI_HAVE_IOMMU
const int abi_linux_have_iommu = 1;
const struct abi_entry abi_linux_iommu[] = {
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

	/* enumerators: always present with their enum */
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
	/* macros */
#ifdef IOMMU_FAULT_PERM_READ
	ABI_CONST(IOMMU_FAULT_PERM_READ),
#endif
#ifdef IOMMU_FAULT_PERM_WRITE
	ABI_CONST(IOMMU_FAULT_PERM_WRITE),
#endif
#ifdef IOMMU_FAULT_PERM_EXEC
	ABI_CONST(IOMMU_FAULT_PERM_EXEC),
#endif
#ifdef IOMMU_FAULT_PERM_PRIV
	ABI_CONST(IOMMU_FAULT_PERM_PRIV),
#endif
#ifdef IOMMU_FAULT_UNRECOV_PASID_VALID
	ABI_CONST(IOMMU_FAULT_UNRECOV_PASID_VALID),
#endif
#ifdef IOMMU_FAULT_UNRECOV_ADDR_VALID
	ABI_CONST(IOMMU_FAULT_UNRECOV_ADDR_VALID),
#endif
#ifdef IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID
	ABI_CONST(IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID),
#endif
#ifdef IOMMU_FAULT_PAGE_REQUEST_PASID_VALID
	ABI_CONST(IOMMU_FAULT_PAGE_REQUEST_PASID_VALID),
#endif
#ifdef IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE
	ABI_CONST(IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE),
#endif
#ifdef IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA
	ABI_CONST(IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA),
#endif
#ifdef IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID
	ABI_CONST(IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID),
#endif
#ifdef IOMMU_PAGE_RESP_VERSION_1
	ABI_CONST(IOMMU_PAGE_RESP_VERSION_1),
#endif
#ifdef IOMMU_PAGE_RESP_PASID_VALID
	ABI_CONST(IOMMU_PAGE_RESP_PASID_VALID),
#endif
	ABI_END
};
#else
const int abi_linux_have_iommu = 0;
const struct abi_entry abi_linux_iommu[] = { ABI_END };
#endif

#ifdef ABI_HAVE_VFIO
const int abi_linux_have_vfio = 1;
const struct abi_entry abi_linux_vfio[] = {
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

#ifdef VFIO_API_VERSION
	ABI_CONST(VFIO_API_VERSION),
#endif
#ifdef VFIO_TYPE1_IOMMU
	ABI_CONST(VFIO_TYPE1_IOMMU),
#endif
#ifdef VFIO_SPAPR_TCE_IOMMU
	ABI_CONST(VFIO_SPAPR_TCE_IOMMU),
#endif
#ifdef VFIO_TYPE1v2_IOMMU
	ABI_CONST(VFIO_TYPE1v2_IOMMU),
#endif
#ifdef VFIO_DMA_CC_IOMMU
	ABI_CONST(VFIO_DMA_CC_IOMMU),
#endif
#ifdef VFIO_EEH
	ABI_CONST(VFIO_EEH),
#endif
#ifdef VFIO_TYPE1_NESTING_IOMMU
	ABI_CONST(VFIO_TYPE1_NESTING_IOMMU),
#endif
#ifdef VFIO_SPAPR_TCE_v2_IOMMU
	ABI_CONST(VFIO_SPAPR_TCE_v2_IOMMU),
#endif
#ifdef VFIO_NOIOMMU_IOMMU
	ABI_CONST(VFIO_NOIOMMU_IOMMU),
#endif
#ifdef VFIO_UNMAP_ALL
	ABI_CONST(VFIO_UNMAP_ALL),
#endif
#ifdef VFIO_UPDATE_VADDR
	ABI_CONST(VFIO_UPDATE_VADDR),
#endif
#ifdef VFIO_TYPE
	ABI_CONST(VFIO_TYPE),
#endif
#ifdef VFIO_BASE
	ABI_CONST(VFIO_BASE),
#endif
#ifdef VFIO_GET_API_VERSION
	ABI_CONST(VFIO_GET_API_VERSION),
#endif
#ifdef VFIO_CHECK_EXTENSION
	ABI_CONST(VFIO_CHECK_EXTENSION),
#endif
#ifdef VFIO_SET_IOMMU
	ABI_CONST(VFIO_SET_IOMMU),
#endif
#ifdef VFIO_GROUP_GET_STATUS
	ABI_CONST(VFIO_GROUP_GET_STATUS),
#endif
#ifdef VFIO_GROUP_SET_CONTAINER
	ABI_CONST(VFIO_GROUP_SET_CONTAINER),
#endif
#ifdef VFIO_GROUP_UNSET_CONTAINER
	ABI_CONST(VFIO_GROUP_UNSET_CONTAINER),
#endif
#ifdef VFIO_GROUP_GET_DEVICE_FD
	ABI_CONST(VFIO_GROUP_GET_DEVICE_FD),
#endif
#ifdef VFIO_IOMMU_GET_INFO
	ABI_CONST(VFIO_IOMMU_GET_INFO),
#endif
#ifdef VFIO_IOMMU_MAP_DMA
	ABI_CONST(VFIO_IOMMU_MAP_DMA),
#endif
#ifdef VFIO_IOMMU_UNMAP_DMA
	ABI_CONST(VFIO_IOMMU_UNMAP_DMA),
#endif
#ifdef VFIO_IOMMU_ENABLE
	ABI_CONST(VFIO_IOMMU_ENABLE),
#endif
#ifdef VFIO_IOMMU_DISABLE
	ABI_CONST(VFIO_IOMMU_DISABLE),
#endif
#ifdef VFIO_IOMMU_DIRTY_PAGES
	ABI_CONST(VFIO_IOMMU_DIRTY_PAGES),
#endif
	/* the proposal's two, should a header ever carry them */
#ifdef VFIO_IOMMU_PASID_REQUEST
	ABI_CONST(VFIO_IOMMU_PASID_REQUEST),
#endif
#ifdef VFIO_IOMMU_NESTING_OP
	ABI_CONST(VFIO_IOMMU_NESTING_OP),
#endif
#ifdef VFIO_GROUP_FLAGS_VIABLE
	ABI_CONST(VFIO_GROUP_FLAGS_VIABLE),
#endif
#ifdef VFIO_GROUP_FLAGS_CONTAINER_SET
	ABI_CONST(VFIO_GROUP_FLAGS_CONTAINER_SET),
#endif
#ifdef VFIO_IOMMU_INFO_PGSIZES
	ABI_CONST(VFIO_IOMMU_INFO_PGSIZES),
#endif
#ifdef VFIO_IOMMU_INFO_CAPS
	ABI_CONST(VFIO_IOMMU_INFO_CAPS),
#endif
#ifdef VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE
	ABI_CONST(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE),
#endif
#ifdef VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION
	ABI_CONST(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION),
#endif
#ifdef VFIO_DMA_MAP_FLAG_READ
	ABI_CONST(VFIO_DMA_MAP_FLAG_READ),
#endif
#ifdef VFIO_DMA_MAP_FLAG_WRITE
	ABI_CONST(VFIO_DMA_MAP_FLAG_WRITE),
#endif
#ifdef VFIO_DMA_MAP_FLAG_VADDR
	ABI_CONST(VFIO_DMA_MAP_FLAG_VADDR),
#endif
#ifdef VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP
	ABI_CONST(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP),
#endif
#ifdef VFIO_DMA_UNMAP_FLAG_ALL
	ABI_CONST(VFIO_DMA_UNMAP_FLAG_ALL),
#endif
#ifdef VFIO_DMA_UNMAP_FLAG_VADDR
	ABI_CONST(VFIO_DMA_UNMAP_FLAG_VADDR),
#endif
	ABI_END
};
#else
const int abi_linux_have_vfio = 0;
const struct abi_entry abi_linux_vfio[] = { ABI_END };
#endif
