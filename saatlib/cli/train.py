"""``python -m saatlib train``: train (or load) a hash model and print its MAP."""
from __future__ import annotations

import argparse

from saatlib.cli.common import add_common, dataset_label, emit, victim_config
from saatlib.hashing import method_names
from saatlib.experiments.hash_models import train_and_evaluate
from saatlib.seeding import set_threads
from saatlib.profiles import eval_topk
from saatlib.store import RunStore

HELP = "train (or load from the run store) a deep hashing model and print MAP@topk of the query set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--method", default="CSQ", help=f"hashing method: {', '.join(method_names())}")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: the profile's)")
    p.add_argument("--batch-size", type=int, default=None, help="batch size (default: the profile's)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the profile's)")
    p.add_argument("--topk", type=int, default=None, help="MAP@topk (default: the profile's, 1000 in 'default')")


def run(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    config = victim_config(args, args.method, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)
    topk = args.topk if args.topk is not None else eval_topk(args.profile)
    record = train_and_evaluate(config, store=RunStore(args.runs_dir), device=args.device,
                                progress=not args.no_progress, recompute=args.recompute,
                                allow_random_init=args.random_init, topk=topk)
    row = {
        "dataset": dataset_label(args), "method": config["method"], "bits": args.bits, "profile": args.profile,
        "seed": args.seed, "topk": topk, "map": record["map"], "map_expected": record["map_expected"],
        "train_seconds": record["train_seconds"], "cached": record["cached"],
    }
    text = (f"{config['method']} {args.bits} bits on {dataset_label(args)} ({args.profile}): "
            f"MAP@{topk} = {record['map']:.4f} (tie-aware {record['map_expected']:.4f}); "
            f"trained in {record['train_seconds']:.1f} s{' (cached)' if record['cached'] else ''}")
    emit(args, row, text)
    return 0
