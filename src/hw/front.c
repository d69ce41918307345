/* hw/front.c — the front cache's per-thread allocation and its fill (front.h). */
#include "hw/front.h"

#include <pthread.h>
#include <stdlib.h>

__thread struct xfront *xfront_tls;

static pthread_once_t front_once = PTHREAD_ONCE_INIT;
static pthread_key_t front_key;
static int front_key_err;
static _Atomic uint64_t next_uid = 1;

void xfront_unit_init(struct xfront_unit *u)
{
	atomic_store(&u->ver, 0);
	u->uid = atomic_fetch_add(&next_uid, 1);
	pcounter_reset(&u->hits);
}

static void front_free(void *p)
{
	xfront_tls = NULL;
	free(p);
}

static void front_make_key(void)
{
	front_key_err = pthread_key_create(&front_key, front_free);
}

static struct xfront *front_get(void)
{
	unsigned slot = pcounter_shard();
	struct xfront *fr;

	if (slot == PCOUNTER_SHARED)
		return NULL;                    /* its counts would need atomic adds */
	pthread_once(&front_once, front_make_key);
	if (front_key_err)
		return NULL;                    /* could not be freed at exit: go without */
	fr = aligned_alloc(_Alignof(struct xfront), sizeof(*fr));  /* sets on line boundaries */
	if (!fr)
		return NULL;
	memset(fr, 0, sizeof(*fr));
	if (pthread_setspecific(front_key, fr)) {
		free(fr);
		return NULL;
	}
	fr->gen = BIT(XFRONT_GEN_SHIFT);
	fr->slot = slot;
	xfront_tls = fr;
	return fr;
}

void xfront_fill(struct xfront_unit *u, uint64_t ver, const struct dev_txn *t,
		 const struct dev_xlate *x)
{
	const uint64_t genmask = ~GENMASK(XFRONT_GEN_SHIFT - 1, 0);
	struct xfront *fr = xfront_tls;
	struct xfront_ent *set, *e;
	uint64_t k0 = t->addr & ~UINT64_C(0xfff), k1 = xfront_k1(t);

	if (t->at == DEV_AT_TRANSLATED || x->status != DEV_XLATE_OK)
		return;
	if (!fr && !(fr = front_get()))
		return;
	if (fr->uid != u->uid || fr->ver != ver) {
		/* Another unit, or its caches or state changed: a new generation
		 * voids every entry. */
		fr->uid = u->uid;
		fr->ver = ver;
		fr->gen += BIT(XFRONT_GEN_SHIFT);
		if (!fr->gen) {
			memset(fr->ent, 0, sizeof(fr->ent));
			fr->gen = BIT(XFRONT_GEN_SHIFT);
		}
	}
	set = xfront_set(fr, k0, k1);
	k1 |= fr->gen;
	e = NULL;
	for (unsigned w = 0; w < XFRONT_WAYS && !e; w++)
		if ((set[w].k1 & genmask) != fr->gen || (set[w].k0 == k0 && set[w].k1 == k1))
			e = &set[w];
	if (!e)
		e = &set[fr->next++ % XFRONT_WAYS];
	e->k0 = k0;
	e->k1 = k1;
	e->out = (x->pa - (t->addr & (x->size - 1))) | (uint64_t)__builtin_ctzll(x->size);
	memcpy(&e->word, (const char *)x + DEV_XLATE_WORD_OFF, sizeof(e->word));
}
