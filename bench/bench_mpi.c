/* bench_mpi.c — `signopt bench --mpi`, run under mpirun: the seconds one exchange takes across the ranks for
 * (a) the 1-bit parameter-server round as mv-signsgd does it (pack d signs, MPI_Gather the packed words to
 * rank 0, vote there with ties = zero, MPI_Bcast the sign and zero bits), (b) the 1-bit allgather round
 * (allgather the packed words, every rank votes) and (c) MPI_Allreduce of d fp32 (sum), beside the network
 * cost model's predictions with a bandwidth and latency fitted to (c). Not part of the default suite. */
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

enum { CASE_PS, CASE_ALLGATHER, CASE_ALLREDUCE, NCASES };
static const char *case_names[NCASES] = {"mpi/ps-1bit", "mpi/allgather-1bit", "mpi/allreduce-fp32"};

typedef struct mpi_ctx {
    so_transport *t;
    int rank, n;
    size_t d, words;
    float *g, *sum;          /* this rank's gradient; the allreduce buffer */
    uint64_t *mine, *all;    /* the packed message; n messages (root, or every rank for allgather) */
    uint64_t *down;          /* sign bits then zero bits: the downlink of a zero-tie vote */
    const uint64_t **rows;
    int failed;
} mpi_ctx;

static void vote(mpi_ctx *c)
{
    for (int j = 0; j < c->n; j++) c->rows[j] = c->all + (size_t)j * c->words;
    so_vote_majority(c->down, c->down + c->words, c->rows, (size_t)c->n, c->d, SO_TIES_ZERO, 1, 0);
}

static void run_case(mpi_ctx *c, int which)
{
    int err = MPI_SUCCESS;
    switch (which) {
    case CASE_PS:
        so_sign_pack(c->mine, c->g, c->d);
        err = MPI_Gather(c->mine, (int)c->words, MPI_UINT64_T, c->all, (int)c->words, MPI_UINT64_T, 0,
                         MPI_COMM_WORLD);
        if (c->rank == 0) vote(c);
        if (err == MPI_SUCCESS) err = MPI_Bcast(c->down, (int)(2 * c->words), MPI_UINT64_T, 0, MPI_COMM_WORLD);
        break;
    case CASE_ALLGATHER:
        so_sign_pack(c->mine, c->g, c->d);
        if (so_transport_allgather(c->t, c->all, c->mine, c->words * sizeof(uint64_t)) != SO_OK) c->failed = 1;
        vote(c);
        break;
    default:
        if (so_transport_allreduce_sum(c->t, c->sum, c->d) != SO_OK) c->failed = 1;
    }
    if (err != MPI_SUCCESS) c->failed = 1;
}

/* Median over reps of the slowest rank's seconds; a warm-up exchange first, a barrier before each. */
static double time_case(mpi_ctx *c, int which, int reps)
{
    double v[64] = {0};
    for (int r = -1; r < reps; r++) {
        if (which == CASE_ALLREDUCE) memcpy(c->sum, c->g, c->d * sizeof(float));
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = so_bench_now();
        run_case(c, which);
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

/* Bytes a non-root rank sends and receives per exchange. The allreduce counts the ring algorithm's
 * 2 (n-1)/n * 4d each way (the cost model's ring); Open MPI may choose another algorithm on shared memory. */
static void bytes_of(int which, int n, size_t d, size_t words, double *up, double *down)
{
    double w = 8.0 * (double)words;
    if (which == CASE_PS) { *up = w; *down = 2.0 * w; }
    else if (which == CASE_ALLGATHER) { *up = w; *down = (n - 1) * w; }
    else { *up = *down = 2.0 * (n - 1) / n * 4.0 * (double)d; }
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
    double secs[SO_BENCH_MAX_SIZES][NCASES];
    so_bench_log log = {0};
    for (int s = 0; s < o->nsizes && !c.failed; s++) {
        c.d = o->sizes[s];
        c.words = so_packed_words(c.d);
        c.g = so_bench_alloc(&log, c.d * sizeof(float));
        c.sum = so_bench_alloc(&log, c.d * sizeof(float));
        c.mine = so_bench_alloc(&log, c.words * 8);
        c.all = so_bench_alloc(&log, (size_t)c.n * c.words * 8);
        c.down = so_bench_alloc(&log, 2 * c.words * 8);
        c.rows = malloc((size_t)c.n * sizeof *c.rows);
        if (log.failed || !c.rows) c.failed = 1;
        int any = 0;
        MPI_Allreduce(&c.failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (!any) {
            so_bench_fill(c.g, c.d, -1.0f, 1.0f, (unsigned)c.rank);
            for (int k = 0; k < NCASES; k++) secs[s][k] = time_case(&c, k, o->reps);
            if (c.rank == 0) fprintf(stderr, "signopt bench --mpi: %d ranks, d = %zu done\n", c.n, c.d);
        }
        c.failed = any;
        free(c.g); free(c.sum); free(c.mine); free(c.all); free(c.down); free(c.rows);
    }
    if (c.failed) rc = 1;
    if (!c.failed && c.rank == 0) {
        double col[SO_BENCH_MAX_SIZES], bw, lat;
        for (int s = 0; s < o->nsizes; s++) col[s] = secs[s][CASE_ALLREDUCE];
        fit_ring(o->sizes, col, o->nsizes, c.n, &bw, &lat);
        cJSON *arr = json ? cJSON_CreateArray() : NULL;
        if (!json)
            printf("%d ranks; ring fit to the allreduce: bandwidth %.4g bit/s, latency %.3g s\n"
                   "%-20s %10s %11s %11s %11s %9s %11s\n", c.n, bw, lat, "name", "d", "median_s",
                   "up_B/rank", "down_B/rank", "fp32/this", "model_s");
        for (int s = 0; s < o->nsizes; s++)
            for (int k = 0; k < NCASES; k++) {
                double up, down;
                bytes_of(k, c.n, o->sizes[s], so_packed_words(o->sizes[s]), &up, &down);
                so_netcost nc;
                so_netcost_predict(&nc, c.n, o->sizes[s], bw, lat, 2);
                double model = k == CASE_PS ? nc.ps_1bit : k == CASE_ALLGATHER ? nc.allgather_1bit : nc.ring_fp32;
                double ratio = secs[s][CASE_ALLREDUCE] / secs[s][k];
                if (json) {
                    cJSON *e = cJSON_CreateObject();
                    jset(e, "name", jstr(case_names[k]));
                    jset(e, "ranks", jint(c.n));
                    jset(e, "d", juint(o->sizes[s]));
                    jset(e, "seconds", jnum(secs[s][k]));
                    jset(e, "bytes_up_per_rank", jnum(up));
                    jset(e, "bytes_down_per_rank", jnum(down));
                    jset(e, "fp32_over_this", jnum(ratio));
                    jset(e, "model_seconds", jnum(model));
                    /* one rank: no transfer to fit, reported as 0 */
                    jset(e, "fit_bandwidth_bps", jnum(isfinite(bw) ? bw : 0.0));
                    jset(e, "fit_latency_s", jnum(lat));
                    jpush(arr, e);
                } else {
                    printf("%-20s %10zu %11.4g %11.0f %11.0f %9.2f %11.4g\n", case_names[k], o->sizes[s],
                           secs[s][k], up, down, ratio, model);
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
    so_transport_destroy(c.t);
    if (ours) MPI_Finalize();
    return rc;
}
#endif
