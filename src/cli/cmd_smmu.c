/* cli/cmd_smmu.c — `vsva smmu-translate`: what an SMMUv3 stream-table image (L1
 * stream table descriptors, STEs, L1 CD descriptors, CDs, stage-1 and stage-2
 * tables) does with one transaction, with every memory reference on the way and
 * the event record.
 *
 * Owns: the command's options, the programming of a fresh SMMU and the text and
 * JSON reports. Called by main.c's dispatch and, in-process, by
 * tests/test_cli_smmu.c.
 *
 * A fresh SMMU with the default configuration (smmu_config_default: OAS 48,
 * SIDSIZE 16, SSIDSIZE 20, every feature) is programmed as a driver does it:
 * STRTAB_BASE, STRTAB_BASE_CFG, CR2 (RECINVSID, so that C_BAD_STREAMID is
 * recorded), then CR0 with SMMUEN and ATSCHK (Translated traffic is checked
 * against STE.EATS), waiting for CR0ACK. The translation bypasses the caches
 * (smmu_translate_trace) so that every structure word shows. An event is printed
 * from the record the translation hands to the event queue, with its 32-byte
 * layout (smmu_event_encode); "recorded" says whether the SMMU offered it to its
 * event queue (the queue is left disabled: the record printed is what would have
 * been written).
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hw/smmuv3/smmuv3_internal.h"
#include "pgtable/pgtable.h"

struct sstep {
	const char *what;       /* structure word name, or "page-table" */
	uint64_t pa, val;
	bool pg;
	bool cd_fetch;          /* a stage-2 step translating a CD or L1CD address */
	struct pgt_step s;
	/* s.fmt points into the translation's stack frame (the formats are decoded
	 * from the STE and CD per transaction): a copy, for printing afterwards. */
	struct pgt_fmt fmt;
};

struct scollect {
	struct sstep *steps;
	size_t n, cap;
	bool oom;
};

static void collect(void *ctx, const char *what, uint64_t pa, uint64_t val,
		    const struct pgt_step *pgs)
{
	struct scollect *c = ctx;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct sstep *p = realloc(c->steps, cap * sizeof(*p));

		if (!p) {
			c->oom = true;
			return;
		}
		c->steps = p;
		c->cap = cap;
	}
	c->steps[c->n] = (struct sstep){ .what = what, .pa = pa, .val = val, .pg = pgs != NULL,
					 .s = pgs ? *pgs : (struct pgt_step){ 0 } };
	if (pgs) {
		c->steps[c->n].fmt = *pgs->fmt;
		c->steps[c->n].s.fmt = NULL;
	}
	c->n++;
}

/*
 * The walker marks stage-2 steps made for stage-1 tables (s1_fetch) but not those
 * made for a nested CD fetch. A run of other stage-2 steps is a CD fetch when a CD
 * or L1CD word follows it, or when it ends the trace with a stage-2 fault of
 * CLASS = CD.
 */
static void mark_cd_fetches(struct scollect *c, const struct smmu_event *ev, bool have_ev)
{
	for (size_t i = 0; i < c->n;) {
		size_t j = i;
		bool cd;

		while (j < c->n && c->steps[j].pg && c->steps[j].s.stage == 2 &&
		       !c->steps[j].s.s1_fetch)
			j++;
		if (j == i) {
			i++;
			continue;
		}
		if (j < c->n)
			cd = !c->steps[j].pg && (!strncmp(c->steps[j].what, "cd[", 3) ||
						 !strcmp(c->steps[j].what, "l1-cd"));
		else
			cd = have_ev && ev->s2 && ev->class_ == EVT_CLASS_CD;
		for (; i < j; i++)
			c->steps[i].cd_fetch = cd;
	}
}

/* ---- decoding structure words for the trace ---------------------------------------- */

static const char *config_name(unsigned config)
{
	static const char *const names[8] = { "abort", "reserved", "reserved", "reserved",
					      "bypass", "stage-1", "stage-2", "nested" };

	return names[config & 7];
}

static const char *s2tg_name(unsigned tg)
{
	static const char *const names[4] = { "4K", "64K", "16K", "reserved" };

	return names[tg & 3];
}

static const char *tg0_name(unsigned tg)
{
	static const char *const names[4] = { "4K", "64K", "16K", "reserved" };

	return names[tg & 3];
}

static const char *tg1_name(unsigned tg)
{
	static const char *const names[4] = { "reserved", "16K", "4K", "64K" };

	return names[tg & 3];
}

