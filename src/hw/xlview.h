/* hw/xlview.h — what the IOMMU models' translation paths share for reading their
 * structures (hw/vtd/xlate.c, hw/smmuv3/xlate.c): a mem/ view opened on the
 * first read of a request and closed when it is done, and the trace a CLI
 * oracle gets of every structure word and page-table reference.
 *
 * Callers own both structs (on their stack, per request); nothing here locks.
 */
#ifndef VSVA_HW_XLVIEW_H
#define VSVA_HW_XLVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/mem.h"
#include "pgtable/pgtable.h"

/* Every word read: what ("ste[0]", "pasid-entry[1]", "page-table"...), where,
 * its value, and the walker's step for page-table references (else NULL). */
struct xtrace {
	void (*step)(void *ctx, const char *what, uint64_t pa, uint64_t val,
		     const struct pgt_step *pgs);
	void *ctx;
};

/* A view opened lazily: requests answered from caches never open one. */
struct xview {
	struct mem_view v;
	bool open;
};

static inline struct mem_view *xview_get(struct xview *xv, struct mem_space *ms)
{
	if (!xv->open) {
		mem_view_begin(&xv->v, ms);
		xv->open = true;
	}
	return &xv->v;
}

static inline void xview_end(struct xview *xv)
{
	if (xv->open)
		mem_view_end(&xv->v);
	xv->open = false;
}

/* One 64-bit structure word, traced when tr is set; false if not memory. */
static inline bool xview_load(struct xview *xv, struct mem_space *ms, const struct xtrace *tr,
			      uint64_t pa, uint64_t *val, const char *what)
{
	if (mem_view_load64(xview_get(xv, ms), pa, val))
		return false;
	if (tr)
		tr->step(tr->ctx, what, pa, *val, NULL);
	return true;
}

/* A struct pgt_trace step function forwarding to the xtrace in ctx. */
static inline void xtrace_pg_step(void *ctx, const struct pgt_step *st)
{
	const struct xtrace *tr = ctx;

	tr->step(tr->ctx, "page-table", st->pa, st->value, st);
}

#endif
