"""The retrieval protocol: disjoint query and database, training inside the database.

:func:`make_protocol` draws the three index sets for data that ship as one pool
(Fashion-MNIST). :func:`subsample` shrinks a split given by list files. Both
are deterministic functions of ``seed`` (local generators, see
:mod:`saatlib.data.rng`), and every returned index tensor is sorted, so items
keep their pool order inside each role.
"""
from __future__ import annotations

import logging
import operator
from typing import NamedTuple, Sequence

import torch

from saatlib.data.rng import torch_generator

logger = logging.getLogger(__name__)

#: Queries drawn when ``num_query`` is None (as in the CIFAR-10 protocol of the paper).
DEFAULT_NUM_QUERY = 1000
#: Training images drawn from the database when ``num_train`` is None (CIFAR-10 protocol).
DEFAULT_NUM_TRAIN = 5000


class Protocol(NamedTuple):
    """Sorted int64 index tensors into the pool: query, database, train (train is a subset of database)."""

    query: torch.Tensor
    database: torch.Tensor
    train: torch.Tensor


def positive_int(name: str, value: object) -> int:
    """``value`` as an int after checking it is a positive integer (bools refused)."""
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        number = 0
    if isinstance(value, bool) or number < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value!r}")
    return number


def check_size(name: str, value: int | None, available: int, what: str) -> int:
    """``value`` (``available`` when None) after checking 1 <= value <= available."""
    if value is None:
        return available
    value = positive_int(name, value)
    if value > available:
        raise ValueError(f"{name}={value} but only {available} {what}; ask for at most {available}")
    return value


def _draw(candidates: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` distinct items of ``candidates``, uniformly at random, sorted."""
    perm = torch.randperm(candidates.numel(), generator=gen)[:n]
    return candidates[perm].sort().values


def make_protocol(num_items: int, num_query: int | None = None, num_database: int | None = None,
                  num_train: int | None = None, seed: int = 0,
                  query_pool: Sequence[int] | torch.Tensor | None = None) -> Protocol:
    """Split items ``0..num_items-1`` into query, database and training indices.

    - query: ``num_query`` items (default 1000) drawn from ``query_pool``
      (default: every item);
    - database: ``num_database`` items drawn from all items that are not
      queries (default: all of them), so query and database are disjoint;
    - train: ``num_train`` items (default ``min(5000, database size)``) drawn
      from the database.

    Three independent streams of ``seed`` make the draws, so the query set does
    not change when only the database or training size changes.

    Raises:
        ValueError: a size is not a positive int or exceeds what is available.
    """
    pool = torch.arange(num_items) if query_pool is None else torch.as_tensor(query_pool, dtype=torch.int64).unique()
    if pool.numel() and (int(pool.min()) < 0 or int(pool.max()) >= num_items):
        raise ValueError(f"query_pool holds indices outside 0..{num_items - 1}")
    if num_query is None:
        num_query = min(DEFAULT_NUM_QUERY, pool.numel())
    num_query = check_size("num_query", num_query, pool.numel(), "items may be queries")
    query = _draw(pool, num_query, torch_generator(seed, "protocol", "query"))
    rest_mask = torch.ones(num_items, dtype=torch.bool)
    rest_mask[query] = False
    rest = rest_mask.nonzero().squeeze(1)
    num_database = check_size("num_database", num_database, rest.numel(), "items remain for the database")
    database = _draw(rest, num_database, torch_generator(seed, "protocol", "database"))
    if num_train is None:
        num_train = min(DEFAULT_NUM_TRAIN, num_database)
    num_train = check_size("num_train", num_train, num_database, "database items can be drawn for training")
    train = _draw(database, num_train, torch_generator(seed, "protocol", "train"))
    logger.info("protocol (seed %d): %d query, %d database, %d train", seed, num_query, num_database, num_train)
    return Protocol(query, database, train)


def subsample(size: int, num: int | None, seed: int, stream: str) -> torch.Tensor:
    """Sorted indices of ``num`` of ``size`` items (all when None or too many, with a warning)."""
    if num is None:
        return torch.arange(size)
    num = positive_int(f"size of {stream!r}", num)
    if num >= size:
        if num > size:
            logger.warning("%s: asked for %d items, only %d exist; using all", stream, num, size)
        return torch.arange(size)
    return _draw(torch.arange(size), num, torch_generator(seed, "subsample", stream))
