/* hw/vtd/qi.c — queued invalidation: fetching descriptors from the invalidation
 * queue, checking them as the hardware does, and carrying out their effects.
 *
 * Owns: IQH (advanced here only), IQERCD, and the queue-side part of FSTS (IQE
 * through vtd_fsts_set_locked), ICS.IWC for wait descriptors.
 *
 * Rules (docs/facts/vtd-structures.md §1.12, §4): descriptors run in order from
 * IQH towards IQT while QI is enabled and neither IQE nor ITE stops the queue.
 * IQH moves past a descriptor only once it has completed; an invalid descriptor
 * (or tail, or width, or a fetch that fails) sets FSTS.IQE and IQERCD.IQEI and
 * leaves IQH at it, and nothing after it is fetched until software writes 1 to
 * FSTS.IQE. The queue holds at most N - 1 descriptors (IQT == IQH is empty).
 *
 * Every descriptor completes synchronously: cache invalidations when the
 * xlate.c primitive returns, device-TLB invalidations when the endpoint has
 * dropped its entries and drained the requests that used them, page responses
 * when delivered. So a wait descriptor's fence (FN) and page-request drain (PD)
 * are satisfied on arrival: everything before it has completed, and page
 * requests are written to the PRQ synchronously by the request path.
 *
 * Locking: called with v->lock held. Around a device-TLB invalidation the lock
 * is dropped, because the endpoint waits for its in-flight DMAs and a DMA may
 * be recording a fault (which takes the lock). v->qi_busy keeps a second thread
 * from processing meanwhile (it leaves the new work to the busy one) and
 * v->qi_epoch tells whether QI was disabled or re-enabled during the window.
 */
#include "hw/vtd/vtd_internal.h"

#include <string.h>

#define QI_PAGE_SHIFT 12

struct qi_desc {
	uint64_t qw[4];
	unsigned type;
	bool wide;                      /* 256-bit (IQA.DW = 1) */
};

enum qi_done {
	QI_COMPLETED,                   /* the descriptor completed: IQH moves on */
	QI_ERROR,                       /* IQE was set: IQH stays */
	QI_QUEUE_RESET,                 /* QIE changed while the lock was dropped */
};

static uint64_t queue_bytes(const struct vtd *v)
{
	/* 2^QS pages: 2^(QS+8) 128-bit or 2^(QS+7) 256-bit descriptors. */
	return UINT64_C(4096) << FIELD_GET(IQA_QS, v->iqa);
}

static unsigned desc_bytes(const struct vtd *v)
{
	return (v->iqa & IQA_DW) ? 32 : 16;
}

static void queue_error(struct vtd *v, unsigned iqei)
{
	v->iqercd = (v->iqercd & ~IQERCD_IQEI) | FIELD_PREP(IQERCD_IQEI, iqei);
	vtd_fsts_set_locked(v, FSTS_IQE);
}

/* The translation mode latched by SRTP is one this unit implements. */
static bool ttm_valid(const struct vtd *v, unsigned ttm)
{
	switch (ttm) {
	case TTM_LEGACY:
		return true;
	case TTM_SCALABLE:
		return v->ecap & ECAP_SMTS;
	case TTM_ABORT:
		return v->ecap & ECAP_ADMS;
	default:
		return false;
	}
}

/* Checks of the queue itself, made before each fetch; IQH stays where it is. */
static unsigned check_queue(const struct vtd *v)
{
	unsigned ttm = atomic_load(&v->ttm);

	/* VBOX-C reports TTM 10 as IQEI 7; choice: every TTM the unit does not
	 * implement (10, 11 without ADMS) is treated alike, as translation does
	 * with fault 0x30. ttm is only non-zero once SRTP latched it. */
	if (!ttm_valid(v, ttm))
		return IQEI_TTM;
	/* In scalable mode descriptors are 256 bits wide. */
	if (ttm == TTM_SCALABLE && !(v->iqa & IQA_DW))
		return IQEI_WIDTH;
	if ((v->iqt & ~IQ_PTR) || (v->iqt & IQ_PTR) >= queue_bytes(v))
		return IQEI_TAIL;
	if ((v->iqa & IQA_DW) && (v->iqt & BIT(4)))
		return IQEI_TAIL_ALIGN;
	return IQEI_NONE;
}

static int fetch(struct vtd *v, struct qi_desc *d)
{
	uint64_t pa = (v->iqa & IQA_IQA) + v->iqh;
	struct mem_view view;
	unsigned words;
	int err = 0;

	memset(d, 0, sizeof(*d));
	d->wide = v->iqa & IQA_DW;
	words = d->wide ? 4 : 2;
	mem_view_begin(&view, v->mem);
	for (unsigned i = 0; i < words && !err; i++)
		err = mem_view_load64(&view, pa + 8 * i, &d->qw[i]);
	mem_view_end(&view);
	/* Type = bits 3:0 with bits 11:9 as type[6:4]: 0x205 is not an alias of 5. */
	d->type = (unsigned)(FIELD_GET(QI_TYPE_LO, d->qw[0]) |
			     FIELD_GET(QI_TYPE_HI, d->qw[0]) << 4);
	return err;
}

