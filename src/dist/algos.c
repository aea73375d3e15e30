/* algos.c — the distributed methods (docs/algorithms.md, "Distributed methods"), each one row of the registry
 * (src/core/registry.c) whose flags the round skeleton in cluster.c reads, and the two halves every round is made
 * of: a worker's part (gradient, state, message) and the server's part (the vote). Only these functions know
 * what the algorithms compute:
 *   mv-signsgd, mv-signum (Bernstein et al. 2018, 2019): send sign(g_j) or sign(m_j), majority vote;
 *   sto-signsgd (Jin et al. 2021): send S_R(g_j), majority vote;
 *   mv-sto-signsgd-sim (seed 001, Algorithm 2): momentum at y = x + alpha (x - x_prev), send S_R(m_j);
 *   fed-mv-sto-signsgd-sim (seed 001, Algorithm 3): the same after K local SGD steps from z^{t,0} = y^t;
 *   mvsm-v1, mvsm-v2 (seed 000, Algorithm 2): momentum from the first gradient, send S_G(v_j); v2's server
 *     returns S_1 of the mean vote (step 8), unbiased;
 *   mv-scaled-signsgd (seed 004, Algorithm 3): send sign(g_m) and ||g_m||_1, x <- x - alpha M_t sign(vote);
 *   dist-sgd, dist-sgdm, dist-adamw: the mean of the fp32 gradients, then the single-node rule. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "cluster_impl.h"

/* g is (d): its largest |g_i|, or -1 when some entry is NaN or infinite. */
static double linf_checked(const float *restrict g, size_t d)
{
    float m = 0.0f;
    int bad = 0;
    for (size_t i = 0; i < d; i++) {
        float a = fabsf(g[i]);
        bad |= !(a <= FLT_MAX);
        m = a > m ? a : m;
    }
    return bad ? -1.0 : (double)m;
}

/* g is (d): ||g||_1, summed in double in coordinate order, sent as a float. */
static float l1_norm(const float *restrict g, size_t d)
{
    double s = 0.0;
    for (size_t i = 0; i < d; i++) s += fabsf(g[i]);
    return (float)s;
}

/* m, g are (d): m <- beta m + (1 - beta) g, or m <- g for the first gradient of a first-grad start. */
static void momentum_update(float *restrict m, const float *restrict g, size_t d, float beta, float one_minus_beta,
                            int take_first)
{
    if (take_first) {
        memcpy(m, g, d * sizeof *m);
        return;
    }
    for (size_t i = 0; i < d; i++) m[i] = beta * m[i] + one_minus_beta * g[i];
}

/* z, g are (d): one local SGD step z <- z - eta g. */
static void local_sgd_step(float *restrict z, const float *restrict g, size_t d, float eta)
{
    for (size_t i = 0; i < d; i++) z[i] = z[i] - eta * g[i];
}

/* A Byzantine worker's message (docs/algorithms.md, "Faults"): the negation of what it would honestly send
 * (sign flip), or signs drawn from (seed, j, step, SO_STREAM_BYZANTINE), +1 where the draw is < 1/2.
 * msg is (words) packed; the unused high bits of the last word stay zero. */
static void corrupt_packed(uint64_t *restrict msg, size_t d, int random_signs, uint64_t seed, int j, uint32_t step)
{
    size_t words = so_packed_words(d);
    if (random_signs) {
        so_rng r;
        so_rng_init(&r, seed, (uint32_t)j, step, SO_STREAM_BYZANTINE);
        memset(msg, 0, words * sizeof *msg);
        for (size_t i = 0; i < d; i++)
            if (so_rng_uniformf(&r) < 0.5f) msg[i / 64] |= (uint64_t)1 << (i % 64);
        return;
    }
    for (size_t w = 0; w < words; w++) msg[w] = ~msg[w];
    if (d % 64) msg[words - 1] &= ((uint64_t)1 << (d % 64)) - 1;
}

