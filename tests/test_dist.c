/* test_dist.c — the distributed methods (src/dist/) against a plain float reference written here: unpacked
 * +-1 floats, votes summed in plain loops, the same keyed random draws (so_rand_uniformf_at), on the noisy
 * quadratic. Also: thread-count and pattern independence, dropout, Byzantine workers, bit accounting, the
 * fault-tolerance claim of Bernstein et al. 2019, configuration checks, checkpoints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "signopt.h"
#include "test.h"

enum { D = 70 }; /* two packed words, the second partly used */

static so_problem *quadratic_dim(int n, double noise, uint64_t seed, size_t dim)
{
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = dim;
    pc.x0 = 1.0;
    pc.workers = n;
    pc.seed = seed;
    if (noise > 0) {
        pc.noise.kind = SO_NOISE_GAUSS;
        pc.noise.scale = noise;
    }
    so_problem *p = so_problem_create(&pc);
    if (!p) fprintf(stderr, "problem: %s\n", so_errmsg());
    return p;
}

static so_problem *quadratic(int n, double noise, uint64_t seed) { return quadratic_dim(n, noise, seed, D); }

/* In-process transports by worker count, shared by the tests and freed at the end of main. */
static so_transport *transports[16];

static so_transport *local(int n)
{
    if (!transports[n]) transports[n] = so_transport_local(n);
    return transports[n];
}

/* Run `rounds` rounds of cfg on p with n in-process workers from x0 = 1; x gets the final iterate. */
static int run_cluster(const so_cluster_config *cfg, so_problem *p, int n, float *x, int rounds, so_cluster **keep)
{
    so_transport *t = local(n);
    so_cluster *c = so_cluster_create(cfg, p, t);
    if (!c) {
        fprintf(stderr, "  cluster: %s\n", so_errmsg());
        return -1;
    }
    so_problem_init(p, x);
    int rc = SO_OK;
    for (int r = 0; r < rounds && rc == SO_OK; r++) rc = so_cluster_round(c, x);
    if (rc != SO_OK) fprintf(stderr, "  round: %s\n", so_errmsg());
    if (keep) *keep = c; /* the caller destroys it */
    else so_cluster_destroy(c);
    return rc;
}

/* ---- The reference: the algorithms of docs/algorithms.md written as directly as possible ---- */

typedef struct ref {
    const char *algo;
    double lr, beta, R, alpha, local_lr, dropout, beta2, eps, wd;
    int local_steps, byzantine, byzantine_random, first_grad, ties_positive;
    uint64_t seed;
    int n;
    double g_linf, last_loss;
    long up_bits; /* summed over workers */
} ref;

static int has(const char *algo, const char *what) { return strstr(algo, what) != NULL; }

