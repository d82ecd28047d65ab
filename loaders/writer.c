/*
 * writer.c - writes dembench feature files (HDF5, format 1).
 *
 * Strings (attributes and /classes) are variable-length UTF-8, because
 * h5py 3 reads variable-length string attributes back as Python str,
 * while fixed-length ones come back as numpy bytes.  Numbers are
 * little-endian: float32 features, logits and parameters, int32 labels,
 * severity and version, float64 eps.  Task datasets are chunked by rows
 * so that a reader can stream a task in slices of rows.
 */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "feature_file.h"
#include "h5util.h"
#include "util.h"

/* Maximum rows per chunk of a task dataset. */
#define CHUNK_ROWS 1024
/*
 * Maximum bytes per chunk of features: HDF5's default chunk cache per
 * dataset is 1 MiB, and a chunk larger than the cache bypasses it.
 */
#define CHUNK_BYTES (1 << 20)

struct features_writer {
	hid_t file;
	hid_t tasks;		/* /tasks, created with the first task */
	char *path;
	char *tmp;		/* path.tmp.PID, renamed to path on close */
	char **names;		/* tasks in write order, for the order attr */
	int n_tasks;
	int is_logits;		/* of the tasks written so far */
	int model_only;		/* a model file: no tasks, bias layers */
};


/* Records a failure to write obj (an HDF5 path) with HDF5's reason. */
static int write_failed(const struct features_writer *w, const char *obj)
{
	err_set("%s: %s: cannot write (%s)", w->tmp, obj, h5_reason());
	return -1;
}

/* ---- attributes ---- */

/* Returns a variable-length UTF-8 string type; the caller closes it. */
static hid_t utf8_type(void)
{
	hid_t type = H5Tcopy(H5T_C_S1);

	if (type >= 0 && (H5Tset_size(type, H5T_VARIABLE) < 0 ||
			  H5Tset_cset(type, H5T_CSET_UTF8) < 0)) {
		H5Tclose(type);
		return H5I_INVALID_HID;
	}
	return type;
}

/*
 * Writes attribute name on obj from buf, with file type ftype and
 * memory type mtype; n < 0 makes it a scalar, else a vector [n].
 */
static herr_t write_attr(hid_t obj, const char *name, hid_t ftype,
			 hid_t mtype, hssize_t n, const void *buf)
{
	hsize_t dims[1] = { (hsize_t)(n < 0 ? 1 : n) };
	hid_t space = n < 0 ? H5Screate(H5S_SCALAR)
			    : H5Screate_simple(1, dims, NULL);
	hid_t attr = H5I_INVALID_HID;
	herr_t rc = -1;

	if (space < 0)
		goto cleanup;
	attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
	if (attr >= 0)
		rc = H5Awrite(attr, mtype, buf);
cleanup:
	if (attr >= 0)
		H5Aclose(attr);
	if (space >= 0)
		H5Sclose(space);
	return rc;
}

static herr_t attr_strings(hid_t obj, const char *name,
			   const char *const *values, hssize_t n)
{
	hid_t type = utf8_type();
	herr_t rc = -1;

	if (type >= 0)
		rc = write_attr(obj, name, type, type, n, values);
	if (type >= 0)
		H5Tclose(type);
	return rc;
}

static herr_t attr_string(hid_t obj, const char *name, const char *value)
{
	return attr_strings(obj, name, &value, -1);
}

static herr_t attr_int(hid_t obj, const char *name, int value)
{
	return write_attr(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT, -1,
			  &value);
}

static herr_t attr_double(hid_t obj, const char *name, double value)
{
	return write_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, -1,
			  &value);
}

/* ---- datasets ---- */

/*
 * Creates a group without modification times, so that the same content
 * gives the same bytes: HDF5 stores the time of creation by default.
 */
static hid_t create_group(hid_t loc, const char *name)
{
	hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
	hid_t group = H5I_INVALID_HID;

	if (gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0)
		group = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
	if (gcpl >= 0)
		H5Pclose(gcpl);
	return group;
}

/*
 * Writes a dataset [dims[0]] or [dims[0] x dims[1]] (rank 1 or 2).
 * chunk_rows > 0 chunks it by that many rows; 0 stores it contiguous.
 */
