/* signopt/sign.h — sign operators and the packed majority vote (docs/algorithms.md, "The sign operators").
 *
 * Wire format: signs packed 64 to a uint64_t, coordinate i in bit (i % 64) of word i / 64, bit 1 = +1.
 * Unused high bits of the last word are 0. A zero coordinate has no 1-bit encoding: on the uplink it is sent
 * as +1 (bit = v >= 0), the convention of 1-bit implementations; single-node rules use sign(0) = 0 exactly. */
#ifndef SIGNOPT_SIGN_H
#define SIGNOPT_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline size_t so_packed_words(size_t d) { return (d + 63) / 64; }

/* bits (words) <- bit_i = (v_i >= 0). */
SO_API void so_sign_pack(uint64_t *SO_RESTRICT bits, const float *SO_RESTRICT v, size_t d);
/* out_i <- bit_i ? +scale : -scale. */
SO_API void so_sign_unpack(float *SO_RESTRICT out, const uint64_t *SO_RESTRICT bits, size_t d,
                           float scale);

/* Stochastic sign S_R (Jin et al.; 001 eq. 6; 000 Def. 1): bit_i = 1 with probability
 * clamp((R + v_i) / (2R), 0, 1), drawn as u_i < p_i with u_i the draw at index i of (seed, worker, step, stream).
 * E[S_R(v)] = v / R while |v_i| <= R. R > 0. */
SO_API void so_sign_stochastic_pack(uint64_t *SO_RESTRICT bits, const float *SO_RESTRICT v, size_t d, float R,
                                    uint64_t seed, uint32_t worker, uint32_t step, uint32_t stream);

/* Tie rule for an even number of votes split evenly (docs/algorithms.md, "The vote and tie rules"): */
typedef enum so_ties {
    SO_TIES_ZERO = 0,     /* no step on that coordinate; the downlink carries a second "zero" bit */
    SO_TIES_POSITIVE = 1, /* +1 */
    SO_TIES_RANDOM = 2    /* +1 or -1 with probability 1/2, from (seed, 0, step, SO_STREAM_TIES): coordinate i
                             takes bit i % 32 of the 32-bit draw i / 32 of that sequence (so_rng_u32 order) */
} so_ties;

/* What a worker's 1-bit message says for a coordinate whose value is exactly 0 (the deterministic sign uplink:
 * mv-signsgd, mv-signum, mv-scaled-signsgd; docs/algorithms.md, "The sign operators"). */
typedef enum so_zero_vote {
    SO_ZERO_VOTE_PLUS = 0,    /* +1, the bit v >= 0 (1-bit implementations' convention; the default) */
    SO_ZERO_VOTE_ABSTAIN = 1, /* no vote: a second bit per coordinate marks the zeros (counted on the uplink) and
                               * the coordinate's majority is taken over the workers that voted */
    SO_ZERO_VOTE_RANDOM = 2   /* +1 or -1 with probability 1/2: coordinate i of worker j at round t draws
                               * so_rand_uniformf_at(seed, j, t, SO_STREAM_ZERO_VOTE, i) < 1/2 for -1 */
} so_zero_vote;

/* Per-coordinate count of +1 votes among n packed vectors. rows[j] points at worker j's words (NULL rows are
 * absent workers and are skipped). counts has d entries. */
SO_API void so_vote_count(uint32_t *SO_RESTRICT counts, const uint64_t *const *rows, size_t n, size_t d);

/* Majority vote on packed vectors, counted on the packed words (bit-sliced counters), never unpacked:
 * with c_i the number of present rows voting +1 and m the number present,
 *   sign_bits_i = c_i > m/2, and for c_i == m/2 (m even) the tie rule decides;
 *   zero_bits_i = 1 exactly where the tie rule is ZERO and c_i == m/2, its sign bit then 0 (NULL allowed when
 *   ties != ZERO; all 0 when given with another rule).
 * A ties value outside the three rules is taken as SO_TIES_ZERO.
 * Returns the number of present rows m (0 gives all-zero output). */
SO_API size_t so_vote_majority(uint64_t *SO_RESTRICT sign_bits, uint64_t *SO_RESTRICT zero_bits,
                               const uint64_t *const *rows, size_t n, size_t d,
                               so_ties ties, uint64_t seed, uint32_t step);

/* Apply a packed vote: x_i <- x_i - scale * s_i, s_i = +1/-1 from sign_bits, 0 where zero_bits (may be NULL). */
SO_API void so_vote_apply(float *SO_RESTRICT x, const uint64_t *SO_RESTRICT sign_bits,
                          const uint64_t *SO_RESTRICT zero_bits, size_t d, float scale);

/* The unbiased downlink of mvsm-v2 (000 Alg 2 v2): S_1 of the mean of m present +-1 votes, i.e.
 * bit_i = 1 with probability c_i / m, drawn from (seed, 0, step, SO_STREAM_DOWN): bit_i = (u_i * m < c_i), with
 * u_i = so_rand_uniformf_at(seed, 0, step, SO_STREAM_DOWN, i), compared exactly. Returns m (0: all-zero output). */
SO_API size_t so_vote_stochastic(uint64_t *SO_RESTRICT sign_bits, const uint64_t *const *rows, size_t n,
                                 size_t d, uint64_t seed, uint32_t step);

#ifdef __cplusplus
}
#endif
#endif
