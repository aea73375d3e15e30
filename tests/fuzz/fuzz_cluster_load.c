/* fuzz_cluster_load.c — libFuzzer target for so_cluster_load, the decoder of the whole distributed state (every
 * worker's buffers, round counter, bit counters) that a checkpoint carries and that MPI scatters from the root.
 * The first byte picks the distributed algorithm; 3 in-process workers on a 6-dimensional quadratic. An accepted
 * state must survive a round and save back to the same bytes. */
#include <string.h>
#include "fuzz.h"
#include "signopt.h"

#define D 6
#define N 3

typedef struct fixture {
    so_problem *p;
    so_transport *t;
    so_cluster *c;
} fixture;

static fixture cached[64];

static so_cluster *cluster(int k)
{
    fixture *f = &cached[k];
    if (f->c) return f->c;
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = D;
    pc.workers = N;
    so_noise_parse(&pc.noise, "gauss:1");
    f->p = so_problem_create(&pc);
    f->t = so_transport_local(N);
    so_cluster_config cc;
    so_cluster_config_default(&cc);
    cc.optim.algo = so_dist_algos()[k];
    cc.threads = 1;
    f->c = f->p && f->t ? so_cluster_create(&cc, f->p, f->t) : NULL;
    if (!f->c) abort();
    return f->c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int n = 0;
    while (so_dist_algos()[n]) n++;
    so_cluster *c = cluster(data[0] % n);
    data++;
    size--;
    if (so_cluster_load(c, data, size) != SO_OK) return 0;
    if (so_cluster_state_size(c) != size) abort();
    unsigned char *back = malloc(size ? size : 1);
    if (!back) return 0;
    if (so_cluster_save(c, back, size) != SO_OK || memcmp(back, data, size) != 0) abort();
    free(back);
    float x[D] = {1, -2, 3, 0, 0.5f, -0.25f};
    so_cluster_round(c, x);
    return 0;
}
