/* output.c — metrics.csv and summary.json, statistics across seeds, atomic file writes. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output.h"

void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->failed = 1; return; }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap <= b->len + (size_t)n) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) { b->failed = 1; return; }
        b->p = q;
        b->cap = cap;
    }
}

void sb_free(sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void rows_push(const so_metrics_row *r, void *user)
{
    row_list *l = user;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        so_metrics_row *q = realloc(l->rows, cap * sizeof *q);
        if (!q) return; /* the row is lost; the run goes on (memory is the least of the problems then) */
        l->rows = q;
        l->cap = cap;
    }
    l->rows[l->n++] = *r;
}

void rows_free(row_list *l)
{
    free(l->rows);
    memset(l, 0, sizeof *l);
}

int make_dirs(const char *cmd, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *s = path + 1;; s++) {
        int end = *s == '\0';
        if (*s == '/' || end) {
            *s = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                cli_error(cmd, "--out: cannot create directory '%s': %s", path, strerror(errno));
                return 1;
            }
            if (end) break;
            *s = '/';
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error(cmd, "--out: '%s' is not a directory", dir);
        return 1;
    }
    return 0;
}

int write_file_atomic(const char *cmd, const char *path, const char *data, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        cli_error(cmd, "cannot create '%s': %s", tmp, strerror(errno));
        return 1;
    }
    int ok = fwrite(data, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int err = errno;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        if (ok) err = errno;
        remove(tmp);
        cli_error(cmd, "cannot write '%s': %s", path, strerror(err));
        return 1;
    }
    return 0;
}

const char metrics_header[] = "seed,step,epoch,loss,train_acc,test_acc,grad_l1,grad_l2,g_linf,bits_up,bits_down,wall_s\n";

static void csv_num(sbuf *b, double v)
{
    /* Accuracies are NaN for problems without them: an empty field. */
    if (isnan(v)) return;
    sb_printf(b, "%.9g", v);
}

void metrics_row(sbuf *b, const so_metrics_row *r)
{
    sb_printf(b, "%llu,%ld,%.9g,%.9g,", (unsigned long long)r->seed, r->step, r->epoch, r->loss);
    csv_num(b, r->train_acc);
    sb_printf(b, ",");
    csv_num(b, r->test_acc);
    sb_printf(b, ",%.9g,%.9g,%.9g,%llu,%llu,%.9g\n", r->grad_l1, r->grad_l2, r->g_linf,
              (unsigned long long)r->bits_up, (unsigned long long)r->bits_down, r->wall_s);
}

void json_num(sbuf *b, double v)
{
    if (!isfinite(v)) sb_printf(b, "null");
    else sb_printf(b, "%.9g", v);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one (overlong forms,
 * surrogates and code points above U+10FFFF are invalid too). */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) n = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) n = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, min = 0x10000;
    else return 0;
    unsigned cp = c & (0x3fu >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

/* A JSON string: quotes, backslashes and control characters escaped; a byte that is not part of valid UTF-8 (a
 * path with a Latin-1 name) becomes U+FFFD, so the file is always valid UTF-8 JSON. */
void json_str(sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned char c = *u;
        int n = utf8_len(u);
        if (n == 0) {
            sb_printf(b, "\\ufffd");
            u++;
        } else if (n > 1) {
            sb_printf(b, "%.*s", n, (const char *)u);
            u += n;
        } else {
            if (c == '"' || c == '\\') sb_printf(b, "\\%c", c);
            else if (c < 0x20 || c == 0x7f) sb_printf(b, "\\u%04x", c);
            else sb_printf(b, "%c", c);
            u++;
        }
    }
    sb_printf(b, "\"");
}

/* A number as JSON writes it: the shortest %g text that reads back as v (".001", "+1e-3", "1." and "0x1p-10"
 * as typed are not JSON; 0.001 and 0.0009765625 are). */
void json_num_short(sbuf *b, double v)
{
    if (!isfinite(v)) {
        sb_printf(b, "null");
        return;
    }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    sb_printf(b, "%s", buf);
}

