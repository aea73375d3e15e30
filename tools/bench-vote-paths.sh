#!/bin/sh
# bench-vote-paths.sh OUT — the packed vote's two vector paths side by side on this machine (src/sign/vote.c, VW):
# build/signopt as built (512-bit adders where the compiler targets AVX-512) against a copy built with
# SO_VOTE_VW=4 (the 256-bit adders) in build-vw4/. The two are run in turn, ROUNDS times each (the machine's
# bandwidth drifts between runs: alternating keeps the comparison fair), 1 thread, vote/count and vote/majority at
# n = 8, 32, 128 and d = 256K (in cache), 16M and 64M. OUT gets each run's JSON and table.md: per case the median
# over the rounds of (a) the roofline fraction (bytes/s over the triad measured next to each repetition, as in
# BENCHMARKS.md) and (b) bytes/s over the run's own STREAM copy. Run it on a quiet machine: about 2 minutes.
set -eu
out=${1:?usage: tools/bench-vote-paths.sh OUT}
rounds=${ROUNDS:-3}
mkdir -p "$out"
make -s -j2 build/signopt >/dev/null
make -s -j2 BUILD=build-vw4 O="-O3 -march=native -DSO_VOTE_VW=4" build-vw4/signopt >/dev/null
for r in $(seq 1 "$rounds"); do
    for b in build build-vw4; do
        "$b/signopt" bench --json --only vote/ --sizes 262144,16777216,67108864 --threads 1 --reps 5 \
            2>/dev/null >"$out/$b-$r.json"
    done
done
{
    echo "# The vote's vector paths, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)"
    echo
    echo "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), 1 thread; \`sh tools/bench-vote-paths.sh OUT\`, $rounds rounds"
    echo "alternating build/signopt ($(build/tests/test_vote 2>/dev/null | sed 's/:.*//' || echo vote)) and build-vw4/signopt"
    echo "(SO_VOTE_VW=4). Medians over the rounds: roofline fraction (over the adjacent triad) / fraction of the"
    echo "run's STREAM copy."
    echo
    /usr/bin/python3 - "$out" "$rounds" <<'EOF'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def load(b):
    res = {}
    for r in range(1, rounds + 1):
        rows = json.load(open(f"{out}/{b}-{r}.json"))
        copy = statistics.median(x["bytes_per_s"] for x in rows if x["name"] == "stream/copy")
        for x in rows:
            if x["name"].startswith("vote/"):
                res.setdefault((x["name"], x["d"]), []).append((x["roofline_fraction"], x["bytes_per_s"] / copy))
    return res
w8, w4 = load("build"), load("build-vw4")
print("| case | d | 512-bit: roofline / copy | 256-bit: roofline / copy | 512/256 speed |")
print("| --- | --- | --- | --- | --- |")
for key in sorted(w8, key=lambda k: (k[1], k[0])):
    a, b = w8[key], w4[key]
    ra, ca = statistics.median(x[0] for x in a), statistics.median(x[1] for x in a)
    rb, cb = statistics.median(x[0] for x in b), statistics.median(x[1] for x in b)
    print(f"| {key[0]} | {key[1]} | {ra:.2f} / {ca:.2f} | {rb:.2f} / {cb:.2f} | {ca / cb:.2f} |")
EOF
} >"$out/table.md"
cat "$out/table.md"
