#!/bin/sh
# MAML sinusoid reproduction (Finn et al. 2017, section 5.1) and the
# "pretrained on all tasks" baseline, for K = 5 and K = 10.
# Usage: scripts/reproduce_sinusoid.sh OUTDIR [ITERATIONS]
# Training: meta-batch 25, 1 inner SGD step of 0.01, Adam 1e-3, K support and
# K query points per task. Evaluation: 600 fixed test tasks, K support
# points, 100 query points, MSE after 1, 5 and 10 SGD steps of 0.01.
set -eu
out=${1:?output folder}
iters=${2:-70000}
mkdir -p "$out"
# ML: a built metalearn binary (default: build one now)
ml=${ML:-}
if [ -z "$ml" ]; then
  ml="$out/metalearn"
  go build -o "$ml" ./cmd/metalearn
fi
for k in ${KS:-5 10}; do
  [ -n "${SKIP_TRAIN:-}" ] || /usr/bin/time -f "%e s wall, %M KB peak" $ml meta train --algo maml --dataset sinusoid --shots $k --queries $k \
    --iterations "$iters" --meta-batch 25 --inner-lr 0.01 --inner-steps 1 --eval-steps 10 --log-every 5000 \
    --model-out "$out/maml-k$k.safetensors" > "$out/maml-k$k.log" 2>&1
  [ -n "${SKIP_TRAIN:-}" ] || /usr/bin/time -f "%e s wall, %M KB peak" $ml meta train --algo pretrain --dataset sinusoid --shots $k --queries $k \
    --iterations "$iters" --meta-batch 25 --inner-lr 0.01 --eval-steps 10 \
    --model-out "$out/pretrain-k$k.safetensors" > "$out/pretrain-k$k.log" 2>&1
  for m in maml pretrain; do
    for s in 1 5 10; do
      $ml meta eval --checkpoint "$out/$m-k$k.safetensors" --tasks 600 --queries 100 --eval-steps $s --json >> "$out/eval.jsonl"
    done
  done
done
