#!/bin/sh
# zero-vote-e5.sh — what a worker's vote for an exact zero changes on E5's runs (--zero-vote plus|abstain|random,
# docs/algorithms.md "The sign operators"): E5's setup (experiments/E5.sh: the mlp on the first 12000 Fashion-MNIST
# rows, 8 workers, Dirichlet(1) split, batch 32, 600 rounds, constant lr) for the two E5 methods with the
# deterministic sign uplink, mv-signum and mv-signsgd, at E5's chosen hyperparameters (RESULTS.md, E5: mv-signum
# lr 0.005 beta 0.5, mv-signsgd lr 0.0025), 3 seeds, under each zero vote. Prints the final training loss, test
# accuracy and uplink bits per round (mean ± std over seeds) and writes OUT/table.md. OUT: runs/E5-zero-vote.
# THREADS: --threads of each run (default auto; the numbers do not depend on it).
cd "$(dirname "$0")/.." || exit 1
EXP=E5-zero-vote
OUT=${OUT:-runs/E5-zero-vote}
. experiments/lib.sh
THREADS=${THREADS:-auto}
C="--problem mlp --data fashion-mnist --workers 8 --split dirichlet:1 --batch 32 --steps 600 --R 0.001
 --threads $THREADS --train-limit 12000 --eval-every 300 --seeds 3"
{
    echo "| method | zero vote | final loss | test acc | uplink bits per round |"
    echo "| --- | --- | --- | --- | --- |"
    for m in "mv-signum --lr 0.005 --beta 0.5" "mv-signsgd --lr 0.0025"; do
        meth=${m%% *} # (not $name: exp_train sets that)
        for z in plus abstain random; do
            # shellcheck disable=SC2086
            exp_train "$meth-$z" $C --algo $m --zero-vote $z
            bits=$(awk -F, 'NR > 1 { b = $10 / $2 } END { printf "%d", b }' "$OUT/$meth-$z/metrics.csv")
            echo "| $meth | $z | $(exp_mean_std "$OUT/$meth-$z" loss) | $(exp_mean_std "$OUT/$meth-$z" test_acc) | $bits |"
        done
    done
} >"$OUT/table.md.tmp" && mv -f "$OUT/table.md.tmp" "$OUT/table.md"
cat "$OUT/table.md"
