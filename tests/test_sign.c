/* test_sign.c — the wire format (so_sign_pack / so_sign_unpack) and the stochastic sign S_R
 * (so_sign_stochastic_pack), checked bit by bit against rules written out here and, for S_R, against its
 * stated distribution with binomial 5-sigma bounds. */
#include <stdlib.h>
#include "signopt/sign.h"
#include "test.h"

/* Past 4097: one whole block of so_sign_pack's side-by-side runs (65536), blocks then whole words then a partial
 * word, and enough blocks for the threaded path. */
static const size_t ds[] = {1, 63, 64, 65, 1000, 4097, 65536, 3 * 65536 + 5 * 64 + 17, (1u << 22) + 4097};

static int get_bit(const uint64_t *words, size_t i) { return (int)((words[i / 64] >> (i % 64)) & 1); }

/* Values with zeros, -0.0, NaN, tiny and huge magnitudes mixed into a deterministic pattern. */
static float test_value(size_t i)
{
    switch (i % 9) {
    case 0: return 0.0f;
    case 1: return -0.0f;
    case 2: return 1e-30f;
    case 3: return -1e-30f;
    case 4: return (float)NAN;
    default: return (float)(((i * 2654435761u) % 2001) - 1000) * 0.37f;
    }
}

/* bit_i = (v_i >= 0): +0 and -0 give 1, NaN gives 0; unused high bits 0; words written only up to d/64. */
static void test_pack_bits_and_high_bits(void)
{
    for (size_t t = 0; t < sizeof(ds) / sizeof(*ds); t++) {
        size_t d = ds[t], nw = so_packed_words(d), bad = 0;
        float *v = malloc(d * sizeof(float));
        uint64_t *bits = malloc((nw + 1) * sizeof(uint64_t));
        for (size_t i = 0; i < d; i++) v[i] = test_value(i);
        memset(bits, 0xff, (nw + 1) * sizeof(uint64_t));
        so_sign_pack(bits, v, d);
        for (size_t i = 0; i < d; i++) {
            int want = (i % 9 == 0 || i % 9 == 1 || i % 9 == 2) ? 1 : (i % 9 == 3 || i % 9 == 4) ? 0 : v[i] >= 0;
            bad += get_bit(bits, i) != want;
        }
        CHECK(bad == 0, "d=%zu: %zu bits wrong", d, bad);
        for (size_t i = d; i < 64 * nw; i++) CHECK(get_bit(bits, i) == 0, "d=%zu: high bit %zu set", d, i);
        CHECK(bits[nw] == ~(uint64_t)0, "d=%zu: wrote past the last word", d);
        free(v);
        free(bits);
    }
}

/* unpack(pack(v), s) = +s where v >= 0, -s elsewhere; unpack writes exactly d floats. */
static void test_pack_unpack_round_trip(void)
{
    for (size_t t = 0; t < sizeof(ds) / sizeof(*ds); t++) {
        size_t d = ds[t], nw = so_packed_words(d), bad = 0;
        float *v = malloc(d * sizeof(float)), *out = malloc((d + 1) * sizeof(float));
        uint64_t *bits = malloc(nw * sizeof(uint64_t));
        for (size_t i = 0; i < d; i++) v[i] = test_value(i);
        out[d] = 123.0f;
        so_sign_pack(bits, v, d);
        so_sign_unpack(out, bits, d, 0.25f);
        for (size_t i = 0; i < d; i++) bad += out[i] != (v[i] >= 0 ? 0.25f : -0.25f);
        CHECK(bad == 0, "d=%zu: %zu coordinates wrong after the round trip", d, bad);
        CHECK(out[d] == 123.0f, "d=%zu: unpack wrote past d", d);
        /* And the other way: random words (high bits 0) survive unpack then pack. */
        uint64_t *back = malloc(nw * sizeof(uint64_t));
        for (size_t w = 0; w < nw; w++) bits[w] = 0x9E3779B97F4A7C15ull * (w + 1) ^ (w << 17);
        if (d % 64) bits[nw - 1] &= ((uint64_t)1 << (d % 64)) - 1;
        so_sign_unpack(out, bits, d, 1.0f);
        so_sign_pack(back, out, d);
        CHECK(memcmp(back, bits, nw * sizeof(uint64_t)) == 0, "d=%zu: words changed by unpack then pack", d);
        free(back);
        free(v);
        free(out);
        free(bits);
    }
}

