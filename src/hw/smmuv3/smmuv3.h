/* hw/smmuv3/smmuv3.h — one Arm SMMUv3 (stage 1, stage 2, nested), as software.
 *
 * Owns: the register file in two 64 KiB pages (the only way software changes the
 * SMMU's state), the translation of endpoint requests through the stream table,
 * context descriptors and the pgtable/ LPAE walkers, the caches (configuration
 * cache of STEs and CDs, TLB, walk caches per stage), the command queue, the
 * event queue, the PRI queue and stalled transactions.
 *
 * Callers: a host driver (MMIO through smmu_read/smmu_write, memory through mem/),
 * endpoints (through the dev_port the SMMU installs when they are attached; the
 * endpoint's requester ID is its StreamID, its PASID the SubstreamID), the CLI and
 * tests. The SMMU knows nothing of domains or of the user API.
 *
 * Concurrency: register accesses serialise on the SMMU's mutex; translations take
 * no lock on cache hits and run in any number of threads; interrupts are
 * delivered through the callback after the mutex is released.
 */
#ifndef VSVA_HW_SMMUV3_H
#define VSVA_HW_SMMUV3_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/dev.h"
#include "mem/mem.h"

struct smmu_config {
	/* ID registers. */
	bool s1p, s2p;              /* IDR0.S1P, S2P (at least one) */
	unsigned ttf;               /* IDR0.TTF: 2 = AArch64 tables only (the model's only kind) */
	bool ats, pri;              /* IDR0.ATS, PRI */
	unsigned httu;              /* IDR0.HTTU: 0 none, 1 access flag, 2 access flag and dirty */
	bool vmid16, asid16;        /* IDR0.VMID16, ASID16 */
	bool cd2l;                  /* IDR0.CD2L: two-level CD tables */
	unsigned st_level;          /* IDR0.ST_LEVEL: 0 linear only, 1 two-level too */
	unsigned stall_model;       /* IDR0.STALL_MODEL: 0 stall and terminate, 1 terminate
	                             * only, 2 stall forced */
	bool term_model;            /* IDR0.TERM_MODEL: 1 = aborted transactions always abort */
	bool sev, msi;              /* IDR0.SEV, MSI */
	unsigned sidsize;           /* IDR1.SIDSIZE: StreamID bits, 1..32 */
	unsigned ssidsize;          /* IDR1.SSIDSIZE: SubstreamID bits, 0..20 */
	unsigned cmdqs, eventqs, priqs;  /* IDR1: log2 of the largest queue sizes, <= 19 */
	bool ril;                   /* IDR3.RIL: range invalidation */
	unsigned oas;               /* IDR5.OAS as bits: 32, 36, 40, 42, 44, 48 or 52 */
	bool gran4k, gran16k, gran64k;  /* IDR5.GRAN* */
	unsigned stall_max;         /* IDR5.STALL_MAX: outstanding stalled transactions */
	/* Caches: entries (a power of two, 0 = none) and ways. */
	unsigned cfg_entries, cfg_ways;   /* STEs and CDs */
	unsigned tlb_entries, tlb_ways;
	unsigned s1wc_entries, s2wc_entries, wc_ways;  /* walk caches per stage */
	bool checker;               /* re-walk every cache hit uncached (coherence checker) */
};

/* A full-featured SMMUv3.2: S1P, S2P, ATS, PRI, HTTU 2, 16-bit VMIDs and ASIDs,
 * CD2L, two-level stream tables, stall model 0, SIDSIZE 16, SSIDSIZE 20, queues up
 * to 2^19 entries, RIL, OAS 48, all granules, 64 stalls; caches of 64/2048/256/256
 * entries (config 4-way, TLB 8-way, walk caches 4-way). */
void smmu_config_default(struct smmu_config *c);

struct smmu;

/* NULL with errno EINVAL (a config the spec does not allow) or ENOMEM. mem is the
 * physical address space of tables, queues and DMAs. */
struct smmu *smmu_new(const struct smmu_config *c, struct mem_space *mem);
void smmu_free(struct smmu *s);

/* MMIO: off in [0, SMMU_REG_SIZE) (page 0, then page 1 at 0x10000); size 4 or 8 at
 * an offset aligned to it. Unknown offsets read 0 and ignore writes. */
#define SMMU_REG_SIZE 0x20000
uint64_t smmu_read(struct smmu *s, uint32_t off, unsigned size);
void smmu_write(struct smmu *s, uint32_t off, unsigned size, uint64_t val);

/* Interrupts: called (outside the SMMU's lock) when the SMMU would signal one of
 * these with its IRQ_CTRL enable set (CMD_SYNC with CS = IRQ is signalled even
 * then: it has its own MSI in the command; SEV is reported as its own kind). */
enum smmu_irq {
	SMMU_IRQ_GERROR,
	SMMU_IRQ_EVENTQ,
	SMMU_IRQ_PRIQ,
	SMMU_IRQ_CMD_SYNC,
	SMMU_IRQ_SEV,
};
void smmu_set_irq_cb(struct smmu *s, void (*cb)(void *ctx, enum smmu_irq irq), void *ctx);

/* Endpoints: the endpoint's RID is its StreamID. -EEXIST if taken, -EINVAL if the
 * RID does not fit SIDSIZE. */
int smmu_attach(struct smmu *s, struct dev_ep *ep);
void smmu_detach(struct smmu *s, struct dev_ep *ep);

/* Translates one request as the hardware would (the port's translate). */
void smmu_translate(struct smmu *s, const struct dev_txn *t, struct dev_xlate *x);

/* A page request from an endpoint (the port's page_request). */
int smmu_page_request(struct smmu *s, const struct dev_page_req *pr);

/* Coherence checker (config.checker): a translation that used a cache entry is
 * resolved again from memory; the first layer that differs is reported (and
 * counted in stale_hits), and the answer is memory's. The callback runs on the
 * translating thread, with no lock held. */
struct smmu_stale {
	const char *cache;          /* "ste", "cd", "tlb", "s1-walk", "s2-walk" */
	uint32_t sid, ssid;
	uint16_t vmid, asid;
	uint64_t addr;              /* input address (TLB, walk caches) */
	uint64_t cached, fresh;     /* what the cache said, what memory says */
	const char *missing;        /* the command that would have dropped the entry (valid
	                             * during the callback only) */
};
void smmu_set_stale_cb(struct smmu *s, void (*cb)(void *ctx, const struct smmu_stale *st),
		       void *ctx);

struct smmu_cache_stats {
	uint64_t hits, misses, fills, evictions, invalidated;
};

struct smmu_stats {
	struct smmu_cache_stats cfg, tlb, s1wc, s2wc;
	uint64_t translations, walks, walk_refs;
	uint64_t events[256];       /* by event ID, written to the queue or not */
	uint64_t events_written, events_lost;
	uint64_t commands[256];     /* processed, by opcode */
	uint64_t page_requests, priq_overflow, stalls, stale_hits;
};
void smmu_get_stats(struct smmu *s, struct smmu_stats *st);

#endif
