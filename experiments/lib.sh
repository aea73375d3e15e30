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

# ---- The tuning protocol (experiments/PROTOCOL.md) ----
# Every method's lr (and beta, and any --grid value, where the experiment tunes them) is chosen at the horizon of
# the final runs, on tuning seeds that are never reported (TUNE_SEED.., default 101; the reported seeds are 1..S),
# by the mean final training loss, and a grid whose best lr is at an edge is extended until it is not.
TUNE_SEED=${TUNE_SEED:-101}
TUNE_SEEDS=${TUNE_SEEDS:-1}
TUNE_EXTEND=${TUNE_EXTEND:-$(q 6 1)}   # quick runs: one extension, to exercise it

# exp_tune_table NAME: every cell swept so far under $OUT/NAME*/sweep.csv, one line each:
# "KEY MEAN_LOSS LR" with KEY = beta and the --grid values as NAME=VALUE joined by ';' (a diverged seed: inf).
exp_tune_table() {
    cat "$OUT/$1"/sweep.csv "$OUT/$1"-ext*/sweep.csv 2>/dev/null | awk -F, '
        $1 == "lr" { for (i = 1; i <= NF; i++) { col[$i] = i; nm[i] = $i } next }
        { key = "beta=" $col["beta"]
          for (i = col["beta"] + 1; i < col["seed"]; i++) key = key ";" nm[i] "=" $i
          l = $col["final_loss"]
          if ($col["diverged"] != 0 || l != l + 0) l = "inf"
          k = key SUBSEP $1; n[k]++; if (l == "inf") bad[k] = 1; else s[k] += l }
        END { for (k in n) { split(k, p, SUBSEP); print p[1], (k in bad ? "inf" : s[k] / n[k]), p[2] } }'
}

# exp_tune NAME LRS BETAS GRID FLAGS...: the protocol for one method. `signopt sweep` into $OUT/NAME over the lr list
# LRS, the beta list BETAS and GRID (a --grid spec such as "R=0.001,0.01", or "" for none) with FLAGS (which hold
# the final runs' --steps), on TUNE_SEEDS seeds from TUNE_SEED. While the best cell's lr is the largest or the
# smallest lr tried at its beta and grid values, one more lr beyond that edge (the edge's own ratio) is swept at
# those values ($OUT/NAME-extK), at most TUNE_EXTEND times. Prints the best cell as "LR BETA GRIDSPEC" (GRIDSPEC:
# the grid values as NAME=VALUE;..., or "-") and writes $OUT/NAME.tune: every cell, the extensions, the verdict.
exp_tune() {
    tu_n=$1 tu_lrs=$2 tu_betas=$3 tu_grid=$4; shift 4
    if ! grep -q '^best:' "$OUT/$tu_n.log" 2>/dev/null; then
        exp_sweep_best "$tu_n" "$@" --lr "$tu_lrs" --beta "$tu_betas" ${tu_grid:+--grid "$tu_grid"} \
            --seed "$TUNE_SEED" --seeds "$TUNE_SEEDS" >/dev/null
    fi
    tu_k=0
    while :; do
        tu_best=$(exp_tune_table "$tu_n" | awk '$2 != "inf"' | sort -g -k2 | head -n 1)
        [ -n "$tu_best" ] || { echo "$EXP: every cell of $tu_n diverged" >&2; exit 1; }
        tu_key=${tu_best%% *}; tu_blr=${tu_best##* }
        # the lrs tried at the best cell's beta and grid values, ascending
        tu_tried=$(exp_tune_table "$tu_n" | awk -v k="$tu_key" '$1 == k { print $3 }' | sort -g)
        tu_lo=$(echo "$tu_tried" | head -n 1); tu_hi=$(echo "$tu_tried" | tail -n 1)
        tu_edge=interior
        if [ "$(echo "$tu_tried" | wc -l)" -lt 2 ]; then tu_edge=single
        elif awk "BEGIN { exit !($tu_blr == $tu_hi) }"; then tu_edge=high
        elif awk "BEGIN { exit !($tu_blr == $tu_lo) }"; then tu_edge=low; fi
        [ "$tu_edge" = interior ] && break
        [ "$tu_k" -ge "$TUNE_EXTEND" ] && break
        tu_k=$((tu_k + 1))
        if [ "$tu_edge" = high ]; then
            tu_next=$(echo "$tu_tried" | tail -n 2 | awk 'NR == 1 { a = $1 } NR == 2 { printf "%.6g", $1 * $1 / a }')
        elif [ "$tu_edge" = low ]; then
            tu_next=$(echo "$tu_tried" | head -n 2 | awk 'NR == 1 { a = $1 } NR == 2 { printf "%.6g", a * a / $1 }')
        else tu_next=$(awk -v x="$tu_blr" 'BEGIN { printf "%.6g", 2 * x }'); fi
        tu_b=$(echo "$tu_key" | sed 's/^beta=\([^;]*\).*/\1/')
        tu_g=$(echo "$tu_key" | sed -n 's/^beta=[^;]*;//p')
        if ! grep -q '^best:' "$OUT/$tu_n-ext$tu_k.log" 2>/dev/null; then
            exp_sweep_best "$tu_n-ext$tu_k" "$@" --lr "$tu_next" --beta "$tu_b" ${tu_g:+--grid "$tu_g"} \
                --seed "$TUNE_SEED" --seeds "$TUNE_SEEDS" >/dev/null
        fi
    done
    {
        echo "# $tu_n: tuned at the final runs' horizon on seeds $TUNE_SEED..$((TUNE_SEED + TUNE_SEEDS - 1)) (never reported)"
        echo "# cell (beta;grid) mean_final_loss lr"
        exp_tune_table "$tu_n" | sort -k1,1 -k3g
        echo "extensions: $tu_k"
        echo "best: lr $tu_blr $tu_key loss $(echo "$tu_best" | cut -d' ' -f2) ($tu_edge$([ "$tu_edge" != interior ] && echo ": still at the grid's edge"))"
    } >"$OUT/$tu_n.tune"
    tu_g=$(echo "$tu_key" | sed -n 's/^beta=[^;]*;//p')
    echo "$tu_blr $(echo "$tu_key" | sed 's/^beta=\([^;]*\).*/\1/') ${tu_g:--}"
}