/* The exact rule (sign.h): bit_i = u_i < clamp((R + v_i) / (2R), 0, 1), u_i = so_rand_uniformf_at(seed, worker,
 * step, stream, i) — the per-element scalar draw, against the kernel's lane-batched Philox. Includes a d large
 * enough to take the threaded path. */
static void test_stochastic_matches_scalar_draws(void)
{
    size_t sizes[] = {1, 63, 64, 65, 1000, 4097, (1u << 20) + 3};
    float R = 0.5f;
    for (size_t t = 0; t < sizeof(sizes) / sizeof(*sizes); t++) {
        size_t d = sizes[t], nw = so_packed_words(d), bad = 0;
        float *v = malloc(d * sizeof(float));
        uint64_t *bits = malloc(nw * sizeof(uint64_t));
        for (size_t i = 0; i < d; i++) v[i] = (float)((i * 2654435761u) % 1601) / 1600.0f * 1.6f - 0.8f;
        so_sign_stochastic_pack(bits, v, d, R, 0xfeedbeefcafeull, 3, 17, SO_STREAM_SIGN);
        for (size_t i = 0; i < d; i++) {
            float u = so_rand_uniformf_at(0xfeedbeefcafeull, 3, 17, SO_STREAM_SIGN, i);
            float p = (R + v[i]) / (2.0f * R);
            p = p < 0 ? 0 : p > 1 ? 1 : p;
            bad += get_bit(bits, i) != (u < p);
        }
        CHECK(bad == 0, "d=%zu: %zu bits differ from the scalar rule", d, bad);
        for (size_t i = d; i < 64 * nw; i++) CHECK(get_bit(bits, i) == 0, "d=%zu: high bit %zu set", d, i);
        free(v);
        free(bits);
    }
}

/* E[S_R(v)] = v / R for |v| <= R: per coordinate, the mean of S independent draws (steps 0..S-1) is within
 * 5 sigma of v/R, sigma^2 = (1 - (v/R)^2) / S, the binomial standard error. */
static void test_stochastic_unbiased(void)
{
    enum { D = 101, S = 4000 };
    float R = 0.001f, v[D];
    for (int i = 0; i < D; i++) v[i] = R * (2.0f * (float)i / (D - 1) - 1.0f); /* -R .. R */
    long plus[D] = {0};
    uint64_t bits[2];
    for (uint32_t step = 0; step < S; step++) {
        so_sign_stochastic_pack(bits, v, D, R, 7, 0, step, SO_STREAM_SIGN);
        for (int i = 0; i < D; i++) plus[i] += get_bit(bits, i);
    }
    int bad = 0;
    for (int i = 0; i < D; i++) {
        double want = (double)v[i] / R, mean = (2.0 * plus[i] - S) / S;
        double sigma = sqrt((1 - want * want) / S);
        if (fabs(mean - want) > 5 * sigma + 1e-6) {
            bad++;
            fprintf(stderr, "  v/R=%.4f: mean %.4f, want within %.4f\n", want, mean, 5 * sigma);
        }
    }
    CHECK(bad == 0, "%d of %d coordinates biased beyond 5 sigma", bad, D);
}

/* Var[S_R(v)] = 1 - (v/R)^2 with independent coordinates: within one draw, the number of +1 among D
 * coordinates sharing v is Binomial(D, p), p = (1 + v/R)/2, so the count's variance over S draws is
 * D p (1 - p) = D (1 - (v/R)^2) / 4. Correlated coordinates (say, one draw reused for four) would multiply it.
 * Bound: the sample variance of S values has relative standard error sqrt(2 / (S - 1)); 5 of those. */
