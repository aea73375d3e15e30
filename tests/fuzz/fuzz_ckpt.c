/* fuzz_ckpt.c — libFuzzer target for the checkpoint reader (so__ckpt_read). A random input almost never has the
 * right CRC-32, which would stop every input at the checksum: when the first byte is odd the target drops it and
 * writes the correct CRC over the last four bytes, so the parser behind the checksum is fuzzed too. */
#include <string.h>
#include <zlib.h>
#include "../../src/run/checkpoint.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int fix_crc = data[0] & 1;
    data++;
    size--;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    if (fix_crc && size >= 4) {
        uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(size - 4));
        memcpy(buf + size - 4, &crc, 4);
    }
    const char *path = fuzz_file("ckpt", buf, size);
    free(buf);
    so_ckpt c;
    int rc = so__ckpt_read(path, &c);
    if (rc == SO_OK) {
        /* Touch every byte the reader claims to own: ASan catches a size that lies. */
        volatile float s = 0;
        for (size_t i = 0; i < c.d; i++) s += c.x[i];
        if (c.tau_step > 0)
            for (size_t i = 0; i < c.d; i++) s += c.x_tau[i];
        volatile unsigned char u = 0;
        for (size_t i = 0; i < c.state_size; i++) u ^= c.state[i];
        for (size_t i = 0; i < c.nrows; i++) s += (float)c.rows[i].loss;
        if (c.algo[31] != '\0') abort();
        so__ckpt_free(&c);
    } else if (rc != SO_EFORMAT && rc != SO_EIO && rc != SO_ENOMEM) {
        abort();
    }
    return 0;
}
