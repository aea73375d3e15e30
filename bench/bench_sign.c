/* bench_sign.c — the sign operators and the packed vote (include/signopt/sign.h).
 *
 * Bytes per call, each array read or written once:
 *   sign/pack, sign/stochastic   v r (4d), bits w (d/8)
 *   vote/count/nN                N rows r (N d/8), counts w (4d)
 *   vote/majority/nN             N rows r (N d/8), sign and zero bits w (2 d/8; ties = zero, N even) */
#include <stdio.h>
#include <stdlib.h>
#include "bench.h"
#include "signopt.h"

typedef struct sign_ctx {
    float *v;
    uint64_t *bits, *zero_bits;
    uint32_t *counts;
    const uint64_t **rows;
    size_t n, d;
} sign_ctx;

static void pack_call(void *p)
{
    sign_ctx *c = p;
    so_sign_pack(c->bits, c->v, c->d);
}

static void stochastic_call(void *p)
{
    sign_ctx *c = p;
    so_sign_stochastic_pack(c->bits, c->v, c->d, 1.0f, 1, 0, 0, SO_STREAM_SIGN);
}

static void count_call(void *p)
{
    sign_ctx *c = p;
    so_vote_count(c->counts, c->rows, c->n, c->d);
}

static void majority_call(void *p)
{
    sign_ctx *c = p;
    so_vote_majority(c->bits, c->zero_bits, c->rows, c->n, c->d, SO_TIES_ZERO, 1, 0);
}

/* words[0..nw) <- random bits, keyed by (stream, word) whatever the thread count. */
static void fill_bits(uint64_t *words, size_t nw, unsigned stream)
{
    const size_t block = 4096;
    const long nblocks = (long)((nw + block - 1) / block);
#pragma omp parallel for schedule(static)
    for (long b = 0; b < nblocks; b++) {
        so_rng r;
        so_rng_init(&r, 12345, 0, 0, SO_STREAM_USER + stream);
        so_rng_seek(&r, 2 * (uint64_t)b * block);
        size_t hi = ((size_t)b + 1) * block < nw ? ((size_t)b + 1) * block : nw;
        for (size_t i = (size_t)b * block; i < hi; i++) {
            uint64_t lo = so_rng_u32(&r);
            words[i] = lo | (uint64_t)so_rng_u32(&r) << 32;
        }
    }
}

void so_bench_sign(so_bench_log *log, const so_bench_opts *opts, size_t d, int threads)
{
    static const size_t voters[] = {8, 32, 128};
    const size_t nw = so_packed_words(d), nmax = 128;
    const double fd = (double)d;
    sign_ctx c = {.d = d};
    c.bits = so_bench_alloc(log, nw * 8);
    if (!c.bits) return;
    if (so_bench_group(opts, "sign/")) {
        c.v = so_bench_alloc(log, d * 4);
        if (c.v) {
            so_bench_fill(c.v, d, -1.0f, 1.0f, 20);
            if (so_bench_wanted(opts, "sign/pack"))
                so_bench_add(log, "sign/pack", d, threads, so_bench_time(opts, pack_call, &c), 4.125 * fd, -1);
            if (so_bench_wanted(opts, "sign/stochastic"))
                so_bench_add(log, "sign/stochastic", d, threads, so_bench_time(opts, stochastic_call, &c),
                             4.125 * fd, -1);
        }
        free(c.v);
    }
    if (so_bench_group(opts, "vote/")) {
        uint64_t *all = so_bench_alloc(log, nmax * nw * 8);
        c.zero_bits = so_bench_alloc(log, nw * 8);
        c.counts = so_bench_alloc(log, d * 4);
        c.rows = malloc(nmax * sizeof *c.rows);
        if (all && c.zero_bits && c.counts && c.rows) {
            fill_bits(all, nmax * nw, 21);
            for (size_t j = 0; j < nmax; j++) c.rows[j] = all + j * nw;
            for (size_t k = 0; k < sizeof voters / sizeof voters[0]; k++) {
                char name[64];
                c.n = voters[k];
                snprintf(name, sizeof name, "vote/count/n%zu", c.n);
                if (so_bench_wanted(opts, name))
                    so_bench_add(log, name, d, threads, so_bench_time(opts, count_call, &c),
                                 (double)c.n * fd / 8 + 4 * fd, -1);
                snprintf(name, sizeof name, "vote/majority/n%zu", c.n);
                if (so_bench_wanted(opts, name))
                    so_bench_add(log, name, d, threads, so_bench_time(opts, majority_call, &c),
                                 (double)c.n * fd / 8 + 2 * fd / 8, -1);
            }
        }
        free(all);
        free(c.zero_bits);
        free(c.counts);
        free(c.rows);
    }
    free(c.bits);
}
