/* train.c — `signopt train` and `signopt sweep`: build the problem per seed, run, write the results. */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef SO_WITH_MPI
#include "signopt/mpi.h"
#endif
#include "args.h"
#include "commands.h"
#include "output.h"
#include "progress.h"

/* The transport and the facts every seed shares. */
typedef struct session {
    so_transport *t;
    int n;       /* workers */
    int root;    /* this process writes files and prints */
    int mpi;
} session;

#ifdef SO_WITH_MPI
/* Every rank must run the same job: each flag's value (defaults and --config included) is hashed and compared with
 * rank 0's in one check, which names the first flag that differs. Left out: what only rank 0 uses or what may
 * differ per rank without changing a bit of the run (--out, --quiet, --force, --threads, --config's path,
 * --round-timeout; --workers is the MPI size, checked above). */
static int check_flags(const cli_options *o, const session *S)
{
    static const char *const own[] = {"out", "quiet", "force", "threads", "config", "round-timeout", "workers", NULL};
    static char names[96][40];
    const char *name_ptr[96];
    uint64_t hash[96];
    int k = 0;
    for (int i = 0; i < cli_nflags && k < 96; i++) {
        int skip = 0;
        for (int j = 0; own[j]; j++) skip |= strcmp(cli_flags[i].name, own[j]) == 0;
        if (skip) continue;
        uint64_t h = 1469598103934665603ull; /* FNV-1a 64 of the value */
        for (const unsigned char *c = (const unsigned char *)(o->val[i] ? o->val[i] : ""); *c; c++)
            h = (h ^ *c) * 1099511628211ull;
        snprintf(names[k], sizeof names[k], "--%s", cli_flags[i].name);
        name_ptr[k] = names[k];
        hash[k++] = h;
    }
    if (so_transport_check_fields(S->t, hash, name_ptr, k) != SO_OK) {
        if (S->root) cli_error(o->cmd, "--backend mpi: %s: every rank must be given the same flags", so_errmsg());
        return 1;
    }
    return 0;
}
#endif

static int session_open(session *S, cli_options *o, int *argc, char ***argv)
{
    memset(S, 0, sizeof *S);
    S->n = o->prob.workers;
    S->root = 1;
    /* OpenBLAS's sgemm gives different last bits with 1 and 2 threads, so the models' matrix products run on one
     * BLAS thread: one seed then gives one result whatever --threads or OPENBLAS_NUM_THREADS say. The cores are
     * used across workers and in the element-wise kernels instead. (The library leaves this to its caller.) */
    so_blas_set_threads(1);
    o->threads_resolved = o->threads > 0 ? o->threads : 1;
#ifdef _OPENMP
    if (o->threads > 0) omp_set_num_threads(o->threads);
    else o->threads_resolved = omp_get_max_threads();
#endif
    /* Under mpirun (Open MPI, MPICH and PMIx set these) without --backend mpi every rank would run the whole job on
     * its own and write the same --out: say so instead (rank 0 says it, every rank exits 2). */
    const char *size_env = getenv("OMPI_COMM_WORLD_SIZE");
    if (!size_env) size_env = getenv("PMI_SIZE");
    if (!o->mpi && size_env && atoi(size_env) > 1) {
        const char *rank_env = getenv("OMPI_COMM_WORLD_RANK");
        if (!rank_env) rank_env = getenv("PMI_RANK");
        if (!rank_env || atoi(rank_env) == 0)
            cli_error(o->cmd, "started by mpirun as one of %d ranks, but --backend is local: each rank would run the "
                              "whole job alone; add --backend mpi (or run without mpirun)", atoi(size_env));
        return 2;
    }
    if (o->mpi) {
#ifndef SO_WITH_MPI
        (void)argc;
        (void)argv;
        cli_error(o->cmd, "--backend mpi: this signopt was built without MPI (make MPI=1 with Open MPI installed)");
        return 2;
#else
        int inited = 0;
        MPI_Initialized(&inited);
        if (!inited) MPI_Init(argc, argv);
        S->mpi = 1;
        S->t = so_transport_mpi();
        if (!S->t) {
            cli_error(o->cmd, "--backend mpi: %s", so_errmsg());
            return 1;
        }
        int n = so_transport_workers(S->t);
        const char *w = cli_value(o, "workers");
        if (strcmp(w, "1") != 0 && atoi(w) != n) {
            if (so_transport_is_root(S->t))
                cli_error(o->cmd, "--workers: %s given, but MPI runs %d ranks (one worker per rank)", w, n);
            return 2;
        }
        S->n = n;
        S->root = so_transport_is_root(S->t);
        if (check_flags(o, S)) return 2;
        o->prob.workers = n;
        /* The checkpoint records the workers that ran, so a resume in-process (or under another mpirun) matches. */
        static char wtext[32];
        snprintf(wtext, sizeof wtext, "%d", n);
        if (cli_meta_update(o, "workers", wtext)) {
            cli_error(o->cmd, "out of memory");
            return 1;
        }
#endif
    } else if (o->dist) {
        S->t = so_transport_local(S->n);
        if (!S->t) {
            cli_error(o->cmd, "--workers: %s", so_errmsg());
            return 1;
        }
    }
    return 0;
}

