/* signopt/dist.h — distributed sign methods over a transport (docs/algorithms.md, "Distributed methods").
 *
 * Ids: mv-signsgd mv-signum sto-signsgd mv-sto-signsgd-sim fed-mv-sto-signsgd-sim mvsm-v1 mvsm-v2
 * mv-scaled-signsgd dist-sgd dist-sgdm dist-adamw (rows of the registry, signopt/algos.h). Each is written once
 * (src/dist/algos.c) against the transport interface; the transports (in-process: src/dist/transport_local.c;
 * MPI: src/dist/transport_mpi.c, declared in signopt/mpi.h; yours: so_transport_create) know nothing of
 * optimizers. All workers keep identical x.
 *
 * Two shapes: so_cluster runs whole rounds on a so_problem (the library takes each hosted worker's gradients);
 * so_dist_optim is the per-rank optimizer for programs that compute their own gradients (Horovod's
 * DistributedOptimizer shape): each process hands in its workers' gradients and gets the same x back. Both give
 * the same iterates bit for bit for the same gradients.
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
 *   up   = d (sign methods), + d for the zero mask with zero_vote = SO_ZERO_VOTE_ABSTAIN, + 32 for
 *          mv-scaled-signsgd's ||g||_1 float; 32 d for dist-*;
 *   down = d, + d for the "zero" bit when ties = zero, the server takes a majority vote (not mvsm-v2) and a tie is
 *          possible (the present count m is even, or zeros abstain), + 32 for mv-scaled-signsgd's M_t; 32 d for
 *          dist-*.
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
    SO_PATTERN_ALLGATHER = 1, /* decentralized: allgather the 1-bit messages, every rank votes */
    /* sharded: worker s owns the coordinates of packed words [s L, (s + 1) L), L = ceil(words / n) rounded up to
     * even; an all-to-all brings it every worker's bits of its shard, it votes them (with the global words' random
     * draws), and the shards' 1- or 2-bit results are all-gathered. Per-rank traffic ~ (n-1)/n d (1 + D) bits each
     * way, flat in n; the same x as the other patterns bit for bit. */
    SO_PATTERN_SHARDED = 2
} so_pattern;

/* n in-process workers in one process (they are run on `threads` threads by the cluster). */
SO_API so_transport *so_transport_local(int n_workers);
/* Destroy a transport (an MPI one before MPI_Finalize: it frees its communicator). */
SO_API void so_transport_destroy(so_transport *t);
SO_API int so_transport_workers(const so_transport *t);      /* n */
SO_API int so_transport_rank(const so_transport *t);         /* this process's rank (0 in-process) */
SO_API int so_transport_is_root(const so_transport *t);      /* rank 0: writes files */
/* The workers this process hosts: [*first, *first + *count). */
SO_API void so_transport_local_workers(const so_transport *t, int *first, int *count);
/* Check that every rank holds the same bytes (a hash of the configuration); SO_ECOMM with the message
 * "rank K: configuration differs from rank 0 (what)" on every rank, K the first rank that differs. Collective. */
SO_API int so_transport_check_same(so_transport *t, const void *bytes, size_t size, const char *what);
/* The same check for k fields at once (one broadcast and one allgather): hashes[i] is this rank's hash of field i,
 * names[i] its name; SO_ECOMM "rank R: configuration differs from rank 0 (NAME)" naming the first field that differs
 * on the first such rank, on every rank. */
SO_API int so_transport_check_fields(so_transport *t, const uint64_t *hashes, const char *const *names, int k);
/* Raw collectives, for benchmarks and tools (the cluster does not need them). Collective on every rank.
 * allgather: all (n * per_worker bytes, worker order) <- every worker's block; mine holds this process's
 * hosted workers' blocks (it may point into all). */
SO_API int so_transport_allgather(so_transport *t, void *all, const void *mine, size_t per_worker);
/* buf <- the elementwise sum over ranks (MPI_Allreduce). For the benchmark only: the summation order is MPI's
 * and unspecified, so results are not bit-reproducible; the cluster's fp32 mean never uses it.
 * SO_EUNSUPPORTED where the transport has no such operation. */
