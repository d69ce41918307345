/* tests/test_iommu_smmu.c — the SMMUv3 host driver (iommu/arm_smmuv3.c) over the
 * SMMUv3 model, through the core's API, with endpoints that DMA.
 *
 *  1. probe: the registers the driver leaves (CR0ACK, GBPA, the stream table
 *     configuration), the reset commands, the unit's hw info; -ENODEV without
 *     stage 2; a linear stream table for a small SIDSIZE.
 *  2. device add: the STE is a valid abort entry, a DMA is refused silently.
 *  3. stage-2 domain: iommu_map, attach, the STE word by word, DMA lands; unmap
 *     sends one range TLBI_S2_IPA (encoding worked by hand) and a DMA then
 *     faults, the fault reaching the handler (reason, address, flags).
 *  4. first-stage domain: STE Config 0b101 over a host CD; DMA; unmap.
 *  5. nested: the guest builds a CD table and an LPAE stage-1 table in guest
 *     memory (a second space aliasing host RAM at IPAs), the nested domain over
 *     a NEST_PARENT stage 2: DMA with an SSID lands where stage 1 + stage 2 say;
 *     a guest PTE change is stale until an IOTLB invalidation (ASID from archid,
 *     from the guest CD, and none: NH_VAA); each cache x granularity and the
 *     commands it sends; a range invalidation worked by hand; one command per
 *     granule without RIL; batches stopping at a bad entry; attach replacement
 *     hitless and breaking; detach.
 *  6. the coherence checker reports a skipped invalidation.
 *  7. every refusal of a nested domain.
 *  8. PRI round trip on an ATS + PRI endpoint; ATC invalidations.
 *  9. stall round trip (CD.S = 1), retry and abort.
 *
 * Memory: 256 MiB of host RAM at PA 0. The driver's and the core's tables come
 * from a pool at 0x1000000-0x5000000; host DMA buffers at 0x6000000; guest RAM is
 * host 0x8000000-0x10000000, seen by the guest at IPA 0 (its space aliases the
 * host memory), with the guest's table pool at IPA 0x100000-0x2000000 and its
 * data pages from IPA 0x4000000.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "dev/dev.h"
#include "hw/smmuv3/smmuv3.h"
#include "hw/smmuv3/smmuv3_regs.h"
#include "iommu/arm_smmuv3.h"
#include "iommu/iommu.h"
#include "mem/mem.h"
#include "pgtable/pgtable.h"

#define RAM_SIZE    0x10000000ull
#define POOL_BASE   0x1000000ull
#define POOL_SIZE   0x4000000ull
#define BUF_PA      0x6000000ull
#define GUEST_PA    0x8000000ull
#define GUEST_SIZE  0x8000000ull
#define GPOOL_BASE  0x100000ull
#define GPOOL_SIZE  0x1f00000ull
#define DATA_IPA    0x4000000ull

#define VA          0x400000ull       /* guest VA mapped to DATA_IPA, +0x1000 to +0x1000 */
#define VA_MISSING  0x500000ull       /* guest VA the guest maps on a page request */

/* A guest CD (facts §3.2): T0SZ 16 (5:0) | EPD1 (30) | V (31) | IPS 0b101 (34:32) |
 * AA64 (41) | R (45) | A (46) = 0x10 + 0x40000000 + 0x80000000 + 0x500000000 +
 * 0x20000000000 + 0x200000000000 + 0x400000000000 = 0x00006205c0000010; S (44)
 * adds 0x100000000000; ASID in 63:48. */
#define GCD0        0x00006205c0000010ull
#define GCD0_S      0x0000100000000000ull

static struct mem_space *ms, *gs;
static uint8_t *host;
static struct mem_frames *pool, *gpool;
static struct smmu *hw;
static struct iommu_unit *unit;
static struct pgt_fmt g1;             /* the guest's stage-1 format */
static uint64_t groot;                /* the guest's stage-1 root (an IPA) */
static uint64_t gcdtab;               /* the guest's CD table (an IPA) */

static void die(const char *what)
{
	fprintf(stderr, "test_iommu_smmu: setup failed: %s\n", what);
	exit(1);
}

static void env_new(const struct smmu_config *c)
{
	void *h;
	int err;

	ms = mem_space_new();
	if (!ms || mem_add_anon(ms, 0, RAM_SIZE, MEM_RW, &h))
		die("memory");
	host = h;
	pool = mem_frames_new(ms, POOL_BASE, POOL_SIZE);
	hw = smmu_new(c, ms);
	if (!pool || !hw)
		die("pool / smmu");
	err = arm_smmu_probe(hw, ms, pool, &unit);
	if (err) {
		fprintf(stderr, "probe: %d\n", err);
		die("probe");
	}
	/* The guest's view: IPA 0 is host PA GUEST_PA. */
	gs = mem_space_new();
	if (!gs || mem_add(gs, 0, GUEST_SIZE, host + GUEST_PA, MEM_RW))
		die("guest memory");
	gpool = mem_frames_new(gs, GPOOL_BASE, GPOOL_SIZE);
	if (!gpool)
		die("guest pool");
}

static void env_free(void)
{
	iommu_unit_free(unit);
	smmu_free(hw);
	mem_frames_free_pool(gpool);
	mem_frames_free_pool(pool);
	mem_space_free(gs);
	mem_space_free(ms);
	unit = NULL;
	hw = NULL;
}

static uint64_t hget(uint64_t pa)
{
	uint64_t v = 0;

	if (mem_load64(ms, pa, &v))
		die("mem_load64");
	return v;
}

static void hput(uint64_t pa, uint64_t v)
{
	if (mem_store64(ms, pa, v))
		die("mem_store64");
}

static void gput(uint64_t ipa, uint64_t v)
{
	if (mem_store64(gs, ipa, v))
		die("guest store");
}

static uint64_t cmds(unsigned op)
{
	struct smmu_stats st;

	smmu_get_stats(hw, &st);
	return st.commands[op];
}

/* Snapshot of the command counts, and the difference since. */
struct snap {
	uint64_t c[256];
};

static void snap(struct snap *sn)
{
	struct smmu_stats st;

	smmu_get_stats(hw, &st);
	memcpy(sn->c, st.commands, sizeof(sn->c));
}

static uint64_t delta(const struct snap *sn, unsigned op)
{
	return cmds(op) - sn->c[op];
}

/* Total commands since the snapshot. */
static uint64_t delta_all(const struct snap *sn)
{
	uint64_t n = 0;

	for (unsigned op = 0; op < 256; op++)
		n += delta(sn, op);
	return n;
}

/* The command k entries before CMDQ_PROD (k = 1: the last one written). */
static void cmd_back(unsigned k, uint64_t w[2])
{
	uint64_t base = smmu_read(hw, SMMU_CMDQ_BASE, 8);
	unsigned log2 = (unsigned)(base & 0x1f);
	uint32_t prod = (uint32_t)smmu_read(hw, SMMU_CMDQ_PROD, 4);
	uint64_t pa = (base & GENMASK(51, 5)) + (uint64_t)((prod - k) & (BIT(log2) - 1)) * 16;

	w[0] = hget(pa);
	w[1] = hget(pa + 8);
}

/* ---- endpoints and faults ------------------------------------------------------------ */

struct faults {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned n;
	struct iommu_fault last;
	int ret;                            /* what the handler returns */
};

static struct faults fl = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 }, 0 };

static int on_fault(void *ctx, struct iommu_device *dev, const struct iommu_fault *f)
{
	struct faults *x = ctx;
	int ret;

	pthread_mutex_lock(&x->lock);
	x->n++;
	x->last = *f;
	ret = x->ret;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
	return ret;
}

/* Waits until the handler has seen more than n faults; false on timeout. */
static bool wait_fault(unsigned n, struct iommu_fault *out)
{
	struct timespec ts;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&fl.lock);
	while (fl.n <= n && ok)
		ok = pthread_cond_timedwait(&fl.cond, &fl.lock, &ts) == 0;
	if (ok)
		*out = fl.last;
	pthread_mutex_unlock(&fl.lock);
	return ok;
}

static unsigned faults_seen(void)
{
	unsigned n;

	pthread_mutex_lock(&fl.lock);
	n = fl.n;
	pthread_mutex_unlock(&fl.lock);
	return n;
}

