/* iommu/iommu.h — the host IOMMU core: units, devices, domains, attach, and the
 * interface between the core and its vendor drivers.
 *
 * Owns: struct iommu_unit (one IOMMU instance and the driver that programs it),
 * struct iommu_device (an endpoint behind one unit), struct iommu_domain (paging:
 * a host-owned second stage or DMA table; nested: a user-owned first stage over a
 * nest-parent paging domain), attachments of a device or of a device + PASID, the
 * page-request groups outstanding per device, and the generic invalidation record
 * (struct iommu_inv) the user API hands to drivers after its generic checks.
 *
 * Layering: the core knows hardware only through struct iommu_ops. Drivers
 * (intel.c, arm_smmuv3.c) program their model exactly as a kernel driver programs
 * hardware: registers through vtd_read/vtd_write or smmu_read/smmu_write, tables
 * and queues in memory through mem/. The user API (uapi/) knows only this core.
 *
 * Concurrency: every call here is control path. A unit has one mutex (unit->lock)
 * that serialises attach/detach, domain allocation and the driver's table
 * updates; a paging domain has its own mutex for map/unmap (pgtable's rule: one
 * writer per tree); drivers keep their own locks for their queues (documented in
 * each driver). Translation (DMA) never enters this layer.
 */
#ifndef VSVA_IOMMU_H
#define VSVA_IOMMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/dev.h"
#include "mem/mem.h"
#include "pgtable/pgtable.h"
#include "vsva/uapi/iommu.h"

struct iommu_unit;
struct iommu_device;
struct iommu_domain;

/* The two vendors; the values are the seed's PASID-table formats
 * (IOMMU_PASID_FORMAT_INTEL_VTD, IOMMU_PASID_FORMAT_SMMUV3). */
enum iommu_vendor {
	IOMMU_VENDOR_INTEL_VTD = 1,
	IOMMU_VENDOR_ARM_SMMUV3 = 2,
};

/* What a unit can do for nesting, read from its registers by the driver. */
struct iommu_hw_info {
	enum iommu_vendor vendor;
	unsigned pasid_bits;        /* 0: no PASIDs (VT-d ECAP.PSS + 1, SMMU IDR1.SSIDSIZE) */
	uint64_t s1_addr_widths;    /* bit n: a user first stage of n input bits is allowed
	                             * (VT-d: 48, and 57 with FL5LP; SMMU: 0, the CD says) */
	unsigned oas;               /* output address bits of the host second stage */
	uint64_t pgsize_bitmap;     /* page sizes of the host second stage */
	union {
		struct {
			uint64_t cap, ecap;
		} vtd;
		struct {
			uint32_t idr[6], iidr, aidr;
		} smmu;
	};
};

/* ---- domains ---------------------------------------------------------------- */

enum iommu_domain_type {
	IOMMU_DOMAIN_PAGING,        /* host-owned tables (second stage, or the only stage) */
	IOMMU_DOMAIN_NESTED,        /* a user first stage over a nest-parent paging domain */
};

#define IOMMU_DOMAIN_F_NEST_PARENT BIT(0)  /* paging: may carry nested domains (VT-d
                                            * second stage, SMMU stage 2) */
#define IOMMU_DOMAIN_F_FIRST_STAGE BIT(1)  /* paging: the host table is a first stage
                                            * (VT-d PGTT 1 with an x86 table; SMMU
                                            * stage 1 through a host CD); not with
                                            * NEST_PARENT */

/* A user first stage, tagged by vendor: what a nested domain translates with. */
#define IOMMU_VTD_S1_SRE   BIT(0)  /* supervisor requests (needs ECAP.SRS) */
#define IOMMU_VTD_S1_EAFE  BIT(1)  /* extended access flag (needs ECAP.EAFS) */
#define IOMMU_VTD_S1_WPE   BIT(2)  /* write protect (only with SRE) */
/* Memory-type fields of the PASID entry (the seed's GPASID_PCD/PWT/EMTE/CD; all
 * need ECAP.MTS, as do non-zero pat and emt). */
