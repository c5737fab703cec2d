"""THA: PrototypeNet training and prototype codes."""
from __future__ import annotations

import pytest
import torch

from saatlib.attack.base import AttackContext
from saatlib.attack.prototype import PrototypeNet, prototype_codes, prototype_loss, train_prototype_net
from saatlib.attack.tha import THAAttack

C, K = 6, 16


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data():
    """Training codes clustered around one centre code per class (10% bits flipped)."""
    g = torch.Generator().manual_seed(0)
    centres = torch.randint(0, 2, (C, K), generator=g).float() * 2 - 1
    cls = torch.randint(C, (120,), generator=g)
    flip = torch.rand(120, K, generator=g) < 0.1
    codes = torch.where(flip, -centres[cls], centres[cls])
    labels = torch.eye(C)[cls]
    db_labels = torch.eye(C)[torch.randint(C, (200,), generator=g)]
    return centres, codes, labels, db_labels


def test_training_lowers_the_loss_and_finds_the_class_codes(data):
    centres, codes, labels, db_labels = data
    unique = torch.unique(db_labels, dim=0)

    def full_loss(pnet):
        with torch.no_grad():
            return prototype_loss(pnet(unique), unique, codes, labels, drop_lower_triangle=False)

    init = train_prototype_net(codes, labels, db_labels, steps=0, seed=1)
    trained, losses = train_prototype_net(codes, labels, db_labels, steps=20, batch_size=16, seed=1, record=True)
    assert losses.shape == (20,) and torch.isfinite(losses).all()
    assert full_loss(trained) < full_loss(init)
    agreement = lambda p: (prototype_codes(p, torch.eye(C)) == centres).float().mean()  # noqa: E731
    assert agreement(trained) > max(0.75, agreement(init))
    assert not trained.training and all(p.grad is None for p in trained.parameters())


def test_training_is_seeded_and_leaves_the_global_rng_alone(data):
    _, codes, labels, db_labels = data
    state = torch.get_rng_state()
    a = train_prototype_net(codes, labels, db_labels, steps=2, batch_size=4, seed=3)
    b = train_prototype_net(codes, labels, db_labels, steps=2, batch_size=4, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    c = train_prototype_net(codes, labels, db_labels, steps=2, batch_size=4, seed=4)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_prototype_net_shapes_and_codes():
    net = PrototypeNet(C, K, hidden=32, features=8)
    net.train()
    codes = prototype_codes(net, torch.eye(C))
    assert codes.shape == (C, K) and set(codes.unique().tolist()) <= {-1.0, 1.0}
    assert net.training  # mode restored
    with pytest.raises(ValueError, match="bits"):
        PrototypeNet(C, 0)


def test_tha_reference_codes_and_cache(data):
    _, codes, labels, db_labels = data
    context = AttackContext(codes.clone(), labels, codes, db_labels, seed=2)
    attack = THAAttack(steps=2, pnet_steps=2, pnet_batch_size=4)
    assert attack.pnet is None
    attack.prepare(None, context)
    pnet = attack.pnet
    ref = attack.reference_codes(torch.eye(C)[:4], context)
    assert ref.shape == (4, K) and set(ref.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(ref, prototype_codes(pnet, torch.eye(C)[:4]))
    attack.prepare(None, context)
    assert attack.pnet is pnet  # cached for the same context
    context.train_codes.mul_(-1)  # modified in place: trained again
    attack.prepare(None, context)
    assert attack.pnet is not pnet
    assert attack.targeted and attack.name == "THA" and attack.config()["pnet_steps"] == 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(eps=-1), "eps"), (dict(steps=0.5), "steps"), (dict(step_size=0), "step_size"),
    (dict(pnet_steps=-1), "pnet_steps"), (dict(pnet_batch_size=0), "pnet_batch_size"), (dict(pnet_lr=0), "pnet_lr"),
])
def test_tha_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        THAAttack(**kwargs)


def test_train_arguments(data):
    _, codes, labels, db_labels = data
    with pytest.raises(ValueError, match="steps"):
        train_prototype_net(codes, labels, db_labels, steps=-1)
    with pytest.raises(ValueError, match="same N"):
        train_prototype_net(codes[:5], labels, db_labels, steps=1)
    with pytest.raises(ValueError, match="db_labels"):
        train_prototype_net(codes, labels, db_labels[:, :3], steps=1)


def test_paper_defaults():
    a = THAAttack()
    assert (a.eps, a.step_size, a.steps, a.random_start, a.pnet_steps, a.pnet_batch_size, a.pnet_lr) == (
        8 / 255, 1 / 255, 100, False, 30000, 32, 1e-4)
