"""Test-only lumbar count anomalies made from real sagittal slices (never used for training).

LSTV on a sagittal image is a counting problem: four or six mobile lumbar vertebrae, or a lowest
segment whose disc is rudimentary. No LSTV-labelled MRI is available, so the flag is evaluated on
anatomy-preserving edits of real slices with known disc points:

- `six_lumbar`: one lumbar segment (a vertebral body with half of each neighbouring disc) is copied
  and inserted above itself; everything cranial of it moves up by one segment (out of view at the top).
- `four_lumbar`: one lumbar segment is removed; everything cranial of it moves down by one segment
  (the field of view gains black rows at the top, as a shifted acquisition would).
- `thin_disc`: the L5/S1 disc loses a strip across its middle (about 60 % of its estimated height):
  a rudimentary lowest disc, the transitional segment's sign on a sagittal image.
- `control`: the same warp with a sub-pixel displacement and no anatomical change: only resampled.

Every cut runs through a disc centre, perpendicular to the local spine axis, so each seam joins disc
to disc. Edits work on the original resolution, before the pipeline's resize to 160x160.

Never train on these images: a detector trained on edits learns their seams, not anatomy.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

DISC_LADDER = ["T12/L1", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
KINDS = ["control", "six_lumbar", "four_lumbar", "thin_disc"]
# Share of a disc-to-disc step that is disc (lumbar discs ~ 10 mm against ~ 27 mm bodies).
DISC_SHARE = 0.27
THINNING = 0.6
# Seam blend, as a share of the local disc-to-disc step: wide enough to hide the cut, narrow
# enough to stay inside the disc.
BLEND_SHARE = 0.06


@dataclass
class Edit:
    kind: str
    image: np.ndarray     # uint8, same shape as the input
    segment: str | None   # the lumbar body copied or removed (six/four lumbar)
    description: str


def _discs(points: dict) -> list[tuple[str, np.ndarray]]:
    return [(n, np.array(points[n], float)) for n in DISC_LADDER if n in points]


def _cranial_normal(discs, i) -> np.ndarray:
    """Unit vector along the spine at disc i, pointing to the head (row decreasing)."""
    a = discs[max(i - 1, 0)][1]
    b = discs[min(i + 1, len(discs) - 1)][1]
    v = a - b
    return v / np.linalg.norm(v)


def _warp(img: np.ndarray, cut: np.ndarray, normal: np.ndarray, offset_above: np.ndarray,
          blend: float, band: tuple[np.ndarray, float] | None = None) -> np.ndarray:
    """out(p) = img(p) caudal of the cut line, img(p + offset_above) cranial of it (blended across
    `blend` px). `band`: (shift, limit) keeps img(p) between the cut and `limit` px above it (the
    inserted copy), then img(p + shift) beyond."""
    h, w = img.shape
    rr, cc = np.mgrid[0:h, 0:w].astype(np.float32)
    s = (rr - cut[0]) * normal[0] + (cc - cut[1]) * normal[1]
    src = img.astype(np.float32)

    def sample(dr, dc):
        return cv2.remap(src, (cc + dc).astype(np.float32), (rr + dr).astype(np.float32),
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    below = src
    above = sample(offset_above[0], offset_above[1])
    if band is not None:
        shift, limit = band
        beyond = sample(shift[0], shift[1])
        t = np.clip((s - limit) / blend + 0.5, 0, 1)
        above = (1 - t) * above + t * beyond
    t = np.clip(s / blend + 0.5, 0, 1)
    out = (1 - t) * below + t * above
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def make(kind: str, image: np.ndarray, points: dict, rng: np.random.RandomState) -> Edit:
    """One edit of `image` (uint8, original resolution) with disc points `points` (row, col)."""
    discs = _discs(points)
    names = [n for n, _ in discs]
    if "L5/S1" not in names or len(discs) < 4:
        raise ValueError("needs L5/S1 and at least four labelled discs")
    idx = {n: i for i, (n, _) in enumerate(discs)}
    if kind == "thin_disc":
        i = idx["L5/S1"]
        step = np.linalg.norm(discs[i][1] - discs[i - 1][1])
        n = _cranial_normal(discs, i)
        t = THINNING * DISC_SHARE * step
        cut = discs[i][1] - n * t / 2  # the strip removed is centred on the disc point
        out = _warp(image, cut, n, n * t, BLEND_SHARE * step)
        return Edit(kind, out, None, f"L5/S1 thinned by {t:.1f} px of a {step:.1f} px step")
    # The segment: the body between disc a (cranial) and disc b (caudal), one of L3, L4, L5.
    choices = [(a, b) for a, b in (("L2/L3", "L3/L4"), ("L3/L4", "L4/L5"), ("L4/L5", "L5/S1"))
               if a in idx and b in idx]
    if kind == "control":
        a, b = choices[rng.randint(len(choices))]
        i = idx[b]
        n = _cranial_normal(discs, i)
        step = np.linalg.norm(discs[idx[a]][1] - discs[i][1])
        ang = rng.uniform(0, 2 * np.pi)
        delta = 0.5 * np.array([np.cos(ang), np.sin(ang)])
        out = _warp(image, discs[i][1], n, delta, BLEND_SHARE * step)
        return Edit(kind, out, None, f"resampled by {delta.round(2).tolist()} px cranial of {b}")
    a, b = choices[rng.randint(len(choices))]
    body = b.split("/")[0]
    pa, pb = discs[idx[a]][1], discs[idx[b]][1]
    d = pa - pb  # one segment, pointing to the head
    step = np.linalg.norm(d)
    n = _cranial_normal(discs, idx[b])
    if kind == "six_lumbar":
        # Cranial of b: the segment itself stays for one step, then everything from b up repeats.
        out = _warp(image, pb, n, np.zeros(2), BLEND_SHARE * step, band=(-d, step))
        return Edit(kind, out, body, f"{body} copied above itself ({step:.1f} px)")
    if kind == "four_lumbar":
        out = _warp(image, pb, n, d, BLEND_SHARE * step)
        return Edit(kind, out, body, f"{body} removed ({step:.1f} px)")
    raise ValueError(f"unknown anomaly kind {kind!r}")
