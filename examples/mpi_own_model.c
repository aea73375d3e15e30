/* mpi_own_model.c — the per-rank optimizer in your own MPI program (the Horovod DistributedOptimizer shape):
 * every rank computes its own gradient with its own code (least squares on its own data here) and calls
 * so_dist_optim_step; signopt packs the signs, exchanges them over a communicator the program hands in, votes
 * and moves x identically on every rank. The program keeps using MPI itself. At the end rank 0 checks the two
 * promises: the per-rank iterates equal an in-process cluster's fed the same gradients, bit for bit, and a
 * per-rank save halfway, loaded into a new optimizer, ends at the same x.
 * Build and run after `make`:
 *   mpicc -Iinclude examples/mpi_own_model.c build/libsignopt_mpi.a build/libsignopt.a -fopenmp -lopenblas -lz \
 *         -lm -o mpi_own_model
 *   mpirun -np 4 ./mpi_own_model          (as root: add --allow-run-as-root; more ranks than cores: --oversubscribe) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "signopt/mpi.h"

enum { DIM = 256, ROWS = 64, BATCH = 8, ROUNDS = 60 };

/* Worker j's data: ROWS rows of A_j and targets b_j = A_j w* + noise, made from (seed 3, worker j). */
static void make_data(float *a, float *b, int j)
{
    so_rng r;
    so_rng_init(&r, 3, (uint32_t)j, 0, SO_STREAM_USER + 1);
    for (int i = 0; i < ROWS * DIM; i++) a[i] = (float)so_rng_normal(&r);
    for (int i = 0; i < ROWS; i++) {
        double t = 0.1 * so_rng_normal(&r);
        for (int k = 0; k < DIM; k++) t += a[i * DIM + k] * (k % 7 == 0 ? 1.0 : -0.1);
        b[i] = (float)t;
    }
}

/* The gradient of (1/2B) sum (a_i . x - b_i)^2 over BATCH of worker q->worker's rows; returns the batch loss. */
static double gradient(const float *a, const float *b, const float *x, float *g, const so_grad_request *q)
{
    so_rng r;
    so_grad_rng(&r, q, SO_STREAM_USER);
    memset(g, 0, DIM * sizeof *g);
    double loss = 0.0;
    for (int k = 0; k < BATCH; k++) {
        int i = (int)so_rng_below(&r, ROWS);
        float z = -b[i];
        for (int c = 0; c < DIM; c++) z += a[i * DIM + c] * x[c];
        for (int c = 0; c < DIM; c++) g[c] += z * a[i * DIM + c] / BATCH;
        loss += 0.5 * z * z / BATCH;
    }
    return loss;
}

/* The same model as an oracle over all workers, for the in-process comparison on rank 0. */
typedef struct all_data {
    float *a, *b;
} all_data;

static int oracle_grad(void *ctx, void *ws, const float *x, float *g, const so_grad_request *q, double *loss)
{
    (void)ws;
    const all_data *m = ctx;
    *loss = gradient(m->a + (size_t)q->worker * ROWS * DIM, m->b + (size_t)q->worker * ROWS, x, g, q);
    return SO_OK;
}

/* Rounds [from, to) of worker `me`'s training (its own data a, b). */
static int train(so_dist_optim *opt, int me, const float *a, const float *b, float *x, int from, int to,
                 double *mean_loss)
{
    float g[DIM], y[DIM];
    for (int t = from; t < to; t++) {
        const float *at = so_dist_optim_grad_point(opt, x, y) ? y : x; /* x itself for mv-signum */
        const so_grad_request q = {me, so_dist_optim_round(opt), 0, 1};
        double loss = gradient(a, b, at, g, &q);
        if (so_dist_optim_step(opt, x, g) != SO_OK) return 1;
        /* the program's own MPI, beside signopt's: the mean minibatch loss over the ranks */
        MPI_Allreduce(&loss, mean_loss, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    float *a = malloc(sizeof(float) * ROWS * DIM), *b = malloc(sizeof(float) * ROWS);
    make_data(a, b, rank);

    so_cluster_config cfg;
    so_cluster_config_default(&cfg); /* mv-signum: momentum on each worker, 1 bit up, majority vote down */
    cfg.optim.lr = 2e-3;
    cfg.seed = 1;
    so_transport *t = so_transport_mpi_comm(MPI_COMM_WORLD); /* worker j = rank j; any communicator will do */
    so_dist_optim *opt = t ? so_dist_optim_create(&cfg, DIM, NULL, 0, t) : NULL;
    if (!opt) {
        fprintf(stderr, "rank %d: %s\n", rank, so_errmsg());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    float x[DIM] = {0}, x_half[DIM];
    double loss = 0.0;
    int bad = train(opt, rank, a, b, x, 0, ROUNDS / 2, &loss);
    size_t size = so_dist_optim_state_size(opt);
    void *state = malloc(size);
    bad |= so_dist_optim_save(opt, state, size) != SO_OK; /* this rank's part: its momentum and the counters */
    memcpy(x_half, x, sizeof x);
    if (rank == 0) printf("round %3d: mean minibatch loss %.4f\n", ROUNDS / 2, loss / n);
    bad |= train(opt, rank, a, b, x, ROUNDS / 2, ROUNDS, &loss);
    uint64_t up, down;
    so_dist_optim_bits(opt, &up, &down);
    if (rank == 0) printf("round %3d: mean minibatch loss %.4f, bits per worker up %llu down %llu\n", ROUNDS,
                          loss / n, (unsigned long long)up, (unsigned long long)down);

    /* resume: a new optimizer loads the halfway state and trains the second half again */
    so_dist_optim *again = so_dist_optim_create(&cfg, DIM, NULL, 0, t);
    bad |= !again || so_dist_optim_load(again, state, size) != SO_OK;
    bad |= train(again, rank, a, b, x_half, ROUNDS / 2, ROUNDS, &loss);
    int resumed_same = memcmp(x, x_half, sizeof x) == 0;

    /* rank 0: n in-process workers on the same model, as one oracle over every worker's data */
    if (rank == 0) {
        all_data m = {malloc(sizeof(float) * n * ROWS * DIM), malloc(sizeof(float) * n * ROWS)};
        for (int j = 0; j < n; j++) make_data(m.a + (size_t)j * ROWS * DIM, m.b + (size_t)j * ROWS, j);
        const so_oracle ops = {.grad = oracle_grad};
        const so_oracle_info info = {.id = "least-squares", .dim = DIM, .workers = n, .batch = BATCH, .seed = 1};
        so_problem *p = so_problem_create_oracle(&ops, &m, &info);
        so_transport *local = so_transport_local(n);
        so_cluster *c = p && local ? so_cluster_create(&cfg, p, local) : NULL;
        float xc[DIM] = {0};
        for (int r = 0; c && r < ROUNDS; r++) bad |= so_cluster_round(c, xc) != SO_OK;
        int same = c && memcmp(x, xc, sizeof x) == 0;
        printf("per-rank optimizer == in-process cluster, bit for bit: %s\n", same ? "yes" : "NO");
        printf("saved at round %d, loaded into a new optimizer, same end: %s\n", ROUNDS / 2,
               resumed_same ? "yes" : "NO");
        bad |= !same || !c;
        so_cluster_destroy(c);
        so_transport_destroy(local);
        so_problem_destroy(p);
        free(m.a);
        free(m.b);
    }
    bad |= !resumed_same;
    int any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    so_dist_optim_destroy(again);
    so_dist_optim_destroy(opt);
    so_transport_destroy(t);
    free(state);
    free(a);
    free(b);
    MPI_Finalize();
    return any_bad ? 1 : 0;
}
