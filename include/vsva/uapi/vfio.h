/* vsva/uapi/vfio.h — the part of the VFIO user ABI a VMM uses on a type1 nesting
 * container, with the vSVA proposal's additions (PASID requests, nesting
 * operations, the nesting capability), as vsva serves it.
 *
 * Names and numbers are Linux's, so a VMM's container code compiles against this
 * file unchanged; fields use <stdint.h> types with identical layouts. Only the
 * container and group pieces are here (no device, region or interrupt ioctls).
 * Every structure is followed by hand-worked checks of its size and field offsets
 * for an LP64 ABI, as in vsva/uapi/iommu.h.
 *
 * The system's <linux/vfio.h> defines the same names, so a translation unit may
 * include only one of the two.
 */
#ifndef VSVA_UAPI_VFIO_H
#define VSVA_UAPI_VFIO_H

/* The installed header (Debian's linux-libc-dev, kernel 6.1) guards
 * itself with VFIO_H; the kernel's own uapi source and Android's copy use
 * _UAPIVFIO_H (header installation strips the _UAPI). _VFIO_H and _UAPI_VFIO_H are
 * checked too, for copies that spell it the usual way. */
#if defined(VFIO_H) || defined(_UAPIVFIO_H) || defined(_VFIO_H) || defined(_UAPI_VFIO_H)
#error "<linux/vfio.h> is already included: vsva/uapi/vfio.h defines the same VFIO names and structures and cannot share a translation unit with it; include only one."
#else /* the rest of the file: skipped after the #error, so it stands alone */

#include <stddef.h>
#include <stdint.h>

#include "vsva/uapi/iommu.h"

#define VFIO_API_VERSION	0

/* Extensions, for VFIO_CHECK_EXTENSION; the IOMMU ones also name the container's
 * model in VFIO_SET_IOMMU. */
#define VFIO_TYPE1_IOMMU		1
#define VFIO_SPAPR_TCE_IOMMU		2
#define VFIO_TYPE1v2_IOMMU		3
#define VFIO_DMA_CC_IOMMU		4	/* DMA is cache coherent */
#define VFIO_EEH			5
#define VFIO_TYPE1_NESTING_IOMMU	6	/* type1v2 with a guest first stage */
#define VFIO_SPAPR_TCE_v2_IOMMU		7
#define VFIO_NOIOMMU_IOMMU		8
#define VFIO_UNMAP_ALL			9	/* VFIO_DMA_UNMAP_FLAG_ALL works */
#define VFIO_UPDATE_VADDR		10	/* the *_FLAG_VADDR flags work */

/* ioctl numbers. Every VFIO ioctl is Linux's _IO(VFIO_TYPE, nr): no direction and
 * no size encoded, the structures carry their own argsz. With the generic ioctl
 * encoding (x86, Arm, RISC-V: direction "none" is 0) that is type << 8 | nr; the
 * few architectures whose "none" direction is non-zero (powerpc, mips, sparc) are
 * not served by this header. */
#define VFIO_TYPE	(';')		/* 0x3b */
#define VFIO_BASE	100
#define VSVA_VFIO_IO(nr)	(((unsigned int)VFIO_TYPE << 8) | (unsigned int)(nr))

