"""Deep hashing losses and their registry.

Add a method: write a :class:`HashLoss` subclass in its own module and add it
to :data:`LOSSES`; training, the CLI and the book pick it up by name.
"""
from saatlib.hashing.losses.base import HashLoss, similarity
from saatlib.hashing.losses.csq import CSQLoss, hash_centers
from saatlib.hashing.losses.dph import DPHLoss
from saatlib.hashing.losses.dpsh import DPSHLoss
from saatlib.hashing.losses.hashnet import HashNetLoss

LOSSES: dict[str, type[HashLoss]] = {
    "DPH": DPHLoss,
    "DPSH": DPSHLoss,
    "HashNet": HashNetLoss,
    "CSQ": CSQLoss,
}


def method_names() -> list[str]:
    """Hashing methods known to :func:`build_loss`."""
    return list(LOSSES)


def build_loss(method: str, num_train: int, bits: int, num_classes: int, **kwargs) -> HashLoss:
    """Instantiate the loss of ``method`` (case-insensitive)."""
    by_lower = {k.lower(): v for k, v in LOSSES.items()}
    if method.lower() not in by_lower:
        raise ValueError(f"unknown hashing method {method!r}; choose one of {method_names()}")
    return by_lower[method.lower()](num_train, bits, num_classes, **kwargs)


def canonical_method(method: str) -> str:
    """Canonical spelling of ``method`` (e.g. 'csq' -> 'CSQ')."""
    for k in LOSSES:
        if k.lower() == method.lower():
            return k
    raise ValueError(f"unknown hashing method {method!r}; choose one of {method_names()}")


__all__ = ["LOSSES", "HashLoss", "build_loss", "canonical_method", "hash_centers", "method_names", "similarity"]
