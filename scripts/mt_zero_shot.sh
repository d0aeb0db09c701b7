#!/bin/sh
# Issue 20, item 4: zero-shot translation. One English-centric multilingual
# model (en<->de, en<->fr, en<->es, en<->it; never a non-English pair) then
# translates de<->fr and es<->it directly (zero-shot: the <2fr> tag on a
# German source) and by pivoting through English (de->en->fr, two passes of
# the same model). References: the lo-mt test split joined on id (the
# corpus is multi-way parallel). Test BLEU/chrF with 95% CIs in
# $OUT/summary.tsv; pivot rows are marked "(via en)".
#   scripts/mt_zero_shot.sh
#   SMOKE=1 scripts/mt_zero_shot.sh
OUT=${OUT:-runs/mt-zero-shot}
. "$(dirname "$0")/mt_common.sh"
MULTI_STEPS=${MULTI_STEPS:-$((STEPS * 8))}
train english-centric "en-de,de-en,en-fr,fr-en,en-es,es-en,en-it,it-en" "$MULTI_STEPS"
evaluate english-centric "de-fr,fr-de,es-it,it-es"
evaluate english-centric "de-fr,fr-de,es-it,it-es" --pivot en
evaluate english-centric "en-de,de-en,en-fr,fr-en"
echo "results: $OUT/summary.tsv"
