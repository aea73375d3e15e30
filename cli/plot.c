/* plot.c — `signopt plot DIR...`: read each run's metrics.csv, average over seeds in C (mean and std at every
 * evaluated step, and of each seed's final row), print a markdown table of the final metrics, and draw one panel
 * per metric with gnuplot (mean line and a ±std band per run). gnuplot only draws, from a temporary data file. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "commands.h"
#include "output.h"
#include "plot.h"

static void plot_usage(FILE *f)
{
    fprintf(f, "usage: signopt plot DIR... [flags]\n"
               "Reads DIR/metrics.csv of each run, averages over its seeds, prints a markdown table of the final\n"
               "metrics (mean ± std over seeds) and draws mean ± std curves of every run, one panel per metric.\n\n"
               "flags (default in brackets):\n"
               "  --out FILE.png          the figure [plot.png]\n"
               "  --x step|bits|epoch     the x axis: step, bits sent up per worker (bits_up), or epoch [step]\n"
               "  --metrics LIST          comma list of loss,test_acc,train_acc,grad_l1,grad_l2 [loss,test_acc,grad_l1,grad_l2]\n"
               "  --title T               the figure's title [none]\n"
               "  --table FILE.md         also write the table to FILE.md\n"
               "  --no-png                print the table only (gnuplot not needed)\n"
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

static void run_free(plot_run *r)
{
    free(r->rows);
    free(r->curve);
    memset(r, 0, sizeof *r);
}

/* A run's label: the last component of its DIR. */
static void label_of(char *buf, size_t n, const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    size_t len = strlen(tmp);
    while (len > 1 && tmp[len - 1] == '/') tmp[--len] = '\0';
    const char *slash = strrchr(tmp, '/');
    const char *base = slash && slash[1] ? slash + 1 : tmp;
    snprintf(buf, n, "%s", base);
    if (strcmp(base, ".") != 0 && strcmp(base, "..") != 0 && strcmp(base, "/") != 0) return;
    /* A directory without a name of its own: its run's algorithm id from summary.json, when there is one. */
    char path[4200], text[4096];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[got] = '\0';
    const char *a = strstr(text, "\"algo\": \"");
    if (!a) return;
    a += strlen("\"algo\": \"");
    size_t k = strcspn(a, "\"");
    if (k > 0 && k < n) snprintf(buf, n, "%.*s", (int)k, a);
}

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

static void fmt_pm(char *buf, size_t n, const double st[2], int nfinite)
{
    if (nfinite == 0) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.6g ± %.6g", st[0], st[1]);
}

static void print_table(FILE *f, const plot_run *runs, int nrun)
{
    fprintf(f, "| run | seeds | steps | final loss | test acc | ‖∇f‖₁ | ‖∇f‖₂ | bits up per worker |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (int i = 0; i < nrun; i++) {
        const plot_run *r = &runs[i];
        char c[4][96];
        for (int k = 0; k < 4; k++) fmt_pm(c[k], sizeof c[k], r->final[k], r->final_n[k]);
        fprintf(f, "| %s | %d | %ld | %s | %s | %s | %s | %.0f |\n", r->label, r->nseed, r->last_step, c[0], c[1],
                c[2], c[3], r->final_bits);
    }
}

/* The data file: one gnuplot index block per run, columns x then mean and std of every panel metric. */
static int write_data(FILE *f, const plot_run *runs, int nrun)
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

static int draw(const char *out, const char *title, const char *xname, const int *want, int nwant,
                const plot_run *runs, int nrun)
{
    char data[] = "/tmp/signopt-plot.XXXXXX";
    int fd = mkstemp(data);
    if (fd < 0) {
        fprintf(stderr, "signopt plot: cannot create a temporary file: %s\n", strerror(errno));
        return 1;
    }
    FILE *df = fdopen(fd, "w");
    if (!df || write_data(df, runs, nrun) || fclose(df)) {
        fprintf(stderr, "signopt plot: cannot write %s\n", data);
        unlink(data);
        return 1;
    }
    char tmp_png[4200];
    snprintf(tmp_png, sizeof tmp_png, "%s.tmp.%ld", out, (long)getpid());
    FILE *gp = popen("gnuplot", "w");
    if (!gp) {
        fprintf(stderr, "signopt plot: cannot run gnuplot: %s\n", strerror(errno));
        unlink(data);
        return 1;
    }
    int cols = nwant <= 3 ? nwant : 2, rows = nwant <= 3 ? 1 : (nwant + 1) / 2;
    fprintf(gp, "set terminal pngcairo size %d,%d font ',10'\nset output ", 600 * cols, 450 * rows + 40);
    gp_str(gp, tmp_png);
    fprintf(gp, "\nset datafile missing 'nan'\nset style fill transparent solid 0.2 noborder\nset grid\n");
    fprintf(gp, "set multiplot layout %d,%d", rows, cols);
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
            /* The band's lower edge on a log axis stops at mean/100 instead of going to or below zero. */
            if (panels[m].logy)
                fprintf(gp, "%s'%s' index %d using 1:(($%d-$%d)>$%d/100?($%d-$%d):$%d/100):($%d+$%d) "
                            "with filledcurves lc %d notitle, ",
                        i ? ", " : "", data, i, mc, mc + 1, mc, mc, mc + 1, mc, mc, mc + 1, i + 1);
            else
                fprintf(gp, "%s'%s' index %d using 1:($%d-$%d):($%d+$%d) with filledcurves lc %d notitle, ",
                        i ? ", " : "", data, i, mc, mc + 1, mc, mc + 1, i + 1);
            fprintf(gp, "'%s' index %d using 1:%d with linespoints lc %d pt 7 ps 0.5 lw 1.5 title ", data, i, mc,
                    i + 1);
            gp_str(gp, runs[i].label);
            fprintf(gp, " noenhanced");
        }
        fprintf(gp, "\n");
    }
    fprintf(gp, "unset multiplot\nset output\n");
    int st = pclose(gp);
    unlink(data);
    struct stat sb;
    if (st != 0 || stat(tmp_png, &sb) != 0 || sb.st_size == 0) {
        fprintf(stderr, "signopt plot: gnuplot failed (status %d); no figure written\n", st);
        unlink(tmp_png);
        return 1;
    }
    if (rename(tmp_png, out) != 0) {
        fprintf(stderr, "signopt plot: --out: cannot write '%s': %s\n", out, strerror(errno));
        unlink(tmp_png);
        return 1;
    }
    return 0;
}

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

