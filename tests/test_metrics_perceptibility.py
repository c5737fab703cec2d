"""Perceptibility of perturbations on known cases."""
from __future__ import annotations

import math

import pytest
import torch

from saatlib.metrics import perceptibility


def test_uniform_shift_known_norms():
    x = torch.full((3, 3, 4, 5), 0.5)
    eps = 8 / 255
    out = perceptibility(x + eps, x)
    n = 3 * 4 * 5
    assert out["linf"] == pytest.approx(eps, abs=1e-7)
    assert out["l2"] == pytest.approx(eps * math.sqrt(n), abs=1e-6)
    assert out["mse"] == pytest.approx(eps**2, abs=1e-9)


def test_single_pixel_per_image_and_batch_mean():
    x = torch.zeros(2, 1, 3, 3)
    adv = x.clone()
    adv[0, 0, 1, 1] = 0.3
    adv[1, 0, 0, 0] = 0.1
    adv[1, 0, 2, 2] = 0.1
    out = perceptibility(adv, x)
    assert out["linf"] == pytest.approx((0.3 + 0.1) / 2)
    assert out["l2"] == pytest.approx((0.3 + math.sqrt(0.02)) / 2)
    assert out["mse"] == pytest.approx((0.09 + 0.02) / 18)


def test_released_convention_uses_matrix_norms():
    x = torch.zeros(1, 2, 3, 3)
    adv = x.clone()
    adv[0, 0, 0, :] = 0.1  # one row: induced inf-norm = row sum 0.3, spectral norm 0.1 * sqrt(3)
    out = perceptibility(adv, x, convention="released")
    assert out["linf"] == pytest.approx((0.3 + 0.0) / 2)
    assert out["l2"] == pytest.approx((0.1 * math.sqrt(3)) / 2)


def test_errors():
    x = torch.rand(2, 3, 4, 4)
    with pytest.raises(ValueError, match="shape"):
        perceptibility(x[:1], x)
    with pytest.raises(ValueError, match="B, C, H, W"):
        perceptibility(x[0], x[0])
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        perceptibility(x * 2, x)
    with pytest.raises(ValueError, match="255"):
        perceptibility((x * 255).to(torch.uint8), (x * 255).to(torch.uint8))
    with pytest.raises(ValueError, match="convention"):
        perceptibility(x, x, convention="l1")
