/* util/pcounter.c — slot ownership for util/pcounter.h.
 *
 * owned_mask has bit i set while a live thread owns slot i. A thread claims a
 * clear bit with an acquiring compare-exchange and clears it with a releasing
 * fetch-and from a thread-exit destructor: the previous owner's last plain store
 * to each counter's slot happens before the next owner's first load of it, so no
 * add is lost when a slot changes hands.
 */
#include "util/pcounter.h"

#include <pthread.h>
#include <stdlib.h>

__thread unsigned pcounter_tls_slot;

static _Atomic uint32_t owned_mask;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static int key_err;

static void release_slot(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg - 1;

	/* Adds made later in this thread's exit (other destructors) share. */
	pcounter_tls_slot = PCOUNTER_SHARED + 1;
	atomic_fetch_and_explicit(&owned_mask, ~(UINT32_C(1) << s), memory_order_release);
}

static void make_key(void)
{
	key_err = pthread_key_create(&exit_key, release_slot);
}

unsigned pcounter_claim_slot(void)
{
	uint32_t mask = atomic_load_explicit(&owned_mask, memory_order_relaxed);
	unsigned s = PCOUNTER_SHARED;

	pthread_once(&key_once, make_key);
	/* Without a destructor a slot could never be given back: share instead. */
	while (!key_err) {
		uint32_t free = ~mask & ((UINT32_C(1) << PCOUNTER_OWNED) - 1);

		if (!free)
			break;
		s = (unsigned)__builtin_ctz(free);
		if (atomic_compare_exchange_weak_explicit(&owned_mask, &mask,
							  mask | (UINT32_C(1) << s),
							  memory_order_acquire,
							  memory_order_relaxed)) {
			if (pthread_setspecific(exit_key, (void *)(uintptr_t)(s + 1)) == 0)
				break;
			/* No destructor would run: give it back and share. */
			atomic_fetch_and_explicit(&owned_mask, ~(UINT32_C(1) << s),
						  memory_order_release);
			s = PCOUNTER_SHARED;
			break;
		}
		s = PCOUNTER_SHARED;
	}
	pcounter_tls_slot = s + 1;
	return s;
}
