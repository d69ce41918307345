/* bench/bench_util.h — what the benchmark programs share: the clock and the
 * median, a reproducible random stream, CPU cache-line flushing, the bare
 * open-addressing hash lookup that the models' hit paths are measured against,
 * and the clear-when-full cache (QEMU's IOTLB policy) their hit rates are
 * compared with.
 *
 * Header-only (every function static inline, so a program that uses a part
 * pays nothing for the rest). The including program defines PAGE (the page
 * size the hash table keys on) before including it.
 */
#ifndef VSVA_BENCH_UTIL_H
#define VSVA_BENCH_UTIL_H

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LINE_FLUSH "clflush"
#elif defined(__aarch64__)
#define LINE_FLUSH "dc civac"
#else
#define LINE_FLUSH NULL         /* no user-mode flush: cold modes are skipped */
#endif

/* Out of memory while setting a benchmark up: nothing to measure. */
static inline void bench_oom(const char *what)
{
	fprintf(stderr, "benchmark setup: %s: out of memory\n", what);
	exit(1);
}

/* Results go here, so that no timed loop is dead code. */
static volatile uint64_t bench_sink;

#define HT_EMPTY UINT64_MAX      /* never a page address */

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* xorshift64*: reproducible streams, seeded per use. */
static inline uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* ---- 2. a cold nested walk ----------------------------------------------------------------- */

static inline void flush_lines(void *const *lines, unsigned n)
{
#if defined(__x86_64__) || defined(__i386__)
	for (unsigned i = 0; i < n; i++)
		_mm_clflush(lines[i]);
	_mm_mfence();
#elif defined(__aarch64__)
	for (unsigned i = 0; i < n; i++)
		__asm__ volatile("dc civac, %0" : : "r"(lines[i]) : "memory");
	__asm__ volatile("dsb ish" : : : "memory");
#else
	(void)lines;
	(void)n;
#endif
}

/* ---- 1. IOTLB hit against a bare hash-table lookup --------------------------------------- */

/* ---- the bare lookup the hit paths are compared with ---- */

struct htab {
	struct hslot {
		uint64_t key, val;
	} *slot;
	uint64_t mask;
};

/* never a page address */

static inline uint64_t ht_hash(uint64_t k)
{
	/* splitmix64's finaliser: every key bit reaches every hash bit. */
	k = (k ^ (k >> 30)) * 0xbf58476d1ce4e5b9ull;
	k = (k ^ (k >> 27)) * 0x94d049bb133111ebull;
	return k ^ (k >> 31);
}

static inline void ht_init(struct htab *h, unsigned slots)
{
	h->slot = malloc(sizeof(*h->slot) * slots);
	if (!h->slot)
		bench_oom("malloc");
	for (unsigned i = 0; i < slots; i++)
		h->slot[i].key = HT_EMPTY;
	h->mask = slots - 1;
}

static inline void ht_insert(struct htab *h, uint64_t key, uint64_t val)
{
	uint64_t i = ht_hash(key) & h->mask;

	while (h->slot[i].key != HT_EMPTY && h->slot[i].key != key)
		i = (i + 1) & h->mask;
	h->slot[i].key = key;
	h->slot[i].val = val;
}

/* The bare lookup: the page of addr to its output page, plus the offset. Out of
 * line, as vtd_translate is a call into the library. */
static __attribute__((noinline, unused)) uint64_t ht_lookup(const struct htab *h, uint64_t addr)
{
	uint64_t key = addr & ~(PAGE - 1), i = ht_hash(key) & h->mask;

	for (;;) {
		const struct hslot *s = &h->slot[i];

		if (s->key == key)
			return s->val + (addr & (PAGE - 1));
		if (s->key == HT_EMPTY)
			return 0;
		i = (i + 1) & h->mask;
	}
}

static inline double time_hash(const struct htab *h, const uint64_t *addr, unsigned n, unsigned repeat)
{
	uint64_t acc = 0;
	double t0 = now_ns();

	for (unsigned r = 0; r < repeat; r++)
		for (unsigned i = 0; i < n; i++)
			acc += ht_lookup(h, addr[i]);
	t0 = now_ns() - t0;
	bench_sink += acc;
	return t0;
}

static inline double timer_cost(unsigned samples)
{
	double *t = calloc(samples, sizeof(double)), m;

	if (!t)
		bench_oom("calloc");
	for (unsigned i = 0; i < samples; i++) {
		double t0 = now_ns();

		t[i] = now_ns() - t0;
	}
	m = median(t, samples);
	free(t);
	return m;
}

/* QEMU's IOTLB: a hash table of translations that is emptied when an insert
 * finds it holding its maximum (vtd_update_iotlb: size >= VTD_IOTLB_MAX_SIZE
 * resets it). Keys are the request's page; one kind per stream. */
struct clear_cache {
	uint64_t *key;          /* open addressing over 2 * cap slots; 0 is empty */
	uint64_t mask;
	unsigned cap, size;
	uint64_t hits, misses, clears;
};

static inline void cc_init(struct clear_cache *q, unsigned cap)
{
	memset(q, 0, sizeof(*q));
	q->cap = cap;
	q->mask = 2ull * cap - 1;
	q->key = calloc(2ull * cap, sizeof(uint64_t));
	if (!q->key)
		bench_oom("calloc");
}

static inline void cc_access(struct clear_cache *q, uint64_t page)
{
	uint64_t i = ht_hash(page) & q->mask;

	while (q->key[i] && q->key[i] != page)
		i = (i + 1) & q->mask;
	if (q->key[i]) {
		q->hits++;
		return;
	}
	q->misses++;
	if (q->size >= q->cap) {
		memset(q->key, 0, sizeof(uint64_t) * (q->mask + 1));
		q->size = 0;
		q->clears++;
		i = ht_hash(page) & q->mask;
	}
	q->key[i] = page;
	q->size++;
}

/* A hit-rate workload: n page addresses from base. hot_pct 0: a sequential loop
 * over hot pages; else hot_pct percent uniformly over hot pages, the rest over
 * cold pages beyond them. */
static inline void hit_rate_stream(uint64_t *addr, unsigned n, uint64_t base, unsigned hot,
				   unsigned cold, unsigned hot_pct, uint64_t *seed)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t p;

		if (!hot_pct)
			p = i % hot;
		else if (rnd(seed) % 100 < hot_pct)
			p = rnd(seed) % hot;
		else
			p = hot + rnd(seed) % cold;
		addr[i] = base + p * PAGE;
	}
}

#endif
