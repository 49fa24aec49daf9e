"""Localizer model files (docs/MODEL_FORMAT.md): build the metadata, save with safetensors, read back, verify.

Offline only. The node reads these files with its own Swift loader (Sources/Engine); this module is
the writer side and the Python reader used to check round trips.
"""
from __future__ import annotations

import hashlib
import json

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .net import Net, REFERENCE_CLASSES
from .safetensors_header import canonicalise_header

FORMAT = "lstv-localizer/1"
# Buffers that the engine accepts and ignores (int64 scalars in the reference Net).
IGNORED_BUFFERS = ("D", "mean", "std")


def is_ignored(name: str) -> bool:
    return name in IGNORED_BUFFERS or name.endswith(".num_batches_tracked")


def build_metadata(architecture: dict, *, name: str, version: str, classes=None,
                   height: int = 160, width: int = 160, channels: int = 3,
                   scale: float = 255.0, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0),
                   source: str = "", training: dict | None = None) -> dict[str, str]:
    classes = list(classes or REFERENCE_CLASSES)
    if len(classes) != architecture["num_classes"]:
        raise ValueError(f"{len(classes)} class names for num_classes={architecture['num_classes']}")
    mean = [float(m) for m in mean]
    std = [float(s) for s in std]
    if len(mean) != channels or len(std) != channels:
        raise ValueError(f"mean/std need {channels} values, got {mean} / {std}")
    if any(s == 0 for s in std):
        raise ValueError("std must be non-zero")
    meta = {
        "format": FORMAT,
        "name": name,
        "version": version,
        "architecture": json.dumps(architecture, separators=(",", ":")),
        "classes": json.dumps(classes),
        "input": json.dumps({"height": height, "width": width, "channels": channels}),
        "normalization": json.dumps({"scale": float(scale), "mean": mean, "std": std}),
        "source": source,
    }
    if training is not None:
        meta["training"] = json.dumps(training, separators=(",", ":"))
    return meta


def expected_shapes(architecture: dict) -> dict[str, tuple]:
    """Every tensor of the reference Net for this architecture, name -> shape."""
    return {k: tuple(v.shape) for k, v in Net(architecture).state_dict().items()}


def save_model(path, state_dict: dict, metadata: dict[str, str], dtype: torch.dtype = torch.float32) -> None:
    """Write a model file. Floating tensors are stored as `dtype` (float32 or float16); the int64
    buffers (D, mean, std, num_batches_tracked) stay int64 scalars."""
    if dtype not in (torch.float32, torch.float16):
        raise ValueError(f"weights must be float32 or float16, not {dtype}")
    arch = json.loads(metadata["architecture"])
    shapes = expected_shapes(arch)
    out = {}
    for k, v in state_dict.items():
        if k not in shapes:
            raise ValueError(f"unexpected tensor {k} for this architecture")
        if tuple(v.shape) != shapes[k]:
            raise ValueError(f"tensor {k}: shape {tuple(v.shape)}, architecture wants {shapes[k]}")
        v = v.detach().cpu()
        if is_ignored(k):
            v = v.to(torch.int64).reshape(())
        else:
            v = v.to(dtype)
        out[k] = v.contiguous()
    missing = [k for k in shapes if k not in out and not is_ignored(k)]
    if missing:
        raise ValueError(f"missing tensor {missing[0]} ({len(missing)} missing)")
    save_file(out, str(path), metadata=metadata)
    canonicalise_header(path)


def load_model(path) -> tuple[dict, dict[str, str]]:
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return tensors, meta


def verify_round_trip(path, state_dict: dict, metadata: dict[str, str], dtype: torch.dtype = torch.float32) -> None:
    """Read the file back and compare every tensor and metadata key; raise on the first difference."""
    tensors, meta = load_model(path)
    if meta != metadata:
        diff = sorted(k for k in set(meta) | set(metadata) if meta.get(k) != metadata.get(k))
        raise ValueError(f"metadata differs on {diff}")
    if meta.get("format") != FORMAT:
        raise ValueError(f"format {meta.get('format')!r}")
    for k, v in state_dict.items():
        if k not in tensors:
            raise ValueError(f"tensor {k} missing from {path}")
        got = tensors[k]
        if is_ignored(k):
            if int(got) != int(v):
                raise ValueError(f"buffer {k}: {int(got)} != {int(v)}")
            continue
        want = v.detach().cpu().to(dtype)
        if got.dtype != dtype or tuple(got.shape) != tuple(want.shape) or not torch.equal(got, want):
            raise ValueError(f"tensor {k} differs after the round trip")
    extra = set(tensors) - set(state_dict)
    if extra:
        raise ValueError(f"unexpected tensor {sorted(extra)[0]} in {path}")


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def net_from_file(path) -> tuple[Net, dict[str, str]]:
    """The reference Net with the file's weights (float32), for checks against the engine."""
    tensors, meta = load_model(path)
    net = Net(json.loads(meta["architecture"]))
    sd = net.state_dict()
    for k in sd:
        if k in tensors:
            sd[k] = tensors[k].to(sd[k].dtype)
    net.load_state_dict(sd)
    return net.eval(), meta


def predict(path, images, batch: int = 16):
    """Softmax output (N, C, H, W) of the file's network on prepared 8-bit slices (N, H, W), normalised
    with the file's own `normalization` (x/scale, (x - mean)/std, repeated to 3 channels): what the
    engine computes, for side-by-side checks."""
    import numpy as np

    net, meta = net_from_file(path)
    norm = json.loads(meta["normalization"])
    mean, std = norm["mean"][0], norm["std"][0]
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = (np.asarray(images[i:i + batch], dtype=np.float32) / norm["scale"] - mean) / std
            t = torch.from_numpy(x)[:, None].expand(-1, 3, -1, -1).contiguous()
            out.append(net(t).numpy())
    return np.concatenate(out)

