#!/bin/sh
# test_cli.sh — the signopt command against its contract (docs/cli.md) and against independent evidence:
# ids from docs/algorithms.md, the exact metrics.csv columns, exit codes and one-line messages for bad input,
# --out protection, checkpoint/resume equality, a closed-form sgd trajectory on the quadratic, thread-count
# independence, and multi-seed runs where seeds diverge (counts from metrics.csv by awk, the step from the
# quadratic's closed-form float overflow). Last line: "cli: N passed, M failed".
NAME=cli
. tests/sh/lib.sh

# ---- list: exactly the ids of docs/algorithms.md, in its order ----
want_algos="sgd sgdm adam adamw signsgd signum signum-nesterov ef-signsgd scaled-signsgd lion mv-signsgd mv-signum
sto-signsgd mv-sto-signsgd-sim fed-mv-sto-signsgd-sim mvsm-v1 mvsm-v2 mv-scaled-signsgd dist-sgd dist-sgdm dist-adamw"
got=$("$S" list algos | tr '\n' ' ' | sed 's/ $//')
check "list algos equals docs/algorithms.md ids" [ "$got" = "$(echo $want_algos)" ]
probs=$("$S" list problems)
for p in quadratic signgd-counterexample pl-toy l0l1 logreg mlp cnn; do
    check "list problems has $p" sh -c "printf '%s\n' \"\$1\" | grep -qx '$p'" _ "$probs"
done

# ---- train: metrics.csv columns and rows, summary.json keys ----
header='seed,step,epoch,loss,train_acc,test_acc,grad_l1,grad_l2,g_linf,bits_up,bits_down,wall_s,train_s'
"$S" train --quiet --problem quadratic --algo sgd --lr 0.01 --dim 20 --noise gauss:1 --x0 0.5 --steps 25 \
    --eval-every 10 --seeds 3 --out "$T/run" >"$T/stdout" 2>"$T/stderr"
check "train exits 0" [ $? -eq 0 ]
check "quiet train writes nothing on stderr" [ ! -s "$T/stderr" ]
check "metrics.csv header exact" [ "$(head -n 1 "$T/run/metrics.csv")" = "$header" ]
# train_s: the training clock, wall_s less evaluations: 0 <= train_s <= wall_s, non-decreasing within a seed
check "train_s within [0, wall_s] and non-decreasing per seed" awk -F, 'NR > 1 {
    if ($13 == "" || $13 < 0 || $13 > $12 + 0 || ($1 == s && $13 < t)) bad = 1; s = $1; t = $13 }
    END { exit bad }' "$T/run/metrics.csv"
# eval points 0,10,20,25 for each of seeds 1,2,3
check "one row per (seed, eval point)" [ "$(tail -n +2 "$T/run/metrics.csv" | cut -d, -f1,2 | tr '\n' ' ')" = \
    "1,0 1,10 1,20 1,25 2,0 2,10 2,20 2,25 3,0 3,10 3,20 3,25 " ]
check "accuracies empty for the quadratic" [ "$(sed -n 2p "$T/run/metrics.csv" | cut -d, -f5,6)" = "," ]
check "stdout has the results table, one line per seed plus header, mean, std" [ "$(wc -l <"$T/stdout")" -eq 6 ]
check "seeds differ under noise" [ "$(sed -n 5p "$T/run/metrics.csv" | cut -d, -f4)" != "$(sed -n 9p "$T/run/metrics.csv" | cut -d, -f4)" ]
if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 - "$T/run/summary.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["config", "resolved", "seeds", "final_stats", "tau_mean", "netcost", "bits_per_round"]
assert all(k in d for k in need), [k for k in need if k not in d]
assert d["config"]["lr"] == 0.01 and d["config"]["algo"] == "sgd" and d["config"]["beta"] == 0.9
assert d["config"]["batch"] == 32 and d["config"]["force"] is False  # defaults included
assert len(d["seeds"]) == 3 and [s["seed"] for s in d["seeds"]] == [1, 2, 3]
losses = sorted(s["final"]["loss"] for s in d["seeds"])
st = d["final_stats"]["loss"]
assert abs(st["median"] - losses[1]) <= 1e-12 * abs(losses[1]) + 1e-300
assert abs(st["mean"] - sum(losses) / 3) <= 1e-6 * abs(st["mean"])
assert st["min"] == losses[0] and st["max"] == losses[2]
for s in d["seeds"]:
    assert 0 <= s["tau"]["step"] <= 24
EOF
    check "summary.json is valid JSON with config, per-seed, stats, tau, netcost" [ $? -eq 0 ]
else
    check "summary.json has the expected keys" grep -q '"final_stats"' "$T/run/summary.json"
fi
# the OpenBLAS kernels a run used are recorded; on a CPU with AVX2 and FMA they are never the SSE3 fallback unless
# asked for (the command restarts itself with OPENBLAS_CORETYPE=Haswell when OpenBLAS does not know the CPU)
blas_core() { sed -n 's/.*"blas_core":[[:space:]]*"\([^"]*\)".*/\1/p' "$1/summary.json"; }
check "summary.json names the BLAS kernels" [ -n "$(blas_core "$T/run")" ]
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    env -u OPENBLAS_CORETYPE "$S" train --quiet --problem quadratic --steps 2 --out "$T/blas" >/dev/null 2>&1
    check "OpenBLAS's AVX2-or-better kernels on an AVX2 CPU (got $(blas_core "$T/blas"))" \
        sh -c "[ -n '$(blas_core "$T/blas")' ] && [ '$(blas_core "$T/blas")' != Prescott ]"
    OPENBLAS_CORETYPE=Prescott "$S" train --quiet --problem quadratic --steps 2 --out "$T/blas-p" >/dev/null 2>&1
    check "an explicit OPENBLAS_CORETYPE is kept" [ "$(blas_core "$T/blas-p")" = Prescott ]
