"""Adversarial training (saatlib.defense.common: the defenses' shared loop; saatlib.experiments.defenses): resumable
checkpoints, the SAAT minimax, the learning-rate schedule, evaluate_defense and the ``defend`` CLI, all on tiny
smoke-profile data."""
import json
import math
import subprocess
import sys

import pytest
import torch

from saatlib.hashing import encode
from saatlib.metrics import mean_average_precision
from saatlib.experiments.hash_models import get_hash_model, hashing_config, load_data
from saatlib.store import RunStore
from saatlib.defense import defense_params
from saatlib.experiments import DEFENSE_KIND, defense_config, evaluate_defense, get_defended_model
from saatlib.defense.checkpoint import CHECKPOINT_NAME, load_checkpoint
from saatlib.schedules import lr_factor, multistep_factor

# a 2-epoch defense of 3 steps per epoch, 2-step inner PGD
TINY = dict(num_query=20, num_database=200, num_train=96)


class Interrupt(Exception):
    pass


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("runs"))
    cfg = hashing_config("fashion-mnist", "DPH", 16, "smoke", **TINY)
    splits = load_data(cfg)
    get_hash_model(cfg, splits, store, progress=False)
    return store, cfg, splits


@pytest.mark.parametrize("method", ["SAAT", "ATRDH", "CgAT"])
def test_resume_after_interruption_gives_the_same_weights(tiny, method):
    store, cfg, splits = tiny
    full, rec = get_defended_model(cfg, method, "smoke", store, progress=False, splits=splits)
    assert not rec["cached"] and len(rec["history"]) == 2
    reference = {k: v.clone() for k, v in full.state_dict().items()}
    dcfg = defense_config(cfg, method, "smoke")
    entry = store.path(DEFENSE_KIND, dcfg)
    assert not (entry / CHECKPOINT_NAME).exists()  # removed once the model is stored
    store.delete(DEFENSE_KIND, dcfg)

    def stop_after_first_epoch(epoch, record):
        raise Interrupt

    with pytest.raises(Interrupt):
        get_defended_model(cfg, method, "smoke", store, progress=False, splits=splits, callback=stop_after_first_epoch)
    assert not store.has(DEFENSE_KIND, dcfg)
    ckpt = load_checkpoint(entry / CHECKPOINT_NAME)
    assert ckpt["epoch"] == 1 and len(ckpt["history"]) == 1
    torch.manual_seed(1234)  # the caller's RNG state must not matter
    resumed, rec2 = get_defended_model(cfg, method, "smoke", store, progress=False, splits=splits)
    assert rec2["resumed_from_epoch"] == 1 and not rec2["cached"]
    state = resumed.state_dict()
    assert state.keys() == reference.keys()
    for k, v in reference.items():
        assert torch.equal(state[k], v), k
    timing = ("seconds", "cpu_seconds")
    strip = [{k: v for k, v in r.items() if k not in timing} for r in rec["history"]]
    assert [{k: v for k, v in r.items() if k not in timing} for r in rec2["history"]] == strip
    cached, rec3 = get_defended_model(cfg, method, "smoke", store, progress=False, splits=splits)
    assert rec3["cached"] and all(torch.equal(cached.state_dict()[k], v) for k, v in reference.items())


def test_saat_changes_the_model_and_reports_finite_terms(tiny):
    store, cfg, splits = tiny
    start, _ = get_hash_model(cfg, splits, store, progress=False)
    model, rec = get_defended_model(cfg, "SAAT", "smoke", store, progress=False, splits=splits)
    x = splits.query.batch(torch.arange(8))[0]
    with torch.no_grad():
        assert not torch.allclose(start(x), model(x))
    for r in rec["history"]:
        assert {"loss", "hash", "adv", "quant", "lr", "seconds"} <= r.keys()
        assert all(math.isfinite(r[k]) for k in ("loss", "hash", "adv", "quant"))
    assert -1 <= rec["history"][-1]["adv"] <= 1
    last = -1
    for r in rec["history"]:  # the within-epoch trace: blocks of steps whose weighted mean is the epoch's mean
        ends = [t["step"] for t in r["trace"]]
        sizes = [b - a for a, b in zip([last, *ends], ends)]
        assert ends == sorted(ends) and min(sizes) >= 1 and ends[0] > last
        for term in ("loss", "hash", "adv", "quant"):
            mean = sum(t[term] * n for t, n in zip(r["trace"], sizes)) / sum(sizes)
            assert mean == pytest.approx(r[term], rel=1e-5, abs=1e-7)
        last = ends[-1]
    assert rec["history"][-1]["lr"] < defense_params("SAAT", "smoke")["lr"]  # decayed at 1/2 and 3/4


