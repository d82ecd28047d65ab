/*
 * test_loader.c - the feature-file reader and writer (loaders/).
 *
 * Each malformed-file case starts from a valid fixture, breaks one
 * thing (through a fixture knob, or by editing the file with the HDF5
 * C API), and checks that features_open() or features_check_task()
 * rejects it with a message that starts with "FILE: HDF5-PATH".  The
 * other tests write files, read them back and compare every value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "feature_file.h"
#include "fixture.h"
#include "util.h"
#include "writer.h"

/* The scratch directory of this run, made by the group setup. */
static char *tmp_dir;

/* ---- editing files with the HDF5 C API ---- */

/*
 * Returns a string type: variable length for width 0, else fixed
 * length and padded with NULs, as h5py stores numpy bytes_.
 */
static hid_t string_type(size_t width)
{
	hid_t type = H5Tcopy(H5T_C_S1);

	assert_true(H5Tset_size(type, width ? width : H5T_VARIABLE) >= 0);
	if (width)
		assert_true(H5Tset_strpad(type, H5T_STR_NULLPAD) >= 0);
	return type;
}

static void delete_link(hid_t file, const char *path)
{
	assert_true(H5Ldelete(file, path, H5P_DEFAULT) >= 0);
}

static void move_link(hid_t file, const char *from, const char *to)
{
	assert_true(H5Lmove(file, from, file, to, H5P_DEFAULT,
			    H5P_DEFAULT) >= 0);
}

/* Replaces (or creates) dataset path; values may be NULL. */
static void put_dataset(hid_t file, const char *path, hid_t type,
			int rank, const hsize_t *dims, const void *values)
{
	hid_t space, dset;

	if (H5Lexists(file, path, H5P_DEFAULT) > 0)
		delete_link(file, path);
	space = H5Screate_simple(rank, dims, NULL);
	assert_true(space >= 0);
	dset = H5Dcreate2(file, path, type, space, H5P_DEFAULT, H5P_DEFAULT,
			  H5P_DEFAULT);
	assert_true(dset >= 0);
	if (values)
		assert_true(H5Dwrite(dset, type, H5S_ALL, H5S_ALL,
				     H5P_DEFAULT, values) >= 0);
	H5Dclose(dset);
	H5Sclose(space);
}

/* Replaces (or creates) attribute name of obj; n < 0 means scalar. */
static void put_attr(hid_t file, const char *obj, const char *name,
		     hid_t type, hssize_t n, const void *value)
{
	hsize_t dims[1] = { (hsize_t)(n < 0 ? 1 : n) };
	hid_t space, attr;

	if (H5Aexists_by_name(file, obj, name, H5P_DEFAULT) > 0)
		assert_true(H5Adelete_by_name(file, obj, name,
					      H5P_DEFAULT) >= 0);
	space = n < 0 ? H5Screate(H5S_SCALAR)
		      : H5Screate_simple(1, dims, NULL);
	attr = H5Acreate_by_name(file, obj, name, type, space, H5P_DEFAULT,
				 H5P_DEFAULT, H5P_DEFAULT);
	assert_true(attr >= 0);
	assert_true(H5Awrite(attr, type, value) >= 0);
	H5Aclose(attr);
	H5Sclose(space);
}

static void put_attr_string(hid_t file, const char *obj, const char *name,
			    const char *value)
{
	hid_t type = string_type(0);

	put_attr(file, obj, name, type, -1, &value);
	H5Tclose(type);
}

static void put_attr_int(hid_t file, const char *obj, const char *name,
			 int value)
{
	put_attr(file, obj, name, H5T_NATIVE_INT, -1, &value);
}

/* Writes the first n of names as the /tasks order attribute. */
static void put_order(hid_t file, const char **names, int n)
{
	hid_t type = string_type(0);

	put_attr(file, "/tasks", "order", type, n, names);
	H5Tclose(type);
}

/* Replaces a model vector with n copies of value. */
static void put_vector(hid_t file, const char *path, int n, float value)
{
	float v[64];
	hsize_t dims[1] = { (hsize_t)n };

	assert_true(n <= 64);
	for (int i = 0; i < n; i++)
		v[i] = value;
	put_dataset(file, path, H5T_NATIVE_FLOAT, 1, dims, v);
}

/* ---- malformed files ---- */

/*
 * The default fixture: tasks task_z, task_y, task_x of N = 37 rows,
 * D = 6, C = 4, and the tail BatchNorm, ReLU, Linear.
 */
enum { N = 37, D = 6, C = 4 };

