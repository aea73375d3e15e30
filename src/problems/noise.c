/* noise.c — the noise models added to synthetic gradients (docs/algorithms.md, "Noise models"): parsing
 * "none" / "gauss:S" / "pareto:K:S" / "student:NU:S" / "skew:S" / "uniform:S", and keyed sampling.
 *
 * Every draw is a pure function of (seed, worker, step, stream, draw index k): draw k reads the Philox sequence
 * from index k * slot, where slot is a fixed number of 32-bit words per draw for the noise kind. Draws never
 * depend on one another, so any coordinate can be drawn by any thread in any order. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "noise_impl.h"

/* Words one draw may use. Gauss: so_rng_normal takes 4. Pareto: a 2-word uniform and a sign word. Skew: a
 * 2-word uniform. Student: a normal (4) and a Gamma draw by rejection (6 words a try, > 95% acceptance, plus 2
 * for shapes below 1); 64 words hold 9 tries, so a draw spills into its neighbour's slot with probability below
 * 0.05^9 — and even then the result is still a pure function of the key. */
static uint32_t noise_slot(so_noise_kind kind) { return kind == SO_NOISE_STUDENT ? 64u : 4u; }

uint64_t so__noise_max_draws(const so_noise *n)
{
    /* so_rng keeps the block number (index / 4) in one 32-bit counter word: indices below 2^34. */
    return ((uint64_t)1 << 34) / noise_slot(n->kind);
}

static const char *const noise_forms = "none, gauss:S, pareto:K:S, student:NU:S, skew:S or uniform:S";

int so__noise_check(const so_noise *n)
{
    if (!isfinite(n->scale) || n->scale < 0.0)
        return so_error(SO_EINVAL, "noise: scale S must be finite and >= 0, got %g", n->scale);
    switch (n->kind) {
    case SO_NOISE_NONE:
    case SO_NOISE_GAUSS:
    case SO_NOISE_SKEW:
    case SO_NOISE_UNIFORM:
        return SO_OK;
    case SO_NOISE_PARETO:
        /* Tail index K > 1 so that the mean exists and the noise is zero mean (003 asks K in (1,2]; larger K
         * gives lighter tails and is allowed for comparison). */
        if (!isfinite(n->shape) || n->shape <= 1.0)
            return so_error(SO_EINVAL, "noise: pareto:K:S needs a finite tail index K > 1, got K = %g", n->shape);
        return SO_OK;
    case SO_NOISE_STUDENT:
        if (!isfinite(n->shape) || n->shape <= 0.0)
            return so_error(SO_EINVAL, "noise: student:NU:S needs finite NU > 0, got NU = %g", n->shape);
        return SO_OK;
    }
    return so_error(SO_EINVAL, "noise: unknown kind %d (expected %s)", (int)n->kind, noise_forms);
}

/* One field of the description as a finite number; the whole field must be the number. */
static int parse_field(const char *field, double *v)
{
    char *end;
    if (*field == '\0') return 0;
    *v = strtod(field, &end);
    return *end == '\0' && isfinite(*v);
}

int so_noise_parse(so_noise *n, const char *text)
{
    if (!text) return so_error(SO_EINVAL, "noise: no description given (expected %s)", noise_forms);
    char buf[128];
    if (strlen(text) >= sizeof buf)
        return so_error(SO_EINVAL, "noise: description too long (expected %s)", noise_forms);
    strcpy(buf, text);
    char *fields[4];
    int nfields = 0;
    for (char *s = buf;;) {
        if (nfields == 4) return so_error(SO_EINVAL, "noise: too many fields in '%s' (expected %s)", text, noise_forms);
        fields[nfields++] = s;
        char *colon = strchr(s, ':');
        if (!colon) break;
        *colon = '\0';
        s = colon + 1;
    }
    so_noise out = {SO_NOISE_NONE, 0.0, 0.0};
    const char *kind = fields[0], *form;
    int want;
    if (strcmp(kind, "none") == 0) { out.kind = SO_NOISE_NONE; want = 1; form = "none"; }
    else if (strcmp(kind, "gauss") == 0) { out.kind = SO_NOISE_GAUSS; want = 2; form = "gauss:S with S >= 0"; }
    else if (strcmp(kind, "skew") == 0) { out.kind = SO_NOISE_SKEW; want = 2; form = "skew:S with S >= 0"; }
    else if (strcmp(kind, "uniform") == 0) { out.kind = SO_NOISE_UNIFORM; want = 2; form = "uniform:S with S >= 0"; }
    else if (strcmp(kind, "pareto") == 0) {
        out.kind = SO_NOISE_PARETO; want = 3; form = "pareto:K:S with K > 1 (003: K in (1,2]) and S >= 0";
    } else if (strcmp(kind, "student") == 0) {
        out.kind = SO_NOISE_STUDENT; want = 3; form = "student:NU:S with NU > 0 and S >= 0";
    } else return so_error(SO_EINVAL, "noise: unknown model '%s' (expected %s)", text, noise_forms);
    if (nfields != want) return so_error(SO_EINVAL, "noise: '%s' has %d field(s); expected %s", text, nfields, form);
    if (want == 2 && !parse_field(fields[1], &out.scale))
        return so_error(SO_EINVAL, "noise: bad number in '%s'; expected %s", text, form);
    if (want == 3 && (!parse_field(fields[1], &out.shape) || !parse_field(fields[2], &out.scale)))
        return so_error(SO_EINVAL, "noise: bad number in '%s'; expected %s", text, form);
    int rc = so__noise_check(&out);
    if (rc != SO_OK) return so_error(rc, "noise: '%s' is out of range; expected %s", text, form);
    *n = out;
    return SO_OK;
}

