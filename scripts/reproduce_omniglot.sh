#!/bin/sh
# Omniglot few-shot runs (Vinyals split) on a CPU budget.
# Usage: ML=<metalearn binary> scripts/reproduce_omniglot.sh OUTDIR JOB
#   JOB: proto1 | proto5 | maml | fomaml | anil | reptile
set -eu
out=${1:?output folder}
job=${2:?job}
mkdir -p "$out"
ml=${ML:-}
if [ -z "$ml" ]; then ml="$out/metalearn"; go build -o "$ml" ./cmd/metalearn; fi
t="/usr/bin/time -f %e_s_wall,%M_KB_peak"
case $job in
proto1)  # Snell et al.: train with more ways than test; 1 shot, 5 queries per class
  $t $ml meta train --algo protonet --dataset omniglot --ways 20 --shots 1 --queries 5 \
    --iterations ${ITERS:-3000} --val-every 500 --val-tasks 200 --log-every 250 \
    --model-out "$out/proto1.safetensors" > "$out/proto1.log" 2>&1
  for w in 5 20; do
    $ml meta eval --checkpoint "$out/proto1.safetensors" --ways $w --shots 1 --queries 15 --tasks 1000 --json >> "$out/eval.jsonl"
  done ;;
proto5)
  $t $ml meta train --algo protonet --dataset omniglot --ways 20 --shots 5 --queries 5 \
    --iterations ${ITERS:-3000} --val-every 500 --val-tasks 200 --log-every 250 \
    --model-out "$out/proto5.safetensors" > "$out/proto5.log" 2>&1
  for w in 5 20; do
    $ml meta eval --checkpoint "$out/proto5.safetensors" --ways $w --shots 5 --queries 15 --tasks 1000 --json >> "$out/eval.jsonl"
  done ;;
maml|fomaml)  # Finn et al.: 5-way 1-shot, inner lr 0.4, 1 step train, 3 steps test, meta-batch 32 (we use 4)
  $t $ml meta train --algo $job --dataset omniglot --ways 5 --shots 1 --queries 15 --inner-lr 0.4 \
    --inner-steps 1 --eval-steps 3 --meta-batch 4 --iterations ${ITERS:-2000} --val-every 250 --val-tasks 200 \
    --log-every 100 --model-out "$out/$job.safetensors" > "$out/$job.log" 2>&1
  $ml meta eval --checkpoint "$out/$job.safetensors" --tasks 600 --json >> "$out/eval.jsonl" ;;
anil)  # Raghu et al.: MAML's settings, only the head adapts
  $t $ml meta train --algo anil --dataset omniglot --ways 5 --shots 1 --queries 15 --inner-lr 0.4 \
    --inner-steps 1 --eval-steps 3 --meta-batch 4 --iterations ${ITERS:-1500} --val-every 250 --val-tasks 200 \
    --log-every 100 --model-out "$out/anil.safetensors" > "$out/anil.log" 2>&1
  $ml meta eval --checkpoint "$out/anil.safetensors" --tasks 600 --json >> "$out/eval.jsonl" ;;
reptile)  # Nichol et al.: inner Adam (beta1 = 0) lr 1e-3, 5 steps, meta-batch 5, outer 1.0 annealed to 0
  $t $ml meta train --algo reptile --inner-adam --dataset omniglot --ways 5 --shots 1 --queries 15 --inner-lr 0.001 \
    --inner-steps 5 --eval-steps 20 --meta-batch 5 --iterations ${ITERS:-2000} --val-every 500 --val-tasks 100 \
    --log-every 250 --model-out "$out/reptile.safetensors" > "$out/reptile.log" 2>&1
  $ml meta eval --checkpoint "$out/reptile.safetensors" --tasks 600 --json >> "$out/eval.jsonl" ;;
*) echo "unknown job $job" >&2; exit 2 ;;
esac