/* With MPI only the root checks --out: every rank must learn its verdict, or the others would wait in the
 * first collective for a root that has left. */
static int session_agree(const session *S, int code)
{
    if (!S->mpi) return code;
    int worst = code;
#ifdef SO_WITH_MPI
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
#endif
    return worst;
}

/* MPI stays initialized across the runs of an algos list; mpi_done finalizes it once at the end. */
static void session_close(session *S) { so_transport_destroy(S->t); }

static void mpi_done(void)
{
#ifdef SO_WITH_MPI
    int inited = 0, finalized = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&finalized);
    if (inited && !finalized) MPI_Finalize();
#endif
}

/* "PATH" for one seed, "PATH.SEED" when several seeds share the flag. */
static const char *seed_path(char *buf, size_t n, const char *path, const cli_options *o, uint64_t seed)
{
    if (!path) return NULL;
    if (o->seeds == 1) return path;
    snprintf(buf, n, "%s.%llu", path, (unsigned long long)seed);
    return buf;
}

/* What the CLI sees of one seed while so_run goes: the rows it hands on and the last step it finished. When so_run
 * stops on a non-finite number it reports the step (so_run_result.diverged_step); the divergence row is built
 * from that and the last row (divergence_row in output.c). */
typedef struct seed_watch {
    row_list *rows;
    progress *pr;
    so_transport *t;    /* over MPI: the ranks agree every step on whether to stop (NULL: in-process) */
    size_t nrows;       /* rows this seed has handed on */
    long last_step;     /* last step progress saw; -1 before the first */
    int stop;           /* progress asked to stop at last_step */
    double t0, last_t;  /* wall clock at the start and at the last row */
} seed_watch;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the round watchdog (--round-timeout): a thread that ends the process when no step or evaluation has
 * finished for the given seconds (a rank that died, a host or link that went down: MPI would wait for ever). It
 * writes one line naming the step and the last checkpoint and exits 1; under mpirun that ends every rank. ---- */
static atomic_llong wd_beat_ms;     /* monotonic ms of the last step or row; 0: not armed */
static atomic_long wd_step;         /* the last step finished; -1: none yet in this seed's run */
static double wd_timeout;
static const char *wd_cmd;
static char wd_ckpt[4200];          /* this seed's checkpoint path ("" : none), set before the watchdog is armed */

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wd_beat(long step)
{
    if (step >= 0) atomic_store(&wd_step, step);
    atomic_store(&wd_beat_ms, mono_ms());
}

static void *wd_thread(void *arg)
{
    (void)arg;
    const struct timespec tick = {0, 100 * 1000000L};
    for (;;) {
        nanosleep(&tick, NULL);
        long long beat = atomic_load(&wd_beat_ms);
        if (beat && (double)(mono_ms() - beat) > 1000.0 * wd_timeout) {
            char msg[4600], where[64];
            long step = atomic_load(&wd_step);
            if (step >= 0) snprintf(where, sizeof where, "step %ld", step + 1);
            else snprintf(where, sizeof where, "the run's first step");
            int len = snprintf(msg, sizeof msg, "signopt %s: %s: no step or evaluation finished in %g s "
                               "(--round-timeout): a rank, host or link is down; %s%s\n", wd_cmd, where, wd_timeout,
                               wd_ckpt[0] ? "resume from the last checkpoint, --resume " : "no checkpoint was asked for",
                               wd_ckpt);
            if (len > 0) (void)!write(2, msg, (size_t)len < sizeof msg ? (size_t)len : sizeof msg - 1);
            _exit(1);
        }
    }
    return NULL;
}

/* Start the watchdog once (it stays disarmed between seeds). Returns 0, or 1 when the thread cannot start. */
static int wd_start(const cli_options *o)
{
    static int started;
    if (o->round_timeout <= 0 || started) return 0;
    wd_timeout = o->round_timeout;
    wd_cmd = o->cmd;
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &at, wd_thread, NULL);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        cli_error(o->cmd, "--round-timeout: cannot start the watchdog thread");
        return 1;
    }
    started = 1;
    return 0;
}

