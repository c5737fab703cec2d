"""``python -m saatlib reproduce`` on a tiny generated list-file dataset: the
Table I files hold our numbers beside the paper's (read here from its CSV files
with the csv module); the Table II hook."""
import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from saatlib.cli import main
from saatlib.experiments.hash_models import hashing_config
from saatlib.experiments.paper_tables import run_paper_tables
from saatlib.models.pretrained import PretrainedWeightsMissing, weights_cache_path
from saatlib.report import paper
from saatlib.report.reproduce import ATTACK_ROWS, resolve_pretrained, table1_from, table2_rows
from saatlib.report.tables import TABLE2_ATTACKS
from saatlib.store import RunStore

BITS = (8, 16)
RESOURCES = Path(__file__).resolve().parent.parent / "saatlib" / "resources"
#: the paper's Table I rows, in its order; ProS-GAN (generative) is not implemented
PAPER_METHODS = ["Original", "HAG", "SDHA", "SAAT", "P2P", "DHTA", "ProS-GAN", "THA", "SAAT-targeted"]
IMPLEMENTED = list(PAPER_METHODS)  # every row of the paper's Table I, ProS-GAN included


def read_paper_csv(name: str) -> list[dict]:
    """The rows of one of the paper's CSV files, read without saatlib (``#`` lines skipped)."""
    with (RESOURCES / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if line.strip() and not line.startswith("#")))


def paper_csv_value(name: str, **match) -> float | None:
    """The value of the row of ``name`` whose columns equal ``match`` (strings); None when absent."""
    found = [float(r["value"]) for r in read_paper_csv(name) if all(r[k] == str(v) for k, v in match.items())]
    assert len(found) <= 1, match
    return found[0] if found else None


