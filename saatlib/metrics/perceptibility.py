"""Perceptibility of adversarial perturbations in raw [0, 1] pixel space.

For a batch of images x and adversarial versions x_adv (same shape, pixels in
[0, 1]) and delta = x_adv - x, per image b (norms over all of C, H, W):

    l_inf(b) = max_{c,h,w} |delta[b, c, h, w]|           (<= eps for an l_inf attack)
    l_2(b)   = sqrt( sum_{c,h,w} delta[b, c, h, w]^2 )
    MSE      = mean over every element of delta^2      (batch, channels and pixels)

and the reported l_inf and l_2 are the means of l_inf(b) and l_2(b) over the batch.

The SAAT released code (``cal_perceptibility``) uses ``torch.linalg.matrix_norm``
over (H, W) instead: the induced inf-norm (largest absolute row sum) and the
spectral norm of each channel, averaged over batch and channels. Those numbers are
not comparable to the vector norms above (an 8/255 budget gives a matrix inf-norm
of up to W * 8/255); ``convention="released"`` reproduces them.
"""
from __future__ import annotations

import torch

from ._validate import as_tensor, check_same_device

__all__ = ["perceptibility"]

_TOL = 1e-6


def perceptibility(x_adv, x, convention: str = "vector") -> dict[str, float]:
    """Mean l_inf, mean l_2 and MSE of ``x_adv - x``.

    Args:
        x_adv: (B, C, H, W) adversarial images, float, pixels in [0, 1].
        x: (B, C, H, W) original images, same shape and device.
        convention: ``"vector"`` (default: per-image vector norms over C, H, W, see the
            module docstring) or ``"released"`` (matrix norms over H, W per channel, as the
            SAAT released code).

    Returns:
        ``{"linf": float, "l2": float, "mse": float}``, each the batch mean.

    Raises:
        ValueError: shapes differ, not 4-D, not floating point, pixels outside [0, 1],
            different devices, unknown convention.
    """
    x_adv = as_tensor(x_adv, "x_adv")
    x = as_tensor(x, "x")
    if x_adv.shape != x.shape:
        raise ValueError(f"x_adv has shape {tuple(x_adv.shape)} but x has {tuple(x.shape)}; pass matching batches")
    if x.dim() != 4:
        raise ValueError(f"expected (B, C, H, W) image batches, got shape {tuple(x.shape)}; "
                         "add a batch axis with x.unsqueeze(0)")
    if not (x.is_floating_point() and x_adv.is_floating_point()):
        raise ValueError(f"images must be floating point in [0, 1], got {x_adv.dtype} and {x.dtype}; "
                         "divide uint8 images by 255")
    check_same_device([x_adv, x])
    for name, t in (("x_adv", x_adv), ("x", x)):
        if t.numel() and (float(t.min()) < -_TOL or float(t.max()) > 1 + _TOL):
            raise ValueError(f"{name} has pixels outside [0, 1] (min {float(t.min()):.4g}, max {float(t.max()):.4g});"
                             " measure in raw pixel space, before any mean/std normalisation")
    delta = (x_adv - x).to(torch.float64)
    mse = float(delta.pow(2).mean())
    if convention == "vector":
        flat = delta.flatten(1)
        linf = float(flat.abs().amax(1).mean())
        l2 = float(flat.norm(dim=1).mean())
    elif convention == "released":
        linf = float(torch.linalg.matrix_norm(delta, ord=float("inf")).mean())
        l2 = float(torch.linalg.matrix_norm(delta, ord=2).mean())
    else:
        raise ValueError(f"convention must be 'vector' or 'released', got {convention!r}")
    return {"linf": linf, "l2": l2, "mse": mse}
