/* args.c — train/sweep flags: the table, exact-name parsing with "did you mean", --config files and usage text (values are checked in
 * validate.c). */
#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "args.h"

const cli_flag cli_flags[] = {
    {"problem", "ID", NULL, "problem id (signopt list problems)", 0},
    {"data", "NAME|PATH", "auto", "fashion-mnist, an IDX folder, synthetic-epsilon, or a LIBSVM file (logreg)", 0},
    {"test-data", "PATH", "", "held-out LIBSVM file for logreg test accuracy", 0},
    {"algo", "ID", NULL, "algorithm id (signopt list algos)", 0},
    {"lr", "X", NULL, "learning rate eta (sweep: comma list)", 0},
    {"beta", "X", NULL, "momentum: weight of the old value, in [0,1) (sweep: comma list)", 0},
    {"grid", "F=V1,V2;...", "", "sweep: also a grid over other flags, e.g. weight-decay=0,1e-4;R=1e-3,1e-2", 0},
    {"beta2", "X", NULL, "adam/adamw/lion second coefficient, in [0,1)", 0},
    {"eps", "X", NULL, "adam/adamw epsilon (> 0)", 0},
    {"weight-decay", "X", NULL, "weight decay lambda (>= 0)", 0},
    {"momentum-init", "zero|first-grad|auto", NULL, "momentum start; auto: the algorithm's own convention", 0},
    {"nesterov", "", NULL, "sgdm/dist-sgdm: Nesterov momentum", 1},
    {"alpha", "X|auto", NULL, "extrapolation y = x + alpha (x - x_prev); auto: beta/(1-beta) (signum-nesterov)", 0},
    {"R", "X", NULL, "stochastic-sign bound R (sto-signsgd, *-sim, mvsm: G)", 0},
    {"local-steps", "K", NULL, "fed-mv-sto-signsgd-sim local SGD steps", 0},
    {"local-lr", "X", NULL, "fed-mv-sto-signsgd-sim local learning rate", 0},
    {"lr-schedule", "S", "const", "const, step:E1,E2:F, exp:F, inv:C, cosine, warmup:W[,cosine], theory:NAME", 0},
    {"lr-vec", "FILE", "", "per-coordinate learning-rate multipliers, d numbers (single-node ids)", 0},
    {"L", "X|auto", "auto", "smoothness L for theory presets; auto: L-max on quadratic, else 1", 0},
    {"rho", "X", "1", "second-order smoothness for theory:001-thm2", 0},
    {"theory-c", "X", "1", "the constant c of theory presets (eta proportional to ...)", 0},
    {"workers", "N", NULL, "workers (distributed ids; with --backend mpi: the MPI size)", 0},
    {"split", "iid|dirichlet:A", "iid", "how data is split across workers", 0},
    {"ties", "zero|positive|random", NULL, "tie rule of the majority vote", 0},
    {"zero-vote", "plus|abstain|random", "plus", "mv-signsgd/mv-signum/mv-scaled-signsgd: a worker's vote for an exact zero (abstain: a second uplink bit)", 0},
    {"byzantine", "F:flip|F:random", "none", "F adversarial workers (the last F)", 0},
    {"dropout", "P", NULL, "probability that a worker misses a round, in [0,1)", 0},
    {"fp32-reduce", "ordered|allreduce", "ordered", "dist-*: fixed-order reduce (same bits everywhere) or MPI_Allreduce (fastest)", 0},
    {"pattern", "ps|allgather|sharded", NULL, "communication pattern of the vote (sharded: per-rank traffic flat in n)", 0},
    {"batch", "B", NULL, "per-worker minibatch", 0},
    {"batch-schedule", "const|linear:M|exp:F", "const", "single-node ids: minibatch B_t = m_t B (003 Alg 2), m_t from 1 up to M linearly, or floor(F^t)", 0},
    {"steps", "T", NULL, "steps (rounds)", 0},
    {"epochs", "E", "", "run E epochs instead: steps = ceil(E * smallest shard / batch)", 0},
    {"dim", "D", NULL, "dimension of quadratic / l0l1", 0},
    {"L-max", "L", NULL, "quadratic: L_i from 1 to L-max", 0},
    {"x0", "V|auto", NULL, "constant start of synthetic problems; auto: the problem's own", 0},
    {"noise", "MODEL", "none", "none, gauss:S, pareto:K:S, student:NU:S, skew:S, uniform:S", 0},
    {"a", "X", NULL, "l0l1: the a of cosh(a x)", 0},
    {"binary", "A,B", NULL, "logreg on image data: class A vs class B", 0},
    {"l2", "X|auto", NULL, "logreg L2 weight lambda; auto: 1/N", 0},
    {"train-limit", "N", "0", "use only the first N training rows (0: all)", 0},
    {"eval-limit", "N", "0", "logreg/mlp/cnn: evaluate loss, gradient norms, train_acc on the first N rows (0: all)",
     0},
    {"max-dim", "D", "16777216", "LIBSVM data: the largest feature index allowed (bounds what a file can allocate)", 0},
    {"synth-size", "N,D", NULL, "--data synthetic-epsilon: N rows of dimension D (seed 004 used 400000,2000)", 0},
    {"seed", "S", NULL, "first seed", 0},
    {"seeds", "R", "1", "number of seeds (S .. S+R-1)", 0},
    {"eval-every", "K|auto", "auto", "evaluate every K steps; auto: about 20 evaluations", 0},
    {"threads", "N|auto", "auto", "worker threads (results do not depend on it)", 0},
    {"backend", "local|mpi", "local", "in-process workers, or one worker per MPI rank", 0},
    {"round-timeout", "S", "0", "end the run (exit 1, naming the step) when a round or an evaluation takes more than S "
     "seconds: a dead rank or cut link, never a silent hang (0: off)", 0},
    {"checkpoint", "PATH", "", "save state at every evaluation (PATH.SEED with several seeds)", 0},
    {"resume", "PATH", "", "continue from a checkpoint (PATH.SEED with several seeds)", 0},
    {"on-nan", "stop|skip", "stop", "NaN/Inf gradient or loss: stop, or drop that step's update (single-node)", 0},
    {"out", "DIR", "", "write DIR/metrics.csv and DIR/summary.json", 0},
    {"force", "", "false", "overwrite an existing run in --out", 1},
    {"quiet", "", "false", "no progress output", 1},
    {"plugin", "FILE[,FILE]", "", "load shared objects whose signopt_plugin_init() registers problem families", 0},
    {"config", "FILE", "", "read flags from FILE (key = value lines, algos = a,b and [algo] sections; docs/cli.md)", 0},
};
const int cli_nflags = (int)(sizeof cli_flags / sizeof cli_flags[0]);

