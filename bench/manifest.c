/* manifest.c - the provenance record of a results folder. */
#include "manifest.h"

#include <cblas.h>
#include <csv.h>
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* The identity of a file's contents as the cache line records it. */
static int file_stamp(const char *path, char *buf, size_t size)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	snprintf(buf, size, "%llu %llu %lld %lld.%09ld",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		 (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec);
	return 0;
}

int file_crc32_cached(const char *path, const char *cache,
		      unsigned long *crc)
{
	char stamp[128], line[256], want[160];
	struct atomic_file af;
	FILE *fp;
	int hit = 0;

	if (file_stamp(path, stamp, sizeof(stamp)))
		return file_crc32(path, crc);
	fp = fopen(cache, "r");
	if (fp && fgets(line, sizeof(line), fp) &&
	    sscanf(line, "%159[^\n]", want) == 1) {
		char *space = strrchr(want, ' ');

		hit = space && (size_t)(space - want) == strlen(stamp) &&
		      !strncmp(want, stamp, strlen(stamp)) &&
		      sscanf(space + 1, "%lx", crc) == 1;
	}
	if (fp)
		fclose(fp);
	if (hit)
		return 0;
	if (file_crc32(path, crc))
		return -1;

	/* the cache only saves time: failing to write it is no error */
	if (atomic_open(&af, cache) == 0) {
		fprintf(af.fp, "%s %08lx\n", stamp, *crc);
		atomic_commit(&af);
	}
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

static void put_checksum(FILE *fp, const char *key, const char *path,
			 const char *cache)
{
	unsigned long crc;
	int rc = cache ? file_crc32_cached(path, cache, &crc) :
			 file_crc32(path, &crc);

	if (rc == 0)
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
	put_checksum(af.fp, "suite", ss->suite->path, NULL);
	put_checksum(af.fp, "data", ss->suite->data, ss->crc_cache);
	put_seeds(af.fp, ss->suite);
	fprintf(af.fp, "%-14s %d\n", "runs", ss->n_runs);
	put_command(af.fp, argc, argv);
	put_time(af.fp, "start", start);
	put_time(af.fp, "end", end);
	put_machine(af.fp);
	put_libraries(af.fp);
	return atomic_commit(&af);
}
