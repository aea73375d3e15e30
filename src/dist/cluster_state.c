/* cluster_state.c — a cluster's whole state as one byte block, for checkpoints. With MPI the root gathers every
 * worker's buffers into the block and a load scatters them back, so a run may resume on any transport with the
 * same number of workers.
 *
 * Layout (native byte order):
 *   header: "SOCLUST1", char algo[32], u64 n d round have_prev up_total down_total optim_size, f64 g_linf last_loss
 *   f32 x_prev[d]                          when the algorithm extrapolates (alpha != 0)
 *   u8 started[n] padded to 8 bytes, f32 m[n][d]   when workers keep momentum
 *   the so_optim state (optim_size bytes)  for the fp32 baselines */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cluster_impl.h"

typedef struct state_header {
    char magic[8];
    char algo[32];
    uint64_t n, d, round, have_prev, up_total, down_total, optim_size;
    double g_linf, last_loss;
} state_header;

static const char state_magic[8] = { 'S', 'O', 'C', 'L', 'U', 'S', 'T', '1' };

static size_t pad8(size_t v) { return (v + 7) & ~(size_t)7; }

typedef struct layout {
    size_t x_prev, started, mom, optim, total;
} layout;

static layout layout_of(const so_cluster *c)
{
    layout l;
    size_t off = sizeof(state_header);
    l.x_prev = off;
    if (c->x_prev) off += c->d * sizeof(float);
    l.started = off;
    if (c->mom) off += pad8((size_t)c->n);
    l.mom = off;
    if (c->mom) off += (size_t)c->n * c->d * sizeof(float);
    l.optim = off;
    if (c->opt) off += so_optim_state_size(c->opt);
    l.total = off;
    return l;
}

size_t so_cluster_state_size(const so_cluster *c) { return layout_of(c).total; }

/* The root's verdict, shared so that every rank goes on (or stops) together. */
static int agree(so_cluster *c, int rc)
{
    int32_t v = rc;
    int brc = c->t->ops->bcast(c->t, &v, sizeof v);
    if (brc != SO_OK) return brc;
    if (v != SO_OK && c->t->rank != 0) return so_error(v, "cluster: rank 0 refused the checkpoint state");
    return v;
}

int so_cluster_save(so_cluster *c, void *buf, size_t size)
{
    layout l = layout_of(c);
    int root = c->t->rank == 0;
    int rc = SO_OK;
    if (root && (!buf || size < l.total))
        rc = so_error(SO_EINVAL, "cluster: state buffer of %zu bytes, need %zu", size, l.total);
    rc = agree(c, rc);
    if (rc != SO_OK) return rc;
    unsigned char *b = buf;
    if (c->mom) {
        rc = c->t->ops->gather(c->t, root ? b + l.started : NULL, c->started, 1, 0);
        if (rc == SO_OK)
            rc = c->t->ops->gather(c->t, root ? b + l.mom : NULL, c->mom, c->d * sizeof(float), 0);
        if (rc != SO_OK) return rc;
    }
    if (!root) return SO_OK;
    state_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, state_magic, sizeof h.magic);
    snprintf(h.algo, sizeof h.algo, "%s", c->algo_id);
    h.n = (uint64_t)c->n;
    h.d = c->d;
    h.round = (uint64_t)c->round;
    h.have_prev = (uint64_t)c->have_prev;
    h.up_total = c->up_total;
    h.down_total = c->down_total;
    h.optim_size = c->opt ? so_optim_state_size(c->opt) : 0;
    h.g_linf = c->g_linf;
    h.last_loss = c->last_loss;
    memcpy(b, &h, sizeof h);
    if (c->x_prev) memcpy(b + l.x_prev, c->x_prev, c->d * sizeof(float));
    if (c->mom) memset(b + l.started + c->n, 0, pad8((size_t)c->n) - (size_t)c->n);
    if (c->opt) return so_optim_save(c->opt, b + l.optim, (size_t)h.optim_size);
    return SO_OK;
}

