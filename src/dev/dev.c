/* dev/dev.c — a PCIe endpoint: PASID-tagged requests, ATS with a device TLB
 * (the address translation cache, ATC), PRI page request groups, and the DMA
 * engine that drives them (interface and contract in dev.h).
 *
 * Owns: struct dev_ep, its ATC (a hw/hwcache), its PRG slots and its counters.
 *
 * The ATC. One entry per ATS translation completion, tagged
 *   tag[0] = pasid_valid << 63 | pasid
 *   tag[1] = input base (aligned to the translation size)
 *   tag[2] = size | ATC_TAG_PRIV (the Privileged Mode Requested bit the completion
 *            answered: PCIe gives separate permissions for the two modes)
 * with value {output address of the base, ATC_PERM_* bits}. ATS translations are
 * naturally aligned powers of two from 4 KiB to 2^63, so a lookup probes one tag
 * per size; to avoid probing 52 sizes, the endpoint keeps a mask of the sizes it
 * has ever cached (atc_sizes, only ever grows: a stale bit costs one probe, a
 * missing one is impossible because the bit is set before the fill) and probes
 * those, smallest first. A hit that lacks the permission the request needs is a
 * miss: the device asks again (an exec request after a read, a write after a
 * read-only completion), as an ATC would. Completions whose range is malformed
 * (not a power of two >= 4 KiB, misaligned, not containing the address) are used
 * and cached as the 4 KiB page of the address only.
 *
 * Invalidation is complete when dev_ep_atc_invalidate() returns. PCIe requires
 * that an Invalidate Completion follow every request that may have used an
 * invalidated translation, and that translation requests in flight when the
 * invalidation arrived not be used afterwards. Two mechanisms give that:
 *  - a fill carries hwc_gen() read before its translation request, so a
 *    completion that raced with an invalidation is never cached (hwcache.h);
 *  - each DMA chunk (ATC lookup or translation request, translated request,
 *    copy) runs inside a "use" counted per shard and per phase; an invalidation,
 *    after dropping its entries, flips the phase twice and each time waits for
 *    the uses of the old phase to end (SRCU-style, so a stream of new DMAs
 *    cannot starve it). A use never spans a page request wait.
 * So dev_ep_atc_invalidate() and dev_ep_enable_ats(ep, false) wait for DMAs in
 * flight: their caller must not hold a lock that port->translate takes. (Called
 * from inside port->translate on the DMA's own thread, they skip that thread's
 * own use rather than wait for themselves.)
 *
 * A DMA, page by page (a translation covering several pages moves them in one
 * step): with ATS enabled, ATC lookup or translation request, then translated
 * requests, which carry no PASID prefix (PCIe has none on translated requests,
 * and Execute and Privileged travel in it), so that the IOMMU may check them;
 * the address it returns is where the data goes. Without ATS, an untranslated
 * request. "No access" (a translation completion with R = W = 0 or without the
 * permission needed, or an IOMMU answering an untranslated request so) leads to
 * one page request and one retry when the DMA asked for PRI and PRI is usable;
 * otherwise it is DEV_DMA_FAULT. Copies go through mem/ and are split where a
 * region ends, never where a translation does not.
 *
 * Stalls (Arm's stall model, untranslated requests only): the IOMMU answers
 * DEV_XLATE_STALLED with a tag; the DMA leaves its use, then waits in
 * port->stall_wait (up to retry_wait_ns) for software's resume: retry (the page
 * is translated again as a new request, which may stall again), abort (the DMA
 * ends DEV_DMA_FAULT) or RAZ/WI. An access terminated as RAZ/WI, directly or
 * after a stall, reads zeros and writes nothing for the rest of its 4 KiB page,
 * and the DMA goes on.
 *
 * Counts: rep->translations counts requests the IOMMU translated (translation
 * requests and untranslated requests, not translated ones). Stats: dmas counts
 * DMAs that ran (len > 0), faults those that ended DEV_DMA_FAULT; the atc_*
 * counters are the ATC's own (hwc stats: one hit or miss per lookup).
 *
 * PRI. Page request group indexes (PRGI, 9 bits) are slots in prg[]; a free one
 * is taken round robin after the last one handed out, so a late or duplicated
 * response is unlikely to match a newer group. At most prg_limit =
 * min(pri_outstanding, 512) groups are outstanding (the PRI capacity); a DMA
 * that finds none free waits for one. Each group has one request (last = true).
 * A waiter that times out leaves its group outstanding ("abandoned"): the IOMMU
 * still owes a response, and the slot is freed only when it comes (or PRI is
 * disabled), so its index is not reused under a response still in flight.
 * Response Failure stops page requests until dev_ep_enable_pri(ep, true).
 *
 * Locking: the DMA path takes no lock on an ATC hit (hwcache seqlock, sharded
 * use counters). pri_lock guards every PRG slot, the PRI enable and stop state;
 * pri_cond (CLOCK_MONOTONIC) wakes response and capacity waiters. drain_lock
 * serialises invalidations' phase flips. No lock is held while calling
 * port->translate or port->page_request (either may call back into the
 * endpoint, e.g. answer a page request inline).
 */
