"""ImageNet weights for torchvision backbones, through torchvision's weights API.

Weights are taken from torch's hub cache (``$TORCH_HOME/hub/checkpoints``); where
the internet is reachable torchvision downloads them there. Offline and without
the file, :class:`PretrainedWeightsMissing` says where to put it, unless the
caller opts in to random initialisation.
"""
from __future__ import annotations

import logging
import os

import torch
import torchvision
from torch import nn

log = logging.getLogger(__name__)


class PretrainedWeightsMissing(RuntimeError):
    """ImageNet weights are neither cached nor downloadable."""


def weights_cache_path(name: str) -> tuple[str, str]:
    """(url, expected cache path) of torchvision's default ImageNet weights for ``name``."""
    weights = torchvision.models.get_model_weights(name).DEFAULT
    filename = os.path.basename(weights.url)
    return weights.url, os.path.join(torch.hub.get_dir(), "checkpoints", filename)


def load_torchvision_model(name: str, pretrained: bool = True, allow_random_init: bool = False) -> nn.Module:
    """torchvision model ``name`` with ImageNet weights (or random ones).

    Args:
        name: a torchvision model name (``alexnet``, ``vgg16``, ``resnet50``...).
        pretrained: load ImageNet weights.
        allow_random_init: when the weights cannot be had, fall back to random
            initialisation with a warning instead of raising.
    Raises:
        PretrainedWeightsMissing: weights wanted, missing, and no opt-in.
    """
    model = torchvision.models.get_model(name, weights=None)
    if not pretrained:
        return model
    weights = torchvision.models.get_model_weights(name).DEFAULT
    url, path = weights_cache_path(name)
    try:
        state = weights.get_state_dict(progress=False, check_hash=False)
    except Exception as err:  # offline download: URLError, OSError, RuntimeError...
        message = (
            f"ImageNet weights for {name} are not in the torch cache and could not be downloaded ({err}). "
            f"Put the file {os.path.basename(path)} (from {url}) at {path}, "
            f"or set TORCH_HOME to a folder holding hub/checkpoints/{os.path.basename(path)}; "
            "or opt in to random initialisation (allow_random_init=True, CLI --random-init)."
        )
        if allow_random_init:
            log.warning("%s Using random initialisation.", message)
            return model
        raise PretrainedWeightsMissing(message) from err
    model.load_state_dict(state)
    return model
