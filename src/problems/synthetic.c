/* synthetic.c — the synthetic problems (docs/algorithms.md, "Problems"): quadratic, signgd-counterexample,
 * pl-toy, l0l1, four families registered through the public oracle interface (so_problem_create_oracle). All four
 * are separable, f(x) = sum_i phi_i(x_i), so one per-coordinate function gives f and the exact gradient. A
 * worker's stochastic gradient is the exact gradient plus the mean of B independent noise draws (B = the
 * per-worker batch), so the batch size divides the noise variance by B as in the papers' minibatches.
 *
 * Noise keys: the gradient of worker j at step t with minibatch stream `sub` draws from (seed, j, t, stream)
 * with stream = SO_STREAM_NOISE + sub * 2^16 (sub = 0 is SO_STREAM_NOISE itself, so at B = 1 the noise equals
 * so_noise_sample(seed, j, t); the local steps sub = 1..K of a federated round read disjoint streams, above
 * every named stream of core.h). Draw b of coordinate i is draw index b*d + i. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "noise_impl.h"
#include "../core/builtin.h"

typedef enum synthetic_kind { QUADRATIC, SIGNGD_COUNTEREXAMPLE, PL_TOY, L0L1 } synthetic_kind;

typedef struct synthetic {
    synthetic_kind kind;
    char id[32];
    size_t dim;
    int batch;
    uint64_t seed;
    so_noise noise;
    double slope;      /* quadratic: L_i = 1 + slope * i / span, computed, not stored (see curvature) */
    double span;
    double a;          /* l0l1: the cosh rate */
    double start;      /* x_0 = (start, ..., start) */
    so_tensor tensor;  /* the one tensor "x" */
} synthetic;

#define SUB_MAX 65535 /* sub lives in the high 16 bits of the stream word */

/* phi_i(x) and phi_i'(x) for coordinate i.
 * quadratic:   phi_i = L_i x^2 / 2                      (000 Ass. 2, separable smoothness with L_i)
 * signgd-ce:   phi   = x^2                              (004 Example 1: f = x1^2 + x2^2)
 * pl-toy:      phi   = x^2 + 3 sin^2 x,  phi' = 2x + 3 sin 2x   (004 Example 4)
 * l0l1:        phi   = (cosh(a x) - 1) / a^2 = 2 sinh^2(a x / 2) / a^2,  phi' = sinh(a x) / a.
 *   (L0,L1)-smoothness (003 Ass. 2, in its twice-differentiable form ||hess f(x)||_2 <= L0 + L1 ||grad f(x)||_2):
 *   the Hessian is diag(cosh(a x_i)), and cosh u = |sinh u| + e^{-|u|} <= 1 + |sinh u|, so
 *   ||hess f(x)||_2 = max_i cosh(a x_i) <= 1 + a max_i |sinh(a x_i) / a| <= 1 + a ||grad f(x)||_2:
 *   L0 = 1, L1 = a. It is not L-smooth for any L, since cosh(a x_i) is unbounded. The -1 puts the minimum
 *   f(0) = 0, so log f can be plotted; the sinh^2 form keeps f accurate near 0. */
/* L_i = 1 + (L_max - 1)(i - 1)/(d - 1), i = 1..d (docs/algorithms.md), here 0-based; L = 1 when d = 1 (slope 0,
 * span 1). Computed from i in the same operations a stored table was filled with, so the values are the same,
 * and the gradient pass reads no 8-byte table (a third of its memory traffic). */
static inline double curvature(const synthetic *s, size_t i)
{
    return 1.0 + s->slope * (double)i / s->span;
}

static double coordinate(const synthetic *s, size_t i, double x, double *dphi)
{
    switch (s->kind) {
    case QUADRATIC: {
        const double L = curvature(s, i);
        *dphi = L * x;
        return 0.5 * L * x * x;
    }
    case SIGNGD_COUNTEREXAMPLE:
        *dphi = 2.0 * x;
        return x * x;
    case PL_TOY: {
        double sx = sin(x);
        *dphi = 2.0 * x + 3.0 * sin(2.0 * x);
        return x * x + 3.0 * sx * sx;
    }
    case L0L1: {
        double h = sinh(0.5 * s->a * x);
        *dphi = sinh(s->a * x) / s->a;
        return 2.0 * h * h / (s->a * s->a);
    }
    }
    *dphi = 0.0;
    return 0.0;
}

typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

/* The quadratic's f (returned) and gradient over all d coordinates, in the operations of `coordinate` but four
 * coordinates a vector (GCC leaves the switch-per-coordinate loop scalar, one dependent add per coordinate).
 * grad NULL: f only. add_g: grad_i = (float)(L_i x_i + (double)grad_i), the noise already in grad; else
 * grad_i = (float)(L_i x_i). f is summed in eight lanes (lane k: coordinates i = k mod 8, in order) combined in
 * a fixed tree, so it does not depend on anything but x; it differs from a one-accumulator sum in the last bits. */
