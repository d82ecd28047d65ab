/* session.c - prepare a results folder and execute the runs of a suite. */
#include "session.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cblas.h>

#include "manifest.h"
#include "report.h"
#include "results.h"
#include "util.h"



/*
 * The settings that change results but are not part of a run's id.
 * Runs made under other settings must not be mixed with these.
 */
static char *settings_text(const struct session *ss, unsigned long crc)
{
	const struct suite *s = ss->suite;
	const struct optim_config *o = &s->optim;
	size_t size = 4096, used;
	char *text = xmalloc(size);

	used = (size_t)snprintf(text, size,
		"data = %s\ndata_crc32 = %08lx\nbatch_size = %d\n"
		"optimizer = %s\nmomentum = %g\nnesterov = %d\n"
		"weight_decay = %g\nparams = %s\ntasks = ",
		s->data, crc, s->batch_size,
		o->kind == OPTIM_ADAM ? "adam" : "sgd", o->momentum,
		o->nesterov, o->weight_decay, param_set_name(s->params));
	for (int i = 0; i < ss->n_tasks; i++) {
		const char *name = ss->features->tasks[ss->tasks[i]].name;

		if (used + strlen(name) + 4 > size)
			text = xrealloc(text, size *= 2);
		used += (size_t)snprintf(text + used, size - used, "%s%s",
					 i ? ", " : "", name);
	}
	snprintf(text + used, size - used, "\n");
	return text;
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	size_t cap = 4096, n = 0, got;
	char *text;

	if (!fp)
		return NULL;
	text = xmalloc(cap);
	while ((got = fread(text + n, 1, cap - n - 1, fp)) > 0)
		if ((n += got) == cap - 1)
			text = xrealloc(text, cap *= 2);
	text[n] = '\0';
	fclose(fp);
	return text;
}

static int write_text(const char *path, const char *text)
{
	struct atomic_file af;

	if (atomic_open(&af, path))
		return -1;
	fputs(text, af.fp);
	return atomic_commit(&af);
}

/*
 * Creates path with text unless it exists, atomically: the text goes
 * to a temporary file that is hard-linked to path, and link() fails if
 * path exists.  Of two processes starting on one folder, exactly one
 * writes the settings and the other compares with them.  Returns 0
 * (created or already there) or -1 with err_set().
 */
static int claim_settings(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *fp = fopen(tmp, "w");
	int rc = 0;

	/* tmp is private until linked, so it is written in place */
	if (!fp || fputs(text, fp) < 0 || fflush(fp) || fsync(fileno(fp)) ||
	    link(tmp, path) != 0) {
		if (errno != EEXIST) {
			err_set("cannot create %s: %s; make the folder "
				"writable or choose another with --out", path,
				strerror(errno));
			rc = -1;
		}
	}
	if (fp)
		fclose(fp);
	unlink(tmp);
	free(tmp);
	return rc;
}

/*
 * Copies into buf the first line where the folder's settings (have)
 * and the suite's (want) differ, quoting both.
 */
static void first_difference(const char *have, const char *want,
			     char *buf, size_t size)
{
	while (*have && *want) {
		size_t lh = strcspn(have, "\n"), lw = strcspn(want, "\n");

		if (lh != lw || strncmp(have, want, lh)) {
			snprintf(buf, size, "'%.*s' in the folder, '%.*s' in "
				 "the suite", (int)lh, have, (int)lw, want);
			return;
		}
		have += lh + (have[lh] == '\n');
		want += lw + (want[lw] == '\n');
	}
	snprintf(buf, size, "a setting present in only one of them");
}

/*
 * Records the settings in dir/settings.txt, or checks them against the
 * ones already there, and keeps a copy of the suite beside the results.
 */
