/* builtin.h — the library's own problem families (src/core/builtin.c), registered by the problem registry before
 * its first lookup, and the one fact about a problem the distributed code needs beyond the public accessors. */
#ifndef SO_CORE_BUILTIN_H
#define SO_CORE_BUILTIN_H

#include <stddef.h>
#include <stdint.h>
#include "signopt/problem.h"

/* The built-in families in registration order (so `signopt list problems` prints them in this order). */
const so_problem_family *const *so__builtin_families(size_t *count);

/* so_oracle_info.fingerprint of a problem: MPI ranks must agree on it (src/dist/cluster.c). */
uint64_t so__problem_fingerprint(const so_problem *p);

/* The oracle's own workspace inside a so_workspace (tests look into the models' minibatch rows). */
void *so__workspace_inner(const so_workspace *w);

/* The families, each defined beside its callbacks. */
extern const so_problem_family so__family_quadratic, so__family_signgd_counterexample, so__family_pl_toy,
    so__family_l0l1, so__family_logreg, so__family_mlp, so__family_cnn, so__family_cnn64, so__family_charlm;

#endif
