/* validate.c — every train/sweep value checked and turned into library configs; one line naming the flag
 * on stderr for a bad one. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "args.h"

/* ---- value checks: each prints "signopt CMD: --flag: expected ..., got 'v'" and returns 2 ---- */

static int parse_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s)) return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

static int parse_long(const char *s, long *out)
{
    if (!s || !*s || isspace((unsigned char)*s)) return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || errno == ERANGE) return 0;
    *out = v;
    return 1;
}

/* "A,B": two checked decimal integers (no sign, no spaces, no overflow). */
static int long_pair(const char *s, long *a, long *b)
{
    char *end;
    if (!isdigit((unsigned char)s[0])) return 0;
    errno = 0;
    *a = strtol(s, &end, 10);
    if (errno == ERANGE || *end != ',' || !isdigit((unsigned char)end[1])) return 0;
    *b = strtol(end + 1, &end, 10);
    return errno != ERANGE && *end == '\0';
}

enum { POS, NONNEG, UNIT, ANY };
static const char *range_text[] = {"a positive number", "a number >= 0", "a number in [0, 1)", "a finite number"};

static int num(cli_options *o, const char *name, int range, double *out)
{
    const char *s = cli_value(o, name);
    double v;
    int ok = parse_double(s, &v);
    if (ok && range == POS) ok = v > 0;
    if (ok && range == NONNEG) ok = v >= 0;
    if (ok && range == UNIT) ok = v >= 0 && v < 1;
    if (!ok) {
        cli_error(o->cmd, "--%s: expected %s, got '%s'", name, range_text[range], s);
        return 2;
    }
    *out = v;
    return 0;
}

static int integer(cli_options *o, const char *name, long min, long max, long *out)
{
    const char *s = cli_value(o, name);
    long v;
    if (!parse_long(s, &v) || v < min || v > max) {
        if (max == LONG_MAX) cli_error(o->cmd, "--%s: expected an integer >= %ld, got '%s'", name, min, s);
        else cli_error(o->cmd, "--%s: expected an integer in [%ld, %ld], got '%s'", name, min, max, s);
        return 2;
    }
    *out = v;
    return 0;
}

static int is_auto(const cli_options *o, const char *name) { return strcmp(cli_value(o, name), "auto") == 0; }
static int is_true(const cli_options *o, const char *name) { return strcmp(cli_value(o, name), "true") == 0; }

static int one_of(cli_options *o, const char *name, const char *const *choices, int *out)
{
    const char *s = cli_value(o, name);
    for (int i = 0; choices[i]; i++)
        if (strcmp(s, choices[i]) == 0) { *out = i; return 0; }
    char list[256] = "";
    for (int i = 0; choices[i]; i++) {
        strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    cli_error(o->cmd, "--%s: expected %s, got '%s'", name, list, s);
    return 2;
}

static int in_list(const char *const *ids, const char *s)
{
    for (int i = 0; ids[i]; i++)
        if (strcmp(ids[i], s) == 0) return 1;
    return 0;
}

/* A comma list of numbers (sweep grids); train accepts exactly one. */
static int grid(cli_options *o, const char *name, int range, double *vals, int *n, int max)
{
    const char *s = cli_value(o, name);
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", s);
    *n = 0;
    char *save = NULL;
    int commas = strchr(buf, ',') != NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        double v;
        int ok = parse_double(tok, &v) && *n < max && (max > 1 || !commas);
        if (ok && range == POS) ok = v > 0;
        if (ok && range == UNIT) ok = v >= 0 && v < 1;
        if (!ok) {
            cli_error(o->cmd, "--%s: expected %s%s, got '%s'", name, range_text[range],
                      max > 1 ? " (or a comma list of them)" : "", s);
            return 2;
        }
        vals[(*n)++] = v;
    }
    if (*n == 0) {
        cli_error(o->cmd, "--%s: expected %s, got '%s'", name, range_text[range], s);
        return 2;
    }
    return 0;
}

