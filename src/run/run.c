/* run.c — the training driver: steps an optimizer (single-node ids) or a cluster (distributed ids) on a
 * problem, evaluates the full objective at step 0, every eval_every steps and at the last step, keeps the
 * random iterate x_tau, and saves/restores checkpoints so that a resumed run makes the same rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "signopt/run.h"
#include "signopt/algos.h"
#include "checkpoint.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Everything one run holds; single-node runs use o/ws/g/y, distributed runs use cl. */
typedef struct driver {
    const so_run_config *cfg;
    so_problem *p;
    so_transport *t;
    int root;
    size_t d;
    float *x, *x_tau, *g, *y;
    float *gk;         /* one oracle call's gradient when the batch schedule takes several (cfg->batch_schedule) */
    long tau;          /* the papers' tau of x_tau: x_1 is the start, x_tau the iterate after tau - 1 steps; 0 none */
    so_optim *o;
    so_workspace *ws;
    so_cluster *cl;
    double g_linf;      /* single-node: largest ||g||_inf seen */
    long skipped;       /* steps dropped by --on-nan skip */
    long nan_step;      /* the step whose gradient or evaluation was not finite (SO_ENUMERIC); -1: none */
    long ckpt_step;     /* step of the checkpoint now at cfg->checkpoint; -1: none known */
    double last_loss;   /* the last minibatch loss, for progress */
    double wall0;       /* wall clock at the (virtual) start: a resumed run continues the saved clock */
    double eval_s;      /* seconds spent evaluating and checkpointing so far (train_s = wall - eval_s) */
    so_metrics_row *rows;
    size_t nrows, cap;
} driver;

static int is_dist(const driver *D) { return D->cl != NULL; }

static const char *algo_of(const so_run_config *cfg) { return cfg->method.optim.algo; }

void so_run_config_default(so_run_config *c)
{
    memset(c, 0, sizeof *c);
    so_cluster_config_default(&c->method);
    c->method.optim.algo = SO_DEFAULT_ALGO;
    c->steps = 100;
    c->eval_every = 5;
    c->seed = 1;
    c->on_nan = SO_ON_NAN_STOP;
}

static int push_row(driver *D, const so_metrics_row *r)
{
    if (D->nrows == D->cap) {
        size_t cap = D->cap ? 2 * D->cap : 64;
        so_metrics_row *q = realloc(D->rows, cap * sizeof *q);
        if (!q) return so_error(SO_ENOMEM, "run: out of memory for metrics rows");
        D->rows = q;
        D->cap = cap;
    }
    D->rows[D->nrows++] = *r;
    return SO_OK;
}

static void counters(const driver *D, uint64_t *up, uint64_t *down, double *g_linf)
{
    if (is_dist(D)) {
        so_cluster_bits(D->cl, up, down);
        *g_linf = so_cluster_g_linf(D->cl);
    } else {
        /* One worker talks to no one. */
        *up = *down = 0;
        *g_linf = D->g_linf;
    }
}

/* Evaluate the full objective at x after `step` steps into row r. */
static int evaluate(driver *D, const float *x, long step, so_metrics_row *r)
{
    double t0 = now_s();
    so_eval ev;
    int rc = so_problem_eval(D->p, x, &ev);
    if (rc != SO_OK) return rc;
    /* What the problem measures must be finite; what it does not measure (NaN by so_problem_eval) is left out. */
    int bad = (so_problem_has_objective(D->p) && !isfinite(ev.loss)) ||
              (so_problem_has_full_grad(D->p) && (!isfinite(ev.grad_l1) || !isfinite(ev.grad_l2)));
    if (bad) {
        D->nan_step = step;
        return so_error(SO_ENUMERIC, "step %ld: the objective diverged (loss %g, ||grad||_1 %g)", step, ev.loss,
                        ev.grad_l1);
    }
    memset(r, 0, sizeof *r);
    r->seed = D->cfg->seed;
    r->step = step;
    r->epoch = so_problem_epoch(D->p, step);
    r->loss = ev.loss;
    r->train_acc = ev.train_acc;
    r->test_acc = ev.test_acc;
    r->grad_l1 = ev.grad_l1;
    r->grad_l2 = ev.grad_l2;
    counters(D, &r->bits_up, &r->bits_down, &r->g_linf);
    r->wall_s = now_s() - D->wall0;
    r->train_s = t0 - D->wall0 - D->eval_s;
    return SO_OK;
}

