#!/bin/sh
# Load test of the adaptation server (BENCHMARKS.md): builds 5-way 1-shot
# Omniglot conv4 models (64 filters) — ProtoNet, ANIL and first-order MAML
# (5 adaptation steps; also on the MAML authors' strided network), one
# meta-training iteration each: latency does not depend on the weights —
# serves them on 127.0.0.1 and drives each with
# adapt+predict traffic at several concurrencies.
#   scripts/serve_loadtest.sh OUT [server flags...]
set -eu
out=${1:?output folder}
shift
ml=${ML:-}
if [ -z "$ml" ]; then ml="$out/metalearn"; go build -o "$ml" ./cmd/metalearn; fi
mkdir -p "$out/models"
for spec in "protonet proto pool" "anil anil pool" "fomaml fomaml pool" "fomaml fomaml-strided strided"; do
  set -- $spec "$@"
  algo=$1 name=$2 arch=$3
  shift 3
  [ -f "$out/models/$name.safetensors" ] || $ml meta train --algo "$algo" --dataset omniglot --arch "$arch" --ways 5 --shots 1 \
    --queries 15 --eval-steps 5 --iterations 1 --val-every 1000 --val-tasks 1 --model-out "$out/models/$name.safetensors" > /dev/null
done
port=18080
$ml serve --models "$out/models" --addr 127.0.0.1:$port "$@" > "$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
sleep 2
lt() { $ml serve loadtest --url http://127.0.0.1:$port --json "$@"; }
for c in 1 2 8; do lt --model proto --concurrency $c --requests 2000; done | tee "$out/loadtest.jsonl"
lt --model proto --concurrency 8 --requests 2000 --mode inline | tee -a "$out/loadtest.jsonl"
for c in 1 8; do lt --model anil --concurrency $c --requests 1000; done | tee -a "$out/loadtest.jsonl"
for c in 1 8; do lt --model fomaml --concurrency $c --requests 200; done | tee -a "$out/loadtest.jsonl"
for c in 1 8; do lt --model fomaml-strided --concurrency $c --requests 400; done | tee -a "$out/loadtest.jsonl"
