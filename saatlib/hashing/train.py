"""Training loop for deep hashing models (reference section 1), resumable epoch by epoch.

With a ``checkpoint`` file, :func:`train_hashing` writes after every epoch (atomically,
:mod:`saatlib.checkpoint`) the model, the optimiser, the loss's buffers (U, Y of
pairwise losses), the global RNG states (dropout), the global step (the tanh
scale and the learning rate are functions of it) and the history; run again
with the same file after an interruption (an exception, a kill -9, a power cut)
it continues after the last finished epoch and ends with the same weights as an
uninterrupted run (CPU: bit for bit). Batch order is a function of (seed,
epoch) only, so nothing else needs storing.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

import torch
from saatlib import distributed
from saatlib.checkpoint import read_checkpoint, set_rng_state, write_checkpoint
from saatlib.data import data_loader
from saatlib.epochs import epoch_record, progress_bar
from saatlib.hashing.losses import build_loss
from saatlib.schedules import lr_factor

log = logging.getLogger(__name__)

#: version of the hashing-training checkpoint's fields
CHECKPOINT_FORMAT = 1


def make_optimizer(params, optimizer: str, lr: float, weight_decay: float, momentum: float = 0.9):
    """SGD (momentum) or Adam, by name."""
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {optimizer!r}; choose 'sgd' or 'adam'")


def train_hashing(
    model,
    train_set,
    method: str,
    epochs: int,
    batch_size: int,
    optimizer: str = "adam",
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    lr_schedule: str = "none",
    seed: int = 0,
    device="cpu",
    progress: bool = True,
    loss_pairs: str = "seen",
    checkpoint: str | Path | None = None,
    callback: Callable[[int, dict], None] | None = None,
    precision=None,
) -> list[dict]:
    """Train ``model`` in place with the loss of ``method``.

    Args:
        model: a :class:`saatlib.models.HashModel` (already on ``device``).
        train_set: an ImageSet with labels (N, C).
        method: a name from :func:`saatlib.hashing.method_names`.
        seed: seeds the batch order (the caller seeds model initialisation).
        loss_pairs: which training items a pairwise loss averages over,
            ``"seen"`` or ``"all"`` (the released code; see
            :class:`saatlib.hashing.losses.base.HashLoss`).
        batch_size: the global batch; under ``torchrun`` with N processes (see
            :mod:`saatlib.distributed`) each process trains on its B/N share in
            ``DistributedDataParallel``, and pairwise losses' buffers U, Y get
            the whole batch on every rank, so the run equals one process of
            batch B up to float reduction order (not exactly for HashNet, whose
            pair weights use the local batch, nor with dropout).
        checkpoint: file of the per-epoch checkpoint (None: none); when it
            exists, training resumes after its last finished epoch (see the
            module docstring). Only the main rank writes it.
        callback: ``callback(epoch, record)`` after each finished epoch, once
            its checkpoint is on disk (tests interrupt training there).
        precision: a :class:`saatlib.precision.Precision` (bf16 autocast,
            channels-last) for the forward passes; None: float32, as always.
    Returns:
        history: one dict per epoch with the mean loss, mean loss terms, the
        learning rate and the epoch's wall time in seconds (:func:`saatlib.epochs.epoch_record`:
        a non-finite loss stops the training with a FloatingPointError).
    """
    loss_fn = build_loss(method, len(train_set), model.bits, train_set.num_classes, pairs=loss_pairs).to(device)
    opt = make_optimizer(model.parameters(), optimizer, lr, weight_decay)
    history, step, start = [], 0, 0
    state = read_checkpoint(checkpoint, CHECKPOINT_FORMAT, "hashing training") if checkpoint is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        loss_fn.load_state_dict(state["loss_fn"])
        set_rng_state(state["rng"])
        history, step, start = list(state["history"]), int(state["step"]), int(state["epoch"])
        log.info("train %s: resuming after epoch %d of %d from %s", method, start, epochs, checkpoint)
    model.train()
    world = distributed.world_size()
    bar = progress_bar(f"train {method}", epochs, start, progress and distributed.is_main())
    run_model = precision.wrap(model) if precision is not None else model
    with distributed.data_parallel(run_model, device, seed) as net:
        for epoch in range(start, epochs):
            for group in opt.param_groups:
                group["lr"] = lr * lr_factor(epoch, epochs, lr_schedule)
            t0, total, terms, n = time.perf_counter(), torch.zeros((), device=device), {}, 0
            batches = (data_loader(train_set, batch_size, shuffle=True, seed=seed, epoch=epoch, drop_last=True)
                       if world == 1 else distributed.shard_loader(train_set, batch_size, seed=seed, epoch=epoch))
            for x, y, idx in batches:
                x, y, idx = x.to(device), y.to(device), idx.to(device)
                h = net(x, alpha=loss_fn.tanh_scale(step))
                if world > 1 and loss_fn.uses_buffers:  # the whole global batch into U, Y on every rank
                    loss_fn.update_buffers(*(distributed.all_gather(t) for t in (h.detach(), y, idx)))
                loss, parts = loss_fn(h, y, idx, step)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach()
                for k, v in parts.items():
                    terms[k] = terms.get(k, 0.0) + v
                n, step = n + 1, step + 1
            if world > 1:  # losses of the global batch: the mean of the ranks' (equal-sized) shares
                reduced = distributed.mean_over_ranks({"loss": total, **terms})
                total, terms = reduced.pop("loss"), reduced
            record = epoch_record(f"train {method}", epoch, {
                "loss": (total / max(n, 1)).item(), "lr": opt.param_groups[0]["lr"],
                **{k: (v / max(n, 1)).item() for k, v in terms.items()}, "seconds": time.perf_counter() - t0})
            history.append(record)
            bar.update(1)
            bar.set_postfix(loss=f"{record['loss']:.4f}")
            if checkpoint is not None and distributed.is_main():
                write_checkpoint(checkpoint, CHECKPOINT_FORMAT, device, epoch=epoch + 1, step=step,
                                 model=model.state_dict(), optimizer=opt.state_dict(),
                                 loss_fn=loss_fn.state_dict(), history=history)
            if callback is not None:
                callback(epoch, record)
    bar.close()
    model.eval()
    return history