static void no_tasks_group(hid_t f)
{
	delete_link(f, "/tasks");
}

static void no_labels(hid_t f)
{
	delete_link(f, "/tasks/task_y/labels");
}

static void labels_rank_2(hid_t f)
{
	hsize_t dims[2] = { N, 1 };

	put_dataset(f, "/tasks/task_y/labels", H5T_NATIVE_INT, 2, dims,
		    NULL);
}

static void string_features(hid_t f)
{
	hsize_t dims[2] = { N, D };
	hid_t type = string_type(4);

	put_dataset(f, "/tasks/task_z/features", type, 2, dims, NULL);
	H5Tclose(type);
}

static void float_labels(hid_t f)
{
	hsize_t dims[1] = { N };

	put_dataset(f, "/tasks/task_x/labels", H5T_NATIVE_FLOAT, 1, dims,
		    NULL);
}

/* 2^32 + 1 reads as 1, a valid class, if truncated to 32 bits. */
static void label_wraps_in_int32(hid_t f)
{
	int64_t y[N] = { 0 };
	hsize_t dims[1] = { N };

	y[5] = INT64_C(4294967297);
	put_dataset(f, "/tasks/task_z/labels", H5T_NATIVE_INT64, 1, dims, y);
}

static void negative_int8_label(hid_t f)
{
	int8_t y[N] = { -1 };
	hsize_t dims[1] = { N };

	put_dataset(f, "/tasks/task_y/labels", H5T_NATIVE_INT8, 1, dims, y);
}

static void no_rows(hid_t f)
{
	hsize_t xdims[2] = { 0, D }, ydims[1] = { 0 };

	put_dataset(f, "/tasks/task_y/features", H5T_NATIVE_FLOAT, 2, xdims,
		    NULL);
	put_dataset(f, "/tasks/task_y/labels", H5T_NATIVE_INT, 1, ydims,
		    NULL);
}

static void labels_one_short(hid_t f)
{
	int32_t y[N - 1] = { 0 };
	hsize_t dims[1] = { N - 1 };

	put_dataset(f, "/tasks/task_z/labels", H5T_NATIVE_INT32, 1, dims, y);
}

static void narrower_features(hid_t f)
{
	float x[N * (D - 1)] = { 0 };
	hsize_t dims[2] = { N, D - 1 };

	put_dataset(f, "/tasks/task_y/features", H5T_NATIVE_FLOAT, 2, dims,
		    x);
}

static void zero_running_var(hid_t f)
{
	put_vector(f, "/model/layer_0/running_var", D, 0.0f);
}

static void negative_running_var(hid_t f)
{
	put_vector(f, "/model/layer_0/running_var", D, -1.0f);
}

static void other_format(hid_t f)
{
	put_attr_string(f, "/", "format", "other-format");
}

static void no_format(hid_t f)
{
	assert_true(H5Adelete(f, "format") >= 0);
}

static void version_2(hid_t f)
{
	put_attr_int(f, "/", "version", 2);
}

static void float_version(hid_t f)
{
	double v = 1.0;

	put_attr(f, "/", "version", H5T_NATIVE_DOUBLE, -1, &v);
}

static void order_names_missing_task(hid_t f)
{
	const char *names[] = { "task_z", "task_y", "task_x", "task_w" };

	put_order(f, names, 4);
}

static void order_leaves_out_task(hid_t f)
{
	const char *names[] = { "task_z", "task_y" };

	put_order(f, names, 2);
}

static void order_names_task_twice(hid_t f)
{
	const char *names[] = { "task_z", "task_y", "task_z", "task_x" };

	put_order(f, names, 4);
}

static void logits_in_one_task(hid_t f)
{
	move_link(f, "/tasks/task_y/features", "/tasks/task_y/logits");
}

static void task_is_dataset(hid_t f)
{
	hsize_t dims[1] = { 1 };

	delete_link(f, "/tasks/task_y");
	put_dataset(f, "/tasks/task_y", H5T_NATIVE_INT, 1, dims, NULL);
}

static void no_model(hid_t f)
{
	delete_link(f, "/model");
}

static void unknown_layer_type(hid_t f)
{
	put_attr_string(f, "/model/layer_1", "type", "conv2d");
}

static void layer_numbering_gap(hid_t f)
{
	move_link(f, "/model/layer_1", "/model/layer_7");
}

static void short_running_mean(hid_t f)
{
	put_vector(f, "/model/layer_0/running_mean", D - 1, 0.0f);
}