#include "dev/dev.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw/hwcache.h"
#include "util/bits.h"
#include "util/pcounter.h"

#define DEV_PAGE		4096ull
#define DEV_PASID_BITS_MAX	20u
#define DEV_PRGI_COUNT		512u		/* 9-bit PRG index */

#define ATC_TAG_PASID_VALID	BIT(63)
#define ATC_TAG_PRIV		BIT(0)		/* in tag[2]; sizes are >= 4 KiB */

#define ATC_PERM_R		1u
#define ATC_PERM_W		2u
#define ATC_PERM_X		4u
#define ATC_PERM_PRIV		8u

enum prg_state {
	PRG_FREE = 0,
	PRG_WAITING,		/* sent, its DMA waits for the response */
	PRG_ANSWERED,		/* response arrived, the waiter has not taken it yet */
	PRG_ABANDONED,		/* its waiter timed out; the response is still owed */
};

struct prg_slot {
	enum prg_state state;
	bool cancelled;		/* PRI disabled while waiting: the waiter fails */
	bool pasid_valid;
	uint32_t pasid;
	enum dev_prg_resp code;
};

/* DMA chunks in flight, per phase; one padded shard per pcounter shard. */
struct atc_users {
	_Atomic uint64_t n[2];
	char pad[64 - 2 * sizeof(uint64_t)];
};

struct dev_ep {
	struct atc_users users[PCOUNTER_SHARDS];	/* first: 64-byte aligned */
	_Atomic unsigned use_phase;
	pthread_mutex_t drain_lock;

	struct dev_ep_config cfg;
	struct mem_space *mem;
	const struct dev_port *_Atomic port;
	_Atomic bool pasid_on, ats_on;
	struct hwc *atc;			/* NULL without the ATS capability */
	_Atomic uint64_t atc_sizes;		/* bit n: a 2^n translation was cached */

	pthread_mutex_t pri_lock;
	pthread_cond_t pri_cond;
	bool pri_on;
	bool pri_stopped;			/* Response Failure received */
	unsigned prg_limit, prg_outstanding, prg_next;
	struct prg_slot prg[DEV_PRGI_COUNT];

	struct {
		struct pcounter dmas, bytes, page_requests, prg_responses, faults;
	} stats;
};

/* ---- creation and software enables ------------------------------------- */

static bool config_valid(const struct dev_ep_config *cfg)
{
	if (cfg->pasid_bits > DEV_PASID_BITS_MAX)
		return false;
	if (cfg->ats && cfg->atc_entries &&
	    (!is_pow2_u64(cfg->atc_entries) || cfg->atc_ways == 0 || cfg->atc_ways > 64 ||
	     cfg->atc_entries % cfg->atc_ways))
		return false;
	if (cfg->pri && cfg->pri_outstanding == 0)
		return false;
	return true;
}

struct dev_ep *dev_ep_new(const struct dev_ep_config *cfg, struct mem_space *mem)
{
	struct dev_ep *ep;
	pthread_condattr_t ca;
	size_t size = (sizeof(*ep) + 63) & ~(size_t)63;

	if (!cfg || !mem || !config_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	ep = aligned_alloc(64, size);
	if (!ep)
		goto nomem;
	memset(ep, 0, size);
	ep->cfg = *cfg;
	ep->mem = mem;
	if (cfg->ats) {
		/* An ATC of 0 entries is a cache that never hits: ATS without a TLB. */
		ep->atc = hwc_new("atc", cfg->atc_entries, cfg->atc_entries ? cfg->atc_ways : 1);
		if (!ep->atc)
			goto nomem_ep;
	}
	ep->prg_limit = cfg->pri_outstanding < DEV_PRGI_COUNT ? cfg->pri_outstanding
							      : DEV_PRGI_COUNT;
	if (pthread_condattr_init(&ca))
		goto nomem_atc;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&ep->pri_cond, &ca)) {
		pthread_condattr_destroy(&ca);
		goto nomem_atc;
	}
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&ep->pri_lock, NULL);
	pthread_mutex_init(&ep->drain_lock, NULL);
	return ep;

nomem_atc:
	hwc_free(ep->atc);
nomem_ep:
	free(ep);
nomem:
	errno = ENOMEM;
	return NULL;
}

void dev_ep_free(struct dev_ep *ep)
{
	if (!ep)
		return;
	hwc_free(ep->atc);
	pthread_cond_destroy(&ep->pri_cond);
	pthread_mutex_destroy(&ep->pri_lock);
	pthread_mutex_destroy(&ep->drain_lock);
	free(ep);
}

uint16_t dev_ep_rid(const struct dev_ep *ep)
{
	return ep->cfg.rid;
}

