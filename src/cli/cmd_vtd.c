/* cli/cmd_vtd.c — `vsva vtd-translate`: what a scalable-mode VT-d table image
 * (root table, context, PASID directory and table entries, page tables) does with
 * one request, with every memory reference on the way and the fault record.
 *
 * A fresh unit with the default configuration (vtd_config_default: 48-bit HAW, all
 * 3.x features) is programmed as a driver does it: RTADDR with TTM = 01, SRTP,
 * then TE, through the registers. The translation itself bypasses the caches
 * (vtd_translate_trace) so that every structure read shows. A fault is printed
 * from the record the translation hands to fault recording, with whether the
 * unit recorded it or FPD suppressed it.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hw/vtd/vtd_internal.h"
#include "pgtable/pgtable.h"

struct vstep {
	const char *what;       /* structure word name, or "page-table" */
	uint64_t pa, val;
	bool pg;
	struct pgt_step s;
};

struct vcollect {
	struct vstep *steps;
	size_t n, cap;
	bool oom;
	bool faulted;
	struct vtd_fault fault;
};

static void collect(void *ctx, const char *what, uint64_t pa, uint64_t val,
		    const struct pgt_step *pgs)
{
	struct vcollect *c = ctx;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct vstep *p = realloc(c->steps, cap * sizeof(*p));

		if (!p) {
			c->oom = true;
			return;
		}
		c->steps = p;
		c->cap = cap;
	}
	c->steps[c->n++] = (struct vstep){ .what = what, .pa = pa, .val = val, .pg = pgs != NULL,
					   .s = pgs ? *pgs : (struct pgt_step){ 0 } };
}

static void tap(void *ctx, const struct vtd_fault *f)
{
	struct vcollect *c = ctx;

	c->faulted = true;
	c->fault = *f;
}

/* Decoded bits of a structure word, by its name. */
static void describe(const char *what, uint64_t val, char *buf, size_t len)
{
	static const char *const pgtt[8] = { "reserved", "first-stage", "second-stage", "nested",
					     "pass-through", "reserved", "reserved", "reserved" };

	buf[0] = 0;
	if (!strncmp(what, "root-entry", 10)) {
		bool hi = !strcmp(what, "root-entry.hi");

		snprintf(buf, len, "%s%s CTP 0x%" PRIx64, (val & RE_P) ? (hi ? "UP" : "LP") : "-",
			 (val & RE_RSVD) ? " RSVD" : "", val & RE_CTP);
	} else if (!strcmp(what, "context[0]")) {
		snprintf(buf, len, "%s%s%s%s%s PDTS %u PDTP 0x%" PRIx64, (val & CE0_P) ? "P" : "-",
			 (val & CE0_FPD) ? " FPD" : "", (val & CE0_DTE) ? " DTE" : "",
			 (val & CE0_PASIDE) ? " PASIDE" : "", (val & CE0_PRE) ? " PRE" : "",
			 (unsigned)FIELD_GET(CE0_PDTS, val), val & CE0_PDTP);
	} else if (!strcmp(what, "context[1]")) {
		snprintf(buf, len, "RID_PASID 0x%x%s", (unsigned)FIELD_GET(CE1_RID_PASID, val),
			 (val & CE1_RID_PRIV) ? " RID_PRIV" : "");
	} else if (!strcmp(what, "pasid-dir")) {
		snprintf(buf, len, "%s%s PTP 0x%" PRIx64, (val & PDE_P) ? "P" : "-",
			 (val & PDE_FPD) ? " FPD" : "", val & PDE_PTP);
	} else if (!strcmp(what, "pasid-entry[0]")) {
		snprintf(buf, len, "%s%s AW %u%s PGTT %u (%s)%s SLPTPTR 0x%" PRIx64,
			 (val & PTE0_P) ? "P" : "-", (val & PTE0_FPD) ? " FPD" : "",
			 (unsigned)FIELD_GET(PTE0_AW, val), (val & PTE0_SLEE) ? " SLEE" : "",
			 (unsigned)FIELD_GET(PTE0_PGTT, val), pgtt[FIELD_GET(PTE0_PGTT, val)],
			 (val & PTE0_SLADE) ? " SLADE" : "", val & PTE0_SLPTPTR);
	} else if (!strcmp(what, "pasid-entry[1]")) {
		snprintf(buf, len, "DID %u%s%s", (unsigned)FIELD_GET(PTE1_DID, val),
			 (val & PTE1_PWSNP) ? " PWSNP" : "", (val & PTE1_PGSNP) ? " PGSNP" : "");
	} else if (!strcmp(what, "pasid-entry[2]")) {
		snprintf(buf, len, "%s%s FLPM %u%s%s%s%s FLPTPTR 0x%" PRIx64,
			 (val & PTE2_SRE) ? "SRE" : "-", (val & PTE2_ERE) ? " ERE" : "",
			 (unsigned)FIELD_GET(PTE2_FLPM, val), (val & PTE2_WPE) ? " WPE" : "",
			 (val & PTE2_NXE) ? " NXE" : "", (val & PTE2_SMEP) ? " SMEP" : "",
			 (val & PTE2_EAFE) ? " EAFE" : "", val & PTE2_FLPTPTR);
	}
}

