"""The effect of the precision options (bf16 autocast, channels-last) on Table I / II cells.

    python bench/precision_effects.py [--profile smoke] [--dataset fashion-mnist] [--bits 32]
                                      [--victim DPH] [--defense SAAT] [--device auto]
                                      [--runs-dir DIR] [--json FILE] [--threads N]

For each precision (float32, bf16 autocast, channels-last; ``saatlib.compute.Precision``)
it runs Table I's non-targeted attacks and targeted SAAT on the float32 victim with that
precision, and trains and evaluates the ``--defense`` (Table II: its MAP under SAAT) with
it, then prints each cell's MAP and its paired difference from float32 (mean over the
queries of AP(precision) - AP(float32), with its standard error), and the attacks' time.
Every run goes through the run store (precision is part of the keys when it is on), so a
second call is instant. On a CPU, bf16 autocast is emulated and slow: the figures measure
the numeric effect, not the speed (``bench/gpu_check.py`` measures the speed on a GPU).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # saatlib without an install

from saatlib.compute import Precision, resolve_device  # noqa: E402
from saatlib.experiments import evaluate_defense  # noqa: E402
from saatlib.experiments.attacks import run_attack  # noqa: E402
from saatlib.experiments.hash_models import hashing_config  # noqa: E402
from saatlib.report.tables import paired_difference  # noqa: E402
from saatlib.seeding import set_threads  # noqa: E402
from saatlib.store import RunStore  # noqa: E402

PRECISIONS = {"fp32": Precision(), "bf16": Precision("bf16"), "channels-last": Precision(channels_last=True)}
CELLS = [("HAG", False), ("SDHA", False), ("SAAT", False), ("SAAT", True)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--bits", type=int, default=32)
    ap.add_argument("--victim", default="DPH")
    ap.add_argument("--defense", default="SAAT")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--runs-dir", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    set_threads(args.threads)
    device, store = resolve_device(args.device), RunStore(args.runs_dir)
    cfg = hashing_config(args.dataset, args.victim, args.bits, args.profile)
    out: dict[str, dict] = {}
    for label, precision in PRECISIONS.items():
        for name, targeted in CELLS:
            r = run_attack(cfg, name, targeted, args.profile, store=store, device=device, precision=precision)
            out.setdefault(f"Table I {name}{'-targeted' if targeted else ''}", {})[label] = r
        r = evaluate_defense(cfg, args.defense, args.profile, store=store, device=device, attacks=["SAAT"],
                             check=False, precision=precision)
        out.setdefault(f"Table II {args.defense} under SAAT", {})[label] = r["attacks"]["SAAT"]
    print(f"{args.dataset}, {args.victim} {args.bits} bits, profile {args.profile!r}, device {device}")
    print(f"{'cell':30s} {'fp32':>7s} " + " ".join(f"{k:>7s} {'diff (se)':>16s}" for k in list(PRECISIONS)[1:])
          + "   attack seconds (fp32 / bf16 / channels-last)")
    rows = {}
    for cell, by in out.items():
        base = by["fp32"]
        parts, row = [], {"fp32": base["map_adversarial"]}
        for label in list(PRECISIONS)[1:]:
            d, se = paired_difference(by[label]["ap"]["adversarial"], base["ap"]["adversarial"])
            parts.append(f"{by[label]['map_adversarial']:7.4f} {d:+8.4f} ({se:.4f})")
            row[label] = {"map": by[label]["map_adversarial"], "diff": d, "se": se}
        secs = " / ".join(f"{by[k]['seconds']:.1f}" for k in PRECISIONS)
        print(f"{cell:30s} {base['map_adversarial']:7.4f} " + " ".join(parts) + f"   {secs}")
        rows[cell] = row
    if args.json:
        Path(args.json).write_text(json.dumps({"profile": args.profile, "dataset": args.dataset, "cells": rows},
                                              indent=1))


if __name__ == "__main__":
    main()