static void ref_run(ref *r, so_problem *p, float *x, int rounds)
{
    const char *a = r->algo;
    int n = r->n;
    int momentum = has(a, "signum") || has(a, "sim") || has(a, "mvsm");
    int stochastic = has(a, "sto") || has(a, "mvsm");
    int fp32 = has(a, "dist-");
    float *m = calloc((size_t)n * D, sizeof *m), *g = malloc(D * sizeof *g), *z = malloc(D * sizeof *z);
    float *xprev = malloc(D * sizeof *xprev), *y = malloc(D * sizeof *y), *s = malloc((size_t)n * D * sizeof *s);
    float *mean = malloc(D * sizeof *mean), *b = calloc(D, sizeof *b), *v2 = calloc(D, sizeof *v2);
    float *norms = malloc((size_t)n * sizeof *norms);
    int *started = calloc((size_t)n, sizeof *started), *present = malloc((size_t)n * sizeof *present);
    so_workspace *ws = so_problem_workspace_new(p);
    so_problem_init(p, x);
    memcpy(xprev, x, D * sizeof *x);
    long opt_steps = 0;
    r->g_linf = 0;
    for (int t = 0; t < rounds; t++) {
        int mp = 0;
        for (int j = 0; j < n; j++) {
            present[j] = !(r->dropout > 0 && so_rand_uniformf_at(r->seed, j, t, SO_STREAM_DROPOUT, 0) < r->dropout);
            mp += present[j];
        }
        for (int i = 0; i < D; i++) y[i] = x[i] + (float)r->alpha * (x[i] - xprev[i]);
        if (mp == 0) {
            memcpy(xprev, x, D * sizeof *x);
            continue;
        }
        double loss_sum = 0;
        for (int i = 0; i < D; i++) mean[i] = 0.0f;
        for (int j = 0; j < n; j++) {
            if (!present[j]) continue;
            const float *at = y;
            if (has(a, "fed")) {
                memcpy(z, y, D * sizeof *z);
                for (int k = 1; k <= r->local_steps; k++) {
                    so_problem_grad_sub(p, ws, z, g, j, t, k, NULL);
                    for (int i = 0; i < D; i++) {
                        if (fabsf(g[i]) > r->g_linf) r->g_linf = fabsf(g[i]);
                        z[i] = z[i] - (float)r->local_lr * g[i];
                    }
                }
                at = z;
            }
            double loss;
            so_problem_grad_sub(p, ws, at, g, j, t, 0, &loss);
            loss_sum += loss;
            double l1 = 0;
            for (int i = 0; i < D; i++) {
                if (fabsf(g[i]) > r->g_linf) r->g_linf = fabsf(g[i]);
                l1 += fabsf(g[i]);
            }
            norms[j] = (float)l1;
            int byz = j >= n - r->byzantine;
            if (fp32) {
                for (int i = 0; i < D; i++) {
                    float gi = g[i];
                    if (byz && !r->byzantine_random) gi = -gi;
                    if (byz && r->byzantine_random)
                        gi = so_rand_uniformf_at(r->seed, j, t, SO_STREAM_BYZANTINE, i) < 0.5f ? fabsf(gi) : -fabsf(gi);
                    mean[i] += gi;
                }
                continue;
            }
            float *mj = m + (size_t)j * D, *sj = s + (size_t)j * D;
            const float *v = g;
            if (momentum) {
                for (int i = 0; i < D; i++)
                    mj[i] = (!started[j] && r->first_grad) ? g[i]
                                                            : (float)r->beta * mj[i] + (float)(1.0 - r->beta) * g[i];
                started[j] = 1;
                v = mj;
            }
            for (int i = 0; i < D; i++) {
                float si;
                if (stochastic) {
                    float u = so_rand_uniformf_at(r->seed, j, t, SO_STREAM_SIGN, i);
                    si = u < ((float)r->R + v[i]) / (2.0f * (float)r->R) ? 1.0f : -1.0f;
                } else {
                    si = v[i] >= 0 ? 1.0f : -1.0f;
                }
                if (byz) si = r->byzantine_random ? (so_rand_uniformf_at(r->seed, j, t, SO_STREAM_BYZANTINE, i) < 0.5f ? 1.0f : -1.0f)
                                                  : -si;
                sj[i] = si;
            }
        }
        r->last_loss = loss_sum / mp;
        memcpy(xprev, x, D * sizeof *x);
        if (fp32) {
            /* mean of the present gradients, then the single-node rule (PyTorch conventions) */
            for (int i = 0; i < D; i++) mean[i] /= (float)mp;
            opt_steps++;
            for (int i = 0; i < D; i++) {
                if (has(a, "sgdm")) {
                    b[i] = opt_steps == 1 ? mean[i] : (float)r->beta * b[i] + mean[i];
                    x[i] -= (float)r->lr * b[i];
                } else if (has(a, "adamw")) {
                    double b1 = r->beta, b2 = r->beta2;
                    b[i] = (float)(b1 * b[i] + (1 - b1) * mean[i]);
                    v2[i] = (float)(b2 * v2[i] + (1 - b2) * (double)mean[i] * mean[i]);
                    double mh = b[i] / (1 - pow(b1, (double)opt_steps)), vh = v2[i] / (1 - pow(b2, (double)opt_steps));
                    double xi = x[i] * (1 - r->lr * r->wd);
                    x[i] = (float)(xi - r->lr * mh / (sqrt(vh) + r->eps));
                } else {
                    x[i] -= (float)r->lr * mean[i];
                }
            }
            continue;
        }
        double M = 0;
        for (int j = 0; j < n; j++)
            if (present[j]) M += norms[j];
        float Mt = (float)(M / mp);
        for (int i = 0; i < D; i++) {
            float sum = 0, plus = 0;
            for (int j = 0; j < n; j++)
                if (present[j]) {
                    sum += s[(size_t)j * D + i];
                    plus += s[(size_t)j * D + i] > 0;
                }
            float vote;
            if (has(a, "mvsm-v2")) {
                double u = so_rand_uniformf_at(r->seed, 0, t, SO_STREAM_DOWN, i);
                vote = u * mp < plus ? 1.0f : -1.0f;
            } else {
                vote = sum > 0 ? 1.0f : sum < 0 ? -1.0f : (r->ties_positive ? 1.0f : 0.0f);
            }
            float scale = has(a, "scaled") ? (float)(r->lr * (double)Mt) : (float)r->lr;
            x[i] = x[i] - scale * vote;
        }
    }
    so_workspace_free(ws);
    free(m); free(g); free(z); free(xprev); free(y); free(s); free(mean); free(b); free(v2); free(norms);
    free(started); free(present);
}

static void config_from_ref(so_cluster_config *c, const ref *r)
{
    so_cluster_config_default(c);
    c->optim.algo = r->algo;
    c->optim.lr = r->lr;
    c->optim.beta = r->beta;
    c->optim.beta2 = r->beta2;
    c->optim.eps = r->eps;
    c->optim.weight_decay = r->wd;
    c->R = r->R;
    c->optim.alpha = r->alpha;
    c->local_steps = r->local_steps;
    c->local_lr = r->local_lr;
    c->dropout = r->dropout;
    c->byzantine = r->byzantine;
    c->byzantine_random = r->byzantine_random;
    c->ties = r->ties_positive ? SO_TIES_POSITIVE : SO_TIES_ZERO;
    c->seed = r->seed;
    c->optim.momentum_init = r->first_grad ? SO_INIT_FIRST_GRAD : SO_INIT_ZERO;
}

