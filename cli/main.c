/* main.c — the signopt command: subcommand dispatch, `list`, `plan`, help and version.
 * Results go to stdout, everything else (progress, errors) to stderr. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "args.h"
#include "commands.h"
#include "json.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: signopt COMMAND [flags]\n"
               "commands:\n"
               "  train     train one algorithm on one problem (several seeds); signopt train --help\n"
               "  sweep     grid over --lr and --beta comma lists, several seeds per cell; reports the best\n"
               "  bench     performance benchmarks (signopt bench --help)\n"
               "  plot      mean ± std curves and a final-metrics table of runs (signopt plot --help)\n"
               "  plan      network cost model: seconds per round of the 1-bit patterns vs fp32 allreduce\n"
               "  list      list algos | list problems (--long: with descriptions and sources)\n"
               "  help      this text (signopt help COMMAND: that command's flags)\n"
               "  version   the version\n");
}

static const char *uplink_name(so_uplink u)
{
    static const char *const names[] = {"-", "sign", "S_R", "fp32"};
    return u >= SO_UPLINK_NONE && u <= SO_UPLINK_FP32 ? names[u] : "?";
}

static const char *downlink_name(so_downlink d)
{
    static const char *const names[] = {"-", "majority", "S_1(mean)", "mean"};
    return d >= SO_DOWNLINK_NONE && d <= SO_DOWNLINK_MEAN ? names[d] : "?";
}

static int cmd_list(int argc, char **argv)
{
    int lng = argc == 3 && (strcmp(argv[2], "--long") == 0 || strcmp(argv[2], "-l") == 0);
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: signopt list algos|problems [--long]\n"
               "  algos     the algorithm ids, one a line: single-node first, then distributed\n"
               "  problems  the problem ids, one a line\n"
               "  --long    a table instead: each id with what it is (algos: kind, state floats per coordinate,\n"
               "            uplink, downlink, source and a one-line description; problems: the description)\n");
        return 0;
    }
    if ((argc != 2 && !lng) || (strcmp(argv[1], "algos") != 0 && strcmp(argv[1], "problems") != 0)) {
        fprintf(stderr, "signopt list: expected 'algos' or 'problems' (and optionally --long), got '%s'\n",
                argc > 1 ? argv[argc > 2 && !lng ? 2 : 1] : "");
        return 2;
    }
    if (strcmp(argv[1], "algos") == 0) {
        if (lng) printf("%-24s %-6s %-5s %-6s %-10s %-52s %s\n", "id", "kind", "state", "up", "down", "source",
                        "description");
        for (size_t i = 0; i < so_algo_count(); i++) {
            const so_algo_info *a = so_algo_at(i);
            if (!lng) {
                printf("%s\n", a->id);
                continue;
            }
            printf("%-24s %-6s %-5d %-6s %-10s %-52s %s\n", a->id, a->kind == SO_ALGO_SINGLE ? "single" : "dist",
                   a->state_floats, uplink_name(a->uplink), downlink_name(a->downlink), a->source, a->description);
        }
    } else {
        for (size_t i = 0; i < so_problem_family_count(); i++) {
            const so_problem_family *f = so_problem_family_at(i);
            if (lng) printf("%-24s %s\n", f->id, f->description);
            else printf("%s\n", f->id);
        }
    }
    return 0;
}

static void plan_usage(FILE *f)
{
    fprintf(f, "usage: signopt plan [flags]\n"
               "Predicted seconds per round for n workers and d coordinates (the alpha-beta model of\n"
               "docs/algorithms.md, Bit accounting and Communication patterns): the 1-bit parameter server, ring\n"
               "allgather and sharded vote, and the fp32 ring allreduce, each plus a compute term; prints which is\n"
               "fastest. For n >= 16 also a two-level sharded vote (model only: signopt does not run it yet).\n\n"
               "flags (default in brackets):\n"
               "  --workers N          workers [8]\n"
               "  --dim D              coordinates [1000000]\n"
               "  --bandwidth BPS      link bandwidth in bits/s [1e9]\n"
               "  --latency S          per-message latency in seconds [5e-5]\n"
               "  --down-bits 1|2      downlink bits per coordinate (2: zero-tie vote) [1]\n"
               "  --compute S          seconds of computation per round, added to every pattern [0]\n"
               "  --calibration FILE   `signopt bench --mpi --json` output: bandwidth and latency from its fit, and\n"
               "                       each pattern's compute from its row of the nearest d (scaled by --dim/d);\n"
               "                       --bandwidth, --latency and --compute given as well win\n"
               "  --json               one JSON object instead of the table\n"
               "  --help               this text\n");
}

static int plan_num(const char *flag, const char *s, double *out, double min)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    int nonneg = strcmp(flag, "latency") == 0 || strcmp(flag, "compute") == 0;
    if (!*s || *end || errno == ERANGE || !isfinite(v) || v < min || (min == 0 && v <= 0 && !nonneg)) {
        fprintf(stderr, "signopt plan: --%s: expected a %s number, got '%s'\n", flag,
                nonneg ? "non-negative" : "positive", s);
        return 2;
    }
    *out = v;
    return 0;
}

enum { PLAN_PS, PLAN_ALLGATHER, PLAN_SHARDED, PLAN_RING, PLAN_N };
static const char *const plan_names[PLAN_N] = {"ps-1bit", "allgather-1bit", "sharded-1bit", "ring-fp32"};
static const char *const plan_bench[PLAN_N] = {"mpi/ps-1bit", "mpi/allgather-1bit", "mpi/sharded-1bit",
                                               "mpi/allreduce-fp32"};

/* Bandwidth, latency and per-pattern compute from a bench --mpi --json file. Returns 0, or 1 after a message. */
static int plan_calibrate(const char *path, double d, double *bw, double *lat, double comp[PLAN_N])
{
    char err[512];
    cJSON *a = json_read_file(path, 1 << 24, err, sizeof err);
    if (!a) {
        fprintf(stderr, "signopt plan: --calibration: %s\n", err);
        return 1;
    }
    int rc = 0, rows = 0;
    double best[PLAN_N];
    for (int k = 0; k < PLAN_N; k++) best[k] = INFINITY, comp[k] = 0.0;
    if (!cJSON_IsArray(a)) rc = 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        double b = json_get_num(e, "fit_bandwidth_bps", NAN), l = json_get_num(e, "fit_latency_s", NAN);
        double rd = json_get_num(e, "d", NAN), c = json_get_num(e, "compute_seconds", NAN);
        const char *name = json_get_str(e, "name");
        if (!name || !isfinite(b) || !isfinite(l) || !isfinite(rd) || rd <= 0) { rc = 1; break; }
        if (b <= 0) continue; /* no fit in that run (one rank, or no fp32 row) */
        *bw = b;
        *lat = l;
        rows++;
        for (int k = 0; k < PLAN_N; k++) {
            double dist = fabs(log(rd / d));
            if (strcmp(name, plan_bench[k]) == 0 && isfinite(c) && dist < best[k]) {
                best[k] = dist;
                comp[k] = c * d / rd;
            }
        }
    }
    cJSON_Delete(a);
    if (rc || rows == 0) {
        fprintf(stderr, "signopt plan: --calibration: %s: expected the JSON array of `signopt bench --mpi --json` "
                        "with a fitted bandwidth (an fp32 row, 2 or more ranks)\n", path);
        return 1;
    }
    return 0;
}

