#!/bin/sh
# test_bench.sh — `signopt bench` smoke test: --quick --json runs and prints one valid JSON array whose objects
# carry the required fields, every case of the suite is there, and the derived figures agree with the byte
# counts stated in BENCHMARKS.md (hand values, not read from the code), the roofline definition and a peer file.
# No timing assertions: only relations that hold whatever the machine's speed. Last line: "bench: N passed, M failed".
NAME=bench
. tests/sh/lib.sh
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# ---- the smoke run ----
"$S" bench --quick --json >"$T/out.json" 2>"$T/err"; rc=$?
check "bench --quick --json exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$T/err" >&2

# The JSON checks, in Python: each prints "ok NAME" or "FAIL NAME: why".
cat >"$T/check.py" <<'EOF'
import json, math, sys
res = []
def check(name, cond, why=""):
    res.append(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + why))
try:
    rows = json.load(open(sys.argv[1]))
except Exception as e:
    print("FAIL output is JSON: %s" % e); sys.exit(0)
check("output is a JSON array of objects", isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows))
need = ["name", "d", "threads", "params_per_s", "bytes_per_s", "roofline_fraction"]
missing = [(r.get("name"), k) for r in rows for k in need if k not in r]
check("every object has the required fields", not missing, str(missing[:3]))
finite = all(isinstance(r[k], (int, float)) and math.isfinite(r[k]) and r[k] > 0
             for r in rows for k in ("params_per_s", "bytes_per_s", "roofline_fraction") if k in r)
check("rates and roofline fractions are finite and positive", finite)
# Bytes per parameter of each step, each array read or written once (BENCHMARKS.md table), and the optimizer
# state in bytes per parameter (docs/algorithms.md: momentum, second moment, error or x_prev, 4 bytes each).
step_bytes = {"sgd": 12, "sgdm": 20, "adam": 28, "adamw": 28, "signsgd": 12, "signum": 20,
              "signum-nesterov": 24, "ef-signsgd": 28, "scaled-signsgd": 16, "lion": 20}
state = {"sgd": 0, "sgdm": 4, "adam": 8, "adamw": 8, "signsgd": 0, "signum": 4, "signum-nesterov": 8,
         "ef-signsgd": 4, "scaled-signsgd": 0, "lion": 4}
cases = {(r["name"], r["d"], r["threads"]): r for r in rows if "name" in r}
for t in (1, 2):
    for d in (4096, 65536):
        names = ["step/" + a for a in step_bytes] + ["sign/pack", "sign/stochastic"] + \
                ["vote/%s/n%d" % (k, n) for k in ("count", "majority") for n in (8, 32, 128)] + \
                ["dist/mv-signsgd/n8/round", "dist/mv-signsgd/n8/grads"]
        absent = [n for n in names if (n, d, t) not in cases]
        check("all cases at d=%d threads=%d" % (d, t), not absent, str(absent))
    streams = [r for r in rows if r.get("threads") == t and r["name"] in ("stream/copy", "stream/triad")]
    check("stream copy and triad at threads=%d" % t, len(streams) == 2)
    best = max([r["bytes_per_s"] for r in streams] or [float("nan")])
    off = [r["name"] for r in rows if r.get("threads") == t and not 0 < r.get("stream_bytes_per_s", 0)]
    check("every case names its reference bandwidth at threads=%d" % t, not off, str(off[:3]))
    off = [r["name"] for r in streams if abs(r["roofline_fraction"] - r["bytes_per_s"] / best) > 1e-3]
    check("stream roofline = bytes/s over the better of copy and triad at threads=%d" % t, not off, str(off))
    check("the best stream figure has roofline 1 at threads=%d" % t,
          any(abs(r["roofline_fraction"] - 1) < 1e-3 for r in streams))
wrong = []
for (name, d, t), r in cases.items():
    if name.startswith("step/"):
        a = name[5:]
        if abs(r["bytes_per_s"] / r["params_per_s"] - step_bytes[a]) > 1e-3 * step_bytes[a]:
            wrong.append((name, r["bytes_per_s"] / r["params_per_s"]))
        if r.get("state_bytes_per_param") != state[a]:
            wrong.append((name, "state", r.get("state_bytes_per_param")))
    if name.startswith("vote/count/n"):
        n = int(name.rsplit("n", 1)[1])
        if abs(r["bytes_per_s"] / r["params_per_s"] - (n / 8 + 4)) > 1e-3 * (n / 8 + 4):
            wrong.append(name)
