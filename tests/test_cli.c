/* tests/test_cli.c — `vsva walk` on hand-made images, as a user runs it.
 *
 * The images in tests/images/ were written by hand, each with its derivation
 * (indices from address bits, entry addresses, expected output) in comments; the
 * expected answers below come from those derivations and the specifications,
 * not from running the walker. Covers all seven formats and both nested pairs,
 * text and JSON output, and every malformed-input error with its exit status.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli/cli.h"

#include "cli_run.h"

static struct run walk(const char *first, ...)
{
	va_list ap;
	struct run r;

	va_start(ap, first);
	r = run_cli_v(cli_walk, "walk", first, ap);
	va_end(ap);
	return r;
}

/* Checks a run: exit status, valid JSON, and each expected fragment present. */
static void expect_json(int line, struct run r, const char *const *frags)
{
	bool good = r.status == 0 && json_ok(r.out);

	for (const char *const *f = frags; *f; f++)
		good &= strstr(r.out, *f) != NULL;
	CHECK_MSG(good, "case at line %d: status %d\nout: %s\nerr: %s", line, r.status, r.out, r.err);
	if (!good)
		for (const char *const *f = frags; *f; f++)
			if (!strstr(r.out, *f))
				fprintf(stderr, "  missing: %s\n", *f);
	run_free(&r);
}

#define EXPECT(run, ...) expect_json(__LINE__, run, (const char *const[]){ __VA_ARGS__, NULL })

static void test_x86_fs4(void)
{
	const char *img = image("x86-fs4.img");

	/* User read of the read-only 4 KiB page: A set on all four entries. */
	EXPECT(walk("--image", img, "--format", "x86-fs4", "--root", "0x1000", "--addr",
		    "0x00007f1234567abc", "--user", "--json", NULL),
	       "\"result\":\"ok\",\"output\":\"0x89abcabc\",\"page_size\":4096,\"perm\":\"r-x\"",
	       "\"refs\":4,\"updates\":4",
	       /* PTE 0x89abc005 (A set by the walk): no PWT/PCD/PAT, no G. */
	       "\"s1_leaf\":\"0x89abc025\",\"s1_attrs\":{\"memtype\":0,\"sh\":0,\"ipat\":false,"
	       "\"snp\":false,\"global\":false,\"ns\":false,\"contig\":false}",
	       "\"op\":\"write\",\"stage\":1,\"level\":4,\"name\":\"PML4E\",\"ia\":\"0x7f1234567abc\","
	       "\"ea\":\"0x17f0\",\"pa\":\"0x17f0\",\"old\":\"0x2007\",\"value\":\"0x2027\"",
	       "\"pa\":\"0x4b38\",\"old\":\"0x89abc005\",\"value\":\"0x89abc025\"");
	/* User write: R/W = 0 in the PTE -> SGN.6 (0x85) at level 1; the leaf keeps A=0. */
	EXPECT(walk("--image", img, "--format", "x86-fs4", "--root", "0x1000", "--addr",
		    "0x00007f1234567abc", "--user", "--access", "w", "--json", NULL),
	       "\"result\":\"fault\",\"stage\":1,\"level\":1,\"reason\":\"permission\",\"code\":\"0x85\"",
	       "\"entry\":\"0x4b38\",\"table\":\"0x4000\"", "\"refs\":4,\"updates\":3");
	/* Supervisor read of the 2 MiB page. */
	EXPECT(walk("--image", img, "--format", "x86-fs4", "--root", "0x1000", "--addr",
		    "0x00007f1234612345", "--json", NULL),
	       "\"output\":\"0x40012345\",\"page_size\":2097152,\"perm\":\"rwx\"",
	       "\"refs\":3,\"updates\":3");
	/* The canonical hole: bit 47 set without sign extension -> SGN.1. */
	EXPECT(walk("--image", img, "--format", "x86-fs4", "--root", "0x1000", "--addr",
		    "0x0000800000000000", "--json", NULL),
	       "\"stage\":1,\"level\":null,\"reason\":\"non-canonical\",\"code\":\"0x80\"",
	       "\"refs\":0");
	/* Next PTE is zero: SFS.2 at level 1. */
	EXPECT(walk("--image", img, "--format", "x86-fs4", "--root", "0x1000", "--addr",
		    "0x00007f1234568000", "--json", NULL),
	       "\"level\":1,\"reason\":\"not-present\",\"code\":\"0x71\"",
	       "\"entry\":\"0x4b40\",\"table\":\"0x4000\"", "\"refs\":4");
	/* PDPT page missing from the image: SFS.1 table access at level 3. */
	EXPECT(walk("--image", img, "--format", "x86-fs4", "--root", "0x1000", "--addr",
		    "0x0000008000000000", "--json", NULL),
	       "\"level\":3,\"reason\":\"table-access\",\"code\":\"0x70\"", "\"entry\":\"0x9000\"",
	       "\"refs\":1,\"updates\":1");
	/* PS in a PML4E: SFS.3 reserved at level 4, nothing written. */
	EXPECT(walk("--image", img, "--format", "x86-fs4", "--root", "0x1000", "--addr",
		    "0x0000010000000000", "--json", NULL),
	       "\"level\":4,\"reason\":\"reserved-bit\",\"code\":\"0x72\"", "\"refs\":1,\"updates\":0");
	/* A root page that the image does not name: SFS.4 (root access). */
	EXPECT(walk("--image", img, "--format", "x86-fs4", "--root", "0x7000", "--addr", "0",
		    "--json", NULL),
	       "\"level\":4,\"reason\":\"table-access\",\"code\":\"0x73\"");
}