/* The shortest text that reads back as v: an integer as an integer, else the shortest %g. */
static void short_num(char *buf, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, n, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* The defaults of the flags whose table entry is NULL come from the library's *_default() functions, so the
 * command and the library cannot disagree: a library default changes the command's with it. */
const char *cli_default(int i)
{
    static char text[96][48];
    static int done;
    if (!done) {
        so_run_config rc;
        so_problem_config pc;
        so_run_config_default(&rc);
        so_problem_config_default(&pc);
        const so_optim_config *oc = &rc.method.optim;
        const so_cluster_config *cc = &rc.method;
        static const char *const ties[] = {"zero", "positive", "random"};
        static const char *const inits[] = {"auto", "zero", "first-grad"};
        for (int k = 0; k < cli_nflags; k++) {
            const char *n = cli_flags[k].name;
            char *t = text[k];
            size_t sz = sizeof text[k];
            if (cli_flags[k].def) continue;
            if (!strcmp(n, "problem")) snprintf(t, sz, "%s", pc.id);
            else if (!strcmp(n, "algo")) snprintf(t, sz, "%s", oc->algo);
            else if (!strcmp(n, "lr")) short_num(t, sz, oc->lr);
            else if (!strcmp(n, "beta")) short_num(t, sz, oc->beta);
            else if (!strcmp(n, "beta2")) short_num(t, sz, oc->beta2);
            else if (!strcmp(n, "eps")) short_num(t, sz, oc->eps);
            else if (!strcmp(n, "weight-decay")) short_num(t, sz, oc->weight_decay);
            else if (!strcmp(n, "momentum-init")) snprintf(t, sz, "%s", inits[oc->momentum_init + 1]);
            else if (!strcmp(n, "nesterov")) snprintf(t, sz, "%s", oc->nesterov ? "true" : "false");
            else if (!strcmp(n, "alpha")) {
                if (oc->alpha < 0) snprintf(t, sz, "auto");
                else short_num(t, sz, oc->alpha);
            } else if (!strcmp(n, "R")) short_num(t, sz, cc->R);
            else if (!strcmp(n, "local-steps")) snprintf(t, sz, "%d", cc->local_steps);
            else if (!strcmp(n, "local-lr")) short_num(t, sz, cc->local_lr);
            else if (!strcmp(n, "workers")) snprintf(t, sz, "%d", pc.workers);
            else if (!strcmp(n, "ties")) snprintf(t, sz, "%s", ties[cc->ties]);
            else if (!strcmp(n, "dropout")) short_num(t, sz, cc->dropout);
            else if (!strcmp(n, "pattern"))
                snprintf(t, sz, "%s", cc->pattern == SO_PATTERN_PS ? "ps" : cc->pattern == SO_PATTERN_ALLGATHER ? "allgather" : "sharded");
            else if (!strcmp(n, "batch")) snprintf(t, sz, "%d", pc.batch);
            else if (!strcmp(n, "steps")) snprintf(t, sz, "%ld", rc.steps);
            else if (!strcmp(n, "dim")) snprintf(t, sz, "%zu", pc.dim);
            else if (!strcmp(n, "L-max")) short_num(t, sz, pc.L_max);
            else if (!strcmp(n, "x0")) {
                if (isnan(pc.x0)) snprintf(t, sz, "auto");
                else short_num(t, sz, pc.x0);
            } else if (!strcmp(n, "a")) short_num(t, sz, pc.a);
            else if (!strcmp(n, "binary")) snprintf(t, sz, "%d,%d", pc.binary_a, pc.binary_b);
            else if (!strcmp(n, "l2")) {
                if (pc.l2 < 0) snprintf(t, sz, "auto");
                else short_num(t, sz, pc.l2);
            } else if (!strcmp(n, "synth-size")) snprintf(t, sz, "%zu,%zu", pc.synth_n, pc.synth_dim);
            else if (!strcmp(n, "seed")) snprintf(t, sz, "%llu", (unsigned long long)rc.seed);
        }
        done = 1;
    }
    if (i < 0 || i >= cli_nflags) return NULL;
    return cli_flags[i].def ? cli_flags[i].def : text[i];
}

/* "FILE:LINE" of each value read from --config, so an error about "--flag" can name where it was set. */
static const char *val_origin[96];

/* Bytes in the valid UTF-8 sequence of 2 to 4 bytes at s (no overlongs, no surrogates, <= U+10FFFF); 1 otherwise. */
static int utf8_len(const unsigned char *s)
{
    int n = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 1;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 1;
    if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))) return 1;
    if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))) return 1;
    return n;
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (msg[0] == '-' && msg[1] == '-') {
        char name[64];
        size_t n = strcspn(msg + 2, ": ");
        snprintf(name, sizeof name, "%.*s", (int)n, msg + 2);
        int i = cli_flag_index(name);
        if (i >= 0 && val_origin[i]) {
            char tmp[2200];
            snprintf(tmp, sizeof tmp, "%.1000s: %s", val_origin[i], msg);
            snprintf(msg, sizeof msg, "%.1000s", tmp);
        }
    }
    /* One printable line, whatever the library's message or the input it quotes held: line breaks become spaces,
     * other control bytes, DEL and bytes that are not valid UTF-8 (a binary file given as a config) as \xNN. */
    char out[4 * sizeof msg];
    size_t k = 0;
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
        int len = utf8_len(c);
        if (*c == '\n' || *c == '\r') out[k++] = ' ';
        else if (len > 1) {
            memcpy(out + k, c, (size_t)len);
            k += (size_t)len;
            c += len - 1;
        } else if (*c < 0x20 || *c >= 0x7f) k += (size_t)snprintf(out + k, sizeof out - k, "\\x%02x", *c);
        else out[k++] = (char)*c;
    }
    out[k] = '\0';
    fprintf(stderr, "signopt %s: %s\n", cmd, out);
}