static herr_t write_dataset(hid_t loc, const char *name, hid_t ftype,
			    hid_t mtype, int rank, const hsize_t *dims,
			    hsize_t chunk_rows, const void *buf)
{
	hsize_t chunk[2] = { chunk_rows, rank == 2 ? dims[1] : 0 };
	hid_t space = H5Screate_simple(rank, dims, NULL);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	hid_t dset = H5I_INVALID_HID;
	herr_t rc = -1;

	if (space < 0 || dcpl < 0)
		goto cleanup;
	if (chunk_rows > 0 && H5Pset_chunk(dcpl, rank, chunk) < 0)
		goto cleanup;
	if (H5Pset_obj_track_times(dcpl, 0) < 0)
		goto cleanup;
	dset = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl,
			  H5P_DEFAULT);
	if (dset >= 0)
		rc = H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
cleanup:
	if (dset >= 0)
		H5Dclose(dset);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (space >= 0)
		H5Sclose(space);
	return rc;
}

static herr_t write_floats(hid_t loc, const char *name, int rank,
			   const hsize_t *dims, hsize_t chunk_rows,
			   const float *x)
{
	return write_dataset(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
			     rank, dims, chunk_rows, x);
}

/* ---- file ---- */

static struct features_writer *writer_create(const char *path,
					     const char *format,
					     const char *description)
{
	struct features_writer *w = xcalloc(1, sizeof(*w));
	hid_t root;

	/* our messages name the file and object; HDF5's own do not */
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	w->path = xstrdup(path);
	w->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	w->tasks = H5I_INVALID_HID;
	w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	if (w->file < 0) {
		err_set("%s: cannot create (%s); check that the directory "
			"exists and is writable", w->tmp, h5_reason());
		features_writer_abort(w);
		return NULL;
	}
	root = w->file;
	if (attr_string(root, "format", format) < 0 ||
	    attr_int(root, "version", FEATURES_VERSION) < 0 ||
	    (description && attr_string(root, "description",
					description) < 0)) {
		write_failed(w, "/");
		features_writer_abort(w);
		return NULL;
	}
	return w;
}

struct features_writer *features_writer_create(const char *path,
					       const char *description)
{
	return writer_create(path, FEATURES_FORMAT, description);
}

int features_writer_classes(struct features_writer *w, char **names, int n)
{
	hsize_t dims[1] = { (hsize_t)n };
	hid_t type;
	herr_t rc = -1;

	if (n < 1) {
		err_set("%s: /classes: %d names, expected at least one",
			w->tmp, n);
		return -1;
	}
	type = utf8_type();
	if (type >= 0)
		rc = write_dataset(w->file, "classes", type, type, 1, dims, 0,
				   names);
	if (type >= 0)
		H5Tclose(type);
	return rc < 0 ? write_failed(w, "/classes") : 0;
}

/* ---- model ---- */

static herr_t write_batchnorm(hid_t group, const struct layer_spec *l)
{
	hsize_t dims[1] = { (hsize_t)l->in };

	if (write_floats(group, "running_mean", 1, dims, 0,
			 l->running_mean) < 0 ||
	    write_floats(group, "running_var", 1, dims, 0,
			 l->running_var) < 0 ||
	    write_floats(group, "weight", 1, dims, 0, l->weight) < 0 ||
	    write_floats(group, "bias", 1, dims, 0, l->bias) < 0)
		return -1;
	return attr_double(group, "eps", l->eps);
}

static herr_t write_linear(hid_t group, const struct layer_spec *l)
{
	hsize_t wdims[2] = { (hsize_t)l->out, (hsize_t)l->in };
	hsize_t bdims[1] = { (hsize_t)l->out };

	if (write_floats(group, "weight", 2, wdims, 0, l->weight) < 0)
		return -1;
	return write_floats(group, "bias", 1, bdims, 0, l->bias);
}

