"""Options shared by several commands."""
from __future__ import annotations

import argparse
import json
import sys

from saatlib.compute import AUTOCAST_DTYPES, Precision
from saatlib.profiles import profile_names


def add_common(p: argparse.ArgumentParser) -> None:
    """--dataset, --data-dir, --bits, --profile, --seed, --device, --runs-dir, --json..."""
    p.add_argument("--dataset", default="fashion-mnist",
                   help="fashion-mnist, fashion-mnist-mosaics, or a list-file dataset (NUS-WIDE, MS-COCO, ...)")
    p.add_argument("--data-dir", default=None, help="folder of a list-file dataset (default: data/<dataset>)")
    p.add_argument("--bits", type=int, default=32, help="code length K")
    p.add_argument("--profile", default="default", choices=profile_names(), help="preset of sizes and epochs")
    p.add_argument("--seed", type=int, default=0, help="seed of the protocol, initialisation and batch order")
    p.add_argument("--device", default="auto", help="torch device: auto (CUDA when available, else the CPU; one "
                                                   "log line says which), cpu, cuda, cuda:1, mps")
    p.add_argument("--amp", default="none", choices=["none", *AUTOCAST_DTYPES],
                   help="autocast dtype of the attacks' and training loops' forward passes (changes the numbers: "
                        "such runs are stored under their own keys)")
    p.add_argument("--channels-last", action="store_true",
                   help="channels-last memory layout in the attacks and training loops (faster on GPUs; float "
                        "rounding differs, so such runs are stored under their own keys)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--runs-dir", default=None, help="run store folder (default: $SAAT_RUNS or runs/)")
    p.add_argument("--recompute", action="store_true", help="ignore and replace cached results")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def precision_of(args: argparse.Namespace) -> Precision:
    """The :class:`saatlib.compute.Precision` of ``--amp`` and ``--channels-last``."""
    return Precision(None if args.amp == "none" else args.amp, bool(args.channels_last))


def emit(args: argparse.Namespace, row: dict, text: str) -> None:
    """Print ``row`` as JSON (``--json``) or ``text``."""
    if args.json:
        json.dump(row, sys.stdout, default=float)
        sys.stdout.write("\n")
    else:
        print(text)


def collapse_warning(diversity: dict | None) -> str:
    """A line warning about a collapsed or near-collapsed model ('' when its codes are fine or unknown)."""
    if not diversity or diversity.get("status", "ok") == "ok":
        return ""
    return (f"\nwarning: {diversity['status']} model: {diversity['distinct']} distinct database codes for "
            f"{diversity['classes']} classes, {diversity['constant_bits']} constant bits; its MAP under attack "
            "says nothing about robustness")
