#!/bin/sh
# test_plot.sh — `signopt plot` against independent evidence: the PNG it writes (magic bytes, a non-trivial size),
# its table's numbers against a separate awk computation of mean/std over seeds from metrics.csv, against a
# hand-made CSV whose answers are known and against what train and sweep themselves print and record (summary.json),
# every kind of directory train and sweep write (diverged, interrupted, distributed, logreg runs; sweeps, grid
# sweeps, interrupted sweeps), where the figure goes (only to --out, atomically; gnuplot never on our stdout and
# quiet unless it fails or --verbose), and its errors (FILE:LINE for malformed input, exit 1; bad flags exit 2).
# Last line: "plot: N passed, M failed".
NAME=plot
. tests/sh/lib.sh
case $S in /*) ;; *) S=$(pwd)/$S ;; esac
PY=/usr/bin/python3

# A valid PNG: the 8 magic bytes 89 50 4E 47 0D 0A 1A 0A and more than a blank canvas.
is_png() {
    [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && [ "$(wc -c <"$1")" -gt 10000 ]
}
# No PNG bytes in a file (a figure that went to stdout would start with them).
no_png_bytes() { [ "$(grep -c PNG "$1")" -eq 0 ] && ! od -An -tx1 "$1" | tr -d ' \n' | grep -q 89504e47; }
# plot_stats_match TABLE LABEL DIR: the run's row in plot's table shows, for final loss, test acc, grad_l1 and
# grad_l2, mean ± std as %.6g of DIR/summary.json "final_stats_finite" (or "-" where it has no value).
plot_stats_match() {
    $PY - "$1" "$2" "$3/summary.json" <<'PYEOF'
import json, sys
table, label, summary = sys.argv[1:4]
fs = json.load(open(summary))["final_stats_finite"]
rows = [l.split("|")[1:-1] for l in open(table) if l.startswith("| " + label + " |")]
if len(rows) != 1: sys.exit("expected one row for %s, got %d" % (label, len(rows)))
cells = [c.strip() for c in rows[0]]
for col, key in ((3, "loss"), (4, "test_acc"), (5, "grad_l1"), (6, "grad_l2")):
    st = fs[key]
    want = "-" if not st["n"] else "%.6g ± %.6g" % (st["mean"], st["std"])
    if cells[col] != want: sys.exit("%s: plot shows '%s', summary.json gives '%s'" % (key, cells[col], want))
PYEOF
}

# ---- two real runs, 3 seeds each ----
common="--quiet --problem quadratic --workers 3 --dim 40 --x0 0.5 --noise gauss:2 --lr 0.01 --steps 30 --eval-every 5 --seeds 3"
"$S" train $common --algo mv-signsgd --out "$T/mv-signsgd" >/dev/null 2>&1
"$S" train $common --algo mv-signum --beta 0.9 --out "$T/mv-signum" >/dev/null 2>&1
"$S" plot "$T/mv-signsgd" "$T/mv-signum" --out "$T/fig.png" --table "$T/table.md" --title "two runs" \
    >"$T/stdout" 2>"$T/stderr"
check "plot of 2 runs exits 0" [ $? -eq 0 ]
check "plot writes a valid PNG (magic bytes, > 10 kB)" is_png "$T/fig.png"
check "no temporary file left beside the PNG" [ "$(ls -A "$T" | grep -c '^\.fig\.png\.')" -eq 0 ]
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
mkdir -p "$T/emptydir"
"$S" plot "$T/emptydir" --no-png >/dev/null 2>"$T/e"
rc=$?
check "a DIR without metrics.csv or sweep.csv exits 1 naming the file" \
    sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/e') -eq 1 ] && grep -qF '$T/emptydir/metrics.csv' '$T/e'"
"$S" plot "$T/nowhere" --no-png >/dev/null 2>"$T/e"
rc=$?
check "a DIR that does not exist exits 1 naming it" sh -c "[ $rc -eq 1 ] && grep -qF '$T/nowhere: cannot open' '$T/e'"

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


# interrupt_at PATTERN LOG CMD...: run CMD in the background (stdout to LOG.out, stderr to LOG) and send it SIGINT
# once LOG has a line matching PATTERN: a progress line, so the run is then part way through that seed.
interrupt_at() {
    pat=$1; log=$2; shift 2
    "$@" >"$log.out" 2>"$log" &
    pid=$!
    i=0
    while ! grep -q "$pat" "$log" 2>/dev/null && [ $i -lt 1500 ]; do sleep 0.01; i=$((i + 1)); done
    kill -INT $pid 2>/dev/null
    wait $pid
}
LOGREG="--problem logreg --data synthetic-epsilon --synth-size 2000,50 --threads 1 --algo signum --lr 0.01"

# ---- the figure goes to --out and nowhere else; gnuplot is quiet unless it fails ----
# An --out where no file can be made (root writes into read-only folders, so: a missing folder, a file used as
# a folder): found before anything is printed; one line, exit 1, nothing on stdout (no table, no PNG bytes).
for badout in "$T/no/such/dir/x.png" "$T/hand/metrics.csv/x.png"; do
    "$S" plot "$T/hand" --out "$badout" >"$T/o" 2>"$T/e"
    rc=$?
    if [ $rc -eq 1 ] && [ ! -s "$T/o" ] && [ "$(wc -l <"$T/e")" -eq 1 ] &&
        grep -qF "signopt plot: --out: cannot write '$badout': " "$T/e"; then ok
    else bad "--out $badout: exit $rc, stdout $(wc -c <"$T/o") bytes, stderr: $(head -c 300 "$T/e")"; fi
done
# A gnuplot that fails after writing PNG bytes to its stdout (what gnuplot does when it cannot open its output),
# and one that exits 0 the same way: our stdout holds the table only, nothing is left in --out's folder, and
# gnuplot's output is shown (each line marked "gnuplot: ") because it failed, before our one-line error.
mkdir -p "$T/fakebin" "$T/outdir"
cat >"$T/fakebin/gnuplot" <<'EOF'
#!/bin/sh
printf '\211PNG\r\n\032\n'
echo "fake-gnuplot: line 1: some error" >&2
exit "${FAKE_RC:-1}"
EOF
chmod +x "$T/fakebin/gnuplot"
for fake_rc in 1 0; do
    FAKE_RC=$fake_rc PATH="$T/fakebin:$PATH" "$S" plot "$T/hand" --out "$T/outdir/f.png" >"$T/o" 2>"$T/e"
    rc=$?
    if [ $rc -eq 1 ] && no_png_bytes "$T/o" && [ "$(wc -l <"$T/o")" -eq 3 ] && [ -z "$(ls -A "$T/outdir")" ] &&
        grep -q '^gnuplot: fake-gnuplot: line 1: some error$' "$T/e" &&
        tail -n 1 "$T/e" | grep -q '^signopt plot: gnuplot .*; no figure written$'; then ok
    else bad "gnuplot exiting $fake_rc: exit $rc, out dir: $(ls -A "$T/outdir"), stderr: $(head -c 300 "$T/e")"; fi
done
# Success with a gnuplot that warns (a single-node run sends no bits: against --x bits every x is 0, "empty x
# range"): stderr is exactly the "wrote" line; --verbose shows the warning.
"$S" train --quiet $LOGREG --steps 300 --eval-every 100 --seeds 2 --out "$T/logreg" >/dev/null
"$S" plot "$T/logreg" --x bits --metrics loss --out "$T/outdir/w.png" >/dev/null 2>"$T/e"
rc=$?
check "gnuplot's warnings are not shown on success: stderr is exactly the wrote line" \
    [ $rc -eq 0 -a "$(cat "$T/e")" = "signopt plot: wrote $T/outdir/w.png" ]
check "... and the PNG is valid, with no temporary file beside it" \
    sh -c "[ \"\$(ls -A '$T/outdir')\" = w.png ] && [ \"\$(head -c 4 '$T/outdir/w.png' | od -An -tx1 | tr -d ' \n')\" = 89504e47 ]"
"$S" plot "$T/logreg" --x bits --metrics loss --out "$T/outdir/w.png" --verbose >/dev/null 2>"$T/e"
check "--verbose shows gnuplot's own output" grep -qi 'warning' "$T/e"
(umask 022 && "$S" plot "$T/logreg" --metrics loss --out "$T/outdir/m.png" >/dev/null 2>&1)
check "the PNG gets a new file's mode (0644 under umask 022), not mkstemp's 0600" \
    [ "$(stat -c %a "$T/outdir/m.png")" = 644 ]
check "a logreg run: test acc mean ± std = summary.json final_stats_finite" \
    sh -c "'$S' plot '$T/logreg' --no-png >'$T/o' && grep -q '^| logreg | 2 | 300 | ' '$T/o'"
plot_stats_match "$T/o" logreg "$T/logreg"
check "  (its numbers)" [ $? -eq 0 ]

# ---- one statistics module: plot's final mean ± std = train's table = summary.json ----
# Three seeds whose final losses differ by about 1e-5 of their size (sgd, small noise): metrics.csv's 9 digits
# leave their std with about 4 right (5.93744e-05 where train prints 5.93698e-05), so only train's own
# full-precision statistics give the digits train prints.
"$S" train --quiet --problem quadratic --dim 40 --noise gauss:1e-3 --algo sgd --lr 0.01 --steps 30 --eval-every 10 \
    --seeds 3 --out "$T/lowvar" >"$T/lowvar.out"
"$S" plot "$T/lowvar" --no-png >"$T/o"
plot_stats_match "$T/o" lowvar "$T/lowvar"
check "3 seeds: plot's final loss, grad_l1, grad_l2 mean ± std = summary.json final_stats_finite (%.6g)" [ $? -eq 0 ]
want=$(awk '$1 == "mean" { m = $2; g = $4 } $1 == "std" { s = $2; t = $4 } END { print m " ± " s "|" g " ± " t }' \
    "$T/lowvar.out")
got=$(awk -F' [|] ' '$1 == "| lowvar" { print $4 "|" $6 }' "$T/o")
check "3 seeds: plot's final loss and grad_l1 mean ± std = train's table ($want)" [ "$got" = "$want" ]
# Three seeds, the third interrupted by SIGINT part way: train's mean and std are over the two that finished.
interrupt_at '^seed 3 (3/3): step' "$T/intr.err" "$S" train $LOGREG --steps 300000 --eval-every 100000 --seeds 3 \
    --out "$T/intr"
rc=$?
check "interrupted train run: exit 130, seed 3 interrupted" sh -c "[ $rc -eq 130 ] && $PY -c 'import json, sys
d = json.load(open(\"$T/intr/summary.json\"))
sys.exit(not (d[\"interrupted\"] and [s[\"interrupted\"] for s in d[\"seeds\"]] == [False, False, True]))'"
"$S" plot "$T/intr" --no-png >"$T/o" 2>"$T/e"
rc=$?
check "interrupted run: read (exit 0, nothing on stderr), seeds '3 (1 interrupted)'" \
    sh -c "[ $rc -eq 0 ] && [ ! -s '$T/e' ] && grep -q '^| intr | 3 (1 interrupted) | 300000 | ' '$T/o'"
plot_stats_match "$T/o" intr "$T/intr"
check "interrupted run: final mean ± std over the 2 finished seeds = summary.json final_stats_finite" [ $? -eq 0 ]
# Without summary.json metrics.csv alone tells the interrupted seed: its last step falls short of the others'.
mkdir -p "$T/nosum/intr" && cp "$T/intr/metrics.csv" "$T/nosum/intr/"
"$S" plot "$T/nosum/intr" --no-png >"$T/o" 2>"$T/e"
plot_stats_match "$T/o" intr "$T/intr"
check "... the same from metrics.csv alone (no summary.json)" [ $? -eq 0 ]
"$S" plot "$T/intr" --out "$T/intr.png" >/dev/null 2>"$T/e"
check "interrupted run: stderr only the wrote line" \
    sh -c "[ \"\$(cat '$T/e')\" = 'signopt plot: wrote $T/intr.png' ]"
is_png "$T/intr.png"
check "  (the PNG)" [ $? -eq 0 ]

# ---- diverged seeds ----
# Noise near the float range overflows some seeds' gradients and not others' (2 of 6 with these seeds).
"$S" train --quiet --problem quadratic --dim 20 --steps 10 --eval-every 5 --noise gauss:6e38 --algo sgd --lr 0.01 \
    --seeds 6 --out "$T/pdiv" >/dev/null 2>&1
ndiv=$($PY -c "import json; print(json.load(open('$T/pdiv/summary.json'))['diverged_seeds'])" 2>/dev/null)
check "the diverging recipe still gives a mix (0 < $ndiv diverged < 6)" [ "${ndiv:-0}" -gt 0 -a "${ndiv:-6}" -lt 6 ]
"$S" plot "$T/pdiv" --metrics loss,grad_l1 --out "$T/pdiv.png" >"$T/o" 2>"$T/e"
rc=$?
check "a run with diverged seeds: exit 0, seeds '6 ($ndiv diverged)', a PNG, stderr only the wrote line" \
    sh -c "[ $rc -eq 0 ] && grep -q '^| pdiv | 6 ($ndiv diverged) | 10 | ' '$T/o' &&
           [ \"\$(cat '$T/e')\" = 'signopt plot: wrote $T/pdiv.png' ]"
plot_stats_match "$T/o" pdiv "$T/pdiv"
check "diverged seeds: final mean ± std over the others = summary.json final_stats_finite" [ $? -eq 0 ]
"$S" train --quiet --problem quadratic --dim 20 --steps 10 --algo sgd --lr 1e6 --seeds 2 --out "$T/alldiv" >/dev/null 2>&1
"$S" plot "$T/alldiv" --no-png >"$T/o" 2>"$T/e"
rc=$?
check "every seed diverged: exit 0, '2 (2 diverged)' and '-' for every final value" \
    sh -c "[ $rc -eq 0 ] && grep -q '^| alldiv | 2 (2 diverged) | [0-9]* | - | - | - | - | - |$' '$T/o'"

# ---- summary.json through cJSON: a malformed one is a warning, not a crash ----
mkdir -p "$T/badjson"
cp "$T/hand/metrics.csv" "$T/badjson/"
printf '{"resolved": {"algo": "signsgd"' >"$T/badjson/summary.json"
(cd "$T/badjson" && "$S" plot . --no-png) >"$T/o" 2>"$T/e"
rc=$?
check "malformed summary.json: exit 0, one warning naming it, label = the folder's name" \
    sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/e') -eq 1 ] && grep -q 'warning: ./summary.json:1: not valid JSON' '$T/e' &&
           grep -q '^| badjson | 2 | 10 | 2 ± 1.41421 |' '$T/o'"
printf '{"resolved": {"algo": 42}, "seeds": "many", "final_stats_finite": [1]}' >"$T/badjson/summary.json"
(cd "$T/badjson" && "$S" plot . --no-png) >"$T/o" 2>"$T/e"
check "summary.json of the wrong shape: ignored where it does not fit" \
    sh -c "[ ! -s '$T/e' ] && grep -q '^| badjson | 2 | 10 | 2 ± 1.41421 |' '$T/o'"

# ---- sweeps ----
# sweep_match TABLE DIR: every cell of DIR/summary.json has a row in plot's table (in order) with its status
# and, for a finished cell without diverged seeds, loss_mean ± loss_std as sweep computed them (%.6g).
sweep_match() {
    $PY - "$1" "$2/summary.json" <<'PYEOF'
import json, sys
table, summary = sys.argv[1:3]
d = json.load(open(summary))
lines = [l for l in open(table) if l.startswith("|")]
head = [c.strip() for c in lines[0].split("|")[1:-1]]
rows = [[c.strip() for c in l.split("|")[1:-1]] for l in lines[2:]]
if len(rows) != len(d["cells"]): sys.exit("%d rows for %d cells" % (len(rows), len(d["cells"])))
for row, cell in zip(rows, d["cells"]):
    r = dict(zip(head, row))
    if r["status"] != cell["status"]: sys.exit("status %s, want %s" % (r["status"], cell["status"]))
    if cell["status"] == "done" and cell["diverged"] == 0:
        want = "%.6g ± %.6g" % (cell["loss_mean"], cell["loss_std"])
        if r["final loss"] != want: sys.exit("final loss %s, want %s" % (r["final loss"], want))
PYEOF
}
"$S" sweep --quiet --problem quadratic --dim 40 --steps 30 --noise gauss:2 --algo signsgd --lr 0.001,0.01,0.1 \
    --seeds 2 --out "$T/sw" >/dev/null 2>&1
"$S" plot "$T/sw" --out "$T/sw.png" --table "$T/sw.md" >"$T/o" 2>"$T/e"
rc=$?
check "sweep dir: exit 0, stderr only the wrote line" [ $rc -eq 0 -a "$(cat "$T/e")" = "signopt plot: wrote $T/sw.png" ]
check "sweep dir: a valid PNG" is_png "$T/sw.png"
check "sweep dir: header, rule, one row per cell (3)" [ "$(wc -l <"$T/o")" -eq 5 ]
check "sweep dir: the columns" grep -q '^| lr | beta | seeds | final loss | test acc | diverged | status |$' "$T/o"
check "sweep dir: --table FILE holds the table" cmp -s "$T/o" "$T/sw.md"
sweep_match "$T/o" "$T/sw"
check "sweep dir: each cell's loss mean ± std and status = sweep's summary.json" [ $? -eq 0 ]
# A grid over beta and weight-decay too: 2 x 2 x 2 cells, lines per (beta, weight-decay).
"$S" sweep --quiet --problem quadratic --dim 40 --steps 30 --noise gauss:2 --algo signum --lr 0.001,0.01 \
    --beta 0,0.9 --grid 'weight-decay=0,1e-4' --seeds 2 --out "$T/grid" >/dev/null 2>&1
"$S" plot "$T/grid" --out "$T/grid.png" >"$T/o" 2>/dev/null
rc=$?
check "grid sweep: 8 rows, a weight-decay column, a valid PNG" sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/o') -eq 10 ] &&
    grep -q '^| lr | beta | weight-decay | seeds |' '$T/o' && grep -q '^| 0.01 | 0.9 | 1e-4 | 2 | ' '$T/o'"
is_png "$T/grid.png"
check "  (the PNG)" [ $? -eq 0 ]
sweep_match "$T/o" "$T/grid"
check "grid sweep: cells = summary.json" [ $? -eq 0 ]
# A cell whose seeds diverge: in the table (diverged 2, no mean), not in the figure.
"$S" sweep --quiet --problem quadratic --dim 20 --steps 10 --algo sgd --lr 0.01,1e6 --seeds 2 --out "$T/swdiv" \
    >/dev/null 2>&1
"$S" plot "$T/swdiv" --out "$T/swdiv.png" >"$T/o" 2>/dev/null
rc=$?
check "sweep with a diverged cell: its row says so, a PNG of the rest" \
    sh -c "[ $rc -eq 0 ] && grep -q '^| 1e+06 | 0.9 | 0 | - | - | 2 | done |$' '$T/o'"
# An interrupted sweep: the first cell done, the second stopped part way, the third never run.
interrupt_at '^lr 0.01 beta 0.9 seed 1: step' "$T/swi.err" "$S" sweep $LOGREG --lr 0.001,0.01,0.1 --steps 200000 \
    --eval-every 100000 --seeds 1 --out "$T/swi"
"$S" plot "$T/swi" --out "$T/swi.png" >"$T/o" 2>"$T/e"
rc=$?
check "interrupted sweep: statuses done, interrupted, not run; a PNG of the done cell" \
    sh -c "[ $rc -eq 0 ] && [ \"\$(awk -F' [|] ' 'NR > 2 { print \$NF }' '$T/o' | tr -d ' |\n')\" = doneinterruptednotrun ] &&
           grep -q '^| 0.1 | 0.9 | 0 | - | - | - | not run |$' '$T/o'"
sweep_match "$T/o" "$T/swi"
check "interrupted sweep: cells = summary.json" [ $? -eq 0 ]
mkdir -p "$T/nosum/swi" && cp "$T/swi/sweep.csv" "$T/nosum/swi/"
"$S" plot "$T/nosum/swi" --no-png >"$T/o" 2>"$T/e"
check "interrupted sweep without summary.json: the partial cell is 'interrupted' from sweep.csv alone" \
    grep -q '^| 0.01 | 0.9 | 0 | - | - | 0 | interrupted |$' "$T/o"

# ---- what plot refuses ----
"$S" plot "$T/sw" "$T/hand" --no-png >"$T/o" 2>"$T/e"
rc=$?
check "a sweep and a run in one call: exit 2, one line" sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/e') -eq 1 ] && [ ! -s '$T/o' ]"
"$S" plot "$T/sw" --x bits --no-png >/dev/null 2>"$T/e"
rc=$?
check "--x with a sweep: exit 2, one line" sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/e') -eq 1 ]"
mkdir -p "$T/both" && cp "$T/hand/metrics.csv" "$T/sw/sweep.csv" "$T/both/"
"$S" plot "$T/both" --no-png >/dev/null 2>"$T/e"
rc=$?
check "a DIR with both metrics.csv and sweep.csv: exit 1, one line" \
    sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/e') -eq 1 ] && grep -q 'both metrics.csv' '$T/e'"
mkdir -p "$T/badsweep"
printf 'lr,beta,seed,final_loss,test_acc,grad_l1,diverged,interrupted\n0.1,0.9,1,2.5,,1,0,0\n0.1,0.9,2,2.5,,1,2,0\n' \
    >"$T/badsweep/sweep.csv"
"$S" plot "$T/badsweep" --no-png >"$T/o" 2>"$T/e"
rc=$?
check "malformed sweep.csv: exit 1, one line naming FILE:LINE" \
    sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/e') -eq 1 ] && grep -qF \"$T/badsweep/sweep.csv:3: column 'diverged'\" '$T/e' && [ ! -s '$T/o' ]"

echo "plot: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
