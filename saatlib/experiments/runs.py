"""A trained hash model and the codes of its three sets, load-or-compute: what the chapters, the attacks and
the widgets start from.

- :func:`model_codes`: the training, database and query codes of a model (cached, kind :data:`CODES_KIND`);
- :class:`HashRun` and :func:`load_run`: a trained (or loaded) hash model with those codes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from saatlib import distributed
from saatlib.experiments.hash_models import get_hash_model, hashing_config, load_data
from saatlib.hashing import encode
from saatlib.store import RunStore

CODES_KIND = "codes"


def model_codes(hash_config: dict, model, splits, store: RunStore, device="cpu") -> dict[str, torch.Tensor]:
    """Codes of the training, database and query sets under ``model`` (cached).

    Returns a dict of CPU tensors: train_codes, train_labels, db_codes,
    db_labels, query_codes, query_labels.
    """
    key = {"model": hash_config}
    if store.has(CODES_KIND, key):
        return store.load_tensors(CODES_KIND, key)
    out = {}
    for name, subset in (("train", splits.train), ("db", splits.database), ("query", splits.query)):
        out[f"{name}_codes"], out[f"{name}_labels"] = encode(model, subset, device=device)
    if distributed.is_main():  # under torchrun every rank encodes, the main rank writes
        store.save(CODES_KIND, key, tensors=out)
    return out


@dataclass
class HashRun:
    """A trained hash model and everything a chapter reads from it.

    Attributes:
        config: the hashing config (:func:`saatlib.experiments.hash_models.hashing_config`).
        splits: the :class:`~saatlib.data.RetrievalSplits` it was trained on.
        model: the model, in eval mode.
        codes: CPU tensors ``train_codes``, ``train_labels``, ``db_codes``,
            ``db_labels``, ``query_codes``, ``query_labels``.
        history: per-epoch training record (loss, terms, lr, seconds).
        cached: whether the model was loaded from the run store.
    """

    config: dict
    splits: Any
    model: Any
    codes: dict
    history: list
    cached: bool

    @property
    def label(self) -> str:
        return f"{self.config['method']} ({self.config['dataset']}, {self.config['bits']} bits)"


def load_run(dataset: str, method: str, bits: int = 32, profile: str = "default", seed: int = 0,
             device: str = "cpu", store: RunStore | None = None, **overrides) -> HashRun:
    """Train (or load from the run store) a hash model and encode its three sets (cached too).

    Two chapters asking for the same arguments share one model.
    """
    store = store or RunStore()
    config = hashing_config(dataset, method, bits, profile, seed, **overrides)
    splits = load_data(config)
    model, rec = get_hash_model(config, splits, store, device, progress=False)
    codes = model_codes(config, model, splits, store, device)
    return HashRun(config, splits, model, codes, rec.get("history", []), rec["cached"])
