/* problem.c — a so_problem is a gradient oracle (callbacks + context, signopt/problem.h) and the facts that go with
 * it; this file makes one from callbacks, answers every call the same way for every problem, and keeps the
 * registry of families that so_problem_create finds by id. It knows no family: the built-in ones
 * (src/core/builtin.c) register through so_problem_register like anyone else's. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/builtin.h"
#include "signopt/problem.h"

struct so_problem {
    so_oracle ops;
    void *ctx;
    char id[64];
    size_t dim;
    so_tensor *tensors;     /* ntensors views tiling [0, dim), names in name_store */
    size_t ntensors;
    char *name_store;
    int workers;            /* 0: any */
    int batch;
    size_t samples, min_shard;
    uint64_t seed, fingerprint;
    int objective_grad;
    float *full_grad;       /* scratch for so_problem_eval, dim floats (only with objective_grad) */
};

struct so_workspace {
    const so_problem *p;
    void *ws;
};

void so_grad_rng(so_rng *r, const so_grad_request *q, uint32_t stream)
{
    so_rng_init(r, q->seed, (uint32_t)q->worker, (uint32_t)q->step, stream + ((uint32_t)q->sub << 16));
}

void so_problem_config_default(so_problem_config *c)
{
    memset(c, 0, sizeof *c);
    c->id = "quadratic";
    c->dim = 100;
    c->L_max = 10.0;
    c->x0 = NAN;
    c->a = 1.0;
    c->alpha = 0.05;
    c->noise.kind = SO_NOISE_NONE;
    c->binary_a = 0;
    c->binary_b = 6;
    c->l2 = -1.0;
    c->synth_n = 4000;
    c->synth_dim = 200;
    c->workers = 1;
    c->batch = 32;
    c->seed = 1;
}

/* The tensors must tile [0, d) in order; NULL/0 is one tensor "x". Names are copied. */
static int copy_tensors(so_problem *p, const so_tensor *t, size_t nt)
{
    if (!t || nt == 0) {
        p->tensors = calloc(1, sizeof *p->tensors);
        p->name_store = malloc(2);
        if (!p->tensors || !p->name_store) return so_error(SO_ENOMEM, "problem: out of memory");
        memcpy(p->name_store, "x", 2);
        p->tensors[0] = (so_tensor){p->name_store, 0, p->dim};
        p->ntensors = 1;
        return SO_OK;
    }
    size_t next = 0, names = 0;
    for (size_t k = 0; k < nt; k++) {
        if (t[k].offset != next || t[k].size == 0)
            return so_error(SO_EINVAL, "%s: tensor %zu (%s) must start at %zu and be non-empty", p->id, k,
                            t[k].name ? t[k].name : "unnamed", next);
        next += t[k].size;
        names += t[k].name ? strlen(t[k].name) + 1 : 0;
    }
    if (next != p->dim)
        return so_error(SO_EINVAL, "%s: tensors cover %zu coordinates, dim is %zu", p->id, next, p->dim);
    p->tensors = calloc(nt, sizeof *p->tensors);
    p->name_store = malloc(names + 1);
    if (!p->tensors || !p->name_store) return so_error(SO_ENOMEM, "problem: out of memory");
    char *s = p->name_store;
    for (size_t k = 0; k < nt; k++) {
        p->tensors[k] = t[k];
        if (t[k].name) {
            size_t len = strlen(t[k].name) + 1;
            memcpy(s, t[k].name, len);
            p->tensors[k].name = s;
            s += len;
        }
    }
    p->ntensors = nt;
    return SO_OK;
}

