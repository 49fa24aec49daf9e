#!/usr/bin/env bash
# How `lstv-node analyze`'s cost grows with slices per series and the engine's batch, and its
# memory over many series (issue 17), on the full-size reference network. See scaling.py.
#   bench/analyze/scaling.sh [--what slices batch memory] [--memory-series 1000]   (env: PY, NODE)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/analyze/tools_env.sh
echo "uptime before: $(uptime)"
"$PY" bench/analyze/scaling.py --node "$NODE" "$@"
echo "uptime after: $(uptime)"
