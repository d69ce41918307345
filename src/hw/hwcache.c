/* hw/hwcache.c — the seqlocked set-associative cache (see hwcache.h). */
#include "hw/hwcache.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "util/bits.h"

static _Atomic uint64_t next_uid = 1;

struct hwc *hwc_new(const char *name, unsigned entries, unsigned ways)
{
	struct hwc *c;

	if (ways == 0 || ways > 64 || (entries && (!is_pow2_u64(entries) || entries % ways))) {
		errno = EINVAL;
		return NULL;
	}
	c = aligned_alloc(64, (sizeof(*c) + 63) & ~(size_t)63);
	if (!c)
		goto nomem;
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->ways = ways;
	c->nsets = entries / ways;
	c->set_mask = c->nsets ? c->nsets - 1 : 0;
	c->uid = atomic_fetch_add_explicit(&next_uid, 1, memory_order_relaxed);
	atomic_init(&c->epoch, 1);
	if (c->nsets) {
		c->sets = aligned_alloc(64, sizeof(*c->sets) * c->nsets);
		c->entries = aligned_alloc(64, (sizeof(*c->entries) * entries + 63) & ~(size_t)63);
		if (!c->sets || !c->entries)
			goto nomem_cache;
		memset(c->sets, 0, sizeof(*c->sets) * c->nsets);
		memset(c->entries, 0, sizeof(*c->entries) * entries);
	}
	return c;

nomem_cache:
	free(c->sets);
	free(c->entries);
	free(c);
nomem:
	errno = ENOMEM;
	return NULL;
}

void hwc_free(struct hwc *c)
{
	if (!c)
		return;
	free(c->sets);
	free(c->entries);
	free(c);
}

static bool tag_equal(const struct hwc_entry *e, const uint64_t tag[HWC_TAG_WORDS])
{
	for (unsigned i = 0; i < HWC_TAG_WORDS; i++)
		if (atomic_load_explicit(&e->tag[i], memory_order_relaxed) != tag[i])
			return false;
	return true;
}

bool hwc_lookup(struct hwc *c, uint64_t hash, const uint64_t tag[HWC_TAG_WORDS],
		uint64_t val[HWC_VAL_WORDS])
{
	unsigned set;
	struct hwc_set *s;
	struct hwc_entry *e;
	uint32_t seq;
	int way;

	if (unlikely(!c->nsets))
		return false;
	set = (unsigned)hash & c->set_mask;
	s = &c->sets[set];
	e = &c->entries[(size_t)set * c->ways];
	for (;;) {
		seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (unlikely(seq & 1)) {
			sched_yield();          /* a writer holds the set: rare and short */
			continue;
		}
		way = -1;
		for (unsigned w = 0; w < c->ways; w++) {
			if (atomic_load_explicit(&e[w].valid, memory_order_relaxed) &&
			    tag_equal(&e[w], tag)) {
				for (unsigned i = 0; i < HWC_VAL_WORDS; i++)
					val[i] = atomic_load_explicit(&e[w].val[i],
								      memory_order_relaxed);
				way = (int)w;
				break;
			}
		}
		atomic_thread_fence(memory_order_acquire);
		if (likely(atomic_load_explicit(&s->seq, memory_order_relaxed) == seq))
			break;
	}
	if (way < 0)
		return false;
	/* LRU stamp: written only when it changes, so hot entries stay read-mostly. A
	 * stamp may land on an entry a writer just replaced: harmless, it only ages. */
	uint64_t now = atomic_load_explicit(&c->epoch, memory_order_relaxed);

	if (atomic_load_explicit(&e[way].stamp, memory_order_relaxed) != now)
		atomic_store_explicit(&e[way].stamp, now, memory_order_relaxed);
	return true;
}

static uint32_t set_lock(struct hwc_set *s)
{
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	for (;;) {
		if (!(seq & 1) && atomic_compare_exchange_weak_explicit(&s->seq, &seq, seq + 1,
									memory_order_acquire,
									memory_order_relaxed)) {
			/* Pairs with the reader's acquire fence: a reader that sees any
			 * store made after this point also sees the counter change. */
			atomic_thread_fence(memory_order_release);
			return seq + 1;
		}
		if (seq & 1) {
			sched_yield();
			seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
		}
	}
}

static void set_unlock(struct hwc_set *s, uint32_t locked)
{
	atomic_store_explicit(&s->seq, locked + 1, memory_order_release);
}

static void entry_write(struct hwc_entry *e, const uint64_t tag[HWC_TAG_WORDS],
			const uint64_t val[HWC_VAL_WORDS], uint64_t stamp)
{
	for (unsigned i = 0; i < HWC_TAG_WORDS; i++)
		atomic_store_explicit(&e->tag[i], tag[i], memory_order_relaxed);
	for (unsigned i = 0; i < HWC_VAL_WORDS; i++)
		atomic_store_explicit(&e->val[i], val[i], memory_order_relaxed);
	atomic_store_explicit(&e->stamp, stamp, memory_order_relaxed);
	atomic_store_explicit(&e->valid, 1, memory_order_relaxed);
}