int cmd_plot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},   {"x", required_argument, NULL, 'x'},
        {"metrics", required_argument, NULL, 'm'}, {"title", required_argument, NULL, 't'},
        {"table", required_argument, NULL, 'T'}, {"no-png", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    const char *out = "plot.png", *xname = "step", *metrics = "loss,test_acc,grad_l1,grad_l2", *title = NULL,
               *table = NULL;
    int no_png = 0;
    opterr = 0;
    optind = 1;
    argv[0] = "signopt plot";
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': plot_usage(stdout); return 0;
        case 'o': out = optarg; break;
        case 'x': xname = optarg; break;
        case 'm': metrics = optarg; break;
        case 't': title = optarg; break;
        case 'T': table = optarg; break;
        case 'n': no_png = 1; break;
        case ':': fprintf(stderr, "signopt plot: %s: missing value\n", argv[optind - 1]); return 2;
        default:
            fprintf(stderr, "signopt plot: unknown flag '%s' (see 'signopt plot --help')\n", argv[optind - 1]);
            return 2;
        }
    }
    int xcol = strcmp(xname, "step") == 0 ? PLOT_X_STEP : strcmp(xname, "bits") == 0 ? PLOT_X_BITS
             : strcmp(xname, "epoch") == 0 ? PLOT_X_EPOCH : -1;
    if (xcol < 0) {
        fprintf(stderr, "signopt plot: --x: expected step, bits or epoch, got '%s'\n", xname);
        return 2;
    }
    int want[NPANEL], nwant;
    if (parse_metrics(metrics, want, &nwant)) return 2;
    if (!*out) {
        fprintf(stderr, "signopt plot: --out: expected a file name, got ''\n");
        return 2;
    }
    int nrun = argc - optind;
    if (nrun < 1) {
        fprintf(stderr, "signopt plot: expected at least one run directory (see 'signopt plot --help')\n");
        return 2;
    }
    if (!no_png && !on_path("gnuplot")) {
        fprintf(stderr, "signopt plot: gnuplot not found on PATH (install gnuplot-nox, or use --no-png)\n");
        return 1;
    }
    plot_run *runs = calloc((size_t)nrun, sizeof *runs);
    if (!runs) {
        fprintf(stderr, "signopt plot: out of memory\n");
        return 1;
    }
    int code = 0;
    for (int i = 0; i < nrun && !code; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/metrics.csv", argv[optind + i]);
        label_of(runs[i].label, sizeof runs[i].label, argv[optind + i]);
        code = plot_read_csv(&runs[i], path);
        if (!code) code = plot_aggregate(&runs[i], xcol);
    }
    if (!code) {
        print_table(stdout, runs, nrun);
        fflush(stdout);
        if (table) {
            char *mem = NULL;
            size_t len = 0;
            FILE *m = open_memstream(&mem, &len);
            if (m) {
                print_table(m, runs, nrun);
                fclose(m);
                code = write_file_atomic("plot", table, mem, len);
            } else {
                fprintf(stderr, "signopt plot: out of memory\n");
                code = 1;
            }
            free(mem);
        }
    }
    if (!code && !no_png) {
        for (int w = 0; w < nwant; w++) {
            int any = 0;
            for (int i = 0; i < nrun; i++) any |= runs[i].has[want[w]];
            if (!any) {
                fprintf(stderr, "signopt plot: no run has %s; its panel is left out\n", panels[want[w]].name);
                memmove(&want[w], &want[w + 1], (size_t)(nwant - w - 1) * sizeof *want);
                nwant--;
                w--;
            }
        }
        if (nwant > 0) code = draw(out, title, xname, want, nwant, runs, nrun);
        if (!code && nwant > 0) fprintf(stderr, "signopt plot: wrote %s\n", out);
    }
    for (int i = 0; i < nrun; i++) run_free(&runs[i]);
    free(runs);
    return code;
}