const struct dev_ep_config *dev_ep_get_config(const struct dev_ep *ep)
{
	return &ep->cfg;
}

bool dev_ep_ats_enabled(const struct dev_ep *ep)
{
	return atomic_load_explicit(&ep->ats_on, memory_order_acquire);
}

bool dev_ep_pasid_enabled(const struct dev_ep *ep)
{
	return atomic_load_explicit(&ep->pasid_on, memory_order_acquire);
}

void dev_ep_attach(struct dev_ep *ep, const struct dev_port *port)
{
	atomic_store_explicit(&ep->port, port, memory_order_release);
}

int dev_ep_enable_pasid(struct dev_ep *ep, bool on)
{
	if (!ep->cfg.pasid_bits)
		return -EINVAL;
	/* Cached PASID-tagged translations stay: software invalidates them, as it
	 * must on hardware before changing the enable under a live ATC. */
	atomic_store_explicit(&ep->pasid_on, on, memory_order_release);
	return 0;
}

static void atc_drain(struct dev_ep *ep);

int dev_ep_enable_ats(struct dev_ep *ep, bool on)
{
	if (!ep->cfg.ats)
		return -EINVAL;
	atomic_store_explicit(&ep->ats_on, on, memory_order_seq_cst);
	if (!on) {
		/* Clearing ATS Enable drops the whole device TLB. */
		hwc_invalidate_all(ep->atc);
		atc_drain(ep);
	}
	return 0;
}

int dev_ep_enable_pri(struct dev_ep *ep, bool on)
{
	if (!ep->cfg.pri)
		return -EINVAL;
	pthread_mutex_lock(&ep->pri_lock);
	if (on) {
		/* Software re-enabling is what clears Response Failure. */
		ep->pri_on = true;
		ep->pri_stopped = false;
	} else {
		ep->pri_on = false;
		for (unsigned i = 0; i < DEV_PRGI_COUNT; i++) {
			struct prg_slot *g = &ep->prg[i];

			if (g->state == PRG_WAITING) {
				g->cancelled = true;	/* its waiter frees it */
			} else if (g->state == PRG_ABANDONED) {
				g->state = PRG_FREE;
				ep->prg_outstanding--;
			}
		}
		pthread_cond_broadcast(&ep->pri_cond);
	}
	pthread_mutex_unlock(&ep->pri_lock);
	return 0;
}

/* ---- ATC uses and invalidation ------------------------------------------ */

/* One DMA chunk's claim on the translations it may be using. */
struct atc_use {
	struct dev_ep *ep;
	unsigned shard, phase;
	struct atc_use *outer;
};

/* This thread's open uses, so that an invalidation issued on the thread of a
 * DMA (from inside port->translate) does not wait for itself. */
static __thread struct atc_use *this_thread_uses;

static void atc_use_begin(struct dev_ep *ep, struct atc_use *u)
{
	u->ep = ep;
	u->shard = pcounter_shard();
	u->phase = atomic_load_explicit(&ep->use_phase, memory_order_seq_cst) & 1;
	atomic_fetch_add_explicit(&ep->users[u->shard].n[u->phase], 1, memory_order_seq_cst);
	/* Orders the count before the lookup, against the invalidation's drop
	 * before its count check: either it sees this use or this use misses. */
	atomic_thread_fence(memory_order_seq_cst);
	u->outer = this_thread_uses;
	this_thread_uses = u;
}

static void atc_use_end(struct atc_use *u)
{
	this_thread_uses = u->outer;
	atomic_fetch_sub_explicit(&u->ep->users[u->shard].n[u->phase], 1, memory_order_release);
}

static uint64_t atc_users(struct dev_ep *ep, unsigned phase)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < PCOUNTER_SHARDS; i++)
		n += atomic_load_explicit(&ep->users[i].n[phase], memory_order_acquire);
	return n;
}

/* Waits until every DMA chunk that began before the call has ended. */
static void atc_drain(struct dev_ep *ep)
{
	pthread_mutex_lock(&ep->drain_lock);
	/* Twice: a chunk may read the phase, stall, and count itself in the old
	 * phase after the first wait looked; the second flip catches it. */
	for (int flip = 0; flip < 2; flip++) {
		unsigned old = atomic_fetch_add_explicit(&ep->use_phase, 1, memory_order_seq_cst) & 1;
		uint64_t own = 0;

		atomic_thread_fence(memory_order_seq_cst);
		for (struct atc_use *u = this_thread_uses; u; u = u->outer)
			own += u->ep == ep && u->phase == old;
		while (atc_users(ep, old) > own)
			sched_yield();
	}
	pthread_mutex_unlock(&ep->drain_lock);
}

static uint64_t pasid_tag(bool pasid_valid, uint32_t pasid)
{
	return pasid_valid ? ATC_TAG_PASID_VALID | pasid : 0;
}