static void linear_in_mismatch(hid_t f)
{
	float w[C * (D - 1)] = { 0 };
	hsize_t dims[2] = { C, D - 1 };

	put_dataset(f, "/model/layer_2/weight", H5T_NATIVE_FLOAT, 2, dims, w);
}

static void no_eps(hid_t f)
{
	assert_true(H5Adelete_by_name(f, "/model/layer_0", "eps",
				      H5P_DEFAULT) >= 0);
}

static void five_class_names(hid_t f)
{
	const char *names[] = { "a", "b", "c", "d", "e" };
	hsize_t dims[1] = { 5 };
	hid_t type = string_type(0);

	put_dataset(f, "/classes", type, 1, dims, names);
	H5Tclose(type);
}

static void add_model_group(hid_t f)
{
	hid_t g = H5Gcreate2(f, "/model", H5P_DEFAULT, H5P_DEFAULT,
			     H5P_DEFAULT);

	assert_true(g >= 0);
	H5Gclose(g);
}

static void write_text_file(const char *path)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs("label,feature_0,feature_1\n1,0.5,0.25\n", fp);
	assert_int_equal(fclose(fp), 0);
}

static void cut_in_half(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 2), 0);
}

/*
 * One malformed file.  opts are the fixture options (knobs included).
 * edit changes the written file through HDF5, and mangle through its
 * bytes.  The message must start with "FILE: " and where, the HDF5
 * path (with " attribute NAME" for an attribute), unless where is NULL
 * because the file itself is the problem.  detail is a part of the
 * rest of the message.
 */
struct bad_case {
	const char *name;
	struct fixture_opts opts;
	void (*edit)(hid_t file);
	void (*mangle)(const char *path);
	int at_check;	/* rejected by features_check_task() */
	const char *where;
	const char *detail;
};

static const struct bad_case bad_cases[] = {
	{ "missing tasks group", { 0 }, no_tasks_group, NULL, 0,
	  "/tasks", "missing, expected a group" },
	{ "missing labels dataset", { 0 }, no_labels, NULL, 0,
	  "/tasks/task_y/labels", "missing" },
	{ "labels of rank 2", { 0 }, labels_rank_2, NULL, 0,
	  "/tasks/task_y/labels", "rank 2, expected rank 1 ([N] class ids)" },
	{ "string features", { 0 }, string_features, NULL, 0,
	  "/tasks/task_z/features", "type string, expected float32" },
	{ "float labels", { 0 }, float_labels, NULL, 0,
	  "/tasks/task_x/labels", "type float32, expected integer" },
	{ "label equal to C", { .label_out_of_range = 1 }, NULL, NULL, 1,
	  "/tasks/task_x/labels", "row 36 is 4, expected a class id in 0..3" },
	{ "64-bit label that wraps", { 0 }, label_wraps_in_int32, NULL, 1,
	  "/tasks/task_z/labels", "row 5 is 4294967297" },
	{ "negative int8 label", { 0 }, negative_int8_label, NULL, 1,
	  "/tasks/task_y/labels", "row 0 is -1" },
	{ "NaN in features", { .nan_feature = 1 }, NULL, NULL, 1,
	  "/tasks/task_x/features", "row 36, column 5 is NaN" },
	{ "Inf in model", { .inf_in_model = 1 }, NULL, NULL, 0,
	  "/model/layer_2/weight", "element 23 is +Inf" },
	{ "task with N = 0", { 0 }, no_rows, NULL, 0,
	  "/tasks/task_y/features", "N >= 1" },
	{ "labels shorter than features", { 0 }, labels_one_short, NULL, 0,
	  "/tasks/task_z/labels", "36 labels, expected 37" },
	{ "feature width differs by task", { 0 }, narrower_features, NULL, 0,
	  "/tasks/task_y/features", "expected [N x 6]" },
	{ "tail not ending in C", { .extra_outputs = 1 }, NULL, NULL, 0,
	  "/model/layer_2", "5 outputs, expected C = 4" },
	{ "zero running_var", { 0 }, zero_running_var, NULL, 0,
	  "/model/layer_0", "running_var[0] is 0, expected a positive" },
	{ "negative running_var", { 0 }, negative_running_var, NULL, 0,
	  "/model/layer_0", "running_var[0] is -1" },
	{ "wrong format attribute", { 0 }, other_format, NULL, 0,
	  "/ attribute format", "\"other-format\", expected "
	  "\"dembench-features\"" },
	{ "missing format attribute", { 0 }, no_format, NULL, 0,
	  "/ attribute format", "missing" },
	{ "wrong version", { 0 }, version_2, NULL, 0,
	  "/ attribute version", "2, expected 1" },
	{ "float version", { 0 }, float_version, NULL, 0,
	  "/ attribute version", "type float64, expected an integer" },
	{ "order names a missing task", { 0 }, order_names_missing_task, NULL,
	  0, "/tasks attribute order", "\"task_w\", which is not in /tasks" },
	{ "order leaves out a task", { 0 }, order_leaves_out_task, NULL, 0,
	  "/tasks attribute order", "does not name the task \"task_x\"" },
	{ "order names a task twice", { 0 }, order_names_task_twice, NULL, 0,
	  "/tasks attribute order", "\"task_z\" twice" },
	{ "logits in one task only", { 0 }, logits_in_one_task, NULL, 0,
	  "/tasks/task_y", "stores logits but task_z stores features" },
	{ "task that is a dataset", { 0 }, task_is_dataset, NULL, 0,
	  "/tasks/task_y", "a dataset, expected a group" },
	{ "features without model", { 0 }, no_model, NULL, 0,
	  "/model", "missing, expected a group" },
	{ "unknown layer type", { 0 }, unknown_layer_type, NULL, 0,
	  "/model/layer_1 attribute type", "\"conv2d\", expected" },
	{ "gap in layer numbers", { 0 }, layer_numbering_gap, NULL, 0,
	  "/model", "member \"layer_7\"" },
	{ "short running_mean", { 0 }, short_running_mean, NULL, 0,
	  "/model/layer_0/running_mean", "shape [5], expected [6]" },
	{ "linear input width", { 0 }, linear_in_mismatch, NULL, 0,
	  "/model/layer_2/weight", "shape [4 x 5], expected [4 x 6]" },
	{ "missing eps", { 0 }, no_eps, NULL, 0,
	  "/model/layer_0 attribute eps", "missing" },
	{ "classes disagree with tail", { 0 }, five_class_names, NULL, 0,
	  "/model/layer_2", "4 outputs, expected C = 5" },
	{ "logits file with model", { .logits = 1 }, add_model_group, NULL, 0,
	  "/model", "present in a file with logits" },
	{ "non-HDF5 file", { 0 }, NULL, write_text_file, 0,
	  NULL, "not an HDF5 file or truncated" },
	{ "truncated file", { 0 }, NULL, cut_in_half, 0,
	  NULL, "not an HDF5 file or truncated" },
};

