/* vsva/uapi/iommu.h — the IOMMU user ABI of the vSVA proposal (the seed's
 * linux/iommu.h), as vsva serves it, plus vsva's Arm SMMUv3 extensions.
 *
 * Every name, value and layout below is the one a program written against the
 * proposal's header expects, so such a program compiles unchanged against this
 * file. Differences from that header:
 *   - fields use <stdint.h> types (uint32_t where the proposal has __u32 ...); the
 *     layouts are identical, but no __u8/__u16/__u32/__u64 names are provided;
 *   - IOMMU_PASID_FORMAT_SMMUV3 (2) and the smmuv3 members of the two vendor
 *     unions are vsva's, so that an Arm guest can bind its context-descriptor table
 *     through the same format-tagged request; IOMMU_PASID_FORMAT_LAST moves to 3.
 *
 * Each structure is followed by compile-time checks of its size and of the offset
 * of every field, worked by hand for an LP64 ABI (x86-64, aarch64): a member sits at
 * the next multiple of its own alignment, a union or struct is aligned like its most
 * aligned member, and the size is rounded up to that alignment.
 *
 * This header and the system's <linux/iommu.h> define the same structures, so a
 * translation unit may include only one of them.
 */
#ifndef VSVA_UAPI_IOMMU_H
#define VSVA_UAPI_IOMMU_H

#ifdef _IOMMU_H
#error "<linux/iommu.h> is already included: vsva/uapi/iommu.h defines the same IOMMU user structures (a superset of them) and cannot share a translation unit with it; include only one."
#else /* the rest of the file: skipped after the #error, so it stands alone */

#include <stddef.h>
#include <stdint.h>

/* Compile-time layout check used by vsva's uapi headers. */
#ifdef __cplusplus
#define VSVA_UAPI_ASSERT(expr) static_assert(expr, #expr)
#else
#define VSVA_UAPI_ASSERT(expr) _Static_assert(expr, #expr)
#endif

/* ---- faults ------------------------------------------------------------------ */

/* Access rights of the faulting request, one bit each. */
#define IOMMU_FAULT_PERM_READ	(1 << 0)	/* data read */
#define IOMMU_FAULT_PERM_WRITE	(1 << 1)	/* data write */
#define IOMMU_FAULT_PERM_EXEC	(1 << 2)	/* instruction fetch */
#define IOMMU_FAULT_PERM_PRIV	(1 << 3)	/* supervisor (privileged) request */

/* Which member of struct iommu_fault's union is valid. */
enum iommu_fault_type {
	IOMMU_FAULT_DMA_UNRECOV = 1,	/* a translation failed: event */
	IOMMU_FAULT_PAGE_REQ = 2,	/* a device asked for a page (PRI/stall): prm */
};

/* Why an unrecoverable fault happened (iommu_fault_unrecoverable.reason). */
enum iommu_fault_reason {
	IOMMU_FAULT_REASON_UNKNOWN = 0,		/* none of the ones below */
	IOMMU_FAULT_REASON_PASID_FETCH = 1,	/* reading the PASID/CD table aborted */
	IOMMU_FAULT_REASON_BAD_PASID_ENTRY = 2,	/* PASID/CD entry not valid or malformed */
	IOMMU_FAULT_REASON_PASID_INVALID = 3,	/* PASID beyond the table, or PASIDs off */
	IOMMU_FAULT_REASON_WALK_EABT = 4,	/* a descriptor read or update aborted */
	IOMMU_FAULT_REASON_PTE_FETCH = 5,	/* no valid leaf: a translation fault */
	IOMMU_FAULT_REASON_PERMISSION = 6,	/* leaf forbids the access */
	IOMMU_FAULT_REASON_ACCESS = 7,		/* access flag clear */
	IOMMU_FAULT_REASON_OOR_ADDRESS = 8,	/* output address too wide (address size) */
};

/* An unrecoverable fault. flags says which of pasid, addr and fetch_addr hold
 * something; perm has IOMMU_FAULT_PERM_* bits; fetch_addr is the table address
 * whose read failed, for the *_FETCH and WALK_EABT reasons. */
