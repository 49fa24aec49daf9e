#!/usr/bin/env bash
# How ingest cost grows with parallel senders (issue 17 item 4): the real lumbar MR instances
# (../shared/data/lumbar/dicom/*/*/*, copied to bench/out/scaling/images) sent with DCMTK storescu
# over 1, 4, 16 and 32 associations in parallel (the files dealt round-robin), to lstv-node
# (release build, private PostgreSQL, durable) and to DCMTK storescp --fork (no fsync), in the same
# run. Rounds are interleaved: every round measures every association count for both peers, the
# peer order alternating, each on a fresh directory (and a fresh database) after `sync`.
# Prints medians, node/storescp ratios and CPU per instance.
#
#   bench/ingest/scaling.sh
#
# Environment: BENCH_ROUNDS (default 3), BENCH_ASSOCIATIONS ("1 4 16 32"), BENCH_BASE_PORT (24300),
# BENCH_OUT (bench/out/scaling), BENCH_SOURCE (../shared/data/lumbar/dicom), BENCH_NODE_BIN (the
# release build), BENCH_BASELINE_BIN (another lstv-node binary, e.g. an earlier commit's, measured in
# the same rounds as peer "baseline").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
rounds=${BENCH_ROUNDS:-3}
counts=(${BENCH_ASSOCIATIONS:-1 4 16 32})
port=${BENCH_BASE_PORT:-24300}
out=${BENCH_OUT:-$root/bench/out/scaling}
source_dir=${BENCH_SOURCE:-$root/../shared/data/lumbar/dicom}
node_bin=${BENCH_NODE_BIN:-$root/.build/release/lstv-node}
baseline_bin=${BENCH_BASELINE_BIN:-}
peers=(node storescp); [[ -n $baseline_bin ]] && peers+=(baseline)
hz=$(getconf CLK_TCK)
export TCP_NODELAY=1

log() { echo "bench-scaling: $*" >&2; }
die() { log "$*"; exit 1; }
for tool in storescu storescp echoscu psql; do command -v "$tool" >/dev/null || die "$tool not found"; done
[[ -x $node_bin ]] || die "$node_bin missing: swift build -c release"

rm -rf "$out/targets" "$out/logs"; mkdir -p "$out/images" "$out/targets" "$out/logs"
if [[ -z $(ls -A "$out/images") ]]; then
  i=0
  while IFS= read -r f; do cp "$f" "$out/images/$(printf 'IM%05d.dcm' $i)"; i=$((i + 1)); done \
    < <(find "$source_dir" -type f | sort)
