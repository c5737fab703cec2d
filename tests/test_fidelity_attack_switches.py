"""The attack switches of issue 20 (saatlib.fidelity rows anchor_draw, tha_pnet_batch,
prosgan_bound): a small case where the two settings differ and the released setting gives
the released value."""
from __future__ import annotations

import pytest
import torch

from saatlib.attack.anchor import P2PAttack, anchor_codes, per_query_anchor_codes, query_seed
from saatlib.attack.base import AttackContext
from saatlib.attack.prototype import prototype_loss, train_prototype_net
from saatlib.attack.registry import build_attack
from saatlib.experiments.attacks import attack_key
from saatlib.seeding import seeded
from saatlib.attack.prototype import PrototypeNet

pytestmark = pytest.mark.usefixtures("one_thread")


def _database():
    """Four items of class 0 with codes A, B, A, B (K = 4), two of class 1."""
    a, b, c = [1.0, 1, -1, -1], [-1.0, 1, 1, -1], [1.0, -1, 1, 1]
    codes = torch.tensor([a, b, a, b, c, c])
    labels = torch.eye(2)[[0, 0, 0, 0, 1, 1]]
    return codes, labels, torch.tensor([a, b])


def test_per_query_anchors_are_drawn_afresh_for_every_query():
    """20 different queries, all with target class 0: the shared draw gives them one anchor,
    the released per-query draw (np.random.choice per query) gives each a database code of
    class 0 of its own: both A and B occur (all 20 equal has probability 2^-19)."""
    codes, labels, ab = _database()
    x = torch.rand(20, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    targets = torch.eye(2)[[0] * 20]
    shared = anchor_codes(targets, codes, labels, 1, seed=3)
    assert (shared == shared[0]).all()
    per = per_query_anchor_codes(x, targets, codes, labels, 1, seed=3)
    is_a, is_b = (per == ab[0]).all(1), (per == ab[1]).all(1)
    assert bool((is_a | is_b).all()) and is_a.any() and is_b.any()
    # row i is the single-query draw with its own seed, whatever the batch
    for i in (0, 7):
        alone = anchor_codes(targets[i:i + 1], codes, labels, 1, seed=query_seed(3, x[i]))
        assert torch.equal(per[i:i + 1], alone)
    assert torch.equal(per_query_anchor_codes(x[5:9], targets[5:9], codes, labels, 1, 3), per[5:9])


def test_per_query_p2p_attack_uses_the_query_anchor_and_reports_it():
    codes, labels, _ = _database()
    ctx = AttackContext(codes, labels, codes, labels, seed=1)
    x = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(2))
    targets = torch.eye(2)[[0] * 6]
    attack = P2PAttack(anchor_draw="per_query", steps=1)
    assert torch.equal(attack.reference_codes_of(x, targets, ctx),
                       per_query_anchor_codes(x, targets, codes, labels, 1, 1))
    shared = P2PAttack(steps=1)
    assert torch.equal(shared.reference_codes_of(x, targets, ctx), shared.reference_codes(targets, ctx))


def test_anchor_draw_profiles_and_keys():
    """Released per-query in the paper profile; the default keeps the shared draw and its stored keys."""
    assert build_attack("DHTA", True, "paper").anchor_draw == "per_query"
    assert build_attack("P2P", True, "default").anchor_draw == "shared"
    default = build_attack("P2P", True, "default")
    assert "anchor_draw" not in attack_key({}, default, 8, 100, 0)["attack"]
    assert attack_key({}, default.replace(anchor_draw="per_query"), 8, 100, 0)["attack"]["anchor_draw"] == "per_query"
    with pytest.raises(ValueError, match="anchor_draw"):
        P2PAttack(anchor_draw="fresh")


def test_tha_prototype_batch_released_128():
    """The released THA draws --batch_size = 128 label vectors per step (attack.py); the paper profile
    uses 128, the default 32. One step: the recorded loss is the loss of the 128 (resp. 32) label
    vectors drawn by the seeded generator, computed here independently, and the two differ."""
    assert build_attack("THA", True, "paper").pnet_batch_size == 128
    assert build_attack("THA", True, "default").pnet_batch_size == 32
    g = torch.Generator().manual_seed(0)
    codes = (torch.rand(30, 8, generator=g) > 0.5).float() * 2 - 1
    code_labels = torch.eye(6)[torch.randint(6, (30,), generator=g)]
    unique = torch.unique(code_labels, dim=0)
    losses = {}
    for batch in (32, 128):
        _, rec = train_prototype_net(codes, code_labels, code_labels, steps=1, batch_size=batch, seed=4, record=True)
        picks = torch.randint(unique.shape[0], (1, batch), generator=torch.Generator().manual_seed(4))
        with seeded(4):
            net = PrototypeNet(6, 8)
        labels = unique[picks[0]]
        expected = prototype_loss(net(labels), labels, codes, code_labels).item()
        assert rec[0].item() == pytest.approx(expected, rel=1e-5)
        losses[batch] = expected
    assert losses[32] != pytest.approx(losses[128])


def test_prosgan_bound_profiles():
    """The paper profile keeps the released unbounded generator; the default bounds it by eps."""
    assert build_attack("ProS-GAN", True, "paper").bound == "none"
    assert build_attack("ProS-GAN", True, "default").bound == "linf"
    released = build_attack("ProS-GAN", True, "paper")
    assert (released.gen_dim, released.res_blocks, released.label_dim, released.epochs, released.decay_epochs,
            released.batch_size, released.pnet_steps, released.pnet_batch_size, released.lr, released.rec_weight) \
        == (64, 3, 128, 50, 50, 24, 30000, 64, 1e-4, 100.0)


def test_readme_names_every_default_that_differs_from_the_released_code():
    """README's "follows the released code by default" lists exactly the switch rows whose library
    default (or default-profile value) is not the released value, and the rows without a switch."""
    from pathlib import Path

    from saatlib import fidelity

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Fidelity to the released code", 1)[1].split("\n## ", 1)[0]
    differing = {r.name for r in fidelity.LEDGER if r.switch is None or r.default_value != r.released_value
                 or fidelity.profile_value(r, "default") not in (None, r.released_value)}
    named = {r.name for r in fidelity.LEDGER if f"`{r.name}`" in section}
    assert named == differing
