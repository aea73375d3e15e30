/* test_oracle.c — bring your own model: a gradient oracle written here (least squares on data the test makes)
 * runs through every path a built-in problem runs through, and each path calls it exactly as a hand-written loop
 * over the same callbacks would: so_run with a single-node rule, the in-process cluster against the per-rank
 * optimizer fed the test's own gradients (every distributed id), per-rank save/load, a problem without an
 * objective, errors from the callbacks, family registration, a transport of the test's own, and the registry's
 * rows against the optimizers' own answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "signopt.h"
#include "test.h"

/* ---- The model: f_j(x) = 1/(2 m) sum_i (a_i . x - b_i)^2 over worker j's m rows ---- */
enum { DIM = 40, ROWS = 24, BATCH = 4 };

typedef struct linreg {
    int workers;
    uint64_t seed;
    float *a, *b;       /* workers * ROWS rows of DIM, targets */
    int *freed;         /* set by destroy, so a test can see that the library called it */
    int fail_at_step;   /* grad fails (so_error) at this step; -1 never */
    int nan_at_step;    /* grad returns a NaN at this step; -1 never */
} linreg;

static linreg *linreg_new(int workers, uint64_t seed)
{
    linreg *m = calloc(1, sizeof *m);
    m->workers = workers;
    m->seed = seed;
    m->fail_at_step = m->nan_at_step = -1;
    m->a = malloc((size_t)workers * ROWS * DIM * sizeof *m->a);
    m->b = malloc((size_t)workers * ROWS * sizeof *m->b);
    so_rng r;
    so_rng_init(&r, seed, 0, 0, SO_STREAM_USER + 1);
    for (size_t i = 0; i < (size_t)workers * ROWS * DIM; i++) m->a[i] = (float)so_rng_normal(&r);
    for (size_t i = 0; i < (size_t)workers * ROWS; i++) m->b[i] = (float)so_rng_normal(&r);
    return m;
}

static void linreg_destroy(void *ctx)
{
    linreg *m = ctx;
    if (m->freed) *m->freed = 1;
    free(m->a);
    free(m->b);
    free(m);
}

/* g <- the mean gradient over BATCH rows of worker q->worker drawn with replacement from so_grad_rng. */
static int linreg_grad(void *ctx, void *ws, const float *x, float *g, const so_grad_request *q, double *loss)
{
    (void)ws;
    const linreg *m = ctx;
    if (q->step == m->fail_at_step) return so_error(SO_EIO, "linreg: the disk went away at step %ld", q->step);
    so_rng r;
    so_grad_rng(&r, q, SO_STREAM_USER);
    memset(g, 0, DIM * sizeof *g);
    double l = 0.0;
    for (int k = 0; k < BATCH; k++) {
        const size_t row = (size_t)q->worker * ROWS + so_rng_below(&r, ROWS);
        const float *a = m->a + row * DIM;
        float z = -m->b[row];
        for (int i = 0; i < DIM; i++) z += a[i] * x[i];
        for (int i = 0; i < DIM; i++) g[i] += z * a[i] / BATCH;
        l += 0.5 * (double)z * z / BATCH;
    }
    if (q->step == m->nan_at_step) g[3] = NAN;
    *loss = l;
    return SO_OK;
}

static int linreg_objective(void *ctx, const float *x, double *f, float *grad)
{
    const linreg *m = ctx;
    const size_t n = (size_t)m->workers * ROWS;
    double s = 0.0, acc[DIM] = {0};
    for (size_t row = 0; row < n; row++) {
        const float *a = m->a + row * DIM;
        double z = -m->b[row];
        for (int i = 0; i < DIM; i++) z += (double)a[i] * x[i];
        s += 0.5 * z * z;
        for (int i = 0; i < DIM; i++) acc[i] += z * a[i];
    }
    *f = s / n;
    if (grad)
        for (int i = 0; i < DIM; i++) grad[i] = (float)(acc[i] / n);
    return SO_OK;
}

static int linreg_init(void *ctx, float *x, uint64_t seed)
{
    (void)ctx;
    so_rng r;
    so_rng_init(&r, seed, 0, 0, SO_STREAM_INIT);
    for (int i = 0; i < DIM; i++) x[i] = so_rng_uniformf(&r) - 0.5f;
    return SO_OK;
}

