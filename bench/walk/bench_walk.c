/* bench/walk/bench_walk.c — what a table walk costs per memory reference, against
 * the cost of the same references as a bare dependent-load chain.
 *
 * Claim under test: a walk costs at most 3x the floor per reference, where the
 * floor is a pointer-chasing loop that loads exactly the words the walk reads
 * (recorded with pgt_trace), in the same order, from the same host memory, each
 * load's address depending on the previous load's value, measured in the same
 * run under the same cache conditions. Walks are serialised the same way: each
 * walk's input address depends on the previous walk's output, so neither side
 * overlaps independent loads and the comparison is latency against latency.
 *
 * Cases: x86-fs4, vtd-ss4 and lpae-s1:4k (1-D, 4 references), and the nested
 * pairs x86-fs4/vtd-ss4 and lpae-s1/lpae-s2 (24 references), x86-fs5/vtd-ss5
 * (35). Every page is 4 KiB, stage-2 pages too, so walks are full length.
 *
 * Modes:
 *  warm  16 walks, repeated: their entries fit in L1, as in a steady IOTLB-miss
 *        loop over a few buffers.
 *  cold  64 walks per batch, and before every timed batch (walks, and chain
 *        alike) each cache line the batch reads is flushed from every cache
 *        level (clflush on x86, DC CIVAC on Arm). Why not a working set larger
 *        than the last-level cache: LLCs reach hundreds of MiB (this kind of
 *        host reports 480 MiB), so that would need GiBs of tables, and it leaves
 *        the upper levels cached anyway; flushing exactly the lines is cheap,
 *        independent of the cache size, and makes the chain's start state the
 *        same as the walk's. The batch's addresses use a different entry (8
 *        apart: a different line) at every level, so 1-D walks share no line;
 *        nested walks do share stage-2 entries of neighbouring stage-1 tables,
 *        as on hardware, and so does their chain. "cold_lines_per_walk" says
 *        how many distinct lines per walk were flushed.
 *
 * APIs: "pgt_walk" (or pgt_walk_nested) per walk, as a user calls it, each call
 * opening its own mem view; and "pgt_walk_view" (pgt_walk_nested_view), a batch
 * inside one view. Times are medians over batches (clock_gettime MONOTONIC).
 * One JSON object per line; no assertions on time. `--quick` runs fewer batches.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem/mem.h"
#include "pgtable/pgtable.h"

#define LINE_BYTES   64
#define COLD_WALKS   64         /* walks per cold batch (8 * 64 = 512 entries per table) */
#define WARM_WALKS   16
#define WARM_REPEAT  64         /* passes over the warm set per timed batch */
#define PAGE         4096ull

#include "bench_util.h"

/* Host physical layout. Outputs (DATA_HPA) need no memory: walks never touch it. */
#define POOL_HPA       0x100000000ull     /* 1-D tables and stage-2 tables */
#define POOL_SIZE      (64ull << 20)
#define GUEST_RAM_HPA  0x200000000ull     /* guest RAM at GPA 0: the stage-1 tables */
#define GUEST_RAM_SIZE (8ull << 20)
#define DATA_HPA       0x300000000ull

struct bench_case {
	const char *name;
	const char *s1, *s2;    /* s2 NULL: a 1-D walk */
	unsigned refs;          /* references per walk with 4 KiB pages everywhere */
};

static const struct bench_case cases[] = {
	{ "x86-fs4", "x86-fs4", NULL, 4 },
	{ "vtd-ss4", "vtd-ss4", NULL, 4 },
	{ "lpae-s1:4k", "lpae-s1:4k:t0sz=16", NULL, 4 },
	{ "x86-fs4/vtd-ss4", "x86-fs4", "vtd-ss4", 24 },
	{ "lpae-s1:4k/lpae-s2:4k", "lpae-s1:4k:t0sz=16", "lpae-s2:4k:t0sz=16:sl0=2", 24 },
	{ "x86-fs5/vtd-ss5", "x86-fs5", "vtd-ss5", 35 },
};