static int save_checkpoint(driver *D, long step)
{
    size_t size = is_dist(D) ? so_cluster_state_size(D->cl) : so_optim_state_size(D->o);
    unsigned char *state = malloc(size ? size : 1);
    if (!state) return so_error(SO_ENOMEM, "run: out of memory for a checkpoint of %zu bytes", size);
    /* With MPI the cluster save is collective (the root gathers): every rank calls it, the root writes. */
    int rc = is_dist(D) ? so_cluster_save(D->cl, state, size) : so_optim_save(D->o, state, size);
    if (rc == SO_OK && D->root) {
        so_ckpt c;
        memset(&c, 0, sizeof c);
        snprintf(c.algo, sizeof c.algo, "%s", algo_of(D->cfg));
        c.d = D->d;
        c.step = step;
        c.seed = D->cfg->seed;
        c.g_linf = D->g_linf;
        c.wall_s = now_s() - D->wall0;
        c.eval_s = D->eval_s;
        c.tau_step = D->tau;
        c.skipped = D->skipped;
        c.rows = D->rows;
        c.nrows = D->nrows;
        c.x = D->x;
        c.x_tau = D->x_tau;
        c.state = state;
        c.state_size = size;
        c.meta = (char *)D->cfg->checkpoint_meta;
        c.meta_len = c.meta ? strlen(c.meta) : 0;
        rc = so__ckpt_write(D->cfg->checkpoint, &c);
    }
    if (rc == SO_OK) D->ckpt_step = step;
    free(state);
    return rc;
}

/* Load the checkpoint named by cfg->resume; returns the step it was taken at in *start. */
static int resume(driver *D, long *start)
{
    so_ckpt c;
    int rc = so__ckpt_read(D->cfg->resume, &c);
    if (rc != SO_OK) return rc;
    const char *path = D->cfg->resume;
    if (strcmp(c.algo, algo_of(D->cfg)) != 0)
        rc = so_error(SO_EINVAL, "%s: checkpoint is for algorithm '%s', not '%s'", path, c.algo, algo_of(D->cfg));
    else if (c.d != D->d)
        rc = so_error(SO_EINVAL, "%s: checkpoint has dimension %llu, the problem has %zu", path,
                      (unsigned long long)c.d, D->d);
    else if (c.seed != D->cfg->seed)
        rc = so_error(SO_EINVAL, "%s: checkpoint is for seed %llu, not %llu", path, (unsigned long long)c.seed,
                      (unsigned long long)D->cfg->seed);
    else if (c.step > D->cfg->steps)
        rc = so_error(SO_EINVAL, "%s: checkpoint is at step %ld, beyond the run's %ld steps", path, c.step,
                      D->cfg->steps);
    if (rc == SO_OK)
        rc = is_dist(D) ? so_cluster_load(D->cl, c.state, c.state_size) : so_optim_load(D->o, c.state, c.state_size);
    for (size_t i = 0; rc == SO_OK && i < c.nrows; i++) rc = push_row(D, &c.rows[i]);
    if (rc == SO_OK) {
        memcpy(D->x, c.x, D->d * sizeof(float));
        if (c.tau_step > 0) memcpy(D->x_tau, c.x_tau, D->d * sizeof(float));
        D->tau = c.tau_step;
        D->g_linf = c.g_linf;
        D->skipped = c.skipped;
        if (D->cfg->checkpoint && strcmp(D->cfg->checkpoint, path) == 0) D->ckpt_step = c.step;
        D->wall0 = now_s() - c.wall_s;
        D->eval_s = c.eval_s;
        *start = c.step;
    }
    so__ckpt_free(&c);
    return rc;
}

/* max_i |g_i|, or NaN when some g_i is NaN. Taken on the bit patterns with the sign cleared: for non-negative
 * floats the integer order is the float order, Inf is 0x7f800000 and every NaN lies above it, so one unsigned
 * max (which vectorizes, unlike a float compare-and-select chain) gives the maximum and flags any NaN. */
static double linf_checked(const float *g, size_t d)
{
    uint32_t m = 0;
    for (size_t i = 0; i < d; i++) {
        uint32_t u;
        memcpy(&u, g + i, sizeof u);
        u &= 0x7fffffffu;
        m = u > m ? u : m;
    }
    if (m > 0x7f800000u) return NAN;
    float f;
    memcpy(&f, &m, sizeof f);
    return f;
}

