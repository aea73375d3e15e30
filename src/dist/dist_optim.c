/* dist_optim.c — the per-rank distributed optimizer (signopt/dist.h): a cluster whose workers' gradients come
 * from the caller. It is the cluster itself, over a problem whose oracle hands back the gradients the caller
 * gave for this round (or asks the caller's callback), so every algorithm, fault model, bit count and state
 * layout is the cluster's, and the iterates equal an in-process cluster's fed the same gradients bit for bit. */
#include <stdlib.h>
#include <string.h>
#include "cluster_impl.h"

typedef struct supplied {
    size_t d;
    int first;
    const float *g;    /* so_dist_optim_step: count * d floats, the hosted workers' gradients in order */
    so_grad_fn fn;     /* so_dist_optim_step_fn: the caller's callback */
    void *user;
} supplied;

struct so_dist_optim {
    so_cluster *c;
    so_problem *p;
    supplied *s;       /* owned by p (its oracle context) */
};

static int supplied_grad(void *ctx, void *ws, const float *x, float *g, const so_grad_request *q, double *loss)
{
    (void)ws;
    const supplied *s = ctx;
    if (s->fn) return s->fn(s->user, x, g, q, loss);
    if (q->sub != 0)
        return so_error(SO_EINVAL, "so_dist_optim_step: this algorithm takes several gradients a round (local "
                        "steps); use so_dist_optim_step_fn");
    memcpy(g, s->g + (size_t)(q->worker - s->first) * s->d, s->d * sizeof *g);
    return SO_OK;
}

static const so_oracle supplied_ops = { .grad = supplied_grad, .destroy = free };

so_dist_optim *so_dist_optim_create(const so_cluster_config *cfg, size_t d, const so_tensor *tensors,
                                    size_t ntensors, so_transport *t)
{
    if (!cfg || !t) {
        so_error(SO_EINVAL, "dist optim: config and transport are required");
        return NULL;
    }
    so_dist_optim *o = calloc(1, sizeof *o);
    supplied *s = calloc(1, sizeof *s);
    if (!o || !s) {
        free(o);
        free(s);
        so_error(SO_ENOMEM, "dist optim: out of memory");
        return NULL;
    }
    s->d = d;
    s->first = t->first;
    o->s = s;
    const so_oracle_info info = {
        .id = "so_dist_optim", .dim = d, .tensors = tensors, .ntensors = ntensors, .workers = t->n, .seed = cfg->seed,
    };
    o->p = so_problem_create_oracle(&supplied_ops, s, &info); /* frees s on failure */
    if (o->p) o->c = so_cluster_create(cfg, o->p, t);
    if (!o->c) {
        so_problem_destroy(o->p);
        free(o);
        return NULL;
    }
    return o;
}

void so_dist_optim_destroy(so_dist_optim *o)
{
    if (!o) return;
    so_cluster_destroy(o->c);
    so_problem_destroy(o->p);
    free(o);
}

int so_dist_optim_grad_point(const so_dist_optim *o, const float *x, float *y)
{
    if (!o || !x || !y) return so_error(SO_EINVAL, "dist optim grad point: NULL argument");
    return so__cluster_point(o->c, x, y);
}

int so_dist_optim_step(so_dist_optim *o, float *x, const float *g)
{
    if (!o || !x || !g) return so_error(SO_EINVAL, "dist optim step: NULL argument");
    o->s->g = g;
    o->s->fn = NULL;
    int rc = so_cluster_round(o->c, x);
    o->s->g = NULL;
    return rc;
}

int so_dist_optim_step_fn(so_dist_optim *o, float *x, so_grad_fn fn, void *user)
{
    if (!o || !x || !fn) return so_error(SO_EINVAL, "dist optim step: NULL argument");
    o->s->fn = fn;
    o->s->user = user;
    int rc = so_cluster_round(o->c, x);
    o->s->fn = NULL;
    o->s->user = NULL;
    return rc;
}

long so_dist_optim_round(const so_dist_optim *o) { return so_cluster_round_count(o->c); }
void so_dist_optim_bits(const so_dist_optim *o, uint64_t *up, uint64_t *down) { so_cluster_bits(o->c, up, down); }
size_t so_dist_optim_state_size(const so_dist_optim *o) { return so__cluster_local_state_size(o->c); }

int so_dist_optim_save(const so_dist_optim *o, void *buf, size_t size)
{
    return so__cluster_save_local(o->c, buf, size);
}

int so_dist_optim_load(so_dist_optim *o, const void *buf, size_t size)
{
    return so__cluster_load_local(o->c, buf, size);
}
