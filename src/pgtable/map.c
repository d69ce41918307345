/* pgtable/map.c — building table trees: map, unmap, free.
 *
 * One recursive builder for every format. Entries are written as software
 * writes them for the hardware: tables are zeroed before the entry that points
 * to them is stored (release), leaves are stored whole, and a table that an unmap
 * leaves empty is cleared from its parent before it goes back to the pool.
 * Callers serialise map/unmap of one tree; walkers may run meanwhile. A freed
 * table may be reused by the next allocation: the caller invalidates the
 * hardware's caches before it maps again (as a kernel driver does).
 */
#include "pgtable/pgtable.h"

#include "pgtable/lpae.h"
#include "pgtable/vtd_ss.h"
#include "pgtable/x86_fs.h"

struct mctx {
	const struct pgt_fmt *f;
	struct mem_frames *pool;
	struct mem_view v;
	unsigned prot;
	uint64_t page_size;     /* 0: largest that fits */
	uint64_t done;          /* bytes mapped or unmapped so far */
};

static uint64_t table_bytes(const struct pgt_fmt *f, unsigned h)
{
	return h == f->levels - 1u ? f->root_size : BIT(f->gshift);
}

/* Frames come in 4 KiB multiples; a small Arm root uses the start of one. */
static uint64_t frame_bytes(uint64_t table)
{
	return table < MEM_FRAME_SIZE ? MEM_FRAME_SIZE : table;
}

static unsigned index_bits(const struct pgt_fmt *f, unsigned h)
{
	return h == f->levels - 1u ? f->root_bits : f->stride;
}

static uint64_t lpae_encode_addr(const struct pgt_fmt *f, uint64_t pa)
{
	if (f->gshift == 16)
		return (pa & GENMASK(47, 16)) | ((pa >> 36) & LPAE_64K_OA_HI);
	return pa & GENMASK(47, 12);
}

static bool entry_valid(const struct pgt_fmt *f, uint64_t d)
{
	switch (f->family) {
	case PGT_X86_FS:
		return d & X86_P;
	case PGT_VTD_SS:
		return d & (SS_R | SS_W);
	default:
		return d & LPAE_VALID;
	}
}

static bool entry_is_table(const struct pgt_fmt *f, unsigned h, uint64_t d)
{
	if (h == 0)
		return false;
	switch (f->family) {
	case PGT_X86_FS:
		return !(d & X86_PS);
	case PGT_VTD_SS:
		return !(d & SS_PS);
	default:
		return (d & LPAE_TYPE) == LPAE_TYPE_TABLE;
	}
}

static uint64_t entry_table_addr(const struct pgt_fmt *f, uint64_t d)
{
	switch (f->family) {
	case PGT_X86_FS:
		return d & X86_ADDR;
	case PGT_VTD_SS:
		return d & SS_ADDR;
	default: {
		uint64_t a = d & GENMASK(47, f->gshift);

		if (f->gshift == 16)
			a |= (d & LPAE_64K_OA_HI) << 36;
		return a;
	}
	}
}

/* A table entry as software writes it: permissive, the leaf decides. */
static uint64_t make_table(const struct pgt_fmt *f, uint64_t pa)
{
	switch (f->family) {
	case PGT_X86_FS:
		return pa | X86_P | X86_RW | X86_US;
	case PGT_VTD_SS:
		return pa | SS_R | SS_W | SS_X;
	default:
		return lpae_encode_addr(f, pa) | LPAE_TYPE_TABLE;
	}
}

