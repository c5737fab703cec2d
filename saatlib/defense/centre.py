"""Adversarial training against a label-derived code centre: what SAAT and CgAT share.

Every batch (x, y, idx): c = centre(y) from the labels and the current training
codes U_ben; x_adv = PGD descending mean(h_adv . c); h_adv = f(x_adv), h = f(x)
(train mode); U_ben[idx] = sign(h); c recomputed; the outer loss

    L = L_hash(h) + lambda * (-mean(h_adv . c)) + mu * mean((h_adv - sign(h_adv))^2).

SAAT's centre is the DMFL mainstay code (:mod:`saatlib.defense.saat`), CgAT's
the equal-weight one (:mod:`saatlib.defense.cgat`).
"""
from __future__ import annotations

import torch

from saatlib.defense.common import Defense


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

    defaults = {"code_buffer": "signed"}
    CODE_BUFFERS = ("signed", "aliased")

    def centres(self, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def setup(self) -> None:
        p = self.params
        if p["code_buffer"] not in self.CODE_BUFFERS:
            raise ValueError(f"code_buffer must be one of {self.CODE_BUFFERS} ('aliased': the released scripts), "
                             f"got {p['code_buffer']!r}")
        if p["code_buffer"] == "aliased" and getattr(self.loss_fn, "uses_buffers", False):
            # one tensor, as the released script: U_ben[idx] = sign(h) is overwritten by the
            # loss's U[idx] = h (relaxed) in the same step, and later centres read it
            self.codes = self.loss_fn.U
        self.opt = torch.optim.SGD(self.model.parameters(), lr=p["lr"], momentum=p["momentum"],
                                   weight_decay=p["weight_decay"])

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
        loss = hash_loss + p["lambda"] * adv + p["mu"] * quant
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.step(self.opt)
        return {"loss": loss.detach(), "hash": hash_loss.detach(), "adv": adv.detach(), "quant": quant.detach()}
