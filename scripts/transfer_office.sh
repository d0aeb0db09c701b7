#!/bin/sh
# Office-Caltech10 SURF, all 12 source -> target pairs (CORAL-paper protocol).
# Usage: ML=<metalearn binary> scripts/transfer_office.sh OUTDIR [DATA_DIR]
# Two runs: (1) 1-NN, source-only, CORAL, fine-tuning/target-only with 3
# labelled target examples per class, 20 rounds; (2) the MMD network, which
# is ~10x costlier per round: 10 rounds, 200 steps, 32 hidden units.
set -eu
out=${1:?output folder}
data=${2:-../shared/data}
mkdir -p "$out"
ml=${ML:-}
if [ -z "$ml" ]; then ml="$out/metalearn"; go build -o "$ml" ./cmd/metalearn; fi
nproc > "$out/nproc.txt"
/usr/bin/time -v -o "$out/main.time" $ml transfer domain --data-dir "$data" --rounds 20 \
  --methods 1nn,source-only,coral,finetune,target-only --out "$out/main" > "$out/main.txt"
/usr/bin/time -v -o "$out/mmd.time" $ml transfer domain --data-dir "$data" --rounds 10 \
  --methods mmd --steps 200 --mmd-hidden 32 --mmd-batch 96 --out "$out/mmd" > "$out/mmd.txt"
