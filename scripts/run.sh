#!/usr/bin/env bash
# Runs the node on the embedded defaults (or LSTV_NODE_CONFIG): a private PostgreSQL cluster under
# var/ unless a database URL is configured, migrations, then `lstv-node serve` in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir=${DATA_DIR:-var}
bin=.build/release/lstv-node
[[ -x $bin ]] || { echo "run: $bin missing; run 'make run' (it builds first)" >&2; exit 1; }
args=(--data-dir "$data_dir")
[[ -n ${LSTV_NODE_CONFIG:-} ]] && args+=(--config "$LSTV_NODE_CONFIG")
if [[ -z ${LSTV_DATABASE_URL:-} ]] && ! { [[ -n ${LSTV_NODE_CONFIG:-} ]] && grep -q '^database_url:' "$LSTV_NODE_CONFIG"; }; then
  mkdir -p "$data_dir"
  scripts/pg.sh start "$data_dir/pg" >/dev/null
  trap 'scripts/pg.sh stop "$data_dir/pg"' EXIT
fi
"$bin" db migrate "${args[@]}"
"$bin" serve "${args[@]}" "$@"
