/* corpus.c — the text the `charlm` problem trains on: one file, or every text file of a directory (by default the
 * Debian `fortunes` package's /usr/share/games/fortunes), as byte tokens over the corpus's own alphabet.
 * The last 10% of the characters is held out; train_limit keeps only the first N training characters. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lm.h"

typedef struct text_buf {
    uint8_t *data;
    size_t n, cap;
} text_buf;

static int append_file(text_buf *buf, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return so_error(SO_EIO, "charlm: cannot open '%s': %s", path, strerror(errno));
    for (;;) {
        if (buf->cap - buf->n < 65536) {
            size_t cap = buf->cap ? 2 * buf->cap : 1 << 20;
            uint8_t *d = realloc(buf->data, cap);
            if (!d) {
                fclose(f);
                return so_error(SO_ENOMEM, "charlm: out of memory reading '%s'", path);
            }
            buf->data = d;
            buf->cap = cap;
        }
        size_t got = fread(buf->data + buf->n, 1, buf->cap - buf->n, f);
        buf->n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return so_error(SO_EIO, "charlm: read error in '%s'", path);
    return SO_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every regular file of dir whose name has no leading '.' and is not a fortune index (.dat) or the .u8
 * symbolic link to a file already read, in byte order of the names so the corpus never depends on readdir. */
static int append_dir(text_buf *buf, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return so_error(SO_EIO, "charlm: cannot open directory '%s': %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = SO_OK;
    struct dirent *e;
    while (rc == SO_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || ends_with(e->d_name, ".dat") || ends_with(e->d_name, ".u8")) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) { rc = so_error(SO_ENOMEM, "charlm: out of memory listing '%s'", dir); break; }
            names = nn;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) { rc = so_error(SO_ENOMEM, "charlm: out of memory listing '%s'", dir); break; }
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (rc == SO_OK) qsort(names, n, sizeof *names, cmp_names);
    size_t used = 0;
    for (size_t i = 0; i < n && rc == SO_OK; i++) {
        struct stat st;
        if (lstat(names[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
        rc = append_file(buf, names[i]);
        used++;
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (rc == SO_OK && used == 0) rc = so_error(SO_EIO, "charlm: no text files in '%s'", dir);
    return rc;
}

int so__lm_corpus_load(so__lm_corpus *c, const char *path, size_t train_limit)
{
    memset(c, 0, sizeof *c);
    if (!path || strcmp(path, "fortunes") == 0) path = SO_LM_FORTUNES_DIR;
    struct stat st;
    if (stat(path, &st) != 0) return so_error(SO_EIO, "charlm: cannot open '%s': %s", path, strerror(errno));
    text_buf buf = { 0 };
    int rc = S_ISDIR(st.st_mode) ? append_dir(&buf, path) : append_file(&buf, path);
    if (rc == SO_OK && buf.n == 0) rc = so_error(SO_EFORMAT, "charlm: '%s' holds no text", path);
    if (rc != SO_OK) {
        free(buf.data);
        return rc;
    }
    /* The alphabet is every byte value present anywhere in the corpus (held-out part included, so no held-out
     * character is unknown), numbered in byte order. */
    int id_of[256], present[256] = { 0 };
    for (size_t i = 0; i < buf.n; i++) present[buf.data[i]] = 1;
    for (int v = 0; v < 256; v++) {
        id_of[v] = present[v] ? c->vocab : -1;
        if (present[v]) c->byte_of[c->vocab++] = (uint8_t)v;
    }
    for (size_t i = 0; i < buf.n; i++) buf.data[i] = (uint8_t)id_of[buf.data[i]];
    c->tokens = buf.data;
    c->n = buf.n;
    c->test_start = buf.n - buf.n / 10;
    c->n_train = c->test_start;
    if (train_limit > 0 && train_limit < c->n_train) c->n_train = train_limit;
    return SO_OK;
}

void so__lm_corpus_free(so__lm_corpus *c)
{
    free(c->tokens);
    memset(c, 0, sizeof *c);
}
