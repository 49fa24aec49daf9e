#!/usr/bin/env python3
"""Golden fixtures for the engine tests (Tests/EngineTests/Fixtures).

Two small networks with the reference layer types and seeded random weights:
  * golden_bottleneck: deep stem, avg stem pool, bottleneck blocks [2,1,1,1] with avg-down shortcuts,
    widths 16/32/64/128 (x4), stem_width 8, decoder 32/16/8/8/8, 6 classes. Stored as float16 (so it
    also exercises the F16 load path; PyTorch runs on exactly the rounded values).
  * golden_basic: plain 7x7 stem, max stem pool, basic blocks [1,1,1,1], strided-conv shortcuts
    (no avg-down), widths 8/16/32/64, decoder 16/8/8/8/8, 4 classes. Stored as float32.

Every BatchNorm is non-trivial: running statistics come from a train-mode pass over the inputs (so
activations stay O(1) through the random network) and are then perturbed; gamma/beta are random
(timm zeroes the last gamma of each block, which would hide residual-path bugs). The references are
computed in float64, eval mode. Expected outputs are softmax probabilities, stored as float32.

Usage: .venv-tools/bin/python tools/make_golden.py [--out Tests/EngineTests/Fixtures]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lstv_tools.net import IMAGENET_MEAN, IMAGENET_STD, Net, randomise  # noqa: E402
from lstv_tools.model_file import build_metadata, save_model, verify_round_trip  # noqa: E402

BOTTLENECK = {
    "encoder": {"type": "resnet", "block": "bottleneck", "layers": [2, 1, 1, 1], "widths": [16, 32, 64, 128],
                "expansion": 4, "stem": "deep", "stem_width": 8, "stem_pool": "avg", "avg_down": True},
    "decoder": {"widths": [32, 16, 8, 8, 8]},
    "num_classes": 6,
}
BASIC = {
    "encoder": {"type": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "widths": [8, 16, 32, 64],
                "expansion": 1, "stem": "plain", "stem_width": 8, "stem_pool": "max", "avg_down": False},
    "decoder": {"widths": [16, 8, 8, 8, 8]},
    "num_classes": 4,
}
MEAN, STD = IMAGENET_MEAN, IMAGENET_STD


def normalise_grey(grey: torch.Tensor) -> torch.Tensor:
    """(N,H,W) 0..255 -> (N,3,H,W) per the metadata: x = (p/255 - mean[c]) / std[c]."""
    x = grey.double().unsqueeze(1).repeat(1, 3, 1, 1) / 255.0
    m = torch.tensor(MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    s = torch.tensor(STD, dtype=torch.float64).view(1, 3, 1, 1)
    return (x - m) / s


def grey_images(n: int, h: int, w: int, g: torch.Generator) -> torch.Tensor:
    """Integer grey levels 0..255: noise over smooth blobs, like a CT/MR slice more than white noise."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    out = []
    for _ in range(n):
        img = torch.zeros(h, w)
        for _ in range(6):
            cy, cx = (torch.rand(2, generator=g) * 2 - 1).tolist()
            r = 0.1 + 0.4 * torch.rand(1, generator=g).item()
            img += 120 * torch.rand(1, generator=g).item() * torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / r ** 2)
        img += 30 * torch.rand(h, w, generator=g)
        out.append(img.clamp(0, 255).round())
    return torch.stack(out)


def build(arch: dict, name: str, seed: int, calib: torch.Tensor) -> Net:
    g = torch.Generator().manual_seed(seed)
    net = Net(arch).double()
    randomise(net, calib.double(), g)
    return net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "Tests/EngineTests/Fixtures"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    # --- bottleneck / deep stem / avg pool / avg-down, float16 file ---
    g = torch.Generator().manual_seed(1234)
    grey = grey_images(2, 160, 160, g)                                # batch 2, metadata size
    xf = torch.randn(1, 3, 64, 96, generator=g, dtype=torch.float64)  # non-square, float path
    net = build(BOTTLENECK, "golden-bottleneck", 11, normalise_grey(grey))
    # Round to float16 first; the reference runs on exactly the stored values.
    sd16 = {k: (v.half().double() if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    net.load_state_dict(sd16)
    meta = build_metadata(BOTTLENECK, name="golden-bottleneck", version="0.0.1", height=160, width=160,
                          mean=MEAN, std=STD, source="tools/make_golden.py seed 11 (random weights)")
    path = out / "golden_bottleneck.safetensors"
    save_model(path, net.state_dict(), meta, dtype=torch.float16)
    verify_round_trip(path, net.state_dict(), meta, dtype=torch.float16)
    with torch.no_grad():
        p_grey = net(normalise_grey(grey))
        p_float = net(xf.float().double())  # the file stores the input as float32: run on exactly that
    save_file({"grey": grey.float().contiguous(), "probs_grey": p_grey.float().contiguous(),
               "input_float": xf.float().contiguous(), "probs_float": p_float.float().contiguous()},
              str(out / "golden_bottleneck_cases.safetensors"))

    # --- basic / plain stem / max pool / strided-conv shortcut, float32 file ---
    g = torch.Generator().manual_seed(99)
    xb = torch.randn(2, 3, 64, 64, generator=g).double()
    net = build(BASIC, "golden-basic", 22, xb)
    meta = build_metadata(BASIC, name="golden-basic", version="0.0.1", classes=["background", "a", "b", "c"],
                          height=64, width=64, mean=MEAN, std=STD, source="tools/make_golden.py seed 22 (random weights)")
    sd32 = {k: (v.float().double() if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    net.load_state_dict(sd32)
    path = out / "golden_basic.safetensors"
    save_model(path, net.state_dict(), meta, dtype=torch.float32)
    verify_round_trip(path, net.state_dict(), meta, dtype=torch.float32)
    with torch.no_grad():
        pb = net(xb.float().double())
    save_file({"input_float": xb.float().contiguous(), "probs_float": pb.float().contiguous()},
              str(out / "golden_basic_cases.safetensors"))

    total = sum(f.stat().st_size for f in out.glob("golden_*"))
    for f in sorted(out.glob("golden_*")):
        print(f"{f.name}: {f.stat().st_size} bytes")
    print(f"total {total} bytes")
    if total > 4 * 1024 * 1024:
        raise SystemExit("fixtures exceed 4 MB")
    # A summary for humans: probability spread (not used by the tests).
    print(json.dumps({"bottleneck_max_prob_mean": float(p_grey.max(1).values.mean()),
                      "basic_max_prob_mean": float(pb.max(1).values.mean())}))


if __name__ == "__main__":
    main()
