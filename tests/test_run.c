/* test_run.c — the training driver (so_run) against independent evidence: the closed-form sgd trajectory on a
 * quadratic, the uniform law of the random iterate tau (chi-square), the evaluation schedule, and checkpoint
 * integrity (a resumed run's rows equal a straight run's; corrupt or truncated files are refused). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "signopt.h"
#include <zlib.h>
#include "test.h"

typedef struct rows {
    so_metrics_row r[64];
    int n;
} rows;

static void collect(const so_metrics_row *row, void *user)
{
    rows *R = user;
    if (R->n < 64) R->r[R->n++] = *row;
}

/* f = 1/2 sum L_i x_i^2 with L = (1, 2) (d = 2, L_max = 2), x0 = 1: sgd gives x_t,i = (1 - lr L_i)^t. */
static double quad_loss(double lr, long t)
{
    double f = 0;
    for (int i = 1; i <= 2; i++) {
        double x = pow(1 - lr * i, (double)t);
        f += 0.5 * i * x * x;
    }
    return f;
}

static so_problem *quadratic(size_t d, double L_max, double x0, uint64_t seed)
{
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = d;
    pc.L_max = L_max;
    pc.x0 = x0;
    pc.seed = seed;
    return so_problem_create(&pc);
}

static void sgd_config(so_run_config *rc, double lr, long steps, long eval_every, uint64_t seed)
{
    so_run_config_default(rc);
    rc->method.optim.algo = "sgd";
    rc->method.optim.lr = lr;
    rc->steps = steps;
    rc->eval_every = eval_every;
    rc->seed = seed;
}

static void test_rows_follow_closed_form_and_schedule(void)
{
    so_problem *p = quadratic(2, 2.0, 1.0, 1);
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    so_run_config rc;
    sgd_config(&rc, 0.1, 25, 10, 1);
    rows R = {0};
    so_run_result res;
    int st = so_run(&rc, p, NULL, collect, &R, NULL, NULL, &res);
    CHECK(st == SO_OK, "so_run: %s", so_errmsg());
    long want_steps[] = {0, 10, 20, 25};
    CHECK(R.n == 4, "rows: got %d, want 4 (steps 0, 10, 20, 25)", R.n);
    for (int i = 0; i < R.n && i < 4; i++) {
        CHECK(R.r[i].step == want_steps[i], "row %d step %ld", i, R.r[i].step);
        CHECK_CLOSE(R.r[i].loss, quad_loss(0.1, R.r[i].step), 1e-5, 0, "loss vs (1 - lr L_i)^t");
    }
    CHECK(res.final.step == 25, "final step %ld", res.final.step);
    /* x_tau is the iterate after tau steps: its loss is the closed form at tau. */
    CHECK(res.tau_step >= 0 && res.tau_step <= 24, "tau %ld", res.tau_step);
    CHECK_CLOSE(res.tau.loss, quad_loss(0.1, res.tau_step), 1e-5, 0, "f(x_tau)");
    so_problem_destroy(p);
}

/* tau uniform on {1..T}, the papers' range (x_1 the start): tau_step = tau - 1 uniform on {0..T-1}, so the start is
 * a candidate and the final iterate is not. Over 2400 seeds with T = 6, a chi-square test with 5 degrees of freedom;
 * 20.5 is its 0.999 quantile, so a correct driver fails this about once in a thousand seed sets (the seeds are
 * fixed, so the outcome is deterministic). */
static void test_tau_is_uniform(void)
{
    enum { T = 6, NSEED = 2400 };
    int hist[T] = {0};
    so_problem *p = quadratic(1, 1.0, 1.0, 1);
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    for (uint64_t s = 1; s <= NSEED; s++) {
        so_run_config rc;
        sgd_config(&rc, 0.1, T, T, s);
        so_run_result res;
        if (so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) != SO_OK || res.tau_step < 0 || res.tau_step > T - 1) {
            CHECK(0, "seed %llu: tau_step %ld (%s)", (unsigned long long)s, res.tau_step, so_errmsg());
            break;
        }
        hist[res.tau_step]++;
    }
    double e = (double)NSEED / T, chi2 = 0;
    for (int k = 0; k < T; k++) chi2 += (hist[k] - e) * (hist[k] - e) / e;
    CHECK(chi2 < 20.5, "chi-square %.2f over counts %d %d %d %d %d %d (steps 0..5)", chi2, hist[0], hist[1], hist[2],
          hist[3], hist[4], hist[5]);
    CHECK(hist[0] > 0, "the start was never drawn");
    so_problem_destroy(p);
}

