/* checkpoint.c — writing and verifying the driver's checkpoint files (layout in checkpoint.h). */
#include <sys/stat.h>
#include <errno.h>
#include <math.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "checkpoint.h"

static const char ckpt_magic[8] = {'S', 'I', 'G', 'N', 'O', 'P', 'T', 'C'};
#define ROW_BYTES (13 * 8) /* version 4; 12 * 8 before */

/* dir <- the directory part of path ("." for a bare name); returns the file-name part. */
static const char *split_path(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, n, ".");
    else if (slash == path) snprintf(dir, n, "/");
    else snprintf(dir, n, "%.*s", (int)(slash - path), path);
    return slash ? slash + 1 : path;
}

static void sync_dir(const char *path)
{
    char dir[4096];
    split_path(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY);
    if (fd < 0) return;
    fsync(fd);
    close(fd);
}

/* Removes PATH.tmp.PID files left by writers that were killed mid-write (PID no longer running). They were never
 * renamed into place, so nothing reads them; this only keeps them from piling up. A PID that is alive, or that
 * this process may not signal (EPERM: someone else's live process), is left alone. */
static void remove_stale_temps(const char *path)
{
    char dir[4096], pattern[4096];
    const char *base = split_path(path, dir, sizeof dir);
    int plen = snprintf(pattern, sizeof pattern, "%s.tmp.", base);
    if (plen <= 0 || (size_t)plen >= sizeof pattern) return;
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (strncmp(e->d_name, pattern, (size_t)plen) != 0) continue;
        char *end;
        errno = 0;
        long pid = strtol(e->d_name + plen, &end, 10);
        if (errno || *end || end == e->d_name + plen || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char full[8192];
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, e->d_name) < sizeof full) remove(full);
    }
    closedir(dp);
}

