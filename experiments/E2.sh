# E2 — seed 001 §4.2, Fig. 3, App. G.2 (Figs. 7, 8): majority-vote sign methods with momentum, MLP.
# Seed: MLP 784-64-64-10 (ReLU) on MNIST, 50 workers (G.2: also 100 and 150), IID and Dirichlet(1) non-IID split,
#   250 communication rounds, lr tuned over {0.1, 0.01, 0.001, 0.0001} per algorithm (reported optima on MNIST:
#   0.01 for mv-signsgd and mv-sto-signsgd, 0.001 for mv-sto-signsgd-sim and its federated variant), constant lr,
#   R = 0.001, theta = 0.9, alpha = 0, K = 5 local steps; 5 runs; batch sizes read off the figures only.
# Here: the same MLP on Fashion-MNIST (MNIST is not on this machine), per-worker batch 8 (the small-batch end of
#   the seed's figures). Shrunk for the budget of a shared 2-core box: ROUNDS rounds instead of 250, the first
#   TRAIN training rows (--train-limit, which also bounds the cost of evaluating the training loss), and the lr
#   grid cut to the two values holding the seed's optima, {0.01, 0.001}: tried on the IID split for mv-signsgd,
#   sto-signsgd and mv-sto-signsgd-sim (3 seeds each, lower mean final training loss wins), the Dirichlet split
#   reuses the IID choice; fed-mv-sto-signsgd-sim (six gradients a round) runs at the seed's optimum 0.001 only,
#   local lr the CLI default 0.01 (the seed does not state it). Workers (App. G.2): mv-sto-signsgd-sim only,
#   IID, 100 and 150 workers at its chosen lr. 3 seeds; each (run, seed) its own process, P at a time.
# Claims: at batch 8, mv-sto-signsgd-sim and fed-mv-sto-signsgd-sim reach a higher final test accuracy than
#   mv-signsgd and sto-signsgd (each split); more workers help (acc at 100 and 150 workers > acc at 50).
EXP=${EXP:-E2}
. experiments/lib.sh

ROUNDS=$(q 100 3)
SEEDS=$(q "1 2 3" 1)
TRAIN=$(q 20000 500)
P=${P:-6}
BATCH=8
METHODS="mv-signsgd sto-signsgd mv-sto-signsgd-sim fed-mv-sto-signsgd-sim"
C="--problem mlp --data fashion-mnist --batch $BATCH --steps $ROUNDS --R 0.001 --beta 0.9 --local-steps 5"
C="$C --train-limit $TRAIN --eval-every $(q $((ROUNDS / 4)) 3) --threads 1"
export SIGNOPT OUT EXP C

# runs: reads lines "NAME FLAGS..." and runs every (NAME, seed) as its own process, P at a time, then merges
# the seeds into OUT/NAME/metrics.csv (what exp_final reads). A run whose summary.json exists is reused
# (resuming an interrupted experiment; rm -r $OUT for a fresh one).
runs() {
    jobs=$(cat)
    echo "$jobs" | while read -r name flags; do for s in $SEEDS; do echo "$name $s $flags"; done; done |
        xargs -P "$P" -L 1 sh -c 'n=$0 s=$1; shift; [ -f "$OUT/$n-s$s/summary.json" ] && exit 0; echo "$EXP: train $n seed $s: $*" >&2
            "$SIGNOPT" train --quiet --force --out "$OUT/$n-s$s" --seed "$s" $C "$@" >"$OUT/$n-s$s.log" 2>&1 ||
            { echo "$EXP: run $n seed $s failed" >&2; tail -n 3 "$OUT/$n-s$s.log" >&2; }'
    echo "$jobs" | while read -r name flags; do
        mkdir -p "$OUT/$name"; first=1
        for s in $SEEDS; do
            f="$OUT/$name-s$s/metrics.csv"
            [ -f "$f" ] || { echo "$EXP: missing run $name seed $s" >&2; exit 1; }
            if [ $first = 1 ]; then cat "$f"; first=0; else tail -n +2 "$f"; fi
        done >"$OUT/$name/metrics.csv" || exit 1
    done
}

# Stage 1: the lr grid on IID plus the federated runs (fixed lr), all side by side.
{
    for m in mv-signsgd sto-signsgd mv-sto-signsgd-sim; do for lr in 0.01 0.001; do
        echo "iid-$m-lr$lr --workers 50 --split iid --algo $m --lr $lr"
    done; done
    for sp in iid:iid dir:dirichlet:1; do
        echo "${sp%%:*}-fed-mv-sto-signsgd-sim --workers 50 --split ${sp#*:} --algo fed-mv-sto-signsgd-sim --lr 0.001"
    done
} | runs || exit 1
for m in mv-signsgd sto-signsgd mv-sto-signsgd-sim; do
    l1=$(exp_final "$OUT/iid-$m-lr0.01" loss); l2=$(exp_final "$OUT/iid-$m-lr0.001" loss)
    if awk "BEGIN { exit !($l1 < $l2) }"; then lr=0.01; else lr=0.001; fi
    echo "$EXP: $m: mean final loss $l1 at lr 0.01, $l2 at lr 0.001: chose $lr"
    echo "$lr" >"$OUT/$m.lr"
    rm -rf "$OUT/iid-$m"; cp -r "$OUT/iid-$m-lr$lr" "$OUT/iid-$m"
