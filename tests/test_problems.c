/* test_problems.c — the synthetic problems and noise models (src/problems/synthetic.c, noise.c) against
 * hand-derived values, central finite differences, closed-form noise laws and a naive batch mean. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "signopt.h"
#include "test.h"

#define NDRAWS 400000 /* draws for the distribution tests: binomial/CLT errors ~ 1/sqrt(NDRAWS) = 0.0016 */

static so_problem *make(so_problem_config c)
{
    so_problem *p = so_problem_create(&c);
    CHECK(p != NULL, "so_problem_create(%s): %s", c.id, so_errmsg());
    return p;
}

static so_problem_config config(const char *id)
{
    so_problem_config c;
    so_problem_config_default(&c);
    c.id = id;
    return c;
}

/* The noiseless gradient at x through the public stochastic-gradient call. */
static void exact_grad(so_problem *p, const float *x, float *g, double *loss)
{
    so_workspace *w = so_problem_workspace_new(p);
    CHECK(w != NULL, "workspace: %s", so_errmsg());
    CHECK(so_problem_grad(p, w, x, g, 0, 0, loss) == SO_OK, "grad: %s", so_errmsg());
    so_workspace_free(w);
}

/* Worker j's stochastic gradient at step t, minibatch stream sub, with a workspace of its own. */
static int grad_at(so_problem *p, const float *x, float *g, int worker, long step, int sub)
{
    so_workspace *w = so_problem_workspace_new(p);
    double loss;
    int rc = so_problem_grad_sub(p, w, x, g, worker, step, sub, &loss);
    so_workspace_free(w);
    return rc;
}

/* Fraction of draws with |X| > t. */
static double tail_fraction(const float *v, size_t n, double t)
{
    size_t above = 0;
    for (size_t i = 0; i < n; i++) above += fabs(v[i]) > t;
    return (double)above / (double)n;
}

static void mean_var(const float *v, size_t n, double *mean, double *var)
{
    double s = 0.0, s2 = 0.0;
    for (size_t i = 0; i < n; i++) s += v[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++) s2 += (v[i] - *mean) * (v[i] - *mean);
    *var = s2 / (double)(n - 1);
}

/* A measured fraction against its probability p: 5 binomial standard deviations. */
#define CHECK_FRACTION(frac, p, n, what) \
    CHECK_CLOSE((frac), (p), 0.0, 5.0 * sqrt((p) * (1.0 - (p)) / (double)(n)), (what))

static void test_quadratic_curvatures_by_hand(void)
{
    /* L_i = 1 + (L_max - 1)(i - 1)/(d - 1) with L_max = 10: d = 1 -> {1}; d = 2 -> {1, 10};
     * d = 5 -> {1, 3.25, 5.5, 7.75, 10}. The gradient at x = 1 is L itself. */
    const double want[3][5] = {{1}, {1, 10}, {1, 3.25, 5.5, 7.75, 10}};
    const size_t dims[3] = {1, 2, 5};
    for (int k = 0; k < 3; k++) {
        so_problem_config c = config("quadratic");
        c.dim = dims[k];
        c.L_max = 10.0;
        so_problem *p = make(c);
        if (!p) continue;
        float x[5] = {1, 1, 1, 1, 1}, g[5];
        double loss;
        exact_grad(p, x, g, &loss);
        double half_sum = 0.0;
        for (size_t i = 0; i < dims[k]; i++) {
            CHECK_CLOSE(g[i], want[k][i], 0.0, 1e-6, "L_i");
            half_sum += 0.5 * want[k][i];
        }
        CHECK_CLOSE(loss, half_sum, 1e-12, 0.0, "f(1) = sum L_i / 2");
        so_problem_destroy(p);
    }
}

