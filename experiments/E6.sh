#!/bin/sh
# E6 — seed 000 §5.3, Tables 4-6: GPT-2 and Qwen3-0.6B fine-tuned on Alpaca (batch 256, 1 epoch, cosine decay,
# weight decay 0.1) with SGDM, signSGD, EF-signSGD, AdamW (betas 0.9/0.95) and Signum, each at its tuned lr
# (grid {1,5} x 10^k). Reported: final training loss Signum ~ AdamW < signSGD, EF-signSGD < SGDM, and the best lr of
# AdamW = 5 x the best lr of Signum (5e-4 vs 1e-4 on GPT-2, 5e-5 vs 1e-5 on Qwen3).
# Here: the `charlm` problem (a 2-layer, width-64, context-64 character GPT, ~111k parameters, trained from scratch
# on Debian's fortunes corpus), batch 16 windows, 1500 steps (~0.65 epoch), cosine decay to 0, weight decay 0.1 for
# every method (the paper's value), as the CLI applies it per algorithm (docs/algorithms.md): decoupled x <- x(1 - lr wd)
# for signum, signsgd and adamw (PyTorch AdamW), coupled g <- g + wd x for sgdm (PyTorch SGD) and for ef-signsgd
# (whose lr scales g inside the error-feedback sum and is not a step length; the previous release decayed it by
# x(1 - lr wd), 5-20% of every weight per step at its lr).
# Momenta (not tuned, to fit the budget): signum beta 0.9, adamw 0.9/0.95 (the paper's), sgdm 0.9.
# lr grid: the ladder {1,2,5} x 10^k (a superset of the paper's {1,5} x 10^k). Rerun on a quiet machine with one
# core, so the grid is cut to 3 points per method, centred on the best lr of the earlier 600-step, no-decay run
# (signum 5e-4, adamw 2e-3, signsgd 5e-3, ef-signsgd 1, sgdm 0.2), extended one point at a time (up to 6 times)
# while the best is at an edge. Tuning (experiments/PROTOCOL.md): the sweep runs at the horizon (1500 steps) on
# tuning seed 101, never reported, and alone chooses each method's lr. Then seeds 1..5 at each method's chosen lr
# (NBR=1 also runs the two neighbouring lrs of signum and adamw on them, for the table only). Loss = f on charlm's
# fixed 128 training windows at the last step. (Before issue 18 the sweep ran on seed 1, which was also reported,
# the extension stopped after 3 points, and the 3-seed means at the neighbouring lrs re-chose signum's and adamw's.)
# Claims: the ordering of final losses, and lr(adamw) / lr(signum) within one ladder step of 5 (2 .. 10).
# Environment: JOBS (runs at a time, default 1), RESUME=1 (keep runs already finished in $OUT), NBR=0 (skip the extra
# seeds at the neighbouring lrs), THREADS (--threads of each run, default auto: the numbers do not depend on it).
# About 37 runs of 1500 steps.
EXP=${EXP:-E6}
. experiments/lib.sh
export OPENBLAS_NUM_THREADS=1
# a private copy of the binary, so that a rebuild of build/signopt during the run cannot break or change it
cp "$SIGNOPT" "$OUT/signopt.tmp" && mv -f "$OUT/signopt.tmp" "$OUT/signopt.bin" && SIGNOPT=$OUT/signopt.bin || exit 1

STEPS=$(q 1500 3)
EVAL=$(q 250 3)
SEEDS=$(q 5 1)
JOBS=${JOBS:-1}
MAXEXT=$(q 6 0)
NBR=${NBR:-0}      # 1: also seeds at the neighbouring lrs of signum and adamw (reported, not used to choose)
METHODS="signum adamw signsgd ef-signsgd sgdm"
THREADS=${THREADS:-auto}
COMMON="--problem charlm --batch 16 --steps $STEPS --eval-every $EVAL --threads $THREADS --lr-schedule cosine --weight-decay $(q 0.1 0.1)"

