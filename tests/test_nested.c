/* tests/test_nested.c — the nested 2-D walk.
 *
 * A guest builds its stage-1 tables in its own RAM at guest-physical addresses
 * (a guest address space aliasing the host memory), the host builds stage 2 over
 * that RAM, and pgt_walk_nested translates through both. Checked: the reference
 * count n*m + n + m for every pair of level counts, stage-2 faults while fetching
 * a stage-1 table (each VT-d reason: 0x74, 0x75, 0x76, 0x77, 0x79; the Arm
 * translation and permission faults with the descriptor-write flag), stage-2
 * faults on the output, combined permissions and page size, and stage-2 dirty
 * tracking of hardware updates to stage-1 entries.
 */
#include <string.h>

#include "check.h"
#include "pgtable/lpae.h"
#include "pgtable/pgtable.h"
#include "pgtable/vtd_fr.h"
#include "pgtable/vtd_ss.h"
#include "pgtable/x86_fs.h"

#define HOST_POOL      0x100000ull
#define HOST_POOL_SIZE 0x800000ull
#define RAM_HPA        0x40000000ull
#define RAM_SIZE       0x400000ull      /* GPA 0 .. 4 MiB */
#define GUEST_POOL     0x100000ull       /* GPA */
#define GUEST_POOL_SIZE 0x100000ull
#define DATA_GPA       0x300000ull

struct vm {
	struct mem_space *host, *guest;
	struct mem_frames *hpool, *gpool;
	struct pgt_fmt s1, s2;
	uint64_t s1_root, s2_root;
};

static const unsigned RWX = PGT_PROT_R | PGT_PROT_W | PGT_PROT_X;

/* Host with guest RAM, stage 2 mapping all of it (pages of s2_page bytes), and
 * an empty stage-1 root in guest RAM. */
static bool vm_init(struct vm *vm, const char *s1, const char *s2, uint64_t s2_page)
{
	void *ram;

	memset(vm, 0, sizeof(*vm));
	if (pgt_fmt_parse(&vm->s1, s1, NULL, 0) || pgt_fmt_parse(&vm->s2, s2, NULL, 0))
		return false;
	vm->host = mem_space_new();
	vm->guest = mem_space_new();
	if (!vm->host || !vm->guest || mem_add_anon(vm->host, HOST_POOL, HOST_POOL_SIZE, MEM_RW, NULL) ||
	    mem_add_anon(vm->host, RAM_HPA, RAM_SIZE, MEM_RW, &ram) ||
	    mem_add(vm->guest, 0, RAM_SIZE, ram, MEM_RW))
		return false;
	vm->hpool = mem_frames_new(vm->host, HOST_POOL, HOST_POOL_SIZE);
	vm->gpool = mem_frames_new(vm->guest, GUEST_POOL, GUEST_POOL_SIZE);
	return vm->hpool && vm->gpool && !pgt_root_alloc(&vm->s2, vm->hpool, &vm->s2_root) &&
	       !pgt_map(&vm->s2, vm->hpool, vm->s2_root, 0, RAM_HPA, RAM_SIZE, RWX, s2_page) &&
	       !pgt_root_alloc(&vm->s1, vm->gpool, &vm->s1_root);
}

static void vm_fini(struct vm *vm)
{
	mem_frames_free_pool(vm->gpool);
	mem_frames_free_pool(vm->hpool);
	mem_space_free(vm->guest);
	mem_space_free(vm->host);
}

static int walk2(struct vm *vm, uint64_t va, unsigned acc, struct pgt_result *r)
{
	return pgt_walk_nested(&vm->s1, vm->s1_root, &vm->s2, vm->s2_root, vm->host, va, acc, r,
			       NULL);
}