static void test_start_point_and_f_at_x0_by_hand(void)
{
    struct {
        const char *id;
        size_t dim_in, dim_out;
        double x0, a, start, f0;
    } cases[] = {
        /* quadratic d = 5, L_max = 10: sum L_i = 27.5, so f(1) = 13.75 and f(2) = 4 * 13.75 = 55. */
        {"quadratic", 5, 5, NAN, 1.0, 1.0, 13.75},
        {"quadratic", 5, 5, 2.0, 1.0, 2.0, 55.0},
        /* 004 Example 1, alpha = 0.05: x0 = (0.025, 0.025), f = 2 * 0.025^2 = 0.00125; cfg.dim ignored. */
        {"signgd-counterexample", 100, 2, NAN, 1.0, 0.025, 0.00125},
        /* 004 Example 4 from our x0 = pi: f = pi^2 + 3 sin^2(pi) = pi^2 (the float pi adds 3e-8 relative). */
        {"pl-toy", 100, 1, NAN, 1.0, 3.14159265358979323846, 9.869604401089358},
        {"pl-toy", 1, 1, 3.0, 1.0, 3.0, 9.059744570024451}, /* 9 + 3 sin^2(3) */
        /* l0l1, a = 1, d = 3, x0 = 3: 3 (cosh 3 - 1) = 27.202985987333296. */
        {"l0l1", 3, 3, NAN, 1.0, 3.0, 27.202985987333296},
        /* l0l1, a = 2, d = 2, x0 = 0.5: 2 (cosh 1 - 1) / 4 = 0.27154031740762186. */
        {"l0l1", 2, 2, 0.5, 2.0, 0.5, 0.27154031740762186},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        so_problem_config c = config(cases[k].id);
        c.dim = cases[k].dim_in;
        c.x0 = cases[k].x0;
        c.a = cases[k].a;
        so_problem *p = make(c);
        if (!p) continue;
        CHECK(so_problem_dim(p) == cases[k].dim_out, "%s: dim %zu, want %zu", cases[k].id, so_problem_dim(p),
              cases[k].dim_out);
        float x[8];
        CHECK(so_problem_init(p, x) == SO_OK, "init");
        for (size_t i = 0; i < so_problem_dim(p); i++) CHECK_CLOSE(x[i], cases[k].start, 1e-7, 0.0, "x0_i");
        so_eval ev;
        CHECK(so_problem_eval(p, x, &ev) == SO_OK, "eval: %s", so_errmsg());
        /* rtol 1e-6: x0 is stored as float (0.025 is not exact), f is evaluated in double. */
        CHECK_CLOSE(ev.loss, cases[k].f0, 1e-6, 0.0, cases[k].id);
        so_problem_destroy(p);
    }
}

static void test_full_gradient_matches_central_differences(void)
{
    /* Central differences in double on float inputs: x and h = 2^-10 are dyadic with few bits, so x +- h is
     * exact in float. Truncation error h^2 |f'''| / 6 <= 1e-6 * 40 for these points; tolerance 1e-5 + 1e-5 |g|. */
    const char *ids[] = {"quadratic", "signgd-counterexample", "pl-toy", "l0l1"};
    const float points[6] = {-1.75f, -0.3125f, 0.0f, 0.5f, 1.25f, 2.0f};
    const double h = 0x1.0p-10;
    for (int k = 0; k < 4; k++) {
        so_problem_config c = config(ids[k]);
        c.dim = 6;
        c.L_max = 7.0;
        c.a = 1.5;
        so_problem *p = make(c);
        if (!p) continue;
        size_t d = so_problem_dim(p);
        float x[6], g[6], xp[6];
        for (size_t i = 0; i < d; i++) x[i] = points[(i + (size_t)k) % 6];
        double loss;
        exact_grad(p, x, g, &loss);
        double l1 = 0.0, l2 = 0.0;
        for (size_t i = 0; i < d; i++) {
            so_eval plus, minus;
            memcpy(xp, x, sizeof xp);
            xp[i] = (float)(x[i] + h);
            CHECK(so_problem_eval(p, xp, &plus) == SO_OK, "eval");
            xp[i] = (float)(x[i] - h);
            CHECK(so_problem_eval(p, xp, &minus) == SO_OK, "eval");
            double fd = (plus.loss - minus.loss) / (2.0 * h);
            CHECK_CLOSE(g[i], fd, 1e-5, 1e-5, ids[k]);
            l1 += fabs(g[i]);
            l2 += (double)g[i] * g[i];
        }
        so_eval ev;
        CHECK(so_problem_eval(p, x, &ev) == SO_OK, "eval");
        CHECK_CLOSE(ev.loss, loss, 1e-15, 0.0, "loss from grad = f from eval");
        CHECK_CLOSE(ev.grad_l1, l1, 1e-12, 0.0, "||grad||_1");
        CHECK_CLOSE(ev.grad_l2, sqrt(l2), 1e-12, 0.0, "||grad||_2");
        CHECK(isnan(ev.train_acc) && isnan(ev.test_acc), "no accuracy on synthetic problems");
        so_problem_destroy(p);
    }
    /* pl-toy on more points, where f'' = 2 + 6 cos 2x changes sign. */
    so_problem *p = make(config("pl-toy"));
    if (!p) return;
    for (int k = -40; k <= 40; k++) {
        float x = (float)k / 16.0f, g, xp;
        double loss;
        exact_grad(p, &x, &g, &loss);
        so_eval plus, minus;
        xp = (float)(x + h);
        so_problem_eval(p, &xp, &plus);
        xp = (float)(x - h);
        so_problem_eval(p, &xp, &minus);
        CHECK_CLOSE(g, (plus.loss - minus.loss) / (2.0 * h), 1e-5, 1e-5, "pl-toy f'");
    }
    so_problem_destroy(p);
}

