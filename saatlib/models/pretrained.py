"""ImageNet weights for torchvision backbones, through torchvision's weights API.

Weights are taken from torch's hub cache (``$TORCH_HOME/hub/checkpoints``); where
the internet is reachable torchvision downloads them there. Offline and without
the file, :class:`PretrainedWeightsMissing` says where to put it, unless the
caller opts in to random initialisation.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

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


def install_weights(name: str, path: str | os.PathLike) -> str:
    """Put a local file of ``name``'s ImageNet weights where torchvision looks for them.

    The file (a state_dict, e.g. ``alexnet-owt-7be5be79.pth`` fetched on another machine)
    must load with ``weights_only=True`` into torchvision's ``name``; it is copied to
    :func:`weights_cache_path` unless that file is already there. Returns the cache path.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a state_dict of ``name``, or another file is already cached.
    """
    src = Path(path).expanduser()
    if not src.is_file():
        raise FileNotFoundError(f"no weights file {src}")
    _, dest = weights_cache_path(name)
    if Path(dest).is_file():
        if Path(dest).read_bytes() != src.read_bytes():
            raise ValueError(f"{dest} already holds other {name} weights; remove it to use {src}")
        return dest
    try:
        state = torch.load(src, map_location="cpu", weights_only=True)
        torchvision.models.get_model(name, weights=None).load_state_dict(state)
    except Exception as err:
        raise ValueError(f"{src} is not a state_dict of torchvision's {name} ({type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''})") from err
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    log.info("installed %s weights from %s at %s", name, src, dest)
    return dest


def pretrained_available(backbone: str, random_init: bool = False) -> bool:
    """Whether the run uses ImageNet weights of ``backbone`` (False for the small CNN).

    True when the weights file is in torch's cache (or, without ``random_init``, can be
    downloaded there). With ``random_init`` and no cached file: False at once, without
    trying a download (a warning says so), so the run store records the model as randomly
    initialised. Otherwise missing weights raise :class:`PretrainedWeightsMissing`, whose
    one-line message says where to put the file.
    """
    from saatlib.models.backbones import IMAGENET_BACKBONES  # backbones imports this module

    if backbone not in IMAGENET_BACKBONES:
        return False
    if Path(weights_cache_path(backbone)[1]).is_file():
        return True
    if random_init:
        log.warning("no ImageNet weights for %s in %s: training from random initialisation (--random-init)",
                    backbone, weights_cache_path(backbone)[1])
        return False
    load_torchvision_model(backbone, pretrained=True)
    return True
