/* hw/front.h — the front cache: per thread, the whole answers of recent
 * translations whose every cache lookup hit, so that a repeat costs one probe
 * of thread-private memory instead of one seqlocked probe per cache (context,
 * PASID and IOTLB for VT-d; STE, CD and TLB for SMMUv3).
 *
 * Owns: each thread's struct xfront (allocated on its first fill, freed at
 * thread exit) and the per-unit struct xfront_unit's meaning. Callers: a model's
 * translate path (xfront_translate, then its full path, then xfront_fill), its
 * register code (xfront_bump on state changes the caches do not see) and its
 * statistics (xfront_hits).
 *
 * Exactness. An answer is used only while the unit's version (u->ver) is what
 * it was before the full path's lookups that produced it. The unit makes the
 * version its caches' hwc watch word (every fill and invalidation advances it)
 * and bumps it on every state change its translations read outside the caches
 * (enables, table bases, the control bits). While it holds, the same lookups
 * would hit the same entries holding the same values, their LRU stamps already
 * current, nothing evicted or invalidated: so the answer, the counts (one hit
 * in each cache: the model adds xfront_hits() to each) and the caches' state are
 * exactly those of the full path. A model remembers only answers of requests
 * whose every lookup hit, never a fault, and nothing while its coherence
 * checker is on (every hit must then take the full path to be checked).
 *
 * The key is the request as the endpoint sent it (RID, PASID present and its
 * value, privilege, execute, write, AT) and its 4 KiB input page, so an answer
 * is for exactly that access: no permission test on a hit. Translated requests
 * (AT 2) are never remembered. A thread's front holds one unit at a time (the
 * uid tells units apart, also when a freed unit's memory is reused); a thread
 * alternating between units refills. Four ways of 512 sets (64 KiB per thread),
 * the victim of a full set chosen round robin; a thread without an owned
 * pcounter slot has no front cache (its counts would need atomic adds).
 */
#ifndef VSVA_HW_FRONT_H
#define VSVA_HW_FRONT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dev/dev.h"
#include "util/bits.h"
#include "util/pcounter.h"

/* Per unit: the version on its own line (read on every front hit, written only
 * on fills, invalidations and state changes), and the hits. */
struct xfront_unit {
	_Alignas(64) _Atomic uint64_t ver;
	uint64_t uid;                    /* unique in the process, never reused */
	char pad[64 - 2 * sizeof(uint64_t)];
	struct pcounter hits;            /* translations answered by a front hit */
};

void xfront_unit_init(struct xfront_unit *u);

/* A state change the caches do not see: remembered answers are void. Call it
 * after the change is visible to translations, before the register write that
 * made it returns. */
static inline void xfront_bump(struct xfront_unit *u)
{
	atomic_fetch_add(&u->ver, 1);
}

static inline uint64_t xfront_hits(struct xfront_unit *u)
{
	return pcounter_read(&u->hits);
}

/* ---- the per-thread cache (internal to front.c and the inline probe) ------------------- */

#define XFRONT_SETS       512
#define XFRONT_WAYS       4
/* k1: the request's fields, the generation above them. */
#define XFK_PP            BIT(16)
#define XFK_PRIV          BIT(17)
#define XFK_EXEC          BIT(18)
#define XFK_WRITE         BIT(19)
#define XFK_AT_SHIFT      20             /* 2 bits */
#define XFK_PASID_SHIFT   22             /* 20 bits */
#define XFRONT_GEN_SHIFT  42
/* out: the output base of the translation (its size aligned) | log2 of its size. */
#define XFO_SHIFT         GENMASK(5, 0)
#define XFO_FLAGS         GENMASK(11, 0)

struct xfront_ent {                      /* two make one 64-byte line */
	uint64_t k0;            /* input page */
	uint64_t k1;            /* request fields | generation << XFRONT_GEN_SHIFT */
	uint64_t out;
	uint64_t word;          /* the answer's status, r, w, x, priv (DEV_XLATE_WORD_OFF) */
};