static const so_oracle linreg_ops = {
    .grad = linreg_grad, .objective = linreg_objective, .init = linreg_init, .destroy = linreg_destroy,
};

static so_problem *linreg_problem(int workers, uint64_t seed, int with_objective, int *freed)
{
    linreg *m = linreg_new(workers, seed);
    m->freed = freed;
    so_oracle ops = linreg_ops;
    if (!with_objective) ops.objective = NULL;
    const so_tensor tensors[2] = {{"w1", 0, DIM / 2}, {"w2", DIM / 2, DIM / 2}};
    const so_oracle_info info = {.id = "linreg", .dim = DIM, .tensors = tensors, .ntensors = 2, .workers = workers,
                                 .batch = BATCH, .samples = (size_t)workers * ROWS, .min_shard = ROWS, .seed = seed,
                                 .objective_grad = 1};
    return so_problem_create_oracle(&ops, m, &info);
}

static int same_floats(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

/* ---- single node: so_run calls the oracle as a hand loop would ---- */

static void test_single_node_run_equals_hand_loop(void)
{
    so_problem *p = linreg_problem(1, 5, 1, NULL);
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    so_run_config rc;
    so_run_config_default(&rc);
    rc.method.optim.algo = "signum";
    rc.method.optim.lr = 0.01;
    rc.steps = 30;
    rc.eval_every = 10;
    rc.seed = 5;
    so_run_result res;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_OK, "so_run: %s", so_errmsg());
    /* the same 30 steps by hand, through the callbacks */
    linreg *m = so_problem_context(p);
    float x[DIM], g[DIM];
    linreg_init(m, x, 5);
    so_optim_config oc;
    so_optim_config_default(&oc);
    oc.algo = "signum";
    oc.lr = 0.01;
    so_optim *o = so_optim_create(&oc, DIM, NULL, 0);
    for (long t = 0; t < 30; t++) {
        const so_grad_request q = {0, t, 0, 5};
        double loss;
        linreg_grad(m, NULL, x, g, &q, &loss);
        so_optim_step(o, x, g);
    }
    double f, f0;
    linreg_objective(m, x, &f, NULL);
    float x0[DIM];
    linreg_init(m, x0, 5);
    linreg_objective(m, x0, &f0, NULL);
    CHECK(res.final.step == 30 && res.final.loss == f, "so_run's final loss %.17g, the hand loop's %.17g",
          res.final.loss, f);
    CHECK(f < 0.9 * f0, "signum did not reduce the loss: %g -> %g", f0, f);
    CHECK(isfinite(res.final.grad_l1) && isnan(res.final.test_acc), "grad_l1 %g, test_acc %g (no accuracy)",
          res.final.grad_l1, res.final.test_acc);
    CHECK(res.final.epoch == 30.0 * BATCH / ROWS, "epoch %g, want %g", res.final.epoch, 30.0 * BATCH / ROWS);
    so_optim_destroy(o);
    so_problem_destroy(p);
}

/* ---- distributed: the in-process cluster on the oracle == the per-rank optimizer fed the test's gradients ---- */

typedef struct hand_grad {
    linreg *m;
} hand_grad;

static int hand_grad_fn(void *user, const float *x, float *g, const so_grad_request *q, double *loss)
{
    return linreg_grad(((hand_grad *)user)->m, NULL, x, g, q, loss);
}

static void dist_config(so_cluster_config *cc, const char *algo, double dropout, int byzantine)
{
    so_cluster_config_default(cc);
    cc->optim.algo = algo;
    cc->optim.lr = 0.02;
    cc->optim.alpha = 0.5;
    cc->R = 1.0;
    cc->local_steps = 3;
    cc->dropout = dropout;
    cc->byzantine = byzantine;
    cc->threads = 2;
    cc->seed = 9;
}

