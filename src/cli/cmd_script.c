/* cli/cmd_script.c — `vsva script FILE [--quiet]`: drives the models from a text
 * scenario as a user (a driver writer, a test author) would: memory, the VT-d
 * unit's or the SMMUv3's registers, endpoints and their DMA, the invalidation,
 * command, event, page request and PRI queues. `expect` lines make a scenario a
 * test.
 *
 * Owns: the script language (below), its interpreter and its messages. The
 * interpreter is a thin driver: every command is one or a few calls of the
 * models' public APIs (mem.h, vtd.h, smmuv3.h, dev.h, pgtable.h), in the order
 * software makes them; it keeps no model state of its own beyond which endpoint
 * is which and what the last command printed.
 *
 * ---- the language -----------------------------------------------------------------------
 * One command per line; '#' starts a comment; words are separated by blanks.
 * Numbers are decimal or hex with 0x; BDF is bus:device.function in hex
 * (00:02.0). Options are key=value words or bare flag words, in any order after
 * the command's fixed words. Each command prints one line,
 *     LINE: COMMAND -> key value key value ...   # note
 * whose key/value pairs are what `expect KEY VALUE` checks (a value may be
 * several words: `data`, last on its line, is).
 *
 * A script drives one model, made by `vtd new` or `smmu new`; the commands of the
 * other model are errors that say so. Shared by both:
 *   mem add BASE SIZE [r|w|rw]          anonymous zeroed host memory (default rw)
 *   mem write64 ADDR VALUE...           consecutive little-endian 64-bit words
 *   mem write32 ADDR VALUE              one 32-bit word
 *   mem read64 ADDR | mem read32 ADDR   -> value
 *   mem fill ADDR LEN BYTE
 *   image FILE                          a table image as `vsva walk --image` reads it
 *                                       (relative to the script): each named page is
 *                                       written whole, added as memory if absent
 *   pool BASE SIZE                      a frame pool for table building (pgtable/)
 *   pgt root FMT                        -> root: a zeroed root table from the pool
 *   pgt map FMT ROOT IA OA SIZE PROT [page=SIZE]   pgt_map; PROT letters r w x u
 *   pgt unmap FMT ROOT IA SIZE          FMT as `vsva walk --format` spells it
 *   reg read32|read64 REG               -> value (decoded in the note)
 *   reg write32|write64 REG VALUE       REG: a register name of the model, or an offset
 *   ep new BDF [pasid=BITS] [ats] [atc=N] [atc_ways=N] [pri] [prgs=N] [exec] [priv]
 *                                       an endpoint with those capabilities, attached
 *                                       (on the SMMU its RID is its StreamID)
 *   ep enable|disable BDF pasid|ats|pri...   the config-space enables
 *   dma read|write BDF IOVA LEN [pasid=N] [priv] [exec] [pri] [pattern=BYTE]
 *       [word=W] [timeout=MS] [async]   dev_dma(); async runs it on its own thread
 *                                       (needed when software must answer a page
 *                                       request meanwhile) until `wait dma BDF`
 *   translate BDF ADDR [pasid=N] [r|w|x] [priv] [at=untranslated|request|translated]
 *                                       one request straight to vtd_translate() or
 *                                       smmu_translate() (pasid= is the SubstreamID)
 *   wait mem32 ADDR VALUE               until a status word (wait descriptor,
 *                                       CMD_SYNC MSI) is VALUE
 *   wait dma BDF                        the async DMA's end and result
 *   (waits take timeout=MS, default 5000; a wait that times out fails the script)
 *   stats [BDF]                         nonzero counters of the model or an endpoint
 *   expect reg32|reg64 REG VALUE [mask=M]    the register now
 *   expect mem32|mem64 ADDR VALUE [mask=M]   memory now
 *   expect stat NAME VALUE              a counter of the model (names below)
 *   expect ep-stat BDF NAME VALUE       dev_ep_get_stats: page_requests, atc_hits ...
 *   expect stale N                      coherence-checker reports so far
 *   expect events KIND N                interrupts the model sent so far (waits up to
 *                                       5 s while fewer have arrived: the models send
 *                                       them after their lock is free)
 *   expect fault REASON                 the last result's reason
 *   expect KEY VALUE... | KEY VALUE mask=M   field KEY of the last command's result
 *
 * VT-d:
 *   vtd new [NAME=VALUE ...]            the unit; NAME a struct vtd_config field
 *                                       (haw, nfr, iotlb_entries, checker=on, ...);
 *                                       defaults are vtd_config_default()'s
 *   REG                                 a vtd_regs.h name without VTD_ (GSTS, IQT,
 *                                       ...), FRCDn / FRCDn.HI, or an offset
 *   gcmd set|clear BIT                  the documented GCMD procedure: GSTS &
 *                                       0x96ffffff, the bit set or cleared, written
 *                                       to GCMD, GSTS polled -> gsts, done yes|no
 *   qi submit QW0 QW1 [QW2 QW3]         a descriptor written at IQT, IQT advanced
 *   qi cc global|domain|device [did=] [sid=] [fm=]          type 0x1
 *   qi iotlb global|domain|page [did=] [addr=] [am=] [ih] [dw] [dr]   0x2
 *   qi dev-tlb sid= addr= [s] [pfsid=] [mip=]               0x3
 *   qi wait [status=ADDR data=N] [if] [fn] [pd]             0x5
 *   qi pasid-iotlb pasid|page did= pasid= [addr=] [am=] [ih]   0x6
 *   qi pasid-cache domain|pasid|global [did=] [pasid=]         0x7
 *   qi pasid-dev-tlb sid= pasid= addr= [s] [g] [pfsid=] [mip=] 0x8
 *   qi page-response rid= prgi= [pasid=] [rc=success|invalid|failure|N] [lpig]  0x9
 *   wait qi                             until IQH == IQT, or IQE/ITE stopped the queue
 *   wait prq                            until a page request is at PQH; decodes it
 *   stat NAME                           vtd_get_stats: iotlb.hits, walks, walk_refs,
 *                                       faults.0x79, descriptors.0x6, stale_hits ...
 *   events KIND                         fault, inv-wait, page-request
 *
 * SMMUv3 (docs/facts/smmuv3-structures.md; § numbers are its sections):
 *   smmu new [NAME=VALUE ...]           NAME a struct smmu_config field (oas,
 *                                       sidsize, ats, pri, tlb_entries, checker=on,
 *                                       ...); defaults are smmu_config_default()'s
 *   REG                                 a smmuv3_regs.h name without SMMU_ (CR0,
 *                                       CR0ACK, GERROR, STRTAB_BASE, CMDQ_PROD, the
 *                                       page-1 EVENTQ_PROD/CONS and PRIQ_PROD/CONS,
 *                                       IDR0..5 ...), or an offset below 0x20000
 *   cr0 set|clear SMMUEN|PRIQEN|EVENTQEN|CMDQEN|ATSCHK   the update protocol (§1.6):
 *                                       CR0 read, the field set or cleared, written,
 *                                       CR0ACK polled -> cr0 cr0ack done yes|no
 *   cmd submit DW0 DW1                  a 16-byte command written at CMDQ_PROD's
 *                                       index, PROD advanced (wrap flag included)
 *   cmd NAME [OPTION=VALUE] [FLAG]      the words built from fields (§4.2); sid= is
 *                                       a number or a BDF:
 *     prefetch-config sid= [ssid=]                       0x01
 *     cfgi-ste sid= [leaf]                               0x03
 *     cfgi-ste-range sid= range=  | cfgi-all (Range 31)  0x04
 *     cfgi-cd sid= ssid= [leaf]   | cfgi-cd-all sid=     0x05, 0x06
 *     tlbi-nh-all vmid=           | tlbi-nh-asid vmid= asid=   0x10, 0x11
 *     tlbi-nh-va vmid= asid= addr= [leaf] [num= scale= tg= ttl=]   0x12
 *     tlbi-nh-vaa vmid= addr= [leaf] [num= scale= tg= ttl=]        0x13
 *     tlbi-s12-vmall vmid=                               0x28
 *     tlbi-s2-ipa vmid= addr= [leaf] [num= scale= tg= ttl=]        0x2a
 *     tlbi-nsnh-all                                      0x30
 *     atc-inv sid= [ssid=] addr= size= [global]          0x40 (size= is the Size
 *                                                        field: 4 KiB << Size; 52 all)
 *     pri-resp sid= [ssid=] grpid= resp=failure|invalid|success|N   0x41
 *     resume sid= stag= [retry|abort]  (neither: terminate RAZ/WI)  0x44
 *     stall-term sid=                                    0x45
 *     sync [msi=ADDR data=N | irq | sev]                 0x46 (msi=: CS SIG_IRQ with
 *                                                        Linux's MSH ISH, MSIAttr 0xf)
 *   wait cmdq                           until CMDQ_CONS reaches PROD, or GERROR.CMDQ_ERR
 *                                       stopped the queue
 *   wait evtq                           until EVENTQ_PROD != CONS; decodes the record
 *                                       at CONS (not consumed: write EVENTQ_CONS)
 *   wait priq                           the same for the PRI queue
 *   stat NAME                           smmu_get_stats: cfg.hits, tlb.misses,
 *                                       s1wc.hits, s2wc.fills, walks, walk_refs,
 *                                       events.0x10, events_written, events_lost,
 *                                       commands.0x12, page_requests, stalls,
 *                                       stale_hits ...
 *   events KIND                         gerror, eventq, priq, cmd-sync, sev
 *
 * Results (the keys expect checks):
 *   translate    result ok|fault|no-access|ur|stalled|raz-wi; ok: pa size perm
 *                [priv yes]; else reason (the VT-d fault reason or the SMMU event
 *                ID, named in the note) [stag: stalled]
 *   dma          result ok|fault|pri-failed|pri-timeout|mem-error|stall-timeout|
 *                refused; at answer reason (when it failed); bytes translations
 *                page_requests atc_hits; data (reads: up to 4 little-endian words)
 *   qi ...       type slot iqh iqt [iqe 1 iqei N when the queue stopped]
 *   wait prq     rid pasid addr r w lpig prgi priv exe pqh pqt
 *   wait qi      iqh iqt fsts       reg read, mem read, wait mem32: value
 *   smmu new     idr0 idr1 idr3 idr5 aidr
 *   cmd ...      op slot prod cons err (none, or the CONS.ERR name ILL ABT
 *                ATC_INV_SYNC while GERROR.CMDQ_ERR is active); wait cmdq: prod cons err
 *   wait evtq    slot prod cons event (name) id sid ssv ssid stall stag pnu ind rnw s2
 *                class (CD TT IN) ttrnw input_addr ipa fetch_addr dw0 dw1 dw2 dw3
 *   wait priq    slot prod cons sid ssv ssid grpid last r w x priv addr dw0 dw1
 * A coherence-checker report during a command adds stale.cache, stale.cached and
 * stale.fresh (cached and fresh values as struct vtd_stale or smmu_stale gives
 * them; the missing invalidation is in the note). Values compare as numbers where
 * both sides are.
 *
 * Exit status: 0 when every line ran and every expectation held; 1 at the first
 * malformed line, failed command or unmet expectation (FILE:LINE: what, on err),
 * or when a DMA started with async was never waited for.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dev/dev.h"
#include "hw/smmuv3/smmuv3.h"
#include "hw/smmuv3/smmuv3_regs.h"
/* For smmu_event_name() only, to name event IDs. */
#include "hw/smmuv3/smmuv3_internal.h"
#include "hw/vtd/vtd.h"
#include "hw/vtd/vtd_regs.h"
/* For vtd_fault_name() and vtd_fault_text() only, to explain fault reasons. */
#include "hw/vtd/vtd_internal.h"
#include "pgtable/pgtable.h"

#define MAX_TOKENS     64
#define MAX_FIELDS     96              /* stats lists every nonzero counter */
#define MAX_EPS        32
#define DATA_WORDS     4               /* words of DMA read data printed */
#define MAX_DMA_LEN    (16u << 20)
#define ACK_POLLS      1000            /* reads of GSTS or CR0ACK before giving up */
#define DEF_TIMEOUT_MS 5000
#define GSTS_KEEP      0x96ffffffu     /* GSTS bits a GCMD write may repeat */

enum { OK = 0, FAIL = 1 };

struct field {
	char key[24];
	char val[200];
};

/* What one command printed: its key/value pairs and a note for people. */
struct result {
	unsigned line;
	char verb[32];
	unsigned n;
	struct field f[MAX_FIELDS];
	char note[400];
};

struct async_dma {
	pthread_t thread;
	struct dev_ep *ep;
	struct dev_dma d;
	struct dev_dma_report rep;
	int ret;
	uint8_t *buf;
	unsigned line;
};

struct sep {
	uint16_t rid;
	struct dev_ep *ep;
	struct async_dma *dma;          /* started with async, until `wait dma` */
};

struct script {
	FILE *out, *err;
	const char *file;
	char *dir;                      /* the script's directory, for image paths */
	bool quiet;
	unsigned line;
	struct mem_space *mem;
	struct vtd *vtd;                /* the model: one of these two */
	struct smmu *smmu;
	struct mem_frames *pool;
	struct sep eps[MAX_EPS];
	unsigned neps;
	struct result cur, last;
	bool have_last;
	/* The checker and the event callback may run on a DMA thread. */
	pthread_mutex_t lock;
	unsigned nstale;
	char stale_cache[16], stale_missing[160];
	uint64_t stale_cached, stale_fresh;
	unsigned events[5];             /* by enum vtd_event, or by enum smmu_irq */
};

/* ---- messages and results --------------------------------------------------------------- */

/* A malformed line or a failed command: FILE:LINE: message. */
static int __attribute__((format(printf, 2, 3))) bad(struct script *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(s->err, "%s:%u: ", s->file, s->line);
	va_start(ap, fmt);
	vfprintf(s->err, fmt, ap);
	va_end(ap);
	fputc('\n', s->err);
	return FAIL;
}