static void test_resume_equals_straight_run(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/signopt-test-run-%ld.ckpt", (long)getpid());
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = 16;
    pc.x0 = 0.5;
    so_noise_parse(&pc.noise, "gauss:1");
    so_problem *p = so_problem_create(&pc);
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    so_run_config rc;
    sgd_config(&rc, 0.01, 30, 5, 1);
    rc.method.optim.algo = "signum";
    rows A = {0}, B = {0};
    so_run_result ra, rb;
    CHECK(so_run(&rc, p, NULL, collect, &A, NULL, NULL, &ra) == SO_OK, "%s", so_errmsg());
    rc.steps = 15;
    rc.checkpoint = path;
    rows scratch = {0};
    CHECK(so_run(&rc, p, NULL, collect, &scratch, NULL, NULL, &rb) == SO_OK, "%s", so_errmsg());
    rc.steps = 30;
    rc.checkpoint = NULL;
    rc.resume = path;
    CHECK(so_run(&rc, p, NULL, collect, &B, NULL, NULL, &rb) == SO_OK, "%s", so_errmsg());
    CHECK(A.n == 7 && B.n == 7, "rows %d and %d, want 7", A.n, B.n);
    for (int i = 0; i < A.n && i < B.n; i++) {
        CHECK(A.r[i].step == B.r[i].step && A.r[i].loss == B.r[i].loss && A.r[i].grad_l1 == B.r[i].grad_l1 &&
                  A.r[i].g_linf == B.r[i].g_linf,
              "row %d: straight (%ld, %.9g) resumed (%ld, %.9g)", i, A.r[i].step, A.r[i].loss, B.r[i].step,
              B.r[i].loss);
    }
    CHECK(ra.tau_step == rb.tau_step && ra.tau.loss == rb.tau.loss, "tau %ld vs %ld", ra.tau_step, rb.tau_step);

    /* One flipped byte in the middle: the CRC refuses it. */
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL, "reopen checkpoint");
    if (f) {
        fseek(f, 150, SEEK_SET);
        int c = fgetc(f);
        fseek(f, 150, SEEK_SET);
        fputc(c ^ 0x10, f);
        fclose(f);
        so_run_result rr;
        CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &rr) == SO_EFORMAT, "corrupt: %s", so_errmsg());
    }
    /* Truncated to 40 bytes: refused, no crash. */
    CHECK(truncate(path, 40) == 0, "truncate");
    so_run_result rr;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &rr) == SO_EFORMAT, "truncated: %s", so_errmsg());
    remove(path);
    so_problem_destroy(p);
}

static int all_finite(const float *g, size_t d);

static void test_divergence_is_reported(void)
{
    /* sgd with lr 1 on L up to 10 multiplies the last coordinate by -9 each step: float overflows near step 40. */
    so_problem *p = quadratic(4, 10.0, 1.0, 1);
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    so_run_config rc;
    sgd_config(&rc, 1.0, 500, 1000, 1);
    so_run_result res;
    int st = so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res);
    CHECK(st == SO_ENUMERIC, "status %d: %s", st, so_errmsg());
    CHECK(strstr(so_errmsg(), "step") != NULL, "message names the step: %s", so_errmsg());
    /* The step it reports against a hand loop of the same sgd: the first t whose gradient at x_t is not finite
     * is step t + 1. */
    size_t d = so_problem_dim(p);
    float *x = malloc(d * sizeof *x), *g = malloc(d * sizeof *g);
    so_workspace *ws = so_problem_workspace_new(p);
    so_problem_init(p, x);
    long want = -1;
    for (long t = 0; t < 500 && want < 0; t++) {
        double loss;
        so_problem_grad(p, ws, x, g, 0, t, &loss);
        if (!all_finite(g, d) || !isfinite(loss)) want = t + 1;
        for (size_t i = 0; i < d; i++) x[i] -= g[i];
    }
    CHECK(want > 1 && res.diverged_step == want, "diverged_step %ld, hand loop %ld", res.diverged_step, want);
    char step_text[32];
    snprintf(step_text, sizeof step_text, "step %ld:", want);
    CHECK(strstr(so_errmsg(), step_text) != NULL, "message names %s: %s", step_text, so_errmsg());
    /* A run that finishes reports no divergence. */
    sgd_config(&rc, 0.01, 50, 10, 1);
    st = so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res);
    CHECK(st == SO_OK && res.diverged_step == -1, "finished run: status %d, diverged_step %ld", st, res.diverged_step);
    free(x);
    free(g);
    so_workspace_free(ws);
    so_problem_destroy(p);
}

