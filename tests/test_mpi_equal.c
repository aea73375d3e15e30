/* test_mpi_equal.c — the MPI transport equals the in-process one bit for bit.
 *
 * Run plainly, the binary relaunches itself as `mpirun -np 4 --oversubscribe <self> --child DIR`; each rank runs
 * every case with one worker per rank and writes its final x to DIR; the parent runs the same cases with 4
 * in-process workers and compares the bytes. Cases: mv-signsgd, mvsm-v2, mv-sto-signsgd-sim,
 * mv-scaled-signsgd, dist-sgdm, for the three patterns (parameter server, allgather, sharded), 20 rounds on the noisy
 * quadratic; with dropout and a random-sign Byzantine worker; checkpoints written in-process and resumed under
 * MPI and the other way round; and a configuration that differs on rank 2, which every rank must refuse.
 *
 * The per-rank optimizer (so_dist_optim): each rank computes its own worker's gradients and steps, on a
 * communicator of its own (MPI_COMM_WORLD split with the ranks in reverse order, so worker j is world rank 3 - j),
 * with the test's own MPI traffic between rounds; the x it ends with must equal the in-process cluster's, for
 * every distributed id (fed-mv-sto-signsgd-sim through so_dist_optim_step_fn), and a per-rank save/load halfway
 * must continue to the same x. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "signopt/mpi.h"
#include "test.h"

enum { NRANKS = 4, D = 200, ROUNDS = 20, HALF = 10 };

typedef struct mpi_case {
    const char *name;
    const char *algo;
    so_pattern pattern;
    double dropout;
    int byzantine;
    so_zero_vote zero_vote; /* the deterministic sign uplink's vote for an exact zero (0: plus) */
} mpi_case;

static const mpi_case cases[] = {
    { "mv-signsgd-ps", "mv-signsgd", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "mv-signsgd-ag", "mv-signsgd", SO_PATTERN_ALLGATHER, 0, 0, SO_ZERO_VOTE_PLUS },
    { "mvsm-v2-ps", "mvsm-v2", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "mvsm-v2-ag", "mvsm-v2", SO_PATTERN_ALLGATHER, 0, 0, SO_ZERO_VOTE_PLUS },
    { "sim-ps", "mv-sto-signsgd-sim", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "sim-ag", "mv-sto-signsgd-sim", SO_PATTERN_ALLGATHER, 0, 0, SO_ZERO_VOTE_PLUS },
    { "scaled-ps", "mv-scaled-signsgd", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "scaled-ag", "mv-scaled-signsgd", SO_PATTERN_ALLGATHER, 0, 0, SO_ZERO_VOTE_PLUS },
    { "sgdm-ps", "dist-sgdm", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "sgdm-ag", "dist-sgdm", SO_PATTERN_ALLGATHER, 0, 0, SO_ZERO_VOTE_PLUS },
    { "signum-faults-ps", "mv-signum", SO_PATTERN_PS, 0.3, 1, SO_ZERO_VOTE_PLUS },
    { "sgdm-faults-ag", "dist-sgdm", SO_PATTERN_ALLGATHER, 0.3, 1, SO_ZERO_VOTE_PLUS },
    /* sharded: D = 200 is 4 words, so with 4 ranks two shards hold words and two are empty */
    { "mv-signsgd-sh", "mv-signsgd", SO_PATTERN_SHARDED, 0, 0, SO_ZERO_VOTE_PLUS },
    { "mvsm-v2-sh", "mvsm-v2", SO_PATTERN_SHARDED, 0, 0, SO_ZERO_VOTE_PLUS },
    { "sim-sh", "mv-sto-signsgd-sim", SO_PATTERN_SHARDED, 0, 0, SO_ZERO_VOTE_PLUS },
    { "scaled-sh", "mv-scaled-signsgd", SO_PATTERN_SHARDED, 0, 0, SO_ZERO_VOTE_PLUS },
    { "sgdm-sh", "dist-sgdm", SO_PATTERN_SHARDED, 0, 0, SO_ZERO_VOTE_PLUS },
    { "signum-faults-sh", "mv-signum", SO_PATTERN_SHARDED, 0.3, 1, SO_ZERO_VOTE_PLUS },
    /* abstaining zeros: two words per message (signs and the zero mask) through the gather and the allgather */
    { "abstain-ps", "mv-signsgd", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_ABSTAIN },
    { "abstain-faults-ag", "mv-signum", SO_PATTERN_ALLGATHER, 0.3, 1, SO_ZERO_VOTE_ABSTAIN },
    { "zero-random-ag", "mv-signsgd", SO_PATTERN_ALLGATHER, 0, 0, SO_ZERO_VOTE_RANDOM },
};
#define NCASES (int)(sizeof cases / sizeof cases[0])

