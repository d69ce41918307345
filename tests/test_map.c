/* tests/test_map.c — pgt_map() and pgt_unmap() against a reference model.
 *
 * Like Linux's io-pgtable-arm selftest, every format is swept (x86 first stage,
 * VT-d second stage, Arm stage 1 and stage 2 with each granule and several input
 * sizes and start levels). For each one:
 *  - random round trips: a seeded PRNG picks non-overlapping ranges and
 *    protections, pgt_map() builds them, and walks at sampled addresses (inside,
 *    at the edges, outside) must agree with a plain list of mappings: fault or
 *    not, output address, permissions for every kind of request, page size (the
 *    largest page the format allows at that alignment) and references. Random
 *    unmaps (whole, partial, spanning holes) follow, then everything is unmapped;
 *    at each step the number of table frames must be exactly what the remaining
 *    mappings need, so tables that become empty are freed and no table leaks;
 *  - explicit page sizes;
 *  - error cases, each showing the error and that nothing changed: table memory
 *    byte for byte, frames in use, and the walks of probe addresses;
 *  - -ENOMEM from a tiny frame pool in the middle of a map, undone completely.
 * Then nested pairs: a stage 2 over guest RAM and a stage 1 built in guest RAM
 * with pgt_map(), where pgt_walk_nested() must agree with the two models composed.
 *
 * The seed is printed; `test_map SEED` reruns a failing sequence.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mem/mem.h"
#include "pgtable/pgtable.h"

#define DEFAULT_SEED 0x5eed2024cafef00dull

/* ---- a small, reproducible PRNG (splitmix64) ---------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* 0 .. n-1 (the modulo bias is irrelevant here) */
static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool one_in(unsigned n)
{
	return rnd_below(n) == 0;
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* ---- the physical memory every single-stage test uses ------------------------- */

/*
 * One host space with one anonymous region (lazily backed). Pools are carved out
 * of it per test: a large one for the random round trips and small ones where a
 * test takes byte snapshots of all the table memory or wants to run out of it.
 */
#define REGION_BASE    0x10000000ull
#define REGION_SIZE    (96ull << 20)
#define BIG_POOL_OFF   0ull
#define BIG_POOL_SIZE  (64ull << 20)
#define SMALL_POOL_OFF (64ull << 20)     /* error cases and -ENOMEM; 1 MiB aligned */

static struct mem_space *host_space;

/* ---- format facts, stated independently of the implementation ------------------- */

static const char *const formats[] = {
	"x86-fs4", "x86-fs4:nxe", "x86-fs4:no1g", "x86-fs4:nxe:wpe:smep", "x86-fs4:oas=39",
	"x86-fs5", "x86-fs5:nxe",
	"vtd-ss3", "vtd-ss3:no1g", "vtd-ss4", "vtd-ss4:no2m", "vtd-ss4:slee", "vtd-ss5",
	"vtd-ss5:oas=40",
	"lpae-s1:4k:t0sz=16", "lpae-s1:4k:t0sz=25", "lpae-s1:4k:t0sz=33", "lpae-s1:4k:t0sz=39",
	"lpae-s1:4k:t0sz=16:oas=40",
	"lpae-s1:16k:t0sz=16", "lpae-s1:16k:t0sz=17", "lpae-s1:16k:t0sz=28", "lpae-s1:16k:t0sz=39",
	"lpae-s1:64k:t0sz=16", "lpae-s1:64k:t0sz=22", "lpae-s1:64k:t0sz=16:oas=52",
	"lpae-s1:64k:t0sz=39",
	/* stage 2: start levels 0..3, with and without concatenated root tables */
	"lpae-s2:4k:t0sz=16:sl0=2", "lpae-s2:4k:t0sz=24:sl0=1", "lpae-s2:4k:t0sz=21:sl0=1",
	"lpae-s2:4k:t0sz=25:sl0=1", "lpae-s2:4k:t0sz=33:sl0=1", "lpae-s2:4k:t0sz=30:sl0=0",
	"lpae-s2:4k:t0sz=39:sl0=0",
	"lpae-s2:16k:t0sz=16:sl0=2", "lpae-s2:16k:t0sz=24:sl0=1", "lpae-s2:16k:t0sz=28:sl0=1",
	"lpae-s2:16k:t0sz=38:sl0=1", "lpae-s2:16k:t0sz=37:sl0=0",
	"lpae-s2:64k:t0sz=16:sl0=2", "lpae-s2:64k:t0sz=21:sl0=2", "lpae-s2:64k:t0sz=24:sl0=1",
	"lpae-s2:64k:t0sz=34:sl0=1", "lpae-s2:64k:t0sz=32:sl0=0",
	"lpae-s2:64k:t0sz=20:sl0=2:oas=52",
};

static bool is_lpae(const struct pgt_fmt *f)
{
	return f->family == PGT_LPAE_S1 || f->family == PGT_LPAE_S2;
}

static bool is_first_stage(const struct pgt_fmt *f)
{
	return f->family == PGT_X86_FS || f->family == PGT_LPAE_S1;
}

static unsigned granule_shift(const struct pgt_fmt *f)
{
	return is_lpae(f) ? (unsigned)__builtin_ctz(f->cfg.granule) : 12;
}

/* The input span of one entry at height h (0 = the table of smallest pages). */
static uint64_t span_at(const struct pgt_fmt *f, unsigned h)
{
	unsigned g = granule_shift(f);

	return BIT(g + (g - 3) * h);
}

static unsigned height_of(const struct pgt_fmt *f, uint64_t page)
{
	unsigned g = granule_shift(f);

	return ((unsigned)__builtin_ctzll(page) - g) / (g - 3);
}

static unsigned expected_levels(const struct pgt_fmt *f)
{
	unsigned g = granule_shift(f), ia = 64 - f->cfg.tsz;

	switch (f->family) {
	case PGT_LPAE_S1:
		return (ia - g + (g - 4)) / (g - 3);            /* ceil((ia - g) / stride) */
	case PGT_LPAE_S2:
		/* SL0 names the start level: 4K counts from level 2, 16K/64K from 3. */
		return 4 - ((g == 12 ? 2 : 3) - f->cfg.sl0);
	default:
		return f->cfg.levels;
	}
}

static unsigned expected_ia_bits(const struct pgt_fmt *f)
{
	return is_lpae(f) ? 64 - f->cfg.tsz : 12 + 9 * f->cfg.levels;
}

/* The leaves each format may use (x86 FL1GP, VT-d SLLPS, Arm block levels). */
static uint64_t expected_page_sizes(const struct pgt_fmt *f)
{
	unsigned levels = f->levels;

	switch (f->family) {
	case PGT_X86_FS:
		return BIT(12) | BIT(21) | ((f->flags & PGT_CFG_NO1G) ? 0 : BIT(30));
	case PGT_VTD_SS:
		return BIT(12) | ((f->flags & PGT_CFG_NO2M) ? 0 : BIT(21)) |
		       ((f->flags & PGT_CFG_NO1G) ? 0 : BIT(30));
	default:
		switch (f->cfg.granule) {
		case 4096:      /* 2M at level 2, 1G at level 1 */
			return BIT(12) | (levels >= 2 ? BIT(21) : 0) | (levels >= 3 ? BIT(30) : 0);
		case 16384:     /* 32M at level 2 only */
			return BIT(14) | (levels >= 2 ? BIT(25) : 0);
		default:        /* 512M at level 2, 4T at level 1 (52-bit PA implemented) */
			return BIT(16) | (levels >= 2 ? BIT(29) : 0) | (levels >= 3 ? BIT(42) : 0);
		}
	}
}

/* Page sizes as an ascending array; returns the count. */
static unsigned page_size_list(const struct pgt_fmt *f, uint64_t *ps)
{
	uint64_t mask = expected_page_sizes(f);
	unsigned n = 0;

	while (mask) {
		ps[n++] = mask & -mask;
		mask &= mask - 1;
	}
	return n;
}

/*
 * Tests generate input addresses as table indexes see them, [0, 2^ia_bits); an
 * x86 address is that index sign-extended (the upper half is the top half of
 * the index space).
 */
static uint64_t to_ia(const struct pgt_fmt *f, uint64_t idx)
{
	return f->family == PGT_X86_FS ? sext64(idx, f->ia_bits - 1u) : idx;
}

static uint64_t root_frames(const struct pgt_fmt *f)
{
	uint64_t bytes = f->root_size < MEM_FRAME_SIZE ? MEM_FRAME_SIZE : f->root_size;

	return bytes / MEM_FRAME_SIZE;
}

static uint64_t table_frame_bytes(const struct pgt_fmt *f)
{
	uint64_t g = span_at(f, 0);

	return g < MEM_FRAME_SIZE ? MEM_FRAME_SIZE : g;
}

/* ---- the reference model ----------------------------------------------------- */

struct mapping {
	uint64_t ia;            /* index space */
	uint64_t size;
	uint64_t oa;
	unsigned prot;
	uint64_t page_size;     /* as passed to pgt_map: 0 = largest that fits */
};

#define MAX_MAPPINGS 512

struct model {
	const struct pgt_fmt *f;
	unsigned n;
	struct mapping m[MAX_MAPPINGS];
};

static const struct mapping *model_find(const struct model *md, uint64_t idx)
{
	for (unsigned i = 0; i < md->n; i++)
		if (idx - md->m[i].ia < md->m[i].size)
			return &md->m[i];
	return NULL;
}

static bool model_overlaps(const struct model *md, uint64_t ia, uint64_t size)
{
	for (unsigned i = 0; i < md->n; i++)
		if (ia < md->m[i].ia + md->m[i].size && md->m[i].ia < ia + size)
			return true;
	return false;
}

static int cmp_mapping(const void *a, const void *b)
{
	const struct mapping *x = a, *y = b;

	return x->ia < y->ia ? -1 : x->ia > y->ia;
}

static void model_add(struct model *md, const struct mapping *m)
{
	if (md->n == MAX_MAPPINGS) {
		CHECK_MSG(false, "test model full");
		return;
	}
	md->m[md->n++] = *m;
	qsort(md->m, md->n, sizeof(md->m[0]), cmp_mapping);
}

static void model_remove(struct model *md, unsigned i)
{
	memmove(&md->m[i], &md->m[i + 1], (md->n - i - 1) * sizeof(md->m[0]));
	md->n--;
}

/*
 * The page that holds idx: with page_size 0, the largest size S the format allows
 * such that the S-aligned block around idx lies inside the mapping and input and
 * output agree modulo S (pgt_map's "largest page that fits", level by level).
 */
static uint64_t model_page(const struct pgt_fmt *f, const struct mapping *m, uint64_t idx)
{
	uint64_t sizes[8] = { 0 }, best;
	unsigned n = page_size_list(f, sizes);

	if (m->page_size)
		return m->page_size;
	best = sizes[0];
	for (unsigned i = 1; i < n; i++) {
		uint64_t s = sizes[i], base = idx & ~(s - 1);

		if (base >= m->ia && base + s <= m->ia + m->size && !((m->oa - m->ia) & (s - 1)))
			best = s;
	}
	return best;
}

/* Permissions a translation grants this requester, from the mapping's prot. */
static unsigned model_perm(const struct pgt_fmt *f, unsigned prot, bool user)
{
	bool r = prot & PGT_PROT_R, w = prot & PGT_PROT_W, x = prot & PGT_PROT_X;
	bool u = prot & PGT_PROT_U;

	switch (f->family) {
	case PGT_X86_FS: {
		bool exec = !(f->flags & PGT_CFG_NXE) || x;      /* XD only with NXE */

		if (user)
			return u ? PGT_PERM_R | (w ? PGT_PERM_W : 0) | (exec ? PGT_PERM_X : 0) : 0;
		if ((f->flags & PGT_CFG_SMEP) && u)
			exec = false;
		return PGT_PERM_R | ((w || !(f->flags & PGT_CFG_WPE)) ? PGT_PERM_W : 0) |
		       (exec ? PGT_PERM_X : 0);
	}
	case PGT_VTD_SS:
		/* Without SLEE an execute request needs read permission only. */
		return (r ? PGT_PERM_R : 0) | (w ? PGT_PERM_W : 0) |
		       (r && (x || !(f->flags & PGT_CFG_SLEE)) ? PGT_PERM_X : 0);
	case PGT_LPAE_S1:
		/* No U: EL1 only and UXN. X with U: both may execute, but a region
		 * writable at EL0 is never privileged-executable. */
		if (user)
			return (u ? PGT_PERM_R | (w ? PGT_PERM_W : 0) : 0) | (x && u ? PGT_PERM_X : 0);
		return PGT_PERM_R | (w ? PGT_PERM_W : 0) | (x && !(u && w) ? PGT_PERM_X : 0);
	default:
		return (r ? PGT_PERM_R : 0) | (w ? PGT_PERM_W : 0) | (x ? PGT_PERM_X : 0);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Table frames the model's mappings need: the root, and at each height h below it
 * one table per span of a height-(h+1) entry that holds a page of at most
 * span_at(h) (bigger pages are leaves higher up). Nothing more: an unmap frees
 * tables it empties, and a failed map frees what it built.
 */
static uint64_t model_table_frames(const struct model *md)
{
	const struct pgt_fmt *f = md->f;
	uint64_t frames = root_frames(f), cap = 1024, *blocks = malloc(cap * sizeof(*blocks));

	for (unsigned h = 0; h + 1u < f->levels; h++) {
		uint64_t table_span = span_at(f, h + 1), n = 0, distinct = 0;

		for (unsigned i = 0; i < md->n; i++) {
			const struct mapping *m = &md->m[i];
			uint64_t x = m->ia, end = m->ia + m->size;

			while (x < end) {
				uint64_t ps = model_page(f, m, x);

				if (ps <= span_at(f, h)) {
					if (n == cap) {
						cap *= 2;
						blocks = realloc(blocks, cap * sizeof(*blocks));
					}
					blocks[n++] = x & ~(table_span - 1);
					x = (x | (table_span - 1)) + 1;
				} else {
					x = (x & ~(ps - 1)) + ps;
				}
			}
		}
		qsort(blocks, n, sizeof(*blocks), cmp_u64);
		for (uint64_t i = 0; i < n; i++)
			distinct += !i || blocks[i] != blocks[i - 1];
		frames += distinct * (table_frame_bytes(f) / MEM_FRAME_SIZE);
	}
	free(blocks);
	return frames;
}

/* ---- walking and comparing -------------------------------------------------- */

static const unsigned all_accesses[] = {
	0, PGT_ACC_WRITE, PGT_ACC_EXEC,
	PGT_ACC_USER, PGT_ACC_USER | PGT_ACC_WRITE, PGT_ACC_USER | PGT_ACC_EXEC,
};

/* Second stages have no user/supervisor distinction: three kinds of request. */
static unsigned access_count(const struct pgt_fmt *f)
{
	return is_first_stage(f) ? ARRAY_SIZE(all_accesses) : 3;
}

static unsigned wanted_perm(unsigned access)
{
	if (access & PGT_ACC_WRITE)
		return PGT_PERM_W;
	if (access & PGT_ACC_EXEC)
		return PGT_PERM_X;
	return PGT_PERM_R;
}

struct tree {
	const struct pgt_fmt *f;
	struct mem_space *space;
	struct mem_frames *pool;
	uint64_t root;
	struct model *md;
	uint64_t pages_seen;        /* page sizes of the translations checked */
	unsigned walks;
};

/* Walks idx with every kind of request and compares with the model. */
static void check_addr(struct tree *t, uint64_t idx)
{
	const struct pgt_fmt *f = t->f;
	const struct mapping *m = model_find(t->md, idx);
	uint64_t ia = to_ia(f, idx);

	for (unsigned i = 0; i < access_count(f); i++) {
		unsigned acc = all_accesses[i], perm;
		struct pgt_result r;
		uint64_t ps, oa;
		int ret = pgt_walk(f, t->space, t->root, ia, acc, &r, NULL);

		t->walks++;
		CHECK_MSG(ret == 0, "%s: walk 0x%" PRIx64 " returned %d", f->name, ia, ret);
		if (!m) {
			CHECK_MSG(!r.ok && r.fault.reason == PGT_FAULT_NOT_PRESENT,
				  "%s: ia 0x%" PRIx64 " acc %u is unmapped: ok %d reason %s oa 0x%" PRIx64,
				  f->name, ia, acc, r.ok, pgt_reason_name(r.fault.reason), r.oa);
			continue;
		}
		perm = model_perm(f, m->prot, acc & PGT_ACC_USER);
		if (!(perm & wanted_perm(acc))) {
			CHECK_MSG(!r.ok && r.fault.reason == PGT_FAULT_PERMISSION,
				  "%s: ia 0x%" PRIx64 " prot %#x acc %u: want permission fault, ok %d reason %s",
				  f->name, ia, m->prot, acc, r.ok, pgt_reason_name(r.fault.reason));
			continue;
		}
		CHECK_MSG(r.ok, "%s: ia 0x%" PRIx64 " prot %#x acc %u: want a translation, reason %s",
			  f->name, ia, m->prot, acc, pgt_reason_name(r.fault.reason));
		if (!r.ok)
			continue;
		ps = model_page(f, m, idx);
		oa = m->oa + (idx - m->ia);
		t->pages_seen |= r.page_size;
		CHECK_MSG(r.oa == oa, "%s: ia 0x%" PRIx64 ": oa 0x%" PRIx64 ", want 0x%" PRIx64,
			  f->name, ia, r.oa, oa);
		CHECK_MSG(r.page_size == ps, "%s: ia 0x%" PRIx64 " in [0x%" PRIx64 ", +0x%" PRIx64
			  ") -> 0x%" PRIx64 " page_size %#" PRIx64 ": page 0x%" PRIx64 ", want 0x%" PRIx64,
			  f->name, ia, m->ia, m->size, m->oa, m->page_size, r.page_size, ps);
		CHECK_MSG(r.perm == perm, "%s: ia 0x%" PRIx64 " prot %#x acc %u: perm %#x, want %#x",
			  f->name, ia, m->prot, acc, r.perm, perm);
		CHECK_MSG(r.refs == f->levels - height_of(f, ps),
			  "%s: ia 0x%" PRIx64 ": %u references, want %u", f->name, ia, r.refs,
			  f->levels - height_of(f, ps));
	}
}

/* First and last page, a random byte inside, and the neighbours outside. */
static void check_mapping_samples(struct tree *t, const struct mapping *m)
{
	uint64_t g = span_at(t->f, 0), top = BIT(t->f->ia_bits);

	check_addr(t, m->ia);
	check_addr(t, m->ia + m->size - g);
	check_addr(t, m->ia + m->size - 1);
	check_addr(t, m->ia + rnd_below(m->size));
	if (m->ia)
		check_addr(t, m->ia - 1);
	if (m->ia + m->size < top)
		check_addr(t, m->ia + m->size);
}

static void check_frames(struct tree *t, const char *when)
{
	uint64_t want = model_table_frames(t->md), got = mem_frames_used(t->pool);

	CHECK_MSG(got == want, "%s: %s: %" PRIu64 " table frames in use, the mappings need %" PRIu64,
		  t->f->name, when, got, want);
}

/* ---- random mappings -------------------------------------------------------- */

static unsigned random_prot(const struct pgt_fmt *f)
{
	unsigned x = one_in(2) ? PGT_PROT_X : 0;

	switch (f->family) {
	case PGT_X86_FS:
	case PGT_LPAE_S1:
		return PGT_PROT_R | (one_in(2) ? PGT_PROT_W : 0) | x | (one_in(2) ? PGT_PROT_U : 0);
	case PGT_VTD_SS: {
		static const unsigned rw[] = { PGT_PROT_R, PGT_PROT_W, PGT_PROT_R | PGT_PROT_W };

		return rw[rnd_below(3)] | x;
	}
	default:
		return (unsigned)(1 + rnd_below(7));        /* any non-empty R/W/X */
	}
}

struct window {
	uint64_t ia_lo, ia_hi;      /* index space, [lo, hi) */
	uint64_t oa_lo, oa_hi;
};

/* The whole input range, or for x86 one half of it, chosen at random. */
static struct window default_window(const struct pgt_fmt *f)
{
	struct window w = { 0, BIT(f->ia_bits), 0, BIT(f->oas) };

	if (f->family == PGT_X86_FS) {
		uint64_t half = BIT(f->ia_bits - 1u);

		w.ia_lo = one_in(2) ? half : 0;
		w.ia_hi = w.ia_lo + half;
	}
	return w;
}

/*
 * A new mapping that overlaps none in md. Shapes: a few smallest pages; a run of
 * large pages with small pieces before and after (so the greedy split shows); a
 * large-page-sized range whose output is misaligned for it (only the next
 * smaller size fits); an explicit page size, sometimes over a range aligned for
 * a bigger one. Ranges are often placed right after an existing one so that
 * they share tables. Sizes stay bounded to a few thousand entries.
 */
static bool gen_mapping(const struct model *md, const struct window *w, struct mapping *out)
{
	const struct pgt_fmt *f = md->f;
	uint64_t ps[8] = { 0 };
	unsigned np = page_size_list(f, ps);

	for (int tries = 0; tries < 100; tries++) {
		unsigned k = (unsigned)rnd_below(np), shape = (unsigned)rnd_below(8);
		uint64_t g = ps[0], s = ps[k], smaller = k ? ps[k - 1] : g;
		uint64_t align = s, lead = 0, skew = 0, size, lo, hi, core, olo, ohi;
		struct mapping m = { 0 };

		if (shape == 0) {
			m.page_size = s;
			if (k + 1 < np && one_in(2)) {
				align = ps[k + 1];
				size = ps[k + 1];
			} else {
				size = s * (1 + rnd_below(k ? 2 : 8));
			}
		} else if (k == 0) {
			size = g * (1 + rnd_below(24));
		} else if (shape == 1) {
			size = s + smaller * rnd_below(2);
			skew = smaller;
		} else {
			uint64_t tail = smaller * rnd_below(3) + g * rnd_below(3);

			lead = smaller * rnd_below(3) + g * rnd_below(3);
			size = lead + s * (1 + rnd_below(2)) + tail;
		}
		/* At most a quarter of the window, so that many ranges fit. */
		if (size > (w->ia_hi - w->ia_lo) / 4 || size + skew > w->oa_hi - w->oa_lo)
			continue;

		/* Input: core aligned to `align`, the range starts `lead` before it. */
		lo = align_up(w->ia_lo + lead, align);
		hi = w->ia_hi - (size - lead);
		if (lo > hi)
			continue;
		core = lo + align * rnd_below((hi - lo) / align + 1);
		if (md->n && one_in(2)) {
			const struct mapping *e = &md->m[rnd_below(md->n)];
			uint64_t near = align_up(e->ia + e->size + lead + g * rnd_below(4), align);

			if (near >= lo && near <= hi)
				core = near;
		}
		m.ia = core - lead;
		m.size = size;

		/* Output: congruent to the input modulo `align`, unless skewed. */
		olo = align_up(w->oa_lo + lead, align);
		ohi = w->oa_hi - (size - lead) - skew;
		if (olo > ohi || w->oa_hi - w->oa_lo < size + skew)
			continue;
		m.oa = olo + align * rnd_below((ohi - olo) / align + 1) + skew - lead;

		if (model_overlaps(md, m.ia, m.size))
			continue;
		m.prot = random_prot(f);
		*out = m;
		return true;
	}
	return false;
}

static int map_model(struct tree *t, const struct mapping *m)
{
	return pgt_map(t->f, t->pool, t->root, to_ia(t->f, m->ia), m->oa, m->size, m->prot,
		       m->page_size);
}

/* Unmaps [ia, ia + size) (index space) in the tree and in the model. */
static void unmap_and_check(struct tree *t, uint64_t ia, uint64_t size, const char *what)
{
	struct model *md = t->md;
	uint64_t want = 0, got = ~0ull, end = ia + size;
	int ret;

	/* The model: whole mappings go, cut ones keep their outer parts. */
	for (unsigned i = 0; i < md->n;) {
		struct mapping m = md->m[i], left = m, right = m;
		uint64_t mend = m.ia + m.size;

		if (mend <= ia || m.ia >= end) {
			i++;
			continue;
		}
		want += (mend < end ? mend : end) - (m.ia > ia ? m.ia : ia);
		model_remove(md, i);
		if (m.ia < ia) {
			left.size = ia - m.ia;
			model_add(md, &left);
		}
		if (mend > end) {
			right.ia = end;
			right.size = mend - end;
			right.oa = m.oa + (end - m.ia);
			model_add(md, &right);
		}
		i = 0;
	}
	ret = pgt_unmap(t->f, t->pool, t->root, to_ia(t->f, ia), size, &got);
	CHECK_MSG(ret == 0, "%s: %s unmap [0x%" PRIx64 ", +0x%" PRIx64 "): %d", t->f->name, what,
		  to_ia(t->f, ia), size, ret);
	CHECK_MSG(got == want, "%s: %s unmap [0x%" PRIx64 ", +0x%" PRIx64 "): unmapped 0x%" PRIx64
		  ", want 0x%" PRIx64, t->f->name, what, to_ia(t->f, ia), size, got, want);

	/* What went away faults; what stayed still translates. */
	check_addr(t, ia);
	check_addr(t, end - span_at(t->f, 0));
	check_addr(t, ia + rnd_below(size));
	for (unsigned i = 0; i < md->n; i++)
		check_addr(t, md->m[i].ia + rnd_below(md->m[i].size));
	check_frames(t, what);
}

/* A page-aligned piece of mapping m (cuts only at page boundaries). */
static void pick_piece(const struct pgt_fmt *f, const struct mapping *m, uint64_t *ia,
		       uint64_t *size)
{
	uint64_t x = m->ia + rnd_below(m->size), y = m->ia + rnd_below(m->size), tmp, px, py;

	if (y < x) {
		tmp = x;
		x = y;
		y = tmp;
	}
	px = model_page(f, m, x);
	py = model_page(f, m, y);
	*ia = x & ~(px - 1);
	*size = (y & ~(py - 1)) + py - *ia;
}

static bool same_half(const struct pgt_fmt *f, uint64_t a, uint64_t b)
{
	return f->family != PGT_X86_FS || ((a ^ b) >> (f->ia_bits - 1u)) == 0;
}

struct stats {
	unsigned mapped, unmaps, walks;
	uint64_t pages_seen;
};

static void round_trip(const struct pgt_fmt *f, unsigned variant, struct stats *st)
{
	struct model *md = calloc(1, sizeof(*md));
	struct tree t = { .f = f, .space = host_space, .md = md };
	unsigned target = 64, ops, mapped, unmaps = 0;
	uint64_t window, need = 0;
	int ret;

	md->f = f;
	t.pool = mem_frames_new(host_space, REGION_BASE + BIG_POOL_OFF, BIG_POOL_SIZE);
	CHECK(t.pool != NULL);
	if (!t.pool) {
		free(md);
		return;
	}
	CHECK_EQ(pgt_root_alloc(f, t.pool, &t.root), 0);

	for (unsigned i = 0; i < target; i++) {
		struct window w = default_window(f);
		struct mapping m;

		if (!gen_mapping(md, &w, &m))
			continue;
		ret = map_model(&t, &m);
		CHECK_MSG(ret == 0, "%s: map [0x%" PRIx64 ", +0x%" PRIx64 ") -> 0x%" PRIx64
			  " prot %#x page_size %#" PRIx64 ": %d", f->name, to_ia(f, m.ia), m.size, m.oa,
			  m.prot, m.page_size, ret);
		if (!ret)
			model_add(md, &m);
	}
	mapped = md->n;
	CHECK_MSG(md->n >= 16, "%s: only %u random mappings fit", f->name, md->n);
	check_frames(&t, "after mapping");
	for (unsigned i = 0; i < md->n; i++)
		check_mapping_samples(&t, &md->m[i]);
	for (unsigned i = 0; i < 128; i++)
		check_addr(&t, rnd_below(BIT(f->ia_bits)));

	/* Every page size that the generator can place must have been seen. */
	window = f->family == PGT_X86_FS ? BIT(f->ia_bits - 1u) : BIT(f->ia_bits);
	for (uint64_t sizes = expected_page_sizes(f); sizes; sizes &= sizes - 1)
		if ((sizes & -sizes) <= window / 8)
			need |= sizes & -sizes;
	CHECK_MSG((t.pages_seen & need) == need, "%s: page sizes seen 0x%" PRIx64 ", want 0x%" PRIx64,
		  f->name, t.pages_seen, need);

	/* Random unmaps: whole mappings, page-aligned pieces, runs with holes. */
	ops = md->n / 2;
	for (unsigned op = 0; op < ops && md->n; op++, unmaps++) {
		unsigned i = (unsigned)rnd_below(md->n), kind = (unsigned)rnd_below(3);
		const struct mapping *m = &md->m[i];
		uint64_t ia, size;

		if (kind == 0) {
			unmap_and_check(&t, m->ia, m->size, "whole");
		} else if (kind == 1) {
			pick_piece(f, m, &ia, &size);
			unmap_and_check(&t, ia, size, "piece");
		} else {
			unsigned j = i + (unsigned)rnd_below(3);
			uint64_t lo, hi, prev_end, next_start;

			if (j >= md->n)
				j = md->n - 1;
			lo = md->m[i].ia;
			hi = md->m[j].ia + md->m[j].size;
			/* Widen into the holes on either side, up to the neighbours. */
			prev_end = i ? md->m[i - 1].ia + md->m[i - 1].size : 0;
			next_start = j + 1 < md->n ? md->m[j + 1].ia : BIT(f->ia_bits);
			lo -= span_at(f, 0) * rnd_below(4);
			hi += span_at(f, 0) * rnd_below(4);
			if (lo < prev_end || lo > md->m[i].ia)
				lo = md->m[i].ia;
			if (hi > next_start || hi < md->m[j].ia)
				hi = md->m[j].ia + md->m[j].size;
			if (!same_half(f, lo, hi - 1))
				unmap_and_check(&t, m->ia, m->size, "whole");
			else
				unmap_and_check(&t, lo, hi - lo, "run with holes");
		}
	}

	/* Everything else: one by one, or (every other format) all at once. */
	if (variant & 1) {
		uint64_t got = ~0ull, want_lo = 0, want_hi = 0, half = BIT(f->ia_bits - 1u);

		for (unsigned i = 0; i < md->n; i++) {
			if (f->family == PGT_X86_FS && md->m[i].ia >= half)
				want_hi += md->m[i].size;
			else
				want_lo += md->m[i].size;
		}
		if (f->family == PGT_X86_FS) {
			/* The two canonical halves: one range may not cross the hole. */
			ret = pgt_unmap(f, t.pool, t.root, 0, half, &got);
			CHECK_EQ(ret, 0);
			CHECK_EQ(got, want_lo);
			ret = pgt_unmap(f, t.pool, t.root, to_ia(f, half), half, &got);
			CHECK_EQ(ret, 0);
			CHECK_EQ(got, want_hi);
		} else {
			ret = pgt_unmap(f, t.pool, t.root, 0, BIT(f->ia_bits), &got);
			CHECK_EQ(ret, 0);
			CHECK_MSG(got == want_lo, "%s: unmap all: 0x%" PRIx64 " bytes, want 0x%" PRIx64,
				  f->name, got, want_lo);
		}
		md->n = 0;
		check_frames(&t, "after unmapping everything at once");
	} else {
		while (md->n) {
			const struct mapping *m = &md->m[rnd_below(md->n)];

			unmap_and_check(&t, m->ia, m->size, "final");
		}
	}
	CHECK_MSG(mem_frames_used(t.pool) == root_frames(f), "%s: %" PRIu64 " frames left, want %"
		  PRIu64 " (the root)", f->name, mem_frames_used(t.pool), root_frames(f));
	for (unsigned i = 0; i < 32; i++)
		check_addr(&t, rnd_below(BIT(f->ia_bits)));

	/* An empty tree: unmapping anything is a hole. */
	{
		uint64_t got = ~0ull, len = f->family == PGT_X86_FS ? BIT(f->ia_bits - 1u)
								     : BIT(f->ia_bits);

		CHECK_EQ(pgt_unmap(f, t.pool, t.root, 0, len, &got), 0);
		CHECK_EQ(got, 0);
	}
	pgt_free_tree(f, t.pool, t.root);
	CHECK_EQ(mem_frames_used(t.pool), 0);
	mem_frames_free_pool(t.pool);
	free(md);
	st->mapped += mapped;
	st->unmaps += unmaps;
	st->walks += t.walks;
	st->pages_seen |= t.pages_seen;
}

static void print_sizes(uint64_t sizes)
{
	for (; sizes; sizes &= sizes - 1) {
		unsigned sh = (unsigned)__builtin_ctzll(sizes), unit = sh / 10;

		printf(" %" PRIu64 "%c", BIT(sh - unit * 10), " KMGT"[unit]);
	}
}

/* ---- explicit page sizes ------------------------------------------------------ */

static void check_page_at(struct tree *t, uint64_t idx, uint64_t oa, uint64_t want_page)
{
	struct pgt_result r;

	CHECK_EQ(pgt_walk(t->f, t->space, t->root, to_ia(t->f, idx), 0, &r, NULL), 0);
	CHECK_MSG(r.ok && r.oa == oa && r.page_size == want_page,
		  "%s: ia 0x%" PRIx64 ": ok %d oa 0x%" PRIx64 " page 0x%" PRIx64 ", want 0x%" PRIx64
		  " page 0x%" PRIx64, t->f->name, to_ia(t->f, idx), r.ok, r.oa, r.page_size, oa,
		  want_page);
	CHECK_MSG(!r.ok || r.refs == t->f->levels - height_of(t->f, want_page),
		  "%s: ia 0x%" PRIx64 ": %u references", t->f->name, to_ia(t->f, idx), r.refs);
}

/* Maps [0, size) at oa with page_size, checks the pages, unmaps it again. */
static void map_with_page_size(struct tree *t, uint64_t size, uint64_t oa, uint64_t page_size,
			       uint64_t want_page)
{
	uint64_t got = 0;
	int ret = pgt_map(t->f, t->pool, t->root, 0, oa, size, PGT_PROT_R | PGT_PROT_W, page_size);

	CHECK_MSG(ret == 0, "%s: map 0x%" PRIx64 " bytes with page_size 0x%" PRIx64 ": %d",
		  t->f->name, size, page_size, ret);
	check_page_at(t, 0, oa, want_page);
	uint64_t mid = ((size / 2) & ~(want_page - 1)) + want_page / 2;

	check_page_at(t, mid, oa + mid, want_page);
	check_page_at(t, size - span_at(t->f, 0), oa + size - span_at(t->f, 0), want_page);
	CHECK_EQ(pgt_unmap(t->f, t->pool, t->root, 0, size, &got), 0);
	CHECK_EQ(got, size);
	CHECK_EQ(mem_frames_used(t->pool), root_frames(t->f));
}

static void explicit_page_sizes(const struct pgt_fmt *f)
{
	struct tree t = { .f = f, .space = host_space };
	uint64_t ps[8] = { 0 }, oa;
	unsigned np = page_size_list(f, ps);

	t.pool = mem_frames_new(host_space, REGION_BASE + BIG_POOL_OFF, BIG_POOL_SIZE);
	CHECK_EQ(pgt_root_alloc(f, t.pool, &t.root), 0);
	oa = 2 * ps[np - 1] <= BIT(f->oas) ? ps[np - 1] : 0;     /* aligned for every size */

	map_with_page_size(&t, ps[0], oa, 0, ps[0]);
	map_with_page_size(&t, ps[0], oa, ps[0], ps[0]);
	if (np >= 2) {
		/* A range aligned for a large page, split as asked. */
		map_with_page_size(&t, ps[1], oa, ps[0], ps[0]);
		map_with_page_size(&t, ps[1], oa, ps[1], ps[1]);
		map_with_page_size(&t, ps[1], oa, 0, ps[1]);
	}
	if (np >= 3 && ps[2] <= BIT(f->ia_bits - 1u)) {
		map_with_page_size(&t, ps[2], oa, ps[1], ps[1]);
		map_with_page_size(&t, ps[2], oa, ps[2], ps[2]);
		map_with_page_size(&t, ps[2], oa, 0, ps[2]);
	}
	pgt_free_tree(f, t.pool, t.root);
	mem_frames_free_pool(t.pool);
}

/* ---- errors change nothing ---------------------------------------------------- */

#define MAX_PROBES 16

struct err_env {
	struct tree t;
	uint8_t *host;              /* the pool's memory */
	uint64_t bytes;
	uint8_t *snap;
	uint64_t used;
	uint64_t probes[MAX_PROBES];      /* input addresses (not indexes) */
	unsigned nprobes;
	struct pgt_result before[MAX_PROBES];
};

static void state_save(struct err_env *e)
{
	/* Walk first: x86 walks set A flags, which must not count as a change. */
	for (unsigned i = 0; i < e->nprobes; i++)
		pgt_walk(e->t.f, e->t.space, e->t.root, e->probes[i], 0, &e->before[i], NULL);
	memcpy(e->snap, e->host, e->bytes);
	e->used = mem_frames_used(e->t.pool);
}

static void state_check(struct err_env *e, int line, const char *what)
{
	const struct pgt_fmt *f = e->t.f;

	CHECK_MSG(!memcmp(e->snap, e->host, e->bytes), "%s: line %d (%s): table memory changed",
		  f->name, line, what);
	CHECK_MSG(mem_frames_used(e->t.pool) == e->used,
		  "%s: line %d (%s): frames in use %" PRIu64 " -> %" PRIu64, f->name, line, what,
		  e->used, mem_frames_used(e->t.pool));
	for (unsigned i = 0; i < e->nprobes; i++) {
		struct pgt_result r, *b = &e->before[i];

		pgt_walk(f, e->t.space, e->t.root, e->probes[i], 0, &r, NULL);
		CHECK_MSG(r.ok == b->ok && r.oa == b->oa && r.page_size == b->page_size &&
			  r.perm == b->perm && r.fault.reason == b->fault.reason,
			  "%s: line %d (%s): walk of 0x%" PRIx64 " changed", f->name, line, what,
			  e->probes[i]);
	}
}

/* pgt_map must fail with `want` and leave the tree as it was. ia is an address. */
static void expect_map(struct err_env *e, int line, int want, uint64_t ia, uint64_t oa,
		       uint64_t size, unsigned prot, uint64_t page_size)
{
	const struct pgt_fmt *f = e->t.f;
	int ret;

	state_save(e);
	ret = pgt_map(f, e->t.pool, e->t.root, ia, oa, size, prot, page_size);
	CHECK_MSG(ret == want, "%s: line %d: pgt_map(ia 0x%" PRIx64 ", oa 0x%" PRIx64 ", size 0x%"
		  PRIx64 ", prot %#x, page_size 0x%" PRIx64 ") = %d, want %d", f->name, line, ia, oa,
		  size, prot, page_size, ret, want);
	state_check(e, line, "map");
	if (ret == 0)   /* a bug: put the tree back so later cases stay meaningful */
		pgt_unmap(f, e->t.pool, e->t.root, ia, size, NULL);
}

static void expect_unmap(struct err_env *e, int line, int want, uint64_t ia, uint64_t size)
{
	const struct pgt_fmt *f = e->t.f;
	uint64_t got = ~0ull;
	int ret;

	state_save(e);
	ret = pgt_unmap(f, e->t.pool, e->t.root, ia, size, &got);
	CHECK_MSG(ret == want && got == 0, "%s: line %d: pgt_unmap(ia 0x%" PRIx64 ", size 0x%" PRIx64
		  ") = %d unmapped 0x%" PRIx64 ", want %d and nothing", f->name, line, ia, size, ret,
		  got, want);
	state_check(e, line, "unmap");
}

/* A map at the edge of the ranges that must work, undone again. */
static void expect_map_edge(struct err_env *e, int line, uint64_t ia, uint64_t oa, uint64_t size)
{
	const struct pgt_fmt *f = e->t.f;
	uint64_t used = mem_frames_used(e->t.pool), got = 0;
	struct pgt_result r;
	int ret = pgt_map(f, e->t.pool, e->t.root, ia, oa, size, PGT_PROT_R | PGT_PROT_W, 0);

	CHECK_MSG(ret == 0, "%s: line %d: map ia 0x%" PRIx64 " oa 0x%" PRIx64 " size 0x%" PRIx64
		  " = %d", f->name, line, ia, oa, size, ret);
	pgt_walk(f, e->t.space, e->t.root, ia + size - 1, 0, &r, NULL);
	CHECK_MSG(r.ok && r.oa == oa + size - 1, "%s: line %d: walk of 0x%" PRIx64, f->name, line,
		  ia + size - 1);
	CHECK_EQ(pgt_unmap(f, e->t.pool, e->t.root, ia, size, &got), 0);
	CHECK_EQ(got, ret ? 0 : size);
	CHECK_EQ(mem_frames_used(e->t.pool), used);
}

#define EXPECT_MAP(want, ia, oa, size, prot, ps) expect_map(&e, __LINE__, want, ia, oa, size, prot, ps)
#define EXPECT_UNMAP(want, ia, size) expect_unmap(&e, __LINE__, want, ia, size)

static void error_cases(const struct pgt_fmt *f)
{
	struct err_env e = { .t = { .f = f, .space = host_space } };
	uint64_t ps[8] = { 0 }, sizes;
	unsigned np = page_size_list(f, ps);
	uint64_t g = ps[0], big = ps[np - 1], tbl = table_frame_bytes(f);
	uint64_t rootb = root_frames(f) * MEM_FRAME_SIZE;
	/* x86: the lower half only; the canonical hole has its own cases. */
	uint64_t space = f->family == PGT_X86_FS ? BIT(f->ia_bits - 1u) : BIT(f->ia_bits);
	uint64_t top = BIT(f->ia_bits), oas_end = BIT(f->oas);
	unsigned rw = PGT_PROT_R | PGT_PROT_W;
	uint64_t big_ia, big_oa, q, q_oa, free_ia, upper = 0;
	struct mem_view v;
	int err = 0;

	/* Layout: [big page] 2 free pages [Q: 4 pages] 4 free pages [free area F]. */
	big_ia = 2 * big + 16 * g <= space ? big : 0;
	big_oa = 2 * big <= oas_end ? big : 0;
	q = big_ia + big + 2 * g;
	q_oa = 7 * g;
	free_ia = q + 8 * g;

	e.bytes = (rootb > tbl ? rootb : tbl) + 24 * tbl;
	e.t.pool = mem_frames_new(host_space, REGION_BASE + SMALL_POOL_OFF, e.bytes);
	mem_view_begin(&v, host_space);
	e.host = mem_view_ptr(&v, REGION_BASE + SMALL_POOL_OFF, e.bytes, MEM_RW, &err);
	mem_view_end(&v);
	e.snap = malloc(e.bytes);
	CHECK(e.t.pool && e.host && e.snap);
	if (!e.t.pool || !e.host || !e.snap)
		goto out;
	CHECK_EQ(pgt_root_alloc(f, e.t.pool, &e.t.root), 0);
	CHECK_EQ(pgt_map(f, e.t.pool, e.t.root, big_ia, big_oa, big, rw, 0), 0);
	CHECK_EQ(pgt_map(f, e.t.pool, e.t.root, q, q_oa, 4 * g, rw, 0), 0);
	{
		uint64_t at[] = { big_ia, big_ia + big - g, big_ia + big, q - g, q, q + 3 * g,
				  q + 4 * g, free_ia, free_ia + g };

		for (unsigned i = 0; i < ARRAY_SIZE(at); i++)
			e.probes[e.nprobes++] = to_ia(f, at[i]);
	}
	if (f->family == PGT_X86_FS) {
		/* And one page at the bottom of the upper half (an edge that must work). */
		upper = sext64(BIT(f->ia_bits - 1u), f->ia_bits - 1u);
		CHECK_EQ(pgt_map(f, e.t.pool, e.t.root, upper, q_oa, g, rw, 0), 0);
		e.probes[e.nprobes++] = upper;
	}

	/* -EEXIST: exact, partial at either end, covering, inside. */
	EXPECT_MAP(-EEXIST, q, q_oa, 4 * g, rw, 0);
	EXPECT_MAP(-EEXIST, q - g, 0, 2 * g, rw, 0);
	EXPECT_MAP(-EEXIST, q + 3 * g, 0, 2 * g, rw, 0);
	EXPECT_MAP(-EEXIST, q - 2 * g, 0, 8 * g, rw, 0);
	EXPECT_MAP(-EEXIST, q + g, 0, g, rw, 0);
	EXPECT_MAP(-EEXIST, q + g, 0, g, rw, g);
	EXPECT_MAP(-EEXIST, big_ia, big_oa, big, rw, 0);
	EXPECT_MAP(-EEXIST, big_ia, big_oa, big, rw, big);
	if (big > g) {
		/* Inside a large page, with either page size, and across its end. */
		EXPECT_MAP(-EEXIST, big_ia + big / 2, 0, g, rw, 0);
		EXPECT_MAP(-EEXIST, big_ia + big / 2, 0, g, rw, g);
		EXPECT_MAP(-EEXIST, big_ia, big_oa, ps[np - 2], rw, ps[np - 2]);
		EXPECT_MAP(-EEXIST, big_ia + big - g, 0, 2 * g, rw, 0);
		EXPECT_MAP(-EEXIST, big_ia, big_oa, big + g, rw, 0);
	}

	/* -EINVAL: alignment and size. */
	EXPECT_MAP(-EINVAL, free_ia + g / 2, 0, g, rw, 0);
	EXPECT_MAP(-EINVAL, free_ia, g / 2, g, rw, 0);
	EXPECT_MAP(-EINVAL, free_ia, 0, g + g / 2, rw, 0);
	EXPECT_MAP(-EINVAL, free_ia, 0, g / 2, rw, 0);
	EXPECT_MAP(-EINVAL, free_ia, 0, 0, rw, 0);
	if (np >= 2) {
		/* Explicit large pages need the range aligned to them. */
		EXPECT_MAP(-EINVAL, free_ia, 0, ps[1], rw, ps[1]);
		if (big_ia)     /* [0, big_ia) is free and aligned: only the output is not */
			EXPECT_MAP(-EINVAL, 0, big_oa + g, ps[1], rw, ps[1]);
	}

	/* -EINVAL: input out of range. */
	if (f->family == PGT_X86_FS) {
		uint64_t half = BIT(f->ia_bits - 1u);

		EXPECT_MAP(-EINVAL, half, 0, g, rw, 0);                 /* not canonical */
		EXPECT_MAP(-EINVAL, BIT(63), 0, g, rw, 0);
		EXPECT_MAP(-EINVAL, sext64(half, f->ia_bits - 1u) - g, 0, g, rw, 0);
		EXPECT_MAP(-EINVAL, half - g, 0, 2 * g, rw, 0);         /* into the hole */
		EXPECT_MAP(-EINVAL, sext64(half, f->ia_bits - 1u) - g, 0, 2 * g, rw, 0);
		EXPECT_MAP(-EINVAL, 0 - g, 0, 2 * g, rw, 0);            /* wraps past 2^64 */
		expect_map_edge(&e, __LINE__, half - g, 0, g);          /* top of lower half */
		expect_map_edge(&e, __LINE__, 0 - g, 0, g);             /* top of upper half */
	} else {
		EXPECT_MAP(-EINVAL, top, 0, g, rw, 0);
		EXPECT_MAP(-EINVAL, top - g, 0, 2 * g, rw, 0);
		EXPECT_MAP(-EINVAL, 0 - g, 0, 2 * g, rw, 0);
		expect_map_edge(&e, __LINE__, top - g, 0, g);
	}

	/* -EINVAL: output beyond the output size. */
	EXPECT_MAP(-EINVAL, free_ia, oas_end, g, rw, 0);
	EXPECT_MAP(-EINVAL, free_ia, oas_end - g, 2 * g, rw, 0);
	EXPECT_MAP(-EINVAL, free_ia, 0 - g, 2 * g, rw, 0);
	expect_map_edge(&e, __LINE__, to_ia(f, free_ia), oas_end - g, g);

	/* -EINVAL: page sizes the format does not have, everything else valid. */
	sizes = pgt_page_sizes(f);
	{
		const uint64_t bogus[] = { g / 2, 2 * g, 3 * g, BIT(21), BIT(25), BIT(29), BIT(30),
					   BIT(42), 2 * big };

		for (unsigned i = 0; i < ARRAY_SIZE(bogus); i++) {
			uint64_t p = bogus[i];

			if (expected_page_sizes(f) & p)
				continue;
			if (p < g)
				EXPECT_MAP(-EINVAL, free_ia, 0, g, rw, p);
			else if (big_ia && p <= big_ia && p <= oas_end)
				EXPECT_MAP(-EINVAL, 0, 0, p, rw, p);   /* [0, big_ia) is free */
		}
	}
	CHECK_MSG(sizes == expected_page_sizes(f), "%s: page sizes 0x%" PRIx64 ", want 0x%" PRIx64,
		  f->name, sizes, expected_page_sizes(f));

	/* -EINVAL: protections the format cannot express. */
	EXPECT_MAP(-EINVAL, free_ia, 0, g, PGT_PROT_R | BIT(5), 0);
	EXPECT_MAP(-EINVAL, free_ia, 0, g, 0, 0);
	if (is_first_stage(f)) {
		EXPECT_MAP(-EINVAL, free_ia, 0, g, PGT_PROT_W, 0);
		EXPECT_MAP(-EINVAL, free_ia, 0, g, PGT_PROT_X, 0);
		EXPECT_MAP(-EINVAL, free_ia, 0, g, PGT_PROT_W | PGT_PROT_X | PGT_PROT_U, 0);
	} else {
		EXPECT_MAP(-EINVAL, free_ia, 0, g, PGT_PROT_R | PGT_PROT_U, 0);
		EXPECT_MAP(-EINVAL, free_ia, 0, g, rw | PGT_PROT_X | PGT_PROT_U, 0);
		EXPECT_MAP(-EINVAL, free_ia, 0, g, rw | PGT_PROT_NG, 0);  /* no ASIDs */
	}
	if (f->family == PGT_VTD_SS)
		EXPECT_MAP(-EINVAL, free_ia, 0, g, PGT_PROT_X, 0);     /* R = W = 0 */

	/* pgt_unmap: cutting a large page, bad arguments, holes. */
	if (big > g) {
		EXPECT_UNMAP(-EINVAL, big_ia, g);
		EXPECT_UNMAP(-EINVAL, big_ia + g, big - g);
		EXPECT_UNMAP(-EINVAL, big_ia + big - g, 2 * g);
		EXPECT_UNMAP(-EINVAL, big_ia + big / 2, big);
		if (big_ia)
			EXPECT_UNMAP(-EINVAL, big_ia - g, 2 * g);
	}
	EXPECT_UNMAP(-EINVAL, to_ia(f, q) + g / 2, g);
	EXPECT_UNMAP(-EINVAL, to_ia(f, q), g / 2);
	EXPECT_UNMAP(-EINVAL, to_ia(f, q), 0);
	EXPECT_UNMAP(-EINVAL, to_ia(f, free_ia) + g / 2, g);        /* unaligned, in a hole */
	EXPECT_UNMAP(-EINVAL, to_ia(f, free_ia), g / 2);
	EXPECT_UNMAP(-EINVAL, to_ia(f, free_ia), g + g / 2);
	if (f->family == PGT_X86_FS) {
		uint64_t half = BIT(f->ia_bits - 1u);

		EXPECT_UNMAP(-EINVAL, half, g);
		EXPECT_UNMAP(-EINVAL, half - g, 2 * g);
		/* Both ends canonical, but the range spans the whole hole. */
		EXPECT_UNMAP(-EINVAL, half - g, upper + g - (half - g));
		EXPECT_UNMAP(0, upper + 8 * g, 4 * g);                 /* hole, upper half */
	} else {
		EXPECT_UNMAP(-EINVAL, top, g);
		EXPECT_UNMAP(-EINVAL, top - g, 2 * g);
		EXPECT_UNMAP(0, top - 4 * g, 4 * g);
	}
	EXPECT_UNMAP(0, to_ia(f, big_ia + big), 2 * g);      /* hole beside Q, same table */
	EXPECT_UNMAP(0, to_ia(f, free_ia), 8 * g);

	/* Everything back to the root. */
	{
		uint64_t got = 0;

		CHECK_EQ(pgt_unmap(f, e.t.pool, e.t.root, to_ia(f, big_ia), free_ia + 8 * g - big_ia,
				   &got), 0);
		CHECK_EQ(got, big + 4 * g);
		if (upper) {
			CHECK_EQ(pgt_unmap(f, e.t.pool, e.t.root, upper, g, &got), 0);
			CHECK_EQ(got, g);
		}
		CHECK_EQ(mem_frames_used(e.t.pool), root_frames(f));
	}
	pgt_free_tree(f, e.t.pool, e.t.root);
out:
	mem_frames_free_pool(e.t.pool);
	free(e.snap);
}

/* ---- running out of table memory --------------------------------------------- */

/*
 * A pool with room for the root, the tables of one existing page, and `spare`
 * more tables. A map of granule pages over several leaf tables then fails when
 * it needs one more: -ENOMEM, and the leaves and tables it had built are gone.
 */
static void enomem_case(const struct pgt_fmt *f)
{
	struct err_env e = { .t = { .f = f, .space = host_space } };
	uint64_t g = span_at(f, 0), s1 = span_at(f, 1), tbl = table_frame_bytes(f);
	uint64_t rootb = root_frames(f) * MEM_FRAME_SIZE, space = BIT(f->ia_bits), far, end;
	unsigned spare;
	struct mem_view v;
	int err = 0;

	if (f->levels < 2)
		return;         /* the root is the only table: nothing to run out of */
	if (f->family == PGT_X86_FS)
		space = BIT(f->ia_bits - 1u);
	spare = 3 * s1 <= space ? 1 : 0;
	e.bytes = (rootb > tbl ? rootb : tbl) + (f->levels - 1u + spare) * tbl;
	e.t.pool = mem_frames_new(host_space, REGION_BASE + SMALL_POOL_OFF, e.bytes);
	mem_view_begin(&v, host_space);
	e.host = mem_view_ptr(&v, REGION_BASE + SMALL_POOL_OFF, e.bytes, MEM_RW, &err);
	mem_view_end(&v);
	e.snap = malloc(e.bytes);
	CHECK(e.t.pool && e.host && e.snap);
	if (!e.t.pool || !e.host || !e.snap)
		goto out;
	CHECK_EQ(pgt_root_alloc(f, e.t.pool, &e.t.root), 0);
	CHECK_EQ(pgt_map(f, e.t.pool, e.t.root, 0, 0, g, PGT_PROT_R, 0), 0);

	/* [s1, end): granule pages only (output misaligned for anything bigger). */
	end = 4 * s1 <= space ? 4 * s1 : space;
	far = f->family == PGT_X86_FS ? BIT(f->ia_bits - 1u) : space / 2;
	{
		uint64_t at[] = { 0, g, s1 - g, s1, s1 + g, 2 * s1, end - g, far, far + s1 };

		for (unsigned i = 0; i < ARRAY_SIZE(at); i++)
			e.probes[e.nprobes++] = to_ia(f, at[i]);
	}
	EXPECT_MAP(-ENOMEM, s1, g, end - s1, PGT_PROT_R, 0);
	/* A fresh path from the root: its new upper tables must go back too. */
	if (far >= 2 * s1 && far + 2 * s1 <= (f->family == PGT_X86_FS ? 2 * space : space))
		EXPECT_MAP(-ENOMEM, to_ia(f, far), g, 2 * s1, PGT_PROT_R, 0);

	/* The spare table really is free again: a map that needs only it works. */
	if (spare) {
		CHECK_EQ(pgt_map(f, e.t.pool, e.t.root, s1, g, g, PGT_PROT_R, 0), 0);
		CHECK_EQ(pgt_unmap(f, e.t.pool, e.t.root, s1, g, NULL), 0);
	}
	CHECK_EQ(pgt_unmap(f, e.t.pool, e.t.root, 0, g, NULL), 0);
	CHECK_EQ(mem_frames_used(e.t.pool), root_frames(f));
	pgt_free_tree(f, e.t.pool, e.t.root);
out:
	mem_frames_free_pool(e.t.pool);
	free(e.snap);
}

/* Independent random trees per format (the generator makes 64 ranges each). */
#define ROUNDS 3

static void test_format(const char *spec, unsigned variant)
{
	unsigned failures_before = check_failures;
	struct stats st = { 0 };
	struct pgt_fmt f;
	char msg[200];

	if (pgt_fmt_parse(&f, spec, msg, sizeof(msg))) {
		CHECK_MSG(false, "%s", msg);
		return;
	}
	CHECK_MSG(f.levels == expected_levels(&f) && f.ia_bits == expected_ia_bits(&f),
		  "%s: %u levels, %u input bits; want %u, %u", spec, f.levels, f.ia_bits,
		  expected_levels(&f), expected_ia_bits(&f));
	CHECK_MSG(pgt_page_sizes(&f) == expected_page_sizes(&f), "%s: page sizes 0x%" PRIx64
		  ", want 0x%" PRIx64, spec, pgt_page_sizes(&f), expected_page_sizes(&f));
	for (unsigned round = 0; round < ROUNDS; round++)
		round_trip(&f, variant + round, &st);
	explicit_page_sizes(&f);
	error_cases(&f);
	enomem_case(&f);
	printf("  %-34s %3u mappings, %3u unmaps, %6u walks; pages seen:", spec, st.mapped,
	       st.unmaps, st.walks);
	print_sizes(st.pages_seen);
	printf("\n");
	fflush(stdout);
	if (check_failures != failures_before)
		fprintf(stderr, "^ failures above: format %s\n", spec);
}

/* ---- nested: stage 1 built in guest RAM, over a stage 2 ---------------------- */

/*
 * Guest RAM is one host region seen twice: at GUEST_RAM_HPA in the host space
 * and at GPA 0 in a guest space, where the guest's pool (all of RAM) holds the
 * stage-1 tables. Stage 2 maps RAM with its smallest pages (so every stage-1
 * table fetch costs a full stage-2 walk) and random other GPA ranges; stage 1
 * maps random ranges whose outputs land in those, in RAM, or nowhere.
 */
#define HOST_POOL_BASE 0x1000000ull
#define HOST_POOL_SIZE (32ull << 20)
#define GUEST_RAM_HPA  0x40000000ull
#define GUEST_RAM_SIZE (16ull << 20)

static const struct {
	const char *s1, *s2;
} nested_pairs[] = {
	{ "x86-fs4", "vtd-ss4" },
	{ "x86-fs4:nxe", "vtd-ss3" },
	{ "x86-fs5", "vtd-ss5" },
	{ "x86-fs4:nxe:smep", "vtd-ss4:slee" },
	{ "lpae-s1:4k:t0sz=16", "lpae-s2:4k:t0sz=16:sl0=2" },
	{ "lpae-s1:4k:t0sz=25", "lpae-s2:4k:t0sz=24:sl0=1" },
	{ "lpae-s1:64k:t0sz=22", "lpae-s2:16k:t0sz=28:sl0=1" },
	{ "lpae-s1:16k:t0sz=17", "lpae-s2:64k:t0sz=24:sl0=1" },
};

enum outcome { TRANSLATED, S1_NOT_PRESENT, S1_PERMISSION, S2_NOT_PRESENT, S2_PERMISSION,
	       OUTCOMES };

struct nested {
	const struct pgt_fmt *f1, *f2;
	struct tree t1, t2;         /* t1.space: guest; walks use the host space */
	unsigned outcomes[OUTCOMES];   /* what the model expected, to show coverage */
};

static void check_nested_addr(struct nested *n, uint64_t idx)
{
	const struct pgt_fmt *f1 = n->f1, *f2 = n->f2;
	const struct mapping *m1 = model_find(n->t1.md, idx), *m2 = NULL;
	uint64_t va = to_ia(f1, idx), gpa = 0;

	if (m1) {
		gpa = m1->oa + (idx - m1->ia);
		m2 = model_find(n->t2.md, gpa);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(all_accesses); i++) {
		unsigned acc = all_accesses[i], want = wanted_perm(acc), p1, p2;
		struct pgt_result r;
		uint64_t ps1, ps2, want_refs;
		int ret = pgt_walk_nested(f1, n->t1.root, f2, n->t2.root, host_space, va, acc, &r,
					  NULL);

		CHECK_MSG(ret == 0, "%s/%s: nested walk returned %d", f1->name, f2->name, ret);
		n->outcomes[!m1 ? S1_NOT_PRESENT :
			    !(model_perm(f1, m1->prot, acc & PGT_ACC_USER) & want) ? S1_PERMISSION :
			    !m2 ? S2_NOT_PRESENT :
			    !(model_perm(f2, m2->prot, false) & want) ? S2_PERMISSION : TRANSLATED]++;
		if (!m1) {
			CHECK_MSG(!r.ok && r.fault.stage == 1 && r.fault.reason == PGT_FAULT_NOT_PRESENT,
				  "%s/%s: va 0x%" PRIx64 ": want a stage-1 not-present fault, ok %d stage %u %s",
				  f1->name, f2->name, va, r.ok, r.fault.stage,
				  pgt_reason_name(r.fault.reason));
			continue;
		}
		p1 = model_perm(f1, m1->prot, acc & PGT_ACC_USER);
		if (!(p1 & want)) {
			CHECK_MSG(!r.ok && r.fault.stage == 1 && r.fault.reason == PGT_FAULT_PERMISSION,
				  "%s/%s: va 0x%" PRIx64 " acc %u: want a stage-1 permission fault",
				  f1->name, f2->name, va, acc);
			continue;
		}
		if (!m2) {
			CHECK_MSG(!r.ok && r.fault.stage == 2 && !r.fault.s1_fetch &&
				  r.fault.reason == PGT_FAULT_NOT_PRESENT && r.fault.addr == gpa,
				  "%s/%s: va 0x%" PRIx64 " -> gpa 0x%" PRIx64 ": want a stage-2 not-present"
				  " fault on the output, ok %d stage %u fetch %d %s addr 0x%" PRIx64,
				  f1->name, f2->name, va, gpa, r.ok, r.fault.stage, r.fault.s1_fetch,
				  pgt_reason_name(r.fault.reason), r.fault.addr);
			continue;
		}
		p2 = model_perm(f2, m2->prot, false);
		if (!(p2 & want)) {
			CHECK_MSG(!r.ok && r.fault.stage == 2 && !r.fault.s1_fetch &&
				  r.fault.reason == PGT_FAULT_PERMISSION,
				  "%s/%s: va 0x%" PRIx64 " acc %u: want a stage-2 permission fault",
				  f1->name, f2->name, va, acc);
			continue;
		}
		ps1 = model_page(f1, m1, idx);
		ps2 = model_page(f2, m2, gpa);
		/* Each stage-1 level: a full stage-2 walk of a RAM page, then the entry;
		 * then one stage-2 walk of the output. */
		want_refs = (f1->levels - height_of(f1, ps1)) * (f2->levels + 1u) +
			    (f2->levels - height_of(f2, ps2));
		CHECK_MSG(r.ok && r.oa == m2->oa + (gpa - m2->ia) &&
			  r.page_size == (ps1 < ps2 ? ps1 : ps2) && r.perm == (p1 & p2) &&
			  r.refs == want_refs,
			  "%s/%s: va 0x%" PRIx64 " acc %u: ok %d oa 0x%" PRIx64 " page 0x%" PRIx64
			  " perm %#x refs %u; want oa 0x%" PRIx64 " page 0x%" PRIx64 " perm %#x refs %"
			  PRIu64, f1->name, f2->name, va, acc, r.ok, r.oa, r.page_size, r.perm, r.refs,
			  m2->oa + (gpa - m2->ia), ps1 < ps2 ? ps1 : ps2, p1 & p2, want_refs);
	}
}

static void nested_pair(const char *s1, const char *s2)
{
	struct pgt_fmt f1, f2;
	struct nested n = { .f1 = &f1, .f2 = &f2 };
	struct mem_space *guest = NULL;
	struct mapping ram = { 0 };
	unsigned failures_before = check_failures, n1, n2;
	uint64_t gpa_end;
	void *ram_host = NULL;
	int ret;

	if (pgt_fmt_parse(&f1, s1, NULL, 0) || pgt_fmt_parse(&f2, s2, NULL, 0)) {
		CHECK_MSG(false, "nested formats %s / %s do not parse", s1, s2);
		return;
	}
	n.t1 = (struct tree){ .f = &f1, .md = calloc(1, sizeof(struct model)) };
	n.t2 = (struct tree){ .f = &f2, .space = host_space, .md = calloc(1, sizeof(struct model)) };
	n.t1.md->f = &f1;
	n.t2.md->f = &f2;

	ret = mem_add_anon(host_space, GUEST_RAM_HPA, GUEST_RAM_SIZE, MEM_RW, &ram_host);
	CHECK_EQ(ret, 0);
	guest = mem_space_new();
	CHECK(guest != NULL);
	if (ret || !guest || mem_add(guest, 0, GUEST_RAM_SIZE, ram_host, MEM_RW))
		goto out;
	n.t1.space = guest;
	n.t1.pool = mem_frames_new(guest, 0, GUEST_RAM_SIZE);
	n.t2.pool = mem_frames_new(host_space, HOST_POOL_BASE, HOST_POOL_SIZE);
	CHECK(n.t1.pool && n.t2.pool);
	if (!n.t1.pool || !n.t2.pool)
		goto out;
	CHECK_EQ(pgt_root_alloc(&f2, n.t2.pool, &n.t2.root), 0);
	CHECK_EQ(pgt_root_alloc(&f1, n.t1.pool, &n.t1.root), 0);

	/* Stage 2: RAM in smallest pages, read-write, and random GPA ranges above. */
	ram = (struct mapping){ .ia = 0, .size = GUEST_RAM_SIZE, .oa = GUEST_RAM_HPA,
				.prot = PGT_PROT_R | PGT_PROT_W, .page_size = span_at(&f2, 0) };
	CHECK_EQ(map_model(&n.t2, &ram), 0);
	model_add(n.t2.md, &ram);
	gpa_end = BIT(f2.ia_bits < 36 ? f2.ia_bits : 36);
	for (unsigned i = 0; i < 24; i++) {
		struct window w = { GUEST_RAM_SIZE, gpa_end, 0, BIT(f2.oas) };
		struct mapping m;

		if (gen_mapping(n.t2.md, &w, &m) && !map_model(&n.t2, &m))
			model_add(n.t2.md, &m);
	}

	/* Stage 1: outputs aimed at a stage-2 range, at RAM, or anywhere. */
	for (unsigned i = 0; i < 32; i++) {
		struct window w = default_window(&f1);
		struct mapping m;
		unsigned pick = (unsigned)rnd_below(8);

		w.oa_hi = gpa_end;
		if (pick == 0) {
			w.oa_hi = GUEST_RAM_SIZE;
		} else if (pick < 5) {
			const struct mapping *t = &n.t2.md->m[rnd_below(n.t2.md->n)];

			w.oa_lo = t->ia;
			w.oa_hi = t->ia + t->size;
		}
		if (!gen_mapping(n.t1.md, &w, &m))
			continue;
		ret = map_model(&n.t1, &m);
		CHECK_MSG(ret == 0, "%s: stage-1 map in guest RAM: %d", f1.name, ret);
		if (!ret)
			model_add(n.t1.md, &m);
	}
	n1 = n.t1.md->n;
	n2 = n.t2.md->n;
	CHECK_MSG(n1 >= 16 && n2 >= 8, "%s/%s: only %u/%u mappings", s1, s2, n1, n2);

	/* Each stage alone against its model, then the composition. */
	for (unsigned i = 0; i < n.t2.md->n; i++)
		check_mapping_samples(&n.t2, &n.t2.md->m[i]);
	for (unsigned i = 0; i < n.t1.md->n; i++) {
		const struct mapping *m = &n.t1.md->m[i];

		check_nested_addr(&n, m->ia);
		check_nested_addr(&n, m->ia + m->size - 1);
		for (unsigned k = 0; k < 10; k++)
			check_nested_addr(&n, m->ia + rnd_below(m->size));
	}
	for (unsigned i = 0; i < 64; i++)
		check_nested_addr(&n, rnd_below(BIT(f1.ia_bits)));

	/* Unmapping stage-1 pieces shows through the nested walk at once. */
	for (unsigned op = 0; op < 8 && n.t1.md->n; op++) {
		const struct mapping *m = &n.t1.md->m[rnd_below(n.t1.md->n)];
		uint64_t ia, size, got = 0, idx;

		pick_piece(&f1, m, &ia, &size);
		CHECK_EQ(pgt_unmap(&f1, n.t1.pool, n.t1.root, to_ia(&f1, ia), size, &got), 0);
		CHECK_EQ(got, size);
		for (unsigned i = 0; i < n.t1.md->n; i++) {
			if (n.t1.md->m[i].ia <= ia && ia < n.t1.md->m[i].ia + n.t1.md->m[i].size) {
				struct mapping whole = n.t1.md->m[i], left = whole, right = whole;

				model_remove(n.t1.md, i);
				if (ia > whole.ia) {
					left.size = ia - whole.ia;
					model_add(n.t1.md, &left);
				}
				if (ia + size < whole.ia + whole.size) {
					right.ia = ia + size;
					right.size = whole.ia + whole.size - right.ia;
					right.oa = whole.oa + (right.ia - whole.ia);
					model_add(n.t1.md, &right);
				}
				break;
			}
		}
		idx = ia + rnd_below(size);
		check_nested_addr(&n, idx);
		check_nested_addr(&n, ia);
	}
	{
		uint64_t half = f1.family == PGT_X86_FS ? BIT(f1.ia_bits - 1u) : BIT(f1.ia_bits);

		pgt_unmap(&f1, n.t1.pool, n.t1.root, 0, half, NULL);
		if (f1.family == PGT_X86_FS)
			pgt_unmap(&f1, n.t1.pool, n.t1.root, to_ia(&f1, half), half, NULL);
		CHECK_EQ(mem_frames_used(n.t1.pool), root_frames(&f1));
	}
	pgt_free_tree(&f1, n.t1.pool, n.t1.root);
	pgt_free_tree(&f2, n.t2.pool, n.t2.root);
	CHECK_MSG(n.outcomes[TRANSLATED] && n.outcomes[S1_NOT_PRESENT] &&
		  n.outcomes[S1_PERMISSION] && n.outcomes[S2_NOT_PRESENT] && n.outcomes[S2_PERMISSION],
		  "%s over %s: not every outcome was exercised", s1, s2);
	printf("  %-20s over %-26s %2u+%2u mappings; walks: %u translated, stage-1 faults %u+%u,"
	       " stage-2 faults %u+%u (not present + permission)\n", s1, s2, n1, n2,
	       n.outcomes[TRANSLATED], n.outcomes[S1_NOT_PRESENT], n.outcomes[S1_PERMISSION],
	       n.outcomes[S2_NOT_PRESENT], n.outcomes[S2_PERMISSION]);
	fflush(stdout);
out:
	if (check_failures != failures_before)
		fprintf(stderr, "^ failures above: %s over %s\n", s1, s2);
	mem_frames_free_pool(n.t1.pool);
	mem_frames_free_pool(n.t2.pool);
	mem_space_free(guest);
	if (ram_host)
		mem_remove(host_space, GUEST_RAM_HPA);
	free(n.t1.md);
	free(n.t2.md);
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : DEFAULT_SEED;

	printf("test_map: seed 0x%" PRIx64 " (rerun with: test_map 0x%" PRIx64 ")\n", seed, seed);
	fflush(stdout);         /* before any failure on stderr */
	rng_state = seed;
	host_space = mem_space_new();
	if (!host_space || mem_add_anon(host_space, REGION_BASE, REGION_SIZE, MEM_RW, NULL)) {
		fprintf(stderr, "test_map: no memory for the test space\n");
		return 1;
	}
	if (mem_add_anon(host_space, HOST_POOL_BASE, HOST_POOL_SIZE, MEM_RW, NULL)) {
		fprintf(stderr, "test_map: no memory for the stage-2 pool\n");
		return 1;
	}

	printf("single-stage formats (random round trips, explicit sizes, errors, -ENOMEM):\n");
	for (unsigned i = 0; i < ARRAY_SIZE(formats); i++)
		test_format(formats[i], i);
	printf("nested (stage 1 built in guest RAM over stage 2):\n");
	for (unsigned i = 0; i < ARRAY_SIZE(nested_pairs); i++)
		nested_pair(nested_pairs[i].s1, nested_pairs[i].s2);

	mem_space_free(host_space);
	return check_exit();
}
