"""What the three adversarial-training defenses share (reference section 4).

- :class:`Defense`: the state of one defense run — the model, the code buffers
  of the whole training set (``codes`` = U_ben in {-1, 1}, ``labels`` = Y), the
  victim's own hash loss (:func:`saatlib.hashing.build_loss`, its pairwise
  buffers initialised from the start model's codes as the released SAAT code
  does), the inner PGD (:class:`saatlib.attack.engine.LinfPGD`), a seeded
  generator for its random starts, and the optimiser(s). Subclasses implement
  :meth:`Defense.train_step` and name their hyper-parameters' frozen dataclass
  ``Params`` (a :class:`saatlib.defense.params.DefenseParams`), held as ``defense.params``.
- :func:`adversarial_training`: the epoch loop — batches whose order depends on
  (seed, epoch) only, a progress bar with the loss terms, one history record per
  epoch, and an atomic checkpoint after every epoch; given an existing
  checkpoint it continues from the last finished epoch and ends with the same
  weights as an uninterrupted run (CPU; bit-for-bit).

Batch sizes: the outer losses are batch means, as in the released scripts (they
train the model, and batch 32 is part of the recipe); the inner PGD steps by the
sign of the gradient, so a training image's adversarial example does not depend
on its batch-mates (BatchNorm in ``attack_mode="train"`` aside, whose batch
statistics couple them by design, as in the released code).

Learning-rate schedule: every defense multiplies its learning rate by 0.1 at
1/2 and 3/4 of all optimiser steps (the released code's ``MultiStepLR`` over
``epochs * len(train_loader)`` steps). Here it is a pure function of the global
step, so a checkpoint needs no scheduler object. Milestones are rounded down to
whole steps (the released code compares float milestones with the integer step
counter, so a milestone that is not a whole number is silently never reached).
"""
from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Callable, ClassVar

import torch

from saatlib import distributed, seeding
from saatlib.attack.engine import LinfPGD
from saatlib.compute import Precision
from saatlib.data import data_loader
from saatlib.epochs import epoch_record, progress_bar
from saatlib.hashing import HashLoss, binarize, build_loss, encode
from saatlib.defense.checkpoint import load_checkpoint, save_checkpoint, set_rng_state
from saatlib.defense.params import DefenseParams
from saatlib.schedules import multistep_factor

log = logging.getLogger(__name__)

# callback(epoch, record) after each finished epoch (after its checkpoint is written)
EpochCallback = Callable[[int, dict], None]


def init_loss_buffers(loss_fn: HashLoss, codes: torch.Tensor, labels: torch.Tensor) -> None:
    """Fill a pairwise hash loss's U, Y buffers with all training codes and labels
    (the released ``adv_training.py`` does this before adversarial training), so
    the benign hash loss sees all N items from the first step."""
    if getattr(loss_fn, "uses_buffers", False):
        with torch.no_grad():
            loss_fn.U.copy_(codes.to(loss_fn.U))
            loss_fn.Y.copy_(labels.to(loss_fn.Y))
            loss_fn.seen.fill_(True)