static ref ref_default(const char *algo, int n)
{
    ref r;
    memset(&r, 0, sizeof r);
    r.algo = algo;
    r.n = n;
    r.lr = 0.01;
    r.beta = 0.9;
    r.beta2 = 0.999;
    r.eps = 1e-8;
    r.R = 4.0; /* of the order of the gradients, so the stochastic signs really are random */
    r.local_steps = 3;
    r.local_lr = 0.02;
    r.seed = 11;
    r.first_grad = has(algo, "mvsm");
    return r;
}

/* Compare the cluster with the reference for `rounds` rounds: bitwise for the sign methods (the same float
 * operations), |dx| <= tol for the fp32 rules (the optimizer's own operation order). */
static void check_against_reference(ref r, int rounds, double tol, double noise)
{
    so_problem *p = quadratic(r.n, noise, 5);
    float xr[D], xc[D];
    ref_run(&r, p, xr, rounds);
    so_cluster_config cfg;
    config_from_ref(&cfg, &r);
    so_cluster *c = NULL;
    CHECK(run_cluster(&cfg, p, r.n, xc, rounds, &c) == SO_OK, "%s ran", r.algo);
    if (!c) {
        so_problem_destroy(p);
        return;
    }
    double worst = 0;
    int moved = 0;
    for (int i = 0; i < D; i++) {
        worst = fmax(worst, fabs((double)xc[i] - xr[i]));
        moved += xr[i] != 1.0f;
    }
    if (tol == 0) CHECK(memcmp(xc, xr, sizeof xc) == 0, "%s n=%d: x differs from the reference by up to %g", r.algo, r.n, worst);
    else CHECK(worst <= tol, "%s: |x - ref| up to %g > %g", r.algo, worst, tol);
    CHECK(moved > D / 2, "%s: the reference barely moved (%d coordinates)", r.algo, moved);
    /* The fp32 rules' iterates differ from the reference by rounding, and so do the gradients taken there. */
    CHECK_CLOSE(so_cluster_g_linf(c), r.g_linf, tol == 0 ? 0 : 1e-5, 0, "g_linf equals the reference's largest |g_i|");
    CHECK_CLOSE(so_cluster_last_loss(c), r.last_loss, tol == 0 ? 1e-12 : 1e-5, 0,
                "last loss: mean minibatch loss of the present");
    CHECK(so_cluster_round_count(c) == rounds, "round count %ld", so_cluster_round_count(c));
    so_cluster_destroy(c);
    so_problem_destroy(p);
}

static void test_sign_methods_equal_reference_bitwise(void)
{
    const char *ids[] = { "mv-signsgd", "mv-signum", "sto-signsgd", "mv-sto-signsgd-sim", "fed-mv-sto-signsgd-sim",
                          "mvsm-v1", "mvsm-v2", "mv-scaled-signsgd" };
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        check_against_reference(ref_default(ids[k], 5), 12, 0, 3.0);
        check_against_reference(ref_default(ids[k], 4), 12, 0, 3.0); /* even: ties vote zero */
    }
    ref r = ref_default("mv-signsgd", 4);
    r.ties_positive = 1;
    check_against_reference(r, 12, 0, 3.0);
}

static void test_double_momentum_extrapolates_like_001_alg2(void)
{
    /* alpha = theta / (1 - theta): 001's double momentum; gradients at y = x + alpha (x - x_prev). */
    ref r = ref_default("mv-sto-signsgd-sim", 5);
    r.alpha = r.beta / (1 - r.beta);
    check_against_reference(r, 15, 0, 1.0);
    r.algo = "fed-mv-sto-signsgd-sim";
    check_against_reference(r, 15, 0, 1.0);
}

static void test_first_grad_and_zero_starts_differ_as_stated(void)
{
    /* mv-signum defaults to zero; with first-grad it must follow the reference's m_1 = g_1 instead. */
    ref r = ref_default("mv-signum", 3);
    r.first_grad = 1;
    check_against_reference(r, 10, 0, 3.0);
    r = ref_default("mvsm-v1", 3);
    r.first_grad = 0;
    check_against_reference(r, 10, 0, 3.0);
}

static void test_fp32_baselines_equal_reference(void)
{
    check_against_reference(ref_default("dist-sgd", 5), 12, 1e-6, 3.0);
    check_against_reference(ref_default("dist-sgdm", 4), 12, 1e-6, 3.0);
    ref r = ref_default("dist-adamw", 3);
    r.wd = 0.1;
    check_against_reference(r, 12, 1e-5, 3.0);
}

