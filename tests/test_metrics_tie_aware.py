"""Tie-aware MAP and precision@N: exhaustive enumeration, Monte-Carlo, no-tie limit."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from test_metrics_helpers import (
    random_codes,
    random_labels,
    ref_ap_tiebreak,
    ref_distances,
    ref_relevance,
)

from saatlib.metrics import average_precision, mean_average_precision, precision_at_n


def _enumerated_ap(qb, db, ql, dl, topk):
    """Mean AP over every order of the database (hence over every tie order, uniformly)."""
    dist, rel = ref_distances(qb, db), ref_relevance(ql, dl)
    n = dist.shape[1]
    perms = list(itertools.permutations(range(n)))
    out = []
    for i in range(len(dist)):
        aps = [ref_ap_tiebreak(dist[i], rel[i], np.asarray(p), topk) for p in perms]
        out.append(np.mean(aps))
    return np.array(out)


def _enumerated_precision(qb, db, ql, dl, n_values):
    dist, rel = ref_distances(qb, db), ref_relevance(ql, dl)
    n = dist.shape[1]
    total = np.zeros(len(n_values))
    for i in range(len(dist)):
        per = []
        for p in itertools.permutations(range(n)):
            hits = np.cumsum(rel[i][np.lexsort((np.asarray(p), dist[i]))])
            per.append([hits[m - 1] / m for m in n_values])
        total += np.mean(per, 0)
    return total / len(dist)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("topk", [1, 2, 3, 5, None])
def test_expected_ap_equals_enumeration(seed, topk):
    gen = torch.Generator().manual_seed(seed)
    n = 6 + seed % 2  # 6 or 7 items: 720 or 5040 orders
    qb, db = random_codes(3, 3, gen), random_codes(n, 3, gen)  # 3 bits: many ties
    ql, dl = random_labels(3, 3, gen, p=0.4), random_labels(n, 3, gen, p=0.4)
    expect = _enumerated_ap(qb, db, ql, dl, n if topk is None else topk)
    got = average_precision(qb, db, ql, dl, topk=topk, ties="expected")
    assert np.abs(got.numpy() - expect).max() < 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_expected_precision_at_n_equals_enumeration(seed):
    gen = torch.Generator().manual_seed(10 + seed)
    qb, db = random_codes(3, 2, gen), random_codes(6, 2, gen)
    ql, dl = random_labels(3, 2, gen, p=0.5), random_labels(6, 2, gen, p=0.5)
    n_values = [1, 2, 3, 4, 6]
    expect = _enumerated_precision(qb, db, ql, dl, n_values)
    got = precision_at_n(qb, db, ql, dl, n_values, ties="expected")
    assert np.abs(got.numpy() - expect).max() < 1e-12


def test_expected_ap_matches_monte_carlo():
    gen = torch.Generator().manual_seed(7)
    qb, db = random_codes(4, 5, gen), random_codes(400, 5, gen)
    ql, dl = random_labels(4, 4, gen, p=0.3), random_labels(400, 4, gen, p=0.3)
    topk = 90  # cuts through a tie group
    dist, rel = ref_distances(qb, db), ref_relevance(ql, dl)
    rng = np.random.default_rng(0)
    draws = 3000
    mc = np.array([[ref_ap_tiebreak(dist[i], rel[i], rng.permutation(400), topk) for _ in range(draws)]
                   for i in range(4)])
    got = average_precision(qb, db, ql, dl, topk=topk, ties="expected").numpy()
    stderr = mc.std(1) / np.sqrt(draws)
    assert np.all(np.abs(got - mc.mean(1)) < 5 * stderr + 1e-6)


def test_expected_equals_stable_without_ties():
    """Database codes at pairwise distinct distances from the query: no ties at all."""
    gen = torch.Generator().manual_seed(3)
    bits = 12
    q = random_codes(1, bits, gen)
    db = q.repeat(bits + 1, 1)
    for j in range(bits + 1):
        db[j, :j] *= -1  # item j at distance j
    db = db[torch.randperm(bits + 1, generator=gen)]
    ql, dl = random_labels(1, 3, gen, p=0.5), random_labels(bits + 1, 3, gen, p=0.5)
    ql[0, 0] = 1.0
    for topk in (None, 1, 4, 9):
        stable = mean_average_precision(q, db, ql, dl, topk=topk)
        expected = mean_average_precision(q, db, ql, dl, topk=topk, ties="expected")
        assert abs(stable - expected) < 1e-12
    assert torch.allclose(precision_at_n(q, db, ql, dl, [1, 5, 13]),
                          precision_at_n(q, db, ql, dl, [1, 5, 13], ties="expected"), atol=1e-12)


@pytest.mark.parametrize("topk", [37, 400, 2999, None])
def test_expected_on_sampled_path_uses_exact_group_counts(topk):
    """Larger N (sample-based candidate bounds; dense counts for topk=None): the engine's
    group counts must equal brute-force histograms, so the result equals the formula
    (itself checked by enumeration above) applied to them."""
    from saatlib.metrics.tie_aware import expected_average_precision

    gen = torch.Generator().manual_seed(5)
    qb, db = random_codes(16, 10, gen), random_codes(3000, 10, gen)
    ql, dl = random_labels(16, 6, gen, p=0.2), random_labels(3000, 6, gen, p=0.2)
    dist, rel = ref_distances(qb, db), ref_relevance(ql, dl)
    n = np.stack([np.bincount(d, minlength=11) for d in dist]).astype(np.float64)
    r = np.stack([np.bincount(d[m], minlength=11) for d, m in zip(dist, rel)]).astype(np.float64)
    expect = expected_average_precision(torch.from_numpy(n), torch.from_numpy(r), topk or 3000)
    got = average_precision(qb, db, ql, dl, topk=topk, ties="expected")
    assert torch.allclose(got, expect, atol=1e-12)


def test_expected_full_list_matches_random_database_orders():
    """topk=None (McSherry-Najork): mean of stable AP over random database orders."""
    gen = torch.Generator().manual_seed(6)
    qb, db = random_codes(6, 6, gen), random_codes(120, 6, gen)
    ql, dl = random_labels(6, 4, gen, p=0.3), random_labels(120, 4, gen, p=0.3)
    rng = np.random.default_rng(1)
    runs = []
    for _ in range(400):
        perm = torch.from_numpy(rng.permutation(120))
        runs.append(average_precision(qb, db[perm], ql, dl[perm], workers=1).numpy())
    runs = np.array(runs)
    got = average_precision(qb, db, ql, dl, ties="expected").numpy()
    assert np.all(np.abs(got - runs.mean(0)) < 5 * runs.std(0) / np.sqrt(400) + 1e-9)


def test_expected_precision_at_n_on_sampled_path():
    from saatlib.metrics.tie_aware import expected_precision_at

    gen = torch.Generator().manual_seed(8)
    qb, db = random_codes(10, 140, gen), random_codes(2500, 140, gen)  # K > 127: float32 scores
    ql, dl = random_labels(10, 40, gen, p=0.05), random_labels(2500, 40, gen, p=0.05)  # 2 label words
    dist, rel = ref_distances(qb, db), ref_relevance(ql, dl)
    n = np.stack([np.bincount(d, minlength=141) for d in dist]).astype(np.float64)
    r = np.stack([np.bincount(d[m], minlength=141) for d, m in zip(dist, rel)]).astype(np.float64)
    values = [1, 10, 100, 600]
    expect = expected_precision_at(torch.from_numpy(n), torch.from_numpy(r), values).mean(0)
    got = precision_at_n(qb, db, ql, dl, values, ties="expected")
    assert torch.allclose(got, expect, atol=1e-12)
