"""ATRDH: adversarial training against targeted attacks (Wang et al., SIGIR 2021 — THA's defense).

The SAAT paper's baseline, as in the released SAAT code (``atrdh.py``), every
batch (x, y, idx):

1. h = f(x) (train mode); B[idx] = sign(h) (signed training codes);
2. a PrototypeNet step (trained jointly): target labels drawn uniformly from the
   unique database label vectors, circle loss (m = 0, gamma = 1) against the
   signed training codes plus the 1e-4 quantisation term
   (:func:`saatlib.attack.prototype.prototype_loss`), Adam 1e-4 (0.5, 0.999);
3. inner attack: PGD (eps 8/255, step 2/255, 7 iterations, random start)
   *targeted* at the prototype codes sign(pnet(y_t)) (descending
   -mean(h_adv . code)), with the prototype outputs of step 2 (before its update);
4. U[idx] = h (relaxed benign outputs; U starts at zero as in the released code,
   so items not yet visited contribute a constant);
5. loss = L_hash(h) + 2 * sum((h_adv . U^T / K - S)^2) / (B N), S in {-1, 1}
   the label similarity of the batch to all N training items;
   Adam lr 1e-4, betas (0.5, 0.999) for the hash model too; lr x0.1 at 1/2
   and 3/4 of all steps (both networks); 100 epochs of batch 32 in the paper.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from saatlib import distributed

from saatlib.attack.prototype import PrototypeNet, prototype_loss
from saatlib.hashing import binarize
from saatlib.hashing.losses import similarity
from saatlib.seeding import seeded
from saatlib.defense.common import Defense
from saatlib.defense.params import DefenseParams
from saatlib.primitives import check_number


@dataclass(frozen=True, kw_only=True)
class ATRDHParams(DefenseParams):
    """ATRDH's parameters (released defaults): ``epochs`` 100, ``lr`` 1e-4 (both networks), ``betas``
    (0.5, 0.999) (Adam's, both in [0, 1)), ``adv_weight`` 2, ``circle_gamma`` 1, ``pnet_quant_weight``
    1e-4 (all >= 0), plus the common ones (:class:`saatlib.defense.params.DefenseParams`)."""

    defense: ClassVar[str] = "ATRDH"

    epochs: int = 100
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    adv_weight: float = 2.0
    circle_gamma: float = 1.0
    pnet_quant_weight: float = 1e-4

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.betas, (str, bytes)) or not hasattr(self.betas, "__len__") or len(self.betas) != 2:
            raise ValueError(f"betas must be Adam's two decay rates, e.g. [0.5, 0.999], got {self.betas!r}")
        for beta in self.betas:
            check_number(beta, "every entry of betas", high=1.0, hint=" (Adam's decay rates)")
        object.__setattr__(self, "betas", tuple(self.betas))
        check_number(self.adv_weight, "adv_weight")
        check_number(self.circle_gamma, "circle_gamma")
        check_number(self.pnet_quant_weight, "pnet_quant_weight")


class ATRDHDefense(Defense):
    """ATRDH (see the module docstring; parameters: :class:`ATRDHParams`).
    Needs ``database_labels`` (targets are drawn from their unique rows)."""

    name = "ATRDH"
    Params = ATRDHParams

    def setup(self) -> None:
        p = self.params
        if self.database_labels is None:
            raise ValueError("ATRDH draws its target labels from the database: pass database_labels")
        self.targets = torch.unique(self.database_labels.float(), dim=0).to(self.device)
        with seeded(self.seed):
            self.pnet = PrototypeNet(self.labels.shape[1], self.codes.shape[1]).to(self.device)
        betas = tuple(p.betas)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=p.lr, betas=betas)
        self.opt_p = torch.optim.Adam(self.pnet.parameters(), lr=p.lr, betas=betas)
        self.draws = torch.Generator().manual_seed(self.seed + 1)
        self.u_relaxed = torch.zeros_like(self.codes)

    def optimizers(self):
        return {"model": self.opt, "pnet": self.opt_p}

    def extra_state(self) -> dict:
        return {"pnet": self.pnet.state_dict(), "draws": self.draws.get_state(), "u_relaxed": self.u_relaxed}

    def load_extra_state(self, state: dict) -> None:
        self.pnet.load_state_dict(state["pnet"])
        self.draws.set_state(state["draws"])
        self.u_relaxed.copy_(state["u_relaxed"].to(self.device))

    def train_step(self, x, y, idx, step):
        p = self.params
        self.model.train()
        h = self.model(x)
        h_all, idx_all = self.gathered(h, idx)
        self.update_codes(h_all, idx_all)
        # the targets and the PrototypeNet step of the global batch, identical on every rank
        world, b = distributed.world_size(), x.shape[0]
        pick = torch.randint(self.targets.shape[0], (b * world,), generator=self.draws).to(self.device)
        target_labels = self.targets[pick]
        self.pnet.train()
        hp = self.pnet(target_labels)
        loss_p = prototype_loss(hp, target_labels, self.codes, self.labels, p.circle_gamma,
                                p.pnet_quant_weight, drop_lower_triangle=True)
        self.opt_p.zero_grad(set_to_none=True)
        loss_p.backward()
        self.opt_p.step()
        proto = binarize(hp.detach())[distributed.rank() * b:(distributed.rank() + 1) * b]
        x_adv = self.perturb(x, lambda ha: -(ha * proto).mean())
        self.model.train()
        h_adv = self.model(x_adv)
        self.u_relaxed[idx_all] = h_all.detach()
        self.share_loss_buffers(h, y, idx)
        hash_loss, _ = self.loss_fn(h, y, idx, step)
        s = 2 * similarity(y, self.labels) - 1
        k, n = h.shape[1], self.codes.shape[0]
        adv = p.adv_weight * ((h_adv @ self.u_relaxed.t() / k - s).square().sum() / (x.shape[0] * n))
        loss = hash_loss + adv
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.step(self.opt)
        return {"loss": loss.detach(), "hash": hash_loss.detach(), "adv": adv.detach(), "pnet": loss_p.detach()}
