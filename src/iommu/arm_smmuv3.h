/* iommu/arm_smmuv3.h — the host driver for an Arm SMMUv3 (hw/smmuv3), behind the
 * core's struct iommu_ops.
 *
 * Owns: the SMMU's stream table (linear, or two-level with SPLIT 8 and level-2
 * tables allocated when a device of their span arrives), the command, event and
 * PRI queues in host memory, one host CD per first-stage domain, the VMID and
 * ASID allocators, and the StreamID -> device map the interrupt handlers use.
 * Everything it builds comes from unit->pool; the SMMU is programmed only through
 * smmu_read/smmu_write and memory, as a kernel driver programs the hardware.
 *
 * What each domain becomes in the STE (docs/facts/smmuv3-structures.md §2):
 *   paging (stage 2)           Config 0b110: S2VMID, VTCR fields of d->fmt, S2TTB
 *   paging FIRST_STAGE         Config 0b101: one host CD (S1CDMax 0) with the
 *                              domain's ASID, and the domain's own S2VMID
 *   nested over a NEST_PARENT  Config 0b111: the guest's CD table (an IPA) and its
 *                              S1Fmt/S1CDMax/S1DSS/S1STALLD, the parent's stage 2
 *                              and VMID
 * Stage-1-only TLB entries are tagged with STE.S2VMID too (spec 3.17), and the
 * leaves pgtable/ builds are global (nG = 0), which match any ASID of their VMID:
 * so each first-stage domain has a VMID of its own as well as an ASID. VMID 0 and
 * ASID 0 are never handed out; both are allocated lowest free first, from 1.
 *
 * Locking (all driver mutexes are leaves below the core's unit->lock):
 *   attach_lock   the per-domain lists of attached devices and nested children,
 *                 the lazily written host CDs; taken by attach/detach, domain
 *                 init/fini, flush_range and cache_invalidate. Order:
 *                 unit->lock -> attach_lock -> cmdq_lock.
 *   cmdq_lock     the command queue: inserting commands, writing CMDQ_PROD, the
 *                 CMD_SYNC and the wait for CMDQ_CONS to pass it, recovery from
 *                 CMDQ_ERR. Held across the whole batch.
 *   evtq_lock, priq_lock   consumption of the event and PRI queues: copying the
 *                 records out and moving CONS (with the overflow acknowledgement).
 *                 Released before any record is reported.
 *   dev_lock      the StreamID -> device map and the outstanding stall table.
 * The SMMU calls its interrupt callback from smmu_unlock(), on the thread that
 * raised it: a DMA thread (a fault, a stall, a page request), or a driver thread
 * inside an MMIO access (a global error). No driver mutex is ever held while
 * iommu_report_fault() runs. An interrupt that arrives on a thread holding a driver mutex is only marked
 * pending and is serviced by that thread when it releases its last driver mutex,
 * so a handler never waits for a lock its own thread holds. A command issued from
 * interrupt context (a page response the core sends when nobody takes a request,
 * or a fault handler answering at once) never waits for cmdq_lock: if another
 * thread holds it, the command is queued and that thread issues it before it
 * lets the lock go. (The holder may be waiting in an ATC invalidation for the
 * very DMA that is servicing the interrupt: waiting there would deadlock.)
 * A fault handler must not remove the device whose fault it is handling (release
 * waits for the handlers using a device), and should not wait for work that
 * needs an ATC invalidation of its own device.
 *
 * Errnos: probe -ENODEV when the SMMU lacks AArch64 tables, stage 2 or the 4K
 * granule (vsva's nesting needs stage 2), -ENOMEM, -ETIMEDOUT when an
 * acknowledgement (CR0ACK, GBPA.Update) never comes; probe_device -ERANGE for a
 * StreamID beyond the stream table, -EEXIST for a taken one; domain_init
 * -EOPNOTSUPP for a stage the SMMU lacks, -ENOSPC when VMIDs or ASIDs run out,
 * -EINVAL for a nested configuration the STE could not hold (see arm_smmuv3.c);
 * attach_dev_pasid -EOPNOTSUPP; cache_invalidate -EINVAL / -ERANGE per entry.
 */
#ifndef VSVA_IOMMU_ARM_SMMUV3_H
#define VSVA_IOMMU_ARM_SMMUV3_H

#include "hw/smmuv3/smmuv3.h"
#include "iommu/iommu.h"

/*
 * Probes and enables the SMMU hw (registers at reset, as smmu_new leaves them):
 * reads IDR0-5, IIDR, AIDR, allocates its tables and queues from pool (frames of
 * the space mem, which must also be the SMMU's memory), programs and enables them,
 * installs its interrupt callback and invalidates every cache. *out is the new
 * unit (iommu_unit_free disables the SMMU and frees everything). The SMMU must
 * outlive the unit.
 */
int arm_smmu_probe(struct smmu *hw, struct mem_space *mem, struct mem_frames *pool,
		   struct iommu_unit **out);

/* Counters of what the driver saw, for tests. */
struct arm_smmu_stats {
	uint64_t events, events_unknown_sid, event_overflows;
	uint64_t pri_requests, pri_unknown_sid, pri_overflows, pri_stop_markers;
	uint64_t stalls;
	uint64_t cmdq_errors, cmds_deferred;
	uint64_t gerrors;
};
void arm_smmu_get_stats(struct iommu_unit *u, struct arm_smmu_stats *st);

#endif
