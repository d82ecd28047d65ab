/*
 * util.h - errors, checked allocation and atomic files for dembench.
 *
 * Library code reports a failure by returning -1 after err_set(); the
 * command-line layer prints err_msg() with the "dembench: error:" prefix
 * and exits with one of the codes below.  Nothing here prints on its own
 * except die(), which is for the command layer and the tools.
 */
#ifndef DEMBENCH_UTIL_H
#define DEMBENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes, documented in docs/cli.md. */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_RUN = 1,	/* a runtime failure: I/O, a failed run */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_INPUT = 3,		/* bad input file: feature file or suite */
	EXIT_INTERRUPTED = 130	/* stopped by SIGINT or SIGTERM */
};

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#else
#define PRINTF_LIKE(f, a)
#define NORETURN
#endif

/*
 * Returns the whole number in text, the value of --option, or exits with
 * EXIT_USAGE and a message naming the option when it is not a whole
 * number from min to max.
 */
long option_whole(const char *option, const char *text, long min, long max);

/* Records the message of the latest failure; err_msg() returns it. */
void err_set(const char *fmt, ...) PRINTF_LIKE(1, 2);
const char *err_msg(void);

/* The command line as typed, for manifests; NULL outside dembench. */
extern const char *command_line;

/* Sets the program name that starts messages ("dembench" by default). */
void set_program_name(const char *name);

/* Prints "PROGRAM: error: MSG" on stderr and exits with code. */
NORETURN void die(int code, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Prints "PROGRAM: warning: MSG" on stderr. */
void warn(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Prints "PROGRAM: MSG" on stderr: progress and notes. */
void note(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Allocation that exits with a message naming the size on failure. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

/*
 * Writes a file atomically: the content goes to PATH.tmp.PID, is
 * flushed and fsync'ed, then renamed over PATH, and the directory is
 * fsync'ed.  A reader sees the old file or the whole new one, never a
 * part.  atomic_open() returns -1 with err_set() on failure;
 * atomic_commit() returns 0, or -1 with err_set() after removing the
 * temporary file (a full disk is reported here); atomic_abort() removes
 * it without touching PATH.
 */
struct atomic_file {
	FILE *fp;
	char *path;
	char *tmp;
};
int atomic_open(struct atomic_file *af, const char *path);
int atomic_commit(struct atomic_file *af);
void atomic_abort(struct atomic_file *af);

/* Syncs the directory holding path, so that a rename into it is durable. */
void sync_parent(const char *path);

/* Creates a directory and its parents; 0 on success, -1 with err_set(). */
int mkdir_p(const char *path);

/* Returns 1 if path names an existing file or directory. */
int path_exists(const char *path);

/* Seconds since an arbitrary start, from CLOCK_MONOTONIC. */
double now_seconds(void);

/*
 * A small seeded generator (splitmix64 for seeding, xoshiro256** for
 * the stream) so that sample orders do not depend on the C library.
 */
struct rng {
	uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_uniform(struct rng *r);		/* [0, 1) */
double rng_normal(struct rng *r);		/* mean 0, variance 1 */
uint64_t rng_below(struct rng *r, uint64_t n);	/* [0, n), unbiased */
void rng_shuffle(struct rng *r, int32_t *a, size_t n);

/* FNV-1a hash of a string, for mixing names into seeds. */
uint64_t hash_string(const char *s, uint64_t h);

#endif
