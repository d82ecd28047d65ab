/*
 * progress.c - progress of a suite on stderr: a bar redrawn in place
 * on a terminal, a line per finished run otherwise (logs, CI, make).
 */
#include <stdio.h>
#include <unistd.h>

#include "session.h"
#include "util.h"

static void format_duration(double seconds, char *buf, size_t size)
{
	long s = (long)(seconds + 0.5);

	if (s >= 3600)
		snprintf(buf, size, "%ldh%02ldm", s / 3600, s / 60 % 60);
	else if (s >= 60)
		snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, size, "%lds", s);
}

void progress_start(struct progress *pg, const struct session *ss)
{
	pg->tty = isatty(STDERR_FILENO);
	pg->done = 0;
	pg->total = ss->n_pending;
	pg->start = now_seconds();
	pg->busy = 0;
	pg->skipped = 0;
	fprintf(stderr, "dembench: %s: %d of %d runs to run, results in "
		"%s\n", ss->suite->name, ss->n_pending, ss->n_runs, ss->dir);
}

/* The time left, from the pace so far: wall time per finished run. */
static double time_left(const struct progress *pg)
{
	double elapsed = now_seconds() - pg->start;

	return pg->done ? elapsed / pg->done * (pg->total - pg->done) : 0;
}

void progress_done(struct progress *pg, const struct session *ss, int run,
		   double seconds)
{
	char left[32];
	int width = 30, filled;

	pg->done++;
	format_duration(time_left(pg), left, sizeof(left));
	if (!pg->tty) {
		fprintf(stderr, "dembench: [%d/%d] %s (%.1f s), about %s "
			"left\n", pg->done, pg->total, ss->runs[run].id,
			seconds, left);
		return;
	}
	filled = pg->total ? width * pg->done / pg->total : width;
	fprintf(stderr, "\r[%.*s%*s] %d/%d, about %s left  ", filled,
		"##############################", width - filled, "",
		pg->done, pg->total, left);
}

void progress_end(struct progress *pg)
{
	char took[32];

	format_duration(now_seconds() - pg->start, took, sizeof(took));
	if (pg->tty && pg->total)
		fputc('\n', stderr);
	fprintf(stderr, "dembench: %d run%s finished in %s", pg->done,
		pg->done == 1 ? "" : "s", took);
	if (pg->skipped)
		fprintf(stderr, "; %d skipped, being run by another process",
			pg->skipped);
	fputc('\n', stderr);
}
