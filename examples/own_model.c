/* own_model.c — your own model in signopt: a softmax classifier written here, on data made here, trained with
 * signum on one worker and with mv-signum over 9 in-process workers that vote with 1 bit per coordinate.
 * signopt needs only the model's gradient for a worker's minibatch (the callbacks below); it runs the optimizer,
 * the workers, the vote, the evaluations and the metrics. Build after `make` (no MPI needed):
 *   cc -Iinclude examples/own_model.c build/libsignopt.a -fopenmp -lopenblas -lz -lm -o own_model
 * or against the shared library: cc -Iinclude examples/own_model.c -Lbuild -lsignopt -lm -o own_model
 *
 * The same file as a plugin of the signopt command, which then trains, sweeps and runs over MPI on this model:
 *   cc -Iinclude -DSIGNOPT_PLUGIN -shared -fPIC examples/own_model.c -o own_model.so
 *   build/signopt sweep --plugin ./own_model.so --problem own-softmax --algo mv-signum --workers 9 --lr 1e-3,3e-3 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "signopt.h"

enum { FEATURES = 20, CLASSES = 4, PER_WORKER = 500, TEST = 2000, BATCH = 16 };
enum { DIM = FEATURES * CLASSES + CLASSES }; /* weights W (CLASSES x FEATURES), then biases b */

/* The data: CLASSES Gaussian blobs in FEATURES dimensions, PER_WORKER rows per worker plus a test set. */
typedef struct model {
    int workers;
    float *x, *test_x;  /* rows of FEATURES */
    int *y, *test_y;
} model;

static void make_rows(float *x, int *y, int n, so_rng *r)
{
    for (int i = 0; i < n; i++) {
        y[i] = (int)so_rng_below(r, CLASSES);
        for (int f = 0; f < FEATURES; f++)
            x[i * FEATURES + f] = (float)(so_rng_normal(r) + (f % CLASSES == y[i] ? 1.5 : 0.0));
    }
}

/* Loss of one row; g (may be NULL) += scale * its gradient. Returns 1 when the row is classified right. */
static int row(const float *w, const float *x, int y, float *g, float scale, double *loss)
{
    double z[CLASSES], zmax = -INFINITY, sum = 0.0;
    for (int c = 0; c < CLASSES; c++) {
        z[c] = w[FEATURES * CLASSES + c];
        for (int f = 0; f < FEATURES; f++) z[c] += (double)w[c * FEATURES + f] * x[f];
        zmax = z[c] > zmax ? z[c] : zmax;
    }
    int best = 0;
    for (int c = 0; c < CLASSES; c++) {
        sum += exp(z[c] - zmax);
        best = z[c] > z[best] ? c : best;
    }
    *loss += log(sum) + zmax - z[y];
    for (int c = 0; g && c < CLASSES; c++) {
        float d = (float)(exp(z[c] - zmax) / sum - (c == y)) * scale; /* softmax - one-hot */
        for (int f = 0; f < FEATURES; f++) g[c * FEATURES + f] += d * x[f];
        g[FEATURES * CLASSES + c] += d;
    }
    return best == y;
}

/* The gradient of worker q->worker's minibatch: BATCH of its rows, drawn from its own keyed random sequence so
 * that the same (seed, worker, step) gives the same rows in any thread or process. */
static int grad(void *ctx, void *ws, const float *w, float *g, const so_grad_request *q, double *loss)
{
    (void)ws;
    const model *m = ctx;
    so_rng r;
    so_grad_rng(&r, q, SO_STREAM_USER);
    memset(g, 0, DIM * sizeof *g);
    for (int k = 0; k < BATCH; k++) {
        int i = q->worker * PER_WORKER + (int)so_rng_below(&r, PER_WORKER);
        row(w, m->x + i * FEATURES, m->y[i], g, 1.0f / BATCH, loss);
    }
    *loss /= BATCH;
    return SO_OK;
}

/* The full training loss and its gradient: the run reports them, with ||grad f||_1 and ||grad f||_2. */
static int objective(void *ctx, const float *w, double *f, float *g)
{
    const model *m = ctx;
    int n = m->workers * PER_WORKER;
    if (g) memset(g, 0, DIM * sizeof *g);
    *f = 0.0;
    for (int i = 0; i < n; i++) row(w, m->x + i * FEATURES, m->y[i], g, 1.0f / n, f);
    *f /= n;
    return SO_OK;
}

