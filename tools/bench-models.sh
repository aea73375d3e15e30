#!/bin/sh
# bench-models.sh — the models' speed against PyTorch, side by side in one run (docs/bench_models.md, issue 19):
# for 1 and 2 threads, bench/models.c (signopt) and tools/bench_models_torch.py (PyTorch) on
#   mlp    one epoch of Fashion-MNIST at batch 32 (1875 SGD steps), best of 3
#   cnn    one epoch at batch 32, 1 run
#   cnn64  the cnn at the seed's 64/64 channels, 300 steps at batch 32, 1 run
#   charlm 500 steps at batch 16 of the character GPT (torch: the same architecture on random text), best of 2
# and a 50-worker in-process mlp round (signopt train --algo mv-signum --workers 50, 200 rounds, train_s).
# Writes OUT/raw.txt (every line the programs printed) and OUT/table.md. OUT: docs/results/models.
# Run it on a quiet machine; both sides see the same environment (OPENBLAS_CORETYPE included).
set -u
OUT=${OUT:-docs/results/models}
B=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
mkdir -p "$OUT"
make -s "$B/libsignopt.a" "$B/signopt" >/dev/null || exit 1
mpicc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -fopenmp -Iinclude -I/usr/include/x86_64-linux-gnu/openblas-pthread \
    bench/models.c -Wl,--whole-archive "$B/libsignopt.a" -Wl,--no-whole-archive -lopenblas -lz -lm \
    -o "$B/bench_models" || exit 1
raw="$OUT/raw.txt.tmp"
{
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC') commit $(git rev-parse --short HEAD) OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
    echo "# $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw"
vocab=$("$B/bench_models" --model charlm --steps 1 --batch 16 | sed -n 's/.* vocab \([0-9]*\).*/\1/p')
for t in 1 2; do
    for side in signopt torch; do
        if [ $side = signopt ]; then run() { "$B/bench_models" --threads $t "$@"; }
        else run() { "$PY" tools/bench_models_torch.py --threads $t --vocab "$vocab" "$@"; }; fi
        run --model mlp --repeats 3 >>"$raw"
        run --model cnn --repeats 1 >>"$raw"
        run --model cnn64 --steps 300 --repeats 1 >>"$raw"
        run --model charlm --batch 16 --steps 500 --repeats 2 >>"$raw"
    done
    d=$(mktemp -d)
    "$B/signopt" train --problem mlp --algo mv-signum --workers 50 --batch 32 --steps 200 --eval-every 200 \
        --threads $t --quiet --out "$d/r" >/dev/null 2>&1
    echo "signopt round50 threads $t: $(tail -n 1 "$d/r/metrics.csv" | awk -F, '{print $NF}') s train_s" >>"$raw"
    rm -rf "$d"
done
mv -f "$raw" "$OUT/raw.txt"
# The table: seconds per model and thread count for both sides, their ratio, and 2 threads over 1.
awk '
/^(signopt|torch) / {
    side = $1; model = $2; t = $4; sub(/:/, "", t)
    for (i = 1; i <= NF; i++) if ($i ~ /^s\/epoch$/ || $i == "s") { v = $(i - 1); break }
    sec[side, model, t] = v; seen[model] = 1
}
END {
    print "| model | threads | signopt s | torch s | signopt / torch | signopt 2T / 1T |"
    print "| --- | --- | --- | --- | --- | --- |"
    n = split("mlp cnn cnn64 charlm round50", order, " ")
    for (k = 1; k <= n; k++) {
        m = order[k]; if (!(m in seen)) continue
        for (t = 1; t <= 2; t++) {
            s = sec["signopt", m, t]; p = sec["torch", m, t]
            r = (p != "") ? sprintf("%.2f", s / p) : "-"
            q = (t == 2 && sec["signopt", m, 1] != "") ? sprintf("%.2f", s / sec["signopt", m, 1]) : ""
            printf "| %s | %d | %s | %s | %s | %s |\n", m, t, s, (p != "" ? p : "-"), r, q
        }
    }
}' "$OUT/raw.txt" >"$OUT/table.md.tmp" && mv -f "$OUT/table.md.tmp" "$OUT/table.md"
cat "$OUT/raw.txt" "$OUT/table.md"
