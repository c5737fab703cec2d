"""The hash model h = tanh(a * W f(normalise(x))) of reference section 1."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from saatlib.models.backbones import IMAGENET_BACKBONES, build_backbone

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Normalize(nn.Module):
    """(x - mean) / std per channel; grey input is repeated to 3 channels when
    the backbone expects RGB. Input (B, C, H, W) in [0, 1]."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...], to_rgb: bool = False):
        super().__init__()
        self.to_rgb = to_rgb
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.to_rgb and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return (x - self.mean) / self.std


class HashModel(nn.Module):
    """Backbone + linear hash layer + tanh(alpha * .).

    forward(x, alpha=1.0): x (B, C, H, W) float in [0, 1] -> h (B, bits) in (-1, 1).
    The binary code is sign(h). ``alpha`` is the tanh scale: 1 at test time,
    smaller early in an attack's schedule, growing during HashNet training.
    """

    def __init__(self, backbone: nn.Module, bits: int, normalize: Normalize):
        super().__init__()
        self.normalize = normalize
        self.backbone = backbone
        self.hash_layer = nn.Linear(backbone.out_features, bits)
        self.bits = bits

    def forward(self, x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        # float32 out even under bf16 autocast, so code buffers keep one dtype
        return torch.tanh(alpha * self.hash_layer(self.backbone(self.normalize(x))).float())


def build_model(
    backbone: str = "smallcnn",
    bits: int = 32,
    in_channels: int = 1,
    pretrained: bool = True,
    allow_random_init: bool = False,
    widths: Sequence[int] | None = None,
) -> HashModel:
    """Build a hash model.

    Args:
        backbone: ``smallcnn`` (default, CPU-sized) or a torchvision name.
        bits: code length K (>= 1).
        in_channels: channels of the input images (1: grey, 3: RGB).
        pretrained: ImageNet weights for torchvision backbones (ignored for smallcnn).
        allow_random_init: fall back to random weights when the ImageNet weights
            are missing (otherwise a clear error says where to put them).
        widths: channels of the three ``smallcnn`` blocks (None: its default).
    """
    if not isinstance(bits, int) or bits < 1:
        raise ValueError(f"bits must be a positive integer, got {bits!r}")
    if backbone in IMAGENET_BACKBONES:
        norm = Normalize(IMAGENET_MEAN, IMAGENET_STD, to_rgb=True)
    else:
        norm = Normalize((0.5,) * in_channels, (0.5,) * in_channels)
    net = build_backbone(backbone, in_channels, pretrained, allow_random_init, widths)
    return HashModel(net, bits, norm)