static void __attribute__((format(printf, 3, 4))) put(struct script *s, const char *key,
						      const char *fmt, ...)
{
	struct field *f;
	va_list ap;

	if (s->cur.n == MAX_FIELDS)
		return;
	f = &s->cur.f[s->cur.n++];
	snprintf(f->key, sizeof(f->key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(f->val, sizeof(f->val), fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3))) note(struct script *s, const char *fmt, ...)
{
	size_t len = strlen(s->cur.note);
	va_list ap;

	if (len && len + 2 < sizeof(s->cur.note)) {
		strcat(s->cur.note, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(s->cur.note + len, sizeof(s->cur.note) - len, fmt, ap);
	va_end(ap);
}

static const struct field *field_of(const struct result *r, const char *key)
{
	for (unsigned i = 0; i < r->n; i++)
		if (!strcmp(r->f[i].key, key))
			return &r->f[i];
	return NULL;
}

static void print_result(struct script *s, const char *text, const struct result *r)
{
	if (s->quiet)
		return;
	fprintf(s->out, "%u: %s ->", s->line, text);
	if (!r->n)
		fprintf(s->out, " ok");
	for (unsigned i = 0; i < r->n; i++)
		fprintf(s->out, " %s %s", r->f[i].key, r->f[i].val);
	if (r->note[0])
		fprintf(s->out, "  # %s", r->note);
	fputc('\n', s->out);
}

/* ---- words ------------------------------------------------------------------------------ */

/* Decimal, or hex with 0x; nothing else (no sign, no octal, no trailing text). */
static bool parse_num(const char *t, uint64_t *v)
{
	const char *p = t;
	int base = 10;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return false;
	for (const char *q = p; *q; q++)
		if (base == 16 ? !isxdigit((unsigned char)*q) : !isdigit((unsigned char)*q))
			return false;
	errno = 0;
	*v = strtoull(p, NULL, base);
	return !errno;
}

static int num(struct script *s, const char *t, const char *what, uint64_t *v)
{
	if (!parse_num(t, v))
		return bad(s, "%s '%s' is not a number (decimal, or hex with 0x)", what, t);
	return OK;
}

static int num_max(struct script *s, const char *t, const char *what, uint64_t max, uint64_t *v)
{
	if (num(s, t, what, v))
		return FAIL;
	if (*v > max)
		return bad(s, "%s %s is too large (at most 0x%" PRIx64 ")", what, t, max);
	return OK;
}

static int hexdig(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Exactly BB:DD.F in hex: bus 00-ff, device 00-1f, function 0-7. */
static bool parse_bdf(const char *t, uint16_t *rid)
{
	int b1, b0, d1, d0, fn;

	if (strlen(t) != 7 || t[2] != ':' || t[5] != '.')
		return false;
	b1 = hexdig(t[0]);
	b0 = hexdig(t[1]);
	d1 = hexdig(t[3]);
	d0 = hexdig(t[4]);
	fn = hexdig(t[6]);
	if (b1 < 0 || b0 < 0 || d1 < 0 || d0 < 0 || fn < 0 || fn > 7 || d1 * 16 + d0 > 0x1f)
		return false;
	*rid = (uint16_t)((b1 * 16 + b0) << 8 | (d1 * 16 + d0) << 3 | fn);
	return true;
}

static int bdf(struct script *s, const char *t, uint16_t *rid)
{
	if (!parse_bdf(t, rid))
		return bad(s, "'%s' is not a bus:device.function (BB:DD.F in hex, device 00-1f, "
			   "function 0-7)", t);
	return OK;
}

static void bdf_string(uint16_t rid, char buf[8])
{
	snprintf(buf, 8, "%02x:%02x.%x", rid >> 8, (rid >> 3) & 0x1f, rid & 7);
}

/*
 * A command's words after its fixed ones: positionals, key=value options whose key
 * is in kvs, and flag words from flags (both lists NULL-terminated). Anything else
 * is an error that names the word.
 */
struct args {
	unsigned npos, nkv, nflag;
	char *pos[MAX_TOKENS];
	const char *key[MAX_TOKENS], *val[MAX_TOKENS];
	const char *flag[MAX_TOKENS];
};

static bool in_list(const char *const *list, const char *w)
{
	for (; list && *list; list++)
		if (!strcmp(*list, w))
			return true;
	return false;
}

static int args_parse(struct script *s, int argc, char **argv, const char *const *kvs,
		      const char *const *flags, struct args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		char *w = argv[i], *eq = strchr(w, '=');

		if (eq) {
			*eq = 0;
			if (!in_list(kvs, w))
				return bad(s, "unknown option '%s='", w);
			for (unsigned k = 0; k < a->nkv; k++)
				if (!strcmp(a->key[k], w))
					return bad(s, "option '%s=' given twice", w);
			if (!eq[1])
				return bad(s, "option '%s=' has no value", w);
			a->key[a->nkv] = w;
			a->val[a->nkv++] = eq + 1;
		} else if (in_list(flags, w)) {
			a->flag[a->nflag++] = w;
		} else {
			a->pos[a->npos++] = w;
		}
	}
	return OK;
}

static const char *arg_str(const struct args *a, const char *key)
{
	for (unsigned k = 0; k < a->nkv; k++)
		if (!strcmp(a->key[k], key))
			return a->val[k];
	return NULL;
}

/* The option's number in *v if given (else *v keeps its default). */
static int arg_num(struct script *s, const struct args *a, const char *key, uint64_t max,
		   uint64_t *v)
{
	const char *t = arg_str(a, key);
	char what[40];

	if (!t)
		return OK;
	snprintf(what, sizeof(what), "%s=", key);
	return num_max(s, t, what, max, v);
}

static int arg_need(struct script *s, const struct args *a, const char *key, uint64_t max,
		    uint64_t *v)
{
	if (!arg_str(a, key))
		return bad(s, "option %s= is required here", key);
	return arg_num(s, a, key, max, v);
}

static bool has_flag(const struct args *a, const char *name)
{
	for (unsigned k = 0; k < a->nflag; k++)
		if (!strcmp(a->flag[k], name))
			return true;
	return false;
}

static int positionals(struct script *s, const struct args *a, unsigned n, const char *usage)
{
	if (a->npos < n)
		return bad(s, "too few words: %s", usage);
	if (a->npos > n)
		return bad(s, "unexpected word '%s': %s", a->pos[n], usage);
	return OK;
}

/* Commands that drive either model. */
static int need_model(struct script *s)
{
	if (!s->vtd && !s->smmu)
		return bad(s, "no model yet: 'vtd new' or 'smmu new' first");
	return OK;
}

/* Commands of one model name it when the script drives the other. */
static int need_vtd(struct script *s, const char *what)
{
	if (s->smmu)
		return bad(s, "%s is a VT-d command, but this script drives an SMMU ('smmu new')",
			   what);
	if (!s->vtd)
		return bad(s, "no VT-d unit yet: 'vtd new' first");
	return OK;
}

static int need_smmu(struct script *s, const char *what)
{
	if (s->vtd)
		return bad(s, "%s is an SMMU command, but this script drives a VT-d unit "
			   "('vtd new')", what);
	if (!s->smmu)
		return bad(s, "no SMMU yet: 'smmu new' first");
	return OK;
}

static uint64_t model_read(struct script *s, uint32_t off, unsigned size)
{
	return s->smmu ? smmu_read(s->smmu, off, size) : vtd_read(s->vtd, off, size);
}

static void model_write(struct script *s, uint32_t off, unsigned size, uint64_t val)
{
	if (s->smmu)
		smmu_write(s->smmu, off, size, val);
	else
		vtd_write(s->vtd, off, size, val);
}

/* ---- time ------------------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nap(void)
{
	struct timespec ts = { 0, 1000000 };   /* 1 ms: a driver's poll interval */

	nanosleep(&ts, NULL);
}

static int arg_timeout(struct script *s, const struct args *a, uint64_t *ms)
{
	*ms = DEF_TIMEOUT_MS;
	return arg_num(s, a, "timeout", UINT64_C(3600000), ms);
}

/* ---- registers -------------------------------------------------------------------------- */

static const struct {
	const char *name;
	uint32_t off;
} reg_names[] = {
	{ "VER", VTD_VER }, { "CAP", VTD_CAP }, { "ECAP", VTD_ECAP }, { "GCMD", VTD_GCMD },
	{ "GSTS", VTD_GSTS }, { "RTADDR", VTD_RTADDR }, { "CCMD", VTD_CCMD },
	{ "FSTS", VTD_FSTS }, { "FECTL", VTD_FECTL }, { "FEDATA", VTD_FEDATA },
	{ "FEADDR", VTD_FEADDR }, { "FEUADDR", VTD_FEUADDR }, { "IQH", VTD_IQH },
	{ "IQT", VTD_IQT }, { "IQA", VTD_IQA }, { "ICS", VTD_ICS }, { "IECTL", VTD_IECTL },
	{ "IEDATA", VTD_IEDATA }, { "IEADDR", VTD_IEADDR }, { "IEUADDR", VTD_IEUADDR },
	{ "IQERCD", VTD_IQERCD }, { "IRTA", VTD_IRTA }, { "PQH", VTD_PQH }, { "PQT", VTD_PQT },
	{ "PQA", VTD_PQA }, { "PRS", VTD_PRS }, { "PECTL", VTD_PECTL },
	{ "PEDATA", VTD_PEDATA }, { "PEADDR", VTD_PEADDR }, { "PEUADDR", VTD_PEUADDR },
	{ "VCCAP", VTD_VCCAP }, { "VCMD", VTD_VCMD }, { "VCRSP", VTD_VCRSP },
};

/* A name from vtd_regs.h (case-insensitive, without VTD_), FRCDn or FRCDn.HI (the
 * fault recording registers from CAP.FRO), or an offset in the register page. */
static bool parse_reg(const char *t, uint32_t *off)
{
	uint64_t n;

	for (size_t i = 0; i < sizeof(reg_names) / sizeof(reg_names[0]); i++) {
		if (!strcasecmp(t, reg_names[i].name)) {
			*off = reg_names[i].off;
			return true;
		}
	}
	if (!strncasecmp(t, "FRCD", 4) && isdigit((unsigned char)t[4])) {
		char idx[8];
		size_t len = strspn(t + 4, "0123456789");
		const char *rest = t + 4 + len;
		unsigned hi;

		if (len >= sizeof(idx))
			return false;
		memcpy(idx, t + 4, len);
		idx[len] = 0;
		if (!strcasecmp(rest, ".HI"))
			hi = 8;
		else if (!*rest || !strcasecmp(rest, ".LO"))
			hi = 0;
		else
			return false;
		if (!parse_num(idx, &n) || n >= (VTD_VCMD - VTD_FRCD_BASE) / 16)
			return false;
		*off = VTD_FRCD_BASE + 16 * (uint32_t)n + hi;
		return true;
	}
	if (parse_num(t, &n) && n < VTD_REG_SIZE) {
		*off = (uint32_t)n;
		return true;
	}
	return false;
}

#define SMMU_REG(n) { #n, SMMU_##n }
static const struct {
	const char *name;
	uint32_t off;
} smmu_reg_names[] = {
	SMMU_REG(IDR0), SMMU_REG(IDR1), SMMU_REG(IDR2), SMMU_REG(IDR3), SMMU_REG(IDR4),
	SMMU_REG(IDR5), SMMU_REG(IIDR), SMMU_REG(AIDR), SMMU_REG(CR0), SMMU_REG(CR0ACK),
	SMMU_REG(CR1), SMMU_REG(CR2), SMMU_REG(STATUSR), SMMU_REG(GBPA), SMMU_REG(AGBPA),
	SMMU_REG(IRQ_CTRL), SMMU_REG(IRQ_CTRLACK), SMMU_REG(GERROR), SMMU_REG(GERRORN),
	SMMU_REG(GERROR_IRQ_CFG0), SMMU_REG(GERROR_IRQ_CFG1), SMMU_REG(GERROR_IRQ_CFG2),
	SMMU_REG(STRTAB_BASE), SMMU_REG(STRTAB_BASE_CFG), SMMU_REG(CMDQ_BASE),
	SMMU_REG(CMDQ_PROD), SMMU_REG(CMDQ_CONS), SMMU_REG(EVENTQ_BASE),
	SMMU_REG(EVENTQ_IRQ_CFG0), SMMU_REG(EVENTQ_IRQ_CFG1), SMMU_REG(EVENTQ_IRQ_CFG2),
	SMMU_REG(PRIQ_BASE), SMMU_REG(PRIQ_IRQ_CFG0), SMMU_REG(PRIQ_IRQ_CFG1),
	SMMU_REG(PRIQ_IRQ_CFG2), SMMU_REG(EVENTQ_PROD), SMMU_REG(EVENTQ_CONS),
	SMMU_REG(PRIQ_PROD), SMMU_REG(PRIQ_CONS),
};

/* A name from smmuv3_regs.h (case-insensitive, without SMMU_; the event and PRI
 * queue pointers are page 1's), or an offset in the two pages. */
static bool parse_smmu_reg(const char *t, uint32_t *off)
{
	uint64_t n;

	for (size_t i = 0; i < sizeof(smmu_reg_names) / sizeof(smmu_reg_names[0]); i++) {
		if (!strcasecmp(t, smmu_reg_names[i].name)) {
			*off = smmu_reg_names[i].off;
			return true;
		}
	}
	if (parse_num(t, &n) && n < SMMU_REG_SIZE) {
		*off = (uint32_t)n;
		return true;
	}
	return false;
}

/* The register names of the script's model. */
static int reg(struct script *s, const char *t, uint32_t *off)
{
	if (s->smmu) {
		if (!parse_smmu_reg(t, off))
			return bad(s, "unknown SMMU register '%s' (a smmuv3_regs.h name "
				   "without SMMU_ such as CR0 or CMDQ_PROD, or an offset below "
				   "0x20000)", t);
		return OK;
	}
	if (!parse_reg(t, off))
		return bad(s, "unknown register '%s' (a vtd_regs.h name such as GSTS or IQT, "
			   "FRCDn or FRCDn.HI, or an offset below 0x1000)", t);
	return OK;
}

static void bit_names(char *buf, size_t len, uint64_t val, const char *const names[64])
{
	for (int b = 63; b >= 0; b--) {
		size_t at = strlen(buf);

		if ((val & BIT(b)) && names[b])
			snprintf(buf + at, len - at, "%s%s", at ? " " : "", names[b]);
	}
}

/* A few registers' fields, for the note of a full-width read. */
static void describe_reg(uint32_t off, unsigned size, uint64_t val, char *buf, size_t len)
{
	static const char *const gsts[64] = {
		[31] = "TES", [30] = "RTPS", [29] = "FLS", [28] = "AFLS", [27] = "WBFS",
		[26] = "QIES", [25] = "IRES", [24] = "IRTPS", [23] = "CFIS",
	};
	static const char *const fsts[64] = {
		[0] = "PFO", [1] = "PPF", [2] = "AFO", [3] = "APF", [4] = "IQE", [5] = "ICE",
		[6] = "ITE",
	};
	static const char *const ectl[64] = { [31] = "IM", [30] = "IP" };
	static const char *const prs[64] = { [0] = "PPR", [1] = "PRO" };
	static const char *const ics[64] = { [0] = "IWC" };

	buf[0] = 0;
	if (size == 4 && off == VTD_GSTS) {
		bit_names(buf, len, val, gsts);
	} else if (size == 4 && off == VTD_FSTS) {
		bit_names(buf, len, val, fsts);
		if (val & FSTS_PPF)
			snprintf(buf + strlen(buf), len - strlen(buf), " FRI %u",
				 (unsigned)FIELD_GET(FSTS_FRI, val));
	} else if (size == 4 && (off == VTD_FECTL || off == VTD_IECTL || off == VTD_PECTL)) {
		bit_names(buf, len, val, ectl);
	} else if (size == 4 && off == VTD_PRS) {
		bit_names(buf, len, val, prs);
	} else if (size == 4 && off == VTD_ICS) {
		bit_names(buf, len, val, ics);
	} else if (size == 8 && off == VTD_IQERCD) {
		snprintf(buf, len, "IQEI %u", (unsigned)FIELD_GET(IQERCD_IQEI, val));
	} else if (size == 8 && off >= VTD_FRCD_BASE && off < VTD_VCMD &&
		   (off - VTD_FRCD_BASE) % 16 == 8) {
		uint8_t fr = (uint8_t)FIELD_GET(FRCD_HI_FR, val);
		char sid[8];

		if (!(val & FRCD_HI_F)) {
			snprintf(buf, len, "F 0: no fault pending");
			return;
		}
		bdf_string((uint16_t)FIELD_GET(FRCD_HI_SID, val), sid);
		snprintf(buf, len, "F FR 0x%02x (%s) SID %s T %s%s%s AT %u", fr,
			 vtd_fault_name(fr), sid,
			 (val & FRCD_HI_T2) ? ((val & FRCD_HI_T1) ? "atomic" : "page-request")
					    : ((val & FRCD_HI_T1) ? "read" : "write"),
			 (val & FRCD_HI_PRIV) ? " PRIV" : "", (val & FRCD_HI_EXE) ? " EXE" : "",
			 (unsigned)FIELD_GET(FRCD_HI_AT, val));
		if (val & FRCD_HI_PP)
			snprintf(buf + strlen(buf), len - strlen(buf), " PP PV 0x%x",
				 (unsigned)FIELD_GET(FRCD_HI_PV, val));
	}
}

/* ---- SMMU queues and registers ------------------------------------------------------------ */

enum { Q_CMD, Q_EVT, Q_PRI };

/* A queue as its driver sees it (facts §1.12): 2^LOG2SIZE entries (capped at the
 * IDR1 maximum), pointers with the index in the low LOG2SIZE bits and the wrap
 * flag above it, entries from the base aligned to MAX(queue bytes, 32). */
struct squeue {
	const char *name;
	uint64_t addr;
	unsigned log2, esize;
	uint32_t wrap, mask;            /* mask: index and wrap flag */
	uint32_t prod_off, cons_off;
};

static void smmu_queue(struct script *s, int which, struct squeue *q)
{
	static const struct {
		const char *name;
		uint32_t base, prod, cons;
		uint64_t idr1;
		unsigned esize;
	} qs[3] = {
		{ "command", SMMU_CMDQ_BASE, SMMU_CMDQ_PROD, SMMU_CMDQ_CONS, IDR1_CMDQS, CMD_SIZE },
		{ "event", SMMU_EVENTQ_BASE, SMMU_EVENTQ_PROD, SMMU_EVENTQ_CONS, IDR1_EVENTQS,
		  EVT_SIZE },
		{ "PRI", SMMU_PRIQ_BASE, SMMU_PRIQ_PROD, SMMU_PRIQ_CONS, IDR1_PRIQS, PRI_SIZE },
	};
	uint64_t base = smmu_read(s->smmu, qs[which].base, 8), bytes;
	unsigned max = (unsigned)FIELD_GET(qs[which].idr1, smmu_read(s->smmu, SMMU_IDR1, 4));

	q->name = qs[which].name;
	q->log2 = (unsigned)FIELD_GET(Q_BASE_LOG2SIZE, base);
	if (q->log2 > max)
		q->log2 = max;
	q->esize = qs[which].esize;
	q->wrap = (uint32_t)1 << q->log2;
	q->mask = (q->wrap << 1) - 1;
	bytes = (uint64_t)q->esize << q->log2;
	q->addr = base & Q_BASE_ADDR & ~((bytes > 32 ? bytes : 32) - 1);
	q->prod_off = qs[which].prod;
	q->cons_off = qs[which].cons;
}

static uint64_t q_slot(const struct squeue *q, uint32_t ptr)
{
	return q->addr + (uint64_t)(ptr & (q->wrap - 1)) * q->esize;
}

static const char *cmdq_err_name(unsigned err)
{
	static const char *const names[4] = { "NONE", "ILL", "ABT", "ATC_INV_SYNC" };

	return err < 4 ? names[err] : "reserved";
}

static bool cmdq_stopped(struct script *s)
{
	return (smmu_read(s->smmu, SMMU_GERROR, 4) ^ smmu_read(s->smmu, SMMU_GERRORN, 4)) &
	       GERROR_CMDQ_ERR;
}

static void smmu_describe(struct script *s, uint32_t off, unsigned size, uint64_t val, char *buf,
			  size_t len)
{
	static const char *const cr0[64] = {
		[0] = "SMMUEN", [1] = "PRIQEN", [2] = "EVENTQEN", [3] = "CMDQEN", [4] = "ATSCHK",
	};
	static const char *const gerror[64] = {
		[0] = "CMDQ_ERR", [2] = "EVENTQ_ABT_ERR", [3] = "PRIQ_ABT_ERR",
		[4] = "MSI_CMDQ_ABT_ERR", [5] = "MSI_EVENTQ_ABT_ERR", [6] = "MSI_PRIQ_ABT_ERR",
		[7] = "MSI_GERROR_ABT_ERR", [8] = "SFM_ERR",
	};
	static const char *const irq[64] = {
		[0] = "GERROR_IRQEN", [1] = "PRIQ_IRQEN", [2] = "EVENTQ_IRQEN",
	};
	static const char *const cr2[64] = { [0] = "E2H", [1] = "RECINVSID", [2] = "PTM" };
	int which = -1;

	buf[0] = 0;
	if (size != 4)
		return;
	switch (off) {
	case SMMU_CR0:
	case SMMU_CR0ACK:
		bit_names(buf, len, val, cr0);
		return;
	case SMMU_CR2:
		bit_names(buf, len, val, cr2);
		return;
	case SMMU_GERROR:
	case SMMU_GERRORN:
		bit_names(buf, len, val, gerror);
		return;
	case SMMU_IRQ_CTRL:
	case SMMU_IRQ_CTRLACK:
		bit_names(buf, len, val, irq);
		return;
	case SMMU_GBPA:
		if (val & GBPA_ABORT)
			snprintf(buf, len, "ABORT");
		return;
	case SMMU_CMDQ_PROD:
	case SMMU_CMDQ_CONS:
		which = Q_CMD;
		break;
	case SMMU_EVENTQ_PROD:
	case SMMU_EVENTQ_CONS:
		which = Q_EVT;
		break;
	case SMMU_PRIQ_PROD:
	case SMMU_PRIQ_CONS:
		which = Q_PRI;
		break;
	default:
		return;
	}
	{
		struct squeue q;

		smmu_queue(s, which, &q);
		snprintf(buf, len, "index %u wrap %u", (unsigned)(val & (q.wrap - 1)),
			 !!(val & q.wrap));
		if (which == Q_CMD && off == SMMU_CMDQ_CONS && FIELD_GET(CMDQ_CONS_ERR, val))
			snprintf(buf + strlen(buf), len - strlen(buf), " ERR %u (CERROR_%s)",
				 (unsigned)FIELD_GET(CMDQ_CONS_ERR, val),
				 cmdq_err_name((unsigned)FIELD_GET(CMDQ_CONS_ERR, val)));
		if (which != Q_CMD && (val & Q_OVF))
			snprintf(buf + strlen(buf), len - strlen(buf), " %s",
				 off == q.prod_off ? "OVFLG" : "OVACKFLG");
	}
}

static int cmd_reg(struct script *s, int argc, char **argv)
{
	const char *usage = "reg read32|read64 REG | reg write32|write64 REG VALUE";
	unsigned size;
	uint32_t off;
	uint64_t val;
	bool write;
	char desc[200];

	if (need_model(s))
		return FAIL;
	if (argc < 3)
		return bad(s, "too few words: %s", usage);
	if (!strcmp(argv[1], "read32") || !strcmp(argv[1], "read64"))
		write = false;
	else if (!strcmp(argv[1], "write32") || !strcmp(argv[1], "write64"))
		write = true;
	else
		return bad(s, "unknown reg operation '%s': %s", argv[1], usage);
	size = strstr(argv[1], "64") ? 8 : 4;
	if (argc != (write ? 4 : 3))
		return bad(s, "%s: %s", argc < (write ? 4 : 3) ? "too few words" : "too many words",
			   usage);
	if (reg(s, argv[2], &off))
		return FAIL;
	if (off & (size - 1))
		return bad(s, "register offset 0x%x is not %u-byte aligned", off, size);
	if (write) {
		if (num_max(s, argv[3], "value", size == 4 ? UINT32_MAX : UINT64_MAX, &val))
			return FAIL;
		model_write(s, off, size, val);
		return OK;
	}
	val = model_read(s, off, size);
	put(s, "value", "0x%" PRIx64, val);
	if (s->smmu)
		smmu_describe(s, off, size, val, desc, sizeof(desc));
	else
		describe_reg(off, size, val, desc, sizeof(desc));
	if (desc[0])
		note(s, "%s", desc);
	return OK;
}

/* ---- GCMD ------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	uint32_t cmd, status;
	bool oneshot;
	bool status_clears;     /* WBF: the status bit reads 0 once the flush is done */
} gcmd_bits[] = {
	{ "TE", GCMD_TE, GSTS_TES, false, false },
	{ "SRTP", GCMD_SRTP, GSTS_RTPS, true, false },
	{ "SFL", GCMD_SFL, GSTS_FLS, true, false },
	{ "EAFL", GCMD_EAFL, GSTS_AFLS, false, false },
	{ "WBF", GCMD_WBF, GSTS_WBFS, true, true },
	{ "QIE", GCMD_QIE, GSTS_QIES, false, false },
	{ "IRE", GCMD_IRE, GSTS_IRES, false, false },
	{ "SIRTP", GCMD_SIRTP, GSTS_IRTPS, true, false },
	{ "CFI", GCMD_CFI, GSTS_CFIS, false, false },
};

/*
 * One field per write, as the facts (§1.5) give the procedure: read GSTS, keep
 * the persistent bits (& 0x96ffffff drops the one-shot status bits), set or clear
 * the one bit, write GCMD, poll GSTS until it shows the command's effect.
 */
static int cmd_gcmd(struct script *s, int argc, char **argv)
{
	bool set;
	size_t i;
	uint32_t gsts, want;
	unsigned polls;
	char desc[200];

	if (need_vtd(s, "gcmd"))
		return FAIL;
	if (argc != 3)
		return bad(s, "%s: gcmd set|clear TE|SRTP|SFL|EAFL|WBF|QIE|IRE|SIRTP|CFI",
			   argc < 3 ? "too few words" : "too many words");
	if (!strcmp(argv[1], "set"))
		set = true;
	else if (!strcmp(argv[1], "clear"))
		set = false;
	else
		return bad(s, "gcmd takes set or clear, not '%s'", argv[1]);
	for (i = 0; i < sizeof(gcmd_bits) / sizeof(gcmd_bits[0]); i++)
		if (!strcasecmp(argv[2], gcmd_bits[i].name))
			break;
	if (i == sizeof(gcmd_bits) / sizeof(gcmd_bits[0]))
		return bad(s, "unknown GCMD bit '%s' (TE SRTP SFL EAFL WBF QIE IRE SIRTP CFI)",
			   argv[2]);
	if (!set && gcmd_bits[i].oneshot)
		return bad(s, "%s is a one-shot command: there is nothing to clear",
			   gcmd_bits[i].name);
	gsts = (uint32_t)vtd_read(s->vtd, VTD_GSTS, 4) & GSTS_KEEP;
	vtd_write(s->vtd, VTD_GCMD, 4, set ? gsts | gcmd_bits[i].cmd : gsts & ~gcmd_bits[i].cmd);
	want = (set && !gcmd_bits[i].status_clears) ? gcmd_bits[i].status : 0;
	for (polls = 0; polls < ACK_POLLS; polls++) {
		gsts = (uint32_t)vtd_read(s->vtd, VTD_GSTS, 4);
		if ((gsts & gcmd_bits[i].status) == want)
			break;
	}
	put(s, "gsts", "0x%08x", gsts);
	put(s, "done", "%s", polls < ACK_POLLS ? "yes" : "no");
	describe_reg(VTD_GSTS, 4, gsts, desc, sizeof(desc));
	note(s, "%s", desc[0] ? desc : "no status bit set");
	if (polls == ACK_POLLS)
		note(s, "GSTS did not show the command after %u reads", ACK_POLLS);
	return OK;
}

/* ---- CR0 -------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	uint32_t bit;
} cr0_bits[] = {
	{ "SMMUEN", CR0_SMMUEN }, { "PRIQEN", CR0_PRIQEN }, { "EVENTQEN", CR0_EVENTQEN },
	{ "CMDQEN", CR0_CMDQEN }, { "ATSCHK", CR0_ATSCHK },
};

/*
 * The update protocol of facts §1.6: CR0 reads back what was written, so read it,
 * set or clear the one field, write it, and poll CR0ACK until the field shows
 * the new value (the update, and its side effects, are then complete).
 */
static int cmd_cr0(struct script *s, int argc, char **argv)
{
	uint32_t cr0, ack = 0, want;
	unsigned polls;
	size_t i;
	bool set;
	char desc[200];

	if (need_smmu(s, "cr0"))
		return FAIL;
	if (argc != 3)
		return bad(s, "%s: cr0 set|clear SMMUEN|PRIQEN|EVENTQEN|CMDQEN|ATSCHK",
			   argc < 3 ? "too few words" : "too many words");
	if (!strcmp(argv[1], "set"))
		set = true;
	else if (!strcmp(argv[1], "clear"))
		set = false;
	else
		return bad(s, "cr0 takes set or clear, not '%s'", argv[1]);
	for (i = 0; i < sizeof(cr0_bits) / sizeof(cr0_bits[0]); i++)
		if (!strcasecmp(argv[2], cr0_bits[i].name))
			break;
	if (i == sizeof(cr0_bits) / sizeof(cr0_bits[0]))
		return bad(s, "unknown CR0 field '%s' (SMMUEN PRIQEN EVENTQEN CMDQEN ATSCHK)",
			   argv[2]);
	cr0 = (uint32_t)smmu_read(s->smmu, SMMU_CR0, 4);
	cr0 = set ? cr0 | cr0_bits[i].bit : cr0 & ~cr0_bits[i].bit;
	smmu_write(s->smmu, SMMU_CR0, 4, cr0);
	want = set ? cr0_bits[i].bit : 0;
	for (polls = 0; polls < ACK_POLLS; polls++) {
		ack = (uint32_t)smmu_read(s->smmu, SMMU_CR0ACK, 4);
		if ((ack & cr0_bits[i].bit) == want)
			break;
	}
	put(s, "cr0", "0x%x", (unsigned)smmu_read(s->smmu, SMMU_CR0, 4));
	put(s, "cr0ack", "0x%x", ack);
	put(s, "done", "%s", polls < ACK_POLLS ? "yes" : "no");
	smmu_describe(s, SMMU_CR0ACK, 4, ack, desc, sizeof(desc));
	note(s, "CR0ACK: %s", desc[0] ? desc : "nothing enabled");
	if (polls == ACK_POLLS)
		note(s, "CR0ACK did not show the field after %u reads (the SMMU does not "
		     "implement it?)", ACK_POLLS);
	return OK;
}

/* ---- memory ----------------------------------------------------------------------------- */

static int mem_err(struct script *s, int err, const char *what, uint64_t addr)
{
	return bad(s, "%s at 0x%" PRIx64 ": %s", what, addr,
		   err == -EFAULT ? "no memory there (mem add it first)" :
		   err == -EACCES ? "the region does not allow it" :
		   err == -EINVAL ? "not aligned" : strerror(-err));
}

static int load32(struct mem_space *m, uint64_t addr, uint32_t *v)
{
	uint8_t b[4] = { 0 };
	int err = mem_read(m, addr, b, 4);

	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return err;
}

static int cmd_mem(struct script *s, int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	uint64_t a, b, c;
	uint32_t w32;
	int err;

	if (!strcmp(op, "add")) {
		unsigned prot = MEM_RW;

		if (argc < 4 || argc > 5)
			return bad(s, "usage: mem add BASE SIZE [r|w|rw]");
		if (num(s, argv[2], "base", &a) || num(s, argv[3], "size", &b))
			return FAIL;
		if (argc == 5) {
			if (!strcmp(argv[4], "r"))
				prot = MEM_READ;
			else if (!strcmp(argv[4], "w"))
				prot = MEM_WRITE;
			else if (strcmp(argv[4], "rw"))
				return bad(s, "memory permission is r, w or rw, not '%s'", argv[4]);
		}
		err = mem_add_anon(s->mem, a, b, prot, NULL);
		if (err)
			return bad(s, "mem add 0x%" PRIx64 " 0x%" PRIx64 ": %s", a, b,
				   err == -EEXIST ? "overlaps memory already added" :
				   err == -EINVAL ? "empty, or runs past 2^64" : strerror(-err));
		put(s, "base", "0x%" PRIx64, a);
		put(s, "size", "0x%" PRIx64, b);
		return OK;
	}
	if (!strcmp(op, "write64")) {
		if (argc < 4)
			return bad(s, "usage: mem write64 ADDR VALUE...");
		if (num(s, argv[2], "address", &a))
			return FAIL;
		for (int i = 3; i < argc; i++) {
			if (num(s, argv[i], "value", &b))
				return FAIL;
			err = mem_store64(s->mem, a + 8 * (uint64_t)(i - 3), b);
			if (err)
				return mem_err(s, err, "mem write64", a + 8 * (uint64_t)(i - 3));
		}
		return OK;
	}
	if (!strcmp(op, "write32")) {
		uint8_t le[4];

		if (argc != 4)
			return bad(s, "usage: mem write32 ADDR VALUE");
		if (num(s, argv[2], "address", &a) || num_max(s, argv[3], "value", UINT32_MAX, &b))
			return FAIL;
		if (a & 3)
			return bad(s, "mem write32 at 0x%" PRIx64 ": not 4-byte aligned", a);
		for (int i = 0; i < 4; i++)
			le[i] = (uint8_t)(b >> (8 * i));
		err = mem_write(s->mem, a, le, 4);
		return err ? mem_err(s, err, "mem write32", a) : OK;
	}
	if (!strcmp(op, "read64") || !strcmp(op, "read32")) {
		bool wide = op[4] == '6';

		if (argc != 3)
			return bad(s, "usage: mem %s ADDR", op);
		if (num(s, argv[2], "address", &a))
			return FAIL;
		if (a & (wide ? 7 : 3))
			return bad(s, "mem %s at 0x%" PRIx64 ": not %d-byte aligned", op, a,
				   wide ? 8 : 4);
		if (wide) {
			err = mem_load64(s->mem, a, &b);
		} else {
			err = load32(s->mem, a, &w32);
			b = w32;
		}
		if (err)
			return mem_err(s, err, wide ? "mem read64" : "mem read32", a);
		put(s, "value", "0x%" PRIx64, b);
		return OK;
	}
	if (!strcmp(op, "fill")) {
		if (argc != 5)
			return bad(s, "usage: mem fill ADDR LEN BYTE");
		if (num(s, argv[2], "address", &a) || num(s, argv[3], "length", &b) ||
		    num_max(s, argv[4], "byte", 0xff, &c))
			return FAIL;
		err = mem_fill(s->mem, a, (int)c, b);
		return err ? mem_err(s, err, "mem fill", a) : OK;
	}
	return bad(s, "unknown mem operation '%s' (add write64 write32 read64 read32 fill)", op);
}

/* Loads an image into a space of its own (image.c checks it), then writes each of
 * its pages whole into the script's memory, adding pages that are not there. */
static int cmd_image(struct script *s, int argc, char **argv)
{
	uint8_t page[4096];
	struct mem_space *img;
	char path[4096], msg[512];
	unsigned pages = 0, n;
	FILE *in;
	int ret = OK;

	if (argc != 2)
		return bad(s, "usage: image FILE");
	if (argv[1][0] == '/' || !s->dir)
		snprintf(path, sizeof(path), "%s", argv[1]);
	else
		snprintf(path, sizeof(path), "%s/%s", s->dir, argv[1]);
	in = fopen(path, "r");
	if (!in)
		return bad(s, "cannot open image '%s': %s", path, strerror(errno));
	img = image_load(in, path, msg, sizeof(msg));
	fclose(in);
	if (!img)
		return bad(s, "%s", msg);
	n = mem_region_count(img);
	for (unsigned i = 0; i < n && !ret; i++) {
		struct mem_region r;

		mem_region_get(img, i, &r);
		for (uint64_t off = 0; off < r.size && !ret; off += sizeof(page)) {
			uint64_t pa = r.base + off;
			int err;

			mem_read(img, pa, page, sizeof(page));
			err = mem_write(s->mem, pa, page, sizeof(page));
			if (err == -EFAULT) {
				if (mem_add_anon(s->mem, pa, sizeof(page), MEM_RW, NULL)) {
					ret = bad(s, "image page 0x%" PRIx64 " lies partly in memory "
						  "added before", pa);
					break;
				}
				err = mem_write(s->mem, pa, page, sizeof(page));
			}
			if (err)
				ret = mem_err(s, err, "image page", pa);
			pages++;
		}
	}
	mem_space_free(img);
	if (!ret)
		put(s, "pages", "%u", pages);
	return ret;
}

/* ---- table building --------------------------------------------------------------------- */

static int fmt(struct script *s, const char *spec, struct pgt_fmt *f)
{
	char msg[256];

	if (pgt_fmt_parse(f, spec, msg, sizeof(msg)))
		return bad(s, "%s", msg);
	return OK;
}

static int cmd_pool(struct script *s, int argc, char **argv)
{
	uint64_t base, size;

	if (argc != 3)
		return bad(s, "usage: pool BASE SIZE");
	if (s->pool)
		return bad(s, "there is a pool already");
	if (num(s, argv[1], "base", &base) || num(s, argv[2], "size", &size))
		return FAIL;
	s->pool = mem_frames_new(s->mem, base, size);
	if (!s->pool)
		return bad(s, "pool 0x%" PRIx64 " 0x%" PRIx64 ": %s", base, size,
			   errno == EFAULT ? "not inside one writable region" :
			   errno == EINVAL ? "base and size must be 4 KiB multiples" :
			   strerror(errno));
	put(s, "frames", "%" PRIu64, size / MEM_FRAME_SIZE);
	return OK;
}

static int prot_of(struct script *s, const char *t, unsigned *prot)
{
	*prot = 0;
	for (const char *p = t; *p; p++) {
		switch (*p) {
		case 'r': *prot |= PGT_PROT_R; break;
		case 'w': *prot |= PGT_PROT_W; break;
		case 'x': *prot |= PGT_PROT_X; break;
		case 'u': *prot |= PGT_PROT_U; break;
		default:
			return bad(s, "protection '%s': letters r w x u", t);
		}
	}
	return OK;
}

static int cmd_pgt(struct script *s, int argc, char **argv)
{
	static const char *const kvs[] = { "page", NULL };
	const char *op = argc > 1 ? argv[1] : "";
	uint64_t root, ia, oa, size, page = 0;
	struct pgt_fmt f;
	struct args a;
	unsigned prot;
	int err;

	if (!s->pool)
		return bad(s, "no frame pool: 'pool BASE SIZE' first");
	if (argc < 3)
		return bad(s, "usage: pgt root FMT | pgt map FMT ROOT IA OA SIZE PROT [page=SIZE] | "
			   "pgt unmap FMT ROOT IA SIZE");
	if (fmt(s, argv[2], &f))
		return FAIL;
	if (!strcmp(op, "root")) {
		if (argc != 3)
			return bad(s, "usage: pgt root FMT");
		err = pgt_root_alloc(&f, s->pool, &root);
		if (err)
			return bad(s, "pgt root: %s", strerror(-err));
		put(s, "root", "0x%" PRIx64, root);
		return OK;
	}
	if (!strcmp(op, "map")) {
		if (args_parse(s, argc - 3, argv + 3, kvs, NULL, &a) ||
		    positionals(s, &a, 5, "pgt map FMT ROOT IA OA SIZE PROT [page=SIZE]") ||
		    num(s, a.pos[0], "root", &root) || num(s, a.pos[1], "input address", &ia) ||
		    num(s, a.pos[2], "output address", &oa) || num(s, a.pos[3], "size", &size) ||
		    prot_of(s, a.pos[4], &prot) || arg_num(s, &a, "page", UINT64_MAX, &page))
			return FAIL;
		err = pgt_map(&f, s->pool, root, ia, oa, size, prot, page);
		if (err)
			return bad(s, "pgt map: %s", err == -EEXIST ? "part of the range is mapped" :
				   err == -EINVAL ? "unaligned, out of range, or a protection or "
						    "page size the format cannot express" :
				   strerror(-err));
		put(s, "ia", "0x%" PRIx64, ia);
		put(s, "oa", "0x%" PRIx64, oa);
		put(s, "size", "0x%" PRIx64, size);
		return OK;
	}
	if (!strcmp(op, "unmap")) {
		uint64_t done = 0;

		if (argc != 6)
			return bad(s, "usage: pgt unmap FMT ROOT IA SIZE");
		if (num(s, argv[3], "root", &root) || num(s, argv[4], "input address", &ia) ||
		    num(s, argv[5], "size", &size))
			return FAIL;
		err = pgt_unmap(&f, s->pool, root, ia, size, &done);
		if (err)
			return bad(s, "pgt unmap: %s", err == -EINVAL ?
				   "unaligned, out of range, or cuts a large page" : strerror(-err));
		put(s, "unmapped", "0x%" PRIx64, done);
		return OK;
	}
	return bad(s, "unknown pgt operation '%s' (root map unmap)", op);
}

/* ---- the unit --------------------------------------------------------------------------- */

static void on_event(void *ctx, enum vtd_event ev)
{
	struct script *s = ctx;

	pthread_mutex_lock(&s->lock);
	if ((unsigned)ev < 3)
		s->events[ev]++;
	pthread_mutex_unlock(&s->lock);
}

static void on_smmu_irq(void *ctx, enum smmu_irq irq)
{
	struct script *s = ctx;

	pthread_mutex_lock(&s->lock);
	if ((unsigned)irq < 5)
		s->events[irq]++;
	pthread_mutex_unlock(&s->lock);
}

static void on_smmu_stale(void *ctx, const struct smmu_stale *st)
{
	struct script *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->nstale++;
	snprintf(s->stale_cache, sizeof(s->stale_cache), "%s", st->cache);
	snprintf(s->stale_missing, sizeof(s->stale_missing), "%s", st->missing);
	s->stale_cached = st->cached;
	s->stale_fresh = st->fresh;
	pthread_mutex_unlock(&s->lock);
}

static void on_stale(void *ctx, const struct vtd_stale *st)
{
	struct script *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->nstale++;
	snprintf(s->stale_cache, sizeof(s->stale_cache), "%s", st->cache);
	snprintf(s->stale_missing, sizeof(s->stale_missing), "%s", st->missing);
	s->stale_cached = st->cached;
	s->stale_fresh = st->fresh;
	pthread_mutex_unlock(&s->lock);
}

struct cfg_opt {
	const char *name;
	size_t off;
	bool flag;
};

#define CFG_U(n) { #n, offsetof(struct vtd_config, n), false }
#define CFG_B(n) { #n, offsetof(struct vtd_config, n), true }
static const struct cfg_opt vtd_opts[] = {
	CFG_U(haw), CFG_U(sagaw), CFG_B(fl1gp), CFG_B(fl5lp), CFG_B(sllps_2m),
	CFG_B(sllps_1g), CFG_B(flts), CFG_B(slts), CFG_B(nest), CFG_B(pt), CFG_U(pasid_bits),
	CFG_B(prs), CFG_B(dt), CFG_B(sc), CFG_B(srs), CFG_B(ers), CFG_B(eafs), CFG_B(slads),
	CFG_B(smpwcs), CFG_B(pds), CFG_B(vcs), CFG_B(rps), CFG_B(rprivs), CFG_B(psi),
	CFG_U(mamv), CFG_U(nfr), CFG_U(cc_entries), CFG_U(cc_ways), CFG_U(pc_entries),
	CFG_U(pc_ways), CFG_U(iotlb_entries), CFG_U(iotlb_ways), CFG_U(fspsc_entries),
	CFG_U(sspsc_entries), CFG_U(psc_ways), CFG_B(checker),
};
#undef CFG_U
#undef CFG_B

#define CFG_U(n) { #n, offsetof(struct smmu_config, n), false }
#define CFG_B(n) { #n, offsetof(struct smmu_config, n), true }
static const struct cfg_opt smmu_opts[] = {
	CFG_B(s1p), CFG_B(s2p), CFG_U(ttf), CFG_B(ats), CFG_B(pri), CFG_U(httu), CFG_B(vmid16),
	CFG_B(asid16), CFG_B(cd2l), CFG_U(st_level), CFG_U(stall_model), CFG_B(term_model),
	CFG_B(sev), CFG_B(msi), CFG_U(sidsize), CFG_U(ssidsize), CFG_U(cmdqs), CFG_U(eventqs),
	CFG_U(priqs), CFG_B(ril), CFG_U(oas), CFG_B(gran4k), CFG_B(gran16k), CFG_B(gran64k),
	CFG_U(stall_max), CFG_U(cfg_entries), CFG_U(cfg_ways), CFG_U(tlb_entries),
	CFG_U(tlb_ways), CFG_U(s1wc_entries), CFG_U(s2wc_entries), CFG_U(wc_ways),
	CFG_B(checker),
};
#undef CFG_U
#undef CFG_B

/* One NAME=VALUE (or a bare flag NAME: on) into the config c of a model. */
static int cfg_set(struct script *s, void *c, const struct cfg_opt *opts, size_t nopts,
		   const char *hint, char *word)
{
	char *eq = strchr(word, '=');
	const char *val = eq ? eq + 1 : "on";
	const struct cfg_opt *o = NULL;
	uint64_t n;

	if (eq)
		*eq = 0;
	for (size_t i = 0; i < nopts; i++)
		if (!strcmp(opts[i].name, word))
			o = &opts[i];
	if (!o)
		return bad(s, "unknown unit option '%s' (%s)", word, hint);
	if (o->flag) {
		bool on;

		if (!strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "1"))
			on = true;
		else if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "0"))
			on = false;
		else
			return bad(s, "option %s takes on or off, not '%s'", word, val);
		*(bool *)((char *)c + o->off) = on;
		return OK;
	}
	if (!eq)
		return bad(s, "option %s needs a value (%s=N)", word, word);
	if (num_max(s, val, word, UINT32_MAX, &n))
		return FAIL;
	*(unsigned *)((char *)c + o->off) = (unsigned)n;
	return OK;
}

