"""A new attack is one new file plus its registry entry (saatlib.attack.registry).

An attack of this test's own, registered here (not shipped), is picked up with no other edit by the
property tests (tests/test_attacks_properties.py: it passes them), the parameter tests
(tests/test_attack_params.py: every field of it changes config and key), the settings table, the
CLI's help, and gets its budget from each profile by field name.
"""
from __future__ import annotations

import dataclasses

import pytest
import torch

import test_attack_params as param_tests
import test_attacks_properties as property_tests
from saatlib import profiles
from saatlib.attack import Attack, LinfPGD, build_attack, register_attack
from saatlib.attack import registry
from saatlib.cli import attack as attack_cli
from saatlib.primitives import binarize, check_budget, eval_mode
from saatlib.report.tables import settings_table

NAME = "Tiny-PGD"

pytestmark = pytest.mark.usefixtures("one_thread")


@dataclasses.dataclass(frozen=True)
class TinyParams:
    eps: float  # no default budget: the profile gives it
    steps: int

    def __post_init__(self):
        check_budget(self.eps, self.steps)


class TinyAttack(Attack):
    """Signed-gradient PGD away from the query's own benign code, step eps / 2."""
    Params, name = TinyParams, NAME

    def __call__(self, model, x, labels=None, context=None, generator=None):
        with eval_mode(model), torch.no_grad():
            benign = binarize(model(x))
        engine = LinfPGD(self.eps, self.eps / 2, self.steps, random_start=True, schedule=None)
        return engine.perturb(model, x, lambda h: (h * benign).mean(), generator)


@pytest.fixture
def tiny(monkeypatch):
    """TinyAttack registered for the test only (the registry is restored afterwards)."""
    monkeypatch.setattr(registry, "_CLASSES", dict(registry._CLASSES))
    register_attack(NAME, TinyAttack)
    return NAME


def test_it_gets_each_profiles_budget_by_field_name(tiny):
    for name in profiles.PROFILES:
        attack = build_attack(tiny, profile=name)
        table = profiles.PROFILES[name]["attack"]
        assert (attack.eps, attack.steps) == (table["eps"]["default"], table["steps"]["default"])


def test_the_property_tests_pick_it_up_and_it_passes_them(tiny):
    assert tiny in property_tests.factories()
    setup = property_tests.make_setup()
    property_tests.test_budget_and_box(tiny, setup)
    property_tests.test_parameter_grads_untouched(tiny, setup)
    for training in (True, False):
        property_tests.test_mode_restored(tiny, training, setup)
    property_tests.test_same_seed_same_output(tiny, setup)


def test_the_parameter_tests_pick_it_up(tiny):
    cases = param_tests.cases(param_tests.attacks())
    assert (tiny, "eps") in cases and (tiny, "steps") in cases
    for field in ("eps", "steps"):
        param_tests.test_a_changed_parameter_changes_config_and_key(tiny, field)


def test_the_settings_table_and_the_cli_list_it(tiny):
    table = settings_table(["smoke", "default"])
    assert table[f"{tiny} iterations"] == {"smoke": 20, "default": 300}
    assert tiny in attack_cli._method_help()


def test_without_it_nothing_lists_it():
    assert NAME not in property_tests.factories() and NAME not in param_tests.attacks()
    assert f"{NAME} iterations" not in settings_table(["smoke"])
