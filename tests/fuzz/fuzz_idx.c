/* fuzz_idx.c — libFuzzer target for the IDX reader (so_idx_load): the first two bytes give the length of the
 * images file, the rest is the labels file. Any input must load or fail with SO_EFORMAT/SO_EIO, never crash. */
#include <string.h>
#include "fuzz.h"
#include "signopt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t n_img = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2;
    size -= 2;
    if (n_img > size) n_img = size;
    const char *img = fuzz_file("images", data, n_img);
    const char *lab = fuzz_file("labels", data + n_img, size - n_img);
    so_dataset ds;
    int rc = so_idx_load(&ds, img, lab);
    if (rc == SO_OK) {
        /* The loader's promise: labels 0..9 and pixels in [0, 1]. */
        for (size_t i = 0; i < ds.n; i++)
            if (ds.y[i] < 0 || ds.y[i] > 9) abort();
        for (size_t i = 0; i < ds.n * ds.dim; i++)
            if (!(ds.x[i] >= 0.0f && ds.x[i] <= 1.0f)) abort();
        so_dataset_free(&ds);
    } else if (rc != SO_EFORMAT && rc != SO_EIO && rc != SO_ENOMEM) {
        abort();
    }
    return 0;
}