/* Container fd (/dev/vfio/vfio) */
#define VFIO_GET_API_VERSION		VSVA_VFIO_IO(VFIO_BASE + 0)	/* 0x3b64 */
#define VFIO_CHECK_EXTENSION		VSVA_VFIO_IO(VFIO_BASE + 1)	/* 0x3b65 */
#define VFIO_SET_IOMMU			VSVA_VFIO_IO(VFIO_BASE + 2)	/* 0x3b66 */
/* Group fd (/dev/vfio/N) */
#define VFIO_GROUP_GET_STATUS		VSVA_VFIO_IO(VFIO_BASE + 3)	/* 0x3b67 */
#define VFIO_GROUP_SET_CONTAINER	VSVA_VFIO_IO(VFIO_BASE + 4)	/* 0x3b68 */
#define VFIO_GROUP_UNSET_CONTAINER	VSVA_VFIO_IO(VFIO_BASE + 5)	/* 0x3b69 */
#define VFIO_GROUP_GET_DEVICE_FD	VSVA_VFIO_IO(VFIO_BASE + 6)	/* 0x3b6a */
/* Type1 container fd, once VFIO_SET_IOMMU chose the model */
#define VFIO_IOMMU_GET_INFO		VSVA_VFIO_IO(VFIO_BASE + 12)	/* 0x3b70 */
#define VFIO_IOMMU_MAP_DMA		VSVA_VFIO_IO(VFIO_BASE + 13)	/* 0x3b71 */
#define VFIO_IOMMU_UNMAP_DMA		VSVA_VFIO_IO(VFIO_BASE + 14)	/* 0x3b72 */
#define VFIO_IOMMU_ENABLE		VSVA_VFIO_IO(VFIO_BASE + 15)	/* 0x3b73 */
#define VFIO_IOMMU_DISABLE		VSVA_VFIO_IO(VFIO_BASE + 16)	/* 0x3b74 */
#define VFIO_IOMMU_DIRTY_PAGES		VSVA_VFIO_IO(VFIO_BASE + 17)	/* 0x3b75 */
/* The proposal's two. Linux's sPAPR container ioctls reuse these numbers
 * (UNREGISTER_MEMORY is +18, TCE_CREATE +19) on a container of another model. */
#define VFIO_IOMMU_PASID_REQUEST	VSVA_VFIO_IO(VFIO_BASE + 18)	/* 0x3b76 */
#define VFIO_IOMMU_NESTING_OP		VSVA_VFIO_IO(VFIO_BASE + 19)	/* 0x3b77 */

/* Head of each entry of an INFO ioctl's capability chain. next is the offset of
 * the following entry from the start of the INFO buffer, 0 at the end; version
 * counts per id. */
struct vfio_info_cap_header {
	uint16_t id;
	uint16_t version;
	uint32_t next;
};
VSVA_UAPI_ASSERT(sizeof(struct vfio_info_cap_header) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_info_cap_header, id) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_info_cap_header, version) == 2);
VSVA_UAPI_ASSERT(offsetof(struct vfio_info_cap_header, next) == 4);

/* VFIO_GROUP_GET_STATUS: VIABLE when every device of the group is bound to a VFIO
 * driver (or none); CONTAINER_SET once the group has a container. */
struct vfio_group_status {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_GROUP_FLAGS_VIABLE		(1 << 0)
#define VFIO_GROUP_FLAGS_CONTAINER_SET	(1 << 1)
};
VSVA_UAPI_ASSERT(sizeof(struct vfio_group_status) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_group_status, argsz) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_group_status, flags) == 4);

/* VFIO_IOMMU_GET_INFO. PGSIZES: iova_pgsizes is the bitmap of mapping sizes;
 * CAPS: cap_offset is the offset of the first capability (0: none, or argsz was
 * too small, in which case argsz comes back as the size needed). */
struct vfio_iommu_type1_info {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_IOMMU_INFO_PGSIZES	(1 << 0)
#define VFIO_IOMMU_INFO_CAPS	(1 << 1)
	uint64_t iova_pgsizes;
	uint32_t cap_offset;
};
/* cap_offset 16..19, then 4 bytes of tail padding to the 8-byte alignment: 24.
 * A caller passing argsz 20 is short of the kernel's sizeof. */
VSVA_UAPI_ASSERT(sizeof(struct vfio_iommu_type1_info) == 24);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info, argsz) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info, flags) == 4);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info, iova_pgsizes) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info, cap_offset) == 16);

/* Capability: the IOVA ranges a mapping may use (holes left by reserved regions
 * are excluded); [start, end], both inclusive. */
#define VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE	1

