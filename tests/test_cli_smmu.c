/* tests/test_cli_smmu.c — `vsva smmu-translate` on the hand-made SMMUv3 images
 * tests/images/smmu-s1.img (linear stream table, stage 1, linear CD table, 4K
 * 4-level tables), smmu-s2.img (stage 2 only, 4K, T0SZ 25, SL0 1), smmu-nested.img
 * (CD table and stage-1 tables at IPAs) and smmu-2lvl.img (two-level stream table
 * with SPLIT 8, two-level CD table, 64K granule), as a user runs it: text and JSON,
 * translations, silent aborts, ATS requests and Translated traffic, the
 * configuration errors and translation faults with their event records, and every
 * malformed option with its exit status.
 *
 * The expected answers come from the derivations written in the images (entry
 * addresses from address bits, outputs from the entries) and, for event records,
 * from docs/facts/smmuv3-structures.md §5.1-5.2 (record layout: ID 7:0, SSV 11,
 * SubstreamID 31:12, StreamID 63:32; dw1 Stall 31, PnU 33, InD 34, RnW 35, S2 39,
 * CLASS 41:40 (CD 0, TT 1, IN 2), TTRnW 44; dw2 InputAddr; dw3 IPA 51:12) and
 * arm-lpae.md §9 (which fields a translation fault sets). None was copied from the
 * command's output.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "cli/cli.h"

#include "cli_run.h"

static struct run sm(const char *first, ...)
{
	va_list ap;
	struct run r;

	va_start(ap, first);
	r = run_cli_v(cli_smmu_translate, "smmu-translate", first, ap);
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
		  "case at line %d: status %d out '%s' err '%s' (wanted '%s')", line, r.status,
		  r.out, r.err, msg);
	free(r.out);
	free(r.err);
}

#define ERROR(run, msg) expect_error(__LINE__, run, msg)

/* The images and the STRTAB_BASE / STRTAB_BASE_CFG each is made for. */
#define IMG_S1     "--image", image("smmu-s1.img"), "--strtab", "0x10000", "--strtab-cfg", "0x6"
#define IMG_S2     "--image", image("smmu-s2.img"), "--strtab", "0x4000", "--strtab-cfg", "0x4"
#define IMG_NESTED "--image", image("smmu-nested.img"), "--strtab", "0x1000", "--strtab-cfg", "0x2"
#define IMG_2LVL   "--image", image("smmu-2lvl.img"), "--strtab", "0x1000", "--strtab-cfg", \
		   "0x10210"

