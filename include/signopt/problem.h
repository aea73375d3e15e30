/* signopt/problem.h — gradient oracles: your own model as callbacks, and the built-in problems.
 *
 * A so_problem is a gradient oracle: the stochastic gradient of worker j's minibatch at step t, and optionally
 * the full objective f(x), its gradient and accuracies for evaluations. Everything that trains (so_optim through
 * so_run, so_cluster over in-process workers or MPI ranks, checkpoints, the command's train and sweep) takes a
 * so_problem, whatever made it: your callbacks (so_problem_create_oracle), or a registered family by id
 * (so_problem_create). The built-in families register through the same callbacks: quadratic,
 * signgd-counterexample, pl-toy, l0l1 (synthetic, src/problems/synthetic.c); logreg, mlp, cnn, cnn64 (data,
 * src/models/); charlm (src/lm/). docs/algorithms.md, "Problems", states each. */
#ifndef SIGNOPT_PROBLEM_H
#define SIGNOPT_PROBLEM_H

#include <stddef.h>
#include <stdint.h>
#include "core.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Noise added to synthetic gradients, per coordinate, zero mean (docs/algorithms.md, "Noise models"). */
typedef enum so_noise_kind {
    SO_NOISE_NONE = 0, /* "none": the exact gradient */
    SO_NOISE_GAUSS,    /* "gauss:S": N(0, S^2) */
    SO_NOISE_PARETO,   /* "pareto:K:S": symmetric Pareto with tail index K in (1,2]: finite moments below K only */
    SO_NOISE_STUDENT,  /* "student:NU:S": S * Student-t(NU); NU <= 2 has infinite variance */
    SO_NOISE_SKEW,     /* "skew:S": skewed, non-unimodal, zero mean, with P(noise < -|grad|) > 1/2 where it matters */
    SO_NOISE_UNIFORM   /* "uniform:S": uniform on [-S, S): bounded (|noise| <= S, variance S^2/3), for theorems that
                        * assume bounded stochastic gradients (000 Ass. 8, 001 Ass. 4) */
} so_noise_kind;

typedef struct so_noise {
    so_noise_kind kind;
    double scale;
    double shape; /* kappa (pareto) or nu (student) */
} so_noise;

SO_API int so_noise_parse(so_noise *n, const char *text);
/* out_i <- draws of the noise, from (seed, worker, step, SO_STREAM_NOISE). */
SO_API void so_noise_sample(float *out, size_t d, const so_noise *n, uint64_t seed, uint32_t worker,
                            uint32_t step);

/* ---- Your own model: a gradient oracle as callbacks plus a context pointer ---- */

typedef struct so_problem so_problem;

/* What one gradient is for. Key every random draw of it (minibatch sampling, dropout masks, noise) by
 * (seed, worker, step, stream), for instance with so_grad_rng: the draw is then the same on any thread and on
 * any MPI rank, so in-process workers and MPI ranks compute the same gradients and the same iterates. */
typedef struct so_grad_request {
    int worker;     /* j in [0, workers) */
    long step;      /* the step (round) t, 0-based */
    int sub;        /* minibatch stream: 0 for the round's gradient; 1..K for fed-mv-sto-signsgd-sim's K local steps,
                     * each of which must draw a minibatch of its own */
    uint64_t seed;  /* the problem's seed */
} so_grad_request;

/* r <- the sequence (q->seed, q->worker, q->step, stream + (q->sub << 16)): a generator private to this
 * gradient; use streams from SO_STREAM_USER up (and below 2^16). */
SO_API void so_grad_rng(so_rng *r, const so_grad_request *q, uint32_t stream);

/* A gradient callback without a problem (so_dist_optim_step_fn): g (d floats) <- the gradient of request q's
 * minibatch at x; *loss (may be left alone) <- its loss. Return SO_OK or an error code set with so_error. */
typedef int (*so_grad_fn)(void *user, const float *x, float *g, const so_grad_request *q, double *loss);

/* The callbacks of a model. ctx is yours; the library only passes it back. Only grad is required.
 * Threads: the in-process cluster calls grad from several threads at once, each with its own workspace (ws,
 * made by workspace_new on that thread's behalf; NULL when workspace_new is NULL), so grad must not write to
 * shared state without a lock. objective and accuracy are called from one thread at a time. */
