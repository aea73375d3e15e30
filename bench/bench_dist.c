/* bench_dist.c — one round of mv-signsgd (majority vote, 001 Algorithm 3) with n = 8 in-process workers on the
 * quadratic problem without noise, through so_cluster and so_transport_local: the whole round, the n gradient
 * evaluations alone (run on the cluster's threads, one worker per thread at a time, as the cluster does), and
 * their difference, the cost of what the library adds to the gradients.
 *
 * Bytes per round, each array read or written once (d coordinates, n workers):
 *   gradients    n (x r 4d, L_i r 8d (double), g w 4d)                          = 16 n d
 *   the rest     n (g r 4d, bits w d/8); vote: n d/8 r, sign and zero bits w d/4;
 *                apply: x rw 8d, bits r d/4                                       = 4.25 n d + 8.5 d */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include "bench.h"
#include "signopt.h"

#define DIST_WORKERS 8
/* Above this the n gradient evaluations (serial double loops over the curvatures) take seconds per round and
 * the round says little more than at 16M. */
#define DIST_MAX_D ((size_t)1 << 24)

typedef struct dist_ctx {
    so_cluster *cluster;
    so_problem *problem;
    so_workspace **ws;
    float *x, *g;
    size_t d;
    int threads, failed;
} dist_ctx;

static void round_call(void *p)
{
    dist_ctx *c = p;
    if (so_cluster_round(c->cluster, c->x) != SO_OK) c->failed = 1;
}

/* The n gradients of a round, on the same threads, without anything else. */
static void grads_call(void *p)
{
    dist_ctx *c = p;
    int failed = 0;
#pragma omp parallel for schedule(static) num_threads(c->threads) reduction(| : failed)
    for (int j = 0; j < DIST_WORKERS; j++) {
        int t = omp_get_thread_num();
        double loss;
        failed |= so_problem_grad(c->problem, c->ws[t], c->x, c->g + (size_t)t * c->d, j, 0, &loss) != SO_OK;
    }
    if (failed) c->failed = 1;
}

void so_bench_dist(so_bench_log *log, const so_bench_opts *opts, size_t d, int threads)
{
    if (!so_bench_group(opts, "dist/") || d > DIST_MAX_D) return;
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = d;
    pc.workers = DIST_WORKERS;
    so_cluster_config cc;
    so_cluster_config_default(&cc);
    cc.optim.algo = "mv-signsgd";
    cc.threads = threads;
    dist_ctx c = {.d = d, .threads = threads};
    so_transport *t = NULL;
    c.problem = so_problem_create(&pc);
    if (c.problem) t = so_transport_local(DIST_WORKERS);
    if (t) c.cluster = so_cluster_create(&cc, c.problem, t);
    c.ws = calloc((size_t)threads, sizeof *c.ws);
    c.x = so_bench_alloc(log, d * 4);
    c.g = so_bench_alloc(log, (size_t)threads * d * 4);
    int ok = c.cluster && c.ws && c.x && c.g && so_problem_init(c.problem, c.x) == SO_OK;
    for (int k = 0; ok && k < threads; k++) ok = (c.ws[k] = so_problem_workspace_new(c.problem)) != NULL;
    if (ok) {
        const double fd = (double)d, n = DIST_WORKERS;
        so_bench_timing round = so_bench_time(opts, round_call, &c), grads = so_bench_time(opts, grads_call, &c);
        if (!c.failed) {
            so_bench_add(log, "dist/mv-signsgd/n8/round", d, threads, round, 16 * n * fd + 4.25 * n * fd + 8.5 * fd,
                         -1);
            so_bench_add(log, "dist/mv-signsgd/n8/grads", d, threads, grads, 16 * n * fd, -1);
            /* The difference of two medians: noisy where the gradients dominate; read it with both beside it.
             * Its roofline pairs the difference with the round's reference calls. */
            if (round.seconds > grads.seconds) {
                so_bench_timing rest = round;
                rest.seconds = round.seconds - grads.seconds;
                rest.ref_ratio = round.ref_ratio * round.seconds / rest.seconds;
                so_bench_add(log, "dist/mv-signsgd/n8/round-minus-grads", d, threads, rest,
                             4.25 * n * fd + 8.5 * fd, -1);
            }
        }
    }
    if (!ok || c.failed) {
        fprintf(stderr, "signopt bench: distributed round at d = %zu: %s\n", d, so_errmsg());
        log->failed = 1;
    }
    for (int k = 0; c.ws && k < threads; k++) so_workspace_free(c.ws[k]);
    free(c.ws);
    free(c.x);
    free(c.g);
    so_cluster_destroy(c.cluster);
    so_transport_destroy(t);
    so_problem_destroy(c.problem);
}
