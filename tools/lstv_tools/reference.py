"""The reference pixel pipeline and metrics that the Swift `Analysis` module must reproduce.

numpy + cv2 + pydicom only; the network is not needed here (the metrics take a probability array).

Pipeline (what the localizer saw in training and what the node must feed it):
  1. DICOM files -> per-slice pixel arrays with the modality rescale applied (slope/intercept);
  2. slices ordered by position along the slice normal (IPP . cross(rowDir, colDir)), falling back
     to InstanceNumber when geometry is missing or does not separate the slices;
  3. whole-volume min-max to 8 bits: ((v - min) / (max - min) * 255).astype(np.uint8)
     (float64 arithmetic for integer volumes, as numpy's true division promotes them; truncation
     toward zero; max == min gives an all-zero volume instead of 0/0);
  4. every slice resized to 160x160 with cv2.INTER_LINEAR (only the middle one is needed);
  5. the middle slice volume[len // 2];
  6. network input: x = (pixel / scale - mean[c]) / std[c], the grey slice repeated to channels.

Metrics per disc channel h (H x W probabilities): peak = max(h); entropy = -sum p log(p + 1e-9)
with p = h / (sum h + 1e-9); spatial entropy = the same over a 10x10 grid of block sums; point =
mean (row, col) of the pixels with h > 0.5, or None.
"""
from __future__ import annotations

import glob
import os

import cv2
import numpy as np

SIZE = 160
DISCS = ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
EPS = 1e-9
GRID = 10


# ---------------------------------------------------------------- volume


def read_slices(paths):
    """pydicom datasets -> list of (pixels float64 or native int, dataset), rescale applied."""
    import pydicom

    out = []
    for p in paths:
        ds = pydicom.dcmread(p)
        arr = ds.pixel_array
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
        if slope != 1.0 or intercept != 0.0:
            arr = arr.astype(np.float64) * slope + intercept
        out.append((arr, ds))
    return out


def slice_order(datasets):
    """Indices of `datasets` by ascending IPP . normal (normal = rowDir x colDir of the first slice);
    by InstanceNumber (missing = 0, stable) when geometry is missing or two slices share a position."""
    try:
        iop = np.array([float(x) for x in datasets[0].ImageOrientationPatient])
        normal = np.cross(iop[:3], iop[3:])
        keys = [float(np.dot(np.array([float(x) for x in d.ImagePositionPatient]), normal)) for d in datasets]
        if len(set(keys)) == len(keys):
            return sorted(range(len(datasets)), key=lambda i: keys[i])
    except (AttributeError, TypeError, ValueError, KeyError):
        pass
    return sorted(range(len(datasets)), key=lambda i: int(datasets[i].get("InstanceNumber", 0) or 0))


def load_volume(folder_or_paths):
    """Series folder (or list of files) -> (volume [n, rows, cols], ordered datasets)."""
    if isinstance(folder_or_paths, str):
        paths = sorted(glob.glob(os.path.join(folder_or_paths, "*.dcm")))
    else:
        paths = list(folder_or_paths)
    slices = read_slices(paths)
    order = slice_order([d for _, d in slices])
    vol = np.stack([slices[i][0] for i in order])
    return vol, [slices[i][1] for i in order]


def min_max_uint8(v: np.ndarray) -> np.ndarray:
    """Exactly the training code's scaling, on whatever dtype the volume has; max == min -> zeros.
    (uint16/int16 -> float64 by the true division; float32 stays float32; int16 `v - mn` would wrap
    past a 32767 range, as the training code would.)"""
    mn, mx = v.min(), v.max()
    if mx == mn:
        return np.zeros(v.shape, np.uint8)
    return ((v - mn) / (mx - mn) * 255).astype(np.uint8)


def resize160(img_u8: np.ndarray) -> np.ndarray:
    return cv2.resize(img_u8, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)


def middle_slice(volume_u8: np.ndarray) -> np.ndarray:
    """The 160x160 middle slice; resizing is per slice, so resizing only the middle one is the same."""
    return resize160(volume_u8[len(volume_u8) // 2])


def network_input(slice_u8: np.ndarray, mean, std, scale=255.0, channels=3) -> np.ndarray:
    """[channels, H, W] float32, as the network's forward does it (float32 arithmetic)."""
    x = slice_u8.astype(np.float32) / np.float32(scale)
    return np.stack([(x - np.float32(mean[c])) / np.float32(std[c]) for c in range(channels)])


# ---------------------------------------------------------------- metrics


def _entropy(h: np.ndarray) -> float:
    h = h.astype(np.float64)
    p = h / (h.sum() + EPS)
    return float(-(p * np.log(p + EPS)).sum())


def level_metrics(h: np.ndarray) -> dict:
    """Metrics of one probability channel (H x W, H and W multiples of GRID), float64."""
    h = h.astype(np.float64)
    rows, cols = h.shape
    bins = h.reshape(GRID, rows // GRID, GRID, cols // GRID).sum(axis=(1, 3))
    ys, xs = np.nonzero(h > 0.5)
    point = (float(ys.mean()), float(xs.mean())) if len(ys) else None
    return {
        "peak_confidence": float(h.max()),
        "entropy": _entropy(h),
        "spatial_entropy": _entropy(bins),
        "point": point,
    }


def metrics(probs: np.ndarray, classes) -> dict:
    """probs [C, H, W] softmax output; classes = channel names. The five discs by name."""
    return {name: level_metrics(probs[classes.index(name)]) for name in DISCS}


def risk(l5s1_entropy: float, high: float = 5.5, medium: float = 4.0) -> str:
    """high > `high`; medium in [medium, high] (both bounds inclusive); low < medium."""
    if not np.isfinite(l5s1_entropy) or l5s1_entropy > high:
        return "high"
    if l5s1_entropy >= medium:
        return "medium"
    return "low"


# ---------------------------------------------------------------- geometry


def to_original(p160, rows: int, cols: int, size: int = SIZE):
    """Inverse of cv2's half-pixel-centre mapping: orig = (p + 0.5) * (orig_size / size) - 0.5."""
    return ((p160[0] + 0.5) * rows / size - 0.5, (p160[1] + 0.5) * cols / size - 0.5)


def to_patient(p_orig, ds):
    """(row, col) on the original grid -> LPS mm: IPP + col*dc*rowDir + row*dr*colDir."""
    iop = np.array([float(x) for x in ds.ImageOrientationPatient])
    ipp = np.array([float(x) for x in ds.ImagePositionPatient])
    dr, dc = (float(x) for x in ds.PixelSpacing)
    return ipp + p_orig[1] * dc * iop[:3] + p_orig[0] * dr * iop[3:]
