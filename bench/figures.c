/*
 * figures.c - the figures of a report, drawn by gnuplot.
 *
 * Every figure is written in two phases: first its data (NAME.dat) and
 * a gnuplot script that reads the data (NAME.gp), then its images,
 * each drawn by one gnuplot process whose command line chooses the
 * terminal and the output.  The script itself sets no terminal, so a
 * user can restyle it and draw it again on any terminal.  All data and
 * scripts are written before the first image, so that they are there
 * even when gnuplot is missing.
 */
#include "figures.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "method.h"
#include "util.h"

/* A figure: its file name without extension and its image size. */
struct figure {
	const char *name;
	const char *dir;	/* DIR/figures */
	int width, height;	/* pixels of the PNG and SVG */
};

/* An image format: extension and gnuplot terminal. */
struct image_format {
	const char *ext;
	const char *terminal;	/* printf format of width and height */
	double scale;		/* terminal size units per pixel */
};

static const struct image_format image_formats[] = {
	{ "png", "pngcairo size %g,%g font 'sans,10'", 1 },
	{ "svg", "svg size %g,%g font 'sans,10' background '#ffffff'", 1 },
	/*
	 * pdfcairo sizes are in inches.  At 192 pixels per inch a figure
	 * of two panels is about a page wide (7.7 in), and these font,
	 * line and point sizes keep the proportions of the PNG.
	 */
	{ "pdf", "pdfcairo size %gin,%gin font 'sans,8' linewidth 0.5 "
	  "pointscale 0.5", 1.0 / 192 },
};

#define N_FORMATS (sizeof(image_formats) / sizeof(image_formats[0]))

/*
 * Line colours and gnuplot point types.  A method keeps both in every
 * panel, and the point types tell apart lines that coincide.
 */
static const char *const palette[] = {
	"#404040", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
	"#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
};
static const int point_types[] = { 7, 5, 9, 11, 13, 15, 6, 4, 8, 12 };

#define N_COLORS (sizeof(palette) / sizeof(palette[0]))
#define N_POINT_TYPES (sizeof(point_types) / sizeof(point_types[0]))

/* The place of a method label in the suite's order, searches left out. */
static size_t method_rank(const struct report *r, const char *method)
{
	size_t k = 0;

	for (int i = 0; i < r->n_methods; i++) {
		if (!strcmp(r->methods[i], method))
			break;
		k += !report_is_search(r->methods[i]);
	}
	return k;
}

static const char *method_color(const struct report *r, const char *method)
{
	return palette[method_rank(r, method) % N_COLORS];
}

static int method_point(const struct report *r, const char *method)
{
	return point_types[method_rank(r, method) % N_POINT_TYPES];
}

static const char *protocol_caption(const char *protocol)
{
	if (!strcmp(protocol, "single"))
		return "single-domain (reset for every task)";
	if (!strcmp(protocol, "continual"))
		return "continual (one stream, no reset)";
	if (!strcmp(protocol, "gradual"))
		return "gradual (severity up and down, no reset)";
	return protocol;
}

/* Writes "method (tunables)" of a configuration into buf. */
static void config_label(const struct config_scores *c, char *buf,
			 size_t size)
{
	if (*c->tunables)
		snprintf(buf, size, "%s (%s)", c->method, c->tunables);
	else
		snprintf(buf, size, "%s", c->method);
}

/*
 * Writes s as a single-quoted gnuplot string, in which a quote is the
 * only character to escape (by doubling it).  Control characters
 * become '?' so that a name cannot end the line.
 */
static void gp_string(FILE *fp, const char *s)
{
	fputc('\'', fp);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("''", fp);
		else if ((unsigned char)*s < ' ')
			fputc('?', fp);
		else
			fputc(*s, fp);
	}
	fputc('\'', fp);
}

/* Writes a two-line title: gnuplot joins the strings with ".". */
static void gp_title(FILE *fp, const char *first, const char *second)
{
	gp_string(fp, first);
	if (second && *second) {
		fputs(" . \"\\n\" . ", fp);
		gp_string(fp, second);
	}
	fputc('\n', fp);
}

static char *terminal_command(const struct figure *f,
			      const struct image_format *fmt)
{
	return xasprintf(fmt->terminal, f->width * fmt->scale,
			 f->height * fmt->scale);
}

/*
 * Writes the start of every script: how to run it, a PNG terminal for
 * when none was chosen (gnuplot-nox starts with the terminal
 * "unknown", which draws nothing), and settings shared by all figures.
 */
static void gp_begin(FILE *fp, const struct figure *f, const char *summary)
{
	char *png = terminal_command(f, &image_formats[0]);

	fprintf(fp, "# %s.gp - %s.\n"
		"# Written by \"dembench report\"; reads %s.dat from the "
		"working folder.\n"
		"# \"gnuplot %s.gp\" in this folder draws on the default "
		"terminal, or\n"
		"# writes %s.png when there is none.  To choose a "
		"terminal:\n"
		"#   gnuplot -e \"set terminal svg; set output 'my.svg'\" "
		"%s.gp\n\n",
		f->name, summary, f->name, f->name, f->name, f->name);
	fprintf(fp, "if (GPVAL_TERM eq 'unknown') {\n"
		"\tset terminal %s\n\tset output '%s.png'\n}\n", png, f->name);
	fputs("reset\nset encoding utf8\n"
	      "# Print names such as shift_1 as they are, with no "
	      "subscript.\n"
	      "set termoption noenhanced\n"
	      "set grid lt 1 lw 1 lc rgb '#e4e4e4'\n\n", fp);
	free(png);
}

typedef void (*emit_fn)(FILE *fp, const struct figure *f, const void *ctx);

/* Writes DIR/figures/NAME.EXT atomically with emit. */
static int write_part(const struct figure *f, const char *ext,
		      emit_fn emit, const void *ctx)
{
	char *path = xasprintf("%s/%s.%s", f->dir, f->name, ext);
	struct atomic_file af;
	int rc = atomic_open(&af, path);

	if (!rc) {
		emit(af.fp, f, ctx);
		rc = atomic_commit(&af);
	}
	free(path);
	return rc;
}

static int write_figure(const struct figure *f, emit_fn dat, emit_fn gp,
			const void *ctx)
{
	if (write_part(f, "dat", dat, ctx))
		return -1;
	return write_part(f, "gp", gp, ctx);
}

