/* tests/test_smmu_concurrent.c — the SMMUv3 model under concurrent translation and
 * invalidation, as a driver and its devices use it: translation threads never
 * see anything but a legal answer, and once software's CMD_SYNC has completed,
 * nothing started afterwards sees the mapping it replaced.
 *
 * Threads, for about a second and a half (run under ThreadSanitizer in CI):
 *  - readers (4): smmu_translate, and 8-byte DMA reads through attached endpoints
 *    with and without ATS, of pages of a stage-1 STE and of a nested STE, with
 *    and without a SubstreamID;
 *  - the remapper: flips one page of each STE between physical pages A (read/
 *    write) and B (read-only) by rewriting the leaf descriptor as software does
 *    (in the guest's stage-1 table for the nested STE), then TLBI_NH_VA for both,
 *    CMD_SYNC, ATC_INV for both ATS endpoints, CMD_SYNC; a driver's sequence;
 *  - the configuration thread: CFGI_CD, CFGI_CD_ALL, CFGI_STE and TLBI_NH_ASID of
 *    the same StreamIDs and ASIDs, each batch closed by a CMD_SYNC (the tables do
 *    not change: only caches are dropped under the readers).
 * Software serialises its command queue with a lock, as a driver does; PROD is
 * written and CONS polled through the registers.
 *
 * What can fail:
 *  - a translation that is not exactly a legal outcome: the remapped page gives A
 *    with write permission or B without it, at the request's offset; every other
 *    page its own frame, writable; a DMA reads the words of one of those frames
 *    (each word of every data frame holds its frame number and offset); never a
 *    fault (every state is mapped), never an event;
 *  - staleness: the remapper keeps a sequence counter, odd from just before it
 *    writes the descriptor until both CMD_SYNCs completed, even (2n: page state
 *    n, A when n is even) afterwards. A reader that read an even value before its
 *    request and the same value after it must have been answered with that
 *    state's page: the invalidation of the previous state was complete before
 *    the request began and the next rewrite had not begun when it ended;
 *  - counts: the SMMU's translations equal the requests made (direct, the
 *    endpoints' translation and untranslated requests, their translated
 *    requests), its configuration lookups one per translation, the commands
 *    processed the commands written, the endpoints' DMAs the DMAs issued.
 */
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "dev/dev.h"
#include "hw/smmuv3/smmuv3_internal.h"
#include "mem/mem.h"
#include "pgtable/pgtable.h"

#define PAGE          4096ull

/* Host memory: 64 MiB of RAM at 0, and the guest's 16 MiB of RAM at GUEST_HPA. */
#define RAM_SIZE      (64ull << 20)
#define STRTAB        0x10000ull       /* linear, LOG2SIZE 8: STE n at + 64 n */
#define CD_S1         0x14000ull       /* the stage-1 STEs' CD table: CD 0, CD 1 */
#define CMDQ_PA       0x20000ull
#define CMDQ_LOG2     8
#define EVTQ_PA       0x30000ull
#define EVTQ_LOG2     6
#define HPOOL         0x100000ull      /* host page tables */
#define HPOOL_SIZE    (15ull << 20)
#define DATA_PA       0x1000000ull     /* the data frames */
#define GUEST_HPA     0x8000000ull
#define GUEST_SIZE    (16ull << 20)
#define CD_IPA        0x1000ull        /* the nested STE's CD table, in guest RAM */
#define GPOOL_IPA     0x100000ull      /* the guest's stage-1 tables */
#define GUEST_DATA    0x40000000ull    /* nested: stage-1 outputs (IPAs) */

#define VA_BASE       0x100000000000ull
#define NP            16               /* pages per kind: 0 is remapped, 1..15 fixed */
#define FRAMES        (NP + 2)         /* per kind: NP frames, then A and B */
#define FRAME_A       NP
#define FRAME_B       (NP + 1)
#define WORD(f, off)  (0xda7a000000000000ull | (uint64_t)(f) << 32 | (off))