static double quadratic_pass(const synthetic *s, const float *restrict x, float *restrict grad, size_t d, int add_g)
{
    v4d lane_lo = {0, 0, 0, 0}, lane_hi = {0, 0, 0, 0};
    const v4d step = {0, 1, 2, 3};
    size_t i = 0;
    for (; i + 8 <= d; i += 8) {
        for (int h = 0; h < 2; h++) {
            const size_t j = i + 4 * (size_t)h;
            v4f xf;
            memcpy(&xf, x + j, sizeof xf);
            const v4d xd = __builtin_convertvector(xf, v4d);
            const v4d L = 1.0 + s->slope * ((double)j + step) / s->span;
            const v4d dphi = L * xd, phi = 0.5 * L * xd * xd;
            if (h == 0) lane_lo += phi;
            else lane_hi += phi;
            if (!grad) continue;
            v4d out = dphi;
            if (add_g) {
                v4f gf;
                memcpy(&gf, grad + j, sizeof gf);
                out = dphi + __builtin_convertvector(gf, v4d);
            }
            const v4f of = __builtin_convertvector(out, v4f);
            memcpy(grad + j, &of, sizeof of);
        }
    }
    double tail = 0.0, dphi;
    for (; i < d; i++) {
        tail += coordinate(s, i, x[i], &dphi);
        if (grad) grad[i] = add_g ? (float)(dphi + (double)grad[i]) : (float)dphi;
    }
    return ((lane_lo[0] + lane_lo[1]) + (lane_lo[2] + lane_lo[3])) +
           ((lane_hi[0] + lane_hi[1]) + (lane_hi[2] + lane_hi[3])) + tail;
}

static int synthetic_objective(void *ctx, const float *x, double *f, float *grad)
{
    const synthetic *s = ctx;
    if (s->kind == QUADRATIC) {
        *f = quadratic_pass(s, x, grad, s->dim, 0);
        return SO_OK;
    }
    double sum = 0.0, dphi;
    for (size_t i = 0; i < s->dim; i++) {
        sum += coordinate(s, i, x[i], &dphi);
        if (grad) grad[i] = (float)dphi;
    }
    *f = sum;
    return SO_OK;
}

static int synthetic_grad(void *ctx, void *ws, const float *x, float *g, const so_grad_request *q, double *loss)
{
    (void)ws;
    const synthetic *s = ctx;
    if (q->sub > SUB_MAX)
        return so_error(SO_EINVAL, "%s: minibatch stream %d out of range [0, %d]", s->id, q->sub, SUB_MAX);
    uint32_t stream = (uint32_t)SO_STREAM_NOISE + ((uint32_t)q->sub << 16);
    /* Noise first into g, then the exact gradient is added in double. Steps past 2^32 wrap the counter word. */
    so__noise_mean(g, s->dim, &s->noise, s->seed, (uint32_t)q->worker, (uint32_t)q->step, stream, s->batch);
    if (s->kind == QUADRATIC) {
        *loss = quadratic_pass(s, x, g, s->dim, 1);
        return SO_OK;
    }
    double sum = 0.0, dphi;
    for (size_t i = 0; i < s->dim; i++) {
        sum += coordinate(s, i, x[i], &dphi);
        g[i] = (float)(dphi + (double)g[i]);
    }
    *loss = sum;
    return SO_OK;
}

static int synthetic_init(void *ctx, float *x, uint64_t seed)
{
    (void)seed;
    const synthetic *s = ctx;
    for (size_t i = 0; i < s->dim; i++) x[i] = (float)s->start;
    return SO_OK;
}

static const so_oracle synthetic_ops = {
    .grad = synthetic_grad,
    .objective = synthetic_objective,
    .init = synthetic_init,
    .destroy = free,
};

/* The configured start value, or `fallback` when cfg.x0 is NaN. */
static int start_value(const synthetic *s, const so_problem_config *c, double fallback, double *start)
{
    double v = c->x0;
    if (isnan(v)) { *start = fallback; return SO_OK; }
    if (!isfinite(v)) return so_error(SO_EINVAL, "%s: x0 must be finite (or NaN for the default), got %g", s->id, v);
    *start = v;
    return SO_OK;
}

