"""Deep hashing losses: values against their formulas, centres, schedules."""
import pytest
import torch

from saatlib.hashing import build_loss, method_names
from saatlib.hashing.losses.csq import hadamard, hash_centers


def batch(n=6, k=8, c=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = torch.rand(n, k, generator=g) * 2 - 1
    y = (torch.rand(n, c, generator=g) > 0.6).float()
    y[y.sum(1) == 0, 0] = 1
    return h.requires_grad_(True), y, torch.arange(n)


@pytest.mark.parametrize("method", method_names())
def test_every_loss_is_finite_and_differentiable(method):
    h, y, idx = batch()
    loss_fn = build_loss(method, num_train=10, bits=8, num_classes=4)
    loss, terms = loss_fn(h, y, idx, step=0)
    loss.backward()
    assert torch.isfinite(loss) and h.grad.abs().sum() > 0
    assert all(torch.isfinite(v) for v in terms.values())


def test_dph_matches_its_formula_on_a_full_buffer():
    h, y, idx = batch()
    loss, _ = build_loss("DPH", 6, 8, 4)(h, y, idx)
    s = ((y @ y.t()) > 0).float() * 2 - 1
    expected = ((h @ h.t()) / 8 - s).pow(2).mean()
    assert torch.allclose(loss, expected)


def test_dpsh_matches_its_formula_on_a_full_buffer():
    h, y, idx = batch()
    loss, _ = build_loss("DPSH", 6, 8, 4, eta=50.0)(h, y, idx)
    s = ((y @ y.t()) > 0).float()
    t = h @ h.t() / 2
    expected = (torch.log1p(torch.exp(t)) - s * t).sum() / 36 + 50 * (h.sign() - h).pow(2).sum() / 36
    assert torch.allclose(loss, expected, atol=1e-6)


def test_unseen_buffer_rows_do_not_enter_pairwise_losses():
    h, y, idx = batch()
    small = build_loss("DPH", 6, 8, 4)(h, y, idx)[0]
    big = build_loss("DPH", 1000, 8, 4)(h, y, idx)[0]
    assert torch.allclose(small, big)


def test_hashnet_scale_grows_every_200_steps():
    loss_fn = build_loss("HashNet", 4, 8, 4)
    assert loss_fn.tanh_scale(0) == loss_fn.tanh_scale(199) == 1.0
    assert loss_fn.tanh_scale(200) == pytest.approx((1 + 0.005 * 200) ** 0.5)


def test_hadamard_rows_are_orthogonal_and_centres_distinct():
    h = hadamard(16)
    assert torch.equal(h @ h.t(), 16 * torch.eye(16))
    c = hash_centers(10, 32)
    assert c.shape == (10, 32) and set(c.unique().tolist()) == {-1.0, 1.0}
    d = (32 - c @ c.t()) / 2
    assert d[~torch.eye(10, dtype=bool)].min() >= 16  # Hadamard centres: half the bits apart
    with pytest.raises(ValueError, match="powers of two"):
        hadamard(12)


def test_csq_multilabel_centre_breaks_ties_with_plus_minus_one():
    loss_fn = build_loss("CSQ", 4, 8, 4)
    y = torch.tensor([[1.0, 1, 0, 0], [0, 0, 1, 0]])
    c = loss_fn.label_centers(y)
    assert set(c.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(c[1], loss_fn.centers[2])


def test_unknown_method_lists_known_ones():
    with pytest.raises(ValueError, match="CSQ"):
        build_loss("DSH", 4, 8, 4)