long so_batch_multiplier(const so_batch_schedule *s, long t, long T)
{
    double m = 1.0;
    if (s->growth == SO_BATCH_LINEAR && T > 1 && s->arg > 1) m = 1.0 + floor((s->arg - 1.0) * (double)t / (double)(T - 1));
    else if (s->growth == SO_BATCH_EXP && s->arg > 1) m = floor(pow(s->arg, (double)t));
    if (!(m >= 1.0)) m = 1.0;
    return m > SO_BATCH_MULT_MAX ? SO_BATCH_MULT_MAX : (long)m;
}

/* Whether s is a schedule the driver runs: const, linear:M with M an integer in 1..SO_BATCH_MULT_MAX, exp:F with
 * F in [1, 2]. The parser and the driver (which takes structs filled by hand) share it. */
static int schedule_ok(const so_batch_schedule *s)
{
    if (s->growth == SO_BATCH_CONST) return 1;
    if (s->growth == SO_BATCH_LINEAR) return s->arg >= 1 && s->arg <= SO_BATCH_MULT_MAX && s->arg == floor(s->arg);
    return s->growth == SO_BATCH_EXP && s->arg >= 1 && s->arg <= 2;
}

int so_batch_schedule_parse(so_batch_schedule *s, const char *text)
{
    char *end = NULL;
    s->growth = SO_BATCH_CONST;
    s->arg = 1.0;
    if (strcmp(text, "const") == 0) return SO_OK;
    so_batch_schedule t = {SO_BATCH_CONST, 1.0};
    const char *num = NULL;
    if (strncmp(text, "linear:", 7) == 0) t.growth = SO_BATCH_LINEAR, num = text + 7;
    else if (strncmp(text, "exp:", 4) == 0) t.growth = SO_BATCH_EXP, num = text + 4;
    if (num) {
        t.arg = strtod(num, &end);
        if (end != num && *end == '\0' && schedule_ok(&t)) {
            *s = t;
            return SO_OK;
        }
    }
    return so_error(SO_EINVAL, "batch schedule: expected const, linear:M (M an integer in 1..%d) or exp:F (F in "
                               "[1, 2]), got '%s'", SO_BATCH_MULT_MAX, text);
}

/* The stochastic gradient of step t at `at` into D->g: one oracle call, or under a batch schedule the mean of m_t
 * calls on minibatch streams 0..m_t-1 (003 Alg 2: a mean over B m_t samples), summed in stream order and scaled
 * by 1/m_t, so the same on any thread count; *loss the mean of their losses. */
static int step_grad(driver *D, const float *at, long t, double *loss)
{
    const long m = so_batch_multiplier(&D->cfg->batch_schedule, t, D->cfg->steps);
    int rc = so_problem_grad(D->p, D->ws, at, D->g, 0, t, loss);
    if (rc != SO_OK || m == 1) return rc;
    double sum = *loss;
    for (long k = 1; k < m; k++) {
        double lk = 0.0;
        rc = so_problem_grad_sub(D->p, D->ws, at, D->gk, 0, t, (int)k, &lk);
        if (rc != SO_OK) return rc;
        for (size_t i = 0; i < D->d; i++) D->g[i] += D->gk[i];
        sum += lk;
    }
    const float inv = 1.0f / (float)m;
    for (size_t i = 0; i < D->d; i++) D->g[i] *= inv;
    *loss = sum / (double)m;
    return SO_OK;
}

/* One single-node step t (0-based): gradient at the optimizer's chosen point, then the rule. */
static int single_step(driver *D, long t)
{
    const float *at = D->x;
    if (so_optim_grad_point(D->o, D->x, D->y) == 1) at = D->y;
    double loss = 0.0;
    int rc = step_grad(D, at, t, &loss);
    if (rc != SO_OK) return rc;
    double m = linf_checked(D->g, D->d);
    if (!isfinite(m) || !isfinite(loss)) {
        if (D->cfg->on_nan == SO_ON_NAN_SKIP) {
            /* Drop the update: neither x nor the optimizer state has been touched yet. */
            D->skipped++;
            return SO_OK;
        }
        D->nan_step = t + 1;
        return so_error(SO_ENUMERIC, "step %ld: the stochastic gradient or its loss is not finite (%s)", t + 1,
                        !isfinite(loss) ? "loss" : "gradient");
    }
    if (m > D->g_linf) D->g_linf = m;
    D->last_loss = loss;
    return so_optim_step(D->o, D->x, D->g);
}

