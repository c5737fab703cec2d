"""Feature extractors for hash models.

Every backbone maps a normalised image batch (B, C, H, W) to features (B, D)
and exposes its output width as ``out_features``.

- ``smallcnn``: three conv blocks sized for 28x28 / 56x56 grey images on a CPU
  (the book's default; 16, 32, 64 channels unless ``widths`` says otherwise).
- ``alexnet``, ``vgg11``, ``vgg16``, ``vgg19``: torchvision models up to the
  second fully connected layer (4096 features), as in the released SAAT code.
- ``resnet18``, ``resnet50``: torchvision ResNets up to global pooling.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from saatlib.models.pretrained import load_torchvision_model


class SmallCNN(nn.Module):
    """Three conv-BN-ReLU blocks, pooled to 2x2, then a 256-wide FC + BatchNorm layer.

    Args:
        in_channels: image channels (1 for Fashion-MNIST).
        widths: output channels of the three blocks. The default (16, 32, 64)
            costs a quarter of the multiply-adds of (32, 64, 128), trains
            Fashion-MNIST to the same MAP with a few more epochs, and makes
            every attack iteration about 4x cheaper on a CPU.
    Shapes: (B, in_channels, H, W) with H, W >= 8 -> (B, 256).

    Weights and activations use the channels-last memory layout: on a CPU
    this makes a training step about 1.3x and an attack's input gradient
    about 2x faster (max pooling with indices is slow in NCHW). The layout
    changes no value beyond float rounding, and the state_dict keys and
    shapes are the usual ones, so checkpoints load either way.
    """

    out_features = 256

    def __init__(self, in_channels: int = 1, widths: Sequence[int] = (16, 32, 64)):
        super().__init__()
        if len(widths) != 3 or any(int(w) != w or w < 1 for w in widths):
            raise ValueError(f"widths must be three positive integers (channels of the three blocks), got {widths!r}")
        c1, c2, c3 = (int(w) for w in widths)

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )

        self.features = nn.Sequential(block(in_channels, c1), block(c1, c2), block(c2, c3))
        self.pool = nn.AdaptiveAvgPool2d(2)
        # BatchNorm without a final ReLU: zero-centred features keep the hash
        # bits balanced, so pairwise losses (DPSH, DPH) do not collapse every
        # image onto one code when training from scratch
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c3 * 4, self.out_features), nn.BatchNorm1d(self.out_features))
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        # Flatten reads the pooled (B, c3, 2, 2) map in logical NCHW order
        return self.fc(self.pool(self.features(x)))


class TorchvisionFeatures(nn.Module):
    """A torchvision classifier with its last layer removed.

    AlexNet and VGG keep their classifier up to the second 4096-wide layer
    (dropout and ReLU included, as the released SAAT code does); ResNets end at
    global average pooling.
    """

    def __init__(self, name: str, pretrained: bool, allow_random_init: bool):
        super().__init__()
        net = load_torchvision_model(name, pretrained=pretrained, allow_random_init=allow_random_init)
        if name.startswith("resnet"):
            self.out_features = net.fc.in_features
            net.fc = nn.Identity()
            self.net = net
        else:
            self.out_features = net.classifier[-1].in_features
            net.classifier = nn.Sequential(*list(net.classifier.children())[:-1])
            self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _torchvision(name: str) -> Callable[..., nn.Module]:
    def make(in_channels: int = 3, pretrained: bool = True, allow_random_init: bool = False,
             widths: Sequence[int] | None = None) -> nn.Module:
        if widths is not None:
            raise ValueError(f"widths set the channels of 'smallcnn' only; {name} has its own architecture")
        return TorchvisionFeatures(name, pretrained=pretrained, allow_random_init=allow_random_init)

    return make


def _small(in_channels: int = 1, pretrained: bool = False, allow_random_init: bool = False,
           widths: Sequence[int] | None = None) -> nn.Module:
    return SmallCNN(in_channels) if widths is None else SmallCNN(in_channels, widths)


BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "smallcnn": _small,
    **{n: _torchvision(n) for n in ("alexnet", "vgg11", "vgg16", "vgg19", "resnet18", "resnet50")},
}

#: backbones that expect 3-channel ImageNet-normalised input
IMAGENET_BACKBONES = frozenset(BACKBONES) - {"smallcnn"}


def backbone_names() -> list[str]:
    """Names accepted by :func:`build_backbone`."""
    return list(BACKBONES)


def build_backbone(name: str, in_channels: int, pretrained: bool, allow_random_init: bool,
                   widths: Sequence[int] | None = None) -> nn.Module:
    """Build backbone ``name``; raises ValueError listing the names when unknown.

    ``widths``: the channels of ``smallcnn``'s blocks (None: its default); an
    error for the torchvision backbones.
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {backbone_names()}")
    return BACKBONES[name](in_channels=in_channels, pretrained=pretrained, allow_random_init=allow_random_init,
                           widths=widths)