/* Remaps one 4 KiB guest page at stage 2 with other permissions. */
static void s2_reprotect(struct vm *vm, uint64_t gpa, unsigned prot)
{
	CHECK_EQ(pgt_unmap(&vm->s2, vm->hpool, vm->s2_root, gpa, 0x1000, NULL), 0);
	CHECK_EQ(pgt_map(&vm->s2, vm->hpool, vm->s2_root, gpa, RAM_HPA + gpa, 0x1000, prot, 0), 0);
}

/* The guest-physical address of the stage-1 entry at height h for va (read from
 * the guest's own view of its tables, as the guest would). */
static uint64_t s1_entry_gpa(struct vm *vm, uint64_t va, unsigned h)
{
	const struct pgt_fmt *f = &vm->s1;
	uint64_t table = vm->s1_root, d = 0;

	for (unsigned lvl = f->levels - 1;; lvl--) {
		unsigned bits = lvl == f->levels - 1u ? f->root_bits : f->stride;
		uint64_t ea = table + ((va >> pgt_shift(f, lvl)) & (BIT(bits) - 1)) * 8;

		if (lvl == h)
			return ea;
		mem_load64(vm->guest, ea, &d);
		table = d & GENMASK(47, f->gshift);
	}
}

static void test_reference_counts(void)
{
	static const char *const x86_s1[] = { "x86-fs4", "x86-fs5" };
	static const char *const vtd_s2[] = { "vtd-ss3", "vtd-ss4", "vtd-ss5" };
	/* 4K LPAE with 2, 3 and 4 levels at each stage (T0SZ 34: 30 bits from level 2;
	 * 25: 39 bits from level 1; 16: 48 bits from level 0). */
	static const char *const arm_s1[] = { "lpae-s1:4k:t0sz=34", "lpae-s1:4k:t0sz=25",
					      "lpae-s1:4k:t0sz=16" };
	static const char *const arm_s2[] = { "lpae-s2:4k:t0sz=34:sl0=0", "lpae-s2:4k:t0sz=25:sl0=1",
					      "lpae-s2:4k:t0sz=16:sl0=2" };
	struct {
		const char *s1, *s2;
	} pairs[6 + 9];
	unsigned n = 0;

	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 3; j++)
			pairs[n++] = (typeof(pairs[0])){ x86_s1[i], vtd_s2[j] };
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			pairs[n++] = (typeof(pairs[0])){ arm_s1[i], arm_s2[j] };

	for (unsigned p = 0; p < n; p++) {
		struct vm vm;
		struct pgt_result r;
		uint64_t va = 0x1f23a000 & GENMASK(29, 12);   /* inside every input range */
		unsigned a, b, want;

		if (!vm_init(&vm, pairs[p].s1, pairs[p].s2, 0x1000)) {
			CHECK_MSG(0, "setup %s over %s", pairs[p].s1, pairs[p].s2);
			vm_fini(&vm);
			continue;
		}
		CHECK_EQ(pgt_map(&vm.s1, vm.gpool, vm.s1_root, va, DATA_GPA, 0x1000,
				 PGT_PROT_R | PGT_PROT_W, 0), 0);
		a = vm.s1.levels;
		b = vm.s2.levels;
		want = a * b + a + b;
		CHECK_EQ(walk2(&vm, va + 0x123, 0, &r), 0);
		CHECK_MSG(r.ok && r.refs == want && r.oa == RAM_HPA + DATA_GPA + 0x123,
			  "%s over %s: ok %d refs %u (want %u) oa 0x%llx", pairs[p].s1, pairs[p].s2,
			  r.ok, r.refs, want, (unsigned long long)r.oa);
		/* x86 sets A in all a entries on the first walk; a second walk reads the
		 * same entries and writes nothing. */
		CHECK_EQ(r.updates, vm.s1.family == PGT_X86_FS ? a : 0);
		CHECK_EQ(walk2(&vm, va + 0x123, 0, &r), 0);
		CHECK(r.ok && r.refs == want && r.updates == 0);
		vm_fini(&vm);
	}
	/* The counts the issue names: 4 over 4 is 24, 5 over 5 is 35. */
	CHECK_EQ(4 * 4 + 4 + 4, 24);
	CHECK_EQ(5 * 5 + 5 + 5, 35);
}