/* Quadratic d = 20 with Student-t noise of NU = 0.3 and scale 1e30: now and then a draw overflows float, so the
 * stochastic gradient holds Inf at a few steps (about a third of them at seed 1). */
static so_problem *quadratic_with_inf_noise(void)
{
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = 20;
    pc.x0 = 1.0;
    so_noise_parse(&pc.noise, "student:0.3:1e30");
    return so_problem_create(&pc);
}

static int all_finite(const float *g, size_t d)
{
    for (size_t i = 0; i < d; i++)
        if (!isfinite(g[i])) return 0;
    return 1;
}

/* --on-nan skip against a hand-written loop: x -= lr g for finite g, nothing otherwise. */
static void test_on_nan_skip_drops_updates(void)
{
    so_problem *p = quadratic_with_inf_noise();
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    size_t d = so_problem_dim(p);
    float *x = malloc(d * sizeof *x), *g = malloc(d * sizeof *g);
    so_workspace *ws = so_problem_workspace_new(p);
    so_problem_init(p, x);
    const long T = 60;
    const float lr = 1e-3f;
    long skipped = 0, first_bad = 0;
    for (long t = 0; t < T; t++) {
        double loss;
        so_problem_grad(p, ws, x, g, 0, t, &loss);
        if (!all_finite(g, d) || !isfinite(loss)) {
            skipped++;
            if (!first_bad) first_bad = t + 1;
            continue;
        }
        for (size_t i = 0; i < d; i++) x[i] -= lr * g[i];
    }
    so_eval ev;
    so_problem_eval(p, x, &ev);
    CHECK(skipped > 0 && skipped < T, "the noise should make some but not all steps non-finite: %ld", skipped);

    so_run_config rc;
    sgd_config(&rc, lr, T, T, 1);
    rc.on_nan = SO_ON_NAN_SKIP;
    so_run_result res;
    int st = so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res);
    CHECK(st == SO_OK, "skip: %s", so_errmsg());
    CHECK(res.skipped_steps == skipped, "skipped %ld, hand loop %ld", res.skipped_steps, skipped);
    CHECK_CLOSE(res.final.loss, ev.loss, 1e-6, 0, "final loss vs hand loop");

    /* stop: the error names the first bad step; the checkpoint taken at step 0 stays readable. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/signopt-test-nan-%ld.ckpt", (long)getpid());
    rc.on_nan = SO_ON_NAN_STOP;
    rc.checkpoint = path;
    st = so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res);
    CHECK(st == SO_ENUMERIC, "stop: status %d", st);
    char want[64];
    snprintf(want, sizeof want, "step %ld:", first_bad);
    CHECK(strstr(so_errmsg(), want) != NULL, "message should name %s: %s", want, so_errmsg());
    CHECK(strstr(so_errmsg(), "at step 0") != NULL, "message should name the last checkpoint: %s", so_errmsg());
    rc.checkpoint = NULL;
    rc.resume = path;
    rc.on_nan = SO_ON_NAN_SKIP;
    st = so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res);
    CHECK(st == SO_OK, "resume after stop with skip: %s", so_errmsg());
    CHECK(res.skipped_steps == skipped && fabs(res.final.loss - ev.loss) <= 1e-6 * fabs(ev.loss),
          "resumed: skipped %ld loss %.9g, want %ld %.9g", res.skipped_steps, res.final.loss, skipped, ev.loss);
    remove(path);

    /* Distributed ids update inside the round: skip is refused, not ignored. */
    rc.resume = NULL;
    rc.method.optim.algo = "sign-vote";
    st = so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res);
    CHECK(st == SO_EINVAL && strstr(so_errmsg(), "on-nan skip") != NULL, "dist skip: %d %s", st, so_errmsg());
    free(x);
    free(g);
    so_workspace_free(ws);
    so_problem_destroy(p);
}

