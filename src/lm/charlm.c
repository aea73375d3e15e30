/* charlm.c — the `charlm` problem: next-character prediction with a tiny GPT (gpt.c) on a text corpus
 * (corpus.c; default: the Debian `fortunes` package). It stands in for 000 §5.3's fine-tuning of GPT-2 / Qwen3
 * on Alpaca (experiment E6).
 *
 * Objective. The loss of a window is the mean next-character cross-entropy (nats) over its T positions; a
 * minibatch's loss is the mean over its B windows. The training objective f(x) that full() reports is that
 * loss over a FIXED set of SO_LM_EVAL_WINDOWS = 128 windows spread evenly over the training text (128 x 64 =
 * 8192 predicted characters with the default context, 0.35% of fortunes' 2.3 MB of training text), NOT over the
 * whole training text: that is far too big to run through the model at every evaluation point (one pass costs
 * as much as ~2300 minibatches of 16). full()'s gradient is the exact gradient of that fixed-subset objective, so
 * ||grad f|| is measured on the same subset; the subset is the same at every evaluation, so f(x_t) carries no
 * sampling noise from one evaluation to the next. accuracy() gives the
 * next-character (argmax) accuracy on those training windows and on SO_LM_EVAL_WINDOWS windows spread evenly
 * over the held-out text (the last 10% of the corpus).
 *
 * Minibatches. Worker j owns the j-th of `workers` equal contiguous ranges of the training text. Its minibatch at
 * step t holds B windows of T+1 characters whose starts are drawn uniformly (with replacement) from the starts
 * that keep the window inside j's range, using the sequence (seed, j, t, SO_STREAM_BATCH). Stream `sub` > 0 (the
 * federated local steps) reads the same sequence from draw number sub * 2^24 on, a region no other sub touches
 * (sub < 1024, and B stays far below the 2^23 windows a region can hold). A sample is one window of T characters:
 * samples = training characters / T, so an "epoch" is as many characters as the shard holds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../core/team.h"
#include "lm.h"

#define SO_LM_EVAL_WINDOWS 128
#define SO_LM_EVAL_CHUNK 32
#define SO_LM_MAX_SUB 1024

/* The default model: 2 blocks, width 64, 4 heads, context 64 (about 110k parameters on the fortunes corpus). */
static const so__lm_shape default_shape = { .vocab = 0, .ctx = 64, .channels = 64, .heads = 4, .layers = 2 };

typedef struct lm_impl {
    int batch;
    so__lm_model model;
    so__lm_corpus corpus;
    size_t *shard;                          /* workers + 1 boundaries into the training text */
    size_t eval_train[SO_LM_EVAL_WINDOWS];  /* window starts of the fixed training subset */
    size_t eval_test[SO_LM_EVAL_WINDOWS];   /* window starts in the held-out text */
} lm_impl;

/* Windows per chunk of a minibatch: the unit of work of one thread. A chunk's forward and backward run on one
 * thread into its own gradient buffer (chunk 0: the caller's g), and the chunks are added in chunk order; the
 * chunks depend on the batch only, so the bits are the same on any number of threads. Evaluations run their
 * blocks of SO_LM_EVAL_CHUNK windows the same way. */
#define SO_LM_CHUNK 8

typedef struct lm_workspace {
    so__lm_acts **acts;  /* one per chunk, SO_LM_CHUNK windows each */
    int chunks;
    size_t *starts;
    float *bufs;         /* chunks - 1 gradient buffers */
    double *loss;        /* per chunk */
} lm_workspace;

static const lm_impl *impl_of(const so_problem *p) { return so_problem_context(p); }
const so__lm_corpus *so__lm_corpus_of(const so_problem *p) { return &impl_of(p)->corpus; }
const so__lm_model *so__lm_model_of(const so_problem *p) { return &impl_of(p)->model; }