/* Appends to buf (snprintf that keeps going where the last one stopped). */
static void __attribute__((format(printf, 4, 5))) put(char *buf, size_t len, size_t *at,
						       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at += (size_t)n;
}

static void flag(char *buf, size_t len, size_t *at, uint64_t val, uint64_t bit, const char *name)
{
	if (val & bit)
		put(buf, len, at, " %s", name);
}

/* Decoded fields of a structure word, by its name (docs/facts/smmuv3-structures.md
 * §2.1, §2.2, §3.1, §3.2). */
static void describe(const char *what, uint64_t val, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	if (!strcmp(what, "l1-std")) {
		put(buf, len, &at, "Span %u L2Ptr 0x%" PRIx64,
		    (unsigned)FIELD_GET(STE_L1_SPAN, val), val & STE_L1_L2PTR);
	} else if (!strcmp(what, "ste[0]")) {
		unsigned config = (unsigned)FIELD_GET(STE0_CONFIG, val);

		put(buf, len, &at, "%s Config %u (%s) S1Fmt %u S1CDMax %u S1ContextPtr 0x%" PRIx64,
		    (val & STE0_V) ? "V" : "-", config, config_name(config),
		    (unsigned)FIELD_GET(STE0_S1FMT, val), (unsigned)FIELD_GET(STE0_S1CDMAX, val),
		    val & STE0_S1CTXPTR);
	} else if (!strcmp(what, "ste[1]")) {
		put(buf, len, &at, "S1DSS %u EATS %u STRW %u", (unsigned)FIELD_GET(STE1_S1DSS, val),
		    (unsigned)FIELD_GET(STE1_EATS, val), (unsigned)FIELD_GET(STE1_STRW, val));
		flag(buf, len, &at, val, STE1_S1STALLD, "S1STALLD");
		flag(buf, len, &at, val, STE1_PPAR, "PPAR");
		flag(buf, len, &at, val, STE1_MEV, "MEV");
		flag(buf, len, &at, val, STE1_S2FWB, "S2FWB");
		if (FIELD_GET(STE1_PRIVCFG, val) || FIELD_GET(STE1_INSTCFG, val))
			put(buf, len, &at, " PRIVCFG %u INSTCFG %u",
			    (unsigned)FIELD_GET(STE1_PRIVCFG, val),
			    (unsigned)FIELD_GET(STE1_INSTCFG, val));
	} else if (!strcmp(what, "ste[2]")) {
		unsigned tg = (unsigned)FIELD_GET(STE2_S2TG, val);

		put(buf, len, &at, "S2VMID %u S2T0SZ %u S2SL0 %u S2TG %u (%s) S2PS %u",
		    (unsigned)FIELD_GET(STE2_S2VMID, val), (unsigned)FIELD_GET(STE2_S2T0SZ, val),
		    (unsigned)FIELD_GET(STE2_S2SL0, val), tg, s2tg_name(tg),
		    (unsigned)FIELD_GET(STE2_S2PS, val));
		flag(buf, len, &at, val, STE2_S2AA64, "S2AA64");
		flag(buf, len, &at, val, STE2_S2ENDI, "S2ENDI");
		flag(buf, len, &at, val, STE2_S2AFFD, "S2AFFD");
		flag(buf, len, &at, val, STE2_S2PTW, "S2PTW");
		flag(buf, len, &at, val, STE2_S2HD, "S2HD");
		flag(buf, len, &at, val, STE2_S2HA, "S2HA");
		flag(buf, len, &at, val, STE2_S2S, "S2S");
		flag(buf, len, &at, val, STE2_S2R, "S2R");
	} else if (!strcmp(what, "ste[3]")) {
		put(buf, len, &at, "S2TTB 0x%" PRIx64, val & STE3_S2TTB);
	} else if (!strcmp(what, "l1-cd")) {
		put(buf, len, &at, "%s L2Ptr 0x%" PRIx64, (val & CD_L1_V) ? "V" : "-",
		    val & CD_L1_L2PTR);
	} else if (!strcmp(what, "cd[0]")) {
		unsigned tg0 = (unsigned)FIELD_GET(CD0_TG0, val);
		unsigned tg1 = (unsigned)FIELD_GET(CD0_TG1, val);

		put(buf, len, &at, "%s T0SZ %u TG0 %s", (val & CD0_V) ? "V" : "-",
		    (unsigned)FIELD_GET(CD0_T0SZ, val), tg0_name(tg0));
		if (!(val & CD0_EPD1))
			put(buf, len, &at, " T1SZ %u TG1 %s", (unsigned)FIELD_GET(CD0_T1SZ, val),
			    tg1_name(tg1));
		flag(buf, len, &at, val, CD0_EPD0, "EPD0");
		flag(buf, len, &at, val, CD0_EPD1, "EPD1");
		flag(buf, len, &at, val, CD0_ENDI, "ENDI");
		put(buf, len, &at, " IPS %u", (unsigned)FIELD_GET(CD0_IPS, val));
		flag(buf, len, &at, val, CD0_AFFD, "AFFD");
		flag(buf, len, &at, val, CD0_WXN, "WXN");
		flag(buf, len, &at, val, CD0_TBI0, "TBI0");
		flag(buf, len, &at, val, CD0_TBI1, "TBI1");
		flag(buf, len, &at, val, CD0_PAN, "PAN");
		flag(buf, len, &at, val, CD0_AA64, "AA64");
		flag(buf, len, &at, val, CD0_HD, "HD");
		flag(buf, len, &at, val, CD0_HA, "HA");
		flag(buf, len, &at, val, CD0_S, "S");
		flag(buf, len, &at, val, CD0_R, "R");
		flag(buf, len, &at, val, CD0_A, "A");
		flag(buf, len, &at, val, CD0_ASET, "ASET");
		put(buf, len, &at, " ASID %u", (unsigned)FIELD_GET(CD0_ASID, val));
	} else if (!strcmp(what, "cd[1]")) {
		put(buf, len, &at, "TTB0 0x%" PRIx64, val & CD1_TTB0);
		flag(buf, len, &at, val, CD1_HAD0, "HAD0");
	} else if (!strcmp(what, "cd[2]")) {
		put(buf, len, &at, "TTB1 0x%" PRIx64, val & CD2_TTB1);
		flag(buf, len, &at, val, CD2_HAD1, "HAD1");
	} else if (!strcmp(what, "cd[3]")) {
		put(buf, len, &at, "MAIR 0x%" PRIx64, val);
	}
}

