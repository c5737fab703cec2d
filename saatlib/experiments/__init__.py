"""The experiments layer: load a result from the run store, or compute it and store it.

The algorithm packages (data, models, hashing, dmfl, attack, defense, metrics)
compute; this layer names a run by its full config, asks the run store
(:mod:`saatlib.store`) for it and computes only what is missing. The CLI, the
widgets, the chapters and the benches call it.

- :mod:`~saatlib.experiments.hash_models`  hashing configs, data of a config, load-or-train a hash model
- :mod:`~saatlib.experiments.runs`         a loaded run (:class:`HashRun`, :func:`load_run`) and the codes of a
  model's three sets (:func:`model_codes`)
- :mod:`~saatlib.experiments.attacks`      target labels and attack results of a model (with its
  adversarial examples for the book: :func:`attack_with_examples`)
- :mod:`~saatlib.experiments.retrieval`    a run's retrieval scores, tie orders and mainstay-code scores, as the
  chapters read them
- :mod:`~saatlib.experiments.keys`         run-store key compatibility: versions, entries written only when
  set, the attack-key migration table
- :mod:`~saatlib.experiments.ablation`     SAAT's attack objective against two ablations
- :mod:`~saatlib.experiments.defenses`     defense configs, load-or-train a defended model (resumable)
- :mod:`~saatlib.experiments.robustness`   the Table II row, robustness curves and gradient-masking checks of a
  defended model
- :mod:`~saatlib.experiments.paper_tables` the runs behind the paper's Table I and Table II: victims trained,
  every Table I attack and Table II defense run, raw results per victim (``reproduce`` makes the tables)
- :mod:`~saatlib.experiments.plan`         the plan of such a run: its stages, their passes, status and time
"""
from saatlib.experiments.ablation import ABLATIONS, objective_ablation
from saatlib.experiments.attacks import (attack_with_examples, cached_attack_result, hash_targets, run_attack,
                                         target_labels_for)
from saatlib.experiments.defenses import DEFENSE_KIND, defense_config, get_defended_model, model_key
from saatlib.experiments.hash_models import (evaluate_hashing, get_hash_model, hashing_config, load_data,
                                             train_and_evaluate)
from saatlib.experiments.retrieval import mainstay_scores, retrieval_scores, tie_order_maps
from saatlib.experiments.robustness import CHECK, evaluate_defense, masking_checks, robustness_curve
from saatlib.experiments.runs import HashRun, load_run, model_codes

__all__ = [
    "ABLATIONS", "CHECK", "DEFENSE_KIND", "HashRun", "attack_with_examples", "cached_attack_result",
    "defense_config", "evaluate_defense", "evaluate_hashing", "get_defended_model", "get_hash_model",
    "hash_targets", "hashing_config", "load_data", "load_run", "mainstay_scores", "masking_checks", "model_codes", "model_key",
    "objective_ablation", "retrieval_scores", "robustness_curve", "run_attack", "target_labels_for",
    "tie_order_maps", "train_and_evaluate",
]