#define IOMMU_VTD_S1_PCD   BIT(3)  /* page-level cache disable */
#define IOMMU_VTD_S1_PWT   BIT(4)  /* page-level write through */
#define IOMMU_VTD_S1_EMTE  BIT(5)  /* extended memory type enable */
#define IOMMU_VTD_S1_CD    BIT(6)  /* PASID-level cache disable */
struct iommu_user_s1 {
	enum iommu_vendor vendor;
	union {
		struct {
			uint64_t pgtbl;       /* first-stage root, a guest-physical address */
			uint32_t addr_width;  /* 48 (4-level) or 57 (5-level) */
			uint32_t flags;       /* IOMMU_VTD_S1_* */
			uint32_t pat;         /* PASID entry PAT (with the memory-type flags) */
			uint32_t emt;         /* PASID entry EMT, 0..7 (likewise) */
		} vtd;
		struct {
			uint64_t cdtab;       /* S1ContextPtr: the guest's CD table (an IPA) */
			uint8_t s1fmt;        /* STE.S1Fmt: 0 linear, 1 2-level 4K, 2 2-level 64K */
			uint8_t s1cdmax;      /* STE.S1CDMax: log2 of the CDs */
			uint8_t s1dss;        /* STE.S1DSS: 0 terminate, 1 bypass, 2 substream 0 */
			bool s1stalld;        /* STE.S1STALLD */
		} smmu;
	};
};

struct iommu_domain {
	enum iommu_domain_type type;
	unsigned flags;             /* IOMMU_DOMAIN_F_* */
	struct iommu_unit *unit;

	/* Paging: the host table (the driver picks the format, the core builds it). */
	struct pgt_fmt fmt;
	uint64_t root;
	uint64_t aperture_end;      /* IOVAs are [0, aperture_end] */
	uint64_t pgsize_bitmap;
	pthread_mutex_t map_lock;   /* serialises map/unmap of this tree */

	/* Nested. */
	struct iommu_domain *parent;
	struct iommu_user_s1 s1;

	/* Users: attachments and nested children; a domain with users cannot be freed.
	 * Under unit->lock. */
	unsigned users;
	struct iommu_attach *attached;  /* list of attachments */

	void *drv;                  /* the driver's per-domain state (DID, VMID, ...) */
};

/* One attachment: a device (pasid_valid false: requests without a PASID, the
 * VT-d RID_PASID or the SMMU STE) or a device + PASID. Under unit->lock. */
struct iommu_attach {
	struct iommu_domain *domain;
	struct iommu_device *dev;
	bool pasid_valid;
	uint32_t pasid;
	struct iommu_attach *next_in_domain;
	struct iommu_attach *next_in_dev;
};

/* ---- devices ---------------------------------------------------------------- */

/* Page-request groups a device may have outstanding at the core (reported, not
 * yet answered); beyond this the driver answers a new group Invalid itself. */
#define IOMMU_PRQ_GROUPS 512

struct iommu_prq_group {
	bool used;
	bool pasid_valid;
	uint32_t pasid;
	uint32_t grpid;
	uint64_t seq;               /* arrival order: a response takes the oldest match */
	struct iommu_fault_page_request prm;  /* the last request of the group, as reported */
};

/* Where a device's faults go (the user API's fault channel). Called on the
 * thread that services the unit's interrupt (a DMA thread, in vsva), with no
 * core or driver lock held. Returns 0 if the record was accepted; a page request
 * not accepted is answered Invalid by the core. */
typedef int (*iommu_fault_fn)(void *ctx, struct iommu_device *dev, const struct iommu_fault *f);

struct iommu_device {
	struct iommu_unit *unit;
	struct dev_ep *ep;
	uint16_t rid;               /* requester ID / StreamID */
	struct dev_ep_config caps;  /* the endpoint's capabilities */
	struct iommu_attach *attached;  /* list; under unit->lock */
	struct iommu_attach rid_attach; /* the device's own (no-PASID) attachment slot */

	/* Fault routing. fault_lock protects the handler and the groups. */
	pthread_mutex_t fault_lock;
	iommu_fault_fn fault_fn;
	void *fault_ctx;
	struct iommu_prq_group groups[IOMMU_PRQ_GROUPS];
	uint64_t group_seq;
	uint64_t faults_reported, faults_dropped, groups_overflow;

	void *drv;                  /* the driver's per-device state */
};

/* ---- generic invalidation ----------------------------------------------------- */

/* A user invalidation after the generic checks of the user API (argsz, version,
 * padding, flags, the cache x granularity table of seed 002): what the driver
 * converts to its hardware's commands. PASIDs here are host PASIDs. */