done | tee "$OUT/lr-choice.txt"
echo 0.001 >"$OUT/fed-mv-sto-signsgd-sim.lr"

# Stage 2: the Dirichlet split at the chosen lr, and more workers for mv-sto-signsgd-sim.
lr_sim=$(cat "$OUT/mv-sto-signsgd-sim.lr")
{
    for m in mv-signsgd sto-signsgd mv-sto-signsgd-sim; do
        echo "dir-$m --workers 50 --split dirichlet:1 --algo $m --lr $(cat "$OUT/$m.lr")"
    done
    for n in 100 150; do echo "iid-sim-n$n --workers $n --split iid --algo mv-sto-signsgd-sim --lr $lr_sim"; done
} | runs || exit 1

mean_curve() {
    c=$(exp_col "$1" "$2")
    awk -F, -v c="$c" 'NR > 1 { s[$2] += $c; n[$2]++ } END { for (k in s) print k, s[k] / n[k] }' \
        "$1/metrics.csv" | sort -n
}
echo "$EXP: batch $BATCH, $ROUNDS rounds; final training loss and test accuracy (mean ± std over seeds $SEEDS):"
for sp in iid dir; do for m in $METHODS; do
    printf '%s: %-3s %-24s lr %-6s loss %s  test_acc %s\n' "$EXP" "$sp" "$m" "$(cat "$OUT/$m.lr")" \
        "$(exp_mean_std "$OUT/$sp-$m" loss)" "$(exp_mean_std "$OUT/$sp-$m" test_acc)"
    mean_curve "$OUT/$sp-$m" test_acc >"$OUT/$sp-$m.dat"
done; done | tee "$OUT/table.txt"
for n in 100 150; do
    printf '%s: iid mv-sto-signsgd-sim n=%s  loss %s  test_acc %s\n' "$EXP" "$n" \
        "$(exp_mean_std "$OUT/iid-sim-n$n" loss)" "$(exp_mean_std "$OUT/iid-sim-n$n" test_acc)"
    mean_curve "$OUT/iid-sim-n$n" test_acc >"$OUT/iid-sim-n$n.dat"
done | tee -a "$OUT/table.txt"

for sp in iid dir; do
    a_mv=$(exp_final "$OUT/$sp-mv-signsgd" test_acc); a_sto=$(exp_final "$OUT/$sp-sto-signsgd" test_acc)
    a_sim=$(exp_final "$OUT/$sp-mv-sto-signsgd-sim" test_acc)
    a_fed=$(exp_final "$OUT/$sp-fed-mv-sto-signsgd-sim" test_acc)
    exp_claim "$sp: mv-sto-signsgd-sim test acc above mv-signsgd and sto-signsgd" "$a_sim > $a_mv && $a_sim > $a_sto"
    exp_claim "$sp: fed-mv-sto-signsgd-sim test acc above mv-signsgd and sto-signsgd" \
        "$a_fed > $a_mv && $a_fed > $a_sto"
done
a50=$(exp_final "$OUT/iid-mv-sto-signsgd-sim" test_acc)
a100=$(exp_final "$OUT/iid-sim-n100" test_acc); a150=$(exp_final "$OUT/iid-sim-n150" test_acc)
exp_claim "iid mv-sto-signsgd-sim: 100 and 150 workers above 50 in test acc" "$a100 > $a50 && $a150 > $a50"

PNG=${PNG:-$OUT/E2.png}
gnuplot <<GP || echo "$EXP: gnuplot failed" >&2
set terminal pngcairo size 1200,420 font ",9"
set output "$PNG"
set multiplot layout 1,3
set xlabel "round"; set ylabel "test accuracy (mean over seeds)"; set key bottom right
set title "IID, 50 workers, batch $BATCH"
plot for [m in "$METHODS"] "$OUT/iid-".m.".dat" with linespoints lw 2 title m
set title "Dirichlet(1), 50 workers, batch $BATCH"
plot for [m in "$METHODS"] "$OUT/dir-".m.".dat" with linespoints lw 2 title m
set title "mv-sto-signsgd-sim, IID: workers"
plot "$OUT/iid-mv-sto-signsgd-sim.dat" with linespoints lw 2 title "50", \
     "$OUT/iid-sim-n100.dat" with linespoints lw 2 title "100", "$OUT/iid-sim-n150.dat" with linespoints lw 2 title "150"
unset multiplot
GP
