/* bench_kernels.c — the fused step kernels of src/optim/kernels.h, one case per single-node rule, called as
 * so_optim_step calls them with the library's default hyperparameters (adamw with weight decay 0.01, torch's
 * default; no per-coordinate rates).
 *
 * Bytes per parameter, each array read or written once (x and the state are read and written, g is read):
 *   sgd, signsgd          x rw, g r                      12 B
 *   sgdm, signum, lion    x rw, buffer rw, g r           20 B
 *   adam, adamw           x rw, m rw, v rw, g r          28 B
 *   signum-nesterov       x rw, x_prev w, m rw, g r      24 B
 *   ef-signsgd            two passes (||p||_1 before any step): e rw, g r; then x rw, e rw      28 B
 *   scaled-signsgd        two passes (||g||_1 before any step): g r; then x rw, g r            16 B */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "../src/optim/kernels.h"
#include "bench.h"
#include "signopt.h"

typedef enum rule { SGD, SGDM, ADAM, ADAMW, SIGNSGD, SIGNUM, SIGNUM_NESTEROV, EF_SIGNSGD, SCALED_SIGNSGD, LION } rule;

static const struct {
    const char *id;
    double bytes;      /* per parameter, see the table above */
} rules[] = {
    [SGD] = {"sgd", 12},          [SGDM] = {"sgdm", 20},
    [ADAM] = {"adam", 28},        [ADAMW] = {"adamw", 28},
    [SIGNSGD] = {"signsgd", 12},  [SIGNUM] = {"signum", 20},
    [SIGNUM_NESTEROV] = {"signum-nesterov", 24}, [EF_SIGNSGD] = {"ef-signsgd", 28},
    [SCALED_SIGNSGD] = {"scaled-signsgd", 16},   [LION] = {"lion", 20},
};

typedef struct step_ctx {
    rule r;
    float *x, *s0, *s1, *g;
    size_t d;
} step_ctx;

/* One step of rule r at step t = 10 (bias corrections of a run already under way; momentum not first). */
static void step_call(void *p)
{
    const step_ctx *c = p;
    const double lr = 1e-4, beta = 0.9, beta2 = 0.999;
    switch (c->r) {
    case SGD: so_kernel_sgd(c->x, c->g, NULL, c->d, lr, 0.0); break;
    case SGDM: so_kernel_sgdm(c->x, c->s0, c->g, NULL, c->d, lr, beta, 0.0, 0, 0); break;
    case ADAM:
    case ADAMW: {
        const double step_size = lr / (1.0 - pow(beta, 10)), bc2_sqrt = sqrt(1.0 - pow(beta2, 10));
        so_kernel_adam(c->x, c->s0, c->s1, c->g, NULL, c->d, lr, step_size, beta, beta2, 1e-8, bc2_sqrt, 0.0,
                       c->r == ADAMW ? 0.01 : 0.0);
        break;
    }
    case SIGNSGD: so_kernel_signsgd(c->x, c->g, NULL, c->d, lr, 0.0); break;
    case SIGNUM: so_kernel_signum(c->x, c->s0, c->g, NULL, c->d, lr, beta, 0.0, 0); break;
    case SIGNUM_NESTEROV: so_kernel_signum_nesterov(c->x, c->s1, c->s0, c->g, NULL, c->d, lr, beta, 0.0, 0); break;
    case EF_SIGNSGD: so_kernel_ef_signsgd(c->x, c->s0, c->g, NULL, c->d, lr, 0.0); break;
    case SCALED_SIGNSGD: so_kernel_scaled_signsgd(c->x, c->g, NULL, c->d, 1e-12); break;
    case LION: so_kernel_lion(c->x, c->s0, c->g, NULL, c->d, lr, beta, 0.99, 0.0); break;
    }
}

void so_bench_steps(so_bench_log *log, const so_bench_opts *opts, size_t d, int threads)
{
    if (!so_bench_group(opts, "step/")) return;
    step_ctx c = {.d = d};
    c.x = so_bench_alloc(log, d * 4);
    c.s0 = so_bench_alloc(log, d * 4);
    c.s1 = so_bench_alloc(log, d * 4);
    c.g = so_bench_alloc(log, d * 4);
    if (c.x && c.s0 && c.s1 && c.g) {
        so_bench_fill(c.x, d, -1.0f, 1.0f, 10);
        so_bench_fill(c.g, d, -1.0f, 1.0f, 11);
        for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
            char name[64];
            snprintf(name, sizeof name, "step/%s", rules[k].id);
            if (!so_bench_wanted(opts, name)) continue;
            /* Fresh state for every rule: a momentum near g, a second moment near g^2 (v >= 0 for the sqrt). */
            so_bench_fill(c.s0, d, -1.0f, 1.0f, 12);
            so_bench_fill(c.s1, d, 0.0f, 1.0f, 13);
            c.r = (rule)k;
            so_bench_add(log, name, d, threads, so_bench_time(opts, step_call, &c), rules[k].bytes * (double)d,
                         4.0 * (double)so_optim_state_floats_per_param(rules[k].id));
        }
    }
    free(c.x);
    free(c.s0);
    free(c.s1);
    free(c.g);
}