static struct dev_ep *endpoint(uint16_t rid, bool ats, bool pri)
{
	struct dev_ep_config c = {
		.rid = rid, .pasid_bits = 20, .ats = ats, .atc_entries = ats ? 64 : 0,
		.atc_ways = ats ? 4 : 0, .pri = pri, .pri_outstanding = pri ? 16 : 0,
	};
	struct dev_ep *ep = dev_ep_new(&c, ms);

	if (!ep || smmu_attach(hw, ep))
		die("endpoint");
	if (dev_ep_enable_pasid(ep, true) || (ats && dev_ep_enable_ats(ep, true)) ||
	    (pri && dev_ep_enable_pri(ep, true)))
		die("endpoint enables");
	return ep;
}

static struct iommu_device *device(struct dev_ep *ep)
{
	struct iommu_device *dev;

	if (iommu_device_add(unit, ep, &dev))
		die("iommu_device_add");
	iommu_device_set_fault_handler(dev, on_fault, &fl);
	return dev;
}

static void device_gone(struct iommu_device *dev, struct dev_ep *ep)
{
	iommu_device_remove(dev);
	smmu_detach(hw, ep);
	dev_ep_free(ep);
}

static int dma(struct dev_ep *ep, int pasid, bool write, uint64_t iova, void *buf, uint64_t len,
	       struct dev_dma_report *rep)
{
	struct dev_dma d = {
		.pasid_valid = pasid >= 0, .pasid = pasid >= 0 ? (uint32_t)pasid : 0,
		.write = write, .iova = iova, .buf = buf, .len = len,
	};
	struct dev_dma_report local;

	if (dev_dma(ep, &d, rep ? rep : &local))
		return -1;
	return (rep ? rep : &local)->status;
}

static uint64_t dma_read64(struct dev_ep *ep, int pasid, uint64_t iova, int *status)
{
	uint64_t v = 0;

	*status = dma(ep, pasid, false, iova, &v, sizeof(v), NULL);
	return v;
}

/* The STE of sid, through the stream table the driver programmed (two-level,
 * SPLIT 8: L1 descriptor sid >> 8, L2Ptr 51:6 with Span 9). */
static uint64_t ste_pa(uint32_t sid)
{
	uint64_t base = smmu_read(hw, SMMU_STRTAB_BASE, 8) & GENMASK(51, 6);
	uint32_t cfg = (uint32_t)smmu_read(hw, SMMU_STRTAB_BASE_CFG, 4);
	uint64_t l1;

	if (!(cfg & BIT(16)))
		return base + (uint64_t)sid * 64;
	l1 = hget(base + (uint64_t)(sid >> 8) * 8);
	CHECK_EQ(l1 & 0x1f, 9);
	return (l1 & GENMASK(51, 6)) + (uint64_t)(sid & 0xff) * 64;
}

/* ---- 1. probe ---------------------------------------------------------------------------- */

static void test_probe(void)
{
	struct smmu_config c;
	struct mem_frames *p2;
	struct iommu_unit *u2;
	struct smmu *h2;

	smmu_config_default(&c);
	env_new(&c);
	/* CR0ACK: SMMUEN (0) | PRIQEN (1) | EVENTQEN (2) | CMDQEN (3) | ATSCHK (4) = 0x1f. */
	CHECK_EQ(smmu_read(hw, SMMU_CR0ACK, 4), 0x1f);
	CHECK(smmu_read(hw, SMMU_GBPA, 4) & GBPA_ABORT);
	/* IRQ_CTRL: GERROR (0) | PRIQ (1) | EVENTQ (2). */
	CHECK_EQ(smmu_read(hw, SMMU_IRQ_CTRLACK, 4), 0x7);
	/* STRTAB_BASE_CFG: FMT 1 (17:16: 0x10000) | SPLIT 8 (10:6: 0x200) | LOG2SIZE 16 = 0x10210. */
	CHECK_EQ(smmu_read(hw, SMMU_STRTAB_BASE_CFG, 4), 0x10210);
	/* Reset: CFGI_ALL, SYNC, TLBI_NSNH_ALL, SYNC (no EL2: IDR0.Hyp is 0). */
	CHECK_EQ(cmds(CMD_CFGI_STE_RANGE), 1);
	CHECK_EQ(cmds(CMD_TLBI_NSNH_ALL), 1);
	CHECK_EQ(cmds(CMD_SYNC), 2);
	CHECK_EQ(unit->info.vendor, IOMMU_VENDOR_ARM_SMMUV3);
	CHECK_EQ(unit->info.pasid_bits, 20);
	CHECK_EQ(unit->info.s1_addr_widths, 0);
	CHECK_EQ(unit->info.oas, 48);
	CHECK_EQ(unit->info.pgsize_bitmap, BIT(12) | BIT(21) | BIT(30));
	CHECK_EQ(unit->info.smmu.idr[0], smmu_read(hw, SMMU_IDR0, 4));
	CHECK_EQ(unit->info.smmu.idr[5], smmu_read(hw, SMMU_IDR5, 4));
	CHECK_EQ(unit->info.smmu.aidr, smmu_read(hw, SMMU_AIDR, 4));
	env_free();

	/* No stage 2: not an SMMU vsva can nest on. */
	smmu_config_default(&c);
	c.s2p = false;
	ms = mem_space_new();
	if (!ms || mem_add_anon(ms, 0, RAM_SIZE, MEM_RW, NULL))
		die("memory");
	p2 = mem_frames_new(ms, POOL_BASE, POOL_SIZE);
	h2 = smmu_new(&c, ms);
	if (!p2 || !h2)
		die("smmu");
	u2 = NULL;
	CHECK_EQ(arm_smmu_probe(h2, ms, p2, &u2), -ENODEV);
	CHECK(!u2);
	CHECK_EQ(mem_frames_used(p2), 0);
	smmu_free(h2);

	/* SIDSIZE 8: a linear table of 2^8 STEs, STRTAB_BASE_CFG = LOG2SIZE 8. */
	smmu_config_default(&c);
	c.sidsize = 8;
	h2 = smmu_new(&c, ms);
	CHECK_EQ(arm_smmu_probe(h2, ms, p2, &u2), 0);
	CHECK_EQ(smmu_read(h2, SMMU_STRTAB_BASE_CFG, 4), 8);
	iommu_unit_free(u2);
	/* Everything the driver allocated went back. */
	CHECK_EQ(mem_frames_used(p2), 0);
	CHECK_EQ(smmu_read(h2, SMMU_CR0ACK, 4), 0);
	smmu_free(h2);
	mem_frames_free_pool(p2);
	mem_space_free(ms);
}

/* ---- 2-4. devices, stage-2 and first-stage domains ---------------------------------------- */

