#!/bin/sh
# test_robust.sh — bad input and faults against what docs/robustness.md promises: every broken checkpoint,
# data file, config file and flag value is refused with its exit code and a one-line message naming the fault;
# a run killed with SIGKILL while it writes a checkpoint leaves the previous checkpoint readable and --resume
# continues bit for bit; --on-nan stop|skip; an MPI rank killed mid-run, or ranks started with different
# configurations, stop the job with a message and leave the last checkpoint valid.
# ROBUST_TABLE=FILE appends one markdown row per bad input tried (the table in docs/robustness.md comes from it).
# Last line: "robust: N passed, M failed".
S=${SIGNOPT:-${BUILD:-build}/signopt}
T=$(mktemp -d /tmp/signopt-robust.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
bad() { fail=$((fail + 1)); echo "  FAIL: $*" >&2; }
check() { # check NAME CONDITION-COMMAND...
    name=$1; shift
    if "$@"; then pass=$((pass + 1)); else bad "$name"; fi
}
# expect WHERE INPUT RC PATTERN CMD...: run CMD, want exit RC and the first stderr line matching PATTERN.
expect() {
    where=$1; input=$2; want=$3; pat=$4; shift 4
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    msg=$(grep -a -m 1 'signopt' "$T/err")
    if [ "$rc" -eq "$want" ] && printf '%s\n' "$msg" | grep -q -- "$pat"; then
        pass=$((pass + 1))
    else
        bad "$where / $input: exit $rc (want $want), message '$msg' (want /$pat/)"
    fi
    if [ -n "$ROBUST_TABLE" ]; then
        printf '| %s | %s | %s | `%s` |\n' "$where" "$input" "$rc" "$(printf '%s' "$msg" | sed "s|$T|T|g; s/|/\\\\|/g")" \
            >>"$ROBUST_TABLE"
    fi
}
jtrue() { # jtrue FILE EXPR: a Python expression over the JSON document d (parsed by Python, not by signopt)
    [ "$(/usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print(bool($2))" "$1" 2>/dev/null)" = True ]
}
if [ ! -x "$S" ]; then echo "robust: 0 passed, 1 failed"; echo "no binary at $S" >&2; exit 1; fi
Q="--quiet --threads 1"
base="train $Q --problem quadratic --dim 50 --noise gauss:1 --algo signum --lr 0.01"

# ---- checkpoints: every way a file can be wrong ----
"$S" $base --steps 10 --eval-every 5 --checkpoint "$T/good.ck" >/dev/null 2>&1
check "a checkpoint is written" [ -s "$T/good.ck" ]
size=$(wc -c <"$T/good.ck")
expect "--resume" "missing file" 1 "resume: cannot read" "$S" $base --steps 20 --resume "$T/nothing.ck"
: >"$T/empty.ck"
expect "--resume" "empty file" 1 "too short" "$S" $base --steps 20 --resume "$T/empty.ck"
head -c 4096 /dev/urandom >"$T/noise.ck"
expect "--resume" "4096 random bytes" 1 "bad magic" "$S" $base --steps 20 --resume "$T/noise.ck"
cp "$T/good.ck" "$T/flip.ck"
printf '\377' | dd of="$T/flip.ck" bs=1 seek=200 conv=notrunc 2>/dev/null
expect "--resume" "one byte changed (offset 200)" 1 "corrupt or truncated" "$S" $base --steps 20 --resume "$T/flip.ck"
head -c $((size - 100)) "$T/good.ck" >"$T/trunc.ck"
expect "--resume" "last 100 bytes cut" 1 "corrupt or truncated" "$S" $base --steps 20 --resume "$T/trunc.ck"
head -c 100 "$T/good.ck" >"$T/trunc2.ck"
expect "--resume" "only the first 100 bytes" 1 "too short" "$S" $base --steps 20 --resume "$T/trunc2.ck"
cp "$T/good.ck" "$T/long.ck"; printf 'x' >>"$T/long.ck"
expect "--resume" "one byte appended" 1 "corrupt or truncated" "$S" $base --steps 20 --resume "$T/long.ck"
cp "$T/good.ck" "$T/v1.ck"
printf '\001' | dd of="$T/v1.ck" bs=1 seek=8 conv=notrunc 2>/dev/null
expect "--resume" "format version 1 (older layout)" 1 "version 1, this build reads versions 2 to 5" \
    "$S" $base --steps 20 --resume "$T/v1.ck"
expect "--resume" "checkpoint of another algorithm" 2 "written with --algo signum, not sgd" \
    "$S" $base --algo sgd --steps 20 --resume "$T/good.ck"
expect "--resume" "checkpoint of another dimension" 2 "written with --dim 50, not 60" \
    "$S" $base --dim 60 --steps 20 --resume "$T/good.ck"
expect "--resume" "checkpoint of another seed" 2 "written with --seed 1, not 2" "$S" $base --seed 2 --steps 20 --resume "$T/good.ck"
expect "--resume" "checkpoint beyond --steps" 2 "beyond the run's 5 steps" "$S" $base --steps 5 --resume "$T/good.ck"
expect "--resume" "a directory" 1 "not a regular file" "$S" $base --steps 20 --resume "$T"
expect "--checkpoint" "in a missing directory" 1 "cannot create" "$S" $base --steps 5 --checkpoint "$T/no/dir/ck"

# ---- SIGKILL while the checkpoint is being written: the last good one stays, resume is bit for bit ----
# Deterministic: the resumed run's temporary file (PATH.tmp.PID; the PID survives exec) is made a FIFO first, so
# its next checkpoint write blocks part-way (after the 1000 bytes a reader takes; 240 KB to write) until killed.
big="train $Q --problem quadratic --dim 20000 --noise gauss:1 --algo signum --lr 0.001 --eval-every 2"
"$S" $big --steps 40 --out "$T/straight" >/dev/null 2>&1
"$S" $big --steps 20 --checkpoint "$T/k.ck" >/dev/null 2>&1
cp "$T/k.ck" "$T/k20.ck"
sh -c 'mkfifo "$1.tmp.$$" && shift && exec "$@"' _ "$T/k.ck" "$S" $big --steps 40 --resume "$T/k.ck" \
    --checkpoint "$T/k.ck" >/dev/null 2>&1 &
pid=$!
n=0; while [ ! -p "$T/k.ck.tmp.$pid" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
(head -c 1000 >/dev/null; : >"$T/mid"; exec sleep 60) <"$T/k.ck.tmp.$pid" &
reader=$!
n=0; while [ ! -e "$T/mid" ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
landed=0; [ -e "$T/mid" ] && kill -0 $pid 2>/dev/null && landed=1
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
kill $reader 2>/dev/null; wait $reader 2>/dev/null
rm -f "$T/k.ck.tmp.$pid"
check "SIGKILL landed in the middle of a checkpoint write" [ $landed -eq 1 ]
check "SIGKILL mid-write: the checkpoint is still the last good one, byte for byte" cmp -s "$T/k.ck" "$T/k20.ck"
"$S" $big --steps 40 --resume "$T/k.ck" --out "$T/resumed" >/dev/null 2>"$T/err"
check "SIGKILL mid-write: the checkpoint left behind resumes ($(head -n 1 "$T/err"))" [ $? -eq 0 ]
cut -d, -f1-11 "$T/straight/metrics.csv" >"$T/a"; cut -d, -f1-11 "$T/resumed/metrics.csv" >"$T/b" 2>/dev/null
check "SIGKILL mid-write: resumed rows equal the straight run's bit for bit" \
    sh -c "cmp -s '$T/a' '$T/b' && [ \$(wc -l <'$T/a') -eq 22 ]"

# A temporary file left by a writer that was killed (PATH.tmp.PID, PID no longer running) is removed at the next
# successful checkpoint write; one whose PID is alive (another writer at work) is left alone.
sh -c 'exit 0' & dead=$!; wait $dead
sleep 30 & alive=$!
: >"$T/k.ck.tmp.$dead"; : >"$T/k.ck.tmp.$alive"
"$S" $big --steps 4 --checkpoint "$T/k.ck" >/dev/null 2>&1
check "a stale PATH.tmp.PID of a dead writer is removed by the next checkpoint write" [ ! -e "$T/k.ck.tmp.$dead" ]
check "a PATH.tmp.PID whose writer is alive is kept" [ -e "$T/k.ck.tmp.$alive" ]
kill $alive 2>/dev/null; wait $alive 2>/dev/null

# ---- numerical faults ----
nan="train $Q --problem quadratic --dim 20 --algo signum --noise student:0.3:1e30 --steps 200 --eval-every 20"
expect "--on-nan stop (default)" "Inf in a stochastic gradient" 1 "step [0-9]*: the stochastic gradient or its loss is not finite.*last good checkpoint.*at step 0" \
    "$S" $nan --checkpoint "$T/nan.ck"
"$S" $nan --steps 20 --resume "$T/nan.ck" --on-nan skip >/dev/null 2>&1
check "--on-nan stop: the checkpoint from before the fault is readable" [ $? -eq 0 ]
"$S" $nan --on-nan skip --out "$T/skip" >/dev/null 2>&1
check "--on-nan skip: exit 0 and skipped steps counted in summary.json" \
    /usr/bin/python3 -c "import json, sys; sys.exit(json.load(open('$T/skip/summary.json'))['seeds'][0]['skipped_steps'] <= 0)"
expect "--on-nan skip" "with a distributed algorithm" 2 "only for single-node algorithms" \
    "$S" $nan --algo mv-signsgd --workers 2 --on-nan skip
expect "--on-nan" "maybe" 2 "on-nan" "$S" $nan --on-nan maybe
expect "--lr" "1 with sgd on L up to 10 (diverges)" 1 "not finite\|diverged" \
    "$S" train $Q --problem quadratic --dim 4 --L-max 10 --x0 1 --algo sgd --lr 1 --steps 500 --eval-every 1000

# ---- data files ----
printf '+1 1:0.5 2:1\n-1 1:x\n' >"$T/bad.svm"
expect "--data (LIBSVM)" "a value that is not a number (line 2)" 1 ":2:" "$S" train $Q --problem logreg --data "$T/bad.svm" --steps 2
printf '+1 3:1 2:1\n' >"$T/order.svm"
expect "--data (LIBSVM)" "indices not ascending" 1 ":1:" "$S" train $Q --problem logreg --data "$T/order.svm" --steps 2
expect "--data" "missing file" 1 "cannot read" "$S" train $Q --problem logreg --data "$T/none.svm" --steps 2
mkdir -p "$T/idx"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    head -c 64 /dev/urandom >"$T/idx/$f"
done
expect "--data (IDX folder)" "random bytes for every file" 1 "offset 0" "$S" train $Q --problem mlp --data "$T/idx" --steps 2
printf 'not gzip' | gzip -c | head -c 20 >"$T/idx/train-images-idx3-ubyte.gz"; rm -f "$T/idx/train-images-idx3-ubyte"
expect "--data (IDX folder)" "a gzip file cut short" 1 "signopt" "$S" train $Q --problem mlp --data "$T/idx" --steps 2

# ---- config files and flags ----
printf 'lr 0.1\n' >"$T/c1.conf"
expect "--config" "a line without '='" 2 "expected 'key = value'" "$S" train $Q --config "$T/c1.conf"
printf 'learning-rate = 0.1\n' >"$T/c2.conf"
expect "--config" "an unknown key" 2 "unknown key 'learning-rate'" "$S" train $Q --config "$T/c2.conf"
printf 'quiet = yes\n' >"$T/c3.conf"
expect "--config" "a flag set to 'yes'" 2 "expected true or false" "$S" train $Q --config "$T/c3.conf"
head -c 2000 /dev/urandom >"$T/c4.conf"
expect "--config" "2000 random bytes" 2 "signopt train" "$S" train $Q --config "$T/c4.conf"
expect "--config" "missing file" 2 "cannot open" "$S" train $Q --config "$T/none.conf"
expect "--steps" "-3" 2 "steps" "$S" train $Q --steps -3
expect "--lr" "nan" 2 "lr" "$S" train $Q --lr nan
expect "--dim" "99999999999999999999" 2 "dim" "$S" train $Q --dim 99999999999999999999

# ---- data: one label mapping for train and test, a bounded dimension ----
printf '1 1:1\n1 2147483648:1\n' >"$T/big.svm"
expect "--data (LIBSVM)" "index 2147483648 in a 2-line file" 1 "big.svm:2: index 2147483648 is beyond the dimension limit" \
    "$S" train $Q --problem logreg --data "$T/big.svm" --steps 2
expect "--max-dim" "0" 2 "max-dim" "$S" train $Q --problem logreg --data "$T/big.svm" --max-dim 0
printf '1 1:1 2:0.5\n2 1:-1 2:0.3\n1 1:0.8\n2 2:-1\n' >"$T/tr.svm"
printf '1 1:1 2:0.5\n1 1:0.9\n' >"$T/te1.svm"
printf '1 1:1\n3 1:1\n' >"$T/te3.svm"
expect "--test-data" "a label the training file never has (line 2)" 1 "te3.svm:2: label 3 does not occur in the training file" \
    "$S" train $Q --problem logreg --data "$T/tr.svm" --test-data "$T/te3.svm" --steps 2
"$S" train $Q --problem logreg --data "$T/tr.svm" --test-data "$T/te1.svm" --algo sgd --lr 0.5 --steps 50 --out "$T/lab" \
    >/dev/null 2>&1
check "train labels {1,2}, test labels {1}: test accuracy 1 (each file mapped alone gave 0)" \
    jtrue "$T/lab/summary.json" "d['seeds'][0]['final']['test_acc'] == 1"

# ---- flags: exact names only, near misses named, checked integers, conflicts refused ----
expect "--momentum" "a prefix of --momentum-init" 2 "unknown flag '--momentum' (did you mean --momentum-init?)" \
    "$S" train $Q --momentum 0.9
expect "--be" "a prefix of two flags" 2 "did you mean --beta, --beta2?" "$S" train $Q --be 0.5
expect "--lrr" "a typo" 2 "did you mean --lr?" "$S" train $Q --lrr 0.1
expect "--nesterov=yes" "a value for a boolean flag" 2 "--nesterov takes no value" "$S" train $Q --nesterov=yes
expect "--byzantine" "99999999999:flip (beyond int)" 2 "F an integer from 0 to 1000000, got '99999999999:flip'" \
    "$S" train $Q --algo mv-signsgd --workers 3 --byzantine 99999999999:flip
expect "--binary" "4294967299,1 (wraps to 3 as an int)" 2 "binary" "$S" train $Q --binary 4294967299,1
expect "--steps with --epochs" "both on the command line" 2 "--steps and --epochs both given" \
    "$S" train $Q --steps 10 --epochs 1
expect "--local-steps" "65536 (beyond the minibatch streams)" 2 "local-steps: expected an integer in \\[1, 255\\]" \
    "$S" train $Q --algo fed-mv-sto-signsgd-sim --workers 2 --local-steps 65536
expect "sweep --checkpoint" "every cell would share one file" 2 "sweep does not checkpoint" \
    "$S" sweep $Q --steps 5 --lr 0.1 --checkpoint "$T/sw.ck"
expect "plan --workers" "1000000000" 2 "workers: expected an integer from 1 to 1000000" "$S" plan --workers 1000000000
expect "plan --work" "a prefix" 2 "did you mean --workers?" "$S" plan --work 8
expect "plot --ou" "a prefix" 2 "did you mean --out?" "$S" plot --ou x.png "$T"
"$S" sweep --help >"$T/sh" 2>&1
check "sweep --help is sweep's: its output files, no --checkpoint/--resume" \
    sh -c "grep -q 'sweep.csv' '$T/sh' && ! grep -q -- '--checkpoint\\|--resume' '$T/sh'"
check "train --help does not offer --grid" sh -c "! \"$S\" train --help | grep -q -- '--grid'"

# ---- config files: sections that apply to nothing, lines of any length ----
printf 'lr = 1\n[signum]\nlr = 2\n' >"$T/sec.conf"
expect "--config" "a [signum] section in a file that runs the default algorithm" 2 "section \\[signum\\] applies to no algorithm" \
    "$S" train $Q --config "$T/sec.conf"
printf 'algos = sgd\n[signum]\nlr = 2\n' >"$T/sec2.conf"
expect "--config" "a [signum] section not in the algos list" 2 "section \\[signum\\] applies to no algorithm" \
    "$S" train $Q --config "$T/sec2.conf"
"$S" train $Q --config "$T/sec.conf" --algo signum --dim 10 --steps 3 --out "$T/secok" >/dev/null 2>&1
check "--config with --algo signum: its section applies (lr 2)" jtrue "$T/secok/summary.json" "d['resolved']['lr'] == 2"
# A comment longer than 1024 bytes whose tail looks like a setting: read whole, the tail is not a setting.
/usr/bin/python3 -c "print('#' + 'a' * 1022 + 'steps = 7'); print('dim = 10')" >"$T/long.conf"
"$S" train $Q --config "$T/long.conf" --algo sgd --out "$T/longc" >/dev/null 2>&1
check "--config: a long comment's tail is not read as 'steps = 7'" jtrue "$T/longc/summary.json" "d['resolved']['steps'] != 7"
/usr/bin/python3 -c "print('lr = 0.1'); print('x0 = ' + '1' * 70000)" >"$T/huge.conf"
expect "--config" "a 70000-byte line" 2 "huge.conf:2: line of 70006 bytes" "$S" train $Q --config "$T/huge.conf"
printf 'lr = 0.1\nsteps = 5\0\n' >"$T/nul.conf"
expect "--config" "a NUL byte" 2 "nul.conf:2: NUL byte" "$S" train $Q --config "$T/nul.conf"
printf 'steps = 10\nepochs = 1\n' >"$T/se.conf"
expect "--config" "steps and epochs both set" 2 "both given in the config file" "$S" train $Q --config "$T/se.conf"

# ---- MPI faults (when mpirun exists) ----
if command -v mpirun >/dev/null 2>&1; then
    M="mpirun --allow-run-as-root --oversubscribe"
    mpi="train $Q --algo mv-signum --problem quadratic --dim 40 --noise gauss:1 --steps 200"
    expect "mpirun, rank 1" "different --lr on rank 1" 2 "rank 1: configuration differs from rank 0 (--lr)" \
        timeout 120 $M -np 1 "$S" $mpi --backend mpi --lr 0.01 : -np 1 "$S" $mpi --backend mpi --lr 0.02
    expect "mpirun, rank 1" "different --dim on rank 1" 2 "configuration differs from rank 0" \
        timeout 120 $M -np 1 "$S" $mpi --backend mpi : -np 1 "$S" $mpi --backend mpi --dim 41
    # A rank killed with SIGKILL mid-run: mpirun stops the job and says which rank died; the checkpoint stays
    # valid and resumes (with 2 in-process workers) to the same rows as an uninterrupted run.
    long="train $Q --algo mv-signum --problem quadratic --dim 2000 --noise gauss:1 --steps 100000 --eval-every 20"
    timeout 300 $M -np 2 "$S" $long --backend mpi --checkpoint "$T/m.ck" >/dev/null 2>"$T/merr" &
    job=$!
    n=0; while [ ! -e "$T/m.ck" ] && [ $n -lt 600 ] && kill -0 $job 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
    victim=""
    for p in $(pgrep -P $job) $(for c in $(pgrep -P $job); do pgrep -P "$c"; done); do
        case "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" in *signopt*--backend\ mpi*) victim=$p;; esac
    done
    [ -n "$victim" ] && kill -9 "$victim"
    wait $job; rc=$?
    check "SIGKILL of one MPI rank: the job stops with a non-zero exit ($rc)" [ -n "$victim" ] && [ $rc -ne 0 ]
    check "SIGKILL of one MPI rank: mpirun names the killed rank" grep -q "exited on signal 9" "$T/merr"
    if [ -n "$ROBUST_TABLE" ]; then
        printf '| mpirun -np 2 | kill -9 of one rank mid-run | %s | `%s` |\n' "$rc" \
            "$(grep -m 1 'exited on signal' "$T/merr")" >>"$ROBUST_TABLE"
    fi
    at=$(od -A n -t d8 -j 48 -N 8 "$T/m.ck" | tr -d ' ')
    short="train $Q --algo mv-signum --problem quadratic --dim 2000 --noise gauss:1 --steps $((at + 20)) --eval-every 20"
    "$S" $short --workers 2 --resume "$T/m.ck" --out "$T/mres" >/dev/null 2>"$T/err"
    check "SIGKILL of one MPI rank: the checkpoint (step $at) resumes ($(head -n 1 "$T/err"))" [ $? -eq 0 ]
    "$S" $short --workers 2 --out "$T/mstraight" >/dev/null 2>&1
    cut -d, -f1-11 "$T/mres/metrics.csv" >"$T/a" 2>/dev/null; cut -d, -f1-11 "$T/mstraight/metrics.csv" >"$T/b"
    check "SIGKILL of one MPI rank: resumed rows equal an uninterrupted run's" cmp -s "$T/a" "$T/b"
fi

echo "robust: $pass passed, $fail failed"
[ $fail -eq 0 ]