static void edit_file(const char *path, void (*edit)(hid_t file))
{
	hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);

	assert_true(file >= 0);
	edit(file);
	assert_true(H5Fclose(file) >= 0);
}

/* Checks that err_msg() starts with "path: where" and contains detail. */
static void assert_message(const char *path, const char *where,
			   const char *detail)
{
	const char *msg = err_msg();
	char *prefix = where ? xasprintf("%s: %s", path, where)
			     : xasprintf("%s: ", path);

	if (strncmp(msg, prefix, strlen(prefix)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", msg,
			 prefix);
	if (!strstr(msg, detail))
		fail_msg("message \"%s\" does not contain \"%s\"", msg,
			 detail);
	free(prefix);
}

/* Runs features_check_task() on every task; returns the failing one. */
static int first_bad_task(struct features *f)
{
	for (int t = 0; t < f->n_tasks; t++)
		if (features_check_task(f, t) < 0)
			return t;
	return -1;
}

/* Checks that features_load_task() rejects task t as well. */
static void assert_load_fails(struct features *f, int t)
{
	float *x = NULL;
	int32_t *y = NULL;

	assert_int_equal(features_load_task(f, t, &x, &y), -1);
	assert_null(x);
	assert_null(y);
}

static void run_bad_case(void **state)
{
	const struct bad_case *c = *state;
	struct fixture_opts o = c->opts;
	struct features *f;
	char *path;
	int t;

	o.file = "bad.h5";
	path = fixture_write(tmp_dir, &o);
	if (!path)
		fail_msg("fixture_write: %s", err_msg());
	if (c->edit)
		edit_file(path, c->edit);
	if (c->mangle)
		c->mangle(path);
	f = features_open(path);
	if (c->at_check) {
		if (!f)
			fail_msg("features_open: %s", err_msg());
		t = first_bad_task(f);
		assert_true(t >= 0);
		assert_message(path, c->where, c->detail);
		assert_load_fails(f, t);
		assert_message(path, c->where, c->detail);
		features_close(f);
	} else {
		if (f)
			fail_msg("features_open accepted %s", c->name);
		assert_message(path, c->where, c->detail);
	}
	unlink(path);
	free(path);
}

/* ---- valid files ---- */

static void assert_floats_equal(const float *a, const float *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(&a[i], &b[i], sizeof(float)) != 0)
			fail_msg("element %zu: %.9g != %.9g", i, (double)a[i],
				 (double)b[i]);
}