static uint64_t atc_hash(const uint64_t tag[HWC_TAG_WORDS])
{
	return hwc_hash(tag[1] ^ tag[2], tag[0]);
}

struct atc_inval {
	uint64_t tag0;
	bool pasid_valid, global;
	uint64_t first, last;		/* inclusive input range */
};

/*
 * Which entries an invalidation drops (dev.h): with a PASID, that PASID's
 * entries, or every PASID-tagged entry when global; without a PASID, the
 * entries of requests without PASID. Overlap is any intersection of the
 * entry's [base, base + size) with the range.
 */
static bool atc_inval_match(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
			    const void *ctx)
{
	const struct atc_inval *inv = ctx;
	uint64_t size = tag[2] & ~ATC_TAG_PRIV;
	uint64_t last = tag[1] + (size - 1);

	(void)val;
	/* PCIe: an invalidation without a PASID prefix covers every ATC entry in the
	 * range, with or without PASID; there is no way to name only the entries
	 * without one (Linux's arm-smmu-v3 reads the spec the same way). */
	if (!inv->pasid_valid) {
		/* every entry in range */
	} else if (inv->global) {
		if (!(tag[0] & ATC_TAG_PASID_VALID))
			return false;
	} else if (tag[0] != inv->tag0) {
		return false;
	}
	return tag[1] <= inv->last && last >= inv->first;
}

unsigned dev_ep_atc_invalidate(struct dev_ep *ep, bool pasid_valid, uint32_t pasid, bool global,
			       uint64_t addr, uint64_t size)
{
	struct atc_inval inv = {
		.tag0 = pasid_tag(pasid_valid, pasid),
		.pasid_valid = pasid_valid,
		.global = global,
	};
	unsigned n;

	if (!ep->atc)
		return 0;
	if (size == 0) {
		/* "Everything": the whole input space of the PASID scope. */
		inv.first = 0;
		inv.last = UINT64_MAX;
	} else {
		/* The range as given: a malformed one (the IOMMU encodes sizes) is
		 * honoured by overlap rather than refused, erring towards dropping. */
		inv.first = addr;
		inv.last = addr + (size - 1) < addr ? UINT64_MAX : addr + (size - 1);
	}
	n = hwc_invalidate(ep->atc, atc_inval_match, &inv);
	atc_drain(ep);
	return n;
}

/* ---- translations -------------------------------------------------------- */

/* A translation in use: input [base, base + size) to output pa_base. */
struct xl {
	uint64_t base, size, pa_base;
	unsigned perm;
};

static unsigned answer_perm(const struct dev_xlate *x)
{
	return (x->r ? ATC_PERM_R : 0) | (x->w ? ATC_PERM_W : 0) | (x->x ? ATC_PERM_X : 0) |
	       (x->priv ? ATC_PERM_PRIV : 0);
}

static void xl_from_answer(struct xl *t, const struct dev_xlate *x, uint64_t addr)
{
	if (x->size >= DEV_PAGE && is_pow2_u64(x->size) && !(x->page_base & (x->size - 1)) &&
	    addr - x->page_base < x->size) {
		t->base = x->page_base;
		t->size = x->size;
	} else {
		t->base = addr & ~(DEV_PAGE - 1);
		t->size = DEV_PAGE;
	}
	t->pa_base = x->pa - (addr - t->base);
	t->perm = answer_perm(x);
}

/* Bytes from addr to the end of the translation (>= 1). */
static uint64_t xl_span(const struct xl *t, uint64_t addr)
{
	return t->size - (addr - t->base);
}

/* One DMA in progress. */
struct dma_run {
	struct dev_ep *ep;
	const struct dev_port *port;
	const struct dev_dma *d;
	struct dev_dma_report *rep;
	struct dev_txn txn;		/* the DMA's request fields, addr and at per use */
	uint64_t tag0;
	unsigned need;			/* ATC_PERM_* the access needs */
	uint64_t addr, left;		/* next input address, bytes still to move */
	uint8_t *buf;
	bool page_requested;		/* this page has had its page request */
};

enum resolve {
	RESOLVED,
	NEED_PAGE,			/* no access: PRI may make the page present */
	REFUSED,			/* the DMA ends with DEV_DMA_FAULT */
	STALLED,			/* the IOMMU holds the request: wait for its resume */
	RAZ_WI,				/* terminated as read-as-zero, write-ignored */
};

static bool atc_lookup(struct dma_run *run, struct xl *t)
{
	struct hwc *atc = run->ep->atc;
	uint64_t sizes = atomic_load_explicit(&run->ep->atc_sizes, memory_order_acquire);
	uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS];

	for (; sizes; sizes &= sizes - 1) {
		uint64_t size = BIT(__builtin_ctzll(sizes));

		tag[0] = run->tag0;
		tag[1] = run->addr & ~(size - 1);
		tag[2] = size | (run->d->priv ? ATC_TAG_PRIV : 0);
		if (hwc_lookup(atc, atc_hash(tag), tag, val)) {
			t->base = tag[1];
			t->size = size;
			t->pa_base = val[0];
			t->perm = (unsigned)val[1];
			return true;
		}
	}
	return false;
}

