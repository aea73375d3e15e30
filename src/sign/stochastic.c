/* stochastic.c — the stochastic sign S_R (Jin et al.; seed 001 eq. 6; seed 000 Def. 1; docs/algorithms.md,
 * "The sign operators"): coordinate i is +1 with probability clamp((R + v_i) / (2R), 0, 1), else -1, so
 * E[S_R(v)] = v / R while |v_i| <= R and S_R is the plain sign beyond R. */
#include "signopt/sign.h"
#include "philox_lanes.h"

/* One word: coordinates 64w .. 64w + n - 1. u_i = (draw_i >> 8) * 2^-24 is exactly so_rand_uniformf_at's
 * float, and bit_i = u_i < p_i. The clamp needs no code: u_i is in [0, 1), so p_i <= 0 never fires and
 * p_i >= 1 always does; a NaN p_i compares false (-1). */
static inline uint64_t stochastic_word(const float *restrict v, int n, float R, const so_philox_key *key,
                                       uint64_t w)
{
    uint32_t draws[64];
    so_philox_word_draws(draws, key, w);
    float two_r = 2.0f * R;
    uint32_t lo = 0, hi = 0;
    if (n == 64) {
        for (int b = 0; b < 32; b++) {
            float u = (float)(draws[b] >> 8) * 0x1.0p-24f;
            lo |= (uint32_t)(u < (R + v[b]) / two_r) << b;
        }
        for (int b = 0; b < 32; b++) {
            float u = (float)(draws[32 + b] >> 8) * 0x1.0p-24f;
            hi |= (uint32_t)(u < (R + v[32 + b]) / two_r) << b;
        }
    } else {
        for (int b = 0; b < n; b++) {
            float u = (float)(draws[b] >> 8) * 0x1.0p-24f;
            uint64_t bit = u < (R + v[b]) / two_r;
            if (b < 32) lo |= (uint32_t)bit << b;
            else hi |= (uint32_t)bit << (b - 32);
        }
    }
    return (uint64_t)lo | (uint64_t)hi << 32;
}

/* bits is (ceil(d/64),), v is (d,) */
void so_sign_stochastic_pack(uint64_t *restrict bits, const float *restrict v, size_t d, float R,
                             uint64_t seed, uint32_t worker, uint32_t step, uint32_t stream)
{
    so_philox_key key = so_philox_key_make(seed, worker, step, stream);
    size_t full = d / 64;
#pragma omp parallel for schedule(static) if (full >= 16384)
    for (size_t w = 0; w < full; w++) bits[w] = stochastic_word(v + 64 * w, 64, R, &key, w);
    if (d % 64) bits[full] = stochastic_word(v + 64 * full, (int)(d % 64), R, &key, full);
}