static int cmd_plan(int argc, char **argv)
{
    static const char *const flag_names[] = {"workers", "dim", "bandwidth", "latency", "down-bits", "compute",
                                             "calibration", "json"};
    double n = 8, d = 1e6, bw = 1e9, lat = 5e-5, down = 1, compute = 0;
    int set_bw = 0, set_lat = 0, set_compute = 0, json = 0;
    const char *calib = NULL;
    /* Exact flag names (no prefixes), --name VALUE or --name=VALUE. */
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            plan_usage(stdout);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            fprintf(stderr, "signopt plan: unexpected argument '%s' (flags start with --)\n", a);
            return 2;
        }
        char name[64];
        const char *eq = strchr(a + 2, '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq ? eq - (a + 2) : (long)strlen(a + 2)), a + 2);
        int i = cli_flag_lookup("plan", name, flag_names, 8);
        if (i < 0) return 2;
        if (i == 7) {
            if (eq) {
                fprintf(stderr, "signopt plan: --json takes no value\n");
                return 2;
            }
            json = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : k + 1 < argc ? argv[++k] : NULL;
        if (!v) {
            fprintf(stderr, "signopt plan: --%s: missing value\n", name);
            return 2;
        }
        int rc = 0;
        switch (i) {
        case 0: rc = plan_num("workers", v, &n, 1); break;
        case 1: rc = plan_num("dim", v, &d, 1); break;
        case 2: rc = plan_num("bandwidth", v, &bw, 0); set_bw = 1; break;
        case 3: rc = plan_num("latency", v, &lat, 0); set_lat = 1; break;
        case 5: rc = plan_num("compute", v, &compute, 0); set_compute = 1; break;
        case 6: calib = v; break;
        default:
            rc = plan_num("down-bits", v, &down, 1);
            if (!rc && down != 1 && down != 2) {
                fprintf(stderr, "signopt plan: --down-bits: expected 1 or 2, got '%s'\n", v);
                rc = 2;
            }
        }
        if (rc) return rc;
    }
    if (n != floor(n) || n > 1e6) {
        fprintf(stderr, "signopt plan: --workers: expected an integer from 1 to 1000000, got '%.17g'\n", n);
        return 2;
    }
    if (d != floor(d) || d > 1e15) {
        fprintf(stderr, "signopt plan: --dim: expected an integer from 1 to 1e15, got '%.17g'\n", d);
        return 2;
    }
    double comp[PLAN_N] = {0};
    if (calib) {
        double cbw = bw, clat = lat;
        if (plan_calibrate(calib, d, &cbw, &clat, comp)) return 1;
        if (!set_bw) bw = cbw;
        if (!set_lat) lat = clat;
    }
    if (set_compute || !calib)
        for (int k = 0; k < PLAN_N; k++) comp[k] = compute;
    so_netcost cost;
    so_netcost_predict(&cost, (int)n, (size_t)d, bw, lat, (int)down);
    double comm[PLAN_N] = {cost.ps_1bit, cost.allgather_1bit,
                           so_netcost_sharded_1bit((int)n, (size_t)d, bw, lat, (int)down), cost.ring_fp32};
    double secs[PLAN_N];
    int best = 0;
    for (int i = 0; i < PLAN_N; i++) {
        secs[i] = comm[i] + comp[i];
        if (secs[i] < secs[best]) best = i;
    }
    /* Two levels (model only): groups of g ~ sqrt(n) ranks; a sharded exchange of the 1-bit messages inside each
     * group leaves each rank the group's counts (b = ceil(log2(g+1)) bits) of d/g coordinates; the ranks holding
     * the same shard in the n/g groups exchange those counts sharded again (each owning d/n coordinates), vote,
     * and the D-bit results go back the same two ways. Latency 2(g-1) + 2(n/g-1) messages instead of 2(n-1). */
    int g = (int)floor(sqrt(n) + 0.5), groups = g > 0 ? (int)ceil(n / g) : 1, b = 0;
    while ((1 << b) < g + 1) b++;
    double two = NAN;
    if (n >= 16 && g >= 2 && groups >= 2) {
        double up1 = (g - 1.0) / g * d, up2 = (groups - 1.0) / groups * (d / g) * b;
        double dn2 = (groups - 1.0) / groups * (d / g) * down, dn1 = (g - 1.0) / g * d * down;
        two = 2.0 * (g - 1) * lat + 2.0 * (groups - 1) * lat + (up1 + up2 + dn2 + dn1) / bw + comp[PLAN_SHARDED];
    }
    if (json) {
        cJSON *o = cJSON_CreateObject(), *rows = cJSON_CreateArray();
        jset(o, "workers", juint((uint64_t)n));
        jset(o, "dim", juint((uint64_t)d));
        jset(o, "bandwidth_bps", jnum(bw));
        jset(o, "latency_s", jnum(lat));
        jset(o, "down_bits", jnum(down));
        for (int i = 0; i < PLAN_N; i++) {
            cJSON *e = cJSON_CreateObject();
            jset(e, "pattern", jstr(plan_names[i]));
            jset(e, "seconds", jnum(secs[i]));
            jset(e, "communication_seconds", jnum(comm[i]));
            jset(e, "compute_seconds", jnum(comp[i]));
            jpush(rows, e);
        }
        jset(o, "patterns", rows);
        jset(o, "fastest", jstr(plan_names[best]));
        if (isfinite(two)) {
            cJSON *h = cJSON_CreateObject();
            jset(h, "group_size", jint(g));
            jset(h, "groups", jint(groups));
            jset(h, "seconds", jnum(two));
            jset(h, "wins", jbool(two < secs[best]));
            jset(o, "two_level_sharded", h);
        } else {
            jset(o, "two_level_sharded", cJSON_CreateNull());
        }
        char *t = json_text(o);
        cJSON_Delete(o);
        if (!t) {
            fprintf(stderr, "signopt plan: out of memory\n");
            return 1;
        }
        fputs(t, stdout);
        free(t);
        return 0;
    }
    printf("workers %.0f, dim %.0f, bandwidth %.9g bit/s, latency %.9g s, down bits %.0f\n", n, d, bw, lat, down);
    printf("%-16s %16s %16s %16s\n", "pattern", "seconds/round", "communication", "compute");
    for (int i = 0; i < PLAN_N; i++) printf("%-16s %16.6g %16.6g %16.6g\n", plan_names[i], secs[i], comm[i], comp[i]);
    if (best == PLAN_RING) {
        double b1 = secs[0];
        for (int i = 1; i < PLAN_RING; i++) b1 = secs[i] < b1 ? secs[i] : b1;
        printf("fastest: %s (%.3gx faster than the best 1-bit pattern)\n", plan_names[best], b1 / secs[best]);
    } else {
        printf("fastest: %s (%.3gx faster than ring-fp32)\n", plan_names[best], secs[PLAN_RING] / secs[best]);
    }
    if (isfinite(two))
        printf("two-level sharded (%d groups of %d; model only): %.6g s/round, %s\n", groups, g, two,
               two < secs[best] ? "would be the fastest" : "would not win here");
    return 0;
}

