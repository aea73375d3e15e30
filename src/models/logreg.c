/* logreg.c — binary logistic regression, seed 004 Example 5:
 *   f(x) = (1/N) sum_i log(1 + exp(-b_i a_i^T x)) + (lambda/2) ||x||^2,  b_i in {-1,+1},
 * on dense rows (image data, the synthetic epsilon-like set) or sparse CSR rows (LIBSVM files). No bias term,
 * as in the formula. This file gives the data term over a batch; models.c adds the regularizer. */
#include <cblas.h>
#include <string.h>
#include "layers.h"
#include "model.h"

int so__logreg_setup(so_model *m, size_t *dim)
{
    *dim = m->train.dim;
    m->ntensors = 1;
    m->tensors[0] = (so_tensor){ .name = "weight", .offset = 0, .size = *dim };
    return SO_OK;
}

/* Arena: the gathered dense rows (cap x dim; none for CSR data), then scores z, their gradient dz and the
 * labels b of the batch (cap each). */
void so__logreg_arena(const so_model *m, int cap, size_t *floats, size_t *ints)
{
    *floats = (m->train.x ? (size_t)cap * m->train.dim : 0) + 3 * (size_t)cap;
    *ints = 0;
}

int so__logreg_batch(const so_model *m, model_ws *ws, const float *x, float *g, const so_dataset *ds,
                     const float *b_pm, const uint32_t *rows, size_t first, int n, float scale, double *loss_sum,
                     long *correct)
{
    (void)m;
    if (n < 1 || n > ws->cap) return so_error(SO_EINVAL, "logreg: batch of %d rows, workspace holds %d", n, ws->cap);
    const size_t d = ds->dim;
    float *dense = ws->arena;
    float *z = ws->arena + (ds->x ? (size_t)ws->cap * d : 0), *dz = z + ws->cap, *b = dz + ws->cap;
    for (int i = 0; i < n; i++) b[i] = b_pm[rows ? rows[i] : first + (size_t)i];
    if (ds->x) {
        /* z (n) = A (n,d) x (d); g (d) = A^T dz */
        const float *A = ds->x + first * d;
        if (rows) {
            for (int i = 0; i < n; i++) memcpy(dense + (size_t)i * d, ds->x + (size_t)rows[i] * d, d * sizeof *dense);
            A = dense;
        }
        cblas_sgemv(CblasRowMajor, CblasNoTrans, n, (int)d, 1.0f, A, (int)d, x, 1, 0.0f, z, 1);
        int right = 0;
        *loss_sum = so__logistic_loss(g ? dz : NULL, &right, z, b, (size_t)n, scale);
        *correct += right;
        if (g) cblas_sgemv(CblasRowMajor, CblasTrans, n, (int)d, 1.0f, A, (int)d, dz, 1, 0.0f, g, 1);
        return SO_OK;
    }
    /* CSR: z_i = sum_k val_k x[col_k] in double; g = sum_i dz_i a_i, rows added in batch order */
    for (int i = 0; i < n; i++) {
        const size_t r = rows ? rows[i] : first + (size_t)i;
        double s = 0.0;
        for (size_t k = ds->row_ptr[r]; k < ds->row_ptr[r + 1]; k++) s += (double)ds->val[k] * x[ds->col[k]];
        z[i] = (float)s;
    }
    int right = 0;
    *loss_sum = so__logistic_loss(g ? dz : NULL, &right, z, b, (size_t)n, scale);
    *correct += right;
    if (!g) return SO_OK;
    memset(g, 0, d * sizeof *g);
    for (int i = 0; i < n; i++) {
        const size_t r = rows ? rows[i] : first + (size_t)i;
        for (size_t k = ds->row_ptr[r]; k < ds->row_ptr[r + 1]; k++) g[ds->col[k]] += dz[i] * ds->val[k];
    }
    return SO_OK;
}
