/* nets.c — the two neural networks of the data problems, on images of h x w x c pixels in [0,1]:
 *   mlp: 784-64-64-10, ReLU, softmax cross-entropy (seed 001 §4.2, its MNIST MLP);
 *   cnn: conv5x5-C1 'same', ReLU, maxpool 2x2, conv5x5-C2 'same', ReLU, maxpool 2x2, dense 384, ReLU,
 *        dense 192, ReLU, dense 10, softmax cross-entropy (seed 001 §4.2, the TensorFlow CIFAR-10 tutorial net
 *        without its local response normalization; channel counts in model.h: 16/32 for `cnn`, the seed's 64/64
 *        for `cnn64`).
 * All parameters live in one flat array with named tensor views (so every optimizer works on it directly).
 * Layouts: dense weights (OC, C) as PyTorch's nn.Linear; conv weights (OC, K, K, C) to match an NHWC im2col row;
 * the CNN flattens its last pooled map in (h, w, c) order.
 * The CNN's minibatch gradient (so__cnn_grad) shares out its work in pieces fixed by the batch: chunks of CNN_CHUNK
 * rows for the convolution stage and fixed blocks of fc1, so its bits do not depend on the number of threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../core/team.h"
#include "layers.h"
#include "model.h"

/* The activations of a batch of up to cap rows, carved from the workspace arena in this order. */
typedef struct mlp_acts {
    float *input, *h1, *h2, *logits, *probs, *dlogits, *dh2, *dh1;
} mlp_acts;

/* The CNN's activations in two groups: the convolution stage (per row: the patches, feature maps and their
 * gradients, up to the pooled output) and the dense stage (from the last pooled map to the loss). A workspace
 * for whole batches holds both; the chunked gradient (so__cnn_grad) gives each chunk a convolution stage of its
 * own and the whole minibatch one dense stage. */
typedef struct cnn_conv {
    float *input, *col1, *c1, *p1, *col2, *c2, *dc2, *dp1, *dc1;
    int32_t *idx1, *idx2;
} cnn_conv;

typedef struct cnn_dense {
    float *p2, *f1, *f2, *logits, *probs, *dlogits, *df2, *df1, *dp2;
} cnn_dense;

/* Hand out consecutive pieces of an arena; with base NULL only count (the sizing pass). */
typedef struct carver {
    float *base;
    size_t used;
    int32_t *ibase;
    size_t iused;
} carver;

static float *carve(carver *c, size_t n)
{
    float *p = c->base ? c->base + c->used : NULL;
    c->used += n;
    return p;
}

static int32_t *carve_int(carver *c, size_t n)
{
    int32_t *p = c->ibase ? c->ibase + c->iused : NULL;
    c->iused += n;
    return p;
}

static void mlp_layout(mlp_acts *a, carver *c, const so_model *m, size_t cap)
{
    const size_t V = (size_t)m->classes;
    a->input = carve(c, cap * m->in_dim);
    a->h1 = carve(c, cap * MLP_H);
    a->h2 = carve(c, cap * MLP_H);
    a->logits = carve(c, cap * V);
    a->probs = carve(c, cap * V);
    a->dlogits = carve(c, cap * V);
    a->dh2 = carve(c, cap * MLP_H);
    a->dh1 = carve(c, cap * MLP_H);
}

static void conv_layout(cnn_conv *a, carver *c, const so_model *m, size_t cap)
{
    const size_t hw = (size_t)m->height * m->width, hw2 = hw / 4, hw4 = hw / 16;
    const size_t kk = (size_t)CNN_K * CNN_K;
    a->input = carve(c, cap * m->in_dim);
    a->col1 = carve(c, cap * hw * kk * m->channels);
    a->c1 = carve(c, cap * hw * m->c1);
    a->p1 = carve(c, cap * hw2 * m->c1);
    a->col2 = carve(c, cap * hw2 * kk * m->c1);
    a->c2 = carve(c, cap * hw2 * m->c2);
    a->dc2 = carve(c, cap * hw2 * m->c2);
    a->dp1 = carve(c, cap * hw2 * m->c1);
    a->dc1 = carve(c, cap * hw * m->c1);
    a->idx1 = carve_int(c, cap * hw2 * m->c1);
    a->idx2 = carve_int(c, cap * hw4 * m->c2);
}