/* ---- Running gnuplot ---- */

/* Why the child failed before gnuplot ran: the step and its errno. */
struct spawn_failure {
	int step;		/* 0: chdir, 1: exec */
	int error;
};

/*
 * The child: runs argv in dir, with stdout and stderr on err_fd and
 * stdin from /dev/null.  On failure it sends the step and errno on
 * status_fd, which otherwise closes at exec (FD_CLOEXEC).
 */
static NORETURN void child_exec(const char *dir, char *const argv[],
				int err_fd, int status_fd)
{
	struct spawn_failure failure = { 0, 0 };
	int null_fd;
	ssize_t sent;

	if (chdir(dir) == 0) {
		null_fd = open("/dev/null", O_RDONLY);
		if (null_fd >= 0)
			dup2(null_fd, STDIN_FILENO);
		dup2(err_fd, STDOUT_FILENO);
		dup2(err_fd, STDERR_FILENO);
		execvp(argv[0], argv);
		failure.step = 1;
	}
	failure.error = errno;
	sent = write(status_fd, &failure, sizeof(failure));
	(void)sent;
	_exit(127);
}

/* Reads fd to its end, keeping the first size - 1 bytes in text. */
static void read_text(int fd, char *text, size_t size)
{
	size_t used = 0;
	char discard[512];

	for (;;) {
		char *dst = used + 1 < size ? text + used : discard;
		size_t room = used + 1 < size ? size - 1 - used :
			sizeof(discard);
		ssize_t n = read(fd, dst, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst == text + used)
			used += (size_t)n;
	}
	text[used] = '\0';
}

static ssize_t read_failure(int fd, struct spawn_failure *failure)
{
	ssize_t n;

	do
		n = read(fd, failure, sizeof(*failure));
	while (n < 0 && errno == EINTR);
	return n;
}

static int wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* The last non-empty line of text, where gnuplot puts its error. */
static const char *last_line(char *text)
{
	char *end = text + strlen(text);

	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	while (end > text && end[-1] != '\n')
		end--;
	return end;
}

/* Passes gnuplot's messages of a successful run on to stderr. */
static void forward_messages(const struct figure *f, char *text)
{
	for (char *line = strtok(text, "\n"); line;
	     line = strtok(NULL, "\n"))
		warn("gnuplot on %s/%s.gp: %s", f->dir, f->name, line);
}

static int spawn_error(const struct figure *f,
		       const struct spawn_failure *failure)
{
	if (failure->step == 0)
		err_set("cannot enter %s to run gnuplot: %s", f->dir,
			strerror(failure->error));
	else if (failure->error == ENOENT)
		err_set("gnuplot not found; install gnuplot-nox or run make "
			"deps, then run dembench report again (the data and "
			"scripts are in %s)", f->dir);
	else
		err_set("cannot run gnuplot for %s/%s.gp: %s", f->dir,
			f->name, strerror(failure->error));
	return -1;
}

/* Turns the exit status of gnuplot into 0, or -1 with err_set(). */
static int check_exit(const struct figure *f, int status, char *text)
{
	if (WIFSIGNALED(status)) {
		err_set("gnuplot was killed by signal %d while drawing "
			"%s/%s.gp", WTERMSIG(status), f->dir, f->name);
		return -1;
	}
	if (WEXITSTATUS(status) != 0) {
		err_set("gnuplot failed with exit status %d on %s/%s.gp: %s; "
			"run \"gnuplot %s.gp\" in that folder to see the "
			"whole message", WEXITSTATUS(status), f->dir, f->name,
			last_line(text), f->name);
		return -1;
	}
	forward_messages(f, text);
	return 0;
}

