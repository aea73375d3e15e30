/* optim.c — the single-node optimizers: the id table, config checks, one rule per id (each calling its fused
 * kernel in kernels.c), where the next gradient is taken, and the state as bytes.
 *
 * Weight decay: sgdm and adam take it coupled (g <- g + lambda x, as torch SGD and Adam); adamw, sgd, signsgd,
 * signum, signum-nesterov, ef-signsgd and lion take it decoupled (x <- x - eta lambda x before the step,
 * docs/algorithms.md, "Notation"; lion's own form x <- x - eta (sign(c) + lambda x) is the same thing). scaled-signsgd
 * refuses it: its alpha multiplies ||g||_1, so alpha lambda x would be no decay on any meaningful scale. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "signopt/optim.h"
#include "kernels.h"
#include "../core/registry.h"

/* The rule of each id comes from its row of the registry (src/core/registry.c); the numbers of so__rule are
 * what an optimizer state records. */

struct so_optim {
    so_optim_config cfg; /* cfg.algo points at the registry's id, cfg.lr_vec at lr_vec below; momentum_init resolved */
    const so__algo *row;
    so__rule algo;
    size_t d;
    so_tensor *tensors;  /* ntensors views covering [0, d) in order; names copied into name_store */
    size_t ntensors;
    char *name_store;
    float *lr_vec;       /* NULL: scalar rate */
    float *state;        /* state_floats * d floats: buf0 then buf1 */
    float *buf0, *buf1;
    long step;
};

static size_t state_floats(so__rule a) { return (size_t)so__algo_of_rule(a)->info.state_floats; }
static const char *rule_name(so__rule a) { return so__algo_of_rule(a)->info.id; }

void so_optim_config_default(so_optim_config *c)
{
    memset(c, 0, sizeof *c);
    c->algo = SO_DEFAULT_ALGO;
    c->lr = 1e-3;
    c->beta = 0.9;
    c->beta2 = 0.999;
    c->eps = 1e-8;
    c->momentum_init = SO_INIT_AUTO;
    c->alpha = -1.0;
    c->schedule.kind = SO_SCHED_CONST;
    c->schedule.factor = 1.0;
}

static int check_config(const so_optim_config *c, so__rule a, size_t d)
{
    const char *id = rule_name(a);
    if (!(c->lr >= 0.0) || !isfinite(c->lr))
        return so_error(SO_EINVAL, "%s: lr must be finite and >= 0 (got %g)", id, c->lr);
    if (!(c->beta >= 0.0 && c->beta < 1.0))
        return so_error(SO_EINVAL, "%s: beta must lie in [0, 1) (got %g)", id, c->beta);
    if ((a == SO_RULE_ADAM || a == SO_RULE_ADAMW || a == SO_RULE_LION) && !(c->beta2 >= 0.0 && c->beta2 < 1.0))
        return so_error(SO_EINVAL, "%s: beta2 must lie in [0, 1) (got %g)", id, c->beta2);
    if ((a == SO_RULE_ADAM || a == SO_RULE_ADAMW) && (!(c->eps >= 0.0) || !isfinite(c->eps)))
        return so_error(SO_EINVAL, "%s: eps must be finite and >= 0 (got %g)", id, c->eps);
    if (!(c->weight_decay >= 0.0) || !isfinite(c->weight_decay))
        return so_error(SO_EINVAL, "%s: weight_decay must be finite and >= 0 (got %g)", id, c->weight_decay);
    if (a == SO_RULE_SCALED_SIGNSGD && c->weight_decay != 0.0)
        return so_error(SO_EINVAL, "scaled-signsgd: weight decay is not defined for this rule (004 Alg 1/2)");
    if (c->momentum_init != SO_INIT_AUTO && c->momentum_init != SO_INIT_ZERO && c->momentum_init != SO_INIT_FIRST_GRAD)
        return so_error(SO_EINVAL, "%s: momentum_init must be auto, zero or first-grad", id);
    if (a == SO_RULE_LION && c->momentum_init == SO_INIT_FIRST_GRAD)
        return so_error(SO_EINVAL, "lion: the momentum starts at zero (Chen et al. 2023); first-grad is not offered");
    if (c->nesterov && a != SO_RULE_SGDM)
        return so_error(SO_EINVAL, "%s: nesterov applies to sgdm only (signum-nesterov is its own id)", id);
    if (a == SO_RULE_SIGNUM_NESTEROV && c->alpha >= 0.0 && !isfinite(c->alpha))
        return so_error(SO_EINVAL, "signum-nesterov: alpha must be finite");
    const so_schedule *s = &c->schedule;
    if ((s->kind == SO_SCHED_COSINE || (s->kind == SO_SCHED_WARMUP && s->then_cosine)) &&
        s->total_steps <= (s->kind == SO_SCHED_WARMUP ? s->warmup : 0))
        return so_error(SO_EINVAL, "%s: a cosine schedule needs total_steps T (after any warm-up) set", id);
    if (s->kind < SO_SCHED_CONST || s->kind > SO_SCHED_WARMUP)
        return so_error(SO_EINVAL, "%s: unknown schedule kind %d", id, (int)s->kind);
    if (c->lr_vec)
        for (size_t i = 0; i < d; i++)
            if (!(c->lr_vec[i] >= 0.0f) || !isfinite(c->lr_vec[i]))
                return so_error(SO_EINVAL, "%s: lr_vec[%zu] must be finite and >= 0 (got %g)", id, i,
                                (double)c->lr_vec[i]);
    return SO_OK;
}

