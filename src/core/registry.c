/* registry.c — every algorithm id as one row: what it is, what state it keeps, what it sends, its source, and
 * the flags its implementation acts on. Single-node rules: one case of so_optim_step (src/optim/optim.c) and one
 * fused kernel (src/optim/kernels.c) each. Distributed ids: the round skeleton (src/dist/cluster.c) reads the
 * flags, the worker's and the server's parts live in src/dist/algos.c. The statement of each rule, with its
 * equations, is docs/algorithms.md. */
#include <pthread.h>
#include <string.h>
#include "registry.h"
#include "signopt/dist.h"

#define SINGLE(ID, RULE, STATE, SRC, DESC)                                                                   \
    { .info = { .id = ID, .kind = SO_ALGO_SINGLE, .state_floats = STATE, .momentum_init = SO_INIT_ZERO,      \
                .source = SRC, .description = DESC },                                                        \
      .rule = RULE }

static const so__algo table[] = {
    /* ---- single node ---- */
    SINGLE("sgd", SO_RULE_SGD, 0, "PyTorch torch.optim.SGD", "x <- x - eta g"),
    SINGLE("sgdm", SO_RULE_SGDM, 1, "PyTorch torch.optim.SGD(momentum)",
           "b <- beta b + g (b_1 = g_1), x <- x - eta b; coupled weight decay, optional Nesterov"),
    SINGLE("adam", SO_RULE_ADAM, 2, "PyTorch torch.optim.Adam (Kingma & Ba 2015)",
           "bias-corrected moments, eps outside the sqrt, coupled weight decay"),
    SINGLE("adamw", SO_RULE_ADAMW, 2, "PyTorch torch.optim.AdamW (Loshchilov & Hutter 2019)",
           "Adam with decoupled weight decay"),
    SINGLE("signsgd", SO_RULE_SIGNSGD, 0, "Bernstein et al. 2018; seed 003, Algorithm 1",
           "x <- x - eta sign(g)"),
    SINGLE("signum", SO_RULE_SIGNUM, 1, "seed 000 Alg 1; 001 Alg 1 (signSGD-SIM); 003 Alg 3; 002",
           "m <- beta m + (1 - beta) g, x <- x - eta sign(m)"),
    SINGLE("signum-nesterov", SO_RULE_SIGNUM_NESTEROV, 2, "seed 001, eq. (4)",
           "signum with the gradient taken at y = x + alpha (x - x_prev)"),
    SINGLE("ef-signsgd", SO_RULE_EF_SIGNSGD, 1, "Karimireddy et al. 2019; seed 004, eq. (12)",
           "p = eta g + e, x <- x - (||p||_1 / d) sign(p), e <- p - that step; per tensor"),
    SINGLE("scaled-signsgd", SO_RULE_SCALED_SIGNSGD, 0, "seed 004, Algorithms 1 and 2",
           "x <- x - alpha ||g||_1 sign(g)"),
    SINGLE("lion", SO_RULE_LION, 1, "Chen et al. 2023 (cited in seed 000)",
           "c = beta m + (1 - beta) g, x <- x - eta (sign(c) + lambda x), m <- beta2 m + (1 - beta2) g"),

    /* ---- distributed: n workers, one vote (or mean) per round ---- */
    { .info = { .id = "mv-signsgd", .kind = SO_ALGO_DIST, .uplink = SO_UPLINK_SIGN,
                .downlink = SO_DOWNLINK_MAJORITY, .momentum_init = SO_INIT_ZERO,
                .source = "Bernstein et al. 2018, 2019",
                .description = "signSGD with majority vote: send sign(g_j), x <- x - eta sign(sum_j sign(g_j))" },
      .rule = SO_RULE_NONE },
    { .info = { .id = "mv-signum", .kind = SO_ALGO_DIST, .state_floats = 1, .uplink = SO_UPLINK_SIGN,
                .downlink = SO_DOWNLINK_MAJORITY, .momentum_init = SO_INIT_ZERO,
                .source = "Bernstein et al. 2019",
                .description = "Signum with majority vote: send sign(m_j), m_j from zero" },
      .rule = SO_RULE_NONE, .momentum = 1 },
    { .info = { .id = "sto-signsgd", .kind = SO_ALGO_DIST, .uplink = SO_UPLINK_STOCHASTIC,
                .downlink = SO_DOWNLINK_MAJORITY, .momentum_init = SO_INIT_ZERO,
                .source = "Jin et al. 2021",
                .description = "stochastic-sign SGD: send S_R(g_j), x <- x - eta sign(sum_j S_R(g_j))" },
      .rule = SO_RULE_NONE },
    { .info = { .id = "mv-sto-signsgd-sim", .kind = SO_ALGO_DIST, .state_floats = 1,
                .uplink = SO_UPLINK_STOCHASTIC, .downlink = SO_DOWNLINK_MAJORITY, .momentum_init = SO_INIT_ZERO,
                .source = "seed 001, Algorithm 2",
                .description = "momentum at y = x + alpha (x - x_prev), send S_R(m_j), majority vote" },
      .rule = SO_RULE_NONE, .momentum = 1, .extrapolate = 1 },
    { .info = { .id = "fed-mv-sto-signsgd-sim", .kind = SO_ALGO_DIST, .state_floats = 1,
                .uplink = SO_UPLINK_STOCHASTIC, .downlink = SO_DOWNLINK_MAJORITY, .momentum_init = SO_INIT_ZERO,
                .source = "seed 001, Algorithm 3",
                .description = "mv-sto-signsgd-sim after K local SGD steps on each worker (federated)" },
      .rule = SO_RULE_NONE, .momentum = 1, .extrapolate = 1, .local_steps = 1 },
    { .info = { .id = "mvsm-v1", .kind = SO_ALGO_DIST, .state_floats = 1, .uplink = SO_UPLINK_STOCHASTIC,
                .downlink = SO_DOWNLINK_MAJORITY, .momentum_init = SO_INIT_FIRST_GRAD,
                .source = "seed 000, Algorithm 2 (v1)",
                .description = "momentum from the first gradient, send S_G(v_j), x <- x - eta sign(mean S_G(v_j))" },
      .rule = SO_RULE_NONE, .momentum = 1 },
    { .info = { .id = "mvsm-v2", .kind = SO_ALGO_DIST, .state_floats = 1, .uplink = SO_UPLINK_STOCHASTIC,
                .downlink = SO_DOWNLINK_STOCHASTIC, .momentum_init = SO_INIT_FIRST_GRAD,
                .source = "seed 000, Algorithm 2 (v2)",
                .description = "as mvsm-v1, the server returns the unbiased S_1(mean S_G(v_j))" },
      .rule = SO_RULE_NONE, .momentum = 1 },
    { .info = { .id = "mv-scaled-signsgd", .kind = SO_ALGO_DIST, .uplink = SO_UPLINK_SIGN,
                .downlink = SO_DOWNLINK_MAJORITY, .norm_channel = 1, .momentum_init = SO_INIT_ZERO,
                .source = "seed 004, Algorithm 3",
                .description = "send sign(g_j) and ||g_j||_1, x <- x - alpha M_t sign(vote), M_t the mean norm" },
      .rule = SO_RULE_NONE },
    { .info = { .id = "dist-sgd", .kind = SO_ALGO_DIST, .uplink = SO_UPLINK_FP32, .downlink = SO_DOWNLINK_MEAN,
                .momentum_init = SO_INIT_ZERO, .source = "fp32 baseline",
                .description = "the mean of the workers' fp32 gradients, then sgd" },
      .rule = SO_RULE_SGD },
    { .info = { .id = "dist-sgdm", .kind = SO_ALGO_DIST, .state_floats = 1, .uplink = SO_UPLINK_FP32,
                .downlink = SO_DOWNLINK_MEAN, .momentum_init = SO_INIT_ZERO, .source = "fp32 baseline",
                .description = "the mean of the workers' fp32 gradients, then sgdm" },
      .rule = SO_RULE_SGDM },
    { .info = { .id = "dist-adamw", .kind = SO_ALGO_DIST, .state_floats = 2, .uplink = SO_UPLINK_FP32,
                .downlink = SO_DOWNLINK_MEAN, .momentum_init = SO_INIT_ZERO, .source = "fp32 baseline",
                .description = "the mean of the workers' fp32 gradients, then adamw" },
      .rule = SO_RULE_ADAMW },
};
#define N_ALGOS (sizeof table / sizeof table[0])

