/* pgtable/pgtable.h — every page-table format of the two IOMMUs: build and walk.
 *
 * Owns: format geometry (struct pgt_fmt), the 1-D walker, the nested 2-D walker,
 * and map/unmap of table trees. Formats:
 *   PGT_X86_FS   x86-64 paging as VT-d's first stage: 4 or 5 levels, 4K/2M/1G
 *   PGT_VTD_SS   VT-d second stage: 3, 4 or 5 levels (39/48/57-bit), 4K/2M/1G
 *   PGT_LPAE_S1  Arm VMSAv8-64 stage 1: 4K, 16K, 64K granules, T0SZ
 *   PGT_LPAE_S2  Arm VMSAv8-64 stage 2: 4K, 16K, 64K, T0SZ + SL0, concatenation
 * Bit layouts live in the per-format headers x86_fs.h, vtd_ss.h and lpae.h.
 *
 * Callers: the hardware models (walks), the host drivers and the guest model
 * (map/unmap), the CLI. A walk reads tables through mem/ only; a table entry that
 * is not in memory becomes the format's table-access fault, never a crash.
 *
 * Concurrency: walks take no lock and may run in any number of threads, also
 * while the tables change (the result is then either translation, as on
 * hardware). map/unmap of one tree must be serialised by the caller; they publish
 * a new table only after zeroing it, with release stores.
 */
#ifndef VSVA_PGTABLE_H
#define VSVA_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/mem.h"

enum pgt_family {
	PGT_X86_FS,
	PGT_VTD_SS,
	PGT_LPAE_S1,
	PGT_LPAE_S2,
};

/* Configuration flags (struct pgt_cfg.flags). */
#define PGT_CFG_AD     BIT(0)  /* VT-d SS: SSADE, accessed/dirty flags are maintained */
#define PGT_CFG_NXE    BIT(1)  /* x86 FS: XD is honoured (else bit 63 is reserved) */
#define PGT_CFG_WPE    BIT(2)  /* x86 FS: supervisor writes obey R/W */
#define PGT_CFG_HA     BIT(3)  /* LPAE: hardware sets AF */
#define PGT_CFG_HD     BIT(4)  /* LPAE: hardware dirty state via DBM (needs HA) */
#define PGT_CFG_NO1G   BIT(5)  /* x86 FS / VT-d SS: no 1 GiB pages (FL1GP / SLLPS) */
#define PGT_CFG_NO2M   BIT(6)  /* VT-d SS: no 2 MiB pages (SLLPS) */
#define PGT_CFG_SMEP   BIT(7)  /* x86 FS: no supervisor execute of user pages */
#define PGT_CFG_SLEE   BIT(8)  /* VT-d SS: execute requests need X (PASID entry SLEE) */
#define PGT_CFG_NOSC   BIT(9)  /* VT-d SS: no snoop control, SNP (bit 11) is reserved */
#define PGT_CFG_AFFD   BIT(11) /* LPAE: AF = 0 is no fault (access flag fault disable);
                                * without HA the entry is not updated either */
#define PGT_CFG_NOLPA  BIT(12) /* LPAE 64K: the implementation has no 52-bit PAs, so no
                                * 4 TiB level-1 blocks (BlockDescSupported) */
#define PGT_CFG_HAD    BIT(10) /* LPAE S1: hierarchical attributes disabled (APTable,
                                * XNTable, PXNTable ignored: SMMU CD.HADx, FEAT_HPDS) */

struct pgt_cfg {
	enum pgt_family family;
	unsigned levels;        /* x86 FS: 4 or 5; VT-d SS: 3, 4 or 5; LPAE: 0 */
	unsigned granule;       /* LPAE: 4096, 16384 or 65536; others: 0 or 4096 */
	unsigned tsz;           /* LPAE: T0SZ (input size 64 - T0SZ) */
	unsigned sl0;           /* LPAE S2: SL0 */
	unsigned oas;           /* output address bits, 32..52; 0 = the format's maximum */
	unsigned flags;         /* PGT_CFG_* */
};

#define PGT_MAX_LEVELS 5