so_problem *so_problem_create_oracle(const so_oracle *ops, void *ctx, const so_oracle_info *info)
{
    int rc = SO_OK;
    if (!ops || !info || !ops->grad)
        rc = so_error(SO_EINVAL, "problem: an oracle needs its callbacks, a grad callback and its info");
    else if (info->dim == 0)
        rc = so_error(SO_EINVAL, "%s: dim must be >= 1", info->id ? info->id : "oracle");
    else if (info->workers < 0 || info->batch < 0)
        rc = so_error(SO_EINVAL, "%s: workers and batch must be >= 0, got %d and %d", info->id ? info->id : "oracle",
                      info->workers, info->batch);
    else if ((ops->workspace_new == NULL) != (ops->workspace_free == NULL))
        rc = so_error(SO_EINVAL, "%s: workspace_new and workspace_free come together", info->id ? info->id : "oracle");
    so_problem *p = rc == SO_OK ? calloc(1, sizeof *p) : NULL;
    if (rc == SO_OK && !p) rc = so_error(SO_ENOMEM, "problem: out of memory");
    if (rc != SO_OK) {
        if (ops && ops->destroy) ops->destroy(ctx);
        return NULL;
    }
    p->ops = *ops;
    p->ctx = ctx;
    snprintf(p->id, sizeof p->id, "%s", info->id ? info->id : "oracle");
    p->dim = info->dim;
    p->workers = info->workers;
    p->batch = info->batch;
    p->samples = info->samples;
    p->min_shard = info->min_shard ? info->min_shard : info->samples;
    p->seed = info->seed;
    p->fingerprint = info->fingerprint;
    p->objective_grad = ops->objective && info->objective_grad;
    rc = copy_tensors(p, info->tensors, info->ntensors);
    if (rc == SO_OK && p->objective_grad) {
        p->full_grad = malloc(p->dim * sizeof *p->full_grad);
        if (!p->full_grad) rc = so_error(SO_ENOMEM, "%s: out of memory for %zu floats", p->id, p->dim);
    }
    if (rc != SO_OK) {
        so_problem_destroy(p);
        return NULL;
    }
    return p;
}

void so_problem_destroy(so_problem *p)
{
    if (!p) return;
    if (p->ops.destroy) p->ops.destroy(p->ctx);
    free(p->tensors);
    free(p->name_store);
    free(p->full_grad);
    free(p);
}

void *so_problem_context(const so_problem *p) { return p->ctx; }
const char *so_problem_id(const so_problem *p) { return p->id; }
size_t so_problem_dim(const so_problem *p) { return p->dim; }
size_t so_problem_samples(const so_problem *p) { return p->samples; }
int so_problem_has_accuracy(const so_problem *p) { return p->ops.accuracy != NULL; }
int so_problem_has_objective(const so_problem *p) { return p->ops.objective != NULL; }
int so_problem_has_full_grad(const so_problem *p) { return p->objective_grad; }
int so_problem_workers(const so_problem *p) { return p->workers; }
int so_problem_batch(const so_problem *p) { return p->batch; }
uint64_t so_problem_seed(const so_problem *p) { return p->seed; }
uint64_t so__problem_fingerprint(const so_problem *p) { return p->fingerprint; }

const so_tensor *so_problem_tensors(const so_problem *p, size_t *ntensors)
{
    *ntensors = p->ntensors;
    return p->tensors;
}

int so_problem_init(const so_problem *p, float *x)
{
    if (!p->ops.init) {
        memset(x, 0, p->dim * sizeof *x);
        return SO_OK;
    }
    return p->ops.init(p->ctx, x, p->seed);
}

double so_problem_epoch(const so_problem *p, long step)
{
    /* Without data, one step is one oracle call, reported as one epoch. */
    if (p->samples == 0 || p->min_shard == 0 || p->batch == 0) return (double)step;
    return (double)step * p->batch / (double)p->min_shard;
}

so_workspace *so_problem_workspace_new(const so_problem *p)
{
    so_workspace *w = calloc(1, sizeof *w);
    if (!w) {
        so_error(SO_ENOMEM, "%s: out of memory for a workspace", p->id);
        return NULL;
    }
    w->p = p;
    if (p->ops.workspace_new) {
        w->ws = p->ops.workspace_new(p->ctx);
        if (!w->ws) {
            free(w);
            return NULL; /* the oracle said why */
        }
    }
    return w;
}

void *so__workspace_inner(const so_workspace *w) { return w->ws; }

void so_workspace_free(so_workspace *w)
{
    if (!w) return;
    if (w->p->ops.workspace_free) w->p->ops.workspace_free(w->p->ctx, w->ws);
    free(w);
}

int so_problem_grad(so_problem *p, so_workspace *w, const float *x, float *g, int worker, long step,
                    double *loss_out)
{
    return so_problem_grad_sub(p, w, x, g, worker, step, 0, loss_out);
}

int so_problem_grad_sub(so_problem *p, so_workspace *w, const float *x, float *g, int worker, long step, int sub,
                        double *loss_out)
{
    if (worker < 0 || (p->workers > 0 && worker >= p->workers))
        return so_error(SO_EINVAL, "%s: worker %d out of range [0, %d)", p->id, worker, p->workers);
    if (step < 0 || sub < 0) return so_error(SO_EINVAL, "%s: step %ld and stream %d must be >= 0", p->id, step, sub);
    const so_grad_request q = {worker, step, sub, p->seed};
    double loss = 0.0;
    int rc = p->ops.grad(p->ctx, w ? w->ws : NULL, x, g, &q, &loss);
    if (loss_out) *loss_out = loss;
    return rc;
}

