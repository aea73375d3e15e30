/* builtin.c — which problem families come with the library. Each is defined beside its callbacks (synthetic:
 * src/problems/synthetic.c; logreg, mlp, cnn, cnn64: src/models/models.c; charlm: src/lm/charlm.c) and registered
 * through the public so_problem_register path, the one a program uses for its own. */
#include "builtin.h"

static const so_problem_family *const builtin[] = {
    &so__family_quadratic, &so__family_signgd_counterexample, &so__family_pl_toy, &so__family_l0l1,
    &so__family_logreg,    &so__family_mlp,                   &so__family_cnn,    &so__family_cnn64, &so__family_charlm,
};

const so_problem_family *const *so__builtin_families(size_t *count)
{
    *count = sizeof builtin / sizeof builtin[0];
    return builtin;
}
