/*
 * idx.c - the IDX reader.
 *
 * An IDX file is a big-endian header followed by the raw array: two
 * zero bytes, a type byte (0x08 for unsigned bytes), a byte with the
 * number of dimensions, then one 32-bit size per dimension.  Images are
 * [n x 28 x 28] (magic 0x00000803), labels [n] (magic 0x00000801).
 * zlib's gzread() also reads a file that is not compressed.
 */
#include "idx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_TYPE_UBYTE 0x08

#define SOURCE_HINT "install the Debian package dataset-fashion-mnist, " \
	"or pass --source DIR with the four Fashion-MNIST .gz files"

static gzFile open_idx(const char *path)
{
	gzFile gz;

	if (!path_exists(path))
		die(EXIT_INPUT, "%s not found; %s", path, SOURCE_HINT);
	errno = 0;
	gz = gzopen(path, "rb");
	if (!gz)
		die(EXIT_INPUT, "cannot open %s: %s", path,
		    errno ? strerror(errno) : "out of memory in zlib");
	return gz;
}

/* Reads exactly size bytes and reports a short read as truncation. */
static void read_exact(gzFile gz, const char *path, void *buf,
		       size_t size, const char *what)
{
	int got = gzread(gz, buf, (unsigned)size);
	int zerr;
	const char *msg = gzerror(gz, &zerr);
	size_t len = strlen(path);

	/* zlib may start its message with the path, which die() prints. */
	if (!strncmp(msg, path, len) && !strncmp(msg + len, ": ", 2))
		msg += len + 2;
	if (got < 0 || zerr < 0)
		die(EXIT_INPUT, "cannot read %s: %s; the file is damaged, "
		    "reinstall it (%s)", path, msg, SOURCE_HINT);
	if ((size_t)got != size)
		die(EXIT_INPUT, "%s is truncated: expected %zu bytes of %s, "
		    "found %d; reinstall it (%s)", path, size, what, got,
		    SOURCE_HINT);
}

static uint32_t big_endian_u32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/*
 * Reads the header and checks it against the expected dimensions dims
 * [ndims].  The string kind ("image" or "label") names the file type in
 * errors.
 */
static void read_header(gzFile gz, const char *path, const char *kind,
			int ndims, const uint32_t *dims)
{
	unsigned char head[4], size[4];
	uint32_t magic, want = IDX_TYPE_UBYTE << 8 | (uint32_t)ndims;

	read_exact(gz, path, head, 4, "header");
	magic = big_endian_u32(head);
	if (magic != want)
		die(EXIT_INPUT, "%s has magic number 0x%08x, expected "
		    "0x%08x for an IDX %s file; check that --source names "
		    "the Fashion-MNIST files", path, (unsigned)magic,
		    (unsigned)want, kind);

	for (int i = 0; i < ndims; i++) {
		uint32_t found;

		read_exact(gz, path, size, 4, "header");
		found = big_endian_u32(size);
		if (found != dims[i])
			die(EXIT_INPUT, "%s has size %u in dimension %d, "
			    "expected %u; check that --source names the "
			    "Fashion-MNIST files", path, (unsigned)found, i,
			    (unsigned)dims[i]);
	}
}

/* Rejects bytes after the array, which would mean a different file. */
static void check_end(gzFile gz, const char *path)
{
	unsigned char extra;

	if (gzread(gz, &extra, 1) != 0)
		die(EXIT_INPUT, "%s has data after the array its header "
		    "declares; the file is not a valid IDX file", path);
}

static void load_images(const char *path, long n, struct dataset *d)
{
	uint32_t dims[3] = { (uint32_t)n, IMAGE_SIDE, IMAGE_SIDE };
	size_t count = (size_t)n * IMAGE_PIXELS;
	unsigned char *raw = xmalloc(count);
	gzFile gz = open_idx(path);

	read_header(gz, path, "image", 3, dims);
	read_exact(gz, path, raw, count, "pixels");
	check_end(gz, path);
	gzclose(gz);

	d->images = xmalloc(count * sizeof(float));
	for (size_t i = 0; i < count; i++)
		d->images[i] = (float)raw[i] / 255.0f;
	free(raw);
}

static void load_labels(const char *path, long n, struct dataset *d)
{
	uint32_t dims[1] = { (uint32_t)n };
	unsigned char *raw = xmalloc((size_t)n);
	gzFile gz = open_idx(path);

	read_header(gz, path, "label", 1, dims);
	read_exact(gz, path, raw, (size_t)n, "labels");
	check_end(gz, path);
	gzclose(gz);

	d->labels = xmalloc((size_t)n * sizeof(int32_t));
	for (long i = 0; i < n; i++) {
		if (raw[i] >= N_CLASSES)
			die(EXIT_INPUT, "%s: label %u of item %ld is out of "
			    "range 0..%d; the file is not a Fashion-MNIST "
			    "label file", path, raw[i], i, N_CLASSES - 1);
		d->labels[i] = raw[i];
	}
	free(raw);
}

void idx_load(const char *dir, const char *images_name,
	      const char *labels_name, long n, struct dataset *d)
{
	char *images_path = xasprintf("%s/%s", dir, images_name);
	char *labels_path = xasprintf("%s/%s", dir, labels_name);

	d->n = n;
	load_images(images_path, n, d);
	load_labels(labels_path, n, d);
	free(images_path);
	free(labels_path);
}
