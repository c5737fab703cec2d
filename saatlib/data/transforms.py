"""Image transforms: the released code's preprocessing, without normalisation.

The SAAT code (and DeepHash-pytorch) feeds pretrained backbones with
``Resize(256) -> CenterCrop(224) -> ToTensor()``. Normalisation by the ImageNet
mean and std happens inside saatlib's models, so every tensor produced here
stays in raw [0, 1] pixel space, where the attacks' eps-balls live.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms as T

#: Crop size of the reference pipeline.
REFERENCE_CROP = 224
#: Resize size of the reference pipeline (shorter side, before the centre crop).
REFERENCE_RESIZE = 256


def resize_size_for(image_size: int) -> int:
    """Shorter-side resize for a centre crop of ``image_size`` (256 for 224, same ratio otherwise)."""
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ValueError(f"image_size must be a positive int, got {image_size!r}")
    return max(image_size, round(image_size * REFERENCE_RESIZE / REFERENCE_CROP))


def reference_transform(image_size: int = REFERENCE_CROP) -> Callable[[Image.Image], torch.Tensor]:
    """PIL RGB image -> float32 (3, image_size, image_size) in [0, 1].

    ``Resize(resize_size_for(image_size))``, ``CenterCrop(image_size)``,
    ``ToTensor()``; with the default 224 this is exactly the released pipeline.
    """
    return T.Compose([
        T.Resize(resize_size_for(image_size)),
        T.CenterCrop(image_size),
        T.ToTensor(),
    ])


def resize_batch(x: torch.Tensor, image_size: int) -> torch.Tensor:
    """Resize a float batch (B, C, H, W) in [0, 1] to (B, C, image_size, image_size).

    Bilinear with antialiasing, clamped back into [0, 1]. Used for in-memory
    data (Fashion-MNIST, mosaics) when a backbone wants bigger inputs; the
    images are square, so no crop is needed.
    """
    if x.shape[-2:] == (image_size, image_size):
        return x
    y = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False, antialias=True)
    return y.clamp_(0.0, 1.0)
