/* tests/test_cli_vtd.c — `vsva vtd-translate` on the hand-made scalable-mode images
 * tests/images/vtd-sm.img and vtd-sm5.img, as a user runs it: text and JSON,
 * translations of every PGTT, faults with their records (recorded or suppressed by
 * FPD), and every malformed option or image with its exit status.
 *
 * The expected answers come from the derivations written in the images (entry
 * addresses from address bits, outputs from the entries) and the facts; none was
 * copied from the command's output.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "cli/cli.h"

#include "cli_run.h"

static struct run vt(const char *first, ...)
{
	va_list ap;
	struct run r;

	va_start(ap, first);
	r = run_cli_v(cli_vtd_translate, "vtd-translate", first, ap);
	va_end(ap);
	return r;
}

static void expect(int line, struct run r, bool json, const char *const *frags)
{
	bool good = r.status == 0 && (!json || json_ok(r.out));

	for (const char *const *f = frags; *f; f++)
		good &= strstr(r.out, *f) != NULL;
	CHECK_MSG(good, "case at line %d: status %d\nout: %s\nerr: %s", line, r.status, r.out,
		  r.err);
	if (!good)
		for (const char *const *f = frags; *f; f++)
			if (!strstr(r.out, *f))
				fprintf(stderr, "  missing: %s\n", *f);
	free(r.out);
	free(r.err);
}

#define JSON(run, ...) expect(__LINE__, run, true, (const char *const[]){ __VA_ARGS__, NULL })
#define TEXT(run, ...) expect(__LINE__, run, false, (const char *const[]){ __VA_ARGS__, NULL })

/* Exit 1 with a message on stderr containing msg, nothing on stdout. */
static void expect_error(int line, struct run r, const char *msg)
{
	CHECK_MSG(r.status == 1 && !*r.out && strstr(r.err, msg),
		  "case at line %d: status %d out '%s' err '%s' (wanted '%s')", line, r.status, r.out,
		  r.err, msg);
	free(r.out);
	free(r.err);
}

#define ERROR(run, msg) expect_error(__LINE__, run, msg)

