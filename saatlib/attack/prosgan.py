"""ProS-GAN (Wang et al., "Prototype-supervised Adversarial Network for Targeted Attack
of Deep Hashing", CVPR 2021; code xunguangwang/ProS-GAN, HEAD 2521d93).

Targeted, called with the TARGET labels. A PrototypeNet maps the target label
vector y_t to a feature f_t and a prototype code t = sign(h(y_t)); a generator G
maps the query x and f_t to the adversarial image in ONE forward pass
(:mod:`saatlib.attack.prosgan_nets`, trained by :mod:`saatlib.attack.prosgan_train`):

    x_adv = clip(x + eps * G(2x - 1, f_t), 0, 1)      (bound="linf", the default)
    x_adv = (G(2x - 1, f_t) + 1) / 2                   (bound="none", released: no l_inf bound)

``reference_codes`` are the prototype codes t (the "theory" t-MAP).

The networks are trained once per victim: :func:`saatlib.experiments.prosgan.prosgan_networks`
trains them (resumable, cached in the run store) and hands them over with
:meth:`ProSGANAttack.use_networks`; without that, :meth:`ProSGANAttack.prepare`
trains them in memory from ``context.train_images`` (the training images,
aligned with ``context.train_codes``). :class:`ProSGANParams` lists every
setting with its released value.
"""
from __future__ import annotations

import dataclasses

import torch

from saatlib.attack.base import Attack, AttackContext, set_params
from saatlib.attack.prosgan_nets import ProSPrototypeNet
from saatlib.attack.prosgan_train import BOUNDS, adversarial_image, build_networks, train_prosgan
from saatlib.primitives import binarize, check_positive
from saatlib.profiles import default_attack_setting


