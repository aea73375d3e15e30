#!/usr/bin/python3
"""bench_compare.py — two `signopt bench --json` runs side by side: each case's roofline fraction (its bytes/s over
the triad measured right after it, the same-run baseline) before and after a change, as a markdown table.

    /usr/bin/python3 tools/bench_compare.py before.json after.json [--min-d 16777216] [--prefix step/]
"""
import argparse
import json


def load(path):
    with open(path) as f:
        return {(r["name"], r["d"], r["threads"]): r for r in json.load(f)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--min-d", type=int, default=16777216, help="only sizes >= this")
    ap.add_argument("--prefix", default="", help="only cases whose name starts with this")
    a = ap.parse_args()
    before, after = load(a.before), load(a.after)
    print("| case | d | threads | before | after | after / before |")
    print("| --- | --- | --- | --- | --- | --- |")
    for k in sorted(after):
        name, d, threads = k
        if k not in before or d < a.min_d or not name.startswith(a.prefix) or name.startswith("stream/"):
            continue
        x, y = before[k]["roofline_fraction"], after[k]["roofline_fraction"]
        ratio = f"{y / x:.2f}" if x > 0 else "-"
        print(f"| {name} | {d} | {threads} | {x:.2f} | {y:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