static void watch_row(const so_metrics_row *r, void *user)
{
    wd_beat(-1);
    seed_watch *w = user;
    rows_push(r, w->rows);
    w->nrows++;
    w->last_t = now_s();
}

static int watch_step(long step, long total, double loss, void *user)
{
    seed_watch *w = user;
    w->last_step = step;
    wd_beat(step);
    int stop = progress_step(step, total, loss, w->pr);
    if (w->t) {
        /* A signal reaches one rank (kill, a scheduler, Ctrl-C on one terminal): all must stop at the same step,
         * or the others would wait in the next round's exchange for ever. One small allreduce a step carries the
         * request and the signal. */
        float v[2] = {stop ? 1.0f : 0.0f, stop ? (float)progress_interrupted() : 0.0f};
        if (so_transport_allreduce_sum(w->t, v, 2) != SO_OK) v[0] = 1.0f, v[1] = (float)SIGTERM;
        if (v[0] > 0 && !stop) {
            int sig = (int)lrintf(v[1] / v[0]);
            progress_set_interrupted(sig == SIGINT || sig == SIGTERM ? sig : SIGTERM);
        }
        stop = v[0] > 0;
    }
    w->stop = stop;
    return w->stop;
}

/* Run one seed with the given lr and beta. Returns an exit code (0, 1 data/io, 2 bad value); a seed that
 * diverges returns 0 with out->diverged set, its rows up to the last finite evaluation plus one row at the
 * divergence in rows, and so_run's message in err. *dim and *samples describe the problem. */
static int run_seed(cli_options *o, const session *S, uint64_t seed, double lr, double beta, const char *label,
                    row_list *rows, seed_result *out, size_t *dim, size_t *samples, char *err, size_t errn)
{
    so_problem_config pc = o->prob;
    pc.seed = seed;
    pc.workers = S->n;
    so_problem *p = so_problem_create(&pc);
    if (!p) {
        snprintf(err, errn, "%s", so_errmsg());
        return 1;
    }
    *dim = so_problem_dim(p);
    *samples = so_problem_samples(p);
    o->run.method.optim.lr = lr;
    o->run.method.optim.beta = beta;
    int code = cli_finish(o, p, S->n);
    if (code) {
        so_problem_destroy(p);
        err[0] = '\0'; /* already printed */
        return code;
    }
    so_run_config rc = o->run;
    rc.seed = seed;
    char ck[4200], rs[4200];
    rc.checkpoint = seed_path(ck, sizeof ck, o->checkpoint, o, seed);
    rc.resume = seed_path(rs, sizeof rs, o->resume, o, seed);
    /* A run interrupted in seed k left no checkpoint for the seeds after it: those start from step 0 (the first
     * seed's must exist, so a mistyped --resume is still refused). */
    if (rc.resume && o->seeds > 1 && seed != o->seed && access(rc.resume, F_OK) != 0) {
        if (S->root && !o->quiet)
            fprintf(stderr, "signopt %s: seed %llu: no checkpoint '%s' (the interrupted run never started it); "
                            "running it from step 0\n", o->cmd, (unsigned long long)seed, rc.resume);
        rc.resume = NULL;
    }
    progress pr;
    progress_start(&pr, !o->quiet && S->root, label);
    memset(out, 0, sizeof *out);
    out->seed = seed;
    out->lr = rc.method.optim.lr;
    out->beta = rc.method.optim.beta;
    out->steps = rc.steps;
    seed_watch w = {rows, &pr, S->mpi ? S->t : NULL, 0, -1, 0, now_s(), 0};
    if (wd_start(o)) {
        so_problem_destroy(p);
        err[0] = '\0';
        return 1;
    }
    /* armed for this seed: its checkpoint path (PATH.SEED with several seeds), no step seen yet */
    snprintf(wd_ckpt, sizeof wd_ckpt, "%s", rc.checkpoint ? rc.checkpoint : "");
    atomic_store(&wd_step, -1);
    wd_beat(-1);
    int status = so_run(&rc, p, S->t, watch_row, &w, watch_step, &w, &out->res);
    atomic_store(&wd_beat_ms, 0); /* disarmed until the next seed */
    out->status = status;
    out->interrupted = status == SO_OK && out->res.stopped_early && out->res.final.step < rc.steps;
    progress_end(&pr);
    if (status == SO_ENUMERIC) {
        const so_metrics_row *last = w.nrows ? &rows->rows[rows->n - 1] : NULL;
        out->diverged = 1;
        out->diverged_step = out->res.diverged_step;
        double wall = last ? last->wall_s + (now_s() - w.last_t) : now_s() - w.t0;
        divergence_row(&out->res.final, last, seed, out->diverged_step, so_problem_epoch(p, out->diverged_step), wall,
                       so_errmsg());
        if (S->root) rows_push(&out->res.final, rows);
    }
    so_problem_destroy(p);
    if (status != SO_OK) {
        if (status == SO_ENUMERIC) {
            snprintf(err, errn, "%s", so_errmsg());
            return 0;
        }
        snprintf(err, errn, "seed %llu: %s", (unsigned long long)seed, so_errmsg());
        return status == SO_EINVAL ? 2 : 1;
    }
    return 0;
}

