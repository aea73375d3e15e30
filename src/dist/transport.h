/* transport.h — the inside of a so_transport: its operations (so_transport_ops, public in signopt/dist.h, where
 * their contract is stated) and where this process sits among the workers. The transports know nothing of
 * optimizers; the cluster (cluster.c, algos.c) is written on top of them. The in-process transport hosts all n
 * workers, so its exchanges are copies at most; the MPI transport hosts one worker per rank. */
#ifndef SO_DIST_TRANSPORT_H
#define SO_DIST_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include "signopt/dist.h"

struct so_transport {
    const so_transport_ops *ops; /* points at own_ops */
    so_transport_ops own_ops;
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

/* ops->alltoall, or where a transport has none, the same blocks moved by one gather(to_all = 1) of every hosted
 * worker's n blocks (n times the bytes; the results are the same). */
int so__transport_alltoall(so_transport *t, void *recv, const void *send, size_t block);

/* FNV-1a, 64 bits: the hash behind the configuration checks. */
uint64_t so__hash_bytes(uint64_t h, const void *bytes, size_t size);
#define SO_HASH_INIT 0xcbf29ce484222325ull

#endif
