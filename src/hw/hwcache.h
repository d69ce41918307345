/* hw/hwcache.h — the set-associative cache that every hardware model's caches are
 * made of (VT-d context, PASID, IOTLB and paging-structure caches; SMMUv3
 * configuration, TLB and walk caches).
 *
 * Owns: fixed storage chosen at creation (entries = sets x ways), tags of
 * HWC_TAG_WORDS and values of HWC_VAL_WORDS 64-bit words whose meaning belongs to
 * the model, replacement, and counters.
 *
 * Concurrency, the reason this is not a hash table with a lock:
 *  - lookups take no lock and allocate nothing: each set has a sequence counter
 *    (a seqlock); a reader copies the set's matching entry and retries if a writer
 *    was in the set meanwhile;
 *  - fills and invalidations lock one set at a time (the counter is odd while a
 *    writer holds it), so writers in different sets never wait for each other;
 *  - a fill carries the invalidation generation read before its table walk: if
 *    any invalidation started since, the fill is dropped, so a walk that raced
 *    with an invalidation can never leave stale state behind it.
 * Replacement: least recently used, with "recent" counted in fills: every fill
 * advances the cache's epoch, a hit stamps its entry with the current epoch, the
 * victim is an invalid way or the way with the oldest stamp. Nothing is ever
 * cleared because the cache is full.
 *
 * Versions, for a model that keeps results derived from lookups elsewhere (the
 * VT-d unit's per-thread front cache of whole translations): the cache's state
 * changes only by fills (each advances the epoch) and invalidations (each
 * advances the generation), so while hwc_version() has not changed, every entry
 * holds what it held, nothing was evicted, and every stamp a lookup wrote is
 * still the current epoch: the same lookup would find the same entry and leave
 * the same state. A cache's uid tells apart caches that reuse an address.
 * A model that watches several caches at once gives them one watch word
 * (hwc_set_watch()): every fill and invalidation of any of them advances it, at
 * the points where they advance their own epoch and generation, so one load
 * tells whether any of them changed.
 */
#ifndef VSVA_HW_HWCACHE_H
#define VSVA_HW_HWCACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/pcounter.h"

#define HWC_TAG_WORDS 3
#define HWC_VAL_WORDS 4

struct hwc_entry {
	_Atomic uint64_t tag[HWC_TAG_WORDS];
	_Atomic uint64_t val[HWC_VAL_WORDS];
	_Atomic uint64_t valid;          /* written only by writers holding the set */
	_Atomic uint64_t stamp;          /* epoch of the last use (LRU) */
};

struct hwc_set {
	_Atomic uint32_t seq;            /* odd: a writer holds the set */
	char pad[64 - sizeof(uint32_t)]; /* sets do not share a line */
};

struct hwc_stats {
	struct pcounter hits, misses, fills, evictions, invalidated, dropped_fills;
};

struct hwc {
	const char *name;
	unsigned nsets, ways;
	unsigned set_mask;
	_Atomic uint64_t epoch;
	_Atomic uint64_t gen;            /* invalidation generation */
	uint64_t uid;                    /* unique in the process, never reused */
	_Atomic uint64_t *watch;         /* advanced with epoch and gen; NULL: none */
	struct hwc_set *sets;
	struct hwc_entry *entries;       /* set s, way w at entries[s * ways + w] */
	struct hwc_stats stats;
};

/*
 * entries must be a power of two and a multiple of ways (1..64); entries 0 gives
 * a cache that holds nothing (every lookup misses). NULL with errno EINVAL or
 * ENOMEM.
 */
struct hwc *hwc_new(const char *name, unsigned entries, unsigned ways);
void hwc_free(struct hwc *c);

static inline unsigned hwc_entries(const struct hwc *c)
{
	return c->nsets * c->ways;
}

/* A 64-bit mix for set selection (the caller hashes whichever tag words it
 * indexes by). */
static inline uint64_t hwc_hash(uint64_t a, uint64_t b)
{
	uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;

	return h ^ (h >> 31);
}

/*
 * Looks tag up in the set that hash selects; on a hit copies the value and
 * returns true. Counts nothing: the model counts one hit or miss per request,
 * however many sizes it probes (hwc_count_hit / hwc_count_miss).
 */
bool hwc_lookup(struct hwc *c, uint64_t hash, const uint64_t tag[HWC_TAG_WORDS],
		uint64_t val[HWC_VAL_WORDS]);

static inline void hwc_count_hit(struct hwc *c)
{
	pcounter_add(&c->stats.hits, 1);
}

static inline void hwc_count_miss(struct hwc *c)
{
	pcounter_add(&c->stats.misses, 1);
}

/* Read before walking the structures whose result will be filled. */
static inline uint64_t hwc_gen(struct hwc *c)
{
	return atomic_load_explicit(&c->gen, memory_order_seq_cst);
}

/* Advances on every fill and every invalidation (epoch + generation: both only
 * grow, so the sum changes whenever either does). Acquire: read before lookups
 * whose results are remembered under it, the version must not be read after
 * them, or results older than a fill could be tagged with its version. */
static inline uint64_t hwc_version(const struct hwc *c)
{
	return atomic_load_explicit(&c->epoch, memory_order_acquire) +
	       atomic_load_explicit(&c->gen, memory_order_acquire);
}

/* Makes every later fill and invalidation of c also advance *w (NULL: stop).
 * Set before the cache is used by more than one thread. */
static inline void hwc_set_watch(struct hwc *c, _Atomic uint64_t *w)
{
	c->watch = w;
}

/* Inserts (or refreshes) tag -> val unless an invalidation began after gen was
 * read. Returns true if inserted. */
bool hwc_fill(struct hwc *c, uint64_t hash, const uint64_t tag[HWC_TAG_WORDS],
	      const uint64_t val[HWC_VAL_WORDS], uint64_t gen);

/* Drops every entry for which match() says true; returns how many. */
typedef bool (*hwc_match_fn)(const uint64_t tag[HWC_TAG_WORDS],
			     const uint64_t val[HWC_VAL_WORDS], const void *ctx);
unsigned hwc_invalidate(struct hwc *c, hwc_match_fn match, const void *ctx);
unsigned hwc_invalidate_all(struct hwc *c);

/* Valid entries now (a scan, for tests and statistics). */
unsigned hwc_count_valid(struct hwc *c);

#endif
