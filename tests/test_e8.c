/* test_e8.c — docs/experiments.md E8, seed 004 Examples 1 and 4 (Fig. 1), with step size alpha = 0.05 and exact
 * gradients: signGD (and signum) never converge but cycle at a fixed distance from the minimum, while GD,
 * EF-signGD and scaled signGD converge linearly. The optimizers run through the public API
 * (so_optim_create / so_optim_step) on the problems of src/problems/synthetic.c; every expected rate below is
 * derived by hand from the problem, not measured from the code. */
#include <math.h>
#include <string.h>
#include "signopt.h"
#include "test.h"

#define ALPHA 0.05

static so_problem *make_problem(const char *id, double x0)
{
    so_problem_config c;
    so_problem_config_default(&c);
    c.id = id;
    c.alpha = ALPHA;
    c.x0 = x0;
    so_problem *p = so_problem_create(&c);
    CHECK(p != NULL, "so_problem_create(%s): %s", id, so_errmsg());
    return p;
}

static so_optim *make_optim(const char *algo, size_t d)
{
    so_optim_config c;
    so_optim_config_default(&c);
    c.algo = algo;
    c.lr = ALPHA;
    c.beta = 0.9;
    so_optim *o = so_optim_create(&c, d, NULL, 0);
    CHECK(o != NULL, "so_optim_create(%s): %s", algo, so_errmsg());
    return o;
}

/* Run T steps of `algo` on the problem from its x_0 with exact gradients; f[t] = f(x_t), t = 0..T, and
 * xs (may be NULL) gets the iterates, d per row. Returns 0 on any error. */
static int run(so_problem *p, const char *algo, int T, double *f, float *xs)
{
    const size_t d = so_problem_dim(p);
    float x[2], g[2];
    so_optim *o = make_optim(algo, d);
    so_workspace *w = so_problem_workspace_new(p);
    int ok = o != NULL && w != NULL && so_problem_init(p, x) == SO_OK;
    for (int t = 0; ok && t <= T; t++) {
        double loss;
        ok = so_problem_grad(p, w, x, g, 0, t, &loss) == SO_OK;
        f[t] = loss;
        if (xs) memcpy(xs + (size_t)t * d, x, d * sizeof *x);
        if (ok && t < T) ok = so_optim_step(o, x, g) == SO_OK;
    }
    CHECK(ok, "%s on %s: %s", algo, so_problem_id(p), so_errmsg());
    so_workspace_free(w);
    so_optim_destroy(o);
    return ok;
}

/* Least-squares slope of log f[t] against t over t = t0..t1. */
static double log_slope(const double *f, int t0, int t1)
{
    double n = t1 - t0 + 1, st = 0, sy = 0, stt = 0, sty = 0;
    for (int t = t0; t <= t1; t++) {
        double y = log(f[t]);
        st += t;
        sy += y;
        stt += (double)t * t;
        sty += t * y;
    }
    return (n * sty - st * sy) / (n * stt - st * st);
}

static void test_signgd_cycles_forever_on_example_1(void)
{
    /* 004 Example 1: f = x1^2 + x2^2, x_0 = (alpha/2, alpha/2), x <- x - alpha sign(2x): the iterates alternate
     * between (alpha/2, alpha/2) and (-alpha/2, -alpha/2), so ||x_t|| = alpha/sqrt2 and f = alpha^2/2 forever.
     * Tolerance 1e-6 on the iterates covers float rounding of alpha (never a drift: checked per cycle). */
    enum { T = 10000 };
    static double f[T + 1];
    static float xs[2 * (T + 1)];
    so_problem *p = make_problem("signgd-counterexample", NAN);
    if (!p || !run(p, "signsgd", T, f, xs)) { so_problem_destroy(p); return; }
    double min_norm = INFINITY, worst_cycle = 0.0, worst_orbit = 0.0;
    for (int t = 0; t <= T; t++) {
        const float *x = xs + 2 * t;
        min_norm = fmin(min_norm, hypot(x[0], x[1]));
        double want = (t % 2 == 0 ? 1.0 : -1.0) * ALPHA / 2;
        worst_orbit = fmax(worst_orbit, fmax(fabs(x[0] - want), fabs(x[1] - want)));
        if (t >= 2) worst_cycle = fmax(worst_cycle, fmax(fabs(x[0] - x[-4]), fabs(x[1] - x[-3])));
    }
    CHECK(min_norm >= 0.99 * ALPHA / sqrt(2.0), "||x_t|| went down to %g; 004 says it stays alpha/sqrt2 = %g",
          min_norm, ALPHA / sqrt(2.0));
    CHECK(worst_orbit <= 1e-6, "iterates left the orbit +-(alpha/2)(1,1) by %g", worst_orbit);
    CHECK(worst_cycle <= 1e-6, "x_{t+2} != x_t by %g: not a 2-cycle", worst_cycle);
    CHECK_CLOSE(f[T], ALPHA * ALPHA / 2, 1e-5, 0.0, "f(x_T) = alpha^2/2");
    so_problem_destroy(p);
}

