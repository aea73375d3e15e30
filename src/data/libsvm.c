/* libsvm.c — LIBSVM / SVMlight text files ("label idx:val idx:val ... # comment") into CSR rows.
 *
 * Every token is checked: a label that is not an integer, an index that is not a positive integer, indices not
 * strictly ascending, a value that is not a finite number (or overflows float), a missing ':' — each fails with
 * SO_EFORMAT "FILE:LINE: expected ...". Blank lines and '#' comments are skipped, CRLF line ends accepted, an
 * SVMlight "qid:N" token ignored. Lines are read with getline, so no line is too long. */
#include <sys/stat.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "signopt/data.h"

/* Class ids above this are taken as a mistake (a regression target, say) rather than a class count to allocate. */
#define LIBSVM_MAX_CLASSES 100000

typedef struct csr_builder {
    size_t n, nnz, cap_rows, cap_nnz;
    size_t *row_ptr; /* cap_rows + 1 entries */
    double *label;   /* cap_rows entries */
    size_t *line;    /* cap_rows entries: each row's line in the file, for messages */
    uint32_t *col;   /* cap_nnz entries */
    float *val;      /* cap_nnz entries */
} csr_builder;

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

static int add_row(csr_builder *b, double label, size_t line)
{
    if (b->n == b->cap_rows) {
        size_t cap = b->cap_rows ? 2 * b->cap_rows : 1024;
        size_t *rp = realloc(b->row_ptr, (cap + 1) * sizeof *rp);
        if (rp) b->row_ptr = rp;
        double *lb = realloc(b->label, cap * sizeof *lb);
        if (lb) b->label = lb;
        size_t *ln = realloc(b->line, cap * sizeof *ln);
        if (ln) b->line = ln;
        if (!rp || !lb || !ln) return 0;
        b->cap_rows = cap;
    }
    b->label[b->n] = label;
    b->line[b->n] = line;
    b->row_ptr[b->n] = b->nnz;
    b->n++;
    b->row_ptr[b->n] = b->nnz;
    return 1;
}

static int add_entry(csr_builder *b, uint32_t col, float val)
{
    if (b->nnz == b->cap_nnz) {
        size_t cap = b->cap_nnz ? 2 * b->cap_nnz : 4096;
        uint32_t *c = realloc(b->col, cap * sizeof *c);
        if (c) b->col = c;
        float *v = realloc(b->val, cap * sizeof *v);
        if (v) b->val = v;
        if (!c || !v) return 0;
        b->cap_nnz = cap;
    }
    b->col[b->nnz] = col;
    b->val[b->nnz] = val;
    b->nnz++;
    b->row_ptr[b->n] = b->nnz;
    return 1;
}