struct iommu_inv {
	uint8_t cache;              /* IOMMU_CACHE_INV_TYPE_* bits (at least one) */
	uint8_t granu;              /* enum iommu_inv_granularity */
	bool pasid_valid;
	uint32_t pasid;
	bool archid_valid;
	uint32_t archid;
	bool leaf;                  /* ADDR: only leaf entries (IOMMU_INV_ADDR_FLAGS_LEAF) */
	uint64_t addr;              /* ADDR: first address */
	uint64_t granule_size;      /* ADDR: a power of two >= 4 KiB */
	uint64_t nb_granules;       /* ADDR: >= 1 */
};

/* ---- the driver interface ----------------------------------------------------- */

struct iommu_ops {
	const char *name;
	enum iommu_vendor vendor;
	/* The device's own attachment translates its PASIDs too (SMMU: the STE holds
	 * the CD table), so detaching it ends every PASID's page requests. */
	bool rid_covers_pasids;
	void (*hw_info)(struct iommu_unit *u, struct iommu_hw_info *info);

	/* A device joins the unit: its translation starts blocked (VT-d: context entry
	 * with an empty PASID directory; SMMU: STE abort). release undoes it after the
	 * core detached everything. */
	int (*probe_device)(struct iommu_unit *u, struct iommu_device *dev);
	void (*release_device)(struct iommu_unit *u, struct iommu_device *dev);

	/* Paging domain: fill d->fmt (the host table's format for this unit), d->drv
	 * (DID / VMID); the core then allocates the root and sets the aperture.
	 * Nested domain: validate d->s1 against the hardware (the kernel's errnos) and
	 * d->parent (must be NEST_PARENT and of this unit). */
	int (*domain_init)(struct iommu_unit *u, struct iommu_domain *d);
	void (*domain_fini)(struct iommu_unit *u, struct iommu_domain *d);

	/* Attach: program the hardware so that requests of dev (without a PASID) or of
	 * dev + pasid translate through d, replacing what was there (old, may be NULL:
	 * the blocked state). Detach: back to blocked, with every cache the old state
	 * used invalidated before returning. -EBUSY when the hardware slot is owned by
	 * something the core does not know (VT-d: a present PASID entry). -EOPNOTSUPP
	 * for what the vendor cannot express (SMMU: a PASID attach; its nested domain
	 * binds the whole CD table through the device attach). Under unit->lock. */
	int (*attach_dev)(struct iommu_domain *d, struct iommu_device *dev,
			  struct iommu_domain *old);
	void (*detach_dev)(struct iommu_domain *d, struct iommu_device *dev);
	int (*attach_dev_pasid)(struct iommu_domain *d, struct iommu_device *dev, uint32_t pasid,
				struct iommu_domain *old);
	void (*detach_dev_pasid)(struct iommu_domain *d, struct iommu_device *dev, uint32_t pasid);

	/* After the core unmapped [iova, iova + size) of paging domain d: invalidate
	 * every cache that may hold it (IOTLB / TLB, paging-structure / walk caches,
	 * nested entries over d, device TLBs of attached devices with ATS) and wait
	 * for completion. Called with d->map_lock and unit->lock held. */
	void (*flush_range)(struct iommu_domain *d, uint64_t iova, uint64_t size);

	/* User invalidations for nested domain d as seen by dev: the vendor's validity
	 * rules (-EINVAL for a combination it refuses, -ERANGE for a misaligned
	 * address), then conversion to hardware commands with the host IDs, then one
	 * completion wait (VT-d wait descriptor, SMMU CMD_SYNC) before returning.
	 * Entries are processed in order; *done receives how many took effect. */
	int (*cache_invalidate)(struct iommu_domain *d, struct iommu_device *dev,
				const struct iommu_inv *inv, unsigned n, unsigned *done);

	/* A page-group response for a group the core matched: to the hardware (VT-d
	 * page group response descriptor, SMMU CMD_PRI_RESP) and its completion. */
	int (*page_response)(struct iommu_device *dev, bool pasid_valid, uint32_t pasid,
			     uint32_t grpid, enum iommu_page_response_code code);

	void (*unit_free)(struct iommu_unit *u);
};

struct iommu_unit {
	const struct iommu_ops *ops;
	struct mem_space *mem;      /* host physical space: tables, queues, DMA */
	struct mem_frames *pool;    /* host memory for every table the driver and the
	                             * core build */
	pthread_mutex_t lock;
	struct iommu_hw_info info;
	void *drv;
};

/* ---- the core's API (used by uapi/ and by drivers) ----------------------------- */

/* Called by a driver's probe once the hardware is enabled. NULL + errno ENOMEM. */
struct iommu_unit *iommu_unit_new(const struct iommu_ops *ops, struct mem_space *mem,
				  struct mem_frames *pool, void *drv);
