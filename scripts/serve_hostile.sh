#!/bin/sh
# Hostile-load test of the adaptation server (issue 23, RELIABILITY.md):
# builds a 5-way 1-shot Omniglot ProtoNet and a first-order MAML (conv4,
# 64 filters, one meta-training iteration: latency does not depend on the
# weights), serves them on 127.0.0.1 with the default limits, runs
# `metalearn serve loadtest --hostile` (8 normal clients alone, then with 32
# hostile ones), then sends SIGTERM while 4 clients are still trickling
# bodies and reports the exit status and the time the shutdown took.
#   scripts/serve_hostile.sh OUT [DURATION [MODEL [server flags...]]]
set -eu
out=${1:?output folder}
dur=${2:-60s}
model=${3:-proto}
shift $(( $# < 3 ? $# : 3 ))
ml=${ML:-}
if [ -z "$ml" ]; then ml="$out/metalearn"; mkdir -p "$out"; go build -o "$ml" ./cmd/metalearn; fi
mkdir -p "$out/models"
for spec in "protonet proto" "fomaml fomaml"; do
  set -- $spec "$@"
  algo=$1 name=$2
  shift 2
  [ -f "$out/models/$name.safetensors" ] || $ml meta train --algo "$algo" --dataset omniglot --ways 5 --shots 1 \
    --queries 15 --eval-steps 5 --iterations 1 --val-every 1000 --val-tasks 1 --out "$out/models/$name.safetensors" \
    > "$out/train-$name.log" 2>&1 || { cat "$out/train-$name.log" >&2; exit 1; }
done
port=${PORT:-18081}
$ml serve --models "$out/models" --addr 127.0.0.1:$port --shutdown-timeout 10s "$@" > "$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
i=0
until curl -sf http://127.0.0.1:$port/healthz > /dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 100 ] || { echo "server did not start" >&2; cat "$out/server.log" >&2; exit 1; }
  sleep 0.1
done
echo "server idle RSS after start: $(awk -v p=$(getconf PAGESIZE) '{printf "%.0f MiB", $2*p/1048576}' /proc/$pid/statm)" | tee "$out/hostile.txt"
status=0
$ml serve loadtest --url http://127.0.0.1:$port --model "$model" --hostile 32 --concurrency 8 --duration "$dur" \
  --server-pid $pid | tee -a "$out/hostile.txt" || status=$?
# SIGTERM with clients still trickling bodies (they hold their
# connections until the read timeout, 20s, past the shutdown timeout)
head -c 200000 /dev/zero | tr '\0' ' ' > "$out/slow.body"
for i in 1 2 3 4; do
  curl -s -o /dev/null --limit-rate 1k --data-binary @"$out/slow.body" http://127.0.0.1:$port/v1/adapt &
done
sleep 1
t0=$(date +%s.%N)
kill -TERM $pid
code=0
wait $pid || code=$?
t1=$(date +%s.%N)
echo "SIGTERM (4 clients still sending bodies): server exited with status $code after $(echo "$t1 - $t0" | bc) s (shutdown timeout 10s)" | tee -a "$out/hostile.txt"
wait 2>/dev/null || true
trap - EXIT
[ $code -eq 0 ] && exit $status
exit 1
