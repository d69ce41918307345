/* iommu/intel.c — the VT-d host driver (interface and lock rules in intel.h).
 *
 * Decisions where the sources leave a choice, or where vsva departs from them:
 *  - Domain IDs: a bitmap of 2^(4 + 2 * CAP.ND) IDs; DID 0 is never handed out
 *    (the kernel reserves it). A nested domain has no DID of its own: its
 *    entries carry the parent's (the seed era's choice, kept by today's kernel),
 *    so the parent's IOTLB invalidations reach the guest's translations too.
 *  - Second-stage domains: the widest CAP.SAGAW width up to 48 bits (4 levels,
 *    else 3), PGT_CFG_NO2M / NO1G from CAP.SLLPS, NOSC without ECAP.SC; no
 *    SSADE (the kernel sets it only for dirty tracking). First-stage domains:
 *    x86 4-level, NO1G without CAP.FL1GP; their PASID entry's AW is the unit's
 *    second-stage AW, as the kernel writes it (PGTT 1 ignores it).
 *  - PASID entries are written words 1..7 first and word 0 (with P) last. An
 *    entry that is replaced is torn down first (P cleared, caches invalidated,
 *    wait), then written: a request in between faults (0x59) instead of reading
 *    half an old and half a new entry, as a 64-bit-at-a-time reader could.
 *  - Tear-down follows the spec's software guidance (facts §4.3, the kernel's
 *    intel_pasid_tear_down_entry): PASID-cache PASID-selective (type 7 G=01),
 *    then PASID-based IOTLB all-in-PASID (type 6 G=10) for PGTT 1/4 or IOTLB
 *    domain-selective (type 2 G=10) for PGTT 2/3, then, when the endpoint has
 *    ATS enabled, its device TLB (type 3 for RID_PASID, type 8 for a PASID),
 *    whole address space; then one wait. DID and PGTT are read from the entry.
 *  - A not-present -> present entry (context or PASID) needs no invalidation
 *    with CAP.CM = 0; with CM = 1 the kernel's caching-mode flushes are sent.
 *  - Releasing a device clears its context entry and invalidates the context
 *    cache device-selectively, and the device TLB when ATS is on; the PASID
 *    cache and IOTLB steps of the guidance are skipped because every PASID
 *    entry was torn down (and invalidated) before (spec 6.5.3.3 allows it with
 *    CM = 0).
 *  - flush_range: the smallest naturally aligned block that covers the range
 *    (AM = the lowest k with first >> k == last >> k, in 4 KiB pages); IOTLB
 *    page-selective in the DID (type 2 G=11; without CAP.PSI or with AM >
 *    CAP.MAMV, domain-selective) for second-stage domains, which also drops
 *    every nested entry of the DID; PASID-based IOTLB (type 6, G=11, or G=10
 *    beyond MAMV) per attached PASID for first-stage domains; device TLBs of
 *    attached devices with ATS on: the same block (type 3 / type 8), and for a
 *    nest parent the whole space of every nested attachment (the device caches
 *    guest addresses; which ones a GPA change affects is unknown).
 *  - cache_invalidate: the seed's map as merged in Linux v5.8 (see
 *    inv_entry()), one wait at the end. Departure: DEV_IOTLB at PASID
 *    granularity is accepted (v5.8 refused it; the seed's v7 table allowed it)
 *    and invalidates the PASID's whole device TLB. A request without a PASID
 *    addresses the nested domain attached at RID_PASID (PASID 0).
 *  - Faults: every record is reported; the reason table is at fr_reason().
 *  - Page requests: reported as the kernel's intel_prq_report reports them
 *    (PASID_VALID and RESPONSE_NEEDS_PASID when the request had a PASID,
 *    LAST_PAGE from LPIG, perm R/W/EXEC/PRIV); stop markers are dropped; a
 *    request from an unknown RID is answered Invalid Request when last in its
 *    group (the kernel's handle_bad_prq_event). Responses carry LPIG = 1: the
 *    core tracks only groups opened by a last request.
 */
#include "iommu/intel.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw/vtd/vtd_regs.h"

#define PAGE                4096u
#define IQ_QS               1u           /* 2 pages: 256 descriptors of 256 bits */
#define PQ_PQS              1u           /* 2 pages: 256 page requests */
#define DESC_BYTES          32u
#define PRQ_DESC_BYTES      32u
#define GCMD_KEEP           0x96ffffffu  /* GSTS without the one-shot status bits */
#define POLL_NS             (5ull * 1000 * 1000 * 1000)
#define RID_PASID           0u           /* the PASID of requests without one */
#define ORDER_ALL           52u          /* a device-TLB "everything" */
#define PRQ_BATCH           64u

/* ---- state ----------------------------------------------------------------------- */

struct intel_dev {
	struct iommu_device *dev;
	uint16_t rid;
	unsigned pasid_width;         /* PASIDs the endpoint may use: 2^width */
	unsigned pdts;                /* directory of 2^(pdts + 7) entries */
	uint64_t ce;                  /* context entry address */
	uint64_t dir;                 /* PASID directory */
	uint64_t dir_bytes;
	uint64_t *tables;             /* PASID table of each directory entry, 0: none */
	unsigned ntables;
	bool dte, pre, paside;
	bool ats_on, pri_on, pasid_on;/* enabled on the endpoint by probe_device */
	_Atomic unsigned refs;        /* interrupt handlers using it (rid_lock to take) */
};

struct intel_domain {
	struct iommu_domain *dom;
	uint16_t did;
	bool nested, first_stage;
	unsigned aw;                  /* second stage: PASID-entry AW (levels - 2) */
	struct intel_domain *parent;  /* nested */
	struct intel_domain *children, *next_child;  /* nest parent: nested domains */
};

struct intel_unit {
	struct vtd *hw;
	struct mem_space *mem;
	struct mem_frames *pool;
	struct iommu_unit *unit;
	struct iommu_hw_info info;
	uint64_t cap, ecap;
	unsigned haw, pasid_bits, nfr, mamv, ss_levels;
	uint32_t frcd;                /* offset of the first fault recording register */

	uint64_t root;
	uint64_t ctx[256][2];         /* context table per bus and root-entry half */

	uint64_t *did_map;
	unsigned ndids;

	pthread_mutex_t qi_lock;
	uint64_t iq, iq_bytes, iq_tail;
	uint64_t status;              /* the wait descriptors' status word */
	uint32_t qi_seq;

	pthread_mutex_t fault_lock;

	pthread_mutex_t prq_lock;
	uint64_t pq, pq_bytes;

	pthread_mutex_t rid_lock;
	struct intel_dev **rid_map[256];

	struct {
		_Atomic uint64_t faults, faults_unknown, fault_overflows, page_requests,
			prq_unknown, prq_stop_markers, prq_overflows, qi_batches, qi_errors;
	} st;
};

struct qi_desc {
	uint64_t qw0, qw1;            /* qw2 and qw3 are zero for every type sent */
};

/* A growing list of descriptors for one batch. */
struct qi_batch {
	struct qi_desc *d;
	unsigned n, cap;
	int err;                      /* -ENOMEM once an append failed */
};

static void event_cb(void *ctx, enum vtd_event ev);

/* ---- registers and memory -------------------------------------------------------------- */

static uint32_t rd32(struct intel_unit *iu, uint32_t off)
{
	return (uint32_t)vtd_read(iu->hw, off, 4);
}

static uint64_t rd64(struct intel_unit *iu, uint32_t off)
{
	return vtd_read(iu->hw, off, 8);
}

static void wr32(struct intel_unit *iu, uint32_t off, uint32_t val)
{
	vtd_write(iu->hw, off, 4, val);
}

static void wr64(struct intel_unit *iu, uint32_t off, uint64_t val)
{
	vtd_write(iu->hw, off, 8, val);
}

/* Host memory the driver allocated: an access cannot fail unless the pool's
 * region went away, which is a caller's bug; reads then give 0. */
static uint64_t get(struct intel_unit *iu, uint64_t pa)
{
	uint64_t v = 0;

	if (mem_load64(iu->mem, pa, &v))
		return 0;
	return v;
}