struct vfio_iova_range {
	uint64_t start;
	uint64_t end;
};
VSVA_UAPI_ASSERT(sizeof(struct vfio_iova_range) == 16);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iova_range, start) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iova_range, end) == 8);

struct vfio_iommu_type1_info_cap_iova_range {
	struct vfio_info_cap_header header;
	uint32_t nr_iovas;
	uint32_t reserved;
	struct vfio_iova_range iova_ranges[];	/* nr_iovas of them */
};
/* iova_ranges at 16 (8-aligned); a flexible array adds nothing to the size */
VSVA_UAPI_ASSERT(sizeof(struct vfio_iommu_type1_info_cap_iova_range) == 16);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_iova_range, header) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_iova_range, header.id) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_iova_range, header.version) == 2);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_iova_range, header.next) == 4);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_iova_range, nr_iovas) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_iova_range, reserved) == 12);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_iova_range, iova_ranges) == 16);

/* Capability: dirty-page tracking is available; pgsize_bitmap gives the page sizes
 * it tracks, max_dirty_bitmap_size the largest bitmap (bytes) one request returns.
 * The proposal moved this id from 1 to 2, the value mainline Linux also uses. */
#define VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION	2

struct vfio_iommu_type1_info_cap_migration {
	struct vfio_info_cap_header header;
	uint32_t flags;
	uint64_t pgsize_bitmap;
	uint64_t max_dirty_bitmap_size;
};
/* flags 8..11, hole 12..15, pgsize_bitmap 16, max_dirty_bitmap_size 24; total 32 */
VSVA_UAPI_ASSERT(sizeof(struct vfio_iommu_type1_info_cap_migration) == 32);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_migration, header) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_migration, header.id) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_migration, header.version) == 2);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_migration, header.next) == 4);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_migration, flags) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_migration, pgsize_bitmap) == 16);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_migration, max_dirty_bitmap_size) == 24);

/* Capability (the proposal's): what the nesting IOMMU offers, reported on a
 * VFIO_TYPE1_NESTING_IOMMU container; read it before binding or allocating PASIDs.
 * Mainline Linux later gave id 3 to VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL instead; vsva
 * follows the proposal and never reports DMA_AVAIL, so id 3 is unambiguous here. */
#define VFIO_IOMMU_TYPE1_INFO_CAP_NESTING	3

struct vfio_iommu_type1_info_cap_nesting {
	struct vfio_info_cap_header header;
	struct iommu_nesting_info info;
};
/* header 0..7 (align 4); info is 8-aligned, lands at 8; total 8 + 56 = 64 */
VSVA_UAPI_ASSERT(sizeof(struct vfio_iommu_type1_info_cap_nesting) == 64);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, header) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, header.id) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, header.version) == 2);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, header.next) == 4);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.argsz) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.flags) == 12);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.format) == 16);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.features) == 20);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.addr_width) == 24);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.pasid_bits) == 26);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.padding) == 28);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.vendor) == 40);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.vendor.vtd.flags) == 40);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.vendor.vtd.cap_reg) == 48);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.vendor.vtd.ecap_reg) == 56);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.vendor.smmuv3.flags) == 40);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.vendor.smmuv3.aidr) == 44);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.vendor.smmuv3.idr0) == 48);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.vendor.smmuv3.idr1) == 52);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.vendor.smmuv3.idr3) == 56);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_info_cap_nesting, info.vendor.smmuv3.idr5) == 60);

/* VFIO_IOMMU_MAP_DMA: map size bytes of the caller's memory at vaddr to iova, with
 * READ and/or WRITE for the device. VADDR (with neither READ nor WRITE): give an
 * existing mapping, invalidated by an unmap with VADDR, its new vaddr. */
