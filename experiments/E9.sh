# E9 — seed 004 (scaled signSGD), Example 5, Fig. 2 and Fig. 3.
# Seed: L2-regularised logistic regression f(x) = 1/n sum log(1 + exp(-b_i a_i'x)) + 1/(2n) ||x||^2 on epsilon
#   (n = 400k, d = 2000); scaled signSGD x <- x - alpha ||g||_1 sign(g) with alpha = 2 (Fig. 2a) and with
#   alpha_k = c/(k+1) (Fig. 2b), against SGD, signSGD, signum (and EF-signSGD); Fig. 3: distributed scaled signSGD
#   by majority vote with M = 1 and M = 3 workers.
# Here: epsilon is not on this machine, so (a) the synthetic epsilon-like set (--data synthetic-epsilon: 4000
#   training rows x 200 features, 800 held out, label noise 0.1) and (b) Fashion-MNIST class 0 vs class 6
#   (--binary 0,6, 12000 rows x 784 raw pixel features); lambda = 1/N (--l2 auto). Minibatch 32 (the seed does not
#   state one), STEPS steps, 1 worker unless stated.
# Tuning: the protocol of experiments/PROTOCOL.md (exp_tune): at the final runs' horizon (STEPS), on tuning seed
#   101 (never reported), by the final training loss, the lr grids extended while the best is at an edge (the
#   decaying-alpha constant c is chosen on seed 101 too, from INV_C). Before issue 18 the grids ran on seed 1, one of
#   the reported seeds, and were not extended. Grids: SGD lr in SGD_LR; EF-signSGD (ef-signsgd, added in a later rerun
#   because the seed's Fig. 2 includes it; its lr scales g inside the error-feedback sum, like SGD's) lr in SGD_LR;
#   signSGD and signum lr in SIGN_LR (signum beta in
#   {0.9, 0.5}); scaled signSGD constant alpha in SCALED_LR, which contains the seed's alpha = 2 (the seed's alpha
#   fits epsilon's unit-norm rows; our features have other scales, so alpha is searched); decaying alpha_k = c/(k+1)
#   (--lr-schedule inv:c) with c in INV_C. Then SEEDS = 5 seeds (1..5) at the chosen values; the distributed runs
#   (mv-scaled-signsgd, --workers 1 and 3, 32 rows per worker) use the constant alpha chosen for scaled signSGD.
# Claims (docs/experiments.md): scaled signSGD ~ SGD (final loss within 5% of SGD's) and ahead of signSGD and signum
#   (lower final loss); constant alpha ahead of decaying alpha (lower final loss); M = 3 ahead of M = 1; and (seed
#   004 p. 9, "EF-signSGD is comparable to SGD") EF-signSGD's final loss within 5% of SGD's. Each is
#   judged twice: on the final loss, and on the run-mean loss (mean over the evaluations, every 50 steps), which
#   measures speed (the seed's figures compare how fast the loss falls).
EXP=${EXP:-E9}
. experiments/lib.sh

export OPENBLAS_NUM_THREADS=1
STEPS=$(q 2000 30)  # quick runs use the synthetic set only (loading Fashion-MNIST costs seconds)
SEEDS=$(q 5 1)
SGD_LR=$(q 10,3,1,0.3,0.1,0.03,0.01,0.003,0.001 0.1)
SIGN_LR=$(q 0.03,0.01,0.003,0.001,0.0003,0.0001 0.001)
SIGNUM_BETA=$(q 0.9,0.5 0.9)
SCALED_LR=$(q 2,0.3,0.1,0.03,0.01,0.003,0.001,0.0003,0.0001,3e-5,1e-5,3e-6 0.001)
INV_C=$(q "30 10 3 2 1 0.3 0.1 0.03 0.01 0.003 0.001 0.0003 0.0001" "0.01")
COMMON="--problem logreg --batch 32 --steps $STEPS --eval-every $(q 50 10) --threads 1"

# run_mean DIR COLUMN: over seeds, the mean of COLUMN over all evaluations of a run (the area under the curve
# divided by its length): lower means the loss fell sooner, which final values near the optimum cannot show.
run_mean() {
    c=$(exp_col "$1" "$2")
    awk -F, -v c="$c" 'NR > 1 { s += $c; n++ } END { print s / n }' "$1/metrics.csv"
}