static void test_x86_fs5(void)
{
	const char *img = image("x86-fs5.img");

	EXPECT(walk("--image", img, "--format", "x86-fs5", "--root", "0x1000", "--addr",
		    "0xff00000040201abc", "--json", NULL),
	       "\"output\":\"0xc0201abc\",\"page_size\":1073741824,\"perm\":\"rwx\"",
	       "\"refs\":3,\"updates\":3", "\"name\":\"PML5E\"");
	/* A user request to a supervisor page: SGN.2 at the leaf (PDPTE, level 3). */
	EXPECT(walk("--image", img, "--format", "x86-fs5", "--root", "0x1000", "--addr",
		    "0xff00000040201abc", "--user", "--json", NULL),
	       "\"level\":3,\"reason\":\"permission\",\"code\":\"0x81\"", "\"updates\":2");
	/* Bit 13 in a 1 GiB PDPTE is reserved. */
	EXPECT(walk("--image", img, "--format", "x86-fs5", "--root", "0x1000", "--addr",
		    "0xff00000080000000", "--json", NULL),
	       "\"level\":3,\"reason\":\"reserved-bit\",\"code\":\"0x72\"");
	/* Without FL1GP (no1g), PS in a PDPTE is itself reserved. */
	EXPECT(walk("--image", img, "--format", "x86-fs5:no1g", "--root", "0x1000", "--addr",
		    "0xff00000040201abc", "--json", NULL),
	       "\"level\":3,\"reason\":\"reserved-bit\"");
	/* 57-bit canonical check: bit 56 set, bits 63:57 clear. */
	EXPECT(walk("--image", img, "--format", "x86-fs5", "--root", "0x1000", "--addr",
		    "0x0100000000000000", "--json", NULL),
	       "\"reason\":\"non-canonical\",\"code\":\"0x80\"");
}

