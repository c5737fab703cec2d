"""CgAT: centroid-guided adversarial training (Wang et al., WWW 2023; public code ``xunguangwang/CgAT``).

The centre code of a label vector y is computed in closed form from the labels
and the current signed training codes B (N, K):

    c(y) = sign( mean of B_j over the items sharing a label with y
               - mean of B_j over the items sharing none ),

the released ``hash_center_code``: it weighs every similar item equally and
every dissimilar item equally (its per-item Jaccard weights are computed and
then replaced by 0/1 indicators), and scales the two sums by the other group's
size, which is the difference of the two means up to a positive factor. A zero
coordinate gives +1 here (the released ``torch.sign`` leaves 0); a label with no
similar item gets -(mean dissimilar code) (the released formula gives all 0).

Training (released script): PGD with eps 8/255, step 2/255, 7 iterations,
random start, descending mean(h_adv . c); loss = L_hash(benign) - mean(h_adv . c)
(no quantisation term); SGD lr 0.01, momentum 0.9, weight decay 5e-4, lr x0.1
at 1/2 and 3/4 of all steps, 30 epochs of batch 32. The codes B are updated
with sign(h_benign) at the batch indices and the centres recomputed before the
loss, as in SAAT. The difference from SAAT is the centre (equal weights, and a
sign rather than the DMFL weighting on multi-label data), the optimiser and the
missing quantisation term.

Differences from CgAT's own repository (``central_adv_train.py`` at 0d4a334),
listed in :mod:`saatlib.fidelity`: its training images get random crop (224 of
256) and horizontal flip (not done here: our 28x28 / 56x56 data have no such
recipe); its model is never switched to eval mode (``attack_mode="train"`` in
the ``paper`` profile); its B_ben, U_ben and loss buffer are one tensor
(``code_buffer="aliased"``); its hash losses have their own settings (DPSH eta
0.001 averaged over B x N, HashNet alpha 0.1) where we use the victim's loss as
released with SAAT for every defense (identical for DPH, the Table II victim:
both average over B x N).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from saatlib.defense.centre import CentreDefense, CentreParams
from saatlib.dmfl import EQUAL_WEIGHTING, mainstay_codes


def centre_codes(labels: torch.Tensor, codes: torch.Tensor, code_labels: torch.Tensor) -> torch.Tensor:
    """CgAT centre codes (B, K) in {-1, 1} of label vectors ``labels`` (B, C); batched.

    The DMFL direction with equal weights (:func:`saatlib.dmfl.mainstay_codes`,
    ``weighting="equal"``), in float32 as the released code, 0 -> +1.

    Args:
        codes: (N, K) training codes (signed; relaxed rows with ``code_buffer="aliased"``);
            code_labels: (N, C).
    """
    return mainstay_codes(labels, codes, code_labels, EQUAL_WEIGHTING, exact_ties=False)


@dataclass(frozen=True, kw_only=True)
class CgATParams(CentreParams):
    """CgAT's parameters (released defaults): ``epochs`` 30, ``lr`` 0.01, ``momentum`` 0.9,
    ``weight_decay`` 5e-4, ``lambda`` 1 (weight of the centre term), ``mu`` 0 (no quantisation
    term), ``code_buffer`` "signed", plus the common ones (:class:`saatlib.defense.params.DefenseParams`)."""

    defense: ClassVar[str] = "CgAT"

    epochs: int = 30
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    # lambda 1, mu 0 and code_buffer "signed": CentreParams' defaults


class CgATDefense(CentreDefense):
    """CgAT (see the module docstring; parameters: :class:`CgATParams`)."""

    name = "CgAT"
    Params = CgATParams

    def update_codes(self, h: torch.Tensor, idx: torch.Tensor) -> None:
        """B_ben[idx] = sign(h); with ``code_buffer="aliased"`` the relaxed h, as in the released
        ``central_adv_train.py``, where B_ben and U_ben are one tensor and ``U_ben[index] = output``
        follows ``B_ben[index] = sign(output)``, so even the batch's own rows are relaxed when the
        centres are recomputed."""
        if self.params.code_buffer == "aliased":
            self.codes[idx] = h.detach()
        else:
            super().update_codes(h, idx)

    def centres(self, labels: torch.Tensor) -> torch.Tensor:
        return centre_codes(labels, self.codes, self.labels)
