#!/bin/sh
# test_outputs.sh — what signopt writes stays true under interruption and odd input (issue: nothing lost, nothing
# silently wrong): SIGINT/SIGTERM during train and sweep stop at a step, write what ran, mark what did not finish,
# never rank an unfinished cell, exit 130/143; a 3-seed run interrupted with --checkpoint resumes to the rows of an
# uninterrupted run; every JSON file parses strictly (Python's json with NaN/Infinity refused) with flag values as
# typed by a user (.001, +1e-3, 1., 0x1p-10) and a non-UTF-8 path; metrics.csv exists whenever summary.json does.
NAME=outputs
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
Q="--quiet"

# wait until FILE has a line matching PATTERN (or 60 s)
wait_for() {
    n=0; while ! grep -q "$2" "$1" 2>/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
}

# ---- JSON: numbers as typed, strings as bytes ----
for v in .001 +0.001 1. 01 0x1p-10; do
    rm -rf "$T/js"
    "$S" train $Q --dim 10 --steps 5 --algo sgd --lr "$v" --out "$T/js" >/dev/null 2>&1
    got=$(jq "$T/js/summary.json" "repr(float(d['config']['lr']))" 2>"$T/err")
    want=$($PY -c "print(repr(float.fromhex('$v') if '$v'.startswith('0x') else float('$v')))")
    check "summary.json: --lr $v is the JSON number $want (got '$got' $(head -c 200 "$T/err"))" [ "$got" = "$want" ]
done
printf 'algo = sgd\nlr = .5e-2\n' >"$T/c.conf"
rm -rf "$T/js"; "$S" train $Q --dim 10 --steps 5 --config "$T/c.conf" --out "$T/js" >/dev/null 2>&1
check "summary.json: 'lr = .5e-2' in a config file is the number 0.005" \
    [ "$(jq "$T/js/summary.json" "repr(d['config']['lr'])" 2>/dev/null)" = "0.005" ]
mkdir -p "$T/lat"; bad_name=$(printf 'lat/x\351y.conf'); printf 'lr = 0.01\n' >"$T/$bad_name"
rm -rf "$T/js"; "$S" train $Q --dim 10 --steps 5 --algo sgd --config "$T/$bad_name" --out "$T/js" >/dev/null 2>&1
check "summary.json with a Latin-1 path is valid UTF-8 (U+FFFD for the byte)" \
    [ "$(jq "$T/js/summary.json" "'\ufffd' in d['config']['config']" 2>/dev/null)" = "True" ]

# ---- train: SIGINT and SIGTERM ----
long="train --problem quadratic --dim 200000 --steps 100000 --eval-every 50 --algo sgd --lr 0.001"
for sg in INT TERM; do
    rm -rf "$T/tr"
    "$S" $long --seeds 3 --out "$T/tr" >"$T/out" 2>"$T/err" &
    job=$!
    wait_for "$T/err" "step"; sleep 0.3
    kill -$sg $job; wait $job; rc=$?
    want=130; [ $sg = TERM ] && want=143
    check "train: SIG$sg exits $want (got $rc)" [ $rc -eq $want ]
    check "train: SIG$sg: metrics.csv and summary.json written" [ -s "$T/tr/metrics.csv" -a -s "$T/tr/summary.json" ]
    check "train: SIG$sg: summary says interrupted, seed 1 unfinished, seeds 2 and 3 not run" \
        [ "$(jq "$T/tr/summary.json" "(d['interrupted']['signal'], d['seeds'][0]['interrupted'], d['interrupted']['seeds_not_run'], d['final_stats']['loss']['n'])" 2>&1)" = "('SIG$sg', True, [2, 3], 0)" ]
    check "train: SIG$sg: the table marks the seed" grep -q "interrupted at step" "$T/out"
done

# ---- sweep: Ctrl-C never ranks an unfinished cell ----
rm -rf "$T/sw"
"$S" sweep --problem quadratic --dim 200000 --steps 20000 --algo sgd --lr 0.001,0.01,0.02,0.05 --beta 0 --seeds 2 \
    --out "$T/sw" >"$T/out" 2>"$T/err" &
