"""Attacks on deep hashing retrieval (reference section 3).

- :mod:`~saatlib.attack.engine`   the l_inf PGD engine and update rules
- :mod:`~saatlib.attack.saat`     SAAT's mainstay attack (non-targeted and targeted)
- :mod:`~saatlib.attack.hag`, :mod:`~saatlib.attack.sdha`       non-targeted baselines
- :mod:`~saatlib.attack.anchor` (P2P, DHTA), :mod:`~saatlib.attack.tha`  targeted baselines
- :mod:`~saatlib.attack.variants` BIM, DI-, NI-, SINI-, VMI-FGSM update rules (:data:`RULE_NAMES`)
- :mod:`~saatlib.attack.targets`  target labels, drawn once per protocol
- :mod:`~saatlib.attack.evaluate` MAP / t-MAP / theory MAP / perceptibility of an attack
- :mod:`~saatlib.experiments.attacks`      cached runs for the CLI and the book
"""
from saatlib.attack.base import Attack, AttackContext
from saatlib.attack.engine import SAAT_SCHEDULE, LinfPGD, UpdateRule, tanh_scale
from saatlib.attack.evaluate import evaluate_attack
from saatlib.attack.registry import NON_TARGETED, TARGETED, attack_names, build_attack, register_attack
from saatlib.attack.saat import SAATAttack, SAATParams, mainstay_loss
from saatlib.attack.targets import draw_target_labels
from saatlib.attack.variants import RULE_NAMES

__all__ = [
    "NON_TARGETED", "RULE_NAMES", "SAAT_SCHEDULE", "TARGETED", "Attack", "AttackContext", "LinfPGD", "SAATAttack",
    "SAATParams", "UpdateRule", "attack_names", "build_attack", "draw_target_labels", "evaluate_attack",
    "mainstay_loss", "register_attack", "tanh_scale",
]
