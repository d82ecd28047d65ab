/*
 * features.c - opens, validates and reads dembench feature files.
 *
 * features_open() reads every attribute, every shape and the model
 * parameters, so that structural errors surface before a run starts.
 * Task values (features, logits, labels) can be large, so they are
 * checked by features_check_task() in bounded chunks of rows, and read
 * whole by features_load_task() one task at a time.
 *
 * Every error message starts with "FILE: HDF5-PATH:" (or "FILE: PATH
 * attribute NAME:") and states what was found and what is expected.
 */
#include "feature_file.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>

#include "h5util.h"
#include "util.h"

/*
 * Ends the message of a failed HDF5 read of an object that the file's
 * structure lists, because then the stored bytes are damaged.
 */
#define DAMAGED "; the file may be damaged: write it again"

/* Bytes of features read at once by features_check_task(). */
#define CHECK_CHUNK_BYTES (1 << 20)

/* ---- messages ---- */

/* Records "FILE: OBJ: MSG" or "FILE: OBJ attribute ATTR: MSG". */
static void PRINTF_LIKE(4, 5) fail(const struct features *f,
				   const char *obj, const char *attr,
				   const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (attr)
		err_set("%s: %s attribute %s: %s", f->path, obj, attr, msg);
	else
		err_set("%s: %s: %s", f->path, obj, msg);
}

/* Writes a readable name of an HDF5 datatype ("float64", "string"). */
static void describe_type(hid_t type, char *buf, size_t size)
{
	size_t bits = 8 * H5Tget_size(type);

	switch (H5Tget_class(type)) {
	case H5T_INTEGER:
		snprintf(buf, size, "%sint%zu",
			 H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
		break;
	case H5T_FLOAT:
		snprintf(buf, size, "float%zu", bits);
		break;
	case H5T_STRING:
		snprintf(buf, size, "string");
		break;
	case H5T_ENUM:
		snprintf(buf, size, "enum (h5py stores bool as enum)");
		break;
	case H5T_COMPOUND:
		snprintf(buf, size, "compound");
		break;
	default:
		snprintf(buf, size, "HDF5 type class %d",
			 (int)H5Tget_class(type));
	}
}

/* Writes dims as "[3 x 4]", or "scalar" for rank 0. */
static void format_shape(const hsize_t *dims, int rank, char *buf,
			 size_t size)
{
	size_t used;

	if (rank == 0) {
		snprintf(buf, size, "scalar");
		return;
	}
	used = (size_t)snprintf(buf, size, "[");
	for (int i = 0; i < rank && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%llu",
					 i ? " x " : "",
					 (unsigned long long)dims[i]);
	if (used < size)
		snprintf(buf + used, size - used, "]");
}

/* ---- handles ---- */

static void close_id(hid_t id)
{
	if (id < 0)
		return;
	switch (H5Iget_type(id)) {
	case H5I_FILE:
		H5Fclose(id);
		break;
	case H5I_GROUP:
		H5Gclose(id);
		break;
	case H5I_DATASET:
		H5Dclose(id);
		break;
	case H5I_ATTR:
		H5Aclose(id);
		break;
	case H5I_DATATYPE:
		H5Tclose(id);
		break;
	case H5I_DATASPACE:
		H5Sclose(id);
		break;
	default:
		break;
	}
}

static hid_t file_id(const struct features *f)
{
	return (hid_t)f->hid;
}

/* Returns 1 if the link path exists; its parent group must exist. */
static int link_exists(const struct features *f, const char *path)
{
	return H5Lexists(file_id(f), path, H5P_DEFAULT) > 0;
}

static const char *id_kind(H5I_type_t type)
{
	switch (type) {
	case H5I_GROUP:
		return "a group";
	case H5I_DATASET:
		return "a dataset";
	case H5I_DATATYPE:
		return "a named datatype";
	default:
		return "an unknown object";
	}
}

/*
 * Opens path as a group or dataset (want).  expect completes "expected
 * a dataset" in the messages, e.g. "of [N] class ids".  Returns
 * H5I_INVALID_HID with err_set() if it is missing or of another kind.
 */
static hid_t open_object(const struct features *f, const char *path,
			 H5I_type_t want, const char *expect)
{
	hid_t id;
	H5I_type_t type;

	if (!link_exists(f, path)) {
		fail(f, path, NULL, "missing, expected %s %s",
		     id_kind(want), expect);
		return H5I_INVALID_HID;
	}
	id = H5Oopen(file_id(f), path, H5P_DEFAULT);
	if (id < 0) {
		fail(f, path, NULL, "cannot open (%s), expected %s %s"
		     DAMAGED, h5_reason(), id_kind(want), expect);
		return H5I_INVALID_HID;
	}
	type = H5Iget_type(id);
	if (type != want) {
		fail(f, path, NULL, "%s, expected %s %s", id_kind(type),
		     id_kind(want), expect);
		H5Oclose(id);
		return H5I_INVALID_HID;
	}
	return id;
}

/* The datatype and dataspace of an attribute or a dataset. */
static hid_t get_type(hid_t id)
{
	return H5Iget_type(id) == H5I_ATTR ? H5Aget_type(id)
					   : H5Dget_type(id);
}

static hid_t get_space(hid_t id)
{
	return H5Iget_type(id) == H5I_ATTR ? H5Aget_space(id)
					   : H5Dget_space(id);
}

/* Reads all of an attribute or a dataset as memtype. */
static herr_t read_whole(hid_t id, hid_t memtype, void *buf)
{
	if (H5Iget_type(id) == H5I_ATTR)
		return H5Aread(id, memtype, buf);
	return H5Dread(id, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
}

/*
 * Reads the rank and dims (at most 2) of an attribute or a dataset and
 * checks the rank against want.  shape describes the expected shape for
 * the message, e.g. "[N] class ids".  Returns 0 or -1 with err_set().
 */
static int get_dims(const struct features *f, hid_t id, const char *obj,
		    const char *attr, int want, hsize_t dims[2],
		    const char *shape)
{
	hid_t space = get_space(id);
	int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);

	close_id(space);
	if (rank < 0) {
		fail(f, obj, attr, "cannot read the dataspace (%s)" DAMAGED,
		     h5_reason());
		return -1;
	}
	if (rank != want) {
		fail(f, obj, attr, "rank %d, expected rank %d (%s)", rank,
		     want, shape);
		return -1;
	}
	space = get_space(id);
	H5Sget_simple_extent_dims(space, dims, NULL);
	close_id(space);
	return 0;
}

/* Returns the number of elements of an attribute or dataset, or -1. */
static hssize_t count_elements(hid_t id)
{
	hid_t space = get_space(id);
	hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);

	close_id(space);
	return n;
}