static void test_vtd_s2_faults_on_s1_tables(void)
{
	const uint64_t va = 0x00007f0000345000;
	struct vm vm;
	struct pgt_result r;
	uint64_t root_entry, pt_entry, d;

	CHECK(vm_init(&vm, "x86-fs4", "vtd-ss4:ad", 0x1000));
	CHECK_EQ(pgt_map(&vm.s1, vm.gpool, vm.s1_root, va, DATA_GPA, 0x1000,
			 PGT_PROT_R | PGT_PROT_W, 0), 0);
	root_entry = s1_entry_gpa(&vm, va, 3);
	pt_entry = s1_entry_gpa(&vm, va, 0);

	/* Stage 2 allows only writes to the root table: SFS.6 (0x75). */
	s2_reprotect(&vm, vm.s1_root, PGT_PROT_W);
	CHECK_EQ(walk2(&vm, va, 0, &r), 0);
	CHECK(!r.ok && r.fault.stage == 2 && r.fault.s1_fetch && r.fault.root && !r.fault.s1_write);
	CHECK_EQ(r.fault.code, VTD_FR_FS_NEST_ROOT_RD);
	CHECK_EQ(r.fault.reason, PGT_FAULT_PERMISSION);
	CHECK_EQ(r.fault.addr, root_entry);
	CHECK_EQ(r.fault.level, 1);                     /* the SL-PTE said so */
	CHECK_EQ(r.refs, 4);
	s2_reprotect(&vm, vm.s1_root, RWX);

	/* ... and to the page table: SFS.7 (0x76), after three stage-1 levels. */
	s2_reprotect(&vm, pt_entry & ~0xfffull, PGT_PROT_W);
	CHECK_EQ(walk2(&vm, va, 0, &r), 0);
	CHECK(!r.ok && r.fault.stage == 2 && r.fault.s1_fetch && !r.fault.root);
	CHECK_EQ(r.fault.code, VTD_FR_FS_NEST_RD);
	CHECK_EQ(r.fault.addr, pt_entry);
	CHECK_EQ(r.refs, 3 * 5 + 4);

	/* Read-only page table at stage 2: reading works, setting A does not: SFS.8. */
	s2_reprotect(&vm, pt_entry & ~0xfffull, PGT_PROT_R);
	CHECK_EQ(walk2(&vm, va, 0, &r), 0);
	CHECK(!r.ok && r.fault.stage == 2 && r.fault.s1_fetch && r.fault.s1_write);
	CHECK_EQ(r.fault.code, VTD_FR_FS_NEST_WR);
	CHECK_EQ(mem_load64(vm.guest, pt_entry, &d), 0);
	CHECK(!(d & X86_A));                           /* the PTE was not touched */
	s2_reprotect(&vm, pt_entry & ~0xfffull, RWX);

	/* Not mapped at stage 2 at all: SSS.2. */
	CHECK_EQ(pgt_unmap(&vm.s2, vm.hpool, vm.s2_root, pt_entry & ~0xfffull, 0x1000, NULL), 0);
	CHECK_EQ(walk2(&vm, va, 0, &r), 0);
	CHECK(!r.ok && r.fault.stage == 2 && r.fault.s1_fetch);
	CHECK_EQ(r.fault.code, VTD_FR_SS_ENTRY_NP);
	CHECK_EQ(r.fault.reason, PGT_FAULT_NOT_PRESENT);
	s2_reprotect(&vm, pt_entry & ~0xfffull, RWX);

	/* Works again; a write sets A/D at stage 1 and, because hardware wrote the
	 * stage-1 entries, D in the stage-2 leaves of those table pages too. */
	CHECK_EQ(walk2(&vm, va, PGT_ACC_WRITE, &r), 0);
	CHECK(r.ok);
	CHECK_EQ(r.oa, RAM_HPA + DATA_GPA);
	CHECK(r.leaf[1] & SS_D);                       /* the data page at stage 2 */
	CHECK(r.leaf[0] & X86_D);
	{
		struct pgt_result t;

		CHECK_EQ(pgt_walk(&vm.s2, vm.host, vm.s2_root, pt_entry, 0, &t, NULL), 0);
		CHECK(t.ok && (t.leaf[1] & SS_D));
	}
	vm_fini(&vm);
}

