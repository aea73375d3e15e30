/* vote_range.h — the votes over a range of packed words [base, base + nwords) of a d-coordinate vector, for the
 * sharded pattern (a rank votes only its shard): rows[j] and the outputs hold just those nwords words, and every
 * random draw (random ties, mvsm-v2's stochastic bit) is the one of the GLOBAL word, so the shards put together are
 * the whole vote bit for bit. base must be even (tie words come two to a Philox block). */
#ifndef SO_SIGN_VOTE_RANGE_H
#define SO_SIGN_VOTE_RANGE_H

#include <stddef.h>
#include <stdint.h>
#include "signopt/sign.h"

size_t so__vote_majority_range(uint64_t *SO_RESTRICT sign_bits, uint64_t *SO_RESTRICT zero_bits,
                               const uint64_t *const *rows, size_t n, size_t d, size_t base, size_t nwords,
                               so_ties ties, uint64_t seed, uint32_t step);
size_t so__vote_stochastic_range(uint64_t *SO_RESTRICT sign_bits, const uint64_t *const *rows, size_t n, size_t d,
                                 size_t base, size_t nwords, uint64_t seed, uint32_t step);
/* Which vector path vote.c was built with: "avx512" (512-bit adders), "avx2" (256-bit), "generic" (no AVX: GCC's
 * vector types lowered to narrower operations, plain stores), or "w8-generic" (SO_VOTE_VW=8 without AVX-512). */
const char *so__vote_path(void);

#endif