static int one_model(struct script *s)
{
	if (s->vtd || s->smmu)
		return bad(s, "the script has a unit already (%s; a script drives one model)",
			   s->vtd ? "a VT-d unit" : "an SMMU");
	return OK;
}

static int cmd_vtd(struct script *s, int argc, char **argv)
{
	struct vtd_config c;

	if (argc < 2 || strcmp(argv[1], "new"))
		return bad(s, "usage: vtd new [OPTION=VALUE ...]");
	if (one_model(s))
		return FAIL;
	vtd_config_default(&c);
	for (int i = 2; i < argc; i++)
		if (cfg_set(s, &c, vtd_opts, sizeof(vtd_opts) / sizeof(vtd_opts[0]),
			    "a struct vtd_config field: haw, nfr, iotlb_entries, checker, ...",
			    argv[i]))
			return FAIL;
	s->vtd = vtd_new(&c, s->mem);
	if (!s->vtd)
		return bad(s, "vtd new: %s", errno == EINVAL ?
			   "the unit refuses this configuration (vtd.c config_ok)" : strerror(errno));
	vtd_set_event_cb(s->vtd, on_event, s);
	vtd_set_stale_cb(s->vtd, on_stale, s);
	put(s, "ver", "0x%" PRIx64, vtd_read(s->vtd, VTD_VER, 4));
	put(s, "cap", "0x%016" PRIx64, vtd_read(s->vtd, VTD_CAP, 8));
	put(s, "ecap", "0x%016" PRIx64, vtd_read(s->vtd, VTD_ECAP, 8));
	if (c.checker)
		note(s, "coherence checker on");
	return OK;
}

