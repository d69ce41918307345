/* hw/smmuv3/smmuv3_internal.h — the SMMU's state and the contract between its parts:
 *   regs.c   register file: ID registers, CR0/CR0ACK, CR1, CR2, GBPA, IRQ_CTRL,
 *            GERROR/GERRORN, STRTAB_BASE(_CFG), queue base and pointer registers
 *   queue.c  the event queue and the PRI queue (writing records, overflow)
 *   cmdq.c   the command queue: fetch, legality, each command's effect
 *   xlate.c  translation: stream table, context descriptors, caches, walks,
 *            stalls, page requests, the checker, and the cache invalidation
 *            primitives the commands use
 *   smmuv3.c creation, configuration, endpoints, statistics
 *
 * Locking: s->lock guards every register and queue field marked (L). The
 * translation path reads only the fields marked (A), which writers update with
 * atomics while holding the lock, and the caches (hw/hwcache, lock-free reads).
 * It takes s->lock only to write an event or PRI record (queue.c) or to park a
 * stalled transaction. Interrupts raised under the lock are collected in
 * s->pending_irqs and delivered by smmu_unlock() after the mutex is released.
 */
#ifndef VSVA_HW_SMMUV3_INTERNAL_H
#define VSVA_HW_SMMUV3_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "hw/front.h"
#include "hw/hwcache.h"
#include "hw/smmuv3/smmuv3.h"
#include "hw/smmuv3/smmuv3_regs.h"
#include "pgtable/pgtable.h"
#include "util/pcounter.h"

/* A queue's registers: base (ADDR | LOG2SIZE | RA/WA) and the two pointers, each
 * an index in the low LOG2SIZE bits with the wrap bit above it (plus, for CMDQ
 * CONS, the ERR field, and for EVENTQ/PRIQ the overflow flags in bit 31). */
struct smmu_queue {
	uint64_t base;
	uint32_t prod, cons;
};

/* A stalled transaction (STAG = its index in s->stalls; stall.c). */
enum smmu_stall_state {
	STALL_FREE = 0,
	STALL_STALLED,           /* its record (Stall = 1, this STAG) is in the queue */
	STALL_QUEUED,            /* its record could not be written yet: retried when
	                          * the event queue becomes writable (spec 7.2.1) */
	STALL_ANSWERED,          /* resumed or terminated; the endpoint has not collected
	                          * the answer yet (the STAG is not reused until it has) */
	STALL_ABANDONED,         /* the endpoint stopped waiting; software still owes the
	                          * RESUME or STALL_TERM that frees the STAG */
};

struct smmu_stall {
	enum smmu_stall_state state;
	uint32_t sid;
	uint32_t seq;            /* which use of this STAG (dev_xlate.stall_seq) */
	enum dev_stall_answer answer;
};

struct smmu {
	struct smmu_config cfg;
	struct mem_space *mem;
	pthread_mutex_t lock;
	uint32_t idr[6], iidr, aidr;

	/* Register file (L). */
	uint32_t cr0, cr0ack, cr1, cr2;
	uint32_t gbpa;
	uint32_t irq_ctrl, irq_ctrlack;
	uint32_t gerror, gerrorn;
	uint64_t gerror_irq_cfg0, eventq_irq_cfg0, priq_irq_cfg0;
	uint32_t gerror_irq_cfg1, gerror_irq_cfg2;
	uint32_t eventq_irq_cfg1, eventq_irq_cfg2, priq_irq_cfg1, priq_irq_cfg2;
	uint64_t strtab_base;
	uint32_t strtab_base_cfg;
	struct smmu_queue cmdq, eventq, priq;
	unsigned pending_irqs;           /* bit per enum smmu_irq, delivered on unlock */

	/* Translation state (A): the stream table as programmed (the registers are
	 * writable only while SMMUEN is 0, so these change only then), SMMUEN
	 * (CR0ACK), the global bypass attributes, and whether the event and PRI
	 * queues are enabled (CR0ACK). */
	_Atomic uint64_t st_base;        /* STRTAB_BASE.ADDR */
	_Atomic uint32_t st_cfg;         /* STRTAB_BASE_CFG */
	_Atomic bool enabled;            /* CR0ACK.SMMUEN */
	_Atomic uint32_t gbpa_now;       /* GBPA as it applies (ABORT) */
	_Atomic uint32_t xl_ctrl;        /* SMMU_XL_*: CR2 and CR0ACK bits translation uses */

