/* cmd_methods.c - "dembench methods": the registry, for humans. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "method.h"
#include "util.h"

static void print_tunable(const struct tunable *t)
{
	printf("    %-6s default %g, range %c%g, %g%c: %s\n", t->name, t->def,
	       t->min_open ? '(' : '[', t->min, t->max,
	       t->max_open ? ')' : ']', t->help);
}

int cmd_methods(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: dembench methods\n\nLists every registered "
		     "method: name, summary and tunables.");
		return EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "dembench: error: methods: unexpected "
			"argument '%s'\nusage: dembench methods\n", argv[1]);
		return EXIT_USAGE;
	}
	for (int i = 0; method_registry[i]; i++) {
		const struct method *m = method_registry[i];

		printf("%-12s %s\n", m->name, m->summary);
		for (int k = 0; k < m->n_tunables; k++)
			print_tunable(&m->tunables[k]);
	}
	return EXIT_OK;
}
