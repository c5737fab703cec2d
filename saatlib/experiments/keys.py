"""Run-store key compatibility, in one place: how a config is written into a key so that the runs
stored before a setting existed keep their keys (and a bump that recomputes them is named).

The algorithms know nothing of it: an attack's :meth:`~saatlib.attack.base.Attack.config`, a hash
model's :meth:`~saatlib.hashing.params.HashingParams.config` and a defense's
:meth:`~saatlib.defense.params.DefenseParams.config` list every parameter (None for one not set);
what follows says how the store writes them.

- **Versions** (a bump recomputes every stored run of the kind): :data:`HASH_VERSION` (hash models;
  3: smallcnn widths), :data:`DEFENSE_VERSION` (defended models), :data:`EXAMPLES_VERSION`
  (adversarial examples and the objective ablation), :data:`PROSGAN_VERSION` (ProS-GAN's networks).
- **Entries written only when set** (:data:`ONLY_WHEN_SET`, applied by :func:`omit_unset`): a setting
  that came in after runs were stored enters the key only when it is not what those runs implicitly
  used, so their keys did not change; any other value makes a new key.
- **Attack keys as they were before parameters were explicit** (:data:`ATTACK_KEY_MIGRATIONS`): per
  attack class, entries that replace (or, :data:`OMIT`, remove) fields of its config in the key.
  An attack added since has none: its key is its config (:func:`attack_key_config`).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from saatlib.attack.base import Attack, config_value
from saatlib.attack.engine import SAAT_SCHEDULE, UpdateRule

#: hash-model configs; bump when a change to models or training invalidates stored runs (3: smallcnn widths)
HASH_VERSION = 3
#: defense configs; bump when a change to the defenses invalidates stored defended models
DEFENSE_VERSION = 1
#: adversarial examples beside an attack's numbers, and the objective ablation
EXAMPLES_VERSION = 1
#: ProS-GAN's trained networks per victim
PROSGAN_VERSION = 1

@dataclasses.dataclass(frozen=True)
class Unset:
    """An entry written into a key only when set: ``value`` is what the config holds when it is not
    set (the entry is then left out, :func:`omit_unset`); ``used`` says what the stored runs,
    keyed without it, implicitly used."""

    value: Any
    used: str


#: ``{kind: {dotted entry: Unset}}``: entries written into a key only when set (by a profile or a
#: caller) to something else than what stored runs implicitly used; ``precision`` is the float32
#: default (:meth:`saatlib.compute.Precision.key` None). The only place these omissions are made
#: (:func:`omit_unset`): the hash-model config, the defense config and the attack key apply it.
ONLY_WHEN_SET: dict[str, dict[str, Unset]] = {
    "hash_model": {
        "train.loss_pairs": Unset(None, "seen (every pair loss over the items seen so far)"),
        "train.precision": Unset(None, "float32"),
        # smallcnn's default channels (the ImageNet backbones have no widths): HashingParams writes None
        "train.widths": Unset(None, "smallcnn's default channels (the ImageNet backbones have none)"),
        # the image side the data loader gives by default (224 crops of list-file images, the embedded
        # sets' own sides): hashing_config writes None for it
        "data.image_size": Unset(None, "the data loader's own size"),
    },
    "defense": {"precision": Unset(None, "float32")},
    "attack": {"precision": Unset(None, "float32")},
}


def omit_unset(kind: str, config: dict) -> dict:
    """``config`` (a run-store config of ``kind``) without the entries of :data:`ONLY_WHEN_SET` that
    hold their unset value, so it keys as stored runs did; a new dict, ``config`` is not changed
    (nested dicts are copied along the entries' paths only)."""
    out = dict(config)
    for entry, unset in ONLY_WHEN_SET.get(kind, {}).items():
        *parents, leaf = entry.split(".")
        node = out
        for name in parents:
            if not isinstance(node.get(name), dict):
                break
            node[name] = dict(node[name])
            node = node[name]
        else:
            if leaf in node and node[leaf] == unset.value:
                del node[leaf]
    return out


#: a migration's value for a field that the stored key did not have
OMIT = object()


def _schedule(attack: Attack) -> dict:
    """``schedule`` as keys had it before it was in the key: left out at the SAAT schedule (the
    default every stored run used), else its list."""
    schedule = attack.params.schedule
    return {"schedule": OMIT if schedule == SAAT_SCHEDULE else config_value(schedule)}


def _pgd(attack: Attack, named_rule: bool = False) -> dict:
    """An engine-based attack's ``rule`` and ``schedule`` as keys had them: ``schedule`` as in
    :func:`_schedule`; ``rule`` None for the plain signed gradient (the key held ``"rule": null``);
    with ``named_rule`` (SAAT, whose key also holds ``rule_name``) a rule at its defaults is left out
    (the key held no rule entry); any other rule as its config."""
    out, p = _schedule(attack), attack.params
    if type(p.rule) is UpdateRule:
        out["rule"] = None
    elif named_rule and p.rule.for_run(p.eps) == type(p.rule)().for_run(p.eps):
        out["rule"] = OMIT
    else:
        out["rule"] = p.rule.config()
    return out


def _anchor(attack: Attack) -> dict:
    # the attack's name, "rule": null for PGD, no schedule; anchor_draw left out at "shared", the draw
    # every stored run used
    return dict(_pgd(attack), name=attack.name,
                anchor_draw=OMIT if attack.params.anchor_draw == "shared" else attack.params.anchor_draw)


#: ``{attack class name: attack -> {field: value or OMIT}}``: the attacks that existed before their
#: parameters were explicit, and how their keys looked then
ATTACK_KEY_MIGRATIONS: dict[str, Callable[[Attack], dict]] = {
    "HAGAttack": _schedule,
    "SDHAAttack": _schedule,
    "RestartPGDAttack": _schedule,
    # the attack's name and rule name, no schedule, no rule parameters
    "SAATAttack": lambda a: dict(_pgd(a, named_rule=True), name=a.name, rule_name=a.params.rule.name),
    "P2PAttack": _anchor,
    "DHTAAttack": _anchor,
    # "rule": null for PGD, no schedule, and the (then empty) PrototypeNet cache slots, which the old
    # config() picked up as None
    "THAAttack": lambda a: dict(_pgd(a), _pnet=None, _pnet_key=None),
}


def attack_key_config(attack: Attack) -> dict:
    """The attack's part of a run-store key: its :meth:`~saatlib.attack.base.Attack.config` adjusted by
    its class's entry of :data:`ATTACK_KEY_MIGRATIONS` (none for a new attack)."""
    cfg = attack.config()
    migrate = ATTACK_KEY_MIGRATIONS.get(type(attack).__name__)
    for name, value in (migrate(attack) if migrate is not None else {}).items():
        if value is OMIT:
            cfg.pop(name, None)
        else:
            cfg[name] = value
    return cfg
