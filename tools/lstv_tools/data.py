"""Training data for the bundled localizer: the real lumbar MRI in ../shared/data/lumbar.

Reads the read-only data folder (never copies it), prepares every image exactly as the inference
pipeline does (whole-volume 8-bit min-max, bilinear resize to 160x160) and gives, per subject, the
labelled points of each class and the estimated positions of the ladder levels that the subject
does not label (those are ignored in training, not taught as background).

Ladder (top to bottom, half steps): T12/L1, L1, L1/L2, L2, L2/L3, L3, L3/L4, L4, L4/L5, L5, L5/S1, S1.

S1 (the first sacral body, the sacrum anchor) is labelled by no source. It is derived one half
step below L5/S1 along the ladder: L5/S1 + (L5/S1 - L5) where the L5 body is labelled (Tianchi),
else L5/S1 + (L5/S1 - L4/L5) / 2 (discs only); a subject without L5/S1 leaves it unlabelled.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

import cv2
import numpy as np

SIZE = 160
DISCS = ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
LANDMARKS = ["T12/L1", "L1", "L2", "L3", "L4", "L5", "S1"]
CLASSES = ["background"] + DISCS + LANDMARKS
CLASS_INDEX = {c: i for i, c in enumerate(CLASSES)}
LADDER = ["T12/L1", "L1", "L1/L2", "L2", "L2/L3", "L3", "L3/L4", "L4", "L4/L5", "L5", "L5/S1", "S1"]
# Bumped whenever the derived points change, so a cache of parsed samples is never reused across recipes.
DERIVATION = 2
# Volumes: slices used around the labelled mid-sagittal slice (1 mm isotropic data).
VOLUME_OFFSETS = (-3, -2, -1, 0, 1, 2, 3)


def default_data_root() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "data", "lumbar"))


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_text(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def to_uint8(v: np.ndarray) -> np.ndarray:
    """The inference pipeline's 8-bit scaling over the whole volume (or the single 2D slice)."""
    v = v.astype(np.float64)
    mn, mx = float(v.min()), float(v.max())
    if mx <= mn:
        return np.zeros(v.shape, np.uint8)
    return ((v - mn) / (mx - mn) * 255).astype(np.uint8)


def resize160(img_u8: np.ndarray) -> np.ndarray:
    return cv2.resize(img_u8, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)


def to160(p, shape):
    """(row, col) 0-based pixel index in an image of `shape` -> 160x160 (half-pixel convention of cv2)."""
    return ((p[0] + 0.5) * SIZE / shape[0] - 0.5, (p[1] + 0.5) * SIZE / shape[1] - 0.5)


@dataclass
class Sample:
    """One 2D image (original resolution, 8-bit) with its points in original pixels (row, col)."""
    subject_id: str
    source: str            # tianchi | vesal | fcs_ivd | fcs_vb2
    image: np.ndarray      # uint8 HxW, whole-volume min-max already applied
    points: dict           # class name -> (row, col): labelled
    estimated: dict = field(default_factory=dict)  # ladder level -> (row, col): unlabelled, estimated
    spacing: float | None = None   # mm per original pixel (rows), where known
    slice_offset: int = 0


def with_sacrum(points: dict) -> dict:
    """points plus the derived S1 anchor (see the module docstring)."""
    if "L5/S1" not in points or "S1" in points:
        return points
    d = np.array(points["L5/S1"], float)
    if "L5" in points:
        step = d - np.array(points["L5"], float)
    elif "L4/L5" in points:
        step = (d - np.array(points["L4/L5"], float)) / 2
    else:
        return points
    return {**points, "S1": tuple(float(v) for v in d + step)}


def estimate_missing(points: dict) -> dict:
    """Linear interpolation / extrapolation along the ladder for levels a subject does not label."""
    known = [(i, np.array(points[n], float)) for i, n in enumerate(LADDER) if n in points]
    if len(known) < 2:
        return {}
    out = {}
    for i, name in enumerate(LADDER):
        if name in points:
            continue
        lo = [k for k in known if k[0] < i]
        hi = [k for k in known if k[0] > i]
        if lo and hi:
            (i0, p0), (i1, p1) = lo[-1], hi[0]
        elif hi:
            (i0, p0), (i1, p1) = hi[0], hi[1]
        else:
            (i0, p0), (i1, p1) = lo[-2], lo[-1]
        t = (i - i0) / (i1 - i0)
        out[name] = tuple(p0 + t * (p1 - p0))
    return out


