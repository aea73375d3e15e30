/* bench_scaling.c — `signopt bench --scaling`: seconds per round of in-process mv-signsgd (001 Algorithm 3,
 * so_cluster over so_transport_local) as the worker count grows on the MLP (Fashion-MNIST, batch 16 per
 * worker) and as d grows on the noiseless quadratic with 8 workers. A round is timed by so_bench_time (one
 * warm-up round, then the median of the repetitions), so the data loading and evaluations of `signopt train`
 * do not enter the figure. Not part of the default suite. */
#include <stdio.h>
#include <stdlib.h>
#include "bench.h"
#include "../cli/json.h"
#include "signopt.h"

typedef struct round_ctx {
    so_cluster *cluster;
    float *x;
    int failed;
} round_ctx;

static void round_call(void *p)
{
    round_ctx *c = p;
    if (so_cluster_round(c->cluster, c->x) != SO_OK) c->failed = 1;
}

/* One row: problem id, n workers, d (quadratic only), threads. Returns 0, or -1 with a line on stderr. */
static int one(const so_bench_opts *o, const char *id, int n, size_t dim, int threads, cJSON *json, int *first)
{
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = id;
    pc.workers = n;
    pc.batch = 16;
    if (dim) pc.dim = dim;
    so_cluster_config cc;
    so_cluster_config_default(&cc);
    cc.optim.algo = "mv-signsgd";
    cc.threads = threads;
    round_ctx c = {0};
    so_problem *p = so_problem_create(&pc);
    so_transport *t = p ? so_transport_local(n) : NULL;
    if (t) c.cluster = so_cluster_create(&cc, p, t);
    size_t d = p ? so_problem_dim(p) : 0;
    if (c.cluster) c.x = malloc(d * sizeof(float));
    int rc = c.x && so_problem_init(p, c.x) == SO_OK ? 0 : -1;
    if (rc == 0) {
        so_bench_opts oo = *o;
        oo.ref_fn = NULL;
        so_bench_timing tm = so_bench_time(&oo, round_call, &c);
        if (c.failed) rc = -1;
        else if (json) {
            char name[64];
            snprintf(name, sizeof name, "scaling/%s/mv-signsgd", id);
            cJSON *e = cJSON_CreateObject();
            jset(e, "name", jstr(name));
            jset(e, "workers", jint(n));
            jset(e, "d", juint(d));
            jset(e, "threads", jint(threads));
            jset(e, "batch", jint(16));
            jset(e, "seconds_per_round", jnum(tm.seconds));
            jset(e, "seconds_per_worker_gradient", jnum(tm.seconds / n));
            jpush(json, e);
        }
        else
            printf("%-10s %8d %10zu %4d %12.4g %14.4g\n", id, n, d, threads, tm.seconds, tm.seconds / n);
        *first = 0;
    }
    if (rc) fprintf(stderr, "signopt bench --scaling: %s, %d workers: %s\n", id, n, so_errmsg());
    free(c.x);
    so_cluster_destroy(c.cluster);
    so_transport_destroy(t);
    so_problem_destroy(p);
    return rc;
}

int so_bench_scaling(const so_bench_opts *o, int json, int quick)
{
    static const int full_n[] = {1, 8, 64, 256, 1000}, quick_n[] = {1, 8};
    static const size_t full_d[] = {1048576, 4194304, 16777216}, quick_d[] = {65536};
    const int *ns = quick ? quick_n : full_n;
    const size_t *ds = quick ? quick_d : full_d;
    int nn = quick ? 2 : 5, nd = quick ? 1 : 3, first = 1, failed = 0;
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    if (!json) printf("%-10s %8s %10s %4s %12s %14s\n", "problem", "workers", "d", "thr", "s/round", "s/round/worker");
    for (int t = 0; t < o->nthreads; t++)
        for (int k = 0; k < nn; k++) failed |= one(o, "mlp", ns[k], 0, o->threads[t], arr, &first);
    for (int t = 0; t < o->nthreads; t++)
        for (int k = 0; k < nd; k++) failed |= one(o, "quadratic", 8, ds[k], o->threads[t], arr, &first);
    if (json) {
        char *t = json_text(arr);
        if (t) fputs(t, stdout);
        else failed = 1;
        free(t);
        cJSON_Delete(arr);
    }
    return failed ? 1 : 0;
}
