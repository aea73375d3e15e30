# lib.sh — the common start of the shell test scripts, sourced after NAME is set: the binary under test ($S), a
# scratch folder ($T, removed on exit), pass/fail counters with ok / bad / check, and a clear failure when there is
# no binary. Each script ends with: echo "$NAME: $pass passed, $fail failed".
S=${SIGNOPT:-${BUILD:-build}/signopt}
T=$(mktemp -d "/tmp/signopt-$NAME.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "  FAIL: $*" >&2; }
check() { # check NAME CONDITION-COMMAND...
    name=$1; shift
    if "$@"; then ok; else bad "$name"; fi
}
if [ ! -x "$S" ]; then echo "$NAME: 0 passed, 1 failed"; echo "no binary at $S" >&2; exit 1; fi
