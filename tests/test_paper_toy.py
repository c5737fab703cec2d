"""``reproduce --profile paper`` end to end at toy scale, through the paper profile's own code
paths (AlexNet from random weights, all-pairs hash loss, train-mode inner PGD, aliased code
buffers, every Table I attack, both Table II defenses), every long loop shortened by the
options a user has: victim epochs, attack iterations, PrototypeNet steps, defense epochs,
image size, queries. Then the same command again: the plan says every stage is done and the
tables come back equal without recomputing anything."""
import csv
import json
import sys
import time
from pathlib import Path

import pytest
import torch

from saatlib.cli import main
from saatlib.experiments.attacks import ATTACK_KIND
from saatlib.experiments.defenses import DEFENSE_KIND
from saatlib.experiments.hash_models import HASH_KIND
from saatlib.store import RunStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from listfile_tools import make_multilabel_listfile  # noqa: E402
from test_reproduce import PAPER_METHODS, paper_csv_value  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]
SHORT = {"--epochs": 1, "--attack-steps": 2, "--pnet-steps": 5, "--prosgan-epochs": 1, "--defense-epochs": 1,
         "--image-size": 64, "--num-queries": 4}


def args(data, runs, out, *extra):
    flat = [str(x) for kv in SHORT.items() for x in kv]
    return ["reproduce", "--profile", "paper", "--dataset", "NUS-WIDE", "--data-dir", str(data), "--bits", "16",
            "--random-init", *flat, "--defenses", "SAAT", "ATRDH", "--runs-dir", str(runs), "--out", str(out),
            "--threads", "1", "--calibrate-seconds", "0.1", "--no-progress", "--device", "auto", *extra]


@pytest.fixture(scope="module")
def toy(tmp_path_factory, monkeypatch_module):
    tmp = tmp_path_factory.mktemp("paper-toy")
    monkeypatch_module.setenv("TORCH_HOME", str(tmp / "torch"))  # no ImageNet weights: --random-init
    data = make_multilabel_listfile(tmp / "NUS-WIDE", n=200, size=72, classes=21, queries=8, train=64,
                                    density=2 / 21)
    t0 = time.perf_counter()
    code = main(args(data, tmp / "runs", tmp / "out"))
    seconds = time.perf_counter() - t0
    print(f"toy paper run: {seconds:.1f} s")
    assert code == 0
    return tmp, data, seconds


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def rows(path):
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_table1_every_attack_beside_the_paper(toy):
    tmp, _, _ = toy
    t1 = rows(tmp / "out" / "table1_NUS-WIDE_paper.csv")
    assert [r["method"] for r in t1] == PAPER_METHODS
    for r in t1:
        assert float(r["paper"]) == paper_csv_value("paper_table1_attacks.csv", method=r["method"],
                                                    dataset="NUS-WIDE", bits=16)
        assert r["backbone"] == "alexnet" and r["profile"] == "paper"
        assert 0.0 <= float(r["ours"]) <= 100.0
        if r["method"] != "Original":
            assert int(r["num_queries"]) == 4
            assert r["steps"] == "" if r["method"] == "ProS-GAN" else int(r["steps"]) == 2
    markdown = (tmp / "out" / "table1_NUS-WIDE_paper.md").read_text()
    assert "alexnet (random init)" in markdown and "| 16 bits |" in markdown


def test_table2_every_defense_beside_the_paper(toy):
    tmp, _, _ = toy
    t2 = rows(tmp / "out" / "table2_NUS-WIDE_paper.csv")
    assert [(r["defense"], r["attack"]) for r in t2] == [(d, a) for d in ("SAAT", "ATRDH")
                                                         for a in ("Original", "HAG", "SDHA", "SAAT")]
    for r in t2:
        assert float(r["paper"]) == paper_csv_value("paper_table2_defenses.csv", defense=r["defense"],
                                                    attack=r["attack"], dataset="NUS-WIDE", bits=16)
        assert 0.0 <= float(r["ours"]) <= 100.0


def test_the_paper_profiles_code_paths_ran_shortened_by_the_options(toy):
    tmp, _, _ = toy
    store = RunStore(tmp / "runs")
    (victim,) = store.entries(HASH_KIND)
    hp = victim["train"]
    assert (hp["backbone"], hp["pretrained"], hp["loss_pairs"], hp["epochs"], hp["optimizer"]) == \
        ("alexnet", False, "all", 1, "sgd")
    assert victim["data"]["image_size"] == 64 and victim["bits"] == 16
    defenses = {d["method"]: d["params"] for d in store.entries(DEFENSE_KIND)}
    assert set(defenses) == {"SAAT", "ATRDH"}
    assert all(p["attack_mode"] == "train" and p["epochs"] == 1 and p["batch_size"] == 32
               for p in defenses.values())
    assert defenses["SAAT"]["code_buffer"] == "aliased"
    attacks = store.entries(ATTACK_KIND)
    tha = [a for a in attacks if a["attack"]["cls"] == "THAAttack"]
    assert len(tha) == 1 and tha[0]["attack"]["pnet_steps"] == 5
    (pros,) = [a for a in attacks if a["attack"]["cls"] == "ProSGANAttack"]
    # the released generator (no l_inf bound, 64 channels, 3 blocks), shortened to 1 epoch and 5 PrototypeNet steps
    assert (pros["attack"]["bound"], pros["attack"]["gen_dim"], pros["attack"]["res_blocks"]) == ("none", 64, 3)
    assert (pros["attack"]["epochs"], pros["attack"]["decay_epochs"], pros["attack"]["pnet_steps"]) == (1, 0, 5)
    # every iterative attack, Table II's included
    assert {a["attack"]["steps"] for a in attacks if a is not pros} == {2}
    assert len(attacks) == 8 + 2 * 3
    for entry in (store.path(HASH_KIND, victim), *(store.path(DEFENSE_KIND, d) for d in store.entries(DEFENSE_KIND))):
        assert not (entry / "checkpoint.pt").exists()  # finished runs leave no checkpoint


def test_run_again_redoes_nothing(toy, capsys):
    tmp, data, first_seconds = toy
    capsys.readouterr()
    assert main(args(data, tmp / "runs", tmp / "out", "--plan", "--json")) == 0
    plan = json.loads(capsys.readouterr().out)
    assert len(plan["stages"]) == 18 and {s["status"] for s in plan["stages"]} == {"done"}
    assert "0 to run" in plan["plan"]
    assert main(args(data, tmp / "runs", tmp / "again")) == 0
    for name in ("table1_NUS-WIDE_paper.csv", "table2_NUS-WIDE_paper.csv"):
        first, again = rows(tmp / "out" / name), rows(tmp / "again" / name)
        assert [r["ours"] for r in again] == [r["ours"] for r in first]
    err = capsys.readouterr().err
    assert "[stage 1/18] train DPH victim, 16 bits" in err and "| defend ATRDH | 16 |" in err
