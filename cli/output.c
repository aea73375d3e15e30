/* output.c — metrics.csv and summary.json, atomic file writes, the --out directory's claim. */
#define _DEFAULT_SOURCE /* flock */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
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

/* The directory this process holds: an flock on the directory itself (no lock file left behind), released when
 * the process ends however it ends, so a crashed run never leaves DIR locked. */
static int out_lock_fd = -1;

int out_claim(const char *cmd, const char *dir, const char *file, int force)
{
    out_release();
    if (make_dirs(cmd, dir)) return 1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        cli_error(cmd, "--out: cannot open '%s': %s", dir, strerror(errno));
        return 1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            cli_error(cmd, "--out: '%s' is in use by another signopt run; wait for it to finish or choose another "
                           "directory", dir);
        else
            cli_error(cmd, "--out: cannot lock '%s': %s", dir, strerror(e));
        return 1;
    }
    out_lock_fd = fd;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    struct stat st;
    if (!force && stat(path, &st) == 0) {
        cli_error(cmd, "--out: '%s' already holds a run (%s); use --force to overwrite it", dir, file);
        out_release();
        return 2;
    }
    /* Can files be created there? Asked now, not after the whole run. */
    snprintf(path, sizeof path, "%s/.signopt-probe.%ld", dir, (long)getpid());
    int pf = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (pf < 0 || write(pf, "x", 1) != 1) {
        int e = errno;
        if (pf >= 0) close(pf), unlink(path);
        cli_error(cmd, "--out: cannot write in '%s': %s", dir, strerror(e));
        out_release();
        return 1;
    }
    close(pf);
    unlink(path);
    /* --force: the old run's summary goes now, so that if this run fails before it writes its own, no summary of
     * another run stays beside it looking like this run's. */
    static const char *const old[] = {"summary.json", "metrics.csv", "sweep.csv"};
    for (int k = 0; force && k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, old[k]);
        if (unlink(path) != 0 && errno != ENOENT) {
            cli_error(cmd, "--out: cannot remove the old '%s': %s", path, strerror(errno));
            out_release();
            return 1;
        }
    }
    return 0;
}

void out_release(void)
{
    if (out_lock_fd >= 0) close(out_lock_fd);
    out_lock_fd = -1;
}

int json_write_file(const char *cmd, const char *path, const cJSON *root)
{
    char *t = json_text(root);
    if (!t) {
        fprintf(stderr, "signopt %s: %s: out of memory while writing JSON\n", cmd, path);
        return 1;
    }
    int rc = write_file_atomic(cmd, path, t, strlen(t));
    free(t);
    return rc;
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

const char metrics_header[] = "seed,step,epoch,loss,train_acc,test_acc,grad_l1,grad_l2,g_linf,bits_up,bits_down,wall_s,train_s\n";

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
    sb_printf(b, ",%.9g,%.9g,%.9g,%llu,%llu,%.9g,", r->grad_l1, r->grad_l2, r->g_linf,
              (unsigned long long)r->bits_up, (unsigned long long)r->bits_down, r->wall_s);
    csv_num(b, r->train_s); /* empty in rows resumed from a checkpoint that did not record it */
    sb_printf(b, "\n");
}

/* A flag's value in JSON: booleans as true/false, numbers as numbers (".001", "+1e-3", "1." and "0x1p-10" as typed
 * are not JSON; cJSON prints the number they mean), the rest as strings. */
