/* test_optim.c — every single-node rule against values worked out by hand for 2-3 steps on d = 3 (or 4),
 * schedules and theory presets against their formulas, per-coordinate rates, state save/load, and config
 * checks. Unless said otherwise x0 = (1, -2, 0.5), g1 = (1, 2, -4), g2 = (0.5, 0, 1). Hand values are exact
 * decimals; the code runs in float, so positions are compared with atol 1e-6 (a few float ulps at |x| ~ 2). */
#include <stdlib.h>
#include "signopt/optim.h"
#include "test.h"

#define HAND_TOL 1e-6

static const float X0[3] = {1.0f, -2.0f, 0.5f};
static const float G1[3] = {1.0f, 2.0f, -4.0f};
static const float G2[3] = {0.5f, 0.0f, 1.0f};

static so_optim_config config(const char *algo, double lr)
{
    so_optim_config c;
    so_optim_config_default(&c);
    c.algo = algo;
    c.lr = lr;
    return c;
}

static void check_x(const float *x, const double *want, size_t d, const char *what)
{
    for (size_t i = 0; i < d; i++) CHECK_CLOSE(x[i], want[i], 0.0, HAND_TOL, what);
}

/* Runs steps with g1, g2 (and g3 if given) from X0, checking x after each against want1, want2, want3. */
static void hand_run(const so_optim_config *c, const float *g1, const float *g2, const float *g3,
                     const double *want1, const double *want2, const double *want3, const char *what)
{
    so_optim *o = so_optim_create(c, 3, NULL, 0);
    CHECK(o != NULL, "%s: create failed: %s", what, so_errmsg());
    if (!o) return;
    float x[3] = {X0[0], X0[1], X0[2]};
    CHECK(so_optim_step(o, x, g1) == SO_OK, "%s step 1", what);
    check_x(x, want1, 3, what);
    CHECK(so_optim_step(o, x, g2) == SO_OK, "%s step 2", what);
    check_x(x, want2, 3, what);
    if (g3) {
        CHECK(so_optim_step(o, x, g3) == SO_OK, "%s step 3", what);
        check_x(x, want3, 3, what);
    }
    CHECK(so_optim_step_count(o) == (g3 ? 3 : 2), "%s: step count", what);
    so_optim_destroy(o);
}

static void test_sgd_hand_values(void)
{
    so_optim_config c = config("sgd", 0.1);
    /* x1 = x0 - 0.1 g1 = (0.9, -2.2, 0.9); x2 = x1 - 0.1 g2 = (0.85, -2.2, 0.8) */
    hand_run(&c, G1, G2, NULL, (double[]){0.9, -2.2, 0.9}, (double[]){0.85, -2.2, 0.8}, NULL, "sgd");
    /* decoupled decay 0.1: x1 = 0.99 x0 - 0.1 g1 = (0.89, -2.18, 0.895);
     * x2 = 0.99 x1 - 0.1 g2 = (0.8811 - 0.05, -2.1582, 0.88605 - 0.1) = (0.8311, -2.1582, 0.78605) */
    c.weight_decay = 0.1;
    hand_run(&c, G1, G2, NULL, (double[]){0.89, -2.18, 0.895}, (double[]){0.8311, -2.1582, 0.78605}, NULL,
             "sgd decoupled decay");
}

static void test_sgdm_hand_values(void)
{
    so_optim_config c = config("sgdm", 0.1);
    c.beta = 0.9;
    /* b1 = g1 (torch: the buffer starts as the first gradient), x1 = (0.9, -2.2, 0.9);
     * b2 = 0.9 b1 + g2 = (1.4, 1.8, -2.6), x2 = x1 - 0.1 b2 = (0.76, -2.38, 1.16) */
    hand_run(&c, G1, G2, NULL, (double[]){0.9, -2.2, 0.9}, (double[]){0.76, -2.38, 1.16}, NULL, "sgdm");
    /* Nesterov: step 1 moves by g1 + 0.9 b1 = 1.9 g1: x1 = (0.81, -2.38, 1.26);
     * step 2 by g2 + 0.9 b2 = (1.76, 1.62, -1.34): x2 = (0.634, -2.542, 1.394) */
    c.nesterov = 1;
    hand_run(&c, G1, G2, NULL, (double[]){0.81, -2.38, 1.26}, (double[]){0.634, -2.542, 1.394}, NULL,
             "sgdm nesterov");
    /* coupled decay 0.5: g1' = g1 + 0.5 x0 = (1.5, 1, -3.75) = b1, x1 = (0.85, -2.1, 0.875);
     * g2' = g2 + 0.5 x1 = (0.925, -1.05, 1.4375), b2 = 0.9 b1 + g2' = (2.275, -0.15, -1.9375),
     * x2 = x1 - 0.1 b2 = (0.6225, -2.085, 1.06875) */
    c.nesterov = 0;
    c.weight_decay = 0.5;
    hand_run(&c, G1, G2, NULL, (double[]){0.85, -2.1, 0.875}, (double[]){0.6225, -2.085, 1.06875}, NULL,
             "sgdm coupled decay");
}