static void test_cluster_equals_per_rank_optimizer(void)
{
    const int n = 5, rounds = 25;
    const char *const *ids = so_dist_algos();
    for (int k = 0; ids[k]; k++)
        for (int faults = 0; faults < 2; faults++) {
            so_problem *p = linreg_problem(n, 9, 1, NULL);
            so_transport *t1 = so_transport_local(n), *t2 = so_transport_local(n);
            so_cluster_config cc;
            dist_config(&cc, ids[k], faults ? 0.3 : 0.0, faults);
            so_cluster *c = so_cluster_create(&cc, p, t1);
            so_dist_optim *o = so_dist_optim_create(&cc, DIM, NULL, 0, t2);
            CHECK(c && o, "%s: %s", ids[k], so_errmsg());
            if (!c || !o) {
                so_cluster_destroy(c);
                so_dist_optim_destroy(o);
                so_transport_destroy(t1);
                so_transport_destroy(t2);
                so_problem_destroy(p);
                continue;
            }
            linreg *m = so_problem_context(p);
            float x1[DIM], x2[DIM], xs[DIM], y[DIM], g[n * DIM];
            so_problem_init(p, x1);
            memcpy(x2, x1, sizeof x1);
            memcpy(xs, x1, sizeof x1);
            int rc1 = SO_OK, rc2 = SO_OK;
            hand_grad hg = {m};
            for (int r = 0; r < rounds && rc1 == SO_OK && rc2 == SO_OK; r++) {
                rc1 = so_cluster_round(c, x1);
                if (strcmp(ids[k], "fed-mv-sto-signsgd-sim") == 0) {
                    rc2 = so_dist_optim_step_fn(o, x2, hand_grad_fn, &hg);
                } else {
                    const float *at = so_dist_optim_grad_point(o, x2, y) ? y : x2;
                    for (int j = 0; j < n; j++) {
                        const so_grad_request q = {j, so_dist_optim_round(o), 0, 9};
                        double loss;
                        linreg_grad(m, NULL, at, g + (size_t)j * DIM, &q, &loss);
                    }
                    rc2 = so_dist_optim_step(o, x2, g);
                }
            }
            CHECK(rc1 == SO_OK && rc2 == SO_OK, "%s: rounds failed: %s", ids[k], so_errmsg());
            CHECK(same_floats(x1, x2, DIM), "%s%s: the per-rank optimizer's x differs from the cluster's", ids[k],
                  faults ? " with faults" : "");
            CHECK(!same_floats(x1, xs, DIM), "%s: x did not move", ids[k]);
            uint64_t u1, d1, u2, d2;
            so_cluster_bits(c, &u1, &d1);
            so_dist_optim_bits(o, &u2, &d2);
            CHECK(u1 == u2 && d1 == d2 && u1 > 0, "%s: bits %llu/%llu vs %llu/%llu", ids[k], (unsigned long long)u1,
                  (unsigned long long)d1, (unsigned long long)u2, (unsigned long long)d2);
            so_cluster_destroy(c);
            so_dist_optim_destroy(o);
            so_transport_destroy(t1);
            so_transport_destroy(t2);
            so_problem_destroy(p);
        }
}

static void test_fed_needs_the_callback_form(void)
{
    so_transport *t2 = so_transport_local(2);
    so_cluster_config wd;
    dist_config(&wd, "mv-signum", 0, 0);
    wd.optim.weight_decay = 0.1;
    CHECK(so_dist_optim_create(&wd, DIM, NULL, 0, t2) == NULL && strstr(so_errmsg(), "weight decay"),
          "a sign method with weight decay (it would be ignored): %s", so_errmsg());
    wd.optim.algo = "dist-sgdm";
    so_dist_optim *ok = so_dist_optim_create(&wd, DIM, NULL, 0, t2);
    CHECK(ok != NULL, "dist-sgdm with weight decay: %s", so_errmsg());
    so_dist_optim_destroy(ok);
    so_transport_destroy(t2);
    so_transport *t = so_transport_local(2);
    so_cluster_config cc;
    dist_config(&cc, "fed-mv-sto-signsgd-sim", 0, 0);
    so_dist_optim *o = so_dist_optim_create(&cc, DIM, NULL, 0, t);
    float x[DIM] = {0}, g[2 * DIM] = {0};
    CHECK(o && so_dist_optim_step(o, x, g) == SO_EINVAL && strstr(so_errmsg(), "so_dist_optim_step_fn"),
          "fed with plain gradients: %s", so_errmsg());
    so_dist_optim_destroy(o);
    so_transport_destroy(t);
}

