/* cli/cmd_demo.c — `vsva demo`: the main job for now. Builds tables with
 * pgt_map() for every format (and every nested pair) in fresh physical memory,
 * walks an address through each, and prints every reference, exactly as
 * `vsva walk` would on the saved image (--save DIR writes those images). */
#include "cli/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

struct demo {
	const char *name;        /* image file stem */
	const char *what;
	const char *s1, *s2;     /* format spellings; s2 NULL for one stage */
	uint64_t va, pa, size;   /* the mapping (pa: output of the last stage) */
	unsigned prot;
	unsigned access;
};

static const struct demo demos[] = {
	{ "x86-fs4", "x86 4-level first stage, a user page written (A and D set by the walk)",
	  "x86-fs4:nxe", NULL, 0x7f0000401000, 0x2345000, 0x1000,
	  PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, PGT_ACC_WRITE | PGT_ACC_USER },
	{ "x86-fs5", "x86 5-level first stage, a supervisor 2 MiB page in the upper half",
	  "x86-fs5", NULL, 0xff60000000200000, 0x40000000, 0x200000, PGT_PROT_R | PGT_PROT_W, 0 },
	{ "vtd-ss3", "VT-d 3-level second stage with A/D, a 1 GiB page written",
	  "vtd-ss3:ad", NULL, 0x40000000, 0x80000000, 0x40000000, PGT_PROT_R | PGT_PROT_W,
	  PGT_ACC_WRITE },
	{ "vtd-ss4", "VT-d 4-level second stage, a 2 MiB page", "vtd-ss4", NULL, 0x7fe00000,
	  0x12200000, 0x200000, PGT_PROT_R, 0 },
	{ "vtd-ss5", "VT-d 5-level second stage, a 4 KiB page above 2^56", "vtd-ss5", NULL,
	  0x100000000001000, 0x3000, 0x1000, PGT_PROT_R | PGT_PROT_W, 0 },
	{ "lpae-s1-4k", "Arm stage 1, 4K granule, 39-bit VA (starts at level 1)",
	  "lpae-s1:4k:t0sz=25", NULL, 0x7fff000, 0x80001000, 0x1000,
	  PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, PGT_ACC_USER },
	{ "lpae-s1-16k", "Arm stage 1, 16K granule, 47-bit VA, a 32 MiB block",
	  "lpae-s1:16k:t0sz=17", NULL, 0x6000000, 0xa2000000, 0x2000000,
	  PGT_PROT_R | PGT_PROT_X, PGT_ACC_EXEC },
	{ "lpae-s1-64k", "Arm stage 1, 64K granule, 42-bit VA (two levels)",
	  "lpae-s1:64k:t0sz=22", NULL, 0x3ff0000, 0x88880000, 0x10000, PGT_PROT_R, 0 },
	{ "lpae-s2-4k", "Arm stage 2, 4K granule, 40-bit IPA from level 1: two concatenated tables",
	  "lpae-s2:4k:t0sz=24:sl0=1", NULL, 0x8000200000, 0x200000, 0x200000,
	  PGT_PROT_R | PGT_PROT_W, PGT_ACC_WRITE },
	{ "lpae-s2-64k", "Arm stage 2, 64K granule, 46-bit IPA from level 2: 16 concatenated tables",
	  "lpae-s2:64k:t0sz=18:sl0=1", NULL, 0x3fffffff0000, 0x1230000, 0x10000, PGT_PROT_R, 0 },
	{ "nested-x86-4-4", "x86-fs4 over vtd-ss4: a cold 2-D walk, 4*4+4+4 = 24 references",
	  "x86-fs4", "vtd-ss4", 0x00007f1234567000, 0x300000, 0x1000,
	  PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, PGT_ACC_USER },
	{ "nested-x86-5-5", "x86-fs5 over vtd-ss5: 5*5+5+5 = 35 references",
	  "x86-fs5", "vtd-ss5", 0x00ff7f1234567000, 0x301000, 0x1000,
	  PGT_PROT_R | PGT_PROT_W, PGT_ACC_WRITE },
	{ "nested-lpae-4-4", "lpae-s1 over lpae-s2, both 4K and 48-bit: 24 references",
	  "lpae-s1:4k:t0sz=16", "lpae-s2:4k:t0sz=16", 0x0000fedcba987000, 0x302000, 0x1000,
	  PGT_PROT_R | PGT_PROT_U, PGT_ACC_USER },
	{ "nested-lpae-3-3", "lpae-s1 (39-bit, 3 levels) over lpae-s2 (40-bit, concatenated): 15",
	  "lpae-s1:4k:t0sz=25", "lpae-s2:4k:t0sz=24", 0x0000007654321000, 0x303000, 0x1000,
	  PGT_PROT_R | PGT_PROT_W, 0 },
};

/* Host layout: table pool for one-stage formats and for stage 2; guest RAM. */
#define HOST_POOL       0x100000ull
#define HOST_POOL_SIZE  0x400000ull
#define GUEST_RAM_HPA   0x40000000ull
#define GUEST_RAM_SIZE  0x400000ull      /* GPA 0 .. 4 MiB, 4K pages at stage 2 */
#define GUEST_POOL_GPA  0x100000ull
#define GUEST_POOL_SIZE 0x100000ull