static void test_adam_hand_values(void)
{
    so_optim_config c = config("adam", 0.1);
    /* beta1 0.9, beta2 0.999, eps 1e-8. Step 1: m = 0.1 g1, v = 0.001 g1^2, the bias corrections 0.1 and
     * 0.001 undo them, so x1 = x0 - 0.1 g1 / (|g1| + 1e-8) = (0.9, -2.1, 0.6) up to 1e-9.
     * Step 2: m = (0.14, 0.18, -0.26), v = (0.001249, 0.003996, 0.016984), bc1 = 0.19, bc2 = 0.001999.
     * Coordinate 1: mhat = 0.736842, sqrt(vhat) = sqrt(0.624812) = 0.790451, step 0.1 * 0.932180 -> 0.806782.
     * Coordinate 2: mhat = 0.947368, sqrt(vhat) = 1.413860, step 0.067006 -> -2.167006.
     * Coordinate 3: mhat = -1.368421, sqrt(vhat) = 2.914832, step -0.046947 -> 0.646947. */
    hand_run(&c, G1, G2, NULL, (double[]){0.9, -2.1, 0.6}, (double[]){0.806782038, -2.167005824, 0.646946817},
             NULL, "adam");
    /* coupled decay 0.1: g1' = g1 + 0.1 x0 = (1.1, 1.8, -3.95); step 1 is still sign-like, x1 = (0.9, -2.1, 0.6);
     * g2' = g2 + 0.1 x1 = (0.59, -0.21, 1.06), m = (0.158, 0.141, -0.2495), v = (0.00155689, 0.00328086,
     * 0.0167105): x2 = (0.805771797, -2.157926602, 0.645418068) */
    c.weight_decay = 0.1;
    hand_run(&c, G1, G2, NULL, (double[]){0.9, -2.1, 0.6}, (double[]){0.805771797, -2.157926602, 0.645418068},
             NULL, "adam coupled decay");
    /* adamw, decay 0.1: x shrinks by 1 - 0.1*0.1 = 0.99 first; moments as plain adam.
     * x1 = 0.99 x0 - 0.1 sign(g1) = (0.89, -2.08, 0.595); x2 = 0.99 x1 - (0.093218, 0.067006, -0.046947)
     *    = (0.787882038, -2.126205824, 0.635996817) */
    c.algo = "adamw";
    hand_run(&c, G1, G2, NULL, (double[]){0.89, -2.08, 0.595}, (double[]){0.787882038, -2.126205824, 0.635996817},
             NULL, "adamw decoupled decay");
}

static void test_signsgd_hand_values(void)
{
    so_optim_config c = config("signsgd", 0.1);
    const float g1[3] = {1, 0, -4}, g2[3] = {-3, 2, 0};
    /* sign(0) = 0: x1 = (0.9, -2, 0.6), x2 = (1.0, -2.1, 0.6) */
    hand_run(&c, g1, g2, NULL, (double[]){0.9, -2.0, 0.6}, (double[]){1.0, -2.1, 0.6}, NULL, "signsgd");
    /* decoupled decay 0.5: x1 = 0.95 x0 - 0.1 sign(g1) = (0.85, -1.9, 0.575);
     * x2 = 0.95 x1 - 0.1 sign(g2) = (0.9075, -1.905, 0.54625) */
    c.weight_decay = 0.5;
    hand_run(&c, g1, g2, NULL, (double[]){0.85, -1.9, 0.575}, (double[]){0.9075, -1.905, 0.54625}, NULL,
             "signsgd decoupled decay");
}

static void test_signum_both_inits(void)
{
    const float g1[3] = {1, -2, 0}, g2[3] = {-2, 1, 3}, g3[3] = {0.2f, 0.6f, -1};
    so_optim_config c = config("signum", 0.1);
    c.beta = 0.5;
    /* init zero: m1 = 0.5 g1 = (0.5, -1, 0), x1 = (0.9, -1.9, 0.5);
     * m2 = 0.5 m1 + 0.5 g2 = (-0.75, 0, 1.5), x2 = (1.0, -1.9, 0.4);
     * m3 = 0.5 m2 + 0.5 g3 = (-0.275, 0.3, 0.25), x3 = (1.1, -2.0, 0.3) */
    c.momentum_init = SO_INIT_ZERO;
    hand_run(&c, g1, g2, g3, (double[]){0.9, -1.9, 0.5}, (double[]){1.0, -1.9, 0.4}, (double[]){1.1, -2.0, 0.3},
             "signum init zero");
    /* init first-grad: m1 = g1, x1 = (0.9, -1.9, 0.5); m2 = 0.5 g1 + 0.5 g2 = (-0.5, -0.5, 1.5),
     * x2 = (1.0, -1.8, 0.4); m3 = 0.5 m2 + 0.5 g3 = (-0.15, 0.05, 0.25), x3 = (1.1, -1.9, 0.3) */
    c.momentum_init = SO_INIT_FIRST_GRAD;
    hand_run(&c, g1, g2, g3, (double[]){0.9, -1.9, 0.5}, (double[]){1.0, -1.8, 0.4}, (double[]){1.1, -1.9, 0.3},
             "signum init first-grad");
    /* decoupled decay 1 (init zero): x1 = 0.9 x0 - 0.1 sign(m1) = (0.8, -1.7, 0.45);
     * x2 = 0.9 x1 - 0.1 sign(m2) = (0.82, -1.53, 0.305) */
    c.momentum_init = SO_INIT_ZERO;
    c.weight_decay = 1.0;
    hand_run(&c, g1, g2, NULL, (double[]){0.8, -1.7, 0.45}, (double[]){0.82, -1.53, 0.305}, NULL,
             "signum decoupled decay");
}