/* Frees a NULL-terminated array of strings. */
static void free_strings(char **s)
{
	if (!s)
		return;
	for (char **p = s; *p; p++)
		free(*p);
	free(s);
}

/*
 * Returns the link names of a group in alphabetical order (HDF5's name
 * index), as a NULL-terminated array the caller frees with
 * free_strings(), and their count in *count.  NULL with err_set() on
 * failure.
 */
static char **list_members(const struct features *f, hid_t group,
			   const char *path, int *count)
{
	H5G_info_t info;
	char **names;

	if (H5Gget_info(group, &info) < 0 || info.nlinks > INT_MAX) {
		fail(f, path, NULL, "cannot list the members (%s)",
		     h5_reason());
		return NULL;
	}
	names = xcalloc(info.nlinks + 1, sizeof(*names));
	for (hsize_t i = 0; i < info.nlinks; i++) {
		ssize_t len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME,
						 H5_ITER_INC, i, NULL, 0,
						 H5P_DEFAULT);

		names[i] = xcalloc((size_t)(len < 0 ? 0 : len) + 1, 1);
		if (len < 0 ||
		    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC,
				       i, names[i], (size_t)len + 1,
				       H5P_DEFAULT) < 0) {
			fail(f, path, NULL, "cannot read member %llu (%s)" DAMAGED,
			     (unsigned long long)i, h5_reason());
			free_strings(names);
			return NULL;
		}
	}
	*count = (int)info.nlinks;
	return names;
}

/* ---- strings ---- */

/* Copies n variable-length strings out of HDF5's buffers. */
static int read_vlen_strings(hid_t id, hid_t ftype, size_t n, char **out)
{
	hid_t mtype = H5Tcopy(H5T_C_S1);
	char **ptrs = xcalloc(n, sizeof(*ptrs));
	int rc = -1;

	if (H5Tset_size(mtype, H5T_VARIABLE) < 0 ||
	    H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0 ||
	    read_whole(id, mtype, ptrs) < 0)
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(ptrs[i] ? ptrs[i] : "");
	rc = 0;
cleanup:
	for (size_t i = 0; i < n; i++)
		H5free_memory(ptrs[i]);
	free(ptrs);
	close_id(mtype);
	return rc;
}

/*
 * Copies n fixed-length strings.  The memory type pads with NULs, so a
 * string that fills its whole width keeps its last character (a
 * NUL-terminated memory type would overwrite it with the terminator).
 */
static int read_fixed_strings(hid_t id, hid_t ftype, size_t n, char **out)
{
	size_t width = H5Tget_size(ftype);
	hid_t mtype = H5Tcopy(H5T_C_S1);
	char *buf = xcalloc(n, width);
	int rc = -1;

	if (H5Tset_size(mtype, width) < 0 ||
	    H5Tset_strpad(mtype, H5T_STR_NULLPAD) < 0 ||
	    H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0 ||
	    read_whole(id, mtype, buf) < 0)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		out[i] = xcalloc(width + 1, 1);
		memcpy(out[i], buf + i * width, width);
	}
	rc = 0;
cleanup:
	free(buf);
	close_id(mtype);
	return rc;
}

/*
 * Reads every element of a string attribute or dataset, fixed or
 * variable length, into a NULL-terminated array (free_strings()).
 * Returns NULL with err_set() if the type is not a string.
 */
static char **read_strings(const struct features *f, hid_t id,
			   const char *obj, const char *attr, int *count)
{
	hid_t ftype = get_type(id);
	hssize_t n = count_elements(id);
	char **out = NULL;
	char tname[64];
	int rc;

	if (ftype < 0 || n < 0 || n > INT_MAX) {
		fail(f, obj, attr, "cannot read (%s)" DAMAGED, h5_reason());
		goto cleanup;
	}
	if (H5Tget_class(ftype) != H5T_STRING) {
		describe_type(ftype, tname, sizeof(tname));
		fail(f, obj, attr, "type %s, expected a string type", tname);
		goto cleanup;
	}
	out = xcalloc((size_t)n + 1, sizeof(*out));
	if (H5Tis_variable_str(ftype) > 0)
		rc = read_vlen_strings(id, ftype, (size_t)n, out);
	else
		rc = read_fixed_strings(id, ftype, (size_t)n, out);
	if (rc < 0) {
		fail(f, obj, attr, "cannot read the strings (%s)" DAMAGED,
		     h5_reason());
		free_strings(out);
		out = NULL;
		goto cleanup;
	}
	*count = (int)n;
cleanup:
	close_id(ftype);
	return out;
}

/* ---- attributes ---- */

/*
 * Opens attribute name of obj, or returns H5I_INVALID_HID.  If it is
 * absent, *absent is set.  A required attribute (expect not NULL) then
 * fails with a message using expect, and an optional one leaves
 * err_msg() untouched.
 */
static hid_t open_attr(const struct features *f, hid_t obj,
		       const char *path, const char *name,
		       const char *expect, int *absent)
{
	hid_t attr;

	*absent = 0;
	if (H5Aexists(obj, name) <= 0) {
		*absent = 1;
		if (expect)
			fail(f, path, name, "missing, expected %s", expect);
		return H5I_INVALID_HID;
	}
	attr = H5Aopen(obj, name, H5P_DEFAULT);
	if (attr < 0)
		fail(f, path, name, "cannot open (%s)" DAMAGED, h5_reason());
	return attr;
}

/* Checks that an attribute contains one value (scalar or shape [1]). */
static int check_single(const struct features *f, hid_t attr,
			const char *path, const char *name)
{
	hssize_t n = count_elements(attr);

	if (n != 1) {
		fail(f, path, name, "%lld values, expected a single value",
		     (long long)n);
		return -1;
	}
	return 0;
}

/*
 * Reads a single string attribute into *out (NULL when an optional one
 * is absent).  Returns 0 or -1 with err_set().
 */
static int attr_string(const struct features *f, hid_t obj,
		       const char *path, const char *name,
		       const char *expect, char **out)
{
	int absent, n;
	hid_t attr = open_attr(f, obj, path, name, expect, &absent);
	char **strings = NULL;

	*out = NULL;
	if (attr < 0)
		return absent && !expect ? 0 : -1;
	if (check_single(f, attr, path, name) == 0)
		strings = read_strings(f, attr, path, name, &n);
	close_id(attr);
	if (!strings)
		return -1;
	*out = strings[0];
	strings[0] = NULL;
	free(strings);
	return 0;
}

