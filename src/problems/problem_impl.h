/* problem_impl.h — the inside of a so_problem: one table of operations per problem family.
 * Synthetic problems live in src/problems/synthetic.c, data problems in src/models/. */
#ifndef SO_PROBLEM_IMPL_H
#define SO_PROBLEM_IMPL_H

#include "signopt/problem.h"

typedef struct so_problem_ops {
    /* Full objective f(x); grad (may be NULL) gets the full gradient. */
    int (*full)(so_problem *p, const float *x, float *grad, double *f);
    /* Worker j's stochastic gradient at step t, minibatch stream `sub` (0 for the round's gradient). */
    int (*grad)(so_problem *p, so_workspace *w, const float *x, float *g, int worker, long step, int sub,
                double *loss);
    /* Train/test accuracy (NULL for problems without). */
    int (*accuracy)(so_problem *p, const float *x, double *train, double *test);
    int (*init)(const so_problem *p, float *x);
    so_workspace *(*workspace_new)(const so_problem *p);
    void (*destroy)(so_problem *p);
} so_problem_ops;

/* Every family's workspace begins with this header, so so_workspace_free can free it without the problem. */
struct so_workspace {
    void (*free)(so_workspace *w);
};

struct so_problem {
    const so_problem_ops *ops;
    so_problem_config cfg;
    char id[32];
    size_t dim;
    so_tensor *tensors;
    size_t ntensors;
    size_t samples;         /* training rows; 0 for synthetic */
    size_t min_shard;       /* smallest worker shard, for epochs */
    float *full_grad;       /* scratch for so_problem_eval, dim floats */
    void *impl;             /* the family's own state */
};

/* Constructors of the families: fill p->ops, dim, tensors, samples, impl; return SO_OK or an error. */
int so__synthetic_create(so_problem *p);
int so__model_create(so_problem *p);
int so__lm_create(so_problem *p);
int so__synthetic_is(const char *id);
int so__model_is(const char *id);
int so__lm_is(const char *id);

#endif
