/* cli/cmd_vtd.c — placeholder: vsva vtd-translate lands here. */
#include "cli/cli.h"

int cli_vtd_translate(int argc, char **argv, FILE *out, FILE *err)
{
	(void)argc;
	(void)argv;
	(void)out;
	fprintf(err, "vsva vtd-translate: not built yet\n");
	return 1;
}
