/* test_run.c — the training driver (so_run) against independent evidence: the closed-form sgd trajectory on a
 * quadratic, the uniform law of the random iterate tau (chi-square), the evaluation schedule, and checkpoint
 * integrity (a resumed run's rows equal a straight run's; corrupt or truncated files are refused). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "signopt.h"
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
    memset(rc, 0, sizeof *rc);
    rc->algo = "sgd";
    so_optim_config_default(&rc->optim);
    rc->optim.algo = "sgd";
    rc->optim.lr = lr;
    so_cluster_config_default(&rc->cluster);
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
    CHECK(res.tau_step >= 1 && res.tau_step <= 25, "tau %ld", res.tau_step);
    CHECK_CLOSE(res.tau.loss, quad_loss(0.1, res.tau_step), 1e-5, 0, "f(x_tau)");
    so_problem_destroy(p);
}

/* tau uniform on {1..T}: over 2400 seeds with T = 6, a chi-square test with 5 degrees of freedom; 20.5 is its
 * 0.999 quantile, so a correct driver fails this about once in a thousand seed sets (the seeds are fixed, so the
 * outcome is deterministic). */
static void test_tau_is_uniform(void)
{
    enum { T = 6, NSEED = 2400 };
    int hist[T + 1] = {0};
    so_problem *p = quadratic(1, 1.0, 1.0, 1);
    CHECK(p != NULL, "%s", so_errmsg());
    if (!p) return;
    for (uint64_t s = 1; s <= NSEED; s++) {
        so_run_config rc;
        sgd_config(&rc, 0.1, T, T, s);
        so_run_result res;
        if (so_run(&rc, p, NULL, NULL, NULL, NULL, NULL, &res) != SO_OK || res.tau_step < 1 || res.tau_step > T) {
            CHECK(0, "seed %llu: tau %ld (%s)", (unsigned long long)s, res.tau_step, so_errmsg());
            break;
        }
        hist[res.tau_step]++;
    }
    double e = (double)NSEED / T, chi2 = 0;
    for (int k = 1; k <= T; k++) chi2 += (hist[k] - e) * (hist[k] - e) / e;
    CHECK(chi2 < 20.5, "chi-square %.2f over counts %d %d %d %d %d %d", chi2, hist[1], hist[2], hist[3], hist[4],
          hist[5], hist[6]);
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
    rc.algo = rc.optim.algo = "signum";
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
    so_problem_destroy(p);
}

int main(void)
{
    RUN(test_rows_follow_closed_form_and_schedule);
    RUN(test_tau_is_uniform);
    RUN(test_resume_equals_straight_run);
    RUN(test_divergence_is_reported);
    return test_report("run");
}