/* ---- per-rank state: save halfway, load into a new optimizer, the same end ---- */

static void run_rounds(so_dist_optim *o, linreg *m, float *x, int rounds)
{
    float g[3 * DIM], y[DIM];
    for (int r = 0; r < rounds; r++) {
        const float *at = so_dist_optim_grad_point(o, x, y) ? y : x;
        for (int j = 0; j < 3; j++) {
            const so_grad_request q = {j, so_dist_optim_round(o), 0, 9};
            double loss;
            linreg_grad(m, NULL, at, g + (size_t)j * DIM, &q, &loss);
        }
        so_dist_optim_step(o, x, g);
    }
}

static void test_per_rank_save_load(void)
{
    const char *algos[] = {"mv-signum", "mv-sto-signsgd-sim", "dist-adamw", "mvsm-v2"};
    linreg *m = linreg_new(3, 9);
    for (int k = 0; k < 4; k++) {
        so_transport *t = so_transport_local(3);
        so_cluster_config cc;
        dist_config(&cc, algos[k], 0, 0);
        so_dist_optim *a = so_dist_optim_create(&cc, DIM, NULL, 0, t), *b = so_dist_optim_create(&cc, DIM, NULL, 0, t);
        float xa[DIM], xb[DIM];
        linreg_init(m, xa, 9);
        run_rounds(a, m, xa, 10);
        size_t size = so_dist_optim_state_size(a);
        unsigned char *buf = malloc(size);
        CHECK(so_dist_optim_save(a, buf, size) == SO_OK, "%s save: %s", algos[k], so_errmsg());
        CHECK(so_dist_optim_save(a, buf, size - 1) == SO_EINVAL, "%s: a short buffer is refused", algos[k]);
        memcpy(xb, xa, sizeof xa);
        CHECK(so_dist_optim_load(b, buf, size) == SO_OK, "%s load: %s", algos[k], so_errmsg());
        CHECK(so_dist_optim_round(b) == 10, "%s: round %ld after load", algos[k], so_dist_optim_round(b));
        run_rounds(a, m, xa, 10);
        run_rounds(b, m, xb, 10);
        CHECK(same_floats(xa, xb, DIM), "%s: 10 + load + 10 rounds differ from 20 rounds", algos[k]);
        CHECK(so_dist_optim_load(b, buf, size - 1) == SO_EFORMAT, "%s: a truncated state is accepted", algos[k]);
        buf[0] ^= 1;
        CHECK(so_dist_optim_load(b, buf, size) == SO_EFORMAT, "%s: a bad magic is accepted", algos[k]);
        buf[0] ^= 1;
        so_cluster_config other;
        dist_config(&other, k == 0 ? "mv-signsgd" : "mv-signum", 0, 0);
        so_dist_optim *c = so_dist_optim_create(&other, DIM, NULL, 0, t);
        CHECK(so_dist_optim_load(c, buf, size) == SO_EFORMAT, "%s: another algorithm's state is accepted", algos[k]);
        so_dist_optim_destroy(c);
        so_transport *t4 = so_transport_local(4);
        so_dist_optim *e = so_dist_optim_create(&cc, DIM, NULL, 0, t4);
        CHECK(so_dist_optim_load(e, buf, size) == SO_EFORMAT, "%s: a state of 3 workers loads into 4", algos[k]);
        so_dist_optim_destroy(e);
        so_transport_destroy(t4);
        free(buf);
        so_dist_optim_destroy(a);
        so_dist_optim_destroy(b);
        so_transport_destroy(t);
    }
    linreg_destroy(m);
}

/* ---- what a problem does not measure, and failures in the callbacks ---- */

