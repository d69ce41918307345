/* tests/test_mem.c — the physical address space: regions, checked accessors,
 * compare-exchange, bulk copies, frame pools, and regions coming and going while
 * other threads read. Every refused input is shown to leave the space as it was.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "mem/mem.h"
#include "pgtable/pgtable.h"

static uint8_t buf_a[0x2000] __attribute__((aligned(4096)));
static uint8_t buf_b[0x1000] __attribute__((aligned(4096)));

/* The space still holds exactly regions (base, size) and buf_a's marker. */
static void expect_regions(struct mem_space *s, unsigned n, const uint64_t *bases)
{
	CHECK_EQ(mem_region_count(s), n);
	for (unsigned i = 0; i < n; i++) {
		struct mem_region r;

		CHECK_EQ(mem_region_get(s, i, &r), 0);
		CHECK_EQ(r.base, bases[i]);
	}
}

static void test_regions(void)
{
	struct mem_space *s = mem_space_new();
	const uint64_t one[] = { 0x10000 }, two[] = { 0x10000, 0x20000 };
	struct mem_region r;
	uint64_t v;

	CHECK(s);
	CHECK_EQ(mem_add(s, 0x10000, sizeof(buf_a), buf_a, MEM_RW), 0);
	CHECK_EQ(mem_store64(s, 0x10008, 0x1122334455667788), 0);

	/* Overlaps: exact, from below, from above, containing, contained. */
	CHECK_EQ(mem_add(s, 0x10000, 0x1000, buf_b, MEM_RW), -EEXIST);
	CHECK_EQ(mem_add(s, 0xf000, 0x2000, buf_b, MEM_RW), -EEXIST);
	CHECK_EQ(mem_add(s, 0x11000, 0x2000, buf_b, MEM_RW), -EEXIST);
	CHECK_EQ(mem_add(s, 0x0, 0x100000, buf_b, MEM_RW), -EEXIST);
	CHECK_EQ(mem_add(s, 0x10800, 0x100, buf_b, MEM_RW), -EEXIST);
	/* Malformed: empty, wrapping, no permission, unknown bits, misaligned, no memory. */
	CHECK_EQ(mem_add(s, 0x30000, 0, buf_b, MEM_RW), -EINVAL);
	CHECK_EQ(mem_add(s, UINT64_MAX - 0xfff, 0x2000, buf_b, MEM_RW), -EINVAL);
	CHECK_EQ(mem_add(s, 0x30000, 0x1000, buf_b, 0), -EINVAL);
	CHECK_EQ(mem_add(s, 0x30000, 0x1000, buf_b, 4), -EINVAL);
	CHECK_EQ(mem_add(s, 0x30004, 0x1000, buf_b, MEM_RW), -EINVAL);
	CHECK_EQ(mem_add(s, 0x30000, 0x1000, NULL, MEM_RW), -EINVAL);
	CHECK_EQ(mem_add_anon(s, 0x30004, 0x1000, MEM_RW, NULL), -EINVAL);
	expect_regions(s, 1, one);
	CHECK_EQ(mem_load64(s, 0x10008, &v), 0);
	CHECK_EQ(v, 0x1122334455667788);

	/* Touching, not overlapping: [0x12000, ...) starts where buf_a ends. */
	CHECK_EQ(mem_add(s, 0x12000, 0x1000, buf_b, MEM_RW), 0);
	CHECK_EQ(mem_remove(s, 0x12000), 0);
	/* A region at the very top of the address space is fine. */
	CHECK_EQ(mem_add(s, UINT64_MAX - 0xfff, 0x1000, buf_b, MEM_READ), 0);
	CHECK_EQ(mem_remove(s, UINT64_MAX - 0xfff), 0);

	CHECK_EQ(mem_add_anon(s, 0x20000, 0x1000, MEM_RW, NULL), 0);
	expect_regions(s, 2, two);
	CHECK_EQ(mem_region_get(s, 2, &r), -ENOENT);
	CHECK_EQ(mem_remove(s, 0x20008), -ENOENT);     /* not a region base */
	CHECK_EQ(mem_remove(s, 0x40000), -ENOENT);
	expect_regions(s, 2, two);
	CHECK_EQ(mem_remove(s, 0x20000), 0);
	CHECK_EQ(mem_load64(s, 0x20000, &v), -EFAULT);
	expect_regions(s, 1, one);
	mem_space_free(s);
}

