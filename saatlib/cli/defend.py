"""``python -m saatlib defend``: adversarially train a hash model and print its Table II row."""
from __future__ import annotations

import argparse

from saatlib.cli.common import add_common, collapse_warning, emit, precision_of, dataset_label, victim_config
from saatlib.seeding import set_threads
from saatlib.store import RunStore
from saatlib.experiments import CHECK, evaluate_defense
from saatlib.defense.registry import METHODS

HELP = ("adversarially train a hash model (SAAT, ATRDH, CgAT; 'none' = undefended) and print its MAP on benign "
        "queries and under HAG, SDHA, SAAT and a check attack")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--method", default="SAAT", type=str, help=f"defense: {', '.join(METHODS)}")
    p.add_argument("--hash-method", default="DPH", help="hashing method of the victim (its loss is the benign term)")
    p.add_argument("--lambda", dest="lam", type=float, default=None,
                   help="weight of the adversarial term (SAAT, CgAT; default: the method's, 1)")
    p.add_argument("--mu", type=float, default=None,
                   help="weight of the quantisation term (SAAT 1e-4, CgAT 0; default: the method's)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: the profile's)")
    p.add_argument("--num-queries", type=int, default=-1, help="queries attacked (default: the profile's)")
    p.add_argument("--topk", type=int, default=-1, help="MAP@topk (default: the profile's)")
    p.add_argument("--attacks", default=None, help="comma-separated attacks (default: HAG,SDHA,SAAT)")
    p.add_argument("--no-check", action="store_true", help="skip the check attack (PGD with random restarts)")
    p.add_argument("--steps", type=int, default=None,
                   help="iterations of every attack, the check attack included (default: the profile's)")


def run(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    config = victim_config(args, args.hash_method)
    overrides = {"lambda": args.lam, "mu": args.mu, "epochs": args.epochs}
    attacks = [a.strip() for a in args.attacks.split(",") if a.strip()] if args.attacks else None
    r = evaluate_defense(config, args.method, profile=args.profile, store=RunStore(args.runs_dir),
                         device=args.device, progress=not args.no_progress, recompute=args.recompute,
                         num_queries=args.num_queries, topk=args.topk, attacks=attacks, check=not args.no_check,
                         recompute_model=args.recompute, steps=args.steps, precision=precision_of(args),
                         **overrides)
    row = {"dataset": dataset_label(args), "victim": config["method"], "bits": args.bits, "profile": args.profile,
           **{k: r[k] for k in ("defense", "map_benign", "map_under_attack", "train_seconds", "num_queries",
                                "topk", "params", "check_attack", "status", "diversity")},
           # per-epoch loss terms; the within-epoch trace stays in the run store
           "history": [{k: v for k, v in h.items() if k != "trace"} for h in r["history"]]}
    cols = ", ".join(f"{'check' if k == CHECK else k} {v:.4f}" for k, v in r["map_under_attack"].items())
    text = (f"{r['defense']} on {config['method']} {args.bits} bits, {dataset_label(args)} ({args.profile}, "
            f"{r['num_queries']} queries, MAP@{r['topk']}): benign {r['map_benign']:.4f}; under attack: {cols}; "
            f"trained in {r['train_seconds']:.1f} s") + collapse_warning(r["diversity"])
    emit(args, row, text)
    return 0
