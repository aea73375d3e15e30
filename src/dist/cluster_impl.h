/* cluster_impl.h — the inside of a so_cluster, shared by the round skeleton (cluster.c), the algorithms
 * (algos.c) and the checkpoint code (cluster_state.c). */
#ifndef SO_DIST_CLUSTER_IMPL_H
#define SO_DIST_CLUSTER_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "signopt/dist.h"
#include "transport.h"

/* What a worker sends up. */
enum { SO_UP_SIGN, SO_UP_STOCHASTIC, SO_UP_FP32 };
/* What the server (or every rank, allgather) makes of the messages. */
enum { SO_SERVER_MAJORITY, SO_SERVER_STOCHASTIC, SO_SERVER_MEAN };

/* One distributed algorithm as data: the round skeleton reads these flags, so each rule is written once. */
typedef struct so__dist_algo {
    const char *id;
    const char *optim_id;       /* SO_UP_FP32: the single-node rule applied to the mean gradient */
    int uplink;                 /* SO_UP_*: sign(v), S_R(v), or the fp32 gradient */
    int momentum;               /* the worker sends (a sign of) m_j <- beta m_j + (1 - beta) g_j, not g_j */
    so_momentum_init init;      /* the id's default start of m_j */
    int extrapolate;            /* gradients at y = x + alpha (x - x_prev) (001 Alg 2 step 1) */
    int local_steps;            /* K local SGD steps before the momentum gradient (001 Alg 3) */
    int server;                 /* SO_SERVER_* */
    int norm_channel;           /* the worker also sends ||g_j||_1 as one float; x moves by alpha M_t (004 Alg 3) */
} so__dist_algo;

/* One worker's report of a round, gathered to every rank: the metrics and whether it failed. */
typedef struct so__worker_stat {
    double loss;   /* minibatch loss of the round's gradient */
    double linf;   /* largest ||g||_inf among the gradients it took this round */
    int32_t rc;    /* SO_OK or the worker's error */
    int32_t pad;
} so__worker_stat;

struct so_cluster {
    so_cluster_config cfg;
    char algo_id[32];
    const so__dist_algo *algo;
    so_momentum_init init;    /* resolved: the id's default or cfg.momentum_init */
    so_problem *p;
    so_transport *t;
    int n, first, count;      /* workers; the hosted ones are [first, first + count) */
    int threads;
    size_t d, words;          /* dimension; packed words per message */
    long round;

    /* this round, on every rank */
    unsigned char *present;   /* n: worker j takes part (dropout) */
    int n_present;
    uint64_t *msgs;           /* n * words: worker j's packed message in slot j */
    const uint64_t **rows;    /* n: the vote's rows (NULL = absent) */
    uint64_t *down;           /* downlink: sign words, zero words, one word carrying the float M_t */
    size_t down_words;
    float *norms;             /* n: ||g_j||_1 (norm_channel) */
    so__worker_stat *stats;   /* n */
    char errmsg[256];         /* message of the first failing hosted worker (set on a worker thread) */

    /* extrapolation (001 Alg 2), only when alpha != 0 */
    float *x_prev;            /* d */
    float *y;                 /* d */
    int have_prev;

    /* per hosted worker: only what the algorithm needs */
    float *mom;               /* count * d (momentum algorithms) */
    unsigned char *started;   /* count: m_j has seen a gradient (first-grad start) */

    /* per thread: never per worker, so a thousand workers cost a thousand messages, not gradients */
    float *grad;              /* threads * d */
    float *z;                 /* threads * d: the local iterate (federated) */
    so_workspace **ws;        /* threads */

    /* fp32 baselines */
    float *acc;               /* d: the ordered sum, then the mean */
    so_optim *opt;

    /* metrics, identical on every rank */
    uint64_t up_total, down_total;  /* bits summed over workers */
    double g_linf, last_loss;
};

const so__dist_algo *so__dist_algo_find(const char *id);

/* Worker j's part of round `step`: its gradient(s) at `point`, its state, and its message (packed into
 * msgs[j], or left in g for fp32 rules), corrupted if j is Byzantine. g and z are the calling thread's
 * scratch (d floats each), ws its workspace. Fills stats[j] and norms[j]. */
int so__worker_round(so_cluster *c, int j, uint32_t step, const float *point, float *g, float *z,
                     so_workspace *ws);
/* The server's part: the downlink (c->down) from the present workers' messages. */
void so__server_decide(so_cluster *c, uint32_t step);
/* Bits one present worker sends up and receives down in a round with m present workers. */
void so__round_bits(const so_cluster *c, int m, uint64_t *up, uint64_t *down);

#endif