struct iommu_fault_unrecoverable {
	uint32_t reason;		/* enum iommu_fault_reason */
#define IOMMU_FAULT_UNRECOV_PASID_VALID		(1 << 0)
#define IOMMU_FAULT_UNRECOV_ADDR_VALID		(1 << 1)
#define IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID	(1 << 2)
	uint32_t flags;
	uint32_t pasid;
	uint32_t perm;
	uint64_t addr;			/* page of the faulting access */
	uint64_t fetch_addr;
};
VSVA_UAPI_ASSERT(sizeof(struct iommu_fault_unrecoverable) == 32);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_unrecoverable, reason) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_unrecoverable, flags) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_unrecoverable, pasid) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_unrecoverable, perm) == 12);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_unrecoverable, addr) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_unrecoverable, fetch_addr) == 24);

/* A page request. grpid is the PRG index to answer with; LAST_PAGE marks the last
 * request of its group. NEEDS_PASID: the response must carry the request's PASID
 * (clear: it must carry none). PRIV_DATA: private_data holds the device's
 * implementation-specific bits, to be returned unchanged. */
struct iommu_fault_page_request {
#define IOMMU_FAULT_PAGE_REQUEST_PASID_VALID	(1 << 0)
#define IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE	(1 << 1)
#define IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA	(1 << 2)
#define IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID	(1 << 3)
	uint32_t flags;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;			/* IOMMU_FAULT_PERM_* asked for */
	uint64_t addr;			/* page address */
	uint64_t private_data[2];
};
VSVA_UAPI_ASSERT(sizeof(struct iommu_fault_page_request) == 40);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_page_request, flags) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_page_request, pasid) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_page_request, grpid) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_page_request, perm) == 12);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_page_request, addr) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault_page_request, private_data) == 24);

/* One fault record: type selects event or prm; padding is zero; padding2 fixes the
 * union at 56 bytes (more than either member) so the record can grow. */
struct iommu_fault {
	uint32_t type;			/* enum iommu_fault_type */
	uint32_t padding;
	union {
		struct iommu_fault_unrecoverable event;
		struct iommu_fault_page_request prm;
		uint8_t padding2[56];
	};
};
/* union: align 8, size max(32, 40, 56) = 56, at 8; total 8 + 56 = 64 */
VSVA_UAPI_ASSERT(sizeof(struct iommu_fault) == 64);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, type) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, padding) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, event) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, event.reason) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, event.flags) == 12);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, event.pasid) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, event.perm) == 20);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, event.addr) == 24);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, event.fetch_addr) == 32);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, prm) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, prm.flags) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, prm.pasid) == 12);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, prm.grpid) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, prm.perm) == 20);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, prm.addr) == 24);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, prm.private_data) == 32);
VSVA_UAPI_ASSERT(offsetof(struct iommu_fault, padding2) == 8);

/* How a page request was handled; the numbers are the order of the proposal, not
 * the PCIe PRG response codes (there Invalid Request is 1 and Response Failure 0xf). */
enum iommu_page_response_code {
	IOMMU_PAGE_RESP_SUCCESS = 0,	/* mapped: the device retries */
	IOMMU_PAGE_RESP_INVALID = 1,	/* cannot be served: the device gives up this access */
	IOMMU_PAGE_RESP_FAILURE = 2,	/* broken: the device stops asking */
};

/* The answer to one page request group. argsz is the size the caller filled,
 * version is IOMMU_PAGE_RESP_VERSION_1, PASID_VALID says pasid is meaningful. */
struct iommu_page_response {
	uint32_t argsz;
#define IOMMU_PAGE_RESP_VERSION_1	1
	uint32_t version;
#define IOMMU_PAGE_RESP_PASID_VALID	(1 << 0)
	uint32_t flags;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t code;			/* enum iommu_page_response_code */
};
VSVA_UAPI_ASSERT(sizeof(struct iommu_page_response) == 24);
VSVA_UAPI_ASSERT(offsetof(struct iommu_page_response, argsz) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_page_response, version) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_page_response, flags) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_page_response, pasid) == 12);
VSVA_UAPI_ASSERT(offsetof(struct iommu_page_response, grpid) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_page_response, code) == 20);

/* ---- first-stage cache invalidation ----------------------------------------- */

/* The scope of an invalidation, widest first. */
enum iommu_inv_granularity {
	IOMMU_INV_GRANU_DOMAIN = 0,	/* everything of the domain */
	IOMMU_INV_GRANU_PASID = 1,	/* everything of one PASID/ASID */
	IOMMU_INV_GRANU_ADDR = 2,	/* a range of pages */
	IOMMU_INV_GRANU_NR = 3,		/* count of the above */
};

