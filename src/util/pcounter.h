/* util/pcounter.h — statistics counters that many threads bump without sharing a
 * cache line: each thread adds to one of PCOUNTER_SHARDS padded slots; reading sums
 * them. For hit/miss counts on hot paths, where one shared atomic would serialise
 * every translating thread.
 */
#ifndef VSVA_UTIL_PCOUNTER_H
#define VSVA_UTIL_PCOUNTER_H

#include <stdatomic.h>
#include <stdint.h>

#define PCOUNTER_SHARDS 16

struct pcounter_slot {
	_Atomic uint64_t v;
	char pad[64 - sizeof(uint64_t)];
};

struct pcounter {
	struct pcounter_slot slot[PCOUNTER_SHARDS];
};

/* This thread's shard, assigned round-robin on first use. */
unsigned pcounter_shard(void);

static inline void pcounter_add(struct pcounter *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->slot[pcounter_shard()].v, n, memory_order_relaxed);
}

static inline uint64_t pcounter_read(const struct pcounter *c)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < PCOUNTER_SHARDS; i++)
		sum += atomic_load_explicit(&c->slot[i].v, memory_order_relaxed);
	return sum;
}

static inline void pcounter_reset(struct pcounter *c)
{
	for (unsigned i = 0; i < PCOUNTER_SHARDS; i++)
		atomic_store_explicit(&c->slot[i].v, 0, memory_order_relaxed);
}

#endif