fi

# ---- progress: a redrawn bar with rate, ETA and loss on a terminal (script gives one), plain lines otherwise ----
"$S" train --problem quadratic --algo sgd --lr 0.01 --steps 200 --eval-every 100 2>"$T/plain" >/dev/null
check "progress off a terminal: ten plain lines (every 10%) with rate, ETA and loss, no carriage returns" sh -c \
    "[ \$(grep -c 'steps/s, ETA .*, loss ' '$T/plain') -eq 10 ] && ! grep -q \"\$(printf '\r')\" '$T/plain'"
if command -v script >/dev/null 2>&1; then
    script -qc "'$S' train --problem quadratic --algo sgd --lr 0.01 --steps 200 --eval-every 100 >/dev/null" /dev/null \
        >"$T/tty" 2>&1
    check "progress on a terminal: a '\\r'-redrawn bar with steps/s, ETA and loss" sh -c \
        "tr '\r' '\n' <'$T/tty' | grep -q '^seed 1 (1/1) \[=*\] 200/200 .* steps/s ETA .* loss '"
    script -qc "'$S' train --quiet --problem quadratic --algo sgd --lr 0.01 --steps 200 >/dev/null" /dev/null >"$T/tty" 2>&1
    check "--quiet on a terminal prints nothing" [ ! -s "$T/tty" ]
fi

# ---- --out protection ----
"$S" train --quiet --steps 5 --out "$T/run" >/dev/null 2>"$T/err"
check "an existing run is refused (exit 2)" [ $? -eq 2 ]
check "refusal is one line naming --out" sh -c "[ \$(wc -l <'$T/err') -eq 1 ] && grep -q -- '--out' '$T/err'"
"$S" train --quiet --steps 5 --eval-every 5 --out "$T/run" --force >/dev/null 2>&1
rc=$?
check "--force overwrites" sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/run/metrics.csv') -eq 3 ]"

# ---- bad flags and values: exit 2, one line on stderr naming the flag, nothing on stdout ----
badcase() { # badcase FLAG-NAME ARGS...
    name=$1; shift
    "$S" train --quiet "$@" >"$T/o" 2>"$T/e"
    rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$T/e")" -eq 1 ] && grep -q -e "$name" "$T/e" && [ ! -s "$T/o" ]; then ok
    else bad "train $* -> exit $rc, stderr: $(cat "$T/e")"; fi
}
badcase "--bogus" --bogus
badcase "--lr" --lr abc
badcase "--lr" --lr -1
badcase "--steps" --steps 0
badcase "--algo" --algo nope
badcase "--noise" --noise pareto:0.5:1
badcase "--split" --algo mv-signsgd --workers 2 --split dirichlet:-1
badcase "--ties" --ties maybe
badcase "--zero-vote" --algo mv-signsgd --workers 3 --zero-vote never
badcase "zero vote" --algo sto-signsgd --workers 3 --zero-vote random
badcase "sharded" --algo mv-signsgd --workers 3 --zero-vote abstain --pattern sharded
badcase "--synth-size" --problem logreg --data synthetic-epsilon --synth-size 1000
badcase "--workers" --workers 0
badcase "--byzantine" --algo mv-signsgd --workers 4 --byzantine 9:flip
badcase "--beta" --beta 1
badcase "--dropout" --algo mv-signsgd --workers 4 --dropout 1.5
badcase "--problem" --problem nope
badcase "--lr-schedule" --lr-schedule wat
badcase "--batch-schedule" --algo signsgd --batch-schedule linear:2.5
badcase "--batch-schedule" --algo signsgd --batch-schedule exp:3
badcase "single-node" --algo mv-signsgd --workers 2 --batch-schedule linear:4
# minibatch-SignSGD's B_t (003 Alg 2): linear:4 changes the run, const is the plain run bit for bit
for b in none const linear:4; do
    if [ $b = none ]; then set --; else set -- --batch-schedule $b; fi
    "$S" train --quiet --problem quadratic --algo signsgd --lr 0.01 --dim 20 --noise gauss:1 --batch 1 --steps 30 \
        --eval-every 30 "$@" --out "$T/bs-$b" >/dev/null 2>&1 || bad "train --batch-schedule $b failed"
done
check "--batch-schedule const is the plain run" sh -c "[ \"\$(cut -d, -f1-11 '$T/bs-none/metrics.csv')\" = \"\$(cut -d, -f1-11 '$T/bs-const/metrics.csv')\" ]"
check "--batch-schedule linear:4 changes the run" sh -c "[ \"\$(tail -n 1 '$T/bs-none/metrics.csv' | cut -d, -f4)\" != \"\$(tail -n 1 '$T/bs-linear:4/metrics.csv' | cut -d, -f4)\" ]"
badcase "--momentum-init" --momentum-init sometimes
badcase "--workers" --algo adamw --workers 4
badcase "--lr" --lr
printf 'lr = 0.1\nbogus = 3\n' >"$T/bad.conf"
badcase "bad.conf:2" --config "$T/bad.conf"
"$S" train --quiet --problem logreg --data "$T/missing.svm" >/dev/null 2>"$T/e"
rc=$?
check "missing data file exits 1 with one line" sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/e') -eq 1 ]"
"$S" train --help >"$T/help"
check "train --help lists every flag with defaults" sh -c "grep -q -- '--lr X' '$T/help' && grep -q -- '--resume' '$T/help' && grep -q '\[0.001\]' '$T/help'"