static void test_stochastic_variance_independent_coordinates(void)
{
    enum { D = 4096, S = 400 };
    float R = 2.0f, *v = malloc(D * sizeof(float));
    for (int i = 0; i < D; i++) v[i] = 0.6f; /* v/R = 0.3 */
    uint64_t bits[D / 64];
    double sum = 0, sum2 = 0;
    for (uint32_t step = 0; step < S; step++) {
        so_sign_stochastic_pack(bits, v, D, R, 11, 2, step, SO_STREAM_SIGN);
        int count = 0;
        for (int i = 0; i < D; i++) count += get_bit(bits, i);
        sum += count;
        sum2 += (double)count * count;
    }
    double mean = sum / S, var = (sum2 - S * mean * mean) / (S - 1);
    double p = 0.65, want = D * p * (1 - p);
    CHECK_CLOSE(mean, D * p, 0, 5 * sqrt(want / S), "mean count of +1");
    CHECK_CLOSE(var, want, 5 * sqrt(2.0 / (S - 1)), 0, "variance of the count of +1");
    free(v);
}

/* Beyond R (and at +-R exactly) S_R is the plain sign, on every draw. */
static void test_stochastic_clamps_to_sign(void)
{
    float R = 0.01f, v[8] = {0.02f, -0.02f, 1e6f, -1e6f, 0.01f, -0.01f, 0.0100001f, -0.0100001f};
    int want[8] = {1, 0, 1, 0, 1, 0, 1, 0};
    int bad = 0;
    for (uint32_t step = 0; step < 2000; step++) {
        uint64_t bits;
        so_sign_stochastic_pack(&bits, v, 8, R, 3, 1, step, SO_STREAM_SIGN);
        for (int i = 0; i < 8; i++) bad += get_bit(&bits, i) != want[i];
    }
    CHECK(bad == 0, "%d draws were not the plain sign beyond R", bad);
}

/* Same key, same bits; a different worker, step or stream, different bits (for 1000 coordinates at v = 0
 * each differs with probability 1/2, so equality means the key was ignored). */
static void test_stochastic_reproducible(void)
{
    enum { D = 1000 };
    float v[D];
    for (int i = 0; i < D; i++) v[i] = 0.0f;
    uint64_t a[16], b[16], c[16], e[16], f[16];
    so_sign_stochastic_pack(a, v, D, 1.0f, 42, 5, 9, SO_STREAM_SIGN);
    so_sign_stochastic_pack(b, v, D, 1.0f, 42, 5, 9, SO_STREAM_SIGN);
    so_sign_stochastic_pack(c, v, D, 1.0f, 42, 6, 9, SO_STREAM_SIGN);
    so_sign_stochastic_pack(e, v, D, 1.0f, 42, 5, 10, SO_STREAM_SIGN);
    so_sign_stochastic_pack(f, v, D, 1.0f, 42, 5, 9, SO_STREAM_USER);
    size_t nw = so_packed_words(D);
    CHECK(memcmp(a, b, nw * 8) == 0, "same key gave different bits");
    CHECK(memcmp(a, c, nw * 8) != 0, "worker 5 and 6 gave the same bits");
    CHECK(memcmp(a, e, nw * 8) != 0, "steps 9 and 10 gave the same bits");
    CHECK(memcmp(a, f, nw * 8) != 0, "two streams gave the same bits");
    int ones = 0;
    for (int i = 0; i < D; i++) ones += get_bit(a, i);
    CHECK(fabs(ones / (double)D - 0.5) <= 5 * 0.5 / sqrt((double)D), "v = 0: %d of %d are +1", ones, D);
}

int main(void)
{
    RUN(test_pack_bits_and_high_bits);
    RUN(test_pack_unpack_round_trip);
    RUN(test_stochastic_matches_scalar_draws);
    RUN(test_stochastic_unbiased);
    RUN(test_stochastic_variance_independent_coordinates);
    RUN(test_stochastic_clamps_to_sign);
    RUN(test_stochastic_reproducible);
    return test_report("sign");
}
