/* test_optim_quadratic.c — every optimizer id on the deterministic quadratic f = 1/2 sum L_i x_i^2,
 * L_i = 1 + (Lmax - 1)(i - 1)/(d - 1), d = 10, Lmax = 10, x0 = (1, ..., 1), gradient L_i x_i computed here,
 * 20 steps, against a naive double-precision reference of each rule written separately below (textbook forms,
 * not the kernels' operation order). Also: the thread count never changes a result.
 *
 * Tolerance: |x - x_ref| <= 1e-6 (1 + |x_ref|). The library runs in float: each step rounds x, the state and
 * the step to float (relative 6e-8 each), so 20 steps may drift a few 1e-7; measured worst case 3.3e-7,
 * printed each run. The step sizes keep every sign argument far from 0 relative to that error (lr 0.0737 from
 * x = 1 never lands near 0), so float and double take the same signs. */
#include <stdlib.h>
#include "signopt/optim.h"
#include "test.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define D 10
#define STEPS 20
#define LMAX 10.0
#define QUAD_RTOL 1e-6

typedef struct qcase {
    const char *name, *algo;
    double lr, beta, beta2, wd;
    int nesterov;
    so_momentum_init init;
    double inv_c;  /* > 0: schedule inv:C */
    int lrvec;     /* per-coordinate multipliers a_i = 0.5 + i / D */
    int tensors;   /* 2: tensors [0,4) and [4,10) */
} qcase;

static double curvature(int i) { return 1.0 + (LMAX - 1.0) * (double)i / (double)(D - 1); }
static double multiplier(int i) { return 0.5 + (double)i / D; }
static double sgn(double v) { return (double)((v > 0) - (v < 0)); }

/* The reference: state in double, one rule per id in its paper / PyTorch-documentation form. */
typedef struct ref {
    double x[D], m[D], v[D], e[D], xprev[D];
    long t;
} ref;

static void ref_step(const qcase *q, ref *r)
{
    double g[D], y[D];
    /* signum-nesterov (001 eq. 4): the gradient is taken at y = x + alpha (x - x_prev), alpha = beta/(1-beta) */
    for (int i = 0; i < D; i++)
        y[i] = (!strcmp(q->algo, "signum-nesterov") && r->t > 0)
                   ? r->x[i] + q->beta / (1.0 - q->beta) * (r->x[i] - r->xprev[i]) : r->x[i];
    for (int i = 0; i < D; i++) g[i] = curvature(i) * y[i];
    double lr[D];
    for (int i = 0; i < D; i++) lr[i] = (q->inv_c > 0 ? q->inv_c / (double)(r->t + 1) : q->lr) *
                                        (q->lrvec ? multiplier(i) : 1.0);
    const long t1 = r->t + 1;
    if (!strcmp(q->algo, "sgd")) {
        for (int i = 0; i < D; i++) r->x[i] -= lr[i] * q->wd * r->x[i] + lr[i] * g[i];
    } else if (!strcmp(q->algo, "sgdm")) { /* PyTorch SGD docs: g += wd x; b = mu b + g (b_1 = g_1) */
        for (int i = 0; i < D; i++) {
            double gi = g[i] + q->wd * r->x[i];
            r->m[i] = r->t == 0 ? gi : q->beta * r->m[i] + gi;
            r->x[i] -= lr[i] * (q->nesterov ? gi + q->beta * r->m[i] : r->m[i]);
        }
    } else if (!strcmp(q->algo, "adam") || !strcmp(q->algo, "adamw")) { /* Kingma & Ba, Alg. 1 */
        int decoupled = !strcmp(q->algo, "adamw");
        for (int i = 0; i < D; i++) {
            double gi = decoupled ? g[i] : g[i] + q->wd * r->x[i];
            if (decoupled) r->x[i] -= lr[i] * q->wd * r->x[i];
            r->m[i] = q->beta * r->m[i] + (1 - q->beta) * gi;
            r->v[i] = q->beta2 * r->v[i] + (1 - q->beta2) * gi * gi;
            double mhat = r->m[i] / (1 - pow(q->beta, (double)t1)), vhat = r->v[i] / (1 - pow(q->beta2, (double)t1));
            r->x[i] -= lr[i] * mhat / (sqrt(vhat) + 1e-8);
        }
    } else if (!strcmp(q->algo, "signsgd")) {
        for (int i = 0; i < D; i++) r->x[i] -= lr[i] * q->wd * r->x[i] + lr[i] * sgn(g[i]);
    } else if (!strcmp(q->algo, "signum") || !strcmp(q->algo, "signum-nesterov")) {
        for (int i = 0; i < D; i++) {
            r->m[i] = (r->t == 0 && q->init == SO_INIT_FIRST_GRAD) ? g[i] : q->beta * r->m[i] + (1 - q->beta) * g[i];
            r->xprev[i] = r->x[i];
            r->x[i] -= lr[i] * q->wd * r->x[i] + lr[i] * sgn(r->m[i]);
        }
    } else if (!strcmp(q->algo, "ef-signsgd")) { /* 004 eq. (12), per tensor; decay coupled into g */
        const int lo[2] = {0, q->tensors == 2 ? 4 : D}, hi[2] = {q->tensors == 2 ? 4 : D, D};
        for (int k = 0; k < 2; k++) {
            double p[D], norm = 0;
            for (int i = lo[k]; i < hi[k]; i++) norm += fabs(p[i] = lr[i] * (g[i] + q->wd * r->x[i]) + r->e[i]);
            for (int i = lo[k]; i < hi[k]; i++) {
                double delta = norm / (hi[k] - lo[k]) * sgn(p[i]);
                r->x[i] -= delta;
                r->e[i] = p[i] - delta;
            }
        }
    } else if (!strcmp(q->algo, "scaled-signsgd")) { /* 004 Alg 2 */
        double norm = 0;
        for (int i = 0; i < D; i++) norm += fabs(g[i]);
        for (int i = 0; i < D; i++) r->x[i] -= lr[i] * norm * sgn(g[i]);
    } else if (!strcmp(q->algo, "lion")) {
        /* Lion, derived from Chen et al. 2023 Program 1 line by line:
         *   update = interp(grad, m, beta1) = beta1 m + (1 - beta1) grad   (the step direction blends the new
         *            gradient in with weight 1 - beta1),
         *   update = sign(update) + wd * w;  w = w - lr * update            (decay inside the lr),
         *   m = interp(grad, m, beta2)                                      (the stored momentum uses beta2). */
        for (int i = 0; i < D; i++) {
            double update = sgn(q->beta * r->m[i] + (1 - q->beta) * g[i]) + q->wd * r->x[i];
            r->x[i] -= lr[i] * update;
            r->m[i] = q->beta2 * r->m[i] + (1 - q->beta2) * g[i];
        }
    }
    r->t++;
}