static void test_s2(void)
{
	struct smmu_config c;
	struct dev_ep *ep, *ep2;
	struct iommu_device *dev, *dev2;
	struct iommu_domain *d, *d1;
	struct iommu_fault f;
	struct dev_dma_report rep;
	struct snap sn;
	uint64_t buf = 0x1122334455667788ull, w[2], st, unmapped;
	unsigned seen;
	int status;

	smmu_config_default(&c);
	env_new(&c);
	ep = endpoint(0x10, false, false);
	dev = device(ep);

	/* 2. A new device: STE V = 1, Config abort (dw0 = 0x1); the L1 descriptor has
	 * Span 9 (SPLIT + 1). A DMA is refused and nothing is recorded. */
	st = ste_pa(0x10);
	CHECK_EQ(hget(st), 0x1);
	CHECK_EQ(hget(st + 16), 0);
	CHECK_EQ(dma(ep, -1, true, 0x100000, &buf, 8, &rep), DEV_DMA_FAULT);
	CHECK_EQ(faults_seen(), 0);
	{
		struct iommu_device *again;

		CHECK_EQ(iommu_device_add(unit, ep, &again), -EEXIST);
	}

	/* 3. A stage-2 domain. */
	CHECK_EQ(iommu_domain_alloc_paging(unit, 0, &d), 0);
	CHECK_EQ(d->fmt.ia_bits, 48);
	CHECK_EQ(iommu_map(d, 0x100000, BUF_PA, 0x4000, PGT_PROT_R | PGT_PROT_W), 0);
	snap(&sn);
	CHECK_EQ(iommu_attach_dev(d, dev), 0);
	/* abort -> stage 2 is one visible word (dw0): one CFGI_STE and its SYNC. */
	CHECK_EQ(delta(&sn, CMD_CFGI_STE), 1);
	CHECK_EQ(delta(&sn, CMD_SYNC), 1);
	/* dw0 = V | Config 0b110 << 1 = 0xd.
	 * dw2 = S2VMID 1 | S2T0SZ 16 << 32 (0x1000000000) | S2SL0 2 << 38 (0x8000000000) |
	 *       S2IR0 1 << 40 (0x10000000000) | S2OR0 1 << 42 (0x40000000000) |
	 *       S2SH0 3 << 44 (0x300000000000) | S2TG 0 | S2PS 0b101 << 48
	 *       (0x5000000000000) | S2AA64 (bit 51: 0x8000000000000) | S2PTW (bit 54:
	 *       0x40000000000000) | S2R (bit 58: 0x400000000000000) = 0x044d359000000001.
	 * dw3 = S2TTB: the root. */
	CHECK_EQ(hget(st), 0xd);
	CHECK_EQ(hget(st + 8), 0);
	CHECK_EQ(hget(st + 16), 0x044d359000000001ull);
	CHECK_EQ(hget(st + 24), d->root);
	CHECK_EQ(dma(ep, -1, true, 0x100010, &buf, 8, &rep), DEV_DMA_OK);
	CHECK_EQ(hget(BUF_PA + 0x10), buf);
	hput(BUF_PA + 0x3ff8, 0xabcdef);
	CHECK_EQ(dma_read64(ep, -1, 0x103ff8, &status), 0xabcdef);
	CHECK_EQ(status, DEV_DMA_OK);

	/* Unmap 4 pages: one range TLBI_S2_IPA, then CMD_SYNC. 4 pages of 4K: SCALE =
	 * ctz(4) = 2, NUM + 1 = 1: dw0 = 0x2a | SCALE 2 << 20 (0x200000) | VMID 1 << 32
	 * = 0x000000010020002a; dw1 = TG 1 (4K) << 10 (0x400) | TTL 0 | Leaf 0 |
	 * IPA 0x100000 = 0x100400. */
	snap(&sn);
	CHECK_EQ(iommu_unmap(d, 0x100000, 0x4000, &unmapped), 0);
	CHECK_EQ(unmapped, 0x4000);
	CHECK_EQ(delta(&sn, CMD_TLBI_S2_IPA), 1);
	CHECK_EQ(delta(&sn, CMD_SYNC), 1);
	CHECK_EQ(delta_all(&sn), 2);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x000000010020002aull);
	CHECK_EQ(w[1], 0x100400);

	/* A write DMA now faults: stage-2 F_TRANSLATION, recorded (S2R), reported as
	 * PTE_FETCH with the page address, no PASID, no fetch address, perm WRITE. */
	seen = faults_seen();
	CHECK_EQ(dma(ep, -1, true, 0x101234, &buf, 8, &rep), DEV_DMA_FAULT);
	CHECK_EQ(rep.xlate.fault_reason, 0x10);
	CHECK(wait_fault(seen, &f));
	CHECK_EQ(f.type, IOMMU_FAULT_DMA_UNRECOV);
	CHECK_EQ(f.event.reason, IOMMU_FAULT_REASON_PTE_FETCH);
	CHECK_EQ(f.event.flags, IOMMU_FAULT_UNRECOV_ADDR_VALID);
	CHECK_EQ(f.event.addr, 0x101000);
	CHECK_EQ(f.event.perm, IOMMU_FAULT_PERM_WRITE);

	/* 4. A first-stage domain on a second device: Config 0b101, one host CD. */
	ep2 = endpoint(0x11, false, false);
	dev2 = device(ep2);
	CHECK_EQ(iommu_domain_alloc_paging(unit, IOMMU_DOMAIN_F_FIRST_STAGE, &d1), 0);
	CHECK_EQ(d1->fmt.family, PGT_LPAE_S1);
	CHECK_EQ(iommu_map(d1, 0x200000, BUF_PA + 0x10000, 0x1000,
			   PGT_PROT_R | PGT_PROT_W | PGT_PROT_U), 0);
	CHECK_EQ(iommu_attach_dev(d1, dev2), 0);
	st = ste_pa(0x11);
	{
		uint64_t ste0 = hget(st), cd;

		/* V | Config 0b101 << 1 (0xa) | S1Fmt 0 | S1CDMax 0: 0xb | the CD address. */
		CHECK_EQ(ste0 & 0x3f, 0xb);
		CHECK_EQ(ste0 >> 59, 0);
		/* S2VMID: the domain's own VMID (2: the stage-2 domain has 1). */
		CHECK_EQ(hget(st + 16), 2);
		cd = ste0 & GENMASK(51, 6);
		/* The host CD: V, AA64, ASID 1 (63:48), T0SZ 16, TTB0 = the root. */
		CHECK(hget(cd) & BIT(31));
		CHECK_EQ(hget(cd) >> 48, 1);
		CHECK_EQ(hget(cd) & 0x3f, 16);
		CHECK_EQ(hget(cd + 8) & GENMASK(51, 4), d1->root);
	}
	hput(BUF_PA + 0x10008, 0x5151);
	CHECK_EQ(dma_read64(ep2, -1, 0x200008, &status), 0x5151);
	CHECK_EQ(status, DEV_DMA_OK);
	/* Unmap one page: TLBI_NH_VA with ASID 1, VMID 2; one page non-leaf is the
	 * reserved range encoding, so the non-range form (TG 0): dw0 = 0x12 |
	 * VMID 2 << 32 | ASID 1 << 48 = 0x0001000200000012, dw1 = VA 0x200000. */
	snap(&sn);
	CHECK_EQ(iommu_unmap(d1, 0x200000, 0x1000, NULL), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VA), 1);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0001000200000012ull);
	CHECK_EQ(w[1], 0x200000);
	CHECK_EQ(dma_read64(ep2, -1, 0x200008, &status), 0);
	CHECK_EQ(status, DEV_DMA_FAULT);

	/* An endpoint the SMMU sees but that is no device of the unit: its StreamID
	 * (0x300, a level-1 span with no table) is C_BAD_STREAMID (CR2.RECINVSID),
	 * which the driver counts and drops. */
	{
		struct arm_smmu_stats ds;
		struct dev_ep *stray = endpoint(0x300, false, false);

		CHECK_EQ(dma(stray, -1, false, 0, &buf, 8, &rep), DEV_DMA_FAULT);
		CHECK_EQ(rep.xlate.fault_reason, 0x02);
		arm_smmu_get_stats(unit, &ds);
		CHECK_EQ(ds.events_unknown_sid, 1);
		smmu_detach(hw, stray);
		dev_ep_free(stray);
	}

	/* Detach: back to abort, the old VMID's TLB (S12_VMALL) and a SYNC. */
	snap(&sn);
	CHECK_EQ(iommu_detach_dev(dev), 0);
	CHECK_EQ(hget(ste_pa(0x10)), 0x1);
	CHECK_EQ(delta(&sn, CMD_TLBI_S12_VMALL), 1);
	CHECK_EQ(iommu_map(d, 0x100000, BUF_PA, 0x1000, PGT_PROT_R | PGT_PROT_W), 0);
	seen = faults_seen();
	CHECK_EQ(dma(ep, -1, true, 0x100000, &buf, 8, &rep), DEV_DMA_FAULT);
	CHECK_EQ(faults_seen(), seen);      /* abort is silent */
	CHECK_EQ(iommu_detach_dev(dev2), 0);
	CHECK_EQ(iommu_domain_free(d), 0);
	CHECK_EQ(iommu_domain_free(d1), 0);
	device_gone(dev, ep);
	device_gone(dev2, ep2);
	env_free();
}

/* ---- 5-6. nested ------------------------------------------------------------------------- */

/* Makes the guest's 4K leaf of va not global (nG, bit 11), as a guest OS maps
 * process memory: its TLB entries are then tagged by ASID, and TLBI_NH_ASID
 * drops them (pgtable/ builds global leaves). Four levels, 9 bits each. */