static void test_accessors(void)
{
	struct mem_space *s = mem_space_new();
	static uint8_t ro[0x1000] __attribute__((aligned(8))), wo[0x1000] __attribute__((aligned(8)));
	uint64_t v = 0, expect;
	uint8_t bytes[16];

	CHECK_EQ(mem_add(s, 0x1000, 0x1000, buf_b, MEM_RW), 0);
	CHECK_EQ(mem_add(s, 0x2000, 0x1000, ro, MEM_READ), 0);    /* adjacent to the first */
	CHECK_EQ(mem_add(s, 0x8000, 0x1000, wo, MEM_WRITE), 0);

	/* Little-endian words: byte 0 is the least significant. */
	for (int i = 0; i < 8; i++)
		bytes[i] = (uint8_t)(i + 1);
	CHECK_EQ(mem_write(s, 0x1100, bytes, 8), 0);
	CHECK_EQ(mem_load64(s, 0x1100, &v), 0);
	CHECK_EQ(v, 0x0807060504030201);
	CHECK_EQ(mem_store64(s, 0x1ff8, 0xaabbccddeeff0011), 0);   /* last word of the region */
	CHECK_EQ(mem_read(s, 0x1ff8, bytes, 8), 0);
	CHECK_EQ(bytes[0], 0x11);
	CHECK_EQ(bytes[7], 0xaa);

	/* Not wholly inside one region: refused even though both neighbours exist. */
	CHECK_EQ(mem_read(s, 0x1ffc, bytes, 8), -EFAULT);
	CHECK_EQ(mem_read(s, 0x1ff0, bytes, 0x20), -EFAULT);
	CHECK_EQ(mem_load64(s, 0x3000, &v), -EFAULT);      /* hole */
	CHECK_EQ(mem_load64(s, 0x0, &v), -EFAULT);         /* below everything */
	CHECK_EQ(mem_load64(s, 0xfffffffffffffff8, &v), -EFAULT);
	CHECK_EQ(mem_load64(s, 0x1004, &v), -EINVAL);      /* unaligned word */
	CHECK_EQ(mem_store64(s, 0x1004, 1), -EINVAL);
	CHECK_EQ(mem_read(s, 0x1000, bytes, 0), 0);         /* empty copies are no-ops */
	CHECK_EQ(mem_read(s, 0x9999999, bytes, 0), 0);

	/* Permissions: a read-only region refuses stores and compare-exchange. */
	ro[0] = 0x5a;
	CHECK_EQ(mem_store64(s, 0x2000, 0), -EACCES);
	CHECK_EQ(mem_write(s, 0x2000, bytes, 1), -EACCES);
	CHECK_EQ(mem_fill(s, 0x2000, 0, 8), -EACCES);
	expect = 0x5a;
	CHECK_EQ(mem_cas64(s, 0x2000, &expect, 0), -EACCES);
	CHECK_EQ(ro[0], 0x5a);
	CHECK_EQ(mem_load64(s, 0x2000, &v), 0);
	CHECK_EQ(v, 0x5a);
	/* A write-only region refuses loads. */
	CHECK_EQ(mem_load64(s, 0x8000, &v), -EACCES);
	CHECK_EQ(mem_store64(s, 0x8000, 7), 0);
	CHECK_EQ(wo[0], 7);

	/* Compare-exchange: success, then a mismatch that reports the value. */
	CHECK_EQ(mem_store64(s, 0x1200, 0x10), 0);
	expect = 0x10;
	CHECK_EQ(mem_cas64(s, 0x1200, &expect, 0x30), 0);
	expect = 0x10;
	CHECK_EQ(mem_cas64(s, 0x1200, &expect, 0x50), -EAGAIN);
	CHECK_EQ(expect, 0x30);
	CHECK_EQ(mem_load64(s, 0x1200, &v), 0);
	CHECK_EQ(v, 0x30);
	CHECK_EQ(mem_cas64(s, 0x1204, &expect, 0), -EINVAL);

	/* Bulk copy at odd alignments, and fill. */
	{
		uint8_t in[37], out[37];

		for (int i = 0; i < 37; i++)
			in[i] = (uint8_t)(0xc0 + i);
		CHECK_EQ(mem_write(s, 0x1303, in, sizeof(in)), 0);
		CHECK_EQ(mem_read(s, 0x1303, out, sizeof(out)), 0);
		CHECK(!memcmp(in, out, sizeof(in)));
		CHECK_EQ(mem_fill(s, 0x1305, 0xee, 3), 0);
		CHECK_EQ(mem_read(s, 0x1303, out, 6), 0);
		CHECK(out[0] == 0xc0 && out[1] == 0xc1 && out[2] == 0xee && out[4] == 0xee &&
		      out[5] == 0xc5);
	}
	mem_space_free(s);
}

