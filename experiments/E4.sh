# E4 — seed 000, Section 5.1, Fig. 1 (centralised image classification).
# Seed: ResNet-18 on CIFAR-10; Signum against signSGD, SGDM, AdamW and EF-signSGD; each method's hyperparameters by
#   grid search: momentum beta (000's sense: weight of the NEW gradient) in {0.9, 0.5, 0.1, 0.01}, learning rate in
#   {0.5, 0.25, 0.1, 0.05, 0.025, 0.01} x 1e-2. Fig. 1: training loss, accuracy, ||grad f||_1 and ||grad f||_2.
# Here: the `mlp` (784-64-64-10) on the first 10000 Fashion-MNIST training images (--train-limit 10000), batch 128,
#   STEPS steps (about 4 epochs of that subset); ||grad f||_1 and ||grad f||_2 are of the full objective on those
#   10000 rows, evaluated every 30 steps. The `cnn` asked for does not fit: measured on this shared box, 20 cnn steps
#   plus two evaluations took 71-89 s wall, so a 48-cell grid plus 15 final runs would take hours.
#   Signum follows the 000 convention (--momentum-init first-grad); 000's beta maps to --beta = 1 - beta.
# Grid (1 seed, best final training loss): lr: the seed's six values; beta: shrunk to 000's {0.9, 0.1}
#   (--beta 0.1, 0.9) for signum, sgdm and adamw (adamw: beta1; beta2 = 0.999), none for signsgd and ef-signsgd.
#   When a method's best lr is the grid's largest (5e-3), the grid is extended upward by EXT_LRS = {0.05, 0.025,
#   0.01} x (same betas) and the better cell kept (beyond the seed's grid; said so in docs/results/E4.md).
#   Then 3 seeds at each method's chosen cell.
# Claim: signum reaches the lowest final training loss and the lowest final ||grad f||_1 and ||grad f||_2 (full
#   gradient at the last step, mean over seeds) of the five methods. (Not the smallest value along the run: the
#   gradient norm at the start is below its later values, so a method that barely moves would "win" that way.)
EXP=${EXP:-E4}
. experiments/lib.sh

SEEDS=$(q 3 1)
LRS=$(q 0.005,0.0025,0.001,0.0005,0.00025,0.0001 0.001)
EXT_LRS=$(q 0.05,0.025,0.01 0.01)
BETAS=$(q 0.1,0.9 0.9)
STEPS=$(q 300 10)
F="--problem mlp --data fashion-mnist --train-limit $(q 10000 1000) --batch 128 --steps $STEPS --eval-every $(q 30 5)"
F="$F --threads 1"

# mean_curve DIR COLUMN: "step mean" over seeds, one line per evaluated step (for gnuplot).
mean_curve() {
    c=$(exp_col "$1" "$2")
    awk -F, -v c="$c" 'NR > 1 { s[$2] += $c; n[$2]++ } END { for (k in s) print k, s[k] / n[k] }' \
        "$1/metrics.csv" | sort -n
}

ALGOS="signum signsgd sgdm adamw ef-signsgd"
: >"$OUT/chosen.txt"
for a in $ALGOS; do
    case $a in
    signum) extra="--momentum-init first-grad" grid="--beta $BETAS" ;;
    sgdm | adamw) extra="" grid="--beta $BETAS" ;;
    *) extra="" grid="" ;;
    esac
    # shellcheck disable=SC2086
    set -- $(exp_sweep_best "sweep-$a" $F --algo "$a" $extra --lr "$LRS" $grid)
    # a best lr on the grid's top edge says the grid is too small for this method at this scale: extend it upward
    # (the seed's pattern x 10) and keep whichever cell has the lower final loss
    if [ "$1" = "${LRS%%,*}" ]; then
        lo=$(sed -n 's/^best: .*mean final loss \([^ ]*\) .*/\1/p' "$OUT/sweep-$a.log")
        # shellcheck disable=SC2086
        set -- $1 $2 $(exp_sweep_best "sweep-$a-ext" $F --algo "$a" $extra --lr "$EXT_LRS" $grid)
        hi=$(sed -n 's/^best: .*mean final loss \([^ ]*\) .*/\1/p' "$OUT/sweep-$a-ext.log")
        if awk "BEGIN { exit !($hi < $lo) }"; then set -- $3 $4; fi
    fi
    bflag=""; [ -n "$grid" ] && bflag="--beta $2"
    echo "$EXP: $a chosen lr $1 ${bflag:-(no beta)}" | tee -a "$OUT/chosen.txt"
    # shellcheck disable=SC2086
    exp_train "$a" $F --algo "$a" $extra --lr "$1" $bflag --seeds "$SEEDS"
done

echo "$EXP: final training loss, ||grad f||_1 and ||grad f||_2 at the last step (mean ± std over $SEEDS seeds):"
for a in $ALGOS; do
    printf '%s: %-10s loss %s  train_acc %s  grad_l1 %s  grad_l2 %s\n' "$EXP" "$a" \
        "$(exp_mean_std "$OUT/$a" loss)" "$(exp_mean_std "$OUT/$a" train_acc)" \
        "$(exp_mean_std "$OUT/$a" grad_l1)" "$(exp_mean_std "$OUT/$a" grad_l2)"
    for col in loss grad_l1 grad_l2; do mean_curve "$OUT/$a" "$col" >"$OUT/$a-$col.dat"; done
done | tee "$OUT/table.txt"

# judge: signum's number against the best of the other four
for col in loss grad_l1 grad_l2; do
    sig=$(exp_final "$OUT/signum" "$col")
    best=""; who=""
    for a in signsgd sgdm adamw ef-signsgd; do
        v=$(exp_final "$OUT/$a" "$col")
        if [ -z "$best" ] || awk "BEGIN { exit !($v < $best) }"; then best=$v who=$a; fi
    done
    exp_claim "signum's final $col below every other method's (best other: $who)" "$sig < $best"
done

PNG=${PNG:-$OUT/E4.png}
gnuplot <<EOF || echo "$EXP: gnuplot failed" >&2
set terminal pngcairo size 1200,400 font ",9"
set output "$PNG"
set multiplot layout 1,3
set logscale y; set xlabel "step"; set key top right
set title "training loss"; set ylabel "f(x)"
plot for [a in "$ALGOS"] "$OUT/".a."-loss.dat" with lines lw 2 title a
set title "||grad f||_1"; set ylabel ""
plot for [a in "$ALGOS"] "$OUT/".a."-grad_l1.dat" with lines lw 2 title a
set title "||grad f||_2"
plot for [a in "$ALGOS"] "$OUT/".a."-grad_l2.dat" with lines lw 2 title a
unset multiplot
EOF
