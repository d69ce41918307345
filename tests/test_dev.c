/* tests/test_dev.c — the PCIe endpoint model against a mock IOMMU built here:
 * configuration and enable rules, untranslated DMA, ATS with the device TLB
 * (sizes, permissions, privileged and execute requests), every invalidation
 * form against a reference of what it must drop, PRI round trips (success,
 * Invalid, Response Failure, timeout, dropped requests, index reuse, the
 * outstanding limit, PRI disabled under a waiter), refused requests that must
 * send nothing, DMAs into what is not memory, and DMAs racing invalidations.
 *
 * The mock IOMMU: a table of (PASID, input range) -> (output, permissions).
 * Untranslated requests that miss fault; ATS translation requests that miss get
 * "no access" (R = W = 0) so that the device may use PRI; translated requests
 * pass through. Its page_request records the request and, by mode, maps the page
 * and answers inline, from a responder thread, or not at all.
 *
 * CHECK is not thread-safe: helper threads count their findings in atomics and
 * the main thread checks them.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "dev/dev.h"

#define PG		0x1000ull
#define SZ_2M		0x200000ull
#define SZ_1G		0x40000000ull
#define RAM_BASE	0x40000000ull
#define RAM_SIZE	0x1000000ull		/* 16 MiB */
#define PRI_PA		(RAM_BASE + 0x800000)	/* pages PRI maps come from here */
#define ROM_BASE	0x50000000ull		/* one read-only page */
#define SPLIT_BASE	0x60000000ull		/* two adjacent one-page regions */
#define NOT_RAM		0x900000000ull

static struct mem_space *ms;
static uint8_t *ram;
static uint8_t rom[PG] __attribute__((aligned(4096)));
static uint8_t split_lo[PG] __attribute__((aligned(4096)));
static uint8_t split_hi[PG] __attribute__((aligned(4096)));

static uint8_t *host(uint64_t pa)
{
	return ram + (pa - RAM_BASE);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms_)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms_ * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- the mock IOMMU ------------------------------------------------------- */

struct mock_map {
	bool pasid_valid;
	uint32_t pasid;
	uint64_t iova, size, pa;
	bool r, w, x, priv;
};

enum pri_mode {
	PRI_INLINE,		/* answer inside page_request */
	PRI_RECORD,		/* record only: the test answers */
	PRI_QUEUE,		/* the responder thread answers */
	PRI_ENOSPC_INLINE,	/* answer inline, then report the request dropped */
	PRI_ENOSPC_QUEUE,	/* report it dropped; the responder thread answers */
};

#define MOCK_MAPS	64
#define MOCK_REQS	2048
#define MOCK_QUEUE	64

struct mock {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct dev_ep *ep;
	struct dev_port port;
	struct mock_map map[MOCK_MAPS];
	unsigned nmap;
	unsigned calls[3];			/* per enum dev_at */
	uint64_t last_addr[3];
	struct dev_txn last_translated;
	struct dev_page_req req[MOCK_REQS];
	unsigned nreq;
	struct dev_page_req queue[MOCK_QUEUE];
	unsigned qhead, qtail;
	enum pri_mode pri_mode;
	enum dev_prg_resp pri_code;
	bool pri_map;				/* map the page before answering */
	uint64_t pri_pa;
	bool translated_fault, trans_req_ur;
	bool inval_in_flight;			/* invalidate during the next request */
	bool hold_translated, held;		/* park translated requests */
	bool responder_stop;
	bool responder_running;
	pthread_t responder;
	_Atomic unsigned answer_errors;
};

static const struct mock_map *mock_find(struct mock *m, const struct dev_txn *t)
{
	for (unsigned i = 0; i < m->nmap; i++) {
		const struct mock_map *e = &m->map[i];

		if (e->pasid_valid == t->pasid_valid && (!e->pasid_valid || e->pasid == t->pasid) &&
		    t->addr - e->iova < e->size)
			return e;
	}
	return NULL;
}

static void mock_map_locked(struct mock *m, bool pasid_valid, uint32_t pasid, uint64_t iova,
			    uint64_t size, uint64_t pa, const char *perm)
{
	struct mock_map *e = &m->map[m->nmap++];

	*e = (struct mock_map){ .pasid_valid = pasid_valid, .pasid = pasid, .iova = iova,
				.size = size, .pa = pa };
	e->r = strchr(perm, 'r');
	e->w = strchr(perm, 'w');
	e->x = strchr(perm, 'x');
	e->priv = strchr(perm, 'p');
}

static void mock_map(struct mock *m, bool pasid_valid, uint32_t pasid, uint64_t iova,
		     uint64_t size, uint64_t pa, const char *perm)
{
	pthread_mutex_lock(&m->lock);
	mock_map_locked(m, pasid_valid, pasid, iova, size, pa, perm);
	pthread_mutex_unlock(&m->lock);
}

