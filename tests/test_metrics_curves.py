"""PR curve by Hamming radius and precision@N against loops."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_metrics_helpers import random_codes, random_labels, ref_pr_curve, ref_precision_at

from saatlib.metrics import pack_codes, precision_at_n, precision_recall_curve


def _data(q, n, bits, classes, seed, p=0.3):
    gen = torch.Generator().manual_seed(seed)
    return (random_codes(q, bits, gen), random_codes(n, bits, gen),
            random_labels(q, classes, gen, p=p), random_labels(n, classes, gen, p=p))


@pytest.mark.parametrize("empty", ["skip", "zero"])
@pytest.mark.parametrize("bits", [4, 10, 16])
def test_pr_curve_equals_loop(bits, empty):
    qb, db, ql, dl = _data(15, 200, bits, 4, seed=bits, p=0.2)
    ql[0] = 0.0  # a query with no relevant item: no recall, still has precisions
    p, r = precision_recall_curve(qb, db, ql, dl, empty=empty)
    ep, er = ref_pr_curve(qb, db, ql, dl, empty=empty)
    assert p.shape == (bits + 1,) and r.shape == (bits + 1,)
    assert np.abs(p.numpy() - ep).max() < 1e-12
    assert np.abs(r.numpy() - er).max() < 1e-12
    assert abs(float(r[-1]) - 1.0) < 1e-12 and torch.all(r[1:] >= r[:-1])


def test_pr_curve_chunks_and_packed():
    qb, db, ql, dl = _data(13, 300, 12, 4, seed=2)
    base = precision_recall_curve(qb, db, ql, dl)
    for got in (precision_recall_curve(qb, db, ql, dl, chunk_size=4),
                precision_recall_curve(qb, pack_codes(db), ql, dl, db_packed=True)):
        assert torch.allclose(got[0], base[0], atol=1e-14) and torch.allclose(got[1], base[1], atol=1e-14)


@pytest.mark.parametrize("bits,n", [(4, 200), (8, 3000), (16, 3000)])
def test_precision_at_n_equals_loop(bits, n):
    qb, db, ql, dl = _data(20, n, bits, 5, seed=bits)
    n_values = [1, 5, 50, 100, 200]
    got = precision_at_n(qb, db, ql, dl, n_values)
    assert got.shape == (5,)
    assert np.abs(got.numpy() - ref_precision_at(qb, db, ql, dl, n_values)).max() < 1e-12


def test_precision_at_n_single_int_and_errors():
    qb, db, ql, dl = _data(5, 50, 6, 3, seed=0)
    assert precision_at_n(qb, db, ql, dl, 10).shape == (1,)
    with pytest.raises(ValueError, match="n_values"):
        precision_at_n(qb, db, ql, dl, [0, 10])
    with pytest.raises(ValueError, match="n_values"):
        precision_at_n(qb, db, ql, dl, [51])
    with pytest.raises(ValueError, match="ties"):
        precision_at_n(qb, db, ql, dl, [5], ties="mean")
    with pytest.raises(ValueError, match="empty"):
        precision_recall_curve(qb, db, ql, dl, empty="nan")
