/* rng.c — Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3", SC 2011)
 * and the samplers built on it. A draw is a pure function of (seed, worker, step, stream, index). */
#include <math.h>
#include "signopt/core.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void so_philox4x32(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

void so_rng_init(so_rng *r, uint64_t seed, uint32_t worker, uint32_t step, uint32_t stream)
{
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32);
    r->ctr[0] = 0;
    r->ctr[1] = step;
    r->ctr[2] = worker;
    r->ctr[3] = stream;
    r->index = 0;
    so_philox4x32(r->buf, r->ctr, r->key);
}

void so_rng_seek(so_rng *r, uint64_t index)
{
    uint32_t block = (uint32_t)(index >> 2);
    if (block != r->ctr[0]) {
        r->ctr[0] = block;
        so_philox4x32(r->buf, r->ctr, r->key);
    }
    r->index = index;
}

uint32_t so_rng_u32(so_rng *r)
{
    uint32_t block = (uint32_t)(r->index >> 2);
    if (block != r->ctr[0]) {
        r->ctr[0] = block;
        so_philox4x32(r->buf, r->ctr, r->key);
    }
    return r->buf[r->index++ & 3];
}

float so_rng_uniformf(so_rng *r) { return (float)(so_rng_u32(r) >> 8) * 0x1.0p-24f; }

double so_rng_uniform(so_rng *r)
{
    uint64_t hi = so_rng_u32(r) >> 5, lo = so_rng_u32(r) >> 6; /* 27 + 26 = 53 bits */
    return (double)(hi * 67108864.0 + lo) * 0x1.0p-53;
}

uint64_t so_rng_below(so_rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    /* Rejection sampling on 64-bit draws: reject the top partial range so every value is equally likely. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    for (;;) {
        uint64_t v = ((uint64_t)so_rng_u32(r) << 32) | so_rng_u32(r);
        if (v < limit) return v % n;
    }
}

double so_rng_normal(so_rng *r)
{
    double u1 = so_rng_uniform(r), u2 = so_rng_uniform(r);
    if (u1 <= 0.0) u1 = 0x1.0p-53; /* log(0) guard; u1 = 0 has probability 2^-53 */
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double so_rng_gamma(so_rng *r, double shape)
{
    if (shape < 1.0) {
        /* Boost: Gamma(a) = Gamma(a+1) * U^(1/a). */
        double u = so_rng_uniform(r);
        if (u <= 0.0) u = 0x1.0p-53;
        return so_rng_gamma(r, shape + 1.0) * pow(u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = so_rng_normal(r), v = 1.0 + c * x;
        if (v <= 0.0) continue;
        v = v * v * v;
        double u = so_rng_uniform(r);
        if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
        if (u > 0.0 && log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
    }
}

float so_rand_uniformf_at(uint64_t seed, uint32_t worker, uint32_t step, uint32_t stream, uint64_t index)
{
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t ctr[4] = {(uint32_t)(index >> 2), step, worker, stream}, out[4];
    so_philox4x32(out, ctr, key);
    return (float)(out[index & 3] >> 8) * 0x1.0p-24f;
}