static void mock_translate(void *iommu, const struct dev_txn *t, struct dev_xlate *x)
{
	struct mock *m = iommu;
	const struct mock_map *e;

	memset(x, 0, sizeof(*x));
	pthread_mutex_lock(&m->lock);
	m->calls[t->at]++;
	m->last_addr[t->at] = t->addr;
	if (t->at == DEV_AT_TRANSLATED) {
		/* Parked until the test lets it go: a DMA caught mid-flight. */
		while (m->hold_translated) {
			m->held = true;
			pthread_cond_broadcast(&m->cond);
			pthread_cond_wait(&m->cond, &m->lock);
		}
		/* Pass-through of translated requests, or refusal of all of them. */
		m->last_translated = *t;
		if (m->translated_fault) {
			x->status = DEV_XLATE_FAULT;
			x->fault_reason = 0x7;
		} else {
			x->pa = t->addr;
			x->page_base = t->addr & ~(PG - 1);
			x->size = PG;
			x->r = x->w = true;
		}
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (t->at == DEV_AT_TRANS_REQ && m->trans_req_ur) {
		x->status = DEV_XLATE_UR;
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (t->at == DEV_AT_TRANS_REQ && m->inval_in_flight) {
		/* An invalidation arrives while this request is in flight (from
		 * this thread: the endpoint must not wait for itself). */
		m->inval_in_flight = false;
		pthread_mutex_unlock(&m->lock);
		dev_ep_atc_invalidate(m->ep, false, 0, false, 0, 0);
		pthread_mutex_lock(&m->lock);
	}
	e = mock_find(m, t);
	if (!e) {
		x->status = t->at == DEV_AT_TRANS_REQ ? DEV_XLATE_NO_ACCESS : DEV_XLATE_FAULT;
		x->fault_reason = 0x71;
	} else if (t->at == DEV_AT_UNTRANSLATED &&
		   ((t->write && !e->w) || (!t->write && !e->r) || (t->exec && !e->x) ||
		    (t->priv && !e->priv))) {
		x->status = DEV_XLATE_FAULT;
		x->fault_reason = 0x85;
	} else {
		x->status = DEV_XLATE_OK;
		x->pa = e->pa + (t->addr - e->iova);
		x->page_base = e->iova;
		x->size = e->size;
		x->r = e->r;
		x->w = e->w;
		/* As PCIe has it: Execute only when requested; the completion's
		 * permissions are for the privilege mode requested. */
		x->x = e->x && t->exec;
		x->priv = e->priv && t->priv;
	}
	pthread_mutex_unlock(&m->lock);
}

static void mock_answer(struct mock *m, const struct dev_page_req *pr)
{
	enum dev_prg_resp code;

	pthread_mutex_lock(&m->lock);
	code = m->pri_code;
	if (m->pri_map) {
		mock_map_locked(m, pr->pasid_valid, pr->pasid, pr->addr, PG, m->pri_pa, "rwxp");
		m->pri_pa += PG;
	}
	pthread_mutex_unlock(&m->lock);
	if (dev_ep_page_response(m->ep, pr->pasid_valid, pr->pasid, pr->prgi, code) != 0)
		atomic_fetch_add(&m->answer_errors, 1);
}

static int mock_page_request(void *iommu, const struct dev_page_req *pr)
{
	struct mock *m = iommu;
	enum pri_mode mode;

	pthread_mutex_lock(&m->lock);
	if (m->nreq < MOCK_REQS)
		m->req[m->nreq] = *pr;
	m->nreq++;
	mode = m->pri_mode;
	if (mode == PRI_QUEUE || mode == PRI_ENOSPC_QUEUE)
		m->queue[m->qtail++ % MOCK_QUEUE] = *pr;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	switch (mode) {
	case PRI_INLINE:
		mock_answer(m, pr);
		return 0;
	case PRI_ENOSPC_INLINE:
		mock_answer(m, pr);
		return -ENOSPC;
	case PRI_ENOSPC_QUEUE:
		return -ENOSPC;
	default:
		return 0;
	}
}

static void *mock_responder(void *arg)
{
	struct mock *m = arg;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		struct dev_page_req pr;

		while (m->qhead == m->qtail && !m->responder_stop)
			pthread_cond_wait(&m->cond, &m->lock);
		if (m->qhead == m->qtail)
			break;
		pr = m->queue[m->qhead++ % MOCK_QUEUE];
		pthread_mutex_unlock(&m->lock);
		sched_yield();		/* let the requester reach its wait, sometimes */
		mock_answer(m, &pr);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static void mock_start_responder(struct mock *m)
{
	m->responder_stop = false;
	m->responder_running = pthread_create(&m->responder, NULL, mock_responder, m) == 0;
	CHECK(m->responder_running);
}

static void mock_stop_responder(struct mock *m)
{
	if (!m->responder_running)
		return;
	pthread_mutex_lock(&m->lock);
	m->responder_stop = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->responder, NULL);
	m->responder_running = false;
}

static struct mock *mock_new(const struct dev_ep_config *cfg)
{
	struct mock *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->port = (struct dev_port){ .iommu = m, .translate = mock_translate,
				     .page_request = mock_page_request };
	m->pri_pa = PRI_PA;
	m->pri_code = DEV_PRG_SUCCESS;
	m->pri_map = true;
	m->ep = dev_ep_new(cfg, ms);
	CHECK(m->ep);
	if (!m->ep)
		abort();
	dev_ep_attach(m->ep, &m->port);
	return m;
}

static void mock_free(struct mock *m)
{
	mock_stop_responder(m);
	CHECK_EQ(atomic_load(&m->answer_errors), 0);
	dev_ep_free(m->ep);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Everything the endpoint sent the IOMMU. */
static unsigned mock_traffic(struct mock *m)
{
	unsigned n;

	pthread_mutex_lock(&m->lock);
	n = m->calls[0] + m->calls[1] + m->calls[2] + m->nreq;
	pthread_mutex_unlock(&m->lock);
	return n;
}

static unsigned mock_calls(struct mock *m, enum dev_at at)
{
	unsigned n;

	pthread_mutex_lock(&m->lock);
	n = m->calls[at];
	pthread_mutex_unlock(&m->lock);
	return n;
}

static unsigned mock_nreq(struct mock *m)
{
	unsigned n;

	pthread_mutex_lock(&m->lock);
	n = m->nreq;
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* Waits (up to 2 s) until the endpoint has sent n page requests. */
static bool mock_wait_nreq(struct mock *m, unsigned n)
{
	uint64_t until = now_ns() + 2000000000u;

	while (mock_nreq(m) < n) {
		if (now_ns() > until)
			return false;
		sleep_ms(1);
	}
	return true;
}

static void mock_set_pri(struct mock *m, enum pri_mode mode, enum dev_prg_resp code, bool map)
{
	pthread_mutex_lock(&m->lock);
	m->pri_mode = mode;
	m->pri_code = code;
	m->pri_map = map;
	pthread_mutex_unlock(&m->lock);
}

static struct dev_page_req mock_req(struct mock *m, unsigned i)
{
	struct dev_page_req pr;

	pthread_mutex_lock(&m->lock);
	pr = m->req[i];
	pthread_mutex_unlock(&m->lock);
	return pr;
}

/* One DMA from the main thread; the call itself must succeed. */
static struct dev_dma_report run(struct dev_ep *ep, struct dev_dma d)
{
	struct dev_dma_report rep;

	CHECK_EQ(dev_dma(ep, &d, &rep), 0);
	return rep;
}

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

static const struct dev_ep_config cfg_full = {
	.rid = 0x0310,			/* 03:02.0 */
	.pasid_bits = 20,
	.exec_perm = true,
	.priv_mode = true,
	.ats = true,
	.atc_entries = 256,
	.atc_ways = 8,
	.pri = true,
	.pri_outstanding = 8,
};

/* ---- configuration and enables ------------------------------------------ */

static void expect_bad_config(struct dev_ep_config c)
{
	errno = 0;
	CHECK(!dev_ep_new(&c, ms) && errno == EINVAL);
}

static void test_config(void)
{
	struct dev_ep_config c = cfg_full;
	struct dev_ep *ep;

	errno = 0;
	CHECK(!dev_ep_new(NULL, ms) && errno == EINVAL);
	errno = 0;
	CHECK(!dev_ep_new(&cfg_full, NULL) && errno == EINVAL);
	c.pasid_bits = 21;
	expect_bad_config(c);
	c = cfg_full;
	c.atc_entries = 24;			/* not a power of two */
	expect_bad_config(c);
	c = cfg_full;
	c.atc_ways = 0;
	expect_bad_config(c);
	c.atc_ways = 128;			/* more than 64 ways */
	expect_bad_config(c);
	c.atc_entries = 4;
	c.atc_ways = 8;				/* fewer entries than ways */
	expect_bad_config(c);
	c = cfg_full;
	c.pri_outstanding = 0;
	expect_bad_config(c);

	ep = dev_ep_new(&cfg_full, ms);
	CHECK(ep && dev_ep_rid(ep) == 0x0310);
	dev_ep_free(ep);
	/* The limits themselves; ATS without a TLB; fields of absent capabilities
	 * are not looked at; more outstanding requests than PRG indexes. */
	c = (struct dev_ep_config){ .pasid_bits = 20, .ats = true, .atc_entries = 0,
				    .atc_ways = 0, .pri = true, .pri_outstanding = 100000 };
	ep = dev_ep_new(&c, ms);
	CHECK(ep);
	dev_ep_free(ep);
	c = (struct dev_ep_config){ .atc_entries = 3, .atc_ways = 0, .pri_outstanding = 0 };
	ep = dev_ep_new(&c, ms);
	CHECK(ep);
	dev_ep_free(ep);
	c = cfg_full;
	c.atc_entries = 64;
	c.atc_ways = 64;			/* fully associative */
	ep = dev_ep_new(&c, ms);
	CHECK(ep);
	dev_ep_free(ep);
}

static void test_enables(void)
{
	struct dev_ep_config none = { .rid = 0x0100 };
	struct dev_ep_config pri_only = { .rid = 0x0101, .pri = true, .pri_outstanding = 1 };
	struct mock *m = mock_new(&cfg_full);
	struct dev_ep *ep = m->ep, *bare = dev_ep_new(&none, ms);
	struct dev_ep_stats st;
	struct dev_dma_report rep;
	uint8_t buf[16];

	/* Absent capabilities cannot be enabled or disabled. */
	CHECK(bare);
	CHECK_EQ(dev_ep_enable_pasid(bare, true), -EINVAL);
	CHECK_EQ(dev_ep_enable_ats(bare, true), -EINVAL);
	CHECK_EQ(dev_ep_enable_pri(bare, true), -EINVAL);
	CHECK_EQ(dev_ep_enable_pasid(bare, false), -EINVAL);
	CHECK_EQ(dev_ep_enable_ats(bare, false), -EINVAL);
	CHECK_EQ(dev_ep_enable_pri(bare, false), -EINVAL);
	dev_ep_free(bare);
	/* PRI needs nothing else enabled. */
	bare = dev_ep_new(&pri_only, ms);
	CHECK(bare && dev_ep_enable_pri(bare, true) == 0);
	dev_ep_free(bare);

	mock_map(m, false, 0, 0x10000, PG, RAM_BASE + 0x10000, "rw");
	mock_map(m, false, 0, 0x11000, PG, RAM_BASE + 0x11000, "rw");
	mock_map(m, false, 0, 0x12000, PG, RAM_BASE + 0x12000, "rw");
	mock_map(m, true, 4, 0x10000, PG, RAM_BASE + 0x13000, "rw");

	/* After reset PASID is disabled: a PASID request is refused, unsent. */
	CHECK_EQ(dev_dma(ep, &(struct dev_dma){ .pasid_valid = true, .pasid = 4, .iova = 0x10000,
						 .buf = buf, .len = 8 }, &rep), -EINVAL);
	CHECK_EQ(mock_traffic(m), 0);
	CHECK_EQ(dev_ep_enable_pasid(ep, true), 0);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 4, .iova = 0x10000,
					.buf = buf, .len = 8 });
	CHECK_EQ(rep.status, DEV_DMA_OK);

	/* ATS is disabled: DMAs go untranslated. */
	rep = run(ep, (struct dev_dma){ .iova = 0x10000, .buf = buf, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 0 && rep.translations == 1);
	CHECK_EQ(mock_calls(m, DEV_AT_UNTRANSLATED), 2);
	CHECK_EQ(mock_calls(m, DEV_AT_TRANS_REQ), 0);
	CHECK_EQ(dev_ep_enable_ats(ep, true), 0);
	for (uint64_t iova = 0x10000; iova < 0x13000; iova += PG) {
		rep = run(ep, (struct dev_dma){ .iova = iova, .buf = buf, .len = 8 });
		CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1);
	}
	CHECK_EQ(mock_calls(m, DEV_AT_TRANS_REQ), 3);
	CHECK_EQ(mock_calls(m, DEV_AT_TRANSLATED), 3);
	CHECK_EQ(mock_calls(m, DEV_AT_UNTRANSLATED), 2);
	rep = run(ep, (struct dev_dma){ .iova = 0x10000, .buf = buf, .len = 8 });
	CHECK_EQ(rep.atc_hits, 1);

	/* Disabling ATS drops the whole device TLB. */
	dev_ep_get_stats(ep, &st);
	CHECK_EQ(st.atc_invalidated, 0);
	CHECK_EQ(dev_ep_enable_ats(ep, false), 0);
	dev_ep_get_stats(ep, &st);
	CHECK_EQ(st.atc_invalidated, 3);
	rep = run(ep, (struct dev_dma){ .iova = 0x10000, .buf = buf, .len = 8 });
	CHECK(rep.atc_hits == 0 && rep.atc_misses == 0);	/* untranslated again */
	CHECK_EQ(dev_ep_enable_ats(ep, true), 0);
	rep = run(ep, (struct dev_dma){ .iova = 0x10000, .buf = buf, .len = 8 });
	CHECK(rep.atc_hits == 0 && rep.atc_misses == 1);

	/* PRI is disabled: no access is a fault, and no page request goes out. */
	rep = run(ep, (struct dev_dma){ .iova = 0x50000, .buf = buf, .len = 8, .use_pri = true });
	CHECK_EQ(rep.status, DEV_DMA_FAULT);
	CHECK_EQ(rep.xlate.status, DEV_XLATE_NO_ACCESS);
	CHECK_EQ(mock_nreq(m), 0);
	CHECK_EQ(dev_ep_enable_pri(ep, true), 0);
	rep = run(ep, (struct dev_dma){ .iova = 0x50000, .buf = buf, .len = 8, .use_pri = true });
	CHECK(rep.status == DEV_DMA_OK && rep.page_requests == 1);
	mock_free(m);
}

/* ---- untranslated DMA ------------------------------------------------------ */

static void test_untranslated(void)
{
	struct mock *m = mock_new(&cfg_full);
	struct dev_ep *ep = m->ep;
	struct dev_dma_report rep;
	struct dev_ep_stats st;
	static uint8_t src[0x3000], dst[0x3000];

	/* Three scattered pages, a 2M translation, a read-only page. */
	mock_map(m, false, 0, 0x10000, PG, RAM_BASE + 0x5000, "rw");
	mock_map(m, false, 0, 0x11000, PG, RAM_BASE + 0x3000, "rw");
	mock_map(m, false, 0, 0x12000, PG, RAM_BASE + 0x8000, "rw");
	mock_map(m, false, 0, 0x200000, SZ_2M, RAM_BASE + 0x200000, "rw");
	mock_map(m, false, 0, 0x13000, PG, RAM_BASE + 0x9000, "r");

	pattern(src, sizeof(src), 1);
	rep = run(ep, (struct dev_dma){ .write = true, .iova = 0x10800, .buf = src, .len = 0x2000 });
	CHECK_EQ(rep.status, DEV_DMA_OK);
	CHECK_EQ(rep.done, 0x2000);
	CHECK_EQ(rep.translations, 3);
	CHECK_EQ(mock_calls(m, DEV_AT_UNTRANSLATED), 3);
	CHECK(!memcmp(host(RAM_BASE + 0x5800), src, 0x800));
	CHECK(!memcmp(host(RAM_BASE + 0x3000), src + 0x800, 0x1000));
	CHECK(!memcmp(host(RAM_BASE + 0x8000), src + 0x1800, 0x800));
	CHECK_EQ(host(RAM_BASE + 0x57ff)[0], 0);		/* nothing before */
	CHECK_EQ(host(RAM_BASE + 0x8800)[0], 0);		/* nothing after */
	memset(dst, 0, sizeof(dst));
	rep = run(ep, (struct dev_dma){ .iova = 0x10800, .buf = dst, .len = 0x2000 });
	CHECK(rep.status == DEV_DMA_OK && !memcmp(dst, src, 0x2000));

	/* A 2M translation covers several pages with one request. */
	pattern(src, sizeof(src), 2);
	rep = run(ep, (struct dev_dma){ .write = true, .iova = 0x201800, .buf = src, .len = 0x3000 });
	CHECK(rep.status == DEV_DMA_OK && rep.done == 0x3000 && rep.translations == 1);
	CHECK(!memcmp(host(RAM_BASE + 0x201800), src, 0x3000));
	/* ... and ends where it ends: the last page of the 2M and beyond. */
	rep = run(ep, (struct dev_dma){ .iova = 0x3ff000, .buf = dst, .len = 0x2000 });
	CHECK_EQ(rep.status, DEV_DMA_FAULT);
	CHECK_EQ(rep.done, 0x1000);
	CHECK_EQ(rep.fault_iova, 0x400000);
	CHECK_EQ(rep.xlate.status, DEV_XLATE_FAULT);
	CHECK_EQ(rep.xlate.fault_reason, 0x71);
	CHECK_EQ(rep.translations, 2);

	/* The IOMMU checks untranslated permissions. */
	rep = run(ep, (struct dev_dma){ .write = true, .iova = 0x13000, .buf = src, .len = 8 });
	CHECK(rep.status == DEV_DMA_FAULT && rep.done == 0 && rep.xlate.fault_reason == 0x85);
	rep = run(ep, (struct dev_dma){ .iova = 0x13000, .buf = dst, .len = 8 });
	CHECK_EQ(rep.status, DEV_DMA_OK);

	dev_ep_get_stats(ep, &st);
	CHECK_EQ(st.dmas, 6);
	CHECK_EQ(st.bytes, 0x2000 + 0x2000 + 0x3000 + 0x1000 + 8);
	CHECK_EQ(st.faults, 2);
	CHECK_EQ(st.atc_hits + st.atc_misses, 0);
	mock_free(m);
}

/* ---- ATS and the device TLB ----------------------------------------------- */

static void test_ats(void)
{
	struct mock *m = mock_new(&cfg_full);
	struct dev_ep *ep = m->ep;
	struct dev_dma_report rep;
	struct dev_ep_stats st;
	static uint8_t src[0x4000], dst[0x4000];
	const uint32_t P = 5;
	struct dev_ep_config nocache = cfg_full;
	struct mock *m0;

	CHECK_EQ(dev_ep_enable_pasid(ep, true), 0);
	CHECK_EQ(dev_ep_enable_ats(ep, true), 0);
	mock_map(m, true, P, 0x10000, PG, RAM_BASE + 0x5000, "rw");
	mock_map(m, true, P, 0x11000, PG, RAM_BASE + 0x6000, "r");
	mock_map(m, true, P, 0x12000, PG, RAM_BASE + 0x7000, "rxp");
	mock_map(m, true, P, 0x400000, SZ_2M, RAM_BASE + 0x400000, "rw");

	/* Miss, translation request, translated request to the output address. */
	pattern(host(RAM_BASE + 0x5000), PG, 3);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .iova = 0x10010,
					.buf = dst, .len = 16 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1 && rep.atc_hits == 0);
	CHECK_EQ(rep.translations, 1);
	CHECK_EQ(mock_calls(m, DEV_AT_TRANS_REQ), 1);
	CHECK_EQ(mock_calls(m, DEV_AT_TRANSLATED), 1);
	CHECK_EQ(m->last_addr[DEV_AT_TRANSLATED], RAM_BASE + 0x5010);
	CHECK(!m->last_translated.pasid_valid);		/* no PASID on translated requests */
	CHECK_EQ(m->last_translated.rid, 0x0310);
	CHECK(!memcmp(dst, host(RAM_BASE + 0x5010), 16));
	/* Hit: no translation request, still a translated request. */
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .iova = 0x10ff8,
					.buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_hits == 1 && rep.atc_misses == 0);
	CHECK_EQ(rep.translations, 0);
	CHECK_EQ(mock_calls(m, DEV_AT_TRANS_REQ), 1);
	CHECK_EQ(mock_calls(m, DEV_AT_TRANSLATED), 2);
	CHECK_EQ(m->last_addr[DEV_AT_TRANSLATED], RAM_BASE + 0x5ff8);
	/* The same address without PASID is another translation (none: no access). */
	rep = run(ep, (struct dev_dma){ .iova = 0x10010, .buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_FAULT && rep.atc_misses == 1);
	CHECK_EQ(rep.xlate.status, DEV_XLATE_NO_ACCESS);
	/* Nor is another PASID. */
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P + 1, .iova = 0x10010,
					.buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_FAULT && rep.atc_misses == 1);

	/* A 2M translation: one miss for four pages, then hits anywhere in it. */
	pattern(src, sizeof(src), 4);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .write = true,
					.iova = 0x401000, .buf = src, .len = 0x4000 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1 && rep.translations == 1);
	CHECK_EQ(rep.atc_hits, 0);
	CHECK(!memcmp(host(RAM_BASE + 0x401000), src, 0x4000));
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .iova = 0x5ff000,
					.buf = dst, .len = 0x1000 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_hits == 1 && rep.translations == 0);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .iova = 0x402000,
					.buf = dst, .len = 0x2000 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_hits == 1 && !memcmp(dst, src + 0x1000, 0x2000));

	/* Permissions: read-only caches and serves reads; a write asks again and
	 * is refused by the completion (no PRI requested). */
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .iova = 0x11000,
					.buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .iova = 0x11000,
					.buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_hits == 1);
	{
		unsigned translated = mock_calls(m, DEV_AT_TRANSLATED);

		rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .write = true,
						.iova = 0x11000, .buf = src, .len = 8 });
		CHECK(rep.status == DEV_DMA_FAULT && rep.atc_misses == 1 && rep.atc_hits == 0);
		CHECK_EQ(rep.translations, 1);
		CHECK(rep.xlate.status == DEV_XLATE_OK && rep.xlate.r && !rep.xlate.w);
		CHECK(rep.done == 0 && rep.fault_iova == 0x11000);
		CHECK_EQ(mock_calls(m, DEV_AT_TRANSLATED), translated);	/* nothing issued */
	}
	/* Execute: a read's completion carries no X; exec asks again, then hits. */
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .iova = 0x12000,
					.buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .exec = true,
					.iova = 0x12000, .buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1 && rep.translations == 1);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .exec = true,
					.iova = 0x12000, .buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_hits == 1);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .exec = true,
					.iova = 0x10000, .buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_FAULT && !rep.xlate.x);	/* no X there */
	/* Privileged: cached apart from user translations, priv must be granted. */
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .priv = true,
					.iova = 0x12000, .buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .priv = true,
					.iova = 0x12000, .buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_hits == 1);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .priv = true,
					.iova = 0x10000, .buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_FAULT && rep.xlate.r && !rep.xlate.priv);

	/* The IOMMU refuses translated requests (e.g. ATS not allowed for the RID). */
	m->translated_fault = true;
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .iova = 0x10000,
					.buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_FAULT && rep.atc_hits == 1 && rep.done == 0);
	CHECK(rep.xlate.status == DEV_XLATE_FAULT && rep.xlate.fault_reason == 0x7);
	m->translated_fault = false;
	/* An unsupported-request completion is a fault. */
	CHECK_EQ(dev_ep_atc_invalidate(ep, true, P, false, 0, 0), 6);
	m->trans_req_ur = true;
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = P, .iova = 0x10000,
					.buf = dst, .len = 8, .use_pri = true });
	CHECK(rep.status == DEV_DMA_FAULT && rep.xlate.status == DEV_XLATE_UR);
	CHECK_EQ(rep.page_requests, 0);
	m->trans_req_ur = false;

	dev_ep_get_stats(ep, &st);
	CHECK_EQ(st.atc_hits, 7);
	CHECK_EQ(st.atc_misses, 12);
	mock_free(m);

	/* ATS without a device TLB: every access asks. */
	nocache.atc_entries = 0;
	m0 = mock_new(&nocache);
	CHECK_EQ(dev_ep_enable_ats(m0->ep, true), 0);
	mock_map(m0, false, 0, 0x10000, PG, RAM_BASE + 0x5000, "rw");
	for (int i = 0; i < 2; i++) {
		rep = run(m0->ep, (struct dev_dma){ .iova = 0x10000, .buf = dst, .len = 8 });
		CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1 && rep.translations == 1);
	}
	CHECK_EQ(dev_ep_atc_invalidate(m0->ep, false, 0, false, 0, 0), 0);
	mock_free(m0);
}

