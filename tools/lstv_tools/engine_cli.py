"""The node's own engine from Python: `lstv-node evaluate` on prepared 8-bit slices (no torch)."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile

import numpy as np


def evaluate(binary, model, images: np.ndarray, locator: str | None = None) -> dict:
    """The evaluate command's JSON for uint8 slices N x H x W at the model's input size; `locator`:
    the thoracolumbar locator (a file or `off`; None: the node's default)."""
    assert images.dtype == np.uint8 and images.ndim == 3
    with tempfile.TemporaryDirectory() as td:
        npy, out = os.path.join(td, "x.npy"), os.path.join(td, "out.json")
        np.save(npy, np.ascontiguousarray(images))
        cmd = [str(binary), "evaluate", "--model", str(model), "--images", npy, "--output", out]
        if locator is not None:
            cmd += ["--locator", str(locator)]
        subprocess.run(cmd, check=True)
        with open(out) as f:
            return json.load(f)