static void atc_fill(struct dma_run *run, const struct xl *t, uint64_t gen)
{
	uint64_t tag[HWC_TAG_WORDS] = {
		run->tag0, t->base, t->size | (run->d->priv ? ATC_TAG_PRIV : 0)
	};
	uint64_t val[HWC_VAL_WORDS] = { t->pa_base, t->perm, 0, 0 };

	/* The size bit first: a lookup that finds the entry must probe its size. */
	atomic_fetch_or_explicit(&run->ep->atc_sizes, t->size, memory_order_release);
	hwc_fill(run->ep->atc, atc_hash(tag), tag, val, gen);
}

static void answer_from_xl(struct dev_xlate *x, const struct xl *t, uint64_t addr)
{
	memset(x, 0, sizeof(*x));
	x->status = DEV_XLATE_OK;
	x->pa = t->pa_base + (addr - t->base);
	x->page_base = t->base;
	x->size = t->size;
	x->r = t->perm & ATC_PERM_R;
	x->w = t->perm & ATC_PERM_W;
	x->x = t->perm & ATC_PERM_X;
	x->priv = t->perm & ATC_PERM_PRIV;
}

/* With ATS: the ATC, else a translation request. */
static enum resolve resolve_ats(struct dma_run *run, struct xl *t, struct dev_xlate *answer)
{
	struct dev_ep *ep = run->ep;
	struct dev_txn txn = run->txn;
	uint64_t gen;

	if (atc_lookup(run, t) && (t->perm & run->need) == run->need) {
		hwc_count_hit(ep->atc);
		run->rep->atc_hits++;
		answer_from_xl(answer, t, run->addr);
		return RESOLVED;
	}
	hwc_count_miss(ep->atc);
	run->rep->atc_misses++;
	/* Before the request: an invalidation from now on voids this completion. */
	gen = hwc_gen(ep->atc);
	txn.at = DEV_AT_TRANS_REQ;
	txn.addr = run->addr;
	memset(answer, 0, sizeof(*answer));
	run->port->translate(run->port->iommu, &txn, answer);
	run->rep->translations++;
	switch (answer->status) {
	case DEV_XLATE_OK:
		break;
	case DEV_XLATE_NO_ACCESS:
		return NEED_PAGE;
	default:
		return REFUSED;
	}
	if (!answer->r && !answer->w)		/* R = W = 0 is "no access" */
		return NEED_PAGE;
	xl_from_answer(t, answer, run->addr);
	atc_fill(run, t, gen);
	return (t->perm & run->need) == run->need ? RESOLVED : NEED_PAGE;
}

/* Without ATS: the IOMMU translates (and checks) the request itself. */
static enum resolve resolve_untranslated(struct dma_run *run, struct xl *t,
					 struct dev_xlate *answer)
{
	struct dev_txn txn = run->txn;

	txn.at = DEV_AT_UNTRANSLATED;
	txn.addr = run->addr;
	memset(answer, 0, sizeof(*answer));
	run->port->translate(run->port->iommu, &txn, answer);
	run->rep->translations++;
	switch (answer->status) {
	case DEV_XLATE_OK:
		xl_from_answer(t, answer, run->addr);
		return RESOLVED;
	case DEV_XLATE_NO_ACCESS:
		return NEED_PAGE;
	case DEV_XLATE_STALLED:
		return run->port->stall_wait ? STALLED : REFUSED;
	case DEV_XLATE_RAZ_WI:
		return RAZ_WI;
	default:
		return REFUSED;
	}
}

/* ---- data movement ------------------------------------------------------- */

/* Copies through mem/, splitting at region boundaries (contiguous physical
 * memory may be several regions); *copied says how far it got. */
static int copy_pa(struct dev_ep *ep, bool write, uint64_t pa, uint8_t *buf, uint64_t len,
		   uint64_t *copied)
{
	struct mem_view v;
	int err = 0;

	*copied = 0;
	mem_view_begin(&v, ep->mem);
	while (len) {
		const struct mem_region *r = mem_map_find(v.map, pa);
		uint64_t n;

		if (!r) {
			err = -EFAULT;
			break;
		}
		n = r->size - (pa - r->base);
		if (n > len)
			n = len;
		err = write ? mem_view_write(&v, pa, buf, n) : mem_view_read(&v, pa, buf, n);
		if (err)
			break;
		pa += n;
		buf += n;
		len -= n;
		*copied += n;
	}
	mem_view_end(&v);
	return err;
}

static void advance(struct dma_run *run, uint64_t n)
{
	run->addr += n;
	run->buf += n;
	run->left -= n;
	run->rep->done += n;
}