def test_lr_schedule_and_params():
    assert [multistep_factor(s, 8, [0.5, 0.75], 0.1) for s in (0, 3, 4, 5, 6, 7)] == pytest.approx(
        [1, 1, 0.1, 0.1, 0.01, 0.01])
    # hash-model training: x0.1 after each third of the epochs, thirds rounded up (7 epochs: 3, 3, 1)
    assert [lr_factor(e, 7, "thirds") for e in range(7)] == pytest.approx([1, 1, 1, 0.1, 0.1, 0.1, 0.01])
    assert [lr_factor(e, 4, "cosine") for e in range(4)] == pytest.approx([1, 0.8535534, 0.5, 0.1464466])
    p = defense_params("SAAT", "paper", **{"lambda": 2.0, "mu": None})
    assert p["lambda"] == 2.0 and p["mu"] == 1e-4 and p["epochs"] == 20 and p["batch_size"] == 32
    assert defense_params("ATRDH", "paper")["epochs"] == 100 and defense_params("CgAT", "paper")["epochs"] == 30
    with pytest.raises(ValueError, match="hyper-parameter"):
        defense_params("ATRDH", "smoke", **{"lambda": 1.0})
    with pytest.raises(ValueError, match="unknown defense"):
        defense_params("FGSM-AT")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The CLI's own smoke config (default smoke sizes), victim trained once."""
    store = RunStore(tmp_path_factory.mktemp("cli-runs"))
    cfg = hashing_config("fashion-mnist", "DPH", 16, "smoke")
    get_hash_model(cfg, store=store, progress=False)
    return store, cfg


def test_evaluate_undefended_model(smoke):
    store, cfg = smoke
    r = evaluate_defense(cfg, "none", "smoke", store, progress=False)
    assert set(r["map_under_attack"]) == {"HAG", "SDHA", "SAAT", "check"}
    # benign MAP from codes encoded here, independently of the evaluation's cached codes
    model, _ = get_hash_model(cfg, store=store, progress=False)
    splits = load_data(cfg)
    q_codes, q_labels = encode(model, splits.query.subset(torch.arange(r["num_queries"])))
    db_codes, db_labels = encode(model, splits.database)
    assert r["map_benign"] == pytest.approx(
        mean_average_precision(q_codes, db_codes, q_labels, db_labels, topk=r["topk"]), abs=1e-12)
    for name, value in r["map_under_attack"].items():
        # every attack must lower the MAP (an attack that does nothing fails here)
        assert value < r["map_benign"] - 0.05, name
        assert r["attacks"][name]["perceptibility"]["linf"] <= 8 / 255 + 1e-6
    # the check is the per-query worst case over all attack results, computed here by a loop
    aps = [r["attacks"][name]["ap"]["adversarial"] for name in r["attacks"]]
    worst = [min(ap[i] for ap in aps) for i in range(r["num_queries"])]
    assert r["map_under_attack"]["check"] == pytest.approx(sum(worst) / len(worst), abs=1e-12)
    assert r["map_under_attack"]["check"] < min(v for k, v in r["map_under_attack"].items() if k != "check") + 1e-12
    again = evaluate_defense(cfg, "none", "smoke", store, progress=False)
    assert all(a["cached"] for a in again["attacks"].values())
    assert again["map_under_attack"] == r["map_under_attack"]


def test_defend_cli_json(smoke):
    store, _ = smoke
    out = subprocess.run([sys.executable, "-m", "saatlib", "defend", "--profile", "smoke", "--bits", "16",
                          "--method", "saat", "--epochs", "1", "--lambda", "1.5", "--attacks", "SAAT",
                          "--no-check", "--threads", "1", "--json", "--no-progress", "--runs-dir", str(store.root)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert row["defense"] == "SAAT" and row["params"]["lambda"] == 1.5 and row["params"]["epochs"] == 1
    assert set(row["map_under_attack"]) == {"SAAT"} and row["train_seconds"] > 0
    assert 0 < row["map_under_attack"]["SAAT"] < row["map_benign"] <= 1
    bad = subprocess.run([sys.executable, "-m", "saatlib", "defend", "--profile", "smoke", "--method", "nope",
                          "--runs-dir", str(store.root)], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown defense" in bad.stderr
