/* suite.c - parse suite files with inih and expand them into runs. */
#include "suite.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

static const char *const suite_keys[] = {
	"data", "tasks", "protocols", "methods", "lrs", "seeds",
	"batch_size", "optimizer", "momentum", "nesterov", "weight_decay",
	"params", "margin", NULL
};

/*
 * A suite as suite_load() allocates it: the public part first, so that
 * a struct suite pointer from suite_load() points to a suite_file, and
 * the lines that messages after parsing refer to.
 */
struct suite_file {
	struct suite suite;
	int tasks_line;		/* line of the 'tasks' key, 0 if absent */
};

/* The suite_file around a suite that suite_load() returned. */
static struct suite_file *suite_file_of(const struct suite *s)
{
	return (struct suite_file *)((char *)s -
				     offsetof(struct suite_file, suite));
}

/* One key of a [method] section, kept until the methods are known. */
struct section {
	char *name;
	char *key;
	char *value;
	int line;
};

/*
 * The suite file as inih reads it, through read_line(): the number of
 * the line being parsed and its first characters, for messages.
 */
struct source {
	FILE *fp;
	int line;
	int line_done;		/* the last chunk read ended a line */
	char text[72];
};

struct parse {
	struct suite_file *sf;
	struct suite *s;
	struct source in;
	char error[1024];
	int error_line;		/* line of an error found after parsing */
	int n_sections;
	struct section *sections;
	unsigned seen;		/* bit per [suite] key already set */
};

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int too_many_values(struct parse *p, const char *key)
{
	snprintf(p->error, sizeof(p->error), "%s: more than %d values; "
		 "split the sweep into several suites", key, SUITE_MAX_LIST);
	return -1;
}

/*
 * Splits a comma-separated list in place into at most SUITE_MAX_LIST
 * trimmed items.  Returns the count, or -1 with the message in
 * p->error for an empty list, an empty item ("1,,2" or a trailing
 * comma) or too many items.  expected describes a valid list.
 */
static int split_items(struct parse *p, const char *key, char *value,
		       char **items, const char *expected)
{
	int n = 0;

	if (!*value) {
		snprintf(p->error, sizeof(p->error), "%s: empty list; "
			 "expected %s", key, expected);
		return -1;
	}
	for (char *item = value, *comma; item; item = comma) {
		comma = strchr(item, ',');
		if (comma)
			*comma++ = '\0';
		if (n == SUITE_MAX_LIST)
			return too_many_values(p, key);
		items[n] = trim(item);
		if (!*items[n]) {
			snprintf(p->error, sizeof(p->error), "%s: empty item "
				 "%d in the list; expected %s", key, n + 1,
				 expected);
			return -1;
		}
		n++;
	}
	return n;
}

static int parse_double(const char *text, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(text, &end);
	return *text && !*end && !errno && isfinite(*out) ? 0 : -1;
}

/*
 * Reads "a .. b step s" into values; returns the count, -1 if the text
 * is not a valid range, or -2 if it has more than max values.
 */
static int parse_range(const char *text, double *values, int max)
{
	double a, b, step;
	char tail[16];
	int n;

	if (sscanf(text, "%lf .. %lf step %lf %15s", &a, &b, &step, tail) != 3)
		return -1;
	if (!isfinite(a) || !isfinite(b) || !(step > 0) || b < a)
		return -1;

	/* Count in double first: a tiny step would overflow an int. */
	if (floor((b - a) / step + 1e-9) + 1 > max)
		return -2;
	n = (int)floor((b - a) / step + 1e-9) + 1;
	for (int i = 0; i < n; i++)
		values[i] = round((a + i * step) * 1e12) / 1e12;
	return n;
}

#define NUMBERS_EXPECTED "numbers or ranges 'a .. b step s', separated " \
	"by commas"

