/* iommu/pasid.c — the system-wide PASID allocator (see pasid.h).
 *
 * State, all under the space's mutex unless said otherwise:
 *  - the space's bitmap: bit p set while PASID p belongs to some set (bit 0 is
 *    set for good, PASID 0 being reserved);
 *  - one struct pasid_entry per allocated PASID, found through the space's
 *    chained hash and, while not dying, on its set's live list;
 *  - per set, a lock-free table (struct ptab) that readers probe under RCU. Its
 *    words are PT_LIVE | key << 32 | value with key = the host PASID (value: its
 *    guest PASID, 0 if none) or PT_KEY_GUEST | guest PASID (value: the host PASID).
 *    Empty slots are 0 and deleted ones PT_TOMB, so a probe stops at the first 0.
 *    Writers keep at least half of the slots empty; a table that would pass that,
 *    or that falls below 1/8 used, is rebuilt at the size that makes it 1/4 used.
 */
#include "iommu/pasid.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/rcu.h"

#define PT_LIVE       (1ull << 63)
#define PT_TOMB       (1ull << 62)
#define PT_KEY_GUEST  (1u << PASID_MAX_BITS)
#define PT_MIN        16u
#define HASH_MIN      64u

struct ptab {
	struct ptab *retired_next;     /* on the space's list until a grace period passed */
	uint32_t mask;                 /* slots - 1 */
	_Atomic uint64_t slot[];
};

struct pasid_entry {
	uint32_t pasid;
	uint32_t gpasid;               /* guest sets: 0 while unmapped */
	bool dying;
	unsigned nusers;
	struct pasid_user *users;
	struct pasid_set *set;
	struct pasid_entry *hnext;     /* space hash chain */
	struct pasid_entry *prev, *next;   /* the set's live list */
};

struct pasid_set {
	struct pasid_space *sp;
	enum pasid_map_mode mode;
	unsigned quota;
	unsigned count;                /* PASIDs held, dying ones included */
	bool closing;                  /* pasid_set_free() has begun */
	struct pasid_entry *live;      /* entries not dying */
	struct ptab *_Atomic tab;      /* readers: under RCU; writers: under sp->lock */
	unsigned used, tombs;          /* live and deleted slots of tab */
};

struct pasid_space {
	pthread_mutex_t lock;
	pthread_cond_t gone;           /* a PASID of a closing set went back to the space */
	unsigned bits;
	uint32_t max;
	unsigned nsets;
	uint64_t *bitmap;
	struct pasid_entry **buckets;
	unsigned nbuckets, nentries;
	struct ptab *retired;          /* old tables waiting for a grace period */
};

static inline uint32_t mix32(uint32_t x)
{
	x *= 0x9e3779b1u;
	return x ^ (x >> 15);
}

/* ---- the space's unlock: old tables are freed once no reader can see them --------- */

static void space_unlock(struct pasid_space *sp)
{
	struct ptab *t = sp->retired, *next;

	sp->retired = NULL;
	pthread_mutex_unlock(&sp->lock);
	if (!t)
		return;
	rcu_synchronize();
	for (; t; t = next) {
		next = t->retired_next;
		free(t);
	}
}

/* ---- a set's lookup table --------------------------------------------------------- */

static inline uint64_t pt_word(uint32_t key, uint32_t val)
{
	return PT_LIVE | (uint64_t)key << 32 | val;
}

static inline uint32_t pt_key(uint64_t w)
{
	return (uint32_t)(w >> 32) & 0x3fffffffu;
}

static struct ptab *ptab_new(uint32_t slots)
{
	struct ptab *t = calloc(1, sizeof(*t) + (size_t)slots * sizeof(t->slot[0]));

	if (t)
		t->mask = slots - 1;
	return t;
}