int cli_flag_index(const char *name)
{
    for (int i = 0; i < cli_nflags; i++)
        if (strcmp(cli_flags[i].name, name) == 0) return i;
    return -1;
}

const char *cli_value(const cli_options *o, const char *name)
{
    int i = cli_flag_index(name);
    return i < 0 ? NULL : o->val[i];
}

void cli_usage(FILE *f, const char *cmd)
{
    fprintf(f, "usage: signopt %s [flags]\n", cmd);
    if (strcmp(cmd, "sweep") == 0)
        fprintf(f, "Runs a grid over --lr and --beta (comma lists) and the --grid flags, --seeds seeds per cell;\n"
                   "reports the best cell by final training loss (mean over seeds; a diverged seed counts as +inf).\n"
                   "Other flags as for train.\n");
    else
        fprintf(f, "Trains one algorithm on one problem for --seeds seeds; writes --out DIR/metrics.csv and\n"
                   "DIR/summary.json, prints a results table.\n");
    fprintf(f, "\nflags (default in brackets):\n");
    int sweep = strcmp(cmd, "sweep") == 0;
    for (int i = 0; i < cli_nflags; i++) {
        const cli_flag *c = &cli_flags[i];
        /* Each command lists the flags it takes, in its own words where they differ. */
        const char *help = c->help;
        if (!sweep && !strcmp(c->name, "grid")) continue;
        if (sweep && (!strcmp(c->name, "checkpoint") || !strcmp(c->name, "resume"))) continue;
        if (sweep && !strcmp(c->name, "lr")) help = "learning rates eta, a comma list (one grid dimension)";
        if (sweep && !strcmp(c->name, "beta")) help = "momentum values in [0,1), a comma list (one grid dimension)";
        if (sweep && !strcmp(c->name, "out")) help = "write DIR/sweep.csv (a row per cell and seed) and DIR/summary.json";
        if (sweep && !strcmp(c->name, "seeds")) help = "seeds per cell (S .. S+R-1)";
        if (!sweep && !strcmp(c->name, "lr")) help = "learning rate eta";
        if (!sweep && !strcmp(c->name, "beta")) help = "momentum: weight of the old value, in [0,1)";
        char lhs[64];
        snprintf(lhs, sizeof lhs, "--%s%s%s", c->name, c->flag ? "" : " ", c->meta);
        const char *def = cli_default(i);
        fprintf(f, "  %-34s %s [%s]\n", lhs, help, def[0] ? def : "none");
    }
    fprintf(f, "  %-34s %s\n", "--help", "this text");
}

