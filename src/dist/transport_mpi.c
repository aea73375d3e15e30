/* transport_mpi.c — one worker per MPI rank (worker j = rank j of the caller's communicator), on a private
 * duplicate of it so that our collectives never match the caller's (signopt/mpi.h). Parameter-server rounds use
 * MPI_Gather to rank 0 and MPI_Bcast; decentralized rounds MPI_Allgather; sharded rounds MPI_Alltoall and
 * MPI_Allgather of the shard results. The fp32 mean is a fixed-order reduce-scatter (MPI_Alltoall, then a sum in
 * rank order) and an MPI_Allgather, not MPI_Allreduce, so that it equals the in-process sum bit for bit. MPI errors are returned
 * (MPI_ERRORS_RETURN) as SO_ECOMM with MPI's own message.
 *
 * Built into its own library (libsignopt_mpi) on the public transport interface (so_transport_create), so that
 * libsignopt itself needs no MPI. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "signopt/mpi.h"

typedef struct mpi_impl {
    int n, rank;
    MPI_Comm comm;
    float *scratch;      /* n * len floats for the ordered sum, grown on demand */
    size_t scratch_len;
    int32_t *present;    /* n presence flags of the ordered sum */
} mpi_impl;

static int mpi_fail(int err, const char *call)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "error %d", err);
    return so_error(SO_ECOMM, "mpi: %s failed: %s", call, text);
}

/* MPI counts are ints; refuse a message that does not fit rather than truncate it. */
static int fits(size_t per_worker, int n, const char *call)
{
    if (per_worker > (size_t)INT_MAX / (size_t)n)
        return so_error(SO_ECOMM, "mpi: %s: %zu bytes per rank x %d ranks exceed one MPI call", call, per_worker, n);
    return SO_OK;
}

static int mpi_gather(so_transport *t, void *all, const void *mine, size_t per_worker, int to_all)
{
    mpi_impl *m = so_transport_impl(t);
    int rc = fits(per_worker, m->n, "gather");
    if (rc != SO_OK) return rc;
    int cnt = (int)per_worker;
    unsigned char *slot = all ? (unsigned char *)all + (size_t)m->rank * per_worker : NULL;
    const void *send = (slot && mine == slot) ? MPI_IN_PLACE : mine;
    int err;
    if (to_all) {
        err = MPI_Allgather(send, cnt, MPI_BYTE, all, cnt, MPI_BYTE, m->comm);
        return err == MPI_SUCCESS ? SO_OK : mpi_fail(err, "MPI_Allgather");
    }
    /* MPI_IN_PLACE is the root's privilege in MPI_Gather; the other ranks always send their own buffer. */
    if (m->rank != 0) send = mine;
    err = MPI_Gather(send, cnt, MPI_BYTE, all, cnt, MPI_BYTE, 0, m->comm);
    return err == MPI_SUCCESS ? SO_OK : mpi_fail(err, "MPI_Gather");
}

static int mpi_scatter(so_transport *t, void *mine, const void *all, size_t per_worker)
{
    mpi_impl *m = so_transport_impl(t);
    int rc = fits(per_worker, m->n, "scatter");
    if (rc != SO_OK) return rc;
    int cnt = (int)per_worker;
    void *recv = (m->rank == 0 && mine == all) ? MPI_IN_PLACE : mine;
    int err = MPI_Scatter(all, cnt, MPI_BYTE, recv, cnt, MPI_BYTE, 0, m->comm);
    return err == MPI_SUCCESS ? SO_OK : mpi_fail(err, "MPI_Scatter");
}

static int mpi_bcast(so_transport *t, void *buf, size_t size)
{
    mpi_impl *m = so_transport_impl(t);
    unsigned char *b = buf;
    /* Large blocks (checkpoints) go in pieces that fit an int count. */
    for (size_t off = 0; off < size;) {
        size_t piece = size - off < (size_t)1 << 30 ? size - off : (size_t)1 << 30;
        int err = MPI_Bcast(b + off, (int)piece, MPI_BYTE, 0, m->comm);
        if (err != MPI_SUCCESS) return mpi_fail(err, "MPI_Bcast");
        off += piece;
    }
    return SO_OK;
}

/* acc is (len, equal on every rank); each rank contributes one vector (its worker's) or none. A reduce-scatter in
 * fixed order then an allgather: rank r owns floats [r S, (r + 1) S), S = ceil(len / n); an all-to-all brings it
 * every rank's piece of its share, it adds them to acc's share in rank order (skipping absent ranks), exactly the
 * additions the in-process transport makes in worker order, and the shares are all-gathered. Each rank sends and
 * receives about 2 (n-1)/n len floats, as a ring allreduce does, instead of the n len a gather to one rank takes;
 * the bits are the in-process sum's. to_all = 0 is the same (every rank needs the mean anyway). */
