"""make_protocol: disjoint roles, train inside the database, sizes, determinism."""
import pytest
import torch

from saatlib.data import make_protocol
from saatlib.data.protocol import subsample


def _sets(p):
    return set(p.query.tolist()), set(p.database.tolist()), set(p.train.tolist())


def test_roles_disjoint_and_nested():
    p = make_protocol(5000, 100, 1000, 500, seed=3, query_pool=torch.arange(4000, 5000))
    q, d, t = _sets(p)
    assert (len(q), len(d), len(t)) == (100, 1000, 500)
    assert not q & d and t <= d
    assert all(4000 <= i < 5000 for i in q)
    for idx in p:
        assert idx.dtype == torch.int64 and torch.equal(idx, idx.sort().values)


def test_same_seed_same_indices_different_seed_different():
    a = make_protocol(3000, 50, 500, 100, seed=0)
    b = make_protocol(3000, 50, 500, 100, seed=0)
    c = make_protocol(3000, 50, 500, 100, seed=1)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not any(torch.equal(x, y) for x, y in zip(a, c))


def test_query_does_not_move_when_other_sizes_change():
    a = make_protocol(3000, 50, 500, 100, seed=0)
    b = make_protocol(3000, 50, 900, 300, seed=0)
    assert torch.equal(a.query, b.query)


def test_defaults():
    p = make_protocol(70000, seed=0, query_pool=torch.arange(60000, 70000))
    assert (len(p.query), len(p.database), len(p.train)) == (1000, 69000, 5000)
    small = make_protocol(300, num_query=10, num_database=100)
    assert len(small.train) == 100


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_query=0), "num_query must be a positive int"),
    (dict(num_query=2.5), "num_query must be a positive int"),
    (dict(num_query=200, query_pool=torch.arange(100)), "ask for at most 100"),
    (dict(num_query=10, num_database=995), "ask for at most 990"),
    (dict(num_query=10, num_database=50, num_train=51), "ask for at most 50"),
])
def test_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_protocol(1000, **kwargs)


def test_subsample():
    a = subsample(100, 10, seed=0, stream="x")
    assert len(a) == 10 and len(set(a.tolist())) == 10 and torch.equal(a, subsample(100, 10, 0, "x"))
    assert not torch.equal(a, subsample(100, 10, 1, "x"))
    assert torch.equal(subsample(5, None, 0, "x"), torch.arange(5))
    assert torch.equal(subsample(5, 9, 0, "x"), torch.arange(5))
