/* bench_kernels.c — the single-node optimizers' steps, one case per rule, through the public API exactly as a
 * program calls them: so_optim_step on an optimizer made by so_optim_create with the library's default
 * hyperparameters but lr 1e-4 (adamw with weight decay 0.01, torch's default; no per-coordinate rates). The
 * optimizer takes one step before the timing (so a momentum buffer is not on its first step), and each timed call
 * is one more step of the same run.
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
#include <string.h>
#include "bench.h"
#include "signopt.h"

static const struct {
    const char *id;
    double bytes;      /* per parameter, see the table above */
} rules[] = {
    {"sgd", 12},     {"sgdm", 20},   {"adam", 28},           {"adamw", 28},         {"signsgd", 12},
    {"signum", 20},  {"signum-nesterov", 24}, {"ef-signsgd", 28}, {"scaled-signsgd", 16}, {"lion", 20},
};

typedef struct step_ctx {
    so_optim *opt;
    float *x, *g;
} step_ctx;

static void step_call(void *p)
{
    const step_ctx *c = p;
    so_optim_step(c->opt, c->x, c->g);
}

static so_optim *make_optim(const char *id, size_t d)
{
    so_optim_config oc;
    so_optim_config_default(&oc);
    oc.algo = id;
    oc.lr = strcmp(id, "scaled-signsgd") == 0 ? 1e-12 : 1e-4; /* scaled: alpha ||g||_1 stays a small step */
    if (strcmp(id, "adamw") == 0) oc.weight_decay = 0.01;
    if (strcmp(id, "lion") == 0) oc.beta2 = 0.99;
    return so_optim_create(&oc, d, NULL, 0);
}

void so_bench_steps(so_bench_log *log, const so_bench_opts *opts, size_t d, int threads)
{
    if (!so_bench_group(opts, "step/")) return;
    step_ctx c = {0};
    c.x = so_bench_alloc(log, d * 4);
    c.g = so_bench_alloc(log, d * 4);
    if (c.x && c.g) {
        so_bench_fill(c.x, d, -1.0f, 1.0f, 10);
        so_bench_fill(c.g, d, -1.0f, 1.0f, 11);
        for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
            char name[64];
            snprintf(name, sizeof name, "step/%s", rules[k].id);
            if (!so_bench_wanted(opts, name)) continue;
            c.opt = make_optim(rules[k].id, d);
            if (!c.opt) {
                fprintf(stderr, "signopt bench: %s: %s\n", name, so_errmsg());
                log->failed = 1;
                continue;
            }
            step_call(&c); /* the momentum's first step */
            so_bench_add(log, name, d, threads, so_bench_time(opts, step_call, &c), rules[k].bytes * (double)d,
                         4.0 * (double)so_optim_state_floats_per_param(rules[k].id));
            so_optim_destroy(c.opt);
        }
    }
    free(c.x);
    free(c.g);
}