/* The tensors must tile [0, d) in order: every coordinate belongs to exactly one tensor. */
static int check_tensors(const so_tensor *t, size_t nt, size_t d)
{
    size_t next = 0;
    for (size_t k = 0; k < nt; k++) {
        if (t[k].offset != next || t[k].size == 0)
            return so_error(SO_EINVAL, "optimizer: tensor %zu (%s) must start at %zu and be non-empty", k,
                            t[k].name ? t[k].name : "unnamed", next);
        next += t[k].size;
    }
    if (next != d) return so_error(SO_EINVAL, "optimizer: tensors cover %zu coordinates, d is %zu", next, d);
    return SO_OK;
}

static int copy_tensors(so_optim *o, const so_tensor *t, size_t nt)
{
    if (!t || nt == 0) {
        o->ntensors = 1;
        o->tensors = calloc(1, sizeof *o->tensors);
        if (!o->tensors) return SO_ENOMEM;
        o->tensors[0] = (so_tensor){NULL, 0, o->d};
        return SO_OK;
    }
    size_t names = 0;
    for (size_t k = 0; k < nt; k++) names += t[k].name ? strlen(t[k].name) + 1 : 0;
    o->ntensors = nt;
    o->tensors = calloc(nt, sizeof *o->tensors);
    o->name_store = malloc(names + 1);
    if (!o->tensors || !o->name_store) return SO_ENOMEM;
    char *p = o->name_store;
    for (size_t k = 0; k < nt; k++) {
        o->tensors[k] = t[k];
        if (t[k].name) {
            size_t len = strlen(t[k].name) + 1;
            memcpy(p, t[k].name, len);
            o->tensors[k].name = p;
            p += len;
        }
    }
    return SO_OK;
}

so_optim *so_optim_create(const so_optim_config *cfg, size_t d, const so_tensor *tensors, size_t ntensors)
{
    if (!cfg) return (so_error(SO_EINVAL, "optimizer: NULL config"), NULL);
    const so__algo *row = so__algo_find(cfg->algo);
    if (!row || row->info.kind != SO_ALGO_SINGLE) {
        if (row)
            so_error(SO_EINVAL, "'%s' is a distributed algorithm: use so_cluster or so_dist_optim, not so_optim",
                     cfg->algo);
        else
            so_error(SO_EINVAL, "unknown optimizer '%s': expected sgd, sgdm, adam, adamw, signsgd, signum, "
                     "signum-nesterov, ef-signsgd, scaled-signsgd or lion", cfg->algo ? cfg->algo : "(null)");
        return NULL;
    }
    so__rule a = row->rule;
    if (d == 0) return (so_error(SO_EINVAL, "%s: d must be >= 1", row->info.id), NULL);
    if (check_config(cfg, a, d) != SO_OK) return NULL;
    if (tensors && ntensors > 0 && check_tensors(tensors, ntensors, d) != SO_OK) return NULL;

    so_optim *o = calloc(1, sizeof *o);
    if (!o) return (so_error(SO_ENOMEM, "optimizer: out of memory"), NULL);
    o->cfg = *cfg;
    o->cfg.algo = row->info.id;
    if (o->cfg.momentum_init == SO_INIT_AUTO) o->cfg.momentum_init = row->info.momentum_init;
    o->row = row;
    o->algo = a;
    o->d = d;
    const size_t k = state_floats(a);
    int rc = copy_tensors(o, tensors, ntensors);
    if (rc == SO_OK && k > 0) {
        o->state = calloc(k * d, sizeof(float));
        if (!o->state) rc = SO_ENOMEM;
    }
    if (rc == SO_OK && cfg->lr_vec) {
        o->lr_vec = malloc(d * sizeof(float));
        if (!o->lr_vec) rc = SO_ENOMEM;
        else memcpy(o->lr_vec, cfg->lr_vec, d * sizeof(float));
    }
    if (rc != SO_OK) {
        so_optim_destroy(o);
        so_error(SO_ENOMEM, "%s: out of memory for d = %zu", row->info.id, d);
        return NULL;
    }
    o->cfg.lr_vec = o->lr_vec;
    o->buf0 = k > 0 ? o->state : NULL;
    o->buf1 = k > 1 ? o->state + d : NULL;
    return o;
}