static int cmd_smmu(struct script *s, int argc, char **argv)
{
	struct smmu_config c;

	if (argc < 2 || strcmp(argv[1], "new"))
		return bad(s, "usage: smmu new [OPTION=VALUE ...]");
	if (one_model(s))
		return FAIL;
	smmu_config_default(&c);
	for (int i = 2; i < argc; i++)
		if (cfg_set(s, &c, smmu_opts, sizeof(smmu_opts) / sizeof(smmu_opts[0]),
			    "a struct smmu_config field: oas, sidsize, ats, pri, tlb_entries, "
			    "checker, ...", argv[i]))
			return FAIL;
	s->smmu = smmu_new(&c, s->mem);
	if (!s->smmu)
		return bad(s, "smmu new: %s", errno == EINVAL ?
			   "the SMMU refuses this configuration (smmuv3.c config_ok)" :
			   strerror(errno));
	smmu_set_irq_cb(s->smmu, on_smmu_irq, s);
	smmu_set_stale_cb(s->smmu, on_smmu_stale, s);
	put(s, "idr0", "0x%08" PRIx64, smmu_read(s->smmu, SMMU_IDR0, 4));
	put(s, "idr1", "0x%08" PRIx64, smmu_read(s->smmu, SMMU_IDR1, 4));
	put(s, "idr3", "0x%08" PRIx64, smmu_read(s->smmu, SMMU_IDR3, 4));
	put(s, "idr5", "0x%08" PRIx64, smmu_read(s->smmu, SMMU_IDR5, 4));
	put(s, "aidr", "0x%" PRIx64, smmu_read(s->smmu, SMMU_AIDR, 4));
	note(s, "SMMUv3.%u, OAS %u bits, SIDSIZE %u, SSIDSIZE %u",
	     (unsigned)FIELD_GET(AIDR_MINOR, smmu_read(s->smmu, SMMU_AIDR, 4)), c.oas, c.sidsize,
	     c.ssidsize);
	if (c.checker)
		note(s, "coherence checker on");
	return OK;
}

/* ---- endpoints -------------------------------------------------------------------------- */

static struct sep *find_ep(struct script *s, uint16_t rid)
{
	for (unsigned i = 0; i < s->neps; i++)
		if (s->eps[i].rid == rid)
			return &s->eps[i];
	return NULL;
}

static int ep_arg(struct script *s, const char *t, struct sep **e)
{
	uint16_t rid;

	if (bdf(s, t, &rid))
		return FAIL;
	*e = find_ep(s, rid);
	if (!*e)
		return bad(s, "no endpoint %s: 'ep new %s' first", t, t);
	return OK;
}

static int cmd_ep(struct script *s, int argc, char **argv)
{
	static const char *const kvs[] = { "pasid", "atc", "atc_ways", "prgs", NULL };
	static const char *const flags[] = { "ats", "pri", "exec", "priv", NULL };
	const char *op = argc > 1 ? argv[1] : "";
	struct sep *e;

	if (need_model(s))
		return FAIL;
	if (!strcmp(op, "new")) {
		struct dev_ep_config c = { 0 };
		uint64_t pasid = 0, atc = 64, ways = 4, prgs = 32;
		struct args a;
		int err;

		if (args_parse(s, argc - 2, argv + 2, kvs, flags, &a) ||
		    positionals(s, &a, 1, "ep new BDF [pasid=BITS] [ats] [atc=N] [atc_ways=N] "
				"[pri] [prgs=N] [exec] [priv]") ||
		    bdf(s, a.pos[0], &c.rid) || arg_num(s, &a, "pasid", 20, &pasid) ||
		    arg_num(s, &a, "atc", UINT32_MAX, &atc) ||
		    arg_num(s, &a, "atc_ways", UINT32_MAX, &ways) ||
		    arg_num(s, &a, "prgs", UINT32_MAX, &prgs))
			return FAIL;
		if (find_ep(s, c.rid))
			return bad(s, "endpoint %s exists already", a.pos[0]);
		if (s->neps == MAX_EPS)
			return bad(s, "at most %d endpoints", MAX_EPS);
		c.pasid_bits = (unsigned)pasid;
		c.exec_perm = has_flag(&a, "exec");
		c.priv_mode = has_flag(&a, "priv");
		c.ats = has_flag(&a, "ats");
		c.atc_entries = c.ats ? (unsigned)atc : 0;
		c.atc_ways = c.ats ? (unsigned)ways : 0;
		c.pri = has_flag(&a, "pri");
		c.pri_outstanding = c.pri ? (unsigned)prgs : 0;
		e = &s->eps[s->neps];
		e->rid = c.rid;
		e->dma = NULL;
		e->ep = dev_ep_new(&c, s->mem);
		if (!e->ep)
			return bad(s, "ep new: %s", errno == EINVAL ?
				   "the endpoint refuses this configuration (dev.h)" :
				   strerror(errno));
		/* On the SMMU the RID is the endpoint's StreamID. */
		err = s->smmu ? smmu_attach(s->smmu, e->ep) : vtd_attach(s->vtd, e->ep);
		if (err) {
			dev_ep_free(e->ep);
			return bad(s, "ep new: cannot attach: %s", s->smmu && err == -EINVAL ?
				   "the StreamID does not fit IDR1.SIDSIZE" : strerror(-err));
		}
		s->neps++;
		put(s, "rid", "0x%04x", c.rid);
		if (s->smmu)
			put(s, "sid", "0x%x", c.rid);
		return OK;
	}
	if (!strcmp(op, "enable") || !strcmp(op, "disable")) {
		bool on = op[0] == 'e';

		if (argc < 4)
			return bad(s, "usage: ep %s BDF pasid|ats|pri...", op);
		if (ep_arg(s, argv[2], &e))
			return FAIL;
		for (int i = 3; i < argc; i++) {
			int err;

			if (!strcmp(argv[i], "pasid"))
				err = dev_ep_enable_pasid(e->ep, on);
			else if (!strcmp(argv[i], "ats"))
				err = dev_ep_enable_ats(e->ep, on);
			else if (!strcmp(argv[i], "pri"))
				err = dev_ep_enable_pri(e->ep, on);
			else
				return bad(s, "ep %s: unknown capability '%s' (pasid ats pri)", op,
					   argv[i]);
			/* The endpoint's answer, not a script error: it lacks the
			 * capability. */
			put(s, argv[i], "%s", err ? "refused" : on ? "on" : "off");
		}
		return OK;
	}
	return bad(s, "unknown ep operation '%s' (new enable disable)", op);
}

/* ---- DMA -------------------------------------------------------------------------------- */

static const char *dma_status_name(enum dev_dma_status st)
{
	switch (st) {
	case DEV_DMA_OK: return "ok";
	case DEV_DMA_FAULT: return "fault";
	case DEV_DMA_PRI_FAILED: return "pri-failed";
	case DEV_DMA_PRI_TIMEOUT: return "pri-timeout";
	case DEV_DMA_MEM_ERROR: return "mem-error";
	case DEV_DMA_STALL_TIMEOUT: return "stall-timeout";
	}
	return "?";
}

static const char *xlate_status_name(enum dev_xlate_status st)
{
	switch (st) {
	case DEV_XLATE_OK: return "ok";
	case DEV_XLATE_FAULT: return "fault";
	case DEV_XLATE_NO_ACCESS: return "no-access";
	case DEV_XLATE_UR: return "ur";
	case DEV_XLATE_STALLED: return "stalled";
	case DEV_XLATE_RAZ_WI: return "raz-wi";
	}
	return "?";
}

/* What the SMMU's event IDs mean (facts §5.2), for notes. */
static const char *smmu_event_text(uint8_t id)
{
	switch (id) {
	case 0x00: return "terminated without an event (STE Config abort, GBPA.ABORT)";
	case EVT_F_UUT: return "unsupported upstream transaction";
	case EVT_C_BAD_STREAMID: return "StreamID beyond the stream table";
	case EVT_F_STE_FETCH: return "external abort fetching the STE";
	case EVT_C_BAD_STE: return "STE invalid or ILLEGAL";
	case EVT_F_BAD_ATS_TREQ: return "ATS translation request refused (STE.EATS)";
	case EVT_F_STREAM_DISABLED: return "no substream and S1DSS terminates";
	case EVT_F_TRANSL_FORBIDDEN: return "translated (ATS) traffic refused";
	case EVT_C_BAD_SUBSTREAMID: return "SubstreamID not allowed by the STE";
	case EVT_F_CD_FETCH: return "external abort fetching the CD";
	case EVT_C_BAD_CD: return "CD invalid or ILLEGAL";
	case EVT_F_WALK_EABT: return "external abort on a table walk";
	case EVT_F_TRANSLATION: return "translation fault";
	case EVT_F_ADDR_SIZE: return "address size fault";
	case EVT_F_ACCESS: return "access flag fault";
	case EVT_F_PERMISSION: return "permission fault";
	}
	return "see facts §5.2";
}

/* The model's fault code: a VT-d fault reason, or an SMMU event ID. */
static void put_reason(struct script *s, uint8_t reason)
{
	put(s, "reason", "0x%02x", reason);
	if (s->smmu)
		note(s, "%s: %s", reason ? smmu_event_name(reason) : "abort",
		     smmu_event_text(reason));
	else
		note(s, "%s: %s", vtd_fault_name(reason), vtd_fault_text(reason));
}

static void put_data(struct script *s, const uint8_t *buf, uint64_t len)
{
	char words[DATA_WORDS * 20] = "";
	uint64_t n = len < 8 * DATA_WORDS ? len : 8 * DATA_WORDS;
	size_t at = 0;

	for (uint64_t i = 0; i < n; i += 8) {
		uint64_t w = 0;

		for (uint64_t b = 0; b < 8 && i + b < n; b++)
			w |= (uint64_t)buf[i + b] << (8 * b);
		at += (size_t)snprintf(words + at, sizeof(words) - at, "%s0x%" PRIx64,
				       at ? " " : "", w);
	}
	if (n)
		put(s, "data", "%s", words);
}

static void dma_fields(struct script *s, const struct dev_dma *d, const struct dev_dma_report *r,
		       int ret, const uint8_t *buf)
{
	if (ret) {
		put(s, "result", "refused");
		note(s, "%s", ret == -ENODEV ? "the endpoint is not attached" :
			 "a request the endpoint cannot make (dev.h: PASID not enabled or too "
			 "wide, exec or priv without the capability or a PASID, exec with write)");
		return;
	}
	put(s, "result", "%s", dma_status_name(r->status));
	if (r->status != DEV_DMA_OK) {
		put(s, "at", "0x%" PRIx64, r->fault_iova);
		if (r->xlate.status != DEV_XLATE_OK) {
			put(s, "answer", "%s", xlate_status_name(r->xlate.status));
			put_reason(s, r->xlate.fault_reason);
		}
	}
	put(s, "bytes", "%" PRIu64, r->done);
	put(s, "translations", "%u", r->translations);
	put(s, "page_requests", "%u", r->page_requests);
	put(s, "atc_hits", "%u", r->atc_hits);
	if (!d->write)
		put_data(s, buf, r->done);
}

static void *dma_thread(void *arg)
{
	struct async_dma *a = arg;

	a->ret = dev_dma(a->ep, &a->d, &a->rep);
	return NULL;
}

