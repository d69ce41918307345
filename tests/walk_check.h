/* tests/walk_check.h — helpers shared by the one-stage walk tests (test_x86fs,
 * test_vtdss): a RAM space at [0, RAM_SIZE), word access that dies on setup
 * errors, the standard table layout (root at 0x1000, each level below in the next
 * page), snapshots that prove a walk wrote nothing but the expected bits, and
 * result checks that name the failing line.
 *
 * Include after check.h, the mem/pgtable headers and the defines RAM_SIZE,
 * SNAP_BYTES, TEST_NAME and TEST_STAGE (the stage a fault must report).
 */
#ifndef VSVA_TESTS_WALK_CHECK_H
#define VSVA_TESTS_WALK_CHECK_H

static void die(const char *what)
{
	fprintf(stderr, TEST_NAME ": setup failed: %s\n", what);
	exit(1);
}

static struct mem_space *new_space(void)
{
	struct mem_space *s = mem_space_new();

	if (!s || mem_add_anon(s, 0, RAM_SIZE, MEM_RW, NULL))
		die("mem_space_new/mem_add_anon");
	return s;
}

static void put(struct mem_space *s, uint64_t pa, uint64_t val)
{
	if (mem_store64(s, pa, val))
		die("mem_store64");
}

static uint64_t get(struct mem_space *s, uint64_t pa)
{
	uint64_t v = 0;

	if (mem_load64(s, pa, &v))
		die("mem_load64");
	return v;
}

/* The standard layout: the root at 0x1000 and each level below in the next page. */
static uint64_t std_table(unsigned levels, unsigned level)
{
	return 0x1000ull * (levels - level + 1);
}

/* The entry of `level` (1 = PTE) for address a in the standard layout. */
static uint64_t std_entry(unsigned levels, unsigned level, uint64_t a)
{
	return std_table(levels, level) + 8 * ((a >> (12 + 9 * (level - 1))) & 0x1ff);
}

static void walk(const struct pgt_fmt *f, struct mem_space *s, uint64_t root, uint64_t a,
		 unsigned access, struct pgt_result *r)
{
	int ret = pgt_walk(f, s, root, a, access, r, NULL);

	CHECK_EQ(ret, 0);
}

/*
 * The table memory before a walk, edited into what it must be after the walk
 * (snap_or), then compared word by word: proves that nothing else was written.
 */
static uint64_t snap_expected[SNAP_BYTES / 8];
static uint64_t snap_now[SNAP_BYTES / 8];

static void snap_take(struct mem_space *s)
{
	if (mem_read(s, 0, snap_expected, SNAP_BYTES))
		die("mem_read");
}

static void snap_or(uint64_t pa, uint64_t bits)
{
	snap_expected[pa / 8] |= bits;
}

#define SNAP_CHECK(s) snap_check(__LINE__, s)
static void snap_check(int line, struct mem_space *s)
{
	unsigned diffs = 0, first = 0;

	if (mem_read(s, 0, snap_now, SNAP_BYTES))
		die("mem_read");
	for (unsigned i = 0; i < SNAP_BYTES / 8; i++) {
		if (snap_now[i] != snap_expected[i] && !diffs++)
			first = i;
	}
	CHECK_MSG(!diffs, "line %d: %u table words differ; first at 0x%x: 0x%" PRIx64
		  ", expected 0x%" PRIx64, line, diffs, first * 8, snap_now[first],
		  snap_expected[first]);
}

#define EXPECT_OK(r, oa, size, perm) expect_ok(__LINE__, r, oa, size, perm)
static void expect_ok(int line, const struct pgt_result *r, uint64_t oa, uint64_t size,
		      unsigned perm)
{
	CHECK_MSG(r->ok, "line %d: fault 0x%x level %d entry 0x%" PRIx64, line, r->fault.code,
		  r->fault.level, r->fault.entry_pa);
	CHECK_MSG(r->oa == oa, "line %d: oa 0x%" PRIx64 ", expected 0x%" PRIx64, line, r->oa, oa);
	CHECK_MSG(r->page_size == size, "line %d: page size 0x%" PRIx64 ", expected 0x%" PRIx64,
		  line, r->page_size, size);
	CHECK_MSG(r->perm == perm, "line %d: perm 0x%x, expected 0x%x", line, r->perm, perm);
}

/*
 * A fault of this test's stage. level -1 means "no entry": entry_pa and table are
 * then not meaningful and have_entry must be false.
 */
#define EXPECT_FAULT(r, code, reason, level, addr, entry_pa, table) \
	expect_fault(__LINE__, r, code, reason, level, addr, entry_pa, table)
static void expect_fault(int line, const struct pgt_result *r, uint16_t code,
			 enum pgt_reason reason, int level, uint64_t addr, uint64_t entry_pa,
			 uint64_t table)
{
	const struct pgt_fault *ft = &r->fault;

	CHECK_MSG(!r->ok, "line %d: translated to 0x%" PRIx64 ", expected fault 0x%x", line,
		  r->oa, code);
	CHECK_MSG(ft->code == code, "line %d: code 0x%x, expected 0x%x", line, ft->code, code);
	CHECK_MSG(ft->reason == reason, "line %d: reason %s, expected %s", line,
		  pgt_reason_name(ft->reason), pgt_reason_name(reason));
	CHECK_MSG(ft->stage == TEST_STAGE, "line %d: stage %u, expected %d", line, ft->stage,
		  TEST_STAGE);
	CHECK_MSG(ft->level == level, "line %d: level %d, expected %d", line, ft->level, level);
	CHECK_MSG(ft->addr == addr, "line %d: addr 0x%" PRIx64 ", expected 0x%" PRIx64, line,
		  ft->addr, addr);
	CHECK_MSG(ft->have_entry == (level >= 0), "line %d: have_entry %d", line, ft->have_entry);
	if (level >= 0) {
		CHECK_MSG(ft->entry_pa == entry_pa,
			  "line %d: entry_pa 0x%" PRIx64 ", expected 0x%" PRIx64, line,
			  ft->entry_pa, entry_pa);
		CHECK_MSG(ft->table == table, "line %d: table 0x%" PRIx64 ", expected 0x%" PRIx64,
			  line, ft->table, table);
	}
}

#endif