size_t so_algo_count(void) { return N_ALGOS; }

const so_algo_info *so_algo_at(size_t i) { return i < N_ALGOS ? &table[i].info : NULL; }

const so__algo *so__algo_find(const char *id)
{
    if (!id) return NULL;
    for (size_t i = 0; i < N_ALGOS; i++)
        if (strcmp(table[i].info.id, id) == 0) return &table[i];
    return NULL;
}

const so_algo_info *so_algo_find(const char *id)
{
    const so__algo *a = so__algo_find(id);
    return a ? &a->info : NULL;
}

const so__algo *so__algo_of_rule(so__rule rule)
{
    for (size_t i = 0; i < N_ALGOS; i++)
        if (table[i].info.kind == SO_ALGO_SINGLE && table[i].rule == rule) return &table[i];
    return NULL;
}

/* The NULL-terminated id lists of each kind (so_optim_algos, so_dist_algos), made once from the table. */
static const char *ids_single[N_ALGOS + 1], *ids_dist[N_ALGOS + 1];
static pthread_once_t ids_once = PTHREAD_ONCE_INIT;

static void make_ids(void)
{
    size_t ns = 0, nd = 0;
    for (size_t i = 0; i < N_ALGOS; i++) {
        if (table[i].info.kind == SO_ALGO_SINGLE) ids_single[ns++] = table[i].info.id;
        else ids_dist[nd++] = table[i].info.id;
    }
}

const char *const *so_optim_algos(void)
{
    pthread_once(&ids_once, make_ids);
    return ids_single;
}

const char *const *so_dist_algos(void)
{
    pthread_once(&ids_once, make_ids);
    return ids_dist;
}

int so_optim_is_algo(const char *id)
{
    const so__algo *a = so__algo_find(id);
    return a && a->info.kind == SO_ALGO_SINGLE;
}

int so_dist_is_algo(const char *id)
{
    const so__algo *a = so__algo_find(id);
    return a && a->info.kind == SO_ALGO_DIST;
}

size_t so_optim_state_floats_per_param(const char *algo)
{
    const so__algo *a = so__algo_find(algo);
    return a && a->info.kind == SO_ALGO_SINGLE ? (size_t)a->info.state_floats : 0;
}