int so__write_atomic(const char *path, const void *data, size_t size)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    if (!tmp) return so_error(SO_ENOMEM, "%s: out of memory", path);
    /* Same directory as the target, so rename() is atomic (no cross-device move). */
    snprintf(tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int rc = so_error(SO_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    int ok = fwrite(data, 1, size, f) == size;
    ok = ok && fflush(f) == 0;
    ok = ok && fsync(fileno(f)) == 0;
    int err = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        remove(tmp);
        free(tmp);
        return so_error(SO_EIO, "%s: write failed: %s", path, strerror(err));
    }
    if (rename(tmp, path) != 0) {
        int rc = so_error(SO_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    /* The rename lives in the directory: sync it too, so that after a power loss the name points at the new
     * file rather than at nothing. A directory that cannot be opened for reading is not an error: the data is
     * already durable and POSIX does not promise that directories can be synced. */
    sync_dir(path);
    remove_stale_temps(path);
    return SO_OK;
}

/* A growing byte buffer; the checkpoint is assembled in memory, then written in one go. */
typedef struct wbuf {
    unsigned char *p;
    size_t len, cap;
    int failed;
} wbuf;

static void put(wbuf *b, const void *src, size_t n)
{
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) { b->failed = 1; return; }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(wbuf *b, uint64_t v) { put(b, &v, 8); }
static void put_i64(wbuf *b, int64_t v) { put(b, &v, 8); }
static void put_f64(wbuf *b, double v) { put(b, &v, 8); }

int so__ckpt_write(const char *path, const so_ckpt *c)
{
    wbuf b = {0};
    char algo[32] = {0};
    snprintf(algo, sizeof algo, "%s", c->algo);
    put(&b, ckpt_magic, 8);
    put_u32(&b, SO_CKPT_VERSION);
    put_u32(&b, 0);
    put(&b, algo, 32);
    put_u64(&b, c->d);
    put_i64(&b, c->step);
    put_u64(&b, c->seed);
    put_f64(&b, c->g_linf);
    put_f64(&b, c->wall_s);
    put_i64(&b, c->tau_step);
    put_i64(&b, c->skipped);
    put_u64(&b, c->nrows);
    /* version 3: the caller's configuration text */
    put_u64(&b, c->meta_len);
    if (c->meta_len) put(&b, c->meta, c->meta_len);
    put_f64(&b, c->eval_s); /* version 4 */
    for (size_t i = 0; i < c->nrows; i++) {
        const so_metrics_row *r = &c->rows[i];
        put_u64(&b, r->seed);
        put_i64(&b, r->step);
        put_f64(&b, r->epoch);
        put_f64(&b, r->loss);
        put_f64(&b, r->train_acc);
        put_f64(&b, r->test_acc);
        put_f64(&b, r->grad_l1);
        put_f64(&b, r->grad_l2);
        put_f64(&b, r->g_linf);
        put_u64(&b, r->bits_up);
        put_u64(&b, r->bits_down);
        put_f64(&b, r->wall_s);
        put_f64(&b, r->train_s); /* version 4 */
    }
    put(&b, c->x, c->d * sizeof(float));
    if (c->tau_step > 0) put(&b, c->x_tau, c->d * sizeof(float));
    put_u64(&b, c->state_size);
    if (c->state_size) put(&b, c->state, c->state_size);
    if (!b.failed) {
        uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
        /* zlib's crc32 takes a uInt length: feed large buffers in pieces. */
        for (size_t off = 0; off < b.len;) {
            size_t n = b.len - off > (1u << 30) ? (1u << 30) : b.len - off;
            crc = (uint32_t)crc32(crc, b.p + off, (uInt)n);
            off += n;
        }
        put_u32(&b, crc);
    }
    if (b.failed) {
        free(b.p);
        return so_error(SO_ENOMEM, "%s: out of memory assembling the checkpoint", path);
    }
    int rc = so__write_atomic(path, b.p, b.len);
    free(b.p);
    return rc;
}

/* A bounds-checked reader over the loaded file. */
typedef struct rbuf {
    const unsigned char *p;
    size_t len, off;
    int short_read;
} rbuf;

static void get(rbuf *b, void *dst, size_t n)
{
    if (b->short_read || n > b->len - b->off) {
        b->short_read = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, b->p + b->off, n);
    b->off += n;
}

static uint64_t get_u64(rbuf *b) { uint64_t v; get(b, &v, 8); return v; }
static int64_t get_i64(rbuf *b) { int64_t v; get(b, &v, 8); return v; }
static double get_f64(rbuf *b) { double v; get(b, &v, 8); return v; }

void so__ckpt_free(so_ckpt *c)
{
    free(c->meta);
    free(c->rows);
    free(c->x);
    free(c->x_tau);
    free(c->state);
    memset(c, 0, sizeof *c);
}

static int read_file(const char *path, unsigned char **data, size_t *size)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) return so_error(SO_EIO, "%s: not a regular file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return so_error(SO_EIO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *p = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            unsigned char *q = realloc(p, cap);
            if (!q) { free(p); fclose(f); return so_error(SO_ENOMEM, "%s: out of memory", path); }
            p = q;
        }
        size_t got = fread(p + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err) { free(p); return so_error(SO_EIO, "%s: cannot read: %s", path, strerror(err)); }
    *data = p;
    *size = len;
    return SO_OK;
}

