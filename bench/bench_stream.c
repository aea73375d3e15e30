/* bench_stream.c — the machine's memory bandwidth in the same run, STREAM-style (McCalpin): copy c = a and
 * triad a = b + s c on float arrays far larger than the caches, with the same OpenMP threading as the kernels.
 * Bytes are counted as STREAM does: each array read or written once (8 and 12 bytes per element), so the
 * write-allocate read of the destination is not counted. The triad is also the paired reference of every
 * case (see so_bench_opts.ref_fn). */
#include <stdlib.h>
#include "bench.h"

int so_bench_arrays_new(so_bench_log *log, so_bench_arrays *s, size_t n)
{
    s->n = n;
    s->a = so_bench_alloc(log, n * 4);
    s->b = so_bench_alloc(log, n * 4);
    s->c = so_bench_alloc(log, n * 4);
    if (!s->a || !s->b || !s->c) {
        so_bench_arrays_free(s);
        return -1;
    }
    so_bench_fill(s->a, n, -1.0f, 1.0f, 1);
    so_bench_fill(s->b, n, -1.0f, 1.0f, 2);
    so_bench_fill(s->c, n, -1.0f, 1.0f, 3);
    return 0;
}

void so_bench_arrays_free(so_bench_arrays *s)
{
    free(s->a);
    free(s->b);
    free(s->c);
    s->a = s->b = s->c = NULL;
}

/* c, a: (n,). */
static void stream_copy(void *p)
{
    so_bench_arrays *s = p;
    float *restrict c = s->c;
    const float *restrict a = s->a;
    const size_t n = s->n;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) c[i] = a[i];
}

/* a, b, c: (n,). */
void so_bench_triad(void *p)
{
    so_bench_arrays *s = p;
    float *restrict a = s->a;
    const float *restrict b = s->b, *restrict c = s->c;
    const size_t n = s->n;
    const float scalar = 3.0f;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = b[i] + scalar * c[i];
}

void so_bench_stream(so_bench_log *log, const so_bench_opts *opts, so_bench_arrays *s, int threads)
{
    so_bench_opts plain = *opts;
    plain.ref_fn = NULL;
    const double n = (double)s->n;
    so_bench_add(log, "stream/copy", s->n, threads, so_bench_time(&plain, stream_copy, s), 8.0 * n, -1);
    so_bench_add(log, "stream/triad", s->n, threads, so_bench_time(&plain, so_bench_triad, s), 12.0 * n, -1);
}
