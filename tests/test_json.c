/* test_json.c — what signopt writes as JSON reads back as written: strings of arbitrary bytes (quotes,
 * backslashes, control characters, invalid UTF-8) come back as valid UTF-8 with exactly the invalid bytes replaced
 * by U+FFFD; finite doubles come back bit for bit, non-finite ones as null; integers of any size as their digits.
 * The reader here is cJSON's parser plus an independent UTF-8 check written for this test; the inputs are drawn
 * from signopt's counter-based generator with a fixed key (the same cases every run). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../cli/json.c"
#include "signopt.h"
#include "test.h"

/* A strict UTF-8 validator (Unicode 15, table 3-7), independent of json.c's. */
static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) k = 1;
        else if (c == 0xe0) k = 2, lo = 0xa0;
        else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) k = 2;
        else if (c == 0xed) k = 2, hi = 0x9f;
        else if (c == 0xf0) k = 3, lo = 0x90;
        else if (c >= 0xf1 && c <= 0xf3) k = 3;
        else if (c == 0xf4) k = 3, hi = 0x8f;
        else return 0;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n) return 0;
            unsigned b = s[i + j];
            if (b < (j == 1 ? lo : 0x80) || b > (j == 1 ? hi : 0xbf)) return 0;
        }
        i += k + 1;
    }
    return 1;
}

/* Expected text of a string: maximal valid sequences kept, every other byte U+FFFD (json.c's rule, restated:
 * a byte is kept when it starts a complete valid sequence). */
static size_t expect_text(const unsigned char *s, size_t n, unsigned char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t len = 0;
        for (size_t m = 1; m <= 4 && i + m <= n; m++)
            if (valid_utf8(s + i, m)) { len = m; break; }
        if (len == 0) {
            memcpy(out + k, "\xef\xbf\xbd", 3);
            k += 3;
            i++;
        } else {
            memcpy(out + k, s + i, len);
            k += len;
            i += len;
        }
    }
    return k;
}

static void test_strings_round_trip(void)
{
    unsigned char in[64], want[256];
    int bad = 0;
    for (int t = 0; t < 20000 && bad < 5; t++) {
        so_rng r;
        so_rng_init(&r, 7, 0, (uint32_t)t, 0);
        size_t n = 1 + so_rng_u32(&r) % 40;
        for (size_t i = 0; i < n; i++) {
            uint32_t u = so_rng_u32(&r);
            /* mostly the bytes that matter: ASCII specials, continuation bytes, lead bytes */
            static const unsigned char pick[] = {'"', '\\', '\n', 0x01, 0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xa9, 0xe2,
                                                 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0x80, 0xf4, 0x90, 0xff};
            in[i] = u % 3 ? pick[(u >> 8) % sizeof pick] : (unsigned char)(0x20 + (u >> 8) % 95);
            if (in[i] == 0) in[i] = 'x';
        }
        in[n] = 0;
        cJSON *o = cJSON_CreateObject();
        jset(o, "s", jstr((const char *)in));
        char *text = json_text(o);
        cJSON_Delete(o);
        CHECK(text != NULL, "printing failed");
        if (!text) return;
        int ok = valid_utf8((const unsigned char *)text, strlen(text));
        cJSON *back = cJSON_Parse(text);
        const char *s = json_get_str(back, "s");
        size_t wl = expect_text(in, n, want);
        ok = ok && s && strlen(s) == wl && memcmp(s, want, wl) == 0;
        if (!ok) {
            bad++;
            CHECK(0, "case %d: '%s' did not read back (valid UTF-8 %d)", t, text,
                  valid_utf8((const unsigned char *)text, strlen(text)));
        }
        cJSON_Delete(back);
        free(text);
    }
}

static void test_numbers_round_trip(void)
{
    int bad = 0;
    for (int t = 0; t < 200000 && bad < 5; t++) {
        so_rng r;
        so_rng_init(&r, 7, 1, (uint32_t)t, 0);
        uint64_t bits = ((uint64_t)so_rng_u32(&r) << 32) | so_rng_u32(&r);
        double v;
        if (t % 4 == 0) v = (double)(float)((double)so_rng_u32(&r) / 4294967296.0); /* float data */
        else if (t % 4 == 1) v = (double)(int64_t)(bits >> 12) * (t & 8 ? 1 : -1);   /* integers */
        else memcpy(&v, &bits, sizeof v);                                          /* any double */
        cJSON *o = cJSON_CreateObject();
        jset(o, "v", jnum(v));
        char *text = json_text(o);
        cJSON_Delete(o);
        cJSON *back = text ? cJSON_Parse(text) : NULL;
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(back, "v");
        /* -0.0 may come back as 0: equal as numbers, which is what JSON promises */
        int ok = isfinite(v) ? cJSON_IsNumber(item) && item->valuedouble == v : cJSON_IsNull(item);
        /* and Python's reading, which parses the same text: strtod of the printed number */
        if (ok && isfinite(v)) {
            const char *p = strstr(text, ":");
            ok = p && strtod(p + 1, NULL) == v;
        }
        if (!ok) {
            bad++;
            CHECK(0, "case %d: %.17g printed as %s", t, v, text ? text : "(null)");
        }
        cJSON_Delete(back);
        free(text);
    }
}

static void test_integers_exact(void)
{
    cJSON *o = cJSON_CreateObject();
    jset(o, "seed", juint(18446744073709551615ull));
    jset(o, "step", jint(-9007199254740993ll));
    char *text = json_text(o);
    cJSON_Delete(o);
    CHECK(text && strstr(text, "18446744073709551615") && strstr(text, "-9007199254740993"), "%s", text);
    cJSON *back = text ? cJSON_Parse(text) : NULL;
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(back, "seed")), "the digits parse as a JSON number");
    cJSON_Delete(back);
    free(text);
}

/* json_read_file: a document reads back; a broken one names its file and line; an oversized one is refused. */
static void test_read_file(void)
{
    char path[64], err[600];
    snprintf(path, sizeof path, "/tmp/signopt-json-%ld.json", (long)getpid());
    FILE *f = fopen(path, "w");
    if (f) fputs("{\n  \"a\": [1, 2.5],\n  \"b\": \"x\"\n}\n", f), fclose(f);
    cJSON *j = json_read_file(path, 1 << 20, err, sizeof err);
    CHECK(j && json_get_str(j, "b") && strcmp(json_get_str(j, "b"), "x") == 0, "read back: %s", j ? "" : err);
    cJSON_Delete(j);
    j = json_read_file(path, 10, err, sizeof err);
    CHECK(!j && strstr(err, "more than the 10"), "size bound: %s", err);
    f = fopen(path, "w");
    if (f) fputs("{\n  \"a\": 1,\n  \"b\": ]\n}\n", f), fclose(f);
    j = json_read_file(path, 1 << 20, err, sizeof err);
    CHECK(!j && strstr(err, ":3: not valid JSON"), "broken: %s", err);
    remove(path);
}

int main(void)
{
    RUN(test_strings_round_trip);
    RUN(test_numbers_round_trip);
    RUN(test_integers_exact);
    RUN(test_read_file);
    return test_report("json");
}
