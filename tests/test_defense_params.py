"""Defense hyper-parameters as frozen, validated dataclasses (DefenseParams and each defense's Params): the
fields are exactly the entries of the ``params`` of a defense config, and a bad value is refused naming
its field."""
from __future__ import annotations

import dataclasses
import math

import pytest

from saatlib import profiles
from saatlib.defense import (ATRDHParams, CgATParams, DEFENSES, DefenseParams, SAATDefense, SAATParams,
                             defense_params)
from saatlib.experiments.defenses import defense_config
from saatlib.experiments.hash_models import hashing_config

#: written out here, not read from the classes: the entries of each defense's ``params``
COMMON = {"attack_mode", "batch_size", "epochs", "eps", "lr", "lr_gamma", "milestones", "random_start",
          "step_size", "steps"}
KEYS = {
    "SAAT": COMMON | {"code_buffer", "exact_ties", "lambda", "momentum", "mu", "weight_decay", "weighting"},
    "CgAT": COMMON | {"code_buffer", "lambda", "momentum", "mu", "weight_decay"},
    "ATRDH": COMMON | {"adv_weight", "betas", "circle_gamma", "pnet_quant_weight"},
}
#: the paper / released defaults (the classes' docstrings), the inner PGD budget the default profile's
BUDGET = {"eps": 8 / 255, "step_size": 2 / 255, "steps": 7}
SHARED = {"random_start": True, "attack_mode": "eval", "batch_size": 32, "milestones": [0.5, 0.75], "lr_gamma": 0.1}
DEFAULTS = {
    "SAAT": {"epochs": 20, "lr": 0.05, "momentum": 0.0, "weight_decay": 1e-5, "lambda": 1.0, "mu": 1e-4,
             "weighting": "cosine", "exact_ties": True, "code_buffer": "signed"},
    "CgAT": {"epochs": 30, "lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4, "lambda": 1.0, "mu": 0.0,
             "code_buffer": "signed"},
    "ATRDH": {"epochs": 100, "lr": 1e-4, "betas": [0.5, 0.999], "adv_weight": 2.0, "circle_gamma": 1.0,
              "pnet_quant_weight": 1e-4},
}


def test_every_defense_has_its_params_class():
    assert {m: DEFENSES[m].Params for m in DEFENSES} == {"SAAT": SAATParams, "CgAT": CgATParams, "ATRDH": ATRDHParams}
    for cls in (DefenseParams, SAATParams, CgATParams, ATRDHParams):
        assert cls.__dataclass_params__.frozen


@pytest.mark.parametrize("method", sorted(KEYS))
def test_the_fields_are_the_config_entries(method):
    params = DEFENSES[method].Params
    names = {f.name for f in dataclasses.fields(params)}
    assert {f.name for f in dataclasses.fields(DefenseParams)} == COMMON
    assert names == (KEYS[method] - {"lambda"}) | ({"lambda_"} if "lambda" in KEYS[method] else set())
    assert set(params.keys()) == KEYS[method]
    assert set(params.resolve().config()) == KEYS[method]
    for profile in profiles.profile_names():
        assert set(defense_params(method, profile)) == KEYS[method]
        config = defense_config(hashing_config("fashion-mnist", "DPH", 16, profile), method, profile)
        assert set(config["params"]) == KEYS[method]
        # the stored params rebuild the same parameters
        assert params.resolve(config["params"]).config() == config["params"]


@pytest.mark.parametrize("method", sorted(KEYS))
def test_the_defaults(method):
    assert DEFENSES[method].resolve_params({}) == {**BUDGET, **SHARED, **DEFAULTS[method]}
    assert DEFENSES[method].Params.resolve(None).config() == {**BUDGET, **SHARED, **DEFAULTS[method]}


def test_lambda_is_the_field_lambda_():
    p = SAATParams.resolve({"lambda": 2.0, "mu": None})
    assert p.lambda_ == 2.0 and p.mu == 1e-4 and p.config()["lambda"] == 2.0 and "lambda_" not in p.config()
    assert SAATParams(lambda_=3.0, **BUDGET).config()["lambda"] == 3.0


def test_values_are_kept_as_given():
    config = SAATParams.resolve({"lr": 1, "lambda": 2, "milestones": (0.25,)}).config()
    assert type(config["lr"]) is int and type(config["lambda"]) is int and config["milestones"] == [0.25]


def test_frozen():
    p = SAATParams.resolve()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.epochs = 3
    assert dataclasses.replace(p, epochs=3).epochs == 3


BAD = [
    ("epochs", 0), ("epochs", 2.5), ("epochs", True), ("batch_size", 1), ("batch_size", 32.0), ("lr", 0),
    ("lr", math.nan), ("eps", -0.1), ("eps", "8/255"), ("step_size", math.inf), ("steps", 1.5), ("steps", -1),
    ("random_start", 1), ("attack_mode", "test"), ("milestones", 0.5), ("milestones", [1.5]), ("lr_gamma", 0),
    ("lambda", -1.0), ("mu", math.nan), ("momentum", 1.0), ("weight_decay", -1e-5), ("code_buffer", "shared"),
]
BAD_OWN = {
    "SAAT": [("weighting", "released"), ("exact_ties", "yes")],
    "CgAT": [],
    "ATRDH": [("betas", [0.5]), ("betas", [0.5, 1.0]), ("adv_weight", -2.0), ("circle_gamma", math.nan),
              ("pnet_quant_weight", "1e-4")],
}
CASES = [(m, f, v) for m in sorted(KEYS) for f, v in BAD + BAD_OWN[m] if f in KEYS[m]]


@pytest.mark.parametrize("method, field, value", CASES, ids=lambda v: repr(v))
def test_a_bad_value_is_refused_naming_its_field(method, field, value):
    with pytest.raises(ValueError, match=field):
        DEFENSES[method].resolve_params({field: value})
    with pytest.raises(ValueError, match=field):  # from a profile's caller, as the CLI passes it
        defense_params(method, "smoke", **{field: value})


def test_the_epochs_and_batch_size_messages():
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        defense_params("SAAT", "smoke", epochs=0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 2, got 1"):
        defense_params("CgAT", "smoke", batch_size=1)


def test_an_unknown_entry_is_refused_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown ATRDH hyper-parameter 'lambda'; known: \['adv_weight'"):
        DEFENSES["ATRDH"].resolve_params({"lambda": 1.0})
    with pytest.raises(ValueError, match="unknown SAAT hyper-parameter 'lambda_'"):  # the config entry is 'lambda'
        defense_params("SAAT", "smoke", lambda_=1.0)


def test_a_defense_takes_its_own_params_class():
    with pytest.raises(TypeError, match="SAATParams"):
        SAATDefense(None, None, "DPH", CgATParams.resolve())