static void test_frames(void)
{
	struct mem_space *s = mem_space_new();
	static uint8_t ro[0x4000] __attribute__((aligned(4096)));
	struct mem_frames *f;
	uint64_t pa[4], v;

	CHECK_EQ(mem_add_anon(s, 0x100000, 0x10000, MEM_RW, NULL), 0);   /* 16 frames */
	CHECK_EQ(mem_add(s, 0x200000, sizeof(ro), ro, MEM_READ), 0);

	errno = 0;
	CHECK(!mem_frames_new(s, 0x100800, 0x1000) && errno == EINVAL);
	CHECK(!mem_frames_new(s, 0x100000, 0) && errno == EINVAL);
	CHECK(!mem_frames_new(s, 0x108000, 0x10000) && errno == EFAULT);   /* runs past the region */
	CHECK(!mem_frames_new(s, 0x200000, 0x1000) && errno == EFAULT);    /* read-only */

	f = mem_frames_new(s, 0x100000, 0x10000);
	CHECK(f);
	CHECK_EQ(mem_frames_alloc(f, 0x1000, &pa[0]), 0);
	CHECK_EQ(pa[0], 0x100000);
	/* 16 KiB: aligned to 16 KiB, so it cannot start at 0x101000. */
	CHECK_EQ(mem_frames_alloc(f, 0x4000, &pa[1]), 0);
	CHECK_EQ(pa[1] & 0x3fff, 0);
	CHECK(pa[1] >= 0x101000);
	CHECK_EQ(mem_frames_used(f), 5);
	CHECK_EQ(mem_frames_alloc(f, 0x3000, &pa[2]), -EINVAL);    /* not a power of two */
	CHECK_EQ(mem_frames_alloc(f, 0x800, &pa[2]), -EINVAL);     /* below a frame */
	CHECK_EQ(mem_frames_alloc(f, 0x20000, &pa[2]), -ENOMEM);   /* bigger than the pool */
	/* 32 KiB must be 32 KiB aligned: the only candidate is 0x108000. */
	CHECK_EQ(mem_frames_alloc(f, 0x8000, &pa[2]), 0);
	CHECK_EQ(pa[2], 0x108000);
	CHECK_EQ(mem_frames_alloc(f, 0x8000, &pa[3]), -ENOMEM);
	CHECK_EQ(mem_frames_used(f), 13);

	/* Frees must name exactly an allocated block. */
	CHECK_EQ(mem_frames_free(f, pa[1], 0x1000), -EINVAL);
	CHECK_EQ(mem_frames_free(f, pa[1] + 0x1000, 0x1000), -EINVAL);
	CHECK_EQ(mem_frames_free(f, 0x10f000, 0x1000), -EINVAL);    /* never allocated */
	CHECK_EQ(mem_frames_free(f, 0x300000, 0x1000), -EINVAL);    /* not in the pool */
	CHECK_EQ(mem_frames_used(f), 13);

	/* Freed memory comes back zeroed. */
	CHECK_EQ(mem_store64(s, pa[0] + 0x10, 0xdeadbeef), 0);
	CHECK_EQ(mem_frames_free(f, pa[0], 0x1000), 0);
	CHECK_EQ(mem_frames_free(f, pa[0], 0x1000), -EINVAL);       /* double free */
	CHECK_EQ(mem_frames_alloc(f, 0x1000, &pa[0]), 0);
	CHECK_EQ(pa[0], 0x100000);
	CHECK_EQ(mem_load64(s, pa[0] + 0x10, &v), 0);
	CHECK_EQ(v, 0);
	mem_frames_free_pool(f);
	mem_space_free(s);
}