void so_optim_destroy(so_optim *o)
{
    if (!o) return;
    free(o->state);
    free(o->lr_vec);
    free(o->tensors);
    free(o->name_store);
    free(o);
}

double so_optim_lr(const so_optim *o) { return so_schedule_lr(&o->cfg.schedule, o->cfg.lr, o->step); }
long so_optim_step_count(const so_optim *o) { return o->step; }
size_t so_optim_dim(const so_optim *o) { return o->d; }
const char *so_optim_algo(const so_optim *o) { return o->cfg.algo; }

/* signum-nesterov's alpha: the configured one, or 001 eq. (4)'s theta / (1 - theta). */
static double nesterov_alpha(const so_optim_config *c)
{
    return c->alpha >= 0.0 ? c->alpha : c->beta / (1.0 - c->beta);
}

int so_optim_grad_point(const so_optim *o, const float *x, float *y)
{
    if (!o || !x || !y) return so_error(SO_EINVAL, "grad_point: NULL argument");
    if (o->algo != SO_RULE_SIGNUM_NESTEROV || o->step == 0) return 0; /* step 0: x_{-1} = x_0, so y = x */
    const double alpha = nesterov_alpha(&o->cfg);
    if (alpha == 0.0) return 0;
    so_kernel_extrapolate(y, x, o->buf1, o->d, alpha);
    return 1;
}

/* One step of rule a on n coordinates at step t (0-based) with rate lr: x, g, the rule's buffers b0, b1 (NULL where
 * it keeps fewer), lrv the per-coordinate multipliers or NULL. ef-signsgd scales by ||p||_1 / n of this piece (a
 * tensor); scaled-signsgd takes its step alpha ||g||_1 from *scaled_step (the norm of the whole vector). */
static void rule_step(so__rule a, const so_optim_config *c, long t, double lr, size_t n, float *x, const float *g,
                      float *b0, float *b1, const float *lrv, float scaled_step)
{
    const double wd = c->weight_decay;
    /* A momentum buffer starts from g itself on the first step of a first-grad rule. */
    const int first = t == 0 && c->momentum_init == SO_INIT_FIRST_GRAD;
    switch (a) {
    case SO_RULE_SGD: /* sgd: x <- x - eta g (decoupled decay) */
        so_kernel_sgd(x, g, lrv, n, lr, wd);
        break;
    case SO_RULE_SGDM: /* sgdm = torch.optim.SGD(momentum=mu, dampening=0, nesterov): b_1 = g_1 always */
        so_kernel_sgdm(x, b0, g, lrv, n, lr, c->beta, wd, c->nesterov, t == 0);
        break;
    case SO_RULE_ADAM:  /* torch.optim.Adam (Kingma & Ba 2015), coupled decay */
    case SO_RULE_ADAMW: /* torch.optim.AdamW (Loshchilov & Hutter 2019), decoupled decay */
    {
        const double k = (double)(t + 1);
        const double step_size = lr / (1.0 - pow(c->beta, k));
        const double bc2_sqrt = sqrt(1.0 - pow(c->beta2, k));
        const int w = a == SO_RULE_ADAMW;
        so_kernel_adam(x, b0, b1, g, lrv, n, lr, step_size, c->beta, c->beta2, c->eps, bc2_sqrt, w ? 0.0 : wd,
                       w ? wd : 0.0);
        break;
    }
    case SO_RULE_SIGNSGD: /* Bernstein et al. 2018; seed 003 Alg 1: x <- x - eta sign(g) */
        so_kernel_signsgd(x, g, lrv, n, lr, wd);
        break;
    case SO_RULE_SIGNUM: /* seed 000 Alg 1, 001 Alg 1 (signSGD-SIM), 003 Alg 3: m <- beta m + (1-beta) g */
        so_kernel_signum(x, b0, g, lrv, n, lr, c->beta, wd, first);
        break;
    case SO_RULE_SIGNUM_NESTEROV: /* seed 001 eq. (4): g was taken at y = x + alpha (x - x_prev) */
        so_kernel_signum_nesterov(x, b1, b0, g, lrv, n, lr, c->beta, wd, first);
        break;
    case SO_RULE_EF_SIGNSGD: /* Karimireddy et al. 2019, seed 004 eq. (12), ||p||_1 / d per tensor */
        so_kernel_ef_signsgd(x, b0, g, lrv, n, lr, wd);
        break;
    case SO_RULE_SCALED_SIGNSGD: /* seed 004 Alg 1/2: x <- x - alpha_t ||g||_1 sign(g), no 1/d */
        so_kernel_scaled_signsgd_step(x, g, lrv, n, scaled_step);
        break;
    case SO_RULE_LION: /* Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Program 1 */
        so_kernel_lion(x, b0, g, lrv, n, lr, c->beta, c->beta2, wd);
        break;
    case SO_RULE_COUNT:
    case SO_RULE_NONE:
        break;
    }
}

