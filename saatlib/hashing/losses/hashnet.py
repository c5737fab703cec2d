"""HashNet (Cao et al., ICCV 2017): weighted pairwise cross-entropy.

t_ij = (10 / K) h_i . U_j, s_ij in {0, 1}; cross-entropy log(1 + exp(t)) - s t
with similar and dissimilar pairs re-weighted to the same total weight.
The tanh scale grows during training: a = (1 + 0.005 * step)^0.5, updated every
200 iterations (continuation towards sign).
"""
import torch
import torch.nn.functional as F

from saatlib.hashing.losses.base import HashLoss


class HashNetLoss(HashLoss):
    uses_buffers = True

    def __init__(self, num_train: int, bits: int, num_classes: int, gamma: float = 0.005, step_size: int = 200,
                 pairs: str = "seen"):
        super().__init__(num_train, bits, num_classes, pairs)
        self.gamma, self.step_size = gamma, step_size

    def tanh_scale(self, step: int) -> float:
        return (1.0 + self.gamma * (step // self.step_size) * self.step_size) ** 0.5

    def forward(self, h: torch.Tensor, y: torch.Tensor, idx: torch.Tensor, step: int = 0):
        ip, s = self.pairwise(h, y, idx)
        t = (10.0 / self.bits) * ip
        ce = F.softplus(t) - s * t
        n_pos, n_all = s.sum(), torch.tensor(float(s.numel()), device=s.device)
        n_neg = n_all - n_pos
        weight = torch.where(s > 0, n_all / n_pos.clamp(min=1), n_all / n_neg.clamp(min=1))
        loss = (weight * ce).sum() / n_all
        return loss, {"weighted_ce": loss.detach()}
