"""Validation of the localizer in PyTorch: reference decode and level-counting metrics.

Decode (the reference convention): per class, the point = mean (row, col) of the pixels whose
probability is > 0.5; no such pixel = a missing detection.

A level shift: a predicted disc whose nearest labelled disc (T12/L1 and the five lumbar discs) is
another level, i.e. the ladder assigned one (or more) discs off. A subject has a level shift when
any of its predicted discs is shifted.

Ladder consistency check (reported as its own flag): the node's check (`ladder_check`, a port of
Sources/Analysis/LevelLadder.swift): discs ordered, no two levels on one disc, no level on two discs
(its map in separate parts, `decode_sites`), plausible spacing,
and with landmarks the whole ladder in half steps; a missing disc makes the ladder incomplete.
"""
from __future__ import annotations

import numpy as np

from .data import CLASSES, CLASS_INDEX, DISCS, SIZE, to160

LADDER_DISCS = ["T12/L1"] + DISCS


def decode(prob: np.ndarray, threshold: float = 0.5, classes=CLASSES) -> dict:
    """prob (C, H, W) -> {class name: (row, col) or None} for every non-background class."""
    out = {}
    for c, name in enumerate(classes):
        if c == 0:
            continue
        rr, cc = np.nonzero(prob[c] > threshold)
        out[name] = (float(rr.mean()), float(cc.mean())) if len(rr) else None
    return out


SITE_MIN_SHARE = 0.25  # Metrics.siteMinShare


def decode_sites(prob: np.ndarray, threshold: float = 0.5, classes=CLASSES) -> dict:
    """prob (C, H, W) -> {class name: [(row, col), ...]}: the centroids of the 8-connected parts of
    the pixels above the threshold, largest first, parts under SITE_MIN_SHARE of the largest left
    out (Metrics.sites in the node)."""
    import cv2
    out = {}
    for c, name in enumerate(classes):
        if c == 0:
            continue
        n, _, stats, cent = cv2.connectedComponentsWithStats((prob[c] > threshold).astype(np.uint8), connectivity=8)
        parts = sorted(((int(stats[k, cv2.CC_STAT_AREA]), (float(cent[k, 1]), float(cent[k, 0]))) for k in range(1, n)),
                       key=lambda p: -p[0])
        out[name] = [pt for size, pt in parts if size >= SITE_MIN_SHARE * parts[0][0]] if parts else []
    return out


def entropy_at(prob: np.ndarray, pt) -> float:
    if pt is None:
        return float("nan")
    r, c = int(round(pt[0])), int(round(pt[1]))
    r, c = min(max(r, 0), SIZE - 1), min(max(c, 0), SIZE - 1)
    p = np.clip(prob[:, r, c], 1e-12, 1)
    return float(-(p * np.log(p)).sum())


# The node's ladder check (Sources/Analysis/LevelLadder.swift, grid space), ported line by line so
# that PyTorch-side validation reports the flag the node reports. tools/evaluate_model.py checks
# that both agree on the same points.
MIN_SPACING_RATIO, MAX_SPACING_RATIO, MIN_SEPARATION_PX = 0.5, 1.8, 7.0
MIN_STEP_RATIO, MAX_STEP_RATIO = 0.5, 1.8
RUNGS = ["T12/L1", "L1", "L1/L2", "L2", "L2/L3", "L3", "L3/L4", "L4", "L4/L5", "L5", "L5/S1", "S1"]


def _dist(a, b) -> float:
    return float(np.hypot(b[0] - a[0], b[1] - a[1]))


def ladder_check(pred: dict, sites: dict | None = None) -> tuple[str, list[str]]:
    """-> (status consistent | inconsistent | incomplete, reasons), on 160-grid points; `sites`
    (decode_sites) adds the one-level-on-two-discs rule."""
    present = [d for d in DISCS if pred.get(d) is not None]
    why = []
    for a, b in zip(present, present[1:]):
        if not pred[b][0] > pred[a][0]:
            why.append(f"{b} is not below {a}")
    for i, a in enumerate(present):
        for b in present[i + 1:]:
            if _dist(pred[a], pred[b]) < MIN_SEPARATION_PX:
                why.append(f"{a} and {b}: two levels on one disc")
    for d in present:
        parts = (sites or {}).get(d, [])
        widest = max((_dist(a, b) for i, a in enumerate(parts) for b in parts[i + 1:]), default=0.0)
        if len(parts) > 1 and widest >= MIN_SEPARATION_PX:
            why.append(f"{d} is on {len(parts)} sites up to {widest:.1f} px apart: one level on more than one disc")
    missing = [d for d in DISCS if pred.get(d) is None]
    if not missing:
        gaps = [_dist(pred[a], pred[b]) for a, b in zip(DISCS, DISCS[1:])]
        med = (sorted(gaps)[1] + sorted(gaps)[2]) / 2
        if med > 0:
            for (a, b), g in zip(zip(DISCS, DISCS[1:]), gaps):
                if not MIN_SPACING_RATIO <= g / med <= MAX_SPACING_RATIO:
                    why.append(f"{a}-{b} spacing {g / med:.2f}x the median")
    found = [r for r in RUNGS if pred.get(r) is not None]
    if len(found) > len(present) and len(found) >= 3:
        pairs = list(zip(found, found[1:]))
        for a, b in pairs:
            if not pred[b][0] > pred[a][0]:
                why.append(f"landmark ladder: {b} is not below {a}")
        steps = [_dist(pred[a], pred[b]) / (RUNGS.index(b) - RUNGS.index(a)) for a, b in pairs]
        med = float(np.median(steps))
        if med > 0:
            for (a, b), st in zip(pairs, steps):
                if not MIN_STEP_RATIO <= st / med <= MAX_STEP_RATIO:
                    why.append(f"landmark ladder: {a}-{b} is {st / med:.2f}x the median half step")
    status = "inconsistent" if why else ("incomplete" if missing else "consistent")
    return status, why + [f"no point for {d}" for d in missing]


