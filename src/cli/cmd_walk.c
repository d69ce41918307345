/* cli/cmd_walk.c — `vsva walk`: what a table image translates an address to,
 * with every memory reference on the way, as the specifications say. */
#include "cli/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pgtable/pgtable.h"

struct collect {
	struct pgt_step *steps;
	size_t n, cap;
	bool oom;
};

static void collect_step(void *ctx, const struct pgt_step *s)
{
	struct collect *c = ctx;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct pgt_step *p = realloc(c->steps, cap * sizeof(*p));

		if (!p) {
			c->oom = true;
			return;
		}
		c->steps = p;
		c->cap = cap;
	}
	c->steps[c->n++] = *s;
}

static void perm_string(unsigned perm, char out[4])
{
	out[0] = (perm & PGT_PERM_R) ? 'r' : '-';
	out[1] = (perm & PGT_PERM_W) ? 'w' : '-';
	out[2] = (perm & PGT_PERM_X) ? 'x' : '-';
	out[3] = 0;
}

static const char *access_name(unsigned access)
{
	if (access & PGT_ACC_WRITE)
		return "write";
	if (access & PGT_ACC_EXEC)
		return "exec";
	return "read";
}

static void print_text(FILE *out, const struct pgt_step *st, size_t n, const struct pgt_result *r,
		       const struct pgt_fmt *s1, const struct pgt_fmt *s2)
{
	char bits[160], perm[4];

	for (size_t i = 0; i < n; i++) {
		const struct pgt_step *s = &st[i];
		const char *d = pgt_describe(s->fmt, s->height, s->value, bits, sizeof(bits));

		fprintf(out, "%3zu %-5s s%u %-8s", i + 1, s->write ? "write" : "read", s->stage,
			pgt_level_name(s->fmt, s->height));
		if (s->ea != s->pa)
			fprintf(out, " @0x%" PRIx64 " ->", s->ea);
		if (s->write)
			fprintf(out, " 0x%016" PRIx64 " : 0x%016" PRIx64 " -> 0x%016" PRIx64 "  %s", s->pa,
				s->old, s->value, d);
		else
			fprintf(out, " 0x%016" PRIx64 " = 0x%016" PRIx64 "  %s", s->pa, s->value, d);
		if (s->s1_fetch)
			fprintf(out, "  (stage-1 table)");
		fputc('\n', out);
	}
	if (r->ok) {
		perm_string(r->perm, perm);
		fprintf(out, "result: ok output 0x%" PRIx64 " page_size 0x%" PRIx64 " perm %s refs %u"
			" updates %u\n", r->oa, r->page_size, perm, r->refs, r->updates);
		return;
	}
	const struct pgt_fault *f = &r->fault;
	const struct pgt_fmt *ff = (s2 && f->stage == 2) ? s2 : s1;

	fprintf(out, "result: fault stage %u level ", f->stage);
	if (f->level >= 0)
		fprintf(out, "%d", f->level);
	else
		fprintf(out, "-");
	fprintf(out, " reason %s code 0x%02x (%s) addr 0x%" PRIx64, pgt_reason_name(f->reason),
		f->code, pgt_code_name(ff, f->code), f->addr);
	if (f->have_entry) {
		fprintf(out, " entry 0x%" PRIx64, f->entry_pa);
		if (f->entry_ea != f->entry_pa)
			fprintf(out, " (@0x%" PRIx64 ")", f->entry_ea);
		fprintf(out, " table 0x%" PRIx64, f->table);
	}
	if (f->s1_fetch)
		fprintf(out, " during %s", f->s1_write ? "a stage-1 descriptor update"
						       : "a stage-1 table fetch");
	fprintf(out, " refs %u updates %u\n", r->refs, r->updates);
}

