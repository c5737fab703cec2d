"""Cached attack runs end to end in the smoke profile, and the attack CLI."""
import json
import subprocess
import sys

import pytest

from saatlib.experiments.attacks import run_attack
from saatlib.experiments.hash_models import hashing_config
from saatlib.store import RunStore


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("runs"))
    return store, hashing_config("fashion-mnist", "CSQ", 16, "smoke")


def test_saat_attack_lowers_map_and_respects_budget(setup):
    store, cfg = setup
    r = run_attack(cfg, "SAAT", profile="smoke", steps=20, store=store, progress=False)
    assert 0 <= r["map_adversarial"] < r["map_benign"] <= 1
    assert r["perceptibility"]["linf"] <= 8 / 255 + 1e-6
    assert r["map_theory"] is not None and 0 <= r["map_theory"] <= 1
    again = run_attack(cfg, "SAAT", profile="smoke", steps=20, store=store, progress=False)
    assert again["cached"] and again["map_adversarial"] == r["map_adversarial"]


def test_targeted_saat_raises_tmap_over_benign(setup):
    store, cfg = setup
    r = run_attack(cfg, "SAAT", targeted=True, profile="smoke", steps=20, store=store, progress=False)
    assert r["targeted"] and r["map_adversarial"] > r["tmap_benign"]


def test_attack_cli_json(tmp_path):
    out = subprocess.run([sys.executable, "-m", "saatlib", "attack", "--profile", "smoke", "--bits", "16",
                          "--hash-method", "CSQ", "--method", "SAAT", "--targeted", "--steps", "5", "--json",
                          "--no-progress", "--runs-dir", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    for key in ("map_benign", "map_adversarial", "map_theory", "perceptibility", "seconds"):
        assert key in row
    assert row["targeted"] is True and 0 <= row["map_adversarial"] <= 1


def test_wrong_targeting_is_a_clear_error(setup):
    store, cfg = setup
    with pytest.raises(ValueError, match="targeted"):
        run_attack(cfg, "P2P", targeted=False, profile="smoke", store=store)


def test_a_result_stored_before_per_query_ap_is_recomputed(tmp_path):
    """Results of older builds (no ``ap``, no ``diversity``) are not served: paired comparisons need them."""
    from saatlib.experiments.attacks import ATTACK_KIND, stored_attack_result
    from saatlib.store import RunStore

    store = RunStore(tmp_path)
    key = {"model": {"x": 1}, "attack": {"cls": "HAGAttack"}}
    assert stored_attack_result(store, ATTACK_KIND, key) is None
    store.save(ATTACK_KIND, key, result={"map_adversarial": 0.1})
    assert stored_attack_result(store, ATTACK_KIND, key) is None
    store.save(ATTACK_KIND, key, result={"map_adversarial": 0.1, "ap": {"adversarial": [0.1]}, "diversity": {}})
    assert stored_attack_result(store, ATTACK_KIND, key)["map_adversarial"] == 0.1
