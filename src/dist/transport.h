/* transport.h — the inside of a so_transport: the few collectives that move bytes between the processes that
 * host workers. They know nothing of optimizers; the cluster (cluster.c, algos.c) is written on top of them.
 *
 * Every call is collective: every process calls it with the same sizes, in the same order. Blocks are per
 * WORKER: `all` holds n blocks in worker order, and a process supplies the blocks of the workers it hosts,
 * [first, first + count). The in-process transport hosts all n workers, so its exchanges are copies at most;
 * the MPI transport hosts one worker per rank (worker j = rank j). */
#ifndef SO_DIST_TRANSPORT_H
#define SO_DIST_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include "signopt/dist.h"

typedef struct so_transport_ops {
    /* all (n * per_worker bytes) <- every worker's block; `mine` holds this process's count blocks (it may be
     * all + first * per_worker itself). The result lands on the root only (to_all = 0: MPI_Gather, for the
     * parameter server) or on every process (to_all = 1: MPI_Allgather). all may be NULL off the root when
     * to_all = 0. */
    int (*gather)(so_transport *t, void *all, const void *mine, size_t per_worker, int to_all);
    /* mine (count blocks) <- the root's all (n blocks); the inverse of gather (checkpoint loads). */
    int (*scatter)(so_transport *t, void *mine, const void *all, size_t per_worker);
    /* buf <- the root's buf. */
    int (*bcast)(so_transport *t, void *buf, size_t size);
    /* acc (len floats, equal on every process on entry) += the present workers' vectors summed in worker order
     * 0..n-1, whichever process hosts them; vecs[k] is the vector of this process's k-th contributed worker of
     * this call (NULL: absent, skipped). The order is fixed so that every transport gives the same bits (never
     * MPI_Allreduce, whose summation order is unspecified). to_all = 0: summed on the root, then broadcast. */
    int (*sum_ordered)(so_transport *t, float *acc, const float *const *vecs, int count, size_t len, int to_all);
    /* buf <- the sum over processes of buf (MPI_Allreduce): fast, order unspecified; the benchmark only. */
    int (*allreduce_sum)(so_transport *t, float *buf, size_t len);
    void (*destroy)(so_transport *t);
} so_transport_ops;

struct so_transport {
    const so_transport_ops *ops;
    int n;           /* workers */
    int rank;        /* this process (0 in-process) */
    int first;       /* hosted workers [first, first + count) */
    int count;
    int in_process;  /* 1: every worker lives in this process, so there is nothing to check or move */
    void *impl;
};

/* Check, in one collective, that every process holds the same k hashes (named fields of a configuration):
 * SO_ECOMM "rank K: configuration differs from rank 0 (name)" on every process when some rank differs,
 * K the first such rank and name its first differing field. */
int so__transport_check_fields(so_transport *t, const uint64_t *hashes, const char *const *names, int k);

/* FNV-1a, 64 bits: the hash behind the configuration checks. */
uint64_t so__hash_bytes(uint64_t h, const void *bytes, size_t size);
#define SO_HASH_INIT 0xcbf29ce484222325ull

#endif