static void test_vtd_width_faults(void)
{
	const uint64_t va = 0x0000000012345000;
	struct vm vm;
	struct pgt_result r;
	uint64_t pml4e, saved = 0;

	/* vtd-ss3: guest-physical addresses must be below 2^39. */
	CHECK(vm_init(&vm, "x86-fs4", "vtd-ss3", 0x1000));
	CHECK_EQ(pgt_map(&vm.s1, vm.gpool, vm.s1_root, va, DATA_GPA, 0x1000, PGT_PROT_R, 0), 0);
	pml4e = s1_entry_gpa(&vm, va, 3);
	CHECK_EQ(mem_load64(vm.guest, pml4e, &saved), 0);

	/* A stage-1 table pointer beyond the width: SFS.5 (0x74). */
	CHECK_EQ(mem_store64(vm.guest, pml4e, (1ull << 39) | X86_P | X86_RW | X86_A), 0);
	CHECK_EQ(walk2(&vm, va, 0, &r), 0);
	CHECK(!r.ok && r.fault.stage == 2 && r.fault.s1_fetch);
	CHECK_EQ(r.fault.code, VTD_FR_FS_NEST_ADDR);
	CHECK_EQ(r.fault.reason, PGT_FAULT_ADDR_SIZE);
	CHECK_EQ(r.fault.addr, 1ull << 39);

	/* The final GPA beyond the width: SGN.5 (0x84), not a stage-1 fetch. */
	CHECK_EQ(mem_store64(vm.guest, pml4e, saved), 0);
	CHECK_EQ(pgt_unmap(&vm.s1, vm.gpool, vm.s1_root, 0, 1ull << 47, NULL), 0);
	CHECK_EQ(pgt_map(&vm.s1, vm.gpool, vm.s1_root, va, (1ull << 39) + 0x1000, 0x1000,
			 PGT_PROT_R, 0), 0);
	CHECK_EQ(walk2(&vm, va, 0, &r), 0);
	CHECK(!r.ok && r.fault.stage == 2 && !r.fault.s1_fetch);
	CHECK_EQ(r.fault.code, VTD_FR_SS_INPUT_WIDTH);
	vm_fini(&vm);
}