static int dist_step(driver *D, long t)
{
    int rc = so_cluster_round(D->cl, D->x);
    if (rc == SO_ENUMERIC) D->nan_step = t + 1; /* a worker's gradient (taken at x_t) was not finite */
    if (rc != SO_OK) return rc;
    D->last_loss = so_cluster_last_loss(D->cl);
    if (!isfinite(so_cluster_g_linf(D->cl))) {
        D->nan_step = t + 1;
        return so_error(SO_ENUMERIC, "step %ld: a stochastic gradient is not finite", t + 1);
    }
    return SO_OK;
}

/* Keep x_tau with tau uniform in {1..T}, the papers' range (000 Alg. 1-2, 003 Alg. 1-3 number the start x_1): by
 * reservoir sampling, just before step s (s = 1..T) the current iterate x_s (the start for s = 1, else the iterate
 * after s - 1 steps) replaces the kept one with probability 1/s, drawn from (seed, 0, s, SO_STREAM_TAU). The kept
 * tau is uniform on {1..T} whatever T is, and the choice made up to step s does not depend on T, so a run resumed
 * with more steps keeps the same draws. */
static void reservoir(driver *D, long s)
{
    so_rng r;
    so_rng_init(&r, D->cfg->seed, 0, (uint32_t)s, SO_STREAM_TAU);
    if (so_rng_below(&r, (uint64_t)s) == 0) {
        memcpy(D->x_tau, D->x, D->d * sizeof(float));
        D->tau = s;
    }
}

static int setup(driver *D)
{
    const so_run_config *cfg = D->cfg;
    if (cfg->on_nan != SO_ON_NAN_STOP && cfg->on_nan != SO_ON_NAN_SKIP)
        return so_error(SO_EINVAL, "run: on_nan must be stop or skip, got %d", cfg->on_nan);
    /* A cluster round updates x and every worker's state before the driver sees the gradients' norms, so there
     * is no update left to drop. */
    const char *algo = algo_of(cfg);
    const so_batch_schedule *bs = &cfg->batch_schedule;
    if (!schedule_ok(bs))
        return so_error(SO_EINVAL, "run: batch schedule: growth %d with argument %g is not one of const, "
                                   "linear:M (1..%d), exp:F (F in [1, 2])", bs->growth, bs->arg, SO_BATCH_MULT_MAX);
    if (bs->growth != SO_BATCH_CONST && !so_optim_is_algo(algo))
        return so_error(SO_EINVAL, "batch schedule: only for single-node algorithms ('%s' is distributed)", algo);
    if (cfg->on_nan == SO_ON_NAN_SKIP && !so_optim_is_algo(algo))
        return so_error(SO_EINVAL, "on-nan skip: only for single-node algorithms ('%s' is distributed; use stop)",
                        algo);
    D->d = so_problem_dim(D->p);
    size_t d = D->d ? D->d : 1;
    D->x = malloc(d * sizeof(float));
    D->x_tau = malloc(d * sizeof(float));
    if (!D->x || !D->x_tau) return so_error(SO_ENOMEM, "run: out of memory for %zu parameters", D->d);
    int rc = so_problem_init(D->p, D->x);
    if (rc != SO_OK) return rc;
    if (so_optim_is_algo(algo)) {
        size_t nt = 0;
        const so_tensor *tensors = so_problem_tensors(D->p, &nt);
        D->o = so_optim_create(&cfg->method.optim, D->d, tensors, nt);
        if (!D->o) return SO_EINVAL;
        D->ws = so_problem_workspace_new(D->p);
        D->g = malloc(d * sizeof(float));
        D->y = malloc(d * sizeof(float));
        if (!D->ws || !D->g || !D->y) return so_error(SO_ENOMEM, "run: out of memory for %zu parameters", D->d);
        if (cfg->batch_schedule.growth != SO_BATCH_CONST && !(D->gk = malloc(d * sizeof(float))))
            return so_error(SO_ENOMEM, "run: out of memory for %zu parameters", D->d);
        return SO_OK;
    }
    if (so_dist_is_algo(algo)) {
        if (!D->t) return so_error(SO_EINVAL, "run: distributed algorithm '%s' needs a transport", algo);
        so_cluster_config cc = cfg->method;
        cc.seed = cfg->seed;
        D->cl = so_cluster_create(&cc, D->p, D->t);
        return D->cl ? SO_OK : SO_EINVAL;
    }
    return so_error(SO_EINVAL, "run: unknown algorithm '%s' (see 'signopt list algos')", algo ? algo : "(none)");
}

static void teardown(driver *D)
{
    so_optim_destroy(D->o);
    so_workspace_free(D->ws);
    so_cluster_destroy(D->cl);
    free(D->x);
    free(D->x_tau);
    free(D->g);
    free(D->gk);
    free(D->y);
    free(D->rows);
}