static void dense_layout(cnn_dense *a, carver *c, const so_model *m, size_t cap)
{
    const size_t hw4 = (size_t)m->height * m->width / 16, V = (size_t)m->classes;
    a->p2 = carve(c, cap * hw4 * m->c2);
    a->f1 = carve(c, cap * CNN_F1);
    a->f2 = carve(c, cap * CNN_F2);
    a->logits = carve(c, cap * V);
    a->probs = carve(c, cap * V);
    a->dlogits = carve(c, cap * V);
    a->df2 = carve(c, cap * CNN_F2);
    a->df1 = carve(c, cap * CNN_F1);
    a->dp2 = carve(c, cap * hw4 * m->c2);
}

static void add_tensor(so_model *m, size_t *dim, const char *name, size_t size)
{
    m->tensors[m->ntensors++] = (so_tensor){ .name = name, .offset = *dim, .size = size };
    *dim += size;
}

int so__net_setup(so_model *m, size_t *dim)
{
    const size_t V = (size_t)m->classes;
    *dim = 0;
    m->ntensors = 0;
    if (m->kind == MODEL_MLP) {
        add_tensor(m, dim, "fc1.weight", MLP_H * m->in_dim);
        add_tensor(m, dim, "fc1.bias", MLP_H);
        add_tensor(m, dim, "fc2.weight", MLP_H * MLP_H);
        add_tensor(m, dim, "fc2.bias", MLP_H);
        add_tensor(m, dim, "fc3.weight", V * MLP_H);
        add_tensor(m, dim, "fc3.bias", V);
        return SO_OK;
    }
    if (m->height % 4 || m->width % 4 || m->height < 4 || m->width < 4)
        return so_error(SO_EINVAL, "cnn: images of %dx%d cannot be pooled twice by 2x2 (need multiples of 4)",
                        m->height, m->width);
    const size_t kk = (size_t)CNN_K * CNN_K, flat = (size_t)(m->height / 4) * (m->width / 4) * m->c2;
    add_tensor(m, dim, "conv1.weight", m->c1 * kk * m->channels);
    add_tensor(m, dim, "conv1.bias", m->c1);
    add_tensor(m, dim, "conv2.weight", m->c2 * kk * m->c1);
    add_tensor(m, dim, "conv2.bias", m->c2);
    add_tensor(m, dim, "fc1.weight", CNN_F1 * flat);
    add_tensor(m, dim, "fc1.bias", CNN_F1);
    add_tensor(m, dim, "fc2.weight", CNN_F2 * CNN_F1);
    add_tensor(m, dim, "fc2.bias", CNN_F2);
    add_tensor(m, dim, "fc3.weight", V * CNN_F2);
    add_tensor(m, dim, "fc3.bias", V);
    return SO_OK;
}

void so__net_arena(const so_model *m, int cap, int parts, size_t *floats, size_t *ints)
{
    carver c = { 0 };
    if (m->kind == MODEL_MLP) {
        mlp_acts a;
        mlp_layout(&a, &c, m, (size_t)cap);
    } else {
        cnn_conv a;
        cnn_dense b;
        conv_layout(&a, &c, m, parts & NET_CONV ? (size_t)cap : 0);
        dense_layout(&b, &c, m, parts & NET_DENSE ? (size_t)cap : 0);
    }
    *floats = c.used;
    *ints = c.iused;
}

/* PyTorch's default initialization of nn.Linear and nn.Conv2d: weights kaiming_uniform_(a = sqrt 5), i.e.
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = inputs per output
 * unit (C for dense, K*K*C for conv). Tensor t draws its entries in order from (seed, worker 0, step t,
 * SO_STREAM_INIT). */
int so__net_init(const so_model *m, float *x, uint64_t seed)
{
    for (size_t t = 0; t < m->ntensors; t++) {
        /* weight and bias come in pairs; both use the weight's fan-in (its size over the bias's) */
        const size_t w = t & ~(size_t)1;
        const double fan_in = (double)m->tensors[w].size / (double)m->tensors[w + 1].size;
        const float bound = (float)(1.0 / sqrt(fan_in));
        so_rng r;
        so_rng_init(&r, seed, 0, (uint32_t)t, SO_STREAM_INIT);
        float *p = x + m->tensors[t].offset;
        for (size_t i = 0; i < m->tensors[t].size; i++) p[i] = bound * (2.0f * so_rng_uniformf(&r) - 1.0f);
    }
    return SO_OK;
}