/* A checkpoint from another algorithm, dimension or format version is refused with a message saying which. */
static void test_mismatched_checkpoint_refused(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/signopt-test-mis-%ld.ckpt", (long)getpid());
    so_problem *p = quadratic(8, 2.0, 1.0, 1), *q = quadratic(9, 2.0, 1.0, 1);
    CHECK(p && q, "%s", so_errmsg());
    if (!p || !q) return;
    so_run_config rc;
    sgd_config(&rc, 0.1, 10, 5, 1);
    rc.checkpoint = path;
    so_run_result res;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_OK, "%s", so_errmsg());
    rc.checkpoint = NULL;
    rc.resume = path;
    rc.steps = 20;
    rc.method.optim.algo = "signsgd";
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_EINVAL && strstr(so_errmsg(), "'sgd'"),
          "other algo: %s", so_errmsg());
    rc.method.optim.algo = "sgd";
    CHECK(so_run(&rc, q, NULL, NULL, NULL, NULL, NULL, &res) == SO_EINVAL && strstr(so_errmsg(), "dimension 8"),
          "other d: %s", so_errmsg());
    rc.seed = 2;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_EINVAL && strstr(so_errmsg(), "seed"),
          "other seed: %s", so_errmsg());
    rc.seed = 1;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_OK, "the matching run resumes: %s", so_errmsg());
    /* Version 1 (bytes 8..11) is an older layout: refused by version, before the CRC. */
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL, "reopen");
    if (f) {
        unsigned char v1[4] = {1, 0, 0, 0};
        fseek(f, 8, SEEK_SET);
        fwrite(v1, 1, 4, f);
        fclose(f);
        CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_EFORMAT && strstr(so_errmsg(), "version 1"),
              "old version: %s", so_errmsg());
    }
    /* Not a checkpoint at all, and a missing file. */
    f = fopen(path, "wb");
    if (f) {
        fputs("hello, this is not a checkpoint but is long enough to pass the size check, padding padding "
              "padding padding padding padding padding padding padding padding padding\n", f);
        fclose(f);
    }
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_EFORMAT && strstr(so_errmsg(), "magic"),
          "not a checkpoint: %s", so_errmsg());
    remove(path);
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_EIO, "missing: %s", so_errmsg());
    so_problem_destroy(p);
    so_problem_destroy(q);
}

static void rewrite(const char *path, const unsigned char *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(buf, 1, n, f);
        fclose(f);
    }
}

/* The configuration text rides in the checkpoint (format 3) and reads back byte for byte, and format 4 adds the
 * training clock (eval_s, each row's train_s). Older files still resume: format 3 (the same bytes without eval_s
 * and train_s, CRC recomputed here with zlib) with train_s NaN in its rows, format 2 (also without the text) with
 * no text. */
