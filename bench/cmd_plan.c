/*
 * cmd_plan.c - "dembench plan SUITE.ini": one shell command per run,
 * for engines that already schedule jobs (GNU parallel, Slurm arrays).
 *
 * Each line changes to the current directory and runs one run with
 * absolute paths to the binary, so it works from any shell on any
 * machine that shares the file system.  Runs of a later phase (the
 * dem* search and runs) depend on the results of earlier ones, so the
 * plan lists the pending runs of the first phase that has any; run it
 * again once they are done (docs/scale-out.md).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "session.h"
#include "util.h"

static void usage(FILE *fp)
{
	fputs("usage: dembench plan SUITE.ini [--out DIR] [--all]\n"
	      "\n"
	      "Prints one shell command per run that is not finished, one\n"
	      "line each in a stable order, for GNU parallel or a Slurm\n"
	      "job array.  Runs of a later phase (dem*) appear once the\n"
	      "runs before them are finished.\n"
	      "\n"
	      "  --out DIR  results folder (default: results/SUITE)\n"
	      "  --all      list finished runs too\n"
	      "  --help     show this help\n", fp);
}

/* Writes s single-quoted for the shell. */
static void put_quoted(const char *s)
{
	putchar('\'');
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	putchar('\'');
}

static void put_command(const char *cwd, const char *exe,
			const struct session *ss, int run)
{
	fputs("cd ", stdout);
	put_quoted(cwd);
	fputs(" && ", stdout);
	put_quoted(exe);
	fputs(" run ", stdout);
	put_quoted(ss->suite->path);
	fputs(" --jobs 1 --out ", stdout);
	put_quoted(ss->dir);
	fputs(" --only ", stdout);
	put_quoted(ss->runs[run].id);
	putchar('\n');
}

int cmd_plan(int argc, char **argv)
{
	static const struct option options[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char cwd[PATH_MAX], exe[PATH_MAX];
	const char *out = NULL;
	int all = 0, c, rc;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct session *ss;

	while ((c = getopt_long(argc, argv, "o:ah", options, NULL)) != -1) {
		if (c == 'o' && !*optarg) {
			fputs("dembench: error: --out: empty path; expected a "
			      "results folder\n", stderr);
			return EXIT_USAGE;
		}
		if (c == 'o')
			out = optarg;
		else if (c == 'a')
			all = 1;
		else if (c == 'h')
			return usage(stdout), EXIT_OK;
		else
			return usage(stderr), EXIT_USAGE;
	}
	if (optind < argc - 1)
		fprintf(stderr, "dembench: error: plan: unexpected argument "
			"'%s'\n", argv[optind + 1]);
	if (optind == argc)
		fputs("dembench: error: plan: missing SUITE.ini\n", stderr);
	if (optind != argc - 1)
		return usage(stderr), EXIT_USAGE;
	if (n < 0 || !getcwd(cwd, sizeof(cwd)))
		die(EXIT_FAILURE_RUN, "cannot find the current directory or "
		    "the dembench binary: %s", strerror(errno));
	exe[n] = '\0';
	ss = session_open(argv[optind], out, 1, &rc);
	if (!ss)
		return rc;
	rc = session_advance(ss);
	if (rc < 0) {
		fprintf(stderr, "dembench: error: %s\n", err_msg());
		session_close(ss);
		return EXIT_FAILURE_RUN;
	}
	for (int i = 0; i < (all ? ss->n_runs : ss->n_pending); i++)
		put_command(cwd, exe, ss, all ? i : ss->pending[i]);
	session_close(ss);
	return EXIT_OK;
}
