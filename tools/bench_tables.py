#!/usr/bin/python3
"""bench_tables.py — markdown tables from `signopt bench --json` output, for BENCHMARKS.md.

    build/signopt bench --json [--peer torch.json] > bench.json
    /usr/bin/python3 tools/bench_tables.py bench.json > tables.md

Prints (1) the best STREAM figures of the run, (2) one table per thread count: Mparam/s and, in brackets, the
roofline fraction of every case at every size, (3) the target table at d >= 16M (every step kernel, sign/pack and
the vote at >= 0.8 of the same-run bandwidth, 1 and 2 threads), and (4) where the file has peer figures, the
ratio to the peer (PyTorch) per case at d >= 16M. Only the Python standard library is used.
"""
import json
import sys
from collections import defaultdict

TARGET = 0.8
TARGET_PREFIXES = ("step/", "sign/pack", "vote/")


def size_label(d):
    for unit, div in (("M", 1 << 20), ("K", 1 << 10)):
        if d >= div and d % div == 0:
            return "%d%s" % (d // div, unit)
    return str(d)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench_tables.py BENCH.json")
    try:
        with open(sys.argv[1]) as f:
            rows = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit("bench_tables.py: %s: %s" % (sys.argv[1], e))
    if not isinstance(rows, list) or not rows:
        sys.exit("bench_tables.py: %s: expected a non-empty JSON array" % sys.argv[1])

    by = {}
    names, sizes, threads = [], set(), set()
    for r in rows:
        key = (r["name"], r["d"], r["threads"])
        by[key] = r
        if r["name"] not in names:
            names.append(r["name"])
        threads.add(r["threads"])
        if not r["name"].startswith("stream/"):
            sizes.add(r["d"])
    sizes, threads = sorted(sizes), sorted(threads)

    print("| STREAM (best of the run) | threads | GB/s |")
    print("| --- | --- | --- |")
    for name in ("stream/copy", "stream/triad"):
        for t in threads:
            vals = [r["bytes_per_s"] for r in rows if r["name"] == name and r["threads"] == t]
            if vals:
                print("| %s | %d | %.2f |" % (name, t, max(vals) / 1e9))
    print()

    cases = [n for n in names if not n.startswith("stream/")]
    for t in threads:
        print("**%d thread%s** — Mparam/s (roofline fraction)\n" % (t, "" if t == 1 else "s"))
        print("| case | " + " | ".join(size_label(d) for d in sizes) + " |")
        print("| --- |" + " --- |" * len(sizes))
        for n in cases:
            cells = []
            for d in sizes:
                r = by.get((n, d, t))
                cells.append("%.0f (%.2f)" % (r["params_per_s"] / 1e6, r["roofline_fraction"]) if r else "-")
            print("| %s | %s |" % (n, " | ".join(cells)))
        print()

    big = [d for d in sizes if d >= 16 << 20]
    if big:
        print("**Targets at d ≥ 16M** — roofline fraction; target %.1f with 1 and with 2 threads\n" % TARGET)
        cols = ["%s, %d thr" % (size_label(d), t) for t in threads for d in big]
        print("| case | " + " | ".join(cols) + " | met |")
        print("| --- |" + " --- |" * (len(cols) + 1))
        for n in cases:
            if not n.startswith(TARGET_PREFIXES):
                continue
            fr = [by[(n, d, t)]["roofline_fraction"] if (n, d, t) in by else None for t in threads for d in big]
            have = [f for f in fr if f is not None]
            met = "yes" if have and all(f >= TARGET for f in have) else ("no" if have else "-")
            print("| %s | %s | %s |" % (n, " | ".join("%.2f" % f if f is not None else "-" for f in fr), met))
        print()

    peers = [r for r in rows if "peer_ratio" in r and r["d"] >= 16 << 20]
    if peers:
        print("**Against the peer at d ≥ 16M** — ours / theirs in params/s\n")
        table = defaultdict(dict)
        for r in peers:
            table[r["name"]][(r["d"], r["threads"])] = r["peer_ratio"]
        cols = sorted({k for v in table.values() for k in v}, key=lambda k: (k[1], k[0]))
        print("| case | peer | " + " | ".join("%s, %d thr" % (size_label(d), t) for d, t in cols) + " |")
        print("| --- | --- |" + " --- |" * len(cols))
        for n in names:
            if n in table:
                peer = next(r["peer"] for r in peers if r["name"] == n)
                print("| %s | %s | %s |" % (n, peer, " | ".join(
                    "%.2f×" % table[n][c] if c in table[n] else "-" for c in cols)))
        print()


if __name__ == "__main__":
    main()