# ---- config file: values apply, command-line flags win ----
printf '# a config\nsteps = 12\nlr = 0.2 # trailing comment\neval-every = 4\nalgo = sgd\n' >"$T/good.conf"
"$S" train --quiet --config "$T/good.conf" --steps 8 --out "$T/conf" >/dev/null 2>&1
check "config file applies and the command line wins" sh -c "[ \$(tail -n 1 '$T/conf/metrics.csv' | cut -d, -f2) = 8 ]"
    check "config file values reach summary.json (lr 0.2, algo sgd)" jtrue "$T/conf/summary.json" "d['resolved']['lr'] == 0.2 and d['resolved']['algo'] == 'sgd'"

# ---- config file with an algos list and per-algorithm sections: DIR/<algo>, section > top, command line > all ----
cat >"$T/multi.conf" <<'CONF'
problem = quadratic   # top: every algorithm
dim = 6
L-max = 6
x0 = 1
steps = 20
eval-every = 5
algos = sgd, signum
lr = 0.05
[signum]
lr = 0.01
beta = 0.5
CONF
"$S" train --quiet --config "$T/multi.conf" --steps 10 --out "$T/multi" >"$T/o" 2>&1
check "algos list: exit 0 and one run per algorithm under DIR/<algo>" sh -c "[ $? -eq 0 ] && [ -s '$T/multi/sgd/metrics.csv' ] && [ -s '$T/multi/signum/metrics.csv' ]"
check "algos list: the top applies (sgd lr 0.05, algo sgd)" jtrue "$T/multi/sgd/summary.json" "d['resolved']['lr'] == 0.05 and d['resolved']['algo'] == 'sgd'"
check "algos list: the [signum] section overrides the top (lr 0.01, beta 0.5)" jtrue "$T/multi/signum/summary.json" \
    "d['resolved']['lr'] == 0.01 and d['resolved']['beta'] == 0.5 and d['resolved']['algo'] == 'signum'"
check "algos list: a command-line flag overrides the file for all (--steps 10)" sh -c "[ \$(tail -n 1 '$T/multi/sgd/metrics.csv' | cut -d, -f2) = 10 ] && [ \$(tail -n 1 '$T/multi/signum/metrics.csv' | cut -d, -f2) = 10 ]"
# sgd at lr 0.05 on L = 1..6 from x0 = 1: x_i = (1 - 0.05 i)^10, f = 1/2 sum i x_i^2 (the top's rate really ran)
check "algos list: sgd's final loss is the closed form for lr 0.05" awk -F, 'END { for (i = 1; i <= 6; i++) f += 0.5 * i * (1 - 0.05 * i) ^ 20
    d = $4 - f; if (d < 0) d = -d; exit !(d <= 1e-5 * f) }' "$T/multi/sgd/metrics.csv"
"$S" train --quiet --config "$T/multi.conf" --algo signum --steps 4 --out "$T/one" >/dev/null 2>&1
check "--algo on the command line runs that one algorithm, with its section" sh -c "[ ! -d '$T/one/sgd' ]"
    check "--algo with its section: lr 0.01 in summary.json" jtrue "$T/one/summary.json" "d['resolved']['lr'] == 0.01"
cfgbad() { # cfgbad NAME EXPECTED-TEXT CONTENT
    printf '%b' "$3" >"$T/$1.conf"
    "$S" train --quiet --config "$T/$1.conf" --steps 2 --out "$T/cfgout_$1" >"$T/o" 2>"$T/e"
    rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$T/e")" -eq 1 ] && grep -qF "$T/$1.conf:$2" "$T/e" && [ ! -e "$T/cfgout_$1" ]
    then ok; else bad "config $1: exit $rc, stderr: $(cat "$T/e")"; fi
}
cfgbad unknownalgo "1: algos: unknown algorithm 'nope'" 'algos = sgd,nope\n'
cfgbad twice "1: algos: 'sgd' is listed twice" 'algos = sgd,sgd\n'
cfgbad section "2: section [nope]" 'algos = sgd\n[nope]\n'
cfgbad sectionkey "3: 'algo' cannot be set inside section [sgd]" 'algos = sgd\n[sgd]\nalgo = signum\n'
cfgbad both "1: 'algo' and 'algos'" 'algo = sgd\nalgos = sgd\n'
cfgbad bracket "2: expected '[algorithm]'" 'algos = sgd\n[sgd\n'
cfgbad sectionvalue "4: --lr: expected a positive number" 'algos = sgd,signum\n# the second fails: nothing runs\n[signum]\nlr = -1\n'
cfgbad sectionflag "3: unknown key 'lrr'" 'algos = sgd\n[sgd]\nlrr = 1\n'

# ---- --epochs: synthetic problems count one step per epoch ----
"$S" train --quiet --epochs 7 --eval-every 100 --out "$T/ep" >/dev/null 2>&1
check "--epochs 7 on a synthetic problem runs 7 steps" [ "$(tail -n 1 "$T/ep/metrics.csv" | cut -d, -f2)" = 7 ]

