/*
 * fuzz_input.h - the fuzz targets' shared step: dembench reads files by
 * path, so each input is written to a temporary file first.
 */
#ifndef DEMBENCH_FUZZ_INPUT_H
#define DEMBENCH_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/*
 * Writes data to /tmp/dembench-fuzz-PID.EXT and returns the path, the
 * same for every call of the process, or NULL if it cannot be written.
 */
static const char *fuzz_input_file(const uint8_t *data, size_t size,
				   const char *ext)
{
	static char path[64];
	FILE *fp;

	snprintf(path, sizeof(path), "/tmp/dembench-fuzz-%ld.%s",
		 (long)getpid(), ext);
	fp = fopen(path, "wb");
	if (!fp)
		return NULL;
	fwrite(data, 1, size, fp);
	fclose(fp);
	return path;
}

#endif