static void test_output_stage2(void)
{
	const uint64_t va = 0x0000000040000000;
	struct vm vm;
	struct pgt_result r;

	CHECK(vm_init(&vm, "x86-fs4", "vtd-ss4", 0x1000));
	/* A 2 MiB stage-1 page over 4 KiB stage-2 pages: the translation is 4 KiB. */
	CHECK_EQ(pgt_map(&vm.s1, vm.gpool, vm.s1_root, va, 0x200000, 0x200000,
			 PGT_PROT_R | PGT_PROT_W, 0), 0);
	CHECK_EQ(walk2(&vm, va + 0x1abc, 0, &r), 0);
	CHECK(r.ok);
	CHECK_EQ(r.page_size, 0x1000);
	CHECK_EQ(r.oa, RAM_HPA + 0x201abc);
	CHECK_EQ(r.leaf_level[0], 2);
	CHECK_EQ(r.leaf_level[1], 1);
	/* Stage 2 read-only under a writable stage-1 page: combined r-x (no SLEE). */
	s2_reprotect(&vm, 0x201000, PGT_PROT_R);
	CHECK_EQ(walk2(&vm, va + 0x1abc, 0, &r), 0);
	CHECK(r.ok);
	CHECK_EQ(r.perm, PGT_PERM_R | PGT_PERM_X);
	CHECK_EQ(walk2(&vm, va + 0x1abc, PGT_ACC_WRITE, &r), 0);
	CHECK(!r.ok && r.fault.stage == 2 && !r.fault.s1_fetch);
	CHECK_EQ(r.fault.code, VTD_FR_WRITE);
	CHECK_EQ(r.fault.addr, 0x201abc);
	vm_fini(&vm);

	/* And the other way round: 4 KiB stage-1 pages over 2 MiB stage-2 pages. */
	CHECK(vm_init(&vm, "lpae-s1:4k:t0sz=25", "lpae-s2:4k:t0sz=25:sl0=1", 0x200000));
	CHECK_EQ(pgt_map(&vm.s1, vm.gpool, vm.s1_root, 0x7000, DATA_GPA, 0x1000,
			 PGT_PROT_R | PGT_PROT_U, 0), 0);
	CHECK_EQ(walk2(&vm, 0x7010, PGT_ACC_USER, &r), 0);
	CHECK(r.ok);
	CHECK_EQ(r.page_size, 0x1000);
	CHECK_EQ(r.oa, RAM_HPA + DATA_GPA + 0x10);
	CHECK_EQ(r.refs, 3 * (2 + 1) + 2);        /* stage 2 stops at level 2: 2 refs each */
	vm_fini(&vm);
}

static void test_arm_s2_faults_on_s1_tables(void)
{
	const uint64_t va = 0x12345000;
	struct vm vm;
	struct pgt_result r;
	uint64_t leaf, d;

	CHECK(vm_init(&vm, "lpae-s1:4k:t0sz=25:ha", "lpae-s2:4k:t0sz=25:sl0=1", 0x1000));
	CHECK_EQ(pgt_map(&vm.s1, vm.gpool, vm.s1_root, va, DATA_GPA, 0x1000, PGT_PROT_R, 0), 0);
	leaf = s1_entry_gpa(&vm, va, 0);
	/* Clear AF so that hardware must write the stage-1 leaf. */
	CHECK_EQ(mem_load64(vm.guest, leaf, &d), 0);
	CHECK_EQ(mem_store64(vm.guest, leaf, d & ~LPAE_AF), 0);

	/* Stage 2 read-only over that table: the AF write is a stage-2 permission
	 * fault during the walk (SMMU: S2, CLASS=TT, TTRnW=0). */
	s2_reprotect(&vm, leaf & ~0xfffull, PGT_PROT_R);
	CHECK_EQ(walk2(&vm, va, 0, &r), 0);
	CHECK(!r.ok && r.fault.stage == 2 && r.fault.s1_fetch && r.fault.s1_write);
	CHECK_EQ(r.fault.code, SMMU_EVT_F_PERMISSION);
	CHECK_EQ(r.fault.addr, leaf);
	CHECK_EQ(r.fault.level, 3);
	CHECK_EQ(mem_load64(vm.guest, leaf, &d), 0);
	CHECK(!(d & LPAE_AF));

	/* Writable again: AF is set, one update. */
	s2_reprotect(&vm, leaf & ~0xfffull, RWX);
	CHECK_EQ(walk2(&vm, va, 0, &r), 0);
	CHECK(r.ok && r.updates == 1);
	CHECK_EQ(mem_load64(vm.guest, leaf, &d), 0);
	CHECK(d & LPAE_AF);

	/* Stage-1 root IPA unmapped at stage 2: translation fault, stage 2, CLASS=TT. */
	CHECK_EQ(pgt_unmap(&vm.s2, vm.hpool, vm.s2_root, vm.s1_root, 0x1000, NULL), 0);
	CHECK_EQ(walk2(&vm, va, 0, &r), 0);
	CHECK(!r.ok && r.fault.stage == 2 && r.fault.s1_fetch && r.fault.root);
	CHECK_EQ(r.fault.code, SMMU_EVT_F_TRANSLATION);
	CHECK_EQ(r.fault.level, 3);
	CHECK_EQ(r.refs, 3);
	vm_fini(&vm);

	/* A stage-1 table IPA beyond the 39-bit stage-2 input: translation fault at
	 * level 0 of stage 2. */
	CHECK(vm_init(&vm, "lpae-s1:4k:t0sz=25", "lpae-s2:4k:t0sz=25:sl0=1", 0x1000));
	CHECK_EQ(pgt_map(&vm.s1, vm.gpool, vm.s1_root, va, DATA_GPA, 0x1000, PGT_PROT_R, 0), 0);
	CHECK_EQ(mem_store64(vm.guest, s1_entry_gpa(&vm, va, 2), (1ull << 39) | LPAE_TYPE_TABLE), 0);
	CHECK_EQ(walk2(&vm, va, 0, &r), 0);
	CHECK(!r.ok && r.fault.stage == 2 && r.fault.s1_fetch);
	CHECK_EQ(r.fault.code, SMMU_EVT_F_TRANSLATION);
	CHECK_EQ(r.fault.level, 0);
	CHECK_EQ(r.fault.addr, (1ull << 39) + ((va >> 21) & 0x1ff) * 8);
	vm_fini(&vm);
}

