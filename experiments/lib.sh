# lib.sh — shared helpers of the experiment scripts (sourced by experiments/E*.sh; POSIX sh + awk).
# An experiment script: sets EXP (E1..E11), sources this file, runs `signopt train`/`sweep` through exp_train /
# exp_sweep_best, reads final numbers with exp_final, and states each claim of docs/experiments.md with exp_claim, which
# prints HELD / DID NOT HOLD from the numbers and appends it to $OUT/claims.txt.
# Environment: SIGNOPT (the binary, default build/signopt), OUT (default runs/$EXP), QUICK=1 (smoke test: the
# script shrinks steps, seeds and grids so every config runs in seconds; claims are still printed but not judged).

SIGNOPT=${SIGNOPT:-build/signopt}
OUT=${OUT:-runs/$EXP}
QUICK=${QUICK:-0}
[ -x "$SIGNOPT" ] || { echo "$EXP: no signopt binary at $SIGNOPT (run make first)" >&2; exit 1; }
mkdir -p "$OUT" || exit 1
: >"$OUT/claims.txt"

# q FULL QUICK: FULL normally, QUICK under QUICK=1.
q() { if [ "$QUICK" = 1 ]; then echo "$2"; else echo "$1"; fi; }

# exp_train NAME FLAGS...: one `signopt train` into $OUT/NAME (overwriting).
exp_train() {
    name=$1; shift
    echo "$EXP: train $name: $*" >&2
    "$SIGNOPT" train --quiet --force --out "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1 ||
        { echo "$EXP: run $name failed:" >&2; tail -n 3 "$OUT/$name.log" >&2; exit 1; }
}

# exp_sweep_best NAME FLAGS...: `signopt sweep` into $OUT/NAME; prints "LR BETA" of the best cell.
exp_sweep_best() {
    name=$1; shift
    echo "$EXP: sweep $name: $*" >&2
    "$SIGNOPT" sweep --quiet --force --out "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1 ||
        { echo "$EXP: sweep $name failed:" >&2; tail -n 3 "$OUT/$name.log" >&2; exit 1; }
    sed -n 's/^best: lr \([^ ]*\) beta \([^ ]*\) .*/\1 \2/p' "$OUT/$name.log"
}

# exp_col DIR COLUMN: the column number of COLUMN in DIR/metrics.csv.
exp_col() { head -n 1 "$1/metrics.csv" | tr ',' '\n' | grep -n -x "$2" | cut -d: -f1; }

# exp_final DIR COLUMN [STAT]: over seeds, the mean (or STAT = std, min, max) of COLUMN at each seed's last row.
exp_final() {
    c=$(exp_col "$1" "$2")
    awk -F, -v c="$c" -v stat="${3:-mean}" 'NR > 1 { last[$1] = $c }
        END { for (s in last) { k++; v[k] = last[s]; m += last[s] }
              m /= k; for (i = 1; i <= k; i++) ss += (v[i] - m) ^ 2
              mn = v[1]; mx = v[1]; for (i = 1; i <= k; i++) { if (v[i] < mn) mn = v[i]; if (v[i] > mx) mx = v[i] }
              if (stat == "std") print (k > 1 ? sqrt(ss / (k - 1)) : 0)
              else if (stat == "min") print mn; else if (stat == "max") print mx; else print m }' "$1/metrics.csv"
}

# exp_min DIR COLUMN: over seeds, the mean of each seed's smallest COLUMN along the run (e.g. min ||grad f||).
exp_min() {
    c=$(exp_col "$1" "$2")
    awk -F, -v c="$c" 'NR > 1 { if (!($1 in lo) || $c < lo[$1]) lo[$1] = $c }
        END { for (s in lo) { k++; m += lo[s] } print m / k }' "$1/metrics.csv"
}

# exp_mean_std DIR COLUMN: "mean ± std" of the final COLUMN, for tables.
exp_mean_std() { printf '%.4g ± %.2g' "$(exp_final "$1" "$2")" "$(exp_final "$1" "$2" std)"; }

# exp_claim "TEXT" AWK_CONDITION: judge a claim from numbers substituted into the condition (e.g. "0.91 > 0.89").
exp_claim() {
    if [ "$QUICK" = 1 ]; then verdict="not judged (quick run)"
    elif awk "BEGIN { exit !($2) }"; then verdict="HELD"
    else verdict="DID NOT HOLD"; fi
    printf '%s: %s [%s]: %s\n' "$EXP" "$1" "$2" "$verdict" | tee -a "$OUT/claims.txt"
}