static void test_translations(void)
{
	const char *img = image("vtd-sm.img");

	/* Second stage only, request without PASID (RID_PASID 0): 1 root word, 4
	 * context words, the directory entry, 8 PASID-entry words, 4 SS entries. */
	TEXT(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0x12345678",
		NULL),
	     "vtd-translate sid 00:02.0 addr 0x12345678 read\n",
	     "  1 read  root-entry.lo  0x0000000000001000 = 0x0000000000002001  LP CTP 0x2000\n",
	     "  2 read  context[0]     0x0000000000002200 = 0x000000000000400d  P DTE PASIDE "
	     "PDTS 0 PDTP 0x4000\n",
	     "  6 read  pasid-dir      0x0000000000004000 = 0x0000000000005001  P PTP 0x5000\n",
	     "  7 read  pasid-entry[0] 0x0000000000005000 = 0x0000000000010089  P AW 2 PGTT 2 "
	     "(second-stage) SLPTPTR 0x10000\n",
	     "  8 read  pasid-entry[1] 0x0000000000005008 = 0x0000000000000001  DID 1\n",
	     " 15 read  s2 SL-PML4E    0x0000000000010000 = 0x0000000000011003",
	     " 17 read  s2 SL-PDE      0x0000000000012488 = 0x0000000000013003",
	     " 18 read  s2 SL-PTE      0x0000000000013a28 = 0x0000000007654003",
	     "result: ok output 0x7654678 page_size 0x1000 perm rwx refs 18 updates 0\n");
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0x12345678",
		"--json", NULL),
	     "{\"result\":\"ok\",\"output\":\"0x7654678\",\"page_size\":4096,\"perm\":\"rwx\","
	     "\"priv\":false,\"refs\":18,\"updates\":0,\"steps\":[",
	     "{\"op\":\"read\",\"name\":\"root-entry.lo\",\"pa\":\"0x1000\",\"value\":\"0x2001\"",
	     "{\"op\":\"read\",\"name\":\"pasid-entry[0]\",\"pa\":\"0x5000\",\"value\":\"0x10089\"",
	     "{\"op\":\"read\",\"stage\":2,\"level\":1,\"name\":\"SL-PTE\",\"ia\":\"0x12345678\","
	     "\"ea\":\"0x13a28\",\"pa\":\"0x13a28\",\"value\":\"0x7654003\"");
	/* The 2 MiB leaf at SL-PD index 1: 0x212345 -> 0x40012345 (3 SS entries). */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0x212345",
		"--access", "w", "--json", NULL),
	     "\"output\":\"0x40012345\",\"page_size\":2097152,\"perm\":\"rwx\"",
	     "\"refs\":17,\"updates\":0");
	/* W-only SL-PTE: a read is SGN.7; the zero SL-PTE: SSS.2. No PASID in the record. */
	TEXT(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0x12346000",
		NULL),
	     "result: fault reason 0x86 (SGN.7: read without read permission) recorded refs 18 "
	     "updates 0\n",
	     "record: SID 00:02.0 addr 0x12346000 PP 0 type read PRIV 0 EXE 0 AT 0 FPD 0\n");
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0x12347abc",
		"--json", NULL),
	     "{\"result\":\"fault\",\"reason\":\"0x79\",\"reason_name\":\"SSS.2\",\"recorded\":true,"
	     "\"sid\":\"00:02.0\",\"addr\":\"0x12347000\",\"pasid_present\":false,\"pasid\":0,"
	     "\"type\":\"read\",\"priv\":false,\"exe\":false,\"at\":0,\"fpd\":false,\"refs\":18");

	/* First stage only (PASID 1): a user read sets A in all four entries. */
	TEXT(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "1",
		"--addr", "0x7f1234567abc", NULL),
	     "vtd-translate sid 00:02.0 pasid 0x1 addr 0x7f1234567abc read\n",
	     " 15 read  s1 PML4E       0x00000000000207f0 = 0x0000000000021007",
	     " 16 write s1 PML4E       0x00000000000207f0 : 0x0000000000021007 -> "
	     "0x0000000000021027",
	     " 21 read  s1 PTE         0x0000000000023b38 = 0x0000000089abc005",
	     " 22 write s1 PTE         0x0000000000023b38 : 0x0000000089abc005 -> "
	     "0x0000000089abc025",
	     "result: ok output 0x89abcabc page_size 0x1000 perm r-x refs 18 updates 4\n");
	/* A user write: SGN.6 after the walk; A set above the leaf only. */
	TEXT(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "1",
		"--addr", "0x7f1234567abc", "--access", "w", NULL),
	     "result: fault reason 0x85 (SGN.6: write without write permission) recorded refs 18 "
	     "updates 3\n",
	     "record: SID 00:02.0 addr 0x7f1234567000 PP 1 PV 0x1 type write PRIV 0 EXE 0 AT 0 "
	     "FPD 0\n");
	/* A supervisor write (SRE, WPE = 0): allowed, A and D in the leaf. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "1",
		"--addr", "0x7f1234567abc", "--access", "w", "--priv", "--json", NULL),
	     "\"output\":\"0x89abcabc\",\"page_size\":4096,\"perm\":\"rwx\",\"priv\":true",
	     "\"refs\":18,\"updates\":4",
	     "\"pa\":\"0x23b38\",\"old\":\"0x89abc005\",\"value\":\"0x89abc065\"");
	/* An execute request with ERE = 0: SPT.5, before any walk. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "1",
		"--addr", "0x7f1234567abc", "--access", "x", "--json", NULL),
	     "\"reason\":\"0x5c\",\"reason_name\":\"SPT.5\",\"recorded\":true",
	     "\"pasid_present\":true,\"pasid\":1,\"type\":\"read\",\"priv\":false,\"exe\":true",
	     "\"refs\":14,");
	/* A privileged request to PASID 0 (SRE = 0): SPT.6. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "0", "--priv",
		"--addr", "0x12345678", "--json", NULL),
	     "\"reason\":\"0x5d\",\"reason_name\":\"SPT.6\",\"recorded\":true",
	     "\"priv\":true,\"exe\":false");

	/* Nested (PASID 2): 14 structure words and 24 page-table references. */
	TEXT(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "2",
		"--addr", "0x7f1234567abc", NULL),
	     /* FLPTPTR (GPA 0x1000) through the second stage first: SL-PTE 1 -> 0x31000. */
	     " 15 read  s2 SL-PML4E    0x0000000000010000 = 0x0000000000011003   R W "
	     "table=0x11000  (stage-1 table)\n",
	     " 18 read  s2 SL-PTE      0x0000000000014008 = 0x0000000000031003",
	     " 19 read  s1 PML4E       @0x17f0 -> 0x00000000000317f0 = 0x0000000000002027",
	     " 34 read  s1 PTE         @0x4b38 -> 0x0000000000034b38 = 0x0000000000008027",
	     " 38 read  s2 SL-PTE      0x0000000000014040 = 0x0000000007658003   R W EMT=0 "
	     "page=0x7658000\n",
	     "result: ok output 0x7658abc page_size 0x1000 perm rwx refs 38 updates 0\n");
	/* Pass-through (PASID 3): output = input; 2^48 is SGN.4; the interrupt range is
	 * blocked with SGN.8 even with a PASID. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "3",
		"--addr", "0x123456", "--json", NULL),
	     "{\"result\":\"ok\",\"output\":\"0x123456\",\"page_size\":4096,\"perm\":\"rwx\"",
	     "\"refs\":14,\"updates\":0");
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "3",
		"--addr", "0x1000000000000", "--json", NULL),
	     "\"reason\":\"0x83\",\"reason_name\":\"SGN.4\"");
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "3",
		"--addr", "0xfee00000", "--access", "w", "--json", NULL),
	     "\"reason\":\"0x87\",\"reason_name\":\"SGN.8\",\"recorded\":true",
	     "\"type\":\"write\"");
}

static void test_faults(void)
{
	const char *img = image("vtd-sm.img");

	/* PASID 4: not present with FPD: 0x59, suppressed. PASID 5: zero: recorded. */
	TEXT(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "4",
		"--addr", "0x1000", NULL),
	     " 7 read  pasid-entry[0] 0x0000000000005100 = 0x0000000000000002  - FPD",
	     "result: fault reason 0x59 (SPT.2: PASID-table entry not present) suppressed by FPD "
	     "refs 14 updates 0\n",
	     "record: SID 00:02.0 addr 0x1000 PP 1 PV 0x4 type read PRIV 0 EXE 0 AT 0 FPD 1\n");
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "4",
		"--addr", "0x1000", "--json", NULL),
	     "{\"result\":\"fault\",\"reason\":\"0x59\",\"reason_name\":\"SPT.2\",\"recorded\":false,"
	     "\"sid\":\"00:02.0\",\"addr\":\"0x1000\",\"pasid_present\":true,\"pasid\":4,"
	     "\"type\":\"read\",\"priv\":false,\"exe\":false,\"at\":0,\"fpd\":true,\"refs\":14");
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "5",
		"--addr", "0x1000", "--access", "w", "--json", NULL),
	     "\"reason\":\"0x59\",\"reason_name\":\"SPT.2\",\"recorded\":true",
	     "\"pasid\":5,\"type\":\"write\"", "\"fpd\":false");
	/* PASID 6: reserved bit 10 in word 0: SPT.3. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "6",
		"--addr", "0x1000", "--json", NULL),
	     "\"reason\":\"0x5a\",\"reason_name\":\"SPT.3\",\"recorded\":true");
	/* PASID 0x2000 is beyond PDTS 0 (2^13 PASIDs): SCT.7, after the context only. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "0x2000",
		"--addr", "0x1000", "--json", NULL),
	     "\"reason\":\"0x46\",\"reason_name\":\"SCT.7\"", "\"pasid\":8192", "\"refs\":5,");
	/* 00:03.0: context P = 0 with FPD: suppressed; 00:04.0: zero: recorded. */
	TEXT(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:03.0", "--addr", "0x1000",
		NULL),
	     "  2 read  context[0]     0x0000000000002300 = 0x0000000000000002  - FPD",
	     "result: fault reason 0x41 (SCT.2: context entry not present) suppressed by FPD "
	     "refs 5 updates 0\n");
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:04.0", "--addr", "0x1000",
		"--json", NULL),
	     "\"reason\":\"0x41\",\"reason_name\":\"SCT.2\",\"recorded\":true,\"sid\":\"00:04.0\"");
	/* 00:10.1: devfn 0x81 uses the hi half (UP, CTP 0x3000), entry 1 at 0x3020. Its
	 * context has no PASIDE: a request with PASID is SCT.6; without, RID_PASID 0. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:10.1", "--pasid", "1",
		"--addr", "0x1000", "--json", NULL),
	     "\"reason\":\"0x45\",\"reason_name\":\"SCT.6\"",
	     "{\"op\":\"read\",\"name\":\"root-entry.hi\",\"pa\":\"0x1008\",\"value\":\"0x3001\","
	     "\"bits\":\"UP CTP 0x3000\"}",
	     "{\"op\":\"read\",\"name\":\"context[0]\",\"pa\":\"0x3020\",\"value\":\"0x4001\"");
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:10.1", "--addr", "0x12345678",
		"--json", NULL),
	     "\"result\":\"ok\",\"output\":\"0x7654678\"");
	/* Bus 1's root entry (0x1010) is zero: SRT.2 after one read. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "01:00.0", "--addr", "0x1000",
		"--json", NULL),
	     "\"reason\":\"0x39\",\"reason_name\":\"SRT.2\",\"recorded\":true", "\"refs\":1,",
	     "\"pa\":\"0x1010\",\"value\":\"0x0\"");
	/* A root table the image does not hold: SRT.1, no reference made. */
	JSON(vt("--image", img, "--rtaddr", "0x9000", "--sid", "00:02.0", "--addr", "0x1000",
		"--json", NULL),
	     "\"reason\":\"0x38\",\"reason_name\":\"SRT.1\"", "\"refs\":0,", "\"steps\":[]}");
}

