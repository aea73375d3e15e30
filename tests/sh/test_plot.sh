#!/bin/sh
# test_plot.sh — `signopt plot` against independent evidence: the PNG it writes (magic bytes, a non-trivial size),
# its table's numbers against a separate awk computation of mean/std over seeds from metrics.csv and against a
# hand-made CSV whose answers are known, and its errors (FILE:LINE for malformed input, exit 1; bad flags exit 2).
# Last line: "plot: N passed, M failed".
NAME=plot
. tests/sh/lib.sh
case $S in /*) ;; *) S=$(pwd)/$S ;; esac

# A valid PNG: the 8 magic bytes 89 50 4E 47 0D 0A 1A 0A and more than a blank canvas.
is_png() {
    [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && [ "$(wc -c <"$1")" -gt 10000 ]
}

# ---- two real runs, 3 seeds each ----
common="--quiet --problem quadratic --workers 3 --dim 40 --x0 0.5 --noise gauss:2 --lr 0.01 --steps 30 --eval-every 5 --seeds 3"
"$S" train $common --algo mv-signsgd --out "$T/mv-signsgd" >/dev/null 2>&1
"$S" train $common --algo mv-signum --beta 0.9 --out "$T/mv-signum" >/dev/null 2>&1
"$S" plot "$T/mv-signsgd" "$T/mv-signum" --out "$T/fig.png" --table "$T/table.md" --title "two runs" \
    >"$T/stdout" 2>"$T/stderr"
check "plot of 2 runs exits 0" [ $? -eq 0 ]
check "plot writes a valid PNG (magic bytes, > 10 kB)" is_png "$T/fig.png"
check "no temporary file left beside the PNG" [ "$(ls "$T" | grep -c '\.tmp\.')" -eq 0 ]
check "--table FILE holds exactly the table printed on stdout" cmp -s "$T/stdout" "$T/table.md"
check "table: header, rule, one row per run" [ "$(wc -l <"$T/stdout")" -eq 4 ]

# The table's numbers against awk: each seed's last row, mean and sample std (n-1) of loss and grad_l1, mean bits.
for run in mv-signsgd mv-signum; do
    want=$(awk -F, 'NR > 1 { last[$1] = $0 }
        END { for (s in last) { split(last[s], f, ","); k++; L[k] = f[4]; G[k] = f[7]; B += f[10] }
              for (i = 1; i <= k; i++) { ml += L[i]; mg += G[i] } ml /= k; mg /= k
              for (i = 1; i <= k; i++) { sl += (L[i] - ml) ^ 2; sg += (G[i] - mg) ^ 2 }
              printf "%.9g %.9g %.9g %.9g %.9g %d\n", ml, sqrt(sl / (k - 1)), mg, sqrt(sg / (k - 1)), B / k, k }' \
        "$T/$run/metrics.csv")
    got=$(awk -F'|' -v r="$run" '$2 == " " r " " {
        split($5, l, " ± "); split($7, g, " ± "); printf "%s %s %s %s %s %d\n", l[1], l[2], g[1], g[2], $9, $3 }' \
        "$T/stdout")
    echo "$want $got" | awk '{ for (i = 1; i <= 6; i++) { d = $i - $(i + 6); if (d < 0) d = -d
        a = $i < 0 ? -$i : $i; if (d > 1e-5 * a + 1e-12) { print "col " i ": want " $i " got " $(i + 6) > "/dev/stderr"; exit 1 } } }'
    check "$run: table mean/std of final loss, grad_l1, bits, seeds equal awk's (rtol 1e-5)" \
        [ $? -eq 0 -a -n "$got" ]
done

(cd "$T/mv-signum" && "$S" plot . --no-png) >"$T/dot"
check "run label: DIR's last component, or the algo of summary.json for '.'" grep -q '^| mv-signum | 3 | 30 |' "$T/dot"

# ---- a hand-made run with known answers: seeds 1 and 2, final losses 1 and 3 (mean 2, std sqrt 2) ----
mkdir -p "$T/hand"
cat >"$T/hand/metrics.csv" <<'CSV'
seed,step,epoch,loss,train_acc,test_acc,grad_l1,grad_l2,g_linf,bits_up,bits_down,wall_s
1,0,0,5,0.1,0.1,10,3,0,0,0,0
1,10,1,1,0.8,0.7,2,1,1,100,100,0.1
2,0,0,5,0.1,0.1,10,3,0,0,0,0
2,10,1,3,0.6,0.5,4,2,1,100,100,0.1
CSV
"$S" plot "$T/hand" --no-png >"$T/h"
check "hand-made CSV: loss 2 ± 1.41421, test acc 0.6 ± 0.141421, grad_l1 3 ± 1.41421, bits 100" \
    grep -q '^| hand | 2 | 10 | 2 ± 1.41421 | 0.6 ± 0.141421 | 3 ± 1.41421 | 1.5 ± 0.707107 | 100 |$' "$T/h"
"$S" plot "$T/hand" "$T/mv-signum" --x bits --metrics loss,test_acc --out "$T/bits.png" >/dev/null 2>&1
check "--x bits --metrics loss,test_acc writes a PNG" is_png "$T/bits.png"
"$S" plot "$T/hand" --x epoch --out "$T/ep.png" >/dev/null 2>&1
check "--x epoch writes a PNG" is_png "$T/ep.png"

# ---- malformed input: exit 1, one line naming FILE:LINE ----
errcase() { # errcase NAME EXPECTED-TEXT CSV-CONTENT
    mkdir -p "$T/e_$1"
    printf '%b' "$3" >"$T/e_$1/metrics.csv"
    "$S" plot "$T/e_$1" --no-png >"$T/o" 2>"$T/e"
    rc=$?
    if [ $rc -eq 1 ] && [ "$(wc -l <"$T/e")" -eq 1 ] && grep -qF "$T/e_$1/metrics.csv:$2" "$T/e" && [ ! -s "$T/o" ]
    then ok; else bad "$1: exit $rc, stderr: $(cat "$T/e")"; fi
}
H='seed,step,epoch,loss,train_acc,test_acc,grad_l1,grad_l2,g_linf,bits_up,bits_down,wall_s\n'
errcase header "1: the header lacks column 'loss'" 'seed,step,epoch,los,train_acc,test_acc,grad_l1,grad_l2,g_linf,bits_up,bits_down,wall_s\n1,0,0,1,,,1,1,0,0,0,0\n'
errcase short "3: expected 12 fields" "${H}1,0,0,1,,,1,1,0,0,0,0\n1,5,0,1,,,1\n"
errcase nonnumber "4: column 'grad_l1': expected a number, got 'abc'" "${H}1,0,0,1,,,1,1,0,0,0,0\n1,5,0,1,,,1,1,0,0,0,0\n1,6,0,1,,,abc,1,0,0,0,0\n"
errcase emptyloss "2: column 'loss'" "${H}1,0,0,,,,1,1,0,0,0,0\n"
errcase seed "2: column 'seed': expected an integer" "${H}1.5,0,0,1,,,1,1,0,0,0,0\n"
errcase norows "2: no data rows" "${H}"
errcase empty "1: empty file" ""
"$S" plot "$T/nowhere" --no-png >/dev/null 2>"$T/e"
rc=$?
check "a DIR without metrics.csv exits 1 naming the file" sh -c "[ $rc -eq 1 ] && grep -qF '$T/nowhere/metrics.csv' '$T/e'"

# ---- bad flags: exit 2, one line ----
flagcase() {
    "$S" plot "$@" >/dev/null 2>"$T/e"
    rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$T/e")" -eq 1 ]; then ok; else bad "plot $* -> exit $rc: $(cat "$T/e")"; fi
}
flagcase "$T/hand" --bogus
flagcase "$T/hand" --x time
flagcase "$T/hand" --metrics loss,speed
flagcase "$T/hand" --metrics loss,loss
flagcase "$T/hand" --out
flagcase
env PATH=/nonexistent "$S" plot "$T/hand" --out "$T/x.png" >/dev/null 2>"$T/e"
rc=$?
check "no gnuplot on PATH: exit 1 saying so" sh -c "[ $rc -eq 1 ] && grep -q gnuplot '$T/e' && [ ! -e '$T/x.png' ]"

echo "plot: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
