"""The Table II analogue: MAP of defended models, benign and under attack.

For each dataset (default: fashion-mnist and fashion-mnist-mosaics), a DPH
victim with 32 bits is trained (or loaded from the run store), then defended
with ATRDH, CgAT and SAAT (``none`` = the undefended victim); every model is
attacked with HAG, SDHA, SAAT (the profile's budgets) and the check attack
(PGD with random restarts on a benign-code objective, a larger budget, an
objective no defense trains on). Prints MAP (%) per defense and attack, the
defense's training time, and two checks: does SAAT at least double the
undefended model's MAP under the SAAT attack, and does SAAT beat ATRDH under
every attack. The paper's Table II rows at the same code length are printed
for reference (:mod:`saatlib.report.paper`). Everything is cached in the run store,
so a second run only prints.

    python bench/defense_table.py [--profile default] [--datasets fashion-mnist,fashion-mnist-mosaics]
                                  [--methods none,ATRDH,CgAT,SAAT] [--bits 32] [--hash-method DPH]
                                  [--threads N] [--runs-dir DIR] [--json FILE] [--no-progress]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from saatlib.experiments import CHECK, evaluate_defense  # noqa: E402
from saatlib.experiments.hash_models import hashing_config  # noqa: E402
from saatlib.profiles import profile_names  # noqa: E402
from saatlib.report import paper  # noqa: E402
from saatlib.report.tables import TABLE2_ATTACKS, TABLE2_COLUMNS, table2_row  # noqa: E402
from saatlib.report.verdicts import defense_verdicts  # noqa: E402
from saatlib.store import RunStore  # noqa: E402

COLUMNS = (*TABLE2_ATTACKS, CHECK)


def paper_rows(bits: int) -> list[str]:
    """The paper's Table II rows at ``bits`` (MAP %), one line per defense and dataset."""
    table: dict[tuple[str, str], dict[str, float]] = {}
    for row in paper.paper_table("defenses"):
        if row["bits"] == bits:
            table.setdefault((row["defense"], row["dataset"]), {})[row["attack"]] = row["value"]
    lines = []
    for (defense, dataset), values in sorted(table.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cells = "  ".join(f"{values.get(a, float('nan')):6.2f}" for a in TABLE2_COLUMNS)
        lines.append(f"  {dataset:<11} {defense:<6} {cells}")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", default="default", choices=profile_names())
    p.add_argument("--datasets", default="fashion-mnist,fashion-mnist-mosaics")
    p.add_argument("--methods", default="none,ATRDH,CgAT,SAAT")
    p.add_argument("--bits", type=int, default=32)
    p.add_argument("--hash-method", default="DPH")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--runs-dir", default=None)
    p.add_argument("--json", default=None, help="also write all rows to this JSON file")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    store = RunStore(args.runs_dir)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    all_rows = []
    for dataset in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        cfg = hashing_config(dataset, args.hash_method, args.bits, args.profile, args.seed)
        rows = {}
        for method in methods:
            t0 = time.perf_counter()
            r = evaluate_defense(cfg, method, args.profile, store, args.device, not args.no_progress)
            r["wall_seconds"] = time.perf_counter() - t0
            rows[r["defense"]] = r
            all_rows.append({k: v for k, v in r.items() if k != "attacks"}
                            | {"attack_seconds": {a: v["seconds"] for a, v in r["attacks"].items()}})
            print(f"  [{dataset}] {r['defense']} done in {r['wall_seconds']:.0f} s", file=sys.stderr, flush=True)
        any_row = next(iter(rows.values()))
        print(f"\n{dataset}, {cfg['method']} {args.bits} bits, profile {args.profile}: MAP@{any_row['topk']} (%) of "
              f"{any_row['num_queries']} queries")
        if any_row.get("check_attack"):
            print(f"check = {any_row['check_attack']}")
        print(f"{'defense':<8}{'Original':>9}" + "".join(f"{c:>8}" for c in COLUMNS)
              + f"{'train s':>9}{'cpu s':>8}  epochs")
        for name, r in rows.items():
            cells = "".join(f"{100 * r['map_under_attack'].get(c, float('nan')):8.2f}" for c in COLUMNS)
            epochs = r["params"].get("epochs", "-")
            cpu = sum(h.get("cpu_seconds", float("nan")) for h in r["history"])
            print(f"{name:<8}{100 * r['map_benign']:9.2f}{cells}{r['train_seconds']:9.1f}{cpu:8.1f}  {epochs}")
        print("(train s: wall time of the defense's epochs; cpu s: CPU time of the process over them, all threads)")
        v = defense_verdicts({m: table2_row(r) for m, r in rows.items()}, attacks=COLUMNS)
        if v["saat_over_none"] is not None:
            base, saat = rows["none"]["map_under_attack"]["SAAT"], rows["SAAT"]["map_under_attack"]["SAAT"]
            print(f"check: SAAT-trained MAP under the SAAT attack {100 * saat:.2f} vs undefended {100 * base:.2f} "
                  f"-> x{v['saat_over_none']:.2f} ({'at least' if v['saat_doubles_none'] else 'less than'} twice)")
        if v["saat_beats_atrdh"] is not None:
            lost = [c for c, w in v["beats"].items() if not w]
            print("check: SAAT beats ATRDH under every attack" if not lost
                  else f"check: SAAT does not beat ATRDH under {', '.join(lost)}")
    ref = paper_rows(args.bits)
    if ref:
        print(f"\npaper, Table II, {args.bits} bits (MAP %):  " + "  ".join(f"{c:>6}" for c in TABLE2_COLUMNS))
        print("\n".join(ref))
    if args.json:
        Path(args.json).write_text(json.dumps(all_rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
