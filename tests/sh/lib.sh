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

# JSON as a reader sees it: strict parsing (valid UTF-8, no NaN/Infinity) by Python's json module, not by signopt's.
# jq FILE EXPR prints the value of a Python expression over the document d; jtrue FILE EXPR succeeds when it is true.
jq() { # jq FILE EXPR
    /usr/bin/python3 - "$1" "$2" <<'PYEOF'
import json, sys
def bad(x): raise ValueError("non-standard JSON constant " + x)
raw = open(sys.argv[1], "rb").read()
d = json.loads(raw.decode("utf-8", "strict"), parse_constant=bad)
print(eval(sys.argv[2]))
PYEOF
}
jtrue() { # jtrue FILE EXPR
    [ "$(jq "$1" "bool($2)" 2>/dev/null)" = True ]
}