static void test_results_do_not_depend_on_threads_or_pattern(void)
{
    /* Large enough (n d >= 2^15) that the cluster really runs its workers on several threads. */
    enum { N = 7, DIM = 5000 };
    const char *ids[] = { "mv-signsgd", "mv-signum", "sto-signsgd", "mv-sto-signsgd-sim", "fed-mv-sto-signsgd-sim",
                          "mvsm-v1", "mvsm-v2", "mv-scaled-signsgd", "dist-sgd", "dist-sgdm", "dist-adamw" };
    so_problem *p = quadratic_dim(N, 2.0, 3, DIM);
    so_transport *t = so_transport_local(N);
    float *x[3];
    for (int v = 0; v < 3; v++) x[v] = malloc(DIM * sizeof(float));
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        so_cluster_config cfg;
        so_cluster_config_default(&cfg);
        cfg.optim.algo = ids[k];
        cfg.optim.lr = 0.02;
        cfg.R = 3.0;
        cfg.optim.alpha = 0.5;
        cfg.dropout = 0.2;
        cfg.byzantine = 1;
        cfg.local_steps = 2;
        for (int v = 0; v < 3; v++) {
            cfg.threads = v == 0 ? 1 : v == 1 ? 3 : 2;
            cfg.pattern = v == 2 ? SO_PATTERN_ALLGATHER : SO_PATTERN_PS;
            so_cluster *c = so_cluster_create(&cfg, p, t);
            so_problem_init(p, x[v]);
            for (int r = 0; r < 8; r++) so_cluster_round(c, x[v]);
            so_cluster_destroy(c);
        }
        CHECK(memcmp(x[0], x[1], DIM * sizeof(float)) == 0, "%s: threads 1 and 3 give different x", ids[k]);
        CHECK(memcmp(x[0], x[2], DIM * sizeof(float)) == 0, "%s: PS and allgather give different x", ids[k]);
    }
    for (int v = 0; v < 3; v++) free(x[v]);
    so_transport_destroy(t);
    so_problem_destroy(p);
}

static void test_dropout_votes_over_the_present(void)
{
    /* The reference draws who is present from (seed, j, t, SO_STREAM_DROPOUT); absent workers keep their
     * momentum untouched, which the momentum methods' equality checks. */
    const char *ids[] = { "mv-signsgd", "mv-signum", "mvsm-v2", "mv-scaled-signsgd", "dist-sgdm" };
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        ref r = ref_default(ids[k], 6);
        r.dropout = 0.4;
        check_against_reference(r, 15, has(ids[k], "dist") ? 1e-6 : 0, 3.0);
    }
    /* P = 1: nobody is ever present: x stays, nothing is sent. */
    so_problem *p = quadratic(3, 1.0, 1);
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.dropout = 1.0;
    float x[D];
    so_cluster *c = NULL;
    run_cluster(&cfg, p, 3, x, 5, &c);
    int still = 1;
    for (int i = 0; i < D; i++) still &= x[i] == 1.0f;
    CHECK(still, "with every worker absent x must not move");
    uint64_t up, down;
    so_cluster_bits(c, &up, &down);
    CHECK(up == 0 && down == 0, "absent workers send nothing: up %llu down %llu", (unsigned long long)up,
          (unsigned long long)down);
    so_cluster_destroy(c);
    so_problem_destroy(p);
}

static void test_byzantine_workers_send_flipped_or_random_signs(void)
{
    const char *ids[] = { "mv-signsgd", "sto-signsgd", "mv-signum", "mv-scaled-signsgd", "dist-sgd" };
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        for (int rnd = 0; rnd < 2; rnd++) {
            ref r = ref_default(ids[k], 5);
            r.byzantine = 2;
            r.byzantine_random = rnd;
            check_against_reference(r, 10, has(ids[k], "dist") ? 1e-6 : 0, 3.0);
        }
    }
    /* All n flipping with exact gradients: every step goes uphill, so x moves away from 0 by lr each round. */
    so_problem *p = quadratic(3, 0, 1);
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.byzantine = 3;
    cfg.optim.lr = 0.125;
    float x[D];
    run_cluster(&cfg, p, 3, x, 4, NULL);
    int uphill = 1;
    for (int i = 0; i < D; i++) uphill &= x[i] == 1.5f;
    CHECK(uphill, "3 of 3 flipping from x = 1 with lr 1/8 must reach 1.5 after 4 rounds (x0 = %g)", x[0]);
    so_problem_destroy(p);
}

static void bits_after(const char *algo, int n, so_ties ties, int rounds, uint64_t *up, uint64_t *down,
                       uint64_t *up_r, uint64_t *down_r)
{
    so_problem *p = quadratic(n, 1.0, 1);
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.optim.algo = algo;
    cfg.ties = ties;
    cfg.R = 1.0;
    float x[D];
    so_cluster *c = NULL;
    run_cluster(&cfg, p, n, x, rounds, &c);
    so_cluster_bits(c, up, down);
    so_cluster_bits_per_round(c, up_r, down_r);
    so_cluster_destroy(c);
    so_problem_destroy(p);
}