static void test_vtd_ss(void)
{
	const char *img3 = image("vtd-ss3.img"), *img4 = image("vtd-ss4.img");
	const char *img5 = image("vtd-ss5.img");

	/* Top page of the 39-bit space, SSADE: A set in every entry used. */
	EXPECT(walk("--image", img3, "--format", "vtd-ss3:ad", "--root", "0x1000", "--addr",
		    "0x7ffffffabc", "--json", NULL),
	       "\"output\":\"0xabcdabc\",\"page_size\":4096,\"perm\":\"r-x\"",
	       "\"refs\":3,\"updates\":3", "\"old\":\"0xabcd001\",\"value\":\"0xabcd101\"");
	/* A write to the read-only page: SGN.6, only the non-leaf A bits were set. */
	EXPECT(walk("--image", img3, "--format", "vtd-ss3:ad", "--root", "0x1000", "--addr",
		    "0x7ffffffabc", "--access", "w", "--json", NULL),
	       "\"stage\":2,\"level\":1,\"reason\":\"permission\",\"code\":\"0x85\"",
	       "\"updates\":2");
	/* With SLEE, X is required for execute: the leaf has none -> SGN.3. */
	EXPECT(walk("--image", img3, "--format", "vtd-ss3:slee", "--root", "0x1000", "--addr",
		    "0x7ffffffabc", "--access", "x", "--json", NULL),
	       "\"reason\":\"permission\",\"code\":\"0x82\"");
	/* First address beyond 39 bits: SGN.5 (input above the second-stage width). */
	EXPECT(walk("--image", img3, "--format", "vtd-ss3", "--root", "0x1000", "--addr",
		    "0x8000000000", "--json", NULL),
	       "\"level\":null,\"reason\":\"address-size\",\"code\":\"0x84\"", "\"refs\":0");
	/* Bottom: SL-PDPE 0 is zero -> SSS.2 at level 3. */
	EXPECT(walk("--image", img3, "--format", "vtd-ss3", "--root", "0x1000", "--addr", "0",
		    "--json", NULL),
	       "\"level\":3,\"reason\":\"not-present\",\"code\":\"0x79\"", "\"refs\":1");

	EXPECT(walk("--image", img4, "--format", "vtd-ss4", "--root", "0x1000", "--addr",
		    "0x123456789abc", "--json", NULL),
	       "\"output\":\"0x40189abc\",\"page_size\":2097152,\"perm\":\"rwx\"",
	       "\"refs\":3,\"updates\":0");
	EXPECT(walk("--image", img4, "--format", "vtd-ss4", "--root", "0x1000", "--addr",
		    "0x128000000000", "--json", NULL),
	       "\"level\":4,\"reason\":\"reserved-bit\",\"code\":\"0x7a\"");
	EXPECT(walk("--image", img4, "--format", "vtd-ss4", "--root", "0x1000", "--addr",
		    "0x123456800000", "--json", NULL),
	       "\"level\":2,\"reason\":\"reserved-bit\",\"code\":\"0x7a\"");
	/* Without 2 MiB support (SLLPS), PS in an SL-PDE is reserved. */
	EXPECT(walk("--image", img4, "--format", "vtd-ss4:no2m", "--root", "0x1000", "--addr",
		    "0x123456789abc", "--json", NULL),
	       "\"level\":2,\"reason\":\"reserved-bit\"");

	EXPECT(walk("--image", img5, "--format", "vtd-ss5", "--root", "0x1000", "--addr",
		    "0x1fffffffffffabc", "--json", NULL),
	       "\"output\":\"0x6abc\",\"page_size\":4096,\"perm\":\"rwx\"", "\"refs\":5",
	       "\"name\":\"SL-PML5E\"");
	EXPECT(walk("--image", img5, "--format", "vtd-ss5", "--root", "0x1000", "--addr",
		    "0x200000000000000", "--json", NULL),
	       "\"reason\":\"address-size\",\"code\":\"0x84\"");
}

