#!/bin/sh
# Issue 20, item 4: bilingual vs multilingual translation on lo-mt.
# For each X in LANGS a bilingual en->X and a bilingual X->en model (the
# shared architecture on one pair, STEPS steps each), and one multilingual
# model (Johnson et al. 2017, a <2xx> tag on the source) on all 2*|LANGS|
# directions with the same total compute (MULTI_STEPS = STEPS * 2 * |LANGS|
# steps of the same batch size). Every model translates the test split with
# beam BEAM; $OUT/summary.tsv lists BLEU and chrF with 95% bootstrap CIs
# per model and direction.
#   scripts/mt_bilingual_vs_multilingual.sh                 # the real run (hours on 2 cores)
#   SMOKE=1 scripts/mt_bilingual_vs_multilingual.sh         # tiny settings, checks the script
OUT=${OUT:-runs/mt-bilingual-vs-multilingual}
LANGS=${LANGS:-de fr es it nl pt}
. "$(dirname "$0")/mt_common.sh"
n=0
for x in $LANGS; do n=$((n + 2)); done
MULTI_STEPS=${MULTI_STEPS:-$((STEPS * n))}
all=""
for x in $LANGS; do
	train "bi-en-$x" "en-$x" "$STEPS"
	evaluate "bi-en-$x" "en-$x"
	train "bi-$x-en" "$x-en" "$STEPS"
	evaluate "bi-$x-en" "$x-en"
	all="$all,en-$x,$x-en"
done
all=${all#,}
train multilingual "$all" "$MULTI_STEPS" --tags gl,eu,af
evaluate multilingual "$all"
echo "results: $OUT/summary.tsv"
