/* hw/smmuv3/stall.c — stalled transactions (Arm's stall model: SMMUv3 spec 3.12,
 * 4.7, 5.5, 7.2.1; docs/facts/smmuv3-structures.md §5.3, §6.4).
 *
 * Owns: s->stalls (one slot per STAG, STALL_MAX of them), s->stall_seq and
 * s->stall_cond. Callers: xlate.c parks a faulting transaction
 * (smmu_stall_park), the endpoint's DMA thread waits through the port
 * (smmu_stall_wait), cmdq.c answers (RESUME, STALL_TERM), regs.c terminates
 * everything when SMMUEN goes to 0 and wakes queued records when the event queue
 * becomes writable. Locking: every slot under s->lock; waiters sleep on
 * stall_cond (CLOCK_MONOTONIC) with it.
 *
 * A stalled transaction is held outside the SMMU: the translation returns
 * DEV_XLATE_STALLED with the STAG and the slot's sequence number, and the
 * endpoint waits in smmu_stall_wait() after leaving its DMA "use", so a stall
 * never blocks the command queue (an ATC_INV ahead of the RESUME waits for the
 * endpoint's DMAs in flight). The slot stays taken until the endpoint has
 * collected the answer, so the STAG is not reused under a waiter that has not
 * yet woken; software cannot tell (the spec frees the STAG on RESUME, and the
 * transaction's retry is still on its way then).
 *
 * Choices where the spec leaves one: no early retry (3.12.2.2 permits one, none
 * is made); a stall with every STAG in use is terminated as an abort with its
 * record written without Stall (as an implementation treating that stall
 * configuration as terminate); a stall record that cannot be written keeps its
 * transaction stalled with no visible STAG until the queue is writable, then
 * retries it (7.2.1: "retried and re-recorded").
 */
#include "hw/smmuv3/smmuv3_internal.h"

#include <errno.h>
#include <time.h>

int smmu_stall_park(struct smmu *s, struct smmu_event *e, struct dev_xlate *x)
{
	struct smmu_stall *st = NULL;
	unsigned stag;
	int ret;

	smmu_lock(s);
	for (stag = 0; stag < s->nstalls; stag++)
		if (s->stalls[stag].state == STALL_FREE) {
			st = &s->stalls[stag];
			break;
		}
	if (!st) {
		smmu_unlock(s);
		return -EBUSY;
	}
	e->stall = true;
	e->stag = (uint16_t)stag;
	ret = smmu_event_locked(s, e);
	st->state = ret == -EAGAIN ? STALL_QUEUED : STALL_STALLED;
	st->sid = e->sid;
	st->seq = ++s->stall_seq;
	st->answer = DEV_STALL_ABORT;
	x->status = DEV_XLATE_STALLED;
	x->fault_reason = e->id;
	x->stag = (uint16_t)stag;
	x->stall_seq = st->seq;
	atomic_fetch_add_explicit(&s->stall_count, 1, memory_order_relaxed);
	smmu_unlock(s);
	return 0;
}

static void deadline_after(struct timespec *ts, uint64_t ns)
{
	const uint64_t max_ns = (uint64_t)1 << 62;

	clock_gettime(CLOCK_MONOTONIC, ts);
	if (ns > max_ns)
		ns = max_ns;
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}

enum dev_stall_answer smmu_stall_wait(struct smmu *s, const struct dev_xlate *x,
				      uint64_t timeout_ns)
{
	struct timespec deadline;
	struct smmu_stall *st;
	enum dev_stall_answer a;

	if (x->status != DEV_XLATE_STALLED || x->stag >= s->nstalls)
		return DEV_STALL_ABORT;
	if (timeout_ns)
		deadline_after(&deadline, timeout_ns);
	smmu_lock(s);
	st = &s->stalls[x->stag];
	while (st->seq == x->stall_seq && st->state != STALL_ANSWERED) {
		if (st->state != STALL_STALLED && st->state != STALL_QUEUED)
			break;                  /* not ours any more: cannot happen */
		if (!timeout_ns) {
			pthread_cond_wait(&s->stall_cond, &s->lock);
		} else if (pthread_cond_timedwait(&s->stall_cond, &s->lock, &deadline) ==
			   ETIMEDOUT && st->seq == x->stall_seq && st->state != STALL_ANSWERED) {
			/* A visible STAG still needs software's RESUME or STALL_TERM;
			 * a queued one was never seen. */
			st->state = st->state == STALL_STALLED ? STALL_ABANDONED : STALL_FREE;
			smmu_unlock(s);
			return DEV_STALL_TIMEOUT;
		}
	}
	if (st->seq != x->stall_seq || st->state != STALL_ANSWERED) {
		smmu_unlock(s);
		return DEV_STALL_ABORT;
	}
	a = st->answer;
	st->state = STALL_FREE;
	smmu_unlock(s);
	return a;
}

static void answer_locked(struct smmu *s, struct smmu_stall *st, enum dev_stall_answer a)
{
	if (st->state == STALL_ABANDONED) {
		st->state = STALL_FREE;         /* nobody waits: the STAG is free now */
		return;
	}
	st->state = STALL_ANSWERED;
	st->answer = a;
	pthread_cond_broadcast(&s->stall_cond);
}

int smmu_stall_resume_locked(struct smmu *s, uint32_t sid, uint16_t stag,
			     enum dev_stall_answer a)
{
	struct smmu_stall *st;

	if (stag >= s->nstalls)
		return -EINVAL;
	st = &s->stalls[stag];
	/* Only a STAG software has seen in a record names a stalled transaction. */
	if ((st->state != STALL_STALLED && st->state != STALL_ABANDONED) || st->sid != sid)
		return -EINVAL;
	if (a == DEV_STALL_RAZ_WI && s->cfg.term_model)
		a = DEV_STALL_ABORT;            /* TERM_MODEL = 1: Ab is ignored */
	answer_locked(s, st, a);
	return 0;
}

unsigned smmu_stall_term_locked(struct smmu *s, uint32_t sid)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nstalls; i++) {
		struct smmu_stall *st = &s->stalls[i];

		if (st->sid != sid || (st->state != STALL_STALLED && st->state != STALL_QUEUED &&
				       st->state != STALL_ABANDONED))
			continue;
		answer_locked(s, st, DEV_STALL_ABORT);
		n++;
	}
	return n;
}

void smmu_stall_term_all_locked(struct smmu *s)
{
	for (unsigned i = 0; i < s->nstalls; i++) {
		struct smmu_stall *st = &s->stalls[i];

		if (st->state == STALL_STALLED || st->state == STALL_QUEUED ||
		    st->state == STALL_ABANDONED)
			answer_locked(s, st, DEV_STALL_ABORT);
	}
}

void smmu_stall_wake_locked(struct smmu *s)
{
	bool any = false;

	if (!s->nstalls || !smmu_eventq_writable_locked(s))
		return;
	for (unsigned i = 0; i < s->nstalls; i++)
		if (s->stalls[i].state == STALL_QUEUED) {
			s->stalls[i].state = STALL_ANSWERED;
			s->stalls[i].answer = DEV_STALL_RETRY;
			any = true;
		}
	if (any)
		pthread_cond_broadcast(&s->stall_cond);
}