static uint64_t make_leaf(const struct pgt_fmt *f, unsigned h, uint64_t oa, unsigned prot)
{
	uint64_t d;

	switch (f->family) {
	case PGT_X86_FS:
		d = oa | X86_P;
		if (h > 0)
			d |= X86_PS;
		if (prot & PGT_PROT_W)
			d |= X86_RW;
		if (prot & PGT_PROT_U)
			d |= X86_US;
		if ((f->flags & PGT_CFG_NXE) && !(prot & PGT_PROT_X))
			d |= X86_XD;
		return d;
	case PGT_VTD_SS:
		d = oa;
		if (h > 0)
			d |= SS_PS;
		if (prot & PGT_PROT_R)
			d |= SS_R;
		if (prot & PGT_PROT_W)
			d |= SS_W;
		if (prot & PGT_PROT_X)
			d |= SS_X;
		return d;
	case PGT_LPAE_S1:
		d = lpae_encode_addr(f, oa) | (h ? LPAE_TYPE_BLOCK : LPAE_TYPE_TABLE) | LPAE_AF |
		    FIELD_PREP(LPAE_SH, 3);
		if (!(prot & PGT_PROT_W))
			d |= LPAE_AP2;
		if (prot & PGT_PROT_U)
			d |= LPAE_AP1;
		if (prot & PGT_PROT_NG)
			d |= LPAE_NG;
		if (!(prot & PGT_PROT_X))
			d |= LPAE_PXN | LPAE_UXN;
		else if (!(prot & PGT_PROT_U))
			d |= LPAE_UXN;      /* kernel-only code is not executable at EL0 */
		return d;
	default:
		d = lpae_encode_addr(f, oa) | (h ? LPAE_TYPE_BLOCK : LPAE_TYPE_TABLE) | LPAE_AF |
		    FIELD_PREP(LPAE_SH, 3) | FIELD_PREP(LPAE_MEMATTR, 0xf);
		if (prot & PGT_PROT_R)
			d |= LPAE_S2AP_R;
		if (prot & PGT_PROT_W)
			d |= LPAE_S2AP_W;
		if (!(prot & PGT_PROT_X))
			d |= LPAE_S2_XN;
		return d;
	}
}

/*
 * Input addresses as table indexes see them: x86 addresses must be canonical and
 * the range must stay in one half; others must fit the input size.
 */
static int norm_range(const struct pgt_fmt *f, uint64_t ia, uint64_t size, uint64_t *nia)
{
	uint64_t last = ia + size - 1;

	if (!size || last < ia)
		return -EINVAL;
	if (f->family == PGT_X86_FS) {
		unsigned top = f->ia_bits - 1;

		if (sext64(ia, top) != ia || sext64(last, top) != last ||
		    ((ia >> top) & 1) != ((last >> top) & 1))
			return -EINVAL;
		*nia = ia & GENMASK(top, 0);
		return 0;
	}
	if (last >> f->ia_bits)
		return -EINVAL;
	*nia = ia;
	return 0;
}

uint64_t pgt_page_sizes(const struct pgt_fmt *f)
{
	uint64_t sizes = 0;

	for (unsigned h = 0; h < f->levels; h++)
		if (f->leaf_ok & BIT(h))
			sizes |= BIT(pgt_shift(f, h));
	return sizes;
}

int pgt_root_alloc(const struct pgt_fmt *f, struct mem_frames *pool, uint64_t *root)
{
	return mem_frames_alloc(pool, frame_bytes(f->root_size), root);
}

/* ---- map ---------------------------------------------------------------------- */

/* -EEXIST if any leaf lies in [ia, end) under the table at height h. */
static int check_free(struct mctx *m, uint64_t table, unsigned h, uint64_t ia, uint64_t end)
{
	const struct pgt_fmt *f = m->f;
	uint64_t span = BIT(pgt_shift(f, h));
	uint64_t mask = BIT(index_bits(f, h)) - 1;

	while (ia < end) {
		uint64_t next = (ia | (span - 1)) + 1;
		uint64_t d;
		int ret = mem_view_load64(&m->v, table + ((ia >> pgt_shift(f, h)) & mask) * 8, &d);

		if (ret)
			return ret;
		if (entry_valid(f, d)) {
			if (!entry_is_table(f, h, d))
				return -EEXIST;
			ret = check_free(m, entry_table_addr(f, d), h - 1, ia,
					 end < next || !next ? end : next);
			if (ret)
				return ret;
		}
		if (!next || next >= end)
			break;
		ia = next;
	}
	return 0;
}

static bool leaf_fits(struct mctx *m, unsigned h, uint64_t ia, uint64_t end, uint64_t oa)
{
	uint64_t span = BIT(pgt_shift(m->f, h));

	if (!(m->f->leaf_ok & BIT(h)))
		return false;
	if (m->page_size)
		return span == m->page_size;
	return !((ia | oa) & (span - 1)) && end - ia >= span;
}