/*
 * Always 0, read once at start: masking a loaded value with it makes the next
 * address depend on that load without changing it, and the compiler cannot fold
 * the dependency away.
 */
static volatile uint64_t opaque_zero_src;

struct env {
	const struct bench_case *c;
	struct pgt_fmt f1, f2;
	bool nested;
	struct mem_space *host, *guest;
	struct mem_frames *hpool, *gpool;
	uint64_t root1, root2;
	uint64_t ia[COLD_WALKS];
	const uint64_t **chain;     /* the words walk 0, 1, ... read, in order */
	void **lines;               /* distinct cache lines of all COLD_WALKS walks */
	unsigned nlines;
};

/*
 * Input address i of a set: entry 8 * i + off at every level below `levels`, so
 * that each walk's entries lie in lines of their own and in different cache sets
 * (entries at the same offset of 4 KiB tables would all share one L1 set).
 */
static uint64_t spread_addr(const struct pgt_fmt *f, unsigned levels, unsigned i, unsigned off)
{
	uint64_t a = 0;

	for (unsigned h = 0; h < levels; h++) {
		unsigned bits = h == f->levels - 1u ? f->root_bits : f->stride;

		a |= (uint64_t)((8 * i + off) & ((1u << bits) - 1)) << pgt_shift(f, h);
	}
	if (f->family == PGT_X86_FS)
		a = sext64(a, f->ia_bits - 1u);
	return a;
}

static int walk_call(struct env *e, uint64_t ia, struct pgt_result *r,
		     const struct pgt_trace *t)
{
	if (e->nested)
		return pgt_walk_nested(&e->f1, e->root1, &e->f2, e->root2, e->host, ia, 0, r, t);
	return pgt_walk(&e->f1, e->host, e->root1, ia, 0, r, t);
}

static int walk_in_view(struct env *e, struct mem_view *v, uint64_t ia, struct pgt_result *r)
{
	if (e->nested)
		return pgt_walk_nested_view(&e->f1, e->root1, &e->f2, e->root2, v, ia, 0, r, NULL);
	return pgt_walk_view(&e->f1, v, e->root1, ia, 0, r, NULL);
}

/* Times `repeat` passes over the first n addresses; each walk waits for the last. */
static double time_walks(struct env *e, unsigned n, unsigned repeat, bool one_view,
			 uint64_t zero)
{
	struct pgt_result r = { 0 };
	struct mem_view v;
	uint64_t last = 0;
	double t0 = now_ns();

	if (one_view)
		mem_view_begin(&v, e->host);
	for (unsigned k = 0; k < repeat; k++) {
		for (unsigned i = 0; i < n; i++) {
			uint64_t ia = e->ia[i] + (last & zero);

			if (one_view)
				walk_in_view(e, &v, ia, &r);
			else
				walk_call(e, ia, &r, NULL);
			last = r.oa;
		}
	}
	if (one_view)
		mem_view_end(&v);
	t0 = now_ns() - t0;
	bench_sink += last;
	return t0;
}

/* The floor: n dependent loads, with the walker's own load (acquire). */
static __attribute__((noinline)) uint64_t chase(const uint64_t *const *words, size_t n,
						uint64_t v, uint64_t zero)
{
	for (size_t i = 0; i < n; i++)
		v = __atomic_load_n((const uint64_t *)((uintptr_t)words[i] + (uintptr_t)(v & zero)),
				    __ATOMIC_ACQUIRE);
	return v;
}

static double time_chain(struct env *e, size_t n, unsigned repeat, uint64_t zero)
{
	uint64_t v = 0;
	double t0 = now_ns();

	for (unsigned k = 0; k < repeat; k++)
		v = chase(e->chain, n, v, zero);
	t0 = now_ns() - t0;
	bench_sink += v;
	return t0;
}