	void (*irq_cb)(void *ctx, enum smmu_irq irq);
	void *irq_ctx;
	void (*stale_cb)(void *ctx, const struct smmu_stale *st);
	void *stale_ctx;

	/* The front cache (hw/front.h): its version is the configuration cache's
	 * and the TLB's hwc watch word, and regs.c bumps it after every store to an
	 * (A) field above; a front hit is also one configuration and one TLB hit
	 * (smmu_get_stats() adds it there). */
	struct xfront_unit xl_front;

	/* Caches: configuration (STEs by SID, CDs by SID+SSID), TLB, walk caches. */
	struct hwc *cfgc, *tlb, *s1wc, *s2wc;

	/* Endpoints by StreamID (their RID) (A). */
	struct dev_ep *_Atomic *eps;     /* 65536 slots */
	struct dev_port port;

	/* Stalled transactions (L): STALL_MAX slots, the STAG is the index; waiters
	 * (endpoints' DMA threads in smmu_stall_wait) sleep on stall_cond. */
	struct smmu_stall *stalls;
	unsigned nstalls;
	uint32_t stall_seq;
	pthread_cond_t stall_cond;

	/* Statistics. */
	struct pcounter translations, walks, walk_refs;
	_Atomic uint64_t events[256];
	_Atomic uint64_t events_written, events_lost;
	_Atomic uint64_t commands[256];
	_Atomic uint64_t page_requests, priq_overflow, stall_count, stale_hits;

	/* regs.c/cmdq.c (L): a thread is processing the command queue. It drops the
	 * lock around ATC invalidations (dev_ep_atc_invalidate waits for DMAs that
	 * may be recording an event under the lock); meanwhile others leave the
	 * queue to it. cmdq_epoch is bumped whenever CR0.CMDQEN changes, so the busy
	 * thread knows whether the queue was reset during the window. */
	bool cmdq_busy;
	unsigned cmdq_epoch;
};

/* xl_ctrl bits: CR2.RECINVSID (record C_BAD_STREAMID), CR0ACK.ATSCHK (check
 * translated traffic against STE.EATS). regs.c stores them. */
#define SMMU_XL_RECINVSID  BIT(0)
#define SMMU_XL_ATSCHK     BIT(1)

/* smmuv3.c */
void smmu_lock(struct smmu *s);
void smmu_unlock(struct smmu *s);               /* delivers pending interrupts */
struct dev_ep *smmu_endpoint(struct smmu *s, uint32_t sid);

/* ---- regs.c -------------------------------------------------------------------------------- */

/* Marks irq pending if IRQ_CTRL enables it (CMD_SYNC and SEV always). Lock held. */
void smmu_raise_locked(struct smmu *s, enum smmu_irq irq);
/* Toggles the GERROR bits in err that are not already active (an error is active
 * while GERROR and GERRORN differ), raising the GERROR interrupt. Lock held. */
void smmu_gerror_locked(struct smmu *s, uint32_t err);

/* Queue geometry from a base register: entries = 2^LOG2SIZE (capped by the IDR1
 * maximum), the index mask, and the wrap bit. */
struct smmu_qgeom {
	uint32_t log2size;
	uint32_t idx_mask;
	uint32_t wrap;
	uint64_t addr;
};
void smmu_qgeom(const struct smmu *s, uint64_t base, unsigned max_log2, struct smmu_qgeom *g);
/* The address of the entry that ptr's index names: the base aligned to the
 * larger of the queue's size in bytes and 32 (as the SMMU aligns it). */
uint64_t smmu_qentry(const struct smmu_qgeom *g, unsigned entry_bytes, uint32_t ptr);
/* Entries between cons and prod (index and wrap bit; other bits ignored), in
 * [0, 2 * entries): more than 2^LOG2SIZE is an inconsistent pair (spec 3.5.1). */
