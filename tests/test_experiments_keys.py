"""Key compatibility lives in saatlib.experiments.keys, not in the algorithm classes."""
from __future__ import annotations

import inspect

import saatlib.attack as attack_pkg
from saatlib.attack.base import Attack
from saatlib.attack.registry import build_attack, registered_attacks
from saatlib.attack.restart_pgd import RestartPGDAttack
from saatlib.experiments import keys
from saatlib.experiments.attacks import attack_key


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
