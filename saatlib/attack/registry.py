"""Attacks by name, with budgets from a profile.

Non-targeted (Table I, MAP): ``HAG``, ``SDHA``, ``SAAT``.
Targeted (Table I, t-MAP): ``P2P``, ``DHTA``, ``THA``, ``SAAT`` (with ``targeted=True``).
Update-rule variants of the mainstay attack: ``SAAT`` with ``rule`` one of
``BIM``, ``DI-FGSM``, ``NI-FGSM``, ``SINI-FGSM``, ``VMI-FGSM``.
"""
from __future__ import annotations

from saatlib.attack.anchor import DHTAAttack, P2PAttack
from saatlib.attack.base import Attack
from saatlib.attack.hag import HAGAttack
from saatlib.attack.restart_pgd import RestartPGDAttack
from saatlib.attack.saat import SAATAttack
from saatlib.attack.sdha import SDHAAttack
from saatlib.attack.tha import THAAttack
from saatlib.attack.variants import make_rule, rule_random_start
from saatlib.profiles import defense_eval_settings, get_profile

NON_TARGETED = ("HAG", "SDHA", "SAAT")
TARGETED = ("P2P", "DHTA", "THA", "SAAT")
RULES = ("PGD", "BIM", "DI-FGSM", "NI-FGSM", "SINI-FGSM", "VMI-FGSM")

_CLASSES = {"HAG": HAGAttack, "SDHA": SDHAAttack, "SAAT": SAATAttack, "P2P": P2PAttack, "DHTA": DHTAAttack,
            "THA": THAAttack}


def attack_names(targeted: bool) -> tuple[str, ...]:
    """Attack names of Table I, non-targeted or targeted."""
    return TARGETED if targeted else NON_TARGETED


def build_attack(name: str, targeted: bool = False, profile: str = "default", eps: float | None = None,
                 steps: int | None = None, rule: str | None = None, **kwargs) -> Attack:
    """Instantiate attack ``name`` with the budget of ``profile``.

    ``eps`` and ``steps`` override the profile; ``rule`` (SAAT only) picks an
    update-rule variant; other keyword arguments go to the attack's constructor.
    """
    canon = {k.lower(): k for k in _CLASSES}
    key = canon.get(name.lower())
    if key is None:
        raise ValueError(f"unknown attack {name!r}; choose one of {sorted(_CLASSES)}")
    if targeted and key not in TARGETED:
        raise ValueError(f"{key} is not a targeted attack; targeted attacks: {TARGETED}")
    if not targeted and key not in NON_TARGETED:
        raise ValueError(f"{key} is a targeted attack: pass targeted=True (CLI --targeted)")
    budget = get_profile(profile)["attack"]
    steps_key = f"{key}-targeted" if key == "SAAT" and targeted else key
    params = {"eps": budget["eps"].get(steps_key, budget["eps"]["default"]),
              "steps": budget["steps"][steps_key]}
    if key == "THA":
        params["pnet_steps"] = budget["pnet_steps"]
    if eps is not None:
        params["eps"] = eps
    if steps is not None:
        params["steps"] = steps
    if key == "SAAT":
        params["targeted"] = targeted
        if rule not in (None, "PGD"):
            params["rule"] = make_rule(rule, eps=params["eps"])
            params["random_start"] = rule_random_start(params["rule"])
    elif rule not in (None, "PGD"):
        raise ValueError("update-rule variants apply to the SAAT attack only")
    params.update(kwargs)
    return _CLASSES[key](**params)


def build_check_attack(profile: str = "default", dataset: str | None = None, **overrides) -> RestartPGDAttack:
    """The check attack with the profile's budget (eps: the profile's attack eps)."""
    params = {"eps": get_profile(profile)["attack"]["eps"]["default"], **defense_eval_settings(profile, dataset)["check"]}
    params.update({k: v for k, v in overrides.items() if v is not None})
    return RestartPGDAttack(**params)
