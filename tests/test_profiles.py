"""The profiles are the one source of every default budget, in pixels of [0, 1] (saatlib.profiles).

Every registered attack, every defense and the check attack: the class's own default budget is the
default profile's, and ``build_attack`` / ``defense_params`` / ``build_check_attack`` give each
profile's, read here straight from the ``PROFILES`` dict. A profile with another eps moves every
budget, and every budget the text builders write.
"""
from __future__ import annotations

import copy
import dataclasses

import pytest

from saatlib import profiles
from saatlib.attack.registry import build_attack, build_check_attack, registered_attacks, runs_targeted
from saatlib.attack.restart_pgd import RestartPGDAttack
from saatlib.defense.registry import DEFENSES, defense_params
from saatlib.report import comparisons, rule, text

PROFILE_NAMES = tuple(profiles.PROFILES)
ATTACK_WAYS = [(name, t) for name in registered_attacks() for t in runs_targeted(name)]


def _expected(profile: str, name: str, field: str, targeted: bool):
    """The profile's entry for an attack's budget field, read from the raw dict."""
    table = profiles.PROFILES[profile]["attack"][field]
    for key in ((f"{name}-targeted" if targeted else None), name, "default"):
        if key in table:
            return table[key]
    raise KeyError(field)


def _budget_fields(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls.Params) if f.name in ("eps", "steps")]


@pytest.mark.parametrize("name,targeted", ATTACK_WAYS)
def test_an_attack_class_and_build_attack_agree_on_the_budget(name, targeted):
    cls = registered_attacks()[name]
    fields = _budget_fields(cls)
    assert "eps" in fields
    own, built = cls(), build_attack(name, targeted, "default")
    for field in fields:
        assert getattr(own, field) == getattr(built, field) == _expected("default", name, field, targeted), field
    for profile in PROFILE_NAMES:
        attack = build_attack(name, targeted, profile)
        for field in fields:
            assert getattr(attack, field) == _expected(profile, name, field, targeted), (profile, field)


@pytest.mark.parametrize("method", sorted(DEFENSES))
def test_a_defense_class_and_defense_params_agree_on_the_budget(method):
    own = DEFENSES[method].resolve_params({})
    for profile in PROFILE_NAMES:
        common = profiles.PROFILES[profile]["defense"]["common"]
        params = defense_params(method, profile)
        assert {k: params[k] for k in profiles.BUDGET_FIELDS} == {k: common[k] for k in profiles.BUDGET_FIELDS}
        if profile == profiles.DEFAULT_PROFILE:
            assert {k: own[k] for k in profiles.BUDGET_FIELDS} == {k: common[k] for k in profiles.BUDGET_FIELDS}


def test_the_check_attack_class_and_build_check_attack_agree():
    for profile in PROFILE_NAMES:
        p = profiles.PROFILES[profile]
        check = build_check_attack(profile)
        assert check.eps == p["attack"]["eps"]["default"]
        assert {k: getattr(check, k) for k in ("steps", "step_size", "restarts")} == p["defense"]["eval"]["check"]
    assert RestartPGDAttack().params == build_check_attack(profiles.DEFAULT_PROFILE).params


def test_x_per_255_has_one_home():
    assert profiles.from_255(8) == 8 / 255 and profiles.from_255(8.0) == float(8) / 255
    assert profiles.per_255(8 / 255) == 8.0 and profiles.per_255(0.032) == 8.16
    assert profiles.label_255(4 / 255) == "4/255" and profiles.label_255(0.032) == "8.16/255"
    assert profiles.attack_budget_255("smoke") == 8.0 and profiles.training_budget_255("paper") == 8.0


@pytest.fixture
def wide(monkeypatch):
    """A profile whose every budget is 4/255 (attacks, defenses' training, check attack), 3 training steps."""
    prof = copy.deepcopy(profiles.PROFILES["smoke"])
    prof["attack"]["eps"] = {"default": 4 / 255}
    prof["defense"]["common"].update(eps=4 / 255, step_size=1 / 255, steps=3)
    monkeypatch.setitem(profiles.PROFILES, "wide", prof)
    return "wide"


