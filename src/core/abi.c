/* abi.c — the sizes of the public structs, for bindings that mirror them in another language (the Python package's
 * ctypes structures check theirs against these before any call, so a library of another layout is refused
 * instead of misread). */
#include <string.h>
#include "signopt.h"

size_t so_sizeof(const char *type_name)
{
    static const struct {
        const char *name;
        size_t size;
    } types[] = {
        {"so_schedule", sizeof(so_schedule)},         {"so_optim_config", sizeof(so_optim_config)},
        {"so_cluster_config", sizeof(so_cluster_config)}, {"so_grad_request", sizeof(so_grad_request)},
        {"so_transport_ops", sizeof(so_transport_ops)}, {"so_tensor", sizeof(so_tensor)},
        {"so_oracle", sizeof(so_oracle)},             {"so_oracle_info", sizeof(so_oracle_info)},
        {"so_eval", sizeof(so_eval)},                 {"so_algo_info", sizeof(so_algo_info)},
    };
    for (size_t i = 0; type_name && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].name, type_name) == 0) return types[i].size;
    return 0;
}
