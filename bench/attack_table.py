"""Table I analogue: attacks on a trained hash model (reference section 3).

    python bench/attack_table.py [--profile default] [--datasets fashion-mnist fashion-mnist-mosaics]
                                 [--victim DPH] [--bits 32] [--eps-sweep] [--num-queries N]
                                 [--runs-dir DIR] [--json FILE] [--no-progress]

Prints, per dataset, Original / HAG / SDHA / SAAT (MAP, lower = stronger) and
P2P / DHTA / THA / SAAT-targeted (t-MAP, higher = stronger) with the theory
MAP and wall time of each attack, then whether the paper's ordering holds
(SAAT lowest MAP, SAAT-targeted highest t-MAP); ``--eps-sweep`` adds SAAT's
MAP against eps. ``--num-queries`` attacks only the first N queries (default:
the profile's).
Every run goes through the run store, so a second call is instant.
"""
from __future__ import annotations

import argparse
import json

from saatlib.attack.registry import NON_TARGETED, TARGETED
from saatlib.experiments.attacks import run_attack
from saatlib.experiments.hash_models import hashing_config
from saatlib.report.rule import judge
from saatlib.store import RunStore


def table(dataset: str, victim: str, bits: int, profile: str, store: RunStore, num_queries: int | None = -1,
          progress: bool = True) -> list[dict]:
    cfg = hashing_config(dataset, victim, bits, profile)
    rows = []
    for targeted, names in ((False, NON_TARGETED), (True, TARGETED)):
        for name in names:
            r = run_attack(cfg, name, targeted, profile, num_queries=num_queries, store=store, progress=progress)
            rows.append(r)
            theory = "   n/a" if r["map_theory"] is None else f"{r['map_theory']:.4f}"
            extra = f"  (benign t-MAP {r['tmap_benign']:.4f})" if targeted else ""
            print(f"{dataset:24s} {r['attack']:14s} {'t-MAP' if targeted else 'MAP':5s} "
                  f"{r['map_adversarial']:.4f}  theory {theory}  benign MAP {r['map_benign']:.4f}  "
                  f"l_inf {r['perceptibility']['linf']:.4f}  {r['seconds']:7.1f} s{extra}", flush=True)
    nt = {r["attack"]: r["map_adversarial"] for r in rows if not r["targeted"]}
    tg = {r["attack"]: r["map_adversarial"] for r in rows if r["targeted"]}
    low, high = min(nt, key=nt.get), max(tg, key=tg.get)
    print(f"{dataset}: lowest MAP {low} ({'SAAT first, as in the paper' if low.startswith('SAAT') else 'not SAAT'}); "
          f"highest t-MAP {high} ({'SAAT first, as in the paper' if high.startswith('SAAT') else 'not SAAT'})",
          flush=True)
    ap = {(r["attack"], r["targeted"]): r["ap"]["adversarial"] for r in rows}
    for targeted, pick in ((False, min), (True, max)):
        values = tg if targeted else nt
        saat = "SAAT-targeted" if targeted else "SAAT"
        rival = pick((a for a in values if a != saat), key=values.get)
        verdict = judge([a - b for a, b in zip(ap[saat, targeted], ap[rival, targeted])])
        gap, se = verdict.diff, verdict.se
        print(f"{dataset}: {saat} - {rival} = {gap:+.4f} +- {se:.4f} {'t-' if targeted else ''}AP "
              f"(paired over {len(ap[saat, targeted])} queries)", flush=True)
    return rows



def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="default")
    p.add_argument("--datasets", nargs="+", default=["fashion-mnist", "fashion-mnist-mosaics"])
    p.add_argument("--victim", default="DPH")
    p.add_argument("--bits", type=int, default=32)
    p.add_argument("--eps-sweep", action="store_true")
    p.add_argument("--num-queries", type=int, default=-1, help="attacked queries (default: the profile's)")
    p.add_argument("--runs-dir", default=None, help="run store (default: $SAAT_RUNS or runs/)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", default=None, help="also write all rows to this JSON file")
    args = p.parse_args()
    store, out = RunStore(args.runs_dir), {}
    for ds in args.datasets:
        out[ds] = table(ds, args.victim, args.bits, args.profile, store, args.num_queries, not args.no_progress)
        if args.eps_sweep:
            cfg = hashing_config(ds, args.victim, args.bits, args.profile)
            for e in (1, 2, 4, 8, 16):
                r = run_attack(cfg, "SAAT", False, args.profile, eps=e / 255, num_queries=args.num_queries,
                               store=store, progress=not args.no_progress)
                print(f"{ds:24s} SAAT eps={e:2d}/255  MAP {r['map_adversarial']:.4f}  "
                      f"(benign {r['map_benign']:.4f})", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=float)


if __name__ == "__main__":
    main()
