"""The attacks the attack tests enumerate: every attack of the registry, each way it runs, made fast."""
from __future__ import annotations

from saatlib.attack.registry import attack_fields, build_attack, registered_attacks, runs_targeted

#: what makes an attack fast in a test, by parameter name (never by attack name): PrototypeNet steps and
#: batch (THA, ProS-GAN), tiny generative networks and batches (ProS-GAN: one epoch over 60 images)
FAST = {"pnet_steps": 3, "pnet_batch_size": 8, "gen_dim": 4, "label_dim": 8, "disc_dim": 4, "pnet_hidden": 16,
        "batch_size": 16}


def registry_label(name: str, targeted: bool) -> str:
    """``SAAT-targeted`` for an attack that runs both ways, targeted; else the registered name."""
    return f"{name}-targeted" if targeted and len(runs_targeted(name)) > 1 else name


def build_fast(name: str, targeted: bool, steps: int):
    """Attack ``name`` of the registry with the smoke profile's settings, ``steps`` iterations (if it
    iterates) and the :data:`FAST` values of the fields it has."""
    fields = attack_fields(name)
    fast = {k: v for k, v in FAST.items() if k in fields}
    if "steps" in fields:
        fast["steps"] = steps
    return build_attack(name, targeted, "smoke", **fast)


def registry_makers(steps: int) -> dict:
    """``{label: make()}`` for every registered attack, each way it runs (:func:`build_fast`)."""
    return {registry_label(n, t): (lambda n=n, t=t: build_fast(n, t, steps))
            for n in registered_attacks() for t in runs_targeted(n)}


def iterative_labels() -> set[str]:
    """Labels of the registered attacks that have ``steps``."""
    return {registry_label(n, t) for n in registered_attacks() for t in runs_targeted(n) if "steps" in attack_fields(n)}
