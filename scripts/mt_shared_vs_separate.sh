#!/bin/sh
# Issue 20, item 4: shared-everything vs shared encoder + language-specific
# decoders. Two models on the same en->X directions (X in LANGS) with the
# same steps and batches: --arch shared (one decoder, the target chosen by
# the <2xx> tag) and --arch separate-decoders (one decoder per target
# language, embedding and encoder shared). Test BLEU/chrF with 95% CIs in
# $OUT/summary.tsv.
#   scripts/mt_shared_vs_separate.sh
#   SMOKE=1 scripts/mt_shared_vs_separate.sh
OUT=${OUT:-runs/mt-shared-vs-separate}
LANGS=${LANGS:-de fr es it nl pt}
. "$(dirname "$0")/mt_common.sh"
pairs=""
n=0
for x in $LANGS; do
	pairs="$pairs,en-$x"
	n=$((n + 1))
done
pairs=${pairs#,}
MULTI_STEPS=${MULTI_STEPS:-$((STEPS * n))}
train shared "$pairs" "$MULTI_STEPS" --arch shared
evaluate shared "$pairs"
train separate-decoders "$pairs" "$MULTI_STEPS" --arch separate-decoders
evaluate separate-decoders "$pairs"
echo "results: $OUT/summary.tsv"
