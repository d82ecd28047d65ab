/*
 * manifest.h - what produced a results folder: dembench's version, the
 * suite and data checksums, library versions, the machine, the command
 * and the times, in DIR/manifest.txt.
 */
#ifndef DEMBENCH_MANIFEST_H
#define DEMBENCH_MANIFEST_H

#include <time.h>

#include "session.h"

/*
 * Writes ss->dir/manifest.txt atomically.  argv is the command as run;
 * start and end are wall-clock times.  Returns 0, or -1 with err_set().
 */
int manifest_write(const struct session *ss, int argc, char **argv,
		   time_t start, time_t end);

/* CRC-32 of a whole file; 0, or -1 with err_set(). */
int file_crc32(const char *path, unsigned long *crc);

/*
 * The same, kept in the file cache beside the file's device, inode,
 * size and modification time, and read from there while these have not
 * changed: a 6 GB feature file takes seconds to read, and every run
 * of a plan opens the suite.
 */
int file_crc32_cached(const char *path, const char *cache,
		      unsigned long *crc);

#endif
