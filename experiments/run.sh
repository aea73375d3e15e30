#!/bin/sh
# run.sh — run experiments: `sh experiments/run.sh E2 E5` (default: all E*.sh in order). Each writes runs/EK/
# (metrics, plots, claims.txt) and prints its claims with HELD / DID NOT HOLD. QUICK=1: a smoke run.
cd "$(dirname "$0")/.." || exit 1
list=$*
[ -n "$list" ] || list=$(ls experiments/E*.sh | sed 's|experiments/\(E[0-9]*\)\.sh|\1|' | sort -V)
status=0
for e in $list; do
    [ -f "experiments/$e.sh" ] || { echo "run.sh: no experiment $e (have: $(ls experiments/E*.sh | tr '\n' ' '))" >&2; exit 2; }
    t0=$(date +%s)
    EXP=$e sh "experiments/$e.sh" || { echo "run.sh: $e failed" >&2; status=1; }
    echo "run.sh: $e took $(( $(date +%s) - t0 )) s" >&2
done
exit $status
