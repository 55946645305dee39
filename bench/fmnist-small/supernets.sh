#!/usr/bin/env bash
# The supernets of the ranking study (README, "How far to trust the ranking"): one BN-only (or
# BNNAS++ unbiased, or SPOS full-weight) training per recipe on the full Fashion-MNIST, written to $DIR (default
# ./runs). Each run's manifest records its per-epoch indicator history and its wall time.
set -euo pipefail
BNNAS=${BNNAS:-"node $(dirname "$0")/../../bin/bnnas.js"}
DIR=${DIR:-runs}
THREADS=${THREADS:-2}
mkdir -p "$DIR"
[ -f "$DIR/supernet.onnx" ] || $BNNAS export-supernet --space fmnist-small -o "$DIR/supernet.onnx"
[ -f "$DIR/supernet.unbiased.onnx" ] || $BNNAS export-supernet --space fmnist-small --unbiased -o "$DIR/supernet.unbiased.onnx"
run() { # name input args...
  local name=$1 input=$2; shift 2
  [ -f "$DIR/$name.onnx" ] && return 0
  $BNNAS train "$DIR/$input" -o "$DIR/$name.onnx" --threads "$THREADS" --quiet --json "$@" > "$DIR/$name.json"
}
# the paper's recipe: each candidate's last BN, lr 0.1, uniform paths
run paper-last-lr0.1-3ep supernet.onnx --bn last --lr 0.1 --epochs 3
# every BN at lr 1 with label smoothing (the demo's recipe), the unbiased supernet the same way
run all-lr1-3ep supernet.onnx --bn all --lr 1 --label-smoothing 0.1 --epochs 3
run unbiased-all-lr1-3ep supernet.unbiased.onnx --bn all --lr 1 --label-smoothing 0.1 --epochs 3
# FairNAS sampling with the path budget of one uniform epoch (469 steps x 1 path = 67 steps x 7 paths)
run fair-all-lr1-67steps supernet.onnx --bn all --lr 1 --label-smoothing 0.1 --sampler fair --steps 67
# 1 and 10 epochs (the 10-epoch record also holds epochs 1..9)
run all-lr1-1ep supernet.onnx --bn all --lr 1 --label-smoothing 0.1 --epochs 1
run all-lr1-10ep supernet.onnx --bn all --lr 1 --label-smoothing 0.1 --epochs 10
# SPOS (every weight, the truth's optimiser), 5,000 images held out for the oneshot indicator
run spos-3ep supernet.onnx --weights all --lr 0.1 --lr-schedule cosine --nesterov --weight-decay 5e-5 --holdout 5000 --epochs 3