/* Every device must have been removed. Calls ops->unit_free. */
void iommu_unit_free(struct iommu_unit *u);

/* -EEXIST if the RID is already a device of this unit (the unit keeps no list:
 * the driver refuses a taken stream / context slot), -ENOMEM. */
int iommu_device_add(struct iommu_unit *u, struct dev_ep *ep, struct iommu_device **out);
/* Detaches everything (outstanding page requests answered Invalid), then
 * releases the device. */
void iommu_device_remove(struct iommu_device *dev);

/* flags: IOMMU_DOMAIN_F_*; -EINVAL unknown flags or both, -EOPNOTSUPP what the
 * unit lacks (no second stage, no nesting), -ENOMEM. */
int iommu_domain_alloc_paging(struct iommu_unit *u, unsigned flags, struct iommu_domain **out);
/* -EINVAL: parent not a nest parent; the driver's errnos for s1. */
int iommu_domain_alloc_nested(struct iommu_domain *parent, const struct iommu_user_s1 *s1,
			      struct iommu_domain **out);
/* -EBUSY while attached or with nested children. */
int iommu_domain_free(struct iommu_domain *d);

/* Paging domains: map [iova, iova + size) -> [pa, pa + size) with PGT_PROT_*; the
 * pgtable errnos (-EINVAL alignment / range, -EEXIST overlap, -ENOMEM); nothing
 * changed on error. unmap: every page inside the range, then ops->flush_range. */
int iommu_map(struct iommu_domain *d, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot);
int iommu_unmap(struct iommu_domain *d, uint64_t iova, uint64_t size, uint64_t *unmapped);

/* Attach replaces the device's (or device + PASID's) current domain: -EINVAL for
 * a domain of another unit, or a PASID beyond the unit's / device's width or 0
 * on VT-d (its RID_PASID); driver errnos. Detach of what is not attached:
 * -ENOENT. Detaching answers the page requests outstanding for what it
 * translated Invalid (the seed's rule when a bind goes away). */
int iommu_attach_dev(struct iommu_domain *d, struct iommu_device *dev);
int iommu_detach_dev(struct iommu_device *dev);
int iommu_attach_dev_pasid(struct iommu_domain *d, struct iommu_device *dev, uint32_t pasid);
int iommu_detach_dev_pasid(struct iommu_device *dev, uint32_t pasid);
/* The domain attached to dev (pasid_valid false) or dev + pasid, or NULL. */
struct iommu_domain *iommu_attached_domain(struct iommu_device *dev, bool pasid_valid,
					   uint32_t pasid);

/* Generic invalidation for nested domain d attached to dev (checks that it is). */
int iommu_cache_invalidate(struct iommu_domain *d, struct iommu_device *dev,
			   const struct iommu_inv *inv, unsigned n, unsigned *done);

/* Faults. */
void iommu_device_set_fault_handler(struct iommu_device *dev, iommu_fault_fn fn, void *ctx);
/* Drivers report every fault and page request here. A page request with
 * LAST_PAGE opens a group the core tracks until iommu_page_response answers it;
 * if no handler takes it, or the group table is full, the core answers it
 * Invalid through ops->page_response. Returns 0 if delivered. */
int iommu_report_fault(struct iommu_device *dev, const struct iommu_fault *f);
/* A response from the user: -EINVAL when no outstanding group matches (pasid,
 * grpid) (with PASID_VALID, the PASID must match too), or a bad code. */
int iommu_page_response(struct iommu_device *dev, bool pasid_valid, uint32_t pasid,
			uint32_t grpid, enum iommu_page_response_code code);
/* Answers outstanding groups of dev with code: all, those without a PASID, or
 * those of one PASID. */
enum iommu_answer_scope {
	IOMMU_ANSWER_ALL,
	IOMMU_ANSWER_NO_PASID,
	IOMMU_ANSWER_PASID,
};
void iommu_answer_outstanding(struct iommu_device *dev, enum iommu_answer_scope scope,
			      uint32_t pasid, enum iommu_page_response_code code);

/* Reads guest memory through a paging domain's table (a software walk: how a
 * driver reads a user structure, e.g. the SMMU reads a guest CD for its ASID).
 * -EFAULT if not mapped or not readable. */
int iommu_domain_read(struct iommu_domain *d, uint64_t iova, void *buf, uint64_t len);

#endif
