/* cli/image.c — text table images (format in cli.h). */
#include "cli/cli.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct word {
	uint64_t pa;
	uint64_t val;
	unsigned line;
};

struct words {
	struct word *w;
	size_t n, cap;
};

static int push(struct words *ws, uint64_t pa, uint64_t val, unsigned line)
{
	if (ws->n == ws->cap) {
		size_t cap = ws->cap ? ws->cap * 2 : 256;
		struct word *w = realloc(ws->w, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		ws->w = w;
		ws->cap = cap;
	}
	ws->w[ws->n++] = (struct word){ pa, val, line };
	return 0;
}

static int cmp_word(const void *a, const void *b)
{
	const struct word *x = a, *y = b;

	if (x->pa != y->pa)
		return x->pa < y->pa ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* A hex number with its 0x prefix; advances *s. */
static bool hex_token(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int digits = 0;

	if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
		return false;
	p += 2;
	for (; isxdigit((unsigned char)*p); p++, digits++) {
		if (digits == 16)
			return false;
		x = x << 4 | (uint64_t)(isdigit((unsigned char)*p) ? *p - '0'
								: tolower((unsigned char)*p) - 'a' + 10);
	}
	if (!digits)
		return false;
	*v = x;
	*s = p;
	return true;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

struct mem_space *image_load(FILE *in, const char *name, char *err, size_t errlen)
{
	struct words ws = { 0 };
	struct mem_space *s = NULL;
	char *line = NULL;
	size_t linecap = 0;
	unsigned lineno = 0;

	while (getline(&line, &linecap, in) >= 0) {
		char *hash = strchr(line, '#');
		const char *p;
		uint64_t pa, v;
		unsigned count = 0;

		lineno++;
		if (hash)
			*hash = 0;
		line[strcspn(line, "\n")] = 0;
		p = skip_space(line);
		if (!*p)
			continue;
		if (!hex_token(&p, &pa) || *p != ':') {
			snprintf(err, errlen, "%s:%u: expected 'PA: VALUE...' with PA in hex (0x...)",
				 name, lineno);
			goto fail;
		}
		if (pa & 7) {
			snprintf(err, errlen, "%s:%u: PA 0x%" PRIx64 " is not 8-byte aligned", name,
				 lineno, pa);
			goto fail;
		}
		p++;
		for (;;) {
			p = skip_space(p);
			if (!*p)
				break;
			if (!hex_token(&p, &v) || (*p && *p != ' ' && *p != '\t' && *p != '\r')) {
				snprintf(err, errlen, "%s:%u: value %u is not a 64-bit hex number (0x...)",
					 name, lineno, count + 1);
				goto fail;
			}
			if (pa + 8 * (uint64_t)count < pa) {
				snprintf(err, errlen, "%s:%u: words run past the top of memory", name,
					 lineno);
				goto fail;
			}
			if (push(&ws, pa + 8 * (uint64_t)count, v, lineno)) {
				snprintf(err, errlen, "%s:%u: out of memory", name, lineno);
				goto fail;
			}
			count++;
		}
		if (!count) {
			snprintf(err, errlen, "%s:%u: no value after 'PA:'", name, lineno);
			goto fail;
		}
	}
	if (ferror(in)) {
		snprintf(err, errlen, "%s: read error", name);
		goto fail;
	}

	qsort(ws.w, ws.n, sizeof(ws.w[0]), cmp_word);
	for (size_t i = 1; i < ws.n; i++) {
		if (ws.w[i].pa == ws.w[i - 1].pa) {
			snprintf(err, errlen, "%s:%u: PA 0x%" PRIx64 " already set on line %u", name,
				 ws.w[i].line, ws.w[i].pa, ws.w[i - 1].line);
			goto fail;
		}
	}

	s = mem_space_new();
	if (!s) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* One region per run of consecutive named pages. */
	for (size_t i = 0; i < ws.n;) {
		uint64_t first = ws.w[i].pa & ~UINT64_C(0xfff), last = first;
		size_t j = i;

		while (j < ws.n && (ws.w[j].pa & ~UINT64_C(0xfff)) - last <= 0x1000) {
			last = ws.w[j].pa & ~UINT64_C(0xfff);
			j++;
		}
		if (mem_add_anon(s, first, last - first + 0x1000, MEM_RW, NULL)) {
			snprintf(err, errlen, "%s: cannot allocate memory for pages 0x%" PRIx64
				 "-0x%" PRIx64, name, first, last);
			goto fail;
		}
		for (; i < j; i++)
			mem_store64(s, ws.w[i].pa, ws.w[i].val);
	}
	free(ws.w);
	free(line);
	return s;

fail:
	mem_space_free(s);
	free(ws.w);
	free(line);
	return NULL;
}

int image_save(struct mem_space *s, FILE *out, bool all_pages)
{
	unsigned n = mem_region_count(s);

	for (unsigned i = 0; i < n; i++) {
		struct mem_region r;

		if (mem_region_get(s, i, &r))
			return -EIO;
		for (uint64_t page = 0; page < r.size; page += 0x1000) {
			bool any = false;

			for (uint64_t off = page; off < page + 0x1000 && off < r.size; off += 8) {
				uint64_t v;
				unsigned k = 0;

				if (mem_load64(s, r.base + off, &v) || !v)
					continue;
				any = true;
				fprintf(out, "0x%" PRIx64 ":", r.base + off);
				/* Up to four consecutive nonzero words on a line. */
				while (k < 4 && off < page + 0x1000 && !mem_load64(s, r.base + off, &v) &&
				       v) {
					fprintf(out, " 0x%" PRIx64, v);
					off += 8;
					k++;
				}
				fputc('\n', out);
				off -= 8;
			}
			if (!any && all_pages)   /* the page exists even if it is all zero */
				fprintf(out, "0x%" PRIx64 ": 0x0\n", r.base + page);
		}
	}
	return ferror(out) ? -EIO : 0;
}