static void test_gauss_mean_and_variance(void)
{
    float *v = malloc(NDRAWS * sizeof *v);
    so_noise n;
    CHECK(so_noise_parse(&n, "gauss:2") == SO_OK, "parse: %s", so_errmsg());
    so_noise_sample(v, NDRAWS, &n, 7, 0, 0);
    double mean, var;
    mean_var(v, NDRAWS, &mean, &var);
    /* 5 standard errors: sd(mean) = S / sqrt(n), sd(var) = S^2 sqrt(2 / n). */
    CHECK_CLOSE(mean, 0.0, 0.0, 5.0 * 2.0 / sqrt(NDRAWS), "gauss mean");
    CHECK_CLOSE(var, 4.0, 5.0 * sqrt(2.0 / NDRAWS), 0.0, "gauss variance S^2");
    /* P(|X| > S) = 0.3173105 for the normal law. */
    CHECK_FRACTION(tail_fraction(v, NDRAWS, 2.0), 0.31731050786291415, NDRAWS, "gauss P(|X| > S)");
    free(v);
}

/* uniform:S: within [-S, S), mean 0, variance S^2/3, P(|X| > S/2) = 1/2 (closed forms of the uniform law). */
static void test_uniform_noise_bounded_and_moments(void)
{
    float *v = malloc(NDRAWS * sizeof *v);
    so_noise n;
    CHECK(so_noise_parse(&n, "uniform:1.5") == SO_OK, "parse: %s", so_errmsg());
    so_noise_sample(v, NDRAWS, &n, 13, 1, 4);
    int outside = 0;
    for (int i = 0; i < NDRAWS; i++) outside += !(v[i] >= -1.5f && v[i] <= 1.5f);
    CHECK(outside == 0, "%d draws outside [-S, S]", outside);
    double mean, var;
    mean_var(v, NDRAWS, &mean, &var);
    /* sd(mean) = S / sqrt(3 n); sd(var) = sqrt((E X^4 - var^2) / n) = S^2 sqrt(4 / 45 / n) */
    CHECK_CLOSE(mean, 0.0, 0.0, 5.0 * 1.5 / sqrt(3.0 * NDRAWS), "uniform mean");
    CHECK_CLOSE(var, 0.75, 0.0, 5.0 * 2.25 * sqrt(4.0 / 45.0 / NDRAWS), "uniform variance S^2/3");
    CHECK_FRACTION(tail_fraction(v, NDRAWS, 0.75), 0.5, NDRAWS, "uniform P(|X| > S/2)");
    CHECK(so_noise_parse(&n, "uniform:-1") != SO_OK && so_noise_parse(&n, "uniform:1:2") != SO_OK, "bad forms refused");
    free(v);
}