# flags of a method
mflags() {
    case $1 in
        signum) echo "--algo signum --beta 0.9" ;;
        adamw) echo "--algo adamw --beta 0.9 --beta2 0.95" ;;
        signsgd) echo "--algo signsgd" ;;
        ef-signsgd) echo "--algo ef-signsgd" ;;
        sgdm) echo "--algo sgdm --beta 0.9" ;;
    esac
}
# first and last ladder index of a method's initial grid (index i: {1,2,5}[i mod 3] x 10^(floor(i/3) - 6))
grid0() {
    case $1 in
        signum) q "7 9" "9 9" ;;      # 2e-4 .. 1e-3
        adamw) q "9 11" "10 10" ;;    # 1e-3 .. 5e-3
        signsgd) q "10 12" "8 8" ;;   # 2e-3 .. 1e-2
        ef-signsgd) q "17 19" "15 15" ;; # 0.5 .. 2
        sgdm) q "15 17" "13 13" ;;    # 0.1 .. 0.5
    esac
}
lr_of() { awk -v i="$1" 'BEGIN { split("1 2 5", m, " "); printf "%g", m[i % 3 + 1] * 10 ^ (int(i / 3) - 6) }'; }

# final loss of DIR's seed(s), mean; a missing or non-finite value counts as 1e30 (diverged)
loss_of() {
    v=$( [ -s "$1/metrics.csv" ] && exp_final "$1" loss )
    echo "$v" | awk '{ if ($1 ~ /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/) print $1; else print 1e30 } END { if (NR == 0) print 1e30 }'
}

# background pool of JOBS runs at a time; RESUME=1 keeps runs that already finished in $OUT (summary.json written)
running=0
pool() {
    [ "${RESUME:-0}" = 1 ] && [ -s "$OUT/$1/summary.json" ] && { echo "$EXP: keep $1 (RESUME=1)" >&2; return; }
    exp_train "$@" & running=$((running + 1)); [ "$running" -lt "$JOBS" ] || { wait; running=0; }
}
drain() { wait; running=0; }

# sweep: seed 1 over the grid, extended while the best is at an edge
for m in $METHODS; do
    set -- $(grid0 $m); echo "$1 $2" >"$OUT/range_$m"
    i=$1; while [ "$i" -le "$2" ]; do pool "sweep_${m}_$i" $COMMON $(mflags $m) --lr $(lr_of $i) --seed "$TUNE_SEED"; i=$((i + 1)); done
done
drain
ext=0
while :; do
    todo=""
    for m in $METHODS; do
        read lo hi <"$OUT/range_$m"
        : >"$OUT/sweep_$m.dat"
        i=$lo; while [ "$i" -le "$hi" ]; do echo "$i $(lr_of $i) $(loss_of "$OUT/sweep_${m}_$i")" >>"$OUT/sweep_$m.dat"; i=$((i + 1)); done
        best=$(sort -g -k3 "$OUT/sweep_$m.dat" | head -n 1 | cut -d' ' -f1)
        echo "$best" >"$OUT/best1_$m"
        [ "$ext" -lt "$MAXEXT" ] || continue
        if [ "$best" -eq "$lo" ]; then lo=$((lo - 1)); todo="$todo $m:$lo"
        elif [ "$best" -eq "$hi" ]; then hi=$((hi + 1)); todo="$todo $m:$hi"; fi
        echo "$lo $hi" >"$OUT/range_$m"
    done
    [ -n "$todo" ] || break
    echo "$EXP: best at a grid edge, extending:$todo" >&2
    for t in $todo; do m=${t%%:*}; i=${t#*:}; pool "sweep_${m}_$i" $COMMON $(mflags $m) --lr $(lr_of $i) --seed "$TUNE_SEED"; done
    drain
    ext=$((ext + 1))
done

# seeds 1..SEEDS at the chosen lr (NBR=1: signum, adamw also at its neighbours), one run each; cell_M_I merges them
cells() {
    b=$(cat "$OUT/best1_$1"); read lo hi <"$OUT/range_$1"
    case $1 in signum | adamw) for i in $((b - 1)) $b $((b + 1)); do [ "$i" -ge "$lo" ] && [ "$i" -le "$hi" ] && echo $i; done ;;
        *) echo $b ;; esac
}
[ "$NBR" = 1 ] || cells() { cat "$OUT/best1_$1"; }
for pass in best nbr; do
    for m in $METHODS; do
        for i in $(cells $m); do
            [ "$i" = "$(cat "$OUT/best1_$m")" ] && [ $pass = nbr ] && continue
            [ "$i" != "$(cat "$OUT/best1_$m")" ] && [ $pass = best ] && continue
            s=1; while [ "$s" -le "$SEEDS" ]; do pool "seed${s}_${m}_$i" $COMMON $(mflags $m) --lr $(lr_of $i) --seed $s; s=$((s + 1)); done
        done
    done
