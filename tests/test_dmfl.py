"""DMFL mainstay codes: the released (cosine) objective's exact maximiser, exact
ties, the older "overlap" weighting, edge cases.

The reference weights here are computed item by item with Python's math
(:func:`loop_weights`), independently of :mod:`saatlib.dmfl`'s matrix code.
"""
import itertools
import math

import pytest
import torch

from saatlib.attack.base import AttackContext
from saatlib.attack.saat import SAATAttack
from saatlib.dmfl import RELEASED_WEIGHTING, dmfl_objective, mainstay_codes


def random_problem(n=40, k=6, c=5, b=7, seed=0, single=False):
    g = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, 2, (n, k), generator=g).float() * 2 - 1
    if single:
        y = torch.eye(c)[torch.randint(0, c, (n,), generator=g)]
        q = torch.eye(c)[torch.randint(0, c, (b,), generator=g)]
    else:
        y = (torch.rand(n, c, generator=g) > 0.6).float()
        q = (torch.rand(b, c, generator=g) > 0.6).float()
        q[q.sum(1) == 0, 0] = 1
    return q, codes, y


def loop_weights(q, y, weighting):
    """Released (cosine) or overlap weights of one query q against items y, by hand."""
    qs, c = [float(v) for v in q], len(q)
    pos, neg = [], []
    for row in y:
        r = [float(v) for v in row]
        shared = sum(a * b for a, b in zip(qs, r))
        if weighting == "cosine":
            norm = math.sqrt(sum(a * a for a in qs)) * math.sqrt(sum(b * b for b in r))
            pos.append(shared / norm if shared > 0 else 0.0)
            neg.append(1.0 if shared == 0 else 0.0)
        else:  # overlap: |q AND y_j| / |q| and (|q| + |y_j|) / C
            pos.append(shared / sum(qs) if shared > 0 else 0.0)
            neg.append((sum(qs) + sum(r)) / c if shared == 0 else 0.0)
    sp, sn = sum(pos), sum(neg)
    return [p / sp if sp else 0.0 for p in pos], [v / sn if sn else 0.0 for v in neg]


def loop_objective(b, q, codes, y, weighting):
    wp, wn = loop_weights(q, y, weighting)
    return sum(float(b[k]) * sum((wp[j] - wn[j]) * float(codes[j, k]) for j in range(len(wp)))
               for k in range(len(b)))


def enumerated_best(q, codes, y, weighting):
    k = codes.shape[1]
    return max(loop_objective(cand, q, codes, y, weighting) for cand in itertools.product([-1.0, 1.0], repeat=k))