def _load_png(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise FileNotFoundError(path)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return img


def load_subject(root: str, entry: dict) -> list[Sample]:
    """All training images of one subject ([] if the subject has no usable level names)."""
    d = os.path.join(root, entry["dir"])
    lab = json.load(open(os.path.join(d, "labels.json")))
    sid = entry["subject_id"]
    if entry["dir"].startswith("tianchi"):
        pts = {k: tuple(v) for k, v in lab.get("points_rowcol", {}).items() if k in CLASS_INDEX}
        if not pts:
            return []
        pts = with_sacrum(pts)
        img = to_uint8(_load_png(os.path.join(d, lab["image"])))
        return [Sample(sid, "tianchi", img, pts, estimate_missing(pts))]
    if entry["dir"].startswith("vesal"):
        named = lab.get("disc_points_rowcol", {})
        if not named:
            return []  # fewer than 5 discs visible: the data gives no level names
        pts = {k: tuple(v) for k, v in named.items()}
        # Same assumption as the data's own naming (lowest disc = L5/S1): the 6th disc from the bottom is T12/L1.
        discs = lab["discs_top_down"]
        if len(discs) >= 6:
            pts["T12/L1"] = tuple(discs[-6]["rowcol"])
        pts = with_sacrum(pts)
        img = to_uint8(_load_png(os.path.join(d, lab["image"])))
        return [Sample(sid, "vesal", img, pts, estimate_missing(pts))]
    if entry["dir"].startswith("fastcleverseg"):
        import nibabel as nib
        vol = np.asarray(nib.load(os.path.join(d, lab["image"])).dataobj)
        vol8 = to_uint8(vol)
        mid = int(lab["midsag_slice_index_axis2"])
        spacing = float(lab["spacing_mm"][0])
        if entry["subject_id"].startswith("fcs_ivd"):
            src = "fcs_ivd"
            pts = {k: tuple(v) for k, v in lab["midsag_disc_points_rowcol"].items()}
        else:
            src = "fcs_vb2"
            pts = {k: tuple(v) for k, v in lab["midsag_disc_points_rowcol"].items() if k in CLASS_INDEX}
            for s in lab["structures_top_down"]:
                if s["name"] in CLASS_INDEX:
                    pts[s["name"]] = (s["centroid_vox"][0], s["centroid_vox"][1])
        pts = with_sacrum(pts)
        est = estimate_missing(pts)
        out = []
        for off in VOLUME_OFFSETS:
            k = mid + off
            if 0 <= k < vol8.shape[2]:
                out.append(Sample(sid, src, np.ascontiguousarray(vol8[:, :, k]), pts, est, spacing, off))
        return out
    return []


def load_all(root: str | None = None, cache_dir: str | None = None):
    """-> (samples by subject id {sid: [Sample]}, sources {sid: source}, data_version sha256, excluded ids)."""
    root = root or default_data_root()
    index_path = os.path.join(root, "index.json")
    version = sha256_file(index_path)
    cache = None
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        cache = os.path.join(cache_dir, f"samples-{version[:16]}-d{DERIVATION}.pkl")
        if os.path.exists(cache):
            import pickle
            with open(cache, "rb") as f:
                return pickle.load(f)
    index = json.load(open(index_path))
    by_subject, sources, excluded = {}, {}, []
    for entry in index["subjects"]:
        if entry["dir"].startswith("unlabelled"):
            continue
        samples = load_subject(root, entry)
        if not samples:
            excluded.append(entry["subject_id"])
            continue
        by_subject[entry["subject_id"]] = samples
        sources[entry["subject_id"]] = samples[0].source
    result = (by_subject, sources, version, excluded)
    if cache:
        import pickle
        with open(cache, "wb") as f:
            pickle.dump(result, f)
    return result


def split_subjects(sources: dict, val_fraction: float = 0.2, seed: int = 0):
    """Seeded split by subject, stratified by source. -> (train ids, val ids), each sorted."""
    rng = np.random.RandomState(seed)
    train, val = [], []
    for src in sorted(set(sources.values())):
        ids = sorted(s for s, v in sources.items() if v == src)
        ids = [ids[i] for i in rng.permutation(len(ids))]
        n_val = max(1, int(round(val_fraction * len(ids))))
        val += ids[:n_val]
        train += ids[n_val:]
    return sorted(train), sorted(val)
