/* plot.c — `signopt plot DIR...`: for train runs, read each run's metrics.csv, average over seeds in C (mean and
 * std at every evaluated step, and of each finished seed's final row), print a markdown table of the final metrics
 * and draw one panel per metric with gnuplot (mean line and a ±std band per run); for sweeps, read sweep.csv, print
 * a table of the cells and draw the final loss against the first grid dimension that varies. gnuplot only draws,
 * from temporary data and script files, into a temporary file beside --out that is renamed onto it: it never
 * writes to signopt's stdout, and its own output is shown only when it fails (or with --verbose). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "args.h"
#include "commands.h"
#include "output.h"
#include "plot.h"

static void plot_usage(FILE *f)
{
    fprintf(f, "usage: signopt plot DIR... [flags]\n"
               "A train run's DIR (metrics.csv): averages over its seeds, prints a markdown table of the final\n"
               "metrics (mean ± std over the seeds that finished) and draws mean ± std curves of every run, one panel\n"
               "per metric. A sweep's DIR (sweep.csv): prints a table of its cells and draws the final loss (mean ±\n"
               "std) against the first grid dimension that varies, one line per combination of the others.\n\n"
               "flags (default in brackets):\n"
               "  --out FILE.png          the figure [plot.png]\n"
               "  --x step|bits|epoch     runs: the x axis: step, bits sent up per worker (bits_up), or epoch [step]\n"
               "  --metrics LIST          runs: comma list of loss,test_acc,train_acc,grad_l1,grad_l2 [loss,test_acc,grad_l1,grad_l2]\n"
               "  --title T               the figure's title [none]\n"
               "  --table FILE.md         also write the table to FILE.md\n"
               "  --no-png                print the table only (gnuplot not needed)\n"
               "  --verbose               show gnuplot's own output (otherwise shown only when it fails)\n"
               "  --help                  this text\n");
}

/* The metrics a panel can show: the metrics.csv column, the axis label, and whether a log axis fits. */
static const struct {
    const char *name, *label;
    int logy;
} panels[] = {
    {"loss", "training loss f(x)", 1},       {"test_acc", "test accuracy", 0},
    {"train_acc", "training accuracy", 0},   {"grad_l1", "||grad f(x)||_1", 1},
    {"grad_l2", "||grad f(x)||_2", 1},
};
enum { NPANEL = (int)(sizeof panels / sizeof panels[0]) };

/* What a DIR holds. */
enum { DIR_RUN, DIR_SWEEP };

static void run_free(plot_run *r)
{
    free(r->rows);
    free(r->curve);
    free(r->info);
    memset(r, 0, sizeof *r);
}

/* ---- summary.json, through cJSON ---- */

#define JSON_MAX_BYTES (64L << 20)

/* DIR/summary.json parsed, or NULL: silently when there is none (it is optional: a hand-made metrics.csv), with
 * a one-line warning when it cannot be read or parsed (plot goes on from the CSV alone). */
static cJSON *read_summary(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT)
            fprintf(stderr, "signopt plot: warning: %s: cannot open: %s; going on from the CSV alone\n", path,
                    strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > JSON_MAX_BYTES) {
        fprintf(stderr, "signopt plot: warning: %s: not a regular file of at most %ld bytes; going on from the CSV "
                        "alone\n", path, JSON_MAX_BYTES);
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    char *text = malloc(n + 1);
    size_t got = text ? fread(text, 1, n, f) : 0;
    fclose(f);
    if (!text || got != n) {
        fprintf(stderr, "signopt plot: warning: %s: cannot read it; going on from the CSV alone\n", path);
        free(text);
        return NULL;
    }
    text[n] = '\0';
    cJSON *j = cJSON_ParseWithLength(text, n);
    if (!j || !cJSON_IsObject(j)) {
        /* The line of the error, for a file a person edited. */
        const char *at = cJSON_GetErrorPtr();
        long line = 1;
        for (const char *p = text; j == NULL && at && p < at && p < text + n; p++) line += *p == '\n';
        fprintf(stderr, "signopt plot: warning: %s:%ld: %s; going on from the CSV alone\n", path, line,
                j ? "expected a JSON object" : "not valid JSON");
        cJSON_Delete(j);
        j = NULL;
    }
    free(text);
    return j;
}

static const char *json_str_at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A number member, or NaN (missing, null, not a number). */
static double json_num_at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The last component of path ("/" for the root). */
static void base_name(char *buf, size_t n, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    size_t len = strlen(tmp);
    while (len > 1 && tmp[len - 1] == '/') tmp[--len] = '\0';
    const char *slash = strrchr(tmp, '/');
    snprintf(buf, n, "%s", slash && slash[1] ? slash + 1 : tmp);
}

/* A label: the last component of DIR; for ".", ".." or "/", which name nothing, algo (from summary.json) when
 * known, else the name the folder really has. */
static void label_of(char *buf, size_t n, const char *dir, const char *algo)
{
    base_name(buf, n, dir);
    if (strcmp(buf, ".") != 0 && strcmp(buf, "..") != 0 && strcmp(buf, "/") != 0) return;
    if (algo && *algo) {
        snprintf(buf, n, "%s", algo);
        return;
    }
    /* DIR resolved against the working folder, component by component (realpath is not POSIX.1-2008 base). */
    char path[4096] = "/", comp[4096];
    if (dir[0] != '/' && !getcwd(path, sizeof path)) return;
    for (const char *p = dir; *p;) {
        size_t len = strcspn(p, "/");
        snprintf(comp, sizeof comp, "%.*s", (int)len, p);
        p += len + (p[len] == '/');
        if (!comp[0] || strcmp(comp, ".") == 0) continue;
        char *last = strrchr(path, '/');
        if (strcmp(comp, "..") == 0) {
            if (last) last[last == path] = '\0'; /* "/a/b" -> "/a", "/a" -> "/" */
        } else {
            size_t l = strlen(path), sep = !l || path[l - 1] != '/';
            if (l + sep + len >= sizeof path) return;
            if (sep) path[l++] = '/';
            memcpy(path + l, comp, len + 1);
        }
    }
    base_name(buf, n, path);
}

