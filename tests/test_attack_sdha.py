"""SDHA: the vectorised loss equals the per-query loop (values and gradients); HAG's loss and arguments."""
from __future__ import annotations

import pytest
import torch

from saatlib.attack.hag import HAGAttack, hag_loss, hag_mask
from saatlib.attack.sdha import SDHAAttack, sdha_loss, sdha_surrogate
from saatlib.primitives import binarize as signed, shares_label as relevance
from saatlib.attack.sdha_loop import sdha_loss_loop, sdha_surrogate_loop


pytestmark = pytest.mark.usefixtures("one_thread")


def _batch(dtype, multilabel=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    b, n, k, c = 6, 40, 12, 5
    if multilabel:
        train_labels = (torch.rand(n, c, generator=g) < 0.4).float()
        labels = (torch.rand(b, c, generator=g) < 0.4).float()
    else:
        train_labels = torch.eye(c)[torch.randint(c, (n,), generator=g)]
        labels = torch.eye(c)[torch.randint(c, (b,), generator=g)]
    labels[0] = 0.0  # a query with no relevant training item: the benign-code fallback
    codes = torch.randint(0, 2, (n, k), generator=g).to(dtype) * 2 - 1
    fallback = torch.randint(0, 2, (b, k), generator=g).to(dtype) * 2 - 1
    h = torch.tanh(2 * torch.randn(b, k, generator=g, dtype=dtype))
    rel = relevance(labels, train_labels)
    j = int(rel[1].nonzero()[0])
    h[1] = codes[j] * h[1].abs()  # Hamming distance 0 to a relevant code: weight 1e4
    h[2] = fallback[2] * 0.0 + h[2]
    x = torch.rand(b, 1, 8, 8, generator=g, dtype=dtype)
    x_adv = (x + 0.03 * torch.randn(x.shape, generator=g, dtype=dtype)).clamp(0, 1)
    return x, x_adv, h, rel, codes, fallback


def _value_and_grads(fn, x, x_adv, h, rel, codes, fallback):
    xa, hh = x_adv.clone().requires_grad_(True), h.clone().requires_grad_(True)
    loss = fn(xa, x, hh, rel, codes, fallback)
    return (loss.detach(), *torch.autograd.grad(loss, [xa, hh]))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("multilabel", [True, False], ids=["multi-label", "single-label"])
def test_vectorised_equals_loop(dtype, multilabel):
    x, x_adv, h, rel, codes, fallback = _batch(dtype, multilabel)
    assert not rel[0].any() and rel.any(1)[1:].all()
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=2e-5, atol=1e-6)
    for r in (rel, rel.to(dtype)):  # bool or float mask
        vec = _value_and_grads(sdha_loss, x, x_adv, h, r, codes, fallback)
        loop = _value_and_grads(sdha_loss_loop, x, x_adv, h, r, codes, fallback)
        for a, b in zip(vec, loop):
            torch.testing.assert_close(a, b, **tol)
    torch.testing.assert_close(sdha_surrogate(h, rel, codes, fallback), sdha_surrogate_loop(h, rel, codes, fallback),
                               **tol)


def test_descent_moves_away_from_relevant_codes():
    x, x_adv, h, rel, codes, fallback = _batch(torch.float64)
    # per query: the sign of its relevant codes' sum (or its fallback code)
    centre = signed(torch.where(rel.any(1, keepdim=True), rel.double() @ codes, fallback)).double()
    q = (0.5 * centre).requires_grad_(True)
    (grad,) = torch.autograd.grad(sdha_surrogate(q, rel, codes, fallback), [q])
    # a descent step -grad lowers every query's alignment with its relevant codes
    assert ((grad * centre).sum(1) > 0).all()


def test_relevance_shapes_checked():
    with pytest.raises(ValueError, match="same number of classes"):
        relevance(torch.zeros(2, 3), torch.zeros(4, 5))


def test_hag_loss_and_mask():
    h = torch.tensor([[0.9, -0.8, 0.7, -0.6]])
    # adversarial code equal to the benign one: all bits to attack, inner product |h|^2 / 4 > 0
    assert torch.equal(hag_mask(h, h), torch.ones_like(h))
    flipped = -h.sign() * 0.99  # every bit moved beyond 1.5 from sign(h): nothing left to attack
    assert torch.equal(hag_mask(flipped, h), torch.zeros_like(h))
    assert hag_loss(-h, h) < hag_loss(h, h)


@pytest.mark.parametrize("kwargs, match", [
    (dict(eps=-0.1), "eps"), (dict(steps=1.5), "steps"), (dict(lr=0), "lr"), (dict(momentum=1.0), "momentum"),
])
def test_hag_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HAGAttack(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(eps=float("nan")), "eps"), (dict(steps=-1), "steps"), (dict(lr=-1e-2), "lr"), (dict(sigma=0), "sigma"),
    (dict(weight=0), "weight"),
])
def test_sdha_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SDHAAttack(**kwargs)


def test_optimiser_attacks_record_losses():
    from saatlib.models import build_model
    from saatlib.attack.base import AttackContext

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_model("smallcnn", 8, in_channels=1).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 1, 28, 28, generator=g)
    context = AttackContext(torch.ones(5, 8), torch.eye(5), torch.ones(5, 8), torch.eye(5))
    for attack in (HAGAttack(steps=4), SDHAAttack(steps=4)):
        x_adv, losses = attack(model, x, torch.eye(5)[:2], context, record=True)
        assert losses.shape == (4,) and torch.isfinite(losses).all()
        assert (x_adv - x).abs().max() <= attack.eps + 1e-6