static void test_student_tails_match_closed_form(void)
{
    float *v = malloc(NDRAWS * sizeof *v);
    so_noise n;
    const double pi = 3.14159265358979323846;
    /* NU = 3, S = 1: P(|T| > t) = 1 - (2/pi) [t / (sqrt3 (1 + t^2/3)) + atan(t / sqrt3)]; variance NU/(NU-2) = 3. */
    CHECK(so_noise_parse(&n, "student:3:1") == SO_OK, "parse: %s", so_errmsg());
    so_noise_sample(v, NDRAWS, &n, 11, 2, 9);
    double mean, var;
    mean_var(v, NDRAWS, &mean, &var);
    CHECK_CLOSE(mean, 0.0, 0.0, 5.0 * sqrt(3.0 / NDRAWS), "student(3) mean");
    for (double t = 1.0; t <= 3.0; t += 2.0) {
        double p = 1.0 - 2.0 / pi * (t / (sqrt(3.0) * (1.0 + t * t / 3.0)) + atan(t / sqrt(3.0)));
        CHECK_FRACTION(tail_fraction(v, NDRAWS, t), p, NDRAWS, "student(3) tail");
    }
    /* NU = 2 (infinite variance), S = 0.5: P(|X| > t) = 1 - u / sqrt(2 + u^2), u = t / S. */
    CHECK(so_noise_parse(&n, "student:2:0.5") == SO_OK, "parse: %s", so_errmsg());
    so_noise_sample(v, NDRAWS, &n, 11, 0, 1);
    const double ts[3] = {0.5, 2.0, 10.0};
    for (int k = 0; k < 3; k++) {
        double u = ts[k] / 0.5, p = 1.0 - u / sqrt(2.0 + u * u);
        CHECK_FRACTION(tail_fraction(v, NDRAWS, ts[k]), p, NDRAWS, "student(2) tail");
    }
    /* NU = 1 is Cauchy (Gamma shape 1/2 takes the boost path): P(|X| > t) = 1 - (2/pi) atan(t / S). */
    CHECK(so_noise_parse(&n, "student:1:1") == SO_OK, "parse: %s", so_errmsg());
    so_noise_sample(v, NDRAWS, &n, 11, 0, 2);
    for (int k = 0; k < 3; k++) {
        double p = 1.0 - 2.0 / pi * atan(ts[k]);
        CHECK_FRACTION(tail_fraction(v, NDRAWS, ts[k]), p, NDRAWS, "cauchy tail");
    }
    free(v);
}

static void test_pareto_tails_and_mean(void)
{
    float *v = malloc(NDRAWS * sizeof *v);
    so_noise n;
    /* K = 1.5, S = 1: P(|X| > t) = (1 + t)^-1.5; symmetric, so P(X > 0) = 1/2. */
    CHECK(so_noise_parse(&n, "pareto:1.5:1") == SO_OK, "parse: %s", so_errmsg());
    so_noise_sample(v, NDRAWS, &n, 5, 1, 3);
    const double ts[4] = {0.25, 1.0, 4.0, 50.0};
    for (int k = 0; k < 4; k++)
        CHECK_FRACTION(tail_fraction(v, NDRAWS, ts[k]), pow(1.0 + ts[k], -1.5), NDRAWS, "pareto tail");
    /* The median of |X|: (1 + m)^-K = 1/2, m = 2^(1/K) - 1. */
    double median = pow(2.0, 1.0 / 1.5) - 1.0;
    CHECK_FRACTION(tail_fraction(v, NDRAWS, median), 0.5, NDRAWS, "pareto median of |X|");
    size_t positive = 0;
    for (size_t i = 0; i < NDRAWS; i++) positive += v[i] > 0.0f;
    CHECK_FRACTION((double)positive / NDRAWS, 0.5, NDRAWS, "pareto symmetric");
    /* Mean 0 tested where the CLT applies: K = 3, S = 1 has E X^2 = 2 S^2 / ((K-1)(K-2)) = 1. */
    CHECK(so_noise_parse(&n, "pareto:3:1") == SO_OK, "parse: %s", so_errmsg());
    so_noise_sample(v, NDRAWS, &n, 5, 0, 0);
    double mean, var;
    mean_var(v, NDRAWS, &mean, &var);
    CHECK_CLOSE(mean, 0.0, 0.0, 5.0 / sqrt(NDRAWS), "pareto(3) mean");
    free(v);
}

