/* iommu/arm_smmuv3.c — the SMMUv3 host driver (locking rules: arm_smmuv3.h).
 *
 * The driver speaks to the SMMU only as software speaks to the hardware: 32- and
 * 64-bit register accesses (smmu_read/smmu_write) and structures in host memory
 * (mem/): the stream table, the host CDs, the three queues. Facts come from the
 * SMMUv3 specification as docs/facts/smmuv3-structures.md gives it, and from how
 * Linux's arm-smmu-v3 driver programs real parts (read for facts only).
 *
 * Decisions where the spec or the kernel leave a choice:
 *
 * STE updates. A live STE is 64 bytes that the SMMU may fetch at any moment and
 * cache. The driver keeps its own copy of what it wrote and computes, for the
 * current and the target entry, which bits the SMMU uses (V and Config always;
 * the S1* fields only with stage 1 on; the S2* fields only with stage 2 on; S2VMID
 * whenever the stream translates). First every word takes the target's value in
 * the bits the current entry does not use (the SMMU cannot tell). If then at most
 * one 64-bit word still differs in bits the target uses, that word is written
 * whole with one single-copy-atomic store and the SMMU goes from the old meaning
 * to the new one at once ("hitless": stage 2 <-> nested over the same parent,
 * abort -> anything); last, the bits neither entry uses any more are cleaned up.
 * Otherwise the entry first becomes V = 1, Config = abort (a valid STE that
 * terminates silently: no C_BAD_STE events for the DMAs caught in the window,
 * which a V = 0 step would record), CFGI_STE + CMD_SYNC, and is then rewritten
 * from the abort state as above. Every visible step ends with CFGI_STE (Leaf = 0
 * right after a new level-1 descriptor) and CMD_SYNC, so the SMMU's cached copy
 * always equals memory (the coherence checker compares them).
 *
 * After an attach replaces a domain, or a detach: the old context's TLB entries
 * go (TLBI_S12_VMALL of its VMID for a stage-2 or nested domain; TLBI_NH_ALL of
 * its VMID for a first-stage one, because pgtable/ builds global (nG = 0) stage-1
 * leaves, which TLBI_NH_ASID keeps), the device's ATC goes (ATC_INV, Size 52, no
 * SSID, when its ATS is enabled), CMD_SYNC. For the same reason every
 * first-stage domain has a VMID of its own as well as an ASID: its global
 * entries must not be found by another first-stage domain's streams. VMID 0 and
 * ASID 0 are never handed out. A freed paging domain's VMID is flushed
 * (TLBI_S12_VMALL) before it can be reused.
 *
 * Range invalidation (IDR3.RIL, spec 4.4.1.1). A range command covers
 * (NUM + 1) << SCALE granules of the translation granule TG from Address. A range
 * of n granules is cut as Linux cuts it: SCALE = the lowest set bit of n, NUM + 1
 * = the five bits of n from there, repeated on what is left (at most 13
 * commands for any n < 2^64). TTL (the leaf's level) is given for leaf-only
 * invalidations whose granule size names a level (4K granule: 4K L3, 2M L2, 1G
 * L1; 16K: 16K L3, 32M L2; 64K: 64K L3, 512M L2, 4T L1); otherwise 0. The one
 * reserved encoding (NUM = SCALE = TTL = 0) is sent as the non-range form
 * (TG = 0), which drops whatever entry holds the address. The translation
 * granule of a user invalidation is known from its granule size (the three
 * granules' page and block sizes are disjoint); an unknown size, or an SMMU
 * without RIL, gets one non-range command per granule. More than
 * ARM_SMMU_MAX_TLBI commands become one invalidation of the whole context
 * (TLBI_NH_ALL or TLBI_S12_VMALL of the VMID): a user cannot make the driver
 * spin, and over-invalidation is always allowed.
 *
 * ATC_INV span (spec 4.5.1): Size = the bit length of (first page XOR last page),
 * Address = the first page rounded down to 2^Size pages: the smallest aligned
 * power-of-two span of 4 KiB pages covering the range. Size 52 is everything.
 *
 * Event -> struct iommu_fault (DMA_UNRECOV):
 *   F_TRANSLATION 0x10      PTE_FETCH
 *   F_PERMISSION 0x13       PERMISSION
 *   F_ACCESS 0x12           ACCESS
 *   F_ADDR_SIZE 0x11        OOR_ADDRESS
 *   F_WALK_EABT 0x0b        WALK_EABT
 *   F_CD_FETCH 0x09         PASID_FETCH
 *   C_BAD_CD 0x0a           BAD_PASID_ENTRY
 *   C_BAD_SUBSTREAMID 0x08  PASID_INVALID
 *   anything else           UNKNOWN
 * flags: PASID_VALID when the record has SSV (and for C_BAD_SUBSTREAMID, whose
 * SubstreamID is always valid, spec 7.3.9); ADDR_VALID with addr = the input
 * address's page for the records that carry InputAddr; FETCH_ADDR_VALID with the
 * record's FetchAddr (F_STE_FETCH, F_CD_FETCH, F_VMS_FETCH, F_WALK_EABT), or, for
 * a stage-2 fault on a table or CD access (S2 = 1, CLASS CD or TT), with the IPA
 * that stage 2 refused (the guest's table address). perm: READ if RnW else
 * WRITE, EXEC with InD, PRIV with PnU. A record with Stall = 1 is a page request
 * instead (IOMMU_FAULT_PAGE_REQ, LAST_PAGE, grpid = STAG, PASID_VALID with SSV),
 * answered by CMD_RESUME: retry on SUCCESS, abort (Ac = 0, Ab = 1) otherwise.
 *
 * PRI queue entries become IOMMU_FAULT_PAGE_REQ (PASID_VALID and
 * RESPONSE_NEEDS_PASID with SSV, LAST_PAGE with Last, grpid = PRGIndex). A Stop
 * PASID marker (SSV, Last, no R/W) needs no response and is not reported.
 * Responses are CMD_PRI_RESP with the spec's codes: SUCCESS -> 0b10 Success,
 * INVALID -> 0b01 InvalidRequest, FAILURE -> 0b00 ResponseFailure; SSV and the
 * PASID exactly when the request had one. Records of StreamIDs with no device
 * are answered by the driver (RESUME abort, PRI_RESP InvalidRequest) and counted.
 *
 * Nested domains (arm_smmu_validate_vste's rules and the spec's C_BAD_STE
 * conditions, facts §2.4): S1Fmt 0b11 is refused, 0b01/0b10 need IDR0.CD2L;
 * S1CDMax <= IDR1.SSIDSIZE; S1DSS <= 0b10; S1STALLD only with STALL_MODEL 0b00;
 * the CD table address within the parent's input range and the field's 52 bits,
 * aligned to 64 bytes, and to the table's size for a linear table of several CDs
 * (bits [S1CDMax+5:6] are RES0 there) or to the level-1 table's size (at least
 * 64 bytes) for a two-level one. Each refusal is -EINVAL; a parent that is not a
 * nest parent of this SMMU too; an SMMU without stage 1 -EOPNOTSUPP.
 */
#include "iommu/arm_smmuv3.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw/smmuv3/smmuv3_regs.h"
#include "pgtable/lpae.h"
#include "util/bits.h"

/* CR1 fields (spec 6.3.11): table and queue walks inner/outer write-back,
 * inner shareable. */
#define CR1_TABLE_SH        GENMASK(11, 10)
#define CR1_TABLE_OC        GENMASK(9, 8)
#define CR1_TABLE_IC        GENMASK(7, 6)
#define CR1_QUEUE_SH        GENMASK(5, 4)
#define CR1_QUEUE_OC        GENMASK(3, 2)
#define CR1_QUEUE_IC        GENMASK(1, 0)
#define CACHE_WB            1
#define SH_ISH              3

#define ST_SPLIT            8                 /* level-2 tables of 256 STEs (16 KiB) */
#define ST_LOG2_MAX         16                /* vsva StreamIDs are 16-bit requester IDs */
#define STE_DWORDS          8
#define CMDQ_LOG2_MAX       8
#define EVTQ_LOG2_MAX       7
#define PRIQ_LOG2_MAX       8
#define ATC_SIZE_ALL        52
#define ARM_SMMU_MAX_TLBI   256               /* beyond: invalidate the whole context */
#define DEFER_MAX           512
#define EVT_BATCH           16
#define POLL_TIMEOUT_NS     5000000000ull
#define STAGS               65536u
#define MAIR_DEFAULT        0x0000000000044ffull  /* attr0 Normal WB RW-alloc, attr1 NC,
                                                   * attr2 Device-nGnRE */

/* ---- state ------------------------------------------------------------------------ */

struct asmmu;
struct asmmu_dom;

struct asmmu_queue {
	uint64_t base;          /* PA of entry 0 */
	uint64_t bytes;         /* allocated */
	unsigned log2;          /* 2^log2 entries */
	unsigned ent;           /* bytes per entry */
	uint32_t prod, cons;    /* index and wrap bit, as the driver knows them */
	uint32_t ovack;         /* the OVACKFLG the driver last wrote (event/PRI) */
};

struct asmmu_master {
	struct asmmu *smmu;
	struct iommu_device *dev;
	uint32_t sid;
	uint64_t ste_pa;
	uint64_t ste[STE_DWORDS];       /* what memory holds (written only by the driver) */
	bool l1_fresh;                  /* its level-1 descriptor was just written */
	struct asmmu_dom *dom;          /* attached domain, NULL = blocked (abort) */
	struct asmmu_master *next;      /* in dom->masters */
	unsigned refs;                  /* interrupt handlers using dev (dev_lock) */
	bool dying;
};

enum dom_kind {
	DOM_S2,
	DOM_S1,
	DOM_NESTED,
};

struct asmmu_dom {
	struct iommu_domain *d;
	enum dom_kind kind;
	uint16_t vmid;                  /* S2, S1: own; nested: the parent's */
	uint16_t asid;                  /* S1 */
	uint64_t cd_pa;                 /* S1: the host CD (one CD, S1CDMax 0) */
	bool cd_written;
	struct asmmu_dom *parent;       /* nested */
	struct asmmu_dom *children;     /* nest parent: its nested domains */
	struct asmmu_dom *sibling;
	struct asmmu_master *masters;   /* devices attached (attach_lock) */
};

struct cmd {
	uint64_t w[2];
};

struct asmmu {
	struct smmu *hw;
	struct mem_space *mem;
	struct mem_frames *pool;
	struct iommu_unit *unit;

	uint32_t idr[6], iidr, aidr;
	unsigned sidsize, ssidsize, oas, fmt_oas, vmid_bits, asid_bits, stall_model;
	bool s1p, ats, pri, ril, cd2l, hyp, two_level;
	uint64_t s2_pgsizes;

	/* Stream table. */
	uint64_t st_base, st_bytes;
	unsigned st_log2, l1_n;
	uint64_t *l2;                   /* PA of each level-2 table, 0 = none (attach_lock) */

	struct asmmu_queue cmdq, evtq, priq;

	pthread_mutex_t cmdq_lock, evtq_lock, priq_lock, attach_lock, dev_lock, gerr_lock,
		defer_lock;
	pthread_cond_t dev_cond;
	int cmdq_err;                   /* error of the batch in progress (cmdq_lock) */

	/* Commands from interrupt context waiting for the cmdq_lock holder. */
	struct cmd defer[DEFER_MAX];
	unsigned ndefer;

	_Atomic unsigned irq_pending;   /* enum smmu_irq bits to service */

