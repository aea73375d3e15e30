/* models.c — the data problems logreg, mlp, cnn and cnn64 as gradient oracles (docs/algorithms.md, "Problems"), three
 * families registered through the public oracle interface (so_problem_create_oracle): loading
 * their data, dealing it to workers, drawing minibatches, and the full objective, gradient and accuracies.
 *
 * Minibatches. Worker j holds shard S_j (so_split_make with cfg.workers, cfg.split, cfg.seed) of n_j rows and
 * uses B_j = min(B, n_j) rows per gradient (a shard smaller than B gives its whole self every step). Minibatch
 * stream `sub` of worker j is the sequence of rows perm_{j,sub,0}, perm_{j,sub,1}, ... where perm_{j,sub,e} is a
 * Fisher-Yates shuffle of S_j from (seed, worker j, step word e + sub * 2^24, SO_STREAM_BATCH): epoch e of the
 * stream. Step t takes the stream's entries t*B_j .. t*B_j + B_j - 1, so within an epoch every row of the shard
 * is drawn exactly once (without replacement) and a minibatch may straddle two epochs. Stream 0 is the plain
 * gradient of round t; the federated local steps pass sub = 1..K, each an independent stream of its own
 * epochs, so the K+1 minibatches of a round differ (sub < 256; epochs < 2^24). A draw depends on
 * (seed, j, sub, t) only: the same under any thread count and on an MPI rank as in-process.
 *
 * Threads. The work of a call is cut into pieces fixed by the model and the batch, never by the thread count, and
 * the pieces' results are combined in a fixed order, so every bit is the same on any number of OpenMP threads
 * (tests/test_models.c, tests/sh/test_threads.sh). The cnn's minibatch runs as chunks of CNN_CHUNK rows
 * (so__cnn_grad in nets.c); an mlp or logreg minibatch is one piece (its products are too small to share). Inside
 * another team (the in-process cluster's worker threads) the pieces run in turn on the calling thread.
 *
 * Evaluation. full() runs over all training rows (the first cfg.eval_limit of them when that is set) in blocks of
 * eval_block rows (one block per thread, up to EVAL_MAX_THREADS at once), sums each block's loss and gradient in
 * double in block order, and divides by N at the end; it
 * remembers the training accuracy it met on the way, so accuracy() at the same x only has to run the test set.
 * Train accuracy is over the same rows (after train_limit and eval_limit), test accuracy over the held-out set:
 * the t10k files, the LIBSVM test_data file, or the extra rows of the synthetic set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../core/team.h"
#include "layers.h"
#include "model.h"

static int batch_of(const so_model *m, model_ws *ws, const float *x, float *g, const so_dataset *ds,
                    const float *b_pm, const uint32_t *rows, size_t first, int n, float scale, double *loss_sum,
                    long *correct)
{
    model_batch_fn fn = m->kind == MODEL_LOGREG ? so__logreg_batch : so__net_batch;
    return fn(m, ws, x, g, ds, b_pm, rows, first, n, scale, loss_sum, correct);
}

/* ---- workspaces ---- */

static void ws_free(model_ws *ws)
{
    if (!ws) return;
    free(ws->rows);
    free(ws->labels);
    free(ws->g);
    free(ws->arena);
    free(ws->iarena);
    free(ws);
}

static model_ws *ws_new(const so_model *m, int cap, int parts, size_t grad_floats)
{
    model_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->m = m;
    ws->cap = cap;
    if (m->kind == MODEL_LOGREG) so__logreg_arena(m, cap, &ws->arena_floats, &ws->iarena_ints);
    else so__net_arena(m, cap, parts, &ws->arena_floats, &ws->iarena_ints);
    ws->rows = malloc((size_t)cap * sizeof *ws->rows);
    ws->labels = malloc((size_t)cap * sizeof *ws->labels);
    ws->arena = malloc((ws->arena_floats ? ws->arena_floats : 1) * sizeof *ws->arena);
    ws->iarena = malloc((ws->iarena_ints ? ws->iarena_ints : 1) * sizeof *ws->iarena);
    if (grad_floats) ws->g = malloc(grad_floats * sizeof *ws->g);
    if (!ws->rows || !ws->labels || !ws->arena || !ws->iarena || (grad_floats && !ws->g)) {
        ws_free(ws);
        return NULL;
    }
    return ws;
}

