"""Command line: ``python -m saatlib <command> --help``.

Commands are registered from one module each (``train`` here; later stages add
theirs to :data:`COMMANDS`).

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

from saatlib import distributed
from saatlib.cli import attack as _attack
from saatlib.cli import defend as _defend
from saatlib.cli import reproduce as _reproduce
from saatlib.cli import train as _train

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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if hasattr(args, "device"):
        args.device = str(distributed.local_device(args.device))
    parallel = distributed.init_from_env(getattr(args, "device", "cpu"))
    quiet = contextlib.redirect_stdout(io.StringIO()) if not distributed.is_main() else contextlib.nullcontext()
    try:
        with quiet:
            return args.run(args) or 0
    except (ValueError, FileNotFoundError, RuntimeError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        if parallel:
            distributed.cleanup()