static void guest_ng(uint64_t va)
{
	uint64_t table = groot, e = 0;

	for (unsigned lvl = 0; lvl < 3; lvl++) {
		if (mem_load64(gs, table + ((va >> (39 - 9 * lvl)) & 0x1ff) * 8, &e))
			die("guest walk");
		table = e & GENMASK(47, 12);
	}
	table += ((va >> 12) & 0x1ff) * 8;
	if (mem_load64(gs, table, &e) || !(e & 1))
		die("guest leaf");
	gput(table, e | BIT(11));
}

/* The guest side: stage-1 format and root, a linear CD table of 16 CDs (S1CDMax
 * 4), CD 1 with ASID 5 and CD 2 with ASID 6 (stalling when stall is set), both
 * over the same tables; VA and VA + 0x1000 mapped to DATA_IPA and DATA_IPA +
 * 0x1000 (user read/write). Data at those pages: 0xd0 + page. */
static void guest_build(bool stall)
{
	struct pgt_cfg c = { .family = PGT_LPAE_S1, .granule = 4096, .tsz = 16, .oas = 48 };

	if (pgt_fmt_init(&g1, &c) || pgt_root_alloc(&g1, gpool, &groot))
		die("guest format");
	if (mem_frames_alloc(gpool, 4096, &gcdtab))
		die("guest cd table");
	gput(gcdtab + 64, GCD0 | (5ull << 48));
	gput(gcdtab + 64 + 8, groot);
	gput(gcdtab + 128, GCD0 | (stall ? GCD0_S : 0) | (6ull << 48));
	gput(gcdtab + 128 + 8, groot);
	if (pgt_map(&g1, gpool, groot, VA, DATA_IPA, 0x2000,
		    PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0))
		die("guest map");
	guest_ng(VA);
	guest_ng(VA + 0x1000);
	for (unsigned i = 0; i < 16; i++)
		hput(GUEST_PA + DATA_IPA + 0x1000ull * i, 0xd0 + i);
}

/* Points the guest's VA page at DATA_IPA + page * 0x1000 (the L3 table stays). */
static void guest_remap(uint64_t va, unsigned page)
{
	if (pgt_unmap(&g1, gpool, groot, va, 0x1000, NULL) ||
	    pgt_map(&g1, gpool, groot, va, DATA_IPA + 0x1000ull * page, 0x1000,
		    PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0))
		die("guest remap");
	guest_ng(va);
}

static struct iommu_domain *nest_parent(void)
{
	struct iommu_domain *p;

	if (iommu_domain_alloc_paging(unit, IOMMU_DOMAIN_F_NEST_PARENT, &p) ||
	    iommu_map(p, 0, GUEST_PA, GUEST_SIZE, PGT_PROT_R | PGT_PROT_W))
		die("nest parent");
	return p;
}

static struct iommu_user_s1 user_s1(uint64_t cdtab, unsigned fmt, unsigned cdmax, unsigned dss,
				    bool stalld)
{
	struct iommu_user_s1 u = { .vendor = IOMMU_VENDOR_ARM_SMMUV3 };

	u.smmu.cdtab = cdtab;
	u.smmu.s1fmt = (uint8_t)fmt;
	u.smmu.s1cdmax = (uint8_t)cdmax;
	u.smmu.s1dss = (uint8_t)dss;
	u.smmu.s1stalld = stalld;
	return u;
}

static struct iommu_inv inv_addr(int pasid, int archid, uint64_t addr, uint64_t gran,
				 uint64_t nb, bool leaf)
{
	struct iommu_inv v = {
		.cache = IOMMU_CACHE_INV_TYPE_IOTLB, .granu = IOMMU_INV_GRANU_ADDR,
		.pasid_valid = pasid >= 0, .pasid = pasid >= 0 ? (uint32_t)pasid : 0,
		.archid_valid = archid >= 0, .archid = archid >= 0 ? (uint32_t)archid : 0,
		.leaf = leaf, .addr = addr, .granule_size = gran, .nb_granules = nb,
	};

	return v;
}

static int inv1(struct iommu_domain *d, struct iommu_device *dev, struct iommu_inv v)
{
	unsigned done = 99;
	int err = iommu_cache_invalidate(d, dev, &v, 1, &done);

	CHECK_EQ(done, err ? 0 : 1);
	return err;
}

struct stale_log {
	unsigned n;
	char cache[16];
	char missing[160];
};

static void on_stale(void *ctx, const struct smmu_stale *st)
{
	struct stale_log *l = ctx;

	l->n++;
	snprintf(l->cache, sizeof(l->cache), "%s", st->cache);
	snprintf(l->missing, sizeof(l->missing), "%s", st->missing ? st->missing : "");
}

