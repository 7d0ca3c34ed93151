#!/usr/bin/env bash
# The moderation figures of docs/moderation.md: every labelled dev split in ../shared/datasets,
# out of the box and after learning from 100 and 500 decisions of the same file (HateCheck and
# MHC: drawn whole template groups at a time, and no row of a learned group is measured), then
# the share of citizens' legitimate messages the binary evaluation flags (every category).
# Usage: scripts/eval-moderation.sh [OUTPUT_DIR]   (default: var/eval); prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${BEFFROI_DATASETS:-../shared/datasets}
OUT=${1:-var/eval}
mkdir -p "$OUT"
BIN=.venv/bin

# name | file | text column | label column | positive | extra options | options when learning
SETS=(
  "hatecheck-en|$DATA/hatecheck-en/dev.csv|test_case|label_gold|hateful|--categories hate,threat,terrorism --train-order shuffled|--group-column templ_id,ref_templ_id"
  "mhc-fr|$DATA/mhc/dev.fr.csv|test_case|label_gold|hateful|--categories hate,threat,terrorism --train-order shuffled|--group-column templ_id,ref_templ_id"
  "mhc-ar|$DATA/mhc/dev.ar.csv|test_case|label_gold|hateful|--categories hate,threat,terrorism --train-order shuffled|--group-column templ_id,ref_templ_id"
  "mlma-fr|$DATA/mlma/dev.fr.csv|tweet|sentiment|!normal|--label-separator _"
  "mlma-en|$DATA/mlma/dev.en.csv|tweet|sentiment|!normal|--label-separator _"
  "mlma-ar|$DATA/mlma/dev.ar.csv|tweet|sentiment|!normal|--label-separator _"
)
for entry in "${SETS[@]}"; do
  IFS='|' read -r name file text label positive extra grouping <<<"$entry"
  for decisions in 0 100 500; do
    learn=()
    # shellcheck disable=SC2206 # $grouping holds an option and its value
    [ "$decisions" -gt 0 ] && learn=(--train-from "$file" --train-limit "$decisions" $grouping)
    # shellcheck disable=SC2086 # $extra holds several options
    $BIN/beffroi eval moderation --input "$file" --text-column "$text" --label-column "$label" \
      --positive "$positive" $extra "${learn[@]}" --json >"$OUT/$name-$decisions.json"
    echo "$name after $decisions decisions: done" >&2
  done
done
# Legitimate messages: no row is positive, so every flag is a false positive.
$BIN/beffroi eval moderation --input "$DATA/servicespublicsplus-routing/dev.csv" --text-column text \
  --label-column label --positive '__no_row_is_positive__' --json >"$OUT/citizens-fr.json"
$BIN/beffroi eval moderation --input "$DATA/mumbai-civic-tweets/dev.csv" --text-column text \
  --label-column complaint --positive 1 --json >"$OUT/citizens-en.json"
$BIN/python - "$OUT" <<'PY'
import json, sys
from pathlib import Path
rows = {}
for path in sorted(Path(sys.argv[1]).glob("*-[0-9]*.json")):
    name, decisions = path.stem.rsplit("-", 1)
    rows.setdefault(name, {})[int(decisions)] = json.loads(path.read_text())
print("| dataset (dev) | n | positive | F1 out of the box (P / R) | after 100 | after 500 | items/s |")
print("|---|---|---|---|---|---|---|")
for name, runs in rows.items():
    base = runs[0]
    cells = [f"{base['f1']:.3f} ({base['precision']:.2f} / {base['recall']:.2f})"]
    cells += [f"{runs[d]['f1']:.3f} ({runs[d]['precision']:.2f} / {runs[d]['recall']:.2f})" for d in (100, 500) if d in runs]
    print(f"| {name} | {base['n']} | {base['positive']} | " + " | ".join(cells) + f" | {base['items_per_second']:.0f} |")
for language in ("fr", "en"):
    run = json.loads((Path(sys.argv[1]) / f"citizens-{language}.json").read_text())
    negatives = run["false_positives"] + run["true_negatives"]
    print(f"citizens-{language}: {run['false_positives']} of {negatives} legitimate rows flagged "
          f"({run['false_positives'] / negatives:.1%})")
PY
