/* fuzz_optim_load.c — libFuzzer target for so_optim_load, the decoder of optimizer state bytes (checkpoints and
 * the root's MPI broadcast carry them). The first byte picks the algorithm, the rest is the state for d = 7 in two
 * tensors. An accepted state must survive a step and save back to the same bytes. */
#include <string.h>
#include "fuzz.h"
#include "signopt.h"

#define D 7

static so_optim *cached[64];

static so_optim *optimizer(int k)
{
    if (cached[k]) return cached[k];
    const char *const *ids = so_optim_algos();
    so_optim_config oc;
    so_optim_config_default(&oc);
    oc.algo = ids[k];
    so_tensor t[2];
    memset(t, 0, sizeof t);
    t[0].offset = 0;
    t[0].size = 3;
    t[1].offset = 3;
    t[1].size = 4;
    cached[k] = so_optim_create(&oc, D, t, 2);
    if (!cached[k]) abort();
    return cached[k];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int n = 0;
    while (so_optim_algos()[n]) n++;
    so_optim *o = optimizer(data[0] % n);
    data++;
    size--;
    if (so_optim_load(o, data, size) != SO_OK) return 0;
    if (so_optim_state_size(o) != size) abort();
    unsigned char *back = malloc(size ? size : 1);
    if (!back) return 0;
    if (so_optim_save(o, back, size) != SO_OK || memcmp(back, data, size) != 0) abort();
    free(back);
    float x[D] = {1, -2, 3, 0, 0.5f, -0.25f, 2}, g[D] = {0.1f, 0.2f, -0.3f, 0, 1, -1, 0.5f}, y[D];
    so_optim_grad_point(o, x, y);
    so_optim_step(o, x, g);
    return 0;
}