static void test_nested(void)
{
	struct smmu_config c;
	struct dev_ep *ep;
	struct iommu_device *dev;
	struct iommu_domain *p, *n, *n2, *d2;
	struct iommu_user_s1 u;
	struct iommu_inv v, batch[3];
	struct snap sn;
	uint64_t w[2], st, buf;
	unsigned done;
	int status;

	smmu_config_default(&c);
	env_new(&c);
	guest_build(false);
	ep = endpoint(0x20, false, false);
	dev = device(ep);
	p = nest_parent();
	u = user_s1(gcdtab, 0, 4, 1, false);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), 0);
	CHECK_EQ(iommu_attach_dev(n, dev), 0);
	/* dw0 = V | Config 0b111 << 1 (0xe) | S1Fmt 0 | S1ContextPtr (the CD table IPA,
	 * 51:6) | S1CDMax 4 << 59 (0x2000000000000000) = 0x200000000000000f | cdtab.
	 * dw1 = S1DSS 1 | S1CIR 1 << 2 | S1COR 1 << 4 | S1CSH 3 << 6 = 0xd5.
	 * dw2 = the parent's: VMID 1 and the same VTCR fields as a stage-2 STE. */
	st = ste_pa(0x20);
	CHECK_EQ(hget(st), 0x200000000000000full | gcdtab);
	CHECK_EQ(hget(st + 8), 0xd5);
	CHECK_EQ(hget(st + 16), 0x044d359000000001ull);
	CHECK_EQ(hget(st + 24), p->root);

	/* DMA with SSID 1: VA -> DATA_IPA (guest stage 1) -> GUEST_PA + DATA_IPA. */
	buf = 0x77;
	CHECK_EQ(dma(ep, 1, true, VA + 0x100, &buf, 8, NULL), DEV_DMA_OK);
	CHECK_EQ(hget(GUEST_PA + DATA_IPA + 0x100), 0x77);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd0);
	/* Without an SSID, S1DSS bypass: the address is an IPA. */
	CHECK_EQ(dma_read64(ep, -1, DATA_IPA + 0x1000, &status), 0xd1);
	CHECK_EQ(status, DEV_DMA_OK);

	/* Faults of the nested stream, through the event table:
	 * C_BAD_CD (CD 3 is zero) -> BAD_PASID_ENTRY with the PASID, no address. */
	{
		struct iommu_fault f;
		struct iommu_domain *n3;
		unsigned seen = faults_seen();

		CHECK_EQ(dma_read64(ep, 3, VA, &status), 0);
		CHECK_EQ(status, DEV_DMA_FAULT);
		CHECK(wait_fault(seen, &f));
		CHECK_EQ(f.type, IOMMU_FAULT_DMA_UNRECOV);
		CHECK_EQ(f.event.reason, IOMMU_FAULT_REASON_BAD_PASID_ENTRY);
		CHECK_EQ(f.event.flags, IOMMU_FAULT_UNRECOV_PASID_VALID);
		CHECK_EQ(f.event.pasid, 3);
		/* SSID 16 with S1CDMax 4: C_BAD_SUBSTREAMID -> PASID_INVALID. */
		seen = faults_seen();
		dma_read64(ep, 16, VA, &status);
		CHECK(wait_fault(seen, &f));
		CHECK_EQ(f.event.reason, IOMMU_FAULT_REASON_PASID_INVALID);
		CHECK_EQ(f.event.flags, IOMMU_FAULT_UNRECOV_PASID_VALID);
		CHECK_EQ(f.event.pasid, 16);
		/* Stage 1 has no entry (CD.R = 1): PTE_FETCH, PASID and address. */
		seen = faults_seen();
		buf = 1;
		CHECK_EQ(dma(ep, 1, true, VA_MISSING + 0x123, &buf, 8, NULL), DEV_DMA_FAULT);
		CHECK(wait_fault(seen, &f));
		CHECK_EQ(f.event.reason, IOMMU_FAULT_REASON_PTE_FETCH);
		CHECK_EQ(f.event.flags, IOMMU_FAULT_UNRECOV_PASID_VALID |
					IOMMU_FAULT_UNRECOV_ADDR_VALID);
		CHECK_EQ(f.event.pasid, 1);
		CHECK_EQ(f.event.addr, VA_MISSING);
		CHECK_EQ(f.event.perm, IOMMU_FAULT_PERM_WRITE);
		/* A CD table at an IPA the parent does not map: stage-2 F_TRANSLATION
		 * while fetching the CD (CLASS CD): the IPA is the fetch address. */
		u = user_s1(GUEST_SIZE, 0, 4, 1, false);
		CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n3), 0);
		CHECK_EQ(iommu_attach_dev(n3, dev), 0);
		seen = faults_seen();
		dma_read64(ep, 1, VA, &status);
		CHECK_EQ(status, DEV_DMA_FAULT);
		CHECK(wait_fault(seen, &f));
		CHECK_EQ(f.event.reason, IOMMU_FAULT_REASON_PTE_FETCH);
		CHECK_EQ(f.event.flags, IOMMU_FAULT_UNRECOV_PASID_VALID |
					IOMMU_FAULT_UNRECOV_ADDR_VALID |
					IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID);
		CHECK_EQ(f.event.fetch_addr, GUEST_SIZE);
		CHECK_EQ(iommu_attach_dev(n, dev), 0);
		CHECK_EQ(iommu_domain_free(n3), 0);
		CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd0);
	}

	/* The guest moves VA to page 2. Cached: still page 0 until invalidated. */
	guest_remap(VA, 2);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd0);
	/* IOTLB, ADDR, ARCHID 5 (the ASID), one 4K leaf: TLBI_NH_VA, VMID 1, ASID 5,
	 * a range of one granule (NUM 0, SCALE 0, legal with TTL 3): dw0 = 0x12 |
	 * VMID 1 << 32 | ASID 5 << 48 = 0x0005000100000012; dw1 = Leaf | TTL 3 << 8
	 * (0x300) | TG 1 << 10 (0x400) | VA 0x400000 = 0x400701. */
	snap(&sn);
	CHECK_EQ(inv1(n, dev, inv_addr(-1, 5, VA, 4096, 1, true)), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VA), 1);
	CHECK_EQ(delta(&sn, CMD_SYNC), 1);
	CHECK_EQ(delta_all(&sn), 2);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0005000100000012ull);
	CHECK_EQ(w[1], 0x400701);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd2);

	/* Again with the PASID only: the driver reads CD 1 through the parent and
	 * finds ASID 5. */
	guest_remap(VA, 3);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd2);
	snap(&sn);
	CHECK_EQ(inv1(n, dev, inv_addr(1, -1, VA, 4096, 1, true)), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VA), 1);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0005000100000012ull);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd3);

	/* Neither PASID nor ARCHID: every ASID of the VMID (TLBI_NH_VAA, 0x13). */
	guest_remap(VA, 4);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd3);
	snap(&sn);
	CHECK_EQ(inv1(n, dev, inv_addr(-1, -1, VA, 4096, 1, false)), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VAA), 1);
	cmd_back(2, w);
	/* dw0 = 0x13 | VMID 1 << 32; non-leaf one granule: the non-range form, dw1 = VA. */
	CHECK_EQ(w[0], 0x0000000100000013ull);
	CHECK_EQ(w[1], VA);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd4);

	/* IOTLB by PASID: TLBI_NH_ASID (0x11), ASID from the CD or from ARCHID. */
	guest_remap(VA, 5);
	v = (struct iommu_inv){ .cache = IOMMU_CACHE_INV_TYPE_IOTLB, .granu = IOMMU_INV_GRANU_PASID,
				.pasid_valid = true, .pasid = 1 };
	snap(&sn);
	CHECK_EQ(inv1(n, dev, v), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_ASID), 1);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0005000100000011ull);
	CHECK_EQ(w[1], 0);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd5);
	v.pasid_valid = false;
	v.archid_valid = true;
	v.archid = 6;
	snap(&sn);
	CHECK_EQ(inv1(n, dev, v), 0);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0006000100000011ull);
	/* Neither: refused. */
	v.archid_valid = false;
	CHECK_EQ(inv1(n, dev, v), -EINVAL);

	/* IOTLB by DOMAIN: TLBI_NH_ALL (0x10) of VMID 1. */
	guest_remap(VA, 6);
	v = (struct iommu_inv){ .cache = IOMMU_CACHE_INV_TYPE_IOTLB, .granu = IOMMU_INV_GRANU_DOMAIN };
	snap(&sn);
	CHECK_EQ(inv1(n, dev, v), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_ALL), 1);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0000000100000010ull);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd6);

	/* PASID cache: by PASID CFGI_CD (SID 0x20, SSID 1: dw0 = 0x05 | 1 << 12 |
	 * 0x20 << 32 = 0x0000002000001005), by DOMAIN CFGI_CD_ALL, by ADDR refused. */
	v = (struct iommu_inv){ .cache = IOMMU_CACHE_INV_TYPE_PASID, .granu = IOMMU_INV_GRANU_PASID,
				.pasid_valid = true, .pasid = 1 };
	snap(&sn);
	CHECK_EQ(inv1(n, dev, v), 0);
	CHECK_EQ(delta(&sn, CMD_CFGI_CD), 1);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0000002000001005ull);
	CHECK_EQ(w[1], 0);
	v.granu = IOMMU_INV_GRANU_DOMAIN;
	v.pasid_valid = false;
	snap(&sn);
	CHECK_EQ(inv1(n, dev, v), 0);
	CHECK_EQ(delta(&sn, CMD_CFGI_CD_ALL), 1);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0000002000000006ull);
	v = inv_addr(1, -1, VA, 4096, 1, false);
	v.cache = IOMMU_CACHE_INV_TYPE_PASID;
	snap(&sn);
	CHECK_EQ(inv1(n, dev, v), -EINVAL);
	/* DEV_IOTLB has no DOMAIN granularity. */
	v = (struct iommu_inv){ .cache = IOMMU_CACHE_INV_TYPE_DEV_IOTLB,
				.granu = IOMMU_INV_GRANU_DOMAIN };
	CHECK_EQ(inv1(n, dev, v), -EINVAL);
	/* Unknown cache bits, no cache, a bad granularity. */
	v.granu = IOMMU_INV_GRANU_PASID;
	v.cache = 8;
	CHECK_EQ(inv1(n, dev, v), -EINVAL);
	v.cache = 0;
	CHECK_EQ(inv1(n, dev, v), -EINVAL);
	v.cache = IOMMU_CACHE_INV_TYPE_IOTLB;
	v.granu = 3;
	CHECK_EQ(inv1(n, dev, v), -EINVAL);
	/* Refused entries sent nothing: the SYNC of the (empty) batch only. */
	CHECK_EQ(delta_all(&sn) - delta(&sn, CMD_SYNC), 0);
	/* A misaligned address, a granule that is no power of two, no granules. */
	CHECK_EQ(inv1(n, dev, inv_addr(-1, 5, VA + 0x800, 4096, 1, true)), -ERANGE);
	CHECK_EQ(inv1(n, dev, inv_addr(-1, 5, VA, 0x3000, 1, true)), -EINVAL);
	CHECK_EQ(inv1(n, dev, inv_addr(-1, 5, VA, 4096, 0, true)), -EINVAL);
	/* A PASID whose CD is not valid (CD 3 is zero), or beyond S1CDMax. */
	CHECK_EQ(inv1(n, dev, inv_addr(3, -1, VA, 4096, 1, true)), -EINVAL);
	CHECK_EQ(inv1(n, dev, inv_addr(16, -1, VA, 4096, 1, true)), -EINVAL);

	/* A range (IDR3.RIL): 35 pages of 4K from 0x10001000, leaf (TTL 3). Worked
	 * by hand: n = 35 = 0b100011: SCALE = ctz(35) = 0, NUM + 1 = 35 & 31 = 3 ->
	 * pages [0x10001000, 0x10004000); then n = 32: SCALE 5, NUM + 1 = 1 -> 32
	 * pages from 0x10004000.
	 *   cmd 1: dw0 = 0x12 | NUM 2 << 12 (0x2000) | VMID 1 << 32 | ASID 5 << 48
	 *              = 0x0005000100002012; dw1 = Leaf | TTL 3 << 8 (0x300) |
	 *              TG 1 << 10 (0x400) | 0x10001000 = 0x10001701
	 *   cmd 2: dw0 = 0x12 | SCALE 5 << 20 (0x500000) | VMID | ASID
	 *              = 0x0005000100500012; dw1 = 0x10004701 */
	snap(&sn);
	CHECK_EQ(inv1(n, dev, inv_addr(-1, 5, 0x10001000, 4096, 35, true)), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VA), 2);
	cmd_back(3, w);
	CHECK_EQ(w[0], 0x0005000100002012ull);
	CHECK_EQ(w[1], 0x10001701);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0005000100500012ull);
	CHECK_EQ(w[1], 0x10004701);
	/* 2M blocks: TG 4K, TTL 2; 3 blocks = 1536 pages = 3 << 9: SCALE 9, NUM 2:
	 * dw0 = 0x12 | 0x2000 | 9 << 20 (0x900000) | VMID | ASID; dw1 = Leaf |
	 * TTL 2 << 8 (0x200) | TG 1 << 10 (0x400) | 0x40000000. */
	snap(&sn);
	CHECK_EQ(inv1(n, dev, inv_addr(-1, 5, 0x40000000, 0x200000, 3, true)), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VA), 1);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0005000100902012ull);
	CHECK_EQ(w[1], 0x40000601);
	/* A huge range is one TLBI_NH_ALL of the VMID. */
	snap(&sn);
	CHECK_EQ(inv1(n, dev, inv_addr(-1, 5, 0, 0x2000, 1000, false)), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VA), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_ALL), 1);

	/* A batch stops at its first bad entry: done = 1, and the good one was sent. */
	batch[0] = inv_addr(-1, 5, VA, 4096, 1, true);
	batch[1] = inv_addr(-1, 5, VA + 1, 4096, 1, true);
	batch[2] = inv_addr(-1, 5, VA, 4096, 1, true);
	snap(&sn);
	done = 99;
	CHECK_EQ(iommu_cache_invalidate(n, dev, batch, 3, &done), -ERANGE);
	CHECK_EQ(done, 1);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VA), 1);
	CHECK_EQ(delta(&sn, CMD_SYNC), 1);
	batch[1] = batch[0];
	snap(&sn);
	CHECK_EQ(iommu_cache_invalidate(n, dev, batch, 3, &done), 0);
	CHECK_EQ(done, 3);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VA), 3);
	CHECK_EQ(delta(&sn, CMD_SYNC), 1);        /* one CMD_SYNC for the batch */

	/* Unmap from the nest parent: TLBI_S12_VMALL (combined entries). */
	snap(&sn);
	CHECK_EQ(iommu_unmap(p, GUEST_SIZE - 0x200000, 0x200000, NULL), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_S12_VMALL), 1);
	CHECK_EQ(delta(&sn, CMD_TLBI_S2_IPA), 0);

	/* Replacing the nested domain with its parent changes one word the SMMU reads
	 * (dw0): hitless, dw0 in one store and CFGI_STE, then dw1's stage-1 fields,
	 * which nobody reads any more, cleared with a second CFGI_STE; then the old
	 * context's TLB (S12_VMALL of VMID 1). */
	snap(&sn);
	CHECK_EQ(iommu_attach_dev(p, dev), 0);
	CHECK_EQ(delta(&sn, CMD_CFGI_STE), 2);
	CHECK_EQ(hget(st + 8), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_S12_VMALL), 1);
	CHECK_EQ(hget(st), 0xd);
	CHECK_EQ(dma_read64(ep, -1, DATA_IPA + 0x1000, &status), 0xd1);
	/* ... and back to a nested domain: hitless again. */
	u = user_s1(gcdtab, 0, 4, 1, false);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n2), 0);
	snap(&sn);
	CHECK_EQ(iommu_attach_dev(n2, dev), 0);
	CHECK_EQ(delta(&sn, CMD_CFGI_STE), 1);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd6);
	/* To another stage-2 domain: VMID and S2TTB change (two words), so the
	 * entry goes through abort: two CFGI_STEs. */
	CHECK_EQ(iommu_domain_alloc_paging(unit, 0, &d2), 0);
	snap(&sn);
	CHECK_EQ(iommu_attach_dev(d2, dev), 0);
	CHECK_EQ(delta(&sn, CMD_CFGI_STE), 2);
	CHECK_EQ(hget(st + 16) & 0xffff, 2);
	CHECK_EQ(hget(st + 24), d2->root);
	CHECK_EQ(iommu_domain_free(n), 0);
	CHECK_EQ(iommu_domain_free(p), -EBUSY);   /* n2 still over it */
	CHECK_EQ(iommu_domain_free(n2), 0);
	CHECK_EQ(iommu_domain_free(p), 0);
	CHECK_EQ(iommu_detach_dev(dev), 0);
	CHECK_EQ(iommu_domain_free(d2), 0);
	device_gone(dev, ep);
	env_free();

	/* Without RIL: one non-range command per granule. */
	smmu_config_default(&c);
	c.ril = false;
	env_new(&c);
	guest_build(false);
	ep = endpoint(0x20, false, false);
	dev = device(ep);
	p = nest_parent();
	u = user_s1(gcdtab, 0, 4, 1, false);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), 0);
	CHECK_EQ(iommu_attach_dev(n, dev), 0);
	snap(&sn);
	CHECK_EQ(inv1(n, dev, inv_addr(-1, 5, 0x10001000, 4096, 3, true)), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VA), 3);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0005000100000012ull);
	CHECK_EQ(w[1], 0x10003001);             /* Leaf | VA of the third page */
	/* An unmap of a plain stage-2 domain: TLBI_S2_IPA per page. */
	CHECK_EQ(iommu_domain_alloc_paging(unit, 0, &d2), 0);
	CHECK_EQ(iommu_map(d2, 0, BUF_PA, 0x3000, PGT_PROT_R), 0);
	snap(&sn);
	CHECK_EQ(iommu_unmap(d2, 0, 0x3000, NULL), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_S2_IPA), 3);
	CHECK_EQ(iommu_domain_free(d2), 0);
	CHECK_EQ(iommu_detach_dev(dev), 0);
	CHECK_EQ(iommu_domain_free(n), 0);
	CHECK_EQ(iommu_domain_free(p), 0);
	device_gone(dev, ep);
	env_free();

	/* 6. The coherence checker: the skipped invalidation is reported. */
	{
		struct stale_log log = { 0 };

		smmu_config_default(&c);
		c.checker = true;
		env_new(&c);
		smmu_set_stale_cb(hw, on_stale, &log);
		guest_build(false);
		ep = endpoint(0x20, false, false);
		dev = device(ep);
		p = nest_parent();
		u = user_s1(gcdtab, 0, 4, 1, false);
		CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), 0);
		CHECK_EQ(iommu_attach_dev(n, dev), 0);
		CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd0);
		CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd0);
		CHECK_EQ(log.n, 0);
		guest_remap(VA, 7);
		/* No invalidation: the checker answers from memory and reports. */
		CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd7);
		CHECK(log.n >= 1);
		CHECK_MSG(!strcmp(log.cache, "tlb"), "cache %s", log.cache);
		CHECK_MSG(strstr(log.missing, "CMD_TLBI_NH_VA (VMID 1, ASID 5") != NULL,
			  "missing %s", log.missing);
		/* With it, nothing more. */
		CHECK_EQ(inv1(n, dev, inv_addr(1, -1, VA, 4096, 1, true)), 0);
		log.n = 0;
		CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd7);
		CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd7);
		CHECK_EQ(log.n, 0);
		CHECK_EQ(iommu_detach_dev(dev), 0);
		CHECK_EQ(iommu_domain_free(n), 0);
		CHECK_EQ(iommu_domain_free(p), 0);
		device_gone(dev, ep);
		env_free();
	}
}

