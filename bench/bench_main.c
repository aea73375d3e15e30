/* bench_main.c — `signopt bench`: flags, the timing loop, the result log, the peer file (PyTorch's figures
 * from tools/bench_torch_optim.py) and the table or JSON output. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"
#include "../cli/json.h"
#include "signopt.h"

double so_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

so_bench_timing so_bench_time(const so_bench_opts *opts, so_bench_fn fn, void *ctx)
{
    /* The warm-up call faults the pages in and sizes a repetition: enough calls to last rep_s. */
    double t0 = so_bench_now();
    fn(ctx);
    double first = so_bench_now() - t0;
    long calls = first > 0.0 ? (long)ceil(opts->rep_s / first) : 1000;
    if (calls < 1) calls = 1;
    double per_call[64], ratio[64], ref_bw[64];
    int reps = opts->reps < 64 ? opts->reps : 64;
    for (int r = 0; r < reps; r++) {
        t0 = so_bench_now();
        for (long k = 0; k < calls; k++) fn(ctx);
        per_call[r] = (so_bench_now() - t0) / (double)calls;
        if (opts->ref_fn) {
            t0 = so_bench_now();
            opts->ref_fn(opts->ref_ctx);
            double ref_s = so_bench_now() - t0;
            ratio[r] = ref_s / per_call[r];
            ref_bw[r] = opts->ref_bytes / ref_s;
        }
    }
    so_bench_timing t = {median(per_call, reps), 0.0, 0.0};
    if (opts->ref_fn) {
        t.ref_ratio = median(ratio, reps);
        t.ref_bytes_per_s = median(ref_bw, reps);
    }
    return t;
}

void so_bench_add(so_bench_log *log, const char *name, size_t d, int threads, so_bench_timing t, double bytes,
                  double state_bytes)
{
    if (log->count == log->cap) {
        size_t cap = log->cap ? 2 * log->cap : 64;
        so_bench_result *items = realloc(log->items, cap * sizeof *items);
        if (!items) {
            fprintf(stderr, "signopt bench: out of memory for results\n");
            log->failed = 1;
            return;
        }
        log->items = items;
        log->cap = cap;
    }
    so_bench_result *r = &log->items[log->count++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->d = d;
    r->threads = threads;
    r->seconds = t.seconds;
    r->bytes = bytes;
    r->params_per_s = (double)d / t.seconds;
    r->bytes_per_s = bytes / t.seconds;
    r->state_bytes = state_bytes;
    r->stream_bytes_per_s = t.ref_bytes_per_s;
    /* (bytes / case seconds) / (ref_bytes / ref seconds), taken per repetition, then the median. */
    r->roofline = t.ref_ratio > 0.0 && log->ref_bytes > 0.0 ? bytes / log->ref_bytes * t.ref_ratio : 0.0;
}

void *so_bench_alloc(so_bench_log *log, size_t n)
{
    size_t rounded = (n + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) {
        fprintf(stderr, "signopt bench: out of memory for %zu bytes\n", n);
        log->failed = 1;
    }
    return p;
}

void so_bench_fill(float *x, size_t n, float lo, float hi, unsigned stream)
{
    /* Blocks of 64K draws, each from its own seek point, so threads split the work without changing values;
     * the parallel first touch also places pages as the timed loops will use them. */
    const size_t block = (size_t)1 << 16;
    const long nblocks = (long)((n + block - 1) / block);
#pragma omp parallel for schedule(static)
    for (long b = 0; b < nblocks; b++) {
        so_rng r;
        so_rng_init(&r, 12345, 0, 0, SO_STREAM_USER + stream);
        so_rng_seek(&r, (uint64_t)b * block);
        size_t hi_i = ((size_t)b + 1) * block < n ? ((size_t)b + 1) * block : n;
        for (size_t i = (size_t)b * block; i < hi_i; i++) x[i] = lo + (hi - lo) * so_rng_uniformf(&r);
    }
}

/* ---- Flags ---- */

static void usage(FILE *f)
{
    fprintf(f, "usage: signopt bench [flags]\n"
               "Throughput of every fused step kernel, sign packing, S_R, the packed vote (n = 8, 32, 128) and\n"
               "one in-process distributed round (d <= 16M), beside the memory bandwidth measured in the same run\n"
               "(STREAM copy and triad, again before each size). Median of the repetitions; roofline = bytes/s\n"
               "over the better of copy and triad; see BENCHMARKS.md for the bytes counted.\n\n"
               "flags (default in brackets):\n"
               "  --json            print one JSON array of result objects instead of a table\n"
               "  --quick           small sizes (4096, 65536), 3 repetitions: a smoke run of a few seconds\n"
               "  --sizes LIST      comma list of parameter counts [4096,262144,4194304,16777216,67108864]\n"
               "  --threads LIST    comma list of OpenMP thread counts [1,2]\n"
               "  --reps N          timed repetitions, >= 1 [5]\n"
               "  --only LIST       run only the cases whose name starts with one of the comma list's prefixes\n"
               "                    (stream always runs)\n"
               "  --peer FILE       figures of a peer (tools/bench_torch_optim.py --out FILE) to set beside ours\n"
               "  --mpi             under mpirun: seconds of one whole distributed round (pack, exchange, vote,\n"
               "                    step) of mv-signum with the ps, allgather and sharded patterns and of dist-sgdm\n"
               "                    with MPI_Allreduce and with the ordered reduce, per size\n"
               "                    [1048576,4194304,16777216,25000000] (--quick: 4096,65536), beside the cost\n"
               "                    model fitted to the allreduce; --sizes, --reps, --only, --quick, --json apply\n"
               "  --scaling         seconds per in-process mv-signsgd round: mlp (batch 16) with 1..1000 workers,\n"
               "                    quadratic with d 1M..16M and 8 workers (--quick: 1, 8 workers; d 65536)\n"
               "  --help            this text\n");
}

static int parse_list(const char *flag, const char *text, double *out, int max, double min, double maxv)
{
    int n = 0;
    const char *s = text;
    while (*s) {
        if (n == max) {
            fprintf(stderr, "signopt bench: %s: at most %d values\n", flag, max);
            return -1;
        }
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || !(v >= min && v <= maxv) || v != floor(v) || (*end && *end != ',')) {
            fprintf(stderr, "signopt bench: %s: bad value in '%s' (integers in [%g, %g])\n", flag, text, min, maxv);
            return -1;
        }
        out[n++] = v;
        s = *end ? end + 1 : end;
    }
    if (n == 0) fprintf(stderr, "signopt bench: %s: empty list\n", flag);
    return n ? n : -1;
}

