/* tests/test_smmu_stall.c — Arm's stall model end to end: an endpoint's DMA
 * faults on a stage configured to stall, the SMMU records the event with Stall
 * and its STAG and holds the transaction, software reads the record, fixes the
 * table and resumes it through the command queue (CMD_RESUME), and the DMA's
 * retry goes through; or software terminates it (RESUME abort or RAZ/WI,
 * STALL_TERM, SMMUEN going to 0); a stall record the event queue cannot take
 * waits until it can; every STAG in use; the endpoint giving up. And a stage-1
 * fault with CD.A = 0 that is terminated as RAZ/WI without a stall.
 *
 * Expected values are worked by hand from docs/facts/smmuv3-structures.md (§5.1
 * record layout, §5.3 stall/record/terminate rules, §4.2 RESUME layout, §6.4).
 *
 * Memory: 128 MiB of RAM at 0:
 *   0x010000  stream table, linear, LOG2SIZE 8 (STE n at 0x10000 + n * 64)
 *   0x020000  CD of SID 0x10 (S1CDMax 0: one CD)
 *   0x040000  event queue, 2^4 entries of 32 bytes
 *   0x050000  command queue, 2^4 entries of 16 bytes
 *   0x100000  stage-1 tables of SID 0x10 (4K granule, T0SZ 16: levels 0-3)
 *   0x200000  stage-2 tables of SID 0x18 (4K granule, T0SZ 25, SL0 1: levels 1-3)
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "dev/dev.h"
#include "hw/smmuv3/smmuv3_internal.h"
#include "mem/mem.h"

#define RAM_SIZE   0x8000000ull
#define STRTAB     0x10000ull
#define CDTAB      0x20000ull
#define EVTQ       0x40000ull
#define EVTQ_LOG2  4
#define CMDQ       0x50000ull
#define CMDQ_LOG2  4

#define SID_S1     0x10
#define SID_S2     0x18
#define STE(sid)   (STRTAB + (uint64_t)(sid) * 64)

#define VA_OK      0x12345678ull     /* mapped: L3 entry 0x103a28 -> 0x7655000 */
#define VA_HOLE    0x12346010ull     /* L3 index 0x146: entry 0x103a30, zero */
#define PTE_HOLE   0x103a30ull

static struct mem_space *ms;

static void die(const char *what)
{
	fprintf(stderr, "test_smmu_stall: setup failed: %s\n", what);
	exit(1);
}

static void put(uint64_t pa, uint64_t val)
{
	if (mem_store64(ms, pa, val))
		die("mem_store64");
}

static uint64_t get(uint64_t pa)
{
	uint64_t v = 0;

	if (mem_load64(ms, pa, &v))
		die("mem_load64");
	return v;
}

/*
 * SID 0x10, stage 1 only: STE dw0 = V (bit 0) | Config 0b101 (3:1: 0xa) |
 *   S1ContextPtr 0x20000 | S1CDMax 0 = 0x2000b; dw1 = 0 (S1STALLD = 0).
 * CD dw0 = T0SZ 16 (0x10) | EPD1 (bit 30) 0x40000000 | V (bit 31) 0x80000000 |
 *   IPS 0b101 (34:32) 0x500000000 | AA64 (bit 41) 0x20000000000 | flags | ASID 4
 *   (63:48) 0x4000000000000, where flags are S (bit 44) 0x100000000000, R (bit 45)
 *   0x200000000000, A (bit 46) 0x400000000000:
 *   S R A = 0x00047205c0000010; R only = 0x00042205c0000010.
 *   dw1 = TTB0 0x100000.
 * Stage-1 tables (VA bits 47:39 = 0, 38:30 = 0, 29:21 = 0x91, 20:12 = 0x145):
 *   0x100000 = 0x101003, 0x101000 = 0x102003, 0x102488 = 0x103003,
 *   0x103a28 = 0x7655000 | AF 0x400 | AP[1] 0x40 | 3 = 0x7655443; 0x103a30 = 0.
 * SID 0x18, stage 2 only: dw0 = V | Config 0b110 (0xc) = 0xd;
 *   dw2 = S2VMID 7 | S2T0SZ 25 (37:32) 0x1900000000 | S2SL0 1 (39:38)
 *   0x4000000000 | S2PS 0b101 (50:48) 0x5000000000000 | S2AA64 (bit 51)
 *   0x8000000000000 | S2S (bit 57) 0x200000000000000 = 0x020d005900000007;
 *   dw3 = S2TTB 0x200000. IPA 0x12345678: 0x200000 = 0x201003, 0x201488 =
 *   0x202003, 0x202a28 = 0x7656000 | AF 0x400 | S2AP 0b11 0xc0 | 3 = 0x76564c3;
 *   IPA 0x12346010: entry 0x202a30 = 0.
 */
