/* problem.c — the problem registry and the calls every problem answers the same way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "problem_impl.h"


static const char *const problem_ids[] = {
    "quadratic", "signgd-counterexample", "pl-toy", "l0l1", "logreg", "mlp", "cnn", "charlm", NULL,
};

const char *const *so_problem_ids(void) { return problem_ids; }

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
    c->batch = 1;
    c->seed = 1;
}

so_problem *so_problem_create(const so_problem_config *cfg)
{
    if (!cfg || !cfg->id) { so_error(SO_EINVAL, "problem: no id given"); return NULL; }
    if (cfg->workers < 1) { so_error(SO_EINVAL, "problem: workers must be >= 1, got %d", cfg->workers); return NULL; }
    if (cfg->batch < 1) { so_error(SO_EINVAL, "problem: batch must be >= 1, got %d", cfg->batch); return NULL; }
    so_problem *p = calloc(1, sizeof *p);
    if (!p) { so_error(SO_ENOMEM, "problem: out of memory"); return NULL; }
    p->cfg = *cfg;
    snprintf(p->id, sizeof p->id, "%s", cfg->id);
    p->cfg.id = p->id;
    int rc;
    /* OpenBLAS's sgemm gives different last bits with 1 and 2 threads, so the models' matrix products run on one
     * BLAS thread: one seed then gives one result whatever --threads or OPENBLAS_NUM_THREADS say. The cores are used
     * across workers and in the element-wise kernels instead. */
    if (so__model_is(cfg->id) || so__lm_is(cfg->id)) openblas_set_num_threads(1);
    if (so__synthetic_is(cfg->id)) rc = so__synthetic_create(p);
    else if (so__model_is(cfg->id)) rc = so__model_create(p);
    else if (so__lm_is(cfg->id)) rc = so__lm_create(p);
    else rc = so_error(SO_EINVAL, "problem: unknown id '%s' (see 'signopt list problems')", cfg->id);
    if (rc == SO_OK) {
        p->full_grad = malloc(p->dim * sizeof *p->full_grad);
        if (!p->full_grad) rc = so_error(SO_ENOMEM, "problem: out of memory for %zu floats", p->dim);
    }
    if (rc != SO_OK) { so_problem_destroy(p); return NULL; }
    return p;
}

void so_problem_destroy(so_problem *p)
{
    if (!p) return;
    if (p->ops && p->ops->destroy) p->ops->destroy(p);
    free(p->full_grad);
    free(p);
}

const char *so_problem_id(const so_problem *p) { return p->id; }
size_t so_problem_dim(const so_problem *p) { return p->dim; }
size_t so_problem_samples(const so_problem *p) { return p->samples; }
int so_problem_has_accuracy(const so_problem *p) { return p->ops->accuracy != NULL; }

const so_tensor *so_problem_tensors(const so_problem *p, size_t *ntensors)
{
    *ntensors = p->ntensors;
    return p->tensors;
}

int so_problem_init(const so_problem *p, float *x) { return p->ops->init(p, x); }

double so_problem_epoch(const so_problem *p, long step)
{
    /* Synthetic problems have no data: one step is one oracle call, reported as one epoch. */
    if (p->samples == 0 || p->min_shard == 0) return (double)step;
    return (double)step * p->cfg.batch / (double)p->min_shard;
}

so_workspace *so_problem_workspace_new(const so_problem *p) { return p->ops->workspace_new(p); }

void so_workspace_free(so_workspace *w)
{
    if (w) w->free(w);
}

int so_problem_grad(so_problem *p, so_workspace *w, const float *x, float *g, int worker, long step,
                    double *loss_out)
{
    return so_problem_grad_sub(p, w, x, g, worker, step, 0, loss_out);
}

int so_problem_grad_sub(so_problem *p, so_workspace *w, const float *x, float *g, int worker, long step, int sub,
                        double *loss_out)
{
    if (worker < 0 || worker >= p->cfg.workers)
        return so_error(SO_EINVAL, "problem: worker %d out of range [0, %d)", worker, p->cfg.workers);
    double loss = 0.0;
    int rc = p->ops->grad(p, w, x, g, worker, step, sub, &loss);
    if (loss_out) *loss_out = loss;
    return rc;
}

int so_problem_eval(so_problem *p, const float *x, so_eval *out)
{
    double f = 0.0;
    int rc = p->ops->full(p, x, p->full_grad, &f);
    if (rc != SO_OK) return rc;
    double l1 = 0.0, l2 = 0.0;
    for (size_t i = 0; i < p->dim; i++) {
        double v = p->full_grad[i];
        l1 += fabs(v);
        l2 += v * v;
    }
    out->loss = f;
    out->grad_l1 = l1;
    out->grad_l2 = sqrt(l2);
    out->train_acc = out->test_acc = NAN;
    if (p->ops->accuracy) return p->ops->accuracy(p, x, &out->train_acc, &out->test_acc);
    return SO_OK;
}
