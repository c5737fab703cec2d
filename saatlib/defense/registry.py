"""Defenses by name, with settings resolved from a profile (reference section 4).

``DEFENSES`` maps each name to its class; :func:`defense_params` resolves a
defense's hyper-parameters. The profile's ``defense`` section::

    {"common": {...},            # overrides of the PGD / batch settings of every defense
     "SAAT": {...}, "ATRDH": {...}, "CgAT": {...},   # per-method overrides (epochs, lr, ...)
     "datasets": {"<dataset>": {"common": {...}, "SAAT": {...}, ...}},  # per-dataset overrides of both
     "eval": {"num_queries": ..., "attacks": [...], "check": {...}}}

Precedence, lowest first: the method's paper defaults, ``common``, the
method's entry, the dataset's ``common``, the dataset's method entry, the
caller's overrides.
"""
from __future__ import annotations

from saatlib.defense.atrdh import ATRDHDefense
from saatlib.defense.cgat import CgATDefense
from saatlib.defense.common import Defense
from saatlib.defense.saat import SAATDefense
from saatlib.profiles import defense_settings

DEFENSES: dict[str, type[Defense]] = {"SAAT": SAATDefense, "ATRDH": ATRDHDefense, "CgAT": CgATDefense}
METHODS = ("none", *DEFENSES)


def canonical_defense(method: str) -> str:
    """Canonical spelling of a defense name (``none``, ``SAAT``, ``ATRDH``, ``CgAT``)."""
    for name in METHODS:
        if name.lower() == str(method).lower():
            return name
    raise ValueError(f"unknown defense {method!r}; choose one of {list(METHODS)}")


def defense_params(method: str, profile: str = "default", dataset: str | None = None, **overrides) -> dict:
    """Resolved hyper-parameters of ``method``: paper defaults < profile (and its
    entry for ``dataset``) < ``overrides`` (None values are ignored), validated by the defense's
    ``Params`` dataclass (:class:`saatlib.defense.params.DefenseParams`; an unknown entry or a bad
    value is a ValueError naming it) and returned as its ``config()``, the ``params`` of the
    defense config. ``{}`` for ``none``."""
    method = canonical_defense(method)
    if method == "none":
        given = {k: v for k, v in overrides.items() if v is not None}
        if given:
            raise ValueError(f"the undefended model ('none') takes no defense hyper-parameters, got {sorted(given)}")
        return {}
    params = defense_settings(method, profile, dataset)
    params.update({k: v for k, v in overrides.items() if v is not None})
    return DEFENSES[method].resolve_params(params)