static void test_stage1(void)
{
	/* SID 3, SSID 1: STE 3 at 0x10000 + 3 * 64 = 0x100c0 (4 words), CD 1 at 0x20000 +
	 * 1 * 64 = 0x20040 (4 words), then L0-L3 as the image derives them: 12
	 * references. The page is AP 01 (EL0 read/write, UXN 0): rwx unprivileged. */
	TEXT(sm(IMG_S1, "--sid", "3", "--ssid", "1", "--addr", "0x123456789abc", NULL),
	     "smmu-translate sid 0x3 ssid 0x1 addr 0x123456789abc read\n",
	     "  1 read  ste[0]         0x00000000000100c0 = 0x100000000002000b  V Config 5 "
	     "(stage-1) S1Fmt 0 S1CDMax 2 S1ContextPtr 0x20000\n",
	     "  2 read  ste[1]         0x00000000000100c8 = 0x0000000000000002  S1DSS 2 EATS 0 "
	     "STRW 0\n",
	     "  4 read  ste[3]         0x00000000000100d8 = 0x0000000000000000",
	     "  5 read  cd[0]          0x0000000000020040 = 0x00016205c0000010  V T0SZ 16 TG0 4K "
	     "EPD1 IPS 5 AA64 R A ASID 1\n",
	     "  6 read  cd[1]          0x0000000000020048 = 0x0000000000030000  TTB0 0x30000\n",
	     "  8 read  cd[3]          0x0000000000020058 = 0x0000000000000000",
	     "  9 read  s1 L0          0x0000000000030120 = 0x0000000000031003  table=0x31000\n",
	     " 10 read  s1 L1          0x0000000000031688 = 0x0000000000032003",
	     " 11 read  s1 L2          0x0000000000032598 = 0x0000000000033003",
	     " 12 read  s1 L3          0x0000000000033c48 = 0x0000000087654743  page=0x87654000",
	     "result: ok output 0x87654abc page_size 0x1000 page_base 0x123456789000 perm rwx "
	     "refs 12 updates 0\n");
	/* Privileged: EL0-writable means privileged-execute-never (arm-lpae.md §5). */
	JSON(sm(IMG_S1, "--sid", "3", "--ssid", "1", "--priv", "--addr", "0x123456789abc",
		"--json", NULL),
	     "{\"result\":\"ok\",\"output\":\"0x87654abc\",\"page_size\":4096,\"page_base\":"
	     "\"0x123456789000\",\"perm\":\"rw-\",\"priv\":true,\"refs\":12,\"updates\":0,"
	     "\"steps\":[{\"op\":\"read\",\"name\":\"ste[0]\",\"pa\":\"0x100c0\","
	     "\"value\":\"0x100000000002000b\"",
	     "{\"op\":\"read\",\"stage\":1,\"level\":3,\"name\":\"L3\",\"ia\":\"0x123456789abc\","
	     "\"ea\":\"0x33c48\",\"pa\":\"0x33c48\",\"value\":\"0x87654743\",\"s1_fetch\":false");
	/* An execute request (unprivileged, UXN 0) is allowed. */
	JSON(sm(IMG_S1, "--sid", "3", "--ssid", "1", "--access", "x", "--addr", "0x123456789abc",
		"--json", NULL),
	     "\"result\":\"ok\",\"output\":\"0x87654abc\"");
	/* Without a SubstreamID, S1DSS 0b10 uses CD 0 (0x20000), which has HA: the
	 * AF = 0 page at L3 index 0x18b (0x33c58) is updated 0x87655343 -> 0x87655743
	 * and the read goes on: 0x87655000 + 0x010. */
	TEXT(sm(IMG_S1, "--sid", "3", "--addr", "0x12345678b010", NULL),
	     "smmu-translate sid 0x3 addr 0x12345678b010 read\n",
	     "  5 read  cd[0]          0x0000000000020000 = 0x00006a05c0000010  V T0SZ 16 TG0 4K "
	     "EPD1 IPS 5 AA64 HA R A ASID 0\n",
	     " 12 read  s1 L3          0x0000000000033c58 = 0x0000000087655343",
	     " 13 write s1 L3          0x0000000000033c58 : 0x0000000087655343 -> "
	     "0x0000000087655743",
	     "result: ok output 0x87655010 page_size 0x1000 page_base 0x12345678b000 perm rwx "
	     "refs 12 updates 1\n");
	/* The 2 MiB block at L2 index 0xb4 (0x325a0) is AP 00: a privileged write
	 * passes (3 table references), an unprivileged one is F_PERMISSION. */
	TEXT(sm(IMG_S1, "--sid", "3", "--ssid", "1", "--priv", "--access", "w",
		"--addr", "0x123456912345", NULL),
	     "smmu-translate sid 0x3 ssid 0x1 addr 0x123456912345 write priv\n",
	     " 11 read  s1 L2          0x00000000000325a0 = 0x0000000040000701  block=0x40000000",
	     "result: ok output 0x40112345 page_size 0x200000 page_base 0x123456800000 perm rwx "
	     "priv refs 11 updates 0\n");
	/* F_PERMISSION 0x13 at stage 1: dw0 = 0x13 | SSV 0x800 | SSID 1 << 12 (0x1000) |
	 * SID 3 << 32 = 0x0000000300001813; dw1 = CLASS IN (2 << 40 = 0x20000000000), RnW
	 * 0 (a write), PnU 0, S2 0; dw2 = InputAddr; dw3 = 0 (IPA only for S2 = 1). */
	TEXT(sm(IMG_S1, "--sid", "3", "--ssid", "1", "--access", "w", "--addr", "0x123456912345",
		NULL),
	     "result: fault event 0x13 (F_PERMISSION) recorded refs 11 updates 0\n",
	     "record: sid 0x3 ssv 1 ssid 0x1 stall 0 stag 0x0 pnu 0 ind 0 rnw 0 s2 0 class IN "
	     "input_addr 0x123456912345\n",
	     "record words: 0x0000000300001813 0x0000020000000000 0x0000123456912345 "
	     "0x0000000000000000\n");
	/* SID 6: Config 0b100, bypass: output = input, after the 4 STE words. */
	JSON(sm(IMG_S1, "--sid", "6", "--addr", "0xfedcba987", "--json", NULL),
	     "{\"result\":\"ok\",\"output\":\"0xfedcba987\",\"page_size\":4096,\"page_base\":"
	     "\"0xfedcba000\",\"perm\":\"rwx\",\"priv\":false,\"refs\":4,\"updates\":0");
	/* SID 5: V = 1, Config 0b000: aborted, no event (facts §2.3). */
	TEXT(sm(IMG_S1, "--sid", "5", "--addr", "0x1000", NULL),
	     "  1 read  ste[0]         0x0000000000010140 = 0x0000000000000001  V Config 0 (abort)",
	     "result: abort (no event) refs 4 updates 0\n");
	JSON(sm(IMG_S1, "--sid", "5", "--addr", "0x1000", "--json", NULL),
	     "{\"result\":\"abort\",\"refs\":4,\"updates\":0,\"steps\":[");
}

