/* iommu/intel.h — the host driver for an Intel VT-d unit in scalable mode.
 *
 * Owns: everything the unit reads from host memory on the driver's behalf (the
 * root table, scalable-mode context tables, per-device PASID directories and
 * PASID tables, the invalidation queue and its status word, the page request
 * queue), the domain-ID space (a bitmap of CAP.ND's size), and a RID -> device
 * map for the interrupt handlers. It programs the model only as a kernel driver
 * programs hardware: registers through vtd_read/vtd_write, memory through mem/,
 * all of it allocated from the unit's frame pool.
 *
 * What the hardware is told, per core operation (facts: docs/facts/
 * vtd-structures.md; shared/reference/vtd.md):
 *   probe       VER/CAP/ECAP (scalable mode and QI required, else -ENODEV);
 *               RTADDR (TTM 01) + SRTP; IQA (256-bit descriptors) + QIE; global
 *               context-cache, PASID-cache and IOTLB invalidation through the
 *               queue; fault events unmasked; the page request queue when
 *               ECAP.PRS; TE. Each GCMD write follows the GSTS handshake.
 *   device      root entry and scalable-mode context entry (PASID directory of
 *               min(unit, device) PASID width; DTE with ATS, PRE with PRI, PASIDE
 *               with PASIDs; RID_PASID 0). PASID, ATS and PRI are enabled on the
 *               endpoint as the kernel enables them when the device joins.
 *   attach      scalable-mode PASID entries: PGTT 2 (second stage), 1 (first
 *               stage), 3 (nested: the guest's table GPA over the parent's second
 *               stage, the parent's DID and AW).
 *   invalidate  descriptors on the queue, one wait descriptor (status write to
 *               host memory, polled) per batch.
 *
 * Locking (the driver's own mutexes; the core's unit->lock is held around every
 * control operation except page_response, so it also guards the tables, the
 * domain-ID bitmap and the nested-children lists):
 *   qi_lock     the invalidation queue: the software tail, the status sequence,
 *               and submit + wait as one step. Held while the unit processes
 *               descriptors, which for a device-TLB invalidation waits for the
 *               endpoint's DMAs in flight; so nothing that a DMA thread runs in
 *               an interrupt (fault_lock, prq_lock, rid_lock, a fault handler)
 *               may wait for qi_lock while holding what such a DMA waits for.
 *   fault_lock  consumption of the fault recording registers and FSTS.
 *   prq_lock    consumption of the page request queue (PQH, PRS).
 *   rid_lock    the RID -> device map; a handler takes a reference on the device
 *               under it and drops the lock at once; release_device waits for
 *               references to go.
 * Order: unit->lock, then qi_lock; fault_lock, prq_lock and rid_lock are leaves
 * (rid_lock may be taken under fault_lock / prq_lock). None of the driver's
 * mutexes is held while calling iommu_report_fault(), and the page requests the
 * driver answers itself are answered after prq_lock is released. Interrupt
 * callbacks arrive on the thread that caused the event (a DMA thread, or the
 * thread whose queue write raised IQE), outside the model's lock. A fault
 * handler installed with iommu_device_set_fault_handler() runs in that context:
 * it must not wait for an invalidation of its own device's translations
 * (iommu_unmap, iommu_cache_invalidate, attach/detach), since the device-TLB
 * invalidation waits for the DMA that is running the handler, nor for
 * unit->lock (release_device, under it, waits for the handlers in flight for
 * its device). iommu_page_response() is fine: it takes neither.
 */
#ifndef VSVA_IOMMU_INTEL_H
#define VSVA_IOMMU_INTEL_H

#include <stdint.h>

#include "hw/vtd/vtd.h"
#include "iommu/iommu.h"

/*
 * Takes over the unit hw (a fresh one: translation off, nothing programmed) whose
 * structures live in mem, allocating them from pool, and creates the core's unit
 * (iommu_unit_new). -ENODEV: no scalable mode (ECAP.SMTS) or no queued
 * invalidation (ECAP.QI); -ENOMEM; -ETIMEDOUT / -EIO: the unit did not complete a
 * command. iommu_unit_free() disables the unit and frees everything.
 */
int intel_iommu_probe(struct vtd *hw, struct mem_space *mem, struct mem_frames *pool,
		      struct iommu_unit **out);

/* What the interrupt handlers and the queue saw (for tests and the CLI). */
struct intel_iommu_stats {
	uint64_t faults;            /* fault records read and cleared */
	uint64_t faults_unknown;    /* ... of a source ID that is no device: dropped */
	uint64_t fault_overflows;   /* FSTS.PFO seen (and cleared) */
	uint64_t page_requests;     /* page request descriptors consumed */
	uint64_t prq_unknown;       /* ... of a RID that is no device (answered Invalid) */
	uint64_t prq_stop_markers;  /* ... stop markers (no response due) */
	uint64_t prq_overflows;     /* PRS.PRO seen (and cleared) */
	uint64_t qi_batches;        /* wait descriptors submitted */
	uint64_t qi_errors;         /* IQE / ITE recovered from */
};
void intel_iommu_get_stats(struct iommu_unit *u, struct intel_iommu_stats *st);

#endif
