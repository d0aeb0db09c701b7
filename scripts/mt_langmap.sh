#!/bin/sh
# Issue 21, item 2: the language relationship map. For every language s of
# $LANGS an English -> s model ($STEPS steps), adapted to English -> t for
# every t from $K pairs ($TARGET_STEPS steps) and compared with the same
# adaptation from random weights: gain[s][t] in chrF on t's dev split.
# Also the TAG affinity measured every $AFFINITY steps of one multilingual
# run on all the languages, and the languages grouped into $GROUPS groups
# by each. Writes $OUT/langmap.json (for mt adapt --auto-source and
# scripts/mt_newlang.sh), langmap-gain.png and langmap-affinity.png.
#   scripts/mt_langmap.sh
#   SMOKE=1 scripts/mt_langmap.sh
OUT=${OUT:-runs/mt-langmap}
. "$(dirname "$0")/mt_common.sh"
LANGS=${LANGS:-es,pt,gl,it,fr,nl,de,af,eu}
K=${K:-500}
TARGET_STEPS=${TARGET_STEPS:-1000}
AFFINITY=${AFFINITY:-20}
GROUPS=${GROUPS:-3}
FLAGS="--d-model 128 --ffn 512 --vocab-size 8000 --eval-sentences 200 --target-warmup 100"
if [ "${SMOKE:-0}" = 1 ]; then
	LANGS=es,gl,de K=20 TARGET_STEPS=2 AFFINITY=2 GROUPS=2
	FLAGS="--d-model 16 --ffn 32 --vocab-size 700 --source-pairs 200 --max-tokens 512 --warmup 2 --eval-sentences 5 --target-warmup 1 --target-max-tokens 512 --affinity-sentences 8"
fi
"$BIN" mt langmap --data-dir "$DATA_DIR" --langs "$LANGS" --k "$K" --source-steps "$STEPS" --target-steps "$TARGET_STEPS" \
	--affinity "$AFFINITY" --groups "$GROUPS" $FLAGS --out "$OUT" 2>>"$OUT/log.txt" | tee -a "$OUT/log.txt"
