"""SAAT adversarial training: the semantic-aware minimax (Yuan et al., IEEE TIFS 2023, section IV).

Starting from a trained hash model, with U_ben the signed codes of the whole
training set (by index) and Y its labels, every batch (x, y, idx):

1. b* = mainstay(y, U_ben, Y)  (DMFL, :func:`saatlib.dmfl.mainstay_codes`);
2. inner maximisation: x_adv = PGD (eps 8/255, step 2/255, 7 iterations, random
   start, tanh scale 1) descending mean(h_adv . b*), i.e. pushing the code away
   from the mainstay code of its own labels;
3. h_adv = f(x_adv), h = f(x) (train mode, in this order as in the released code);
   U_ben[idx] = sign(h); b* recomputed from the updated U_ben;
4. outer minimisation of
   L = L_hash(h) + lambda * (-mean(h_adv . b*)) + mu * mean((h_adv - sign(h_adv))^2),
   lambda = 1, mu = 1e-4, L_hash the victim's own loss (DPH by default);
5. SGD lr 0.05 (no momentum), weight decay 1e-5, lr x0.1 at 1/2 and 3/4 of all
   steps; 20 epochs of batch 32 in the paper.

Follows the released ``adv_training.py::saat`` (HEAD 3743e69): its mainstay code
is the cosine-weighted DMFL (``weighting="cosine"``, the released
``generate_mainstay_code``; on single-label data every DMFL weighting gives the
same code), and the hash loss's U, Y buffers start from the training codes.
Differences, each a parameter (the ``paper`` profile sets the released value;
see :mod:`saatlib.fidelity`):

- ``attack_mode``: the released code runs the inner PGD with the model in train
  mode (BatchNorm batch statistics, dropout); ``"eval"`` (library default)
  attacks the inference-mode model, ``"train"`` reproduces the released way.
- ``code_buffer``: in the released script U_ben and the hash loss's buffer U are
  one tensor (``U_ben.data = train_code.data``; ``model.U.data = train_code.data``),
  and the loss writes the *relaxed* outputs into it, so the mainstay codes of
  later batches come partly from relaxed codes. ``"signed"`` (library default)
  keeps U_ben signed; ``"aliased"`` shares the tensor as the released code does
  (only for losses with buffers: DPH, DPSH, HashNet).
- ``exact_ties``: exact DMFL ties (+1) rather than the sign of float32 noise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from saatlib.defense.centre import CentreDefense, CentreParams
from saatlib.dmfl import EQUAL_WEIGHTING, RELEASED_WEIGHTING, WEIGHTINGS, mainstay_codes
from saatlib.primitives import check_bool, check_choice


@dataclass(frozen=True, kw_only=True)
class SAATParams(CentreParams):
    """SAAT's parameters (paper / released defaults): ``epochs`` 20, ``lr`` 0.05, ``momentum`` 0,
    ``weight_decay`` 1e-5, ``lambda`` 1, ``mu`` 1e-4, ``weighting`` "cosine" (DMFL weights, or
    "overlap" / "equal"), ``exact_ties`` True, ``code_buffer`` "signed", plus the common ones
    (:class:`saatlib.defense.params.DefenseParams`)."""

    defense: ClassVar[str] = "SAAT"

    epochs: int = 20
    lr: float = 0.05
    weight_decay: float = 1e-5
    mu: float = 1e-4
    # momentum 0, lambda 1 and code_buffer "signed": CentreParams' defaults
    weighting: str = RELEASED_WEIGHTING
    exact_ties: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice(self.weighting, "weighting", (*WEIGHTINGS, EQUAL_WEIGHTING), " (DMFL weights; released: 'cosine')")
        check_bool(self.exact_ties, "exact_ties")


class SAATDefense(CentreDefense):
    """SAAT: adversarial training on mainstay codes (see the module docstring; parameters: :class:`SAATParams`)."""

    name = "SAAT"
    Params = SAATParams

    def centres(self, labels: torch.Tensor) -> torch.Tensor:
        return mainstay_codes(labels, self.codes, self.labels, self.params.weighting, self.params.exact_ties)
