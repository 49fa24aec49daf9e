#!/usr/bin/env bash
# Result latency benchmark (issue 5): last instance of a sagittal series acknowledged → SR accepted
# by a destination storescp. Goal: quiet period + at most 1 s.
#
#   bench/latency/run.sh      env: RUNS=5 QUIET=10 (the product default) MODEL=… LOCATOR=bundled|off|FILE WORK=bench/out/latency
#
# Builds lstv-node (release; retried while someone's edit in progress breaks the build), starts a
# private PostgreSQL (scripts/pg.sh, durable settings), one lstv-node with storescp as its
# destination, and sends RUNS copies (fresh UIDs) of FCS-IVD-11's sagittal T2 series with storescu
# (TCP_NODELAY=1). Model: $MODEL, else the bundled models/lstv-localizer.safetensors, else the
# full-size reference network with random weights (bench/out/bench_model.safetensors, made by
# tools/make_bench_model.py if .venv-tools exists; times like trained weights), else the small
# test fixture. Prints per-run lines, a markdown table and a SUMMARY json line.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-5}
QUIET=${QUIET:-10}
WORK=${WORK:-bench/out/latency}
PY=${PY:-.venv/bin/python}
SERIES=${SERIES:-../shared/data/lumbar/dicom/FCS-IVD-11/01_T2_TSE_SAG}

echo "== build (release)" >&2
for attempt in 1 2 3 4 5 6; do
  if nice swift build -c release --product lstv-node >&2; then break; fi
  [[ $attempt == 6 ]] && { echo "release build failed 6 times" >&2; exit 1; }
  echo "build failed (an edit in progress?); retrying in 30 s" >&2
  sleep 30
done
NODE=$PWD/.build/release/lstv-node

if [[ -z ${MODEL:-} ]]; then
  if [[ -f models/lstv-localizer.safetensors ]]; then
    MODEL=$PWD/models/lstv-localizer.safetensors
  else
    if [[ ! -f bench/out/bench_model.safetensors && -x .venv-tools/bin/python ]]; then
      nice .venv-tools/bin/python tools/make_bench_model.py --out bench/out >&2
    fi
    if [[ -f bench/out/bench_model.safetensors ]]; then
      MODEL=$PWD/bench/out/bench_model.safetensors
    else
      MODEL=$PWD/tests/integration/fixtures/analyze/reference_small.safetensors
    fi
  fi
fi
echo "== model: $MODEL" >&2

rm -rf "$WORK"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
PGDIR=$WORK/pg
URL=$(scripts/pg.sh start "$PGDIR")
trap 'scripts/pg.sh stop "$PGDIR" >/dev/null 2>&1 || true' EXIT

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "lstv-node $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo '+uncommitted'), quiet period ${QUIET} s, analysis_threads 1, $RUNS runs"
"$PY" bench/latency/measure.py --node "$NODE" --database-url "$URL" --model "$MODEL" --series "$SERIES" \
  --work "$WORK/run" --runs "$RUNS" --quiet "$QUIET" --locator "${LOCATOR:-bundled}"
