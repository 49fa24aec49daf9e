"""`lstv-node analyze` against the reference Python code (issue 3's "done means").

The fixture (tests/integration/fixtures/analyze, made by tools/make_analyze_fixture.py with torch) is
a checkpoint of the reference network family saved with `torch.save({'state_dict': ...})`, converted
by tools/convert_checkpoint.py into ``reference_small.safetensors``, and ``expected.json``: what
tools/lstv_tools/reference.py (pydicom, rescale, order along the normal, whole-volume min-max, cv2
resize, middle slice, normalisation) plus the torch network say about the three shared sagittal
series: per-level metrics, points on the original grid and in patient mm, risk.

Here (no torch needed) the real binary analyses the shared studies with that model and must agree:
metrics within 1e-4, points within 1e-3 px / 1e-3 mm, the same risk. Plus the CLI's edges: CSV,
--output, unreadable files in a series folder, a missing model, a model with a wrong tensor shape.

Needs ``LSTV_NODE_BIN`` and ``<repo>/../shared/data/lumbar/dicom``; without them the tests FAIL.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

import nodeproc

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "analyze"
MODEL = FIXTURES / "reference_small.safetensors"
LEVELS = ["l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1"]
METRICS = ["peak_confidence", "entropy", "spatial_entropy"]
METRIC_TOL = 1e-4
PX_TOL = 1e-3
MM_TOL = 1e-3
# The reference CSV (the reference code's columns, in order).
CSV_HEADER = (["study_id", "series_id"]
              + [f"{lv}_{m}" for lv in LEVELS for m in ("confidence", "entropy", "spatial_entropy")]
              + ["risk"])
CSV_METRIC = {"confidence": "peak_confidence", "entropy": "entropy", "spatial_entropy": "spatial_entropy"}
# The node's own columns (issue 11), appended after the reference's so those keep their places.
CSV_APPENDED = ["lstv_suspicion", "suspicion_scale", "lumbar_count", "lumbar_count_probability", "junction", "ladder",
                "suspicion_reasons"]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def binary() -> str:
    return nodeproc.node_binary()


@pytest.fixture(scope="module")
def dicom_root() -> Path:
    return nodeproc.lumbar_dicom_dir()


@pytest.fixture(scope="module")
def expected() -> dict:
    path = FIXTURES / "expected.json"
    if not path.is_file() or not MODEL.is_file():
        pytest.fail(f"analyze fixture missing in {FIXTURES}: regenerate with "
                    ".venv-tools/bin/python tools/make_analyze_fixture.py", pytrace=False)
    return json.loads(path.read_text())


def analyze(binary: str, *args, timeout: float = 300) -> subprocess.CompletedProcess:
    """`lstv-node analyze ARGS` with the built-in configuration (no LSTV_NODE_CONFIG from outside)."""
    env = {k: v for k, v in os.environ.items() if k != "LSTV_NODE_CONFIG"}
    return subprocess.run([binary, "analyze", *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def explain(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"


@pytest.fixture(scope="module")
def json_run(binary, dicom_root) -> tuple[subprocess.CompletedProcess, list[dict]]:
    proc = analyze(binary, "--model", MODEL, "--format", "json", dicom_root)
    assert proc.returncode == 0, explain(proc)
    try:
        reports = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        pytest.fail(f"analyze --format json printed no JSON ({e}):\n{explain(proc)}")
    return proc, reports


def by_series(reports: list[dict]) -> dict[str, dict]:
    return {r["series_instance_uid"]: r for r in reports}


# ------------------------------------------------------------------ agreement with the reference


def test_fixture_is_what_the_tool_wrote(expected):
    assert sha256_file(MODEL) == expected["model"]["sha256"], "reference_small.safetensors does not match expected.json"
    assert MODEL.stat().st_size < 1024 * 1024
    assert len(expected["series"]) == 3


def test_routes_exactly_the_three_sagittal_series(json_run, expected):
    proc, reports = json_run
    want = {s["series_instance_uid"] for s in expected["series"]}
    got = {r["series_instance_uid"] for r in reports}
    assert got == want, f"analysed {sorted(got)}, expected the sagittal series {sorted(want)}"
    assert len(reports) == 3
    assert all(r["status"] == "analysed" for r in reports), [(r["series_instance_uid"], r.get("error")) for r in reports]
    for ax in expected["not_analysed"]:
        lines = [ln for ln in proc.stderr.splitlines() if ax["series_instance_uid"] in ln]
        assert lines and all("not analysed" in ln for ln in lines), \
            f"axial series {ax['folder']} ({ax['series_instance_uid']}) not reported as not analysed:\n{proc.stderr}"


def test_metrics_points_and_risk_match_the_reference(json_run, expected):
    _, reports = json_run
    got = by_series(reports)
    sha = sha256_file(MODEL)
    problems, worst = [], {"metric": 0.0, "px": 0.0, "mm": 0.0}
    for exp in expected["series"]:
        r = got[exp["series_instance_uid"]]
        where = exp["folder"]
        assert r["model"]["sha256"] == sha, f"{where}: model.sha256 {r['model']['sha256']} != file sha256 {sha}"
        assert r["model"]["name"] == expected["model"]["name"] and r["model"]["version"] == expected["model"]["version"]
        assert r["study_instance_uid"] == exp["study_instance_uid"]
        assert r["instances"] == exp["instances"]
        for k in ("index", "count", "sop_instance_uid", "rows", "columns"):
            if r["slice"][k] != exp["slice"][k]:
                problems.append(f"{where}: slice.{k} {r['slice'][k]!r} != reference {exp['slice'][k]!r}")
        for lv in LEVELS:
            e, g = exp["levels"][lv], r["levels"][lv]
            for m in METRICS:
                d = abs(g[m] - e[m])
                worst["metric"] = max(worst["metric"], d)
                if not d <= METRIC_TOL:
                    problems.append(f"{where} {lv}.{m}: node {g[m]!r} reference {e[m]!r} (|d| {d:.3g})")
            for key, tol in (("point_px", PX_TOL), ("point_mm", MM_TOL)):
                if (g[key] is None) != (e[key] is None):
                    problems.append(f"{where} {lv}.{key}: node {g[key]} reference {e[key]}")
                    continue
                if e[key] is None:
                    continue
                assert len(g[key]) == len(e[key])
                d = max(abs(a - b) for a, b in zip(g[key], e[key]))
                worst[key[6:]] = max(worst[key[6:]], d)
                if not d <= tol:
                    problems.append(f"{where} {lv}.{key}: node {g[key]} reference {e[key]} (max |d| {d:.3g})")
        d = abs(r["risk_entropy"] - exp["risk_entropy"])
        if not d <= METRIC_TOL:
            problems.append(f"{where} risk_entropy: node {r['risk_entropy']!r} reference {exp['risk_entropy']!r}")
        if r["risk"] != exp["risk"]:
            problems.append(f"{where} risk: node {r['risk']!r} reference {exp['risk']!r}")
        assert r["risk_thresholds"] == expected["risk_thresholds"]
    print(f"max |node - reference|: metrics {worst['metric']:.3g}, point_px {worst['px']:.3g}, point_mm {worst['mm']:.3g}")
    assert not problems, "lstv-node analyze disagrees with the reference:\n" + "\n".join(problems)


def test_the_fixture_exercises_points_absent_points_and_several_risks(expected):
    """Guards the fixture itself: a regenerated one must keep the test meaningful."""
    points = [s["levels"][lv]["point_px"] is not None for s in expected["series"] for lv in LEVELS]
    assert any(points) and not all(points)
    assert len({s["risk"] for s in expected["series"]}) > 1


# ------------------------------------------------------------------ output formats


def test_csv_has_the_reference_columns_and_the_same_numbers(binary, dicom_root, json_run, expected):
    proc = analyze(binary, "--model", MODEL, "--format", "csv", dicom_root)
    assert proc.returncode == 0, explain(proc)
    rows = list(csv.reader(io.StringIO(proc.stdout.strip())))
    assert rows[0] == CSV_HEADER + CSV_APPENDED
    body = rows[1:]
    assert len(body) == 3, proc.stdout
    js = by_series(json_run[1])
    exp = {s["series_instance_uid"]: s for s in expected["series"]}
    for row in body:
        rec = dict(zip(CSV_HEADER + CSV_APPENDED, row))
        assert len(row) == len(CSV_HEADER + CSV_APPENDED)
        sid = rec["series_id"]
        assert sid in exp, f"CSV series {sid} is not one of the sagittal series"
        assert rec["study_id"] == exp[sid]["study_instance_uid"]
        for lv in LEVELS:
            for col, m in CSV_METRIC.items():
                text = rec[f"{lv}_{col}"]
                assert text == f"{js[sid]['levels'][lv][m]:.6f}", f"{sid} {lv}_{col}: CSV {text} vs JSON {js[sid]['levels'][lv][m]}"
                assert abs(float(text) - exp[sid]["levels"][lv][m]) <= METRIC_TOL + 5e-7
        assert rec["risk"] == exp[sid]["risk"]
        # This model carries no suspicion calibration: the suspicion is the reference's L5/S1 entropy.
        assert rec["suspicion_scale"] == js[sid]["suspicion"]["scale"] == "l5s1_entropy_nats"
        assert rec["lstv_suspicion"] == f"{js[sid]['lstv_suspicion']:.6f}"
        assert abs(float(rec["lstv_suspicion"]) - exp[sid]["risk_entropy"]) <= METRIC_TOL + 5e-7
        assert rec["ladder"] == js[sid]["ladder"]["status"]


def test_output_writes_the_file(binary, dicom_root, json_run, tmp_path):
    out = tmp_path / "report.json"
    proc = analyze(binary, "--model", MODEL, "--format", "json", "--output", out, dicom_root)
    assert proc.returncode == 0, explain(proc)
    assert out.is_file(), f"--output {out} not written\n{explain(proc)}"
    assert proc.stdout.strip() == "", "with --output the report must not go to stdout"
    assert json.loads(out.read_text()) == json_run[1]


def test_profile_names_each_stage_and_times_each_series(binary, dicom_root, json_run):
    """`--profile`: one JSON line on stderr with the scan and every stage of the analysis, and one time
    per analysed series that covers its stages (the stdout report is unchanged)."""
    proc = analyze(binary, "--model", MODEL, "--format", "json", "--jobs", "1", "--profile", dicom_root)
    assert proc.returncode == 0, explain(proc)
    assert json.loads(proc.stdout) == json_run[1]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("lstv-node analyze: profile: ")]
    assert len(lines) == 1, explain(proc)
    profile = json.loads(lines[0].split("profile: ", 1)[1])
    stages = profile["stages"]
    assert list(stages) == ["scan", "read", "range", "scale", "resize", "input", "network", "metrics", "evidence", "assemble"]
    assert all(v > 0 for v in stages.values()), stages
    series = profile["series_seconds"]
    assert len(series) == len(json_run[1])
    assert sum(v for k, v in stages.items() if k != "scan") <= sum(series), (stages, series)
    assert profile["jobs"] == 1 and profile["threads"] >= 1


# ------------------------------------------------------------------ unreadable input, bad models


def test_unreadable_files_in_a_series_folder_are_reported_not_silently_skipped(binary, dicom_root, tmp_path):
    """A text file and a real slice cut short (header intact, pixel data truncated) in a copy of one
    series. Current behaviour: both are listed on stderr as unreadable and skipped; the series is
    analysed from the remaining 66 slices (exit 0)."""
    series = tmp_path / "FCS-IVD-11" / "01_T2_TSE_SAG"
    shutil.copytree(dicom_root / "FCS-IVD-11" / "01_T2_TSE_SAG", series)
    files = sorted(series.glob("*.dcm"))
    n = len(files)
    broken = files[9]
    data = broken.read_bytes()
    broken.write_bytes(data[:3000])  # the pixel data starts before 3000 bytes in these files
    assert len(data) > 3000
    text = series / "notes.txt"
    text.write_text("not a DICOM file\n")

    proc = analyze(binary, "--model", MODEL, "--format", "json", tmp_path)
    unreadable = [ln for ln in proc.stderr.splitlines() if "unreadable" in ln]
    for path in (broken, text):
        assert any(str(path) in ln for ln in unreadable), f"{path.name} not reported as unreadable:\n{explain(proc)}"
    assert proc.returncode == 0, explain(proc)
    reports = json.loads(proc.stdout)
    assert len(reports) == 1 and reports[0]["status"] == "analysed", explain(proc)
    assert reports[0]["instances"] == n - 1
    assert reports[0]["slice"]["count"] == n - 1


def test_missing_model_file_fails_with_a_clear_message(binary, dicom_root, tmp_path):
    missing = tmp_path / "no-such-model.safetensors"
    proc = analyze(binary, "--model", missing, "--format", "json", dicom_root / "FCS-IVD-11")
    assert proc.returncode != 0, explain(proc)
    assert str(missing) in proc.stderr and "not found" in proc.stderr, explain(proc)
    assert proc.stdout.strip() == ""


def rewrite_tensor_shape(src: Path, dst: Path, name: str, shape: list[int]) -> list[int]:
    """Copy a safetensors file with one tensor's shape changed in the header (same element count,
    so the byte ranges stay valid and only the architecture check can catch it)."""
    raw = src.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    old = header[name]["shape"]
    count = 1
    for d in old:
        count *= d
    new_count = 1
    for d in shape:
        new_count *= d
    assert new_count == count, "keep the element count"
    header[name]["shape"] = shape
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    dst.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n:])
    return old


def test_model_with_a_wrong_tensor_shape_is_refused_naming_the_tensor(binary, dicom_root, tmp_path):
    tensor = "decoder.block.4.conv2.0.weight"
    bad = tmp_path / "bad_shape.safetensors"
    old = rewrite_tensor_shape(MODEL, bad, tensor, [8, 8, 9, 1])
    assert old == [8, 8, 3, 3]
    proc = analyze(binary, "--model", bad, "--format", "json", dicom_root / "FCS-IVD-11")
    assert proc.returncode != 0, explain(proc)
    assert tensor in proc.stderr, explain(proc)
    assert "shape" in proc.stderr, explain(proc)
    assert proc.stdout.strip() == ""
