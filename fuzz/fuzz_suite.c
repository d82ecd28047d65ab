/*
 * fuzz_suite.c - libFuzzer target for the suite parser: the input is
 * written to a temporary file and loaded with suite_load(), which must
 * return a suite or an error, never crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "suite.h"
#include "fuzz_input.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file(data, size, "ini");
	struct suite *s = path ? suite_load(path) : NULL;

	if (s) {
		struct run_spec *runs = NULL;

		suite_expand(s, &runs);
		free(runs);
		suite_free(s);
	}
	if (path)
		unlink(path);
	return 0;
}