/* ---- invalidation -------------------------------------------------------- */

struct inv_entry {
	bool pasid_valid;
	uint32_t pasid;
	bool priv;
	uint64_t iova, size, pa;
};

static const struct inv_entry inv_entries[] = {
	{ false, 0, false, 0x1000, PG, RAM_BASE + 0x1000 },		/* 0 */
	{ false, 0, false, 0x200000, SZ_2M, RAM_BASE + 0x200000 },	/* 1 */
	{ true, 1, false, 0x1000, PG, RAM_BASE + 0x2000 },		/* 2 */
	{ true, 1, true, 0x1000, PG, RAM_BASE + 0x2000 },		/* 3: 2, privileged */
	{ true, 1, false, 0x5000, PG, RAM_BASE + 0x3000 },		/* 4 */
	{ true, 1, false, 0x400000, SZ_2M, RAM_BASE + 0x400000 },	/* 5 */
	{ true, 1, false, 0x3fe00000, SZ_2M, RAM_BASE + 0x600000 },	/* 6 */
	{ true, 1, false, 0x40000000, SZ_1G, RAM_BASE },		/* 7 */
	{ true, 2, false, 0x1000, PG, RAM_BASE + 0x4000 },		/* 8 */
	{ true, 2, false, 0x7000, PG, RAM_BASE + 0x5000 },		/* 9 */
	{ true, 2, false, 0x80000000, SZ_1G, RAM_BASE },		/* 10 */
};