enum kind { K_S1, K_NESTED, K_N };
/* StreamIDs: the one translated directly, the endpoint without ATS, with ATS. */
static const uint16_t sid_direct[K_N] = { 0x10, 0x20 };
static const uint16_t sid_plain[K_N] = { 0x11, 0x21 };
static const uint16_t sid_ats[K_N] = { 0x12, 0x22 };
static const uint16_t kind_vmid[K_N] = { 0, 5 };
static const uint16_t kind_asid[K_N] = { 1, 2 };

#define READERS       4
#define RUN_NS        1500000000ull    /* at least this long... */
#define MIN_EPOCHS    200              /* ...and at least this many remaps */
#define MAX_NS        20000000000ull   /* but never longer */

static struct mem_space *host, *guest;
static struct mem_frames *hpool, *gpool;
static struct smmu *smmu;
static struct dev_ep *ep_plain[K_N], *ep_ats[K_N];
static uint64_t leaf_pa[K_N];              /* host address of the remapped leaf */
static uint64_t leaf_a[K_N], leaf_b[K_N];  /* its two values */

/* Software's command queue. */
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t qprod;

/* The remapper's sequence: odd while a remap is in progress; 2n: state n. */
static _Atomic uint64_t seq;
static _Atomic bool stop;
static _Atomic uint64_t strict_total;      /* checks that pinned one page */

static void die(const char *what)
{
	fprintf(stderr, "test_smmu_concurrent: setup failed: %s\n", what);
	exit(1);
}