/* A flag's value in JSON: booleans as true/false, numbers normalised (json_num_short), the rest as strings. */
static void json_flag_value(sbuf *b, const cli_flag *f, const char *v)
{
    char *end;
    double x = strtod(v, &end);
    if (f->flag) sb_printf(b, "%s", strcmp(v, "true") == 0 ? "true" : "false");
    else if (*v && !*end && isfinite(x) && strchr(v, ',') == NULL && !isspace((unsigned char)*v)) json_num_short(b, x);
    else json_str(b, v);
}

#define NMETRIC 8
static const char *const metric_names[NMETRIC] = {"loss", "train_acc", "test_acc", "grad_l1", "grad_l2",
                                                  "g_linf", "bits_up", "bits_down"};

static double metric(const so_metrics_row *r, int k)
{
    switch (k) {
    case 0: return r->loss;
    case 1: return r->train_acc;
    case 2: return r->test_acc;
    case 3: return r->grad_l1;
    case 4: return r->grad_l2;
    case 5: return r->g_linf;
    case 6: return (double)r->bits_up;
    default: return (double)r->bits_down;
    }
}

static void json_row(sbuf *b, const so_metrics_row *r, int nmetric)
{
    sb_printf(b, "{\"step\": %ld, \"epoch\": ", r->step);
    json_num(b, r->epoch);
    for (int k = 0; k < nmetric; k++) {
        sb_printf(b, ", \"%s\": ", metric_names[k]);
        json_num(b, metric(r, k));
    }
    sb_printf(b, "}");
}

static void netcost_json(sbuf *b, int n, size_t d, double bw, int down_bits)
{
    so_netcost c;
    so_netcost_predict(&c, n, d, bw, 5e-5, down_bits);
    sb_printf(b, "{\"bandwidth_bps\": %.9g, \"latency_s\": 5e-05, \"ps_1bit_s\": ", bw);
    json_num(b, c.ps_1bit);
    sb_printf(b, ", \"allgather_1bit_s\": ");
    json_num(b, c.allgather_1bit);
    sb_printf(b, ", \"ring_fp32_s\": ");
    json_num(b, c.ring_fp32);
    sb_printf(b, "}");
}

/* The final metrics' statistics across seeds. Over all seeds (finite_only 0) a diverged seed's loss and gradient
 * norms count as +inf, so a quantile is +inf (written null) once enough seeds diverged, and the mean is; its
 * accuracies and bit counts, never measured at the divergence, are left out. finite_only 1: the seeds that
 * finished. "n" is how many values each statistic is over. */
static void final_stats(sbuf *b, const seed_result *res, int nres, int finite_only)
{
    double *v = malloc((nres ? nres : 1) * sizeof *v), st[7];
    for (int k = 0; v && k < NMETRIC; k++) {
        int m = 0;
        for (int s = 0; s < nres; s++) {
            if (res[s].interrupted) continue; /* unfinished: no final value */
            if (!res[s].diverged) v[m++] = metric(&res[s].res.final, k);
            else if (!finite_only) v[m++] = k == 0 || (k >= 3 && k <= 5) ? INFINITY : NAN;
        }
        int n = stats7(v, m, st);
        sb_printf(b, "%s\n    \"%s\": {", k ? "," : "", metric_names[k]);
        for (int j = 0; j < 7; j++) {
            sb_printf(b, "%s\"%s\": ", j ? ", " : "", stat_names[j]);
            json_num(b, st[j]);
        }
        sb_printf(b, ", \"n\": %d}", n);
    }
    free(v);
}

const char *signal_name(int sig)
{
    static char buf[32];
    if (sig == SIGINT) return "SIGINT";
    if (sig == SIGTERM) return "SIGTERM";
    snprintf(buf, sizeof buf, "signal %d", sig);
    return buf;
}