static int cmd_dma(struct script *s, int argc, char **argv)
{
	static const char *const kvs[] = { "pasid", "pattern", "word", "timeout", NULL };
	static const char *const flags[] = { "priv", "exec", "pri", "async", NULL };
	const char *usage = "dma read|write BDF IOVA LEN [pasid=N] [priv] [exec] [pri] "
			    "[pattern=BYTE] [word=W] [timeout=MS] [async]";
	uint64_t pasid = 0, pattern = 0, word = 0, timeout, iova, len;
	struct async_dma *a;
	struct args args;
	struct sep *e;
	bool write;

	if (need_model(s))
		return FAIL;
	if (argc < 2 || (strcmp(argv[1], "read") && strcmp(argv[1], "write")))
		return bad(s, "usage: %s", usage);
	write = argv[1][0] == 'w';
	if (args_parse(s, argc - 2, argv + 2, kvs, flags, &args) ||
	    positionals(s, &args, 3, usage) || ep_arg(s, args.pos[0], &e) ||
	    num(s, args.pos[1], "IOVA", &iova) ||
	    num_max(s, args.pos[2], "length", MAX_DMA_LEN, &len) ||
	    arg_num(s, &args, "pasid", 0xfffff, &pasid) ||
	    arg_num(s, &args, "pattern", 0xff, &pattern) ||
	    arg_num(s, &args, "word", UINT64_MAX, &word) || arg_timeout(s, &args, &timeout))
		return FAIL;
	if (!write && (arg_str(&args, "pattern") || arg_str(&args, "word")))
		return bad(s, "pattern= and word= give a write's data");
	if (e->dma)
		return bad(s, "endpoint %s has a DMA running since line %u: 'wait dma %s' first",
			   args.pos[0], e->dma->line, args.pos[0]);
	a = calloc(1, sizeof(*a));
	if (!a || !(a->buf = malloc(len ? len : 1))) {
		free(a);
		return bad(s, "out of memory");
	}
	if (arg_str(&args, "word")) {
		for (uint64_t i = 0; i < len; i++)
			a->buf[i] = (uint8_t)(word >> (8 * (i % 8)));
	} else {
		memset(a->buf, write ? (int)pattern : 0, len ? len : 1);
	}
	a->ep = e->ep;
	a->line = s->line;
	a->d = (struct dev_dma){
		.pasid_valid = arg_str(&args, "pasid") != NULL,
		.pasid = (uint32_t)pasid,
		.priv = has_flag(&args, "priv"),
		.exec = has_flag(&args, "exec"),
		.write = write,
		.iova = iova,
		.buf = a->buf,
		.len = len,
		.use_pri = has_flag(&args, "pri"),
		.retry_wait_ns = timeout * 1000000,
	};
	if (has_flag(&args, "async")) {
		if (pthread_create(&a->thread, NULL, dma_thread, a)) {
			free(a->buf);
			free(a);
			return bad(s, "cannot start a thread for the DMA");
		}
		e->dma = a;
		put(s, "started", "yes");
		note(s, "'wait dma %s' collects the result", args.pos[0]);
		return OK;
	}
	dma_thread(a);
	dma_fields(s, &a->d, &a->rep, a->ret, a->buf);
	free(a->buf);
	free(a);
	return OK;
}

/* ---- direct translation ----------------------------------------------------------------- */

static int cmd_translate(struct script *s, int argc, char **argv)
{
	static const char *const kvs[] = { "pasid", "at", NULL };
	static const char *const flags[] = { "r", "w", "x", "priv", NULL };
	const char *usage = "translate BDF ADDR [pasid=N] [r|w|x] [priv] "
			    "[at=untranslated|request|translated]";
	struct dev_txn t = { .at = DEV_AT_UNTRANSLATED };
	struct dev_xlate x = { 0 };
	const char *at;
	uint64_t pasid = 0;
	struct args a;

	if (need_model(s))
		return FAIL;
	if (args_parse(s, argc - 1, argv + 1, kvs, flags, &a) || positionals(s, &a, 2, usage) ||
	    bdf(s, a.pos[0], &t.rid) || num(s, a.pos[1], "address", &t.addr) ||
	    arg_num(s, &a, "pasid", 0xfffff, &pasid))
		return FAIL;
	if (has_flag(&a, "r") + has_flag(&a, "w") + has_flag(&a, "x") > 1)
		return bad(s, "one access: r, w or x");
	t.write = has_flag(&a, "w");
	t.exec = has_flag(&a, "x");
	t.priv = has_flag(&a, "priv");
	t.pasid_valid = arg_str(&a, "pasid") != NULL;
	t.pasid = (uint32_t)pasid;
	if ((t.exec || t.priv) && !t.pasid_valid)
		return bad(s, "x and priv need pasid= (they travel in the PASID prefix)");
	at = arg_str(&a, "at");
	if (at && !strcmp(at, "request"))
		t.at = DEV_AT_TRANS_REQ;
	else if (at && !strcmp(at, "translated"))
		t.at = DEV_AT_TRANSLATED;
	else if (at && strcmp(at, "untranslated"))
		return bad(s, "at= is untranslated, request or translated, not '%s'", at);
	if (s->smmu)
		smmu_translate(s->smmu, &t, &x);        /* pasid= is the SubstreamID */
	else
		vtd_translate(s->vtd, &t, &x);
	put(s, "result", "%s", xlate_status_name(x.status));
	if (x.status != DEV_XLATE_OK) {
		put_reason(s, x.fault_reason);
		/* The SMMU holds the request until a CMD_RESUME or CMD_STALL_TERM. */
		if (x.status == DEV_XLATE_STALLED)
			put(s, "stag", "0x%x", x.stag);
		return OK;
	}
	put(s, "pa", "0x%" PRIx64, x.pa);
	put(s, "size", "0x%" PRIx64, x.size);
	put(s, "perm", "%c%c%c", x.r ? 'r' : '-', x.w ? 'w' : '-', x.x ? 'x' : '-');
	if (x.priv)
		put(s, "priv", "yes");
	return OK;
}

/* ---- the invalidation queue ------------------------------------------------------------- */

static const char *const iqei_text[8] = {
	"no detail", "invalid tail pointer", "descriptor fetch error", "invalid descriptor type",
	"reserved field set", "invalid descriptor width", "tail not 256-bit aligned",
	"invalid TTM",
};

/* What software does: the descriptor into the slot at IQT, then IQT to the next
 * slot. The unit runs the queue inside the IQT write. */
static int qi_submit(struct script *s, const uint64_t qw[4], unsigned nqw)
{
	uint64_t iqa = vtd_read(s->vtd, VTD_IQA, 8);
	uint64_t iqt = vtd_read(s->vtd, VTD_IQT, 8) & IQ_PTR;
	uint64_t iqh = vtd_read(s->vtd, VTD_IQH, 8) & IQ_PTR;
	uint64_t qbytes = UINT64_C(4096) << FIELD_GET(IQA_QS, iqa);
	unsigned dsize = (iqa & IQA_DW) ? 32 : 16;
	uint64_t slot = (iqa & IQA_IQA) + iqt, next = (iqt + dsize) % qbytes;
	uint32_t fsts;
	int err;

	if (nqw > dsize / 8)
		return bad(s, "a %u-bit queue (IQA.DW = %d) takes %u words", dsize * 8,
			   dsize == 32, dsize / 8);
	if (next == iqh)
		return bad(s, "the invalidation queue is full (IQH 0x%" PRIx64 ", IQT 0x%" PRIx64
			   "): the unit is not consuming it", iqh, iqt);
	for (unsigned i = 0; i < dsize / 8; i++) {
		err = mem_store64(s->mem, slot + 8 * i, i < nqw ? qw[i] : 0);
		if (err)
			return mem_err(s, err, "invalidation queue slot", slot + 8 * i);
	}
	vtd_write(s->vtd, VTD_IQT, 8, next);
	fsts = (uint32_t)vtd_read(s->vtd, VTD_FSTS, 4);
	put(s, "type", "0x%x", (unsigned)(FIELD_GET(QI_TYPE_LO, qw[0]) |
					   FIELD_GET(QI_TYPE_HI, qw[0]) << 4));
	put(s, "slot", "0x%" PRIx64, slot);
	put(s, "iqh", "0x%" PRIx64, vtd_read(s->vtd, VTD_IQH, 8));
	put(s, "iqt", "0x%" PRIx64, vtd_read(s->vtd, VTD_IQT, 8));
	note(s, "qw0 0x%" PRIx64 " qw1 0x%" PRIx64, qw[0], qw[1]);
	if (fsts & FSTS_IQE) {
		unsigned iqei = (unsigned)FIELD_GET(IQERCD_IQEI, vtd_read(s->vtd, VTD_IQERCD, 8));

		put(s, "iqe", "1");
		put(s, "iqei", "%u", iqei);
		note(s, "queue stopped: %s", iqei_text[iqei & 7]);
	}
	return OK;
}

/* The granularity word of a friendly form among names (index = G value, NULL holes). */
static int gran(struct script *s, const struct args *a, const char *const names[4],
		const char *form, unsigned *g)
{
	if (!a->npos)
		return bad(s, "qi %s needs a granularity", form);
	for (unsigned i = 0; i < 4; i++) {
		if (names[i] && !strcmp(names[i], a->pos[0])) {
			*g = i;
			return OK;
		}
	}
	return bad(s, "qi %s: unknown granularity '%s'", form, a->pos[0]);
}

/* Each form takes only the options and flags its descriptor has fields for. */
static int form_takes(struct script *s, const struct args *a, const char *cmd, const char *form,
		      const char *const *kvs, const char *const *flags)
{
	for (unsigned k = 0; k < a->nkv; k++)
		if (!in_list(kvs, a->key[k]))
			return bad(s, "%s %s does not take %s=", cmd, form, a->key[k]);
	for (unsigned k = 0; k < a->nflag; k++)
		if (!in_list(flags, a->flag[k]))
			return bad(s, "%s %s does not take the flag %s", cmd, form, a->flag[k]);
	return OK;
}

static int sid_opt(struct script *s, const struct args *a, const char *key, bool need,
		   uint16_t *sid)
{
	const char *t = arg_str(a, key);

	*sid = 0;
	if (!t)
		return need ? bad(s, "option %s= is required here", key) : OK;
	return bdf(s, t, sid);
}

static const struct {
	const char *name;
	const char *const *kvs, *const *flags;
} qi_forms[] = {
	{ "cc", (const char *const[]){ "did", "sid", "fm", NULL }, NULL },
	{ "iotlb", (const char *const[]){ "did", "addr", "am", NULL },
	  (const char *const[]){ "ih", "dw", "dr", NULL } },
	{ "dev-tlb", (const char *const[]){ "sid", "addr", "pfsid", "mip", NULL },
	  (const char *const[]){ "s", NULL } },
	{ "wait", (const char *const[]){ "status", "data", NULL },
	  (const char *const[]){ "if", "fn", "pd", NULL } },
	{ "pasid-iotlb", (const char *const[]){ "did", "pasid", "addr", "am", NULL },
	  (const char *const[]){ "ih", NULL } },
	{ "pasid-cache", (const char *const[]){ "did", "pasid", NULL }, NULL },
	{ "pasid-dev-tlb", (const char *const[]){ "sid", "pasid", "addr", "pfsid", "mip", NULL },
	  (const char *const[]){ "s", "g", NULL } },
	{ "page-response", (const char *const[]){ "rid", "pasid", "prgi", "rc", NULL },
	  (const char *const[]){ "lpig", NULL } },
};

static int cmd_qi(struct script *s, int argc, char **argv)
{
	static const char *const kvs[] = { "did", "sid", "fm", "addr", "am", "pasid", "status",
					   "data", "pfsid", "mip", "rid", "prgi", "rc", NULL };
	static const char *const flags[] = { "ih", "dw", "dr", "s", "g", "if", "fn", "pd",
					     "lpig", NULL };
	static const char *const cc_g[4] = { NULL, "global", "domain", "device" };
	static const char *const iotlb_g[4] = { NULL, "global", "domain", "page" };
	static const char *const piotlb_g[4] = { NULL, NULL, "pasid", "page" };
	static const char *const pc_g[4] = { "domain", "pasid", NULL, "global" };
	const char *form = argc > 1 ? argv[1] : "";
	uint64_t qw[4] = { 0 }, did = 0, addr = 0, am = 0, pasid = 0, fm = 0, mip = 0;
	uint16_t sid, pfsid;
	unsigned g = 0, npos = 0;
	struct args a;
	size_t f;

	if (need_vtd(s, "qi"))
		return FAIL;
	if (!strcmp(form, "submit")) {
		if (argc != 4 && argc != 6)
			return bad(s, "usage: qi submit QW0 QW1 [QW2 QW3]");
		for (int i = 2; i < argc; i++)
			if (num(s, argv[i], "descriptor word", &qw[i - 2]))
				return FAIL;
		return qi_submit(s, qw, (unsigned)argc - 2);
	}
	for (f = 0; f < sizeof(qi_forms) / sizeof(qi_forms[0]); f++)
		if (!strcmp(form, qi_forms[f].name))
			break;
	if (f == sizeof(qi_forms) / sizeof(qi_forms[0]))
		return bad(s, "unknown qi form '%s' (submit cc iotlb dev-tlb wait pasid-iotlb "
			   "pasid-cache pasid-dev-tlb page-response)", form);
	if (args_parse(s, argc - 2, argv + 2, kvs, flags, &a) ||
	    form_takes(s, &a, "qi", form, qi_forms[f].kvs, qi_forms[f].flags) ||
	    arg_num(s, &a, "did", 0xffff, &did) || arg_num(s, &a, "addr", UINT64_MAX, &addr) ||
	    arg_num(s, &a, "am", 63, &am) || arg_num(s, &a, "pasid", 0xfffff, &pasid) ||
	    arg_num(s, &a, "fm", 3, &fm) || arg_num(s, &a, "mip", 31, &mip) ||
	    sid_opt(s, &a, "pfsid", false, &pfsid))
		return FAIL;
	if (!strcmp(form, "cc")) {
		if (gran(s, &a, cc_g, form, &g) || sid_opt(s, &a, "sid", g == 3, &sid))
			return FAIL;
		qw[0] = QI_CC | FIELD_PREP(QI_G, g) | FIELD_PREP(QI_DID, did) |
			FIELD_PREP(QI_CC_SID, sid) | FIELD_PREP(QI_CC_FM, fm);
		npos = 1;
	} else if (!strcmp(form, "iotlb")) {
		if (gran(s, &a, iotlb_g, form, &g) || (g == 2 && arg_need(s, &a, "did", 0xffff, &did)))
			return FAIL;
		if (g == 3 && (arg_need(s, &a, "did", 0xffff, &did) ||
			       arg_need(s, &a, "addr", UINT64_MAX, &addr)))
			return FAIL;
		qw[0] = QI_IOTLB | FIELD_PREP(QI_G, g) | FIELD_PREP(QI_DID, did) |
			(has_flag(&a, "dw") ? QI_IOTLB_DW : 0) | (has_flag(&a, "dr") ? QI_IOTLB_DR : 0);
		qw[1] = (addr & QI_ADDR) | (has_flag(&a, "ih") ? QI_ADDR_IH : 0) |
			FIELD_PREP(QI_ADDR_AM, am);
		npos = 1;
	} else if (!strcmp(form, "dev-tlb")) {
		if (sid_opt(s, &a, "sid", true, &sid) || arg_need(s, &a, "addr", UINT64_MAX, &addr))
			return FAIL;
		qw[0] = QI_DEV_TLB | FIELD_PREP(QI_DT_PFSID_LO, pfsid & 0xf) |
			FIELD_PREP(QI_DT_MIP, mip) | FIELD_PREP(QI_DT_SID, sid) |
			FIELD_PREP(QI_DT_PFSID_HI, pfsid >> 4);
		qw[1] = (addr & QI_ADDR) | (has_flag(&a, "s") ? QI_DT_S : 0);
	} else if (!strcmp(form, "wait")) {
		uint64_t status = 0, data = 0;

		if (arg_num(s, &a, "status", UINT64_MAX, &status) ||
		    arg_num(s, &a, "data", UINT32_MAX, &data))
			return FAIL;
		if (!arg_str(&a, "status") != !arg_str(&a, "data"))
			return bad(s, "status= and data= go together (the status write)");
		if (status & 3)
			return bad(s, "status=0x%" PRIx64 " is not 4-byte aligned", status);
		qw[0] = QI_WAIT | (arg_str(&a, "status") ? QI_WAIT_SW : 0) |
			(has_flag(&a, "if") ? QI_WAIT_IF : 0) | (has_flag(&a, "fn") ? QI_WAIT_FN : 0) |
			(has_flag(&a, "pd") ? QI_WAIT_PD : 0) | FIELD_PREP(QI_WAIT_SDATA, data);
		qw[1] = status & QI_WAIT_SADDR;
	} else if (!strcmp(form, "pasid-iotlb")) {
		if (gran(s, &a, piotlb_g, form, &g) || arg_need(s, &a, "did", 0xffff, &did) ||
		    arg_need(s, &a, "pasid", 0xfffff, &pasid) ||
		    (g == 3 && arg_need(s, &a, "addr", UINT64_MAX, &addr)))
			return FAIL;
		qw[0] = QI_PIOTLB | FIELD_PREP(QI_G, g) | FIELD_PREP(QI_DID, did) |
			FIELD_PREP(QI_PASID, pasid);
		qw[1] = (addr & QI_ADDR) | (has_flag(&a, "ih") ? QI_ADDR_IH : 0) |
			FIELD_PREP(QI_ADDR_AM, am);
		npos = 1;
	} else if (!strcmp(form, "pasid-cache")) {
		if (gran(s, &a, pc_g, form, &g) ||
		    (g != 3 && arg_need(s, &a, "did", 0xffff, &did)) ||
		    (g == 1 && arg_need(s, &a, "pasid", 0xfffff, &pasid)))
			return FAIL;
		qw[0] = QI_PC | FIELD_PREP(QI_G, g) | FIELD_PREP(QI_DID, did) |
			FIELD_PREP(QI_PASID, pasid);
		npos = 1;
	} else if (!strcmp(form, "pasid-dev-tlb")) {
		if (sid_opt(s, &a, "sid", true, &sid) || arg_need(s, &a, "pasid", 0xfffff, &pasid) ||
		    arg_need(s, &a, "addr", UINT64_MAX, &addr))
			return FAIL;
		qw[0] = QI_PDEV_TLB | FIELD_PREP(QI_PDT_MIP, mip) |
			FIELD_PREP(QI_DT_PFSID_LO, pfsid & 0xf) | FIELD_PREP(QI_PDT_SID, sid) |
			FIELD_PREP(QI_PASID, pasid) | FIELD_PREP(QI_DT_PFSID_HI, pfsid >> 4);
		qw[1] = (addr & QI_ADDR) | (has_flag(&a, "s") ? QI_PDT_S : 0) |
			(has_flag(&a, "g") ? QI_PDT_G : 0);
	} else {                                /* page-response */
		const char *rc = arg_str(&a, "rc");
		uint64_t prgi = 0, code = DEV_PRG_SUCCESS;

		if (sid_opt(s, &a, "rid", true, &sid) || arg_need(s, &a, "prgi", 0x1ff, &prgi))
			return FAIL;
		if (rc && !strcmp(rc, "success"))
			code = DEV_PRG_SUCCESS;
		else if (rc && !strcmp(rc, "invalid"))
			code = DEV_PRG_INVALID;
		else if (rc && !strcmp(rc, "failure"))
			code = DEV_PRG_FAILURE;
		else if (rc && num_max(s, rc, "rc=", 0xf, &code))
			return FAIL;
		qw[0] = QI_PGRP_RESP | (arg_str(&a, "pasid") ? QI_PGR_PP : 0) |
			FIELD_PREP(QI_PGR_RC, code) | FIELD_PREP(QI_PGR_RID, sid) |
			FIELD_PREP(QI_PASID, pasid);
		qw[1] = (has_flag(&a, "lpig") ? QI_PGR_LPIG : 0) | FIELD_PREP(QI_PGR_PRGI, prgi);
	}
	if (a.npos > npos)
		return bad(s, "qi %s: unexpected word '%s'", form, a.pos[npos]);
	return qi_submit(s, qw, 2);
}