/* The per-rank optimizer's cases: every distributed id, both patterns among them, faults in two. */
static const mpi_case rank_cases[] = {
    { "rank-mv-signsgd", "mv-signsgd", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-mv-signum", "mv-signum", SO_PATTERN_ALLGATHER, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-sto-signsgd", "sto-signsgd", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-sim", "mv-sto-signsgd-sim", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-fed", "fed-mv-sto-signsgd-sim", SO_PATTERN_ALLGATHER, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-mvsm-v1", "mvsm-v1", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-mvsm-v2", "mvsm-v2", SO_PATTERN_ALLGATHER, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-scaled", "mv-scaled-signsgd", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-dist-sgd", "dist-sgd", SO_PATTERN_PS, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-dist-adamw", "dist-adamw", SO_PATTERN_ALLGATHER, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-signum-faults", "mv-signum", SO_PATTERN_PS, 0.3, 1, SO_ZERO_VOTE_PLUS },
    { "rank-sgdm-faults", "dist-sgdm", SO_PATTERN_ALLGATHER, 0.3, 1, SO_ZERO_VOTE_PLUS },
    { "rank-mv-signum-sh", "mv-signum", SO_PATTERN_SHARDED, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-fed-sh", "fed-mv-sto-signsgd-sim", SO_PATTERN_SHARDED, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-mvsm-v2-sh", "mvsm-v2", SO_PATTERN_SHARDED, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-dist-adamw-sh", "dist-adamw", SO_PATTERN_SHARDED, 0, 0, SO_ZERO_VOTE_PLUS },
    { "rank-signum-faults-sh", "mv-signum", SO_PATTERN_SHARDED, 0.3, 1, SO_ZERO_VOTE_PLUS },
};
#define NRANK_CASES (int)(sizeof rank_cases / sizeof rank_cases[0])

static so_problem *make_problem(void)
{
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = D;
    pc.x0 = 1.0;
    pc.workers = NRANKS;
    pc.seed = 21;
    pc.noise.kind = SO_NOISE_GAUSS;
    pc.noise.scale = 2.0;
    return so_problem_create(&pc);
}

static void make_config(so_cluster_config *cfg, const mpi_case *k)
{
    so_cluster_config_default(cfg);
    cfg->optim.algo = k->algo;
    cfg->pattern = k->pattern;
    cfg->optim.lr = 0.01;
    cfg->R = 2.0;
    cfg->optim.alpha = 0.5;
    cfg->dropout = k->dropout;
    cfg->byzantine = k->byzantine;
    cfg->byzantine_random = 1;
    cfg->threads = 2;
    cfg->seed = 8;
    cfg->zero_vote = k->zero_vote;
    /* a sharded vote with random ties: each shard must draw its global words' tie bits */
    if (k->pattern == SO_PATTERN_SHARDED && strcmp(k->algo, "mv-signsgd") == 0) cfg->ties = SO_TIES_RANDOM;
}

/* Rounds [from, to) of case k on transport t, from x (x0 when from = 0); state in/out optional. */
static int run_case(so_transport *t, const mpi_case *k, float *x, int from, int to, const void *state_in,
                    size_t state_in_size, void **state_out, size_t *state_out_size)
{
    so_problem *p = make_problem();
    so_cluster_config cfg;
    make_config(&cfg, k);
    so_cluster *c = p ? so_cluster_create(&cfg, p, t) : NULL;
    if (!c) {
        so_problem_destroy(p);
        return -1;
    }
    int rc = SO_OK;
    if (from == 0) so_problem_init(p, x);
    else rc = so_cluster_load(c, state_in, state_in_size);
    for (int r = from; r < to && rc == SO_OK; r++) rc = so_cluster_round(c, x);
    if (rc == SO_OK && state_out) {
        *state_out_size = so_cluster_state_size(c);
        *state_out = malloc(*state_out_size);
        rc = so_cluster_save(c, *state_out, *state_out_size);
    }
    so_cluster_destroy(c);
    so_problem_destroy(p);
    return rc;
}

static int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, size, f);
    return (fclose(f) == 0 && w == size) ? 0 : -1;
}

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = malloc(n > 0 ? (size_t)n : 1);
    *size = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