def test_a_profile_with_another_eps_moves_every_budget(wide):
    for name, targeted in ATTACK_WAYS:
        assert build_attack(name, targeted, wide).eps == 4 / 255
    for method in DEFENSES:
        assert {k: defense_params(method, wide)[k] for k in profiles.BUDGET_FIELDS} == \
            {"eps": 4 / 255, "step_size": 1 / 255, "steps": 3}
    assert build_check_attack(wide).eps == 4 / 255


def test_per_dataset_defense_entries_override_the_common_ones(monkeypatch):
    """``defense.datasets.<dataset>`` (no shipped profile uses it) overrides the evaluation's queries, the
    inner budget and a method's settings for that dataset only."""
    from saatlib.report.tables import attacked_queries
    prof = copy.deepcopy(profiles.PROFILES["smoke"])
    prof["defense"]["datasets"] = {"mine": {"eval": {"num_queries": 7}, "common": {"steps": 5},
                                            "SAAT": {"epochs": 9}}}
    monkeypatch.setitem(profiles.PROFILES, "per-dataset", prof)
    common = prof["defense"]["common"]
    assert profiles.defense_eval_settings("per-dataset", "mine")["num_queries"] == 7
    assert profiles.defense_eval_settings("per-dataset", "other")["num_queries"] == prof["defense"]["eval"]["num_queries"]
    assert attacked_queries("per-dataset", "mine", None) == 7
    assert profiles.defense_budget("per-dataset", "mine")["steps"] == 5
    assert profiles.defense_budget("per-dataset", "other")["steps"] == common["steps"]
    assert profiles.defense_settings("SAAT", "per-dataset", "mine")["epochs"] == 9
    assert profiles.defense_settings("SAAT", "per-dataset", "other")["epochs"] == prof["defense"]["SAAT"]["epochs"]


def _comparison(key, claim, diffs):
    return comparisons.Comparison(key, claim, "fm", rule.judge(diffs, 0.02))


def _budget_texts(profile: str) -> list[str]:
    """Every text builder that states a budget, given the profile only (and budgets of a sweep)."""
    sweep = [1, 2, 4, 8, 16]
    large = {("fm", "SAAT"): {"large_eps": 2 * profiles.defense_budget(profile)["eps"]}}
    steps = _comparison("steps.more", "200 iterations leave a lower MAP than 100", [0.02, 0.03, 0.01])
    return [text.eps_budget_markdown(sweep, [0.7, 0.6, 0.5, 0.4, 0.3], [1, 2, 3, 4, 5], 0.8, profile=profile)[0],
            text.attack_summary_markdown([], [], steps, 0.5, None, 16, profile=profile),
            text.masking_markdown([], large, profile=profile),
            text.eps_curve_markdown([4, 8, 16], {"none": [0.3, 0.2, 0.1], "SAAT": [0.5, 0.4, 0.3]}, profile=profile)]


def test_the_text_builders_state_the_profiles_budgets(wide):
    default, other = _budget_texts("default"), _budget_texts(wide)
    assert "At 8/255 SAAT takes MAP" in default[0] and "At 4/255 SAAT takes MAP" in other[0]
    assert "* Budget: 8/255 does" in default[1] and "* Budget: 4/255 does" in other[1]
    # the large budget is twice the training budget: 16/255 at 8/255, 8/255 at 4/255
    assert "grows to 16/255 (2 times the training budget)" in default[2]
    assert "grows to 8/255 (2 times the training budget)" in other[2]
    assert "At 16/255, 2 times the training budget" in default[3] and "At 16/255, 4 times the training budget" in other[3]
    for a, b in zip(default, other):
        assert a != b