static bool type_valid(const struct vtd *v, const struct qi_desc *d)
{
	/* After SRTP latched legacy mode only types 1-5 exist. Choice: before any
	 * SRTP the unit accepts all of 1-9, so that a driver may enable QI first. */
	if ((v->gsts & GSTS_RTPS) && atomic_load(&v->ttm) == TTM_LEGACY && d->type > QI_WAIT)
		return false;
	switch (d->type) {
	case QI_CC:
	case QI_IOTLB:
	case QI_WAIT:
	case QI_PGRP_RESP:
		return true;
	case QI_DEV_TLB:
		return v->ecap & ECAP_DT;
	case QI_IEC:
		return v->ecap & ECAP_IR;       /* this unit has no interrupt remapping */
	case QI_PIOTLB:
	case QI_PC:
		return d->wide;                 /* scalable-mode types: 256-bit only (QEMU) */
	case QI_PDEV_TLB:
		return (v->ecap & ECAP_DT) && d->wide;
	default:
		return false;                   /* 0, 10 and above, any type[6:4] */
	}
}

/* Reserved bits of each type in qw0 and qw1 (facts §4.2, OVMM and VBOX-H agree). */
static const uint64_t rsvd_qw0[10] = {
	[QI_CC]        = GENMASK(8, 6) | GENMASK(15, 12) | GENMASK(63, 50),
	[QI_IOTLB]     = BIT(8) | GENMASK(15, 12) | GENMASK(63, 32),
	[QI_DEV_TLB]   = GENMASK(8, 4) | GENMASK(31, 21) | GENMASK(51, 48),
	[QI_IEC]       = GENMASK(8, 5) | GENMASK(26, 12) | GENMASK(63, 48),
	[QI_WAIT]      = BIT(8) | GENMASK(31, 12),
	[QI_PIOTLB]    = GENMASK(8, 6) | GENMASK(15, 12) | GENMASK(63, 52),
	[QI_PC]        = GENMASK(8, 6) | GENMASK(15, 12) | GENMASK(63, 52),
	[QI_PDEV_TLB]  = 0,             /* MIP, PFSID, SID, PASID fill it */
	/* 3.x: bit 5 is PDP (private data present); 4.x made it reserved. */
	[QI_PGRP_RESP] = GENMASK(8, 6) | GENMASK(63, 52),
};

static const uint64_t rsvd_qw1[10] = {
	[QI_CC]        = ~UINT64_C(0),
	[QI_IOTLB]     = GENMASK(11, 7),
	[QI_DEV_TLB]   = GENMASK(11, 1),
	[QI_IEC]       = ~UINT64_C(0),
	[QI_WAIT]      = GENMASK(1, 0),
	[QI_PIOTLB]    = GENMASK(11, 7),
	[QI_PC]        = ~UINT64_C(0),
	[QI_PDEV_TLB]  = GENMASK(10, 1),
	[QI_PGRP_RESP] = GENMASK(1, 0) | GENMASK(63, 12),
};

/* Bits 255:128 are reserved in a 256-bit queue for these types; 0x3 and 0x8
 * are not listed by the sources, 0x9 carries 3.x private data there. */
static bool upper_half_reserved(unsigned type)
{
	switch (type) {
	case QI_CC: case QI_IOTLB: case QI_IEC: case QI_WAIT: case QI_PIOTLB: case QI_PC:
		return true;
	default:
		return false;
	}
}

