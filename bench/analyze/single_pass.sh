#!/usr/bin/env bash
# One network pass through `lstv-node analyze` against onnxruntime's inference alone (issue 17):
# the full-size reference network (random weights, tools/make_bench_model.py), single-slice series,
# the node's marginal cost per series at 1 and 2 threads against onnxruntime's on the same inputs,
# rounds interleaved. See single_pass.py for the method.
#   bench/analyze/single_pass.sh   (env: SMALL=8 LARGE=40 ROUNDS=3 PY=.venv-tools/bin/python NODE=<built here>)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/analyze/tools_env.sh
echo "uptime before: $(uptime)"
"$PY" bench/analyze/single_pass.py --node "$NODE" --small "${SMALL:-8}" --large "${LARGE:-40}" --rounds "${ROUNDS:-3}" "$@"
echo "uptime after: $(uptime)"