int so_optim_step(so_optim *o, float *x, const float *g)
{
    if (!o || !x || !g) return so_error(SO_EINVAL, "optimizer step: NULL argument");
    const double lr = so_optim_lr(o);
    float scaled_step = 0.0f;
    if (o->algo == SO_RULE_SCALED_SIGNSGD) scaled_step = (float)(lr * so_kernel_abs_sum(g, o->d));
    if (o->algo == SO_RULE_EF_SIGNSGD) {
        for (size_t k = 0; k < o->ntensors; k++) {
            const size_t off = o->tensors[k].offset;
            rule_step(o->algo, &o->cfg, o->step, lr, o->tensors[k].size, x + off, g + off, o->buf0 + off, NULL,
                      o->lr_vec ? o->lr_vec + off : NULL, 0.0f);
        }
    } else {
        rule_step(o->algo, &o->cfg, o->step, lr, o->d, x, g, o->buf0, o->buf1, o->lr_vec, scaled_step);
    }
    o->step++;
    return SO_OK;
}

/* ---- The same rules on tensors the caller owns ---- */

/* The row of cfg->algo, checked, with momentum_init resolved into *c. */
static const so__algo *tensor_rule(const so_optim_config *cfg, so_optim_config *c, size_t ntensors,
                                   const size_t *sizes)
{
    const so__algo *row = cfg ? so__algo_find(cfg->algo) : NULL;
    if (!row || row->info.kind != SO_ALGO_SINGLE) {
        so_error(SO_EINVAL, "unknown single-node optimizer '%s'", cfg && cfg->algo ? cfg->algo : "(null)");
        return NULL;
    }
    if (cfg->lr_vec) {
        so_error(SO_EINVAL, "%s: per-coordinate rates (lr_vec) are for so_optim, not tensor lists", row->info.id);
        return NULL;
    }
    if (check_config(cfg, row->rule, 0) != SO_OK) return NULL;
    if (ntensors > 0 && !sizes) {
        so_error(SO_EINVAL, "%s: tensor sizes missing", row->info.id);
        return NULL;
    }
    *c = *cfg;
    c->algo = row->info.id;
    if (c->momentum_init == SO_INIT_AUTO) c->momentum_init = row->info.momentum_init;
    return row;
}

int so_optim_step_tensors(const so_optim_config *cfg, long t, size_t ntensors, const size_t *sizes, float *const *x,
                          const float *const *g, float *const *buf0, float *const *buf1)
{
    so_optim_config c;
    const so__algo *row = tensor_rule(cfg, &c, ntensors, sizes);
    if (!row) return SO_EINVAL;
    if (t < 0) return so_error(SO_EINVAL, "%s: step %ld < 0", row->info.id, t);
    const int nbuf = row->info.state_floats;
    if (ntensors > 0 && (!x || !g || (nbuf > 0 && !buf0) || (nbuf > 1 && !buf1)))
        return so_error(SO_EINVAL, "%s: x, g and %d state buffer list(s) are required", row->info.id, nbuf);
    for (size_t k = 0; k < ntensors; k++)
        if (sizes[k] > 0 && (!x[k] || !g[k] || (nbuf > 0 && !buf0[k]) || (nbuf > 1 && !buf1[k])))
            return so_error(SO_EINVAL, "%s: tensor %zu has a NULL array", row->info.id, k);
    const double lr = so_schedule_lr(&c.schedule, c.lr, t);
    float scaled_step = 0.0f;
    if (row->rule == SO_RULE_SCALED_SIGNSGD) {
        double norm = 0.0;
        for (size_t k = 0; k < ntensors; k++) norm += so_kernel_abs_sum(g[k], sizes[k]);
        scaled_step = (float)(lr * norm);
    }
    for (size_t k = 0; k < ntensors; k++)
        if (sizes[k] > 0)
            rule_step(row->rule, &c, t, lr, sizes[k], x[k], g[k], nbuf > 0 ? buf0[k] : NULL,
                      nbuf > 1 ? buf1[k] : NULL, NULL, scaled_step);
    return SO_OK;
}