/* A valid type with a reserved field set or a field value the spec forbids. */
static bool fields_valid(const struct vtd *v, const struct qi_desc *d)
{
	uint64_t qw0 = d->qw[0], qw1 = d->qw[1];
	uint64_t rsvd0 = rsvd_qw0[d->type];
	unsigned g = (unsigned)FIELD_GET(QI_G, qw0);

	if (d->type == QI_WAIT && !(v->ecap & ECAP_PDS))
		rsvd0 |= QI_WAIT_PD;            /* page-request drain needs ECAP.PDS */
	if ((qw0 & rsvd0) || (qw1 & rsvd_qw1[d->type]))
		return false;
	if (d->wide && upper_half_reserved(d->type) && (d->qw[2] || d->qw[3]))
		return false;
	switch (d->type) {
	case QI_CC:
		return g != 0;                  /* 00 is no granularity */
	case QI_IOTLB:
		if (g == 0)
			return false;
		/* Page-selective needs CAP.PSI and an AM within CAP.MAMV; AM is
		 * ignored for the other granularities. */
		if (g == 3 && (!(v->cap & CAP_PSI) ||
			       FIELD_GET(QI_ADDR_AM, qw1) > FIELD_GET(CAP_MAMV, v->cap)))
			return false;
		return true;
	case QI_PIOTLB:
		/* 10 PASID-selective, 11 page-selective. MAMV does not bound AM here
		 * (OVMM citing rev 4.1 §11.4.2; single source). */
		return g >= 2;
	case QI_PC:
		return g != 2;                  /* 00 domain, 01 PASID, 11 global */
	case QI_PGRP_RESP: {
		unsigned rc = (unsigned)FIELD_GET(QI_PGR_RC, qw0);

		return rc == DEV_PRG_SUCCESS || rc == DEV_PRG_INVALID || rc == DEV_PRG_FAILURE;
	}
	default:
		return true;
	}
}

void vtd_devtlb_decode(uint64_t addr, bool s, uint64_t *base, uint64_t *size)
{
	unsigned ones;

	addr &= QI_ADDR;
	if (!s) {
		*base = addr;
		*size = UINT64_C(1) << QI_PAGE_SHIFT;
		return;
	}
	/* S = 1: ADDR's bits from 12 up are 1 up to the lowest 0, which marks the
	 * size: 0 ones gives 8 KiB, each further 1 doubles it. */
	ones = (unsigned)__builtin_ctzll(~(addr >> QI_PAGE_SHIFT));
	if (ones >= 51) {
		/* Bits 62:12 all 1: the whole address space (Linux's "everything"). */
		*base = 0;
		*size = 0;
		return;
	}
	*size = UINT64_C(1) << (QI_PAGE_SHIFT + 1 + ones);
	*base = addr & ~(*size - 1);
}

/* The page-selective range [addr, addr + 2^(12+AM)): AM masks ADDR's low bits. */
static uint64_t masked_addr(uint64_t qw1)
{
	unsigned bits = QI_PAGE_SHIFT + (unsigned)FIELD_GET(QI_ADDR_AM, qw1);

	return bits >= 64 ? 0 : qw1 & QI_ADDR & ~(BIT(bits) - 1);
}

static enum qi_done devtlb_invalidate(struct vtd *v, uint16_t sid, bool pasid_valid,
				      uint32_t pasid, bool global, uint64_t qw1_addr, bool s)
{
	struct dev_ep *ep = vtd_endpoint(v, sid);
	unsigned epoch = v->qi_epoch;
	uint64_t base, size;

	if (!ep)
		return QI_COMPLETED;            /* no such function: nothing cached */
	vtd_devtlb_decode(qw1_addr, s, &base, &size);
	vtd_unlock(v);
	dev_ep_atc_invalidate(ep, pasid_valid, pasid, global, base, size);
	vtd_lock(v);
	return epoch == v->qi_epoch ? QI_COMPLETED : QI_QUEUE_RESET;
}

static enum qi_done wait_descriptor(struct vtd *v, const struct qi_desc *d)
{
	uint64_t qw0 = d->qw[0];

	if (qw0 & QI_WAIT_SW) {
		uint32_t data = (uint32_t)FIELD_GET(QI_WAIT_SDATA, qw0);
		uint8_t le[4] = { (uint8_t)data, (uint8_t)(data >> 8), (uint8_t)(data >> 16),
				   (uint8_t)(data >> 24) };
		struct mem_view view;
		int err;

		mem_view_begin(&view, v->mem);
		err = mem_view_write(&view, d->qw[1] & QI_WAIT_SADDR, le, sizeof(le));
		mem_view_end(&view);
		if (err) {
			/* Choice: a status write that cannot be made stops the queue at
			 * the wait (as OVMM does) with IQEI 2, the code for the unit's
			 * own memory access failing; no interrupt follows. */
			queue_error(v, IQEI_FETCH);
			return QI_ERROR;
		}
	}
	/* The interrupt follows the status write; an IWC already set means it is
	 * still pending, so no new one. */
	if ((qw0 & QI_WAIT_IF) && !(v->ics & ICS_IWC)) {
		v->ics |= ICS_IWC;
		vtd_raise_locked(v, VTD_EVENT_INV_WAIT);
	}
	return QI_COMPLETED;
}

