"""The book's chapters run in the smoke profile and record sensible numbers.

Every notebook chapter listed in _toc.yml is executed once per session with
papermill (``saatlib.book.run_chapter``, ``profile="smoke"``) into a
temporary folder; the numbers it recorded (``saatlib.book.record``) are read
back and checked, generally (no duplicate names, MAP-like values in [0, 1])
and chapter by chapter. The run store is the session's temporary one
(tests/conftest.py), so chapters share trained models as in ``make book``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

from saatlib import book
from saatlib.profiles import get_profile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from run_chapters import toc_notebooks  # noqa: E402

CHAPTERS = [p.stem for p in toc_notebooks()]
SMOKE = get_profile("smoke")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """``executed(stem)`` -> (path of the executed notebook, its records); each chapter runs once."""
    out_dir = tmp_path_factory.mktemp("chapters")
    done: dict[str, tuple[Path, dict]] = {}

    def run(stem: str):
        if stem not in CHAPTERS:
            pytest.skip(f"{stem} is not in _toc.yml")
        if stem not in done:
            out = book.run_chapter(ROOT / "book" / f"{stem}.ipynb", out_dir / f"{stem}.ipynb", profile="smoke")
            done[stem] = (out, book.read_records(out))
        return done[stem]

    return run


def _map_values(records: dict):
    """(name, value) of every recorded MAP (names holding "map" or starting "tie_"), lists flattened."""
    for name, value in records.items():
        if "map" in name.lower() or name.startswith("tie_"):
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, float):
                    yield name, v


# --- every chapter ----------------------------------------------------------------------------

@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_runs_in_smoke_profile(executed, stem):
    path, records = executed(stem)
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["papermill"]["parameters"]["profile"] == "smoke"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error" or o.get("name") == "stderr"]
    assert not errors, f"{stem}: error or stderr output: {errors[:1]}"
    for name, value in _map_values(records):
        assert 0.0 <= value <= 1.0, f"{stem}: {name} = {value} is not in [0, 1]"


# --- chapter by chapter ------------------------------------------------------------------------

@pytest.mark.notebook
@pytest.mark.slow
def test_retrieval_chapter_records(executed):
    _, r = executed("01_retrieval")
    data = SMOKE["data"]
    assert (r["num_query"], r["num_database"], r["num_train"]) == \
        (data["num_query"], data["num_database"], data["num_train"])
    assert r["protocol_ok"] is True
    assert r["hamming_formula_ok"] is True
    # single-label, ten classes: chance relevance about 0.1; mosaics share labels far more often
    assert 0.05 < r["chance_relevance.fashion-mnist"] < 0.2
    assert r["chance_relevance.fashion-mnist-mosaics"] > r["chance_relevance.fashion-mnist"]
    assert r["map"] > r["chance_relevance.fashion-mnist"], "the hash model ranks no better than chance"
    assert r["tie_index_order"] == pytest.approx(r["map"], abs=1e-12)
    assert r["tie_expected"] == pytest.approx(r["map_expected"], abs=1e-12)
    permuted = r["tie_permuted"]
    assert len(permuted) >= 5 and min(permuted) == r["tie_min"] and max(permuted) == r["tie_max"]
    assert r["tie_min"] - 1e-9 <= r["tie_expected"] <= r["tie_max"] + 1e-9, \
        "the tie-aware MAP lies outside the range of the MAPs of random tie orders"
    assert r["tie_max"] > r["tie_min"], "no spread over tie orders: the chapter's point does not show"
    mean = sum(permuted) / len(permuted)
    assert abs(mean - r["tie_expected"]) <= r["tie_max"] - r["tie_min"]
    assert r["median_tied_at_cut"] >= 1


@pytest.mark.notebook
@pytest.mark.slow
def test_deep_hashing_chapter_records(executed):
    _, r = executed("02_deep_hashing")
    maps = {k: v for k, v in r.items() if k.startswith("map.")}
    assert len(maps) == 8, f"expected 4 methods x 2 datasets, got {sorted(maps)}"
    for name, value in maps.items():
        expected = r["map_expected." + name[len("map."):]]
        assert 0.0 < value <= 1.0
        assert abs(value - expected) < 0.1, f"{name}: stable {value} and tie-aware {expected} far apart"
    best_fm = max(v for k, v in maps.items() if k.startswith("map.fashion-mnist."))
    assert best_fm > 0.3, f"no method learns Fashion-MNIST even in the smoke profile (best MAP {best_fm})"


@pytest.mark.notebook
@pytest.mark.slow
def test_mainstay_chapter_records(executed):
    executed("02_deep_hashing")  # the models chapter 3 reuses, as in `make book`
    _, r = executed("03_mainstay_codes")
    assert r["enum_matched"] is True, "sign(d) does not reach the brute-force maximum of the DMFL objective"
    assert r["enum_bits"] >= 6 and r["enum_label_sets"] >= 2
    mainstay = {k: v for k, v in r.items() if k.startswith("mainstay_map.")}
    assert len(mainstay) == 4  # 2 datasets x 2 weightings
    for name, value in mainstay.items():
        assert value > 0.5, f"{name} = {value}: mainstay codes should retrieve their semantics well"
        dataset = name.split(".")[1]
        assert value > r[f"benign_map.{dataset}"] - 0.05
    assert r["weightings_differ.fashion-mnist"] == 0.0, "weightings must agree on single-label data"
    assert 0 <= r["bits_to_class_centre"] <= 32 and 0 <= r["bits_to_csq_centre"] <= 32


# --- run_chapter and the records -------------------------------------------------------------

@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_declares_its_parameters(stem):
    declared = book.chapter_parameters(ROOT / "book" / f"{stem}.ipynb")
    assert "profile" in declared


def test_misspelled_parameter_is_refused(tmp_path):
    chapter = ROOT / "book" / f"{CHAPTERS[0]}.ipynb" if CHAPTERS else None
    if chapter is None:
        pytest.skip("no chapter in _toc.yml")
    with pytest.raises(ValueError, match="did you mean 'profile'"):
        book.run_chapter(chapter, tmp_path / "out.ipynb", profle="smoke")
    assert not (tmp_path / "out.ipynb").exists(), "the chapter ran despite the bad parameter"


def _glue_output(name: str, text: str) -> dict:
    return nbformat.v4.new_output("display_data", data={book.RECORD_PREFIX + "text/plain": text},
                                  metadata={"scrapbook": {"name": name, "mime_prefix": book.RECORD_PREFIX}})


def test_read_records_round_trip(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("record(...)")
    values = {"map": 0.75, "ok": True, "n": 3, "name": "CSQ", "list": [0.1, 0.2], "nested": {"a": 1}}
    cell.outputs = [_glue_output(k, repr(book._plain(v))) for k, v in values.items()]
    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text="hello\n"))
    nb.cells = [nbformat.v4.new_markdown_cell("text"), cell]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    assert book.read_records(tmp_path / "nb.ipynb") == values


def test_read_records_refuses_duplicates(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [_glue_output("map", "0.5"), _glue_output("map", "0.6")]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    with pytest.raises(ValueError, match="recorded twice"):
        book.read_records(tmp_path / "nb.ipynb")
    assert book.read_records(tmp_path / "nb.ipynb", allow_duplicates=True) == {"map": 0.6}


def test_plain_converts_tensors_and_refuses_others():
    import torch

    assert book._plain(torch.tensor(0.5)) == 0.5
    assert book._plain({"a": torch.tensor([1, 2])}) == {"a": [1, 2]}
    with pytest.raises(ValueError):
        book._plain(float("nan"))
    with pytest.raises(TypeError):
        book._plain(object())
