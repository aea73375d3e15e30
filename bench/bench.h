/* bench.h — `signopt bench`: throughput of the fused step kernels, the sign operators, the packed vote and
 * one in-process distributed round, next to the machine's memory bandwidth measured in the same run
 * (STREAM-style copy and triad). See BENCHMARKS.md for the method and the byte counts.
 *
 * Every figure is the median over repetitions of the seconds one call takes; a repetition times enough calls
 * back to back to last a few milliseconds, so cache-resident sizes are not lost in timer resolution. */
#ifndef SO_BENCH_H
#define SO_BENCH_H

#include <stddef.h>

/* The entry point is cmd_bench (cli/commands.h): signopt bench [--json] [--quick] [...]. */

#define SO_BENCH_MAX_SIZES 8
#define SO_BENCH_MAX_THREADS 4

typedef struct so_bench_opts {
    size_t sizes[SO_BENCH_MAX_SIZES];
    int nsizes;
    int threads[SO_BENCH_MAX_THREADS];
    int nthreads;
    int reps;          /* timed repetitions after one warm-up call (median reported) */
    double rep_s;      /* a repetition lasts at least this long */
    const char *only;  /* run only the cases whose name starts with this (NULL: all) */
    /* The paired reference: when set, every repetition is followed by one call of ref_fn (the STREAM triad),
     * so a case and the bandwidth it is compared with are measured seconds apart, under the same load. */
    void (*ref_fn)(void *ctx);
    void *ref_ctx;
    double ref_bytes;  /* bytes one ref_fn call moves */
} so_bench_opts;

/* What so_bench_time measured. */
typedef struct so_bench_timing {
    double seconds;    /* median seconds per call */
    double ref_ratio;  /* median over repetitions of (reference seconds / case seconds per call); 0: no reference */
    double ref_bytes_per_s; /* median bandwidth of the reference calls; 0: no reference */
} so_bench_timing;

typedef struct so_bench_result {
    char name[64];
    size_t d;
    int threads;
    double seconds;         /* median seconds per call */
    double bytes;           /* bytes one call moves, each array read or written counted once */
    double params_per_s;
    double bytes_per_s;
    double stream_bytes_per_s; /* the reference bandwidth: the triad calls paired with this case's repetitions
                                  (stream rows: the better of copy and triad) */
    double roofline;        /* median over repetitions of (bytes/s of the case) / (bytes/s of its paired triad);
                               stream rows: bytes/s over the better of copy and triad; 0 if unknown */
    double state_bytes;     /* step kernels: optimizer state bytes per parameter; < 0: not applicable */
    char peer[16];          /* "" where no peer was measured */
    double peer_params_per_s;
    double peer_roofline;   /* the peer's own paired-triad fraction (0: not given) */
} so_bench_result;

/* The results of one run, in the order measured. */
typedef struct so_bench_log {
    so_bench_result *items;
    size_t count, cap;
    int failed;             /* an allocation or a library call failed; the message went to stderr */
    double ref_bytes;       /* bytes of one paired reference call (so_bench_add's roofline) */
} so_bench_log;

typedef void (*so_bench_fn)(void *ctx);

/* --only is a comma list of prefixes. Whether the one starting at p (ending at ',' or '\0') and name agree on
 * their common part: whole=1 asks that p be a prefix of name, whole=0 that either be a prefix of the other. */
static inline int so_bench_prefix_(const char *p, const char *name, int whole)
{
    size_t k = 0;
    while (p[k] && p[k] != ',' && p[k] == name[k]) k++;
    return p[k] == '\0' || p[k] == ',' || (!whole && name[k] == '\0');
}

static inline int so_bench_match_(const char *only, const char *name, int whole)
{
    if (!only) return 1;
    for (const char *p = only;; p++) {
        if (so_bench_prefix_(p, name, whole)) return 1;
        while (*p && *p != ',') p++;
        if (!*p) return 0;
    }
}

/* Whether the case `name` runs under --only PREFIX[,PREFIX...] (some PREFIX a prefix of name). */
static inline int so_bench_wanted(const so_bench_opts *o, const char *name)
{
    return so_bench_match_(o->only, name, 1);
}

/* Whether some case of the group `prefix` ("vote/") may run under --only (either is a prefix of the other). */
static inline int so_bench_group(const so_bench_opts *o, const char *prefix)
{
    return so_bench_match_(o->only, prefix, 0);
}

/* Wall-clock seconds (monotonic). */
double so_bench_now(void);
/* Time fn(ctx): one warm-up call, then opts->reps repetitions, each paired with a reference call when
 * opts->ref_fn is set. */
so_bench_timing so_bench_time(const so_bench_opts *opts, so_bench_fn fn, void *ctx);
/* Append a result; params per call = d, bytes per call as stated per suite. state_bytes < 0 where it does
 * not apply. */
void so_bench_add(so_bench_log *log, const char *name, size_t d, int threads, so_bench_timing t, double bytes,
                  double state_bytes);
/* A 64-byte aligned buffer of n bytes (contents undefined), or NULL (the log is marked failed, a line on
 * stderr). Free with free(). */
void *so_bench_alloc(so_bench_log *log, size_t n);
/* x[i] <- uniform in [lo, hi), keyed by (stream, i): the same values whatever the thread count. */
void so_bench_fill(float *x, size_t n, float lo, float hi, unsigned stream);

/* The suites, each appending its results (bench_stream.c, bench_kernels.c, bench_sign.c, bench_dist.c). */
/* Three float arrays of n for the STREAM loops. */
typedef struct so_bench_arrays {
    float *a, *b, *c;
    size_t n;
} so_bench_arrays;
/* Allocate and fill (0 on success; -1 and the log marked failed, arrays freed, on failure). */
int so_bench_arrays_new(so_bench_log *log, so_bench_arrays *s, size_t n);
void so_bench_arrays_free(so_bench_arrays *s);
/* a = b + 3 c over so_bench_arrays *ctx: 12 n bytes. */
void so_bench_triad(void *ctx);
/* Appends stream/copy and stream/triad on s. */
void so_bench_stream(so_bench_log *log, const so_bench_opts *opts, so_bench_arrays *s, int threads);
void so_bench_steps(so_bench_log *log, const so_bench_opts *opts, size_t d, int threads);
void so_bench_sign(so_bench_log *log, const so_bench_opts *opts, size_t d, int threads);
void so_bench_dist(so_bench_log *log, const so_bench_opts *opts, size_t d, int threads);
/* `signopt bench --mpi` on o->sizes with o->reps repetitions (bench_mpi.c); initializes MPI if the caller
 * did not (and then finalizes it). Rank 0 prints. Returns the exit code. */
int so_bench_mpi(const so_bench_opts *o, int json);
/* `signopt bench --scaling` (bench_scaling.c): in-process mv-signsgd rounds vs workers and d, per o->threads. */
int so_bench_scaling(const so_bench_opts *o, int json, int quick);

#endif
