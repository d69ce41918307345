/* iommu/iopt.h — the io_pagetable: IOVA -> user memory areas, kept once and
 * mapped into every paging domain that uses it.
 *
 * Owns: the sorted areas of one IOVA space (VFIO type1 container, iommufd IOAS),
 * the list of paging domains filled from it, and the pinning of user memory: in
 * vsva a user buffer becomes host physical memory at PA = its virtual address
 * (mem_add on the unit's space), refcounted per extent so that the same buffer
 * may be mapped at several IOVAs.
 *
 * Rules (the errnos are VFIO type1's, iommufd's are close):
 *   - iova, uaddr and length aligned to 4 KiB, length > 0, no wrap: else -EINVAL;
 *   - an area overlapping an existing one: -EEXIST;
 *   - memory that is not mapped in the process (msync says ENOMEM): -EFAULT;
 *   - unmap covers whole areas only: a range that cuts an area: -EINVAL
 *     (type1 v2's "bisect" rule); holes are fine; *unmapped says how much.
 *   - a domain added later gets every existing area; adding fails as a whole.
 * Nothing changes on error.
 *
 * Concurrency: one mutex per iopt; it is taken before any domain's map_lock.
 */
#ifndef VSVA_IOMMU_IOPT_H
#define VSVA_IOMMU_IOPT_H

#include <pthread.h>
#include <stdint.h>

#include "iommu/iommu.h"

#define IOPT_MAX_DOMAINS 8

struct iopt_area {
	uint64_t iova, length, uaddr;
	unsigned prot;              /* PGT_PROT_R / PGT_PROT_W */
};

struct iopt_pin;

struct iopt {
	pthread_mutex_t lock;
	struct mem_space *mem;      /* where pinned user memory becomes PA = VA */
	struct iopt_area *areas;    /* sorted by iova */
	unsigned nareas, cap;
	struct iommu_domain *domains[IOPT_MAX_DOMAINS];
	unsigned ndomains;
	struct iopt_pin *pins;      /* sorted extents, refcounted */
	uint64_t max_areas;         /* VFIO's dma_entry_limit; 0 = unlimited */
};

int iopt_init(struct iopt *io, struct mem_space *mem);
/* Unmaps everything from every domain and unpins. Domains stay (removed). */
void iopt_destroy(struct iopt *io);

int iopt_map(struct iopt *io, uint64_t iova, uint64_t uaddr, uint64_t length, unsigned prot);
int iopt_unmap(struct iopt *io, uint64_t iova, uint64_t length, uint64_t *unmapped);
int iopt_unmap_all(struct iopt *io, uint64_t *unmapped);

/* -ENOSPC with IOPT_MAX_DOMAINS domains; -EEXIST if already there; the map
 * errnos if an area does not fit the domain (its aperture, alignment). */
int iopt_add_domain(struct iopt *io, struct iommu_domain *d);
int iopt_remove_domain(struct iopt *io, struct iommu_domain *d);

/* The area containing iova, copied out; -ENOENT. */
int iopt_find(struct iopt *io, uint64_t iova, struct iopt_area *out);

#endif