static void test_stage1_faults(void)
{
	/* VA 0x12345678a123: L3 index 0x18a, entry 0x33c50 is zero: F_TRANSLATION 0x10 at
	 * stage 1 (S2 0, CLASS IN, IPA UNKNOWN). dw0 = 0x10 | 0x800 | 0x1000 | 3 << 32 =
	 * 0x0000000300001810; dw1 = RnW (bit 35: 0x800000000) | CLASS IN 0x20000000000 =
	 * 0x20800000000; dw2 = 0x12345678a123. CD 1 has R: recorded. */
	TEXT(sm(IMG_S1, "--sid", "3", "--ssid", "1", "--addr", "0x12345678a123", NULL),
	     " 12 read  s1 L3          0x0000000000033c50 = 0x0000000000000000  invalid\n",
	     "result: fault event 0x10 (F_TRANSLATION) recorded refs 12 updates 0\n",
	     "record: sid 0x3 ssv 1 ssid 0x1 stall 0 stag 0x0 pnu 0 ind 0 rnw 1 s2 0 class IN "
	     "input_addr 0x12345678a123\n",
	     "record words: 0x0000000300001810 0x0000020800000000 0x000012345678a123 "
	     "0x0000000000000000\n");
	JSON(sm(IMG_S1, "--sid", "3", "--ssid", "1", "--addr", "0x12345678a123", "--json", NULL),
	     "{\"result\":\"fault\",\"event\":\"F_TRANSLATION\",\"id\":16,\"recorded\":true,"
	     "\"sid\":3,\"ssv\":true,\"ssid\":1,\"stall\":false,\"stag\":0,\"pnu\":false,"
	     "\"ind\":false,\"rnw\":true,\"s2\":false,\"class\":\"IN\",\"input_addr\":"
	     "\"0x12345678a123\",\"record\":[\"0x300001810\",\"0x20800000000\","
	     "\"0x12345678a123\",\"0x0\"],\"refs\":12,\"updates\":0,\"steps\":[");
	/* The same through CD 3 (R = 0, SSID 3): not recorded; the record would be dw0 =
	 * 0x10 | 0x800 | 3 << 12 (0x3000) | 3 << 32 = 0x0000000300003810. */
	JSON(sm(IMG_S1, "--sid", "3", "--ssid", "3", "--addr", "0x12345678a123", "--json", NULL),
	     "\"event\":\"F_TRANSLATION\",\"id\":16,\"recorded\":false",
	     "\"record\":[\"0x300003810\",\"0x20800000000\",\"0x12345678a123\",\"0x0\"]");
	/* A write through CD 1 to the AF = 0 page (HA = 0): F_ACCESS 0x12, RnW 0:
	 * dw0 = 0x12 | 0x800 | 0x1000 | 3 << 32 = 0x0000000300001812, dw1 = 0x20000000000. */
	JSON(sm(IMG_S1, "--sid", "3", "--ssid", "1", "--access", "w", "--addr", "0x12345678b010",
		"--json", NULL),
	     "\"event\":\"F_ACCESS\",\"id\":18,\"recorded\":true",
	     "\"rnw\":false,\"s2\":false,\"class\":\"IN\"",
	     "\"record\":[\"0x300001812\",\"0x20000000000\",\"0x12345678b010\",\"0x0\"]");
	/* CD 2 is zero: C_BAD_CD 0x0a after the 4 STE and 4 CD words: dw0 = 0x0a | 0x800 |
	 * 2 << 12 (0x2000) | 3 << 32 = 0x000000030000280a, nothing else. */
	TEXT(sm(IMG_S1, "--sid", "3", "--ssid", "2", "--addr", "0x1000", NULL),
	     "  5 read  cd[0]          0x0000000000020080 = 0x0000000000000000  - T0SZ 0",
	     "result: fault event 0x0a (C_BAD_CD) recorded refs 8 updates 0\n",
	     "record: sid 0x3 ssv 1 ssid 0x2\n",
	     "record words: 0x000000030000280a 0x0000000000000000 0x0000000000000000 "
	     "0x0000000000000000\n");
	/* SSID 4 >= 2^S1CDMax = 4: C_BAD_SUBSTREAMID 0x08 after the STE; its SubstreamID
	 * has no SSV qualifier (bit 11 RES0): dw0 = 0x08 | 4 << 12 (0x4000) | 3 << 32 =
	 * 0x0000000300004008. */
	JSON(sm(IMG_S1, "--sid", "3", "--ssid", "4", "--addr", "0x1000", "--json", NULL),
	     "{\"result\":\"fault\",\"event\":\"C_BAD_SUBSTREAMID\",\"id\":8,\"recorded\":true,"
	     "\"sid\":3,\"ssid\":4,\"record\":[\"0x300004008\",\"0x0\",\"0x0\",\"0x0\"],"
	     "\"refs\":4,");
	/* An explicit SSID 0 with S1DSS 0b10: F_STREAM_DISABLED 0x06, StreamID only:
	 * dw0 = 0x06 | 3 << 32 = 0x0000000300000006. */
	JSON(sm(IMG_S1, "--sid", "3", "--ssid", "0", "--addr", "0x1000", "--json", NULL),
	     "{\"result\":\"fault\",\"event\":\"F_STREAM_DISABLED\",\"id\":6,\"recorded\":true,"
	     "\"sid\":3,\"record\":[\"0x300000006\",\"0x0\",\"0x0\",\"0x0\"]");
	/* SID 4: the zero STE at 0x10100 (V = 0): C_BAD_STE 0x04 after its 4 words:
	 * dw0 = 0x04 | 4 << 32 = 0x0000000400000004. */
	TEXT(sm(IMG_S1, "--sid", "4", "--addr", "0x1000", NULL),
	     "  1 read  ste[0]         0x0000000000010100 = 0x0000000000000000  - Config 0",
	     "result: fault event 0x04 (C_BAD_STE) recorded refs 4 updates 0\n",
	     "record: sid 0x4 ssv 0 ssid 0x0\n",
	     "record words: 0x0000000400000004 0x0000000000000000 0x0000000000000000 "
	     "0x0000000000000000\n");
	JSON(sm(IMG_S1, "--sid", "4", "--addr", "0x1000", "--json", NULL),
	     "{\"result\":\"fault\",\"event\":\"C_BAD_STE\",\"id\":4,\"recorded\":true,\"sid\":4,"
	     "\"ssv\":false,\"ssid\":0,\"record\":[\"0x400000004\",\"0x0\",\"0x0\",\"0x0\"],"
	     "\"refs\":4,");
	/* SID 64 >= 2^LOG2SIZE = 64: C_BAD_STREAMID 0x02 before any read (recorded:
	 * CR2.RECINVSID is set). dw0 = 0x02 | 64 << 32 = 0x0000004000000002; with SSID 1:
	 * | SSV 0x800 | 1 << 12 = 0x0000004000001802. */
	JSON(sm(IMG_S1, "--sid", "64", "--addr", "0x1000", "--json", NULL),
	     "{\"result\":\"fault\",\"event\":\"C_BAD_STREAMID\",\"id\":2,\"recorded\":true,"
	     "\"sid\":64,\"ssv\":false,\"ssid\":0,\"record\":[\"0x4000000002\",\"0x0\",\"0x0\","
	     "\"0x0\"],\"refs\":0,\"updates\":0,\"steps\":[]}");
	TEXT(sm(IMG_S1, "--sid", "64", "--ssid", "1", "--addr", "0x1000", NULL),
	     "result: fault event 0x02 (C_BAD_STREAMID) recorded refs 0 updates 0\n",
	     "record words: 0x0000004000001802 0x0000000000000000");
}

