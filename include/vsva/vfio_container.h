/* vsva/vfio_container.h — the seed's VFIO type1 nesting container, in process.
 *
 * A VMM drives it exactly as it drives /dev/vfio/vfio: groups join a container,
 * VFIO_SET_IOMMU picks the IOMMU type (VFIO_TYPE1v2_IOMMU or
 * VFIO_TYPE1_NESTING_IOMMU), then VFIO_IOMMU_GET_INFO, MAP_DMA / UNMAP_DMA,
 * PASID_REQUEST and NESTING_OP (BIND_PGTBL, UNBIND_PGTBL, CACHE_INVLD) with the
 * structs of vsva/uapi/vfio.h and vsva/uapi/iommu.h. vsva_vfio_ioctl returns
 * what the ioctl returns on Linux (0, or a value such as the PASID allocated)
 * or -errno. The /dev/vfio emulation of the next layer is a thin shim over it.
 *
 * User memory given to MAP_DMA is this process's memory: it becomes host
 * physical memory at PA = its virtual address (see iommu/iopt.h).
 *
 * Faults and page requests of the container's devices come out of one fault
 * channel (uapi/fault.h): poll vsva_vfio_fault_fd(), read records with
 * vsva_vfio_fault_read(), answer page requests with vsva_vfio_fault_write().
 *
 * Thread safety: every call may come from any thread; calls on one container
 * serialise on its mutex.
 */
#ifndef VSVA_VFIO_CONTAINER_H
#define VSVA_VFIO_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct iommu_device;
struct pasid_space;
struct vsva_vfio_container;
struct vsva_vfio_group;

struct vsva_vfio_config {
	struct pasid_space *pasids; /* the system-wide PASID space (required) */
	unsigned pasid_quota;       /* PASIDs this container (VM) may hold; 0: 1024 */
	bool guest_pasids;          /* non-identity: the guest owns its PASID space and
	                             * binds carry gpasid (IOMMU_SVA_GPASID_VAL) */
	unsigned fault_depth;       /* fault records the channel holds; 0: 256 */
	uint64_t dma_entry_limit;   /* MAP_DMA areas; 0: 65535 (type1's default) */
};

int vsva_vfio_container_new(const struct vsva_vfio_config *cfg,
			    struct vsva_vfio_container **out);
/* Detaches every group (unbinding, unmapping) and frees the container. */
void vsva_vfio_container_free(struct vsva_vfio_container *c);

/* The container's ioctls: VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION (arg is the
 * extension number, as Linux passes it), VFIO_SET_IOMMU (arg: the type),
 * VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA,
 * VFIO_IOMMU_PASID_REQUEST, VFIO_IOMMU_NESTING_OP (arg: the struct). Unknown
 * requests: -ENOTTY. */
long vsva_vfio_ioctl(struct vsva_vfio_container *c, unsigned long request, unsigned long arg);

/* A group holds one device (an IOMMU group of one function). */
int vsva_vfio_group_new(struct iommu_device *dev, struct vsva_vfio_group **out);
/* -EBUSY while in a container. */
int vsva_vfio_group_free(struct vsva_vfio_group *g);
/* VFIO_GROUP_GET_STATUS (arg: struct vfio_group_status *),
 * VFIO_GROUP_SET_CONTAINER (arg: struct vsva_vfio_container *, where Linux
 * passes a pointer to the container's fd), VFIO_GROUP_UNSET_CONTAINER. */
long vsva_vfio_group_ioctl(struct vsva_vfio_group *g, unsigned long request, unsigned long arg);

/* The fault channel (see src/uapi/fault.h for the exact semantics). */
int vsva_vfio_fault_fd(struct vsva_vfio_container *c);
ssize_t vsva_vfio_fault_read(struct vsva_vfio_container *c, void *buf, size_t len);
ssize_t vsva_vfio_fault_write(struct vsva_vfio_container *c, const void *buf, size_t len);

/* Guest <-> host PASID lookups for device emulation (non-identity containers
 * map what binds established; identity ones answer PASIDs they hold). -ENOENT. */
int vsva_vfio_pasid_g2h(struct vsva_vfio_container *c, uint32_t gpasid, uint32_t *hpasid);
int vsva_vfio_pasid_h2g(struct vsva_vfio_container *c, uint32_t hpasid, uint32_t *gpasid);

#endif
