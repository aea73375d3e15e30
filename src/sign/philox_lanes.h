/* philox_lanes.h — Philox4x32-10 on SO_LANES consecutive counters at once, for the sign kernels.
 *
 * The same function as so_philox4x32 (core.h, src/core/rng.c), written over arrays of lanes (structure of
 * arrays) so the compiler vectorizes the 32x32->64 multiplies (vpmuludq on AVX2): a per-element call to
 * so_rand_uniformf_at costs one full Philox call per draw, this costs a quarter of one, spread over lanes.
 * Lane j computes the block with counter (ctr0 + j, step, worker, stream), i.e. u32 draws 4(ctr0+j) .. +3 of
 * the sequence (seed, worker, step, stream). */
#ifndef SO_PHILOX_LANES_H
#define SO_PHILOX_LANES_H

#include <stdint.h>

#define SO_LANES 16 /* 16 blocks = 64 draws = one packed word */

typedef struct so_philox_key {
    uint32_t k0, k1, step, worker, stream;
} so_philox_key;

static inline so_philox_key so_philox_key_make(uint64_t seed, uint32_t worker, uint32_t step, uint32_t stream)
{
    so_philox_key k = {(uint32_t)seed, (uint32_t)(seed >> 32), step, worker, stream};
    return k;
}

/* out[r][j] = output word r of Philox4x32-10(ctr = (ctr0 + j, step, worker, stream), key = seed). */
static inline void so_philox_lanes(uint32_t out[4][SO_LANES], const so_philox_key *key, uint32_t ctr0)
{
    /* 64-bit lanes holding 32-bit values: (x & 0xffffffff) * M is the shape GCC maps to vpmuludq. */
    uint64_t c0[SO_LANES], c1[SO_LANES], c2[SO_LANES], c3[SO_LANES];
    for (int j = 0; j < SO_LANES; j++) {
        c0[j] = (uint32_t)(ctr0 + (uint32_t)j);
        c1[j] = key->step;
        c2[j] = key->worker;
        c3[j] = key->stream;
    }
    uint64_t k0 = key->k0, k1 = key->k1;
    for (int round = 0; round < 10; round++) {
        for (int j = 0; j < SO_LANES; j++) {
            uint64_t p0 = (c0[j] & 0xffffffffu) * 0xD2511F53u;
            uint64_t p1 = (c2[j] & 0xffffffffu) * 0xCD9E8D57u;
            uint64_t n0 = (p1 >> 32) ^ c1[j] ^ k0;
            uint64_t n2 = (p0 >> 32) ^ c3[j] ^ k1;
            c1[j] = p1 & 0xffffffffu;
            c3[j] = p0 & 0xffffffffu;
            c0[j] = n0;
            c2[j] = n2;
        }
        k0 = (uint32_t)(k0 + 0x9E3779B9u);
        k1 = (uint32_t)(k1 + 0xBB67AE85u);
    }
    for (int j = 0; j < SO_LANES; j++) {
        out[0][j] = (uint32_t)c0[j];
        out[1][j] = (uint32_t)c1[j];
        out[2][j] = (uint32_t)c2[j];
        out[3][j] = (uint32_t)c3[j];
    }
}

/* The 64 u32 draws 64w .. 64w+63 of the sequence, in order: draws[i] is draw 64w + i. */
static inline void so_philox_word_draws(uint32_t draws[64], const so_philox_key *key, uint64_t w)
{
    uint32_t out[4][SO_LANES];
    so_philox_lanes(out, key, (uint32_t)(w * SO_LANES));
    for (int j = 0; j < SO_LANES; j++)
        for (int r = 0; r < 4; r++) draws[4 * j + r] = out[r][j];
}

#endif
