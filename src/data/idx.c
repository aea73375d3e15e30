/* idx.c — IDX (MNIST format) images and labels, gzip or raw, read through zlib's gzread (which passes raw files
 * through unchanged). Every byte the header promises is checked to be there and nothing after it; a failure
 * names the file and the byte offset (into the uncompressed stream) and leaves the output empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "signopt/data.h"

#define IDX_MAGIC_IMAGES 0x00000803u /* unsigned bytes, 3 dimensions: count x rows x cols */
#define IDX_MAGIC_LABELS 0x00000801u /* unsigned bytes, 1 dimension: count */
#define IDX_CHUNK 65536
#define MNIST_CLASSES 10

typedef struct idx_file {
    gzFile gz;
    const char *path;
    size_t offset; /* uncompressed bytes consumed so far */
} idx_file;

static int idx_open(idx_file *f, const char *path)
{
    f->path = path;
    f->offset = 0;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) return so_error(SO_EIO, "%s: not a regular file", path);
    f->gz = gzopen(path, "rb");
    if (!f->gz) return so_error(SO_EIO, "%s: cannot open", path);
    return SO_OK;
}

/* zlib's message starts with the path ("PATH: invalid code lengths set"); ours names the path already. */
static const char *zlib_reason(const idx_file *f, const char *msg)
{
    size_t len = strlen(f->path);
    if (!msg) return "zlib error";
    if (strncmp(msg, f->path, len) == 0 && msg[len] == ':' && msg[len + 1] == ' ') return msg + len + 2;
    return msg;
}

/* Read up to len bytes; *got receives how many arrived. A zlib error (corrupt deflate data, bad CRC) is a
 * format error at the current offset; a short count just means the stream ended. */
static int idx_read(idx_file *f, void *buf, size_t len, size_t *got)
{
    *got = 0;
    while (*got < len) {
        size_t want = len - *got;
        if (want > IDX_CHUNK) want = IDX_CHUNK;
        int r = gzread(f->gz, (unsigned char *)buf + *got, (unsigned)want);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(f->gz, &zerr);
            if (zerr == Z_ERRNO) return so_error(SO_EIO, "%s: offset %zu: read failed", f->path, f->offset);
            return so_error(SO_EFORMAT, "%s: offset %zu: expected a valid gzip stream (%s)", f->path, f->offset,
                            zlib_reason(f, msg));
        }
        if (r == 0) {
            /* gzread reports a stream cut short as end of file with Z_BUF_ERROR; that is a truncation too. */
            int zerr;
            const char *msg = gzerror(f->gz, &zerr);
            if (zerr != Z_OK && zerr != Z_BUF_ERROR)
                return so_error(SO_EFORMAT, "%s: offset %zu: expected a valid gzip stream (%s)", f->path,
                                f->offset, zlib_reason(f, msg));
            break;
        }
        *got += (size_t)r;
        f->offset += (size_t)r;
    }
    return SO_OK;
}

/* Read exactly len bytes of `what`, or fail naming where the data ran out. */
static int idx_read_exact(idx_file *f, void *buf, size_t len, const char *what)
{
    size_t start = f->offset, got;
    int rc = idx_read(f, buf, len, &got);
    if (rc) return rc;
    if (got < len)
        return so_error(SO_EFORMAT, "%s: offset %zu: expected %zu bytes of %s from offset %zu, file ends", f->path,
                        f->offset, len, what, start);
    return SO_OK;
}

static int idx_read_u32(idx_file *f, uint32_t *v, const char *what)
{
    unsigned char b[4];
    int rc = idx_read_exact(f, b, 4, what);
    if (rc) return rc;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
    return SO_OK;
}

/* The header promises a size; anything after it means the file is not what the header says. */
static int idx_expect_end(idx_file *f)
{
    unsigned char extra;
    size_t got, end = f->offset;
    int rc = idx_read(f, &extra, 1, &got);
    if (rc) return rc;
    if (got)
        return so_error(SO_EFORMAT, "%s: offset %zu: expected end of file after the data the header promises, "
                        "found more bytes", f->path, end);
    return SO_OK;
}

static int idx_header(idx_file *f, uint32_t magic, uint32_t *dims, int ndim)
{
    uint32_t m;
    int rc = idx_read_u32(f, &m, "header");
    if (rc) return rc;
    if (m != magic)
        return so_error(SO_EFORMAT, "%s: offset 0: expected magic 0x%08x (IDX, unsigned bytes, %d dimension%s), "
                        "found 0x%08x", f->path, magic, ndim, ndim == 1 ? "" : "s", m);
    for (int k = 0; k < ndim; k++) {
        size_t at = f->offset;
        if ((rc = idx_read_u32(f, &dims[k], "header"))) return rc;
        if (dims[k] == 0)
            return so_error(SO_EFORMAT, "%s: offset %zu: expected dimension %d to be at least 1, found 0",
                            f->path, at, k);
    }
    return SO_OK;
}

/* Pixels are read in chunks and scaled as they arrive, so no second copy of the image bytes is held. */
static int idx_read_images(idx_file *f, float *x, size_t total)
{
    unsigned char *buf = malloc(IDX_CHUNK);
    if (!buf) return so_error(SO_ENOMEM, "%s: out of memory", f->path);
    int rc = SO_OK;
    size_t start = f->offset;
    for (size_t done = 0; done < total && !rc;) {
        size_t want = total - done < IDX_CHUNK ? total - done : IDX_CHUNK, got;
        rc = idx_read(f, buf, want, &got);
        if (!rc && got < want)
            rc = so_error(SO_EFORMAT, "%s: offset %zu: expected %zu bytes of pixel data from offset %zu "
                          "(as the header promises), file ends", f->path, f->offset, total, start);
        for (size_t i = 0; !rc && i < got; i++) x[done + i] = (float)buf[i] / 255.0f;
        done += got;
    }
    free(buf);
    return rc;
}

