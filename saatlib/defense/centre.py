"""Adversarial training against a label-derived code centre: what SAAT and CgAT share.

Every batch (x, y, idx): c = centre(y) from the labels and the current training
codes U_ben; x_adv = PGD descending mean(h_adv . c); h_adv = f(x_adv), h = f(x)
(train mode); U_ben[idx] = sign(h); c recomputed; the outer loss

    L = L_hash(h) + lambda * (-mean(h_adv . c)) + mu * mean((h_adv - sign(h_adv))^2).

SAAT's centre is the DMFL mainstay code (:mod:`saatlib.defense.saat`), CgAT's
the equal-weight one (:mod:`saatlib.defense.cgat`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from saatlib.defense.common import Defense
from saatlib.defense.params import DefenseParams
from saatlib.primitives import check_choice, check_number

#: ``code_buffer`` values: "signed" (library default) or "aliased" (the released scripts)
CODE_BUFFERS = ("signed", "aliased")


@dataclass(frozen=True, kw_only=True)
class CentreParams(DefenseParams):
    """SAAT's and CgAT's parameters besides the common ones (:class:`saatlib.defense.params.DefenseParams`).

    Attributes:
        lambda_: weight of the centre term (config entry ``lambda``; >= 0).
        mu: weight of the quantisation gap of h_adv (>= 0).
        momentum: SGD momentum, in [0, 1).
        weight_decay: SGD weight decay (>= 0).
        code_buffer: ``"signed"`` or ``"aliased"`` (the released scripts; see :mod:`saatlib.defense.saat`).
    """

    lambda_: float = field(default=1.0, metadata={"key": "lambda"})
    mu: float = 0.0
    momentum: float = 0.0
    weight_decay: float = 0.0
    code_buffer: str = "signed"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number(self.lambda_, "lambda")
        check_number(self.mu, "mu")
        check_number(self.momentum, "momentum", high=1.0)
        check_number(self.weight_decay, "weight_decay")
        check_choice(self.code_buffer, "code_buffer", CODE_BUFFERS, " ('aliased': the released scripts)")


def code_alignment(h: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """mean(h . c) over the batch and bits (in [-1, 1]); the adversary descends it."""
    return (h * centre).mean()


def quantization_gap(h: torch.Tensor) -> torch.Tensor:
    """mean((h - sign(h))^2)."""
    return (h - torch.sign(h)).square().mean()


class CentreDefense(Defense):
    """Adversarial training against a code centre computed from the labels
    and the current training codes (shared by SAAT and CgAT).

    Subclasses set :meth:`centres`; loss = L_hash + lambda * (-mean(h_adv . c))
    + mu * quantisation gap of h_adv. Optimiser: SGD(lr, momentum, weight_decay).
    ``code_buffer`` ("signed" or "aliased"): see :mod:`saatlib.defense.saat`.
    """

    Params = CentreParams
    CODE_BUFFERS = CODE_BUFFERS

    def centres(self, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def setup(self) -> None:
        p = self.params
        if p.code_buffer == "aliased" and getattr(self.loss_fn, "uses_buffers", False):
            # one tensor, as the released script: U_ben[idx] = sign(h) is overwritten by the
            # loss's U[idx] = h (relaxed) in the same step, and later centres read it
            self.codes = self.loss_fn.U
        self.opt = torch.optim.SGD(self.model.parameters(), lr=p.lr, momentum=p.momentum,
                                   weight_decay=p.weight_decay)

    def optimizers(self):
        return {"model": self.opt}

    def train_step(self, x, y, idx, step):
        p = self.params
        centre = self.centres(y)
        x_adv = self.perturb(x, lambda h: code_alignment(h, centre))
        self.model.train()
        h_adv = self.model(x_adv)
        h = self.model(x)
        self.update_codes(*self.gathered(h, idx))
        centre = self.centres(y)
        self.share_loss_buffers(h, y, idx)
        hash_loss, _ = self.loss_fn(h, y, idx, step)
        adv = -code_alignment(h_adv, centre)
        quant = quantization_gap(h_adv)
        loss = hash_loss + p.lambda_ * adv + p.mu * quant
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.step(self.opt)
        return {"loss": loss.detach(), "hash": hash_loss.detach(), "adv": adv.detach(), "quant": quant.detach()}