/* ---- events ------------------------------------------------------------------------ */

/* Which fields of struct smmu_event an event type carries (docs/facts §5.1, §5.2;
 * F_STREAM_DISABLED has the StreamID only, as the spec's 7.3.7 diagram shows). */
enum {
	EF_SUB = 1u << 0,       /* SSV, SubstreamID */
	EF_SSID = 1u << 1,      /* SubstreamID without SSV (C_BAD_SUBSTREAMID) */
	EF_ATTR = 1u << 2,      /* PnU, InD, RnW */
	EF_RNW = 1u << 3,       /* RnW alone */
	EF_STAGE = 1u << 4,     /* S2, CLASS */
	EF_STALL = 1u << 5,     /* Stall, STAG */
	EF_TTRNW = 1u << 6,     /* TTRnW, with CLASS = TT (F_PERMISSION) */
	EF_INPUT = 1u << 7,     /* InputAddr */
	EF_IPA = 1u << 8,       /* IPA, with S2 = 1 */
	EF_FETCH = 1u << 9,     /* FetchAddr */
	EF_REASON = 1u << 10,   /* IMPLEMENTATION DEFINED Reason */
};

static unsigned event_fields(uint8_t id)
{
	switch (id) {
	case EVT_F_UUT:
		return EF_SUB | EF_ATTR | EF_INPUT | EF_REASON;
	case EVT_C_BAD_STREAMID:
	case EVT_C_BAD_STE:
	case EVT_C_BAD_CD:
		return EF_SUB;
	case EVT_F_STE_FETCH:
	case EVT_F_CD_FETCH:
	case EVT_F_VMS_FETCH:
		return EF_SUB | EF_REASON | EF_FETCH;
	case EVT_F_BAD_ATS_TREQ:
		return EF_SUB | EF_ATTR | EF_INPUT;
	case EVT_F_STREAM_DISABLED:
		return 0;
	case EVT_F_TRANSL_FORBIDDEN:
		return EF_RNW | EF_INPUT;
	case EVT_C_BAD_SUBSTREAMID:
		return EF_SSID;
	case EVT_F_WALK_EABT:
		return EF_SUB | EF_ATTR | EF_STAGE | EF_INPUT | EF_FETCH | EF_REASON;
	case EVT_F_TRANSLATION:
	case EVT_F_ADDR_SIZE:
	case EVT_F_ACCESS:
		return EF_SUB | EF_ATTR | EF_STAGE | EF_STALL | EF_INPUT | EF_IPA;
	case EVT_F_PERMISSION:
		return EF_SUB | EF_ATTR | EF_STAGE | EF_STALL | EF_INPUT | EF_IPA | EF_TTRNW;
	case EVT_F_TLB_CONFLICT:
		return EF_SUB | EF_ATTR | EF_STAGE | EF_INPUT | EF_IPA | EF_REASON;
	case EVT_F_CFG_CONFLICT:
		return EF_SUB | EF_REASON;
	case EVT_E_PAGE_REQUEST:
		return EF_SUB | EF_INPUT;
	}
	return EF_SUB;
}

