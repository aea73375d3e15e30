/* fuzz_json.c — libFuzzer target for the JSON round trip (cli/json.c over cJSON): the input's first 8 bytes are a
 * double, the rest a string; both are written into a document, printed, parsed back and checked: the text is valid
 * UTF-8, the string comes back with only its invalid bytes replaced, the double comes back equal (null when not
 * finite). Then the raw input itself is handed to the reader (json_read_file): any bytes, never a crash. */
#include <math.h>
#include <string.h>
#include "../../cli/json.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    double v = 0;
    if (size >= 8) memcpy(&v, data, 8);
    size_t n = size >= 8 ? size - 8 : 0;
    char *s = malloc(n + 1);
    if (!s) return 0;
    memcpy(s, data + (size - n), n);
    s[n] = '\0';
    cJSON *o = cJSON_CreateObject();
    jset(o, "v", jnum(v));
    jset(o, "s", jstr(s));
    char *text = json_text(o);
    cJSON_Delete(o);
    if (!text) abort();
    cJSON *back = cJSON_Parse(text);
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(back, "v");
    const char *bs = json_get_str(back, "s");
    if (!back || !bs) abort();
    if (isfinite(v) ? !cJSON_IsNumber(iv) || iv->valuedouble != v : !cJSON_IsNull(iv)) abort();
    /* every byte of the string that was valid UTF-8 and not NUL-cut survives: the lengths can only grow (U+FFFD
     * is 3 bytes for 1) and ASCII bytes come back in order */
    size_t sl = strlen(s), bl = strlen(bs), k = 0;
    if (bl < sl) abort();
    for (size_t i = 0; i < sl; i++)
        if ((unsigned char)s[i] < 0x80) {
            while (k < bl && bs[k] != s[i]) k++;
            if (k == bl) abort();
            k++;
        }
    cJSON_Delete(back);
    free(text);
    free(s);
    char err[512];
    cJSON *r = json_read_file(fuzz_file("json", data, size), 1 << 20, err, sizeof err);
    cJSON_Delete(r);
    return 0;
}