/* Parses one item of a list of numbers; returns parse_range()'s codes. */
static int parse_item(struct parse *p, const char *key, const char *item,
		      double *values, int max)
{
	int got;

	if (!strstr(item, "..")) {
		if (max < 1)
			return too_many_values(p, key);
		if (!parse_double(item, values))
			return 1;
		snprintf(p->error, sizeof(p->error), "%s: invalid value '%s'; "
			 "expected " NUMBERS_EXPECTED, key, item);
		return -1;
	}
	got = parse_range(item, values, max);
	if (got == -2)
		return too_many_values(p, key);
	if (got <= 0)
		snprintf(p->error, sizeof(p->error), "%s: invalid value '%s'; "
			 "expected a range 'a .. b step s' of finite numbers "
			 "with a <= b and s > 0", key, item);
	return got;
}

/*
 * Parses a list of numbers, each item a number or a range.  Returns
 * the count, or -1 with the message in p->error.
 */
static int parse_numbers(struct parse *p, const char *key, const char *text,
			 double *values, int max)
{
	char *copy = xstrdup(text);
	char *items[SUITE_MAX_LIST];
	int n_items = split_items(p, key, copy, items, NUMBERS_EXPECTED);
	int n = 0;

	for (int i = 0; i < n_items; i++) {
		int got = parse_item(p, key, items[i], values + n, max - n);

		if (got <= 0) {
			n_items = -1;
			break;
		}
		n += got;
	}
	free(copy);
	return n_items < 0 ? -1 : n;
}

/*
 * Returns the index of the first value that repeats an earlier one, or
 * -1.  With as_id set, values are compared as run ids print them (%g,
 * six significant digits), because two values that print alike would
 * give two runs the same id and so the same result file.
 */
static int find_duplicate(const double *v, int n, int as_id)
{
	static char text[SUITE_MAX_LIST][32];

	for (int i = 0; i < n && as_id; i++)
		snprintf(text[i], sizeof(text[i]), "%g", v[i]);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (v[i] == v[j] || (as_id && !strcmp(text[i], text[j])))
				return i;
	return -1;
}

/* Records a parse error; returns 0, which stops inih at this line. */
static int fail(struct parse *p, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	return 0;
}

static int set_lrs(struct parse *p, const char *value)
{
	double v[SUITE_MAX_LIST];
	int n = parse_numbers(p, "lrs", value, v, SUITE_MAX_LIST), dup;
	struct suite *s = p->s;

	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (!(v[i] > 0))
			return fail(p, "lrs: invalid learning rate %g in '%s'; "
				    "expected a number > 0", v[i], value);
	if ((dup = find_duplicate(v, n, 1)) >= 0)
		return fail(p, "lrs: '%s' lists a learning rate twice: %g; "
			    "expected each learning rate once (run ids show "
			    "6 significant digits)", value, v[dup]);
	s->lrs = xmalloc((size_t)n * sizeof(double));
	memcpy(s->lrs, v, (size_t)n * sizeof(double));
	s->n_lrs = n;
	return 1;
}

static int set_seeds(struct parse *p, const char *value)
{
	double v[SUITE_MAX_LIST];
	int n = parse_numbers(p, "seeds", value, v, SUITE_MAX_LIST), dup;
	struct suite *s = p->s;

	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (v[i] < 0 || v[i] != floor(v[i]) || v[i] > 1e15)
			return fail(p, "seeds: invalid seed %g in '%s'; "
				    "expected whole numbers from 0 to 1e15",
				    v[i], value);
	if ((dup = find_duplicate(v, n, 0)) >= 0)
		return fail(p, "seeds: '%s' lists a seed twice: %g; expected "
			    "each seed once", value, v[dup]);
	s->seeds = xmalloc((size_t)n * sizeof(uint64_t));
	for (int i = 0; i < n; i++)
		s->seeds[i] = (uint64_t)v[i];
	s->n_seeds = n;
	return 1;
}