static void test_second_image(void)
{
	const char *img = image("vtd-sm5.img");

	/* 03:00.0 without PASID: RID_PASID 64 (directory entry 1 at 0x4008, table
	 * 0x6000) with RID_PRIV: a supervisor request to the 3-level second stage. */
	TEXT(vt("--image", img, "--rtaddr", "0x1000", "--sid", "03:00.0", "--addr", "0x7ffffffabc",
		NULL),
	     "  1 read  root-entry.lo  0x0000000000001030 = 0x0000000000002001  LP CTP 0x2000\n",
	     "  3 read  context[1]     0x0000000000002008 = 0x0000000000100040  RID_PASID 0x40 "
	     "RID_PRIV\n",
	     "  6 read  pasid-dir      0x0000000000004008 = 0x0000000000006001  P PTP 0x6000\n",
	     " 15 read  s2 SL-PDPE     0x0000000000010ff8 = 0x0000000000011003",
	     "result: ok output 0x7777abc page_size 0x1000 perm r-x priv refs 17 updates 0\n");
	/* PASID 9, 5-level first stage, supervisor read of the 1 GiB XD page. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "03:00.0", "--pasid", "9",
		"--priv", "--addr", "0xff00000040201abc", "--json", NULL),
	     "\"output\":\"0xc0201abc\",\"page_size\":1073741824,\"perm\":\"rw-\",\"priv\":true",
	     "\"refs\":17,\"updates\":3", "\"name\":\"PML5E\",\"ia\":\"0xff00000040201abc\","
	     "\"ea\":\"0x20800\"");
	/* A user read: no U/S anywhere: SGN.2, A set in the two upper entries. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "03:00.0", "--pasid", "9",
		"--addr", "0xff00000040201abc", "--json", NULL),
	     "\"reason\":\"0x81\",\"reason_name\":\"SGN.2\"", "\"updates\":2");
	/* Non-canonical for 57 bits: SGN.1. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "03:00.0", "--pasid", "9",
		"--priv", "--addr", "0x0100000000000000", "--json", NULL),
	     "\"reason\":\"0x80\",\"reason_name\":\"SGN.1\"");
	/* PDTS 1: PASID 0x2000 is in range, its directory entry 0x80 is zero: SPD.2;
	 * PASID 0x4000 is not: SCT.7. */
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "03:00.0", "--pasid", "0x2000",
		"--addr", "0", "--json", NULL),
	     "\"reason\":\"0x51\",\"reason_name\":\"SPD.2\"",
	     "\"name\":\"pasid-dir\",\"pa\":\"0x4400\",\"value\":\"0x0\"");
	JSON(vt("--image", img, "--rtaddr", "0x1000", "--sid", "03:00.0", "--pasid", "0x4000",
		"--addr", "0", "--json", NULL),
	     "\"reason\":\"0x46\"");
}