static void test_bits_are_counted_by_hand(void)
{
    uint64_t up, down, ur, dr;
    /* d = 70 coordinates, 7 rounds. */
    bits_after("mv-signsgd", 5, SO_TIES_ZERO, 7, &up, &down, &ur, &dr);
    CHECK(up == 7 * 70 && down == 7 * 70 && ur == 70 && dr == 70, "odd n: 1 bit each way: %llu %llu",
          (unsigned long long)up, (unsigned long long)down);
    bits_after("mv-signsgd", 4, SO_TIES_ZERO, 7, &up, &down, &ur, &dr);
    CHECK(up == 7 * 70 && down == 7 * 140 && dr == 140, "even n, ties zero: 2 bits down: %llu",
          (unsigned long long)down);
    bits_after("mv-signsgd", 4, SO_TIES_POSITIVE, 7, &up, &down, &ur, &dr);
    CHECK(down == 7 * 70, "even n, ties positive: 1 bit down: %llu", (unsigned long long)down);
    bits_after("mvsm-v2", 4, SO_TIES_ZERO, 7, &up, &down, &ur, &dr);
    CHECK(down == 7 * 70, "mvsm-v2's S_1 downlink has no ties: 1 bit: %llu", (unsigned long long)down);
    bits_after("mv-scaled-signsgd", 3, SO_TIES_ZERO, 7, &up, &down, &ur, &dr);
    CHECK(up == 7 * (70 + 32) && down == 7 * (70 + 32), "scaled: + one float each way: %llu %llu",
          (unsigned long long)up, (unsigned long long)down);
    bits_after("dist-sgdm", 4, SO_TIES_ZERO, 7, &up, &down, &ur, &dr);
    CHECK(up == 7 * 32 * 70 && down == 7 * 32 * 70 && ur == 32 * 70, "fp32: 32 bits a coordinate: %llu",
          (unsigned long long)up);

    /* Dropout: only the present count; by hand from the draws. n = 4, P = 0.5, 9 rounds. */
    so_problem *p = quadratic(4, 1.0, 1);
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.dropout = 0.5;
    cfg.seed = 77;
    float x[D];
    so_cluster *c = NULL;
    run_cluster(&cfg, p, 4, x, 9, &c);
    uint64_t want_up = 0, want_down = 0;
    for (int t = 0; t < 9; t++) {
        int m = 0;
        for (int j = 0; j < 4; j++) m += !(so_rand_uniformf_at(77, j, t, SO_STREAM_DROPOUT, 0) < 0.5);
        want_up += (uint64_t)m * 70;
        want_down += (uint64_t)m * (m % 2 == 0 ? 140 : 70);
    }
    so_cluster_bits(c, &up, &down);
    CHECK(up == want_up / 4 && down == want_down / 4, "dropout bits: got %llu/%llu, want %llu/%llu",
          (unsigned long long)up, (unsigned long long)down, (unsigned long long)(want_up / 4),
          (unsigned long long)(want_down / 4));
    so_cluster_destroy(c);
    so_problem_destroy(p);
}

static void test_random_ties_always_step(void)
{
    /* Two workers with noise tie often; with ties = random no coordinate may stay put in a round. */
    so_problem *p = quadratic(2, 5.0, 9);
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.ties = SO_TIES_RANDOM;
    cfg.optim.lr = 0.125;
    so_transport *t = so_transport_local(2);
    so_cluster *c = so_cluster_create(&cfg, p, t);
    float x[D], before[D];
    so_problem_init(p, x);
    int stayed = 0;
    for (int r = 0; r < 5; r++) {
        memcpy(before, x, sizeof x);
        so_cluster_round(c, x);
        for (int i = 0; i < D; i++) stayed += x[i] == before[i];
    }
    CHECK(stayed == 0, "%d coordinate-rounds did not move under random ties", stayed);
    so_cluster_destroy(c);
    so_transport_destroy(t);
    so_problem_destroy(p);
}

/* --zero-vote (so_zero_vote) on mv-signsgd with gradients given by hand, 5 workers, d = 70 (two words), lr 1, x0 = 0,
 * so x after one round is minus the vote. Coordinate i: worker j's gradient is plus (+1), minus (-1) or an exact
 * zero by a fixed pattern. Checked against the rules counted here, not by the library:
 * plus: a zero votes +1 (sign(P + Z - N)); abstain: the majority of the voters, sign(P - N), a tie (P = N, any
 * number of voters) giving no step under ties = zero; random: each zero is +1 or -1 from its own draw
 * (so_rand_uniformf_at(seed, j, 0, SO_STREAM_ZERO_VOTE, i) < 1/2: -1), so the vote is the majority of the
 * completed signs. The bits: abstain adds d to the uplink (the mask) and the zero bit to the downlink with 5
 * (odd) workers. */