static double run_case(const qcase *q)
{
    so_optim_config c;
    so_optim_config_default(&c);
    c.algo = q->algo;
    c.lr = q->lr;
    c.beta = q->beta;
    c.beta2 = q->beta2;
    c.weight_decay = q->wd;
    c.nesterov = q->nesterov;
    c.momentum_init = q->init;
    float a[D];
    for (int i = 0; i < D; i++) a[i] = (float)multiplier(i);
    if (q->lrvec) c.lr_vec = a;
    if (q->inv_c > 0) {
        char text[64];
        snprintf(text, sizeof text, "inv:%.17g", q->inv_c);
        CHECK(so_schedule_parse(&c.schedule, text) == SO_OK, "%s: schedule", q->name);
    }
    const so_tensor t[2] = {{"w", 0, 4}, {"b", 4, 6}};
    so_optim *o = so_optim_create(&c, D, q->tensors == 2 ? t : NULL, q->tensors == 2 ? 2 : 0);
    CHECK(o != NULL, "%s: create: %s", q->name, so_errmsg());
    if (!o) return INFINITY;
    ref r;
    memset(&r, 0, sizeof r);
    float x[D], y[D], g[D];
    for (int i = 0; i < D; i++) x[i] = 1.0f, r.x[i] = 1.0;
    double worst = 0.0;
    for (int s = 0; s < STEPS; s++) {
        const float *at = so_optim_grad_point(o, x, y) ? y : x;
        for (int i = 0; i < D; i++) g[i] = (float)curvature(i) * at[i];
        so_optim_step(o, x, g);
        ref_step(q, &r);
        for (int i = 0; i < D; i++) {
            double err = fabs((double)x[i] - r.x[i]) / (1.0 + fabs(r.x[i]));
            if (err > worst) worst = err;
            CHECK(err <= QUAD_RTOL, "%s step %d coord %d: %.9g vs reference %.9g", q->name, s + 1, i, x[i], r.x[i]);
        }
    }
    so_optim_destroy(o);
    return worst;
}