bool hwc_fill(struct hwc *c, uint64_t hash, const uint64_t tag[HWC_TAG_WORDS],
	      const uint64_t val[HWC_VAL_WORDS], uint64_t gen)
{
	unsigned set;
	struct hwc_set *s;
	struct hwc_entry *e, *victim = NULL;
	uint64_t now;
	uint32_t locked;

	if (!c->nsets)
		return false;
	set = (unsigned)hash & c->set_mask;
	s = &c->sets[set];
	e = &c->entries[(size_t)set * c->ways];
	locked = set_lock(s);
	/* Under the set lock: an invalidation that began after gen was read has bumped
	 * gen before scanning, so this check and its scan of this set are ordered. */
	if (atomic_load_explicit(&c->gen, memory_order_seq_cst) != gen) {
		set_unlock(s, locked);
		pcounter_add(&c->stats.dropped_fills, 1);
		return false;
	}
	now = atomic_fetch_add_explicit(&c->epoch, 1, memory_order_relaxed) + 1;
	if (c->watch)
		atomic_fetch_add_explicit(c->watch, 1, memory_order_relaxed);
	for (unsigned w = 0; w < c->ways; w++) {
		bool valid = atomic_load_explicit(&e[w].valid, memory_order_relaxed);

		if (valid && tag_equal(&e[w], tag)) {
			victim = &e[w];                 /* the same tag: refresh it */
			break;
		}
		if (!valid) {
			if (!victim || atomic_load_explicit(&victim->valid, memory_order_relaxed))
				victim = &e[w];
		} else if (!victim ||
			   (atomic_load_explicit(&victim->valid, memory_order_relaxed) &&
			    atomic_load_explicit(&e[w].stamp, memory_order_relaxed) <
				    atomic_load_explicit(&victim->stamp, memory_order_relaxed))) {
			victim = &e[w];
		}
	}
	if (atomic_load_explicit(&victim->valid, memory_order_relaxed) && !tag_equal(victim, tag))
		pcounter_add(&c->stats.evictions, 1);
	entry_write(victim, tag, val, now);
	set_unlock(s, locked);
	pcounter_add(&c->stats.fills, 1);
	return true;
}

unsigned hwc_invalidate(struct hwc *c, hwc_match_fn match, const void *ctx)
{
	unsigned n = 0;

	/* First the generation, then the scan: see hwc_fill(). */
	atomic_fetch_add_explicit(&c->gen, 1, memory_order_seq_cst);
	if (c->watch)
		atomic_fetch_add_explicit(c->watch, 1, memory_order_seq_cst);
	for (unsigned set = 0; set < c->nsets; set++) {
		struct hwc_set *s = &c->sets[set];
		struct hwc_entry *e = &c->entries[(size_t)set * c->ways];
		uint32_t locked = 0;
		bool held = false;

		/* A fill in progress (odd) may have passed its generation check before
		 * the bump above and not yet marked its way valid: wait for it. */
		if (atomic_load_explicit(&s->seq, memory_order_seq_cst) & 1) {
			locked = set_lock(s);
			held = true;
		}

		for (unsigned w = 0; w < c->ways; w++) {
			uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS];

			if (!atomic_load_explicit(&e[w].valid, memory_order_relaxed))
				continue;
			if (!held) {
				locked = set_lock(s);
				held = true;
				if (!atomic_load_explicit(&e[w].valid, memory_order_relaxed))
					continue;
			}
			for (unsigned i = 0; i < HWC_TAG_WORDS; i++)
				tag[i] = atomic_load_explicit(&e[w].tag[i], memory_order_relaxed);
			for (unsigned i = 0; i < HWC_VAL_WORDS; i++)
				val[i] = atomic_load_explicit(&e[w].val[i], memory_order_relaxed);
			if (!match || match(tag, val, ctx)) {
				atomic_store_explicit(&e[w].valid, 0, memory_order_relaxed);
				n++;
			}
		}
		if (held)
			set_unlock(s, locked);
	}
	/* And after it: an answer derived from a lookup that saw an entry this scan
	 * dropped carries a version older than this one. */
	if (c->watch)
		atomic_fetch_add_explicit(c->watch, 1, memory_order_seq_cst);
	pcounter_add(&c->stats.invalidated, n);
	return n;
}

unsigned hwc_invalidate_all(struct hwc *c)
{
	return hwc_invalidate(c, NULL, NULL);
}

unsigned hwc_count_valid(struct hwc *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < hwc_entries(c); i++)
		n += atomic_load_explicit(&c->entries[i].valid, memory_order_relaxed) != 0;
	return n;
}
