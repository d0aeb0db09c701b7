#!/bin/sh
# Load test of translation serving (BENCHMARKS.md): serves one translation
# model (a model.safetensors from `metalearn mt train`) on 127.0.0.1 and
# drives POST /v1/translate with one-sentence requests at concurrency 1
# and 8, with batching of concurrent requests (the default) and without
# (--translate-batch 1), greedy and beam 4.
#   scripts/serve_mt_loadtest.sh OUT MODEL.safetensors [TO]
set -eu
out=${1:?output folder}
model=${2:?translation model file}
to=${3:-de}
ml=${ML:-}
if [ -z "$ml" ]; then ml="$out/metalearn"; go build -o "$ml" ./cmd/metalearn; fi
mkdir -p "$out/models"
cp "$model" "$out/models/mt.safetensors"
port=18081
: > "$out/mt_loadtest.jsonl"
for batch in 64 1; do
  $ml serve --models "$out/models" --addr 127.0.0.1:$port --translate-batch $batch > "$out/server-$batch.log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null' EXIT
  sleep 2
  for beam in 1 4; do
    for c in 1 8; do
      $ml serve loadtest --url http://127.0.0.1:$port --json --model mt --mode translate --from en --to "$to" \
        --beam $beam --queries 1 --concurrency $c --requests 400 | tee -a "$out/mt_loadtest.jsonl"
    done
  done
  kill $pid; wait $pid 2>/dev/null || true
done