/* Edit distance of a and b (at most 63 bytes each considered), for "did you mean". */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b), d[64][64];
    if (la > 63) la = 63;
    if (lb > 63) lb = 63;
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

void cli_suggest(char *buf, size_t n, const char *name, const char *const *names, int count, const char *prefix)
{
    /* Near misses: one or two edits away (a third of the name for long ones), or a name that begins with what
     * was typed (--momentum for --momentum-init, --be for --beta and --beta2). Up to three, best first. */
    int best[3] = {-1, -1, -1}, dist[3] = {99, 99, 99};
    size_t len = strlen(name);
    int limit = len >= 9 ? (int)len / 3 : len >= 4 ? 2 : 1;
    for (int i = 0; i < count; i++) {
        int dd = edit_distance(name, names[i]);
        if (len >= 2 && strncmp(names[i], name, len) == 0) dd = dd < 1 ? dd : 1;
        if (dd > limit) continue;
        for (int k = 0; k < 3; k++)
            if (dd < dist[k]) {
                for (int m = 2; m > k; m--) best[m] = best[m - 1], dist[m] = dist[m - 1];
                best[k] = i, dist[k] = dd;
                break;
            }
    }
    buf[0] = '\0';
    for (int k = 0; k < 3 && best[k] >= 0; k++) {
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%s%s", k ? ", " : " (did you mean ", prefix, names[best[k]]);
    }
    if (buf[0]) {
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "?)");
    }
}

