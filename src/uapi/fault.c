/* uapi/fault.c — the fault channel (see fault.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "uapi/fault.h"

struct chan_record {
	struct iommu_device *dev;
	struct iommu_fault f;
};

/* A page-request group delivered and not answered yet. */
struct chan_group {
	struct iommu_device *dev;   /* NULL: free slot */
	bool needs_pasid;
	uint32_t pasid, grpid;
	uint64_t seq;
};

struct fault_chan {
	pthread_mutex_t lock;
	int efd;
	struct chan_record *ring;
	unsigned depth, head, count;
	struct chan_group *groups;
	unsigned ngroups;
	uint64_t seq;
	struct fault_chan_stats st;
};

int fault_chan_new(unsigned depth, struct fault_chan **out)
{
	struct fault_chan *ch;

	if (!depth || depth > (1u << 20))
		return -EINVAL;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->depth = depth;
	/* Every request in the ring may be a group, and as many again may have been
	 * read and wait for their responses. */
	ch->ngroups = depth < 32 ? 64 : 2 * depth;
	ch->ring = calloc(depth, sizeof(*ch->ring));
	ch->groups = calloc(ch->ngroups, sizeof(*ch->groups));
	ch->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!ch->ring || !ch->groups || ch->efd < 0) {
		int ret = ch->efd < 0 ? -errno : -ENOMEM;

		if (ch->efd >= 0)
			close(ch->efd);
		free(ch->ring);
		free(ch->groups);
		free(ch);
		return ret;
	}
	pthread_mutex_init(&ch->lock, NULL);
	*out = ch;
	return 0;
}

void fault_chan_free(struct fault_chan *ch)
{
	if (!ch)
		return;
	close(ch->efd);
	pthread_mutex_destroy(&ch->lock);
	free(ch->ring);
	free(ch->groups);
	free(ch);
}

int fault_chan_fd(const struct fault_chan *ch)
{
	return ch->efd;
}

/* The eventfd's counter is non-zero exactly while records are pending. */
static void readiness(struct fault_chan *ch, bool was_empty)
{
	uint64_t v = 1;

	if (was_empty && ch->count) {
		if (write(ch->efd, &v, sizeof(v)) != sizeof(v))
			abort();        /* an eventfd write of 1 cannot fail below 2^64 - 1 */
	} else if (!was_empty && !ch->count) {
		if (read(ch->efd, &v, sizeof(v)) != sizeof(v))
			abort();
	}
}

int fault_chan_push(void *ctx, struct iommu_device *dev, const struct iommu_fault *f)
{
	struct fault_chan *ch = ctx;
	bool group = f->type == IOMMU_FAULT_PAGE_REQ &&
		     (f->prm.flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE);
	struct chan_group *slot = NULL;
	bool was_empty;

	pthread_mutex_lock(&ch->lock);
	if (ch->count == ch->depth)
		goto overflow;
	if (group) {
		for (unsigned i = 0; i < ch->ngroups && !slot; i++)
			if (!ch->groups[i].dev)
				slot = &ch->groups[i];
		if (!slot)
			goto overflow;
		slot->dev = dev;
		slot->needs_pasid = f->prm.flags & IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;
		slot->pasid = f->prm.pasid;
		slot->grpid = f->prm.grpid;
		slot->seq = ++ch->seq;
		ch->st.outstanding++;
	}
	was_empty = ch->count == 0;
	ch->ring[(ch->head + ch->count) % ch->depth] = (struct chan_record){ dev, *f };
	ch->count++;
	ch->st.queued++;
	readiness(ch, was_empty);
	pthread_mutex_unlock(&ch->lock);
	return 0;
overflow:
	ch->st.overflow++;
	pthread_mutex_unlock(&ch->lock);
	return -ENOSPC;
}