static void test_signum_nesterov_grad_point(void)
{
    so_optim_config c = config("signum-nesterov", 0.1);
    c.beta = 0.5; /* alpha defaults to beta / (1 - beta) = 1 */
    so_optim *o = so_optim_create(&c, 3, NULL, 0);
    CHECK(o != NULL, "create: %s", so_errmsg());
    if (!o) return;
    float x[3] = {X0[0], X0[1], X0[2]}, y[3] = {7, 7, 7};
    const float g1[3] = {1, -2, 0}, g2[3] = {-2, 1, 3};
    /* step 0: x_{-1} = x_0, the gradient is taken at x itself and y is left alone */
    CHECK(so_optim_grad_point(o, x, y) == 0 && y[0] == 7.0f, "step 0 must take the gradient at x");
    so_optim_step(o, x, g1); /* m1 = (0.5, -1, 0), x1 = (0.9, -1.9, 0.5) */
    check_x(x, (double[]){0.9, -1.9, 0.5}, 3, "signum-nesterov x1");
    /* y1 = x1 + 1 (x1 - x0) = (0.8, -1.8, 0.5) */
    CHECK(so_optim_grad_point(o, x, y) == 1, "step 1 must name y");
    check_x(y, (double[]){0.8, -1.8, 0.5}, 3, "signum-nesterov y1");
    so_optim_step(o, x, g2); /* m2 = (-0.75, 0, 1.5), x2 = (1.0, -1.9, 0.4) */
    check_x(x, (double[]){1.0, -1.9, 0.4}, 3, "signum-nesterov x2");
    so_optim_grad_point(o, x, y); /* y2 = x2 + (x2 - x1) = (1.1, -1.9, 0.3) */
    check_x(y, (double[]){1.1, -1.9, 0.3}, 3, "signum-nesterov y2");
    so_optim_destroy(o);

    /* explicit alpha 0.25: y1 = x1 + 0.25 (x1 - x0) = (0.875, -1.875, 0.5) */
    c.alpha = 0.25;
    o = so_optim_create(&c, 3, NULL, 0);
    float x2[3] = {X0[0], X0[1], X0[2]};
    so_optim_step(o, x2, g1);
    so_optim_grad_point(o, x2, y);
    check_x(y, (double[]){0.875, -1.875, 0.5}, 3, "signum-nesterov alpha 0.25");
    so_optim_destroy(o);
}

/* EF-signSGD's weight decay is coupled: it enters p as lr * wd * x beside lr * g (docs/algorithms.md). d = 2, one
 * tensor, lr 0.5, wd 0.1, x0 = (1, -2), e0 = 0.
 * g1 = (0.2, 0.4): g + wd x = (0.3, 0.2), p = (0.15, 0.1), scale 0.125, delta = (0.125, 0.125):
 *   x1 = (0.875, -2.125), e1 = (0.025, -0.025).
 * g2 = 0: g + wd x = (0.0875, -0.2125), p = (0.04375 + 0.025, -0.10625 - 0.025) = (0.06875, -0.13125), scale 0.1:
 *   x2 = (0.775, -2.025).
 * (The decoupled x (1 - lr wd) form would give x1 = (0.8, -2.05): p = (0.1, 0.2), scale 0.15, x0 * 0.95.) */
static void test_ef_signsgd_coupled_weight_decay(void)
{
    so_optim_config c = config("ef-signsgd", 0.5);
    c.weight_decay = 0.1;
    so_optim *o = so_optim_create(&c, 2, NULL, 0);
    CHECK(o != NULL, "create: %s", so_errmsg());
    if (!o) return;
    float x[2] = {1, -2};
    const float g1[2] = {0.2f, 0.4f}, g2[2] = {0, 0};
    so_optim_step(o, x, g1);
    check_x(x, (double[]){0.875, -2.125}, 2, "ef wd x1");
    so_optim_step(o, x, g2);
    check_x(x, (double[]){0.775, -2.025}, 2, "ef wd x2");
    so_optim_destroy(o);
}