/* The window starts of request q's minibatch: m->batch entries. */
static int batch_starts(const lm_impl *m, size_t *starts, const so_grad_request *q)
{
    const int worker = q->worker, sub = q->sub;
    if (sub < 0 || sub >= SO_LM_MAX_SUB)
        return so_error(SO_EINVAL, "charlm: minibatch stream %d out of range [0, %d)", sub, SO_LM_MAX_SUB);
    size_t lo = m->shard[worker], hi = m->shard[worker + 1];
    size_t count = hi - lo - (size_t)m->model.s.ctx; /* starts lo .. hi-T-1 keep all T+1 characters inside */
    so_rng r;
    so_rng_init(&r, q->seed, (uint32_t)worker, (uint32_t)q->step, SO_STREAM_BATCH);
    if (sub > 0) so_rng_seek(&r, (uint64_t)sub << 24);
    for (int b = 0; b < m->batch; b++) starts[b] = lo + (size_t)so_rng_below(&r, count);
    return SO_OK;
}

int so__lm_batch_starts(const so_problem *p, size_t *starts, int worker, long step, int sub)
{
    const so_grad_request q = {worker, step, sub, so_problem_seed(p)};
    return batch_starts(impl_of(p), starts, &q);
}

static int lm_grad(void *ctx, void *w, const float *x, float *g, const so_grad_request *q, double *loss)
{
    lm_impl *m = ctx;
    lm_workspace *ws = w;
    const int B = m->batch, T = m->model.s.ctx, R = SO_LM_CHUNK, nc = (B + R - 1) / R;
    const size_t d = m->model.dim;
    int rc = batch_starts(m, ws->starts, q);
    if (rc != SO_OK) return rc;
    const float scale = (float)(1.0 / ((double)B * T));
    const int team = so__team_for(nc);
#pragma omp parallel num_threads(team) if (team > 1)
    {
#pragma omp for schedule(static, 1)
        for (int c = 0; c < nc; c++) {
            const int lo = c * R, n = B - lo < R ? B - lo : R;
            float *gc = c == 0 ? g : ws->bufs + (size_t)(c - 1) * d;
            so__lm_acts_load(ws->acts[c], &m->model, m->corpus.tokens, ws->starts + lo, n);
            ws->loss[c] = so__lm_forward(ws->acts[c], &m->model, x, n, NULL);
            memset(gc, 0, d * sizeof *gc);
            so__lm_backward(gc, ws->acts[c], &m->model, x, n, scale);
        }
        so__fold_buffers(g, ws->bufs, nc - 1, d);
    }
    double sum = 0.0;
    for (int c = 0; c < nc; c++) sum += ws->loss[c];
    *loss = sum / ((double)B * T);
    return SO_OK;
}

/* Run the model over a fixed window list in blocks of SO_LM_EVAL_CHUNK windows, one block per thread; returns the
 * mean loss, adds argmax hits to *correct, and when g is non-NULL writes the gradient of the mean loss (the
 * blocks' gradients and losses added in block order). Scratch is allocated per call so evaluation is safe to run
 * beside the workers' gradients. */
static int eval_windows(const lm_impl *m, const float *x, const size_t *starts, int count, float *g,
                        long *correct, double *mean_loss)
{
    const int T = m->model.s.ctx, E = SO_LM_EVAL_CHUNK, nb = (count + E - 1) / E;
    const size_t d = m->model.dim;
    so__lm_acts *acts[(SO_LM_EVAL_WINDOWS + SO_LM_EVAL_CHUNK - 1) / SO_LM_EVAL_CHUNK] = { 0 };
    double sums[sizeof acts / sizeof acts[0]];
    long hits[sizeof acts / sizeof acts[0]];
    float *bufs = g && nb > 1 ? malloc((size_t)(nb - 1) * d * sizeof *bufs) : NULL;
    int ok = nb <= (int)(sizeof acts / sizeof acts[0]) && (!g || nb == 1 || bufs);
    for (int k = 0; ok && k < nb; k++) ok = (acts[k] = so__lm_acts_new(&m->model, E)) != NULL;
    if (ok) {
        const float scale = (float)(1.0 / ((double)count * T));
        const int team = so__team_for(nb);
#pragma omp parallel num_threads(team) if (team > 1)
        {
#pragma omp for schedule(static, 1)
            for (int k = 0; k < nb; k++) {
                const int B = count - k * E < E ? count - k * E : E;
                hits[k] = 0;
                so__lm_acts_load(acts[k], &m->model, m->corpus.tokens, starts + (size_t)k * E, B);
                sums[k] = so__lm_forward(acts[k], &m->model, x, B, &hits[k]);
                if (g) {
                    float *gk = k == 0 ? g : bufs + (size_t)(k - 1) * d;
                    memset(gk, 0, d * sizeof *gk);
                    so__lm_backward(gk, acts[k], &m->model, x, B, scale);
                }
            }
            if (g) so__fold_buffers(g, bufs, nb - 1, d);
        }
    }
    for (int k = 0; k < nb; k++) so__lm_acts_free(acts[k]);
    free(bufs);
    if (!ok) return so_error(SO_ENOMEM, "charlm: out of memory for evaluation activations");
    double sum = 0.0;
    for (int k = 0; k < nb; k++) {
        sum += sums[k];
        if (correct) *correct += hits[k];
    }
    *mean_loss = sum / ((double)count * T);
    return SO_OK;
}

