/* tests/test_script.c — `vsva script`'s own language: what a malformed line, a bad
 * number, a bad BDF, an unmet expectation, a missing file or a forgotten DMA does
 * (exit status and the FILE:LINE message), the output format, --quiet, and a few
 * commands the examples do not use. The scenarios themselves (the .vsva files
 * under examples/) run as CTest entries of their own.
 *
 * Scripts are written to temporary files and run in-process through cli_script(),
 * so that the sanitizers see the interpreter and the models together.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli/cli.h"

struct run {
	int status;
	char *out;
	char *err;
	char path[64];
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static struct run run_args(const char *path, const char *extra)
{
	struct run r = { 0 };
	size_t olen, elen;
	FILE *out = open_memstream(&r.out, &olen);
	FILE *err = open_memstream(&r.err, &elen);
	char *argv[4] = { (char *)"script", (char *)path, (char *)extra, NULL };

	snprintf(r.path, sizeof(r.path), "%s", path ? path : "");
	r.status = cli_script(extra ? 3 : path ? 2 : 1, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

/* Writes text to a fresh temporary file and runs it (extra: one more argument). */
static struct run script(const char *text, const char *extra)
{
	char path[64] = "/tmp/vsva-script-XXXXXX";
	struct run r;
	int fd = mkstemp(path);
	FILE *f;

	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		perror("temporary script");
		exit(77);
	}
	fputs(text, f);
	fclose(f);
	r = run_args(path, extra);
	unlink(path);
	return r;
}

/* Exit status, and fragments in err: "@:" in a fragment stands for the script's
 * path, so "@:3: unknown command" means PATH:3: unknown command. */
static void expect_err(int line, struct run r, int status, const char *frag)
{
	char want[256];
	const char *at = strstr(frag, "@");

	if (at)
		snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - frag), frag, r.path, at + 1);
	else
		snprintf(want, sizeof(want), "%s", frag);
	CHECK_MSG(r.status == status && strstr(r.err, want), "case at line %d: status %d "
		  "(want %d), err '%s' lacks '%s'", line, r.status, status, r.err, want);
}

static void expect_out(int line, struct run r, const char *frag)
{
	CHECK_MSG(r.status == 0 && strstr(r.out, frag), "case at line %d: status %d, out '%s' "
		  "lacks '%s'\nerr: %s", line, r.status, r.out, frag, r.err);
}

/* The unit set up as the examples do, second stage only for 00:02.0 (no tables). */
#define PROLOGUE                                                                        \
	"mem add 0x0 0x100000\n"                                                        \
	"mem write64 0x1000 0x2001 0x0\n"                                               \
	"mem write64 0x2200 0x3001 0x0\n"                                               \
	"mem write64 0x3000 0x4001\n"                                                   \
	"mem write64 0x4000 0x10089 0x1 0x0\n"                                          \
	"vtd new\n"                                                                     \
	"reg write64 RTADDR 0x1400\n"                                                   \
	"gcmd set SRTP\n"                                                               \
	"reg write64 IQA 0x8800\n"                                                      \
	"gcmd set QIE\n"                                                                \
	"gcmd set TE\n"
#define PROLOGUE_LINES 11

static void test_command_line(void)
{
	struct run r;

	r = run_args(NULL, NULL);
	expect_err(__LINE__, r, 1, "vsva script: which script?");
	run_free(&r);
	r = run_args("/nonexistent/dir/x.vsva", NULL);
	expect_err(__LINE__, r, 1, "vsva script: cannot open '/nonexistent/dir/x.vsva': No such "
		   "file or directory");
	run_free(&r);
	r = script("# nothing\n", "--loud");
	expect_err(__LINE__, r, 1, "unknown option '--loud'");
	run_free(&r);
	r = script("# nothing\n", "other.vsva");
	expect_err(__LINE__, r, 1, "one script at a time");
	run_free(&r);
	r = run_args("--help", NULL);
	CHECK(r.status == 0 && strstr(r.out, "usage: vsva script FILE [--quiet]"));
	run_free(&r);
	/* Comments and blank lines only: nothing to do, success, no output. */
	r = script("# a comment\n\n   \t\n# another\n", NULL);
	CHECK(r.status == 0 && !r.out[0] && !r.err[0]);
	run_free(&r);
}