job=$!
wait_for "$T/err" "lr 0.001 beta 0 seed 2"; sleep 0.3
kill -INT $job; wait $job; rc=$?
check "sweep: SIGINT exits 130 (got $rc)" [ $rc -eq 130 ]
check "sweep: cells after the stop are 'not run', the stopped one 'interrupted', none ranked" \
    [ "$(jq "$T/sw/summary.json" "([c['status'] for c in d['cells']], d['best'], d['interrupted']['cells_finished'])" 2>&1)" = "(['interrupted', 'not run', 'not run', 'not run'], None, 0)" ]
check "sweep: the table shows no best" sh -c "! grep -q '^best' '$T/out'"
check "sweep: sweep.csv marks the interrupted seed" \
    [ "$(tail -n 1 "$T/sw/sweep.csv" | awk -F, '{print $NF}')" = "1" ]

# ---- resume after an interrupted 3-seed run equals an uninterrupted one ----
run3="train $Q --problem quadratic --dim 200000 --steps 10000 --eval-every 100 --algo signum --lr 0.001 --seeds 3"
"$S" $run3 --out "$T/ref" >/dev/null 2>&1
"$S" train --problem quadratic --dim 200000 --steps 10000 --eval-every 100 --algo signum --lr 0.001 \
    --seeds 3 --checkpoint "$T/ck" --out "$T/int" >/dev/null 2>"$T/err" &
job=$!
wait_for "$T/err" "seed 1 (1/3): step"; sleep 0.2
kill -INT $job; wait $job; rc=$?
"$S" $run3 --checkpoint "$T/ck" --resume "$T/ck" --out "$T/int" --force >/dev/null 2>"$T/err2"; rc2=$?
check "interrupted 3-seed run ($rc) resumes (exit $rc2: $(head -c 300 "$T/err2"))" [ $rc -eq 130 -a $rc2 -eq 0 ]
cut -d, -f1-11 "$T/ref/metrics.csv" >"$T/a"; cut -d, -f1-11 "$T/int/metrics.csv" >"$T/b"
check "resumed metrics (without wall_s) equal the uninterrupted run's" cmp -s "$T/a" "$T/b"

# ---- the checkpoint carries the run's configuration: --resume alone restores it, a changed field is refused ----
cfg="--problem quadratic --algo mv-signum --workers 3 --dim 30 --noise gauss:1 --lr 0.01 --beta 0.8 --eval-every 5 --seeds 2"
"$S" train $Q $cfg --steps 40 --out "$T/rfull" >/dev/null 2>&1
"$S" train $Q $cfg --steps 20 --checkpoint "$T/rck" --out "$T/rhalf" >/dev/null 2>&1
"$S" train $Q --resume "$T/rck" --steps 40 --out "$T/ralone" >/dev/null 2>"$T/err"; rc=$?
cut -d, -f1-11 "$T/rfull/metrics.csv" >"$T/a"; cut -d, -f1-11 "$T/ralone/metrics.csv" >"$T/b"
check "--resume with only --steps restores every other flag and equals the straight run (exit $rc: $(head -c 200 "$T/err"))" \
    sh -c "[ $rc -eq 0 ] && cmp -s '$T/a' '$T/b'"
check "the restored configuration is the one summary.json reports" \
    jtrue "$T/ralone/summary.json" "d['config']['algo'] == 'mv-signum' and d['config']['beta'] == 0.8 and d['config']['workers'] == 3"
for bad in "--problem l0l1" "--lr 0.02" "--workers 4" "--noise none" "--seeds 3"; do
    "$S" train $Q --resume "$T/rck" --steps 40 $bad >/dev/null 2>"$T/err"; rc=$?
    f=$(echo "$bad" | cut -d' ' -f1)
    check "--resume with a changed $bad is refused naming $f (exit $rc: $(head -c 200 "$T/err"))" \
        sh -c "[ $rc -eq 2 ] && grep -q -- '$f: .* was written with $f' '$T/err'"
done
"$S" train $Q --resume "$T/rck" --steps 40 --lr .01 --out "$T/rsame" >/dev/null 2>&1
check "--resume with the same value written another way (.01 for 0.01) is accepted" [ -s "$T/rsame/summary.json" ]