static void test_zero_vote_rules(void)
{
    enum { N = 5, DZ = 70 };
    float g[N * DZ];
    int plus[DZ], minus[DZ], zeros[DZ];
    for (int i = 0; i < DZ; i++) {
        plus[i] = minus[i] = zeros[i] = 0;
        for (int j = 0; j < N; j++) {
            const int k = (i * 7 + j * 3 + (i / 5) * j) % 5; /* 0, 1: +, 2: -, 3, 4: zero */
            const float v = k <= 1 ? 0.5f + (float)j : k == 2 ? -0.25f : 0.0f;
            g[j * DZ + i] = (k == 4 && (i + j) % 2) ? -0.0f : v;
            plus[i] += k <= 1;
            minus[i] += k == 2;
            zeros[i] += k >= 3;
        }
    }
    const so_zero_vote modes[3] = { SO_ZERO_VOTE_PLUS, SO_ZERO_VOTE_ABSTAIN, SO_ZERO_VOTE_RANDOM };
    const char *names[3] = { "plus", "abstain", "random" };
    int abstain_ties = 0, abstain_moves_differ = 0;
    for (int k = 0; k < 3; k++) {
        so_cluster_config cfg;
        so_cluster_config_default(&cfg);
        cfg.optim.algo = "mv-signsgd";
        cfg.optim.lr = 1.0;
        cfg.seed = 11;
        cfg.zero_vote = modes[k];
        so_transport *t = so_transport_local(N);
        so_dist_optim *o = so_dist_optim_create(&cfg, DZ, NULL, 0, t);
        CHECK(o != NULL, "%s: %s", names[k], so_errmsg());
        if (!o) { so_transport_destroy(t); continue; }
        float x[DZ] = { 0 };
        CHECK(so_dist_optim_step(o, x, g) == SO_OK, "%s: %s", names[k], so_errmsg());
        int bad = 0;
        for (int i = 0; i < DZ; i++) {
            int net;
            if (k == 0) net = plus[i] + zeros[i] - minus[i];
            else if (k == 1) net = plus[i] - minus[i];
            else {
                net = plus[i] - minus[i];
                for (int j = 0; j < N; j++)
                    if (g[j * DZ + i] == 0.0f)
                        net += so_rand_uniformf_at(11, (uint32_t)j, 0, SO_STREAM_ZERO_VOTE, (uint64_t)i) < 0.5f ? -1 : 1;
            }
            const float want = net > 0 ? -1.0f : net < 0 ? 1.0f : 0.0f;
            if (x[i] != want && bad++ < 3) CHECK(0, "%s: coordinate %d moved %g, want %g", names[k], i, x[i], want);
            if (k == 1) {
                abstain_ties += net == 0;
                abstain_moves_differ += (plus[i] + zeros[i] - minus[i] > 0) != (net > 0);
            }
        }
        CHECK(bad == 0, "%s: %d coordinates off", names[k], bad);
        uint64_t up, down;
        so_dist_optim_bits(o, &up, &down);
        CHECK(up == (k == 1 ? 2u * DZ : (uint64_t)DZ) && down == (k == 1 ? 2u * DZ : (uint64_t)DZ),
              "%s: bits up %llu down %llu", names[k], (unsigned long long)up, (unsigned long long)down);
        so_dist_optim_destroy(o);
        so_transport_destroy(t);
    }
    /* the pattern must make the rules disagree, or the test would not tell them apart */
    CHECK(abstain_ties > 0 && abstain_moves_differ > 0, "pattern: %d abstain ties, %d differences", abstain_ties,
          abstain_moves_differ);
    /* refused where it has no meaning */
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.optim.algo = "sto-signsgd";
    cfg.zero_vote = SO_ZERO_VOTE_RANDOM;
    so_transport *t = so_transport_local(N);
    CHECK(so_dist_optim_create(&cfg, DZ, NULL, 0, t) == NULL && strstr(so_errmsg(), "zero vote"),
          "sto-signsgd with a zero vote: %s", so_errmsg());
    cfg.optim.algo = "mv-signsgd";
    cfg.zero_vote = SO_ZERO_VOTE_ABSTAIN;
    cfg.pattern = SO_PATTERN_SHARDED;
    CHECK(so_dist_optim_create(&cfg, DZ, NULL, 0, t) == NULL && strstr(so_errmsg(), "sharded"),
          "abstain with sharded: %s", so_errmsg());
    so_transport_destroy(t);
}

static double final_loss(int byzantine, uint64_t seed)
{
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = 100;
    pc.x0 = 1.0;
    pc.workers = 9;
    pc.seed = seed;
    pc.noise.kind = SO_NOISE_GAUSS;
    pc.noise.scale = 2.0;
    so_problem *p = so_problem_create(&pc);
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.optim.algo = "mv-signsgd";
    cfg.optim.lr = 0.01;
    cfg.byzantine = byzantine;
    cfg.seed = seed;
    float x[100];
    so_transport *t = so_transport_local(9);
    so_cluster *c = so_cluster_create(&cfg, p, t);
    so_problem_init(p, x);
    for (int r = 0; r < 300; r++) so_cluster_round(c, x);
    so_eval ev;
    so_problem_eval(p, x, &ev);
    so_cluster_destroy(c);
    so_transport_destroy(t);
    so_problem_destroy(p);
    return ev.loss;
}