/* A validated format: everything a walk needs, computed once. */
struct pgt_fmt {
	struct pgt_cfg cfg;
	enum pgt_family family;
	uint8_t levels;         /* tables walked from the root to a 4K/granule leaf */
	uint8_t gshift;         /* log2(granule) */
	uint8_t stride;         /* index bits per level below the root */
	uint8_t ia_bits;        /* input address bits */
	uint8_t oas;            /* output address bits */
	uint8_t root_bits;      /* index bits at the root (stage 2: with concatenation) */
	uint8_t leaf_ok;        /* bit h: a leaf (page/block/large page) may sit at height h */
	unsigned flags;
	uint64_t root_size;     /* bytes of the root table (concatenated tables included) */
	uint64_t oa_mask;       /* output address bits that exist: GENMASK(oas - 1, 0) */
	/* Per height, so that a walk decides each entry with masks, not branches: */
	uint8_t shift[PGT_MAX_LEVELS];      /* input bits below this level's index */
	uint64_t idx_mask[PGT_MAX_LEVELS];  /* index bits of this level's table */
	uint64_t rsvd_tbl[PGT_MAX_LEVELS];  /* bits that must be 0 in a table entry (x86, SS) */
	uint64_t rsvd_leaf[PGT_MAX_LEVELS]; /* ... in a leaf; includes PS where PS is illegal */
	uint64_t leaf_addr[PGT_MAX_LEVELS]; /* the output address bits of a leaf */
	uint64_t tbl_addr;                  /* the next-table address bits of a table entry */
	int8_t level[PGT_MAX_LEVELS];       /* the format's own number for each height */
	uint64_t root_align;                /* see pgt_root_align() */
	char name[40];          /* the CLI spelling, e.g. "lpae-s2:4k:t0sz=24:sl0=1" */
};

/*
 * Heights: a walk starts at height levels - 1 (the root) and ends at height 0,
 * the table of smallest pages. Formats name levels their own way:
 * x86 FS and VT-d SS level = height + 1 (1 = PTE ... 5 = PML5E); LPAE level =
 * 3 - height (0 ... 3).
 */
static inline int pgt_level_of(const struct pgt_fmt *f, unsigned height)
{
	return f->level[height];
}
const char *pgt_level_name(const struct pgt_fmt *f, unsigned height);
static inline unsigned pgt_shift(const struct pgt_fmt *f, unsigned height)
{
	return f->gshift + f->stride * height;
}

/* -EINVAL for a combination the specification does not allow (see fmt.c). */
int pgt_fmt_init(struct pgt_fmt *f, const struct pgt_cfg *cfg);
/* Parses the CLI spelling ("x86-fs4", "vtd-ss4:ad", "lpae-s1:4k:t0sz=25:ha:hd"...).
 * -EINVAL with a message in err (if non-NULL) on a bad name or option. */
int pgt_fmt_parse(struct pgt_fmt *f, const char *spec, char *err, size_t errlen);

/* ---- walking ---------------------------------------------------------------- */

/* Request (pgt_walk access argument). Read is implied unless WRITE; EXEC is an
 * instruction fetch; USER is an unprivileged (user / EL0) request. */
#define PGT_ACC_WRITE  BIT(0)
#define PGT_ACC_EXEC   BIT(1)
#define PGT_ACC_USER   BIT(2)

/* Effective permissions of a translation for the requester's privilege. */
#define PGT_PERM_R  BIT(0)
#define PGT_PERM_W  BIT(1)
#define PGT_PERM_X  BIT(2)

enum pgt_reason {
	PGT_FAULT_NONE = 0,
	PGT_FAULT_NOT_PRESENT,   /* not present / LPAE invalid or translation fault */
	PGT_FAULT_PERMISSION,
	PGT_FAULT_RESERVED,      /* a reserved bit is set in a present entry */
	PGT_FAULT_ADDR_SIZE,     /* an address exceeds the configured width */
	PGT_FAULT_ACCESS_FLAG,   /* LPAE AF == 0 without hardware update */
	PGT_FAULT_NON_CANONICAL, /* x86 FS input address not canonical */
	PGT_FAULT_TABLE_ACCESS,  /* a table entry could not be read or updated */
};

struct pgt_fault {
	enum pgt_reason reason;
	uint8_t stage;          /* 1 or 2 (a 1-D walk of a stage-2 format is stage 2) */
	bool s1_fetch;          /* stage-2 fault while translating a stage-1 table address */
	bool root;              /* ... and that table was the stage-1 root */
	bool s1_write;          /* ... for a stage-1 descriptor update (SMMU TTRnW = 0) */
	int8_t level;           /* the format's level number; -1 when there is none */
	bool have_entry;        /* entry_ea/entry_pa/table are meaningful */
	uint16_t code;          /* the format's own code (VT-d reason, SMMU event ID) */
	uint64_t addr;          /* input address of the faulting stage (IA, or IPA/GPA) */
	uint64_t entry_ea;      /* the entry involved, in its stage's table space (an IPA or
	                         * GPA for a nested stage 1; else equal to entry_pa) */
	uint64_t entry_pa;      /* ... and its physical address (0 if never translated) */
	uint64_t table;         /* base of that entry's table, in the same table space as
	                         * entry_ea (the root: the whole concatenated root) */
};