static int idx_read_labels(idx_file *f, int32_t *y, size_t n)
{
    unsigned char *buf = malloc(n);
    if (!buf) return so_error(SO_ENOMEM, "%s: out of memory", f->path);
    size_t start = f->offset;
    int rc = idx_read_exact(f, buf, n, "labels");
    for (size_t i = 0; !rc && i < n; i++) {
        if (buf[i] >= MNIST_CLASSES)
            rc = so_error(SO_EFORMAT, "%s: offset %zu: expected a label in 0..%d, found %u", f->path, start + i,
                          MNIST_CLASSES - 1, (unsigned)buf[i]);
        else
            y[i] = buf[i];
    }
    free(buf);
    return rc;
}

int so_idx_load(so_dataset *out, const char *images_path, const char *labels_path)
{
    if (!out || !images_path || !labels_path) return so_error(SO_EINVAL, "so_idx_load: NULL argument");
    memset(out, 0, sizeof *out);
    so_dataset ds = {0};
    idx_file im = {0}, lb = {0};
    uint32_t idims[3], ldims[1];
    int rc = idx_open(&im, images_path);
    if (!rc) rc = idx_open(&lb, labels_path);
    if (!rc) rc = idx_header(&im, IDX_MAGIC_IMAGES, idims, 3);
    if (!rc) rc = idx_header(&lb, IDX_MAGIC_LABELS, ldims, 1);
    if (!rc && ldims[0] != idims[0])
        rc = so_error(SO_EFORMAT, "%s: offset 4: expected %u labels (as many as images in %s), header says %u",
                      labels_path, idims[0], images_path, ldims[0]);
    if (!rc) {
        ds.n = idims[0];
        ds.height = (int)idims[1];
        ds.width = (int)idims[2];
        ds.channels = 1;
        ds.dim = (size_t)idims[1] * idims[2];
        ds.classes = MNIST_CLASSES;
        if (ds.dim > SIZE_MAX / sizeof(float) / ds.n || idims[1] > INT32_MAX || idims[2] > INT32_MAX)
            rc = so_error(SO_EFORMAT, "%s: offset 4: expected a size that fits in memory, header says %u x %u x %u",
                          images_path, idims[0], idims[1], idims[2]);
    }
    /* The sizes come from the file: before allocating for them, check that the file can hold them. Deflate
     * expands at most 1032:1, so a file of S bytes, raw or gzip, holds at most 1032 S bytes of pixels. */
    struct stat st;
    if (!rc && stat(images_path, &st) == 0 && ds.n * ds.dim / 1032 > (size_t)st.st_size)
        rc = so_error(SO_EFORMAT, "%s: offset 4: header says %u x %u x %u bytes, more than a file of %lld bytes "
                      "can hold", images_path, idims[0], idims[1], idims[2], (long long)st.st_size);
    if (!rc) {
        ds.x = malloc(ds.n * ds.dim * sizeof(float));
        ds.y = malloc(ds.n * sizeof(int32_t));
        if (!ds.x || !ds.y) rc = so_error(SO_ENOMEM, "%s: out of memory for %zu images", images_path, ds.n);
    }
    if (!rc) rc = idx_read_images(&im, ds.x, ds.n * ds.dim);
    if (!rc) rc = idx_expect_end(&im);
    if (!rc) rc = idx_read_labels(&lb, ds.y, ds.n);
    if (!rc) rc = idx_expect_end(&lb);
    if (im.gz) gzclose(im.gz);
    if (lb.gz) gzclose(lb.gz);
    if (rc) {
        so_dataset_free(&ds);
        return rc;
    }
    *out = ds;
    return SO_OK;
}

/* dir/name.gz if it exists, else dir/name (raw). Returns a malloc'd path, or NULL on allocation failure. */
static char *mnist_path(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 8;
    char *p = malloc(len);
    if (!p) return NULL;
    snprintf(p, len, "%s/%s.gz", dir, name);
    FILE *f = fopen(p, "rb");
    if (f) {
        fclose(f);
        return p;
    }
    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

static int mnist_pair(so_dataset *out, const char *dir, const char *prefix)
{
    char images[64], labels[64];
    snprintf(images, sizeof images, "%s-images-idx3-ubyte", prefix);
    snprintf(labels, sizeof labels, "%s-labels-idx1-ubyte", prefix);
    char *ip = mnist_path(dir, images), *lp = mnist_path(dir, labels);
    int rc = ip && lp ? so_idx_load(out, ip, lp) : so_error(SO_ENOMEM, "%s: out of memory", dir);
    free(ip);
    free(lp);
    return rc;
}

int so_mnist_load(so_dataset *train, so_dataset *test, const char *dir_or_name)
{
    if (!train || !test || !dir_or_name) return so_error(SO_EINVAL, "so_mnist_load: NULL argument");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    const char *dir = strcmp(dir_or_name, "fashion-mnist") == 0 ? "/usr/share/datasets/fashion-mnist" : dir_or_name;
    int rc = mnist_pair(train, dir, "train");
    if (rc) return rc;
    rc = mnist_pair(test, dir, "t10k");
    if (rc) {
        so_dataset_free(train);
        return rc;
    }
    if (test->dim != train->dim) {
        rc = so_error(SO_EFORMAT, "%s: test images are %dx%d but training images are %dx%d", dir, test->height,
                      test->width, train->height, train->width);
        so_dataset_free(train);
        so_dataset_free(test);
    }
    return rc;
}