static int run_one(const struct demo *d, FILE *out, FILE *err, const char *save_dir)
{
	struct mem_space *host = NULL, *guest = NULL;
	struct mem_frames *hpool = NULL, *gpool = NULL;
	struct pgt_fmt f1, f2;
	struct pgt_result r;
	uint64_t root1 = 0, root2 = 0;
	void *ram;
	char msg[200];
	int ret = -EINVAL;

	if (pgt_fmt_parse(&f1, d->s1, msg, sizeof(msg)) ||
	    (d->s2 && pgt_fmt_parse(&f2, d->s2, msg, sizeof(msg)))) {
		fprintf(err, "vsva demo: %s\n", msg);
		return -EINVAL;
	}
	host = mem_space_new();
	if (!host || mem_add_anon(host, HOST_POOL, HOST_POOL_SIZE, MEM_RW, NULL))
		goto out;
	hpool = mem_frames_new(host, HOST_POOL, HOST_POOL_SIZE);
	if (!hpool)
		goto out;

	if (!d->s2) {
		ret = pgt_root_alloc(&f1, hpool, &root1);
		if (!ret)
			ret = pgt_map(&f1, hpool, root1, d->va, d->pa, d->size, d->prot, 0);
	} else {
		/* Guest RAM exists twice: at its host address, and at GPA 0 in the
		 * guest's own physical space, where the guest builds its tables. */
		ret = mem_add_anon(host, GUEST_RAM_HPA, GUEST_RAM_SIZE, MEM_RW, &ram);
		guest = mem_space_new();
		if (ret || !guest || mem_add(guest, 0, GUEST_RAM_SIZE, ram, MEM_RW))
			goto out;
		gpool = mem_frames_new(guest, GUEST_POOL_GPA, GUEST_POOL_SIZE);
		if (!gpool)
			goto out;
		ret = pgt_root_alloc(&f2, hpool, &root2);
		if (!ret)       /* stage 2: all of guest RAM, in 4 KiB pages */
			ret = pgt_map(&f2, hpool, root2, 0, GUEST_RAM_HPA, GUEST_RAM_SIZE,
				      PGT_PROT_R | PGT_PROT_W | PGT_PROT_X, 0x1000);
		if (!ret)
			ret = pgt_root_alloc(&f1, gpool, &root1);
		if (!ret)
			ret = pgt_map(&f1, gpool, root1, d->va, d->pa, d->size, d->prot, 0);
	}
	if (ret)
		goto out;

	fprintf(out, "\n== %s: %s\n   vsva walk --image %s.img --format %s --root 0x%" PRIx64, d->name,
		d->what, d->name, f1.name, root1);
	if (d->s2)
		fprintf(out, " --s2-format %s --s2-root 0x%" PRIx64, f2.name, root2);
	fprintf(out, " --addr 0x%" PRIx64 "%s%s\n", d->va,
		(d->access & PGT_ACC_WRITE) ? " --access w" : (d->access & PGT_ACC_EXEC) ? " --access x" : "",
		(d->access & PGT_ACC_USER) ? " --user" : "");
	if (save_dir) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.img", save_dir, d->name);
		f = fopen(path, "w");
		if (!f) {
			fprintf(err, "vsva demo: cannot write %s\n", path);
			ret = -EIO;
			goto out;
		}
		fprintf(f, "# vsva demo image: %s\n", d->what);
		image_save(host, f, false);
		fclose(f);
	}
	ret = cli_walk_run(out, host, &f1, root1, d->s2 ? &f2 : NULL, root2, d->va, d->access, false,
			   &r);
	if (!ret && d->s2) {
		unsigned n = f1.levels, m = f2.levels;

		fprintf(out, "   2-D walk: %u references = n*m + n + m with n=%u, m=%u: %s\n", r.refs, n,
			m, r.refs == n * m + n + m ? "yes" : "NO");
	}
out:
	mem_frames_free_pool(gpool);
	mem_space_free(guest);
	mem_frames_free_pool(hpool);
	mem_space_free(host);
	if (ret)
		fprintf(err, "vsva demo: %s failed: %s\n", d->name, strerror(ret < 0 ? -ret : EINVAL));
	return ret;
}

int cli_demo(int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option opts[] = {
		{ "save", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *save_dir = NULL;
	int opt, failed = 0;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 's') {
			save_dir = optarg;
		} else if (opt == 'h') {
			fprintf(out, "usage: vsva demo [--save DIR]   (DIR receives each walk's image)\n");
			return 0;
		} else {
			fprintf(err, "usage: vsva demo [--save DIR]\n");
			return 1;
		}
	}
	fprintf(out, "vsva demo: tables built by pgt_map() in fresh physical memory, then walked.\n"
		     "Each walk prints every memory reference: op, stage, level, @table-space address"
		     " -> physical address, value, decoded bits.\n");
	for (size_t i = 0; i < sizeof(demos) / sizeof(demos[0]); i++)
		failed |= run_one(&demos[i], out, err, save_dir) != 0;
	return failed;
}