static void print_json(FILE *out, const struct pgt_step *st, size_t n, const struct pgt_result *r,
		       const struct pgt_fmt *s1, const struct pgt_fmt *s2)
{
	char bits[160], perm[4];

	if (r->ok) {
		perm_string(r->perm, perm);
		fprintf(out, "{\"result\":\"ok\",\"output\":\"0x%" PRIx64 "\",\"page_size\":%" PRIu64
			",\"perm\":\"%s\"", r->oa, r->page_size, perm);
		for (int i = 0; i < 2; i++) {
			const struct pgt_attrs *a = &r->attrs[i];

			if (r->leaf_level[i] < 0)
				continue;
			fprintf(out, ",\"s%d_leaf\":\"0x%" PRIx64 "\",\"s%d_attrs\":{\"memtype\":%u,"
				"\"sh\":%u,\"ipat\":%s,\"snp\":%s,\"global\":%s,\"ns\":%s,"
				"\"contig\":%s}", i + 1, r->leaf[i], i + 1, a->memtype, a->sh,
				a->ipat ? "true" : "false", a->snp ? "true" : "false",
				a->global ? "true" : "false", a->ns ? "true" : "false",
				a->contig ? "true" : "false");
		}
	} else {
		const struct pgt_fault *f = &r->fault;
		const struct pgt_fmt *ff = (s2 && f->stage == 2) ? s2 : s1;

		fprintf(out, "{\"result\":\"fault\",\"stage\":%u,\"level\":", f->stage);
		if (f->level >= 0)
			fprintf(out, "%d", f->level);
		else
			fprintf(out, "null");
		fprintf(out, ",\"reason\":\"%s\",\"code\":\"0x%02x\",\"code_name\":\"%s\","
			"\"addr\":\"0x%" PRIx64 "\"", pgt_reason_name(f->reason), f->code,
			pgt_code_name(ff, f->code), f->addr);
		if (f->have_entry)
			fprintf(out, ",\"entry\":\"0x%" PRIx64 "\",\"table\":\"0x%" PRIx64 "\","
				"\"entry_ea\":\"0x%" PRIx64 "\"", f->entry_pa, f->table, f->entry_ea);
		fprintf(out, ",\"s1_fetch\":%s,\"s1_write\":%s", f->s1_fetch ? "true" : "false",
			f->s1_write ? "true" : "false");
	}
	fprintf(out, ",\"refs\":%u,\"updates\":%u,\"steps\":[", r->refs, r->updates);
	for (size_t i = 0; i < n; i++) {
		const struct pgt_step *s = &st[i];

		fprintf(out, "%s{\"op\":\"%s\",\"stage\":%u,\"level\":%d,\"name\":\"%s\","
			"\"ia\":\"0x%" PRIx64 "\",\"ea\":\"0x%" PRIx64 "\",\"pa\":\"0x%" PRIx64 "\"",
			i ? "," : "", s->write ? "write" : "read", s->stage, s->level,
			pgt_level_name(s->fmt, s->height), s->ia, s->ea, s->pa);
		if (s->write)
			fprintf(out, ",\"old\":\"0x%" PRIx64 "\"", s->old);
		fprintf(out, ",\"value\":\"0x%" PRIx64 "\",\"s1_fetch\":%s,\"bits\":\"%s\"}", s->value,
			s->s1_fetch ? "true" : "false",
			pgt_describe(s->fmt, s->height, s->value, bits, sizeof(bits)));
	}
	fprintf(out, "]}\n");
}

int cli_walk_run(FILE *out, struct mem_space *s, const struct pgt_fmt *s1, uint64_t root,
		 const struct pgt_fmt *s2, uint64_t s2_root, uint64_t addr, unsigned access,
		 bool json, struct pgt_result *res)
{
	struct collect c = { 0 };
	struct pgt_trace t = { collect_step, &c };
	struct pgt_result r;
	int ret;

	if (s2)
		ret = pgt_walk_nested(s1, root, s2, s2_root, s, addr, access, &r, &t);
	else
		ret = pgt_walk(s1, s, root, addr, access, &r, &t);
	if (ret || c.oom) {
		free(c.steps);
		return ret ? ret : -ENOMEM;
	}
	if (json) {
		print_json(out, c.steps, c.n, &r, s1, s2);
	} else {
		fprintf(out, "walk %s%s%s addr 0x%" PRIx64 " %s%s\n", s1->name, s2 ? " over " : "",
			s2 ? s2->name : "", addr, access_name(access),
			(access & PGT_ACC_USER) ? " user" : "");
		print_text(out, c.steps, c.n, &r, s1, s2);
	}
	free(c.steps);
	if (res)
		*res = r;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vsva walk --image FILE --format FMT --root PA --addr VA\n"
		"                 [--access r|w|x] [--user] [--s2-format FMT --s2-root PA] [--json]\n"
		"FMT: x86-fs4 x86-fs5 vtd-ss3 vtd-ss4 vtd-ss5 lpae-s1 lpae-s2, options after ':'\n"
		"  lpae: 4k|16k|64k t0sz=N (default 16) sl0=N (s2) oas=N ha hd\n"
		"  x86-fs: nxe wpe smep no1g oas=N    vtd-ss: ad slee nosc no1g no2m oas=N\n"
		"  e.g. lpae-s1:4k:t0sz=25:ha:hd  lpae-s2:64k:t0sz=24:sl0=1  vtd-ss4:ad\n"
		"Exit 0 for a completed walk (translation or fault), 1 for bad options or image.\n");
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !*end && !errno;
}

