/* tests/test_pasid.c — the system-wide PASID allocator (iommu/pasid.h).
 *
 * Single-threaded: every errno of the API with the state checked unchanged after
 * it (the set's count, its g2h / h2g answers, the value the next allocation
 * gets); lowest-free allocation and reuse; range edges (min == max, the last
 * PASID of the width, a range across bitmap words, a range fully used); quotas
 * and one space shared by two sets that cannot touch each other's PASIDs;
 * identity and guest sets side by side; users released exactly once, before
 * the PASID can be allocated again, by pasid_free, pasid_free_range and
 * pasid_set_free, with what a release callback may observe (pasid.h: the PASID
 * is still owned and mapped, dying: no user added, no second free); tables
 * that grow and shrink.
 * Concurrent (~0.2 s, run under ThreadSanitizer in CI): two sets churned by two
 * threads on one space, a lock-free reader checking every g2h / h2g answer, and
 * a thread adding and deleting users on PASIDs that are being freed: every user
 * added is deleted or released exactly once.
 */
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "iommu/pasid.h"

/* The value the next pasid_alloc(min, max) would give (0: it fails), leaving the
 * state as it was. */
static uint32_t next_alloc(struct pasid_set *s, uint32_t min, uint32_t max)
{
	uint32_t p = 0;

	if (pasid_alloc(s, min, max, &p))
		return 0;
	CHECK_EQ(pasid_free(s, p), 0);
	return p;
}

static uint32_t must_alloc(struct pasid_set *s, uint32_t min, uint32_t max)
{
	uint32_t p = 0;

	CHECK_EQ(pasid_alloc(s, min, max, &p), 0);
	return p;
}

static uint32_t g2h(const struct pasid_set *s, uint32_t g)
{
	uint32_t h = 0;

	return pasid_g2h(s, g, &h) ? 0 : h;
}

static uint32_t h2g(const struct pasid_set *s, uint32_t h)
{
	uint32_t g = 0;

	return pasid_h2g(s, h, &g) ? 0 : g;
}

