#!/usr/bin/python3
"""netns_report.py OUT — the tables (OUT/report.md) and the figure (OUT/netns.png, gnuplot) of a
tools/bench-netns.sh run: seconds per round by pattern, link rate and d against the cost model; the sharded round
against n; test accuracy against wall-clock seconds. Reads OUT/bench-K-RATE.json, OUT/scale-K.json and
OUT/tta-PROBLEM-ALGO/metrics.csv; writes nothing else."""
import csv
import glob
import json
import os
import re
import subprocess
import sys

PATTERNS = ["mpi/ps-1bit", "mpi/allgather-1bit", "mpi/sharded-1bit", "mpi/allreduce-fp32", "mpi/ordered-fp32"]
RATE_BPS = {"100mbit": 1e8, "1gbit": 1e9, "10gbit": 1e10}


def rate_key(r):
    return RATE_BPS.get(r, 0)


def load_bench(out):
    runs = {}
    for f in glob.glob(os.path.join(out, "bench-*-*.json")):
        m = re.match(r"bench-(\d+)-(.+)\.json$", os.path.basename(f))
        runs[m.group(2)] = (int(m.group(1)), json.load(open(f)))
    return dict(sorted(runs.items(), key=lambda kv: rate_key(kv[0])))


def load_curve(path):
    rows = []
    with open(path) as fh:
        for r in csv.DictReader(fh):
            if r.get("test_acc") not in (None, "", "nan"):
                rows.append((float(r["train_s"]), int(r["step"]), float(r["test_acc"])))
    return rows


def first_reach(curve, level):
    for wall, step, acc in curve:
        if acc >= level:
            return wall, step
    return None, None


