/* util/pcounter.h — statistics counters that many threads bump without sharing a
 * cache line and without a locked instruction: reading sums PCOUNTER_SHARDS padded
 * slots. For hit/miss counts on hot paths, where one shared atomic would serialise
 * every translating thread, and where even a locked add on a private line costs
 * more than the lookup it counts (it is a full barrier on x86: the translations
 * around it cannot overlap).
 *
 * Slots 0 .. PCOUNTER_OWNED - 1 are each owned by at most one live thread: the
 * owner is their only writer, so an add is a plain load and store (relaxed
 * atomics, so that readers never see a torn value). A thread takes a free owned
 * slot on its first add and gives it back when it exits; threads that find none
 * free share the last slot, PCOUNTER_SHARED, with atomic adds. Counts stay exact:
 * every add lands in exactly one slot, a slot changes hands only through the
 * release/acquire of the ownership mask (so the next owner continues from the
 * last owner's value), and a read sums all slots.
 */
#ifndef VSVA_UTIL_PCOUNTER_H
#define VSVA_UTIL_PCOUNTER_H

#include <stdatomic.h>
#include <stdint.h>

#define PCOUNTER_SHARDS 16
#define PCOUNTER_OWNED  (PCOUNTER_SHARDS - 1)
#define PCOUNTER_SHARED (PCOUNTER_SHARDS - 1)

struct pcounter_slot {
	_Atomic uint64_t v;
	char pad[64 - sizeof(uint64_t)];
};

struct pcounter {
	struct pcounter_slot slot[PCOUNTER_SHARDS];
};

/* This thread's slot + 1; 0 until its first add (pcounter.c). */
extern __thread unsigned pcounter_tls_slot;
unsigned pcounter_claim_slot(void);

/* This thread's slot: an owned one, or PCOUNTER_SHARED. Also a shard index for
 * other per-thread padded arrays of PCOUNTER_SHARDS entries (those must use
 * atomic read-modify-writes: the shared slot has many threads). */
static inline unsigned pcounter_shard(void)
{
	unsigned s = pcounter_tls_slot;

	if (__builtin_expect(!s, 0))
		return pcounter_claim_slot();
	return s - 1;
}

static inline void pcounter_add(struct pcounter *c, uint64_t n)
{
	unsigned s = pcounter_shard();
	_Atomic uint64_t *p = &c->slot[s].v;

	if (__builtin_expect(s != PCOUNTER_SHARED, 1))
		atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n,
				      memory_order_relaxed);
	else
		atomic_fetch_add_explicit(p, n, memory_order_relaxed);
}

/* pcounter_add() for a caller that has read pcounter_shard() once for several adds
 * and checked that it is an owned slot. */
static inline void pcounter_add_owned(struct pcounter *c, unsigned slot, uint64_t n)
{
	_Atomic uint64_t *p = &c->slot[slot].v;

	atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t pcounter_read(const struct pcounter *c)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < PCOUNTER_SHARDS; i++)
		sum += atomic_load_explicit(&c->slot[i].v, memory_order_relaxed);
	return sum;
}

/* Only while no thread adds to c: an owner's add is a load and a store, so a
 * reset between them would be undone. */
static inline void pcounter_reset(struct pcounter *c)
{
	for (unsigned i = 0; i < PCOUNTER_SHARDS; i++)
		atomic_store_explicit(&c->slot[i].v, 0, memory_order_relaxed);
}

#endif
