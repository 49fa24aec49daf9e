#!/usr/bin/env python3
"""Benchmark inputs for bench/localizer: the full-size reference network (resnet50d + U-Net, 6
classes, 160x160) with seeded random weights and non-trivial BatchNorm, as
  OUT/bench_model.safetensors  (docs/MODEL_FORMAT.md, float32) — for the engine
  OUT/bench_model.onnx         (same weights, opset 17, dynamic batch) — for onnxruntime
  OUT/bench_cases.safetensors  ("input": 8x3x160x160 normalised, "probs": PyTorch float64 probabilities)
Random weights time exactly like trained ones; the cases let the bench check the engine's output
on the full network too.

Usage: .venv-tools/bin/python tools/make_bench_model.py [--out bench/out]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lstv_tools.net import Net, REFERENCE_ARCHITECTURE, randomise  # noqa: E402
from lstv_tools.model_file import build_metadata, save_model, verify_round_trip  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "bench/out"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(2024)
    x = torch.randn(8, 3, 160, 160, generator=g)
    net = Net(REFERENCE_ARCHITECTURE)
    randomise(net, x, g)
    net.eval()
    meta = build_metadata(REFERENCE_ARCHITECTURE, name="bench-resnet50d-unet", version="0.0.0",
                          mean=[0.5] * 3, std=[0.5] * 3, source="tools/make_bench_model.py seed 2024 (random weights)")
    path = out / "bench_model.safetensors"
    save_model(path, net.state_dict(), meta)
    verify_round_trip(path, net.state_dict(), meta)
    with torch.no_grad():
        probs = net.double()(x.double()).float()
    net.float()
    save_file({"input": x.contiguous(), "probs": probs.contiguous()}, str(out / "bench_cases.safetensors"))
    torch.onnx.export(net, (x[:1],), str(out / "bench_model.onnx"), input_names=["input"], output_names=["probs"],
                      dynamic_axes={"input": {0: "n"}, "probs": {0: "n"}}, opset_version=17, dynamo=False)
    n = sum(p.numel() for p in net.parameters())
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {n / 1e6:.2f} M parameters), bench_model.onnx, bench_cases.safetensors")


if __name__ == "__main__":
    main()
