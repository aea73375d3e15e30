/* synthetic.c — the synthetic problems (ALGORITHMS.md, "Problems"): quadratic, signgd-counterexample, pl-toy,
 * l0l1. All four are separable, f(x) = sum_i phi_i(x_i), so one per-coordinate function gives f and the exact
 * gradient. A worker's stochastic gradient is the exact gradient plus the mean of B independent noise draws
 * (B = the per-worker batch), so the batch size divides the noise variance by B as in the papers' minibatches.
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
#include "problem_impl.h"

typedef enum synthetic_kind { QUADRATIC, SIGNGD_COUNTEREXAMPLE, PL_TOY, L0L1 } synthetic_kind;

typedef struct synthetic {
    synthetic_kind kind;
    double slope;      /* quadratic: L_i = 1 + slope * i / span, computed, not stored (see curvature) */
    double span;
    double a;          /* l0l1: the cosh rate */
    double start;      /* x_0 = (start, ..., start) */
    so_tensor tensor;  /* the one tensor "x" */
} synthetic;

static const struct {
    const char *id;
    synthetic_kind kind;
} synthetic_ids[] = {
    {"quadratic", QUADRATIC},
    {"signgd-counterexample", SIGNGD_COUNTEREXAMPLE},
    {"pl-toy", PL_TOY},
    {"l0l1", L0L1},
};
#define N_SYNTHETIC (sizeof synthetic_ids / sizeof synthetic_ids[0])

#define SUB_MAX 65535 /* sub lives in the high 16 bits of the stream word */

int so__synthetic_is(const char *id)
{
    for (size_t k = 0; k < N_SYNTHETIC; k++)
        if (strcmp(id, synthetic_ids[k].id) == 0) return 1;
    return 0;
}

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
/* L_i = 1 + (L_max - 1)(i - 1)/(d - 1), i = 1..d (ALGORITHMS.md), here 0-based; L = 1 when d = 1 (slope 0,
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

static int synthetic_full(so_problem *p, const float *x, float *grad, double *f)
{
    const synthetic *s = p->impl;
    if (s->kind == QUADRATIC) {
        *f = quadratic_pass(s, x, grad, p->dim, 0);
        return SO_OK;
    }
    double sum = 0.0, dphi;
    for (size_t i = 0; i < p->dim; i++) {
        sum += coordinate(s, i, x[i], &dphi);
        if (grad) grad[i] = (float)dphi;
    }
    *f = sum;
    return SO_OK;
}

static int synthetic_grad(so_problem *p, so_workspace *w, const float *x, float *g, int worker, long step, int sub,
                          double *loss)
{
    (void)w;
    const synthetic *s = p->impl;
    if (sub < 0 || sub > SUB_MAX)
        return so_error(SO_EINVAL, "%s: minibatch stream %d out of range [0, %d]", p->id, sub, SUB_MAX);
    if (step < 0) return so_error(SO_EINVAL, "%s: step %ld is negative", p->id, step);
    uint32_t stream = (uint32_t)SO_STREAM_NOISE + ((uint32_t)sub << 16);
    /* Noise first into g, then the exact gradient is added in double. Steps past 2^32 wrap the counter word. */
    so__noise_mean(g, p->dim, &p->cfg.noise, p->cfg.seed, (uint32_t)worker, (uint32_t)step, stream, p->cfg.batch);
    if (s->kind == QUADRATIC) {
        *loss = quadratic_pass(s, x, g, p->dim, 1);
        return SO_OK;
    }
    double sum = 0.0, dphi;
    for (size_t i = 0; i < p->dim; i++) {
        sum += coordinate(s, i, x[i], &dphi);
        g[i] = (float)(dphi + (double)g[i]);
    }
    *loss = sum;
    return SO_OK;
}

static int synthetic_init(const so_problem *p, float *x)
{
    const synthetic *s = p->impl;
    for (size_t i = 0; i < p->dim; i++) x[i] = (float)s->start;
    return SO_OK;
}

static void synthetic_workspace_free(so_workspace *w) { free(w); }

/* Synthetic gradients need no scratch; the workspace is only the header every family shares. */
static so_workspace *synthetic_workspace_new(const so_problem *p)
{
    (void)p;
    so_workspace *w = malloc(sizeof *w);
    if (!w) { so_error(SO_ENOMEM, "problem: out of memory for a workspace"); return NULL; }
    w->free = synthetic_workspace_free;
    return w;
}

static void synthetic_destroy(so_problem *p)
{
    free(p->impl);
    p->impl = NULL;
    p->tensors = NULL;
    p->ntensors = 0;
}

static const so_problem_ops synthetic_ops = {
    .full = synthetic_full,
    .grad = synthetic_grad,
    .accuracy = NULL,
    .init = synthetic_init,
    .workspace_new = synthetic_workspace_new,
    .destroy = synthetic_destroy,
};