class _TrainModeView(torch.nn.Module):
    """Calls ``model`` without letting the attack engine switch it to eval mode
    (the model is kept as a plain attribute, not a registered submodule).
    Used for ``attack_mode="train"``: the released code runs its inner PGD with
    the model in train mode (BatchNorm batch statistics, dropout on)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        object.__setattr__(self, "_inner", model)

    def forward(self, x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        return self._inner(x, alpha)


class Defense:
    """One adversarial-training run of a defense on a hash model.

    Args:
        model: the start model (a trained :class:`saatlib.models.HashModel`,
            on ``device``); trained in place.
        train_set: the training ImageSet (labels (N, C)).
        hash_method: the victim's hashing method (its loss is the benign term).
        params: hyper-parameters: a :attr:`Params` (the subclass's frozen dataclass, a
            :class:`saatlib.defense.params.DefenseParams`), or a dict of config entries over its
            defaults (:meth:`saatlib.defense.params.DefenseParams.resolve`: the inner PGD budget
            defaults to the default profile's, :func:`saatlib.profiles.defense_budget`); None: the
            defaults. Held as ``self.params`` (read its fields: ``self.params.lr``).
        seed: seeds the random starts (and any other draw of the defense).
        device: torch device.
        database_labels: (N_db, C) database labels (ATRDH draws targets from
            their unique rows); optional for the other defenses.
        precision: a :class:`saatlib.compute.Precision` (bf16 autocast,
            channels-last) for every forward pass of the training, inner PGD
            included; None: float32. ``self.model`` is then a
            :class:`saatlib.compute.PrecisionView` of ``model`` (same weights,
            same ``state_dict``); the start codes are encoded in float32.

    Attributes:
        codes: (N, K) U_ben, the signed codes of the whole training set by index.
        labels: (N, C) Y, their labels.
    """

    name = "defense"
    #: the frozen dataclass of the defense's hyper-parameters (set by every subclass)
    Params: ClassVar[type[DefenseParams]] = DefenseParams

    def __init__(self, model, train_set, hash_method: str, params: DefenseParams | dict | None = None,
                 seed: int = 0, device="cpu", database_labels: torch.Tensor | None = None, precision=None):
        if isinstance(params, DefenseParams):
            if not isinstance(params, self.Params):
                raise TypeError(f"{type(self).__name__} takes a {self.Params.__name__} (or a dict of its config "
                                f"entries), got a {type(params).__name__}")
            self.params = params
        else:
            self.params = self.Params.resolve(params)
        self.model, self.train_set, self.hash_method = model, train_set, hash_method
        self.seed, self.device = int(seed), torch.device(device)
        p = self.params
        codes, labels = encode(model, train_set, device=device)
        self.codes, self.labels = codes.to(self.device), labels.to(self.device)
        self.model = Precision.of(precision).wrap(model)
        self.loss_fn = build_loss(hash_method, len(train_set), model.bits, train_set.num_classes).to(self.device)
        init_loss_buffers(self.loss_fn, self.codes, self.labels)
        self.pgd = LinfPGD(p.eps, p.step_size, p.steps, p.random_start, schedule=None)
        self.generator = seeding.generator(self.seed, self.device)
        self.database_labels = database_labels
        self.total_steps = 1
        self.resumed_from_epoch = 0  # set by adversarial_training
        self.setup()

    @classmethod
    def resolve_params(cls, params: dict | None) -> dict:
        """``params`` (config entries; None values ignored) over the class's defaults, validated (unknown
        keys and bad values are errors), as the defense config holds them: ``Params.resolve(params).config()``."""
        return cls.Params.resolve(params).config()

    # --- subclass hooks --------------------------------------------------------------
    def setup(self) -> None:
        """Build optimisers and any extra networks (called once by ``__init__``)."""

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Named optimisers whose learning rates follow the step schedule."""
        return {}

    def train_step(self, x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        """One minimax step on a batch; returns detached loss terms, ``loss`` among them."""
        raise NotImplementedError

    def extra_state(self) -> dict:
        """Subclass state beyond the model, optimisers, buffers and generator."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    # --- shared pieces ----------------------------------------------------------------
    def attack_model(self):
        """The model as the inner PGD should see it (eval mode via the engine, or train mode)."""
        return _TrainModeView(self.model) if self.params.attack_mode == "train" else self.model

    def perturb(self, x: torch.Tensor, objective) -> torch.Tensor:
        """Inner maximisation: PGD descending ``objective(h_adv)`` from a random start. Under
        ``torchrun`` the start is this rank's slice of the global batch's draw, as one process draws it."""
        noise = None
        world = distributed.world_size()
        if world > 1 and self.pgd.random_start:
            b = x.shape[0]
            full = torch.rand((b * world, *x.shape[1:]), generator=self.generator, device=x.device, dtype=x.dtype)
            noise = full[distributed.rank() * b:(distributed.rank() + 1) * b]
        return self.pgd.perturb(self.attack_model(), x, objective, self.generator, noise=noise)

    # --- data parallel (torchrun): every rank holds the same buffers, gradients are averaged ---------
    @staticmethod
    def gathered(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The global batch's rows of each (detached) tensor, rank order (the tensors themselves in one process)."""
        if distributed.world_size() == 1:
            return tensors
        return tuple(distributed.all_gather(t.detach().contiguous()) for t in tensors)

    def share_loss_buffers(self, h: torch.Tensor, y: torch.Tensor, idx: torch.Tensor) -> None:
        """Write the global batch into a pairwise loss's U, Y (before the loss writes its own rows)."""
        if distributed.world_size() > 1 and getattr(self.loss_fn, "uses_buffers", False):
            self.loss_fn.update_buffers(*self.gathered(h, y, idx))

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """``optimizer.step()`` after averaging its gradients over the ranks (what DDP does)."""
        world = distributed.world_size()
        if world > 1:
            grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
            if grads:
                flat = torch.cat([g.reshape(-1) for g in grads])
                torch.distributed.all_reduce(flat)
                flat /= world
                offset = 0
                for g in grads:
                    g.copy_(flat[offset:offset + g.numel()].view_as(g))
                    offset += g.numel()
        optimizer.step()

    def set_lr(self, step: int) -> float:
        factor = multistep_factor(step, self.total_steps, self.params.milestones, self.params.lr_gamma)
        lr = self.params.lr * factor
        for opt in self.optimizers().values():
            for group in opt.param_groups:
                group["lr"] = lr
        return lr

    def update_codes(self, h: torch.Tensor, idx: torch.Tensor) -> None:
        """U_ben[idx] = sign(h_benign)."""
        self.codes[idx] = binarize(h.detach())

    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizers": {k: v.state_dict() for k, v in self.optimizers().items()},
            "codes": self.codes,
            "labels": self.labels,
            "loss_fn": self.loss_fn.state_dict(),
            "generator": self.generator.get_state(),
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        for k, opt in self.optimizers().items():
            opt.load_state_dict(state["optimizers"][k])
        self.codes.copy_(state["codes"].to(self.device))
        self.labels.copy_(state["labels"].to(self.device))
        self.loss_fn.load_state_dict(state["loss_fn"])
        self.generator.set_state(state["generator"])
        self.load_extra_state(state["extra"])


@contextlib.contextmanager
def _restore(swapped):
    """Put back the BatchNorm layers :func:`saatlib.distributed._swap_batchnorms` replaced."""
    try:
        yield
    finally:
        for parent, name, bn in swapped:
            setattr(parent, name, bn)


def adversarial_training(defense: Defense, seed: int = 0, checkpoint: str | Path | None = None,
                         progress: bool = True, callback: EpochCallback | None = None,
                         postfix_every: int = 10, trace_every: int = 10) -> list[dict]:
    """Run (or resume) the epochs of ``defense``; the model is trained in place.

    Args:
        defense: a :class:`Defense` (its params give epochs and batch size).
        seed: seeds the batch order (a function of (seed, epoch) only) and the
            global torch RNG inside the loop (dropout); the caller's global RNG
            state is restored afterwards.
        checkpoint: file of the per-epoch checkpoint; when it exists, training
            resumes after its last finished epoch. None: no checkpoints.
        progress: show a progress bar with the running loss terms.
        callback: ``callback(epoch, record)`` after each finished epoch, once its
            checkpoint is on disk (an exception there interrupts training
            resumably; tests use it).

    Under ``torchrun`` (:mod:`saatlib.distributed`) each rank trains on its slice of
    every global batch: BatchNorm layers use the global batch's statistics, the
    random starts are the ranks' slices of one global draw, the code and loss
    buffers get the whole batch on every rank, gradients are averaged over the
    ranks (:meth:`Defense.step`), and the main rank writes the checkpoints: the
    same training as one process up to float reduction order.
    Returns:
        history: one dict per epoch — ``epoch``, the mean ``loss`` and mean loss
        terms over the epoch's steps, ``lr`` (at the epoch's last step),
        ``seconds`` (wall time of the epoch), ``cpu_seconds`` (CPU time of
        this process over the epoch, all threads; with one torch thread it
        estimates the wall time on an otherwise idle machine) and ``trace``:
        the loss terms averaged over blocks of ``trace_every`` consecutive
        steps, each ``{"step": global index of the block's last step, <term>: mean}``
        (the training curve within the epoch; a last, shorter block included).
    """
    if int(trace_every) < 1:
        raise ValueError(f"trace_every must be a positive integer, got {trace_every!r}")
    p = defense.params
    epochs, batch_size = p.epochs, p.batch_size
    train_set, device, model = defense.train_set, defense.device, defense.model
    steps_per_epoch = len(data_loader(train_set, batch_size, drop_last=True))
    if steps_per_epoch == 0:
        raise ValueError(f"batch_size {batch_size} exceeds the {len(train_set)} training items")
    defense.total_steps = epochs * steps_per_epoch
    world = distributed.world_size()
    swapped = distributed._swap_batchnorms(model, False) if world > 1 else []  # batch statistics of the global batch
    with seeding.seeded(seed, device), _restore(swapped):
        history: list[dict] = []
        start = 0
        state = load_checkpoint(checkpoint) if checkpoint is not None else None
        if state is not None:
            defense.load_state_dict(state["defense"])
            set_rng_state(state["rng"])
            history, start = list(state["history"]), int(state["epoch"])
            defense.resumed_from_epoch = start
            log.info("%s: resuming after epoch %d of %d from %s", defense.name, start, epochs, checkpoint)
        step = start * steps_per_epoch
        model.train()
        bar = progress_bar(defense.name, epochs * steps_per_epoch, step, progress, leave=False)
        try:
            for epoch in range(start, epochs):
                bar.set_description(f"{defense.name} epoch {epoch + 1}/{epochs}")
                t0, c0, n, sums = time.perf_counter(), time.process_time(), 0, {}
                trace, block, block_n = [], {}, 0
                lr = defense.params.lr
                batches = (data_loader(train_set, batch_size, shuffle=True, seed=seed, epoch=epoch, drop_last=True)
                           if world == 1 else distributed.shard_loader(train_set, batch_size, seed=seed, epoch=epoch))
                for x, y, idx in batches:
                    x, y, idx = x.to(device), y.to(device), idx.to(device)
                    lr = defense.set_lr(step)
                    terms = defense.train_step(x, y, idx, step)
                    for k, v in terms.items():
                        sums[k] = sums.get(k, 0.0) + v
                        block[k] = block.get(k, 0.0) + v
                    n, step, block_n = n + 1, step + 1, block_n + 1
                    if block_n == trace_every or n == steps_per_epoch:
                        # block means stay tensors until the epoch ends: no host-device sync per block
                        trace.append((step - 1, {k: v / block_n for k, v in block.items()}))
                        block, block_n = {}, 0
                    bar.update(1)
                    if progress and (n % postfix_every == 0 or n == steps_per_epoch):
                        bar.set_postfix({k: f"{float(v) / n:.4f}" for k, v in sums.items()}, refresh=False)
                if world > 1:  # the global batch's means: the mean of the ranks' (equal-sized) shares
                    sums = distributed.mean_over_ranks({k: torch.as_tensor(v, device=device) for k, v in sums.items()})
                record = epoch_record(defense.name, epoch, {
                    **{k: float(v) / max(n, 1) for k, v in sums.items()}, "lr": lr,
                    "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
                    "trace": [{"step": i, **{k: float(v) for k, v in means.items()}} for i, means in trace]})
                history.append(record)
                if checkpoint is not None and distributed.is_main():
                    save_checkpoint(checkpoint, epoch=epoch + 1, step=step, defense=defense.state_dict(),
                                    history=history, device=device)
                if callback is not None:
                    callback(epoch, record)
        finally:
            bar.close()
    model.eval()
    return history