typedef model_grad_ws grad_ws;

static void model_workspace_free(void *ctx, void *w)
{
    const so_model *m = ctx;
    grad_ws *ws = w;
    if (!ws) return;
    if (ws->part)
        for (int c = 0; c < m->chunks; c++) ws_free(ws->part[c]);
    free(ws->part);
    ws_free(ws->whole);
    free(ws->rows);
    free(ws->bufs);
    free(ws);
}

static void *model_workspace_new(void *ctx)
{
    const so_model *m = ctx;
    grad_ws *ws = calloc(1, sizeof *ws);
    int ok = ws != NULL;
    if (ok) {
        const int cnn = m->kind == MODEL_CNN;
        ws->m = m;
        ws->rows = malloc((size_t)m->batch_cap * sizeof *ws->rows);
        ws->whole = ws_new(m, m->batch_cap, cnn ? NET_DENSE : NET_ALL, 0);
        ok = ws->rows && ws->whole;
        if (ok && cnn) {
            ws->part = calloc((size_t)m->chunks, sizeof *ws->part);
            if (m->chunks > 1) ws->bufs = malloc((size_t)(m->chunks - 1) * so__cnn_conv_dim(m) * sizeof *ws->bufs);
            ok = ws->part && (m->chunks == 1 || ws->bufs);
            for (int c = 0; ok && c < m->chunks; c++) ok = (ws->part[c] = ws_new(m, m->chunk_rows, NET_CONV, 0)) != NULL;
        }
    }
    if (!ok) {
        model_workspace_free(ctx, ws);
        so_error(SO_ENOMEM, "%s: out of memory for a workspace of %d rows", m->id, m->batch_cap);
        return NULL;
    }
    return ws;
}

/* ---- minibatches ---- */

