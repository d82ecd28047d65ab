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
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct suite *s;
	FILE *fp;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/dembench-fuzz-%ld.ini",
			 (long)getpid());
	fp = fopen(path, "wb");
	if (!fp)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	s = suite_load(path);
	if (s) {
		struct run_spec *runs = NULL;
		int n = suite_expand(s, &runs);

		(void)n;
		free(runs);
		suite_free(s);
	}
	unlink(path);
	return 0;
}