# ---- closed form: sgd on f = 1/2 sum L_i x_i^2, L = (1,2,3,4), x0 = 1, lr 0.1: x_t,i = (1 - 0.1 L_i)^t ----
"$S" train --quiet --problem quadratic --algo sgd --dim 4 --L-max 4 --x0 1 --lr 0.1 --steps 12 --eval-every 4 \
    --out "$T/cf" >/dev/null 2>&1
awk -F, 'NR > 1 {
    t = $2; f = 0; l1 = 0; l2 = 0;
    for (i = 1; i <= 4; i++) { x = (1 - 0.1 * i) ^ t; f += 0.5 * i * x * x; l1 += i * (x < 0 ? -x : x); l2 += i * i * x * x }
    l2 = sqrt(l2);
    if ((($4 - f) ^ 2) > (1e-5 * f) ^ 2 || (($7 - l1) ^ 2) > (1e-5 * l1) ^ 2 || (($8 - l2) ^ 2) > (1e-5 * l2) ^ 2) {
        printf "step %d: loss %s want %.9g, l1 %s want %.9g, l2 %s want %.9g\n", t, $4, f, $7, l1, $8, l2 > "/dev/stderr"; bad = 1 }
    n++ }
    END { exit (bad || n != 4) }' "$T/cf/metrics.csv"
check "sgd quadratic metrics match the closed form (rtol 1e-5) at steps 0,4,8,12" [ $? -eq 0 ]

# ---- divergence is reported with its step, exit 1 ----
"$S" train --quiet --algo sgd --lr 1 --L-max 10 --x0 1 --steps 200 >/dev/null 2>"$T/e"
rc=$?
check "a diverging run exits 1 naming the step" sh -c "[ $rc -eq 1 ] && grep -q 'step [0-9]' '$T/e'"

# ---- several seeds where some diverge: every seed runs, the divergences are counted ----
# sgd on l0l1 under Pareto(1.1) noise (infinite variance) at lr 0.003: a run of 10 seeds found 4 diverging.
# The counts below come from metrics.csv by awk (a seed whose last row holds a non-finite loss or gradient),
# not from what the program says; the setting must stay mixed (some but not all), or the test says so.
heavy="--quiet --problem l0l1 --algo sgd --lr 0.003 --noise pareto:1.1:1 --dim 10 --steps 500 --eval-every 100"
"$S" train $heavy --seeds 10 --out "$T/div" >"$T/o" 2>"$T/e"
rc=$?
awk -F, 'NR > 1 { last[$1] = $0; n[$1]++ }
    END { for (s = 1; s <= 10; s++) { if (!(s in last)) { print "missing"; exit }
              split(last[s], f, ","); if (f[4] !~ /^[0-9.e+-]+$/ || f[7] !~ /^[0-9.e+-]+$/) print s, f[2] } }' \
    "$T/div/metrics.csv" >"$T/divseeds"
k=$(grep -c . "$T/divseeds")
check "mixed divergence: 0 < diverged seeds ($k) < 10 by metrics.csv" sh -c "[ $k -gt 0 ] && [ $k -lt 10 ] && ! grep -q missing '$T/divseeds'"
check "mixed divergence exits 0 (a seed finished, results written)" [ $rc -eq 0 ]
check "metrics.csv has all 10 seeds in order" [ "$(tail -n +2 "$T/div/metrics.csv" | cut -d, -f1 | uniq | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 " ]
check "seeds that did not diverge run to step 500" sh -c "[ \$(awk -F, 'NR > 1 && \$2 == 500' '$T/div/metrics.csv' | wc -l) -eq $((10 - k)) ]"
check "a diverged seed's rows before the last are finite" sh -c "awk -F, 'NR > 1 { if (\$1 == prev && bad) exit 1
    bad = (\$4 !~ /^[0-9.e+-]+\$/); prev = \$1 }' '$T/div/metrics.csv'"
check "summary.json diverged_seeds equals the awk count ($k)" jtrue "$T/div/summary.json" "d['diverged_seeds'] == $k"
jq "$T/div/summary.json" "'\\n'.join('%d %d' % (s['seed'], s['diverged_step']) for s in d['seeds'] if s['diverged'])" >"$T/js"
check "summary.json's diverged seeds and steps equal metrics.csv's last rows" cmp -s "$T/js" "$T/divseeds"
sed -n 's/^signopt train: seed \([0-9]*\) diverged at step \([0-9]*\) .*/\1 \2/p' "$T/e" >"$T/se"
check "stderr: one line per diverged seed naming it and its step, nothing else" sh -c \
    "cmp -s '$T/se' '$T/divseeds' && [ \$(wc -l <'$T/e') -eq $k ]"
check "stdout: a line per seed, mean, std and the diverged count" sh -c \
    "[ \$(wc -l <'$T/o') -eq 14 ] && grep -qx 'diverged: $k of 10 seeds (mean and std are over the others)' '$T/o'"
# One diverged seed and the seed after it, each run alone, make the same rows (all but wall_s).
set -- $(head -n 1 "$T/divseeds")
for s in $1 $(($1 + 1)); do
    "$S" train $heavy --seed $s --out "$T/solo$s" >/dev/null 2>&1
    awk -F, -v s=$s 'NR > 1 && $1 == s' "$T/div/metrics.csv" | cut -d, -f2-11 >"$T/a"
    tail -n +2 "$T/solo$s/metrics.csv" | cut -d, -f2-11 >"$T/b"
    check "seed $s in the 10-seed run equals seed $s run alone" cmp -s "$T/a" "$T/b"
