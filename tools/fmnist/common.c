/* common.c - error and progress output of fmnist-c, and the data set. */
#include "fmnist.h"

#include <stdarg.h>
#include <stdlib.h>

void fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("fmnist-c: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

void note(const char *fmt, ...)
{
	va_list ap;

	fputs("fmnist-c: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void dataset_free(struct dataset *d)
{
	free(d->images);
	free(d->labels);
	d->images = NULL;
	d->labels = NULL;
	d->n = 0;
}
