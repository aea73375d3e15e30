#!/bin/sh
# run-demo.sh — the demo behind `make run`: an MLP (784-64-64-10) on Fashion-MNIST, 8 workers with a
# Dirichlet(1) label-skewed split, comparing majority-vote sign methods against uncompressed momentum SGD and a
# single-node AdamW baseline, 3 seeds each. Writes runs/demo/<algo>/{metrics.csv,summary.json}, prints a table
# (also runs/demo/table.md), and plots with `signopt plot` to runs/demo/demo.png (against step) and
# runs/demo/demo-bits.png (against bits sent up per worker).
#
# Learning rates, from a one-seed `signopt sweep` at these settings (200 steps) over {3e-4, 1e-3, 3e-3, 1e-2}
# (sign methods, adamw) and {0.01, 0.03, 0.1, 0.3} (dist-sgdm), taking the lowest final training loss:
#   mv-signsgd 3e-3, mv-signum 3e-3 (beta 0.9), mvsm-v2 3e-3 (beta 0.9): a sign step moves every coordinate by
#   the rate, so the rate is a per-coordinate step size; 1e-2 already overshoots;
#   dist-sgdm 0.1 (beta 0.9; 0.3 diverges to chance accuracy);
#   adamw 1e-2 (weight decay 0; the top of its grid, 3e-3 is within 5% of it).
# AdamW runs on one worker with batch 8 x 16 = 128, so every method sees the same samples per step.
# Usage: tools/run-demo.sh [path/to/signopt] (env STEPS, SEEDS, OUT override the defaults).
S=${1:-build/signopt}
OUT=${OUT:-runs/demo}
STEPS=${STEPS:-250}
SEEDS=${SEEDS:-3}
# One thread per run: at this size (batch 16 per worker) the threads of a round wait on each other more than they
# work, and a single thread was several times faster here. Results do not depend on it.
THREADS=${THREADS:-1}
EVAL=$((STEPS / 10))
[ "$EVAL" -ge 1 ] || EVAL=1
if [ ! -x "$S" ]; then echo "run-demo: no signopt binary at $S (run make first)" >&2; exit 1; fi
mkdir -p "$OUT" || exit 1

common="--problem mlp --data fashion-mnist --steps $STEPS --eval-every $EVAL --seeds $SEEDS --threads $THREADS --quiet --force"
dist="--workers 8 --split dirichlet:1 --batch 16"
# algo | flags
runs="mv-signsgd|$dist --lr 3e-3
mv-signum|$dist --lr 3e-3 --beta 0.9
mvsm-v2|$dist --lr 3e-3 --beta 0.9
dist-sgdm|$dist --lr 0.1 --beta 0.9
adamw|--batch 128 --lr 1e-2 --weight-decay 0"

start=$(date +%s)
echo "$runs" | while IFS='|' read -r algo flags; do
    t0=$(date +%s)
    printf 'run-demo: %-11s %s ... ' "$algo" "$flags" >&2
    # shellcheck disable=SC2086
    if ! "$S" train $common --algo "$algo" $flags --out "$OUT/$algo" >/dev/null; then
        echo "failed" >&2
        exit 1
    fi
    echo "$(( $(date +%s) - t0 )) s" >&2
done || exit 1

# The table (final loss, test accuracy, gradient norms: mean ± std over seeds; bits sent up per worker) and the
# figure (loss, test accuracy, ||grad f||_1 against step and against bits sent up, mean ± std band over seeds)
# come from `signopt plot`, which averages in C and draws with gnuplot.
dirs=$(echo "$runs" | while IFS='|' read -r algo flags; do printf '%s ' "$OUT/$algo"; done)
title="MLP on Fashion-MNIST, 8 workers, Dirichlet(1) split, mean ± std over $SEEDS seeds"
if command -v gnuplot >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    "$S" plot $dirs --table "$OUT/table.md" --title "$title" --metrics loss,test_acc,grad_l1 --out "$OUT/demo.png" || exit 1
    # shellcheck disable=SC2086
    "$S" plot $dirs --title "$title (x: bits sent up per worker)" --metrics loss,test_acc --x bits \
        --out "$OUT/demo-bits.png" >/dev/null || exit 1
else
    echo "run-demo: gnuplot not found, table only" >&2
    # shellcheck disable=SC2086
    "$S" plot $dirs --table "$OUT/table.md" --no-png || exit 1
fi
echo "run-demo: done in $(( $(date +%s) - start )) s; results under $OUT/" >&2