fi
mapfile -t files < <(find "$out/images" -name 'IM*.dcm' | sort)
total=${#files[@]}
[[ $total -gt 0 ]] || die "no images"
bytes=$(du -cb "${files[@]}" | tail -n 1 | cut -f1)

pids=(); pg_dir=$out/pg
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$p" 2>/dev/null || true; done
  scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1 || true
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1 || true
rm -rf "$pg_dir"; mkdir -p "$pg_dir"; chmod 755 "$pg_dir"
pg_url=$(scripts/pg.sh start "$pg_dir")
# The node's default max_associations_per_peer (16) would refuse the 32-association case.
node_config=$out/node.yaml
printf 'max_associations: 64\nmax_associations_per_peer: 64\n' >"$node_config"

peer_pid=""
start_peer() {  # PEER DIR TAG
  mkdir -p "$2"
  for _ in $(seq 100); do ss -ltnH "sport = :$port" | grep -q . || break; sleep 0.1; done
  if [[ $1 != storescp ]]; then
    psql "$pg_url" -Atqc "CREATE DATABASE $3" >/dev/null
    peer_url=${pg_url/\/lstv\?/\/$3?}
    local bin=$node_bin; [[ $1 == baseline ]] && bin=$baseline_bin
    "$bin" serve --config "$node_config" --data-dir "$2" --database-url "$peer_url" --port "$port" >"$out/logs/$3.log" 2>&1 &
    peer_pid=$!; peer_ae=LSTVNODE
  else
    storescp --fork --max-pdu 65536 -aet STORESCP -od "$2" "$port" >"$out/logs/$3.log" 2>&1 &
    peer_pid=$!; peer_ae=STORESCP
  fi
  pids+=("$peer_pid")
  for _ in $(seq 300); do
    echoscu -to 2 -aec "$peer_ae" 127.0.0.1 "$port" >/dev/null 2>&1 && return 0
    kill -0 "$peer_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$out/logs/$3.log" >&2; die "$1 did not start"
}
stop_peer() {
  kill -TERM "$peer_pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$peer_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$peer_pid" 2>/dev/null || true
  wait "$peer_pid" 2>/dev/null || true
  pids=()
}
cpu_ticks() { awk '{print $14+$15+$16+$17}' "/proc/$peer_pid/stat" 2>/dev/null || echo 0; }
stored() {  # PEER DIR
  if [[ $1 != storescp ]]; then
    local n=0
    for _ in $(seq 600); do
      n=$(psql "$peer_url" -Atqc 'SELECT count(*) FROM instances' 2>/dev/null || echo 0)
      [[ $n -ge $total ]] && break
      sleep 0.1
    done
    echo "$n"
  else
    find "$2" -maxdepth 1 -type f | wc -l
  fi
}
send() {  # N TAG -> wall seconds
  local n=$1 tag=$2 spids=() k rc=0
  local t0; t0=$(date +%s.%N)
  for ((k = 0; k < n; k++)); do
    local mine=()
    for ((j = k; j < total; j += n)); do mine+=("${files[$j]}"); done
    storescu -aet BENCHSCU -aec "$peer_ae" 127.0.0.1 "$port" "${mine[@]}" >"$out/logs/$tag.scu$k.log" 2>&1 &
    spids+=($!)
  done
  for p in "${spids[@]}"; do wait "$p" || rc=$?; done
  local t1; t1=$(date +%s.%N)
  [[ $rc -eq 0 ]] || log "$tag: a storescu exited with $rc"
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f\n", b-a}'
}

results=$out/results.tsv
printf 'round\tassociations\tpeer\tseconds\timages_per_s\tstored\tcpu_ms_per_instance\tload1\n' >"$results"
log "$total instances ($((bytes / 1024)) KiB), $rounds rounds, associations: ${counts[*]}"
failures=0
for round in $(seq "$rounds"); do
  for n in "${counts[@]}"; do
    # Rotate the peers from one measurement to the next.
    order=()
    for i in "${!peers[@]}"; do order+=("${peers[$(((i + round + n) % ${#peers[@]}))]}"); done
    for peer in "${order[@]}"; do
      tag=${peer}_${n}_$round; dir=$out/targets/$tag
      cat "${files[@]}" >/dev/null; sync
      start_peer "$peer" "$dir" "$tag"
      load=$(cut -d' ' -f1 /proc/loadavg)
      c0=$(cpu_ticks)
      secs=$(send "$n" "$tag")
      got=$(stored "$peer" "$dir")
      c1=$(cpu_ticks)
      cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v n="$total" 'BEGIN{printf "%.2f", (b-a)/hz*1000/n}')
      rate=$(awk -v s="$secs" -v n="$total" 'BEGIN{printf "%.1f", n/s}')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$n" "$peer" "$secs" "$rate" "$got" "$cpu" "$load" >>"$results"
      log "round $round, $n associations, $peer: $rate images/s, stored $got, CPU ${cpu} ms/instance, load $load"
      [[ $got -eq $total ]] || { log "$peer stored $got of $total"; failures=$((failures + 1)); }
      stop_peer
      rm -rf "$dir"
    done
  done
done

python3 - "$results" "$total" <<'PY' | tee "$out/summary.txt"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
total = int(sys.argv[2])
peers = [p for p in ("node", "baseline") if any(r["peer"] == p for r in rows)]
print(f"\n{total} instances; median of rounds (images/s, CPU ms per instance); ratio = peer / storescp in the same round, median")
for n in sorted({int(r["associations"]) for r in rows}):
    pick = lambda p: [r for r in rows if int(r["associations"]) == n and r["peer"] == p]
    med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
    scp = pick("storescp")
    line = f"{n:>3} associations: storescp {med(scp, 'images_per_s'):7.1f}/s {med(scp, 'cpu_ms_per_instance'):5.2f} ms"
    for p in peers:
        mine = pick(p)
        ratios = [float(a["images_per_s"]) / float(b["images_per_s"]) for a, b in zip(mine, scp)]
        line += (f" | {p} {med(mine, 'images_per_s'):7.1f}/s {med(mine, 'cpu_ms_per_instance'):5.2f} ms, "
                 f"{statistics.median(ratios):.2f}x (rounds {', '.join(f'{x:.2f}' for x in ratios)})")
    print(line)
loads = [float(r["load1"]) for r in rows]
print(f"load (1 min) during the run: {min(loads):.1f}-{max(loads):.1f}, median {statistics.median(loads):.1f}")
PY
[[ $failures -eq 0 ]] || die "$failures measurement(s) did not store every instance"