static int set_protocols(struct parse *p, char *value)
{
	char *items[SUITE_MAX_LIST];
	int n = split_items(p, "protocols", value, items, "one or more of "
			    "single, continual, gradual");
	struct suite *s = p->s;

	if (n < 0)
		return 0;
	if (n > PROTOCOL_COUNT)
		return fail(p, "protocols: %d items; expected each of single, "
			    "continual and gradual at most once", n);
	for (int i = 0; i < n; i++) {
		int k = protocol_parse(items[i]);

		if (k < 0)
			return fail(p, "protocols: unknown protocol '%s'; "
				    "expected single, continual or gradual",
				    items[i]);
		for (int j = 0; j < i; j++)
			if (s->protocols[j] == (enum protocol)k)
				return fail(p, "protocols: '%s' is listed "
					    "twice", items[i]);
		s->protocols[i] = (enum protocol)k;
	}
	s->n_protocols = n;
	return 1;
}

static const char *method_names(void)
{
	static char buf[1024];
	size_t used = 0;

	for (int i = 0; method_registry[i] && used < sizeof(buf); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
					 "%s%s", i ? ", " : "",
					 method_registry[i]->name);
	return buf;
}

/*
 * Fills sm for a name of the methods list: a registered method, or
 * NAME* for the oracle search of a method that adapts and has tunables.
 * Returns 0, or -1 if the name is unknown.
 */
static int set_method(struct suite_method *sm, const char *name)
{
	size_t len = strlen(name);
	char *base = xstrdup(name);

	sm->oracle = len > 1 && name[len - 1] == '*';
	if (sm->oracle)
		base[len - 1] = '\0';
	sm->method = method_find(base);
	free(base);
	if (!sm->method ||
	    (sm->oracle && (!sm->method->adapts || !sm->method->n_tunables)))
		return -1;
	sm->label = xstrdup(name);
	sm->search_label = xasprintf("%s-search", name);
	return 0;
}

static int set_methods(struct parse *p, char *value)
{
	char *items[SUITE_MAX_LIST];
	int n = split_items(p, "methods", value, items, "method names, see "
			    "'dembench methods'");
	struct suite *s = p->s;

	if (n < 0)
		return 0;
	s->methods = xcalloc((size_t)n, sizeof(*s->methods));
	for (int i = 0; i < n; i++) {
		struct suite_method *sm = &s->methods[i];

		for (int j = 0; j < i; j++)
			if (!strcmp(s->methods[j].label, items[i]))
				return fail(p, "methods: '%s' is listed "
					    "twice", items[i]);
		if (set_method(sm, items[i]))
			return fail(p, "methods: unknown method '%s'; "
				    "known methods: %s, and NAME* for the "
				    "oracle search of a method with "
				    "tunables (dem*)", items[i],
				    method_names());
		s->n_methods = i + 1;
	}
	return 1;
}

static int set_int(struct parse *p, const char *key, const char *value,
		   int min, int max, int *out)
{
	double v;
	char range[64];

	if (parse_double(value, &v) || v != floor(v) || v < min || v > max) {
		snprintf(range, sizeof(range), "a whole number in %d..%d",
			 min, max);
		snprintf(p->error, sizeof(p->error),
			 "%s: invalid value '%s'; expected %s", key, value,
			 range);
		return 0;
	}
	*out = (int)v;
	return 1;
}

static int set_real(struct parse *p, const char *key, const char *value,
		    double *out)
{
	if (parse_double(value, out) || *out < 0)
		return fail(p, "%s: invalid value '%s'; expected a number "
			    ">= 0", key, value);
	return 1;
}

/* The index of name among the [suite] keys, or -1. */
static int suite_key_index(const char *name)
{
	for (int i = 0; suite_keys[i]; i++)
		if (!strcmp(suite_keys[i], name))
			return i;
	return -1;
}

static const char *suite_key_list(void)
{
	static char buf[256];
	size_t used = 0;

	for (int i = 0; suite_keys[i]; i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
					 "%s%s", i ? ", " : "", suite_keys[i]);
	return buf;
}