static void test_problem_without_objective(void)
{
    so_problem *p = linreg_problem(1, 3, 0, NULL);
    so_run_config rc;
    so_run_config_default(&rc);
    rc.method.optim.algo = "adamw";
    rc.steps = 10;
    rc.eval_every = 5;
    so_run_result res;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_OK, "so_run: %s", so_errmsg());
    CHECK(isnan(res.final.loss) && isnan(res.final.grad_l1) && isnan(res.final.grad_l2) && res.final.step == 10,
          "unmeasured metrics: loss %g grad_l1 %g at step %ld", res.final.loss, res.final.grad_l1, res.final.step);
    double f;
    CHECK(so_problem_objective(p, (float[DIM]){0}, &f, NULL) == SO_EUNSUPPORTED, "objective of a problem without");
    CHECK(!so_problem_has_objective(p) && !so_problem_has_full_grad(p), "has_objective");
    so_problem_destroy(p);
}

static void test_oracle_errors(void)
{
    int freed = 0;
    linreg *m = linreg_new(1, 1);
    m->freed = &freed;
    so_oracle ops = linreg_ops;
    ops.grad = NULL;
    const so_oracle_info info = {.id = "linreg", .dim = DIM};
    CHECK(so_problem_create_oracle(&ops, m, &info) == NULL && so_errcode() == SO_EINVAL && freed,
          "no grad: %s (ctx freed: %d)", so_errmsg(), freed);
    freed = 0;
    m = linreg_new(1, 1);
    m->freed = &freed;
    const so_tensor gap[2] = {{"a", 0, 10}, {"b", 11, DIM - 11}};
    const so_oracle_info bad = {.id = "linreg", .dim = DIM, .tensors = gap, .ntensors = 2};
    CHECK(so_problem_create_oracle(&linreg_ops, m, &bad) == NULL && strstr(so_errmsg(), "tensor 1") && freed,
          "tensors with a gap: %s (ctx freed: %d)", so_errmsg(), freed);

    /* a failing and a NaN-returning callback, single node and distributed */
    for (int dist = 0; dist < 2; dist++)
        for (int nan = 0; nan < 2; nan++) {
            so_problem *p = linreg_problem(dist ? 3 : 1, 2, 1, NULL);
            linreg *lm = so_problem_context(p);
            if (nan) lm->nan_at_step = 4;
            else lm->fail_at_step = 4;
            so_transport *t = dist ? so_transport_local(3) : NULL;
            so_run_config rc;
            so_run_config_default(&rc);
            rc.method.optim.algo = dist ? "mv-signum" : "signum";
            rc.steps = 10;
            so_run_result res;
            int st = so_run(&rc, p, t, NULL, NULL, NULL, NULL, &res);
            if (nan)
                CHECK(st == SO_ENUMERIC && res.diverged_step == 5, "%s NaN gradient: rc %d, step %ld (%s)",
                      rc.method.optim.algo, st, res.diverged_step, so_errmsg());
            else
                CHECK(st == SO_EIO && strstr(so_errmsg(), "the disk went away at step 4"), "%s failing grad: %d %s",
                      rc.method.optim.algo, st, so_errmsg());
            so_transport_destroy(t);
            so_problem_destroy(p);
        }
}

/* ---- families ---- */

static so_problem *linreg_family_create(const so_problem_config *cfg)
{
    linreg *m = linreg_new(cfg->workers, cfg->seed);
    const so_oracle_info info = {.id = cfg->id, .dim = DIM, .workers = cfg->workers, .batch = BATCH,
                                 .seed = cfg->seed, .objective_grad = 1};
    return so_problem_create_oracle(&linreg_ops, m, &info);
}

static const so_problem_family linreg_family = {"test-linreg", "least squares made by test_oracle.c",
                                                linreg_family_create};

static void test_family_registration(void)
{
    size_t before = so_problem_family_count();
    CHECK(before >= 8, "%zu families: the built-ins are missing", before);
    CHECK(so_problem_register(&linreg_family) == SO_OK, "register: %s", so_errmsg());
    CHECK(so_problem_register(&linreg_family) == SO_EINVAL && strstr(so_errmsg(), "test-linreg"),
          "a second registration: %s", so_errmsg());
    const so_problem_family quad = {"quadratic", "another quadratic", linreg_family_create};
    CHECK(so_problem_register(&quad) == SO_EINVAL, "a built-in id taken twice");
    const so_problem_family none = {"x", NULL, linreg_family_create};
    CHECK(so_problem_register(&none) == SO_EINVAL, "a family without description");
    CHECK(so_problem_family_count() == before + 1 && so_problem_family_at(before) == &linreg_family,
          "the family is not last");
    int listed = 0;
    for (const char *const *id = so_problem_ids(); *id; id++) listed += strcmp(*id, "test-linreg") == 0;
    CHECK(listed == 1, "so_problem_ids lists test-linreg %d times", listed);
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "test-linreg";
    pc.workers = 2;
    so_problem *p = so_problem_create(&pc);
    CHECK(p && so_problem_dim(p) == DIM && so_problem_workers(p) == 2 && strcmp(so_problem_id(p), "test-linreg") == 0,
          "create by id: %s", so_errmsg());
    so_problem_destroy(p);
}

