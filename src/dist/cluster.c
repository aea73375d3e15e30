/* cluster.c — n workers running one distributed algorithm: configuration, the round skeleton every algorithm
 * shares (workers in parallel -> transport -> vote -> the same update everywhere), and the metrics.
 * What each algorithm computes lives in algos.c; moving bytes in the transports. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "cluster_impl.h"
#include "../sign/vote_range.h"
#include "../core/builtin.h"

void so_cluster_config_default(so_cluster_config *c)
{
    memset(c, 0, sizeof *c);
    so_optim_config_default(&c->optim);
    c->optim.algo = SO_DEFAULT_DIST_ALGO;
    c->R = 1e-3;          /* 001 section 4.2 */
    c->local_steps = 5;   /* 001 section 4.2, K = 5 */
    c->local_lr = 1e-2;
    c->ties = SO_TIES_ZERO;
    c->pattern = SO_PATTERN_PS;
    c->threads = 1;
    c->seed = 1;
}

static int finite(double v) { return isfinite(v); }

static int validate(const so_cluster_config *cfg, const so__algo *a, const so_problem *p, int n)
{
    const char *id = cfg->optim.algo ? cfg->optim.algo : "(none)";
    if (!a) return so_error(SO_EINVAL, "cluster: unknown algorithm '%s' (see 'signopt list algos')", id);
    if (a->info.kind != SO_ALGO_DIST)
        return so_error(SO_EINVAL, "cluster: '%s' is a single-node algorithm (its distributed counterparts: "
                        "'signopt list algos')", id);
    if (so_problem_workers(p) != 0 && so_problem_workers(p) != n)
        return so_error(SO_EINVAL, "cluster: the problem is split for %d workers but the transport has %d",
                        so_problem_workers(p), n);
    const so_optim_config *o = &cfg->optim;
    if (!finite(o->lr) || o->lr < 0) return so_error(SO_EINVAL, "cluster: lr must be >= 0, got %g", o->lr);
    int uses_beta = a->momentum || (a->rule != SO_RULE_NONE && a->rule != SO_RULE_SGD);
    if (uses_beta && !(o->beta >= 0 && o->beta < 1))
        return so_error(SO_EINVAL, "cluster: %s: beta must be in [0, 1), got %g", a->info.id, o->beta);
    if (a->info.uplink == SO_UPLINK_STOCHASTIC && !(cfg->R > 0 && finite(cfg->R)))
        return so_error(SO_EINVAL, "cluster: %s: R must be > 0, got %g", a->info.id, cfg->R);
    if (a->extrapolate && !finite(o->alpha))
        return so_error(SO_EINVAL, "cluster: %s: alpha must be finite (>= 0, or < 0 for auto), got %g", a->info.id,
                        o->alpha);
    if (a->local_steps && cfg->local_steps < 1)
        return so_error(SO_EINVAL, "cluster: %s: local steps must be >= 1, got %d", a->info.id, cfg->local_steps);
    if (a->local_steps && !(cfg->local_lr >= 0 && finite(cfg->local_lr)))
        return so_error(SO_EINVAL, "cluster: %s: local lr must be >= 0, got %g", a->info.id, cfg->local_lr);
    if (o->lr_vec)
        return so_error(SO_EINVAL, "cluster: %s: per-coordinate rates (lr_vec) are for single-node ids", a->info.id);
    /* The sign methods' update is the vote alone (docs/algorithms.md, "Distributed methods"): a weight decay would
     * otherwise be accepted and silently do nothing. The fp32 baselines apply it in their single-node rule. */
    if (a->info.uplink != SO_UPLINK_FP32 && o->weight_decay != 0)
        return so_error(SO_EINVAL, "cluster: %s: weight decay is applied by the dist-* baselines only (the sign "
                        "methods step by the vote alone), got %g", a->info.id, o->weight_decay);
    if (cfg->ties < SO_TIES_ZERO || cfg->ties > SO_TIES_RANDOM)
        return so_error(SO_EINVAL, "cluster: unknown tie rule %d", (int)cfg->ties);
    if (cfg->zero_vote < SO_ZERO_VOTE_PLUS || cfg->zero_vote > SO_ZERO_VOTE_RANDOM)
        return so_error(SO_EINVAL, "cluster: unknown zero vote %d", (int)cfg->zero_vote);
    if (cfg->zero_vote != SO_ZERO_VOTE_PLUS && a->info.uplink != SO_UPLINK_SIGN)
        return so_error(SO_EINVAL, "cluster: %s: the zero vote applies to the deterministic sign uplink (mv-signsgd, "
                        "mv-signum, mv-scaled-signsgd); its stochastic or fp32 uplink has no exact-zero case",
                        a->info.id);
    if (cfg->zero_vote == SO_ZERO_VOTE_ABSTAIN && cfg->pattern == SO_PATTERN_SHARDED)
        return so_error(SO_EINVAL, "cluster: zero vote abstain is not available with the sharded pattern (use ps "
                        "or allgather)");
    if (cfg->pattern != SO_PATTERN_PS && cfg->pattern != SO_PATTERN_ALLGATHER && cfg->pattern != SO_PATTERN_SHARDED)
        return so_error(SO_EINVAL, "cluster: unknown communication pattern %d", (int)cfg->pattern);
    if (cfg->byzantine < 0 || cfg->byzantine > n)
        return so_error(SO_EINVAL, "cluster: byzantine workers must be in [0, %d], got %d", n, cfg->byzantine);
    if (!(cfg->dropout >= 0 && cfg->dropout <= 1))
        return so_error(SO_EINVAL, "cluster: dropout must be in [0, 1], got %g", cfg->dropout);
    if (cfg->threads < 0) return so_error(SO_EINVAL, "cluster: threads must be >= 0, got %d", cfg->threads);
    if (o->momentum_init != SO_INIT_AUTO && o->momentum_init != SO_INIT_ZERO && o->momentum_init != SO_INIT_FIRST_GRAD)
        return so_error(SO_EINVAL, "cluster: unknown momentum init %d", (int)o->momentum_init);
    return SO_OK;
}