/* Writes /model/layer_i from l. */
static int write_layer(struct features_writer *w, hid_t model, int i,
		       const struct layer_spec *l)
{
	char name[32], *path;
	hid_t group;
	herr_t rc = -1;

	snprintf(name, sizeof(name), "layer_%d", i);
	group = create_group(model, name);
	if (group >= 0)
		rc = attr_string(group, "type", layer_kind_name(l->kind));
	if (rc >= 0 && l->kind == LAYER_BATCHNORM)
		rc = write_batchnorm(group, l);
	else if (rc >= 0 && l->kind == LAYER_LINEAR)
		rc = write_linear(group, l);
	else if (rc >= 0 && l->kind == LAYER_BIAS) {
		hsize_t dims[1] = { (hsize_t)l->out };

		rc = write_floats(group, "bias", 1, dims, 0, l->bias);
	}
	if (group >= 0)
		H5Gclose(group);
	if (rc >= 0)
		return 0;
	path = xasprintf("/model/%s", name);
	write_failed(w, path);
	free(path);
	return -1;
}

/*
 * Checks that spec has every array it needs, and no bias layer unless
 * this is a model file: a feature file of logits implies its bias.
 */
static int check_spec(const struct features_writer *w,
		      const struct tail_spec *spec)
{
	for (int i = 0; i < spec->n_layers; i++) {
		const struct layer_spec *l = &spec->layers[i];
		int ok = 1;

		if (l->kind == LAYER_BIAS)
			ok = w->model_only && l->bias;
		else if (l->kind == LAYER_BATCHNORM)
			ok = l->running_mean && l->running_var && l->weight &&
			     l->bias;
		else if (l->kind == LAYER_LINEAR)
			ok = l->weight && l->bias;
		if (!ok) {
			err_set("%s: /model/layer_%d: a %s layer %s", w->tmp,
				i, layer_kind_name(l->kind),
				l->kind == LAYER_BIAS ?
				"cannot be stored; a file stores batchnorm, "
				"relu and linear layers" :
				"with a NULL parameter array");
			return -1;
		}
	}
	return 0;
}

int features_writer_model(struct features_writer *w,
			  const struct tail_spec *spec)
{
	hid_t model;
	int rc = 0;

	/* the model of a logits file is implied and not stored */
	if (!w->model_only && spec->n_layers == 1 &&
	    spec->layers[0].kind == LAYER_BIAS)
		return 0;
	if (check_spec(w, spec) < 0)
		return -1;
	model = create_group(w->file, "model");
	if (model < 0)
		return write_failed(w, "/model");
	for (int i = 0; i < spec->n_layers && rc == 0; i++)
		rc = write_layer(w, model, i, &spec->layers[i]);
	H5Gclose(model);
	return rc;
}

/* ---- tasks ---- */

/* Rows per chunk: at most CHUNK_ROWS and CHUNK_BYTES, at least one. */
static hsize_t chunk_rows(long n, int dim)
{
	long rows = CHUNK_BYTES / ((long)dim * (long)sizeof(float));

	if (rows > CHUNK_ROWS)
		rows = CHUNK_ROWS;
	if (rows < 1)
		rows = 1;
	return (hsize_t)(rows < n ? rows : n);
}

/* Rejects what would make an invalid or ambiguous file. */
static int check_task_args(const struct features_writer *w,
			   const char *name, long n, int dim, int as_logits)
{
	if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0) {
		err_set("%s: task name \"%s\" is invalid, expected a "
			"non-empty HDF5 link name without '/'", w->tmp, name);
		return -1;
	}
	for (int i = 0; i < w->n_tasks; i++) {
		if (strcmp(w->names[i], name) == 0) {
			err_set("%s: /tasks/%s: written twice, expected each "
				"task once", w->tmp, name);
			return -1;
		}
	}
	if (n < 1 || dim < 1) {
		err_set("%s: /tasks/%s: [%ld x %d], expected at least one "
			"row and one column", w->tmp, name, n, dim);
		return -1;
	}
	if (w->n_tasks > 0 && as_logits != w->is_logits) {
		err_set("%s: /tasks/%s: %s after tasks with %s; a file "
			"stores features in every task or logits in every "
			"task", w->tmp, name, as_logits ? "logits" : "features",
			w->is_logits ? "logits" : "features");
		return -1;
	}
	return 0;
}

