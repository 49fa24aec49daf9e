"""The training loop's shared steps (train_localizer.py, train_thoracolumbar.py): optimiser and
schedule, one cross-entropy step on a batch of grey images, progress lines."""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F


def optimiser(model: torch.nn.Module, steps: int, lr: float, weight_decay: float):
    """AdamW with a linear warm-up over the first 5 % of the steps, then a cosine to 0.
    Returns (optimiser, scheduler, warm-up steps)."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: (i + 1) / warm if i < warm else 0.5 * (1 + math.cos(math.pi * (i - warm) / max(1, steps - warm))))
    return opt, sched, warm


def grey_batch(images: list[np.ndarray]) -> torch.Tensor:
    """(N, 3, H, W) from N normalised grey (H, W) images: the network takes three equal channels."""
    return torch.from_numpy(np.stack(images))[:, None].expand(-1, 3, -1, -1).contiguous()


class Trainer:
    """One optimiser step per batch; a progress line every ``every`` steps."""

    def __init__(self, model, opt, sched, steps: int, every: int):
        self.model, self.opt, self.sched, self.steps, self.every = model, opt, sched, steps, every
        self.t0 = time.time()
        self.running: list[float] = []

    def step(self, step: int, x: torch.Tensor, y: torch.Tensor, **loss_args) -> None:
        loss = F.cross_entropy(self.model.forward_logits(x), y, **loss_args)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.sched.step()
        self.running.append(loss.item())
        if (step + 1) % self.every == 0:
            el = time.time() - self.t0
            print(f"step {step + 1}/{self.steps} loss {np.mean(self.running):.4f} lr {self.sched.get_last_lr()[0]:.2e} "
                  f"{el / (step + 1):.2f}s/step eta {el / (step + 1) * (self.steps - step - 1) / 60:.1f} min", flush=True)
            self.running = []

    @property
    def seconds(self) -> float:
        return time.time() - self.t0
