"""Hash models, load-or-compute: hashing configs, the data of a config, a trained model.

A *hashing config* is a plain dict holding everything that determines a trained
hash model (data, protocol, method, bits, backbone, seed, hyper-parameters); the
run store keys models and results by it. Build one with :func:`hashing_config`.
Its ``train`` section is the :meth:`~saatlib.hashing.params.HashingParams.config` of the
training hyper-parameters (a frozen, validated dataclass); :func:`get_hash_model`
reads it back through :meth:`~saatlib.hashing.params.HashingParams.from_config`.
"""
from __future__ import annotations

import logging
import time


from saatlib import distributed
from saatlib.checkpoint import CHECKPOINT_NAME, read_checkpoint
from saatlib.data import load_splits
from saatlib.data.registry import loader_image_size, native_image_size
from saatlib.data.transforms import REFERENCE_CROP
from saatlib.hashing import canonical_method, encode, train_hashing
from saatlib.hashing.params import HashingParams
from saatlib.hashing.train import CHECKPOINT_FORMAT as TRAIN_CHECKPOINT_FORMAT
from saatlib.experiments.keys import HASH_VERSION, omit_unset
from saatlib.metrics import mean_average_precision
from saatlib.models import build_model
from saatlib.models.backbones import IMAGENET_BACKBONES
from saatlib.profiles import hashing_settings
from saatlib.seeding import seeded
from saatlib.store import RunStore

log = logging.getLogger(__name__)

CONFIG_VERSION = HASH_VERSION  # saatlib.experiments.keys (3: smallcnn widths)
HASH_KIND = "hash_model"


def natural_image_size(dataset: str, backbone: str, data_dir: str | None = None) -> int | None:
    """The image side a run uses when none is named: the backbone's natural input (224 for the
    ImageNet backbones), the images' own for ``smallcnn`` (:func:`saatlib.data.registry.native_image_size`)."""
    return REFERENCE_CROP if backbone in IMAGENET_BACKBONES else native_image_size(dataset, data_dir)


def hashing_config(
    dataset: str = "fashion-mnist",
    method: str = "CSQ",
    bits: int = 32,
    profile: str = "default",
    seed: int = 0,
    data_dir: str | None = None,
    **overrides,
) -> dict:
    """Full config of a hash model run.

    ``overrides`` replace entries of the profile's ``hashing`` section (any field of
    :class:`saatlib.hashing.params.HashingParams`, e.g. ``epochs=5``, ``backbone='alexnet'``,
    ``lr=0.01``; None: the profile's) or of its ``data`` section (``num_query``,
    ``num_database``, ``num_train``, and ``image_size``: the side images are resized or
    cropped to, kept in the config only when given). The training entries are checked by
    :class:`~saatlib.hashing.params.HashingParams` (a bad value is a ValueError naming the
    field), which also fills in ``lr_schedule`` (``"thirds"`` with SGD, ``"none"`` with Adam)
    and ``pretrained`` (False for ``smallcnn``, True otherwise) when neither names them.
    ``loss_pairs`` (``"seen"`` or ``"all"``, see :class:`saatlib.hashing.losses.base.HashLoss`)
    is kept in the config only when the profile or the caller sets it, so the
    keys of runs with the default (``"seen"``) did not change when it came in.
    Without ``image_size`` the images get the backbone's natural size
    (:func:`natural_image_size`); it enters the config only where that differs
    from what the data loader gives by default (224 crops of list-file images, the
    embedded sets' own sides), so the keys of existing runs did not change.
    ``precision`` (a :class:`saatlib.compute.Precision` or its key dict: bf16 autocast,
    channels-last) is kept the same way, only when it is not the float32 default, and
    ``widths`` only when named (the ImageNet backbones have none). These
    omissions are :func:`saatlib.experiments.keys.omit_unset`'s (its table,
    :data:`saatlib.experiments.keys.ONLY_WHEN_SET`, is the only place they are listed).
    """
    data, hp = hashing_settings(profile, dataset)
    fields = HashingParams.field_names()
    for key, value in overrides.items():
        if value is None:
            continue
        if key in data or key == "image_size":
            data[key] = value
        elif key in fields:
            hp[key] = value
        else:
            raise ValueError(f"unknown override {key!r}; known: {sorted(data) + sorted(fields)}")
    params = HashingParams.from_config(hp)  # validated; lr_schedule and pretrained filled in when not given
    if data.get("image_size") is None:  # None (left out, below) where the loader gives the natural size
        natural = natural_image_size(dataset, params.backbone, data_dir)
        data["image_size"] = None if natural == loader_image_size(dataset, data_dir) else natural
    if not isinstance(bits, int) or not 4 <= bits <= 256:
        raise ValueError(f"unsupported bit length {bits!r}: use an integer between 4 and 256 (the paper: 16, 32, 48, 64)")
    config = {
        "version": CONFIG_VERSION,
        "dataset": dataset,
        "data": dict(data, seed=seed),
        "method": canonical_method(method),
        "bits": bits,
        "seed": seed,
        "train": params.config(),
    }
    if data_dir is not None:
        config["data_dir"] = str(data_dir)
    return omit_unset(HASH_KIND, config)