/* Writes the datasets and attributes of one task into group. */
static herr_t write_task_group(hid_t group, const float *x,
			       const int32_t *y, long n, int dim,
			       int as_logits, const char *corruption,
			       int severity)
{
	hsize_t xdims[2] = { (hsize_t)n, (hsize_t)dim };
	hsize_t ydims[1] = { (hsize_t)n };
	hsize_t rows = chunk_rows(n, dim);

	if (write_floats(group, as_logits ? "logits" : "features", 2, xdims,
			 rows, x) < 0 ||
	    write_dataset(group, "labels", H5T_STD_I32LE, H5T_NATIVE_INT32, 1,
			  ydims, rows, y) < 0)
		return -1;
	if (!corruption)
		return 0;
	if (attr_string(group, "corruption", corruption) < 0)
		return -1;
	return attr_int(group, "severity", severity);
}

int features_writer_task(struct features_writer *w, const char *name,
			 const float *x, const int32_t *y, long n, int dim,
			 int as_logits, const char *corruption, int severity)
{
	char *path;
	hid_t group;
	herr_t rc = -1;

	if (check_task_args(w, name, n, dim, as_logits) < 0)
		return -1;
	if (w->tasks < 0)
		w->tasks = create_group(w->file, "tasks");
	if (w->tasks < 0)
		return write_failed(w, "/tasks");
	group = create_group(w->tasks, name);
	if (group >= 0) {
		rc = write_task_group(group, x, y, n, dim, as_logits,
				      corruption, severity);
		H5Gclose(group);
	}
	if (rc < 0) {
		path = xasprintf("/tasks/%s", name);
		write_failed(w, path);
		free(path);
		return -1;
	}
	w->names = xrealloc(w->names, (size_t)(w->n_tasks + 1) *
			    sizeof(*w->names));
	w->names[w->n_tasks++] = xstrdup(name);
	w->is_logits = as_logits;
	return 0;
}

/* ---- close ---- */

/* Flushes path (and with dir, its directory entry) to the disk. */
static int sync_path(const char *path, int dir)
{
	int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static void writer_free(struct features_writer *w)
{
	for (int i = 0; i < w->n_tasks; i++)
		free(w->names[i]);
	free(w->names);
	free(w->path);
	free(w->tmp);
	free(w);
}

int features_writer_close(struct features_writer *w)
{
	herr_t rc;

	if (w->n_tasks == 0 && !w->model_only) {
		err_set("%s: no task written, expected at least one "
			"(features_writer_task)", w->tmp);
		features_writer_abort(w);
		return -1;
	}
	if (w->n_tasks > 0 &&
	    attr_strings(w->tasks, "order", (const char *const *)w->names,
			 w->n_tasks) < 0) {
		write_failed(w, "/tasks attribute order");
		features_writer_abort(w);
		return -1;
	}
	if (w->tasks >= 0)
		H5Gclose(w->tasks);
	w->tasks = H5I_INVALID_HID;
	rc = H5Fclose(w->file);
	w->file = H5I_INVALID_HID;
	if (rc < 0 || sync_path(w->tmp, 0) < 0 ||
	    rename(w->tmp, w->path) < 0) {
		err_set("%s: cannot write (%s)", w->path,
			rc < 0 ? h5_reason() : strerror(errno));
		features_writer_abort(w);
		return -1;
	}
	sync_parent(w->path);
	writer_free(w);
	return 0;
}

void features_writer_abort(struct features_writer *w)
{
	if (!w)
		return;
	if (w->tasks >= 0)
		H5Gclose(w->tasks);
	if (w->file >= 0)
		H5Fclose(w->file);
	unlink(w->tmp);
	writer_free(w);
}

int model_file_write(const char *path, const struct tail_spec *model,
		     char **classes, int n_classes, const char *description)
{
	struct features_writer *w = writer_create(path, MODEL_FORMAT,
						  description);

	if (!w)
		return -1;
	w->model_only = 1;
	if ((classes && features_writer_classes(w, classes, n_classes)) ||
	    features_writer_model(w, model)) {
		features_writer_abort(w);
		return -1;
	}
	return features_writer_close(w);
}