#define CD0_SRA    0x00047205c0000010ull
#define CD0_R_ONLY 0x00042205c0000010ull

static void tables(uint64_t cd0)
{
	put(STE(SID_S1), 0x2000b);
	put(STE(SID_S1) + 8, 0);
	put(CDTAB, cd0);
	put(CDTAB + 8, 0x100000);
	put(0x100000, 0x101003);
	put(0x101000, 0x102003);
	put(0x102488, 0x103003);
	put(0x103a28, 0x7655443);
	put(PTE_HOLE, 0);
	put(0x7656010, 0x0badc0ffee0ddf00ull);  /* what VA_HOLE reads once mapped to 0x7656000 */

	put(STE(SID_S2), 0xd);
	put(STE(SID_S2) + 16, 0x020d005900000007ull);
	put(STE(SID_S2) + 24, 0x200000);
	put(0x200000, 0x201003);
	put(0x201488, 0x202003);
	put(0x202a28, 0x76564c3);
	put(0x202a30, 0);
}

struct rig {
	struct smmu *s;
	struct dev_ep *ep, *ep2;
	uint32_t evcons, cmdprod;
};

static void rig_start(struct rig *r, uint64_t cd0, unsigned stall_max)
{
	struct smmu_config c;
	struct dev_ep_config ec = { .rid = SID_S1 };
	uint32_t cr0 = (uint32_t)(CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN);

	if (ms)
		mem_space_free(ms);
	ms = mem_space_new();
	if (!ms || mem_add_anon(ms, 0, RAM_SIZE, MEM_RW, NULL))
		die("memory");
	tables(cd0);
	smmu_config_default(&c);
	c.stall_max = stall_max;
	r->s = smmu_new(&c, ms);
	if (!r->s)
		die("smmu_new");
	smmu_write(r->s, SMMU_STRTAB_BASE, 8, STRTAB);
	smmu_write(r->s, SMMU_STRTAB_BASE_CFG, 4, 8);
	smmu_write(r->s, SMMU_EVENTQ_BASE, 8, EVTQ | EVTQ_LOG2);
	smmu_write(r->s, SMMU_CMDQ_BASE, 8, CMDQ | CMDQ_LOG2);
	smmu_write(r->s, SMMU_CR0, 4, cr0);
	if ((uint32_t)smmu_read(r->s, SMMU_CR0ACK, 4) != cr0)
		die("CR0ACK");
	r->ep = dev_ep_new(&ec, ms);
	ec.rid = SID_S2;
	r->ep2 = dev_ep_new(&ec, ms);
	if (!r->ep || !r->ep2 || smmu_attach(r->s, r->ep) || smmu_attach(r->s, r->ep2))
		die("endpoints");
	r->evcons = 0;
	r->cmdprod = 0;
}

static void rig_stop(struct rig *r)
{
	smmu_free(r->s);
	dev_ep_free(r->ep);
	dev_ep_free(r->ep2);
}

/* A slot's state, read as the SMMU's code does: under its lock. */
static enum smmu_stall_state stall_state(struct rig *r, unsigned stag)
{
	enum smmu_stall_state st;

	smmu_lock(r->s);
	st = r->s->stalls[stag].state;
	smmu_unlock(r->s);
	return st;
}

