#!/bin/sh
# make-results.sh — assemble RESULTS.md from docs/results/summary.md and the per-experiment sections
# docs/results/E*.md (each written by its experiment's author from the numbers its run printed).
cd "$(dirname "$0")/.." || exit 1
tmp=RESULTS.md.tmp
{
    cat docs/results/summary.md
    for f in $(ls docs/results/E*.md | sort -V); do
        e=$(basename "$f" .md)
        printf '\n<a id="%s"></a>\n\n' "$(echo "$e" | tr 'A-Z' 'a-z')"
        # Sections become second-level; figures are referenced from the repository root.
        sed -e 's/^# /## /' -e "s|](\($e[^)]*\.png\))|](docs/results/\1)|g" "$f"
    done
} >"$tmp" && mv "$tmp" RESULTS.md