/* What dev.h says an invalidation drops: the reference for every entry. */
static bool inv_drops(const struct inv_entry *e, bool pasid_valid, uint32_t pasid, bool global,
		      uint64_t addr, uint64_t size)
{
	uint64_t first = size ? addr : 0, last = size ? addr + size - 1 : UINT64_MAX;

	/* Without a PASID the request covers every entry in the range (PCIe). */
	if (pasid_valid && (global ? !e->pasid_valid : !e->pasid_valid || e->pasid != pasid))
		return false;
	return e->iova <= last && e->iova + e->size - 1 >= first;
}

/* A DMA inside the entry's range: was it an ATC hit? (It refills on a miss.) */
static bool inv_probe(struct dev_ep *ep, const struct inv_entry *e, unsigned *translations)
{
	uint64_t off = e->size > SZ_2M ? 0x100000 : e->size / 2;
	uint64_t word;
	struct dev_dma_report rep = run(ep, (struct dev_dma){
		.pasid_valid = e->pasid_valid, .pasid = e->pasid, .priv = e->priv,
		.iova = e->iova + off, .buf = &word, .len = 8 });

	CHECK_MSG(rep.status == DEV_DMA_OK, "probe of 0x%llx: status %d",
		  (unsigned long long)e->iova, rep.status);
	*translations = rep.translations;
	return rep.atc_hits == 1;
}

struct inv_form {
	bool pasid_valid;
	uint32_t pasid;
	bool global;
	uint64_t addr, size;
	unsigned drops;		/* worked by hand from the table above */
};

static const struct inv_form inv_forms[] = {
	{ true, 1, false, 0x5000, PG, 1 },		/* 4 */
	{ true, 1, false, 0x403000, PG, 1 },		/* 5: a page inside the 2M */
	{ true, 1, false, 0x1000, PG, 2 },		/* 2, 3: both privilege modes */
	{ true, 2, false, 0x1000, PG, 1 },		/* 8 */
	{ false, 0, false, 0x1000, PG, 4 },		/* 0, 2, 3, 8: no PASID covers all */
	{ false, 0, false, 0x210000, 0x10000, 1 },	/* 1 */
	{ true, 9, true, 0x0, 0x2000, 3 },		/* 2, 3, 8: every PASID, not 0 */
	{ true, 9, true, 0x40000000, SZ_1G, 1 },	/* 7 */
	{ true, 1, false, 0x0, SZ_2M, 3 },		/* 2, 3, 4 */
	{ true, 1, false, 0x0, 0x800000, 4 },		/* 2, 3, 4, 5 */
	{ true, 1, false, 0x0, SZ_1G, 5 },		/* 2 .. 6 */
	{ true, 1, false, 0x3fe00000, SZ_2M, 1 },	/* 6, not the 1G above it */
	{ true, 1, false, 0x40000000, PG, 1 },		/* 7 by its first page */
	{ true, 1, false, 0x7fe00000, SZ_2M, 1 },	/* 7 by its last 2M */
	{ true, 1, false, 0x80000000, SZ_1G, 0 },	/* PASID 2's 1G */
	{ true, 2, false, 0x80000000, 2 * SZ_1G, 1 },	/* 10 */
	{ false, 0, false, 0x0, 4 * SZ_1G, 11 },	/* all: every entry is below 4G */
	{ true, 3, false, 0, 0, 0 },			/* everything of an unused PASID */
	{ true, 1, false, 0, 0, 6 },			/* everything of PASID 1 */
	{ true, 0, true, 0, 0, 9 },			/* everything of every PASID */
	{ false, 0, false, 0, 0, 11 },			/* everything, PASID or not */
};

static void inv_check(struct dev_ep *ep, const struct inv_form *f, bool by_hand, unsigned n)
{
	unsigned expect = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(inv_entries); i++)
		expect += inv_drops(&inv_entries[i], f->pasid_valid, f->pasid, f->global, f->addr,
				    f->size);
	CHECK_MSG(n == expect, "invalidate pasid %u/%d global %d 0x%llx+0x%llx dropped %u, "
		  "expected %u", f->pasid, f->pasid_valid, f->global,
		  (unsigned long long)f->addr, (unsigned long long)f->size, n, expect);
	if (by_hand)
		CHECK_MSG(n == f->drops, "form 0x%llx+0x%llx: %u, by hand %u",
			  (unsigned long long)f->addr, (unsigned long long)f->size, n, f->drops);
	for (unsigned i = 0; i < ARRAY_SIZE(inv_entries); i++) {
		const struct inv_entry *e = &inv_entries[i];
		bool dropped = inv_drops(e, f->pasid_valid, f->pasid, f->global, f->addr, f->size);
		unsigned translations;
		bool hit = inv_probe(ep, e, &translations);

		CHECK_MSG(hit == !dropped, "entry %u after invalidate 0x%llx+0x%llx: hit %d",
			  i, (unsigned long long)f->addr, (unsigned long long)f->size, hit);
		/* A DMA after the invalidation translates again. */
		CHECK_EQ(translations, dropped ? 1 : 0);
	}
}

