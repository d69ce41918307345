/* dev/dev.h — PCIe endpoints that DMA through an IOMMU: requester ID, PASID,
 * ATS with a device TLB (address translation cache), PRI with outstanding page
 * request groups, and a DMA engine.
 *
 * Owns: struct dev_ep (one PCIe function) and its device TLB and PRI state.
 * Layering: dev/ is below the IOMMU models. An endpoint reaches its IOMMU only
 * through struct dev_port (ops installed by the model it is attached to); the
 * model reaches endpoints through the dev_ep_* calls at the bottom of this file
 * (device-TLB invalidations, page responses).
 *
 * Concurrency: any number of threads may call dev_dma() on one endpoint at once
 * (the device TLB is a hw/hwcache, lock-free on hits). PRI state has its own
 * mutex, on the fault path only.
 */
#ifndef VSVA_DEV_H
#define VSVA_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/mem.h"

/* A memory request as the IOMMU sees it. */
enum dev_at {
	DEV_AT_UNTRANSLATED = 0,  /* a DMA whose address the IOMMU translates */
	DEV_AT_TRANS_REQ = 1,     /* an ATS translation request */
	DEV_AT_TRANSLATED = 2,    /* a DMA with an address the device TLB translated */
};

struct dev_txn {
	uint16_t rid;             /* requester ID: bus << 8 | dev << 3 | fn */
	bool pasid_valid;
	uint32_t pasid;
	bool priv;                /* privileged-mode requested */
	bool exec;                /* execute requested (with read) */
	bool write;
	enum dev_at at;
	uint64_t addr;            /* input address (page offset included) */
};

/* What the IOMMU answered. */
enum dev_xlate_status {
	DEV_XLATE_OK = 0,         /* pa/size/perm valid */
	DEV_XLATE_FAULT,          /* unrecoverable: the IOMMU recorded (or suppressed) a fault */
	DEV_XLATE_NO_ACCESS,      /* ATS: translation completion with R = W = 0 (device may use
	                           * PRI to make it present) */
	DEV_XLATE_UR,             /* ATS: unsupported request / completer abort */
	DEV_XLATE_STALLED,        /* the IOMMU holds the request (Arm stall model): wait with
	                           * port->stall_wait(stag, stall_seq), then retry or stop */
	DEV_XLATE_RAZ_WI,         /* terminated as read-as-zero, write-ignored: the access
	                           * "succeeds" for [page_base, +size) without touching memory */
};

/* status and r, w, x, priv are one 64-bit word (an IOMMU may store an answer's
 * constant part with one store; dev.c asserts the layout). */
struct dev_xlate {
	uint64_t pa;              /* output address of txn.addr */
	uint64_t page_base;       /* the translation's input range [page_base, +size) */
	uint64_t size;
	enum dev_xlate_status status;
	bool r, w, x, priv;       /* what the translation allows */
	uint8_t fault_reason;     /* the IOMMU's code when status is FAULT (VT-d FR, SMMU event),
	                           * STALLED or RAZ_WI (the fault that caused it) */
	uint16_t stag;            /* STALLED: the IOMMU's tag for the stalled request, */
	uint32_t stall_seq;       /* and which use of that tag it is */
};
#define DEV_XLATE_WORD_OFF offsetof(struct dev_xlate, status)
_Static_assert(sizeof(enum dev_xlate_status) == 4 &&
	       offsetof(struct dev_xlate, r) == DEV_XLATE_WORD_OFF + 4 &&
	       offsetof(struct dev_xlate, priv) == DEV_XLATE_WORD_OFF + 7,
	       "status, r, w, x, priv are one 64-bit word");
_Static_assert(sizeof(struct dev_xlate) == 40, "stag and stall_seq live in the padding");

/* A page request as an endpoint with PRI sends it (PCIe Page Request Message). */
struct dev_page_req {
	uint16_t rid;
	bool pasid_valid;
	uint32_t pasid;
	bool priv, exec;
	bool read, write;
	bool last;                /* last request of its group */
	uint16_t prgi;            /* page request group index (9 bits) */
	uint64_t addr;            /* page address */
};

/* PRG response codes (PCIe): Success, Invalid Request, Response Failure. */
enum dev_prg_resp {
	DEV_PRG_SUCCESS = 0,
	DEV_PRG_INVALID = 1,
	DEV_PRG_FAILURE = 0xf,
};

/* How a stalled request ends: retried as if new, terminated (abort, or RAZ/WI:
 * read as zero, write ignored), or the endpoint stopped waiting. */
enum dev_stall_answer {
	DEV_STALL_RETRY,
	DEV_STALL_ABORT,
	DEV_STALL_RAZ_WI,
	DEV_STALL_TIMEOUT,
};

/* The upstream port an IOMMU model installs for its endpoints. */
struct dev_port {
	void *iommu;
	/* Untranslated DMAs and ATS translation requests. Must not block. */
	void (*translate)(void *iommu, const struct dev_txn *t, struct dev_xlate *x);
	/* A page request; 0 if accepted, -ENOSPC if the IOMMU dropped it (its queue
	 * full: the IOMMU then answers the group itself, as the spec says). */
	int (*page_request)(void *iommu, const struct dev_page_req *pr);
	/* After a DEV_XLATE_STALLED answer x, waits (holding nothing of the endpoint's)
	 * until software resumes or terminates the request, or timeout_ns pass (0:
	 * no limit). NULL for IOMMUs that never stall. */
	enum dev_stall_answer (*stall_wait)(void *iommu, const struct dev_xlate *x,
					    uint64_t timeout_ns);
};