SO_API int so_transport_allreduce_sum(so_transport *t, float *buf, size_t len);

/* Your own transport (over another message layer: sockets, torch.distributed, a simulator). Every operation is
 * collective: every process calls it with the same sizes in the same order. Blocks are per WORKER: `all` holds
 * n blocks in worker order, and a process supplies the blocks of the workers it hosts, [first, first + count).
 * Each returns SO_OK or an error code set with so_error (SO_ECOMM for a failed exchange). */
typedef struct so_transport_ops {
    /* all (n * per_worker bytes) <- every worker's block; `mine` holds this process's count blocks (it may be
     * all + first * per_worker itself). The result lands on rank 0 only (to_all = 0: a gather, for the parameter
     * server) or on every process (to_all = 1: an allgather). all may be NULL off rank 0 when to_all = 0. */
    int (*gather)(so_transport *t, void *all, const void *mine, size_t per_worker, int to_all);
    /* mine (count blocks) <- rank 0's all (n blocks); the inverse of gather (checkpoint loads). */
    int (*scatter)(so_transport *t, void *mine, const void *all, size_t per_worker);
    /* buf <- rank 0's buf. */
    int (*bcast)(so_transport *t, void *buf, size_t size);
    /* acc (len floats, equal on every process on entry) += the present workers' vectors summed in worker order
     * 0..n-1, whichever process hosts them; vecs[k] is the vector of this process's k-th worker of this call
     * (NULL: absent, skipped). The order is fixed so that every transport gives the same bits. to_all = 0: the
     * sum may be formed on rank 0 only and then broadcast. */
    int (*sum_ordered)(so_transport *t, float *acc, const float *const *vecs, int count, size_t len, int to_all);
    /* Optional (NULL): buf <- the sum over processes of buf, in any order (so_transport_allreduce_sum). */
    int (*allreduce_sum)(so_transport *t, float *buf, size_t len);
    /* Free the transport's own state (so_transport_impl); the library frees the so_transport itself. May be
     * NULL. */
    void (*destroy)(so_transport *t);
    /* Optional (NULL: the library emulates it with gather(to_all = 1), moving n times the bytes): an all-to-all
     * between workers. send holds count * n blocks, hosted worker k's block for worker s at (k n + s) * block;
     * recv gets count * n blocks, worker j's block for hosted worker k at (k n + j) * block (MPI_Alltoall with one
     * worker per rank). Used by SO_PATTERN_SHARDED. */
    int (*alltoall)(so_transport *t, void *recv, const void *send, size_t block);
} so_transport_ops;

/* A transport of n workers of which this process (rank) hosts [first, first + count). ops are copied, impl is
 * handed back by so_transport_impl and freed by ops->destroy. NULL with so_errmsg() on bad sizes or a missing
 * operation (SO_EINVAL). */
SO_API so_transport *so_transport_create(const so_transport_ops *ops, void *impl, int n, int rank, int first,
                                         int count);
SO_API void *so_transport_impl(const so_transport *t);

