"""DPSH (Li et al., IJCAI 2016): pairwise likelihood plus quantisation.

t_ij = h_i . U_j / 2, s_ij in {0, 1}:
L = sum(log(1 + exp(t_ij)) - s_ij t_ij) / (B N) + eta * ||sign(h) - h||^2 / (B N),
eta = 50 as in the released SAAT code.
"""
import torch
import torch.nn.functional as F

from saatlib.hashing.losses.base import HashLoss


class DPSHLoss(HashLoss):
    uses_buffers = True

    def __init__(self, num_train: int, bits: int, num_classes: int, eta: float = 50.0, pairs: str = "seen"):
        super().__init__(num_train, bits, num_classes, pairs)
        self.eta = eta

    def forward(self, h: torch.Tensor, y: torch.Tensor, idx: torch.Tensor, step: int = 0):
        ip, s = self.pairwise(h, y, idx)
        t = ip / 2
        denom = h.shape[0] * ip.shape[1]
        likelihood = (F.softplus(t) - s * t).sum() / denom
        quant = self.eta * (h.sign() - h).pow(2).sum() / denom
        return likelihood + quant, {"likelihood": likelihood.detach(), "quantization": quant.detach()}
