"""List-file datasets in both formats, and a clear error for each kind of bad input."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms.functional import to_tensor

from saatlib.data import DataError, ListFileImageSet, MissingDataError, detect_format, load_splits

SIZES = {"train": 6, "test": 3, "database": 9}
WIDTH = 5


def make_dataset(root: Path, fmt: str, sizes=SIZES, width=WIDTH) -> dict:
    """Write 8x8 PNGs and list files; return {split: (paths, labels)}."""
    rng = np.random.default_rng(0)
    (root / "img").mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in sizes.items():
        paths, labels = [], rng.integers(0, 2, size=(n, width))
        labels[:, 0] = 1 - labels[:, 1:].max(axis=1)  # every row has a label
        for k in range(n):
            rel = f"img/{split}_{k}.png"
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(root / rel)
            paths.append(rel)
        rows = [" ".join(map(str, r)) for r in labels]
        if fmt == "saat":
            (root / f"{split}_img.txt").write_text("\n".join(paths) + "\n")
            (root / f"{split}_label.txt").write_text("\n".join(rows) + "\n")
        else:
            (root / f"{split}.txt").write_text("\n".join(f"{p} {r}" for p, r in zip(paths, rows)) + "\n")
        out[split] = (paths, labels)
    return out


@pytest.mark.parametrize("fmt", ["saat", "deephash"])
def test_both_formats_load(tmp_path, fmt):
    made = make_dataset(tmp_path, fmt)
    assert detect_format(tmp_path) == fmt
    s = load_splits("listfile", data_dir=tmp_path, image_size=8)
    assert s.sizes() == {"train": 6, "query": 3, "database": 9}
    assert s.num_classes == WIDTH and s.image_shape == (3, 8, 8) and s.class_names is None
    assert s.protocol["format"] == fmt
    x, y, i = s.database[4]
    assert x.shape == (3, 8, 8) and x.dtype == torch.float32 and i == 4
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert torch.equal(y, torch.tensor(made["database"][1][4], dtype=torch.float32))
    assert torch.equal(s.query.labels, torch.tensor(made["test"][1], dtype=torch.float32))
    # the pixels are the PNG's divided by 255 (seen through a plain ToTensor transform)
    plain = ListFileImageSet(tmp_path, "database", fmt, transform=to_tensor)
    raw = np.asarray(Image.open(tmp_path / made["database"][0][4]), dtype=np.float32) / 255
    assert torch.allclose(plain[4][0], torch.from_numpy(raw).permute(2, 0, 1))


def test_named_benchmark_from_data_root_and_subsampling(tmp_path, monkeypatch):
    make_dataset(tmp_path / "NUS-WIDE", "saat")
    (tmp_path / "NUS-WIDE" / "classes.txt").write_text("a\nb\nc\nd\ne\n")
    monkeypatch.setenv("SAAT_DATA", str(tmp_path))
    s = load_splits("nus-wide", num_query=2, num_database=4, num_train=3, seed=1, image_size=8)
    assert s.name == "NUS-WIDE" and s.sizes() == {"train": 3, "query": 2, "database": 4}
    assert s.class_names == ["a", "b", "c", "d", "e"]
    again = load_splits("NUS-WIDE", num_query=2, num_database=4, num_train=3, seed=1, image_size=8)
    assert again.database.paths == s.database.paths
    full = load_splits("NUS-WIDE", image_size=8)
    assert set(s.database.paths) <= set(full.database.paths)


def test_subset_of_listfile_set(tmp_path):
    make_dataset(tmp_path, "saat")
    full = ListFileImageSet(tmp_path, "database", image_size=8)
    sub = full.subset([5, 2])
    assert len(sub) == 2 and sub.paths == [full.paths[5], full.paths[2]]
    assert torch.equal(sub[1][0], full[2][0]) and sub[1][2] == 1


def test_custom_transform_sets_image_shape(tmp_path):
    make_dataset(tmp_path, "saat")
    ds = ListFileImageSet(tmp_path, "train", transform=lambda im: torch.zeros(3, 5, 7))
    assert ds.image_shape == (3, 5, 7)


def _error(cls, load) -> str:
    """Run ``load()``, expect ``cls``, return the message."""
    with pytest.raises(cls) as info:
        load()
    return str(info.value)


def _load_all(root):
    return lambda: load_splits("listfile", data_dir=root, image_size=8)


def _first_item(root, split):
    return lambda: ListFileImageSet(root, split, image_size=8)[0]


def _assert_words(message, *words):
    for word in words:
        assert word in message, message


def test_missing_list_file(tmp_path):
    make_dataset(tmp_path, "saat")
    (tmp_path / "test_label.txt").unlink()
    _assert_words(_error(MissingDataError, _load_all(tmp_path)), "test_label.txt", "Expected")


def test_no_list_files_at_all(tmp_path):
    with pytest.raises(MissingDataError, match="no list files"):
        load_splits("listfile", data_dir=tmp_path)
    with pytest.raises(ValueError, match="needs data_dir"):
        load_splits("listfile")


def test_label_width_differs_between_lines(tmp_path):
    make_dataset(tmp_path, "saat")
    lines = (tmp_path / "train_label.txt").read_text().splitlines()
    lines[3] += " 1"
    (tmp_path / "train_label.txt").write_text("\n".join(lines))
    _assert_words(_error(DataError, _load_all(tmp_path)), "train_label.txt line 4", "6 label values", "line 1 has 5")


def test_label_width_differs_between_splits(tmp_path):
    make_dataset(tmp_path, "deephash")
    make_dataset(tmp_path / "wide", "deephash", width=WIDTH + 1)
    (tmp_path / "test.txt").write_text((tmp_path / "wide" / "test.txt").read_text().replace("img/", "wide/img/"))
    _assert_words(_error(DataError, _load_all(tmp_path)), "differ between splits", "train.txt", "test.txt")


def test_bad_label_value(tmp_path):
    make_dataset(tmp_path, "deephash")
    text = (tmp_path / "database.txt").read_text().splitlines()
    text[1] = text[1][:-1] + "2"
    (tmp_path / "database.txt").write_text("\n".join(text))
    _assert_words(_error(DataError, _load_all(tmp_path)), "database.txt line 2", "must be 0 or 1")


def test_empty_split(tmp_path):
    make_dataset(tmp_path, "saat")
    (tmp_path / "database_img.txt").write_text("\n")
    _assert_words(_error(DataError, _load_all(tmp_path)), "database_img.txt", "empty")


def test_lists_of_different_length(tmp_path):
    make_dataset(tmp_path, "saat")
    lines = (tmp_path / "train_label.txt").read_text().splitlines()
    (tmp_path / "train_label.txt").write_text("\n".join(lines[:-1]))
    _assert_words(_error(DataError, _load_all(tmp_path)), "train_img.txt lists 6 images", "5 label lines", "line 6")


def test_missing_and_unreadable_images(tmp_path):
    made = make_dataset(tmp_path, "saat")
    (tmp_path / made["train"][0][0]).unlink()
    message = _error(MissingDataError, _first_item(tmp_path, "train"))
    _assert_words(message, made["train"][0][0], "train_img.txt line 1", "does not exist")
    with pytest.raises(MissingDataError, match="train_img.txt line 1"):
        ListFileImageSet(tmp_path, "train", check_files=True)
    (tmp_path / made["test"][0][2]).write_bytes(b"not a png")
    with pytest.raises(DataError, match="test_img.txt line 3") as info:
        ListFileImageSet(tmp_path, "test", image_size=8)[2]
    assert "cannot read image" in str(info.value)


def test_blank_line_in_middle(tmp_path):
    make_dataset(tmp_path, "saat")
    lines = (tmp_path / "train_img.txt").read_text().splitlines()
    lines.insert(2, "")
    (tmp_path / "train_img.txt").write_text("\n".join(lines))
    _assert_words(_error(DataError, _load_all(tmp_path)), "train_img.txt line 3 is blank")