static void test_two_of_nine_flippers_cost_little(void)
{
    /* Bernstein et al. 2019: majority vote tolerates a minority of sign-flipping workers; with a fraction a of
     * them the bound degrades by about 1/(1 - 2a) = 9/5 in the gradient norm, so we allow a factor 4 in the loss
     * (a square) over the clean run; a flipping majority (5 of 9) makes the vote point uphill and the loss
     * grows past its start (275 = 1/2 sum L_i at x = 1). Mean of 3 seeds. */
    double clean = 0, two = 0, five = 0;
    for (uint64_t s = 1; s <= 3; s++) {
        clean += final_loss(0, s) / 3;
        two += final_loss(2, s) / 3;
        five += final_loss(5, s) / 3;
    }
    fprintf(stderr, "  quadratic d=100, 300 rounds: loss clean %.4g, 2/9 flip %.4g, 5/9 flip %.4g\n", clean, two, five);
    CHECK(clean < 0.05 * 275, "the clean run must converge: %g", clean);
    CHECK(two <= 4 * clean, "2 of 9 flipping: %g > 4 x clean %g", two, clean);
    CHECK(five > 275, "5 of 9 flipping must not descend: %g", five);
}

static void test_learning_rate_follows_the_schedule_per_round(void)
{
    /* Exact gradients L_i x_i > 0 near x = 1: every vote is +1, so after 3 rounds of exp:0.5 with lr 1/8,
     * x = 1 - (1 + 1/2 + 1/4) / 8 = 0.78125 exactly. dist-sgd gets the same schedule through its optimizer:
     * x_i <- x_i (1 - lr_t L_i), by hand. */
    so_problem *p = quadratic(3, 0, 1);
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.optim.lr = 0.125;
    CHECK(so_schedule_parse(&cfg.optim.schedule, "exp:0.5") == SO_OK, "exp:0.5 parses");
    float x[D];
    run_cluster(&cfg, p, 3, x, 3, NULL);
    int exact = 1;
    for (int i = 0; i < D; i++) exact &= x[i] == 0.78125f;
    CHECK(exact, "mv-signsgd with exp:0.5: x[0] = %.9g, want 0.78125", x[0]);
    cfg.optim.algo = "dist-sgd";
    cfg.optim.lr = 0.05;
    run_cluster(&cfg, p, 3, x, 3, NULL);
    double worst = 0;
    for (int i = 0; i < D; i++) {
        double L = 1 + 9.0 * i / (D - 1), want = 1;
        for (int t = 0; t < 3; t++) want *= 1 - 0.05 * pow(0.5, t) * L;
        worst = fmax(worst, fabs(x[i] - want));
    }
    CHECK(worst < 1e-6, "dist-sgd with exp:0.5 differs from the hand product by %g", worst);
    so_problem_destroy(p);
}

static void test_config_is_validated(void)
{
    so_problem *p = quadratic(3, 0, 1);
    so_transport *t3 = so_transport_local(3), *t4 = so_transport_local(4);
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.optim.algo = "mv-signsgdd";
    CHECK(!so_cluster_create(&cfg, p, t3) && strstr(so_errmsg(), "unknown algorithm"), "unknown id: %s", so_errmsg());
    cfg.optim.algo = "sgd";
    CHECK(!so_cluster_create(&cfg, p, t3), "a single-node id is not distributed");
    so_cluster_config_default(&cfg);
    CHECK(!so_cluster_create(&cfg, p, t4) && strstr(so_errmsg(), "3 workers"), "workers mismatch: %s", so_errmsg());
    const char *stochastic[] = { "sto-signsgd", "mvsm-v2", "mv-sto-signsgd-sim" };
    for (int k = 0; k < 3; k++) {
        cfg.optim.algo = stochastic[k];
        cfg.R = 0;
        CHECK(!so_cluster_create(&cfg, p, t3) && strstr(so_errmsg(), "R must be"), "%s R = 0: %s", stochastic[k],
              so_errmsg());
        cfg.R = -1;
        CHECK(!so_cluster_create(&cfg, p, t3), "%s R < 0 accepted", stochastic[k]);
    }
    so_cluster_config_default(&cfg);
    cfg.optim.algo = "mv-signum";
    cfg.optim.beta = 1.0;
    CHECK(!so_cluster_create(&cfg, p, t3), "beta = 1 accepted");
    so_cluster_config_default(&cfg);
    cfg.dropout = 1.5;
    CHECK(!so_cluster_create(&cfg, p, t3), "dropout 1.5 accepted");
    so_cluster_config_default(&cfg);
    cfg.byzantine = 4;
    CHECK(!so_cluster_create(&cfg, p, t3), "4 Byzantine of 3 accepted");
    so_cluster_config_default(&cfg);
    cfg.optim.algo = "fed-mv-sto-signsgd-sim";
    cfg.local_steps = 0;
    CHECK(!so_cluster_create(&cfg, p, t3), "K = 0 accepted");
    const char *const *ids = so_dist_algos();
    int count = 0;
    for (; ids[count]; count++) CHECK(so_dist_is_algo(ids[count]), "%s listed but unknown", ids[count]);
    CHECK(count == 11, "11 distributed ids, got %d", count);
    so_transport_destroy(t3);
    so_transport_destroy(t4);
    so_problem_destroy(p);
}