/* A run: summary.json's label and per-seed flags (diverged, interrupted), then metrics.csv. */
static int load_run(plot_run *r, const char *dir, int xcol)
{
    cJSON *j = read_summary(dir);
    const cJSON *resolved = cJSON_GetObjectItemCaseSensitive(j, "resolved");
    label_of(r->label, sizeof r->label, dir, json_str_at(resolved, "algo"));
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(j, "seeds");
    int ns = cJSON_IsArray(seeds) ? cJSON_GetArraySize(seeds) : 0;
    if (ns > 0 && (r->info = calloc((size_t)ns, sizeof *r->info)) != NULL) {
        const cJSON *e;
        cJSON_ArrayForEach(e, seeds) {
            const cJSON *sd = cJSON_GetObjectItemCaseSensitive(e, "seed");
            /* A seed we cannot name (as metrics.csv can: an integer below 9e15): metrics.csv decides for it. */
            if (!cJSON_IsNumber(sd) || !(sd->valuedouble >= 0 && sd->valuedouble < 9e15)) continue;
            plot_seed_info *in = &r->info[r->ninfo++];
            in->seed = (long)sd->valuedouble;
            in->diverged = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "diverged"));
            in->interrupted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted"));
        }
    }
    /* train's own statistics of the finished seeds, from full-precision values (see plot_aggregate). */
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(j, "final_stats_finite");
    static const char *const rec_names[4] = {"loss", "test_acc", "grad_l1", "grad_l2"};
    for (int k = 0; cJSON_IsObject(fs) && k < 4; k++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(fs, rec_names[k]);
        r->rec_final[k][0] = json_num_at(o, "mean");
        r->rec_final[k][1] = json_num_at(o, "std");
        double n = json_num_at(o, "n");
        r->rec_n[k] = n >= 0 && n < 1e9 ? (int)n : -1;
        r->has_rec = 1;
    }
    cJSON_Delete(j);
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    int code = plot_read_csv(r, path);
    if (!code) code = plot_aggregate(r, xcol);
    return code;
}