@pytest.mark.parametrize("targeted", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_saat_reference_codes_attain_the_released_objective_optimum(targeted, seed):
    """With library defaults, the SAAT attack's reference codes (the mainstay codes of the
    query's labels, or of the target's) maximise the released cosine DMFL objective."""
    q, codes, y = random_problem(seed=seed)
    context = AttackContext(codes, y, codes, y)
    ref = SAATAttack(targeted=targeted).reference_codes(q, context)
    for qi, bi in zip(q, ref):
        assert loop_objective(bi, qi, codes, y, "cosine") == pytest.approx(enumerated_best(qi, codes, y, "cosine"),
                                                                          abs=1e-9)


def test_the_default_weighting_is_the_released_cosine_one():
    assert RELEASED_WEIGHTING == "cosine"
    q, codes, y = random_problem(seed=4)
    assert torch.equal(mainstay_codes(q, codes, y), mainstay_codes(q, codes, y, "cosine"))


@pytest.mark.parametrize("seed", [0, 1])
def test_overlap_weighting_attains_its_own_optimum(seed):
    q, codes, y = random_problem(seed=seed)
    got = mainstay_codes(q, codes, y, "overlap")
    for qi, bi in zip(q, got):
        assert loop_objective(bi, qi, codes, y, "overlap") == pytest.approx(
            enumerated_best(qi, codes, y, "overlap"), abs=1e-9)


def test_weightings_differ_on_a_hand_worked_multi_label_case():
    """Query {0, 1}; items {0}, {0, 1}, {1}, {2}, {2, 3}; C = 4.

    cosine:  w+ = (1/sqrt2, 1, 1/sqrt2) / (1 + sqrt2) = (0.2929, 0.4142, 0.2929), w- = (1/2, 1/2);
    overlap: w+ = (1/2, 1, 1/2) / 2 = (1/4, 1/2, 1/4), w- = (3/4, 4/4) / (7/4) = (3/7, 4/7).
    Bit codes over the items, and the coefficients d:
      (+1, +1, +1, -1, -1): cosine 1 + 1 = 2 > 0, overlap 1 + 1 > 0        -> +1, +1
      (-1, -1, -1, +1, +1): the negation                                      -> -1, -1
      (+1, -1, +1, -1, +1): cosine 0.5858 - 0.4142 + 0.5 - 0.5 = +0.1716;
                            overlap 1/2 - 1/2 + 3/7 - 4/7 = -1/7              -> +1, -1
    """
    y = torch.tensor([[1.0, 0, 0, 0], [1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]])
    codes = torch.tensor([[+1.0, +1, +1, -1, -1], [-1, -1, -1, +1, +1], [+1, -1, +1, -1, +1]]).t()
    q = torch.tensor([[1.0, 1, 0, 0]])
    assert mainstay_codes(q, codes, y, "cosine")[0].tolist() == [1.0, -1.0, 1.0]
    assert mainstay_codes(q, codes, y, "overlap")[0].tolist() == [1.0, -1.0, -1.0]


def test_a_bit_constant_over_the_training_codes_is_an_exact_tie():
    """A bit equal to -1 on every training code has coefficient -(sum w+ - sum w-) = -(1 - 1) = 0
    whenever a query has both similar and dissimilar items: the tie value +1, never the sign of
    rounding noise (float32 sums of thousands of irrational cosine weights leave ~1e-8)."""
    g = torch.Generator().manual_seed(0)
    n, c = 3000, 6
    y = (torch.rand(n, c, generator=g) > 0.5).float()
    codes = torch.randint(0, 2, (n, 8), generator=g).float() * 2 - 1
    codes[:, 3] = -1.0
    q = (torch.rand(64, c, generator=g) > 0.6).float()
    q[q.sum(1) == 0, 0] = 1
    shared = q @ y.t()
    both = ((shared > 0).any(1) & (shared == 0).any(1))
    assert both.sum() > 50
    exact = mainstay_codes(q, codes, y)
    assert torch.equal(exact[both, 3], torch.ones(int(both.sum())))
    noisy = mainstay_codes(q, codes, y, exact_ties=False)
    assert (noisy[both, 3] == -1).any(), "float32 noise should decide some of these ties (the released behaviour)"
    # every other bit agrees: only ties differ
    other = [k for k in range(8) if k != 3]
    assert torch.equal(exact[:, other], noisy[:, other])


@pytest.mark.parametrize("weighting", ["cosine", "overlap"])
def test_single_label_is_class_mean_minus_other_classes_mean(weighting):
    q, codes, y = random_problem(n=60, k=16, c=4, b=4, single=True, seed=3)
    got = mainstay_codes(q, codes, y, weighting)
    for qi, bi in zip(q, got):
        same = y.argmax(1) == qi.argmax()
        d = codes[same].double().mean(0) - codes[~same].double().mean(0)
        expected = torch.where(d.abs() < 1e-12, 1.0, torch.sign(d)).float()
        assert torch.equal(bi, expected)


def test_no_similar_or_no_dissimilar_item_gives_no_nan():
    codes = torch.tensor([[1.0, -1, 1], [1, 1, -1]])
    y = torch.tensor([[1.0, 0], [1, 0]])
    q = torch.tensor([[0.0, 1], [1, 0], [0, 0]])  # no similar; no dissimilar; empty label
    out = mainstay_codes(q, codes, y)
    assert torch.isfinite(out).all() and set(out.unique().tolist()) <= {-1.0, 1.0}
    # no similar item: the code moves away from the (dissimilar) mean, sign(-(mean))
    assert torch.equal(out[0], torch.tensor([-1.0, 1, 1]))  # -(mean) = (-1, 0, 0), ties -> +1


def test_objective_matches_the_loop():
    q, codes, y = random_problem(seed=5)
    b = torch.randint(0, 2, (q.shape[0], codes.shape[1]), generator=torch.Generator().manual_seed(1)).float() * 2 - 1
    got = dmfl_objective(b, q, codes, y, dtype=torch.float64)
    for i in range(q.shape[0]):
        assert float(got[i]) == pytest.approx(loop_objective(b[i], q[i], codes, y, "cosine"), abs=1e-12)


def test_shape_and_name_errors_are_clear():
    with pytest.raises(ValueError, match="classes"):
        mainstay_codes(torch.ones(2, 3), torch.ones(4, 8), torch.ones(4, 5))
    with pytest.raises(ValueError, match="rows"):
        mainstay_codes(torch.ones(2, 3), torch.ones(4, 8), torch.ones(5, 3))
    with pytest.raises(ValueError, match="overlap"):
        mainstay_codes(torch.ones(2, 3), torch.ones(4, 8), torch.ones(4, 3), weighting="released")
