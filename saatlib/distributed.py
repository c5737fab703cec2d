"""Data-parallel hashing training across processes (``torchrun``), CPU or CUDA.

Run any saatlib command under ``torchrun --nproc_per_node=N -m saatlib ...``:
:func:`init_from_env` reads torchrun's variables (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) and starts the default process
group (``gloo`` on CPU, ``nccl`` on CUDA). Without them everything here is a no-op
and a single process runs exactly as before.

What a rank does (see :func:`saatlib.hashing.train.train_hashing`):

- :class:`ShardedBatchLoader`: every rank draws the same seeded permutation as
  ``data_loader(shuffle=True, drop_last=True)`` and takes its contiguous
  ``batch_size / world_size`` slice of each global batch, so the union of the
  ranks' step-``t`` batches is the single-process step-``t`` batch;
- :func:`data_parallel`: the model in ``DistributedDataParallel`` (gradients
  averaged over ranks) with its BatchNorm layers synchronised (statistics over
  the global batch; ``nn.SyncBatchNorm`` on CUDA, :class:`GlobalBatchNorm` on
  CPU, where ``nn.SyncBatchNorm`` does not run);
- :func:`all_gather` of the batch outputs, labels and indices, so the code
  buffers U, Y of pairwise losses are identical on every rank;
- :func:`merge_batches`: the attacks split their query batches round-robin over
  the ranks (:func:`saatlib.attack.evaluate.attack_queries`; every rank replays
  the random draws of the batches it skips, so each batch sees the generator
  state of a single process) and gather the adversarial batches on every rank.

A loss that is a mean over batch rows (DPH, DPSH, CSQ) then gives, with N
processes of batch B/N, the same training as one process of batch B up to
floating-point reduction order. Not exact: HashNet (its pair weights count the
similar pairs of the local batch) and dropout (each rank draws its own masks).
Only the main rank (:func:`is_main`) should write files.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from typing import Iterator

import torch
import torch.distributed as dist
from torch import nn

from saatlib.data.loader import BatchLoader
from saatlib.data.rng import derive_seed

log = logging.getLogger(__name__)

_SOLO = contextvars.ContextVar("saatlib_distributed_solo", default=False)


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """Processes taking part in collectives: the default group's size (1 when not
    distributed, and inside :func:`solo`)."""
    return dist.get_world_size() if is_initialized() and not _SOLO.get() else 1


@contextlib.contextmanager
def solo() -> Iterator[None]:
    """Run the block as a single process (no collectives, ``world_size() == 1``):
    for work one rank does alone, e.g. the main rank's evaluation."""
    token = _SOLO.set(True)
    try:
        yield
    finally:
        _SOLO.reset(token)


def rank() -> int:
    return dist.get_rank() if is_initialized() else 0


def is_main() -> bool:
    """True on rank 0 (and in a single process): the rank that writes files."""
    return rank() == 0


def local_device(device="cpu") -> torch.device:
    """``device`` for this process: under torchrun a bare ``cuda`` becomes ``cuda:$LOCAL_RANK``."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None and "LOCAL_RANK" in os.environ:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return device


def init_from_env(device="cpu") -> bool:
    """Start the default process group from torchrun's variables when ``WORLD_SIZE > 1``.

    Returns True when this call started it (then call :func:`cleanup` at the
    end); False in a single process or when a group already exists.
    """
    if is_initialized():
        return False
    if int(os.environ.get("WORLD_SIZE", 1)) <= 1:
        return False
    device = local_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend, init_method="env://")
    log.info("rank %d of %d (%s, %s)", rank(), world_size(), backend, device)
    return True


def cleanup() -> None:
    """Leave the process group (no-op when not distributed)."""
    if is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def all_gather(t: torch.Tensor) -> torch.Tensor:
    """Concatenate ``t`` (same shape on every rank) of all ranks along dim 0, rank order.
    Not differentiable. Returns ``t`` itself in a single process."""
    if world_size() == 1:
        return t
    parts = [torch.empty_like(t) for _ in range(world_size())]
    dist.all_gather(parts, t.contiguous())
    return torch.cat(parts)


def merge_batches(mine: dict[int, torch.Tensor], n_batches: int) -> list[torch.Tensor]:
    """The batches ``0 .. n_batches - 1`` that the ranks computed (each rank its ``mine``: batch
    index -> CPU tensor), in index order, on every rank. Returns ``mine``'s values in a single process."""
    if world_size() == 1:
        return [mine[b] for b in range(n_batches)]
    parts: list = [None] * world_size()
    dist.all_gather_object(parts, {b: t.cpu() for b, t in mine.items()})
    merged = {b: t for part in parts for b, t in part.items()}
    missing = sorted(set(range(n_batches)) - set(merged))
    if missing:
        raise RuntimeError(f"batches {missing} were computed by no rank")
    return [merged[b] for b in range(n_batches)]


