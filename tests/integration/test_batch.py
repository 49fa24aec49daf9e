"""`lstv-node analyze` at scale (issue 13): `--jobs N` analyses series in parallel and prints exactly
what `--jobs 1` prints; a summary line closes every run; on a terminal a progress line shows the bar,
the rate and the time left.

The real binary with the bundled model and locator (each job its own engine sessions) on the three
shared studies (three sagittal series routed, three axial ones ignored).

Needs ``LSTV_NODE_BIN`` and ``<repo>/../shared/data/lumbar/dicom``; without them the tests FAIL.
"""
from __future__ import annotations

import errno
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import nodeproc
from test_analyze import MODEL as SMALL_MODEL, binary, dicom_root, explain  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[2]
BUNDLED = ["--model", str(REPO / "models" / "lstv-localizer.safetensors"),
           "--locator", str(REPO / "models" / "lstv-thoracolumbar.safetensors")]
SUMMARY = re.compile(r"lstv-node analyze: summary: (\d+) series analysed, (\d+) ignored \(not routed to the localizer\), "
                     r"(\d+) unreadable files?, (\d+) failed$")
#: One state of the progress line (BatchProgress.line).
PROGRESS = re.compile(r"\[([#-]{30})\] (\d+)/(\d+) series  (--|\d+\.\d) series/min  (--:--|\d+:\d\d(?::\d\d)?) left")


def env() -> dict[str, str]:
    """The built-in configuration (no LSTV_NODE_CONFIG from outside)."""
    return {k: v for k, v in os.environ.items() if k != "LSTV_NODE_CONFIG"}


def analyze(binary: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "analyze", *map(str, args)], capture_output=True, text=True, timeout=600, env=env(),
                          cwd=REPO)


def summary(proc: subprocess.CompletedProcess) -> tuple[int, int, int, int]:
    """(analysed, ignored, unreadable files, failed) from the one summary line on stderr."""
    lines = [ln for ln in proc.stderr.splitlines() if "summary:" in ln]
    assert len(lines) == 1, f"one summary line expected:\n{explain(proc)}"
    m = SUMMARY.search(lines[0])
    assert m, f"summary line not as documented: {lines[0]!r}"
    return tuple(int(g) for g in m.groups())


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_two_jobs_print_exactly_what_one_job_prints(binary, dicom_root, fmt):
    one = analyze(binary, *BUNDLED, "--format", fmt, "--jobs", 1, dicom_root)
    assert one.returncode == 0, explain(one)
    two = analyze(binary, *BUNDLED, "--format", fmt, "--jobs", 2, dicom_root)
    assert two.returncode == 0, explain(two)
    assert two.stdout == one.stdout, f"--jobs 2 output differs from --jobs 1 ({fmt})"
    assert len(one.stdout) > 500
    for p in (one, two):
        # The data holds three studies, each a sagittal T2 (analysed) and an axial reformat (ignored).
        assert summary(p) == (3, 3, 0, 0)
        # Not a terminal: no progress line.
        assert "series/min" not in p.stderr
    if fmt == "json":
        # More jobs than series: as many analyzers as series, the same output.
        many = analyze(binary, *BUNDLED, "--format", fmt, "--jobs", 8, dicom_root)
        assert many.returncode == 0 and many.stdout == one.stdout, explain(many)


def crop_one_slice(series: Path) -> Path:
    """One slice of a series copy cut to 100x100 (valid DICOM): left out, the rest analysed."""
    import pydicom

    f = nodeproc.dicom_files(series)[5]
    ds = pydicom.dcmread(f)
    arr = ds.pixel_array[:100, :100].copy()
    ds.Rows, ds.Columns = arr.shape
    ds.PixelData = arr.tobytes()
    ds.save_as(f, enforce_file_format=True)
    return f


def strip_pixels(files: list[Path]) -> None:
    """Removes the pixel data of ``files`` (valid DICOM without an image)."""
    import pydicom

    for f in files:
        ds = pydicom.dcmread(f)
        del ds.PixelData
        ds.save_as(f, enforce_file_format=True)


