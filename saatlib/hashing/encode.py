"""Encode a dataset to binary codes, batched and device-aware."""
from __future__ import annotations

import torch
from tqdm.auto import tqdm

from saatlib.data import data_loader
from saatlib.primitives import binarize, eval_codes

__all__ = ["binarize", "encode"]


@torch.no_grad()
def encode(model, imageset, batch_size: int = 256, device="cpu", progress: bool = False):
    """Codes and labels of every item of ``imageset``.

    Returns:
        codes (N, K) float32 in {-1, 1} and labels (N, C) float32, both on CPU,
        in the order of the image set (:func:`saatlib.primitives.eval_codes` of each batch: every
        submodule's train/eval mode is restored).
    """
    codes, labels = [], []
    batches = data_loader(imageset, batch_size, shuffle=False)
    for x, y, _ in tqdm(batches, desc="encode", disable=not progress, leave=False):
        codes.append(eval_codes(model, x.to(device)).cpu())
        labels.append(y.float().cpu())
    return torch.cat(codes), torch.cat(labels)