int so_cluster_load(so_cluster *c, const void *buf, size_t size)
{
    layout l = layout_of(c);
    int root = c->t->rank == 0;
    const unsigned char *b = buf;
    state_header h;
    memset(&h, 0, sizeof h);
    int rc = SO_OK;
    if (root) {
        if (!buf || size < sizeof h) rc = so_error(SO_EFORMAT, "cluster: state of %zu bytes is truncated", size);
        if (rc == SO_OK) memcpy(&h, b, sizeof h);
        if (rc == SO_OK && memcmp(h.magic, state_magic, sizeof h.magic) != 0)
            rc = so_error(SO_EFORMAT, "cluster: not a cluster state (bad magic)");
        char want[sizeof h.algo] = {0}; /* save pads the id with zeros: so must a state we accept */
        snprintf(want, sizeof want, "%s", c->algo_id);
        if (rc == SO_OK && (memcmp(h.algo, want, sizeof h.algo) != 0 || h.n != (uint64_t)c->n || h.d != c->d))
            rc = so_error(SO_EFORMAT, "cluster: state is for %.32s with %llu workers, d = %llu; this cluster runs "
                          "%s with %d workers, d = %zu", h.algo, (unsigned long long)h.n, (unsigned long long)h.d,
                          c->algo_id, c->n, c->d);
        if (rc == SO_OK && size != l.total)
            rc = so_error(SO_EFORMAT, "cluster: state has %zu bytes, expected %zu", size, l.total);
        /* The rest comes from outside too: optim_size sizes a copy, and flags must be what save writes. */
        if (rc == SO_OK && h.optim_size != (c->opt ? so_optim_state_size(c->opt) : 0))
            rc = so_error(SO_EFORMAT, "cluster: state says %llu optimizer bytes, expected %zu",
                          (unsigned long long)h.optim_size, c->opt ? so_optim_state_size(c->opt) : (size_t)0);
        if (rc == SO_OK && (h.have_prev > 1 || h.round >= (uint64_t)LONG_MAX))
            rc = so_error(SO_EFORMAT, "cluster: state header is malformed (round %llu, have_prev %llu)",
                          (unsigned long long)h.round, (unsigned long long)h.have_prev);
        for (size_t i = 0; rc == SO_OK && c->mom && i < pad8((size_t)c->n); i++)
            if (b[l.started + i] > (i < (size_t)c->n ? 1 : 0))
                rc = so_error(SO_EFORMAT, "cluster: state byte %zu (worker start flags) is %u", l.started + i,
                              b[l.started + i]);
    }
    rc = agree(c, rc);
    if (rc != SO_OK) return rc;
    rc = c->t->ops->bcast(c->t, &h, sizeof h);
    if (rc != SO_OK) return rc;
    if (c->x_prev) {
        if (root) memcpy(c->x_prev, b + l.x_prev, c->d * sizeof(float));
        rc = c->t->ops->bcast(c->t, c->x_prev, c->d * sizeof(float));
        if (rc != SO_OK) return rc;
    }
    if (c->mom) {
        rc = c->t->ops->scatter(c->t, c->started, root ? b + l.started : NULL, 1);
        if (rc == SO_OK) rc = c->t->ops->scatter(c->t, c->mom, root ? b + l.mom : NULL, c->d * sizeof(float));
        if (rc != SO_OK) return rc;
    }
    if (c->opt) {
        size_t os = (size_t)h.optim_size;
        unsigned char *tmp = malloc(os ? os : 1);
        if (!tmp) return so_error(SO_ENOMEM, "cluster: out of memory for %zu bytes", os);
        if (root) memcpy(tmp, b + l.optim, os);
        rc = c->t->ops->bcast(c->t, tmp, os);
        if (rc == SO_OK) rc = so_optim_load(c->opt, tmp, os);
        free(tmp);
        if (rc != SO_OK) return rc;
    }
    c->round = (long)h.round;
    c->have_prev = (int)h.have_prev;
    c->up_total = h.up_total;
    c->down_total = h.down_total;
    c->g_linf = h.g_linf;
    c->last_loss = h.last_loss;
    return SO_OK;
}

/* ---- This process's part alone (the per-rank optimizer's save/load): not collective ----
 * Layout: header "SOCLLOC1", char algo[32], u64 n d first count round have_prev up_total down_total optim_size,
 * f64 g_linf last_loss; then as above for this process's workers: x_prev, u8 started[count] padded to 8 bytes,
 * f32 m[count][d], the so_optim state. Every rank holds the same x_prev, counters and optimizer state; the
 * momentum buffers are its own. */

typedef struct local_header {
    char magic[8];
    char algo[32];
    uint64_t n, d, first, count, round, have_prev, up_total, down_total, optim_size;
    double g_linf, last_loss;
} local_header;

static const char local_magic[8] = { 'S', 'O', 'C', 'L', 'L', 'O', 'C', '1' };

static layout local_layout_of(const so_cluster *c)
{
    layout l;
    size_t off = sizeof(local_header);
    l.x_prev = off;
    if (c->x_prev) off += c->d * sizeof(float);
    l.started = off;
    if (c->mom) off += pad8((size_t)c->count);
    l.mom = off;
    if (c->mom) off += (size_t)c->count * c->d * sizeof(float);
    l.optim = off;
    if (c->opt) off += so_optim_state_size(c->opt);
    l.total = off;
    return l;
}

