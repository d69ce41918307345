/* tests/test_hwcache.c — the set-associative cache of the hardware models:
 * geometry rules, hits and misses, LRU replacement (never a wholesale clear),
 * invalidation by predicate, fills dropped after a racing invalidation,
 * readers racing writers without ever seeing a torn entry, and the statistics
 * counters staying exact with more threads than owned slots.
 */
#include <errno.h>
#include <pthread.h>

#include "check.h"
#include "hw/hwcache.h"

static void key(uint64_t k, uint64_t tag[HWC_TAG_WORDS])
{
	tag[0] = k;
	tag[1] = ~k;
	tag[2] = k * 3;
}

/* Values derived from the key, so a torn copy is detectable. */
static void value(uint64_t k, uint64_t val[HWC_VAL_WORDS])
{
	for (unsigned i = 0; i < HWC_VAL_WORDS; i++)
		val[i] = k * 0x100 + i;
}

static bool fill(struct hwc *c, uint64_t k)
{
	uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS];

	key(k, tag);
	value(k, val);
	return hwc_fill(c, hwc_hash(k, 0), tag, val, hwc_gen(c));
}

static bool lookup(struct hwc *c, uint64_t k)
{
	uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS], want[HWC_VAL_WORDS];

	key(k, tag);
	if (!hwc_lookup(c, hwc_hash(k, 0), tag, val))
		return false;
	value(k, want);
	for (unsigned i = 0; i < HWC_VAL_WORDS; i++)
		CHECK_EQ(val[i], want[i]);
	return true;
}

static void test_geometry(void)
{
	struct hwc *c;

	errno = 0;
	CHECK(!hwc_new("x", 24, 4) && errno == EINVAL);     /* not a power of two */
	CHECK(!hwc_new("x", 4, 8) && errno == EINVAL);      /* fewer entries than ways */
	CHECK(!hwc_new("x", 64, 0) && errno == EINVAL);
	CHECK(!hwc_new("x", 128, 128) && errno == EINVAL);  /* more than 64 ways */
	c = hwc_new("empty", 0, 4);                          /* holds nothing */
	CHECK(c && !fill(c, 1) && !lookup(c, 1));
	hwc_free(c);
	c = hwc_new("c", 256, 4);
	CHECK(c && c->nsets == 64 && hwc_entries(c) == 256);
	hwc_free(c);
}

/* Keys that all land in set 0 of a cache with nsets sets. */
static uint64_t key_in_set0(struct hwc *c, unsigned n)
{
	uint64_t k = 0;

	for (unsigned found = 0;; k++)
		if ((hwc_hash(k, 0) & c->set_mask) == 0 && found++ == n)
			return k;
}

static void test_lru(void)
{
	struct hwc *c = hwc_new("lru", 16, 4);     /* 4 sets x 4 ways */
	uint64_t k[6];

	for (unsigned i = 0; i < 6; i++)
		k[i] = key_in_set0(c, i);
	for (unsigned i = 0; i < 4; i++)
		CHECK(fill(c, k[i]));
	for (unsigned i = 0; i < 4; i++)
		CHECK(lookup(c, k[i]));
	/* Advance the epoch with a fill elsewhere, then use k0 again: k1..k3 share the
	 * oldest stamp and the lowest way among them, k1, is the victim. */
	{
		uint64_t other = 1000;

		while ((hwc_hash(other, 0) & c->set_mask) == 0)
			other++;
		CHECK(fill(c, other));
	}
	CHECK(lookup(c, k[0]));
	CHECK(fill(c, k[4]));
	CHECK(lookup(c, k[0]) && !lookup(c, k[1]) && lookup(c, k[4]));
	CHECK_EQ(pcounter_read(&c->stats.evictions) >= 1, 1);
	/* A full set replaces one entry at a time: the others stay. */
	CHECK(fill(c, k[5]));
	CHECK_EQ((unsigned)lookup(c, k[0]) + lookup(c, k[2]) + lookup(c, k[3]) + lookup(c, k[4]) +
		 lookup(c, k[5]), 4);
	/* Refilling a present tag does not take a second way. */
	{
		unsigned before = hwc_count_valid(c);

		CHECK(fill(c, k[5]));
		CHECK_EQ(hwc_count_valid(c), before);
	}
	hwc_free(c);
}

static bool match_even(const uint64_t tag[HWC_TAG_WORDS], const uint64_t val[HWC_VAL_WORDS],
		       const void *ctx)
{
	(void)val;
	(void)ctx;
	return !(tag[0] & 1);
}

