"""ProS-GAN's training: the PrototypeNet, then the generator against a discriminator.

Reference: xunguangwang/ProS-GAN (HEAD 2521d93), ``model/target_attack_gan.py``
(``TargetAttackGAN.train_prototype_net`` and ``TargetAttackGAN.train``) and
``main.py`` (its defaults). What the release does, and here:

- PrototypeNet: batches of label vectors drawn with replacement from the unique
  database label vectors, loss :func:`~saatlib.attack.prosgan_nets.prosgan_prototype_loss`
  against the victim's signed training codes, Adam (lr 1e-4, betas 0.5/0.999),
  lr x0.1 at 1/2 and 3/4 of the steps; released 100 x 300 steps of batch 64.
  Then frozen.
- GAN: per epoch, the training images in a seeded random order, batches of 24;
  each batch gets target labels drawn uniformly (with replacement) from the
  unique database label vectors. The discriminator steps at every
  ``disc_every``-th batch (released 3) on LSGAN losses, real images with their
  labels (target "real") against the generated ones with the target labels
  (target "fake"), averaged. The generator then steps on
  rec_weight * mean((x_adv' - x')^2) + hash_weight * (1 - mean(f(x_adv) * t))
  + adv_weight * LSGAN(D(x_adv'), [y_t, real]), where ' is the [-1, 1] scale,
  t = sign(h(y_t)) the prototype code and f the victim in eval mode, its tanh
  at scale ``hash_scale`` (released 1: f(x) = tanh(W phi(x)); a scale a < 1,
  tanh(a W phi(x)), keeps the gradient of saturated outputs alive, as the
  tanh-scale schedule of the PGD attacks does). Adam
  (lr 1e-4, betas 0.5/0.999) for both; the lr constant for ``epochs`` epochs,
  then linear decay over ``decay_epochs`` (released 50 + 50, ``get_scheduler('linear')``).
- The adversarial image is :func:`adversarial_image`: released (``bound="none"``)
  (o + 1) / 2 of the generator's tanh output o, unbounded; by default
  (``bound="linf"``) clip(x + eps * o, 0, 1), inside the l_inf ball in
  training and at test time alike.

Everything random (weights, spectral-norm vectors, the PrototypeNet's draws,
every epoch's order and targets) is seeded from ``seed`` and the epoch, so a
run resumed from its checkpoint (written atomically after the PrototypeNet and
after every epoch) ends bit-identical to an uninterrupted one.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

import torch
from tqdm.auto import tqdm

from saatlib.atomic import atomic_torch_save
from saatlib.attack.prosgan_nets import (Discriminator, Generator, ProSPrototypeNet, lsgan_loss,
                                         prosgan_prototype_loss)
from saatlib.primitives import eval_mode, project_linf
from saatlib.schedules import multistep_factor
from saatlib.seeding import seeded

log = logging.getLogger(__name__)

BOUNDS = ("linf", "none")


def linear_decay_factor(epoch: int, epochs: int, decay_epochs: int) -> float:
    """The released ``get_scheduler('linear')`` at 0-based ``epoch``: 1 for the first ``epochs``,
    then 1 - (epoch + 1 - epochs) / (decay_epochs + 1) (1/51 in the last of 50 + 50)."""
    return 1.0 - max(0, epoch + 1 - epochs) / float(decay_epochs + 1)


def adversarial_image(o: torch.Tensor, x: torch.Tensor, eps: float, bound: str) -> torch.Tensor:
    """x_adv in [0, 1] from the generator's output o in (-1, 1) and x in [0, 1] (same shape).

    ``bound="linf"``: clip(x + eps * o, 0, 1) (through :func:`saatlib.primitives.project_linf`), so ||x_adv - x||_inf <= eps.
    ``bound="none"`` (released): (o + 1) / 2, limited only by the reconstruction loss.
    """
    if bound == "linf":
        return project_linf(x + eps * o, x, eps)
    if bound == "none":
        return (o + 1) / 2
    raise ValueError(f"bound must be one of {BOUNDS}, got {bound!r}")


def generator_loss(model, disc, x: torch.Tensor, x_adv: torch.Tensor, target_labels: torch.Tensor,
                   target_codes: torch.Tensor, params) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """ProS-GAN's generator loss (the release's ``TargetAttackGAN.train``), on the [-1, 1] scale x' = 2x - 1:

        L_G = w_rec * mean((x_adv' - x')^2) + w_hash * (1 - mean(tanh(a W phi(x_adv)) * t))
              + w_adv * mean((D(x_adv') - [y_t, 0])^2)

    Args:
        model: the victim (eval mode; ``model(x, a)`` its relaxed code at tanh scale a = ``params.hash_scale``).
        disc: the discriminator ((B, C, S, S) -> (B, L + 1): labels and the fake flag, 0 = real).
        x, x_adv: (B, C, S, S) benign and adversarial images in [0, 1].
        target_labels: (B, L) y_t; target_codes: (B, K) the prototype codes t in {-1, 1}.
        params: :class:`~saatlib.attack.prosgan.ProSGANParams` (weights w_rec, w_hash, w_adv).
    Returns:
        L_G and its three terms (reconstruction, Hamming alignment, adversarial), each a scalar.
    """
    adv = lsgan_loss(disc(2 * x_adv - 1), target_labels, True)
    rec = ((2 * x_adv - 1) - (2 * x - 1)).square().mean()
    hash_loss = 1 - (model(x_adv, params.hash_scale) * target_codes).mean()
    return params.rec_weight * rec + params.hash_weight * hash_loss + params.adv_weight * adv, (rec, hash_loss, adv)


def train_prosgan_prototype(codes: torch.Tensor, code_labels: torch.Tensor, db_labels: torch.Tensor,
                            steps: int, batch_size: int = 64, lr: float = 1e-4, hidden: int = 4096,
                            seed: int = 0) -> tuple[ProSPrototypeNet, list[float]]:
    """Train ProS-GAN's PrototypeNet (see the module docstring); returns it in eval mode and the
    loss every 100 steps.

    Args:
        codes: (N, K) training codes in {-1, 1}; code_labels: (N, L); db_labels: (N_db, L).
    """
    device = codes.device
    unique = torch.unique(db_labels.float().to(device), dim=0)
    with seeded(int(seed)):
        pnet = ProSPrototypeNet(code_labels.shape[1], codes.shape[1], hidden=hidden)
    pnet.to(device).train()
    optimizer = torch.optim.Adam(pnet.parameters(), lr=lr, betas=(0.5, 0.999))
    picks = torch.randint(unique.shape[0], (int(steps), int(batch_size)), generator=torch.Generator().manual_seed(seed))
    codes, code_labels = codes.float(), code_labels.float().to(device)
    losses = []
    with torch.enable_grad():
        for i in range(int(steps)):
            for group in optimizer.param_groups:
                group["lr"] = lr * multistep_factor(i, int(steps), (0.5, 0.75), 0.1)
            labels = unique[picks[i].to(device)]
            _, h, pred = pnet.heads(labels)
            loss = prosgan_prototype_loss(h, pred, labels, codes, code_labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if i % 100 == 0:
                losses.append(loss.item())
    pnet.eval()
    for p in pnet.parameters():
        p.requires_grad_(False)
        p.grad = None
    return pnet, losses


def build_networks(params, channels: int, side: int, num_classes: int, seed: int) -> tuple[Generator, Discriminator]:
    """The generator and discriminator of ``params`` (a :class:`~saatlib.attack.prosgan.ProSGANParams`), seeded."""
    with seeded(int(seed) + 1):
        gen = Generator(channels, side, params.gen_dim, params.res_blocks, params.label_dim)
        disc = Discriminator(channels, side, num_classes, params.disc_dim)
    return gen, disc


def _epoch_draws(seed: int, epoch: int, n: int, n_targets: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(int(seed) * 1_000_003 + 7919 * (epoch + 1))
    return torch.randperm(n, generator=g), torch.randint(n_targets, (n,), generator=g)


def train_prosgan(model, images: torch.Tensor, image_labels: torch.Tensor, train_codes: torch.Tensor,
                  train_labels: torch.Tensor, db_labels: torch.Tensor, params, seed: int = 0, device="cpu",
                  checkpoint: str | Path | None = None, progress: bool = False,
                  on_epoch: Callable[[int, ProSPrototypeNet, Generator], dict | None] | None = None) -> dict:
    """Train ProS-GAN against the victim ``model`` (see the module docstring).

    Args:
        model: the victim hash model (K bits); used in eval mode, its parameters and their
            ``.grad`` untouched, its modes restored.
        images: (N, C, S, S) training images in [0, 1]; image_labels: (N, L).
        train_codes: (N_t, K) the victim's signed training codes; train_labels: (N_t, L);
        db_labels: (N_db, L): the unique rows are the training targets.
        params: :class:`~saatlib.attack.prosgan.ProSGANParams`.
        checkpoint: file for resumable training (written after the PrototypeNet and every epoch).
        on_epoch: called as on_epoch(epoch, pnet, generator) after every epoch; a dict it returns
            is added to that epoch's history record (the bench's training curve).
    Returns:
        ``{"pnet": state_dict, "generator": state_dict, "history": [per-epoch dicts],
        "pnet_losses": [...], "seconds": float}``.
    """
    device = torch.device(device)
    images, image_labels = images.float(), image_labels.float()
    n, channels, side = images.shape[0], images.shape[1], images.shape[-1]
    num_classes = image_labels.shape[1]
    state = _load(checkpoint)
    t0 = time.perf_counter()
    if state is None:
        pnet, pnet_losses = train_prosgan_prototype(train_codes.to(device), train_labels.to(device), db_labels,
                                                    params.pnet_steps, params.pnet_batch_size, params.pnet_lr,
                                                    params.pnet_hidden, seed)
        state = {"epoch": 0, "pnet": pnet.state_dict(), "pnet_losses": pnet_losses, "history": [],
                 "seconds": time.perf_counter() - t0}
        _save(checkpoint, state, None, None, None, None)
    pnet = ProSPrototypeNet(num_classes, train_codes.shape[1], hidden=params.pnet_hidden)
    pnet.load_state_dict(state["pnet"])
    pnet.to(device).eval().requires_grad_(False)
    gen, disc = build_networks(params, channels, side, num_classes, seed)
    gen.to(device).train()
    disc.to(device).train()
    opt_g = torch.optim.Adam(gen.parameters(), lr=params.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=params.lr, betas=(0.5, 0.999))
    if "generator" in state:
        gen.load_state_dict(state["generator"])
        disc.load_state_dict(state["discriminator"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
    unique = torch.unique(db_labels.float(), dim=0).to(device)
    with torch.no_grad():
        features, protos, _ = pnet.heads(unique)
        protos = torch.sign(protos)  # the released sign(h): 0 stays 0 (never hit in practice)
    total = params.epochs + params.decay_epochs
    g_params = list(gen.parameters())
    with eval_mode(model), torch.enable_grad():
        for epoch in tqdm(range(state["epoch"], total), desc="ProS-GAN", disable=not progress, leave=False,
                          initial=state["epoch"], total=total):
            t1 = time.perf_counter()
            lr = params.lr * linear_decay_factor(epoch, params.epochs, params.decay_epochs)
            for opt in (opt_g, opt_d):
                for group in opt.param_groups:
                    group["lr"] = lr
            order, target_idx = _epoch_draws(seed, epoch, n, unique.shape[0])
            sums = {"g_adv": 0.0, "hash": 0.0, "rec": 0.0, "d": 0.0}
            steps = d_steps = 0
            for i, start in enumerate(range(0, n, params.batch_size)):
                idx = order[start:start + params.batch_size]
                x = images[idx].to(device)
                y = image_labels[idx].to(device)
                tgt = target_idx[idx].to(device)
                y_t, f_t, code_t = unique[tgt], features[tgt], protos[tgt]
                x_adv = adversarial_image(gen(2 * x - 1, f_t), x, params.eps, params.bound)
                if i % params.disc_every == 0:
                    d_loss = (lsgan_loss(disc(2 * x - 1), y, True)
                              + lsgan_loss(disc(2 * x_adv.detach() - 1), y_t, False)) / 2
                    opt_d.zero_grad(set_to_none=True)
                    d_loss.backward()
                    opt_d.step()
                    sums["d"] += d_loss.item()
                    d_steps += 1
                g_loss, (rec, hash_loss, adv) = generator_loss(model, disc, x, x_adv, y_t, code_t, params)
                grads = torch.autograd.grad(g_loss, g_params)  # the victim's .grad stays untouched
                for p, gr in zip(g_params, grads):
                    p.grad = gr
                opt_g.step()
                opt_g.zero_grad(set_to_none=True)
                sums["g_adv"] += adv.item()
                sums["hash"] += hash_loss.item()
                sums["rec"] += rec.item()
                steps += 1
            record = {"epoch": epoch + 1, "lr": lr, "g_adv": sums["g_adv"] / max(steps, 1),
                      "hash": sums["hash"] / max(steps, 1), "rec": sums["rec"] / max(steps, 1),
                      "d": sums["d"] / max(d_steps, 1), "steps": steps, "seconds": time.perf_counter() - t1}
            state["seconds"] += record["seconds"]  # training only: the callback's time is left out
            if on_epoch is not None:
                gen.eval()
                extra = on_epoch(epoch + 1, pnet, gen)
                gen.train()
                record.update(extra or {})
            log.info("ProS-GAN epoch %d: %s", epoch + 1, record)
            state["history"].append(record)
            state["epoch"] = epoch + 1
            _save(checkpoint, state, gen, disc, opt_g, opt_d)
    gen.eval().requires_grad_(False)
    return {"pnet": pnet.state_dict(), "generator": gen.state_dict(), "history": state["history"],
            "pnet_losses": state["pnet_losses"], "seconds": state["seconds"]}


def _load(checkpoint) -> dict | None:
    if checkpoint is None or not Path(checkpoint).exists():
        return None
    return torch.load(checkpoint, map_location="cpu", weights_only=True)


def _save(checkpoint, state: dict, gen, disc, opt_g, opt_d) -> None:
    if checkpoint is None:
        return
    if gen is not None:
        state.update(generator=gen.state_dict(), discriminator=disc.state_dict(), opt_g=opt_g.state_dict(),
                     opt_d=opt_d.state_dict())
    Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
    atomic_torch_save(Path(checkpoint), {k: _cpu(v) for k, v in state.items()})


def _cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_cpu(v) for v in obj]
    return obj
