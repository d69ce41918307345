/* mem/mem.c — regions and accessors of the physical address space (see mem.h). */
#include "mem/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

__thread struct mem_hint mem_last_hint;

/* Old maps wait in s->retired for a grace period; adds batch them, removes flush them. */
/* Frees retired maps; the caller has waited for a grace period since they retired. */
static void free_retired(struct mem_space *s)
{
	for (unsigned i = 0; i < s->nretired; i++)
		free(s->retired[i]);
	s->nretired = 0;
}

static struct mem_map *map_alloc(unsigned n)
{
	struct mem_map *m = malloc(sizeof(*m) + (size_t)n * sizeof(struct mem_region));

	if (m)
		m->n = n;
	return m;
}

struct mem_space *mem_space_new(void)
{
	struct mem_space *s = calloc(1, sizeof(*s));

	if (!s)
		goto fail;
	s->map = map_alloc(0);
	if (!s->map)
		goto fail_space;
	pthread_mutex_init(&s->lock, NULL);
	return s;

fail_space:
	free(s);
fail:
	errno = ENOMEM;
	return NULL;
}

static void region_release(const struct mem_region *r)
{
	if (r->owned)
		munmap(r->host, r->size);
}

void mem_space_free(struct mem_space *s)
{
	struct mem_map *m;

	if (!s)
		return;
	m = atomic_load(&s->map);
	for (unsigned i = 0; i < m->n; i++)
		region_release(&m->r[i]);
	free(m);
	free_retired(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const struct mem_region *mem_map_find(const struct mem_map *m, uint64_t pa)
{
	unsigned lo = 0, hi = m->n;

	/* The last region whose base is <= pa, if pa falls inside it. */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (m->r[mid].base <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (pa - m->r[lo - 1].base >= m->r[lo - 1].size)
		return NULL;
	return &m->r[lo - 1];
}

static int add_region(struct mem_space *s, const struct mem_region *nr)
{
	struct mem_map *old, *m;
	unsigned pos;

	if (nr->size == 0 || nr->base + nr->size - 1 < nr->base)
		return -EINVAL;
	if (!nr->prot || (nr->prot & ~MEM_RW))
		return -EINVAL;
	if (((uintptr_t)nr->host ^ nr->base) & 7)
		return -EINVAL;

	pthread_mutex_lock(&s->lock);
	old = atomic_load_explicit(&s->map, memory_order_relaxed);
	for (pos = 0; pos < old->n && old->r[pos].base < nr->base; pos++)
		;
	/* Overlap with the neighbour below or above? */
	if ((pos > 0 && old->r[pos - 1].base + (old->r[pos - 1].size - 1) >= nr->base) ||
	    (pos < old->n && nr->base + (nr->size - 1) >= old->r[pos].base)) {
		pthread_mutex_unlock(&s->lock);
		return -EEXIST;
	}
	m = map_alloc(old->n + 1);
	if (!m) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	memcpy(m->r, old->r, pos * sizeof(m->r[0]));
	m->r[pos] = *nr;
	memcpy(m->r + pos + 1, old->r + pos, (old->n - pos) * sizeof(m->r[0]));
	rcu_publish(s->map, m);
	/* Readers of the old map see a subset of the new one; only the array itself
	 * must outlive them, so old arrays are freed a batch at a time. */
	s->retired[s->nretired++] = old;
	if (s->nretired == MEM_RETIRE_BATCH) {
		rcu_synchronize();
		free_retired(s);
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int mem_add(struct mem_space *s, uint64_t base, uint64_t size, void *host, unsigned prot)
{
	struct mem_region r = { .base = base, .size = size, .host = host, .prot = prot };

	if (!host)
		return -EINVAL;
	return add_region(s, &r);
}

int mem_add_anon(struct mem_space *s, uint64_t base, uint64_t size, unsigned prot, void **host)
{
	struct mem_region r = { .base = base, .size = size, .prot = prot, .owned = true };
	void *p;
	int ret;

	if (size == 0 || size > SIZE_MAX || (base & 7))
		return -EINVAL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	r.host = p;
	ret = add_region(s, &r);
	if (ret) {
		munmap(p, size);
		return ret;
	}
	if (host)
		*host = p;
	return 0;
}

int mem_remove(struct mem_space *s, uint64_t base)
{
	struct mem_map *old, *m;
	struct mem_region gone;
	unsigned pos;

	pthread_mutex_lock(&s->lock);
	old = atomic_load_explicit(&s->map, memory_order_relaxed);
	for (pos = 0; pos < old->n && old->r[pos].base != base; pos++)
		;
	if (pos == old->n) {
		pthread_mutex_unlock(&s->lock);
		return -ENOENT;
	}
	m = map_alloc(old->n - 1);
	if (!m) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	gone = old->r[pos];
	memcpy(m->r, old->r, pos * sizeof(m->r[0]));
	memcpy(m->r + pos, old->r + pos + 1, (old->n - pos - 1) * sizeof(m->r[0]));
	rcu_publish(s->map, m);
	rcu_synchronize();     /* no access can still reach the region's memory */
	free(old);
	free_retired(s);
	pthread_mutex_unlock(&s->lock);
	region_release(&gone);
	return 0;
}

unsigned mem_region_count(struct mem_space *s)
{
	unsigned n;

	rcu_read_lock();
	n = rcu_dereference(s->map)->n;
	rcu_read_unlock();
	return n;
}

int mem_region_get(struct mem_space *s, unsigned i, struct mem_region *out)
{
	const struct mem_map *m;
	int ret = -ENOENT;

	rcu_read_lock();
	m = rcu_dereference(s->map);
	if (i < m->n) {
		*out = m->r[i];
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}

/*
 * Copies with relaxed atomic word accesses where both sides are aligned, so a
 * device copy racing with a CPU store is a defined (if torn per word) outcome, as
 * it is on hardware, and not a C data race.
 */
static void copy_words(uint8_t *dst, const uint8_t *src, uint64_t len)
{
	while (len && (((uintptr_t)dst | (uintptr_t)src) & 7)) {
		__atomic_store_n(dst++, __atomic_load_n(src++, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
		len--;
	}
	if (!(((uintptr_t)dst ^ (uintptr_t)src) & 7)) {
		for (; len >= 8; len -= 8, dst += 8, src += 8)
			__atomic_store_n((uint64_t *)dst,
					 __atomic_load_n((const uint64_t *)src, __ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
	}
	while (len--)
		__atomic_store_n(dst++, __atomic_load_n(src++, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

int mem_view_read(struct mem_view *v, uint64_t pa, void *buf, uint64_t len)
{
	int err = -EFAULT;
	uint8_t *p;

	if (!len)
		return 0;
	p = mem_view_ptr(v, pa, len, MEM_READ, &err);
	if (!p)
		return err;
	copy_words(buf, p, len);
	return 0;
}

int mem_view_write(struct mem_view *v, uint64_t pa, const void *buf, uint64_t len)
{
	int err = -EFAULT;
	uint8_t *p;

	if (!len)
		return 0;
	p = mem_view_ptr(v, pa, len, MEM_WRITE, &err);
	if (!p)
		return err;
	copy_words(p, buf, len);
	return 0;
}

int mem_view_fill(struct mem_view *v, uint64_t pa, int byte, uint64_t len)
{
	int err = -EFAULT;
	uint8_t *p;
	uint64_t word = 0x0101010101010101ull * (uint8_t)byte;

	if (!len)
		return 0;
	p = mem_view_ptr(v, pa, len, MEM_WRITE, &err);
	if (!p)
		return err;
	while (len && ((uintptr_t)p & 7)) {
		__atomic_store_n(p++, (uint8_t)byte, __ATOMIC_RELAXED);
		len--;
	}
	for (; len >= 8; len -= 8, p += 8)
		__atomic_store_n((uint64_t *)p, word, __ATOMIC_RELAXED);
	while (len--)
		__atomic_store_n(p++, (uint8_t)byte, __ATOMIC_RELAXED);
	return 0;
}

#define ONE_SHOT(call)                          \
	do {                                    \
		struct mem_view v;              \
		int ret;                        \
		mem_view_begin(&v, s);          \
		ret = call;                     \
		mem_view_end(&v);               \
		return ret;                     \
	} while (0)

int mem_load64(struct mem_space *s, uint64_t pa, uint64_t *val)
{
	ONE_SHOT(mem_view_load64(&v, pa, val));
}

int mem_store64(struct mem_space *s, uint64_t pa, uint64_t val)
{
	ONE_SHOT(mem_view_store64(&v, pa, val));
}

int mem_cas64(struct mem_space *s, uint64_t pa, uint64_t *expected, uint64_t desired)
{
	ONE_SHOT(mem_view_cas64(&v, pa, expected, desired));
}

int mem_read(struct mem_space *s, uint64_t pa, void *buf, uint64_t len)
{
	ONE_SHOT(mem_view_read(&v, pa, buf, len));
}

int mem_write(struct mem_space *s, uint64_t pa, const void *buf, uint64_t len)
{
	ONE_SHOT(mem_view_write(&v, pa, buf, len));
}

int mem_fill(struct mem_space *s, uint64_t pa, int byte, uint64_t len)
{
	ONE_SHOT(mem_view_fill(&v, pa, byte, len));
}
