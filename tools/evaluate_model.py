#!/usr/bin/env python3
"""Evaluate the bundled localizer through the node's own Swift engine (issue 4), offline, one command:

    .venv-tools/bin/python tools/evaluate_model.py        # writes models/VALIDATION_SWIFT.json

Needs the release binary (`swift build -c release --product lstv-node`; or env LSTV_NODE_BIN) and the
shared data in ../shared/data/lumbar. PyTorch is optional (used only for the Swift-vs-PyTorch check).

(a) Validation split rebuilt from the model's own `training` metadata (validation subject IDs; a subject
    whose ID hash is in the training list is refused). Slices prepared exactly as training/inference does
    (whole-volume 8-bit min-max with truncation, cv2 INTER_LINEAR resize to 160), scored from the points
    of `lstv-node evaluate` (mean of pixels > 0.5): per-level error in px at 160 and mm (volumes), share
    within 5 mm / 10 px, missing, level shifts, which shifts the ladder check or high entropy catches.
(b) Entropy / peak-confidence distributions on in-distribution validation slices vs out-of-distribution
    inputs (axial reformats of the DICOM studies, coronal reformats of the validation volumes,
    intensity-inverted T2, non-spine DICOM test images shipped with pydicom), AUC of ID vs OOD.
(c) Multi-slice option: `lstv-node analyze --neighbours 2` vs `0` on the DICOM series (sagittal = ID,
    axial reformats = OOD), neighbour spread vs single-slice entropy, extra wall time per series.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from lstv_tools.data import (CLASSES, DISCS, load_all, resize160, sha256_file, sha256_text,  # noqa: E402
                             to_uint8, default_data_root)
from lstv_tools.train_eval import LADDER_DISCS, consistency, decode, decode_sites, summarize, true_points_160  # noqa: E402
from lstv_tools import engine_cli, reference  # noqa: E402

LEVEL_KEYS = {d: d.lower().replace("/", "_") for d in DISCS}  # L1/L2 -> l1_l2 (analyze JSON)
ANY_MR = "routing: {rules: [{name: any-mr, route: localizer, modality: [MR]}]}\n"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "lstv-localizer.safetensors"))
    ap.add_argument("--data", default=default_data_root())
    ap.add_argument("--bin", default=os.environ.get("LSTV_NODE_BIN", os.path.join(ROOT, ".build", "release", "lstv-node")))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "VALIDATION_SWIFT.json"))
    ap.add_argument("--pytorch-json", default=os.path.join(ROOT, "models", "VALIDATION_PYTORCH.json"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "models", "cache"))
    ap.add_argument("--timing-runs", type=int, default=7, help="analyze runs per series and setting for the timing")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch side-by-side")
    return ap.parse_args()


# ---------------------------------------------------------------------------------------------- helpers

# The evaluated model's classes in channel order (set in main from its metadata): a model may name
# fewer landmarks than the data labels (an older model without S1, say).
MODEL_CLASSES: list[str] = list(CLASSES)

def model_metadata(path):
    from safetensors import safe_open
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    meta["training"] = json.loads(meta.get("training", "{}"))
    return meta


def swift_evaluate(binary, model, images: np.ndarray) -> dict:
    assert images.shape[1:] == (160, 160)
    return engine_cli.evaluate(binary, model, images)


def swift_points(res: dict) -> dict:
    return {name: (tuple(v["point"]) if v["point"] is not None else None) for name, v in res["classes"].items()}


def swift_sites(res: dict) -> dict:
    return {name: [tuple(p) for p in v["sites"]] for name, v in res["classes"].items()}


def score_points(pred: dict, true160: dict, node_ladder: dict | None = None, sites: dict | None = None) -> dict:
    """train_eval.score_case on decoded points (the Swift engine returns points, not probabilities).
    `node_ladder`: the node's own ladder check from `lstv-node evaluate`; it is the flag scored, and
    the Python port (train_eval.ladder_check) must agree with it."""
    res = {"errors": {}, "missing": [], "shifted": []}
    true_discs = {d: true160[d] for d in LADDER_DISCS if d in true160}
    for name in MODEL_CLASSES[1:]:
        if name not in true160:
            continue
        p = pred.get(name)
        if p is None:
            res["missing"].append(name)
            continue
        t = true160[name]
        res["errors"][name] = float(np.hypot(p[0] - t[0], p[1] - t[1]))
    for d in DISCS:
        p = pred.get(d)
        if p is None or d not in true_discs:
            continue
        nearest = min(true_discs, key=lambda k: np.hypot(p[0] - true_discs[k][0], p[1] - true_discs[k][1]))
        if nearest != d:
            res["shifted"].append(f"{d}->{nearest}")
    res["consistent"], res["inconsistency"] = consistency(pred, sites)
    if node_ladder is not None:
        # The port sees one slice's points; the node's stability reasons need its perturbed passes.
        static = [r for r in node_ladder["reasons"] if not r.startswith("unstable count")]
        if (not static) != res["consistent"]:
            sys.exit(f"ladder check: the node says {node_ladder}, the Python port {res['inconsistency']!r}")
        res["consistent"] = node_ladder["status"] == "consistent"
        res["unstable"] = len(static) < len(node_ladder["reasons"])
        res["inconsistency"] = node_ladder["reasons"][0] if node_ladder["reasons"] else ""
    return res


def report(cases):
    summ = summarize(cases)
    summ["by_source"] = {}
    for src in sorted({c["source"] for c in cases}):
        s = summarize([c for c in cases if c["source"] == src])
        summ["by_source"][src] = {k: s[k] for k in ("subjects", "disc_points", "disc_within_10px", "disc_median_px",
                                                     "disc_missing", "subjects_with_level_shift", "subjects_inconsistent")}
    return summ


def disc_within_5mm(cases):
    errs = [c["result"]["errors"][d] * c["mm_per_px160"] for c in cases if c.get("mm_per_px160")
            for d in DISCS if d in c["result"]["errors"]]
    n = sum(1 for c in cases if c.get("mm_per_px160") for d in DISCS
            if d in c["result"]["errors"] or d in c["result"]["missing"])
    return {"disc_points_mm": n, "disc_within_5mm": round(sum(e <= 5 for e in errs) / max(n, 1), 4),
            "disc_median_mm": round(float(np.median(errs)), 2) if errs else None,
            "disc_p90_mm": round(float(np.percentile(errs, 90)), 2) if errs else None}


def auc(id_scores, ood_scores):
    """P(score_ood > score_id) + 0.5 P(tie): the Mann-Whitney AUC, higher score = more OOD."""
    a, b = np.asarray(id_scores, float), np.asarray(ood_scores, float)
    if len(a) == 0 or len(b) == 0:
        return None
    gt = (b[:, None] > a[None, :]).sum()
    eq = (b[:, None] == a[None, :]).sum()
    return round(float((gt + 0.5 * eq) / (len(a) * len(b))), 4)


def dist(values):
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], float)
    if len(v) == 0:
        return {"n": 0}
    q = np.percentile(v, [0, 10, 50, 90, 100])
    return {"n": int(len(v)), "min": round(q[0], 3), "p10": round(q[1], 3), "median": round(q[2], 3),
            "p90": round(q[3], 3), "max": round(q[4], 3), "mean": round(float(v.mean()), 3)}


def features(res: dict) -> dict:
    """Per-image uncertainty features from one `evaluate` result."""
    c = res["classes"]
    pts = swift_points(res)
    return {
        "l5s1_entropy": c["L5/S1"]["entropy"],
        "l5s1_peak": c["L5/S1"]["peak_confidence"],
        "l5s1_spatial_entropy": c["L5/S1"]["spatial_entropy"],
        "disc_entropy_mean": float(np.mean([c[d]["entropy"] for d in DISCS])),
        "disc_entropy_max": float(np.max([c[d]["entropy"] for d in DISCS])),
        "disc_peak_min": float(np.min([c[d]["peak_confidence"] for d in DISCS])),
        "discs_found": sum(pts[d] is not None for d in DISCS),
        "ladder_consistent": res["ladder"]["status"] == "consistent",
    }


def analyze(binary, paths, neighbours, config=None, model=None, stability=True) -> tuple[list, float]:
    cmd = [binary, "analyze", "--format", "json", "--neighbours", str(neighbours),
           "--ladder-stability" if stability else "--no-ladder-stability"]
    if model:
        cmd += ["--model", model]
    if config:
        cmd += ["--config", config]
    t0 = time.perf_counter()
    p = subprocess.run(cmd + list(paths), capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout), dt


def series_summary(s: dict) -> dict:
    lv = s.get("levels") or {}
    ent = [v["entropy"] for v in lv.values() if v.get("entropy") is not None]
    out = {"series_description": s.get("series_description"), "status": s.get("status"),
           "ladder": (s.get("ladder") or {}).get("status"), "risk": s.get("risk"),
           "l5s1_entropy": (lv.get("l5_s1") or {}).get("entropy"),
           "disc_entropy_mean": float(np.mean(ent)) if ent else None,
           "discs_found": sum(1 for v in lv.values() if v.get("point_px") is not None),
           "middle_slice": (s.get("slice") or {}).get("index")}
    ns = s.get("neighbour_spread")
    if ns:
        L = ns["levels"]
        spreads = [v["point_spread"] for v in L.values() if v.get("point_spread") is not None]
        out["neighbour"] = {
            "slices": len(ns.get("slice_indices", [])), "unit": ns.get("unit"),
            "found_in_min": min(v["found_in"] for v in L.values()),
            "found_in_mean": round(float(np.mean([v["found_in"] for v in L.values()])), 2),
            "point_spread_mean": round(float(np.mean(spreads)), 3) if spreads else None,
            "entropy_std_mean": round(float(np.mean([v["entropy_std"] for v in L.values()])), 4),
            "l5s1_entropy_std": L.get("l5_s1", {}).get("entropy_std"),
            "entropy_range_max": round(float(np.max([v["entropy_range"] for v in L.values()])), 4),
        }
    return out


# ---------------------------------------------------------------------------------------------- main

def main():
    args = parse_args()
    for p in (args.bin, args.model, args.data):
        if not os.path.exists(p):
            sys.exit(f"missing: {p}")
    meta = model_metadata(args.model)
    training = meta["training"]
    classes = json.loads(meta["classes"])
    if classes[0] != "background" or not set(DISCS) <= set(classes) or not set(classes) <= set(CLASSES):
        sys.exit(f"model classes {classes}: need background first, the five discs, and only classes the data labels {CLASSES}")
    MODEL_CLASSES[:] = classes
    model_sha = sha256_file(args.model)
    val_ids = training["validation_subjects"]
    train_hashes = set(training["train_subjects_sha256"])
    leaked = [s for s in val_ids if sha256_text(s) in train_hashes]
    if leaked:
        sys.exit(f"refusing: validation subjects also in training: {leaked}")

    by_subject, sources, data_version, _ = load_all(args.data, args.cache)
    if "sha256:" + data_version != training["data_version"]:
        print(f"WARNING: data version {data_version} != the model's {training['data_version']}", flush=True)
    missing_ids = [s for s in val_ids if s not in by_subject]
    if missing_ids:
        sys.exit(f"validation subjects not in the data: {missing_ids}")

    # ------------------------------------------------ (a) validation through the Swift engine
    samples = [s for sid in val_ids for s in by_subject[sid]]
    imgs = np.stack([resize160(s.image) for s in samples])
    t0 = time.time()
    sw = swift_evaluate(args.bin, args.model, imgs)
    swift_s = time.time() - t0
    if sw["model"]["sha256"] != model_sha:
        sys.exit("the engine reports another model sha256")
    sw_res = sw["results"]
    cases_all = []
    for i, s in enumerate(samples):
        pred = swift_points(sw_res[i])
        sid = s.subject_id if s.slice_offset == 0 else f"{s.subject_id}@{s.slice_offset:+d}"
        cases_all.append({"subject_id": sid, "source": s.source, "offset": s.slice_offset, "index": i,
                          "mm_per_px160": s.spacing * s.image.shape[0] / 160 if s.spacing else None,
                          "result": score_points(pred, true_points_160(s), sw_res[i]["ladder"], swift_sites(sw_res[i])),
                          "pred": pred})
    mid = [c for c in cases_all if c["offset"] == 0]
    vol = [c for c in cases_all if c["source"].startswith("fcs")]
    swift_summary = report(mid)
    swift_summary.update(disc_within_5mm(mid))
    vol_summary = report(vol)
    vol_summary.update(disc_within_5mm(vol))
    print(f"swift: discs<=10px {swift_summary['disc_within_10px']} median {swift_summary['disc_median_px']} "
          f"p90 {swift_summary['disc_p90_px']} shifts {swift_summary['subjects_with_level_shift']}/{len(mid)}", flush=True)

    # entropy of the validation cases: does high entropy catch the shifted subjects?
    feats_mid = {c["subject_id"]: features(sw_res[c["index"]]) for c in mid}
    import re
    m = re.search(r"risk_thresholds:\s*\{\s*high:\s*([\d.]+)\s*,\s*medium:\s*([\d.]+)",
                  open(os.path.join(ROOT, "config", "lstv-node.yaml")).read())
    thr = {"high": float(m.group(1)), "medium": float(m.group(2))}
    ok_ids = [c["subject_id"] for c in mid if not c["result"]["shifted"]]
    p90_ok = {k: float(np.percentile([feats_mid[s][k] for s in ok_ids], 90)) for k in ("l5s1_entropy", "disc_entropy_mean")}
    ranks = {k: sorted(feats_mid, key=lambda s: -feats_mid[s][k]) for k in ("l5s1_entropy", "disc_entropy_mean")}
    shift_catch = {}
    for c in mid:
        if not c["result"]["shifted"]:
            continue
        f = feats_mid[c["subject_id"]]
        sid = c["subject_id"]
        shift_catch[sid] = {
            "shifts": c["result"]["shifted"],
            "caught_by_ladder_check": not c["result"]["consistent"],
            "ladder_unstable_under_perturbation": c["result"].get("unstable", False),
            "ladder_reason": c["result"]["inconsistency"] or None,
            "l5s1_entropy": round(f["l5s1_entropy"], 3), "l5s1_entropy_rank": ranks["l5s1_entropy"].index(sid) + 1,
            "disc_entropy_mean": round(f["disc_entropy_mean"], 3),
            "disc_entropy_mean_rank": ranks["disc_entropy_mean"].index(sid) + 1,
            "node_risk_high (L5/S1 entropy > %.1f)" % thr["high"]: f["l5s1_entropy"] > thr["high"],
            "above_p90_of_unshifted_l5s1_entropy": f["l5s1_entropy"] > p90_ok["l5s1_entropy"],
            "above_p90_of_unshifted_disc_entropy_mean": f["disc_entropy_mean"] > p90_ok["disc_entropy_mean"],
        }
    unshifted_err = [c["result"]["errors"][d] for c in cases_all if not c["result"]["shifted"]
                     for d in DISCS if d in c["result"]["errors"]]
    unshifted_mm = [c["result"]["errors"][d] * c["mm_per_px160"] for c in cases_all if not c["result"]["shifted"]
                    and c["mm_per_px160"] for d in DISCS if d in c["result"]["errors"]]
    swift_summary["unshifted_ladders"] = {
        "what": "disc points of the images without a level shift (validation mid slices and volume slices -3..+3)",
        "disc_points": len(unshifted_err),
        "p90_px": round(float(np.percentile(unshifted_err, 90)), 2), "max_px": round(max(unshifted_err), 2),
        "disc_points_mm": len(unshifted_mm),
        "median_mm": round(float(np.median(unshifted_mm)), 2),
        "p90_mm": round(float(np.percentile(unshifted_mm, 90)), 2), "max_mm": round(max(unshifted_mm), 2)}
    n_caught = sum(1 for v in shift_catch.values() if v["caught_by_ladder_check"]
                   or v["above_p90_of_unshifted_disc_entropy_mean"] or v["above_p90_of_unshifted_l5s1_entropy"])
    entropy_catch = {
        "ranks_among": len(mid),
        "node_risk_thresholds": thr,
        "validation_l5s1_entropy_above_node_high": sum(f["l5s1_entropy"] > thr["high"] for f in feats_mid.values()),
        "p90_of_unshifted": {k: round(v, 3) for k, v in p90_ok.items()},
        "unshifted_above_p90": {k: sum(feats_mid[s][k] > p90_ok[k] for s in ok_ids) for k in p90_ok},
        "unshifted_subjects": len(ok_ids),
        "p90_note": "the p90 thresholds are fitted post hoc on these same validation subjects (no held-out "
                    "calibration set): an optimistic, illustrative operating point, not a calibrated one",
        "shifted": shift_catch,
        "shifted_subjects_caught_by_ladder_or_entropy_p90": n_caught,
    }

    # PyTorch side by side on the very same inputs
    torch_cmp = None
    if not args.no_torch:
        try:
            from lstv_tools import model_file  # PyTorch: optional
            prob = model_file.predict(args.model, imgs)
        except ImportError:
            prob = None
        if prob is not None:
            diffs, flips, tcases, dpeak, dent = [], [], [], [], []
            for c in cases_all:
                pr = prob[c["index"]]
                tp = decode(pr, classes=MODEL_CLASSES)
                for ci, name in enumerate(MODEL_CLASSES[1:], start=1):
                    h = pr[ci].astype(np.float64)
                    q = h / (h.sum() + 1e-9)
                    m = sw_res[c["index"]]["classes"][name]
                    dpeak.append(abs(float(h.max()) - m["peak_confidence"]))
                    dent.append(abs(float(-(q * np.log(q + 1e-9)).sum()) - m["entropy"]))
                for name in MODEL_CLASSES[1:]:
                    a, b = c["pred"][name], tp[name]
                    if (a is None) != (b is None):
                        flips.append(f"{c['subject_id']}:{name}")
                    elif a is not None:
                        diffs.append(float(np.hypot(a[0] - b[0], a[1] - b[1])))
                if c["offset"] == 0:
                    s = samples[c["index"]]
                    tcases.append({**c, "result": score_points(tp, true_points_160(s), sites=decode_sites(pr, classes=MODEL_CLASSES))})
            tsum = summarize(tcases)
            torch_cmp = {
                "inputs": f"the same {len(samples)} prepared uint8 slices (validation mid slices + volume slices -3..+3)",
                "points_compared": len(diffs),
                "max_point_difference_px160": round(max(diffs), 5),
                "mean_point_difference_px160": round(float(np.mean(diffs)), 6),
                "found_vs_not_found_disagreements": flips,
                "max_peak_confidence_difference": float(f"{max(dpeak):.3g}"),
                "max_entropy_difference_nats": float(f"{max(dent):.3g}"),
                "pytorch_on_same_inputs": {k: tsum[k] for k in ("disc_within_10px", "disc_within_5px", "disc_median_px",
                                                                "disc_p90_px", "disc_missing", "subjects_with_level_shift")},
            }
            print(f"swift vs pytorch: max point difference {torch_cmp['max_point_difference_px160']} px", flush=True)
    pt = json.load(open(args.pytorch_json))["validation"] if os.path.exists(args.pytorch_json) else None
    compare = None
    if pt:
        keys = ("disc_points", "disc_within_10px", "disc_within_5px", "disc_median_px", "disc_p90_px", "disc_missing",
                "subjects_with_level_shift", "shifts_caught_by_consistency", "subjects_inconsistent")
        compare = {k: {"swift": swift_summary[k], "pytorch_json": pt[k]} for k in keys}
        compare["level_shifts_identical"] = swift_summary["level_shifts"] == pt["level_shifts"]
        compare["per_level_median_px"] = {n: {"swift": swift_summary["per_level"][n]["median_px"],
                                              "pytorch_json": pt["per_level"][n]["median_px"]}
                                          for n in swift_summary["per_level"]}

    # ------------------------------------------------ (b) in- vs out-of-distribution
    groups = {}
    groups["id_validation_sagittal_t2"] = np.stack([imgs[c["index"]] for c in mid])
    groups["id_validation_volumes_slices_-3..+3"] = np.stack([imgs[c["index"]] for c in vol])
    # axial reformats of the three DICOM studies (node's pipeline: whole-series min-max, then each slice)
    ax = []
    for study in sorted(glob.glob(os.path.join(args.data, "dicom", "*"))):
        v, _ = reference.load_volume(os.path.join(study, "02_T2_AX_REFORMAT"))
        v8 = reference.min_max_uint8(v)
        ax += [resize160(np.ascontiguousarray(v8[k])) for k in range(len(v8) // 2 % 4, len(v8), 4)]
    groups["ood_axial_reformats_dicom"] = np.stack(ax)
    # coronal reformats of the validation volumes (axis1 = anterior->posterior fixed at the discs' mean column +-)
    cor = []
    import nibabel as nib
    for sid in val_ids:
        if not sources[sid].startswith("fcs"):
            continue
        d = os.path.join(args.data, "fastcleverseg", sid)
        lab = json.load(open(os.path.join(d, "labels.json")))
        v8 = to_uint8(np.asarray(nib.load(os.path.join(d, lab["image"])).dataobj))
        col = int(round(np.mean([p[1] for p in lab["midsag_disc_points_rowcol"].values()])))
        for off in (-10, -5, 0, 5, 10):
            cor.append(resize160(np.ascontiguousarray(v8[:, col + off, :])))
    groups["ood_coronal_reformats_validation_volumes"] = np.stack(cor)
    # contrast: intensity-inverted T2 (crude T1-like proxy: fluid dark, fat bright-ish; not a real T1)
    groups["ood_inverted_t2_validation"] = np.stack([resize160(255 - samples[c["index"]].image) for c in mid])
    # non-spine DICOM images shipped with pydicom (real test images)
    import pydicom
    from pydicom.data import get_testdata_file
    non_spine, non_spine_names = [], []
    for name in ("MR_small.dcm", "CT_small.dcm", "liver_1frame.dcm", "JPEG2000.dcm", "693_J2KI.dcm", "JPGExtended.dcm"):
        try:
            path = get_testdata_file(name, download=False)  # only the files shipped in the package
            ds = pydicom.dcmread(path)
            arr = ds.pixel_array
            if arr.ndim != 2:
                continue
            arr = arr.astype(np.float64) * float(ds.get("RescaleSlope", 1) or 1) + float(ds.get("RescaleIntercept", 0) or 0)
            non_spine.append(resize160(reference.min_max_uint8(arr)))
            non_spine_names.append(f"{name} ({ds.get('Modality', '?')}, {arr.shape[0]}x{arr.shape[1]}, "
                                   f"{str(ds.get('StudyDescription', '') or ds.get('SeriesDescription', '') or '').strip()})")
        except Exception as e:  # noqa: BLE001 - a test file that cannot be decoded here is just not used
            print(f"non-spine {name}: not used ({type(e).__name__}: {e})", flush=True)
    groups["ood_non_spine_pydicom_test_images"] = np.stack(non_spine)

    group_feats = {}
    for g, arr in groups.items():
        if g == "id_validation_sagittal_t2":
            group_feats[g] = list(feats_mid.values())
        else:
            group_feats[g] = [features(r) for r in swift_evaluate(args.bin, args.model, arr)["results"]]
    fkeys = ("l5s1_entropy", "l5s1_peak", "l5s1_spatial_entropy", "disc_entropy_mean", "disc_peak_min", "discs_found")
    distributions = {g: {k: dist([f[k] for f in fs]) for k in fkeys} | {
        "ladder_consistent_share": round(float(np.mean([f["ladder_consistent"] for f in fs])), 4)}
        for g, fs in group_feats.items()}
    # every disc channel pooled (5 values per image)
    id_ref = group_feats["id_validation_sagittal_t2"]
    ood_groups = [g for g in groups if g.startswith("ood_")]
    ood_all = [f for g in ood_groups for f in group_feats[g]]
    score_defs = {  # higher = more OOD
        "l5s1_entropy": lambda f: f["l5s1_entropy"],
        "disc_entropy_mean": lambda f: f["disc_entropy_mean"],
        "l5s1_peak (low = OOD)": lambda f: -f["l5s1_peak"],
        "disc_peak_min (low = OOD)": lambda f: -f["disc_peak_min"],
        "discs_missing": lambda f: 5 - f["discs_found"],
        "ladder_not_consistent": lambda f: 0.0 if f["ladder_consistent"] else 1.0,
    }
    aucs = {}
    for sname, fn in score_defs.items():
        aucs[sname] = {"all_ood": auc([fn(f) for f in id_ref], [fn(f) for f in ood_all])}
        for g in ood_groups:
            aucs[sname][g] = auc([fn(f) for f in id_ref], [fn(f) for f in group_feats[g]])
    ood = {
        "id_reference": "id_validation_sagittal_t2 (39 validation mid-sagittal slices)",
        "groups_n": {g: int(len(a)) for g, a in groups.items()},
        "non_spine_images": non_spine_names,
        "notes": {
            "entropy": "the node's per-channel entropy: -sum p log p over the 160x160 heatmap normalised to sum 1 "
                       "(reference metric), in nats; peak = max probability of the channel",
            "inverted_t2": "255 - 8-bit validation slice: a crude T1-like contrast proxy, not a real T1 acquisition",
            "axial": "every 4th slice of the three DICOM axial reformats, whole-series min-max as the node does",
            "coronal": "coronal reformats of the 4 validation volumes, 5 planes each (disc column +-5, +-10 mm)",
        },
        "distributions": distributions,
        "auc_id_vs_ood": aucs,
    }

    # ------------------------------------------------ (c) multi-slice option on the DICOM series
    with tempfile.TemporaryDirectory() as td:
        cfg = os.path.join(td, "any-mr.yaml")
        open(cfg, "w").write(ANY_MR)
        series = []
        for study in sorted(glob.glob(os.path.join(args.data, "dicom", "*"))):
            series.append((os.path.basename(study), "sagittal (ID)", os.path.join(study, "01_T2_TSE_SAG"), None))
            series.append((os.path.basename(study), "axial reformat (OOD)", os.path.join(study, "02_T2_AX_REFORMAT"), cfg))
        multi, timings, nb_timings = [], [], []
        for study, kind, path, config in series:
            row = {"study": study, "series": kind,
                   "trained_on": sha256_text(study.lower().replace("-", "_")) in train_hashes}
            # The reference's single pass; + 2 neighbours each side; + the ladder stability passes (the default).
            settings = {"reference": (0, False), "neighbours_2": (2, False), "default": (2, True)}
            for name, (n, stab) in settings.items():
                out, _ = analyze(args.bin, [path], n, config, args.model, stab)
                row[name] = series_summary(out[0])
            t = {name: [] for name in settings}
            for _ in range(args.timing_runs):
                for name, (n, stab) in settings.items():
                    t[name].append(analyze(args.bin, [path], n, config, args.model, stab)[1])
            row["wall_s_median"] = {name: round(statistics.median(v), 4) for name, v in t.items()}
            row["extra_s_neighbours_2"] = round(statistics.median(t["neighbours_2"]) - statistics.median(t["reference"]), 4)
            row["extra_s_default"] = round(statistics.median(t["default"]) - statistics.median(t["reference"]), 4)
            timings.append(row["extra_s_default"])
            nb_timings.append(row["extra_s_neighbours_2"])
            multi.append(row)
    id_rows = [r for r in multi if r["series"].startswith("sagittal")]
    ood_rows = [r for r in multi if not r["series"].startswith("sagittal")]

    def sep(key, sub=None):
        get = (lambda r: r["neighbours_2"]["neighbour"][key]) if sub else (lambda r: r["reference"][key])
        i, o = [get(r) for r in id_rows], [get(r) for r in ood_rows]
        return {"id": [round(x, 4) if x is not None else None for x in i],
                "ood": [round(x, 4) if x is not None else None for x in o],
                "auc": auc([x if x is not None else np.inf for x in i], [x if x is not None else np.inf for x in o])}
    multislice = {
        "series": multi,
        "separation (n = 3 vs 3; AUC, higher score = OOD)": {
            "single_slice_l5s1_entropy": sep("l5s1_entropy"),
            "single_slice_disc_entropy_mean": sep("disc_entropy_mean"),
            "neighbour_entropy_std_mean": sep("entropy_std_mean", True),
            "neighbour_entropy_range_max": sep("entropy_range_max", True),
        },
        "extra_wall_s_per_series_default_vs_reference": {"values": timings, "max": max(timings),
                                                          "median": round(statistics.median(timings), 4),
                                                          "what": "neighbours 2 + ladder stability (6 perturbed passes) "
                                                                  "vs the single middle slice"},
        "extra_wall_s_per_series_neighbours_2_only": {"values": nb_timings, "max": max(nb_timings),
                                                      "median": round(statistics.median(nb_timings), 4)},
        "timing_method": f"median of {args.timing_runs} runs of `lstv-node analyze --format json` per series and "
                         "setting (whole process: start, DICOM read, inference), interleaved; the 2-core shared "
                         "development machine, other builds possibly running",
    }
    try:
        blas = sw.get("blas_core")
    except Exception:  # noqa: BLE001
        blas = None
    result = {
        "model": {"name": meta["name"], "version": meta["version"], "sha256": model_sha},
        "engine": {"binary": os.path.relpath(args.bin, ROOT) if args.bin.startswith(ROOT) else args.bin,
                   "blas_core": blas, "evaluate_wall_s": round(swift_s, 2), "images": int(len(imgs))},
        "data_version": "sha256:" + data_version,
        "validation_subjects": val_ids,
        "decode": "Swift engine points: per class, mean (row, col) of pixels with p > 0.5 (reference convention)",
        "validation": swift_summary,
        "validation_volumes_all_slices": vol_summary,
        "shift_detection": entropy_catch,
        "pytorch_same_inputs": torch_cmp,
        "vs_VALIDATION_PYTORCH_json": compare,
        "ood": ood,
        "multislice": multislice,
        "cases": [{"subject_id": c["subject_id"], "source": c["source"],
                   "errors_px160": {k: round(v, 3) for k, v in c["result"]["errors"].items()},
                   "missing": c["result"]["missing"], "shifted": c["result"]["shifted"],
                   "consistent": c["result"]["consistent"],
                   "l5s1_entropy": round(feats_mid[c["subject_id"]]["l5s1_entropy"], 4),
                   "disc_entropy_mean": round(feats_mid[c["subject_id"]]["disc_entropy_mean"], 4)} for c in mid],
        "command": ".venv-tools/bin/python tools/evaluate_model.py",
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
