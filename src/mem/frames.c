/* mem/frames.c — pools of page-table frames inside a region (see mem.h). */
#include "mem/mem.h"

#include <pthread.h>
#include <stdlib.h>

struct mem_frames {
	struct mem_space *space;
	uint64_t base;
	uint64_t nframes;
	uint64_t used;
	uint64_t hint;           /* where the last search for a single frame ended */
	pthread_mutex_t lock;
	uint64_t *busy;          /* one bit per frame */
	uint8_t *order;          /* log2(frames) of the block that starts here, 0xff if none */
};

#define NO_BLOCK 0xff

static bool frame_busy(const struct mem_frames *f, uint64_t i)
{
	return f->busy[i / 64] & BIT(i % 64);
}

static void mark(struct mem_frames *f, uint64_t first, uint64_t n, bool busy)
{
	for (uint64_t i = first; i < first + n; i++) {
		if (busy)
			f->busy[i / 64] |= BIT(i % 64);
		else
			f->busy[i / 64] &= ~BIT(i % 64);
	}
}

struct mem_frames *mem_frames_new(struct mem_space *s, uint64_t base, uint64_t size)
{
	struct mem_frames *f;
	struct mem_view v;
	int err = 0;

	if (!size || (base | size) % MEM_FRAME_SIZE || base + size - 1 < base) {
		errno = EINVAL;
		return NULL;
	}
	mem_view_begin(&v, s);
	if (!mem_view_ptr(&v, base, size, MEM_RW, &err))
		err = -EFAULT;
	mem_view_end(&v);
	if (err) {
		errno = EFAULT;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		goto nomem;
	f->space = s;
	f->base = base;
	f->nframes = size / MEM_FRAME_SIZE;
	f->busy = calloc((f->nframes + 63) / 64, sizeof(uint64_t));
	f->order = malloc(f->nframes);
	if (!f->busy || !f->order)
		goto nomem_pool;
	for (uint64_t i = 0; i < f->nframes; i++)
		f->order[i] = NO_BLOCK;
	pthread_mutex_init(&f->lock, NULL);
	return f;

nomem_pool:
	free(f->busy);
	free(f->order);
	free(f);
nomem:
	errno = ENOMEM;
	return NULL;
}

void mem_frames_free_pool(struct mem_frames *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f->busy);
	free(f->order);
	free(f);
}

struct mem_space *mem_frames_space(const struct mem_frames *f)
{
	return f->space;
}

uint64_t mem_frames_used(const struct mem_frames *f)
{
	return __atomic_load_n(&f->used, __ATOMIC_RELAXED);
}

/* First run of n free frames at an n-aligned physical address, from frame `from`. */
static bool find_run(const struct mem_frames *f, uint64_t n, uint64_t from, uint64_t to,
		     uint64_t *first)
{
	uint64_t align = n;          /* in frames; physical alignment = n * 4 KiB */
	uint64_t base_frame = f->base / MEM_FRAME_SIZE;
	uint64_t i = from;

	/* Round i up so that (base_frame + i) is a multiple of align. */
	i += (align - (base_frame + i) % align) % align;
	while (i + n <= to) {
		uint64_t j;

		for (j = 0; j < n && !frame_busy(f, i + j); j++)
			;
		if (j == n) {
			*first = i;
			return true;
		}
		i += align;
	}
	return false;
}

int mem_frames_alloc(struct mem_frames *f, uint64_t size, uint64_t *pa)
{
	uint64_t n, first;
	bool found;
	int ret;

	if (size < MEM_FRAME_SIZE || !is_pow2_u64(size))
		return -EINVAL;
	n = size / MEM_FRAME_SIZE;
	pthread_mutex_lock(&f->lock);
	found = find_run(f, n, f->hint, f->nframes, &first) ||
		find_run(f, n, 0, f->nframes, &first);
	if (!found) {
		pthread_mutex_unlock(&f->lock);
		return -ENOMEM;
	}
	mark(f, first, n, true);
	f->order[first] = (uint8_t)__builtin_ctzll(n);
	f->hint = first + n;
	__atomic_store_n(&f->used, f->used + n, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&f->lock);

	*pa = f->base + first * MEM_FRAME_SIZE;
	ret = mem_fill(f->space, *pa, 0, size);
	if (ret) {              /* the region went away under the pool: give it back */
		mem_frames_free(f, *pa, size);
		return ret;
	}
	return 0;
}

int mem_frames_free(struct mem_frames *f, uint64_t pa, uint64_t size)
{
	uint64_t first, n;

	if (pa < f->base || (pa - f->base) % MEM_FRAME_SIZE || size < MEM_FRAME_SIZE ||
	    !is_pow2_u64(size))
		return -EINVAL;
	first = (pa - f->base) / MEM_FRAME_SIZE;
	n = size / MEM_FRAME_SIZE;
	pthread_mutex_lock(&f->lock);
	if (first >= f->nframes || f->order[first] != __builtin_ctzll(n)) {
		pthread_mutex_unlock(&f->lock);
		return -EINVAL;
	}
	f->order[first] = NO_BLOCK;
	mark(f, first, n, false);
	__atomic_store_n(&f->used, f->used - n, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&f->lock);
	return 0;
}
