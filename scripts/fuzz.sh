#!/usr/bin/env bash
# Fuzzing the node's receive path with libFuzzer (AddressSanitizer + UndefinedBehaviorSanitizer):
# builds the harnesses (fuzz/Makefile, clang++ of the Swift toolchain), writes the seed corpora from
# the shared studies (fuzz/seeds.py) and runs each harness for a fixed time on a fresh corpus.
#   scripts/fuzz.sh [--seconds N] [--out DIR] [dataset] [association]   (default: both, 600 s each)
# Exit status 1 when a harness found a crash, a sanitizer report, a leak or a hang; the input is
# kept in OUT/findings/<harness>/ and the way to reproduce it is printed. The build is in
# var/fuzz/build (incremental); OUT (default var/fuzz; never committed: the corpora hold the shared
# studies' data) gets seeds/, corpus/<harness>/ (the inputs the run kept) and <harness>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[[ -x /opt/swift/usr/bin/clang++ ]] && export PATH=/opt/swift/usr/bin:$PATH

seconds=600
out=$root/var/fuzz
harnesses=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    dataset|association) harnesses+=("$1"); shift ;;
    *) echo "usage: scripts/fuzz.sh [--seconds N] [--out DIR] [dataset] [association]" >&2; exit 2 ;;
  esac
done
((${#harnesses[@]})) || harnesses=(dataset association)

build=$root/var/fuzz/build
lumbar=${LSTV_TEST_DICOM_DIR:-$root/../shared/data/lumbar/dicom}
[[ -d $lumbar ]] || { echo "fuzz: shared studies not found at $lumbar (or set LSTV_TEST_DICOM_DIR)" >&2; exit 1; }

make -s -C fuzz BUILD="$build"
.venv/bin/python fuzz/seeds.py --lumbar "$lumbar" --out "$out/seeds"

# Hangs: longer than any of the harnesses' own deadlines (the association harness allows 15 s).
declare -A input_timeout=([dataset]=10 [association]=30)
# DCMTK allocates an element's declared length (up to 4 GiB) before it reads the value, and frees it
# when the data falls short: address space, not memory. Allow such single allocations; the RSS limit
# (2 GiB, libFuzzer's default) still catches memory that is really used.
limits=(-malloc_limit_mb=4096 -rss_limit_mb=2048)
# Full malloc stacks for the association harness: its leak suppressions (fuzz/lsan.supp) name DCMTK
# functions that the fast unwinder does not reach. It costs little there (the per-input leak check
# dominates); the dataset harness, which allocates far more, keeps the fast unwinder.
declare -A asan_options=([dataset]=detect_leaks=1 [association]=detect_leaks=1:fast_unwind_on_malloc=0)
export LSAN_OPTIONS=suppressions=$root/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
export UBSAN_OPTIONS=print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}

# The harnesses' scratch files (inputs written out, received data sets) in memory, removed at exit
# even when a harness crashed.
export LSTV_FUZZ_SCRATCH
LSTV_FUZZ_SCRATCH=$(mktemp -d /dev/shm/lstv-fuzz-run.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$LSTV_FUZZ_SCRATCH"' EXIT

status=0
for h in "${harnesses[@]}"; do
  corpus=$out/corpus/$h findings=$out/findings/$h log=$out/$h.log
  rm -rf "$corpus"
  mkdir -p "$corpus" "$findings"
  echo "fuzz: $h for ${seconds} s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  rc=0
  ASAN_OPTIONS=${asan_options[$h]}${ASAN_OPTIONS:+:$ASAN_OPTIONS} "$build/${h}_fuzzer" "$corpus" "$out/seeds/$h" -max_total_time="$seconds" -timeout="${input_timeout[$h]}" "${limits[@]}" \
    -dict="fuzz/$h.dict" -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1 || rc=$?
  # The summary: libFuzzer's last status line (coverage), its final stats and the harness's counters.
  grep -E '^#[0-9]+' "$log" | tail -1 || true
  grep -E '^(stat::|fuzz-count:|fuzz-finding:)' "$log" || true
  echo "fuzz: $h done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  if ((rc != 0)); then
    status=1
    artifact=$(grep -o "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')
    echo "fuzz: $h FAILED (exit $rc): see $log" >&2
    grep -E 'ERROR: |SUMMARY: |runtime error|fuzz-finding' "$log" | head -5 >&2 || true
    [[ -n $artifact ]] && echo "fuzz: reproduce with: ASAN_OPTIONS=${asan_options[$h]} LSAN_OPTIONS=suppressions=fuzz/lsan.supp" \
      "$build/${h}_fuzzer ${limits[*]} $artifact (with LSTV_FUZZ_SCP_LOG=1 the association harness prints the SCP's log)" >&2
  fi
done
exit $status