/* The shortest %g text that reads back as v, as sweep prints its grid values. */
static void short_num(char *buf, size_t n, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* Does a sweep.csv value equal a summary.json one? sweep writes a value that reads as a finite number as a JSON
 * number (so "1e-4" in the CSV is 0.0001 in the JSON), anything else as a string. */
static int same_value(const char *csv, const cJSON *v)
{
    if (cJSON_IsString(v)) return strcmp(csv, v->valuestring) == 0;
    if (!cJSON_IsNumber(v)) return 0;
    char *end;
    double x = strtod(csv, &end);
    return *csv && *end == '\0' && x == v->valuedouble;
}

/* A sweep: sweep.csv, then the cells' status and grid order from summary.json (which also lists the cells an
 * interrupted sweep never ran). */
static int load_sweep(plot_sweep *s, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/sweep.csv", dir);
    int code = plot_read_sweep(s, path);
    cJSON *j = code ? NULL : read_summary(dir);
    label_of(s->label, sizeof s->label, dir, json_str_at(j, "algo"));
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(j, "seeds");
    if (cJSON_IsNumber(seeds) && seeds->valuedouble >= 1 && seeds->valuedouble < 1e9)
        s->seeds = (int)seeds->valuedouble;
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(j, "cells");
    int ncsv = s->ncell, njson = cJSON_IsArray(cells) ? cJSON_GetArraySize(cells) : 0;
    char *matched = calloc((size_t)(ncsv ? ncsv : 1), 1);
    if (!matched && !code) {
        fprintf(stderr, "signopt plot: out of memory\n");
        code = 1;
    }
    int pos = 0;
    const cJSON *e, *list = cJSON_IsArray(cells) && !code ? cells : NULL;
    cJSON_ArrayForEach(e, list) {
        int jpos = pos++, c = 0;
        const cJSON *v[PLOT_MAX_DIMS];
        int k;
        for (k = 0; k < s->ndim; k++) {
            v[k] = cJSON_GetObjectItemCaseSensitive(e, s->dim[k]);
            if (!cJSON_IsString(v[k]) && !cJSON_IsNumber(v[k])) break;
        }
        if (k < s->ndim) continue; /* not a cell of this grid: the CSV decides */
        for (c = 0; c < ncsv; c++) {
            if (matched[c]) continue;
            for (k = 0; k < s->ndim && same_value(s->cells[c].val[k], v[k]); k++) {}
            if (k == s->ndim) break;
        }
        if (c == ncsv) {
            /* A cell without rows: never run (or stopped before its first seed finished). */
            c = plot_sweep_add(s);
            if (c < 0) {
                fprintf(stderr, "signopt plot: out of memory\n");
                code = 1;
                break;
            }
            for (k = 0; k < s->ndim; k++) {
                if (cJSON_IsString(v[k])) snprintf(s->cells[c].val[k], PLOT_VAL_LEN, "%s", v[k]->valuestring);
                else short_num(s->cells[c].val[k], PLOT_VAL_LEN, v[k]->valuedouble);
            }
        } else {
            matched[c] = 1;
        }
        const char *st = json_str_at(e, "status");
        s->cells[c].rec_loss[0] = json_num_at(e, "loss_mean");
        s->cells[c].rec_loss[1] = json_num_at(e, "loss_std");
        s->cells[c].has_rec = 1;
        s->cells[c].order = jpos;
        s->cells[c].status = !st ? -1 : strcmp(st, "done") == 0 ? PLOT_CELL_DONE
                           : strcmp(st, "interrupted") == 0 ? PLOT_CELL_INTERRUPTED
                           : strcmp(st, "not run") == 0 ? PLOT_CELL_NOT_RUN : -1;
    }
    /* Cells summary.json does not list keep their CSV order, after the ones it does. */
    for (int c = 0; c < ncsv && !code; c++)
        if (!matched[c]) s->cells[c].order = njson + c;
    free(matched);
    cJSON_Delete(j);
    if (!code) code = plot_sweep_aggregate(s);
    return code;
}

/* ---- tables ---- */

static void fmt_pm(char *buf, size_t n, const double st[2], int nvalues)
{
    if (nvalues == 0) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.6g ± %.6g", st[0], st[1]);
}

static void print_run_table(FILE *f, const plot_run *runs, int nrun)
{
    fprintf(f, "| run | seeds | steps | final loss | test acc | ‖∇f‖₁ | ‖∇f‖₂ | bits up per worker |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (int i = 0; i < nrun; i++) {
        const plot_run *r = &runs[i];
        char c[4][96], seeds[96], bits[48];
        for (int k = 0; k < 4; k++) fmt_pm(c[k], sizeof c[k], r->final[k], r->final_n[k]);
        /* The final columns are over the seeds that finished; say which did not. */
        int len = snprintf(seeds, sizeof seeds, "%d", r->nseed);
        if (r->ndiverged || r->ninterrupted) {
            len += snprintf(seeds + len, sizeof seeds - (size_t)len, " (");
            if (r->ndiverged) len += snprintf(seeds + len, sizeof seeds - (size_t)len, "%d diverged", r->ndiverged);
            if (r->ndiverged && r->ninterrupted) len += snprintf(seeds + len, sizeof seeds - (size_t)len, ", ");
            if (r->ninterrupted)
                len += snprintf(seeds + len, sizeof seeds - (size_t)len, "%d interrupted", r->ninterrupted);
            snprintf(seeds + len, sizeof seeds - (size_t)len, ")");
        }
        if (isfinite(r->final_bits)) snprintf(bits, sizeof bits, "%.0f", r->final_bits);
        else snprintf(bits, sizeof bits, "-");
        fprintf(f, "| %s | %s | %ld | %s | %s | %s | %s | %s |\n", r->label, seeds, r->last_step, c[0], c[1], c[2],
                c[3], bits);
    }
}

static const char *const cell_status[] = {"done", "interrupted", "not run"};

/* The grid dimensions of all sweeps, in order of first appearance (one table, a column each). */
static int sweep_columns(const plot_sweep *sw, int nsw, const char **cols, int max)
{
    int n = 0;
    for (int i = 0; i < nsw; i++)
        for (int k = 0; k < sw[i].ndim; k++) {
            int j = 0;
            while (j < n && strcmp(cols[j], sw[i].dim[k]) != 0) j++;
            if (j == n && n < max) cols[n++] = sw[i].dim[k];
        }
    return n;
}

static void print_sweep_table(FILE *f, const plot_sweep *sw, int nsw)
{
    const char *cols[PLOT_MAX_DIMS * 4];
    int ncol = sweep_columns(sw, nsw, cols, PLOT_MAX_DIMS * 4);
    fprintf(f, "|%s", nsw > 1 ? " sweep |" : "");
    for (int k = 0; k < ncol; k++) fprintf(f, " %s |", cols[k]);
    fprintf(f, " seeds | final loss | test acc | diverged | status |\n|%s", nsw > 1 ? " --- |" : "");
    for (int k = 0; k < ncol + 5; k++) fprintf(f, " --- |");
    fputc('\n', f);
    for (int i = 0; i < nsw; i++)
        for (int c = 0; c < sw[i].ncell; c++) {
            const plot_cell *cell = &sw[i].cells[c];
            if (nsw > 1) fprintf(f, "| %s ", sw[i].label);
            fputc('|', f);
            for (int k = 0; k < ncol; k++) {
                int d = 0;
                while (d < sw[i].ndim && strcmp(sw[i].dim[d], cols[k]) != 0) d++;
                fprintf(f, " %s |", d < sw[i].ndim ? cell->val[d] : "-");
            }
            char loss[96], acc[96], div[32];
            fmt_pm(loss, sizeof loss, cell->loss_st, cell->loss_n);
            fmt_pm(acc, sizeof acc, cell->acc_st, cell->acc_n);
            if (cell->nrows) snprintf(div, sizeof div, "%d", cell->ndiverged);
            else snprintf(div, sizeof div, "-");
            fprintf(f, " %d | %s | %s | %s | %s |\n", cell->loss_n, loss, acc, div, cell_status[cell->status]);
        }
}

/* ---- gnuplot ---- */

/* gnuplot single-quoted string: a quote is written twice. */
static void gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        if (*s != '\n' && *s != '\r') fputc(*s, f);
    }
    fputc('\'', f);
}

/* Is an executable named prog on PATH? */
static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path) return 0;
    char buf[4096];
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)len, len ? p : ".", prog);
        if (access(buf, X_OK) == 0) return 1;
        if (!colon) return 0;
        p = colon + 1;
    }
}