int cli_flag_lookup(const char *cmd, const char *arg, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], arg) == 0) return i;
    char hint[256];
    cli_suggest(hint, sizeof hint, arg, names, count, "--");
    cli_error(cmd, "unknown flag '--%s'%s (see 'signopt %s --help')", arg, hint[0] ? hint : "", cmd);
    return -1;
}

/* ---- the configuration a checkpoint carries ---- */

/* Not part of a run's configuration: where it writes, how it reports, and the engine (MPI and in-process runs are
 * equal bit for bit, so a run checkpointed under mpirun resumes in-process and back). */
static int meta_skip(const char *name)
{
    static const char *const skip[] = {"out", "checkpoint", "resume", "force", "quiet", "threads", "config",
                                       "backend", "round-timeout", NULL};
    for (int k = 0; skip[k]; k++)
        if (strcmp(name, skip[k]) == 0) return 1;
    return 0;
}

/* May differ on resume (documented in docs/cli.md): the length, the evaluation cadence, where plugins are found,
 * and what a non-finite gradient does (--on-nan skip to get past a fault). */
static int meta_changeable(const char *name)
{
    static const char *const ok[] = {"steps", "epochs", "eval-every", "plugin", "on-nan", NULL};
    for (int k = 0; ok[k]; k++)
        if (strcmp(name, ok[k]) == 0) return 1;
    return 0;
}

static char *meta_store[100];
static int meta_nstore;
/* Every configuration text built since the last cli_options_free (train copies its options, so o->meta may be
 * shared by copies: they are freed here, once). */
static char *meta_texts[8];
static int meta_ntexts;

static char *meta_keep(char *m)
{
    if (!m) return NULL;
    if (meta_ntexts == (int)(sizeof meta_texts / sizeof meta_texts[0])) {
        free(meta_texts[0]); /* the oldest: no options copy still running uses it */
        memmove(meta_texts, meta_texts + 1, sizeof meta_texts - sizeof meta_texts[0]);
        meta_ntexts--;
    }
    meta_texts[meta_ntexts++] = m;
    return m;
}

/* "name=value" lines, a backslash before a newline or backslash in a value. */
static char *meta_build(const cli_options *o)
{
    size_t cap = 256;
    for (int i = 0; i < cli_nflags; i++) cap += strlen(cli_flags[i].name) + 2 * strlen(o->val[i]) + 3;
    char *t = malloc(cap), *p = t;
    if (!t) return NULL;
    p += sprintf(p, "signopt-config 1\n");
    for (int i = 0; i < cli_nflags; i++) {
        if (meta_skip(cli_flags[i].name)) continue;
        p += sprintf(p, "%s=", cli_flags[i].name);
        for (const char *v = o->val[i]; *v; v++) {
            if (*v == '\n') { *p++ = '\\'; *p++ = 'n'; }
            else if (*v == '\\') { *p++ = '\\'; *p++ = '\\'; }
            else *p++ = *v;
        }
        *p++ = '\n';
    }
    *p = '\0';
    return t;
}

int cli_meta_update(cli_options *o, const char *name, const char *value)
{
    int i = cli_flag_index(name);
    if (i < 0) return 0;
    o->val[i] = value;
    char *m = meta_keep(meta_build(o));
    if (!m) return 1;
    o->meta = m;
    o->run.checkpoint_meta = m;
    return 0;
}

