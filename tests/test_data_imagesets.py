"""ImageSet basics: items, subsets, input checks; the dataset registry."""
import pytest
import torch

from saatlib.data import InMemoryImageSet, dataset_names, load_splits
from saatlib.data.imagesets import SubsetImageSet


def _set(n=10):
    images = torch.randint(0, 256, (n, 3, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    labels = torch.zeros(n, 3)
    labels[torch.arange(n), torch.arange(n) % 3] = 1
    return InMemoryImageSet(images, labels, source_ids=torch.arange(100, 100 + n))


def test_items_and_batches():
    ds = _set()
    x, y, i = ds[4]
    assert x.shape == (3, 4, 4) and x.dtype == torch.float32 and i == 4
    assert torch.equal(x, ds.images[4].float() / 255) and torch.equal(y, ds.labels[4])
    xb, yb = ds.batch(torch.tensor([4, 1]))
    assert torch.equal(xb[0], x) and torch.equal(yb[1], ds.labels[1])
    assert ds.num_classes == 3 and ds.image_shape == (3, 4, 4) and len(ds) == 10
    with pytest.raises(IndexError):
        ds[10]


def test_subset_reindexes_and_keeps_sources():
    ds = _set()
    sub = ds.subset([7, 2, 9])
    assert isinstance(sub, InMemoryImageSet) and len(sub) == 3
    x, y, i = sub[1]
    assert i == 1 and torch.equal(x, ds[2][0]) and torch.equal(y, ds.labels[2])
    assert sub.source_ids.tolist() == [107, 102, 109]
    assert sub.subset([2]).source_ids.tolist() == [109]
    with pytest.raises(IndexError, match="out of range"):
        ds.subset([3, 10])


def test_generic_subset_of_subset():
    ds = _set()
    view = SubsetImageSet(ds, torch.tensor([5, 6, 7, 8]))
    inner = view.subset([3, 0])
    assert torch.equal(inner[0][0], ds[8][0]) and torch.equal(inner.labels[1], ds.labels[5])


def test_float_images_and_bad_inputs():
    ok = InMemoryImageSet(torch.rand(2, 1, 3, 3), torch.eye(2))
    assert ok[1][0].dtype == torch.float32
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        InMemoryImageSet(torch.rand(2, 1, 3, 3) * 2, torch.eye(2))
    with pytest.raises(ValueError, match="one_hot"):
        InMemoryImageSet(torch.zeros(2, 1, 3, 3, dtype=torch.uint8), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="only 0 and 1"):
        InMemoryImageSet(torch.zeros(2, 1, 3, 3, dtype=torch.uint8), torch.eye(2) * 2)
    with pytest.raises(ValueError, match="must match"):
        InMemoryImageSet(torch.zeros(3, 1, 3, 3, dtype=torch.uint8), torch.eye(2))


def test_registry_names_and_unknown():
    names = dataset_names()
    for name in ["fashion-mnist", "fashion-mnist-mosaics", "NUS-WIDE", "MS-COCO", "FLICKR-25K",
                 "CIFAR-10", "ImageNet-100", "listfile"]:
        assert name in names
    with pytest.raises(ValueError, match="known datasets") as info:
        load_splits("mnist-fashion")
    assert "NUS-WIDE" in str(info.value)


def test_missing_benchmark_folder(tmp_path, monkeypatch):
    from saatlib.data import paths

    monkeypatch.setenv("SAAT_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(paths, "repo_root", lambda: None)
    with pytest.raises(FileNotFoundError, match="MS-COCO"):
        load_splits("MS-COCO")
