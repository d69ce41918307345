/* util/pcounter.c — shard assignment for util/pcounter.h. */
#include "util/pcounter.h"

static _Atomic unsigned next_shard;
static __thread unsigned my_shard = ~0u;

unsigned pcounter_shard(void)
{
	if (__builtin_expect(my_shard == ~0u, 0))
		my_shard = atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) %
			   PCOUNTER_SHARDS;
	return my_shard;
}