static void test_checkpoint_meta(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/signopt-test-meta-%ld.ckpt", (long)getpid());
    so_problem *p = quadratic(8, 2.0, 1.0, 1);
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    so_run_config rc;
    sgd_config(&rc, 0.1, 10, 5, 1);
    rc.checkpoint = path;
    const char *meta = "signopt-config 1\nlr=0.1\nnote=a\\nb \xc3\xa9\n";
    rc.checkpoint_meta = meta;
    so_run_result res;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_OK, "%s", so_errmsg());
    CHECK(isfinite(res.final.train_s) && res.final.train_s >= 0 && res.final.train_s <= res.final.wall_s,
          "train_s %g of wall_s %g", res.final.train_s, res.final.wall_s);
    char *text = NULL;
    CHECK(so_checkpoint_meta(path, &text) == SO_OK && text && strcmp(text, meta) == 0, "meta: %s",
          text ? text : so_errmsg());
    free(text);
    FILE *f = fopen(path, "rb");
    unsigned char buf[1 << 14];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    size_t ml = strlen(meta), cut = 8 + ml;
    uint64_t nrows = 0;
    if (n > 112) memcpy(&nrows, buf + 104, 8);
    CHECK(nrows == 3 && n > 112 + cut + 8 + nrows * 13 * 8 + 4, "checkpoint size %zu, %llu rows", n,
          (unsigned long long)nrows);
    if (nrows == 3 && n > 112 + cut + 8 + nrows * 13 * 8 + 4) {
        /* Format 3: drop eval_s after the text and the last f64 (train_s) of each 13-f64 row. */
        size_t at = 112 + cut;
        memmove(buf + at, buf + at + 8, n - at - 8);
        n -= 8;
        for (uint64_t r = 0; r < nrows; r++) {
            size_t end = at + (r + 1) * 12 * 8;
            memmove(buf + end, buf + end + 8, n - end - 8);
            n -= 8;
        }
        buf[8] = 3;
        uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(n - 4));
        memcpy(buf + n - 4, &crc, 4);
        rewrite(path, buf, n);
        text = NULL;
        CHECK(so_checkpoint_meta(path, &text) == SO_OK && text && strcmp(text, meta) == 0, "format 3: %s",
              text ? text : so_errmsg());
        free(text);
        so_run_config r3 = rc;
        r3.checkpoint = NULL;
        r3.resume = path;
        r3.steps = 20;
        CHECK(so_run(&r3, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_OK, "format 3 resumes: %s", so_errmsg());
        /* Rewrite as format 2: drop the u64 length and the text after nrows (offset 112), fix version and CRC. */
        memmove(buf + 112, buf + 112 + cut, n - 112 - cut);
        n -= cut;
        buf[8] = 2;
        crc = (uint32_t)crc32(0L, buf, (uInt)(n - 4));
        memcpy(buf + n - 4, &crc, 4);
        rewrite(path, buf, n);
        text = NULL;
        CHECK(so_checkpoint_meta(path, &text) == SO_OK && text && text[0] == '\0', "format 2: %s",
              text ? text : so_errmsg());
        free(text);
        rc.checkpoint = NULL;
        rc.resume = path;
        rc.steps = 20;
        CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_OK, "format 2 resumes: %s", so_errmsg());
    }
    remove(path);
    so_problem_destroy(p);
}

/* The batch schedule of minibatch-SignSGD (003 Alg 2): m_t by hand, the parser, a run against a hand-written loop
 * of the same rule, and the variance of a scheduled gradient. */