/* The fp32 analogue for the uncompressed baselines: send -g (flip), or |g_i| with the random signs above. */
static void corrupt_floats(float *restrict g, size_t d, int random_signs, uint64_t seed, int j, uint32_t step)
{
    if (!random_signs) {
        for (size_t i = 0; i < d; i++) g[i] = -g[i];
        return;
    }
    so_rng r;
    so_rng_init(&r, seed, (uint32_t)j, step, SO_STREAM_BYZANTINE);
    for (size_t i = 0; i < d; i++) g[i] = so_rng_uniformf(&r) < 0.5f ? fabsf(g[i]) : -fabsf(g[i]);
}

/* One gradient of worker j (minibatch stream `sub`) at x into g, folded into *linf; refuses NaN/Inf. */
static int take_gradient(so_cluster *c, so_workspace *ws, const float *x, float *g, int j, uint32_t step, int sub,
                         double *loss, double *linf)
{
    int rc = so_problem_grad_sub(c->p, ws, x, g, j, (long)step, sub, loss);
    if (rc != SO_OK) return rc;
    double a = linf_checked(g, c->d);
    if (a < 0.0)
        return so_error(SO_ENUMERIC, "%s: worker %d: non-finite gradient in round %u", c->algo_id, j, step);
    if (a > *linf) *linf = a;
    return SO_OK;
}

/* so_zero_vote on worker j's packed signs msg of v (bit = v >= 0, so an exact zero is +1 there): RANDOM redraws each
 * zero's bit from (seed, j, step, SO_STREAM_ZERO_VOTE, i); ABSTAIN writes the mask of zeros in the words after the
 * signs. -0.0 is a zero. */
static void zero_votes(const so_cluster *c, uint64_t *msg, const float *v, int j, uint32_t step)
{
    const size_t d = c->d;
    uint64_t *mask = msg + c->words;
    const int abstain = c->cfg.zero_vote == SO_ZERO_VOTE_ABSTAIN;
    if (abstain) memset(mask, 0, c->words * sizeof *mask);
    for (size_t i = 0; i < d; i++) {
        if (v[i] != 0.0f) continue;
        const uint64_t bit = (uint64_t)1 << (i % 64);
        if (abstain) {
            mask[i / 64] |= bit;
        } else if (so_rand_uniformf_at(c->cfg.seed, (uint32_t)j, step, SO_STREAM_ZERO_VOTE, i) < 0.5f) {
            msg[i / 64] &= ~bit;
        }
    }
}

int so__worker_round(so_cluster *c, int j, uint32_t step, const float *point, float *g, float *z,
                     so_workspace *ws)
{
    const so__algo *a = c->algo;
    size_t d = c->d;
    double loss = 0.0, linf = 0.0;
    const float *at = point;
    int rc;
    if (a->local_steps) {
        /* 001 Alg 3, step 2: z^{t,k+1} = z^{t,k} - eta grad f_j(z^{t,k}; xi^{t,k}) for k = 1..K from z = y^t,
         * each on its own minibatch stream (sub = k); the momentum gradient at z^{t,K} below uses the round's
         * ordinary stream (sub = 0), the sample xi^t of the box. */
        memcpy(z, point, d * sizeof *z);
        for (int k = 1; k <= c->cfg.local_steps; k++) {
            rc = take_gradient(c, ws, z, g, j, step, k, NULL, &linf);
            if (rc != SO_OK) return rc;
            local_sgd_step(z, g, d, (float)c->cfg.local_lr);
        }
        at = z;
    }
    rc = take_gradient(c, ws, at, g, j, step, 0, &loss, &linf);
    if (rc != SO_OK) return rc;
    c->stats[j].loss = loss;
    c->stats[j].linf = linf;

    int byzantine = j >= c->n - c->cfg.byzantine;
    if (a->info.uplink == SO_UPLINK_FP32) {
        if (byzantine) corrupt_floats(g, d, c->cfg.byzantine_random, c->cfg.seed, j, step);
        return SO_OK;
    }
    const float *v = g;
    if (a->momentum) {
        size_t k = (size_t)(j - c->first);
        float *m = c->mom + k * d;
        momentum_update(m, g, d, (float)c->cfg.optim.beta, (float)(1.0 - c->cfg.optim.beta),
                        !c->started[k] && c->init == SO_INIT_FIRST_GRAD);
        c->started[k] = 1;
        v = m;
    }
    uint64_t *msg = c->msgs + (size_t)j * c->mwords;
    if (a->info.uplink == SO_UPLINK_SIGN) {
        so_sign_pack(msg, v, d);
        if (c->cfg.zero_vote != SO_ZERO_VOTE_PLUS) zero_votes(c, msg, v, j, step);
    } else {
        so_sign_stochastic_pack(msg, v, d, (float)c->cfg.R, c->cfg.seed, (uint32_t)j, step, SO_STREAM_SIGN);
    }
    /* 004 Alg 3: the magnitude travels beside the signs; a Byzantine worker reports it honestly and attacks
     * only the signs, the attack the fault model names. */
    if (a->info.norm_channel) c->norms[j] = l1_norm(g, d);
    if (byzantine) corrupt_packed(msg, d, c->cfg.byzantine_random, c->cfg.seed, j, step);
    return SO_OK;
}

