/* iommu/iopt.c — IOVA areas, pinned user memory, and the domains they fill. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "iommu/iopt.h"

#define IOPT_PAGE 4096u

/* An extent of user memory registered in mem/ at PA = VA. Extents never
 * overlap; a pin increments every extent it touches and creates extents for its
 * gaps, an unpin of the same range decrements the same extents, so pins and
 * unpins of equal ranges always balance. */
struct iopt_pin {
	uint64_t start, end;        /* [start, end) */
	unsigned refs;
	struct iopt_pin *next;      /* sorted by start */
};

int iopt_init(struct iopt *io, struct mem_space *mem)
{
	memset(io, 0, sizeof(*io));
	io->mem = mem;
	pthread_mutex_init(&io->lock, NULL);
	return 0;
}

/* ---- pinning ------------------------------------------------------------------ */

static void unpin(struct iopt *io, uint64_t start, uint64_t end)
{
	struct iopt_pin **pp = &io->pins;

	while (*pp) {
		struct iopt_pin *p = *pp;

		if (p->end > start && p->start < end && --p->refs == 0) {
			mem_remove(io->mem, p->start);
			*pp = p->next;
			free(p);
			continue;
		}
		pp = &p->next;
	}
}

static int pin(struct iopt *io, uint64_t start, uint64_t end)
{
	struct iopt_pin **pp = &io->pins;
	uint64_t at = start;
	int ret = 0;

	/* The process must have memory there (the kernel would fail to pin it). */
	if (msync((void *)(uintptr_t)start, end - start, MS_ASYNC))
		return -EFAULT;
	while (at < end) {
		struct iopt_pin *p = *pp;

		if (p && p->end <= at) {
			pp = &p->next;
			continue;
		}
		if (p && p->start <= at) {
			/* An extent covers at: count this pin in it. */
			p->refs++;
			at = p->end;
			pp = &p->next;
			continue;
		}
		/* A gap [at, min(end, next start)). */
		uint64_t gap_end = p && p->start < end ? p->start : end;
		struct iopt_pin *n = calloc(1, sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
			break;
		}
		ret = mem_add(io->mem, at, gap_end - at, (void *)(uintptr_t)at, MEM_RW);
		if (ret) {
			/* Someone else's region is there: not user memory we may pin. */
			free(n);
			ret = ret == -EEXIST ? -EFAULT : ret;
			break;
		}
		n->start = at;
		n->end = gap_end;
		n->refs = 1;
		n->next = p;
		*pp = n;
		pp = &n->next;
		at = gap_end;
	}
	if (ret && at > start)
		unpin(io, start, at);
	return ret;
}

/* ---- areas -------------------------------------------------------------------- */

static bool range_ok(uint64_t a, uint64_t len)
{
	return len && !(a & (IOPT_PAGE - 1)) && !(len & (IOPT_PAGE - 1)) && a + len - 1 >= a;
}

