/* cmd_report.c - "dembench report DIR": tables from result files. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "report.h"
#include "util.h"

int cmd_report(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "-h"))) {
		puts("usage: dembench report DIR\n\n"
		     "Writes DIR/summary.csv (one row per run and task), the "
		     "tables\n(DIR/table.md, DIR/table.tex and DIR/table-*.csv) "
		     "and the figures\nfrom the result files in DIR/runs.");
		return EXIT_OK;
	}
	if (argc == 2 && argv[1][0] == '-')
		fprintf(stderr, "dembench: error: report: unknown option "
			"'%s'\n", argv[1]);
	else if (argc == 2 && !argv[1][0])
		fputs("dembench: error: report: empty DIR; expected a "
		      "results folder\n", stderr);
	else if (argc > 2)
		fprintf(stderr, "dembench: error: report: unexpected argument "
			"'%s'\n", argv[2]);
	if (argc != 2 || argv[1][0] == '-' || !argv[1][0]) {
		fprintf(stderr, "usage: dembench report DIR\n");
		return EXIT_USAGE;
	}
	if (report_write(argv[1])) {
		fprintf(stderr, "dembench: error: %s\n", err_msg());
		return EXIT_FAILURE_RUN;
	}
	fprintf(stderr, "dembench: wrote the summary, tables and figures in "
		"%s\n", argv[1]);
	return EXIT_OK;
}
