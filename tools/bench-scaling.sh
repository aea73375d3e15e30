#!/bin/sh
# bench-scaling.sh — seconds per round of in-process mv-signsgd as the worker count n grows (--problem mlp,
# batch 16, --threads 1 and 2) and as d grows on the quadratic at n = 8 (`signopt bench --scaling`, which times
# so_cluster_round alone: one warm-up round, median of the repetitions), then the peak RSS of a short
# `signopt train` of the MLP with 1 and with 1000 workers. See BENCHMARKS.md, "MPI and scaling".
# Usage: sh tools/bench-scaling.sh [--quick]; SIGNOPT=path overrides the binary.
S=${SIGNOPT:-build/signopt}
T=$(mktemp -d /tmp/signopt-scaling.XXXXXX)
trap 'rm -rf "$T"' EXIT
[ -x "$S" ] || { echo "no binary at $S (make build)" >&2; exit 1; }
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
"$S" bench --scaling --threads 1,2 --reps 5 $1 || exit 1
echo
# Peak resident memory: /usr/bin/time -v where installed (apt-get install time).
if [ -x /usr/bin/time ]; then
    for n in 1 1000; do
        /usr/bin/time -v "$S" train --problem mlp --algo mv-signsgd --batch 16 --workers "$n" --threads 1 \
            --steps 2 --eval-every 2 --force --out "$T/rss$n" >/dev/null 2>"$T/rss$n.err"
        kb=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$T/rss$n.err")
        echo "peak RSS, signopt train --problem mlp --algo mv-signsgd, $n workers: $kb kB"
    done
else
    echo "peak RSS: /usr/bin/time not installed"
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
