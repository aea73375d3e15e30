/* bench_mpi.c — `signopt bench --mpi`, run under mpirun: the seconds of one whole distributed round across the
 * ranks, as `signopt train --backend mpi` runs it (so_dist_optim_step on this rank's gradient: momentum, pack,
 * exchange, vote, step of x), for
 *   mv-signum with the three 1-bit patterns: ps (gather to rank 0, vote there, broadcast), allgather (every rank
 *   votes all n messages) and sharded (all-to-all of the packed words, each rank votes its shard, allgather of
 *   the results), ties = zero (2 bits down when n is even);
 *   dist-sgdm with MPI_Allreduce of the fp32 gradients (--fp32-reduce allreduce, what DDP and Horovod do) and with
 *   signopt's fixed-order reduce-scatter + allgather (the default, bit-reproducible);
 * beside the network cost model's predictions (src/dist/netcost.c) with a bandwidth and latency fitted to the
 * allreduce rows. Not part of the default suite. */
#include <stdio.h>
#include "bench.h"

#ifndef SO_WITH_MPI
int so_bench_mpi(const so_bench_opts *o, int json)
{
    (void)o;
    (void)json;
    fprintf(stderr, "signopt bench: --mpi: this signopt was built without MPI (make MPI=1 with Open MPI installed)\n");
    return 2;
}
#else
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "signopt/mpi.h"
#include "../cli/json.h"

enum { CASE_PS, CASE_ALLGATHER, CASE_SHARDED, CASE_ALLREDUCE, CASE_ORDERED, NCASES };
static const char *case_names[NCASES] = {"mpi/ps-1bit", "mpi/allgather-1bit", "mpi/sharded-1bit",
                                         "mpi/allreduce-fp32", "mpi/ordered-fp32"};

typedef struct mpi_ctx {
    so_transport *t;
    int rank, n;
    size_t d;
    float *g, *x;            /* this rank's gradient; the parameters */
    so_transport *self;      /* this rank alone (MPI_COMM_SELF): the compute of a round without its exchange */
    so_dist_optim *cur;
    int failed;
} mpi_ctx;

static so_dist_optim *make_optim(mpi_ctx *c, int which, so_transport *t)
{
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.optim.algo = which <= CASE_SHARDED ? "mv-signum" : "dist-sgdm";
    cfg.optim.lr = 1e-6;
    cfg.pattern = which == CASE_PS ? SO_PATTERN_PS : which == CASE_ALLGATHER ? SO_PATTERN_ALLGATHER
                                                                               : SO_PATTERN_SHARDED;
    cfg.fp32_allreduce = which == CASE_ALLREDUCE;
    cfg.threads = 1;
    return so_dist_optim_create(&cfg, c->d, NULL, 0, t);
}

static void run_case(mpi_ctx *c)
{
    if (so_dist_optim_step(c->cur, c->x, c->g) != SO_OK) c->failed = 1;
}

/* Median over reps of the slowest rank's seconds; a warm-up exchange first, a barrier before each. */
static double time_case(mpi_ctx *c, int reps)
{
    double v[64] = {0};
    for (int r = -1; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = so_bench_now();
        run_case(c);
        double mine = so_bench_now() - t0, slowest = 0.0;
        MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (r >= 0) v[r] = slowest;
    }
    for (int i = 1; i < reps; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double s = v[j]; v[j] = v[j - 1]; v[j - 1] = s;
        }
    return reps % 2 ? v[reps / 2] : 0.5 * (v[reps / 2 - 1] + v[reps / 2]);
}

/* Bytes a non-root rank sends and receives per round. The fp32 rows count the ring algorithm's 2 (n-1)/n * 4d
 * each way (the cost model's ring; the ordered reduce moves exactly that, Open MPI's allreduce may choose another
 * algorithm); the sharded row (n-1) shards of d/n bits up, as many shard results of D d/n bits down, plus the
 * shard results it sends in the allgather (counted up). */