/* The input rows of the batch: contiguous rows are used in place, others are gathered into buf. */
static const float *batch_input(float *buf, const so_dataset *ds, const uint32_t *rows, size_t first, int n)
{
    if (!rows) return ds->x + first * ds->dim;
    for (int i = 0; i < n; i++) memcpy(buf + (size_t)i * ds->dim, ds->x + (size_t)rows[i] * ds->dim, ds->dim * sizeof *buf);
    return buf;
}

/* Labels of the batch, gathered into buf when the rows are not contiguous. */
static const int32_t *batch_labels(int32_t *buf, const so_dataset *ds, const uint32_t *rows, size_t first, int n)
{
    if (!rows) return ds->y + first;
    for (int i = 0; i < n; i++) buf[i] = ds->y[rows[i]];
    return buf;
}

#define T(i) (x + m->tensors[i].offset)
#define G(i) (g + m->tensors[i].offset)

static void mlp_batch(const so_model *m, model_ws *ws, const float *x, float *g, const float *in, const int32_t *y,
                      int n, float scale, double *loss_sum, long *correct)
{
    carver c = { .base = ws->arena };
    mlp_acts a;
    mlp_layout(&a, &c, m, (size_t)ws->cap);
    const int D = (int)m->in_dim, V = m->classes;
    so__dense_forward(a.h1, in, T(0), T(1), n, D, MLP_H);
    so__relu_forward(a.h1, (size_t)n * MLP_H);
    so__dense_forward(a.h2, a.h1, T(2), T(3), n, MLP_H, MLP_H);
    so__relu_forward(a.h2, (size_t)n * MLP_H);
    so__dense_forward(a.logits, a.h2, T(4), T(5), n, MLP_H, V);
    int right = 0;
    *loss_sum = so__softmax_xent_forward(a.probs, NULL, &right, a.logits, y, n, V);
    *correct += right;
    if (!g) return;
    so__softmax_xent_backward(a.dlogits, a.probs, y, n, V, scale);
    so__dense_backward(a.dh2, G(4), G(5), a.dlogits, a.h2, T(4), n, MLP_H, V);
    so__relu_backward(a.dh2, a.h2, (size_t)n * MLP_H);
    so__dense_backward(a.dh1, G(2), G(3), a.dh2, a.h1, T(2), n, MLP_H, MLP_H);
    so__relu_backward(a.dh1, a.h1, (size_t)n * MLP_H);
    so__dense_backward(NULL, G(0), G(1), a.dh1, in, T(0), n, D, MLP_H);
}

/* Convolution stage forward over n rows of in: the pooled maps go to p2 (n, flat). */
static void cnn_conv_forward(const so_model *m, const cnn_conv *a, const float *x, const float *in, int n, float *p2)
{
    const int H = m->height, W = m->width, C = m->channels, H2 = H / 2, W2 = W / 2;
    so__conv2d_forward(a->c1, a->col1, in, T(0), T(1), n, H, W, C, m->c1, CNN_K);
    so__relu_forward(a->c1, (size_t)n * H * W * m->c1);
    so__maxpool_forward(a->p1, a->idx1, a->c1, n, H, W, m->c1);
    so__conv2d_forward(a->c2, a->col2, a->p1, T(2), T(3), n, H2, W2, m->c1, m->c2, CNN_K);
    so__relu_forward(a->c2, (size_t)n * H2 * W2 * m->c2);
    so__maxpool_forward(p2, a->idx2, a->c2, n, H2, W2, m->c2);
}

/* fc1 (flat -> 384, 602k weights, most of the dense stage's work) runs as FC1_BLOCKS fixed blocks of its output
 * units (forward, weight gradient) and of its input columns (input gradient), so a team can share it; the blocks,
 * not the team, fix the bits. */
#define FC1_BLOCKS 4

static void fc1_forward_block(const so_model *m, const cnn_dense *b, const float *x, int n, int k)
{
    const int flat = (m->height / 4) * (m->width / 4) * m->c2;
    so__dense_forward_cols(b->f1, b->p2, T(4), T(5), n, flat, CNN_F1, k * CNN_F1 / FC1_BLOCKS,
                           (k + 1) * CNN_F1 / FC1_BLOCKS);
}

