"""Command line: ``python -m saatlib <command> --help``.

Commands are registered from one module each (``train`` here; later stages add
theirs to :data:`COMMANDS`).
"""
from __future__ import annotations

import argparse
import logging
import sys

from saatlib.cli import attack as _attack
from saatlib.cli import train as _train

COMMANDS = {"train": _train, "attack": _attack}


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
    try:
        return args.run(args) or 0
    except (ValueError, FileNotFoundError, RuntimeError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