/* ---- The distributed configuration: the optimizer's, plus what only many workers have ---- */
typedef struct so_cluster_config {
    /* optim.algo: a distributed id. optim.lr: gamma / eta / alpha per round (schedule applied); optim.beta: theta,
     * the weight of the old momentum value; optim.beta2, eps: dist-adamw; optim.weight_decay: dist-*;
     * optim.nesterov: dist-sgdm; optim.momentum_init: AUTO takes the id's own start (so_algo_info); optim.alpha:
     * mv-sto-signsgd-sim's extrapolation y = x + alpha (x - x_prev), < 0 (auto) meaning 0; optim.schedule.
     * optim.lr_vec must be NULL (per-coordinate rates are single-node). */
    so_optim_config optim;
    double R;              /* stochastic-sign bound (sto-signsgd, *-sim; mvsm: G) */
    int local_steps;       /* fed-mv-sto-signsgd-sim K */
    double local_lr;       /* fed-mv-sto-signsgd-sim eta_local */
    so_ties ties;
    int byzantine;         /* f adversarial workers (the last f ids) */
    int byzantine_random;  /* 0: send -sign (flip); 1: random signs */
    double dropout;        /* each worker absent from a round with this probability */
    so_pattern pattern;
    int threads;           /* worker threads for in-process workers (results do not depend on it); 0: OpenMP's */
    uint64_t seed;
    /* dist-*: 0 (default) sums the fp32 gradients in worker order (reduce-scatter + allgather over MPI: the same
     * bits on every transport); 1 uses the transport's allreduce (MPI_Allreduce, what DDP and Horovod do: fastest,
     * summation order unspecified, so not bit-reproducible across transports) - for timing comparisons. */
    int fp32_allreduce;
    /* The deterministic sign uplink's vote for an exact zero (so_zero_vote, sign.h): SO_ZERO_VOTE_PLUS (default,
     * +1), ABSTAIN (a second uplink bit marks zeros; not with the sharded pattern), RANDOM. Other uplinks refuse a
     * value other than PLUS (the stochastic sign already draws p = 1/2 for a zero). */
    so_zero_vote zero_vote;
} so_cluster_config;

/* Defaults, the same as the command line's: optim as so_optim_config_default with algo SO_DEFAULT_DIST_ALGO
 * ("mv-signum"); R 1e-3 (001 sec. 4.2), K 5, local lr 1e-2, ties zero, no faults, PS pattern, 1 thread, seed 1. */
SO_API void so_cluster_config_default(so_cluster_config *c);

/* ---- Cluster: n workers running one distributed algorithm on a problem ---- */
typedef struct so_cluster so_cluster;

/* Create a cluster for the problem's workers (a problem serving a fixed number of workers must serve the
 * transport's n). The problem and transport are borrowed and must outlive the cluster. Collective: every rank
 * first checks that all ranks hold the same configuration (SO_ECOMM "rank K: configuration differs from rank 0
 * (field)"). Returns NULL with so_errmsg() set on error: SO_EINVAL for an unknown id, a workers mismatch, beta
 * outside [0,1), R <= 0, alpha < 0, K < 1, dropout outside [0,1], f outside [0,n]. */
SO_API so_cluster *so_cluster_create(const so_cluster_config *cfg, so_problem *p, so_transport *t);
SO_API void so_cluster_destroy(so_cluster *c);

/* One round t (the cluster counts): every worker takes its gradient(s), encodes its message, the transport
 * moves it, the server (or every rank) decides, and x is updated identically everywhere. Collective. A worker's
 * failure (including a NaN/Inf gradient, SO_ENUMERIC) fails the round on every rank. */
SO_API int so_cluster_round(so_cluster *c, float *x);

/* Cumulative bits sent per worker since round 0, uplink and downlink, side channels included. */
SO_API void so_cluster_bits(const so_cluster *c, uint64_t *up, uint64_t *down);
/* Bits per worker per round the algorithm sends with all n workers present (zero-bit downlink counted when the
 * tie rule is zero and a tie is possible; see "Bit accounting" above). */
SO_API void so_cluster_bits_per_round(const so_cluster *c, uint64_t *up, uint64_t *down);
/* Largest ||g||_inf of the stochastic gradients any worker saw so far (000 App. E.3). */
SO_API double so_cluster_g_linf(const so_cluster *c);
/* Mean minibatch loss of the last round's gradients (over present workers). */
SO_API double so_cluster_last_loss(const so_cluster *c);
SO_API long so_cluster_round_count(const so_cluster *c);

/* Checkpoint support: the whole state (every worker's buffers, round counter, x_prev, bit counters), as bytes;
 * the same size on every rank. Collective. With MPI save writes buf on the root only (other ranks may pass
 * NULL) and load reads it on the root only and scatters each worker's part; load refuses (SO_EFORMAT) a state
 * of another algorithm, n or d. */
SO_API size_t so_cluster_state_size(const so_cluster *c);
SO_API int so_cluster_save(so_cluster *c, void *buf, size_t size);
SO_API int so_cluster_load(so_cluster *c, const void *buf, size_t size);

