"""P2P / DHTA anchor codes."""
from __future__ import annotations

import pytest
import torch

from saatlib.attack.anchor import AnchorAttack, DHTAAttack, P2PAttack, anchor_candidates, anchor_codes
from saatlib.attack.base import AttackContext
from saatlib.attack.registry import build_attack


def _database(seed=0, n=50, k=16, c=4):
    g = torch.Generator().manual_seed(seed)
    labels = torch.eye(c)[torch.randint(c, (n,), generator=g)]
    labels[:5] = torch.tensor([1.0, 1.0, 0.0, 0.0])  # a multi-label vector carried by 5 items
    codes = torch.randint(0, 2, (n, k), generator=g).float() * 2 - 1
    return codes, labels


def test_anchors_are_signs_and_p2p_anchor_is_a_matching_database_code():
    codes, labels = _database()
    targets = torch.tensor([[1.0, 0, 0, 0], [0, 0, 0, 1], [1, 1, 0, 0], [0, 1, 0, 0]])
    for n in (1, 9, 4):
        anchors = anchor_codes(targets, codes, labels, n, seed=3)
        assert anchors.shape == (4, 16) and set(anchors.unique().tolist()) <= {-1.0, 1.0}
    p2p = anchor_codes(targets, codes, labels, 1, seed=3)
    for t, a in zip(targets, p2p):
        carriers = (labels == t).all(1)  # exactly the target label vector
        assert (codes[carriers] == a).all(1).any(), "P2P anchor is not the code of a database item with the target"


def test_dhta_anchor_is_the_sign_of_a_sum_of_carrier_codes():
    codes, labels = _database()
    target = torch.tensor([[1.0, 1.0, 0.0, 0.0]])  # carried by items 0..4 only
    anchor = anchor_codes(target, codes, labels, 9, seed=0)
    # every bit on which all five carriers agree must be in the anchor
    agree = (codes[:5] == codes[:1]).all(0)
    assert torch.equal(anchor[0][agree], codes[0][agree])


def test_anchor_draw_is_seeded():
    codes, labels = _database()
    targets = torch.eye(4)[torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])]
    a = anchor_codes(targets, codes, labels, 1, seed=11)
    assert torch.equal(a, anchor_codes(targets, codes, labels, 1, seed=11))
    draws = {tuple(anchor_codes(targets, codes, labels, 1, seed=s).flatten().tolist()) for s in range(6)}
    assert len(draws) > 1


def test_anchors_do_not_depend_on_the_batching():
    codes, labels = _database()
    targets = torch.eye(4)[torch.randint(4, (12,), generator=torch.Generator().manual_seed(1))]
    targets[3] = torch.tensor([1.0, 1.0, 0.0, 0.0])
    for n in (1, 9):
        whole = anchor_codes(targets, codes, labels, n, seed=2)
        parts = torch.cat([anchor_codes(targets[s:s + 5], codes, labels, n, seed=2) for s in range(0, 12, 5)])
        assert torch.equal(whole, parts)
        same = (targets[:, None] == targets[None]).all(-1)
        assert ((whole[:, None] == whole[None]).all(-1) | ~same).all()  # same target, same anchor


def test_anchor_draws_are_uniform_over_the_carriers():
    codes, labels = _database()
    target = torch.tensor([[1.0, 1.0, 0.0, 0.0]])  # carried by items 0..4
    seen = set()
    for seed in range(40):
        a = anchor_codes(target, codes, labels, 1, seed=seed)[0]
        seen.add(int((codes[:5] == a).all(1).nonzero()[0]))
    assert seen == set(range(5))


def test_candidates_fall_back_to_shared_labels_and_fail_without():
    codes, labels = _database()
    target = torch.tensor([[1.0, 0.0, 1.0, 0.0]])  # no item carries exactly this vector
    cand = anchor_candidates(target, labels)
    assert torch.equal(cand[0], (labels[:, 0] + labels[:, 2]) > 0)
    with pytest.raises(ValueError, match="shares a label"):
        anchor_codes(torch.zeros(1, 4), codes, labels, 9)
    with pytest.raises(ValueError, match="same C"):
        anchor_codes(torch.zeros(1, 3), codes, labels, 9)


def test_reference_codes_are_the_attack_targets():
    codes, labels = _database()
    context = AttackContext(codes, labels, codes, labels, seed=5)
    targets = torch.eye(4)[:3]
    assert torch.equal(DHTAAttack().reference_codes(targets, context), anchor_codes(targets, codes, labels, 9, 5))
    assert P2PAttack().name == "P2P" and DHTAAttack().name == "DHTA" and DHTAAttack().targeted


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "n "), (dict(n=2.5), "n "), (dict(eps=-1), "eps"), (dict(steps=-3), "steps"),
    (dict(step_size=0), "step_size"),
])
def test_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AnchorAttack(**kwargs)


def test_paper_defaults():
    """The released recipe's parameters are the class's; its budget (eps 0.032, 2000 iterations) is the paper
    profile's, and the class's own budget the default profile's (8/255, 300 iterations)."""
    a = DHTAAttack()
    assert (a.n, a.eps, a.step_size, a.steps, a.random_start) == (9, 8 / 255, 1 / 255, 300, False)
    paper = build_attack("DHTA", True, "paper")
    assert (paper.n, paper.eps, paper.step_size, paper.steps, paper.random_start) == (9, 0.032, 1 / 255, 2000, False)
    assert P2PAttack().n == 1
