/* signopt/algos.h — the algorithm registry: every id, single-node and distributed, as one row of one table
 * (src/core/registry.c), with what it keeps, what it sends and where it comes from. `signopt list algos` prints
 * it; the optimizers (src/optim/optim.c) and the distributed rounds (src/dist/) read their behaviour from it. */
#ifndef SIGNOPT_ALGOS_H
#define SIGNOPT_ALGOS_H

#include <stddef.h>
#include "core.h"
#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum so_algo_kind {
    SO_ALGO_SINGLE = 0, /* one worker: so_optim */
    SO_ALGO_DIST = 1    /* n workers and a transport: so_cluster, so_dist_optim */
} so_algo_kind;

/* What a worker sends per coordinate in a round (distributed ids). */
typedef enum so_uplink {
    SO_UPLINK_NONE = 0,       /* single-node */
    SO_UPLINK_SIGN,           /* sign(v): 1 bit (v >= 0 -> +1) */
    SO_UPLINK_STOCHASTIC,     /* S_R(v): 1 random bit with E = v / R */
    SO_UPLINK_FP32            /* the float itself: 32 bits */
} so_uplink;

/* What the server (or, with the allgather pattern, every rank) makes of the messages. */
typedef enum so_downlink {
    SO_DOWNLINK_NONE = 0,     /* single-node */
    SO_DOWNLINK_MAJORITY,     /* sign of the vote: 1 bit, + 1 tie bit with the zero rule and an even count */
    SO_DOWNLINK_STOCHASTIC,   /* S_1 of the mean vote: 1 unbiased random bit (mvsm-v2) */
    SO_DOWNLINK_MEAN          /* the mean of the fp32 gradients: 32 bits */
} so_downlink;

typedef struct so_algo_info {
    const char *id;
    so_algo_kind kind;
    int state_floats;               /* floats of state per coordinate (distributed: per worker, on its rank) */
    so_uplink uplink;
    so_downlink downlink;
    int norm_channel;               /* 1: each message also carries one float (mv-scaled-signsgd's ||g||_1) */
    so_momentum_init momentum_init; /* the id's own momentum start, what SO_INIT_AUTO resolves to */
    const char *source;             /* where the rule is stated: "seed 001, Algorithm 2", "PyTorch SGD" */
    const char *description;        /* one line */
} so_algo_info;

/* The number of registered ids, and row i (0 <= i < count; NULL otherwise): single-node ids first, in the order
 * of docs/algorithms.md. Rows are static and never change. */
SO_API size_t so_algo_count(void);
SO_API const so_algo_info *so_algo_at(size_t i);
/* The row of an id, or NULL for an unknown (or NULL) id. */
SO_API const so_algo_info *so_algo_find(const char *id);

/* The defaults of the command line and of the library's *_default() functions. */
#define SO_DEFAULT_ALGO "signum"         /* single-node (so_optim_config_default, so_run_config_default) */
#define SO_DEFAULT_DIST_ALGO "mv-signum" /* distributed (so_dist_config_default) */

#ifdef __cplusplus
}
#endif
#endif
