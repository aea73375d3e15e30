#!/bin/sh
# test_experiments.sh — smoke test: every experiment config runs end to end for a few steps (QUICK=1) and
# states its claims. Whether the claims hold is for the full runs (make experiments), not for this test.
B=${BUILD:-build}
pass=0; fail=0
tmp=$(mktemp -d) || exit 1
for f in experiments/E*.sh; do
    [ -e "$f" ] || continue
    e=$(basename "$f" .sh)
    if QUICK=1 EXP=$e OUT="$tmp/$e" SIGNOPT="$B/signopt" sh "$f" >"$tmp/$e.out" 2>&1 &&
        [ -s "$tmp/$e/claims.txt" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL $e (quick run):" >&2; tail -n 5 "$tmp/$e.out" >&2
    fi
done
rm -rf "$tmp"
echo "experiments: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
