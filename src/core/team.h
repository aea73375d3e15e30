/* team.h — the two helpers of the models' deterministic parallelism (docs/bench_models.md, "How the models use two
 * cores and keep their bits"): how many threads to give n pieces of work, and the fixed-order sum of the pieces'
 * gradient buffers. */
#ifndef SO_CORE_TEAM_H
#define SO_CORE_TEAM_H

#include <stddef.h>

/* Threads for n independent pieces: the OpenMP team size, at most n, and 1 inside another active team (the
 * in-process cluster already runs one worker per thread; its workers' pieces then run in turn). */
int so__team_for(int n);

/* g[i] += bufs[0][i] + ... + bufs[k-1][i] (k buffers of d floats laid end to end), added left to right for every i.
 * An orphaned OpenMP loop: inside a team the coordinates are shared out, outside one it runs on the caller; the sums
 * are the same either way. */
void so__fold_buffers(float *restrict g, const float *restrict bufs, int k, size_t d);

#endif
