"""Fashion-MNIST: files found, decoded, cached; splits with the right shapes and ranges."""
import gzip
import time

import numpy as np
import pytest
import torch

from saatlib.data import FASHION_MNIST_CLASSES, MissingDataError, load_splits
from saatlib.data import fashion_mnist as fm
from saatlib.data.errors import DataError
from saatlib.data.idx import read_idx


@pytest.fixture(scope="module")
def pool():
    try:
        return fm.load_pool(download=False)
    except MissingDataError as err:
        pytest.skip(f"Fashion-MNIST not installed: {err}")


def test_pool_shapes_and_class_counts(pool):
    assert pool.images.shape == (70000, 1, 28, 28) and pool.images.dtype == torch.uint8
    assert pool.num_train_part == 60000
    assert torch.equal(pool.classes.bincount(), torch.full((10,), 7000))
    assert pool.classes[:60000].bincount().tolist() == [6000] * 10


def test_repeated_load_is_cached(pool):
    start = time.perf_counter()
    again = fm.load_pool(download=False)
    assert time.perf_counter() - start < 0.1
    assert again.images is pool.images


def test_splits_shapes_ranges_and_one_hot(pool):
    s = load_splits("fashion-mnist", num_query=100, num_database=1000, num_train=500, seed=0)
    assert s.sizes() == {"train": 500, "query": 100, "database": 1000}
    assert s.num_classes == 10 and s.image_shape == (1, 28, 28) and not s.multi_label
    assert s.class_names == FASHION_MNIST_CLASSES and s.class_names[9] == "Ankle boot"
    x, y, i = s.query[7]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32 and i == 7
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0 and float(x.max()) > 0.5
    assert y.dtype == torch.float32 and y.sum() == 1
    xb, yb = s.database.all()
    assert xb.shape == (1000, 1, 28, 28) and torch.equal(yb.sum(1), torch.ones(1000))
    # the query set comes from the official test part, pixels equal the source images
    assert bool((s.query.source_ids >= 60000).all())
    assert torch.equal(s.query.images[3], pool.images[s.query.source_ids[3]])
    assert int(pool.classes[s.query.source_ids[3]]) == int(s.query.labels[3].argmax())
    q, d, t = (set(r.source_ids.tolist()) for r in (s.query, s.database, s.train))
    assert not q & d and t <= d


def test_splits_deterministic_from_seed(pool):
    a, b, c = (load_splits("fashion-mnist", num_query=50, num_database=200, num_train=20, seed=k)
               for k in (4, 4, 5))
    assert torch.equal(a.train.source_ids, b.train.source_ids) and torch.equal(a.query.images, b.query.images)
    assert not torch.equal(a.query.source_ids, c.query.source_ids)


def test_default_sizes(pool):
    s = load_splits("fashion-mnist")
    assert s.sizes() == {"train": 5000, "query": 1000, "database": 69000}


def test_image_size_resizes_on_access(pool):
    s = load_splits("fashion-mnist", num_query=10, num_database=20, num_train=5, image_size=32)
    assert s.image_shape == (1, 32, 32) and s.query[0][0].shape == (1, 32, 32)
    x, _ = s.query.batch([0, 1])
    assert x.shape == (2, 1, 32, 32) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0


def test_missing_everywhere_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(fm, "SYSTEM_DIR", tmp_path / "nowhere")
    with pytest.raises(MissingDataError, match="apt-get install dataset-fashion-mnist"):
        fm.locate(tmp_path / "empty", download=False)


def test_local_folder_first_and_idx_round_trip(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    header = np.array([0x00000803, 2, 28, 28], dtype=">u4").tobytes()
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(header + images.tobytes()))
    assert np.array_equal(read_idx(path), images)
    path.write_bytes(gzip.compress(header + images.tobytes()[:-5]))
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)
