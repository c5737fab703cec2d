"""THA (Wang et al., "Targeted Attack and Defense for Deep Hashing", SIGIR 2021).

Targeted, called with the TARGET labels. ``prepare`` trains a PrototypeNet
(:mod:`saatlib.attack.prototype`) on the context (training codes and labels,
unique database label vectors, ``context.seed``) and caches it on the attack;
the prototype code of a target label, sign(pnet(y_t)), is both the attack's
target and its ``reference_codes`` ("theory" t-MAP). The attack is then the
DHTA loop: minimise -mean(h_adv * prototype) with signed-gradient PGD, eps 8/255,
step 1/255, 100 iterations, no random start, the tanh-scale schedule.
"""
from __future__ import annotations

import torch

from saatlib.attack.anchor import target_code_loss
from saatlib.attack.base import Attack, AttackContext
from saatlib.attack.engine import SAAT_SCHEDULE, LinfPGD, UpdateRule
from saatlib.attack.prototype import PrototypeNet, prototype_codes, train_prototype_net
from saatlib.primitives import check_budget, check_positive


def _fingerprint(t: torch.Tensor) -> tuple:
    # identity, shape and in-place version: changes whenever the tensor is replaced or modified
    return (t.data_ptr(), tuple(t.shape), t.dtype, str(t.device), t._version)


class THAAttack(Attack):
    """Prototype-code targeted attack.

    Args:
        eps: l_inf budget (8/255). step_size: (1/255). steps: (100).
        random_start: (released: no). rule: engine update rule (default signed gradient).
        pnet_steps: PrototypeNet training steps (released 100 x 300 = 30000).
        pnet_batch_size: label vectors per PrototypeNet step (32).
        pnet_lr: Adam learning rate of the PrototypeNet (1e-4; betas (0.5, 0.999)).
    """

    name = "THA"
    paper = "Wang et al., Targeted Attack and Defense for Deep Hashing, SIGIR 2021"
    targeted = True

    def __init__(self, eps: float = 8 / 255, step_size: float = 1 / 255, steps: int = 100,
                 random_start: bool = False, rule: UpdateRule | None = None, pnet_steps: int = 30000,
                 pnet_batch_size: int = 32, pnet_lr: float = 1e-4):
        self.eps, self.steps = check_budget(eps, steps)
        self.step_size = check_positive(step_size, "step_size")
        self.random_start = bool(random_start)
        if isinstance(pnet_steps, bool) or int(pnet_steps) != pnet_steps or pnet_steps < 0:
            raise ValueError(f"pnet_steps must be a non-negative integer, got {pnet_steps!r}")
        self.pnet_steps = int(pnet_steps)
        if isinstance(pnet_batch_size, bool) or int(pnet_batch_size) != pnet_batch_size or pnet_batch_size < 1:
            raise ValueError(f"pnet_batch_size must be a positive integer, got {pnet_batch_size!r}")
        self.pnet_batch_size = int(pnet_batch_size)
        self.pnet_lr = check_positive(pnet_lr, "pnet_lr")
        self.rule = rule
        self.engine = LinfPGD(self.eps, self.step_size, self.steps, self.random_start, SAAT_SCHEDULE, rule)
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
        return self.engine.perturb(model, x, lambda h: target_code_loss(h, target), generator, record)
