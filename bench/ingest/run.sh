#!/usr/bin/env bash
# Ingest benchmark (issue 2): 1,000 MR images 512x512x16 bit sent with DCMTK storescu to
#   (a) lstv-node (release build, private PostgreSQL; fsyncs every instance before answering),
#   (b) DCMTK storescp --fork (no fsync),
#   (c) Orthanc from Debian (default SQLite index, SyncStorageArea at its default: true),
# in one run, over one association (1 x 1,000) and four in parallel (4 x 250). Each measurement
# gets a freshly started peer on a fresh directory under bench/out/ingest (same file system for
# all); the peers are rotated between runs and the median of BENCH_RUNS runs is reported.
#
#   bench/ingest/run.sh            (or: make bench-ingest, which builds the release binary first)
#
# Environment: BENCH_RUNS (default 3), BENCH_COUNT (1000), BENCH_BASE_PORT (24100; uses 4 ports),
# BENCH_OUT (bench/out/ingest), BENCH_IMAGES (bench/out/images), BENCH_PEERS ("node storescp orthanc").
# Results: $BENCH_OUT/results.tsv (every measurement) and $BENCH_OUT/summary.txt (what is printed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
[[ -x /opt/swift/usr/bin/swift ]] && export PATH=/opt/swift/usr/bin:$PATH

runs=${BENCH_RUNS:-3}
count=${BENCH_COUNT:-1000}
par=4
base_port=${BENCH_BASE_PORT:-24100}
out=${BENCH_OUT:-$root/bench/out/ingest}
images=${BENCH_IMAGES:-$root/bench/out/images}
peers=(${BENCH_PEERS:-node storescp orthanc})
node_port=$base_port; scp_port=$((base_port + 1)); orthanc_port=$((base_port + 2)); orthanc_http=$((base_port + 3))
node_bin=$root/.build/release/lstv-node
py=$root/.venv/bin/python
source_slices=$root/../shared/data/lumbar/dicom/FCS-IVD-11/01_T2_TSE_SAG
hz=$(getconf CLK_TCK)
export TCP_NODELAY=1   # DCMTK: Nagle off on the sender's and storescp's sockets (lstv-node and Orthanc set it themselves)

log() { echo "bench-ingest: $*" >&2; }
die() { log "$*"; exit 1; }

for tool in storescu storescp echoscu curl /usr/sbin/Orthanc; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install dcmtk orthanc curl)"
done
[[ -x $py ]] || die "$py missing: create the project venv first (scripts/bootstrap.sh)"
if [[ ! -x $node_bin ]]; then
  log "building lstv-node (release)"
  swift build -c release >/dev/null || die "release build failed"
fi
for p in $node_port $scp_port $orthanc_port $orthanc_http; do
  ! ss -ltnH "sport = :$p" | grep -q . || die "port $p is in use (set BENCH_BASE_PORT)"
done

