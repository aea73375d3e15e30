#!/bin/sh
# test_threads.sh — one seed gives one result whatever the thread counts: --threads (OpenMP workers and kernels) and
# OPENBLAS_NUM_THREADS (OpenBLAS, whose sgemm differs in the last bits between 1 and 2 threads, so signopt pins it
# to one). Every metrics column but wall_s must be identical, for the models that use BLAS.
B=${BUILD:-build}
S="$B/signopt"
pass=0; fail=0
tmp=$(mktemp -d) || exit 1
same() { # name dirA dirB
    if cut -d, -f1-11 "$2/metrics.csv" >"$tmp/a" && cut -d, -f1-11 "$3/metrics.csv" >"$tmp/b" && cmp -s "$tmp/a" "$tmp/b"
    then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: rows differ" >&2; diff "$tmp/a" "$tmp/b" | head -4 >&2; fi
}
mlp="--problem mlp --train-limit 2000 --steps 6 --eval-every 3 --quiet"
for t in 1 2; do
    "$S" train $mlp --algo mv-signum --workers 4 --batch 16 --threads $t --out "$tmp/dist$t" >/dev/null 2>&1
    OPENBLAS_NUM_THREADS=$t "$S" train $mlp --algo adamw --batch 64 --threads $t --out "$tmp/single$t" >/dev/null 2>&1
    OPENBLAS_NUM_THREADS=$t "$S" train --problem charlm --train-limit 20000 --steps 3 --eval-every 3 --batch 4 \
        --algo signum --threads $t --quiet --out "$tmp/lm$t" >/dev/null 2>&1
done
same "mlp mv-signum 4 workers, --threads 1 vs 2" "$tmp/dist1" "$tmp/dist2"
same "mlp adamw, BLAS and OpenMP threads 1 vs 2" "$tmp/single1" "$tmp/single2"
same "charlm signum, BLAS and OpenMP threads 1 vs 2" "$tmp/lm1" "$tmp/lm2"
rm -rf "$tmp"
echo "threads: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
