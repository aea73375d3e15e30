/* seeds.c — writes the binary seed corpora (valid optimizer and cluster states for every algorithm, valid
 * checkpoints) under tests/fuzz/corpus/. Run from the repository root after `make`:
 *   mpicc -Iinclude -Isrc tests/fuzz/seeds.c -Wl,--whole-archive build/libsignopt.a -Wl,--no-whole-archive \
 *         -fopenmp -lopenblas -lz -lm -o build/fuzz-seeds && build/fuzz-seeds
 * The text corpora (IDX, LIBSVM, config) are written by tests/fuzz/seeds.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "signopt.h"

static void save(const char *dir, const char *name, unsigned char first, const void *data, size_t size)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fuzz/corpus/%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    fputc(first, f);
    fwrite(data, 1, size, f);
    fclose(f);
}

int main(void)
{
    /* Optimizer states after two steps, d = 7 in tensors of 3 and 4 (as fuzz_optim_load builds them). */
    const char *const *ids = so_optim_algos();
    for (int k = 0; ids[k]; k++) {
        so_optim_config oc;
        so_optim_config_default(&oc);
        oc.algo = ids[k];
        so_tensor t[2] = {{NULL, 0, 3}, {NULL, 3, 4}};
        so_optim *o = so_optim_create(&oc, 7, t, 2);
        float x[7] = {1, -2, 3, 0, 0.5f, -0.25f, 2}, g[7] = {0.1f, 0.2f, -0.3f, 0, 1, -1, 0.5f}, y[7];
        for (int s = 0; s < 2; s++) {
            so_optim_grad_point(o, x, y);
            so_optim_step(o, x, g);
        }
        size_t n = so_optim_state_size(o);
        unsigned char *b = malloc(n);
        so_optim_save(o, b, n);
        save("optim_load", ids[k], (unsigned char)k, b, n);
        free(b);
        so_optim_destroy(o);
    }
    /* Cluster states after two rounds: 3 local workers, d = 6 (as fuzz_cluster_load builds them). */
    const char *const *dids = so_dist_algos();
    for (int k = 0; dids[k]; k++) {
        so_problem_config pc;
        so_problem_config_default(&pc);
        pc.id = "quadratic";
        pc.dim = 6;
        pc.workers = 3;
        so_noise_parse(&pc.noise, "gauss:1");
        so_problem *p = so_problem_create(&pc);
        so_transport *t = so_transport_local(3);
        so_cluster_config cc;
        so_cluster_config_default(&cc);
        cc.optim.algo = dids[k];
        cc.threads = 1;
        so_cluster *c = so_cluster_create(&cc, p, t);
        if (!c) { fprintf(stderr, "%s: %s\n", dids[k], so_errmsg()); return 1; }
        float x[6] = {1, -2, 3, 0, 0.5f, -0.25f};
        so_cluster_round(c, x);
        so_cluster_round(c, x);
        size_t n = so_cluster_state_size(c);
        unsigned char *b = malloc(n);
        so_cluster_save(c, b, n);
        save("cluster_load", dids[k], (unsigned char)k, b, n);
        free(b);
        so_cluster_destroy(c);
        so_transport_destroy(t);
        so_problem_destroy(p);
    }
    return 0;
}
