"""Command line: ``python -m saatlib <command> --help``.

Commands are registered from one module each (:data:`COMMANDS`).

Under ``torchrun --nproc_per_node=N -m saatlib <command>`` the process group is
started from torchrun's variables (:mod:`saatlib.distributed`), ``--device cuda``
means this rank's GPU, and only rank 0 prints.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys

import torch

from saatlib import distributed
from saatlib.cli import attack as _attack
from saatlib.cli import defend as _defend
from saatlib.cli import reproduce as _reproduce
from saatlib.cli import train as _train
from saatlib.compute import resolve_device
from saatlib.models.pretrained import PretrainedWeightsMissing
from saatlib.store import CorruptRunError

COMMANDS = {"train": _train, "attack": _attack, "defend": _defend, "reproduce": _reproduce}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m saatlib",
        description="Deep hashing, SAAT attacks and adversarial training (Yuan et al., IEEE TIFS 2023).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


class UsageError(ValueError):
    """A bad option value: reported in one line, exit code 2."""


def check_device(device: str) -> None:
    """Refuse a device this machine does not have, in one line that says what to use instead."""
    kind = str(device).split(":")[0]
    if kind == "cuda" and not torch.cuda.is_available():
        built = "built without CUDA" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build, no GPU found"
        raise UsageError(f"--device {device}: CUDA is not available here (torch {torch.__version__}, {built}); "
                         "use --device cpu")
    if kind == "cuda" and ":" in str(device) and int(str(device).split(":")[1]) >= torch.cuda.device_count():
        raise UsageError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s); "
                         f"use cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    if kind == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise UsageError(f"--device {device}: Apple's MPS is not available here; use --device cpu")


#: errors that mean bad input, missing files or a damaged run-store entry (one line that says what to do, exit 2);
#: anything else is a bug and shows its traceback
EXPECTED_ERRORS = (ValueError, FileNotFoundError, PretrainedWeightsMissing, CorruptRunError)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("saatlib.compute").setLevel(logging.INFO)  # the one line saying which device 'auto' chose
    if hasattr(args, "device"):
        args.device = resolve_device(args.device)
        try:
            check_device(args.device)
        except UsageError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        args.device = str(distributed.local_device(args.device))
    parallel = distributed.init_from_env(getattr(args, "device", "cpu"))
    quiet = contextlib.redirect_stdout(io.StringIO()) if not distributed.is_main() else contextlib.nullcontext()
    try:
        with quiet:
            return args.run(args) or 0
    except EXPECTED_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        if parallel:
            distributed.cleanup()
