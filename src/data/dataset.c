/* dataset.c — owning and deriving data sets: freeing, binary subsets of multi-class data, and the seeded
 * epsilon-like synthetic set. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "signopt/data.h"

void so_dataset_free(so_dataset *ds)
{
    if (!ds) return;
    free(ds->x);
    free(ds->row_ptr);
    free(ds->col);
    free(ds->val);
    free(ds->y);
    memset(ds, 0, sizeof *ds);
}

int so_dataset_binary(so_dataset *out, const so_dataset *in, int class_a, int class_b)
{
    if (!out || !in) return so_error(SO_EINVAL, "so_dataset_binary: NULL argument");
    memset(out, 0, sizeof *out);
    if (class_a == class_b || class_a < 0 || class_b < 0 || class_a >= in->classes || class_b >= in->classes)
        return so_error(SO_EINVAL, "binary classes %d vs %d: expected two distinct classes in 0..%d", class_a,
                        class_b, in->classes - 1);
    size_t count_a = 0, count_b = 0, nnz = 0;
    for (size_t i = 0; i < in->n; i++) {
        int keep = in->y[i] == class_a || in->y[i] == class_b;
        count_a += in->y[i] == class_a;
        count_b += in->y[i] == class_b;
        if (keep && in->row_ptr) nnz += in->row_ptr[i + 1] - in->row_ptr[i];
    }
    if (!count_a || !count_b)
        return so_error(SO_EINVAL, "binary classes %d vs %d: class %d has no rows", class_a, class_b,
                        count_a ? class_b : class_a);
    so_dataset d = {.n = count_a + count_b, .dim = in->dim, .classes = 2, .height = in->height,
                    .width = in->width, .channels = in->channels};
    d.y = malloc(d.n * sizeof *d.y);
    int ok = d.y != NULL;
    if (in->x) {
        d.x = malloc(d.n * d.dim * sizeof *d.x);
        ok = ok && d.x;
    } else {
        d.row_ptr = malloc((d.n + 1) * sizeof *d.row_ptr);
        d.col = malloc((nnz ? nnz : 1) * sizeof *d.col);
        d.val = malloc((nnz ? nnz : 1) * sizeof *d.val);
        ok = ok && d.row_ptr && d.col && d.val;
    }
    if (!ok) {
        so_dataset_free(&d);
        return so_error(SO_ENOMEM, "so_dataset_binary: out of memory for %zu rows", count_a + count_b);
    }
    size_t r = 0, k = 0;
    if (d.row_ptr) d.row_ptr[0] = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (in->y[i] != class_a && in->y[i] != class_b) continue;
        d.y[r] = in->y[i] == class_b;
        if (d.x) {
            memcpy(d.x + r * d.dim, in->x + i * in->dim, d.dim * sizeof *d.x);
        } else {
            size_t len = in->row_ptr[i + 1] - in->row_ptr[i];
            memcpy(d.col + k, in->col + in->row_ptr[i], len * sizeof *d.col);
            memcpy(d.val + k, in->val + in->row_ptr[i], len * sizeof *d.val);
            k += len;
            d.row_ptr[r + 1] = k;
        }
        r++;
    }
    *out = d;
    return SO_OK;
}

/* Construction (every draw keyed by (seed, worker, step, SO_STREAM_DATA), so the set depends on the seed only,
 * never on threads):
 *   w   = z / ||z||,  z_j ~ N(0,1) from (seed, worker 0, step 0), draws in order j = 0..dim-1;
 *   x_i = u / ||u||,  u_j ~ N(0,1) from (seed, worker 1, step i) — a direction uniform on the sphere, which is
 *         what normalizing N(0, I/dim) rows gives (the 1/dim scale cancels);
 *   y_i = 1 if w.x_i >= 0 else 0 (dot product in double), then flipped when the first uniform double of
 *         (seed, worker 2, step i) is < label_noise.
 * The flips come from their own stream, so the same seed gives the same rows at every noise level. */
int so_synth_epsilon(so_dataset *out, size_t n, size_t dim, double label_noise, uint64_t seed)
{
    if (!out) return so_error(SO_EINVAL, "so_synth_epsilon: NULL argument");
    memset(out, 0, sizeof *out);
    if (n == 0 || dim == 0 || n > UINT32_MAX || dim > SIZE_MAX / sizeof(float) / n)
        return so_error(SO_EINVAL, "synthetic-epsilon %zu x %zu: expected 1 <= n < 2^32 and dim >= 1", n, dim);
    if (!(label_noise >= 0.0 && label_noise <= 1.0))
        return so_error(SO_EINVAL, "synthetic-epsilon label noise %g: expected a probability in [0, 1]",
                        label_noise);
    so_dataset d = {.n = n, .dim = dim, .classes = 2};
    d.x = malloc(n * dim * sizeof *d.x);
    d.y = malloc(n * sizeof *d.y);
    double *w = malloc(dim * sizeof *w);
    if (!d.x || !d.y || !w) {
        free(w);
        so_dataset_free(&d);
        return so_error(SO_ENOMEM, "synthetic-epsilon: out of memory for %zu x %zu", n, dim);
    }
    so_rng r;
    so_rng_init(&r, seed, 0, 0, SO_STREAM_DATA);
    double wnorm = 0.0;
    for (size_t j = 0; j < dim; j++) {
        w[j] = so_rng_normal(&r);
        wnorm += w[j] * w[j];
    }
    wnorm = sqrt(wnorm);
    for (size_t j = 0; j < dim; j++) w[j] /= wnorm;

    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        so_rng row, flip;
        so_rng_init(&row, seed, 1, (uint32_t)i, SO_STREAM_DATA);
        so_rng_init(&flip, seed, 2, (uint32_t)i, SO_STREAM_DATA);
        float *xi = d.x + i * dim;
        double norm = 0.0, dot = 0.0;
        for (size_t j = 0; j < dim; j++) {
            double u = so_rng_normal(&row);
            xi[j] = (float)u;
            norm += u * u;
        }
        float inv = (float)(1.0 / sqrt(norm));
        for (size_t j = 0; j < dim; j++) {
            xi[j] *= inv;
            dot += w[j] * xi[j];
        }
        int label = dot >= 0.0;
        if (so_rng_uniform(&flip) < label_noise) label = !label;
        d.y[i] = label;
    }
    free(w);
    *out = d;
    return SO_OK;
}