static bool copy_out(struct dma_run *run, uint64_t pa, uint64_t len,
		     const struct dev_xlate *answer)
{
	uint64_t copied;
	int err = copy_pa(run->ep, run->d->write, pa, run->buf, len, &copied);

	advance(run, copied);
	if (err) {
		run->rep->status = DEV_DMA_MEM_ERROR;
		run->rep->xlate = *answer;
		return false;
	}
	return true;
}

/*
 * Moves the part of the DMA that translation t covers. With ATS the device
 * issues translated requests: no PASID prefix (PCIe carries none on translated
 * requests, and with it go the Execute and Privileged bits), and the IOMMU may
 * check or refuse them; the pa it returns is where the data goes.
 */
static bool transfer(struct dma_run *run, const struct xl *t, const struct dev_xlate *answer,
		     bool ats)
{
	uint64_t n = xl_span(t, run->addr);
	uint64_t out = t->pa_base + (run->addr - t->base);

	if (n > run->left)
		n = run->left;
	if (!ats)
		return copy_out(run, out, n, answer);
	while (n) {
		struct dev_txn txn = {
			.rid = run->txn.rid,
			.write = run->txn.write,
			.at = DEV_AT_TRANSLATED,
			.addr = out,
		};
		struct dev_xlate checked = { 0 };
		struct xl ct;
		uint64_t sub;

		run->port->translate(run->port->iommu, &txn, &checked);
		if (checked.status != DEV_XLATE_OK) {
			run->rep->status = DEV_DMA_FAULT;
			run->rep->xlate = checked;
			return false;
		}
		xl_from_answer(&ct, &checked, out);
		sub = xl_span(&ct, out);
		if (sub > n)
			sub = n;
		if (!copy_out(run, checked.pa, sub, answer))
			return false;
		out += sub;
		n -= sub;
	}
	return true;
}

enum step {
	STEP_MOVED,			/* a translation's worth of data moved */
	STEP_NEED_PAGE,
	STEP_STALLED,			/* rep->xlate is the stalled answer */
	STEP_STOP,			/* rep->status says why */
};

/* A terminated access that reads as zero and whose writes go nowhere: the rest
 * of its 4 KiB page "moves" without touching memory. */
static void raz_wi(struct dma_run *run)
{
	uint64_t n = DEV_PAGE - (run->addr & (DEV_PAGE - 1));

	if (n > run->left)
		n = run->left;
	if (!run->d->write)
		memset(run->buf, 0, n);
	run->rep->raz_wi += n;
	advance(run, n);
}

static enum step dma_step(struct dma_run *run)
{
	struct dev_ep *ep = run->ep;
	struct atc_use use;
	struct dev_xlate answer;
	struct xl t;
	enum resolve res;
	enum step step;
	bool ats;

	atc_use_begin(ep, &use);
	ats = ep->atc && atomic_load_explicit(&ep->ats_on, memory_order_acquire);
	res = ats ? resolve_ats(run, &t, &answer) : resolve_untranslated(run, &t, &answer);
	if (res == RESOLVED) {
		step = transfer(run, &t, &answer, ats) ? STEP_MOVED : STEP_STOP;
	} else if (res == RAZ_WI) {
		raz_wi(run);
		step = STEP_MOVED;
	} else {
		run->rep->xlate = answer;
		if (res == NEED_PAGE) {
			step = STEP_NEED_PAGE;
		} else if (res == STALLED) {
			step = STEP_STALLED;	/* waits after the use ends (below) */
		} else {
			run->rep->status = DEV_DMA_FAULT;
			step = STEP_STOP;
		}
	}
	atc_use_end(&use);
	return step;
}

/* ---- PRI ----------------------------------------------------------------- */

static void deadline_after(struct timespec *ts, uint64_t ns)
{
	const uint64_t max_ns = (uint64_t)1 << 62;	/* keeps tv_sec far from overflow */

	clock_gettime(CLOCK_MONOTONIC, ts);
	if (ns > max_ns)
		ns = max_ns;
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}

/* false when the deadline passed (NULL: none). Called with pri_lock held. */
static bool pri_wait(struct dev_ep *ep, const struct timespec *deadline)
{
	if (!deadline) {
		pthread_cond_wait(&ep->pri_cond, &ep->pri_lock);
		return true;
	}
	return pthread_cond_timedwait(&ep->pri_cond, &ep->pri_lock, deadline) != ETIMEDOUT;
}

static void prg_release(struct dev_ep *ep, struct prg_slot *g)
{
	g->state = PRG_FREE;
	g->cancelled = false;
	ep->prg_outstanding--;
	pthread_cond_broadcast(&ep->pri_cond);		/* capacity waiters */
}

/*
 * Sends one page request for the current page and waits for its group's
 * response. DEV_DMA_OK means Success: retry the translation.
 */