/* A range of pages: nb_granules granules of granule_size bytes from addr (a
 * first-stage input address). PASID: only entries of pasid; ARCHID: only entries
 * tagged archid (an ASID, for instance); both may be given, each selecting the
 * cache tagged that way; neither: every context. LEAF: only leaf entries need go,
 * cached non-leaf table entries may stay. */
struct iommu_inv_addr_info {
#define IOMMU_INV_ADDR_FLAGS_PASID	(1 << 0)
#define IOMMU_INV_ADDR_FLAGS_ARCHID	(1 << 1)
#define IOMMU_INV_ADDR_FLAGS_LEAF	(1 << 2)
	uint32_t flags;
	uint32_t archid;
	uint64_t pasid;
	uint64_t addr;
	uint64_t granule_size;
	uint64_t nb_granules;
};
VSVA_UAPI_ASSERT(sizeof(struct iommu_inv_addr_info) == 40);
VSVA_UAPI_ASSERT(offsetof(struct iommu_inv_addr_info, flags) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_inv_addr_info, archid) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_inv_addr_info, pasid) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_inv_addr_info, addr) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_inv_addr_info, granule_size) == 24);
VSVA_UAPI_ASSERT(offsetof(struct iommu_inv_addr_info, nb_granules) == 32);

/* Everything of one PASID and/or one architectural ID; at least one flag is set. */
struct iommu_inv_pasid_info {
#define IOMMU_INV_PASID_FLAGS_PASID	(1 << 0)
#define IOMMU_INV_PASID_FLAGS_ARCHID	(1 << 1)
	uint32_t flags;
	uint32_t archid;
	uint64_t pasid;
};
VSVA_UAPI_ASSERT(sizeof(struct iommu_inv_pasid_info) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_inv_pasid_info, flags) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_inv_pasid_info, archid) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_inv_pasid_info, pasid) == 8);

/* A guest's invalidation of first-stage caches, passed through to the host.
 * cache: IOMMU_CACHE_INV_TYPE_* bits naming the caches; granularity: enum
 * iommu_inv_granularity, which also says which member of granu is read (none for
 * DOMAIN). Valid pairs: IOTLB with any granularity; DEV_IOTLB with PASID or ADDR;
 * PASID cache with DOMAIN or PASID. Several caches in one request must all accept
 * the granularity. */
struct iommu_cache_invalidate_info {
	uint32_t argsz;
#define IOMMU_CACHE_INVALIDATE_INFO_VERSION_1 1
	uint32_t version;
#define IOMMU_CACHE_INV_TYPE_IOTLB	(1 << 0)	/* translations in the IOMMU */
#define IOMMU_CACHE_INV_TYPE_DEV_IOTLB	(1 << 1)	/* translations in endpoints (ATS) */
#define IOMMU_CACHE_INV_TYPE_PASID	(1 << 2)	/* PASID/CD entries */
#define IOMMU_CACHE_INV_TYPE_NR		(3)		/* count of the above */
	uint8_t cache;
	uint8_t granularity;
	uint8_t padding[6];		/* zero */
	union {
		struct iommu_inv_pasid_info pasid_info;
		struct iommu_inv_addr_info addr_info;
	} granu;
};
/* cache 8, granularity 9, padding 10..15; granu: align 8, size max(16, 40) = 40,
 * at 16; total 16 + 40 = 56 */
VSVA_UAPI_ASSERT(sizeof(struct iommu_cache_invalidate_info) == 56);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, argsz) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, version) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, cache) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granularity) == 9);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, padding) == 10);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.pasid_info) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.pasid_info.flags) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.pasid_info.archid) == 20);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.pasid_info.pasid) == 24);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.addr_info) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.addr_info.flags) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.addr_info.archid) == 20);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.addr_info.pasid) == 24);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.addr_info.addr) == 32);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.addr_info.granule_size) == 40);
VSVA_UAPI_ASSERT(offsetof(struct iommu_cache_invalidate_info, granu.addr_info.nb_granules) == 48);

/* ---- binding a guest first-stage table to a PASID ---------------------------- */

/* VT-d part of a bind: the guest's choices for the scalable-mode PASID entry that
 * the host may honour. flags: SRE allows supervisor requests, EAFE enables the
 * extended-accessed flag of first-level entries, PCD/PWT are the cache attributes
 * of the first-level walk's accesses, EMTE enables the extended memory type, CD
 * disables caching at PASID level; pat and emt are the PASID entry's PAT and EMT
 * fields that memory typing uses. */