static void test_invalidate(void)
{
	struct mock *m = mock_new(&cfg_full);
	struct dev_ep *ep = m->ep;
	unsigned translations;

	CHECK_EQ(dev_ep_enable_pasid(ep, true), 0);
	CHECK_EQ(dev_ep_enable_ats(ep, true), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(inv_entries); i++) {
		const struct inv_entry *e = &inv_entries[i];

		if (!e->priv)
			mock_map(m, e->pasid_valid, e->pasid, e->iova, e->size, e->pa, "rwp");
	}
	for (unsigned i = 0; i < ARRAY_SIZE(inv_entries); i++) {
		CHECK(!inv_probe(ep, &inv_entries[i], &translations));
		CHECK_EQ(translations, 1);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(inv_entries); i++)
		CHECK(inv_probe(ep, &inv_entries[i], &translations));

	for (unsigned i = 0; i < ARRAY_SIZE(inv_forms); i++) {
		const struct inv_form *f = &inv_forms[i];

		inv_check(ep, f, true, dev_ep_atc_invalidate(ep, f->pasid_valid, f->pasid,
							     f->global, f->addr, f->size));
	}
	/* Every size encoding 4K .. 1G, at 0 and at the 1G entry, each scope. */
	for (unsigned shift = 12; shift <= 30; shift++) {
		const struct inv_form sized[] = {
			{ true, 1, false, 0, 1ull << shift, 0 },
			{ true, 1, false, 0x40000000, 1ull << shift, 1 },
			{ true, 2, true, 0, 1ull << shift, 0 },
			/* No PASID: every entry in [0x200000 rounded down, +size): up to 2M
			 * only entry 1; 4M adds 0, 2, 3, 4, 8, 9 (all below 4M); 8M adds
			 * 5 (0x400000); 1G adds 6 (0x3fe00000). */
			{ false, 0, false, 0x200000 & ~((1ull << shift) - 1), 1ull << shift,
			  shift <= 21 ? 1 : shift == 22 ? 7 : shift < 30 ? 8 : 9 },
		};

		for (unsigned i = 0; i < ARRAY_SIZE(sized); i++)
			inv_check(ep, &sized[i], i & 1,
				  dev_ep_atc_invalidate(ep, sized[i].pasid_valid, sized[i].pasid,
							sized[i].global, sized[i].addr,
							sized[i].size));
	}
	mock_free(m);
}

struct inval_thread {
	pthread_t thread;
	struct dev_ep *ep;
	_Atomic bool done;
};

static void *inval_thread_main(void *arg)
{
	struct inval_thread *it = arg;

	dev_ep_atc_invalidate(it->ep, false, 0, false, 0x10000, PG);
	atomic_store(&it->done, true);
	return NULL;
}

static void *dma_word_main(void *arg)
{
	struct dev_ep *ep = arg;
	uint64_t word;

	dev_dma(ep, &(struct dev_dma){ .iova = 0x10000, .buf = &word, .len = 8 }, NULL);
	return NULL;
}

/* The two halves of "invalidation complete": a completion that was in flight
 * is used once but not cached, and the invalidation returns only after a DMA
 * that may be using the old translation has finished. */
static void test_invalidate_in_flight(void)
{
	struct mock *m = mock_new(&cfg_full);
	struct dev_ep *ep = m->ep;
	struct dev_dma_report rep;
	struct inval_thread it = { .ep = ep };
	pthread_t dma;
	uint64_t word;

	CHECK_EQ(dev_ep_enable_ats(ep, true), 0);
	mock_map(m, false, 0, 0x10000, PG, RAM_BASE + 0x10000, "rw");
	m->inval_in_flight = true;
	rep = run(ep, (struct dev_dma){ .iova = 0x10000, .buf = &word, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1);
	rep = run(ep, (struct dev_dma){ .iova = 0x10000, .buf = &word, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1 && rep.translations == 1);
	rep = run(ep, (struct dev_dma){ .iova = 0x10000, .buf = &word, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_hits == 1);

	/* A DMA parked in its translated request holds the invalidation. */
	pthread_mutex_lock(&m->lock);
	m->hold_translated = true;
	pthread_mutex_unlock(&m->lock);
	CHECK_EQ(pthread_create(&dma, NULL, dma_word_main, ep), 0);
	pthread_mutex_lock(&m->lock);
	while (!m->held)
		pthread_cond_wait(&m->cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
	CHECK_EQ(pthread_create(&it.thread, NULL, inval_thread_main, &it), 0);
	sleep_ms(20);
	CHECK(!atomic_load(&it.done));
	pthread_mutex_lock(&m->lock);
	m->hold_translated = false;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(dma, NULL);
	pthread_join(it.thread, NULL);
	CHECK(atomic_load(&it.done));
	rep = run(ep, (struct dev_dma){ .iova = 0x10000, .buf = &word, .len = 8 });
	CHECK(rep.status == DEV_DMA_OK && rep.atc_misses == 1);
	mock_free(m);
}

/* ---- PRI ----------------------------------------------------------------- */

struct dma_thread {
	pthread_t thread;
	struct dev_ep *ep;
	struct dev_dma d;
	uint64_t word;
	struct dev_dma_report rep;
	int rc;
	_Atomic bool done;
};

static void *dma_thread_main(void *arg)
{
	struct dma_thread *t = arg;

	t->d.buf = &t->word;
	t->rc = dev_dma(t->ep, &t->d, &t->rep);
	atomic_store(&t->done, true);
	return NULL;
}

static void dma_thread_start(struct dma_thread *t, struct dev_ep *ep, struct dev_dma d)
{
	memset(t, 0, sizeof(*t));
	t->ep = ep;
	t->d = d;
	CHECK_EQ(pthread_create(&t->thread, NULL, dma_thread_main, t), 0);
}

static struct mock *pri_mock(unsigned outstanding)
{
	struct dev_ep_config c = cfg_full;
	struct mock *m;

	c.pri_outstanding = outstanding;
	m = mock_new(&c);
	CHECK_EQ(dev_ep_enable_pasid(m->ep, true), 0);
	CHECK_EQ(dev_ep_enable_ats(m->ep, true), 0);
	CHECK_EQ(dev_ep_enable_pri(m->ep, true), 0);
	return m;
}

static void test_pri_round_trips(void)
{
	struct mock *m = pri_mock(8);
	struct dev_ep *ep = m->ep;
	struct dev_dma_report rep;
	struct dev_page_req pr;
	struct dev_ep_stats st;
	static uint8_t src[0x1000], dst[0x1000];
	uint64_t t0;

	/* Success: the page appears, the retry translates it, the data lands. */
	pattern(src, sizeof(src), 5);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .write = true,
					.iova = 0x20000, .buf = src, .len = 0x1000, .use_pri = true });
	CHECK_EQ(rep.status, DEV_DMA_OK);
	CHECK(rep.page_requests == 1 && rep.translations == 2 && rep.atc_misses == 2);
	CHECK(!memcmp(host(PRI_PA), src, 0x1000));
	pr = mock_req(m, 0);
	CHECK(pr.rid == 0x0310 && pr.pasid_valid && pr.pasid == 3);
	CHECK(pr.write && !pr.read && !pr.exec && !pr.priv && pr.last);
	CHECK(pr.prgi == 0 && pr.addr == 0x20000);
	/* Read, execute, privileged, from inside a page: the request says so. */
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .exec = true, .priv = true,
					.iova = 0x21234, .buf = dst, .len = 16, .use_pri = true });
	CHECK(rep.status == DEV_DMA_OK && rep.page_requests == 1);
	pr = mock_req(m, 1);
	CHECK(pr.read && !pr.write && pr.exec && pr.priv && pr.prgi == 1 && pr.addr == 0x21000);
	/* A DMA over two missing pages asks for each. */
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x22800,
					.buf = dst, .len = 0x1000, .use_pri = true });
	CHECK(rep.status == DEV_DMA_OK && rep.page_requests == 2 && rep.done == 0x1000);
	/* Without PASID too. */
	rep = run(ep, (struct dev_dma){ .iova = 0x30000, .buf = dst, .len = 8, .use_pri = true });
	CHECK(rep.status == DEV_DMA_OK && rep.page_requests == 1);
	CHECK(!mock_req(m, 4).pasid_valid);
	/* Not asked to use PRI: a fault, nothing sent. */
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x24000,
					.buf = dst, .len = 8 });
	CHECK(rep.status == DEV_DMA_FAULT && rep.page_requests == 0 && mock_nreq(m) == 5);

	/* Success without the page: one retry, then a fault. */
	mock_set_pri(m, PRI_INLINE, DEV_PRG_SUCCESS, false);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x24000,
					.buf = dst, .len = 8, .use_pri = true });
	CHECK(rep.status == DEV_DMA_FAULT && rep.page_requests == 1 && rep.translations == 2);
	CHECK_EQ(rep.xlate.status, DEV_XLATE_NO_ACCESS);

	/* Invalid Request: the DMA fails; PRI goes on. */
	mock_set_pri(m, PRI_INLINE, DEV_PRG_INVALID, false);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x25000,
					.buf = dst, .len = 8, .use_pri = true });
	CHECK(rep.status == DEV_DMA_PRI_FAILED && rep.page_requests == 1);
	CHECK(rep.fault_iova == 0x25000 && rep.done == 0);
	mock_set_pri(m, PRI_INLINE, DEV_PRG_SUCCESS, true);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x25000,
					.buf = dst, .len = 8, .use_pri = true });
	CHECK(rep.status == DEV_DMA_OK && rep.page_requests == 1);

	/* Response Failure: the DMA fails and the function stops asking until
	 * software enables PRI again. */
	mock_set_pri(m, PRI_INLINE, DEV_PRG_FAILURE, false);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x26000,
					.buf = dst, .len = 8, .use_pri = true });
	CHECK(rep.status == DEV_DMA_PRI_FAILED && rep.page_requests == 1);
	mock_set_pri(m, PRI_INLINE, DEV_PRG_SUCCESS, true);
	{
		unsigned sent = mock_nreq(m);

		rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x26000,
						.buf = dst, .len = 8, .use_pri = true });
		CHECK(rep.status == DEV_DMA_FAULT && rep.page_requests == 0);
		CHECK_EQ(mock_nreq(m), sent);
	}
	CHECK_EQ(dev_ep_enable_pri(ep, true), 0);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x26000,
					.buf = dst, .len = 8, .use_pri = true });
	CHECK(rep.status == DEV_DMA_OK && rep.page_requests == 1);

	/* No answer: the wait times out; the group stays outstanding until its
	 * late response, which is accepted once. */
	mock_set_pri(m, PRI_RECORD, DEV_PRG_SUCCESS, false);
	t0 = now_ns();
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x27000,
					.buf = dst, .len = 8, .use_pri = true,
					.retry_wait_ns = 20000000 });
	CHECK(rep.status == DEV_DMA_PRI_TIMEOUT && rep.page_requests == 1);
	CHECK(now_ns() - t0 >= 20000000);
	pr = mock_req(m, mock_nreq(m) - 1);
	CHECK_EQ(dev_ep_page_response(ep, true, 4, pr.prgi, DEV_PRG_SUCCESS), -ENOENT);
	CHECK_EQ(dev_ep_page_response(ep, false, 3, pr.prgi, DEV_PRG_SUCCESS), -ENOENT);
	CHECK_EQ(dev_ep_page_response(ep, true, 3, pr.prgi, (enum dev_prg_resp)5), -EINVAL);
	CHECK_EQ(dev_ep_page_response(ep, true, 3, pr.prgi, DEV_PRG_SUCCESS), 0);
	CHECK_EQ(dev_ep_page_response(ep, true, 3, pr.prgi, DEV_PRG_SUCCESS), -ENOENT);
	CHECK_EQ(dev_ep_page_response(ep, true, 3, 512, DEV_PRG_SUCCESS), -ENOENT);
	CHECK_EQ(dev_ep_page_response(ep, true, 3, (uint16_t)((pr.prgi + 1) % 512),
				      DEV_PRG_SUCCESS), -ENOENT);

	/* The IOMMU drops the request (queue full) and answers the group itself,
	 * inline or later. */
	mock_set_pri(m, PRI_ENOSPC_INLINE, DEV_PRG_SUCCESS, true);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x28000,
					.buf = dst, .len = 8, .use_pri = true });
	CHECK(rep.status == DEV_DMA_OK && rep.page_requests == 1);
	mock_start_responder(m);
	mock_set_pri(m, PRI_ENOSPC_QUEUE, DEV_PRG_SUCCESS, true);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .iova = 0x29000,
					.buf = dst, .len = 8, .use_pri = true,
					.retry_wait_ns = 2000000000 });
	CHECK(rep.status == DEV_DMA_OK && rep.page_requests == 1);
	/* An answer from another thread. */
	mock_set_pri(m, PRI_QUEUE, DEV_PRG_SUCCESS, true);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 3, .write = true,
					.iova = 0x2a000, .buf = src, .len = 0x1000, .use_pri = true });
	CHECK(rep.status == DEV_DMA_OK && rep.page_requests == 1);
	mock_stop_responder(m);

	dev_ep_get_stats(ep, &st);
	CHECK_EQ(st.page_requests, mock_nreq(m));
	CHECK_EQ(st.prg_responses, mock_nreq(m));	/* the late one included */
	mock_free(m);
}

