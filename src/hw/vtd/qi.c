/* hw/vtd/qi.c — placeholder: queued invalidation lands here. */
#include "hw/vtd/vtd_internal.h"

void vtd_qi_process_locked(struct vtd *v)
{
	(void)v;
}