/*
 * Region churn under readers. One region is stable; another comes and goes, backed
 * by memory the writer frees (after poisoning it) as soon as mem_remove returns.
 * Readers must only ever see the churned region's good pattern or -EFAULT; under
 * AddressSanitizer a reader still inside freed memory would also be reported.
 */
#define CHURN_BASE 0x900000ull
#define CHURN_SIZE 0x1000ull
#define GOOD       0x600d600d600d600dull

static volatile int churn_stop;
static unsigned long churn_hits;        /* reads that saw the region, all readers */

struct churn_reader {
	struct mem_space *s;
	unsigned long hits, misses, bad;
};

static void *churn_reader(void *arg)
{
	struct churn_reader *st = arg;
	struct mem_space *s = st->s;

	while (!__atomic_load_n(&churn_stop, __ATOMIC_RELAXED)) {
		struct mem_view v;
		uint64_t a = 0, b = 0;
		int ra, rb;

		mem_view_begin(&v, s);
		ra = mem_view_load64(&v, 0x1000, &a);
		rb = mem_view_load64(&v, CHURN_BASE + 0x800, &b);
		mem_view_end(&v);
		if (ra || a != 0x1111)
			st->bad++;
		if (rb == -EFAULT)
			st->misses++;
		else if (!rb && b == GOOD) {
			st->hits++;
			__atomic_add_fetch(&churn_hits, 1, __ATOMIC_RELAXED);
		}
		else
			st->bad++;
	}
	return NULL;
}

static void test_concurrent_churn(void)
{
	enum { READERS = 2, ROUNDS = 200 };
	struct churn_reader args[READERS];
	pthread_t t[READERS];
	struct mem_space *s = mem_space_new();
	unsigned long hits = 0, misses = 0, bad = 0;

	CHECK_EQ(mem_add(s, 0x1000, 0x1000, buf_b, MEM_RW), 0);
	CHECK_EQ(mem_store64(s, 0x1000, 0x1111), 0);
	churn_stop = 0;
	for (int i = 0; i < READERS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].s = s;
		pthread_create(&t[i], NULL, churn_reader, &args[i]);
	}
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t *mem = aligned_alloc(4096, CHURN_SIZE);

		for (unsigned i = 0; i < CHURN_SIZE / 8; i++)
			mem[i] = GOOD;
		unsigned long seen = __atomic_load_n(&churn_hits, __ATOMIC_RELAXED);

		CHECK_EQ(mem_add(s, CHURN_BASE, CHURN_SIZE, mem, MEM_RW), 0);
		/* Let the readers find it, so the removal races with real reads. */
		for (int spin = 0; spin < 100000 &&
				   __atomic_load_n(&churn_hits, __ATOMIC_RELAXED) < seen + READERS; spin++)
			sched_yield();
		CHECK_EQ(mem_remove(s, CHURN_BASE), 0);
		/* No reader can reach this memory any more. */
		for (unsigned i = 0; i < CHURN_SIZE / 8; i++)
			__atomic_store_n(&mem[i], 0xbadbadbadbadbadull, __ATOMIC_RELAXED);
		free(mem);
	}
	__atomic_store_n(&churn_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < READERS; i++) {
		pthread_join(t[i], NULL);
		hits += args[i].hits;
		misses += args[i].misses;
		bad += args[i].bad;
	}
	CHECK_EQ(bad, 0);
	CHECK(misses > 0);
	CHECK(hits >= ROUNDS);
	printf("churn: %lu reads saw the region, %lu saw none, %lu bad\n", hits, misses, bad);
	mem_space_free(s);
}

/* Read sections nest; a thread's first section registers it. */
static void *nested_sections(void *arg)
{
	struct mem_space *s = arg;
	struct mem_view outer, inner;
	uint64_t v = 0;

	mem_view_begin(&outer, s);
	mem_view_begin(&inner, s);
	mem_view_load64(&inner, 0x1000, &v);
	mem_view_end(&inner);
	mem_view_load64(&outer, 0x1000, &v);
	mem_view_end(&outer);
	return (void *)(uintptr_t)v;
}

