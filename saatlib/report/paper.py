"""The paper's published numbers, shipped as package data (``saatlib/resources``).

- Table I (attacks): ``method, metric, dataset, bits, value`` — MAP (%) of
  non-targeted attacks and t-MAP (%) of targeted ones on DPH + AlexNet.
- Table II (defenses): ``defense, attack, dataset, bits, value`` — MAP (%) of
  adversarially trained models under non-targeted attacks.

Each file starts with ``#`` lines citing its source; :func:`citation` returns them.
"""
from __future__ import annotations

import csv
import functools
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
TABLES = {"attacks": "paper_table1_attacks.csv", "defenses": "paper_table2_defenses.csv"}
#: datasets the paper reports
PAPER_DATASETS = ("FLICKR-25K", "NUS-WIDE", "MS-COCO")


def _path(table: str) -> Path:
    if table not in TABLES:
        raise ValueError(f"unknown paper table {table!r}; choose one of {sorted(TABLES)}")
    return RESOURCES / TABLES[table]


@functools.lru_cache(maxsize=None)
def _read(table: str) -> tuple[tuple[str, ...], tuple[dict, ...]]:
    lines = _path(table).read_text(encoding="utf-8").splitlines()
    comments = tuple(line.lstrip("# ").rstrip() for line in lines if line.startswith("#"))
    rows = []
    for row in csv.DictReader(line for line in lines if line.strip() and not line.startswith("#")):
        row["bits"], row["value"] = int(row["bits"]), float(row["value"])
        rows.append(row)
    return comments, tuple(rows)


def paper_table(table: str = "attacks") -> list[dict]:
    """Rows of the paper's Table I (``"attacks"``) or II (``"defenses"``); values in %."""
    return [dict(r) for r in _read(table)[1]]


def citation(table: str = "attacks") -> list[str]:
    """The header comment lines of a table's file (source, victim, metric), without ``#``."""
    return list(_read(table)[0])


def paper_value(table: str = "attacks", **match) -> float | None:
    """The value (%) of the row whose columns equal ``match`` (e.g. ``method="SAAT",
    dataset="NUS-WIDE", bits=32``); None when the paper has no such row."""
    for row in _read(table)[1]:
        if all(row.get(k) == v for k, v in match.items()):
            return row["value"]
    return None
