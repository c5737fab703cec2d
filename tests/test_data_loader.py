"""data_loader: every index once per epoch, deterministic shuffles, both paths agree."""
import pytest
import torch

from saatlib.data import ImageSet, InMemoryImageSet, data_loader


def _memory_set(n=103):
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous()
    labels = torch.nn.functional.one_hot(torch.arange(n) % 4, 4).float()
    return InMemoryImageSet(images, labels)


class _PlainSet(ImageSet):
    """Same items as _memory_set, served one at a time (the torch DataLoader path)."""

    def __init__(self, inner):
        self.inner, self.labels = inner, inner.labels

    @property
    def image_shape(self):
        return self.inner.image_shape

    def load_image(self, index):
        return self.inner.load_image(index)


@pytest.mark.parametrize("make", [_memory_set, lambda: _PlainSet(_memory_set())])
@pytest.mark.parametrize("drop_last", [False, True])
def test_each_index_once_per_epoch(make, drop_last):
    ds = make()
    loader = data_loader(ds, batch_size=10, shuffle=True, seed=0, drop_last=drop_last)
    assert len(loader) == (10 if drop_last else 11)
    seen = []
    for x, y, idx in loader:
        assert x.shape[1:] == (1, 2, 2) and x.dtype == torch.float32 and idx.dtype == torch.int64
        assert torch.equal(y, ds.labels[idx])
        assert torch.allclose(x[:, 0, 0, 0] * 255, idx.float())  # the image of item idx
        seen.append(idx)
    seen = torch.cat(seen)
    assert len(seen) == (100 if drop_last else 103) and len(set(seen.tolist())) == len(seen)
    if not drop_last:
        assert sorted(seen.tolist()) == list(range(103))


def test_shuffle_deterministic_and_varies_by_epoch():
    ds = _memory_set()
    a = data_loader(ds, 16, shuffle=True, seed=3)
    first = torch.cat([i for _, _, i in a])
    second = torch.cat([i for _, _, i in a])  # the epoch advances after each pass
    assert not torch.equal(first, second)
    b = data_loader(ds, 16, shuffle=True, seed=3)
    assert torch.equal(torch.cat([i for _, _, i in b]), first)
    b.set_epoch(1)
    assert torch.equal(torch.cat([i for _, _, i in b]), second)
    c = data_loader(ds, 16, shuffle=True, seed=4)
    assert not torch.equal(torch.cat([i for _, _, i in c]), first)
    assert torch.equal(data_loader(ds, 16, shuffle=True, seed=3, epoch=1).order(), second)


def test_no_shuffle_is_index_order_and_paths_agree():
    mem = _memory_set()
    plain = _PlainSet(mem)
    for (xa, ya, ia), (xb, yb, ib) in zip(data_loader(mem, 7), data_loader(plain, 7)):
        assert torch.equal(ia, ib) and torch.equal(xa, xb) and torch.equal(ya, yb)
    assert torch.equal(torch.cat([i for _, _, i in data_loader(mem, 7)]), torch.arange(103))


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        data_loader(_memory_set(), 0)
    with pytest.raises(TypeError, match="ImageSet"):
        data_loader([1, 2, 3], 2)