static int synthetic_configure(synthetic *s, const so_problem_config *c)
{
    switch (s->kind) {
    case QUADRATIC:
        if (c->dim < 1) return so_error(SO_EINVAL, "quadratic: dim must be >= 1, got %zu", c->dim);
        if (!isfinite(c->L_max) || c->L_max < 1.0)
            return so_error(SO_EINVAL, "quadratic: L_max must be finite and >= 1, got %g", c->L_max);
        s->dim = c->dim;
        s->slope = s->dim == 1 ? 0.0 : c->L_max - 1.0;
        s->span = s->dim == 1 ? 1.0 : (double)(s->dim - 1);
        return start_value(s, c, 1.0, &s->start);
    case SIGNGD_COUNTEREXAMPLE:
        /* 004 Example 1: f = x1^2 + x2^2 from x_0 = (alpha/2, alpha/2); signGD with step alpha then alternates
         * between (alpha/2, alpha/2) and (-alpha/2, -alpha/2) forever. cfg.dim is ignored: d = 2. */
        if (!isfinite(c->alpha) || c->alpha <= 0.0)
            return so_error(SO_EINVAL, "signgd-counterexample: alpha must be finite and > 0, got %g", c->alpha);
        s->dim = 2;
        return start_value(s, c, 0.5 * c->alpha, &s->start);
    case PL_TOY:
        /* 004 Example 4: f = x^2 + 3 sin^2 x, d = 1. The paper starts from "an arbitrary initial state"; ours is
         * x_0 = pi. It lies beyond the non-convex band x in (0.96, 2.19) where f'' = 2 + 6 cos 2x < 0, so a run
         * crosses the band on the way to the unique stationary point 0 (2x + 3 sin 2x = 0 only at 0). It is
         * irrational so that a sign method with a short decimal step never lands on 0 by coincidence: from 3,
         * signGD with alpha = 0.05 would reach 3 - 60 alpha = 0. cfg.dim is ignored. */
        s->dim = 1;
        return start_value(s, c, 3.14159265358979323846, &s->start);
    case L0L1:
        if (c->dim < 1) return so_error(SO_EINVAL, "l0l1: dim must be >= 1, got %zu", c->dim);
        if (!isfinite(c->a) || c->a <= 0.0) return so_error(SO_EINVAL, "l0l1: a must be finite and > 0, got %g", c->a);
        s->dim = c->dim;
        s->a = c->a;
        /* Default start 3: with a = 1, f'' = cosh 3 = 10 there but 1 at the minimum, the regime where
         * (L0,L1)-smoothness matters. */
        return start_value(s, c, 3.0, &s->start);
    }
    return so_error(SO_EINVAL, "problem: '%s' is not a synthetic problem", c->id);
}

/* Everything that changes a synthetic problem's gradients beyond its id, dim, seed and batch (MPI ranks must
 * agree on it): the noise, the curvature spread, the start, a. */
static uint64_t fingerprint(const synthetic *s)
{
    double v[6] = {(double)s->noise.kind, s->noise.scale, s->noise.shape, s->slope, s->start, s->a};
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *b = (const unsigned char *)v;
    for (size_t i = 0; i < sizeof v; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static so_problem *synthetic_create(const so_problem_config *cfg, synthetic_kind kind)
{
    synthetic *s = calloc(1, sizeof *s);
    if (!s) {
        so_error(SO_ENOMEM, "problem: out of memory");
        return NULL;
    }
    s->kind = kind;
    snprintf(s->id, sizeof s->id, "%s", cfg->id);
    s->batch = cfg->batch;
    s->seed = cfg->seed;
    s->noise = cfg->noise;
    int rc = synthetic_configure(s, cfg);
    if (rc == SO_OK) {
        rc = so__noise_check(&s->noise);
        if (rc != SO_OK) {
            char why[256]; /* so_errmsg() is the buffer so_error writes: copy it before reusing it */
            snprintf(why, sizeof why, "%s", so_errmsg());
            rc = so_error(rc, "%s: %s", s->id, why);
        }
    }
    if (rc == SO_OK && (uint64_t)s->dim * (uint64_t)s->batch > so__noise_max_draws(&s->noise))
        rc = so_error(SO_EINVAL, "%s: dim * batch = %zu * %d exceeds the %llu noise draws one step can key", s->id,
                      s->dim, s->batch, (unsigned long long)so__noise_max_draws(&s->noise));
    if (rc != SO_OK) {
        free(s);
        return NULL;
    }
    const so_oracle_info info = {
        .id = s->id, .dim = s->dim, .workers = cfg->workers, .batch = cfg->batch, .seed = cfg->seed,
        .fingerprint = fingerprint(s), .objective_grad = 1,
    };
    return so_problem_create_oracle(&synthetic_ops, s, &info);
}

static so_problem *create_quadratic(const so_problem_config *c) { return synthetic_create(c, QUADRATIC); }
static so_problem *create_counterexample(const so_problem_config *c)
{
    return synthetic_create(c, SIGNGD_COUNTEREXAMPLE);
}
static so_problem *create_pl_toy(const so_problem_config *c) { return synthetic_create(c, PL_TOY); }
static so_problem *create_l0l1(const so_problem_config *c) { return synthetic_create(c, L0L1); }

const so_problem_family so__family_quadratic = {
    "quadratic", "f = 1/2 sum_i L_i x_i^2, L_i from 1 to L-max (seed 000, Ass. 2)", create_quadratic};
const so_problem_family so__family_signgd_counterexample = {
    "signgd-counterexample", "f = x1^2 + x2^2 from (alpha/2, alpha/2): signGD oscillates (seed 004, Example 1)",
    create_counterexample};
const so_problem_family so__family_pl_toy = {
    "pl-toy", "f = x^2 + 3 sin^2 x, non-convex and PL (seed 004, Example 4)", create_pl_toy};
const so_problem_family so__family_l0l1 = {
    "l0l1", "f = sum_i (cosh(a x_i) - 1) / a^2, (L0, L1)-smooth, not L-smooth (seed 003)", create_l0l1};