static int prepare_dir(struct session *ss)
{
	char *path = xasprintf("%s/settings.txt", ss->dir);
	char *suite_copy = xasprintf("%s/suite.ini", ss->dir);
	unsigned long crc;
	char *want = NULL, *have = NULL, *suite_text = NULL;
	int rc = -1;

	if (mkdir_p(ss->runs_dir) ||
	    file_crc32_cached(ss->suite->data, ss->crc_cache, &crc))
		goto out;
	want = settings_text(ss, crc);
	if (claim_settings(path, want) < 0)
		goto out;
	have = read_text(path);
	if (!have) {
		err_set("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (strcmp(have, want)) {
		char diff[1024];

		first_difference(have, want, diff, sizeof(diff));
		err_set("%s holds runs made with other settings (%s: %s); "
			"remove the folder or choose another with --out",
			ss->dir, path, diff);
		goto out;
	}
	suite_text = read_text(ss->suite->path);
	if (!suite_text) {
		err_set("cannot read %s: %s", ss->suite->path,
			strerror(errno));
		goto out;
	}
	if (write_text(suite_copy, suite_text))
		goto out;
	rc = 0;
out:
	free(path);
	free(suite_copy);
	free(want);
	free(have);
	free(suite_text);
	return rc;
}

char *session_run_path(const struct session *ss, int i)
{
	return xasprintf("%s/%s.csv", ss->runs_dir, ss->runs[i].id);
}

/* Parses "NAME.tmp.PID"; returns the pid or 0. */
static pid_t temp_owner(const char *name)
{
	const char *at = strstr(name, ".tmp.");
	char *end;
	long pid;

	if (!at)
		return 0;
	pid = strtol(at + 5, &end, 10);
	return *end || pid <= 0 ? 0 : (pid_t)pid;
}

/* Removes temporary files of pid, or of every dead process if pid is 0. */
static void remove_temp(const char *dir, pid_t pid)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		pid_t owner = temp_owner(e->d_name);
		int dead = owner && kill(owner, 0) != 0 && errno == ESRCH;

		if (owner && (pid ? owner == pid : dead)) {
			char *path = xasprintf("%s/%s", dir, e->d_name);

			unlink(path);
			free(path);
		}
	}
	closedir(d);
}

void session_remove_temp(const struct session *ss, pid_t pid)
{
	remove_temp(ss->runs_dir, pid);
}

/* Lists the runs from first on that have no result file yet. */
static void list_pending(struct session *ss, int first)
{
	free(ss->pending);
	ss->n_pending = 0;
	ss->pending = xmalloc(((size_t)ss->n_runs + 1) * sizeof(int));
	for (int i = first; i < ss->n_runs; i++) {
		char *path = session_run_path(ss, i);

		if (!path_exists(path))
			ss->pending[ss->n_pending++] = i;
		free(path);
	}
}

/* Warns once per method about valid but unwise tunable values. */
static void warn_caveats(const struct suite *s)
{
	for (int i = 0; i < s->n_methods; i++) {
		const struct suite_method *sm = &s->methods[i];
		const struct method *m = sm->method;
		double v[METHOD_MAX_TUNABLES];
		int shown = 0;

		if (!m->caveat || sm->oracle)
			continue;
		method_defaults(m, v);
		for (int k = 0; k < m->n_tunables && !shown; k++)
			for (int j = 0; j < sm->tunables[k].n && !shown; j++) {
				const char *text;

				v[k] = sm->tunables[k].values[j];
				text = m->caveat(v);
				if (text)
					warn("%s: %s", sm->label, text), shown = 1;
			}
	}
}

/* Checks every selected task's values once, before any run starts. */
/* Checks the values of every task the suite selects, in the probe. */
static int check_suite_tasks(struct features *f, void *ctx)
{
	const struct suite *s = ctx;
	int *tasks, n = suite_tasks(s, f, &tasks), rc = n < 0 ? -1 : 0;

	for (int i = 0; i < n && rc == 0; i++)
		rc = features_check_task(f, tasks[i]);
	if (n >= 0)
		free(tasks);
	return rc;
}

static int uses_gradual(const struct suite *s)
{
	for (int p = 0; p < s->n_protocols; p++)
		if (s->protocols[p] == PROTOCOL_GRADUAL)
			return 1;
	return 0;
}

/* Index among the suite's tasks of corruption c at severity, or -1. */
static int find_severity(const struct session *ss, const char *c,
			 int severity)
{
	for (int i = 0; i < ss->n_tasks; i++) {
		const struct task_info *t = &ss->features->tasks[ss->tasks[i]];

		if (t->corruption && !strcmp(t->corruption, c) &&
		    t->severity == severity)
			return ss->tasks[i];
	}
	return -1;
}