int cli_walk(int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option opts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "root", required_argument, NULL, 'r' },
		{ "addr", required_argument, NULL, 'a' },
		{ "access", required_argument, NULL, 'c' },
		{ "user", no_argument, NULL, 'u' },
		{ "s2-format", required_argument, NULL, 'F' },
		{ "s2-root", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *image = NULL, *fmt = NULL, *s2fmt = NULL;
	bool have_root = false, have_addr = false, have_s2root = false, json = false;
	uint64_t root = 0, addr = 0, s2root = 0;
	unsigned access = 0;
	struct pgt_fmt f1, f2;
	char msg[256];
	struct mem_space *s;
	FILE *in;
	int opt, ret;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': image = optarg; break;
		case 'f': fmt = optarg; break;
		case 'F': s2fmt = optarg; break;
		case 'j': json = true; break;
		case 'u': access |= PGT_ACC_USER; break;
		case 'r':
			if (!parse_u64(optarg, &root)) {
				fprintf(err, "vsva walk: --root '%s' is not a number\n", optarg);
				return 1;
			}
			have_root = true;
			break;
		case 'R':
			if (!parse_u64(optarg, &s2root)) {
				fprintf(err, "vsva walk: --s2-root '%s' is not a number\n", optarg);
				return 1;
			}
			have_s2root = true;
			break;
		case 'a':
			if (!parse_u64(optarg, &addr)) {
				fprintf(err, "vsva walk: --addr '%s' is not a number\n", optarg);
				return 1;
			}
			have_addr = true;
			break;
		case 'c':
			if (!strcmp(optarg, "r"))
				;
			else if (!strcmp(optarg, "w"))
				access |= PGT_ACC_WRITE;
			else if (!strcmp(optarg, "x"))
				access |= PGT_ACC_EXEC;
			else {
				fprintf(err, "vsva walk: --access must be r, w or x, not '%s'\n", optarg);
				return 1;
			}
			break;
		case 'h':
			usage(out);
			return 0;
		default:
			fprintf(err, "vsva walk: unknown or incomplete option '%s'\n", argv[optind - 1]);
			usage(err);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(err, "vsva walk: unexpected argument '%s'\n", argv[optind]);
		return 1;
	}
	if (!image || !fmt || !have_root || !have_addr) {
		fprintf(err, "vsva walk: --image, --format, --root and --addr are required\n");
		usage(err);
		return 1;
	}
	if (!!s2fmt != have_s2root) {
		fprintf(err, "vsva walk: --s2-format and --s2-root go together\n");
		return 1;
	}
	if (pgt_fmt_parse(&f1, fmt, msg, sizeof(msg))) {
		fprintf(err, "vsva walk: %s\n", msg);
		return 1;
	}
	if (s2fmt) {
		if (pgt_fmt_parse(&f2, s2fmt, msg, sizeof(msg))) {
			fprintf(err, "vsva walk: %s\n", msg);
			return 1;
		}
		if (!((f1.family == PGT_X86_FS && f2.family == PGT_VTD_SS) ||
		      (f1.family == PGT_LPAE_S1 && f2.family == PGT_LPAE_S2))) {
			fprintf(err, "vsva walk: nesting needs a stage-1 format over a stage-2 format of "
				"the same architecture (x86-fs over vtd-ss, lpae-s1 over lpae-s2)\n");
			return 1;
		}
	}
	in = fopen(image, "r");
	if (!in) {
		fprintf(err, "vsva walk: cannot open image '%s': %s\n", image, strerror(errno));
		return 1;
	}
	s = image_load(in, image, msg, sizeof(msg));
	fclose(in);
	if (!s) {
		fprintf(err, "vsva walk: %s\n", msg);
		return 1;
	}
	ret = cli_walk_run(out, s, &f1, root, s2fmt ? &f2 : NULL, s2root, addr, access, json, NULL);
	mem_space_free(s);
	if (ret) {
		fprintf(err, "vsva walk: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
