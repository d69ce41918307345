/* hw/vtd/prq.c — placeholder: the page request queue lands here. */
#include "hw/vtd/vtd_internal.h"

int vtd_prq_write_locked(struct vtd *v, const struct dev_page_req *pr)
{
	(void)v;
	(void)pr;
	return -ENOSPC;
}