/* ---- a transport of the test's own: every exchange through staging buffers, counted ---- */

typedef struct staged {
    so_transport *inner;
    unsigned char stage[1 << 16];
    int calls;
} staged;

static int st_gather(so_transport *t, void *all, const void *mine, size_t per, int to_all)
{
    staged *s = so_transport_impl(t);
    s->calls++;
    int n = so_transport_workers(t);
    if ((size_t)n * per > sizeof s->stage) return so_error(SO_ECOMM, "staged: %zu bytes do not fit", n * per);
    memcpy(s->stage, mine, (size_t)n * per); /* this process hosts every worker: mine is all n blocks */
    memcpy(all, s->stage, (size_t)n * per);
    (void)to_all;
    return SO_OK;
}

static int st_scatter(so_transport *t, void *mine, const void *all, size_t per)
{
    staged *s = so_transport_impl(t);
    s->calls++;
    memmove(mine, all, (size_t)so_transport_workers(t) * per);
    return SO_OK;
}

static int st_bcast(so_transport *t, void *buf, size_t size)
{
    (void)buf;
    (void)size;
    ((staged *)so_transport_impl(t))->calls++;
    return SO_OK;
}

static int st_sum(so_transport *t, float *acc, const float *const *vecs, int count, size_t len, int to_all)
{
    (void)to_all;
    ((staged *)so_transport_impl(t))->calls++;
    for (int k = 0; k < count; k++)
        if (vecs[k])
            for (size_t i = 0; i < len; i++) acc[i] += vecs[k][i];
    return SO_OK;
}

static void st_destroy(so_transport *t) { free(so_transport_impl(t)); }

static void test_own_transport(void)
{
    const so_transport_ops ops = {st_gather, st_scatter, st_bcast, st_sum, NULL, st_destroy, NULL}; /* no alltoall */
    const char *algos[] = {"mv-signsgd", "mv-scaled-signsgd", "dist-sgdm"};
    for (int k = 0; k < 3; k++) {
        staged *s = calloc(1, sizeof *s);
        so_transport *mine = so_transport_create(&ops, s, 4, 0, 0, 4), *local = so_transport_local(4);
        so_problem *p = linreg_problem(4, 6, 1, NULL);
        so_cluster_config cc;
        dist_config(&cc, algos[k], 0, 0);
        so_cluster *a = so_cluster_create(&cc, p, mine), *b = so_cluster_create(&cc, p, local);
        float xa[DIM], xb[DIM];
        so_problem_init(p, xa);
        memcpy(xb, xa, sizeof xa);
        for (int r = 0; r < 15; r++) {
            so_cluster_round(a, xa);
            so_cluster_round(b, xb);
        }
        CHECK(same_floats(xa, xb, DIM) && s->calls >= 15, "%s over the test's transport (%d calls) differs",
              algos[k], s->calls);
        float buf[4] = {1, 2, 3, 4};
        CHECK(so_transport_allreduce_sum(mine, buf, 4) == SO_EUNSUPPORTED, "allreduce without the operation");
        so_cluster_destroy(a);
        so_cluster_destroy(b);
        so_problem_destroy(p);
        so_transport_destroy(mine);
        so_transport_destroy(local);
    }
    so_transport_ops partial = ops;
    partial.bcast = NULL;
    CHECK(so_transport_create(&partial, NULL, 4, 0, 0, 4) == NULL && so_errcode() == SO_EINVAL, "no bcast accepted");
    CHECK(so_transport_create(&ops, NULL, 4, 0, 3, 2) == NULL, "workers [3, 5) of 4 accepted");
    CHECK(so_transport_create(&ops, NULL, 0, 0, 0, 1) == NULL, "0 workers accepted");
}