static void test_ats(void)
{
	/* Translated traffic (CR0.ATSCHK = 1) to SID 3 (EATS 0): F_TRANSL_FORBIDDEN 0x07,
	 * StreamID, RnW and InputAddr: dw0 = 0x07 | 3 << 32 = 0x0000000300000007, dw1 =
	 * RnW 0x800000000. */
	TEXT(sm(IMG_S1, "--sid", "3", "--addr", "0x1234", "--at", "translated", NULL),
	     "smmu-translate sid 0x3 addr 0x1234 read at translated\n",
	     "result: fault event 0x07 (F_TRANSL_FORBIDDEN) recorded refs 4 updates 0\n",
	     "record: sid 0x3 rnw 1 input_addr 0x1234\n",
	     "record words: 0x0000000300000007 0x0000000800000000 0x0000000000001234 "
	     "0x0000000000000000\n");
	/* SID 2 of smmu-s2.img has EATS 0b01: Translated traffic passes untranslated. */
	JSON(sm(IMG_S2, "--sid", "2", "--addr", "0x7654321abc", "--at", "translated", "--json",
		NULL),
	     "{\"result\":\"ok\",\"output\":\"0x7654321abc\",\"page_size\":4096",
	     "\"refs\":4,");
	/* An ATS Translation Request to SID 3 (EATS 0): F_BAD_ATS_TREQ 0x05, UR. Facts
	 * §5.2: dw1 R (bit 31, always 1) | W 0 (a read) | X 0 | Priv 0 | Span 1 (3:0, one
	 * STU) = 0x80000001; dw2 = InputAddr[63:12] = 0x7654321000. */
	JSON(sm(IMG_S2, "--sid", "3", "--addr", "0x7654321abc", "--at", "request", "--json", NULL),
	     "{\"result\":\"unsupported-request\",\"event\":\"F_BAD_ATS_TREQ\",\"id\":5,"
	     "\"recorded\":true,\"sid\":3",
	     "\"record\":[\"0x300000005\",\"0x80000001\",\"0x7654321000\",\"0x0\"]");
	/* A Translation Request that SID 2 allows: the translation, as for a DMA. */
	JSON(sm(IMG_S2, "--sid", "2", "--addr", "0x7654321abc", "--at", "request", "--json", NULL),
	     "{\"result\":\"ok\",\"output\":\"0x9abcdabc\",\"page_size\":4096");
	/* One that faults: a completion without access, no event recorded (facts §5.3:
	 * ATS requests never record translation faults). */
	JSON(sm(IMG_S2, "--sid", "2", "--addr", "0x7654323000", "--at", "request", "--json", NULL),
	     "{\"result\":\"no-access\",\"event\":\"F_TRANSLATION\",\"id\":16,\"recorded\":false");
}

