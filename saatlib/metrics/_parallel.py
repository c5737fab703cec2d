"""Run a metric on single-threaded CPU worker threads (internal).

On CPU a metric call runs in a worker thread with torch's intra-op parallelism set
to one thread, and its query chunks -- blocks of vectorised tensor ops that
release the GIL -- run on ``workers`` such threads at once (default: torch's thread
count). Compared with torch's OpenMP pool this avoids a barrier per op, which
matters on small shared machines: when another process holds a core, every
multi-threaded op waits for a time slice (milliseconds), and in our measurements
on 2 cores a metric call slowed down up to tenfold (a tiny call from 1 ms to 12 ms).

Everything runs without autograd (metrics are not differentiable), so codes that
still require grad are accepted. The calling thread's own thread setting is untouched; the process-wide default
that *new* threads start from is restored when the call ends. Results do not
depend on the number of workers (chunks are computed independently); peak memory
grows with the number of chunks in flight. On other devices everything runs in the
calling thread, chunk after chunk.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import torch

from ._validate import as_tensor

__all__ = ["run", "device_of"]

_CPUS = os.cpu_count() or 1


def device_of(x) -> torch.device:
    """Device of a tensor (CPU for arrays and lists)."""
    return as_tensor(x, "input").device


def _serial_map(chunk_fn, chunks) -> list:
    return [chunk_fn(start, stop) for start, stop in chunks]


def _no_grad(fn, *args):
    """``fn(*args)`` without autograd (grad mode is per thread, so each worker sets it)."""
    with torch.no_grad():
        return fn(*args)


def run(fn, device: torch.device, workers=None):
    """Return ``fn(pmap)``, where ``pmap(chunk_fn, chunks)`` is ``[chunk_fn(a, b) for (a, b) in chunks]``.

    On CPU, ``fn`` runs in a single-threaded worker thread and ``pmap`` spreads the
    chunks over ``workers`` single-threaded worker threads.
    """
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int or None (torch's thread count), got {workers!r}")
    if device.type != "cpu":
        return _no_grad(fn, _serial_map)
    threads = torch.get_num_threads()
    n = workers if workers is not None else max(1, min(threads, _CPUS))
    init = {"initializer": torch.set_num_threads, "initargs": (1,)}
    try:
        with ThreadPoolExecutor(1, **init) as outer, ThreadPoolExecutor(n, **init) as inner:
            def pmap(chunk_fn, chunks):
                return list(inner.map(lambda c: _no_grad(chunk_fn, *c), chunks))

            return outer.submit(_no_grad, fn, pmap).result()
    finally:
        torch.set_num_threads(threads)  # the default new threads inherit, changed by the workers
