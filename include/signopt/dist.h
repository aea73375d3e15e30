/* signopt/dist.h — distributed sign methods over a transport (ALGORITHMS.md, "Distributed methods").
 *
 * Ids: mv-signsgd mv-signum sto-signsgd mv-sto-signsgd-sim fed-mv-sto-signsgd-sim mvsm-v1 mvsm-v2
 * mv-scaled-signsgd dist-sgd dist-sgdm dist-adamw. Each is written once (src/dist/algos.c) against the
 * transport interface; the transports (src/dist/transport_local.c, transport_mpi.c) know nothing of optimizers.
 * All workers keep identical x.
 *
 * A round t (0-based) on every rank: (a) each hosted worker j takes its gradient(s) with so_problem_grad_sub
 * (worker j, step t), updates its own state and encodes its message; every random draw is keyed by
 * (cfg.seed, j, t, stream), so worker j draws the same wherever it runs and whatever the thread count;
 * (b) the transport moves the messages; (c) the vote (root for SO_PATTERN_PS, every rank for ALLGATHER);
 * (d) every rank applies the same update to x. The in-process and MPI transports give the same x bit for bit.
 *
 * Choices the papers leave open, fixed here:
 * - fed-mv-sto-signsgd-sim: the K local steps use minibatch streams sub = 1..K, the momentum gradient at
 *   z^{t,K} the round's ordinary stream sub = 0.
 * - Momentum: m_j <- beta m_j + (1 - beta) g_j in float; first-grad starts m_j = g_j at worker j's first round.
 * - Byzantine workers (the last f ids): flip sends the complement of the honest packed message; random sends
 *   bit_i = (u_i < 1/2), u_i draw i of (seed, j, t, SO_STREAM_BYZANTINE). mv-scaled-signsgd's Byzantine workers
 *   report ||g||_1 honestly. For the fp32 baselines: -g, or |g_i| with those random signs.
 * - Dropout P: worker j is absent from round t iff draw 0 of (seed, j, t, SO_STREAM_DROPOUT) < P. An absent
 *   worker computes nothing, keeps its state, sends and receives nothing; the vote and the means are over the
 *   m present workers. A round with m = 0 takes no step (for dist-* the optimizer's step counter then does not
 *   advance).
 *
 * Bit accounting (per worker per round, parameter-server model whatever the pattern, d = dimension):
 *   up   = d (sign methods), + 32 for mv-scaled-signsgd's ||g||_1 float; 32 d for dist-*;
 *   down = d, + d for the "zero" bit when ties = zero, the server takes a majority vote (not mvsm-v2) and the
 *          present count m is even (a tie is possible only then), + 32 for mv-scaled-signsgd's M_t; 32 d for dist-*.
 * Only present workers count in a round. so_cluster_bits reports the mean over the n workers of their
 * cumulative counts (rounded down), which is every worker's exact count when nobody drops out. */
#ifndef SIGNOPT_DIST_H
#define SIGNOPT_DIST_H

#include <stddef.h>
#include <stdint.h>
#include "core.h"
#include "optim.h"
#include "sign.h"
#include "problem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Transport: moves packed words and floats between workers; one process may host many workers ---- */
typedef struct so_transport so_transport;

typedef enum so_pattern {
    SO_PATTERN_PS = 0,       /* parameter server: gather to rank 0, vote there, broadcast the result */
    SO_PATTERN_ALLGATHER = 1 /* decentralized: allgather the 1-bit messages, every rank votes */
} so_pattern;

/* n in-process workers in one process (they are run on `threads` threads by the cluster). */
so_transport *so_transport_local(int n_workers);
/* One worker per MPI rank on MPI_COMM_WORLD (worker j = rank j; it works on a private duplicate of the
 * communicator); MPI must be initialized by the caller (SO_EINVAL otherwise). SO_EUNSUPPORTED (NULL + message)
 * if built without MPI. MPI failures are returned as SO_ECOMM with MPI's message. */
so_transport *so_transport_mpi(void);
/* Destroy an MPI transport before MPI_Finalize (it frees its communicator). */
void so_transport_destroy(so_transport *t);
int so_transport_workers(const so_transport *t);      /* n */
int so_transport_rank(const so_transport *t);         /* 0 for local */
int so_transport_is_root(const so_transport *t);      /* writes files */
/* The workers this process hosts: [*first, *first + *count). */
void so_transport_local_workers(const so_transport *t, int *first, int *count);
/* Check that every rank holds the same bytes (a hash of the configuration); SO_ECOMM with the message
 * "rank K: configuration differs from rank 0 (what)" on every rank, K the first rank that differs. Collective. */
int so_transport_check_same(so_transport *t, const void *bytes, size_t size, const char *what);
/* Raw collectives, for benchmarks and tools (the cluster does not need them). Collective on every rank.
 * allgather: all (n * per_worker bytes, worker order) <- every worker's block; mine holds this process's
 * hosted workers' blocks (it may point into all). */