static void test_signum_stalls_on_example_1(void)
{
    /* Every signum step moves each coordinate by exactly +-alpha (sign(m) is +-1 unless m is exactly 0), so from
     * alpha/2 the coordinates stay on alpha/2 + alpha Z and |x_i| >= alpha/2: f >= alpha^2/2 at every step. */
    enum { T = 10000 };
    static double f[T + 1];
    so_problem *p = make_problem("signgd-counterexample", NAN);
    if (!p || !run(p, "signum", T, f, NULL)) { so_problem_destroy(p); return; }
    double fmin_ = INFINITY;
    for (int t = 0; t <= T; t++) fmin_ = fmin(fmin_, f[t]);
    CHECK(fmin_ >= 0.99 * ALPHA * ALPHA / 2, "signum reached f = %g below alpha^2/2 = %g", fmin_, ALPHA * ALPHA / 2);
    so_problem_destroy(p);
}

static void test_gd_ef_and_scaled_signgd_converge_linearly_on_example_1(void)
{
    /* Along x = (v, v), g = (2v, 2v):
     *   sgd:            v <- v - alpha 2v = (1 - 2 alpha) v = 0.9 v;
     *   ef-signsgd:     p = alpha g + e with equal coordinates, so Delta = (||p||_1/2) sign(p) = p and e stays 0:
     *                   the same 0.9 v;
     *   scaled-signsgd: v <- v - alpha ||g||_1 sign(v) = v - alpha 4 v = 0.8 v.
     * So log f falls by 2 ln 0.9 or 2 ln 0.8 per step. Tolerance 1e-3 relative on the fitted slope. */
    enum { T = 150 };
    struct { const char *algo; double rate; } cases[] = {
        {"sgd", 0.9}, {"ef-signsgd", 0.9}, {"scaled-signsgd", 0.8}};
    for (int k = 0; k < 3; k++) {
        double f[T + 1];
        so_problem *p = make_problem("signgd-counterexample", NAN);
        if (!p || !run(p, cases[k].algo, T, f, NULL)) { so_problem_destroy(p); continue; }
        CHECK_CLOSE(log_slope(f, 0, T), 2.0 * log(cases[k].rate), 1e-3, 0.0, cases[k].algo);
        CHECK(f[T] < 1e-10, "%s: f(x_%d) = %g, want < 1e-10", cases[k].algo, T, f[T]);
        so_problem_destroy(p);
    }
}

static void test_scaled_signgd_converges_linearly_on_pl_toy(void)
{
    /* 004 Example 4: f = x^2 + 3 sin^2 x (non-convex, PL) from our x_0 = pi, alpha = 0.05. In one dimension
     * ||g||_1 sign(g) = g, so scaled signGD, EF-signGD and GD take the same steps. Near 0, f'(x) = 2x + 3 sin 2x
     * ~ 8x, so x <- (1 - 8 alpha) x = 0.6 x and f ~ 4x^2 shrinks by 0.36 a step: the fitted slope of log f over
     * t = 60..100 must be ln 0.36 within 1%, the slope over the whole run negative, and f(x_100) < 1e-10. */
    enum { T = 100 };
    const char *algos[] = {"scaled-signsgd", "sgd", "ef-signsgd"};
    for (int k = 0; k < 3; k++) {
        double f[T + 1];
        so_problem *p = make_problem("pl-toy", NAN);
        if (!p || !run(p, algos[k], T, f, NULL)) { so_problem_destroy(p); continue; }
        double whole = log_slope(f, 0, T), tail = log_slope(f, 60, T);
        CHECK(whole < 0.0, "%s: log f slope %g over the run is not negative", algos[k], whole);
        CHECK_CLOSE(tail, log(0.36), 0.01, 0.0, algos[k]);
        CHECK(f[T] < 1e-10, "%s: f(x_%d) = %g, want < 1e-10", algos[k], T, f[T]);
        so_problem_destroy(p);
    }
}

static void test_signgd_and_signum_stall_on_pl_toy(void)
{
    /* Sign steps keep x on x_0 + alpha Z. From our x_0 = pi the grid points nearest 0 are pi - 62 alpha = 0.0416
     * and pi - 63 alpha = -0.0084, so |x_t| >= 0.0084 and f(x_t) >= f(0.0084) = 2.8e-4 for ever; we ask
     * f >= 1e-4 over the second half of a long run (float rounding of alpha moves the grid by < 1e-5 over it). */
    enum { T = 4000 };
    static double f[T + 1];
    const char *algos[] = {"signsgd", "signum"};
    for (int k = 0; k < 2; k++) {
        so_problem *p = make_problem("pl-toy", NAN);
        if (!p || !run(p, algos[k], T, f, NULL)) { so_problem_destroy(p); continue; }
        double fmin_ = INFINITY;
        for (int t = T / 2; t <= T; t++) fmin_ = fmin(fmin_, f[t]);
        CHECK(fmin_ >= 1e-4, "%s reached f = %g on pl-toy: no stall", algos[k], fmin_);
        CHECK(f[T] < 1.0, "%s did not even approach the minimum: f = %g", algos[k], f[T]);
        so_problem_destroy(p);
    }
}

int main(void)
{
    RUN(test_signgd_cycles_forever_on_example_1);
    RUN(test_signum_stalls_on_example_1);
    RUN(test_gd_ef_and_scaled_signgd_converge_linearly_on_example_1);
    RUN(test_scaled_signgd_converges_linearly_on_pl_toy);
    RUN(test_signgd_and_signum_stall_on_pl_toy);
    return test_report("e8");
}