/* PRG indexes: round robin over 512, skipping a group still outstanding. */
static void test_pri_indexes(void)
{
	struct mock *m = pri_mock(4);
	struct dev_ep *ep = m->ep;
	struct dev_dma_report rep;
	struct dev_page_req pr;
	unsigned expect = 0, held, n = 0;
	bool ok = true;
	uint64_t word;

	mock_set_pri(m, PRI_INLINE, DEV_PRG_SUCCESS, false);
	for (unsigned i = 0; i < 600; i++) {
		rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 1, .iova = 0x20000,
						.buf = &word, .len = 8, .use_pri = true });
		ok &= rep.status == DEV_DMA_FAULT && rep.page_requests == 1;
		ok &= mock_req(m, n++).prgi == expect;
		expect = (expect + 1) % 512;
	}
	CHECK(ok);
	/* Hold one index with an abandoned group (600 % 512 = 88). */
	mock_set_pri(m, PRI_RECORD, DEV_PRG_SUCCESS, false);
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 1, .iova = 0x20000,
					.buf = &word, .len = 8, .use_pri = true,
					.retry_wait_ns = 1000000 });
	CHECK_EQ(rep.status, DEV_DMA_PRI_TIMEOUT);
	held = mock_req(m, n++).prgi;
	CHECK_EQ(held, 88);
	expect = held + 1;
	mock_set_pri(m, PRI_INLINE, DEV_PRG_SUCCESS, false);
	for (unsigned i = 0; i < 1100; i++) {
		if (i == 700)
			CHECK_EQ(dev_ep_page_response(ep, true, 1, (uint16_t)held, DEV_PRG_SUCCESS), 0);
		if (i < 700 && expect == held)
			expect = (expect + 1) % 512;		/* skipped while outstanding */
		rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 1, .iova = 0x20000,
						.buf = &word, .len = 8, .use_pri = true });
		pr = mock_req(m, n++);
		CHECK_MSG(pr.prgi == expect, "request %u: prgi %u, expected %u", i, pr.prgi,
			  expect);
		expect = (expect + 1) % 512;
	}
	mock_free(m);
}

/* At most pri_outstanding groups: the next DMA waits for a free one. */
static void test_pri_outstanding(void)
{
	struct mock *m = pri_mock(2);
	struct dev_ep *ep = m->ep;
	struct dma_thread t[3];
	struct dev_dma_report rep;
	struct dev_ep_stats st;
	uint64_t word;

	mock_set_pri(m, PRI_RECORD, DEV_PRG_SUCCESS, false);
	for (int i = 0; i < 2; i++)
		dma_thread_start(&t[i], ep, (struct dev_dma){ .pasid_valid = true, .pasid = 7,
			.iova = 0x40000 + (uint64_t)i * PG, .len = 8, .use_pri = true });
	CHECK(mock_wait_nreq(m, 2));
	/* Both groups are outstanding: a third DMA cannot send its request. */
	rep = run(ep, (struct dev_dma){ .pasid_valid = true, .pasid = 7, .iova = 0x42000,
					.buf = &word, .len = 8, .use_pri = true,
					.retry_wait_ns = 20000000 });
	CHECK(rep.status == DEV_DMA_PRI_TIMEOUT && rep.page_requests == 0);
	CHECK_EQ(mock_nreq(m), 2);
	dma_thread_start(&t[2], ep, (struct dev_dma){ .pasid_valid = true, .pasid = 7,
		.iova = 0x42000, .len = 8, .use_pri = true });
	sleep_ms(10);
	CHECK_EQ(mock_nreq(m), 2);
	CHECK(!atomic_load(&t[2].done));
	/* Answering one group lets the third request out. */
	for (uint64_t iova = 0x40000; iova < 0x43000; iova += PG)
		mock_map(m, true, 7, iova, PG, RAM_BASE + iova, "rw");
	CHECK_EQ(dev_ep_page_response(ep, true, 7, mock_req(m, 0).prgi, DEV_PRG_SUCCESS), 0);
	CHECK(mock_wait_nreq(m, 3));
	CHECK_EQ(mock_req(m, 2).addr, 0x42000);
	CHECK_EQ(dev_ep_page_response(ep, true, 7, mock_req(m, 1).prgi, DEV_PRG_SUCCESS), 0);
	CHECK_EQ(dev_ep_page_response(ep, true, 7, mock_req(m, 2).prgi, DEV_PRG_SUCCESS), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i].thread, NULL);
		CHECK_MSG(t[i].rc == 0 && t[i].rep.status == DEV_DMA_OK &&
			  t[i].rep.page_requests == 1, "thread %d: rc %d status %d, %u requests",
			  i, t[i].rc, t[i].rep.status, t[i].rep.page_requests);
	}
	CHECK(mock_req(m, 2).prgi != mock_req(m, 1).prgi);

	/* Disabling PRI fails the DMAs waiting on their groups and forgets them. */
	dma_thread_start(&t[0], ep, (struct dev_dma){ .pasid_valid = true, .pasid = 7,
		.iova = 0x43000, .len = 8, .use_pri = true });
	CHECK(mock_wait_nreq(m, 4));
	CHECK_EQ(dev_ep_enable_pri(ep, false), 0);
	pthread_join(t[0].thread, NULL);
	CHECK(t[0].rc == 0 && t[0].rep.status == DEV_DMA_PRI_FAILED);
	CHECK_EQ(dev_ep_page_response(ep, true, 7, mock_req(m, 3).prgi, DEV_PRG_SUCCESS), -ENOENT);
	/* ... as well as a DMA waiting for a free group. */
	CHECK_EQ(dev_ep_enable_pri(ep, true), 0);
	for (int i = 0; i < 3; i++)
		dma_thread_start(&t[i], ep, (struct dev_dma){ .pasid_valid = true, .pasid = 7,
			.iova = 0x50000 + (uint64_t)i * PG, .len = 8, .use_pri = true });
	CHECK(mock_wait_nreq(m, 6));
	sleep_ms(20);		/* the third reaches its wait for a free group */
	CHECK_EQ(mock_nreq(m), 6);
	CHECK_EQ(dev_ep_enable_pri(ep, false), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i].thread, NULL);
		CHECK(t[i].rc == 0 && t[i].rep.status == DEV_DMA_PRI_FAILED);
	}
	CHECK_EQ(mock_nreq(m), 6);
	dev_ep_get_stats(ep, &st);
	CHECK_EQ(st.page_requests, 6);
	mock_free(m);
}