def main(out):
    md, plots = [], []
    runs = load_bench(out)
    if runs:
        md.append("### Seconds per round, 1-bit patterns against fp32\n")
        md.append("Median of 3 rounds (after one warm-up) of the slowest rank; `compute` is the same round on every "
                  "rank alone at once (MPI_COMM_SELF); `model` is the alpha-beta cost model with bandwidth and "
                  "latency fitted to that rate's allreduce rows (their compute taken off), plus compute; "
                  "`fp32/this` is the MPI_Allreduce round's seconds over this one.\n")
        md.append("| link | d | pattern | seconds | compute | MB up/rank | MB down/rank | fp32/this | model | "
                  "model/measured |")
        md.append("|---|---|---|---|---|---|---|---|---|---|")
        for rate, (k, rows) in runs.items():
            for r in sorted(rows, key=lambda r: (r["d"], PATTERNS.index(r["name"]))):
                model = r["model_seconds"]
                md.append("| %s | %d | %s | %.4g | %.3g | %.3g | %.3g | %s | %s | %s |" % (
                    rate, r["d"], r["name"][4:], r["seconds"], r["compute_seconds"], r["bytes_up_per_rank"] / 1e6,
                    r["bytes_down_per_rank"] / 1e6,
                    "%.2f" % r["fp32_over_this"] if r["fp32_over_this"] is not None else "-",
                    "%.4g" % model if model is not None else "-",
                    "%.2f" % (model / r["seconds"]) if model is not None else "-"))
            fit = rows[0]
            md.append("| %s | | fit ring to the allreduce: %.3g bit/s, latency %.3g s, %d hosts | | | | | | | |" % (
                rate, fit["fit_bandwidth_bps"], fit["fit_latency_s"], k))
        md.append("")
        # the model's error over every row
        errs = [abs(r["model_seconds"] / r["seconds"] - 1) for _, rows in runs.values() for r in rows
                if r["model_seconds"] is not None]
        within = sum(e <= 0.3 for e in errs)
        md.append("Cost model within ±30%% of the measured round: %d of %d rows (largest error %.0f%%).\n" % (
            within, len(errs), 100 * max(errs)))
        for rate, (k, rows) in runs.items():
            dat = os.path.join(out, "rounds-%s.dat" % rate)
            with open(dat, "w") as fh:
                ds = sorted({r["d"] for r in rows})
                fh.write("# d " + " ".join(p[4:] for p in PATTERNS) + "\n")
                for d in ds:
                    by = {r["name"]: r["seconds"] for r in rows if r["d"] == d}
                    fh.write("%d %s\n" % (d, " ".join("%.6g" % by.get(p, float("nan")) for p in PATTERNS)))
            plots.append(("rounds", rate, dat))
    scale = []
    for f in glob.glob(os.path.join(out, "scale-*.json")):
        n = int(re.match(r"scale-(\d+)\.json$", os.path.basename(f)).group(1))
        scale.append((n, json.load(open(f))))
    if scale:
        scale.sort()
        md.append("### The sharded round against the number of hosts (1 Gb/s links)\n")
        md.append("| hosts | d | sharded s | sharded MB up/rank | allreduce s | allreduce MB up/rank | fp32/sharded |")
        md.append("|---|---|---|---|---|---|---|")
        for n, rows in scale:
            sh = next(r for r in rows if r["name"] == "mpi/sharded-1bit")
            ar = next(r for r in rows if r["name"] == "mpi/allreduce-fp32")
            md.append("| %d | %d | %.4g | %.3g | %.4g | %.3g | %.2f |" % (
                n, sh["d"], sh["seconds"], sh["bytes_up_per_rank"] / 1e6, ar["seconds"], ar["bytes_up_per_rank"] / 1e6,
                ar["seconds"] / sh["seconds"]))
        md.append("")
    tta = {}
    for d in sorted(glob.glob(os.path.join(out, "tta-*"))):
        m = re.match(r"tta-([a-z0-9]+)-(.+)$", os.path.basename(d))
        f = os.path.join(d, "metrics.csv")
        if m and os.path.exists(f):
            tta.setdefault(m.group(1), {})[m.group(2)] = load_curve(f)
    if tta:
        md.append("### Time to accuracy at 100 Mb/s\n")
        md.append("Threshold: the fp32 baseline's final test accuracy minus 1 point; time of the first evaluation "
                  "at or above it, on the training clock (train_s of metrics.csv: wall-clock seconds less the "
                  "evaluations, which cost both methods the same).\n")
        md.append("| problem | method | rounds | final test acc | training s | threshold | reached at s (step) | "
                  "speed-up |")
        md.append("|---|---|---|---|---|---|---|---|")
        for prob, runs_ in tta.items():
            base = runs_.get("dist-sgdm")
            level = base[-1][2] - 0.01 if base else None
            t_base = first_reach(base, level)[0] if base else None
            for algo, curve in runs_.items():
                if not curve:
                    continue
                t, st = first_reach(curve, level) if level is not None else (None, None)
                md.append("| %s | %s | %d | %.4f | %.1f | %s | %s | %s |" % (
                    prob, algo, curve[-1][1], curve[-1][2], curve[-1][0],
                    "%.4f" % level if level is not None else "-",
                    "%.1f (%d)" % (t, st) if t is not None else "not reached",
                    "%.2fx" % (t_base / t) if t and t_base else "-"))
            dat = os.path.join(out, "tta-%s.dat" % prob)
            with open(dat, "w") as fh:
                for algo, curve in runs_.items():
                    fh.write("# %s\n" % algo)
                    for wall, step, acc in curve:
                        fh.write("%.6g %d %.6g\n" % (wall, step, acc))
                    fh.write("\n\n")
            plots.append(("tta", prob, dat, list(runs_)))
        md.append("")
    with open(os.path.join(out, "report.md.tmp"), "w") as fh:
        fh.write("\n".join(md) + "\n")
    os.replace(os.path.join(out, "report.md.tmp"), os.path.join(out, "report.md"))
    if plots:
        gp = ["set terminal pngcairo size 1400,%d font ',10'" % (420 * ((len(plots) + 2) // 3)),
              "set output '%s'" % os.path.join(out, "netns.png.tmp"),
              "set multiplot layout %d,3" % ((len(plots) + 2) // 3), "set key top left", "set grid"]
        for p in plots:
            if p[0] == "rounds":
                gp += ["set logscale xy", "set xlabel 'd (coordinates)'", "set ylabel 'seconds per round'",
                       "set title 'round time, 8 hosts at %s'" % p[1],
                       "plot " + ", ".join("'%s' using 1:%d with linespoints title '%s'" % (p[2], i + 2, n[4:])
                                           for i, n in enumerate(PATTERNS)), "unset logscale"]
            else:
                gp += ["set xlabel 'wall-clock seconds of training'", "set ylabel 'test accuracy'",
                       "set title '%s, 8 hosts at 100 Mb/s'" % p[1],
                       "plot " + ", ".join("'%s' index %d using 1:3 with linespoints title '%s'" % (p[2], i, a)
                                           for i, a in enumerate(p[3]))]
        gp.append("unset multiplot")
        r = subprocess.run(["gnuplot"], input="\n".join(gp), text=True, capture_output=True)
        if r.returncode != 0:
            sys.exit("netns_report: gnuplot failed: " + r.stderr.strip().splitlines()[-1])
        os.replace(os.path.join(out, "netns.png.tmp"), os.path.join(out, "netns.png"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: netns_report.py OUT_DIR")
    main(sys.argv[1])