static void test_checkpoint_resumes_exactly(void)
{
    const char *ids[] = { "mvsm-v1", "mv-sto-signsgd-sim", "dist-adamw", "mv-scaled-signsgd" };
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        so_problem *p = quadratic(4, 2.0, 4);
        so_cluster_config cfg;
        so_cluster_config_default(&cfg);
        cfg.optim.algo = ids[k];
        cfg.optim.lr = 0.02;
        cfg.R = 3.0;
        cfg.optim.alpha = 2.0;
        cfg.dropout = 0.25;
        so_transport *t = so_transport_local(4);
        so_cluster *a = so_cluster_create(&cfg, p, t), *b = so_cluster_create(&cfg, p, t);
        float xa[D], xb[D];
        so_problem_init(p, xa);
        for (int r = 0; r < 6; r++) so_cluster_round(a, xa);
        size_t size = so_cluster_state_size(a);
        unsigned char *buf = malloc(size);
        CHECK(so_cluster_save(a, buf, size) == SO_OK, "%s save: %s", ids[k], so_errmsg());
        memcpy(xb, xa, sizeof xa);
        for (int r = 0; r < 6; r++) so_cluster_round(a, xa);
        CHECK(so_cluster_load(b, buf, size) == SO_OK, "%s load: %s", ids[k], so_errmsg());
        CHECK(so_cluster_round_count(b) == 6, "round counter restored");
        for (int r = 0; r < 6; r++) so_cluster_round(b, xb);
        CHECK(memcmp(xa, xb, sizeof xa) == 0, "%s: resumed run differs", ids[k]);
        uint64_t ua, da, ub, db;
        so_cluster_bits(a, &ua, &da);
        so_cluster_bits(b, &ub, &db);
        CHECK(ua == ub && da == db, "bit counters restored");
        buf[0] ^= 1;
        CHECK(so_cluster_load(b, buf, size) == SO_EFORMAT, "a corrupt magic is refused");
        buf[0] ^= 1;
        CHECK(so_cluster_load(b, buf, size - 1) == SO_EFORMAT, "a truncated state is refused");
        so_cluster_config other = cfg;
        other.optim.algo = "mv-signsgd";
        so_cluster *o = so_cluster_create(&other, p, t);
        CHECK(so_cluster_load(o, buf, size) == SO_EFORMAT, "another algorithm's state is refused");
        so_cluster_destroy(o);
        free(buf);
        so_cluster_destroy(a);
        so_cluster_destroy(b);
        so_transport_destroy(t);
        so_problem_destroy(p);
    }
}

static void test_nonfinite_gradients_fail_the_round(void)
{
    /* 2 workers x 2^15 coordinates: the workers run on two threads and both fail; worker 0's message wins. */
    enum { DIM = 1 << 15 };
    so_problem *p = quadratic_dim(2, 0, 1, DIM);
    so_cluster_config cfg;
    so_cluster_config_default(&cfg);
    cfg.threads = 2;
    so_transport *t = so_transport_local(2);
    so_cluster *c = so_cluster_create(&cfg, p, t);
    float *x = malloc(DIM * sizeof *x);
    so_problem_init(p, x);
    x[3] = INFINITY;
    int rc = so_cluster_round(c, x);
    CHECK(rc == SO_ENUMERIC && strstr(so_errmsg(), "worker 0"), "rc %d: %s", rc, so_errmsg());
    free(x);
    so_cluster_destroy(c);
    so_transport_destroy(t);
    so_problem_destroy(p);
}

int main(void)
{
    RUN(test_sign_methods_equal_reference_bitwise);
    RUN(test_double_momentum_extrapolates_like_001_alg2);
    RUN(test_first_grad_and_zero_starts_differ_as_stated);
    RUN(test_fp32_baselines_equal_reference);
    RUN(test_results_do_not_depend_on_threads_or_pattern);
    RUN(test_dropout_votes_over_the_present);
    RUN(test_byzantine_workers_send_flipped_or_random_signs);
    RUN(test_bits_are_counted_by_hand);
    RUN(test_random_ties_always_step);
    RUN(test_zero_vote_rules);
    RUN(test_two_of_nine_flippers_cost_little);
    RUN(test_learning_rate_follows_the_schedule_per_round);
    RUN(test_config_is_validated);
    RUN(test_checkpoint_resumes_exactly);
    RUN(test_nonfinite_gradients_fail_the_round);
    for (int n = 0; n < 16; n++) so_transport_destroy(transports[n]);
    return test_report("dist");
}