struct iommu_gpasid_bind_data_vtd {
#define IOMMU_SVA_VTD_GPASID_SRE	(1 << 0)
#define IOMMU_SVA_VTD_GPASID_EAFE	(1 << 1)
#define IOMMU_SVA_VTD_GPASID_PCD	(1 << 2)
#define IOMMU_SVA_VTD_GPASID_PWT	(1 << 3)
#define IOMMU_SVA_VTD_GPASID_EMTE	(1 << 4)
#define IOMMU_SVA_VTD_GPASID_CD		(1 << 5)
#define IOMMU_SVA_VTD_GPASID_LAST	(1 << 6)	/* first unused bit */
	uint64_t flags;
	uint32_t pat;
	uint32_t emt;
};
VSVA_UAPI_ASSERT(sizeof(struct iommu_gpasid_bind_data_vtd) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data_vtd, flags) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data_vtd, pat) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data_vtd, emt) == 12);

/* The flags that decide the memory type of the guest's accesses. */
#define IOMMU_SVA_VTD_GPASID_MTS_MASK	(IOMMU_SVA_VTD_GPASID_CD | \
					 IOMMU_SVA_VTD_GPASID_EMTE | \
					 IOMMU_SVA_VTD_GPASID_PCD | \
					 IOMMU_SVA_VTD_GPASID_PWT)

/* vsva: SMMUv3 part of a bind. With this format the bind's gpgd is the guest's
 * context-descriptor table address (the STE's S1ContextPtr, an IPA), and s1fmt,
 * s1cdmax and s1dss are the STE fields of those names that the guest wrote.
 * S1STALLD is the STE's S1STALLD bit: stalling faults not allowed for the stream. */
struct iommu_gpasid_bind_data_smmuv3 {
#define IOMMU_SVA_SMMUV3_S1STALLD	(1 << 0)
	uint32_t flags;
	uint8_t s1fmt;
	uint8_t s1cdmax;
	uint8_t s1dss;
	uint8_t padding;		/* zero */
};
VSVA_UAPI_ASSERT(sizeof(struct iommu_gpasid_bind_data_smmuv3) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data_smmuv3, flags) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data_smmuv3, s1fmt) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data_smmuv3, s1cdmax) == 5);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data_smmuv3, s1dss) == 6);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data_smmuv3, padding) == 7);

/* Which vendor structure the format fields describe. vsva adds SMMUV3 with value 2,
 * where the proposal had IOMMU_PASID_FORMAT_LAST; LAST (one past the largest
 * format) is therefore 3 here, not 2. */
enum iommu_pasid_data_format {
	IOMMU_PASID_FORMAT_INTEL_VTD = 1,
	IOMMU_PASID_FORMAT_SMMUV3 = 2,	/* vsva */
	IOMMU_PASID_FORMAT_LAST = 3,
};

/* Ask the host to use the guest's first-stage table gpgd (of addr_width bits of
 * input address) for host PASID hpasid, nested over the container's second stage.
 * SVA_GPASID_VAL: gpasid holds the PASID the guest knows it by, when the guest's
 * PASID space differs from the host's (the VMM can then translate the guest
 * PASIDs programmed into a device). format picks the vendor member. */
struct iommu_gpasid_bind_data {
	uint32_t argsz;
#define IOMMU_GPASID_BIND_VERSION_1	1
	uint32_t version;
	uint32_t format;		/* enum iommu_pasid_data_format */
	uint32_t addr_width;
#define IOMMU_SVA_GPASID_VAL	(1 << 0)
	uint64_t flags;
	uint64_t gpgd;
	uint64_t hpasid;
	uint64_t gpasid;
	uint8_t padding[8];		/* zero */
	union {
		struct iommu_gpasid_bind_data_vtd vtd;
		struct iommu_gpasid_bind_data_smmuv3 smmuv3;	/* vsva */
	} vendor;
};
/* padding 48..55; vendor: align 8, size max(16, 8) = 16, at 56; total 72 */
VSVA_UAPI_ASSERT(sizeof(struct iommu_gpasid_bind_data) == 72);
VSVA_UAPI_ASSERT(sizeof(((struct iommu_gpasid_bind_data *)0)->vendor) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, argsz) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, version) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, format) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, addr_width) == 12);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, flags) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, gpgd) == 24);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, hpasid) == 32);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, gpasid) == 40);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, padding) == 48);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor) == 56);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor.vtd) == 56);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor.vtd.flags) == 56);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor.vtd.pat) == 64);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor.vtd.emt) == 68);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor.smmuv3) == 56);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor.smmuv3.flags) == 56);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor.smmuv3.s1fmt) == 60);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor.smmuv3.s1cdmax) == 61);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor.smmuv3.s1dss) == 62);
VSVA_UAPI_ASSERT(offsetof(struct iommu_gpasid_bind_data, vendor.smmuv3.padding) == 63);