def make_listfile_dataset(root, n=64, size=16, seed=0):
    """n RGB PNGs of 3 multi-label classes (class c brightens channel c), 'saat' lists:
    8 queries, the other n - 8 as database, 40 of them for training."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, (n, 3))
    labels[labels.sum(1) == 0, 0] = 1
    (root / "images").mkdir(parents=True)
    for i, y in enumerate(labels):
        img = rng.integers(0, 60, (size, size, 3)) + 150 * y[None, None, :]
        Image.fromarray(img.astype(np.uint8)).save(root / "images" / f"{i:03d}.png")
    for split, idx in {"test": range(8), "database": range(8, n), "train": range(8, 48)}.items():
        (root / f"{split}_img.txt").write_text("".join(f"images/{i:03d}.png\n" for i in idx))
        (root / f"{split}_label.txt").write_text("".join(" ".join(map(str, labels[i])) + "\n" for i in idx))
    return root


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_listfile_dataset(tmp_path_factory.mktemp("tiny") / "NUS-WIDE")


def smoke_args(dataset, runs, out):
    return ["reproduce", "--dataset", "NUS-WIDE", "--data-dir", str(dataset), "--bits", *map(str, BITS),
            "--profile", "smoke", "--backbone", "smallcnn", "--image-size", "16", "--epochs", "2",
            "--batch-size", "8", "--attack-steps", "3", "--num-queries", "8", "--topk", "20",
            "--runs-dir", str(runs), "--out", str(out), "--no-progress", "--threads", "1"]


@pytest.fixture(autouse=True)
def keep_threads():
    threads = torch.get_num_threads()  # --threads 1 (no OpenMP contention on a shared CPU) is process-wide
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def table1(dataset, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reproduce")
    threads = torch.get_num_threads()
    try:
        assert main(smoke_args(dataset, tmp / "runs", tmp / "results")) == 0
    finally:
        torch.set_num_threads(threads)
    return tmp


@pytest.mark.slow
def test_table1_files_hold_ours_beside_the_paper(table1):
    csv_path, md_path = (table1 / "results" / f"table1_NUS-WIDE_smoke.{ext}" for ext in ("csv", "md"))
    rows = list(csv.DictReader(csv_path.open()))
    assert [(r["method"], int(r["bits"])) for r in rows] == [(m, b) for b in BITS for m in PAPER_METHODS]
    markdown = md_path.read_text()
    assert "Yuan et al." in markdown and "| Method | Metric | 8 bits | 16 bits |" in markdown
    for r in rows:
        assert r["dataset"] == "NUS-WIDE" and r["victim"] == "DPH" and r["backbone"] == "smallcnn"
        assert r["metric"] == ("MAP" if r["method"] in PAPER_METHODS[:4] else "t-MAP")
        expected = paper_csv_value("paper_table1_attacks.csv", method=r["method"], dataset="NUS-WIDE",
                                   bits=r["bits"])
        if expected is None:
            assert r["paper"] == "" and r["bits"] == "8"  # the paper has no 8-bit column
        else:
            assert float(r["paper"]) == expected
        assert r["method"] in IMPLEMENTED
        ours = float(r["ours"])
        assert 0.0 <= ours <= 100.0
        cell = f"{ours:.2f} / {'–' if expected is None else f'{expected:.2f}'}"
        assert cell in markdown
        if r["method"] != "Original":
            assert int(r["num_queries"]) == 8 and int(r["topk"]) == 20
            if r["method"] == "ProS-GAN":  # generative: one generator pass, no iterations
                assert r["steps"] == ""
            else:
                assert int(r["steps"]) == 3, "--attack-steps governs every iterative Table I attack"
            assert r["codes"] in ("ok", "near-collapsed", "collapsed")
    lines = markdown.splitlines()
    body = lines[lines.index("|---|---|---|---|") + 1:]  # one line per method: | method | metric | 8 | 16 |
    assert [line.split(" | ")[:2] for line in body] == \
        [[f"| {m}", "MAP" if m in PAPER_METHODS[:4] else "t-MAP"] for m in PAPER_METHODS]
    saat16 = next(r for r in rows if r["method"] == "SAAT" and r["bits"] == "16")
    assert float(saat16["paper"]) == 11.93 and 0.0 <= float(saat16["theory"]) <= 100.0
    original16 = next(r for r in rows if r["method"] == "Original" and r["bits"] == "16")
    assert original16["steps"] == "" and original16["theory"] == ""
    # in %: with 3 classes and every image labelled, benign queries find relevant items far above 10%
    assert float(original16["ours"]) > 10.0


@pytest.mark.slow
def test_second_run_reuses_the_run_store(table1, dataset, capsys):
    capsys.readouterr()
    assert main(smoke_args(dataset, table1 / "runs", table1 / "again")) == 0
    first, again = (list(csv.DictReader((table1 / d / "table1_NUS-WIDE_smoke.csv").open()))
                    for d in ("results", "again"))
    assert [r["ours"] for r in again] == [r["ours"] for r in first]
    assert "| SAAT | MAP |" in capsys.readouterr().out  # the Markdown table is printed


@pytest.mark.slow
def test_table2_hook_runs_the_defenses(table1, dataset):
    config = hashing_config("NUS-WIDE", "DPH", 16, "smoke", data_dir=str(dataset),
                            backbone="smallcnn", epochs=2, batch_size=8, image_size=16, pretrained=False)
    torch.set_num_threads(1)
    rows = table2_rows(config, ["SAAT"], "smoke", "NUS-WIDE", RunStore(table1 / "runs"), num_queries=8, topk=20,
                       steps=2)
    assert [r["attack"] for r in rows] == ["Original", "HAG", "SDHA", "SAAT"]
    # the same steps option as Table I's, for every attack on the defended model (not the profile's 20/20/10)
    assert [r["steps"] for r in rows] == [None, 2, 2, 2]
    for r in rows:
        assert 0.0 <= r["ours"] <= 100.0
        assert r["codes"] in ("ok", "near-collapsed", "collapsed")
        assert r["defense"] == "SAAT" and r["num_queries"] == 8 and r["topk"] == 20
    # the paper's SAAT-trained model, NUS-WIDE, 16 bits (Table II, read here from the CSV file)
    assert [r["paper"] for r in rows] == [paper_csv_value("paper_table2_defenses.csv", defense="SAAT", attack=a,
                                                          dataset="NUS-WIDE", bits=16)
                                          for a in ("Original", "HAG", "SDHA", "SAAT")]
    assert all(r["paper"] is not None for r in rows)


@pytest.mark.slow
def test_the_runs_behind_the_tables_come_back_raw(table1, dataset):
    """saatlib.experiments.paper_tables: the victim, Table I's attacks (read again from the run store, the
    same numbers as the CLI's table) and Table II's defenses with the undefended model, stage by stage."""
    config = hashing_config("NUS-WIDE", "DPH", 16, "smoke", data_dir=str(dataset),
                            backbone="smallcnn", epochs=2, batch_size=8, image_size=16, pretrained=False)
    torch.set_num_threads(1)
    stages = []
    [victim] = run_paper_tables([config], ATTACK_ROWS, "smoke", RunStore(table1 / "runs"), ["SAAT"], TABLE2_ATTACKS,
                                steps=3, num_queries=8, topk=20, on_stage=stages.append)
    assert victim.config == config
    assert list(victim.attacks) == [name for name, _, _ in ATTACK_ROWS]
    assert all(r["cached"] for r in victim.attacks.values()), "the CLI's run stored every Table I attack"
    assert list(victim.defenses) == ["none", "SAAT"]
    assert stages == ["train DPH victim, 16 bits", *(f"attack {name}, 16 bits" for name, _, _ in ATTACK_ROWS),
                      "defend SAAT, 16 bits"]
    written = [r for r in csv.DictReader((table1 / "results" / "table1_NUS-WIDE_smoke.csv").open())
               if r["bits"] == "16"]
    assert [("" if r["ours"] is None else str(r["ours"])) for r in table1_from(config, victim.attacks, "smoke",
                                                                               "NUS-WIDE")] == \
        [r["ours"] for r in written]


def test_paper_profile_needs_imagenet_weights_unless_random_init(dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no cached weights (and no network in CI)
    _, path = weights_cache_path("alexnet")
    with pytest.raises(PretrainedWeightsMissing, match="--random-init"):
        resolve_pretrained("alexnet")
    code = main(["reproduce", "--dataset", "NUS-WIDE", "--data-dir", str(dataset), "--bits", "16",
                 "--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and path in err and "--random-init" in err
    assert not (tmp_path / "out").exists()
    assert resolve_pretrained("alexnet", random_init=True) is False
    assert resolve_pretrained("smallcnn") is False


def test_paper_tables_ship_with_the_package():
    assert any("Yuan et al." in line for line in paper.citation("attacks"))
    assert any("Table II" in line for line in paper.citation("defenses"))
    attacks, defenses = paper.paper_table("attacks"), paper.paper_table("defenses")
    assert len(attacks) == 9 * 3 * 4 and len(defenses) == 2 * 4 * 3 * 4
    # every row as the csv module reads the file, values as numbers
    for table, name in ((attacks, "paper_table1_attacks.csv"), (defenses, "paper_table2_defenses.csv")):
        assert table == [{**r, "bits": int(r["bits"]), "value": float(r["value"])} for r in read_paper_csv(name)]
    assert paper.paper_value("attacks", method="Original", dataset="MS-COCO", bits=64) == 56.64
    assert paper.paper_value("defenses", defense="ATRDH", attack="SAAT", dataset="FLICKR-25K", bits=16) == 32.68
    assert paper.paper_value("attacks", method="SAAT", dataset="CIFAR-10", bits=16) is None
    with pytest.raises(ValueError, match="attacks"):
        paper.paper_table("table3")