static void test_stage2(void)
{
	/* SID 2: STE at 0x4000 + 2 * 64 = 0x4080, then level 1-3 of stage 2: 7 refs. */
	TEXT(sm(IMG_S2, "--sid", "2", "--addr", "0x7654321abc", NULL),
	     "smmu-translate sid 0x2 addr 0x7654321abc read\n",
	     "  1 read  ste[0]         0x0000000000004080 = 0x000000000000000d  V Config 6 "
	     "(stage-2)",
	     "  2 read  ste[1]         0x0000000000004088 = 0x0000000010000000  S1DSS 0 EATS 1 "
	     "STRW 0\n",
	     "  3 read  ste[2]         0x0000000000004090 = 0x040d005900000005  S2VMID 5 S2T0SZ 25 "
	     "S2SL0 1 S2TG 0 (4K) S2PS 5 S2AA64 S2R\n",
	     "  4 read  ste[3]         0x0000000000004098 = 0x0000000000040000  S2TTB 0x40000\n",
	     "  5 read  s2 L1          0x0000000000040ec8 = 0x0000000000041003  table=0x41000\n",
	     "  6 read  s2 L2          0x0000000000041508 = 0x0000000000042003",
	     "  7 read  s2 L3          0x0000000000042908 = 0x000000009abcd7ff  page=0x9abcd000",
	     "result: ok output 0x9abcdabc page_size 0x1000 page_base 0x7654321000 perm rwx "
	     "refs 7 updates 0\n");
	/* The S2AP 01 page: a read is r-x, a write F_PERMISSION at stage 2: S2 1, CLASS IN,
	 * IPA = the input. dw0 = 0x13 | 2 << 32 = 0x0000000200000013; dw1 = S2 (bit 39:
	 * 0x8000000000) | CLASS IN 0x20000000000 = 0x28000000000; dw3 = IPA[51:12] =
	 * 0x7654322000. */
	JSON(sm(IMG_S2, "--sid", "2", "--addr", "0x7654322010", "--json", NULL),
	     "\"output\":\"0x9abce010\",\"page_size\":4096,\"page_base\":\"0x7654322000\","
	     "\"perm\":\"r-x\"");
	TEXT(sm(IMG_S2, "--sid", "2", "--access", "w", "--addr", "0x7654322010", NULL),
	     "smmu-translate sid 0x2 addr 0x7654322010 write\n",
	     "result: fault event 0x13 (F_PERMISSION) recorded refs 7 updates 0\n",
	     "record: sid 0x2 ssv 0 ssid 0x0 stall 0 stag 0x0 pnu 0 ind 0 rnw 0 s2 1 class IN "
	     "input_addr 0x7654322010 ipa 0x7654322010\n",
	     "record words: 0x0000000200000013 0x0000028000000000 0x0000007654322010 "
	     "0x0000007654322000\n");
	/* The zero L3 entry 0x42918: F_TRANSLATION at stage 2, RnW 1: dw1 = 0x800000000 |
	 * 0x8000000000 | 0x20000000000 = 0x28800000000. */
	JSON(sm(IMG_S2, "--sid", "2", "--addr", "0x7654323000", "--json", NULL),
	     "\"event\":\"F_TRANSLATION\",\"id\":16,\"recorded\":true,\"sid\":2,\"ssv\":false,"
	     "\"ssid\":0,\"stall\":false,\"stag\":0,\"pnu\":false,\"ind\":false,\"rnw\":true,"
	     "\"s2\":true,\"class\":\"IN\",\"input_addr\":\"0x7654323000\",\"ipa\":"
	     "\"0x7654323000\",\"record\":[\"0x200000010\",\"0x28800000000\",\"0x7654323000\","
	     "\"0x7654323000\"],\"refs\":7,");
	/* IPA 2^39 is beyond T0SZ 25: stage-2 F_TRANSLATION before any table read
	 * (arm-lpae.md §1: IPA out of range is a stage-2 Translation fault). */
	JSON(sm(IMG_S2, "--sid", "2", "--addr", "0x8000000000", "--json", NULL),
	     "\"event\":\"F_TRANSLATION\"", "\"s2\":true,\"class\":\"IN\"",
	     "\"record\":[\"0x200000010\",\"0x28800000000\",\"0x8000000000\",\"0x8000000000\"],"
	     "\"refs\":4,");
	/* SID 3 has no S2R: the same fault is not recorded. */
	JSON(sm(IMG_S2, "--sid", "3", "--addr", "0x7654323000", "--json", NULL),
	     "\"event\":\"F_TRANSLATION\",\"id\":16,\"recorded\":false,\"sid\":3");
	/* The 2 MiB XN block at L2 index 0xa2 (0x41510): rw-, 6 references. */
	TEXT(sm(IMG_S2, "--sid", "2", "--addr", "0x7654512345", NULL),
	     "  6 read  s2 L2          0x0000000000041510 = 0x00400000800007fd  block=0x80000000",
	     "result: ok output 0x80112345 page_size 0x200000 page_base 0x7654400000 perm rw- "
	     "refs 6 updates 0\n");
	/* A SubstreamID where stage 1 is off: C_BAD_SUBSTREAMID (facts §2.3): dw0 = 0x08 |
	 * 1 << 12 | 2 << 32 = 0x0000000200001008. */
	JSON(sm(IMG_S2, "--sid", "2", "--ssid", "1", "--addr", "0x7654321abc", "--json", NULL),
	     "\"event\":\"C_BAD_SUBSTREAMID\",\"id\":8,\"recorded\":true,\"sid\":2,\"ssid\":1,"
	     "\"record\":[\"0x200001008\",\"0x0\",\"0x0\",\"0x0\"]");
}

