"""Stable MAP against a plain per-query loop (exact equality to 1e-9)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_metrics_helpers import random_codes, random_labels, ref_ap_stable

import saatlib.metrics._candidates as candidates
from saatlib.metrics import average_precision, mean_average_precision, pack_codes


def _data(q, n, bits, classes, seed, multi=True, p=0.3):
    gen = torch.Generator().manual_seed(seed)
    return (random_codes(q, bits, gen), random_codes(n, bits, gen),
            random_labels(q, classes, gen, multi, p), random_labels(n, classes, gen, multi, p))


@pytest.mark.parametrize("bits", [4, 6, 8])
@pytest.mark.parametrize("topk", [None, 1, 17, 100, 1000])
@pytest.mark.parametrize("multi", [True, False])
def test_stable_map_equals_loop_with_many_ties(bits, topk, multi):
    qb, db, ql, dl = _data(23, 300, bits, 5, seed=bits * 7 + (topk or 0), multi=multi)
    expect = ref_ap_stable(qb, db, ql, dl, topk)
    got = average_precision(qb, db, ql, dl, topk=topk)
    assert got.dtype == torch.float64 and got.shape == (23,)
    assert np.abs(got.numpy() - expect).max() < 1e-9
    assert abs(mean_average_precision(qb, db, ql, dl, topk=topk) - expect.mean()) < 1e-9


def test_queries_without_relevant_items_count_as_zero():
    qb, db, ql, dl = _data(12, 200, 6, 8, seed=3, p=0.1)
    ql[:4] = 0.0  # no label at all: never relevant
    ql[4] = 0.0
    ql[4, 7] = 1.0
    dl[:, 7] = 0.0  # a label that no database item carries
    got = average_precision(qb, db, ql, dl, topk=50)
    assert torch.all(got[:5] == 0)
    expect = ref_ap_stable(qb, db, ql, dl, 50)
    assert np.abs(got.numpy() - expect).max() < 1e-9


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 64])
def test_chunking_does_not_change_the_result(chunk_size):
    qb, db, ql, dl = _data(20, 150, 5, 4, seed=11)
    expect = ref_ap_stable(qb, db, ql, dl, 40)
    got = average_precision(qb, db, ql, dl, topk=40, chunk_size=chunk_size)
    assert np.abs(got.numpy() - expect).max() < 1e-9


@pytest.mark.parametrize("bits,topk", [(8, 100), (12, 500), (16, 30), (64, 200), (130, 300)])
def test_sampled_thresholds_path(bits, topk):
    """N large enough for the sample-based candidate bounds (and K > 127: float32 scores)."""
    qb, db, ql, dl = _data(40, 3000, bits, 21, seed=bits, p=0.1)
    expect = ref_ap_stable(qb, db, ql, dl, topk)
    got = average_precision(qb, db, ql, dl, topk=topk)
    assert np.abs(got.numpy() - expect).max() < 1e-9


def test_too_tight_bounds_are_extended(monkeypatch):
    """Whatever the sample says, short candidate lists are widened until exact."""
    qb, db, ql, dl = _data(30, 2000, 16, 6, seed=2)
    expect = ref_ap_stable(qb, db, ql, dl, 300)
    monkeypatch.setattr(candidates, "thresholds", lambda q_aug, *a: torch.zeros(q_aug.shape[1], dtype=torch.int64))
    got = average_precision(qb, db, ql, dl, topk=300, chunk_size=8)
    assert np.abs(got.numpy() - expect).max() < 1e-9


def test_packed_database_gives_the_same_result():
    qb, db, ql, dl = _data(25, 2500, 20, 6, seed=9)
    for topk in (None, 200):
        plain = average_precision(qb, db, ql, dl, topk=topk)
        packed = average_precision(qb, pack_codes(db), ql, dl, topk=topk, db_packed=True)
        assert torch.equal(plain, packed)


def test_collapsed_codes_huge_boundary_group():
    """All database codes identical: one tie group, AP decided by index order only."""
    gen = torch.Generator().manual_seed(4)
    qb = random_codes(5, 8, gen)
    db = random_codes(1, 8, gen).repeat(400, 1)
    ql, dl = random_labels(5, 3, gen), random_labels(400, 3, gen)
    expect = ref_ap_stable(qb, db, ql, dl, 50)
    assert np.abs(average_precision(qb, db, ql, dl, topk=50).numpy() - expect).max() < 1e-9


def test_numpy_and_int_inputs():
    qb, db, ql, dl = _data(6, 80, 6, 3, seed=1)
    expect = mean_average_precision(qb, db, ql, dl, topk=20)
    got = mean_average_precision(qb.numpy(), db.to(torch.int8), ql.bool(), dl.numpy(), topk=np.int64(20))
    assert abs(got - expect) < 1e-12


def test_errors():
    qb, db, ql, dl = _data(4, 10, 6, 3, seed=0)
    with pytest.raises(ValueError, match="code lengths differ"):
        mean_average_precision(qb, db[:, :5], ql, dl)
    with pytest.raises(ValueError, match="label widths differ"):
        mean_average_precision(qb, db, ql[:, :2], dl)
    with pytest.raises(ValueError, match="one label row per code row"):
        mean_average_precision(qb, db, ql, dl[:9])
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        mean_average_precision((qb + 1) / 2, db, ql, dl)
    with pytest.raises(ValueError, match="topk"):
        mean_average_precision(qb, db, ql, dl, topk=0)
    with pytest.raises(ValueError, match="ties"):
        mean_average_precision(qb, db, ql, dl, ties="random")
    with pytest.raises(ValueError, match="negative"):
        mean_average_precision(qb, db, -ql, dl)
    with pytest.raises(ValueError, match="one_hot"):
        mean_average_precision(qb, db, ql.argmax(1), dl)
    with pytest.raises(ValueError, match="pack_codes"):
        mean_average_precision(qb, db, ql, dl, db_packed=True)
    with pytest.raises(ValueError, match="chunk_size"):
        mean_average_precision(qb, db, ql, dl, chunk_size=0)


def test_workers_do_not_change_results_and_thread_setting_survives():
    qb, db, ql, dl = _data(50, 2500, 12, 6, seed=21)
    threads = torch.get_num_threads()
    one = average_precision(qb, db, ql, dl, topk=300, chunk_size=8, workers=1)
    three = average_precision(qb, db, ql, dl, topk=300, chunk_size=8, workers=3)
    assert torch.equal(one, three)
    assert torch.get_num_threads() == threads
    with pytest.raises(ValueError, match="workers"):
        average_precision(qb, db, ql, dl, workers=0)


def test_relevance_matrix():
    from saatlib.metrics import relevance_matrix

    ql = torch.tensor([[1, 0, 0], [0, 1, 1], [0, 0, 0]])
    dl = torch.tensor([[1, 1, 0], [0, 0, 1]])
    assert relevance_matrix(ql, dl).tolist() == [[True, False], [True, True], [False, False]]
    wide = torch.zeros(2, 70)
    wide[0, 69] = wide[1, 69] = 1  # a class in the third 32-bit word
    assert relevance_matrix(wide, wide).all()


def test_label_words_are_exact_bit_masks():
    from saatlib.metrics.relevance import label_words

    words = label_words(torch.eye(70))
    expect = torch.zeros(70, 3, dtype=torch.int64)
    for c in range(70):
        expect[c, c // 32] = 1 << (c % 32)
    assert torch.equal(words, expect)
    assert torch.equal(label_words(torch.ones(1, 32)), torch.tensor([[2**32 - 1]]))


def test_codes_that_require_grad_are_accepted():
    qb, db, ql, dl = _data(6, 300, 8, 3, seed=4)
    expect = mean_average_precision(qb, db, ql, dl, topk=50)
    assert mean_average_precision(qb.requires_grad_(), db.requires_grad_(), ql, dl, topk=50) == expect