static int map_level(struct mctx *m, uint64_t table, unsigned h, uint64_t ia, uint64_t end,
		     uint64_t oa)
{
	const struct pgt_fmt *f = m->f;
	uint64_t span = BIT(pgt_shift(f, h));
	uint64_t mask = BIT(index_bits(f, h)) - 1;

	while (ia < end) {
		uint64_t next = (ia | (span - 1)) + 1;
		uint64_t chunk_end = (!next || next > end) ? end : next;
		uint64_t epa = table + ((ia >> pgt_shift(f, h)) & mask) * 8;
		uint64_t d;
		int ret = mem_view_load64(&m->v, epa, &d);

		if (ret)
			return ret;
		if (leaf_fits(m, h, ia, end, oa) &&
		    (!entry_valid(f, d) || !entry_is_table(f, h, d) || m->page_size)) {
			if (entry_valid(f, d))
				return -EEXIST;
			ret = mem_view_store64(&m->v, epa, make_leaf(f, h, oa, m->prot));
			if (ret)
				return ret;
			m->done += span;
		} else {
			uint64_t next_table;

			if (h == 0)
				return -EINVAL;     /* cannot happen: ranges are granule-aligned */
			if (!entry_valid(f, d)) {
				ret = mem_frames_alloc(m->pool, frame_bytes(BIT(f->gshift)), &next_table);
				if (ret)
					return ret;
				ret = mem_view_store64(&m->v, epa, make_table(f, next_table));
				if (ret) {
					mem_frames_free(m->pool, next_table,
							frame_bytes(BIT(f->gshift)));
					return ret;
				}
			} else if (!entry_is_table(f, h, d)) {
				return -EEXIST;
			} else {
				next_table = entry_table_addr(f, d);
			}
			ret = map_level(m, next_table, h - 1, ia, chunk_end, oa);
			if (ret)
				return ret;
		}
		oa += chunk_end - ia;
		if (chunk_end == end)
			break;
		ia = chunk_end;
	}
	return 0;
}

static int unmap_tree(struct mctx *m, uint64_t root, uint64_t ia, uint64_t end);

int pgt_map(const struct pgt_fmt *f, struct mem_frames *pool, uint64_t root, uint64_t ia,
	    uint64_t oa, uint64_t size, unsigned prot, uint64_t page_size)
{
	struct mctx m = { .f = f, .pool = pool, .prot = prot, .page_size = page_size };
	uint64_t nia, align = page_size ? page_size : BIT(f->gshift);
	int ret;

	if (prot & ~(PGT_PROT_R | PGT_PROT_W | PGT_PROT_X | PGT_PROT_U | PGT_PROT_NG))
		return -EINVAL;
	if ((f->family == PGT_VTD_SS || f->family == PGT_LPAE_S2) && (prot & PGT_PROT_NG))
		return -EINVAL;             /* no ASIDs in a second stage */
	if ((f->family == PGT_X86_FS || f->family == PGT_LPAE_S1) && !(prot & PGT_PROT_R))
		return -EINVAL;             /* first-stage pages are always readable */
	if ((f->family == PGT_VTD_SS || f->family == PGT_LPAE_S2) && (prot & PGT_PROT_U))
		return -EINVAL;             /* no user/supervisor split in a second stage */
	if (f->family == PGT_VTD_SS && !(prot & (PGT_PROT_R | PGT_PROT_W)))
		return -EINVAL;             /* R = W = 0 is "not present" */
	if (f->family == PGT_LPAE_S2 && !prot)
		return -EINVAL;
	if (page_size && !(pgt_page_sizes(f) & page_size))
		return -EINVAL;
	if (!is_pow2_u64(align) || ((ia | oa | size) & (align - 1)))
		return -EINVAL;
	if (norm_range(f, ia, size, &nia) || oa + size - 1 < oa || ((oa + size - 1) & ~f->oa_mask))
		return -EINVAL;
	root &= ~(pgt_root_align(f) - 1);

	mem_view_begin(&m.v, mem_frames_space(pool));
	ret = check_free(&m, root, f->levels - 1, nia, nia + size);
	if (ret) {
		mem_view_end(&m.v);
		return ret;
	}
	ret = map_level(&m, root, f->levels - 1, nia, nia + size, oa);
	if (ret) {
		/* Undo: the range held no page before, so unmapping it all restores the
		 * tree, and the tables this call created are empty again and freed. */
		struct mctx u = { .f = f, .pool = pool, .v = m.v };

		unmap_tree(&u, root, nia, nia + size);
	}
	mem_view_end(&m.v);
	return ret;
}

/* ---- unmap and free --------------------------------------------------------- */

