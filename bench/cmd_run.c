/*
 * cmd_run.c - "dembench run SUITE.ini": run or resume a suite.
 *
 * Every run is independent and writes its own result file atomically,
 * so a finished run is one whose file exists.  Runs execute in child
 * processes, --jobs at a time, each with single-threaded BLAS: the
 * bytes of a result file then depend only on its run, never on how
 * many ran beside it.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "manifest.h"
#include "results.h"
#include "session.h"
#include "util.h"

static void usage(FILE *fp)
{
	fputs("usage: dembench run SUITE.ini [--jobs N] [--out DIR] "
	      "[--only RUN]\n"
	      "\n"
	      "Runs every run of the suite whose result file is missing,\n"
	      "then stops; a second call resumes an interrupted sweep.\n"
	      "\n"
	      "  --jobs N    runs at once (default: the number of cores)\n"
	      "  --out DIR   results folder (default: results/SUITE)\n"
	      "  --only RUN  only the run with this id (see dembench plan)\n"
	      "  --help      show this help\n", fp);
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Without SA_RESTART, so that waitpid() returns at once on a signal. */
static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Runs one run in this process; the child's whole life. */
/* The exit code of a child whose run another process holds. */
#define EXIT_BUSY 75

static NORETURN void child_main(struct session *ss, int index)
{
	int rc;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	rc = session_execute(ss, index);
	if (rc == SESSION_BUSY)
		_exit(EXIT_BUSY);
	if (rc) {
		fprintf(stderr, "dembench: error: run %s: %s\n",
			ss->runs[index].id, err_msg());
		_exit(EXIT_FAILURE_RUN);
	}
	_exit(EXIT_OK);
}

/* A child in flight: its pid and the run it executes. */
struct slot {
	pid_t pid;
	int run;
	double start;
};

static int find_slot(struct slot *slots, int jobs, pid_t pid)
{
	for (int i = 0; i < jobs; i++)
		if (slots[i].pid == pid)
			return i;
	return -1;
}

static void stop_children(struct slot *slots, int jobs)
{
	for (int i = 0; i < jobs; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, SIGTERM);
}

/*
 * Waits for one child and reports it.  Returns 0, or -1 when the run
 * failed; stops early with -1 on a signal.
 */
static int reap_one(struct session *ss, struct slot *slots, int jobs,
		    struct progress *pg)
{
	int status;
	pid_t pid = waitpid(-1, &status, 0);
	int k;

	if (pid < 0)
		return errno == EINTR ? 0 : -1;
	k = find_slot(slots, jobs, pid);
	if (k < 0)
		return 0;
	slots[k].pid = 0;
	session_remove_temp(ss, pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_BUSY) {
		/* one line, not one per run: the end line counts them */
		if (pg->skipped++ == 0)
			fprintf(stderr, "dembench: run %s is being run by "
				"another process; skipping such runs\n",
				ss->runs[slots[k].run].id);
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		progress_done(pg, ss, slots[k].run,
			      now_seconds() - slots[k].start);
		return 0;
	}
	if (!stop_signal)
		fprintf(stderr, "dembench: error: run %s failed (%s %d)\n",
			ss->runs[slots[k].run].id,
			WIFSIGNALED(status) ? "signal" : "exit code",
			WIFSIGNALED(status) ? WTERMSIG(status) :
			WEXITSTATUS(status));
	return -1;
}

/* Runs the pending runs, jobs at a time; returns the exit code. */
static int run_pool(struct session *ss, int jobs)
{
	struct slot *slots = xcalloc((size_t)jobs, sizeof(*slots));
	struct progress pg;
	int next = 0, active = 0, failed = 0;

	progress_start(&pg, ss);
	while (next < ss->n_pending || active) {
		while (!stop_signal && !failed && active < jobs &&
		       next < ss->n_pending) {
			int k = find_slot(slots, jobs, 0);
			pid_t pid;

			fflush(NULL);
			pid = fork();
			if (pid < 0)
				die(EXIT_FAILURE_RUN, "fork failed: %s",
				    strerror(errno));
			if (pid == 0)
				child_main(ss, ss->pending[next]);
			slots[k] = (struct slot){ pid, ss->pending[next],
						  now_seconds() };
			next++;
			active++;
		}

		/* On a signal, stop the children but still reap each one,
		 * so that their temporary files are removed. */
		if (stop_signal)
			stop_children(slots, jobs);
		if (!active)
			break;
		if (reap_one(ss, slots, jobs, &pg))
			failed = 1;
		active = 0;
		for (int i = 0; i < jobs; i++)
			active += slots[i].pid > 0;
	}
	progress_end(&pg);
	free(slots);
	if (stop_signal) {
		fprintf(stderr, "dembench: interrupted; finished runs are "
			"kept, run the same command to resume\n");
		return EXIT_INTERRUPTED;
	}
	return failed ? EXIT_FAILURE_RUN : EXIT_OK;
}

/*
 * Rejects an empty --out: "" + "/runs" would put the results folder
 * at the root of the file system.
 */
static const char *parse_out(const char *text)
{
	if (!*text)
		die(EXIT_USAGE, "--out: empty path; expected a results folder");
	return text;
}

int cmd_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "out", required_argument, NULL, 'o' },
		{ "only", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int jobs = cores > 0 ? (int)cores : 1, c, rc, added = 0;
	const char *out = NULL, *only = NULL;
	struct session *ss;
	time_t start;

	while ((c = getopt_long(argc, argv, "j:o:h", options, NULL)) != -1) {
		if (c == 'j')
			jobs = (int)option_whole("jobs", optarg, 1, 1024);
		else if (c == 'o')
			out = parse_out(optarg);
		else if (c == 'r')
			only = optarg;
		else if (c == 'h')
			return usage(stdout), EXIT_OK;
		else
			return usage(stderr), EXIT_USAGE;
	}
	if (optind < argc - 1)
		fprintf(stderr, "dembench: error: run: unexpected argument "
			"'%s'\n", argv[optind + 1]);
	if (optind == argc)
		fputs("dembench: error: run: missing SUITE.ini\n", stderr);
	if (optind != argc - 1)
		return usage(stderr), EXIT_USAGE;
	/* One run of a plan reads and checks only the tasks it streams;
	 * the plan has checked the values of them all. */
	ss = session_open(argv[optind], out, !only, &rc);
	if (!ss)
		return rc;
	if (only && session_select(ss, only) < 0) {
		fprintf(stderr, "dembench: error: --only: %s\n", err_msg());
		session_close(ss);
		return EXIT_USAGE;
	}
	catch_stop_signals();
	start = time(NULL);
	rc = run_pool(ss, jobs);
	while (!only && rc == EXIT_OK && (added = session_next_phase(ss)) > 0)
		rc = run_pool(ss, jobs);
	if (added < 0) {
		fprintf(stderr, "dembench: error: %s\n", err_msg());
		rc = EXIT_FAILURE_RUN;
	}
	if (rc == EXIT_OK && manifest_write(ss, argc, argv, start,
					    time(NULL))) {
		fprintf(stderr, "dembench: error: %s\n", err_msg());
		rc = EXIT_FAILURE_RUN;
	}
	session_close(ss);
	return rc;
}