# ---- directories and FIFOs are refused where a file is read (a directory is a valid --data: an IDX folder) ----
mkdir -p "$T/adir"; mkfifo "$T/fifo"
for what in "--config $T/adir" "--config $T/fifo" "--resume $T/adir" \
            "--problem logreg --data $T/fifo"; do
    timeout 20 "$S" train $Q --dim 10 --steps 5 --algo sgd $what >/dev/null 2>"$T/err"; rc=$?
    check "train $what: refused with exit 1 or 2 and 'not a regular file' (got $rc: $(head -c 200 "$T/err"))" \
        sh -c "[ $rc -eq 1 -o $rc -eq 2 ] && grep -q 'not a regular file' '$T/err'"
done

# ---- the output directory: locked, checked writable before any work, never a stale or lying summary ----
rm -rf "$T/lk"
"$S" $long --out "$T/lk" >/dev/null 2>"$T/err" &
job=$!
wait_for "$T/err" "step"
"$S" train $Q --dim 10 --steps 5 --algo sgd --out "$T/lk" --force >/dev/null 2>"$T/err2"; rc=$?
check "a second run into a busy --out is refused (exit $rc: $(head -c 200 "$T/err2"))" \
    sh -c "[ $rc -eq 1 ] && grep -q 'in use by another signopt run' '$T/err2'"
kill -INT $job; wait $job
"$S" train $Q --dim 10 --steps 5 --algo sgd --out "$T/lk" --force >/dev/null 2>&1; rc=$?
check "once the first run ended, the directory is free again (exit $rc)" [ $rc -eq 0 ]
t0=$(date +%s)
"$S" $long --out /proc/self >/dev/null 2>"$T/err"; rc=$?
t1=$(date +%s)
check "an --out where nothing can be created fails before the run (exit $rc in $((t1 - t0)) s)" \
    sh -c "[ $rc -eq 1 ] && [ $((t1 - t0)) -le 2 ] && grep -q 'cannot write in' '$T/err'"
# --force on a run that then fails before writing anything: the old run's summary is gone, not left looking new.
rm -rf "$T/st"; "$S" train $Q --dim 10 --steps 5 --algo sgd --out "$T/st" >/dev/null 2>&1
"$S" train $Q --dim 10 --steps 5 --algo sgd --resume "$T/nothing-here" --out "$T/st" --force >/dev/null 2>"$T/err"; rc=$?
check "a missing --resume file is refused before --out is touched (exit $rc)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'resume: cannot read' '$T/err' && [ -s '$T/st/summary.json' ]"
head -c 300 /dev/urandom >"$T/junk.ckpt"
"$S" train $Q --dim 10 --steps 5 --algo sgd --resume "$T/junk.ckpt" --out "$T/st" --force >/dev/null 2>&1; rc=$?
check "a --force run that fails before any result leaves no summary of the old run (exit $rc)" \
    sh -c "[ $rc -eq 1 ] && [ ! -e '$T/st/summary.json' ]"
# A nearly full disk (a 96 KiB tmpfs, when this machine lets us mount one): exit 1 and no summary without its
# metrics; whatever summary.json exists carries an error or is absent.
mkdir -p "$T/small"
if mount -t tmpfs -o size=96k tmpfs "$T/small" 2>/dev/null; then
    trap 'umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT
    head -c 80000 /dev/zero >"$T/small/fill"
    "$S" train $Q --dim 10 --steps 3000 --eval-every 1 --algo sgd --lr 0.001 --out "$T/small/run" >/dev/null 2>"$T/err"; rc=$?
    check "full disk: exit 1 with a message naming the file (got $rc: $(head -c 200 "$T/err"))" \
        sh -c "[ $rc -eq 1 ] && grep -q 'metrics.csv' '$T/err'"
    check "full disk: no summary.json, no temp file" \
        sh -c "[ ! -e '$T/small/run/summary.json' ] && [ -z \"\$(ls -A '$T/small/run')\" ]"
    umount "$T/small"
else
    echo "  note: tmpfs cannot be mounted here; the full-disk case is not run" >&2
fi

# ---- every JSON file a run writes parses ----
nj=0; badj=""
for f in $(find "$T" -name '*.json'); do
    nj=$((nj + 1)); jq "$f" "1" >/dev/null 2>&1 || badj="$badj $f"
done
check "every summary.json written here parses strictly ($nj files; bad:$badj)" [ -z "$badj" -a $nj -ge 5 ]

echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