/* ---- the SMMU's command queue ------------------------------------------------------------ */

/* The queue's state after a command, as a driver would read it. */
static void cmdq_fields(struct script *s)
{
	uint32_t cons = (uint32_t)smmu_read(s->smmu, SMMU_CMDQ_CONS, 4);
	char desc[200];

	put(s, "prod", "0x%x", (unsigned)smmu_read(s->smmu, SMMU_CMDQ_PROD, 4));
	put(s, "cons", "0x%x", cons);
	/* CONS.ERR means something only while GERROR.CMDQ_ERR is active. */
	if (cmdq_stopped(s)) {
		put(s, "err", "%s", cmdq_err_name((unsigned)FIELD_GET(CMDQ_CONS_ERR, cons)));
		smmu_describe(s, SMMU_CMDQ_CONS, 4, cons, desc, sizeof(desc));
		note(s, "queue stopped (GERROR.CMDQ_ERR) at CONS %s", desc);
	} else {
		put(s, "err", "none");
	}
}

/* What software does (facts §1.12, §4.1): the 16-byte command into the slot at
 * CMDQ_PROD's index, then PROD advanced by one (the wrap flag toggling past the
 * last slot). The SMMU consumes commands within the PROD write. */
static int cmdq_submit(struct script *s, const char *name, uint64_t dw0, uint64_t dw1)
{
	struct squeue q;
	uint32_t prod, cons;
	uint64_t slot;
	int err;

	smmu_queue(s, Q_CMD, &q);
	prod = (uint32_t)smmu_read(s->smmu, SMMU_CMDQ_PROD, 4) & q.mask;
	cons = (uint32_t)smmu_read(s->smmu, SMMU_CMDQ_CONS, 4) & q.mask;
	if ((prod ^ cons) == q.wrap)
		return bad(s, "the command queue is full (PROD 0x%x, CONS 0x%x): %s", prod, cons,
			   cmdq_stopped(s) ? "it stopped on an error (GERROR.CMDQ_ERR)" :
			   "the SMMU is not consuming it (CMDQEN?)");
	slot = q_slot(&q, prod);
	err = mem_store64(s->mem, slot, dw0);
	if (!err)
		err = mem_store64(s->mem, slot + 8, dw1);
	if (err)
		return mem_err(s, err, "command queue slot", slot);
	smmu_write(s->smmu, SMMU_CMDQ_PROD, 4, (prod + 1) & q.mask);
	put(s, "op", "0x%02x", (unsigned)FIELD_GET(CMD0_OP, dw0));
	put(s, "slot", "0x%" PRIx64, slot);
	note(s, "%s dw0 0x%" PRIx64 " dw1 0x%" PRIx64, name, dw0, dw1);
	cmdq_fields(s);
	return OK;
}

#define WORDS(...) ((const char *const[]){ __VA_ARGS__, NULL })
static const struct {
	const char *name;
	uint8_t op;
	const char *const *kvs, *const *flags, *const *need;
} cmd_forms[] = {
	{ "prefetch-config", CMD_PREFETCH_CONFIG, WORDS("sid", "ssid"), NULL, WORDS("sid") },
	{ "cfgi-ste", CMD_CFGI_STE, WORDS("sid"), WORDS("leaf"), WORDS("sid") },
	{ "cfgi-ste-range", CMD_CFGI_STE_RANGE, WORDS("sid", "range"), NULL,
	  WORDS("sid", "range") },
	{ "cfgi-cd", CMD_CFGI_CD, WORDS("sid", "ssid"), WORDS("leaf"), WORDS("sid", "ssid") },
	{ "cfgi-cd-all", CMD_CFGI_CD_ALL, WORDS("sid"), NULL, WORDS("sid") },
	{ "cfgi-all", CMD_CFGI_STE_RANGE, NULL, NULL, NULL },
	{ "tlbi-nh-all", CMD_TLBI_NH_ALL, WORDS("vmid"), NULL, WORDS("vmid") },
	{ "tlbi-nh-asid", CMD_TLBI_NH_ASID, WORDS("vmid", "asid"), NULL, WORDS("vmid", "asid") },
	{ "tlbi-nh-va", CMD_TLBI_NH_VA,
	  WORDS("vmid", "asid", "addr", "num", "scale", "tg", "ttl"), WORDS("leaf"),
	  WORDS("vmid", "asid", "addr") },
	{ "tlbi-nh-vaa", CMD_TLBI_NH_VAA, WORDS("vmid", "addr", "num", "scale", "tg", "ttl"),
	  WORDS("leaf"), WORDS("vmid", "addr") },
	{ "tlbi-s12-vmall", CMD_TLBI_S12_VMALL, WORDS("vmid"), NULL, WORDS("vmid") },
	{ "tlbi-s2-ipa", CMD_TLBI_S2_IPA, WORDS("vmid", "addr", "num", "scale", "tg", "ttl"),
	  WORDS("leaf"), WORDS("vmid", "addr") },
	{ "tlbi-nsnh-all", CMD_TLBI_NSNH_ALL, NULL, NULL, NULL },
	{ "atc-inv", CMD_ATC_INV, WORDS("sid", "ssid", "addr", "size"), WORDS("global"),
	  WORDS("sid", "addr", "size") },
	{ "pri-resp", CMD_PRI_RESP, WORDS("sid", "ssid", "grpid", "resp"), NULL,
	  WORDS("sid", "grpid", "resp") },
	{ "resume", CMD_RESUME, WORDS("sid", "stag"), WORDS("retry", "abort"),
	  WORDS("sid", "stag") },
	{ "stall-term", CMD_STALL_TERM, WORDS("sid"), NULL, WORDS("sid") },
	{ "sync", CMD_SYNC, WORDS("msi", "data"), WORDS("sev", "irq"), NULL },
};
#undef WORDS

/* sid=: a StreamID as a number, or as the BDF whose RID it is. */
static int sid_arg(struct script *s, const struct args *a, uint64_t *sid)
{
	const char *t = arg_str(a, "sid");
	uint16_t rid;

	if (t && parse_bdf(t, &rid)) {
		*sid = rid;
		return OK;
	}
	return arg_num(s, a, "sid", UINT32_MAX, sid);
}

static int cmd_cmd(struct script *s, int argc, char **argv)
{
	static const char *const kvs[] = { "sid", "ssid", "vmid", "asid", "addr", "num", "scale",
					   "tg", "ttl", "range", "size", "grpid", "resp", "stag",
					   "msi", "data", NULL };
	static const char *const flags[] = { "leaf", "global", "retry", "abort", "sev", "irq",
					     NULL };
	const char *form = argc > 1 ? argv[1] : "";
	uint64_t sid = 0, ssid = 0, vmid = 0, asid = 0, addr = 0, rnum = 0, scale = 0, tg = 0;
	uint64_t ttl = 0, range = 0, size = 0, grpid = 0, resp = 0, stag = 0, msi = 0, data = 0;
	uint64_t dw0, dw1 = 0, ssv;
	const char *rs;
	struct args a;
	size_t f;

	if (need_smmu(s, "cmd"))
		return FAIL;
	if (!strcmp(form, "submit")) {
		if (argc != 4)
			return bad(s, "usage: cmd submit DW0 DW1");
		if (num(s, argv[2], "command word", &dw0) || num(s, argv[3], "command word", &dw1))
			return FAIL;
		return cmdq_submit(s, "command", dw0, dw1);
	}
	for (f = 0; f < sizeof(cmd_forms) / sizeof(cmd_forms[0]); f++)
		if (!strcmp(form, cmd_forms[f].name))
			break;
	if (f == sizeof(cmd_forms) / sizeof(cmd_forms[0]))
		return bad(s, "unknown command '%s' (submit prefetch-config cfgi-ste "
			   "cfgi-ste-range cfgi-cd cfgi-cd-all cfgi-all tlbi-nh-all tlbi-nh-asid "
			   "tlbi-nh-va tlbi-nh-vaa tlbi-s12-vmall tlbi-s2-ipa tlbi-nsnh-all "
			   "atc-inv pri-resp resume stall-term sync)", form);
	if (args_parse(s, argc - 2, argv + 2, kvs, flags, &a) ||
	    form_takes(s, &a, "cmd", form, cmd_forms[f].kvs, cmd_forms[f].flags))
		return FAIL;
	if (a.npos)
		return bad(s, "cmd %s: unexpected word '%s'", form, a.pos[0]);
	for (const char *const *k = cmd_forms[f].need; k && *k; k++)
		if (!arg_str(&a, *k))
			return bad(s, "option %s= is required here", *k);
	/* Field widths as facts §4.2 gives them. */
	if (sid_arg(s, &a, &sid) || arg_num(s, &a, "ssid", 0xfffff, &ssid) ||
	    arg_num(s, &a, "vmid", 0xffff, &vmid) || arg_num(s, &a, "asid", 0xffff, &asid) ||
	    arg_num(s, &a, "addr", UINT64_MAX, &addr) || arg_num(s, &a, "num", 31, &rnum) ||
	    arg_num(s, &a, "scale", 31, &scale) || arg_num(s, &a, "tg", 3, &tg) ||
	    arg_num(s, &a, "ttl", 3, &ttl) || arg_num(s, &a, "range", 31, &range) ||
	    arg_num(s, &a, "size", 63, &size) || arg_num(s, &a, "grpid", 0x1ff, &grpid) ||
	    arg_num(s, &a, "stag", 0xffff, &stag) || arg_num(s, &a, "msi", UINT64_MAX, &msi) ||
	    arg_num(s, &a, "data", UINT32_MAX, &data))
		return FAIL;
	ssv = arg_str(&a, "ssid") ? CMD0_SSV | FIELD_PREP(CMD0_SSID, ssid) : 0;
	dw0 = FIELD_PREP(CMD0_OP, cmd_forms[f].op);
	switch (cmd_forms[f].op) {
	case CMD_PREFETCH_CONFIG:
		dw0 |= FIELD_PREP(CMD0_SID, sid) | ssv;
		break;
	case CMD_CFGI_STE:
		dw0 |= FIELD_PREP(CMD0_SID, sid);
		dw1 = has_flag(&a, "leaf") ? CMD1_LEAF : 0;
		break;
	case CMD_CFGI_STE_RANGE:
		/* CFGI_ALL is CFGI_STE_RANGE with Range 31 (SID ignored). */
		dw0 |= FIELD_PREP(CMD0_SID, sid);
		dw1 = FIELD_PREP(CMD1_RANGE, strcmp(form, "cfgi-all") ? range : 31);
		break;
	case CMD_CFGI_CD:
		/* SubstreamID without SSV: the CD table index. */
		dw0 |= FIELD_PREP(CMD0_SID, sid) | FIELD_PREP(CMD0_SSID, ssid);
		dw1 = has_flag(&a, "leaf") ? CMD1_LEAF : 0;
		break;
	case CMD_CFGI_CD_ALL:
	case CMD_STALL_TERM:
		dw0 |= FIELD_PREP(CMD0_SID, sid);
		break;
	case CMD_TLBI_NH_ALL:
	case CMD_TLBI_S12_VMALL:
		dw0 |= FIELD_PREP(CMD0_VMID, vmid);
		break;
	case CMD_TLBI_NH_ASID:
		dw0 |= FIELD_PREP(CMD0_VMID, vmid) | FIELD_PREP(CMD0_ASID, asid);
		break;
	case CMD_TLBI_NH_VA:
	case CMD_TLBI_NH_VAA:
	case CMD_TLBI_S2_IPA:
		dw0 |= FIELD_PREP(CMD0_NUM, rnum) | FIELD_PREP(CMD0_SCALE, scale) |
		       FIELD_PREP(CMD0_VMID, vmid);
		if (cmd_forms[f].op == CMD_TLBI_NH_VA)
			dw0 |= FIELD_PREP(CMD0_ASID, asid);
		dw1 = (has_flag(&a, "leaf") ? CMD1_LEAF : 0) | FIELD_PREP(CMD1_TTL, ttl) |
		      FIELD_PREP(CMD1_TG, tg) |
		      (addr & (cmd_forms[f].op == CMD_TLBI_S2_IPA ? CMD1_IPA : CMD1_VA));
		break;
	case CMD_ATC_INV:
		dw0 |= FIELD_PREP(CMD0_SID, sid) | ssv | (has_flag(&a, "global") ? CMD0_GLOBAL : 0);
		dw1 = FIELD_PREP(CMD1_ATC_SIZE, size) | (addr & CMD1_ATC_ADDR);
		if (size >= 52)
			note(s, "span: everything");
		else
			note(s, "span 0x%" PRIx64 " bytes at 0x%" PRIx64, UINT64_C(4096) << size,
			     addr & CMD1_ATC_ADDR & ~((UINT64_C(4096) << size) - 1));
		break;
	case CMD_PRI_RESP:
		/* Resp (4.5.2): 0 ResponseFailure, 1 InvalidRequest, 2 Success. */
		rs = arg_str(&a, "resp");
		if (!strcmp(rs, "failure"))
			resp = PRI_RESP_DENY;
		else if (!strcmp(rs, "invalid"))
			resp = PRI_RESP_FAIL;
		else if (!strcmp(rs, "success"))
			resp = PRI_RESP_SUCC;
		else if (num_max(s, rs, "resp=", 3, &resp))
			return FAIL;
		dw0 |= FIELD_PREP(CMD0_SID, sid) | ssv;
		dw1 = FIELD_PREP(CMD1_PRGI, grpid) | FIELD_PREP(CMD1_RESP, resp);
		break;
	case CMD_RESUME:
		/* Ac (retry) or Ab (terminate with abort); neither: terminate RAZ/WI. */
		if (has_flag(&a, "retry") && has_flag(&a, "abort"))
			return bad(s, "cmd resume: retry or abort, not both");
		dw0 |= FIELD_PREP(CMD0_SID, sid) | (has_flag(&a, "retry") ? CMD0_RESUME_AC : 0) |
		       (has_flag(&a, "abort") ? CMD0_RESUME_AB : 0);
		dw1 = FIELD_PREP(CMD1_STAG, stag);
		break;
	case CMD_SYNC:
		if (!arg_str(&a, "msi") != !arg_str(&a, "data"))
			return bad(s, "msi= and data= go together (the MSI write)");
		if (msi & 3)
			return bad(s, "msi=0x%" PRIx64 " is not 4-byte aligned", msi);
		if (has_flag(&a, "sev") && (arg_str(&a, "msi") || has_flag(&a, "irq")))
			return bad(s, "cmd sync signals one way: msi=/irq or sev");
		if (arg_str(&a, "msi")) {
			/* CS = SIG_IRQ with Linux's attributes: MSH ISH, MSIAttr
			 * Normal Inner/Outer Write-Back. */
			dw0 |= FIELD_PREP(CMD0_CS, CS_IRQ) | FIELD_PREP(CMD0_MSH, 3) |
			       FIELD_PREP(CMD0_MSIATTR, 0xf) | FIELD_PREP(CMD0_MSIDATA, data);
			dw1 = msi & CMD1_MSIADDR;
		} else if (has_flag(&a, "irq")) {
			dw0 |= FIELD_PREP(CMD0_CS, CS_IRQ);
		} else if (has_flag(&a, "sev")) {
			dw0 |= FIELD_PREP(CMD0_CS, CS_SEV);
		}
		break;
	}
	return cmdq_submit(s, form, dw0, dw1);
}

/* ---- waiting ---------------------------------------------------------------------------- */

static int wait_qi(struct script *s, uint64_t timeout)
{
	uint64_t end = now_ms() + timeout, iqh, iqt;
	uint32_t fsts;

	for (;;) {
		iqh = vtd_read(s->vtd, VTD_IQH, 8);
		iqt = vtd_read(s->vtd, VTD_IQT, 8);
		fsts = (uint32_t)vtd_read(s->vtd, VTD_FSTS, 4);
		if (iqh == iqt || (fsts & (FSTS_IQE | FSTS_ITE)))
			break;
		if (now_ms() > end)
			return bad(s, "wait qi: IQH 0x%" PRIx64 " did not reach IQT 0x%" PRIx64
				   " within %" PRIu64 " ms", iqh, iqt, timeout);
		nap();
	}
	put(s, "iqh", "0x%" PRIx64, iqh);
	put(s, "iqt", "0x%" PRIx64, iqt);
	put(s, "fsts", "0x%x", fsts);
	if (fsts & FSTS_IQE)
		note(s, "queue stopped by IQE");
	if (fsts & FSTS_ITE)
		note(s, "queue stopped by ITE");
	return OK;
}

