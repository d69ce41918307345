/* mem/mem.h — the physical address space.
 *
 * Owns: regions, each a physical range [base, base + size) backed by host memory
 * with read and/or write permission, and (frames.c) pools of table frames.
 * Callers: every hardware model, endpoint and table builder; nothing else may
 * turn a physical address into a host pointer.
 *
 * Isolation: an access is served only if it lies wholly inside one region that
 * permits it; otherwise it is refused (-EFAULT: no such memory, -EACCES: region
 * forbids it) and the caller turns that into the hardware's own fault.
 *
 * Concurrency: any number of threads may access a space while one thread at a
 * time adds or removes regions (writers serialise on the space's mutex). The
 * region map is an immutable sorted array published by RCU (util/rcu.h):
 *   - mem_add() is visible to accesses that start after it returns;
 *   - mem_remove() unpublishes the region and then waits for every access that
 *     could still see it, so when it returns no thread touches that host memory
 *     and the caller may free it. Do not call mem_remove() from inside a view.
 * A view (mem_view_begin/end) is one read-side section: inside it the map cannot
 * change under the caller, and the view remembers its last region so that a walk
 * that stays in one region pays one range check per access.
 *
 * Data: 64-bit loads and stores are single atomic (relaxed) accesses of
 * little-endian words; mem_view_cas64() is an atomic compare-exchange (hardware
 * A/D and AF updates use it); bulk copies are atomic per aligned word only.
 */
#ifndef VSVA_MEM_H
#define VSVA_MEM_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bits.h"
#include "util/rcu.h"

#define MEM_READ   1u
#define MEM_WRITE  2u
#define MEM_RW     (MEM_READ | MEM_WRITE)

struct mem_region {
	uint64_t base;
	uint64_t size;
	uint8_t *host;
	unsigned prot;       /* MEM_READ | MEM_WRITE */
	bool owned;          /* host memory allocated by mem_add_anon(), freed on removal */
};

/* An immutable snapshot of the regions, sorted by base, never overlapping. */
struct mem_map {
	unsigned n;
	struct mem_region r[];
};

#define MEM_RETIRE_BATCH 8

/* The space. Its fields belong to mem.c; they are here so that views open inline. */
struct mem_space {
	struct mem_map *_Atomic map;
	pthread_mutex_t lock;            /* serialises writers */
	struct mem_map *retired[MEM_RETIRE_BATCH];   /* old maps awaiting a grace period */
	unsigned nretired;
};

struct mem_view {
	const struct mem_map *map;
	const struct mem_region *hit;    /* last region used, inside map */
};

/*
 * Where this thread's last view ended: a hint for the next view's first access.
 * It is only a hint, checked against the current map (index in range, address in
 * the region) before use, so a stale or reused map pointer costs a lookup, never
 * a wrong answer.
 */
struct mem_hint {
	const struct mem_map *map;
	unsigned idx;
};
extern __thread struct mem_hint mem_last_hint;

/* Returns NULL (errno ENOMEM) on allocation failure. */
struct mem_space *mem_space_new(void);
/* Frees the space and the memory of its anonymous regions; no thread may use it. */
void mem_space_free(struct mem_space *s);

/*
 * Adds a region backed by caller memory. -EINVAL: size 0, the range wraps past
 * 2^64, prot has unknown bits or neither permission, or host and base differ in
 * their low 3 bits (64-bit words must be host-aligned); -EEXIST: overlaps a
 * region; -ENOMEM.
 */
int mem_add(struct mem_space *s, uint64_t base, uint64_t size, void *host, unsigned prot);
/* As mem_add(), backed by new zeroed memory that the space owns. */
int mem_add_anon(struct mem_space *s, uint64_t base, uint64_t size, unsigned prot, void **host);
/* Removes the region that starts at base (-ENOENT if none); see the RCU rule above. */
int mem_remove(struct mem_space *s, uint64_t base);
/* The number of regions, and a copy of region i (0 = lowest); -ENOENT past the end. */
unsigned mem_region_count(struct mem_space *s);
int mem_region_get(struct mem_space *s, unsigned i, struct mem_region *out);

static inline void mem_view_begin(struct mem_view *v, struct mem_space *s)
{
	rcu_read_lock();
	v->map = rcu_dereference(s->map);
	v->hit = mem_last_hint.map == v->map && mem_last_hint.idx < v->map->n
			 ? &v->map->r[mem_last_hint.idx] : NULL;
}

static inline void mem_view_end(struct mem_view *v)
{
	if (v->hit) {
		mem_last_hint.map = v->map;
		mem_last_hint.idx = (unsigned)(v->hit - v->map->r);
	}
	v->map = NULL;
	v->hit = NULL;
	rcu_read_unlock();
}

