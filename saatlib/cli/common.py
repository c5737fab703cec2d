"""Options shared by several commands."""
from __future__ import annotations

import argparse
import json
import sys

from pathlib import Path

from saatlib.compute import AUTOCAST_DTYPES, Precision
from saatlib.experiments.hash_models import hashing_config
from saatlib.models import backbone_names
from saatlib.models.pretrained import install_weights, pretrained_available
from saatlib.profiles import hashing_settings, profile_names


def add_common(p: argparse.ArgumentParser) -> None:
    """--dataset, --data-dir, --bits, --profile, --seed, --device, --runs-dir, --json..."""
    p.add_argument("--dataset", default="fashion-mnist",
                   help="fashion-mnist, fashion-mnist-mosaics, or a list-file dataset (NUS-WIDE, MS-COCO, ...)")
    p.add_argument("--data-dir", default=None, help="folder of a list-file dataset (default: data/<dataset>)")
    p.add_argument("--name", default=None, help="name of the data set in outputs (default: --dataset, or the "
                                                "folder's name for --dataset listfile)")
    p.add_argument("--bits", type=int, default=32, help="code length K")
    p.add_argument("--backbone", default=None, help=f"one of {backbone_names()} (default: the profile's)")
    p.add_argument("--image-size", type=int, default=None,
                   help="image side (default: the backbone's natural size, 224 for ImageNet backbones; the "
                        "images' own for smallcnn)")
    p.add_argument("--weights", default=None, metavar="FILE",
                   help="a local file of the backbone's ImageNet weights (torchvision's state_dict), copied "
                        "into torch's cache (default: the cache, else a download)")
    p.add_argument("--random-init", action="store_true",
                   help="without cached ImageNet weights, start the backbone from random weights (no download "
                        "is tried)")
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


def dataset_label(args: argparse.Namespace) -> str:
    """How outputs name the data set: ``--name``, else the folder of ``--dataset listfile``, else ``--dataset``."""
    if args.name:
        return args.name
    if args.dataset.lower() == "listfile" and args.data_dir:
        return Path(args.data_dir).resolve().name
    return args.dataset


def victim_config(args: argparse.Namespace, method: str, bits: int | None = None, **overrides) -> dict:
    """The hashing config of the command's victim: ``--dataset``, ``--backbone``,
    ``--image-size``, precision, ImageNet weights (``--weights`` installed; ``--random-init``)
    and ``overrides`` (epochs, batch size, ...)."""
    backbone = args.backbone or hashing_settings(args.profile)[1]["backbone"]
    if args.weights:
        install_weights(backbone, args.weights)
    pretrained = pretrained_available(backbone, args.random_init) if backbone != "smallcnn" else None
    return hashing_config(args.dataset, method, args.bits if bits is None else bits, profile=args.profile,
                          seed=args.seed, data_dir=args.data_dir, backbone=args.backbone,
                          image_size=args.image_size, pretrained=pretrained, precision=precision_of(args),
                          **overrides)


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