/* ---- 7. nested refusals --------------------------------------------------------------- */

static void test_nested_refusals(void)
{
	struct smmu_config c;
	struct iommu_domain *p, *s2, *n;
	struct iommu_user_s1 u;
	uint64_t cd;

	smmu_config_default(&c);
	env_new(&c);
	p = nest_parent();
	CHECK_EQ(iommu_domain_alloc_paging(unit, 0, &s2), 0);
	cd = 0x200000;
	/* Accepted: linear, 16 CDs at a 1 KiB-aligned IPA; S1STALLD with stall model 0. */
	u = user_s1(cd, 0, 4, 1, true);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), 0);
	CHECK_EQ(iommu_domain_free(n), 0);
	/* Two-level 4K leaves, 2^10 CDs: 16 L1 descriptors, 128 bytes. */
	u = user_s1(cd + 0x80, 1, 10, 2, false);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), 0);
	CHECK_EQ(iommu_domain_free(n), 0);

	u = user_s1(cd, 3, 4, 1, false);              /* S1Fmt 0b11 */
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	u = user_s1(cd, 0, 21, 1, false);             /* S1CDMax > SSIDSIZE (20) */
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	u = user_s1(cd, 0, 4, 3, false);              /* S1DSS 0b11 */
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	u = user_s1(cd + 0x40, 0, 4, 1, false);       /* linear 1 KiB table, 64 B aligned */
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	u = user_s1(cd + 0x20, 0, 0, 1, false);       /* one CD, not 64 B aligned */
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	u = user_s1(cd + 0x40, 1, 10, 2, false);      /* 128-byte L1 table, 64 B aligned */
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	u = user_s1(BIT(48), 0, 0, 1, false);         /* beyond the parent's 48-bit IPA */
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	u = user_s1(cd, 0, 4, 1, false);              /* parent is not a nest parent */
	CHECK_EQ(iommu_domain_alloc_nested(s2, &u, &n), -EINVAL);
	u.vendor = IOMMU_VENDOR_INTEL_VTD;
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	CHECK_EQ(iommu_domain_free(s2), 0);
	CHECK_EQ(iommu_domain_free(p), 0);
	env_free();

	/* An SMMU without CD2L and without stalls: two-level tables and S1STALLD. */
	smmu_config_default(&c);
	c.cd2l = false;
	c.stall_model = 1;
	env_new(&c);
	p = nest_parent();
	u = user_s1(0x200000, 1, 10, 2, false);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	u = user_s1(0x200000, 2, 12, 2, false);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	u = user_s1(0x200000, 0, 4, 1, true);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), -EINVAL);
	u = user_s1(0x200000, 0, 4, 1, false);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), 0);
	CHECK_EQ(iommu_domain_free(n), 0);
	CHECK_EQ(iommu_domain_free(p), 0);
	env_free();

	/* Without stage 1: no nest parents, no nested domains. */
	smmu_config_default(&c);
	c.s1p = false;
	env_new(&c);
	CHECK_EQ(iommu_domain_alloc_paging(unit, IOMMU_DOMAIN_F_NEST_PARENT, &p), -EOPNOTSUPP);
	CHECK_EQ(iommu_domain_alloc_paging(unit, IOMMU_DOMAIN_F_FIRST_STAGE, &p), -EOPNOTSUPP);
	CHECK_EQ(iommu_domain_alloc_paging(unit, 0, &p), 0);
	CHECK_EQ(iommu_domain_free(p), 0);
	env_free();
}