/* Memory attributes of a leaf, as its format states them (not combined across
 * stages: the combination rules belong to the models that use them). */
struct pgt_attrs {
	uint8_t memtype;        /* x86: PAT index (PAT<<2 | PCD<<1 | PWT); VT-d SS: EMT;
	                         * LPAE stage 1: AttrIndx; stage 2: MemAttr */
	uint8_t sh;             /* LPAE shareability (SH) */
	bool ipat;              /* VT-d SS: ignore PAT */
	bool snp;               /* VT-d SS: snoop */
	bool global;            /* x86 G; LPAE stage 1: !nG */
	bool ns;                /* LPAE stage 1 NS */
	bool contig;            /* LPAE contiguous hint */
};

/* Decodes the attributes of the leaf desc found at height. */
void pgt_leaf_attrs(const struct pgt_fmt *f, unsigned height, uint64_t desc, struct pgt_attrs *a);

struct pgt_result {
	bool ok;
	uint64_t oa;            /* output address of the request's byte */
	uint64_t page_size;     /* the smallest page/block along the stages */
	unsigned perm;          /* PGT_PERM_*, stages combined */
	uint64_t leaf[2];       /* the leaf descriptor of stage 1 and stage 2 (as updated) */
	int8_t leaf_level[2];   /* their format levels (-1: stage absent) */
	struct pgt_attrs attrs[2];  /* their attributes (when the level is not -1) */
	unsigned refs;          /* table entries read */
	unsigned updates;       /* A/D/AF/dirty writes made */
	struct pgt_fault fault; /* when !ok (when ok, only fault.reason is set: NONE) */
};

/* One memory reference of a walk, for tracing. */
struct pgt_step {
	bool write;             /* an A/D/AF/dirty update (old -> value) */
	uint8_t stage;
	int8_t level;
	bool s1_fetch;          /* a stage-2 step translating a stage-1 table address */
	const struct pgt_fmt *fmt;
	unsigned height;
	uint64_t ia;            /* the stage's input address being translated */
	uint64_t ea;            /* the entry's address in its stage's table space (an IPA or
	                         * GPA for nested stage 1; else equal to pa) */
	uint64_t pa;            /* where the entry is */
	uint64_t old;
	uint64_t value;
};

struct pgt_trace {
	void (*step)(void *ctx, const struct pgt_step *s);
	void *ctx;
};

/*
 * Translates ia through the tree at root, reading memory in s. Returns 0 when
 * the walk completed, with r->ok for a translation or r->fault; -EINVAL only for
 * a bad argument (unknown access bits, write and execute together). The bits of
 * root below pgt_root_align() are ignored, as hardware ignores them. trace may
 * be NULL.
 */
int pgt_walk(const struct pgt_fmt *f, struct mem_space *s, uint64_t root, uint64_t ia,
	     unsigned access, struct pgt_result *r, const struct pgt_trace *trace);
/* The same inside a caller's mem view (no RCU section of its own). */
int pgt_walk_view(const struct pgt_fmt *f, struct mem_view *v, uint64_t root, uint64_t ia,
		  unsigned access, struct pgt_result *r, const struct pgt_trace *trace);

/*
 * Nested 2-D walk: s1 over s2, both of one architecture (x86 FS over VT-d SS, or
 * LPAE S1 over LPAE S2). The stage-1 root, every stage-1 table address and the
 * stage-1 output are translated by stage 2; -EINVAL for a mixed pair.
 */
int pgt_walk_nested(const struct pgt_fmt *s1, uint64_t s1_root, const struct pgt_fmt *s2,
		    uint64_t s2_root, struct mem_space *s, uint64_t ia, unsigned access,
		    struct pgt_result *r, const struct pgt_trace *trace);
int pgt_walk_nested_view(const struct pgt_fmt *s1, uint64_t s1_root, const struct pgt_fmt *s2,
			 uint64_t s2_root, struct mem_view *v, uint64_t ia, unsigned access,
			 struct pgt_result *r, const struct pgt_trace *trace);

