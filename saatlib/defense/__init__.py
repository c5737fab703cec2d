"""Adversarial training (defenses) of deep hashing models (reference section 4).

- :class:`SAATDefense` (the paper's semantic-aware minimax on mainstay codes),
  :class:`ATRDHDefense` (baseline: targeted prototype attacks), :class:`CgATDefense`
  (centroid-guided AT); all share :class:`~saatlib.defense.common.Defense` and
  the resumable loop :func:`adversarial_training` (a checkpoint per epoch).
- hyper-parameters: each defense's frozen, validated dataclass ``Params``
  (:class:`SAATParams`, :class:`ATRDHParams`, :class:`CgATParams`), the common
  fields in :class:`~saatlib.defense.params.DefenseParams`; ``.config()`` is the
  ``params`` of the defense config.
- :mod:`~saatlib.defense.registry`: defenses by name, :func:`defense_params`
  resolves the settings of a profile.

Loading or training a defended model through the run store, and measuring it
(the Table II row), is the experiments layer's job:
:func:`saatlib.experiments.get_defended_model`, :func:`saatlib.experiments.evaluate_defense`.
"""
from saatlib.defense.atrdh import ATRDHDefense, ATRDHParams
from saatlib.defense.cgat import CgATDefense, CgATParams, centre_codes
from saatlib.defense.common import Defense, adversarial_training
from saatlib.defense.params import DefenseParams
from saatlib.defense.registry import DEFENSES, METHODS, canonical_defense, defense_params
from saatlib.defense.saat import SAATDefense, SAATParams

__all__ = [
    "ATRDHDefense", "ATRDHParams", "CgATDefense", "CgATParams", "DEFENSES", "Defense", "DefenseParams", "METHODS",
    "SAATDefense", "SAATParams",
    "adversarial_training", "canonical_defense", "centre_codes", "defense_params",
]