def _count(value, what: str, low: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < low:
        raise ValueError(f"{what} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProSGANParams:
    """Hyper-parameters of :class:`ProSGANAttack` (released values in brackets).

    Args:
        eps: l_inf budget of ``bound="linf"`` (default: the default profile's attack budget; the release has none).
        bound: ``"linf"`` (x + eps * o, clipped to the box) or ``"none"`` (released: (o + 1) / 2).
        epochs, decay_epochs: GAN epochs at constant lr, then with linear decay [50, 50].
        batch_size: images per GAN step [24]. lr: Adam lr of G and D [1e-4], betas (0.5, 0.999).
        rec_weight: reconstruction weight [100 on FLICKR-25K, 50 on NUS-WIDE and MS-COCO].
        hash_weight: Hamming-alignment weight [5]. adv_weight: adversarial weight [1].
        hash_scale: the victim's tanh scale a in the Hamming-alignment loss, tanh(a W phi(x)) [1].
        disc_every: the discriminator steps at every disc_every-th batch [3].
        gen_dim: generator's first width [64]. res_blocks: residual blocks in encoder and decoder [3].
        label_dim: label map channels [128]. disc_dim: discriminator's first width [64].
        pnet_steps: PrototypeNet steps [100 x 300 = 30000]. pnet_batch_size: [64]. pnet_lr: [1e-4].
        pnet_hidden: PrototypeNet hidden width [4096].
        num_train: training images used, the first ones of the training set (None: all [all]).
    """

    eps: float = default_attack_setting("ProS-GAN", "eps")  # the default profile's budget
    bound: str = "linf"
    epochs: int = 50
    decay_epochs: int = 50
    batch_size: int = 24
    lr: float = 1e-4
    rec_weight: float = 100.0
    hash_weight: float = 5.0
    adv_weight: float = 1.0
    hash_scale: float = 1.0
    disc_every: int = 3
    gen_dim: int = 64
    res_blocks: int = 3
    label_dim: int = 128
    disc_dim: int = 64
    pnet_steps: int = 30000
    pnet_batch_size: int = 64
    pnet_lr: float = 1e-4
    pnet_hidden: int = 4096
    num_train: int | None = None

    def __post_init__(self) -> None:
        if self.bound not in BOUNDS:
            raise ValueError(f"bound must be one of {BOUNDS}, got {self.bound!r}")
        set_params(self, eps=check_positive(self.eps, "eps"), epochs=_count(self.epochs, "epochs", 0),
                   decay_epochs=_count(self.decay_epochs, "decay_epochs", 0),
                   batch_size=_count(self.batch_size, "batch_size"), lr=check_positive(self.lr, "lr"),
                   rec_weight=float(self.rec_weight), hash_weight=float(self.hash_weight),
                   adv_weight=float(self.adv_weight), hash_scale=check_positive(self.hash_scale, "hash_scale"),
                   disc_every=_count(self.disc_every, "disc_every"),
                   gen_dim=_count(self.gen_dim, "gen_dim"), res_blocks=_count(self.res_blocks, "res_blocks", 0),
                   label_dim=_count(self.label_dim, "label_dim"), disc_dim=_count(self.disc_dim, "disc_dim"),
                   pnet_steps=_count(self.pnet_steps, "pnet_steps", 0),
                   pnet_batch_size=_count(self.pnet_batch_size, "pnet_batch_size"),
                   pnet_lr=check_positive(self.pnet_lr, "pnet_lr"), pnet_hidden=_count(self.pnet_hidden, "pnet_hidden"),
                   num_train=None if self.num_train is None else _count(self.num_train, "num_train"))
        for w in ("rec_weight", "hash_weight", "adv_weight"):
            if not getattr(self, w) >= 0:
                raise ValueError(f"{w} must be >= 0, got {getattr(self, w)!r}")


def _fingerprint(t: torch.Tensor | None) -> tuple | None:
    return None if t is None else (t.data_ptr(), tuple(t.shape), t.dtype, str(t.device), t._version)


class ProSGANAttack(Attack):
    """Generative prototype-supervised targeted attack (parameters: :class:`ProSGANParams`)."""

    Params = ProSGANParams
    name = "ProS-GAN"
    paper = "Wang et al., Prototype-supervised Adversarial Network for Targeted Attack of Deep Hashing, CVPR 2021"
    targeted = True

    def __init__(self, params: ProSGANParams | None = None, /, **overrides) -> None:
        super().__init__(params, **overrides)
        self._nets: tuple[ProSPrototypeNet, torch.nn.Module] | None = None
        self._nets_key: tuple | None = None
        self._pinned = False
        self.history: list[dict] = []

    def training_config(self) -> dict:
        """The parameters that shape the trained networks (all of them: ``eps`` and ``bound`` act in training)."""
        return self.config()

    def use_networks(self, pnet_state: dict, generator_state: dict, channels: int, side: int, num_classes: int,
                     bits: int, history: list | None = None) -> None:
        """Use these trained networks (state dicts) for every later call, whatever the context."""
        pnet = ProSPrototypeNet(num_classes, bits, hidden=self.pnet_hidden)
        pnet.load_state_dict(pnet_state)
        gen, _ = build_networks(self.params, channels, side, num_classes, 0)
        gen.load_state_dict(generator_state)
        self._nets = (pnet.eval().requires_grad_(False), gen.eval().requires_grad_(False))
        self._pinned, self.history = True, list(history or [])

    @property
    def networks(self):
        """(PrototypeNet, generator), or None before training or :meth:`use_networks`."""
        return self._nets

    def _key(self, model, context: AttackContext) -> tuple:
        return (id(model), tuple(_fingerprint(p) for p in model.parameters()), context.seed,
                _fingerprint(context.train_codes), _fingerprint(context.train_labels),
                _fingerprint(context.db_labels), _fingerprint(context.train_images))

    def prepare(self, model, context: AttackContext) -> None:
        """Train the networks on ``context`` (its ``train_images``) unless they are set or already trained on it."""
        if self._pinned:
            return
        key = self._key(model, context)
        if self._nets is not None and key == self._nets_key:
            return
        if context.train_images is None:
            raise ValueError("ProS-GAN trains on the training images: give AttackContext.train_images, or load "
                             "trained networks with saatlib.experiments.prosgan.prosgan_networks")
        n = context.train_images.shape[0] if self.num_train is None else min(self.num_train,
                                                                             context.train_images.shape[0])
        out = train_prosgan(model, context.train_images[:n], context.train_labels[:n], context.train_codes,
                            context.train_labels, context.db_labels, self.params, context.seed,
                            device=context.train_codes.device)
        x = context.train_images
        self.use_networks(out["pnet"], out["generator"], x.shape[1], x.shape[-1], context.train_labels.shape[1],
                          context.bits, out["history"])
        self._pinned, self._nets_key = False, key

    def reference_codes(self, labels: torch.Tensor, context: AttackContext) -> torch.Tensor:
        """The prototype codes sign(h(y_t)) (B, K) in {-1, 1} (0 -> +1)."""
        if self._nets is None:
            raise RuntimeError("ProS-GAN has no trained networks: call prepare(model, context) first")
        pnet = self._nets[0]
        with torch.no_grad():
            _, h, _ = pnet.heads(labels.float().to(next(pnet.parameters()).device))
        return binarize(h).to(labels.device)

    def __call__(self, model, x, labels, context: AttackContext, generator=None) -> torch.Tensor:
        """x (B, C, S, S) in [0, 1], target labels (B, L) -> x_adv (B, C, S, S): one generator pass
        (``generator`` is not used: the attack draws nothing)."""
        self.prepare(model, context)
        pnet, gen = self._nets
        pnet.to(x.device)
        gen.to(x.device)
        with torch.no_grad():
            f, _, _ = pnet.heads(labels.float().to(x.device))
            return adversarial_image(gen(2 * x - 1, f), x, self.eps, self.bound)