/* Parse one line (already cut at '#'); adds a row unless the line is blank. */
static int parse_line(csr_builder *b, char *s, const char *path, size_t line, size_t dim, size_t max_dim)
{
    while (is_space(*s)) s++;
    if (!*s) return SO_OK;
    char *end;
    errno = 0;
    double label = strtod(s, &end);
    if (end == s || (*end && !is_space(*end)) || errno == ERANGE || !isfinite(label) || label != floor(label)
        || fabs(label) > LIBSVM_MAX_CLASSES)
        return so_error(SO_EFORMAT, "%s:%zu: expected an integer class label, found '%.*s'", path, line,
                        (int)strcspn(s, " \t\r\n"), s);
    if (!add_row(b, label, line)) return so_error(SO_ENOMEM, "%s:%zu: out of memory", path, line);
    unsigned long prev = 0;
    s = end;
    for (;;) {
        while (is_space(*s)) s++;
        if (!*s) break;
        char *tok = s;
        int toklen = (int)strcspn(tok, " \t\r\n\v\f");
        if (strncmp(tok, "qid:", 4) == 0) {
            s += toklen;
            continue;
        }
        if (*tok < '0' || *tok > '9')
            return so_error(SO_EFORMAT, "%s:%zu: expected INDEX:VALUE with a positive integer index, found '%.*s'",
                            path, line, toklen, tok);
        errno = 0;
        unsigned long idx = strtoul(tok, &end, 10);
        if (*end != ':')
            return so_error(SO_EFORMAT, "%s:%zu: expected INDEX:VALUE (a ':' after the index), found '%.*s'", path,
                            line, toklen, tok);
        if (errno == ERANGE || idx == 0 || idx > UINT32_MAX)
            return so_error(SO_EFORMAT, "%s:%zu: expected an index in 1..%u, found '%.*s'", path, line,
                            (unsigned)UINT32_MAX, toklen, tok);
        if (idx <= prev)
            return so_error(SO_EFORMAT, "%s:%zu: expected indices strictly ascending, found %lu after %lu", path,
                            line, idx, prev);
        if (dim && idx > dim)
            return so_error(SO_EFORMAT, "%s:%zu: expected an index <= %zu (the dimension given), found %lu", path,
                            line, dim, idx);
        /* The largest index is the model's dimension: bounded, so two lines of text cannot ask for gigabytes. */
        if (!dim && idx > max_dim)
            return so_error(SO_EFORMAT, "%s:%zu: index %lu is beyond the dimension limit %zu (max_dim, the command's "
                            "--max-dim: the model keeps several floats per feature)", path, line, idx, max_dim);
        char *vs = end + 1;
        errno = 0;
        double v = strtod(vs, &end);
        /* strtod skips leading blanks; "3: 1" is a missing value, not a value. ERANGE on underflow is fine. */
        int overflow = errno == ERANGE && fabs(v) > 1.0;
        if (end == vs || is_space(*vs) || (*end && !is_space(*end)) || overflow || !isfinite(v)
            || !isfinite((float)v))
            return so_error(SO_EFORMAT, "%s:%zu: expected a finite number after '%lu:', found '%.*s'", path, line,
                            idx, toklen, tok);
        if (!add_entry(b, (uint32_t)(idx - 1), (float)v))
            return so_error(SO_ENOMEM, "%s:%zu: out of memory", path, line);
        prev = idx;
        s = end;
    }
    return SO_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The distinct labels of a file, sorted: the classes it defines. */
static int label_set(const csr_builder *b, double **set, size_t *k, const char *path)
{
    double *s = malloc(b->n * sizeof *s);
    if (!s) return so_error(SO_ENOMEM, "%s: out of memory", path);
    memcpy(s, b->label, b->n * sizeof *s);
    qsort(s, b->n, sizeof *s, cmp_double);
    size_t m = 0;
    for (size_t i = 0; i < b->n; i++)
        if (m == 0 || s[i] != s[m - 1]) s[m++] = s[i];
    *set = s;
    *k = m;
    return SO_OK;
}

/* Labels to 0..classes-1 by the classes of the training file (set[0..k), sorted): two distinct labels -> smaller
 * 0, larger 1 (covers +-1, 0/1, 1/2, 2/4); one label -> the +-1 / 0/1 reading (-1 and 0 are class 0, anything else
 * class 1); more -> non-negative class ids, kept as they are when the smallest is 0, shifted down by one when it
 * is 1 or more (LIBSVM's 1-based ids). A test file is mapped with its training file's classes, and a label that
 * file never has is an error naming the line: each file mapped on its own would turn test labels {1} against
 * training labels {1,2} into class 1 of the test but class 0 of the training. */
static int map_labels(int32_t *y, int *classes, const csr_builder *b, const char *path, const double *set, size_t k,
                      const char *train_path)
{
    if (k > 2 && set[0] < 0)
        return so_error(SO_EFORMAT, "%s: expected non-negative class ids with more than two classes, found %g",
                        train_path ? train_path : path, set[0]);
    double shift = k > 2 && set[0] >= 1 ? 1 : 0;
    for (size_t i = 0; i < b->n; i++) {
        double l = b->label[i];
        if (train_path && !bsearch(&l, set, k, sizeof *set, cmp_double))
            return so_error(SO_EFORMAT, "%s:%zu: label %g does not occur in the training file %s", path, b->line[i],
                            l, train_path);
        y[i] = k == 1 ? !(l == -1.0 || l == 0.0) : k == 2 ? l == set[1] : (int32_t)(l - shift);
    }
    *classes = k <= 2 ? 2 : (int)(set[k - 1] - shift) + 1;
    return SO_OK;
}

static void builder_free(csr_builder *b)
{
    free(b->row_ptr);
    free(b->col);
    free(b->val);
    free(b->label);
    free(b->line);
    memset(b, 0, sizeof *b);
}

/* Read a file into b (rows, raw labels, line numbers). */
static int libsvm_read(csr_builder *b, const char *path, size_t dim, size_t max_dim)
{
    memset(b, 0, sizeof *b);
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) return so_error(SO_EIO, "%s: not a regular file", path);
    FILE *f = fopen(path, "r");
    if (!f) return so_error(SO_EIO, "%s: cannot open", path);
    char *buf = NULL;
    size_t cap = 0, line = 0;
    ssize_t len;
    int rc = SO_OK;
    while (!rc && (len = getline(&buf, &cap, f)) >= 0) {
        line++;
        if (memchr(buf, '\0', (size_t)len))
            rc = so_error(SO_EFORMAT, "%s:%zu: expected text, found a NUL byte", path, line);
        char *hash = strchr(buf, '#');
        if (hash) *hash = '\0';
        if (!rc) rc = parse_line(b, buf, path, line, dim, max_dim);
    }
    if (!rc && ferror(f)) rc = so_error(SO_EIO, "%s:%zu: read failed", path, line + 1);
    free(buf);
    fclose(f);
    if (!rc && b->n == 0)
        rc = so_error(SO_EFORMAT, "%s:%zu: expected at least one labelled row, found none", path, line);
    if (rc) builder_free(b);
    return rc;
}

