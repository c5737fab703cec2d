"""ProS-GAN's networks and losses, sized by the image (Wang et al., CVPR 2021).

Reference: xunguangwang/ProS-GAN (HEAD 2521d93), ``model/module.py`` and
``model/target_attack_gan.py``. The released networks are fixed to 224x224x3;
here every size follows the image's side S and channels C, and the released
sizes are the defaults at S = 224, C = 3:

- :class:`ProSPrototypeNet`: target labels (B, L) -> feature f (B, 512), relaxed
  prototype code h = tanh(W f) (B, K) and label prediction sigmoid(V f) (B, L).
  THA's PrototypeNet (:class:`saatlib.attack.prototype.PrototypeNet`) plus the
  classifier head (``module.py::PrototypeNet``).
- :class:`LabelEncoder`: f -> an image-shaped map (B, C, S, S): a linear layer
  to (label_dim, S / 2^u, S / 2^u), u transposed convolutions that double the
  side and halve the channels (instance norm, ReLU), a 3x3 convolution to C
  channels. u = :func:`upsamplings` (S): 4 at 224 (from 14, as released), 2 at
  28, 3 at 56 (from 7).
- :class:`Generator`: (x in [-1, 1] (B, C, S, S), f) -> o in (-1, 1) (B, C, S, S):
  7x7 convolution of [label map, x] (2C channels), two stride-2 convolutions,
  ``res_blocks`` residual blocks, ``res_blocks`` more, two transposed
  convolutions, a 3x3 convolution of [decoded, x] and tanh; instance norm
  without affine parameters throughout, as released.
- :class:`Discriminator`: x in [-1, 1] -> (B, L + 1): spectral-norm stride-2
  convolutions (LeakyReLU 0.01) down to side S / 2^r (r = :func:`disc_depth`:
  5 at 224, 2 at 28, 3 at 56) and a convolution over the whole map: L label
  scores and one real/fake score.
- :func:`lsgan_loss`: the released ``GANLoss('lsgan')``, mean of (D(x) - [y, t])^2
  with t = 0 for "real" and t = 1 for "fake" (the released targets: real 0, fake 1).
- :func:`prosgan_prototype_loss`: the PrototypeNet's loss.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from saatlib.attack.prototype import PrototypeNet
from saatlib.primitives import shares_label


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def upsamplings(side: int, most: int = 4) -> int:
    """Doublings of the label map: the largest u <= ``most`` with ``side`` divisible by 2^u (4 at 224)."""
    u = 0
    while u < most and side % (2 ** (u + 1)) == 0:
        u += 1
    return u


def disc_depth(side: int, most: int = 5) -> int:
    """Stride-2 convolutions of the discriminator: the largest r <= ``most`` with ``side`` divisible by 2^r."""
    return upsamplings(side, most)


class ProSPrototypeNet(PrototypeNet):
    """labels (B, L) -> (feature (B, features), relaxed code (B, K) in (-1, 1), label prediction (B, L) in (0, 1))."""

    def __init__(self, num_classes: int, bits: int, hidden: int = 4096, features: int = 512):
        super().__init__(num_classes, bits, hidden, features)
        self.classifier = nn.Sequential(nn.Linear(features, num_classes), nn.Sigmoid())

    def heads(self, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f = self.feature(labels.float())
        return f, self.hashing(f), self.classifier(f)


def prosgan_prototype_loss(h: torch.Tensor, pred: torch.Tensor, labels: torch.Tensor, codes: torch.Tensor,
                           code_labels: torch.Tensor, quant_weight: float = 1e-4) -> torch.Tensor:
    """Pairwise likelihood + label MSE + quantisation, as ``train_prototype_net`` of the release.

    With theta_ij = h_i . b_j / 2 and s_ij = [y_i shares a label with y_j]:
    L = -sum_ij (s_ij theta_ij - log(1 + e^theta_ij)) / (N B)
        + mean((pred - y)^2) + quant_weight * sum((sign(h) - h)^2) / B.

    Args:
        h: (B, K) relaxed codes; pred: (B, L) label predictions; labels: (B, L) in {0, 1}.
        codes: (N, K) training codes in {-1, 1}; code_labels: (N, L).
    """
    b, n = h.shape[0], codes.shape[0]
    theta = h @ codes.to(h.dtype).t() / 2
    s = shares_label(labels, code_labels).to(h.dtype)
    pair = -(s * theta - F.softplus(theta)).sum() / (n * b)
    quant = (torch.sign(h) - h).square().sum() / b
    return pair + F.mse_loss(pred, labels.to(pred.dtype)) + quant_weight * quant


class ResidualBlock(nn.Module):
    """x + IN(conv3(ReLU(IN(conv3(x))))), channels kept, instance norm without affine parameters."""

    def __init__(self, dim: int):
        super().__init__()
        self.main = nn.Sequential(nn.Conv2d(dim, dim, 3, 1, 1, bias=False), nn.InstanceNorm2d(dim),
                                  nn.ReLU(inplace=True), nn.Conv2d(dim, dim, 3, 1, 1, bias=False),
                                  nn.InstanceNorm2d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.main(x)


class LabelEncoder(nn.Module):
    """feature (B, features) -> label map (B, channels, side, side)."""

    def __init__(self, channels: int, side: int, label_dim: int = 128, features: int = 512):
        super().__init__()
        self.ups = upsamplings(side)
        self.start = side // 2 ** self.ups
        if label_dim % 2 ** self.ups:
            raise ValueError(f"label_dim {label_dim} must be divisible by 2^{self.ups} (side {side})")
        self.label_dim = label_dim
        self.fc = nn.Sequential(nn.Linear(features, label_dim * self.start ** 2), nn.ReLU(inplace=True))
        layers, dim = [], label_dim
        for _ in range(self.ups):
            layers += [nn.ConvTranspose2d(dim, dim // 2, 4, 2, 1, bias=False), nn.InstanceNorm2d(dim // 2),
                       nn.ReLU(inplace=True)]
            dim //= 2
        layers.append(nn.Conv2d(dim, channels, 3, 1, 1, bias=False))
        self.transform = nn.Sequential(*layers)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        z = self.fc(feature).view(feature.shape[0], self.label_dim, self.start, self.start)
        return self.transform(z)


class Generator(nn.Module):
    """(x in [-1, 1] (B, C, S, S), target feature (B, features)) -> o in (-1, 1) (B, C, S, S).

    Args:
        channels, side: the image's C and S (S divisible by 4).
        dim: channels of the first convolution (released 64; x2 per down-sampling).
        res_blocks: residual blocks in the encoder and again in the decoder (released 3).
        label_dim: channels of the label map before its up-sampling (released 128).
        features: the PrototypeNet's feature size (512).
    """

    def __init__(self, channels: int, side: int, dim: int = 64, res_blocks: int = 3, label_dim: int = 128,
                 features: int = 512):
        super().__init__()
        channels, side, dim = (_positive_int(v, w) for v, w in ((channels, "channels"), (side, "side"), (dim, "dim")))
        if side % 4:
            raise ValueError(f"the image side must be divisible by 4 (two down-samplings), got {side}")
        if isinstance(res_blocks, bool) or int(res_blocks) != res_blocks or res_blocks < 0:
            raise ValueError(f"res_blocks must be a non-negative integer, got {res_blocks!r}")
        self.label_encoder = LabelEncoder(channels, side, label_dim, features)
        enc = [nn.Conv2d(2 * channels, dim, 7, 1, 3), nn.InstanceNorm2d(dim), nn.ReLU(inplace=True)]
        d = dim
        for _ in range(2):
            enc += [nn.Conv2d(d, 2 * d, 4, 2, 1), nn.InstanceNorm2d(2 * d), nn.ReLU(inplace=True)]
            d *= 2
        enc += [ResidualBlock(d) for _ in range(int(res_blocks))]
        dec = [ResidualBlock(d) for _ in range(int(res_blocks))]
        for _ in range(2):
            dec += [nn.ConvTranspose2d(d, d // 2, 4, 2, 1, bias=False), nn.InstanceNorm2d(d // 2), nn.ReLU(inplace=True)]
            d //= 2
        self.image_encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)
        self.residual = nn.Sequential(nn.Conv2d(d + channels, channels, 3, 1, 1, bias=False), nn.Tanh())

    def forward(self, x: torch.Tensor, feature: torch.Tensor) -> torch.Tensor:
        mixed = torch.cat([self.label_encoder(feature), x], dim=1)
        decoded = self.decoder(self.image_encoder(mixed))
        return self.residual(torch.cat([decoded, x], dim=1))


class Discriminator(nn.Module):
    """x in [-1, 1] (B, C, S, S) -> (B, num_classes + 1): label scores and the real/fake score."""

    def __init__(self, channels: int, side: int, num_classes: int, dim: int = 64):
        super().__init__()
        self.depth = disc_depth(side)
        layers, d = [], int(dim)
        layers += [spectral_norm(nn.Conv2d(channels, d, 4, 2, 1)), nn.LeakyReLU(0.01)]
        for _ in range(1, self.depth):
            layers += [spectral_norm(nn.Conv2d(d, 2 * d, 4, 2, 1)), nn.LeakyReLU(0.01)]
            d *= 2
        self.main = nn.Sequential(*layers) if self.depth else nn.Identity()
        d = d if self.depth else channels
        self.fc = nn.Conv2d(d, num_classes + 1, side // 2 ** self.depth, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.main(x)).flatten(1)


def lsgan_loss(prediction: torch.Tensor, labels: torch.Tensor, real: bool) -> torch.Tensor:
    """mean((prediction - [labels, t])^2), t = 0 when ``real``, 1 otherwise (the released targets).

    Args:
        prediction: (B, L + 1) discriminator outputs; labels: (B, L) in {0, 1}.
    """
    flag = torch.full((labels.shape[0], 1), 0.0 if real else 1.0, dtype=prediction.dtype, device=prediction.device)
    return F.mse_loss(prediction, torch.cat([labels.to(prediction.dtype), flag], dim=1))
