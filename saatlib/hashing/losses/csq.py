"""CSQ (Yuan et al., CVPR 2020): central similarity quantisation.

Hash centres are rows of [H; -H] for a K x K Hadamard matrix H (2K >= classes,
K a power of two), otherwise random Bernoulli codes. A multi-label item's centre
is sign(sum of its labels' centres), zeros broken by a fixed random centre.
L = BCE((h + 1) / 2, (c + 1) / 2) + lambda * mean((|h| - 1)^2), lambda = 0.05.
"""
import torch
import torch.nn.functional as F

from saatlib.hashing.losses.base import HashLoss


def hadamard(n: int) -> torch.Tensor:
    """Sylvester Hadamard matrix (n, n) in {-1, 1}; n must be a power of two."""
    if n < 1 or n & (n - 1):
        raise ValueError(f"Hadamard matrices are built here for powers of two only, got {n}")
    h = torch.ones(1, 1)
    while h.shape[0] < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h


def hash_centers(num_classes: int, bits: int, seed: int = 0) -> torch.Tensor:
    """(num_classes, bits) centres in {-1, 1} (Hadamard when possible, else Bernoulli)."""
    if bits & (bits - 1) == 0 and 2 * bits >= num_classes:
        h = hadamard(bits)
        return torch.cat([h, -h], 0)[:num_classes]
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, (num_classes, bits), generator=g).float() * 2 - 1


class CSQLoss(HashLoss):
    uses_buffers = False

    def __init__(self, num_train: int, bits: int, num_classes: int, lam: float = 0.05, seed: int = 0,
                 pairs: str = "seen"):
        super().__init__(num_train, bits, num_classes, pairs)  # pairs: no pairwise term, no effect
        self.lam = lam
        self.register_buffer("centers", hash_centers(num_classes, bits, seed))
        g = torch.Generator().manual_seed(seed + 1)
        self.register_buffer("tie_breaker", torch.randint(0, 2, (bits,), generator=g).float() * 2 - 1)

    def label_centers(self, y: torch.Tensor) -> torch.Tensor:
        """(B, C) labels -> (B, K) centres in {-1, 1}."""
        c = (y.float() @ self.centers).sign()
        return torch.where(c == 0, self.tie_breaker.expand_as(c), c)

    def forward(self, h: torch.Tensor, y: torch.Tensor, idx: torch.Tensor, step: int = 0):
        c = self.label_centers(y)
        p = ((h + 1) / 2).clamp(1e-6, 1 - 1e-6)
        center = F.binary_cross_entropy(p, (c + 1) / 2)
        quant = self.lam * (h.abs() - 1).pow(2).mean()
        return center + quant, {"center": center.detach(), "quantization": quant.detach()}