/* The figure's files: a private folder for gnuplot's data and script, and the PNG's temporary name beside --out
 * (same folder, so the final rename is atomic and never crosses file systems). */
typedef struct figure {
    char dir[4096], data[4200], script[4200];
    char tmp_png[4200];
    int have_dir, have_png;
} figure;

static void figure_cleanup(figure *g)
{
    if (g->have_dir) {
        unlink(g->data);
        unlink(g->script);
        rmdir(g->dir);
        g->have_dir = 0;
    }
    if (g->have_png) {
        unlink(g->tmp_png);
        g->have_png = 0;
    }
}

/* --out must name a file in a folder we can write: checked by creating the temporary file there (".NAME.XXXXXX")
 * before anything is printed, so a bad --out costs no work and leaves stdout clean. */
static int figure_open(figure *g, const char *out)
{
    memset(g, 0, sizeof *g);
    const char *slash = strrchr(out, '/');
    const char *base = slash ? slash + 1 : out;
    int dirlen = slash ? (int)(slash - out + 1) : 0;
    struct stat st;
    int n = snprintf(g->tmp_png, sizeof g->tmp_png, "%.*s.%s.XXXXXX", dirlen, out, base);
    if (n < 0 || (size_t)n >= sizeof g->tmp_png) {
        fprintf(stderr, "signopt plot: --out: cannot write '%s': %s\n", out, strerror(ENAMETOOLONG));
        return 1;
    }
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "signopt plot: --out: cannot write '%s': %s\n", out, strerror(EISDIR));
        return 1;
    }
    int fd = mkstemp(g->tmp_png);
    if (fd < 0) {
        fprintf(stderr, "signopt plot: --out: cannot write '%s': %s\n", out, strerror(errno));
        return 1;
    }
    g->have_png = 1;
    /* mkstemp makes it 0600; the figure gets the mode a plain new file would (0666 less the umask). */
    mode_t um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um) != 0) {
        /* not fatal: the figure is still written, only less widely readable */
    }
    close(fd);
    const char *tmpdir = getenv("TMPDIR");
    snprintf(g->dir, sizeof g->dir, "%s/signopt-plot.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(g->dir)) {
        fprintf(stderr, "signopt plot: cannot create a temporary folder '%s': %s\n", g->dir, strerror(errno));
        figure_cleanup(g);
        return 1;
    }
    g->have_dir = 1;
    snprintf(g->data, sizeof g->data, "%s/data", g->dir);
    snprintf(g->script, sizeof g->script, "%s/plot.gp", g->dir);
    return 0;
}

/* Is path a PNG (its 8 magic bytes)? Made durable when it is. */
static int is_png(const char *path)
{
    static const unsigned char magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8];
    int fd = open(path, O_RDONLY);
    int ok = fd >= 0 && read(fd, head, 8) == 8 && memcmp(head, magic, 8) == 0;
    if (fd >= 0) {
        if (ok) fsync(fd);
        close(fd);
    }
    return ok;
}

/* Run `gnuplot SCRIPT` with stdin from /dev/null and its stdout and stderr in a temporary file that is copied to
 * our stderr (each line marked "gnuplot: ") only when it fails or png is not a PNG afterwards; with verbose both
 * go to our stderr as they come. Its stdout is never ours: were it to fall back to writing the PNG there, the
 * bytes would land in that file. While we wait, SIGINT and SIGTERM are left to gnuplot (a terminal signals the
 * whole process group), so that we live to remove the temporary files. Returns 0, 1 (failed) or 128 + the signal
 * that stopped gnuplot. */
static int run_gnuplot(const char *script, const char *png, int verbose)
{
    FILE *log = verbose ? NULL : tmpfile();
    if (!verbose && !log) {
        fprintf(stderr, "signopt plot: cannot create a temporary file for gnuplot's output: %s\n", strerror(errno));
        return 1;
    }
    fflush(stdout);
    fflush(stderr);
    struct sigaction ign, old_int, old_term;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGTERM, &ign, &old_term);
    pid_t pid = fork();
    if (pid == 0) {
        /* An ignored signal stays ignored across exec: gnuplot gets the default back. */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            close(null);
        }
        dup2(verbose ? STDERR_FILENO : fileno(log), STDOUT_FILENO);
        if (!verbose) dup2(fileno(log), STDERR_FILENO);
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        dprintf(STDERR_FILENO, "cannot run gnuplot: %s\n", strerror(errno));
        _exit(127);
    }
    int err = errno, status = 0;
    if (pid > 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    int code = 0;
    if (pid < 0) {
        fprintf(stderr, "signopt plot: cannot run gnuplot: %s; no figure written\n", strerror(err));
        code = 1;
    } else if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM)) {
        fprintf(stderr, "signopt plot: interrupted by %s; no figure written\n",
                WTERMSIG(status) == SIGINT ? "SIGINT" : "SIGTERM");
        code = 128 + WTERMSIG(status);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !is_png(png)) {
        if (log) {
            char line[1024];
            rewind(log);
            while (fgets(line, sizeof line, log)) {
                fprintf(stderr, "gnuplot: %s", line);
                if (!strchr(line, '\n')) fputc('\n', stderr);
            }
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            fprintf(stderr, "signopt plot: gnuplot exited 0 but wrote no PNG; no figure written\n");
        else if (WIFEXITED(status))
            fprintf(stderr, "signopt plot: gnuplot failed (exit status %d); no figure written\n", WEXITSTATUS(status));
        else
            fprintf(stderr, "signopt plot: gnuplot was killed by signal %d; no figure written\n", WTERMSIG(status));
        code = 1;
    }
    if (log) fclose(log);
    return code;
}