/*
 * Reads a single numeric attribute of class cls (H5T_INTEGER or
 * H5T_FLOAT) into *out as mem (a native type); what names the class in
 * messages.  An absent attribute is an error when expect is set, else
 * *present is 0.  Returns 0 or -1 with err_set().
 */
static int attr_number(const struct features *f, hid_t obj,
		       const char *path, const char *name, const char *expect,
		       H5T_class_t cls, hid_t mem, void *out, int *present)
{
	int absent, rc = -1;
	hid_t attr = open_attr(f, obj, path, name, expect, &absent);
	hid_t type = H5I_INVALID_HID;
	char tname[64];

	*present = attr >= 0;
	if (attr < 0)
		return absent && !expect ? 0 : -1;
	if (check_single(f, attr, path, name) < 0)
		goto cleanup;
	type = H5Aget_type(attr);
	if (H5Tget_class(type) != cls) {
		describe_type(type, tname, sizeof(tname));
		fail(f, path, name, "type %s, expected %s", tname,
		     cls == H5T_INTEGER ? "an integer" : "a float");
		goto cleanup;
	}
	if (H5Aread(attr, mem, out) < 0) {
		fail(f, path, name, "cannot read (%s)" DAMAGED, h5_reason());
		goto cleanup;
	}
	rc = 0;
cleanup:
	close_id(type);
	close_id(attr);
	return rc;
}

/*
 * Reads a single integer attribute of any integer type as long long
 * (HDF5 saturates values beyond its range).
 */
static int attr_integer(const struct features *f, hid_t obj,
			const char *path, const char *name,
			const char *expect, long long *out, int *present)
{
	return attr_number(f, obj, path, name, expect, H5T_INTEGER,
			   H5T_NATIVE_LLONG, out, present);
}

/* Reads a required single float attribute as double. */
static int attr_float(const struct features *f, hid_t obj,
		      const char *path, const char *name,
		      const char *expect, double *out)
{
	int present;

	return attr_number(f, obj, path, name, expect, H5T_FLOAT,
			   H5T_NATIVE_DOUBLE, out, &present);
}

/* ---- file, root attributes and classes ---- */

/* The causes of a failed H5Fopen() found on HDF5's error stack. */
struct open_failure {
	int lock;		/* HDF5 could not take its file lock */
	int write_flag;		/* the superblock marks the file as in use */
};

static herr_t find_open_failure(unsigned n, const H5E_error2_t *e,
				void *data)
{
	struct open_failure *of = data;

	(void)n;
	if (e->min_num == H5E_CANTLOCKFILE)
		of->lock = 1;
	/* No error code of its own: match HDF5 1.10.8's message. */
	if (e->desc && strstr(e->desc, "already open for write"))
		of->write_flag = 1;
	return 0;
}

/*
 * Returns 1 unless the file system rejects flock(2) on path: the
 * lock HDF5 failed to take then failed because another process holds
 * it, or held it a moment ago.
 */
static int lock_held_elsewhere(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), in_use = 1;

	if (fd < 0)
		return 1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		flock(fd, LOCK_UN);
	else
		in_use = errno == EWOULDBLOCK;
	close(fd);
	return in_use;
}

/*
 * Explains an H5Fopen() failure caused by a writer, in place of HDF5's
 * text; returns 0 if the failure has another cause.  HDF5 1.10 locks a
 * file with flock(2) while it is open: a writer's exclusive lock makes
 * a reader fail.  A file with a version 3 superblock (h5py's
 * libver="latest", SWMR) is also flagged as open for writing until its
 * writer closes it, so the flag stays when the writer dies.
 */
static int explain_writer(const struct features *f)
{
	struct open_failure of = { 0, 0 };

	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, find_open_failure, &of);
	if (of.lock && lock_held_elsewhere(f->path))
		err_set("%s: another process has this file open for writing "
			"(HDF5 file lock); wait until it has closed the file, "
			"then run again", f->path);
	else if (of.lock)
		err_set("%s: cannot lock the file (HDF5: %s); the file system "
			"does not support flock(2), so set "
			"HDF5_USE_FILE_LOCKING=FALSE if no other process "
			"writes the file", f->path, h5_reason());
	else if (of.write_flag)
		err_set("%s: HDF5 marks this file as open for writing: "
			"another process is writing it (SWMR), or its writer "
			"stopped before closing it; wait for the writer, or if "
			"none is running, clear the mark with 'h5clear -s %s' "
			"(package hdf5-tools) and check the file with "
			"'dembench inspect --check %s'", f->path, f->path,
			f->path);
	return of.lock || of.write_flag;
}

static int open_file(struct features *f)
{
	struct stat st;
	hid_t file;

	if (stat(f->path, &st) != 0) {
		err_set("%s: cannot open: %s", f->path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set("%s: not a regular file, expected an HDF5 feature "
			"file", f->path);
		return -1;
	}
	file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (file < 0 && !explain_writer(f))
		err_set("%s: not an HDF5 file or truncated (HDF5: %s); "
			"rebuild or copy the file again", f->path,
			h5_reason());
	if (file < 0)
		return -1;
	f->hid = (long)file;
	return 0;
}

static int read_root(struct features *f)
{
	hid_t root = file_id(f);
	char *format = NULL;
	long long version;
	int present, rc = -1;

	if (attr_string(f, root, "/", "format", "\"" FEATURES_FORMAT
			"\" (is this a dembench feature file?)", &format) < 0)
		return -1;
	if (strcmp(format, FEATURES_FORMAT) != 0) {
		fail(f, "/", "format", "\"%s\", expected \"%s\"", format,
		     FEATURES_FORMAT);
		goto cleanup;
	}
	if (attr_integer(f, root, "/", "version", "the integer 1",
			 &version, &present) < 0)
		goto cleanup;
	if (version != FEATURES_VERSION) {
		fail(f, "/", "version", "%lld, expected %d (the only format "
		     "version this dembench reads)", version,
		     FEATURES_VERSION);
		goto cleanup;
	}
	rc = attr_string(f, root, "/", "description", NULL,
			 &f->description);
cleanup:
	free(format);
	return rc;
}

/* Reads the optional /classes; n_classes stays 0 when it is absent. */
static int read_classes(struct features *f)
{
	hid_t dset;
	hsize_t dims[2];
	int n = 0;

	if (!link_exists(f, "/classes"))
		return 0;
	dset = open_object(f, "/classes", H5I_DATASET,
			   "of [C] class names");
	if (dset < 0)
		return -1;
	if (get_dims(f, dset, "/classes", NULL, 1, dims,
		     "[C] class names") == 0)
		f->classes = read_strings(f, dset, "/classes", NULL, &n);
	close_id(dset);
	if (!f->classes)
		return -1;
	if (n == 0) {
		fail(f, "/classes", NULL, "empty, expected [C] class names "
		     "with C >= 1 (or no /classes)");
		return -1;
	}
	f->n_classes = n;
	return 0;
}

/* ---- tasks ---- */

/* Returns the index of name in a NULL-terminated list, or -1. */
static int index_of(char **list, const char *name)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return i;
	return -1;
}

