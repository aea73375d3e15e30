/* blas.c — the one process-wide setting the library offers and never changes by itself: OpenBLAS's thread count
 * for the models' matrix products (see so_blas_set_threads in signopt/core.h); and which kernels it runs. */
#include <cblas.h>
#include "signopt/core.h"

int so_blas_set_threads(int n)
{
    if (n < 1) return so_error(SO_EINVAL, "blas threads must be >= 1, got %d", n);
    openblas_set_num_threads(n);
    return SO_OK;
}

const char *so_blas_core(void)
{
    const char *name = openblas_get_corename();
    return name ? name : "unknown";
}
