/* util/rcu.h — read-copy-update for lock-free readers.
 *
 * Owns: the process-wide grace-period state and the registry of reader threads.
 * Used by: mem/ (region maps). Any thread may be a reader.
 *
 * Readers bracket every use of an RCU-published pointer with rcu_read_lock() and
 * rcu_read_unlock(). Sections nest, never block, and after a thread's first
 * section never allocate or take a lock: the read side is two plain stores (plus a
 * fence only on kernels without membarrier(2)).
 *
 * Writers publish with rcu_publish() and, before freeing what they replaced, call
 * rcu_synchronize(), which returns once every section that might still see the old
 * object has ended. rcu_synchronize() sleeps; it must not be called inside a read
 * section (it would wait for itself) and is meant for rare updates.
 */
#ifndef VSVA_UTIL_RCU_H
#define VSVA_UTIL_RCU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define RCU_NEST_MASK  0xffffffffUL
#define RCU_PHASE      (1UL << 32)

struct rcu_reader {
	_Atomic unsigned long ctr;   /* nest count (low 32 bits) | phase seen at entry */
	struct rcu_reader *next, *prev;
};

extern _Atomic unsigned long rcu_gp_ctr;      /* phase bit | 1 */
extern bool rcu_reader_needs_fence;           /* false when membarrier(2) works */
extern __thread struct rcu_reader *rcu_self;

struct rcu_reader *rcu_register_thread(void);

static inline void rcu_reader_barrier(void)
{
	if (rcu_reader_needs_fence)
		atomic_thread_fence(memory_order_seq_cst);
	else
		atomic_signal_fence(memory_order_seq_cst);
}

static inline void rcu_read_lock(void)
{
	struct rcu_reader *r = rcu_self;
	unsigned long c;

	if (__builtin_expect(r == NULL, 0))
		r = rcu_register_thread();
	c = atomic_load_explicit(&r->ctr, memory_order_relaxed);
	if (c & RCU_NEST_MASK) {
		atomic_store_explicit(&r->ctr, c + 1, memory_order_relaxed);
		return;
	}
	atomic_store_explicit(&r->ctr, atomic_load_explicit(&rcu_gp_ctr, memory_order_relaxed),
			      memory_order_relaxed);
	rcu_reader_barrier();
}

static inline void rcu_read_unlock(void)
{
	struct rcu_reader *r = rcu_self;
	unsigned long c = atomic_load_explicit(&r->ctr, memory_order_relaxed);

	if ((c & RCU_NEST_MASK) == 1)
		rcu_reader_barrier();
	/* release: the section's loads happen before a writer that sees this store */
	atomic_store_explicit(&r->ctr, c - 1, memory_order_release);
}

#define rcu_dereference(p)   atomic_load_explicit(&(p), memory_order_acquire)
#define rcu_publish(p, v)    atomic_store_explicit(&(p), (v), memory_order_release)

void rcu_synchronize(void);

#endif