static void page_group_response(struct vtd *v, const struct qi_desc *d)
{
	uint64_t qw0 = d->qw[0];
	struct dev_ep *ep = vtd_endpoint(v, (uint16_t)FIELD_GET(QI_PGR_RID, qw0));
	bool pp = qw0 & QI_PGR_PP;

	/* No such endpoint, or no such group outstanding: the response is lost,
	 * as a PRG response to a function that expects none would be. */
	if (ep)
		dev_ep_page_response(ep, pp, pp ? (uint32_t)FIELD_GET(QI_PASID, qw0) : 0,
				     (uint16_t)FIELD_GET(QI_PGR_PRGI, d->qw[1]),
				     (enum dev_prg_resp)FIELD_GET(QI_PGR_RC, qw0));
}

static enum qi_done execute(struct vtd *v, const struct qi_desc *d)
{
	uint64_t qw0 = d->qw[0], qw1 = d->qw[1];
	unsigned g = (unsigned)FIELD_GET(QI_G, qw0);
	uint16_t did = (uint16_t)FIELD_GET(QI_DID, qw0);
	uint32_t pasid = (uint32_t)FIELD_GET(QI_PASID, qw0);
	unsigned am = (unsigned)FIELD_GET(QI_ADDR_AM, qw1);
	bool ih = qw1 & QI_ADDR_IH;

	switch (d->type) {
	case QI_CC:
		/* Scalable mode ignores DID, so domain-selective acts as global. */
		if (g == 3)
			vtd_inv_context(v, false, (uint16_t)FIELD_GET(QI_CC_SID, qw0),
					(unsigned)FIELD_GET(QI_CC_FM, qw0));
		else
			vtd_inv_context(v, true, 0, 0);
		return QI_COMPLETED;
	case QI_IOTLB:
		if (g == 1)
			vtd_inv_iotlb(v, VTD_IOTLB_GLOBAL, 0, 0, 0, false);
		else if (g == 2)
			vtd_inv_iotlb(v, VTD_IOTLB_DOMAIN, did, 0, 0, false);
		else
			vtd_inv_iotlb(v, VTD_IOTLB_PAGE, did, masked_addr(qw1), am, ih);
		return QI_COMPLETED;
	case QI_DEV_TLB:
		/* Translations of requests without PASID. */
		return devtlb_invalidate(v, (uint16_t)FIELD_GET(QI_DT_SID, qw0), false, 0, false,
					 qw1, qw1 & QI_DT_S);
	case QI_IEC:
		return QI_COMPLETED;            /* unreachable: invalid without ECAP.IR */
	case QI_WAIT:
		/* FN and PD hold already: every earlier descriptor has completed and
		 * page requests reach the PRQ synchronously. */
		return wait_descriptor(v, d);
	case QI_PIOTLB:
		if (g == 2)
			vtd_inv_piotlb(v, false, did, pasid, 0, 0, false);
		else
			vtd_inv_piotlb(v, true, did, pasid, masked_addr(qw1), am, ih);
		return QI_COMPLETED;
	case QI_PC:
		if (g == 0)
			vtd_inv_pasid_cache(v, VTD_PC_DOMAIN, did, 0);
		else if (g == 1)
			vtd_inv_pasid_cache(v, VTD_PC_PASID, did, pasid);
		else
			vtd_inv_pasid_cache(v, VTD_PC_GLOBAL, 0, 0);
		return QI_COMPLETED;
	case QI_PDEV_TLB:
		/* G = 1: every PASID of the function. */
		return devtlb_invalidate(v, (uint16_t)FIELD_GET(QI_PDT_SID, qw0), true, pasid,
					 qw1 & QI_PDT_G, qw1, qw1 & QI_PDT_S);
	case QI_PGRP_RESP:
		page_group_response(v, d);
		return QI_COMPLETED;
	}
	return QI_COMPLETED;
}

void vtd_qi_process_locked(struct vtd *v)
{
	struct qi_desc d;
	unsigned iqei;

	if (v->qi_busy)
		return;                         /* the busy thread will reach the new tail */
	v->qi_busy = true;
	while ((v->gsts & GSTS_QIES) && !(v->fsts & (FSTS_IQE | FSTS_ITE)) && v->iqh != v->iqt) {
		iqei = check_queue(v);
		if (iqei) {
			queue_error(v, iqei);
			break;
		}
		if (fetch(v, &d)) {
			queue_error(v, IQEI_FETCH);
			break;
		}
		if (!type_valid(v, &d)) {
			queue_error(v, IQEI_TYPE);
			break;
		}
		if (!fields_valid(v, &d)) {
			queue_error(v, IQEI_RSVD);
			break;
		}
		switch (execute(v, &d)) {
		case QI_COMPLETED:
			v->iqh = (v->iqh + desc_bytes(v)) % queue_bytes(v);
			atomic_fetch_add(&v->descriptors[d.type], 1);
			break;
		case QI_ERROR:
			goto out;
		case QI_QUEUE_RESET:
			break;                  /* start over from the new queue's IQH */
		}
	}
out:
	v->qi_busy = false;
}