static const char *class_name(uint8_t c)
{
	static const char *const names[4] = { "CD", "TT", "IN", "reserved" };

	return names[c & 3];
}

/* One field of an event: " name 0x1f" in text, ",\"name\":31" in JSON. */
static void field_num(FILE *out, bool json, const char *name, uint64_t v)
{
	fprintf(out, json ? ",\"%s\":%" PRIu64 : " %s 0x%" PRIx64, name, v);
}

static void field_bool(FILE *out, bool json, const char *name, bool v)
{
	fprintf(out, json ? ",\"%s\":%s" : " %s %s", name,
		json ? (v ? "true" : "false") : (v ? "1" : "0"));
}

static void field_str(FILE *out, bool json, const char *name, const char *v)
{
	fprintf(out, json ? ",\"%s\":\"%s\"" : " %s %s", name, v);
}

static void field_addr(FILE *out, bool json, const char *name, uint64_t v)
{
	fprintf(out, json ? ",\"%s\":\"0x%" PRIx64 "\"" : " %s 0x%" PRIx64, name, v);
}

/* The event's fields as text ("sid 0x3 ssv 1 ...") or as JSON members. */
static void print_event_fields(FILE *out, const struct smmu_event *e, bool json)
{
	unsigned f = event_fields(e->id);

	if (json)
		fprintf(out, ",\"sid\":%" PRIu32, e->sid);
	else
		fprintf(out, "sid 0x%" PRIx32, e->sid);
	if (f & EF_SUB) {
		field_bool(out, json, "ssv", e->ssv);
		field_num(out, json, "ssid", e->ssid);
	}
	if (f & EF_SSID)
		field_num(out, json, "ssid", e->ssid);
	if (f & EF_STALL) {
		field_bool(out, json, "stall", e->stall);
		field_num(out, json, "stag", e->stag);
	}
	if (f & EF_ATTR) {
		field_bool(out, json, "pnu", e->pnu);
		field_bool(out, json, "ind", e->ind);
	}
	if (f & (EF_ATTR | EF_RNW))
		field_bool(out, json, "rnw", e->rnw);
	if (f & EF_STAGE) {
		field_bool(out, json, "s2", e->s2);
		field_str(out, json, "class", class_name(e->class_));
	}
	/* TTRnW is UNKNOWN unless CLASS = TT (spec 7.3.16); IPA unless S2 = 1. */
	if ((f & EF_TTRNW) && e->class_ == EVT_CLASS_TT)
		field_bool(out, json, "ttrnw", e->ttrnw);
	if (f & EF_REASON)
		field_num(out, json, "reason", e->reason);
	if (f & EF_INPUT)
		field_addr(out, json, "input_addr", e->input_addr);
	if ((f & EF_IPA) && e->s2)
		field_addr(out, json, "ipa", e->ipa);
	if (f & EF_FETCH)
		field_addr(out, json, "fetch_addr", e->fetch_addr);
}

/* ---- the report -------------------------------------------------------------------- */

struct outcome {
	struct dev_xlate x;
	struct smmu_event ev;
	bool have_ev;
	bool recorded;          /* the SMMU offered ev to its event queue */
};

static const char *status_name(const struct outcome *o)
{
	switch (o->x.status) {
	case DEV_XLATE_OK:
		return "ok";
	case DEV_XLATE_FAULT:
		return o->have_ev ? "fault" : "abort";
	case DEV_XLATE_NO_ACCESS:
		return "no-access";
	case DEV_XLATE_UR:
		return "unsupported-request";
	case DEV_XLATE_STALLED:
		return "stalled";
	case DEV_XLATE_RAZ_WI:
		return "raz-wi";
	default:
		return "unknown";
	}
}

static void perm_string(const struct dev_xlate *x, char out[4])
{
	out[0] = x->r ? 'r' : '-';
	out[1] = x->w ? 'w' : '-';
	out[2] = x->x ? 'x' : '-';
	out[3] = 0;
}

