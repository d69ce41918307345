/* cli/cli.h — the vsva command's subcommands, callable in-process (tests do).
 *
 * Each takes argv as main() gets it (argv[0] = subcommand name), writes results to
 * out and diagnostics to err, and returns the exit status: 0 done, 1 bad usage or
 * input (the message says which option or which image line).
 */
#ifndef VSVA_CLI_H
#define VSVA_CLI_H

#include <stdio.h>

#include "mem/mem.h"
#include "pgtable/pgtable.h"

int cli_walk(int argc, char **argv, FILE *out, FILE *err);
int cli_demo(int argc, char **argv, FILE *out, FILE *err);
int cli_vtd_translate(int argc, char **argv, FILE *out, FILE *err);
int cli_smmu_translate(int argc, char **argv, FILE *out, FILE *err);
int cli_script(int argc, char **argv, FILE *out, FILE *err);

/* Walks addr (nested if s2) in s and prints the trace and result, as `vsva walk`
 * does; -errno only for bad arguments. res (may be NULL) receives the result. */
int cli_walk_run(FILE *out, struct mem_space *s, const struct pgt_fmt *s1, uint64_t root,
		 const struct pgt_fmt *s2, uint64_t s2_root, uint64_t addr, unsigned access,
		 bool json, struct pgt_result *res);

/*
 * Table images: text, '#' starts a comment, and each line "PA: VALUE [VALUE...]"
 * sets consecutive little-endian 64-bit words from PA (hex with 0x, PA 8-byte
 * aligned). Memory exists only in the 4 KiB pages that the image names, zero
 * where not set. image_load() returns a new space (NULL on error, with the line
 * number in err); image_save() writes a space back in the same form, nonzero
 * words only, and "PAGE: 0x0" for an all-zero page if all_pages (else such pages
 * are left out).
 */
struct mem_space *image_load(FILE *in, const char *name, char *err, size_t errlen);
int image_save(struct mem_space *s, FILE *out, bool all_pages);

#endif