done
if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 - "$T/div/summary.json" "$T/div/metrics.csv" <<'EOF'
import json, math, sys
d = json.load(open(sys.argv[1]))
last = {}
for line in open(sys.argv[2]).read().splitlines()[1:]:
    f = line.split(",")
    last[int(f[0])] = float(f[3])
allv = sorted(v if math.isfinite(v) else math.inf for v in last.values())
fin = [v for v in allv if math.isfinite(v)]
def q(s, p):  # linear interpolation between order statistics, equal neighbours kept as they are
    x = p * (len(s) - 1); i = int(x); fr = x - i
    if i >= len(s) - 1 or fr == 0 or s[i] == s[i + 1]: return s[min(i, len(s) - 1)]
    return s[i] + fr * (s[i + 1] - s[i])
def same(got, want):
    return got is None if math.isinf(want) else abs(got - want) <= 1e-7 * abs(want)
a, f = d["final_stats"]["loss"], d["final_stats_finite"]["loss"]
assert a["n"] == 10 and f["n"] == len(fin), (a["n"], f["n"])
assert a["mean"] is None and a["max"] is None  # +inf: written null
for name, p in (("min", 0), ("q10", .1), ("median", .5), ("q90", .9)):
    assert same(a[name], q(allv, p)), (name, a[name], q(allv, p))
    assert same(f[name], q(fin, p)), (name, f[name], q(fin, p))
m = sum(fin) / len(fin)
assert same(f["mean"], m) and same(f["max"], fin[-1])
assert abs(f["std"] - math.sqrt(sum((v - m) ** 2 for v in fin) / (len(fin) - 1))) <= 1e-6 * f["std"]
for s in d["seeds"]:
    assert (s["tau"] is None) == s["diverged"] and (s["diverged_step"] is None) != s["diverged"]
EOF
    check "summary.json: stats over all seeds (diverged = +inf) and over the finite ones match the rows" [ $? -eq 0 ]
fi

# Every seed diverges: sgd on the quadratic with lr 1 > 2/L_max = 0.2; the L = 10 coordinate goes as (-9)^t, and its
# gradient 10 * 9^t first overflows float (FLT_MAX 3.4028235e38) at t* computed here. With an evaluation every step
# the full objective's gradient is found non-finite at step t*; evaluating every 7 steps, step t* + 1's stochastic
# gradient (at x_t*) is, unless t* is itself an evaluation step.
ts=$(awk 'BEGIN { t = 0; while (10 * 9 ^ t <= 3.4028235e38) t++; print t }')
for ev in 1 7; do
    want=$ts; [ $ev -eq 7 ] && [ $((ts % 7)) -ne 0 ] && want=$((ts + 1))
    "$S" train --quiet --algo sgd --lr 1 --L-max 10 --x0 1 --steps 200 --eval-every $ev --seeds 3 --out "$T/alldiv$ev" \
        >"$T/o" 2>"$T/e"
    rc=$?
    check "every seed diverged (eval every $ev): exit 1, 3 stderr lines at step $want and a last line saying so" sh -c \
        "[ $rc -eq 1 ] && [ \$(grep -c 'diverged at step $want ' '$T/e') -eq 3 ] && tail -n 1 '$T/e' | grep -q 'every seed diverged'"
    check "every seed diverged (eval every $ev): each seed's last row is at step $want and not finite" sh -c \
        "[ \"\$(awk -F, 'NR > 1 { l[\$1] = \$2 \",\" (\$7 ~ /inf|nan/) } END { for (s = 1; s <= 3; s++) printf \"%s \", l[s] }' \
        '$T/alldiv$ev/metrics.csv')\" = '$want,1 $want,1 $want,1 ' ]"
    check "every seed diverged (eval every $ev): summary.json says 3" jtrue "$T/alldiv$ev/summary.json" "d['diverged_seeds'] == 3"
done

# An algos list where one algorithm diverges in every seed: the next algorithm still runs; exit 1 at the end.
cat >"$T/divalgos.conf" <<'CONF'
L-max = 10
x0 = 1
steps = 60
eval-every = 20
seeds = 2
algos = sgd, signum
[sgd]
lr = 1
[signum]
lr = 0.01
CONF
"$S" train --quiet --config "$T/divalgos.conf" --out "$T/divalgos" >/dev/null 2>"$T/e"
rc=$?
check "algos list: sgd diverging in every seed does not stop signum; exit 1" sh -c "[ $rc -eq 1 ] && \
    [ \"\$(awk -F, '\$2 == 60' '$T/divalgos/signum/metrics.csv' | cut -d, -f1 | tr '\n' ' ')\" = '1 2 ' ]"
if jtrue "$T/divalgos/sgd/summary.json" "d['diverged_seeds'] == 2" && jtrue "$T/divalgos/signum/summary.json" "d['diverged_seeds'] == 0"
then ok; else bad "algos list: summary.json counts sgd's 2 diverged seeds and signum's 0"; fi

