#!/usr/bin/env bash
# Where the time goes on one association: starts one peer (node | node-nosync | orthanc | storescp)
# on a fresh directory, sends the benchmark images over one association with strace attached, and prints
#   - strace -c -f: syscall counts and time (note: strace itself slows the peer down),
#   - per-call latency of fsync/fdatasync/link/rename/openat(O_CREAT) from strace -T,
#   - the same send without strace, for the undisturbed time,
#   - for node: the per-instance phases (phases.py) and a perf CPU profile.
# PROFILE_QUICK=1: the plain send only. node-nosync: lstv-node with fsync/fdatasync made no-ops by an LD_PRELOAD shim (nosync.c), same
# file system: what the node would do without its durability guarantee (plain send only).
# Run bench/ingest/run.sh once first (it generates the images). Usage: bench/ingest/profile.sh [PEER]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
peer=${1:-node}
preload=""
if [[ $peer == node-nosync ]]; then
  peer=node; mkdir -p "$root/bench/out/profile"
  cc -O2 -shared -fPIC -o "$root/bench/out/profile/nosync.so" "$here/nosync.c"
  preload=$root/bench/out/profile/nosync.so
fi
out=$root/bench/out/profile
images=${BENCH_IMAGES:-$root/bench/out/images}
port=${BENCH_BASE_PORT:-24200}
http=$((port + 1))
export TCP_NODELAY=1
mapfile -t files < <(find "$images" -name 'IM*.dcm' | sort)
[[ ${#files[@]} -gt 0 ]] || { echo "no images in $images: run bench/ingest/run.sh first" >&2; exit 1; }

pid=""; spid=""; pg_dir=$out/pg
cleanup() {
  [[ -n $spid ]] && kill "$spid" 2>/dev/null || true
  [[ -n $pid ]] && { kill -TERM "$pid" 2>/dev/null || true; for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$pid" 2>/dev/null || true; }
  [[ $peer == node ]] && scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

tag=$peer${preload:+-nosync}
rm -rf "$out/$tag"; mkdir -p "$out/$tag"
start() {  # fresh directory $1
  local dir=$1; rm -rf "$dir"; mkdir -p "$dir"; peer_dir=$dir
  ! ss -ltnH "sport = :$port" | grep -q . || { echo "port $port in use" >&2; exit 1; }
  case $peer in
    node)
      local db=p$RANDOM; psql "$pg_url" -Atqc "CREATE DATABASE $db" >/dev/null
      LD_PRELOAD=$preload .build/release/lstv-node serve --data-dir "$dir" --database-url "${pg_url/\/lstv\?/\/$db?}" --port "$port" >"$dir.log" 2>&1 &
      ae=LSTVNODE ;;
    storescp) storescp --fork --max-pdu 65536 -aet STORESCP -od "$dir" "$port" >"$dir.log" 2>&1 & ae=STORESCP ;;
    orthanc)
      printf '{"StorageDirectory":"%s/s","IndexDirectory":"%s/i","Plugins":[],"HttpPort":%d,"RemoteAccessAllowed":false,"DicomAet":"ORTHANC","DicomPort":%d,"DicomAlwaysAllowStore":true,"MaximumPduLength":65536,"SaveJobs":false}\n' \
        "$dir" "$dir" "$http" "$port" >"$dir.json"
      /usr/sbin/Orthanc "$dir.json" >"$dir.log" 2>&1 & ae=ORTHANC ;;
  esac
  pid=$!
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { tail -n 5 "$dir.log" >&2; echo "peer exited" >&2; exit 1; }
    echoscu -aec "$ae" 127.0.0.1 "$port" >/dev/null 2>&1 && return; sleep 0.1
  done
  echo "peer did not start" >&2; exit 1
}
stop() {
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { echo "($peer ignored SIGTERM for 15 s: killed)"; kill -KILL "$pid"; }
  wait "$pid" 2>/dev/null || true; pid=""
  rm -rf "$peer_dir"   # the received copies (500 MB each); logs and traces stay
  for _ in $(seq 100); do ss -ltnH "sport = :$port" | grep -q . || break; sleep 0.1; done
}
send() { local t0 t1; t0=$(date +%s.%N); storescu -aet BENCHSCU -aec "$ae" 127.0.0.1 "$port" "${files[@]}" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" -v n=${#files[@]} 'BEGIN{printf "%.2f s, %.1f images/s\n", b-a, n/(b-a)}'; }

if [[ $peer == node ]]; then mkdir -p "$pg_dir"; chmod 755 "$pg_dir"; pg_url=$(scripts/pg.sh start "$pg_dir"); fi
cat "${files[@]}" >/dev/null

sync; start "$out/$tag/plain"; echo "without strace: $(send)"; stop
[[ -z $preload && ${PROFILE_QUICK:-0} != 1 ]] || exit 0
sync; start "$out/$peer/c"
strace -c -f -p "$pid" -o "$out/$peer/strace-c.txt" & spid=$!; sleep 1
echo "strace -c:      $(send)"; kill -INT "$spid"; wait "$spid" || true; spid=""; stop
sync; start "$out/$peer/t"
strace -f -T -tt -e trace=fsync,fdatasync,link,linkat,rename,renameat,renameat2,unlink,unlinkat,mkdir,write,pwrite64,writev \
  -p "$pid" -o "$out/$peer/strace-T.txt" & spid=$!; sleep 1
echo "strace -T:      $(send)"; kill -INT "$spid"; wait "$spid" || true; spid=""; stop

echo "--- strace -c -f ($peer) ---"; head -n 25 "$out/$peer/strace-c.txt"
echo "--- per-call latency, ms (count, median, p90, total s) ---"
"$root/.venv/bin/python" - "$out/$peer/strace-T.txt" <<'PY'
import re, statistics, sys
lat = {}
for line in open(sys.argv[1]):
    m = re.search(r"\s(\w+)\((.*)<(\d+\.\d+)>$", line.strip())
    if not m: continue
    name, args, t = m.group(1), m.group(2), float(m.group(3))
    if name in ("write", "pwrite64", "writev"):
        if "ENOENT" in args: continue
    lat.setdefault(name, []).append(t * 1e3)
for name, v in sorted(lat.items(), key=lambda kv: -sum(kv[1])):
    v.sort()
    print(f"{name:<10} n={len(v):<6} median={statistics.median(v):7.3f}  p90={v[int(len(v)*0.9)]:7.3f}  total={sum(v)/1e3:6.2f}")
PY
if [[ $peer == node ]]; then
  echo "--- lstv-node per-instance phases (under strace -T, so inflated) ---"
  "$root/.venv/bin/python" "$here/phases.py" "$out/$peer/strace-T.txt"
  if command -v perf >/dev/null; then
    sync; start "$out/$peer/perf"
    perf record -q -e cpu-clock -g -p "$pid" -o "$out/$peer/perf.data" >/dev/null 2>&1 & spid=$!; sleep 1
    echo "perf record:    $(send)"; kill -INT "$spid"; wait "$spid" || true; spid=""; stop
    echo "--- perf: lstv-node CPU by shared object, then top symbols ---"
    perf report -i "$out/$peer/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 12
    perf report -i "$out/$peer/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 25
  fi
fi