static void test_ef_signsgd_per_tensor(void)
{
    /* d = 4 as two tensors [0,2) and [2,4), lr 1, x0 = 0, e0 = 0.
     * g1 = (1, -3, 0.5, 0.5): p = g1. Tensor A: ||p||_1 / 2 = 2, delta = (2, -2), e = (-1, -1);
     * tensor B: ||p||_1 / 2 = 0.5, delta = (0.5, 0.5), e = (0, 0). x1 = (-2, 2, -0.5, -0.5).
     * (One scale over all 4 coordinates would be 5/4 = 1.25 and give x1 = (-1.25, 1.25, -1.25, -1.25).)
     * g2 = (1, 1, -1, 0.25): p = (0, 0, -1, 0.25). A: ||p||_1 = 0, no move, e = 0;
     * B: scale 0.625, delta = (-0.625, 0.625): x2 = (-2, 2, 0.125, -1.125), e = (-0.375, -0.375). */
    const so_tensor t[2] = {{"a", 0, 2}, {"b", 2, 2}};
    so_optim_config c = config("ef-signsgd", 1.0);
    so_optim *o = so_optim_create(&c, 4, t, 2);
    CHECK(o != NULL, "create: %s", so_errmsg());
    if (!o) return;
    float x[4] = {0, 0, 0, 0};
    const float g1[4] = {1, -3, 0.5f, 0.5f}, g2[4] = {1, 1, -1, 0.25f};
    so_optim_step(o, x, g1);
    check_x(x, (double[]){-2, 2, -0.5, -0.5}, 4, "ef x1");
    so_optim_step(o, x, g2);
    check_x(x, (double[]){-2, 2, 0.125, -1.125}, 4, "ef x2");
    /* g3 = 0: p = e = (0, 0, -0.375, -0.375): B moves by -0.375 each, x3 = (-2, 2, 0.5, -0.75) */
    const float g3[4] = {0, 0, 0, 0};
    so_optim_step(o, x, g3);
    check_x(x, (double[]){-2, 2, 0.5, -0.75}, 4, "ef x3 (error fed back)");
    so_optim_destroy(o);

    /* lr 0.5 enters p = 0.5 g + e: one tensor, g1 = (2, -4, 0, 6): p = (1, -2, 0, 3), scale 6/4 = 1.5,
     * x1 = (-1.5, 1.5, 0, -1.5) */
    c.lr = 0.5;
    o = so_optim_create(&c, 4, NULL, 0);
    float x2[4] = {0, 0, 0, 0};
    so_optim_step(o, x2, (const float[]){2, -4, 0, 6});
    check_x(x2, (double[]){-1.5, 1.5, 0, -1.5}, 4, "ef one tensor, lr 0.5");
    so_optim_destroy(o);
}

static void test_scaled_signsgd_const_and_inv(void)
{
    const float g1[3] = {1, 0, -4}, g2[3] = {-3, 2, 0};
    /* alpha 0.1: ||g1||_1 = 5, x1 = x0 - 0.5 sign(g1) = (0.5, -2, 1); ||g2||_1 = 5, x2 = (1, -2.5, 1) */
    so_optim_config c = config("scaled-signsgd", 0.1);
    hand_run(&c, g1, g2, NULL, (double[]){0.5, -2, 1}, (double[]){1, -2.5, 1}, NULL, "scaled-signsgd const");
    /* inv:0.2: alpha_0 = 0.2, alpha_1 = 0.1: x1 = x0 - 1.0 sign(g1) = (0, -2, 1.5); x2 = x1 - 0.5 sign(g2)
     * = (0.5, -2.5, 1.5) */
    CHECK(so_schedule_parse(&c.schedule, "inv:0.2") == SO_OK, "parse inv");
    hand_run(&c, g1, g2, NULL, (double[]){0, -2, 1.5}, (double[]){0.5, -2.5, 1.5}, NULL, "scaled-signsgd inv");
}

static void test_lion_hand_values(void)
{
    /* Chen et al. 2023, Program 1: c = b1 m + (1-b1) g; x <- x - lr (sign(c) + wd x); m <- b2 m + (1-b2) g.
     * b1 0.9, b2 0.99, lr 0.1, m0 = 0. g1 = (1, -2, 0): c = 0.1 g1, x1 = (0.9, -1.9, 0.5), m1 = (0.01, -0.02, 0).
     * g2 = (-0.15, 0.1, 3): c = 0.9 m1 + 0.1 g2 = (-0.006, -0.008, 0.3), x2 = (1.0, -1.8, 0.4). Had m been
     * updated with b1 (m1 = 0.1 g1), c_1 would be +0.075 and x2[0] = 0.8: this catches swapped betas.
     * m2 = 0.99 m1 + 0.01 g2 = (0.0084, -0.0188, 0.03). g3 = (-0.2, 0.5, -1): c = (-0.01244, 0.03308, -0.073),
     * x3 = (1.1, -1.9, 0.5). */
    const float g1[3] = {1, -2, 0}, g2[3] = {-0.15f, 0.1f, 3}, g3[3] = {-0.2f, 0.5f, -1};
    so_optim_config c = config("lion", 0.1);
    c.beta = 0.9;
    c.beta2 = 0.99;
    hand_run(&c, g1, g2, g3, (double[]){0.9, -1.9, 0.5}, (double[]){1.0, -1.8, 0.4}, (double[]){1.1, -1.9, 0.5},
             "lion");
    /* decay 0.5: x1 = x0 - 0.1 (sign(c) + 0.5 x0) = (0.85, -1.8, 0.475);
     * x2 = x1 - 0.1 ((-1, -1, 1) + 0.5 x1) = (0.9075, -1.61, 0.35125) */
    c.weight_decay = 0.5;
    hand_run(&c, g1, g2, NULL, (double[]){0.85, -1.8, 0.475}, (double[]){0.9075, -1.61, 0.35125}, NULL,
             "lion decoupled decay");
}