static cJSON *json_flag_value(const cli_flag *f, const char *v)
{
    char *end;
    double x = strtod(v, &end);
    if (f->flag) return jbool(strcmp(v, "true") == 0);
    if (*v && !*end && isfinite(x) && strchr(v, ',') == NULL && !isspace((unsigned char)*v)) return jnum(x);
    return jstr(v);
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

static cJSON *json_row(const so_metrics_row *r, int nmetric)
{
    cJSON *o = cJSON_CreateObject();
    jset(o, "step", jint(r->step));
    jset(o, "epoch", jnum9(r->epoch));
    for (int k = 0; k < nmetric; k++)
        jset(o, metric_names[k], k >= 6 ? juint(k == 6 ? r->bits_up : r->bits_down) : jnum9(metric(r, k)));
    return o;
}

static cJSON *netcost_json(int n, size_t d, double bw, int down_bits)
{
    so_netcost c;
    so_netcost_predict(&c, n, d, bw, 5e-5, down_bits);
    cJSON *o = cJSON_CreateObject();
    jset(o, "bandwidth_bps", jnum(bw));
    jset(o, "latency_s", jnum(5e-5));
    jset(o, "ps_1bit_s", jnum9(c.ps_1bit));
    jset(o, "allgather_1bit_s", jnum9(c.allgather_1bit));
    jset(o, "ring_fp32_s", jnum9(c.ring_fp32));
    return o;
}

/* The final metrics' statistics across seeds. Over all seeds (finite_only 0) a diverged seed's loss and gradient
 * norms count as +inf, so a quantile is +inf (written null) once enough seeds diverged, and the mean is; its
 * accuracies and bit counts, never measured at the divergence, are left out. finite_only 1: the seeds that
 * finished. "n" is how many values each statistic is over. An interrupted seed has no final value. */
static cJSON *final_stats(const seed_result *res, int nres, int finite_only)
{
    cJSON *all = cJSON_CreateObject();
    double *v = malloc((nres ? nres : 1) * sizeof *v), st[7];
    for (int k = 0; v && k < NMETRIC; k++) {
        int m = 0;
        for (int s = 0; s < nres; s++) {
            if (res[s].interrupted) continue;
            if (!res[s].diverged) v[m++] = metric(&res[s].res.final, k);
            else if (!finite_only) v[m++] = k == 0 || (k >= 3 && k <= 5) ? INFINITY : NAN;
        }
        int n = stats7(v, m, st);
        cJSON *o = cJSON_CreateObject();
        for (int j = 0; j < 7; j++) jset(o, stat_names[j], jnum9(st[j]));
        jset(o, "n", jint(n));
        jset(all, metric_names[k], o);
    }
    if (!v) jset(all, "", NULL); /* marks the tree failed */
    free(v);
    return all;
}

const char *signal_name(int sig)
{
    static char buf[32];
    if (sig == SIGINT) return "SIGINT";
    if (sig == SIGTERM) return "SIGTERM";
    snprintf(buf, sizeof buf, "signal %d", sig);
    return buf;
}

cJSON *summary_json(const cli_options *o, const seed_result *res, int nres, int workers, size_t dim, size_t samples,
                    const char *error, int signal)
{
    cJSON *root = cJSON_CreateObject();
    jset(root, "signopt_version", jstr(so_version()));
    jset(root, "blas_core", jstr(so_blas_core()));
    jset(root, "command", jstr(o->cmd));
    cJSON *cfg = cJSON_CreateObject();
    for (int i = 0; i < cli_nflags; i++) jset(cfg, cli_flags[i].name, json_flag_value(&cli_flags[i], o->val[i]));
    jset(root, "config", cfg);
    long steps = nres ? res[0].steps : o->steps;
    cJSON *rs = cJSON_CreateObject();
    jset(rs, "algo", jstr(o->algo));
    jset(rs, "distributed", jbool(o->dist));
    jset(rs, "workers", jint(workers));
    jset(rs, "dim", juint(dim));
    jset(rs, "samples", juint(samples));
    jset(rs, "steps", jint(steps));
    jset(rs, "eval_every", jint(o->run.eval_every));
    jset(rs, "threads", jint(o->threads_resolved));
    jset(rs, "lr", jnum(nres ? res[0].lr : o->run.method.optim.lr));
    jset(rs, "beta", jnum(nres ? res[0].beta : o->run.method.optim.beta));
    jset(rs, "tau", jstr("uniform in {1..T}, x_1 the start (the papers' range): the iterate after tau-1 steps, "
                                "by reservoir sampling over (seed, SO_STREAM_TAU); tau.step = tau - 1"));
    jset(root, "resolved", rs);
    if (error) jset(root, "error", jstr(error));
    int ndiv = 0, first = -1;
    for (int s = 0; s < nres; s++) {
        if (res[s].diverged) ndiv++;
        else if (first < 0 && !res[s].interrupted) first = s;
    }
    /* An interrupted run says so, with the seed it stopped in and the seeds it never started. */
    if (signal) {
        cJSON *in = cJSON_CreateObject(), *nr = cJSON_CreateArray();
        jset(in, "signal", jstr(signal_name(signal)));
        jset(in, "seeds_finished", jint(nres - (nres && res[nres - 1].interrupted)));
        for (int s = nres; s < o->seeds; s++) jpush(nr, juint(o->seed + (uint64_t)s));
        jset(in, "seeds_not_run", nr);
        jset(root, "interrupted", in);
    } else {
        jset(root, "interrupted", cJSON_CreateNull());
    }
    jset(root, "diverged_seeds", jint(ndiv));
    cJSON *seeds = cJSON_CreateArray();
    for (int s = 0; s < nres; s++) {
        cJSON *e = cJSON_CreateObject();
        jset(e, "seed", juint(res[s].seed));
        jset(e, "diverged", jbool(res[s].diverged));
        jset(e, "diverged_step", res[s].diverged ? jint(res[s].diverged_step) : cJSON_CreateNull());
        jset(e, "interrupted", jbool(res[s].interrupted));
        jset(e, "step_reached", jint(res[s].res.final.step));
        jset(e, "stopped_early", jbool(res[s].res.stopped_early));
        jset(e, "skipped_steps", jint(res[s].res.skipped_steps));
        jset(e, "final", json_row(&res[s].res.final, NMETRIC));
        jset(e, "tau", res[s].diverged ? cJSON_CreateNull() : json_row(&res[s].res.tau, 5));
        jpush(seeds, e);
    }
    jset(root, "seeds", seeds);
    jset(root, "final_stats", final_stats(res, nres, 0));
    jset(root, "final_stats_finite", final_stats(res, nres, 1));
    cJSON *tm = cJSON_CreateObject();
    double *v = malloc((nres ? nres : 1) * sizeof *v), st[7];
    for (int k = 0; v && k < 5; k++) {
        int m = 0;
        for (int s = 0; s < nres; s++)
            if (!res[s].diverged && !res[s].interrupted) v[m++] = metric(&res[s].res.tau, k);
        stats7(v, m, st);
        jset(tm, metric_names[k], jnum9(st[0]));
    }
    if (!v) jset(tm, "", NULL);
    free(v);
    jset(root, "tau_mean", tm);
    /* Measured from the counters: cumulative bits over rounds run (dropout makes it vary). */
    double up = NAN, down = NAN;
    if (first >= 0 && res[first].res.final.step > 0) {
        up = (double)res[first].res.final.bits_up / (double)res[first].res.final.step;
        down = (double)res[first].res.final.bits_down / (double)res[first].res.final.step;
    }
    cJSON *bpr = cJSON_CreateObject();
    jset(bpr, "up", jnum9(up));
    jset(bpr, "down", jnum9(down));
    jset(root, "bits_per_round", bpr);
    /* A zero-tie vote over an even number of workers (any number when zeros abstain) needs the second downlink
     * bit. */
    int down_bits = o->run.method.ties == SO_TIES_ZERO &&
                            (workers % 2 == 0 || o->run.method.zero_vote == SO_ZERO_VOTE_ABSTAIN) ? 2 : 1;
    cJSON *nc = cJSON_CreateObject();
    jset(nc, "workers", jint(workers));
    jset(nc, "dim", juint(dim));
    jset(nc, "down_bits", jint(down_bits));
    jset(nc, "1Gbps", netcost_json(workers, dim, 1e9, down_bits));
    jset(nc, "10Gbps", netcost_json(workers, dim, 1e10, down_bits));
    jset(root, "netcost", nc);
    return root;
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
    /* the training clock goes on from the last row's (all of it, if no row was written) */
    r->train_s = last ? last->train_s + (wall_s - last->wall_s) : wall_s;
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
