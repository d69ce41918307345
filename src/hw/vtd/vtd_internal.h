/* hw/vtd/vtd_internal.h — the unit's state and the contract between its parts:
 *   regs.c   register file, GCMD state machine, fault recording, events, VCMD
 *   xlate.c  translation: structures, caches, walks, page-request checks, and the
 *            cache invalidation primitives
 *   qi.c     the invalidation queue: descriptor fetch, checks, effects
 *   prq.c    the page request queue
 *   vtd.c    creation, configuration, endpoints, statistics
 *
 * Locking: v->lock guards every register and queue field below marked (L). The
 * translation path reads only the fields marked (A), which writers update with
 * atomics while holding the lock, and the caches (hw/hwcache, lock-free reads).
 * Events raised under the lock are collected in v->pending_events and delivered
 * by vtd_unlock() after the mutex is released.
 */
#ifndef VSVA_HW_VTD_INTERNAL_H
#define VSVA_HW_VTD_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "hw/front.h"
#include "hw/hwcache.h"
#include "hw/vtd/vtd.h"
#include "hw/vtd/vtd_regs.h"

/* xlate.c */
#include "pgtable/pgtable.h"
struct vtd_fault;

struct vtd {
	struct vtd_config cfg;
	struct mem_space *mem;
	pthread_mutex_t lock;
	uint32_t ver;
	uint64_t cap, ecap;

	/* Translation state (A): latched by SRTP, enabled by TE. */
	_Atomic uint64_t rta;            /* root table address latched by SRTP */
	_Atomic unsigned ttm;            /* TTM latched by SRTP */
	_Atomic bool te;                 /* GSTS.TES */

	/* Register file (L). */
	uint32_t gsts;
	uint64_t rtaddr;                 /* as last written */
	uint32_t fsts, fectl, fedata, feaddr, feuaddr;
	uint64_t *frcd;                  /* 2 * (nfr) words: lo, hi per record */
	unsigned fr_next;                /* the circular recording index */
	uint64_t iqa, iqh, iqt, iqercd;
	uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
	uint64_t pqa, pqh, pqt;
	uint32_t prs, pectl, pedata, peaddr, peuaddr;
	uint64_t vcmd, vcrsp;
	uint64_t *vcmd_pasids;           /* bitmap of PASIDs handed out by VCMD */
	unsigned pending_events;         /* bit per enum vtd_event, delivered on unlock */

	void (*event_cb)(void *ctx, enum vtd_event ev);
	void *event_ctx;
	void (*stale_cb)(void *ctx, const struct vtd_stale *s);
	void *stale_ctx;

	/* Caches. */
	struct hwc *cc, *pc, *iotlb, *fspsc, *sspsc;

	/* Endpoints by RID (A: read by the queue to forward invalidations). */
	struct dev_ep *_Atomic *eps;     /* 65536 slots */
	struct dev_port port;

	/* Statistics. */
	struct pcounter translations, walks, walk_refs;
	_Atomic uint64_t faults[256];
	_Atomic uint64_t faults_recorded, faults_suppressed, faults_overflow;
	_Atomic uint64_t descriptors[16];
	_Atomic uint64_t page_requests, prq_overflow, stale_hits;

	/* regs.c/qi.c/prq.c */
	/* (L) A thread is processing the invalidation queue. It drops the lock around
	 * device-TLB invalidations (dev_ep_atc_invalidate waits for DMAs that may be
	 * recording a fault under the lock); meanwhile others leave the queue to it. */
	bool qi_busy;
	unsigned qi_epoch;               /* (L) bumped whenever QIE changes (the queue resets) */

	/* xlate.c */
	/* Page-table formats, built on the first walk (xl_fmt_state: 0 not built, 1 being
	 * built, 2 ready), indexed as xlate.c's fs_fmt() and ss_fmt() say. */
	_Atomic unsigned xl_fmt_state;
	struct pgt_fmt xl_fs[16];        /* levels 4/5 x NXE x WPE x SMEP */
	struct pgt_fmt xl_ss[12];        /* levels 3/4/5 x SLADE x SLEE */
	_Atomic unsigned xl_iotlb_sizes; /* bit 0: a 2M, bit 1: a 1G IOTLB entry was filled */
	/* The front cache (hw/front.h): its version is the context, PASID and IOTLB
	 * caches' hwc watch word, and regs.c bumps it on every change of TE or the
	 * latched root state; its hits are each also one context, PASID and IOTLB
	 * hit (vtd_get_stats() adds them there). */
	struct xfront_unit xl_front;
	/* Called with every fault the translation and page-request paths hand to
	 * vtd_record_fault(), just before (tests and the CLI; set while idle). */
	void (*xl_fault_tap)(void *ctx, const struct vtd_fault *f);
	void *xl_fault_tap_ctx;
};

/* vtd.c */
void vtd_lock(struct vtd *v);
void vtd_unlock(struct vtd *v);                 /* delivers pending events */
struct dev_ep *vtd_endpoint(struct vtd *v, uint16_t rid);