/* ---- 8-9. page requests and stalls ------------------------------------------------------- */

struct dma_job {
	struct dev_ep *ep;
	int pasid;
	uint64_t iova;
	bool pri;
	uint64_t val;
	struct dev_dma_report rep;
	int ret;
};

static void *dma_thread(void *arg)
{
	struct dma_job *j = arg;
	struct dev_dma d = {
		.pasid_valid = j->pasid >= 0, .pasid = (uint32_t)(j->pasid >= 0 ? j->pasid : 0),
		.iova = j->iova, .buf = &j->val, .len = sizeof(j->val), .use_pri = j->pri,
		.retry_wait_ns = 10000000000ull,
	};

	j->ret = dev_dma(j->ep, &d, &j->rep);
	return NULL;
}

static void test_pri(void)
{
	struct smmu_config c;
	struct dev_ep *ep;
	struct iommu_device *dev;
	struct iommu_domain *p, *n;
	struct iommu_user_s1 u;
	struct iommu_fault f;
	struct iommu_inv v;
	struct arm_smmu_stats ds;
	struct dma_job j;
	struct snap sn;
	pthread_t t;
	uint64_t w[2];
	unsigned seen;
	int status;

	smmu_config_default(&c);
	env_new(&c);
	guest_build(false);
	ep = endpoint(0x30, true, true);
	dev = device(ep);
	p = nest_parent();
	u = user_s1(gcdtab, 0, 4, 1, false);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), 0);
	CHECK_EQ(iommu_attach_dev(n, dev), 0);
	/* ATS on: EATS 0b01 (dw1 29:28): 0xd5 | 0x10000000. */
	CHECK_EQ(hget(ste_pa(0x30) + 8), 0x100000d5);
	CHECK_EQ(dma_read64(ep, 1, VA, &status), 0xd0);
	CHECK_EQ(status, DEV_DMA_OK);

	/* A read of an unmapped guest VA: no access, a page request (PRGI of the
	 * endpoint's choosing), reported as PAGE_REQ. */
	seen = faults_seen();
	j = (struct dma_job){ .ep = ep, .pasid = 1, .iova = VA_MISSING, .pri = true };
	if (pthread_create(&t, NULL, dma_thread, &j))
		die("thread");
	CHECK(wait_fault(seen, &f));
	CHECK_EQ(f.type, IOMMU_FAULT_PAGE_REQ);
	CHECK_EQ(f.prm.flags, IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
			      IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE |
			      IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID);
	CHECK_EQ(f.prm.pasid, 1);
	CHECK_EQ(f.prm.addr, VA_MISSING);
	CHECK_EQ(f.prm.perm, IOMMU_FAULT_PERM_READ);
	/* An unknown group: -EINVAL, nothing sent. */
	CHECK_EQ(iommu_page_response(dev, true, 1, (f.prm.grpid + 1) & 0x1ff,
				     IOMMU_PAGE_RESP_SUCCESS), -EINVAL);
	CHECK_EQ(iommu_page_response(dev, true, 2, f.prm.grpid, IOMMU_PAGE_RESP_SUCCESS), -EINVAL);
	/* The guest maps the page, the response goes out: CMD_PRI_RESP with SSV, SSID 1,
	 * SID 0x30, PRGI, Resp 0b10 (Success). */
	if (pgt_map(&g1, gpool, groot, VA_MISSING, DATA_IPA + 0x9000, 0x1000,
		    PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0))
		die("guest map");
	snap(&sn);
	CHECK_EQ(iommu_page_response(dev, true, 1, f.prm.grpid, IOMMU_PAGE_RESP_SUCCESS), 0);
	CHECK_EQ(delta(&sn, CMD_PRI_RESP), 1);
	cmd_back(2, w);
	/* dw0 = 0x41 | SSV (0x800) | SSID 1 << 12 | SID 0x30 << 32 = 0x0000003000001841;
	 * dw1 = PRGI | Resp 2 << 12 (0x2000). */
	CHECK_EQ(w[0], 0x0000003000001841ull);
	CHECK_EQ(w[1], 0x2000 | f.prm.grpid);
	pthread_join(t, NULL);
	CHECK_EQ(j.ret, 0);
	CHECK_EQ(j.rep.status, DEV_DMA_OK);
	CHECK_EQ(j.rep.page_requests, 1);
	CHECK_EQ(j.val, 0xd9);
	/* Answered already: a second response matches nothing. */
	CHECK_EQ(iommu_page_response(dev, true, 1, f.prm.grpid, IOMMU_PAGE_RESP_SUCCESS), -EINVAL);

	/* A request answered INVALID: the DMA fails. */
	seen = faults_seen();
	j = (struct dma_job){ .ep = ep, .pasid = 1, .iova = VA_MISSING + 0x10000, .pri = true };
	if (pthread_create(&t, NULL, dma_thread, &j))
		die("thread");
	CHECK(wait_fault(seen, &f));
	CHECK_EQ(f.type, IOMMU_FAULT_PAGE_REQ);
	CHECK_EQ(iommu_page_response(dev, true, 1, f.prm.grpid, IOMMU_PAGE_RESP_INVALID), 0);
	cmd_back(2, w);
	CHECK_EQ(w[1], 0x1000 | f.prm.grpid);   /* Resp 0b01 InvalidRequest */
	pthread_join(t, NULL);
	CHECK_EQ(j.rep.status, DEV_DMA_PRI_FAILED);

	/* No handler taking it: the core answers Invalid itself. */
	fl.ret = -ENOSPC;
	j = (struct dma_job){ .ep = ep, .pasid = 1, .iova = VA_MISSING + 0x20000, .pri = true };
	if (pthread_create(&t, NULL, dma_thread, &j))
		die("thread");
	pthread_join(t, NULL);
	CHECK_EQ(j.rep.status, DEV_DMA_PRI_FAILED);
	fl.ret = 0;

	/* Device TLB invalidations (the endpoint has ATS): ATC_INV of the PASID's
	 * page: dw0 = 0x40 | SSV | SSID 1 << 12 | SID 0x30 << 32 = 0x0000003000001840,
	 * dw1 = Size 0 | 0x400000. IOTLB and DEV_IOTLB together: TLBI, SYNC, ATC_INV,
	 * SYNC. */
	v = inv_addr(1, -1, VA, 4096, 1, true);
	v.cache = IOMMU_CACHE_INV_TYPE_DEV_IOTLB;
	snap(&sn);
	CHECK_EQ(inv1(n, dev, v), 0);
	CHECK_EQ(delta(&sn, CMD_ATC_INV), 1);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0000003000001840ull);
	CHECK_EQ(w[1], VA);
	/* Three pages from 0x401000: pages 0x401..0x403, 0x401 ^ 0x403 = 2, bit length 2:
	 * Size 2 (4 pages), address 0x400000: dw1 = 2 | 0x400000. */
	v = inv_addr(1, -1, VA + 0x1000, 4096, 3, true);
	v.cache = IOMMU_CACHE_INV_TYPE_IOTLB | IOMMU_CACHE_INV_TYPE_DEV_IOTLB;
	snap(&sn);
	CHECK_EQ(inv1(n, dev, v), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_NH_VA), 1);
	CHECK_EQ(delta(&sn, CMD_ATC_INV), 1);
	CHECK_EQ(delta(&sn, CMD_SYNC), 2);
	cmd_back(2, w);
	CHECK_EQ(w[1], VA | 2);
	/* By PASID: Size 52 (everything of SSID 1). */
	v = (struct iommu_inv){ .cache = IOMMU_CACHE_INV_TYPE_DEV_IOTLB,
				.granu = IOMMU_INV_GRANU_PASID, .pasid_valid = true, .pasid = 1 };
	CHECK_EQ(inv1(n, dev, v), 0);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0000003000001840ull);
	CHECK_EQ(w[1], 52);
	/* A parent unmap reaches the nested stream's ATC: all of it, no SSID. */
	snap(&sn);
	CHECK_EQ(iommu_unmap(p, GUEST_SIZE - 0x200000, 0x200000, NULL), 0);
	CHECK_EQ(delta(&sn, CMD_TLBI_S12_VMALL), 1);
	CHECK_EQ(delta(&sn, CMD_ATC_INV), 1);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0000003000000040ull);
	CHECK_EQ(w[1], 52);

	arm_smmu_get_stats(unit, &ds);
	CHECK_EQ(ds.pri_requests, 3);
	CHECK_EQ(ds.pri_unknown_sid, 0);
	CHECK_EQ(iommu_detach_dev(dev), 0);
	CHECK_EQ(iommu_domain_free(n), 0);
	CHECK_EQ(iommu_domain_free(p), 0);
	device_gone(dev, ep);
	env_free();
}