/* ---- Peer figures: one JSON object per line with "name", "d", "threads", "params_per_s" ---- */

static void peer_match(so_bench_log *log, const cJSON *j)
{
    const char *name = json_get_str(j, "name"), *who = json_get_str(j, "peer_name");
    double dd = json_get_num(j, "d", -1), th = json_get_num(j, "threads", -1);
    double pps = json_get_num(j, "params_per_s", 0), rf = json_get_num(j, "roofline_fraction", 0);
    for (size_t k = 0; name && dd >= 0 && th >= 0 && k < log->count; k++) {
        so_bench_result *r = &log->items[k];
        if ((double)r->d == dd && r->threads == (int)th && strcmp(r->name, name) == 0 && pps > 0) {
            snprintf(r->peer, sizeof r->peer, "%s", who ? who : "torch");
            r->peer_params_per_s = pps;
            r->peer_roofline = rf;
        }
    }
}

/* The peer file (tools/bench_torch_optim.py --out FILE): one JSON array of objects, or one object per line (JSON
 * lines), read by cJSON; anything else is an error naming the file (and line). */
static int read_peer(so_bench_log *log, const char *path)
{
    char err[600];
    cJSON *doc = json_read_file(path, (size_t)64 << 20, err, sizeof err);
    if (cJSON_IsArray(doc)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, doc) if (cJSON_IsObject(e)) peer_match(log, e);
        cJSON_Delete(doc);
        return 0;
    }
    cJSON_Delete(doc);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "signopt bench: --peer %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == strlen(line)) continue;
        cJSON *j = cJSON_Parse(line);
        if (!cJSON_IsObject(j)) {
            fprintf(stderr, "signopt bench: --peer %s:%ld: expected a JSON array of objects, or one object per line\n",
                    path, lineno);
            cJSON_Delete(j);
            rc = -1;
            break;
        }
        peer_match(log, j);
        cJSON_Delete(j);
    }
    free(line);
    fclose(f);
    return rc;
}

/* ---- Output ---- */

/* The stream cases ran once per size group; keep, for each (name, threads), the fastest, the machine's best
 * figure this run, with its fraction of the better of the kept copy and triad. */