static void counts(const struct scollect *c, unsigned *refs, unsigned *updates)
{
	*refs = *updates = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->steps[i].pg && c->steps[i].s.write)
			(*updates)++;
		else
			(*refs)++;
	}
}

static const char *step_note(const struct sstep *st)
{
	if (st->s.s1_fetch)
		return "  (stage-1 table)";
	if (st->cd_fetch)
		return "  (CD fetch)";
	return "";
}

static void print_text(FILE *out, const struct scollect *c, const struct outcome *o)
{
	char bits[200], perm[4];
	unsigned refs, updates;
	uint64_t rec[4];

	for (size_t i = 0; i < c->n; i++) {
		const struct sstep *st = &c->steps[i];
		const struct pgt_step *s = &st->s;

		if (!st->pg) {
			describe(st->what, st->val, bits, sizeof(bits));
			fprintf(out, "%3zu read  %-14s 0x%016" PRIx64 " = 0x%016" PRIx64 "%s%s\n",
				i + 1, st->what, st->pa, st->val, bits[0] ? "  " : "", bits);
			continue;
		}
		fprintf(out, "%3zu %-5s s%u %-11s", i + 1, s->write ? "write" : "read", s->stage,
			pgt_level_name(&st->fmt, s->height));
		if (s->ea != s->pa)
			fprintf(out, " @0x%" PRIx64 " ->", s->ea);
		if (s->write)
			fprintf(out, " 0x%016" PRIx64 " : 0x%016" PRIx64 " -> 0x%016" PRIx64 "  %s",
				s->pa, s->old, s->value, pgt_describe(&st->fmt, s->height, s->value,
								      bits, sizeof(bits)));
		else
			fprintf(out, " 0x%016" PRIx64 " = 0x%016" PRIx64 "  %s", s->pa, s->value,
				pgt_describe(&st->fmt, s->height, s->value, bits, sizeof(bits)));
		fprintf(out, "%s\n", step_note(st));
	}
	counts(c, &refs, &updates);
	fprintf(out, "result: %s", status_name(o));
	if (o->x.status == DEV_XLATE_OK) {
		perm_string(&o->x, perm);
		fprintf(out, " output 0x%" PRIx64 " page_size 0x%" PRIx64 " page_base 0x%" PRIx64
			" perm %s%s", o->x.pa, o->x.size, o->x.page_base, perm,
			o->x.priv ? " priv" : "");
	}
	if (o->have_ev)
		fprintf(out, " event 0x%02x (%s) %s", o->ev.id, smmu_event_name(o->ev.id),
			o->recorded ? "recorded" : "not recorded");
	else if (o->x.status != DEV_XLATE_OK)
		fprintf(out, " (no event)");
	fprintf(out, " refs %u updates %u\n", refs, updates);
	if (!o->have_ev)
		return;
	fprintf(out, "record: ");
	print_event_fields(out, &o->ev, false);
	smmu_event_encode(&o->ev, rec);
	fprintf(out, "\nrecord words: 0x%016" PRIx64 " 0x%016" PRIx64 " 0x%016" PRIx64
		" 0x%016" PRIx64 "\n", rec[0], rec[1], rec[2], rec[3]);
}