/* P(Binomial(n, p) <= kmax), summed directly. */
static double binomial_cdf(int n, double p, int kmax)
{
    double sum = 0.0;
    for (int k = 0; k <= kmax; k++) sum += exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) +
                                               k * log(p) + (n - k) * log1p(-p));
    return sum;
}

static void test_skew_noise_flips_small_gradients_signs(void)
{
    float *v = malloc(NDRAWS * sizeof *v);
    so_noise n;
    const double S = 0.5;
    CHECK(so_noise_parse(&n, "skew:0.5") == SO_OK, "parse: %s", so_errmsg());
    so_noise_sample(v, NDRAWS, &n, 3, 0, 0);
    size_t low = 0, other = 0;
    for (size_t i = 0; i < NDRAWS; i++) {
        if (v[i] == (float)-S) low++;
        else if (v[i] != (float)(3.0 * S)) other++;
    }
    CHECK(other == 0, "%zu draws outside {-S, 3S}", other);
    CHECK_FRACTION((double)low / NDRAWS, 0.75, NDRAWS, "P(X = -S)");
    double mean, var;
    mean_var(v, NDRAWS, &mean, &var);
    CHECK_CLOSE(mean, 0.0, 0.0, 5.0 * sqrt(3.0) * S / sqrt(NDRAWS), "skew mean");
    free(v);

    /* Through the problem at batch 1: quadratic with L_i = 1 at x = 0.1 S, grad_i = 0.05 > 0 on every
     * coordinate. The sign of g_i is wrong when X = -S: probability 3/4. Claim: > 1/2; margin: measured >= 0.7. */
    const size_t d = 100000;
    so_problem_config c = config("quadratic");
    c.dim = d;
    c.L_max = 1.0;
    c.x0 = 0.1 * S;
    c.noise = n;
    c.batch = 1;
    so_problem *p = make(c);
    float *x = malloc(d * sizeof *x), *g = malloc(d * sizeof *g);
    if (p) {
        so_problem_init(p, x);
        CHECK(grad_at(p, x, g, 0, 4, 0) == SO_OK, "grad: %s", so_errmsg());
        size_t wrong = 0;
        for (size_t i = 0; i < d; i++) wrong += g[i] < 0.0f;
        double frac = (double)wrong / d;
        CHECK(frac >= 0.7, "P(sign(g) != sign(grad)) = %g, want > 1/2 with margin (0.75 expected)", frac);
        CHECK_FRACTION(frac, 0.75, d, "wrong-sign rate at batch 1");
        so_problem_destroy(p);
    }
    /* At batch 64 the mean of the noise is S (4k/64 - 1), k ~ Bin(64, 1/4) draws of 3S; the sign of g_i is
     * wrong when S (4k/64 - 1) < -0.1 S, i.e. k <= 14: the batch pulls the wrong-sign rate below 1/2. */
    c.batch = 64;
    c.dim = 20000;
    p = make(c);
    if (p) {
        so_problem_init(p, x);
        CHECK(grad_at(p, x, g, 0, 4, 0) == SO_OK, "grad: %s", so_errmsg());
        size_t wrong = 0;
        for (size_t i = 0; i < c.dim; i++) wrong += g[i] < 0.0f;
        double want = binomial_cdf(64, 0.25, 14);
        CHECK(want < 0.5, "hand derivation: P(k <= 14) = %g", want);
        CHECK_FRACTION((double)wrong / c.dim, want, c.dim, "wrong-sign rate at batch 64");
        so_problem_destroy(p);
    }
    free(x);
    free(g);
}