/* Put the checked figure in place: the rename within one folder is atomic, so --out is the old file or the new
 * one, never part of one. */
static int figure_commit(figure *g, const char *out)
{
    if (rename(g->tmp_png, out) != 0) {
        fprintf(stderr, "signopt plot: --out: cannot write '%s': %s\n", out, strerror(errno));
        return 1;
    }
    g->have_png = 0;
    return 0;
}

static void gp_header(FILE *gp, const figure *g, int width, int height)
{
    fprintf(gp, "set encoding utf8\nset terminal pngcairo size %d,%d font ',10'\nset output ", width, height);
    gp_str(gp, g->tmp_png);
    fprintf(gp, "\nset datafile missing 'nan'\nset grid\n");
}

/* The runs' data file: one gnuplot index block per run, columns x then mean and std of every panel metric. */
static int write_run_data(FILE *f, const plot_run *runs, int nrun)
{
    for (int i = 0; i < nrun; i++) {
        const plot_run *r = &runs[i];
        fprintf(f, "# %s\n", r->label);
        for (size_t k = 0; k < r->ncurve; k++) {
            const plot_point *p = &r->curve[k];
            fprintf(f, "%.9g", p->x);
            for (int m = 0; m < PLOT_NMETRIC; m++) fprintf(f, " %.9g %.9g", p->mean[m], p->std[m]);
            fputc('\n', f);
        }
        fprintf(f, "\n\n");
    }
    return ferror(f) ? -1 : 0;
}

static void write_run_script(FILE *gp, const figure *g, const char *title, const char *xname, const int *want,
                             int nwant, const plot_run *runs, int nrun)
{
    int cols = nwant <= 3 ? nwant : 2, rows = nwant <= 3 ? 1 : (nwant + 1) / 2;
    gp_header(gp, g, 600 * cols, 450 * rows + 40);
    fprintf(gp, "set style fill transparent solid 0.2 noborder\nset multiplot layout %d,%d", rows, cols);
    if (title && *title) {
        fprintf(gp, " title ");
        gp_str(gp, title);
        fprintf(gp, " noenhanced");
    }
    fprintf(gp, "\nset xlabel '%s'\nset key top right\n",
            strcmp(xname, "bits") == 0 ? "bits sent up per worker" : xname);
    for (int w = 0; w < nwant; w++) {
        int m = want[w];
        fprintf(gp, "%s\nset ylabel '%s'\n", panels[m].logy ? "set logscale y" : "unset logscale y",
                panels[m].label);
        fprintf(gp, "set key %s right\n", panels[m].logy ? "top" : "bottom");
        int mc = 2 + 2 * m; /* mean column: x is 1 */
        fprintf(gp, "plot ");
        for (int i = 0; i < nrun; i++) {
            fprintf(gp, "%s", i ? ", " : "");
            gp_str(gp, g->data);
            /* The band's lower edge on a log axis stops at mean/100 instead of going to or below zero. */
            if (panels[m].logy)
                fprintf(gp, " index %d using 1:(($%d-$%d)>$%d/100?($%d-$%d):$%d/100):($%d+$%d) "
                            "with filledcurves lc %d notitle, ",
                        i, mc, mc + 1, mc, mc, mc + 1, mc, mc, mc + 1, i + 1);
            else
                fprintf(gp, " index %d using 1:($%d-$%d):($%d+$%d) with filledcurves lc %d notitle, ", i, mc,
                        mc + 1, mc, mc + 1, i + 1);
            gp_str(gp, g->data);
            fprintf(gp, " index %d using 1:%d with linespoints lc %d pt 7 ps 0.5 lw 1.5 title ", i, mc, i + 1);
            gp_str(gp, runs[i].label);
            fprintf(gp, " noenhanced");
        }
        fprintf(gp, "\n");
    }
    fprintf(gp, "unset multiplot\nset output\n");
}

/* ---- a sweep's figure: final loss against the first grid dimension that varies ---- */

/* The first dimension with more than one value (the first of all when none varies); *vary[k]: dimension k
 * varies. */
static int sweep_xdim(const plot_sweep *s, int *vary)
{
    int xd = -1;
    for (int k = 0; k < s->ndim; k++) {
        vary[k] = 0;
        for (int c = 1; c < s->ncell && !vary[k]; c++) vary[k] = strcmp(s->cells[c].val[k], s->cells[0].val[k]) != 0;
        if (vary[k] && xd < 0) xd = k;
    }
    return xd < 0 ? 0 : xd;
}

/* A cell the figure shows: finished, with a finite mean final loss. */
static int drawable(const plot_cell *c)
{
    return c->status == PLOT_CELL_DONE && c->loss_n > 0 && isfinite(c->loss_st[0]) && isfinite(c->loss_st[1]);
}

/* The legend entry of a cell: the other varying dimensions' NAME=VALUE (with the sweep's label when there are
 * several sweeps, or alone when nothing else varies). */
static void line_key(char *buf, size_t n, const plot_sweep *s, const plot_cell *c, int xd, const int *vary,
                     int nsw)
{
    size_t len = 0;
    int parts = 0;
    buf[0] = '\0';
    if (nsw > 1) len += (size_t)snprintf(buf, n, "%s", s->label);
    for (int k = 0; k < s->ndim && len < n; k++) {
        if (k == xd || !vary[k]) continue;
        const char *sep = len == 0 ? "" : parts == 0 ? ": " : " ";
        len += (size_t)snprintf(buf + len, n - len, "%s%s=%s", sep, s->dim[k], c->val[k]);
        parts++;
    }
    if (!buf[0]) snprintf(buf, n, "%s", s->label);
}

