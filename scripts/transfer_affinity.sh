#!/bin/sh
# Inter-task affinity (TAG lookahead) and grouping on Mulan atp1d (6 targets =
# 6 regression tasks), checked by training every partition into 2 groups.
# Usage: ML=<metalearn binary> scripts/transfer_affinity.sh OUTDIR [DATA_DIR]
set -eu
out=${1:?output folder}
data=${2:-../shared/data}
mkdir -p "$out"
ml=${ML:-}
if [ -z "$ml" ]; then ml="$out/metalearn"; go build -o "$ml" ./cmd/metalearn; fi
/usr/bin/time -v -o "$out/atp1d.time" $ml transfer affinity --data-dir "$data" --dataset mulan:atp1d \
  --hidden 32 --steps 300 --lr 0.01 --groups 2 --check --out "$out/atp1d" > "$out/atp1d.txt"
/usr/bin/time -v -o "$out/circles.time" $ml transfer affinity --dataset circles --tasks 6 --per-task 20 \
  --hidden 32 --steps 300 --lr 0.01 --groups 2 --check --out "$out/circles" > "$out/circles.txt"
