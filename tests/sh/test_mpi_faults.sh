#!/bin/sh
# test_mpi_faults.sh — what happens to an MPI run when something goes wrong (docs/cli.md, MPI): ranks given different
# flags are refused at start-up naming the flag (--seeds, --eval-every, --checkpoint, --steps: these used to hang or
# be reported as "(lr schedule)"); signopt started by mpirun without --backend mpi says so; SIGTERM to ONE rank stops
# every rank at the same step (exit 143, summary marked interrupted); a rank that stops answering (SIGSTOP) ends the
# run through --round-timeout within the stated time, exit 1, naming the step, and the last checkpoint resumes.
# Needs mpirun; without it says so and runs nothing.
NAME=mpi-faults
. "$(dirname "$0")/lib.sh"
if ! command -v mpirun >/dev/null 2>&1; then
    echo "  note: needs mpirun; not run here" >&2
    echo "$NAME: $pass passed, $fail failed"
    exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI="mpirun --oversubscribe --mca mpi_yield_when_idle 1"
base="train --backend mpi --quiet --algo mv-signum --problem quadratic --dim 1000 --noise gauss:1 --lr 0.001"

# ---- flags that differ between ranks (MPMD: rank 1 is given another value) ----
for f in "--seeds 2|--seeds 3" "--eval-every 5|--eval-every 10" "--checkpoint $T/ck|--checkpoint $T/ck2" \
         "--steps 20|--steps 30" "--lr-schedule const|--lr-schedule cosine"; do
    a=${f%%|*}; b=${f#*|}; flag=${a%% *}
    timeout 60 $MPI -np 1 "$S" $base --steps 20 $a --out "$T/d" : -np 1 "$S" $base --steps 20 $b --out "$T/d" \
        >"$T/out" 2>&1; rc=$?
    check "ranks given different $flag: exit 2 (got $rc) naming it: $(head -c 300 "$T/out")" \
        sh -c "[ $rc -eq 2 ] && grep -q -- 'rank 1: configuration differs from rank 0 ($flag)' '$T/out'"
done
timeout 60 $MPI -np 2 "$S" $base --steps 5 --out "$T/same" >"$T/out" 2>&1
check "the same flags on every rank: exit 0" [ $? -eq 0 ]

# ---- under mpirun without --backend mpi ----
timeout 60 $MPI -np 2 "$S" train --quiet --problem quadratic --dim 100 --steps 5 --out "$T/nob" >"$T/out" 2>&1; rc=$?
check "mpirun without --backend mpi: exit 2 (got $rc)" [ $rc -eq 2 ]
check "mpirun without --backend mpi: rank 0 says so once" \
    [ "$(grep -c 'started by mpirun as one of 2 ranks, but --backend is local' "$T/out")" -eq 1 ]
check "mpirun without --backend mpi: nothing written" [ ! -e "$T/nob/metrics.csv" ]

# rank_pid OUTDIR RANK: the pid of that rank of the run writing OUTDIR (from its environment)
rank_pid() {
    for p in $(pgrep -f -- "--out $1"); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = signopt ] || continue
        if tr '\0' '\n' </proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo $p; return; fi
    done
}
wait_pid() { # wait_pid OUTDIR RANK: up to 20 s for the rank to start and take a few steps
    n=0; while [ -z "$(rank_pid "$1" "$2")" ] && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
    sleep 1
    rank_pid "$1" "$2"
}

# ---- SIGTERM to rank 1 only: every rank stops at the same step, the run is written and marked ----
$MPI -np 3 "$S" $base --dim 200000 --steps 100000000 --eval-every 1000000 --out "$T/sig" >"$T/out" 2>&1 &
job=$!
pid=$(wait_pid "$T/sig" 1)
t0=$(date +%s)
[ -n "$pid" ] && kill -TERM "$pid"
n=0; while kill -0 $job 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
kill -0 $job 2>/dev/null && { kill -KILL $job; sleep 1; }
wait $job; rc=$?
dt=$(( $(date +%s) - t0 ))
check "SIGTERM to one of 3 ranks (pid ${pid:-none}): the job ends within 30 s with 143 (got $rc after ${dt}s: $(tail -c 300 "$T/out"))" \
    [ -n "$pid" ] && [ $rc -eq 143 ]
check "... its summary is marked interrupted by SIGTERM" jtrue "$T/sig/summary.json" \
    "d['interrupted'] is not None and d['interrupted']['signal'] == 'SIGTERM'"
check "... and no signopt rank is left" [ -z "$(pgrep -f -- "--out $T/sig")" ]

# ---- a rank that stops answering: --round-timeout 3 ends the run, naming the step; the checkpoint resumes ----
$MPI -np 2 "$S" $base --dim 50000 --steps 100000000 --eval-every 50 --checkpoint "$T/wd.ck" --round-timeout 3 \
    --out "$T/wd" >"$T/out" 2>&1 &
job=$!
pid=$(wait_pid "$T/wd" 1)
n=0; while [ ! -e "$T/wd.ck" ] && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
t0=$(date +%s)
[ -n "$pid" ] && kill -STOP "$pid"
n=0; while kill -0 $job 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
[ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null
kill -0 $job 2>/dev/null && { kill -KILL $job; sleep 1; }
wait $job; rc=$?
dt=$(( $(date +%s) - t0 ))
check "a stopped rank with --round-timeout 3: the job ends within 10 s (took ${dt}s), exit nonzero (got $rc)" \
    [ -n "$pid" ] && [ $dt -le 10 ] && [ $rc -ne 0 ]
check "... with the watchdog's message naming the step and the checkpoint: $(grep -m1 round-timeout "$T/out")" \
    grep -q "signopt train: step [0-9][0-9]*: no step or evaluation finished in 3 s (--round-timeout).*--resume $T/wd.ck" \
    "$T/out"
pkill -KILL -f -- "--out $T/wd" 2>/dev/null
timeout 120 $MPI -np 2 "$S" $base --dim 50000 --resume "$T/wd.ck" --steps 120 --out "$T/wd2" >"$T/out" 2>&1; rc=$?
check "... and the last checkpoint resumes under mpirun (exit $rc: $(tail -c 200 "$T/out"))" \
    sh -c "[ $rc -eq 0 ] && [ \$(tail -n 1 '$T/wd2/metrics.csv' | cut -d, -f2) = 120 ]"

echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