static int set_suite_key(struct parse *p, const char *name, char *value)
{
	struct suite *s = p->s;
	int k;

	if (!strcmp(name, "data")) {
		free(s->data);
		s->data = xstrdup(value);
		return 1;
	}
	if (!strcmp(name, "tasks")) {
		char *items[SUITE_MAX_LIST];
		int n = split_items(p, "tasks", value, items, "task names "
				    "or shell globs, or no 'tasks' line for "
				    "every task");

		if (n < 0)
			return 0;
		p->sf->tasks_line = p->in.line;
		s->task_patterns = xcalloc((size_t)n, sizeof(char *));
		for (int i = 0; i < n; i++)
			s->task_patterns[i] = xstrdup(items[i]);
		s->n_task_patterns = n;
		return 1;
	}
	if (!strcmp(name, "protocols"))
		return set_protocols(p, value);
	if (!strcmp(name, "methods"))
		return set_methods(p, value);
	if (!strcmp(name, "lrs"))
		return set_lrs(p, value);
	if (!strcmp(name, "seeds"))
		return set_seeds(p, value);
	if (!strcmp(name, "batch_size"))
		return set_int(p, name, value, 2, 1 << 20, &s->batch_size);
	if (!strcmp(name, "nesterov"))
		return set_int(p, name, value, 0, 1, &s->optim.nesterov);
	if (!strcmp(name, "momentum"))
		return set_real(p, name, value, &s->optim.momentum);
	if (!strcmp(name, "weight_decay"))
		return set_real(p, name, value, &s->optim.weight_decay);
	if (!strcmp(name, "margin"))
		return set_real(p, name, value, &s->margin);
	if (!strcmp(name, "optimizer")) {
		if ((k = optim_kind_parse(value)) < 0)
			return fail(p, "optimizer: unknown optimizer '%s'; "
				    "expected sgd or adam", value);
		s->optim.kind = (enum optim_kind)k;
		return 1;
	}
	if (!strcmp(name, "params")) {
		if ((k = param_set_parse(value)) < 0)
			return fail(p, "params: unknown parameter set '%s'; "
				    "expected batchnorm, linear or all",
				    value);
		s->params = (enum param_set)k;
		return 1;
	}
	return fail(p, "unknown key '%s' in [suite]; expected one of: %s",
		    name, suite_key_list());
}

static int handle(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse *p = user;
	char *copy;
	int ok, bit;

	if (!*section)
		return fail(p, "key '%s' comes before any section; expected "
			    "it under [suite] or a method's section", name);
	copy = xstrdup(value);
	if (!strcmp(section, "suite")) {
		bit = suite_key_index(name);
		if (bit >= 0 && (p->seen & (1u << bit))) {
			free(copy);
			return fail(p, "[suite] sets '%s' twice; keep one "
				    "line", name);
		}
		ok = set_suite_key(p, name, trim(copy));
		if (bit >= 0)
			p->seen |= 1u << bit;
		free(copy);
		return ok;
	}
	p->sections = xrealloc(p->sections, (size_t)(p->n_sections + 1) *
			       sizeof(*p->sections));
	p->sections[p->n_sections].name = xstrdup(section);
	p->sections[p->n_sections].key = xstrdup(name);
	p->sections[p->n_sections].value = copy;
	p->sections[p->n_sections].line = p->in.line;
	p->n_sections++;
	return 1;
}

static struct suite_method *find_suite_method(struct suite *s,
					      const char *label)
{
	for (int i = 0; i < s->n_methods; i++)
		if (!strcmp(s->methods[i].label, label))
			return &s->methods[i];
	return NULL;
}

/*
 * Strips the "METHOD: " that method_check_tunable() puts before its
 * message, since the section name already says which method it is.
 */
static const char *without_method_name(const struct method *m,
				       const char *msg)
{
	size_t len = strlen(m->name);

	if (!strncmp(msg, m->name, len) && !strncmp(msg + len, ": ", 2))
		return msg + len + 2;
	return msg;
}