static void test_lpae(void)
{
	const char *img = image("lpae-s1.img"), *img16 = image("lpae-s1-16k.img");
	const char *img64 = image("lpae-s1-64k.img"), *imgs2 = image("lpae-s2.img");

	EXPECT(walk("--image", img, "--format", "lpae-s1:4k:t0sz=25", "--root", "0x10000", "--addr",
		    "0x7654321abc", "--user", "--json", NULL),
	       "\"output\":\"0x80321abc\",\"page_size\":4096,\"perm\":\"rwx\"",
	       "\"refs\":3,\"updates\":0", "\"name\":\"L1\"",
	       /* 0x80321743: AttrIndx 0, SH 3, nG 0 (global), NS 0. */
	       "\"s1_attrs\":{\"memtype\":0,\"sh\":3,\"ipat\":false,\"snp\":false,"
	       "\"global\":true,\"ns\":false,\"contig\":false}");
	/* Privileged execute of an EL0-writable page: implicitly PXN. */
	EXPECT(walk("--image", img, "--format", "lpae-s1:4k:t0sz=25", "--root", "0x10000", "--addr",
		    "0x7654321abc", "--access", "x", "--json", NULL),
	       "\"stage\":1,\"level\":3,\"reason\":\"permission\",\"code\":\"0x13\","
	       "\"code_name\":\"F_PERMISSION\"");
	/* Beyond the 39-bit input: translation fault reported at level 0. */
	EXPECT(walk("--image", img, "--format", "lpae-s1:4k:t0sz=25", "--root", "0x10000", "--addr",
		    "0x8000000000", "--json", NULL),
	       "\"level\":0,\"reason\":\"not-present\",\"code\":\"0x10\"", "\"refs\":0");
	/* AF = 0: access flag fault without HA; with HA the walk sets it. */
	EXPECT(walk("--image", img, "--format", "lpae-s1:4k:t0sz=25", "--root", "0x10000", "--addr",
		    "0x7654322000", "--json", NULL),
	       "\"level\":3,\"reason\":\"access-flag\",\"code\":\"0x12\"");
	EXPECT(walk("--image", img, "--format", "lpae-s1:4k:t0sz=25:ha", "--root", "0x10000",
		    "--addr", "0x7654322000", "--json", NULL),
	       "\"output\":\"0x80322000\"", "\"refs\":3,\"updates\":1",
	       "\"old\":\"0x80322343\",\"value\":\"0x80322743\"");

	EXPECT(walk("--image", img16, "--format", "lpae-s1:16k:t0sz=28", "--root", "0x20000",
		    "--addr", "0x987654321", "--json", NULL),
	       "\"output\":\"0x12345c321\",\"page_size\":16384,\"perm\":\"r-x\"", "\"refs\":2",
	       "\"name\":\"L2\"");
	EXPECT(walk("--image", img16, "--format", "lpae-s1:16k:t0sz=28", "--root", "0x20000",
		    "--addr", "0x988000000", "--json", NULL),
	       "\"output\":\"0x200000000\",\"page_size\":33554432,\"perm\":\"rwx\"");

	EXPECT(walk("--image", img64, "--format", "lpae-s1:64k:t0sz=22", "--root", "0x100000",
		    "--addr", "0x2abcdef1234", "--json", NULL),
	       "\"output\":\"0x300011234\",\"page_size\":65536", "\"refs\":2");
	EXPECT(walk("--image", img64, "--format", "lpae-s1:64k:t0sz=22:oas=52", "--root", "0x100000",
		    "--addr", "0x2abcdf01234", "--json", NULL),
	       "\"output\":\"0x5000000011234\"");
	EXPECT(walk("--image", img64, "--format", "lpae-s1:64k:t0sz=22", "--root", "0x100000",
		    "--addr", "0x2abcdf01234", "--json", NULL),
	       "\"level\":3,\"reason\":\"address-size\",\"code\":\"0x11\"");

	EXPECT(walk("--image", imgs2, "--format", "lpae-s2:4k:t0sz=24:sl0=1", "--root", "0x200000",
		    "--addr", "0x8012345678", "--json", NULL),
	       "\"output\":\"0x40145678\",\"page_size\":2097152,\"perm\":\"r-x\"",
	       "\"pa\":\"0x201000\"", "\"refs\":2",
	       /* 0x4000077d: MemAttr 0xf, SH 3. */
	       "\"s2_attrs\":{\"memtype\":15,\"sh\":3,");
	EXPECT(walk("--image", imgs2, "--format", "lpae-s2:4k:t0sz=24:sl0=1", "--root", "0x200000",
		    "--addr", "0x8012345678", "--access", "w", "--json", NULL),
	       "\"stage\":2,\"level\":2,\"reason\":\"permission\",\"code\":\"0x13\"");
	EXPECT(walk("--image", imgs2, "--format", "lpae-s2:4k:t0sz=24:sl0=1", "--root", "0x200000",
		    "--addr", "0x12345678", "--json", NULL),
	       "\"stage\":2,\"level\":1,\"reason\":\"not-present\",\"code\":\"0x10\"");
	EXPECT(walk("--image", imgs2, "--format", "lpae-s2:4k:t0sz=24:sl0=1", "--root", "0x200000",
		    "--addr", "0x10000000000", "--json", NULL),
	       "\"stage\":2,\"level\":0,\"reason\":\"not-present\",\"code\":\"0x10\"");
}

