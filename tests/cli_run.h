/* tests/cli_run.h — running vsva subcommands in-process for tests: capture of
 * stdout/stderr and exit status, paths of tests/images/, and a JSON syntax check
 * (JSON output must parse, not only contain the expected fields).
 * Include after check.h and cli/cli.h; set cli_data_dir from VSVA_TEST_DATA.
 */
#ifndef VSVA_TESTS_CLI_RUN_H
#define VSVA_TESTS_CLI_RUN_H

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

static const char *cli_data_dir;

struct run {
	int status;
	char *out;
	char *err;
};

static inline void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Runs a subcommand (argv[0] = name) with a NULL-terminated argument list. */
static inline struct run run_cli_v(int (*cmd)(int, char **, FILE *, FILE *), const char *name,
			    const char *first, va_list ap)
{
	char *argv[32];
	int argc = 0;
	struct run r = { 0 };
	size_t olen, elen;
	FILE *out = open_memstream(&r.out, &olen);
	FILE *err = open_memstream(&r.err, &elen);

	argv[argc++] = (char *)name;
	for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	argv[argc] = NULL;
	r.status = cmd(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

/* The path of tests/images/NAME (a few rotating static buffers). */
static inline char *image(const char *name)
{
	static char paths[8][512];
	static unsigned next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/images/%s", cli_data_dir, name);
	return p;
}

/* ---- a small JSON syntax checker: the output must parse ------------------- */

static inline const char *json_value(const char *p);

static inline const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static inline const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (!*p)
				return NULL;
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static inline const char *json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = json_string(json_ws(p));
				if (!p)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == ',') {
				p++;
				continue;
			}
			return *p == close ? p + 1 : NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
		return p;
	}
	return NULL;
}

static inline bool json_ok(const char *s)
{
	const char *end = json_value(s);

	return end && !*json_ws(end);
}

#endif
