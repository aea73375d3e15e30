/* signopt/optim.h — single-node optimizers, learning-rate schedules and theory presets.
 *
 * Ids (docs/algorithms.md, "Single-node methods"): sgd sgdm adam adamw signsgd signum signum-nesterov ef-signsgd
 * scaled-signsgd lion. Each id maps to one case of so_optim_step in src/optim/optim.c and one fused kernel in
 * src/optim/kernels.c. */
#ifndef SIGNOPT_OPTIM_H
#define SIGNOPT_OPTIM_H

#include <stddef.h>
#include <stdint.h>
#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a momentum buffer starts (docs/algorithms.md, "Two momentum conventions"):
 * ZERO: m_0 = 0, so m_1 = (1-beta) g_1 (001, 003 Alg 3, Bernstein's Signum);
 * FIRST_GRAD: m_1 = g_1 (000 Alg 1/2, 002);
 * AUTO: the id's own paper's convention (so_algo_info.momentum_init): zero for every single-node id, first-grad
 * for mvsm-v1/v2. */
typedef enum so_momentum_init { SO_INIT_AUTO = -1, SO_INIT_ZERO = 0, SO_INIT_FIRST_GRAD = 1 } so_momentum_init;

/* ---- Learning-rate schedules: lr_t = lr * factor(t), t = 0,1,2,... the step index ---- */
typedef enum so_schedule_kind {
    SO_SCHED_CONST = 0,  /* "const" */
    SO_SCHED_STEP,       /* "step:E1,E2,...:F": multiply by F at each milestone step E_i */
    SO_SCHED_EXP,        /* "exp:F": factor F^t (per round) */
    SO_SCHED_INV,        /* "inv:C": lr_t = C / (t + 1) (replaces lr; 004's alpha_k = c/(k+1)) */
    SO_SCHED_COSINE,     /* "cosine": 0.5 (1 + cos(pi t / T)), T = total steps */
    SO_SCHED_WARMUP      /* "warmup:W": linear warm-up (t+1)/W for t < W, then constant; ",cosine" may follow */
} so_schedule_kind;

#define SO_SCHED_MAX_MILESTONES 16

typedef struct so_schedule {
    so_schedule_kind kind;
    double factor;                            /* STEP, EXP */
    double c;                                 /* INV */
    long milestones[SO_SCHED_MAX_MILESTONES]; /* STEP, increasing */
    int n_milestones;
    long warmup;                              /* WARMUP */
    int then_cosine;                          /* WARMUP followed by cosine decay */
    long total_steps;                         /* COSINE, WARMUP+cosine: T, set by the caller after parsing */
} so_schedule;

/* Parse "const", "step:E1,E2:F", "exp:F", "inv:C", "cosine", "warmup:W" or "warmup:W,cosine".
 * ("theory:NAME" is not a schedule but a preset; see so_theory_preset.) */
SO_API int so_schedule_parse(so_schedule *s, const char *text);
/* The learning rate at step t (0-based) for base rate lr. */
SO_API double so_schedule_lr(const so_schedule *s, double lr, long t);

/* ---- Theory presets: step size and momentum from T, d, n, L (docs/algorithms.md, "Theory presets") ----
 * Names: "001-thm1" "001-thm2" "000-thm1" "000-thm2" "000-thm3" "000-thm4" "000-thm5" "003-thm1". */
typedef struct so_theory_input {
    long T;      /* rounds */
    size_t d;    /* dimension */
    int n;       /* workers */
    double L;    /* smoothness constant */
    double rho;  /* second-order smoothness (001 Thm 2) */
    double c;    /* the constant in "eta proportional to ..." (default 1) */
} so_theory_input;
SO_API int so_theory_preset(const char *name, const so_theory_input *in, double *lr, double *beta);
/* The preset names, NULL-terminated. */
SO_API const char *const *so_theory_names(void);

/* ---- Optimizers ---- */
typedef struct so_optim_config {
    const char *algo;       /* id, see so_optim_algos() */
    double lr;              /* eta (alpha for scaled-signsgd) */
    double beta;            /* weight of the OLD momentum value: sgdm mu, adam beta1, signum beta/theta, lion beta1 */
    double beta2;           /* adam/adamw beta2, lion beta2 */
    double eps;             /* adam/adamw epsilon */
    double weight_decay;    /* decoupled (x <- x - eta*lambda*x before the update) except sgdm and adam: coupled;
                               scaled-signsgd refuses it */
    int nesterov;           /* sgdm: Nesterov momentum (PyTorch convention) */
    so_momentum_init momentum_init; /* signum, signum-nesterov (and the distributed momentum ids); lion starts at zero
                               only; sgdm is torch's b_1 = g_1 */
    double alpha;           /* signum-nesterov extrapolation y = x + alpha (x - x_prev); < 0 means beta/(1-beta) */
    so_schedule schedule;
    const float *lr_vec;    /* optional per-coordinate multipliers A = Diag(a_1..a_d) (001 sec. 2.2), length d,
                               copied at create; effective rate is lr_t * a_i. NULL: scalar rate. */
} so_optim_config;

/* Defaults, the same as the command line's: algo SO_DEFAULT_ALGO ("signum"), lr 1e-3, beta 0.9, beta2 0.999,
 * eps 1e-8, no decay, no Nesterov, init AUTO, alpha -1 (auto), constant schedule, scalar rate. */
SO_API void so_optim_config_default(so_optim_config *c);

typedef struct so_optim so_optim;

/* Create an optimizer for d parameters laid out as the given tensors (NULL/0: one tensor of size d). The
 * tensor list is copied. Returns NULL on error (so_errmsg() says why: unknown algo, bad value). */
SO_API so_optim *so_optim_create(const so_optim_config *cfg, size_t d, const so_tensor *tensors, size_t ntensors);
SO_API void so_optim_destroy(so_optim *o);

/* One step: x <- rule(x, g) with the rate of the current step, then the step counter advances.
 * g is the stochastic gradient taken at the point so_optim_grad_point() named. */
SO_API int so_optim_step(so_optim *o, float *x, const float *g);

/* Where the next gradient must be taken. Writes y (length d) and returns 1 when it differs from x
 * (signum-nesterov: y = x + alpha (x - x_prev)); returns 0 and leaves y untouched when it is x itself. */
SO_API int so_optim_grad_point(const so_optim *o, const float *x, float *y);

SO_API long so_optim_step_count(const so_optim *o);
/* The rate the next step will use (schedule applied, before per-coordinate multipliers). */
SO_API double so_optim_lr(const so_optim *o);
SO_API size_t so_optim_dim(const so_optim *o);
SO_API const char *so_optim_algo(const so_optim *o);
/* Floats of state per parameter the rule keeps (momentum, second moment, error, x_prev), for the memory report. */
SO_API size_t so_optim_state_floats_per_param(const char *algo);

/* ---- The same rules on memory the caller owns: for frameworks that keep per-tensor state themselves ----
 * One step t (0-based: it selects the schedule's rate, Adam's bias corrections and a first-grad start) of rule
 * cfg->algo over ntensors tensors at once: x[k], g[k] and the rule's state buffers buf0[k], buf1[k] each hold
 * sizes[k] floats. The buffers, zeroed before step 0 and kept by the caller between steps, are what so_optim
 * keeps (so_algo_info.state_floats of them): sgdm, signum, ef-signsgd, lion: buf0 = the momentum / error;
 * adam, adamw: buf0 = m, buf1 = v; signum-nesterov: buf0 = m, buf1 = x_prev; NULL lists where a rule keeps
 * fewer. Per tensor the result equals so_optim_step on that tensor alone; ef-signsgd scales each tensor by its own
 * ||p||_1 / size, and scaled-signsgd takes ||g||_1 over all the tensors (summed tensor by tensor). cfg->lr_vec
 * must be NULL. SO_EINVAL for an unknown or distributed id, a bad value or a NULL array. */
SO_API int so_optim_step_tensors(const so_optim_config *cfg, long t, size_t ntensors, const size_t *sizes,
                                 float *const *x, const float *const *g, float *const *buf0, float *const *buf1);
/* Where step t's gradient must be taken, for tensor lists: y[k] <- x[k] + alpha (x[k] - buf1[k]) and 1 for
 * signum-nesterov after step 0 (buf1 = x_prev as above); 0 and y untouched when it is x itself. */
SO_API int so_optim_grad_point_tensors(const so_optim_config *cfg, long t, size_t ntensors, const size_t *sizes,
                                       const float *const *x, const float *const *buf1, float *const *y);

/* Save/restore the whole optimizer state (step counter, buffers) as an opaque byte block. Load checks the
 * algorithm and d and refuses a mismatch with SO_EFORMAT. */
SO_API size_t so_optim_state_size(const so_optim *o);
SO_API int so_optim_save(const so_optim *o, void *buf, size_t size);
SO_API int so_optim_load(so_optim *o, const void *buf, size_t size);

/* The single-node ids, NULL-terminated, in registry order (so_algo_at gives each one's row). */
SO_API const char *const *so_optim_algos(void);
SO_API int so_optim_is_algo(const char *id);

#ifdef __cplusplus
}
#endif
#endif