/* ---- what a nesting-capable IOMMU offers ------------------------------------- */

/* VT-d part: flags is zero (nothing defined); cap_reg and ecap_reg are the values
 * of the unit's CAP_REG and ECAP_REG as the guest may see them. */
struct iommu_nesting_info_vtd {
	uint32_t flags;
	uint64_t cap_reg;
	uint64_t ecap_reg;
};
/* flags 0..3, hole 4..7, cap_reg 8, ecap_reg 16; total 24 */
VSVA_UAPI_ASSERT(sizeof(struct iommu_nesting_info_vtd) == 24);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info_vtd, flags) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info_vtd, cap_reg) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info_vtd, ecap_reg) == 16);

/* vsva: SMMUv3 part: flags is zero; aidr and idr0/1/3/5 are the values of the
 * SMMU's SMMU_AIDR and SMMU_IDRn registers as the guest may see them. */
struct iommu_nesting_info_smmuv3 {
	uint32_t flags;
	uint32_t aidr;
	uint32_t idr0;
	uint32_t idr1;
	uint32_t idr3;
	uint32_t idr5;
};
VSVA_UAPI_ASSERT(sizeof(struct iommu_nesting_info_smmuv3) == 24);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info_smmuv3, flags) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info_smmuv3, aidr) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info_smmuv3, idr0) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info_smmuv3, idr1) == 12);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info_smmuv3, idr3) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info_smmuv3, idr5) == 20);

/* Reported once for a nesting container; userspace reads it before it binds.
 * argsz: size of the whole structure; flags: zero; format: as in a bind, and it
 * picks the vendor member; addr_width: output width of the first stage;
 * pasid_bits: PASID width, 0 for none. features:
 *   SYSWIDE_PASID  PASIDs come from the host's allocator (VFIO_IOMMU_PASID_REQUEST),
 *                  never from the guest's own numbering;
 *   BIND_PGTBL     guest first-stage tables are attached by a bind request;
 *   CACHE_INVLD    the guest's changes to those tables must be followed by an
 *                  explicit invalidation request. */
struct iommu_nesting_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t format;		/* enum iommu_pasid_data_format */
#define IOMMU_NESTING_FEAT_SYSWIDE_PASID	(1 << 0)
#define IOMMU_NESTING_FEAT_BIND_PGTBL		(1 << 1)
#define IOMMU_NESTING_FEAT_CACHE_INVLD		(1 << 2)
	uint32_t features;
	uint16_t addr_width;
	uint16_t pasid_bits;
	uint8_t padding[12];		/* zero */
	union {
		struct iommu_nesting_info_vtd vtd;
		struct iommu_nesting_info_smmuv3 smmuv3;	/* vsva */
	} vendor;
};
/* addr_width 16, pasid_bits 18, padding 20..31; vendor: align 8, size
 * max(24, 24) = 24, at 32; total 56 */
VSVA_UAPI_ASSERT(sizeof(struct iommu_nesting_info) == 56);
VSVA_UAPI_ASSERT(sizeof(((struct iommu_nesting_info *)0)->vendor) == 24);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, argsz) == 0);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, flags) == 4);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, format) == 8);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, features) == 12);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, addr_width) == 16);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, pasid_bits) == 18);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, padding) == 20);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor) == 32);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.vtd) == 32);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.vtd.flags) == 32);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.vtd.cap_reg) == 40);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.vtd.ecap_reg) == 48);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.smmuv3) == 32);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.smmuv3.flags) == 32);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.smmuv3.aidr) == 36);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.smmuv3.idr0) == 40);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.smmuv3.idr1) == 44);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.smmuv3.idr3) == 48);
VSVA_UAPI_ASSERT(offsetof(struct iommu_nesting_info, vendor.smmuv3.idr5) == 52);

#endif /* no system header */
#endif /* VSVA_UAPI_IOMMU_H */