static void test_noise_keys_same_seed_same_noise(void)
{
    const size_t d = 1000;
    float a[1000], b[1000];
    so_noise n;
    CHECK(so_noise_parse(&n, "student:2.5:1") == SO_OK, "parse");
    so_noise_sample(a, d, &n, 42, 3, 17);
    so_noise_sample(b, d, &n, 42, 3, 17);
    CHECK(memcmp(a, b, sizeof a) == 0, "same key, different noise");
    struct { uint64_t seed; uint32_t worker, step; } other[3] = {{43, 3, 17}, {42, 4, 17}, {42, 3, 18}};
    for (int k = 0; k < 3; k++) {
        so_noise_sample(b, d, &n, other[k].seed, other[k].worker, other[k].step);
        size_t same = 0;
        for (size_t i = 0; i < d; i++) same += a[i] == b[i];
        CHECK(same <= 2, "key %d: %zu of %zu coordinates equal", k, same, d);
    }
    /* The problem's gradient at x = 0 is the noise itself: B = 1, sub = 0 draws exactly so_noise_sample's
     * numbers; grad_sub with sub = 1 (a federated local step) draws different ones; a repeat is identical. */
    so_problem_config c = config("quadratic");
    c.dim = d;
    c.x0 = 0.0;
    c.noise = n;
    c.seed = 42;
    c.workers = 4;
    c.batch = 1;
    so_problem *p = make(c);
    if (!p) return;
    float x[1000], g[1000], g2[1000];
    so_problem_init(p, x);
    so_workspace *w = so_problem_workspace_new(p);
    double loss;
    CHECK(so_problem_grad(p, w, x, g, 3, 17, &loss) == SO_OK, "grad: %s", so_errmsg());
    so_workspace_free(w);
    CHECK(memcmp(g, a, sizeof g) == 0, "grad(x = 0) != so_noise_sample with the same key");
    CHECK(grad_at(p, x, g2, 3, 17, 0) == SO_OK, "grad_sub");
    CHECK(memcmp(g, g2, sizeof g) == 0, "grad_sub(sub = 0) != grad");
    CHECK(grad_at(p, x, g2, 3, 17, 1) == SO_OK, "grad_sub");
    size_t same = 0;
    for (size_t i = 0; i < d; i++) same += g[i] == g2[i];
    CHECK(same <= 2, "sub 1 repeats sub 0's noise on %zu coordinates", same);
    CHECK(grad_at(p, x, g, 3, 17, -1) == SO_EINVAL, "sub -1 accepted");
    CHECK(grad_at(p, x, g, 4, 17, 0) == SO_EINVAL, "worker 4 of 4 accepted");
    so_problem_destroy(p);
}

static void test_noise_does_not_depend_on_thread_count(void)
{
#ifdef _OPENMP
    const size_t d = 100000; /* above the size where sampling runs in parallel */
    float *a = malloc(d * sizeof *a), *b = malloc(d * sizeof *b);
    so_noise n;
    CHECK(so_noise_parse(&n, "student:1.5:2") == SO_OK, "parse");
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    so_noise_sample(a, d, &n, 9, 1, 2);
    omp_set_num_threads(3);
    so_noise_sample(b, d, &n, 9, 1, 2);
    omp_set_num_threads(saved);
    CHECK(memcmp(a, b, d * sizeof *a) == 0, "1 thread and 3 threads drew different noise");
    free(a);
    free(b);
#endif
}

