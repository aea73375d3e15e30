#!/bin/sh
# E10 — seed 003: sign methods under heavy-tailed noise (bounded kappa-th moment only, kappa in (1,2]) on
#   (L0,L1)-smooth objectives, with high-probability (1 - delta quantile) guarantees.
# Paper: SignSGD, minibatch-SignSGD and M-SignSGD vs SGD; bounds on the gradient norm with probability 1 - delta.
# Here: synthetic problems l0l1 (f = sum (cosh x_i - 1), a = 1, d = 10: (L0,L1) = (1,1), not L-smooth) and
#   quadratic (d = 10, L_i from 1 to 10), gradient noise added per coordinate per sample. Starts x0 = 2.7183
#   (l0l1) and 0.7071 (quadratic), not the defaults 3 and 1: sign methods move on the lattice x0 + lr Z, and with
#   x0 a multiple of a grid rate they land exactly on the minimum (min ||grad|| ~ 1e-7), an artifact of the start.
#   symmetric Pareto pareto:K:1 with tail index K in {2, 1.7, 1.4, 1.2, 1.1} (E|X|^p finite iff p < K, so the
#   noise has a bounded kappa-th moment only for kappa < K) and Student-t student:NU:1, NU in {2, 1.5, 1.2}.
#   Methods: sgd, signsgd (batch 1), minibatch signsgd (signsgd, batch 10), M-SignSGD (signum with
#   --lr-schedule theory:003-thm1: gamma = c T^{-3/4}, beta = 1 - T^{-1/2}). T = 500 steps, evaluated every step
#   (so the min over evaluations is the min over steps), batch 1 unless stated.
# Learning rates: chosen per method and problem on the mildest noise (pareto:2:1) with 20 seeds (seeds 1001..),
#   by the smallest 0.9-quantile of min_t ||grad f(x_t)||_2; grid lr in {0.3, 0.1, 0.03, 0.01, 0.003} (sgd,
#   signsgd, minibatch) and c in {10, 3, 1, 0.3, 0.1} (M-SignSGD). The chosen rate is then used at every kappa.
# Seeds: 100 per cell (seeds 1..100). A run that diverges (SGD on l0l1 overflows cosh) stops that seed: its rows
#   up to the divergence are kept, its min is the min over those rows (it includes x0), and it is counted.
# Reported per cell: the (1-delta)-quantiles (delta = 0.1, 0.05; linear interpolation) over seeds of each seed's
#   min_t ||grad f(x_t)||_2, the median, the same quantile of the final ||grad f||_2, and diverged seeds.
# Claims (criteria fixed before running), per problem and noise family, with R = q95(heaviest) / q95(mildest):
#   (a) each sign method degrades gracefully: R <= 10; (b) SGD's tail quantile blows up: R >= 10;
#   (c) at the heaviest noise SGD's q95 exceeds every sign method's.
EXP=${EXP:-E10}
. experiments/lib.sh

N=$(q 100 4)
NG=$(q 20 2)
T=$(q 500 30)
PARETO=$(q "2 1.7 1.4 1.2 1.1" "2 1.1")
STUDENT=$(q "2 1.5 1.2" "2 1.2")
PROBS="l0l1 quadratic"
LRS=$(q "0.3 0.1 0.03 0.01 0.003" "0.1 0.01")
CS=$(q "10 3 1 0.3 0.1" "1 0.1")
METHODS="sgd signsgd minibatch msignsgd"

# flags METHOD RATE: the algorithm flags of a method at a rate (lr, or c for M-SignSGD).
flags() {
    case $1 in
        sgd) echo "--algo sgd --lr $2 --batch 1" ;;
        signsgd) echo "--algo signsgd --lr $2 --batch 1" ;;
        minibatch) echo "--algo signsgd --lr $2 --batch 10" ;;
        msignsgd) echo "--algo signum --lr-schedule theory:003-thm1 --theory-c $2 --batch 1" ;;
    esac
}
prob_flags() {
    case $1 in
        l0l1) echo "--problem l0l1 --dim 10 --a 1 --x0 2.7183" ;;
        quadratic) echo "--problem quadratic --dim 10 --L-max 10 --x0 0.7071" ;;
    esac
}

# cell NAME SEED0 NSEEDS FLAGS...: seeds SEED0.. of one setting into $OUT/NAME. signopt runs every seed even when
# some diverge (exit 1 only if all do); a seed diverged exactly when its last metrics row is non-finite (inf/nan).
# Writes NAME/perseed.txt: "seed min_l2 final_l2 diverged", the minimum over the seed's finite rows only.
cell() {
    name=$1; s=$2; n=$3; shift 3
    d="$OUT/$name"; rm -rf "$d"
    "$SIGNOPT" train --quiet --force --out "$d" --seed "$s" --seeds "$n" --steps "$T" \
        --eval-every 1 --threads 1 "$@" >"$d.log" 2>&1
    rc=$?
    [ $rc -le 1 ] && [ -f "$d/metrics.csv" ] || { echo "$EXP: $name failed:" >&2; tail -n 3 "$d.log" >&2; exit 1; }
    awk -F, 'NR > 1 { bad = ($0 ~ /(nan|inf)/)
                      if (!bad && (!($1 in lo) || $8 < lo[$1])) lo[$1] = $8
                      if (!bad) fin[$1] = $8; dv[$1] = bad; seen[$1] = 1 }
        END { for (s in seen) print s, (s in lo) ? lo[s] : "inf", dv[s] ? "inf" : fin[s], dv[s] }' "$d/metrics.csv" |
        sort -n >"$d/perseed.txt"
}
# quant FILE COL P: the P-quantile of column COL of FILE (linear interpolation, as summary.json's q10/q90).
quant() {
    sort -g -k "$2,$2" "$1" | awk -v c="$2" -v p="$3" '{ v[NR] = $c }
        END { h = (NR - 1) * p + 1; i = int(h); printf "%.4g\n", (i < NR) ? v[i] + (h - i) * (v[i + 1] - v[i]) : v[NR] }'
}