/* Two values of a flag agree: the same text, or the same number written two ways (0.1 and .1). */
static int same_value(const char *a, const char *b)
{
    if (strcmp(a, b) == 0) return 1;
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return *a && *b && !*ea && !*eb && x == y;
}

/* The first checkpoint file of --resume PATH: PATH itself, else PATH.N with the smallest N (a multi-seed run). */
static int resume_file(const char *path, char *out, size_t n)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        snprintf(out, n, "%s", path);
        return 1;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (slash == path) snprintf(dir, sizeof dir, "/");
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    size_t bl = strlen(base);
    unsigned long long best = 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (strncmp(e->d_name, base, bl) != 0 || e->d_name[bl] != '.' || !isdigit((unsigned char)e->d_name[bl + 1]))
            continue;
        char *end;
        unsigned long long s = strtoull(e->d_name + bl + 1, &end, 10);
        if (*end || (found && s >= best)) continue;
        best = s;
        found = 1;
    }
    closedir(dp);
    if (found) snprintf(out, n, "%s.%llu", path, best);
    return found;
}

/* --resume: the checkpoint's configuration fills every flag not given, and a given flag that differs is refused
 * naming it, unless it may change (meta_changeable). A checkpoint without one (format 2) changes nothing. */
static int restore_from_checkpoint(cli_options *o, const char *cmd)
{
    const char *rp = o->val[cli_flag_index("resume")];
    char file[4200];
    if (!resume_file(rp, file, sizeof file)) return 0; /* validation says the file is missing */
    char *meta = NULL;
    if (so_checkpoint_meta(file, &meta) != SO_OK) return 0; /* the resume itself reports a bad file */
    int rc = 0, lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(meta, "\n", &save); !rc && line; line = strtok_r(NULL, "\n", &save)) {
        if (lineno++ == 0) continue; /* "signopt-config 1" */
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = '\0';
        int i = cli_flag_index(line);
        if (i < 0 || meta_skip(line)) continue; /* a flag of another version */
        char *v = eq + 1, *w = v;
        for (char *r = v; *r; r++) {
            if (*r == '\\' && r[1]) { r++; *w++ = *r == 'n' ? '\n' : *r; }
            else *w++ = *r;
        }
        *w = '\0';
        if (o->given[i]) {
            if (!same_value(o->val[i], v) && !meta_changeable(line)) {
                cli_error(cmd, "--%s: '%s' was written with --%s %s, not %s; a resumed run keeps its configuration "
                               "(only --steps, --epochs, --eval-every, --plugin and --on-nan may change)",
                          line, file, line, v[0] ? v : "''", o->val[i][0] ? o->val[i] : "''");
                rc = 2;
            }
            continue;
        }
        if (meta_nstore == (int)(sizeof meta_store / sizeof meta_store[0])) continue;
        char *keep = strdup(v);
        if (!keep) { rc = 1; break; }
        meta_store[meta_nstore++] = keep;
        o->val[i] = keep;
        o->given[i] = 3;
    }
    free(meta);
    return rc;
}

