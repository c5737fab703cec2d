"""``python -m saatlib attack``: attack a trained hash model and print the Table I row."""
from __future__ import annotations

import argparse

from saatlib.attack.registry import attack_fields, iterative, registered_attacks, runs_targeted
from saatlib.attack.variants import RULE_NAMES
from saatlib.experiments.attacks import run_attack
from saatlib.cli.common import add_common, collapse_warning, emit, precision_of, dataset_label, victim_config
from saatlib.seeding import set_threads
from saatlib.store import RunStore

HELP = "attack the query set of a trained hash model (an attack of the registry) and print MAP / t-MAP"


def _method_help() -> str:
    """The registered attacks, non-targeted and targeted (:func:`saatlib.attack.registry.registered_attacks`)."""
    names = registered_attacks()
    plain = [n for n in names if False in runs_targeted(n)]
    targeted = [n for n in names if True in runs_targeted(n)]
    return f"attack: {', '.join(plain)} (non-targeted); {', '.join(targeted)} (with --targeted)"


def _with(field: str) -> list[str]:
    """The registered attacks that have parameter ``field``."""
    return [n for n in registered_attacks() if field in attack_fields(n)]


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--method", default="SAAT", help=_method_help())
    p.add_argument("--targeted", action="store_true", help="targeted attack (t-MAP against drawn target labels)")
    p.add_argument("--hash-method", default="DPH", help="hashing method of the victim model")
    p.add_argument("--rule", default=None, choices=RULE_NAMES, help="update rule variant of the SAAT attack")
    p.add_argument("--eps", type=float, default=None, help="l_inf budget in [0,1] pixels (default: the profile's)")
    p.add_argument("--steps", type=int, default=None, help="attack iterations (default: the profile's; "
                   f"{', '.join(n for n in registered_attacks() if not iterative(n))} has none)")
    p.add_argument("--pnet-steps", type=int, default=None,
                   help=f"PrototypeNet training steps of {' and '.join(_with('pnet_steps'))} (default: the profile's)")
    p.add_argument("--num-queries", type=int, default=-1, help="queries attacked (default: the profile's)")
    p.add_argument("--topk", type=int, default=-1, help="MAP@topk (default: the profile's)")


def run(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    if args.pnet_steps is not None and "pnet_steps" not in attack_fields(args.method):
        raise ValueError("--pnet-steps is a parameter of the attacks with a PrototypeNet "
                         f"({', '.join(_with('pnet_steps'))}), not of {args.method}")
    config = victim_config(args, args.hash_method)
    r = run_attack(config, args.method, targeted=args.targeted, profile=args.profile, eps=args.eps,
                   steps=args.steps, rule=args.rule, num_queries=args.num_queries, topk=args.topk,
                   store=RunStore(args.runs_dir), device=args.device, progress=not args.no_progress,
                   recompute=args.recompute, precision=precision_of(args),
                   **({"pnet_steps": args.pnet_steps} if args.pnet_steps is not None else {}))
    row = {"dataset": dataset_label(args), "victim": config["method"], "bits": args.bits, "profile": args.profile,
           **{k: r[k] for k in ("attack", "targeted", "map_benign", "map_adversarial", "map_theory",
                                "perceptibility", "seconds", "num_queries", "topk", "cached")}}
    if r["targeted"]:
        row["tmap_benign"] = r["tmap_benign"]
    metric = "t-MAP" if r["targeted"] else "MAP"
    theory = "n/a" if r["map_theory"] is None else f"{r['map_theory']:.4f}"
    text = (f"{r['attack']} on {config['method']} {args.bits} bits, {dataset_label(args)} ({args.profile}, "
            f"{r['num_queries']} queries): benign MAP {r['map_benign']:.4f}, adversarial {metric} "
            f"{r['map_adversarial']:.4f}, theory {theory}, l_inf {r['perceptibility']['linf']:.4f}, "
            f"{r['seconds']:.1f} s{' (cached)' if r['cached'] else ''}")
    database = r.get("diversity", {}).get("database")
    row["codes"] = None if database is None else database["status"]
    text += collapse_warning(database)
    emit(args, row, text)
    return 0
