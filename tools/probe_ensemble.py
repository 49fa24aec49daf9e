#!/usr/bin/env python3
"""Would averaging several trained localizers count levels better than one? (model card, issue 4)

    .venv-tools/bin/python tools/probe_ensemble.py models/cache/runs/{D,E,F,G,H}.safetensors

For every combination of the given model files (same classes, same validation split), the members'
softmax outputs are averaged and scored like a single model (`train_eval.score_case`: reference
decode, level shifts against the labels, the static ladder check without the stability passes) on
the validation mid-sagittal slices and, separately, the volumes' slices -3..+3. PyTorch, offline.
Prints one line per combination; `--json` writes them too. The engine runs one network per model
file; this probe is how the card decides whether an ensemble format is worth having.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lstv_tools.data import load_all, resize160  # noqa: E402
from lstv_tools.model_file import load_model, predict  # noqa: E402
from lstv_tools.train_eval import score_case, summarize, true_points_160  # noqa: E402

OFFSETS = range(-3, 4)


def probabilities(path: str, samples: dict) -> tuple[dict, list[str], list[str]]:
    """-> ({image key: (prob (C,H,W), sample)}, classes, validation subject ids) for one model file."""
    meta = load_model(path)[1]
    validation = json.loads(meta["training"])["validation_subjects"]
    images = [s for sid in validation for s in samples[sid] if s.slice_offset in OFFSETS]
    probs = predict(path, np.stack([resize160(s.image) for s in images]))
    keys = [s.subject_id if s.slice_offset == 0 else f"{s.subject_id}@{s.slice_offset:+d}" for s in images]
    return {k: (p, s) for k, p, s in zip(keys, probs, images)}, json.loads(meta["classes"]), validation


def score(members: list[dict]) -> dict:
    """Average the members' probabilities per image and summarise mid slices and volume slices apart."""
    cases = []
    for key, (_, s) in members[0].items():
        prob = np.mean([m[key][0] for m in members], axis=0)
        cases.append({"subject_id": key, "source": s.source, "mm_per_px160": None,
                      "result": score_case(prob, true_points_160(s))})
    mid = summarize([c for c in cases if "@" not in c["subject_id"]])
    volume = summarize([c for c in cases if "@" in c["subject_id"]])
    return {"disc_within_10px": mid["disc_within_10px"], "shifted": sorted(mid["level_shifts"]),
            "shifts_caught": mid["shifts_caught_by_consistency"], "flagged": mid["subjects_inconsistent"],
            "volume_slices_shifted": volume["subjects_with_level_shift"],
            "volume_slices_flagged": volume["subjects_inconsistent"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="model files (safetensors) trained on the same split")
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    samples = load_all(cache_dir=os.path.join(os.path.dirname(HERE), "models", "cache"))[0]
    runs, reference = {}, None
    for path in args.models:
        probs, classes, validation = probabilities(path, samples)
        if reference is None:
            reference = (classes, validation)
        elif (classes, validation) != reference:
            sys.exit(f"{path}: classes or validation split differ from {args.models[0]}; cannot average")
        runs[os.path.splitext(os.path.basename(path))[0]] = probs
    rows = []
    for r in range(1, len(runs) + 1):
        for combo in itertools.combinations(runs, r):
            row = {"members": list(combo), **score([runs[m] for m in combo])}
            rows.append(row)
            print(f"{'+'.join(combo):<12} within 10px {row['disc_within_10px']:.3f}  "
                  f"shifted {len(row['shifted'])} {row['shifted']} caught {row['shifts_caught']}  "
                  f"flagged {row['flagged']}  | volume slices shifted {row['volume_slices_shifted']} "
                  f"flagged {row['volume_slices_flagged']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