def load_data(config: dict):
    """The :class:`saatlib.data.RetrievalSplits` a config refers to."""
    d = config["data"]
    return load_splits(
        config["dataset"],
        data_dir=config.get("data_dir"),
        num_query=d["num_query"],
        num_database=d["num_database"],
        num_train=d["num_train"],
        seed=d["seed"],
        image_size=d.get("image_size"),
    )


def new_model(config: dict, in_channels: int, allow_random_init: bool = False):
    """An untrained model of ``config``, initialised from its seed."""
    hp = HashingParams.from_config(config["train"])
    with seeded(config["seed"]):
        return build_model(hp.backbone, config["bits"], in_channels, hp.pretrained, allow_random_init,
                           widths=hp.widths)


def _finished_epochs(checkpoint) -> int:
    """Epochs an interrupted training of this entry has finished (0: no checkpoint)."""
    if not checkpoint.exists():
        return 0
    state = read_checkpoint(checkpoint, TRAIN_CHECKPOINT_FORMAT, "hashing training")
    return 0 if state is None else int(state["epoch"])


def get_hash_model(
    config: dict,
    splits=None,
    store: RunStore | None = None,
    device="cpu",
    progress: bool = True,
    recompute: bool = False,
    allow_random_init: bool = False,
    callback=None,
):
    """Load the model of ``config`` from the run store, or train and store it.

    Under ``torchrun`` (:mod:`saatlib.distributed`) every rank trains its share
    and only the main rank writes the run store.

    Training is resumable: while it runs, ``<entry>/checkpoint.pt`` (the entry
    folder of ``config``) is rewritten atomically after every epoch, and asking
    again after an interruption continues after the last finished epoch, with
    the same final weights as an uninterrupted run. The checkpoint is deleted
    once the model is stored; ``recompute`` deletes it with the entry.

    ``callback(epoch, record)`` runs after each finished epoch (see
    :func:`saatlib.hashing.train.train_hashing`).

    Returns:
        (model in eval mode on ``device``, record dict with ``history`` and
        ``train_seconds``, plus ``cached`` telling whether it was loaded).
    """
    store = store or RunStore()
    splits = splits if splits is not None else load_data(config)
    model = new_model(config, splits.image_shape[0], allow_random_init)
    if recompute:
        if distributed.is_main():
            store.delete(HASH_KIND, config)
        distributed.barrier()
    if distributed.all_agree(store.has(HASH_KIND, config), device):
        model.load_state_dict(store.load_state_dict(HASH_KIND, config))
        record = dict(store.load_result(HASH_KIND, config), cached=True)
        return model.to(device).eval(), record
    model.to(device)
    hp = HashingParams.from_config(config["train"])
    checkpoint = store.path(HASH_KIND, config) / CHECKPOINT_NAME
    resumed = _finished_epochs(checkpoint)
    t0 = time.perf_counter()
    history = train_hashing(
        model, splits.train, config["method"], hp.epochs, hp.batch_size, hp.optimizer, hp.lr,
        hp.weight_decay, hp.lr_schedule, seed=config["seed"], device=device, progress=progress,
        loss_pairs=hp.loss_pairs or "seen", checkpoint=checkpoint, callback=callback,
        precision=hp.precision_policy(),
    )
    record = {"history": history, "train_seconds": time.perf_counter() - t0}
    if resumed:  # the whole training time: the epochs of earlier sessions too
        record.update(train_seconds=record["train_seconds"] + sum(r["seconds"] for r in history[:resumed]),
                      resumed_from_epoch=resumed)
    if distributed.is_main():
        store.save(HASH_KIND, config, state_dict=model.state_dict(), result=record)
        checkpoint.unlink(missing_ok=True)
    distributed.barrier()
    return model.eval(), dict(record, cached=False)


def evaluate_hashing(model, splits, topk: int | None, device="cpu", batch_size: int = 256) -> dict:
    """MAP@topk of the query set against the database (stable tie order), and
    the tie-aware (expected) MAP beside it."""
    q_codes, q_labels = encode(model, splits.query, batch_size, device)
    db_codes, db_labels = encode(model, splits.database, batch_size, device)
    return {
        "map": mean_average_precision(q_codes, db_codes, q_labels, db_labels, topk=topk),
        "map_expected": mean_average_precision(q_codes, db_codes, q_labels, db_labels, topk=topk, ties="expected"),
        "topk": topk,
    }


def train_and_evaluate(config: dict, store: RunStore | None = None, device="cpu", progress: bool = True,
                       recompute: bool = False, allow_random_init: bool = False, topk: int | None = 1000) -> dict:
    """Train (or load) the model of ``config`` and return its record with MAP@topk."""
    store = store or RunStore()
    splits = load_data(config)
    model, record = get_hash_model(config, splits, store, device, progress, recompute, allow_random_init)
    metrics = evaluate_hashing(model, splits, topk, device)
    return dict(record, **metrics)
