# Shared settings of the scripts/mt_*.sh experiments (issue 20, item 4);
# sourced, not run. Environment:
#   DATA_DIR  folder holding lo-mt/ (default ../shared/data)
#   OUT       results folder (default runs/<experiment>)
#   STEPS     training steps per model (see each script for how budgets are matched)
#   BEAM      beam size for the test translations (default 4)
#   SMOKE=1   tiny settings (a few steps on 200 pairs, 10 test sentences) to check the script runs
set -eu
cd "$(dirname "$0")/.."
DATA_DIR=${DATA_DIR:-../shared/data}
BEAM=${BEAM:-4}
if [ ! -f "$DATA_DIR/lo-mt/train/en-de.tsv" ]; then
	echo "$0: lo-mt not found under $DATA_DIR (set DATA_DIR; see metalearn data get lo-mt)" >&2
	exit 1
fi
mkdir -p "$OUT"
BIN="$OUT/metalearn"
go build -o "$BIN" ./cmd/metalearn
# the tiny model of the issue: d_model 128, 2+2 layers
MODEL_FLAGS="--d-model 128 --heads 4 --layers 2 --ffn 512 --vocab-size 8000"
EVAL_FLAGS="--beam $BEAM"
if [ "${SMOKE:-0}" = 1 ]; then
	STEPS=${STEPS:-4}
	MODEL_FLAGS="--d-model 16 --heads 2 --layers 1 --ffn 32 --vocab-size 700 --max-pairs 200 --max-tokens 512 --warmup 2 --val-every 2 --val-sentences 5 --checkpoint-every 2"
	EVAL_FLAGS="--beam 2 --max-sentences 10 --bootstrap 10"
fi
STEPS=${STEPS:-4000}
echo "$(date -u +%FT%TZ) $0: STEPS=$STEPS BEAM=$BEAM SMOKE=${SMOKE:-0} on $(nproc) cores" | tee -a "$OUT/log.txt"

# train NAME PAIRS STEPS [flags...]: one model into $OUT/NAME
train() {
	name=$1 pairs=$2 steps=$3
	shift 3
	"$BIN" mt train --data-dir "$DATA_DIR" --pairs "$pairs" --steps "$steps" $MODEL_FLAGS --out "$OUT/$name" --progress lines "$@" \
		>"$OUT/$name.train.txt" 2>"$OUT/$name.train.log" || {
		tail -n 5 "$OUT/$name.train.log" >&2
		exit 1
	}
	tail -n 1 "$OUT/$name.train.txt" | sed "s|^|$name: |" | tee -a "$OUT/log.txt"
}

# evaluate NAME PAIRS [flags...]: test BLEU/chrF of $OUT/NAME's model,
# appended to $OUT/summary.tsv as model, pair, metric, score, CI half-width
evaluate() {
	name=$1 pairs=$2
	shift 2
	"$BIN" mt eval --model "$OUT/$name/model.safetensors" --data-dir "$DATA_DIR" --split test --pairs "$pairs" $EVAL_FLAGS \
		--hyp-dir "$OUT/$name/hyp" "$@" >"$OUT/$name.eval.txt"
	awk -v m="$name" '
		/^[a-z][a-z]-[a-z][a-z]/ { pair = $1; if ($2 == "via") pair = pair "(via " $3 ")" }
		/^(BLEU|chrF2) = / { ci = $0; if (sub(/.*± /, "", ci)) sub(/\).*/, "", ci); else ci = ""; print m "\t" pair "\t" $1 "\t" $3 "\t" ci }
	' "$OUT/$name.eval.txt" | tee -a "$OUT/summary.tsv"
}