static void collapse_stream(so_bench_log *log)
{
    size_t kept = 0;
    for (size_t k = 0; k < log->count; k++) {
        so_bench_result *r = &log->items[k];
        int drop = 0;
        if (strncmp(r->name, "stream/", 7) == 0)
            for (size_t j = 0; j < log->count && !drop; j++) {
                const so_bench_result *s = &log->items[j];
                drop = j != k && s->threads == r->threads && strcmp(s->name, r->name) == 0 &&
                       (s->bytes_per_s > r->bytes_per_s || (s->bytes_per_s == r->bytes_per_s && j < k));
            }
        if (!drop) log->items[kept++] = *r;
    }
    log->count = kept;
    for (size_t k = 0; k < log->count; k++) {
        so_bench_result *r = &log->items[k];
        if (strncmp(r->name, "stream/", 7) != 0) continue;
        r->stream_bytes_per_s = 0.0;
        for (size_t j = 0; j < log->count; j++) {
            const so_bench_result *s = &log->items[j];
            if (s->threads == r->threads && strncmp(s->name, "stream/", 7) == 0 &&
                s->bytes_per_s > r->stream_bytes_per_s)
                r->stream_bytes_per_s = s->bytes_per_s;
        }
    }
    for (size_t k = 0; k < log->count; k++) {
        so_bench_result *r = &log->items[k];
        if (strncmp(r->name, "stream/", 7) == 0)
            r->roofline = r->stream_bytes_per_s > 0.0 ? r->bytes_per_s / r->stream_bytes_per_s : 0.0;
    }
}

static void print_json(const so_bench_log *log)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; k < log->count; k++) {
        const so_bench_result *r = &log->items[k];
        cJSON *o = cJSON_CreateObject();
        jset(o, "name", jstr(r->name));
        jset(o, "d", juint(r->d));
        jset(o, "threads", jint(r->threads));
        jset(o, "seconds", jnum(r->seconds));
        jset(o, "params_per_s", jnum(r->params_per_s));
        jset(o, "bytes_per_s", jnum(r->bytes_per_s));
        jset(o, "bytes_per_call", jnum(r->bytes));
        jset(o, "roofline_fraction", jnum(r->roofline));
        jset(o, "stream_bytes_per_s", jnum(r->stream_bytes_per_s));
        if (r->state_bytes >= 0) jset(o, "state_bytes_per_param", jnum(r->state_bytes));
        if (r->peer[0]) {
            jset(o, "peer", jstr(r->peer));
            jset(o, "peer_params_per_s", jnum(r->peer_params_per_s));
            jset(o, "peer_ratio", jnum(r->params_per_s / r->peer_params_per_s));
        }
        /* Both sides count the same bytes per parameter, so the ratio of the two paired-triad fractions is the
         * throughput ratio with each side's machine load divided out. */
        if (r->peer[0] && r->peer_roofline > 0 && r->roofline > 0) {
            jset(o, "peer_roofline_fraction", jnum(r->peer_roofline));
            jset(o, "peer_ratio_load_normalized", jnum(r->roofline / r->peer_roofline));
        }
        jpush(arr, o);
    }
    char *t = json_text(arr);
    if (t) fputs(t, stdout);
    else fprintf(stderr, "signopt bench: out of memory writing JSON\n");
    free(t);
    cJSON_Delete(arr);
}

static void print_table(const so_bench_log *log)
{
    /* peer_ratio: raw / load-normalized (the ratio of the two paired-triad fractions). */
    printf("%-36s %10s %3s %11s %10s %8s %9s %7s %15s\n", "name", "d", "thr", "median_s", "Mparam/s", "GB/s",
           "roofline", "state", "peer_ratio");
    for (size_t k = 0; k < log->count; k++) {
        const so_bench_result *r = &log->items[k];
        char state[16] = "-", ratio[32] = "-";
        if (r->state_bytes >= 0) snprintf(state, sizeof state, "%gB", r->state_bytes);
        if (r->peer[0] && r->peer_roofline > 0 && r->roofline > 0)
            snprintf(ratio, sizeof ratio, "%.2fx/%.2fx", r->params_per_s / r->peer_params_per_s,
                     r->roofline / r->peer_roofline);
        else if (r->peer[0])
            snprintf(ratio, sizeof ratio, "%.2fx", r->params_per_s / r->peer_params_per_s);
        printf("%-36s %10zu %3d %11.4g %10.1f %8.2f %9.3f %7s %15s\n", r->name, r->d, r->threads, r->seconds,
               r->params_per_s * 1e-6, r->bytes_per_s * 1e-9, r->roofline, state, ratio);
    }
}