check("bytes per parameter and state bytes match the hand table", not wrong, str(wrong[:4]))
check("no peer fields without a peer file", not any("peer" in r or "peer_ratio" in r for r in rows))
for line in res:
    print(line)
EOF
"$PY" "$T/check.py" "$T/out.json" >"$T/res"
while IFS= read -r line; do
    case "$line" in ok*) ok;; *) bad "${line#FAIL }";; esac
done <"$T/res"

# ---- a peer file: its figures land beside ours, and the ratio is ours over theirs ----
cat >"$T/peer.json" <<'EOF'
[
{"name": "step/sgd", "d": 4096, "threads": 1, "params_per_s": 1000.0, "peer_name": "torch"},
{"name": "step/lion", "d": 99, "threads": 1, "params_per_s": 1000.0, "peer_name": "torch"}
]
EOF
"$S" bench --quick --json --threads 1 --sizes 4096 --only step/ --peer "$T/peer.json" >"$T/peer_out.json" 2>"$T/err"
check "bench with --peer exits 0" [ $? -eq 0 ]
"$PY" - "$T/peer_out.json" <<'EOF' >"$T/res"
import json, sys
rows = json.load(open(sys.argv[1]))
names = {r["name"] for r in rows}
print("ok" if names <= {"stream/copy", "stream/triad"} | {"step/" + a for a in ("sgd", "sgdm", "adam", "adamw",
      "signsgd", "signum", "signum-nesterov", "ef-signsgd", "scaled-signsgd", "lion")} else "FAIL --only step/")
sgd = [r for r in rows if r["name"] == "step/sgd"]
good = len(sgd) == 1 and sgd[0].get("peer") == "torch" and \
    abs(sgd[0]["peer_ratio"] - sgd[0]["params_per_s"] / 1000.0) <= 1e-3 * sgd[0]["peer_ratio"]
print("ok" if good else "FAIL peer_ratio = params_per_s / peer's for the matching case")
print("ok" if all("peer" not in r for r in rows if r["name"] != "step/sgd") else "FAIL peer only where matched")
EOF
while IFS= read -r line; do
    case "$line" in ok*) ok;; *) bad "${line#FAIL }";; esac
done <"$T/res"

# ---- tools/bench_tables.py turns that JSON into the markdown tables of BENCHMARKS.md ----
"$PY" tools/bench_tables.py "$T/out.json" >"$T/tables.md" 2>"$T/err"
check "bench_tables.py: exits 0, a 1-thread and a 2-thread table with a step/sgd row at 4K and 64K" sh -c "[ $? -eq 0 ] &&
    grep -q '^\*\*1 thread\*\*' '$T/tables.md' && grep -q '^\*\*2 threads\*\*' '$T/tables.md' &&
    grep -q '^| case | 4K | 64K |\$' '$T/tables.md' && grep -q '^| step/sgd | [0-9]* ([0-9.]*) | [0-9]* ([0-9.]*) |\$' '$T/tables.md'"
echo '{' >"$T/bad.json"
"$PY" tools/bench_tables.py "$T/bad.json" >/dev/null 2>"$T/err"
check "bench_tables.py: a broken file exits non-zero naming it" sh -c "[ $? -ne 0 ] && grep -q 'bad.json' '$T/err'"

# ---- bench --scaling --quick: valid JSON, mlp at 1 and 8 workers and the quadratic, for 1 and 2 threads ----
"$S" bench --scaling --quick --json >"$T/scal.json" 2>"$T/err"
check "bench --scaling --quick --json exits 0" [ $? -eq 0 ]
"$PY" - "$T/scal.json" <<'EOF' >"$T/res"
import json, math, sys
try:
    rows = json.load(open(sys.argv[1]))
except Exception as e:
    print("FAIL bench --scaling output is JSON: %s" % e); sys.exit(0)
need = ["name", "workers", "d", "threads", "batch", "seconds_per_round", "seconds_per_worker_gradient"]
print("ok" if rows and all(k in r for r in rows for k in need) else "FAIL bench --scaling: every row has the fields")
got = sorted((r["name"], r["workers"], r["threads"]) for r in rows)
want = sorted([("scaling/mlp/mv-signsgd", w, t) for w in (1, 8) for t in (1, 2)] +
              [("scaling/quadratic/mv-signsgd", 8, t) for t in (1, 2)])
print("ok" if got == want else "FAIL bench --scaling: the quick cases: %s" % got)
good = all(math.isfinite(r["seconds_per_round"]) and r["seconds_per_round"] > 0 and
           abs(r["seconds_per_worker_gradient"] * r["workers"] - r["seconds_per_round"]) <= 1e-5 * r["seconds_per_round"]
           for r in rows)