uint32_t smmu_qused(const struct smmu_qgeom *g, uint32_t prod, uint32_t cons);
/* ptr advanced by one entry (the wrap bit toggles past the last); other bits 0. */
uint32_t smmu_qnext(const struct smmu_qgeom *g, uint32_t ptr);
/* A 32-bit MSI write of data at addr (bits 1:0 ignored, truncated to OAS):
 * 0, or the mem/ error when addr is not writable memory. Lock held. */
int smmu_msi_write_locked(struct smmu *s, uint64_t addr, uint32_t data);
/* GERROR bits of err that are active (GERROR and GERRORN differ). Lock held. */
uint32_t smmu_gerror_active_locked(const struct smmu *s, uint32_t err);

/* ---- queue.c ------------------------------------------------------------------------------- */

/* An event as the translation path or a command found it; queue.c lays it out. */
struct smmu_event {
	uint8_t id;
	uint32_t sid;
	bool ssv;
	uint32_t ssid;
	bool stall;
	uint16_t stag;
	bool pnu, ind, rnw;              /* privileged (not user), instruction, read */
	bool s2;                         /* the fault was at stage 2 */
	uint8_t class_;                  /* EVT_CLASS_CD, TT, IN */
	bool ttrnw;                      /* a table access: read (1) or update (0) */
	uint32_t reason;                 /* F_UUT, fetch and conflict events: the IMPLEMENTATION
	                                  * DEFINED Reason (the model leaves it 0) */
	uint64_t input_addr;
	uint64_t ipa;                    /* stage-2 faults: the IPA */
	uint64_t fetch_addr;             /* F_*_FETCH, F_WALK_EABT: the physical address */
};
/* Writes the record (takes the lock): counted either way; dropped while EVENTQEN
 * is off, and when the queue is full the overflow flag toggles (never a crash,
 * never growth). Returns 0 if written, -ENOSPC if lost. */
int smmu_event(struct smmu *s, const struct smmu_event *e);
int smmu_event_locked(struct smmu *s, const struct smmu_event *e);
/* (queue.c) A record with stall set is never discarded (spec 7.2.1, 7.4): when the
 * queue cannot take it the result is -EAGAIN, it is neither lost nor an overflow,
 * and the stall path keeps the record to offer it again once the queue is
 * writable (enabled, not full, no EVENTQ_ABT_ERR). */
/* Lays e out as the 32-byte record (for the CLI too). */
void smmu_event_encode(const struct smmu_event *e, uint64_t rec[4]);
const char *smmu_event_name(uint8_t id);

/* Writes a PRI queue entry (lock held): -ENOSPC when PRIQEN is off or the queue is
 * full (the overflow flag is then set, as the spec says). */
int smmu_priq_write_locked(struct smmu *s, const struct dev_page_req *pr, uint32_t sid);
/* (queue.c) Every request that is not written is answered as spec 8.1/8.2 say,
 * through dev_ep_page_response on smmu_endpoint(s, sid), before -ENOSPC returns:
 * Response Failure without PASID while SMMUEN or PRIQEN is 0 or PRIQ_ABT_ERR is
 * active (and for the request whose write aborted); Success for a last request
 * discarded by an overflow (with its PASID if IDR3.PPS or the STE's PPAR says
 * so; Failure without PASID when the STE cannot be read). Stop markers are never
 * answered. So callers need not answer -ENOSPC themselves. */

/* ---- cmdq.c -------------------------------------------------------------------------------- */

/* Processes commands from CONS towards PROD while CMDQEN is on and no error stops
 * the queue. Caller holds the lock; the lock is dropped around ATC invalidations
 * (the endpoint waits for DMAs in flight), so callers make it their last step. */
void smmu_cmdq_process_locked(struct smmu *s);

/* ---- xlate.c: invalidation primitives (called by cmdq.c and regs.c) ---------------------- */

/* Configuration cache: one STE and its CDs; a SID range [sid, sid + 2^span); one
 * CD (sid, ssid), or every CD of sid; everything. */
unsigned smmu_inv_ste(struct smmu *s, uint32_t sid, unsigned span);
unsigned smmu_inv_cd(struct smmu *s, uint32_t sid, bool all_ssids, uint32_t ssid);
unsigned smmu_inv_cfg_all(struct smmu *s);