static void test_nested(void)
{
	/* SID 1, SSID 1: the STE (0x1040), then CD 1 at IPA 0x8040, which stage 2
	 * translates once for the whole CD (L1 0x50000, L2 0x51000, L3 0x52040 -> PA
	 * 0x68000), its four words, then the nested walk: 4 + 3 + 4 + 15 = 26
	 * references. */
	TEXT(sm(IMG_NESTED, "--sid", "1", "--ssid", "1", "--addr", "0x7654321abc", NULL),
	     "  1 read  ste[0]         0x0000000000001040 = 0x080000000000800f  V Config 7 "
	     "(nested) S1Fmt 0 S1CDMax 1 S1ContextPtr 0x8000\n",
	     "  5 read  s2 L1          0x0000000000050000 = 0x0000000000051003  table=0x51000  "
	     "(CD fetch)\n",
	     "  7 read  s2 L3          0x0000000000052040 = 0x00000000000687ff  page=0x68000",
	     "  8 read  cd[0]          0x0000000000068040 = 0x00216205c0000019  V T0SZ 25 TG0 4K "
	     "EPD1 IPS 5 AA64 R A ASID 33\n",
	     "  9 read  cd[1]          0x0000000000068048 = 0x0000000000010000  TTB0 0x10000\n",
	     " 11 read  cd[3]          0x0000000000068058 = 0x0000000000000000",
	     /* The stage-1 root (IPA 0x10000) through stage 2: L3 entry 0x10 at 0x52080. */
	     " 14 read  s2 L3          0x0000000000052080 = 0x00000000000707ff  page=0x70000",
	     " 15 read  s1 L1          @0x10ec8 -> 0x0000000000070ec8 = 0x0000000000011003",
	     " 18 read  s2 L3          0x0000000000052088 = 0x00000000000717ff",
	     " 19 read  s1 L2          @0x11508 -> 0x0000000000071508 = 0x0000000000012003",
	     " 22 read  s2 L3          0x0000000000052090 = 0x00000000000727ff",
	     " 23 read  s1 L3          @0x12908 -> 0x0000000000072908 = 0x0000000000030743",
	     /* The output IPA 0x30abc: L3 entry 0x30 at 0x52180 -> PA 0x80000. */
	     " 26 read  s2 L3          0x0000000000052180 = 0x00000000000807ff  page=0x80000",
	     "result: ok output 0x80abc page_size 0x1000 page_base 0x7654321000 perm rwx "
	     "refs 26 updates 0\n");
	JSON(sm(IMG_NESTED, "--sid", "1", "--ssid", "1", "--addr", "0x7654321abc", "--json", NULL),
	     "{\"result\":\"ok\",\"output\":\"0x80abc\",\"page_size\":4096",
	     "\"refs\":26,\"updates\":0",
	     "{\"op\":\"read\",\"stage\":2,\"level\":3,\"name\":\"L3\",\"ia\":\"0x8040\","
	     "\"ea\":\"0x52040\",\"pa\":\"0x52040\",\"value\":\"0x687ff\",\"s1_fetch\":false,"
	     "\"cd_fetch\":true",
	     "\"ea\":\"0x12908\",\"pa\":\"0x72908\",\"value\":\"0x30743\"");
	/* Without a SubstreamID: CD 0 at IPA 0x8000 (PA 0x68000). */
	TEXT(sm(IMG_NESTED, "--sid", "1", "--addr", "0x7654321abc", NULL),
	     "  8 read  cd[0]          0x0000000000068000 = 0x00206205c0000019",
	     "result: ok output 0x80abc page_size 0x1000");
	/* SSID 2 >= 2^S1CDMax = 2: C_BAD_SUBSTREAMID: dw0 = 0x08 | 2 << 12 | 1 << 32 =
	 * 0x0000000100002008. */
	JSON(sm(IMG_NESTED, "--sid", "1", "--ssid", "2", "--addr", "0x1000", "--json", NULL),
	     "\"event\":\"C_BAD_SUBSTREAMID\",\"id\":8,\"recorded\":true,\"sid\":1,\"ssid\":2,"
	     "\"record\":[\"0x100002008\",\"0x0\",\"0x0\",\"0x0\"],\"refs\":4,");
	/* SID 2: its CD at IPA 0x9040; stage-2 L3 entry 9 (0x52048) is zero: a stage-2
	 * F_TRANSLATION during the CD fetch: S2 1, CLASS CD (0), IPA = the CD address,
	 * recorded (S2R). dw0 = 0x10 | 2 << 32 = 0x0000000200000010; dw1 = RnW 0x800000000
	 * | S2 0x8000000000 | CLASS 0 = 0x8800000000; dw3 = IPA[51:12] = 0x9000. */
	TEXT(sm(IMG_NESTED, "--sid", "2", "--addr", "0x1234", NULL),
	     "  7 read  s2 L3          0x0000000000052048 = 0x0000000000000000  invalid  "
	     "(CD fetch)\n",
	     "result: fault event 0x10 (F_TRANSLATION) recorded refs 7 updates 0\n",
	     "record: sid 0x2 ssv 0 ssid 0x0 stall 0 stag 0x0 pnu 0 ind 0 rnw 1 s2 1 class CD "
	     "input_addr 0x1234 ipa 0x9040\n",
	     "record words: 0x0000000200000010 0x0000008800000000 0x0000000000001234 "
	     "0x0000000000009000\n");
	JSON(sm(IMG_NESTED, "--sid", "2", "--addr", "0x1234", "--json", NULL),
	     "\"event\":\"F_TRANSLATION\",\"id\":16,\"recorded\":true,\"sid\":2",
	     "\"s2\":true,\"class\":\"CD\",\"input_addr\":\"0x1234\",\"ipa\":\"0x9040\","
	     "\"record\":[\"0x200000010\",\"0x8800000000\",\"0x1234\",\"0x9000\"]");
	/* VA 0x7654401abc: stage-1 L2 index 0xa2 (IPA 0x11510) -> table IPA 0x13000, which
	 * stage 2 maps with S2AP 00: reading the L3 entry at IPA 0x13000 + 1 * 8 = 0x13008
	 * is a stage-2 F_PERMISSION on a stage-1 table read: S2 1, CLASS TT, TTRnW 1,
	 * IPA 0x13008. dw0 = 0x13 | 0x800 | 1 << 12 | 1 << 32 = 0x0000000100001813; dw1 =
	 * RnW 0x800000000 | S2 0x8000000000 | CLASS TT (1 << 40 = 0x10000000000) | TTRnW
	 * (bit 44: 0x100000000000) = 0x118800000000; dw3 = 0x13000. References: 4 + 7 +
	 * (3 + 1) * 2 + 3 = 22. */
	TEXT(sm(IMG_NESTED, "--sid", "1", "--ssid", "1", "--addr", "0x7654401abc", NULL),
	     " 19 read  s1 L2          @0x11510 -> 0x0000000000071510 = 0x0000000000013003",
	     " 22 read  s2 L3          0x0000000000052098 = 0x000000000007373f",
	     "(stage-1 table)\nresult: fault event 0x13 (F_PERMISSION) recorded refs 22 "
	     "updates 0\n",
	     "record: sid 0x1 ssv 1 ssid 0x1 stall 0 stag 0x0 pnu 0 ind 0 rnw 1 s2 1 class TT "
	     "ttrnw 1 input_addr 0x7654401abc ipa 0x13008\n",
	     "record words: 0x0000000100001813 0x0000118800000000 0x0000007654401abc "
	     "0x0000000000013000\n");
}