print("ok" if good else "FAIL bench --scaling: positive seconds; per worker = per round / workers")
EOF
while IFS= read -r line; do
    case "$line" in ok*) ok;; *) bad "${line#FAIL }";; esac
done <"$T/res"

# ---- bench --mpi on 2 ranks (when mpirun exists): valid JSON, the five rounds per size, the byte counts, --only ----
if command -v mpirun >/dev/null 2>&1; then
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 60 mpirun --allow-run-as-root --oversubscribe \
        -np 2 "$S" bench --mpi --quick --json >"$T/mpi.json" 2>"$T/err"
    check "mpirun -np 2 bench --mpi --quick --json exits 0" [ $? -eq 0 ]
    "$PY" - "$T/mpi.json" <<'EOF' >"$T/res"
import json, math, sys
try:
    rows = json.load(open(sys.argv[1]))
except Exception as e:
    print("FAIL bench --mpi output is JSON: %s" % e); sys.exit(0)
need = ["name", "ranks", "d", "seconds", "compute_seconds", "bytes_up_per_rank", "bytes_down_per_rank",
        "fp32_over_this", "model_seconds"]
print("ok" if rows and all(k in r for r in rows for k in need) else "FAIL bench --mpi: every row has the fields")
names = sorted((r["name"], r["d"]) for r in rows)
five = ("mpi/ps-1bit", "mpi/allgather-1bit", "mpi/sharded-1bit", "mpi/allreduce-fp32", "mpi/ordered-fp32")
want = sorted((n, d) for n in five for d in (4096, 65536))
print("ok" if names == want else "FAIL bench --mpi: five rounds at d = 4096, 65536: %s" % names)
good = all(r["ranks"] == 2 and all(math.isfinite(r[k]) and r[k] > 0 for k in ("seconds", "compute_seconds",
                                                                              "model_seconds")) for r in rows)
print("ok" if good else "FAIL bench --mpi: 2 ranks, finite positive seconds, compute and model")
# Hand counts for 2 ranks: d/8 bytes up for the 1-bit rounds, 2 d/8 down (sign and zero bits: n even, ties zero)
# for the parameter server, d/8 from the one other rank for the allgather; sharded: the other rank's half of the
# d/8 sign bytes, and of the 2 d/8 result bytes, each way: 3 d/16; 2 (n-1)/n 4d = 4d each way for the fp32 rounds.
byt = {"mpi/ps-1bit": (1 / 8, 2 / 8), "mpi/allgather-1bit": (1 / 8, 1 / 8), "mpi/sharded-1bit": (3 / 16, 3 / 16),
       "mpi/allreduce-fp32": (4, 4), "mpi/ordered-fp32": (4, 4)}
bad = [r["name"] for r in rows if (r["bytes_up_per_rank"], r["bytes_down_per_rank"]) !=
       tuple(f * r["d"] for f in byt[r["name"]])]
print("ok" if not bad else "FAIL bench --mpi: byte counts %s" % bad)
EOF
    while IFS= read -r line; do
        case "$line" in ok*) ok;; *) bad "${line#FAIL }";; esac
    done <"$T/res"
    # --only takes a comma list of prefixes: just those rounds, and no fit (null) without an fp32 row
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 60 mpirun --allow-run-as-root --oversubscribe \
        -np 2 "$S" bench --mpi --quick --json --only mpi/sh,mpi/ps >"$T/mpi2.json" 2>"$T/err"
    check "bench --mpi --only mpi/sh,mpi/ps exits 0" [ $? -eq 0 ]
    check "--only mpi/sh,mpi/ps: sharded and ps rows, no model without an fp32 row" "$PY" -c '
import json, sys
rows = json.load(open(sys.argv[1]))
assert sorted({r["name"] for r in rows}) == ["mpi/ps-1bit", "mpi/sharded-1bit"], rows
assert all(r["model_seconds"] is None and r["fp32_over_this"] is None for r in rows)' "$T/mpi2.json"
fi

# ---- flags ----
"$S" bench --bogus >/dev/null 2>"$T/err"
check "unknown flag exits 2" [ $? -eq 2 ]
"$S" bench --sizes 12x >/dev/null 2>"$T/err"
check "bad --sizes exits 2" [ $? -eq 2 ]
"$S" bench --help >"$T/help" 2>&1
check "--help exits 0 and names --json" grep -q -- "--json" "$T/help"

echo "bench: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