static int read_lr_vec(cli_options *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error(o->cmd, "--lr-vec: cannot open '%s': %s", path, strerror(errno));
        return 1;
    }
    size_t cap = 1024, n = 0;
    float *v = malloc(cap * sizeof *v);
    char tok[128];
    int rc = 0;
    while (v && fscanf(f, "%127s", tok) == 1) {
        double x;
        if (!parse_double(tok, &x) || x < 0) {
            cli_error(o->cmd, "--lr-vec: %s: entry %zu: expected a number >= 0, got '%s'", path, n + 1, tok);
            rc = 1;
            break;
        }
        if (n == cap) {
            float *q = realloc(v, 2 * cap * sizeof *v);
            if (!q) { free(v); v = NULL; break; }
            v = q;
            cap *= 2;
        }
        v[n++] = (float)x;
    }
    fclose(f);
    if (!v) { cli_error(o->cmd, "--lr-vec: out of memory"); return 1; }
    if (rc) { free(v); return rc; }
    o->lr_vec = v;
    o->lr_vec_len = n;
    return 0;
}

int cli_validate(cli_options *o)
{
    int rc;
    so_problem_config *pc = &o->prob;
    so_cluster_config *cc = &o->run.method;
    so_optim_config *oc = &cc->optim;
    so_problem_config_default(pc);
    so_run_config_default(&o->run);

    /* problem */
    pc->id = cli_value(o, "problem");
    if (!in_list(so_problem_ids(), pc->id)) {
        cli_error(o->cmd, "--problem: unknown problem '%s' (see 'signopt list problems')", pc->id);
        return 2;
    }
    const char *data = cli_value(o, "data");
    pc->data = strcmp(data, "auto") == 0 || !*data ? NULL : data;
    const char *test_data = cli_value(o, "test-data");
    pc->test_data = *test_data ? test_data : NULL;
    long l;
    double v;
    if ((rc = integer(o, "dim", 1, LONG_MAX, &l))) return rc;
    pc->dim = (size_t)l;
    if ((rc = num(o, "L-max", POS, &pc->L_max))) return rc;
    if (pc->L_max < 1) {
        cli_error(o->cmd, "--L-max: expected a number >= 1, got '%s'", cli_value(o, "L-max"));
        return 2;
    }
    if (is_auto(o, "x0")) pc->x0 = NAN;
    else if ((rc = num(o, "x0", ANY, &pc->x0))) return rc;
    if ((rc = num(o, "a", POS, &pc->a))) return rc;
    if (so_noise_parse(&pc->noise, cli_value(o, "noise")) != SO_OK ||
        (pc->noise.kind == SO_NOISE_PARETO && !(pc->noise.shape > 1 && pc->noise.shape <= 2))) {
        cli_error(o->cmd, "--noise: expected none, gauss:S, pareto:K:S (K in (1,2]), student:NU:S or skew:S, got '%s'",
                  cli_value(o, "noise"));
        return 2;
    }
    const char *bin = cli_value(o, "binary");
    long ba, bb;
    if (!long_pair(bin, &ba, &bb) || ba < 0 || bb < 0 || ba > 9 || bb > 9 || ba == bb) {
        cli_error(o->cmd, "--binary: expected two different classes A,B in 0..9, got '%s'", bin);
        return 2;
    }
    pc->binary_a = (int)ba;
    pc->binary_b = (int)bb;
    if (is_auto(o, "l2")) pc->l2 = -1;
    else if ((rc = num(o, "l2", NONNEG, &pc->l2))) return rc;
    if ((rc = integer(o, "train-limit", 0, LONG_MAX, &l))) return rc;
    pc->train_limit = (size_t)l;
    if ((rc = integer(o, "eval-limit", 0, LONG_MAX, &l))) return rc;
    pc->eval_limit = (size_t)l;
    if ((rc = integer(o, "max-dim", 1, 4294967295L, &l))) return rc;
    pc->max_dim = (size_t)l;
    const char *ss = cli_value(o, "synth-size");
    long sn, sd;
    if (!long_pair(ss, &sn, &sd) || sn < 2 || sd < 1 || sn > (1L << 31) ||
        sd > (1L << 24)) {
        cli_error(o->cmd, "--synth-size: expected N,D with N >= 2 rows and D >= 1 columns, got '%s'", ss);
        return 2;
    }
    pc->synth_n = (size_t)sn;
    pc->synth_dim = (size_t)sd;
    const char *split = cli_value(o, "split");
    if (so_split_parse(&pc->split, split) != SO_OK || (pc->split.dirichlet && !(pc->split.alpha > 0))) {
        cli_error(o->cmd, "--split: expected iid or dirichlet:A with A > 0, got '%s'", split);
        return 2;
    }
    if ((rc = integer(o, "batch", 1, 1L << 30, &l))) return rc;
    pc->batch = (int)l;

    /* algorithm */
    o->algo = cli_value(o, "algo");
    if (!so_optim_is_algo(o->algo) && !so_dist_is_algo(o->algo)) {
        cli_error(o->cmd, "--algo: unknown algorithm '%s' (see 'signopt list algos')", o->algo);
        return 2;
    }
    o->dist = so_dist_is_algo(o->algo);
    oc->algo = o->algo;
    int maxgrid = strcmp(o->cmd, "sweep") == 0 ? CLI_MAX_GRID : 1;
    if ((rc = grid(o, "lr", POS, o->lrs, &o->nlr, maxgrid))) return rc;
    if ((rc = grid(o, "beta", UNIT, o->betas, &o->nbeta, maxgrid))) return rc;
    double beta2, eps, wd;
    if ((rc = num(o, "beta2", UNIT, &beta2)) || (rc = num(o, "eps", POS, &eps)) ||
        (rc = num(o, "weight-decay", NONNEG, &wd)))
        return rc;
    oc->lr = o->lrs[0];
    oc->beta = o->betas[0];
    oc->beta2 = beta2;
    oc->eps = eps;
    oc->weight_decay = wd;
    oc->nesterov = is_true(o, "nesterov");
    static const char *const inits[] = {"zero", "first-grad", "auto", NULL};
    int init;
    if ((rc = one_of(o, "momentum-init", inits, &init))) return rc;
    oc->momentum_init = init == 0 ? SO_INIT_ZERO : init == 1 ? SO_INIT_FIRST_GRAD : SO_INIT_AUTO;
    if (!is_auto(o, "alpha")) {
        if ((rc = num(o, "alpha", NONNEG, &v))) return rc;
        oc->alpha = v;
    }
    if ((rc = num(o, "R", POS, &cc->R))) return rc;
    /* Each local step draws its own minibatch stream; the models number theirs in a byte. */
    if ((rc = integer(o, "local-steps", 1, 255, &l))) return rc;
    cc->local_steps = (int)l;
    if ((rc = num(o, "local-lr", NONNEG, &cc->local_lr))) return rc;
    const char *sched = cli_value(o, "lr-schedule");
    if (strncmp(sched, "theory:", 7) == 0) {
        o->theory = sched + 7;
        if (!in_list(so_theory_names(), o->theory)) {
            cli_error(o->cmd, "--lr-schedule: unknown theory preset '%s'", o->theory);
            return 2;
        }
    } else if (so_schedule_parse(&oc->schedule, sched) != SO_OK) {
        cli_error(o->cmd, "--lr-schedule: expected const, step:E1,E2:F, exp:F, inv:C, cosine, warmup:W or "
                          "theory:NAME, got '%s'", sched);
        return 2;
    }
    if (is_auto(o, "L")) o->theory_L = strcmp(pc->id, "quadratic") == 0 ? pc->L_max : 1.0;
    else if ((rc = num(o, "L", POS, &o->theory_L))) return rc;
    if ((rc = num(o, "rho", POS, &o->theory_rho)) || (rc = num(o, "theory-c", POS, &o->theory_c))) return rc;

    /* workers and faults */
    if ((rc = integer(o, "workers", 1, 1000000, &l))) return rc;
    pc->workers = (int)l;
    static const char *const ties[] = {"zero", "positive", "random", NULL};
    int ti;
    if ((rc = one_of(o, "ties", ties, &ti))) return rc;
    cc->ties = ti == 0 ? SO_TIES_ZERO : ti == 1 ? SO_TIES_POSITIVE : SO_TIES_RANDOM;
    static const char *const zero_votes[] = {"plus", "abstain", "random", NULL};
    int zv;
    if ((rc = one_of(o, "zero-vote", zero_votes, &zv))) return rc;
    cc->zero_vote = zv == 0 ? SO_ZERO_VOTE_PLUS : zv == 1 ? SO_ZERO_VOTE_ABSTAIN : SO_ZERO_VOTE_RANDOM;
    const char *byz = cli_value(o, "byzantine");
    if (strcmp(byz, "none") != 0) {
        /* F parsed as a checked integer: %d would wrap 99999999999 to 1215752191. */
        char *colon;
        errno = 0;
        long fl = isdigit((unsigned char)byz[0]) ? strtol(byz, &colon, 10) : -1;
        const char *kind = fl >= 0 && *colon == ':' ? colon + 1 : "";
        if (fl < 0 || errno == ERANGE || fl > 1000000 || (strcmp(kind, "flip") != 0 && strcmp(kind, "random") != 0)) {
            cli_error(o->cmd, "--byzantine: expected F:flip or F:random with F an integer from 0 to 1000000, got '%s'",
                      byz);
            return 2;
        }
        int f = (int)fl;
        cc->byzantine = f;
        cc->byzantine_random = strcmp(kind, "random") == 0;
    }
    if ((rc = num(o, "dropout", UNIT, &cc->dropout))) return rc;
    static const char *const reduces[] = {"ordered", "allreduce", NULL};
    if ((rc = one_of(o, "fp32-reduce", reduces, &cc->fp32_allreduce))) return rc;
    static const char *const patterns[] = {"ps", "allgather", "sharded", NULL};
    int pat;
    if ((rc = one_of(o, "pattern", patterns, &pat))) return rc;
    cc->pattern = pat == 2 ? SO_PATTERN_SHARDED : pat ? SO_PATTERN_ALLGATHER : SO_PATTERN_PS;
    static const char *const backends[] = {"local", "mpi", NULL};
    if ((rc = one_of(o, "backend", backends, &o->mpi))) return rc;
    if (!o->dist && (pc->workers > 1 || o->mpi)) {
        cli_error(o->cmd, "--workers: '%s' is a single-node algorithm and runs on one worker (use a distributed id "
                          "such as dist-sgd for more)", o->algo);
        return 2;
    }
    if (!o->dist && (cc->byzantine > 0 || cc->dropout > 0)) {
        cli_error(o->cmd, "--%s: needs a distributed algorithm, '%s' is single-node",
                  cc->byzantine > 0 ? "byzantine" : "dropout", o->algo);
        return 2;
    }
    if (!o->mpi && cc->byzantine >= pc->workers && cc->byzantine > 0) {
        cli_error(o->cmd, "--byzantine: %d adversarial workers out of %d: expected fewer than --workers", cc->byzantine,
                  pc->workers);
        return 2;
    }

    /* length, seeds, evaluation */
    if ((rc = integer(o, "steps", 1, 2000000000L, &l))) return rc;
    o->steps = l;
    o->epochs = -1;
    if (*cli_value(o, "epochs")) {
        int si = cli_flag_index("steps"), ei = cli_flag_index("epochs");
        if (o->given[si] && o->given[si] == o->given[ei] && o->given[si] != 3) { /* 3: both from a checkpoint, as that run had them */
            cli_error(o->cmd, "--steps and --epochs both given%s; keep one (--epochs sets the steps)",
                      o->given[si] == 2 ? " in the config file" : "");
            return 2;
        }
        /* On different levels the command line wins, as for every flag: --steps there drops the file's epochs. */
        if (!(o->given[si] == 1 && o->given[ei] >= 2))
            if ((rc = num(o, "epochs", POS, &o->epochs))) return rc;
    }
    if ((rc = integer(o, "seed", 0, LONG_MAX, &l))) return rc;
    o->seed = (uint64_t)l;
    if ((rc = integer(o, "seeds", 1, 100000, &l))) return rc;
    o->seeds = (int)l;
    if (!is_auto(o, "eval-every")) {
        if ((rc = integer(o, "eval-every", 1, LONG_MAX, &l))) return rc;
        o->eval_every = l;
    }
    if (!is_auto(o, "threads")) {
        if ((rc = integer(o, "threads", 1, 1024, &l))) return rc;
        o->threads = (int)l;
    }
    cc->threads = o->threads;
    if ((rc = num(o, "round-timeout", NONNEG, &o->round_timeout))) return rc;
    o->quiet = is_true(o, "quiet");
    o->force = is_true(o, "force");
    const char *s = cli_value(o, "out");
    o->out = *s ? s : NULL;
    s = cli_value(o, "checkpoint");
    o->checkpoint = *s ? s : NULL;
    s = cli_value(o, "resume");
    o->resume = *s ? s : NULL;
    static const char *const on_nan[] = {"stop", "skip", NULL};
    if ((rc = one_of(o, "on-nan", on_nan, &o->run.on_nan))) return rc;
    const char *bsched = cli_value(o, "batch-schedule");
    if (so_batch_schedule_parse(&o->run.batch_schedule, bsched) != SO_OK) {
        cli_error(o->cmd, "--batch-schedule: expected const, linear:M (M an integer in 1..%d) or exp:F (F in [1, 2]), "
                          "got '%s'", SO_BATCH_MULT_MAX, bsched);
        return 2;
    }
    if (o->run.batch_schedule.growth != SO_BATCH_CONST && o->dist) {
        cli_error(o->cmd, "--batch-schedule %s: only for single-node ids (%s is distributed: a worker's round takes "
                          "one minibatch)", bsched, o->algo);
        return 2;
    }

    /* files that must exist: a missing one is a data error (exit 1), found before any work */
    if (pc->data && strcmp(pc->data, "fashion-mnist") != 0 && strcmp(pc->data, "synthetic-epsilon") != 0 &&
        access(pc->data, R_OK) != 0) {
        cli_error(o->cmd, "--data: cannot read '%s': %s", pc->data, strerror(errno));
        return 1;
    }
    if (o->resume) { /* the first seed's checkpoint (later seeds' may be missing: see run_seed) */
        char path[4200];
        if (o->seeds > 1) snprintf(path, sizeof path, "%s.%llu", o->resume, (unsigned long long)o->seed);
        else snprintf(path, sizeof path, "%s", o->resume);
        struct stat st;
        if (stat(path, &st) != 0) {
            cli_error(o->cmd, "--resume: cannot read '%s': %s", path, strerror(errno));
            return 1;
        }
        if (!S_ISREG(st.st_mode)) {
            cli_error(o->cmd, "--resume: '%s' is not a regular file", path);
            return 1;
        }
    }
    if (pc->test_data && access(pc->test_data, R_OK) != 0) {
        cli_error(o->cmd, "--test-data: cannot read '%s': %s", pc->test_data, strerror(errno));
        return 1;
    }
    s = cli_value(o, "lr-vec");
    if (*s) {
        if (o->dist) {
            cli_error(o->cmd, "--lr-vec: per-coordinate rates are for single-node ids, not '%s'", o->algo);
            return 2;
        }
        if ((rc = read_lr_vec(o, s))) return rc;
        oc->lr_vec = o->lr_vec;
    }
    return 0;
}

