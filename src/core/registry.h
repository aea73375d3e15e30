/* registry.h — the inside of the algorithm registry (registry.c): each id's public row (so_algo_info) and the
 * flags the optimizers and the distributed round skeleton act on, so that each rule is written once and read
 * from its row. */
#ifndef SO_CORE_REGISTRY_H
#define SO_CORE_REGISTRY_H

#include "signopt/algos.h"

/* The single-node rules, one fused kernel each (src/optim/kernels.c). The numbers are stored in optimizer
 * states (so_optim_save), so they never change. */
typedef enum so__rule {
    SO_RULE_SGD = 0, SO_RULE_SGDM, SO_RULE_ADAM, SO_RULE_ADAMW, SO_RULE_SIGNSGD, SO_RULE_SIGNUM,
    SO_RULE_SIGNUM_NESTEROV, SO_RULE_EF_SIGNSGD, SO_RULE_SCALED_SIGNSGD, SO_RULE_LION, SO_RULE_COUNT,
    SO_RULE_NONE = -1
} so__rule;

typedef struct so__algo {
    so_algo_info info;   /* first: a so_algo_info pointer of a row is a pointer to the row */
    so__rule rule;       /* single-node: its kernel; fp32 baselines: the rule applied to the mean gradient */
    int momentum;        /* distributed: the worker sends (a sign of) m_j <- beta m_j + (1 - beta) g_j, not g_j */
    int extrapolate;     /* distributed: gradients at y = x + alpha (x - x_prev) (001 Alg 2, step 1) */
    int local_steps;     /* distributed: K local SGD steps before the momentum gradient (001 Alg 3) */
} so__algo;

/* The row of an id (NULL: unknown), and of a single-node rule. */
const so__algo *so__algo_find(const char *id);
const so__algo *so__algo_of_rule(so__rule rule);
/* The public row's inside (a row of the registry's table). */
static inline const so__algo *so__algo_of(const so_algo_info *info) { return (const so__algo *)info; }

#endif