def consistency(pred: dict, sites: dict | None = None) -> tuple[bool, str]:
    """The node's ladder check as (consistent?, first reason)."""
    status, why = ladder_check(pred, sites)
    return status == "consistent", (why[0] if why else "")


def score_case(prob: np.ndarray, true160: dict) -> dict:
    """One validation image: prob (C,H,W) and the labelled points already in 160 coordinates."""
    pred = decode(prob)
    res = {"errors": {}, "missing": [], "shifted": [], "entropy": {}, "pred": pred}
    true_discs = {d: true160[d] for d in LADDER_DISCS if d in true160}
    for name in CLASSES[1:]:
        if name not in true160:
            continue
        p = pred[name]
        if p is None:
            res["missing"].append(name)
            continue
        t = true160[name]
        res["errors"][name] = float(np.hypot(p[0] - t[0], p[1] - t[1]))
        res["entropy"][name] = entropy_at(prob, p)
    for d in DISCS:
        p = pred[d]
        if p is None or d not in true_discs:
            continue
        nearest = min(true_discs, key=lambda k: np.hypot(p[0] - true_discs[k][0], p[1] - true_discs[k][1]))
        if nearest != d:
            res["shifted"].append(f"{d}->{nearest}")
    ok, why = consistency(pred, decode_sites(prob))
    res["consistent"] = ok
    res["inconsistency"] = why
    return res


def summarize(cases: list[dict]) -> dict:
    """cases: [{subject_id, source, spacing_mm_160 (mm per 160-px or None), result}] -> metrics."""
    per_level = {}
    for name in CLASSES[1:]:
        errs = [c["result"]["errors"][name] for c in cases if name in c["result"]["errors"]]
        n_lab = sum(1 for c in cases if name in c["result"]["errors"] or name in c["result"]["missing"])
        if n_lab == 0:
            continue
        mm = [c["result"]["errors"][name] * c["mm_per_px160"] for c in cases
              if name in c["result"]["errors"] and c.get("mm_per_px160")]
        per_level[name] = {
            "n": n_lab,
            "missing": n_lab - len(errs),
            "median_px": round(float(np.median(errs)), 2) if errs else None,
            "p90_px": round(float(np.percentile(errs, 90)), 2) if errs else None,
            "within_10px": round(sum(e <= 10 for e in errs) / n_lab, 4),
            "within_5px": round(sum(e <= 5 for e in errs) / n_lab, 4),
        }
        if mm:
            per_level[name]["median_mm"] = round(float(np.median(mm)), 2)
            per_level[name]["p90_mm"] = round(float(np.percentile(mm, 90)), 2)
            per_level[name]["within_5mm"] = round(sum(e <= 5 for e in mm) / len(mm), 4)
    disc_errs, disc_n = [], 0
    for c in cases:
        for d in DISCS:
            if d in c["result"]["errors"]:
                disc_errs.append(c["result"]["errors"][d])
                disc_n += 1
            elif d in c["result"]["missing"]:
                disc_n += 1
    shifted = [c for c in cases if c["result"]["shifted"]]
    inconsistent = [c for c in cases if not c["result"]["consistent"]]
    return {
        "subjects": len(cases),
        "disc_points": disc_n,
        "disc_within_10px": round(sum(e <= 10 for e in disc_errs) / max(disc_n, 1), 4),
        "disc_within_5px": round(sum(e <= 5 for e in disc_errs) / max(disc_n, 1), 4),
        "disc_median_px": round(float(np.median(disc_errs)), 2) if disc_errs else None,
        "disc_p90_px": round(float(np.percentile(disc_errs, 90)), 2) if disc_errs else None,
        "disc_missing": disc_n - len(disc_errs),
        "subjects_with_level_shift": len(shifted),
        "level_shift_rate": round(len(shifted) / max(len(cases), 1), 4),
        "level_shifts": {c["subject_id"]: c["result"]["shifted"] for c in shifted},
        "shifts_caught_by_consistency": sum(1 for c in shifted if not c["result"]["consistent"]),
        "subjects_inconsistent": len(inconsistent),
        "inconsistent": {c["subject_id"]: c["result"]["inconsistency"] for c in inconsistent},
        "per_level": per_level,
    }


def true_points_160(sample) -> dict:
    return {k: to160(v, sample.image.shape) for k, v in sample.points.items() if k in CLASS_INDEX}