typedef struct so_oracle {
    /* g (dim floats) <- the stochastic gradient of worker q->worker's minibatch at x (the MEAN over the batch);
     * *loss <- that minibatch's loss (for progress; may be left 0). */
    int (*grad)(void *ctx, void *ws, const float *x, float *g, const so_grad_request *q, double *loss);
    /* *f <- the full training objective f(x); when grad is non-NULL also its gradient (dim floats). NULL: the
     * run's loss and gradient norms are not measured (NaN). See so_oracle_info.objective_grad. */
    int (*objective)(void *ctx, const float *x, double *f, float *grad);
    /* Train and test accuracy in [0, 1] (NaN where there is none). NULL: not measured. */
    int (*accuracy)(void *ctx, const float *x, double *train, double *test);
    /* x (dim floats) <- x_0, seeded by the problem's seed if random. NULL: x_0 = 0. */
    int (*init)(void *ctx, float *x, uint64_t seed);
    /* Per-thread scratch for grad; NULL return with so_error set on failure. Both NULL: ws is NULL. */
    void *(*workspace_new)(void *ctx);
    void (*workspace_free)(void *ctx, void *ws);
    /* Called once by so_problem_destroy (and by a failed so_problem_create_oracle): free ctx. May be NULL. */
    void (*destroy)(void *ctx);
} so_oracle;

/* The facts of a model that do not change while it trains. */
typedef struct so_oracle_info {
    const char *id;           /* its name, in messages and summaries (copied; NULL: "oracle") */
    size_t dim;               /* d >= 1 */
    const so_tensor *tensors; /* its tensors, tiling [0, d) in order (copied with their names); NULL: one */
    size_t ntensors;
    int workers;              /* how many workers it serves: a cluster must have this many; 0: any number */
    int batch;                /* per-worker minibatch B (epochs; 0: unknown) */
    size_t samples;           /* training samples (0: none; then one step is reported as one epoch) */
    size_t min_shard;         /* the smallest worker's samples: epoch(t) = t * batch / min_shard (0: samples) */
    uint64_t seed;            /* passed to grad (so_grad_request.seed) and init */
    uint64_t fingerprint;     /* whatever else MPI ranks must agree on (a hash of your configuration); a cluster
                               * over MPI refuses ranks whose id, dim, seed, batch or fingerprint differ */
    int objective_grad;       /* 1: objective fills grad (the run reports ||grad f||_1, ||grad f||_2); 0: it gives
                               * f only, and the gradient norms are NaN */
} so_oracle_info;

/* A problem made of your callbacks. The ops are copied; ctx is borrowed until so_problem_destroy, which calls
 * ops->destroy(ctx). NULL with so_errmsg() on error (SO_EINVAL: no grad, dim 0, tensors that do not tile
 * [0, dim), negative workers; SO_ENOMEM); ops->destroy(ctx) is called then too, so the caller frees nothing. */
SO_API so_problem *so_problem_create_oracle(const so_oracle *ops, void *ctx, const so_oracle_info *info);
/* The ctx a problem was made with (a built-in's own state for built-in problems). */
SO_API void *so_problem_context(const so_problem *p);

/* ---- Families: ids that so_problem_create (and the command's --problem) knows ---- */

typedef struct so_problem_config so_problem_config;

typedef struct so_problem_family {
    const char *id;           /* the --problem id */
    const char *description;  /* one line, for `signopt list problems` */
    /* Build the problem for cfg (cfg->id == id): usually so_problem_create_oracle with the family's callbacks.
     * NULL with so_errmsg() set on error. */
    so_problem *(*create)(const so_problem_config *cfg);
} so_problem_family;

/* Add a family. The struct is borrowed for the life of the process (make it static). SO_EINVAL for a NULL
 * field or an id already registered. Thread-safe. The built-in families are registered before any lookup. */
SO_API int so_problem_register(const so_problem_family *f);
/* The registered families: count, and family i in registration order (built-ins first). */
SO_API size_t so_problem_family_count(void);
SO_API const so_problem_family *so_problem_family_at(size_t i);

