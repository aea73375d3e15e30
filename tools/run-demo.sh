#!/bin/sh
# run-demo.sh — the demo behind `make run`: an MLP (784-64-64-10) on Fashion-MNIST, 8 workers with a
# Dirichlet(1) label-skewed split, comparing majority-vote sign methods against uncompressed momentum SGD and a
# single-node AdamW baseline, 3 seeds each. Writes runs/demo/<algo>/{metrics.csv,summary.json}, prints a table,
# and plots loss and test accuracy against step (mean over seeds) to runs/demo/demo.png.
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

# Per algorithm: the mean over seeds at each evaluated step (for the plot), and the final row of each seed.
printf '%-11s %-8s %-22s %-22s %14s\n' "algo" "lr" "final loss (mean±std)" "test acc (mean±std)" "bits up/worker"
echo "$runs" | while IFS='|' read -r algo flags; do
    m="$OUT/$algo/metrics.csv"
    awk -F, 'NR > 1 { n[$2]++; l[$2] += $4; a[$2] += $6 }
             END { for (s in n) printf "%d %.9g %.9g\n", s, l[s] / n[s], a[s] / n[s] }' "$m" | sort -n >"$OUT/$algo/mean.dat"
    lr=$(echo "$flags" | sed -n 's/.*--lr \([^ ]*\).*/\1/p')
    awk -F, -v algo="$algo" -v lr="$lr" '
        NR > 1 { last[$1] = $0 }
        END {
            for (s in last) { split(last[s], f, ","); k++; L[k] = f[4]; A[k] = f[6]; B[k] = f[10] }
            for (i = 1; i <= k; i++) { ml += L[i]; ma += A[i]; mb += B[i] }
            ml /= k; ma /= k; mb /= k
            for (i = 1; i <= k; i++) { sl += (L[i] - ml) ^ 2; sa += (A[i] - ma) ^ 2 }
            sl = k > 1 ? sqrt(sl / (k - 1)) : 0; sa = k > 1 ? sqrt(sa / (k - 1)) : 0
            printf "%-11s %-8s %9.4f ± %-10.4f %9.4f ± %-10.4f %14.0f\n", algo, lr, ml, sl, ma, sa, mb
        }' "$m"
done

if command -v gnuplot >/dev/null 2>&1; then
    plots_loss=""; plots_acc=""
    for algo in mv-signsgd mv-signum mvsm-v2 dist-sgdm adamw; do
        plots_loss="$plots_loss${plots_loss:+, }'$OUT/$algo/mean.dat' using 1:2 with linespoints title '$algo'"
        plots_acc="$plots_acc${plots_acc:+, }'$OUT/$algo/mean.dat' using 1:3 with linespoints title '$algo'"
    done
    gnuplot <<EOF
set terminal pngcairo size 1200,480 font ",10"
set output '$OUT/demo.png'
set multiplot layout 1,2 title "MLP on Fashion-MNIST, 8 workers, Dirichlet(1) split, mean over $SEEDS seeds"
set xlabel 'step'
set ylabel 'training loss f(x)'
set logscale y
set key top right
plot $plots_loss
unset logscale y
set ylabel 'test accuracy'
set key bottom right
plot $plots_acc
unset multiplot
EOF
    [ -s "$OUT/demo.png" ] && echo "plot: $OUT/demo.png" >&2
else
    echo "run-demo: gnuplot not found, no plot" >&2
fi
echo "run-demo: done in $(( $(date +%s) - start )) s; results under $OUT/" >&2