/* Applies one key of a [method] section to that method's values. */
static int apply_section(struct parse *p, const struct section *sec)
{
	struct suite_method *sm = find_suite_method(p->s, sec->name);
	const struct method *m;
	struct tunable_values *tv;
	double v[SUITE_MAX_LIST], lr;
	char known[256], key[160];
	int k, n, dup;

	p->error_line = sec->line;
	if (!sm)
		return fail(p, "section [%s] names no method of the suite; "
			    "add it to 'methods' in [suite] or remove the "
			    "section", sec->name);
	m = sm->method;
	if (!strcmp(sec->key, "lr") ||
	    (sm->oracle && !strcmp(sec->key, "search_lr"))) {
		if (parse_double(sec->value, &lr) || !(lr > 0))
			return fail(p, "[%s] %s: invalid value '%s'; expected "
				    "a number > 0", sec->name, sec->key,
				    sec->value);
		*(sec->key[0] == 'l' ? &sm->lr : &sm->search_lr) = lr;
		return 1;
	}
	k = method_tunable_index(m, sec->key);
	if (k < 0) {
		method_list_tunables(m, known, sizeof(known));
		return fail(p, "[%s] unknown tunable '%s'; expected: lr%s%s%s",
			    sec->name, sec->key, sm->oracle ? ", search_lr" : "",
			    m->n_tunables ? ", " : "", known);
	}
	snprintf(key, sizeof(key), "[%s] %s", sec->name, sec->key);
	n = parse_numbers(p, key, sec->value, v, SUITE_MAX_LIST);
	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (method_check_tunable(m, k, v[i]))
			return fail(p, "[%s] %s", sec->name,
				    without_method_name(m, err_msg()));
	if ((dup = find_duplicate(v, n, 1)) >= 0)
		return fail(p, "%s: '%s' lists a value twice: %g; expected "
			    "each value once (run ids show 6 significant "
			    "digits)", key, sec->value, v[dup]);
	tv = &sm->tunables[k];
	free(tv->values);
	tv->values = xmalloc((size_t)n * sizeof(double));
	memcpy(tv->values, v, (size_t)n * sizeof(double));
	tv->n = n;
	return 1;
}

/*
 * Gives each tunable the suite did not set its default: the search
 * grid for an oracle, where the method declares one, else the single
 * default value.
 */
static void default_values(struct suite_method *sm)
{
	const struct method *m = sm->method;

	for (int k = 0; k < m->n_tunables; k++) {
		const struct tunable *t = &m->tunables[k];
		struct tunable_values *tv = &sm->tunables[k];
		double grid[SUITE_MAX_LIST];
		char range[96];

		if (tv->n)
			continue;
		snprintf(range, sizeof(range), "%.17g .. %.17g step %.17g",
			 t->search_min, t->search_max, t->search_step);
		if (sm->oracle && t->search_step > 0)
			tv->n = parse_range(range, grid, SUITE_MAX_LIST);
		else
			tv->n = 0;
		if (tv->n <= 0) {
			grid[0] = t->def;
			tv->n = 1;
		}
		tv->values = xmalloc((size_t)tv->n * sizeof(double));
		memcpy(tv->values, grid, (size_t)tv->n * sizeof(double));
	}
}

/* Checks what no single line can: required keys and the sections. */
static int finish(struct parse *p)
{
	struct suite *s = p->s;
	int adapts = 0;

	if (!s->data)
		return fail(p, "missing key 'data' in [suite]: the feature "
			    "file to read, e.g. data = data/fmnist-c.h5");
	if (!s->n_methods)
		return fail(p, "missing key 'methods' in [suite], e.g. "
			    "methods = noadapt, norm, em");
	for (int i = 0; i < s->n_methods; i++)
		adapts |= s->methods[i].method->adapts &&
			  !s->methods[i].lr;
	if (adapts && !s->n_lrs)
		return fail(p, "missing key 'lrs' in [suite]: the learning "
			    "rates of the methods that adapt, e.g. "
			    "lrs = 1e-3, 1e-2");
	for (int i = 0; i < p->n_sections; i++)
		if (!apply_section(p, &p->sections[i]))
			return 0;
	p->error_line = 0;
	for (int i = 0; i < s->n_methods; i++) {
		const struct suite_method *sm = &s->methods[i];

		default_values(&s->methods[i]);
		if (sm->oracle && !sm->search_lr && !find_suite_method(s, "em"))
			return fail(p, "%s searches at the learning rate where "
				    "em is best, but em is not in 'methods'; "
				    "add em or set search_lr in [%s]",
				    sm->label, sm->label);
	}
	return 1;
}