typedef struct sweep_point {
    double x, mean, lo, hi;
} sweep_point;

static int by_x(const void *a, const void *b)
{
    const sweep_point *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

typedef struct sweep_fig {
    int xd[64];            /* each sweep's x dimension */
    int vary[64][PLOT_MAX_DIMS];
    int numeric, logx, logy;
    const char **cats;     /* categorical x: the values, in order of first appearance */
    int ncat;
    int npoint;            /* drawable cells in all */
} sweep_fig;

/* Every sweep's x dimension (they must agree), and the axes: numeric x when every drawable value reads as a
 * number (log when all are > 0), else categories; log y when every mean is > 0. Returns 0, or 1 (message). */
static int sweep_axes(sweep_fig *F, const plot_sweep *sw, int nsw)
{
    memset(F, 0, sizeof *F);
    F->numeric = F->logx = F->logy = 1;
    int total = 0;
    for (int i = 0; i < nsw; i++) {
        F->xd[i] = sweep_xdim(&sw[i], F->vary[i]);
        total += sw[i].ncell;
        if (i && strcmp(sw[i].dim[F->xd[i]], sw[0].dim[F->xd[0]]) != 0) {
            fprintf(stderr, "signopt plot: %s: its first varying grid dimension is '%s', %s's is '%s'; plot these "
                            "sweeps separately\n", sw[i].label, sw[i].dim[F->xd[i]], sw[0].label,
                    sw[0].dim[F->xd[0]]);
            return 1;
        }
    }
    F->cats = malloc((size_t)(total ? total : 1) * sizeof *F->cats);
    if (!F->cats) {
        fprintf(stderr, "signopt plot: out of memory\n");
        return 1;
    }
    for (int i = 0; i < nsw; i++)
        for (int c = 0; c < sw[i].ncell; c++) {
            const plot_cell *cell = &sw[i].cells[c];
            if (!drawable(cell)) continue;
            F->npoint++;
            const char *v = cell->val[F->xd[i]];
            char *end;
            double x = strtod(v, &end);
            if (*end || !isfinite(x)) F->numeric = 0;
            if (!(x > 0)) F->logx = 0;
            if (!(cell->loss_st[0] > 0)) F->logy = 0;
            int k = 0;
            while (k < F->ncat && strcmp(F->cats[k], v) != 0) k++;
            if (k == F->ncat) F->cats[F->ncat++] = v;
        }
    if (!F->numeric) F->logx = 0;
    return 0;
}

/* The data file (one index block per line of the figure, columns x, mean, lower and upper end of the ± std bar)
 * and the script. */
static int write_sweep_figure(FILE *df, FILE *gp, const figure *g, const sweep_fig *F, const char *title,
                              const plot_sweep *sw, int nsw)
{
    int total = 0;
    for (int i = 0; i < nsw; i++) total += sw[i].ncell;
    sweep_point *pts = malloc((size_t)(total ? total : 1) * sizeof *pts);
    char *done = calloc((size_t)(total ? total : 1), 1);
    if (!pts || !done) {
        free(pts);
        free(done);
        fprintf(stderr, "signopt plot: out of memory\n");
        return 1;
    }
    gp_header(gp, g, 800, 560);
    if (title && *title) {
        fprintf(gp, "set title ");
        gp_str(gp, title);
        fprintf(gp, " noenhanced\n");
    }
    fprintf(gp, "set xlabel ");
    gp_str(gp, sw[0].dim[F->xd[0]]);
    fprintf(gp, " noenhanced\nset ylabel 'final training loss (mean ± std over seeds)'\nset key top right\n");
    if (F->logx) fprintf(gp, "set logscale x\n");
    if (F->logy) fprintf(gp, "set logscale y\n");
    /* Room beside the first and last x, so their error bars do not sit on the frame. */
    if (F->numeric) fprintf(gp, "set offsets graph 0.05, graph 0.05, 0, 0\n");
    else {
        fprintf(gp, "set xrange [-0.5:%d.5]\nset xtics (", F->ncat - 1);
        for (int k = 0; k < F->ncat; k++) {
            fprintf(gp, "%s", k ? ", " : "");
            gp_str(gp, F->cats[k]);
            fprintf(gp, " %d", k);
        }
        fprintf(gp, ")\n");
    }
    int nline = 0;
    for (int i = 0, base = 0; i < nsw; base += sw[i].ncell, i++)
        for (int c = 0; c < sw[i].ncell; c++) {
            if (done[base + c] || !drawable(&sw[i].cells[c])) continue;
            /* A new line: this cell and every later drawable one with the same key. */
            char key[1024], other[1024];
            line_key(key, sizeof key, &sw[i], &sw[i].cells[c], F->xd[i], F->vary[i], nsw);
            int np = 0;
            for (int d = c; d < sw[i].ncell; d++) {
                const plot_cell *cell = &sw[i].cells[d];
                if (done[base + d] || !drawable(cell)) continue;
                line_key(other, sizeof other, &sw[i], cell, F->xd[i], F->vary[i], nsw);
                if (strcmp(key, other) != 0) continue;
                done[base + d] = 1;
                const char *v = cell->val[F->xd[i]];
                sweep_point *p = &pts[np++];
                if (F->numeric) p->x = strtod(v, NULL);
                else
                    for (int k = 0; k < F->ncat; k++)
                        if (strcmp(F->cats[k], v) == 0) p->x = k;
                double m = cell->loss_st[0], s = cell->loss_st[1];
                p->mean = m;
                /* On a log axis the bar's lower end stops at mean/100 instead of going to or below zero. */
                p->lo = F->logy && m - s <= m / 100 ? m / 100 : m - s;
                p->hi = m + s;
            }
            qsort(pts, (size_t)np, sizeof *pts, by_x);
            fprintf(df, "# %s\n", key);
            for (int k = 0; k < np; k++)
                fprintf(df, "%.17g %.17g %.17g %.17g\n", pts[k].x, pts[k].mean, pts[k].lo, pts[k].hi);
            fprintf(df, "\n\n");
            fprintf(gp, "%s", nline ? ", \\\n     " : "plot ");
            gp_str(gp, g->data);
            fprintf(gp, " index %d using 1:2:3:4 with yerrorlines lc %d pt 7 ps 0.8 lw 1.5 title ", nline,
                    nline + 1);
            gp_str(gp, key);
            fprintf(gp, " noenhanced");
            nline++;
        }
    fprintf(gp, "\nset output\n");
    free(pts);
    free(done);
    return ferror(df) ? -1 : 0;
}

/* ---- the command ---- */

static int parse_metrics(const char *s, int *want, int *nwant)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    *nwant = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int m = -1;
        for (int k = 0; k < NPANEL; k++)
            if (strcmp(t, panels[k].name) == 0) m = k;
        for (int k = 0; k < *nwant; k++)
            if (want[k] == m) m = -2;
        if (m < 0 || *nwant == NPANEL) {
            fprintf(stderr, "signopt plot: --metrics: expected a comma list of distinct loss, test_acc, train_acc, "
                            "grad_l1, grad_l2, got '%s'\n", s);
            return 2;
        }
        want[(*nwant)++] = m;
    }
    if (*nwant == 0) {
        fprintf(stderr, "signopt plot: --metrics: expected at least one metric, got '%s'\n", s);
        return 2;
    }
    return 0;
}

