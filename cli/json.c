/* json.c — JSON through cJSON (see json.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "json.h"

/* Set when an allocation failed while a tree was built: json_text refuses to print a tree with holes. */
static int json_failed;

/* Numbers as raw text that reads back exactly: cJSON prints %.15g when that is within a relative 2^-52 of the value,
 * so 0.68741452693939209 would come back as 0.687414526939392, another double. The shortest %.Ng (N <= 17) that
 * strtod reads back as v is exact and is valid JSON (no leading '.', no '+', no hex). */
cJSON *jnum(double v)
{
    if (!isfinite(v)) return cJSON_CreateNull();
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return cJSON_CreateRaw(buf);
}

cJSON *jnum9(double v)
{
    if (!isfinite(v)) return cJSON_CreateNull();
    char buf[40];
    snprintf(buf, sizeof buf, "%.9g", v);
    return cJSON_CreateRaw(buf);
}

/* Integers as raw digits: cJSON keeps numbers as doubles and prints those beyond int range with %.15g, which
 * would turn seed 18446744073709551615 into 1.84467440737096e+19. */
cJSON *jint(long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return cJSON_CreateRaw(buf);
}

cJSON *juint(unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", v);
    return cJSON_CreateRaw(buf);
}

cJSON *jbool(int v)
{
    return cJSON_CreateBool(v != 0);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one (overlong forms,
 * surrogates and code points above U+10FFFF are invalid too). */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) n = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) n = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, min = 0x10000;
    else return 0;
    unsigned cp = c & (0x3fu >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

/* cJSON escapes quotes, backslashes and control characters but copies other bytes as they are: invalid UTF-8 is
 * replaced here, before the string reaches it. */
cJSON *jstr(const char *s)
{
    if (!s) return cJSON_CreateNull();
    size_t len = strlen(s);
    char *t = malloc(3 * len + 1);
    if (!t) return NULL;
    size_t k = 0;
    for (const unsigned char *u = (const unsigned char *)s; *u;) {
        int n = utf8_len(u);
        if (n == 0) {
            memcpy(t + k, "\xef\xbf\xbd", 3); /* U+FFFD */
            k += 3;
            u++;
        } else {
            memcpy(t + k, u, (size_t)n);
            k += (size_t)n;
            u += n;
        }
    }
    t[k] = '\0';
    cJSON *j = cJSON_CreateString(t);
    free(t);
    return j;
}

void jset(cJSON *o, const char *key, cJSON *v)
{
    if (!o || !v || !cJSON_AddItemToObject(o, key, v)) {
        json_failed = 1;
        cJSON_Delete(v);
    }
}

void jpush(cJSON *a, cJSON *v)
{
    if (!a || !v || !cJSON_AddItemToArray(a, v)) {
        json_failed = 1;
        cJSON_Delete(v);
    }
}

char *json_text(const cJSON *root)
{
    if (json_failed || !root) return NULL;
    char *t = cJSON_Print(root);
    if (!t) return NULL;
    size_t n = strlen(t);
    char *u = realloc(t, n + 2);
    if (!u) {
        free(t);
        return NULL;
    }
    u[n] = '\n';
    u[n + 1] = '\0';
    return u;
}

cJSON *json_read_file(const char *path, size_t max_bytes, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    struct stat st;
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((size_t)st.st_size > max_bytes) {
        snprintf(err, errlen, "%s: %lld bytes, more than the %zu a JSON file here may have", path,
                 (long long)st.st_size, max_bytes);
        close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    ssize_t r = 0;
    while (buf && got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0) got += (size_t)r;
    close(fd);
    if (!buf || r < 0) {
        snprintf(err, errlen, "%s: %s", path, buf ? strerror(errno) : "out of memory");
        free(buf);
        return NULL;
    }
    buf[got] = '\0';
    const char *end = NULL;
    /* the length includes the terminating NUL: cJSON asks for it after the value when require_null_terminated */
    cJSON *j = cJSON_ParseWithLengthOpts(buf, got + 1, &end, 1);
    if (!j) {
        /* cJSON says where parsing stopped: turn the offset into a line number. */
        long line = 1;
        const char *stop = end ? end : cJSON_GetErrorPtr();
        for (const char *p = buf; stop && p < stop && p < buf + got; p++) line += *p == '\n';
        snprintf(err, errlen, "%s:%ld: not valid JSON", path, line);
    }
    free(buf);
    return j;
}

const char *json_get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double json_get_num(const cJSON *o, const char *key, double fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}
