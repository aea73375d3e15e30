#!/bin/sh
# test_example.sh — the README's C example (examples/quickstart.c) builds with plain gcc (no MPI) against
# build/libsignopt.a exactly as its header says, runs, and both methods make progress on the quadratic (f falls from
# its start by 100x).
B=${BUILD:-build}
pass=0; fail=0
tmp=$(mktemp -d) || exit 1
if gcc -std=c11 -Wall -Wextra -Werror -Iinclude examples/quickstart.c "$B/libsignopt.a" -fopenmp -lopenblas -lz -lm \
        $SO_SAN_FLAGS -o "$tmp/quickstart" 2>"$tmp/cc.err"; then
    pass=$((pass + 1))
    if "$tmp/quickstart" >"$tmp/out" 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); cat "$tmp/out" >&2; fi
    if awk '/step    0/ { f0 = $NF } /step 2000/ { f1 = $6 } /round 2000/ { f2 = $6 }
            END { exit !(f0 > 0 && f1 < f0 / 100 && f2 < f0 / 100) }' "$tmp/out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL example: no 100x progress:" >&2; cat "$tmp/out" >&2
    fi
else
    fail=$((fail + 1)); echo "FAIL example does not compile:" >&2; cat "$tmp/cc.err" >&2
fi
rm -rf "$tmp"
echo "example: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