/*
 * Walk caches: a toy paging-structure cache keyed by (stage, height, the input bits
 * above that table). All guest tables and the data page lie below 4 MiB, so every
 * stage-2 walk has SL-PML4 and SL-PDPT index 0; the tables (pool at GPA 0x100000)
 * have SL-PD index 0, the data page (GPA 0x300000) SL-PD index 1.
 * First walk: the root's GPA takes a full stage-2 walk (4) and fills stage-2 PDPT,
 * PD and PT (index 0) pointers; PML4E (1); the PDPT, PD and PT GPAs then start at
 * the cached SL-PT (1 each) before their stage-1 entry (1 each); the output GPA
 * starts at the cached SL-PD (2) = 4 + 1 + 3 * 2 + 2 = 13, with 3 stage-1 and 4
 * stage-2 fills. Second walk: stage 1 starts at its cached PT, whose GPA and the
 * output's both start at their cached SL-PT: 1 + 1 + 1 = 3. Same answer each time.
 */
struct toy_psc {
	unsigned n, lookups, hits;
	struct { uint8_t stage; unsigned height; uint64_t key, table, acc[2]; } e[64];
};

static uint64_t psc_key(const struct pgt_fmt *f, unsigned height, uint64_t ia)
{
	return ia >> pgt_shift(f, height + 1);
}

static int toy_lookup(void *ctx, const struct pgt_fmt *f, uint8_t stage, uint64_t ia,
		      uint64_t *table, uint64_t acc[2])
{
	struct toy_psc *c = ctx;
	int best = -1;

	c->lookups++;
	for (unsigned i = 0; i < c->n; i++) {
		if (c->e[i].stage == stage && c->e[i].key == psc_key(f, c->e[i].height, ia) &&
		    (best < 0 || c->e[i].height < c->e[best].height))
			best = (int)i;
	}
	if (best < 0)
		return -1;
	c->hits++;
	*table = c->e[best].table;
	acc[0] = c->e[best].acc[0];
	acc[1] = c->e[best].acc[1];
	return (int)c->e[best].height;
}

static void toy_fill(void *ctx, const struct pgt_fmt *f, uint8_t stage, unsigned height,
		     uint64_t ia, uint64_t table, const uint64_t acc[2])
{
	struct toy_psc *c = ctx;

	for (unsigned i = 0; i < c->n; i++)
		if (c->e[i].stage == stage && c->e[i].height == height &&
		    c->e[i].key == psc_key(f, height, ia))
			return;
	if (c->n < 64)
		c->e[c->n++] = (typeof(c->e[0])){ stage, height, psc_key(f, height, ia), table,
						  { acc[0], acc[1] } };
}

