/* test_fault_chan: the fault channel's file semantics (whole records, never
 * blocking, poll readiness), its bound (overflow counted, a dropped page request
 * answered Invalid by the core) and the routing of page responses (validation,
 * PASID rules, oldest group first, unknown group -EINVAL with nothing changed).
 * The unit behind the device is a stub whose page_response records its calls. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "check.h"
#include "iommu/iommu.h"
#include "uapi/fault.h"

struct answer {
	struct iommu_device *dev;
	bool pasid_valid;
	uint32_t pasid, grpid;
	enum iommu_page_response_code code;
};
static struct answer answers[16];
static unsigned nanswers;

static int stub_response(struct iommu_device *dev, bool pasid_valid, uint32_t pasid,
			 uint32_t grpid, enum iommu_page_response_code code)
{
	if (nanswers < 16)
		answers[nanswers++] = (struct answer){ dev, pasid_valid, pasid, grpid, code };
	return 0;
}

static const struct iommu_ops stub_ops = {
	.name = "stub",
	.vendor = IOMMU_VENDOR_INTEL_VTD,
	.page_response = stub_response,
};

static void dev_init(struct iommu_device *d, struct iommu_unit *u, uint16_t rid)
{
	memset(d, 0, sizeof(*d));
	d->unit = u;
	d->rid = rid;
	pthread_mutex_init(&d->fault_lock, NULL);
}

static struct iommu_fault page_req(bool pasid, uint32_t p, uint32_t grpid, uint64_t addr)
{
	struct iommu_fault f;

	memset(&f, 0, sizeof(f));
	f.type = IOMMU_FAULT_PAGE_REQ;
	f.prm.flags = IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	if (pasid)
		f.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
			       IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;
	f.prm.pasid = p;
	f.prm.grpid = grpid;
	f.prm.perm = IOMMU_FAULT_PERM_READ;
	f.prm.addr = addr;
	return f;
}

static struct iommu_page_response resp(bool pasid, uint32_t p, uint32_t grpid, uint32_t code)
{
	struct iommu_page_response r = {
		.argsz = sizeof(r), .version = IOMMU_PAGE_RESP_VERSION_1,
		.flags = pasid ? IOMMU_PAGE_RESP_PASID_VALID : 0,
		.pasid = p, .grpid = grpid, .code = code,
	};
	return r;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int main(void)
{
	struct iommu_unit *u = iommu_unit_new(&stub_ops, NULL, NULL, NULL);
	struct iommu_device d1, d2;
	struct fault_chan *ch;
	struct fault_chan_stats st;
	struct iommu_fault recs[4];
	struct iommu_page_response r;

	CHECK(u != NULL);
	dev_init(&d1, u, 0x10);
	dev_init(&d2, u, 0x20);
	CHECK_EQ(fault_chan_new(0, &ch), -EINVAL);
	CHECK_EQ(fault_chan_new(3, &ch), 0);
	iommu_device_set_fault_handler(&d1, fault_chan_push, ch);
	iommu_device_set_fault_handler(&d2, fault_chan_push, ch);

	/* Empty: not readable, read gives 0, bad sizes -EINVAL. */
	CHECK(!readable(fault_chan_fd(ch)));
	CHECK_EQ(fault_chan_read(ch, recs, sizeof(recs)), 0);
	CHECK_EQ(fault_chan_read(ch, recs, sizeof(recs[0]) - 1), -EINVAL);
	CHECK_EQ(fault_chan_read(ch, recs, sizeof(recs[0]) + 8), -EINVAL);

	/* An unrecoverable fault and two page requests (same grpid, two devices). */
	struct iommu_fault uf;
	memset(&uf, 0, sizeof(uf));
	uf.type = IOMMU_FAULT_DMA_UNRECOV;
	uf.event.reason = IOMMU_FAULT_REASON_PTE_FETCH;
	uf.event.flags = IOMMU_FAULT_UNRECOV_ADDR_VALID;
	uf.event.addr = 0x1234000;
	CHECK_EQ(iommu_report_fault(&d1, &uf), 0);
	struct iommu_fault p1 = page_req(true, 5, 7, 0x5000), p2 = page_req(true, 5, 7, 0x6000);
	CHECK_EQ(iommu_report_fault(&d2, &p1), 0);
	CHECK_EQ(iommu_report_fault(&d1, &p2), 0);
	CHECK(readable(fault_chan_fd(ch)));

	/* Full (depth 3): the fourth is dropped and counted; a dropped page request is
	 * answered Invalid at once so that its device does not wait. */
	struct iommu_fault p3 = page_req(false, 0, 9, 0x7000);
	CHECK_EQ(iommu_report_fault(&d1, &p3), -ENOSPC);
	CHECK_EQ(nanswers, 1);
	CHECK(answers[0].dev == &d1 && answers[0].grpid == 9 && !answers[0].pasid_valid);
	CHECK_EQ(answers[0].code, IOMMU_PAGE_RESP_INVALID);
	fault_chan_get_stats(ch, &st);
	CHECK_EQ(st.queued, 3);
	CHECK_EQ(st.overflow, 1);
	CHECK_EQ(st.pending, 3);
	CHECK_EQ(st.outstanding, 2);

	/* Whole records, oldest first; a short buffer takes fewer. */
	CHECK_EQ(fault_chan_read(ch, recs, sizeof(recs[0])), (ssize_t)sizeof(recs[0]));
	CHECK_EQ(recs[0].type, IOMMU_FAULT_DMA_UNRECOV);
	CHECK_EQ(recs[0].event.addr, 0x1234000);
	CHECK(readable(fault_chan_fd(ch)));
	CHECK_EQ(fault_chan_read(ch, recs, sizeof(recs)), (ssize_t)(2 * sizeof(recs[0])));
	CHECK_EQ(recs[0].prm.addr, 0x5000);
	CHECK_EQ(recs[1].prm.addr, 0x6000);
	CHECK(!readable(fault_chan_fd(ch)));
	CHECK_EQ(fault_chan_read(ch, recs, sizeof(recs)), 0);

	/* Bad responses: nothing answered, nothing consumed. */
	r = resp(true, 5, 7, IOMMU_PAGE_RESP_SUCCESS);
	CHECK_EQ(fault_chan_write(ch, &r, sizeof(r) - 1), -EINVAL);
	CHECK_EQ(fault_chan_write(ch, &r, 0), -EINVAL);
	r.version = 2;
	CHECK_EQ(fault_chan_write(ch, &r, sizeof(r)), -EINVAL);
	r = resp(true, 5, 7, IOMMU_PAGE_RESP_SUCCESS);
	r.argsz = sizeof(r) - 4;
	CHECK_EQ(fault_chan_write(ch, &r, sizeof(r)), -EINVAL);
	r = resp(true, 5, 7, IOMMU_PAGE_RESP_SUCCESS);
	r.flags |= 2;
	CHECK_EQ(fault_chan_write(ch, &r, sizeof(r)), -EINVAL);
	r = resp(true, 5, 7, 3);
	CHECK_EQ(fault_chan_write(ch, &r, sizeof(r)), -EINVAL);
	r = resp(true, 5, 8, IOMMU_PAGE_RESP_SUCCESS);      /* unknown group */
	CHECK_EQ(fault_chan_write(ch, &r, sizeof(r)), -EINVAL);
	r = resp(true, 6, 7, IOMMU_PAGE_RESP_SUCCESS);      /* wrong PASID */
	CHECK_EQ(fault_chan_write(ch, &r, sizeof(r)), -EINVAL);
	r = resp(false, 0, 7, IOMMU_PAGE_RESP_SUCCESS);     /* PASID needed back */
	CHECK_EQ(fault_chan_write(ch, &r, sizeof(r)), -EINVAL);
	CHECK_EQ(nanswers, 1);
	fault_chan_get_stats(ch, &st);
	CHECK_EQ(st.outstanding, 2);

	/* Two responses in one write: the oldest group (d2's) first, then d1's. */
	struct iommu_page_response two[2] = { resp(true, 5, 7, IOMMU_PAGE_RESP_SUCCESS),
					      resp(true, 5, 7, IOMMU_PAGE_RESP_FAILURE) };
	CHECK_EQ(fault_chan_write(ch, two, sizeof(two)), (ssize_t)sizeof(two));
	CHECK_EQ(nanswers, 3);
	CHECK(answers[1].dev == &d2 && answers[1].pasid_valid && answers[1].pasid == 5);
	CHECK_EQ(answers[1].code, IOMMU_PAGE_RESP_SUCCESS);
	CHECK(answers[2].dev == &d1);
	CHECK_EQ(answers[2].code, IOMMU_PAGE_RESP_FAILURE);
	/* Answered: a repeat is an unknown group. */
	CHECK_EQ(fault_chan_write(ch, &two[0], sizeof(two[0])), -EINVAL);

	/* A good response then a bad one: the good one is taken, its bytes returned. */
	CHECK_EQ(iommu_report_fault(&d1, &p3), 0);
	struct iommu_page_response mix[2] = { resp(true, 99, 9, IOMMU_PAGE_RESP_SUCCESS),
					      resp(false, 0, 9, IOMMU_PAGE_RESP_SUCCESS) };
	/* A PASID on a response whose request needs none is ignored. */
	CHECK_EQ(fault_chan_write(ch, mix, sizeof(mix)), (ssize_t)sizeof(mix[0]));
	CHECK_EQ(nanswers, 4);
	CHECK(answers[3].dev == &d1 && answers[3].grpid == 9 && !answers[3].pasid_valid);

	/* A device leaving: its records and groups go; others stay. */
	CHECK_EQ(iommu_report_fault(&d1, &p1), 0);
	CHECK_EQ(iommu_report_fault(&d2, &p2), 0);
	fault_chan_forget(ch, &d1);
	fault_chan_get_stats(ch, &st);
	CHECK_EQ(st.pending, 1);
	CHECK_EQ(st.outstanding, 1);
	CHECK_EQ(fault_chan_read(ch, recs, sizeof(recs)), (ssize_t)sizeof(recs[0]));
	CHECK_EQ(recs[0].prm.addr, 0x6000);
	CHECK(!readable(fault_chan_fd(ch)));

	/* The core's group is answered once: detaching answers it Invalid. */
	iommu_answer_outstanding(&d2, IOMMU_ANSWER_PASID, 5, IOMMU_PAGE_RESP_INVALID);
	CHECK_EQ(nanswers, 5);
	CHECK_EQ(answers[4].code, IOMMU_PAGE_RESP_INVALID);
	r = resp(true, 5, 7, IOMMU_PAGE_RESP_SUCCESS);
	CHECK_EQ(fault_chan_write(ch, &r, sizeof(r)), -EINVAL);
	CHECK_EQ(nanswers, 5);

	fault_chan_free(ch);
	iommu_unit_free(u);
	return check_exit();
}
