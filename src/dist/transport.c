/* transport.c — what every transport answers the same way: the public accessors and the configuration check,
 * written once on top of the transport's bcast and gather. */
#include <stdlib.h>
#include <string.h>
#include "transport.h"

uint64_t so__hash_bytes(uint64_t h, const void *bytes, size_t size)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < size; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

so_transport *so_transport_create(const so_transport_ops *ops, void *impl, int n, int rank, int first, int count)
{
    if (!ops || !ops->gather || !ops->scatter || !ops->bcast || !ops->sum_ordered) {
        so_error(SO_EINVAL, "transport: gather, scatter, bcast and sum_ordered are required");
        return NULL;
    }
    if (n < 1 || rank < 0 || first < 0 || count < 1 || first + count > n) {
        so_error(SO_EINVAL, "transport: %d workers with this process hosting [%d, %d) on rank %d: expected n >= 1 "
                 "and a non-empty range inside [0, n)", n, first, first + count, rank);
        return NULL;
    }
    so_transport *t = calloc(1, sizeof *t);
    if (!t) {
        so_error(SO_ENOMEM, "transport: out of memory");
        return NULL;
    }
    t->own_ops = *ops;
    t->ops = &t->own_ops;
    t->impl = impl;
    t->n = n;
    t->rank = rank;
    t->first = first;
    t->count = count;
    t->in_process = count == n;
    return t;
}

void *so_transport_impl(const so_transport *t) { return t->impl; }

void so_transport_destroy(so_transport *t)
{
    if (!t) return;
    if (t->ops->destroy) t->ops->destroy(t);
    free(t);
}

int so_transport_workers(const so_transport *t) { return t->n; }
int so_transport_rank(const so_transport *t) { return t->rank; }
int so_transport_is_root(const so_transport *t) { return t->rank == 0; }

void so_transport_local_workers(const so_transport *t, int *first, int *count)
{
    *first = t->first;
    *count = t->count;
}

int so__transport_check_fields(so_transport *t, const uint64_t *hashes, const char *const *names, int k)
{
    if (t->in_process || k <= 0) return SO_OK;
    /* Rank 0's hashes go to everyone; each rank finds its first differing field; everyone learns every rank's
     * answer, so all ranks fail together with the same message instead of some waiting in a later collective. */
    uint64_t *root = malloc((size_t)k * sizeof *root);
    int32_t *differs = malloc((size_t)t->n * sizeof *differs);
    if (!root || !differs) {
        free(root);
        free(differs);
        return so_error(SO_ENOMEM, "transport: out of memory checking the configuration");
    }
    memcpy(root, hashes, (size_t)k * sizeof *root);
    int rc = t->ops->bcast(t, root, (size_t)k * sizeof *root);
    int32_t mine = -1;
    for (int i = 0; i < k && mine < 0; i++)
        if (root[i] != hashes[i]) mine = i;
    if (rc == SO_OK) rc = t->ops->gather(t, differs, &mine, sizeof mine, 1);
    if (rc == SO_OK) {
        for (int r = 0; r < t->n; r++) {
            if (differs[r] >= 0 && differs[r] < k) {
                rc = so_error(SO_ECOMM, "rank %d: configuration differs from rank 0 (%s)", r, names[differs[r]]);
                break;
            }
        }
    }
    free(root);
    free(differs);
    return rc;
}

int so_transport_check_fields(so_transport *t, const uint64_t *hashes, const char *const *names, int k)
{
    if (!t || (k > 0 && (!hashes || !names)))
        return so_error(SO_EINVAL, "transport: check_fields needs a transport, hashes and names");
    return so__transport_check_fields(t, hashes, names, k);
}

int so_transport_check_same(so_transport *t, const void *bytes, size_t size, const char *what)
{
    uint64_t h = so__hash_bytes(SO_HASH_INIT, bytes, size);
    h = so__hash_bytes(h, &size, sizeof size);
    const char *names[1] = { what ? what : "configuration" };
    return so__transport_check_fields(t, &h, names, 1);
}

int so_transport_allreduce_sum(so_transport *t, float *buf, size_t len)
{
    if (!t->ops->allreduce_sum) return so_error(SO_EUNSUPPORTED, "transport: no allreduce on this transport");
    return t->ops->allreduce_sum(t, buf, len);
}

int so_transport_allgather(so_transport *t, void *all, const void *mine, size_t per_worker)
{
    return t->ops->gather(t, all, mine, per_worker, 1);
}

int so__transport_alltoall(so_transport *t, void *recv, const void *send, size_t block)
{
    if (t->ops->alltoall) return t->ops->alltoall(t, recv, send, block);
    /* Emulated: every worker's n blocks to every process, each keeps the blocks addressed to its workers. */
    size_t n = (size_t)t->n, row = n * block;
    unsigned char *all = malloc(n * row);
    if (!all) return so_error(SO_ENOMEM, "transport: out of memory for an all-to-all of %zu bytes", n * row);
    int rc = t->ops->gather(t, all, send, row, 1);
    if (rc == SO_OK)
        for (int k = 0; k < t->count; k++)
            for (size_t j = 0; j < n; j++)
                memcpy((unsigned char *)recv + ((size_t)k * n + j) * block,
                       all + j * row + (size_t)(t->first + k) * block, block);
    free(all);
    return rc;
}