static void defaults(struct suite *s)
{
	optim_defaults(&s->optim);
	s->n_protocols = 1;
	s->protocols[0] = PROTOCOL_SINGLE;
	s->batch_size = 64;
	s->params = PARAMS_BATCHNORM;
	s->margin = 2.0;
}

static char *suite_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char *name = xstrdup(base ? base + 1 : path);
	size_t n = strlen(name);

	if (n > 4 && !strcmp(name + n - 4, ".ini"))
		name[n - 4] = '\0';
	return name;
}

static void free_sections(struct parse *p)
{
	for (int i = 0; i < p->n_sections; i++) {
		free(p->sections[i].name);
		free(p->sections[i].key);
		free(p->sections[i].value);
	}
	free(p->sections);
}

/*
 * Reads the next chunk of a line for inih, as fgets() does, and counts
 * the lines.  inih calls the handler for a line before it reads the
 * next one, so in->line is the line of the key being handled.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct source *in = stream;
	size_t len;

	if (!fgets(str, num, in->fp))
		return NULL;
	if (in->line_done) {
		in->line++;
		snprintf(in->text, sizeof(in->text), "%s", str);
		in->text[strcspn(in->text, "\r\n")] = '\0';
	}
	len = strlen(str);
	in->line_done = len > 0 && str[len - 1] == '\n';
	return str;
}

/*
 * Rejects a file that is not text, such as a feature file given in
 * place of the suite: inih would report its first line as invalid.
 */
static int check_text(FILE *fp, const char *path)
{
	static const char hdf5_signature[8] = "\211HDF\r\n\032\n";
	char head[8];
	long column = 0;
	int c, line = 1;

	if (fread(head, 1, sizeof(head), fp) == sizeof(head) &&
	    !memcmp(head, hdf5_signature, sizeof(head))) {
		err_set("%s is an HDF5 file, not a suite file; name it in "
			"'data =' of a suite (docs/suite-format.md), or run "
			"'dembench inspect %s'", path, path);
		return -1;
	}
	rewind(fp);
	while ((c = getc(fp)) != EOF) {
		column = c == '\n' ? 0 : column + 1;
		line += c == '\n';
		if (c == 0 || c == 0x7f ||
		    (c < 0x20 && !strchr("\t\n\v\f\r", c))) {
			err_set("%s:%d: byte 0x%02x at column %ld is not text; "
				"expected a suite file in INI text "
				"(docs/suite-format.md)", path, line, c, column);
			return -1;
		}
	}
	rewind(fp);
	return 0;
}

/* Opens a suite file; NULL with err_set() if it cannot be one. */
static FILE *open_suite_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	struct stat st;

	if (!fp) {
		err_set("cannot open suite file %s: %s", path,
			strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode))
		err_set("%s is a directory; expected a suite file (INI, "
			"docs/suite-format.md)", path);
	else if (fstat(fileno(fp), &st) || !S_ISREG(st.st_mode))
		err_set("%s is not a regular file; expected a suite file "
			"(INI, docs/suite-format.md)", path);
	else if (check_text(fp, path) == 0)
		return fp;
	fclose(fp);
	return NULL;
}

/* Records the message of a failed parse: line is inih's result. */
static void parse_error(const struct parse *p, const char *path, int line)
{
	if (line < 0)
		err_set("cannot read suite file %s", path);
	else if (line > 0 && p->error[0])
		err_set("%s:%d: %s", path, line, p->error);
	else if (line > 0)
		err_set("%s:%d: invalid line '%s'; expected 'key = value', "
			"'[section]' or a comment starting with ';' or '#'",
			path, line, p->in.line == line ? p->in.text : "");
	else if (p->error_line)
		err_set("%s:%d: %s", path, p->error_line, p->error);
	else
		err_set("%s: %s", path, p->error);
}

