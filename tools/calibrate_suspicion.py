#!/usr/bin/env python3
"""Writes a model file's own suspicion calibration (the `suspicion` metadata key, docs/MODEL_FORMAT.md).

The calibration is set on NORMAL ANATOMY ONLY: the model's validation subjects (never trained on),
every prepared slice of them, run through the node's own engine (`lstv-node evaluate`):
1. the evidence of each slice (SuspicionEvidence.swift: the thoracolumbar rungs' spread, the
   locator's count shift, the lumbosacral spacings and the L5/S1 extent) gives each feature's
   normal range: median and standard deviation;
2. with those ranges in the file, the engine scores every slice's `lstv_suspicion`; the risk
   thresholds are put where `--high-fpr` and `--medium-fpr` of the normal slices lie above them
   (midway between two neighbouring normal values).
No edited anomaly is used here: the flag stays zero-shot (tools/evaluate_anomalies.py measures it).

    .venv-tools/bin/python tools/calibrate_suspicion.py --model models/lstv-localizer.safetensors \
        --version 1.3.0 --out models/lstv-localizer.safetensors
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lstv_tools import data, engine_cli  # noqa: E402
from lstv_tools.safetensors_header import read_metadata, rewrite_metadata  # noqa: E402
from lstv_tools.data import sha256_file  # noqa: E402

LADDER_TERM = 2.0  # an inconsistent ladder counts as two normal SDs


def evaluate(binary, model, images, locator):
    return engine_cli.evaluate(binary, model, images, locator)["results"]


def threshold_at(values, fpr):
    """The value above which at most `fpr` of `values` lie (midway between two neighbours)."""
    v = np.sort(np.asarray(values, float))
    k = int(np.floor(fpr * len(v)))  # normal cases allowed above
    if k == 0:
        return float(v[-1] + 1e-6)
    return float((v[len(v) - 1 - k] + v[len(v) - k]) / 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/lstv-localizer.safetensors")
    ap.add_argument("--out", default="models/lstv-localizer.safetensors")
    ap.add_argument("--version", required=True, help="the new file's metadata version")
    ap.add_argument("--binary", default=".build/release/lstv-node")
    ap.add_argument("--locator", default="models/lstv-thoracolumbar.safetensors",
                    help="the thoracolumbar locator the node will run with (or off)")
    ap.add_argument("--high-fpr", type=float, default=0.02)
    ap.add_argument("--medium-fpr", type=float, default=0.10)
    ap.add_argument("--report", default="models/SUSPICION_CALIBRATION.json")
    args = ap.parse_args()

    by_subject, sources, _, _ = data.load_all(cache_dir="models/cache")
    val = json.loads(read_metadata(args.model)["training"])["validation_subjects"]
    ids, images = [], []
    for sid in val:
        for s in by_subject[sid]:
            ids.append(f"{sid}@{s.slice_offset:+d}")
            images.append(data.resize160(s.image))
    images = np.stack(images)
    print(f"calibrate: {len(images)} normal slices of {len(val)} validation subjects")

    # Pass 1: the evidence, on a copy without any calibration.
    with tempfile.TemporaryDirectory() as td:
        bare = os.path.join(td, "bare.safetensors")
        rewrite_metadata(args.model, bare, {}, remove=("suspicion",))
        first = evaluate(args.binary, bare, images, args.locator)
        ranges = {}
        for name in first[0]["suspicion"]["evidence"]["features"]:
            v = np.array([r["suspicion"]["evidence"]["features"][name] for r in first
                          if r["suspicion"]["evidence"]["features"][name] is not None], float)
            if len(v) < 10:
                print(f"  {name}: {len(v)} slices, not scored")
                continue
            med, sd = float(np.median(v)), float(np.std(v))
            ranges[name] = {"median": round(med, 6), "sd": round(max(sd, 1e-6), 6)}
            print(f"  {name}: median {med:.4f}, sd {sd:.4f} ({len(v)} slices)")
        cal = {"features": ranges, "ladder_term": LADDER_TERM, "thresholds": {"high": 1e9, "medium": 1e9}, "provenance": ""}
        staged = os.path.join(td, "staged.safetensors")
        rewrite_metadata(bare, staged, {"suspicion": json.dumps(cal, separators=(",", ":"), sort_keys=True)})
        # Pass 2: the suspicion of every normal slice with those ranges.
        second = evaluate(args.binary, staged, images, args.locator)
    values = [r["suspicion"]["value"] for r in second]
    high = threshold_at(values, args.high_fpr)
    medium = threshold_at(values, args.medium_fpr)
    cal["thresholds"] = {"high": round(high, 4), "medium": round(medium, 4)}
    above = lambda t, strict: sum(v > t if strict else v >= t for v in values)  # noqa: E731
    cal["provenance"] = (f"{len(values)} normal slices of the {len(val)} validation subjects (tools/calibrate_suspicion.py,"
                         f" {datetime.date.today().isoformat()}): high at <= {args.high_fpr:.0%} of them"
                         f" ({above(cal['thresholds']['high'], True)} above), medium at <= {args.medium_fpr:.0%}"
                         f" ({above(cal['thresholds']['medium'], False)} at or above)")
    print(f"  thresholds: {cal['thresholds']}; {cal['provenance']}")
    rewrite_metadata(args.model, args.out, {"suspicion": json.dumps(cal, separators=(",", ":"), sort_keys=True),
                                            "version": args.version})
    report = {"model": os.path.basename(args.out), "version": args.version, "sha256": sha256_file(args.out),
              "calibration": cal,
              "normal_slices": [{"id": i, "lstv_suspicion": r["suspicion"]["value"], "risk": r["risk"],
                                 "evidence": r["suspicion"]["evidence"], "ladder": r["ladder"]["status"]}
                                for i, r in zip(ids, second)]}
    # The risk each normal slice gets with the final thresholds.
    t = cal["thresholds"]
    for s in report["normal_slices"]:
        v = s["lstv_suspicion"]
        s["risk"] = "high" if v > t["high"] else ("medium" if v >= t["medium"] else "low")
    with open(args.report, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    print(f"calibrate: wrote {args.out} ({report['sha256'][:12]}…) and {args.report}")


if __name__ == "__main__":
    main()
