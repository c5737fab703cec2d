"""The shared operations of saatlib.primitives: codes of a batch in eval mode, written once."""
from __future__ import annotations

import torch

from saatlib.attack.evaluate import codes_of
from saatlib.attack.prototype import PrototypeNet, prototype_codes
from saatlib.data import InMemoryImageSet
from saatlib.hashing import encode
from saatlib.models import build_model
from saatlib.primitives import eval_codes


def _mixed_model():
    torch.manual_seed(0)
    model = build_model("smallcnn", 8, in_channels=1).train()
    bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    bn.eval()  # a frozen BatchNorm inside a training model: the mixed state must survive
    return model


def _modes(model):
    return [m.training for m in model.modules()]


def test_eval_codes_are_the_eval_mode_signs_and_every_mode_comes_back():
    model, x = _mixed_model(), torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    modes = _modes(model)
    codes = eval_codes(model, x)
    assert _modes(model) == modes
    with torch.no_grad():
        expected = torch.sign(model.eval()(x))  # independent: the eval-mode output's sign, 0 -> +1
    model.train()
    expected[expected == 0] = 1
    assert torch.equal(codes, expected) and not codes.requires_grad


def test_every_code_computation_keeps_the_submodules_modes():
    """encode, codes_of (images) and prototype_codes (labels) go through eval_codes: a mixed state survives
    each (resetting every submodule to the top-level mode would not)."""
    model = _mixed_model()
    x = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    modes = _modes(model)
    by_batch = codes_of(model, x, batch_size=4)
    assert _modes(model) == modes
    codes, _ = encode(model, InMemoryImageSet(x, torch.eye(2)[torch.arange(10) % 2]), batch_size=3)
    assert _modes(model) == modes
    assert torch.equal(codes, by_batch) and torch.equal(by_batch, eval_codes(model, x))
    torch.manual_seed(0)
    pnet = PrototypeNet(2, 8, hidden=16, features=8).train()
    pnet.hashing.eval()
    p_modes = _modes(pnet)
    labels = torch.eye(2)
    assert torch.equal(prototype_codes(pnet, labels), eval_codes(pnet, labels)) and _modes(pnet) == p_modes

