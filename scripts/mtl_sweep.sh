#!/bin/sh
# Weighting sweep on Mulan multi-target sets and the circles family.
# Usage: ML=<metalearn binary> scripts/mtl_sweep.sh OUTDIR
set -eu
out=${1:?output folder}
mkdir -p "$out"
ml=${ML:-}
if [ -z "$ml" ]; then ml="$out/metalearn"; go build -o "$ml" ./cmd/metalearn; fi
all=ew,uw,gradnorm,dwa,rlw,gls,pcgrad,gradvac,mgda,cagrad,imtl,nashmtl,alignedmtl,famo,dbmtl,upgrad
for set in enb jura sf1 slump wq; do
  $ml mtl train --dataset mulan:$set --arch hard --hidden 32 --steps 500 --lr 0.01 --weighting $all > "$out/mulan-$set.txt"
done
$ml mtl train --dataset circles --tasks 20 --per-task 20 --arch hard --hidden 32 --steps 500 --lr 0.01 --weighting $all > "$out/circles.txt"
