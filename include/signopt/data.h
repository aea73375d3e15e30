/* signopt/data.h — data sets and their splits across workers.
 *
 * Loaders validate everything they read (magic, dimensions, sizes, label ranges) and fail with SO_EIO or
 * SO_EFORMAT and a message naming the file and the byte offset or line; they never return partial data. */
#ifndef SIGNOPT_DATA_H
#define SIGNOPT_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A labelled data set. Dense rows (x is n x dim, row-major) or sparse CSR rows (row_ptr has n+1 entries,
 * col/val hold the nonzeros) — exactly one of x and row_ptr is non-NULL. Labels are class ids 0..classes-1. */
typedef struct so_dataset {
    size_t n, dim;
    int classes;
    float *x;
    size_t *row_ptr;
    uint32_t *col;
    float *val;
    int32_t *y;
    /* image shape for IDX data (h x w x c), 0 otherwise */
    int height, width, channels;
} so_dataset;

SO_API void so_dataset_free(so_dataset *ds);

/* IDX (MNIST format) images + labels, gzip or raw (zlib gzopen reads both). Pixels scaled to [0,1] (byte/255),
 * labels 0..9, classes = 10. SO_EIO: a file cannot be opened. SO_EFORMAT ("FILE: offset N: expected ..."): bad
 * magic, a zero dimension, data ending before the header's sizes (or continuing after them), image and label
 * counts that differ, a label > 9, a corrupt gzip stream. On failure *out is left zeroed. */
SO_API int so_idx_load(so_dataset *out, const char *images_path, const char *labels_path);
/* A folder holding train-images-idx3-ubyte[.gz] etc.; "fashion-mnist" names /usr/share/datasets/fashion-mnist.
 * Loads train and test. */
SO_API int so_mnist_load(so_dataset *train, so_dataset *test, const char *dir_or_name);
/* LIBSVM / SVMlight text ("label idx:val ..."), 1-based ascending indices. Labels +-1, 0/1 or class ids are
 * mapped to 0..classes-1 (for two classes: the smaller label -> 0; for more: non-negative ids, shifted down by
 * one when the smallest is >= 1). dim 0: the largest index seen; dim > 0 and an index beyond it is an error.
 * Result is CSR (x == NULL). SO_EFORMAT "FILE:LINE: expected ..." for any bad token; '#' comments, blank lines,
 * CRLF and "qid:N" tokens are accepted. On failure *out is left zeroed. */
SO_API int so_libsvm_load(so_dataset *out, const char *path, size_t dim);
/* The largest feature index a LIBSVM file may use when the dimension comes from the file (the command's
 * --max-dim): the model keeps several floats per feature, so a two-line file with index 2^31 is refused, naming
 * the line, instead of reserving tens of gigabytes. */
#define SO_DEFAULT_MAX_DIM ((size_t)1 << 24)
/* A training file and an optional held-out file (test_path NULL: test untouched) read with ONE label mapping, the
 * training file's: a test label the training file never has is SO_EFORMAT "TEST:LINE: label L does not occur in
 * the training file TRAIN"; test->classes = train->classes and test->dim = train->dim (a test index beyond it is an
 * error). max_dim bounds the training file's largest index (0: SO_DEFAULT_MAX_DIM). */
SO_API int so_libsvm_load_pair(so_dataset *train, so_dataset *test, const char *train_path, const char *test_path,
                               size_t max_dim);
/* Keep the rows of class a (-> label 0) and class b (-> label 1), in order, dense or CSR: a binary task from
 * image data. SO_EINVAL if a == b, a class is out of range, or a class has no rows. *out owns copies. */
SO_API int so_dataset_binary(so_dataset *out, const so_dataset *in, int class_a, int class_b);
/* An epsilon-like dense synthetic binary set (004 Ex. 5 uses epsilon, 400k x 2000): rows ~ N(0, I/dim)
 * normalized, labels from a random planted separator with label noise; seeded (SO_STREAM_DATA). The exact
 * construction (which (worker, step) keys each draw) is stated in src/data/dataset.c; the rows do not depend on
 * label_noise or on the thread count. SO_EINVAL: n == 0, n >= 2^32, dim == 0, noise outside [0, 1]. */
SO_API int so_synth_epsilon(so_dataset *out, size_t n, size_t dim, double label_noise, uint64_t seed);

/* ---- Splits across n workers ---- */
typedef struct so_split_config {
    int dirichlet;   /* 0: IID; 1: Dirichlet(alpha) label skew (Hsu et al. 2019) */
    double alpha;
} so_split_config;
/* Parse "iid" or "dirichlet:A" (A finite, > 0); SO_EINVAL otherwise. */
SO_API int so_split_parse(so_split_config *s, const char *text);

/* Worker shards as index lists into a data set: worker j holds idx[off[j] .. off[j+1]). */
typedef struct so_split {
    int n;
    size_t *off;     /* n + 1 */
    uint32_t *idx;   /* ds->n entries */
} so_split;
/* IID (cfg NULL or dirichlet 0): a seeded shuffle dealt into n shards of floor/ceil(N/n) rows. Dirichlet: each
 * class divided among the workers in proportions ~ Dir(alpha), then any empty shard given one row from the
 * largest shard, so every shard is non-empty. Every row appears exactly once. Seeded by (seed, SO_STREAM_SPLIT).
 * SO_EINVAL: n < 1, more workers than rows, alpha <= 0, labels outside 0..classes-1 (Dirichlet). */
SO_API int so_split_make(so_split *out, const so_dataset *ds, int n, const so_split_config *cfg, uint64_t seed);
SO_API void so_split_free(so_split *s);

#ifdef __cplusplus
}
#endif
#endif