/*
 * The gradual protocol's sequence: for each corruption in the order of
 * its first task, its severities up from the lowest to the highest and
 * back down (1, 2, 3, 4, 5, 4, 3, 2, 1 when all five are there).
 * Tasks without a severity of 1 or more, such as clean, are left out.
 */
static int plan_gradual(struct session *ss)
{
	const struct task_info *all = ss->features->tasks;

	if (!uses_gradual(ss->suite))
		return 0;
	ss->gradual = xmalloc(2 * ((size_t)ss->n_tasks + 1) * sizeof(int));
	for (int i = 0; i < ss->n_tasks; i++) {
		const struct task_info *t = &all[ss->tasks[i]];
		int first = 1, up[64], n = 0;

		if (!t->corruption || t->severity < 1)
			continue;
		for (int j = 0; j < i && first; j++)
			first = !all[ss->tasks[j]].corruption ||
				strcmp(all[ss->tasks[j]].corruption,
				       t->corruption);
		if (!first)
			continue;
		for (int sev = 1; sev < 64; sev++)
			if ((up[n] = find_severity(ss, t->corruption, sev)) >= 0)
				n++;
		for (int k = 0; k < 2 * n - 1; k++)
			ss->gradual[ss->n_gradual++] = up[k < n ? k :
							  2 * n - 2 - k];
	}
	if (ss->n_gradual)
		return 0;
	err_set("%s: the gradual protocol needs tasks with corruption and "
		"severity attributes (severity 1 or more); none of the "
		"suite's tasks in %s has them", ss->suite->path,
		ss->suite->data);
	return -1;
}

/*
 * Opens the data file in a probe process first, because HDF5 1.10 can
 * crash, hang or exhaust memory on a damaged file (found by fuzzing).
 * Returns 0 if the file is valid or missing, else -1 with the error.
 */
static int probe_features(struct session *ss, int check_values)
{
	if (!path_exists(ss->suite->data))
		return 0;
	return features_probe(ss->suite->data, check_values ?
			      check_suite_tasks : NULL, ss->suite) == 1 ?
	       0 : -1;
}

/*
 * Returns the line of "key =" in [suite] of a suite file, or 0, for
 * messages about values that are checked after the suite is parsed.
 */
static int suite_key_line(const char *path, const char *key)
{
	FILE *fp = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0, len = strlen(key);
	int line = 0, found = 0, in_suite = 0;

	if (!fp)
		return 0;
	while (!found && getline(&text, &cap, fp) > 0) {
		const char *s = text + strspn(text, " \t");

		line++;
		if (*s == '[')
			in_suite = !strncmp(s, "[suite]", 7);
		else if (in_suite && !strncmp(s, key, len))
			found = s[len + strspn(s + len, " \t")] == '=';
	}
	free(text);
	fclose(fp);
	return found ? line : 0;
}

static int open_features(struct session *ss)
{
	const char *data = ss->suite->data;
	int line;
	char at[16] = "";

	if (!path_exists(data)) {
		line = suite_key_line(ss->suite->path, "data");
		if (line)
			snprintf(at, sizeof(at), ":%d", line);
		err_set("%s%s: data: file %s not found; fix 'data' in the "
			"suite (relative paths are relative to the current "
			"directory)%s", ss->suite->path, at, data,
			strstr(data, "fmnist-c.h5") ?
			", or build Fashion-MNIST-C with 'make data'" : "");
		return -1;
	}
	ss->features = features_open(data);
	return ss->features ? 0 : -1;
}

/*
 * Refuses a suite whose methods adapt when the tail has none of the
 * parameters the suite adapts: every run would fail the same way.
 */
static int check_adaptable(const struct session *ss)
{
	const struct suite *s = ss->suite;
	int adapts = 0;

	for (int i = 0; i < s->n_methods; i++)
		adapts |= s->methods[i].method->adapts;
	if (!adapts || tail_spec_adapts(&ss->features->model, s->params))
		return 0;
	err_set("%s: params = %s, but the tail of %s has no such "
		"parameters, so no method would adapt; set params to %s, or "
		"add a BatchNorm layer to the tail (tools/export_features.py "
		"--add-bn)", s->path, param_set_name(s->params),
		ss->features->path, s->params == PARAMS_BATCHNORM ?
		"linear or all" : "batchnorm or all");
	return -1;
}