/* The configured start value, or `fallback` when cfg.x0 is NaN. */
static int start_value(const so_problem *p, double fallback, double *start)
{
    double v = p->cfg.x0;
    if (isnan(v)) { *start = fallback; return SO_OK; }
    if (!isfinite(v)) return so_error(SO_EINVAL, "%s: x0 must be finite (or NaN for the default), got %g", p->id, v);
    *start = v;
    return SO_OK;
}

static int synthetic_configure(so_problem *p, synthetic *s)
{
    const so_problem_config *c = &p->cfg;
    switch (s->kind) {
    case QUADRATIC:
        if (c->dim < 1) return so_error(SO_EINVAL, "quadratic: dim must be >= 1, got %zu", c->dim);
        if (!isfinite(c->L_max) || c->L_max < 1.0)
            return so_error(SO_EINVAL, "quadratic: L_max must be finite and >= 1, got %g", c->L_max);
        p->dim = c->dim;
        s->slope = p->dim == 1 ? 0.0 : c->L_max - 1.0;
        s->span = p->dim == 1 ? 1.0 : (double)(p->dim - 1);
        return start_value(p, 1.0, &s->start);
    case SIGNGD_COUNTEREXAMPLE:
        /* 004 Example 1: f = x1^2 + x2^2 from x_0 = (alpha/2, alpha/2); signGD with step alpha then alternates
         * between (alpha/2, alpha/2) and (-alpha/2, -alpha/2) forever. cfg.dim is ignored: d = 2. */
        if (!isfinite(c->alpha) || c->alpha <= 0.0)
            return so_error(SO_EINVAL, "signgd-counterexample: alpha must be finite and > 0, got %g", c->alpha);
        p->dim = 2;
        return start_value(p, 0.5 * c->alpha, &s->start);
    case PL_TOY:
        /* 004 Example 4: f = x^2 + 3 sin^2 x, d = 1. The paper starts from "an arbitrary initial state"; ours is
         * x_0 = pi. It lies beyond the non-convex band x in (0.96, 2.19) where f'' = 2 + 6 cos 2x < 0, so a run
         * crosses the band on the way to the unique stationary point 0 (2x + 3 sin 2x = 0 only at 0). It is
         * irrational so that a sign method with a short decimal step never lands on 0 by coincidence: from 3,
         * signGD with alpha = 0.05 would reach 3 - 60 alpha = 0. cfg.dim is ignored. */
        p->dim = 1;
        return start_value(p, 3.14159265358979323846, &s->start);
    case L0L1:
        if (c->dim < 1) return so_error(SO_EINVAL, "l0l1: dim must be >= 1, got %zu", c->dim);
        if (!isfinite(c->a) || c->a <= 0.0) return so_error(SO_EINVAL, "l0l1: a must be finite and > 0, got %g", c->a);
        p->dim = c->dim;
        s->a = c->a;
        /* Default start 3: with a = 1, f'' = cosh 3 = 10 there but 1 at the minimum, the regime where
         * (L0,L1)-smoothness matters. */
        return start_value(p, 3.0, &s->start);
    }
    return so_error(SO_EINVAL, "problem: '%s' is not a synthetic problem", p->id);
}

int so__synthetic_create(so_problem *p)
{
    synthetic *s = calloc(1, sizeof *s);
    if (!s) return so_error(SO_ENOMEM, "problem: out of memory");
    p->impl = s;
    p->ops = &synthetic_ops;
    size_t k = 0;
    while (k < N_SYNTHETIC && strcmp(p->id, synthetic_ids[k].id) != 0) k++;
    if (k == N_SYNTHETIC) return so_error(SO_EINVAL, "problem: '%s' is not a synthetic problem", p->id);
    s->kind = synthetic_ids[k].kind;
    int rc = synthetic_configure(p, s);
    if (rc != SO_OK) return rc;
    rc = so__noise_check(&p->cfg.noise);
    if (rc != SO_OK) {
        char why[256]; /* so_errmsg() is the buffer so_error writes: copy it before reusing it */
        snprintf(why, sizeof why, "%s", so_errmsg());
        return so_error(rc, "%s: %s", p->id, why);
    }
    if ((uint64_t)p->dim * (uint64_t)p->cfg.batch > so__noise_max_draws(&p->cfg.noise))
        return so_error(SO_EINVAL, "%s: dim * batch = %zu * %d exceeds the %llu noise draws one step can key", p->id,
                        p->dim, p->cfg.batch, (unsigned long long)so__noise_max_draws(&p->cfg.noise));
    s->tensor.name = "x";
    s->tensor.offset = 0;
    s->tensor.size = p->dim;
    p->tensors = &s->tensor;
    p->ntensors = 1;
    p->samples = 0;
    p->min_shard = 0;
    return SO_OK;
}
