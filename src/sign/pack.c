/* pack.c — the 1-bit wire format (sign.h): signs packed 64 to a word, coordinate i in bit i % 64 of word
 * i / 64, bit 1 = +1, unused high bits 0. Deterministic sign on the uplink (docs/algorithms.md, "The sign
 * operators"): bit = v >= 0, so a zero (and -0.0) is sent as +1, and NaN as -1. */
#include "signopt/sign.h"

/* One word from n <= 64 floats. Each 32-bit half is a branch-free OR of shifted compare results, a shape the
 * compiler turns into vector compares and variable shifts (no 64-bit lanes needed). */
static inline uint64_t pack_word(const float *restrict v, int n)
{
    uint32_t lo = 0, hi = 0;
    if (n == 64) {
        for (int b = 0; b < 32; b++) lo |= (uint32_t)(v[b] >= 0.0f) << b;
        for (int b = 0; b < 32; b++) hi |= (uint32_t)(v[32 + b] >= 0.0f) << b;
    } else {
        for (int b = 0; b < n && b < 32; b++) lo |= (uint32_t)(v[b] >= 0.0f) << b;
        for (int b = 32; b < n; b++) hi |= (uint32_t)(v[b] >= 0.0f) << (b - 32);
    }
    return (uint64_t)lo | (uint64_t)hi << 32;
}

/* The input is read as PACK_STREAMS streams at once: blocks of PACK_STREAMS * PACK_RUN words, each cut into
 * PACK_STREAMS runs of PACK_RUN words (64 KiB of floats) that are packed side by side. One core reading one
 * stream cannot keep enough cache misses in flight to reach the memory's bandwidth; measured on a 2-core EPYC
 * (Zen 3), d = 64M, one thread: one stream 0.70 of the same-run STREAM triad, 4 side by side 1.05-1.1 (runs of
 * 16 words: 0.76, 64: 0.94, 256: 1.1, 1024 and 4096: 1.05-1.1). The result is the same bits whatever the order. */
#define PACK_STREAMS 4
#define PACK_RUN 256

/* bits is (ceil(d/64),), v is (d,) */
void so_sign_pack(uint64_t *restrict bits, const float *restrict v, size_t d)
{
    const size_t full = d / 64, block = PACK_STREAMS * PACK_RUN, nblocks = full / block;
#pragma omp parallel for schedule(static) if (nblocks >= 64)
    for (size_t b = 0; b < nblocks; b++)
        for (size_t w = b * block; w < b * block + PACK_RUN; w++)
            for (int k = 0; k < PACK_STREAMS; k++) {
                const size_t wk = w + (size_t)k * PACK_RUN;
                bits[wk] = pack_word(v + 64 * wk, 64);
            }
    for (size_t w = nblocks * block; w < full; w++) bits[w] = pack_word(v + 64 * w, 64);
    if (d % 64) bits[full] = pack_word(v + 64 * full, (int)(d % 64));
}

/* Expand one 32-bit half into 32 floats: +scale where the bit is set, -scale elsewhere. */
static inline void unpack_half(float *restrict out, uint32_t half, int n, float scale)
{
    for (int b = 0; b < n; b++) out[b] = ((half >> b) & 1u) ? scale : -scale;
}

/* out is (d,), bits is (ceil(d/64),) */
void so_sign_unpack(float *restrict out, const uint64_t *restrict bits, size_t d, float scale)
{
    size_t full = d / 64;
#pragma omp parallel for schedule(static) if (full >= 65536)
    for (size_t w = 0; w < full; w++) {
        unpack_half(out + 64 * w, (uint32_t)bits[w], 32, scale);
        unpack_half(out + 64 * w + 32, (uint32_t)(bits[w] >> 32), 32, scale);
    }
    int rest = (int)(d % 64);
    if (rest) {
        float *o = out + 64 * full;
        unpack_half(o, (uint32_t)bits[full], rest < 32 ? rest : 32, scale);
        if (rest > 32) unpack_half(o + 32, (uint32_t)(bits[full] >> 32), rest - 32, scale);
    }
}
