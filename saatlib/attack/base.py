"""What every attack shares: the context it may read, the call signature, its parameters."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from saatlib.attack.engine import LinfPGD, UpdateRule


@dataclass
class AttackContext:
    """Data an attack may use besides the model and the query batch.

    Attributes:
        train_codes: (N_train, K) in {-1, 1}, codes of the training set (DMFL, SDHA).
        train_labels: (N_train, C) in {0, 1}.
        db_codes: (N_db, K) in {-1, 1}, codes of the database (P2P / DHTA anchors).
        db_labels: (N_db, C) in {0, 1}.
        seed: seeds any randomness an attack needs besides the engine's generator
            (e.g. THA's PrototypeNet training, anchor sampling).
        train_images: (N_train, C, H, W) in [0, 1], the training images in the order of
            ``train_codes`` (None: not given; ProS-GAN trains its generator on them).
    All tensors live on one device, the attack's.
    """

    train_codes: torch.Tensor
    train_labels: torch.Tensor
    db_codes: torch.Tensor
    db_labels: torch.Tensor
    seed: int = 0
    train_images: torch.Tensor | None = None

    @property
    def bits(self) -> int:
        return self.train_codes.shape[1]

    def to(self, device) -> "AttackContext":
        return AttackContext(self.train_codes.to(device), self.train_labels.to(device),
                             self.db_codes.to(device), self.db_labels.to(device), self.seed,
                             None if self.train_images is None else self.train_images.to(device))


class DrawStub(nn.Module):
    """A stand-in hash model of negligible cost: x (B, C, H, W) -> tanh(alpha * mean(x) * s), (B, K),
    differentiable in x; :meth:`Attack.replay_draws` runs an attack on it to advance a generator."""

    def __init__(self, bits: int):
        super().__init__()
        self.bits = int(bits)
        self.register_buffer("signs", torch.where(torch.arange(self.bits) % 2 == 0, 1.0, -1.0).view(1, -1))

    def forward(self, x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        return torch.tanh(alpha * x.flatten(1).mean(1, keepdim=True) * self.signs.to(x.dtype))


def config_value(value: Any) -> Any:
    """A parameter value in JSON-ready form: an object with ``config()`` (an update rule) as that
    dict, a tuple (a schedule) as a list, anything else as it is."""
    if hasattr(value, "config"):
        return value.config()
    if isinstance(value, tuple):
        return [config_value(v) for v in value]
    return value


def schedule_param(schedule) -> tuple[float, ...] | None:
    """A tanh-scale schedule as a tuple of floats, or None (a = 1 throughout) for None or empty."""
    return tuple(float(a) for a in schedule) if schedule else None


def rule_param(rule: UpdateRule | None) -> UpdateRule:
    """An update rule (None: the plain signed gradient)."""
    if rule is None:
        return UpdateRule()
    if not isinstance(rule, UpdateRule):
        raise TypeError(f"rule must be an UpdateRule (see saatlib.attack.variants.make_rule), got {rule!r}")
    return rule


def set_params(params, **values) -> None:
    """Set normalised values on a frozen parameter dataclass (from its ``__post_init__``)."""
    for name, value in values.items():
        object.__setattr__(params, name, value)


def _param_property(name: str) -> property:
    def get(self):
        return getattr(self.params, name)

    def refuse(self, value):
        raise AttributeError(f"{type(self).__name__}.{name} is a frozen parameter: use attack.replace({name}=...) "
                             f"(a new attack) instead of assigning it")

    return property(get, refuse, doc=f"``params.{name}`` (read-only)")


class Attack:
    """Base class of hash-code attacks.

    An attack is called as ``attack(model, x, labels, context, generator)`` with
    x (B, C, H, W) in [0, 1] and labels (B, C): the query's own labels for a
    non-targeted attack, the target labels for a targeted one. It returns
    x_adv with ||x_adv - x||_inf <= eps and x_adv in [0, 1].

    ``reference_codes(labels, context)`` gives the codes a perfect attack would
    reach ((B, K) in {-1, 1}, or None): the "theory" MAP queries with their
    negation (non-targeted) or with them (targeted).
    ``prepare(model, context)`` runs once before the first call (e.g. THA
    trains its PrototypeNet); it is a no-op by default.

    Parameters: every hyper-parameter of an attack is a field of its frozen
    dataclass ``Params`` (validated in the dataclass's ``__post_init__``), held
    as ``attack.params`` and nothing else: ``Attack(params)`` or
    ``Attack(**overrides)`` (fields replaced on :meth:`default_params`);
    every field reads as a read-only attribute (``attack.eps``), and
    :meth:`replace` makes a new attack with some fields changed. Anything the
    attack computes from them (its PGD engine, its name) is built at call
    time. :meth:`config` returns all of them, JSON-ready; the run store writes it into its key
    (:func:`saatlib.experiments.keys.attack_key_config`).
    """

    name = "attack"
    paper = ""
    targeted = False
    #: whether a call draws from its ``generator`` (False: :meth:`replay_draws` has nothing to do)
    uses_generator: ClassVar[bool] = True
    #: the frozen dataclass of the attack's hyper-parameters (set by every subclass)
    Params: ClassVar[type | None] = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        params = cls.__dict__.get("Params")
        if params is None:
            return
        if not (dataclasses.is_dataclass(params) and params.__dataclass_params__.frozen):
            raise TypeError(f"{cls.__name__}.Params must be a frozen dataclass, got {params!r}")
        for f in dataclasses.fields(params):
            if f.name not in cls.__dict__:
                setattr(cls, f.name, _param_property(f.name))

    def __init__(self, params=None, /, **overrides) -> None:
        if self.Params is None:
            raise TypeError(f"{type(self).__name__} defines no Params dataclass")
        if params is not None and not isinstance(params, self.Params):
            raise TypeError(f"{type(self).__name__} takes a {self.Params.__name__} (or keyword parameters), "
                            f"got {params!r}")
        known = {f.name for f in dataclasses.fields(self.Params)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no parameter {unknown[0]!r}; its parameters: {sorted(known)}")
        if params is None:
            self.params = self.default_params(**overrides)
        else:
            self.params = dataclasses.replace(params, **overrides) if overrides else params

    @classmethod
    def default_params(cls, **overrides):
        """The parameters of ``cls(**overrides)``: the dataclass's defaults (unless the class says otherwise)
        with ``overrides`` (a field without a default, such as a budget the profile gives, must be among them)."""
        return cls.Params(**overrides)

    def replace(self, **changes) -> "Attack":
        """A new attack of the same class with the fields ``changes`` replaced (validated again)."""
        return type(self)(dataclasses.replace(self.params, **changes))

    def prepare(self, model, context: AttackContext) -> None:
        pass

    def reference_codes(self, labels: torch.Tensor, context: AttackContext) -> torch.Tensor | None:
        return None

    def reference_codes_of(self, x: torch.Tensor, labels: torch.Tensor,
                           context: AttackContext) -> torch.Tensor | None:
        """The reference codes of the queries x (B, C, H, W) with ``labels``: those of
        :meth:`reference_codes` unless the attack's targets depend on the query itself
        (P2P and DHTA with per-query anchors)."""
        return self.reference_codes(labels, context)

    def __call__(self, model, x, labels, context: AttackContext, generator=None) -> torch.Tensor:
        raise NotImplementedError

    def replay_draws(self, x: torch.Tensor, labels: torch.Tensor, context: AttackContext,
                     generator: torch.Generator | None) -> None:
        """Advance ``generator`` exactly as ``self(model, x, labels, context, generator)`` would, without
        attacking: for the query batches another process attacks (:func:`saatlib.attack.evaluate.attack_queries`
        under ``torchrun``), so every batch starts from the generator state of a single process.

        By default the attack runs on a :class:`DrawStub` (its draws depend on shapes only, never on
        the model's outputs, for every attack here); attacks override it with something cheaper."""
        if not self.uses_generator or generator is None:
            return
        self(DrawStub(context.bits).to(x.device), x, labels, context.to(x.device), generator)

    def config(self) -> dict:
        """Every hyper-parameter, JSON-ready: one entry per field of ``Params``, an update rule as its
        name and parameters (``{"name": "VMI-FGSM", "eps": None, "n": 5, "beta": 1.5, "decay": 1.0}``),
        a schedule as a list."""
        return {f.name: config_value(getattr(self.params, f.name)) for f in dataclasses.fields(self.params)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


class EngineAttack(Attack):
    """An attack run by the PGD engine (SAAT, P2P, DHTA, THA): its ``Params`` has ``eps``, ``step_size``,
    ``steps``, ``random_start``, ``schedule`` and ``rule``, and :meth:`engine` builds the
    :class:`~saatlib.attack.engine.LinfPGD` of them at every call."""

    def engine(self) -> LinfPGD:
        """The PGD engine of these parameters (built at every call)."""
        p = self.params
        return LinfPGD(p.eps, p.step_size, p.steps, p.random_start, p.schedule, p.rule)

    def replay_draws(self, x, labels, context, generator) -> None:
        """The engine's draws (the random start) when its rule is the plain one, else the default."""
        if generator is None or not self.engine().replay_draws(x, generator):
            super().replay_draws(x, labels, context, generator)
