"""Mosaics: 2x2 grids of 1-4 garments whose label is the union of their classes."""
import pytest
import torch

from saatlib.data import MissingDataError, load_splits, make_mosaics
from saatlib.data import fashion_mnist as fm


def _tiles(m=40, num_classes=10):
    """Distinct synthetic sources: image k is filled with the value k + 1."""
    images = (torch.arange(m, dtype=torch.uint8) + 1).view(m, 1, 1, 1).expand(m, 1, 4, 4).contiguous()
    return images, torch.arange(m) % num_classes


def test_layout_counts_and_union_labels():
    tiles, classes = _tiles()
    mos = make_mosaics(tiles, classes, 500, torch.Generator().manual_seed(0))
    assert mos.images.shape == (500, 1, 8, 8) and mos.images.dtype == torch.uint8
    occupied = mos.tile_sources >= 0
    counts = occupied.sum(1)
    assert counts.min() == 1 and counts.max() == 4
    assert set(counts.tolist()) == {1, 2, 3, 4}  # empty tiles do occur, and full grids
    for n in range(500):
        expect = torch.zeros(10)
        for t in range(4):
            block = mos.images[n, 0, (t // 2) * 4:(t // 2 + 1) * 4, (t % 2) * 4:(t % 2 + 1) * 4]
            src = int(mos.tile_sources[n, t])
            if src < 0:
                assert int(block.max()) == 0
            else:
                assert bool((block == src + 1).all())
                expect[classes[src]] = 1
        assert torch.equal(mos.labels[n], expect)


def test_sources_used_evenly_before_repeating():
    tiles, classes = _tiles(m=1000)
    mos = make_mosaics(tiles, classes, 200, torch.Generator().manual_seed(1))
    used = mos.tile_sources[mos.tile_sources >= 0]
    assert len(used) == len(set(used.tolist()))  # fewer tiles than sources: no repeats


def test_deterministic_from_generator():
    tiles, classes = _tiles()
    a = make_mosaics(tiles, classes, 50, torch.Generator().manual_seed(5))
    b = make_mosaics(tiles, classes, 50, torch.Generator().manual_seed(5))
    c = make_mosaics(tiles, classes, 50, torch.Generator().manual_seed(6))
    assert torch.equal(a.images, b.images) and torch.equal(a.tile_sources, b.tile_sources)
    assert not torch.equal(a.tile_sources, c.tile_sources)


@pytest.fixture(scope="module")
def splits():
    try:
        return load_splits("fashion-mnist-mosaics", num_query=100, num_database=1000, num_train=500, seed=0)
    except MissingDataError as err:
        pytest.skip(f"Fashion-MNIST not installed: {err}")


def test_splits_shapes_labels_and_sources(splits):
    pool = fm.load_pool(download=False)
    assert splits.sizes() == {"train": 500, "query": 100, "database": 1000}
    assert splits.image_shape == (1, 56, 56) and splits.num_classes == 10 and splits.multi_label
    x, y, i = splits.database[11]
    assert x.shape == (1, 56, 56) and 0 <= float(x.min()) and float(x.max()) <= 1 and i == 11
    for s in (splits.query, splits.database):
        src = s.source_ids
        garments = (src >= 0).sum(1)
        assert garments.min() >= 1 and garments.max() <= 4
        # labels = union of the tile classes, read back from the pool
        cls = torch.where(src >= 0, pool.classes[src.clamp(min=0)], -1)
        for n in range(0, len(s), 7):
            assert set(s.labels[n].nonzero().squeeze(1).tolist()) == set(cls[n][cls[n] >= 0].tolist())
        # the pixels of tile 3 are the source garment
        n = int((src[:, 3] >= 0).nonzero()[0])
        assert torch.equal(s.images[n, 0, 28:, 28:], pool.images[src[n, 3], 0])


def test_no_source_garment_in_both_query_and_database(splits):
    q = set(splits.query.source_ids[splits.query.source_ids >= 0].tolist())
    d = set(splits.database.source_ids[splits.database.source_ids >= 0].tolist())
    assert q and d and not q & d
    assert min(q) >= 60000 and max(d) < 60000


def test_train_is_a_subset_of_database(splits):
    db_rows = {tuple(r) for r in splits.database.source_ids.tolist()}
    assert all(tuple(r) in db_rows for r in splits.train.source_ids.tolist())


def test_determinism_of_splits(splits):
    again = load_splits("fashion-mnist-mosaics", num_query=100, num_database=1000, num_train=500, seed=0)
    other = load_splits("fashion-mnist-mosaics", num_query=100, num_database=1000, num_train=500, seed=1)
    assert torch.equal(again.query.images, splits.query.images)
    assert torch.equal(again.train.source_ids, splits.train.source_ids)
    assert not torch.equal(other.query.images, splits.query.images)
