"""The experiments layer: load a result from the run store, or compute it and store it.

The algorithm packages (data, models, hashing, dmfl, attack, defense, metrics)
compute; this layer names a run by its full config, asks the run store
(:mod:`saatlib.store`) for it and computes only what is missing. The CLI, the
widgets, the chapters and the benches call it.

- :mod:`~saatlib.experiments.hash_models`  hashing configs, data of a config, load-or-train a hash model
- :mod:`~saatlib.experiments.attacks`      codes, target labels and attack results of a model
- :mod:`~saatlib.experiments.defenses`     defense configs, load-or-train a defended model (resumable)
- :mod:`~saatlib.experiments.robustness`   the Table II row and robustness curves of a defended model
"""
from saatlib.experiments.attacks import cached_attack_result, model_codes, run_attack, target_labels_for
from saatlib.experiments.defenses import DEFENSE_KIND, defense_config, get_defended_model, model_key
from saatlib.experiments.hash_models import (evaluate_hashing, get_hash_model, hashing_config, load_data,
                                             train_and_evaluate)
from saatlib.experiments.robustness import CHECK, evaluate_defense, robustness_curve

__all__ = [
    "CHECK", "DEFENSE_KIND", "cached_attack_result", "defense_config", "evaluate_defense", "evaluate_hashing",
    "get_defended_model", "get_hash_model", "hashing_config", "load_data", "model_codes", "model_key",
    "robustness_curve", "run_attack", "target_labels_for", "train_and_evaluate",
]