struct xfront {
	_Alignas(64) struct xfront_ent ent[XFRONT_SETS][XFRONT_WAYS];
	uint64_t uid;           /* the unit the entries are for */
	uint64_t ver;           /* its version they hold for */
	uint64_t gen;           /* current generation, << XFRONT_GEN_SHIFT; 0 never current */
	unsigned slot;          /* this thread's owned pcounter slot */
	unsigned next;          /* round-robin victim */
};

extern __thread struct xfront *xfront_tls;

static __attribute__((always_inline)) inline uint64_t xfront_k1(const struct dev_txn *t)
{
	return t->rid | (uint64_t)t->pasid_valid * XFK_PP | (uint64_t)t->priv * XFK_PRIV |
	       (uint64_t)t->exec * XFK_EXEC | (uint64_t)t->write * XFK_WRITE |
	       (uint64_t)(t->at & 3) << XFK_AT_SHIFT |
	       (uint64_t)(t->pasid & GENMASK(19, 0)) << XFK_PASID_SHIFT;
}

static __attribute__((always_inline)) inline struct xfront_ent *
xfront_set(struct xfront *fr, uint64_t k0, uint64_t k1)
{
	uint64_t h = (k0 >> 12) ^ (k1 * 0x9e3779b97f4a7c15ull);

	return fr->ent[(h ^ (h >> 9)) & (XFRONT_SETS - 1)];
}

/*
 * Answers t from this thread's front cache and counts it, or returns false having
 * counted and written nothing.
 */
static __attribute__((always_inline)) inline bool
xfront_translate(struct xfront_unit *u, const struct dev_txn *t, struct dev_xlate *x)
{
	struct xfront *fr = xfront_tls;
	uint64_t addr = t->addr, k0 = addr & ~UINT64_C(0xfff), k1, out, mask;
	struct xfront_ent *set, *e;

	if (__builtin_expect(!fr, 0) ||
	    fr->ver != atomic_load_explicit(&u->ver, memory_order_acquire) || fr->uid != u->uid)
		return false;
	k1 = xfront_k1(t);
	set = xfront_set(fr, k0, k1);
	k1 |= fr->gen;
	/* The way that matches, chosen without a branch on which one it is (that
	 * branch would go either way at random: a misprediction every other hit). */
	e = &set[(((set[1].k0 ^ k0) | (set[1].k1 ^ k1)) == 0) |
		 (((set[2].k0 ^ k0) | (set[2].k1 ^ k1)) == 0) * 2 |
		 (((set[3].k0 ^ k0) | (set[3].k1 ^ k1)) == 0) * 3];
	if (((e->k0 ^ k0) | (e->k1 ^ k1)) != 0)
		return false;
	pcounter_add_owned(&u->hits, fr->slot, 1);
	out = e->out;
	mask = (UINT64_C(1) << (out & XFO_SHIFT)) - 1;
	x->size = mask + 1;
	x->page_base = addr & ~mask;
	x->pa = (out & ~XFO_FLAGS) + (addr & mask);
	memcpy((char *)x + DEV_XLATE_WORD_OFF, &e->word, sizeof(e->word));
	/* fault_reason, stag and stall_seq: the last word, zero (one store). */
	memset(&x->fault_reason, 0, sizeof(*x) - offsetof(struct dev_xlate, fault_reason));
	return true;
}

/* The version to pass to xfront_fill: read before the full path's first lookup. */
static inline uint64_t xfront_version(struct xfront_unit *u)
{
	return atomic_load_explicit(&u->ver, memory_order_acquire);
}

/* Remembers the answer x (DEV_XLATE_OK) to t, found with every lookup a hit under
 * version ver. May allocate this thread's front (never on a front hit). */
void xfront_fill(struct xfront_unit *u, uint64_t ver, const struct dev_txn *t,
		 const struct dev_xlate *x);

#endif
