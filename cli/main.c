/* main.c — the signopt command: subcommand dispatch, `list`, `plan`, help and version.
 * Results go to stdout, everything else (progress, errors) to stderr. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "commands.h"

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
               "Predicted communication seconds per round for n workers and d coordinates: the 1-bit parameter\n"
               "server, the 1-bit ring allgather, and the fp32 ring allreduce; prints which is fastest.\n\n"
               "flags (default in brackets):\n"
               "  --workers N          workers [8]\n"
               "  --dim D              coordinates [1000000]\n"
               "  --bandwidth BPS      link bandwidth in bits/s [1e9]\n"
               "  --latency S          per-message latency in seconds [5e-5]\n"
               "  --down-bits 1|2      downlink bits per coordinate (2: zero-tie vote) [1]\n"
               "  --help               this text\n");
}

static int plan_num(const char *flag, const char *s, double *out, double min)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v) || v < min || (min == 0 && v <= 0 && strcmp(flag, "latency"))) {
        fprintf(stderr, "signopt plan: --%s: expected a %s number, got '%s'\n", flag,
                strcmp(flag, "latency") ? "positive" : "non-negative", s);
        return 2;
    }
    *out = v;
    return 0;
}

static int cmd_plan(int argc, char **argv)
{
    static const char *const flag_names[] = {"workers", "dim", "bandwidth", "latency", "down-bits"};
    double n = 8, d = 1e6, bw = 1e9, lat = 5e-5, down = 1;
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
        int i = cli_flag_lookup("plan", name, flag_names, 5);
        if (i < 0) return 2;
        const char *v = eq ? eq + 1 : k + 1 < argc ? argv[++k] : NULL;
        if (!v) {
            fprintf(stderr, "signopt plan: --%s: missing value\n", name);
            return 2;
        }
        int rc = 0;
        switch (i) {
        case 0: rc = plan_num("workers", v, &n, 1); break;
        case 1: rc = plan_num("dim", v, &d, 1); break;
        case 2: rc = plan_num("bandwidth", v, &bw, 0); break;
        case 3: rc = plan_num("latency", v, &lat, 0); break;
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
    so_netcost cost;
    so_netcost_predict(&cost, (int)n, (size_t)d, bw, lat, (int)down);
    const char *names[3] = {"ps-1bit", "allgather-1bit", "ring-fp32"};
    double secs[3] = {cost.ps_1bit, cost.allgather_1bit, cost.ring_fp32};
    int best = 0;
    printf("workers %.0f, dim %.0f, bandwidth %.9g bit/s, latency %.9g s, down bits %.0f\n", n, d, bw, lat, down);
    printf("%-16s %16s\n", "pattern", "seconds/round");
    for (int i = 0; i < 3; i++) {
        printf("%-16s %16.6g\n", names[i], secs[i]);
        if (secs[i] < secs[best]) best = i;
    }
    if (best == 2) printf("fastest: %s (%.3gx faster than the best 1-bit pattern)\n", names[best],
                          (secs[0] < secs[1] ? secs[0] : secs[1]) / secs[2]);
    else printf("fastest: %s (%.3gx faster than ring-fp32)\n", names[best], secs[2] / secs[best]);
    return 0;
}

int main(int argc, char **argv)
{
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