static void test_walk_caches(void)
{
	const uint64_t va = 0x00007f0000345000;
	struct toy_psc psc = { 0 };
	struct pgt_wcache wc = { toy_lookup, toy_fill, &psc };
	struct pgt_result cold, warm, plain;
	struct mem_view v;
	struct vm vm;

	CHECK(vm_init(&vm, "x86-fs4", "vtd-ss4", 0x1000));
	CHECK_EQ(pgt_map(&vm.s1, vm.gpool, vm.s1_root, va, DATA_GPA, 0x1000,
			 PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0), 0);
	CHECK_EQ(walk2(&vm, va + 8, PGT_ACC_USER, &plain), 0);
	mem_view_begin(&v, vm.host);
	CHECK_EQ(pgt_walk_nested_wc(&vm.s1, vm.s1_root, &vm.s2, vm.s2_root, &v, va + 8,
				    PGT_ACC_USER, &cold, NULL, &wc), 0);
	CHECK_EQ(pgt_walk_nested_wc(&vm.s1, vm.s1_root, &vm.s2, vm.s2_root, &v, va + 8,
				    PGT_ACC_USER, &warm, NULL, &wc), 0);
	mem_view_end(&v);
	CHECK(cold.ok && warm.ok);
	CHECK_EQ(plain.refs, 24);
	CHECK_EQ(cold.refs, 13);
	CHECK_EQ(warm.refs, 3);
	CHECK(cold.oa == plain.oa && warm.oa == plain.oa && warm.perm == plain.perm &&
	      warm.page_size == plain.page_size && warm.leaf[0] == plain.leaf[0]);
	CHECK_EQ(psc.n, 3 + 4);
	CHECK(psc.hits > 0);
	/* A 1-D walk uses them too. */
	{
		struct toy_psc p1 = { 0 };
		struct pgt_wcache w1 = { toy_lookup, toy_fill, &p1 };
		struct pgt_result a, b;

		mem_view_begin(&v, vm.host);
		CHECK_EQ(pgt_walk_wc(&vm.s2, &v, vm.s2_root, DATA_GPA, 0, &a, NULL, &w1), 0);
		CHECK_EQ(pgt_walk_wc(&vm.s2, &v, vm.s2_root, DATA_GPA, 0, &b, NULL, &w1), 0);
		mem_view_end(&v);
		CHECK(a.ok && b.ok && a.oa == b.oa && a.refs == 4 && b.refs == 1);
	}
	vm_fini(&vm);
}

static void test_bad_arguments(void)
{
	struct vm vm;
	struct pgt_result r;

	CHECK(vm_init(&vm, "x86-fs4", "vtd-ss4", 0x1000));
	/* Mixed architectures. */
	{
		struct pgt_fmt arm;

		CHECK_EQ(pgt_fmt_parse(&arm, "lpae-s2", NULL, 0), 0);
		CHECK_EQ(pgt_walk_nested(&vm.s1, vm.s1_root, &arm, vm.s2_root, vm.host, 0, 0, &r, NULL),
			 -EINVAL);
		CHECK_EQ(pgt_walk_nested(&vm.s2, vm.s2_root, &vm.s1, vm.s1_root, vm.host, 0, 0, &r, NULL),
			 -EINVAL);
	}
	CHECK_EQ(walk2(&vm, 0, PGT_ACC_WRITE | PGT_ACC_EXEC, &r), -EINVAL);
	CHECK_EQ(walk2(&vm, 0, 0x80, &r), -EINVAL);
	vm_fini(&vm);
}

int main(void)
{
	test_reference_counts();
	test_vtd_s2_faults_on_s1_tables();
	test_vtd_width_faults();
	test_output_stage2();
	test_arm_s2_faults_on_s1_tables();
	test_walk_caches();
	test_bad_arguments();
	return check_exit();
}