/* The next event record (waiting up to 5 s for one), consumed as a driver does. */
static bool next_event(struct rig *r, uint64_t rec[4], unsigned wait_ms)
{
	uint32_t mask = (1u << (EVTQ_LOG2 + 1)) - 1;
	struct timespec ts = { 0, 1000000 };

	for (unsigned t = 0;; t++) {
		uint32_t prod = (uint32_t)smmu_read(r->s, SMMU_EVENTQ_PROD, 4);

		if ((prod & mask) != (r->evcons & mask))
			break;
		if (t >= wait_ms)
			return false;
		nanosleep(&ts, NULL);
	}
	for (unsigned i = 0; i < 4; i++)
		rec[i] = get(EVTQ + (uint64_t)(r->evcons & ((1u << EVTQ_LOG2) - 1)) * 32 + 8 * i);
	r->evcons = (r->evcons + 1) & mask;
	smmu_write(r->s, SMMU_EVENTQ_CONS, 4, r->evcons);
	return true;
}

/* One command at CMDQ_PROD, then PROD advanced (index and wrap). */
static void command(struct rig *r, uint64_t dw0, uint64_t dw1)
{
	uint32_t mask = (1u << (CMDQ_LOG2 + 1)) - 1;
	uint64_t at = CMDQ + (uint64_t)(r->cmdprod & ((1u << CMDQ_LOG2) - 1)) * 16;

	put(at, dw0);
	put(at + 8, dw1);
	r->cmdprod = (r->cmdprod + 1) & mask;
	smmu_write(r->s, SMMU_CMDQ_PROD, 4, r->cmdprod);
}

/* CMD_RESUME (0x44): SID 63:32, Ac (retry) bit 12, Ab (abort) bit 13; dw1 STAG. */
static void resume(struct rig *r, uint32_t sid, uint16_t stag, bool ac, bool ab)
{
	command(r, 0x44 | (uint64_t)sid << 32 | (ac ? 1ull << 12 : 0) | (ab ? 1ull << 13 : 0),
		stag);
}

/* A DMA on its own thread: it blocks while the SMMU holds it. */
struct dma_job {
	struct dev_ep *ep;
	struct dev_dma d;
	struct dev_dma_report rep;
	int ret;
	uint64_t buf;
	pthread_t thread;
};

static void *dma_thread(void *arg)
{
	struct dma_job *j = arg;

	j->ret = dev_dma(j->ep, &j->d, &j->rep);
	return NULL;
}

static void dma_start(struct dma_job *j, struct dev_ep *ep, uint64_t iova, bool write,
		      uint64_t timeout_ns)
{
	memset(j, 0, sizeof(*j));
	j->ep = ep;
	j->buf = write ? 0x5555aaaa5555aaaaull : 0xababababababababull;
	j->d = (struct dev_dma){ .write = write, .iova = iova, .buf = &j->buf, .len = 8,
				 .retry_wait_ns = timeout_ns };
	if (pthread_create(&j->thread, NULL, dma_thread, j))
		die("pthread_create");
}

static void dma_join(struct dma_job *j)
{
	pthread_join(j->thread, NULL);
}

/*
 * The stall record of a read of VA_HOLE by SID 0x10 with STAG n (§5.1):
 * dw0 = F_TRANSLATION 0x10 | SID 0x10 << 32 = 0x0000001000000010 (SSV 0);
 * dw1 = STAG n (15:0) | Stall (bit 31) 0x80000000 | RnW (bit 35) 0x800000000 |
 *       CLASS IN 0b10 (41:40) 0x20000000000 = 0x0000020880000000 | n;
 * dw2 = InputAddr 0x12346010; dw3 = 0 (a stage-1 fault has no IPA).
 */
static void check_stall_record(const uint64_t rec[4], uint16_t stag)
{
	CHECK_EQ(rec[0], 0x0000001000000010ull);
	CHECK_EQ(rec[1], 0x0000020880000000ull | stag);
	CHECK_EQ(rec[2], VA_HOLE);
	CHECK_EQ(rec[3], 0);
}