int cmd_bench(int argc, char **argv)
{
    static const size_t full_sizes[] = {4096, 262144, 4194304, 16777216, 67108864};
    so_bench_opts o = {.nsizes = 5, .threads = {1, 2}, .nthreads = 2, .reps = 5, .rep_s = 0.02, .only = NULL};
    memcpy(o.sizes, full_sizes, sizeof full_sizes);
    int json = 0, quick = 0, sizes_set = 0, reps_set = 0, mpi = 0, scaling = 0;
    const char *peer = NULL;
    double vals[SO_BENCH_MAX_SIZES];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(a, "--sizes") == 0 || strcmp(a, "--threads") == 0 || strcmp(a, "--reps") == 0 ||
                    strcmp(a, "--only") == 0 || strcmp(a, "--peer") == 0;
        if (takes && !v) {
            fprintf(stderr, "signopt bench: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--quick") == 0) {
            quick = 1;
        } else if (strcmp(a, "--mpi") == 0) {
            mpi = 1;
        } else if (strcmp(a, "--scaling") == 0) {
            scaling = 1;
        } else if (strcmp(a, "--sizes") == 0) {
            int n = parse_list(a, v, vals, SO_BENCH_MAX_SIZES, 64, 1 << 30);
            if (n < 0) return 2;
            for (int k = 0; k < n; k++) o.sizes[k] = (size_t)vals[k];
            o.nsizes = n;
            sizes_set = 1;
        } else if (strcmp(a, "--threads") == 0) {
            int n = parse_list(a, v, vals, SO_BENCH_MAX_THREADS, 1, 1024);
            if (n < 0) return 2;
            for (int k = 0; k < n; k++) o.threads[k] = (int)vals[k];
            o.nthreads = n;
        } else if (strcmp(a, "--reps") == 0) {
            if (parse_list(a, v, vals, 1, 1, 64) < 0) return 2;
            o.reps = (int)vals[0];
            reps_set = 1;
        } else if (strcmp(a, "--only") == 0) {
            o.only = v;
        } else if (strcmp(a, "--peer") == 0) {
            peer = v;
        } else {
            fprintf(stderr, "signopt bench: unknown flag '%s' (signopt bench --help)\n", a);
            return 2;
        }
        if (takes) i++;
    }
    if (scaling) {
        if (quick && !reps_set) o.reps = 3;
        return so_bench_scaling(&o, json, quick);
    }
    if (mpi) {
        static const size_t mpi_sizes[] = {1048576, 4194304, 16777216, 25000000};
        if (!sizes_set) {
            memcpy(o.sizes, mpi_sizes, sizeof mpi_sizes);
            o.nsizes = 4;
            if (quick) {
                o.sizes[0] = 4096;
                o.sizes[1] = 65536;
                o.nsizes = 2;
            }
        }
        return so_bench_mpi(&o, json);
    }
    if (quick) {
        if (!sizes_set) {
            o.sizes[0] = 4096;
            o.sizes[1] = 65536;
            o.nsizes = 2;
        }
        if (!reps_set) o.reps = 3;
        o.rep_s = 0.002;
    }
    /* STREAM on arrays far beyond the 32 MiB last-level caches of current servers, measured before each size
     * group and, as the triad, once after every repetition of every case: on a shared machine the load changes
     * during a run, and a case is compared with the bandwidth the machine gave seconds from it. */
    const size_t stream_n = quick ? (size_t)1 << 23 : (size_t)1 << 24;
    so_bench_log log = {0};
    so_bench_arrays ref;
    if (so_bench_arrays_new(&log, &ref, stream_n) < 0) return 1;
    log.ref_bytes = 12.0 * (double)stream_n;
    for (int s = 0; s < o.nsizes && !log.failed; s++)
        for (int t = 0; t < o.nthreads && !log.failed; t++) {
            omp_set_num_threads(o.threads[t]);
            o.ref_fn = NULL;
            so_bench_stream(&log, &o, &ref, o.threads[t]);
            o.ref_fn = so_bench_triad;
            o.ref_ctx = &ref;
            o.ref_bytes = log.ref_bytes;
            so_bench_steps(&log, &o, o.sizes[s], o.threads[t]);
            so_bench_sign(&log, &o, o.sizes[s], o.threads[t]);
            so_bench_dist(&log, &o, o.sizes[s], o.threads[t]);
            fprintf(stderr, "signopt bench: d = %zu, %d thread(s) done\n", o.sizes[s], o.threads[t]);
        }
    so_bench_arrays_free(&ref);
    if (peer && read_peer(&log, peer) < 0) log.failed = 1;
    collapse_stream(&log);
    if (json) print_json(&log);
    else print_table(&log);
    int rc = log.failed ? 1 : 0;
    free(log.items);
    return rc;
}
