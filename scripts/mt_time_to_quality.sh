#!/bin/sh
# Issue 20, item 4: time to quality against PyTorch. The tiny model (d_model
# 128, 2+2 layers) trained for MINUTES wall-clock minutes on en->de by
# `metalearn mt train` and by reference/mt_torch.py (torch.nn.Transformer)
# on the same token ids (the Go run exports its vocabulary and tokenised
# data), both on THREADS cores, one after the other on an otherwise idle
# machine. Each writes dev chrF against minutes (dev.jsonl); the curves go
# to $OUT/curves.tsv (system, minutes, chrF) for one plot.
#   scripts/mt_time_to_quality.sh                      # 30 minutes each
#   SMOKE=1 MINUTES=0.2 scripts/mt_time_to_quality.sh  # checks the script (needs python3 with torch for the second half)
OUT=${OUT:-runs/mt-time-to-quality}
MINUTES=${MINUTES:-30}
THREADS=${THREADS:-2}
PAIRS=${PAIRS:-en-de}
STEPS=${STEPS:-1000000}
. "$(dirname "$0")/mt_common.sh"
export GOMAXPROCS=$THREADS
train go "$PAIRS" "$STEPS" --max-minutes "$MINUTES" --val-every "${VAL_EVERY:-250}" --export-tokens "$OUT/tokens"
if python3 -c 'import torch' 2>/dev/null; then
	python3 reference/mt_torch.py "$OUT/tokens" "$OUT/torch" --minutes "$MINUTES" --threads "$THREADS" \
		--val-minutes "${VAL_MINUTES:-2}" >"$OUT/torch.log" 2>&1
else
	echo "$0: python3 with torch not found: skipping the PyTorch half" >&2
fi
: >"$OUT/curves.tsv"
for sys in go torch; do
	[ -f "$OUT/$sys/dev.jsonl" ] || continue
	sed -e 's/.*"minutes":\([0-9.e+-]*\).*"chrf":\([0-9.e+-]*\).*/\1 \2/' -e 't' -e 's/.*"chrf":\([0-9.e+-]*\).*"minutes":\([0-9.e+-]*\).*/\2 \1/' \
		"$OUT/$sys/dev.jsonl" | awk -v s="$sys" '{ print s "\t" $1 "\t" $2 }' >>"$OUT/curves.tsv"
done
cat "$OUT/curves.tsv"
