#!/usr/bin/env bash
# The ranking study of fmnist-small (README, "How far to trust the ranking"): every indicator and
# supernet recipe against the truth table, one `bnnas bench rank --json` line each, appended to
# results.jsonl (rows already there are skipped). Needs the supernets of ./supernets.sh in $DIR.
#   ./study.sh [ROW...]   (default: every row)
#   TRUTH=truth-3ep-pilot.jsonl OUT=results-3ep-pilot.jsonl ./study.sh   (against another truth)
set -euo pipefail
cd "$(dirname "$0")"
BNNAS=${BNNAS:-"node ../../bin/bnnas.js"}
DIR=${DIR:-runs}
TRUTH=${TRUTH:-truth.jsonl}
OUT=${OUT:-results.jsonl}
THREADS=${THREADS:-2}
touch "$OUT"
row() { # name supernet indicator
  local name=$1 net=$2 ind=$3
  grep -q "\"row\":\"$name\"" "$OUT" && return 0
  [ -f "$DIR/$net.onnx" ] || { echo "skip $name: no $DIR/$net.onnx yet" >&2; return 0; }
  local started=$(date +%s.%N)
  local json
  json=$($BNNAS bench rank "$DIR/$net.onnx" --truth "$TRUTH" --indicator "$ind" --threads "$THREADS" --json)
  local secs=$(printf "%.2f" "$(echo "$(date +%s.%N) - $started" | bc)")
  echo "{\"row\":\"$name\",\"supernet\":\"$net\",\"rank_seconds\":$secs,\"report\":$json}" >> "$OUT"
  echo "$name done" >&2
}
ROWS=("$@")
want() { [ ${#ROWS[@]} -eq 0 ] || printf '%s\n' "${ROWS[@]}" | grep -qx "$1"; }
for r in paper-last-lr0.1-3ep all-lr1-1ep all-lr1-3ep all-lr1-10ep fair-all-lr1-67steps unbiased-all-lr1-3ep; do want "$r" && row "$r" "$r" bn; done
for i in macs params synflow snip grad_norm naswot; do want "$i" && row "$i" supernet "$i"; done
# ensembles of proxies read the untrained export (scores at initialisation); those with bn the demo's recipe
for e in ensemble:synflow,naswot ensemble:macs,naswot ensemble:snip,naswot; do want "$e" && row "$e" supernet "$e"; done
for e in ensemble:bn,naswot ensemble:bn,macs; do want "$e" && row "$e" all-lr1-3ep "$e"; done
# the SPOS (full-weight) supernet: its BN indicator, and its one-shot accuracy on the 5,000 held-out images (what BN-NAS replaces)
want spos-3ep && row spos-3ep spos-3ep bn
want spos-3ep-oneshot && row spos-3ep-oneshot spos-3ep oneshot