/* One draw of the noise from r's current position.
 *
 * gauss:S     S * N(0,1).
 * pareto:K:S  symmetric Pareto (type II, Lomax): |X| = S (U^(-1/K) - 1), U uniform on (0,1], random sign, so
 *             P(|X| > t) = (1 + t/S)^(-K) for t >= 0 — that is, |X| + S is classical Pareto with minimum S and
 *             tail index K. E|X|^p is finite exactly for p < K; symmetric, so zero mean for K > 1. We shift the
 *             classical Pareto to start at 0 because the classical one has no mass in (-S, S): with it,
 *             sign(grad + X) would be a fair coin whenever |grad| < S, a gap effect rather than a tail effect.
 *             The density is largest at 0, so the noise is symmetric and unimodal with heavy tails (003).
 * student:NU:S  S * Z / sqrt(V / NU), Z ~ N(0,1), V ~ chi^2(NU) = 2 Gamma(NU/2): Student-t with NU degrees of
 *             freedom. E|X|^p is finite for p < NU: NU <= 2 has infinite variance, and for NU <= 1 (Cauchy at
 *             NU = 1) the noise is symmetric about 0 but has no mean.
 * skew:S      X = +3S with probability 1/4, X = -S with probability 3/4. Zero mean (3S/4 - 3S/4), variance 3 S^2,
 *             third moment 6 S^3 > 0 (skewed), two atoms (not unimodal). For a gradient coordinate
 *             0 < grad_i < S, grad_i + X is negative exactly when X = -S, so at batch 1
 *             P(sign(grad_i + X) != sign(grad_i)) = 3/4 > 1/2 and E[sign(grad_i + X)] = -1/2: signSGD moves
 *             uphill on average while the mean of many draws (momentum, large batch) has the right sign. This
 *             is the two-point counterexample behind the failure of signSGD without the unimodal symmetric
 *             assumption (Karimireddy et al. 2019, discussed by 000 and 001).
 * uniform:S   S (2U - 1), U uniform on [0, 1): uniform on [-S, S), zero mean, variance S^2/3, |X| <= S. Bounded, so
 *             a stochastic gradient stays within S of the true one: the assumption of 000 Thm 3-5 (Ass. 8,
 *             |grad f_j(x; xi)|_inf <= G) and 001 Thm 3 (Ass. 4) can then hold along a run. */
static double noise_draw(const so_noise *n, so_rng *r)
{
    switch (n->kind) {
    case SO_NOISE_GAUSS:
        return n->scale * so_rng_normal(r);
    case SO_NOISE_PARETO: {
        double u = 1.0 - so_rng_uniform(r); /* (0, 1] */
        double magnitude = n->scale * (pow(u, -1.0 / n->shape) - 1.0);
        return (so_rng_u32(r) & 1u) ? magnitude : -magnitude;
    }
    case SO_NOISE_STUDENT: {
        double z = so_rng_normal(r);
        double v = 2.0 * so_rng_gamma(r, 0.5 * n->shape);
        if (v < DBL_MIN) v = DBL_MIN; /* Gamma underflow for tiny NU: keep the draw finite where possible */
        return n->scale * z / sqrt(v / n->shape);
    }
    case SO_NOISE_SKEW:
        return so_rng_uniform(r) < 0.25 ? 3.0 * n->scale : -n->scale;
    case SO_NOISE_UNIFORM:
        return n->scale * (2.0 * so_rng_uniform(r) - 1.0);
    case SO_NOISE_NONE:
        break;
    }
    return 0.0;
}

void so__noise_mean(float *out, size_t d, const so_noise *n, uint64_t seed, uint32_t worker, uint32_t step,
                    uint32_t stream, int batch)
{
    if (n->kind == SO_NOISE_NONE || n->scale == 0.0 || d == 0) {
        memset(out, 0, d * sizeof *out);
        return;
    }
    const uint64_t slot = noise_slot(n->kind);
    const int parallel = (uint64_t)d * (uint64_t)batch >= 32768;
#pragma omp parallel if (parallel)
    {
        so_rng r;
        so_rng_init(&r, seed, worker, step, stream);
#pragma omp for schedule(static)
        for (size_t i = 0; i < d; i++) {
            double sum = 0.0;
            for (int b = 0; b < batch; b++) {
                so_rng_seek(&r, ((uint64_t)b * d + i) * slot);
                sum += noise_draw(n, &r);
            }
            out[i] = (float)(sum / batch);
        }
    }
}

void so_noise_sample(float *out, size_t d, const so_noise *n, uint64_t seed, uint32_t worker, uint32_t step)
{
    so__noise_mean(out, d, n, seed, worker, step, SO_STREAM_NOISE, 1);
}
