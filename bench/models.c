/* models.c — how long one epoch of the mlp, cnn and cnn64 problems takes (plain SGD steps at batch 32 on
 * Fashion-MNIST) and 500 steps of charlm (the character GPT on Debian's fortunes), one worker, T OpenMP threads
 * (the models split each minibatch into fixed chunks over them; OpenBLAS stays on one thread per call). Only the
 * training loop is timed (the data is loaded before), the best of R repeats. tools/bench_models_torch.py times the same models, batch, steps and threads in PyTorch;
 * docs/bench_models.md holds the figures.
 *
 * Build and run (whole-archive: the library's registry links the model family weakly while families land):
 *   make build/libsignopt.a
 *   mpicc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -fopenmp -Iinclude -I/usr/include/x86_64-linux-gnu/openblas-pthread \
 *     bench/models.c -Wl,--whole-archive build/libsignopt.a -Wl,--no-whole-archive -lopenblas -lz -lm \
 *     -o build/bench_models
 *   build/bench_models [--threads T] [--model mlp|cnn|cnn64|charlm|both|all] [--batch B] [--steps S] [--repeats R]
 *                      [--lr X]
 * Prints one line per model: "signopt MODEL threads T batch B steps S: SECONDS s/epoch (loss L)", charlm's with
 * " vocab V" (its alphabet, for the PyTorch script). tools/bench-models.sh runs both sides for the table. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "signopt.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One epoch of x <- x - lr g from the problem's initialization; returns seconds, *loss the last minibatch's. */
static int epoch(so_problem *p, long steps, double lr, double *seconds, double *loss)
{
    const size_t d = so_problem_dim(p);
    float *x = malloc(d * sizeof *x), *g = malloc(d * sizeof *g);
    so_workspace *w = so_problem_workspace_new(p);
    if (!x || !g || !w) return SO_ENOMEM;
    so_problem_init(p, x);
    const float rate = (float)lr;
    int rc = SO_OK;
    const double start = now();
    for (long t = 0; t < steps && rc == SO_OK; t++) {
        rc = so_problem_grad(p, w, x, g, 0, t, loss);
        /* the update on the same threads, as signopt's optimizers and torch.optim run it */
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < d; i++) x[i] -= rate * g[i];
    }
    *seconds = now() - start;
    so_workspace_free(w);
    free(x);
    free(g);
    return rc;
}

/* charlm: the default model (2 blocks, width 64, 4 heads, context CHARLM_CTX) on Debian's fortunes. */
#define CHARLM_STEPS 500
#define CHARLM_CTX 64

int main(int argc, char **argv)
{
    int threads = 1, batch = 32, repeats = 1;
    long steps = 0;
    double lr = 0.05;
    const char *model = "both";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0) threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--batch") == 0) batch = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--steps") == 0) steps = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--repeats") == 0) repeats = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--lr") == 0) lr = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--model") == 0) model = argv[i + 1];
        else {
            fprintf(stderr, "bench_models: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (threads < 1 || batch < 1 || repeats < 1) {
        fprintf(stderr, "bench_models: threads, batch and repeats must be >= 1\n");
        return 2;
    }
    openblas_set_num_threads(1); /* the models split each minibatch over the OpenMP threads themselves */
    omp_set_num_threads(threads);
    const char *ids[4] = { "mlp", "cnn", "cnn64", "charlm" };
    int known = strcmp(model, "both") == 0 || strcmp(model, "all") == 0;
    for (int k = 0; k < 4; k++) known |= strcmp(model, ids[k]) == 0;
    if (!known) {
        fprintf(stderr, "bench_models: --model must be mlp, cnn, cnn64, charlm, both (mlp and cnn) or all\n");
        return 2;
    }
    for (int k = 0; k < 4; k++) {
        if (strcmp(model, ids[k]) != 0 && !(strcmp(model, "all") == 0 || (strcmp(model, "both") == 0 && k < 2)))
            continue;
        so_problem_config c;
        so_problem_config_default(&c);
        c.id = ids[k];
        c.batch = batch;
        c.seed = 1;
        so_problem *p = so_problem_create(&c);
        if (!p) {
            fprintf(stderr, "bench_models: %s: %s\n", ids[k], so_errmsg());
            return 1;
        }
        /* an epoch of 60000 images; charlm (whose epoch is the whole corpus) runs CHARLM_STEPS unless told */
        const long n = steps ? steps : k == 3 ? CHARLM_STEPS : (long)(so_problem_samples(p) / (size_t)batch);
        double best = 1e300, loss = 0.0;
        for (int r = 0; r < repeats; r++) {
            double seconds;
            if (epoch(p, n, lr, &seconds, &loss) != SO_OK) {
                fprintf(stderr, "bench_models: %s: %s\n", ids[k], so_errmsg());
                return 1;
            }
            best = seconds < best ? seconds : best;
        }
        printf("signopt %s threads %d batch %d steps %ld: %.3f s/epoch (loss %.4f)", ids[k], threads, batch, n, best,
               loss);
        if (k == 3) {
            /* the alphabet size, for tools/bench_models_torch.py --vocab: the size of wte over its width */
            size_t nt;
            const so_tensor *t = so_problem_tensors(p, &nt);
            printf(" vocab %zu", t[0].size / (t[1].size / CHARLM_CTX));
        }
        printf("\n");
        fflush(stdout);
        so_problem_destroy(p);
    }
    return 0;
}
