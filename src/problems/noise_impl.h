/* noise_impl.h — the inside of the noise models, shared by noise.c and synthetic.c. */
#ifndef SO_NOISE_IMPL_H
#define SO_NOISE_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "signopt/problem.h"

/* Check a noise description filled by hand (the parser checks its own): SO_OK or SO_EINVAL with a message. */
int so__noise_check(const so_noise *n);

/* The largest d * batch one call can draw without two draws sharing random numbers (the Philox block counter
 * is 32 bits and each draw owns a fixed slot of 32-bit words; see noise.c). */
uint64_t so__noise_max_draws(const so_noise *n);

/* out_i <- (1/batch) sum_{b < batch} X(b*d + i): the mean of `batch` independent noise draws per coordinate,
 * draw k taken from (seed, worker, step, stream) at its own slot. batch = 1 and stream = SO_STREAM_NOISE is
 * so_noise_sample. The result does not depend on the number of threads. */
void so__noise_mean(float *out, size_t d, const so_noise *n, uint64_t seed, uint32_t worker, uint32_t step,
                    uint32_t stream, int batch);

#endif