/* ---- the registry against the optimizers' own answers ---- */

static void test_registry_rows(void)
{
    size_t n = so_algo_count(), singles = 0;
    CHECK(n == 21, "%zu ids, want 10 single-node and 11 distributed", n);
    CHECK(so_algo_at(n) == NULL && so_algo_find(NULL) == NULL && so_algo_find("signum2") == NULL, "out of range");
    for (size_t i = 0; i < n; i++) {
        const so_algo_info *a = so_algo_at(i);
        CHECK(so_algo_find(a->id) == a, "%s: find gives another row", a->id);
        CHECK(a->source && *a->source && a->description && *a->description, "%s: no source or description", a->id);
        int single = a->kind == SO_ALGO_SINGLE;
        CHECK(single == so_optim_is_algo(a->id) && (!single) == so_dist_is_algo(a->id), "%s: kind", a->id);
        CHECK(single == (a->uplink == SO_UPLINK_NONE) && single == (a->downlink == SO_DOWNLINK_NONE),
              "%s: a single-node id with a link or the reverse", a->id);
        if (single) {
            CHECK(i == singles, "%s: single-node ids come first", a->id);
            singles++;
            so_optim_config oc;
            so_optim_config_default(&oc);
            oc.algo = a->id;
            so_optim *o = so_optim_create(&oc, 10, NULL, 0);
            CHECK(o && so_optim_state_size(o) == 32 + (size_t)a->state_floats * 10 * sizeof(float),
                  "%s: %d state floats per coordinate, the optimizer keeps %zu bytes", a->id, a->state_floats,
                  o ? so_optim_state_size(o) : 0);
            so_optim_destroy(o);
        }
    }
    so_optim_config oc;
    so_cluster_config cc;
    so_run_config rc;
    so_problem_config pc;
    so_optim_config_default(&oc);
    so_cluster_config_default(&cc);
    so_run_config_default(&rc);
    so_problem_config_default(&pc);
    CHECK(strcmp(oc.algo, SO_DEFAULT_ALGO) == 0 && so_optim_is_algo(oc.algo), "optim default %s", oc.algo);
    CHECK(strcmp(cc.optim.algo, SO_DEFAULT_DIST_ALGO) == 0 && so_dist_is_algo(cc.optim.algo), "dist default %s",
          cc.optim.algo);
    CHECK(strcmp(rc.method.optim.algo, SO_DEFAULT_ALGO) == 0 && rc.steps == 100 && pc.batch == 32,
          "run default %s, %ld steps, batch %d", rc.method.optim.algo, rc.steps, pc.batch);
    CHECK(so_optim_create(&(so_optim_config){.algo = "mv-signum"}, 4, NULL, 0) == NULL &&
              strstr(so_errmsg(), "distributed"), "so_optim with a distributed id: %s", so_errmsg());
}

static void test_grad_rng_key_and_blas_threads(void)
{
    const so_grad_request q = {3, 17, 2, 99};
    so_rng a, b;
    so_grad_rng(&a, &q, SO_STREAM_USER + 5);
    so_rng_init(&b, 99, 3, 17, SO_STREAM_USER + 5 + 2 * 65536);
    int same = 1;
    for (int i = 0; i < 8; i++) same &= so_rng_u32(&a) == so_rng_u32(&b);
    CHECK(same, "so_grad_rng is not the sequence (seed, worker, step, stream + sub * 2^16)");
    CHECK(so_blas_set_threads(0) == SO_EINVAL && so_blas_set_threads(1) == SO_OK, "blas threads");
}

int main(void)
{
    RUN(test_single_node_run_equals_hand_loop);
    RUN(test_cluster_equals_per_rank_optimizer);
    RUN(test_fed_needs_the_callback_form);
    RUN(test_per_rank_save_load);
    RUN(test_problem_without_objective);
    RUN(test_oracle_errors);
    RUN(test_family_registration);
    RUN(test_own_transport);
    RUN(test_registry_rows);
    RUN(test_grad_rng_key_and_blas_threads);
    return test_report("oracle");
}