void so__server_decide(so_cluster *c, uint32_t step)
{
    const so__algo *a = c->algo;
    size_t nrows = (size_t)c->n;
    for (int j = 0; j < c->n; j++) c->rows[j] = c->present[j] ? c->msgs + (size_t)j * c->mwords : NULL;
    if (c->cfg.zero_vote == SO_ZERO_VOTE_ABSTAIN) {
        /* An abstaining zero is counted once as +1 and once as -1: worker j gives two rows, its signs with the
         * zeros as +1 (what it packed) and with the zeros as -1. With P plus, N minus and Z zero votes on a
         * coordinate the 2m rows hold 2P + Z plus votes against a threshold of m = P + N + Z, so the majority is
         * the sign of P - N, a tie exactly when P = N (any m): the majority of the workers that voted. */
        for (int j = 0; j < c->n; j++) {
            uint64_t *neg = c->neg + (size_t)j * c->words;
            if (c->present[j]) {
                const uint64_t *s = c->rows[j], *z = s + c->words;
                for (size_t w = 0; w < c->words; w++) neg[w] = s[w] & ~z[w];
            }
            c->rows[c->n + j] = c->present[j] ? neg : NULL;
        }
        nrows = 2 * (size_t)c->n;
    }
    uint64_t *sign = c->down, *zero = c->down + c->words;
    memset(c->down, 0, c->down_words * sizeof *c->down);
    if (a->info.downlink == SO_DOWNLINK_STOCHASTIC)
        so_vote_stochastic(sign, c->rows, (size_t)c->n, c->d, c->cfg.seed, step);
    else
        so_vote_majority(sign, c->cfg.ties == SO_TIES_ZERO ? zero : NULL, c->rows, nrows, c->d, c->cfg.ties,
                         c->cfg.seed, step);
    if (a->info.norm_channel) {
        /* M_t = (1/M) sum_m ||g_m||_1 over the present workers, summed in worker order, sent as a float. */
        double s = 0.0;
        for (int j = 0; j < c->n; j++)
            if (c->present[j]) s += c->norms[j];
        float M = (float)(s / c->n_present);
        memcpy(&c->down[2 * c->words], &M, sizeof M);
    }
}

void so__round_bits(const so_cluster *c, int m, uint64_t *up, uint64_t *down)
{
    const so__algo *a = c->algo;
    uint64_t d = c->d;
    if (a->info.uplink == SO_UPLINK_FP32) {
        *up = *down = 32 * d;
        return;
    }
    const int abstain = c->cfg.zero_vote == SO_ZERO_VOTE_ABSTAIN;
    *up = d + (a->info.norm_channel ? 32 : 0) + (abstain ? d : 0); /* abstain: the mask of zeros */
    *down = d + (a->info.norm_channel ? 32 : 0);
    /* A tie is possible only with an even number of votes (or, with abstaining zeros, any number); then the zero
     * rule needs its second bit. */
    if (a->info.downlink == SO_DOWNLINK_MAJORITY && c->cfg.ties == SO_TIES_ZERO && (m % 2 == 0 || abstain)) *down += d;
}