int cli_parse(cli_options *o, const char *cmd, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    const char *names[100];
    for (int i = 0; i < cli_nflags; i++) names[i] = cli_flags[i].name;
    const char *cmdline[96] = {0}, *file_val[96] = {0}, *origin[96] = {0};
    memset(val_origin, 0, sizeof val_origin);
    static char prog[64]; /* argv[0] keeps pointing here after parsing (MPI_Init reads argv) */
    snprintf(prog, sizeof prog, "signopt %s", cmd);
    argv[0] = prog;
    /* Flags by their exact names only: getopt_long would take --momentum for --momentum-init and --lr for a
     * future --lr-warmup. --name VALUE or --name=VALUE; a boolean flag takes no value. */
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_usage(stdout, cmd);
            return -1;
        }
        if (a[0] != '-' || a[1] != '-' || a[2] == '\0') {
            if (a[0] == '-' && a[1] != '\0' && a[1] != '-')
                cli_error(cmd, "unknown flag '%s' (flags are --name; see 'signopt %s --help')", a, cmd);
            else
                cli_error(cmd, "unexpected argument '%s' (flags start with --)", a);
            return 2;
        }
        char name[64];
        const char *eq = strchr(a + 2, '=');
        size_t nl = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (nl >= sizeof name) nl = sizeof name - 1;
        snprintf(name, sizeof name, "%.*s", (int)nl, a + 2);
        int i = cli_flag_lookup(cmd, name, names, cli_nflags);
        if (i < 0) return 2;
        const char *v;
        if (cli_flags[i].flag) {
            if (eq) {
                cli_error(cmd, "--%s takes no value (got '%s'); give --%s alone", name, a, name);
                return 2;
            }
            v = "true";
        } else if (eq) {
            v = eq + 1;
        } else if (k + 1 < argc) {
            v = argv[++k];
        } else {
            cli_error(cmd, "--%s: missing value", name);
            return 2;
        }
        cmdline[i] = v; /* given twice: the last one wins, as scripts that append an override expect */
    }
    int ci = cli_flag_index("config");
    if (cmdline[ci] && cmdline[ci][0]) {
        int rc = cli_config_read(o, cmdline[ci], cmdline[cli_flag_index("algo")], file_val, origin);
        if (rc) return rc;
    }
    for (int i = 0; i < cli_nflags; i++) {
        o->val[i] = cmdline[i] ? cmdline[i] : file_val[i] ? file_val[i] : cli_default(i);
        o->given[i] = cmdline[i] ? 1 : file_val[i] ? 2 : 0;
        val_origin[i] = cmdline[i] ? NULL : origin[i];
    }
    int rc = *cli_value(o, "resume") ? restore_from_checkpoint(o, cmd) : 0;
    if (!rc) rc = cli_load_plugins(cmd, cli_value(o, "plugin"));
    if (!rc) rc = cli_validate(o);
    if (!rc) {
        o->meta = meta_keep(meta_build(o));
        if (!o->meta) {
            cli_error(cmd, "out of memory");
            return 1;
        }
        o->run.checkpoint_meta = o->meta;
    }
    return rc;
}

/* Each plugin once per process (train runs cli_parse once per algorithm of a config's list). */
#define MAX_PLUGINS 16
static char *plugins_loaded[MAX_PLUGINS];
static int nplugins;

int cli_load_plugins(const char *cmd, const char *list)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list ? list : "");
    char *save = NULL;
    for (char *path = strtok_r(buf, ",", &save); path; path = strtok_r(NULL, ",", &save)) {
        int seen = 0;
        for (int i = 0; i < nplugins; i++) seen |= strcmp(plugins_loaded[i], path) == 0;
        if (seen) continue;
        if (nplugins == MAX_PLUGINS) {
            cli_error(cmd, "--plugin: more than %d plugins", MAX_PLUGINS);
            return 2;
        }
        /* A name without a slash would be searched for on the library path; a plugin is a file the user names. */
        char file[4200];
        snprintf(file, sizeof file, "%s%s", strchr(path, '/') ? "" : "./", path);
        void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            cli_error(cmd, "--plugin: cannot load '%s': %s", path, dlerror());
            return 1;
        }
        int (*init)(void);
        *(void **)&init = dlsym(h, "signopt_plugin_init");
        if (!init) {
            cli_error(cmd, "--plugin: '%s' has no function signopt_plugin_init", path);
            return 1;
        }
        if (init() != SO_OK) {
            cli_error(cmd, "--plugin: %s: signopt_plugin_init failed: %s", path, so_errmsg());
            return 1;
        }
        plugins_loaded[nplugins++] = strdup(path);
    }
    return 0;
}

void cli_options_free(cli_options *o)
{
    free(o->lr_vec);
    o->lr_vec = NULL;
    o->meta = NULL;
    for (int k = 0; k < meta_ntexts; k++) free(meta_texts[k]);
    meta_ntexts = 0;
    for (int k = 0; k < meta_nstore; k++) free(meta_store[k]);
    meta_nstore = 0;
    memset(val_origin, 0, sizeof val_origin);
    cli_config_free();
}