/* What DIR holds: a train run (metrics.csv) or a sweep (sweep.csv); -1 after a one-line message. */
static int dir_kind(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "signopt plot: %s: cannot open: %s\n", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "signopt plot: %s: not a directory (expected a run's or a sweep's --out DIR)\n", dir);
        return -1;
    }
    char m[4200], s[4200];
    snprintf(m, sizeof m, "%s/metrics.csv", dir);
    snprintf(s, sizeof s, "%s/sweep.csv", dir);
    int has_m = access(m, F_OK) == 0, has_s = access(s, F_OK) == 0;
    if (has_m && has_s) {
        fprintf(stderr, "signopt plot: %s: holds both metrics.csv (a train run) and sweep.csv (a sweep); expected "
                        "one\n", dir);
        return -1;
    }
    if (!has_m && !has_s) {
        fprintf(stderr, "signopt plot: %s: neither %s (a train run) nor sweep.csv (a sweep) is there\n", dir, m);
        return -1;
    }
    return has_m ? DIR_RUN : DIR_SWEEP;
}

/* Print the table on stdout and, with --table, to that file. */
static int emit_table(const char *table, const plot_run *runs, const plot_sweep *sw, int n, int kind)
{
    if (kind == DIR_RUN) print_run_table(stdout, runs, n);
    else print_sweep_table(stdout, sw, n);
    fflush(stdout);
    if (!table) return 0;
    char *mem = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&mem, &len);
    if (!m) {
        fprintf(stderr, "signopt plot: out of memory\n");
        return 1;
    }
    if (kind == DIR_RUN) print_run_table(m, runs, n);
    else print_sweep_table(m, sw, n);
    fclose(m);
    int code = write_file_atomic("plot", table, mem, len);
    free(mem);
    return code;
}

static int plot_main(char **dirs, int ndir, const char *out, const char *xname, const char *metrics,
                     const char *title, const char *table, int no_png, int verbose, int set_x, int set_metrics);

int cmd_plot(int argc, char **argv)
{
    static const char *const names[] = {"out", "x", "metrics", "title", "table", "no-png", "verbose"};
    const char *out = "plot.png", *xname = "step", *metrics = "loss,test_acc,grad_l1,grad_l2", *title = NULL,
               *table = NULL;
    int no_png = 0, verbose = 0, set_x = 0, set_metrics = 0;
    /* Flags by exact name (--name VALUE or --name=VALUE), anywhere among the run directories. */
    char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    int ndir = 0;
    if (!dirs) {
        fprintf(stderr, "signopt plot: out of memory\n");
        return 1;
    }
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            plot_usage(stdout);
            free(dirs);
            return 0;
        }
        if (a[0] != '-' || a[1] != '-') {
            dirs[ndir++] = argv[k];
            continue;
        }
        char name[64];
        const char *eq = strchr(a + 2, '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq ? eq - (a + 2) : (long)strlen(a + 2)), a + 2);
        int i = cli_flag_lookup("plot", name, names, 7);
        if (i < 0) {
            free(dirs);
            return 2;
        }
        if (i >= 5) { /* --no-png, --verbose take no value */
            if (eq) {
                fprintf(stderr, "signopt plot: --%s takes no value (got '%s')\n", name, a);
                free(dirs);
                return 2;
            }
            if (i == 5) no_png = 1;
            else verbose = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : k + 1 < argc ? argv[++k] : NULL;
        if (!v) {
            fprintf(stderr, "signopt plot: --%s: missing value\n", name);
            free(dirs);
            return 2;
        }
        switch (i) {
        case 0: out = v; break;
        case 1: xname = v; set_x = 1; break;
        case 2: metrics = v; set_metrics = 1; break;
        case 3: title = v; break;
        default: table = v; break;
        }
    }
    int rc_main = plot_main(dirs, ndir, out, xname, metrics, title, table, no_png, verbose, set_x, set_metrics);
    free(dirs);
    return rc_main;
}