static void assert_vector(const float *got, const float *want, int n)
{
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_floats_equal(got, want, (size_t)n);
}

static void assert_model_equal(const struct tail_spec *got,
			       const struct tail_spec *want)
{
	assert_int_equal(got->n_layers, want->n_layers);
	for (int i = 0; i < got->n_layers; i++) {
		const struct layer_spec *g = &got->layers[i];
		const struct layer_spec *w = &want->layers[i];

		assert_int_equal(g->kind, w->kind);
		assert_int_equal(g->in, w->in);
		assert_int_equal(g->out, w->out);
		assert_vector(g->weight, w->weight,
			      g->kind == LAYER_LINEAR ? g->out * g->in : g->in);
		assert_vector(g->bias, w->bias, g->out);
		assert_vector(g->running_mean, w->running_mean, g->in);
		assert_vector(g->running_var, w->running_var, g->in);
		if (g->kind == LAYER_BATCHNORM)
			assert_true(g->eps == w->eps);
	}
}

/* Loads every task of f and compares it with the fixture's values. */
static void assert_tasks_equal(struct features *f,
			       const struct fixture_opts *o)
{
	size_t cells = (size_t)o->n * (size_t)o->dim;
	float *want_x = xmalloc(cells * sizeof(float));
	int32_t *want_y = xmalloc((size_t)o->n * sizeof(int32_t));

	for (int t = 0; t < o->n_tasks; t++) {
		float *x;
		int32_t *y;

		fixture_task(o, t, want_x, want_y);
		assert_int_equal(features_check_task(f, t), 0);
		assert_int_equal(features_load_task(f, t, &x, &y), 0);
		assert_floats_equal(x, want_x, cells);
		assert_memory_equal(y, want_y, (size_t)o->n * sizeof(*y));
		free(x);
		free(y);
	}
	free(want_x);
	free(want_y);
}

static void assert_task_info(const struct features *f,
			     const struct fixture_opts *o)
{
	char name[16];

	assert_int_equal(f->n_tasks, o->n_tasks);
	for (int t = 0; t < o->n_tasks; t++) {
		const struct task_info *info = &f->tasks[t];

		fixture_task_name(t, name, sizeof(name));
		assert_string_equal(info->name, name);
		assert_int_equal(info->n, o->n);
		if (t == 2) {
			assert_null(info->corruption);
			assert_int_equal(info->severity, 0);
			continue;
		}
		assert_non_null(info->corruption);
		assert_int_equal(info->corruption[11], name[5]);
		assert_int_equal(info->severity, t + 1);
	}
}

/* Writes the fixture o, reads it back and compares everything. */
static void round_trip(const struct fixture_opts *opts)
{
	struct fixture_opts o = fixture_defaults(opts);
	struct tail_spec want = { 0, NULL };
	struct features *f;
	char *path = fixture_write(tmp_dir, &o);

	if (!path)
		fail_msg("fixture_write: %s", err_msg());
	f = features_open(path);
	if (!f)
		fail_msg("features_open: %s", err_msg());
	assert_string_equal(f->description, "dembench test fixture");
	assert_int_equal(f->n_classes, o.n_classes);
	assert_int_equal(f->dim, o.dim);
	assert_int_equal(f->is_logits, o.logits);
	assert_non_null(f->classes);
	assert_string_equal(f->classes[o.n_classes - 1], "class_3");
	assert_task_info(f, &o);
	fixture_model(&o, &want);
	assert_model_equal(&f->model, &want);
	tail_spec_free(&want);
	assert_tasks_equal(f, &o);
	features_close(f);
	unlink(path);
	free(path);
}

static void round_trip_features(void **state)
{
	struct fixture_opts o = { .file = "features.h5" };

	(void)state;
	round_trip(&o);
}

static void round_trip_logits(void **state)
{
	struct fixture_opts o = { .file = "logits.h5", .logits = 1 };

	(void)state;
	round_trip(&o);
}