static void test_every_id_on_quadratic_matches_double_reference(void)
{
    const qcase cases[] = {
        {"sgd", "sgd", 0.05, 0, 0, 0.01, 0, SO_INIT_ZERO, 0, 0, 0},
        {"sgd per-coordinate", "sgd", 0.05, 0, 0, 0, 0, SO_INIT_ZERO, 0, 1, 0},
        {"sgdm", "sgdm", 0.02, 0.9, 0, 0.01, 0, SO_INIT_ZERO, 0, 0, 0},
        {"sgdm nesterov", "sgdm", 0.02, 0.9, 0, 0.01, 1, SO_INIT_ZERO, 0, 0, 0},
        {"adam", "adam", 0.05, 0.9, 0.999, 0.01, 0, SO_INIT_ZERO, 0, 0, 0},
        {"adamw", "adamw", 0.05, 0.9, 0.999, 0.1, 0, SO_INIT_ZERO, 0, 0, 0},
        {"adamw per-coordinate", "adamw", 0.05, 0.8, 0.99, 0.1, 0, SO_INIT_ZERO, 0, 1, 0},
        {"signsgd", "signsgd", 0.0737, 0, 0, 0.01, 0, SO_INIT_ZERO, 0, 0, 0},
        {"signum zero", "signum", 0.0737, 0.9, 0, 0, 0, SO_INIT_ZERO, 0, 0, 0},
        {"signum first-grad", "signum", 0.0737, 0.9, 0, 0.01, 0, SO_INIT_FIRST_GRAD, 0, 0, 0},
        {"signum per-coordinate", "signum", 0.0737, 0.5, 0, 0, 0, SO_INIT_ZERO, 0, 1, 0},
        {"signum-nesterov", "signum-nesterov", 0.0737, 0.5, 0, 0, 0, SO_INIT_ZERO, 0, 0, 0},
        {"signum-nesterov first-grad", "signum-nesterov", 0.0737, 0.6, 0, 0.01, 0, SO_INIT_FIRST_GRAD, 0, 0, 0},
        {"ef-signsgd one tensor", "ef-signsgd", 0.0137, 0, 0, 0, 0, SO_INIT_ZERO, 0, 0, 0},
        {"ef-signsgd two tensors", "ef-signsgd", 0.0137, 0, 0, 0.01, 0, SO_INIT_ZERO, 0, 0, 2},
        {"ef-signsgd per-coordinate", "ef-signsgd", 0.0137, 0, 0, 0, 0, SO_INIT_ZERO, 0, 1, 2},
        {"scaled-signsgd const", "scaled-signsgd", 0.00137, 0, 0, 0, 0, SO_INIT_ZERO, 0, 0, 0},
        {"scaled-signsgd inv", "scaled-signsgd", 1.0, 0, 0, 0, 0, SO_INIT_ZERO, 0.00337, 0, 0},
        {"lion", "lion", 0.0737, 0.9, 0.99, 0, 0, SO_INIT_ZERO, 0, 0, 0},
        {"lion decay", "lion", 0.0737, 0.8, 0.95, 0.3, 0, SO_INIT_ZERO, 0, 0, 0},
    };
    double worst = 0.0;
    int covered[16] = {0};
    const char *const *ids = so_optim_algos();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double w = run_case(&cases[k]);
        if (w > worst) worst = w;
        for (int a = 0; ids[a]; a++) covered[a] |= !strcmp(ids[a], cases[k].algo);
    }
    for (int a = 0; ids[a]; a++) CHECK(covered[a], "id %s has no quadratic case", ids[a]);
    printf("quadratic: worst |x - x_ref| / (1 + |x_ref|) over all ids and steps = %.3g (tolerance %.0e)\n", worst,
           QUAD_RTOL);
}

/* Element-wise updates and the fixed-chunk reductions give the same bits for any number of threads. */
static void test_thread_count_does_not_change_results(void)
{
#ifdef _OPENMP
    const size_t n = 200003; /* above the parallel threshold, not a multiple of the chunking */
    const so_tensor t[2] = {{"a", 0, 70001}, {"b", 70001, n - 70001}};
    const char *ids[] = {"ef-signsgd", "scaled-signsgd", "adamw", "signum", "lion"};
    float *x1 = malloc(n * sizeof *x1), *x3 = malloc(n * sizeof *x3), *g = malloc(n * sizeof *g);
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        float *xs[2] = {x1, x3};
        int threads[2] = {1, 3};
        for (int r = 0; r < 2; r++) {
            omp_set_num_threads(threads[r]);
            so_optim_config c;
            so_optim_config_default(&c);
            c.algo = ids[k];
            c.lr = 1e-2;
            so_optim *o = so_optim_create(&c, n, !strcmp(ids[k], "ef-signsgd") ? t : NULL, 2);
            for (size_t i = 0; i < n; i++) xs[r][i] = (float)sin(0.001 * (double)i);
            for (int s = 0; s < 3; s++) {
                for (size_t i = 0; i < n; i++) g[i] = (float)sin(0.37 * (double)i + s) * (1.0f + xs[r][i]);
                so_optim_step(o, xs[r], g);
            }
            so_optim_destroy(o);
        }
        CHECK(memcmp(x1, x3, n * sizeof *x1) == 0, "%s: 1 and 3 threads differ", ids[k]);
    }
    free(x1);
    free(x3);
    free(g);
#endif
}

int main(void)
{
    RUN(test_every_id_on_quadratic_matches_double_reference);
    RUN(test_thread_count_does_not_change_results);
    return test_report("optim_quadratic");
}
