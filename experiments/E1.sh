# E1 — seed 001, Section 4.1, Table 2 / Table 3 (and Fig. 1, 2).
# Seed: ResNet-20/32/56/110 on CIFAR-10/100, batch 128, 32, 8; signSGD vs signSGD-SIM (theta = 0.9) vs SGD-M;
#   200 epochs; lr 1e-3 at batch 128, "for smaller batch sizes, the learning rate was proportionally reduced"
#   (Goyal et al.): lr = 1e-3 * B / 128; weight decay 1e-4; 5 runs.
# Here: the `cnn` (docs/experiments.md's named substitute) on all 60000 Fashion-MNIST training images, 1 epoch at every
#   batch size (so batch 8 takes 16x the steps of batch 128), 3 seeds; test_acc on all 10000 test images.
#   Shrunk for time (one core, ~45 min budget): 1 epoch, not 200; 3 evaluations per run (step 0, half, end), each
#   computing loss / gradient norms / train_acc on the first 5000 training rows only (--eval-limit 5000; a full
#   cnn gradient over 60000 rows costs ~45 s). Measured probe (quiet box, 1 core): 2000 cnn steps at batch 8 in
#   ~15 s of training (~0.9 ms per image), one evaluation ~4-6 s, so one 1-epoch run is ~1 min.
#   MODEL=mlp reruns the previous session's mlp (784-64-64-10) version of this experiment.
#   signSGD = signsgd; signSGD-SIM = signum with beta = 0.9 and the 001 convention --momentum-init zero;
#   SGD-M = sgdm (PyTorch form, beta 0.9). Weight decay 1e-4 for all.
# Grid: the seed fixes the sign methods' lr (1e-3 at B = 128, proportional below), so no search for them. SGD-M's lr
#   is not given in the seed: tuned by the protocol (experiments/PROTOCOL.md) at B = 128 over SGDM_LR, extended while
#   its best is at an edge, at the horizon (1 epoch) on tuning seed 101 (never reported), by the final training loss
#   on the 5000-row evaluation subset; then scaled by B / 128 like the others. (Before issue 18: on seed 1, one of
#   the reported seeds, and its best, 0.1, sat at the grid's top.)
# Claim: signSGD's test accuracy falls as the batch shrinks (B = 8 below B = 128 by more than 2 points);
#   signSGD-SIM holds within 2 points between B = 128 and B = 8.
EXP=${EXP:-E1}
. experiments/lib.sh

SEEDS=$(q 3 1)
BATCHES=$(q "128 32 8" "128 8")
SGDM_LR=$(q 0.1,0.03,0.01,0.003 0.01)
MODEL=${MODEL:-$(q cnn mlp)}   # quick runs use the mlp (a cnn evaluation alone takes seconds)
# every core: a run's numbers do not depend on the thread count (the cnn's fixed chunks, tests/sh/test_threads.sh)
THREADS=${THREADS:-auto}
TRAIN="--problem $MODEL --data fashion-mnist --weight-decay 1e-4 --threads $THREADS --eval-limit $(q 5000 500)"
# quick runs: 40 steps on 2000 rows instead of one epoch on all 60000
LEN=$(q "--epochs 1" "--steps 40 --train-limit 2000")

# eval_every B: 3 evaluations per run (step 0, half an epoch, the end); each passes 5000 training + 10000 test images
eval_every() { if [ "$QUICK" = 1 ]; then echo 20; else echo $(((60000 / $1 + 1) / 2)); fi; }
# lr_at BASE B: BASE * B / 128
lr_at() { awk -v l="$1" -v b="$2" 'BEGIN { printf "%.6g", l * b / 128 }'; }

# REUSE=1: keep a sweep or run that already finished in $OUT (resuming an interrupted run); else all run afresh.
REUSE=${REUSE:-0}
# shellcheck disable=SC2086
set -- $(exp_tune tune-sgdm "$SGDM_LR" 0.9 "" $TRAIN $LEN --batch 128 --eval-every "$(eval_every 128)" --algo sgdm) ||
    exit 1
