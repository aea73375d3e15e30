/* cluster_impl.h — the inside of a so_cluster, shared by the round skeleton (cluster.c), the algorithms
 * (algos.c) and the checkpoint code (cluster_state.c). */
#ifndef SO_DIST_CLUSTER_IMPL_H
#define SO_DIST_CLUSTER_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "signopt/dist.h"
#include "transport.h"
#include "../core/registry.h"

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
    const so__algo *algo;     /* the id's row of the registry */
    so_momentum_init init;    /* resolved: the id's default or cfg.optim.momentum_init */
    double alpha;             /* resolved extrapolation (auto: 0) */
    so_problem *p;
    so_transport *t;
    int n, first, count;      /* workers; the hosted ones are [first, first + count) */
    int threads;
    size_t d, words;          /* dimension; packed words of a sign vector */
    size_t mwords;            /* words per uplink message: words, or 2 words with zero_vote abstain (signs, then a
                               * mask of the exact zeros) */
    long round;

    /* this round, on every rank */
    unsigned char *present;   /* n: worker j takes part (dropout) */
    int n_present;
    uint64_t *msgs;           /* n * mwords: worker j's packed message in slot j */
    const uint64_t **rows;    /* n (2n with zero_vote abstain): the vote's rows (NULL = absent) */
    uint64_t *neg;            /* zero_vote abstain, n * words: worker j's signs with its zeros voting -1 */
    uint64_t *down;           /* downlink: sign words, zero words, one word carrying the float M_t */
    size_t down_words;
    float *norms;             /* n: ||g_j||_1 (norm_channel) */
    so__worker_stat *stats;   /* n */
    char errmsg[256];         /* message of the first failing hosted worker (set on a worker thread) */

    /* the sharded pattern: shard s is words [s L, min(words, (s + 1) L)) of every message, voted by worker s */
    size_t shard;             /* L, even */
    uint64_t *sh_send;        /* count * n * L: hosted worker k's shard s at (k n + s) L */
    uint64_t *sh_recv;        /* count * n * L: worker j's part of hosted shard first + k at (k n + j) L */
    uint64_t *sh_res;         /* count * 2L: the hosted shards' sign and zero words */
    uint64_t *sh_all;         /* n * 2L: every shard's result */

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

/* Worker j's part of round `step`: its gradient(s) at `point`, its state, and its message (packed into
 * msgs[j], or left in g for fp32 rules), corrupted if j is Byzantine. g and z are the calling thread's
 * scratch (d floats each), ws its workspace. Fills stats[j] and norms[j]. */
int so__worker_round(so_cluster *c, int j, uint32_t step, const float *point, float *g, float *z,
                     so_workspace *ws);
/* The server's part: the downlink (c->down) from the present workers' messages. */
void so__server_decide(so_cluster *c, uint32_t step);
/* Bits one present worker sends up and receives down in a round with m present workers. */
void so__round_bits(const so_cluster *c, int m, uint64_t *up, uint64_t *down);

/* Where round c->round's gradients are taken: y <- x + alpha (x - x_prev) and 1 when the algorithm extrapolates
 * and has a previous iterate; 0 (y untouched) when it is x. */
int so__cluster_point(const so_cluster *c, const float *x, float *y);

/* This process's part of the state (so_dist_optim_save/load): not collective. */
size_t so__cluster_local_state_size(const so_cluster *c);
int so__cluster_save_local(const so_cluster *c, void *buf, size_t size);
int so__cluster_load_local(so_cluster *c, const void *buf, size_t size);

#endif