static int lm_objective(void *ctx, const float *x, double *f, float *grad)
{
    const lm_impl *m = ctx;
    return eval_windows(m, x, m->eval_train, SO_LM_EVAL_WINDOWS, grad, NULL, f);
}

static int lm_accuracy(void *ctx, const float *x, double *train, double *test)
{
    const lm_impl *m = ctx;
    double positions = (double)SO_LM_EVAL_WINDOWS * m->model.s.ctx, loss;
    long hits = 0;
    int rc = eval_windows(m, x, m->eval_train, SO_LM_EVAL_WINDOWS, NULL, &hits, &loss);
    if (rc != SO_OK) return rc;
    *train = hits / positions;
    hits = 0;
    rc = eval_windows(m, x, m->eval_test, SO_LM_EVAL_WINDOWS, NULL, &hits, &loss);
    if (rc != SO_OK) return rc;
    *test = hits / positions;
    return SO_OK;
}

static int lm_init(void *ctx, float *x, uint64_t seed)
{
    const lm_impl *m = ctx;
    so__lm_init_params(x, &m->model, seed);
    return SO_OK;
}

static void lm_workspace_free(void *ctx, void *w)
{
    (void)ctx;
    lm_workspace *ws = w;
    if (!ws) return;
    if (ws->acts)
        for (int c = 0; c < ws->chunks; c++) so__lm_acts_free(ws->acts[c]);
    free(ws->acts);
    free(ws->starts);
    free(ws->bufs);
    free(ws->loss);
    free(ws);
}

static void *lm_workspace_new(void *ctx)
{
    const lm_impl *m = ctx;
    lm_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) { so_error(SO_ENOMEM, "charlm: out of memory for a workspace"); return NULL; }
    ws->chunks = (m->batch + SO_LM_CHUNK - 1) / SO_LM_CHUNK;
    ws->acts = calloc((size_t)ws->chunks, sizeof *ws->acts);
    ws->starts = malloc((size_t)m->batch * sizeof *ws->starts);
    ws->loss = calloc((size_t)ws->chunks, sizeof *ws->loss);
    if (ws->chunks > 1) ws->bufs = malloc((size_t)(ws->chunks - 1) * m->model.dim * sizeof *ws->bufs);
    int ok = ws->acts && ws->starts && ws->loss && (ws->chunks == 1 || ws->bufs);
    for (int c = 0; ok && c < ws->chunks; c++) {
        const int n = m->batch - c * SO_LM_CHUNK < SO_LM_CHUNK ? m->batch - c * SO_LM_CHUNK : SO_LM_CHUNK;
        ok = (ws->acts[c] = so__lm_acts_new(&m->model, n)) != NULL;
    }
    if (!ok) {
        lm_workspace_free(ctx, ws);
        so_error(SO_ENOMEM, "charlm: out of memory for activations of %d windows", m->batch);
        return NULL;
    }
    return ws;
}

static void lm_destroy(void *ctx)
{
    lm_impl *m = ctx;
    if (!m) return;
    so__lm_model_free(&m->model);
    so__lm_corpus_free(&m->corpus);
    free(m->shard);
    free(m);
}

static const so_oracle lm_ops = {
    .grad = lm_grad,
    .objective = lm_objective,
    .accuracy = lm_accuracy,
    .init = lm_init,
    .workspace_new = lm_workspace_new,
    .workspace_free = lm_workspace_free,
    .destroy = lm_destroy,
};