static void test_stall(void)
{
	struct smmu_config c;
	struct dev_ep *ep;
	struct iommu_device *dev;
	struct iommu_domain *p, *n;
	struct iommu_user_s1 u;
	struct iommu_fault f;
	struct dma_job j;
	struct snap sn;
	pthread_t t;
	uint64_t w[2];
	unsigned seen;

	smmu_config_default(&c);
	env_new(&c);
	guest_build(true);                  /* CD 2: S = 1 */
	ep = endpoint(0x40, false, false);
	dev = device(ep);
	p = nest_parent();
	u = user_s1(gcdtab, 0, 4, 1, false);
	CHECK_EQ(iommu_domain_alloc_nested(p, &u, &n), 0);
	CHECK_EQ(iommu_attach_dev(n, dev), 0);

	/* SSID 2 reads an unmapped VA: the transaction stalls; its record (Stall = 1)
	 * is a page request with grpid = STAG. */
	seen = faults_seen();
	j = (struct dma_job){ .ep = ep, .pasid = 2, .iova = VA_MISSING };
	if (pthread_create(&t, NULL, dma_thread, &j))
		die("thread");
	CHECK(wait_fault(seen, &f));
	CHECK_EQ(f.type, IOMMU_FAULT_PAGE_REQ);
	CHECK_EQ(f.prm.flags, IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
			      IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE);
	CHECK_EQ(f.prm.pasid, 2);
	CHECK_EQ(f.prm.addr, VA_MISSING);
	CHECK_EQ(f.prm.perm, IOMMU_FAULT_PERM_READ);
	if (pgt_map(&g1, gpool, groot, VA_MISSING, DATA_IPA + 0xa000, 0x1000,
		    PGT_PROT_R | PGT_PROT_W | PGT_PROT_U, 0))
		die("guest map");
	snap(&sn);
	CHECK_EQ(iommu_page_response(dev, true, 2, f.prm.grpid, IOMMU_PAGE_RESP_SUCCESS), 0);
	CHECK_EQ(delta(&sn, CMD_RESUME), 1);
	CHECK_EQ(delta(&sn, CMD_PRI_RESP), 0);
	/* dw0 = 0x44 | Ac (retry, bit 12) | SID 0x40 << 32; dw1 = STAG. */
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0000004000001044ull);
	CHECK_EQ(w[1], f.prm.grpid);
	pthread_join(t, NULL);
	CHECK_EQ(j.rep.status, DEV_DMA_OK);
	CHECK_EQ(j.rep.stalls, 1);
	CHECK_EQ(j.val, 0xda);

	/* Answered FAILURE: RESUME with Ac = 0, Ab = 1 (abort): the DMA faults. */
	seen = faults_seen();
	j = (struct dma_job){ .ep = ep, .pasid = 2, .iova = VA_MISSING + 0x10000 };
	if (pthread_create(&t, NULL, dma_thread, &j))
		die("thread");
	CHECK(wait_fault(seen, &f));
	CHECK_EQ(iommu_page_response(dev, true, 2, f.prm.grpid, IOMMU_PAGE_RESP_FAILURE), 0);
	cmd_back(2, w);
	CHECK_EQ(w[0], 0x0000004000002044ull);
	pthread_join(t, NULL);
	CHECK_EQ(j.rep.status, DEV_DMA_FAULT);

	/* Nobody takes it: the core answers Invalid, the driver aborts the stall. */
	fl.ret = -ENOSPC;
	j = (struct dma_job){ .ep = ep, .pasid = 2, .iova = VA_MISSING + 0x20000 };
	if (pthread_create(&t, NULL, dma_thread, &j))
		die("thread");
	pthread_join(t, NULL);
	CHECK_EQ(j.rep.status, DEV_DMA_FAULT);
	fl.ret = 0;

	CHECK_EQ(iommu_detach_dev(dev), 0);
	CHECK_EQ(iommu_domain_free(n), 0);
	CHECK_EQ(iommu_domain_free(p), 0);
	device_gone(dev, ep);
	env_free();
}

int main(void)
{
	test_probe();
	test_s2();
	test_nested();
	test_nested_refusals();
	test_pri();
	test_stall();
	return check_exit();
}