static void print_json(FILE *out, const struct scollect *c, const struct outcome *o)
{
	char bits[200], perm[4];
	unsigned refs, updates;
	uint64_t rec[4];

	counts(c, &refs, &updates);
	fprintf(out, "{\"result\":\"%s\"", status_name(o));
	if (o->x.status == DEV_XLATE_OK) {
		perm_string(&o->x, perm);
		fprintf(out, ",\"output\":\"0x%" PRIx64 "\",\"page_size\":%" PRIu64
			",\"page_base\":\"0x%" PRIx64 "\",\"perm\":\"%s\",\"priv\":%s", o->x.pa,
			o->x.size, o->x.page_base, perm, o->x.priv ? "true" : "false");
	}
	if (o->have_ev) {
		smmu_event_encode(&o->ev, rec);
		fprintf(out, ",\"event\":\"%s\",\"id\":%u,\"recorded\":%s",
			smmu_event_name(o->ev.id), o->ev.id, o->recorded ? "true" : "false");
		print_event_fields(out, &o->ev, true);
		fprintf(out, ",\"record\":[\"0x%" PRIx64 "\",\"0x%" PRIx64 "\",\"0x%" PRIx64 "\","
			"\"0x%" PRIx64 "\"]", rec[0], rec[1], rec[2], rec[3]);
	}
	fprintf(out, ",\"refs\":%u,\"updates\":%u,\"steps\":[", refs, updates);
	for (size_t i = 0; i < c->n; i++) {
		const struct sstep *st = &c->steps[i];
		const struct pgt_step *s = &st->s;

		if (!st->pg) {
			describe(st->what, st->val, bits, sizeof(bits));
			fprintf(out, "%s{\"op\":\"read\",\"name\":\"%s\",\"pa\":\"0x%" PRIx64 "\","
				"\"value\":\"0x%" PRIx64 "\",\"bits\":\"%s\"}", i ? "," : "",
				st->what, st->pa, st->val, bits);
			continue;
		}
		fprintf(out, "%s{\"op\":\"%s\",\"stage\":%u,\"level\":%d,\"name\":\"%s\","
			"\"ia\":\"0x%" PRIx64 "\",\"ea\":\"0x%" PRIx64 "\","
			"\"pa\":\"0x%" PRIx64 "\"",
			i ? "," : "", s->write ? "write" : "read", s->stage, s->level,
			pgt_level_name(&st->fmt, s->height), s->ia, s->ea, s->pa);
		if (s->write)
			fprintf(out, ",\"old\":\"0x%" PRIx64 "\"", s->old);
		fprintf(out, ",\"value\":\"0x%" PRIx64 "\",\"s1_fetch\":%s,\"cd_fetch\":%s,"
			"\"bits\":\"%s\"}", s->value, s->s1_fetch ? "true" : "false",
			st->cd_fetch ? "true" : "false",
			pgt_describe(&st->fmt, s->height, s->value, bits, sizeof(bits)));
	}
	fprintf(out, "]}\n");
}

/* ---- the SMMU ---------------------------------------------------------------------- */

/*
 * Points the SMMU at the stream table and enables it as a driver does (Linux's
 * arm_smmu_device_reset order): STRTAB_BASE and STRTAB_BASE_CFG while SMMUEN is 0,
 * CR2 with RECINVSID, then CR0 with SMMUEN and ATSCHK, polling CR0ACK. -EIO if a
 * register does not take the value (FMT 2-level without ST_LEVEL) or CR0ACK does
 * not follow.
 */
static int program_smmu(struct smmu *s, uint64_t strtab, uint32_t cfg)
{
	uint32_t cr0 = (uint32_t)(CR0_SMMUEN | CR0_ATSCHK);

	smmu_write(s, SMMU_STRTAB_BASE, 8, strtab & STRTAB_BASE_ADDR);
	smmu_write(s, SMMU_STRTAB_BASE_CFG, 4, cfg);
	if ((uint32_t)smmu_read(s, SMMU_STRTAB_BASE_CFG, 4) != cfg)
		return -EIO;
	smmu_write(s, SMMU_CR2, 4, CR2_RECINVSID);
	smmu_write(s, SMMU_CR0, 4, cr0);
	/* Poll as a driver does (this model completes the update within the write). */
	for (unsigned tries = 0; tries < 1000; tries++)
		if (((uint32_t)smmu_read(s, SMMU_CR0ACK, 4) & cr0) == cr0)
			return 0;
	return -EIO;
}

/* ---- options ----------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vsva smmu-translate --image FILE --strtab PA --strtab-cfg VAL --sid N\n"
		"                           [--ssid N] --addr A [--access r|w|x] [--priv]\n"
		"                           [--at untranslated|request|translated] [--json]\n"
		"Translates one transaction through an SMMUv3 stream-table image (same image\n"
		"format as vsva walk) on an SMMU with the default capabilities (stages 1 and 2,\n"
		"OAS 48, 16-bit StreamIDs, 20-bit SubstreamIDs, 2-level stream and CD tables,\n"
		"all granules, HTTU, ATS, PRI). --strtab-cfg is STRTAB_BASE_CFG (FMT 17:16,\n"
		"SPLIT 10:6, LOG2SIZE 5:0); --strtab is aligned to the (level-1) table's size.\n"
		"--at request is an ATS Translation Request, translated an ATS-translated access.\n"
		"--priv and --access x need --ssid (they travel in the PASID prefix).\n"
		"Exit 0 for a completed translation (or fault), 1 for bad options or image.\n");
}

/* A bad option or image: the message on err, exit status 1. */
static int __attribute__((format(printf, 2, 3))) bad(FILE *err, const char *fmt, ...)
{
	va_list ap;

	fputs("vsva smmu-translate: ", err);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
	return 1;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !*end && !errno;
}