struct dev_ep_config {
	uint16_t rid;
	unsigned pasid_bits;      /* 0: no PASID capability */
	bool exec_perm, priv_mode;/* PASID capability: execute / privileged supported */
	bool ats;                 /* ATS capability */
	unsigned atc_entries;     /* device TLB entries (power of two), 0: ATS without a TLB */
	unsigned atc_ways;
	bool pri;                 /* PRI capability */
	unsigned pri_outstanding; /* outstanding page request allocation (PRI capacity) */
};

struct dev_ep;

/* NULL with errno (EINVAL for a bad config, ENOMEM). mem is the host physical
 * space DMAs land in. */
struct dev_ep *dev_ep_new(const struct dev_ep_config *cfg, struct mem_space *mem);
void dev_ep_free(struct dev_ep *ep);
uint16_t dev_ep_rid(const struct dev_ep *ep);
/* What the endpoint is (its capabilities), and what software enabled. */
const struct dev_ep_config *dev_ep_get_config(const struct dev_ep *ep);
bool dev_ep_ats_enabled(const struct dev_ep *ep);
bool dev_ep_pasid_enabled(const struct dev_ep *ep);

/* The IOMMU model attaches the endpoint to its port (NULL port: detached). */
void dev_ep_attach(struct dev_ep *ep, const struct dev_port *port);

/* Software enables (config space): ATS, PRI and PASID as a driver would. */
int dev_ep_enable_ats(struct dev_ep *ep, bool on);
int dev_ep_enable_pri(struct dev_ep *ep, bool on);
int dev_ep_enable_pasid(struct dev_ep *ep, bool on);

/* ---- the DMA engine --------------------------------------------------------- */

struct dev_dma {
	bool pasid_valid;
	uint32_t pasid;
	bool priv, exec;
	bool write;
	uint64_t iova;
	void *buf;                /* source (write) or destination (read) */
	uint64_t len;
	/* With PRI: on a translation that needs a page, send a page request, wait for
	 * the response (up to retry_wait_ns, 0 = forever) and retry once. A stalled
	 * request waits for its resume as long (with or without use_pri). */
	bool use_pri;
	uint64_t retry_wait_ns;
};

enum dev_dma_status {
	DEV_DMA_OK = 0,
	DEV_DMA_FAULT,            /* the IOMMU refused a page (xlate in the report) */
	DEV_DMA_PRI_FAILED,       /* the page request was answered Invalid or Failure */
	DEV_DMA_PRI_TIMEOUT,
	DEV_DMA_MEM_ERROR,        /* the translated address is not memory (-EFAULT from mem/) */
	DEV_DMA_STALL_TIMEOUT,    /* a stalled request was not resumed within retry_wait_ns */
};

struct dev_dma_report {
	enum dev_dma_status status;
	uint64_t done;            /* bytes transferred before the failure */
	uint64_t fault_iova;      /* where it stopped */
	struct dev_xlate xlate;   /* the IOMMU's answer for that page */
	unsigned atc_hits, atc_misses, translations, page_requests;
	unsigned stalls;          /* requests the IOMMU stalled (each resume retries) */
	uint64_t raz_wi;          /* bytes read as zero or written nowhere (RAZ/WI) */
};

/*
 * Reads or writes len bytes at iova (page by page, each page translated: through
 * the device TLB and ATS when ATS is enabled, else untranslated through the
 * IOMMU), copying through mem/. Returns 0 when the DMA ran (success or a reported
 * failure in *rep), -EINVAL for a bad request (PASID without the capability
 * enabled, exec together with write... as dev.c documents), -ENODEV when detached.
 */
int dev_dma(struct dev_ep *ep, const struct dev_dma *d, struct dev_dma_report *rep);

/* ---- calls from the IOMMU model ------------------------------------------- */

/*
 * Device-TLB invalidation: drop cached translations overlapping
 * [addr, addr + size) for pasid (every PASID-tagged entry when global). Without
 * a PASID (!pasid_valid) the request covers every entry in the range, with or
 * without PASID, as a PCIe invalidation without a PASID prefix does. size is a
 * power of two >= 4 KiB, addr aligned to it; size 0 with addr 0 means everything.
 * Returns the number of entries dropped. Blocks until DMAs in flight that might
 * use a dropped entry have finished: never call it holding a lock that the
 * port's translate takes.
 */
unsigned dev_ep_atc_invalidate(struct dev_ep *ep, bool pasid_valid, uint32_t pasid, bool global,
			       uint64_t addr, uint64_t size);

/* A PRG response for (pasid, prgi): wakes the DMA waiting on it. -ENOENT if no
 * such group is outstanding (the response is dropped, as the device would). */
int dev_ep_page_response(struct dev_ep *ep, bool pasid_valid, uint32_t pasid, uint16_t prgi,
			 enum dev_prg_resp code);

/* Counters for tests and benchmarks. */
struct dev_ep_stats {
	uint64_t dmas, bytes, atc_hits, atc_misses, atc_invalidated, page_requests,
		prg_responses, faults;
};
void dev_ep_get_stats(struct dev_ep *ep, struct dev_ep_stats *st);

#endif