static void print_error(const session *S, const cli_options *o, const char *err)
{
    if (S->root && err[0]) cli_error(o->cmd, "%s", err);
}

/* Claim DIR (see out_claim): locked, writable, no finished run in it unless --force. */
static int prepare_out(const cli_options *o, const char *file)
{
    return out_claim(o->cmd, o->out, file, o->force);
}

/* One train run of the parsed options o (all seeds): results to o.out and stdout. Returns the exit code; sets
 * *all_diverged when that code is 1 only because every seed diverged. */
static int train_one(cli_options *op, int *argc, char ***argv, const char *heading, int *all_diverged)
{
    *all_diverged = 0;
    cli_options o = *op;
    session S;
    int code = session_open(&S, &o, argc, argv);
    if (S.root && heading) {
        if (!o.quiet) fprintf(stderr, "signopt train: %s\n", heading);
        printf("algo: %s\n", heading);
        fflush(stdout);
    }
    if (!code && S.root && o.out) code = prepare_out(&o, "metrics.csv");
    if (S.t) code = session_agree(&S, code);
    row_list rows = {0};
    seed_result *res = calloc((size_t)o.seeds, sizeof *res);
    int nres = 0, ndiv = 0;
    size_t dim = 0, samples = 0;
    char err[1200] = "";
    if (!res && !code) {
        cli_error(o.cmd, "out of memory");
        code = 1;
    }
    if (!code) progress_catch_interrupt();
    for (int s = 0; !code && s < o.seeds && !progress_interrupted(); s++) {
        uint64_t seed = o.seed + (uint64_t)s;
        char label[96];
        snprintf(label, sizeof label, "seed %llu (%d/%d)", (unsigned long long)seed, s + 1, o.seeds);
        code = run_seed(&o, &S, seed, o.lrs[0], o.betas[0], label, &rows, &res[nres], &dim, &samples, err, sizeof err);
        if (code) break;
        if (res[nres].diverged) {
            if (S.root)
                cli_error(o.cmd, "seed %llu diverged at step %ld (%s)",
                          (unsigned long long)seed, res[nres].diverged_step, err);
            err[0] = '\0';
            ndiv++;
        }
        nres++;
    }
    print_error(&S, &o, err);
    /* A signal stops the run at a step boundary: what ran is written, marked, and the exit is 128 + signal. */
    int sig = progress_interrupted();
    if (!code && sig && (nres < o.seeds || (nres > 0 && res[nres - 1].interrupted))) {
        if (S.root)
            cli_error(o.cmd, "interrupted by %s in seed %llu at step %ld; %s what ran (%d of %d seeds finished)",
                      signal_name(sig), (unsigned long long)(nres ? res[nres - 1].seed : o.seed),
                      nres ? res[nres - 1].res.final.step : 0L, o.out ? "wrote" : "printed",
                      nres - (nres > 0 && res[nres - 1].interrupted), o.seeds);
        code = 128 + sig;
    } else {
        sig = 0;
    }
    /* Divergence is a result, not a failure, as long as one seed finished (exit 1 when none did). */
    if (!code && nres > 0 && ndiv == nres) {
        code = 1;
        *all_diverged = 1;
        if (S.root && nres > 1) cli_error(o.cmd, "every seed diverged (%d of %d)", ndiv, nres);
    }
    if (S.root && o.out && (code == 0 || rows.n > 0 || ndiv > 0) && dim > 0) {
        sbuf m = {0};
        sb_printf(&m, "%s", metrics_header);
        for (size_t i = 0; i < rows.n; i++) metrics_row(&m, &rows.rows[i]);
        cJSON *j = summary_json(&o, res, nres, S.n, dim, samples, err[0] ? err : NULL, sig);
        char path[4200];
        int w = m.failed;
        if (w) cli_error(o.cmd, "out of memory formatting the results");
        /* metrics.csv first: a summary.json on disk means its metrics are complete. */
        snprintf(path, sizeof path, "%s/metrics.csv", o.out);
        if (!w) w = write_file_atomic(o.cmd, path, m.p, m.len);
        snprintf(path, sizeof path, "%s/summary.json", o.out);
        if (!w) w = json_write_file(o.cmd, path, j);
        if (w && !code) code = 1;
        sb_free(&m);
        cJSON_Delete(j);
    }
    if (S.root && nres > 0) print_results(res, nres, ndiv);
    rows_free(&rows);
    free(res);
    session_close(&S);
    op->threads_resolved = o.threads_resolved;
    return code;
}