static void sid_string(uint16_t sid, char buf[8])
{
	snprintf(buf, 8, "%02x:%02x.%x", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
}

static void perm_string(const struct dev_xlate *x, char out[4])
{
	out[0] = x->r ? 'r' : '-';
	out[1] = x->w ? 'w' : '-';
	out[2] = x->x ? 'x' : '-';
	out[3] = 0;
}

static const char *type_name(const struct vtd_fault *f)
{
	return f->page_request ? "page-request" : f->write ? "write" : "read";
}

static void counts(const struct vcollect *c, unsigned *refs, unsigned *updates)
{
	*refs = *updates = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->steps[i].pg && c->steps[i].s.write)
			(*updates)++;
		else
			(*refs)++;
	}
}

static void print_text(FILE *out, const struct vcollect *c, const struct dev_xlate *x)
{
	char bits[160], perm[4], sid[8];
	unsigned refs, updates;

	for (size_t i = 0; i < c->n; i++) {
		const struct vstep *st = &c->steps[i];
		const struct pgt_step *s = &st->s;

		if (!st->pg) {
			describe(st->what, st->val, bits, sizeof(bits));
			fprintf(out, "%3zu read  %-14s 0x%016" PRIx64 " = 0x%016" PRIx64 "%s%s\n",
				i + 1, st->what, st->pa, st->val, bits[0] ? "  " : "", bits);
			continue;
		}
		pgt_describe(s->fmt, s->height, s->value, bits, sizeof(bits));
		fprintf(out, "%3zu %-5s s%u %-11s", i + 1, s->write ? "write" : "read", s->stage,
			pgt_level_name(s->fmt, s->height));
		if (s->ea != s->pa)
			fprintf(out, " @0x%" PRIx64 " ->", s->ea);
		if (s->write)
			fprintf(out, " 0x%016" PRIx64 " : 0x%016" PRIx64 " -> 0x%016" PRIx64 "  %s",
				s->pa, s->old, s->value, bits);
		else
			fprintf(out, " 0x%016" PRIx64 " = 0x%016" PRIx64 "  %s", s->pa, s->value, bits);
		if (s->s1_fetch)
			fprintf(out, "  (stage-1 table)");
		fputc('\n', out);
	}
	counts(c, &refs, &updates);
	if (x->status == DEV_XLATE_OK) {
		perm_string(x, perm);
		fprintf(out, "result: ok output 0x%" PRIx64 " page_size 0x%" PRIx64 " perm %s%s",
			x->pa, x->size, perm, x->priv ? " priv" : "");
		fprintf(out, " refs %u updates %u\n", refs, updates);
		return;
	}
	fprintf(out, "result: fault reason 0x%02x (%s: %s) %s refs %u updates %u\n",
		x->fault_reason, vtd_fault_name(x->fault_reason), vtd_fault_text(x->fault_reason),
		c->faulted && c->fault.fpd && vtd_fault_qualified(c->fault.reason)
			? "suppressed by FPD" : "recorded", refs, updates);
	if (!c->faulted)
		return;
	sid_string(c->fault.sid, sid);
	fprintf(out, "record: SID %s addr 0x%" PRIx64 " PP %d", sid, c->fault.addr,
		c->fault.pasid_present);
	if (c->fault.pasid_present)
		fprintf(out, " PV 0x%x", c->fault.pasid);
	fprintf(out, " type %s PRIV %d EXE %d AT %u FPD %d\n", type_name(&c->fault), c->fault.priv,
		c->fault.exec, c->fault.at, c->fault.fpd);
}

