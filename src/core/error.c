/* error.c — the per-thread error message behind so_errmsg(). The library reports, the CLI prints. */
#include <stdarg.h>
#include <stdio.h>
#include "signopt/core.h"

static _Thread_local char error_message[512];
static _Thread_local int error_code;

const char *so_errmsg(void) { return error_message; }
int so_errcode(void) { return error_code; }

int so_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    error_code = code;
    return code;
}

const char *so_version(void) { return SO_VERSION; }