/* Many faulting DMAs at once, answered from another thread, through a
 * two-group window: every one completes. */
static void test_pri_concurrent(void)
{
	struct mock *m = pri_mock(2);
	struct dma_thread t[6];

	mock_set_pri(m, PRI_QUEUE, DEV_PRG_SUCCESS, true);
	mock_start_responder(m);
	for (int i = 0; i < 6; i++)
		dma_thread_start(&t[i], m->ep, (struct dev_dma){ .pasid_valid = true,
			.pasid = 10 + (uint32_t)i % 2, .write = i & 1,
			.iova = 0x60000 + (uint64_t)i * PG, .len = 8, .use_pri = true });
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i].thread, NULL);
		CHECK_MSG(t[i].rc == 0 && t[i].rep.status == DEV_DMA_OK &&
			  t[i].rep.page_requests == 1, "thread %d: rc %d status %d, %u requests",
			  i, t[i].rc, t[i].rep.status, t[i].rep.page_requests);
	}
	CHECK_EQ(mock_nreq(m), 6);
	mock_free(m);
}

/* ---- refused requests ---------------------------------------------------- */

static void expect_refused(struct mock *m, struct dev_dma d, bool with_buf)
{
	unsigned before = mock_traffic(m);
	struct dev_dma_report rep;
	uint64_t word;

	d.buf = with_buf ? &word : NULL;
	CHECK_MSG(dev_dma(m->ep, &d, &rep) == -EINVAL, "iova 0x%llx", (unsigned long long)d.iova);
	CHECK_EQ(mock_traffic(m), before);
}

static void test_bad_requests(void)
{
	struct dev_ep_config nopasid = cfg_full, narrow = cfg_full;
	struct mock *a, *b, *c;
	struct dev_dma_report rep;
	uint64_t word;

	nopasid.pasid_bits = 0;
	nopasid.exec_perm = nopasid.priv_mode = false;
	a = mock_new(&nopasid);
	narrow.pasid_bits = 8;
	narrow.exec_perm = narrow.priv_mode = false;
	b = mock_new(&narrow);
	narrow.exec_perm = narrow.priv_mode = true;
	c = mock_new(&narrow);
	for (struct mock **mm = (struct mock *[]){ a, b, c, NULL }; *mm; mm++) {
		dev_ep_enable_ats((*mm)->ep, true);
		dev_ep_enable_pri((*mm)->ep, true);
	}

	/* PASID: no capability; capability not enabled; too wide. */
	expect_refused(a, (struct dev_dma){ .pasid_valid = true, .pasid = 1, .len = 8 }, true);
	expect_refused(b, (struct dev_dma){ .pasid_valid = true, .pasid = 1, .len = 8 }, true);
	CHECK_EQ(dev_ep_enable_pasid(b->ep, true), 0);
	CHECK_EQ(dev_ep_enable_pasid(c->ep, true), 0);
	expect_refused(b, (struct dev_dma){ .pasid_valid = true, .pasid = 256, .len = 8 }, true);
	/* Execute / privileged without the capability's support, or without PASID. */
	expect_refused(b, (struct dev_dma){ .pasid_valid = true, .pasid = 1, .exec = true,
					    .len = 8 }, true);
	expect_refused(b, (struct dev_dma){ .pasid_valid = true, .pasid = 1, .priv = true,
					    .len = 8 }, true);
	expect_refused(c, (struct dev_dma){ .exec = true, .len = 8 }, true);
	expect_refused(c, (struct dev_dma){ .priv = true, .len = 8 }, true);
	expect_refused(a, (struct dev_dma){ .exec = true, .len = 8 }, true);
	/* Execute is a read. */
	expect_refused(c, (struct dev_dma){ .pasid_valid = true, .pasid = 1, .exec = true,
					    .write = true, .len = 8, .use_pri = true }, true);
	/* Wrapping past 2^64; no buffer. */
	expect_refused(c, (struct dev_dma){ .iova = UINT64_MAX - 10, .len = 100 }, true);
	expect_refused(c, (struct dev_dma){ .iova = UINT64_MAX, .len = 2 }, true);
	expect_refused(c, (struct dev_dma){ .iova = 0x1000, .len = 8 }, false);
	CHECK_EQ(mock_traffic(a) + mock_traffic(b) + mock_traffic(c), 0);

	/* Good requests at the edges are sent. */
	rep = run(c->ep, (struct dev_dma){ .pasid_valid = true, .pasid = 255, .exec = true,
					   .priv = true, .iova = 0x1000, .buf = &word, .len = 8 });
	CHECK(rep.status == DEV_DMA_FAULT && mock_traffic(c) == 1);
	rep = run(c->ep, (struct dev_dma){ .iova = UINT64_MAX - 7, .buf = &word, .len = 8 });
	CHECK(rep.status == DEV_DMA_FAULT && rep.fault_iova == UINT64_MAX - 7);
	CHECK_EQ(c->last_addr[DEV_AT_TRANS_REQ], UINT64_MAX - 7);
	/* len 0 is a no-op. */
	rep = run(c->ep, (struct dev_dma){ .iova = 0x1000, .len = 0 });
	CHECK(rep.status == DEV_DMA_OK && rep.done == 0);
	CHECK_EQ(mock_traffic(c), 2);
	/* Detached: no port. */
	dev_ep_attach(c->ep, NULL);
	CHECK_EQ(dev_dma(c->ep, &(struct dev_dma){ .iova = 0x1000, .buf = &word, .len = 8 }, &rep),
		 -ENODEV);
	dev_ep_attach(c->ep, &c->port);
	mock_free(a);
	mock_free(b);
	mock_free(c);
}

/* ---- memory errors ----------------------------------------------------- */

static void test_mem_errors(void)
{
	struct mock *m = mock_new(&cfg_full);
	struct dev_ep *ep = m->ep;
	struct dev_dma_report rep;
	static uint8_t src[0x2000], dst[0x2000];

	mock_map(m, false, 0, 0x30000, PG, NOT_RAM, "rw");
	mock_map(m, false, 0, 0x31000, PG, RAM_BASE + 0x9000, "rw");
	mock_map(m, false, 0, 0x32000, PG, NOT_RAM + PG, "rw");
	mock_map(m, false, 0, 0x33000, PG, ROM_BASE, "rw");	/* the IOMMU allows it */
	mock_map(m, false, 0, 0x34000, 0x2000, SPLIT_BASE, "rw");
	pattern(src, sizeof(src), 6);
	memcpy(rom, src, PG);

	for (int ats = 0; ats < 2; ats++) {
		CHECK_EQ(dev_ep_enable_ats(ep, ats), 0);
		rep = run(ep, (struct dev_dma){ .iova = 0x30000, .buf = dst, .len = 8 });
		CHECK(rep.status == DEV_DMA_MEM_ERROR && rep.done == 0 && rep.fault_iova == 0x30000);
		CHECK(rep.xlate.status == DEV_XLATE_OK && rep.xlate.pa == NOT_RAM);
		/* Half a page lands, then the next page is not memory. */
		rep = run(ep, (struct dev_dma){ .write = true, .iova = 0x31800, .buf = src,
						.len = 0x1000 });
		CHECK(rep.status == DEV_DMA_MEM_ERROR && rep.done == 0x800);
		CHECK_EQ(rep.fault_iova, 0x32000);
		CHECK(!memcmp(host(RAM_BASE + 0x9800), src, 0x800));
		/* Read-only memory: reads work, writes are refused. */
		rep = run(ep, (struct dev_dma){ .iova = 0x33000, .buf = dst, .len = PG });
		CHECK(rep.status == DEV_DMA_OK && !memcmp(dst, rom, PG));
		rep = run(ep, (struct dev_dma){ .write = true, .iova = 0x33000, .buf = dst, .len = 8 });
		CHECK(rep.status == DEV_DMA_MEM_ERROR && rep.done == 0);
		/* Contiguous memory made of two regions is one DMA. */
		pattern(src, sizeof(src), 7 + (unsigned)ats);
		rep = run(ep, (struct dev_dma){ .write = true, .iova = 0x34800, .buf = src,
						.len = 0x1000 });
		CHECK(rep.status == DEV_DMA_OK && rep.done == 0x1000);
		CHECK(!memcmp(split_lo + 0x800, src, 0x800) && !memcmp(split_hi, src + 0x800, 0x800));
	}
	mock_free(m);
}