static void print_json(FILE *out, const struct vcollect *c, const struct dev_xlate *x)
{
	char bits[160], perm[4], sid[8];
	unsigned refs, updates;

	counts(c, &refs, &updates);
	if (x->status == DEV_XLATE_OK) {
		perm_string(x, perm);
		fprintf(out, "{\"result\":\"ok\",\"output\":\"0x%" PRIx64 "\",\"page_size\":%" PRIu64
			",\"perm\":\"%s\",\"priv\":%s", x->pa, x->size, perm,
			x->priv ? "true" : "false");
	} else {
		bool recorded = !(c->faulted && c->fault.fpd &&
				  vtd_fault_qualified(c->fault.reason));

		fprintf(out, "{\"result\":\"fault\",\"reason\":\"0x%02x\",\"reason_name\":\"%s\","
			"\"recorded\":%s", x->fault_reason, vtd_fault_name(x->fault_reason),
			recorded ? "true" : "false");
		if (c->faulted) {
			sid_string(c->fault.sid, sid);
			fprintf(out, ",\"sid\":\"%s\",\"addr\":\"0x%" PRIx64 "\",\"pasid_present\":%s,"
				"\"pasid\":%u,\"type\":\"%s\",\"priv\":%s,\"exe\":%s,\"at\":%u,"
				"\"fpd\":%s", sid, c->fault.addr,
				c->fault.pasid_present ? "true" : "false",
				c->fault.pasid_present ? c->fault.pasid : 0, type_name(&c->fault),
				c->fault.priv ? "true" : "false", c->fault.exec ? "true" : "false",
				c->fault.at, c->fault.fpd ? "true" : "false");
		}
	}
	fprintf(out, ",\"refs\":%u,\"updates\":%u,\"steps\":[", refs, updates);
	for (size_t i = 0; i < c->n; i++) {
		const struct vstep *st = &c->steps[i];
		const struct pgt_step *s = &st->s;

		if (!st->pg) {
			describe(st->what, st->val, bits, sizeof(bits));
			fprintf(out, "%s{\"op\":\"read\",\"name\":\"%s\",\"pa\":\"0x%" PRIx64 "\","
				"\"value\":\"0x%" PRIx64 "\",\"bits\":\"%s\"}", i ? "," : "", st->what,
				st->pa, st->val, bits);
			continue;
		}
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

/*
 * Points the unit at the root table in scalable mode and enables translation as a
 * driver does: RTADDR, SRTP (read GSTS, mask the one-shot bits, set the command,
 * wait for the status), then TE.
 */
static int program_unit(struct vtd *v, uint64_t rtaddr)
{
	uint32_t gsts;

	vtd_write(v, VTD_RTADDR, 8, rtaddr | FIELD_PREP(RTADDR_TTM, TTM_SCALABLE));
	gsts = (uint32_t)vtd_read(v, VTD_GSTS, 4) & 0x96ffffffu;
	vtd_write(v, VTD_GCMD, 4, gsts | GCMD_SRTP);
	if (!(vtd_read(v, VTD_GSTS, 4) & GSTS_RTPS))
		return -EIO;
	gsts = (uint32_t)vtd_read(v, VTD_GSTS, 4) & 0x96ffffffu;
	vtd_write(v, VTD_GCMD, 4, gsts | GCMD_TE);
	return (vtd_read(v, VTD_GSTS, 4) & GSTS_TES) ? 0 : -EIO;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vsva vtd-translate --image FILE --rtaddr PA --sid BB:DD.F [--pasid N]\n"
		"                          --addr A [--access r|w|x] [--priv] [--json]\n"
		"Translates one untranslated request through a scalable-mode VT-d table image\n"
		"(same image format as vsva walk), on a unit with the default capabilities\n"
		"(HAW 48, SAGAW 39/48/57-bit, FL1GP, FL5LP, nesting, pass-through,\n"
		"20-bit PASIDs).\n"
		"--priv and --access x need --pasid (they travel in the PASID prefix).\n"
		"Exit 0 for a completed translation (or fault), 1 for bad options or image.\n");
}

/* A bad option or image: the message on err, exit status 1. */
static int __attribute__((format(printf, 2, 3))) bad(FILE *err, const char *fmt, ...)
{
	va_list ap;

	fputs("vsva vtd-translate: ", err);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
	return 1;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !*end && !errno;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly BB:DD.F in hex: bus 00-ff, device 00-1f, function 0-7. */
static bool parse_sid(const char *s, uint16_t *sid)
{
	int b1, b0, d1, d0, fn;

	if (strlen(s) != 7 || s[2] != ':' || s[5] != '.')
		return false;
	b1 = hexval(s[0]);
	b0 = hexval(s[1]);
	d1 = hexval(s[3]);
	d0 = hexval(s[4]);
	fn = hexval(s[6]);
	if (b1 < 0 || b0 < 0 || d1 < 0 || d0 < 0 || fn < 0 || fn > 7 || (d1 * 16 + d0) > 0x1f)
		return false;
	*sid = (uint16_t)((b1 * 16 + b0) << 8 | (d1 * 16 + d0) << 3 | fn);
	return true;
}

int cli_vtd_translate(int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option opts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "rtaddr", required_argument, NULL, 'r' },
		{ "sid", required_argument, NULL, 's' },
		{ "pasid", required_argument, NULL, 'p' },
		{ "addr", required_argument, NULL, 'a' },
		{ "access", required_argument, NULL, 'c' },
		{ "priv", no_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *image = NULL;
	bool have_rt = false, have_sid = false, have_addr = false, json = false;
	struct dev_txn t = { .at = DEV_AT_UNTRANSLATED };
	struct vcollect c = { 0 };
	struct vtd_config cfg;
	struct dev_xlate x;
	uint64_t rtaddr = 0, n;
	char msg[256], sid[8];
	struct mem_space *s;
	struct vtd *v;
	FILE *in;
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': image = optarg; break;
		case 'j': json = true; break;
		case 'P': t.priv = true; break;
		case 'r':
			if (!parse_u64(optarg, &rtaddr))
				return bad(err, "--rtaddr '%s' is not a number", optarg);
			if (rtaddr & 0xfff)
				return bad(err, "--rtaddr 0x%" PRIx64 " is not 4 KiB aligned", rtaddr);
			have_rt = true;
			break;
		case 's':
			if (!parse_sid(optarg, &t.rid))
				return bad(err, "--sid '%s' is not BB:DD.F (hex bus, device 00-1f, "
					   "function 0-7)", optarg);
			have_sid = true;
			break;
		case 'p':
			if (!parse_u64(optarg, &n) || n >= BIT(20))
				return bad(err, "--pasid '%s' is not a 20-bit number", optarg);
			t.pasid_valid = true;
			t.pasid = (uint32_t)n;
			break;
		case 'a':
			if (!parse_u64(optarg, &t.addr))
				return bad(err, "--addr '%s' is not a number", optarg);
			have_addr = true;
			break;
		case 'c':
			if (!strcmp(optarg, "r")) {
				t.write = t.exec = false;
			} else if (!strcmp(optarg, "w")) {
				t.write = true;
				t.exec = false;
			} else if (!strcmp(optarg, "x")) {
				t.exec = true;
				t.write = false;
			} else {
				return bad(err, "--access must be r, w or x, not '%s'", optarg);
			}
			break;
		case 'h':
			usage(out);
			return 0;
		default:
			fprintf(err, "vsva vtd-translate: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			usage(err);
			return 1;
		}
	}
	if (optind < argc)
		return bad(err, "unexpected argument '%s'", argv[optind]);
	if (!image || !have_rt || !have_sid || !have_addr) {
		bad(err, "--image, --rtaddr, --sid and --addr are required");
		usage(err);
		return 1;
	}
	if ((t.priv || t.exec) && !t.pasid_valid)
		return bad(err, "--priv and --access x need --pasid (a request without PASID "
			   "carries neither)");
	in = fopen(image, "r");
	if (!in)
		return bad(err, "cannot open image '%s': %s", image, strerror(errno));
	s = image_load(in, image, msg, sizeof(msg));
	fclose(in);
	if (!s)
		return bad(err, "%s", msg);
	vtd_config_default(&cfg);
	v = vtd_new(&cfg, s);
	if (!v) {
		fprintf(err, "vsva vtd-translate: cannot create the unit: %s\n", strerror(errno));
		mem_space_free(s);
		return 1;
	}
	if (program_unit(v, rtaddr)) {
		fprintf(err, "vsva vtd-translate: the unit refused the root table or TE\n");
		vtd_free(v);
		mem_space_free(s);
		return 1;
	}
	v->xl_fault_tap = tap;
	v->xl_fault_tap_ctx = &c;
	vtd_translate_trace(v, &t, &x, collect, &c);
	if (c.oom) {
		fprintf(err, "vsva vtd-translate: out of memory\n");
	} else if (json) {
		print_json(out, &c, &x);
	} else {
		sid_string(t.rid, sid);
		fprintf(out, "vtd-translate sid %s", sid);
		if (t.pasid_valid)
			fprintf(out, " pasid 0x%x", t.pasid);
		fprintf(out, " addr 0x%" PRIx64 " %s%s\n", t.addr,
			t.write ? "write" : t.exec ? "exec" : "read", t.priv ? " priv" : "");
		print_text(out, &c, &x);
	}
	free(c.steps);
	vtd_free(v);
	mem_space_free(s);
	return c.oom ? 1 : 0;
}