static void test_space_and_set_args(void)
{
	struct pasid_space *sp;
	struct pasid_set *set = (struct pasid_set *)&set;   /* a marker: must stay */

	errno = 0;
	CHECK(pasid_space_new(0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(pasid_space_new(21) == NULL);
	CHECK_EQ(errno, EINVAL);

	/* One bit: PASID 1 is the only one (0 is never handed out). */
	sp = pasid_space_new(1);
	CHECK(sp != NULL);
	if (!sp)
		return;
	CHECK_EQ(pasid_space_bits(sp), 1);
	CHECK_EQ(pasid_set_new(sp, 0, PASID_MAP_IDENTITY, &set), -EINVAL);
	CHECK_EQ(pasid_set_new(sp, 1, (enum pasid_map_mode)7, &set), -EINVAL);
	CHECK(set == (struct pasid_set *)&set);
	CHECK_EQ(pasid_set_new(sp, 4, PASID_MAP_GUEST, &set), 0);
	CHECK_EQ(pasid_set_mode(set), PASID_MAP_GUEST);
	CHECK_EQ(pasid_set_quota(set), 4);
	CHECK_EQ(pasid_set_count(set), 0);
	CHECK_EQ(pasid_alloc(set, 1, 2, &(uint32_t){ 0 }), -EINVAL);
	CHECK_EQ(must_alloc(set, 1, 1), 1);
	CHECK_EQ(pasid_alloc(set, 1, 1, &(uint32_t){ 0 }), -ENOSPC);
	CHECK_EQ(pasid_set_count(set), 1);
	pasid_set_free(set);
	pasid_set_free(NULL);
	pasid_space_free(sp);

	sp = pasid_space_new(20);
	CHECK(sp != NULL);
	if (!sp)
		return;
	CHECK_EQ(pasid_space_bits(sp), 20);
	CHECK_EQ(pasid_set_new(sp, 8, PASID_MAP_IDENTITY, &set), 0);
	CHECK_EQ(pasid_alloc(set, 1, 0x100000, &(uint32_t){ 0 }), -EINVAL);
	CHECK_EQ(must_alloc(set, 0xfffff, 0xfffff), 0xfffff);
	CHECK_EQ(pasid_check(set, 0xfffff), 0);
	CHECK_EQ(pasid_check(set, 0x100000), -ENOENT);
	CHECK_EQ(must_alloc(set, 1, 0xfffff), 1);
	pasid_set_free(set);
	pasid_space_free(sp);
}

static void test_alloc_free(void)
{
	struct pasid_space *sp = pasid_space_new(8);   /* PASIDs 1..255 */
	struct pasid_set *s;
	uint32_t p = 0xdead;

	CHECK(sp != NULL);
	if (!sp || pasid_set_new(sp, 1000, PASID_MAP_IDENTITY, &s))
		return;

	/* Lowest free first; a freed PASID is the next one given back. */
	CHECK_EQ(must_alloc(s, 1, 255), 1);
	CHECK_EQ(must_alloc(s, 1, 255), 2);
	CHECK_EQ(must_alloc(s, 1, 255), 3);
	CHECK_EQ(pasid_free(s, 2), 0);
	CHECK_EQ(pasid_check(s, 2), -ENOENT);
	CHECK_EQ(must_alloc(s, 1, 255), 2);
	CHECK_EQ(must_alloc(s, 2, 255), 4);
	CHECK_EQ(pasid_set_count(s), 4);

	/* Bad ranges change nothing. */
	CHECK_EQ(pasid_alloc(s, 0, 255, &p), -EINVAL);
	CHECK_EQ(pasid_alloc(s, 0, 0, &p), -EINVAL);
	CHECK_EQ(pasid_alloc(s, 9, 8, &p), -EINVAL);
	CHECK_EQ(pasid_alloc(s, 1, 256, &p), -EINVAL);
	CHECK_EQ(pasid_alloc(s, 256, 300, &p), -EINVAL);
	CHECK_EQ(p, 0xdead);
	CHECK_EQ(pasid_set_count(s), 4);
	CHECK_EQ(next_alloc(s, 1, 255), 5);

	/* min == max, and the last PASID of the width. */
	CHECK_EQ(must_alloc(s, 10, 10), 10);
	CHECK_EQ(pasid_alloc(s, 10, 10, &p), -ENOSPC);
	CHECK_EQ(must_alloc(s, 255, 255), 255);
	CHECK_EQ(pasid_alloc(s, 255, 255, &p), -ENOSPC);
	CHECK_EQ(must_alloc(s, 250, 255), 250);
	CHECK_EQ(p, 0xdead);
	CHECK_EQ(pasid_set_count(s), 7);
	CHECK_EQ(next_alloc(s, 1, 255), 5);

	/* A range across a bitmap word, used up. */
	for (uint32_t want = 60; want <= 70; want++)
		CHECK_EQ(must_alloc(s, 60, 70), want);
	CHECK_EQ(pasid_alloc(s, 60, 70, &p), -ENOSPC);
	CHECK_EQ(pasid_alloc(s, 63, 64, &p), -ENOSPC);
	CHECK_EQ(pasid_set_count(s), 18);
	CHECK_EQ(next_alloc(s, 60, 71), 71);
	CHECK_EQ(pasid_free(s, 64), 0);
	CHECK_EQ(next_alloc(s, 60, 70), 64);
	CHECK_EQ(must_alloc(s, 63, 64), 64);

	/* Frees of what the set does not own. */
	CHECK_EQ(pasid_free(s, 0), -ENOENT);
	CHECK_EQ(pasid_free(s, 100), -ENOENT);
	CHECK_EQ(pasid_free(s, 256), -ENOENT);
	CHECK_EQ(pasid_free(s, 0xffffffff), -ENOENT);
	CHECK_EQ(pasid_check(s, 0), -ENOENT);
	CHECK_EQ(pasid_set_count(s), 18);
	CHECK_EQ(next_alloc(s, 1, 255), 5);

	/* Ranges of frees. */
	CHECK_EQ(pasid_free_range(s, 9, 8), -EINVAL);
	CHECK_EQ(pasid_set_count(s), 18);
	CHECK_EQ(pasid_free_range(s, 100, 200), 0);
	CHECK_EQ(pasid_free_range(s, 62, 66), 5);
	CHECK_EQ(pasid_free_range(s, 62, 66), 0);
	CHECK_EQ(pasid_check(s, 61), 0);
	CHECK_EQ(pasid_check(s, 62), -ENOENT);
	CHECK_EQ(pasid_check(s, 67), 0);
	CHECK_EQ(pasid_set_count(s), 13);
	CHECK_EQ(next_alloc(s, 60, 255), 62);
	CHECK_EQ(pasid_free_range(s, 255, 0xffffffff), 1);
	CHECK_EQ(pasid_free_range(s, 0, 0), 0);
	CHECK_EQ(pasid_free_range(s, 0, 0xffffffff), 12);
	CHECK_EQ(pasid_set_count(s), 0);
	CHECK_EQ(next_alloc(s, 1, 255), 1);

	/* The whole space. */
	for (uint32_t want = 1; want <= 255; want++)
		CHECK_EQ(must_alloc(s, 1, 255), want);
	CHECK_EQ(pasid_alloc(s, 1, 255, &p), -ENOSPC);
	CHECK_EQ(pasid_set_count(s), 255);
	CHECK_EQ(pasid_free(s, 128), 0);
	CHECK_EQ(must_alloc(s, 1, 255), 128);

	pasid_set_free(s);
	pasid_space_free(sp);
}

static void never_released(struct pasid_user *u, uint32_t pasid)
{
	CHECK_MSG(0, "released user %p of PASID %u", (void *)u, pasid);
}

static void test_quota_and_sharing(void)
{
	struct pasid_space *sp = pasid_space_new(6);   /* PASIDs 1..63 */
	struct pasid_set *a, *b;
	struct pasid_user u = { .release = NULL };
	uint32_t p = 0xdead, n;

	if (!sp || pasid_set_new(sp, 3, PASID_MAP_IDENTITY, &a) ||
	    pasid_set_new(sp, 100, PASID_MAP_GUEST, &b)) {
		CHECK(0);
		return;
	}
	CHECK_EQ(must_alloc(a, 1, 63), 1);
	CHECK_EQ(must_alloc(a, 1, 63), 2);
	CHECK_EQ(must_alloc(a, 1, 63), 3);
	CHECK_EQ(pasid_alloc(a, 1, 63, &p), -ENOSPC);   /* quota, not the range */
	CHECK_EQ(pasid_alloc(a, 40, 40, &p), -ENOSPC);
	CHECK_EQ(p, 0xdead);
	CHECK_EQ(pasid_set_count(a), 3);

	/* b draws from the same space. */
	CHECK_EQ(must_alloc(b, 1, 63), 4);
	CHECK_EQ(pasid_alloc(b, 1, 3, &p), -ENOSPC);
	CHECK_EQ(pasid_map_guest(b, 5, 4), 0);

	/* Neither touches the other's PASIDs. */
	u.release = never_released;
	CHECK_EQ(pasid_free(a, 4), -ENOENT);
	CHECK_EQ(pasid_free(b, 1), -ENOENT);
	CHECK_EQ(pasid_free_range(b, 1, 3), 0);
	CHECK_EQ(pasid_free_range(a, 4, 4), 0);
	CHECK_EQ(pasid_check(b, 1), -ENOENT);
	CHECK_EQ(pasid_check(a, 4), -ENOENT);
	CHECK_EQ(pasid_map_guest(b, 6, 1), -ENOENT);
	CHECK_EQ(pasid_user_add(b, 1, &u), -ENOENT);
	CHECK_EQ(pasid_user_add(a, 4, &u), -ENOENT);
	CHECK_EQ(pasid_user_count(a, 4), 0);
	CHECK_EQ(g2h(a, 4), 0);
	CHECK_EQ(h2g(a, 4), 0);
	CHECK_EQ(g2h(b, 1), 0);
	CHECK_EQ(h2g(b, 1), 0);
	CHECK_EQ(pasid_set_count(a), 3);
	CHECK_EQ(pasid_set_count(b), 1);
	CHECK_EQ(g2h(b, 5), 4);
	CHECK_EQ(h2g(b, 4), 5);
	CHECK_EQ(g2h(a, 1), 1);

	/* A free gives quota back. */
	CHECK_EQ(pasid_free(a, 2), 0);
	CHECK_EQ(next_alloc(b, 1, 63), 2);
	CHECK_EQ(must_alloc(a, 1, 63), 2);

	/* b takes the rest of the space; then the space is what stops a. */
	n = 0;
	while (pasid_alloc(b, 1, 63, &p) == 0)
		n++;
	CHECK_EQ(n, 63 - 4);
	CHECK_EQ(pasid_set_count(b), 60);
	CHECK_EQ(pasid_free(a, 3), 0);
	CHECK_EQ(pasid_alloc(a, 1, 63, &p), 0);
	CHECK_EQ(p, 3);
	CHECK_EQ(pasid_free(b, 33), 0);
	CHECK_EQ(pasid_free(a, 3), 0);
	CHECK_EQ(next_alloc(a, 1, 63), 3);
	CHECK_EQ(next_alloc(a, 4, 63), 33);

	/* b's range free leaves a alone. */
	CHECK_EQ(pasid_free_range(b, 0, 0xffffffff), 59);
	CHECK_EQ(pasid_set_count(a), 2);
	CHECK_EQ(pasid_check(a, 1), 0);
	CHECK_EQ(pasid_check(a, 2), 0);
	CHECK_EQ(g2h(b, 5), 0);

	pasid_set_free(a);
	pasid_set_free(b);
	pasid_space_free(sp);
}

static void test_modes(void)
{
	struct pasid_space *sp = pasid_space_new(20);
	struct pasid_set *id, *gs;
	uint32_t h1, h2, h3, h4, v = 0xdead;

	if (!sp || pasid_set_new(sp, 2000, PASID_MAP_IDENTITY, &id) ||
	    pasid_set_new(sp, 2000, PASID_MAP_GUEST, &gs)) {
		CHECK(0);
		return;
	}
	h1 = must_alloc(id, 1, 0xfffff);
	h2 = must_alloc(gs, 1, 0xfffff);
	h3 = must_alloc(gs, 1, 0xfffff);
	h4 = must_alloc(gs, 1, 0xfffff);
	CHECK_EQ(h1, 1);
	CHECK_EQ(h2, 2);

	/* Identity: a PASID is its own guest PASID while the set owns it. */
	CHECK_EQ(pasid_g2h(id, h1, &v), 0);
	CHECK_EQ(v, h1);
	CHECK_EQ(pasid_h2g(id, h1, &v), 0);
	CHECK_EQ(v, h1);
	v = 0xdead;
	CHECK_EQ(pasid_g2h(id, h2, &v), -ENOENT);
	CHECK_EQ(pasid_h2g(id, h2, &v), -ENOENT);
	CHECK_EQ(pasid_g2h(id, 0, &v), -ENOENT);
	CHECK_EQ(pasid_g2h(id, 0x100000, &v), -ENOENT);
	CHECK_EQ(pasid_h2g(id, 0, &v), -ENOENT);
	CHECK_EQ(v, 0xdead);
	CHECK_EQ(pasid_map_guest(id, 7, h1), -EINVAL);
	CHECK_EQ(pasid_unmap_guest(id, h1), -EINVAL);
	CHECK_EQ(g2h(id, h1), h1);

	/* Guest: nothing until mapped. */
	CHECK_EQ(pasid_h2g(gs, h2, &v), -ENOENT);
	CHECK_EQ(pasid_g2h(gs, h2, &v), -ENOENT);
	CHECK_EQ(pasid_check(gs, h2), 0);
	CHECK_EQ(pasid_map_guest(gs, 0x80007, h2), 0);
	CHECK_EQ(g2h(gs, 0x80007), h2);
	CHECK_EQ(h2g(gs, h2), 0x80007);
	CHECK_EQ(g2h(gs, h2), 0);          /* the host PASID is no guest PASID */
	CHECK_EQ(g2h(id, 0x80007), 0);
	CHECK_EQ(h2g(id, h2), 0);
	CHECK_EQ(h2g(gs, h1), 0);

	/* Map errors, each leaving the mappings as they were. */
	CHECK_EQ(pasid_map_guest(gs, 0, h3), -EINVAL);
	CHECK_EQ(pasid_map_guest(gs, 0x100000, h3), -EINVAL);
	CHECK_EQ(pasid_map_guest(gs, 9, h1), -ENOENT);       /* id's */
	CHECK_EQ(pasid_map_guest(gs, 9, 12345), -ENOENT);    /* nobody's */
	CHECK_EQ(pasid_map_guest(gs, 9, 0), -ENOENT);
	CHECK_EQ(pasid_map_guest(gs, 0x80007, h3), -EEXIST);
	CHECK_EQ(pasid_map_guest(gs, 0x80007, h2), -EEXIST);
	CHECK_EQ(pasid_map_guest(gs, 9, h2), -EBUSY);
	CHECK_EQ(g2h(gs, 0x80007), h2);
	CHECK_EQ(h2g(gs, h2), 0x80007);
	CHECK_EQ(g2h(gs, 9), 0);
	CHECK_EQ(h2g(gs, h3), 0);
	CHECK_EQ(pasid_set_count(gs), 3);
	CHECK_EQ(next_alloc(gs, 1, 0xfffff), 5);

	/* Unmap, and map again afterwards. */
	CHECK_EQ(pasid_unmap_guest(gs, 9), -ENOENT);
	CHECK_EQ(pasid_unmap_guest(gs, 0), -ENOENT);
	CHECK_EQ(pasid_unmap_guest(gs, 0x100000), -ENOENT);
	CHECK_EQ(g2h(gs, 0x80007), h2);
	CHECK_EQ(pasid_unmap_guest(gs, 0x80007), 0);
	CHECK_EQ(g2h(gs, 0x80007), 0);
	CHECK_EQ(h2g(gs, h2), 0);
	CHECK_EQ(pasid_check(gs, h2), 0);
	CHECK_EQ(pasid_unmap_guest(gs, 0x80007), -ENOENT);
	CHECK_EQ(pasid_map_guest(gs, 9, h2), 0);
	CHECK_EQ(pasid_map_guest(gs, 0x80007, h3), 0);
	CHECK_EQ(g2h(gs, 9), h2);
	CHECK_EQ(h2g(gs, h2), 9);
	CHECK_EQ(g2h(gs, 0x80007), h3);
	CHECK_EQ(h2g(gs, h3), 0x80007);

	/* A free drops the mapping; the guest PASID may then be mapped again. */
	CHECK_EQ(pasid_free(gs, h2), 0);
	CHECK_EQ(g2h(gs, 9), 0);
	CHECK_EQ(h2g(gs, h2), 0);
	CHECK_EQ(pasid_map_guest(gs, 9, h3), -EBUSY);
	CHECK_EQ(pasid_map_guest(gs, 9, h4), 0);
	CHECK_EQ(g2h(gs, 9), h4);
	CHECK_EQ(pasid_free_range(gs, 1, 0xfffff), 2);
	CHECK_EQ(g2h(gs, 9), 0);
	CHECK_EQ(g2h(gs, 0x80007), 0);

	/* Many pairs: the lookup table grows, loses entries, shrinks. */
	enum { N = 1500 };
	static uint32_t hs[N];
	for (unsigned i = 0; i < N; i++) {
		hs[i] = must_alloc(gs, 1, 0xfffff);
		CHECK_EQ(pasid_map_guest(gs, 0xfffff - i, hs[i]), 0);
	}
	for (unsigned i = 0; i < N; i++) {
		CHECK_EQ(g2h(gs, 0xfffff - i), hs[i]);
		CHECK_EQ(h2g(gs, hs[i]), 0xfffff - i);
	}
	for (unsigned i = 0; i < N; i++) {
		if (i % 3 == 0)
			CHECK_EQ(pasid_free(gs, hs[i]), 0);
		else if (i % 3 == 1)
			CHECK_EQ(pasid_unmap_guest(gs, 0xfffff - i), 0);
	}
	for (unsigned i = 0; i < N; i++) {
		CHECK_EQ(g2h(gs, 0xfffff - i), i % 3 == 2 ? hs[i] : 0);
		CHECK_EQ(h2g(gs, hs[i]), i % 3 == 2 ? 0xfffff - i : 0);
		CHECK_EQ(pasid_check(gs, hs[i]), i % 3 ? 0 : -ENOENT);
	}
	CHECK_EQ(pasid_set_count(gs), N - N / 3);
	for (unsigned i = 0; i < N; i++)
		if (i % 3 && i != N - 1)
			CHECK_EQ(pasid_free(gs, hs[i]), 0);
	CHECK_EQ(pasid_set_count(gs), 1);
	CHECK_EQ(g2h(gs, 0xfffff - (N - 1)), hs[N - 1]);
	CHECK_EQ(h2g(gs, hs[N - 1]), 0xfffff - (N - 1));
	CHECK_EQ(g2h(id, h1), h1);

	pasid_set_free(id);
	pasid_set_free(gs);
	pasid_space_free(sp);
}

/* ---- users ------------------------------------------------------------------------ */

static unsigned release_seq;

struct tuser {
	struct pasid_user u;
	struct pasid_set *set, *other;   /* other: another set of the same space */
	uint32_t pasid;                  /* the PASID it was added on */
	unsigned calls;
	unsigned order;                  /* release_seq at the call */
	/* What the callback saw. */
	int check, add, free_again, free_range_again, alloc_same, alloc_other;
	unsigned users_left, count;
	uint32_t g2h_seen, h2g_seen;
	uint32_t gpasid;                 /* guest set: the mapping expected */
	/* Optional extra work in the callback. */
	uint32_t free_other;             /* a PASID of the same set to free */
	int free_other_ret;
	bool unmap_own;
	int unmap_ret;
};

static void tuser_release(struct pasid_user *pu, uint32_t pasid)
{
	struct tuser *t = pu->priv;
	struct pasid_user extra = { .release = tuser_release, .priv = t };
	uint32_t p;

	t->calls++;
	t->order = ++release_seq;
	CHECK_EQ(pasid, t->pasid);
	CHECK(pu->next == NULL);
	t->check = pasid_check(t->set, pasid);
	t->users_left = pasid_user_count(t->set, pasid);
	t->count = pasid_set_count(t->set);
	t->g2h_seen = g2h(t->set, t->gpasid ? t->gpasid : pasid);
	t->h2g_seen = h2g(t->set, pasid);
	t->add = pasid_user_add(t->set, pasid, &extra);
	t->free_again = pasid_free(t->set, pasid);
	t->free_range_again = pasid_free_range(t->set, pasid, pasid);
	t->alloc_same = pasid_alloc(t->set, pasid, pasid, &p);
	t->alloc_other = t->other ? pasid_alloc(t->other, pasid, pasid, &p) : -ENOSPC;
	if (t->free_other)
		t->free_other_ret = pasid_free(t->set, t->free_other);
	if (t->unmap_own)
		t->unmap_ret = pasid_unmap_guest(t->set, t->gpasid);
}

static void tuser_init(struct tuser *t, struct pasid_set *set, struct pasid_set *other,
		       uint32_t pasid)
{
	memset(t, 0, sizeof(*t));
	t->u.release = tuser_release;
	t->u.priv = t;
	t->set = set;
	t->other = other;
	t->pasid = pasid;
}

/* What every release must have seen: still owned, not allocatable anywhere,
 * refusing users and a second free. */
static void check_released_once(const struct tuser *t)
{
	CHECK_EQ(t->calls, 1);
	CHECK_EQ(t->check, 0);
	CHECK_EQ(t->add, -EBUSY);
	CHECK_EQ(t->free_again, -EBUSY);
	CHECK_EQ(t->free_range_again, 0);
	CHECK_EQ(t->alloc_same, -ENOSPC);
	CHECK_EQ(t->alloc_other, -ENOSPC);
}

static void test_users(void)
{
	struct pasid_space *sp = pasid_space_new(10);
	struct pasid_set *s, *o, *g;
	struct tuser t[8];
	uint32_t p, q, r;

	if (!sp || pasid_set_new(sp, 100, PASID_MAP_IDENTITY, &s) ||
	    pasid_set_new(sp, 100, PASID_MAP_IDENTITY, &o) ||
	    pasid_set_new(sp, 100, PASID_MAP_GUEST, &g)) {
		CHECK(0);
		return;
	}

	/* Argument errors. */
	p = must_alloc(s, 1, 1023);
	tuser_init(&t[0], s, o, p);
	CHECK_EQ(pasid_user_add(s, p, NULL), -EINVAL);
	t[0].u.release = NULL;
	CHECK_EQ(pasid_user_add(s, p, &t[0].u), -EINVAL);
	t[0].u.release = tuser_release;
	CHECK_EQ(pasid_user_add(s, p + 1, &t[0].u), -ENOENT);
	CHECK_EQ(pasid_user_add(s, 0, &t[0].u), -ENOENT);
	CHECK_EQ(pasid_user_count(s, p), 0);
	CHECK_EQ(pasid_user_add(s, p, &t[0].u), 0);
	CHECK_EQ(pasid_user_add(s, p, &t[0].u), -EEXIST);
	CHECK_EQ(pasid_user_count(s, p), 1);
	CHECK_EQ(pasid_user_del(o, p, &t[0].u), -ENOENT);
	CHECK_EQ(pasid_user_del(s, p + 1, &t[0].u), -ENOENT);
	CHECK_EQ(pasid_user_count(o, p), 0);
	CHECK_EQ(pasid_user_count(s, p), 1);

	/* Delete: no release. */
	CHECK_EQ(pasid_user_del(s, p, &t[0].u), 0);
	CHECK_EQ(pasid_user_del(s, p, &t[0].u), -ENOENT);
	CHECK_EQ(pasid_user_count(s, p), 0);

	/* pasid_free with three users, one of them deleted first: two releases. */
	release_seq = 0;
	for (int i = 0; i < 3; i++) {
		tuser_init(&t[i], s, o, p);
		CHECK_EQ(pasid_user_add(s, p, &t[i].u), 0);
	}
	CHECK_EQ(pasid_user_count(s, p), 3);
	CHECK_EQ(pasid_user_del(s, p, &t[1].u), 0);
	CHECK_EQ(pasid_free(s, p), 0);
	CHECK_EQ(t[1].calls, 0);
	check_released_once(&t[0]);
	check_released_once(&t[2]);
	CHECK_EQ(t[2].order, 1);          /* the last added goes first */
	CHECK_EQ(t[2].users_left, 1);
	CHECK_EQ(t[0].users_left, 0);
	CHECK_EQ(t[0].count, 1);          /* still counted while dying */
	CHECK_EQ(t[0].g2h_seen, p);       /* still mapped (identity) */
	CHECK_EQ(t[0].h2g_seen, p);
	CHECK_EQ(pasid_check(s, p), -ENOENT);
	CHECK_EQ(pasid_set_count(s), 0);
	CHECK_EQ(pasid_user_del(s, p, &t[0].u), -ENOENT);
	CHECK_EQ(must_alloc(s, p, p), p);  /* free again afterwards */
	CHECK_EQ(pasid_free(s, p), 0);    /* no user left: nothing called */
	CHECK_EQ(t[0].calls, 1);

	/* pasid_free_range: users inside the range released, the one outside not. */
	p = must_alloc(s, 1, 1023);
	q = must_alloc(s, 1, 1023);
	r = must_alloc(s, 1, 1023);
	CHECK_EQ(r, p + 2);
	for (int i = 0; i < 3; i++) {
		tuser_init(&t[i], s, o, p + i);
		CHECK_EQ(pasid_user_add(s, p + i, &t[i].u), 0);
	}
	CHECK_EQ(pasid_free_range(s, 0, q), 2);
	check_released_once(&t[0]);
	check_released_once(&t[1]);
	CHECK_EQ(t[0].order < t[1].order, 1);   /* increasing order */
	CHECK_EQ(t[2].calls, 0);
	CHECK_EQ(pasid_user_count(s, r), 1);
	CHECK_EQ(pasid_free(s, r), 0);
	check_released_once(&t[2]);

	/* pasid_set_free of a guest set: each user once; mappings still there while
	 * users go; the set refuses allocations while it goes. */
	p = must_alloc(g, 1, 1023);
	q = must_alloc(g, 1, 1023);
	CHECK_EQ(pasid_map_guest(g, 0x500, p), 0);
	CHECK_EQ(pasid_map_guest(g, 0x600, q), 0);
	for (int i = 0; i < 4; i++) {
		uint32_t on = i < 2 ? p : q;

		tuser_init(&t[i], g, o, on);
		t[i].gpasid = on == p ? 0x500 : 0x600;
		CHECK_EQ(pasid_user_add(g, on, &t[i].u), 0);
	}
	pasid_set_free(g);
	for (int i = 0; i < 4; i++) {
		check_released_once(&t[i]);
		CHECK_EQ(t[i].g2h_seen, t[i].pasid);
		CHECK_EQ(t[i].h2g_seen, t[i].gpasid);
	}
	CHECK_EQ(next_alloc(o, 1, 1023), 1);   /* both back in the space */
	CHECK_EQ(next_alloc(o, 2, 1023), 2);

	/* A callback may free another PASID of its set and unmap its own guest PASID. */
	if (pasid_set_new(sp, 100, PASID_MAP_GUEST, &g)) {
		CHECK(0);
		return;
	}
	p = must_alloc(g, 1, 1023);
	q = must_alloc(g, 1, 1023);
	CHECK_EQ(pasid_map_guest(g, 0x700, p), 0);
	CHECK_EQ(pasid_map_guest(g, 0x701, q), 0);
	tuser_init(&t[0], g, NULL, p);
	t[0].gpasid = 0x700;
	t[0].free_other = q;
	t[0].unmap_own = true;
	tuser_init(&t[1], g, NULL, q);
	t[1].gpasid = 0x701;
	CHECK_EQ(pasid_user_add(g, p, &t[0].u), 0);
	CHECK_EQ(pasid_user_add(g, q, &t[1].u), 0);
	CHECK_EQ(pasid_free(g, p), 0);
	check_released_once(&t[0]);
	check_released_once(&t[1]);
	CHECK_EQ(t[0].free_other_ret, 0);
	CHECK_EQ(t[0].unmap_ret, 0);
	CHECK_EQ(t[1].order, t[0].order + 1);   /* inside t[0]'s callback */
	CHECK_EQ(pasid_set_count(g), 0);
	CHECK_EQ(g2h(g, 0x700), 0);
	CHECK_EQ(g2h(g, 0x701), 0);
	pasid_set_free(g);

	/* set_free of a set whose callbacks each free the other's PASID: whichever
	 * goes first frees the other, whose callback finds the first dying. */
	if (pasid_set_new(sp, 100, PASID_MAP_IDENTITY, &g)) {
		CHECK(0);
		return;
	}
	p = must_alloc(g, 1, 1023);
	q = must_alloc(g, 1, 1023);
	r = must_alloc(g, 1, 1023);
	tuser_init(&t[0], g, o, r);
	t[0].free_other = p;
	tuser_init(&t[1], g, o, p);
	t[1].free_other = r;
	tuser_init(&t[2], g, o, q);
	CHECK_EQ(pasid_user_add(g, r, &t[0].u), 0);
	CHECK_EQ(pasid_user_add(g, p, &t[1].u), 0);
	CHECK_EQ(pasid_user_add(g, q, &t[2].u), 0);
	pasid_set_free(g);
	for (int i = 0; i < 3; i++)
		check_released_once(&t[i]);
	CHECK((t[0].free_other_ret == 0 && t[1].free_other_ret == -EBUSY) ||
	      (t[1].free_other_ret == 0 && t[0].free_other_ret == -EBUSY));
	CHECK_EQ(next_alloc(o, 1, 1023), 1);

	pasid_set_free(s);
	pasid_set_free(o);
	pasid_space_free(sp);
}

/* ---- concurrency ------------------------------------------------------------------ */

#define C_SLOTS    48
#define C_RANGE    0x3ff           /* both sets allocate in [1, C_RANGE] */
#define C_GOFF     0x10000         /* the guest set maps g = h + C_GOFF */
#define C_USERS    256

/* A user is added again and again; it is free for the next add when every add
 * so far was answered by a successful delete or by a release. */
struct cuser {
	struct pasid_user u;
	_Atomic uint32_t pasid;        /* of the last add */
	_Atomic unsigned released;     /* releases seen */
	unsigned adds, dels;           /* the adder's successful adds and deletes */
};

struct conc {
	struct pasid_set *gs, *is;
	_Atomic uint32_t pub[C_SLOTS];   /* the guest set's PASIDs, for the adder */
	atomic_bool stop;
	struct cuser *users;
	unsigned long adds, lookups_hit;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void cuser_release(struct pasid_user *pu, uint32_t pasid)
{
	struct cuser *c = pu->priv;

	CHECK(pu->next == NULL);
	CHECK_EQ(pasid, atomic_load(&c->pasid));
	atomic_fetch_add(&c->released, 1);   /* last: the adder may reuse it now */
}

static void *churn_guest(void *arg)
{
	struct conc *c = arg;
	uint32_t local[C_SLOTS] = { 0 };
	uint64_t rnd = 0x1234567;

	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		unsigned i = xorshift(&rnd) % C_SLOTS;
		uint32_t h;

		if (!local[i]) {
			/* The quotas (one PASID per slot) leave room in the range. */
			if (pasid_alloc(c->gs, 1, C_RANGE, &h)) {
				CHECK(0);
				continue;
			}
			CHECK_EQ(pasid_map_guest(c->gs, h + C_GOFF, h), 0);
			local[i] = h;
			atomic_store(&c->pub[i], h);
			continue;
		}
		h = local[i];
		switch (xorshift(&rnd) % 8) {
		case 0:
			CHECK_EQ(pasid_unmap_guest(c->gs, h + C_GOFF), 0);
			CHECK_EQ(pasid_map_guest(c->gs, h + C_GOFF, h), 0);
			break;
		case 1:
		case 2:
			atomic_store(&c->pub[i], 0);
			CHECK_EQ(pasid_free_range(c->gs, h, h), 1);
			local[i] = 0;
			break;
		case 3:
		case 4:
			atomic_store(&c->pub[i], 0);
			CHECK_EQ(pasid_free(c->gs, h), 0);
			local[i] = 0;
			break;
		default:
			CHECK_EQ(g2h(c->gs, h + C_GOFF), h);
			break;
		}
	}
	return NULL;
}

static void *churn_identity(void *arg)
{
	struct conc *c = arg;
	uint32_t local[C_SLOTS] = { 0 };
	uint64_t rnd = 0x89abcdef;

	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		unsigned i = xorshift(&rnd) % C_SLOTS;

		if (!local[i]) {
			if (pasid_alloc(c->is, 1, C_RANGE, &local[i])) {
				CHECK(0);
				local[i] = 0;
			}
		} else {
			CHECK_EQ(pasid_check(c->is, local[i]), 0);
			CHECK_EQ(pasid_free(c->is, local[i]), 0);
			local[i] = 0;
		}
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct conc *c = arg;
	uint64_t rnd = 0x5555aaaa;
	unsigned long hits = 0;

	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		uint32_t x = (uint32_t)(xorshift(&rnd) % C_RANGE) + 1, v;

		if (pasid_g2h(c->gs, x + C_GOFF, &v) == 0) {
			CHECK_EQ(v, x);
			hits++;
		}
		if (pasid_h2g(c->gs, x, &v) == 0) {
			CHECK_EQ(v, x + C_GOFF);
			hits++;
		}
		if (pasid_g2h(c->is, x, &v) == 0) {
			CHECK_EQ(v, x);
			hits++;
		}
		if (pasid_h2g(c->is, x, &v) == 0) {
			CHECK_EQ(v, x);
			hits++;
		}
		/* A guest PASID is never a host PASID of the guest set here. */
		CHECK(pasid_g2h(c->gs, x, &v) == -ENOENT);
	}
	c->lookups_hit = hits;
	return NULL;
}

static void *adder(void *arg)
{
	struct conc *c = arg;
	uint64_t rnd = 0x13579bdf;
	unsigned next = 0;

	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		uint32_t h = atomic_load(&c->pub[xorshift(&rnd) % C_SLOTS]);
		struct cuser *u = &c->users[next++ % C_USERS];
		unsigned rel = atomic_load(&u->released);
		int r;

		CHECK(rel <= u->adds - u->dels);
		if (!h || rel != u->adds - u->dels)
			continue;   /* nothing published, or u still registered */
		u->u.release = cuser_release;
		u->u.priv = u;
		atomic_store(&u->pasid, h);
		r = pasid_user_add(c->gs, h, &u->u);
		if (r) {
			/* Freed meanwhile (maybe now the identity set's), or dying. */
			CHECK_MSG(r == -ENOENT || r == -EBUSY, "user_add %d", r);
			continue;
		}
		u->adds++;
		c->adds++;
		if (xorshift(&rnd) % 2) {
			r = pasid_user_del(c->gs, h, &u->u);
			CHECK_MSG(r == 0 || r == -ENOENT, "user_del %d", r);
			u->dels += r == 0;
		}
	}
	return NULL;
}