static void test_resume_retry(void)
{
	struct rig r;
	struct dma_job j;
	struct smmu_stats st;
	uint64_t rec[4];

	rig_start(&r, CD0_SRA, 64);
	dma_start(&j, r.ep, VA_HOLE, false, 0);
	CHECK(next_event(&r, rec, 5000));
	check_stall_record(rec, 0);             /* the first free STAG is 0 */
	CHECK_EQ(stall_state(&r, 0), STALL_STALLED);
	/* The handler maps the page (P, AF, AP[1]: 0x7656000 | 0x443) and resumes
	 * with retry; the retry walks again (the fault filled no TLB entry). */
	put(PTE_HOLE, 0x7656443);
	resume(&r, SID_S1, 0, true, false);
	dma_join(&j);
	CHECK_EQ(j.ret, 0);
	CHECK_EQ(j.rep.status, DEV_DMA_OK);
	CHECK_EQ(j.rep.stalls, 1);
	CHECK_EQ(j.rep.translations, 2);
	CHECK_EQ(j.buf, 0x0badc0ffee0ddf00ull);
	CHECK(!next_event(&r, rec, 0));         /* exactly one record */
	CHECK_EQ(stall_state(&r, 0), STALL_FREE);     /* collected: STAG 0 free again */
	smmu_get_stats(r.s, &st);
	CHECK_EQ(st.stalls, 1);
	CHECK_EQ(st.events[0x10], 1);
	CHECK_EQ(st.commands[0x44], 1);
	rig_stop(&r);
}

static void test_resume_terminate(void)
{
	struct rig r;
	struct dma_job j;
	uint64_t rec[4], before;

	rig_start(&r, CD0_SRA, 64);
	/* RESUME with Ac = 0, Ab = 1: terminated with abort. */
	dma_start(&j, r.ep, VA_HOLE, false, 0);
	CHECK(next_event(&r, rec, 5000));
	check_stall_record(rec, 0);
	resume(&r, SID_S1, 0, false, true);
	dma_join(&j);
	CHECK_EQ(j.rep.status, DEV_DMA_FAULT);
	CHECK_EQ(j.rep.xlate.status, DEV_XLATE_FAULT);
	CHECK_EQ(j.rep.xlate.fault_reason, 0x10);
	CHECK_EQ(j.rep.done, 0);
	CHECK_EQ(j.buf, 0xababababababababull);  /* nothing read */

	/* RESUME with a wrong SID, then an unknown STAG: no-ops; then Ac = Ab = 0:
	 * terminated RAZ/WI, so the read returns zeros and the DMA completes. */
	dma_start(&j, r.ep, VA_HOLE, false, 0);
	CHECK(next_event(&r, rec, 5000));
	check_stall_record(rec, 0);
	resume(&r, SID_S2, 0, true, false);
	resume(&r, SID_S1, 1, true, false);
	CHECK_EQ(stall_state(&r, 0), STALL_STALLED);
	resume(&r, SID_S1, 0, false, false);
	dma_join(&j);
	CHECK_EQ(j.rep.status, DEV_DMA_OK);
	CHECK_EQ(j.rep.raz_wi, 8);
	CHECK_EQ(j.buf, 0);

	/* A write terminated RAZ/WI goes nowhere: the page it would have reached
	 * once mapped (0x7656000) still holds what it held. */
	before = get(0x7656010);
	dma_start(&j, r.ep, VA_HOLE, true, 0);
	CHECK(next_event(&r, rec, 5000));
	CHECK_EQ(rec[1], 0x0000020080000000ull);  /* RnW 0: a write */
	resume(&r, SID_S1, 0, false, false);
	dma_join(&j);
	CHECK_EQ(j.rep.status, DEV_DMA_OK);
	CHECK_EQ(j.rep.raz_wi, 8);
	CHECK_EQ(get(0x7656010), before);

	/* CMD_STALL_TERM (0x45, SID 63:32): aborts every stall of the SID. */
	dma_start(&j, r.ep, VA_HOLE, false, 0);
	CHECK(next_event(&r, rec, 5000));
	command(&r, 0x45 | (uint64_t)SID_S1 << 32, 0);
	dma_join(&j);
	CHECK_EQ(j.rep.status, DEV_DMA_FAULT);
	CHECK_EQ(j.rep.stalls, 1);

	/* SMMUEN 1 -> 0 terminates every stalled transaction with abort. */
	dma_start(&j, r.ep, VA_HOLE, false, 0);
	CHECK(next_event(&r, rec, 5000));
	smmu_write(r.s, SMMU_CR0, 4, CR0_EVENTQEN | CR0_CMDQEN);
	dma_join(&j);
	CHECK_EQ(j.rep.status, DEV_DMA_FAULT);
	CHECK_EQ(stall_state(&r, 0), STALL_FREE);
	rig_stop(&r);
}