int cli_finish(cli_options *o, so_problem *p, int n)
{
    if (o->epochs > 0) {
        /* so_problem_epoch is linear in the step: one step is epoch(1) epochs. */
        double per_step = so_problem_epoch(p, 1);
        double steps = ceil(o->epochs / per_step - 1e-9);
        if (!(steps >= 1) || steps > 2e9) {
            cli_error(o->cmd, "--epochs: %g epochs give %g steps, expected 1 .. 2e9", o->epochs, steps);
            return 2;
        }
        o->steps = (long)steps;
    }
    o->run.steps = o->steps;
    o->run.eval_every = o->eval_every > 0 ? o->eval_every : (o->steps + 19) / 20;
    o->run.method.optim.schedule.total_steps = o->steps;
    if (o->lr_vec && o->lr_vec_len != so_problem_dim(p)) {
        cli_error(o->cmd, "--lr-vec: the file holds %zu numbers, the problem has dimension %zu", o->lr_vec_len,
                  so_problem_dim(p));
        return 2;
    }
    if (o->run.method.byzantine >= n && o->run.method.byzantine > 0) {
        cli_error(o->cmd, "--byzantine: %d adversarial workers out of %d: expected fewer than the workers",
                  o->run.method.byzantine, n);
        return 2;
    }
    if (o->theory) {
        so_theory_input in = {o->steps, so_problem_dim(p), n, o->theory_L, o->theory_rho, o->theory_c};
        double lr, beta;
        if (so_theory_preset(o->theory, &in, &lr, &beta) != SO_OK) {
            cli_error(o->cmd, "--lr-schedule: theory:%s: %s", o->theory, so_errmsg());
            return 2;
        }
        o->run.method.optim.lr = lr;
        o->run.method.optim.beta = beta;
    }
    return 0;
}