/* -EINVAL if a leaf under this table straddles ia or end. */
static int check_split(struct mctx *m, uint64_t table, unsigned h, uint64_t ia, uint64_t end)
{
	const struct pgt_fmt *f = m->f;
	uint64_t span = BIT(pgt_shift(f, h));
	uint64_t mask = BIT(index_bits(f, h)) - 1;

	while (ia < end) {
		uint64_t base = ia & ~(span - 1);
		uint64_t next = base + span;
		uint64_t d;
		int ret = mem_view_load64(&m->v, table + ((ia >> pgt_shift(f, h)) & mask) * 8, &d);

		if (ret)
			return ret;
		if (entry_valid(f, d)) {
			if (!entry_is_table(f, h, d)) {
				if (base < ia || (next && next > end))
					return -EINVAL;
			} else {
				ret = check_split(m, entry_table_addr(f, d), h - 1, ia,
						  (next && next < end) ? next : end);
				if (ret)
					return ret;
			}
		}
		if (!next || next >= end)
			break;
		ia = next;
	}
	return 0;
}

static bool table_empty(struct mctx *m, uint64_t table, unsigned h)
{
	uint64_t n = BIT(index_bits(m->f, h));

	for (uint64_t i = 0; i < n; i++) {
		uint64_t d;

		if (mem_view_load64(&m->v, table + i * 8, &d) || entry_valid(m->f, d))
			return false;
	}
	return true;
}

static void free_subtree(struct mctx *m, uint64_t table, unsigned h)
{
	uint64_t n = BIT(index_bits(m->f, h));

	if (h > 0) {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t d;

			if (!mem_view_load64(&m->v, table + i * 8, &d) && entry_valid(m->f, d) &&
			    entry_is_table(m->f, h, d))
				free_subtree(m, entry_table_addr(m->f, d), h - 1);
		}
	}
	mem_frames_free(m->pool, table, frame_bytes(table_bytes(m->f, h)));
}

/* Unmaps leaves in [ia, end) below table; returns true if the table is now empty. */
static bool unmap_level(struct mctx *m, uint64_t table, unsigned h, uint64_t ia, uint64_t end)
{
	const struct pgt_fmt *f = m->f;
	uint64_t span = BIT(pgt_shift(f, h));
	uint64_t mask = BIT(index_bits(f, h)) - 1;

	while (ia < end) {
		uint64_t next = (ia | (span - 1)) + 1;
		uint64_t chunk_end = (!next || next > end) ? end : next;
		uint64_t epa = table + ((ia >> pgt_shift(f, h)) & mask) * 8;
		uint64_t d;

		if (!mem_view_load64(&m->v, epa, &d) && entry_valid(f, d)) {
			if (!entry_is_table(f, h, d)) {
				mem_view_store64(&m->v, epa, 0);
				m->done += span;
			} else {
				uint64_t sub = entry_table_addr(f, d);

				if (unmap_level(m, sub, h - 1, ia, chunk_end)) {
					/* Unlink before freeing: a walker never follows a
					 * pointer to a table that is back in the pool. */
					mem_view_store64(&m->v, epa, 0);
					mem_frames_free(m->pool, sub, frame_bytes(BIT(f->gshift)));
				}
			}
		}
		if (chunk_end == end)
			break;
		ia = chunk_end;
	}
	return table_empty(m, table, h);
}

static int unmap_tree(struct mctx *m, uint64_t root, uint64_t ia, uint64_t end)
{
	unmap_level(m, root, m->f->levels - 1, ia, end);
	return 0;
}

int pgt_unmap(const struct pgt_fmt *f, struct mem_frames *pool, uint64_t root, uint64_t ia,
	      uint64_t size, uint64_t *unmapped)
{
	struct mctx m = { .f = f, .pool = pool };
	uint64_t nia;
	int ret;

	if (unmapped)
		*unmapped = 0;
	if (((ia | size) & (BIT(f->gshift) - 1)) || norm_range(f, ia, size, &nia))
		return -EINVAL;
	root &= ~(pgt_root_align(f) - 1);
	mem_view_begin(&m.v, mem_frames_space(pool));
	ret = check_split(&m, root, f->levels - 1, nia, nia + size);
	if (!ret)
		ret = unmap_tree(&m, root, nia, nia + size);
	mem_view_end(&m.v);
	if (unmapped)
		*unmapped = m.done;
	return ret;
}

void pgt_free_tree(const struct pgt_fmt *f, struct mem_frames *pool, uint64_t root)
{
	struct mctx m = { .f = f, .pool = pool };

	root &= ~(pgt_root_align(f) - 1);
	mem_view_begin(&m.v, mem_frames_space(pool));
	free_subtree(&m, root, f->levels - 1);
	mem_view_end(&m.v);
}