int so__ckpt_read(const char *path, so_ckpt *c)
{
    memset(c, 0, sizeof *c);
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = read_file(path, &data, &len);
    if (rc != SO_OK) return rc;
    rbuf b = {data, len, 0, 0};
    char magic[8];
    rc = SO_OK;
    if (len < 8 + 8 + 32 + 24 + 40 + 8 + 4) {
        rc = so_error(SO_EFORMAT, "%s: not a signopt checkpoint (%zu bytes, too short)", path, len);
        goto done;
    }
    get(&b, magic, 8);
    if (memcmp(magic, ckpt_magic, 8) != 0) {
        rc = so_error(SO_EFORMAT, "%s: not a signopt checkpoint (bad magic at byte 0)", path);
        goto done;
    }
    uint32_t version, pad, stored_crc;
    get(&b, &version, 4);
    get(&b, &pad, 4);
    if (version != SO_CKPT_VERSION && (version < 2 || version > SO_CKPT_VERSION)) {
        rc = so_error(SO_EFORMAT, "%s: checkpoint version %u, this build reads versions 2 to %u", path, version,
                      SO_CKPT_VERSION);
        goto done;
    }
    memcpy(&stored_crc, data + len - 4, 4);
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    for (size_t off = 0; off < len - 4;) {
        size_t n = len - 4 - off > (1u << 30) ? (1u << 30) : len - 4 - off;
        crc = (uint32_t)crc32(crc, data + off, (uInt)n);
        off += n;
    }
    if (crc != stored_crc) {
        rc = so_error(SO_EFORMAT, "%s: checkpoint is corrupt or truncated (CRC-32 %08x, stored %08x)", path, crc, stored_crc);
        goto done;
    }
    b.len = len - 4;
    get(&b, c->algo, 32);
    c->algo[31] = '\0';
    c->d = get_u64(&b);
    c->step = (long)get_i64(&b);
    c->seed = get_u64(&b);
    c->g_linf = get_f64(&b);
    c->wall_s = get_f64(&b);
    c->tau_step = (long)get_i64(&b);
    c->skipped = (long)get_i64(&b);
    c->nrows = (size_t)get_u64(&b);
    if (version >= 3) {
        c->meta_len = (size_t)get_u64(&b);
        if (b.short_read || c->meta_len > b.len - b.off) {
            rc = so_error(SO_EFORMAT, "%s: checkpoint header is inconsistent with its size", path);
            goto done;
        }
        c->meta = malloc(c->meta_len + 1);
        if (!c->meta) { rc = so_error(SO_ENOMEM, "%s: out of memory", path); goto done; }
        get(&b, c->meta, c->meta_len);
        c->meta[c->meta_len] = '\0';
    }
    if (version >= 4) c->eval_s = get_f64(&b);
    size_t row_bytes = version >= 4 ? ROW_BYTES : 12 * 8;
    /* Sizes come from the file: check them against what is left before allocating. */
    if (b.short_read || c->nrows > (b.len - b.off) / row_bytes || c->d > (b.len - b.off) / sizeof(float) ||
        c->step < 0 || c->tau_step < 0 || c->tau_step > c->step || c->skipped < 0 || c->skipped > c->step) {
        rc = so_error(SO_EFORMAT, "%s: checkpoint header is inconsistent with its size", path);
        goto done;
    }
    /* Before version 5 the field was the number of steps before the kept iterate (1..step; it drew from the
     * iterates after steps 1..T); from 5 it is the papers' index tau (x_1 the start), one more. */
    const int old_tau = version < 5 && c->tau_step > 0;
    if (old_tau) c->tau_step += 1;
    c->rows = calloc(c->nrows ? c->nrows : 1, sizeof *c->rows);
    c->x = malloc((c->d ? c->d : 1) * sizeof(float));
    c->x_tau = malloc((c->d ? c->d : 1) * sizeof(float));
    if (!c->rows || !c->x || !c->x_tau) { rc = so_error(SO_ENOMEM, "%s: out of memory", path); goto done; }
    for (size_t i = 0; i < c->nrows; i++) {
        so_metrics_row *r = &c->rows[i];
        r->seed = get_u64(&b);
        r->step = (long)get_i64(&b);
        r->epoch = get_f64(&b);
        r->loss = get_f64(&b);
        r->train_acc = get_f64(&b);
        r->test_acc = get_f64(&b);
        r->grad_l1 = get_f64(&b);
        r->grad_l2 = get_f64(&b);
        r->g_linf = get_f64(&b);
        r->bits_up = get_u64(&b);
        r->bits_down = get_u64(&b);
        r->wall_s = get_f64(&b);
        r->train_s = version >= 4 ? get_f64(&b) : NAN;
    }
    get(&b, c->x, c->d * sizeof(float));
    if (c->tau_step > 0) get(&b, c->x_tau, c->d * sizeof(float));
    (void)old_tau;
    c->state_size = (size_t)get_u64(&b);
    if (b.short_read || c->state_size != b.len - b.off) {
        rc = so_error(SO_EFORMAT, "%s: checkpoint is truncated or has trailing bytes (offset %zu)", path, b.off);
        goto done;
    }
    c->state = malloc(c->state_size ? c->state_size : 1);
    if (!c->state) { rc = so_error(SO_ENOMEM, "%s: out of memory", path); goto done; }
    get(&b, c->state, c->state_size);
done:
    free(data);
    if (rc != SO_OK) so__ckpt_free(c);
    return rc;
}

int so_checkpoint_meta(const char *path, char **text)
{
    if (!path || !text) return so_error(SO_EINVAL, "so_checkpoint_meta: NULL argument");
    *text = NULL;
    so_ckpt c;
    int rc = so__ckpt_read(path, &c);
    if (rc != SO_OK) return rc;
    *text = c.meta ? c.meta : calloc(1, 1);
    c.meta = NULL;
    so__ckpt_free(&c);
    return *text ? SO_OK : so_error(SO_ENOMEM, "%s: out of memory", path);
}