# 1. Rates, on the mildest noise.
: >"$OUT/grid.txt"
for p in $PROBS; do
    for m in $METHODS; do
        best=""; bestq=""
        if [ "$m" = msignsgd ]; then grid=$CS; else grid=$LRS; fi
        for r in $grid; do
            echo "$EXP: grid $p $m $r" >&2
            cell "grid-$p-$m-$r" 1001 "$NG" $(prob_flags "$p") $(flags "$m" "$r") --noise pareto:2:1
            qq=$(quant "$OUT/grid-$p-$m-$r/perseed.txt" 2 0.9)
            echo "$p $m $r $qq" >>"$OUT/grid.txt"
            if [ -z "$best" ] || awk "BEGIN { exit !($qq < $bestq) }"; then best=$r; bestq=$qq; fi
        done
        eval "rate_${p}_$m=$best"
        echo "$EXP: $p $m: rate $best (q90 of min ||grad||_2 on pareto:2:1: $bestq)" >&2
    done
done

# 2. The kappa sweep.
table="$OUT/table.md"
printf '| problem | noise | method | rate | q90 min‖∇f‖₂ | q95 min‖∇f‖₂ | median min‖∇f‖₂ | q95 final‖∇f‖₂ | diverged |\n' >"$table"
printf '| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n' >>"$table"
: >"$OUT/cells.txt"
for p in $PROBS; do
    for fam in pareto student; do
        if [ $fam = pareto ]; then ks=$PARETO; else ks=$STUDENT; fi
        for k in $ks; do
            for m in $METHODS; do
                eval "r=\$rate_${p}_$m"
                echo "$EXP: cell $p $fam:$k $m" >&2
                cell "$p-$fam$k-$m" 1 "$N" $(prob_flags "$p") $(flags "$m" "$r") --noise "$fam:$k:1"
                f="$OUT/$p-$fam$k-$m/perseed.txt"
                q90=$(quant "$f" 2 0.9); q95=$(quant "$f" 2 0.95); med=$(quant "$f" 2 0.5); fq=$(quant "$f" 3 0.95)
                dv=$(awk '{ s += $4 } END { print s + 0 }' "$f")
                echo "$p $fam $k $m $q90 $q95 $med $fq $dv" >>"$OUT/cells.txt"
                printf '| %s | %s:%s:1 | %s | %s | %s | %s | %s | %s | %s/%s |\n' "$p" "$fam" "$k" "$m" "$r" "$q90" \
                    "$q95" "$med" "$fq" "$dv" "$N" >>"$table"
            done
        done
    done
done
cat "$table"

# 3. Claims. qv PROB FAM K METHOD: that cell's q95.
qv() { awk -v p="$1" -v f="$2" -v k="$3" -v m="$4" '$1 == p && $2 == f && $3 == k && $4 == m { print $6 }' "$OUT/cells.txt"; }
for p in $PROBS; do
    for fam in pareto student; do
        if [ $fam = pareto ]; then ks=$PARETO; else ks=$STUDENT; fi
        k0=$(echo $ks | awk '{ print $1 }'); k1=$(echo $ks | awk '{ print $NF }')
        for m in signsgd minibatch msignsgd; do
            exp_claim "$p $fam: $m degrades gracefully, q95 ratio $fam:$k1 / $fam:$k0 <= 10" \
                "$(qv $p $fam $k1 $m) <= 10 * $(qv $p $fam $k0 $m)"
            exp_claim "$p $fam:$k1: SGD's q95 above $m's" "$(qv $p $fam $k1 sgd) > $(qv $p $fam $k1 $m)"
        done
        exp_claim "$p $fam: SGD's q95 blows up, ratio $fam:$k1 / $fam:$k0 >= 10" \
            "$(qv $p $fam $k1 sgd) >= 10 * $(qv $p $fam $k0 sgd)"
    done
done

# 4. Figure: q95 of min ||grad f||_2 against the tail index, one panel per problem and family.
for p in $PROBS; do for fam in pareto student; do for m in $METHODS; do
    awk -v p=$p -v f=$fam -v m=$m '$1 == p && $2 == f && $4 == m { print $3, $6, $5 }' "$OUT/cells.txt" \
        >"$OUT/fig-$p-$fam-$m.dat"
done; done; done
gnuplot <<EOF
set terminal pngcairo size 900,600 font ",9"
set output "$OUT/E10.png"
set multiplot layout 2,2
set logscale y
set xrange [*:*] reverse
set key top left
set ylabel "q95 (pts) / q90 (dashed) of min_t ||grad f||_2"
do for [p in "$PROBS"] { do for [f in "pareto student"] {
    set title p.", ".f." noise, 100 seeds"
    set xlabel (f eq "pareto" ? "tail index K (heavier to the right)" : "degrees of freedom nu (heavier to the right)")
    plot for [i = 1:4] "$OUT/fig-".p."-".f."-".word("$METHODS", i).".dat" using 1:2 with linespoints lw 2 lc i pt 7 title word("$METHODS", i), \
         for [i = 1:4] "$OUT/fig-".p."-".f."-".word("$METHODS", i).".dat" using 1:3 with lines dt 2 lc i notitle
} }
unset multiplot
EOF
echo "$EXP: figure $OUT/E10.png" >&2