static void shuffle(uint32_t *a, size_t n, so_rng *r)
{
    for (size_t i = n; i > 1; i--) {
        const size_t j = (size_t)so_rng_below(r, i);
        const uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* The order of worker j's shard in epoch e of stream sub, from the slot's cache or freshly shuffled. */
static int shard_order_at(so_model *m, uint64_t seed, int j, int sub, long e, const uint32_t **perm)
{
    const uint32_t *shard = m->split.idx + m->split.off[j];
    const size_t n = m->split.off[j + 1] - m->split.off[j];
    shard_order *o = &m->orders[(size_t)j * MODEL_STREAM_SLOTS + (size_t)sub % MODEL_STREAM_SLOTS];
    if (!o->perm) {
        o->perm = malloc(n * sizeof *o->perm);
        if (!o->perm) return so_error(SO_ENOMEM, "model: out of memory for worker %d's shard order", j);
        o->epoch = -1;
    }
    if (o->epoch != e || o->sub != sub) {
        memcpy(o->perm, shard, n * sizeof *o->perm);
        so_rng r;
        so_rng_init(&r, seed, (uint32_t)j, (uint32_t)(e & 0xFFFFFF) | (uint32_t)sub << 24, SO_STREAM_BATCH);
        shuffle(o->perm, n, &r);
        o->epoch = e;
        o->sub = sub;
    }
    *perm = o->perm;
    return SO_OK;
}

static int minibatch_rows(so_model *m, uint64_t seed, int j, long step, int sub, uint32_t *rows, int B)
{
    const uint64_t n = m->split.off[j + 1] - m->split.off[j];
    const uint32_t *perm = NULL;
    long have = -1;
    for (int i = 0; i < B; i++) {
        const uint64_t k = (uint64_t)step * (uint64_t)B + (uint64_t)i;
        const long e = (long)(k / n);
        if (e != have) {
            int rc = shard_order_at(m, seed, j, sub, e, &perm);
            if (rc != SO_OK) return rc;
            have = e;
        }
        rows[i] = perm[k % n];
    }
    return SO_OK;
}

static int worker_batch(const so_model *m, int j)
{
    const size_t n = m->split.off[j + 1] - m->split.off[j];
    return n < (size_t)m->batch_cap ? (int)n : m->batch_cap;
}

/* ---- the oracle ---- */

static double half_sq_norm(const float *x, size_t d)
{
    double s = 0.0;
    for (size_t i = 0; i < d; i++) s += (double)x[i] * x[i];
    return 0.5 * s;
}

static int model_grad(void *ctx, void *w, const float *x, float *g, const so_grad_request *q, double *loss)
{
    so_model *m = ctx;
    grad_ws *ws = w;
    if (!ws || ws->m != m) return so_error(SO_EINVAL, "%s: the workspace belongs to another problem", m->id);
    if (q->sub > 255) return so_error(SO_EINVAL, "%s: minibatch stream %d outside 0..255", m->id, q->sub);
    const int B = worker_batch(m, q->worker);
    int rc = minibatch_rows(m, q->seed, q->worker, q->step, q->sub, ws->rows, B);
    if (rc != SO_OK) return rc;
    double sum = 0.0;
    long correct = 0;
    if (m->kind == MODEL_CNN) {
        const int nc = (B + m->chunk_rows - 1) / m->chunk_rows;
        rc = so__cnn_grad(m, ws->part, ws->whole, ws->bufs, x, g, ws->rows, B, 1.0f / (float)B, &sum, &correct,
                          so__team_for(nc));
    } else {
        rc = batch_of(m, ws->whole, x, g, &m->train, m->train_b, ws->rows, 0, B, 1.0f / (float)B, &sum, &correct);
    }
    if (rc != SO_OK) return rc;
    *loss = sum / B;
    if (m->kind == MODEL_LOGREG) {
        const float lambda = (float)m->lambda;
        for (size_t i = 0; i < m->dim; i++) g[i] += lambda * x[i];
        *loss += m->lambda * half_sq_norm(x, m->dim);
    }
    return SO_OK;
}

/* The evaluation workspaces of `slots` threads (each with a gradient buffer of dim floats), made on first use. */
static int eval_workspace(so_model *m, size_t dim, int slots)
{
    if (m->eval_slots >= slots) return SO_OK;
    model_ws **w = realloc(m->eval_ws, (size_t)slots * sizeof *w);
    if (!w) return so_error(SO_ENOMEM, "model: out of memory for the evaluation buffers");
    m->eval_ws = w;
    for (; m->eval_slots < slots; m->eval_slots++) {
        m->eval_ws[m->eval_slots] = ws_new(m, m->eval_block, NET_ALL, dim);
        if (!m->eval_ws[m->eval_slots]) return so_error(SO_ENOMEM, "model: out of memory for the evaluation buffers");
    }
    return SO_OK;
}

/* Loss sum, correct count and (acc non-NULL) the summed gradient over all rows of ds, block by block: the team
 * computes up to `slots` consecutive blocks at once, one block per thread, and the block results are added in
 * block order, so every bit is the same as one thread going through the blocks in turn. */
static int sweep(so_model *m, const float *x, double *acc, size_t dim, const so_dataset *ds, const float *b_pm,
                 double *loss_sum, long *correct)
{
    const int P = m->eval_slots, E = m->eval_block;
    double s[P];
    long right[P];
    int rcs[P];
    *loss_sum = 0.0;
    *correct = 0;
    if (acc) memset(acc, 0, dim * sizeof *acc);
    int rc = SO_OK;
    for (size_t first = 0; first < ds->n && rc == SO_OK; first += (size_t)P * E) {
        const size_t left = (ds->n - first + (size_t)E - 1) / (size_t)E;
        const int blocks = left < (size_t)P ? (int)left : P;
        const int team = so__team_for(blocks);
#pragma omp parallel num_threads(team) if (team > 1)
        {
#pragma omp for schedule(static, 1)
            for (int k = 0; k < blocks; k++) {
                const size_t at = first + (size_t)k * E;
                const int n = ds->n - at < (size_t)E ? (int)(ds->n - at) : E;
                model_ws *ws = m->eval_ws[k];
                s[k] = 0.0;
                right[k] = 0;
                rcs[k] = batch_of(m, ws, x, acc ? ws->g : NULL, ds, b_pm, NULL, at, n, 1.0f, &s[k], &right[k]);
            }
            if (acc) {
#pragma omp for schedule(static)
                for (size_t i = 0; i < dim; i++) {
                    double a = acc[i];
                    for (int k = 0; k < blocks; k++)
                        if (rcs[k] == SO_OK) a += m->eval_ws[k]->g[i];
                    acc[i] = a;
                }
            }
        }
        for (int k = 0; k < blocks && rc == SO_OK; k++) {
            rc = rcs[k];
            *loss_sum += s[k];
            *correct += right[k];
        }
    }
    return rc;
}

/* Threads for an evaluation: one block per thread, at most as many as there are blocks, and at most
 * EVAL_MAX_THREADS (each holds a block's activations: ~35 MB for the cnn). */
#define EVAL_MAX_THREADS 16
static int eval_threads(const so_model *m, const so_dataset *ds)
{
    const size_t blocks = (ds->n + (size_t)m->eval_block - 1) / (size_t)m->eval_block;
    return so__team_for(blocks < EVAL_MAX_THREADS ? (int)blocks : EVAL_MAX_THREADS);
}

/* The training rows an evaluation runs over: the first eval_limit of them (0: all). Rows are taken in order,
 * so the subset is the same for every seed and every run. */
static so_dataset eval_rows(const so_model *m)
{
    so_dataset ev = m->train;
    if (m->eval_limit && m->eval_limit < ev.n) ev.n = m->eval_limit;
    return ev;
}

static int model_objective(void *ctx, const float *x, double *f, float *grad)
{
    so_model *m = ctx;
    pthread_mutex_lock(&m->eval_lock);
    const so_dataset ev = eval_rows(m);
    int rc = eval_workspace(m, m->dim, eval_threads(m, &ev));
    double sum = 0.0;
    long correct = 0;
    if (rc == SO_OK) rc = sweep(m, x, grad ? m->acc : NULL, m->dim, &ev, m->train_b, &sum, &correct);
    if (rc == SO_OK) {
        /* the regularizer (logreg; lambda = 0 for the nets) is added in double, so f is the exact objective */
        const double N = (double)ev.n, lambda = m->kind == MODEL_LOGREG ? m->lambda : 0.0;
        *f = sum / N + (lambda ? lambda * half_sq_norm(x, m->dim) : 0.0);
        if (grad)
            for (size_t i = 0; i < m->dim; i++) grad[i] = (float)(m->acc[i] / N + lambda * x[i]);
        memcpy(m->eval_x, x, m->dim * sizeof *x);
        m->eval_train_correct = correct;
        m->eval_x_valid = 1;
    }
    pthread_mutex_unlock(&m->eval_lock);
    return rc;
}

static int model_accuracy(void *ctx, const float *x, double *train, double *test)
{
    so_model *m = ctx;
    const so_dataset ev = eval_rows(m);
    pthread_mutex_lock(&m->eval_lock);
    int threads = eval_threads(m, &ev);
    if (m->has_test && eval_threads(m, &m->test) > threads) threads = eval_threads(m, &m->test);
    int rc = eval_workspace(m, m->dim, threads);
    double sum;
    long correct = 0;
    if (rc == SO_OK) {
        if (m->eval_x_valid && memcmp(x, m->eval_x, m->dim * sizeof *x) == 0) correct = m->eval_train_correct;
        else rc = sweep(m, x, NULL, m->dim, &ev, m->train_b, &sum, &correct);
    }
    if (rc == SO_OK) *train = (double)correct / (double)ev.n;
    *test = NAN;
    if (rc == SO_OK && m->has_test) {
        rc = sweep(m, x, NULL, m->dim, &m->test, m->test_b, &sum, &correct);
        if (rc == SO_OK) *test = (double)correct / (double)m->test.n;
    }
    pthread_mutex_unlock(&m->eval_lock);
    return rc;
}

static int model_init(void *ctx, float *x, uint64_t seed)
{
    const so_model *m = ctx;
    /* logreg is convex: it starts from x = 0, as in seed 004's experiments */
    if (m->kind == MODEL_LOGREG) {
        memset(x, 0, m->dim * sizeof *x);
        return SO_OK;
    }
    return so__net_init(m, x, seed);
}

static void model_destroy(void *ctx)
{
    so_model *m = ctx;
    if (!m) return;
    so_dataset_free(&m->train);
    so_dataset_free(&m->test);
    free(m->train_b);
    free(m->test_b);
    if (m->orders)
        for (int j = 0; j < m->split.n; j++)
            for (int s = 0; s < MODEL_STREAM_SLOTS; s++) free(m->orders[(size_t)j * MODEL_STREAM_SLOTS + s].perm);
    free(m->orders);
    so_split_free(&m->split);
    for (int k = 0; k < m->eval_slots; k++) ws_free(m->eval_ws[k]);
    free(m->eval_ws);
    free(m->acc);
    free(m->eval_x);
    pthread_mutex_destroy(&m->eval_lock);
    free(m);
}

static const so_oracle model_ops = {
    .grad = model_grad,
    .objective = model_objective,
    .accuracy = model_accuracy,
    .init = model_init,
    .workspace_new = model_workspace_new,
    .workspace_free = model_workspace_free,
    .destroy = model_destroy,
};

/* ---- data ---- */

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The held-out rows of the synthetic set: one in five beyond the training rows (at least one), generated with
 * them so they share the planted separator. Row i does not depend on the set's size, so the training rows are
 * exactly so_synth_epsilon(synth_n, ...). Label noise 0.1. */
static int load_synthetic(so_model *m, const so_problem_config *cfg)
{
    if (cfg->synth_n < 1) return so_error(SO_EINVAL, "synthetic-epsilon: synth_n must be >= 1");
    const size_t n_test = cfg->synth_n / 5 ? cfg->synth_n / 5 : 1, d = cfg->synth_dim;
    int rc = so_synth_epsilon(&m->train, cfg->synth_n + n_test, d, 0.1, cfg->seed);
    if (rc != SO_OK) return rc;
    m->test = (so_dataset){ .n = n_test, .dim = d, .classes = 2 };
    m->test.x = malloc(n_test * d * sizeof *m->test.x);
    m->test.y = malloc(n_test * sizeof *m->test.y);
    if (!m->test.x || !m->test.y) return so_error(SO_ENOMEM, "synthetic-epsilon: out of memory");
    memcpy(m->test.x, m->train.x + cfg->synth_n * d, n_test * d * sizeof *m->test.x);
    memcpy(m->test.y, m->train.y + cfg->synth_n, n_test * sizeof *m->test.y);
    m->train.n = cfg->synth_n;
    m->has_test = 1;
    return SO_OK;
}

static int load_logreg_data(so_model *m, const so_problem_config *cfg)
{
    const char *data = cfg->data ? cfg->data : "fashion-mnist";
    int rc;
    if (strcmp(data, "synthetic-epsilon") == 0 || strcmp(data, "fashion-mnist") == 0 || is_directory(data)) {
        if (cfg->test_data)
            return so_error(SO_EINVAL, "logreg: test_data is for LIBSVM training files, not '%s'", data);
        if (strcmp(data, "synthetic-epsilon") == 0) return load_synthetic(m, cfg);
        so_dataset train_all, test_all;
        rc = so_mnist_load(&train_all, &test_all, data);
        if (rc != SO_OK) return rc;
        rc = so_dataset_binary(&m->train, &train_all, cfg->binary_a, cfg->binary_b);
        if (rc == SO_OK) rc = so_dataset_binary(&m->test, &test_all, cfg->binary_a, cfg->binary_b);
        so_dataset_free(&train_all);
        so_dataset_free(&test_all);
        m->has_test = rc == SO_OK;
        return rc;
    }
    rc = so_libsvm_load_pair(&m->train, &m->test, data, cfg->test_data, cfg->max_dim);
    if (rc != SO_OK) return rc;
    if (m->train.classes != 2)
        return so_error(SO_EINVAL, "logreg: %s has %d classes, logistic regression needs 2", data, m->train.classes);
    if (!cfg->test_data) return SO_OK;
    m->has_test = 1;
    return SO_OK;
}

static int load_image_data(so_model *m, const so_problem_config *cfg)
{
    if (cfg->test_data) return so_error(SO_EINVAL, "%s: test_data is for logreg's LIBSVM files", cfg->id);
    int rc = so_mnist_load(&m->train, &m->test, cfg->data ? cfg->data : "fashion-mnist");
    if (rc != SO_OK) return rc;
    m->has_test = 1;
    m->classes = m->train.classes > m->test.classes ? m->train.classes : m->test.classes;
    m->height = m->train.height;
    m->width = m->train.width;
    m->channels = m->train.channels;
    m->in_dim = m->train.dim;
    if (!m->train.x || (size_t)m->height * m->width * m->channels != m->in_dim)
        return so_error(SO_EFORMAT, "%s: expected dense images of h x w x c pixels", cfg->id);
    return SO_OK;
}

/* b in {-1,+1} from class ids 0/1 (logreg). */
static float *plus_minus_labels(const so_dataset *ds)
{
    float *b = malloc((ds->n ? ds->n : 1) * sizeof *b);
    if (b)
        for (size_t i = 0; i < ds->n; i++) b[i] = ds->y[i] == 1 ? 1.0f : -1.0f;
    return b;
}

static int model_setup(so_model *m, const so_problem_config *cfg, size_t *min_shard)
{
    int rc = m->kind == MODEL_LOGREG ? load_logreg_data(m, cfg) : load_image_data(m, cfg);
    if (rc != SO_OK) return rc;
    if (cfg->train_limit && cfg->train_limit < m->train.n) m->train.n = cfg->train_limit;
    if (m->train.n < (size_t)cfg->workers)
        return so_error(SO_EINVAL, "%s: %zu training rows cannot be dealt to %d workers", m->id, m->train.n,
                        cfg->workers);
    if (m->kind == MODEL_LOGREG) {
        m->train_b = plus_minus_labels(&m->train);
        m->test_b = m->has_test ? plus_minus_labels(&m->test) : NULL;
        if (!m->train_b || (m->has_test && !m->test_b)) return so_error(SO_ENOMEM, "logreg: out of memory");
        /* seed 004 Example 5: lambda = 1/N */
        m->lambda = cfg->l2 < 0 ? 1.0 / (double)m->train.n : cfg->l2;
        m->classes = 2;
        rc = so__logreg_setup(m, &m->dim);
        m->eval_block = 1000;
    } else {
        rc = so__net_setup(m, &m->dim);
        /* the CNN's patches take ~0.5 MB per image (cnn64: ~1.5 MB): smaller blocks keep each thread's evaluation
         * buffers near 30 MB */
        m->eval_block = m->kind == MODEL_CNN ? (m->c1 > CNN_C1 ? 16 : 64) : 1000;
    }
    if (rc != SO_OK) return rc;
    rc = so_split_make(&m->split, &m->train, cfg->workers, &cfg->split, cfg->seed);
    if (rc != SO_OK) return rc;
    m->orders = calloc((size_t)cfg->workers * MODEL_STREAM_SLOTS, sizeof *m->orders);
    m->acc = malloc(m->dim * sizeof *m->acc);
    m->eval_x = malloc(m->dim * sizeof *m->eval_x);
    if (!m->orders || !m->acc || !m->eval_x) return so_error(SO_ENOMEM, "%s: out of memory", m->id);
    size_t smallest = m->train.n, largest = 0;
    for (int j = 0; j < cfg->workers; j++) {
        const size_t n = m->split.off[j + 1] - m->split.off[j];
        smallest = n < smallest ? n : smallest;
        largest = n > largest ? n : largest;
    }
    m->batch_cap = (size_t)cfg->batch < largest ? cfg->batch : (int)largest;
    m->chunk_rows = m->kind == MODEL_CNN ? CNN_CHUNK : m->batch_cap;
    if (m->chunk_rows > m->batch_cap) m->chunk_rows = m->batch_cap;
    m->chunks = (m->batch_cap + m->chunk_rows - 1) / m->chunk_rows;
    *min_shard = smallest;
    return SO_OK;
}

/* Everything beyond id, dim, seed and batch that changes a model problem's gradients (MPI ranks must agree on
 * it): the data named, the split, the limits, the logreg classes and lambda. */
static uint64_t fingerprint(const so_model *m, const so_problem_config *cfg)
{
    uint64_t h = 0xcbf29ce484222325ull;
#define MIX(ptr, n)                                                                                          \
    for (size_t i_ = 0; i_ < (n); i_++) h = (h ^ ((const unsigned char *)(ptr))[i_]) * 0x100000001b3ull
    const char *data = cfg->data ? cfg->data : "", *test = cfg->test_data ? cfg->test_data : "";
    MIX(data, strlen(data) + 1);
    MIX(test, strlen(test) + 1);
    double v[6] = {cfg->split.dirichlet, cfg->split.alpha, m->lambda, (double)cfg->train_limit,
                   (double)cfg->eval_limit, (double)m->train.n};
    MIX(v, sizeof v);
    int c[2] = {cfg->binary_a, cfg->binary_b};
    MIX(c, sizeof c);
#undef MIX
    return h;
}

static so_problem *model_create(const so_problem_config *cfg, model_kind kind, int c1, int c2)
{
    so_model *m = calloc(1, sizeof *m);
    if (!m) {
        so_error(SO_ENOMEM, "%s: out of memory", cfg->id);
        return NULL;
    }
    m->kind = kind;
    m->c1 = c1;
    m->c2 = c2;
    snprintf(m->id, sizeof m->id, "%s", cfg->id);
    m->eval_limit = cfg->eval_limit;
    pthread_mutex_init(&m->eval_lock, NULL);
    size_t min_shard = 0;
    int rc = model_setup(m, cfg, &min_shard);
    if (rc != SO_OK) {
        model_destroy(m);
        return NULL;
    }
    const so_oracle_info info = {
        .id = m->id, .dim = m->dim, .tensors = m->tensors, .ntensors = m->ntensors, .workers = cfg->workers,
        .batch = cfg->batch, .samples = m->train.n, .min_shard = min_shard, .seed = cfg->seed,
        .fingerprint = fingerprint(m, cfg), .objective_grad = 1,
    };
    return so_problem_create_oracle(&model_ops, m, &info);
}

static so_problem *create_logreg(const so_problem_config *c) { return model_create(c, MODEL_LOGREG, 0, 0); }
static so_problem *create_mlp(const so_problem_config *c) { return model_create(c, MODEL_MLP, 0, 0); }
static so_problem *create_cnn(const so_problem_config *c) { return model_create(c, MODEL_CNN, CNN_C1, CNN_C2); }
static so_problem *create_cnn64(const so_problem_config *c)
{
    return model_create(c, MODEL_CNN, CNN64_C1, CNN64_C2);
}

const so_problem_family so__family_logreg = {
    "logreg", "logistic regression with L2 (seed 004, Example 5): LIBSVM files or a binary Fashion-MNIST task",
    create_logreg};
const so_problem_family so__family_mlp = {
    "mlp", "784-64-64-10 ReLU network, softmax cross-entropy, on Fashion-MNIST (seed 001, sec. 4.2)", create_mlp};
const so_problem_family so__family_cnn = {
    "cnn", "two 5x5 conv + max-pool layers, dense 384 and 192, on Fashion-MNIST (seed 001, sec. 4.2)", create_cnn};
const so_problem_family so__family_cnn64 = {
    "cnn64", "the cnn with the seed's 64 and 64 channels (6.5x the work; seed 001, sec. 4.2)", create_cnn64};
