#!/bin/sh
# Issue 21, item 1: a new language from K pairs. One multilingual model on
# English -> es, pt, it, fr, nl, de (never gl, eu or af), then for each new
# language gl, eu, af, each K in $KS and each seed in 1..$SEEDS the same
# number of adaptation updates ($ADAPT_STEPS) by every method:
#   scratch        same architecture and vocabulary, random weights
#   finetune       the multilingual model continued (Zoph et al. 2016), the
#                  new tag initialised from the related language's
#   meta-fomaml,   meta-learning over the six languages as tasks first
#   meta-reptile   ($META_STEPS outer steps; Gu et al. 2018), then fine-tuning
#   mix            fine-tuning mixed with the related language (Neubig & Hu 2018)
# The related language comes from $LANGMAP (scripts/mt_langmap.sh, via
# --auto-source) when that file exists, else gl: es, eu: es, af: nl.
# Test chrF/BLEU of every run in $OUT/adapt/*/result.json; the learning
# curves with 95% CIs over seeds in $OUT/curves.md and $OUT/newlang-<lang>.png.
#   scripts/mt_newlang.sh
#   SMOKE=1 scripts/mt_newlang.sh
OUT=${OUT:-runs/mt-newlang}
. "$(dirname "$0")/mt_common.sh"
KS=${KS:-"100 500 2000"}
SEEDS=${SEEDS:-5}
ADAPT_STEPS=${ADAPT_STEPS:-1000}
META_STEPS=${META_STEPS:-500}
# add meta-maml for the second-order variant (about 3.7x the bytes allocated per outer step)
METHODS=${METHODS:-"scratch finetune meta-fomaml meta-reptile mix"}
LANGMAP=${LANGMAP:-runs/mt-langmap/langmap.json}
ADAPT_FLAGS="--warmup 100 --eval-split test"
if [ "${SMOKE:-0}" = 1 ]; then
	KS="20 40" SEEDS=2 ADAPT_STEPS=3 META_STEPS=2
	ADAPT_FLAGS="--warmup 1 --max-tokens 512 --eval-split test --eval-sentences 10 --meta-max-tokens 256 --meta-pairs 50 --related-pairs 50"
fi
MULTI_STEPS=${MULTI_STEPS:-$((STEPS * 6))}
train multi "en-es,en-pt,en-it,en-fr,en-nl,en-de" "$MULTI_STEPS"
for lang in gl eu af; do
	case $lang in gl | eu) rel=es ;; af) rel=nl ;; esac
	src="--related $rel"
	if [ -f "$LANGMAP" ] && grep -q "\"$lang\"" "$LANGMAP"; then src="--auto-source $LANGMAP"; fi
	for k in $KS; do
		for seed in $(seq 1 "$SEEDS"); do
			for method in $METHODS; do
				case $method in
				meta-*) m="--method meta --meta-algorithm ${method#meta-} --meta-steps $META_STEPS" ;;
				*) m="--method $method" ;;
				esac
				dir="$OUT/adapt/$lang-k$k-$method-s$seed"
				"$BIN" mt adapt --model "$OUT/multi/model.safetensors" --data-dir "$DATA_DIR" --lang "$lang" --k "$k" --seed "$seed" \
					--steps "$ADAPT_STEPS" $m $src $ADAPT_FLAGS --out "$dir" | tee -a "$OUT/log.txt"
			done
		done
	done
done
"$BIN" mt curves "$OUT/adapt" --plot "$OUT/newlang" | tee "$OUT/curves.md"