static void test_malformed(void)
{
	struct run r;

	r = script("# first line\nfrobnicate 1 2\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: unknown command 'frobnicate'");
	run_free(&r);
	/* Bad numbers: trailing junk, a sign, octal-looking hex, overflow. */
	r = script("mem add 0x10q 0x1000\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: base '0x10q' is not a number (decimal, or hex with 0x)");
	run_free(&r);
	r = script("mem add 0x0 -4096\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: size '-4096' is not a number");
	run_free(&r);
	r = script("mem add 0x0 0x1000\nmem write64 0x0 0x10000000000000000\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: value '0x10000000000000000' is not a number");
	run_free(&r);
	r = script("mem add 0x0 0x1000\nmem write32 0x0 0x100000000\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: value 0x100000000 is too large");
	run_free(&r);
	/* Bad BDFs: device above 0x1f, function above 7, wrong shape. */
	r = script("vtd new\nep new 00:20.0\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: '00:20.0' is not a bus:device.function (BB:DD.F in hex, "
		   "device 00-1f, function 0-7)");
	run_free(&r);
	r = script("vtd new\ntranslate 00:02.8 0x1000\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: '00:02.8' is not a bus:device.function");
	run_free(&r);
	r = script("vtd new\ndma read 0:2.0 0x1000 8\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: '0:2.0' is not a bus:device.function");
	run_free(&r);
	/* Words a command does not take, missing ones, unknown names. */
	r = script("vtd new\ntranslate 00:02.0 0x1000 sideways\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: unexpected word 'sideways'");
	run_free(&r);
	r = script("vtd new\ntranslate 00:02.0\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: too few words: translate BDF ADDR");
	run_free(&r);
	r = script("vtd new\ndma read 00:02.0 0x1000 8 speed=9\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: unknown option 'speed='");
	run_free(&r);
	r = script("vtd new\nreg read32 GSTATUS\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: unknown register 'GSTATUS'");
	run_free(&r);
	r = script("vtd new\nreg read64 0x1c\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: register offset 0x1c is not 8-byte aligned");
	run_free(&r);
	r = script("vtd new\ngcmd clear SRTP\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: SRTP is a one-shot command");
	run_free(&r);
	r = script("vtd new iotlb_sets=4\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: unknown unit option 'iotlb_sets'");
	run_free(&r);
	r = script("vtd new checker=maybe\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: option checker takes on or off, not 'maybe'");
	run_free(&r);
	/* A configuration the unit refuses is the unit's answer, reported. */
	r = script("vtd new nfr=0\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: vtd new: the unit refuses this configuration");
	run_free(&r);
	r = script("vtd new\nqi pasid-iotlb page did=1 pasid=2\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: option addr= is required here");
	run_free(&r);
	r = script("vtd new\nqi pasid-iotlb global did=1 pasid=2\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: qi pasid-iotlb: unknown granularity 'global'");
	run_free(&r);
	r = script("vtd new\nqi cc global ih\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: qi cc does not take the flag ih");
	run_free(&r);
	r = script("vtd new\nqi wait addr=0x1000\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: qi wait does not take addr=");
	run_free(&r);
	r = script("vtd new\nqi flush all\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: unknown qi form 'flush'");
	run_free(&r);
	r = script("vtd new\nqi wait status=0x1000\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: status= and data= go together");
	run_free(&r);
	/* Order: the unit before registers and endpoints, endpoints before DMA. */
	r = script("reg read32 GSTS\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: no model yet: 'vtd new' or 'smmu new' first");
	run_free(&r);
	r = script("gcmd set TE\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: no VT-d unit yet: 'vtd new' first");
	run_free(&r);
	r = script("vtd new\ndma read 00:02.0 0x1000 8\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: no endpoint 00:02.0: 'ep new 00:02.0' first");
	run_free(&r);
	r = script("vtd new\nvtd new\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: the script has a unit already");
	run_free(&r);
	/* Memory errors name the address. */
	r = script("mem read64 0x5000\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: mem read64 at 0x5000: no memory there");
	run_free(&r);
	r = script("mem add 0x0 0x2000\nmem add 0x1000 0x1000\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: mem add 0x1000 0x1000: overlaps memory already added");
	run_free(&r);
	r = script("image no-such.img\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: cannot open image '/tmp/no-such.img'");
	run_free(&r);
	/* The first error stops the script: later lines never run. */
	r = script("mem add 0x0 0x1000\nbogus\nmem read64 0x0\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: unknown command 'bogus'");
	CHECK(strstr(r.out, "1: mem add") && !strstr(r.out, "mem read64"));
	run_free(&r);
}

