"""DPH: pairwise inner-product regression (the SAAT paper's default victim).

L = mean over (i in batch, j in training set) of (h_i . U_j / K - s_ij)^2,
with s_ij = +1 when i and j share a label and -1 otherwise.
"""
import torch

from saatlib.hashing.losses.base import HashLoss


class DPHLoss(HashLoss):
    uses_buffers = True

    def forward(self, h: torch.Tensor, y: torch.Tensor, idx: torch.Tensor, step: int = 0):
        ip, s = self.pairwise(h, y, idx)
        loss = (ip / self.bits - (2 * s - 1)).pow(2).mean()
        return loss, {"pairwise": loss.detach()}
