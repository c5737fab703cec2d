"""HashingParams: the training hyper-parameters of a hash model as one frozen, validated dataclass whose
``config()`` is the ``train`` section of the hash-model config (and so of its run-store key)."""
from __future__ import annotations

import dataclasses
import math

import pytest

from saatlib.compute import Precision
from saatlib.experiments.hash_models import hashing_config
from saatlib.experiments.keys import omit_unset
from saatlib.hashing.params import HashingParams

#: written out here, not read from the class: every hyper-parameter of a hash model's training
FIELDS = {"backbone", "widths", "epochs", "batch_size", "optimizer", "lr", "weight_decay", "lr_schedule",
          "pretrained", "loss_pairs", "precision"}
#: the entries of each profile's ``train`` section in its keys: the smallcnn profiles name widths and no
#: loss_pairs, the paper profile (AlexNet) loss_pairs and no widths; float32 (no precision) everywhere
PROFILE_TRAIN_KEYS = {
    "smoke": FIELDS - {"loss_pairs", "precision"},
    "default": FIELDS - {"loss_pairs", "precision"},
    "paper": FIELDS - {"widths", "precision"},
}


def test_the_fields_are_every_hyper_parameter_and_config_writes_each():
    assert {f.name for f in dataclasses.fields(HashingParams)} == FIELDS
    assert set(HashingParams(epochs=1, batch_size=8).config()) == FIELDS
    assert HashingParams.__dataclass_params__.frozen


@pytest.mark.parametrize("profile", sorted(PROFILE_TRAIN_KEYS))
@pytest.mark.parametrize("dataset", ["fashion-mnist", "fashion-mnist-mosaics"])
def test_the_train_section_of_a_config_is_the_params_config(profile, dataset):
    train = hashing_config(dataset, "DPSH", 32, profile)["train"]
    assert set(train) == PROFILE_TRAIN_KEYS[profile]
    # the stored section rebuilds the same parameters, and their config (unset entries left out) is the section
    params = HashingParams.from_config(train)
    assert omit_unset("hash_model", {"train": params.config()})["train"] == train


def test_set_optional_entries_enter_the_train_section():
    train = hashing_config("fashion-mnist", "CSQ", 32, "default", loss_pairs="all",
                           precision=Precision("bf16"))["train"]
    assert set(train) == FIELDS
    assert train["precision"] == {"autocast": "bf16", "channels_last": False} and train["loss_pairs"] == "all"


def test_the_derived_defaults():
    sgd, adam = HashingParams(epochs=3, batch_size=8, optimizer="sgd"), HashingParams(epochs=3, batch_size=8)
    assert (sgd.lr_schedule, adam.lr_schedule) == ("thirds", "none")
    assert HashingParams(epochs=1, batch_size=8).pretrained is False
    assert HashingParams(backbone="alexnet", epochs=1, batch_size=8).pretrained is True
    assert HashingParams(epochs=1, batch_size=8, optimizer="sgd", lr_schedule="cosine").lr_schedule == "cosine"


def test_values_are_kept_as_given():
    # the key is the JSON of the config: an integer learning rate must not become a float
    p = HashingParams(epochs=2, batch_size=8, lr=1, widths=[8, 16, 32])
    assert type(p.config()["lr"]) is int and p.config()["widths"] == [8, 16, 32] and p.widths == (8, 16, 32)
    assert type(hashing_config("fashion-mnist", "DPH", 32, "smoke", lr=1)["train"]["lr"]) is int


def test_frozen():
    p = HashingParams(epochs=1, batch_size=8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.epochs = 2
    assert dataclasses.replace(p, epochs=2).epochs == 2


BAD = [
    ("backbone", "resnet9000"), ("widths", [8, 8]), ("widths", [8, 0, 8]), ("widths", [8, 8.5, 8]),
    ("widths", "888"), ("epochs", 0), ("epochs", 2.5), ("epochs", True), ("batch_size", 0), ("batch_size", "64"),
    ("optimizer", "rmsprop"), ("lr", 0), ("lr", -0.1), ("lr", math.nan), ("lr", "0.1"), ("weight_decay", -1e-4),
    ("weight_decay", math.inf), ("lr_schedule", "step"), ("pretrained", "yes"), ("pretrained", 1),
    ("loss_pairs", "some"), ("precision", {"autocast": "int4"}), ("precision", {"bogus": 1}),
]


@pytest.mark.parametrize("field, value", BAD, ids=lambda v: repr(v))
def test_a_bad_value_is_refused_naming_its_field(field, value):
    with pytest.raises(ValueError, match=field):
        HashingParams(**{"epochs": 2, "batch_size": 8, field: value})
    # and through hashing_config, from a caller's override
    with pytest.raises(ValueError, match=field):
        hashing_config("fashion-mnist", "DPH", 32, "smoke", **{field: value})


def test_a_profiles_widths_stay_with_another_backbone():
    # as before HashingParams: the smoke profile's widths stay in the config of an AlexNet override
    train = hashing_config("fashion-mnist", "DPH", 32, "smoke", backbone="alexnet")["train"]
    assert train["backbone"] == "alexnet" and train["widths"] == [16, 32, 64] and train["pretrained"] is True


def test_unknown_entries_are_refused():
    with pytest.raises(ValueError, match="unknown override 'momentum'"):
        hashing_config("fashion-mnist", "DPH", 32, "smoke", momentum=0.9)
    with pytest.raises(ValueError, match="unknown hashing hyper-parameter 'momentum'"):
        HashingParams.from_config({"epochs": 1, "batch_size": 8, "momentum": 0.9})
