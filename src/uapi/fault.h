/* uapi/fault.h — a fault channel: the file descriptor through which user space
 * reads faults and page requests (struct iommu_fault records, seed 002) and
 * writes page responses (struct iommu_page_response).
 *
 * Owns: a bounded ring of records, the page-request groups delivered through it
 * and not yet answered (to route a response back to its device), and an eventfd
 * that polls readable while records are pending. The eventfd is the real file
 * descriptor behind the channel (a program polls it); reads and writes go
 * through fault_chan_read / fault_chan_write, which the /dev/vfio and
 * /dev/iommu emulation maps read(2) and write(2) on that descriptor to.
 *
 * Semantics (what read/write on the descriptor do):
 *   read:  len a multiple of sizeof(struct iommu_fault) (64), else -EINVAL;
 *          copies as many whole records as fit, oldest first; 0 when empty;
 *          never blocks.
 *   write: len a multiple of sizeof(struct iommu_page_response) (24), else
 *          -EINVAL; each response: argsz >= 24, version 1, flags only
 *          PASID_VALID, code SUCCESS / INVALID / FAILURE, and an outstanding
 *          group with that grpid (and that PASID if the request needs it back),
 *          else -EINVAL. Stops at the first bad response: returns the bytes of
 *          the responses taken, or -errno if the first was bad.
 *   full:  a record that does not fit is dropped and counted (overflow); a
 *          dropped page request is answered Invalid by the core, so the device
 *          never waits for a response that cannot come.
 *
 * Concurrency: one mutex per channel; pushes come from interrupt context (a
 * DMA thread), reads and writes from the user's threads.
 */
#ifndef VSVA_UAPI_FAULT_H
#define VSVA_UAPI_FAULT_H

#include <stdint.h>
#include <sys/types.h>

#include "iommu/iommu.h"

struct fault_chan;

struct fault_chan_stats {
	uint64_t queued, read, overflow, responses, bad_responses;
	unsigned pending, outstanding;
};

/* depth: records the ring holds (>= 1). -EINVAL, -ENOMEM, or -errno from eventfd. */
int fault_chan_new(unsigned depth, struct fault_chan **out);
void fault_chan_free(struct fault_chan *ch);
int fault_chan_fd(const struct fault_chan *ch);

/* The core's fault handler (iommu_fault_fn) with ctx = the channel. */
int fault_chan_push(void *ctx, struct iommu_device *dev, const struct iommu_fault *f);

ssize_t fault_chan_read(struct fault_chan *ch, void *buf, size_t len);
ssize_t fault_chan_write(struct fault_chan *ch, const void *buf, size_t len);

/* A device leaves: its undelivered records and outstanding groups are dropped
 * (the core answers the groups when it detaches). */
void fault_chan_forget(struct fault_chan *ch, struct iommu_device *dev);

void fault_chan_get_stats(struct fault_chan *ch, struct fault_chan_stats *st);

#endif