static void test_two_level(void)
{
	/* SID 0x305: L1STD 3 at 0x1018 (Span 9, L2Ptr 0x20000), STE 5 at 0x20140; SSID
	 * 0x45: L1CD 1 at 0x40008 (V, 0x41000), CD 5 at 0x41140; 64K tables L2 and L3.
	 * 1 + 4 + 1 + 4 + 2 = 12 references. */
	TEXT(sm(IMG_2LVL, "--sid", "0x305", "--ssid", "0x45", "--addr", "0x123456789ab", NULL),
	     "smmu-translate sid 0x305 ssid 0x45 addr 0x123456789ab read\n",
	     "  1 read  l1-std         0x0000000000001018 = 0x0000000000020009  Span 9 L2Ptr "
	     "0x20000\n",
	     "  2 read  ste[0]         0x0000000000020140 = 0x400000000004001b  V Config 5 "
	     "(stage-1) S1Fmt 1 S1CDMax 8 S1ContextPtr 0x40000\n",
	     "  6 read  l1-cd          0x0000000000040008 = 0x0000000000041001  V L2Ptr 0x41000\n",
	     "  7 read  cd[0]          0x0000000000041140 = 0x00456205c0000056  V T0SZ 22 TG0 64K",
	     " 11 read  s1 L2          0x00000000000548d0 = 0x0000000000060003  table=0x60000\n",
	     " 12 read  s1 L3          0x0000000000062b38 = 0x00000000abcd0743  page=0xabcd0000",
	     "result: ok output 0xabcd89ab page_size 0x10000 page_base 0x12345670000 perm rwx "
	     "refs 12 updates 0\n");
	/* SID 0x401: L1STD 4 at 0x1020 (Span 2, L2Ptr 0x30000), STE 1 at 0x30040: bypass. */
	JSON(sm(IMG_2LVL, "--sid", "0x401", "--addr", "0x5000", "--json", NULL),
	     "{\"result\":\"ok\",\"output\":\"0x5000\"",
	     "{\"op\":\"read\",\"name\":\"l1-std\",\"pa\":\"0x1020\",\"value\":\"0x30002\","
	     "\"bits\":\"Span 2 L2Ptr 0x30000\"}",
	     "{\"op\":\"read\",\"name\":\"ste[0]\",\"pa\":\"0x30040\",\"value\":\"0x9\"");
	/* SID 0x402: SID[7:0] = 2 >= 2^(Span - 1) = 2: C_BAD_STREAMID after the L1STD:
	 * dw0 = 0x02 | 0x402 << 32 = 0x0000040200000002. SID 0x500: L1STD 5 (0x1028) has
	 * Span 0: the same. */
	JSON(sm(IMG_2LVL, "--sid", "0x402", "--addr", "0x5000", "--json", NULL),
	     "\"event\":\"C_BAD_STREAMID\",\"id\":2,\"recorded\":true,\"sid\":1026",
	     "\"record\":[\"0x40200000002\",\"0x0\",\"0x0\",\"0x0\"],\"refs\":1,");
	JSON(sm(IMG_2LVL, "--sid", "0x500", "--addr", "0x5000", "--json", NULL),
	     "\"event\":\"C_BAD_STREAMID\"", "\"record\":[\"0x50000000002\"", "\"refs\":1,",
	     "\"pa\":\"0x1028\",\"value\":\"0x0\"");
	/* SID 0x306: STE 6 at 0x20180 is zero: C_BAD_STE, dw0 = 0x04 | 0x306 << 32. */
	JSON(sm(IMG_2LVL, "--sid", "0x306", "--addr", "0x5000", "--json", NULL),
	     "\"event\":\"C_BAD_STE\",\"id\":4", "\"record\":[\"0x30600000004\"", "\"refs\":5,");
	/* No SubstreamID with S1CDMax 8 and S1DSS 0b00: F_STREAM_DISABLED. */
	JSON(sm(IMG_2LVL, "--sid", "0x305", "--addr", "0x5000", "--json", NULL),
	     "\"event\":\"F_STREAM_DISABLED\",\"id\":6,\"recorded\":true,\"sid\":773,"
	     "\"record\":[\"0x30500000006\"");
	/* SSID 0x85: L1CD 2 at 0x40010 is zero (V = 0): C_BAD_SUBSTREAMID after it: dw0 =
	 * 0x08 | 0x85 << 12 (0x85000) | 0x305 << 32 = 0x0000030500085008. SSID 0x100 >=
	 * 2^8: the same before any CD read, dw0 = 0x08 | 0x100000 | 0x305 << 32. */
	JSON(sm(IMG_2LVL, "--sid", "0x305", "--ssid", "0x85", "--addr", "0x5000", "--json", NULL),
	     "\"event\":\"C_BAD_SUBSTREAMID\",\"id\":8,\"recorded\":true,\"sid\":773,\"ssid\":133,"
	     "\"record\":[\"0x30500085008\",\"0x0\",\"0x0\",\"0x0\"],\"refs\":6,",
	     "{\"op\":\"read\",\"name\":\"l1-cd\",\"pa\":\"0x40010\",\"value\":\"0x0\"");
	JSON(sm(IMG_2LVL, "--sid", "0x305", "--ssid", "0x100", "--addr", "0x5000", "--json", NULL),
	     "\"event\":\"C_BAD_SUBSTREAMID\"", "\"record\":[\"0x30500100008\"", "\"refs\":5,");
}

