# E5 — seed 000 §5.2, Fig. 2: majority vote signSGD with momentum (MVSM-v2) in the distributed setting.
# Seed: ResNet-50 on CIFAR-100 across 8 nodes; MVSM-v2 against MV-signSGD, MV-Signum, Sto-signSGD and
#   MV-signSGD-SIM; hyperparameters by the grid of §5.1: beta in {0.9, 0.5, 0.1, 0.01},
#   lr in {0.5, 0.25, 0.1, 0.05, 0.025, 0.01} x 1e-2; 10 runs; training loss, accuracy, ||grad||_1 and ||grad||_2.
# Here: the MLP 784-64-64-10 on Fashion-MNIST instead of a CNN (a cnn gradient costs ~1 ms per image on one core,
#   about 50x the mlp; 8 workers x batch 32 = 256 images a round would leave only a few hundred cnn rounds in
#   total for an 84-cell grid plus 15 final runs); 8 workers, non-IID Dirichlet(1) split (the seed does not say how
#   its data were split: docs/experiments.md asks for non-IID), per-worker batch 32 (not stated in the seed), constant
#   lr, R = G = 0.001 for the stochastic signs (CLI default). First 12000 training rows (--train-limit: evaluating
#   the training loss dominates the cost otherwise); test accuracy on all 10000 test images.
#   Tuning: the protocol of experiments/PROTOCOL.md (exp_tune): at the final runs' horizon (ROUNDS = 600 rounds),
#   on tuning seed 101, never reported; the seed's six lrs, extended while the best is at an edge; the seed's four
#   betas, 000's {0.9, 0.5, 0.1, 0.01} (weight of the new gradient) = --beta {0.1, 0.5, 0.9, 0.99}, for the methods
#   with momentum; and the bound G of the stochastic uplink S_G (--R), which seed 000 does not state, swept over
#   {0.001, 0.01, 0.1, 1} for the methods that send S_G (sto-signsgd, mv-sto-signsgd-sim, mvsm-v1, mvsm-v2).
#   Then seeds 1..5 at the chosen values, evaluated every 50 rounds.
#   mvsm-v1 (000 Alg 2 v1: the server returns the majority sign) is run beside mvsm-v2 (v2: the stochastic sign
#   S_1 of the mean of the workers' signs): the two differ only in the server's step, which shows what S_1 costs.
#   Earlier runs (RESULTS.md): lrs chosen by 200-round sweeps on seed 1 and used for 600-round finals on seeds
#   1-3, G fixed at 0.001, no mvsm-v1.
# Claims (fixed before the run; the seed's comparison set, without mvsm-v1): mvsm-v2 has the lowest final training
#   loss and the highest final test accuracy of the five; the methods without momentum (mv-signsgd, sto-signsgd)
#   have a higher final loss than every method with momentum. A diagnostic beside them (not a claim of the seed):
#   mvsm-v1's final loss against mvsm-v2's.
EXP=${EXP:-E5}
. experiments/lib.sh

ROUNDS=$(q 600 3)
SEEDS=$(q "1 2 3 4 5" 1)
EVAL=$(q 50 3)
P=${P:-2}
LRS=$(q 0.005,0.0025,0.001,0.0005,0.00025,0.0001 0.001)
BETAS=$(q 0.9,0.5,0.1,0.99 0.9)
GS=$(q 0.001,0.01,0.1,1 0.001)
C="--problem mlp --data fashion-mnist --workers 8 --split dirichlet:1 --batch 32 --steps $ROUNDS
 --threads 1 --train-limit $(q 12000 1000)"
METHODS="mvsm-v2 mvsm-v1 mv-signum mv-sto-signsgd-sim mv-signsgd sto-signsgd"

mean_curve() {
    c=$(exp_col "$1" "$2")
    awk -F, -v c="$c" 'NR > 1 { s[$2] += $c; n[$2]++ } END { for (k in s) print k, s[k] / n[k] }' \
        "$1/metrics.csv" | sort -n
}

export SIGNOPT OUT EXP C EVAL
# tune ALGO: the protocol for one method; writes $OUT/ALGO.hp = "LR BETA R".
tune() {
    case $1 in
    mvsm-v2 | mvsm-v1 | mv-sto-signsgd-sim) betas=$BETAS grid="R=$GS" ;;
    mv-signum) betas=$BETAS grid= ;;
    sto-signsgd) betas=0.9 grid="R=$GS" ;;
    *) betas=0.9 grid= ;;
    esac
    # shellcheck disable=SC2086
    hp=$(exp_tune "tune-$1" "$LRS" "$betas" "$grid" $C --algo "$1" --eval-every "$ROUNDS") || exit 1
    set -- "$1" $hp
    echo "$2 $3 $(echo "$4" | sed -n 's/^R=//p' | grep . || echo 0.001)" >"$OUT/$1.hp"
}
# Two methods are tuned at a time (one process each, --threads 1, on a 2-core machine).
{ for m in mvsm-v2 mv-sto-signsgd-sim mv-signsgd; do tune $m; done; } &
lane=$!
for m in mvsm-v1 mv-signum sto-signsgd; do tune $m; done
wait $lane || { echo "$EXP: tuning failed" >&2; exit 1; }
for m in $METHODS; do [ -s "$OUT/$m.hp" ] || { echo "$EXP: no tuning result for $m" >&2; exit 1; }; done
# The final runs: every (method, seed) its own process, P at a time; then the seeds merged into $OUT/ALGO.
for m in $METHODS; do for s in $SEEDS; do
    echo "$m $s $(cat "$OUT/$m.hp")"