static void test_minibatch_mean_divides_gauss_variance(void)
{
    const size_t d = 100000;
    float *x = calloc(d, sizeof *x), *g = malloc(d * sizeof *g), *draws = malloc(16 * d * sizeof *draws);
    so_noise n;
    CHECK(so_noise_parse(&n, "gauss:1") == SO_OK, "parse");
    const int batches[3] = {1, 4, 16};
    for (int k = 0; k < 3; k++) {
        so_problem_config c = config("quadratic");
        c.dim = d;
        c.noise = n;
        c.batch = batches[k];
        c.seed = 8;
        so_problem *p = make(c);
        if (!p) continue;
        double mean, var;
        CHECK(grad_at(p, x, g, 0, 6, 0) == SO_OK, "grad: %s", so_errmsg());
        mean_var(g, d, &mean, &var);
        /* var of a mean of B N(0,1) draws is 1/B; 5 standard errors of a sample variance: sqrt(2/d). */
        CHECK_CLOSE(var, 1.0 / batches[k], 5.0 * sqrt(2.0 / d), 0.0, "variance 1/B");
        /* Naive reference: draw b of coordinate i is draw index b*d + i, which so_noise_sample over B*d
         * coordinates gives in one row. */
        so_noise_sample(draws, (size_t)batches[k] * d, &n, 8, 0, 6);
        double worst = 0.0;
        for (size_t i = 0; i < d; i++) {
            double s = 0.0;
            for (int b = 0; b < batches[k]; b++) s += draws[(size_t)b * d + i];
            worst = fmax(worst, fabs(s / batches[k] - g[i]));
        }
        /* The reference sums float-rounded draws: |error| <= B * 2^-24 * max|X| ~ 1e-6. */
        CHECK(worst < 2e-6, "B = %d: batch mean differs from the naive mean by %g", batches[k], worst);
        so_problem_destroy(p);
    }
    free(x);
    free(g);
    free(draws);
}

static void test_noise_parse_forms_and_errors(void)
{
    so_noise n;
    struct { const char *text; so_noise_kind kind; double shape, scale; } good[] = {
        {"none", SO_NOISE_NONE, 0, 0},          {"gauss:0.5", SO_NOISE_GAUSS, 0, 0.5},
        {"pareto:1.5:2", SO_NOISE_PARETO, 1.5, 2}, {"student:2:0.1", SO_NOISE_STUDENT, 2, 0.1},
        {"skew:1", SO_NOISE_SKEW, 0, 1},         {"gauss:0", SO_NOISE_GAUSS, 0, 0},
    };
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        CHECK(so_noise_parse(&n, good[k].text) == SO_OK, "'%s' rejected: %s", good[k].text, so_errmsg());
        CHECK(n.kind == good[k].kind && n.shape == good[k].shape && n.scale == good[k].scale, "'%s' parsed wrong",
              good[k].text);
    }
    const char *bad[] = {"", "gauss", "gauss:", "gauss:-1", "gauss:1:2", "gauss:abc", "gauss:inf", "gauss:1x",
                         "pareto:1:1", "pareto:0.5:1", "pareto:2", "pareto:nan:1", "student:0:1", "student:-1:1",
                         "student:2", "skew:x", "skew", "bogus:1", "none:1", "gauss:1:2:3:4"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        so_noise keep = {SO_NOISE_SKEW, 7.0, 3.0};
        n = keep;
        CHECK(so_noise_parse(&n, bad[k]) == SO_EINVAL, "'%s' accepted", bad[k]);
        CHECK(strstr(so_errmsg(), "noise") != NULL, "'%s': message '%s'", bad[k], so_errmsg());
        CHECK(memcmp(&n, &keep, sizeof n) == 0, "'%s': output changed on error", bad[k]);
    }
    CHECK(so_noise_parse(&n, NULL) == SO_EINVAL, "NULL accepted");
    /* The message names the expected form. */
    so_noise_parse(&n, "pareto:0.5:1");
    CHECK(strstr(so_errmsg(), "pareto:K:S") != NULL, "message '%s' does not name the form", so_errmsg());
}

