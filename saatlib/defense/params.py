"""The hyper-parameters of a defense: frozen, validated dataclasses (reference section 4).

:class:`DefenseParams` holds what every defense has: its inner PGD's budget (``eps``, ``step_size``,
``steps``, pixels of [0, 1]; no default here, the default profile's is filled in by :meth:`DefenseParams.resolve`,
:func:`saatlib.profiles.defense_budget`), ``random_start``, ``attack_mode``, ``batch_size``, ``epochs``,
``lr`` and the step schedule (``milestones``, ``lr_gamma``). Each defense subclasses it with its own fields
and paper defaults (``SAATDefense.Params`` = :class:`saatlib.defense.saat.SAATParams`,
:class:`saatlib.defense.cgat.CgATParams`, :class:`saatlib.defense.atrdh.ATRDHParams`; SAAT's and CgAT's
shared fields in :class:`saatlib.defense.centre.CentreParams`). ``__post_init__`` checks every value and
refuses a bad one with a message naming the field.

A field's name in the config is the field's own, except where Python forbids it: ``lambda`` is the
field ``lambda_`` (its ``metadata["key"]`` names the config entry). :meth:`DefenseParams.config` gives
the ``params`` of the defense config, JSON-ready (``milestones``, ``betas`` as lists); the run store
keys a defended model by it, so values are kept as given (an ``lr`` of ``1`` stays the integer 1).
"""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar

from saatlib.primitives import check_bool, check_choice, check_int, check_number
from saatlib.profiles import defense_budget

#: the model's mode during the inner PGD: "eval" (the attack engine's) or "train" (the released code)
ATTACK_MODES = ("eval", "train")


def config_key(f: dataclasses.Field) -> str:
    """The config entry of a field: ``metadata["key"]`` (``lambda`` for ``lambda_``), else its name."""
    return f.metadata.get("key", f.name)


def check_fractions(value: Any, name: str) -> tuple:
    """A sequence of numbers in [0, 1] as a tuple."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name} must be a list of fractions of all optimiser steps in [0, 1] "
                         f"(e.g. [0.5, 0.75]), got {value!r}")
    value = tuple(value)
    for v in value:
        if not (isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 <= v <= 1):
            raise ValueError(f"every entry of {name} must be a fraction of all optimiser steps in [0, 1], "
                             f"got {v!r} in {name}={list(value)!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class DefenseParams:
    """What every defense has (its subclasses add their own fields and paper defaults).

    Attributes:
        eps, step_size, steps: the inner PGD's budget (pixels of [0, 1]; >= 0, ``steps`` an integer).
        random_start: start the inner PGD uniformly in the eps-ball.
        attack_mode: the model's mode during the inner PGD, ``"eval"`` or ``"train"`` (the released code).
        batch_size: the training batch (an integer >= 2).
        epochs: training epochs (an integer >= 1).
        lr: the learning rate (> 0), multiplied by ``lr_gamma`` at each of ``milestones`` (fractions of
            all optimiser steps, :func:`saatlib.schedules.multistep_factor`).
    """

    #: the defense's name in messages (set by each subclass)
    defense: ClassVar[str] = "defense"

    epochs: int
    lr: float
    eps: float
    step_size: float
    steps: int
    random_start: bool = True
    attack_mode: str = "eval"
    batch_size: int = 32
    milestones: tuple[float, ...] = (0.5, 0.75)
    lr_gamma: float = 0.1

    def __post_init__(self) -> None:
        # epochs and batch_size first, with the messages they always had
        if not (isinstance(self.epochs, int) and not isinstance(self.epochs, bool) and self.epochs >= 1):
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        if not (isinstance(self.batch_size, int) and not isinstance(self.batch_size, bool) and self.batch_size >= 2):
            raise ValueError(f"batch_size must be an integer >= 2, got {self.batch_size!r}")
        check_number(self.lr, "lr", strict=True)
        check_number(self.eps, "eps", hint=f" (pixels in [0, 1]; 8/255 = {8 / 255:.4f})")
        check_number(self.step_size, "step_size", hint=f" (pixels in [0, 1]; 2/255 = {2 / 255:.4f})")
        check_int(self.steps, "steps", 0, " (inner PGD steps)")
        check_bool(self.random_start, "random_start")
        check_choice(self.attack_mode, "attack_mode", ATTACK_MODES, " ('train': the released code)")
        object.__setattr__(self, "milestones", check_fractions(self.milestones, "milestones"))
        check_number(self.lr_gamma, "lr_gamma", strict=True)

    @classmethod
    def keys(cls) -> dict[str, str]:
        """``{config entry: field name}`` of every field."""
        return {config_key(f): f.name for f in dataclasses.fields(cls)}

    @classmethod
    def resolve(cls, values: dict | None = None) -> "DefenseParams":
        """The parameters of ``values`` (config entries, e.g. ``{"lambda": 2.0}``; None values ignored) over the
        class's defaults, the inner PGD budget defaulting to the default profile's; unknown keys are an error."""
        keys = cls.keys()
        kwargs = dict(defense_budget())
        for key, value in (values or {}).items():
            if key not in keys:
                raise ValueError(f"unknown {cls.defense} hyper-parameter {key!r}; known: {sorted(keys)}")
            if value is not None:
                kwargs[keys[key]] = value
        return cls(**kwargs)

    def config(self) -> dict:
        """Every field by its config entry, JSON-ready (tuples as lists): the ``params`` of the defense config."""
        return {config_key(f): _json(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _json(value: Any) -> Any:
    return [_json(v) for v in value] if isinstance(value, tuple) else value