done; done | xargs -P "$P" -L 1 sh -c 'echo "$EXP: train $0 seed $1 lr $2 beta $3 R $4" >&2
    "$SIGNOPT" train --quiet --force --out "$OUT/$0-s$1" --seed "$1" --algo "$0" --lr "$2" --beta "$3" --R "$4" \
        $C --eval-every "$EVAL" >"$OUT/$0-s$1.log" 2>&1 || echo "$EXP: run $0 seed $1 failed" >&2'
for m in $METHODS; do
    mkdir -p "$OUT/$m"; first=1
    for s in $SEEDS; do
        f="$OUT/$m-s$s/metrics.csv"
        [ -f "$f" ] || { echo "$EXP: missing run $m seed $s" >&2; exit 1; }
        if [ $first = 1 ]; then cat "$f"; first=0; else tail -n +2 "$f"; fi
    done >"$OUT/$m/metrics.csv"
done
for m in $METHODS; do [ -f "$OUT/$m/metrics.csv" ] || { echo "$EXP: missing run $m" >&2; exit 1; }; done

echo "$EXP: final values (mean ± std over seeds $SEEDS), $ROUNDS rounds; hp = lr beta R (beta unused without momentum, R = G
    only for the stochastic uplinks):"
for m in $METHODS; do
    printf '%s: %-20s hp %-14s loss %s  test_acc %s  grad_l1 %s  grad_l2 %s\n' "$EXP" "$m" "$(cat "$OUT/$m.hp")" \
        "$(exp_mean_std "$OUT/$m" loss)" "$(exp_mean_std "$OUT/$m" test_acc)" \
        "$(exp_mean_std "$OUT/$m" grad_l1)" "$(exp_mean_std "$OUT/$m" grad_l2)"
    for col in loss test_acc grad_l1 grad_l2; do mean_curve "$OUT/$m" $col >"$OUT/$m.$col.dat"; done
done | tee "$OUT/table.txt"

l_v2=$(exp_final "$OUT/mvsm-v2" loss); a_v2=$(exp_final "$OUT/mvsm-v2" test_acc)
l_sm=$(exp_final "$OUT/mv-signum" loss); a_sm=$(exp_final "$OUT/mv-signum" test_acc)
l_si=$(exp_final "$OUT/mv-sto-signsgd-sim" loss); a_si=$(exp_final "$OUT/mv-sto-signsgd-sim" test_acc)
l_mv=$(exp_final "$OUT/mv-signsgd" loss); a_mv=$(exp_final "$OUT/mv-signsgd" test_acc)
l_st=$(exp_final "$OUT/sto-signsgd" loss); a_st=$(exp_final "$OUT/sto-signsgd" test_acc)
exp_claim "mvsm-v2 lowest final training loss" "$l_v2 < $l_sm && $l_v2 < $l_si && $l_v2 < $l_mv && $l_v2 < $l_st"
exp_claim "mvsm-v2 highest final test accuracy" "$a_v2 > $a_sm && $a_v2 > $a_si && $a_v2 > $a_mv && $a_v2 > $a_st"
mx=$(printf '%s\n' "$l_v2" "$l_sm" "$l_si" | sort -g | tail -n 1)
mn=$(printf '%s\n' "$l_mv" "$l_st" | sort -g | head -n 1)
exp_claim "methods without momentum (mv-signsgd, sto-signsgd) have a higher final loss than all with momentum" \
    "$mn > $mx"
l_v1=$(exp_final "$OUT/mvsm-v1" loss)
exp_claim "(diagnostic, not the seed's) mvsm-v1 (majority sign at the server) lower final loss than mvsm-v2 (S_1)" \
    "$l_v1 < $l_v2"

PNG=${PNG:-$OUT/E5.png}
gnuplot <<GP || echo "$EXP: gnuplot failed" >&2
set terminal pngcairo size 1200,420 font ",9"
set output "$PNG"
set multiplot layout 1,3
set xlabel "round"; set key top right
set title "training loss (mean over seeds)"; set logscale y
plot for [m in "$METHODS"] "$OUT/".m.".loss.dat" with lines lw 2 title m
set title "||grad f||_2"
plot for [m in "$METHODS"] "$OUT/".m.".grad_l2.dat" with lines lw 2 title m
unset logscale y; set key bottom right
set title "test accuracy"
plot for [m in "$METHODS"] "$OUT/".m.".test_acc.dat" with lines lw 2 title m
unset multiplot
GP