/* Opens a fixture after edit (which may be NULL); the caller closes. */
static struct features *open_edited(const char *file,
				    const struct fixture_opts *opts,
				    void (*edit)(hid_t file), char **path)
{
	struct fixture_opts o = fixture_defaults(opts);
	struct features *f;

	o.file = file;
	*path = fixture_write(tmp_dir, &o);
	if (!*path)
		fail_msg("fixture_write: %s", err_msg());
	if (edit)
		edit_file(*path, edit);
	f = features_open(*path);
	if (!f)
		fail_msg("features_open: %s", err_msg());
	return f;
}

static void drop_order(hid_t f)
{
	assert_true(H5Adelete_by_name(f, "/tasks", "order",
				      H5P_DEFAULT) >= 0);
}

static void order_defaults_to_alphabetical(void **state)
{
	char *path;
	struct features *f = open_edited("no-order.h5", NULL, drop_order,
					 &path);

	(void)state;
	assert_int_equal(f->n_tasks, 3);
	assert_string_equal(f->tasks[0].name, "task_x");
	assert_string_equal(f->tasks[1].name, "task_y");
	assert_string_equal(f->tasks[2].name, "task_z");
	assert_int_equal(features_find_task(f, "task_z"), 2);
	assert_int_equal(features_find_task(f, "task_w"), -1);
	features_close(f);
	unlink(path);
	free(path);
}

/*
 * Fixed-length strings as numpy bytes_ makes them; "class_0" fills its
 * 7-byte width, so a reader that expects a NUL terminator would cut it.
 */
static void use_fixed_strings(hid_t f)
{
	char names[C][7];
	hsize_t dims[1] = { C };
	hid_t type = string_type(7);
	hid_t fmt = string_type(strlen(FEATURES_FORMAT));

	for (int c = 0; c < C; c++)
		memcpy(names[c], "class_0", 7), names[c][6] = (char)('0' + c);
	put_dataset(f, "/classes", type, 1, dims, names);
	put_attr(f, "/", "format", fmt, -1, FEATURES_FORMAT);
	H5Tclose(type);
	H5Tclose(fmt);
	type = string_type(6);
	put_attr(f, "/model/layer_2", "type", type, -1, "linear");
	H5Tclose(type);
}

static void fixed_length_strings(void **state)
{
	char *path;
	struct features *f = open_edited("fixed.h5", NULL, use_fixed_strings,
					 &path);

	(void)state;
	assert_string_equal(f->classes[0], "class_0");
	assert_string_equal(f->classes[3], "class_3");
	assert_int_equal(f->model.layers[2].kind, LAYER_LINEAR);
	features_close(f);
	unlink(path);
	free(path);
}

/* Stores task_z as float64 features with uint8 labels. */
static void use_wide_and_narrow_types(hid_t f)
{
	struct fixture_opts o = fixture_defaults(NULL);
	float x[N * D];
	double xd[N * D];
	int32_t y[N];
	uint8_t y8[N];
	hsize_t xdims[2] = { N, D }, ydims[1] = { N };

	fixture_task(&o, 0, x, y);
	for (int i = 0; i < N * D; i++)
		xd[i] = x[i];
	for (int i = 0; i < N; i++)
		y8[i] = (uint8_t)y[i];
	put_dataset(f, "/tasks/task_z/features", H5T_NATIVE_DOUBLE, 2, xdims,
		    xd);
	put_dataset(f, "/tasks/task_z/labels", H5T_NATIVE_UINT8, 1, ydims,
		    y8);
}

static void float64_features_accepted(void **state)
{
	struct fixture_opts o = fixture_defaults(NULL);
	char *path;
	struct features *f = open_edited("float64.h5", NULL,
					 use_wide_and_narrow_types, &path);

	(void)state;
	assert_tasks_equal(f, &o);
	features_close(f);
	unlink(path);
	free(path);
}

/*
 * A task larger than one chunk of features_check_task(): the NaN in
 * the last row lies in a later chunk than the first.
 */
static void check_reads_every_chunk(void **state)
{
	struct fixture_opts o = { .n = 100000, .n_tasks = 1,
				  .nan_feature = 1 };
	char *path;
	struct features *f = open_edited("large.h5", &o, NULL, &path);

	(void)state;
	assert_int_equal(features_check_task(f, 0), -1);
	assert_message(path, "/tasks/task_z/features",
		       "row 99999, column 5 is NaN");
	features_close(f);
	unlink(path);
	free(path);
}

static void missing_file_named(void **state)
{
	char *path = xasprintf("%s/absent.h5", tmp_dir);

	(void)state;
	assert_null(features_open(path));
	assert_message(path, NULL, "No such file or directory");
	free(path);
}

/* ---- the writer ---- */