lr_sgdm=$1
echo "$EXP: SGD-M lr at batch 128 from {$SGDM_LR} (extended at edges): $lr_sgdm" | tee "$OUT/chosen.txt"

# run NAME FLAGS...: exp_train, unless REUSE=1 and NAME finished before
run() { if [ "$REUSE" = 1 ] && [ -f "$OUT/$1/summary.json" ]; then echo "$EXP: reuse $1" >&2; else exp_train "$@"; fi; }
# the sign methods (the claim) at every batch size first, then the SGD-M reference
for a in signsgd signum sgdm; do
    for b in $BATCHES; do
        F="$TRAIN $LEN --batch $b --eval-every $(eval_every "$b") --seeds $SEEDS"
        # shellcheck disable=SC2086
        case $a in
        signsgd) run "signsgd-b$b" $F --algo signsgd --lr "$(lr_at 1e-3 "$b")" ;;
        signum) run "signum-b$b" $F --algo signum --beta 0.9 --momentum-init zero --lr "$(lr_at 1e-3 "$b")" ;;
        sgdm) run "sgdm-b$b" $F --algo sgdm --beta 0.9 --lr "$(lr_at "$lr_sgdm" "$b")" ;;
        esac
    done
done

echo "$EXP: final test accuracy (mean ± std over $SEEDS seeds), after one epoch:"
for a in signsgd signum sgdm; do
    for b in $BATCHES; do
        printf '%s: %-8s B=%-4s test_acc %s  loss %s\n' "$EXP" "$a" "$b" \
            "$(exp_mean_std "$OUT/$a-b$b" test_acc)" "$(exp_mean_std "$OUT/$a-b$b" loss)"
        printf '%s %s %s %s\n' "$b" "$(exp_final "$OUT/$a-b$b" test_acc)" "$(exp_final "$OUT/$a-b$b" test_acc std)" \
            "$(exp_final "$OUT/$a-b$b" loss)" >>"$OUT/$a.dat.tmp"
    done
    sort -n "$OUT/$a.dat.tmp" >"$OUT/$a.dat"; rm -f "$OUT/$a.dat.tmp"
done | tee "$OUT/table.txt"

small=$(echo "$BATCHES" | awk '{ print $NF }')
s128=$(exp_final "$OUT/signsgd-b128" test_acc); s_small=$(exp_final "$OUT/signsgd-b$small" test_acc)
m128=$(exp_final "$OUT/signum-b128" test_acc); m_small=$(exp_final "$OUT/signum-b$small" test_acc)
exp_claim "signSGD test accuracy falls by more than 2 points from B=128 to B=$small" "$s128 - $s_small > 0.02"
exp_claim "signSGD-SIM test accuracy within 2 points between B=128 and B=$small" \
    "$m128 - $m_small <= 0.02 && $m_small - $m128 <= 0.02"
exp_claim "signSGD-SIM above signSGD at B=$small" "$m_small > $s_small"

PNG=${PNG:-$OUT/E1.png}
gnuplot <<EOF || echo "$EXP: gnuplot failed" >&2
set terminal pngcairo size 900,420 font ",10"
set output "$PNG"
set multiplot layout 1,2
set logscale x 2; set xtics ("8" 8, "32" 32, "128" 128); set xrange [6:170]; set xlabel "batch size B"
set key bottom right
set title "$MODEL on Fashion-MNIST, 1 epoch: test accuracy"
set ylabel "test accuracy"
plot for [a in "signsgd signum sgdm"] "$OUT/".a.".dat" using 1:2:3 with yerrorlines lw 2 title a
set title "final training loss (first 5000 rows)"; set ylabel "training loss"
plot for [a in "signsgd signum sgdm"] "$OUT/".a.".dat" using 1:4 with linespoints lw 2 title a
unset multiplot
EOF
