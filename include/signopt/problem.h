/* signopt/problem.h — gradient oracles (ALGORITHMS.md, "Problems").
 *
 * Ids: quadratic signgd-counterexample pl-toy l0l1 (synthetic, src/problems/) and logreg mlp cnn (data,
 * src/models/). Every problem gives f(x) and its full gradient, and a stochastic gradient for worker j at step t;
 * data problems also give accuracy. */
#ifndef SIGNOPT_PROBLEM_H
#define SIGNOPT_PROBLEM_H

#include <stddef.h>
#include <stdint.h>
#include "core.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Noise added to synthetic gradients, per coordinate, zero mean (ALGORITHMS.md, noise models). */
typedef enum so_noise_kind {
    SO_NOISE_NONE = 0, /* "none": the exact gradient */
    SO_NOISE_GAUSS,    /* "gauss:S": N(0, S^2) */
    SO_NOISE_PARETO,   /* "pareto:K:S": symmetric Pareto with tail index K in (1,2]: finite moments below K only */
    SO_NOISE_STUDENT,  /* "student:NU:S": S * Student-t(NU); NU <= 2 has infinite variance */
    SO_NOISE_SKEW      /* "skew:S": skewed, non-unimodal, zero mean, with P(noise < -|grad|) > 1/2 where it matters */
} so_noise_kind;

typedef struct so_noise {
    so_noise_kind kind;
    double scale;
    double shape; /* kappa (pareto) or nu (student) */
} so_noise;

int so_noise_parse(so_noise *n, const char *text);
/* out_i <- draws of the noise, from (seed, worker, step, SO_STREAM_NOISE). */
void so_noise_sample(float *out, size_t d, const so_noise *n, uint64_t seed, uint32_t worker, uint32_t step);

typedef struct so_problem_config {
    const char *id;
    /* synthetic problems */
    size_t dim;          /* d (quadratic, l0l1); fixed for signgd-counterexample (2) and pl-toy (1) */
    double L_max;        /* quadratic: L_i from 1 to L_max (default 10) */
    double x0;           /* start x_0 = (x0, ..., x0); NaN: the problem's own start */
    double a;            /* l0l1: f = sum_i cosh(a x_i) / a^2 ... see src/problems/synthetic.c (default 1) */
    double alpha;        /* signgd-counterexample: x_0 = (alpha/2, alpha/2) (default 0.05) */
    so_noise noise;
    /* data problems */
    const char *data;    /* "fashion-mnist", an IDX folder, or a LIBSVM file (logreg); NULL: fashion-mnist */
    const char *test_data; /* optional held-out LIBSVM file */
    int binary_a, binary_b; /* logreg on image data: classes a vs b (default 0 vs 6) */
    double l2;           /* logreg lambda; < 0: 1/N (004 Ex. 5) */
    size_t train_limit;  /* use only the first N training rows (0: all) */
    size_t eval_limit;   /* logreg/mlp/cnn: the loss, gradient norms and train accuracy of an evaluation over the
                          * first N training rows only (0: all); test accuracy always over the whole held-out set */
    size_t synth_n, synth_dim; /* data "synthetic-epsilon": size of the generated set */
    /* workers */
    int workers;         /* n >= 1 */
    so_split_config split;
    int batch;           /* per-worker minibatch B >= 1 */
    uint64_t seed;
} so_problem_config;

void so_problem_config_default(so_problem_config *c);

typedef struct so_problem so_problem;
/* Per-thread scratch for gradient evaluation (activations, index buffers). */
typedef struct so_workspace so_workspace;

so_problem *so_problem_create(const so_problem_config *cfg);
void so_problem_destroy(so_problem *p);

const char *so_problem_id(const so_problem *p);
size_t so_problem_dim(const so_problem *p);
const so_tensor *so_problem_tensors(const so_problem *p, size_t *ntensors);
/* x_0: the constant start of synthetic problems, the seeded initialization of models (stated in docs). */
int so_problem_init(const so_problem *p, float *x);
/* Training samples (0 for synthetic problems) and how many steps make one epoch for one worker. */
size_t so_problem_samples(const so_problem *p);
double so_problem_epoch(const so_problem *p, long step);
int so_problem_has_accuracy(const so_problem *p);

so_workspace *so_problem_workspace_new(const so_problem *p);
void so_workspace_free(so_workspace *w);

/* Stochastic gradient of worker j at step t (0-based): the mean over a minibatch of B samples drawn from j's
 * shard without replacement within an epoch (data), or the exact gradient plus noise drawn from
 * (seed, j, t) (synthetic). g has dim entries; *loss_out (may be NULL) gets the minibatch loss.
 * Thread-safe for distinct (worker, workspace) pairs. */
int so_problem_grad(so_problem *p, so_workspace *w, const float *x, float *g, int worker, long step,
                    double *loss_out);
/* Gradient of worker j's local objective f_j on a minibatch at an arbitrary point (used by the federated local
 * steps, which take several gradients per round): sub selects an independent minibatch stream (0..K). */
int so_problem_grad_sub(so_problem *p, so_workspace *w, const float *x, float *g, int worker, long step,
                        int sub, double *loss_out);

typedef struct so_eval {
    double loss;      /* full training objective f(x) */
    double grad_l1;   /* ||grad f(x)||_1 */
    double grad_l2;   /* ||grad f(x)||_2 */
    double train_acc; /* NaN where the problem has no accuracy */
    double test_acc;
} so_eval;
/* Evaluate the full objective, its gradient norms, and accuracies. */
int so_problem_eval(so_problem *p, const float *x, so_eval *out);

/* The problem ids, NULL-terminated. */
const char *const *so_problem_ids(void);

#ifdef __cplusplus
}
#endif
#endif