def test_unreadable_files_and_failed_series_are_counted_and_fail_the_run(binary, dicom_root, tmp_path):
    shutil.copytree(dicom_root / "FCS-IVD-11" / "01_T2_TSE_SAG", tmp_path / "a")
    shutil.copytree(dicom_root / "FCS-IVD-20" / "01_T2_TSE_SAG", tmp_path / "b")
    shutil.copytree(dicom_root / "FCS-IVD-25" / "02_T2_AX_REFORMAT", tmp_path / "c")
    # Three slices of a sagittal series, two of them without pixel data: too few usable, it fails.
    (tmp_path / "d").mkdir()
    for f in nodeproc.dicom_files(dicom_root / "FCS-IVD-25" / "01_T2_TSE_SAG")[:3]:
        shutil.copy(f, tmp_path / "d" / f.name)
    strip_pixels(nodeproc.dicom_files(tmp_path / "d")[:2])
    (tmp_path / "a" / "notes.txt").write_text("not a DICOM file\n")
    (tmp_path / "DICOMDIR-like").write_bytes(b"\0" * 200)
    cropped = nodeproc.read_uids(crop_one_slice(tmp_path / "b"))[2]
    _, mixed = nodeproc.series_uids(tmp_path / "b")
    _, failing = nodeproc.series_uids(tmp_path / "d")

    runs = [analyze(binary, "--model", SMALL_MODEL, "--format", "json", "--jobs", j, tmp_path) for j in (1, 2)]
    for p in runs:
        assert p.returncode == 1, f"a failed series must fail the run:\n{explain(p)}"
        assert summary(p) == (2, 1, 2, 1)
        failed = [ln for ln in p.stderr.splitlines() if f"series {failing} failed" in ln]
        assert len(failed) == 1 and "only 1 of 3 instances usable" in failed[0] and "no pixel data" in failed[0], explain(p)
    assert runs[1].stdout == runs[0].stdout
    reports = {r["series_instance_uid"]: r for r in json.loads(runs[0].stdout)}
    assert reports[failing]["status"] == "failed"
    # The slice of another size is left out and named; the series is analysed from the others.
    assert reports[mixed]["status"] == "analysed"
    assert [e["instance"] for e in reports[mixed]["excluded_instances"]] == [cropped]
    assert reports[mixed]["excluded_instances"][0]["reason"].startswith("rows/columns 100x100 differ"), reports[mixed]
    assert reports[mixed]["slice"]["count"] == len(nodeproc.dicom_files(tmp_path / "b")) - 1
    assert all("excluded_instances" not in r for u, r in reports.items() if u != mixed)


def read_pty_until_eof(master: int, proc: subprocess.Popen, timeout: float) -> bytes:
    """Everything written to the pty until the child closes it (EIO on Linux, or EOF)."""
    chunks, deadline = [], time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            proc.kill()
            pytest.fail(f"analyze did not finish within {timeout}s; terminal output so far: {b''.join(chunks)[-2000:]!r}")
        ready, _, _ = select.select([master], [], [], left)
        if not ready:
            continue
        try:
            data = os.read(master, 65536)
        except OSError as e:
            if e.errno == errno.EIO:
                return b"".join(chunks)
            raise
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def test_progress_line_on_a_terminal_shows_bar_rate_and_time_left(binary, dicom_root, tmp_path):
    master, slave = os.openpty()
    out = tmp_path / "out.csv"
    with open(out, "wb") as stdout:
        proc = subprocess.Popen([binary, "analyze", *BUNDLED, "--format", "csv", "--jobs", "2", str(dicom_root)],
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=slave, env=env(), cwd=REPO)
    os.close(slave)  # the child holds the only other end: its exit ends the reads
    try:
        text = read_pty_until_eof(master, proc, 600).decode("utf-8", "replace")
    finally:
        os.close(master)
    assert proc.wait(timeout=60) == 0, text[-3000:]
    # Each redraw starts with a carriage return and an erase-line; lines end \r\n on a pty.
    states = [m.groups() for m in PROGRESS.finditer(text)]
    assert states, f"no progress line on the terminal:\n{text[-3000:]!r}"
    done = [int(s[1]) for s in states]
    assert all(int(s[2]) == 3 for s in states)
    assert done == sorted(done), f"progress went backwards: {done}"
    first, last = states[0], states[-1]
    assert first[1:] == ("0", "3", "--", "--:--"), f"first state {first}"
    assert last[0] == "#" * 30 and last[1] == "3" and last[4] == "0:00", f"final state {last}"
    assert float(last[3]) > 0, f"final rate {last[3]}"
    assert set(done) == {0, 1, 2, 3}, f"one redraw per finished series expected: {done}"
    for s in states[1:]:
        assert s[3] != "--" and s[4] != "--:--", f"rate and time left once a series has finished: {s}"
    # The bar's last state is on its own line; the summary follows it.
    after = text[text.rindex("series/min"):]
    assert "summary: 3 series analysed, 3 ignored" in after
    assert out.read_text().count("\n") == 4, "the CSV (header + 3 series) went to stdout, not to the terminal"