/* Blocks 0..FC1_BLOCKS-1: rows of fc1's weight gradient; FC1_BLOCKS..2*FC1_BLOCKS-1: columns of dp2. */
static void fc1_backward_block(const so_model *m, const cnn_dense *b, const float *x, float *g, int n, int k)
{
    const int flat = (m->height / 4) * (m->width / 4) * m->c2;
    if (k < FC1_BLOCKS)
        so__dense_backward_rows(G(4), G(5), b->df1, b->p2, n, flat, CNN_F1, k * CNN_F1 / FC1_BLOCKS,
                                (k + 1) * CNN_F1 / FC1_BLOCKS);
    else {
        k -= FC1_BLOCKS;
        so__dense_backward_input_cols(b->dp2, b->df1, T(4), n, flat, CNN_F1, k * flat / FC1_BLOCKS,
                                      (k + 1) * flat / FC1_BLOCKS);
    }
}

/* The dense stage from f1 (after fc1's forward) to df1 (before fc1's backward): small, on one thread. */
static void cnn_dense_middle(const so_model *m, const cnn_dense *b, const float *x, float *g, const int32_t *y, int n,
                             float scale, double *loss_sum, long *correct)
{
    const int V = m->classes;
    so__relu_forward(b->f1, (size_t)n * CNN_F1);
    so__dense_forward(b->f2, b->f1, T(6), T(7), n, CNN_F1, CNN_F2);
    so__relu_forward(b->f2, (size_t)n * CNN_F2);
    so__dense_forward(b->logits, b->f2, T(8), T(9), n, CNN_F2, V);
    int right = 0;
    *loss_sum = so__softmax_xent_forward(b->probs, NULL, &right, b->logits, y, n, V);
    *correct += right;
    if (!g) return;
    so__softmax_xent_backward(b->dlogits, b->probs, y, n, V, scale);
    so__dense_backward(b->df2, G(8), G(9), b->dlogits, b->f2, T(8), n, CNN_F2, V);
    so__relu_backward(b->df2, b->f2, (size_t)n * CNN_F2);
    so__dense_backward(b->df1, G(6), G(7), b->df2, b->f1, T(6), n, CNN_F1, CNN_F2);
    so__relu_backward(b->df1, b->f1, (size_t)n * CNN_F1);
}

/* Dense stage over n rows of b->p2 on the calling thread: the loss, and with g the gradients of tensors 4..9 and
 * b->dp2. */
static void cnn_dense_pass(const so_model *m, const cnn_dense *b, const float *x, float *g, const int32_t *y, int n,
                           float scale, double *loss_sum, long *correct)
{
    for (int k = 0; k < FC1_BLOCKS; k++) fc1_forward_block(m, b, x, n, k);
    cnn_dense_middle(m, b, x, g, y, n, scale, loss_sum, correct);
    if (!g) return;
    for (int k = 0; k < 2 * FC1_BLOCKS; k++) fc1_backward_block(m, b, x, g, n, k);
}

/* Convolution stage backward over n rows, from dp2 (n, flat): the gradients of tensors 0..3 into g. */
static void cnn_conv_backward(const so_model *m, const cnn_conv *a, const float *x, float *g, const float *dp2, int n)
{
    const int H = m->height, W = m->width, C = m->channels, H2 = H / 2, W2 = W / 2;
    so__maxpool_backward(a->dc2, dp2, a->idx2, n, H2, W2, m->c2);
    so__relu_backward(a->dc2, a->c2, (size_t)n * H2 * W2 * m->c2);
    so__conv2d_backward(a->dp1, G(2), G(3), a->col2, a->dc2, a->col2, T(2), n, H2, W2, m->c1, m->c2, CNN_K);
    so__maxpool_backward(a->dc1, a->dp1, a->idx1, n, H, W, m->c1);
    so__relu_backward(a->dc1, a->c1, (size_t)n * H * W * m->c1);
    so__conv2d_backward(NULL, G(0), G(1), NULL, a->dc1, a->col1, T(0), n, H, W, C, m->c1, CNN_K);
}

static void cnn_batch(const so_model *m, model_ws *ws, const float *x, float *g, const float *in, const int32_t *y,
                      int n, float scale, double *loss_sum, long *correct)
{
    carver c = { .base = ws->arena, .ibase = ws->iarena };
    cnn_conv a;
    cnn_dense b;
    conv_layout(&a, &c, m, (size_t)ws->cap);
    dense_layout(&b, &c, m, (size_t)ws->cap);
    cnn_conv_forward(m, &a, x, in, n, b.p2);
    cnn_dense_pass(m, &b, x, g, y, n, scale, loss_sum, correct);
    if (g) cnn_conv_backward(m, &a, x, g, b.dp2, n);
}

