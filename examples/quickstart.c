/* quickstart.c — signopt from C: Signum on a noisy 1000-dimensional quadratic, then the same problem with
 * 9 in-process workers voting by majority (mv-signum). Build after `make`:
 *   cc -Iinclude examples/quickstart.c build/libsignopt.a -fopenmp -lopenblas -lz -lm -o quickstart
 * (or with an installed signopt: cc quickstart.c $(pkg-config --cflags --libs --static signopt)). */
#include <stdio.h>
#include <stdlib.h>
#include "signopt.h"

static int fail(const char *what)
{
    fprintf(stderr, "quickstart: %s: %s\n", what, so_errmsg());
    return 1;
}

int main(void)
{
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = 1000;
    pc.noise.kind = SO_NOISE_GAUSS; /* g = grad f + N(0, 0.5^2) per coordinate */
    pc.noise.scale = 0.5;
    so_problem *p = so_problem_create(&pc);
    if (!p) return fail("problem");

    so_optim_config oc;
    so_optim_config_default(&oc);
    oc.algo = "signum";
    oc.lr = 1e-3;
    oc.beta = 0.9;
    size_t d = so_problem_dim(p), nt;
    const so_tensor *tensors = so_problem_tensors(p, &nt);
    so_optim *opt = so_optim_create(&oc, d, tensors, nt);
    if (!opt) return fail("optimizer");

    float *x = malloc(d * sizeof *x), *g = malloc(d * sizeof *g);
    so_workspace *ws = so_problem_workspace_new(p);
    so_problem_init(p, x);
    so_eval ev;
    so_problem_eval(p, x, &ev);
    printf("signum      step    0: f = %.4f\n", ev.loss);
    for (long t = 0; t < 2000; t++) {
        if (so_problem_grad(p, ws, x, g, 0, t, NULL) != SO_OK) return fail("gradient");
        if (so_optim_step(opt, x, g) != SO_OK) return fail("step");
    }
    so_problem_eval(p, x, &ev);
    printf("signum      step 2000: f = %.4f  ||grad f||_1 = %.3f\n", ev.loss, ev.grad_l1);

    /* The same with 9 workers, each sending 1 bit per coordinate; the server returns the majority sign. */
    pc.workers = 9;
    so_problem *pd = so_problem_create(&pc);
    so_transport *tr = so_transport_local(9);
    so_cluster_config cc;
    so_cluster_config_default(&cc);
    cc.optim.algo = "mv-signum";
    cc.optim.lr = 1e-3;
    cc.optim.beta = 0.9;
    so_cluster *cl = pd && tr ? so_cluster_create(&cc, pd, tr) : NULL;
    if (!cl) return fail("cluster");
    so_problem_init(pd, x);
    for (long t = 0; t < 2000; t++)
        if (so_cluster_round(cl, x) != SO_OK) return fail("round");
    uint64_t up, down;
    so_cluster_bits(cl, &up, &down);
    so_problem_eval(pd, x, &ev);
    printf("mv-signum   round 2000: f = %.4f  bits up per worker = %llu (1 per coordinate per round)\n", ev.loss,
           (unsigned long long)up);

    so_cluster_destroy(cl);
    so_transport_destroy(tr);
    so_problem_destroy(pd);
    so_workspace_free(ws);
    so_optim_destroy(opt);
    so_problem_destroy(p);
    free(x);
    free(g);
    return 0;
}
