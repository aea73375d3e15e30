#!/bin/sh
# test_python.sh — the Python package (python/signopt) under pytest with Debian's /usr/bin/python3: the NumPy and
# torch optimizers against their equations, against torch.optim and against each other; state_dict resume; the DDP
# vote hook on 2 and 4 gloo processes against the C library's in-process cluster, bit for bit (tests/python/).
# Counted into the suite's total. Skipped under SAN=1: an ASan-built library cannot be loaded into an
# uninstrumented Python.
NAME=python
. "$(dirname "$0")/lib.sh"
B=${BUILD:-build}
if [ -n "$SO_SAN_FLAGS" ]; then
    echo "python: skipped under the sanitizers (the suite runs in the plain build)" >&2
    echo "$NAME: 0 passed, 0 failed"; exit 0
fi
if ! /usr/bin/python3 -c 'import torch, numpy, pytest' 2>"$T/imp"; then
    bad "python3-torch, python3-numpy and python3-pytest are needed (make test installs them): $(tail -1 "$T/imp")"
    echo "$NAME: $pass passed, $fail failed"; exit 1
fi
ver=$(sed -n 's/^#define SO_VERSION "\(.*\)"/\1/p' include/signopt/core.h)
SIGNOPT_LIBRARY="$PWD/$B/libsignopt.so.${ver%.*}" OMP_WAIT_POLICY=passive timeout 900 \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python >"$T/out" 2>&1
rc=$?
summary=$(tail -n 1 "$T/out")
p=$(echo "$summary" | sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p')
f=$(echo "$summary" | sed -n 's/.*\b\([0-9][0-9]*\) failed.*/\1/p')
e=$(echo "$summary" | sed -n 's/.*\b\([0-9][0-9]*\) error.*/\1/p')
pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0}))
if [ "$rc" -ne 0 ]; then
    [ "${f:-0}" -eq 0 ] && [ "${e:-0}" -eq 0 ] && fail=$((fail + 1))
    tail -n 60 "$T/out" >&2
fi
echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
