"""Key compatibility lives in saatlib.experiments.keys, not in the algorithm classes; the entries written
into a key only when set are absent unset and present set."""
from __future__ import annotations

import copy
import inspect

import pytest

import saatlib.attack as attack_pkg
from saatlib.attack.base import Attack
from saatlib.attack.registry import build_attack, registered_attacks
from saatlib.attack.restart_pgd import RestartPGDAttack
from saatlib.compute import Precision
from saatlib.experiments import keys
from saatlib.experiments.attacks import attack_key
from saatlib.experiments.defenses import defense_config
from saatlib.experiments.hash_models import hashing_config


def test_no_attack_class_carries_key_compatibility():
    classes = {*registered_attacks().values(), RestartPGDAttack}
    for cls in classes:
        assert not any("legacy" in name or name == "key_config" for name, _ in inspect.getmembers(cls)), cls
    assert not hasattr(attack_pkg.base, "OMIT")
    assert set(keys.ATTACK_KEY_MIGRATIONS) <= {c.__name__ for c in classes}


def test_a_new_attack_key_is_its_config_and_a_migrated_one_is_not():
    prosgan = build_attack("ProS-GAN", True, "smoke")  # came after explicit parameters: no migration
    assert "ProSGANAttack" not in keys.ATTACK_KEY_MIGRATIONS
    assert attack_key({}, prosgan, 4, 10, 0)["attack"] == dict(prosgan.config(), cls="ProSGANAttack")
    saat = build_attack("SAAT", True, "smoke")
    entry = attack_key({}, saat, 4, 10, 0)["attack"]
    config = saat.config()
    # SAAT's stored keys: its name and rule name, no schedule (at the SAAT schedule), "rule" left out at PGD
    assert entry["name"] == "SAAT-targeted" and entry["rule_name"] == "PGD" and "schedule" not in entry
    assert "schedule" in config and {k: v for k, v in entry.items() if k not in ("name", "rule_name", "rule", "cls")} == \
        {k: v for k, v in config.items() if k not in ("schedule", "rule")}
    assert isinstance(saat, Attack)


# --- entries written only when set (keys.ONLY_WHEN_SET, applied by keys.omit_unset) ------------------------

def _entry(config: dict, dotted: str):
    """(present, value) of the dotted entry of ``config``."""
    node = config
    for name in dotted.split("."):
        if not isinstance(node, dict) or name not in node:
            return False, None
        node = node[name]
    return True, node


BF16 = Precision("bf16")
#: ``{(kind, entry): (build(value) -> the config or key of that kind, a value other than the unset one,
#: what the entry then holds)}``, one per entry of ONLY_WHEN_SET: a new entry needs one here
SETTINGS = {
    ("hash_model", "train.loss_pairs"): (
        lambda v: hashing_config("fashion-mnist", "DPH", 16, "default", loss_pairs=v), "all", "all"),
    ("hash_model", "train.precision"): (
        lambda v: hashing_config("fashion-mnist", "DPH", 16, "default", precision=v), BF16, BF16.key()),
    ("hash_model", "train.widths"): (  # the paper profile names no widths
        lambda v: hashing_config("fashion-mnist", "DPH", 16, "paper", backbone="smallcnn", widths=v),
        (8, 8, 8), [8, 8, 8]),
    ("hash_model", "data.image_size"): (
        lambda v: hashing_config("fashion-mnist", "DPH", 16, "default", backbone="smallcnn", image_size=v), 17, 17),
    ("defense", "precision"): (
        lambda v: defense_config(hashing_config("fashion-mnist", "DPH", 16, "smoke"), "SAAT", "smoke", v),
        BF16, BF16.key()),
    ("attack", "precision"): (
        lambda v: attack_key({"bits": 16}, build_attack("HAG", False, "smoke"), 4, 10, 0, v), BF16, BF16.key()),
}


def test_every_entry_written_only_when_set_has_a_check():
    assert set(SETTINGS) == {(kind, entry) for kind, entries in keys.ONLY_WHEN_SET.items() for entry in entries}


@pytest.mark.parametrize("kind, entry", list(SETTINGS), ids=lambda v: str(v))
def test_an_entry_is_absent_unset_and_present_when_set(kind, entry):
    build, value, stored = SETTINGS[(kind, entry)]
    assert value != keys.ONLY_WHEN_SET[kind][entry].value
    assert _entry(build(None), entry) == (False, None), "unset: left out, as stored runs had it"
    assert _entry(build(value), entry) == (True, stored), "set: written into the key"


def test_the_float32_precision_is_unset():
    for kind, entry in SETTINGS:
        if entry.endswith("precision"):
            build = SETTINGS[(kind, entry)][0]
            assert build(Precision()) == build(None)


def test_omit_unset_leaves_its_argument_and_other_values_alone():
    config = {"version": 3, "train": {"loss_pairs": None, "precision": None, "lr": 0.1},
              "data": {"image_size": 28, "seed": 0}}
    before = copy.deepcopy(config)
    out = keys.omit_unset("hash_model", config)
    assert config == before
    assert out == {"version": 3, "train": {"lr": 0.1}, "data": {"image_size": 28, "seed": 0}}
    assert keys.omit_unset("hash_model", {"version": 3}) == {"version": 3}  # no parent: nothing to leave out
    assert keys.omit_unset("codes", {"precision": None}) == {"precision": None}  # a kind with no such entries
