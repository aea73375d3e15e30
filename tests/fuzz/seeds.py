#!/usr/bin/env python3
"""seeds.py - writes the text and IDX seed corpora under tests/fuzz/corpus/ (run from the repository root).
Checkpoint seeds are real checkpoints from build/signopt; optimizer/cluster states come from seeds.c."""
import gzip, os, struct, subprocess

C = "tests/fuzz/corpus"

def put(target, name, data):
    os.makedirs(f"{C}/{target}", exist_ok=True)
    with open(f"{C}/{target}/{name}", "wb") as f:
        f.write(data)

# IDX: 2-byte little-endian length of the images file, then images, then labels (as fuzz_idx.c splits them).
def idx_pair(n, rows, cols, zipped):
    img = struct.pack(">IIII", 0x803, n, rows, cols) + bytes((i * 37) % 256 for i in range(n * rows * cols))
    lab = struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n))
    if zipped:
        img, lab = gzip.compress(img, mtime=0), gzip.compress(lab, mtime=0)
    return struct.pack("<H", len(img)) + img + lab

put("idx", "raw-3x2x2", idx_pair(3, 2, 2, False))
put("idx", "gz-2x3x3", idx_pair(2, 3, 3, True))
put("idx", "raw-1x1x1", idx_pair(1, 1, 1, False))

# LIBSVM: first byte is dim (0: inferred).
put("libsvm", "binary", b"\x00+1 1:0.5 3:-1\n-1 2:2.5e-1 4:1\n# comment\n\n+1 qid:3 1:1\r\n")
put("libsvm", "multiclass-dim8", b"\x08" + b"1 1:1 8:2\n2 2:3\n3 5:0.125 6:1e3\n")
put("libsvm", "zero-one", b"\x00" + b"0 1:1\n1 1:-1 2:0\n")

# --config files.
put("config", "basic", b"# a config\nproblem = quadratic\nalgo = signum\nlr = 0.01\nbeta = 0.9\nsteps = 10\n")
put("config", "dist", b"algo = mv-signsgd\nworkers = 4\nties = random\nbyzantine = 1:flip\ndropout = 0.1\n"
    b"split = dirichlet:0.5\nnoise = pareto:1.5:1\nlr-schedule = step:10,20:0.5\n")
put("config", "flags", b"--quiet = true\nforce = false\nseeds = 3\neval-every = auto\nthreads = 2\n"
    b"lr-schedule = warmup:5,cosine\nmomentum-init = first-grad\non-nan = skip\n")
put("config", "theory", b"algo = signsgd\nlr-schedule = theory:001-thm1\nL = 2\ntheory-c = 0.5\nnoise = student:3:1\n")

# Checkpoints from real runs; the first byte tells fuzz_ckpt.c whether to recompute the CRC (odd: yes).
for algo, extra in (("signum", []), ("adamw", []), ("mv-signum", ["--workers", "3"])):
    path = f"/tmp/signopt-seed-{algo}.ckpt"
    subprocess.run(["build/signopt", "train", "--problem", "quadratic", "--dim", "5", "--algo", algo, "--steps", "4",
                    "--eval-every", "2", "--noise", "gauss:1", "--checkpoint", path, "--quiet"] + extra,
                   check=True, stdout=subprocess.DEVNULL)
    data = open(path, "rb").read()
    os.remove(path)
    put("ckpt", f"{algo}-as-is", b"\x00" + data)
    put("ckpt", f"{algo}-crc-fixed", b"\x01" + data)
