#!/bin/sh
# run.sh — run every test binary given and every tests/sh/test_*.sh script; each ends with a line
# "NAME: N passed, M failed". Print the total as "N passed, N failed"; exit non-zero on any failure.
total_pass=0; total_fail=0; status=0
# Idle OpenMP threads sleep instead of spinning: the tests run one after another on a small shared machine, and a
# spinning team between a test's parallel regions slowed the suite several times over. Results do not depend on it.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# SO_TEST_SKIP: names of test scripts or binaries to leave out (e.g. "test_python test_netns"), each said so.
for t in "$@" tests/sh/test_*.sh; do
    [ -e "$t" ] || continue
    base=$(basename "$t" .sh)
    case " ${SO_TEST_SKIP:-} " in *" $base "*) echo "$t: skipped (SO_TEST_SKIP)"; continue;; esac
    case "$t" in *.sh) cmd="sh $t";; *) cmd="$t";; esac
    out=$($cmd 2>/tmp/signopt-test-err.$$); rc=$?
    line=$(printf '%s\n' "$out" | grep -E ': [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$line" ]; then
        echo "$t: crashed or printed no result (exit $rc)"; cat /tmp/signopt-test-err.$$ | tail -n 20
        total_fail=$((total_fail + 1)); status=1; continue
    fi
    echo "$line"
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
    f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then status=1; tail -n 30 /tmp/signopt-test-err.$$; fi
done
rm -f /tmp/signopt-test-err.$$
echo "$total_pass passed, $total_fail failed"
exit $status
