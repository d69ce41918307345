/* iommu/pasid.h — the system-wide PASID allocator.
 *
 * Owns: struct pasid_space, the PASIDs of one width (1..20 bits) that every IOMMU
 * unit of the system shares (VT-d tags its caches by PASID across devices, so a
 * host PASID means one address space everywhere); struct pasid_set, one per VM
 * (VFIO container / iommufd context): the PASIDs it owns, its quota, and how its
 * guest PASIDs relate to host ones; the users registered on each PASID.
 * Callers: the user API (VFIO_IOMMU_PASID_REQUEST: alloc / free_range, and the
 * bind ops that register users), the viommu front-ends and device emulation
 * (g2h / h2g).
 *
 * Mapping modes, per set (seed 001):
 *  - PASID_MAP_IDENTITY: the guest uses host PASIDs (its virtual command asks the
 *    host to allocate one); g2h and h2g answer the PASID itself if the set owns it;
 *  - PASID_MAP_GUEST: the guest allocates its own PASIDs; the VMM allocates a host
 *    PASID for each and records the pair with pasid_map_guest(). Hardware only
 *    ever sees host PASIDs; a host PASID has at most one guest PASID and a guest
 *    PASID at most one host PASID.
 * PASID 0 is never handed out: VT-d uses it as RID_PASID for requests without one.
 *
 * Concurrency:
 *  - Control path (alloc, free, sets, users, map/unmap): one mutex per space. It
 *    may be held while allocating memory. These calls may sleep (a grace period,
 *    below) and must not be made inside an RCU read section (util/rcu.h).
 *  - Lookups (pasid_check, pasid_g2h, pasid_h2g) take no lock: each set keeps a
 *    lock-free open-addressing table of 64-bit words (one word = key + value, so a
 *    reader never sees half an entry) holding the set's host PASIDs (with their
 *    guest PASID) and its guest->host pairs. Writers, serialised by the space
 *    mutex, publish words with release stores; a reader probes inside an RCU read
 *    section. When the table grows, shrinks or is cleared of deleted slots it is
 *    rebuilt and the new one published; the old one is freed after a grace period,
 *    once the writer dropped the mutex. A lookup is atomic on its own; g2h and h2g
 *    racing with a map or unmap may see one direction change before the other
 *    (map publishes G->H first, unmap drops H->G first).
 *  - Freeing a PASID (pasid_free, pasid_free_range, pasid_set_free) is three steps:
 *      1. under the mutex the PASID is marked dying; from then on pasid_user_add
 *         and pasid_map_guest on it fail with -EBUSY, and another free of it with
 *         -EBUSY (pasid_free) or skips it (pasid_free_range);
 *      2. its users are taken off one at a time and each release() is called with
 *         no lock held;
 *      3. under the mutex its guest mapping is dropped, it leaves the set and its
 *         bit returns to the space.
 *    So a release() callback observes: pasid_check() == 0 (the set still owns it),
 *    g2h / h2g still answer its mapping (unless the callback unmapped it),
 *    pasid_user_count() counts the users not yet released, pasid_set_count()
 *    still counts it, and no pasid_alloc() of any set can return it.
 *    Every user added with success is either deleted by pasid_user_del() (which
 *    then returns 0 and release() is not called) or released exactly once.
 *  - pasid_set_free() must not race with other calls on the same set, except the
 *    release() callbacks it causes and frees of the set's PASIDs already running
 *    on other threads (it waits for those).
 *
 * Memory: one bitmap per space (2^bits bits, 128 KiB at 20 bits); per allocated
 * PASID one entry and a hash link in the space and up to two words in its set's
 * table. Tables and the hash shrink as PASIDs go (a table beyond its minimum size
 * stays at least 1/8 used), so the quotas bound the memory.
 */
#ifndef VSVA_IOMMU_PASID_H
#define VSVA_IOMMU_PASID_H

#include <stdint.h>

#define PASID_MAX_BITS   20
#define PASID_GUEST_MAX  ((1u << PASID_MAX_BITS) - 1)   /* the largest guest PASID */

struct pasid_space;
struct pasid_set;

enum pasid_map_mode {
	PASID_MAP_IDENTITY,  /* guest PASID == host PASID, allocated by the host */
	PASID_MAP_GUEST,     /* the guest owns its PASID space; the host keeps G->H and H->G */
};

/* ---- spaces and sets ----------------------------------------------------------- */

/* PASIDs 1 .. 2^bits - 1. NULL with errno EINVAL (bits not 1..20) or ENOMEM. */
struct pasid_space *pasid_space_new(unsigned bits);
/* Every set must have been freed. */
void pasid_space_free(struct pasid_space *sp);
unsigned pasid_space_bits(const struct pasid_space *sp);