static int wait_mem32(struct script *s, const struct args *a, uint64_t timeout)
{
	uint64_t end = now_ms() + timeout, addr, want;
	uint32_t v;
	int err;

	if (num(s, a->pos[1], "address", &addr) || num_max(s, a->pos[2], "value", UINT32_MAX, &want))
		return FAIL;
	for (;;) {
		err = load32(s->mem, addr, &v);
		if (err)
			return mem_err(s, err, "wait mem32", addr);
		if (v == want)
			break;
		if (now_ms() > end)
			return bad(s, "wait mem32: 0x%" PRIx64 " holds 0x%x, not 0x%" PRIx64
				   " after %" PRIu64 " ms", addr, v, want, timeout);
		nap();
	}
	put(s, "value", "0x%x", v);
	return OK;
}

/* A page request at PQH, decoded as software reads it (facts §5): the queue is
 * consumed by writing PQH, which this does not do. */
static int wait_prq(struct script *s, uint64_t timeout)
{
	uint64_t end = now_ms() + timeout, pqh, pqt, pqa, qw0, qw1;
	char rid[8];
	int err;

	for (;;) {
		pqh = vtd_read(s->vtd, VTD_PQH, 8);
		pqt = vtd_read(s->vtd, VTD_PQT, 8);
		if (pqh != pqt)
			break;
		if (now_ms() > end)
			return bad(s, "wait prq: no page request at PQH 0x%" PRIx64 " within %" PRIu64
				   " ms", pqh, timeout);
		nap();
	}
	pqa = vtd_read(s->vtd, VTD_PQA, 8) & PQA_PQA;
	err = mem_load64(s->mem, pqa + pqh, &qw0);
	if (!err)
		err = mem_load64(s->mem, pqa + pqh + 8, &qw1);
	if (err)
		return mem_err(s, err, "page request queue", pqa + pqh);
	bdf_string((uint16_t)FIELD_GET(PRQ_RID, qw0), rid);
	put(s, "rid", "%s", rid);
	if (qw0 & PRQ_PP)
		put(s, "pasid", "0x%x", (unsigned)FIELD_GET(PRQ_PASID, qw0));
	else
		put(s, "pasid", "none");
	put(s, "addr", "0x%" PRIx64, qw1 & PRQ_ADDR);
	put(s, "r", "%d", !!(qw1 & PRQ_R));
	put(s, "w", "%d", !!(qw1 & PRQ_W));
	put(s, "lpig", "%d", !!(qw1 & PRQ_LPIG));
	put(s, "prgi", "%u", (unsigned)FIELD_GET(PRQ_PRGI, qw1));
	put(s, "priv", "%d", !!(qw0 & PRQ_PRIV));
	put(s, "exe", "%d", !!(qw0 & PRQ_EXE));
	put(s, "pqh", "0x%" PRIx64, pqh);
	put(s, "pqt", "0x%" PRIx64, pqt);
	note(s, "qw0 0x%" PRIx64 " qw1 0x%" PRIx64, qw0, qw1);
	return OK;
}

static int wait_dma(struct script *s, struct sep *e)
{
	struct async_dma *a = e->dma;
	char rid[8];

	bdf_string(e->rid, rid);
	if (!a)
		return bad(s, "no DMA of %s is running (start one with async)", rid);
	pthread_join(a->thread, NULL);
	e->dma = NULL;
	dma_fields(s, &a->d, &a->rep, a->ret, a->buf);
	note(s, "the DMA of line %u", a->line);
	free(a->buf);
	free(a);
	return OK;
}

/* Until CMDQ_CONS reaches PROD (index and wrap), or an error stops the queue. */
static int wait_cmdq(struct script *s, uint64_t timeout)
{
	uint64_t end = now_ms() + timeout;
	uint32_t prod, cons;
	struct squeue q;

	smmu_queue(s, Q_CMD, &q);
	for (;;) {
		prod = (uint32_t)smmu_read(s->smmu, SMMU_CMDQ_PROD, 4);
		cons = (uint32_t)smmu_read(s->smmu, SMMU_CMDQ_CONS, 4);
		if (!((prod ^ cons) & q.mask) || cmdq_stopped(s))
			break;
		if (now_ms() > end)
			return bad(s, "wait cmdq: CONS 0x%x did not reach PROD 0x%x within %" PRIu64
				   " ms (CMDQEN?)", cons, prod, timeout);
		nap();
	}
	cmdq_fields(s);
	return OK;
}

/* Until the queue's PROD differs from its CONS (index and wrap): an entry at
 * CONS, whose words go to w. The driver consumes it by writing CONS itself. */
static int wait_entry(struct script *s, int which, uint64_t timeout, uint64_t *w, unsigned n)
{
	uint64_t end = now_ms() + timeout, slot;
	uint32_t prod, cons;
	struct squeue q;
	char desc[200];

	smmu_queue(s, which, &q);
	for (;;) {
		prod = (uint32_t)smmu_read(s->smmu, q.prod_off, 4);
		cons = (uint32_t)smmu_read(s->smmu, q.cons_off, 4);
		if ((prod ^ cons) & q.mask)
			break;
		if (now_ms() > end)
			return bad(s, "wait %s: no entry in the %s queue at CONS 0x%x within "
				   "%" PRIu64 " ms", which == Q_EVT ? "evtq" : "priq", q.name, cons,
				   timeout);
		nap();
	}
	slot = q_slot(&q, cons);
	for (unsigned i = 0; i < n; i++) {
		int err = mem_load64(s->mem, slot + 8 * i, &w[i]);

		if (err)
			return mem_err(s, err, "queue entry", slot + 8 * i);
	}
	put(s, "slot", "0x%" PRIx64, slot);
	put(s, "prod", "0x%x", prod);
	put(s, "cons", "0x%x", cons);
	smmu_describe(s, q.prod_off, 4, prod, desc, sizeof(desc));
	note(s, "PROD %s", desc);
	return OK;
}

/* An event record at EVENTQ_CONS, decoded field by field as facts §5.1 lays it
 * out (fields an event does not define read as the record holds them: 0). */
static int wait_evtq(struct script *s, uint64_t timeout)
{
	static const char *const classes[4] = { "CD", "TT", "IN", "3" };
	uint64_t w[4];
	uint8_t id;

	if (wait_entry(s, Q_EVT, timeout, w, 4))
		return FAIL;
	id = (uint8_t)FIELD_GET(EVT0_ID, w[0]);
	put(s, "event", "%s", smmu_event_name(id));
	put(s, "id", "0x%02x", id);
	put(s, "sid", "0x%x", (unsigned)FIELD_GET(EVT0_SID, w[0]));
	put(s, "ssv", "%d", !!(w[0] & EVT0_SSV));
	put(s, "ssid", "0x%x", (unsigned)FIELD_GET(EVT0_SSID, w[0]));
	put(s, "stall", "%d", !!(w[1] & EVT1_STALL));
	put(s, "stag", "0x%x", (unsigned)FIELD_GET(EVT1_STAG, w[1]));
	put(s, "pnu", "%d", !!(w[1] & EVT1_PNU));
	put(s, "ind", "%d", !!(w[1] & EVT1_IND));
	put(s, "rnw", "%d", !!(w[1] & EVT1_RNW));
	put(s, "s2", "%d", !!(w[1] & EVT1_S2));
	put(s, "class", "%s", classes[FIELD_GET(EVT1_CLASS, w[1])]);
	put(s, "ttrnw", "%d", !!(w[1] & EVT1_TTRNW));
	put(s, "input_addr", "0x%" PRIx64, w[2]);
	put(s, "ipa", "0x%" PRIx64, w[3] & EVT3_IPA);
	put(s, "fetch_addr", "0x%" PRIx64, w[3] & EVT3_FETCH_ADDR);
	for (unsigned i = 0; i < 4; i++) {
		char key[8];

		snprintf(key, sizeof(key), "dw%u", i);
		put(s, key, "0x%" PRIx64, w[i]);
	}
	note(s, "%s: %s", smmu_event_name(id), smmu_event_text(id));
	return OK;
}

/* A PRI queue entry at PRIQ_CONS (facts §6.1). */
static int wait_priq(struct script *s, uint64_t timeout)
{
	uint64_t w[2];

	if (wait_entry(s, Q_PRI, timeout, w, 2))
		return FAIL;
	put(s, "sid", "0x%x", (unsigned)FIELD_GET(PRI0_SID, w[0]));
	put(s, "ssv", "%d", !!(w[0] & PRI0_SSV));
	put(s, "ssid", "0x%x", (unsigned)FIELD_GET(PRI0_SSID, w[0]));
	put(s, "grpid", "%u", (unsigned)FIELD_GET(PRI1_PRGI, w[1]));
	put(s, "last", "%d", !!(w[0] & PRI0_LAST));
	put(s, "r", "%d", !!(w[0] & PRI0_READ));
	put(s, "w", "%d", !!(w[0] & PRI0_WRITE));
	put(s, "x", "%d", !!(w[0] & PRI0_EXEC));
	put(s, "priv", "%d", !!(w[0] & PRI0_PRIV));
	put(s, "addr", "0x%" PRIx64, w[1] & PRI1_ADDR);
	put(s, "dw0", "0x%" PRIx64, w[0]);
	put(s, "dw1", "0x%" PRIx64, w[1]);
	return OK;
}

static int cmd_wait(struct script *s, int argc, char **argv)
{
	static const char *const kvs[] = { "timeout", NULL };
	const char *what = argc > 1 ? argv[1] : "";
	uint64_t timeout;
	struct args a;
	struct sep *e;

	if (args_parse(s, argc - 1, argv + 1, kvs, NULL, &a) || arg_timeout(s, &a, &timeout))
		return FAIL;
	if (!strcmp(what, "qi") || !strcmp(what, "prq")) {
		char usage[16];

		snprintf(usage, sizeof(usage), "wait %s", what);
		if (need_vtd(s, usage) || positionals(s, &a, 1, usage))
			return FAIL;
		return what[0] == 'q' ? wait_qi(s, timeout) : wait_prq(s, timeout);
	}
	if (!strcmp(what, "cmdq") || !strcmp(what, "evtq") || !strcmp(what, "priq")) {
		char usage[16];

		snprintf(usage, sizeof(usage), "wait %s", what);
		if (need_smmu(s, usage) || positionals(s, &a, 1, usage))
			return FAIL;
		return what[0] == 'c' ? wait_cmdq(s, timeout) :
		       what[0] == 'e' ? wait_evtq(s, timeout) : wait_priq(s, timeout);
	}
	if (!strcmp(what, "mem32")) {
		if (positionals(s, &a, 3, "wait mem32 ADDR VALUE"))
			return FAIL;
		return wait_mem32(s, &a, timeout);
	}
	if (!strcmp(what, "dma")) {
		if (need_model(s) || positionals(s, &a, 2, "wait dma BDF") ||
		    ep_arg(s, a.pos[1], &e))
			return FAIL;
		return wait_dma(s, e);
	}
	return bad(s, "unknown wait '%s' (qi prq cmdq evtq priq mem32 dma)", what);
}

/* ---- counters --------------------------------------------------------------------------- */

static const char *const cache_names[5] = { "cc", "pc", "iotlb", "fspsc", "sspsc" };
static const char *const cache_counters[5] = { "hits", "misses", "fills", "evictions",
					       "invalidated" };

static const struct vtd_cache_stats *cache_of(const struct vtd_stats *st, unsigned i)
{
	const struct vtd_cache_stats *c[5] = { &st->cc, &st->pc, &st->iotlb, &st->fspsc,
					       &st->sspsc };

	return c[i];
}

static uint64_t cache_counter(const struct vtd_cache_stats *c, unsigned i)
{
	const uint64_t v[5] = { c->hits, c->misses, c->fills, c->evictions, c->invalidated };

	return v[i];
}

static const struct {
	const char *name;
	size_t off;
} unit_counters[] = {
	{ "translations", offsetof(struct vtd_stats, translations) },
	{ "walks", offsetof(struct vtd_stats, walks) },
	{ "walk_refs", offsetof(struct vtd_stats, walk_refs) },
	{ "faults.recorded", offsetof(struct vtd_stats, faults_recorded) },
	{ "faults.suppressed", offsetof(struct vtd_stats, faults_suppressed) },
	{ "faults.overflow", offsetof(struct vtd_stats, faults_overflow) },
	{ "page_requests", offsetof(struct vtd_stats, page_requests) },
	{ "prq_overflow", offsetof(struct vtd_stats, prq_overflow) },
	{ "stale_hits", offsetof(struct vtd_stats, stale_hits) },
};

static bool unit_stat(const struct vtd_stats *st, const char *name, uint64_t *v)
{
	const char *dot = strchr(name, '.');
	uint64_t idx;

	for (size_t i = 0; i < sizeof(unit_counters) / sizeof(unit_counters[0]); i++) {
		if (!strcmp(name, unit_counters[i].name)) {
			*v = *(const uint64_t *)((const char *)st + unit_counters[i].off);
			return true;
		}
	}
	if (!dot)
		return false;
	if (!strncmp(name, "faults.", 7) && parse_num(dot + 1, &idx) && idx < 256) {
		*v = st->faults[idx];
		return true;
	}
	if (!strncmp(name, "descriptors.", 12) && parse_num(dot + 1, &idx) && idx < 16) {
		*v = st->descriptors[idx];
		return true;
	}
	for (unsigned c = 0; c < 5; c++) {
		size_t len = strlen(cache_names[c]);

		if (strncmp(name, cache_names[c], len) || name + len != dot)
			continue;
		for (unsigned k = 0; k < 5; k++) {
			if (!strcmp(dot + 1, cache_counters[k])) {
				*v = cache_counter(cache_of(st, c), k);
				return true;
			}
		}
	}
	return false;
}

static bool ep_stat(const struct dev_ep_stats *st, const char *name, uint64_t *v)
{
	const struct {
		const char *name;
		uint64_t v;
	} c[] = {
		{ "dmas", st->dmas }, { "bytes", st->bytes }, { "atc_hits", st->atc_hits },
		{ "atc_misses", st->atc_misses }, { "atc_invalidated", st->atc_invalidated },
		{ "page_requests", st->page_requests }, { "prg_responses", st->prg_responses },
		{ "faults", st->faults },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (!strcmp(name, c[i].name)) {
			*v = c[i].v;
			return true;
		}
	}
	return false;
}

static int stats_ep(struct script *s, const char *t)
{
	static const char *const names[] = { "dmas", "bytes", "atc_hits", "atc_misses",
					     "atc_invalidated", "page_requests", "prg_responses",
					     "faults" };
	struct dev_ep_stats st;
	struct sep *e;
	uint64_t v;

	if (ep_arg(s, t, &e))
		return FAIL;
	dev_ep_get_stats(e->ep, &st);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ep_stat(&st, names[i], &v) && v)
			put(s, names[i], "%" PRIu64, v);
	return OK;
}

static const char *const smmu_caches[4] = { "cfg", "tlb", "s1wc", "s2wc" };

static const struct smmu_cache_stats *smmu_cache_of(const struct smmu_stats *st, unsigned i)
{
	const struct smmu_cache_stats *c[4] = { &st->cfg, &st->tlb, &st->s1wc, &st->s2wc };

	return c[i];
}

static uint64_t smmu_cache_counter(const struct smmu_cache_stats *c, unsigned i)
{
	const uint64_t v[5] = { c->hits, c->misses, c->fills, c->evictions, c->invalidated };

	return v[i];
}

static const struct {
	const char *name;
	size_t off;
} smmu_counters[] = {
	{ "translations", offsetof(struct smmu_stats, translations) },
	{ "walks", offsetof(struct smmu_stats, walks) },
	{ "walk_refs", offsetof(struct smmu_stats, walk_refs) },
	{ "events_written", offsetof(struct smmu_stats, events_written) },
	{ "events_lost", offsetof(struct smmu_stats, events_lost) },
	{ "page_requests", offsetof(struct smmu_stats, page_requests) },
	{ "priq_overflow", offsetof(struct smmu_stats, priq_overflow) },
	{ "stalls", offsetof(struct smmu_stats, stalls) },
	{ "stale_hits", offsetof(struct smmu_stats, stale_hits) },
};

/* smmu_get_stats by name: CACHE.COUNTER, a counter, events.ID, commands.OPCODE. */
static bool smmu_stat(const struct smmu_stats *st, const char *name, uint64_t *v)
{
	const char *dot = strchr(name, '.');
	uint64_t idx;

	for (size_t i = 0; i < sizeof(smmu_counters) / sizeof(smmu_counters[0]); i++) {
		if (!strcmp(name, smmu_counters[i].name)) {
			*v = *(const uint64_t *)((const char *)st + smmu_counters[i].off);
			return true;
		}
	}
	if (!dot)
		return false;
	if (!strncmp(name, "events.", 7) && parse_num(dot + 1, &idx) && idx < 256) {
		*v = st->events[idx];
		return true;
	}
	if (!strncmp(name, "commands.", 9) && parse_num(dot + 1, &idx) && idx < 256) {
		*v = st->commands[idx];
		return true;
	}
	for (unsigned c = 0; c < 4; c++) {
		size_t len = strlen(smmu_caches[c]);

		if (strncmp(name, smmu_caches[c], len) || name + len != dot)
			continue;
		for (unsigned k = 0; k < 5; k++) {
			if (!strcmp(dot + 1, cache_counters[k])) {
				*v = smmu_cache_counter(smmu_cache_of(st, c), k);
				return true;
			}
		}
	}
	return false;
}

static int stats_smmu(struct script *s)
{
	struct smmu_stats st;
	char name[32];

	smmu_get_stats(s->smmu, &st);
	for (unsigned c = 0; c < 4; c++) {
		for (unsigned k = 0; k < 5; k++) {
			uint64_t v = smmu_cache_counter(smmu_cache_of(&st, c), k);

			snprintf(name, sizeof(name), "%s.%s", smmu_caches[c], cache_counters[k]);
			if (v)
				put(s, name, "%" PRIu64, v);
		}
	}
	for (size_t i = 0; i < sizeof(smmu_counters) / sizeof(smmu_counters[0]); i++) {
		uint64_t v = *(const uint64_t *)((const char *)&st + smmu_counters[i].off);

		if (v)
			put(s, smmu_counters[i].name, "%" PRIu64, v);
	}
	for (unsigned i = 0; i < 256; i++) {
		snprintf(name, sizeof(name), "events.0x%02x", i);
		if (st.events[i])
			put(s, name, "%" PRIu64, st.events[i]);
	}
	for (unsigned i = 0; i < 256; i++) {
		snprintf(name, sizeof(name), "commands.0x%02x", i);
		if (st.commands[i])
			put(s, name, "%" PRIu64, st.commands[i]);
	}
	return OK;
}

