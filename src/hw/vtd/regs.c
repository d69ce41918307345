/* hw/vtd/regs.c — placeholder: the register file lands here. */
#include "hw/vtd/vtd_internal.h"

uint64_t vtd_read(struct vtd *v, uint32_t off, unsigned size)
{
	(void)v; (void)off; (void)size;
	return 0;
}

void vtd_write(struct vtd *v, uint32_t off, unsigned size, uint64_t val)
{
	(void)v; (void)off; (void)size; (void)val;
}

bool vtd_fault_qualified(uint8_t reason)
{
	return reason >= 0x41;
}

void vtd_record_fault(struct vtd *v, const struct vtd_fault *f)
{
	atomic_fetch_add(&v->faults[f->reason], 1);
}

void vtd_fsts_set_locked(struct vtd *v, uint32_t bits)
{
	v->fsts |= bits;
}

void vtd_raise_locked(struct vtd *v, enum vtd_event ev)
{
	v->pending_events |= 1u << ev;
}