static int accuracy(void *ctx, const float *w, double *train, double *test)
{
    const model *m = ctx;
    int n = m->workers * PER_WORKER, right = 0;
    double unused = 0.0;
    for (int i = 0; i < n; i++) right += row(w, m->x + i * FEATURES, m->y[i], NULL, 0, &unused);
    *train = (double)right / n;
    right = 0;
    for (int i = 0; i < TEST; i++) right += row(w, m->test_x + i * FEATURES, m->test_y[i], NULL, 0, &unused);
    *test = (double)right / TEST;
    return SO_OK;
}

static void destroy(void *ctx)
{
    model *m = ctx;
    free(m->x), free(m->y), free(m->test_x), free(m->test_y), free(m);
}

static so_problem *softmax_problem(int workers, uint64_t seed)
{
    model *m = malloc(sizeof *m);
    m->workers = workers;
    m->x = malloc(sizeof(float) * workers * PER_WORKER * FEATURES);
    m->y = malloc(sizeof(int) * workers * PER_WORKER);
    m->test_x = malloc(sizeof(float) * TEST * FEATURES);
    m->test_y = malloc(sizeof(int) * TEST);
    so_rng r;
    so_rng_init(&r, 7, 0, 0, SO_STREAM_USER + 1); /* the data does not depend on the run's seed */
    make_rows(m->x, m->y, workers * PER_WORKER, &r);
    make_rows(m->test_x, m->test_y, TEST, &r);
    static const so_oracle ops = {.grad = grad, .objective = objective, .accuracy = accuracy, .destroy = destroy};
    const so_tensor tensors[2] = {{"W", 0, FEATURES * CLASSES}, {"b", FEATURES * CLASSES, CLASSES}};
    const so_oracle_info info = {.id = "softmax", .dim = DIM, .tensors = tensors, .ntensors = 2, .workers = workers,
                                 .batch = BATCH, .samples = (size_t)workers * PER_WORKER, .seed = seed,
                                 .objective_grad = 1};
    return so_problem_create_oracle(&ops, m, &info); /* x_0 = 0: no init callback */
}

#ifdef SIGNOPT_PLUGIN
/* The command's --problem own-softmax: the family is made from the command's configuration. */
static so_problem *create(const so_problem_config *cfg) { return softmax_problem(cfg->workers, cfg->seed); }

int signopt_plugin_init(void)
{
    static const so_problem_family family = {"own-softmax", "examples/own_model.c: a softmax classifier", create};
    return so_problem_register(&family);
}
#else
static void print_row(const so_metrics_row *r, void *user)
{
    printf("%-10s step %4ld  loss %.4f  test acc %.3f  ||grad f||_1 %.4f  bits up %llu\n", (const char *)user,
           r->step, r->loss, r->test_acc, r->grad_l1, (unsigned long long)r->bits_up);
}

int main(void)
{
    /* Signum on one worker: so_run steps, evaluates every 100 steps, and hands each row to print_row. */
    so_run_config rc;
    so_run_config_default(&rc);
    rc.method.optim.algo = "signum";
    rc.method.optim.lr = 2e-3;
    rc.steps = 400;
    rc.eval_every = 100;
    so_run_result one, nine;
    so_problem *p = softmax_problem(1, 1);
    if (!p || so_run(&rc, p, NULL, print_row, "signum", NULL, NULL, &one) != SO_OK) goto fail;
    so_problem_destroy(p);

    /* mv-signum over 9 in-process workers, each on its own 500 rows, voting by majority every round. */
    rc.method.optim.algo = "mv-signum";
    rc.method.threads = 2; /* the workers' gradients in parallel; the result does not depend on it */
    p = softmax_problem(9, 1);
    so_transport *t = so_transport_local(9);
    if (!p || !t || so_run(&rc, p, t, print_row, "mv-signum", NULL, NULL, &nine) != SO_OK) goto fail;
    so_transport_destroy(t);
    so_problem_destroy(p);
    printf("test accuracy: signum %.3f, mv-signum (9 workers, 1 bit up per coordinate) %.3f\n", one.final.test_acc,
           nine.final.test_acc);
    return 0;
fail:
    fprintf(stderr, "own_model: %s\n", so_errmsg());
    return 1;
}
#endif