static void test_errors(void)
{
	const char *img = image("vtd-sm.img");
	char bad[] = "/tmp/vsva-vtd-XXXXXX";
	FILE *f;
	int fd;

	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--addr", "0", NULL), "are required");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "0:02.0", "--addr", "0", NULL),
	      "is not BB:DD.F");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:20.0", "--addr", "0", NULL),
	      "is not BB:DD.F");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.8", "--addr", "0", NULL),
	      "is not BB:DD.F");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00-02.0", "--addr", "0", NULL),
	      "is not BB:DD.F");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0x", "--addr", "0", NULL),
	      "is not BB:DD.F");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "g0:02.0", "--addr", "0", NULL),
	      "is not BB:DD.F");
	ERROR(vt("--image", img, "--rtaddr", "0x1800", "--sid", "00:02.0", "--addr", "0", NULL),
	      "not 4 KiB aligned");
	ERROR(vt("--image", img, "--rtaddr", "x", "--sid", "00:02.0", "--addr", "0", NULL),
	      "is not a number");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "-1", NULL),
	      "is not a number");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--pasid", "0x100000",
		 "--addr", "0", NULL), "20-bit");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0",
		 "--access", "rw", NULL), "must be r, w or x");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0", "--priv",
		 NULL), "need --pasid");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0",
		 "--access", "x", NULL), "need --pasid");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0", "--nope",
		 NULL), "unknown or incomplete option");
	ERROR(vt("--image", img, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0", "extra",
		 NULL), "unexpected argument");
	ERROR(vt("--image", "/nonexistent/x.img", "--rtaddr", "0x1000", "--sid", "00:02.0",
		 "--addr", "0", NULL), "cannot open image");
	/* A malformed image: the message names the line. */
	fd = mkstemp(bad);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f) {
		fprintf(f, "# fine\n0x1000: 0x2001\n0x1004: 0x1\n");
		fclose(f);
		ERROR(vt("--image", bad, "--rtaddr", "0x1000", "--sid", "00:02.0", "--addr", "0", NULL),
		      ":3: PA 0x1004 is not 8-byte aligned");
		remove(bad);
	} else {
		CHECK(!"mkstemp");
	}
	/* --help: usage on stdout, exit 0. */
	{
		struct run r = vt("--help", NULL);

		CHECK(r.status == 0 && strstr(r.out, "usage: vsva vtd-translate"));
		free(r.out);
		free(r.err);
	}
}

int main(void)
{
	cli_data_dir = getenv("VSVA_TEST_DATA");
	if (!cli_data_dir) {
		fprintf(stderr, "VSVA_TEST_DATA is not set (run through ctest)\n");
		return 77;
	}
	test_translations();
	test_faults();
	test_second_image();
	test_errors();
	return check_exit();
}