static void test_config_validation_errors(void)
{
    struct { const char *id; size_t dim; double L_max, x0, a, alpha; so_noise noise; const char *word; } bad[] = {
        {"quadratic", 0, 10, NAN, 1, 0.05, {SO_NOISE_NONE, 0, 0}, "dim"},
        {"quadratic", 3, 0.5, NAN, 1, 0.05, {SO_NOISE_NONE, 0, 0}, "L_max"},
        {"quadratic", 3, NAN, NAN, 1, 0.05, {SO_NOISE_NONE, 0, 0}, "L_max"},
        {"quadratic", 3, 10, INFINITY, 1, 0.05, {SO_NOISE_NONE, 0, 0}, "x0"},
        {"signgd-counterexample", 2, 10, NAN, 1, 0.0, {SO_NOISE_NONE, 0, 0}, "alpha"},
        {"signgd-counterexample", 2, 10, NAN, 1, -1.0, {SO_NOISE_NONE, 0, 0}, "alpha"},
        {"pl-toy", 1, 10, -INFINITY, 1, 0.05, {SO_NOISE_NONE, 0, 0}, "x0"},
        {"l0l1", 4, 10, NAN, 0.0, 0.05, {SO_NOISE_NONE, 0, 0}, "a must"},
        {"l0l1", 0, 10, NAN, 1.0, 0.05, {SO_NOISE_NONE, 0, 0}, "dim"},
        {"quadratic", 3, 10, NAN, 1, 0.05, {SO_NOISE_PARETO, 1.0, 1.0}, "tail index"},
        {"quadratic", 3, 10, NAN, 1, 0.05, {SO_NOISE_GAUSS, -1.0, 0.0}, "scale"},
        {"quadratic", 3, 10, NAN, 1, 0.05, {SO_NOISE_STUDENT, 1.0, 0.0}, "NU"},
        {"quadratic", 3, 10, NAN, 1, 0.05, {(so_noise_kind)99, 1.0, 0.0}, "unknown"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        so_problem_config c = config(bad[k].id);
        c.dim = bad[k].dim;
        c.L_max = bad[k].L_max;
        c.x0 = bad[k].x0;
        c.a = bad[k].a;
        c.alpha = bad[k].alpha;
        c.noise = bad[k].noise;
        so_problem *p = so_problem_create(&c);
        CHECK(p == NULL, "case %zu (%s) accepted", k, bad[k].id);
        CHECK(strstr(so_errmsg(), bad[k].word) != NULL, "case %zu: message '%s' lacks '%s'", k, so_errmsg(),
              bad[k].word);
        so_problem_destroy(p);
    }
}

static void test_problem_metadata(void)
{
    const char *ids[] = {"quadratic", "signgd-counterexample", "pl-toy", "l0l1"};
    for (int k = 0; k < 4; k++) {
        so_problem_config c = config(ids[k]);
        c.dim = 7;
        so_problem *p = make(c);
        if (!p) continue;
        size_t nt;
        const so_tensor *t = so_problem_tensors(p, &nt);
        CHECK(nt == 1 && strcmp(t[0].name, "x") == 0 && t[0].offset == 0 && t[0].size == so_problem_dim(p),
              "%s: tensors", ids[k]);
        CHECK(strcmp(so_problem_id(p), ids[k]) == 0, "id");
        CHECK(!so_problem_has_accuracy(p), "%s claims accuracy", ids[k]);
        CHECK(so_problem_samples(p) == 0, "samples");
        CHECK(so_problem_epoch(p, 12) == 12.0, "epoch of step 12");
        so_problem_destroy(p);
    }
}

int main(void)
{
    RUN(test_quadratic_curvatures_by_hand);
    RUN(test_start_point_and_f_at_x0_by_hand);
    RUN(test_full_gradient_matches_central_differences);
    RUN(test_gauss_mean_and_variance);
    RUN(test_uniform_noise_bounded_and_moments);
    RUN(test_student_tails_match_closed_form);
    RUN(test_pareto_tails_and_mean);
    RUN(test_skew_noise_flips_small_gradients_signs);
    RUN(test_noise_keys_same_seed_same_noise);
    RUN(test_noise_does_not_depend_on_thread_count);
    RUN(test_minibatch_mean_divides_gauss_variance);
    RUN(test_noise_parse_forms_and_errors);
    RUN(test_config_validation_errors);
    RUN(test_problem_metadata);
    return test_report("problems");
}
