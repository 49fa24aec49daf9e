"""The reference localizer network (`Net`) in plain PyTorch, with timm-compatible parameter names.

timm's resnet50d encoder (deep stem, avg-down shortcuts, bottleneck blocks) and a U-Net decoder
(nearest 2x upsample, concat skip, two conv3x3-BN-ReLU per block), a 1x1 `logit` conv, softmax over
classes. The architecture is a dict (the `architecture` metadata of docs/MODEL_FORMAT.md), so the
same code builds the full reference network, the small golden-test network and the bundled model.
Offline use only (tools, training, fixtures): the node never imports torch.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

REFERENCE_ARCHITECTURE = {
    "encoder": {
        "type": "resnet", "block": "bottleneck", "layers": [3, 4, 6, 3],
        "widths": [64, 128, 256, 512], "expansion": 4, "stem": "deep", "stem_width": 32,
        "stem_pool": "avg", "avg_down": True,
    },
    "decoder": {"widths": [256, 128, 64, 32, 16]},
    "num_classes": 6,
}
REFERENCE_CLASSES = ["background", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
# timm's ImageNet normalisation (resnet50d's pretrained_cfg): the test fixtures' networks use it.
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class _Residual(nn.Module):
    """A timm residual block: convN/bnN/actN stages (timm's names, so checkpoints load), the last
    stage's activation after the shortcut is added."""

    def _stages(self, inplanes, convs, downsample):
        """``convs``: (out channels, kernel, stride) per stage, from ``inplanes``."""
        cin = inplanes
        for i, (cout, k, stride) in enumerate(convs, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False))
            setattr(self, f"bn{i}", nn.BatchNorm2d(cout))
            setattr(self, f"act{i}", nn.ReLU(inplace=True))
            cin = cout
        self.stages = len(convs)
        self.downsample = downsample

    def forward(self, x):
        shortcut = x
        for i in range(1, self.stages + 1):
            x = getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x))
            if i < self.stages:
                x = getattr(self, f"act{i}")(x)
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        return getattr(self, f"act{self.stages}")(x + shortcut)


class Bottleneck(_Residual):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self._stages(inplanes, [(planes, 1, 1), (planes, 3, stride), (planes * self.expansion, 1, 1)], downsample)


class BasicBlock(_Residual):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self._stages(inplanes, [(planes, 3, stride), (planes, 3, 1)], downsample)


