#!/bin/sh
# Multi-task benchmarks beyond the Mulan/circles sweep: the CAGrad toy
# problem, Parkinson's telemonitoring, and MultiMNIST with LeNet hard
# sharing and MTAN (each MTAN model is also evaluated against the LeNet
# single-task baselines with mtl eval).
# Usage: ML=<metalearn binary> [STEPS=300] scripts/mtl_more.sh OUTDIR [DATA_DIR]
# STEPS (MultiMNIST Adam steps, minibatch 64): 300 keeps both MultiMNIST
# sweeps under 10 minutes on 2 cores; RESULTS.md also reports STEPS=1000.
set -eu
out=${1:?output folder}
data=${2:-../shared/data}
mkdir -p "$out"
ml=${ML:-}
if [ -z "$ml" ]; then ml="$out/metalearn"; go build -o "$ml" ./cmd/metalearn; fi
ws=ew,uw,dwa,pcgrad,mgda,cagrad,nashmtl,upgrad,famo
mm=multimnist:10000:2000
steps=${STEPS:-300}

$ml mtl toy --out "$out/toy" > "$out/toy.txt"
$ml mtl toy --scale 0.1 --out "$out/toy-scale0.1" > "$out/toy-scale0.1.txt"
$ml mtl parkinsons --data-dir "$data" --splits 10 --steps 500 --lr 0.05 > "$out/parkinsons.txt"
$ml mtl parkinsons --data-dir "$data" --splits 10 --steps 500 --lr 0.05 --drop test_time > "$out/parkinsons-no-time.txt"
$ml mtl train --data-dir "$data" --dataset $mm --arch hard --hidden 50 --steps $steps --lr 1e-3 \
  --weighting $ws --save "$out/multimnist-hard" > "$out/multimnist-hard.txt"
$ml mtl train --data-dir "$data" --dataset $mm --arch mtan --hidden 50 --steps $steps --lr 1e-3 \
  --weighting $ws --save "$out/multimnist-mtan" > "$out/multimnist-mtan.txt"
for w in $(echo $ws | tr , ' '); do
  $ml mtl eval --data-dir "$data" --model "$out/multimnist-mtan/$w.safetensors" \
    --baselines "$out/multimnist-hard/baselines.json" --json
done > "$out/multimnist-mtan-vs-lenet-stl.jsonl"
