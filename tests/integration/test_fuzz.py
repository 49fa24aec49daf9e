"""The fuzz harnesses (fuzz/, run by scripts/fuzz.sh) in a bounded run: each is built with the Swift
toolchain's clang++ under AddressSanitizer and UndefinedBehaviorSanitizer, started on its seed corpus
and fuzzed for FUZZ_SECONDS; a crash, a sanitizer report, a leak or a hang fails the test. The
counters the harnesses print at exit show that the seeds reach the paths they are there for (a broken
seed generator would otherwise leave the harness fuzzing the first bytes of a parser)."""
from __future__ import annotations

import os
import re
import subprocess

import pytest

import nodeproc

# Per harness. With the build (seconds when incremental) the two stay within about a minute.
FUZZ_SECONDS = 20

# The counters (fuzz_support.h) each harness must have moved: every path its seeds were built for.
REACHED = {
    "dataset": ["headers read", "frames decoded"],
    "association": ["associations accepted", "associations rejected", "data sets stored", "data sets refused",
                    "stored data sets decoded", "probes answered"],
}


@pytest.mark.parametrize("harness", sorted(REACHED))
def test_fuzzing_finds_no_crash(harness, tmp_path, lumbar_root):
    env = dict(os.environ, LSTV_TEST_DICOM_DIR=str(lumbar_root))
    proc = subprocess.run([str(nodeproc.REPO_ROOT / "scripts" / "fuzz.sh"), "--seconds", str(FUZZ_SECONDS),
                           "--out", str(tmp_path), harness],
                          capture_output=True, text=True, env=env, timeout=FUZZ_SECONDS + 300)
    log = tmp_path / f"{harness}.log"
    assert proc.returncode == 0, (f"fuzzing {harness} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n"
                                  + nodeproc.tail(log, 60))
    executed = re.search(r"^stat::number_of_executed_units:\s+(\d+)$", proc.stdout, re.M)
    assert executed, f"no final stats from libFuzzer:\n{proc.stdout}"
    seeds = len(list((tmp_path / "seeds" / harness).iterdir()))
    assert int(executed.group(1)) > seeds, f"only the {seeds} seeds ran, nothing was fuzzed:\n{proc.stdout}"
    counts = {name: int(n) for name, n in re.findall(r"^fuzz-count: (.+): (\d+)$", proc.stdout, re.M)}
    unreached = [name for name in REACHED[harness] if counts.get(name, 0) == 0]
    assert not unreached, f"the seeds never reached: {unreached}\n{proc.stdout}"
