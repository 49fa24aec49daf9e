#!/usr/bin/env bash
# Localizer benchmark: lstv-node's engine vs PyTorch CPU vs onnxruntime CPU on the full-size
# reference network (resnet50d + U-Net, random weights), 160x160, batch 1 and 8, 1 and 2 threads.
#   bench/localizer/run.sh    (env: SECONDS_PER=5, ROUNDS=1, SCRATCH=.build-engine, PY=.venv-tools/bin/python,
#                              THREADS="1 2", BATCHES="1 8", RUNTIMES="onnxruntime torch")
# Quick engine-vs-onnxruntime check: THREADS=1 BATCHES=1 RUNTIMES=onnxruntime ROUNDS=3 SECONDS_PER=3.
# Each setting is timed ROUNDS times (all runtimes in turn each round); the table keeps each
# setting's best round, since the machine may be shared.
# Writes bench/out/results.jsonl and prints a markdown table (paste into BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv-tools/bin/python}
OUT=bench/out
SECONDS_PER=${SECONDS_PER:-5}
SCRATCH=${SCRATCH:-.build-engine}
ROUNDS=${ROUNDS:-1}
THREADS=${THREADS:-1 2}
BATCHES=${BATCHES:-1 8}
RUNTIMES=${RUNTIMES:-onnxruntime torch}
mkdir -p "$OUT"

# The model is seeded: made again only when missing or older than its script.
if [ ! -s "$OUT/bench_cases.safetensors" ] || [ tools/make_bench_model.py -nt "$OUT/bench_cases.safetensors" ]; then
  echo "== model (tools/make_bench_model.py)" >&2
  nice "$PY" tools/make_bench_model.py --out "$OUT" >&2
fi
echo "== build (release)" >&2
nice swift build --scratch-path "$SCRATCH" -c release --product localizer-bench >&2
BENCH="$SCRATCH/release/localizer-bench"

RES="$OUT/results.jsonl"
: > "$RES"
for round in $(seq "$ROUNDS"); do
for t in $THREADS; do
  for b in $BATCHES; do
    echo "== engine batch $b threads $t" >&2
    # One process per setting: peak RSS is that setting's. The engine re-execs itself once with
    # OPENBLAS_CORETYPE=SkylakeX where the CPU has AVX-512 (Engine.prepareEnvironment).
    "$BENCH" --model "$OUT/bench_model.safetensors" --cases "$OUT/bench_cases.safetensors" \
      --batch "$b" --threads "$t" --seconds "$SECONDS_PER" | tee -a "$RES" >&2
  done
  for rt in $RUNTIMES; do
    echo "== $rt threads $t" >&2
    OMP_NUM_THREADS=$t "$PY" bench/localizer/bench_reference.py --runtime $rt --threads "$t" --batch $BATCHES \
      --seconds "$SECONDS_PER" --out "$OUT" | tee -a "$RES" >&2
  done
done
done

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" bench/localizer/report.py "$RES"