static void test_expectations(void)
{
	struct run r;

	/* Met: exit 0, each command and expectation printed with its line. */
	r = script("mem add 0x0 0x1000\n"
		   "mem write64 0x8 0x1 0x2\n"
		   "mem read64 0x10\n"
		   "expect value 0x2\n"
		   "expect value 2\n"                   /* numbers compare as numbers */
		   "expect mem64 0x8 0x1\n"
		   "expect mem32 0xc 0x0\n"
		   "expect mem64 0x10 0x6 mask=0x2\n", NULL);
	expect_out(__LINE__, r, "3: mem read64 0x10 -> value 0x2\n");
	expect_out(__LINE__, r, "4: expect value 0x2 -> ok\n");
	run_free(&r);
	/* Unmet: FILE:LINE, what was expected, what was found, and the result's line. */
	r = script("mem add 0x0 0x1000\n"
		   "mem write64 0x8 0x1\n"
		   "mem read64 0x8\n"
		   "# a comment line\n"
		   "expect value 0x2\n"
		   "mem read64 0x0\n", NULL);
	expect_err(__LINE__, r, 1, "@:5: expect value 0x2: got 0x1 (line 3)");
	CHECK(!strstr(r.out, "6:"));
	run_free(&r);
	r = script("mem add 0x0 0x1000\nexpect mem64 0x0 0x5\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: expect mem64 0x0 0x5: 0x0 is 0x0");
	run_free(&r);
	r = script("mem add 0x0 0x1000\nmem write64 0x0 0xf0\nexpect mem64 0x0 0x0 mask=0x30\n",
		   NULL);
	expect_err(__LINE__, r, 1, "@:3: expect mem64 0x0 0x0 mask=0x30: 0x0 is 0xf0, & 0x30 = 0x30");
	run_free(&r);
	/* A field the last result does not have; expect fault on a success. */
	r = script("mem add 0x0 0x1000\nmem read64 0x0\nexpect pa 0x0\n", NULL);
	expect_err(__LINE__, r, 1, "@:3: expect pa 0x0: the result of line 2 (mem read64) has no "
		   "'pa'");
	run_free(&r);
	r = script("expect value 0x0\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: nothing to check yet");
	run_free(&r);
	/* Translation results, fault reasons, registers and counters. */
	r = script(PROLOGUE
		   "translate 00:02.0 0x1000 r\n"       /* SS root 0x10000 is all zero */
		   "expect result fault\n"
		   "expect fault 0x79\n"
		   "expect reg32 FSTS 0x2\n"
		   "expect reg64 FRCD0.HI 0xc000007900000010\n"
		   "expect stat faults.0x79 1\n"
		   "expect stat translations 1\n"
		   "expect fault 0x80\n", NULL);
	{
		char want[64];

		snprintf(want, sizeof(want), "@:%d: expect fault 0x80: got 0x79 (line %d)",
			 PROLOGUE_LINES + 8, PROLOGUE_LINES + 1);
		expect_err(__LINE__, r, 1, want);
	}
	run_free(&r);
	r = script(PROLOGUE
		   "mem add 0x10000000 0x1000\n"
		   "mem write64 0x10000 0x11003\n"
		   "mem write64 0x11000 0x12003\n"
		   "mem write64 0x12000 0x13003\n"
		   "mem write64 0x13000 0x10000003\n"
		   "translate 00:02.0 0x123 w\n"
		   "expect fault 0x79\n", NULL);
	expect_err(__LINE__, r, 1, "expect fault 0x79: no fault: result ok");
	run_free(&r);
	r = script(PROLOGUE "expect stat iotlb.hits 1\n", NULL);
	expect_err(__LINE__, r, 1, "expect stat iotlb.hits 1: iotlb.hits is 0");
	run_free(&r);
	r = script(PROLOGUE "expect stat iotlb.hitz 1\n", NULL);
	expect_err(__LINE__, r, 1, "unknown counter 'iotlb.hitz'");
	run_free(&r);
	r = script(PROLOGUE "expect stale 1\n", NULL);
	expect_err(__LINE__, r, 1, "expect stale 1: the checker reported 0 stale translation(s)");
	run_free(&r);
	/* Unmasked, one fault sends one event (more than expected fails at once). */
	r = script(PROLOGUE
		   "reg write32 FECTL 0x0\n"
		   "translate 00:02.0 0x1000 r\n"
		   "expect events fault 0\n", NULL);
	expect_err(__LINE__, r, 1, "expect events fault 0: the unit sent 1 fault event(s)");
	run_free(&r);
}