int so_optim_grad_point_tensors(const so_optim_config *cfg, long t, size_t ntensors, const size_t *sizes,
                                const float *const *x, const float *const *buf1, float *const *y)
{
    so_optim_config c;
    const so__algo *row = tensor_rule(cfg, &c, ntensors, sizes);
    if (!row) return SO_EINVAL;
    if (row->rule != SO_RULE_SIGNUM_NESTEROV || t == 0) return 0; /* step 0: x_{-1} = x_0, so y = x */
    const double alpha = nesterov_alpha(&c);
    if (alpha == 0.0) return 0;
    for (size_t k = 0; k < ntensors; k++) {
        if (sizes[k] == 0) continue;
        if (!x || !buf1 || !y || !x[k] || !buf1[k] || !y[k])
            return so_error(SO_EINVAL, "%s: tensor %zu has a NULL array", row->info.id, k);
        so_kernel_extrapolate(y[k], x[k], buf1[k], sizes[k], alpha);
    }
    return 1;
}

/* ---- State as bytes: header (magic, format version, algo id, d, step), then the state floats in native
 * byte order. ---- */

#define STATE_MAGIC "SOOPTIM1"

typedef struct state_header {
    char magic[8];
    uint32_t algo;
    uint32_t floats_per_param;
    uint64_t d;
    int64_t step;
} state_header;

size_t so_optim_state_size(const so_optim *o)
{
    return sizeof(state_header) + state_floats(o->algo) * o->d * sizeof(float);
}

int so_optim_save(const so_optim *o, void *buf, size_t size)
{
    if (!o || !buf) return so_error(SO_EINVAL, "optimizer save: NULL argument");
    if (size < so_optim_state_size(o))
        return so_error(SO_EINVAL, "optimizer save: buffer of %zu bytes, state needs %zu", size,
                        so_optim_state_size(o));
    state_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, STATE_MAGIC, 8);
    h.algo = (uint32_t)o->algo;
    h.floats_per_param = (uint32_t)state_floats(o->algo);
    h.d = (uint64_t)o->d;
    h.step = (int64_t)o->step;
    memcpy(buf, &h, sizeof h);
    if (o->state) memcpy((char *)buf + sizeof h, o->state, h.floats_per_param * o->d * sizeof(float));
    return SO_OK;
}

int so_optim_load(so_optim *o, const void *buf, size_t size)
{
    if (!o || !buf) return so_error(SO_EINVAL, "optimizer load: NULL argument");
    state_header h;
    if (size < sizeof h) return so_error(SO_EFORMAT, "optimizer load: %zu bytes is shorter than the header", size);
    memcpy(&h, buf, sizeof h);
    if (memcmp(h.magic, STATE_MAGIC, 8) != 0) return so_error(SO_EFORMAT, "optimizer load: bad magic");
    if (h.algo != (uint32_t)o->algo)
        return so_error(SO_EFORMAT, "optimizer load: state is for %s, optimizer is %s",
                        h.algo < SO_RULE_COUNT ? rule_name((so__rule)h.algo) : "an unknown algorithm", o->cfg.algo);
    if (h.d != (uint64_t)o->d)
        return so_error(SO_EFORMAT, "optimizer load: state has d = %llu, optimizer d = %zu",
                        (unsigned long long)h.d, o->d);
    if (h.floats_per_param != state_floats(o->algo) || size != so_optim_state_size(o) || h.step < 0 ||
        h.step >= (int64_t)LONG_MAX) /* the next step would overflow the counter */
        return so_error(SO_EFORMAT, "optimizer load: state block of %zu bytes, expected %zu", size,
                        so_optim_state_size(o));
    if (o->state) memcpy(o->state, (const char *)buf + sizeof h, h.floats_per_param * o->d * sizeof(float));
    o->step = (long)h.step;
    return SO_OK;
}