/* train, or with a config file's algos list each algorithm in turn into --out DIR/<algo> (all of them are
 * parsed and checked first, so a bad section stops before any work). */
int cmd_train(int argc, char **argv)
{
    cli_options o;
    int code = cli_parse(&o, "train", argc, argv);
    if (!code && *cli_value(&o, "grid")) {
        cli_error(o.cmd, "--grid: grids are for sweep");
        code = 2;
    }
    if (code || !o.config_algos[0]) {
        int all_div;
        if (!code) code = train_one(&o, &argc, &argv, NULL, &all_div);
        cli_options_free(&o);
        mpi_done();
        return code < 0 ? 0 : code;
    }
    char list[sizeof o.config_algos], out[4096] = "";
    snprintf(list, sizeof list, "%s", o.config_algos);
    if (o.out) snprintf(out, sizeof out, "%s", o.out);
    cli_options_free(&o);
    int out_i = cli_flag_index("out"), any_all_div = 0;
    for (int pass = 0; pass < 2 && !code; pass++) {
        char buf[sizeof list], *save = NULL;
        snprintf(buf, sizeof buf, "%s", list);
        for (char *a = strtok_r(buf, ",", &save); a && !code; a = strtok_r(NULL, ",", &save)) {
            while (*a == ' ' || *a == '\t') a++;
            size_t len = strlen(a);
            while (len && (a[len - 1] == ' ' || a[len - 1] == '\t')) a[--len] = '\0';
            cli_config_select(a);
            code = cli_parse(&o, "train", argc, argv);
            if (code < 0) code = 0; /* --help was printed */
            char dir[4200];
            if (!code && pass == 1) {
                if (out[0]) {
                    snprintf(dir, sizeof dir, "%s/%s", out, a);
                    o.out = o.val[out_i] = dir;
                }
                int all_div;
                code = train_one(&o, &argc, &argv, a, &all_div);
                /* An algorithm whose every seed diverged is a result too: the others still run. */
                if (all_div) {
                    any_all_div = 1;
                    code = 0;
                }
            }
            cli_options_free(&o);
        }
    }
    cli_config_select(NULL);
    mpi_done();
    return code ? code : any_all_div;
}

/* ---- sweep: a grid over --lr, --beta and any --grid flags, seeds per cell; the best cell by mean final
 * training loss (a diverged seed counts as +inf; ties go to the first cell in grid order) ---- */

#define SWEEP_DIMS 5 /* lr, beta and up to three --grid flags */

typedef struct grid_dim {
    int flag;
    int n;
    char vals[CLI_MAX_GRID][48];
} grid_dim;