static void bytes_of(int which, int n, size_t d, size_t words, double *up, double *down)
{
    double w = 8.0 * (double)words, D = (n % 2 == 0) ? 2.0 : 1.0; /* zero ties send a second bit when n is even */
    if (which == CASE_PS) { *up = w; *down = D * w; }
    else if (which == CASE_ALLGATHER) { *up = w; *down = (n - 1) * w; }
    else if (which == CASE_SHARDED) {
        *up = (n - 1.0) / n * w * (1.0 + D);
        *down = (n - 1.0) / n * w * (1.0 + D);
    } else { *up = *down = 2.0 * (n - 1) / n * 4.0 * (double)d; }
}

/* Least squares fit of the ring model t = 2 (n-1) a + (64 (n-1)/n) d / B to the measured allreduce seconds
 * over the sizes: linear in (a, 1/B). A negative latency is clamped to 0 and 1/B refitted alone. */
static void fit_ring(const size_t *sizes, const double *secs, int m, int n, double *bw, double *lat)
{
    double sxx = 0, sxy = 0, sx = 0, sy = 0, k = 2.0 * (n - 1);
    for (int i = 0; i < m; i++) {
        double x = 64.0 * (n - 1) / n * (double)sizes[i];
        sx += x; sy += secs[i]; sxx += x * x; sxy += x * secs[i];
    }
    /* t = k a + x u: normal equations in (a, u). */
    double det = k * k * m * sxx - k * sx * k * sx;
    double a = 0.0, u = sxy / sxx;
    if (m > 1 && det != 0.0) {
        a = (k * sy * sxx - sx * k * sxy) / det;
        u = (k * k * m * sxy - k * sx * k * sy) / det;
        if (a < 0.0 || u <= 0.0) { a = 0.0; u = sxy / sxx; }
    }
    *lat = a;
    *bw = u > 0.0 ? 1.0 / u : INFINITY;
}

