"""THA (Wang et al., "Targeted Attack and Defense for Deep Hashing", SIGIR 2021).

Targeted, called with the TARGET labels. ``prepare`` trains a PrototypeNet
(:mod:`saatlib.attack.prototype`) on the context (training codes and labels,
unique database label vectors, ``context.seed``) and caches it on the attack;
the prototype code of a target label, sign(pnet(y_t)), is both the attack's
target and its ``reference_codes`` ("theory" t-MAP). The attack is then the
DHTA loop: minimise -mean(h_adv * prototype) with signed-gradient PGD, eps 8/255,
step 1/255, 100 iterations, no random start, the tanh-scale schedule (:class:`THAParams`).
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import torch

from saatlib.attack.anchor import target_code_loss
from saatlib.attack.base import AttackContext, EngineAttack, rule_param, schedule_param, set_params
from saatlib.attack.engine import SAAT_SCHEDULE, UpdateRule
from saatlib.attack.prototype import PrototypeNet, prototype_codes, train_prototype_net
from saatlib.primitives import check_budget, check_positive
from saatlib.profiles import default_attack_setting


def _fingerprint(t: torch.Tensor) -> tuple:
    # identity, shape and in-place version: changes whenever the tensor is replaced or modified
    return (t.data_ptr(), tuple(t.shape), t.dtype, str(t.device), t._version)


@dataclasses.dataclass(frozen=True, kw_only=True)
class THAParams:
    """Hyper-parameters of :class:`THAAttack`.

    Args:
        eps: l_inf budget, steps (default: the default profile's; released 8/255, 100). step_size: (1/255).
        random_start: (released: no). rule: engine update rule (default: the signed gradient).
        schedule: tanh scale a by tenths of the run (released: :data:`SAAT_SCHEDULE`; None: a = 1).
        pnet_steps: PrototypeNet training steps (released 100 x 300 = 30000).
        pnet_batch_size: label vectors per PrototypeNet step (32; released 128: the released ``tha.py``
            draws ``--batch_size`` labels, 128 in ``attack.py``; 32 is ATRDH's. The ``paper`` profile uses 128).
        pnet_lr: Adam learning rate of the PrototypeNet (1e-4; betas (0.5, 0.999)).
    """

    eps: float = default_attack_setting("THA", "eps")  # the default profile's budget
    step_size: float = 1 / 255
    steps: int = default_attack_setting("THA", "steps")
    random_start: bool = False
    rule: UpdateRule = dataclasses.field(default_factory=UpdateRule)
    schedule: Sequence[float] | None = SAAT_SCHEDULE
    pnet_steps: int = 30000
    pnet_batch_size: int = 32
    pnet_lr: float = 1e-4

    def __post_init__(self) -> None:
        eps, steps = check_budget(self.eps, self.steps)
        if isinstance(self.pnet_steps, bool) or int(self.pnet_steps) != self.pnet_steps or self.pnet_steps < 0:
            raise ValueError(f"pnet_steps must be a non-negative integer, got {self.pnet_steps!r}")
        batch = self.pnet_batch_size
        if isinstance(batch, bool) or int(batch) != batch or batch < 1:
            raise ValueError(f"pnet_batch_size must be a positive integer, got {batch!r}")
        set_params(self, eps=eps, steps=steps, step_size=check_positive(self.step_size, "step_size"),
                   random_start=bool(self.random_start), rule=rule_param(self.rule),
                   schedule=schedule_param(self.schedule), pnet_steps=int(self.pnet_steps),
                   pnet_batch_size=int(batch), pnet_lr=check_positive(self.pnet_lr, "pnet_lr"))


class THAAttack(EngineAttack):
    """Prototype-code targeted attack (parameters: :class:`THAParams`)."""

    Params = THAParams
    name = "THA"
    paper = "Wang et al., Targeted Attack and Defense for Deep Hashing, SIGIR 2021"
    targeted = True

    def __init__(self, params: THAParams | None = None, /, **overrides) -> None:
        super().__init__(params, **overrides)
        self._pnet: PrototypeNet | None = None
        self._pnet_key: tuple | None = None

    @property
    def pnet(self) -> PrototypeNet | None:
        """The cached PrototypeNet (None before :meth:`prepare`)."""
        return self._pnet

    def _context_key(self, context: AttackContext) -> tuple:
        return (context.seed, self.pnet_steps, self.pnet_batch_size, self.pnet_lr,
                _fingerprint(context.train_codes), _fingerprint(context.train_labels),
                _fingerprint(context.db_labels))

    def prepare(self, model, context: AttackContext) -> None:
        """Train the PrototypeNet on ``context`` (skipped when already trained on this very context)."""
        key = self._context_key(context)
        if self._pnet is not None and key == self._pnet_key:
            return
        self._pnet = train_prototype_net(context.train_codes, context.train_labels, context.db_labels,
                                         steps=self.pnet_steps, batch_size=self.pnet_batch_size,
                                         lr=self.pnet_lr, seed=context.seed)
        self._pnet_key = key

    def reference_codes(self, labels: torch.Tensor, context: AttackContext) -> torch.Tensor:
        self.prepare(None, context)
        return prototype_codes(self._pnet, labels).to(labels.device)

    def __call__(self, model, x, labels, context: AttackContext, generator=None, record: bool = False):
        target = self.reference_codes(labels.to(x.device), context).to(x.device)
        return self.engine().perturb(model, x, lambda h: target_code_loss(h, target), generator, record)
