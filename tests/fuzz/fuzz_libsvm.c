/* fuzz_libsvm.c — libFuzzer target for the LIBSVM reader (so_libsvm_load): the first byte picks dim (0: the
 * largest index seen, else 1..255), the rest is the file. Checks the CSR it returns is well formed. */
#include "fuzz.h"
#include "signopt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t dim = data[0];
    const char *path = fuzz_file("libsvm", data + 1, size - 1);
    so_dataset ds;
    int rc = so_libsvm_load(&ds, path, dim);
    if (rc == SO_OK) {
        if (ds.x || !ds.row_ptr || ds.row_ptr[0] != 0 || ds.classes < 1) abort();
        if (dim && ds.dim != dim) abort();
        for (size_t i = 0; i < ds.n; i++) {
            if (ds.row_ptr[i + 1] < ds.row_ptr[i]) abort();
            if (ds.y[i] < 0 || ds.y[i] >= ds.classes) abort();
            for (size_t k = ds.row_ptr[i]; k < ds.row_ptr[i + 1]; k++)
                if (ds.col[k] >= ds.dim) abort();
        }
        so_dataset_free(&ds);
    } else if (rc != SO_EFORMAT && rc != SO_EIO && rc != SO_ENOMEM) {
        abort();
    }
    return 0;
}
