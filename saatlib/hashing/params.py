"""The training hyper-parameters of a hash model: one frozen, validated dataclass.

:class:`HashingParams` holds every setting :func:`saatlib.hashing.train.train_hashing` and the model
builder read (backbone, widths, epochs, batch size, optimiser, learning rate and its schedule,
weight decay, ImageNet weights, which pairs a pairwise loss averages over, numeric precision). It is
built from a profile's ``hashing`` section and the caller's overrides
(:func:`saatlib.experiments.hash_models.hashing_config`), checks every value in ``__post_init__``
(a bad one is refused with a message naming the field and what to pass), and
:meth:`HashingParams.config` gives the ``train`` section of the hash-model config, JSON-ready.

Values are kept as given (an ``lr`` of ``1`` stays the integer 1): the run store keys a model by
the JSON of its config, so a converted value would be a new key. ``widths`` (a sequence) is held as a
tuple and written as a list, which is the same JSON.

The checks are :mod:`saatlib.primitives`'s (:func:`~saatlib.primitives.check_number`,
:func:`~saatlib.primitives.check_int`, :func:`~saatlib.primitives.check_choice`,
:func:`~saatlib.primitives.check_bool`), shared with :mod:`saatlib.defense.params`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from saatlib.compute import Precision
from saatlib.hashing.losses.base import HashLoss
from saatlib.models.backbones import BACKBONES
from saatlib.primitives import check_bool, check_choice, check_int, check_number
from saatlib.schedules import LR_SCHEDULES

OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True, kw_only=True)
class HashingParams:
    """Training hyper-parameters of a hash model (the ``train`` section of its config).

    Attributes:
        backbone: a name of :data:`saatlib.models.backbones.BACKBONES` (``smallcnn``: the CPU-sized CNN).
        widths: channels of ``smallcnn``'s three blocks (None: its default; the ImageNet backbones take none).
        epochs: training epochs (>= 1).
        batch_size: the (global) training batch (>= 1).
        optimizer: ``"sgd"`` (momentum 0.9) or ``"adam"``.
        lr: the learning rate (> 0).
        weight_decay: the optimiser's L2 weight decay (>= 0).
        lr_schedule: ``"thirds"``, ``"cosine"`` or ``"none"`` (:func:`saatlib.schedules.lr_factor`);
            None: ``"thirds"`` with SGD (the released code), ``"none"`` with Adam.
        pretrained: ImageNet weights for the torchvision backbones; None: True for them, False for
            ``smallcnn`` (which has none).
        loss_pairs: ``"seen"`` or ``"all"`` (:class:`saatlib.hashing.losses.base.HashLoss`); None: not
            set, the losses' ``"seen"``.
        precision: bf16 autocast / channels-last of the forward passes, as
            :meth:`saatlib.compute.Precision.key` writes it (None: float32); a
            :class:`~saatlib.compute.Precision` is taken too and held as its key.

    ``None`` of ``widths``, ``loss_pairs`` and ``precision`` means "not set": :meth:`config` writes it
    as None and the run store leaves such an entry out of the key
    (:data:`saatlib.experiments.keys.ONLY_WHEN_SET`), as runs stored before the setting existed had it.
    """

    backbone: str = "smallcnn"
    widths: tuple[int, ...] | None = None
    epochs: int
    batch_size: int
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_schedule: str | None = None
    pretrained: bool | None = None
    loss_pairs: str | None = None
    precision: dict | None = None

    def __post_init__(self) -> None:
        where = " (the profile's hashing section, or an override of hashing_config)"
        check_choice(self.backbone, "backbone", BACKBONES, where)
        if self.widths is not None:
            # not refused with another backbone: a smallcnn profile's widths stay in the config of a backbone
            # override (stored keys hold them); building such a model refuses them (build_backbone)
            if isinstance(self.widths, (str, bytes)) or not hasattr(self.widths, "__len__") or len(self.widths) != 3:
                raise ValueError(f"widths must be the channels of smallcnn's 3 blocks, e.g. [16, 32, 64], "
                                 f"got {self.widths!r}")
            for w in self.widths:
                check_int(w, "every entry of widths", 1, " (channels of a smallcnn block)")
            object.__setattr__(self, "widths", tuple(self.widths))
        check_int(self.epochs, "epochs", 1, where)
        check_int(self.batch_size, "batch_size", 1, where)
        check_choice(self.optimizer, "optimizer", OPTIMIZERS, where)
        check_number(self.lr, "lr", strict=True, hint=where)
        check_number(self.weight_decay, "weight_decay", hint=where)
        if self.lr_schedule is None:  # the released code's step decay with SGD, a constant rate with Adam
            object.__setattr__(self, "lr_schedule", "thirds" if self.optimizer == "sgd" else "none")
        check_choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES, " (None: 'thirds' with SGD, 'none' with Adam)")
        if self.pretrained is None:  # ImageNet weights for the torchvision backbones; smallcnn has none
            object.__setattr__(self, "pretrained", self.backbone != "smallcnn")
        check_bool(self.pretrained, "pretrained", " (ImageNet weights of a torchvision backbone)")
        if self.loss_pairs is not None:
            check_choice(self.loss_pairs, "loss_pairs", HashLoss.PAIRS, " (None: not set, 'seen')")
        if self.precision is not None:
            try:
                key = Precision.of(self.precision).key()
            except (TypeError, ValueError) as e:
                raise ValueError(f"precision must be a saatlib.compute.Precision or its key dict (e.g. "
                                 f"{{'autocast': 'bf16'}}), or None for float32, got {self.precision!r} ({e})") from e
            object.__setattr__(self, "precision", key)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_config(cls, train: dict) -> "HashingParams":
        """The parameters of a config's ``train`` section (entries left out are unset); unknown keys are an error."""
        unknown = sorted(set(train) - set(cls.field_names()))
        if unknown:
            raise ValueError(f"unknown hashing hyper-parameter {unknown[0]!r}; known: {sorted(cls.field_names())}")
        return cls(**train)

    def config(self) -> dict:
        """Every field, JSON-ready (``widths`` as a list), in field order: the ``train`` section of the
        hash-model config (the run store leaves out the unset entries, see the class docstring)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if out["widths"] is not None:
            out["widths"] = list(out["widths"])
        return out

    def precision_policy(self) -> Precision:
        """:attr:`precision` as a :class:`saatlib.compute.Precision`."""
        return Precision.of(self.precision)