# mean_curve DIR COLUMN: "step mean" over seeds, one line per evaluated step (for gnuplot).
mean_curve() {
    c=$(exp_col "$1" "$2")
    awk -F, -v c="$c" 'NR > 1 { s[$2] += $c; n[$2]++ } END { for (k in s) print k, s[k] / n[k] }' \
        "$1/metrics.csv" | sort -n
}

for ds in $(q "syn fm" syn); do
    if [ "$ds" = syn ]; then DATA="--data synthetic-epsilon"; else DATA="--data fashion-mnist --binary 0,6"; fi
    F="$COMMON $DATA"
    # shellcheck disable=SC2086
    {
        set -- $(exp_tune "$ds-tune-sgd" "$SGD_LR" 0.9 "" $F --algo sgd); lr_sgd=$1
        set -- $(exp_tune "$ds-tune-ef" "$SGD_LR" 0.9 "" $F --algo ef-signsgd); lr_ef=$1
        set -- $(exp_tune "$ds-tune-signsgd" "$SIGN_LR" 0.9 "" $F --algo signsgd); lr_sign=$1
        set -- $(exp_tune "$ds-tune-signum" "$SIGN_LR" "$SIGNUM_BETA" "" $F --algo signum)
        lr_signum=$1 beta_signum=$2
        set -- $(exp_tune "$ds-tune-scaled" "$SCALED_LR" 0.9 "" $F --algo scaled-signsgd); lr_scaled=$1
        best_c="" best_loss=""
        for c in $INV_C; do
            exp_train "$ds-grid-inv-$c" $F --algo scaled-signsgd --lr-schedule "inv:$c" --seed "$TUNE_SEED" --seeds 1
            l=$(exp_final "$OUT/$ds-grid-inv-$c" loss)
            if [ -z "$best_c" ] || awk "BEGIN { exit !($l < $best_loss) }"; then best_c=$c best_loss=$l; fi
        done
        echo "$EXP: $ds chosen: sgd lr $lr_sgd, signsgd lr $lr_sign, signum lr $lr_signum beta $beta_signum," \
            "scaled alpha $lr_scaled, decaying c $best_c, ef-signsgd lr $lr_ef" | tee "$OUT/$ds-chosen.txt"
        exp_train "$ds-sgd" $F --algo sgd --lr "$lr_sgd" --seeds "$SEEDS"
        exp_train "$ds-ef" $F --algo ef-signsgd --lr "$lr_ef" --seeds "$SEEDS"
        exp_train "$ds-signsgd" $F --algo signsgd --lr "$lr_sign" --seeds "$SEEDS"
        exp_train "$ds-signum" $F --algo signum --lr "$lr_signum" --beta "$beta_signum" --seeds "$SEEDS"
        exp_train "$ds-scaled-const" $F --algo scaled-signsgd --lr "$lr_scaled" --seeds "$SEEDS"
        exp_train "$ds-scaled-inv" $F --algo scaled-signsgd --lr-schedule "inv:$best_c" --seeds "$SEEDS"
        exp_train "$ds-mv-M1" $F --algo mv-scaled-signsgd --workers 1 --lr "$lr_scaled" --seeds "$SEEDS"
        exp_train "$ds-mv-M3" $F --algo mv-scaled-signsgd --workers 3 --lr "$lr_scaled" --seeds "$SEEDS"
    }
    echo "$EXP: $ds final training loss (mean ± std over $SEEDS seeds) and test accuracy:"
    for r in sgd ef signsgd signum scaled-const scaled-inv mv-M1 mv-M3; do
        printf '%s: %-16s loss %s  run-mean loss %.4g  test_acc %s  grad_l2 %s\n' "$EXP" "$ds-$r" \
            "$(exp_mean_std "$OUT/$ds-$r" loss)" "$(run_mean "$OUT/$ds-$r" loss)" \
            "$(exp_mean_std "$OUT/$ds-$r" test_acc)" "$(exp_mean_std "$OUT/$ds-$r" grad_l2)"
        mean_curve "$OUT/$ds-$r" loss >"$OUT/$ds-$r.dat"
    done | tee "$OUT/$ds-table.txt"
    sgd=$(exp_final "$OUT/$ds-sgd" loss); sc=$(exp_final "$OUT/$ds-scaled-const" loss)
    inv=$(exp_final "$OUT/$ds-scaled-inv" loss); ss=$(exp_final "$OUT/$ds-signsgd" loss)
    sm=$(exp_final "$OUT/$ds-signum" loss)
    ef=$(exp_final "$OUT/$ds-ef" loss); a_ef=$(run_mean "$OUT/$ds-ef" loss)
    m1=$(exp_final "$OUT/$ds-mv-M1" loss); m3=$(exp_final "$OUT/$ds-mv-M3" loss)
    a_sgd=$(run_mean "$OUT/$ds-sgd" loss); a_sc=$(run_mean "$OUT/$ds-scaled-const" loss)
    a_inv=$(run_mean "$OUT/$ds-scaled-inv" loss); a_ss=$(run_mean "$OUT/$ds-signsgd" loss)
    a_sm=$(run_mean "$OUT/$ds-signum" loss)
    a_m1=$(run_mean "$OUT/$ds-mv-M1" loss); a_m3=$(run_mean "$OUT/$ds-mv-M3" loss)
    exp_claim "$ds: scaled signSGD final loss within 5% of SGD's" "($sc - $sgd) <= 0.05 * $sgd && ($sgd - $sc) <= 0.05 * $sgd"
    exp_claim "$ds: scaled signSGD below signSGD" "$sc < $ss"
    exp_claim "$ds: scaled signSGD below signum" "$sc < $sm"
    exp_claim "$ds: constant alpha below decaying alpha_k = c/(k+1)" "$sc < $inv"
    exp_claim "$ds: M = 3 workers below M = 1" "$m3 < $m1"
    exp_claim "$ds: speed: scaled signSGD's run-mean loss within 5% of SGD's" \
        "($a_sc - $a_sgd) <= 0.05 * $a_sgd && ($a_sgd - $a_sc) <= 0.05 * $a_sgd"
    exp_claim "$ds: speed: scaled signSGD's run-mean loss below signSGD's and signum's" "$a_sc < $a_ss && $a_sc < $a_sm"
    exp_claim "$ds: speed: constant alpha's run-mean loss below decaying alpha's" "$a_sc < $a_inv"
    exp_claim "$ds: speed: M = 3's run-mean loss below M = 1's" "$a_m3 < $a_m1"
    exp_claim "$ds: EF-signSGD final loss within 5% of SGD's" "($ef - $sgd) <= 0.05 * $sgd && ($sgd - $ef) <= 0.05 * $sgd"
    exp_claim "$ds: speed: EF-signSGD's run-mean loss within 5% of SGD's" \
        "($a_ef - $a_sgd) <= 0.05 * $a_sgd && ($a_sgd - $a_ef) <= 0.05 * $a_sgd"
done

# Plot: training loss (mean over seeds) against step, one panel per data set and one for the workers.
PNG=${PNG:-$OUT/E9.png}
gnuplot <<EOF || echo "$EXP: gnuplot failed" >&2
set terminal pngcairo size 1200,420 font ",9"
set output "$PNG"
set multiplot layout 1,3
set logscale y; set xlabel "step"; set ylabel "training loss f(x)"; set key top right
set title "synthetic epsilon-like (4000 x 200)"
plot for [r in "sgd ef signsgd signum scaled-const scaled-inv"] "$OUT/syn-".r.".dat" with lines lw 2 title r
set title "Fashion-MNIST 0 vs 6 (12000 x 784)"
plot for [r in "sgd ef signsgd signum scaled-const scaled-inv"] "$OUT/fm-".r.".dat" with lines lw 2 title r
set title "mv-scaled-signsgd, M = 1 vs 3"
plot for [s in "syn fm"] for [m in "M1 M3"] "$OUT/".s."-mv-".m.".dat" with lines lw 2 title s." ".m
unset multiplot
EOF