done
drain
for m in $METHODS; do
    : >"$OUT/final_$m.dat"
    for i in $(cells $m); do
        d="$OUT/cell_${m}_$i"; mkdir -p "$d"
        head -n 1 "$OUT/seed1_${m}_$i/metrics.csv" >"$d/metrics.csv"
        s=1; while [ "$s" -le "$SEEDS" ]; do tail -n +2 "$OUT/seed${s}_${m}_$i/metrics.csv" >>"$d/metrics.csv"; s=$((s + 1)); done
        echo "$i $(lr_of $i) $(loss_of "$d") $(exp_final "$d" loss std) $(exp_final "$d" test_acc) $(exp_final "$d" test_acc std)" >>"$OUT/final_$m.dat"
    done
    # the tuning seed's choice, not the best of the reported seeds
    awk -v b="$(cat "$OUT/best1_$m")" '$1 == b' "$OUT/final_$m.dat" >"$OUT/best_$m"
done

# tables
{
    echo "sweep (tuning seed $TUNE_SEED): final loss per lr"
    for m in $METHODS; do printf '%-11s' "$m"; awk '{ printf "  %s: %.4f", $2, $3 }' "$OUT/sweep_$m.dat"; echo; done
    echo "$SEEDS seeds (mean ± std): lr, final loss, test accuracy"
    for m in $METHODS; do
        awk -v m="$m" '{ printf "%-11s lr %-7s loss %.4f ± %.4f  test_acc %.4f ± %.4f\n", m, $2, $3, $4, $5, $6 }' "$OUT/final_$m.dat"
    done
    echo "chosen per method (by the tuning seed), $SEEDS-seed mean:"
    for m in $METHODS; do awk -v m="$m" '{ printf "%-11s lr %-7s loss %.4f ± %.4f\n", m, $2, $3, $4 }' "$OUT/best_$m"; done
} | tee "$OUT/table.txt"

L() { cut -d' ' -f3 "$OUT/best_$1"; }
R() { cut -d' ' -f2 "$OUT/best_$1"; }
ls_=$(L signum); la=$(L adamw); lg=$(L signsgd); le=$(L ef-signsgd); lm=$(L sgdm)
ratio=$(awk -v a="$(R adamw)" -v s="$(R signum)" 'BEGIN { printf "%g", a / s }')
echo "$EXP: lr(adamw) / lr(signum) = $(R adamw) / $(R signum) = $ratio" | tee -a "$OUT/table.txt"
exp_claim "signum and adamw below signsgd and ef-signsgd (max(signum, adamw) < min(signsgd, ef-signsgd))" \
    "($ls_ > $la ? $ls_ : $la) < ($lg < $le ? $lg : $le)"
exp_claim "signsgd and ef-signsgd below sgdm (max(signsgd, ef-signsgd) < sgdm)" "($lg > $le ? $lg : $le) < $lm"
exp_claim "signum ~ adamw: |signum - adamw| < gap from the better of them to the better of signsgd, ef-signsgd" \
    "($ls_ - $la < 0 ? $la - $ls_ : $ls_ - $la) < ($lg < $le ? $lg : $le) - ($ls_ < $la ? $ls_ : $la)"
exp_claim "lr(adamw) ~ 5 x lr(signum): the ratio within one ladder step of 5" "$ratio >= 2 && $ratio <= 10"

# plot: loss curves at the best lr (mean over seeds), and the sweep's final loss against lr
for m in $METHODS; do
    d="$OUT/cell_${m}_$(cut -d' ' -f1 "$OUT/best_$m")"
    c=$(exp_col "$d" loss)
    awk -F, -v c="$c" 'NR > 1 { s[$2] += $c; n[$2]++ } END { for (k in s) print k, s[k] / n[k] }' "$d/metrics.csv" |
        sort -n >"$OUT/curve_$m.dat"
done
gnuplot <<EOF
set terminal pngcairo size 900,450 font ",10"
set output "$OUT/E6.png"
set multiplot layout 1,2
set xlabel "step"
set ylabel "training loss (nats/char)"
set yrange [$(q "*:3.4" "*:*")]
set title "charlm, each method at its best lr (mean of $SEEDS seeds)"
plot for [i = 1:5] "$OUT/curve_".word("$METHODS", i).".dat" with lines lw 2 dt i title word("$METHODS", i)
set logscale x
set format x "10^{%L}"
set xlabel "learning rate"
set ylabel "final training loss (tuning seed $TUNE_SEED)"
set yrange [$(q "*:3.4" "*:*")]
set title "lr sweep"
plot for [i = 1:5] "$OUT/sweep_".word("$METHODS", i).".dat" using 2:3 with linespoints lw 2 dt i pt i title word("$METHODS", i)
unset multiplot
EOF