/* Every rank must run the same configuration, or the ranks silently compute different things: hash each field
 * that changes the result (threads do not) and let the transport compare them with rank 0's. */
static int check_ranks(const so_cluster_config *cfg, const so_problem *p, so_transport *t)
{
    enum { NF = 24 };
    uint64_t h[NF];
    const char *names[NF] = {
        "algorithm", "lr", "beta", "beta2", "eps", "weight decay", "nesterov", "momentum init", "R", "alpha",
        "local steps", "local lr", "ties", "byzantine", "dropout", "pattern", "fp32 reduce", "lr schedule", "seed",
        "problem", "dimension", "problem seed and batch", "problem configuration", "zero vote",
    };
    const so_optim_config *o = &cfg->optim;
    const so_schedule *s = &o->schedule;
    int k = 0;
#define HASH(ptr, size) (h[k++] = so__hash_bytes(SO_HASH_INIT, (ptr), (size)))
#define HASHV(v) HASH(&(v), sizeof(v))
    const char *algo = o->algo ? o->algo : "";
    HASH(algo, strlen(algo));
    HASHV(o->lr); HASHV(o->beta); HASHV(o->beta2); HASHV(o->eps); HASHV(o->weight_decay);
    HASHV(o->nesterov);
    int init = (int)o->momentum_init;
    HASHV(init);
    HASHV(cfg->R); HASHV(o->alpha); HASHV(cfg->local_steps); HASHV(cfg->local_lr);
    int ties = (int)cfg->ties, byz[2] = { cfg->byzantine, cfg->byzantine_random }, pattern = (int)cfg->pattern;
    HASHV(ties); HASHV(byz); HASHV(cfg->dropout); HASHV(pattern); HASHV(cfg->fp32_allreduce);
    uint64_t sh = SO_HASH_INIT;
    int kind = (int)s->kind;
    sh = so__hash_bytes(sh, &kind, sizeof kind);
    sh = so__hash_bytes(sh, &s->factor, sizeof s->factor);
    sh = so__hash_bytes(sh, &s->c, sizeof s->c);
    sh = so__hash_bytes(sh, s->milestones, (size_t)(s->n_milestones > 0 ? s->n_milestones : 0) * sizeof(long));
    sh = so__hash_bytes(sh, &s->warmup, sizeof s->warmup);
    sh = so__hash_bytes(sh, &s->then_cosine, sizeof s->then_cosine);
    sh = so__hash_bytes(sh, &s->total_steps, sizeof s->total_steps);
    h[k++] = sh;
    HASHV(cfg->seed);
    const char *pid = so_problem_id(p);
    HASH(pid, strlen(pid));
    size_t dim = so_problem_dim(p);
    HASHV(dim);
    uint64_t pb[2] = { so_problem_seed(p), (uint64_t)so_problem_batch(p) };
    HASHV(pb);
    uint64_t fp = so__problem_fingerprint(p);
    HASHV(fp);
    int zv = (int)cfg->zero_vote;
    HASHV(zv);
#undef HASH
#undef HASHV
    return so__transport_check_fields(t, h, names, k);
}