/* Index of the first area whose end is above iova. */
static unsigned first_above(const struct iopt *io, uint64_t iova)
{
	unsigned lo = 0, hi = io->nareas;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct iopt_area *a = &io->areas[mid];

		if (a->iova + a->length - 1 < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int map_into(struct iommu_domain *d, const struct iopt_area *a)
{
	return iommu_map(d, a->iova, a->uaddr, a->length, a->prot);
}

static void unmap_from(struct iommu_domain *d, const struct iopt_area *a)
{
	iommu_unmap(d, a->iova, a->length, NULL);
}

int iopt_map(struct iopt *io, uint64_t iova, uint64_t uaddr, uint64_t length, unsigned prot)
{
	struct iopt_area area = { iova, length, uaddr, prot };
	unsigned i, at;
	int ret;

	if (!range_ok(iova, length) || !range_ok(uaddr, length) ||
	    !(prot & (PGT_PROT_R | PGT_PROT_W)) || (prot & ~(PGT_PROT_R | PGT_PROT_W)))
		return -EINVAL;
	pthread_mutex_lock(&io->lock);
	at = first_above(io, iova);
	if (at < io->nareas && io->areas[at].iova <= iova + length - 1) {
		ret = -EEXIST;
		goto out;
	}
	if (io->max_areas && io->nareas >= io->max_areas) {
		ret = -ENOSPC;
		goto out;
	}
	if (io->nareas == io->cap) {
		unsigned cap = io->cap ? io->cap * 2 : 16;
		struct iopt_area *n = realloc(io->areas, cap * sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		io->areas = n;
		io->cap = cap;
	}
	ret = pin(io, uaddr, uaddr + length);
	if (ret)
		goto out;
	for (i = 0; i < io->ndomains; i++) {
		ret = map_into(io->domains[i], &area);
		if (ret) {
			while (i--)
				unmap_from(io->domains[i], &area);
			unpin(io, uaddr, uaddr + length);
			goto out;
		}
	}
	memmove(&io->areas[at + 1], &io->areas[at], (io->nareas - at) * sizeof(area));
	io->areas[at] = area;
	io->nareas++;
out:
	pthread_mutex_unlock(&io->lock);
	return ret;
}

static void area_remove(struct iopt *io, unsigned idx)
{
	struct iopt_area a = io->areas[idx];

	for (unsigned i = 0; i < io->ndomains; i++)
		unmap_from(io->domains[i], &a);
	unpin(io, a.uaddr, a.uaddr + a.length);
	memmove(&io->areas[idx], &io->areas[idx + 1], (io->nareas - idx - 1) * sizeof(a));
	io->nareas--;
}

int iopt_unmap(struct iopt *io, uint64_t iova, uint64_t length, uint64_t *unmapped)
{
	uint64_t last = iova + length - 1, done = 0;
	unsigned first, end;
	int ret = 0;

	if (unmapped)
		*unmapped = 0;
	if (!range_ok(iova, length))
		return -EINVAL;
	pthread_mutex_lock(&io->lock);
	first = first_above(io, iova);
	end = first;
	while (end < io->nareas && io->areas[end].iova <= last)
		end++;
	/* Whole areas only: check both ends before touching anything. */
	if (end > first && (io->areas[first].iova < iova ||
			    io->areas[end - 1].iova + io->areas[end - 1].length - 1 > last)) {
		ret = -EINVAL;
		goto out;
	}
	while (end > first) {
		done += io->areas[--end].length;
		area_remove(io, end);
	}
	if (unmapped)
		*unmapped = done;
out:
	pthread_mutex_unlock(&io->lock);
	return ret;
}

int iopt_unmap_all(struct iopt *io, uint64_t *unmapped)
{
	uint64_t done = 0;

	pthread_mutex_lock(&io->lock);
	while (io->nareas) {
		done += io->areas[io->nareas - 1].length;
		area_remove(io, io->nareas - 1);
	}
	pthread_mutex_unlock(&io->lock);
	if (unmapped)
		*unmapped = done;
	return 0;
}

void iopt_destroy(struct iopt *io)
{
	iopt_unmap_all(io, NULL);
	pthread_mutex_lock(&io->lock);
	io->ndomains = 0;
	pthread_mutex_unlock(&io->lock);
	free(io->areas);
	io->areas = NULL;
	io->nareas = io->cap = 0;
	pthread_mutex_destroy(&io->lock);
}

int iopt_add_domain(struct iopt *io, struct iommu_domain *d)
{
	unsigned i;
	int ret = 0;

	if (d->type != IOMMU_DOMAIN_PAGING)
		return -EINVAL;
	pthread_mutex_lock(&io->lock);
	for (i = 0; i < io->ndomains; i++) {
		if (io->domains[i] == d) {
			ret = -EEXIST;
			goto out;
		}
	}
	if (io->ndomains == IOPT_MAX_DOMAINS) {
		ret = -ENOSPC;
		goto out;
	}
	for (i = 0; i < io->nareas; i++) {
		ret = map_into(d, &io->areas[i]);
		if (ret) {
			while (i--)
				unmap_from(d, &io->areas[i]);
			goto out;
		}
	}
	io->domains[io->ndomains++] = d;
out:
	pthread_mutex_unlock(&io->lock);
	return ret;
}

int iopt_remove_domain(struct iopt *io, struct iommu_domain *d)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&io->lock);
	for (unsigned i = 0; i < io->ndomains; i++) {
		if (io->domains[i] != d)
			continue;
		for (unsigned j = 0; j < io->nareas; j++)
			unmap_from(d, &io->areas[j]);
		io->domains[i] = io->domains[--io->ndomains];
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&io->lock);
	return ret;
}

int iopt_find(struct iopt *io, uint64_t iova, struct iopt_area *out)
{
	unsigned i;
	int ret = -ENOENT;

	pthread_mutex_lock(&io->lock);
	i = first_above(io, iova);
	if (i < io->nareas && io->areas[i].iova <= iova) {
		*out = io->areas[i];
		ret = 0;
	}
	pthread_mutex_unlock(&io->lock);
	return ret;
}