void summary_json(sbuf *b, const cli_options *o, const seed_result *res, int nres, int workers, size_t dim,
                  size_t samples, const char *error, int signal)
{
    sb_printf(b, "{\n  \"signopt_version\": ");
    json_str(b, so_version());
    sb_printf(b, ",\n  \"command\": ");
    json_str(b, o->cmd);
    sb_printf(b, ",\n  \"config\": {");
    for (int i = 0; i < cli_nflags; i++) {
        sb_printf(b, "%s\n    ", i ? "," : "");
        json_str(b, cli_flags[i].name);
        sb_printf(b, ": ");
        json_flag_value(b, &cli_flags[i], o->val[i]);
    }
    long steps = nres ? res[0].steps : o->steps;
    sb_printf(b, "\n  },\n  \"resolved\": {\"algo\": ");
    json_str(b, o->algo);
    sb_printf(b, ", \"distributed\": %s, \"workers\": %d, \"dim\": %zu, \"samples\": %zu, \"steps\": %ld, "
                 "\"eval_every\": %ld, \"threads\": %d, \"lr\": ",
              o->dist ? "true" : "false", workers, dim, samples, steps, o->run.eval_every, o->threads_resolved);
    json_num(b, nres ? res[0].lr : o->run.method.optim.lr);
    sb_printf(b, ", \"beta\": ");
    json_num(b, nres ? res[0].beta : o->run.method.optim.beta);
    sb_printf(b, ", \"tau\": \"uniform in {1..T} by reservoir sampling over (seed, SO_STREAM_TAU)\"}");
    if (error) {
        sb_printf(b, ",\n  \"error\": ");
        json_str(b, error);
    }
    int ndiv = 0, first = -1;
    for (int s = 0; s < nres; s++) {
        if (res[s].diverged) ndiv++;
        else if (first < 0 && !res[s].interrupted) first = s;
    }
    /* An interrupted run says so, with the seed it stopped in and the seeds it never started. */
    sb_printf(b, ",\n  \"interrupted\": ");
    if (signal) {
        sb_printf(b, "{\"signal\": ");
        json_str(b, signal_name(signal));
        sb_printf(b, ", \"seeds_finished\": %d, \"seeds_not_run\": [", nres - (nres && res[nres - 1].interrupted));
        for (int s = nres; s < o->seeds; s++)
            sb_printf(b, "%s%llu", s > nres ? ", " : "", (unsigned long long)(o->seed + (uint64_t)s));
        sb_printf(b, "]}");
    } else {
        sb_printf(b, "null");
    }
    sb_printf(b, ",\n  \"diverged_seeds\": %d,\n  \"seeds\": [", ndiv);
    for (int s = 0; s < nres; s++) {
        sb_printf(b, "%s\n    {\"seed\": %llu, \"diverged\": %s, \"diverged_step\": ", s ? "," : "",
                  (unsigned long long)res[s].seed, res[s].diverged ? "true" : "false");
        if (res[s].diverged) sb_printf(b, "%ld", res[s].diverged_step);
        else sb_printf(b, "null");
        sb_printf(b, ", \"interrupted\": %s, \"step_reached\": %ld", res[s].interrupted ? "true" : "false",
                  res[s].res.final.step);
        sb_printf(b, ", \"stopped_early\": %s, \"skipped_steps\": %ld, \"final\": ",
                  res[s].res.stopped_early ? "true" : "false", res[s].res.skipped_steps);
        json_row(b, &res[s].res.final, NMETRIC);
        sb_printf(b, ", \"tau\": ");
        if (res[s].diverged) sb_printf(b, "null");
        else json_row(b, &res[s].res.tau, 5);
        sb_printf(b, "}");
    }
    sb_printf(b, "\n  ],\n  \"final_stats\": {");
    final_stats(b, res, nres, 0);
    sb_printf(b, "\n  },\n  \"final_stats_finite\": {");
    final_stats(b, res, nres, 1);
    sb_printf(b, "\n  },\n  \"tau_mean\": {");
    double *v = malloc((nres ? nres : 1) * sizeof *v), st[7];
    for (int k = 0; v && k < 5; k++) {
        int m = 0;
        for (int s = 0; s < nres; s++)
            if (!res[s].diverged && !res[s].interrupted) v[m++] = metric(&res[s].res.tau, k);
        stats7(v, m, st);
        sb_printf(b, "%s\"%s\": ", k ? ", " : "", metric_names[k]);
        json_num(b, st[0]);
    }
    free(v);
    /* Measured from the counters: cumulative bits over rounds run (dropout makes it vary). */
    double up = NAN, down = NAN;
    if (first >= 0 && res[first].res.final.step > 0) {
        up = (double)res[first].res.final.bits_up / (double)res[first].res.final.step;
        down = (double)res[first].res.final.bits_down / (double)res[first].res.final.step;
    }
    sb_printf(b, "},\n  \"bits_per_round\": {\"up\": ");
    json_num(b, up);
    sb_printf(b, ", \"down\": ");
    json_num(b, down);
    /* A zero-tie vote over an even number of workers needs the second downlink bit. */
    int down_bits = o->run.method.ties == SO_TIES_ZERO && workers % 2 == 0 ? 2 : 1;
    sb_printf(b, "},\n  \"netcost\": {\"workers\": %d, \"dim\": %zu, \"down_bits\": %d, \"1Gbps\": ", workers, dim,
              down_bits);
    netcost_json(b, workers, dim, 1e9, down_bits);
    sb_printf(b, ", \"10Gbps\": ");
    netcost_json(b, workers, dim, 1e10, down_bits);
    sb_printf(b, "}\n}\n");
}