static void test_queues_and_dma(void)
{
	struct run r;

	/* The model's queue error is a result, not a script error: type 0xa is no
	 * descriptor (IQEI 3), the queue stops with IQH at it. */
	r = script(PROLOGUE
		   "qi submit 0xa 0x0\n"
		   "expect iqe 1\n"
		   "expect iqei 3\n"
		   "expect iqh 0x0\n"
		   "expect iqt 0x20\n"
		   "expect reg32 FSTS 0x10\n"
		   "wait qi\n"
		   "expect fsts 0x10\n", NULL);
	expect_out(__LINE__, r, "queue stopped: invalid descriptor type");
	expect_out(__LINE__, r, "# queue stopped by IQE");
	run_free(&r);
	/* A 128-bit queue takes two words per descriptor. */
	r = script("mem add 0x0 0x100000\nvtd new\nreg write64 IQA 0x8000\n"
		   "qi submit 0x5 0x0 0x0 0x0\n", NULL);
	expect_err(__LINE__, r, 1, "@:4: a 128-bit queue (IQA.DW = 0) takes 2 words");
	run_free(&r);
	/* A wait that never comes true fails with its line. */
	r = script(PROLOGUE "wait prq timeout=10\n", NULL);
	expect_err(__LINE__, r, 1, "wait prq: no page request at PQH 0x0 within 10 ms");
	run_free(&r);
	r = script(PROLOGUE "wait mem32 0xa000 0x1 timeout=10\n", NULL);
	expect_err(__LINE__, r, 1, "wait mem32: 0xa000 holds 0x0, not 0x1 after 10 ms");
	run_free(&r);
	/* The endpoint's own refusals are results. */
	r = script(PROLOGUE
		   "ep new 00:02.0\n"
		   "ep enable 00:02.0 ats\n"
		   "expect ats refused\n"
		   "dma read 00:02.0 0x1000 8 pasid=1\n"
		   "expect result refused\n", NULL);
	CHECK_MSG(r.status == 0, "status %d err %s", r.status, r.err);
	run_free(&r);
	/* An async DMA must be waited for; one at a time per endpoint. */
	r = script(PROLOGUE
		   "ep new 00:02.0\n"
		   "dma read 00:02.0 0x1000 8 async\n", NULL);
	{
		char want[96];

		snprintf(want, sizeof(want), "@:%d: the DMA of 00:02.0 started here was never "
			 "waited for", PROLOGUE_LINES + 2);
		expect_err(__LINE__, r, 1, want);
	}
	run_free(&r);
	r = script(PROLOGUE
		   "ep new 00:02.0\n"
		   "dma read 00:02.0 0x1000 8 async\n"
		   "dma read 00:02.0 0x1000 8\n", NULL);
	expect_err(__LINE__, r, 1, "has a DMA running since line");
	run_free(&r);
	r = script(PROLOGUE "ep new 00:02.0\nwait dma 00:02.0\n", NULL);
	expect_err(__LINE__, r, 1, "no DMA of 00:02.0 is running");
	run_free(&r);
	/* An async DMA that faults: its result arrives with wait dma. */
	r = script(PROLOGUE
		   "ep new 00:02.0\n"
		   "dma read 00:02.0 0x1000 8 async\n"
		   "wait dma 00:02.0\n"
		   "expect result fault\n"
		   "expect fault 0x79\n"
		   "expect events fault 0\n", NULL);
	CHECK_MSG(r.status == 0, "status %d err %s", r.status, r.err);
	run_free(&r);
	/* A PRI DMA left waiting for a response: the script fails, and cleanup ends the
	 * DMA (PRI disabled under it) instead of hanging. */
	r = script("mem add 0x0 0x100000\n"
		   "mem write64 0x1000 0x2001 0x0\n"
		   "mem write64 0x2200 0x301d 0x0\n"
		   "mem write64 0x3000 0x4001\n"
		   "mem write64 0x4140 0x41 0x2 0x20000\n"
		   "vtd new\n"
		   "reg write64 RTADDR 0x1400\n"
		   "gcmd set SRTP\n"
		   "gcmd set TE\n"
		   "reg write64 PQA 0x9000\n"
		   "ep new 00:02.0 pasid=20 ats pri\n"
		   "ep enable 00:02.0 pasid ats pri\n"
		   "dma read 00:02.0 0x7f1234567000 8 pasid=5 pri async timeout=60000\n"
		   "wait prq\n"
		   "expect addr 0x7f1234567000\n", NULL);
	expect_err(__LINE__, r, 1, "@:13: the DMA of 00:02.0 started here was never waited for");
	run_free(&r);
}

