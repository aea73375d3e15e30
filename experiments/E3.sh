# E3 — seed 001 §4.2, Fig. 4: majority-vote sign methods with momentum on a CNN, 100 workers.
# Seed: CNN (two 5x5 conv + max-pool, dense 384 and 192, softmax) on CIFAR-10, 50000 images split IID over
#   100 clients, 1000 communication rounds, lr grid {0.1, 0.01, 0.001, 0.0001} (reported optimum 0.001 for all
#   four methods on CIFAR-10), lr decay 0.999 per round, R = 0.001, theta = 0.9, K = 5; 5 runs.
# Here (rerun on a quiet machine, one core): the same CNN (`cnn`, without local response normalization) on
#   Fashion-MNIST, ALL 60000 training rows split IID over 100 workers (600 each), per-worker batch 2 (small batch),
#   ROUNDS rounds with --lr-schedule exp:0.999, R = 0.001, theta = 0.9, K = 5 (federated local lr: CLI default 0.01).
#   60 rounds, sized from a timed probe (~0.9 s per round, ~12 s per evaluation) to fit ~20 minutes of one core
#   on the shared machine (1000 rounds x 100 workers is out of reach: a
#   round is 200 images of fwd+bwd per gradient, the federated variant 6 gradients). Evaluations at rounds 0,
#   ROUNDS/2 and ROUNDS only; each evaluation's training loss on the first 5000 training rows (--eval-limit 5000),
#   test accuracy on all 10000 test images. NO lr grid: every method at the seed's reported optimum lr 0.001.
#   3 seeds, each (method, seed) its own process, P=1. QUICK=1 runs the mlp instead: two evaluations of the cnn on
#   the 10000 test images alone exceed the smoke test's 15 s.
EXP=${EXP:-E3}
. experiments/lib.sh

ROUNDS=$(q 60 2)
SEEDS=$(q "1 2 3" 1)
TRAIN=$(q 0 200)
P=${P:-1}
export OPENBLAS_NUM_THREADS=1
METHODS="mv-signsgd sto-signsgd mv-sto-signsgd-sim fed-mv-sto-signsgd-sim"
C="--problem $(q cnn mlp) --data fashion-mnist --workers 100 --split iid --batch 2 --steps $ROUNDS --lr 0.001"
C="$C --lr-schedule exp:0.999 --R 0.001 --beta 0.9 --local-steps 5 --train-limit $TRAIN --eval-limit $(q 5000 200)"
C="$C --eval-every $((ROUNDS / 2)) --threads 1"

export SIGNOPT OUT EXP
# The federated runs first: they cost six gradients per round. A run whose summary.json exists is reused
# (resuming an interrupted experiment; rm -r $OUT for a fresh one).
# REPORT_ONLY=1: train nothing, report what is on disk (a method missing a seed is reported as not run).
[ "${REPORT_ONLY:-0}" = 1 ] ||
for m in fed-mv-sto-signsgd-sim $METHODS; do for s in $SEEDS; do echo "$m $s"; done; done | awk '!seen[$0]++' |
    xargs -P "$P" -L 1 sh -c '[ -f "$OUT/$0-s$1/summary.json" ] && exit 0
        "$SIGNOPT" train --quiet --force --out "$OUT/$0-s$1" --seed "$1" --algo "$0" '"$C"' \
        >"$OUT/$0-s$1.log" 2>&1 || { echo "$EXP: run $0 seed $1 failed" >&2; tail -n 3 "$OUT/$0-s$1.log" >&2; }'

# Merge the per-seed runs into one metrics.csv per method (what exp_final reads).
DONE=""
for m in $METHODS; do
    ok=1
    for s in $SEEDS; do [ -f "$OUT/$m-s$s/summary.json" ] || ok=0; done
    [ $ok = 1 ] || { echo "$EXP: $m: not every seed finished; left out of the table and claims" >&2; continue; }
    DONE="$DONE $m"
    mkdir -p "$OUT/$m"
    first=1
    for s in $SEEDS; do
        f="$OUT/$m-s$s/metrics.csv"
        if [ $first = 1 ]; then cat "$f"; first=0; else tail -n +2 "$f"; fi
    done >"$OUT/$m/metrics.csv"
done

mean_curve() {
    c=$(exp_col "$1" "$2")
    awk -F, -v c="$c" 'NR > 1 { s[$2] += $c; n[$2]++ } END { for (k in s) print k, s[k] / n[k] }' \
        "$1/metrics.csv" | sort -n
}
echo "$EXP: batch 2, 100 workers, $ROUNDS rounds, lr 0.001 (x0.999/round); final values (mean ± std over seeds $SEEDS):"
for m in $DONE; do
    printf '%s: %-24s loss %s  test_acc %s\n' "$EXP" "$m" "$(exp_mean_std "$OUT/$m" loss)" \
        "$(exp_mean_std "$OUT/$m" test_acc)"
    mean_curve "$OUT/$m" test_acc >"$OUT/$m.acc.dat"; mean_curve "$OUT/$m" loss >"$OUT/$m.loss.dat"
done | tee "$OUT/table.txt"

has() { case " $DONE " in *" $1 "*) return 0 ;; esac; return 1; }
has mv-signsgd && has sto-signsgd || { echo "$EXP: the baselines did not finish" >&2; exit 1; }
a_mv=$(exp_final "$OUT/mv-signsgd" test_acc); a_sto=$(exp_final "$OUT/sto-signsgd" test_acc)
for m in mv-sto-signsgd-sim fed-mv-sto-signsgd-sim; do
    if has $m; then
        a=$(exp_final "$OUT/$m" test_acc)
        exp_claim "$m test acc above mv-signsgd and sto-signsgd" "$a > $a_mv && $a > $a_sto"
    else
        echo "$EXP: $m test acc above mv-signsgd and sto-signsgd: NOT JUDGED (runs did not finish)" |
            tee -a "$OUT/claims.txt"
    fi
done

PNG=${PNG:-$OUT/E3.png}
gnuplot <<GP || echo "$EXP: gnuplot failed" >&2
set terminal pngcairo size 1000,420 font ",9"
set output "$PNG"
set multiplot layout 1,2
set xlabel "round"; set key top right
set title "training loss (first 5000 rows), mean of seeds"
plot for [m in "$DONE"] "$OUT/".m.".loss.dat" with linespoints lw 2 title m
set title "test accuracy, mean of seeds"; set key bottom right
plot for [m in "$DONE"] "$OUT/".m.".acc.dat" with linespoints lw 2 title m
unset multiplot
GP