static void test_batch_multiplier_by_hand(void)
{
    so_batch_schedule s = {SO_BATCH_LINEAR, 4};
    const long lin[7] = {1, 1, 2, 2, 3, 3, 4}; /* 1 + floor(3 t / 6), t = 0..6 */
    for (long t = 0; t < 7; t++) CHECK(so_batch_multiplier(&s, t, 7) == lin[t], "linear:4 t=%ld", t);
    CHECK(so_batch_multiplier(&s, 0, 1) == 1, "linear with T = 1");
    so_batch_schedule e = {SO_BATCH_EXP, 1.5};
    const long ex[7] = {1, 1, 2, 3, 5, 7, 11}; /* floor(1.5^t): 1, 1.5, 2.25, 3.375, 5.06, 7.59, 11.39 */
    for (long t = 0; t < 7; t++) CHECK(so_batch_multiplier(&e, t, 7) == ex[t], "exp:1.5 t=%ld", t);
    e.arg = 2;
    CHECK(so_batch_multiplier(&e, 40, 100) == SO_BATCH_MULT_MAX, "capped at %d", SO_BATCH_MULT_MAX);
    so_batch_schedule c = {SO_BATCH_CONST, 0};
    CHECK(so_batch_multiplier(&c, 5, 10) == 1, "const");
    so_batch_schedule q;
    CHECK(so_batch_schedule_parse(&q, "linear:19") == SO_OK && q.growth == SO_BATCH_LINEAR && q.arg == 19, "linear:19");
    CHECK(so_batch_schedule_parse(&q, "exp:1.01") == SO_OK && q.growth == SO_BATCH_EXP && q.arg == 1.01, "exp:1.01");
    CHECK(so_batch_schedule_parse(&q, "const") == SO_OK && q.growth == SO_BATCH_CONST, "const");
    const char *bad[] = {"linear:0", "linear:2.5", "linear:", "linear:257", "exp:0.9", "exp:3", "exp:1x", "lin:2", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(so_batch_schedule_parse(&q, bad[i]) == SO_EINVAL, "'%s' refused", bad[i]);
}

static so_problem *noisy_quadratic(size_t d, double x0, const char *noise)
{
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = d;
    pc.L_max = 4;
    pc.x0 = x0;
    pc.seed = 3;
    pc.batch = 1; /* one sample per oracle call: a step's gradient is then the mean of m_t noise draws */
    if (so_noise_parse(&pc.noise, noise) != SO_OK) return NULL;
    return so_problem_create(&pc);
}

/* signsgd with linear:3 over 9 steps against a loop written here: at step t, m_t gradients of streams 0..m_t-1
 * averaged (in double), x -= lr sign(mean). The run's final loss must be the loop's f(x_T). */
static void test_batch_schedule_run_matches_loop(void)
{
    const size_t d = 6;
    const long T = 9;
    so_problem *p = noisy_quadratic(d, 0.05, "gauss:1");
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    so_run_config rc;
    so_run_config_default(&rc);
    rc.method.optim.algo = "signsgd";
    rc.method.optim.lr = 0.01;
    rc.steps = T;
    rc.eval_every = T;
    rc.seed = 3;
    rc.batch_schedule.growth = SO_BATCH_LINEAR;
    rc.batch_schedule.arg = 3;
    so_run_result res;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) == SO_OK, "%s", so_errmsg());
    float x[6], g[6];
    double mean[6];
    so_workspace *ws = so_problem_workspace_new(p);
    CHECK(so_problem_init(p, x) == SO_OK, "init");
    long calls = 0;
    for (long t = 0; t < T; t++) {
        const long m = 1 + (2 * t) / (T - 1); /* linear:3 by hand */
        for (size_t i = 0; i < d; i++) mean[i] = 0;
        for (long k = 0; k < m; k++, calls++) {
            CHECK(so_problem_grad_sub(p, ws, x, g, 0, t, (int)k, NULL) == SO_OK, "grad");
            for (size_t i = 0; i < d; i++) mean[i] += g[i] / (double)m;
        }
        for (size_t i = 0; i < d; i++) x[i] -= 0.01f * (float)((mean[i] > 0) - (mean[i] < 0));
    }
    CHECK(calls == 1 + 1 + 1 + 1 + 2 + 2 + 2 + 2 + 3, "the loop took %ld gradients", calls);
    double f;
    CHECK(so_problem_objective(p, x, &f, NULL) == SO_OK, "objective");
    CHECK_CLOSE(res.final.loss, f, 1e-12, 1e-12, "final loss of the scheduled run vs the loop");
    /* and the schedule changed something: the constant-batch run ends elsewhere */
    rc.batch_schedule.growth = SO_BATCH_CONST;
    so_run_result plain;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &plain) == SO_OK, "%s", so_errmsg());
    CHECK(plain.final.loss != res.final.loss, "const and linear:3 runs differ (%.17g)", plain.final.loss);
    so_workspace_free(ws);
    so_problem_destroy(p);
}

/* The variance of a scheduled gradient: sgd with lr = 1 from x0 = 0 (the minimum of the quadratic, whose gradient
 * there is pure N(0, 1) noise per coordinate) over T = 2 steps of linear:M, M = 8: step 0 takes m = 1, step 1 m = 8.
 * Starting the second step at x_1 = -g_0, x_2 = x_1 - (A x_1 + mean of 8 draws). Both runs below share g_0 (stream
 * 0 of step 0), so x_2(linear:8) - x_2(const) = -(mean of 8 draws - one draw) per coordinate: its variance is
 * 1 + 1/8 - 2/8 = 7/8 (the one draw is among the eight). Over d = 20000 coordinates the sample variance has a
 * relative sd of sqrt(2 / d) = 1%; the check allows 6%. Summing instead of averaging would give 7, ignoring the
 * schedule 0. The driver's final losses are then checked to be the loop's f(x_2) under both schedules. */