size_t so__cluster_local_state_size(const so_cluster *c) { return local_layout_of(c).total; }

int so__cluster_save_local(const so_cluster *c, void *buf, size_t size)
{
    layout l = local_layout_of(c);
    if (!buf || size < l.total)
        return so_error(SO_EINVAL, "cluster: state buffer of %zu bytes, need %zu", size, l.total);
    unsigned char *b = buf;
    local_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, local_magic, sizeof h.magic);
    snprintf(h.algo, sizeof h.algo, "%s", c->algo_id);
    h.n = (uint64_t)c->n;
    h.d = c->d;
    h.first = (uint64_t)c->first;
    h.count = (uint64_t)c->count;
    h.round = (uint64_t)c->round;
    h.have_prev = (uint64_t)c->have_prev;
    h.up_total = c->up_total;
    h.down_total = c->down_total;
    h.optim_size = c->opt ? so_optim_state_size(c->opt) : 0;
    h.g_linf = c->g_linf;
    h.last_loss = c->last_loss;
    memcpy(b, &h, sizeof h);
    if (c->x_prev) memcpy(b + l.x_prev, c->x_prev, c->d * sizeof(float));
    if (c->mom) {
        memset(b + l.started, 0, pad8((size_t)c->count));
        memcpy(b + l.started, c->started, (size_t)c->count);
        memcpy(b + l.mom, c->mom, (size_t)c->count * c->d * sizeof(float));
    }
    if (c->opt) return so_optim_save(c->opt, b + l.optim, (size_t)h.optim_size);
    return SO_OK;
}

int so__cluster_load_local(so_cluster *c, const void *buf, size_t size)
{
    layout l = local_layout_of(c);
    const unsigned char *b = buf;
    local_header h;
    if (!buf || size < sizeof h) return so_error(SO_EFORMAT, "cluster: state of %zu bytes is truncated", size);
    memcpy(&h, b, sizeof h);
    if (memcmp(h.magic, local_magic, sizeof h.magic) != 0)
        return so_error(SO_EFORMAT, "cluster: not a per-rank state (bad magic)");
    char want[sizeof h.algo] = {0};
    snprintf(want, sizeof want, "%s", c->algo_id);
    if (memcmp(h.algo, want, sizeof h.algo) != 0 || h.n != (uint64_t)c->n || h.d != c->d ||
        h.first != (uint64_t)c->first || h.count != (uint64_t)c->count)
        return so_error(SO_EFORMAT, "cluster: state is for %.32s with %llu workers (this process: %llu from %llu), "
                        "d = %llu; this one runs %s with %d workers (%d from %d), d = %zu", h.algo,
                        (unsigned long long)h.n, (unsigned long long)h.count, (unsigned long long)h.first,
                        (unsigned long long)h.d, c->algo_id, c->n, c->count, c->first, c->d);
    if (size != l.total) return so_error(SO_EFORMAT, "cluster: state has %zu bytes, expected %zu", size, l.total);
    if (h.optim_size != (c->opt ? so_optim_state_size(c->opt) : 0) || h.have_prev > 1 ||
        h.round >= (uint64_t)LONG_MAX)
        return so_error(SO_EFORMAT, "cluster: state header is malformed (round %llu, have_prev %llu, %llu optimizer "
                        "bytes)", (unsigned long long)h.round, (unsigned long long)h.have_prev,
                        (unsigned long long)h.optim_size);
    for (size_t i = 0; c->mom && i < pad8((size_t)c->count); i++)
        if (b[l.started + i] > (i < (size_t)c->count ? 1 : 0))
            return so_error(SO_EFORMAT, "cluster: state byte %zu (worker start flags) is %u", l.started + i,
                            b[l.started + i]);
    if (c->opt) {
        int rc = so_optim_load(c->opt, b + l.optim, (size_t)h.optim_size);
        if (rc != SO_OK) return rc;
    }
    if (c->x_prev) memcpy(c->x_prev, b + l.x_prev, c->d * sizeof(float));
    if (c->mom) {
        memcpy(c->started, b + l.started, (size_t)c->count);
        memcpy(c->mom, b + l.mom, (size_t)c->count * c->d * sizeof(float));
    }
    c->round = (long)h.round;
    c->have_prev = (int)h.have_prev;
    c->up_total = h.up_total;
    c->down_total = h.down_total;
    c->g_linf = h.g_linf;
    c->last_loss = h.last_loss;
    return SO_OK;
}
