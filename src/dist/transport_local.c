/* transport_local.c — n workers in one process. The workers' buffers are shared, so an exchange is at most a
 * copy and a broadcast is nothing; the ordered sum is the reference every other transport must match. */
#include <stdlib.h>
#include <string.h>
#include "transport.h"

static int local_gather(so_transport *t, void *all, const void *mine, size_t per_worker, int to_all)
{
    (void)to_all;
    unsigned char *slot = (unsigned char *)all + (size_t)t->first * per_worker;
    if (mine != slot) memmove(slot, mine, (size_t)t->count * per_worker);
    return SO_OK;
}

static int local_scatter(so_transport *t, void *mine, const void *all, size_t per_worker)
{
    const unsigned char *slot = (const unsigned char *)all + (size_t)t->first * per_worker;
    if (mine != slot) memmove(mine, slot, (size_t)t->count * per_worker);
    return SO_OK;
}

static int local_bcast(so_transport *t, void *buf, size_t size)
{
    (void)t; (void)buf; (void)size;
    return SO_OK;
}

/* acc is (len), vecs[k] (len) or NULL; summed one vector at a time in worker order. */
static int local_sum_ordered(so_transport *t, float *acc, const float *const *vecs, int count, size_t len,
                             int to_all)
{
    (void)t; (void)to_all;
    for (int k = 0; k < count; k++) {
        const float *restrict v = vecs[k];
        if (!v) continue;
        float *restrict a = acc;
        for (size_t i = 0; i < len; i++) a[i] += v[i];
    }
    return SO_OK;
}

static int local_allreduce_sum(so_transport *t, float *buf, size_t len)
{
    (void)t; (void)buf; (void)len;
    return SO_OK;
}

/* Every worker is here: recv's block (k, j) is send's block (j, k), a transpose. */
static int local_alltoall(so_transport *t, void *recv, const void *send, size_t block)
{
    size_t n = (size_t)t->n;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++)
            memcpy((unsigned char *)recv + (k * n + j) * block, (const unsigned char *)send + (j * n + k) * block,
                   block);
    return SO_OK;
}

static const so_transport_ops local_ops = {
    local_gather, local_scatter, local_bcast, local_sum_ordered, local_allreduce_sum, NULL, local_alltoall,
};

so_transport *so_transport_local(int n_workers)
{
    if (n_workers < 1) {
        so_error(SO_EINVAL, "transport: workers must be >= 1, got %d", n_workers);
        return NULL;
    }
    return so_transport_create(&local_ops, NULL, n_workers, 0, 0, n_workers);
}