int so_bench_mpi(const so_bench_opts *o, int json)
{
    int inited = 0, ours = 0, rc = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        MPI_Init(NULL, NULL);
        ours = 1;
    }
    omp_set_num_threads(1); /* ranks share the cores: one thread each */
    mpi_ctx c = {0};
    c.t = so_transport_mpi();
    if (!c.t) {
        fprintf(stderr, "signopt bench --mpi: %s\n", so_errmsg());
        if (ours) MPI_Finalize();
        return 1;
    }
    c.rank = so_transport_rank(c.t);
    c.n = so_transport_workers(c.t);
    int want[NCASES], fit_case = -1;
    for (int k = 0; k < NCASES; k++) want[k] = so_bench_wanted(o, case_names[k]);
    fit_case = want[CASE_ALLREDUCE] ? CASE_ALLREDUCE : want[CASE_ORDERED] ? CASE_ORDERED : -1;
    double secs[SO_BENCH_MAX_SIZES][NCASES], comp[SO_BENCH_MAX_SIZES][NCASES];
    so_bench_log log = {0};
    c.self = so_transport_mpi_comm(MPI_COMM_SELF);
    if (!c.self) {
        fprintf(stderr, "signopt bench --mpi: %s\n", so_errmsg());
        so_transport_destroy(c.t);
        if (ours) MPI_Finalize();
        return 1;
    }
    for (int s = 0; s < o->nsizes && !c.failed; s++) {
        c.d = o->sizes[s];
        c.g = so_bench_alloc(&log, c.d * sizeof(float));
        c.x = so_bench_alloc(&log, c.d * sizeof(float));
        if (log.failed) c.failed = 1;
        int any = 0;
        MPI_Allreduce(&c.failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (!any) {
            so_bench_fill(c.g, c.d, -1.0f, 1.0f, (unsigned)c.rank);
            so_bench_fill(c.x, c.d, -1.0f, 1.0f, 1000u); /* the same x on every rank */
            for (int k = 0; k < NCASES && !any; k++) {
                if (!want[k]) continue;
                /* the round across the ranks, then the same round on every rank alone at once (MPI_COMM_SELF:
                 * the same optimizer work under the same sharing of the cores, no exchange): its compute */
                for (int self = 0; self < 2 && !any; self++) {
                    c.cur = make_optim(&c, k, self ? c.self : c.t);
                    int bad = c.cur == NULL;
                    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
                    if (any) {
                        fprintf(stderr, "signopt bench --mpi: %s: %s\n", case_names[k],
                                c.cur ? "failed on another rank" : so_errmsg());
                        so_dist_optim_destroy(c.cur);
                        break;
                    }
                    double t = time_case(&c, o->reps);
                    if (self) comp[s][k] = t;
                    else secs[s][k] = t;
                    so_dist_optim_destroy(c.cur);
                    c.cur = NULL;
                    bad = c.failed;
                    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
                }
            }
            if (any) fprintf(stderr, "signopt bench --mpi: a round failed on some rank: %s\n", so_errmsg());
            else if (c.rank == 0) fprintf(stderr, "signopt bench --mpi: %d ranks, d = %zu done\n", c.n, c.d);
        }
        c.failed = any;
        free(c.g);
        free(c.x);
    }
    if (c.failed) rc = 1;
    if (!c.failed && c.rank == 0) {
        double col[SO_BENCH_MAX_SIZES], bw = INFINITY, lat = 0.0;
        if (fit_case >= 0) {
            for (int s = 0; s < o->nsizes; s++) col[s] = fmax(secs[s][fit_case] - comp[s][fit_case], 0.0);
            fit_ring(o->sizes, col, o->nsizes, c.n, &bw, &lat);
        }
        int D = c.n % 2 == 0 ? 2 : 1;
        cJSON *arr = json ? cJSON_CreateArray() : NULL;
        if (!json) {
            if (fit_case >= 0)
                printf("%d ranks; ring fit to %s: bandwidth %.4g bit/s, latency %.3g s\n", c.n,
                       case_names[fit_case], bw, lat);
            printf("%-20s %10s %11s %11s %11s %11s %9s %11s\n", "name", "d", "median_s", "compute_s", "up_B/rank",
                   "down_B/rank", "fp32/this", "model_s");
        }
        for (int s = 0; s < o->nsizes; s++)
            for (int k = 0; k < NCASES; k++) {
                if (!want[k]) continue;
                double up, down;
                bytes_of(k, c.n, o->sizes[s], so_packed_words(o->sizes[s]), &up, &down);
                double model = NAN;
                if (fit_case >= 0) {
                    so_netcost nc;
                    so_netcost_predict(&nc, c.n, o->sizes[s], bw, lat, D);
                    model = k == CASE_PS ? nc.ps_1bit : k == CASE_ALLGATHER ? nc.allgather_1bit
                            : k == CASE_SHARDED ? so_netcost_sharded_1bit(c.n, o->sizes[s], bw, lat, D)
                                                : nc.ring_fp32;
                    model += comp[s][k];
                }
                double ratio = fit_case >= 0 ? secs[s][fit_case] / secs[s][k] : NAN;
                if (json) {
                    cJSON *e = cJSON_CreateObject();
                    jset(e, "name", jstr(case_names[k]));
                    jset(e, "ranks", jint(c.n));
                    jset(e, "d", juint(o->sizes[s]));
                    jset(e, "seconds", jnum(secs[s][k]));
                    jset(e, "compute_seconds", jnum(comp[s][k]));
                    jset(e, "bytes_up_per_rank", jnum(up));
                    jset(e, "bytes_down_per_rank", jnum(down));
                    /* null where no fp32 row ran to compare with or fit to */
                    jset(e, "fp32_over_this", isfinite(ratio) ? jnum(ratio) : cJSON_CreateNull());
                    jset(e, "model_seconds", isfinite(model) ? jnum(model) : cJSON_CreateNull());
                    /* one rank: no transfer to fit, reported as 0 */
                    jset(e, "fit_bandwidth_bps", jnum(isfinite(bw) ? bw : 0.0));
                    jset(e, "fit_latency_s", jnum(lat));
                    jpush(arr, e);
                } else {
                    printf("%-20s %10zu %11.4g %11.4g %11.0f %11.0f %9.2f %11.4g\n", case_names[k], o->sizes[s],
                           secs[s][k], comp[s][k], up, down, ratio, model);
                }
            }
        if (json) {
            char *t = json_text(arr);
            if (t) fputs(t, stdout);
            else rc = 1;
            free(t);
            cJSON_Delete(arr);
        }
    }
    so_transport_destroy(c.self);
    so_transport_destroy(c.t);
    if (ours) MPI_Finalize();
    return rc;
}
#endif