struct so_problem_config {
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
    size_t max_dim;      /* LIBSVM data: the largest feature index allowed (0: SO_DEFAULT_MAX_DIM, 2^24) */
    /* workers */
    int workers;         /* n >= 1 */
    so_split_config split;
    int batch;           /* per-worker minibatch B >= 1 */
    uint64_t seed;
};

/* Defaults, the same as the command line's: id "quadratic", dim 100, L_max 10, x0 NaN (the problem's own), a 1,
 * alpha 0.05, no noise, data NULL, classes 0 vs 6, l2 -1 (1/N), 4000 x 200 synthetic rows, 1 worker, IID split,
 * batch 32, seed 1. */
SO_API void so_problem_config_default(so_problem_config *c);

/* Per-thread scratch for gradient evaluation (activations, index buffers). */
typedef struct so_workspace so_workspace;

/* The problem of a registered family (cfg->id); SO_EINVAL "unknown id" otherwise. */
SO_API so_problem *so_problem_create(const so_problem_config *cfg);
SO_API void so_problem_destroy(so_problem *p);

SO_API const char *so_problem_id(const so_problem *p);
SO_API size_t so_problem_dim(const so_problem *p);
SO_API const so_tensor *so_problem_tensors(const so_problem *p, size_t *ntensors);
/* x_0: the constant start of synthetic problems, the seeded initialization of models (stated in docs). */
SO_API int so_problem_init(const so_problem *p, float *x);
/* Training samples (0 for synthetic problems) and how many steps make one epoch for one worker. */
SO_API size_t so_problem_samples(const so_problem *p);
SO_API double so_problem_epoch(const so_problem *p, long step);
SO_API int so_problem_has_accuracy(const so_problem *p);
/* Workers served (0: any), per-worker batch, seed. */
SO_API int so_problem_workers(const so_problem *p);
SO_API int so_problem_batch(const so_problem *p);
SO_API uint64_t so_problem_seed(const so_problem *p);

SO_API so_workspace *so_problem_workspace_new(const so_problem *p);
SO_API void so_workspace_free(so_workspace *w);

/* Stochastic gradient of worker j at step t (0-based): the mean over a minibatch of B samples drawn from j's
 * shard without replacement within an epoch (data), or the exact gradient plus noise drawn from
 * (seed, j, t) (synthetic). g has dim entries; *loss_out (may be NULL) gets the minibatch loss.
 * Thread-safe for distinct (worker, workspace) pairs. */
SO_API int so_problem_grad(so_problem *p, so_workspace *w, const float *x, float *g, int worker, long step,
                    double *loss_out);
/* Gradient of worker j's local objective f_j on a minibatch at an arbitrary point (used by the federated local
 * steps, which take several gradients per round): sub selects an independent minibatch stream (0..K). */
SO_API int so_problem_grad_sub(so_problem *p, so_workspace *w, const float *x, float *g, int worker, long step,
                        int sub, double *loss_out);

typedef struct so_eval {
    double loss;      /* full training objective f(x); NaN where the problem does not give it */
    double grad_l1;   /* ||grad f(x)||_1; NaN where the problem does not give the full gradient */
    double grad_l2;   /* ||grad f(x)||_2; likewise */
    double train_acc; /* NaN where the problem has no accuracy */
    double test_acc;
} so_eval;
/* The full objective f(x) into *f and, when grad is non-NULL, its gradient (dim floats). SO_EUNSUPPORTED when the
 * problem gives no objective (or grad was asked of one that gives f only). */
SO_API int so_problem_objective(so_problem *p, const float *x, double *f, float *grad);
/* Evaluate the full objective, its gradient norms, and accuracies (each NaN where the problem lacks it). */
SO_API int so_problem_eval(so_problem *p, const float *x, so_eval *out);
/* Whether evaluations give f(x), and its gradient norms. */
SO_API int so_problem_has_objective(const so_problem *p);
SO_API int so_problem_has_full_grad(const so_problem *p);

/* The registered ids, NULL-terminated (valid until the next so_problem_register). */
SO_API const char *const *so_problem_ids(void);

#ifdef __cplusplus
}
#endif
#endif