/*
 * Walk caches (paging-structure caches): a walk asks lookup() for the deepest
 * cached table on the way to ia at a stage and starts there; it offers every table
 * pointer it passes to fill(). acc[2] is the permission state accumulated above
 * that table (the walker's own representation: opaque to the cache, stored and
 * returned as is). lookup returns the height of the table to read next (below
 * the root), or -1. Heights and tables are in the stage's table space (IPA/GPA
 * for a nested stage 1).
 */
struct pgt_wcache {
	int (*lookup)(void *ctx, const struct pgt_fmt *f, uint8_t stage, uint64_t ia,
		      uint64_t *table, uint64_t acc[2]);
	void (*fill)(void *ctx, const struct pgt_fmt *f, uint8_t stage, unsigned height,
		     uint64_t ia, uint64_t table, const uint64_t acc[2]);
	void *ctx;
};

/* pgt_walk_view / pgt_walk_nested_view with walk caches (wc may be NULL). */
int pgt_walk_wc(const struct pgt_fmt *f, struct mem_view *v, uint64_t root, uint64_t ia,
		unsigned access, struct pgt_result *r, const struct pgt_trace *trace,
		const struct pgt_wcache *wc);
int pgt_walk_nested_wc(const struct pgt_fmt *s1, uint64_t s1_root, const struct pgt_fmt *s2,
		       uint64_t s2_root, struct mem_view *v, uint64_t ia, unsigned access,
		       struct pgt_result *r, const struct pgt_trace *trace,
		       const struct pgt_wcache *wc);

/* Names: "not-present", "permission", ... and the format code's name if it has one. */
const char *pgt_reason_name(enum pgt_reason reason);
const char *pgt_code_name(const struct pgt_fmt *f, uint16_t code);
/* The alignment of a root table (bytes); lower bits of a root are ignored. */
static inline uint64_t pgt_root_align(const struct pgt_fmt *f)
{
	return f->root_align;
}

/* ---- building ------------------------------------------------------------- */

/* Mapping protections (pgt_map prot). */
#define PGT_PROT_R  BIT(0)
#define PGT_PROT_W  BIT(1)
#define PGT_PROT_X  BIT(2)
#define PGT_PROT_U  BIT(3)   /* user/EL0 accessible (x86 FS U/S, LPAE S1 AP[1]) */
#define PGT_PROT_NG BIT(4)   /* not global: LPAE S1 nG, so that the entry is tagged with
                              * the ASID and TLBI by ASID drops it (as Linux maps user
                              * pages); x86 FS leaves are never global here (G unset);
                              * refused in second stages */

/* Allocates and zeroes a root table from the pool. */
int pgt_root_alloc(const struct pgt_fmt *f, struct mem_frames *pool, uint64_t *root);

/*
 * Maps [ia, ia + size) to [oa, oa + size). With page_size 0 each piece uses the
 * largest page the format allows at that alignment; otherwise every page is
 * page_size. -EINVAL: unaligned ia/oa/size, size 0, out of the input or output
 * range, an unsupported page_size, or prot not expressible in the format (x86 and
 * LPAE stage 1 pages are always readable, so prot must include R); -EEXIST: some
 * part is already mapped; -ENOMEM: no table memory (what was mapped is undone).
 * Nothing is changed on error.
 */
int pgt_map(const struct pgt_fmt *f, struct mem_frames *pool, uint64_t root, uint64_t ia,
	    uint64_t oa, uint64_t size, unsigned prot, uint64_t page_size);

/*
 * Unmaps every page inside [ia, ia + size); holes are skipped; a table whose whole
 * span is unmapped is freed. -EINVAL: unaligned or out of range, or the range cuts
 * a large page or block in two (nothing is changed). *unmapped (may be NULL)
 * receives the bytes that were mapped.
 */
int pgt_unmap(const struct pgt_fmt *f, struct mem_frames *pool, uint64_t root, uint64_t ia,
	      uint64_t size, uint64_t *unmapped);

/* Frees every table of the tree, root included. */
void pgt_free_tree(const struct pgt_fmt *f, struct mem_frames *pool, uint64_t root);

/* Page sizes the format can map, as a bit mask of sizes (bit n = 2^n bytes). */
uint64_t pgt_page_sizes(const struct pgt_fmt *f);

/* Decoded bits of an entry for traces: "P RW US A" etc. Returns buf. */
const char *pgt_describe(const struct pgt_fmt *f, unsigned height, uint64_t desc, char *buf,
			 size_t len);

#endif