/* Lock-free: the value of key, if present. */
static bool ptab_lookup(const struct pasid_set *set, uint32_t key, uint32_t *val)
{
	const struct ptab *t;
	bool found = false;
	uint32_t i;

	rcu_read_lock();
	t = atomic_load_explicit(&set->tab, memory_order_acquire);
	i = mix32(key) & t->mask;
	for (uint32_t n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
		uint64_t w = atomic_load_explicit(&t->slot[i], memory_order_acquire);

		if (!w)
			break;
		if ((w & PT_LIVE) && pt_key(w) == key) {
			*val = (uint32_t)w;
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* Writers (sp->lock held) from here on. The slot holding key, or -1. */
static long ptab_find(const struct ptab *t, uint32_t key)
{
	uint32_t i = mix32(key) & t->mask;

	for (uint32_t n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
		uint64_t w = atomic_load_explicit(&t->slot[i], memory_order_relaxed);

		if (!w)
			break;
		if ((w & PT_LIVE) && pt_key(w) == key)
			return i;
	}
	return -1;
}

static struct ptab *set_tab(const struct pasid_set *set)
{
	return atomic_load_explicit(&set->tab, memory_order_relaxed);
}

static uint32_t ptab_slots_for(unsigned used)
{
	uint32_t slots = PT_MIN;

	while (slots < 4 * (uint64_t)used)
		slots *= 2;
	return slots;
}

/* Copies the live words into a new table of the given size and publishes it. */
static int ptab_rebuild(struct pasid_space *sp, struct pasid_set *set, uint32_t slots)
{
	struct ptab *old = set_tab(set), *t = ptab_new(slots);

	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i <= old->mask; i++) {
		uint64_t w = atomic_load_explicit(&old->slot[i], memory_order_relaxed);
		uint32_t j;

		if (!(w & PT_LIVE))
			continue;
		for (j = mix32(pt_key(w)) & t->mask; atomic_load_explicit(&t->slot[j], memory_order_relaxed);
		     j = (j + 1) & t->mask)
			;
		atomic_store_explicit(&t->slot[j], w, memory_order_relaxed);
	}
	atomic_store_explicit(&set->tab, t, memory_order_release);
	old->retired_next = sp->retired;
	sp->retired = old;
	set->tombs = 0;
	return 0;
}

/* Room for `extra` new keys with half of the slots still empty. */
static int ptab_reserve(struct pasid_space *sp, struct pasid_set *set, unsigned extra)
{
	uint64_t slots = (uint64_t)set_tab(set)->mask + 1;

	if (((uint64_t)set->used + set->tombs + extra) * 2 <= slots)
		return 0;
	return ptab_rebuild(sp, set, ptab_slots_for(set->used + extra));
}

/* Sets key's value; a new key needs a ptab_reserve() first. */
static void ptab_put(struct pasid_set *set, uint32_t key, uint32_t val)
{
	struct ptab *t = set_tab(set);
	uint32_t i = mix32(key) & t->mask;
	long free_slot = -1;

	for (uint32_t n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
		uint64_t w = atomic_load_explicit(&t->slot[i], memory_order_relaxed);

		if (!w) {
			if (free_slot < 0)
				free_slot = i;
			break;
		}
		if (w == PT_TOMB) {
			if (free_slot < 0)
				free_slot = i;
		} else if (pt_key(w) == key) {
			atomic_store_explicit(&t->slot[i], pt_word(key, val), memory_order_release);
			return;
		}
	}
	if (atomic_load_explicit(&t->slot[free_slot], memory_order_relaxed) == PT_TOMB)
		set->tombs--;
	set->used++;
	atomic_store_explicit(&t->slot[free_slot], pt_word(key, val), memory_order_release);
}

/* Deletes key if present; shrinks the table when it became sparse (best effort). */
static void ptab_del(struct pasid_space *sp, struct pasid_set *set, uint32_t key)
{
	struct ptab *t = set_tab(set);
	long i = ptab_find(t, key);

	if (i < 0)
		return;
	atomic_store_explicit(&t->slot[i], PT_TOMB, memory_order_release);
	set->used--;
	set->tombs++;
	if (t->mask + 1 > PT_MIN && (uint64_t)set->used * 8 < (uint64_t)t->mask + 1)
		(void)ptab_rebuild(sp, set, ptab_slots_for(set->used));
}

/* ---- the space's bitmap and entry hash -------------------------------------------- */

/* The first PASID in [from, to] whose bit equals `want`, or UINT32_MAX. */
static uint32_t bm_find(const uint64_t *bm, uint32_t from, uint32_t to, bool want)
{
	for (uint32_t w = from / 64; w <= to / 64; w++) {
		uint64_t v = want ? bm[w] : ~bm[w];

		if (w == from / 64)
			v &= ~0ull << (from % 64);
		if (w == to / 64 && to % 64 != 63)
			v &= (2ull << (to % 64)) - 1;
		if (v)
			return w * 64 + (uint32_t)__builtin_ctzll(v);
	}
	return UINT32_MAX;
}

static void bm_assign(uint64_t *bm, uint32_t p, bool v)
{
	if (v)
		bm[p / 64] |= 1ull << (p % 64);
	else
		bm[p / 64] &= ~(1ull << (p % 64));
}

static void hash_resize(struct pasid_space *sp, unsigned nbuckets)
{
	struct pasid_entry **b = calloc(nbuckets, sizeof(*b));

	if (!b)
		return;		/* keep the old buckets: longer chains, still correct */
	for (unsigned i = 0; i < sp->nbuckets; i++) {
		struct pasid_entry *e = sp->buckets[i], *next;

		for (; e; e = next) {
			unsigned h = mix32(e->pasid) & (nbuckets - 1);

			next = e->hnext;
			e->hnext = b[h];
			b[h] = e;
		}
	}
	free(sp->buckets);
	sp->buckets = b;
	sp->nbuckets = nbuckets;
}

static void hash_add(struct pasid_space *sp, struct pasid_entry *e)
{
	unsigned h;

	if (sp->nentries + 1 > sp->nbuckets)
		hash_resize(sp, sp->nbuckets * 2);
	h = mix32(e->pasid) & (sp->nbuckets - 1);
	e->hnext = sp->buckets[h];
	sp->buckets[h] = e;
	sp->nentries++;
}

static void hash_del(struct pasid_space *sp, struct pasid_entry *e)
{
	struct pasid_entry **pp = &sp->buckets[mix32(e->pasid) & (sp->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	sp->nentries--;
	if (sp->nbuckets > HASH_MIN && sp->nentries * 8 < sp->nbuckets)
		hash_resize(sp, sp->nbuckets / 2);
}

/* The entry of pasid if set owns it. */
static struct pasid_entry *set_entry(const struct pasid_set *set, uint32_t pasid)
{
	const struct pasid_space *sp = set->sp;
	struct pasid_entry *e;

	if (pasid == 0 || pasid > sp->max)
		return NULL;
	for (e = sp->buckets[mix32(pasid) & (sp->nbuckets - 1)]; e; e = e->hnext)
		if (e->pasid == pasid)
			return e->set == set ? e : NULL;
	return NULL;
}

/* ---- freeing one PASID ------------------------------------------------------------ */

/* Step 1 (pasid.h). */
static void entry_mark_dying(struct pasid_entry *e)
{
	struct pasid_set *set = e->set;

	e->dying = true;
	if (e->prev)
		e->prev->next = e->next;
	else
		set->live = e->next;
	if (e->next)
		e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

/* Steps 2 and 3. Called and returns with sp->lock held; drops it around release(). */
static void entry_release_and_drop(struct pasid_space *sp, struct pasid_entry *e)
{
	struct pasid_set *set = e->set;
	struct pasid_user *u;

	while ((u = e->users) != NULL) {
		void (*release)(struct pasid_user *, uint32_t) = u->release;

		e->users = u->next;
		e->nusers--;
		u->next = NULL;
		pthread_mutex_unlock(&sp->lock);
		release(u, e->pasid);
		pthread_mutex_lock(&sp->lock);
	}
	if (e->gpasid)
		ptab_del(sp, set, PT_KEY_GUEST | e->gpasid);
	ptab_del(sp, set, e->pasid);
	hash_del(sp, e);
	bm_assign(sp->bitmap, e->pasid, false);
	set->count--;
	if (set->closing)
		pthread_cond_broadcast(&sp->gone);
	free(e);
}

/* ---- spaces and sets -------------------------------------------------------------- */

struct pasid_space *pasid_space_new(unsigned bits)
{
	struct pasid_space *sp;

	if (bits < 1 || bits > PASID_MAX_BITS) {
		errno = EINVAL;
		return NULL;
	}
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		goto nomem;
	sp->bits = bits;
	sp->max = (1u << bits) - 1;
	sp->bitmap = calloc(sp->max / 64 + 1, sizeof(uint64_t));
	sp->nbuckets = HASH_MIN;
	sp->buckets = calloc(sp->nbuckets, sizeof(*sp->buckets));
	if (!sp->bitmap || !sp->buckets)
		goto nomem_sp;
	bm_assign(sp->bitmap, 0, true);
	pthread_mutex_init(&sp->lock, NULL);
	pthread_cond_init(&sp->gone, NULL);
	return sp;

nomem_sp:
	free(sp->bitmap);
	free(sp->buckets);
	free(sp);
nomem:
	errno = ENOMEM;
	return NULL;
}

void pasid_space_free(struct pasid_space *sp)
{
	if (!sp)
		return;
	/* No set is left, so no entry and no retired table either. */
	pthread_cond_destroy(&sp->gone);
	pthread_mutex_destroy(&sp->lock);
	free(sp->buckets);
	free(sp->bitmap);
	free(sp);
}

unsigned pasid_space_bits(const struct pasid_space *sp)
{
	return sp->bits;
}

int pasid_set_new(struct pasid_space *sp, unsigned quota, enum pasid_map_mode mode,
		  struct pasid_set **out)
{
	struct pasid_set *set;
	struct ptab *t;

	if (!sp || !out || quota == 0 || (mode != PASID_MAP_IDENTITY && mode != PASID_MAP_GUEST))
		return -EINVAL;
	set = calloc(1, sizeof(*set));
	t = ptab_new(PT_MIN);
	if (!set || !t) {
		free(set);
		free(t);
		return -ENOMEM;
	}
	set->sp = sp;
	set->mode = mode;
	set->quota = quota;
	atomic_init(&set->tab, t);
	pthread_mutex_lock(&sp->lock);
	sp->nsets++;
	pthread_mutex_unlock(&sp->lock);
	*out = set;
	return 0;
}

void pasid_set_free(struct pasid_set *set)
{
	struct pasid_space *sp;

	if (!set)
		return;
	sp = set->sp;
	pthread_mutex_lock(&sp->lock);
	set->closing = true;
	while (set->live) {
		struct pasid_entry *e = set->live;

		entry_mark_dying(e);
		entry_release_and_drop(sp, e);
	}
	while (set->count)
		pthread_cond_wait(&sp->gone, &sp->lock);
	sp->nsets--;
	space_unlock(sp);
	/* No reader may use a set being freed, so its last table goes at once. */
	free(set_tab(set));
	free(set);
}

enum pasid_map_mode pasid_set_mode(const struct pasid_set *set)
{
	return set->mode;
}

unsigned pasid_set_count(const struct pasid_set *set)
{
	unsigned n;

	pthread_mutex_lock(&set->sp->lock);
	n = set->count;
	pthread_mutex_unlock(&set->sp->lock);
	return n;
}

unsigned pasid_set_quota(const struct pasid_set *set)
{
	return set->quota;
}

/* ---- allocation ------------------------------------------------------------------- */

int pasid_alloc(struct pasid_set *set, uint32_t min, uint32_t max, uint32_t *out)
{
	struct pasid_space *sp = set->sp;
	struct pasid_entry *e;
	uint32_t p;
	int err;

	if (min == 0 || min > max || max > sp->max)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	pthread_mutex_lock(&sp->lock);
	err = -ENOSPC;
	if (set->closing || set->count >= set->quota)
		goto out;
	p = bm_find(sp->bitmap, min, max, false);
	if (p == UINT32_MAX)
		goto out;
	err = ptab_reserve(sp, set, 1);
	if (err)
		goto out;
	e->pasid = p;
	e->set = set;
	e->next = set->live;
	if (set->live)
		set->live->prev = e;
	set->live = e;
	hash_add(sp, e);
	bm_assign(sp->bitmap, p, true);
	set->count++;
	ptab_put(set, p, 0);
	*out = p;
	e = NULL;
out:
	space_unlock(sp);
	free(e);
	return err;
}

int pasid_free(struct pasid_set *set, uint32_t pasid)
{
	struct pasid_space *sp = set->sp;
	struct pasid_entry *e;
	int err = 0;

	pthread_mutex_lock(&sp->lock);
	e = set_entry(set, pasid);
	if (!e) {
		err = -ENOENT;
	} else if (e->dying) {
		err = -EBUSY;
	} else {
		entry_mark_dying(e);
		entry_release_and_drop(sp, e);
	}
	space_unlock(sp);
	return err;
}

int pasid_free_range(struct pasid_set *set, uint32_t min, uint32_t max)
{
	struct pasid_space *sp = set->sp;
	int n = 0;

	if (min > max)
		return -EINVAL;
	if (min == 0)
		min = 1;
	if (max > sp->max)
		max = sp->max;
	pthread_mutex_lock(&sp->lock);
	/* The cursor only moves up, so each PASID is looked at once even though the
	 * lock is dropped around release callbacks. */
	for (uint32_t p = min; p <= max; p++) {
		struct pasid_entry *e;

		p = bm_find(sp->bitmap, p, max, true);
		if (p == UINT32_MAX)
			break;
		e = set_entry(set, p);
		if (e && !e->dying) {
			entry_mark_dying(e);
			entry_release_and_drop(sp, e);
			n++;
		}
	}
	space_unlock(sp);
	return n;
}

int pasid_check(const struct pasid_set *set, uint32_t pasid)
{
	uint32_t v;

	if (pasid == 0 || pasid > PASID_GUEST_MAX || !ptab_lookup(set, pasid, &v))
		return -ENOENT;
	return 0;
}

/* ---- users ------------------------------------------------------------------------ */

int pasid_user_add(struct pasid_set *set, uint32_t pasid, struct pasid_user *u)
{
	struct pasid_space *sp = set->sp;
	struct pasid_entry *e;
	int err = 0;

	if (!u || !u->release)
		return -EINVAL;
	pthread_mutex_lock(&sp->lock);
	e = set_entry(set, pasid);
	if (!e) {
		err = -ENOENT;
		goto out;
	}
	if (e->dying) {
		err = -EBUSY;
		goto out;
	}
	for (struct pasid_user *v = e->users; v; v = v->next) {
		if (v == u) {
			err = -EEXIST;
			goto out;
		}
	}
	u->next = e->users;
	e->users = u;
	e->nusers++;
out:
	space_unlock(sp);
	return err;
}

int pasid_user_del(struct pasid_set *set, uint32_t pasid, struct pasid_user *u)
{
	struct pasid_space *sp = set->sp;
	struct pasid_entry *e;
	int err = -ENOENT;

	pthread_mutex_lock(&sp->lock);
	e = set_entry(set, pasid);
	if (e) {
		for (struct pasid_user **pp = &e->users; *pp; pp = &(*pp)->next) {
			if (*pp == u) {
				*pp = u->next;
				u->next = NULL;
				e->nusers--;
				err = 0;
				break;
			}
		}
	}
	space_unlock(sp);
	return err;
}

unsigned pasid_user_count(const struct pasid_set *set, uint32_t pasid)
{
	struct pasid_entry *e;
	unsigned n;

	pthread_mutex_lock(&set->sp->lock);
	e = set_entry(set, pasid);
	n = e ? e->nusers : 0;
	pthread_mutex_unlock(&set->sp->lock);
	return n;
}

/* ---- guest -> host mapping -------------------------------------------------------- */

int pasid_map_guest(struct pasid_set *set, uint32_t gpasid, uint32_t hpasid)
{
	struct pasid_space *sp = set->sp;
	struct pasid_entry *e;
	int err;

	if (set->mode != PASID_MAP_GUEST || gpasid == 0 || gpasid > PASID_GUEST_MAX)
		return -EINVAL;
	pthread_mutex_lock(&sp->lock);
	e = set_entry(set, hpasid);
	if (!e)
		err = -ENOENT;
	else if (ptab_find(set_tab(set), PT_KEY_GUEST | gpasid) >= 0)
		err = -EEXIST;
	else if (e->gpasid || e->dying)
		err = -EBUSY;
	else
		err = ptab_reserve(sp, set, 1);
	if (!err) {
		/* G->H first: an h2g answer is then always findable by g2h. */
		ptab_put(set, PT_KEY_GUEST | gpasid, hpasid);
		ptab_put(set, hpasid, gpasid);
		e->gpasid = gpasid;
	}
	space_unlock(sp);
	return err;
}

int pasid_unmap_guest(struct pasid_set *set, uint32_t gpasid)
{
	struct pasid_space *sp = set->sp;
	struct pasid_entry *e;
	uint32_t hpasid;
	long i;

	if (set->mode != PASID_MAP_GUEST)
		return -EINVAL;
	if (gpasid == 0 || gpasid > PASID_GUEST_MAX)
		return -ENOENT;
	pthread_mutex_lock(&sp->lock);
	i = ptab_find(set_tab(set), PT_KEY_GUEST | gpasid);
	if (i < 0) {
		space_unlock(sp);
		return -ENOENT;
	}
	hpasid = (uint32_t)atomic_load_explicit(&set_tab(set)->slot[i], memory_order_relaxed);
	e = set_entry(set, hpasid);
	/* The reverse of map: H->G first. */
	ptab_put(set, hpasid, 0);
	ptab_del(sp, set, PT_KEY_GUEST | gpasid);
	if (e)
		e->gpasid = 0;
	space_unlock(sp);
	return 0;
}

int pasid_g2h(const struct pasid_set *set, uint32_t gpasid, uint32_t *hpasid)
{
	uint32_t v;

	if (gpasid == 0 || gpasid > PASID_GUEST_MAX)
		return -ENOENT;
	if (set->mode == PASID_MAP_IDENTITY) {
		if (!ptab_lookup(set, gpasid, &v))
			return -ENOENT;
		*hpasid = gpasid;
		return 0;
	}
	if (!ptab_lookup(set, PT_KEY_GUEST | gpasid, &v))
		return -ENOENT;
	*hpasid = v;
	return 0;
}

int pasid_h2g(const struct pasid_set *set, uint32_t hpasid, uint32_t *gpasid)
{
	uint32_t v;

	if (hpasid == 0 || hpasid > PASID_GUEST_MAX || !ptab_lookup(set, hpasid, &v))
		return -ENOENT;
	if (set->mode == PASID_MAP_IDENTITY) {
		*gpasid = hpasid;
		return 0;
	}
	if (!v)
		return -ENOENT;
	*gpasid = v;
	return 0;
}