/* ---- DMAs racing invalidations ------------------------------------------ */

/*
 * A versioned mock: page p of the PASID maps, at version v, to its own frame
 * (p, v), whose first word says (p, v). The invalidating thread bumps a page's
 * version (the remap), invalidates the device TLB, and then records the version
 * as completed. A translated request whose frame's version is older than the
 * page's completed version used a translation invalidated before that request:
 * stale. A DMA's data must come from a version at least the one completed when
 * the DMA began.
 */
#define VPAGES		8
#define VVERSIONS	256
#define VIOVA		0x1000000ull
#define VPASID		9

struct vmock {
	struct dev_port port;
	struct dev_ep *ep;
	pthread_mutex_t lock;
	unsigned version[VPAGES];
	_Atomic unsigned completed[VPAGES];
	_Atomic unsigned stale, translated, requests, bad_data, bad_status;
	_Atomic bool stop;
};

static uint64_t vframe(unsigned p, unsigned v)
{
	return RAM_BASE + ((uint64_t)p * VVERSIONS + v) * PG;
}

static void vmock_translate(void *iommu, const struct dev_txn *t, struct dev_xlate *x)
{
	struct vmock *vm = iommu;
	uint64_t p;
	unsigned v;

	memset(x, 0, sizeof(*x));
	if (t->at == DEV_AT_TRANSLATED) {
		uint64_t frame = (t->addr - RAM_BASE) / PG;

		p = frame / VVERSIONS;
		v = (unsigned)(frame % VVERSIONS);
		if (p < VPAGES && v < atomic_load(&vm->completed[p]))
			atomic_fetch_add(&vm->stale, 1);
		atomic_fetch_add(&vm->translated, 1);
		x->pa = t->addr;
		x->page_base = t->addr & ~(PG - 1);
		x->size = PG;
		x->r = x->w = true;
		return;
	}
	p = (t->addr - VIOVA) / PG;
	if (t->at != DEV_AT_TRANS_REQ || !t->pasid_valid || t->pasid != VPASID || p >= VPAGES) {
		x->status = DEV_XLATE_FAULT;
		return;
	}
	pthread_mutex_lock(&vm->lock);
	v = vm->version[p];
	pthread_mutex_unlock(&vm->lock);
	/* Now and then a slow walk, so that remaps land while requests are in
	 * flight: the case a fill must not survive. */
	if (atomic_fetch_add(&vm->requests, 1) % 4 == 0) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 20000 };

		nanosleep(&ts, NULL);
	}
	x->pa = vframe((unsigned)p, v) + (t->addr & (PG - 1));
	x->page_base = VIOVA + p * PG;
	x->size = PG;
	x->r = x->w = true;
}

struct vworker {
	pthread_t thread;
	struct vmock *vm;
	uint64_t seed;
	unsigned dmas;
};

static void *vworker_main(void *arg)
{
	struct vworker *w = arg;
	struct vmock *vm = w->vm;
	uint64_t buf[2 * PG / 8];

	while (!atomic_load(&vm->stop)) {
		unsigned p, two, c0[2];
		struct dev_dma_report rep;
		struct dev_dma d;

		w->seed ^= w->seed << 13;
		w->seed ^= w->seed >> 7;
		w->seed ^= w->seed << 17;
		p = (unsigned)(w->seed % VPAGES);
		two = p + 1 < VPAGES && (w->seed >> 8) % 4 == 0;	/* sometimes two pages */
		c0[0] = atomic_load(&vm->completed[p]);
		c0[1] = two ? atomic_load(&vm->completed[p + 1]) : 0;
		d = (struct dev_dma){ .pasid_valid = true, .pasid = VPASID,
				      .iova = VIOVA + (uint64_t)p * PG, .buf = buf,
				      .len = two ? 2 * PG : 64 };
		if (dev_dma(vm->ep, &d, &rep) != 0 || rep.status != DEV_DMA_OK) {
			atomic_fetch_add(&vm->bad_status, 1);
			continue;
		}
		for (unsigned i = 0; i <= two; i++) {
			uint64_t word = buf[i * PG / 8];

			if (word >> 32 != p + i || (unsigned)word < c0[i])
				atomic_fetch_add(&vm->bad_data, 1);
		}
		w->dmas++;
	}
	return NULL;
}

static void test_race(void)
{
	struct dev_ep_config c = cfg_full;
	struct vmock vm = { 0 };
	struct vworker w[4];
	struct dev_ep_stats st;
	unsigned rounds = 0, dmas = 0;
	uint64_t until;

	/* A small TLB, so that the workers also evict each other. */
	c.atc_entries = 8;
	c.atc_ways = 2;
	pthread_mutex_init(&vm.lock, NULL);
	vm.port = (struct dev_port){ .iommu = &vm, .translate = vmock_translate };
	vm.ep = dev_ep_new(&c, ms);
	CHECK(vm.ep);
	if (!vm.ep)
		return;
	dev_ep_attach(vm.ep, &vm.port);
	dev_ep_enable_pasid(vm.ep, true);
	dev_ep_enable_ats(vm.ep, true);
	for (unsigned p = 0; p < VPAGES; p++)
		for (unsigned v = 0; v < VVERSIONS; v++)
			CHECK_EQ(mem_store64(ms, vframe(p, v), (uint64_t)p << 32 | v), 0);

	for (unsigned i = 0; i < ARRAY_SIZE(w); i++) {
		w[i] = (struct vworker){ .vm = &vm, .seed = 0x9e3779b97f4a7c15ull * (i + 1) };
		CHECK_EQ(pthread_create(&w[i].thread, NULL, vworker_main, &w[i]), 0);
	}
	/* Remap and invalidate, in every form that covers the page, for at most
	 * 300 ms or until versions run out. */
	until = now_ns() + 300000000u;
	for (unsigned v = 1; v < VVERSIONS && now_ns() < until; v++) {
		for (unsigned p = 0; p < VPAGES; p++, rounds++) {
			uint64_t iova = VIOVA + (uint64_t)p * PG;

			pthread_mutex_lock(&vm.lock);
			vm.version[p] = v;
			pthread_mutex_unlock(&vm.lock);
			/* Mostly the page alone, so that a stale entry of another page
			 * is not swept away by chance; every fourth a wider form. */
			switch (rounds % 4 ? 0 : rounds / 4 % 3 + 1) {
			case 0:
				dev_ep_atc_invalidate(vm.ep, true, VPASID, false, iova, PG);
				break;
			case 1:
				dev_ep_atc_invalidate(vm.ep, true, 0, true, iova & ~(SZ_2M - 1),
						      SZ_2M);
				break;
			case 2:
				dev_ep_atc_invalidate(vm.ep, true, VPASID, false, 0, 0);
				break;
			default:
				dev_ep_atc_invalidate(vm.ep, true, VPASID, false,
						      iova & ~(0x4000ull - 1), 0x4000);
				break;
			}
			atomic_store(&vm.completed[p], v);
			/* Give the workers time to use what the invalidation left. */
			nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
		}
	}
	atomic_store(&vm.stop, true);
	for (unsigned i = 0; i < ARRAY_SIZE(w); i++) {
		pthread_join(w[i].thread, NULL);
		dmas += w[i].dmas;
	}
	dev_ep_get_stats(vm.ep, &st);
	CHECK_EQ(atomic_load(&vm.stale), 0);
	CHECK_EQ(atomic_load(&vm.bad_data), 0);
	CHECK_EQ(atomic_load(&vm.bad_status), 0);
	CHECK(rounds >= VPAGES && dmas > 0);
	CHECK(st.atc_hits > 0 && st.atc_misses > 0 && st.atc_invalidated > 0);
	CHECK_EQ(st.atc_misses, atomic_load(&vm.requests));
	if (getenv("VSVA_TEST_VERBOSE"))
		printf("race: %u invalidations, %u DMAs, %u translated requests, %llu hits, "
		       "%llu misses\n", rounds, dmas, atomic_load(&vm.translated),
		       (unsigned long long)st.atc_hits, (unsigned long long)st.atc_misses);
	dev_ep_free(vm.ep);
	pthread_mutex_destroy(&vm.lock);
}

int main(void)
{
	ms = mem_space_new();
	if (!ms || mem_add_anon(ms, RAM_BASE, RAM_SIZE, MEM_RW, (void **)&ram) ||
	    mem_add(ms, ROM_BASE, PG, rom, MEM_READ) ||
	    mem_add(ms, SPLIT_BASE, PG, split_lo, MEM_RW) ||
	    mem_add(ms, SPLIT_BASE + PG, PG, split_hi, MEM_RW)) {
		fprintf(stderr, "cannot set up memory\n");
		return 1;
	}
	test_config();
	test_enables();
	test_untranslated();
	test_ats();
	test_invalidate();
	test_invalidate_in_flight();
	test_pri_round_trips();
	test_pri_indexes();
	test_pri_outstanding();
	test_pri_concurrent();
	test_bad_requests();
	test_mem_errors();
	test_race();
	mem_space_free(ms);
	return check_exit();
}