struct session *session_open(const char *suite_path, const char *out,
			     int check_values, int *rc)
{
	struct session *ss = xcalloc(1, sizeof(*ss));

	*rc = EXIT_INPUT;
	ss->suite = suite_load(suite_path);
	if (!ss->suite || probe_features(ss, check_values) ||
	    open_features(ss))
		goto fail;
	ss->n_tasks = suite_tasks(ss->suite, ss->features, &ss->tasks);
	if (ss->n_tasks < 0 || check_adaptable(ss) || plan_gradual(ss))
		goto fail;
	ss->n_runs = suite_expand(ss->suite, &ss->runs);
	ss->dir = out ? xstrdup(out) :
		xasprintf("results/%s", ss->suite->name);
	ss->runs_dir = xasprintf("%s/runs", ss->dir);
	ss->crc_cache = xasprintf("%s/data-crc32.txt", ss->dir);
	*rc = EXIT_FAILURE_RUN;
	if (prepare_dir(ss))
		goto fail;
	/* the temporary files of processes that died: results in runs/,
	 * the settings and the CRC cache beside it */
	remove_temp(ss->runs_dir, 0);
	remove_temp(ss->dir, 0);
	list_pending(ss, 0);
	warn_caveats(ss->suite);

	/* Each run reopens the file: an HDF5 handle must not cross fork. */
	features_close(ss->features);
	ss->features = NULL;
	return ss;
fail:
	fprintf(stderr, "dembench: error: %s\n", err_msg());
	session_close(ss);
	return NULL;
}

void session_close(struct session *ss)
{
	if (!ss)
		return;
	features_close(ss->features);
	suite_free(ss->suite);
	free(ss->dir);
	free(ss->runs_dir);
	free(ss->crc_cache);
	free(ss->tasks);
	free(ss->gradual);
	free(ss->runs);
	free(ss->pending);
	free(ss);
}

/*
 * Takes the lock of run i, a flock on runs/.locks/<id>, which the
 * kernel releases when the process ends however it ends.  Returns the
 * descriptor, or -1 if another process has it.
 */
static int lock_run(const struct session *ss, int i)
{
	char *dir = xasprintf("%s/.locks", ss->runs_dir);
	char *path = xasprintf("%s/%s", dir, ss->runs[i].id);
	int fd;

	mkdir_p(dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		fd = -1;
	}
	free(dir);
	free(path);
	return fd;
}

int session_execute(struct session *ss, int i)
{
	struct task_result *results;
	struct run_config c;
	const int *tasks;
	char *path;
	int rc = -1, gradual, n_tasks, lock;

	/* Another dembench may be on this run, or may have finished it
	 * since this one planned: either way there is nothing to do. */
	lock = lock_run(ss, i);
	path = session_run_path(ss, i);
	if (lock < 0 || path_exists(path)) {
		free(path);
		return lock < 0 ? SESSION_BUSY : 0;
	}
	free(path);
	openblas_set_num_threads(1);
	ss->features = features_open(ss->suite->data);
	if (!ss->features)
		return -1;
	gradual = ss->runs[i].protocol == PROTOCOL_GRADUAL;
	tasks = gradual ? ss->gradual : ss->tasks;
	n_tasks = gradual ? ss->n_gradual : ss->n_tasks;
	results = xcalloc((size_t)n_tasks, sizeof(*results));
	suite_run_config(ss->suite, &ss->runs[i], tasks, n_tasks, &c);
	if (run_execute(ss->features, &c, results) == 0) {
		path = session_run_path(ss, i);
		rc = results_write_run(path, &ss->runs[i], ss->features,
				       results, n_tasks);
		free(path);
	}
	task_results_free(results, n_tasks);
	free(results);
	return rc;
}

/* The learning rate of an oracle's search in one protocol. */
static int search_lr(const struct session *ss, const struct report *r,
		     const struct suite_method *sm, enum protocol p,
		     double *lr)
{
	const struct config_scores *best;

	if (sm->search_lr) {
		*lr = sm->search_lr;
		return 0;
	}
	best = report_best(r, protocol_name(p), "em", "");
	if (!best) {
		err_set("%s: no em results in %s for protocol %s, which the "
			"search of %s needs", ss->suite->path, ss->dir,
			protocol_name(p), sm->label);
		return -1;
	}
	*lr = best->lr;
	return 0;
}

