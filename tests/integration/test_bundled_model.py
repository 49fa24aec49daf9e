"""The bundled localizer (models/lstv-localizer.safetensors, issue 4) loads and localises a shared study.

`lstv-node analyze` with no `--model` (and no LSTV_MODEL / LSTV_NODE_CONFIG) must use the bundled
model, report its name, version and sha256, and, on the shared study FCS-IVD-25 (a validation
subject: never seen in training, which the model's own `training` metadata is checked to say),
find all five disc levels on the sagittal series within the model card's error bound, with a
consistent ladder.

Ground truth: ``<repo>/../shared/data/lumbar/fastcleverseg/fcs_ivd_25/labels.json``, 3D centroids
of the manual disc masks in voxel indices (axis 0 = superior->inferior, axis 1 = anterior->posterior,
axis 2 = left/right). The DICOM series was built from that very array: sagittal
ImageOrientationPatient [0,1,0, 0,0,-1] (along a row: +y = posterior; down a column: -z = inferior),
1 mm pixels, so the DICOM pixel (row, col) is the label's (axis 0, axis 1); slice j of the series
(ordered along the normal, as the node orders it) holds label plane axis2 = 66 - j, which is also its
ImagePositionPatient x (checked offline against image.nii.gz). The node analyses the middle slice
(index 33 = axis2 33); the disc centroids lie at axis2 32.7-34.8, so the comparison is in-plane:
(row, col) of `point_px` against (axis0, axis1) of the centroid, times the pixel spacing.

Error bound: models/MODEL_CARD.md. Measured through the Swift engine (models/VALIDATION_SWIFT.json),
disc points on correctly counted ladders have p90 1.44 px at 160x160 (max 8.4 px) and, on the 1 mm
validation volumes, median 0.82 mm, p90 2.34 mm, max 3.57 mm (119 points). The card's bound for a
correctly counted ladder is 5 mm (the issue's "within 5 mm" criterion, above that p90 and max);
FCS-IVD-25 itself measures under 1 mm. A level shift (the model family's known failure: none of the 39 validation
subjects with this model, 1 to 3 with its sister seeds) would put a point ~30 mm off and fail this test; the ladder must also be consistent under
the node's default check (discs, landmarks, stability passes).

CI has no torch: this reads the model header with the standard library and the DICOM with pydicom.
Needs ``LSTV_NODE_BIN`` and the shared data; without them the test FAILS (never skips).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import subprocess
from pathlib import Path

import pytest

import nodeproc

REPO = nodeproc.REPO_ROOT
MODEL = REPO / "models" / "lstv-localizer.safetensors"
STUDY = "FCS-IVD-25"
SUBJECT = "fcs_ivd_25"
LEVELS = {"L1/L2": "l1_l2", "L2/L3": "l2_l3", "L3/L4": "l3_l4", "L4/L5": "l4_l5", "L5/S1": "l5_s1"}
ERROR_BOUND_MM = 5.0      # models/MODEL_CARD.md: localisation bound for a correctly counted ladder
OUT_OF_PLANE_MAX_MM = 3.0  # the analysed slice must be the labelled mid-sagittal region


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def safetensors_metadata(path: Path) -> dict:
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    return header.get("__metadata__", {})


@pytest.fixture(scope="module")
def binary() -> str:
    return nodeproc.node_binary()


@pytest.fixture(scope="module")
def data_root() -> Path:
    return nodeproc.lumbar_dicom_dir().parent


@pytest.fixture(scope="module")
def model_meta() -> dict:
    if not MODEL.is_file():
        pytest.fail(f"bundled model missing: {MODEL}", pytrace=False)
    return safetensors_metadata(MODEL)


@pytest.fixture(scope="module")
def labels(data_root) -> dict:
    path = data_root / "fastcleverseg" / SUBJECT / "labels.json"
    if not path.is_file():
        pytest.fail(f"labels missing: {path}", pytrace=False)
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def sagittal(data_root) -> Path:
    path = data_root / "dicom" / STUDY / "01_T2_TSE_SAG"
    if not path.is_dir():
        pytest.fail(f"DICOM series missing: {path}", pytrace=False)
    return path


@pytest.fixture(scope="module")
def result(binary, sagittal) -> dict:
    """`lstv-node analyze --format json` on the sagittal series, bundled model, built-in configuration."""
    env = {k: v for k, v in os.environ.items() if k not in ("LSTV_NODE_CONFIG", "LSTV_MODEL")}
    proc = subprocess.run([binary, "analyze", "--format", "json", str(sagittal)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=REPO)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    series = json.loads(proc.stdout)
    assert len(series) == 1, f"expected one analysed series, got {len(series)}"
    assert series[0]["status"] == "analysed", series[0]
    return series[0]


def test_bundled_model_is_the_default(result, model_meta):
    m = result["model"]
    assert m["name"] == "lstv-localizer"
    assert m["sha256"] == sha256_file(MODEL), "analyze without --model did not use models/lstv-localizer.safetensors"
    assert m["version"] == model_meta["version"]


def test_study_is_unseen_in_training(model_meta):
    training = json.loads(model_meta["training"])
    assert SUBJECT in training["validation_subjects"]
    assert hashlib.sha256(SUBJECT.encode()).hexdigest() not in set(training["train_subjects_sha256"]), \
        f"{SUBJECT} was trained on: pick a validation subject for this test"


def test_dicom_grid_matches_label_axes(sagittal):
    import pydicom
    files = sorted(sagittal.glob("*.dcm"))
    assert files, f"no DICOM files in {sagittal}"
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    assert [round(float(x)) for x in ds.ImageOrientationPatient] == [0, 1, 0, 0, 0, -1]
    assert (int(ds.Rows), int(ds.Columns)) == (221, 221)
    assert [float(x) for x in ds.PixelSpacing] == [1.0, 1.0]


def test_five_levels_within_card_bound(result, labels, sagittal):
    import pydicom
    files = sorted(sagittal.glob("*.dcm"))
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    row_mm, col_mm = (float(x) for x in ds.PixelSpacing)
    assert result["slice"]["rows"] == labels["shape"][0] and result["slice"]["columns"] == labels["shape"][1]
    levels = result["levels"]
    errors = {}
    for name, key in LEVELS.items():
        lv = levels.get(key)
        assert lv is not None and lv.get("point_px") is not None, f"{name} not found: {levels.get(key)}"
        r, c = lv["point_px"]
        tr, tc, tz = labels["disc_points"][name]["vox"]
        # The analysed plane (point_mm x = IPP x = label axis2, 1 mm) must be near the labelled centroid.
        assert abs(lv["point_mm"][0] - tz) <= OUT_OF_PLANE_MAX_MM, (name, lv["point_mm"], tz)
        errors[name] = math.hypot((r - tr) * row_mm, (c - tc) * col_mm)
    bad = {k: round(v, 2) for k, v in errors.items() if v > ERROR_BOUND_MM}
    assert not bad, f"errors above {ERROR_BOUND_MM} mm: {bad} (all: {errors})"
    rows = [levels[k]["point_px"][0] for k in LEVELS.values()]
    assert rows == sorted(rows), f"levels not ordered top to bottom: {rows}"


def test_ladder_consistent(result):
    assert result["ladder"]["status"] == "consistent", result["ladder"]


def _middle_slice_160(sagittal: Path) -> tuple:
    """The middle slice of the series as the node prepares it, up to the resize: whole-series min-max
    to 8 bits, then bilinear to 160x160 (numpy, half-pixel centres like cv2; not bit-exact, which
    this test does not need). -> (uint8 160x160, rows, columns, index of the slice)."""
    import numpy as np
    import pydicom
    slices = [pydicom.dcmread(p) for p in sorted(sagittal.glob("*.dcm"))]
    slices.sort(key=lambda d: float(d.ImagePositionPatient[0]))  # along the normal (sagittal: x)
    vol = np.stack([d.pixel_array.astype(np.float64) for d in slices])
    vol8 = ((vol - vol.min()) / (vol.max() - vol.min()) * 255).astype(np.uint8)
    k = len(slices) // 2
    img = vol8[k].astype(np.float64)
    rows, cols = img.shape

    def coords(n_out, n_in):
        x = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        i0 = np.floor(x).astype(int)
        return i0, np.minimum(i0 + 1, n_in - 1), x - i0

    r0, r1, fr = coords(160, rows)
    c0, c1, fc = coords(160, cols)
    top = img[r0][:, c0] * (1 - fc) + img[r0][:, c1] * fc
    bottom = img[r1][:, c0] * (1 - fc) + img[r1][:, c1] * fc
    out = top * (1 - fr[:, None]) + bottom * fr[:, None]
    return np.round(out).astype(np.uint8), rows, cols, k


def test_evaluate_reports_points_and_the_ladder_flag(binary, sagittal, labels, tmp_path):
    """`lstv-node evaluate` (the model card's measurement path) on prepared slices: every class of the
    bundled model, the five discs near the labels, the node's ladder flag consistent; the same slice
    intensity-inverted (out of distribution) must not pass the flag."""
    import numpy as np
    img, rows, cols, _ = _middle_slice_160(sagittal)
    npy = tmp_path / "slices.npy"
    np.save(npy, np.stack([img, 255 - img]))
    out = tmp_path / "out.json"
    env = {k: v for k, v in os.environ.items() if k not in ("LSTV_NODE_CONFIG", "LSTV_MODEL")}
    proc = subprocess.run([binary, "evaluate", "--images", str(npy), "--output", str(out)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["model"]["sha256"] == sha256_file(MODEL)
    normal, inverted = res["results"]
    classes = json.loads(safetensors_metadata(MODEL)["classes"])
    assert sorted(normal["classes"]) == sorted(classes[1:])
    for name in LEVELS:
        point = normal["classes"][name]["point"]
        assert point is not None, f"{name} not found"
        tr, tc, _ = labels["disc_points"][name]["vox"]
        # Label voxel (row, col) on the 221 grid -> 160 grid (half-pixel convention), 1 mm pixels.
        er = (point[0] + 0.5) * rows / 160 - 0.5 - tr
        ec = (point[1] + 0.5) * cols / 160 - 0.5 - tc
        assert math.hypot(er, ec) <= ERROR_BOUND_MM, (name, point, (tr, tc))
        # One disc, one site: the point is that site's centroid, not a mean across discs.
        sites = normal["classes"][name]["sites"]
        assert len(sites) == 1 and math.dist(sites[0], point) < 1.0, (name, sites, point)
    assert normal["ladder"] == {"status": "consistent", "reasons": []}
    assert inverted["ladder"]["status"] != "consistent", inverted["ladder"]
    assert inverted["ladder"]["reasons"], inverted["ladder"]