static void test_batch_schedule_variance(void)
{
    const size_t d = 20000;
    so_problem *p = noisy_quadratic(d, 0.0, "gauss:1");
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    float *xa = malloc(d * sizeof(float)), *xb = malloc(d * sizeof(float));
    so_run_config rc;
    so_run_config_default(&rc);
    rc.method.optim.algo = "sgd";
    rc.method.optim.lr = 1.0;
    rc.steps = 2;
    rc.eval_every = 2;
    rc.seed = 3;
    double va = 0;
    so_workspace *ws = so_problem_workspace_new(p);
    float *g = malloc(d * sizeof(float)), *h = malloc(d * sizeof(float));
    for (size_t i = 0; i < d; i++) xa[i] = 0;
    CHECK(so_problem_grad_sub(p, ws, xa, g, 0, 0, 0, NULL) == SO_OK, "grad");
    for (size_t i = 0; i < d; i++) xa[i] = xb[i] = -g[i];
    /* step 1: const takes stream 0; linear:8 the mean of streams 0..7 */
    CHECK(so_problem_grad_sub(p, ws, xa, g, 0, 1, 0, NULL) == SO_OK, "grad");
    for (size_t i = 0; i < d; i++) xa[i] -= g[i];
    double *acc = calloc(d, sizeof(double));
    for (int k = 0; k < 8; k++) {
        CHECK(so_problem_grad_sub(p, ws, xb, h, 0, 1, k, NULL) == SO_OK, "grad");
        for (size_t i = 0; i < d; i++) acc[i] += h[i] / 8.0;
    }
    for (size_t i = 0; i < d; i++) xb[i] -= (float)acc[i];
    double mean = 0;
    for (size_t i = 0; i < d; i++) mean += (double)(xb[i] - xa[i]) / (double)d;
    for (size_t i = 0; i < d; i++) va += ((xb[i] - xa[i]) - mean) * ((xb[i] - xa[i]) - mean) / (double)(d - 1);
    CHECK(fabs(va - 7.0 / 8.0) < 0.06 * 7.0 / 8.0, "variance of the difference %.4f, want 7/8", va);
    /* the driver follows the same path: its final losses are the loop's f(x_2) for both schedules */
    so_run_result ra, rb;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &ra) == SO_OK, "%s", so_errmsg());
    rc.batch_schedule.growth = SO_BATCH_LINEAR;
    rc.batch_schedule.arg = 8;
    CHECK(so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &rb) == SO_OK, "%s", so_errmsg());
    double fa, fb;
    CHECK(so_problem_objective(p, xa, &fa, NULL) == SO_OK && so_problem_objective(p, xb, &fb, NULL) == SO_OK, "f");
    CHECK_CLOSE(ra.final.loss, fa, 1e-6, 1e-9, "const run vs loop");
    CHECK_CLOSE(rb.final.loss, fb, 1e-6, 1e-9, "linear:8 run vs loop");
    free(acc), free(g), free(h), free(xa), free(xb);
    so_workspace_free(ws);
    so_problem_destroy(p);
}

/* A distributed id refuses a batch schedule (a worker's round takes one minibatch). */
static void test_batch_schedule_single_node_only(void)
{
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.workers = 2;
    so_problem *p = so_problem_create(&pc);
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    so_run_config rc;
    so_run_config_default(&rc);
    rc.method.optim.algo = "mv-signsgd";
    rc.steps = 2;
    rc.batch_schedule.growth = SO_BATCH_LINEAR;
    rc.batch_schedule.arg = 2;
    so_run_result res;
    so_transport *t = so_transport_local(2);
    CHECK(so_run(&rc, p, t, NULL, NULL, NULL, NULL, &res) == SO_EINVAL && strstr(so_errmsg(), "single-node"),
          "refused: %s", so_errmsg());
    so_transport_destroy(t);
    so_problem_destroy(p);
}

int main(void)
{
    RUN(test_batch_multiplier_by_hand);
    RUN(test_batch_schedule_run_matches_loop);
    RUN(test_batch_schedule_variance);
    RUN(test_batch_schedule_single_node_only);
    RUN(test_rows_follow_closed_form_and_schedule);
    RUN(test_tau_is_uniform);
    RUN(test_resume_equals_straight_run);
    RUN(test_divergence_is_reported);
    RUN(test_on_nan_skip_drops_updates);
    RUN(test_mismatched_checkpoint_refused);
    RUN(test_checkpoint_meta);
    return test_report("run");
}
