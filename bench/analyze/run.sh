#!/usr/bin/env bash
# Batch throughput (issue 13 part 4): `lstv-node analyze` on a folder of many sagittal T2 series at
# --jobs 1 and --jobs 2, against the reference Python pipeline (pydicom, min-max, cv2 resize,
# normalise, the same network in PyTorch on the CPU) on the same series, in series per minute.
#   bench/analyze/run.sh    (env: SERIES=12 ROUNDS=3 PY=.venv-tools/bin/python NODE=<built here>)
# Rounds are interleaved (node --jobs 1, node --jobs 2, node --jobs 2 doing only the reference's
# work, Python); it prints the medians and the ratios measured in this run, and writes
# bench/out/analyze/results.json. CPU only; not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv-tools/bin/python}
if ! "$PY" -c 'import torch, safetensors, numpy, cv2, pydicom' 2>/dev/null; then
  cat >&2 <<MSG
bench/analyze: $PY cannot import torch, safetensors, numpy, cv2 and pydicom (the offline tools venv).
Create it as models/MODEL_CARD.md says:
  python3 -m venv .venv-tools && .venv-tools/bin/pip install torch==2.13.0+cpu safetensors numpy opencv-python-headless pydicom
(or point PY at a Python that has them).
MSG
  exit 2
fi
if [[ -z "${NODE:-}" ]]; then
  echo "== build (release)" >&2
  nice swift build -c release --product lstv-node >&2
  NODE=.build/release/lstv-node
fi
exec "$PY" bench/analyze/measure.py --node "$NODE" --series "${SERIES:-12}" --rounds "${ROUNDS:-3}" "$@"