# ---- checkpoint/resume: 20 steps + resume to 40 equals 40 straight (all but wall_s) ----
common="--quiet --problem quadratic --algo mv-signum --workers 3 --dim 30 --x0 0.3 --noise gauss:1 --lr 0.01 --eval-every 10"
"$S" train $common --steps 40 --checkpoint "$T/ck40" --out "$T/straight" >/dev/null 2>&1
"$S" train $common --steps 20 --checkpoint "$T/ck20" --out "$T/half" >/dev/null 2>&1
"$S" train $common --steps 40 --resume "$T/ck20" --out "$T/resumed" >/dev/null 2>&1
cut -d, -f1-11 "$T/straight/metrics.csv" >"$T/a"; cut -d, -f1-11 "$T/resumed/metrics.csv" >"$T/b"
check "resumed metrics equal the straight run's (5 rows)" sh -c "cmp -s '$T/a' '$T/b' && [ \$(wc -l <'$T/a') -eq 6 ]"
check "the resumed run's x_tau equals the straight run's" [ "$(jq "$T/straight/summary.json" "[s['tau'] for s in d['seeds']]")" = \
    "$(jq "$T/resumed/summary.json" "[s['tau'] for s in d['seeds']]")" ]
check "checkpoint written atomically (no temp left)" [ "$(ls "$T" | grep -c '\.tmp\.')" -eq 0 ]
cp "$T/ck20" "$T/corrupt"
printf 'X' | dd of="$T/corrupt" bs=1 seek=200 conv=notrunc 2>/dev/null
"$S" train $common --steps 40 --resume "$T/corrupt" >/dev/null 2>"$T/e"
rc=$?
check "a corrupted checkpoint is refused (CRC) with exit 1" sh -c "[ $rc -eq 1 ] && grep -qi 'corrupt' '$T/e'"
"$S" train --quiet --algo sgd --dim 30 --steps 40 --resume "$T/ck20" >/dev/null 2>"$T/e"
rc=$?
check "resuming with another algorithm is refused" sh -c "[ $rc -ne 0 ] && grep -q 'mv-signum' '$T/e'"

# ---- results do not depend on the thread count ----
dist="--quiet --problem quadratic --algo mvsm-v2 --workers 5 --dim 200 --x0 0.2 --noise gauss:2 --lr 0.005 --steps 30 --eval-every 5"
"$S" train $dist --threads 1 --out "$T/th1" >/dev/null 2>&1
"$S" train $dist --threads 2 --out "$T/th2" >/dev/null 2>&1
cut -d, -f1-11 "$T/th1/metrics.csv" >"$T/a"; cut -d, -f1-11 "$T/th2/metrics.csv" >"$T/b"
check "--threads 1 and 2 give identical metrics" sh -c "cmp -s '$T/a' '$T/b' && [ \$(wc -l <'$T/a') -eq 8 ]"

# ---- MPI: one worker per rank gives the same rows as in-process workers (when mpirun exists) ----
if command -v mpirun >/dev/null 2>&1; then
    mpi="--quiet --algo mv-signum --dim 30 --x0 0.3 --noise gauss:1 --steps 20 --eval-every 5"
    timeout 120 mpirun --allow-run-as-root --oversubscribe -np 3 "$S" train --backend mpi $mpi --out "$T/mpi" \
        >/dev/null 2>"$T/e"
    "$S" train --workers 3 $mpi --out "$T/local3" >/dev/null 2>&1
    cut -d, -f1-11 "$T/mpi/metrics.csv" >"$T/a" 2>/dev/null; cut -d, -f1-11 "$T/local3/metrics.csv" >"$T/b"
    check "--backend mpi with 3 ranks equals 3 in-process workers" sh -c "cmp -s '$T/a' '$T/b' && [ \$(wc -l <'$T/a') -eq 6 ]"
    printf 'dim = 20\nsteps = 10\nalgos = mv-signsgd, mv-signum\n[mv-signum]\nlr = 0.01\n' >"$T/mpi.conf"
    timeout 120 mpirun --allow-run-as-root --oversubscribe -np 2 "$S" train --backend mpi --quiet --config "$T/mpi.conf" \
        --out "$T/mpimulti" >"$T/o" 2>"$T/e"
    "$S" train --quiet --workers 2 --config "$T/mpi.conf" --out "$T/localmulti" >/dev/null 2>&1
    check "MPI with an algos list: one run per algorithm, headings printed once, rows equal to in-process workers" sh -c \
        "[ \$(grep -c '^algo: ' '$T/o') -eq 2 ] && for a in mv-signsgd mv-signum; do cut -d, -f1-11 '$T/mpimulti/'\$a/metrics.csv >'$T/a' && cut -d, -f1-11 '$T/localmulti/'\$a/metrics.csv >'$T/b' && cmp -s '$T/a' '$T/b' || exit 1; done"
fi

# ---- bits: mv-signsgd sends d bits up per round ----
"$S" train --quiet --algo mv-signsgd --workers 3 --dim 100 --steps 10 --eval-every 5 --out "$T/bits" >/dev/null 2>&1
check "mv-signsgd bits_up = d per round (1000 after 10 rounds of d = 100)" \
    [ "$(tail -n 1 "$T/bits/metrics.csv" | cut -d, -f10)" = 1000 ]
"$S" train --quiet --algo mv-signsgd --workers 3 --dim 100 --steps 10 --eval-every 5 --zero-vote abstain \
    --out "$T/bits-abstain" >/dev/null 2>&1
check "--zero-vote abstain: the zero mask doubles bits_up (2000), and the zero bit the downlink with 3 workers" \
    [ "$(tail -n 1 "$T/bits-abstain/metrics.csv" | cut -d, -f10,11)" = 2000,2000 ]

