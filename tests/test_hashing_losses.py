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


def test_hashnet_loss_by_hand():
    """K = 2, one query h = (0.6, -0.2) with label {0} against three seen items:
    itself (label {0}), u1 = (1, 1) with {0} and u2 = (-1, 1) with {1}.
    t_j = (10 / K) h . u_j = 5 * (0.40, 0.4, -0.8) = (2, 2, -4); s = (1, 1, 0);
    ce_j = log(1 + e^t) - s t; pairs: 2 similar, 1 dissimilar, weights 3/2 and 3/1;
    loss = sum(w ce) / 3."""
    import math

    loss_fn = build_loss("HashNet", 3, 2, 2)
    y = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    loss_fn.update_buffers(torch.tensor([[1.0, 1.0], [-1.0, 1.0]]), y[1:], torch.tensor([1, 2]))
    h = torch.tensor([[0.6, -0.2]])
    got, _ = loss_fn(h, y[:1], torch.tensor([0]))
    t, s = [2.0, 2.0, -4.0], [1, 1, 0]
    ce = [math.log1p(math.exp(ti)) - si * ti for ti, si in zip(t, s)]
    w = [1.5 if si else 3.0 for si in s]
    assert got.item() == pytest.approx(sum(wi * ci for wi, ci in zip(w, ce)) / 3, rel=1e-6)


def test_csq_loss_by_hand():
    """K = 4, two classes: centres are the first two Hadamard rows (1, 1, 1, 1) and (1, -1, 1, -1).
    h = (0.5, -0.5, 0.9, 0) with class 1: BCE((h + 1) / 2, (c + 1) / 2) averaged over bits,
    plus 0.05 * mean((|h| - 1)^2)."""
    import math

    loss_fn = build_loss("CSQ", 4, 4, 2)
    h = torch.tensor([[0.5, -0.5, 0.9, 0.0]])
    got, _ = loss_fn(h, torch.tensor([[0.0, 1.0]]), torch.tensor([0]))
    c = [1, -1, 1, -1]
    p = [(v + 1) / 2 for v in h[0].tolist()]
    bce = [-(math.log(pi) if ci > 0 else math.log(1 - pi)) for pi, ci in zip(p, c)]
    quant = sum((abs(v) - 1) ** 2 for v in h[0].tolist()) / 4
    assert got.item() == pytest.approx(sum(bce) / 4 + 0.05 * quant, rel=1e-6)
