"""Adversarial training (defense) of deep hashing models (reference section 4).

- :class:`SAATDefense` (the paper's semantic-aware minimax on mainstay codes),
  :class:`ATRDHDefense` (baseline: targeted prototype attacks), :class:`CgATDefense`
  (centroid-guided AT); all share :class:`~saatlib.training.common.Defense` and
  the resumable loop :func:`adversarial_training` (a checkpoint per epoch).
- :func:`get_defended_model`: load a defended model from the run store, or
  train (resume) and store it; :func:`defense_config`, :func:`defense_params`
  resolve the settings of a profile.
- :func:`evaluate_defense`: benign MAP and MAP under HAG, SDHA, SAAT and a
  check attack with restarts (the Table II row).
"""
from saatlib.training.atrdh import ATRDHDefense
from saatlib.training.cgat import CgATDefense, centre_codes
from saatlib.training.common import COMMON_DEFAULTS, Defense, adversarial_training
from saatlib.training.evaluate import CHECK, RestartPGDAttack, build_check_attack, evaluate_defense
from saatlib.training.run import (DEFENSE_KIND, DEFENSES, METHODS, canonical_defense, defense_config, defense_params,
                                  get_defended_model)
from saatlib.training.saat import SAATDefense

__all__ = [
    "ATRDHDefense", "CHECK", "COMMON_DEFAULTS", "CgATDefense", "DEFENSES", "DEFENSE_KIND", "Defense", "METHODS",
    "RestartPGDAttack", "SAATDefense", "adversarial_training", "build_check_attack", "canonical_defense",
    "centre_codes", "defense_config", "defense_params", "evaluate_defense", "get_defended_model",
]