static int cmd_stats(struct script *s, int argc, char **argv)
{
	struct vtd_stats st;
	char name[32];

	if (need_model(s))
		return FAIL;
	if (argc > 2)
		return bad(s, "usage: stats [BDF]");
	if (argc == 2)
		return stats_ep(s, argv[1]);
	if (s->smmu)
		return stats_smmu(s);
	vtd_get_stats(s->vtd, &st);
	for (unsigned c = 0; c < 5; c++) {
		for (unsigned k = 0; k < 5; k++) {
			uint64_t v = cache_counter(cache_of(&st, c), k);

			snprintf(name, sizeof(name), "%s.%s", cache_names[c], cache_counters[k]);
			if (v)
				put(s, name, "%" PRIu64, v);
		}
	}
	for (size_t i = 0; i < sizeof(unit_counters) / sizeof(unit_counters[0]); i++) {
		uint64_t v = *(const uint64_t *)((const char *)&st + unit_counters[i].off);

		if (v)
			put(s, unit_counters[i].name, "%" PRIu64, v);
	}
	for (unsigned i = 0; i < 256; i++) {
		snprintf(name, sizeof(name), "faults.0x%02x", i);
		if (st.faults[i])
			put(s, name, "%" PRIu64, st.faults[i]);
	}
	for (unsigned i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "descriptors.0x%x", i);
		if (st.descriptors[i])
			put(s, name, "%" PRIu64, st.descriptors[i]);
	}
	return OK;
}

/* ---- expectations ----------------------------------------------------------------------- */

/* Value words equal: numerically where both parse as numbers, else as text. */
static bool same_value(const char *got, char **want, int nwant)
{
	char buf[sizeof(((struct field *)0)->val)];
	char *save = NULL, *tok;
	int i = 0;

	snprintf(buf, sizeof(buf), "%s", got);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save), i++) {
		uint64_t a, b;

		if (i == nwant)
			return false;
		if (parse_num(tok, &a) && parse_num(want[i], &b) ? a != b : strcmp(tok, want[i]))
			return false;
	}
	return i == nwant;
}

static int __attribute__((format(printf, 4, 5))) mismatch(struct script *s, int argc,
							  char **argv, const char *fmt, ...)
{
	va_list ap;

	fprintf(s->err, "%s:%u: expect", s->file, s->line);
	for (int i = 1; i < argc; i++)
		fprintf(s->err, " %s", argv[i]);
	fputs(": ", s->err);
	va_start(ap, fmt);
	vfprintf(s->err, fmt, ap);
	va_end(ap);
	fputc('\n', s->err);
	return FAIL;
}

static int expect_mask(struct script *s, int argc, char **argv, int first, uint64_t *mask)
{
	*mask = UINT64_MAX;
	if (argc == first)
		return OK;
	if (argc != first + 1 || strncmp(argv[first], "mask=", 5))
		return bad(s, "after the value only mask=M may follow, not '%s'", argv[first]);
	return num(s, argv[first] + 5, "mask", mask);
}

static int expect_value(struct script *s, int argc, char **argv, const char *what, uint64_t got,
			uint64_t want, uint64_t mask)
{
	if ((got & mask) == (want & mask))
		return OK;
	if (mask != UINT64_MAX)
		return mismatch(s, argc, argv, "%s is 0x%" PRIx64 ", & 0x%" PRIx64 " = 0x%" PRIx64,
				what, got, mask, got & mask);
	return mismatch(s, argc, argv, "%s is 0x%" PRIx64, what, got);
}

static int expect_field(struct script *s, int argc, char **argv);

static int cmd_expect(struct script *s, int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	uint64_t want, got, mask;
	uint32_t off, w32;
	int err;

	if (argc < 3)
		return bad(s, "usage: expect WHAT VALUE (see the language in cmd_script.c)");
	if (!strcmp(what, "reg32") || !strcmp(what, "reg64")) {
		unsigned size = what[3] == '6' ? 8 : 4;

		if (need_model(s) || argc < 4)
			return argc < 4 ? bad(s, "usage: expect %s REG VALUE [mask=M]", what) : FAIL;
		if (reg(s, argv[2], &off) || num(s, argv[3], "value", &want) ||
		    expect_mask(s, argc, argv, 4, &mask))
			return FAIL;
		return expect_value(s, argc, argv, argv[2], model_read(s, off, size), want, mask);
	}
	if (!strcmp(what, "mem32") || !strcmp(what, "mem64")) {
		uint64_t addr;

		if (argc < 4)
			return bad(s, "usage: expect %s ADDR VALUE [mask=M]", what);

		if (num(s, argv[2], "address", &addr) || num(s, argv[3], "value", &want) ||
		    expect_mask(s, argc, argv, 4, &mask))
			return FAIL;
		if (what[3] == '6') {
			err = mem_load64(s->mem, addr, &got);
		} else {
			err = load32(s->mem, addr, &w32);
			got = w32;
		}
		if (err)
			return mem_err(s, err, what, addr);
		return expect_value(s, argc, argv, argv[2], got, want, mask);
	}
	if (!strcmp(what, "stat")) {
		struct vtd_stats st;

		if (need_model(s))
			return FAIL;
		if (argc != 4)
			return bad(s, "usage: expect stat NAME VALUE");
		if (num(s, argv[3], "value", &want))
			return FAIL;
		if (s->smmu) {
			struct smmu_stats sst;

			smmu_get_stats(s->smmu, &sst);
			if (!smmu_stat(&sst, argv[2], &got))
				return bad(s, "unknown SMMU counter '%s' (CACHE.hits|misses|"
					   "fills|evictions|invalidated for cfg tlb s1wc s2wc; "
					   "translations walks walk_refs events.0xNN "
					   "events_written events_lost commands.0xNN "
					   "page_requests priq_overflow stalls stale_hits)", argv[2]);
			return got == want ? OK : mismatch(s, argc, argv, "%s is %" PRIu64, argv[2],
							   got);
		}
		vtd_get_stats(s->vtd, &st);
		if (!unit_stat(&st, argv[2], &got))
			return bad(s, "unknown counter '%s' (CACHE.hits|misses|fills|evictions|"
				   "invalidated for cc pc iotlb fspsc sspsc; translations walks "
				   "walk_refs faults.0xNN faults.recorded|suppressed|overflow "
				   "descriptors.N page_requests prq_overflow stale_hits)", argv[2]);
		return got == want ? OK : mismatch(s, argc, argv, "%s is %" PRIu64, argv[2], got);
	}
	if (!strcmp(what, "ep-stat")) {
		struct dev_ep_stats st;
		struct sep *e;

		if (need_model(s))
			return FAIL;
		if (argc != 5)
			return bad(s, "usage: expect ep-stat BDF NAME VALUE");
		if (ep_arg(s, argv[2], &e) || num(s, argv[4], "value", &want))
			return FAIL;
		dev_ep_get_stats(e->ep, &st);
		if (!ep_stat(&st, argv[3], &got))
			return bad(s, "unknown endpoint counter '%s' (dmas bytes atc_hits atc_misses "
				   "atc_invalidated page_requests prg_responses faults)", argv[3]);
		return got == want ? OK : mismatch(s, argc, argv, "%s is %" PRIu64, argv[3], got);
	}
	if (!strcmp(what, "stale")) {
		if (argc != 3)
			return bad(s, "usage: expect stale N");
		if (num(s, argv[2], "count", &want))
			return FAIL;
		pthread_mutex_lock(&s->lock);
		got = s->nstale;
		pthread_mutex_unlock(&s->lock);
		return got == want ? OK : mismatch(s, argc, argv, "the checker reported %" PRIu64
						   " stale translation(s)", got);
	}
	if (!strcmp(what, "events")) {
		/* Indexed by enum vtd_event and enum smmu_irq. */
		static const char *const vtd_kinds[] = { "fault", "inv-wait", "page-request" };
		static const char *const smmu_kinds[] = { "gerror", "eventq", "priq", "cmd-sync",
							  "sev" };
		const char *const *kinds = s->smmu ? smmu_kinds : vtd_kinds;
		unsigned k, nk = s->smmu ? 5 : 3;
		const char *list = s->smmu ? "gerror eventq priq cmd-sync sev" :
				   "fault inv-wait page-request";

		if (need_model(s))
			return FAIL;
		if (argc != 4)
			return bad(s, "usage: expect events KIND N (%s)", list);
		for (k = 0; k < nk && strcmp(kinds[k], argv[2]); k++)
			;
		if (k == nk)
			return bad(s, "unknown event '%s' (%s)", argv[2], list);
		if (num(s, argv[3], "count", &want))
			return FAIL;
		/* The models send events after releasing their lock (vtd_unlock,
		 * smmu_unlock), on the thread that raised them: a DMA's may trail the
		 * register state the script has already seen, as an interrupt trails a
		 * status bit. */
		for (uint64_t end = now_ms() + DEF_TIMEOUT_MS;; nap()) {
			pthread_mutex_lock(&s->lock);
			got = s->events[k];
			pthread_mutex_unlock(&s->lock);
			if (got >= want || now_ms() > end)
				break;
		}
		return got == want ? OK : mismatch(s, argc, argv, "the unit sent %" PRIu64
						   " %s event(s)", got, kinds[k]);
	}
	return expect_field(s, argc, argv);
}

/* A field of the last command's result; `expect fault R` names its reason. */
static int expect_field(struct script *s, int argc, char **argv)
{
	const char *what = argv[1], *key = strcmp(what, "fault") ? what : "reason";
	const struct field *f;

	if (!s->have_last)
		return bad(s, "nothing to check yet: no command has printed a result");
	f = field_of(&s->last, key);
	if (!f) {
		const struct field *res = field_of(&s->last, "result");

		if (!strcmp(what, "fault") && res)
			return mismatch(s, argc, argv, "no fault: result %s (line %u)", res->val,
					s->last.line);
		return mismatch(s, argc, argv, "the result of line %u (%s) has no '%s'",
				s->last.line, s->last.verb, key);
	}
	/* KEY VALUE mask=M: one number compared under a mask (a record word with a
	 * field the spec leaves open). */
	if (argc == 4 && !strncmp(argv[3], "mask=", 5)) {
		uint64_t got, want, mask;

		if (num(s, argv[2], "value", &want) || expect_mask(s, argc, argv, 3, &mask))
			return FAIL;
		if (!parse_num(f->val, &got))
			return bad(s, "mask= needs a number, and '%s' is %s", key, f->val);
		if ((got & mask) != (want & mask))
			return mismatch(s, argc, argv, "got %s, & 0x%" PRIx64 " = 0x%" PRIx64
					" (line %u)", f->val, mask, got & mask, s->last.line);
		return OK;
	}
	if (!same_value(f->val, argv + 2, argc - 2))
		return mismatch(s, argc, argv, "got %s (line %u)", f->val, s->last.line);
	return OK;
}

/* ---- the interpreter -------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(struct script *s, int argc, char **argv);
} commands[] = {
	{ "mem", cmd_mem }, { "image", cmd_image }, { "pool", cmd_pool }, { "pgt", cmd_pgt },
	{ "vtd", cmd_vtd }, { "smmu", cmd_smmu }, { "reg", cmd_reg }, { "gcmd", cmd_gcmd },
	{ "cr0", cmd_cr0 }, { "ep", cmd_ep }, { "dma", cmd_dma }, { "translate", cmd_translate },
	{ "qi", cmd_qi }, { "cmd", cmd_cmd }, { "wait", cmd_wait }, { "stats", cmd_stats },
	{ "expect", cmd_expect },
};

/* The checker's report, if one came during the command, joins its result. */
static void stale_fields(struct script *s, unsigned before)
{
	pthread_mutex_lock(&s->lock);
	if (s->nstale != before) {
		put(s, "stale.cache", "%s", s->stale_cache);
		put(s, "stale.cached", "0x%" PRIx64, s->stale_cached);
		put(s, "stale.fresh", "0x%" PRIx64, s->stale_fresh);
		note(s, "stale: missing %s", s->stale_missing);
	}
	pthread_mutex_unlock(&s->lock);
}

static int run_line(struct script *s, char *line)
{
	char *argv[MAX_TOKENS + 1], text[1024];
	char *save = NULL, *hash = strchr(line, '#');
	size_t at = 0;
	unsigned nstale;
	int argc = 0, ret;
	size_t c;

	if (hash)
		*hash = 0;
	text[0] = 0;
	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == MAX_TOKENS)
			return bad(s, "more than %d words", MAX_TOKENS);
		argv[argc++] = t;
		/* The echo of the line, words joined by one blank (cut if very long). */
		at = strlen(text);
		snprintf(text + at, sizeof(text) - at, "%s%s", argc > 1 ? " " : "", t);
	}
	if (!argc)
		return OK;
	argv[argc] = NULL;
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[0], commands[c].name))
			break;
	if (c == sizeof(commands) / sizeof(commands[0]))
		return bad(s, "unknown command '%s'", argv[0]);
	memset(&s->cur, 0, sizeof(s->cur));
	s->cur.line = s->line;
	snprintf(s->cur.verb, sizeof(s->cur.verb), "%s%s%s", argv[0], argc > 1 ? " " : "",
		 argc > 1 ? argv[1] : "");
	pthread_mutex_lock(&s->lock);
	nstale = s->nstale;
	pthread_mutex_unlock(&s->lock);
	ret = commands[c].run(s, argc, argv);
	if (ret)
		return ret;
	stale_fields(s, nstale);
	print_result(s, text, &s->cur);
	/* An expectation checks the result before it; it does not replace it. */
	if (strcmp(argv[0], "expect")) {
		s->last = s->cur;
		s->have_last = true;
	}
	return OK;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vsva script FILE [--quiet]\n"
		"Runs a scenario against one model, the VT-d unit or the SMMUv3: memory,\n"
		"registers, endpoints and DMA, the model's queues. Each line is a command,\n"
		"'#' starts a comment; each command prints 'LINE: COMMAND -> key value ...'\n"
		"(not with --quiet) and 'expect KEY VALUE' checks the last result.\n"
		"Commands: mem add|write64|write32|read64|read32|fill, image, pool, pgt root|map|\n"
		"unmap, vtd new, smmu new, reg read32|read64|write32|write64, gcmd set|clear,\n"
		"cr0 set|clear, ep new|enable|disable, dma read|write, translate, qi submit|cc|\n"
		"iotlb|dev-tlb|wait|pasid-iotlb|pasid-cache|pasid-dev-tlb|page-response, cmd\n"
		"submit|cfgi-*|tlbi-*|atc-inv|pri-resp|resume|stall-term|sync|prefetch-config,\n"
		"wait qi|prq|cmdq|evtq|priq|mem32|dma, stats, expect.\n"
		"The language is described in src/cli/cmd_script.c and README.md; examples/\n"
		"has commented scenarios.\n"
		"Exit 0 when every line ran and every expectation held; 1 at the first\n"
		"malformed line, failed command or unmet expectation (FILE:LINE: on stderr).\n");
}

static void cleanup(struct script *s)
{
	/* A DMA still stalled in the SMMU: SMMUEN 1 -> 0 terminates every stall
	 * (facts §1.6), as a driver shutting the SMMU down does. */
	if (s->smmu)
		smmu_write(s->smmu, SMMU_CR0, 4, smmu_read(s->smmu, SMMU_CR0, 4) & ~CR0_SMMUEN);
	/* A DMA still waiting for a page response: disabling PRI fails it. */
	for (unsigned i = 0; i < s->neps; i++) {
		if (!s->eps[i].dma)
			continue;
		dev_ep_enable_pri(s->eps[i].ep, false);
		pthread_join(s->eps[i].dma->thread, NULL);
		free(s->eps[i].dma->buf);
		free(s->eps[i].dma);
	}
	vtd_free(s->vtd);
	smmu_free(s->smmu);
	for (unsigned i = 0; i < s->neps; i++)
		dev_ep_free(s->eps[i].ep);
	mem_frames_free_pool(s->pool);
	mem_space_free(s->mem);
	pthread_mutex_destroy(&s->lock);
	free(s->dir);
	free(s);
}

int cli_script(int argc, char **argv, FILE *out, FILE *err)
{
	const char *file = NULL;
	struct script *s;
	char *line = NULL, *slash;
	size_t cap = 0;
	bool quiet = false;
	FILE *in;
	int ret = OK;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(out);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(err, "vsva script: unknown option '%s'\n", argv[i]);
			usage(err);
			return 1;
		} else if (file) {
			fprintf(err, "vsva script: one script at a time ('%s' and '%s')\n", file,
				argv[i]);
			return 1;
		} else {
			file = argv[i];
		}
	}
	if (!file) {
		fprintf(err, "vsva script: which script?\n");
		usage(err);
		return 1;
	}
	in = fopen(file, "r");
	if (!in) {
		fprintf(err, "vsva script: cannot open '%s': %s\n", file, strerror(errno));
		return 1;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->mem = mem_space_new())) {
		free(s);
		fclose(in);
		fprintf(err, "vsva script: out of memory\n");
		return 1;
	}
	s->out = out;
	s->err = err;
	s->file = file;
	s->quiet = quiet;
	pthread_mutex_init(&s->lock, NULL);
	slash = strrchr(file, '/');
	if (slash)
		s->dir = strndup(file, (size_t)(slash - file) + (slash == file));
	while (!ret && getline(&line, &cap, in) >= 0) {
		s->line++;
		ret = run_line(s, line);
	}
	if (!ret && ferror(in))
		ret = bad(s, "read error");
	for (unsigned i = 0; !ret && i < s->neps; i++) {
		if (s->eps[i].dma) {
			char rid[8];

			bdf_string(s->eps[i].rid, rid);
			fprintf(err, "%s:%u: the DMA of %s started here was never waited for "
				"('wait dma %s')\n", file, s->eps[i].dma->line, rid, rid);
			ret = FAIL;
		}
	}
	free(line);
	fclose(in);
	cleanup(s);
	return ret;
}