static void test_nested(void)
{
	const char *x = image("nested-x86.img"), *a = image("nested-lpae.img");

	/* 4*4 + 4 + 4 = 24 references, output HPA 0x58abc. */
	EXPECT(walk("--image", x, "--format", "x86-fs4", "--root", "0x1000", "--s2-format",
		    "vtd-ss4", "--s2-root", "0x1000", "--addr", "0x00007f1234567abc", "--user",
		    "--json", NULL),
	       "\"output\":\"0x58abc\",\"page_size\":4096,\"perm\":\"rwx\"", "\"refs\":24,\"updates\":0",
	       "\"stage\":1,\"level\":4,\"name\":\"PML4E\",\"ia\":\"0x7f1234567abc\","
	       "\"ea\":\"0x17f0\",\"pa\":\"0x417f0\"");
	/* The PDPT GPA 0x6000 is not mapped at stage 2: SSS.2 during a stage-1 fetch. */
	EXPECT(walk("--image", x, "--format", "x86-fs4", "--root", "0x1000", "--s2-format",
		    "vtd-ss4", "--s2-root", "0x1000", "--addr", "0x00007f8000000000", "--json", NULL),
	       "\"stage\":2,\"level\":1,\"reason\":\"not-present\",\"code\":\"0x79\"",
	       "\"addr\":\"0x6000\"", "\"s1_fetch\":true", "\"refs\":9");
	/* The PDPT GPA 0x5000 is write-only at stage 2: SFS.7, read denied. */
	EXPECT(walk("--image", x, "--format", "x86-fs4", "--root", "0x1000", "--s2-format",
		    "vtd-ss4", "--s2-root", "0x1000", "--addr", "0x00007e8000000000", "--json", NULL),
	       "\"stage\":2,\"level\":1,\"reason\":\"permission\",\"code\":\"0x76\"",
	       "\"s1_fetch\":true", "\"refs\":9");

	EXPECT(walk("--image", a, "--format", "lpae-s1:4k:t0sz=34", "--root", "0x1000",
		    "--s2-format", "lpae-s2:4k:t0sz=34:sl0=0", "--s2-root", "0x10000", "--addr",
		    "0x12345abc", "--user", "--json", NULL),
	       "\"output\":\"0x97abc\",\"page_size\":4096,\"perm\":\"rwx\"", "\"refs\":8");
	EXPECT(walk("--image", a, "--format", "lpae-s1:4k:t0sz=34", "--root", "0x1000",
		    "--s2-format", "lpae-s2:4k:t0sz=34:sl0=0", "--s2-root", "0x10000", "--addr",
		    "0x12345abc", "--access", "x", "--json", NULL),
	       "\"stage\":1,\"level\":3,\"reason\":\"permission\"");
	/* Output GPA 0x8000 is unmapped at stage 2: a stage-2 fault on the final address. */
	EXPECT(walk("--image", a, "--format", "lpae-s1:4k:t0sz=34", "--root", "0x1000",
		    "--s2-format", "lpae-s2:4k:t0sz=34:sl0=0", "--s2-root", "0x10000", "--addr",
		    "0x12346000", "--json", NULL),
	       "\"stage\":2,\"level\":3,\"reason\":\"not-present\",\"code\":\"0x10\"",
	       "\"s1_fetch\":false", "\"refs\":8");
}

static void test_text_output(void)
{
	struct run r = walk("--image", image("x86-fs4.img"), "--format", "x86-fs4", "--root",
			    "0x1000", "--addr", "0x00007f1234567abc", NULL);

	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "walk x86-fs4 addr 0x7f1234567abc read") != NULL);
	CHECK(strstr(r.out, "  1 read  s1 PML4E    0x00000000000017f0 = 0x0000000000002007  P RW US "
			    "table=0x2000") != NULL);
	/* Supervisor, WPE = 0: the read-only PTE does not stop supervisor writes. */
	CHECK(strstr(r.out, "result: ok output 0x89abcabc page_size 0x1000 perm rwx refs 4 "
			    "updates 4") != NULL);
	run_free(&r);

	r = walk("--image", image("nested-x86.img"), "--format", "x86-fs4", "--root", "0x1000",
		 "--s2-format", "vtd-ss4", "--s2-root", "0x1000", "--addr", "0x00007f8000000000",
		 NULL);
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "result: fault stage 2 level 1 reason not-present code 0x79 (SSS.2) "
			    "addr 0x6000") != NULL);
	CHECK(strstr(r.out, "during a stage-1 table fetch") != NULL);
	run_free(&r);
}

