/* team.c — see team.h. */
#include "team.h"
#ifdef _OPENMP
#include <omp.h>
#endif

int so__team_for(int n)
{
#ifdef _OPENMP
    if (omp_in_parallel()) return 1;
    int t = omp_get_max_threads();
    return t < n ? t : n;
#else
    (void)n;
    return 1;
#endif
}

void so__fold_buffers(float *restrict g, const float *restrict bufs, int k, size_t d)
{
    if (k < 1) return;
#pragma omp for schedule(static)
    for (size_t i = 0; i < d; i++) {
        float s = g[i];
        for (int c = 0; c < k; c++) s += bufs[(size_t)c * d + i];
        g[i] = s;
    }
}