static void test_per_coordinate_lr(void)
{
    const float a[3] = {1.0f, 0.5f, 2.0f};
    /* signsgd, lr 0.1, A = diag(1, 0.5, 2): g1 = (1, 0, -4) -> x1 = (0.9, -2, 0.7); g2 = (-3, 2, 1)
     * -> x2 = (1.0, -2.05, 0.5) */
    so_optim_config c = config("signsgd", 0.1);
    c.lr_vec = a;
    hand_run(&c, (const float[]){1, 0, -4}, (const float[]){-3, 2, 1}, NULL, (double[]){0.9, -2, 0.7},
             (double[]){1.0, -2.05, 0.5}, NULL, "signsgd per-coordinate lr");
    /* sgd with decoupled decay 0.5 and A: x1_i = x0_i (1 - 0.1 a_i 0.5) - 0.1 a_i g1_i
     * = (0.95 - 0.1, -2 * 0.975 - 0.1, 0.5 * 0.9 + 0.8) = (0.85, -2.05, 1.25); then g2 = 0 -> x2 = x1 (1 - 0.05 a) */
    c.algo = "sgd";
    c.weight_decay = 0.5;
    hand_run(&c, G1, (const float[]){0, 0, 0}, NULL, (double[]){0.85, -2.05, 1.25},
             (double[]){0.85 * 0.95, -2.05 * 0.975, 1.25 * 0.9}, NULL, "sgd per-coordinate lr and decay");

    /* Every rule: A = 0.5 everywhere must equal the scalar rate lr/2 bit for bit (0.5 scales a float exactly),
     * which shows the per-coordinate path is the same rule. */
    const char *const *ids = so_optim_algos();
    float half[3] = {0.5f, 0.5f, 0.5f};
    for (int k = 0; ids[k]; k++) {
        so_optim_config cs = config(ids[k], 0.05), cv = config(ids[k], 0.1);
        cv.lr_vec = half;
        so_optim *os = so_optim_create(&cs, 3, NULL, 0), *ov = so_optim_create(&cv, 3, NULL, 0);
        float xs[3] = {X0[0], X0[1], X0[2]}, xv[3] = {X0[0], X0[1], X0[2]};
        for (int s = 0; s < 4; s++) {
            const float g[3] = {G1[0] + (float)s, G1[1] - 0.7f * (float)s, G2[2] * (float)s - 1.0f};
            so_optim_step(os, xs, g);
            so_optim_step(ov, xv, g);
        }
        CHECK(memcmp(xs, xv, sizeof xs) == 0, "%s: lr_vec 0.5 differs from scalar lr/2", ids[k]);
        so_optim_destroy(os);
        so_optim_destroy(ov);
    }
}