/* Writes text to a temporary image and returns its path (static buffer). */
static const char *temp_image(const char *text)
{
	static char path[64];
	int fd;
	FILE *f;

	strcpy(path, "/tmp/vsva-test-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void expect_error(int line, struct run r, const char *frag)
{
	bool good = r.status == 1 && strstr(r.err, frag) && !*r.out;

	CHECK_MSG(good, "case at line %d: status %d, wanted '%s' in: %s", line, r.status, frag, r.err);
	run_free(&r);
}

#define EXPECT_ERROR(run, frag) expect_error(__LINE__, run, frag)

static void test_bad_images(void)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "0x1000: 0x1\n0x1001: 0x2\n", ":2: PA 0x1001 is not 8-byte aligned" },
		{ "# comment\n\n1000: 0x1\n", ":3: expected 'PA: VALUE...'" },
		{ "0x1000 0x1\n", ":1: expected 'PA: VALUE...'" },
		{ "0x1000: 0x1 zz\n", ":1: value 2 is not a 64-bit hex number" },
		{ "0x1000: 0x11112222333344445\n", ":1: value 1 is not a 64-bit hex number" },
		{ "0x1000: 12\n", ":1: value 1 is not a 64-bit hex number" },
		{ "0x1000:\n", ":1: no value after 'PA:'" },
		{ "0x1000: 0x1 0x2\n0x1008: 0x3\n", ":2: PA 0x1008 already set on line 1" },
		{ "0xfffffffffffffff8: 0x1 0x2\n", ":1: words run past the top of memory" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = temp_image(cases[i].text);
		struct run r = walk("--image", path, "--format", "x86-fs4", "--root", "0x1000",
				    "--addr", "0", NULL);

		expect_error(__LINE__ * 1000 + (int)i, r, cases[i].err);
		unlink(path);
	}
	EXPECT_ERROR(walk("--image", "/nonexistent/vsva.img", "--format", "x86-fs4", "--root", "0",
			  "--addr", "0", NULL),
		     "cannot open image");
}

static void test_bad_options(void)
{
	const char *img = image("x86-fs4.img");

	EXPECT_ERROR(walk("--format", "x86-fs4", "--root", "0", "--addr", "0", NULL),
		     "--image, --format, --root and --addr are required");
	EXPECT_ERROR(walk("--image", img, "--format", "x86-fs6", "--root", "0", "--addr", "0", NULL),
		     "unknown format 'x86-fs6'");
	EXPECT_ERROR(walk("--image", img, "--format", "x86-fs4:ha", "--root", "0", "--addr", "0",
			  NULL),
		     "unknown or malformed option 'ha'");
	EXPECT_ERROR(walk("--image", img, "--format", "lpae-s1:4k:t0sz=40", "--root", "0", "--addr",
			  "0", NULL),
		     "not allowed by the specification");
	EXPECT_ERROR(walk("--image", img, "--format", "lpae-s2:4k:t0sz=16:sl0=0", "--root", "0",
			  "--addr", "0", NULL),
		     "not allowed by the specification");
	EXPECT_ERROR(walk("--image", img, "--format", "x86-fs4", "--root", "zz", "--addr", "0", NULL),
		     "--root 'zz' is not a number");
	EXPECT_ERROR(walk("--image", img, "--format", "x86-fs4", "--root", "0", "--addr", "-1", NULL),
		     "--addr '-1' is not a number");
	EXPECT_ERROR(walk("--image", img, "--format", "x86-fs4", "--root", "0", "--addr", "0",
			  "--access", "rw", NULL),
		     "--access must be r, w or x");
	EXPECT_ERROR(walk("--image", img, "--format", "x86-fs4", "--root", "0", "--addr", "0",
			  "--s2-format", "vtd-ss4", NULL),
		     "--s2-format and --s2-root go together");
	EXPECT_ERROR(walk("--image", img, "--format", "x86-fs4", "--root", "0", "--addr", "0",
			  "--s2-format", "lpae-s2", "--s2-root", "0", NULL),
		     "nesting needs a stage-1 format over a stage-2 format");
	EXPECT_ERROR(walk("--image", img, "--format", "x86-fs4", "--root", "0", "--addr", "0",
			  "--bogus", NULL),
		     "unknown or incomplete option '--bogus'");
	EXPECT_ERROR(walk("--image", img, "--format", "x86-fs4", "--root", "0", "--addr", "0",
			  "extra", NULL),
		     "unexpected argument 'extra'");
}

int main(void)
{
	cli_data_dir = getenv("VSVA_TEST_DATA");
	if (!cli_data_dir) {
		fprintf(stderr, "VSVA_TEST_DATA is not set (run through ctest)\n");
		return 77;
	}
	test_x86_fs4();
	test_x86_fs5();
	test_vtd_ss();
	test_lpae();
	test_nested();
	test_text_output();
	test_bad_images();
	test_bad_options();
	return check_exit();
}