/* so_grad_fn for so_dist_optim_step_fn: this rank's gradient from the problem (the federated local steps). */
typedef struct rank_grad {
    so_problem *p;
    so_workspace *w;
} rank_grad;

static int rank_grad_fn(void *user, const float *x, float *g, const so_grad_request *q, double *loss)
{
    rank_grad *r = user;
    return so_problem_grad_sub(r->p, r->w, x, g, q->worker, q->step, q->sub, loss);
}

/* Rounds [from, to) of case k with the per-rank optimizer on communicator comm: this rank computes its worker's
 * gradient (at the point the optimizer names) and steps. Between rounds the test does MPI of its own on
 * MPI_COMM_WORLD. state_in (this rank's) resumes; state_out saves this rank's state at `to`. */
static int run_rank_case(MPI_Comm comm, const mpi_case *k, float *x, int from, int to, const void *state_in,
                         size_t state_in_size, void **state_out, size_t *state_out_size)
{
    so_problem *p = make_problem();
    so_transport *t = so_transport_mpi_comm(comm);
    so_cluster_config cfg;
    make_config(&cfg, k);
    so_dist_optim *o = p && t ? so_dist_optim_create(&cfg, D, NULL, 0, t) : NULL;
    so_workspace *w = p ? so_problem_workspace_new(p) : NULL;
    int rc = o && w ? SO_OK : -1, j = t ? so_transport_rank(t) : 0;
    float y[D], g[D];
    if (rc == SO_OK && from == 0) so_problem_init(p, x);
    else if (rc == SO_OK) rc = so_dist_optim_load(o, state_in, state_in_size);
    rank_grad rg = { p, w };
    for (int r = from; r < to && rc == SO_OK; r++) {
        if (strcmp(k->algo, "fed-mv-sto-signsgd-sim") == 0) {
            rc = so_dist_optim_step_fn(o, x, rank_grad_fn, &rg);
        } else {
            const float *at = so_dist_optim_grad_point(o, x, y) ? y : x;
            rc = so_problem_grad(p, w, at, g, j, so_dist_optim_round(o), NULL);
            if (rc == SO_OK) rc = so_dist_optim_step(o, x, g);
        }
        int mine = r, sum = 0; /* the program's own MPI traffic, interleaved with signopt's */
        MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (sum != NRANKS * r) rc = -1;
    }
    if (rc == SO_OK && state_out) {
        *state_out_size = so_dist_optim_state_size(o);
        *state_out = malloc(*state_out_size);
        rc = so_dist_optim_save(o, *state_out, *state_out_size);
    }
    so_workspace_free(w);
    so_dist_optim_destroy(o);
    so_transport_destroy(t);
    so_problem_destroy(p);
    return rc;
}

/* ---- The MPI side: every rank runs every case and writes what it ends with ---- */

