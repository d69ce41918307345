/* test_iopt: the io_pagetable's areas and pinning, without a domain: every
 * errno with nothing changed after it, whole-area unmap, holes, pins shared by
 * aliases and by overlapping user ranges. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "iommu/iopt.h"

#define PG 4096u
#define RW (PGT_PROT_R | PGT_PROT_W)

static unsigned regions(struct mem_space *m)
{
	return mem_region_count(m);
}

/* The region containing pa, or -1. */
static int region_at(struct mem_space *m, uint64_t pa, struct mem_region *out)
{
	for (unsigned i = 0; i < mem_region_count(m); i++) {
		struct mem_region r;

		mem_region_get(m, i, &r);
		if (pa >= r.base && pa - r.base < r.size) {
			*out = r;
			return 0;
		}
	}
	return -1;
}

static void test_errnos(struct mem_space *m, uint8_t *buf)
{
	struct iopt io;
	uint64_t u = (uintptr_t)buf, done = 7;
	struct iopt_area a;

	iopt_init(&io, m);
	/* Alignment, size 0, wrap, protections. */
	CHECK_EQ(iopt_map(&io, 0x1000 + 1, u, PG, RW), -EINVAL);
	CHECK_EQ(iopt_map(&io, 0x1000, u + 8, PG, RW), -EINVAL);
	CHECK_EQ(iopt_map(&io, 0x1000, u, PG + 1, RW), -EINVAL);
	CHECK_EQ(iopt_map(&io, 0x1000, u, 0, RW), -EINVAL);
	CHECK_EQ(iopt_map(&io, UINT64_MAX - PG + 1, u, 2 * PG, RW), -EINVAL);
	CHECK_EQ(iopt_map(&io, 0x1000, u, PG, 0), -EINVAL);
	CHECK_EQ(iopt_map(&io, 0x1000, u, PG, PGT_PROT_X), -EINVAL);
	CHECK_EQ(io.nareas, 0);
	CHECK_EQ(regions(m), 0);

	/* Memory the process does not have. */
	void *gone = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(gone != MAP_FAILED);
	munmap(gone, 2 * PG);
	CHECK_EQ(iopt_map(&io, 0x1000, (uintptr_t)gone, 2 * PG, RW), -EFAULT);
	CHECK_EQ(regions(m), 0);

	/* A map, then overlaps at either end and inside. */
	CHECK_EQ(iopt_map(&io, 0x10000, u, 4 * PG, RW), 0);
	CHECK_EQ(regions(m), 1);
	CHECK_EQ(iopt_map(&io, 0x10000 - PG, u, 2 * PG, RW), -EEXIST);
	CHECK_EQ(iopt_map(&io, 0x10000 + 3 * PG, u, 2 * PG, RW), -EEXIST);
	CHECK_EQ(iopt_map(&io, 0x10000 + PG, u, PG, RW), -EEXIST);
	CHECK_EQ(iopt_map(&io, 0x10000 - 2 * PG, u, 2 * PG, RW), 0);   /* touching is fine */
	CHECK_EQ(io.nareas, 2);
	CHECK_EQ(iopt_find(&io, 0x10000 + 3 * PG + 5, &a), 0);
	CHECK_EQ(a.iova, 0x10000);
	CHECK_EQ(a.length, 4 * PG);
	CHECK_EQ(iopt_find(&io, 0x10000 + 4 * PG, &a), -ENOENT);

	/* Unmap must not cut an area: either end, then nothing changed. */
	CHECK_EQ(iopt_unmap(&io, 0x10000 + PG, 3 * PG, &done), -EINVAL);
	CHECK_EQ(done, 0);
	CHECK_EQ(iopt_unmap(&io, 0x10000, 3 * PG, &done), -EINVAL);
	CHECK_EQ(iopt_unmap(&io, 0x10000 - 2 * PG, 3 * PG, &done), -EINVAL);
	CHECK_EQ(iopt_unmap(&io, 0x10000, PG + 1, &done), -EINVAL);
	CHECK_EQ(io.nareas, 2);
	CHECK_EQ(regions(m), 1);
	/* A hole: nothing there, success with 0. */
	CHECK_EQ(iopt_unmap(&io, 0x100000, PG, &done), 0);
	CHECK_EQ(done, 0);
	/* Both areas in one range with holes around them. */
	CHECK_EQ(iopt_unmap(&io, 0x1000, 0x20000, &done), 0);
	CHECK_EQ(done, 6 * PG);
	CHECK_EQ(io.nareas, 0);
	CHECK_EQ(regions(m), 0);

	/* The entry limit. */
	io.max_areas = 1;
	CHECK_EQ(iopt_map(&io, 0x10000, u, PG, RW), 0);
	CHECK_EQ(iopt_map(&io, 0x20000, u, PG, RW), -ENOSPC);
	CHECK_EQ(io.nareas, 1);
	iopt_destroy(&io);
	CHECK_EQ(regions(m), 0);
}