static int parse_file(struct parse *p, const char *path)
{
	FILE *fp = open_suite_file(path);
	int line;

	if (!fp)
		return -1;
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;

	/* Debian's build reads lines into 200 bytes unless configured. */
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = 1 << 20;
	p->in.fp = fp;
	p->in.line_done = 1;
	line = ini_parse_stream(read_line, &p->in, handle, p);
	fclose(fp);
	if (line == 0 && finish(p))
		return 0;
	parse_error(p, path, line);
	return -1;
}

struct suite *suite_load(const char *path)
{
	struct parse p = { 0 };
	struct suite_file *sf = xcalloc(1, sizeof(*sf));
	struct suite *s = &sf->suite;

	p.sf = sf;
	p.s = s;
	s->path = xstrdup(path);
	s->name = suite_name(path);
	defaults(s);
	if (parse_file(&p, path)) {
		free_sections(&p);
		suite_free(s);
		return NULL;
	}
	free_sections(&p);

	/* Without these keys: seed 1 and every task of the file. */
	if (!s->n_seeds) {
		s->seeds = xmalloc(sizeof(uint64_t));
		s->seeds[0] = 1;
		s->n_seeds = 1;
	}
	if (!s->n_task_patterns) {
		s->task_patterns = xmalloc(sizeof(char *));
		s->task_patterns[0] = xstrdup("*");
		s->n_task_patterns = 1;
	}
	return s;
}

void suite_free(struct suite *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n_methods; i++) {
		for (int k = 0; k < METHOD_MAX_TUNABLES; k++)
			free(s->methods[i].tunables[k].values);
		free(s->methods[i].label);
		free(s->methods[i].search_label);
	}
	for (int i = 0; i < s->n_task_patterns; i++)
		free(s->task_patterns[i]);
	free(s->task_patterns);
	free(s->methods);
	free(s->lrs);
	free(s->seeds);
	free(s->data);
	free(s->name);
	free(s->path);
	free(suite_file_of(s));
}

int suite_tasks(const struct suite *s, const struct features *f,
		int **tasks)
{
	int *out = xmalloc((size_t)f->n_tasks * sizeof(int));
	int n = 0;
	char line[16] = "";

	if (suite_file_of(s)->tasks_line)
		snprintf(line, sizeof(line), ":%d",
			 suite_file_of(s)->tasks_line);
	for (int k = 0; k < s->n_task_patterns; k++) {
		int matched = 0;

		for (int t = 0; t < f->n_tasks; t++)
			if (!fnmatch(s->task_patterns[k], f->tasks[t].name, 0))
				matched = 1;
		if (!matched) {
			err_set("%s%s: tasks: '%s' matches no task of %s; "
				"run 'dembench inspect %s' to list them",
				s->path, line, s->task_patterns[k], f->path,
				f->path);
			free(out);
			return -1;
		}
	}

	/* The file's declared order, whatever the order of the patterns. */
	for (int t = 0; t < f->n_tasks; t++)
		for (int k = 0; k < s->n_task_patterns; k++)
			if (!fnmatch(s->task_patterns[k], f->tasks[t].name,
				     0)) {
				out[n++] = t;
				break;
			}
	*tasks = out;
	return n;
}

/* Appends "-name=value" for each tunable, in the method's order. */
static void format_id(struct run_spec *r)
{
	size_t used = (size_t)snprintf(r->id, sizeof(r->id), "%s-%s",
				       protocol_name(r->protocol), r->label);

	for (int k = 0; k < r->method->n_tunables; k++)
		used += (size_t)snprintf(r->id + used, sizeof(r->id) - used,
					 "-%s=%g", r->method->tunables[k].name,
					 r->tunables[k]);
	if (r->method->adapts)
		used += (size_t)snprintf(r->id + used, sizeof(r->id) - used,
					 "-lr=%g", r->lr);
	snprintf(r->id + used, sizeof(r->id) - used, "-seed=%llu",
		 (unsigned long long)r->seed);
}

/* Number of points in the grid of a method's tunable values. */
static int grid_size(const struct suite_method *sm)
{
	int n = 1;

	for (int k = 0; k < sm->method->n_tunables; k++)
		n *= sm->tunables[k].n;
	return n;
}