/* The shortest %g text that reads back as v, so cells print as they were typed (0.1, not 0.10000000000000001). */
static void short_num(char *buf, size_t n, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* The grid's axes: lr and beta from their comma lists, then each NAME=V1,V2 of --grid (';'-separated). */
static int grid_parse(cli_options *o, grid_dim *d, int *nd)
{
    d[0].flag = cli_flag_index("lr");
    d[1].flag = cli_flag_index("beta");
    d[0].n = o->nlr;
    d[1].n = o->nbeta;
    for (int k = 0; k < o->nlr; k++) short_num(d[0].vals[k], sizeof d[0].vals[k], o->lrs[k]);
    for (int k = 0; k < o->nbeta; k++) short_num(d[1].vals[k], sizeof d[1].vals[k], o->betas[k]);
    *nd = 2;
    char buf[1024], *save = NULL;
    const char *spec = cli_value(o, "grid");
    snprintf(buf, sizeof buf, "%s", spec);
    static const char *const fixed[] = {"lr", "beta", "grid", "config", "out", "seed", "seeds", "algo", "backend",
                                        "checkpoint", "resume", "threads", "plugin", NULL};
    for (char *item = strtok_r(buf, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        while (*item == ' ') item++;
        char *eq = strchr(item, '=');
        if (eq) *eq = '\0';
        int f = eq ? cli_flag_index(item) : -1;
        for (int k = 0; f >= 0 && fixed[k]; k++)
            if (strcmp(item, fixed[k]) == 0) f = -1;
        for (int k = 2; f >= 0 && k < *nd; k++)
            if (d[k].flag == f) f = -1;
        if (f < 0 || cli_flags[f].flag || *nd == SWEEP_DIMS) {
            cli_error(o->cmd, "--grid: expected up to %d distinct FLAG=V1,V2,... items separated by ';' (not lr, beta, "
                              "seed, algo or a file flag), got '%s'", SWEEP_DIMS - 2, spec);
            return 2;
        }
        grid_dim *g = &d[(*nd)++];
        g->flag = f;
        g->n = 0;
        char *vs = NULL;
        for (char *v = strtok_r(eq + 1, ",", &vs); v; v = strtok_r(NULL, ",", &vs)) {
            while (*v == ' ') v++;
            if (g->n == CLI_MAX_GRID || !*v || strlen(v) >= sizeof g->vals[0]) {
                cli_error(o->cmd, "--grid: %s: expected 1 to %d comma-separated values, got '%s'", item, CLI_MAX_GRID,
                          spec);
                return 2;
            }
            snprintf(g->vals[g->n++], sizeof g->vals[0], "%s", v);
        }
        if (g->n == 0) {
            cli_error(o->cmd, "--grid: %s: expected 1 to %d comma-separated values, got '%s'", item, CLI_MAX_GRID, spec);
            return 2;
        }
    }
    return 0;
}

/* Set every axis to cell c's value (lr major, the last --grid flag fastest) and check the result. */
static int grid_set(cli_options *o, const grid_dim *d, int nd, int c, int *pos)
{
    for (int k = nd - 1; k >= 0; k--) {
        pos[k] = c % d[k].n;
        c /= d[k].n;
        o->val[d[k].flag] = d[k].vals[pos[k]];
    }
    free(o->lr_vec);
    o->lr_vec = NULL;
    return cli_validate(o);
}

/* Cell a ranks ahead of cell b: the lower mean final loss (a diverged seed makes it +inf); between two cells
 * with diverged seeds, fewer diverged seeds, then the lower mean over the seeds that finished. Equal cells keep
 * grid order. */
static int sweep_better(const double *a, const double *b)
{
    if (a[0] != b[0]) return a[0] < b[0];
    if (isfinite(a[0])) return 0;
    if (a[3] != b[3]) return a[3] < b[3];
    if (isnan(a[4]) || isnan(b[4])) return !isnan(a[4]) && isnan(b[4]);
    return a[4] < b[4];
}

int cmd_sweep(int argc, char **argv)
{
    cli_options o;
    int code = cli_parse(&o, "sweep", argc, argv);
    if (code) {
        cli_options_free(&o);
        return code < 0 ? 0 : code;
    }
    if (o.checkpoint || o.resume) {
        /* every cell would write, or start from, the same file */
        cli_error(o.cmd, "--%s: sweep does not checkpoint its cells; train the cell you want with --%s",
                  o.checkpoint ? "checkpoint" : "resume", o.checkpoint ? "checkpoint" : "resume");
        cli_options_free(&o);
        return 2;
    }
    if (o.config_algos[0]) {
        cli_error(o.cmd, "--config: an algos list is for train; sweep one algorithm at a time (--algo)");
        cli_options_free(&o);
        return 2;
    }
    grid_dim dims[SWEEP_DIMS];
    int nd = 0, pos[SWEEP_DIMS], ncell = 1;
    code = grid_parse(&o, dims, &nd);
    for (int k = 0; k < nd; k++) ncell *= dims[k].n;
    /* Every cell's values are checked before any work. */
    for (int c = 0; !code && c < ncell; c++) code = grid_set(&o, dims, nd, c, pos);
    if (code) {
        cli_options_free(&o);
        return code;
    }
    session S;
    code = session_open(&S, &o, &argc, &argv);
    if (!code && S.root && o.out) code = prepare_out(&o, "sweep.csv");
    if (S.t) code = session_agree(&S, code);
    double *loss = calloc((size_t)ncell * (size_t)o.seeds, sizeof *loss);
    double *acc = calloc((size_t)ncell * (size_t)o.seeds, sizeof *acc);
    /* loss mean, loss std, acc mean, diverged seeds, loss mean over the seeds that finished */
    double (*cell)[5] = calloc((size_t)ncell, sizeof *cell);
    if ((!loss || !acc || !cell) && !code) {
        cli_error(o.cmd, "out of memory");
        code = 1;
    }
    sbuf csv = {0}, cols = {0};
    for (int k = 0; k < nd; k++) sb_printf(&cols, "%s,", cli_flags[dims[k].flag].name);
    sb_printf(&csv, "%sseed,final_loss,test_acc,grad_l1,diverged,interrupted\n", cols.p ? cols.p : "");
    /* per cell: 0 not run, 1 every seed finished, 2 a signal stopped it part way */
    int *status = calloc((size_t)ncell, sizeof *status);
    if (!status && !code) {
        cli_error(o.cmd, "out of memory");
        code = 1;
    }
    size_t dim = 0, samples = 0;
    if (!code) progress_catch_interrupt();
    for (int c = 0; !code && c < ncell && !progress_interrupted(); c++) {
        if ((code = grid_set(&o, dims, nd, c, pos))) break;
        char cellname[512] = "";
        for (int k = 0; k < nd; k++) {
            size_t l = strlen(cellname);
            snprintf(cellname + l, sizeof cellname - l, "%s%s %s", k ? " " : "", cli_flags[dims[k].flag].name,
                     dims[k].vals[pos[k]]);
        }
        for (int s = 0; !code && s < o.seeds; s++) {
            uint64_t seed = o.seed + (uint64_t)s;
            char label[600], err[1200] = "";
            snprintf(label, sizeof label, "%s seed %llu", cellname, (unsigned long long)seed);
            row_list rows = {0};
            seed_result r;
            memset(&r, 0, sizeof r);
            int rc = run_seed(&o, &S, seed, o.lrs[0], o.betas[0], label, &rows, &r, &dim, &samples, err, sizeof err);
            rows_free(&rows);
            int diverged = r.status == SO_ENUMERIC;
            if (rc && !diverged) {
                print_error(&S, &o, err);
                code = rc;
                break;
            }
            if (r.interrupted || (progress_interrupted() && s + 1 < o.seeds)) {
                /* Stopped part way: the seed's row is written and marked, the cell is never ranked. */
                status[c] = 2;
                for (int k = 0; k < nd; k++) sb_printf(&csv, "%s,", dims[k].vals[pos[k]]);
                sb_printf(&csv, "%llu,%.9g,", (unsigned long long)seed, r.res.final.loss);
                if (!isnan(r.res.final.test_acc)) sb_printf(&csv, "%.9g", r.res.final.test_acc);
                sb_printf(&csv, ",%.9g,0,%d\n", r.res.final.grad_l1, r.interrupted);
                break; /* (a seed that finished before the signal: the seeds after it will not run) */
            }
            loss[c * o.seeds + s] = diverged ? INFINITY : r.res.final.loss;
            acc[c * o.seeds + s] = diverged ? NAN : r.res.final.test_acc;
            cell[c][3] += diverged;
            for (int k = 0; k < nd; k++) sb_printf(&csv, "%s,", dims[k].vals[pos[k]]);
            sb_printf(&csv, "%llu,%.9g,", (unsigned long long)seed, loss[c * o.seeds + s]);
            if (!isnan(acc[c * o.seeds + s])) sb_printf(&csv, "%.9g", acc[c * o.seeds + s]);
            sb_printf(&csv, ",%.9g,%d,0\n", diverged ? NAN : r.res.final.grad_l1, diverged);
        }
        if (code) break;
        if (status[c] == 2) break;
        status[c] = 1;
        double st[7];
        stats7(&loss[c * o.seeds], o.seeds, st);
        cell[c][0] = cell[c][3] > 0 ? INFINITY : st[0];
        cell[c][1] = isnan(st[1]) ? NAN : st[1]; /* inf - inf: print nan, not -nan */
        double *fin = &loss[c * o.seeds];
        int m = 0;
        for (int s = 0; s < o.seeds; s++)
            if (isfinite(fin[s])) fin[m++] = fin[s];
        stats7(fin, m, st);
        cell[c][4] = st[0];
        stats7(&acc[c * o.seeds], o.seeds, st);
        cell[c][2] = st[0];
    }
    int sig = progress_interrupted(), ndone = 0;
    for (int c = 0; status && c < ncell; c++) ndone += status[c] == 1;
    if (sig && ndone == ncell) sig = 0; /* the signal came after the last step: nothing was lost */
    if (sig && !code && S.root)
        cli_error(o.cmd, "interrupted by %s: %d of %d cells finished; unfinished cells are marked and not ranked",
                  signal_name(sig), ndone, ncell);
    int best = -1;
    for (int c = 0; !code && c < ncell; c++)
        if (status[c] == 1 && (best < 0 || sweep_better(cell[c], cell[best]))) best = c;
    if (!code && S.root) {
        char acc_s[32];
        for (int k = 0; k < nd; k++) printf("%-12s ", cli_flags[dims[k].flag].name);
        printf("%14s %14s %9s %8s\n", "loss_mean", "loss_std", "test_acc", "diverged");
        for (int c = 0; c < ncell; c++) {
            grid_set(&o, dims, nd, c, pos);
            for (int k = 0; k < nd; k++) printf("%-12s ", dims[k].vals[pos[k]]);
            if (status[c] != 1) {
                printf("%14s\n", status[c] ? "interrupted" : "not run");
                continue;
            }
            fmt_acc(acc_s, sizeof acc_s, cell[c][2]);
            printf("%14.6g %14.6g %9s %8.0f\n", cell[c][0], cell[c][1], acc_s, cell[c][3]);
        }
        if (best >= 0) {
            grid_set(&o, dims, nd, best, pos);
            printf("best:");
            for (int k = 0; k < nd; k++) printf(" %s %s", cli_flags[dims[k].flag].name, dims[k].vals[pos[k]]);
            printf(" (mean final loss %.6g over %d seeds", cell[best][0], o.seeds);
            if (cell[best][3] > 0)
                printf("; %.0f diverged, mean %.6g over the others", cell[best][3], cell[best][4]);
            printf(")\n");
        }
        if (o.out && (best >= 0 || sig)) {
            cJSON *j = cJSON_CreateObject(), *cells = cJSON_CreateArray();
            jset(j, "command", jstr("sweep"));
            if (sig) {
                cJSON *in = cJSON_CreateObject();
                jset(in, "signal", jstr(signal_name(sig)));
                jset(in, "cells_finished", jint(ndone));
                jset(in, "cells", jint(ncell));
                jset(j, "interrupted", in);
            } else {
                jset(j, "interrupted", cJSON_CreateNull());
            }
            jset(j, "algo", jstr(o.algo));
            jset(j, "problem", jstr(o.prob.id));
            jset(j, "seeds", jint(o.seeds));
            jset(j, "criterion", jstr("mean final training loss over seeds, diverged = +inf; among cells with "
                                      "diverged seeds: fewer diverged, then loss_mean_finite"));
            for (int c = 0; c <= ncell; c++) {
                int cc = c < ncell ? c : best;
                if (cc < 0) break;
                grid_set(&o, dims, nd, cc, pos);
                cJSON *e = cJSON_CreateObject();
                if (c < ncell)
                    jset(e, "status", jstr(status[cc] == 1 ? "done" : status[cc] == 2 ? "interrupted" : "not run"));
                for (int k = 0; k < nd; k++) {
                    char *end;
                    double v = strtod(dims[k].vals[pos[k]], &end);
                    jset(e, cli_flags[dims[k].flag].name,
                         *end == '\0' && isfinite(v) ? jnum(v) : jstr(dims[k].vals[pos[k]]));
                }
                int fin = status[cc] == 1; /* an unfinished cell has nothing final to report */
                jset(e, "loss_mean", fin ? jnum9(cell[cc][0]) : cJSON_CreateNull());
                jset(e, "loss_std", fin ? jnum9(cell[cc][1]) : cJSON_CreateNull());
                jset(e, "test_acc_mean", fin ? jnum9(cell[cc][2]) : cJSON_CreateNull());
                jset(e, "diverged", fin ? jnum(cell[cc][3]) : cJSON_CreateNull());
                jset(e, "loss_mean_finite", fin ? jnum9(cell[cc][4]) : cJSON_CreateNull());
                if (c < ncell) jpush(cells, e);
                else jset(j, "best", e);
            }
            if (best < 0) jset(j, "best", cJSON_CreateNull());
            /* cells before best: the object's key order is the old file's */
            cJSON *b = cJSON_DetachItemFromObjectCaseSensitive(j, "best");
            jset(j, "cells", cells);
            jset(j, "best", b);
            char path[4200];
            snprintf(path, sizeof path, "%s/summary.json", o.out);
            code = json_write_file(o.cmd, path, j);
            cJSON_Delete(j);
            snprintf(path, sizeof path, "%s/sweep.csv", o.out);
            if (!code) code = write_file_atomic(o.cmd, path, csv.p, csv.len);
        }
        fflush(stdout);
    }
    if (!code && sig) code = 128 + sig;
    sb_free(&csv);
    sb_free(&cols);
    free(status);
    free(loss);
    free(acc);
    free(cell);
    session_close(&S);
    cli_options_free(&o);
    mpi_done();
    return code;
}