SO_API const char *const *so_dist_algos(void);
SO_API int so_dist_is_algo(const char *id);

/* ---- The per-rank optimizer: your program computes the gradients, signopt does the rest ---- */
typedef struct so_dist_optim so_dist_optim;

/* An optimizer for this process's share of n workers (so_transport_workers(t); over MPI one worker per rank, made
 * with so_transport_mpi_comm on your communicator), d parameters laid out as the tensors (NULL/0: one). Collective
 * (the ranks check that they agree, as so_cluster_create). The transport is borrowed. NULL with so_errmsg() on
 * error. */
SO_API so_dist_optim *so_dist_optim_create(const so_cluster_config *cfg, size_t d, const so_tensor *tensors,
                                           size_t ntensors, so_transport *t);
SO_API void so_dist_optim_destroy(so_dist_optim *o);
/* Where this round's gradients must be taken: writes y (d floats) and returns 1 when it is not x
 * (mv-sto-signsgd-sim and its federated form with alpha > 0: y = x + alpha (x - x_prev)); returns 0 and leaves y
 * alone when it is x itself. */
SO_API int so_dist_optim_grad_point(const so_dist_optim *o, const float *x, float *y);
/* One round, collective: g holds the gradients of the workers this process hosts, count * d floats in worker
 * order (over MPI: this rank's one gradient), taken at the point so_dist_optim_grad_point named, on round
 * so_dist_optim_round's minibatch. signopt updates each worker's state, packs, exchanges, votes and steps x
 * (d floats, the same on every process before and after). The gradient of an absent worker (dropout) is not
 * read. fed-mv-sto-signsgd-sim takes K + 1 gradients a round at points only it knows: use so_dist_optim_step_fn.
 * SO_ENUMERIC (on every rank) when a gradient is not finite. */
SO_API int so_dist_optim_step(so_dist_optim *o, float *x, const float *g);
/* The same round, asking fn for each gradient a hosted worker needs (q->sub: 0 the round's, 1..K the local
 * steps'); works for every id. */
SO_API int so_dist_optim_step_fn(so_dist_optim *o, float *x, so_grad_fn fn, void *user);
/* Rounds taken (the next round's t), and cumulative bits per worker as so_cluster_bits. */
SO_API long so_dist_optim_round(const so_dist_optim *o);
SO_API void so_dist_optim_bits(const so_dist_optim *o, uint64_t *up, uint64_t *down);
/* This process's state as bytes (its workers' momentum, the round counter, x_prev, bit counters and the fp32
 * baselines' optimizer state): per rank, not collective; a load refuses (SO_EFORMAT) a state of another
 * algorithm, n, d or worker range. Save on every rank and load on every rank to resume. */
SO_API size_t so_dist_optim_state_size(const so_dist_optim *o);
SO_API int so_dist_optim_save(const so_dist_optim *o, void *buf, size_t size);
SO_API int so_dist_optim_load(so_dist_optim *o, const void *buf, size_t size);

/* ---- Network cost model: predicted communication seconds per round ---- */
typedef struct so_netcost {
    double ps_1bit;        /* 1-bit parameter server: n uplinks into one server link, one broadcast */
    double allgather_1bit; /* ring allgather of n d-bit messages */
    double ring_fp32;      /* ring allreduce of d fp32 values */
} so_netcost;
/* n workers, d coordinates, link bandwidth in bits/s, latency in s; down_bits per coordinate (1 or 2). */
SO_API void so_netcost_predict(so_netcost *out, int n, size_t d, double bandwidth_bps, double latency_s,
                               int down_bits);
/* The sharded vote (SO_PATTERN_SHARDED): all-to-all of the packed signs, then allgather of the D-bit shard
 * results: 2 (n-1) latency + (n-1)/n (1 + down_bits) d / bandwidth seconds; 0 for n = 1. */
SO_API double so_netcost_sharded_1bit(int n, size_t d, double bandwidth_bps, double latency_s, int down_bits);

#ifdef __cplusplus
}
#endif
#endif