static void writer_rejects_bad_tasks(void **state)
{
	char *path = xasprintf("%s/rejected.h5", tmp_dir);
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	struct features_writer *w = features_writer_create(path, NULL);
	float x[2 * C] = { 0 };
	int32_t y[2] = { 0, 1 };

	(void)state;
	assert_non_null(w);
	assert_int_equal(features_writer_task(w, "a", x, y, 2, C, 0, NULL,
					      0), 0);
	assert_int_equal(features_writer_task(w, "a", x, y, 2, C, 0, NULL,
					      0), -1);
	assert_non_null(strstr(err_msg(), "written twice"));
	assert_int_equal(features_writer_task(w, "b", x, y, 2, C, 1, NULL,
					      0), -1);
	assert_non_null(strstr(err_msg(), "logits after tasks with"));
	assert_int_equal(features_writer_task(w, "c", x, y, 0, C, 0, NULL,
					      0), -1);
	assert_int_equal(features_writer_task(w, "d/e", x, y, 2, C, 0, NULL,
					      0), -1);
	assert_true(path_exists(tmp));
	assert_false(path_exists(path));
	features_writer_abort(w);
	assert_false(path_exists(tmp));
	assert_false(path_exists(path));
	free(tmp);
	free(path);
}

static void writer_without_tasks_fails(void **state)
{
	char *path = xasprintf("%s/empty.h5", tmp_dir);
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	struct features_writer *w = features_writer_create(path, "x");

	(void)state;
	assert_non_null(w);
	assert_int_equal(features_writer_close(w), -1);
	assert_non_null(strstr(err_msg(), "no task written"));
	assert_false(path_exists(tmp));
	assert_false(path_exists(path));
	free(tmp);
	free(path);
}

static void writer_rejects_bias_layer(void **state)
{
	char *path = xasprintf("%s/bias.h5", tmp_dir);
	struct features_writer *w = features_writer_create(path, NULL);
	struct tail_spec spec = { 0, NULL };
	struct fixture_opts o = fixture_defaults(NULL);

	(void)state;
	assert_non_null(w);
	fixture_model(&o, &spec);
	spec.layers[1].kind = LAYER_BIAS;
	assert_int_equal(features_writer_model(w, &spec), -1);
	assert_non_null(strstr(err_msg(), "/model/layer_1"));
	tail_spec_free(&spec);
	features_writer_abort(w);
	free(path);
}

/* ---- files written by h5py ---- */

/* Returns a Python that imports h5py, or NULL. */
static const char *find_h5py_python(void)
{
	/*
	 * A pyenv or virtualenv python3 first on PATH may lack h5py while
	 * Debian's python3-h5py serves /usr/bin/python3.
	 */
	static const char *const candidates[] = { "python3",
						  "/usr/bin/python3" };
	char cmd[128];

	for (size_t i = 0; i < sizeof(candidates) / sizeof(*candidates);
	     i++) {
		snprintf(cmd, sizeof(cmd), "%s -c 'import h5py' "
			 ">/dev/null 2>&1", candidates[i]);
		if (system(cmd) == 0)
			return candidates[i];
	}
	return NULL;
}

/*
 * Writes, as h5py users would: float64 features, int64 labels,
 * variable-length str attributes and classes, a fixed-length bytes
 * layer type, and an order that is not alphabetical.
 */
static const char h5py_script[] =
	"import sys\n"
	"import h5py\n"
	"import numpy as np\n"
	"N, D, C = 20, 5, 3\n"
	"x = np.arange(N * D, dtype=np.float64).reshape(N, D) / 8.0 - 3.0\n"
	"y = np.arange(N, dtype=np.int64) % C\n"
	"with h5py.File(sys.argv[1], 'w') as f:\n"
	"    f.attrs['format'] = 'dembench-features'\n"
	"    f.attrs['version'] = 1\n"
	"    f.attrs['description'] = 'written by h5py'\n"
	"    f.create_dataset('classes', data=['cat', 'dog', 'bird'],\n"
	"                     dtype=h5py.string_dtype())\n"
	"    bn = f.create_group('model/layer_0')\n"
	"    bn.attrs['type'] = 'batchnorm'\n"
	"    bn.attrs['eps'] = 1e-5\n"
	"    bn['running_mean'] = np.zeros(D, np.float32)\n"
	"    bn['running_var'] = np.ones(D, np.float32)\n"
	"    bn['weight'] = np.ones(D, np.float32)\n"
	"    bn['bias'] = np.zeros(D, np.float32)\n"
	"    relu = f.create_group('model/layer_1')\n"
	"    relu.attrs['type'] = np.bytes_(b'relu')\n"
	"    lin = f.create_group('model/layer_2')\n"
	"    lin.attrs['type'] = 'linear'\n"
	"    lin['weight'] = np.full((C, D), 0.25, np.float32)\n"
	"    lin['bias'] = np.zeros(C, np.float32)\n"
	"    for name, severity in (('fog_5', 5), ('blur_1', 1)):\n"
	"        g = f.create_group('tasks/' + name)\n"
	"        g['features'] = x\n"
	"        g['labels'] = y\n"
	"        g.attrs['corruption'] = name[:-2]\n"
	"        g.attrs['severity'] = severity\n"
	"    f['tasks'].attrs['order'] = ['fog_5', 'blur_1']\n";