static void *alloc_zero(size_t count, size_t size, int *rc)
{
    if (*rc != SO_OK) return NULL;
    if (count == 0) count = 1;
    void *m = calloc(count, size);
    if (!m) *rc = so_error(SO_ENOMEM, "cluster: out of memory for %zu x %zu bytes", count, size);
    return m;
}

so_cluster *so_cluster_create(const so_cluster_config *cfg, so_problem *p, so_transport *t)
{
    if (!cfg || !p || !t) {
        so_error(SO_EINVAL, "cluster: config, problem and transport are required");
        return NULL;
    }
    /* The collective check comes first, so that ranks whose configurations differ fail together instead of
     * some failing validation while the others wait for them. */
    int rc = check_ranks(cfg, p, t);
    if (rc != SO_OK) return NULL;
    const so__algo *a = so__algo_find(cfg->optim.algo);
    if (validate(cfg, a, p, t->n) != SO_OK) return NULL;
    if (cfg->fp32_allreduce && !t->in_process && !t->ops->allreduce_sum) {
        so_error(SO_EUNSUPPORTED, "cluster: fp32 allreduce: this transport has no allreduce");
        return NULL;
    }

    so_cluster *c = calloc(1, sizeof *c);
    if (!c) {
        so_error(SO_ENOMEM, "cluster: out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    snprintf(c->algo_id, sizeof c->algo_id, "%s", a->info.id);
    c->cfg.optim.algo = c->algo_id;
    c->algo = a;
    c->init = cfg->optim.momentum_init == SO_INIT_AUTO ? a->info.momentum_init : cfg->optim.momentum_init;
    c->alpha = cfg->optim.alpha < 0 ? 0.0 : cfg->optim.alpha;
    c->p = p;
    c->t = t;
    c->n = t->n;
    c->first = t->first;
    c->count = t->count;
    c->d = so_problem_dim(p);
    c->words = so_packed_words(c->d);
    int threads = cfg->threads;
#ifdef _OPENMP
    if (threads == 0) threads = omp_get_max_threads();
#endif
    if (threads < 1) threads = 1;
    if (threads > c->count) threads = c->count;
    c->threads = threads;
    c->last_loss = NAN;

    size_t n = (size_t)c->n, d = c->d;
    c->present = alloc_zero(n, 1, &rc);
    c->stats = alloc_zero(n, sizeof *c->stats, &rc);
    c->grad = alloc_zero((size_t)threads * d, sizeof *c->grad, &rc);
    c->ws = alloc_zero((size_t)threads, sizeof *c->ws, &rc);
    if (a->info.uplink == SO_UPLINK_FP32) {
        c->acc = alloc_zero(d, sizeof *c->acc, &rc);
    } else {
        const int abstain = cfg->zero_vote == SO_ZERO_VOTE_ABSTAIN;
        c->mwords = abstain ? 2 * c->words : c->words;
        c->msgs = alloc_zero(n * c->mwords, sizeof *c->msgs, &rc);
        c->rows = alloc_zero(abstain ? 2 * n : n, sizeof *c->rows, &rc);
        if (abstain) c->neg = alloc_zero(n * c->words, sizeof *c->neg, &rc);
        c->down_words = 2 * c->words + 1;
        c->down = alloc_zero(c->down_words, sizeof *c->down, &rc);
        /* Sharded: L = ceil(words / n) rounded up to even (a shard starts on a Philox block of tie words). An
         * in-process transport votes the shards where the messages already are; a distributed one moves them. */
        size_t L = (c->words + n - 1) / n;
        c->shard = L + (L & 1);
        if (cfg->pattern == SO_PATTERN_SHARDED && !t->in_process) {
            c->sh_send = alloc_zero((size_t)c->count * n * c->shard, sizeof *c->sh_send, &rc);
            c->sh_recv = alloc_zero((size_t)c->count * n * c->shard, sizeof *c->sh_recv, &rc);
            c->sh_res = alloc_zero((size_t)c->count * 2 * c->shard, sizeof *c->sh_res, &rc);
            c->sh_all = alloc_zero(n * 2 * c->shard, sizeof *c->sh_all, &rc);
        }
    }
    if (a->info.norm_channel) c->norms = alloc_zero(n, sizeof *c->norms, &rc);
    if (a->momentum) {
        c->mom = alloc_zero((size_t)c->count * d, sizeof *c->mom, &rc);
        c->started = alloc_zero((size_t)c->count, 1, &rc);
    }
    if (a->local_steps) c->z = alloc_zero((size_t)threads * d, sizeof *c->z, &rc);
    if (a->extrapolate && c->alpha != 0) {
        c->x_prev = alloc_zero(d, sizeof *c->x_prev, &rc);
        c->y = alloc_zero(d, sizeof *c->y, &rc);
    }
    for (int i = 0; rc == SO_OK && i < threads; i++) {
        c->ws[i] = so_problem_workspace_new(p);
        if (!c->ws[i]) rc = SO_ENOMEM; /* the problem left its message */
    }
    if (rc == SO_OK && a->rule != SO_RULE_NONE) {
        /* The fp32 baselines: the single-node rule of the row on the mean gradient, with this configuration. */
        so_optim_config oc = cfg->optim;
        oc.algo = so__algo_of_rule(a->rule)->info.id;
        size_t ntensors = 0;
        const so_tensor *tensors = so_problem_tensors(p, &ntensors);
        c->opt = so_optim_create(&oc, d, tensors, ntensors);
        if (!c->opt) rc = SO_EINVAL;
    }
    if (rc != SO_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", so_errmsg());
        so_cluster_destroy(c);
        so_error(rc, "%s", msg);
        return NULL;
    }
    return c;
}

void so_cluster_destroy(so_cluster *c)
{
    if (!c) return;
    if (c->ws)
        for (int i = 0; i < c->threads; i++) so_workspace_free(c->ws[i]);
    so_optim_destroy(c->opt);
    free(c->present); free(c->stats); free(c->grad); free(c->ws); free(c->acc);
    free(c->msgs); free(c->rows); free(c->neg); free(c->down); free(c->norms); free(c->mom); free(c->started);
    free(c->z); free(c->x_prev); free(c->y);
    free(c->sh_send); free(c->sh_recv); free(c->sh_res); free(c->sh_all);
    free(c);
}

/* Worker j is absent from round t iff its draw (seed, j, t, SO_STREAM_DROPOUT) is below P: every rank computes
 * the same set without a message. */
static void mark_present(so_cluster *c, uint32_t step)
{
    c->n_present = 0;
    for (int j = 0; j < c->n; j++) {
        int here = c->cfg.dropout <= 0 ||
                   !(so_rand_uniformf_at(c->cfg.seed, (uint32_t)j, step, SO_STREAM_DROPOUT, 0) < c->cfg.dropout);
        c->present[j] = (unsigned char)here;
        c->n_present += here;
    }
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Worker threads pay off only when a round has enough work: a fork/join costs microseconds on idle cores and
 * milliseconds when the cores are shared (spinning threads wait for a time slice), which dominated rounds of
 * small synthetic problems. Gradients over fewer coordinates than this, summed over the hosted workers, run on
 * the calling thread; the results are the same either way. */
#define PARALLEL_MIN_WORK ((size_t)1 << 15)

static int use_threads(const so_cluster *c)
{
    return c->threads > 1 && (size_t)c->count * c->d >= PARALLEL_MIN_WORK;
}

/* The message is thread-local: keep the first failing worker's for the calling thread. */
static void note_failure(so_cluster *c, int j, int *failed)
{
#pragma omp critical
    if (j < *failed) {
        *failed = j;
        snprintf(c->errmsg, sizeof c->errmsg, "%s", so_errmsg());
    }
}

/* Sign methods: worker_round for every hosted worker on the cluster's threads; each writes its own slots. */
static void run_workers(so_cluster *c, const float *point, uint32_t step)
{
    int failed = c->n;
#pragma omp parallel num_threads(c->threads) if (use_threads(c))
    {
        int tid = thread_id();
        float *g = c->grad + (size_t)tid * c->d;
        float *z = c->z ? c->z + (size_t)tid * c->d : NULL;
#pragma omp for schedule(dynamic, 1)
        for (int k = 0; k < c->count; k++) {
            int j = c->first + k;
            memset(&c->stats[j], 0, sizeof c->stats[j]);
            if (!c->present[j]) continue;
            int rc = so__worker_round(c, j, step, point, g, z, c->ws[tid]);
            c->stats[j].rc = rc;
            if (rc != SO_OK) note_failure(c, j, &failed);
        }
    }
}

/* Every rank learns every worker's loss, ||g||_inf and status; a failure anywhere fails the round everywhere. */
static int exchange_stats(so_cluster *c, uint32_t step)
{
    int rc = c->t->ops->gather(c->t, c->stats, c->stats + c->first, sizeof *c->stats, 1);
    if (rc != SO_OK) return rc;
    double loss = 0.0;
    for (int j = 0; j < c->n; j++) {
        if (!c->present[j]) continue;
        if (c->stats[j].rc != SO_OK) {
            if (j >= c->first && j < c->first + c->count) return so_error(c->stats[j].rc, "%s", c->errmsg);
            return so_error(SO_ECOMM, "%s: worker %d failed in round %u (its rank has the reason)", c->algo_id, j,
                            step);
        }
        loss += c->stats[j].loss;
        if (c->stats[j].linf > c->g_linf) c->g_linf = c->stats[j].linf;
    }
    c->last_loss = loss / c->n_present;
    return SO_OK;
}

/* Shard s of the vote: words [s L, s L + nw) of the downlink from rows that hold just those words (NULL: absent),
 * into sign and zero (L words each). The random draws are the global words' (vote_range.h), so the shards put
 * together are the whole vote of so__server_decide bit for bit. */
static void shard_decide(so_cluster *c, uint32_t step, int s, const uint64_t *const *rows, uint64_t *sign,
                         uint64_t *zero)
{
    size_t w0 = (size_t)s * c->shard;
    if (w0 >= c->words) return;
    size_t nw = c->words - w0 < c->shard ? c->words - w0 : c->shard;
    if (c->algo->info.downlink == SO_DOWNLINK_STOCHASTIC)
        so__vote_stochastic_range(sign, rows, (size_t)c->n, c->d, w0, nw, c->cfg.seed, step);
    else
        so__vote_majority_range(sign, c->cfg.ties == SO_TIES_ZERO ? zero : NULL, rows, (size_t)c->n, c->d, w0, nw,
                                c->cfg.ties, c->cfg.seed, step);
}

/* The sharded pattern (docs/algorithms.md, "Communication patterns"): worker s owns coordinates words
 * [s L, (s + 1) L); every worker sends shard s of its packed message to worker s (an all-to-all: each rank sends and
 * receives (n - 1)/n of a message), each owner votes its shard, and the 1- or 2-bit shard results are all-gathered
 * (again (n - 1)/n of the downlink per rank). Per-rank traffic does not grow with n. In-process, the shards are
 * voted in place, shard by shard, by the same shard_decide. */
static int sharded_decide(so_cluster *c, uint32_t step)
{
    so_transport *t = c->t;
    const size_t L = c->shard, W = c->words, n = (size_t)c->n;
    uint64_t *sign = c->down, *zero = c->down + W;
    memset(c->down, 0, c->down_words * sizeof *c->down);
    if (t->in_process) {
        for (int s = 0; (size_t)s * L < W; s++) {
            for (size_t j = 0; j < n; j++) c->rows[j] = c->present[j] ? c->msgs + j * W + (size_t)s * L : NULL;
            shard_decide(c, step, s, c->rows, sign + (size_t)s * L, zero + (size_t)s * L);
        }
        return SO_OK;
    }
    /* worker first + k's message, cut into n shards of L words (the tail zero-padded) */
    for (int k = 0; k < c->count; k++) {
        const uint64_t *msg = c->msgs + (size_t)(c->first + k) * W;
        for (size_t s = 0; s < n; s++) {
            uint64_t *dst = c->sh_send + ((size_t)k * n + s) * L;
            size_t w0 = s * L, nw = w0 >= W ? 0 : W - w0 < L ? W - w0 : L;
            if (nw) memcpy(dst, msg + w0, nw * sizeof *dst);
            if (nw < L) memset(dst + nw, 0, (L - nw) * sizeof *dst);
        }
    }
    int rc = so__transport_alltoall(t, c->sh_recv, c->sh_send, L * sizeof *c->sh_send);
    if (rc != SO_OK) return rc;
    /* The zero words travel only when a tie can happen (ties = zero, a majority downlink, an even count present:
     * what every rank knows), so the allgather moves D = 1 or 2 words per shard word, as the bit accounting counts. */
    const size_t D = c->cfg.ties == SO_TIES_ZERO && c->algo->info.downlink != SO_DOWNLINK_STOCHASTIC &&
                     c->n_present % 2 == 0 ? 2 : 1;
    memset(c->sh_res, 0, (size_t)c->count * 2 * L * sizeof *c->sh_res);
    for (int k = 0; k < c->count; k++) {
        uint64_t *res = c->sh_res + (size_t)k * D * L;
        for (size_t j = 0; j < n; j++) c->rows[j] = c->present[j] ? c->sh_recv + ((size_t)k * n + j) * L : NULL;
        /* D = 1: the zero words (all zero: no tie is possible) go to the unused half at the end */
        shard_decide(c, step, c->first + k, c->rows, res, D == 2 ? res + L : c->sh_res + (size_t)c->count * L);
    }
    rc = t->ops->gather(t, c->sh_all, c->sh_res, D * L * sizeof *c->sh_all, 1);
    if (rc != SO_OK) return rc;
    for (size_t s = 0; s < n && s * L < W; s++) {
        size_t nw = W - s * L < L ? W - s * L : L;
        memcpy(sign + s * L, c->sh_all + s * D * L, nw * sizeof *sign);
        if (D == 2) memcpy(zero + s * L, c->sh_all + s * 2 * L + L, nw * sizeof *zero);
    }
    return SO_OK;
}

/* M_t = (1/M) sum_m ||g_m||_1 over the present workers, summed in worker order (as so__server_decide). */
static void norm_channel(so_cluster *c)
{
    double s = 0.0;
    for (int j = 0; j < c->n; j++)
        if (c->present[j]) s += c->norms[j];
    float M = (float)(s / c->n_present);
    memcpy(&c->down[2 * c->words], &M, sizeof M);
}

/* Sign methods: 1-bit messages, the vote on the root (PS), on every rank (allgather) or by shards (sharded), the
 * same step. */
static int round_sign(so_cluster *c, float *x, const float *point, uint32_t step, double lr)
{
    so_transport *t = c->t;
    int sharded = c->cfg.pattern == SO_PATTERN_SHARDED;
    int to_all = c->cfg.pattern == SO_PATTERN_ALLGATHER;
    run_workers(c, point, step);
    int rc = exchange_stats(c, step);
    if (rc != SO_OK) return rc;
    if (sharded) {
        rc = sharded_decide(c, step);
        if (rc == SO_OK && c->norms) rc = t->ops->gather(t, c->norms, c->norms + c->first, sizeof *c->norms, 1);
        if (rc != SO_OK) return rc;
        if (c->norms) norm_channel(c);
    } else {
        rc = t->ops->gather(t, c->msgs, c->msgs + (size_t)c->first * c->mwords, c->mwords * sizeof *c->msgs, to_all);
        if (rc == SO_OK && c->norms) rc = t->ops->gather(t, c->norms, c->norms + c->first, sizeof *c->norms, to_all);
        if (rc != SO_OK) return rc;
        if (to_all || t->rank == 0) so__server_decide(c, step);
        if (!to_all) rc = t->ops->bcast(t, c->down, c->down_words * sizeof *c->down);
        if (rc != SO_OK) return rc;
    }
    float scale = (float)lr;
    if (c->norms) {
        float M;
        memcpy(&M, &c->down[2 * c->words], sizeof M);
        scale = (float)(lr * (double)M);
    }
    const uint64_t *zero = c->algo->info.downlink == SO_DOWNLINK_MAJORITY && c->cfg.ties == SO_TIES_ZERO
                               ? c->down + c->words : NULL;
    if (c->x_prev) {
        memcpy(c->x_prev, x, c->d * sizeof *x);
        c->have_prev = 1;
    }
    so_vote_apply(x, c->down, zero, c->d, scale);
    return SO_OK;
}

/* Uncompressed baselines: the fp32 gradients summed in worker order, divided by the present count, then one step
 * of the single-node rule on every rank. The threads compute gradients in parallel into their own buffer and
 * add them one after the other in worker order (an ordered loop), so memory is per thread, not per worker, and
 * the sum has the same bits whatever the thread count. With MPI each rank has one worker: one iteration. */
static int round_mean(so_cluster *c, float *x, const float *point, uint32_t step)
{
    int to_all = c->cfg.pattern != SO_PATTERN_PS, allreduce = c->cfg.fp32_allreduce != 0;
    memset(c->acc, 0, c->d * sizeof *c->acc);
    int failed = c->n, sum_rc = SO_OK;
#pragma omp parallel num_threads(c->threads) if (use_threads(c))
    {
        int tid = thread_id();
        float *g = c->grad + (size_t)tid * c->d;
#pragma omp for ordered schedule(static, 1)
        for (int k = 0; k < c->count; k++) {
            int j = c->first + k;
            memset(&c->stats[j], 0, sizeof c->stats[j]);
            int rc = c->present[j] ? so__worker_round(c, j, step, point, g, NULL, c->ws[tid]) : SO_OK;
            c->stats[j].rc = rc;
            if (rc != SO_OK) note_failure(c, j, &failed);
#pragma omp ordered
            {
                /* Every rank takes part in the sum even after a failure; exchange_stats then fails them all. */
                const float *const v[1] = { c->present[j] && rc == SO_OK ? g : NULL };
                if (allreduce) {
                    if (v[0])
                        for (size_t i = 0; i < c->d; i++) c->acc[i] += g[i];
                } else {
                    int src = c->t->ops->sum_ordered(c->t, c->acc, v, 1, c->d, to_all);
                    if (src != SO_OK && sum_rc == SO_OK) sum_rc = src;
                }
            }
        }
    }
    /* --fp32-reduce allreduce: this process's workers summed here, then the transport's allreduce (any order). */
    if (allreduce && c->t->ops->allreduce_sum) sum_rc = c->t->ops->allreduce_sum(c->t, c->acc, c->d);
    int rc = exchange_stats(c, step);
    if (sum_rc != SO_OK) rc = sum_rc;
    if (rc != SO_OK) return rc;
    float m = (float)c->n_present;
    for (size_t i = 0; i < c->d; i++) c->acc[i] = c->acc[i] / m;
    return so_optim_step(c->opt, x, c->acc);
}

int so__cluster_point(const so_cluster *c, const float *x, float *y)
{
    if (!c->x_prev || !c->have_prev) return 0;
    /* 001 Alg 2, step 1: y^t = x^t + alpha (x^t - x^{t-1}); in round 0, x^{-1} = x^0 (no previous: y = x). */
    const float a = (float)c->alpha;
    for (size_t i = 0; i < c->d; i++) y[i] = x[i] + a * (x[i] - c->x_prev[i]);
    return 1;
}

int so_cluster_round(so_cluster *c, float *x)
{
    uint32_t step = (uint32_t)c->round;
    double lr = so_schedule_lr(&c->cfg.optim.schedule, c->cfg.optim.lr, c->round);
    mark_present(c, step);
    const float *point = so__cluster_point(c, x, c->y) ? c->y : x;
    if (c->n_present == 0) {
        /* Nobody voted: no step, nothing sent. */
        if (c->x_prev) {
            memcpy(c->x_prev, x, c->d * sizeof *x);
            c->have_prev = 1;
        }
        c->last_loss = NAN;
        c->round++;
        return SO_OK;
    }
    int rc = c->algo->info.uplink == SO_UPLINK_FP32 ? round_mean(c, x, point, step)
                                                    : round_sign(c, x, point, step, lr);
    if (rc != SO_OK) return rc;
    uint64_t up, down;
    so__round_bits(c, c->n_present, &up, &down);
    c->up_total += up * (uint64_t)c->n_present;
    c->down_total += down * (uint64_t)c->n_present;
    c->round++;
    return SO_OK;
}

void so_cluster_bits(const so_cluster *c, uint64_t *up, uint64_t *down)
{
    *up = c->up_total / (uint64_t)c->n;
    *down = c->down_total / (uint64_t)c->n;
}

void so_cluster_bits_per_round(const so_cluster *c, uint64_t *up, uint64_t *down)
{
    so__round_bits(c, c->n, up, down);
}

double so_cluster_g_linf(const so_cluster *c) { return c->g_linf; }
double so_cluster_last_loss(const so_cluster *c) { return c->last_loss; }
long so_cluster_round_count(const so_cluster *c) { return c->round; }