/* STRTAB_BASE_CFG fields that exist (docs/facts §1.11; the rest is RES0). */
#define STRTAB_CFG_DEFINED (STRTAB_CFG_FMT | STRTAB_CFG_SPLIT | STRTAB_CFG_LOG2SIZE)

/*
 * The alignment the stream table base needs (docs/facts §1.11: the SMMU takes the
 * low bits as zero, so a base that is not aligned would not be the table the
 * user meant): linear, the table's size 2^(LOG2SIZE + 6); two-level, the L1
 * table's, MAX(64, 2^(LOG2SIZE - SPLIT + 3)). The literal LOG2SIZE counts.
 */
static uint64_t strtab_align(uint32_t cfg)
{
	unsigned log2size = (unsigned)FIELD_GET(STRTAB_CFG_LOG2SIZE, cfg);
	unsigned split = (unsigned)FIELD_GET(STRTAB_CFG_SPLIT, cfg);
	unsigned shift;

	if (FIELD_GET(STRTAB_CFG_FMT, cfg) == STRTAB_FMT_2LVL)
		shift = log2size > split + 3 ? log2size - split + 3 : 6;
	else
		shift = log2size + 6;
	return shift >= 64 ? 0 : BIT(shift);
}

int cli_smmu_translate(int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option opts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "strtab", required_argument, NULL, 'b' },
		{ "strtab-cfg", required_argument, NULL, 'g' },
		{ "sid", required_argument, NULL, 's' },
		{ "ssid", required_argument, NULL, 'p' },
		{ "addr", required_argument, NULL, 'a' },
		{ "access", required_argument, NULL, 'c' },
		{ "priv", no_argument, NULL, 'P' },
		{ "at", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const at_names[] = { "untranslated", "request", "translated" };
	const char *image = NULL;
	bool have_base = false, have_cfg = false, have_sid = false, have_addr = false;
	bool json = false;
	struct dev_txn t = { .at = DEV_AT_UNTRANSLATED };
	struct scollect c = { 0 };
	struct smmu_stats before, after;
	struct outcome o = { 0 };
	struct smmu_config cfg;
	uint64_t strtab = 0, n, align;
	uint32_t stcfg = 0;
	struct mem_space *ms;
	struct smmu *s;
	char msg[256];
	FILE *in;
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': image = optarg; break;
		case 'j': json = true; break;
		case 'P': t.priv = true; break;
		case 'b':
			if (!parse_u64(optarg, &strtab))
				return bad(err, "--strtab '%s' is not a number", optarg);
			have_base = true;
			break;
		case 'g':
			if (!parse_u64(optarg, &n) || n > UINT32_MAX)
				return bad(err, "--strtab-cfg '%s' is not a 32-bit number", optarg);
			stcfg = (uint32_t)n;
			have_cfg = true;
			break;
		case 's':
			/* The endpoint's requester ID is its StreamID: SIDSIZE 16. */
			if (!parse_u64(optarg, &n) || n > UINT16_MAX)
				return bad(err, "--sid '%s' is not a 16-bit StreamID (SIDSIZE 16)",
					   optarg);
			t.rid = (uint16_t)n;
			have_sid = true;
			break;
		case 'p':
			if (!parse_u64(optarg, &n) || n >= BIT(20))
				return bad(err, "--ssid '%s' is not a 20-bit number", optarg);
			t.pasid_valid = true;
			t.pasid = (uint32_t)n;
			break;
		case 'a':
			if (!parse_u64(optarg, &t.addr))
				return bad(err, "--addr '%s' is not a number", optarg);
			have_addr = true;
			break;
		case 'c':
			if (!strcmp(optarg, "r")) {
				t.write = t.exec = false;
			} else if (!strcmp(optarg, "w")) {
				t.write = true;
				t.exec = false;
			} else if (!strcmp(optarg, "x")) {
				t.exec = true;
				t.write = false;
			} else {
				return bad(err, "--access must be r, w or x, not '%s'", optarg);
			}
			break;
		case 't':
			if (!strcmp(optarg, "untranslated"))
				t.at = DEV_AT_UNTRANSLATED;
			else if (!strcmp(optarg, "request"))
				t.at = DEV_AT_TRANS_REQ;
			else if (!strcmp(optarg, "translated"))
				t.at = DEV_AT_TRANSLATED;
			else
				return bad(err, "--at must be untranslated, request or translated, "
					   "not '%s'", optarg);
			break;
		case 'h':
			usage(out);
			return 0;
		default:
			fprintf(err, "vsva smmu-translate: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			usage(err);
			return 1;
		}
	}
	if (optind < argc)
		return bad(err, "unexpected argument '%s'", argv[optind]);
	if (!image || !have_base || !have_cfg || !have_sid || !have_addr) {
		bad(err, "--image, --strtab, --strtab-cfg, --sid and --addr are required");
		usage(err);
		return 1;
	}
	if ((t.priv || t.exec) && !t.pasid_valid)
		return bad(err, "--priv and --access x need --ssid (a transaction without a "
			   "SubstreamID carries neither)");
	if (stcfg & ~(uint32_t)STRTAB_CFG_DEFINED)
		return bad(err, "--strtab-cfg 0x%" PRIx32 " sets RES0 bits (only FMT 17:16, SPLIT "
			   "10:6 and LOG2SIZE 5:0 exist)", stcfg);
	if (FIELD_GET(STRTAB_CFG_FMT, stcfg) > STRTAB_FMT_2LVL)
		return bad(err, "--strtab-cfg 0x%" PRIx32 ": FMT %u is reserved (0 linear, "
			   "1 2-level)", stcfg, (unsigned)FIELD_GET(STRTAB_CFG_FMT, stcfg));
	if (FIELD_GET(STRTAB_CFG_FMT, stcfg) == STRTAB_FMT_2LVL) {
		unsigned split = (unsigned)FIELD_GET(STRTAB_CFG_SPLIT, stcfg);

		if (split != 6 && split != 8 && split != 10)
			return bad(err, "--strtab-cfg 0x%" PRIx32 ": SPLIT %u is reserved (6, 8 "
				   "or 10)", stcfg, split);
	}
	if (strtab & ~GENMASK(47, 0))
		return bad(err, "--strtab 0x%" PRIx64 " is beyond the SMMU's 48-bit physical "
			   "addresses", strtab);
	align = strtab_align(stcfg);
	if (!align ? strtab != 0 : (strtab & (align - 1)) != 0)
		return bad(err, "--strtab 0x%" PRIx64 " is not aligned to the %s table's size "
			   "(0x%" PRIx64 " bytes for STRTAB_BASE_CFG 0x%" PRIx32 ")", strtab,
			   FIELD_GET(STRTAB_CFG_FMT, stcfg) ? "level-1 stream" : "stream", align,
			   stcfg);
	in = fopen(image, "r");
	if (!in)
		return bad(err, "cannot open image '%s': %s", image, strerror(errno));
	ms = image_load(in, image, msg, sizeof(msg));
	fclose(in);
	if (!ms)
		return bad(err, "%s", msg);
	smmu_config_default(&cfg);
	s = smmu_new(&cfg, ms);
	if (!s) {
		fprintf(err, "vsva smmu-translate: cannot create the SMMU: %s\n", strerror(errno));
		mem_space_free(ms);
		return 1;
	}
	if (program_smmu(s, strtab, stcfg)) {
		fprintf(err, "vsva smmu-translate: the SMMU refused STRTAB_BASE_CFG or SMMUEN\n");
		smmu_free(s);
		mem_space_free(ms);
		return 1;
	}
	/* Whether the event was offered to the queue: the SMMU counts every record it
	 * writes or loses (the queue is off: lost), and only those. */
	smmu_get_stats(s, &before);
	smmu_translate_trace(s, &t, &o.x, collect, &c, &o.ev, &o.have_ev);
	smmu_get_stats(s, &after);
	o.recorded = after.events_written + after.events_lost >
		     before.events_written + before.events_lost;
	mark_cd_fetches(&c, &o.ev, o.have_ev);
	if (c.oom) {
		fprintf(err, "vsva smmu-translate: out of memory\n");
	} else if (json) {
		print_json(out, &c, &o);
	} else {
		fprintf(out, "smmu-translate sid 0x%x", t.rid);
		if (t.pasid_valid)
			fprintf(out, " ssid 0x%x", t.pasid);
		fprintf(out, " addr 0x%" PRIx64 " %s%s", t.addr,
			t.write ? "write" : t.exec ? "exec" : "read", t.priv ? " priv" : "");
		if (t.at != DEV_AT_UNTRANSLATED)
			fprintf(out, " at %s", at_names[t.at]);
		fputc('\n', out);
		print_text(out, &c, &o);
	}
	free(c.steps);
	smmu_free(s);
	mem_space_free(ms);
	return c.oom ? 1 : 0;
}
