/* fixture.c - seeded feature files and scratch directories for tests. */
#include "fixture.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "writer.h"

struct fixture_opts fixture_defaults(const struct fixture_opts *o)
{
	struct fixture_opts d = { 0 };

	if (o)
		d = *o;
	if (!d.file)
		d.file = "fixture.h5";
	if (!d.n)
		d.n = 37;
	if (!d.n_classes)
		d.n_classes = 4;
	if (!d.dim)
		d.dim = 6;
	if (d.logits)
		d.dim = d.n_classes;
	if (!d.n_tasks)
		d.n_tasks = 3;
	if (!d.seed)
		d.seed = 1;
	return d;
}

void fixture_task_name(int t, char *buf, size_t size)
{
	snprintf(buf, size, "task_%c", 'z' - t);
}

/*
 * Each row is unit Gaussian noise plus 2 in the columns j with
 * j % C == label, so a classifier can tell the classes apart.
 */
void fixture_task(const struct fixture_opts *opts, int t, float *x,
		  int32_t *y)
{
	struct fixture_opts o = fixture_defaults(opts);
	struct rng r;
	char name[16];
	int last = t == o.n_tasks - 1;

	fixture_task_name(t, name, sizeof(name));
	rng_seed(&r, hash_string(name, o.seed));
	for (long i = 0; i < o.n; i++) {
		y[i] = (int32_t)rng_below(&r, (uint64_t)o.n_classes);
		for (int j = 0; j < o.dim; j++)
			x[i * o.dim + j] = (float)rng_normal(&r) +
					   (j % o.n_classes == y[i] ? 2.0f : 0);
	}
	if (last && o.label_out_of_range)
		y[o.n - 1] = o.n_classes;
	if (last && o.nan_feature)
		x[o.n * o.dim - 1] = NAN;
}

static float *normal_vector(struct rng *r, int n, float mean, float scale)
{
	float *v = xmalloc((size_t)n * sizeof(*v));

	for (int i = 0; i < n; i++)
		v[i] = mean + scale * (float)rng_normal(r);
	return v;
}

static void fixture_batchnorm(const struct fixture_opts *o, struct rng *r,
			      struct layer_spec *l)
{
	l->kind = LAYER_BATCHNORM;
	l->in = l->out = o->dim;
	l->running_mean = normal_vector(r, o->dim, 0, 0.1f);
	l->running_var = xmalloc((size_t)o->dim * sizeof(float));
	for (int i = 0; i < o->dim; i++)
		l->running_var[i] = 0.5f + (float)rng_uniform(r);
	l->weight = normal_vector(r, o->dim, 1, 0.1f);
	l->bias = normal_vector(r, o->dim, 0, 0.1f);
	l->eps = 1e-5;
}

static void fixture_linear(const struct fixture_opts *o, struct rng *r,
			   struct layer_spec *l)
{
	l->kind = LAYER_LINEAR;
	l->in = o->dim;
	l->out = o->n_classes + o->extra_outputs;
	l->weight = normal_vector(r, l->out * l->in, 0, 0.5f);
	l->bias = normal_vector(r, l->out, 0, 0.1f);
	if (o->inf_in_model)
		l->weight[l->out * l->in - 1] = INFINITY;
}

void fixture_model(const struct fixture_opts *opts, struct tail_spec *spec)
{
	struct fixture_opts o = fixture_defaults(opts);
	struct layer_spec *l;
	struct rng r;

	if (o.logits) {
		l = xcalloc(1, sizeof(*l));
		l->kind = LAYER_BIAS;
		l->in = l->out = o.n_classes;
		l->bias = xcalloc((size_t)o.n_classes, sizeof(float));
		spec->layers = l;
		spec->n_layers = 1;
		return;
	}
	rng_seed(&r, hash_string("model", o.seed));
	l = xcalloc(3, sizeof(*l));
	fixture_batchnorm(&o, &r, &l[0]);
	l[1].kind = LAYER_RELU;
	l[1].in = l[1].out = o.dim;
	fixture_linear(&o, &r, &l[2]);
	spec->layers = l;
	spec->n_layers = 3;
}

static int write_classes(struct features_writer *w,
			 const struct fixture_opts *o)
{
	char **names = xcalloc((size_t)o->n_classes, sizeof(*names));
	int rc;

	for (int c = 0; c < o->n_classes; c++)
		names[c] = xasprintf("class_%d", c);
	rc = features_writer_classes(w, names, o->n_classes);
	for (int c = 0; c < o->n_classes; c++)
		free(names[c]);
	free(names);
	return rc;
}

static int write_model(struct features_writer *w,
		       const struct fixture_opts *o)
{
	struct tail_spec spec = { 0, NULL };
	int rc;

	fixture_model(o, &spec);
	rc = features_writer_model(w, &spec);
	tail_spec_free(&spec);
	return rc;
}

/*
 * Writes every task; the third task (task_x) has no corruption and
 * severity attributes, so that readers see both cases.
 */
static int write_tasks(struct features_writer *w,
		       const struct fixture_opts *o)
{
	size_t cells = (size_t)o->n * (size_t)o->dim;
	float *x = xmalloc(cells * sizeof(*x));
	int32_t *y = xmalloc((size_t)o->n * sizeof(*y));
	char name[16], corruption[32];
	int rc = 0;

	for (int t = 0; t < o->n_tasks && rc == 0; t++) {
		fixture_task_name(t, name, sizeof(name));
		snprintf(corruption, sizeof(corruption), "corruption_%c",
			 'z' - t);
		fixture_task(o, t, x, y);
		rc = features_writer_task(w, name, x, y, o->n, o->dim,
					  o->logits, t == 2 ? NULL : corruption,
					  t + 1);
	}
	free(x);
	free(y);
	return rc;
}

char *fixture_write(const char *dir, const struct fixture_opts *opts)
{
	struct fixture_opts o = fixture_defaults(opts);
	char *path = xasprintf("%s/%s", dir, o.file);
	struct features_writer *w;

	w = features_writer_create(path, "dembench test fixture");
	if (!w)
		goto fail;
	if ((!o.no_classes && write_classes(w, &o) < 0) ||
	    write_model(w, &o) < 0 || write_tasks(w, &o) < 0) {
		features_writer_abort(w);
		goto fail;
	}
	if (features_writer_close(w) < 0)
		goto fail;
	return path;
fail:
	free(path);
	return NULL;
}

char *fixture_tmpdir(void)
{
	char dir[] = "/tmp/dembench-test-XXXXXX";

	if (!mkdtemp(dir)) {
		err_set("cannot create a directory under /tmp: %s",
			strerror(errno));
		return NULL;
	}
	return xstrdup(dir);
}

void fixture_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *path;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		unlink(path);
		free(path);
	}
	closedir(d);
	rmdir(dir);
}