/* TLB and walk caches. A stage-1 entry is tagged (VMID, ASID) (VMID 0 when the
 * STE has no stage 2), a stage-2 entry (VMID), a combined nested entry both. */
enum smmu_tlbi_kind {
	SMMU_TLBI_NH_ALL,        /* stage 1 of vmid (and combined entries) */
	SMMU_TLBI_NH_ASID,       /* stage 1 of (vmid, asid) */
	SMMU_TLBI_NH_VA,         /* stage 1 of (vmid, asid) in range (global entries too) */
	SMMU_TLBI_NH_VAA,        /* stage 1 of vmid in range, any ASID */
	SMMU_TLBI_S12_VMALL,     /* stage 1 and 2 of vmid */
	SMMU_TLBI_S2_IPA,        /* stage 2 of vmid in IPA range */
	SMMU_TLBI_NSNH_ALL,      /* every non-secure, non-hyp entry */
	SMMU_TLBI_EL2_ALL,       /* EL2 regime entries (the model makes none) */
};
struct smmu_tlbi {
	enum smmu_tlbi_kind kind;
	uint16_t vmid, asid;
	uint64_t addr, size;     /* range kinds: [addr, addr + size) */
	bool leaf;               /* keep walk-cache entries (last-level only) */
	unsigned ttl_level;      /* 0: any; else the level (1-3) of the entries to drop */
	unsigned tg_shift;       /* with ttl_level: the granule the TTL applies to */
};
unsigned smmu_inv_tlb(struct smmu *s, const struct smmu_tlbi *t);
/* Everything (SMMUEN changes, CFGI_ALL with TLBI_NSNH_ALL). */
void smmu_inv_all(struct smmu *s);

/* ---- stall.c: stalled transactions ------------------------------------------------------------ */

/* Stalls the transaction whose fault is e (a translation-related fault of a stage
 * configured to stall): takes a free STAG, records e with Stall = 1 and the STAG
 * (or, when the queue cannot take it, keeps it to retry once it can) and makes x
 * the DEV_XLATE_STALLED answer. Takes the lock. -EBUSY when every STAG is in use:
 * the caller then terminates the transaction (choice: as an abort with a record
 * without Stall, as an implementation that treats the stall as terminate). */
int smmu_stall_park(struct smmu *s, struct smmu_event *e, struct dev_xlate *x);
/* The endpoint's wait (the port's stall_wait): until the STAG is resumed or
 * terminated, or timeout_ns (0: no limit) pass. Takes the lock. */
enum dev_stall_answer smmu_stall_wait(struct smmu *s, const struct dev_xlate *x,
				      uint64_t timeout_ns);
/* CMD_RESUME (lock held): a = RETRY, ABORT or RAZ_WI (ABORT with TERM_MODEL).
 * -EINVAL for a STAG that names no stalled transaction of sid (a no-op). */
int smmu_stall_resume_locked(struct smmu *s, uint32_t sid, uint16_t stag,
			     enum dev_stall_answer a);
/* CMD_STALL_TERM: aborts every stalled transaction of sid; the count. */
unsigned smmu_stall_term_locked(struct smmu *s, uint32_t sid);
/* SMMUEN 1 -> 0: aborts every stalled transaction. */
void smmu_stall_term_all_locked(struct smmu *s);
/* The event queue may have become writable (CONS moved, EVENTQEN set, an
 * EVENTQ_ABT_ERR acknowledged): transactions whose stall record could not be
 * written are retried, and so re-recorded if they fault again (7.2.1). */
void smmu_stall_wake_locked(struct smmu *s);
/* queue.c: whether a record can be written now (EVENTQEN, not full, no abort). */
bool smmu_eventq_writable_locked(struct smmu *s);

/* One translation with no cache looked up or filled, reporting every structure word
 * read ("ste", "cd", "l1-std", "l1-cd") and every page-table reference; events are
 * written as smmu_translate() writes them. The event of a fault, if any, in *ev. */
void smmu_translate_trace(struct smmu *s, const struct dev_txn *t, struct dev_xlate *x,
			  void (*step)(void *ctx, const char *what, uint64_t pa, uint64_t val,
				       const struct pgt_step *pgs),
			  void *ctx, struct smmu_event *ev, bool *have_ev);

#endif
