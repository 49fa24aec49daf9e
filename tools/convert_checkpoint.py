#!/usr/bin/env python3
"""Convert a PyTorch checkpoint of the reference localizer Net into a model file (docs/MODEL_FORMAT.md).

    .venv-tools/bin/python tools/convert_checkpoint.py IN.pth OUT.safetensors \
        [--name rsna2024-resnet50d-unet] [--version 1.0.0] [--mean M [M M]] [--std S [S S]] \
        [--classes background,L1/L2,...] [--height 160 --width 160] [--float16]

Accepts {'state_dict': ...}, {'model_state_dict': ...}, {'model': ...} or a bare state_dict; strips a
`module.` prefix (DataParallel). Keys follow the reference Net: encoder.conv1.{0,1,3,4,6} (deep stem)
or encoder.conv1 (plain), encoder.bn1, encoder.layerN.i.{conv,bn}{1,2,3}, encoder.layerN.0.downsample.*,
decoder.block.K.conv{1,2}.{0,1}, logit. The architecture is inferred from the tensor shapes and then
checked by building the reference Net and matching every name and shape (the RSNA reference,
resnet50d + U-Net 256/128/64/32/16, comes out of this unchanged).

Normalisation (x = (pixel/255 - mean[c]) / std[c], as the reference code's forward does): --mean/--std
when given, else the checkpoint's `mean`/`std` buffers; if neither exists the conversion fails (the
preprocessing must be stated, not guessed). The written file is read back and every tensor compared.
Needs torch, safetensors, numpy; not timm.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lstv_tools.net import REFERENCE_CLASSES  # noqa: E402
from lstv_tools.model_file import (build_metadata, expected_shapes, is_ignored, save_model,  # noqa: E402
                                   sha256_file, verify_round_trip)


def extract_state_dict(obj) -> dict:
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                return extract_state_dict(obj[key])
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in obj.items()}
    if isinstance(obj, torch.nn.Module):
        return extract_state_dict(obj.state_dict())
    raise SystemExit("no state_dict found: expected {'state_dict': ...}, {'model_state_dict': ...} or a bare state_dict")


def infer_architecture(sd: dict) -> dict:
    """The architecture JSON from the tensor shapes."""
    def shape(k):
        if k not in sd:
            raise SystemExit(f"cannot infer the architecture: tensor {k} is missing")
        return tuple(sd[k].shape)

    deep = "encoder.conv1.0.weight" in sd
    if deep:
        stem_width = shape("encoder.conv1.0.weight")[0]
        inplanes = shape("encoder.conv1.6.weight")[0]
    else:
        stem_width = shape("encoder.conv1.weight")[0]
        inplanes = stem_width
    bottleneck = "encoder.layer1.0.conv3.weight" in sd
    layers, widths = [], []
    for i in range(1, 5):
        blocks = {int(m.group(1)) for k in sd for m in [re.match(rf"encoder\.layer{i}\.(\d+)\.", k)] if m}
        if not blocks:
            raise SystemExit(f"cannot infer the architecture: no encoder.layer{i} tensors")
        layers.append(max(blocks) + 1)
        widths.append(shape(f"encoder.layer{i}.0.conv1.weight")[0])
    avg_down = any(re.match(r"encoder\.layer\d\.0\.downsample\.2\.weight", k) for k in sd)
    dec = []
    k = 0
    while f"decoder.block.{k}.conv1.0.weight" in sd:
        dec.append(shape(f"decoder.block.{k}.conv1.0.weight")[0])
        k += 1
    num_classes = shape("logit.weight")[0]
    # timm's resnet*d uses avg-down + deep stem; the reference Net pools the stem with avg_pool2d.
    # A plain-stem checkpoint (timm resnet18/34/50) came with timm's max pool.
    return {
        "encoder": {"type": "resnet", "block": "bottleneck" if bottleneck else "basic", "layers": layers,
                    "widths": widths, "expansion": 4 if bottleneck else 1, "stem": "deep" if deep else "plain",
                    "stem_width": stem_width, "stem_pool": "avg" if deep else "max", "avg_down": avg_down},
        "decoder": {"widths": dec},
        "num_classes": num_classes,
    }, inplanes


def check_against_reference(sd: dict, arch: dict) -> None:
    want = expected_shapes(arch)
    for k, s in want.items():
        if is_ignored(k):
            continue
        if k not in sd:
            raise SystemExit(f"checkpoint lacks tensor {k} (architecture {json.dumps(arch)})")
        if tuple(sd[k].shape) != s:
            raise SystemExit(f"tensor {k}: shape {tuple(sd[k].shape)}, the architecture needs {s}")
    extra = [k for k in sd if k not in want]
    if extra:
        raise SystemExit(f"checkpoint has tensors the reference Net does not: {extra[:5]}")


def buffer_values(t: torch.Tensor | None) -> list[float] | None:
    if t is None:
        return None
    v = t.detach().double().flatten().tolist()
    if len(v) == 1:
        v = v * 3
    if len(v) != 3:
        raise SystemExit(f"mean/std buffer has {len(v)} values; need 1 or 3")
    return v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--name", default="rsna2024-resnet50d-unet")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--mean", type=float, nargs="+")
    ap.add_argument("--std", type=float, nargs="+")
    ap.add_argument("--classes", help="comma-separated class names (default: background + the five discs)")
    ap.add_argument("--height", type=int, default=160)
    ap.add_argument("--width", type=int, default=160)
    ap.add_argument("--float16", action="store_true", help="store weights as float16 (half the file)")
    args = ap.parse_args()

    obj = torch.load(args.input, map_location="cpu", weights_only=False)
    sd = extract_state_dict(obj)
    arch, inplanes = infer_architecture(sd)
    if inplanes != arch["encoder"]["widths"][0]:
        raise SystemExit(f"stem outputs {inplanes} channels, layer1 expects {arch['encoder']['widths'][0]}: unsupported")
    check_against_reference(sd, arch)

    def flag(v):
        return None if v is None else (v * 3 if len(v) == 1 else v)

    mean = flag(args.mean) or buffer_values(sd.get("mean"))
    std = flag(args.std) or buffer_values(sd.get("std"))
    if mean is None or std is None:
        raise SystemExit("no mean/std buffers in the checkpoint: pass --mean and --std (x = (pixel/255 - mean)/std)")
    classes = args.classes.split(",") if args.classes else REFERENCE_CLASSES
    if len(classes) != arch["num_classes"]:
        raise SystemExit(f"{len(classes)} class names for a {arch['num_classes']}-class logit layer: pass --classes")

    # The engine ignores D/mean/std; keep them only as the int64 scalars the format describes.
    tensors = {}
    for k, v in sd.items():
        if k in ("D", "mean", "std") and (v.numel() != 1 or v.is_floating_point()):
            continue
        tensors[k] = v
    source = f"converted from {Path(args.input).name} sha256 {sha256_file(args.input)}"
    meta = build_metadata(arch, name=args.name, version=args.version, classes=classes,
                          height=args.height, width=args.width, mean=mean, std=std, source=source)
    dtype = torch.float16 if args.float16 else torch.float32
    save_model(args.output, tensors, meta, dtype=dtype)
    verify_round_trip(args.output, tensors, meta, dtype=dtype)
    n = sum(v.numel() for k, v in tensors.items() if not is_ignored(k))
    print(json.dumps({"output": args.output, "parameters": n, "architecture": arch, "mean": mean, "std": std,
                      "sha256": sha256_file(args.output)}))


if __name__ == "__main__":
    main()
