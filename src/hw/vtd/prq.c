/* hw/vtd/prq.c — the page request queue: the hardware as producer of page
 * request descriptors.
 *
 * Owns: PQT (advanced here only; read-only to software in this model) and the
 * setting of PRS.PPR and PRS.PRO. Software consumes by moving PQH and clears
 * PPR/PRO through regs.c.
 *
 * Rules (docs/facts/vtd-structures.md §1.13, §5): the queue is 2^PQS pages of
 * 32-byte descriptors and is full when (PQT + 32) mod size == PQH, so it holds
 * at most N - 1 requests. A request that finds it full sets PRO, raises the
 * page-request event and is dropped; while PRO is set every request is dropped
 * with no event. Answering a dropped request that needed a response is the
 * caller's business (the request path, which knows the endpoint).
 *
 * Locking: the caller holds v->lock.
 */
#include "hw/vtd/vtd_internal.h"

#define PRQ_DESC_BYTES 32

static void put_le64(uint8_t *p, uint64_t val)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(val >> (8 * i));
}

int vtd_prq_write_locked(struct vtd *v, const struct dev_page_req *pr)
{
	uint64_t size = UINT64_C(4096) << FIELD_GET(PQA_PQS, v->pqa);
	uint8_t desc[PRQ_DESC_BYTES] = { 0 };
	uint64_t qw0, qw1;
	bool quiet;
	int err;

	if (v->prs & PRS_PRO) {
		/* Dropped with no fault and no event until software clears PRO. */
		atomic_fetch_add(&v->prq_overflow, 1);
		return -ENOSPC;
	}
	if ((v->pqt + PRQ_DESC_BYTES) % size == v->pqh) {
		v->prs |= PRS_PRO;
		vtd_raise_locked(v, VTD_EVENT_PAGE_REQUEST);
		atomic_fetch_add(&v->prq_overflow, 1);
		return -ENOSPC;
	}
	/* PASID, execute and privilege travel in the PASID prefix: without one
	 * there are none to report. PDP and the private data (3.x) stay 0. */
	qw0 = FIELD_PREP(PRQ_TYPE, 1) | FIELD_PREP(PRQ_RID, pr->rid);
	if (pr->pasid_valid)
		qw0 |= PRQ_PP | FIELD_PREP(PRQ_PASID, pr->pasid) |
		       (pr->exec ? PRQ_EXE : 0) | (pr->priv ? PRQ_PRIV : 0);
	qw1 = (pr->read ? PRQ_R : 0) | (pr->write ? PRQ_W : 0) | (pr->last ? PRQ_LPIG : 0) |
	      FIELD_PREP(PRQ_PRGI, pr->prgi) | (pr->addr & PRQ_ADDR);
	put_le64(desc, qw0);
	put_le64(desc + 8, qw1);
	/* One copy inside one region: all of the descriptor lands, or none. */
	err = mem_write(v->mem, (v->pqa & PQA_PQA) + v->pqt, desc, sizeof(desc));
	if (err) {
		/* Choice (no source): a queue that is not writable memory drops the
		 * request with no PQT, PRS or event change, and the caller gets the
		 * memory error (not -ENOSPC: nobody will answer the group). It is
		 * no overflow and counts as neither. */
		return err;
	}
	v->pqt = (v->pqt + PRQ_DESC_BYTES) % size;
	/* PPR for every request, and an event only if neither PPR nor PRO was set
	 * before (QEMU citing §7.5). An older datasheet sets PPR only for
	 * last-in-group requests; the 3.x text is not in the facts. */
	quiet = v->prs & (PRS_PPR | PRS_PRO);
	v->prs |= PRS_PPR;
	if (!quiet)
		vtd_raise_locked(v, VTD_EVENT_PAGE_REQUEST);
	atomic_fetch_add(&v->page_requests, 1);
	return 0;
}