static void test_quiet_and_tables(void)
{
	struct run r;

	r = script("mem add 0x0 0x1000\nmem read64 0x0\nexpect value 0x0\n", "--quiet");
	CHECK(r.status == 0 && !r.out[0] && !r.err[0]);
	run_free(&r);
	/* A table built with pgt map, walked by the unit: GPA 0x5000 -> 0x7000. */
	r = script(PROLOGUE
		   "pool 0x40000 0x10000\n"
		   "pgt root vtd-ss4\n"
		   "expect root 0x40000\n"
		   "mem write64 0x4000 0x40089 0x1 0x0\n"   /* PASID 0 -> SS root 0x40000 */
		   "pgt map vtd-ss4 0x40000 0x5000 0x7000 0x1000 r\n"
		   "translate 00:02.0 0x5008 r\n"
		   "expect pa 0x7008\n"
		   "expect perm r-x\n"
		   "stats\n"
		   "expect walks 1\n"
		   "pgt unmap vtd-ss4 0x40000 0x5000 0x1000\n"
		   "expect unmapped 0x1000\n", NULL);
	CHECK_MSG(r.status == 0, "status %d err %s out %s", r.status, r.err, r.out);
	run_free(&r);
	r = script("mem add 0x0 0x1000\npgt root vtd-ss4\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: no frame pool");
	run_free(&r);
	r = script("mem add 0x0 0x10000\npool 0x0 0x10000\npgt root vtd-ss9\n", NULL);
	expect_err(__LINE__, r, 1, "@:3: ");
	run_free(&r);
}

/* An SMMU with its command queue on (32 slots at 0x30000), translation off. */
#define SMMU_PROLOGUE                                                                   \
	"mem add 0x0 0x100000\n"                                                        \
	"smmu new\n"                                                                    \
	"reg write64 CMDQ_BASE 0x30005\n"                                               \
	"cr0 set CMDQEN\n"
#define SMMU_PROLOGUE_LINES 4

