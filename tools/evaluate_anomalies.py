#!/usr/bin/env python3
"""How `lstv_suspicion` and `risk` respond to lumbar count anomalies (test-only edits of real slices).

For every validation subject of the model (never trained on) that labels L5/S1, the mid-sagittal
slice and its edits (lstv_tools.anomalies: six_lumbar, four_lumbar, thin_disc, and a control that is
only resampled) run through the node's own engine (`lstv-node evaluate`, the series pipeline's
passes and scoring). Reported per kind: ROC AUC of the suspicion (edit against its own unedited
original), the share given `high` and `medium`+, and the same for the reference L5/S1 entropy.

Selection effects, stated in the output: the calibration's normal ranges and thresholds come from
these same validation subjects (in-sample for the originals), and the evidence was chosen by looking
at edits of them. Subjects kept apart by the data README are the real test.

    .venv-tools/bin/python tools/evaluate_anomalies.py --out models/ANOMALIES.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lstv_tools import anomalies, data, engine_cli  # noqa: E402
from lstv_tools.safetensors_header import read_metadata  # noqa: E402


def auc(neg, pos) -> float:
    """ROC AUC (Mann-Whitney, ties count half)."""
    neg, pos = np.asarray(neg, float), np.asarray(pos, float)
    gt = (pos[:, None] > neg[None, :]).sum()
    eq = (pos[:, None] == neg[None, :]).sum()
    return float((gt + 0.5 * eq) / (len(pos) * len(neg)))


def evaluate(binary, model, images, locator):
    return engine_cli.evaluate(binary, model, images, locator)["results"]


def cases(model, subjects=None):
    """[(subject, kind, 160x160 uint8, description)] for the model's validation subjects."""
    by_subject, _, _, _ = data.load_all(cache_dir=os.environ.get("LSTV_DATA_CACHE"))
    val = json.loads(read_metadata(model)["training"])["validation_subjects"]
    out = []
    for sid in val if subjects is None else [s for s in val if s in subjects]:
        s = next(x for x in by_subject[sid] if x.slice_offset == 0)
        if "L5/S1" not in s.points:
            continue
        out.append((sid, "original", data.resize160(s.image), "unedited"))
        for kind in anomalies.KINDS:
            rng = np.random.RandomState(zlib.crc32(f"{sid}/{kind}".encode()))
            e = anomalies.make(kind, s.image, s.points, rng)
            out.append((sid, kind, data.resize160(e.image), e.description))
    return out


def summarise(rows):
    orig = {r["subject"]: r for r in rows if r["kind"] == "original"}
    n = len(orig)
    summary = {"subjects": n,
               "normal": {"high": sum(r["risk"] == "high" for r in orig.values()) / n,
                          "medium_or_high": sum(r["risk"] != "low" for r in orig.values()) / n,
                          "lumbar_count": {str(v): sum(r["lumbar_count"] == v for r in orig.values()) / n for v in (4, 5, 6, None)}}}
    for kind in anomalies.KINDS:
        edited = [r for r in rows if r["kind"] == kind]
        base = [orig[r["subject"]] for r in edited]
        summary[kind] = {
            "n": len(edited),
            "auc_suspicion": auc([b["lstv_suspicion"] for b in base], [r["lstv_suspicion"] for r in edited]),
            "auc_l5s1_entropy": auc([b["l5s1_entropy"] for b in base], [r["l5s1_entropy"] for r in edited]),
            "high": sum(r["risk"] == "high" for r in edited) / len(edited),
            "medium_or_high": sum(r["risk"] != "low" for r in edited) / len(edited),
            "lumbar_count": {str(v): sum(r["lumbar_count"] == v for r in edited) / len(edited) for v in (4, 5, 6, None)},
            "reasons": {c: sum(any(x.startswith(p) for x in r["reasons"]) for r in edited) / len(edited)
                        for c, p in (("count", "Lumbar count"), ("thoracolumbar", "Thoracolumbar junction"),
                                     ("assignment", "Level assignment"), ("junction", "Lumbosacral junction"),
                                     ("lowest_disc", "Lowest disc"), ("ladder", "Level ladder"))},
        }
    return summary


def run(binary, model, locator, subjects=None):
    cs = cases(model, subjects)
    results = evaluate(binary, model, np.stack([c[2] for c in cs]), locator)
    rows = []
    for (sid, kind, _, desc), r in zip(cs, results):
        rows.append({"subject": sid, "kind": kind, "edit": desc, "lstv_suspicion": r["suspicion"]["value"],
                     "risk": r["risk"], "l5s1_entropy": r["classes"]["L5/S1"]["entropy"],
                     "terms": {t["component"]: t["z"] for t in r["suspicion"]["terms"]},
                     "reasons": r["suspicion"]["reasons"], "ladder": r["ladder"]["status"],
                     "lumbar_count": r["suspicion"]["lumbar_count"]["value"],
                     "features": r["suspicion"]["evidence"]["features"]})
    return rows, summarise(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/lstv-localizer.safetensors")
    ap.add_argument("--binary", default=".build/release/lstv-node")
    ap.add_argument("--out", default="models/ANOMALIES.json")
    ap.add_argument("--locator", default="models/lstv-thoracolumbar.safetensors")
    args = ap.parse_args()
    os.environ.setdefault("LSTV_DATA_CACHE", "models/cache")
    rows, summary = run(args.binary, args.model, args.locator)
    meta = read_metadata(args.model)
    report = {"model": {"name": meta["name"], "version": meta["version"]},
              "selection": "validation subjects of the model; calibration and feature choice saw them (in-sample)",
              "summary": summary, "cases": rows}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