/* Record an evaluation: keep the row, hand it on, save a checkpoint if asked. */
static int record(driver *D, long step, so_row_fn row_fn, void *row_user)
{
    so_metrics_row r;
    double t0 = now_s();
    int rc = evaluate(D, D->x, step, &r);
    if (rc == SO_OK) rc = push_row(D, &r);
    if (rc == SO_OK && row_fn && D->root) row_fn(&r, row_user);
    if (rc == SO_OK && D->cfg->checkpoint) rc = save_checkpoint(D, step);
    D->eval_s += now_s() - t0;
    return rc;
}

/* Record the row where a progress callback stopped the run between evaluations: it is handed on and becomes the
 * result's final row, but the checkpoint saved there holds only the scheduled rows, so that a run resumed from it
 * writes exactly the rows of an uninterrupted run. */
static int record_stop(driver *D, long step, so_row_fn row_fn, void *row_user, so_metrics_row *r)
{
    double t0 = now_s();
    int rc = evaluate(D, D->x, step, r);
    if (rc == SO_OK && row_fn && D->root) row_fn(r, row_user);
    if (rc == SO_OK && D->cfg->checkpoint) rc = save_checkpoint(D, step);
    D->eval_s += now_s() - t0;
    return rc;
}

int so_run(const so_run_config *cfg, so_problem *p, so_transport *t, so_row_fn row_fn, void *row_user,
           so_progress_fn progress, void *progress_user, so_run_result *result)
{
    if (!cfg || !p || !result || !algo_of(cfg)) return so_error(SO_EINVAL, "run: missing config, problem or result");
    if (cfg->steps < 1) return so_error(SO_EINVAL, "run: steps must be >= 1, got %ld", cfg->steps);
    memset(result, 0, sizeof *result);
    driver D;
    memset(&D, 0, sizeof D);
    D.cfg = cfg;
    D.p = p;
    D.t = t;
    D.root = t ? so_transport_is_root(t) : 1;
    D.wall0 = now_s();
    D.ckpt_step = -1;
    D.nan_step = -1;
    result->diverged_step = -1;
    long eval_every = cfg->eval_every > 0 ? cfg->eval_every : cfg->steps;
    long start = 0;
    int rc = setup(&D);
    if (rc == SO_OK && cfg->resume) {
        rc = resume(&D, &start);
        if (rc == SO_OK && row_fn && D.root)
            for (size_t i = 0; i < D.nrows; i++) row_fn(&D.rows[i], row_user);
    } else if (rc == SO_OK) {
        rc = record(&D, 0, row_fn, row_user);
    }
    long step = start;
    so_metrics_row stop_row;
    int have_stop_row = 0;
    while (rc == SO_OK && step < cfg->steps) {
        reservoir(&D, step + 1);
        rc = is_dist(&D) ? dist_step(&D, step) : single_step(&D, step);
        if (rc != SO_OK) break;
        step++;
        int stop = progress ? progress(step, cfg->steps, D.last_loss, progress_user) : 0;
        if (step % eval_every == 0 || step == cfg->steps) rc = record(&D, step, row_fn, row_user);
        else if (stop) {
            rc = record_stop(&D, step, row_fn, row_user, &stop_row);
            have_stop_row = rc == SO_OK;
        }
        if (stop) {
            result->stopped_early = 1;
            break;
        }
    }
    if (rc == SO_ENUMERIC) {
        result->diverged_step = D.nan_step;
        /* Say where the run stopped relative to what is on disk: the caller can resume from there. */
        char why[768];
        snprintf(why, sizeof why, "%s", so_errmsg());
        if (cfg->checkpoint && D.ckpt_step >= 0)
            so_error(rc, "%s; the last good checkpoint '%s' is at step %ld", why, cfg->checkpoint, D.ckpt_step);
        else if (cfg->checkpoint)
            so_error(rc, "%s; no checkpoint was written", why);
    }
    result->skipped_steps = D.skipped;
    if (rc == SO_OK && have_stop_row) result->final = stop_row;
    else if (rc == SO_OK && D.nrows > 0) result->final = D.rows[D.nrows - 1];
    if (rc == SO_OK && D.tau > 0) {
        rc = evaluate(&D, D.x_tau, D.tau - 1, &result->tau);
        result->tau_step = D.tau - 1;
        if (rc == SO_ENUMERIC) result->diverged_step = D.nan_step; /* x_tau's objective is not finite */
    }
    teardown(&D);
    return rc;
}