static int child(const char *dir)
{
    MPI_Init(NULL, NULL);
    so_transport *t = so_transport_mpi();
    int rank = t ? so_transport_rank(t) : 0;
    char path[512];
    for (int i = 0; t && i < NCASES; i++) {
        float x[D];
        int rc = run_case(t, &cases[i], x, 0, ROUNDS, NULL, 0, NULL, NULL);
        snprintf(path, sizeof path, "%s/%s.r%d", dir, cases[i].name, rank);
        if (rc == SO_OK) write_file(path, x, sizeof x);
        else fprintf(stderr, "rank %d: %s: %s\n", rank, cases[i].name, so_errmsg());
    }
    /* Resume under MPI from the in-process checkpoint the parent wrote (x and the cluster state). */
    if (t) {
        size_t xs = 0, ss = 0;
        snprintf(path, sizeof path, "%s/resume.x", dir);
        float *x = read_file(path, &xs);
        snprintf(path, sizeof path, "%s/resume.state", dir);
        void *state = rank == 0 ? read_file(path, &ss) : NULL;
        int rc = x && xs == D * sizeof(float) ? run_case(t, &cases[4], x, HALF, ROUNDS, state, ss, NULL, NULL) : -1;
        snprintf(path, sizeof path, "%s/resume.r%d", dir, rank);
        if (rc == SO_OK) write_file(path, x, D * sizeof(float));
        else fprintf(stderr, "rank %d: resume: %s\n", rank, so_errmsg());
        free(x);
        free(state);
    }
    /* Save under MPI after HALF rounds (the root gathers every rank's momentum); the parent resumes in-process. */
    if (t) {
        float x[D];
        void *state = NULL;
        size_t size = 0;
        int rc = run_case(t, &cases[4], x, 0, HALF, NULL, 0, &state, &size);
        if (rc == SO_OK && rank == 0) {
            snprintf(path, sizeof path, "%s/saved.x", dir);
            write_file(path, x, sizeof x);
            snprintf(path, sizeof path, "%s/saved.state", dir);
            write_file(path, state, size);
        } else if (rc != SO_OK) {
            fprintf(stderr, "rank %d: save: %s\n", rank, so_errmsg());
        }
        free(state);
    }
    /* The per-rank optimizer on a communicator of the program's own: world split with the ranks reversed. */
    if (t) {
        MPI_Comm mine;
        MPI_Comm_split(MPI_COMM_WORLD, 0, NRANKS - 1 - rank, &mine);
        int worker = 0;
        MPI_Comm_rank(mine, &worker);
        for (int i = 0; i < NRANK_CASES; i++) {
            float x[D];
            int rc = run_rank_case(mine, &rank_cases[i], x, 0, ROUNDS, NULL, 0, NULL, NULL);
            snprintf(path, sizeof path, "%s/%s.w%d", dir, rank_cases[i].name, worker);
            if (rc == SO_OK) write_file(path, x, sizeof x);
            else fprintf(stderr, "worker %d: %s: %s\n", worker, rank_cases[i].name, so_errmsg());
        }
        /* save this rank's state after HALF rounds, load it into a new optimizer, finish: the same x */
        for (int i = 0; i < NRANK_CASES; i++) {
            float x[D];
            void *state = NULL;
            size_t size = 0;
            int rc = run_rank_case(mine, &rank_cases[i], x, 0, HALF, NULL, 0, &state, &size);
            if (rc == SO_OK) rc = run_rank_case(mine, &rank_cases[i], x, HALF, ROUNDS, state, size, NULL, NULL);
            snprintf(path, sizeof path, "%s/%s.resumed.w%d", dir, rank_cases[i].name, worker);
            if (rc == SO_OK) write_file(path, x, sizeof x);
            else fprintf(stderr, "worker %d: %s resumed: %s\n", worker, rank_cases[i].name, so_errmsg());
            free(state);
        }
        MPI_Comm_free(&mine);
    }
    /* A configuration that differs on rank 2 only. */
    if (t) {
        so_problem *p = make_problem();
        so_cluster_config cfg;
        make_config(&cfg, &cases[0]);
        if (rank == 2) cfg.optim.lr = 0.02;
        so_cluster *c = so_cluster_create(&cfg, p, t);
        char line[600];
        snprintf(line, sizeof line, "%d %s", c ? 0 : SO_ECOMM, c ? "created" : so_errmsg());
        snprintf(path, sizeof path, "%s/mismatch.r%d", dir, rank);
        write_file(path, line, strlen(line));
        so_cluster_destroy(c);
        so_problem_destroy(p);
    }
    so_transport_destroy(t);
    MPI_Finalize();
    return 0;
}