int so_problem_objective(so_problem *p, const float *x, double *f, float *grad)
{
    if (!p->ops.objective) return so_error(SO_EUNSUPPORTED, "%s: the problem gives no objective", p->id);
    if (grad && !p->objective_grad)
        return so_error(SO_EUNSUPPORTED, "%s: the problem gives f but not its full gradient", p->id);
    return p->ops.objective(p->ctx, x, f, grad);
}

int so_problem_eval(so_problem *p, const float *x, so_eval *out)
{
    out->loss = out->grad_l1 = out->grad_l2 = NAN;
    out->train_acc = out->test_acc = NAN;
    if (p->ops.objective) {
        double f = 0.0;
        int rc = p->ops.objective(p->ctx, x, &f, p->objective_grad ? p->full_grad : NULL);
        if (rc != SO_OK) return rc;
        out->loss = f;
        if (p->objective_grad) {
            double l1 = 0.0, l2 = 0.0;
            for (size_t i = 0; i < p->dim; i++) {
                double v = p->full_grad[i];
                l1 += fabs(v);
                l2 += v * v;
            }
            out->grad_l1 = l1;
            out->grad_l2 = sqrt(l2);
        }
    }
    if (p->ops.accuracy) return p->ops.accuracy(p->ctx, x, &out->train_acc, &out->test_acc);
    return SO_OK;
}

/* ---- The family registry ---- */

#define MAX_FAMILIES 256

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const so_problem_family *families[MAX_FAMILIES];
static const char *family_ids[MAX_FAMILIES + 1];
static size_t nfamilies;
static int builtins_done;

static int add_family(const so_problem_family *f)
{
    if (!f || !f->id || !f->description || !f->create)
        return so_error(SO_EINVAL, "problem: a family needs an id, a description and a create function");
    for (size_t i = 0; i < nfamilies; i++)
        if (strcmp(families[i]->id, f->id) == 0)
            return so_error(SO_EINVAL, "problem: a family '%s' is already registered", f->id);
    if (nfamilies == MAX_FAMILIES) return so_error(SO_EINVAL, "problem: more than %d families", MAX_FAMILIES);
    families[nfamilies] = f;
    family_ids[nfamilies++] = f->id;
    family_ids[nfamilies] = NULL;
    return SO_OK;
}

/* Call with reg_lock held: the built-in families first, once. */
static void ensure_builtins(void)
{
    if (builtins_done) return;
    builtins_done = 1;
    size_t n = 0;
    const so_problem_family *const *b = so__builtin_families(&n);
    for (size_t i = 0; i < n; i++) add_family(b[i]);
}

int so_problem_register(const so_problem_family *f)
{
    pthread_mutex_lock(&reg_lock);
    ensure_builtins();
    int rc = add_family(f);
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

size_t so_problem_family_count(void)
{
    pthread_mutex_lock(&reg_lock);
    ensure_builtins();
    size_t n = nfamilies;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

const so_problem_family *so_problem_family_at(size_t i)
{
    pthread_mutex_lock(&reg_lock);
    ensure_builtins();
    const so_problem_family *f = i < nfamilies ? families[i] : NULL;
    pthread_mutex_unlock(&reg_lock);
    return f;
}

const char *const *so_problem_ids(void)
{
    pthread_mutex_lock(&reg_lock);
    ensure_builtins();
    pthread_mutex_unlock(&reg_lock);
    return family_ids;
}

so_problem *so_problem_create(const so_problem_config *cfg)
{
    if (!cfg || !cfg->id) {
        so_error(SO_EINVAL, "problem: no id given");
        return NULL;
    }
    if (cfg->workers < 1) {
        so_error(SO_EINVAL, "problem: workers must be >= 1, got %d", cfg->workers);
        return NULL;
    }
    if (cfg->batch < 1) {
        so_error(SO_EINVAL, "problem: batch must be >= 1, got %d", cfg->batch);
        return NULL;
    }
    const so_problem_family *f = NULL;
    pthread_mutex_lock(&reg_lock);
    ensure_builtins();
    for (size_t i = 0; i < nfamilies && !f; i++)
        if (strcmp(families[i]->id, cfg->id) == 0) f = families[i];
    pthread_mutex_unlock(&reg_lock);
    if (!f) {
        so_error(SO_EINVAL, "problem: unknown id '%s' (see 'signopt list problems')", cfg->id);
        return NULL;
    }
    return f->create(cfg);
}