static enum dev_dma_status pri_page_request(struct dma_run *run)
{
	struct dev_ep *ep = run->ep;
	const struct dev_dma *d = run->d;
	struct timespec deadline_ts, *deadline = NULL;
	struct dev_page_req pr;
	struct prg_slot *g;
	bool waited = false;
	unsigned prgi;
	int rc;

	if (!d->use_pri || !ep->cfg.pri || !run->port->page_request)
		return DEV_DMA_FAULT;
	if (d->retry_wait_ns) {
		deadline_after(&deadline_ts, d->retry_wait_ns);
		deadline = &deadline_ts;
	}
	pthread_mutex_lock(&ep->pri_lock);
	for (;;) {
		if (!ep->pri_on || ep->pri_stopped) {
			pthread_mutex_unlock(&ep->pri_lock);
			/* Disabled under a waiting DMA fails it; already off, there is
			 * no PRI to use and the no-access answer is a fault. */
			return waited ? DEV_DMA_PRI_FAILED : DEV_DMA_FAULT;
		}
		if (ep->prg_outstanding < ep->prg_limit)
			break;
		waited = true;
		if (!pri_wait(ep, deadline) && ep->prg_outstanding >= ep->prg_limit) {
			pthread_mutex_unlock(&ep->pri_lock);
			return DEV_DMA_PRI_TIMEOUT;
		}
	}
	for (prgi = ep->prg_next;; prgi = (prgi + 1) % DEV_PRGI_COUNT)
		if (ep->prg[prgi].state == PRG_FREE)
			break;		/* one exists: outstanding < limit <= 512 */
	ep->prg_next = (prgi + 1) % DEV_PRGI_COUNT;
	g = &ep->prg[prgi];
	*g = (struct prg_slot){
		.state = PRG_WAITING,
		.pasid_valid = d->pasid_valid,
		.pasid = d->pasid_valid ? d->pasid : 0,
	};
	ep->prg_outstanding++;
	pthread_mutex_unlock(&ep->pri_lock);

	pr = (struct dev_page_req){
		.rid = ep->cfg.rid,
		.pasid_valid = d->pasid_valid,
		.pasid = d->pasid_valid ? d->pasid : 0,
		.priv = d->priv,
		.exec = d->exec,
		.read = !d->write,
		.write = d->write,
		.last = true,
		.prgi = (uint16_t)prgi,
		.addr = run->addr & ~(DEV_PAGE - 1),
	};
	rc = run->port->page_request(run->port->iommu, &pr);
	run->rep->page_requests++;
	pcounter_add(&ep->stats.page_requests, 1);

	pthread_mutex_lock(&ep->pri_lock);
	if (rc && rc != -ENOSPC) {
		/* Not accepted and not auto-answered: no response will come. */
		prg_release(ep, g);
		pthread_mutex_unlock(&ep->pri_lock);
		return DEV_DMA_PRI_FAILED;
	}
	/* -ENOSPC: the IOMMU dropped the request and answers the group itself. */
	while (g->state == PRG_WAITING && !g->cancelled) {
		if (!pri_wait(ep, deadline) && g->state == PRG_WAITING && !g->cancelled) {
			g->state = PRG_ABANDONED;	/* the response is still owed */
			pthread_mutex_unlock(&ep->pri_lock);
			return DEV_DMA_PRI_TIMEOUT;
		}
	}
	if (g->state != PRG_ANSWERED) {			/* cancelled: PRI disabled */
		prg_release(ep, g);
		pthread_mutex_unlock(&ep->pri_lock);
		return DEV_DMA_PRI_FAILED;
	}
	rc = g->code == DEV_PRG_SUCCESS ? DEV_DMA_OK : DEV_DMA_PRI_FAILED;
	prg_release(ep, g);
	pthread_mutex_unlock(&ep->pri_lock);
	return (enum dev_dma_status)rc;
}

int dev_ep_page_response(struct dev_ep *ep, bool pasid_valid, uint32_t pasid, uint16_t prgi,
			 enum dev_prg_resp code)
{
	struct prg_slot *g;

	if (code != DEV_PRG_SUCCESS && code != DEV_PRG_INVALID && code != DEV_PRG_FAILURE)
		return -EINVAL;
	if (prgi >= DEV_PRGI_COUNT)
		return -ENOENT;
	pthread_mutex_lock(&ep->pri_lock);
	g = &ep->prg[prgi];
	if ((g->state != PRG_WAITING && g->state != PRG_ABANDONED) || g->cancelled ||
	    g->pasid_valid != pasid_valid || (pasid_valid && g->pasid != pasid)) {
		pthread_mutex_unlock(&ep->pri_lock);
		return -ENOENT;
	}
	if (code == DEV_PRG_FAILURE)
		ep->pri_stopped = true;		/* no page requests until re-enabled */
	if (g->state == PRG_ABANDONED) {
		prg_release(ep, g);
	} else {
		g->state = PRG_ANSWERED;
		g->code = code;
		pthread_cond_broadcast(&ep->pri_cond);
	}
	pcounter_add(&ep->stats.prg_responses, 1);
	pthread_mutex_unlock(&ep->pri_lock);
	return 0;
}

