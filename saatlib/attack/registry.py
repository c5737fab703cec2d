"""Attacks by name, with budgets from a profile.

Non-targeted (Table I, MAP): ``HAG``, ``SDHA``, ``SAAT``.
Targeted (Table I, t-MAP): ``P2P``, ``DHTA``, ``ProS-GAN``, ``THA``, ``SAAT`` (with
``targeted=True``), in the paper's order. ``ProS-GAN`` is generative: it has no iterations
(:func:`iterative` is False). Profile settings come by field name
(:func:`saatlib.profiles.attack_settings`), e.g. ProS-GAN's from the ``ProS-GAN`` entry of a profile's
``attack`` section.
Update-rule variants of the mainstay attack: ``SAAT`` with ``rule`` one of
``BIM``, ``DI-FGSM``, ``NI-FGSM``, ``SINI-FGSM``, ``VMI-FGSM`` (:data:`RULE_NAMES`).
:func:`register_attack` adds an attack of one's own under a name.
"""
from __future__ import annotations

import dataclasses

from saatlib.attack.anchor import DHTAAttack, P2PAttack
from saatlib.attack.base import Attack
from saatlib.attack.hag import HAGAttack
from saatlib.attack.prosgan import ProSGANAttack
from saatlib.attack.restart_pgd import RestartPGDAttack
from saatlib.attack.saat import SAATAttack
from saatlib.attack.sdha import SDHAAttack
from saatlib.attack.tha import THAAttack
from saatlib.attack.variants import RULE_NAMES, make_rule, rule_random_start
from saatlib.profiles import attack_settings, check_budget_settings

__all__ = ["NON_TARGETED", "RULE_NAMES", "TARGETED", "attack_class", "attack_fields", "attack_names",
           "build_attack", "build_check_attack", "for_attack", "iterative", "register_attack", "registered_attacks",
           "runs_targeted"]

NON_TARGETED = ("HAG", "SDHA", "SAAT")
TARGETED = ("P2P", "DHTA", "ProS-GAN", "THA", "SAAT")

_CLASSES: dict[str, type[Attack]] = {"HAG": HAGAttack, "SDHA": SDHAAttack, "SAAT": SAATAttack, "P2P": P2PAttack,
                                     "DHTA": DHTAAttack, "THA": THAAttack, "ProS-GAN": ProSGANAttack}


def attack_names(targeted: bool) -> tuple[str, ...]:
    """Attack names of Table I, non-targeted or targeted."""
    return TARGETED if targeted else NON_TARGETED


def registered_attacks() -> dict[str, type[Attack]]:
    """Every attack :func:`build_attack` knows, ``{name: class}`` in registration order (the built-in ones, then
    those added by :func:`register_attack`): what the CLI's help, the settings table and the attack tests list."""
    return dict(_CLASSES)


def attack_class(name: str) -> tuple[str, type[Attack]]:
    """``(registered name, class)`` of attack ``name`` (case-insensitive)."""
    key = {k.lower(): k for k in _CLASSES}.get(str(name).lower())
    if key is None:
        raise ValueError(f"unknown attack {name!r}; choose one of {sorted(_CLASSES)}")
    return key, _CLASSES[key]


def attack_fields(name: str) -> frozenset[str]:
    """The parameter names of attack ``name`` (the fields of its ``Params``)."""
    return frozenset(f.name for f in dataclasses.fields(attack_class(name)[1].Params))


def runs_targeted(name: str) -> tuple[bool, ...]:
    """The ways attack ``name`` runs: ``(False, True)`` when ``targeted`` is one of its parameters (SAAT),
    else its class's ``targeted``."""
    cls = attack_class(name)[1]
    return (False, True) if "targeted" in attack_fields(name) else (bool(cls.targeted),)


def for_attack(name: str, overrides: dict) -> dict:
    """The entries of ``overrides`` that are parameters of attack ``name`` and not None (a setting
    given for several attacks, such as the PrototypeNet steps of THA and ProS-GAN, reaches those that have it)."""
    fields = attack_fields(name)
    return {k: v for k, v in overrides.items() if v is not None and k in fields}


def iterative(name: str) -> bool:
    """Whether attack ``name`` runs iterations (its parameters have ``steps``): False for a generative
    attack (ProS-GAN, one generator pass), to which a number of iterations does not apply."""
    return "steps" in attack_fields(name)


def register_attack(name: str, cls: type[Attack], replace: bool = False) -> None:
    """Make :func:`build_attack` (hence :func:`saatlib.experiments.attacks.run_attack` and
    ``python -m saatlib attack --method``) construct ``cls`` for ``name`` (case-insensitive).

    ``cls`` is an :class:`~saatlib.attack.base.Attack` subclass with a ``Params`` dataclass. It
    gets the profile's settings for the fields it has, by field name
    (:func:`saatlib.profiles.attack_settings`): ``eps`` and ``steps`` (the profile's entry for
    ``name``, else its default), any other field the profile's ``attack`` section names. It is targeted when
    its ``targeted`` class attribute says so, unless ``targeted`` is one of its parameters. A
    registered attack is not added to Table I (:data:`NON_TARGETED`, :data:`TARGETED`).
    """
    if not (isinstance(cls, type) and issubclass(cls, Attack) and cls.Params is not None):
        raise TypeError(f"register_attack needs an Attack subclass with a Params dataclass, got {cls!r}")
    taken = {k.lower(): k for k in _CLASSES}.get(name.lower())
    if taken is not None and _CLASSES[taken] is not cls and not replace:
        raise ValueError(f"attack name {name!r} is taken by {_CLASSES[taken].__name__}; pass replace=True")
    if taken is not None:
        del _CLASSES[taken]
    _CLASSES[name] = cls


def build_attack(name: str, targeted: bool = False, profile: str = "default", eps: float | None = None,
                 steps: int | None = None, rule: str | None = None, **kwargs) -> Attack:
    """Instantiate attack ``name`` with the budget of ``profile``.

    ``eps`` and ``steps`` override the profile; ``rule`` (SAAT only) picks an
    update-rule variant; other keyword arguments are parameters of the attack
    (fields of its ``Params``).
    """
    key, cls = attack_class(name)
    fields = set(attack_fields(key))
    if "targeted" not in fields:
        if targeted and not cls.targeted:
            raise ValueError(f"{key} is not a targeted attack; targeted attacks: {TARGETED}")
        if not targeted and cls.targeted:
            raise ValueError(f"{key} is a targeted attack: pass targeted=True (CLI --targeted)")
    params = attack_settings(profile, key, fields, targeted)
    if eps is not None:
        params["eps"] = eps
    if steps is not None:
        if "steps" not in fields:
            raise ValueError(f"{key} has no iterations (steps): it is not an iterative attack; "
                             "leave steps unset (saatlib.attack.registry.iterative tells which attacks have them)")
        params["steps"] = steps
    if "targeted" in fields:
        params["targeted"] = targeted
    if key == "SAAT":
        if rule not in (None, "PGD"):
            params["rule"] = make_rule(rule)
            params["random_start"] = rule_random_start(params["rule"])
    elif rule not in (None, "PGD"):
        raise ValueError("update-rule variants apply to the SAAT attack only")
    params.update(kwargs)
    return cls(**params)


def build_check_attack(profile: str = "default", dataset: str | None = None, **overrides) -> RestartPGDAttack:
    """The check attack with the profile's budget (eps: the profile's attack eps)."""
    params = check_budget_settings(profile, dataset)
    params.update({k: v for k, v in overrides.items() if v is not None})
    return RestartPGDAttack(**params)