static int mpi_sum_ordered(so_transport *t, float *acc, const float *const *vecs, int count, size_t len, int to_all)
{
    (void)to_all;
    mpi_impl *m = so_transport_impl(t);
    if (count != 1) return so_error(SO_EINVAL, "mpi: a rank contributes one worker's vector, got %d", count);
    size_t n = (size_t)m->n, S = (len + n - 1) / n;
    int rc = fits(S * sizeof(float), m->n, "ordered sum");
    if (rc != SO_OK) return rc;
    size_t need = 2 * n * S; /* send blocks, then received blocks */
    if (need > m->scratch_len) {
        float *s = realloc(m->scratch, need * sizeof *s);
        if (!s) return so_error(SO_ENOMEM, "mpi: out of memory for %zu floats", need);
        m->scratch = s;
        m->scratch_len = need;
    }
    float *sendb = m->scratch, *recvb = m->scratch + n * S;
    int32_t here = vecs[0] != NULL;
    int err = MPI_Allgather(&here, 1, MPI_INT32_T, m->present, 1, MPI_INT32_T, m->comm);
    if (err != MPI_SUCCESS) return mpi_fail(err, "MPI_Allgather");
    const float *v = vecs[0] ? vecs[0] : acc; /* an absent rank still takes part; its bytes are skipped */
    memset(sendb + (len < n * S ? len : n * S), 0, (n * S - len) * sizeof *sendb);
    memcpy(sendb, v, len * sizeof *sendb);
    err = MPI_Alltoall(sendb, (int)S, MPI_FLOAT, recvb, (int)S, MPI_FLOAT, m->comm);
    if (err != MPI_SUCCESS) return mpi_fail(err, "MPI_Alltoall");
    size_t lo = (size_t)m->rank * S, hi = lo + S < len ? lo + S : len;
    float *share = sendb; /* reused: this rank's share of the sum, S floats */
    memset(share, 0, S * sizeof *share);
    if (lo < hi) memcpy(share, acc + lo, (hi - lo) * sizeof *share);
    for (size_t r = 0; r < n; r++) {
        if (!m->present[r]) continue;
        const float *restrict q = recvb + r * S;
        float *restrict a = share;
        for (size_t i = 0; i < hi - lo && lo < hi; i++) a[i] += q[i];
    }
    /* recvb <- every rank's share, then acc <- the first len floats */
    err = MPI_Allgather(share, (int)S, MPI_FLOAT, recvb, (int)S, MPI_FLOAT, m->comm);
    if (err != MPI_SUCCESS) return mpi_fail(err, "MPI_Allgather");
    memcpy(acc, recvb, len * sizeof *acc);
    return SO_OK;
}

/* One worker per rank: MPI_Alltoall of equal blocks. */
static int mpi_alltoall(so_transport *t, void *recv, const void *send, size_t block)
{
    mpi_impl *m = so_transport_impl(t);
    int rc = fits(block, m->n, "all-to-all");
    if (rc != SO_OK) return rc;
    int err = MPI_Alltoall(send, (int)block, MPI_BYTE, recv, (int)block, MPI_BYTE, m->comm);
    return err == MPI_SUCCESS ? SO_OK : mpi_fail(err, "MPI_Alltoall");
}

static int mpi_allreduce_sum(so_transport *t, float *buf, size_t len)
{
    mpi_impl *m = so_transport_impl(t);
    if (len > (size_t)INT_MAX) return so_error(SO_ECOMM, "mpi: allreduce of %zu floats exceeds one MPI call", len);
    int err = MPI_Allreduce(MPI_IN_PLACE, buf, (int)len, MPI_FLOAT, MPI_SUM, m->comm);
    return err == MPI_SUCCESS ? SO_OK : mpi_fail(err, "MPI_Allreduce");
}

static void impl_free(mpi_impl *m)
{
    if (!m) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && m->comm != MPI_COMM_NULL) MPI_Comm_free(&m->comm);
    free(m->scratch);
    free(m->present);
    free(m);
}

static void mpi_destroy(so_transport *t) { impl_free(so_transport_impl(t)); }

static const so_transport_ops mpi_ops = {
    mpi_gather, mpi_scatter, mpi_bcast, mpi_sum_ordered, mpi_allreduce_sum, mpi_destroy, mpi_alltoall,
};

so_transport *so_transport_mpi_comm(MPI_Comm comm)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        so_error(SO_EINVAL, "transport: MPI is not initialized (call MPI_Init first)");
        return NULL;
    }
    if (comm == MPI_COMM_NULL) {
        so_error(SO_EINVAL, "transport: MPI_COMM_NULL is not a communicator");
        return NULL;
    }
    mpi_impl *m = calloc(1, sizeof *m);
    if (!m) {
        so_error(SO_ENOMEM, "transport: out of memory");
        return NULL;
    }
    m->comm = MPI_COMM_NULL;
    int err = MPI_Comm_dup(comm, &m->comm);
    if (err != MPI_SUCCESS) {
        mpi_fail(err, "MPI_Comm_dup");
        m->comm = MPI_COMM_NULL;
        impl_free(m);
        return NULL;
    }
    MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN);
    MPI_Comm_size(m->comm, &m->n);
    MPI_Comm_rank(m->comm, &m->rank);
    m->present = malloc((size_t)m->n * sizeof *m->present);
    if (!m->present) {
        impl_free(m);
        so_error(SO_ENOMEM, "transport: out of memory");
        return NULL;
    }
    so_transport *t = so_transport_create(&mpi_ops, m, m->n, m->rank, m->rank, 1);
    if (!t) impl_free(m);
    return t;
}

so_transport *so_transport_mpi(void) { return so_transport_mpi_comm(MPI_COMM_WORLD); }