/* Runs h5py_script with python to write path. */
static void run_h5py_script(const char *python, const char *path)
{
	char *script = xasprintf("%s/write.py", tmp_dir);
	char *cmd = xasprintf("%s %s %s", python, script, path);
	FILE *fp = fopen(script, "w");

	assert_non_null(fp);
	fputs(h5py_script, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(system(cmd), 0);
	unlink(script);
	free(script);
	free(cmd);
}

static void assert_h5py_task(struct features *f, int t)
{
	float *x;
	int32_t *y;

	assert_int_equal(features_load_task(f, t, &x, &y), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(y[i], i % 3);
		for (int j = 0; j < 5; j++)
			assert_true(x[i * 5 + j] ==
				    (float)((i * 5 + j) / 8.0 - 3.0));
	}
	free(x);
	free(y);
}

static void h5py_file_loads(void **state)
{
	const char *python = find_h5py_python();
	char *path = xasprintf("%s/h5py.h5", tmp_dir);
	struct features *f;

	(void)state;
	if (!python) {
		free(path);
		skip();
	}
	run_h5py_script(python, path);
	f = features_open(path);
	if (!f)
		fail_msg("features_open: %s", err_msg());
	assert_string_equal(f->description, "written by h5py");
	assert_int_equal(f->n_classes, 3);
	assert_string_equal(f->classes[2], "bird");
	assert_int_equal(f->dim, 5);
	assert_int_equal(f->model.n_layers, 3);
	assert_int_equal(f->model.layers[1].kind, LAYER_RELU);
	assert_true(f->model.layers[0].eps == 1e-5);
	assert_string_equal(f->tasks[0].name, "fog_5");
	assert_string_equal(f->tasks[0].corruption, "fog");
	assert_int_equal(f->tasks[0].severity, 5);
	assert_string_equal(f->tasks[1].name, "blur_1");
	assert_int_equal(f->tasks[1].n, 20);
	assert_h5py_task(f, 0);
	assert_h5py_task(f, 1);
	features_close(f);
	unlink(path);
	free(path);
}

/* ---- main ---- */

static int make_tmp_dir(void **state)
{
	(void)state;
	tmp_dir = fixture_tmpdir();
	return tmp_dir ? 0 : -1;
}

static int remove_tmp_dir(void **state)
{
	(void)state;
	fixture_rmdir(tmp_dir);
	free(tmp_dir);
	return 0;
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(round_trip_features),
	cmocka_unit_test(round_trip_logits),
	cmocka_unit_test(order_defaults_to_alphabetical),
	cmocka_unit_test(fixed_length_strings),
	cmocka_unit_test(float64_features_accepted),
	cmocka_unit_test(check_reads_every_chunk),
	cmocka_unit_test(missing_file_named),
	cmocka_unit_test(writer_rejects_bad_tasks),
	cmocka_unit_test(writer_without_tasks_fails),
	cmocka_unit_test(writer_rejects_bias_layer),
	cmocka_unit_test(h5py_file_loads),
};

int main(void)
{
	enum {
		N_FIXED = sizeof(fixed_tests) / sizeof(*fixed_tests),
		N_BAD = sizeof(bad_cases) / sizeof(*bad_cases)
	};
	struct CMUnitTest tests[N_FIXED + N_BAD];

	/* one test per malformed file, named after its case */
	memcpy(tests, fixed_tests, sizeof(fixed_tests));
	for (int i = 0; i < N_BAD; i++) {
		struct CMUnitTest t = { bad_cases[i].name, run_bad_case,
					NULL, NULL, (void *)&bad_cases[i] };

		tests[N_FIXED + i] = t;
	}
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return _cmocka_run_group_tests("loader", tests, N_FIXED + N_BAD,
				       make_tmp_dir, remove_tmp_dir);
}
