/* hw/vtd/vtd.h — one Intel VT-d remapping unit in scalable mode, as software.
 *
 * Owns: the register file (the only way software changes the unit), the
 * translation of endpoint requests through root/context/PASID structures and the
 * pgtable/ walkers, the caches (context, PASID, IOTLB, first- and second-stage
 * paging-structure caches), queued invalidation, primary fault recording, the
 * page request queue, and virtual commands.
 *
 * Callers: a host driver (MMIO through vtd_read/vtd_write, memory through mem/),
 * endpoints (through the dev_port the unit installs when they are attached), the
 * CLI and tests. The unit knows nothing of domains or of the user API.
 *
 * Concurrency: register accesses serialise on the unit's mutex; translations take
 * no lock on cache hits and run in any number of threads; events (the interrupts)
 * are delivered through the callback after the unit's mutex is released.
 */
#ifndef VSVA_HW_VTD_H
#define VSVA_HW_VTD_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/dev.h"
#include "mem/mem.h"

struct vtd_config {
	/* Capabilities (CAP/ECAP). */
	unsigned haw;            /* host address width = MGAW (default 48) */
	unsigned sagaw;          /* CAP.SAGAW: bit 1 39-bit, bit 2 48-bit, bit 3 57-bit */
	bool fl1gp, fl5lp;       /* first stage: 1 GiB pages, 5 levels */
	bool sllps_2m, sllps_1g; /* second stage large pages */
	bool flts, slts, nest, pt;
	unsigned pasid_bits;     /* 0: no PASID support; else 1..20 (ECAP.PSS + 1) */
	bool prs, dt, sc, srs, ers, eafs, slads, smpwcs, pds, vcs, rps, rprivs;
	bool psi;
	unsigned mamv;           /* largest address mask for page-selective invalidation */
	unsigned nfr;            /* fault recording registers (1..192) */
	/* Caches: entries (a power of two, 0 = none) and ways. */
	unsigned cc_entries, cc_ways;         /* context cache */
	unsigned pc_entries, pc_ways;         /* PASID cache */
	unsigned iotlb_entries, iotlb_ways;
	unsigned fspsc_entries, sspsc_entries, psc_ways;  /* paging-structure caches */
	bool checker;            /* re-walk every cache hit uncached (coherence checker) */
};

/* A full-featured 3.x unit: 48-bit HAW, SAGAW 39/48/57, all of the above, 8 fault
 * records, 20-bit PASIDs, caches of 64/256/1024/256/256 entries. */
void vtd_config_default(struct vtd_config *c);

struct vtd;

/* NULL with errno EINVAL (a config the spec does not allow) or ENOMEM. mem is the
 * host physical address space all structures, queues and DMAs use. */
struct vtd *vtd_new(const struct vtd_config *c, struct mem_space *mem);
void vtd_free(struct vtd *v);

/* MMIO: size 4 or 8 at an offset aligned to it; other accesses read 0 / are
 * ignored, as the spec leaves them. */
uint64_t vtd_read(struct vtd *v, uint32_t off, unsigned size);
void vtd_write(struct vtd *v, uint32_t off, unsigned size, uint64_t val);

/* Interrupts: called (outside the unit's lock) when the unit would send the
 * message of an event whose mask is clear. */
enum vtd_event {
	VTD_EVENT_FAULT,         /* FECTL: primary fault, IQE, ICE, ITE */
	VTD_EVENT_INV_WAIT,      /* IECTL: invalidation wait completion (ICS.IWC) */
	VTD_EVENT_PAGE_REQUEST,  /* PECTL: page request queue */
};
void vtd_set_event_cb(struct vtd *v, void (*cb)(void *ctx, enum vtd_event ev), void *ctx);

/* Endpoints: attaching registers the endpoint under its RID and gives it the
 * unit's port. -EEXIST if the RID is taken. */
int vtd_attach(struct vtd *v, struct dev_ep *ep);
void vtd_detach(struct vtd *v, struct dev_ep *ep);

/* Translates one request as the hardware would (the port's translate). */
void vtd_translate(struct vtd *v, const struct dev_txn *t, struct dev_xlate *x);

/* A page request from an endpoint (the port's page_request). */
int vtd_page_request(struct vtd *v, const struct dev_page_req *pr);

/* Coherence checker: a cache hit that differs from an uncached walk. */
struct vtd_stale {
	const char *cache;       /* "context", "pasid", "iotlb", "fs-psc", "ss-psc" */
	uint16_t sid;
	uint32_t pasid;
	uint16_t did;
	uint64_t addr;           /* input address (IOTLB, PSC) */
	uint64_t cached, fresh;  /* what the cache said, what memory says (output or entry) */
	const char *missing;     /* the invalidation that would have dropped the entry */
};
void vtd_set_stale_cb(struct vtd *v, void (*cb)(void *ctx, const struct vtd_stale *s), void *ctx);

struct vtd_cache_stats {
	uint64_t hits, misses, fills, evictions, invalidated;
};

struct vtd_stats {
	struct vtd_cache_stats cc, pc, iotlb, fspsc, sspsc;
	uint64_t translations, walks, walk_refs;
	uint64_t faults[256];     /* by reason, recorded or not */
	uint64_t faults_recorded, faults_suppressed, faults_overflow;
	uint64_t descriptors[16]; /* processed, by type */
	uint64_t page_requests, prq_overflow, stale_hits;
};
void vtd_get_stats(struct vtd *v, struct vtd_stats *st);

#endif