	uint64_t *vmid_map, *asid_map;  /* attach_lock (taken by domain init/fini) */
	struct asmmu_master **sidmap[1u << (ST_LOG2_MAX - 8)];  /* dev_lock */
	uint32_t *stall_sid;            /* per STAG: sid + 1 while reported, 0 (dev_lock) */

	struct arm_smmu_stats stats;
};

/* Driver mutexes the current thread holds, and interrupt handlers it is running. */
static __thread unsigned tl_locks;
static __thread unsigned tl_irq;

static void stat_inc(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static void handle_irqs(struct asmmu *s, unsigned bits);

static void service_pending(struct asmmu *s)
{
	unsigned bits;

	if (tl_locks || tl_irq)
		return;
	bits = atomic_exchange(&s->irq_pending, 0);
	if (bits)
		handle_irqs(s, bits);
}

static void drv_lock(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	tl_locks++;
}

static void drv_unlock(struct asmmu *s, pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
	tl_locks--;
	service_pending(s);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t rd32(struct asmmu *s, uint32_t off)
{
	return (uint32_t)smmu_read(s->hw, off, 4);
}

static void wr32(struct asmmu *s, uint32_t off, uint32_t val)
{
	smmu_write(s->hw, off, 4, val);
}

static void wr64(struct asmmu *s, uint32_t off, uint64_t val)
{
	smmu_write(s->hw, off, 8, val);
}

static unsigned oas_bits(unsigned enc)
{
	static const unsigned bits[8] = { 32, 36, 40, 42, 44, 48, 52, 52 };

	return bits[enc & 7];
}

static unsigned oas_enc(unsigned bits)
{
	static const unsigned bits_of[7] = { 32, 36, 40, 42, 44, 48, 52 };

	for (unsigned i = 0; i < 7; i++)
		if (bits_of[i] >= bits)
			return i;
	return 6;
}

/* ---- queues ----------------------------------------------------------------------- */

static uint32_t q_mask(const struct asmmu_queue *q)
{
	return (uint32_t)(BIT(q->log2 + 1) - 1);          /* index and wrap */
}

static uint32_t q_next(const struct asmmu_queue *q, uint32_t p)
{
	return (p + 1) & q_mask(q);
}

static bool q_empty(const struct asmmu_queue *q, uint32_t prod, uint32_t cons)
{
	return !((prod ^ cons) & q_mask(q));
}

static bool q_full(const struct asmmu_queue *q, uint32_t prod, uint32_t cons)
{
	return ((prod ^ cons) & q_mask(q)) == BIT(q->log2);
}

static uint64_t q_slot(const struct asmmu_queue *q, uint32_t p)
{
	return q->base + (uint64_t)(p & (BIT(q->log2) - 1)) * q->ent;
}

static uint64_t q_base_reg(const struct asmmu_queue *q)
{
	return (q->base & Q_BASE_ADDR) | Q_BASE_WA | FIELD_PREP(Q_BASE_LOG2SIZE, q->log2);
}

static int q_alloc(struct asmmu *s, struct asmmu_queue *q, unsigned log2, unsigned ent)
{
	uint64_t bytes = (uint64_t)ent << log2;

	if (bytes < MEM_FRAME_SIZE)
		bytes = MEM_FRAME_SIZE;
	q->log2 = log2;
	q->ent = ent;
	q->bytes = bytes;
	q->prod = q->cons = q->ovack = 0;
	return mem_frames_alloc(s->pool, bytes, &q->base);
}

static void q_free(struct asmmu *s, struct asmmu_queue *q)
{
	if (q->bytes)
		mem_frames_free(s->pool, q->base, q->bytes);
	q->bytes = 0;
}

/* ---- the command queue --------------------------------------------------------------- */

static struct cmd cmd_sync(void)
{
	/* CS = SIG_NONE: completion is observed through CMDQ_CONS. */
	return (struct cmd){ { FIELD_PREP(CMD0_OP, CMD_SYNC), 0 } };
}

static struct cmd cmd_cfgi_ste(uint32_t sid, bool leaf)
{
	return (struct cmd){ { FIELD_PREP(CMD0_OP, CMD_CFGI_STE) | FIELD_PREP(CMD0_SID, sid),
			       leaf ? CMD1_LEAF : 0 } };
}

static struct cmd cmd_vmid(uint8_t op, uint16_t vmid)
{
	return (struct cmd){ { FIELD_PREP(CMD0_OP, op) | FIELD_PREP(CMD0_VMID, vmid), 0 } };
}

/* ATC_INV of [addr, addr + size) (size 0: everything) for sid, with ssid if ssv. */
static struct cmd cmd_atc_inv(uint32_t sid, bool ssv, uint32_t ssid, uint64_t addr,
			      uint64_t size)
{
	uint64_t first, last, diff;
	unsigned log2 = ATC_SIZE_ALL;

	if (size && addr + (size - 1) >= addr) {
		first = addr >> 12;
		last = (addr + size - 1) >> 12;
		diff = first ^ last;
		log2 = diff ? 64 - (unsigned)__builtin_clzll(diff) : 0;
		if (log2 >= ATC_SIZE_ALL) {
			log2 = ATC_SIZE_ALL;
		} else {
			first &= ~(BIT(log2) - 1);
			addr = first << 12;
		}
	}
	if (log2 == ATC_SIZE_ALL)
		addr = 0;
	return (struct cmd){ { FIELD_PREP(CMD0_OP, CMD_ATC_INV) | FIELD_PREP(CMD0_SID, sid) |
				       (ssv ? CMD0_SSV | FIELD_PREP(CMD0_SSID, ssid) : 0),
			       FIELD_PREP(CMD1_ATC_SIZE, log2) | (addr & CMD1_ATC_ADDR) } };
}

static bool cmdq_err_active(struct asmmu *s)
{
	return (rd32(s, SMMU_GERROR) ^ rd32(s, SMMU_GERRORN)) & GERROR_CMDQ_ERR;
}

/*
 * CMDQ_ERR (spec 7.1): CONS stays on the command that failed. An illegal
 * command is replaced by a CMD_SYNC (what it asked for did not happen: the batch
 * reports -EIO); an abort or an ATC invalidation timeout is retried. Then the
 * error is acknowledged through GERRORN, which restarts the queue at CONS.
 */
static void cmdq_recover(struct asmmu *s)
{
	uint32_t cons, gerror, gerrorn;
	struct cmd c = cmd_sync();
	unsigned err;

	drv_lock(&s->gerr_lock);
	gerror = rd32(s, SMMU_GERROR);
	gerrorn = rd32(s, SMMU_GERRORN);
	if ((gerror ^ gerrorn) & GERROR_CMDQ_ERR) {
		cons = rd32(s, SMMU_CMDQ_CONS);
		err = (unsigned)FIELD_GET(CMDQ_CONS_ERR, cons);
		if (err == CMDQ_ERR_ILL) {
			uint64_t pa = q_slot(&s->cmdq, cons);

			mem_store64(s->mem, pa + 8, c.w[1]);
			mem_store64(s->mem, pa, c.w[0]);
		}
		stat_inc(&s->stats.cmdq_errors);
		s->cmdq_err = -EIO;
		wr32(s, SMMU_GERRORN, gerrorn ^ (uint32_t)GERROR_CMDQ_ERR);
	}
	drv_unlock(s, &s->gerr_lock);
}

/* Writes CMDQ_PROD and waits until CONS says the queue is not full (all = false)
 * or empty (all = true). cmdq_lock held. */
static int cmdq_publish_wait(struct asmmu *s, bool all)
{
	struct asmmu_queue *q = &s->cmdq;
	uint64_t deadline = 0;
	unsigned spins = 0;

	wr32(s, SMMU_CMDQ_PROD, q->prod);
	for (;;) {
		q->cons = rd32(s, SMMU_CMDQ_CONS) & q_mask(q);
		if (all ? q_empty(q, q->prod, q->cons) : !q_full(q, q->prod, q->cons))
			return 0;
		if (cmdq_err_active(s)) {
			cmdq_recover(s);
			continue;
		}
		if (++spins < 64)
			continue;
		if (!deadline)
			deadline = now_ns() + POLL_TIMEOUT_NS;
		else if (now_ns() > deadline) {
			s->cmdq_err = -ETIMEDOUT;
			return -ETIMEDOUT;
		}
		sched_yield();
	}
}

static void cmdq_add(struct asmmu *s, const struct cmd *c)
{
	struct asmmu_queue *q = &s->cmdq;
	uint64_t pa;

	if (q_full(q, q->prod, q->cons) && cmdq_publish_wait(s, false))
		return;                 /* the SMMU stopped consuming: the batch fails */
	pa = q_slot(q, q->prod);
	mem_store64(s->mem, pa, c->w[0]);
	mem_store64(s->mem, pa + 8, c->w[1]);
	q->prod = q_next(q, q->prod);
}

/* CMD_SYNC and the wait for it: 0, or the first error of the batch so far. */
static int cmdq_sync(struct asmmu *s)
{
	struct cmd c = cmd_sync();
	int err;

	cmdq_add(s, &c);
	cmdq_publish_wait(s, true);
	err = s->cmdq_err;
	s->cmdq_err = 0;
	return err;
}

/* Issues what interrupt context left for the lock holder. cmdq_lock held. */
static void cmdq_drain_deferred(struct asmmu *s)
{
	struct cmd local[DEFER_MAX];
	unsigned n;

	for (;;) {
		pthread_mutex_lock(&s->defer_lock);
		n = s->ndefer;
		memcpy(local, s->defer, n * sizeof(local[0]));
		s->ndefer = 0;
		pthread_mutex_unlock(&s->defer_lock);
		if (!n)
			return;
		for (unsigned i = 0; i < n; i++)
			cmdq_add(s, &local[i]);
		cmdq_sync(s);
	}
}

static void cmdq_begin(struct asmmu *s)
{
	drv_lock(&s->cmdq_lock);
	s->cmdq_err = 0;
}

static void cmdq_end(struct asmmu *s)
{
	unsigned left;

	for (;;) {
		cmdq_drain_deferred(s);
		pthread_mutex_unlock(&s->cmdq_lock);
		tl_locks--;
		/* A command deferred after the drain, while this thread still held
		 * the lock, is this thread's to issue. */
		pthread_mutex_lock(&s->defer_lock);
		left = s->ndefer;
		pthread_mutex_unlock(&s->defer_lock);
		if (!left || pthread_mutex_trylock(&s->cmdq_lock))
			break;          /* nothing, or the new holder will issue it */
		tl_locks++;
		s->cmdq_err = 0;
	}
	service_pending(s);
}

/* One command and its CMD_SYNC. From interrupt context it never waits for
 * cmdq_lock (see arm_smmuv3.h): when another thread holds it the command is
 * queued for that thread, and 0 returned. */
static int cmdq_issue_one(struct asmmu *s, const struct cmd *c)
{
	int err;

	if (tl_irq) {
		if (pthread_mutex_trylock(&s->cmdq_lock)) {
			bool queued = false;

			pthread_mutex_lock(&s->defer_lock);
			if (s->ndefer < DEFER_MAX) {
				s->defer[s->ndefer++] = *c;
				queued = true;
			}
			pthread_mutex_unlock(&s->defer_lock);
			if (queued) {
				stat_inc(&s->stats.cmds_deferred);
				/* The holder may have let go before seeing it. */
				if (!pthread_mutex_trylock(&s->cmdq_lock)) {
					tl_locks++;
					s->cmdq_err = 0;
					cmdq_end(s);
				}
				return 0;
			}
			/* Full: there is no way around waiting. */
			drv_lock(&s->cmdq_lock);
		} else {
			tl_locks++;
		}
		s->cmdq_err = 0;
	} else {
		cmdq_begin(s);
	}
	cmdq_add(s, c);
	err = cmdq_sync(s);
	cmdq_end(s);
	return err;
}

/* ---- TLB invalidation commands -------------------------------------------------------- */

/* The translation granule whose page or block size is size, and the level a leaf
 * of that size sits at: 0 when size is no page or block size. */
static unsigned granule_of(uint64_t size, unsigned *level)
{
	static const struct {
		uint64_t size;
		uint8_t gshift, level;
	} sizes[] = {
		{ BIT(12), 12, 3 }, { BIT(21), 12, 2 }, { BIT(30), 12, 1 },
		{ BIT(14), 14, 3 }, { BIT(25), 14, 2 }, { BIT(36), 14, 1 },
		{ BIT(16), 16, 3 }, { BIT(29), 16, 2 }, { BIT(42), 16, 1 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++)
		if (sizes[i].size == size) {
			*level = sizes[i].level;
			return sizes[i].gshift;
		}
	*level = 0;
	return 0;
}

struct tlbi_req {
	uint64_t dw0;           /* opcode, VMID, ASID */
	bool ipa;               /* S2_IPA: the address field is IPA[51:12] */
	bool leaf;
	uint64_t addr, size;    /* size > 0; addr + size does not wrap */
	unsigned gshift;        /* translation granule (12/14/16), 0 unknown */
	unsigned ttl;           /* leaf level hint (with gshift), 0 none */
	uint64_t step;          /* non-range form: one command per step bytes */
};

static uint64_t tlbi_addr(const struct tlbi_req *r, uint64_t a)
{
	return a & (r->ipa ? CMD1_IPA : CMD1_VA);
}

/* How many commands tlbi_emit would send. */
static uint64_t tlbi_count(const struct asmmu *s, const struct tlbi_req *r)
{
	uint64_t n, cnt = 0;

	if (s->ril && r->gshift) {
		for (n = r->size >> r->gshift; n; cnt++) {
			unsigned scale = (unsigned)__builtin_ctzll(n);
			uint64_t num = (n >> scale) & 31;

			n -= num << scale;
		}
		return cnt;
	}
	return r->size / r->step + (r->size % r->step != 0);
}

static void tlbi_emit(struct asmmu *s, const struct tlbi_req *r)
{
	uint64_t a = r->addr, n;
	struct cmd c;

	if (s->ril && r->gshift) {
		unsigned tg = r->gshift == 12 ? 1 : r->gshift == 14 ? 2 : 3;
		unsigned ttl = r->leaf ? r->ttl : 0;

		/* 16K with TTL 1 is reserved without IDR5.DS. */
		if (tg == 2 && ttl == 1)
			ttl = 0;
		for (n = r->size >> r->gshift; n;) {
			unsigned scale = (unsigned)__builtin_ctzll(n);
			uint64_t num = (n >> scale) & 31;

			if (num == 1 && !scale && !ttl) {
				/* NUM = SCALE = TTL = 0 is reserved: the non-range form. */
				c.w[0] = r->dw0;
				c.w[1] = (r->leaf ? CMD1_LEAF : 0) | tlbi_addr(r, a);
			} else {
				c.w[0] = r->dw0 | FIELD_PREP(CMD0_NUM, num - 1) |
					 FIELD_PREP(CMD0_SCALE, scale);
				c.w[1] = (r->leaf ? CMD1_LEAF : 0) | FIELD_PREP(CMD1_TTL, ttl) |
					 FIELD_PREP(CMD1_TG, tg) | tlbi_addr(r, a);
			}
			cmdq_add(s, &c);
			a += (num << scale) << r->gshift;
			n -= num << scale;
		}
		return;
	}
	for (uint64_t off = 0; off < r->size; off += r->step) {
		c.w[0] = r->dw0;
		c.w[1] = (r->leaf ? CMD1_LEAF : 0) | tlbi_addr(r, a + off);
		cmdq_add(s, &c);
		if (off + r->step < off)
			break;
	}
}

/* ---- IDs ----------------------------------------------------------------------------- */

static int id_alloc(uint64_t *map, unsigned bits)
{
	for (uint32_t id = 1; id < BIT(bits); id++)
		if (!(map[id / 64] & BIT(id % 64))) {
			map[id / 64] |= BIT(id % 64);
			return (int)id;
		}
	return -ENOSPC;
}

static void id_free(uint64_t *map, uint16_t id)
{
	if (id)
		map[id / 64] &= ~BIT(id % 64);
}

/* ---- stream table entries ---------------------------------------------------------------- */

/* The bits of each STE word the SMMU reads for this entry (spec 5.2: fields are
 * IGNORED by configuration). */
static void ste_used(const uint64_t ste[STE_DWORDS], uint64_t used[STE_DWORDS])
{
	unsigned cfg;

	memset(used, 0, STE_DWORDS * sizeof(used[0]));
	used[0] = STE0_V;
	if (!(ste[0] & STE0_V))
		return;
	used[0] |= STE0_CONFIG;
	cfg = (unsigned)FIELD_GET(STE0_CONFIG, ste[0]);
	if (cfg < STE_CFG_BYPASS)
		return;                         /* abort: nothing else is read */
	used[1] |= STE1_SHCFG | STE1_MTCFG | STE1_MEMATTR | STE1_ALLOCCFG | STE1_PRIVCFG |
		   STE1_INSTCFG;
	if (cfg == STE_CFG_BYPASS)
		return;
	used[1] |= STE1_EATS | STE1_STRW | STE1_MEV;
	if (cfg & 1) {
		used[0] |= STE0_S1FMT | STE0_S1CTXPTR | STE0_S1CDMAX;
		used[1] |= STE1_S1DSS | STE1_S1CIR | STE1_S1COR | STE1_S1CSH | STE1_S1STALLD;
	}
	if (cfg & 2) {
		used[2] = ~UINT64_C(0);
		used[3] = STE3_S2TTB;
	} else {
		used[2] = STE2_S2VMID;          /* tags stage-1-only TLB entries too */
	}
}

static void ste_store(struct asmmu *s, struct asmmu_master *m, unsigned i, uint64_t v)
{
	m->ste[i] = v;
	mem_store64(s->mem, m->ste_pa + 8 * i, v);
}

static void ste_cfgi(struct asmmu *s, struct asmmu_master *m)
{
	struct cmd c = cmd_cfgi_ste(m->sid, !m->l1_fresh);

	cmdq_add(s, &c);
	cmdq_sync(s);
	m->l1_fresh = false;
}

/*
 * Moves the STE to tgt when the SMMU's view can change with one 64-bit store:
 * (1) every word takes tgt's value in the bits the current entry does not use;
 * (2) the one word that still differs in bits tgt uses is stored whole (the
 * switch), CFGI + SYNC; (3) the bits neither uses any more are cleaned up,
 * CFGI + SYNC. False (nothing written) when two words would have to switch.
 */
static bool ste_try_hitless(struct asmmu *s, struct asmmu_master *m,
			    const uint64_t tgt[STE_DWORDS])
{
	uint64_t used_cur[STE_DWORDS], used_tgt[STE_DWORDS], step[STE_DWORDS];
	int critical = -1;
	bool rest = false;

	ste_used(m->ste, used_cur);
	ste_used(tgt, used_tgt);
	for (unsigned i = 0; i < STE_DWORDS; i++) {
		step[i] = (m->ste[i] & used_cur[i]) | (tgt[i] & ~used_cur[i]);
		if ((step[i] ^ tgt[i]) & used_tgt[i]) {
			if (critical >= 0)
				return false;   /* two words the SMMU reads must change */
			critical = (int)i;
		}
	}
	for (unsigned i = 0; i < STE_DWORDS; i++)
		if (step[i] != m->ste[i])
			ste_store(s, m, i, step[i]);
	if (critical >= 0) {
		ste_store(s, m, (unsigned)critical, tgt[critical]);
		ste_cfgi(s, m);
	}
	for (unsigned i = 0; i < STE_DWORDS; i++)
		if (m->ste[i] != tgt[i]) {
			ste_store(s, m, i, tgt[i]);
			rest = true;
		}
	if (rest || critical < 0)
		ste_cfgi(s, m);
	return true;
}

/* Installs tgt as m's STE (see the file comment). cmdq_lock held. */
static void ste_install(struct asmmu *s, struct asmmu_master *m, const uint64_t tgt[STE_DWORDS])
{
	uint64_t abort_ste = STE0_V | FIELD_PREP(STE0_CONFIG, STE_CFG_ABORT);

	if (!memcmp(m->ste, tgt, sizeof(m->ste)))
		return;
	if (ste_try_hitless(s, m, tgt))
		return;
	/* Breaking change: through a valid abort entry. */
	ste_store(s, m, 0, abort_ste);
	ste_cfgi(s, m);
	ste_try_hitless(s, m, tgt);             /* from abort, always one word */
}

static void ste_make_abort(uint64_t ste[STE_DWORDS])
{
	memset(ste, 0, STE_DWORDS * sizeof(ste[0]));
	ste[0] = STE0_V | FIELD_PREP(STE0_CONFIG, STE_CFG_ABORT);
}

/* Stage-2 words of a paging domain's STE: VMID, the VTCR-like fields of its format
 * and the table. */
static void ste_s2_words(const struct asmmu *s, const struct asmmu_dom *p, uint64_t ste[STE_DWORDS])
{
	const struct iommu_domain *d = p->d;

	ste[2] = FIELD_PREP(STE2_S2VMID, p->vmid) | FIELD_PREP(STE2_S2T0SZ, d->fmt.cfg.tsz) |
		 FIELD_PREP(STE2_S2SL0, d->fmt.cfg.sl0) | FIELD_PREP(STE2_S2IR0, CACHE_WB) |
		 FIELD_PREP(STE2_S2OR0, CACHE_WB) | FIELD_PREP(STE2_S2SH0, SH_ISH) |
		 FIELD_PREP(STE2_S2TG, S2TG_4K) | FIELD_PREP(STE2_S2PS, oas_enc(d->fmt.oas)) |
		 STE2_S2AA64 | STE2_S2PTW | STE2_S2R |
		 (s->stall_model == 2 ? STE2_S2S : 0);
	ste[3] = d->root & STE3_S2TTB;
}

static uint64_t ste_s1_dw1(bool s1stalld, unsigned s1dss)
{
	return FIELD_PREP(STE1_S1DSS, s1dss) | FIELD_PREP(STE1_S1CIR, CACHE_WB) |
	       FIELD_PREP(STE1_S1COR, CACHE_WB) | FIELD_PREP(STE1_S1CSH, SH_ISH) |
	       (s1stalld ? STE1_S1STALLD : 0);
}

/* The host CD of a first-stage domain (written once, before any STE points to
 * it: the words first, V last). */
static void cd_write_host(struct asmmu *s, struct asmmu_dom *p)
{
	const struct iommu_domain *d = p->d;
	uint64_t cd0;

	if (p->cd_written)
		return;
	cd0 = FIELD_PREP(CD0_T0SZ, d->fmt.cfg.tsz) | FIELD_PREP(CD0_TG0, TG0_4K) |
	      FIELD_PREP(CD0_IR0, CACHE_WB) | FIELD_PREP(CD0_OR0, CACHE_WB) |
	      FIELD_PREP(CD0_SH0, SH_ISH) | CD0_EPD1 | CD0_V |
	      FIELD_PREP(CD0_IPS, oas_enc(d->fmt.oas)) | CD0_AA64 | CD0_R | CD0_A | CD0_ASET |
	      (s->stall_model == 2 ? CD0_S : 0) | FIELD_PREP(CD0_ASID, p->asid);
	mem_store64(s->mem, p->cd_pa + 8, d->root & CD1_TTB0);
	mem_store64(s->mem, p->cd_pa + 16, 0);
	mem_store64(s->mem, p->cd_pa + 24, MAIR_DEFAULT);
	for (unsigned i = 4; i < CD_SIZE / 8; i++)
		mem_store64(s->mem, p->cd_pa + 8 * i, 0);
	mem_store64(s->mem, p->cd_pa, cd0);
	p->cd_written = true;
}

/* The STE that attaches m to p. */
static void ste_for(struct asmmu *s, struct asmmu_master *m, struct asmmu_dom *p,
		    uint64_t ste[STE_DWORDS])
{
	bool ats = s->ats && dev_ep_ats_enabled(m->dev->ep) && s->stall_model != 2;
	uint64_t eats = FIELD_PREP(STE1_EATS, ats ? EATS_TRANS : EATS_ABORT);
	const struct iommu_user_s1 *u;

	memset(ste, 0, STE_DWORDS * sizeof(ste[0]));
	switch (p->kind) {
	case DOM_S2:
		ste[0] = STE0_V | FIELD_PREP(STE0_CONFIG, STE_CFG_S2);
		ste[1] = eats;
		ste_s2_words(s, p, ste);
		break;
	case DOM_S1:
		cd_write_host(s, p);
		ste[0] = STE0_V | FIELD_PREP(STE0_CONFIG, STE_CFG_S1) |
			 FIELD_PREP(STE0_S1FMT, S1FMT_LINEAR) | (p->cd_pa & STE0_S1CTXPTR);
		ste[1] = ste_s1_dw1(false, S1DSS_TERMINATE) | eats;
		ste[2] = FIELD_PREP(STE2_S2VMID, p->vmid);
		break;
	case DOM_NESTED:
		u = &p->d->s1;
		ste[0] = STE0_V | FIELD_PREP(STE0_CONFIG, STE_CFG_NESTED) |
			 FIELD_PREP(STE0_S1FMT, u->smmu.s1fmt) |
			 (u->smmu.cdtab & STE0_S1CTXPTR) |
			 FIELD_PREP(STE0_S1CDMAX, u->smmu.s1cdmax);
		ste[1] = ste_s1_dw1(u->smmu.s1stalld, u->smmu.s1dss) | eats;
		ste_s2_words(s, p->parent, ste);
		break;
	}
}

/* ---- devices --------------------------------------------------------------------------- */

static struct asmmu_master *sid_lookup(struct asmmu *s, uint32_t sid)
{
	struct asmmu_master **page;

	if (sid >= BIT(s->st_log2))
		return NULL;
	page = s->sidmap[sid >> 8];
	return page ? page[sid & 0xff] : NULL;
}

/* The device of sid, held against release until master_put. */
static struct asmmu_master *master_get(struct asmmu *s, uint32_t sid)
{
	struct asmmu_master *m;

	drv_lock(&s->dev_lock);
	m = sid_lookup(s, sid);
	if (m && !m->dying)
		m->refs++;
	else
		m = NULL;
	drv_unlock(s, &s->dev_lock);
	return m;
}

static void master_put(struct asmmu *s, struct asmmu_master *m)
{
	drv_lock(&s->dev_lock);
	if (!--m->refs && m->dying)
		pthread_cond_broadcast(&s->dev_cond);
	drv_unlock(s, &s->dev_lock);
}

/* The STE slot of sid, allocating its level-2 table. attach_lock held. */
static int ste_slot(struct asmmu *s, struct asmmu_master *m)
{
	uint64_t l2;
	unsigned i;
	int err;

	if (!s->two_level) {
		m->ste_pa = s->st_base + (uint64_t)m->sid * STE_SIZE;
		return 0;
	}
	i = m->sid >> ST_SPLIT;
	if (!s->l2[i]) {
		/* Zeroed: every STE V = 0. The descriptor is written once the table
		 * is, and a Leaf = 0 CFGI_STE follows the first STE update. */
		err = mem_frames_alloc(s->pool, (uint64_t)STE_SIZE << ST_SPLIT, &l2);
		if (err)
			return err;
		mem_store64(s->mem, s->st_base + (uint64_t)i * STE_L1_SIZE,
			    (l2 & STE_L1_L2PTR) | FIELD_PREP(STE_L1_SPAN, ST_SPLIT + 1));
		s->l2[i] = l2;
		m->l1_fresh = true;
	}
	m->ste_pa = s->l2[i] + (uint64_t)(m->sid & (BIT(ST_SPLIT) - 1)) * STE_SIZE;
	return 0;
}

static int asmmu_probe_device(struct iommu_unit *u, struct iommu_device *dev)
{
	struct asmmu *s = u->drv;
	struct asmmu_master *m;
	uint64_t abort_ste[STE_DWORDS];
	uint32_t sid = dev->rid;
	int err;

	if (sid >= BIT(s->st_log2))
		return -ERANGE;
	drv_lock(&s->dev_lock);
	err = sid_lookup(s, sid) ? -EEXIST : 0;
	if (!err && !s->sidmap[sid >> 8]) {
		s->sidmap[sid >> 8] = calloc(256, sizeof(struct asmmu_master *));
		if (!s->sidmap[sid >> 8])
			err = -ENOMEM;
	}
	drv_unlock(s, &s->dev_lock);
	if (err)
		return err;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->smmu = s;
	m->dev = dev;
	m->sid = sid;
	drv_lock(&s->attach_lock);
	err = ste_slot(s, m);
	drv_unlock(s, &s->attach_lock);
	if (err) {
		free(m);
		return err;
	}
	/* What memory holds now (zero, or a former device's abort entry). */
	for (unsigned i = 0; i < STE_DWORDS; i++)
		if (mem_load64(s->mem, m->ste_pa + 8 * i, &m->ste[i]))
			m->ste[i] = 0;
	ste_make_abort(abort_ste);
	cmdq_begin(s);
	ste_install(s, m, abort_ste);
	if (!memcmp(m->ste, abort_ste, sizeof(abort_ste)) && m->l1_fresh)
		ste_cfgi(s, m);
	cmdq_end(s);
	dev->drv = m;
	drv_lock(&s->dev_lock);
	s->sidmap[sid >> 8][sid & 0xff] = m;
	drv_unlock(s, &s->dev_lock);
	return 0;
}

static void asmmu_release_device(struct iommu_unit *u, struct iommu_device *dev)
{
	struct asmmu *s = u->drv;
	struct asmmu_master *m = dev->drv;
	uint64_t abort_ste[STE_DWORDS];
	struct cmd c;

	drv_lock(&s->dev_lock);
	m->dying = true;
	s->sidmap[m->sid >> 8][m->sid & 0xff] = NULL;
	while (m->refs)
		pthread_cond_wait(&s->dev_cond, &s->dev_lock);
	if (s->stall_sid)
		for (unsigned i = 0; i < STAGS; i++)
			if (s->stall_sid[i] == m->sid + 1)
				s->stall_sid[i] = 0;
	drv_unlock(s, &s->dev_lock);

	/* The stream keeps aborting silently; stalled transactions end. */
	ste_make_abort(abort_ste);
	cmdq_begin(s);
	ste_install(s, m, abort_ste);
	if (s->stall_model != 1) {
		c = (struct cmd){ { FIELD_PREP(CMD0_OP, CMD_STALL_TERM) |
					    FIELD_PREP(CMD0_SID, m->sid), 0 } };
		cmdq_add(s, &c);
		cmdq_sync(s);
	}
	cmdq_end(s);
	dev->drv = NULL;
	free(m);
}

/* ---- domains ---------------------------------------------------------------------------- */

/* The host stage 2: 4K granule, input up to min(OAS, 48) bits, the fewest levels
 * a valid SL0 gives (concatenated root tables allowed). */
static int s2_format(const struct asmmu *s, struct pgt_fmt *f)
{
	unsigned ia = s->fmt_oas;

	for (unsigned sl0 = 0; sl0 <= 2; sl0++) {
		struct pgt_cfg c = {
			.family = PGT_LPAE_S2, .granule = 4096, .tsz = 64 - ia, .sl0 = sl0,
			.oas = s->fmt_oas,
		};

		if (!pgt_fmt_init(f, &c))
			return 0;
	}
	return -EINVAL;
}

static int s1_format(const struct asmmu *s, struct pgt_fmt *f)
{
	struct pgt_cfg c = {
		.family = PGT_LPAE_S1, .granule = 4096, .tsz = 64 - 48, .oas = s->fmt_oas,
	};

	return pgt_fmt_init(f, &c);
}

static int nested_check(struct asmmu *s, struct iommu_domain *d)
{
	struct iommu_domain *parent = d->parent;
	const struct iommu_user_s1 *u = &d->s1;
	uint64_t ptr = u->smmu.cdtab, align = CD_SIZE;
	unsigned cdmax = u->smmu.s1cdmax;

	if (!parent || parent->type != IOMMU_DOMAIN_PAGING ||
	    !(parent->flags & IOMMU_DOMAIN_F_NEST_PARENT) || parent->unit != s->unit ||
	    !parent->drv)
		return -EINVAL;
	if (u->vendor != IOMMU_VENDOR_ARM_SMMUV3)
		return -EINVAL;
	if (!s->s1p)
		return -EOPNOTSUPP;
	if (u->smmu.s1fmt > S1FMT_64K_L2)
		return -EINVAL;
	if (u->smmu.s1fmt != S1FMT_LINEAR && !s->cd2l)
		return -EINVAL;
	if (cdmax > s->ssidsize)
		return -EINVAL;
	if (u->smmu.s1dss > S1DSS_SSID0)
		return -EINVAL;
	if (u->smmu.s1stalld && s->stall_model != 0)
		return -EINVAL;
	if (cdmax && u->smmu.s1fmt == S1FMT_LINEAR) {
		align = BIT(cdmax + 6);
	} else if (cdmax) {
		unsigned split = u->smmu.s1fmt == S1FMT_4K_L2 ? 6 : 10;
		uint64_t l1 = (cdmax > split ? BIT(cdmax - split) : 1) * CD_L1_SIZE;

		align = l1 > CD_SIZE ? l1 : CD_SIZE;
	}
	if (ptr & (align - 1))
		return -EINVAL;
	if ((ptr & ~STE0_S1CTXPTR) || ptr > parent->aperture_end)
		return -EINVAL;
	return 0;
}

static int asmmu_domain_init(struct iommu_unit *u, struct iommu_domain *d)
{
	struct asmmu *s = u->drv;
	struct asmmu_dom *p;
	int err, id;

	if (d->type == IOMMU_DOMAIN_NESTED) {
		err = nested_check(s, d);
		if (err)
			return err;
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->d = d;
		p->kind = DOM_NESTED;
		p->parent = d->parent->drv;
		p->vmid = p->parent->vmid;
		drv_lock(&s->attach_lock);
		p->sibling = p->parent->children;
		p->parent->children = p;
		drv_unlock(s, &s->attach_lock);
		d->drv = p;
		return 0;
	}
	if ((d->flags & IOMMU_DOMAIN_F_NEST_PARENT) && !s->s1p)
		return -EOPNOTSUPP;             /* nesting needs both stages */
	if ((d->flags & IOMMU_DOMAIN_F_FIRST_STAGE) && !s->s1p)
		return -EOPNOTSUPP;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->d = d;
	p->kind = d->flags & IOMMU_DOMAIN_F_FIRST_STAGE ? DOM_S1 : DOM_S2;
	err = p->kind == DOM_S1 ? s1_format(s, &d->fmt) : s2_format(s, &d->fmt);
	if (err) {
		free(p);
		return err;
	}
	if (p->kind == DOM_S1) {
		err = mem_frames_alloc(s->pool, MEM_FRAME_SIZE, &p->cd_pa);
		if (err) {
			free(p);
			return err;
		}
	}
	drv_lock(&s->attach_lock);
	id = id_alloc(s->vmid_map, s->vmid_bits);
	if (id > 0) {
		p->vmid = (uint16_t)id;
		if (p->kind == DOM_S1) {
			id = id_alloc(s->asid_map, s->asid_bits);
			if (id > 0)
				p->asid = (uint16_t)id;
			else
				id_free(s->vmid_map, p->vmid);
		}
	}
	drv_unlock(s, &s->attach_lock);
	if (id < 0) {
		if (p->cd_pa)
			mem_frames_free(s->pool, p->cd_pa, MEM_FRAME_SIZE);
		free(p);
		return id;
	}
	d->pgsize_bitmap = pgt_page_sizes(&d->fmt);
	d->drv = p;
	return 0;
}

static void asmmu_domain_fini(struct iommu_unit *u, struct iommu_domain *d)
{
	struct asmmu *s = u->drv;
	struct asmmu_dom *p = d->drv, **pp;
	struct cmd c;

	if (!p)
		return;
	if (p->kind == DOM_NESTED) {
		drv_lock(&s->attach_lock);
		for (pp = &p->parent->children; *pp; pp = &(*pp)->sibling)
			if (*pp == p) {
				*pp = p->sibling;
				break;
			}
		drv_unlock(s, &s->attach_lock);
	} else {
		/* Nothing of this context may survive into the VMID's next owner. */
		cmdq_begin(s);
		c = cmd_vmid(CMD_TLBI_S12_VMALL, p->vmid);
		cmdq_add(s, &c);
		cmdq_sync(s);
		cmdq_end(s);
		drv_lock(&s->attach_lock);
		id_free(s->vmid_map, p->vmid);
		if (p->kind == DOM_S1)
			id_free(s->asid_map, p->asid);
		drv_unlock(s, &s->attach_lock);
		if (p->cd_pa)
			mem_frames_free(s->pool, p->cd_pa, MEM_FRAME_SIZE);
	}
	d->drv = NULL;
	free(p);
}

/* ---- attach ------------------------------------------------------------------------------ */

static void dom_unlink(struct asmmu_dom *p, struct asmmu_master *m)
{
	for (struct asmmu_master **pp = &p->masters; *pp; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	m->next = NULL;
}

/* The old context's TLB entries and the device's ATC, after m left old. */
static void inv_after_leave(struct asmmu *s, struct asmmu_master *m, struct asmmu_dom *old)
{
	struct cmd c;

	c = cmd_vmid(old->kind == DOM_S1 ? CMD_TLBI_NH_ALL : CMD_TLBI_S12_VMALL, old->vmid);
	cmdq_add(s, &c);
	cmdq_sync(s);
	if (s->ats && dev_ep_ats_enabled(m->dev->ep)) {
		c = cmd_atc_inv(m->sid, false, 0, 0, 0);
		cmdq_add(s, &c);
		cmdq_sync(s);
	}
}

static int asmmu_attach_dev(struct iommu_domain *d, struct iommu_device *dev,
			    struct iommu_domain *old)
{
	struct asmmu *s = d->unit->drv;
	struct asmmu_master *m = dev->drv;
	struct asmmu_dom *p = d->drv, *was;
	uint64_t ste[STE_DWORDS];

	drv_lock(&s->attach_lock);
	was = m->dom;
	ste_for(s, m, p, ste);
	cmdq_begin(s);
	ste_install(s, m, ste);
	if (was)
		inv_after_leave(s, m, was);
	cmdq_end(s);
	if (was)
		dom_unlink(was, m);
	m->dom = p;
	m->next = p->masters;
	p->masters = m;
	drv_unlock(s, &s->attach_lock);
	return 0;
}

static void asmmu_detach_dev(struct iommu_domain *d, struct iommu_device *dev)
{
	struct asmmu *s = d->unit->drv;
	struct asmmu_master *m = dev->drv;
	uint64_t ste[STE_DWORDS];

	drv_lock(&s->attach_lock);
	ste_make_abort(ste);
	cmdq_begin(s);
	ste_install(s, m, ste);
	if (m->dom)
		inv_after_leave(s, m, m->dom);
	cmdq_end(s);
	if (m->dom)
		dom_unlink(m->dom, m);
	m->dom = NULL;
	drv_unlock(s, &s->attach_lock);
}

/* Arm binds the whole CD table through the STE: no PASID attach. */
static int asmmu_attach_dev_pasid(struct iommu_domain *d, struct iommu_device *dev,
				  uint32_t pasid, struct iommu_domain *old)
{
	return -EOPNOTSUPP;
}

static void asmmu_detach_dev_pasid(struct iommu_domain *d, struct iommu_device *dev,
				   uint32_t pasid)
{
}

/* ---- invalidation -------------------------------------------------------------------------- */

static bool master_ats(const struct asmmu *s, const struct asmmu_master *m)
{
	return s->ats && dev_ep_ats_enabled(m->dev->ep);
}

static void asmmu_flush_range(struct iommu_domain *d, uint64_t iova, uint64_t size)
{
	struct asmmu *s = d->unit->drv;
	struct asmmu_dom *p = d->drv;
	struct tlbi_req r = { 0 };
	bool atc = false;
	struct cmd c;

	if (!size)
		return;
	if (iova + (size - 1) < iova)
		size = 0 - iova;
	drv_lock(&s->attach_lock);
	cmdq_begin(s);
	r.addr = iova & ~UINT64_C(0xfff);
	r.size = ((iova + size - 1) | 0xfff) - r.addr + 1;
	r.gshift = 12;
	r.step = 4096;
	r.leaf = false;                 /* unmap may have freed tables */
	if (d->flags & IOMMU_DOMAIN_F_NEST_PARENT) {
		/* Combined stage 1+2 entries of nested streams cannot be found by IPA. */
		c = cmd_vmid(CMD_TLBI_S12_VMALL, p->vmid);
		cmdq_add(s, &c);
	} else {
		if (p->kind == DOM_S1)
			r.dw0 = FIELD_PREP(CMD0_OP, CMD_TLBI_NH_VA) | FIELD_PREP(CMD0_VMID, p->vmid) |
				FIELD_PREP(CMD0_ASID, p->asid);
		else
			r.dw0 = FIELD_PREP(CMD0_OP, CMD_TLBI_S2_IPA) | FIELD_PREP(CMD0_VMID, p->vmid);
		r.ipa = p->kind == DOM_S2;
		if (tlbi_count(s, &r) <= ARM_SMMU_MAX_TLBI) {
			tlbi_emit(s, &r);
		} else {
			c = cmd_vmid(p->kind == DOM_S1 ? CMD_TLBI_NH_ALL : CMD_TLBI_S12_VMALL, p->vmid);
			cmdq_add(s, &c);
		}
	}
	cmdq_sync(s);
	/* Then the device TLBs: the range for streams translating through d alone,
	 * everything for streams of nested domains over it. */
	for (struct asmmu_master *m = p->masters; m; m = m->next)
		if (master_ats(s, m)) {
			c = cmd_atc_inv(m->sid, false, 0, r.addr, r.size);
			cmdq_add(s, &c);
			atc = true;
		}
	for (struct asmmu_dom *n = p->children; n; n = n->sibling)
		for (struct asmmu_master *m = n->masters; m; m = m->next)
			if (master_ats(s, m)) {
				c = cmd_atc_inv(m->sid, false, 0, 0, 0);
				cmdq_add(s, &c);
				atc = true;
			}
	if (atc)
		cmdq_sync(s);
	cmdq_end(s);
	drv_unlock(s, &s->attach_lock);
}

/* The ASID of the guest CD for ssid: the guest's CD table read through the
 * parent stage 2 (linear or two-level as S1Fmt says). -EINVAL when the SSID is
 * beyond the table, a descriptor is not valid, or memory cannot be read. */
static int guest_cd_asid(struct asmmu_dom *p, uint32_t ssid, uint16_t *asid)
{
	const struct iommu_user_s1 *u = &p->d->s1;
	struct iommu_domain *parent = p->parent->d;
	unsigned cdmax = u->smmu.s1cdmax;
	uint64_t ptr = u->smmu.cdtab, a, desc, cd0;

	if (!cdmax) {
		if (ssid)
			return -EINVAL;
		a = ptr;
	} else if (ssid >= BIT(cdmax)) {
		return -EINVAL;
	} else if (u->smmu.s1fmt == S1FMT_LINEAR) {
		a = ptr + (uint64_t)ssid * CD_SIZE;
	} else {
		unsigned split = u->smmu.s1fmt == S1FMT_4K_L2 ? 6 : 10;

		if (iommu_domain_read(parent, ptr + (uint64_t)(ssid >> split) * CD_L1_SIZE, &desc,
				      sizeof(desc)))
			return -EINVAL;
		if (!(desc & CD_L1_V))
			return -EINVAL;
		a = (desc & CD_L1_L2PTR) + (uint64_t)(ssid & (BIT(split) - 1)) * CD_SIZE;
	}
	if (iommu_domain_read(parent, a, &cd0, sizeof(cd0)) || !(cd0 & CD0_V))
		return -EINVAL;
	*asid = (uint16_t)FIELD_GET(CD0_ASID, cd0);
	return 0;
}

/* The checks of one user invalidation, and its ASID when it needs one. */
static int inv_check(struct asmmu *s, struct asmmu_dom *p, const struct iommu_inv *v,
		     uint16_t *asid, bool *vaa)
{
	const uint8_t known = IOMMU_CACHE_INV_TYPE_IOTLB | IOMMU_CACHE_INV_TYPE_DEV_IOTLB |
			      IOMMU_CACHE_INV_TYPE_PASID;

	*vaa = false;
	*asid = 0;
	if (!v->cache || (v->cache & ~known) || v->granu >= IOMMU_INV_GRANU_NR)
		return -EINVAL;
	/* Seed 002's table: DEV_IOTLB has no DOMAIN granularity, the PASID cache
	 * no ADDR one. */
	if ((v->cache & IOMMU_CACHE_INV_TYPE_DEV_IOTLB) && v->granu == IOMMU_INV_GRANU_DOMAIN)
		return -EINVAL;
	if ((v->cache & IOMMU_CACHE_INV_TYPE_PASID) && v->granu == IOMMU_INV_GRANU_ADDR)
		return -EINVAL;
	if (v->pasid_valid && (!s->ssidsize || v->pasid >= BIT(s->ssidsize)))
		return -EINVAL;
	if (v->archid_valid && v->archid >= BIT(s->asid_bits))
		return -EINVAL;
	if (v->granu == IOMMU_INV_GRANU_PASID) {
		if (!v->pasid_valid && !v->archid_valid)
			return -EINVAL;
		/* A CD or a PASID-tagged ATC entry is found by its SSID only. */
		if ((v->cache & (IOMMU_CACHE_INV_TYPE_PASID | IOMMU_CACHE_INV_TYPE_DEV_IOTLB)) &&
		    !v->pasid_valid)
			return -EINVAL;
	}
	if (v->granu == IOMMU_INV_GRANU_ADDR) {
		uint64_t size;

		if (v->granule_size < 4096 || !is_pow2_u64(v->granule_size) || !v->nb_granules ||
		    v->nb_granules > UINT64_MAX / v->granule_size)
			return -EINVAL;
		if (v->addr & (v->granule_size - 1))
			return -ERANGE;
		size = v->granule_size * v->nb_granules;
		if (v->addr + (size - 1) < v->addr)
			return -ERANGE;
	}
	if ((v->cache & IOMMU_CACHE_INV_TYPE_IOTLB) && v->granu != IOMMU_INV_GRANU_DOMAIN) {
		if (v->archid_valid)
			*asid = (uint16_t)v->archid;
		else if (v->pasid_valid)
			return guest_cd_asid(p, v->pasid, asid);
		else
			*vaa = true;            /* ADDR without PASID or ARCHID */
	}
	return 0;
}

/* The TLB and configuration-cache commands of one checked invalidation. */
static void inv_emit(struct asmmu *s, struct asmmu_dom *p, struct asmmu_master *m,
		     const struct iommu_inv *v, uint16_t asid, bool vaa)
{
	uint16_t vmid = p->vmid;
	struct cmd c;

	if (v->cache & IOMMU_CACHE_INV_TYPE_IOTLB) {
		switch (v->granu) {
		case IOMMU_INV_GRANU_DOMAIN:
			c = cmd_vmid(CMD_TLBI_NH_ALL, vmid);
			cmdq_add(s, &c);
			break;
		case IOMMU_INV_GRANU_PASID:
			c.w[0] = FIELD_PREP(CMD0_OP, CMD_TLBI_NH_ASID) | FIELD_PREP(CMD0_VMID, vmid) |
				 FIELD_PREP(CMD0_ASID, asid);
			c.w[1] = 0;
			cmdq_add(s, &c);
			break;
		default: {
			struct tlbi_req r = {
				.dw0 = FIELD_PREP(CMD0_OP, vaa ? CMD_TLBI_NH_VAA : CMD_TLBI_NH_VA) |
				       FIELD_PREP(CMD0_VMID, vmid) |
				       (vaa ? 0 : FIELD_PREP(CMD0_ASID, asid)),
				.leaf = v->leaf,
				.addr = v->addr,
				.size = v->granule_size * v->nb_granules,
				.step = v->granule_size,
			};

			r.gshift = granule_of(v->granule_size, &r.ttl);
			if (tlbi_count(s, &r) <= ARM_SMMU_MAX_TLBI) {
				tlbi_emit(s, &r);
			} else {
				/* NH_ASID would keep global entries: the whole VMID. */
				c = cmd_vmid(CMD_TLBI_NH_ALL, vmid);
				cmdq_add(s, &c);
			}
			break;
		}
		}
	}
	if (v->cache & IOMMU_CACHE_INV_TYPE_PASID) {
		if (v->granu == IOMMU_INV_GRANU_DOMAIN) {
			c.w[0] = FIELD_PREP(CMD0_OP, CMD_CFGI_CD_ALL) | FIELD_PREP(CMD0_SID, m->sid);
			c.w[1] = 0;
		} else {
			/* Leaf = 0: a level-1 CD descriptor may have changed too. */
			c.w[0] = FIELD_PREP(CMD0_OP, CMD_CFGI_CD) | FIELD_PREP(CMD0_SID, m->sid) |
				 FIELD_PREP(CMD0_SSID, v->pasid);
			c.w[1] = 0;
		}
		cmdq_add(s, &c);
	}
}

static int asmmu_cache_invalidate(struct iommu_domain *d, struct iommu_device *dev,
				  const struct iommu_inv *inv, unsigned n, unsigned *done)
{
	struct asmmu *s = d->unit->drv;
	struct asmmu_dom *p = d->drv;
	struct asmmu_master *m = dev->drv;
	unsigned good = 0;
	bool atc = false;
	int err = 0, sync_err;

	*done = 0;
	if (d->type != IOMMU_DOMAIN_NESTED || !p || !m)
		return -EINVAL;
	drv_lock(&s->attach_lock);
	cmdq_begin(s);
	for (; good < n; good++) {
		uint16_t asid;
		bool vaa;

		err = inv_check(s, p, &inv[good], &asid, &vaa);
		if (err)
			break;
		inv_emit(s, p, m, &inv[good], asid, vaa);
		if ((inv[good].cache & IOMMU_CACHE_INV_TYPE_DEV_IOTLB) && master_ats(s, m))
			atc = true;
	}
	sync_err = cmdq_sync(s);
	/* Device TLBs after the SMMU's (spec 4.5.1: TLBI, SYNC, ATC_INV, SYNC). */
	if (atc) {
		for (unsigned i = 0; i < good; i++) {
			const struct iommu_inv *v = &inv[i];
			struct cmd c;

			if (!(v->cache & IOMMU_CACHE_INV_TYPE_DEV_IOTLB))
				continue;
			if (v->granu == IOMMU_INV_GRANU_ADDR)
				c = cmd_atc_inv(m->sid, v->pasid_valid, v->pasid, v->addr,
						v->granule_size * v->nb_granules);
			else
				c = cmd_atc_inv(m->sid, true, v->pasid, 0, 0);
			cmdq_add(s, &c);
		}
		if (!sync_err)
			sync_err = cmdq_sync(s);
		else
			cmdq_sync(s);
	}
	cmdq_end(s);
	drv_unlock(s, &s->attach_lock);
	if (sync_err) {
		/* The SMMU refused a command: nothing can be said to have worked. */
		return sync_err;
	}
	*done = good;
	return err;
}

/* ---- page responses ------------------------------------------------------------------------- */

static struct cmd cmd_resume(uint32_t sid, uint16_t stag, bool retry)
{
	return (struct cmd){ { FIELD_PREP(CMD0_OP, CMD_RESUME) | FIELD_PREP(CMD0_SID, sid) |
				       (retry ? CMD0_RESUME_AC : CMD0_RESUME_AB),
			       FIELD_PREP(CMD1_STAG, stag) } };
}

static struct cmd cmd_pri_resp(uint32_t sid, bool ssv, uint32_t ssid, uint32_t prgi,
			       unsigned resp)
{
	return (struct cmd){ { FIELD_PREP(CMD0_OP, CMD_PRI_RESP) | FIELD_PREP(CMD0_SID, sid) |
				       (ssv ? CMD0_SSV | FIELD_PREP(CMD0_SSID, ssid) : 0),
			       FIELD_PREP(CMD1_PRGI, prgi) | FIELD_PREP(CMD1_RESP, resp) } };
}

static int asmmu_page_response(struct iommu_device *dev, bool pasid_valid, uint32_t pasid,
			       uint32_t grpid, enum iommu_page_response_code code)
{
	struct asmmu *s = dev->unit->drv;
	struct asmmu_master *m = dev->drv;
	bool stall = false;
	struct cmd c;
	unsigned resp;

	switch (code) {
	case IOMMU_PAGE_RESP_SUCCESS:
		resp = PRI_RESP_SUCC;           /* 0b10 Success */
		break;
	case IOMMU_PAGE_RESP_INVALID:
		resp = PRI_RESP_FAIL;           /* 0b01 InvalidRequest */
		break;
	case IOMMU_PAGE_RESP_FAILURE:
		resp = PRI_RESP_DENY;           /* 0b00 ResponseFailure */
		break;
	default:
		return -EINVAL;
	}
	if (!m)
		return -ENODEV;
	drv_lock(&s->dev_lock);
	if (s->stall_sid && grpid < STAGS && s->stall_sid[grpid] == m->sid + 1) {
		s->stall_sid[grpid] = 0;
		stall = true;
	}
	drv_unlock(s, &s->dev_lock);
	if (stall) {
		c = cmd_resume(m->sid, (uint16_t)grpid, code == IOMMU_PAGE_RESP_SUCCESS);
	} else {
		if (!s->pri || grpid > FIELD_GET(CMD1_PRGI, ~UINT64_C(0)))
			return -EINVAL;
		c = cmd_pri_resp(m->sid, pasid_valid && s->ssidsize, pasid, grpid, resp);
	}
	return cmdq_issue_one(s, &c);
}

/* ---- interrupts: event queue, PRI queue, global errors ----------------------------------- */

static uint32_t fault_perm(bool rnw, bool ind, bool pnu)
{
	return (rnw ? IOMMU_FAULT_PERM_READ : IOMMU_FAULT_PERM_WRITE) |
	       (ind ? IOMMU_FAULT_PERM_EXEC : 0) | (pnu ? IOMMU_FAULT_PERM_PRIV : 0);
}

static uint32_t event_reason(uint8_t id)
{
	switch (id) {
	case EVT_F_TRANSLATION:
		return IOMMU_FAULT_REASON_PTE_FETCH;
	case EVT_F_PERMISSION:
		return IOMMU_FAULT_REASON_PERMISSION;
	case EVT_F_ACCESS:
		return IOMMU_FAULT_REASON_ACCESS;
	case EVT_F_ADDR_SIZE:
		return IOMMU_FAULT_REASON_OOR_ADDRESS;
	case EVT_F_WALK_EABT:
		return IOMMU_FAULT_REASON_WALK_EABT;
	case EVT_F_CD_FETCH:
		return IOMMU_FAULT_REASON_PASID_FETCH;
	case EVT_C_BAD_CD:
		return IOMMU_FAULT_REASON_BAD_PASID_ENTRY;
	case EVT_C_BAD_SUBSTREAMID:
		return IOMMU_FAULT_REASON_PASID_INVALID;
	}
	return IOMMU_FAULT_REASON_UNKNOWN;
}

/* Records whose dw2 is the input address (spec 7.3). */
static bool event_has_input(uint8_t id)
{
	switch (id) {
	case EVT_F_UUT:
	case EVT_F_BAD_ATS_TREQ:
	case EVT_F_TRANSL_FORBIDDEN:
	case EVT_F_WALK_EABT:
	case EVT_F_TRANSLATION:
	case EVT_F_ADDR_SIZE:
	case EVT_F_ACCESS:
	case EVT_F_PERMISSION:
	case EVT_F_TLB_CONFLICT:
	case EVT_E_PAGE_REQUEST:
		return true;
	}
	return false;
}

static bool event_has_fetch(uint8_t id)
{
	return id == EVT_F_STE_FETCH || id == EVT_F_CD_FETCH || id == EVT_F_VMS_FETCH ||
	       id == EVT_F_WALK_EABT;
}

static void event_one(struct asmmu *s, const uint64_t rec[4])
{
	uint8_t id = (uint8_t)FIELD_GET(EVT0_ID, rec[0]);
	uint32_t sid = (uint32_t)FIELD_GET(EVT0_SID, rec[0]);
	bool ssv = rec[0] & EVT0_SSV;
	uint32_t ssid = (uint32_t)FIELD_GET(EVT0_SSID, rec[0]);
	bool stall = rec[1] & EVT1_STALL;
	uint16_t stag = (uint16_t)FIELD_GET(EVT1_STAG, rec[1]);
	uint32_t perm = fault_perm(rec[1] & EVT1_RNW, rec[1] & EVT1_IND, rec[1] & EVT1_PNU);
	struct asmmu_master *m = master_get(s, sid);
	struct iommu_fault f;

	stat_inc(&s->stats.events);
	if (!m) {
		stat_inc(&s->stats.events_unknown_sid);
		if (stall) {
			struct cmd c = cmd_resume(sid, stag, false);

			cmdq_issue_one(s, &c);
		}
		return;
	}
	memset(&f, 0, sizeof(f));
	if (stall) {
		stat_inc(&s->stats.stalls);
		drv_lock(&s->dev_lock);
		if (s->stall_sid)
			s->stall_sid[stag] = sid + 1;
		drv_unlock(s, &s->dev_lock);
		f.type = IOMMU_FAULT_PAGE_REQ;
		f.prm.flags = IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE |
			      (ssv ? IOMMU_FAULT_PAGE_REQUEST_PASID_VALID : 0);
		f.prm.pasid = ssv ? ssid : 0;
		f.prm.grpid = stag;
		f.prm.perm = perm;
		f.prm.addr = rec[2] & ~UINT64_C(0xfff);
	} else {
		f.type = IOMMU_FAULT_DMA_UNRECOV;
		f.event.reason = event_reason(id);
		if (ssv || id == EVT_C_BAD_SUBSTREAMID) {
			f.event.flags |= IOMMU_FAULT_UNRECOV_PASID_VALID;
			f.event.pasid = ssid;
		}
		if (event_has_input(id)) {
			f.event.flags |= IOMMU_FAULT_UNRECOV_ADDR_VALID;
			f.event.addr = rec[2] & ~UINT64_C(0xfff);
			f.event.perm = perm;
		}
		if (event_has_fetch(id)) {
			f.event.flags |= IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID;
			f.event.fetch_addr = rec[3] & EVT3_FETCH_ADDR;
		} else if ((rec[1] & EVT1_S2) && event_has_input(id) &&
			   FIELD_GET(EVT1_CLASS, rec[1]) != EVT_CLASS_IN) {
			f.event.flags |= IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID;
			f.event.fetch_addr = rec[3] & EVT3_IPA;
		}
	}
	/* A page request nobody takes is answered by the core (RESUME abort). */
	iommu_report_fault(m->dev, &f);
	master_put(s, m);
}

static void handle_evtq(struct asmmu *s)
{
	struct asmmu_queue *q = &s->evtq;
	uint64_t recs[EVT_BATCH][4];

	for (;;) {
		unsigned n = 0;
		uint32_t prod;

		drv_lock(&s->evtq_lock);
		prod = rd32(s, SMMU_EVENTQ_PROD);
		while (n < EVT_BATCH && !q_empty(q, prod, q->cons)) {
			uint64_t pa = q_slot(q, q->cons);

			for (unsigned i = 0; i < 4; i++)
				if (mem_load64(s->mem, pa + 8 * i, &recs[n][i]))
					recs[n][i] = 0;
			q->cons = q_next(q, q->cons);
			n++;
		}
		/* OVFLG != OVACKFLG: records were lost; acknowledged with this CONS. */
		if ((prod & Q_OVF) != q->ovack) {
			q->ovack = prod & Q_OVF;
			stat_inc(&s->stats.event_overflows);
			wr32(s, SMMU_EVENTQ_CONS, q->cons | q->ovack);
		} else if (n) {
			wr32(s, SMMU_EVENTQ_CONS, q->cons | q->ovack);
		}
		drv_unlock(s, &s->evtq_lock);
		for (unsigned i = 0; i < n; i++)
			event_one(s, recs[i]);
		if (!n)
			return;
	}
}

static void pri_one(struct asmmu *s, const uint64_t ent[2])
{
	uint32_t sid = (uint32_t)FIELD_GET(PRI0_SID, ent[0]);
	bool ssv = ent[0] & PRI0_SSV, last = ent[0] & PRI0_LAST;
	bool rd = ent[0] & PRI0_READ, wr = ent[0] & PRI0_WRITE;
	uint32_t ssid = (uint32_t)FIELD_GET(PRI0_SSID, ent[0]);
	uint32_t prgi = (uint32_t)FIELD_GET(PRI1_PRGI, ent[1]);
	struct asmmu_master *m;
	struct iommu_fault f;

	stat_inc(&s->stats.pri_requests);
	if (ssv && last && !rd && !wr) {
		stat_inc(&s->stats.pri_stop_markers);     /* Stop PASID marker */
		return;
	}
	m = master_get(s, sid);
	if (!m) {
		stat_inc(&s->stats.pri_unknown_sid);
		if (last) {
			struct cmd c = cmd_pri_resp(sid, ssv, ssid, prgi, PRI_RESP_FAIL);

			cmdq_issue_one(s, &c);
		}
		return;
	}
	memset(&f, 0, sizeof(f));
	f.type = IOMMU_FAULT_PAGE_REQ;
	f.prm.flags = (ssv ? IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
			     IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID : 0) |
		      (last ? IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE : 0);
	f.prm.pasid = ssv ? ssid : 0;
	f.prm.grpid = prgi;
	f.prm.perm = (rd ? IOMMU_FAULT_PERM_READ : 0) | (wr ? IOMMU_FAULT_PERM_WRITE : 0) |
		     (ent[0] & PRI0_EXEC ? IOMMU_FAULT_PERM_EXEC : 0) |
		     (ent[0] & PRI0_PRIV ? IOMMU_FAULT_PERM_PRIV : 0);
	f.prm.addr = ent[1] & PRI1_ADDR;
	iommu_report_fault(m->dev, &f);
	master_put(s, m);
}

static void handle_priq(struct asmmu *s)
{
	struct asmmu_queue *q = &s->priq;
	uint64_t ents[EVT_BATCH][2];

	for (;;) {
		unsigned n = 0;
		uint32_t prod;
		bool ack = false;

		drv_lock(&s->priq_lock);
		prod = rd32(s, SMMU_PRIQ_PROD);
		while (n < EVT_BATCH && !q_empty(q, prod, q->cons)) {
			uint64_t pa = q_slot(q, q->cons);

			if (mem_load64(s->mem, pa, &ents[n][0]) ||
			    mem_load64(s->mem, pa + 8, &ents[n][1]))
				ents[n][0] = ents[n][1] = 0;
			q->cons = q_next(q, q->cons);
			n++;
		}
		/* An overflow blocks the queue until acknowledged (spec 8.1): once
		 * everything up to PROD has been taken. */
		if ((prod & Q_OVF) != q->ovack && q_empty(q, prod, q->cons)) {
			q->ovack = prod & Q_OVF;
			stat_inc(&s->stats.pri_overflows);
			ack = true;
		}
		if (n || ack)
			wr32(s, SMMU_PRIQ_CONS, q->cons | q->ovack);
		drv_unlock(s, &s->priq_lock);
		for (unsigned i = 0; i < n; i++)
			pri_one(s, ents[i]);
		if (!n)
			return;
	}
}

/* Acknowledges global errors. CMDQ_ERR belongs to the command queue's owner
 * (cmdq_recover), which fixes the queue before acknowledging it. */
static void handle_gerror(struct asmmu *s)
{
	uint32_t gerror, gerrorn, active;

	drv_lock(&s->gerr_lock);
	gerror = rd32(s, SMMU_GERROR);
	gerrorn = rd32(s, SMMU_GERRORN);
	active = (gerror ^ gerrorn) & (uint32_t)GERROR_MASK & ~(uint32_t)GERROR_CMDQ_ERR;
	if (active) {
		stat_inc(&s->stats.gerrors);
		wr32(s, SMMU_GERRORN, gerrorn ^ active);
	}
	drv_unlock(s, &s->gerr_lock);
}

static void handle_irqs(struct asmmu *s, unsigned bits)
{
	tl_irq++;
	do {
		if (bits & (1u << SMMU_IRQ_GERROR))
			handle_gerror(s);
		if (bits & (1u << SMMU_IRQ_EVENTQ))
			handle_evtq(s);
		if (bits & (1u << SMMU_IRQ_PRIQ))
			handle_priq(s);
		bits = atomic_exchange(&s->irq_pending, 0);
	} while (bits);
	tl_irq--;
}

static void asmmu_irq(void *ctx, enum smmu_irq irq)
{
	struct asmmu *s = ctx;

	if (irq != SMMU_IRQ_GERROR && irq != SMMU_IRQ_EVENTQ && irq != SMMU_IRQ_PRIQ)
		return;                 /* CMD_SYNC completion is polled through CONS */
	if (tl_locks || tl_irq) {
		atomic_fetch_or(&s->irq_pending, 1u << irq);
		return;
	}
	handle_irqs(s, 1u << irq);
}

/* ---- unit ------------------------------------------------------------------------------- */

static void asmmu_hw_info(struct iommu_unit *u, struct iommu_hw_info *info)
{
	struct asmmu *s = u->drv;

	memset(info, 0, sizeof(*info));
	info->vendor = IOMMU_VENDOR_ARM_SMMUV3;
	info->pasid_bits = s->ssidsize;
	info->s1_addr_widths = 0;
	info->oas = s->fmt_oas;
	info->pgsize_bitmap = s->s2_pgsizes;
	memcpy(info->smmu.idr, s->idr, sizeof(info->smmu.idr));
	info->smmu.iidr = s->iidr;
	info->smmu.aidr = s->aidr;
}

/* Writes CR0 and waits for CR0ACK to follow (spec 6.3.9). */
static int write_cr0(struct asmmu *s, uint32_t val)
{
	uint64_t deadline = now_ns() + POLL_TIMEOUT_NS;

	wr32(s, SMMU_CR0, val);
	while (rd32(s, SMMU_CR0ACK) != val) {
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

static int write_gbpa_abort(struct asmmu *s)
{
	uint64_t deadline = now_ns() + POLL_TIMEOUT_NS;
	uint32_t gbpa = rd32(s, SMMU_GBPA);

	while (gbpa & GBPA_UPDATE) {
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		sched_yield();
		gbpa = rd32(s, SMMU_GBPA);
	}
	wr32(s, SMMU_GBPA, (gbpa & (uint32_t)GBPA_FIELDS) | (uint32_t)GBPA_ABORT |
			   (uint32_t)GBPA_UPDATE);
	while (rd32(s, SMMU_GBPA) & GBPA_UPDATE) {
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

static void asmmu_free_mem(struct asmmu *s)
{
	if (s->l2)
		for (unsigned i = 0; i < s->l1_n; i++)
			if (s->l2[i])
				mem_frames_free(s->pool, s->l2[i], (uint64_t)STE_SIZE << ST_SPLIT);
	free(s->l2);
	if (s->st_bytes)
		mem_frames_free(s->pool, s->st_base, s->st_bytes);
	q_free(s, &s->cmdq);
	q_free(s, &s->evtq);
	q_free(s, &s->priq);
	for (unsigned i = 0; i < ARRAY_SIZE(s->sidmap); i++)
		free(s->sidmap[i]);
	free(s->vmid_map);
	free(s->asid_map);
	free(s->stall_sid);
	pthread_mutex_destroy(&s->cmdq_lock);
	pthread_mutex_destroy(&s->evtq_lock);
	pthread_mutex_destroy(&s->priq_lock);
	pthread_mutex_destroy(&s->attach_lock);
	pthread_mutex_destroy(&s->dev_lock);
	pthread_mutex_destroy(&s->gerr_lock);
	pthread_mutex_destroy(&s->defer_lock);
	pthread_cond_destroy(&s->dev_cond);
	free(s);
}

/* Disables the SMMU (translation, queues, interrupts) and frees everything. */
static void asmmu_shutdown(struct asmmu *s)
{
	write_cr0(s, 0);
	wr32(s, SMMU_IRQ_CTRL, 0);
	smmu_set_irq_cb(s->hw, NULL, NULL);
	asmmu_free_mem(s);
}

static void asmmu_unit_free(struct iommu_unit *u)
{
	asmmu_shutdown(u->drv);
	u->drv = NULL;
}

static const struct iommu_ops asmmu_ops = {
	.name = "arm-smmu-v3",
	.vendor = IOMMU_VENDOR_ARM_SMMUV3,
	.rid_covers_pasids = true,
	.hw_info = asmmu_hw_info,
	.probe_device = asmmu_probe_device,
	.release_device = asmmu_release_device,
	.domain_init = asmmu_domain_init,
	.domain_fini = asmmu_domain_fini,
	.attach_dev = asmmu_attach_dev,
	.detach_dev = asmmu_detach_dev,
	.attach_dev_pasid = asmmu_attach_dev_pasid,
	.detach_dev_pasid = asmmu_detach_dev_pasid,
	.flush_range = asmmu_flush_range,
	.cache_invalidate = asmmu_cache_invalidate,
	.page_response = asmmu_page_response,
	.unit_free = asmmu_unit_free,
};

/* Reads the ID registers: -ENODEV for an SMMU vsva cannot use. */
static int read_features(struct asmmu *s)
{
	uint32_t idr0, idr1, idr5;
	struct pgt_fmt f;

	for (unsigned i = 0; i < 6; i++)
		s->idr[i] = rd32(s, SMMU_IDR0 + 4 * i);
	s->iidr = rd32(s, SMMU_IIDR);
	s->aidr = rd32(s, SMMU_AIDR);
	idr0 = s->idr[0];
	idr1 = s->idr[1];
	idr5 = s->idr[5];
	if (!(FIELD_GET(IDR0_TTF, idr0) & IDR0_TTF_AARCH64) || !(idr0 & IDR0_S2P) ||
	    !(idr5 & IDR5_GRAN4K))
		return -ENODEV;
	s->s1p = idr0 & IDR0_S1P;
	s->ats = idr0 & IDR0_ATS;
	s->pri = s->ats && (idr0 & IDR0_PRI);
	s->cd2l = idr0 & IDR0_CD2L;
	s->hyp = idr0 & IDR0_HYP;
	s->ril = s->idr[3] & IDR3_RIL;
	s->stall_model = (unsigned)FIELD_GET(IDR0_STALL_MODEL, idr0);
	s->vmid_bits = idr0 & IDR0_VMID16 ? 16 : 8;
	s->asid_bits = idr0 & IDR0_ASID16 ? 16 : 8;
	s->sidsize = (unsigned)FIELD_GET(IDR1_SIDSIZE, idr1);
	s->ssidsize = (unsigned)FIELD_GET(IDR1_SSIDSIZE, idr1);
	s->oas = oas_bits((unsigned)FIELD_GET(IDR5_OAS, idr5));
	/* 4K tables without FEAT_LPA2 address 48 bits. */
	s->fmt_oas = s->oas < 48 ? s->oas : 48;
	s->st_log2 = s->sidsize < ST_LOG2_MAX ? s->sidsize : ST_LOG2_MAX;
	s->two_level = FIELD_GET(IDR0_ST_LEVEL, idr0) == 1 && s->st_log2 > ST_SPLIT;
	s->cmdq.log2 = (unsigned)FIELD_GET(IDR1_CMDQS, idr1);
	s->evtq.log2 = (unsigned)FIELD_GET(IDR1_EVENTQS, idr1);
	s->priq.log2 = (unsigned)FIELD_GET(IDR1_PRIQS, idr1);
	if (s2_format(s, &f))
		return -ENODEV;
	s->s2_pgsizes = pgt_page_sizes(&f);
	return 0;
}

static int alloc_tables(struct asmmu *s)
{
	unsigned log2;
	int err;

	if (s->two_level) {
		s->l1_n = 1u << (s->st_log2 - ST_SPLIT);
		s->st_bytes = (uint64_t)s->l1_n * STE_L1_SIZE;
		s->l2 = calloc(s->l1_n, sizeof(s->l2[0]));
		if (!s->l2)
			return -ENOMEM;
	} else {
		s->st_bytes = (uint64_t)STE_SIZE << s->st_log2;
	}
	if (s->st_bytes < MEM_FRAME_SIZE)
		s->st_bytes = MEM_FRAME_SIZE;
	err = mem_frames_alloc(s->pool, s->st_bytes, &s->st_base);
	if (err) {
		s->st_bytes = 0;
		return err;
	}
	log2 = s->cmdq.log2 < CMDQ_LOG2_MAX ? s->cmdq.log2 : CMDQ_LOG2_MAX;
	err = q_alloc(s, &s->cmdq, log2, CMD_SIZE);
	if (err) {
		s->cmdq.bytes = 0;
		return err;
	}
	log2 = s->evtq.log2 < EVTQ_LOG2_MAX ? s->evtq.log2 : EVTQ_LOG2_MAX;
	err = q_alloc(s, &s->evtq, log2, EVT_SIZE);
	if (err) {
		s->evtq.bytes = 0;
		return err;
	}
	if (s->pri) {
		log2 = s->priq.log2 < PRIQ_LOG2_MAX ? s->priq.log2 : PRIQ_LOG2_MAX;
		err = q_alloc(s, &s->priq, log2, PRI_SIZE);
		if (err) {
			s->priq.bytes = 0;
			return err;
		}
	}
	s->vmid_map = calloc(BIT(s->vmid_bits) / 64, sizeof(uint64_t));
	s->asid_map = calloc(BIT(s->asid_bits) / 64, sizeof(uint64_t));
	if (s->stall_model != 1)
		s->stall_sid = calloc(STAGS, sizeof(uint32_t));
	if (!s->vmid_map || !s->asid_map || (s->stall_model != 1 && !s->stall_sid))
		return -ENOMEM;
	return 0;
}

/* The reset sequence (Linux's order): SMMUEN off, GBPA abort, table and queue
 * attributes, stream table, command queue on, every cache invalidated, event
 * and PRI queues on, interrupts on, then SMMUEN (with ATSCHK: translated
 * traffic is checked against STE.EATS). */
static int reset(struct asmmu *s)
{
	uint32_t enables = CR0_CMDQEN;
	struct cmd c;
	int err;

	if (rd32(s, SMMU_CR0) & CR0_SMMUEN) {
		err = write_cr0(s, 0);
		if (err)
			return err;
	}
	err = write_gbpa_abort(s);
	if (!err)
		err = write_cr0(s, 0);
	if (err)
		return err;
	wr32(s, SMMU_IRQ_CTRL, 0);
	wr32(s, SMMU_CR1, (uint32_t)(FIELD_PREP(CR1_TABLE_SH, SH_ISH) |
				     FIELD_PREP(CR1_TABLE_OC, CACHE_WB) |
				     FIELD_PREP(CR1_TABLE_IC, CACHE_WB) |
				     FIELD_PREP(CR1_QUEUE_SH, SH_ISH) |
				     FIELD_PREP(CR1_QUEUE_OC, CACHE_WB) |
				     FIELD_PREP(CR1_QUEUE_IC, CACHE_WB)));
	wr32(s, SMMU_CR2, (uint32_t)CR2_RECINVSID);
	wr64(s, SMMU_STRTAB_BASE, (s->st_base & STRTAB_BASE_ADDR) | STRTAB_BASE_RA);
	wr32(s, SMMU_STRTAB_BASE_CFG,
	     (uint32_t)(FIELD_PREP(STRTAB_CFG_LOG2SIZE, s->st_log2) |
			(s->two_level ? FIELD_PREP(STRTAB_CFG_FMT, STRTAB_FMT_2LVL) |
					FIELD_PREP(STRTAB_CFG_SPLIT, ST_SPLIT) : 0)));

	wr64(s, SMMU_CMDQ_BASE, q_base_reg(&s->cmdq));
	wr32(s, SMMU_CMDQ_PROD, 0);
	wr32(s, SMMU_CMDQ_CONS, 0);
	err = write_cr0(s, enables);
	if (err)
		return err;
	/* Configuration first, then TLBs (spec 4.3.6). */
	cmdq_begin(s);
	c = (struct cmd){ { FIELD_PREP(CMD0_OP, CMD_CFGI_STE_RANGE), FIELD_PREP(CMD1_RANGE, 31) } };
	cmdq_add(s, &c);
	cmdq_sync(s);
	if (s->hyp) {
		c = (struct cmd){ { FIELD_PREP(CMD0_OP, CMD_TLBI_EL2_ALL), 0 } };
		cmdq_add(s, &c);
	}
	c = (struct cmd){ { FIELD_PREP(CMD0_OP, CMD_TLBI_NSNH_ALL), 0 } };
	cmdq_add(s, &c);
	err = cmdq_sync(s);
	cmdq_end(s);
	if (err)
		return err;

	wr64(s, SMMU_EVENTQ_BASE, q_base_reg(&s->evtq));
	wr32(s, SMMU_EVENTQ_PROD, 0);
	wr32(s, SMMU_EVENTQ_CONS, 0);
	enables |= CR0_EVENTQEN;
	err = write_cr0(s, enables);
	if (err)
		return err;
	if (s->pri) {
		wr64(s, SMMU_PRIQ_BASE, q_base_reg(&s->priq));
		wr32(s, SMMU_PRIQ_PROD, 0);
		wr32(s, SMMU_PRIQ_CONS, 0);
		enables |= CR0_PRIQEN;
		err = write_cr0(s, enables);
		if (err)
			return err;
	}
	smmu_set_irq_cb(s->hw, asmmu_irq, s);
	wr32(s, SMMU_IRQ_CTRL, (uint32_t)(IRQ_CTRL_GERROR_IRQEN | IRQ_CTRL_EVENTQ_IRQEN |
					  (s->pri ? IRQ_CTRL_PRIQ_IRQEN : 0)));
	if (s->ats)
		enables |= CR0_ATSCHK;
	return write_cr0(s, enables | CR0_SMMUEN);
}

int arm_smmu_probe(struct smmu *hw, struct mem_space *mem, struct mem_frames *pool,
		   struct iommu_unit **out)
{
	struct asmmu *s = calloc(1, sizeof(*s));
	struct iommu_unit *u;
	int err;

	if (!s)
		return -ENOMEM;
	s->hw = hw;
	s->mem = mem;
	s->pool = pool;
	pthread_mutex_init(&s->cmdq_lock, NULL);
	pthread_mutex_init(&s->evtq_lock, NULL);
	pthread_mutex_init(&s->priq_lock, NULL);
	pthread_mutex_init(&s->attach_lock, NULL);
	pthread_mutex_init(&s->dev_lock, NULL);
	pthread_mutex_init(&s->gerr_lock, NULL);
	pthread_mutex_init(&s->defer_lock, NULL);
	pthread_cond_init(&s->dev_cond, NULL);
	err = read_features(s);
	if (err) {
		asmmu_free_mem(s);      /* an SMMU vsva cannot use is left as it is */
		return err;
	}
	err = alloc_tables(s);
	if (!err)
		err = reset(s);
	if (err) {
		write_cr0(s, 0);
		wr32(s, SMMU_IRQ_CTRL, 0);
		smmu_set_irq_cb(hw, NULL, NULL);
		asmmu_free_mem(s);
		return err;
	}
	u = iommu_unit_new(&asmmu_ops, mem, pool, s);
	if (!u) {
		asmmu_shutdown(s);
		return -ENOMEM;
	}
	s->unit = u;
	*out = u;
	return 0;
}

void arm_smmu_get_stats(struct iommu_unit *u, struct arm_smmu_stats *st)
{
	struct asmmu *s = u->drv;
	const uint64_t *src = (const uint64_t *)&s->stats;
	uint64_t *dst = (uint64_t *)st;

	for (unsigned i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