static void put(uint64_t pa, uint64_t val)
{
	if (mem_store64(host, pa, val))
		die("mem_store64");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* Host address of a kind's frame. */
static uint64_t frame_pa(enum kind k, unsigned f)
{
	return DATA_PA + ((uint64_t)k * FRAMES + f) * PAGE;
}

/* ---- tables ------------------------------------------------------------------------------- */

struct leaf_find {
	uint64_t pa;
};

static void last_s1_step(void *ctx, const struct pgt_step *st)
{
	if (st->stage == 1 && !st->write)
		((struct leaf_find *)ctx)->pa = st->pa;
}

/* Where the stage-1 leaf of va lies in the space s, and its value. */
static void find_leaf(const struct pgt_fmt *f, struct mem_space *s, uint64_t root, uint64_t va,
		      uint64_t *pa, uint64_t *val)
{
	struct leaf_find lf = { 0 };
	struct pgt_trace tr = { last_s1_step, &lf };
	struct pgt_result r;

	if (pgt_walk(f, s, root, va, PGT_ACC_USER, &r, &tr) || !r.ok)
		die("finding the leaf");
	*pa = lf.pa;
	*val = r.leaf[0];
}

static void setup_memory(void)
{
	const unsigned rw = PGT_PROT_R | PGT_PROT_W;
	struct pgt_cfg c1 = { .family = PGT_LPAE_S1, .granule = 4096, .tsz = 16, .oas = 48 };
	struct pgt_cfg c2 = { .family = PGT_LPAE_S2, .granule = 4096, .tsz = 25, .sl0 = 1,
			      .oas = 48 };
	struct pgt_fmt s1f, s2f;
	uint64_t s1_root, ns1_root, s2_root, pa;
	void *gram;
	int err;

	host = mem_space_new();
	guest = mem_space_new();
	if (!host || !guest || mem_add_anon(host, 0, RAM_SIZE, MEM_RW, NULL) ||
	    mem_add_anon(host, GUEST_HPA, GUEST_SIZE, MEM_RW, &gram) ||
	    mem_add(guest, 0, GUEST_SIZE, gram, MEM_RW))
		die("memory");
	hpool = mem_frames_new(host, HPOOL, HPOOL_SIZE);
	gpool = mem_frames_new(guest, GPOOL_IPA, GUEST_SIZE - GPOOL_IPA);
	if (!hpool || !gpool || pgt_fmt_init(&s1f, &c1) || pgt_fmt_init(&s2f, &c2))
		die("pools and formats");

	/* Data frames: every word names its frame and offset. */
	for (unsigned f = 0; f < K_N * FRAMES; f++)
		for (uint64_t off = 0; off < PAGE; off += 8)
			put(DATA_PA + f * PAGE + off, WORD(f, off));

	/* Stage 1 (host): page p -> frame p, page 0 -> A, all EL0 read/write. */
	err = pgt_root_alloc(&s1f, hpool, &s1_root);
	if (!err)
		err = pgt_map(&s1f, hpool, s1_root, VA_BASE + PAGE, frame_pa(K_S1, 1),
			      (NP - 1) * PAGE, rw | PGT_PROT_U, PAGE);
	if (!err)
		err = pgt_map(&s1f, hpool, s1_root, VA_BASE, frame_pa(K_S1, FRAME_A), PAGE,
			      rw | PGT_PROT_U, PAGE);
	/* Nested: the guest maps page p -> IPA GUEST_DATA + p pages, page 0 -> the
	 * IPA of A; its stage 2 maps guest RAM, and GUEST_DATA + q pages -> frame q. */
	if (!err)
		err = pgt_root_alloc(&s1f, gpool, &ns1_root);
	if (!err)
		err = pgt_map(&s1f, gpool, ns1_root, VA_BASE + PAGE, GUEST_DATA + PAGE,
			      (NP - 1) * PAGE, rw | PGT_PROT_U, PAGE);
	if (!err)
		err = pgt_map(&s1f, gpool, ns1_root, VA_BASE, GUEST_DATA + FRAME_A * PAGE, PAGE,
			      rw | PGT_PROT_U, PAGE);
	if (!err)
		err = pgt_root_alloc(&s2f, hpool, &s2_root);
	if (!err)
		err = pgt_map(&s2f, hpool, s2_root, 0, GUEST_HPA, GUEST_SIZE, rw, PAGE);
	if (!err)
		err = pgt_map(&s2f, hpool, s2_root, GUEST_DATA, frame_pa(K_NESTED, 0),
			      FRAMES * PAGE, rw, PAGE);
	if (err)
		die("page tables");

	/* The remapped leaves and their two values: A as mapped; B the same
	 * descriptor with B's address and AP[2] (read-only). */
	find_leaf(&s1f, host, s1_root, VA_BASE, &leaf_pa[K_S1], &leaf_a[K_S1]);
	find_leaf(&s1f, guest, ns1_root, VA_BASE, &pa, &leaf_a[K_NESTED]);
	leaf_pa[K_NESTED] = GUEST_HPA + pa;
	leaf_b[K_S1] = (leaf_a[K_S1] & ~LPAE_OA_LO) | frame_pa(K_S1, FRAME_B) | LPAE_AP2;
	leaf_b[K_NESTED] = (leaf_a[K_NESTED] & ~LPAE_OA_LO) | (GUEST_DATA + FRAME_B * PAGE) |
			   LPAE_AP2;

	/* CDs: T0SZ 16, TG0 4K, EPD1, V, IPS 48 bits, AA64, R, A, the ASID; TTB0. CD 0
	 * (requests without a SubstreamID, S1DSS 0b10) and CD 1 are the same. */
	for (unsigned i = 0; i < 2; i++) {
		uint64_t cd0 = 16 | CD0_EPD1 | CD0_V | FIELD_PREP(CD0_IPS, 5) | CD0_AA64 | CD0_R |
			       CD0_A;

		put(CD_S1 + 64 * i, cd0 | FIELD_PREP(CD0_ASID, kind_asid[K_S1]));
		put(CD_S1 + 64 * i + 8, s1_root);
		put(GUEST_HPA + CD_IPA + 64 * i, cd0 | FIELD_PREP(CD0_ASID, kind_asid[K_NESTED]));
		put(GUEST_HPA + CD_IPA + 64 * i + 8, ns1_root);
	}
	/* STEs: V | Config | S1CtxPtr | S1CDMax 1; S1DSS 0b10, EATS 0b01 for the ATS
	 * endpoints. Nested: S2VMID 5, S2T0SZ 25, S2SL0 1, S2TG 4K, S2PS 48 bits,
	 * S2AA64, S2R; S2TTB. */
	for (enum kind k = 0; k < K_N; k++) {
		const uint16_t sids[3] = { sid_direct[k], sid_plain[k], sid_ats[k] };

		for (unsigned i = 0; i < 3; i++) {
			uint64_t ste = STRTAB + 64ull * sids[i];

			put(ste + 8, FIELD_PREP(STE1_S1DSS, S1DSS_SSID0) |
			    (i == 2 ? FIELD_PREP(STE1_EATS, EATS_TRANS) : 0));
			if (k == K_S1) {
				put(ste, STE0_V | FIELD_PREP(STE0_CONFIG, STE_CFG_S1) | CD_S1 |
				    FIELD_PREP(STE0_S1CDMAX, 1));
				continue;
			}
			put(ste, STE0_V | FIELD_PREP(STE0_CONFIG, STE_CFG_NESTED) | CD_IPA |
			    FIELD_PREP(STE0_S1CDMAX, 1));
			put(ste + 16, kind_vmid[k] | FIELD_PREP(STE2_S2T0SZ, 25) |
			    FIELD_PREP(STE2_S2SL0, 1) | FIELD_PREP(STE2_S2PS, 5) | STE2_S2AA64 |
			    STE2_S2R);
			put(ste + 24, s2_root);
		}
	}
}

static void setup_smmu(void)
{
	uint32_t cr0 = (uint32_t)(CR0_SMMUEN | CR0_CMDQEN | CR0_EVENTQEN);
	struct smmu_config c;

	smmu_config_default(&c);
	smmu = smmu_new(&c, host);
	if (!smmu)
		die("smmu_new");
	smmu_write(smmu, SMMU_STRTAB_BASE, 8, STRTAB);
	smmu_write(smmu, SMMU_STRTAB_BASE_CFG, 4, 8);
	smmu_write(smmu, SMMU_CMDQ_BASE, 8, CMDQ_PA | CMDQ_LOG2);
	smmu_write(smmu, SMMU_CMDQ_PROD, 4, 0);
	smmu_write(smmu, SMMU_CMDQ_CONS, 4, 0);
	smmu_write(smmu, SMMU_EVENTQ_BASE, 8, EVTQ_PA | EVTQ_LOG2);
	smmu_write(smmu, SMMU_CR0, 4, cr0);
	if ((uint32_t)smmu_read(smmu, SMMU_CR0ACK, 4) != cr0)
		die("CR0ACK");
	for (enum kind k = 0; k < K_N; k++) {
		struct dev_ep_config ec = {
			.pasid_bits = 20, .atc_entries = 64, .atc_ways = 4,
		};

		ec.rid = sid_plain[k];
		ep_plain[k] = dev_ep_new(&ec, host);
		ec.rid = sid_ats[k];
		ec.ats = true;
		ep_ats[k] = dev_ep_new(&ec, host);
		if (!ep_plain[k] || !ep_ats[k] || smmu_attach(smmu, ep_plain[k]) ||
		    smmu_attach(smmu, ep_ats[k]) || dev_ep_enable_pasid(ep_plain[k], true) ||
		    dev_ep_enable_pasid(ep_ats[k], true) || dev_ep_enable_ats(ep_ats[k], true))
			die("endpoints");
	}
}

/* ---- software's command queue -------------------------------------------------------------- */

#define Q_ENTRIES   (1u << CMDQ_LOG2)
#define Q_PTRS      (2u * Q_ENTRIES - 1)        /* index and wrap bit */

/* Under qlock: one command at PROD. */
static void cmd(uint64_t dw0, uint64_t dw1)
{
	uint64_t pa = CMDQ_PA + 16ull * (qprod & (Q_ENTRIES - 1));

	put(pa, dw0);
	put(pa + 8, dw1);
	qprod = (qprod + 1) & Q_PTRS;
}

/* Under qlock: a CMD_SYNC, PROD written, CONS polled until it has passed the
 * sync. An error stops the queue: the test fails rather than hangs. */
static bool sync_wait(void)
{
	uint32_t cons;

	cmd(CMD_SYNC | FIELD_PREP(CMD0_CS, CS_SEV), 0);
	smmu_write(smmu, SMMU_CMDQ_PROD, 4, qprod);
	for (;;) {
		cons = (uint32_t)smmu_read(smmu, SMMU_CMDQ_CONS, 4);
		if (cons & CMDQ_CONS_ERR)
			return false;
		if ((cons & Q_PTRS) == qprod)
			return true;
		sched_yield();
	}
}

static uint64_t tlbi_va(enum kind k)
{
	return CMD_TLBI_NH_VA | FIELD_PREP(CMD0_VMID, kind_vmid[k]) |
	       FIELD_PREP(CMD0_ASID, kind_asid[k]);
}

/* ---- the remapper --------------------------------------------------------------------------- */

struct writer_result {
	uint64_t epochs, queue_errors;
};

static void *writer(void *arg)
{
	struct writer_result *w = arg;
	uint64_t n;

	for (n = 0; !atomic_load_explicit(&stop, memory_order_acquire); n++) {
		bool to_b = !(n & 1);                   /* state n + 1: B when odd */
		uint64_t base, t0;

		/* Odd before the descriptor changes (the fence keeps the stores in
		 * that order for every observer). */
		atomic_store_explicit(&seq, 2 * n + 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		for (enum kind k = 0; k < K_N; k++)
			put(leaf_pa[k], to_b ? leaf_b[k] : leaf_a[k]);
		pthread_mutex_lock(&qlock);
		/* Leaf alternates: last-level only, or the walk caches too. */
		for (enum kind k = 0; k < K_N; k++)
			cmd(tlbi_va(k), VA_BASE | (n & 2 ? CMD1_LEAF : 0));
		if (!sync_wait())
			w->queue_errors++;
		/* ATC_INV: the page, every PASID (no SSV), Size 0. */
		for (enum kind k = 0; k < K_N; k++)
			cmd(CMD_ATC_INV | FIELD_PREP(CMD0_SID, sid_ats[k]), VA_BASE);
		if (!sync_wait())
			w->queue_errors++;
		pthread_mutex_unlock(&qlock);
		atomic_store_explicit(&seq, 2 * n + 2, memory_order_release);
		/* Let the readers see the new state pinned (a few strict checks), up
		 * to a millisecond. */
		base = atomic_load_explicit(&strict_total, memory_order_relaxed);
		t0 = now_ns();
		while (atomic_load_explicit(&strict_total, memory_order_relaxed) < base + 8 &&
		       now_ns() - t0 < 1000000)
			sched_yield();
	}
	w->epochs = n;
	return NULL;
}

/* ---- the configuration thread ------------------------------------------------------------- */

struct cfg_result {
	uint64_t batches, cfgi_cd, cfgi_cd_all, cfgi_ste, tlbi_asid, queue_errors;
};

static void *configurer(void *arg)
{
	struct cfg_result *c = arg;
	uint64_t rs = 0x77;

	while (!atomic_load_explicit(&stop, memory_order_acquire)) {
		uint64_t r = rnd(&rs);
		enum kind k = (enum kind)(r & 1);
		const uint16_t sids[3] = { sid_direct[k], sid_plain[k], sid_ats[k] };
		uint16_t sid = sids[(r >> 1) % 3];

		pthread_mutex_lock(&qlock);
		switch ((r >> 8) % 4) {
		case 0:         /* CFGI_CD: SSID 0 or 1, Leaf */
			cmd(CMD_CFGI_CD | FIELD_PREP(CMD0_SID, sid) |
			    FIELD_PREP(CMD0_SSID, (r >> 16) & 1), CMD1_LEAF);
			c->cfgi_cd++;
			break;
		case 1:
			cmd(CMD_CFGI_CD_ALL | FIELD_PREP(CMD0_SID, sid), 0);
			c->cfgi_cd_all++;
			break;
		case 2:         /* CFGI_STE drops the STE and its CDs */
			cmd(CMD_CFGI_STE | FIELD_PREP(CMD0_SID, sid), CMD1_LEAF);
			c->cfgi_ste++;
			break;
		default:
			cmd(CMD_TLBI_NH_ASID | FIELD_PREP(CMD0_VMID, kind_vmid[k]) |
			    FIELD_PREP(CMD0_ASID, kind_asid[k]), 0);
			c->tlbi_asid++;
			break;
		}
		if (!sync_wait())
			c->queue_errors++;
		pthread_mutex_unlock(&qlock);
		c->batches++;
		sched_yield();
	}
	return NULL;
}

/* ---- readers ---------------------------------------------------------------------------------- */

enum op { OP_XLATE, OP_DMA, OP_DMA_ATS, OP_N };

struct reader {
	unsigned id;
	uint64_t ops[OP_N], smmu_requests, strict, failures;
	uint64_t dmas_plain[K_N], dmas_ats[K_N];
};

/* What one request saw: the frame, the offset, whether writable (translations
 * only). */
struct seen {
	bool ok;
	unsigned frame;
	uint64_t off;
	int w;                  /* -1: not reported (a DMA) */
	const char *why;
};

static void fail(struct reader *rd, enum kind k, enum op op, unsigned page, uint64_t off,
		 uint64_t s0, uint64_t s1, const struct seen *sn, const char *what)
{
	rd->failures++;
	if (rd->failures > 5)
		return;
	CHECK_MSG(false, "reader %u: %s: kind %d op %d page %u off 0x%" PRIx64 " seq %" PRIu64
		  "..%" PRIu64 ": ok %d frame %u off 0x%" PRIx64 " w %d (%s)", rd->id, what, k, op,
		  page, off, s0, s1, sn->ok, sn->frame, sn->off, sn->w, sn->why ? sn->why : "");
}

static void do_xlate(struct reader *rd, enum kind k, bool ssv, uint64_t va, struct seen *sn)
{
	struct dev_txn t = {
		.rid = sid_direct[k], .pasid_valid = ssv, .pasid = ssv, .at = DEV_AT_UNTRANSLATED,
		.addr = va,
	};
	struct dev_xlate x;
	uint64_t base = frame_pa(k, 0);

	smmu_translate(smmu, &t, &x);
	rd->smmu_requests++;
	sn->w = x.w;
	if (x.status != DEV_XLATE_OK) {
		sn->ok = false;
		sn->why = "translation status";
		return;
	}
	if (x.pa < base || x.pa >= base + FRAMES * PAGE || x.size != PAGE || !x.r) {
		sn->ok = false;
		sn->why = "address, size or read permission";
		return;
	}
	sn->ok = true;
	sn->frame = (unsigned)((x.pa - base) / PAGE);
	sn->off = x.pa & (PAGE - 1);
}

static void do_dma(struct reader *rd, enum kind k, bool ats, bool ssv, uint64_t va,
		   struct seen *sn)
{
	struct dev_ep *ep = ats ? ep_ats[k] : ep_plain[k];
	uint64_t word = 0, f;
	struct dev_dma d = {
		.pasid_valid = ssv, .pasid = ssv, .iova = va, .buf = &word, .len = 8,
	};
	struct dev_dma_report rep;
	int ret = dev_dma(ep, &d, &rep);

	sn->w = -1;
	if (ats)
		rd->dmas_ats[k]++;
	else
		rd->dmas_plain[k]++;
	if (ret) {
		sn->ok = false;
		sn->why = "dev_dma";
		return;
	}
	/* The endpoint's translation requests (or untranslated requests), and with
	 * ATS one translated request per DMA that reached memory. */
	rd->smmu_requests += rep.translations + (ats && rep.status == DEV_DMA_OK);
	if (rep.status != DEV_DMA_OK || rep.done != 8) {
		sn->ok = false;
		sn->why = "DMA status";
		return;
	}
	f = (word >> 32) & 0xffff;
	if ((word & 0xffff000000000000ull) != WORD(0, 0) || f < (uint64_t)k * FRAMES ||
	    f >= (uint64_t)(k + 1) * FRAMES) {
		sn->ok = false;
		sn->why = "data";
		return;
	}
	sn->ok = true;
	sn->frame = (unsigned)(f - (uint64_t)k * FRAMES);
	sn->off = word & 0xffffffffull;
}

static void *reader(void *arg)
{
	struct reader *rd = arg;
	uint64_t rs = 0x1234567ull + 0x9e3779b9ull * rd->id, n = 0;

	while (!atomic_load_explicit(&stop, memory_order_acquire)) {
		uint64_t r = rnd(&rs);
		enum kind k = (enum kind)((r >> 40) & 1);
		enum op op = (enum op)((r >> 32) % OP_N);
		unsigned page = r & 1 ? 0 : 1 + (unsigned)((r >> 1) % (NP - 1));
		uint64_t off = (r >> 8) & (PAGE - 8), s0, s1;
		bool ssv = (r >> 20) & 1;
		struct seen sn = { 0 };
		unsigned want;

		s0 = atomic_load_explicit(&seq, memory_order_acquire);
		if (op == OP_XLATE)
			do_xlate(rd, k, ssv, VA_BASE + page * PAGE + off, &sn);
		else
			do_dma(rd, k, op == OP_DMA_ATS, ssv, VA_BASE + page * PAGE + off, &sn);
		/* Pairs with the remapper's fence: an answer that saw the next
		 * descriptor sees the odd sequence here. */
		atomic_thread_fence(memory_order_seq_cst);
		s1 = atomic_load_explicit(&seq, memory_order_relaxed);
		rd->ops[op]++;
		/* On a machine with fewer CPUs than threads, a reader preempted inside
		 * a DMA holds up ATC_INV (it waits for DMAs in flight): yield often. */
		if (!(++n & 63))
			sched_yield();

		if (!sn.ok) {
			fail(rd, k, op, page, off, s0, s1, &sn, "not a translation");
			continue;
		}
		if (sn.off != off) {
			fail(rd, k, op, page, off, s0, s1, &sn, "wrong offset");
			continue;
		}
		if (page) {
			if (sn.frame != page || sn.w == 0)
				fail(rd, k, op, page, off, s0, s1, &sn, "fixed page");
			continue;
		}
		/* A read/write, B read-only: nothing else. */
		if (!(sn.frame == FRAME_A && sn.w != 0) && !(sn.frame == FRAME_B && sn.w != 1)) {
			fail(rd, k, op, page, off, s0, s1, &sn, "neither A nor B");
			continue;
		}
		if (s0 & 1 || s1 != s0)
			continue;               /* a remap overlapped: either page is legal */
		rd->strict++;
		atomic_fetch_add_explicit(&strict_total, 1, memory_order_relaxed);
		want = (s0 / 2) & 1 ? FRAME_B : FRAME_A;
		if (sn.frame != want)
			fail(rd, k, op, page, off, s0, s1, &sn, "stale page after CMD_SYNC");
	}
	return NULL;
}

/* ---- main ---------------------------------------------------------------------------------- */

int main(void)
{
	pthread_t rt[READERS], wt, ct;
	struct reader rd[READERS];
	struct writer_result wr = { 0 };
	struct cfg_result cr = { 0 };
	struct smmu_stats st;
	uint64_t requests = 0, failures = 0, strict = 0, ops[OP_N] = { 0 }, events = 0, t0;

	setup_memory();
	setup_smmu();
	memset(rd, 0, sizeof(rd));
	for (unsigned i = 0; i < READERS; i++) {
		rd[i].id = i;
		if (pthread_create(&rt[i], NULL, reader, &rd[i]))
			die("pthread_create");
	}
	if (pthread_create(&wt, NULL, writer, &wr) || pthread_create(&ct, NULL, configurer, &cr))
		die("pthread_create");
	/* Run for RUN_NS and MIN_EPOCHS remaps (a slow sanitizer build gets more
	 * time), never past MAX_NS. The remapper's epoch count is read through seq. */
	t0 = now_ns();
	for (;;) {
		struct timespec ts = { 0, 20000000 };
		uint64_t el = now_ns() - t0;

		nanosleep(&ts, NULL);
		if ((el >= RUN_NS && atomic_load(&seq) / 2 >= MIN_EPOCHS) || el >= MAX_NS)
			break;
	}
	atomic_store_explicit(&stop, true, memory_order_release);
	for (unsigned i = 0; i < READERS; i++)
		pthread_join(rt[i], NULL);
	pthread_join(wt, NULL);
	pthread_join(ct, NULL);

	for (unsigned i = 0; i < READERS; i++) {
		requests += rd[i].smmu_requests;
		failures += rd[i].failures;
		strict += rd[i].strict;
		for (unsigned o = 0; o < OP_N; o++)
			ops[o] += rd[i].ops[o];
	}
	smmu_get_stats(smmu, &st);
	for (unsigned i = 0; i < 256; i++)
		events += st.events[i];
	printf("remaps %" PRIu64 ", config batches %" PRIu64 ", translations %" PRIu64
	       ", DMAs %" PRIu64 " + %" PRIu64 " with ATS, pinned checks %" PRIu64
	       ", TLB hits %" PRIu64 " misses %" PRIu64 "\n", wr.epochs, cr.batches, ops[OP_XLATE],
	       ops[OP_DMA], ops[OP_DMA_ATS], strict, st.tlb.hits, st.tlb.misses);

	CHECK_EQ(failures, 0);
	CHECK_EQ(wr.queue_errors + cr.queue_errors, 0);
	CHECK(wr.epochs >= MIN_EPOCHS || now_ns() - t0 >= MAX_NS);
	CHECK(strict > 0);
	for (unsigned o = 0; o < OP_N; o++)
		CHECK(ops[o] > 0);
	/* Every request counted once, every one a STE lookup; no fault, no event. */
	CHECK_EQ(st.translations, requests);
	CHECK_EQ(st.cfg.hits + st.cfg.misses, requests);
	CHECK_EQ(events, 0);
	CHECK_EQ(st.events_written + st.events_lost, 0);
	CHECK_EQ(smmu_read(smmu, SMMU_GERROR, 4), 0);
	/* Every command written was processed, once. */
	CHECK_EQ(st.commands[CMD_TLBI_NH_VA], 2 * wr.epochs);
	CHECK_EQ(st.commands[CMD_ATC_INV], 2 * wr.epochs);
	CHECK_EQ(st.commands[CMD_SYNC], 2 * wr.epochs + cr.batches);
	CHECK_EQ(st.commands[CMD_CFGI_CD], cr.cfgi_cd);
	CHECK_EQ(st.commands[CMD_CFGI_CD_ALL], cr.cfgi_cd_all);
	CHECK_EQ(st.commands[CMD_CFGI_STE], cr.cfgi_ste);
	CHECK_EQ(st.commands[CMD_TLBI_NH_ASID], cr.tlbi_asid);
	for (enum kind k = 0; k < K_N; k++) {
		uint64_t plain = 0, ats = 0;
		struct dev_ep_stats es;

		for (unsigned i = 0; i < READERS; i++) {
			plain += rd[i].dmas_plain[k];
			ats += rd[i].dmas_ats[k];
		}
		dev_ep_get_stats(ep_plain[k], &es);
		CHECK_EQ(es.dmas, plain);
		CHECK_EQ(es.faults, 0);
		dev_ep_get_stats(ep_ats[k], &es);
		CHECK_EQ(es.dmas, ats);
		CHECK_EQ(es.faults, 0);
		CHECK_EQ(es.atc_hits + es.atc_misses, ats);
	}

	smmu_free(smmu);
	for (enum kind k = 0; k < K_N; k++) {
		dev_ep_free(ep_plain[k]);
		dev_ep_free(ep_ats[k]);
	}
	mem_frames_free_pool(gpool);
	mem_frames_free_pool(hpool);
	mem_space_free(guest);
	mem_space_free(host);
	return check_exit();
}
