"""A configurable U-Net in plain torch: SE, residual blocks, attention gates, ASPP, any input size."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from segment.config import ModelSpec


@dataclass
class UNetSpec(ModelSpec):
    """The architecture options of TrainConfig (ModelSpec), plus the data-dependent channel and
    class counts."""

    in_channels: int = 1
    num_classes: int = 5


class SqueezeExcite(nn.Module):
    """Channel re-weighting from globally pooled features (Hu et al. 2018)."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = F.adaptive_avg_pool2d(x, 1)  # (B, C, 1, 1)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(w))))


def conv_bn_relu(cin: int, cout: int, batchnorm: bool, dilation: int = 1) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=not batchnorm)
    ]
    if batchnorm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ConvBlock(nn.Module):
    """Two 3x3 convolutions, optional residual shortcut, optional SE, then spatial dropout."""

    def __init__(self, cin: int, cout: int, spec: UNetSpec) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(cin, cout, spec.batchnorm), conv_bn_relu(cout, cout, spec.batchnorm)
        )
        self.shortcut = None
        if spec.residual:
            self.shortcut = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)
        self.se = SqueezeExcite(cout) if spec.se else nn.Identity()
        self.drop = nn.Dropout2d(spec.spatial_dropout) if spec.spatial_dropout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.se(self.body(x))
        if self.shortcut is not None:
            y = y + self.shortcut(x)
        return self.drop(y)


class AttentionGate(nn.Module):
    """Additive attention (Oktay et al. 2018): the decoder signal decides which skip pixels pass."""

    def __init__(self, gate_ch: int, skip_ch: int) -> None:
        super().__init__()
        hidden = max(skip_ch // 2, 4)
        self.wg = nn.Conv2d(gate_ch, hidden, 1)
        self.wx = nn.Conv2d(skip_ch, hidden, 1)
        self.psi = nn.Conv2d(hidden, 1, 1)

    def forward(self, gate: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        a = torch.sigmoid(self.psi(F.relu(self.wg(gate) + self.wx(skip))))  # (B, 1, H, W)
        return skip * a


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: parallel dilated convolutions plus an image-level branch."""

    def __init__(self, cin: int, cout: int, batchnorm: bool, rates: tuple[int, ...] = (1, 2, 4)):
        super().__init__()
        self.branches = nn.ModuleList(conv_bn_relu(cin, cout, batchnorm, r) for r in rates)
        self.pool = nn.Conv2d(cin, cout, 1)
        self.project = nn.Conv2d(cout * (len(rates) + 1), cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.relu(self.pool(F.adaptive_avg_pool2d(x, 1))).expand(-1, -1, *x.shape[2:])
        return F.relu(self.project(torch.cat([b(x) for b in self.branches] + [pooled], 1)))


class UpBlock(nn.Module):
    """Upsample by 2, optionally gate the skip, concatenate, convolve."""

    def __init__(self, cin: int, skip_ch: int, cout: int, spec: UNetSpec) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, skip_ch, 2, stride=2)
        self.gate = AttentionGate(skip_ch, skip_ch) if spec.attention else None
        self.block = ConvBlock(skip_ch * 2, cout, spec)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        if self.gate is not None:
            skip = self.gate(x, skip)
        return self.block(torch.cat([x, skip], 1))


class UNet(nn.Module):
    """Encoder of `depth` levels, bottleneck (optionally ASPP), mirrored decoder with skips.

    Inputs of any height and width are padded to a multiple of 2**depth and the logits cropped
    back, so the output is always (B, num_classes, H, W) for an input (B, in_channels, H, W).
    """

    def __init__(self, spec: UNetSpec) -> None:
        super().__init__()
        self.spec = spec
        widths = [spec.base_width * 2**i for i in range(spec.depth + 1)]
        self.encoders = nn.ModuleList()
        cin = spec.in_channels
        for w in widths[:-1]:
            self.encoders.append(ConvBlock(cin, w, spec))
            cin = w
        if spec.aspp:
            self.bottleneck: nn.Module = ASPP(cin, widths[-1], spec.batchnorm)
        else:
            self.bottleneck = ConvBlock(cin, widths[-1], spec)
        self.decoders = nn.ModuleList(
            UpBlock(widths[i + 1], widths[i], widths[i], spec) for i in reversed(range(spec.depth))
        )
        self.dropout = nn.Dropout(spec.dropout) if spec.dropout else nn.Identity()
        self.head = nn.Conv2d(widths[0], spec.num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        x = pad_to_multiple(x, 2**self.spec.depth)
        skips = []
        for enc in self.encoders:
            x = enc(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for dec, skip in zip(self.decoders, reversed(skips)):
            x = dec(x, skip)
        return self.head(self.dropout(x))[..., :h, :w]


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad (B, C, H, W) on the bottom/right so H and W divide by `multiple` (reflect when possible)."""
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
