#!/usr/bin/env python3
"""Train the thoracolumbar locator: the count's second anchor, which cannot see the sacrum.

The bundled localizer counts up from the sacrum, so on a spine with four or six lumbar vertebrae it
moves its whole ladder and stays confident. This small network looks only at a window around the
disc that the localizer calls T12/L1 (WINDOW_STEPS level steps square, so the sacrum, five steps and
more below, is never in it) and finds the T12/L1 disc from local appearance: the conus, the
diaphragm crura, the thoracic bodies and discs above it and the lumbar ones below. Where it puts
T12/L1 against the localizer's rung is the count evidence (docs/MODEL_FORMAT.md, `thoracolumbar`).

Trained on NORMAL anatomy only (the localizer's training split, the same subjects), with the window
centre moved along the spine by up to +-SHIFT_STEPS level steps, so that the window's centre says
nothing about where T12/L1 is. Edited anomalies are never used.

    .venv-tools/bin/python tools/train_thoracolumbar.py     # writes models/lstv-thoracolumbar.safetensors
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lstv_tools.data import load_all, resize160, sha256_text, split_subjects, to160  # noqa: E402
from lstv_tools import model_file  # noqa: E402
from lstv_tools.net import Net  # noqa: E402
from lstv_tools.training import Trainer, grey_batch, optimiser  # noqa: E402

ROOT = os.path.dirname(HERE)
IGNORE = 255
SIZE = 96                 # window input, px
WINDOW_STEPS = 4.0        # window side, in level steps (disc to disc)
SHIFT_STEPS = 1.5         # training: window centre moved along the spine by up to this
CLASSES = ["background", "T12/L1"]
DISC_LADDER = ["T11/T12", "T12/L1", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
ARCH = {"encoder": {"type": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "widths": [16, 32, 64, 128],
                    "expansion": 1, "stem": "deep", "stem_width": 16, "stem_pool": "avg", "avg_down": True},
        "decoder": {"widths": [64, 32, 16, 16, 16]}, "num_classes": len(CLASSES)}


def set_window(steps: float) -> None:
    global WINDOW_STEPS
    if steps / 2 + SHIFT_STEPS >= 5:
        raise SystemExit(f"a window of {steps} steps moved by {SHIFT_STEPS} would show the sacrum")
    WINDOW_STEPS = steps


def window_matrix(center, step, angle=0.0, scale=1.0):
    """The affine from the 160 grid (x=col, y=row) to the SIZE window centred at `center` (row, col),
    WINDOW_STEPS x `step` px square; the engine computes the same (ThoracolumbarLocator.swift)."""
    s = SIZE / (WINDOW_STEPS * step) * scale
    c, sn = math.cos(angle), math.sin(angle)
    half = (SIZE - 1) / 2
    # window = R*S*(p - center) + half
    m = np.array([[s * c, -s * sn, 0], [s * sn, s * c, 0]], np.float64)
    m[:, 2] = -m[:, :2] @ np.array([center[1], center[0]]) + half
    return m


def disc_points160(sample):
    """The labelled discs at 160, T12/L1 first; None when T12/L1 is not labelled."""
    pts = {k: to160(v, sample.image.shape) for k, v in sample.points.items()}
    if "T12/L1" not in pts:
        return None
    return {k: np.array(pts[k]) for k in DISC_LADDER if k in pts}


def axis_and_step(discs):
    seq = [discs[k] for k in DISC_LADDER if k in discs]
    gaps = [np.linalg.norm(b - a) for a, b in zip(seq, seq[1:])]
    step = float(np.median(gaps))
    down = seq[-1] - seq[0]
    return down / np.linalg.norm(down), step


def make_example(rng, sample, discs, augment=True):
    img160 = resize160(sample.image)
    axis, step = axis_and_step(discs)
    t12 = discs["T12/L1"]
    if augment:
        off = rng.uniform(-SHIFT_STEPS, SHIFT_STEPS) * step * axis + rng.uniform(-0.3, 0.3) * step * np.array([axis[1], -axis[0]])
        m = window_matrix(t12 + off, step * math.exp(rng.uniform(-0.15, 0.15)), math.radians(rng.uniform(-10, 10)))
    else:
        m = window_matrix(t12, step)
    win = cv2.warpAffine(img160, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    tgt = np.zeros((SIZE, SIZE), np.uint8)
    r = 0.28 * SIZE / WINDOW_STEPS * m[0, 0] / (SIZE / (WINDOW_STEPS * step))  # radius 0.28 level step
    p = m @ np.array([t12[1], t12[0], 1.0])
    tgt[(yy - p[1]) ** 2 + (xx - p[0]) ** 2 <= r ** 2] = CLASSES.index("T12/L1")
    return win, tgt


def intensity(rng, x):
    x = np.clip(x, 0, 1) ** math.exp(rng.uniform(-0.4, 0.4))
    mu = float(x.mean())
    x = (x - mu) * math.exp(rng.uniform(-0.3, 0.3)) + mu + rng.uniform(-0.08, 0.08)
    if rng.rand() < 0.5:
        x = x + rng.normal(0, rng.uniform(0.005, 0.03), x.shape).astype(np.float32)
    return (np.round(np.clip(x, 0, 1) * 255) / 255).astype(np.float32)


def decode_offset(prob_t12, m, center, axis, step):
    """Where the window puts T12/L1, in level steps along the spine from `center` (+ = caudal)."""
    ys, xs = np.nonzero(prob_t12 > 0.5)
    if len(ys) == 0:
        return None
    inv = cv2.invertAffineTransform(m)
    x, y = inv @ np.array([xs.mean(), ys.mean(), 1.0])
    return float(np.dot(np.array([y, x]) - center, axis) / step)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "lstv-thoracolumbar.safetensors"))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=20241130)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--window-steps", type=float, default=WINDOW_STEPS,
                    help="window side in level steps (the sacrum must stay out: half of it + the shift < 5)")
    args = ap.parse_args()
    set_window(args.window_steps)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    torch.use_deterministic_algorithms(True)
    rng = np.random.RandomState(args.seed)

    by_subject, sources, data_version, excluded = load_all(cache_dir=os.path.join(ROOT, "models", "cache"))
    train_ids, val_ids = split_subjects(sources)  # the localizer's split: its validation subjects stay unseen
    train = [(s, d) for sid in train_ids for s in by_subject[sid] if (d := disc_points160(s)) is not None and len(d) >= 3]
    val = [(s, d) for sid in val_ids for s in by_subject[sid] if s.slice_offset == 0 and (d := disc_points160(s)) is not None and len(d) >= 3]
    print(f"{len(train)} training images, {len(val)} validation images with T12/L1", flush=True)
    px = np.concatenate([make_example(rng, s, d, False)[0].ravel() / 255.0 for s, d in train[:200]])
    mean, std = round(float(px.mean()), 4), round(float(px.std()), 4)

    model = Net(ARCH)
    opt, sched, _ = optimiser(model, args.steps, args.lr, 1e-4)
    weight = torch.tensor([1.0, 4.0])
    trainer = Trainer(model, opt, sched, args.steps, every=100)
    for step in range(args.steps):
        xs, ys = [], []
        for k in rng.randint(len(train), size=args.batch):
            win, tgt = make_example(rng, *train[k])
            xs.append((intensity(rng, win.astype(np.float32) / 255.0) - mean) / std)
            ys.append(tgt)
        trainer.step(step, grey_batch(xs), torch.from_numpy(np.stack(ys)).long(), weight=weight)

    # Validation: window centred on the labelled T12/L1 moved by -1, 0, +1 steps (as a miscount
    # would move it); the locator should find the labelled T12/L1 each time.
    model.eval()
    found = {-1: [], 0: [], 1: []}
    with torch.no_grad():
        for s, d in val:
            axis, st = axis_and_step(d)
            for k in found:
                c = d["T12/L1"] + k * st * axis
                m = window_matrix(c, st)
                win = cv2.warpAffine(resize160(s.image), m, (SIZE, SIZE), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)
                x = torch.from_numpy((win.astype(np.float32) / 255.0 - mean) / std)[None, None].expand(1, 3, -1, -1).contiguous()
                prob = model(x)[0, 1].numpy()
                o = decode_offset(prob, m, c, axis, st)
                found[k].append(None if o is None else o + k)  # offset of the found point from the labelled T12/L1
    for k, v in found.items():
        ok = [abs(o) < 0.5 for o in v if o is not None]
        print(f"window moved {k:+d} step: T12/L1 found within half a step in {sum(ok)}/{len(v)} (missing {sum(o is None for o in v)})")

    meta = model_file.build_metadata(
        ARCH, name="lstv-thoracolumbar", version=args.version, classes=CLASSES, height=SIZE, width=SIZE,
        scale=255.0, mean=[mean] * 3, std=[std] * 3,
        source=f"trained by tools/train_thoracolumbar.py ({args.steps} steps, seed {args.seed}) on "
               f"../shared/data/lumbar index.json sha256 {data_version}",
        training={"data_version": "sha256:" + data_version, "train_subjects_sha256": sorted(sha256_text(s) for s in train_ids),
                  "validation_subjects": val_ids, "window_steps": WINDOW_STEPS, "shift_steps": SHIFT_STEPS,
                  "validation": {str(k): [None if o is None else round(o, 3) for o in v] for k, v in found.items()}})
    meta["window"] = json.dumps({"steps": WINDOW_STEPS})
    model_file.save_model(args.out, model.state_dict(), meta, dtype=torch.float16)
    print(f"wrote {args.out} in {trainer.seconds / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
