/* bench_stream.c — the machine's memory bandwidth in the same run, STREAM-style (McCalpin): copy c = a and
 * triad a = b + s c on float arrays far larger than the caches, with the same OpenMP threading as the kernels.
 * Bytes are counted as STREAM does: each array read or written once (8 and 12 bytes per element), so the
 * write-allocate read of the destination is not counted. */
#include <stdlib.h>
#include "bench.h"

typedef struct stream_ctx {
    float *a, *b, *c;
    size_t n;
} stream_ctx;

/* c, a: (n,). */
static void stream_copy(void *p)
{
    stream_ctx *s = p;
    float *restrict c = s->c;
    const float *restrict a = s->a;
    const size_t n = s->n;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) c[i] = a[i];
}

/* a, b, c: (n,). */
static void stream_triad(void *p)
{
    stream_ctx *s = p;
    float *restrict a = s->a;
    const float *restrict b = s->b, *restrict c = s->c;
    const size_t n = s->n;
    const float scalar = 3.0f;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = b[i] + scalar * c[i];
}

double so_bench_stream(so_bench_log *log, const so_bench_opts *opts, size_t n, int threads)
{
    double best = 0.0;
    stream_ctx s = {so_bench_alloc(log, n * 4), so_bench_alloc(log, n * 4), so_bench_alloc(log, n * 4), n};
    if (s.a && s.b && s.c) {
        so_bench_fill(s.a, n, -1.0f, 1.0f, 1);
        so_bench_fill(s.b, n, -1.0f, 1.0f, 2);
        so_bench_fill(s.c, n, -1.0f, 1.0f, 3);
        double copy_s = so_bench_time(opts, stream_copy, &s), triad_s = so_bench_time(opts, stream_triad, &s);
        so_bench_add(log, "stream/copy", n, threads, copy_s, 8.0 * (double)n, -1);
        so_bench_add(log, "stream/triad", n, threads, triad_s, 12.0 * (double)n, -1);
        best = 8.0 * (double)n / copy_s > 12.0 * (double)n / triad_s ? 8.0 * (double)n / copy_s
                                                                      : 12.0 * (double)n / triad_s;
    }
    free(s.a);
    free(s.b);
    free(s.c);
    return best;
}
