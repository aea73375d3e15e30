#!/usr/bin/python3
"""make_data_fixtures.py — write the small data-loader fixtures under tests/fixtures/data/.

Written with struct/gzip only, independently of the C loaders they test. The expected values (pixels, labels)
go to plain text files next to them so that tests/test_data.c compares against what this script wrote.
Run from the repository root: /usr/bin/python3 tools/make_data_fixtures.py
"""
import gzip
import os
import struct

OUT = "tests/fixtures/data"
FMNIST = "/usr/share/datasets/fashion-mnist"


def put(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def put_gz(name, data):
    # mtime=0: the same bytes on every run, so the committed files only change when their content does.
    put(name, gzip.compress(data, mtime=0))


def idx_images(pixels, n, rows, cols, magic=0x00000803):
    return struct.pack(">IIII", magic, n, rows, cols) + bytes(pixels)


def idx_labels(labels, magic=0x00000801):
    return struct.pack(">II", magic, len(labels)) + bytes(labels)


def tiny(n, rows, cols, salt):
    """Pixel bytes that cover 0 and 255 and differ per image, row and column."""
    px = [(i * 53 + r * 29 + c * 7 + salt) % 256 for i in range(n) for r in range(rows) for c in range(cols)]
    px[0], px[-1] = 0, 255
    return px


def write_idx():
    n, rows, cols = 5, 4, 3
    px = tiny(n, rows, cols, 0)
    labels = [3, 0, 9, 1, 7]
    images = idx_images(px, n, rows, cols)
    lab = idx_labels(labels)
    put("tiny-images-idx3-ubyte", images)
    put("tiny-labels-idx1-ubyte", lab)
    put_gz("tiny-images-idx3-ubyte.gz", images)
    put_gz("tiny-labels-idx1-ubyte.gz", lab)
    with open(os.path.join(OUT, "tiny-expected.txt"), "w") as f:
        f.write("# n rows cols, then the labels, then each image's bytes row-major (value/255 is the pixel)\n")
        f.write("%d %d %d\n" % (n, rows, cols))
        f.write(" ".join(map(str, labels)) + "\n")
        for i in range(n):
            f.write(" ".join(map(str, px[i * rows * cols:(i + 1) * rows * cols])) + "\n")

    # Corrupt files: each breaks one promise. Offsets (into the uncompressed bytes) are stated for the test.
    put("bad-magic-images-idx3-ubyte", idx_images(px, n, rows, cols, magic=0x00000802))
    put("bad-magic-labels-idx1-ubyte", idx_labels(labels, magic=0x00000803))
    put("truncated-images-idx3-ubyte", images[:16 + 50])           # 60 pixel bytes promised, 50 present
    put_gz("truncated-images-idx3-ubyte.gz", images[:16 + 50])
    put("short-header-images-idx3-ubyte", images[:10])             # header itself cut at offset 10
    put("trailing-images-idx3-ubyte", images + b"\x00\x01")        # two bytes more than promised
    put("trailing-labels-idx1-ubyte", lab + b"\x05")
    put("count-labels-idx1-ubyte", idx_labels(labels[:4]))          # 4 labels for 5 images
    put("truncated-labels-idx1-ubyte", lab[:8 + 3])                 # 5 labels promised, 3 present
    put("label12-labels-idx1-ubyte", idx_labels([3, 0, 9, 12, 7]))  # label 12 at offset 8 + 3 = 11
    put("zero-rows-images-idx3-ubyte", struct.pack(">IIII", 0x803, n, 0, cols))
    # A gzip header followed by bytes that are not a deflate stream.
    header = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3])
    put("garbage-images-idx3-ubyte.gz", header + bytes((i * 97 + 13) % 256 for i in range(64)))
    # A valid gzip stream cut in half: the compressed data runs out.
    whole = gzip.compress(images, mtime=0)
    put("cut-images-idx3-ubyte.gz", whole[:len(whole) // 2])

    # A folder in the MNIST layout: train gzip'd, t10k raw, to test the .gz-then-raw lookup.
    os.makedirs(os.path.join(OUT, "mnist-dir"), exist_ok=True)
    tr_px, te_px = tiny(6, 2, 2, 11), tiny(3, 2, 2, 101)
    put_gz("mnist-dir/train-images-idx3-ubyte.gz", idx_images(tr_px, 6, 2, 2))
    put_gz("mnist-dir/train-labels-idx1-ubyte.gz", idx_labels([0, 1, 2, 3, 4, 5]))
    put("mnist-dir/t10k-images-idx3-ubyte", idx_images(te_px, 3, 2, 2))
    put("mnist-dir/t10k-labels-idx1-ubyte", idx_labels([9, 8, 7]))


def write_libsvm():
    sparse = ("# a comment line\n"
              "+1 1:0.5 3:-2 10:1e-3\n"
              "-1 2:4\n"
              "\n"
              "+1 # a row with no features\n"
              "-1 1:1 2:2.5 3:3 # trailing comment\n")
    put("sparse.svm", sparse.encode())
    put("sparse-crlf.svm", sparse.replace("\n", "\r\n").encode())
    put("dense01.svm", b"0 1:1 2:2 3:3\n1 1:-1 2:0.25 3:1e2\n1 1:0 2:0 3:-0.5\n")
    put("multiclass.svm", b"1 1:1\n3 2:1\n2 1:2 2:2\n3 1:3\n")
    put("binary24.svm", b"2 1:1\n4 1:2\n4 1:3\n")
    # Invalid files: the bad token is on the line named in the file name's comment and in test_data.c.
    bad = {
        "bad-value.svm": "+1 1:1\n-1 1:abc\n",                  # line 2
        "bad-index0.svm": "+1 1:1\n+1 2:1\n-1 0:1 2:3\n",        # line 3
        "bad-descending.svm": "+1 1:1 3:1 2:1\n",                # line 1
        "bad-duplicate.svm": "# c\n+1 2:1 2:1\n",                # line 2
        "bad-nan.svm": "+1 1:1\n\n-1 1:nan\n",                   # line 3
        "bad-inf.svm": "+1 1:inf\n",                             # line 1
        "bad-overflow.svm": "+1 1:1\n+1 1:1e39\n",               # line 2: beyond float
        "bad-colon.svm": "+1 1:1\n-1 1:1 5\n",                   # line 2: no ':'
        "bad-empty-value.svm": "+1 1:\n",                        # line 1
        "bad-junk-value.svm": "+1 1:1\n+1 1:1\n+1 1:2x\n",       # line 3
        "bad-negative-index.svm": "+1 -3:1\n",                   # line 1
        "bad-label.svm": "+1 1:1\nabc 1:1\n",                    # line 2
        "bad-fraction-label.svm": "+1 1:1\n0.5 1:1\n",           # line 2
        "bad-crlf-value.svm": "+1 1:1\r\n-1 2:x\r\n",            # line 2
    }
    for name, text in bad.items():
        put(name, text.encode())


def write_fashion_summary():
    """Facts read from the real Fashion-MNIST files with Python's gzip, for the loader test to match."""
    if not os.path.isdir(FMNIST):
        return
    with open(os.path.join(OUT, "fashion-mnist-summary.txt"), "w") as out:
        out.write("# split n rows cols, first 10 labels, byte sum of image 0, byte sum of the last image\n")
        for split in ("train", "t10k"):
            im = gzip.open(os.path.join(FMNIST, split + "-images-idx3-ubyte.gz")).read()
            lb = gzip.open(os.path.join(FMNIST, split + "-labels-idx1-ubyte.gz")).read()
            _, n, rows, cols = struct.unpack(">IIII", im[:16])
            size = rows * cols
            first, last = im[16:16 + size], im[16 + (n - 1) * size:16 + n * size]
            out.write("%s %d %d %d %s %d %d\n" % (split, n, rows, cols, " ".join(str(b) for b in lb[8:18]),
                                                  sum(first), sum(last)))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_idx()
    write_libsvm()
    write_fashion_summary()