/* OpenBLAS picks its kernels once, when it loads, from the CPU's model number. A CPU newer than the installed
 * OpenBLAS (Debian 12's 0.3.21 does not know Intel's Emerald Rapids, family 6 model 207) gets its generic Prescott
 * (SSE3) kernels: the models' matrix products then run several times slower (charlm steps ~20x, measured). The
 * OPENBLAS_CORETYPE variable overrides the choice but is read only at load, so when it is unset and OpenBLAS fell
 * back to Prescott on a CPU with AVX2 and FMA, the command runs itself again, once, with OPENBLAS_CORETYPE=Haswell
 * (OpenBLAS's AVX2 kernels, which such a CPU runs). summary.json records the kernels a run used (blas_core). */
static void blas_kernels(char **argv)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (getenv("OPENBLAS_CORETYPE") || strcmp(so_blas_core(), "Prescott") != 0) return;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return;
    /* the executable's own path, not /proc/self/exe: exec names the process after the path's last component, and
     * tools (pgrep, ps, mpirun's messages) know it as signopt */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || (size_t)n >= sizeof self - 1) return;
    self[n] = '\0';
    if (setenv("OPENBLAS_CORETYPE", "Haswell", 1) != 0) return;
    execv(self, argv); /* returns only on failure: then go on with Prescott */
    unsetenv("OPENBLAS_CORETYPE");
#else
    (void)argv;
#endif
}

int main(int argc, char **argv)
{
    blas_kernels(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0) return cmd_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0) return cmd_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "plan") == 0) return cmd_plan(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0) return cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("signopt %s\n", so_version());
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2 && (strcmp(argv[2], "train") == 0 || strcmp(argv[2], "sweep") == 0)) cli_usage(stdout, argv[2]);
        else if (argc > 2 && strcmp(argv[2], "plan") == 0) plan_usage(stdout);
        else if (argc > 2 && strcmp(argv[2], "plot") == 0) return cmd_plot(2, (char *[]){"plot", "--help", NULL});
        else usage(stdout);
        return 0;
    }
    fprintf(stderr, "signopt: unknown command '%s' (see 'signopt help')\n", cmd);
    return 2;
}
