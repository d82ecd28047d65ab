/* manifest.c - the provenance record of a results folder. */
#include "manifest.h"

#include <cblas.h>
#include <csv.h>
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "util.h"
#include "version.h"

int file_crc32(const char *path, unsigned long *crc)
{
	FILE *fp = fopen(path, "rb");
	static unsigned char buf[1 << 16];
	size_t got;

	if (!fp) {
		err_set("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	*crc = crc32(0L, Z_NULL, 0);
	while ((got = fread(buf, 1, sizeof(buf), fp)) > 0)
		*crc = crc32(*crc, buf, (uInt)got);
	fclose(fp);
	return 0;
}

static void put_time(FILE *fp, const char *key, time_t t)
{
	char text[64];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(fp, "%-14s %s\n", key, text);
}

/* The first "model name" line of /proc/cpuinfo, if there is one. */
static void put_cpu(FILE *fp)
{
	FILE *info = fopen("/proc/cpuinfo", "r");
	char line[256];

	while (info && fgets(line, sizeof(line), info)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			fprintf(fp, "%-14s %s", "cpu", colon + 2);
			break;
		}
	}
	if (info)
		fclose(info);
}

static void put_machine(FILE *fp)
{
	struct utsname u;

	if (uname(&u) == 0)
		fprintf(fp, "%-14s %s %s %s %s\n", "machine", u.sysname,
			u.nodename, u.release, u.machine);
	put_cpu(fp);
	fprintf(fp, "%-14s %ld\n", "cores", sysconf(_SC_NPROCESSORS_ONLN));
}

static void put_libraries(FILE *fp)
{
	unsigned major, minor, release;

	H5get_libversion(&major, &minor, &release);
	fprintf(fp, "%-14s %u.%u.%u\n", "hdf5", major, minor, release);
	fprintf(fp, "%-14s %s\n", "openblas", openblas_get_config());
	fprintf(fp, "%-14s %d.%d.%d\n", "libcsv", CSV_MAJOR, CSV_MINOR,
		CSV_RELEASE);
	fprintf(fp, "%-14s %s\n", "zlib", zlibVersion());
}

static void put_checksum(FILE *fp, const char *key, const char *path)
{
	unsigned long crc;

	if (file_crc32(path, &crc) == 0)
		fprintf(fp, "%-14s %s crc32 %08lx\n", key, path, crc);
	else
		fprintf(fp, "%-14s %s (unreadable: %s)\n", key, path,
			err_msg());
}

static void put_command(FILE *fp, int argc, char **argv)
{
	fprintf(fp, "%-14s", "command");
	if (command_line) {
		fprintf(fp, " %s\n", command_line);
		return;
	}
	for (int i = 0; i < argc; i++)
		fprintf(fp, " %s", argv[i]);
	fputc('\n', fp);
}

static void put_seeds(FILE *fp, const struct suite *s)
{
	fprintf(fp, "%-14s", "seeds");
	for (int i = 0; i < s->n_seeds; i++)
		fprintf(fp, "%s%llu", i ? ", " : " ",
			(unsigned long long)s->seeds[i]);
	fputc('\n', fp);
}

int manifest_write(const struct session *ss, int argc, char **argv,
		   time_t start, time_t end)
{
	char *path = xasprintf("%s/manifest.txt", ss->dir);
	struct atomic_file af;
	int rc = atomic_open(&af, path);

	free(path);
	if (rc)
		return -1;
	fprintf(af.fp, "%-14s %s\n", "dembench", DEMBENCH_VERSION);
	put_checksum(af.fp, "suite", ss->suite->path);
	put_checksum(af.fp, "data", ss->suite->data);
	put_seeds(af.fp, ss->suite);
	fprintf(af.fp, "%-14s %d\n", "runs", ss->n_runs);
	put_command(af.fp, argc, argv);
	put_time(af.fp, "start", start);
	put_time(af.fp, "end", end);
	put_machine(af.fp);
	put_libraries(af.fp);
	return atomic_commit(&af);
}
