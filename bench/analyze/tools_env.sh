# Sourced by bench/analyze/single_pass.sh and scaling.sh, from the repository root: the tools venv
# ($PY), the bench model (tools/make_bench_model.py) and the node ($NODE, built here when unset).
PY=${PY:-.venv-tools/bin/python}
# pydicom is pure Python: where the tools venv lacks it, the test venv's copy is borrowed.
if ! "$PY" -c 'import pydicom' 2>/dev/null; then
  for d in .venv/lib/python3*/site-packages; do
    [[ -d $d/pydicom ]] || continue
    mkdir -p bench/out/pydicom-path
    for p in "$d"/pydicom "$d"/pydicom-*.dist-info; do ln -sfn "$PWD/$p" bench/out/pydicom-path/; done
  done
  export PYTHONPATH=$PWD/bench/out/pydicom-path${PYTHONPATH:+:$PYTHONPATH}
fi
if ! "$PY" -c 'import torch, onnxruntime, onnx, numpy, cv2, pydicom' 2>/dev/null; then
  echo "bench/analyze: $PY cannot import torch, onnxruntime, onnx, numpy, cv2 and pydicom (the offline tools venv, models/MODEL_CARD.md)" >&2
  exit 2
fi
if [[ ! -f bench/out/bench_model.onnx || ! -f bench/out/bench_model.safetensors ]]; then
  echo "== model (tools/make_bench_model.py)" >&2
  nice "$PY" tools/make_bench_model.py --out bench/out >&2
fi
if [[ -z "${NODE:-}" ]]; then
  echo "== build (release)" >&2
  nice swift build -c release --product lstv-node >&2
  NODE=.build/release/lstv-node
fi
