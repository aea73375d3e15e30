#!/bin/sh
# bench-scaling.sh — seconds per round of in-process mv-signsgd as the worker count n grows (--problem mlp,
# batch 16, --threads 1 and 2), per round on the quadratic as d grows at n = 8, and the peak RSS of the MLP run
# with 1000 workers. Prints tables; see BENCHMARKS.md, "MPI and scaling".
#
# A round's seconds are a difference of two runs, (wall_s after B rounds - wall_s after A rounds) / (B - A), the
# wall_s of metrics.csv's last row: both runs load the data and evaluate at step 0 and at their last step, so
# start-up and evaluation cancel and only the B - A extra rounds remain. The evaluation (the full train and test
# sets for the MLP) varies by a few tenths of a second with the machine's load, so B - A is 20 rounds and the
# figure is the median of 3 such differences.
# Usage: sh tools/bench-scaling.sh [NS] (NS: worker counts, default "1 8 64 256 1000"); SIGNOPT=path overrides.
S=${SIGNOPT:-build/signopt}
NS=${1:-"1 8 64 256 1000"}
A=${A:-2}
B=${B:-22}
T=$(mktemp -d /tmp/signopt-scaling.XXXXXX)
trap 'rm -rf "$T"' EXIT
[ -x "$S" ] || { echo "no binary at $S (make build)" >&2; exit 1; }

last_wall() { tail -n 1 "$1/metrics.csv" | awk -F, '{print $NF}'; }

# run OUT STEPS FLAGS...: one training run, wall_s of its last row on stdout
run() {
    out=$1; steps=$2; shift 2
    "$S" train --algo mv-signsgd --steps "$steps" --eval-every "$steps" --out "$out" "$@" >/dev/null 2>"$out.err" ||
        { cat "$out.err" >&2; echo nan; return; }
    last_wall "$out"
}

per_round() { # per_round TAG FLAGS...: median of 3 differences
    tag=$1; shift
    for r in 1 2 3; do
        wa=$(run "$T/$tag.a" "$A" "$@"); wb=$(run "$T/$tag.b" "$B" "$@")
        awk -v a="$wa" -v b="$wb" -v k=$((B - A)) 'BEGIN { printf "%.6g\n", (b - a) / k }'
    done | sort -g | sed -n 2p | awk '{ printf "%.4g", $1 }'
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "mv-signsgd on --problem mlp, batch 16 per worker: seconds per round (rounds $A..$B)"
printf "%8s %12s %12s %14s\n" workers threads=1 threads=2 "s/round/worker"
for n in $NS; do
    t1=$(per_round "mlp$n.t1" --problem mlp --batch 16 --workers "$n" --threads 1)
    t2=$(per_round "mlp$n.t2" --problem mlp --batch 16 --workers "$n" --threads 2)
    printf "%8s %12s %12s %14s\n" "$n" "$t1" "$t2" "$(awk -v t="$t1" -v n="$n" 'BEGIN { printf "%.3g", t / n }')"
done
echo
echo "mv-signsgd on --problem quadratic, 8 workers, --threads 2: seconds per round"
printf "%10s %12s %14s\n" d s/round ns/param/worker
for d in 1048576 4194304 16777216; do
    t=$(per_round "q$d" --problem quadratic --dim "$d" --workers 8 --batch 16 --threads 2)
    printf "%10s %12s %14s\n" "$d" "$t" "$(awk -v t="$t" -v d="$d" 'BEGIN { printf "%.3g", t / d / 8 * 1e9 }')"
done
echo
# Peak resident memory: /usr/bin/time -v where installed (apt-get install time), else nothing to read it with.
if [ -x /usr/bin/time ]; then
    for n in 1 1000; do
        /usr/bin/time -v "$S" train --problem mlp --algo mv-signsgd --batch 16 --workers "$n" --threads 1 \
            --steps 2 --eval-every 2 --out "$T/rss$n" >/dev/null 2>"$T/rss$n.err"
        kb=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$T/rss$n.err")
        echo "peak RSS, mlp, $n workers: $kb kB"
    done
else
    echo "peak RSS: /usr/bin/time not installed"
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