static int plot_main(char **dirs, int ndir, const char *out, const char *xname, const char *metrics,
                     const char *title, const char *table, int no_png, int verbose, int set_x, int set_metrics)
{
    int xcol = strcmp(xname, "step") == 0 ? PLOT_X_STEP : strcmp(xname, "bits") == 0 ? PLOT_X_BITS
             : strcmp(xname, "epoch") == 0 ? PLOT_X_EPOCH : -1;
    if (xcol < 0) {
        fprintf(stderr, "signopt plot: --x: expected step, bits or epoch, got '%s'\n", xname);
        return 2;
    }
    int want[NPANEL], nwant;
    if (parse_metrics(metrics, want, &nwant)) return 2;
    const char *slash = strrchr(out, '/');
    if (!*out || (slash && !slash[1])) {
        fprintf(stderr, "signopt plot: --out: expected a file name, got '%s'\n", out);
        return 2;
    }
    if (ndir < 1) {
        fprintf(stderr, "signopt plot: expected at least one run or sweep directory (see 'signopt plot --help')\n");
        return 2;
    }
    if (!no_png && !on_path("gnuplot")) {
        fprintf(stderr, "signopt plot: gnuplot not found on PATH (install gnuplot-nox, or use --no-png)\n");
        return 1;
    }
    /* Runs and sweeps make different tables and figures: one kind per call. */
    int kind = -1;
    for (int i = 0; i < ndir; i++) {
        int k = dir_kind(dirs[i]);
        if (k < 0) return 1;
        if (kind >= 0 && k != kind) {
            fprintf(stderr, "signopt plot: %s is a %s, %s a %s; plot runs and sweeps in separate calls\n",
                    dirs[i], k == DIR_RUN ? "train run" : "sweep", dirs[0],
                    kind == DIR_RUN ? "train run" : "sweep");
            return 2;
        }
        kind = k;
    }
    if (kind == DIR_SWEEP && (set_x || set_metrics)) {
        fprintf(stderr, "signopt plot: %s: for runs only; a sweep's figure is the final loss against its grid\n",
                set_x ? "--x" : "--metrics");
        return 2;
    }
    if (kind == DIR_SWEEP && ndir > 64) {
        fprintf(stderr, "signopt plot: expected at most 64 sweep directories, got %d\n", ndir);
        return 2;
    }
    plot_run *runs = kind == DIR_RUN ? calloc((size_t)ndir, sizeof *runs) : NULL;
    plot_sweep *sw = kind == DIR_SWEEP ? calloc((size_t)ndir, sizeof *sw) : NULL;
    if (!runs && !sw) {
        fprintf(stderr, "signopt plot: out of memory\n");
        return 1;
    }
    int code = 0;
    for (int i = 0; i < ndir && !code; i++)
        code = kind == DIR_RUN ? load_run(&runs[i], dirs[i], xcol) : load_sweep(&sw[i], dirs[i]);

    /* What the figure can show, decided before anything is printed. */
    sweep_fig F;
    memset(&F, 0, sizeof F);
    int draw = !code && !no_png;
    if (draw && kind == DIR_RUN) {
        for (int w = 0; w < nwant; w++) {
            int any = 0;
            for (int i = 0; i < ndir; i++) any |= runs[i].has[want[w]];
            if (!any) {
                fprintf(stderr, "signopt plot: no run has %s; its panel is left out\n", panels[want[w]].name);
                memmove(&want[w], &want[w + 1], (size_t)(nwant - w - 1) * sizeof *want);
                nwant--;
                w--;
            }
        }
        draw = nwant > 0;
    } else if (draw) {
        code = sweep_axes(&F, sw, ndir);
        draw = !code && F.npoint > 0;
    }
    figure g;
    memset(&g, 0, sizeof g);
    if (draw) code = figure_open(&g, out);
    if (!code) code = emit_table(table, runs, sw, ndir, kind);
    if (!code && !no_png && !draw) {
        fprintf(stderr, "signopt plot: nothing to draw (%s); no figure written\n",
                kind == DIR_RUN ? "no run has a value of any --metrics"
                                : "no finished cell has a finite final loss");
        code = 1;
    }
    if (!code && draw) {
        FILE *df = fopen(g.data, "w"), *gp = fopen(g.script, "w");
        int w = !df || !gp;
        if (!w && kind == DIR_RUN) {
            w = write_run_data(df, runs, ndir);
            write_run_script(gp, &g, title, xname, want, nwant, runs, ndir);
        } else if (!w) {
            w = write_sweep_figure(df, gp, &g, &F, title, sw, ndir);
        }
        if (df && fclose(df)) w = 1;
        if (gp && (ferror(gp) | fclose(gp))) w = 1;
        if (w) {
            fprintf(stderr, "signopt plot: cannot write gnuplot's input in %s: %s\n", g.dir, strerror(errno));
            code = 1;
        }
        if (!code) code = run_gnuplot(g.script, g.tmp_png, verbose);
        if (!code) code = figure_commit(&g, out);
        if (!code) fprintf(stderr, "signopt plot: wrote %s\n", out);
    }
    figure_cleanup(&g);
    free(F.cats);
    for (int i = 0; runs && i < ndir; i++) run_free(&runs[i]);
    for (int i = 0; sw && i < ndir; i++) plot_sweep_free(&sw[i]);
    free(runs);
    free(sw);
    return code;
}
