"""Common base of the deep hashing losses (reference section 1)."""
from __future__ import annotations

import torch
from torch import nn

from saatlib.primitives import shares_label


def similarity(y_a: torch.Tensor, y_b: torch.Tensor) -> torch.Tensor:
    """(A, C), (N, C) multi-hot labels -> (A, N) float in {0, 1}: share a label."""
    return shares_label(y_a, y_b).float()


class HashLoss(nn.Module):
    """A deep hashing loss.

    ``forward(h, y, idx, step)``: h (B, K) relaxed codes in (-1, 1), y (B, C)
    labels, idx (B,) indices of the batch in the training set, step the global
    iteration -> (loss scalar, dict of named loss terms as detached tensors).

    ``tanh_scale(step)`` is the scale ``a`` the model should use at ``step``
    (1 except for HashNet).

    Pairwise losses keep buffers ``U`` (N, K) and ``Y`` (N, C) of the outputs
    and labels of all N training images, updated at the batch indices, and a
    ``seen`` mask. ``pairs`` says which items enter the loss:

    - ``"seen"`` (the library's default): only the N' items visited so far, so
      the loss is a mean over B x N' pairs;
    - ``"all"`` (the released code, e.g. ``model/hash_model/dph.py::loss_function``):
      all N items, the not-yet-visited ones with zero rows in U and Y (a
      zero output, dissimilar to everything), averaged over B x N. In the first
      epoch this scales the gradient of the pairwise term by about N'/N and
      adds constant pairs; DPSH's quantisation term is divided by B x N too.
    After the first epoch (every item seen) the two agree.
    """

    uses_buffers = False
    PAIRS = ("seen", "all")

    def __init__(self, num_train: int, bits: int, num_classes: int, pairs: str = "seen"):
        super().__init__()
        if pairs not in self.PAIRS:
            raise ValueError(f"pairs must be one of {self.PAIRS} ('all': the released code), got {pairs!r}")
        self.num_train, self.bits, self.num_classes, self.pairs = num_train, bits, num_classes, pairs
        if self.uses_buffers:
            self.register_buffer("U", torch.zeros(num_train, bits))
            self.register_buffer("Y", torch.zeros(num_train, num_classes))
            self.register_buffer("seen", torch.zeros(num_train, dtype=torch.bool))

    def tanh_scale(self, step: int) -> float:
        return 1.0

    def update_buffers(self, h: torch.Tensor, y: torch.Tensor, idx: torch.Tensor) -> None:
        """Write the batch outputs and labels into U, Y at ``idx``."""
        self.U[idx] = h.detach()
        self.Y[idx] = y.float()
        self.seen[idx] = True

    def pairwise(self, h: torch.Tensor, y: torch.Tensor, idx: torch.Tensor):
        """Update buffers; return (inner products h U^T (B, N'), similarity (B, N'))
        over the N' training items seen so far (``pairs="seen"``) or all N."""
        self.update_buffers(h, y, idx)
        if self.pairs == "all":
            u, yy = self.U, self.Y
        else:
            u, yy = self.U[self.seen], self.Y[self.seen]
        return h @ u.t(), similarity(y, yy)
