/*
 * options.h - the command line of fmnist-c: parsing, usage and the
 * checks of --out that run before the long training.
 */
#ifndef FMNIST_OPTIONS_H
#define FMNIST_OPTIONS_H

#include <stdint.h>

#include "corrupt.h"

#define DEFAULT_SOURCE "/usr/share/datasets/fashion-mnist"

struct options {
	const char *out;
	const char *source;
	uint64_t seed;
	int n_severities;
	int severities[MAX_SEVERITY];	/* ascending, no repeats */
};

/*
 * Fills opt from the command line.  --help prints the usage on stdout
 * and exits with 0.  Misuse prints the error and the usage on stderr
 * and exits with EXIT_USAGE.
 */
void parse_options(int argc, char **argv, struct options *opt);

/*
 * Creates the folder of the --out path and checks that it is writable,
 * so that a bad path fails before the training rather than after it.
 * Exits through fail() otherwise.
 */
void check_output_path(const char *path);

#endif