/* A stall record the queue cannot take is never discarded: the transaction
 * stays stalled with no visible STAG and is retried (and re-recorded) once the
 * queue is writable (§5.3). */
static void test_queue_unwritable(void)
{
	struct rig r;
	struct dma_job j;
	struct smmu_stats st;
	uint64_t rec[4];
	struct timespec ts = { 0, 20000000 };

	rig_start(&r, CD0_SRA, 64);
	smmu_write(r.s, SMMU_CR0, 4, CR0_SMMUEN | CR0_CMDQEN);     /* EVENTQEN off */
	dma_start(&j, r.ep, VA_HOLE, false, 0);
	for (int i = 0; i < 250 && atomic_load(&r.s->stall_count) == 0; i++)
		nanosleep(&ts, NULL);
	CHECK_EQ(stall_state(&r, 0), STALL_QUEUED);
	CHECK(!next_event(&r, rec, 0));
	smmu_get_stats(r.s, &st);
	CHECK_EQ(st.events_lost, 0);            /* held, not lost */
	/* RESUME cannot name it: software never saw its STAG. */
	resume(&r, SID_S1, 0, true, false);
	CHECK_EQ(stall_state(&r, 0), STALL_QUEUED);
	/* EVENTQEN on: the transaction retries, faults again and is recorded. */
	smmu_write(r.s, SMMU_CR0, 4, CR0_SMMUEN | CR0_CMDQEN | CR0_EVENTQEN);
	CHECK(next_event(&r, rec, 5000));
	check_stall_record(rec, 0);
	put(PTE_HOLE, 0x7656443);
	resume(&r, SID_S1, 0, true, false);
	dma_join(&j);
	CHECK_EQ(j.rep.status, DEV_DMA_OK);
	CHECK_EQ(j.rep.stalls, 2);
	CHECK_EQ(j.buf, 0x0badc0ffee0ddf00ull);
	rig_stop(&r);
}

/* STALL_MAX 1: while STAG 0 is held, a second stalling fault is terminated
 * with abort and recorded without Stall (the model's choice, §6.4: "treat a
 * stall configuration as terminate"). Then the endpoint giving up. */
static void test_stag_exhaustion_and_timeout(void)
{
	struct rig r;
	struct dma_job j, j2;
	uint64_t rec[4];

	rig_start(&r, CD0_SRA, 1);
	dma_start(&j, r.ep, VA_HOLE, false, 0);
	CHECK(next_event(&r, rec, 5000));
	check_stall_record(rec, 0);
	dma_start(&j2, r.ep, VA_HOLE, false, 0);
	dma_join(&j2);
	CHECK_EQ(j2.rep.status, DEV_DMA_FAULT);
	CHECK_EQ(j2.rep.stalls, 0);
	CHECK(next_event(&r, rec, 5000));
	CHECK_EQ(rec[0], 0x0000001000000010ull);
	CHECK_EQ(rec[1], 0x0000020800000000ull);  /* no Stall, no STAG */
	resume(&r, SID_S1, 0, true, false);       /* still unmapped: stalls again */
	CHECK(next_event(&r, rec, 5000));
	check_stall_record(rec, 0);
	resume(&r, SID_S1, 0, false, true);
	dma_join(&j);
	CHECK_EQ(j.rep.status, DEV_DMA_FAULT);
	CHECK_EQ(j.rep.stalls, 2);

	/* An endpoint that waits 30 ms gives up; its STAG stays taken until
	 * software answers it, which then frees it. */
	dma_start(&j, r.ep, VA_HOLE, false, 30000000);
	CHECK(next_event(&r, rec, 5000));
	dma_join(&j);
	CHECK_EQ(j.rep.status, DEV_DMA_STALL_TIMEOUT);
	CHECK_EQ(stall_state(&r, 0), STALL_ABANDONED);
	resume(&r, SID_S1, 0, true, false);
	CHECK_EQ(stall_state(&r, 0), STALL_FREE);
	rig_stop(&r);
}

