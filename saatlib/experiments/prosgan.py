"""ProS-GAN's trained networks, load-or-train, and its own scoring.

- :func:`prosgan_networks`: the PrototypeNet and generator of a
  :class:`~saatlib.attack.prosgan.ProSGANAttack` against a victim, from the
  run store (kind :data:`PROSGAN_KIND`, keyed by the victim's config, every
  parameter of the attack and the seed) or trained (resumable: the entry's
  ``checkpoint.pt`` is rewritten after every epoch and removed when the entry
  is complete) and stored; the attack then uses them for every call.
- :func:`prosgan_own_scoring`: ProS-GAN's own evaluation (``cross_network_test``
  of the release): t-MAP over the whole database, every query's target drawn
  uniformly from the database's unique label vectors, sharing labels with the
  query or not. SAAT's scoring (t-MAP at the profile's cut-off, targets sharing
  no label, the same targets as every targeted attack) is :func:`saatlib.experiments.attacks.run_attack`.
"""
from __future__ import annotations

import logging

import torch

from saatlib.attack.evaluate import codes_of, evaluate_attack
from saatlib.attack.prosgan_train import adversarial_image, train_prosgan
from saatlib.data import data_loader
from saatlib.experiments.attacks import (ATTACK_KIND, attack_key, context_from_codes, hash_targets, model_codes,
                                         profile_sizes, query_batch, stored_attack_result)
from saatlib.metrics import average_precision
from saatlib.experiments.hash_models import get_hash_model, load_data
from saatlib.experiments.keys import PROSGAN_VERSION
from saatlib.store import RunStore

log = logging.getLogger(__name__)

PROSGAN_KIND = "prosgan"
CHECKPOINT_NAME = "checkpoint.pt"
#: queries whose t-MAP the training curve follows when the caller names none (the first ones of the query set)
MONITOR_QUERIES = 100


def prosgan_key(hash_config: dict, attack) -> dict:
    """Run-store key of ``attack``'s networks against the victim of ``hash_config`` (its seed seeds training)."""
    return {"version": PROSGAN_VERSION, "victim": hash_config, "attack": attack.training_config(),
            "seed": hash_config["seed"]}