static int open_pipes(int err_pipe[2], int status_pipe[2])
{
	if (pipe(err_pipe)) {
		err_set("cannot create a pipe for gnuplot: %s",
			strerror(errno));
		return -1;
	}
	if (pipe(status_pipe)) {
		err_set("cannot create a pipe for gnuplot: %s",
			strerror(errno));
		close(err_pipe[0]);
		close(err_pipe[1]);
		return -1;
	}

	/*
	 * Every end closes at exec.  gnuplot keeps only its stdout and
	 * stderr, which dup2 copies from err_pipe[1] without the flag.
	 */
	for (int i = 0; i < 2; i++) {
		fcntl(err_pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(status_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

/*
 * Runs gnuplot with argv in the figure's folder and waits for it.  The
 * arguments go to exec as they are, with no shell.  Returns 0 if it
 * exits with status 0, or -1 with err_set() quoting its last message.
 */
static int run_gnuplot(const struct figure *f, char *const argv[])
{
	int err_pipe[2], status_pipe[2], status;
	struct spawn_failure failure;
	char text[4096];
	ssize_t got;
	pid_t pid;

	if (open_pipes(err_pipe, status_pipe))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err_set("cannot start gnuplot: fork failed: %s",
			strerror(errno));
		close(err_pipe[0]);
		close(err_pipe[1]);
		close(status_pipe[0]);
		close(status_pipe[1]);
		return -1;
	}
	if (pid == 0)
		child_exec(f->dir, argv, err_pipe[1], status_pipe[1]);

	/* The parent: the status pipe ends at exec, stderr at exit. */
	close(err_pipe[1]);
	close(status_pipe[1]);
	got = read_failure(status_pipe[0], &failure);
	close(status_pipe[0]);
	read_text(err_pipe[0], text, sizeof(text));
	close(err_pipe[0]);
	if (wait_child(pid, &status)) {
		err_set("cannot wait for gnuplot: %s", strerror(errno));
		return -1;
	}
	if (got == (ssize_t)sizeof(failure))
		return spawn_error(f, &failure);
	return check_exit(f, status, text);
}

/*
 * Does the image end as its format requires?  gnuplot exits 0 even
 * when the disk filled up under it, leaving a cut file: a PNG must end
 * with its IEND chunk, a PDF with %%EOF and an SVG with </svg>.
 */
static int image_complete(const char *path, const char *ext)
{
	static const char png_end[] = "IEND\xae\x42\x60\x82";
	char tail[64] = "";
	FILE *fp = fopen(path, "rb");
	size_t got = 0;

	if (fp && fseek(fp, -(long)(sizeof(tail) - 1), SEEK_END) != 0)
		rewind(fp);
	if (fp) {
		got = fread(tail, 1, sizeof(tail) - 1, fp);
		fclose(fp);
	}
	if (!strcmp(ext, "png"))
		return got >= 8 && !memcmp(tail + got - 8, png_end, 8);
	tail[got] = '\0';
	for (size_t i = 0; i < got; i++)
		if (!tail[i])
			tail[i] = ' ';
	return strstr(tail, !strcmp(ext, "pdf") ? "%%EOF" : "</svg>") != NULL;
}

/* Syncs a finished image to disk and renames it to its final name. */
static int publish_image(const char *tmp, const char *path, const char *ext)
{
	struct stat st;
	int fd, synced = -1;

	if (stat(tmp, &st) || st.st_size == 0) {
		err_set("gnuplot wrote no image to %s; run the script in "
			"that folder with gnuplot to see why", tmp);
		return -1;
	}
	fd = open(tmp, O_RDONLY);
	if (fd >= 0) {
		synced = fsync(fd);
		close(fd);
	}
	if (synced != 0 || !image_complete(tmp, ext)) {
		err_set("gnuplot wrote an incomplete %s (is the disk full?); "
			"%s was not replaced", tmp, path);
		return -1;
	}
	if (rename(tmp, path)) {
		err_set("cannot rename %s to %s: %s", tmp, path,
			strerror(errno));
		return -1;
	}
	sync_parent(path);
	return 0;
}

/*
 * Draws NAME.EXT: gnuplot writes NAME.EXT.tmp.PID, which is renamed
 * once gnuplot has succeeded, so a reader never sees half an image.
 */
static int draw_image(const struct figure *f, const struct image_format *fmt)
{
	char *tmp_name = xasprintf("%s.%s.tmp.%ld", f->name, fmt->ext,
				   (long)getpid());
	char *tmp = xasprintf("%s/%s", f->dir, tmp_name);
	char *path = xasprintf("%s/%s.%s", f->dir, f->name, fmt->ext);
	char *terminal = terminal_command(f, fmt);
	char *command = xasprintf("set terminal %s; set output '%s'",
				  terminal, tmp_name);
	char *script = xasprintf("%s.gp", f->name);
	char *argv[] = { "gnuplot", "-e", command, script, NULL };
	int rc = run_gnuplot(f, argv);

	if (!rc)
		rc = publish_image(tmp, path, fmt->ext);
	if (rc)
		unlink(tmp);
	free(tmp_name);
	free(tmp);
	free(path);
	free(terminal);
	free(command);
	free(script);
	return rc;
}

static int draw_images(const struct figure *f)
{
	for (size_t i = 0; i < N_FORMATS; i++)
		if (draw_image(f, &image_formats[i]))
			return -1;
	return 0;
}

/* ---- Figure 1: accuracy against learning rate ---- */

/* A curve: one method (and tunables) in one protocol. */
struct lr_curve {
	int panel;
	const struct config_scores *best;	/* its row of table.md */
	struct lr_point *points;
	int n_points;
	int diverged;				/* at some learning rate */
};

struct lr_figure {
	const struct report *r;
	int n_panels;
	const char **panels;		/* protocols that have rows */
	int n_curves;
	struct lr_curve *curves;
	double x_min, x_max;		/* range of the log x axis */
	double y_min, y_max;
};

/* Does a curve show a method that adapts (its lr is 0 otherwise)? */
static int curve_adapts(const struct lr_curve *c)
{
	return c->best->lr > 0;
}

/* Does a method that does not adapt have a level to draw? */
static int curve_has_level(const struct lr_curve *c)
{
	return !curve_adapts(c) && c->n_points > 0 &&
		!isnan(c->points[0].mean);
}

static void lr_add_curve(struct lr_figure *fig, int panel,
			 const struct config_scores *best)
{
	const struct report *r = fig->r;
	struct lr_curve *c = &fig->curves[fig->n_curves++];

	c->panel = panel;
	c->best = best;
	c->points = xcalloc((size_t)r->n_configs, sizeof(*c->points));
	c->n_points = report_lr_curve(r, best->protocol, best->method,
				      best->tunables, c->points,
				      r->n_configs);
	for (int i = 0; i < c->n_points; i++)
		c->diverged |= c->points[i].config->diverged;
}

/* A factor of 2 around the learning rates, which need not span a decade. */
static void lr_set_range(struct lr_figure *fig)
{
	double lo = INFINITY, hi = 0;

	for (int i = 0; i < fig->n_curves; i++)
		for (int k = 0; k < fig->curves[i].n_points; k++) {
			double lr = fig->curves[i].points[k].lr;

			if (lr > 0 && lr < lo)
				lo = lr;
			if (lr > hi)
				hi = lr;
		}
	if (hi == 0) {
		/* Only methods that do not adapt: a nominal range. */
		lo = 1e-3;
		hi = 1e-2;
	}
	fig->x_min = lo / 2;
	fig->x_max = hi * 2;
}

/*
 * The accuracies with their error bars and a margin, spanning at least
 * a point: gnuplot's autoscale would put single points on the frame
 * and show a range of 0.01 points as if it mattered.
 */
static void lr_set_y_range(struct lr_figure *fig)
{
	double lo = INFINITY, hi = -INFINITY, pad;

	for (int i = 0; i < fig->n_curves; i++)
		for (int k = 0; k < fig->curves[i].n_points; k++) {
			const struct lr_point *pt = &fig->curves[i].points[k];

			if (!isfinite(pt->mean))
				continue;
			lo = fmin(lo, pt->mean - (isfinite(pt->std) ?
						  pt->std : 0));
			hi = fmax(hi, pt->mean + (isfinite(pt->std) ?
						  pt->std : 0));
		}
	if (lo > hi) {
		lo = 0;
		hi = 100;
	}
	pad = fmax(0.05 * (hi - lo), 0.5);
	fig->y_min = lo - pad;
	fig->y_max = hi + pad;
}

/*
 * Collects a curve per table row of each protocol.  NOTE: a method run
 * at many tunable settings (not an oracle) gets a line per setting,
 * which crowds the panel and the key.
 */
static void lr_collect(struct lr_figure *fig, const struct report *r)
{
	const struct config_scores **rows =
		xcalloc((size_t)r->n_configs, sizeof(*rows));

	memset(fig, 0, sizeof(*fig));
	fig->r = r;
	fig->panels = xcalloc((size_t)r->n_protocols, sizeof(char *));

	/* Enough room, as rows of all protocols are distinct configurations. */
	fig->curves = xcalloc((size_t)r->n_configs, sizeof(*fig->curves));
	for (int p = 0; p < r->n_protocols; p++) {
		int n = report_rows(r, r->protocols[p], rows);

		if (!n)
			continue;
		for (int i = 0; i < n; i++)
			lr_add_curve(fig, fig->n_panels, rows[i]);
		fig->panels[fig->n_panels++] = r->protocols[p];
	}
	lr_set_range(fig);
	lr_set_y_range(fig);
	free(rows);
}

static void lr_free(struct lr_figure *fig)
{
	for (int i = 0; i < fig->n_curves; i++)
		free(fig->curves[i].points);
	free(fig->curves);
	free(fig->panels);
}

static void lr_write_dat(FILE *fp, const struct figure *f, const void *ctx)
{
	const struct lr_figure *fig = ctx;

	fprintf(fp, "# %s.dat - online accuracy (%%) against learning "
		"rate, written by \"dembench report\".\n"
		"# One block per protocol and method (at the tunables of "
		"its table row); blocks are\n"
		"# separated by two blank lines, so gnuplot's \"index N\" "
		"selects block N.\n"
		"# Methods that do not adapt have one line, at lr 0.\n"
		"# accuracy_mean: mean over seeds of the mean over tasks; "
		"accuracy_std: its\n"
		"# sample standard deviation over seeds; diverged: 1 if a "
		"seed diverged on a task.\n"
		"# columns: protocol method tunables lr accuracy_mean "
		"accuracy_std diverged\n", f->name);
	for (int i = 0; i < fig->n_curves; i++) {
		const struct lr_curve *c = &fig->curves[i];
		const char *tunables = *c->best->tunables ?
			c->best->tunables : "-";

		fprintf(fp, "%s# index %d: %s %s\n", i ? "\n\n" : "\n", i,
			c->best->protocol, c->best->method);
		for (int k = 0; k < c->n_points; k++) {
			const struct lr_point *pt = &c->points[k];

			fprintf(fp, "%s %s %s %.6g %.4f %.4f %d\n",
				c->best->protocol, c->best->method, tunables,
				pt->lr, pt->mean, pt->std,
				pt->config->diverged);
		}
	}
}

/*
 * Reads the level of each method that does not adapt from the data.
 * stats runs before the axes are set because it skips points outside
 * a fixed range.
 */
static void lr_write_levels(FILE *fp, const struct figure *f,
			    const struct lr_figure *fig)
{
	fputs("# Levels of the methods that do not adapt, drawn as "
	      "horizontal lines.\n", fp);
	for (int i = 0; i < fig->n_curves; i++)
		if (curve_has_level(&fig->curves[i]))
			fprintf(fp, "stats '%s.dat' index %d using 5 "
				"nooutput\nlevel_%d = STATS_mean\n",
				f->name, i, i);
	fputc('\n', fp);
}

/* Do two curves show the same method and tunables? */
/*
 * Do two curves share a key entry?  An oracle's point differs from one
 * protocol to the next (table.md names it), so its curves share one.
 */
static int same_label(const struct lr_curve *a, const struct lr_curve *b)
{
	return !strcmp(a->best->method, b->best->method) &&
		(report_is_oracle(a->best->method) ||
		 !strcmp(a->best->tunables, b->best->tunables));
}

/* Does curve i have something to draw? */
static int curve_drawn(const struct lr_figure *fig, int i)
{
	return curve_adapts(&fig->curves[i]) ||
		curve_has_level(&fig->curves[i]);
}

/* Is curve i the first drawn curve of its label, in any panel? */
static int first_of_label(const struct lr_figure *fig, int i)
{
	for (int j = 0; j < i; j++)
		if (curve_drawn(fig, j) &&
		    same_label(&fig->curves[j], &fig->curves[i]))
			return 0;
	return 1;
}

static int panel_has_label(const struct lr_figure *fig, int panel,
			   const struct lr_curve *c)
{
	for (int j = 0; j < fig->n_curves; j++)
		if (fig->curves[j].panel == panel && curve_drawn(fig, j) &&
		    same_label(&fig->curves[j], c))
			return 1;
	return 0;
}

/*
 * Writes the plot element of curve i after the separator sep.  With
 * key_only, the element draws nothing and only adds the curve's entry
 * to the key.
 */
static void lr_write_element(FILE *fp, const struct figure *f,
			     const struct lr_figure *fig, int i,
			     const char *sep, int key_only)
{
	const struct lr_curve *c = &fig->curves[i];
	const char *color = method_color(fig->r, c->best->method);
	int point = method_point(fig->r, c->best->method);
	char label[200];

	if (report_is_oracle(c->best->method))
		snprintf(label, sizeof(label), "%s (oracle)",
			 c->best->method);
	else
		config_label(c->best, label, sizeof(label));
	if (curve_adapts(c) && key_only)
		fprintf(fp, "%sNaN with linespoints lw 2 pt %d ps 0.9 "
			"lc rgb '%s' title ", sep, point, color);
	else if (curve_adapts(c))
		fprintf(fp, "%s'%s.dat' index %d using 4:5:6 with "
			"yerrorlines lw 2 pt %d ps 0.9 lc rgb '%s' title ",
			sep, f->name, i, point, color);
	else if (key_only)
		fprintf(fp, "%sNaN with lines dt 2 lw 2 lc rgb '%s' title ",
			sep, color);
	else
		fprintf(fp, "%slevel_%d with lines dt 2 lw 2 lc rgb '%s' "
			"title ", sep, i, color);
	if (!curve_adapts(c))
		strncat(label, ", no lr", sizeof(label) - strlen(label) - 1);
	gp_string(fp, label);
}

/*
 * Circles the points of configurations where a seed diverged.  Returns
 * whether any was drawn.
 */
static int lr_write_diverged(FILE *fp, const struct figure *f,
			     const struct lr_figure *fig, int panel)
{
	int titled = 0;

	for (int i = 0; i < fig->n_curves; i++) {
		const struct lr_curve *c = &fig->curves[i];

		if (c->panel != panel || !curve_adapts(c) || !c->diverged)
			continue;
		fprintf(fp, ", \\\n     '%s.dat' index %d using "
			"4:($7 > 0 ? $5 : NaN) with points pt 6 ps 2.5 "
			"lc rgb 'black' %s",
			f->name, i, titled ? "notitle" : "title 'diverged'");
		titled = 1;
	}
	return titled;
}

/*
 * The key, drawn by the last panel, also names what only other panels
 * show, so that one key serves them all.
 */
static void lr_write_key_only(FILE *fp, const struct figure *f,
			      const struct lr_figure *fig, int panel,
			      int diverged_titled)
{
	int diverged = 0;

	for (int i = 0; i < fig->n_curves; i++) {
		const struct lr_curve *c = &fig->curves[i];

		diverged |= curve_adapts(c) && c->diverged;
		if (c->panel == panel || !curve_drawn(fig, i) ||
		    panel_has_label(fig, panel, c) || !first_of_label(fig, i))
			continue;
		lr_write_element(fp, f, fig, i, ", \\\n     ", 1);
	}
	if (diverged && !diverged_titled)
		fputs(", \\\n     NaN with points pt 6 ps 2.5 lc rgb 'black' "
		      "title 'diverged'", fp);
}

static void lr_write_panel(FILE *fp, const struct figure *f,
			   const struct lr_figure *fig, int panel)
{
	int last = panel == fig->n_panels - 1, diverged;
	const char *sep = "plot ";

	fputs("set title ", fp);
	gp_title(fp, protocol_caption(fig->panels[panel]), NULL);
	if (last)
		fputs("set key at screen key_x, screen key_y left top "
		      "Left reverse samplen 3\n", fp);
	for (int i = 0; i < fig->n_curves; i++) {
		if (fig->curves[i].panel != panel || !curve_drawn(fig, i))
			continue;
		lr_write_element(fp, f, fig, i, sep, 0);
		sep = ", \\\n     ";
	}
	if (*sep == 'p') {
		/* Every accuracy of the panel is NaN: an empty frame. */
		fputs("plot NaN title 'no results'", fp);
	}
	diverged = lr_write_diverged(fp, f, fig, panel);
	if (last)
		lr_write_key_only(fp, f, fig, panel, diverged);
	fputs("\n\n", fp);
}

/* Layout of the learning-rate figure, in pixels. */
enum {
	LR_PANEL = 520,		/* width of a panel's plot area */
	LR_GAP = 100,		/* between panels: tic labels, y label */
	LR_LEFT = 90,
	LR_KEY = 260,		/* right of the panels, for the key */
	LR_HEIGHT = 520,
	LR_BOTTOM = 60,
	LR_TOP = 90,		/* the figure's and panels' titles */
};

/* Panels of equal size side by side, and one key on their right. */
static void lr_write_layout(FILE *fp, const struct figure *f,
			    const struct lr_figure *fig)
{
	double w = f->width, h = f->height;

	fprintf(fp, "# Screen fractions: panel margins, then the key.\n"
		"left = %.4f; right = %.4f; bottom = %.4f; top = %.4f\n"
		"gap = %.4f\nkey_x = right + %.4f; key_y = top\n"
		"unset key\n"
		"set multiplot layout 1,%d margins left, right, bottom, top "
		"spacing gap, 0 title ", LR_LEFT / w, 1 - LR_KEY / w,
		LR_BOTTOM / h, 1 - LR_TOP / h, LR_GAP / w, 15 / w,
		fig->n_panels);
	gp_title(fp, "Online accuracy against learning rate",
		 "points: mean over seeds, error bars: sample std; dashed: "
		 "methods that do not adapt");
	fputc('\n', fp);
}

static void lr_write_gp(FILE *fp, const struct figure *f, const void *ctx)
{
	const struct lr_figure *fig = ctx;

	gp_begin(fp, f, "accuracy against learning rate, a panel per "
		 "protocol");
	lr_write_levels(fp, f, fig);
	fprintf(fp, "set logscale x\nset xrange [%.6g:%.6g]\n"
		"set yrange [%.4f:%.4f]\n"
		"set format x '%%g'\n"
		"set xlabel 'learning rate'\n"
		"set ylabel 'online accuracy (%%), mean over tasks'\n",
		fig->x_min, fig->x_max, fig->y_min, fig->y_max);
	lr_write_layout(fp, f, fig);
	for (int p = 0; p < fig->n_panels; p++)
		lr_write_panel(fp, f, fig, p);
	fputs("unset multiplot\n", fp);
}

static int lr_tolerance_write(struct figure *f, const struct report *r)
{
	struct lr_figure fig;
	int n, rc;

	lr_collect(&fig, r);
	n = fig.n_panels > 1 ? fig.n_panels : 1;
	f->width = LR_LEFT + n * LR_PANEL + (n - 1) * LR_GAP + LR_KEY;
	f->height = LR_HEIGHT;
	rc = write_figure(f, lr_write_dat, lr_write_gp, &fig);
	lr_free(&fig);
	return rc;
}

/* ---- Figure 2: predicted and true class shares on one task ---- */

/* A series: class counts of one method's predictions, or of labels. */
struct class_series {
	char title[200];	/* its key entry */
	const char *column;	/* "truth" or the method label */
	const char *color;
	int point;		/* gnuplot point type */
	long *counts;		/* [classes], summed over result rows */
	long total;
	int *order;		/* class ids by decreasing count */
};

#define CLASS_METHODS 2
static const char *const class_methods[CLASS_METHODS] = { "em", "adadem" };

struct class_figure {
	const char *dir;	/* the results folder, for messages */
	const char *protocol;
	const char *task;
	int by_noadapt;		/* the task is noadapt's worst */
	int n_classes;
	int n_series;
	struct class_series series[1 + CLASS_METHODS];
	char missing[64];	/* methods without results */
};

static int protocol_has_runs(const struct report *r, const char *protocol)
{
	for (int i = 0; i < r->n_configs; i++)
		if (!strcmp(r->configs[i].protocol, protocol))
			return 1;
	return 0;
}

/* The single-domain protocol if it ran, else the first that did. */
static const char *class_protocol(const struct report *r)
{
	const char *first = NULL;

	for (int p = 0; p < r->n_protocols; p++) {
		if (!protocol_has_runs(r, r->protocols[p]))
			continue;
		if (!strcmp(r->protocols[p], "single"))
			return r->protocols[p];
		if (!first)
			first = r->protocols[p];
	}
	return first;
}

/* The task where noadapt is least accurate, or the first task. */
static int class_task(const struct report *r, const char *protocol,
		      int *by_noadapt)
{
	const struct config_scores *c =
		report_best(r, protocol, "noadapt", NULL);
	double lowest = INFINITY, mean, std;
	int task = 0;

	*by_noadapt = 0;
	for (int k = 0; c && k < c->n_tasks; k++) {
		config_mean_std(c, k, 0, &mean, &std);
		if (mean < lowest) {
			lowest = mean;
			task = k;
			*by_noadapt = 1;
		}
	}
	return task;
}

/* Parses "n0;n1;..." into a new array and returns its length, or -1. */
static int parse_counts(const char *text, long **out)
{
	int n = 1;
	const char *s = text;
	long *v;

	for (const char *c = text; *c; c++)
		n += *c == ';';
	v = xcalloc((size_t)n, sizeof(long));
	for (int i = 0; i < n; i++) {
		char *end;

		errno = 0;
		v[i] = strtol(s, &end, 10);
		if (end == s || errno || v[i] < 0 ||
		    (*end != ';' && *end != '\0')) {
			free(v);
			return -1;
		}
		s = end + 1;
	}
	*out = v;
	return n;
}

/* Adds the counts in text, column name of row, to series s. */
static int add_counts(struct class_figure *fig, struct class_series *s,
		      const struct result_row *row, const char *name,
		      const char *text)
{
	long *v = NULL;
	int n = parse_counts(text, &v);

	if (n < 0) {
		err_set("%s/runs/%s.csv: invalid class counts \"%s\" in "
			"column %s, expected integers separated by ';'.  "
			"Delete the file and run the suite again to redo the "
			"run", fig->dir, row->run_id, text, name);
		return -1;
	}
	if (!fig->n_classes)
		fig->n_classes = n;
	if (n != fig->n_classes) {
		err_set("%s/runs/%s.csv has %d classes in column %s but "
			"other runs have %d, so the folder mixes results of "
			"different feature files.  Keep the runs of one file "
			"only", fig->dir, row->run_id, n, name,
			fig->n_classes);
		free(v);
		return -1;
	}
	if (!s->counts)
		s->counts = xcalloc((size_t)n, sizeof(long));
	for (int i = 0; i < n; i++) {
		s->counts[i] += v[i];
		s->total += v[i];
	}
	free(v);
	return 0;
}

static int row_on_task(const struct class_figure *fig,
		       const struct result_row *row)
{
	return !strcmp(row->protocol, fig->protocol) &&
		!strcmp(row->task, fig->task);
}

/*
 * The label counts of the task, summed over every run on it.  All
 * runs score the same samples of a task, so the shares are the same
 * as those of any one run.
 */
static int sum_truth(struct class_figure *fig, const struct result_table *t)
{
	struct class_series *s = &fig->series[fig->n_series++];

	snprintf(s->title, sizeof(s->title), "true labels");
	s->column = "truth";
	s->color = "#c8c8c8";
	for (int i = 0; i < t->n; i++)
		if (row_on_task(fig, &t->rows[i]) &&
		    add_counts(fig, s, &t->rows[i], "truth",
			       t->rows[i].truth))
			return -1;
	return 0;
}

/* The predictions of config c on the task, summed over its seeds. */
static int sum_predicted(struct class_figure *fig,
			 const struct result_table *t,
			 const struct report *r,
			 const struct config_scores *c)
{
	struct class_series *s = &fig->series[fig->n_series++];
	char label[160];

	config_label(c, label, sizeof(label));
	snprintf(s->title, sizeof(s->title), "%s, lr %g, %d seed%s", label,
		 c->lr, c->n_seeds, c->n_seeds == 1 ? "" : "s");
	s->column = c->method;
	s->color = method_color(r, c->method);
	s->point = method_point(r, c->method);
	for (int i = 0; i < t->n; i++) {
		const struct result_row *row = &t->rows[i];

		if (!row_on_task(fig, row) || strcmp(row->method, c->method) ||
		    strcmp(row->tunables, c->tunables) || row->lr != c->lr)
			continue;
		if (add_counts(fig, s, row, "predicted", row->predicted))
			return -1;
	}
	return 0;
}

static void note_missing(struct class_figure *fig, const char *method)
{
	size_t used = strlen(fig->missing);

	snprintf(fig->missing + used, sizeof(fig->missing) - used, "%s%s",
		 used ? " and " : "", method);
}

/*
 * Sorts the class ids by decreasing count, ties by id.  Insertion sort
 * takes O(C^2) steps, little next to reading the results.
 */
static void sort_series(struct class_series *s, int n_classes)
{
	s->order = xcalloc((size_t)n_classes, sizeof(int));
	for (int i = 0; i < n_classes; i++) {
		int k = i;

		while (k > 0 && s->counts[s->order[k - 1]] < s->counts[i]) {
			s->order[k] = s->order[k - 1];
			k--;
		}
		s->order[k] = i;
	}
}

static int class_collect(struct class_figure *fig, const char *dir,
			 const struct report *r,
			 const struct result_table *t)
{
	const struct task_list *tasks;

	memset(fig, 0, sizeof(*fig));
	fig->dir = dir;
	fig->protocol = class_protocol(r);
	tasks = fig->protocol ? report_tasks(r, fig->protocol) : NULL;
	if (!tasks || !tasks->n) {
		err_set("%s: no result rows to draw; run the suite first",
			dir);
		return -1;
	}
	fig->task = tasks->names[class_task(r, fig->protocol,
					    &fig->by_noadapt)];
	if (sum_truth(fig, t))
		return -1;
	for (int m = 0; m < CLASS_METHODS; m++) {
		const struct config_scores *c =
			report_best(r, fig->protocol, class_methods[m], NULL);

		if (!c)
			note_missing(fig, class_methods[m]);
		else if (sum_predicted(fig, t, r, c))
			return -1;
	}
	for (int i = 0; i < fig->n_series; i++)
		if (fig->series[i].counts)
			sort_series(&fig->series[i], fig->n_classes);
	return 0;
}

static void class_free(struct class_figure *fig)
{
	for (int i = 0; i < fig->n_series; i++) {
		free(fig->series[i].counts);
		free(fig->series[i].order);
	}
}

/* Is there a share to draw: counts that are not all zero? */
static int series_drawn(const struct class_series *s)
{
	return s->counts && s->total > 0;
}

static void class_write_row(FILE *fp, const struct class_figure *fig,
			    int rank)
{
	fprintf(fp, "%d", rank + 1);
	for (int i = 0; i < fig->n_series; i++) {
		const struct class_series *s = &fig->series[i];

		if (!series_drawn(s)) {
			fputs(" NaN -", fp);
			continue;
		}
		fprintf(fp, " %.4f %d",
			100.0 * s->counts[s->order[rank]] / s->total,
			s->order[rank]);
	}
	fputc('\n', fp);
}

static void class_write_dat(FILE *fp, const struct figure *f,
			    const void *ctx)
{
	const struct class_figure *fig = ctx;

	fprintf(fp, "# %s.dat - true and predicted class shares (%% of "
		"samples) on task %s,\n# protocol %s, written by \"dembench "
		"report\".  Each series is sorted on its own in\n"
		"# decreasing order: line k holds the k-th largest share of "
		"each series and,\n# in its _class column, the class id it "
		"belongs to.  Predictions are summed\n# over the seeds at "
		"each method's learning rate in table.md; NaN: no samples.\n"
		"# columns: rank", f->name, fig->task, fig->protocol);
	for (int i = 0; i < fig->n_series; i++)
		fprintf(fp, " %s_share %s_class", fig->series[i].column,
			fig->series[i].column);
	fputc('\n', fp);
	for (int k = 0; k < fig->n_classes; k++)
		class_write_row(fp, fig, k);
}

static void class_write_title(FILE *fp, const struct class_figure *fig)
{
	char first[400], second[300];

	snprintf(first, sizeof(first), "Class shares on task %s, %s",
		 fig->task, protocol_caption(fig->protocol));
	snprintf(second, sizeof(second), "%s; each series sorted in "
		 "decreasing order%s%s%s",
		 fig->by_noadapt ? "the task with the lowest noadapt accuracy"
		 : "the first task (no noadapt results)",
		 *fig->missing ? "; " : "", fig->missing,
		 *fig->missing ? " not in the results" : "");
	fputs("set title ", fp);
	gp_title(fp, first, second);
}

/* Truth as grey bars, each method's predictions as a line. */
static void class_write_plot(FILE *fp, const struct figure *f,
			     const struct class_figure *fig)
{
	const char *sep = "plot ";

	for (int i = 0; i < fig->n_series; i++) {
		const struct class_series *s = &fig->series[i];

		if (!series_drawn(s))
			continue;
		fprintf(fp, "%s'%s.dat' using 1:%d ", sep, f->name, 2 + 2 * i);
		if (i == 0)
			fputs("with boxes ", fp);
		else if (fig->n_classes <= 50)
			fprintf(fp, "with linespoints lw 2 dt %d pt %d ps 0.9 ",
				i, s->point);
		else
			fprintf(fp, "with lines lw 2 dt %d ", i);
		fprintf(fp, "lc rgb '%s' title ", s->color);
		gp_string(fp, s->title);
		sep = ", \\\n     ";
	}
	if (*sep == 'p')
		fputs("plot NaN title 'no scored samples'", fp);
	fputc('\n', fp);
}

static void class_write_gp(FILE *fp, const struct figure *f,
			   const void *ctx)
{
	const struct class_figure *fig = ctx;

	gp_begin(fp, f, "true and predicted class shares, sorted");
	class_write_title(fp, fig);
	fprintf(fp, "set xlabel 'class rank (1 = largest share; each "
		"series ranks its own classes)'\n"
		"set ylabel 'share of samples (%%)'\n"
		"set xrange [0.5:%d.5]\n"
		"set yrange [0:*]\n"
		"# Room above the bars for the key.\n"
		"set offsets 0, 0, graph 0.3, 0\n"
		"set style fill solid 1.0 noborder\n"
		"set boxwidth 0.8 relative\n"
		"set key top right opaque box lc rgb '#d0d0d0'\n",
		fig->n_classes);
	if (fig->n_classes <= 20)
		fputs("set xtics 1\n", fp);
	fputc('\n', fp);
	class_write_plot(fp, f, fig);
}

static int class_bias_write(struct figure *f, const char *dir,
			    const struct report *r,
			    const struct result_table *t)
{
	struct class_figure fig;
	int rc = class_collect(&fig, dir, r, t);

	f->width = 800;
	f->height = 520;
	if (!rc)
		rc = write_figure(f, class_write_dat, class_write_gp, &fig);
	class_free(&fig);
	return rc;
}

/* ---- Figure 3: reward of the top class against its probability ---- */

#define REWARD_CLASSES 10
#define REWARD_POINTS 200
#define REWARD_P_MIN (1.0 / REWARD_CLASSES)	/* uniform: g = 0 */
#define REWARD_P_MAX 0.999

/* The curves drawn, when their method is registered. */
static const struct reward_spec {
	const char *method;
	const char *tunables;	/* "name=value,..." over the defaults */
} reward_specs[] = {
	{ "em", "" },
	{ "cadf", "" },
	{ "dem", "tau=0.5,alpha=1" },
	{ "dem", "tau=1,alpha=0.5" },
	{ "dem", "tau=2,alpha=1" },
	{ "adadem-norm", "" },
};

#define N_REWARD_SPECS (sizeof(reward_specs) / sizeof(reward_specs[0]))

struct reward_curve {
	const struct reward_spec *spec;
	const struct method *m;
	double tunables[METHOD_MAX_TUNABLES];
	double reward[REWARD_POINTS];
};

struct reward_figure {
	double p_top[REWARD_POINTS];
	double top_logit[REWARD_POINTS];	/* g */
	int n_curves;
	struct reward_curve curves[N_REWARD_SPECS];
};

/*
 * Returns -dL/dz_top of one method at logits z, for a batch of one
 * row.  The state starts as at a model reset and is updated from the
 * row first (observe), as the runner does for every batch.
 */
static double reward_at(const struct reward_curve *c, const double *z)
{
	const struct method *m = c->m;
	size_t state_bytes = m->state_size ?
		m->state_size(REWARD_CLASSES) : 0;
	void *state = state_bytes ? xcalloc(1, state_bytes) : NULL;
	double *work = xcalloc(METHOD_WORK(1, REWARD_CLASSES),
			       sizeof(double));
	double grad[REWARD_CLASSES];
	struct method_batch b = {
		.logits = z, .anchor = z, .batch = 1,
		.classes = REWARD_CLASSES, .tunables = c->tunables,
		.state = state, .work = work,
	};

	if (m->reset)
		m->reset(state, REWARD_CLASSES, c->tunables);
	if (m->observe)
		m->observe(&b);
	m->loss_grad(&b, grad);
	free(state);
	free(work);
	return -grad[0];
}

/* Adds the curve of spec if its method is registered and adapts. */
static int reward_add(struct reward_figure *fig,
		      const struct reward_spec *spec)
{
	struct reward_curve *c = &fig->curves[fig->n_curves];
	double z[REWARD_CLASSES] = { 0 };

	c->spec = spec;
	c->m = method_find(spec->method);
	if (!c->m || !c->m->adapts || !c->m->loss_grad)
		return 0;
	method_defaults(c->m, c->tunables);
	if (method_parse_tunables(c->m, spec->tunables, c->tunables))
		return -1;
	for (int k = 0; k < REWARD_POINTS; k++) {
		z[0] = fig->top_logit[k];
		c->reward[k] = reward_at(c, z);
	}
	fig->n_curves++;
	return 0;
}

/*
 * With z = (g, 0, ..., 0) over C classes, p_top = e^g / (e^g + C - 1),
 * so g = log((C - 1) p_top / (1 - p_top)); p_top is spaced evenly.
 */
static int reward_collect(struct reward_figure *fig)
{
	memset(fig, 0, sizeof(*fig));
	for (int k = 0; k < REWARD_POINTS; k++) {
		double p = REWARD_P_MIN + (REWARD_P_MAX - REWARD_P_MIN) *
			k / (REWARD_POINTS - 1);

		fig->p_top[k] = p;
		fig->top_logit[k] = log((REWARD_CLASSES - 1) * p / (1 - p));
	}
	for (size_t i = 0; i < N_REWARD_SPECS; i++)
		if (reward_add(fig, &reward_specs[i]))
			return -1;
	return 0;
}

/* "dem:tau=0.5,alpha=1": a column name without spaces. */
static void reward_column(const struct reward_curve *c, char *buf,
			  size_t size)
{
	snprintf(buf, size, "%s%s%s", c->m->name,
		 *c->spec->tunables ? ":" : "", c->spec->tunables);
}

static void reward_write_dat(FILE *fp, const struct figure *f,
			     const void *ctx)
{
	const struct reward_figure *fig = ctx;
	char column[80];

	fprintf(fp, "# %s.dat - reward of the top class, -dL/dz_top, "
		"against its probability p_top,\n# for %d classes and "
		"logits z = (g, 0, ..., 0), from each method's own "
		"gradient\n# on a batch of one row.  Written by \"dembench "
		"report\"; no result file is used.\n# columns: p_top g",
		f->name, REWARD_CLASSES);
	for (int i = 0; i < fig->n_curves; i++) {
		reward_column(&fig->curves[i], column, sizeof(column));
		fprintf(fp, " %s", column);
	}
	fputc('\n', fp);
	for (int k = 0; k < REWARD_POINTS; k++) {
		fprintf(fp, "%.6f %.6f", fig->p_top[k], fig->top_logit[k]);
		for (int i = 0; i < fig->n_curves; i++)
			fprintf(fp, " %.8g", fig->curves[i].reward[k]);
		fputc('\n', fp);
	}
}

static void reward_write_gp(FILE *fp, const struct figure *f,
			    const void *ctx)
{
	const struct reward_figure *fig = ctx;
	char title[120];

	gp_begin(fp, f, "reward of the top class against its probability");
	snprintf(title, sizeof(title), "Reward of the top class, %d "
		 "classes, logits (g, 0, ..., 0)", REWARD_CLASSES);
	fputs("set title ", fp);
	gp_title(fp, title, "from each method's own gradient on a batch of "
		 "one row");
	fprintf(fp, "set xlabel 'probability of the top class, p_top'\n"
		"set ylabel 'reward, -dL/dz_top'\n"
		"set xrange [%g:1]\n"
		"set key outside right top Left reverse samplen 3\n\n"
		"plot 0 with lines lc rgb '#808080' notitle", REWARD_P_MIN);
	for (int i = 0; i < fig->n_curves; i++) {
		const struct reward_curve *c = &fig->curves[i];
		char label[120];

		snprintf(label, sizeof(label), "%s%s%s%s", c->m->name,
			 *c->spec->tunables ? " (" : "", c->spec->tunables,
			 *c->spec->tunables ? ")" : "");
		fprintf(fp, ", \\\n     '%s.dat' using 1:%d with lines lw 2 "
			"lc rgb '%s' title ", f->name, 3 + i,
			palette[(i + 1) % N_COLORS]);
		gp_string(fp, label);
	}
	fputc('\n', fp);
}

static int reward_curves_write(struct figure *f)
{
	struct reward_figure *fig = xcalloc(1, sizeof(*fig));
	int rc = reward_collect(fig);

	f->width = 960;
	f->height = 520;
	if (!rc)
		rc = write_figure(f, reward_write_dat, reward_write_gp, fig);
	free(fig);
	return rc;
}

/* ---- All figures ---- */

int figures_write(const char *dir, const struct report *r,
		  const struct result_table *t)
{
	char *folder = xasprintf("%s/figures", dir);
	struct figure figs[] = {
		{ .name = "lr-tolerance", .dir = folder },
		{ .name = "class-bias", .dir = folder },
		{ .name = "reward-curves", .dir = folder },
	};
	int rc = mkdir_p(folder);

	if (!rc)
		rc = lr_tolerance_write(&figs[0], r);
	if (!rc)
		rc = class_bias_write(&figs[1], dir, r, t);
	if (!rc)
		rc = reward_curves_write(&figs[2]);
	for (size_t i = 0; !rc && i < sizeof(figs) / sizeof(figs[0]); i++)
		rc = draw_images(&figs[i]);
	free(folder);
	return rc;
}