const struct mem_region *mem_map_find(const struct mem_map *m, uint64_t pa);

/*
 * The host address of [pa, pa + len) if it lies wholly inside one region that
 * allows prot; else NULL with *err = -EFAULT or -EACCES. len must be non-zero.
 */
static inline void *mem_view_ptr(struct mem_view *v, uint64_t pa, uint64_t len, unsigned prot,
				 int *err)
{
	const struct mem_region *r = v->hit;
	uint64_t off;

	if (unlikely(!r || pa - r->base >= r->size)) {
		r = mem_map_find(v->map, pa);
		if (!r) {
			*err = -EFAULT;
			return NULL;
		}
		v->hit = r;
	}
	off = pa - r->base;
	if (unlikely(len > r->size - off)) {
		*err = -EFAULT;
		return NULL;
	}
	if (unlikely((r->prot & prot) != prot)) {
		*err = -EACCES;
		return NULL;
	}
	return r->host + off;
}

/* Aligned 64-bit little-endian accesses: -EINVAL if pa is not 8-byte aligned. */
static inline int mem_view_load64(struct mem_view *v, uint64_t pa, uint64_t *val)
{
	int err = -EFAULT;
	uint64_t *p;

	if (unlikely(pa & 7))
		return -EINVAL;
	p = mem_view_ptr(v, pa, 8, MEM_READ, &err);
	if (unlikely(!p))
		return err;
	*val = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return 0;
}

static inline int mem_view_store64(struct mem_view *v, uint64_t pa, uint64_t val)
{
	int err = -EFAULT;
	uint64_t *p;

	if (unlikely(pa & 7))
		return -EINVAL;
	p = mem_view_ptr(v, pa, 8, MEM_WRITE, &err);
	if (unlikely(!p))
		return err;
	__atomic_store_n(p, val, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Atomically replaces *expected with desired at pa. 0 on success; -EAGAIN if the
 * word held something else (now in *expected); -EFAULT/-EACCES/-EINVAL as above.
 * The region must allow both read and write.
 */
static inline int mem_view_cas64(struct mem_view *v, uint64_t pa, uint64_t *expected,
				 uint64_t desired)
{
	int err = -EFAULT;
	uint64_t *p;

	if (unlikely(pa & 7))
		return -EINVAL;
	p = mem_view_ptr(v, pa, 8, MEM_RW, &err);
	if (unlikely(!p))
		return err;
	if (__atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return 0;
	return -EAGAIN;
}

/* Bulk copies; the whole range must lie in one region. len 0 is a no-op. */
int mem_view_read(struct mem_view *v, uint64_t pa, void *buf, uint64_t len);
int mem_view_write(struct mem_view *v, uint64_t pa, const void *buf, uint64_t len);
int mem_view_fill(struct mem_view *v, uint64_t pa, int byte, uint64_t len);

/* One-shot forms that open and close their own view. */
int mem_load64(struct mem_space *s, uint64_t pa, uint64_t *val);
int mem_store64(struct mem_space *s, uint64_t pa, uint64_t val);
int mem_cas64(struct mem_space *s, uint64_t pa, uint64_t *expected, uint64_t desired);
int mem_read(struct mem_space *s, uint64_t pa, void *buf, uint64_t len);
int mem_write(struct mem_space *s, uint64_t pa, const void *buf, uint64_t len);
int mem_fill(struct mem_space *s, uint64_t pa, int byte, uint64_t len);

/*
 * Frame pools: page-table memory carved out of a range that lies in one
 * writable region of a space. Frames are 4 KiB; a request is a power-of-two
 * size of at least 4 KiB, aligned to its size, and comes back zeroed. Pools
 * take their own mutex; they are for table builders, not for hot paths.
 */
struct mem_frames;

#define MEM_FRAME_SIZE 4096u

/* -EINVAL: base/size not 4 KiB multiples or size 0; -EFAULT: range not inside one
 * writable region. Returns NULL with errno set. */
struct mem_frames *mem_frames_new(struct mem_space *s, uint64_t base, uint64_t size);
void mem_frames_free_pool(struct mem_frames *f);
struct mem_space *mem_frames_space(const struct mem_frames *f);
/* -EINVAL: size not a power of two >= 4 KiB; -ENOMEM: no aligned free run. */
int mem_frames_alloc(struct mem_frames *f, uint64_t size, uint64_t *pa);
/* -EINVAL: [pa, pa + size) is not exactly an allocated block of this pool. */
int mem_frames_free(struct mem_frames *f, uint64_t pa, uint64_t size);
/* Frames (4 KiB) currently allocated. */
uint64_t mem_frames_used(const struct mem_frames *f);

#endif
