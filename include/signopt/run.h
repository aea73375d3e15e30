/* signopt/run.h — the training driver: one run of an algorithm on a problem, with evaluations, metrics rows,
 * the random iterate x_tau and checkpoints. Used by `signopt train`; single-node ids step a so_optim,
 * distributed ids a so_cluster. Any so_problem runs: a registered family's or your own oracle's. */
#ifndef SIGNOPT_RUN_H
#define SIGNOPT_RUN_H

#include <stddef.h>
#include <stdint.h>
#include "core.h"
#include "optim.h"
#include "problem.h"
#include "dist.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One row of metrics.csv (docs/cli.md). loss, grad_l1, grad_l2 are NaN where the problem does not give them;
 * accuracies NaN where it has none. */
typedef struct so_metrics_row {
    uint64_t seed;
    long step;
    double epoch;
    double loss, train_acc, test_acc, grad_l1, grad_l2, g_linf;
    uint64_t bits_up, bits_down;
    double wall_s;
    /* wall_s less the time spent evaluating and checkpointing before this row: the seconds of training alone
     * (NaN in rows read from a checkpoint of version 3 or older, which did not record it) */
    double train_s;
} so_metrics_row;

typedef void (*so_row_fn)(const so_metrics_row *row, void *user);
/* Return nonzero to stop the run (e.g. a signal). */
typedef int (*so_progress_fn)(long step, long total, double loss, void *user);

/* What a non-finite (NaN or Inf) stochastic gradient or minibatch loss does. STOP: the run ends with SO_ENUMERIC
 * naming the step (the last checkpoint, taken at an evaluation, stays as it was). SKIP: that step's update is
 * dropped (x and the optimizer state are left as they were) and counted in so_run_result.skipped_steps;
 * single-node ids only. A non-finite full objective at an evaluation always stops: the iterate has diverged. */
typedef enum so_on_nan { SO_ON_NAN_STOP = 0, SO_ON_NAN_SKIP = 1 } so_on_nan;

/* A batch-size schedule B_t (minibatch-SignSGD, seed 003 Alg 2: "stepsizes {gamma_k}, batchsizes {B_k}"): at step
 * t (0-based) of T the gradient is the mean of m_t oracle calls on minibatch streams sub = 0 .. m_t - 1 (each a
 * minibatch of B, so_grad_request.sub), i.e. a mean over B_t = m_t B samples. m_t = 1 every step is the plain
 * run, bit for bit. Single-node ids only (a distributed worker's round takes one minibatch). */
typedef enum so_batch_growth {
    SO_BATCH_CONST = 0,  /* m_t = 1 */
    SO_BATCH_LINEAR = 1, /* m_t = 1 + floor((M - 1) t / (T - 1)), M = arg: from 1 at the first step to M at the last */
    SO_BATCH_EXP = 2     /* m_t = floor(F^t), F = arg >= 1 (geometric growth) */
} so_batch_growth;
/* The largest m_t: the built-in data models number a step's minibatch streams in 8 bits (src/models/models.c: a
 * stream's epoch word holds sub << 24), so a 257th stream would repeat the first one's rows. */
#define SO_BATCH_MULT_MAX 256
typedef struct so_batch_schedule {
    int growth; /* so_batch_growth */
    double arg; /* M (linear, an integer in 1..SO_BATCH_MULT_MAX) or F (exp, >= 1) */
} so_batch_schedule;

/* m_t of schedule s at step t (0-based) of T steps, capped at SO_BATCH_MULT_MAX; 1 for an unknown growth. */
SO_API long so_batch_multiplier(const so_batch_schedule *s, long t, long T);
/* s <- "const", "linear:M" or "exp:F"; SO_EINVAL (so_error names what was expected) otherwise. */
SO_API int so_batch_schedule_parse(so_batch_schedule *s, const char *text);

typedef struct so_run_config {
    /* method.optim.algo names the algorithm, single-node or distributed; a single-node id reads method.optim
     * only; a distributed one the whole of it (method.seed is replaced by seed below). */
    so_cluster_config method;
    long steps;
    long eval_every;
    uint64_t seed;
    const char *checkpoint;    /* save here at every evaluation (NULL: none) */
    const char *resume;        /* continue from here (NULL: start) */
    int on_nan;                /* so_on_nan (0: stop) */
    /* Text stored in every checkpoint as it is (NULL: none), read back by so_checkpoint_meta: the command line
     * keeps its whole resolved configuration there, so `--resume FILE` alone restores the run. */
    const char *checkpoint_meta;
    /* B_t of minibatch-SignSGD (003 Alg 2), single-node ids; zero (SO_BATCH_CONST): the batch of the problem at
     * every step. */
    so_batch_schedule batch_schedule;
} so_run_config;

/* Defaults, the same as the command line's: method as so_cluster_config_default with the single-node algo
 * SO_DEFAULT_ALGO ("signum"), 100 steps, evaluations every 5 steps (about 20), seed 1, no checkpoint, stop on NaN. */
SO_API void so_run_config_default(so_run_config *c);

/* The configuration text a checkpoint was written with (so_run_config.checkpoint_meta; "" when none or for a
 * version-2 file), verified like a resume (magic, version, CRC). *text is malloc'ed: free() it. */
SO_API int so_checkpoint_meta(const char *path, char **text);

typedef struct so_run_result {
    so_metrics_row final;      /* the last evaluation */
    so_metrics_row tau;        /* the random iterate x_tau, tau uniform in {1..T} from (seed, SO_STREAM_TAU), the
                                * papers' range (x_1 the start): the start or the iterate after steps 1..T-1 */
    long tau_step;             /* steps before x_tau (tau - 1, in 0..T-1); tau.step says the same */
    int stopped_early;
    long skipped_steps;        /* steps dropped by SO_ON_NAN_SKIP, resumed runs included */
    long diverged_step;        /* so_run returned SO_ENUMERIC: the step whose stochastic gradient (step t + 1 for
                                * the gradient taken at x_t) or evaluation was not finite; -1 otherwise */
} so_run_result;

/* Run one seed: rows are passed to row_fn as they are made (on the root only). */
SO_API int so_run(const so_run_config *cfg, so_problem *p, so_transport *t, so_row_fn row_fn, void *row_user,
           so_progress_fn progress, void *progress_user, so_run_result *result);

#ifdef __cplusplus
}
#endif
#endif