static void test_concurrent(void)
{
	struct pasid_space *sp = pasid_space_new(16);
	static struct conc c;
	void *(*fn[4])(void *) = { churn_guest, churn_identity, reader, adder };
	pthread_t th[4];
	unsigned long released = 0;

	memset(&c, 0, sizeof(c));
	c.users = calloc(C_USERS, sizeof(*c.users));
	if (!sp || !c.users || pasid_set_new(sp, C_SLOTS, PASID_MAP_GUEST, &c.gs) ||
	    pasid_set_new(sp, C_SLOTS, PASID_MAP_IDENTITY, &c.is)) {
		CHECK(0);
		return;
	}
	for (int i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, fn[i], &c), 0);
	nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000 * 1000 }, NULL);
	atomic_store(&c.stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);

	CHECK(c.lookups_hit > 0);
	CHECK(pasid_set_count(c.gs) <= C_SLOTS);
	pasid_set_free(c.gs);
	pasid_set_free(c.is);
	for (unsigned i = 0; i < C_USERS; i++) {
		struct cuser *u = &c.users[i];
		unsigned rel = atomic_load(&u->released);

		CHECK_MSG(rel == u->adds - u->dels, "user %u: %u adds, %u deletes, %u releases", i,
			  u->adds, u->dels, rel);
		released += rel;
	}
	printf("concurrent: %lu user adds, %lu released by frees, %lu lookup hits\n", c.adds,
	       released, c.lookups_hit);
	CHECK(c.adds > 0);
	free(c.users);
	pasid_space_free(sp);
}

int main(void)
{
	test_space_and_set_args();
	test_alloc_free();
	test_quota_and_sharing();
	test_modes();
	test_users();
	test_concurrent();
	return check_exit();
}
