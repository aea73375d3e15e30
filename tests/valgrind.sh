#!/bin/sh
# valgrind.sh — short training runs under memcheck: no errors and no leaks (suppressions: tests/valgrind.supp,
# libgomp's thread pool only). Not part of `make test` (minutes under valgrind); results in docs/robustness.md.
S=${SIGNOPT:-${BUILD:-build}/signopt}
T=$(mktemp -d /tmp/signopt-vg.XXXXXX)
trap 'rm -rf "$T"' EXIT
VG="valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --suppressions=tests/valgrind.supp"
status=0
run() {
    name=$1; shift
    if $VG "$S" "$@" >"$T/out" 2>"$T/err"; then echo "valgrind $name: clean"
    else echo "valgrind $name: ERRORS"; cat "$T/err"; status=1; fi
}
run "quadratic signum + checkpoint" train --quiet --problem quadratic --dim 100 --algo signum --steps 50 \
    --noise gauss:1 --checkpoint "$T/ck"
run "quadratic resume + on-nan skip" train --quiet --problem quadratic --dim 100 --algo signum --steps 80 \
    --noise gauss:1 --resume "$T/ck" --on-nan skip
run "mlp fashion-mnist 2 threads" train --quiet --problem mlp --data fashion-mnist --train-limit 500 --batch 16 \
    --algo signum --steps 5 --eval-every 5 --threads 2
run "mv-signum 3 local workers" train --quiet --problem quadratic --dim 100 --algo mv-signum --workers 3 \
    --steps 20 --noise gauss:1 --threads 2
exit $status