static void test_smmu_language(void)
{
	struct run r;

	/* One model per script, and each model's commands name the other. */
	r = script("vtd new\nsmmu new\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: the script has a unit already (a VT-d unit");
	run_free(&r);
	r = script("smmu new\nvtd new\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: the script has a unit already (an SMMU");
	run_free(&r);
	r = script("smmu new\ngcmd set TE\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: gcmd is a VT-d command, but this script drives an SMMU");
	run_free(&r);
	r = script("smmu new\nqi wait\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: qi is a VT-d command");
	run_free(&r);
	r = script("smmu new\nwait prq\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: wait prq is a VT-d command");
	run_free(&r);
	r = script("vtd new\ncr0 set SMMUEN\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: cr0 is an SMMU command, but this script drives a VT-d "
		   "unit");
	run_free(&r);
	r = script("vtd new\nwait evtq\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: wait evtq is an SMMU command");
	run_free(&r);
	r = script("cmd sync\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: no SMMU yet: 'smmu new' first");
	run_free(&r);
	r = script("smmu new\nreg read32 GSTS\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: unknown SMMU register 'GSTS'");
	run_free(&r);
	r = script("smmu new\nexpect events fault 0\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: unknown event 'fault' (gerror eventq priq cmd-sync sev)");
	run_free(&r);
	r = script("smmu new\nexpect stat iotlb.hits 0\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: unknown SMMU counter 'iotlb.hits'");
	run_free(&r);
	r = script("smmu new tlb_sets=4\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: unknown unit option 'tlb_sets' (a struct smmu_config");
	run_free(&r);
	r = script("smmu new oas=47\n", NULL);
	expect_err(__LINE__, r, 1, "@:1: smmu new: the SMMU refuses this configuration");
	run_free(&r);
	r = script("smmu new sidsize=4\nep new 00:02.0\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: ep new: cannot attach: the StreamID does not fit");
	run_free(&r);
	r = script("smmu new\ncr0 set TE\n", NULL);
	expect_err(__LINE__, r, 1, "@:2: unknown CR0 field 'TE'");
	run_free(&r);

	/* Named commands: options they take, need, and refuse. */
	r = script(SMMU_PROLOGUE "cmd tlbi-nh-va vmid=0 asid=1\n", NULL);
	expect_err(__LINE__, r, 1, "option addr= is required here");
	run_free(&r);
	r = script(SMMU_PROLOGUE "cmd cfgi-ste sid=1 range=3\n", NULL);
	expect_err(__LINE__, r, 1, "cmd cfgi-ste does not take range=");
	run_free(&r);
	r = script(SMMU_PROLOGUE "cmd resume sid=1 stag=0 retry abort\n", NULL);
	expect_err(__LINE__, r, 1, "cmd resume: retry or abort, not both");
	run_free(&r);
	r = script(SMMU_PROLOGUE "cmd sync msi=0xa000\n", NULL);
	expect_err(__LINE__, r, 1, "msi= and data= go together");
	run_free(&r);
	r = script(SMMU_PROLOGUE "cmd sync msi=0xa002 data=1\n", NULL);
	expect_err(__LINE__, r, 1, "msi=0xa002 is not 4-byte aligned");
	run_free(&r);
	r = script(SMMU_PROLOGUE "cmd pri-resp sid=1 grpid=0 resp=4\n", NULL);
	expect_err(__LINE__, r, 1, "resp= 4 is too large");
	run_free(&r);
	r = script(SMMU_PROLOGUE "cmd flush\n", NULL);
	expect_err(__LINE__, r, 1, "unknown command 'flush'");
	run_free(&r);
	r = script(SMMU_PROLOGUE "wait evtq timeout=10\n", NULL);
	expect_err(__LINE__, r, 1, "wait evtq: no entry in the event queue at CONS 0x0 within 10 "
		   "ms");
	run_free(&r);
	/* With CMDQEN off nothing is consumed: a 1-slot queue is full after one. */
	r = script("mem add 0x0 0x100000\nsmmu new\nreg write64 CMDQ_BASE 0x30000\n"
		   "cmd sync\nexpect prod 0x1\nexpect cons 0x0\ncmd sync\n", NULL);
	expect_err(__LINE__, r, 1, "@:7: the command queue is full (PROD 0x1, CONS 0x0)");
	run_free(&r);

	/* Each form's words (facts §4.2), as the note shows them. */
	r = script(SMMU_PROLOGUE
		   "cmd prefetch-config sid=0x10 ssid=3\n"
		   "cmd cfgi-ste-range sid=0x20 range=4\n"
		   "cmd cfgi-cd sid=0x10 ssid=2 leaf\n"
		   "cmd cfgi-cd-all sid=0x10\n"
		   "cmd tlbi-nh-all vmid=3\n"
		   "cmd tlbi-nh-vaa vmid=1 addr=0x12345678 num=3 scale=2 tg=1 ttl=3\n"
		   "cmd tlbi-s2-ipa vmid=2 addr=0x40201000 leaf\n"
		   "cmd tlbi-s12-vmall vmid=2\n"
		   "cmd pri-resp sid=0x10 grpid=5 resp=invalid\n"
		   "cmd resume sid=00:02.0 stag=5 retry\n"
		   "cmd resume sid=0x10 stag=6 abort\n"
		   "cmd stall-term sid=0x10\n"
		   "cmd sync sev\n"
		   "cmd sync irq\n"
		   "cmd atc-inv sid=0x10 addr=0x7f1234567000 size=52 global\n"
		   "expect err none\n"
		   "expect prod 0xf\n"
		   "expect events cmd-sync 1\n"
		   "expect stat commands.0x44 2\n"
		   "reg read32 CMDQ_CONS\n"
		   "expect value 0xf\n"
		   "expect value 0x7 mask=0x7\n", NULL);
	/* 0x01 | SSV 0x800 | SSID 3 << 12 | SID 0x10 << 32 */
	expect_out(__LINE__, r, "prefetch-config dw0 0x1000003801 dw1 0x0");
	expect_out(__LINE__, r, "cfgi-ste-range dw0 0x2000000004 dw1 0x4");
	/* 0x05 | SSID 2 << 12 (no SSV) | SID; Leaf */
	expect_out(__LINE__, r, "cfgi-cd dw0 0x1000002005 dw1 0x1");
	expect_out(__LINE__, r, "cfgi-cd-all dw0 0x1000000006 dw1 0x0");
	expect_out(__LINE__, r, "tlbi-nh-all dw0 0x300000010 dw1 0x0");
	/* 0x13 | NUM 3 << 12 | SCALE 2 << 20 | VMID 1 << 32; Addr[63:12] | TG 1 << 10 |
	 * TTL 3 << 8 */
	expect_out(__LINE__, r, "tlbi-nh-vaa dw0 0x100203013 dw1 0x12345700");
	expect_out(__LINE__, r, "tlbi-s2-ipa dw0 0x20000002a dw1 0x40201001");
	expect_out(__LINE__, r, "tlbi-s12-vmall dw0 0x200000028 dw1 0x0");
	/* Resp 1 (InvalidRequest) << 12 | PRGIndex 5 */
	expect_out(__LINE__, r, "pri-resp dw0 0x1000000041 dw1 0x1005");
	/* Ac (bit 12) retries, Ab (bit 13) aborts */
	expect_out(__LINE__, r, "resume dw0 0x1000001044 dw1 0x5");
	expect_out(__LINE__, r, "resume dw0 0x1000002044 dw1 0x6");
	expect_out(__LINE__, r, "stall-term dw0 0x1000000045 dw1 0x0");
	expect_out(__LINE__, r, "sync dw0 0x2046 dw1 0x0");    /* CS SIG_SEV */
	expect_out(__LINE__, r, "sync dw0 0x1046 dw1 0x0");    /* CS SIG_IRQ, no MSI */
	/* Global (bit 9); Size 52 = everything */
	expect_out(__LINE__, r, "span: everything; atc-inv dw0 0x1000000240 dw1 0x7f1234567034");
	run_free(&r);

	/* Registers decoded in the note; expect reg with the SMMU's names. */
	r = script(SMMU_PROLOGUE
		   "reg read32 CR0ACK\n"
		   "expect reg32 CR0 0x8\n"
		   "reg write32 EVENTQ_CONS 0x80000003\n"
		   "reg read32 EVENTQ_CONS\n"
		   "expect reg32 0x100ac 0x80000003\n"
		   "stats\n", NULL);
	expect_out(__LINE__, r, "-> value 0x8  # CMDQEN\n");
	expect_out(__LINE__, r, "-> value 0x80000003  # index 0 wrap 1 OVACKFLG\n");
	run_free(&r);
	r = script(SMMU_PROLOGUE "reg read32 CR0\nexpect value 0x0 mask=0x8\n", NULL);
	expect_err(__LINE__, r, 1, "expect value 0x0 mask=0x8: got 0x8, & 0x8 = 0x8 (line 5)");
	run_free(&r);
}

int main(void)
{
	test_command_line();
	test_malformed();
	test_expectations();
	test_queues_and_dma();
	test_quiet_and_tables();
	test_smmu_language();
	return check_exit();
}
