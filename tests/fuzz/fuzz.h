/* fuzz.h — shared by the libFuzzer targets: the loaders under test read files, so each input is written to a
 * per-process scratch file first. */
#ifndef SO_FUZZ_H
#define SO_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Write size bytes to /tmp/signopt-fuzz-PID-TAG and return that path (static storage, one per tag). */
static const char *fuzz_file(const char *tag, const uint8_t *data, size_t size)
{
    static char paths[4][96];
    static int next;
    char *path = paths[next++ & 3];
    snprintf(path, 96, "/tmp/signopt-fuzz-%ld-%s", (long)getpid(), tag);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    return path;
}

#endif
