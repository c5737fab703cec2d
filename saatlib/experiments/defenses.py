"""Defended models, load-or-compute: train (or resume) a defense once and keep it in the run store.

A *defense config* is ``{"version", "model": <hashing config>, "method",
"params"}`` with ``params`` the fully resolved hyper-parameters (the method's
paper defaults, overridden by the profile's ``defense`` section, then by the
caller): the :meth:`~saatlib.defense.params.DefenseParams.config` of the defense's
frozen, validated ``Params`` dataclass, so the run-store key changes whenever
anything that shapes the defended model changes. Defended models are stored under
kind ``"defense"``.

Checkpoints: while a defense trains, ``<entry>/checkpoint.pt`` (the entry
folder of its config, ``RunStore.path("defense", config)``) is rewritten
atomically after every epoch; the entry becomes complete (``config.json``)
only when training ends. Asking again for an interrupted run resumes from the
checkpoint. Once the model and its result are stored the checkpoint is
deleted (the final ``model.pt`` and ``result.json`` hold what it would say);
``recompute=True`` deletes the whole entry, checkpoint included, so training
starts from scratch.

Settings are resolved from a profile by :func:`saatlib.defense.registry.defense_params`.
"""
from __future__ import annotations

import logging

from saatlib import distributed
from saatlib.compute import Precision
from saatlib.defense.checkpoint import CHECKPOINT_NAME
from saatlib.defense.common import EpochCallback, adversarial_training
from saatlib.defense.registry import DEFENSES, canonical_defense, defense_params
from saatlib.experiments.hash_models import get_hash_model, load_data
from saatlib.experiments.keys import DEFENSE_VERSION, omit_unset
from saatlib.store import RunStore

log = logging.getLogger(__name__)

DEFENSE_KIND = "defense"


def defense_config(hash_config: dict, method: str = "SAAT", profile: str = "default", precision=None,
                   **overrides) -> dict:
    """The run-store config of ``hash_config``'s model defended by ``method``.

    ``precision`` (:class:`saatlib.compute.Precision` or its key dict) enters the
    config only when it is not the float32 default (:func:`saatlib.experiments.keys.omit_unset`),
    so stored keys are unchanged."""
    method = canonical_defense(method)
    config = {"version": DEFENSE_VERSION, "model": hash_config, "method": method,
              "params": defense_params(method, profile, hash_config["dataset"], **overrides)}
    if method != "none":  # the undefended model is the victim itself: no precision of its own
        config["precision"] = Precision.of(precision).key()
    return omit_unset(DEFENSE_KIND, config)


def model_key(config: dict) -> dict:
    """The config that identifies the evaluated model: the hashing config for
    ``none`` (so its cached codes and attacks are shared with :func:`saatlib.experiments.attacks.run_attack`),
    else the defense config."""
    return config["model"] if config["method"] == "none" else config


def get_defended_model(hash_config: dict, method: str = "SAAT", profile: str = "default",
                       store: RunStore | None = None, device="cpu", progress: bool = True,
                       recompute: bool = False, splits=None, callback: EpochCallback | None = None,
                       precision=None, **overrides):
    """Load the defended model from the run store, or train (or resume) and store it.

    Args:
        hash_config: config of the start model (:func:`saatlib.experiments.hash_models.hashing_config`);
            it is loaded or trained with :func:`saatlib.experiments.hash_models.get_hash_model`.
        method: ``none`` (the undefended model itself), ``SAAT``, ``ATRDH`` or ``CgAT``.
        profile: where the defense settings come from (its ``defense`` section).
        recompute: delete the stored defended model (and any checkpoint) and
            train it again from scratch; the victim itself is never retrained here.
        overrides: hyper-parameters (``epochs``, ``lambda``, ``mu``, ``lr``, ``eps``, ...).
        callback: ``callback(epoch, record)`` after every finished epoch (see
            :func:`saatlib.defense.common.adversarial_training`).
        precision: bf16 autocast / channels-last for the training (:class:`saatlib.compute.Precision`;
            None: float32); part of the config when not the default.
    Returns:
        (model in eval mode on ``device``, record) with record keys ``defense``,
        ``config`` (the defense config), ``history`` (per-epoch loss terms),
        ``train_seconds`` (0 for ``none``), ``resumed_from_epoch`` and ``cached``.
    """
    store = store or RunStore()
    config = defense_config(hash_config, method, profile, precision, **overrides)
    splits = splits if splits is not None else load_data(hash_config)
    if config["method"] == "none":
        model, rec = get_hash_model(hash_config, splits, store, device, progress)
        return model, {"defense": "none", "config": config, "history": [], "train_seconds": 0.0,
                       "resumed_from_epoch": 0, "cached": rec["cached"]}
    model, _ = get_hash_model(hash_config, splits, store, device, progress)
    if recompute:
        if distributed.is_main():
            store.delete(DEFENSE_KIND, config)
        distributed.barrier()
    if distributed.all_agree(store.has(DEFENSE_KIND, config)):
        model.load_state_dict(store.load_state_dict(DEFENSE_KIND, config))
        return model.to(device).eval(), dict(store.load_result(DEFENSE_KIND, config), config=config, cached=True)
    cls = DEFENSES[config["method"]]
    defense = cls(model, splits.train, hash_config["method"], config["params"], seed=hash_config["seed"],
                  device=device, database_labels=splits.database.labels, precision=precision)
    checkpoint = store.path(DEFENSE_KIND, config) / CHECKPOINT_NAME
    history = adversarial_training(defense, seed=hash_config["seed"], checkpoint=checkpoint, progress=progress,
                                   callback=callback)
    record = {"defense": config["method"], "history": history,
              "train_seconds": float(sum(r["seconds"] for r in history)),
              "resumed_from_epoch": defense.resumed_from_epoch}
    if distributed.is_main():  # under torchrun every rank trained its share; the main rank writes
        store.save(DEFENSE_KIND, config, state_dict=model.state_dict(), result=record)
        checkpoint.unlink(missing_ok=True)
    distributed.barrier()
    return model.eval(), dict(record, config=config, cached=False)