/* count window starts spread evenly (first and last included) over text [lo, lo + len), len >= T + 1 */
static void spread_windows(size_t *starts, int count, size_t lo, size_t len, int T)
{
    size_t span = len - (size_t)T - 1;
    for (int i = 0; i < count; i++) starts[i] = lo + (size_t)((double)span * i / (count - 1));
}

/* Load the corpus and build the model for cfg; fills the facts of the problem. */
static int lm_setup(lm_impl *m, const so_problem_config *cfg, const so__lm_shape *shape, so_oracle_info *info)
{
    const char *path = cfg->data ? cfg->data : SO_LM_FORTUNES_DIR;
    int rc = so__lm_corpus_load(&m->corpus, cfg->data, cfg->train_limit);
    if (rc != SO_OK) return rc;
    so__lm_shape s = *shape;
    s.vocab = m->corpus.vocab;
    if (s.vocab < 2)
        return so_error(SO_EFORMAT, "charlm: '%s' uses %d distinct character(s); need at least 2", path, s.vocab);
    if ((rc = so__lm_model_init(&m->model, &s)) != SO_OK) return rc;
    size_t T = (size_t)s.ctx, n_test = m->corpus.n - m->corpus.test_start, n_train = m->corpus.n_train;
    if (n_test < T + 1)
        return so_error(SO_EFORMAT, "charlm: '%s' is too short: %zu characters, its held-out 10%% must hold a "
                        "window of %zu", path, m->corpus.n, T + 1);
    int n = cfg->workers;
    m->shard = malloc(((size_t)n + 1) * sizeof *m->shard);
    if (!m->shard) return so_error(SO_ENOMEM, "charlm: out of memory");
    size_t min_len = n_train;
    for (int j = 0; j <= n; j++) m->shard[j] = (size_t)((double)n_train * j / n);
    for (int j = 0; j < n; j++)
        if (m->shard[j + 1] - m->shard[j] < min_len) min_len = m->shard[j + 1] - m->shard[j];
    if (min_len < T + 1)
        return so_error(SO_EINVAL, "charlm: %zu training characters over %d workers leave a shard of %zu, shorter "
                        "than one window (T+1 = %zu)", n_train, n, min_len, T + 1);
    spread_windows(m->eval_train, SO_LM_EVAL_WINDOWS, 0, n_train, s.ctx);
    spread_windows(m->eval_test, SO_LM_EVAL_WINDOWS, m->corpus.test_start, n_test, s.ctx);
    /* MPI ranks must read the same corpus with the same shape (id, dim, seed and batch are compared anyway). */
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *b = m->corpus.tokens;
    for (size_t i = 0; i < m->corpus.n; i += 4096) h = (h ^ b[i]) * 0x100000001b3ull;
    const size_t facts[6] = {m->corpus.n, n_train, (size_t)s.ctx, (size_t)s.channels, (size_t)s.heads, (size_t)s.layers};
    for (size_t i = 0; i < sizeof facts; i++) h = (h ^ ((const unsigned char *)facts)[i]) * 0x100000001b3ull;
    *info = (so_oracle_info){
        .id = "charlm", .dim = m->model.dim, .tensors = m->model.tensors, .ntensors = m->model.ntensors,
        .workers = n, .batch = cfg->batch, .samples = n_train / T, .min_shard = min_len / T, .seed = cfg->seed,
        .fingerprint = h, .objective_grad = 1,
    };
    return SO_OK;
}

so_problem *so__lm_create_shape(const so_problem_config *cfg, const so__lm_shape *shape)
{
    lm_impl *m = calloc(1, sizeof *m);
    if (!m) {
        so_error(SO_ENOMEM, "charlm: out of memory");
        return NULL;
    }
    m->batch = cfg->batch;
    so_oracle_info info;
    int rc = lm_setup(m, cfg, shape, &info);
    if (rc != SO_OK) {
        lm_destroy(m);
        return NULL;
    }
    return so_problem_create_oracle(&lm_ops, m, &info);
}

static so_problem *lm_create(const so_problem_config *cfg) { return so__lm_create_shape(cfg, &default_shape); }

const so_problem_family so__family_charlm = {
    "charlm", "a 2-layer character-level GPT on Debian's fortunes (stands in for seed 000, sec. 5.3)", lm_create};