static void put(struct intel_unit *iu, uint64_t pa, uint64_t v)
{
	(void)mem_store64(iu->mem, pa, v);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * One GCMD command with the GSTS handshake (facts §1.5): GSTS without the
 * one-shot bits, the one bit set or cleared, written to GCMD; then GSTS polled
 * until sts_bit reads on.
 */
static int gcmd(struct intel_unit *iu, uint32_t cmd_bit, bool on, uint32_t sts_bit)
{
	uint32_t cur = rd32(iu, VTD_GSTS) & GCMD_KEEP;
	uint64_t start = now_ns();

	wr32(iu, VTD_GCMD, on ? cur | cmd_bit : cur & ~cmd_bit);
	while (!!(rd32(iu, VTD_GSTS) & sts_bit) != on) {
		if (now_ns() - start > POLL_NS)
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

/* ---- the invalidation queue ------------------------------------------------------------- */

static void batch_add(struct qi_batch *b, uint64_t qw0, uint64_t qw1)
{
	if (b->n == b->cap) {
		unsigned cap = b->cap ? 2 * b->cap : 8;
		struct qi_desc *d = realloc(b->d, cap * sizeof(*d));

		if (!d) {
			b->err = -ENOMEM;
			return;
		}
		b->d = d;
		b->cap = cap;
	}
	b->d[b->n].qw0 = qw0;
	b->d[b->n].qw1 = qw1;
	b->n++;
}

static void batch_free(struct qi_batch *b)
{
	free(b->d);
	memset(b, 0, sizeof(*b));
}

static void qi_write_slot(struct intel_unit *iu, uint64_t off, uint64_t qw0, uint64_t qw1)
{
	put(iu, iu->iq + off, qw0);
	put(iu, iu->iq + off + 8, qw1);
	put(iu, iu->iq + off + 16, 0);
	put(iu, iu->iq + off + 24, 0);
}

/*
 * Looks at FSTS for a queue error and recovers as the kernel's qi_check_fault
 * does: IQE leaves IQH at the bad descriptor, which is replaced by a plain wait
 * descriptor (no status write, no interrupt: a no-op) before IQE is cleared, so
 * that the queue resumes; ITE aborted the waits in flight, so the caller
 * re-queues its own (*rewait). Returns 0 or the error seen.
 */
static int qi_check(struct intel_unit *iu, bool *rewait)
{
	uint32_t fsts = rd32(iu, VTD_FSTS);
	int err = 0;

	if (fsts & FSTS_IQE) {
		uint64_t head = rd64(iu, VTD_IQH) & IQ_PTR;

		qi_write_slot(iu, head, QI_WAIT, 0);
		wr32(iu, VTD_FSTS, FSTS_IQE);
		atomic_fetch_add(&iu->st.qi_errors, 1);
		err = -EIO;
	}
	if (fsts & FSTS_ITE) {
		wr32(iu, VTD_FSTS, FSTS_ITE);
		atomic_fetch_add(&iu->st.qi_errors, 1);
		*rewait = true;
		err = -ETIMEDOUT;
	}
	return err;
}

/* Appends one descriptor at the software tail; a full queue (N - 1 entries) is
 * handed to the hardware and drained first. */
static int qi_put(struct intel_unit *iu, uint64_t qw0, uint64_t qw1, int *err)
{
	uint64_t next = (iu->iq_tail + DESC_BYTES) % iu->iq_bytes;
	uint64_t start = 0;
	bool rewait = false;

	while (next == (rd64(iu, VTD_IQH) & IQ_PTR)) {
		int e;

		if (!start) {
			start = now_ns();
			wr64(iu, VTD_IQT, iu->iq_tail);
		}
		e = qi_check(iu, &rewait);
		if (e)
			*err = e;
		if (now_ns() - start > POLL_NS)
			return -ETIMEDOUT;
		sched_yield();
	}
	qi_write_slot(iu, iu->iq_tail, qw0, qw1);
	iu->iq_tail = next;
	return 0;
}

static uint32_t qi_status(struct intel_unit *iu)
{
	return (uint32_t)get(iu, iu->status);
}

/* Queues a wait descriptor that writes a fresh sequence number to the status
 * word (SW, no interrupt: completion is polled). */
static int qi_put_wait(struct intel_unit *iu, uint32_t *seq, int *err)
{
	if (++iu->qi_seq == 0)
		iu->qi_seq = 1;
	*seq = iu->qi_seq;
	return qi_put(iu, QI_WAIT | QI_WAIT_SW | FIELD_PREP(QI_WAIT_SDATA, *seq),
		      iu->status & QI_WAIT_SADDR, err);
}

static void fault_event(struct intel_unit *iu);

/*
 * Submits the batch and one wait descriptor, then polls the status word: when
 * it holds the wait's data every descriptor before it has completed (facts
 * §4.2, type 5). Returns 0, the batch's -ENOMEM (nothing sent), or the queue
 * error the batch ran into (after recovering from it).
 */
static int qi_submit(struct intel_unit *iu, struct qi_batch *b)
{
	uint64_t start;
	uint32_t seq;
	int err = 0, ret;
	bool rewait = false;

	if (b->err)
		return b->err;
	pthread_mutex_lock(&iu->qi_lock);
	for (unsigned i = 0; i < b->n; i++) {
		ret = qi_put(iu, b->d[i].qw0, b->d[i].qw1, &err);
		if (ret) {
			err = ret;
			goto out;
		}
	}
	ret = qi_put_wait(iu, &seq, &err);
	if (ret) {
		err = ret;
		goto out;
	}
	atomic_fetch_add(&iu->st.qi_batches, 1);
	wr64(iu, VTD_IQT, iu->iq_tail);
	start = now_ns();
	while (qi_status(iu) != seq) {
		int e = qi_check(iu, &rewait);

		if (e)
			err = e;
		if (rewait) {
			/* The wait may have been aborted: queue another one. */
			rewait = false;
			if (qi_put_wait(iu, &seq, &err))
				break;
			wr64(iu, VTD_IQT, iu->iq_tail);
		}
		if (now_ns() - start > POLL_NS) {
			err = -ETIMEDOUT;
			break;
		}
		sched_yield();
	}
out:
	pthread_mutex_unlock(&iu->qi_lock);
	/* While IQE or ITE was set, a new fault raised no event (facts §1.9): look
	 * at the fault records now. */
	if (err && (rd32(iu, VTD_FSTS) & FSTS_PPF))
		fault_event(iu);
	return err;
}

/* ---- descriptors ---------------------------------------------------------------------------- */

static uint64_t desc_cc_device(uint16_t sid)
{
	return QI_CC | FIELD_PREP(QI_G, 3) | FIELD_PREP(QI_CC_SID, sid);
}

static uint64_t desc_pc_pasid(uint16_t did, uint32_t pasid)
{
	return QI_PC | FIELD_PREP(QI_G, 1) | FIELD_PREP(QI_DID, did) | FIELD_PREP(QI_PASID, pasid);
}

static uint64_t desc_iotlb_domain(uint16_t did)
{
	return QI_IOTLB | FIELD_PREP(QI_G, 2) | FIELD_PREP(QI_DID, did);
}

static uint64_t desc_piotlb_pasid(uint16_t did, uint32_t pasid)
{
	return QI_PIOTLB | FIELD_PREP(QI_G, 2) | FIELD_PREP(QI_DID, did) |
	       FIELD_PREP(QI_PASID, pasid);
}

/* PFSID: the function's own RID (no virtual functions here). */
static uint64_t pfsid(uint16_t sid)
{
	return FIELD_PREP(QI_DT_PFSID_LO, sid & 0xf) | FIELD_PREP(QI_DT_PFSID_HI, sid >> 4);
}

/*
 * The ADDR/S encoding of a device-TLB invalidation (types 3 and 8, facts §4.2)
 * for the block [base, base + 2^(12 + order)): order 0 is one page with S = 0;
 * otherwise S = 1 and the address bits below the size bit are set, so the
 * lowest zero bit at or above bit 12 is bit 12 + order - 1. ORDER_ALL and above:
 * bits 62:12 all ones, the whole address space.
 */
static uint64_t devtlb_addr(uint64_t base, unsigned order, bool *s)
{
	if (order >= ORDER_ALL) {
		*s = true;
		return GENMASK(62, 12);
	}
	if (!order) {
		*s = false;
		return base & QI_ADDR;
	}
	*s = true;
	return (base | (BIT(12 + order - 1) - 1)) & QI_ADDR;
}

/* Device-TLB invalidation of requests without PASID (type 3) or of one PASID
 * (type 8, G = 0). */
static void add_devtlb(struct qi_batch *b, uint16_t sid, bool pasid_valid, uint32_t pasid,
		       uint64_t base, unsigned order)
{
	bool s;
	uint64_t addr = devtlb_addr(base, order, &s);

	/* MIP 0: the endpoint's invalidate queue depth is not limited here. */
	if (!pasid_valid)
		batch_add(b, QI_DEV_TLB | FIELD_PREP(QI_DT_SID, sid) | pfsid(sid),
			  addr | (s ? QI_DT_S : 0));
	else
		batch_add(b, QI_PDEV_TLB | FIELD_PREP(QI_PDT_SID, sid) |
			  FIELD_PREP(QI_PASID, pasid) | pfsid(sid),
			  addr | (s ? QI_PDT_S : 0));
}

/* The smallest naturally aligned block of 2^order pages holding [iova, iova + size). */
static unsigned covering_order(uint64_t iova, uint64_t size, uint64_t *base)
{
	uint64_t first = iova >> 12, last = (iova + (size ? size - 1 : 0)) >> 12;
	unsigned order = first == last ? 0 : 64 - (unsigned)__builtin_clzll(first ^ last);

	if (order >= ORDER_ALL) {
		*base = 0;
		return ORDER_ALL;
	}
	*base = (first >> order) << (order + 12);
	return order;
}

/* ---- RID map ----------------------------------------------------------------------------- */

static struct intel_dev *rid_get(struct intel_unit *iu, uint16_t rid)
{
	struct intel_dev *idev = NULL;

	pthread_mutex_lock(&iu->rid_lock);
	if (iu->rid_map[rid >> 8])
		idev = iu->rid_map[rid >> 8][rid & 0xff];
	if (idev)
		atomic_fetch_add(&idev->refs, 1);
	pthread_mutex_unlock(&iu->rid_lock);
	return idev;
}

static void rid_put(struct intel_dev *idev)
{
	atomic_fetch_sub(&idev->refs, 1);
}

static bool rid_taken(struct intel_unit *iu, uint16_t rid)
{
	bool taken;

	pthread_mutex_lock(&iu->rid_lock);
	taken = iu->rid_map[rid >> 8] && iu->rid_map[rid >> 8][rid & 0xff];
	pthread_mutex_unlock(&iu->rid_lock);
	return taken;
}

static int rid_insert(struct intel_unit *iu, struct intel_dev *idev)
{
	uint16_t rid = idev->rid;
	int ret = 0;

	pthread_mutex_lock(&iu->rid_lock);
	if (!iu->rid_map[rid >> 8])
		iu->rid_map[rid >> 8] = calloc(256, sizeof(struct intel_dev *));
	if (!iu->rid_map[rid >> 8])
		ret = -ENOMEM;
	else
		iu->rid_map[rid >> 8][rid & 0xff] = idev;
	pthread_mutex_unlock(&iu->rid_lock);
	return ret;
}

/* Removes idev and waits until no interrupt handler uses it any more. */
static void rid_remove(struct intel_unit *iu, struct intel_dev *idev)
{
	pthread_mutex_lock(&iu->rid_lock);
	if (iu->rid_map[idev->rid >> 8])
		iu->rid_map[idev->rid >> 8][idev->rid & 0xff] = NULL;
	pthread_mutex_unlock(&iu->rid_lock);
	while (atomic_load(&idev->refs))
		sched_yield();
}

/* ---- faults --------------------------------------------------------------------------------- */

/*
 * VT-d fault reason -> enum iommu_fault_reason. The generic reasons describe what
 * a user (a guest's vIOMMU) can act on; faults in structures the host owns
 * (root table, context entry: 0x30-0x44, 0x47, 0x48) and the interrupt-range
 * block (0x87) have no generic equivalent and are UNKNOWN.
 *   0x45 PASIDE = 0, 0x46 PASID beyond the directory,
 *   0x51 directory entry not present, 0x59 PASID entry not present
 *                                               -> PASID_INVALID (PASID disabled)
 *   0x50 directory entry, 0x58 PASID entry unreadable      -> PASID_FETCH
 *   0x52, 0x5a reserved bits, 0x5b invalid programming     -> BAD_PASID_ENTRY
 *   0x5c ERE = 0, 0x5d SRE = 0 (the entry forbids the request type),
 *   0x75-0x77 second stage denies a first-stage table access,
 *   0x81 U/S, 0x82 execute, 0x85 write, 0x86 read           -> PERMISSION
 *   0x70/0x73, 0x78/0x7b table unreadable,
 *   0x7c/0x7d, 0x90/0x91 A/D update impossible               -> WALK_EABT
 *   0x71/0x79 not present, 0x72/0x7a reserved bits,
 *   0x80 non-canonical input (no valid leaf for it)          -> PTE_FETCH
 *   0x74 table GPA, 0x83 input beyond HAW, 0x84 beyond AGAW -> OOR_ADDRESS
 * ACCESS (an access-flag fault) has no VT-d counterpart.
 */
static uint32_t fr_reason(uint8_t fr)
{
	switch (fr) {
	case 0x45: case 0x46: case 0x51: case 0x59:
		return IOMMU_FAULT_REASON_PASID_INVALID;
	case 0x50: case 0x58:
		return IOMMU_FAULT_REASON_PASID_FETCH;
	case 0x52: case 0x5a: case 0x5b:
		return IOMMU_FAULT_REASON_BAD_PASID_ENTRY;
	case 0x5c: case 0x5d: case 0x75: case 0x76: case 0x77:
	case 0x81: case 0x82: case 0x85: case 0x86:
		return IOMMU_FAULT_REASON_PERMISSION;
	case 0x70: case 0x73: case 0x78: case 0x7b:
	case 0x7c: case 0x7d: case 0x90: case 0x91:
		return IOMMU_FAULT_REASON_WALK_EABT;
	case 0x71: case 0x72: case 0x79: case 0x7a: case 0x80:
		return IOMMU_FAULT_REASON_PTE_FETCH;
	case 0x74: case 0x83: case 0x84:
		return IOMMU_FAULT_REASON_OOR_ADDRESS;
	default:
		return IOMMU_FAULT_REASON_UNKNOWN;
	}
}

/* A fault record (lo, hi) as the generic unrecoverable fault. */
static void fault_from_record(uint64_t lo, uint64_t hi, struct iommu_fault *f)
{
	bool t2 = hi & FRCD_HI_T2, t1 = hi & FRCD_HI_T1;
	uint32_t perm;

	memset(f, 0, sizeof(*f));
	f->type = IOMMU_FAULT_DMA_UNRECOV;
	f->event.reason = fr_reason((uint8_t)FIELD_GET(FRCD_HI_FR, hi));
	/* (T2, T1): write 00, read 01, page request 10 (no data access), AtomicOp 11. */
	if (!t2)
		perm = t1 ? IOMMU_FAULT_PERM_READ : IOMMU_FAULT_PERM_WRITE;
	else
		perm = t1 ? IOMMU_FAULT_PERM_READ | IOMMU_FAULT_PERM_WRITE : 0;
	if (hi & FRCD_HI_EXE)
		perm |= IOMMU_FAULT_PERM_EXEC;
	if (hi & FRCD_HI_PRIV)
		perm |= IOMMU_FAULT_PERM_PRIV;
	f->event.perm = perm;
	f->event.flags = IOMMU_FAULT_UNRECOV_ADDR_VALID;
	if (hi & FRCD_HI_PP) {
		f->event.flags |= IOMMU_FAULT_UNRECOV_PASID_VALID;
		f->event.pasid = (uint32_t)FIELD_GET(FRCD_HI_PV, hi);
	}
	f->event.addr = lo & FRCD_LO_FI;
}

/*
 * The fault event: reads every pending record from FRI on (facts §1.10-1.11),
 * clears its F (RW1C), clears PFO (and ICE), and reports the records after
 * fault_lock is released. Loops until FSTS shows neither PPF nor PFO, so a fault
 * recorded while PPF was still set (which raises no event) is not left behind.
 */
static void fault_event(struct intel_unit *iu)
{
	struct {
		uint64_t lo, hi;
	} rec[256];

	/* No bound on the passes: leaving with PPF set would lose every later
	 * fault (only PPF 0 -> 1 raises the event). Each pass clears what it saw. */
	for (;;) {
		unsigned n = 0;
		uint32_t fsts;

		pthread_mutex_lock(&iu->fault_lock);
		fsts = rd32(iu, VTD_FSTS);
		if (fsts & FSTS_PFO) {
			/* Records were lost; the ones held are still read below. */
			wr32(iu, VTD_FSTS, FSTS_PFO);
			atomic_fetch_add(&iu->st.fault_overflows, 1);
		}
		if (fsts & FSTS_ICE)
			wr32(iu, VTD_FSTS, FSTS_ICE);   /* nothing to retry (the kernel clears it) */
		if (fsts & FSTS_PPF) {
			unsigned fri = (unsigned)FIELD_GET(FSTS_FRI, fsts);

			if (fri >= iu->nfr)
				fri = 0;
			for (unsigned i = 0; i < iu->nfr && n < ARRAY_SIZE(rec); i++) {
				uint32_t off = iu->frcd + 16 * ((fri + i) % iu->nfr);
				uint64_t hi = rd64(iu, off + 8);

				if (!(hi & FRCD_HI_F))
					continue;
				rec[n].lo = rd64(iu, off);
				rec[n].hi = hi;
				n++;
				wr64(iu, off + 8, FRCD_HI_F);
			}
		}
		pthread_mutex_unlock(&iu->fault_lock);

		for (unsigned i = 0; i < n; i++) {
			uint16_t sid = (uint16_t)FIELD_GET(FRCD_HI_SID, rec[i].hi);
			struct intel_dev *idev = rid_get(iu, sid);
			struct iommu_fault f;

			atomic_fetch_add(&iu->st.faults, 1);
			if (!idev) {
				atomic_fetch_add(&iu->st.faults_unknown, 1);
				continue;
			}
			fault_from_record(rec[i].lo, rec[i].hi, &f);
			iommu_report_fault(idev->dev, &f);
			rid_put(idev);
		}
		if (!n && !(fsts & (FSTS_PPF | FSTS_PFO)))
			return;
	}
}

/* ---- page requests ------------------------------------------------------------------------- */

static int send_page_response(struct intel_unit *iu, uint16_t rid, bool pasid_valid,
			      uint32_t pasid, uint32_t grpid, unsigned rc)
{
	struct qi_batch b = { 0 };
	int ret;

	batch_add(&b, QI_PGRP_RESP | (pasid_valid ? QI_PGR_PP | FIELD_PREP(QI_PASID, pasid) : 0) |
		      FIELD_PREP(QI_PGR_RC, rc) | FIELD_PREP(QI_PGR_RID, rid),
		  QI_PGR_LPIG | FIELD_PREP(QI_PGR_PRGI, grpid));
	ret = qi_submit(iu, &b);
	batch_free(&b);
	return ret;
}

static void prq_handle(struct intel_unit *iu, uint64_t qw0, uint64_t qw1)
{
	uint16_t rid = (uint16_t)FIELD_GET(PRQ_RID, qw0);
	bool pp = qw0 & PRQ_PP, lpig = qw1 & PRQ_LPIG;
	bool r = qw1 & PRQ_R, w = qw1 & PRQ_W;
	uint32_t pasid = (uint32_t)FIELD_GET(PRQ_PASID, qw0);
	uint32_t prgi = (uint32_t)FIELD_GET(PRQ_PRGI, qw1);
	struct intel_dev *idev;
	struct iommu_fault f;

	atomic_fetch_add(&iu->st.page_requests, 1);
	if (FIELD_GET(PRQ_TYPE, qw0) != 1)
		return;                         /* not a page request descriptor */
	if (lpig && !r && !w) {
		/* Stop marker: queued like a request, answered by nobody. */
		atomic_fetch_add(&iu->st.prq_stop_markers, 1);
		return;
	}
	idev = rid_get(iu, rid);
	if (!idev) {
		atomic_fetch_add(&iu->st.prq_unknown, 1);
		if (lpig)
			send_page_response(iu, rid, pp, pasid, prgi, DEV_PRG_INVALID);
		return;
	}
	memset(&f, 0, sizeof(f));
	f.type = IOMMU_FAULT_PAGE_REQ;
	if (pp) {
		f.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
			       IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;
		f.prm.pasid = pasid;
	}
	if (lpig)
		f.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	f.prm.grpid = prgi;
	f.prm.perm = (r ? IOMMU_FAULT_PERM_READ : 0) | (w ? IOMMU_FAULT_PERM_WRITE : 0) |
		     ((qw0 & PRQ_EXE) ? IOMMU_FAULT_PERM_EXEC : 0) |
		     ((qw0 & PRQ_PRIV) ? IOMMU_FAULT_PERM_PRIV : 0);
	f.prm.addr = qw1 & PRQ_ADDR;
	iommu_report_fault(idev->dev, &f);
	rid_put(idev);
}

/*
 * The page-request event (facts §5, the kernel's prq_event_thread): PPR cleared
 * first, so that a request queued from then on raises a new event; the
 * descriptors from PQH to PQT read, PQH moved past them; PRO cleared once the
 * queue is empty. The requests are handled after prq_lock is released.
 */
static void prq_event(struct intel_unit *iu)
{
	struct qi_desc rec[PRQ_BATCH];
	bool more = true;

	while (more) {
		unsigned n = 0;
		uint64_t head, tail;

		pthread_mutex_lock(&iu->prq_lock);
		wr32(iu, VTD_PRS, PRS_PPR);
		head = rd64(iu, VTD_PQH) & PQ_PTR;
		tail = rd64(iu, VTD_PQT) & PQ_PTR;
		while (head != tail && n < PRQ_BATCH) {
			rec[n].qw0 = get(iu, iu->pq + head);
			rec[n].qw1 = get(iu, iu->pq + head + 8);
			n++;
			head = (head + PRQ_DESC_BYTES) % iu->pq_bytes;
		}
		wr64(iu, VTD_PQH, head);
		more = head != tail;
		if (!more && (rd32(iu, VTD_PRS) & PRS_PRO) &&
		    (rd64(iu, VTD_PQT) & PQ_PTR) == head) {
			wr32(iu, VTD_PRS, PRS_PRO);
			atomic_fetch_add(&iu->st.prq_overflows, 1);
		}
		pthread_mutex_unlock(&iu->prq_lock);

		for (unsigned i = 0; i < n; i++)
			prq_handle(iu, rec[i].qw0, rec[i].qw1);
	}
}

static void event_cb(void *ctx, enum vtd_event ev)
{
	struct intel_unit *iu = ctx;

	switch (ev) {
	case VTD_EVENT_FAULT:
		fault_event(iu);
		break;
	case VTD_EVENT_PAGE_REQUEST:
		prq_event(iu);
		break;
	default:
		break;                          /* invalidation waits are polled */
	}
}

static int intel_page_response(struct iommu_device *dev, bool pasid_valid, uint32_t pasid,
			       uint32_t grpid, enum iommu_page_response_code code)
{
	struct intel_unit *iu = dev->unit->drv;
	unsigned rc;

	/* Response code of the page group response descriptor (facts §4.2, 0x9). */
	switch (code) {
	case IOMMU_PAGE_RESP_SUCCESS:
		rc = DEV_PRG_SUCCESS;
		break;
	case IOMMU_PAGE_RESP_INVALID:
		rc = DEV_PRG_INVALID;
		break;
	case IOMMU_PAGE_RESP_FAILURE:
		rc = DEV_PRG_FAILURE;
		break;
	default:
		return -EINVAL;
	}
	if (grpid > FIELD_GET(QI_PGR_PRGI, QI_PGR_PRGI) || pasid >= BIT(20))
		return -EINVAL;
	return send_page_response(iu, dev->rid, pasid_valid, pasid, grpid, rc);
}

/* ---- domain IDs ---------------------------------------------------------------------------- */

static int did_alloc(struct intel_unit *iu, uint16_t *did)
{
	for (unsigned w = 0; w < (iu->ndids + 63) / 64; w++) {
		uint64_t free_bits = ~iu->did_map[w];
		unsigned bit;

		if (!free_bits)
			continue;
		bit = (unsigned)__builtin_ctzll(free_bits);
		if (w * 64 + bit >= iu->ndids)
			break;
		iu->did_map[w] |= BIT(bit);
		*did = (uint16_t)(w * 64 + bit);
		return 0;
	}
	return -ENOSPC;                         /* the kernel's "no free domain ids" */
}

static void did_free(struct intel_unit *iu, uint16_t did)
{
	iu->did_map[did / 64] &= ~BIT(did % 64);
}

/* ---- PASID tables ---------------------------------------------------------------------------- */

/* The PASID entry of pasid, its table allocated (and the directory entry made
 * present) when alloc; 0 if there is none. */
static uint64_t pasid_entry(struct intel_unit *iu, struct intel_dev *idev, uint32_t pasid,
			    bool alloc, int *err)
{
	unsigned di = pasid >> 6;
	uint64_t t;

	if (di >= idev->ntables) {
		*err = -EINVAL;
		return 0;
	}
	t = idev->tables[di];
	if (!t) {
		if (!alloc)
			return 0;
		*err = mem_frames_alloc(iu->pool, PAGE, &t);
		if (*err)
			return 0;
		idev->tables[di] = t;
		/* Not present -> present: nothing can be cached (CM = 0). */
		put(iu, idev->dir + 8 * (uint64_t)di, t | PDE_P);
	}
	return t + 64 * (uint64_t)(pasid & 63);
}

/* The endpoint's device TLB is in use: DTE set and ATS enabled on it. */
static bool ats_on(struct intel_dev *idev)
{
	return idev->dte && dev_ep_ats_enabled(idev->dev->ep);
}

/*
 * Clears a present PASID entry and queues the invalidations the spec asks for
 * (see the file comment); the caller submits (one wait). pasid_valid false is
 * the RID_PASID entry, whose device-TLB entries are those of requests without
 * PASID (type 3).
 */
static void pasid_teardown(struct intel_unit *iu, struct intel_dev *idev, uint64_t pe,
			   bool pasid_valid, uint32_t pasid, struct qi_batch *b)
{
	uint64_t w0 = get(iu, pe), w1 = get(iu, pe + 8);
	uint16_t did = (uint16_t)FIELD_GET(PTE1_DID, w1);
	unsigned pgtt = (unsigned)FIELD_GET(PTE0_PGTT, w0);
	uint32_t epasid = pasid_valid ? pasid : RID_PASID;

	put(iu, pe, 0);
	for (unsigned i = 1; i < 8; i++)
		put(iu, pe + 8 * i, 0);
	batch_add(b, desc_pc_pasid(did, epasid), 0);
	if (pgtt == PGTT_FS || pgtt == PGTT_PT)
		batch_add(b, desc_piotlb_pasid(did, epasid), 0);
	else
		batch_add(b, desc_iotlb_domain(did), 0);
	if (ats_on(idev))
		add_devtlb(b, idev->rid, pasid_valid, pasid, 0, ORDER_ALL);
}

/* The PASID-entry words for domain d (word 0 with P). */
static void pasid_words(struct intel_unit *iu, struct iommu_domain *d, uint64_t w[3])
{
	struct intel_domain *nd = d->drv;
	uint64_t pwsnp = (iu->ecap & ECAP_SMPWCS) ? PTE1_PWSNP : 0;

	w[0] = w[1] = w[2] = 0;
	if (nd->nested) {
		struct iommu_domain *p = d->parent;
		const struct iommu_user_s1 *s1 = &d->s1;
		uint32_t fl = s1->vtd.flags;

		w[0] = (p->root & PTE0_SLPTPTR) | FIELD_PREP(PTE0_PGTT, PGTT_NESTED) |
		       FIELD_PREP(PTE0_AW, nd->parent->aw) | PTE0_P;
		w[1] = FIELD_PREP(PTE1_DID, nd->did) | pwsnp;
		if (fl & IOMMU_VTD_S1_CD)
			w[1] |= PTE1_CD;
		if (fl & IOMMU_VTD_S1_EMTE)
			w[1] |= PTE1_EMTE;
		if (fl & IOMMU_VTD_S1_PWT)
			w[1] |= PTE1_PWT;
		if (fl & IOMMU_VTD_S1_PCD)
			w[1] |= PTE1_PCD;
		if (iu->ecap & ECAP_MTS)
			w[1] |= FIELD_PREP(PTE1_EMT, s1->vtd.emt) | FIELD_PREP(PTE1_PAT, s1->vtd.pat);
		w[2] = (s1->vtd.pgtbl & PTE2_FLPTPTR) |
		       FIELD_PREP(PTE2_FLPM, s1->vtd.addr_width == 57 ? 1 : 0);
		if (fl & IOMMU_VTD_S1_SRE) {
			w[2] |= PTE2_SRE;
			if (fl & IOMMU_VTD_S1_WPE)
				w[2] |= PTE2_WPE;
		}
		if (fl & IOMMU_VTD_S1_EAFE)
			w[2] |= PTE2_EAFE;
	} else if (nd->first_stage) {
		w[0] = FIELD_PREP(PTE0_PGTT, PGTT_FS) | FIELD_PREP(PTE0_AW, iu->ss_levels ?
								  iu->ss_levels - 2 : 0) | PTE0_P;
		w[1] = FIELD_PREP(PTE1_DID, nd->did) | pwsnp;
		w[2] = (d->root & PTE2_FLPTPTR) |
		       FIELD_PREP(PTE2_FLPM, d->fmt.levels == 5 ? 1 : 0);
	} else {
		w[0] = (d->root & PTE0_SLPTPTR) | FIELD_PREP(PTE0_PGTT, PGTT_SS) |
		       FIELD_PREP(PTE0_AW, nd->aw) | PTE0_P;
		w[1] = FIELD_PREP(PTE1_DID, nd->did) | pwsnp;
	}
}

/* Attach d at pasid (pasid_valid) or at RID_PASID, replacing what is there. */
static int set_entry(struct intel_unit *iu, struct intel_dev *idev, bool pasid_valid,
		     uint32_t pasid, struct iommu_domain *d, struct iommu_domain *old)
{
	uint32_t epasid = pasid_valid ? pasid : RID_PASID;
	struct qi_batch b = { 0 };
	uint64_t w[3], pe;
	int err = 0;

	pe = pasid_entry(iu, idev, epasid, true, &err);
	if (!pe)
		return err;
	if (get(iu, pe) & PTE0_P) {
		/* Present, and not the core's: someone else owns this PASID. */
		if (!old)
			return -EBUSY;
		pasid_teardown(iu, idev, pe, pasid_valid, pasid, &b);
		err = qi_submit(iu, &b);
		batch_free(&b);
		if (err)
			return err;
	}
	pasid_words(iu, d, w);
	put(iu, pe + 8, w[1]);
	put(iu, pe + 16, w[2]);
	for (unsigned i = 3; i < 8; i++)
		put(iu, pe + 8 * i, 0);
	put(iu, pe, w[0]);
	if (iu->cap & CAP_CM) {
		/* Caching mode caches not-present entries: the kernel's
		 * pasid_flush_caches. */
		uint16_t did = (uint16_t)FIELD_GET(PTE1_DID, w[1]);

		batch_add(&b, desc_pc_pasid(did, epasid), 0);
		if (((struct intel_domain *)d->drv)->first_stage)
			batch_add(&b, desc_piotlb_pasid(did, epasid), 0);
		else
			batch_add(&b, desc_iotlb_domain(did), 0);
		err = qi_submit(iu, &b);
		batch_free(&b);
	}
	return err;
}

static void clear_entry(struct intel_unit *iu, struct intel_dev *idev, bool pasid_valid,
			uint32_t pasid)
{
	struct qi_batch b = { 0 };
	int err = 0;
	uint64_t pe = pasid_entry(iu, idev, pasid_valid ? pasid : RID_PASID, false, &err);

	if (!pe || !(get(iu, pe) & PTE0_P))
		return;
	pasid_teardown(iu, idev, pe, pasid_valid, pasid, &b);
	qi_submit(iu, &b);
	batch_free(&b);
}

/* ---- devices ------------------------------------------------------------------------------- */

static int intel_probe_device(struct iommu_unit *u, struct iommu_device *dev)
{
	struct intel_unit *iu = u->drv;
	const struct dev_ep_config *caps = &dev->caps;
	uint16_t rid = dev->rid;
	unsigned bus = rid >> 8, half = (rid & 0xff) >> 7;
	struct intel_dev *idev;
	bool new_ctx = false;
	uint64_t alloc;
	int ret;

	if (rid_taken(iu, rid))
		return -EEXIST;
	idev = calloc(1, sizeof(*idev));
	if (!idev)
		return -ENOMEM;
	idev->dev = dev;
	idev->rid = rid;
	idev->paside = (iu->ecap & ECAP_PASID) && caps->pasid_bits;
	idev->pasid_width = idev->paside ? (caps->pasid_bits < iu->pasid_bits ? caps->pasid_bits
									     : iu->pasid_bits) : 0;
	/* 2^(PDTS + 7) directory entries of 64 PASIDs each cover 2^(PDTS + 13). */
	idev->pdts = idev->pasid_width > 13 ? idev->pasid_width - 13 : 0;
	idev->ntables = 1u << (idev->pdts + 7);
	idev->dir_bytes = 8ull * idev->ntables;
	idev->dte = (iu->ecap & ECAP_DT) && caps->ats;
	idev->pre = (iu->ecap & ECAP_PRS) && caps->pri;
	idev->tables = calloc(idev->ntables, sizeof(uint64_t));
	if (!idev->tables) {
		free(idev);
		return -ENOMEM;
	}
	alloc = idev->dir_bytes < PAGE ? PAGE : idev->dir_bytes;
	ret = mem_frames_alloc(iu->pool, alloc, &idev->dir);
	if (ret)
		goto fail;
	if (!iu->ctx[bus][half]) {
		ret = mem_frames_alloc(iu->pool, PAGE, &iu->ctx[bus][half]);
		if (ret)
			goto fail;
		new_ctx = true;
	}
	ret = rid_insert(iu, idev);
	if (ret)
		goto fail;
	if (new_ctx)
		put(iu, iu->root + 16 * (uint64_t)bus + 8 * half, iu->ctx[bus][half] | RE_P);
	idev->ce = iu->ctx[bus][half] + 32 * (uint64_t)(rid & 0x7f);
	put(iu, idev->ce + 8, FIELD_PREP(CE1_RID_PASID, RID_PASID));
	put(iu, idev->ce + 16, 0);
	put(iu, idev->ce + 24, 0);
	put(iu, idev->ce, idev->dir | FIELD_PREP(CE0_PDTS, idev->pdts) |
			  (idev->pre ? CE0_PRE : 0) | (idev->paside ? CE0_PASIDE : 0) |
			  (idev->dte ? CE0_DTE : 0) | CE0_P);
	if (iu->cap & CAP_CM) {
		struct qi_batch b = { 0 };

		batch_add(&b, desc_cc_device(rid), 0);
		qi_submit(iu, &b);
		batch_free(&b);
	}
	/* The capabilities the kernel enables when the device joins (PASID before
	 * ATS; PRI with the page request queue). */
	if (idev->paside)
		idev->pasid_on = !dev_ep_enable_pasid(dev->ep, true);
	if (idev->dte)
		idev->ats_on = !dev_ep_enable_ats(dev->ep, true);
	if (idev->pre)
		idev->pri_on = !dev_ep_enable_pri(dev->ep, true);
	dev->drv = idev;
	return 0;

fail:
	if (new_ctx) {
		mem_frames_free(iu->pool, iu->ctx[bus][half], PAGE);
		iu->ctx[bus][half] = 0;
	}
	if (idev->dir)
		mem_frames_free(iu->pool, idev->dir, alloc);
	free(idev->tables);
	free(idev);
	return ret;
}

static void intel_release_device(struct iommu_unit *u, struct iommu_device *dev)
{
	struct intel_unit *iu = u->drv;
	struct intel_dev *idev = dev->drv;
	struct qi_batch b = { 0 };

	if (!idev)
		return;
	/* Whatever the core left attached (nothing, by its contract). */
	for (unsigned t = 0; t < idev->ntables; t++) {
		if (!idev->tables[t])
			continue;
		for (unsigned i = 0; i < 64; i++) {
			uint32_t pasid = t * 64 + i;
			uint64_t pe = idev->tables[t] + 64 * (uint64_t)i;

			if (get(iu, pe) & PTE0_P)
				pasid_teardown(iu, idev, pe, pasid != RID_PASID, pasid, &b);
		}
	}
	/* The context entry (present -> not present), then the context cache for
	 * this SID and the function's whole device TLB. */
	put(iu, idev->ce, 0);
	for (unsigned i = 1; i < 4; i++)
		put(iu, idev->ce + 8 * i, 0);
	batch_add(&b, desc_cc_device(idev->rid), 0);
	if (ats_on(idev))
		add_devtlb(&b, idev->rid, false, 0, 0, ORDER_ALL);
	qi_submit(iu, &b);
	batch_free(&b);

	if (idev->pri_on)
		dev_ep_enable_pri(dev->ep, false);
	if (idev->ats_on)
		dev_ep_enable_ats(dev->ep, false);
	if (idev->pasid_on)
		dev_ep_enable_pasid(dev->ep, false);
	rid_remove(iu, idev);
	for (unsigned t = 0; t < idev->ntables; t++)
		if (idev->tables[t])
			mem_frames_free(iu->pool, idev->tables[t], PAGE);
	mem_frames_free(iu->pool, idev->dir, idev->dir_bytes < PAGE ? PAGE : idev->dir_bytes);
	free(idev->tables);
	free(idev);
	dev->drv = NULL;
}

/* ---- domains ----------------------------------------------------------------------------- */

/* The vtd.flags this driver knows. */
#define S1_MT_FLAGS  (IOMMU_VTD_S1_PCD | IOMMU_VTD_S1_PWT | IOMMU_VTD_S1_EMTE | IOMMU_VTD_S1_CD)
#define S1_FLAGS     (IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_EAFE | IOMMU_VTD_S1_WPE | S1_MT_FLAGS)

/*
 * A user first stage over parent, checked as the kernel checked it
 * (v5.8/5.9 intel_pasid_setup_nested + intel_pasid_setup_bind_data +
 * intel_svm_bind_gpasid; today's nested.c / intel_pasid_setup_nested):
 *  - no ECAP.NEST: -EOPNOTSUPP (today's kernel refuses the nest parent and the
 *    nested domain with EOPNOTSUPP; v5.8 said EINVAL at setup);
 *  - flags unknown to the driver: -EINVAL (5.9: "no undefined flags ... in
 *    vendor data");
 *  - addr_width neither 48 nor 57, or 57 without CAP.FL5LP: -EINVAL;
 *  - SRE without ECAP.SRS, EAFE without ECAP.EAFS: -EINVAL;
 *  - WPE without SRE: -EINVAL. Departure: the kernel silently drops WPE without
 *    SRE (it sets WPE only inside the SRE branch); vsva refuses what it would
 *    not program;
 *  - a memory-type flag, or a non-zero pat or emt, without ECAP.MTS: -EINVAL
 *    (5.9: "No memory type support"); emt above 7 (the 3-bit EMT): -EINVAL;
 *  - the first-stage root GPA beyond the parent's input range: -EINVAL (v5.8:
 *    "Guest PGD ... not supported, max ...").
 */
static int nested_check(struct intel_unit *iu, struct iommu_domain *d)
{
	const struct iommu_user_s1 *s1 = &d->s1;
	struct iommu_domain *p = d->parent;
	uint32_t fl = s1->vtd.flags;

	if (!p || p->type != IOMMU_DOMAIN_PAGING || !(p->flags & IOMMU_DOMAIN_F_NEST_PARENT) ||
	    p->unit != iu->unit || s1->vendor != IOMMU_VENDOR_INTEL_VTD)
		return -EINVAL;
	if (!(iu->ecap & ECAP_NEST))
		return -EOPNOTSUPP;
	if (fl & ~(uint32_t)S1_FLAGS)
		return -EINVAL;
	if (s1->vtd.addr_width != 48 && s1->vtd.addr_width != 57)
		return -EINVAL;
	if (s1->vtd.addr_width == 57 && !(iu->cap & CAP_FL5LP))
		return -EINVAL;
	if ((fl & IOMMU_VTD_S1_SRE) && !(iu->ecap & ECAP_SRS))
		return -EINVAL;
	if ((fl & IOMMU_VTD_S1_EAFE) && !(iu->ecap & ECAP_EAFS))
		return -EINVAL;
	if ((fl & IOMMU_VTD_S1_WPE) && !(fl & IOMMU_VTD_S1_SRE))
		return -EINVAL;
	if (((fl & S1_MT_FLAGS) || s1->vtd.pat || s1->vtd.emt) && !(iu->ecap & ECAP_MTS))
		return -EINVAL;
	if (s1->vtd.emt > 7)
		return -EINVAL;
	if (p->fmt.ia_bits < 64 && (s1->vtd.pgtbl >> p->fmt.ia_bits))
		return -EINVAL;
	return 0;
}

static int intel_domain_init(struct iommu_unit *u, struct iommu_domain *d)
{
	struct intel_unit *iu = u->drv;
	struct intel_domain *nd;
	struct pgt_cfg cfg = { 0 };
	int ret;

	if (d->type == IOMMU_DOMAIN_NESTED) {
		struct intel_domain *pd;

		ret = nested_check(iu, d);
		if (ret)
			return ret;
		nd = calloc(1, sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		pd = d->parent->drv;
		nd->dom = d;
		nd->nested = true;
		nd->did = pd->did;
		nd->parent = pd;
		nd->next_child = pd->children;
		pd->children = nd;
		/* The guest's table format, for information (walks, traces). */
		cfg.family = PGT_X86_FS;
		cfg.levels = d->s1.vtd.addr_width == 57 ? 5 : 4;
		cfg.oas = d->parent->fmt.ia_bits < iu->haw ? d->parent->fmt.ia_bits : iu->haw;
		cfg.flags = ((d->s1.vtd.flags & IOMMU_VTD_S1_WPE) ? PGT_CFG_WPE : 0) |
			    ((iu->cap & CAP_FL1GP) ? 0 : PGT_CFG_NO1G);
		if (pgt_fmt_init(&d->fmt, &cfg))
			memset(&d->fmt, 0, sizeof(d->fmt));
		d->drv = nd;
		return 0;
	}

	if ((d->flags & IOMMU_DOMAIN_F_FIRST_STAGE) && (d->flags & IOMMU_DOMAIN_F_NEST_PARENT))
		return -EINVAL;
	if (d->flags & IOMMU_DOMAIN_F_FIRST_STAGE) {
		if (!(iu->ecap & ECAP_FLTS))
			return -EOPNOTSUPP;
		cfg.family = PGT_X86_FS;
		cfg.levels = 4;
		cfg.oas = iu->haw;
		cfg.flags = (iu->cap & CAP_FL1GP) ? 0 : PGT_CFG_NO1G;
	} else {
		if (!(iu->ecap & ECAP_SLTS) || !iu->ss_levels)
			return -EOPNOTSUPP;
		if ((d->flags & IOMMU_DOMAIN_F_NEST_PARENT) && !(iu->ecap & ECAP_NEST))
			return -EOPNOTSUPP;
		cfg.family = PGT_VTD_SS;
		cfg.levels = iu->ss_levels;
		cfg.oas = iu->haw;
		cfg.flags = ((iu->cap & CAP_SLLPS_2M) ? 0 : PGT_CFG_NO2M) |
			    ((iu->cap & CAP_SLLPS_1G) ? 0 : PGT_CFG_NO1G) |
			    ((iu->ecap & ECAP_SC) ? 0 : PGT_CFG_NOSC);
	}
	ret = pgt_fmt_init(&d->fmt, &cfg);
	if (ret)
		return ret;
	nd = calloc(1, sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	ret = did_alloc(iu, &nd->did);
	if (ret) {
		free(nd);
		return ret;
	}
	nd->dom = d;
	nd->first_stage = d->flags & IOMMU_DOMAIN_F_FIRST_STAGE;
	nd->aw = nd->first_stage ? 0 : iu->ss_levels - 2;
	d->pgsize_bitmap = pgt_page_sizes(&d->fmt);
	d->drv = nd;
	return 0;
}

static void intel_domain_fini(struct iommu_unit *u, struct iommu_domain *d)
{
	struct intel_unit *iu = u->drv;
	struct intel_domain *nd = d->drv;

	if (!nd)
		return;
	if (nd->nested) {
		for (struct intel_domain **pp = &nd->parent->children; *pp; pp = &(*pp)->next_child) {
			if (*pp == nd) {
				*pp = nd->next_child;
				break;
			}
		}
	} else {
		did_free(iu, nd->did);
	}
	free(nd);
	d->drv = NULL;
}

/* ---- attach ------------------------------------------------------------------------------ */

static int intel_attach_dev(struct iommu_domain *d, struct iommu_device *dev,
			    struct iommu_domain *old)
{
	return set_entry(d->unit->drv, dev->drv, false, 0, d, old);
}

static void intel_detach_dev(struct iommu_domain *d, struct iommu_device *dev)
{
	clear_entry(d->unit->drv, dev->drv, false, 0);
}

static int intel_attach_dev_pasid(struct iommu_domain *d, struct iommu_device *dev,
				  uint32_t pasid, struct iommu_domain *old)
{
	struct intel_dev *idev = dev->drv;

	if (!idev->paside || pasid == RID_PASID || pasid >= BIT(idev->pasid_width))
		return -EINVAL;
	return set_entry(d->unit->drv, idev, true, pasid, d, old);
}

static void intel_detach_dev_pasid(struct iommu_domain *d, struct iommu_device *dev,
				   uint32_t pasid)
{
	clear_entry(d->unit->drv, dev->drv, true, pasid);
}

/* ---- invalidation ----------------------------------------------------------------------------- */

/* Device TLBs of d's attachments: block (base, order) for d's own; for nested
 * domains over d (their devices cache guest addresses) the whole space. */
static void flush_devtlbs(struct iommu_domain *d, uint64_t base, unsigned order,
			  struct qi_batch *b)
{
	for (struct iommu_attach *a = d->attached; a; a = a->next_in_domain) {
		struct intel_dev *idev = a->dev->drv;

		if (ats_on(idev))
			add_devtlb(b, idev->rid, a->pasid_valid, a->pasid, base, order);
	}
	for (struct intel_domain *c = ((struct intel_domain *)d->drv)->children; c;
	     c = c->next_child) {
		for (struct iommu_attach *a = c->dom->attached; a; a = a->next_in_domain) {
			struct intel_dev *idev = a->dev->drv;

			if (ats_on(idev))
				add_devtlb(b, idev->rid, a->pasid_valid, a->pasid, 0, ORDER_ALL);
		}
	}
}

static bool has_users(struct iommu_domain *d)
{
	if (d->attached)
		return true;
	for (struct intel_domain *c = ((struct intel_domain *)d->drv)->children; c;
	     c = c->next_child)
		if (c->dom->attached)
			return true;
	return false;
}

static void intel_flush_range(struct iommu_domain *d, uint64_t iova, uint64_t size)
{
	struct intel_unit *iu = d->unit->drv;
	struct intel_domain *nd = d->drv;
	struct qi_batch b = { 0 };
	uint64_t base;
	unsigned order = covering_order(iova, size, &base);

	if (d->type != IOMMU_DOMAIN_PAGING || !has_users(d))
		return;                         /* detaching invalidated everything */
	if (nd->first_stage) {
		/* Type 6 is tagged DID + PASID: one per attached PASID (RID_PASID for
		 * an attachment without PASID). */
		for (struct iommu_attach *a = d->attached; a; a = a->next_in_domain) {
			uint32_t pasid = a->pasid_valid ? a->pasid : RID_PASID;
			bool dup = false;

			for (struct iommu_attach *e = d->attached; e != a; e = e->next_in_domain)
				dup |= (e->pasid_valid ? e->pasid : RID_PASID) == pasid;
			if (dup)
				continue;
			if (order >= ORDER_ALL || order > iu->mamv)
				batch_add(&b, desc_piotlb_pasid(nd->did, pasid), 0);
			else
				batch_add(&b, QI_PIOTLB | FIELD_PREP(QI_G, 3) |
					      FIELD_PREP(QI_DID, nd->did) | FIELD_PREP(QI_PASID, pasid),
					  base | FIELD_PREP(QI_ADDR_AM, order));
		}
	} else if (!(iu->cap & CAP_PSI) || order >= ORDER_ALL || order > iu->mamv) {
		batch_add(&b, desc_iotlb_domain(nd->did), 0);
	} else {
		batch_add(&b, QI_IOTLB | FIELD_PREP(QI_G, 3) | FIELD_PREP(QI_DID, nd->did),
			  base | FIELD_PREP(QI_ADDR_AM, order));
	}
	flush_devtlbs(d, base, order, &b);
	qi_submit(iu, &b);
	batch_free(&b);
}

/* d is attached to dev at (pasid_valid, pasid). Under unit->lock. */
static bool attached_at(struct iommu_domain *d, struct iommu_device *dev, bool pasid_valid,
			uint32_t pasid)
{
	for (struct iommu_attach *a = dev->attached; a; a = a->next_in_dev)
		if (a->domain == d && a->pasid_valid == pasid_valid &&
		    (!pasid_valid || a->pasid == pasid))
			return true;
	return false;
}

/* ceil(log2(pages)) of granule_size * nb_granules bytes; ORDER_ALL when it
 * reaches or passes the whole address space. */
static unsigned inv_order(uint64_t granule_size, uint64_t nb_granules)
{
	unsigned gshift, nbits;

	if (!granule_size || !nb_granules)
		return 0;
	gshift = 63 - (unsigned)__builtin_clzll(granule_size);
	if (gshift < 12)
		gshift = 12;
	nbits = nb_granules == 1 ? 0 : 64 - (unsigned)__builtin_clzll(nb_granules - 1);
	return gshift - 12 + nbits >= ORDER_ALL ? ORDER_ALL : gshift - 12 + nbits;
}

/*
 * One generic invalidation (struct iommu_inv) for nested domain d as seen by dev,
 * appended to b. The seed's map as merged in v5.8 (intel_iommu_sva_invalidate,
 * reference/vtd.md), DID = the parent's, PASID = the host PASID given:
 *   IOTLB     x PASID -> PASID-based IOTLB, G=10 (all of the PASID)
 *   IOTLB     x ADDR  -> PASID-based IOTLB, G=11, AM = ceil(log2(bytes / 4 KiB)),
 *                        IH = LEAF; AM > CAP.MAMV -> the G=10 form
 *   DEV_IOTLB x ADDR  -> PASID-based device-TLB (type 8; type 3 for RID_PASID),
 *                        the same block, S-bit size encoding
 *   DEV_IOTLB x PASID -> the same, whole address space (vsva; see file comment)
 *   IOTLB with ATS on -> also the device-TLB invalidation (the kernel: "vIOMMU in
 *                        the guest may assume IOTLB flush is inclusive")
 *   DEV_IOTLB without ATS -> nothing to do, not an error (the kernel warns)
 *   any DOMAIN granularity, any PASID-cache request -> -EINVAL (the host owns
 *   the PASID cache); an address not aligned to its block -> -ERANGE (v5.8
 *   checked it for blocks above 4 KiB; vsva for 4 KiB too); a PASID (or, without
 *   one, RID_PASID) where d is not attached to dev -> -EINVAL.
 */
static int inv_entry(struct intel_unit *iu, struct iommu_domain *d, struct iommu_device *dev,
		     const struct iommu_inv *e, struct qi_batch *b)
{
	struct intel_dev *idev = dev->drv;
	uint16_t did = ((struct intel_domain *)d->drv)->did;
	uint32_t pasid = e->pasid_valid ? e->pasid : RID_PASID;
	bool iotlb = e->cache & IOMMU_CACHE_INV_TYPE_IOTLB;
	bool devtlb = e->cache & IOMMU_CACHE_INV_TYPE_DEV_IOTLB;
	unsigned order = ORDER_ALL;
	uint64_t base = 0;

	if (!e->cache || (e->cache & ~(unsigned)(IOMMU_CACHE_INV_TYPE_IOTLB |
						  IOMMU_CACHE_INV_TYPE_DEV_IOTLB)))
		return -EINVAL;
	if (e->granu != IOMMU_INV_GRANU_PASID && e->granu != IOMMU_INV_GRANU_ADDR)
		return -EINVAL;
	if (!attached_at(d, dev, e->pasid_valid, e->pasid))
		return -EINVAL;
	if (e->granu == IOMMU_INV_GRANU_ADDR) {
		order = inv_order(e->granule_size, e->nb_granules);
		base = e->addr;
		if (order >= ORDER_ALL ? base != 0 : (base & (BIT(12 + order) - 1)) != 0)
			return -ERANGE;
	}
	if (iotlb) {
		if (order >= ORDER_ALL || order > iu->mamv)
			batch_add(b, desc_piotlb_pasid(did, pasid), 0);
		else
			batch_add(b, QI_PIOTLB | FIELD_PREP(QI_G, 3) | FIELD_PREP(QI_DID, did) |
				      FIELD_PREP(QI_PASID, pasid),
				  (base & QI_ADDR) | FIELD_PREP(QI_ADDR_AM, order) |
				  (e->leaf ? QI_ADDR_IH : 0));
	}
	if ((iotlb || devtlb) && ats_on(idev))
		add_devtlb(b, idev->rid, e->pasid_valid, e->pasid, base, order);
	return 0;
}

static int intel_cache_invalidate(struct iommu_domain *d, struct iommu_device *dev,
				  const struct iommu_inv *inv, unsigned n, unsigned *done)
{
	struct intel_unit *iu = d->unit->drv;
	struct qi_batch b = { 0 };
	unsigned i;
	int ret = 0, err;

	*done = 0;
	if (d->type != IOMMU_DOMAIN_NESTED || !dev->drv)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		ret = inv_entry(iu, d, dev, &inv[i], &b);
		if (ret)
			break;
	}
	if (b.n || b.err) {
		err = qi_submit(iu, &b);
		if (err) {
			batch_free(&b);
			return err;
		}
	}
	batch_free(&b);
	*done = i;
	return ret;
}

/* ---- the unit -------------------------------------------------------------------------------- */

static void intel_hw_info(struct iommu_unit *u, struct iommu_hw_info *info)
{
	struct intel_unit *iu = u->drv;

	*info = iu->info;
}

/* Frees what probe allocated (each field 0 when not allocated). */
static void unit_release(struct intel_unit *iu)
{
	for (unsigned bus = 0; bus < 256; bus++) {
		for (unsigned h = 0; h < 2; h++)
			if (iu->ctx[bus][h])
				mem_frames_free(iu->pool, iu->ctx[bus][h], PAGE);
		free(iu->rid_map[bus]);
	}
	if (iu->root)
		mem_frames_free(iu->pool, iu->root, PAGE);
	if (iu->iq)
		mem_frames_free(iu->pool, iu->iq, iu->iq_bytes);
	if (iu->status)
		mem_frames_free(iu->pool, iu->status, PAGE);
	if (iu->pq)
		mem_frames_free(iu->pool, iu->pq, iu->pq_bytes);
	free(iu->did_map);
	pthread_mutex_destroy(&iu->qi_lock);
	pthread_mutex_destroy(&iu->fault_lock);
	pthread_mutex_destroy(&iu->prq_lock);
	pthread_mutex_destroy(&iu->rid_lock);
	free(iu);
}

/* Translation off, queues off, interrupts masked and no callback. */
static void hw_quiesce(struct intel_unit *iu)
{
	vtd_set_event_cb(iu->hw, NULL, NULL);
	wr32(iu, VTD_FECTL, XECTL_IM);
	wr32(iu, VTD_PECTL, XECTL_IM);
	if (rd32(iu, VTD_GSTS) & GSTS_TES)
		gcmd(iu, GCMD_TE, false, GSTS_TES);
	if (rd32(iu, VTD_GSTS) & GSTS_QIES)
		gcmd(iu, GCMD_QIE, false, GSTS_QIES);
	if (iu->pq)
		wr64(iu, VTD_PQA, 0);
}

static void intel_unit_free(struct iommu_unit *u)
{
	struct intel_unit *iu = u->drv;

	if (!iu)
		return;
	hw_quiesce(iu);
	unit_release(iu);
	u->drv = NULL;
}

static const struct iommu_ops intel_ops = {
	.name = "intel-vtd",
	.vendor = IOMMU_VENDOR_INTEL_VTD,
	.rid_covers_pasids = false,
	.hw_info = intel_hw_info,
	.probe_device = intel_probe_device,
	.release_device = intel_release_device,
	.domain_init = intel_domain_init,
	.domain_fini = intel_domain_fini,
	.attach_dev = intel_attach_dev,
	.detach_dev = intel_detach_dev,
	.attach_dev_pasid = intel_attach_dev_pasid,
	.detach_dev_pasid = intel_detach_dev_pasid,
	.flush_range = intel_flush_range,
	.cache_invalidate = intel_cache_invalidate,
	.page_response = intel_page_response,
	.unit_free = intel_unit_free,
};

static void fill_info(struct intel_unit *iu)
{
	struct iommu_hw_info *info = &iu->info;

	memset(info, 0, sizeof(*info));
	info->vendor = IOMMU_VENDOR_INTEL_VTD;
	info->pasid_bits = iu->pasid_bits;
	/* A user first stage exists with nesting: 4-level always, 5-level with FL5LP. */
	if (iu->ecap & ECAP_NEST)
		info->s1_addr_widths = BIT(48) | ((iu->cap & CAP_FL5LP) ? BIT(57) : 0);
	info->oas = iu->haw;
	info->pgsize_bitmap = BIT(12) | ((iu->cap & CAP_SLLPS_2M) ? BIT(21) : 0) |
			      ((iu->cap & CAP_SLLPS_1G) ? BIT(30) : 0);
	info->vtd.cap = iu->cap;
	info->vtd.ecap = iu->ecap;
}

/* The global invalidation after SRTP (the kernel's iommu_set_root_entry):
 * context cache, PASID cache, IOTLB, each global. */
static int global_invalidate(struct intel_unit *iu)
{
	struct qi_batch b = { 0 };
	int ret;

	batch_add(&b, QI_CC | FIELD_PREP(QI_G, 1), 0);
	batch_add(&b, QI_PC | FIELD_PREP(QI_G, 3), 0);
	batch_add(&b, QI_IOTLB | FIELD_PREP(QI_G, 1), 0);
	ret = qi_submit(iu, &b);
	batch_free(&b);
	return ret;
}

int intel_iommu_probe(struct vtd *hw, struct mem_space *mem, struct mem_frames *pool,
		      struct iommu_unit **out)
{
	struct intel_unit *iu;
	uint64_t cap, ecap;
	unsigned sagaw, nd;
	int ret;

	if (!hw || !mem || !pool || !out)
		return -EINVAL;
	(void)vtd_read(hw, VTD_VER, 4);
	cap = vtd_read(hw, VTD_CAP, 8);
	ecap = vtd_read(hw, VTD_ECAP, 8);
	/* Scalable mode and queued invalidation (the only invalidation interface
	 * in scalable mode, facts §1.7). */
	if (!(ecap & ECAP_SMTS) || !(ecap & ECAP_QI))
		return -ENODEV;

	iu = calloc(1, sizeof(*iu));
	if (!iu)
		return -ENOMEM;
	iu->hw = hw;
	iu->mem = mem;
	iu->pool = pool;
	iu->cap = cap;
	iu->ecap = ecap;
	iu->haw = (unsigned)FIELD_GET(CAP_MGAW, cap) + 1;
	iu->pasid_bits = (ecap & ECAP_PASID) ? (unsigned)FIELD_GET(ECAP_PSS, ecap) + 1 : 0;
	iu->nfr = (unsigned)FIELD_GET(CAP_NFR, cap) + 1;
	iu->frcd = (uint32_t)FIELD_GET(CAP_FRO, cap) * 16;
	iu->mamv = (unsigned)FIELD_GET(CAP_MAMV, cap);
	sagaw = (unsigned)FIELD_GET(CAP_SAGAW, cap);
	iu->ss_levels = (sagaw & BIT(2)) ? 4 : (sagaw & BIT(1)) ? 3 : 0;
	nd = (unsigned)FIELD_GET(CAP_ND, cap);
	iu->ndids = 1u << (4 + 2 * (nd > 6 ? 6 : nd));
	pthread_mutex_init(&iu->qi_lock, NULL);
	pthread_mutex_init(&iu->fault_lock, NULL);
	pthread_mutex_init(&iu->prq_lock, NULL);
	pthread_mutex_init(&iu->rid_lock, NULL);
	iu->did_map = calloc((iu->ndids + 63) / 64, sizeof(uint64_t));
	if (!iu->did_map) {
		unit_release(iu);
		return -ENOMEM;
	}
	iu->did_map[0] = BIT(0);                /* DID 0 is never a domain's */
	fill_info(iu);

	iu->iq_bytes = (uint64_t)PAGE << IQ_QS;
	if ((ret = mem_frames_alloc(pool, PAGE, &iu->root)) ||
	    (ret = mem_frames_alloc(pool, iu->iq_bytes, &iu->iq)) ||
	    (ret = mem_frames_alloc(pool, PAGE, &iu->status))) {
		unit_release(iu);
		return ret;
	}
	if (ecap & ECAP_PRS) {
		iu->pq_bytes = (uint64_t)PAGE << PQ_PQS;
		ret = mem_frames_alloc(pool, iu->pq_bytes, &iu->pq);
		if (ret) {
			iu->pq_bytes = 0;
			unit_release(iu);
			return ret;
		}
	}

	/* Root table pointer: scalable mode (TTM 01), latched by SRTP. */
	wr64(iu, VTD_RTADDR, iu->root | FIELD_PREP(RTADDR_TTM, TTM_SCALABLE));
	ret = gcmd(iu, GCMD_SRTP, true, GSTS_RTPS);
	if (ret)
		goto fail;
	/* The invalidation queue: 256-bit descriptors, tail 0, then QIE. */
	wr64(iu, VTD_IQA, iu->iq | IQA_DW | FIELD_PREP(IQA_QS, IQ_QS));
	wr64(iu, VTD_IQT, 0);
	iu->iq_tail = 0;
	ret = gcmd(iu, GCMD_QIE, true, GSTS_QIES);
	if (ret)
		goto fail;
	ret = global_invalidate(iu);
	if (ret)
		goto fail;
	/* Faults: whatever an earlier owner left is cleared (the kernel's first
	 * dmar_fault call), then the event is unmasked. */
	vtd_set_event_cb(hw, event_cb, iu);
	fault_event(iu);
	wr32(iu, VTD_FSTS, FSTS_RW1C);
	wr32(iu, VTD_FECTL, 0);
	if (iu->pq) {
		wr64(iu, VTD_PQH, 0);
		wr64(iu, VTD_PQT, 0);
		wr64(iu, VTD_PQA, iu->pq | FIELD_PREP(PQA_PQS, PQ_PQS));
		wr32(iu, VTD_PRS, PRS_PPR | PRS_PRO);
		wr32(iu, VTD_PECTL, 0);
	}
	ret = gcmd(iu, GCMD_TE, true, GSTS_TES);
	if (ret)
		goto fail;

	iu->unit = iommu_unit_new(&intel_ops, mem, pool, iu);
	if (!iu->unit) {
		ret = -ENOMEM;
		goto fail;
	}
	*out = iu->unit;
	return 0;

fail:
	hw_quiesce(iu);
	unit_release(iu);
	return ret;
}

void intel_iommu_get_stats(struct iommu_unit *u, struct intel_iommu_stats *st)
{
	struct intel_unit *iu = u->drv;

	st->faults = atomic_load(&iu->st.faults);
	st->faults_unknown = atomic_load(&iu->st.faults_unknown);
	st->fault_overflows = atomic_load(&iu->st.fault_overflows);
	st->page_requests = atomic_load(&iu->st.page_requests);
	st->prq_unknown = atomic_load(&iu->st.prq_unknown);
	st->prq_stop_markers = atomic_load(&iu->st.prq_stop_markers);
	st->prq_overflows = atomic_load(&iu->st.prq_overflows);
	st->qi_batches = atomic_load(&iu->st.qi_batches);
	st->qi_errors = atomic_load(&iu->st.qi_errors);
}