/* ---- the DMA engine ------------------------------------------------------ */

/*
 * A bad request, refused before anything is sent (-EINVAL):
 *  - pasid_valid without the PASID capability, with PASID not enabled, or with
 *    a pasid that does not fit in pasid_bits;
 *  - exec without the capability's Execute Permission Supported, or without a
 *    PASID (the Execute Requested bit travels in the PASID prefix);
 *  - priv without Privileged Mode Supported, or without a PASID (same reason);
 *  - exec together with write (an execute request is a read);
 *  - iova + len wrapping past 2^64, or len without a buffer.
 * len 0 is a no-op that returns 0 with status OK.
 */
static bool request_valid(const struct dev_ep *ep, const struct dev_dma *d)
{
	if (d->pasid_valid &&
	    (!ep->cfg.pasid_bits || !atomic_load_explicit(&ep->pasid_on, memory_order_acquire) ||
	     d->pasid >> ep->cfg.pasid_bits))
		return false;
	if (d->exec && (!ep->cfg.exec_perm || !d->pasid_valid || d->write))
		return false;
	if (d->priv && (!ep->cfg.priv_mode || !d->pasid_valid))
		return false;
	if (d->len && (!d->buf || d->iova + (d->len - 1) < d->iova))
		return false;
	return true;
}

int dev_dma(struct dev_ep *ep, const struct dev_dma *d, struct dev_dma_report *rep)
{
	struct dev_dma_report local;
	struct dma_run run;

	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	if (!request_valid(ep, d))
		return -EINVAL;
	run.port = atomic_load_explicit(&ep->port, memory_order_acquire);
	if (!run.port || !run.port->translate)
		return -ENODEV;
	if (!d->len)
		return 0;
	run.ep = ep;
	run.d = d;
	run.rep = rep;
	run.txn = (struct dev_txn){
		.rid = ep->cfg.rid,
		.pasid_valid = d->pasid_valid,
		.pasid = d->pasid_valid ? d->pasid : 0,
		.priv = d->priv,
		.exec = d->exec,
		.write = d->write,
	};
	run.tag0 = pasid_tag(d->pasid_valid, run.txn.pasid);
	run.need = (d->write ? ATC_PERM_W : ATC_PERM_R) | (d->exec ? ATC_PERM_X : 0) |
		   (d->priv ? ATC_PERM_PRIV : 0);
	run.addr = d->iova;
	run.left = d->len;
	run.buf = d->buf;
	run.page_requested = false;

	while (run.left) {
		enum step step = dma_step(&run);
		enum dev_dma_status st;

		if (step == STEP_MOVED) {
			run.page_requested = false;	/* the next page may ask again */
			continue;
		}
		if (step == STEP_STOP)
			break;
		if (step == STEP_STALLED) {
			/* Outside any use: an ATC invalidation, which the command that
			 * resumes this request may sit behind, must not wait for it. */
			enum dev_stall_answer a =
				run.port->stall_wait(run.port->iommu, &rep->xlate, d->retry_wait_ns);

			rep->stalls++;
			if (a == DEV_STALL_RETRY)
				continue;	/* as a new request */
			if (a == DEV_STALL_RAZ_WI) {
				raz_wi(&run);
				continue;
			}
			rep->xlate.status = DEV_XLATE_FAULT;
			rep->status = a == DEV_STALL_TIMEOUT ? DEV_DMA_STALL_TIMEOUT : DEV_DMA_FAULT;
			break;
		}
		/* No access: one page request per page, then one retry. */
		st = run.page_requested ? DEV_DMA_FAULT : pri_page_request(&run);
		if (st != DEV_DMA_OK) {
			rep->status = st;
			break;
		}
		run.page_requested = true;
	}
	if (rep->status != DEV_DMA_OK)
		rep->fault_iova = run.addr;
	if (rep->status == DEV_DMA_FAULT)
		pcounter_add(&ep->stats.faults, 1);
	pcounter_add(&ep->stats.dmas, 1);
	pcounter_add(&ep->stats.bytes, rep->done);
	return 0;
}

void dev_ep_get_stats(struct dev_ep *ep, struct dev_ep_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->dmas = pcounter_read(&ep->stats.dmas);
	st->bytes = pcounter_read(&ep->stats.bytes);
	st->page_requests = pcounter_read(&ep->stats.page_requests);
	st->prg_responses = pcounter_read(&ep->stats.prg_responses);
	st->faults = pcounter_read(&ep->stats.faults);
	if (ep->atc) {
		st->atc_hits = pcounter_read(&ep->atc->stats.hits);
		st->atc_misses = pcounter_read(&ep->atc->stats.misses);
		st->atc_invalidated = pcounter_read(&ep->atc->stats.invalidated);
	}
}