/* ---- The parent: launch the ranks, run the same cases in-process, compare ---- */

static char dir[256];
static int launched;

static void test_mpi_run_completes(void)
{
    CHECK(launched == 0, "mpirun exited with status %d (log in %s/log)", launched, dir);
}

static void compare_case(const mpi_case *k)
{
    so_transport *t = so_transport_local(NRANKS);
    float x[D];
    int rc = run_case(t, k, x, 0, ROUNDS, NULL, 0, NULL, NULL);
    CHECK(rc == SO_OK, "%s in-process: %s", k->name, so_errmsg());
    int moved = 0;
    for (int i = 0; i < D; i++) moved += x[i] != 1.0f;
    CHECK(moved > D / 2, "%s: x barely moved (%d coordinates), the comparison would be weak", k->name, moved);
    for (int r = 0; r < NRANKS; r++) {
        char path[512];
        size_t size = 0;
        snprintf(path, sizeof path, "%s/%s.r%d", dir, k->name, r);
        float *xm = read_file(path, &size);
        CHECK(xm && size == sizeof x, "%s: rank %d wrote no result", k->name, r);
        if (xm && size == sizeof x) {
            int differ = 0;
            for (int i = 0; i < D; i++) differ += memcmp(&xm[i], &x[i], sizeof x[i]) != 0;
            CHECK(differ == 0, "%s: rank %d differs from in-process in %d of %d coordinates", k->name, r, differ, D);
        }
        free(xm);
    }
    so_transport_destroy(t);
}

static void test_mpi_equals_in_process_bitwise(void)
{
    for (int i = 0; i < NCASES; i++) compare_case(&cases[i]);
}

/* Worker j's final x (and its resumed run's) from the per-rank optimizer equals the in-process cluster's. */
static void test_per_rank_optimizer_equals_in_process_cluster(void)
{
    for (int i = 0; i < NRANK_CASES; i++) {
        const mpi_case *k = &rank_cases[i];
        so_transport *t = so_transport_local(NRANKS);
        float x[D];
        CHECK(run_case(t, k, x, 0, ROUNDS, NULL, 0, NULL, NULL) == SO_OK, "%s in-process: %s", k->name, so_errmsg());
        int moved = 0;
        for (int c = 0; c < D; c++) moved += x[c] != 1.0f;
        CHECK(moved > D / 2, "%s: x barely moved (%d coordinates)", k->name, moved);
        for (int w = 0; w < NRANKS; w++)
            for (int resumed = 0; resumed < 2; resumed++) {
                char path[512];
                size_t size = 0;
                snprintf(path, sizeof path, "%s/%s%s.w%d", dir, k->name, resumed ? ".resumed" : "", w);
                float *xm = read_file(path, &size);
                CHECK(xm && size == sizeof x && memcmp(xm, x, sizeof x) == 0,
                      "%s: worker %d%s: the per-rank optimizer's x differs from the in-process cluster's", k->name, w,
                      resumed ? " (saved and loaded halfway)" : "");
                free(xm);
            }
        so_transport_destroy(t);
    }
}

static void test_mpi_resumes_an_in_process_checkpoint(void)
{
    so_transport *t = so_transport_local(NRANKS);
    float x[D];
    CHECK(run_case(t, &cases[4], x, 0, ROUNDS, NULL, 0, NULL, NULL) == SO_OK, "in-process: %s", so_errmsg());
    for (int r = 0; r < NRANKS; r++) {
        char path[512];
        size_t size = 0;
        snprintf(path, sizeof path, "%s/resume.r%d", dir, r);
        float *xm = read_file(path, &size);
        CHECK(xm && size == sizeof x && memcmp(xm, x, sizeof x) == 0,
              "rank %d: 10 in-process rounds + 10 MPI rounds differ from 20 in-process rounds", r);
        free(xm);
    }
    so_transport_destroy(t);
}