def all_agree(flag: bool, device="cpu") -> bool:
    """True when ``flag`` is True on every rank (a collective: call it on all ranks)."""
    if world_size() == 1:
        return bool(flag)
    device = torch.device(device) if dist.get_backend() == "nccl" else torch.device("cpu")
    t = torch.tensor([int(bool(flag))], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return bool(t.item())


def mean_over_ranks(values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Scalar tensors (one device) averaged over ranks, in one collective."""
    if world_size() == 1 or not values:
        return values
    stacked = torch.stack([v.float() for v in values.values()])
    dist.all_reduce(stacked)
    return dict(zip(values, stacked / world_size()))


class ShardedBatchLoader(BatchLoader):
    """This rank's share of the batches of ``data_loader(imageset, batch_size,
    shuffle=True, seed, drop_last=True, epoch)``: slice ``rank`` of ``world_size``
    equal contiguous slices of each global batch (``batch_size`` must divide)."""

    def __init__(self, imageset, batch_size: int, rank: int, world_size: int, seed: int = 0, epoch: int = 0,
                 num_workers: int = 0):
        if batch_size % world_size:
            raise ValueError(f"batch_size {batch_size} must be divisible by the number of processes {world_size} "
                             "(each takes batch_size / processes items of every batch)")
        super().__init__(imageset, batch_size // world_size, shuffle=True, seed=seed, drop_last=True, epoch=epoch,
                         num_workers=num_workers)
        self.global_batch, self.rank, self.world = batch_size, rank, world_size

    def __len__(self) -> int:
        return len(self.imageset) // self.global_batch

    def order(self, epoch: int | None = None) -> torch.Tensor:
        full = super().order(epoch)[: len(self) * self.global_batch]
        return full.view(len(self), self.world, self.batch_size)[:, self.rank].reshape(-1)


def shard_loader(imageset, batch_size: int, seed: int = 0, epoch: int = 0) -> ShardedBatchLoader:
    """:class:`ShardedBatchLoader` for this process's rank and world size."""
    return ShardedBatchLoader(imageset, batch_size, rank(), world_size(), seed, epoch)


class _AllReduceSum(torch.autograd.Function):
    """Differentiable all-reduce (sum): the gradient is summed over ranks as well."""

    @staticmethod
    def forward(ctx, t):
        t = t.clone()
        dist.all_reduce(t)
        return t

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class GlobalBatchNorm(nn.Module):
    """Wraps a BatchNorm layer (sharing its parameters and buffers) so that in
    training mode it normalises with the mean and variance of the global batch
    of all ranks (equal shard sizes), and updates the running statistics with
    them as one process with the whole batch would. Any device and backend."""

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm):
        super().__init__()
        self.bn = bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bn = self.bn
        if not bn.training:
            return bn(x)
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        n = x.numel() // x.shape[1] * world_size()
        mean = _AllReduceSum.apply(x.sum(dims)) / n
        xc = x - mean.view(shape)
        var = _AllReduceSum.apply((xc * xc).sum(dims)) / n
        y = xc * torch.rsqrt(var + bn.eps).view(shape)
        if bn.affine:
            y = y * bn.weight.view(shape) + bn.bias.view(shape)
        if bn.track_running_stats:
            with torch.no_grad():
                bn.num_batches_tracked.add_(1)
                f = bn.momentum if bn.momentum is not None else 1.0 / bn.num_batches_tracked.double()
                bn.running_mean.mul_(1 - f).add_(f * mean.detach())
                bn.running_var.mul_(1 - f).add_(f * var.detach() * (n / max(n - 1, 1)))
        return y


def _swap_batchnorms(model: nn.Module, cuda: bool) -> list[tuple[nn.Module, str, nn.Module]]:
    swapped = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                sync = nn.SyncBatchNorm.convert_sync_batchnorm(child) if cuda else GlobalBatchNorm(child)
                setattr(parent, name, sync)
                swapped.append((parent, name, child))
    return swapped


@contextlib.contextmanager
def data_parallel(model: nn.Module, device="cpu", seed: int = 0) -> Iterator[nn.Module]:
    """Yield the module to train: ``model`` itself in a single process; with
    several processes, ``model`` with synchronised BatchNorm in
    ``DistributedDataParallel``, and torch's RNG seeded per rank from ``seed``
    (distinct dropout masks). On exit the BatchNorm layers are put back (their
    parameters and statistics were shared, so ``model`` holds the result) and
    the caller's RNG state is restored."""
    if world_size() == 1:
        yield model
        return
    device = torch.device(device)
    cuda = device.type == "cuda"
    swapped = _swap_batchnorms(model, cuda)
    try:
        with torch.random.fork_rng(devices=[device.index or 0] if cuda else []):
            torch.manual_seed(derive_seed(seed, "data_parallel", rank()))
            yield nn.parallel.DistributedDataParallel(model, device_ids=[device] if cuda else None)
    finally:
        for parent, name, bn in swapped:
            setattr(parent, name, bn)