static void test_schedules_against_hand_values(void)
{
    so_schedule s;
    CHECK(so_schedule_parse(&s, "const") == SO_OK, "const");
    CHECK_CLOSE(so_schedule_lr(&s, 0.3, 17), 0.3, 0, 0, "const");
    CHECK(so_schedule_parse(&s, "step:2,4:0.5") == SO_OK, "step: %s", so_errmsg());
    /* t = 0,1: lr; t = 2,3: lr/2; t >= 4: lr/4 */
    double want_step[6] = {1, 1, 0.5, 0.5, 0.25, 0.25};
    for (int t = 0; t < 6; t++) CHECK_CLOSE(so_schedule_lr(&s, 1.0, t), want_step[t], 1e-15, 0, "step");
    CHECK(so_schedule_parse(&s, "exp:0.9") == SO_OK, "exp");
    CHECK_CLOSE(so_schedule_lr(&s, 2.0, 0), 2.0, 1e-15, 0, "exp t=0");
    CHECK_CLOSE(so_schedule_lr(&s, 2.0, 2), 1.62, 1e-15, 0, "exp t=2: 2 * 0.81");
    CHECK(so_schedule_parse(&s, "inv:0.3") == SO_OK, "inv");
    CHECK_CLOSE(so_schedule_lr(&s, 5.0, 0), 0.3, 1e-15, 0, "inv t=0 (replaces lr)");
    CHECK_CLOSE(so_schedule_lr(&s, 5.0, 2), 0.1, 1e-15, 0, "inv t=2: 0.3/3");
    CHECK(so_schedule_parse(&s, "cosine") == SO_OK, "cosine");
    s.total_steps = 10;
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 0), 1.0, 1e-15, 0, "cosine t=0");
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 2), 0.904508497187, 1e-11, 0, "cosine t=2: (1 + cos 36deg)/2");
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 5), 0.5, 1e-15, 0, "cosine t=T/2");
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 10), 0.0, 0, 1e-15, "cosine t=T");
    CHECK(so_schedule_parse(&s, "warmup:4") == SO_OK, "warmup");
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 0), 0.25, 1e-15, 0, "warmup t=0: 1/4");
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 2), 0.75, 1e-15, 0, "warmup t=2: 3/4");
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 3), 1.0, 1e-15, 0, "warmup t=3");
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 100), 1.0, 1e-15, 0, "after warmup");
    CHECK(so_schedule_parse(&s, "warmup:4,cosine") == SO_OK, "warmup,cosine");
    s.total_steps = 14; /* cosine over the 10 steps after warm-up */
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 4), 1.0, 1e-15, 0, "warmup,cosine t=W");
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 9), 0.5, 1e-15, 0, "warmup,cosine t=W+5");
    CHECK_CLOSE(so_schedule_lr(&s, 1.0, 14), 0.0, 0, 1e-15, "warmup,cosine t=T");

    const char *bad[] = {"", "cos", "step", "step:0.5", "step:2,1:0.5", "step:2:-1", "step:a:0.5", "step:2,:0.5",
                         "exp:abc", "exp:0", "exp:1e999", "inv:0", "inv:-1", "warmup:0", "warmup:3,linear",
                         "warmup:-2", "theory:001-thm1", "const2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        so_error(SO_OK, "%s", "");
        CHECK(so_schedule_parse(&s, bad[i]) == SO_EINVAL, "'%s' must be refused", bad[i]);
        CHECK(so_errmsg()[0] != '\0', "'%s': no message", bad[i]);
    }
    CHECK(strstr((so_schedule_parse(&s, "linear"), so_errmsg()), "expected") != NULL, "message names the forms");

    /* A schedule drives the optimizer: sgd, lr 1, step:1:0.5, g = 1: x moves by 1 then 0.5 */
    so_optim_config c = config("sgd", 1.0);
    so_schedule_parse(&c.schedule, "step:1:0.5");
    so_optim *o = so_optim_create(&c, 1, NULL, 0);
    float x = 0.0f;
    const float g = 1.0f;
    CHECK_CLOSE(so_optim_lr(o), 1.0, 0, 0, "lr at step 0");
    so_optim_step(o, &x, &g);
    CHECK_CLOSE(so_optim_lr(o), 0.5, 0, 0, "lr at step 1");
    so_optim_step(o, &x, &g);
    CHECK_CLOSE(x, -1.5, 0, 0, "x after two scheduled steps");
    so_optim_destroy(o);
}