struct vfio_iommu_type1_dma_map {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_DMA_MAP_FLAG_READ	(1 << 0)
#define VFIO_DMA_MAP_FLAG_WRITE	(1 << 1)
#define VFIO_DMA_MAP_FLAG_VADDR	(1 << 2)
	uint64_t vaddr;
	uint64_t iova;
	uint64_t size;
};
VSVA_UAPI_ASSERT(sizeof(struct vfio_iommu_type1_dma_map) == 32);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_dma_map, argsz) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_dma_map, flags) == 4);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_dma_map, vaddr) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_dma_map, iova) == 16);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_dma_map, size) == 24);

/* VFIO_IOMMU_UNMAP_DMA: unmap [iova, iova + size); size comes back as the amount
 * unmapped. GET_DIRTY_BITMAP: data[] holds a struct vfio_bitmap to fill first;
 * ALL: every mapping (iova and size 0); VADDR: keep the mappings but forget their
 * vaddr until a map with VADDR supplies a new one. */
struct vfio_iommu_type1_dma_unmap {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP	(1 << 0)
#define VFIO_DMA_UNMAP_FLAG_ALL			(1 << 1)
#define VFIO_DMA_UNMAP_FLAG_VADDR		(1 << 2)
	uint64_t iova;
	uint64_t size;
	uint8_t data[];
};
VSVA_UAPI_ASSERT(sizeof(struct vfio_iommu_type1_dma_unmap) == 24);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_dma_unmap, argsz) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_dma_unmap, flags) == 4);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_dma_unmap, iova) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_dma_unmap, size) == 16);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_dma_unmap, data) == 24);

/* VFIO_IOMMU_PASID_REQUEST (the proposal's), for an IOMMU that reports
 * IOMMU_NESTING_FEAT_SYSWIDE_PASID. Exactly one of:
 *   ALLOC_PASID  allocate one PASID in [range.min, range.max]; the ioctl returns
 *                it (so at most VFIO_IOMMU_PASID_BITS bits: it must be a positive
 *                int), or -errno;
 *   FREE_PASID   free every PASID of this container in [range.min, range.max];
 *                returns 0.
 * Both bounds are inclusive. */
struct vfio_iommu_type1_pasid_request {
	uint32_t argsz;
#define VFIO_IOMMU_FLAG_ALLOC_PASID	(1 << 0)
#define VFIO_IOMMU_FLAG_FREE_PASID	(1 << 1)
	uint32_t flags;
	struct {
		uint32_t min;
		uint32_t max;
	} range;
};
VSVA_UAPI_ASSERT(sizeof(struct vfio_iommu_type1_pasid_request) == 16);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_pasid_request, argsz) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_pasid_request, flags) == 4);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_pasid_request, range) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_pasid_request, range.min) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_pasid_request, range.max) == 12);

#define VFIO_PASID_REQUEST_MASK	(VFIO_IOMMU_FLAG_ALLOC_PASID | \
				 VFIO_IOMMU_FLAG_FREE_PASID)
#define VFIO_IOMMU_PASID_BITS	31

/* VFIO_IOMMU_NESTING_OP (the proposal's): flags' low 16 bits name the operation,
 * data[] holds its argument:
 *   BIND_PGTBL, UNBIND_PGTBL  struct iommu_gpasid_bind_data
 *   CACHE_INVLD               struct iommu_cache_invalidate_info
 * argsz covers the header and the argument. Returns 0 or -errno. */
struct vfio_iommu_type1_nesting_op {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_NESTING_OP_MASK	(0xffff)
	uint8_t data[];
};
VSVA_UAPI_ASSERT(sizeof(struct vfio_iommu_type1_nesting_op) == 8);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_nesting_op, argsz) == 0);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_nesting_op, flags) == 4);
VSVA_UAPI_ASSERT(offsetof(struct vfio_iommu_type1_nesting_op, data) == 8);

enum {
	VFIO_IOMMU_NESTING_OP_BIND_PGTBL = 0,
	VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL = 1,
	VFIO_IOMMU_NESTING_OP_CACHE_INVLD = 2,
	VFIO_IOMMU_NESTING_OP_NUM = 3,		/* count of the above */
};

#endif /* no system header */
#endif /* VSVA_UAPI_VFIO_H */
