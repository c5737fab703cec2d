"""What every attack shares: the context it may read and the call signature."""
from __future__ import annotations

from dataclasses import dataclass

import torch


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
    All tensors live on one device, the attack's.
    """

    train_codes: torch.Tensor
    train_labels: torch.Tensor
    db_codes: torch.Tensor
    db_labels: torch.Tensor
    seed: int = 0

    @property
    def bits(self) -> int:
        return self.train_codes.shape[1]

    def to(self, device) -> "AttackContext":
        return AttackContext(self.train_codes.to(device), self.train_labels.to(device),
                             self.db_codes.to(device), self.db_labels.to(device), self.seed)


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
    """

    name = "attack"
    paper = ""
    targeted = False
    eps: float = 8 / 255

    def prepare(self, model, context: AttackContext) -> None:
        pass

    def reference_codes(self, labels: torch.Tensor, context: AttackContext) -> torch.Tensor | None:
        return None

    def __call__(self, model, x, labels, context: AttackContext, generator=None) -> torch.Tensor:
        raise NotImplementedError

    def config(self) -> dict:
        """Hyper-parameters that identify this attack in the run store."""
        return {k: v for k, v in vars(self).items() if isinstance(v, (int, float, str, bool, type(None)))}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"