/* Sets the tunables of point g of the grid (last tunable fastest). */
static void grid_point(const struct suite_method *sm, int g, double *out)
{
	for (int k = sm->method->n_tunables - 1; k >= 0; k--) {
		const struct tunable_values *tv = &sm->tunables[k];

		out[k] = tv->values[g % tv->n];
		g /= tv->n;
	}
}

/* The learning rates a method runs at: none, its fixed one or the grid. */
static int method_lrs(const struct suite *s, const struct suite_method *sm,
		      const double **lrs, double *fixed)
{
	static const double none = 0;

	if (!sm->method->adapts) {
		*lrs = &none;
		return 1;
	}
	if (sm->lr) {
		*fixed = sm->lr;
		*lrs = fixed;
		return 1;
	}
	*lrs = s->lrs;
	return s->n_lrs;
}

/* Appends a zeroed run to *runs, growing it by doubling. */
static struct run_spec *new_run(struct run_spec **runs, int *n)
{
	struct run_spec *r;

	if ((*n & (*n - 1)) == 0)
		*runs = xrealloc(*runs, (size_t)(*n ? 2 * *n : 1) *
				 sizeof(**runs));
	r = &(*runs)[(*n)++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* Appends the runs of one tunable point: each learning rate and seed. */
static void add_runs(const struct suite *s, const struct suite_method *sm,
		     enum protocol protocol, const double *point,
		     struct run_spec **runs, int *n)
{
	const double *lrs;
	double fixed;
	int n_lrs = method_lrs(s, sm, &lrs, &fixed);

	for (int l = 0; l < n_lrs; l++)
		for (int k = 0; k < s->n_seeds; k++) {
			struct run_spec *r = new_run(runs, n);

			r->protocol = protocol;
			r->method = sm->method;
			r->label = sm->label;
			memcpy(r->tunables, point, sizeof(r->tunables));
			r->lr = lrs[l];
			r->seed = s->seeds[k];
			format_id(r);
		}
}

int suite_expand(const struct suite *s, struct run_spec **runs)
{
	int n = 0;
	struct run_spec *out = NULL;

	for (int p = 0; p < s->n_protocols; p++)
	for (int mi = 0; mi < s->n_methods; mi++) {
		const struct suite_method *sm = &s->methods[mi];
		double point[METHOD_MAX_TUNABLES];

		if (sm->oracle)
			continue;
		for (int g = 0; g < grid_size(sm); g++) {
			grid_point(sm, g, point);
			add_runs(s, sm, s->protocols[p], point, &out, &n);
		}
	}
	*runs = out;
	return n;
}

void suite_expand_oracle(const struct suite *s, const struct suite_method *sm,
			 enum protocol protocol, const double *tunables,
			 struct run_spec **runs, int *n)
{
	add_runs(s, sm, protocol, tunables, runs, n);
}

void suite_expand_search(const struct suite *s, const struct suite_method *sm,
			 enum protocol protocol, double lr,
			 struct run_spec **runs, int *n)
{
	for (int g = 0; g < grid_size(sm); g++) {
		struct run_spec *r = new_run(runs, n);

		r->protocol = protocol;
		r->method = sm->method;
		r->label = sm->search_label;
		r->selection_only = 1;
		grid_point(sm, g, r->tunables);
		r->lr = lr;
		r->seed = s->seeds[0];
		format_id(r);
	}
}

void suite_run_config(const struct suite *s, const struct run_spec *spec,
		      const int *tasks, int n_tasks, struct run_config *c)
{
	memset(c, 0, sizeof(*c));
	c->method = spec->method;
	memcpy(c->tunables, spec->tunables, sizeof(c->tunables));
	c->optim = s->optim;
	c->optim.lr = spec->lr;
	c->params = s->params;
	c->protocol = spec->protocol;
	c->batch_size = s->batch_size;
	c->seed = spec->seed;
	c->selection_only = spec->selection_only;
	c->tasks = tasks;
	c->n_tasks = n_tasks;
}
