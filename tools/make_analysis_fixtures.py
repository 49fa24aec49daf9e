#!/usr/bin/env python3
"""Fixtures for Tests/AnalysisTests: what the Swift Analysis module must reproduce, made by
tools/lstv_tools/reference.py (numpy + cv2) so that the Swift tests compare against the real thing.

Files (all little-endian, row-major), described by manifest.json:
  * resize: source images are NOT stored: they come from a tiny PRNG that the Swift test reimplements
    (splitmix64 of seed + (i+1)*golden, top byte; "binary" kind = 0/255 by the top bit, to exercise
    saturation). Stored: cv2.resize(img, (dst_cols, dst_rows), INTER_LINEAR), uint8 (*.u8).
  * minmax: a small uint16 volume and a float32 volume with their numpy min-max uint8 volumes.
  * probs: one 6-channel 160x160 softmax map (background + 5 discs) built from Gaussians of several
    widths (sharp ... diffuse, the last with no pixel > 0.5), stored as float16 to stay small; the
    expected metrics are computed in float64 by reference.py from the decoded float16 values.
  * real: the middle slice of FCS-IVD-11/01_T2_TSE_SAG (the DICOM itself is not copied): the raw
    (rescaled) middle slice as uint16, the whole-volume min/max, and the reference 160x160 uint8.

Usage: .venv-tools/bin/python tools/make_analysis_fixtures.py [--out Tests/AnalysisTests/Fixtures]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lstv_tools import reference as ref  # noqa: E402

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
REAL_SERIES = "/work/shared/data/lumbar/dicom/FCS-IVD-11/01_T2_TSE_SAG"


def prng_bytes(seed: int, n: int) -> np.ndarray:
    """splitmix64(seed + (i+1)*golden) >> 56 for i in 0..<n (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (np.arange(1, n + 1, dtype=np.uint64) * GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(56)).astype(np.uint8)


def source_image(seed: int, rows: int, cols: int, kind: str) -> np.ndarray:
    b = prng_bytes(seed, rows * cols).reshape(rows, cols)
    if kind == "binary":
        b = np.where(b >= 128, 255, 0).astype(np.uint8)
    return b


RESIZE_CASES = [  # (rows, cols, dst_rows, dst_cols, kind)
    (221, 221, 160, 160, "noise"), (381, 381, 160, 160, "noise"), (256, 256, 160, 160, "noise"),
    (512, 512, 160, 160, "noise"), (640, 640, 160, 160, "noise"), (100, 100, 160, 160, "noise"),
    (320, 320, 160, 160, "noise"), (221, 300, 160, 160, "noise"), (90, 47, 160, 160, "noise"),
    (512, 448, 160, 160, "binary"), (1, 50, 160, 160, "noise"),
    (300, 200, 37, 61, "noise"), (17, 23, 50, 29, "binary"), (160, 160, 160, 160, "noise"),
]


def gaussian(rows, cols, r0, c0, sigma):
    r = np.arange(rows, dtype=np.float64)[:, None]
    c = np.arange(cols, dtype=np.float64)[None, :]
    return np.exp(-((r - r0) ** 2 + (c - c0) ** 2) / (2 * sigma**2))


def prob_map() -> np.ndarray:
    """Softmax over 6 channels of Gaussian logits: sharp (L1/L2) ... diffuse (L5/S1, peak < 0.5)."""
    size = ref.SIZE
    logits = np.zeros((6, size, size))
    # (row, col, sigma, amplitude): amplitudes/widths chosen to span peaked to flat channels.
    # The background logit sets the floor of every disc channel (e^-12 ~ 6e-6, as a trained net's).
    specs = [(30.3, 80.7, 1.5, 20.0), (55.0, 78.2, 3.0, 18.0), (80.6, 76.1, 6.0, 16.0),
             (104.2, 75.4, 12.0, 13.0), (127.9, 79.8, 25.0, 11.5)]
    for k, (r0, c0, s, a) in enumerate(specs, start=1):
        logits[k] = a * gaussian(size, size, r0, c0, s)
    logits[0] = 12.0  # background
    e = np.exp(logits - logits.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "Tests/AnalysisTests/Fixtures"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"generator": "tools/make_analysis_fixtures.py", "opencv": cv2.__version__, "numpy": np.__version__}

    # ---- resize
    cases = []
    for i, (r, c, dr, dc, kind) in enumerate(RESIZE_CASES):
        seed = 1000 + i
        img = source_image(seed, r, c, kind)
        dst = cv2.resize(img, (dc, dr), interpolation=cv2.INTER_LINEAR)
        name = f"resize_{r}x{c}_to_{dr}x{dc}_{kind}.u8"
        (out / name).write_bytes(dst.tobytes())
        cases.append({"seed": seed, "rows": r, "cols": c, "dst_rows": dr, "dst_cols": dc, "kind": kind,
                      "file": name, "source_checksum": int(img.astype(np.uint64).sum())})
    manifest["resize"] = cases

    # ---- min-max (numpy semantics per dtype)
    rng = np.random.default_rng(42)
    v16 = rng.integers(37, 4000, (3, 20, 24)).astype(np.uint16)
    v16[1, 3, 4], v16[2, 5, 6] = 37, 3999  # the extremes
    (out / "minmax_u16_in.u16").write_bytes(v16.astype("<u2").tobytes())
    (out / "minmax_u16_out.u8").write_bytes(ref.min_max_uint8(v16).tobytes())
    vf = (rng.standard_normal((3, 20, 24)) * 300.0 + 100.0).astype(np.float32)
    (out / "minmax_f32_in.f32").write_bytes(vf.astype("<f4").tobytes())
    (out / "minmax_f32_out.u8").write_bytes(ref.min_max_uint8(vf).tobytes())  # float32 arithmetic
    (out / "minmax_f32_as_f64_out.u8").write_bytes(ref.min_max_uint8(vf.astype(np.float64)).tobytes())
    manifest["minmax"] = {"shape": list(v16.shape), "u16_in": "minmax_u16_in.u16", "u16_out": "minmax_u16_out.u8",
                          "f32_in": "minmax_f32_in.f32", "f32_out_float32": "minmax_f32_out.u8",
                          "f32_out_float64": "minmax_f32_as_f64_out.u8"}

    # ---- probabilities and metrics
    p16 = prob_map().astype(np.float16)
    (out / "probs_6x160x160.f16").write_bytes(p16.astype("<f2").tobytes())
    classes = ["background"] + ref.DISCS
    p = p16.astype(np.float64)
    mets = ref.metrics(p, classes)
    manifest["probs"] = {"file": "probs_6x160x160.f16", "channels": 6, "rows": ref.SIZE, "cols": ref.SIZE,
                         "classes": classes,
                         "metrics": {k: {**v, "point": list(v["point"]) if v["point"] else None} for k, v in mets.items()},
                         "risk": ref.risk(mets["L5/S1"]["entropy"])}

    # ---- real series (skipped when the data is not there)
    if os.path.isdir(REAL_SERIES):
        vol, dss = ref.load_volume(REAL_SERIES)
        mid = len(vol) // 2
        u8 = ref.min_max_uint8(vol)
        s160 = ref.resize160(u8[mid])
        assert vol.dtype == np.uint16
        (out / "real_middle_raw.u16").write_bytes(vol[mid].astype("<u2").tobytes())
        (out / "real_middle_160.u8").write_bytes(s160.tobytes())
        manifest["real"] = {"series": "FCS-IVD-11/01_T2_TSE_SAG", "slices": len(vol), "middle_index": mid,
                            "middle_instance_number": int(dss[mid].InstanceNumber),
                            "rows": int(vol.shape[1]), "cols": int(vol.shape[2]),
                            "volume_min": float(vol.min()), "volume_max": float(vol.max()),
                            "raw": "real_middle_raw.u16", "expected_160": "real_middle_160.u8"}

    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    print(f"wrote {out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