int so_transport_allgather(so_transport *t, void *all, const void *mine, size_t per_worker);
/* buf <- the elementwise sum over ranks (MPI_Allreduce). For the benchmark only: the summation order is MPI's
 * and unspecified, so results are not bit-reproducible; the cluster's fp32 mean never uses it. */
int so_transport_allreduce_sum(so_transport *t, float *buf, size_t len);

/* ---- Cluster: n workers running one distributed algorithm ---- */
typedef struct so_cluster_config {
    const char *algo;
    double lr;             /* gamma / eta / alpha (per round, schedule applied) */
    double beta;           /* theta: weight of the old momentum value */
    double beta2, eps, weight_decay;   /* dist-adamw; weight decay for dist-* */
    int nesterov;          /* dist-sgdm */
    so_momentum_init momentum_init;    /* overrides the id's default only when momentum_init_set */
    int momentum_init_set;
    double R;              /* stochastic-sign bound (sto-signsgd, *-sim, mvsm: G) */
    double alpha;          /* mv-sto-signsgd-sim extrapolation y = x + alpha (x - x_prev) */
    int local_steps;       /* fed-mv-sto-signsgd-sim K */
    double local_lr;       /* fed-mv-sto-signsgd-sim eta_local */
    so_ties ties;
    int byzantine;         /* f adversarial workers (the last f ids) */
    int byzantine_random;  /* 0: send -sign (flip); 1: random signs */
    double dropout;        /* each worker absent from a round with this probability */
    so_pattern pattern;
    so_schedule schedule;
    int threads;           /* worker threads for in-process workers (results do not depend on it) */
    uint64_t seed;
} so_cluster_config;

/* Defaults: mv-signsgd, lr 1e-3, beta 0.9, beta2 0.999, eps 1e-8, R 1e-3 (001 sec. 4.2), alpha 0, K 5,
 * local lr 1e-2, ties zero, PS pattern, constant schedule, 1 thread, seed 1. */
void so_cluster_config_default(so_cluster_config *c);

typedef struct so_cluster so_cluster;

/* Create a cluster for the problem's workers (the problem's `workers` must equal the transport's n). The problem
 * and transport are borrowed and must outlive the cluster. Collective: with MPI every rank first checks that all
 * ranks hold the same configuration (SO_ECOMM "rank K: configuration differs from rank 0 (field)"). Returns NULL
 * with so_errmsg() set on error: SO_EINVAL for an unknown id, a workers mismatch, beta outside [0,1), R <= 0,
 * alpha < 0, K < 1, dropout outside [0,1], f outside [0,n]. threads = 0: OpenMP's default. */
so_cluster *so_cluster_create(const so_cluster_config *cfg, so_problem *p, so_transport *t);
void so_cluster_destroy(so_cluster *c);

/* One round t (the cluster counts): every worker takes its gradient(s), encodes its message, the transport
 * moves it, the server (or every rank) decides, and x is updated identically everywhere. Collective. A worker's
 * failure (including a NaN/Inf gradient, SO_ENUMERIC) fails the round on every rank. */
int so_cluster_round(so_cluster *c, float *x);

/* Cumulative bits sent per worker since round 0, uplink and downlink, side channels included. */
void so_cluster_bits(const so_cluster *c, uint64_t *up, uint64_t *down);
/* Bits per worker per round the algorithm sends with all n workers present (zero-bit downlink counted when the
 * tie rule is zero and n is even; see "Bit accounting" above). */
void so_cluster_bits_per_round(const so_cluster *c, uint64_t *up, uint64_t *down);
/* Largest ||g||_inf of the stochastic gradients any worker saw so far (000 App. E.3). */
double so_cluster_g_linf(const so_cluster *c);
/* Mean minibatch loss of the last round's gradients (over present workers). */
double so_cluster_last_loss(const so_cluster *c);
long so_cluster_round_count(const so_cluster *c);

/* Checkpoint support: the whole state (every worker's buffers, round counter, x_prev, bit counters), as bytes;
 * the same size on every rank. Collective. With MPI save writes buf on the root only (other ranks may pass
 * NULL) and load reads it on the root only and scatters each worker's part; load refuses (SO_EFORMAT) a state
 * of another algorithm, n or d. */
size_t so_cluster_state_size(const so_cluster *c);
int so_cluster_save(so_cluster *c, void *buf, size_t size);
int so_cluster_load(so_cluster *c, const void *buf, size_t size);

const char *const *so_dist_algos(void);
int so_dist_is_algo(const char *id);

/* ---- Network cost model: predicted communication seconds per round ---- */
typedef struct so_netcost {
    double ps_1bit;        /* 1-bit parameter server: n uplinks into one server link, one broadcast */
    double allgather_1bit; /* ring allgather of n d-bit messages */
    double ring_fp32;      /* ring allreduce of d fp32 values */
} so_netcost;
/* n workers, d coordinates, link bandwidth in bits/s, latency in s; down_bits per coordinate (1 or 2). */
void so_netcost_predict(so_netcost *out, int n, size_t d, double bandwidth_bps, double latency_s, int down_bits);

#ifdef __cplusplus
}
#endif
#endif