/* Stage 2 with S2S = 1: a stage-2 fault stalls, and is always recorded.
 * Record: dw0 = 0x10 | SID 0x18 << 32 = 0x0000001800000010; dw1 = STAG 0 |
 * Stall 0x80000000 | RnW 0x800000000 | S2 (bit 39) 0x8000000000 | CLASS IN
 * 0x20000000000 = 0x0000028880000000; dw2 = 0x12346010; dw3 = IPA[55:12]
 * = 0x12346000. */
static void test_stage2_stall(void)
{
	struct rig r;
	struct dma_job j;
	uint64_t rec[4];

	rig_start(&r, CD0_SRA, 64);
	dma_start(&j, r.ep2, VA_HOLE, false, 0);
	CHECK(next_event(&r, rec, 5000));
	CHECK_EQ(rec[0], 0x0000001800000010ull);
	CHECK_EQ(rec[1], 0x0000028880000000ull);
	CHECK_EQ(rec[2], VA_HOLE);
	CHECK_EQ(rec[3], 0x12346000);
	put(0x202a30, 0x76564c3);               /* IPA page 0x12346000 -> 0x7656000 */
	resume(&r, SID_S2, 0, true, false);
	dma_join(&j);
	CHECK_EQ(j.rep.status, DEV_DMA_OK);
	CHECK_EQ(j.buf, 0x0badc0ffee0ddf00ull);
	rig_stop(&r);
}

/* CD.S = 0, CD.A = 0: a stage-1 fault terminates RAZ/WI without stalling,
 * recorded because CD.R = 1 (§5.3: A R S = 0 1 0). No STAG is taken. */
static void test_razwi_without_stall(void)
{
	struct rig r;
	struct dev_dma_report rep;
	uint64_t buf = 0xababababababababull, rec[4];
	struct dev_dma d = { .iova = VA_HOLE, .buf = &buf, .len = 8 };

	rig_start(&r, CD0_R_ONLY, 64);
	CHECK_EQ(dev_dma(r.ep, &d, &rep), 0);
	CHECK_EQ(rep.status, DEV_DMA_OK);
	CHECK_EQ(rep.raz_wi, 8);
	CHECK_EQ(rep.stalls, 0);
	CHECK_EQ(buf, 0);
	CHECK(next_event(&r, rec, 5000));
	CHECK_EQ(rec[0], 0x0000001000000010ull);
	CHECK_EQ(rec[1], 0x0000020800000000ull);
	CHECK_EQ(rec[2], VA_HOLE);
	CHECK_EQ(stall_state(&r, 0), STALL_FREE);
	/* A DMA that spans the mapped page and the hole: the first 8 bytes come
	 * from memory, the 8 in the hole read as zero. */
	{
		uint64_t two[2] = { 1, 1 };
		struct dev_dma d2 = { .iova = 0x12345ff8, .buf = two, .len = 16 };

		put(0x7655ff8, 0x0102030405060708ull);
		CHECK_EQ(dev_dma(r.ep, &d2, &rep), 0);
		CHECK_EQ(rep.status, DEV_DMA_OK);
		CHECK_EQ(two[0], 0x0102030405060708ull);
		CHECK_EQ(two[1], 0);
		CHECK_EQ(rep.raz_wi, 8);
	}
	rig_stop(&r);
}

int main(void)
{
	test_resume_retry();
	test_resume_terminate();
	test_queue_unwritable();
	test_stag_exhaustion_and_timeout();
	test_stage2_stall();
	test_razwi_without_stall();
	mem_space_free(ms);
	return check_exit();
}