class ResNetEncoder(nn.Module):
    """timm ResNet (resnet*d when stem == 'deep' and avg_down) without the classifier."""

    def __init__(self, cfg: dict, in_chans: int = 3):
        super().__init__()
        block = Bottleneck if cfg["block"] == "bottleneck" else BasicBlock
        widths = cfg["widths"]
        inplanes = widths[0]
        if cfg["stem"] == "deep":
            sw = cfg["stem_width"]
            self.conv1 = nn.Sequential(
                nn.Conv2d(in_chans, sw, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(sw), nn.ReLU(inplace=True),
                nn.Conv2d(sw, sw, 3, stride=1, padding=1, bias=False),
                nn.BatchNorm2d(sw), nn.ReLU(inplace=True),
                nn.Conv2d(sw, inplanes, 3, stride=1, padding=1, bias=False),
            )
        else:
            self.conv1 = nn.Conv2d(in_chans, inplanes, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.act1 = nn.ReLU(inplace=True)
        self.stem_pool = cfg.get("stem_pool", "avg")
        self.out_channels = [inplanes]
        for i, (n, planes) in enumerate(zip(cfg["layers"], widths)):
            stride = 1 if i == 0 else 2
            out = planes * block.expansion
            downsample = None
            if stride != 1 or inplanes != out:
                if cfg.get("avg_down", False):
                    pool = nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False) if stride > 1 else nn.Identity()
                    downsample = nn.Sequential(pool, nn.Conv2d(inplanes, out, 1, bias=False), nn.BatchNorm2d(out))
                else:
                    downsample = nn.Sequential(nn.Conv2d(inplanes, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
            blocks = [block(inplanes, planes, stride, downsample)]
            inplanes = out
            blocks += [block(inplanes, planes) for _ in range(1, n)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            self.out_channels.append(out)

    def forward(self, x):
        """Features at strides 2, 4, 8, 16, 32."""
        x = self.act1(self.bn1(self.conv1(x)))
        features = [x]
        if self.stem_pool == "avg":
            x = F.avg_pool2d(x, kernel_size=2, stride=2)
        else:
            x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
            features.append(x)
        return features


def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DecoderBlock(nn.Module):
    def __init__(self, cin, cskip, cout):
        super().__init__()
        self.conv1 = conv_bn_relu(cin + cskip, cout)
        self.conv2 = conv_bn_relu(cout, cout)

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], 1)
        return self.conv2(self.conv1(x))


class UnetDecoder(nn.Module):
    def __init__(self, in_channel, skip_channels, out_channels):
        super().__init__()
        ins = [in_channel] + list(out_channels[:-1])
        self.block = nn.ModuleList([DecoderBlock(i, s, o) for i, s, o in zip(ins, skip_channels, out_channels)])

    def forward(self, feature, skips):
        d = feature
        for block, s in zip(self.block, skips):
            d = block(d, s)
        return d


class Net(nn.Module):
    """The localizer. forward() takes (B, 3, H, W) already normalised and returns softmax probabilities."""

    def __init__(self, architecture: dict | None = None):
        super().__init__()
        arch = architecture or REFERENCE_ARCHITECTURE
        self.architecture = arch
        # Buffers of the reference checkpoint (int64 scalars); kept so a state_dict round-trips.
        self.register_buffer("D", torch.tensor(0))
        self.register_buffer("mean", torch.tensor(0))
        self.register_buffer("std", torch.tensor(1))
        self.encoder = ResNetEncoder(arch["encoder"])
        enc = self.encoder.out_channels  # [stem, l1, l2, l3, l4]
        skips = [enc[3], enc[2], enc[1], enc[0], 0]
        widths = arch["decoder"]["widths"]
        self.decoder = UnetDecoder(enc[4], skips, widths)
        self.logit = nn.Conv2d(widths[-1], arch["num_classes"], 1)

    def forward_logits(self, x):
        f = self.encoder(x)
        skips = [f[3], f[2], f[1], f[0], None]
        return self.logit(self.decoder(f[4], skips))

    def forward(self, x):
        return torch.softmax(self.forward_logits(x), dim=1)


def randomise(net: "Net", calib: torch.Tensor, g: torch.Generator, logit_scale: float = 3.0,
              draw_in_weight_dtype: bool = False) -> None:
    """Random weights for test fixtures (golden outputs, the analyze fixture): random conv weights,
    BN statistics from a train-mode pass over `calib` then perturbed, random gamma/beta, and logits
    scaled by `logit_scale` so probabilities are neither flat nor saturated.
    `draw_in_weight_dtype`: draw the random numbers in each tensor's dtype (float64 for a double
    network) rather than torch's default float32; each committed fixture was made with one of the two,
    so the flag keeps both reproducible."""
    def kw(t: torch.Tensor) -> dict:
        return {"dtype": t.dtype} if draw_in_weight_dtype else {}

    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g, **kw(m.weight)) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g, **kw(m.bias)) * 0.5)
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g, **kw(m.weight)) * 1.2 + 0.3)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g, **kw(m.bias)) * 0.2)
                m.momentum = None  # cumulative average: one pass gives the batch statistics
                m.reset_running_stats()
        net.train()
        net(calib)
        net.eval()
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                sd = m.running_var.sqrt()
                m.running_mean.add_(torch.randn(m.running_mean.shape, generator=g, **kw(sd)) * 0.2 * sd)
                m.running_var.mul_(torch.rand(m.running_var.shape, generator=g, **kw(sd)) * 1.0 + 0.6)
                m.momentum = 0.1
        net.logit.weight.mul_(logit_scale)