/* ---- building the tables and recording what the walks read --------------------- */

struct recorder {
	struct mem_view *v;
	const uint64_t **out;
	unsigned n, cap;
	bool wrote, missing;
};

static void record_step(void *ctx, const struct pgt_step *s)
{
	struct recorder *rec = ctx;
	int err = 0;

	if (s->write) {
		rec->wrote = true;
		return;
	}
	if (rec->n < rec->cap) {
		rec->out[rec->n] = mem_view_ptr(rec->v, s->pa, 8, MEM_READ, &err);
		rec->missing |= !rec->out[rec->n];
	}
	rec->n++;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

static int env_setup(struct env *e, const struct bench_case *c)
{
	const unsigned rw = PGT_PROT_R | PGT_PROT_W;
	struct mem_view v;
	struct recorder rec;
	struct pgt_trace trace = { record_step, &rec };
	struct pgt_result r;
	void *ram;
	int ret = 0;

	memset(e, 0, sizeof(*e));
	e->c = c;
	e->nested = c->s2 != NULL;
	if (pgt_fmt_parse(&e->f1, c->s1, NULL, 0) || (e->nested && pgt_fmt_parse(&e->f2, c->s2, NULL, 0)))
		return -EINVAL;
	e->host = mem_space_new();
	if (!e->host || mem_add_anon(e->host, POOL_HPA, POOL_SIZE, MEM_RW, NULL))
		return -ENOMEM;
	e->hpool = mem_frames_new(e->host, POOL_HPA, POOL_SIZE);
	if (!e->hpool)
		return -ENOMEM;

	if (!e->nested) {
		ret = pgt_root_alloc(&e->f1, e->hpool, &e->root1);
		for (unsigned i = 0; i < COLD_WALKS && !ret; i++) {
			e->ia[i] = spread_addr(&e->f1, e->f1.levels, i, 0);
			ret = pgt_map(&e->f1, e->hpool, e->root1, e->ia[i], DATA_HPA + i * PAGE, PAGE,
				      rw, PAGE);
		}
	} else {
		/* Guest RAM twice over: at its host address and at GPA 0 of the guest,
		 * where the stage-1 tables are built; stage 2 maps it in 4 KiB pages. */
		ret = mem_add_anon(e->host, GUEST_RAM_HPA, GUEST_RAM_SIZE, MEM_RW, &ram);
		e->guest = mem_space_new();
		if (ret || !e->guest || mem_add(e->guest, 0, GUEST_RAM_SIZE, ram, MEM_RW))
			return -ENOMEM;
		e->gpool = mem_frames_new(e->guest, 0, GUEST_RAM_SIZE);
		if (!e->gpool)
			return -ENOMEM;
		ret = pgt_root_alloc(&e->f2, e->hpool, &e->root2);
		if (!ret)
			ret = pgt_map(&e->f2, e->hpool, e->root2, 0, GUEST_RAM_HPA, GUEST_RAM_SIZE, rw,
				      PAGE);
		if (!ret)
			ret = pgt_root_alloc(&e->f1, e->gpool, &e->root1);
		for (unsigned i = 0; i < COLD_WALKS && !ret; i++) {
			/* Outputs spread over stage 2 too (below 2^48: any stage 1 reaches them),
			 * away from guest RAM (entry 4, not 0, at the top). */
			uint64_t gpa = spread_addr(&e->f2, e->f2.levels < 4 ? e->f2.levels : 4, i, 4);

			e->ia[i] = spread_addr(&e->f1, e->f1.levels, i, 0);
			ret = pgt_map(&e->f2, e->hpool, e->root2, gpa, DATA_HPA + i * PAGE, PAGE, rw, PAGE);
			if (!ret)
				ret = pgt_map(&e->f1, e->gpool, e->root1, e->ia[i], gpa, PAGE, rw, PAGE);
		}
	}
	if (ret)
		return ret;

	/* Warm up (x86 walks set A flags once), then record each walk's reads. */
	for (unsigned i = 0; i < COLD_WALKS; i++)
		walk_call(e, e->ia[i], &r, NULL);
	e->chain = calloc((size_t)COLD_WALKS * c->refs, sizeof(*e->chain));
	e->lines = calloc((size_t)COLD_WALKS * c->refs, sizeof(*e->lines));
	if (!e->chain || !e->lines)
		return -ENOMEM;
	mem_view_begin(&v, e->host);
	rec = (struct recorder){ .v = &v, .out = e->chain, .cap = COLD_WALKS * c->refs };
	for (unsigned i = 0; i < COLD_WALKS; i++) {
		unsigned before = rec.n;

		walk_call(e, e->ia[i], &r, &trace);
		if (!r.ok || r.refs != c->refs || rec.n - before != c->refs || r.oa != DATA_HPA + i * PAGE) {
			fprintf(stderr, "bench_walk: %s: walk %u of 0x%" PRIx64 ": ok %d, %u references"
				" (want %u), oa 0x%" PRIx64 "\n", c->name, i, e->ia[i], r.ok, r.refs,
				c->refs, r.oa);
			ret = -EINVAL;
			break;
		}
	}
	mem_view_end(&v);
	if (ret || rec.wrote || rec.missing) {
		fprintf(stderr, "bench_walk: %s: unexpected trace (writes %d, unmapped %d)\n", c->name,
			rec.wrote, rec.missing);
		return ret ? ret : -EINVAL;
	}

	/* The distinct cache lines, for the cold mode's flushes. */
	for (unsigned i = 0; i < rec.n; i++)
		e->lines[i] = (void *)((uintptr_t)e->chain[i] & ~(uintptr_t)(LINE_BYTES - 1));
	qsort(e->lines, rec.n, sizeof(*e->lines), cmp_ptr);
	for (unsigned i = 0; i < rec.n; i++)
		if (!i || e->lines[i] != e->lines[e->nlines - 1])
			e->lines[e->nlines++] = e->lines[i];
	return 0;
}

static void env_free(struct env *e)
{
	mem_frames_free_pool(e->gpool);
	mem_frames_free_pool(e->hpool);
	mem_space_free(e->guest);
	mem_space_free(e->host);
	free(e->chain);
	free(e->lines);
}

/* ---- measuring and reporting ---------------------------------------------------- */

struct result {
	double ns_per_walk, ns_per_ref, floor_ns_per_ref, ratio;
	double ratio_paired;        /* median of each batch against its own chain: drift check */
};

static const char *api_name(const struct env *e, bool one_view)
{
	if (e->nested)
		return one_view ? "pgt_walk_nested_view" : "pgt_walk_nested";
	return one_view ? "pgt_walk_view" : "pgt_walk";
}

static void report(const struct env *e, const char *mode, bool one_view, unsigned walks,
		   unsigned batches, const struct result *res)
{
	printf("{\"bench\":\"walk\",\"case\":\"%s\",\"dims\":%d,\"mode\":\"%s\",\"api\":\"%s\","
	       "\"refs_per_walk\":%u,\"walks_per_batch\":%u,\"batches\":%u,", e->c->name,
	       e->nested ? 2 : 1, mode, api_name(e, one_view), e->c->refs, walks, batches);
	if (!strcmp(mode, "cold"))
		printf("\"evict\":\"%s\",\"cold_lines_per_walk\":%.1f,", LINE_FLUSH,
		       (double)e->nlines / COLD_WALKS);
	printf("\"stat\":\"median\",\"ns_per_walk\":%.1f,\"ns_per_ref\":%.2f,"
	       "\"floor_ns_per_ref\":%.2f,\"ratio\":%.2f,\"ratio_paired\":%.2f}\n",
	       res->ns_per_walk, res->ns_per_ref, res->floor_ns_per_ref, res->ratio,
	       res->ratio_paired);
	fflush(stdout);
}

static void measure(struct env *e, bool cold, bool one_view, unsigned batches, uint64_t zero,
		    struct result *res)
{
	unsigned walks = cold ? COLD_WALKS : WARM_WALKS, repeat = cold ? 1 : WARM_REPEAT;
	size_t refs = (size_t)walks * e->c->refs;
	double *tw = calloc(batches, sizeof(*tw)), *tc = calloc(batches, sizeof(*tc));
	double *paired = calloc(batches, sizeof(*paired));

	/* Untimed passes: code, branch predictors and (warm) data settle. */
	for (unsigned k = 0; k < 3; k++) {
		time_walks(e, walks, repeat, one_view, zero);
		time_chain(e, refs, repeat, zero);
	}
	for (unsigned b = 0; b < batches; b++) {
		if (cold)
			flush_lines(e->lines, e->nlines);
		tw[b] = time_walks(e, walks, repeat, one_view, zero);
		if (cold)
			flush_lines(e->lines, e->nlines);
		tc[b] = time_chain(e, refs, repeat, zero);
		paired[b] = tw[b] / tc[b];      /* the same number of words on both sides */
	}
	res->ns_per_walk = median(tw, batches) / ((double)walks * repeat);
	res->ns_per_ref = res->ns_per_walk / e->c->refs;
	res->floor_ns_per_ref = median(tc, batches) / ((double)refs * repeat);
	res->ratio = res->ns_per_ref / res->floor_ns_per_ref;
	res->ratio_paired = median(paired, batches);
	report(e, cold ? "cold" : "warm", one_view, walks, batches, res);
	free(tw);
	free(tc);
	free(paired);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "--quick");
	unsigned batches = quick ? 51 : 1001;
	uint64_t zero = opaque_zero_src;
	double worst = 0, worst_cold = 0, worst_warm = 0;
	const char *worst_case = "", *worst_mode = "";

	if (argc > 2 || (argc == 2 && !quick)) {
		fprintf(stderr, "usage: bench_walk [--quick]\n");
		return 2;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct env e;
		int ret = env_setup(&e, &cases[i]);

		if (ret) {
			fprintf(stderr, "bench_walk: %s: setup failed (%d)\n", cases[i].name, ret);
			env_free(&e);
			return 1;
		}
		for (int cold = 0; cold <= 1; cold++) {
			if (cold && !LINE_FLUSH) {
				printf("{\"bench\":\"walk\",\"case\":\"%s\",\"mode\":\"cold\","
				       "\"skipped\":\"no cache-line flush on this architecture\"}\n",
				       e.c->name);
				continue;
			}
			for (int one_view = 0; one_view <= 1; one_view++) {
				struct result res;

				measure(&e, cold, one_view, batches, zero, &res);
				if (one_view)
					continue;       /* the claim is about the per-walk call */
				if (res.ratio > worst) {
					worst = res.ratio;
					worst_case = e.c->name;
					worst_mode = cold ? "cold" : "warm";
				}
				if (cold && res.ratio > worst_cold)
					worst_cold = res.ratio;
				if (!cold && res.ratio > worst_warm)
					worst_warm = res.ratio;
			}
		}
		env_free(&e);
	}
	printf("{\"bench\":\"walk\",\"case\":\"summary\",\"claim\":\"ns_per_ref <= 3 x floor_ns_per_ref\","
	       "\"api\":\"per-walk call\",\"worst_ratio\":%.2f,\"worst\":\"%s %s\","
	       "\"worst_ratio_warm\":%.2f,\"worst_ratio_cold\":%.2f,\"holds_warm\":%s,"
	       "\"holds_cold\":%s,\"holds\":%s}\n", worst, worst_case,
	       worst_mode, worst_warm, worst_cold, worst_warm <= 3 ? "true" : "false",
	       worst_cold <= 3 ? "true" : "false", worst <= 3 ? "true" : "false");
	return 0;
}