def training_images(splits, num_train: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``num_train`` training images (N, C, S, S) in [0, 1] and labels (all when None)."""
    n = len(splits.train) if num_train is None else min(num_train, len(splits.train))
    x, y, _ = next(iter(data_loader(splits.train.subset(torch.arange(n)), n)))
    return x, y


def _tmap_monitor(attack, model, hash_config: dict, codes: dict, splits, store: RunStore, topk: int | None,
                  num_queries: int | None, device):
    """on_epoch callback of :func:`~saatlib.attack.prosgan_train.train_prosgan`: the t-MAP@``topk`` of the
    first ``num_queries`` queries (None: all) against their stored targets (SAAT's scoring), the generator as
    it stands after the epoch. It reads and draws nothing the training uses, so the networks are unchanged;
    after the last epoch it is the t-MAP :func:`~saatlib.experiments.attacks.run_attack` measures on those queries."""
    x, _ = query_batch(splits, num_queries)
    x = x.to(device)
    targets = hash_targets(hash_config, store, codes)[: len(x)].float().to(device)

    def on_epoch(epoch, pnet, gen) -> dict:
        with torch.no_grad():
            features, _, _ = pnet.heads(targets)
            x_adv = adversarial_image(gen(2 * x - 1, features), x, attack.eps, attack.bound)
        adv = codes_of(model, x_adv).cpu()
        return {"tmap": float(average_precision(adv, codes["db_codes"], targets.cpu(), codes["db_labels"],
                                                topk=topk).mean())}

    return on_epoch


def prosgan_networks(attack, model, hash_config: dict, codes: dict, splits, store: RunStore | None = None,
                     device="cpu", progress: bool = True, recompute: bool = False, topk: int | None = None,
                     curve_queries: int | None = MONITOR_QUERIES) -> dict:
    """Load ``attack``'s trained networks against ``model`` or train them (resumable) and store them;
    the attack uses them from then on (:meth:`~saatlib.attack.prosgan.ProSGANAttack.use_networks`).

    Args:
        attack: a :class:`~saatlib.attack.prosgan.ProSGANAttack`.
        model, hash_config: the victim and its hashing config; codes: its :func:`model_codes`.
        splits: its data (:func:`saatlib.experiments.hash_models.load_data`).
        topk, curve_queries: the cut-off and the queries (the first ones; None: all) of the training
            curve's t-MAP (``history[i]["tmap"]``, against the stored targets, after every epoch).
    Returns:
        the stored result: ``history`` (per-epoch losses, t-MAP and seconds), ``pnet_losses``,
        ``seconds`` (training time), ``curve`` (the queries and cut-off of the curve's t-MAP: those of
        the call that trained the networks), ``cached``.
    """
    store = store or RunStore()
    key = prosgan_key(hash_config, attack)
    if recompute:
        store.delete(PROSGAN_KIND, key)
    x, y = training_images(splits, attack.num_train)
    if not torch.equal(y.float(), codes["train_labels"][: len(y)].float()):
        raise RuntimeError("training images and training codes are not in the same order")
    bits, classes = codes["train_codes"].shape[1], y.shape[1]
    if store.has(PROSGAN_KIND, key):
        state = store.load_state_dict(PROSGAN_KIND, key)
        result = dict(store.load_result(PROSGAN_KIND, key), cached=True)
    else:
        checkpoint = store.path(PROSGAN_KIND, key) / CHECKPOINT_NAME
        out = train_prosgan(model.to(device), x, y, codes["train_codes"], codes["train_labels"], codes["db_labels"],
                            attack.params, hash_config["seed"], device=device, checkpoint=checkpoint,
                            progress=progress,
                            on_epoch=_tmap_monitor(attack, model, hash_config, codes, splits, store, topk,
                                                   curve_queries, device))
        state = {**{f"pnet.{k}": v for k, v in out["pnet"].items()},
                 **{f"generator.{k}": v for k, v in out["generator"].items()}}
        result = {"history": out["history"], "pnet_losses": out["pnet_losses"], "seconds": out["seconds"],
                  "curve": {"queries": curve_queries, "topk": topk}}
        store.save(PROSGAN_KIND, key, state_dict=state, result=result)
        checkpoint.unlink(missing_ok=True)
        result = dict(result, cached=False)
    split = {part: {k[len(part) + 1:]: v for k, v in state.items() if k.startswith(part + ".")}
             for part in ("pnet", "generator")}
    attack.use_networks(split["pnet"], split["generator"], x.shape[1], x.shape[-1], classes, bits,
                        result["history"])
    return result


def unrestricted_targets(num_queries: int, db_labels: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """(Q, L) target labels drawn uniformly, with replacement, from the unique database label vectors
    (ProS-GAN's test: ``np.random.choice`` over ``database_labels.unique(dim=0)``; a target may share
    labels with its query)."""
    unique = torch.unique(db_labels.float().cpu(), dim=0)
    pick = torch.randint(unique.shape[0], (num_queries,), generator=torch.Generator().manual_seed(seed))
    return unique[pick]


def prosgan_own_scoring(hash_config: dict, attack, profile: str = "default", num_queries: int | None = -1,
                        store: RunStore | None = None, device="cpu", progress: bool = False) -> dict:
    """``attack`` scored as ProS-GAN's release scores it: t-MAP over the whole database (no cut-off),
    targets from :func:`unrestricted_targets`; the same queries as :func:`run_attack` (cached).

    Returns :func:`saatlib.attack.evaluate.evaluate_attack`'s dict and ``cached``.
    """
    store = store or RunStore()
    num_queries, _ = profile_sizes(profile, num_queries, None)
    key = dict(attack_key(hash_config, attack, num_queries, None, hash_config["seed"]), targets="unrestricted")
    stored = stored_attack_result(store, ATTACK_KIND, key)
    if stored is not None:
        return dict(stored, cached=True)
    splits = load_data(hash_config)
    model, _ = get_hash_model(hash_config, splits, store, device, progress)
    codes = model_codes(hash_config, model, splits, store, device)
    prosgan_networks(attack, model, hash_config, codes, splits, store, device, progress)
    x, y = query_batch(splits, num_queries)
    targets = unrestricted_targets(len(y), codes["db_labels"], hash_config["seed"])
    result = evaluate_attack(model, attack, x, y, context_from_codes(codes, hash_config["seed"]), targets,
                             topk=None, seed=hash_config["seed"], device=device, progress=progress)
    store.save(ATTACK_KIND, key, result=result)
    return dict(result, cached=False)