static void test_pins(struct mem_space *m, uint8_t *buf)
{
	struct iopt io;
	uint64_t u = (uintptr_t)buf, done;
	struct mem_region r;

	iopt_init(&io, m);
	/* The same buffer at two IOVAs: one region, kept until both are gone. */
	CHECK_EQ(iopt_map(&io, 0x100000, u, 4 * PG, RW), 0);
	CHECK_EQ(iopt_map(&io, 0x200000, u, 4 * PG, PGT_PROT_R), 0);
	CHECK_EQ(regions(m), 1);
	CHECK_EQ(region_at(m, u, &r), 0);
	CHECK_EQ(r.base, u);
	CHECK_EQ(r.size, 4 * PG);
	CHECK((uintptr_t)r.host == u);          /* PA = VA */
	CHECK_EQ(iopt_unmap(&io, 0x100000, 4 * PG, &done), 0);
	CHECK_EQ(regions(m), 1);
	/* The memory is still reachable through the second alias. */
	buf[5] = 0x5a;
	uint8_t v = 0;
	CHECK_EQ(mem_read(m, u + 5, &v, 1), 0);
	CHECK_EQ(v, 0x5a);
	CHECK_EQ(iopt_unmap(&io, 0x200000, 4 * PG, &done), 0);
	CHECK_EQ(regions(m), 0);

	/* Overlapping user ranges: [0, 4) then [2, 6) pages: the second adds only
	 * its gap; unmapping the first keeps what the second still uses. */
	CHECK_EQ(iopt_map(&io, 0x100000, u, 4 * PG, RW), 0);
	CHECK_EQ(iopt_map(&io, 0x200000, u + 2 * PG, 4 * PG, RW), 0);
	CHECK_EQ(regions(m), 2);
	CHECK_EQ(region_at(m, u + 4 * PG, &r), 0);
	CHECK_EQ(r.base, u + 4 * PG);
	CHECK_EQ(r.size, 2 * PG);
	CHECK_EQ(iopt_unmap(&io, 0x100000, 4 * PG, &done), 0);
	/* [0, 4) stays pinned: the second area overlaps it. */
	CHECK_EQ(regions(m), 2);
	CHECK_EQ(iopt_unmap(&io, 0x200000, 4 * PG, &done), 0);
	CHECK_EQ(regions(m), 0);

	/* A region someone else registered is not user memory to pin. */
	CHECK_EQ(mem_add(m, u + 8 * PG, PG, buf + 8 * PG, MEM_RW), 0);
	CHECK_EQ(iopt_map(&io, 0x100000, u + 6 * PG, 4 * PG, RW), -EFAULT);
	CHECK_EQ(regions(m), 1);                /* the gap pinned before it was undone */
	CHECK_EQ(io.nareas, 0);
	CHECK_EQ(mem_remove(m, u + 8 * PG), 0);
	iopt_destroy(&io);
}

int main(void)
{
	struct mem_space *m = mem_space_new();
	uint8_t *buf = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (!m || buf == MAP_FAILED)
		return 1;
	test_errnos(m, buf);
	test_pins(m, buf);
	mem_space_free(m);
	munmap(buf, 16 * PG);
	return check_exit();
}
