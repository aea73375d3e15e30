/* test_rng.c — the counter-based generator (src/core/rng.c): Philox4x32-10 known answers, the (seed, worker,
 * step, stream, index) mapping, sequential = random access, seek, and the samplers' distributions.
 * Statistical checks use 5-sigma bounds or the 99.9% chi-square quantile, with fixed seeds, so a correct
 * generator passes deterministically and a biased one (off by more than the bound) fails. */
#include <stdlib.h>
#include "signopt/core.h"
#include "test.h"

/* Known answers from Random123's kat_vectors file (Salmon et al., Random123 1.09, examples/kat_vectors),
 * lines "philox4x32 10 CTR[4] KEY[2] EXPECTED[4]". */
static void test_philox_known_answers(void)
{
    static const uint32_t kat[3][10] = {
        {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
         0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
         0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
         0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        so_philox4x32(out, kat[t], kat[t] + 4);
        for (int k = 0; k < 4; k++)
            CHECK(out[k] == kat[t][6 + k], "vector %d word %d: got %08x, want %08x", t, k, out[k], kat[t][6 + k]);
    }
}

/* core.h: key = seed (low word first), counter = (index / 4, step, worker, stream); draw i is output i % 4. */
static void test_draw_mapping_matches_raw_philox(void)
{
    uint64_t seed = 0x0123456789abcdefull;
    so_rng r;
    so_rng_init(&r, seed, 7, 11, SO_STREAM_SIGN);
    uint32_t key[2] = {0x89abcdef, 0x01234567};
    for (uint64_t i = 0; i < 64; i++) {
        uint32_t ctr[4] = {(uint32_t)(i / 4), 11, 7, SO_STREAM_SIGN}, out[4];
        so_philox4x32(out, ctr, key);
        uint32_t got = so_rng_u32(&r);
        CHECK(got == out[i % 4], "draw %llu: got %08x, want %08x", (unsigned long long)i, got, out[i % 4]);
        float u = so_rand_uniformf_at(seed, 7, 11, SO_STREAM_SIGN, i);
        CHECK(u == (float)(out[i % 4] >> 8) / 16777216.0f, "uniformf_at %llu", (unsigned long long)i);
    }
}

static void test_sequential_equals_random_access(void)
{
    const uint64_t seeds[] = {0, 1, 42, 0xffffffffffffffffull};
    for (int s = 0; s < 4; s++)
        for (uint32_t stream = 1; stream <= 11; stream += 5) {
            so_rng r;
            so_rng_init(&r, seeds[s], 3, 1000 + stream, stream);
            size_t bad = 0;
            for (uint64_t i = 0; i < 4099; i++)
                bad += so_rng_uniformf(&r) != so_rand_uniformf_at(seeds[s], 3, 1000 + stream, stream, i);
            CHECK(bad == 0, "seed %d stream %u: %zu draws differ", s, stream, bad);
        }
}

static void test_seek(void)
{
    so_rng a, b;
    so_rng_init(&a, 99, 1, 2, 3);
    uint32_t seq[1000];
    for (int i = 0; i < 1000; i++) seq[i] = so_rng_u32(&a);
    const uint64_t targets[] = {0, 1, 3, 4, 5, 998, 511, 2, 7, 400, 401, 0};
    so_rng_init(&b, 99, 1, 2, 3);
    for (size_t t = 0; t < sizeof(targets) / sizeof(*targets); t++) {
        so_rng_seek(&b, targets[t]);
        CHECK(so_rng_u32(&b) == seq[targets[t]], "seek to %llu", (unsigned long long)targets[t]);
        CHECK(so_rng_u32(&b) == seq[targets[t] + 1], "draw after seek to %llu", (unsigned long long)targets[t]);
    }
    /* A far index: the random-access form is the reference. */
    so_rng_seek(&b, 123456789012ull);
    CHECK(so_rng_uniformf(&b) == so_rand_uniformf_at(99, 1, 2, 3, 123456789012ull), "far seek");
}

/* Different worker, step, stream or seed: a different sequence (a collision of 8 draws means a mapping bug). */
static void test_keys_give_distinct_sequences(void)
{
    uint32_t first[5][8];
    so_rng r;
    const uint32_t cfg[5][4] = {{1, 0, 0, 1}, {2, 0, 0, 1}, {1, 1, 0, 1}, {1, 0, 1, 1}, {1, 0, 0, 2}};
    for (int c = 0; c < 5; c++) {
        so_rng_init(&r, cfg[c][0], cfg[c][1], cfg[c][2], cfg[c][3]);
        for (int i = 0; i < 8; i++) first[c][i] = so_rng_u32(&r);
    }
    for (int a = 0; a < 5; a++)
        for (int b = a + 1; b < 5; b++) CHECK(memcmp(first[a], first[b], sizeof first[a]) != 0, "%d == %d", a, b);
}

/* In [0, 1), mean 1/2 within 5 sigma (sigma^2 = 1/(12 N)). */
static void test_uniform_range_and_mean(void)
{
    enum { N = 1000000 };
    so_rng r;
    so_rng_init(&r, 5, 0, 0, SO_STREAM_USER);
    double sf = 0, sd = 0, minf = 1, maxf = 0, mind = 1, maxd = 0;
    for (int i = 0; i < N; i++) {
        float f = so_rng_uniformf(&r);
        double d = so_rng_uniform(&r);
        sf += f;
        sd += d;
        minf = f < minf ? f : minf;
        maxf = f > maxf ? f : maxf;
        mind = d < mind ? d : mind;
        maxd = d > maxd ? d : maxd;
    }
    CHECK(minf >= 0 && maxf < 1, "uniformf range [%g, %g]", minf, maxf);
    CHECK(mind >= 0 && maxd < 1, "uniform range [%g, %g]", mind, maxd);
    double tol = 5 * sqrt(1.0 / (12.0 * N));
    CHECK_CLOSE(sf / N, 0.5, 0, tol, "uniformf mean");
    CHECK_CLOSE(sd / N, 0.5, 0, tol, "uniform mean");
    /* The largest 24-bit draw maps strictly below 1: (2^24 - 1) / 2^24 as the code computes it. */
    CHECK((float)(0xffffffffu >> 8) * 0x1.0p-24f < 1.0f, "top draw reaches 1");
}

/* Chi-square of bucket counts against equal expected counts. */
static double chi_square(const long *count, int k, long total)
{
    double e = (double)total / k, x = 0;
    for (int b = 0; b < k; b++) x += (count[b] - e) * (count[b] - e) / e;
    return x;
}

/* so_rng_below(10): chi-square on 10 buckets, df = 9, 99.9% quantile 27.88. so_rng_below(3 * 2^62): a modulo
 * reduction without rejection would put half the mass in the first third; buckets v / 2^62, df = 2, 99.9%
 * quantile 13.82. */
static void test_below_unbiased(void)
{
    enum { N = 200000 };
    so_rng r;
    so_rng_init(&r, 17, 0, 0, SO_STREAM_USER);
    long c10[10] = {0}, c3[3] = {0};
    int out_of_range = 0;
    for (int i = 0; i < N; i++) {
        uint64_t v = so_rng_below(&r, 10);
        out_of_range += v >= 10;
        if (v < 10) c10[v]++;
        uint64_t big = 3ull << 62, w = so_rng_below(&r, big);
        out_of_range += w >= big;
        if (w < big) c3[w >> 62]++;
    }
    CHECK(out_of_range == 0, "%d draws out of range", out_of_range);
    double x10 = chi_square(c10, 10, N), x3 = chi_square(c3, 3, N);
    CHECK(x10 < 27.88, "below(10): chi-square %.2f >= 27.88 (df 9, p = 0.001)", x10);
    CHECK(x3 < 13.82, "below(3*2^62): chi-square %.2f >= 13.82 (df 2, p = 0.001)", x3);
    CHECK(so_rng_below(&r, 1) == 0, "below(1)");
}

/* Standard normal: mean 0 within 5/sqrt(N), variance 1 within 5 sqrt(2/N), and P(|z| > 1.96) = 0.05 within
 * 5 binomial sigmas. */
static void test_normal_moments(void)
{
    enum { N = 400000 };
    so_rng r;
    so_rng_init(&r, 23, 0, 0, SO_STREAM_USER);
    double s = 0, s2 = 0;
    long tail = 0;
    for (int i = 0; i < N; i++) {
        double z = so_rng_normal(&r);
        s += z;
        s2 += z * z;
        tail += fabs(z) > 1.959963984540054;
    }
    double mean = s / N, var = s2 / N - mean * mean;
    CHECK_CLOSE(mean, 0.0, 0, 5 / sqrt((double)N), "normal mean");
    CHECK_CLOSE(var, 1.0, 0, 5 * sqrt(2.0 / N), "normal variance");
    CHECK_CLOSE((double)tail / N, 0.05, 0, 5 * sqrt(0.05 * 0.95 / N), "P(|z| > 1.96)");
}

/* Gamma(k, 1): mean k within 5 sqrt(k/N); variance k within 5 sqrt((2k^2 + 6k)/N) (the variance of the sample
 * variance, mu4 - sigma^4 with mu4 = 3k^2 + 6k); shapes below 1 take the boost path. All draws positive. */
static void test_gamma_moments(void)
{
    enum { N = 200000 };
    const double shapes[] = {0.1, 0.5, 1.0, 2.5, 10.0};
    for (int s = 0; s < 5; s++) {
        double k = shapes[s], sum = 0, sum2 = 0;
        int nonpositive = 0;
        so_rng r;
        so_rng_init(&r, 29, 0, (uint32_t)s, SO_STREAM_USER);
        for (int i = 0; i < N; i++) {
            double g = so_rng_gamma(&r, k);
            nonpositive += !(g > 0);
            sum += g;
            sum2 += g * g;
        }
        double mean = sum / N, var = sum2 / N - mean * mean;
        char what[64];
        snprintf(what, sizeof what, "gamma(%g) mean", k);
        CHECK_CLOSE(mean, k, 0, 5 * sqrt(k / N), what);
        snprintf(what, sizeof what, "gamma(%g) variance", k);
        CHECK_CLOSE(var, k, 0, 5 * sqrt((2 * k * k + 6 * k) / N), what);
        CHECK(nonpositive == 0, "gamma(%g): %d draws <= 0", k, nonpositive);
    }
}

int main(void)
{
    RUN(test_philox_known_answers);
    RUN(test_draw_mapping_matches_raw_philox);
    RUN(test_sequential_equals_random_access);
    RUN(test_seek);
    RUN(test_keys_give_distinct_sequences);
    RUN(test_uniform_range_and_mean);
    RUN(test_below_unbiased);
    RUN(test_normal_moments);
    RUN(test_gamma_moments);
    return test_report("rng");
}