static void test_nesting(void)
{
	struct mem_space *s = mem_space_new();
	pthread_t t;
	void *ret;

	CHECK_EQ(mem_add(s, 0x1000, 0x1000, buf_b, MEM_RW), 0);
	CHECK_EQ(mem_store64(s, 0x1000, 0x77), 0);
	pthread_create(&t, NULL, nested_sections, s);
	pthread_join(t, &ret);
	CHECK_EQ((uintptr_t)ret, 0x77);
	/* The thread has exited; a grace period must not wait for it. */
	CHECK_EQ(mem_add(s, 0x5000, 0x1000, buf_a, MEM_RW), 0);
	CHECK_EQ(mem_remove(s, 0x5000), 0);
	mem_space_free(s);
}

/*
 * A view starts from the region where this thread's last view ended. After that
 * region is removed and another takes its slot in the map, the hint must give
 * the new region's answers, never the old memory's.
 */
static void test_view_hint(void)
{
	struct mem_space *s = mem_space_new();
	static uint64_t a[512] __attribute__((aligned(4096))), b[512] __attribute__((aligned(4096)));
	struct mem_view v;
	uint64_t val = 0;

	a[1] = 0xaaaa;
	b[1] = 0xbbbb;
	CHECK_EQ(mem_add(s, 0x10000, sizeof(a), a, MEM_RW), 0);
	mem_view_begin(&v, s);
	CHECK_EQ(mem_view_load64(&v, 0x10008, &val), 0);
	CHECK_EQ(val, 0xaaaa);
	mem_view_end(&v);                       /* the hint: region 0 of this map */
	CHECK_EQ(mem_remove(s, 0x10000), 0);
	CHECK_EQ(mem_add(s, 0x20000, sizeof(b), b, MEM_READ), 0);    /* region 0 again */
	mem_view_begin(&v, s);
	CHECK_EQ(mem_view_load64(&v, 0x10008, &val), -EFAULT);
	CHECK_EQ(mem_view_load64(&v, 0x20008, &val), 0);
	CHECK_EQ(val, 0xbbbb);
	CHECK_EQ(mem_view_store64(&v, 0x20008, 1), -EACCES);
	mem_view_end(&v);
	CHECK_EQ(b[1], 0xbbbb);
	mem_space_free(s);
}

/*
 * The walker caches the region it last read from; after the tables' region is
 * removed, the same walk must fault on the first table access, and after other
 * memory appears at that address, read the new contents.
 */
static void test_walker_follows_regions(void)
{
	struct mem_space *s = mem_space_new();
	static uint64_t t1[4 * 512] __attribute__((aligned(4096)));
	static uint64_t t2[4 * 512] __attribute__((aligned(4096)));
	struct pgt_fmt f;
	struct pgt_result r;

	/* vtd-ss4 tables at 0x100000..0x103fff mapping IOVA 0 -> 0x5000 (R W). */
	for (int i = 0; i < 3; i++)
		t1[i * 512] = (0x101000 + 0x1000 * (uint64_t)i) | 3;
	t1[3 * 512] = 0x5000 | 3;
	memcpy(t2, t1, sizeof(t1));
	t2[3 * 512] = 0x6000 | 3;                /* the same tables, another page */
	CHECK_EQ(pgt_fmt_parse(&f, "vtd-ss4", NULL, 0), 0);
	CHECK_EQ(mem_add(s, 0x100000, sizeof(t1), t1, MEM_RW), 0);
	CHECK_EQ(pgt_walk(&f, s, 0x100000, 0x123, 0, &r, NULL), 0);
	CHECK(r.ok && r.oa == 0x5123);
	CHECK_EQ(mem_remove(s, 0x100000), 0);
	CHECK_EQ(pgt_walk(&f, s, 0x100000, 0x123, 0, &r, NULL), 0);
	CHECK(!r.ok && r.fault.reason == PGT_FAULT_TABLE_ACCESS && r.fault.level == 4);
	CHECK_EQ(mem_add(s, 0x100000, sizeof(t2), t2, MEM_RW), 0);
	CHECK_EQ(pgt_walk(&f, s, 0x100000, 0x123, 0, &r, NULL), 0);
	CHECK(r.ok && r.oa == 0x6123);
	mem_space_free(s);
}

int main(void)
{
	test_regions();
	test_view_hint();
	test_walker_follows_regions();
	test_accessors();
	test_frames();
	test_nesting();
	test_concurrent_churn();
	return check_exit();
}
