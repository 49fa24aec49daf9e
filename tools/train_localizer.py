#!/usr/bin/env python3
"""Train the bundled vertebral-level localizer (issue 4) on the real lumbar MRI, on CPU.

    .venv-tools/bin/python tools/train_localizer.py            # full run, writes models/lstv-localizer.safetensors

Seeded and deterministic (torch deterministic algorithms, 2 threads, one process). Inputs are
prepared exactly as the inference pipeline prepares them: whole-volume 8-bit min-max, bilinear
resize to 160x160 (cv2 INTER_LINEAR), x/255, (x-mean)/std, the grey slice repeated to 3 channels.
Targets: each labelled point is a small disc (radius --radius px at 160) of its class on a
background class; the estimated positions of levels a subject does not label are ignored.
Classes: background, the five discs L1/L2..L5/S1, and the landmarks T12/L1, L1..L5 (bodies) and S1 (the sacrum anchor, derived).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lstv_tools.data import (CLASSES, CLASS_INDEX, LADDER, SIZE, load_all, resize160,  # noqa: E402
                             sha256_text, split_subjects, default_data_root)
from lstv_tools import model_file  # noqa: E402
from lstv_tools.net import Net  # noqa: E402
from lstv_tools.train_eval import score_case, summarize, true_points_160  # noqa: E402
from lstv_tools.training import Trainer, grey_batch, optimiser  # noqa: E402

ROOT = os.path.dirname(HERE)
IGNORE = 255

ARCHS = {
    # resnet34d-like basic-block encoder at half width, U-Net decoder.
    "r34h": {"encoder": {"type": "resnet", "block": "basic", "layers": [3, 4, 6, 3], "widths": [32, 64, 128, 256],
                         "expansion": 1, "stem": "deep", "stem_width": 16, "stem_pool": "avg", "avg_down": True},
             "decoder": {"widths": [128, 64, 32, 32, 16]}},
    # resnet18d-like at half width (faster, for quick experiments).
    "r18h": {"encoder": {"type": "resnet", "block": "basic", "layers": [2, 2, 2, 2], "widths": [32, 64, 128, 256],
                         "expansion": 1, "stem": "deep", "stem_width": 16, "stem_pool": "avg", "avg_down": True},
             "decoder": {"widths": [128, 64, 32, 32, 16]}},
}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=default_data_root(), help="the shared lumbar data folder")
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "lstv-localizer.safetensors"))
    ap.add_argument("--validation-out", default=os.path.join(ROOT, "models", "VALIDATION_PYTORCH.json"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "models", "cache"))
    ap.add_argument("--arch", default="r34h", choices=sorted(ARCHS))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--radius", type=float, default=3.5, help="target disc radius, px at 160")
    ap.add_argument("--fg-weight", type=float, default=2.0, help="CE weight of every level class (background 1)")
    ap.add_argument("--volume-weight", type=float, default=3.0, help="sampling weight of a 3D subject vs a 2D one")
    ap.add_argument("--vesal-weight", type=float, default=2.0)
    ap.add_argument("--rot", type=float, default=12.0, help="affine augmentation: max rotation, degrees")
    ap.add_argument("--scale-min", type=float, default=0.7, help="affine augmentation: scale range (log-uniform)")
    ap.add_argument("--scale-max", type=float, default=1.4)
    ap.add_argument("--shift", type=float, default=20.0, help="affine augmentation: max shift, px at 160")
    ap.add_argument("--edge-crop", type=float, default=0.0,
                    help="share of augmented images moved so that the sacrum (S1) sits at the lower image edge, as in "
                         "fields of view that end at the sacrum")
    ap.add_argument("--seed", type=int, default=20240606)
    ap.add_argument("--split-seed", type=int, default=0)
    ap.add_argument("--val-fraction", type=float, default=0.2)
    ap.add_argument("--eval-every", type=int, default=0, help="evaluate every N steps (0: only at the end)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: on a shared 2-core machine, 2 threads were 3-5x slower)")
    ap.add_argument("--name", default="lstv-localizer")
    ap.add_argument("--version", default="1.2.0")
    ap.add_argument("--no-save", action="store_true")
    return ap.parse_args()


# ----------------------------------------------------------------------------------------------
# Augmentation: one affine from the original image to 160x160 (no flips), then intensity.

def base_matrix(shape):
    """The affine of cv2.resize to 160x160 (half-pixel convention), in (x=col, y=row) order."""
    h, w = shape
    sx, sy = SIZE / w, SIZE / h
    return np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]], np.float64)


AUG = {"rot": 12.0, "scale_min": 0.7, "scale_max": 1.4, "shift": 20.0}  # set from the command line in main()


def random_matrix(rng, shape):
    m = base_matrix(shape)
    c = (SIZE - 1) / 2
    ang = math.radians(rng.uniform(-AUG["rot"], AUG["rot"]))
    s = math.exp(rng.uniform(math.log(AUG["scale_min"]), math.log(AUG["scale_max"])))
    a = math.exp(rng.uniform(-0.1, 0.1))
    sx, sy = s * a, s / a
    tx, ty = rng.uniform(-AUG["shift"], AUG["shift"]), rng.uniform(-AUG["shift"], AUG["shift"])
    t1 = np.array([[1, 0, -c], [0, 1, -c], [0, 0, 1]], np.float64)
    rs = np.array([[sx * math.cos(ang), -sy * math.sin(ang), 0], [sx * math.sin(ang), sy * math.cos(ang), 0], [0, 0, 1]])
    t2 = np.array([[1, 0, c + tx], [0, 1, c + ty], [0, 0, 1]], np.float64)
    return t2 @ rs @ t1 @ m


def to_lower_edge(rng, m, s1):
    """Moves the affine `m` vertically so that the sacrum point `s1` (row, col) lands on rows 148-162
    at 160: the sacrum barely in view, the last lumbar disc just above it."""
    y = m[1, 0] * s1[1] + m[1, 1] * s1[0] + m[1, 2]
    out = m.copy()
    out[1, 2] += rng.uniform(148, 162) - y
    return out


def apply_points(m, pts: dict) -> dict:
    out = {}
    for k, (r, c) in pts.items():
        x = m[0, 0] * c + m[0, 1] * r + m[0, 2]
        y = m[1, 0] * c + m[1, 1] * r + m[1, 2]
        out[k] = (float(y), float(x))
    return out


def intensity(rng, x: np.ndarray) -> np.ndarray:
    """x float32 in [0,1] (160x160)."""
    x = np.clip(x, 0, 1) ** math.exp(rng.uniform(-0.4, 0.4))
    mu = float(x.mean())
    x = (x - mu) * math.exp(rng.uniform(-0.3, 0.3)) + mu + rng.uniform(-0.08, 0.08)
    if rng.rand() < 0.25:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.3, 1.0))
    if rng.rand() < 0.5:
        x = x + rng.normal(0, rng.uniform(0.005, 0.03), x.shape).astype(np.float32)
    x = np.clip(x, 0, 1)
    return (np.round(x * 255) / 255).astype(np.float32)  # the engine sees 8-bit pixels


_YY, _XX = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)


def make_target(points160: dict, estimated160: dict, radius: float) -> np.ndarray:
    tgt = np.zeros((SIZE, SIZE), np.uint8)
    ladder = {**estimated160, **points160}
    seq = [ladder[n] for n in LADDER if n in ladder]
    half = float(np.median([math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(seq, seq[1:])])) if len(seq) > 1 else 8.0
    r_ign = max(radius + 2.0, 0.6 * half)
    for name, (r, c) in estimated160.items():
        if name in CLASS_INDEX:
            tgt[(_YY - r) ** 2 + (_XX - c) ** 2 <= r_ign ** 2] = IGNORE
    for name, (r, c) in points160.items():
        if name in CLASS_INDEX:
            tgt[(_YY - r) ** 2 + (_XX - c) ** 2 <= radius ** 2] = CLASS_INDEX[name]
    return tgt


def normalise(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return (x - mean) / std


def prepare_eval(sample) -> np.ndarray:
    """Exactly the inference pipeline: 8-bit (already), cv2 bilinear resize, /255."""
    return resize160(sample.image).astype(np.float32) / 255.0


# ----------------------------------------------------------------------------------------------

def evaluate(model, samples, mean, std, offsets=(0,)):
    """Score the validation subjects (volumes: the slices at the given offsets from mid-sagittal)."""
    model.eval()
    cases = []
    with torch.no_grad():
        for s in samples:
            if s.slice_offset not in offsets:
                continue
            x = normalise(prepare_eval(s), mean, std)
            t = torch.from_numpy(x)[None, None].expand(1, 3, SIZE, SIZE).contiguous()
            prob = model(t)[0].numpy()
            mm = s.spacing * s.image.shape[0] / SIZE if s.spacing else None
            cases.append({"subject_id": s.subject_id if s.slice_offset == 0 else f"{s.subject_id}@{s.slice_offset:+d}",
                          "source": s.source, "mm_per_px160": mm,
                          "result": score_case(prob, true_points_160(s))})
    model.train()
    return cases


def report(cases):
    summ = summarize(cases)
    by_source = {}
    for src in sorted({c["source"] for c in cases}):
        s = summarize([c for c in cases if c["source"] == src])
        by_source[src] = {k: s[k] for k in ("subjects", "disc_points", "disc_within_10px", "disc_median_px",
                                              "disc_missing", "subjects_with_level_shift", "subjects_inconsistent")}
    summ["by_source"] = by_source
    return summ


def short(summ):
    return (f"discs<=10px {summ['disc_within_10px']:.3f} med {summ['disc_median_px']} p90 {summ['disc_p90_px']} "
            f"missing {summ['disc_missing']} shifts {summ['subjects_with_level_shift']}/{summ['subjects']} "
            f"inconsistent {summ['subjects_inconsistent']}")


def main():
    args = parse_args()
    AUG.update(rot=args.rot, scale_min=args.scale_min, scale_max=args.scale_max, shift=args.shift)
    t_start = time.time()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    torch.use_deterministic_algorithms(True)
    rng = np.random.RandomState(args.seed)

    by_subject, sources, data_version, excluded = load_all(args.data, args.cache)
    train_ids, val_ids = split_subjects(sources, args.val_fraction, args.split_seed)
    print(f"data {data_version[:12]}: {len(by_subject)} subjects ({len(train_ids)} train, {len(val_ids)} val), "
          f"excluded (no level names) {excluded}", flush=True)

    # Normalisation from the training images as the engine prepares them.
    train_px = np.concatenate([prepare_eval(by_subject[s][len(by_subject[s]) // 2]).ravel() for s in train_ids])
    mean, std = round(float(train_px.mean()), 4), round(float(train_px.std()), 4)
    print(f"normalisation mean {mean} std {std}", flush=True)

    weights = np.array([args.volume_weight if sources[s].startswith("fcs") else
                        args.vesal_weight if sources[s] == "vesal" else 1.0 for s in train_ids])
    weights = weights / weights.sum()

    arch = dict(ARCHS[args.arch], num_classes=len(CLASSES))
    model = Net(arch)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"arch {args.arch}: {n_params / 1e6:.2f}M parameters", flush=True)
    opt, sched, warm = optimiser(model, args.steps, args.lr, args.weight_decay)
    class_w = torch.tensor([1.0] + [args.fg_weight] * (len(CLASSES) - 1))

    val_samples = [s for sid in val_ids for s in by_subject[sid]]
    model.train()
    trainer = Trainer(model, opt, sched, args.steps, every=50)
    for step in range(args.steps):
        xs, ys = [], []
        for sid in rng.choice(train_ids, size=args.batch, p=weights):
            samples = by_subject[sid]
            s = samples[rng.randint(len(samples))]
            m = random_matrix(rng, s.image.shape) if rng.rand() < 0.9 else base_matrix(s.image.shape)
            if args.edge_crop and "S1" in s.points and rng.rand() < args.edge_crop:
                m = to_lower_edge(rng, m, s.points["S1"])
            img = cv2.warpAffine(s.image, m[:2], (SIZE, SIZE), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            x = intensity(rng, img.astype(np.float32) / 255.0)
            tgt = make_target(apply_points(m, s.points), apply_points(m, s.estimated), args.radius)
            xs.append(normalise(x, mean, std))
            ys.append(tgt)
        trainer.step(step, grey_batch(xs), torch.from_numpy(np.stack(ys)).long(), weight=class_w, ignore_index=IGNORE)
        if args.eval_every and (step + 1) % args.eval_every == 0 and step + 1 < args.steps:
            print(f"  val@{step + 1}: {short(report(evaluate(model, val_samples, mean, std)))}", flush=True)
    train_time = trainer.seconds

    recipe = {
        "arch": args.arch, "steps": args.steps, "batch": args.batch, "optimizer": "AdamW", "lr": args.lr,
        "weight_decay": args.weight_decay, "schedule": f"linear warmup {warm} steps, cosine to 0",
        "loss": f"cross-entropy, class weights background 1 / levels {args.fg_weight}, ignore_index for the "
                "estimated positions of levels a subject does not label",
        "target_radius_px160": args.radius, "input": "8-bit whole-volume min-max, cv2 INTER_LINEAR resize to 160, x/255",
        "augmentation": f"affine (rotation +-{args.rot:g} deg, scale {args.scale_min:g}-{args.scale_max:g}, aspect +-10%, "
                        f"shift +-{args.shift:g} px; 10% none), "
                        + (f"{args.edge_crop:g} of the images with S1 moved to the lower edge, " if args.edge_crop else "")
                        + "gamma, contrast, brightness, blur, noise, 8-bit rounding; no flips",
        "sampling": f"by subject; 3D subjects x{args.volume_weight}, vesal x{args.vesal_weight}; "
                    "volumes: a random slice of mid-sagittal -3..+3",
        "seed": args.seed, "split_seed": args.split_seed, "val_fraction": args.val_fraction,
        "threads": args.threads, "torch": torch.__version__,
    }

    # Float16 weights (what ships): saved with lstv_tools.model_file, read back, and validated from the file.
    training_meta = {
        "data_version": "sha256:" + data_version,
        "data": "../shared/data/lumbar (tianchi_spark_2d, vesal_png_2d, fastcleverseg IVD + VB2)",
        "train_subjects_sha256": sorted(sha256_text(s) for s in train_ids),
        "validation_subjects": val_ids,
        "excluded_subjects": excluded,
        "recipe": recipe,
    }
    meta = model_file.build_metadata(
        arch, name=args.name, version=args.version, classes=CLASSES, scale=255.0, mean=[mean] * 3, std=[std] * 3,
        source=f"trained by tools/train_localizer.py ({args.arch}, {args.steps} steps, seed {args.seed}) on "
               f"../shared/data/lumbar index.json sha256 {data_version}",
        training=training_meta)
    out_path = args.out if not args.no_save else os.path.join(args.cache, "last-run.safetensors")
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    model_file.save_model(out_path, model.state_dict(), meta, dtype=torch.float16)
    model_file.verify_round_trip(out_path, model.state_dict(), meta, dtype=torch.float16)
    shipped, _ = model_file.net_from_file(out_path)

    cases = evaluate(shipped, val_samples, mean, std)
    summ = report(cases)
    vol_cases = evaluate(shipped, val_samples, mean, std, offsets=tuple(range(-3, 4)))
    vol_summ = report([c for c in vol_cases if c["source"].startswith("fcs")])
    print(f"validation (float16 file): {short(summ)}", flush=True)
    print(f"validation volumes, all slices -3..+3: {short(vol_summ)}", flush=True)
    print(f"training time {train_time / 60:.1f} min", flush=True)

    out = {
        "model": args.name, "version": args.version, "file_sha256": model_file.sha256_file(out_path),
        "classes": CLASSES, "architecture": arch,
        "normalization": {"scale": 255.0, "mean": [mean] * 3, "std": [std] * 3},
        "data_version": "sha256:" + data_version, "validation_subjects": val_ids,
        "decode": "per class, mean (row, col) of pixels with p > 0.5; weights read back from the float16 file",
        "validation": summ, "validation_volumes_all_slices": vol_summ,
        "cases": [{"subject_id": c["subject_id"], "source": c["source"], "errors_px160": c["result"]["errors"],
                   "missing": c["result"]["missing"], "shifted": c["result"]["shifted"],
                   "consistent": c["result"]["consistent"], "entropy": c["result"]["entropy"]} for c in cases],
        "train_time_min": round(train_time / 60, 1), "total_time_min": round((time.time() - t_start) / 60, 1),
        "recipe": recipe,
    }
    if args.no_save:
        print(json.dumps(summ, indent=1))
        return
    with open(args.validation_out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB) and {args.validation_out}", flush=True)


if __name__ == "__main__":
    main()
