#!/bin/sh
# Omniglot transfer: (1) a Conv4 source pretrained on 200 background
# characters, fine-tuned on an evaluation alphabet (transfer-gain curve over
# 1/5/all shots, 3 seeds, every strategy vs scratch); (2) the transfer matrix
# between five background alphabets (first 20 characters each, 5 shots).
# Usage: ML=<metalearn binary> scripts/transfer_omniglot.sh OUTDIR [DATA_DIR] [gain|matrix|all]
set -eu
out=${1:?output folder}
data=${2:-../shared/data}
what=${3:-all}
mkdir -p "$out"
ml=${ML:-}
if [ -z "$ml" ]; then ml="$out/metalearn"; go build -o "$ml" ./cmd/metalearn; fi
if [ "$what" = gain ] || [ "$what" = all ]; then
  /usr/bin/time -v -o "$out/pretrain.time" $ml transfer pretrain --data-dir "$data" --data omniglot:background \
    --max-classes 200 --arch conv4:32 --steps 800 --batch 64 --lr 0.003 --eval-every 100 \
    --model-out "$out/background200.safetensors" > "$out/pretrain.txt"
  /usr/bin/time -v -o "$out/gain.time" $ml transfer finetune --data-dir "$data" --source "$out/background200.safetensors" \
    --target omniglot:Tengwar --max-classes 20 --shots 1,5,all --seeds 3 --steps 60 --batch 50 --lr 0.003 \
    --strategies full,freeze:4,probe,discriminative,l2sp --out "$out/gain" > "$out/gain.txt"
fi
if [ "$what" = matrix ] || [ "$what" = all ]; then
  /usr/bin/time -v -o "$out/matrix.time" $ml transfer matrix --data-dir "$data" --dataset omniglot \
    --tasks Latin,Greek,Cyrillic,Korean --max-classes 20 --arch conv4:32 \
    --shots 5 --seeds 2 --pretrain-steps 150 --steps 40 --batch 50 --lr 0.003 --out "$out/matrix" > "$out/matrix.txt"
fi
