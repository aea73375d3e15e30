/* json.h — the JSON signopt writes and reads goes through Debian's cJSON (libcjson): trees built here, printed by
 * the library, written atomically; read back with a size bound and an error naming the file and line. Numbers are
 * the shortest text that reads back as the same double (cJSON's own printing may not); strings are made valid
 * UTF-8 first. */
#ifndef SIGNOPT_CLI_JSON_H
#define SIGNOPT_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* A number, or null when v is NaN or infinite (JSON has neither). */
cJSON *jnum(double v);
/* A number rounded to 9 significant digits, as metrics.csv writes it, so the two files agree digit for digit. */
cJSON *jnum9(double v);
/* An exact integer (a seed, a step, a bit count): written as its decimal digits, whatever its size. */
cJSON *jint(long long v);
cJSON *juint(unsigned long long v);
/* A string; a byte that is not part of valid UTF-8 (a Latin-1 path) becomes U+FFFD. */
cJSON *jstr(const char *s);
cJSON *jbool(int v);
/* Add v under key to object o (a NULL v, out of memory, marks the tree failed: json_text then returns NULL). */
void jset(cJSON *o, const char *key, cJSON *v);
/* Append v to array a. */
void jpush(cJSON *a, cJSON *v);
/* The tree's text (indented, with a final newline), or NULL when building it ran out of memory. free() it. */
char *json_text(const cJSON *root);
/* Write root to path atomically; 0, or 1 after a one-line message prefixed by cmd (in output.c, beside
 * write_file_atomic, so this file depends on cJSON alone and tests can compile it on its own). */
int json_write_file(const char *cmd, const char *path, const cJSON *root);
/* Read and parse a JSON file of at most max_bytes; NULL with a message in err ("FILE:LINE: ...") on failure. */
cJSON *json_read_file(const char *path, size_t max_bytes, char *err, size_t errlen);
/* Member lookups that tolerate a missing or wrongly typed member: NULL / the fallback. */
const char *json_get_str(const cJSON *o, const char *key);
double json_get_num(const cJSON *o, const char *key, double fallback);

#endif