/* ---- regs.c ------------------------------------------------------------------------ */

/* A fault as the translation or page-request path found it. */
struct vtd_fault {
	uint8_t reason;
	uint16_t sid;
	uint64_t addr;                   /* the request's page address */
	bool pasid_present;
	uint32_t pasid;
	bool priv, exec;
	bool write;                      /* T: write vs read */
	bool page_request;               /* T2: a page request */
	uint8_t at;                      /* PCIe AT of the request */
	bool fpd;                        /* accumulated FPD: suppress if the reason is qualified */
};

/* Records a primary fault (takes the lock): honours FPD for qualified reasons,
 * PFO, the circular index, FRI and the fault event. Counts it either way. */
void vtd_record_fault(struct vtd *v, const struct vtd_fault *f);
bool vtd_fault_qualified(uint8_t reason);

/* Sets FSTS bits (IQE, ICE, ITE) with the event rule; caller holds the lock. */
void vtd_fsts_set_locked(struct vtd *v, uint32_t bits);
/* Raises an event under the lock if its IM is clear (else marks IP). */
void vtd_raise_locked(struct vtd *v, enum vtd_event ev);

/* ---- xlate.c: invalidation primitives (called by qi.c and regs.c) --------------------- */

/* Context cache: everything, or the SIDs matching sid under function mask fm. */
unsigned vtd_inv_context(struct vtd *v, bool global, uint16_t sid, unsigned fm);
/* PASID cache: global; all PASIDs of did; or one (did, pasid). */
enum vtd_pc_gran { VTD_PC_GLOBAL, VTD_PC_DOMAIN, VTD_PC_PASID };
unsigned vtd_inv_pasid_cache(struct vtd *v, enum vtd_pc_gran g, uint16_t did, uint32_t pasid);
/* IOTLB (type 0x2): global; domain; or page-selective [addr, addr + 2^(12+am)) in
 * did, which also drops every first-stage and nested entry of did. ih keeps the
 * paging-structure caches for the range. Drops PSC entries as the spec says. */
enum vtd_iotlb_gran { VTD_IOTLB_GLOBAL, VTD_IOTLB_DOMAIN, VTD_IOTLB_PAGE };
unsigned vtd_inv_iotlb(struct vtd *v, enum vtd_iotlb_gran g, uint16_t did, uint64_t addr,
		       unsigned am, bool ih);
/* PASID-based IOTLB (type 0x6): all first-stage / nested / pass-through mappings of
 * (did, pasid), or page-selective within them. */
unsigned vtd_inv_piotlb(struct vtd *v, bool page, uint16_t did, uint32_t pasid, uint64_t addr,
			unsigned am, bool ih);
/* Everything (SRTP with ESRTPS, TE cleared on an SMTS unit). */
void vtd_inv_all(struct vtd *v);

/* xlate.c */
/* One translation with no cache looked up or filled, reporting every structure word
 * read (what: "root-entry.lo", "context[1]", "pasid-dir", "pasid-entry[0]"..., pgs
 * NULL) and every page-table reference (what "page-table", pgs the walker's step).
 * Faults are recorded as vtd_translate() records them. */
void vtd_translate_trace(struct vtd *v, const struct dev_txn *t, struct dev_xlate *x,
			 void (*step)(void *ctx, const char *what, uint64_t pa, uint64_t val,
				      const struct pgt_step *pgs),
			 void *ctx);
/* "SPT.2" etc. for a scalable-mode fault reason, and a one-line description. */
const char *vtd_fault_name(uint8_t reason);
const char *vtd_fault_text(uint8_t reason);

/* ---- qi.c ------------------------------------------------------------------------------ */

/* Processes descriptors from IQH towards IQT while QI is enabled and no error
 * stops the queue. Caller holds the lock. */
void vtd_qi_process_locked(struct vtd *v);

/* regs.c/qi.c/prq.c */
/* Note on vtd_qi_process_locked(): it releases and retakes v->lock around each
 * device-TLB invalidation (the endpoint waits for DMAs whose translations may
 * record faults), so callers make it their last step under the lock. */
/* The range a device-TLB invalidation (types 0x3 and 0x8) covers: addr is the
 * descriptor's ADDR field (qw1 bits 63:12), s its S bit. Gives a power-of-two
 * size >= 4 KiB and the base aligned to it, or base 0 and size 0 for the whole
 * address space (dev_ep_atc_invalidate's "everything"). */
void vtd_devtlb_decode(uint64_t addr, bool s, uint64_t *base, uint64_t *size);

/* ---- prq.c ----------------------------------------------------------------------------- */

/* Writes a page request descriptor (caller holds the lock); -ENOSPC when the queue
 * is full or PRO is set (PRO is set by this call when it fills). */
int vtd_prq_write_locked(struct vtd *v, const struct dev_page_req *pr);

#endif
