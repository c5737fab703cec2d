"""Training loop for deep hashing models (reference section 1)."""
from __future__ import annotations

import logging
import time

import torch
from tqdm.auto import tqdm

from saatlib import distributed
from saatlib.data import data_loader
from saatlib.hashing.losses import build_loss
from saatlib.schedules import lr_factor

log = logging.getLogger(__name__)


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
    Returns:
        history: one dict per epoch with the mean loss, mean loss terms, the
        learning rate and the epoch's wall time in seconds.
    """
    loss_fn = build_loss(method, len(train_set), model.bits, train_set.num_classes, pairs=loss_pairs).to(device)
    opt = make_optimizer(model.parameters(), optimizer, lr, weight_decay)
    history, step = [], 0
    model.train()
    world = distributed.world_size()
    bar = tqdm(range(epochs), desc=f"train {method}", disable=not progress or not distributed.is_main())
    with distributed.data_parallel(model, device, seed) as net:
        for epoch in bar:
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
            record = {"epoch": epoch, "loss": (total / max(n, 1)).item(), "lr": opt.param_groups[0]["lr"]}
            record.update({k: (v / max(n, 1)).item() for k, v in terms.items()})
            record["seconds"] = time.perf_counter() - t0
            history.append(record)
            bar.set_postfix(loss=f"{record['loss']:.4f}")
            log.info("epoch %d: %s", epoch, record)
    model.eval()
    return history