static void test_theory_presets_formulas(void)
{
    so_theory_input in = {.T = 10000, .d = 100, .n = 4, .L = 2.0, .rho = 9.0, .c = 1.0};
    double lr, beta;
    /* 001 Thm 1: eta = 1/(L T^{3/4}) = 1/(2 * 1000), beta = 1 - T^{-1/2} = 0.99 */
    CHECK(so_theory_preset("001-thm1", &in, &lr, &beta) == SO_OK, "001-thm1");
    CHECK_CLOSE(lr, 5e-4, 1e-12, 0, "001-thm1 lr");
    CHECK_CLOSE(beta, 0.99, 1e-12, 0, "001-thm1 beta");
    /* 001 Thm 2 at T = 2^14: T^{5/7} = 2^10, T^{4/7} = 2^8; max(sqrt(9), 2) = 3: eta = 1/3072, beta = 1 - 1/256 */
    in.T = 16384;
    CHECK(so_theory_preset("001-thm2", &in, &lr, &beta) == SO_OK, "001-thm2");
    CHECK_CLOSE(lr, 1.0 / 3072.0, 1e-12, 0, "001-thm2 lr");
    CHECK_CLOSE(beta, 1.0 - 1.0 / 256.0, 1e-12, 0, "001-thm2 beta");
    in.T = 10000;
    /* 000 Thm 1: eta = c T^{-3/4} = 1e-3, beta = 0.99; with c = 2: 2e-3 */
    CHECK(so_theory_preset("000-thm1", &in, &lr, &beta) == SO_OK, "000-thm1");
    CHECK_CLOSE(lr, 1e-3, 1e-12, 0, "000-thm1 lr");
    CHECK_CLOSE(beta, 0.99, 1e-12, 0, "000-thm1 beta");
    in.c = 2.0;
    so_theory_preset("000-thm1", &in, &lr, &beta);
    CHECK_CLOSE(lr, 2e-3, 1e-12, 0, "000-thm1 lr, c = 2");
    in.c = 1.0;
    /* 000 Thm 2: eta = d^{-1/2} T^{-3/4} = 1e-4 */
    so_theory_preset("000-thm2", &in, &lr, &beta);
    CHECK_CLOSE(lr, 1e-4, 1e-12, 0, "000-thm2 lr");
    CHECK_CLOSE(beta, 0.99, 1e-12, 0, "000-thm2 beta");
    /* 000 Thm 3: eta = 1/sqrt(T d) = 1e-3, beta = 1/2 */
    so_theory_preset("000-thm3", &in, &lr, &beta);
    CHECK_CLOSE(lr, 1e-3, 1e-12, 0, "000-thm3 lr");
    CHECK_CLOSE(beta, 0.5, 0, 0, "000-thm3 beta");
    /* 000 Thm 4: eta = n^{-1/2} = 0.5, beta = 1/2 */
    so_theory_preset("000-thm4", &in, &lr, &beta);
    CHECK_CLOSE(lr, 0.5, 1e-12, 0, "000-thm4 lr");
    CHECK_CLOSE(beta, 0.5, 0, 0, "000-thm4 beta");
    /* 000 Thm 5, T = 1e4, d = 100: min(1e-3, 10^{-2.8}) = 1e-3; 1 - beta = (1e-3)^{2/3} 100^{1/3} = 0.0464158883 */
    so_theory_preset("000-thm5", &in, &lr, &beta);
    CHECK_CLOSE(lr, 1e-3, 1e-12, 0, "000-thm5 lr");
    CHECK_CLOSE(1.0 - beta, 0.0464158883361, 1e-9, 0, "000-thm5 beta");
    /* T = 1e5, d = 10: min(10^{-3}, 10^{-3.2}) = 10^{-3.2}; 1 - beta = 10^{-3.2 * 2/3 + 1/3} = 10^{-1.8} */
    so_theory_input in5 = {.T = 100000, .d = 10, .n = 1, .L = 1, .c = 1};
    so_theory_preset("000-thm5", &in5, &lr, &beta);
    CHECK_CLOSE(lr, 6.30957344480e-4, 1e-9, 0, "000-thm5 lr, second branch");
    CHECK_CLOSE(1.0 - beta, 0.0158489319246, 1e-9, 0, "000-thm5 beta, second branch");
    /* 003 Thm 1: gamma_0 T^{-3/4} with gamma_0 = c = 0.5: 5e-4; beta = 0.99 */
    in.c = 0.5;
    so_theory_preset("003-thm1", &in, &lr, &beta);
    CHECK_CLOSE(lr, 5e-4, 1e-12, 0, "003-thm1 lr");
    CHECK_CLOSE(beta, 0.99, 1e-12, 0, "003-thm1 beta");
    in.c = 1.0;

    int count = 0;
    for (const char *const *p = so_theory_names(); *p; p++, count++)
        CHECK(so_theory_preset(*p, &in, &lr, &beta) == SO_OK, "%s must accept valid input", *p);
    CHECK(count == 8, "8 presets, got %d", count);
    CHECK(so_theory_preset("001-thm9", &in, &lr, &beta) == SO_EINVAL, "unknown preset");
    in.T = 0;
    CHECK(so_theory_preset("000-thm1", &in, &lr, &beta) == SO_EINVAL, "T = 0");
    in.T = 100;
    in.L = 0.0;
    CHECK(so_theory_preset("001-thm1", &in, &lr, &beta) == SO_EINVAL, "001-thm1 needs L > 0");
}

/* so_optim_step_tensors on tensors the test owns equals so_optim on each tensor alone, bit for bit, for every id
 * (scaled-signsgd: the same, the norm then taken over all tensors, so here each against a flat so_optim over the
 * concatenation, within the rounding of the norm's summation order); the grad point of signum-nesterov likewise. */