/* -EINVAL: quota 0, unknown mode, or NULL sp / out; -ENOMEM. */
int pasid_set_new(struct pasid_space *sp, unsigned quota, enum pasid_map_mode mode,
		  struct pasid_set **out);
/* Frees every PASID of the set as pasid_free() does (users released first), waits
 * for frees of its PASIDs running elsewhere, then frees the set. While it runs,
 * pasid_alloc() on the set fails with -ENOSPC. NULL is a no-op. */
void pasid_set_free(struct pasid_set *set);
enum pasid_map_mode pasid_set_mode(const struct pasid_set *set);
unsigned pasid_set_count(const struct pasid_set *set);   /* allocated now, dying included */
unsigned pasid_set_quota(const struct pasid_set *set);

/* ---- allocation ------------------------------------------------------------------ */

/* The lowest free PASID in [min, max] (inclusive) into *out.
 * -EINVAL: min > max, min == 0, or max beyond the space's width.
 * -ENOSPC: the set's quota is used up, no PASID of the range is free, or the set
 *          is being freed (VFIO_IOMMU_PASID_REQUEST's errno for the first two).
 * -ENOMEM. Nothing changes on error. */
int pasid_alloc(struct pasid_set *set, uint32_t min, uint32_t max, uint32_t *out);
/* Frees one PASID of this set (the three steps above). -ENOENT: the set does not
 * own it; -EBUSY: it is already being freed. */
int pasid_free(struct pasid_set *set, uint32_t pasid);
/* Frees every PASID of the set in [min, max] in increasing order; returns how
 * many it freed (0 is fine; PASIDs already being freed elsewhere are skipped).
 * -EINVAL: min > max. A range beyond the space's width is clamped. */
int pasid_free_range(struct pasid_set *set, uint32_t min, uint32_t max);
/* 0 if the set owns pasid (dying included), else -ENOENT. Lock-free. */
int pasid_check(const struct pasid_set *set, uint32_t pasid);

/* ---- users ------------------------------------------------------------------------ */

/* A bind registers itself on the PASID it programs into hardware so that freeing
 * the PASID (or tearing its set down) unbinds it first. Intrusive: no allocation.
 * A user is on at most one PASID at a time. */
struct pasid_user {
	/* Called with no pasid lock held, after the user was taken off the PASID
	 * (what it observes: the Concurrency notes above). It must not call
	 * pasid_user_del() for this user nor pasid_set_free() of its set (that would
	 * wait for this very free); freeing this same PASID again is refused
	 * (pasid_free: -EBUSY; pasid_free_range skips it). Anything else in this
	 * module is allowed, freeing other PASIDs of the set included. */
	void (*release)(struct pasid_user *u, uint32_t pasid);
	struct pasid_user *next;   /* the module's */
	void *priv;                /* the caller's */
};

/* -EINVAL: u or u->release NULL; -ENOENT: the set does not own pasid; -EBUSY: the
 * PASID is being freed; -EEXIST: u is already on this PASID. */
int pasid_user_add(struct pasid_set *set, uint32_t pasid, struct pasid_user *u);
/* -ENOENT: u is not registered on pasid of this set (it may have been taken off
 * by a free, in which case its release() is called or about to be). */
int pasid_user_del(struct pasid_set *set, uint32_t pasid, struct pasid_user *u);
/* Users registered on pasid now; 0 if the set does not own it. */
unsigned pasid_user_count(const struct pasid_set *set, uint32_t pasid);

/* ---- guest -> host mapping --------------------------------------------------------- */

/* PASID_MAP_GUEST sets: records gpasid <-> hpasid. The host never programs gpasid
 * into hardware; device emulation that sees a guest PASID asks for the host one.
 * -EINVAL: identity set, or gpasid 0 / beyond 20 bits; -ENOENT: hpasid not owned
 * by the set; -EEXIST: gpasid already mapped; -EBUSY: hpasid already has a guest
 * PASID or is being freed; -ENOMEM. The mapping goes when the host PASID is freed. */
int pasid_map_guest(struct pasid_set *set, uint32_t gpasid, uint32_t hpasid);
/* -EINVAL: identity set; -ENOENT: gpasid not mapped. */
int pasid_unmap_guest(struct pasid_set *set, uint32_t gpasid);
/* Lock-free. Identity set: the PASID itself if the set owns it; guest set: the
 * recorded pair; else -ENOENT. */
int pasid_g2h(const struct pasid_set *set, uint32_t gpasid, uint32_t *hpasid);
int pasid_h2g(const struct pasid_set *set, uint32_t hpasid, uint32_t *gpasid);

#endif