# ---- sweep and plan ----
"$S" sweep --quiet --algo sgd --dim 4 --L-max 4 --x0 1 --lr 0.01,0.1 --beta 0.9 --steps 10 --seeds 2 >"$T/sw" 2>/dev/null
check "sweep picks the larger rate on a well-conditioned quadratic" grep -q '^best: lr 0.1 beta 0.9' "$T/sw"
# sweep selection against the closed form: sgd on f = 1/2 sum L_i x_i^2, L = (1,2,3,4), x0 = 1, decoupled weight
# decay (x <- x - eta lambda x - eta grad f(x)): after T steps f = 1/2 sum_i L_i (1 - eta (L_i + lambda))^(2T). Every
# cell's loss is checked, and the best cell must be awk's argmin (eta 0.25, lambda 0.5: 4.1e-5, ahead of eta 0.4 =
# 2/(L_min + L_max) without decay at 9.1e-5).
"$S" sweep --quiet --algo sgd --dim 4 --L-max 4 --x0 1 --lr 0.1,0.25,0.4,0.45 --grid "weight-decay=0,0.5" --steps 10 \
    --seeds 2 --out "$T/sweep" >"$T/sw" 2>"$T/e"
check "sweep --grid exits 0 with a row per cell (8) plus header and best" sh -c "[ $? -eq 0 ] && [ \$(wc -l <'$T/sw') -eq 10 ]"
check "sweep.csv: one row per cell and seed (16) with the grid flag's column" sh -c "[ \$(wc -l <'$T/sweep/sweep.csv') -eq 17 ] && head -n 1 '$T/sweep/sweep.csv' | grep -q '^lr,beta,weight-decay,seed,final_loss'"
awk -F, 'NR > 1 { eta = $1; lam = $3; f = 0
        for (i = 1; i <= 4; i++) f += 0.5 * i * (1 - eta * (i + lam)) ^ 20
        d = $5 - f; if (d < 0) d = -d
        if (d > 1e-4 * f + 1e-12) { print "cell " eta " " lam ": " $5 " want " f > "/dev/stderr"; bad = 1 }
        if (best == "" || f < bf) { bf = f; best = eta " " lam } }
    END { if (bad) exit 1; print best }' "$T/sweep/sweep.csv" >"$T/want"
check "sweep: every cell's final loss equals the closed form (rtol 1e-4)" [ $? -eq 0 ]
set -- $(cat "$T/want")
check "sweep: the best cell is the closed form's argmin (lr $1, weight-decay $2)" grep -q "^best: lr $1 beta 0.9 weight-decay $2 (mean final loss" "$T/sw"
"$S" sweep --quiet --grid "lr=1" >/dev/null 2>"$T/e"
check "sweep --grid lr=... exits 2 naming --grid" sh -c "[ $? -eq 2 ] && grep -q -- '--grid' '$T/e'"
"$S" sweep --quiet --grid "weight-decay=0,-1" >/dev/null 2>"$T/e"
check "sweep --grid with a bad value exits 2 naming the flag, before any run" sh -c "[ $? -eq 2 ] && grep -q -- '--weight-decay' '$T/e'"
# sweep with diverging seeds: lr 1 > 2/L_max diverges in every seed and ranks last (+inf); among cells that all
# have diverged seeds (l0l1 under Pareto noise) the one with fewer diverged, then the lower mean over the finished
# seeds, wins; both taken here from sweep.csv by awk.
"$S" sweep --quiet --algo sgd --L-max 10 --x0 1 --lr 1,0.1 --steps 100 --seeds 2 --out "$T/swdiv" >"$T/sw" 2>/dev/null
check "sweep: a cell where every seed diverges ranks after a finite one (exit 0)" sh -c \
    "[ $? -eq 0 ] && grep -q '^best: lr 0.1 beta 0.9 (mean final loss' '$T/sw' && [ \"\$(awk -F, '\$1 == 1 { printf \"%s:%s \", \$4, \$7 }' '$T/swdiv/sweep.csv')\" = 'inf:1 inf:1 ' ]"
"$S" sweep $heavy --lr 0.003,0.001 --seeds 10 --out "$T/swmix" >"$T/sw" 2>/dev/null
awk -F, 'NR > 1 { c = $1; k[c] += $7; if (!$7) { s[c] += $4; n[c]++ } }
    END { for (c in k) { if (!k[c]) { print "a cell without divergence"; exit }
              m = n[c] ? s[c] / n[c] : 1e308
              if (best == "" || k[c] < bk || (k[c] == bk && m < bm)) { best = c; bk = k[c]; bm = m } }
          print best }' "$T/swmix/sweep.csv" >"$T/want"
check "sweep: between cells that both have diverged seeds, the best is sweep.csv's fewest diverged, then lowest finite mean ($(cat "$T/want"))" \
    grep -q "^best: lr $(cat "$T/want") beta 0.9 (mean final loss inf over 10 seeds; [0-9]* diverged" "$T/sw"

# --eval-limit: the evaluation's loss and train_acc come from the first N training rows only; the trajectory and the
# test accuracy do not change, and N = all rows gives the plain evaluation bit for bit.
EV="--problem mlp --train-limit 3000 --algo signum --lr 1e-3 --batch 32 --steps 20 --eval-every 10 --threads 1 --quiet --force"
"$S" train $EV --out "$T/ev0" >/dev/null 2>&1 && "$S" train $EV --eval-limit 500 --out "$T/ev5" >/dev/null 2>&1 &&
    "$S" train $EV --eval-limit 3000 --out "$T/ev30" >/dev/null 2>&1
