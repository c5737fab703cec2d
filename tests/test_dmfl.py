"""DMFL mainstay codes: exact maximiser, single-label closed form, edge cases."""
import itertools

import pytest
import torch

from saatlib.dmfl import dmfl_objective, mainstay_codes


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


@pytest.mark.parametrize("weighting", ["released", "cosine"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mainstay_attains_the_enumerated_maximum(weighting, seed):
    q, codes, y = random_problem(seed=seed)
    k = codes.shape[1]
    all_codes = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=k)))  # (2^K, K)
    best = torch.stack([dmfl_objective(all_codes, qi.expand(len(all_codes), -1), codes, y, weighting).max()
                        for qi in q])
    got = dmfl_objective(mainstay_codes(q, codes, y, weighting), q, codes, y, weighting)
    assert torch.allclose(got, best, atol=1e-5)


@pytest.mark.parametrize("weighting", ["released", "cosine"])
def test_single_label_is_class_mean_minus_other_classes_mean(weighting):
    q, codes, y = random_problem(n=60, k=16, c=4, b=4, single=True, seed=3)
    got = mainstay_codes(q, codes, y, weighting)
    for qi, bi in zip(q, got):
        same = y.argmax(1) == qi.argmax()
        d = codes[same].mean(0) - codes[~same].mean(0)
        expected = torch.where(d >= 0, 1.0, -1.0)
        assert torch.equal(bi, expected)


def test_no_similar_or_no_dissimilar_item_gives_no_nan():
    codes = torch.tensor([[1.0, -1, 1], [1, 1, -1]])
    y = torch.tensor([[1.0, 0], [1, 0]])
    q = torch.tensor([[0.0, 1], [1, 0], [0, 0]])  # no similar; no dissimilar; empty label
    out = mainstay_codes(q, codes, y)
    assert torch.isfinite(out).all() and set(out.unique().tolist()) <= {-1.0, 1.0}
    # no similar item: the code moves away from the (dissimilar) mean, sign(-(mean))
    assert torch.equal(out[0], torch.tensor([-1.0, 1, 1]))  # -(mean) = (-1, 0, 0), ties -> +1


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="classes"):
        mainstay_codes(torch.ones(2, 3), torch.ones(4, 8), torch.ones(4, 5))
    with pytest.raises(ValueError, match="rows"):
        mainstay_codes(torch.ones(2, 3), torch.ones(4, 8), torch.ones(5, 3))
