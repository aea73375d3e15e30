#!/bin/sh
# test_threads.sh — one seed gives one result whatever the thread counts: --threads (OpenMP: the models' chunks,
# the in-process workers, the kernels) and OPENBLAS_NUM_THREADS (OpenBLAS, whose sgemm differs in the last bits
# between 1 and 2 threads, so signopt pins it to one). Every metrics column but wall_s and train_s must be
# identical with 1, 2 and 3 threads (3: chunks that do not divide evenly among the threads), for every model and
# for the in-process cluster's two reductions (sign votes and the ordered fp32 sum).
B=${BUILD:-build}
S="$B/signopt"
pass=0; fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
same() { # name file1 file2 file3
    cut -d, -f1-11 "$2/metrics.csv" >"$tmp/a" 2>/dev/null
    ok=1
    [ -s "$tmp/a" ] || ok=0
    for other in "$3" "$4"; do
        cut -d, -f1-11 "$other/metrics.csv" >"$tmp/b" 2>/dev/null && cmp -s "$tmp/a" "$tmp/b" || ok=0
    done
    if [ "$ok" -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: rows differ" >&2
        diff "$tmp/a" "$tmp/b" | head -4 >&2; fi
}
# A small cut of the real Fashion-MNIST (600 training, 300 test images), so the cnn's evaluations stay short:
# IDX headers written here (magic, count, 28, 28), the pixels and labels taken from the Debian files.
FM=/usr/share/datasets/fashion-mnist
cut_idx() { # set count
    mkdir -p "$tmp/fm"
    n=$2
    be=$(printf '\\%03o\\%03o\\%03o\\%03o' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)))
    { printf '\000\000\010\003'; printf "$be"; printf '\000\000\000\034\000\000\000\034'
      gzip -dc "$FM/$1-images-idx3-ubyte.gz" | tail -c +17 | head -c $((n * 784)); } >"$tmp/fm/$1-images-idx3-ubyte"
    { printf '\000\000\010\001'; printf "$be"
      gzip -dc "$FM/$1-labels-idx1-ubyte.gz" | tail -c +9 | head -c "$n"; } >"$tmp/fm/$1-labels-idx1-ubyte"
}
cut_idx train 600
cut_idx t10k 300
mlp="--problem mlp --train-limit 2000 --steps 6 --eval-every 3 --quiet"
cnn="--problem cnn --data $tmp/fm --steps 4 --eval-every 2 --quiet"
for t in 1 2 3; do
    "$S" train $mlp --algo mv-signum --workers 4 --batch 16 --threads $t --out "$tmp/dist$t" >/dev/null 2>&1
    OPENBLAS_NUM_THREADS=$t "$S" train $mlp --algo adamw --batch 64 --threads $t --out "$tmp/single$t" >/dev/null 2>&1
    OPENBLAS_NUM_THREADS=$t "$S" train --problem charlm --train-limit 20000 --steps 3 --eval-every 3 --batch 10 \
        --algo signum --threads $t --quiet --out "$tmp/lm$t" >/dev/null 2>&1
    # batch 18: chunks of 4, 4, 4, 4 and 2 rows
    "$S" train $cnn --algo signum --batch 18 --threads $t --out "$tmp/cnn$t" >/dev/null 2>&1
    "$S" train $cnn --algo dist-sgdm --lr 0.01 --workers 3 --batch 12 --threads $t --out "$tmp/cnnfp$t" >/dev/null 2>&1
    "$S" train $cnn --algo mv-signum --workers 3 --batch 12 --threads $t --out "$tmp/cnnmv$t" >/dev/null 2>&1
done
same "mlp mv-signum 4 workers, --threads 1, 2, 3" "$tmp/dist1" "$tmp/dist2" "$tmp/dist3"
same "mlp adamw, BLAS and OpenMP threads 1, 2, 3" "$tmp/single1" "$tmp/single2" "$tmp/single3"
same "charlm signum batch 10, BLAS and OpenMP threads 1, 2, 3" "$tmp/lm1" "$tmp/lm2" "$tmp/lm3"
same "cnn signum batch 18, --threads 1, 2, 3" "$tmp/cnn1" "$tmp/cnn2" "$tmp/cnn3"
same "cnn dist-sgdm 3 workers (ordered fp32 sum), --threads 1, 2, 3" "$tmp/cnnfp1" "$tmp/cnnfp2" "$tmp/cnnfp3"
same "cnn mv-signum 3 workers, --threads 1, 2, 3" "$tmp/cnnmv1" "$tmp/cnnmv2" "$tmp/cnnmv3"
echo "threads: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