size_t so__cnn_conv_dim(const so_model *m) { return m->tensors[4].offset; }

/* Chunk k of a minibatch of B rows in chunks of R: its first row *lo, its *n rows, its convolution stage a in ws. */
static void chunk_of(const so_model *m, const model_ws *ws, int k, int R, int B, cnn_conv *a, int *lo, int *n)
{
    carver cc = { .base = ws->arena, .ibase = ws->iarena };
    conv_layout(a, &cc, m, (size_t)ws->cap);
    *lo = k * R;
    *n = B - *lo < R ? B - *lo : R;
}

int so__cnn_grad(const so_model *m, model_ws *const *part, model_ws *dense, float *bufs, const float *x, float *g,
                 const uint32_t *rows, int B, float scale, double *loss_sum, long *correct, int team)
{
    const int R = m->chunk_rows, nc = (B + R - 1) / R, flat = (m->height / 4) * (m->width / 4) * m->c2;
    const size_t conv_dim = so__cnn_conv_dim(m);
    if (B < 1 || B > dense->cap || nc > m->chunks)
        return so_error(SO_EINVAL, "cnn: batch of %d rows, workspace holds %d", B, dense->cap);
    carver cd = { .base = dense->arena };
    cnn_dense b;
    dense_layout(&b, &cd, m, (size_t)dense->cap);
    const int32_t *y = batch_labels(dense->labels, &m->train, rows, 0, B);
    double sum = 0.0;
    long right = 0;
#pragma omp parallel num_threads(team) if (team > 1)
    {
#pragma omp for schedule(static, 1)
        for (int k = 0; k < nc; k++) {
            int lo, n;
            cnn_conv a;
            chunk_of(m, part[k], k, R, B, &a, &lo, &n);
            const float *in = batch_input(a.input, &m->train, rows + lo, 0, n);
            cnn_conv_forward(m, &a, x, in, n, b.p2 + (size_t)lo * flat);
        }
        /* the dense stage: cnn_dense_pass with fc1's blocks shared out */
#pragma omp for schedule(static, 1)
        for (int k = 0; k < FC1_BLOCKS; k++) fc1_forward_block(m, &b, x, B, k);
#pragma omp single
        cnn_dense_middle(m, &b, x, g, y, B, scale, &sum, &right);
#pragma omp for schedule(static, 1)
        for (int k = 0; k < 2 * FC1_BLOCKS; k++) fc1_backward_block(m, &b, x, g, B, k);
#pragma omp for schedule(static, 1)
        for (int k = 0; k < nc; k++) {
            int lo, n;
            cnn_conv a;
            chunk_of(m, part[k], k, R, B, &a, &lo, &n);
            /* chunk 0 writes g itself; chunk k > 0 its buffer, laid out like g's first conv_dim floats */
            float *gk = k == 0 ? g : bufs + (size_t)(k - 1) * conv_dim;
            cnn_conv_backward(m, &a, x, gk, b.dp2 + (size_t)lo * flat, n);
        }
        so__fold_buffers(g, bufs, nc - 1, conv_dim);
    }
    *loss_sum = sum;
    *correct += right;
    return SO_OK;
}

#undef T
#undef G

int so__net_batch(const so_model *m, model_ws *ws, const float *x, float *g, const so_dataset *ds,
                  const float *b_pm, const uint32_t *rows, size_t first, int n, float scale, double *loss_sum,
                  long *correct)
{
    (void)b_pm;
    if (n < 1 || n > ws->cap) return so_error(SO_EINVAL, "model: batch of %d rows, workspace holds %d", n, ws->cap);
    /* the gathered rows go to the arena's input slot (its first piece in both layouts) */
    const float *in = batch_input(ws->arena, ds, rows, first, n);
    const int32_t *y = batch_labels(ws->labels, ds, rows, first, n);
    if (m->kind == MODEL_MLP) mlp_batch(m, ws, x, g, in, y, n, scale, loss_sum, correct);
    else cnn_batch(m, ws, x, g, in, y, n, scale, loss_sum, correct);
    return SO_OK;
}