/* Appends the search runs of every oracle method and protocol. */
static int plan_searches(struct session *ss, const struct report *r)
{
	const struct suite *s = ss->suite;

	for (int i = 0; i < s->n_methods; i++) {
		const struct suite_method *sm = &s->methods[i];

		for (int p = 0; sm->oracle && p < s->n_protocols; p++) {
			double lr;

			if (search_lr(ss, r, sm, s->protocols[p], &lr))
				return -1;
			note("%s: searching %s in protocol %s at lr %g",
			     s->name, sm->label,
			     protocol_name(s->protocols[p]), lr);
			suite_expand_search(s, sm, s->protocols[p], lr,
					    &ss->runs, &ss->n_runs);
		}
	}
	return 0;
}

/* Appends the runs of every oracle method at its search's best point. */
static int plan_oracles(struct session *ss, const struct report *r)
{
	const struct suite *s = ss->suite;

	for (int i = 0; i < s->n_methods; i++) {
		const struct suite_method *sm = &s->methods[i];

		for (int p = 0; sm->oracle && p < s->n_protocols; p++) {
			const char *proto = protocol_name(s->protocols[p]);
			const struct config_scores *best =
				report_best(r, proto, sm->search_label, NULL);
			double point[METHOD_MAX_TUNABLES];

			if (!best) {
				err_set("%s: no search results for %s in %s",
					ss->dir, sm->label, proto);
				return -1;
			}
			method_defaults(sm->method, point);
			if (method_parse_tunables(sm->method, best->tunables,
						  point))
				return -1;
			note("%s: %s in protocol %s: best point %s", s->name,
			     sm->label, proto, best->tunables);
			suite_expand_oracle(s, sm, s->protocols[p], point,
					    &ss->runs, &ss->n_runs);
		}
	}
	return 0;
}

static int has_oracle(const struct suite *s)
{
	for (int i = 0; i < s->n_methods; i++)
		if (s->methods[i].oracle)
			return 1;
	return 0;
}

/* Counts the runs planned so far that have no result file. */
static int count_unfinished(const struct session *ss)
{
	int n = 0;

	for (int i = 0; i < ss->n_runs; i++) {
		char *path = session_run_path(ss, i);

		n += !path_exists(path);
		free(path);
	}
	return n;
}

int session_next_phase(struct session *ss)
{
	struct report r;
	int first = ss->n_runs, rc, unfinished;

	if (ss->phase >= 2 || !has_oracle(ss->suite))
		return 0;

	/* The next phase is planned from complete results only. */
	unfinished = count_unfinished(ss);
	if (unfinished) {
		note("%d runs are not finished (another process may be "
		     "running them); run again afterwards for the %s runs",
		     unfinished, ss->phase ? "oracle" : "oracle search");
		return 0;
	}
	if (report_load(ss->dir, &r))
		return -1;
	ss->phase++;
	rc = ss->phase == 1 ? plan_searches(ss, &r) : plan_oracles(ss, &r);
	report_free(&r);
	if (rc)
		return -1;
	list_pending(ss, first);
	return ss->n_runs - first;
}

int session_advance(struct session *ss)
{
	int added = 1;

	while (!ss->n_pending && added > 0)
		added = session_next_phase(ss);
	return added < 0 ? -1 : ss->n_pending;
}

static int find_run(const struct session *ss, const char *id)
{
	for (int i = 0; i < ss->n_runs; i++)
		if (!strcmp(ss->runs[i].id, id))
			return i;
	return -1;
}

int session_select(struct session *ss, const char *id)
{
	int i = find_run(ss, id), added = 1;
	char *path;

	while (i < 0 && added > 0) {
		added = session_next_phase(ss);
		i = find_run(ss, id);
	}
	if (i < 0) {
		if (added >= 0)
			err_set("%s has no run '%s', or not yet: runs of a "
				"later phase (dem* searches and runs) exist "
				"once the earlier ones are finished; 'dembench "
				"plan' lists the runs that can start now",
				ss->suite->path, id);
		return -1;
	}
	path = session_run_path(ss, i);
	ss->n_pending = 0;
	if (!path_exists(path))
		ss->pending[ss->n_pending++] = i;
	free(path);
	return ss->n_pending;
}