static void test_errors(void)
{
	const char *img = image("smmu-s1.img");
	char bad[] = "/tmp/vsva-smmu-XXXXXX";
	FILE *f;
	int fd;

#define BASE "--image", img, "--strtab", "0x10000", "--strtab-cfg", "0x6"
	ERROR(sm(BASE, "--addr", "0", NULL), "are required");
	ERROR(sm("--image", img, "--strtab", "0x10000", "--sid", "3", "--addr", "0", NULL),
	      "are required");
	ERROR(sm(BASE, "--sid", "3", NULL), "are required");
	ERROR(sm(BASE, "--sid", "x3", "--addr", "0", NULL), "is not a 16-bit StreamID");
	ERROR(sm(BASE, "--sid", "0x10000", "--addr", "0", NULL), "is not a 16-bit StreamID");
	ERROR(sm(BASE, "--sid", "-1", "--addr", "0", NULL), "is not a 16-bit StreamID");
	ERROR(sm(BASE, "--sid", "3", "--ssid", "0x100000", "--addr", "0", NULL),
	      "is not a 20-bit number");
	ERROR(sm(BASE, "--sid", "3", "--ssid", "one", "--addr", "0", NULL),
	      "is not a 20-bit number");
	ERROR(sm(BASE, "--sid", "3", "--addr", "0x1g", NULL), "--addr '0x1g' is not a number");
	ERROR(sm(BASE, "--sid", "3", "--addr", "-1", NULL), "is not a number");
	ERROR(sm(BASE, "--sid", "3", "--addr", "0", "--priv", NULL), "need --ssid");
	ERROR(sm(BASE, "--sid", "3", "--addr", "0", "--access", "x", NULL), "need --ssid");
	ERROR(sm(BASE, "--sid", "3", "--addr", "0", "--access", "rw", NULL), "must be r, w or x");
	ERROR(sm(BASE, "--sid", "3", "--addr", "0", "--at", "ats", NULL),
	      "--at must be untranslated, request or translated");
	ERROR(sm(BASE, "--sid", "3", "--addr", "0", "--nope", NULL),
	      "unknown or incomplete option");
	ERROR(sm(BASE, "--sid", "3", "--addr", "0", "--at", NULL), "unknown or incomplete option");
	ERROR(sm(BASE, "--sid", "3", "--addr", "0", "extra", NULL), "unexpected argument");
#undef BASE
	/* --strtab: a number, within OAS 48, aligned to the table's size: linear LOG2SIZE
	 * 6: 2^(6 + 6) = 0x1000; two-level LOG2SIZE 16, SPLIT 8: 2^(16 - 8 + 3) = 0x800. */
	ERROR(sm("--image", img, "--strtab", "x", "--strtab-cfg", "0x6", "--sid", "3", "--addr",
		 "0", NULL), "--strtab 'x' is not a number");
	ERROR(sm("--image", img, "--strtab", "0x10040", "--strtab-cfg", "0x6", "--sid", "3",
		 "--addr", "0", NULL), "is not aligned to the stream table's size (0x1000 bytes");
	ERROR(sm("--image", img, "--strtab", "0x10004", "--strtab-cfg", "0x6", "--sid", "3",
		 "--addr", "0", NULL), "is not aligned");
	ERROR(sm("--image", img, "--strtab", "0x1400", "--strtab-cfg", "0x10210", "--sid", "3",
		 "--addr", "0", NULL),
	      "is not aligned to the level-1 stream table's size (0x800 bytes");
	ERROR(sm("--image", img, "--strtab", "0x1000000000000", "--strtab-cfg", "0x6", "--sid",
		 "3", "--addr", "0", NULL), "beyond the SMMU's 48-bit physical addresses");
	/* --strtab-cfg: 32 bits, no RES0 bit (31:18, 15:11), FMT 0 or 1, SPLIT 6/8/10. */
	ERROR(sm("--image", img, "--strtab", "0x10000", "--strtab-cfg", "six", "--sid", "3",
		 "--addr", "0", NULL), "is not a 32-bit number");
	ERROR(sm("--image", img, "--strtab", "0x10000", "--strtab-cfg", "0x100000006", "--sid",
		 "3", "--addr", "0", NULL), "is not a 32-bit number");
	ERROR(sm("--image", img, "--strtab", "0x10000", "--strtab-cfg", "0x40006", "--sid", "3",
		 "--addr", "0", NULL), "sets RES0 bits");
	ERROR(sm("--image", img, "--strtab", "0x10000", "--strtab-cfg", "0x806", "--sid", "3",
		 "--addr", "0", NULL), "sets RES0 bits");
	ERROR(sm("--image", img, "--strtab", "0x10000", "--strtab-cfg", "0x30006", "--sid", "3",
		 "--addr", "0", NULL), "FMT 3 is reserved");
	ERROR(sm("--image", img, "--strtab", "0x10000", "--strtab-cfg", "0x10250", "--sid", "3",
		 "--addr", "0", NULL), "SPLIT 9 is reserved");
	ERROR(sm("--image", "/nonexistent/x.img", "--strtab", "0x10000", "--strtab-cfg", "0x6",
		 "--sid", "3", "--addr", "0", NULL), "cannot open image");
	/* A malformed image: the message names the line. */
	fd = mkstemp(bad);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f) {
		fprintf(f, "# fine\n0x10000: 0x9\n0x10008 0x1\n");
		fclose(f);
		ERROR(sm("--image", bad, "--strtab", "0x10000", "--strtab-cfg", "0x6", "--sid", "0",
			 "--addr", "0", NULL), ":3: expected 'PA: VALUE...'");
		remove(bad);
	} else {
		CHECK(!"mkstemp");
	}
	/* --help: usage on stdout, exit 0. */
	{
		struct run r = sm("--help", NULL);

		CHECK(r.status == 0 && strstr(r.out, "usage: vsva smmu-translate"));
		run_free(&r);
	}
}

int main(void)
{
	cli_data_dir = getenv("VSVA_TEST_DATA");
	if (!cli_data_dir) {
		fprintf(stderr, "VSVA_TEST_DATA is not set (run through ctest)\n");
		return 77;
	}
	test_stage1();
	test_stage1_faults();
	test_ats();
	test_stage2();
	test_nested();
	test_two_level();
	test_errors();
	return check_exit();
}