/*
 * Checks that order names every member of /tasks exactly once and
 * nothing else.
 */
static int check_order(const struct features *f, char **order,
		       char **members)
{
	for (int i = 0; order[i]; i++) {
		if (index_of(members, order[i]) < 0) {
			fail(f, "/tasks", "order", "names \"%s\", which is "
			     "not in /tasks; expected only names of task "
			     "groups", order[i]);
			return -1;
		}
		if (index_of(order, order[i]) != i) {
			fail(f, "/tasks", "order", "names \"%s\" twice, "
			     "expected each task once", order[i]);
			return -1;
		}
	}
	for (int i = 0; members[i]; i++) {
		if (index_of(order, members[i]) < 0) {
			fail(f, "/tasks", "order", "does not name the task "
			     "\"%s\"; expected every task in /tasks",
			     members[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * Returns the task names in the file's declared order: the /tasks
 * attribute order when present, else the alphabetical member order.
 */
static char **task_order(const struct features *f, hid_t tasks,
			 int *count)
{
	char **members, **order = NULL;
	int n_members, n_order = 0, absent;
	hid_t attr;
	hsize_t dims[2];

	members = list_members(f, tasks, "/tasks", &n_members);
	if (!members)
		return NULL;
	if (n_members == 0) {
		fail(f, "/tasks", NULL, "no tasks, expected at least one "
		     "group /tasks/<name>");
		goto fail;
	}
	attr = open_attr(f, tasks, "/tasks", "order", NULL, &absent);
	if (attr < 0 && absent) {
		*count = n_members;
		return members;
	}
	if (attr >= 0 && get_dims(f, attr, "/tasks", "order", 1, dims,
				  "[T] task names") == 0)
		order = read_strings(f, attr, "/tasks", "order", &n_order);
	close_id(attr);
	if (!order || check_order(f, order, members) < 0)
		goto fail;
	free_strings(members);
	*count = n_order;
	return order;
fail:
	free_strings(order);
	free_strings(members);
	return NULL;
}

/* Reads the optional corruption and severity attributes of a task. */
static int read_task_attrs(const struct features *f, hid_t group,
			   const char *path, struct task_info *t)
{
	long long severity = 0;
	int present;

	if (attr_string(f, group, path, "corruption", NULL,
			&t->corruption) < 0)
		return -1;
	if (attr_integer(f, group, path, "severity", NULL, &severity,
			 &present) < 0)
		return -1;
	if (severity < INT_MIN || severity > INT_MAX) {
		fail(f, path, "severity", "%lld, expected a value that "
		     "fits in a 32-bit int", severity);
		return -1;
	}
	t->severity = (int)severity;
	return 0;
}

/*
 * Decides whether task t stores features or logits, and checks that it
 * agrees with the tasks before it (first is 1 for the first task).
 * Returns the dataset name, or NULL with err_set().
 */
static const char *task_kind(struct features *f, const char *path,
			     int first)
{
	char *feat = xasprintf("%s/features", path);
	char *logits = xasprintf("%s/logits", path);
	int has_feat = link_exists(f, feat);
	int has_logits = link_exists(f, logits);
	const char *kind = NULL;

	free(feat);
	free(logits);
	if (has_feat && has_logits)
		fail(f, path, NULL, "has both features and logits, expected "
		     "one of them");
	else if (!has_feat && !has_logits)
		fail(f, path, NULL, "has neither features nor logits, "
		     "expected features [N x D] (or logits [N x C])");
	else if (!first && has_logits != f->is_logits)
		fail(f, path, NULL, "stores %s but %s stores %s; expected "
		     "features in every task or logits in every task",
		     has_logits ? "logits" : "features", f->tasks[0].name,
		     f->is_logits ? "logits" : "features");
	else
		kind = has_logits ? "logits" : "features";
	if (kind && first)
		f->is_logits = has_logits;
	return kind;
}

/* Checks that a task's features or logits are float32 or float64. */
static int check_float_type(const struct features *f, hid_t dset,
			    const char *path)
{
	hid_t type = H5Dget_type(dset);
	char tname[64];
	int ok;

	/* HDF5 converts float16 (numpy's default for half) and float64
	 * to float32 as it reads. */
	ok = H5Tget_class(type) == H5T_FLOAT &&
	     (H5Tget_size(type) == 2 || H5Tget_size(type) == 4 ||
	      H5Tget_size(type) == 8);
	if (!ok) {
		describe_type(type, tname, sizeof(tname));
		fail(f, path, NULL, "type %s, expected float32 (float16 or "
		     "float64 are converted)", tname);
	}
	close_id(type);
	return ok ? 0 : -1;
}

/* Checks the type and shape of a task's features or logits. */
static int check_task_data(struct features *f, const char *path,
			   const char *kind, int first, hsize_t *n)
{
	int logits = strcmp(kind, "logits") == 0;
	const char *shape = logits ? "[N x C] logits" : "[N x D] features";
	hid_t dset = open_object(f, path, H5I_DATASET, logits ?
				 "of [N x C] logits" : "of [N x D] features");
	hsize_t dims[2];
	int rc = -1;

	if (dset < 0)
		return -1;
	if (check_float_type(f, dset, path) < 0 ||
	    get_dims(f, dset, path, NULL, 2, dims, shape) < 0)
		goto cleanup;
	if (dims[0] == 0 || dims[1] == 0 || dims[1] > INT_MAX) {
		fail(f, path, NULL, "shape [%llu x %llu], expected %s with "
		     "N >= 1 and 1 <= %c <= %d", (unsigned long long)dims[0],
		     (unsigned long long)dims[1], shape, logits ? 'C' : 'D',
		     INT_MAX);
		goto cleanup;
	}
	if (!first && dims[1] != (hsize_t)f->dim) {
		fail(f, path, NULL, "shape [%llu x %llu], expected [N x %d] "
		     "as in the first task, %s", (unsigned long long)dims[0],
		     (unsigned long long)dims[1], f->dim, f->tasks[0].name);
		goto cleanup;
	}
	f->dim = (int)dims[1];
	*n = dims[0];
	rc = 0;
cleanup:
	close_id(dset);
	return rc;
}

/* Checks the type and shape [n] of a task's labels. */
static int check_task_labels(const struct features *f, const char *path,
			     const char *data_path, hsize_t n)
{
	hid_t dset = open_object(f, path, H5I_DATASET, "of [N] class ids");
	hid_t type = H5I_INVALID_HID;
	hsize_t dims[2];
	char tname[64];
	int rc = -1;

	if (dset < 0)
		return -1;
	type = H5Dget_type(dset);
	if (H5Tget_class(type) != H5T_INTEGER) {
		describe_type(type, tname, sizeof(tname));
		fail(f, path, NULL, "type %s, expected integer class ids",
		     tname);
		goto cleanup;
	}
	if (get_dims(f, dset, path, NULL, 1, dims, "[N] class ids") < 0)
		goto cleanup;
	if (dims[0] != n) {
		fail(f, path, NULL, "%llu labels, expected %llu (one per row "
		     "of %s)", (unsigned long long)dims[0],
		     (unsigned long long)n, data_path);
		goto cleanup;
	}
	rc = 0;
cleanup:
	close_id(type);
	close_id(dset);
	return rc;
}

/* Validates the group, attributes and datasets of task t (f->tasks[t]). */
static int read_task(struct features *f, int t)
{
	struct task_info *task = &f->tasks[t];
	char *path = xasprintf("/tasks/%s", task->name);
	char *data = NULL, *labels = NULL;
	const char *kind;
	hid_t group;
	hsize_t n;
	int rc = -1;

	group = open_object(f, path, H5I_GROUP, "holding features or "
			    "logits, and labels");
	if (group < 0)
		goto cleanup;
	if (read_task_attrs(f, group, path, task) < 0)
		goto cleanup;
	kind = task_kind(f, path, t == 0);
	if (!kind)
		goto cleanup;
	data = xasprintf("%s/%s", path, kind);
	labels = xasprintf("%s/labels", path);
	if (check_task_data(f, data, kind, t == 0, &n) < 0 ||
	    check_task_labels(f, labels, data, n) < 0)
		goto cleanup;
	task->n = (long)n;
	rc = 0;
cleanup:
	close_id(group);
	free(path);
	free(data);
	free(labels);
	return rc;
}

static int read_tasks(struct features *f)
{
	hid_t tasks = open_object(f, "/tasks", H5I_GROUP,
				  "with one subgroup per task");
	char **names;
	int n = 0;

	if (tasks < 0)
		return -1;
	names = task_order(f, tasks, &n);
	close_id(tasks);
	if (!names)
		return -1;
	f->tasks = xcalloc((size_t)n, sizeof(*f->tasks));
	for (int i = 0; i < n; i++) {
		f->tasks[i].name = names[i];
		names[i] = NULL;
	}
	free(names);
	f->n_tasks = n;
	for (int i = 0; i < n; i++)
		if (read_task(f, i) < 0)
			return -1;
	return 0;
}

/* ---- model ---- */

/* Finds the first non-finite value; returns its index or -1. */
static long find_non_finite(const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return (long)i;
	return -1;
}

static const char *non_finite_name(float v)
{
	if (isnan(v))
		return "NaN";
	return v > 0 ? "+Inf" : "-Inf";
}

/*
 * Reads the float parameter path, which must have the given rank and
 * dims, and contain only finite values.  why explains the expected
 * shape.  Returns a malloc'ed array or NULL with err_set().
 */
static float *read_param(const struct features *f, const char *path,
			 int rank, const hsize_t *want, const char *why)
{
	char want_s[64], got_s[64], of_shape[80];
	hid_t dset;
	hsize_t dims[2] = { 0, 0 };
	float *x = NULL;
	size_t n;
	long bad;

	format_shape(want, rank, want_s, sizeof(want_s));
	snprintf(of_shape, sizeof(of_shape), "of shape %s", want_s);
	dset = open_object(f, path, H5I_DATASET, of_shape);
	if (dset < 0)
		return NULL;
	if (check_float_type(f, dset, path) < 0 ||
	    get_dims(f, dset, path, NULL, rank, dims, want_s) < 0)
		goto cleanup;
	if (dims[0] != want[0] || (rank == 2 && dims[1] != want[1])) {
		format_shape(dims, rank, got_s, sizeof(got_s));
		fail(f, path, NULL, "shape %s, expected %s (%s)", got_s,
		     want_s, why);
		goto cleanup;
	}
	n = (size_t)dims[0] * (rank == 2 ? (size_t)dims[1] : 1);
	x = xmalloc(n * sizeof(*x));
	if (H5Dread(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
		    x) < 0) {
		fail(f, path, NULL, "cannot read (%s)" DAMAGED, h5_reason());
		goto fail;
	}
	bad = find_non_finite(x, n);
	if (bad >= 0) {
		fail(f, path, NULL, "element %ld is %s, expected finite "
		     "values", bad, non_finite_name(x[bad]));
		goto fail;
	}
	goto cleanup;
fail:
	free(x);
	x = NULL;
cleanup:
	close_id(dset);
	return x;
}

/* Reads the parameter NAME of the layer at lpath as a vector [n]. */
static float *read_vector(const struct features *f, const char *lpath,
			  const char *name, int n, const char *why)
{
	char *path = xasprintf("%s/%s", lpath, name);
	hsize_t want[1] = { (hsize_t)n };
	float *x = read_param(f, path, 1, want, why);

	free(path);
	return x;
}

static int read_batchnorm(const struct features *f, hid_t group,
			  const char *lpath, struct layer_spec *l,
			  const char *why)
{
	static const char *const names[] = { "running_mean", "running_var",
					     "weight", "bias" };
	float **params[] = { &l->running_mean, &l->running_var, &l->weight,
			     &l->bias };
	float *var;

	for (int i = 0; i < 4; i++) {
		*params[i] = read_vector(f, lpath, names[i], l->in, why);
		if (!*params[i])
			return -1;
	}
	var = l->running_var;
	for (int i = 0; i < l->in; i++) {
		if (var[i] <= 0) {
			fail(f, lpath, NULL, "running_var[%d] is %g, expected "
			     "a positive variance", i, (double)var[i]);
			return -1;
		}
	}
	if (attr_float(f, group, lpath, "eps", "a positive float",
		       &l->eps) < 0)
		return -1;
	/* eps keeps var + eps > 0 when a batch has zero variance */
	if (!(l->eps > 0 && isfinite(l->eps))) {
		fail(f, lpath, "eps", "%g, expected a positive float", l->eps);
		return -1;
	}
	return 0;
}

/* Reads the output width of a linear layer: the rows of its weight. */
static int read_out_width(const struct features *f, const char *path,
			  int *out)
{
	hid_t dset = open_object(f, path, H5I_DATASET, "of shape [out x in]");
	hsize_t dims[2];
	int rc;

	rc = dset < 0 ? -1 : get_dims(f, dset, path, NULL, 2, dims,
				      "[out x in]");
	close_id(dset);
	if (rc == 0 && (dims[0] == 0 || dims[0] > INT_MAX)) {
		fail(f, path, NULL, "%llu outputs, expected 1 to %d",
		     (unsigned long long)dims[0], INT_MAX);
		rc = -1;
	}
	if (rc == 0)
		*out = (int)dims[0];
	return rc;
}

/* Reads weight [out x in] and bias [out] of a linear layer. */
static int read_linear(const struct features *f, const char *lpath,
		       struct layer_spec *l, const char *why)
{
	char *path = xasprintf("%s/weight", lpath);
	char reason[160];
	hsize_t dims[2];
	int rc = -1;

	if (read_out_width(f, path, &l->out) < 0)
		goto cleanup;
	dims[0] = (hsize_t)l->out;
	dims[1] = (hsize_t)l->in;
	snprintf(reason, sizeof(reason), "weight is [out x in], %s", why);
	l->weight = read_param(f, path, 2, dims, reason);
	if (!l->weight)
		goto cleanup;
	l->bias = read_vector(f, lpath, "bias", l->out,
			      "[out], out = rows of weight");
	rc = l->bias ? 0 : -1;
cleanup:
	free(path);
	return rc;
}

/* Parses a layer's type attribute into *kind. */
static int read_layer_kind(const struct features *f, hid_t group,
			   const char *lpath, enum layer_kind *kind)
{
	char *type = NULL;
	int rc = 0;

	if (attr_string(f, group, lpath, "type", "\"batchnorm\", \"relu\" "
			"or \"linear\"", &type) < 0)
		return -1;
	if (strcmp(type, "batchnorm") == 0)
		*kind = LAYER_BATCHNORM;
	else if (strcmp(type, "relu") == 0)
		*kind = LAYER_RELU;
	else if (strcmp(type, "linear") == 0)
		*kind = LAYER_LINEAR;
	else {
		fail(f, lpath, "type", "\"%s\", expected \"batchnorm\", "
		     "\"relu\" or \"linear\"", type);
		rc = -1;
	}
	free(type);
	return rc;
}

/*
 * Reads /model/layer_i, whose input width is in (D for layer 0, else
 * the previous layer's output).
 */
static int read_layer(struct features *f, int i, int in)
{
	struct layer_spec *l = &f->model.layers[i];
	char *lpath = xasprintf("/model/layer_%d", i);
	char why[96];
	hid_t group = open_object(f, lpath, H5I_GROUP,
				  "with attribute type");
	int rc = -1;

	if (i == 0)
		snprintf(why, sizeof(why), "in = D of the features");
	else
		snprintf(why, sizeof(why), "in = outputs of layer_%d", i - 1);
	l->in = l->out = in;
	if (group < 0 || read_layer_kind(f, group, lpath, &l->kind) < 0)
		goto cleanup;
	if (l->kind == LAYER_BATCHNORM)
		rc = read_batchnorm(f, group, lpath, l, why);
	else if (l->kind == LAYER_LINEAR)
		rc = read_linear(f, lpath, l, why);
	else
		rc = 0;
cleanup:
	close_id(group);
	free(lpath);
	return rc;
}

/*
 * Checks that /model contains exactly layer_0 ... layer_{K-1} and returns
 * K, or -1 with err_set().
 */
static int count_layers(const struct features *f, hid_t group)
{
	char **names, check[32];
	int n = 0, rc;
	long i;

	names = list_members(f, group, "/model", &n);
	if (!names)
		return -1;
	rc = n;
	if (n == 0) {
		fail(f, "/model", NULL, "no layers, expected groups layer_0, "
		     "layer_1, ... applied in that order");
		rc = -1;
	}
	for (int k = 0; k < n && rc >= 0; k++) {
		i = strncmp(names[k], "layer_", 6) == 0 ?
		    strtol(names[k] + 6, NULL, 10) : -1;
		snprintf(check, sizeof(check), "layer_%ld", i);
		if (i < 0 || i >= n || strcmp(check, names[k]) != 0) {
			fail(f, "/model", NULL, "has a member \"%s\"; expected "
			     "only layer_0 ... layer_%d, numbered without "
			     "gaps", names[k], n - 1);
			rc = -1;
		}
	}
	free_strings(names);
	return rc;
}

/*
 * Sets n_classes for a file with features.  C comes from /classes when
 * present, else from the last layer, which must then be linear (or
 * follow the last linear layer, which keeps its width).
 */
static int check_model_output(struct features *f)
{
	int k = f->model.n_layers;
	const struct layer_spec *last = &f->model.layers[k - 1];
	int has_linear = 0;
	char path[32];

	for (int i = 0; i < k; i++)
		has_linear |= f->model.layers[i].kind == LAYER_LINEAR;
	if (f->classes && last->out != f->n_classes) {
		snprintf(path, sizeof(path), "/model/layer_%d", k - 1);
		fail(f, path, NULL, "%d outputs, expected C = %d (the "
		     "number of names in /classes), because the last layer "
		     "outputs the logits", last->out, f->n_classes);
		return -1;
	}
	if (!f->classes && !has_linear) {
		fail(f, "/model", NULL, "has no linear layer and the file "
		     "has no /classes, so the number of classes C is "
		     "unknown; add /classes or end the tail with a linear "
		     "layer");
		return -1;
	}
	f->n_classes = last->out;
	return 0;
}

static int read_features_model(struct features *f)
{
	hid_t group = open_object(f, "/model", H5I_GROUP, "with groups "
				  "layer_0, layer_1, ...; a file with "
				  "features needs the tail that maps them "
				  "to logits");
	int k, in = f->dim;

	if (group < 0)
		return -1;
	k = count_layers(f, group);
	close_id(group);
	if (k < 0)
		return -1;
	f->model.layers = xcalloc((size_t)k, sizeof(*f->model.layers));
	f->model.n_layers = k;
	for (int i = 0; i < k; i++) {
		if (read_layer(f, i, in) < 0)
			return -1;
		in = f->model.layers[i].out;
	}
	return check_model_output(f);
}

/*
 * A logits file has no /model; its model is one bias layer over the C
 * logits, initialised to zero, which is what the runner adapts.
 */
static int make_logits_model(struct features *f)
{
	struct layer_spec *l;
	char *path;

	if (link_exists(f, "/model")) {
		fail(f, "/model", NULL, "present in a file with logits; "
		     "expected no /model (the runner adapts a per-class "
		     "bias on stored logits), or features instead of logits");
		return -1;
	}
	if (f->classes && f->dim != f->n_classes) {
		path = xasprintf("/tasks/%s/logits", f->tasks[0].name);
		fail(f, path, NULL, "[N x %d], expected [N x %d] (C = the "
		     "number of names in /classes)", f->dim, f->n_classes);
		free(path);
		return -1;
	}
	f->n_classes = f->dim;
	l = xcalloc(1, sizeof(*l));
	l->kind = LAYER_BIAS;
	l->in = l->out = f->dim;
	l->bias = xcalloc((size_t)f->dim, sizeof(*l->bias));
	f->model.layers = l;
	f->model.n_layers = 1;
	return 0;
}

/* ---- public API ---- */

struct features *features_open(const char *path)
{
	struct features *f = xcalloc(1, sizeof(*f));

	/* our messages name the file and dataset; HDF5's own do not */
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	f->path = xstrdup(path);
	f->hid = H5I_INVALID_HID;
	if (open_file(f) < 0 || read_root(f) < 0 || read_classes(f) < 0 ||
	    read_tasks(f) < 0)
		goto fail;
	if ((f->is_logits ? make_logits_model(f) : read_features_model(f)) < 0)
		goto fail;
	return f;
fail:
	features_close(f);
	return NULL;
}

void features_close(struct features *f)
{
	if (!f)
		return;
	close_id(file_id(f));
	for (int i = 0; i < f->n_tasks; i++) {
		free(f->tasks[i].name);
		free(f->tasks[i].corruption);
	}
	free(f->tasks);
	tail_spec_free(&f->model);
	free_strings(f->classes);
	free(f->description);
	free(f->path);
	free(f);
}

int features_find_task(const struct features *f, const char *name)
{
	for (int i = 0; i < f->n_tasks; i++)
		if (strcmp(f->tasks[i].name, name) == 0)
			return i;
	return -1;
}

/* The open datasets of one task, with their paths for messages. */
struct task_data {
	hid_t data, labels;
	char *data_path, *labels_path;
	long n;
	int dim;
	int is_double;	/* data stored as float64 */
};

static void task_data_close(struct task_data *d)
{
	close_id(d->data);
	close_id(d->labels);
	free(d->data_path);
	free(d->labels_path);
}

/* Opens task t, already validated by features_open(). */
static int task_data_open(struct features *f, int t, struct task_data *d)
{
	const char *name = f->tasks[t].name;
	hid_t type;

	d->data_path = xasprintf("/tasks/%s/%s", name,
				 f->is_logits ? "logits" : "features");
	d->labels_path = xasprintf("/tasks/%s/labels", name);
	d->n = f->tasks[t].n;
	d->dim = f->dim;
	d->data = open_object(f, d->data_path, H5I_DATASET, "of task data");
	d->labels = open_object(f, d->labels_path, H5I_DATASET,
				"of labels");
	if (d->data < 0 || d->labels < 0) {
		task_data_close(d);
		return -1;
	}
	type = H5Dget_type(d->data);
	d->is_double = H5Tget_size(type) == 8;
	close_id(type);
	return 0;
}

/* Fails on the first NaN or Inf in rows starting at row0 of x. */
static int scan_values(const struct features *f,
		       const struct task_data *d, const float *x, long row0,
		       long rows)
{
	long bad = find_non_finite(x, (size_t)rows * (size_t)d->dim);
	int inf = bad >= 0 && !isnan(x[bad]);

	if (bad < 0)
		return 0;
	fail(f, d->data_path, NULL, "row %ld, column %ld is %s, expected "
	     "finite values%s", row0 + bad / d->dim, bad % d->dim,
	     non_finite_name(x[bad]), inf && d->is_double ?
	     " (HDF5 turns float64 values beyond the float32 range into "
	     "Inf)" : "");
	return -1;
}

/* Fails on the first label outside 0..C-1 in rows starting at row0. */
static int scan_labels(const struct features *f, const char *path,
		       const long long *y, long row0, long rows)
{
	for (long i = 0; i < rows; i++) {
		if (y[i] < 0 || y[i] >= f->n_classes) {
			fail(f, path, NULL, "row %ld is %lld, expected a "
			     "class id in 0..%d", row0 + i, y[i],
			     f->n_classes - 1);
			return -1;
		}
	}
	return 0;
}

/* Rows per chunk so that a chunk of features stays near the budget. */
static long chunk_rows(int dim)
{
	long rows = CHECK_CHUNK_BYTES / ((long)dim * (long)sizeof(float));

	return rows > 0 ? rows : 1;
}

static int read_failed(const struct features *f, const char *path,
		       long row0, long rows)
{
	fail(f, path, NULL, "cannot read rows %ld to %ld (%s)" DAMAGED, row0,
	     row0 + rows - 1, h5_reason());
	return -1;
}

/*
 * Range-checks every label in chunks.  Reading as long long first means
 * a 64-bit label such as 2^32 + 1 is reported as it is, not wrapped
 * into a valid-looking int32.
 */
static int check_label_range(const struct features *f,
			     const struct task_data *d)
{
	long step = CHECK_CHUNK_BYTES / (long)sizeof(long long);
	long long *y = xmalloc((size_t)step * sizeof(*y));
	int rc = 0;

	for (long row0 = 0; row0 < d->n && rc == 0; row0 += step) {
		long rows = d->n - row0 < step ? d->n - row0 : step;

		if (h5_read_rows(d->labels, H5T_NATIVE_LLONG, (hsize_t)row0,
			      (hsize_t)rows, 0, y) < 0)
			rc = read_failed(f, d->labels_path, row0, rows);
		else
			rc = scan_labels(f, d->labels_path, y, row0, rows);
	}
	free(y);
	return rc;
}

/* Checks every feature (or logit) for NaN and Inf, in chunks of rows. */
static int check_data_values(const struct features *f,
			     const struct task_data *d)
{
	long step = chunk_rows(d->dim);
	float *x = xmalloc((size_t)step * (size_t)d->dim * sizeof(*x));
	int rc = 0;

	for (long row0 = 0; row0 < d->n && rc == 0; row0 += step) {
		long rows = d->n - row0 < step ? d->n - row0 : step;

		if (h5_read_rows(d->data, H5T_NATIVE_FLOAT, (hsize_t)row0,
			      (hsize_t)rows, (hsize_t)d->dim, x) < 0)
			rc = read_failed(f, d->data_path, row0, rows);
		else
			rc = scan_values(f, d, x, row0, rows);
	}
	free(x);
	return rc;
}

int features_check_task(struct features *f, int t)
{
	struct task_data d;
	int rc;

	if (task_data_open(f, t, &d) < 0)
		return -1;
	rc = check_data_values(f, &d);
	if (rc == 0)
		rc = check_label_range(f, &d);
	task_data_close(&d);
	return rc;
}

int features_read_task(struct features *f, int t, float *x, int32_t *y)
{
	struct task_data d;
	int rc = -1;

	if (task_data_open(f, t, &d) < 0)
		return -1;
	if (H5Dread(d.data, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
		    x) < 0) {
		read_failed(f, d.data_path, 0, d.n);
		goto cleanup;
	}
	if (scan_values(f, &d, x, 0, d.n) < 0 ||
	    check_label_range(f, &d) < 0)
		goto cleanup;
	/* every label is in 0..C-1 now, so int32 represents it exactly */
	if (H5Dread(d.labels, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL,
		    H5P_DEFAULT, y) < 0) {
		read_failed(f, d.labels_path, 0, d.n);
		goto cleanup;
	}
	rc = 0;
cleanup:
	task_data_close(&d);
	return rc;
}

int features_task_fits(const struct features *f, int t)
{
	if ((size_t)f->tasks[t].n <= SIZE_MAX / sizeof(float) /
	    (size_t)f->dim)
		return 1;
	err_set("%s: /tasks/%s: %ld x %d values do not fit in memory",
		f->path, f->tasks[t].name, f->tasks[t].n, f->dim);
	return 0;
}

int features_load_task(struct features *f, int t, float **x, int32_t **y)
{
	long n = f->tasks[t].n;

	if (!features_task_fits(f, t))
		return -1;
	*x = xmalloc((size_t)n * (size_t)f->dim * sizeof(**x));
	*y = xmalloc((size_t)n * sizeof(**y));
	if (features_read_task(f, t, *x, *y) == 0)
		return 0;
	free(*x);
	free(*y);
	*x = NULL;
	*y = NULL;
	return -1;
}

/* Seconds a probe may take to open a feature file (metadata only). */
#define PROBE_OPEN_SECONDS 60

#if defined(__SANITIZE_ADDRESS__)
#define ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ADDRESS_SANITIZER 1
#endif
#endif

/*
 * Limits the probe's address space to half of the physical memory.
 * HDF5 1.10.8 allocates and fills what a damaged file's headers claim:
 * a fuzzed 26 KB file made it take 20 GB for one variable-length
 * string.  Under the cap its allocation fails and the probe reports
 * an error.  Not under AddressSanitizer, which reserves terabytes of
 * address space for its shadow memory.
 */
static void cap_probe_memory(void)
{
#ifndef ADDRESS_SANITIZER
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;

	if (pages <= 0 || page <= 0 || getrlimit(RLIMIT_AS, &rl) != 0)
		return;
	if (rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (rlim_t)pages / 2 * (rlim_t)page)
		rl.rlim_cur = (rlim_t)pages / 2 * (rlim_t)page;
	setrlimit(RLIMIT_AS, &rl);
#endif
}

/* Validates path and writes the error message, if any, to fd. */
int features_check_all(struct features *f, void *ctx)
{
	(void)ctx;
	for (int t = 0; t < f->n_tasks; t++)
		if (features_check_task(f, t))
			return -1;
	return 0;
}

static NORETURN void probe_child(const char *path, features_check_fn check,
				 void *ctx, int fd)
{
	struct features *f;
	int ok;

	cap_probe_memory();
	alarm(PROBE_OPEN_SECONDS);
	f = features_open(path);
	alarm(0);
	ok = f != NULL && (!check || check(f, ctx) == 0);
	if (!ok && write(fd, err_msg(), strlen(err_msg())) < 0)
		_exit(EXIT_FAILURE_RUN);
	_exit(ok ? EXIT_OK : EXIT_INPUT);
}

/* Reads what the probe wrote to fd until it exits. */
static void read_probe_message(int fd, char *buf, size_t size)
{
	size_t used = 0;
	ssize_t got;

	while (used < size - 1 &&
	       (got = read(fd, buf + used, size - 1 - used)) != 0) {
		if (got < 0 && errno != EINTR)
			break;
		used += got > 0 ? (size_t)got : 0;
	}
	buf[used] = '\0';
}

/* Turns the probe's exit status into features_probe()'s result. */
static int probe_result(const char *path, int status, const char *message)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		err_set("%s: HDF5 did not finish reading this file's metadata "
			"in %d s; the file is damaged: write it again", path,
			PROBE_OPEN_SECONDS);
		return -1;
	}
	if (WIFSIGNALED(status)) {
		err_set("%s: reading this file crashed the HDF5 library "
			"(signal %d); the file is damaged: write it again",
			path, WTERMSIG(status));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	if (*message)
		err_set("%s", message);
	else
		err_set("%s: the process that checks the file failed (exit "
			"code %d)", path, WEXITSTATUS(status));
	return 0;
}

int features_probe(const char *path, features_check_fn check, void *ctx)
{
	char message[2048];
	int fds[2], status;
	pid_t pid;

	fflush(NULL);
	if (pipe(fds) != 0) {
		err_set("%s: cannot check the file in a child process: %s",
			path, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		probe_child(path, check, ctx, fds[1]);
	}
	close(fds[1]);
	if (pid > 0)
		read_probe_message(fds[0], message, sizeof(message));
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		err_set("%s: cannot check the file in a child process: %s",
			path, strerror(errno));
		return -1;
	}
	return probe_result(path, status, message);
}