/* b's rows into a dataset of dimension dim (0: the largest index), labels mapped by set (see map_labels). */
static int to_dataset(so_dataset *out, csr_builder *b, size_t dim, const char *path, const double *set, size_t k,
                      const char *train_path)
{
    so_dataset d = {0};
    int rc = SO_OK;
    d.n = b->n;
    d.row_ptr = b->row_ptr;
    d.col = b->col ? b->col : malloc(sizeof *d.col);
    d.val = b->val ? b->val : malloc(sizeof *d.val);
    b->row_ptr = NULL, b->col = NULL, b->val = NULL;
    d.y = malloc(d.n * sizeof *d.y);
    if (!d.y || !d.col || !d.val) rc = so_error(SO_ENOMEM, "%s: out of memory", path);
    if (!rc) {
        d.dim = dim;
        for (size_t k2 = 0; !dim && k2 < b->nnz; k2++)
            if (d.col[k2] + (size_t)1 > d.dim) d.dim = d.col[k2] + (size_t)1;
        if (d.dim == 0) rc = so_error(SO_EFORMAT, "%s: expected at least one feature, found none", path);
    }
    if (!rc) rc = map_labels(d.y, &d.classes, b, path, set, k, train_path);
    if (rc) {
        so_dataset_free(&d);
        return rc;
    }
    *out = d;
    return SO_OK;
}

int so_libsvm_load_pair(so_dataset *train, so_dataset *test, const char *train_path, const char *test_path,
                        size_t max_dim)
{
    if (!train || !train_path || (test_path && !test))
        return so_error(SO_EINVAL, "so_libsvm_load_pair: NULL argument");
    memset(train, 0, sizeof *train);
    if (test) memset(test, 0, sizeof *test);
    if (max_dim == 0) max_dim = SO_DEFAULT_MAX_DIM;
    if (max_dim > (size_t)UINT32_MAX) max_dim = UINT32_MAX;
    csr_builder bt, bs;
    double *set = NULL;
    size_t k = 0;
    int rc = libsvm_read(&bt, train_path, 0, max_dim);
    if (rc) return rc;
    rc = label_set(&bt, &set, &k, train_path);
    if (!rc) rc = to_dataset(train, &bt, 0, train_path, set, k, NULL);
    builder_free(&bt);
    if (!rc && test_path) {
        rc = libsvm_read(&bs, test_path, train->dim, max_dim);
        if (!rc) rc = to_dataset(test, &bs, train->dim, test_path, set, k, train_path);
        if (!rc) test->classes = train->classes;
        builder_free(&bs);
        if (rc) so_dataset_free(train);
    }
    free(set);
    return rc;
}

int so_libsvm_load(so_dataset *out, const char *path, size_t dim)
{
    if (!out || !path) return so_error(SO_EINVAL, "so_libsvm_load: NULL argument");
    memset(out, 0, sizeof *out);
    if (dim > (size_t)UINT32_MAX) return so_error(SO_EINVAL, "%s: dimension %zu exceeds 2^32 - 1", path, dim);
    csr_builder b;
    double *set = NULL;
    size_t k = 0;
    int rc = libsvm_read(&b, path, dim, SO_DEFAULT_MAX_DIM);
    if (rc) return rc;
    rc = label_set(&b, &set, &k, path);
    if (!rc) rc = to_dataset(out, &b, dim, path, set, k, NULL);
    builder_free(&b);
    free(set);
    return rc;
}