# ---- everything started here is stopped on exit -------------------------------------------
pids=()
pg_dir=$out/pg
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  [[ -d $pg_dir ]] && scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1 || true
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- images ---------------------------------------------------------------------------------
mkdir -p "$images"
nice -n 10 "$py" "$here/generate.py" --out "$images" --count "$count" --series $par --source "$source_slices" >&2
mapfile -t all_files < <(find "$images" -name 'IM*.dcm' | sort)
[[ ${#all_files[@]} -eq $count ]] || die "expected $count images in $images, found ${#all_files[@]}"
image_bytes=$(du -cb "${all_files[@]}" | tail -n 1 | cut -f1)
series_dirs=("$images"/s*)
[[ ${#series_dirs[@]} -eq $par ]] || die "expected $par series directories in $images"

rm -rf "$out/targets" "$out/logs"
mkdir -p "$out/targets" "$out/logs"
scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1 || true
rm -rf "$pg_dir"
mkdir -p "$pg_dir"; chmod 755 "$pg_dir"
pg_url=$(scripts/pg.sh start "$pg_dir")
log "PostgreSQL for lstv-node: $pg_url"

# ---- peers ------------------------------------------------------------------------------------
peer_pid=""
wait_echo() {  # AE PORT
  for _ in $(seq 300); do
    echoscu -to 2 -aec "$1" 127.0.0.1 "$2" >/dev/null 2>&1 && return 0
    kill -0 "$peer_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
start_peer() {  # PEER DIR TAG
  local peer=$1 dir=$2 tag=$3
  mkdir -p "$dir"
  local -A port_of=([node]=$node_port [storescp]=$scp_port [orthanc]=$orthanc_port)
  ! ss -ltnH "sport = :${port_of[$peer]}" | grep -q . || die "port ${port_of[$peer]} still in use before starting $peer"
  case $peer in
    node)
      local db=bench_$tag
      psql "$pg_url" -Atqc "CREATE DATABASE $db" >/dev/null
      peer_url=${pg_url/\/lstv\?/\/$db?}
      "$node_bin" serve --data-dir "$dir" --database-url "$peer_url" --port "$node_port" \
        >"$out/logs/$tag.log" 2>&1 &
      peer_pid=$!; peer_ae=LSTVNODE; peer_port=$node_port ;;
    storescp)
      # --fork: one child process per association, so the four parallel associations are served
      # in parallel (without it storescp serves one association at a time).
      storescp --fork --max-pdu 65536 -aet STORESCP -od "$dir" "$scp_port" >"$out/logs/$tag.log" 2>&1 &
      peer_pid=$!; peer_ae=STORESCP; peer_port=$scp_port ;;
    orthanc)
      mkdir -p "$dir/storage" "$dir/index"
      cat >"$dir/orthanc.json" <<JSON
{
  "Name": "bench-ingest",
  "StorageDirectory": "$dir/storage",
  "IndexDirectory": "$dir/index",
  "StorageCompression": false,
  "SyncStorageArea": true,
  "Plugins": [],
  "HttpServerEnabled": true,
  "HttpPort": $orthanc_http,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "OrthancExplorerEnabled": false,
  "WebDavEnabled": false,
  "DicomServerEnabled": true,
  "DicomAet": "ORTHANC",
  "DicomPort": $orthanc_port,
  "DicomCheckCalledAet": false,
  "DicomAlwaysAllowEcho": true,
  "DicomAlwaysAllowStore": true,
  "DicomThreadsCount": 4,
  "MaximumPduLength": 65536,
  "TcpNoDelay": true,
  "SaveJobs": false
}
JSON
      /usr/sbin/Orthanc "$dir/orthanc.json" >"$out/logs/$tag.log" 2>&1 &
      peer_pid=$!; peer_ae=ORTHANC; peer_port=$orthanc_port ;;
  esac
  pids+=("$peer_pid")
  wait_echo "$peer_ae" "$peer_port" || { tail -n 20 "$out/logs/$tag.log" >&2; die "$peer did not start"; }
}
stop_peer() {  # SIGTERM; SIGKILL after 15 s (a stuck shutdown is logged, it does not fail the run)
  kill -TERM "$peer_pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$peer_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$peer_pid" 2>/dev/null; then
    log "$peer (pid $peer_pid) still running 15 s after SIGTERM; killing it"
    kill -KILL "$peer_pid" 2>/dev/null || true
  fi
  wait "$peer_pid" 2>/dev/null || true
  for _ in $(seq 100); do ss -ltnH "sport = :$peer_port" | grep -q . || break; sleep 0.1; done
  local keep=() p
  for p in "${pids[@]}"; do [[ $p == "$peer_pid" ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}
cpu_ticks() {  # utime+stime+cutime+cstime of the peer process (storescp children count once reaped)
  awk '{print $14+$15+$16+$17}' "/proc/$peer_pid/stat" 2>/dev/null || echo 0
}
stored_count() {  # PEER DIR
  case $1 in
    node)
      # The index lags the spool by design: wait until the indexer has caught up.
      local n=0
      for _ in $(seq 600); do
        n=$(psql "$peer_url" -Atqc 'SELECT count(*) FROM instances' 2>/dev/null || echo 0)
        [[ $n -ge $count ]] && break
        sleep 0.1
      done
      local files; files=$(find "$2/spool/instances" -name '*.dcm' | wc -l)
      [[ $files -eq $n ]] || log "node: $files files in the spool but $n rows in the index"
      echo "$n" ;;
    storescp) find "$2" -maxdepth 1 -type f -name 'MR.*' | wc -l ;;
    orthanc) curl -sf "http://127.0.0.1:$orthanc_http/statistics" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])' ;;
  esac
}

send() {  # SCENARIO TAG -> prints wall seconds
  local scenario=$1 tag=$2 t0 t1 rc=0
  local common=(-aet BENCHSCU -aec "$peer_ae" 127.0.0.1 "$peer_port")
  t0=$(date +%s.%N)
  if [[ $scenario == single ]]; then
    storescu "${common[@]}" "${all_files[@]}" >"$out/logs/$tag.scu.log" 2>&1 || rc=$?
  else
    local spids=() i=0
    for d in "${series_dirs[@]}"; do
      storescu "${common[@]}" "$d"/IM*.dcm >"$out/logs/$tag.scu$i.log" 2>&1 &
      spids+=($!); i=$((i + 1))
    done
    for p in "${spids[@]}"; do wait "$p" || rc=$?; done
  fi
  t1=$(date +%s.%N)
  [[ $rc -eq 0 ]] || log "$tag: storescu exited with $rc (see $out/logs/$tag.scu*.log)"
  if grep -qh "^E:" "$out/logs/$tag".scu*.log; then log "$tag: storescu reported errors:"; grep -h "^E:" "$out/logs/$tag".scu*.log | head -n 5 >&2; fi
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f\n", b-a}'
}

# ---- measurements -------------------------------------------------------------------------------
results=$out/results.tsv
printf 'run\tscenario\tpeer\tseconds\timages_per_s\tstored\tpeer_cpu_s\tload1_before\tindex_lag_s\n' >"$results"
log "$count images ($((image_bytes / 1048576)) MiB) in $images; $runs runs; peers: ${peers[*]}"
failures=0
for run in $(seq "$runs"); do
  # Rotate the order of the peers from run to run.
  order=()
  for i in "${!peers[@]}"; do order+=("${peers[$(((i + run - 1) % ${#peers[@]}))]}"); done
  for scenario in single parallel; do
    for peer in "${order[@]}"; do
      tag=${peer}_${scenario}_$run
      dir=$out/targets/$tag
      # Same starting point for everyone: source images in the page cache, no dirty pages left
      # over from the previous measurement (storescp's and Orthanc's writes are flushed here,
      # outside the timed part).
      cat "${all_files[@]}" >/dev/null
      sync; sleep 1
      start_peer "$peer" "$dir" "$tag"
      sleep 1
      load=$(cut -d' ' -f1 /proc/loadavg)
      c0=$(cpu_ticks)
      secs=$(send "$scenario" "$tag")
      t_ack=$(date +%s.%N)
      stored=$(stored_count "$peer" "$dir")
      lag=$(awk -v a="$t_ack" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
      [[ $peer == node ]] || lag=-
      c1=$(cpu_ticks)
      cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN{printf "%.2f", (b-a)/hz}')
      rate=$(awk -v s="$secs" -v n="$count" 'BEGIN{printf "%.1f", n/s}')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$scenario" "$peer" "$secs" "$rate" "$stored" "$cpu" "$load" "$lag" >>"$results"
      log "run $run $scenario $peer: ${secs}s, $rate images/s, stored $stored, peer CPU ${cpu}s, load $load"
      [[ $stored -eq $count ]] || { log "$peer stored $stored of $count instances"; failures=$((failures + 1)); }
      stop_peer
      rm -rf "$dir"
    done
  done
done

# ---- summary ----------------------------------------------------------------------------------
"$py" - "$results" "$count" "$image_bytes" <<'PY' | tee "$out/summary.txt"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
count = int(sys.argv[2])
total_bytes = int(sys.argv[3])
med = {}
print(f"\nIngest: {count} MR images 512x512x16 bit (explicit VR little endian), storescu -> peer, median of runs")
print(f"{'scenario':<22}{'peer':<10}{'images/s':>10}{'seconds':>9}{'MB/s':>8}{'peer CPU s':>11}  runs (images/s)")
for scenario, label in (("single", "1 association x 1000"), ("parallel", "4 associations x 250")):
    for peer in ("node", "storescp", "orthanc"):
        r = [x for x in rows if x["scenario"] == scenario and x["peer"] == peer]
        if not r:
            continue
        secs = statistics.median(float(x["seconds"]) for x in r)
        med[(scenario, peer)] = count / secs
        cpu = statistics.median(float(x["peer_cpu_s"]) for x in r)
        print(f"{label:<22}{peer:<10}{count / secs:>10.1f}{secs:>9.2f}{total_bytes / secs / 1e6:>8.1f}{cpu:>11.2f}  "
              + ", ".join(x["images_per_s"] for x in r))
print()
for scenario, label in (("single", "1 association"), ("parallel", "4 associations")):
    n = med.get((scenario, "node"))
    for other, goal in (("storescp", 0.8), ("orthanc", 10.0)):
        o = med.get((scenario, other))
        if n and o:
            verdict = "meets" if n / o >= goal else "misses"
            print(f"{label:<15} lstv-node/{other:<9} {n / o:5.2f}x   (goal >= {goal}x: {verdict})")
bad = [x for x in rows if int(x["stored"] or 0) != count]
print("\nall peers stored every instance" if not bad else f"\n{len(bad)} measurement(s) with missing instances")
PY
log "results: $results"
[[ $failures -eq 0 ]] || die "$failures measurement(s) did not store all $count instances"