static void test_in_process_resumes_an_mpi_checkpoint(void)
{
    so_transport *t = so_transport_local(NRANKS);
    float want[D];
    CHECK(run_case(t, &cases[4], want, 0, ROUNDS, NULL, 0, NULL, NULL) == SO_OK, "in-process: %s", so_errmsg());
    char path[512];
    size_t xs = 0, ss = 0;
    snprintf(path, sizeof path, "%s/saved.x", dir);
    float *x = read_file(path, &xs);
    snprintf(path, sizeof path, "%s/saved.state", dir);
    void *state = read_file(path, &ss);
    CHECK(x && state && xs == sizeof want, "the root wrote no checkpoint");
    if (x && state && xs == sizeof want) {
        int rc = run_case(t, &cases[4], x, HALF, ROUNDS, state, ss, NULL, NULL);
        CHECK(rc == SO_OK, "resume: %s", so_errmsg());
        CHECK(memcmp(x, want, sizeof want) == 0, "10 MPI rounds + 10 in-process rounds differ from 20 in-process");
    }
    free(x);
    free(state);
    so_transport_destroy(t);
}

static void test_mpi_refuses_a_differing_rank(void)
{
    for (int r = 0; r < NRANKS; r++) {
        char path[512];
        size_t size = 0;
        snprintf(path, sizeof path, "%s/mismatch.r%d", dir, r);
        char *line = read_file(path, &size);
        CHECK(line != NULL, "rank %d wrote no verdict", r);
        if (!line) continue;
        line = realloc(line, size + 1);
        line[size] = 0;
        char want[128];
        snprintf(want, sizeof want, "%d rank 2: configuration differs from rank 0 (lr)", SO_ECOMM);
        CHECK(strcmp(line, want) == 0, "rank %d: got '%s', want '%s'", r, line, want);
        free(line);
    }
}

static int parent(void)
{
    snprintf(dir, sizeof dir, "/tmp/signopt-mpi-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        printf("mpi: 0 passed, 1 failed\n");
        return 1;
    }
    /* The checkpoint the ranks resume from: 10 in-process rounds of mv-sto-signsgd-sim (x_prev, momentum). */
    {
        so_transport *t = so_transport_local(NRANKS);
        float x[D];
        void *state = NULL;
        size_t size = 0;
        char path[512];
        if (run_case(t, &cases[4], x, 0, HALF, NULL, 0, &state, &size) == SO_OK) {
            snprintf(path, sizeof path, "%s/resume.x", dir);
            write_file(path, x, sizeof x);
            snprintf(path, sizeof path, "%s/resume.state", dir);
            write_file(path, state, size);
        }
        free(state);
        so_transport_destroy(t);
    }
    char self[512];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        printf("mpi: 0 passed, 1 failed\n");
        return 1;
    }
    self[len] = 0;
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "timeout 120 mpirun -np %d --oversubscribe '%s' --child '%s' >'%s/log' 2>&1", NRANKS,
             self, dir, dir);
    launched = system(cmd);

    RUN(test_mpi_run_completes);
    RUN(test_mpi_equals_in_process_bitwise);
    RUN(test_per_rank_optimizer_equals_in_process_cluster);
    RUN(test_mpi_resumes_an_in_process_checkpoint);
    RUN(test_in_process_resumes_an_mpi_checkpoint);
    RUN(test_mpi_refuses_a_differing_rank);
    if (tests_failed) {
        char log[600];
        snprintf(log, sizeof log, "%s/log", dir);
        size_t size = 0;
        char *text = read_file(log, &size);
        if (text) fprintf(stderr, "mpirun log:\n%.*s\n", (int)size, text);
        free(text);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_report("mpi");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0) return child(argv[2]);
    return parent();
}