ssize_t fault_chan_read(struct fault_chan *ch, void *buf, size_t len)
{
	const size_t rec = sizeof(struct iommu_fault);
	size_t n = 0;
	bool was_empty;

	if (len % rec)
		return -EINVAL;
	pthread_mutex_lock(&ch->lock);
	was_empty = ch->count == 0;
	while (ch->count && (n + 1) * rec <= len) {
		memcpy((char *)buf + n * rec, &ch->ring[ch->head].f, rec);
		ch->head = (ch->head + 1) % ch->depth;
		ch->count--;
		n++;
	}
	ch->st.read += n;
	readiness(ch, was_empty);
	pthread_mutex_unlock(&ch->lock);
	return (ssize_t)(n * rec);
}

/* The oldest outstanding group a response answers. */
static struct chan_group *group_for(struct fault_chan *ch, const struct iommu_page_response *r)
{
	bool has_pasid = r->flags & IOMMU_PAGE_RESP_PASID_VALID;
	struct chan_group *best = NULL;

	for (unsigned i = 0; i < ch->ngroups; i++) {
		struct chan_group *g = &ch->groups[i];

		if (!g->dev || g->grpid != r->grpid)
			continue;
		/* A request that needs its PASID back is answered only with it; a
		 * PASID on a response that needs none is ignored. */
		if (g->needs_pasid && (!has_pasid || g->pasid != r->pasid))
			continue;
		if (!best || g->seq < best->seq)
			best = g;
	}
	return best;
}

ssize_t fault_chan_write(struct fault_chan *ch, const void *buf, size_t len)
{
	const size_t rec = sizeof(struct iommu_page_response);
	size_t done = 0;
	int err = 0;

	if (len % rec || !len)
		return -EINVAL;
	for (; done < len; done += rec) {
		struct iommu_page_response r;
		struct chan_group g, *slot;

		memcpy(&r, (const char *)buf + done, rec);
		if (r.argsz < rec || r.version != IOMMU_PAGE_RESP_VERSION_1 ||
		    (r.flags & ~IOMMU_PAGE_RESP_PASID_VALID) || r.code > IOMMU_PAGE_RESP_FAILURE) {
			err = -EINVAL;
			break;
		}
		pthread_mutex_lock(&ch->lock);
		slot = group_for(ch, &r);
		if (slot) {
			g = *slot;
			slot->dev = NULL;
			ch->st.outstanding--;
		}
		pthread_mutex_unlock(&ch->lock);
		if (!slot) {
			err = -EINVAL;
			break;
		}
		/* -EINVAL here: the core answered it already (the bind went away). */
		err = iommu_page_response(g.dev, g.needs_pasid, g.pasid, g.grpid, r.code);
		if (err)
			break;
		pthread_mutex_lock(&ch->lock);
		ch->st.responses++;
		pthread_mutex_unlock(&ch->lock);
	}
	if (err) {
		pthread_mutex_lock(&ch->lock);
		ch->st.bad_responses++;
		pthread_mutex_unlock(&ch->lock);
	}
	return done ? (ssize_t)done : err;
}

void fault_chan_forget(struct fault_chan *ch, struct iommu_device *dev)
{
	unsigned kept = 0;
	bool was_empty;

	pthread_mutex_lock(&ch->lock);
	was_empty = ch->count == 0;
	for (unsigned i = 0; i < ch->count; i++) {
		struct chan_record r = ch->ring[(ch->head + i) % ch->depth];

		if (r.dev != dev)
			ch->ring[(ch->head + kept++) % ch->depth] = r;
	}
	ch->count = kept;
	for (unsigned i = 0; i < ch->ngroups; i++) {
		if (ch->groups[i].dev == dev) {
			ch->groups[i].dev = NULL;
			ch->st.outstanding--;
		}
	}
	readiness(ch, was_empty);
	pthread_mutex_unlock(&ch->lock);
}

void fault_chan_get_stats(struct fault_chan *ch, struct fault_chan_stats *st)
{
	pthread_mutex_lock(&ch->lock);
	*st = ch->st;
	st->pending = ch->count;
	pthread_mutex_unlock(&ch->lock);
}