check "--eval-limit N = all rows: metrics identical to no limit" \
    sh -c "cut -d, -f1-11 '$T/ev0/metrics.csv' >'$T/a'; cut -d, -f1-11 '$T/ev30/metrics.csv' >'$T/b'; cmp -s '$T/a' '$T/b'"
check "--eval-limit 500: same test_acc column, different loss" \
    sh -c "[ \"\$(cut -d, -f6 '$T/ev0/metrics.csv')\" = \"\$(cut -d, -f6 '$T/ev5/metrics.csv')\" ] &&
           [ \"\$(cut -d, -f4 '$T/ev0/metrics.csv')\" != \"\$(cut -d, -f4 '$T/ev5/metrics.csv')\" ]"
"$S" train $EV --eval-limit -1 --out "$T/evbad" >/dev/null 2>"$T/e"
check "--eval-limit -1 exits 2 naming the flag" sh -c "[ $? -eq 2 ] && grep -q -- '--eval-limit' '$T/e'"

# A binary config: the error names FILE:LINE on one printable line; control and non-UTF-8 bytes come out as \xNN.
printf 'lr = 0.1\n\001\002junk\377 = 3\n' >"$T/junk.conf"
"$S" train --config "$T/junk.conf" --steps 2 >/dev/null 2>"$T/e"
check "binary config: exit 2, FILE:2, bytes escaped, one printable line" sh -c "[ $? -eq 2 ] &&
    grep -q 'junk.conf:2: unknown key .\\\\x01\\\\x02junk\\\\xff.' '$T/e' && [ \$(wc -l <'$T/e') -eq 1 ] &&
    ! LC_ALL=C grep -q '[^[:print:]]' '$T/e'"

"$S" plan --workers 1000 --dim 25000000 --bandwidth 1e9 --latency 5e-5 >"$T/plan"
check "plan prints four patterns and the fastest" sh -c "grep -q ps-1bit '$T/plan' && grep -q allgather-1bit '$T/plan' && grep -q sharded-1bit '$T/plan' && grep -q ring-fp32 '$T/plan' && grep -q '^fastest: ' '$T/plan'"
# plan --json against hand values (docs/algorithms.md formulas): n = 1000, d = 25e6, b = 1e9, a = 5e-5, D = 1:
# sharded = 2*999*5e-5 + 0.999*2*25e6/1e9 = 0.14985; two levels of 32 groups of 32 (6-bit counts):
# 2*31*5e-5*2 + (24218750 + 4541015.625 + 756835.9375 + 24218750)/1e9 = 0.0599353515625, the fastest.
"$S" plan --workers 1000 --dim 25000000 --bandwidth 1e9 --latency 5e-5 --json >"$T/plan.json"
check "plan --json: sharded 0.14985 s and a winning two-level 0.0599353515625 s at n = 1000" jtrue "$T/plan.json" \
    "abs([p for p in d['patterns'] if p['pattern'] == 'sharded-1bit'][0]['seconds'] - 0.14985) < 1e-12 and
     abs(d['two_level_sharded']['seconds'] - 0.0599353515625) < 1e-12 and d['two_level_sharded']['wins']"
# --calibration: bandwidth, latency and compute from a bench --mpi --json file (compute scaled by --dim / d):
# n = 8, d = 2e6, b = 1e8, a = 1e-3: sharded = 0.014 + 0.875*2*2e6/1e8 + 2*0.01 = 0.069;
# ring = 0.014 + 1.75*32*2e6/1e8 + 2*0.02 = 1.174
cat >"$T/cal.json" <<'EOF'
[{"name": "mpi/sharded-1bit", "ranks": 8, "d": 1000000, "seconds": 0.05, "compute_seconds": 0.01,
  "fit_bandwidth_bps": 1e8, "fit_latency_s": 1e-3},
 {"name": "mpi/allreduce-fp32", "ranks": 8, "d": 1000000, "seconds": 0.6, "compute_seconds": 0.02,
  "fit_bandwidth_bps": 1e8, "fit_latency_s": 1e-3}]
EOF
"$S" plan --workers 8 --dim 2000000 --calibration "$T/cal.json" --json >"$T/plan2.json"
check "plan --calibration: the fitted link and the scaled compute (sharded 0.069 s, ring 1.174 s)" jtrue "$T/plan2.json" \
    "d['bandwidth_bps'] == 1e8 and d['latency_s'] == 1e-3 and
     abs([p for p in d['patterns'] if p['pattern'] == 'sharded-1bit'][0]['seconds'] - 0.069) < 1e-12 and
     abs([p for p in d['patterns'] if p['pattern'] == 'ring-fp32'][0]['seconds'] - 1.174) < 1e-12"
echo '{"not": "an array"}' >"$T/cal2.json"
"$S" plan --calibration "$T/cal2.json" >/dev/null 2>"$T/e"
check "plan --calibration of another JSON: exit 1 naming the file" sh -c "[ $? -eq 1 ] && grep -q 'cal2.json' '$T/e'"
"$S" plan --workers 0 >/dev/null 2>&1
check "plan --workers 0 exits 2" [ $? -eq 2 ]

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
