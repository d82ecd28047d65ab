/* main.c - the dembench command: dispatch to a subcommand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "adapt", cmd_adapt, "one run on a feature file, outside a suite" },
	{ "grad", cmd_grad, "a method's loss and gradient on CSV logits" },
	{ "gradcheck", cmd_gradcheck, "check gradients by finite differences" },
	{ "inspect", cmd_inspect, "validate a feature file and describe it" },
	{ "methods", cmd_methods, "list the methods and their tunables" },
	{ "plan", cmd_plan, "print one shell command per pending run" },
	{ "report", cmd_report, "write the tables of a results folder" },
	{ "run", cmd_run, "run or resume a suite" },
	{ NULL, NULL, NULL }
};

static void usage(FILE *fp)
{
	fputs("usage: dembench COMMAND [ARGS]\n\n"
	      "Test-time adaptation benchmarks on precomputed features.\n\n"
	      "Commands:\n", fp);
	for (int i = 0; commands[i].name; i++)
		fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].help);
	fputs("\n'dembench COMMAND --help' describes each command; "
	      "docs/cli.md lists the exit codes.\n", fp);
}

/* Keeps the command as typed: getopt reorders argv as it parses. */
static void keep_command_line(int argc, char **argv)
{
	size_t size = 1;
	char *line;

	for (int i = 0; i < argc; i++)
		size += strlen(argv[i]) + 1;
	line = xmalloc(size);
	line[0] = '\0';
	for (int i = 0; i < argc; i++) {
		strcat(line, argv[i]);
		if (i < argc - 1)
			strcat(line, " ");
	}
	command_line = line;
}

/*
 * Runs use one BLAS thread each and get their parallelism from --jobs.
 * OpenBLAS starts its thread pool when the library loads, before main,
 * and idle pool threads spin on sched_yield, taking a core from the
 * other jobs.  So when OPENBLAS_NUM_THREADS is unset, dembench sets it
 * to 1 and starts itself again.
 */
static void single_threaded_blas(char **argv)
{
	if (getenv("OPENBLAS_NUM_THREADS"))
		return;
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	execv("/proc/self/exe", argv);
}

int main(int argc, char **argv)
{
	single_threaded_blas(argv);
	keep_command_line(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (int i = 0; commands[i].name; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "dembench: error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
