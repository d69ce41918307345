/* util/rcu.c — grace periods for util/rcu.h.
 *
 * The scheme is the classic two-phase counter flip: a reader entering its outer
 * section copies the global phase into its own counter; a grace period flips the
 * phase twice, each time waiting until no reader is still inside a section begun
 * in the previous phase. membarrier(2) (private expedited) lets readers skip the
 * full fence that would otherwise order their counter store before their loads:
 * the writer forces that ordering on every running thread instead.
 */
#include "util/rcu.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Atomic unsigned long rcu_gp_ctr = 1;
bool rcu_reader_needs_fence = true;
__thread struct rcu_reader *rcu_self;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t gp_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcu_reader *registry;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;

static void unregister_thread(void *arg)
{
	struct rcu_reader *r = arg;

	pthread_mutex_lock(&registry_lock);
	if (r->prev)
		r->prev->next = r->next;
	else
		registry = r->next;
	if (r->next)
		r->next->prev = r->prev;
	pthread_mutex_unlock(&registry_lock);
	rcu_self = NULL;
	free(r);
}

static void rcu_init(void)
{
	long mask = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	if (mask > 0 && (mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		rcu_reader_needs_fence = false;
	if (pthread_key_create(&exit_key, unregister_thread) != 0)
		abort();
}

struct rcu_reader *rcu_register_thread(void)
{
	struct rcu_reader *r;

	pthread_once(&init_once, rcu_init);
	r = calloc(1, sizeof(*r));
	if (!r)
		abort();	/* a reader cannot proceed unregistered; this is the first use only */
	pthread_mutex_lock(&registry_lock);
	r->next = registry;
	if (registry)
		registry->prev = r;
	registry = r;
	pthread_mutex_unlock(&registry_lock);
	pthread_setspecific(exit_key, r);
	rcu_self = r;
	return r;
}

/* A full barrier on every thread of the process, or on this one if readers fence. */
static void writer_barrier(void)
{
	if (!rcu_reader_needs_fence &&
	    syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return;
	atomic_thread_fence(memory_order_seq_cst);
}

static bool reader_in_old_phase(struct rcu_reader *r, unsigned long gp)
{
	unsigned long c = atomic_load_explicit(&r->ctr, memory_order_acquire);

	return (c & RCU_NEST_MASK) && ((c ^ gp) & RCU_PHASE);
}

static void wait_for_readers(unsigned long gp)
{
	struct timespec nap = { 0, 20000 };

	for (struct rcu_reader *r = registry; r; r = r->next) {
		for (unsigned spins = 0; reader_in_old_phase(r, gp); spins++) {
			if (spins < 100)
				sched_yield();
			else
				nanosleep(&nap, NULL);
		}
	}
}

void rcu_synchronize(void)
{
	pthread_once(&init_once, rcu_init);
	pthread_mutex_lock(&gp_lock);
	pthread_mutex_lock(&registry_lock);
	writer_barrier();
	for (int phase = 0; phase < 2; phase++) {
		unsigned long gp = atomic_load_explicit(&rcu_gp_ctr, memory_order_relaxed) ^ RCU_PHASE;

		atomic_store_explicit(&rcu_gp_ctr, gp, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		wait_for_readers(gp);
	}
	writer_barrier();
	pthread_mutex_unlock(&registry_lock);
	pthread_mutex_unlock(&gp_lock);
}
