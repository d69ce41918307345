/* cli/main.c — the vsva command: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv, FILE *out, FILE *err);
	const char *help;
} commands[] = {
	{ "walk", cli_walk, "translate an address through a table image, showing every reference" },
	{ "demo", cli_demo, "build example tables for every format pair and walk them" },
	{ "vtd-translate", cli_vtd_translate,
	  "translate a request through a scalable-mode VT-d table image" },
	{ "smmu-translate", cli_smmu_translate,
	  "translate a transaction through an SMMUv3 stream-table image" },
	{ "script", cli_script, "run a scenario against the models; expect lines make it a test" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vsva COMMAND [OPTIONS]   (vsva COMMAND --help for its options)\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1, stdout, stderr);
	fprintf(stderr, "vsva: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 1;
}
