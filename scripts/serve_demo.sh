#!/bin/sh
# Adaptive learning as a service, end to end: train (once) a ProtoNet on
# Omniglot, serve it on 127.0.0.1, talk to it with curl, run the
# "one user per unseen alphabet" demo and a short load test, read the
# metrics, and stop the server with SIGTERM (it drains in-flight requests).
#
#   scripts/serve_demo.sh                 # MODELS=/tmp/metalearn-models PORT=8080
#   ALGO=fomaml scripts/serve_demo.sh     # a first-order MAML model instead
set -eu
cd "$(dirname "$0")/.."
MODELS=${MODELS:-/tmp/metalearn-models}
PORT=${PORT:-8080}
DATA=${DATA:-../shared/data}
ALGO=${ALGO:-protonet}
BIN=${BIN:-/tmp/metalearn}
URL=http://127.0.0.1:$PORT

go build -o "$BIN" ./cmd/metalearn
mkdir -p "$MODELS"
case $ALGO in
protonet) NAME=proto
	[ -f "$MODELS/$NAME.safetensors" ] || "$BIN" meta train --algo protonet --dataset omniglot --data-dir "$DATA" \
		--ways 5 --shots 1 --queries 15 --iterations 600 --val-every 150 --model-out "$MODELS/$NAME.safetensors" ;;
fomaml) NAME=fomaml
	[ -f "$MODELS/$NAME.safetensors" ] || "$BIN" meta train --algo fomaml --dataset omniglot --data-dir "$DATA" \
		--ways 5 --shots 1 --queries 5 --inner-steps 5 --eval-steps 5 --iterations 400 --val-every 100 --val-tasks 50 \
		--model-out "$MODELS/$NAME.safetensors" ;;
*) echo "ALGO must be protonet or fomaml" >&2; exit 1 ;;
esac

"$BIN" serve --models "$MODELS" --addr "127.0.0.1:$PORT" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.1; done

echo "== GET /v1/models"; curl -s "$URL/v1/models"; echo

# Two "classes" by curl: a blank page (label 0) and a page full of ink
# (label 1), as flat arrays of 28*28 values (ink = 1, background = 0).
BLANK="[$(printf '0,%.0s' $(seq 783))0]"
INK="[$(printf '1,%.0s' $(seq 783))1]"
echo "== POST /v1/adapt"
ID=$(curl -s "$URL/v1/adapt" -d "{\"model\":\"$NAME\",\"support\":{\"inputs\":[$BLANK,$INK],\"labels\":[0,1]},\"steps\":0}" |
	sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
echo "id $ID"
[ "$NAME" = proto ] || echo "(fixed 5-way head: labels 0..4; two of them used here, 0 steps = no adaptation)"
echo "== POST /v1/predict"; curl -s "$URL/v1/predict" -d "{\"id\":\"$ID\",\"inputs\":[$INK,$BLANK]}"; echo
echo "== a bad request (label out of range) gets a 4xx and a message"
curl -s -w ' HTTP %{http_code}\n' "$URL/v1/adapt" -d "{\"model\":\"$NAME\",\"support\":{\"inputs\":[$BLANK],\"labels\":[7]}}"

echo "== demo: each user is an unseen Omniglot alphabet (images sent as base64 PNG)"
time "$BIN" serve demo --url "$URL" --model "$NAME" --data-dir "$DATA" --users 5 --shots 1,5

echo "== load test: 5-way 1-shot adapt + predict 5 queries, concurrency 8"
"$BIN" serve loadtest --url "$URL" --model "$NAME" --concurrency 8 --requests 500 --duration 60s

echo "== GET /metrics (excerpt)"
curl -s "$URL/metrics" | grep -E '^metalearn_(http_requests_total|adaptations_total|cache_entries|cache_bytes|requests_rejected_total)'
