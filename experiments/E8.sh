#!/bin/sh
# E8 — seed 004, Examples 1 and 4, Fig. 1: exact (noise-free) gradients, step size alpha = 0.05.
#   Paper: f = x1^2 + x2^2 from x0 = (alpha/2, alpha/2) (Example 1), and f = x^2 + 3 sin^2 x (Example 4, "an
#   arbitrary initial state"; here the problem's default x0 = pi); GD vs signGD vs signum vs EF-signGD vs scaled
#   signGD, all with alpha = 0.05. Here: the same problems (signgd-counterexample, pl-toy), the same five methods
#   (sgd, signsgd, signum, ef-signsgd, scaled-signsgd), lr 0.05, signum beta 0.9 (004 gives no beta; 0.9 is the
#   usual value), 400 steps, evaluated every step. No grid: 004 fixes alpha. The gradients are exact, so every
#   seed gives the same trajectory; 3 seeds are run anyway and their std is 0 (printed, not assumed).
# Measured per run: the linear rate = least-squares slope of ln f(x_t) against t over the second half of the
#   active range [t1/2, t1], t1 = the first step with f < 1e-20 (or the last step), the final f, and the smallest
#   f over the second half of the run.
# Claims (stated before running): on both problems (a) sgd, ef-signsgd and scaled-signsgd converge linearly:
#   final f < 1e-12 and slope < -0.05 per step; (b) each of them is "like GD": slope at most half of GD's
#   (i.e. at least half as fast); (c) signsgd and signum stall: the smallest f over the second half is > 1e-6.
EXP=${EXP:-E8}
. experiments/lib.sh

T=$(q 400 40)
ALGOS="sgd signsgd signum ef-signsgd scaled-signsgd"
PROBS="signgd-counterexample pl-toy"
for p in $PROBS; do
    for a in $ALGOS; do
        exp_train "$p-$a" --problem "$p" --algo "$a" --lr 0.05 --beta 0.9 --noise none --steps "$T" \
            --eval-every 1 --seeds 3 --threads 1
    done
done

# rate DIR: the slope of ln f over [t1/2, t1] (seed 1), as described above.
rate() {
    awk -F, 'NR > 1 && $1 == 1 { n++; t[n] = $2; f[n] = $4 }
        END { t1 = n; for (i = 1; i <= n; i++) if (f[i] < 1e-20) { t1 = i; break }
              t0 = int(t1 / 2); if (t0 < 1) t0 = 1
              for (i = t0; i <= t1; i++) { if (f[i] <= 0) continue; y = log(f[i]); k++
                  st += t[i]; sy += y; stt += t[i] * t[i]; sty += t[i] * y }
              d = k * stt - st * st; printf "%.4g\n", (d > 0 ? (k * sty - st * sy) / d : 0) }' "$1/metrics.csv"
}
# tailmin DIR: the smallest f over the second half of the run (over all seeds).
tailmin() {
    awk -F, -v T="$T" 'NR > 1 && $2 >= T / 2 { if (m == "" || $4 < m) m = $4 } END { printf "%.4g\n", m }' \
        "$1/metrics.csv"
}

table="$OUT/table.md"
printf '| problem | method | rate: slope of ln f per step | final f (mean ± std over 3 seeds) | min f over 2nd half |\n' >"$table"
printf '| --- | --- | --- | --- | --- |\n' >>"$table"
for p in $PROBS; do
    for a in $ALGOS; do
        d="$OUT/$p-$a"
        eval "r_$(echo "$p" | tr -c 'a-z0-9\n' _)_$(echo "$a" | tr -c 'a-z0-9\n' _)=$(rate "$d")"
        eval "m_$(echo "$p" | tr -c 'a-z0-9\n' _)_$(echo "$a" | tr -c 'a-z0-9\n' _)=$(tailmin "$d")"
        eval "f_$(echo "$p" | tr -c 'a-z0-9\n' _)_$(echo "$a" | tr -c 'a-z0-9\n' _)=$(exp_final "$d" loss)"
        printf '| %s | %s | %s | %s | %s |\n' "$p" "$a" "$(rate "$d")" "$(exp_mean_std "$d" loss)" \
            "$(tailmin "$d")" >>"$table"
    done
done
cat "$table"

for p in signgd_counterexample pl_toy; do
    eval "gd=\$r_${p}_sgd"
    for a in sgd ef_signsgd scaled_signsgd; do
        eval "r=\$r_${p}_$a; f=\$f_${p}_$a"
        exp_claim "$p: $a converges linearly (final f < 1e-12, slope < -0.05)" "$f < 1e-12 && $r < -0.05"
        [ "$a" = sgd ] || exp_claim "$p: $a at least half as fast as GD (slope <= GD slope / 2)" "$r <= $gd / 2"
    done
    for a in signsgd signum; do
        eval "m=\$m_${p}_$a"
        exp_claim "$p: $a stalls (min f over the 2nd half > 1e-6)" "$m > 1e-6"
    done
done

# Figure: ln f against t, one panel per problem (seed 1; all seeds coincide).
csv1() { awk -F, 'NR > 1 && $1 == 1 && $4 > 0 { print $2, $4 }' "$1/metrics.csv" >"$1/f.dat"; }
for p in $PROBS; do for a in $ALGOS; do csv1 "$OUT/$p-$a"; done; done
gnuplot <<EOF
set terminal pngcairo size 900,450 font ",10"
set output "$OUT/E8.png"
set multiplot layout 1,2
set logscale y
set format y "1e%L"
set yrange [1e-30:100]
set xlabel "step t"
set ylabel "f(x_t)"
set key bottom left
do for [p in "$PROBS"] {
    set title p." (alpha = 0.05, exact gradients)"
    plot for [i = 1:5] "$OUT/".p."-".word("$ALGOS", i)."/f.dat" with lines lw 2 dt i title word("$ALGOS", i)
}
unset multiplot
EOF
echo "$EXP: figure $OUT/E8.png" >&2
