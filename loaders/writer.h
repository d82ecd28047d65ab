/*
 * writer.h - writes dembench feature files (HDF5, format 1), as
 * described in docs/file-format.md.  Used by the dataset builder, the
 * benchmarks and the tests; h5py users write the same layout by hand.
 *
 * The file is written under PATH.tmp.PID and renamed to PATH by
 * features_writer_close(), so an interrupted build leaves no file that
 * looks complete.
 */
#ifndef DEMBENCH_WRITER_H
#define DEMBENCH_WRITER_H

#include <stdint.h>

#include "tail.h"

struct features_writer;

/*
 * Creates the file with the root attributes (format, version and an
 * optional description).  Returns NULL with err_set() on failure.
 */
struct features_writer *features_writer_create(const char *path,
					       const char *description);

/* Writes /classes; names has n entries. */
int features_writer_classes(struct features_writer *w, char **names, int n);

/* Writes /model/layer_0 ... from spec. */
int features_writer_model(struct features_writer *w,
			  const struct tail_spec *spec);

/*
 * Writes /tasks/<name>/features (or logits when as_logits) [n x dim]
 * and labels [n], chunked by rows, with the corruption and severity
 * attributes when corruption is not NULL.  Tasks are listed in the
 * /tasks order attribute in the order they are written.
 */
int features_writer_task(struct features_writer *w, const char *name,
			 const float *x, const int32_t *y, long n, int dim,
			 int as_logits, const char *corruption, int severity);

/* Writes the order attribute, closes and renames; 0 or -1. */
int features_writer_close(struct features_writer *w);

/* Closes and removes the temporary file. */
void features_writer_abort(struct features_writer *w);

/* The format attribute of a model file. */
#define MODEL_FORMAT "dembench-model"

/*
 * Writes a model file: the root attributes with format MODEL_FORMAT,
 * /classes when classes is not NULL, and /model laid out as in a
 * feature file, where the bias of a logits file is a layer of type
 * "bias".  "dembench adapt --save-model" writes the adapted tail so.
 * Atomic like a feature file; 0, or -1 with err_set().
 */
int model_file_write(const char *path, const struct tail_spec *model,
		     char **classes, int n_classes, const char *description);

#endif