static void test_invalidate(void)
{
	struct hwc *c = hwc_new("inv", 1024, 8);
	uint64_t gen;

	for (uint64_t k = 0; k < 200; k++)
		CHECK(fill(c, k));
	CHECK_EQ(hwc_count_valid(c), 200);
	CHECK_EQ(hwc_invalidate(c, match_even, NULL), 100);
	for (uint64_t k = 0; k < 200; k++)
		CHECK_EQ(lookup(c, k), k & 1);
	/* A fill whose walk began before an invalidation is dropped. */
	gen = hwc_gen(c);
	hwc_invalidate(c, match_even, NULL);
	{
		uint64_t tag[HWC_TAG_WORDS], val[HWC_VAL_WORDS];

		key(500, tag);
		value(500, val);
		CHECK(!hwc_fill(c, hwc_hash(500, 0), tag, val, gen));
		CHECK(!lookup(c, 500));
		CHECK_EQ(pcounter_read(&c->stats.dropped_fills), 1);
	}
	CHECK_EQ(hwc_invalidate_all(c), 100);
	CHECK_EQ(hwc_count_valid(c), 0);
	hwc_free(c);
}

/* Readers and writers on a small cache: every hit must return its own key's value. */
struct race {
	struct hwc *c;
	volatile int stop;
	unsigned long hits;
	unsigned long lookups;       /* published every 256, so the writer sees progress */
};

static void *race_reader(void *arg)
{
	struct race *r = arg;
	unsigned long hits = 0;

	for (uint64_t i = 0; !__atomic_load_n(&r->stop, __ATOMIC_RELAXED); i++) {
		hits += lookup(r->c, i % 97);
		if (i % 256 == 255) {
			__atomic_add_fetch(&r->lookups, 256, __ATOMIC_RELAXED);
			__atomic_add_fetch(&r->hits, hits, __ATOMIC_RELAXED);
			hits = 0;
		}
	}
	__atomic_add_fetch(&r->hits, hits, __ATOMIC_RELAXED);
	return NULL;
}

static void test_race(void)
{
	struct race r = { .c = hwc_new("race", 32, 4) };
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, race_reader, &r);
	/* Keep writing until the readers have hit entries while writers were at
	 * work (a loaded machine may not schedule them in a fixed number of rounds);
	 * the bound only stops a broken cache from looping forever. */
	for (unsigned round = 0;
	     round < 20000 || (__atomic_load_n(&r.hits, __ATOMIC_RELAXED) < 1000 &&
			       round < 50000000);
	     round++) {
		fill(r.c, round % 97);
		if (round % 64 == 0)
			hwc_invalidate(r.c, match_even, NULL);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK_MSG(r.hits > 0, "%lu lookups, %lu hits", r.lookups, r.hits);
	hwc_free(r.c);
}

/*
 * The counters every cache statistic is made of: a thread owns a slot and adds
 * with a plain load and store, threads beyond the owned slots share one with
 * atomic adds, and an exiting thread's slot goes to the next thread. More
 * threads than slots, in rounds (slots change hands), and no add may be lost.
 */
#define PC_THREADS 40
#define PC_ADDS    20000

static struct pcounter pc_counter;

static void *pc_adder(void *arg)
{
	for (unsigned i = 0; i < PC_ADDS; i++)
		pcounter_add(&pc_counter, 1 + (i & 1));
	return arg;
}

static void test_pcounter(void)
{
	uint64_t want = 0;

	pcounter_reset(&pc_counter);
	for (unsigned round = 0; round < 4; round++) {
		pthread_t t[PC_THREADS];

		for (unsigned i = 0; i < PC_THREADS; i++)
			CHECK_EQ(pthread_create(&t[i], NULL, pc_adder, NULL), 0);
		for (unsigned i = 0; i < PC_THREADS; i++)
			pthread_join(t[i], NULL);
		want += (uint64_t)PC_THREADS * (PC_ADDS / 2) * 3;
		CHECK_EQ(pcounter_read(&pc_counter), want);
	}
	/* This thread's slot is an owned one or the shared one, never beyond. */
	CHECK(pcounter_shard() < PCOUNTER_SHARDS);
}

int main(void)
{
	test_geometry();
	test_lru();
	test_invalidate();
	test_race();
	test_pcounter();
	return check_exit();
}