static void test_step_tensors_equals_so_optim(void)
{
    enum { NT = 3, STEPS = 6 };
    const size_t sizes[NT] = {5, 70001, 33};
    const size_t total = sizes[0] + sizes[1] + sizes[2];
    for (const char *const *id = so_optim_algos(); *id; id++) {
        so_optim_config oc;
        so_optim_config_default(&oc);
        oc.algo = *id;
        oc.lr = strcmp(*id, "scaled-signsgd") == 0 ? 1e-6 : 0.01;
        oc.weight_decay = strcmp(*id, "scaled-signsgd") == 0 ? 0.0 : 0.05;
        oc.momentum_init = strcmp(*id, "signum") == 0 ? SO_INIT_FIRST_GRAD : SO_INIT_AUTO;
        const int scaled = strcmp(*id, "scaled-signsgd") == 0;
        float *x[NT], *g[NT], *b0[NT], *b1[NT], *y[NT], *ref[NT], *yref[NT];
        so_optim *o[NT], *flat = NULL;
        float *fx = malloc(total * sizeof *fx), *fg = malloc(total * sizeof *fg);
        for (int k = 0; k < NT; k++) {
            x[k] = malloc(sizes[k] * sizeof(float));
            g[k] = malloc(sizes[k] * sizeof(float));
            b0[k] = calloc(sizes[k], sizeof(float));
            b1[k] = calloc(sizes[k], sizeof(float));
            y[k] = malloc(sizes[k] * sizeof(float));
            ref[k] = malloc(sizes[k] * sizeof(float));
            yref[k] = malloc(sizes[k] * sizeof(float));
            so_rng r;
            so_rng_init(&r, 3, (uint32_t)k, 0, SO_STREAM_USER);
            for (size_t i = 0; i < sizes[k]; i++) x[k][i] = ref[k][i] = so_rng_uniformf(&r) - 0.5f;
            o[k] = so_optim_create(&oc, sizes[k], NULL, 0);
        }
        if (scaled) {
            flat = so_optim_create(&oc, total, NULL, 0);
            for (int k = 0, off = 0; k < NT; off += (int)sizes[k], k++) memcpy(fx + off, x[k], sizes[k] * 4);
        }
        int same = 1, rc = SO_OK;
        for (long t = 0; t < STEPS && rc == SO_OK; t++) {
            int moved = so_optim_grad_point_tensors(&oc, t, NT, sizes, (const float *const *)x,
                                                    (const float *const *)b1, y);
            for (int k = 0; k < NT; k++) {
                int mref = so_optim_grad_point(o[k], ref[k], yref[k]);
                same &= moved == mref && (!moved || memcmp(y[k], yref[k], sizes[k] * 4) == 0);
                so_rng r;
                so_rng_init(&r, 4, (uint32_t)k, (uint32_t)t, SO_STREAM_USER);
                for (size_t i = 0; i < sizes[k]; i++) g[k][i] = so_rng_uniformf(&r) - 0.45f;
            }
            rc = so_optim_step_tensors(&oc, t, NT, sizes, x, (const float *const *)g, b0, b1);
            if (scaled) {
                for (int k = 0, off = 0; k < NT; off += (int)sizes[k], k++) memcpy(fg + off, g[k], sizes[k] * 4);
                so_optim_step(flat, fx, fg);
            } else {
                for (int k = 0; k < NT; k++) so_optim_step(o[k], ref[k], g[k]);
            }
        }
        CHECK(rc == SO_OK, "%s: %s", *id, so_errmsg());
        if (scaled) {
            double worst = 0;
            for (int k = 0, off = 0; k < NT; off += (int)sizes[k], k++)
                for (size_t i = 0; i < sizes[k]; i++) worst = fmax(worst, fabs(x[k][i] - fx[off + i]));
            CHECK(worst < 1e-6, "scaled-signsgd over tensors vs flat: max |diff| %g", worst);
        } else {
            for (int k = 0; k < NT; k++) same &= memcmp(x[k], ref[k], sizes[k] * 4) == 0;
            CHECK(same, "%s: tensor-list steps differ from so_optim per tensor", *id);
        }
        for (int k = 0; k < NT; k++) {
            free(x[k]), free(g[k]), free(b0[k]), free(b1[k]), free(y[k]), free(ref[k]), free(yref[k]);
            so_optim_destroy(o[k]);
        }
        so_optim_destroy(flat);
        free(fx);
        free(fg);
    }
    so_optim_config oc;
    so_optim_config_default(&oc);
    float a[2] = {1, 2}, b[2] = {0.5f, 0.5f};
    float *xs[1] = {a}, *bufs[1] = {NULL};
    const float *gs[1] = {b};
    const size_t n2[1] = {2};
    CHECK(so_optim_step_tensors(&oc, 0, 1, n2, xs, gs, bufs, NULL) == SO_EINVAL, "signum without its buffer");
    oc.algo = "mv-signum";
    CHECK(so_optim_step_tensors(&oc, 0, 1, n2, xs, gs, bufs, NULL) == SO_EINVAL, "a distributed id");
}

int main(void)
{
    RUN(test_sgd_hand_values);
    RUN(test_sgdm_hand_values);
    RUN(test_adam_hand_values);
    RUN(test_signsgd_hand_values);
    RUN(test_signum_both_inits);
    RUN(test_signum_nesterov_grad_point);
    RUN(test_ef_signsgd_per_tensor);
    RUN(test_ef_signsgd_coupled_weight_decay);
    RUN(test_scaled_signsgd_const_and_inv);
    RUN(test_lion_hand_values);
    RUN(test_per_coordinate_lr);
    RUN(test_schedules_against_hand_values);
    RUN(test_theory_presets_formulas);
    RUN(test_step_tensors_equals_so_optim);
    return test_report("optim");
}
