/* test_vote.c — the packed majority vote (src/sign/vote.c) against a naive reference written here: every row
 * unpacked to +1/-1 and summed in a plain loop, the sign of the sum taken by hand. */
#include <stdlib.h>
#include "signopt/sign.h"
#include "../src/sign/vote_range.h"
#include "test.h"

/* Inputs come from splitmix64 (Steele, Lea, Flood 2014), independent of the library's Philox. */
static uint64_t mix_state;
static uint64_t next_u64(void)
{
    uint64_t z = (mix_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int get_bit(const uint64_t *words, size_t i) { return (int)((words[i / 64] >> (i % 64)) & 1); }

/* Naive per-coordinate sum of +1/-1 votes over present rows, and the number present. */
static long *naive_sums(const uint64_t *const *rows, size_t n, size_t d, size_t *m_out)
{
    long *sum = calloc(d, sizeof(long));
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
        if (!rows[j]) continue;
        m++;
        for (size_t i = 0; i < d; i++) sum[i] += get_bit(rows[j], i) ? 1 : -1;
    }
    *m_out = m;
    return sum;
}

static const size_t ns[] = {1, 2, 3, 8, 9, 16, 17, 64, 127, 128, 1000};
static const size_t ds[] = {1, 63, 65, 1000, 4097};

/* n random packed rows of d coordinates, unused high bits 0; row j is NULL (absent) where bit j % 64 of
 * `absent` is set. The block is kept apart from the row pointers, which may be NULL. */
typedef struct rowset { const uint64_t **rows; uint64_t *block; } rowset;
static rowset rowset_make(size_t n, size_t d, uint64_t absent)
{
    size_t nw = so_packed_words(d);
    rowset s;
    s.rows = malloc((n + 1) * sizeof(*s.rows));
    s.block = malloc(n * nw * sizeof(uint64_t));
    for (size_t j = 0; j < n; j++) {
        uint64_t *r = s.block + j * nw;
        for (size_t w = 0; w < nw; w++) r[w] = next_u64();
        if (d % 64) r[nw - 1] &= ((uint64_t)1 << (d % 64)) - 1;
        s.rows[j] = ((absent >> (j % 64)) & 1) ? NULL : r;
    }
    return s;
}
static void rowset_free(rowset s) { free(s.rows); free(s.block); }

static void test_count_matches_naive(void)
{
    mix_state = 1;
    for (size_t a = 0; a < sizeof(ns) / sizeof(*ns); a++)
        for (size_t b = 0; b < sizeof(ds) / sizeof(*ds); b++)
            for (int with_absent = 0; with_absent < 2; with_absent++) {
                size_t n = ns[a], d = ds[b];
                rowset s = rowset_make(n, d, with_absent ? 0x8000000000000025ull : 0);
                size_t m;
                long *sum = naive_sums((const uint64_t *const *)s.rows, n, d, &m);
                uint32_t *counts = malloc(d * sizeof(uint32_t));
                so_vote_count(counts, (const uint64_t *const *)s.rows, n, d);
                size_t bad = 0;
                for (size_t i = 0; i < d; i++) bad += (long)counts[i] * 2 - (long)m != sum[i];
                CHECK(bad == 0, "n=%zu d=%zu absent=%d: %zu counts differ from the naive sum", n, d, with_absent,
                      bad);
                free(counts);
                free(sum);
                rowset_free(s);
            }
}

/* One majority vote against the naive rule: sum > 0 -> +1, sum < 0 -> -1, sum == 0 -> the tie rule. For the
 * random rule, the tie bit is bit i % 32 of u32 draw i / 32 of (seed, 0, step, SO_STREAM_TIES), read here with
 * the sequential so_rng (sign.h states this mapping). */
static size_t check_majority(const uint64_t *const *rows, size_t n, size_t d, so_ties ties, uint64_t seed,
                             uint32_t step)
{
    size_t nw = so_packed_words(d), m, bad = 0;
    long *sum = naive_sums(rows, n, d, &m);
    uint64_t *sign = malloc(nw * 8), *zero = malloc(nw * 8);
    memset(sign, 0xA5, nw * 8);
    memset(zero, 0x5A, nw * 8);
    size_t got_m = so_vote_majority(sign, zero, rows, n, d, ties, seed, step);
    if (got_m != m) bad++;
    so_rng r;
    so_rng_init(&r, seed, 0, step, SO_STREAM_TIES);
    uint32_t draw = 0;
    for (size_t i = 0; i < d; i++) {
        if (i % 32 == 0) draw = so_rng_u32(&r);
        int want_sign, want_zero = 0;
        if (m == 0) want_sign = 0;
        else if (sum[i] > 0) want_sign = 1;
        else if (sum[i] < 0) want_sign = 0;
        else if (ties == SO_TIES_ZERO) { want_sign = 0; want_zero = 1; }
        else if (ties == SO_TIES_POSITIVE) want_sign = 1;
        else want_sign = (draw >> (i % 32)) & 1;
        bad += get_bit(sign, i) != want_sign;
        bad += get_bit(zero, i) != want_zero;
    }
    for (size_t i = d; i < 64 * nw; i++) bad += get_bit(sign, i) + get_bit(zero, i); /* high bits stay 0 */
    free(sign);
    free(zero);
    free(sum);
    return bad;
}

static void test_majority_matches_naive_each_tie_rule(void)
{
    mix_state = 2;
    for (size_t a = 0; a < sizeof(ns) / sizeof(*ns); a++)
        for (size_t b = 0; b < sizeof(ds) / sizeof(*ds); b++)
            for (int ties = 0; ties < 3; ties++) {
                size_t n = ns[a], d = ds[b];
                rowset s = rowset_make(n, d, 0);
                size_t bad = check_majority((const uint64_t *const *)s.rows, n, d, (so_ties)ties, 77, 5);
                CHECK(bad == 0, "n=%zu d=%zu ties=%d: %zu bits differ from the naive vote", n, d, ties, bad);
                rowset_free(s);
            }
}

/* A count larger than the caches (32 MiB of counts, d not a multiple of 64: vote.c streams such counts past the
 * cache when the array is 32-byte aligned) into an aligned array and into one that is not 16-byte aligned, by the
 * path of at most 8 rows (n = 5) and the tiled one (n = 12), against the naive sum; nothing is written past
 * counts[d - 1]. */
static void test_count_large_both_paths(void)
{
    mix_state = 7;
    const size_t d = (size_t)8 << 20 | 37, ns[] = {5, 12};
    uint32_t *buf = aligned_alloc(64, ((d + 8) * sizeof(uint32_t) + 63) / 64 * 64); /* C11: a multiple of 64 */
    for (int a = 0; a < 2; a++) {
        const size_t n = ns[a];
        rowset s = rowset_make(n, d, 0);
        size_t m;
        long *sum = naive_sums((const uint64_t *const *)s.rows, n, d, &m);
        for (int off = 0; off < 2; off++) { /* off 0: 64-byte aligned; off 1: 4 bytes past it, not 16-aligned */
            uint32_t *counts = buf + off;
            memset(buf, 0xff, (d + 8) * sizeof(uint32_t));
            so_vote_count(counts, (const uint64_t *const *)s.rows, n, d);
            size_t bad = 0;
            for (size_t i = 0; i < d; i++) bad += (long)counts[i] * 2 - (long)m != sum[i];
            CHECK(bad == 0, "n=%zu d=%zu offset %d words: %zu counts differ from the naive sum", n, d, off, bad);
            CHECK(counts[d] == 0xffffffffu, "n=%zu offset %d: wrote past counts[d - 1]", n, off);
        }
        free(sum);
        rowset_free(s);
    }
    free(buf);
}

/* Absent workers: the vote is over those present (m = present count), and parity follows m, not n. */
static void test_majority_with_absent_rows(void)
{
    mix_state = 3;
    const uint64_t masks[] = {0x1, 0x2, 0x8000000000000025ull, 0x5555555555555555ull};
    for (size_t a = 0; a < sizeof(ns) / sizeof(*ns); a++)
        for (size_t mi = 0; mi < 4; mi++)
            for (int ties = 0; ties < 3; ties++) {
                size_t n = ns[a], d = 1000;
                rowset s = rowset_make(n, d, masks[mi]);
                size_t bad = check_majority((const uint64_t *const *)s.rows, n, d, (so_ties)ties, 9, 1);
                CHECK(bad == 0, "n=%zu absent=%llx ties=%d: %zu bits differ", n, (unsigned long long)masks[mi],
                      ties, bad);
                rowset_free(s);
            }
    /* Everyone absent: returns 0 and all-zero output (sign.h). */
    const uint64_t *none[3] = {NULL, NULL, NULL};
    uint64_t sign[2] = {~0ull, ~0ull}, zero[2] = {~0ull, ~0ull};
    CHECK(so_vote_majority(sign, zero, none, 3, 100, SO_TIES_ZERO, 1, 1) == 0, "m = 0");
    CHECK(sign[0] == 0 && sign[1] == 0 && zero[0] == 0 && zero[1] == 0, "m = 0 output not zero");
}

/* d = 0: nothing to write; the present count is still returned. */
static void test_empty_dimension(void)
{
    uint64_t row = 0, out = 0x1234, zero = 0x5678;
    const uint64_t *rows[3] = {&row, NULL, &row};
    uint32_t count = 77;
    CHECK(so_vote_majority(&out, &zero, rows, 3, 0, SO_TIES_ZERO, 1, 1) == 2, "m");
    CHECK(so_vote_stochastic(&out, rows, 3, 0, 1, 1) == 2, "m (stochastic)");
    so_vote_count(&count, rows, 3, 0);
    CHECK(out == 0x1234 && zero == 0x5678 && count == 77, "wrote with d = 0");
}

/* Many words and 1000 rows: crosses tile boundaries and takes the threaded path. */
static void test_majority_large_n_many_tiles(void)
{
    mix_state = 4;
    size_t n = 1000, d = 5 * 16384 + 77;
    rowset s = rowset_make(n, d, 0x10);
    for (int ties = 0; ties < 3; ties++) {
        size_t bad = check_majority((const uint64_t *const *)s.rows, n, d, (so_ties)ties, 123, 9);
        CHECK(bad == 0, "ties=%d: %zu bits differ", ties, bad);
    }
    rowset_free(s);
}

/* Rows a power of two bytes apart (d = 65536: 8 KiB) share cache sets; vote.c copies such rows to a staging block
 * before counting. Same answers either way: 40 rows = two groups of 16 and a rest of 8. */
static void test_majority_power_of_two_stride(void)
{
    mix_state = 7;
    size_t n = 40, d = 65536;
    rowset s = rowset_make(n, d, 0);
    for (int ties = 0; ties < 3; ties++) {
        size_t bad = check_majority((const uint64_t *const *)s.rows, n, d, (so_ties)ties, 5, 2);
        CHECK(bad == 0, "ties=%d: %zu bits differ", ties, bad);
    }
    rowset_free(s);
}

/* Majority (each tie rule, against check_majority) and so_vote_count (against the naive sums) on one row set; the
 * naive sums and m are returned for further checks (free the sums). */
static long *check_majority_and_count(const uint64_t *const *rows, size_t n, size_t d, uint64_t seed, uint32_t step,
                                      size_t *m)
{
    for (int ties = 0; ties < 3; ties++) {
        size_t bad = check_majority(rows, n, d, (so_ties)ties, seed, step);
        CHECK(bad == 0, "n=%zu d=%zu ties=%d: %zu bits differ from the naive vote", n, d, ties, bad);
    }
    long *sum = naive_sums(rows, n, d, m);
    uint32_t *counts = malloc(d * sizeof(uint32_t));
    so_vote_count(counts, rows, n, d);
    size_t bad = 0;
    for (size_t i = 0; i < d; i++) bad += (long)counts[i] * 2 - (long)*m != sum[i];
    CHECK(bad == 0, "n=%zu d=%zu: count: %zu coordinates differ from the naive sum", n, d, bad);
    free(counts);
    return sum;
}

/* The number of count planes P decides which adder instance runs (vote.c unrolls P = 5..12, one generic loop
 * above): 4095 rows need 12 planes, 4096 and 4100 need 13 (the generic loop); 4100 = 256 groups of 16 and a last
 * group of 4 padded with zero rows. Majority with each tie rule and the counts against the naive sums. */
static void test_many_rows_generic_planes(void)
{
    static const size_t ns_big[] = {4095, 4096, 4100};
    for (size_t a = 0; a < sizeof ns_big / sizeof *ns_big; a++) {
        mix_state = 13 + a;
        size_t n = ns_big[a], d = 300, m;
        rowset s = rowset_make(n, d, 0);
        free(check_majority_and_count((const uint64_t *const *)s.rows, n, d, 77, 4, &m));
        CHECK(m == n, "n=%zu: %zu rows present", n, m);
        rowset_free(s);
    }
}

/* Votes too large for the cache (here 40 rows of 256 KiB) are counted in long tiles (up to 4096 words) with their
 * buffers on the heap; 40 rows = two 16-row groups (each added in two passes of 8) and a rest of 8 (padded with zero rows). Majority (each
 * tie rule), count and the stochastic downlink against the naive sums, the last word partial. */
static void test_long_tiles_match_naive(void)
{
    mix_state = 11;
    const size_t n = 40, d = ((size_t)2 << 20) + 77, nw = so_packed_words(d);
    rowset s = rowset_make(n, d, 0);
    const uint64_t *const *rows = (const uint64_t *const *)s.rows;
    size_t m;
    long *sum = check_majority_and_count(rows, n, d, 99, 4, &m);
    uint64_t *bits = malloc(nw * 8);
    CHECK(so_vote_stochastic(bits, rows, n, d, 4242, 7) == m, "stochastic: m");
    size_t bad = 0;
    for (size_t i = 0; i < d; i++) {
        double c = (double)(sum[i] + (long)m) / 2, u = so_rand_uniformf_at(4242, 0, 7, SO_STREAM_DOWN, i);
        bad += get_bit(bits, i) != (u * (double)m < c);
    }
    for (size_t i = d; i < 64 * nw; i++) bad += get_bit(bits, i);
    CHECK(bad == 0, "stochastic: %zu bits differ from the stated rule", bad);
    free(bits);
    free(sum);
    rowset_free(s);
}

/* At most 8 present rows take a one-pass path (planes in registers), split over threads when large: 9 rows, one
 * absent (m = 8, so ties happen), 8.4M coordinates, majority (each tie rule) and count against the naive sums. */
static void test_small_vote_large_d(void)
{
    mix_state = 12;
    const size_t n = 9, d = ((size_t)8 << 20) + 4099;
    rowset s = rowset_make(n, d, 0x4);
    size_t m;
    free(check_majority_and_count((const uint64_t *const *)s.rows, n, d, 31, 6, &m));
    CHECK(m == 8, "m = %zu, want 8 (one row absent)", m);
    rowset_free(s);
}

/* Two rows that disagree everywhere tie on every coordinate: random ties must be reproducible (same key, same
 * bits), change with the step, and be +1 about half the time: |frac - 1/2| <= 5 sigma, sigma = 0.5/sqrt(d). */
static void test_random_ties_reproducible_and_fair(void)
{
    size_t d = 200000, nw = so_packed_words(d);
    uint64_t *a = malloc(nw * 8), *b = malloc(nw * 8), *s1 = malloc(nw * 8), *s2 = malloc(nw * 8),
             *s3 = malloc(nw * 8);
    mix_state = 5;
    for (size_t w = 0; w < nw; w++) {
        a[w] = next_u64();
        b[w] = ~a[w];
    }
    a[nw - 1] &= ((uint64_t)1 << (d % 64)) - 1;
    b[nw - 1] &= ((uint64_t)1 << (d % 64)) - 1;
    const uint64_t *rows[2] = {a, b};
    so_vote_majority(s1, NULL, rows, 2, d, SO_TIES_RANDOM, 2024, 3);
    so_vote_majority(s2, NULL, rows, 2, d, SO_TIES_RANDOM, 2024, 3);
    so_vote_majority(s3, NULL, rows, 2, d, SO_TIES_RANDOM, 2024, 4);
    CHECK(memcmp(s1, s2, nw * 8) == 0, "same (seed, step) gave different tie bits");
    size_t ones = 0, same = 0;
    for (size_t i = 0; i < d; i++) {
        ones += get_bit(s1, i);
        same += get_bit(s1, i) == get_bit(s3, i);
    }
    double frac = (double)ones / d, sigma = 0.5 / sqrt((double)d);
    CHECK(fabs(frac - 0.5) <= 5 * sigma, "fraction of +1 on ties %.5f, want 0.5 +- %.5f", frac, 5 * sigma);
    CHECK(fabs((double)same / d - 0.5) <= 5 * sigma, "steps 3 and 4 agree on %.5f of ties, want ~0.5",
          (double)same / d);
    free(a); free(b); free(s1); free(s2); free(s3);
}

/* mvsm-v2 downlink. Exact rule: bit_i = (u_i * m < c_i), u_i = so_rand_uniformf_at(seed, 0, step, DOWN, i)
 * (exact in double: u has 24 bits, m < 2^29). Frequency: coordinate i gets c_i = i % (m + 1) votes; over S
 * steps and all coordinates sharing c, the fraction of +1 is within 5 binomial sigmas of c / m. */
static void test_stochastic_downlink_rule_and_frequency(void)
{
    enum { M = 10 };
    size_t d = 11 * 200 + 5, nw = so_packed_words(d);
    uint64_t *block = calloc(M * nw, 8), *bits = malloc(nw * 8);
    const uint64_t *rows[M + 2];
    for (int j = 0; j < M; j++) {
        uint64_t *r = block + j * nw;
        for (size_t i = 0; i < d; i++)
            if ((size_t)j < i % (M + 1)) r[i / 64] |= (uint64_t)1 << (i % 64);
        rows[j] = r;
    }
    rows[M] = NULL; /* an absent 11th and 12th worker: m stays 10 */
    rows[M + 1] = NULL;
    long ones[M + 1] = {0}, total[M + 1] = {0};
    size_t bad = 0;
    enum { STEPS = 100 };
    for (uint32_t step = 0; step < STEPS; step++) {
        size_t m = so_vote_stochastic(bits, rows, M + 2, d, 31337, step);
        bad += m != M;
        for (size_t i = 0; i < d; i++) {
            size_t c = i % (M + 1);
            float u = so_rand_uniformf_at(31337, 0, step, SO_STREAM_DOWN, i);
            bad += get_bit(bits, i) != ((double)u * M < (double)c);
            ones[c] += get_bit(bits, i);
            total[c]++;
        }
        for (size_t i = d; i < 64 * nw; i++) bad += get_bit(bits, i);
    }
    CHECK(bad == 0, "%zu bits differ from the stated rule", bad);
    for (int c = 0; c <= M; c++) {
        double p = (double)c / M, f = (double)ones[c] / total[c], sigma = sqrt(p * (1 - p) / total[c]);
        CHECK(fabs(f - p) <= 5 * sigma + 1e-12, "c=%d: frequency %.5f, want %.5f +- %.5f", c, f, p, 5 * sigma);
    }
    free(block);
    free(bits);
}

/* x - scale * s in float, s from the bits, computed plainly here; the result must be bit-identical. */
static void test_apply_matches_float_reference(void)
{
    mix_state = 6;
    for (size_t b = 0; b < sizeof(ds) / sizeof(*ds); b++) {
        size_t d = ds[b], nw = so_packed_words(d);
        float *x = malloc(d * 4), *ref = malloc(d * 4);
        uint64_t *sign = malloc(nw * 8), *zero = malloc(nw * 8);
        for (int with_zero = 0; with_zero < 2; with_zero++) {
            for (size_t w = 0; w < nw; w++) {
                sign[w] = next_u64();
                zero[w] = next_u64() & next_u64();
            }
            for (size_t i = 0; i < d; i++) x[i] = ref[i] = (float)((double)(next_u64() >> 11) * 0x1.0p-53 - 0.5);
            float scale = 0.0123f;
            so_vote_apply(x, sign, with_zero ? zero : NULL, d, scale);
            size_t bad = 0;
            for (size_t i = 0; i < d; i++) {
                float s = (with_zero && get_bit(zero, i)) ? 0.0f : (get_bit(sign, i) ? 1.0f : -1.0f);
                ref[i] = ref[i] - scale * s;
                bad += memcmp(&x[i], &ref[i], sizeof(float)) != 0;
            }
            CHECK(bad == 0, "d=%zu zero=%d: %zu coordinates differ", d, with_zero, bad);
        }
        free(x); free(ref); free(sign); free(zero);
    }
}

/* A ties value outside the enum is taken as SO_TIES_ZERO (sign.h), on the path of at most 8 rows (n = 6, which
 * indexes a table by the rule) and the tiled one (n = 20): same sign and zero bits, bit for bit. */
static void test_unknown_tie_rule_is_zero(void)
{
    mix_state = 13;
    const size_t d = 5000, nw = so_packed_words(d), ns[] = {6, 20};
    for (int a = 0; a < 2; a++) {
        rowset s = rowset_make(ns[a], d, 0);
        uint64_t *s0 = malloc(nw * 8), *z0 = malloc(nw * 8), *s1 = malloc(nw * 8), *z1 = malloc(nw * 8);
        so_vote_majority(s0, z0, (const uint64_t *const *)s.rows, ns[a], d, SO_TIES_ZERO, 3, 1);
        so_vote_majority(s1, z1, (const uint64_t *const *)s.rows, ns[a], d, (so_ties)7, 3, 1);
        CHECK(memcmp(s0, s1, nw * 8) == 0 && memcmp(z0, z1, nw * 8) == 0, "n=%zu: ties 7 differs from ZERO", ns[a]);
        free(s0), free(z0), free(s1), free(z1);
        rowset_free(s);
    }
}

/* The votes over word ranges (the sharded pattern's) put together are the whole vote bit for bit: majority under
 * each tie rule (with its zero bits) and the stochastic downlink, shards of every even length, rows present and
 * absent, d not a multiple of 64, and more than 8 rows (the tiled path) as well as few (the small path). */
static void test_vote_ranges_equal_whole_vote(void)
{
    static const size_t dims[] = {1, 64, 130, 1000, 70000};
    static const size_t ns[] = {3, 4, 12};
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
        for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
            size_t d = dims[di], n = ns[ni], W = so_packed_words(d);
            uint64_t *msgs = malloc(n * W * 8), *full = calloc(2 * W + 2, 8), *part = calloc(2 * W + 2, 8);
            uint64_t *rowbuf = malloc(n * W * 8);
            const uint64_t *rows[16], *srows[16];
            so_rng r;
            so_rng_init(&r, 5, (uint32_t)n, (uint32_t)d, 0);
            for (size_t k = 0; k < n * W; k++) msgs[k] = ((uint64_t)so_rng_u32(&r) << 32) | so_rng_u32(&r);
            for (size_t j = 0; j < n; j++) rows[j] = j == 1 ? NULL : msgs + j * W; /* worker 1 absent */
            for (int rule = 0; rule < 4; rule++) {
                memset(full, 0, (2 * W + 2) * 8);
                memset(part, 0, (2 * W + 2) * 8);
                if (rule < 3) so_vote_majority(full, rule == 0 ? full + W : NULL, rows, n, d, (so_ties)rule, 9, 4);
                else so_vote_stochastic(full, rows, n, d, 9, 4);
                for (size_t L = 2; L <= W + 2; L = L * 3 + 2)
                    for (size_t w0 = 0; w0 < W; w0 += L) {
                        size_t nw = W - w0 < L ? W - w0 : L;
                        for (size_t j = 0; j < n; j++) {
                            memcpy(rowbuf + j * W, msgs + j * W + w0, nw * 8);
                            srows[j] = rows[j] ? rowbuf + j * W : NULL;
                        }
                        if (rule < 3)
                            so__vote_majority_range(part + w0, rule == 0 ? part + W + w0 : NULL, srows, n, d, w0, nw,
                                                    (so_ties)rule, 9, 4);
                        else
                            so__vote_stochastic_range(part + w0, srows, n, d, w0, nw, 9, 4);
                    }
                CHECK(memcmp(full, part, 2 * W * 8) == 0, "d %zu n %zu rule %d: shards differ from the whole vote", d,
                      n, rule);
            }
            free(msgs), free(full), free(part), free(rowbuf);
        }
}

int main(void)
{
    RUN(test_vote_ranges_equal_whole_vote);
    RUN(test_count_matches_naive);
    RUN(test_count_large_both_paths);
    RUN(test_long_tiles_match_naive);
    RUN(test_small_vote_large_d);
    RUN(test_majority_matches_naive_each_tie_rule);
    RUN(test_majority_with_absent_rows);
    RUN(test_empty_dimension);
    RUN(test_majority_large_n_many_tiles);
    RUN(test_majority_power_of_two_stride);
    RUN(test_many_rows_generic_planes);
    RUN(test_random_ties_reproducible_and_fair);
    RUN(test_stochastic_downlink_rule_and_frequency);
    RUN(test_apply_matches_float_reference);
    RUN(test_unknown_tie_rule_is_zero);
    char name[64]; /* the vector path this binary's vote.c was built with (the Makefile builds three) */
    snprintf(name, sizeof name, "vote[%s]", so__vote_path());
    return test_report(name);
}