void divergence_row(so_metrics_row *r, const so_metrics_row *last, uint64_t seed, long step, double epoch,
                    double wall_s, const char *msg)
{
    memset(r, 0, sizeof *r);
    r->seed = seed;
    r->step = step;
    r->epoch = epoch;
    r->loss = r->grad_l1 = r->grad_l2 = r->g_linf = NAN;
    r->train_acc = r->test_acc = NAN;
    /* so_run's message for a failed evaluation carries the values it measured (%g). */
    long at;
    double loss, l1;
    if (sscanf(msg, "step %ld: the objective diverged (loss %lf, ||grad||_1 %lf)", &at, &loss, &l1) == 3 &&
        at == step) {
        r->loss = loss;
        r->grad_l1 = l1;
    }
    if (last) {
        r->bits_up = last->bits_up;
        r->bits_down = last->bits_down;
    }
    r->wall_s = wall_s;
}

void fmt_acc(char *buf, size_t n, double v)
{
    if (isnan(v)) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.4f", v);
}

/* The results table on stdout: one line per seed (a diverged one shows loss inf and its step), then the mean
 * and std over the seeds that finished, and how many diverged. */
void print_results(const seed_result *res, int nres, int ndiv)
{
    printf("%-8s %14s %9s %14s %14s\n", "seed", "final_loss", "test_acc", "grad_l1", "bits_up");
    double *v = malloc((size_t)nres * sizeof *v), *a = malloc((size_t)nres * sizeof *a),
           *g = malloc((size_t)nres * sizeof *g);
    int nfin = 0;
    for (int s = 0; s < nres; s++) {
        const so_metrics_row *r = &res[s].res.final;
        char acc[32];
        if (res[s].diverged) {
            printf("%-8llu %14s %9s %14s %14llu  diverged at step %ld\n", (unsigned long long)res[s].seed, "inf", "-",
                   "-", (unsigned long long)r->bits_up, res[s].diverged_step);
            continue;
        }
        if (res[s].interrupted) {
            fmt_acc(acc, sizeof acc, r->test_acc);
            printf("%-8llu %14.6g %9s %14.6g %14llu  interrupted at step %ld (not in the mean)\n",
                   (unsigned long long)res[s].seed, r->loss, acc, r->grad_l1, (unsigned long long)r->bits_up, r->step);
            continue;
        }
        fmt_acc(acc, sizeof acc, r->test_acc);
        printf("%-8llu %14.6g %9s %14.6g %14llu\n", (unsigned long long)res[s].seed, r->loss, acc, r->grad_l1,
               (unsigned long long)r->bits_up);
        if (v && a && g) {
            v[nfin] = r->loss;
            a[nfin] = r->test_acc;
            g[nfin++] = r->grad_l1;
        }
    }
    if (nfin > 1) {
        double st_loss[7], st_acc[7], st_l1[7];
        stats7(v, nfin, st_loss);
        stats7(a, nfin, st_acc);
        stats7(g, nfin, st_l1);
        char acc[32];
        fmt_acc(acc, sizeof acc, st_acc[0]);
        printf("%-8s %14.6g %9s %14.6g\n", "mean", st_loss[0], acc, st_l1[0]);
        fmt_acc(acc, sizeof acc, st_acc[1]);
        printf("%-8s %14.6g %9s %14.6g\n", "std", st_loss[1], acc, st_l1[1]);
    }
    if (ndiv > 0)
        printf("diverged: %d of %d seeds%s\n", ndiv, nres, nfin > 1 ? " (mean and std are over the others)" : "");
    free(v);
    free(a);
    free(g);
    fflush(stdout);
}
