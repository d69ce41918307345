/* hw/vtd/xlate.c — placeholder: translation, caches and invalidation primitives
 * land here (see vtd_internal.h for the contract). */
#include "hw/vtd/vtd_internal.h"

void vtd_translate(struct vtd *v, const struct dev_txn *t, struct dev_xlate *x)
{
	(void)v;
	(void)t;
	*x = (struct dev_xlate){ .status = DEV_XLATE_FAULT };
}

int vtd_page_request(struct vtd *v, const struct dev_page_req *pr)
{
	(void)v;
	(void)pr;
	return -ENOSPC;
}

unsigned vtd_inv_context(struct vtd *v, bool global, uint16_t sid, unsigned fm)
{
	(void)global; (void)sid; (void)fm;
	return hwc_invalidate_all(v->cc);
}

unsigned vtd_inv_pasid_cache(struct vtd *v, enum vtd_pc_gran g, uint16_t did, uint32_t pasid)
{
	(void)g; (void)did; (void)pasid;
	return hwc_invalidate_all(v->pc);
}

unsigned vtd_inv_iotlb(struct vtd *v, enum vtd_iotlb_gran g, uint16_t did, uint64_t addr,
		       unsigned am, bool ih)
{
	(void)g; (void)did; (void)addr; (void)am; (void)ih;
	return hwc_invalidate_all(v->iotlb);
}

unsigned vtd_inv_piotlb(struct vtd *v, bool page, uint16_t did, uint32_t pasid, uint64_t addr,
			unsigned am, bool ih)
{
	(void)page; (void)did; (void)pasid; (void)addr; (void)am; (void)ih;
	return hwc_invalidate_all(v->iotlb);
}

void vtd_inv_all(struct vtd *v)
{
	hwc_invalidate_all(v->cc);
	hwc_invalidate_all(v->pc);
	hwc_invalidate_all(v->iotlb);
	hwc_invalidate_all(v->fspsc);
	hwc_invalidate_all(v->sspsc);
}
