"""Measure each fidelity switch's effect on our Table I / II cells (saatlib.fidelity).

    python bench/fidelity_effects.py [--profile default] [--queries N] [--mosaic-queries N]
                                     [--out saatlib/fidelity_effects.json] [--markdown FIDELITY.md]

For every ledger row with a switch, the cells it can move are computed with the
released setting and with the other one, on the same queries, and the paired
difference of per-query AP (released - other) with its standard error is
written to the JSON file the ledger reads; ``--markdown`` then writes the
ledger page. Every run goes through the run store (the library-default runs
are the chapters' own), so a second call only re-reads.

Cells (DPH victim, 32 bits, the profile's budgets):
- dmfl_weighting: SAAT MAP and SAAT-targeted t-MAP, cosine vs overlap (both datasets);
- exact_ties: SAAT MAP and SAAT-targeted t-MAP, float32 noise vs exact ties (Fashion-MNIST);
- hag_sdha_step: HAG and SDHA MAP, reference batch 128 vs 100 (Fashion-MNIST);
- attack_mode, code_buffer: the SAAT-defended model's MAP under the SAAT attack (Fashion-MNIST);
- loss_pairs: the victim's benign MAP and its MAP under SAAT, trained on all pairs vs seen pairs.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch

from saatlib import fidelity
from saatlib.report.rule import judge
from saatlib.report.tables import attacked_queries
from saatlib.experiments.attacks import run_attack
from saatlib.experiments.hash_models import hashing_config
from saatlib.store import RunStore
from saatlib.experiments.robustness import evaluate_defense

FM, MOS = "fashion-mnist", "fashion-mnist-mosaics"
SHORT = {FM: "FM", MOS: "mosaics"}


def effect(name, dataset, cell, released_ap, other_ap) -> dict:
    verdict = judge([a - b for a, b in zip(released_ap, other_ap)])
    gap, se = verdict.diff, verdict.se
    e = {"name": name, "dataset": SHORT[dataset], "cell": cell, "released": sum(released_ap) / len(released_ap),
         "other": sum(other_ap) / len(other_ap), "gap": gap, "se": se, "num_queries": len(released_ap)}
    print(f"{name:16s} {fidelity.effect_text(e)}", flush=True)
    return e


def attack_effects(profile: str, store: RunStore, nq: dict, progress: bool, datasets=(FM, MOS)) -> list[dict]:
    out = []

    def ap(dataset, attack, targeted, **kw):
        cfg = hashing_config(dataset, "DPH", 32, profile)
        return run_attack(cfg, attack, targeted, profile, num_queries=nq[dataset], store=store, progress=progress,
                          **kw)["ap"]["adversarial"]

    for dataset in datasets:
        for targeted, cell in ((False, "SAAT MAP"), (True, "SAAT-targeted t-MAP")):
            out.append(effect("dmfl_weighting", dataset, cell, ap(dataset, "SAAT", targeted),
                              ap(dataset, "SAAT", targeted, weighting="overlap")))
    if FM not in datasets:
        return out
    for targeted, cell in ((False, "SAAT MAP"), (True, "SAAT-targeted t-MAP")):
        out.append(effect("exact_ties", FM, cell, ap(FM, "SAAT", targeted, exact_ties=False),
                          ap(FM, "SAAT", targeted)))
    for attack in ("HAG", "SDHA"):
        out.append(effect("hag_sdha_step", FM, f"{attack} MAP", ap(FM, attack, False),
                          ap(FM, attack, False, reference_batch=nq[FM])))
    return out


def defense_effects(profile: str, store: RunStore, progress: bool) -> list[dict]:
    cfg = hashing_config(FM, "DPH", 32, profile)

    def ap(**overrides):
        r = evaluate_defense(cfg, "SAAT", profile, store=store, progress=progress, attacks=["SAAT"], check=False,
                             **overrides)
        return r["attacks"]["SAAT"]["ap"]["adversarial"]

    return [effect("attack_mode", FM, "SAAT-defended, MAP under SAAT", ap(attack_mode="train"), ap()),
            effect("code_buffer", FM, "SAAT-defended, MAP under SAAT", ap(code_buffer="aliased"), ap())]


def loss_pairs_effects(profile: str, store: RunStore, nq: dict, progress: bool) -> list[dict]:
    out = {}
    for pairs in ("all", "seen"):
        cfg = hashing_config(FM, "DPH", 32, profile, **({"loss_pairs": "all"} if pairs == "all" else {}))
        out[pairs] = run_attack(cfg, "SAAT", False, profile, num_queries=nq[FM], store=store, progress=progress)["ap"]
    return [effect("loss_pairs", FM, "Original MAP", out["all"]["benign"], out["seen"]["benign"]),
            effect("loss_pairs", FM, "SAAT MAP", out["all"]["adversarial"], out["seen"]["adversarial"])]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="default")
    p.add_argument("--queries", type=int, default=None,
                   help="attacked Fashion-MNIST queries (default: the book's tables', the profile's defense queries)")
    p.add_argument("--mosaic-queries", type=int, default=None, help="attacked mosaic queries (default: likewise)")
    p.add_argument("--runs-dir", default=None)
    p.add_argument("--out", default=str(fidelity.EFFECTS_PATH))
    p.add_argument("--markdown", default=None, help="also write the ledger page here (e.g. FIDELITY.md)")
    p.add_argument("--only-markdown", action="store_true", help="only render --markdown from --out")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.only_markdown:
        store, progress = RunStore(args.runs_dir), not args.no_progress
        nq = {FM: args.queries or attacked_queries(args.profile, FM, None),
              MOS: args.mosaic_queries or attacked_queries(args.profile, MOS, None)}
        # Fashion-MNIST first, the mosaics last (their victim is the costliest to train)
        effects = (attack_effects(args.profile, store, nq, progress, (FM,))
                   + defense_effects(args.profile, store, progress)
                   + loss_pairs_effects(args.profile, store, nq, progress)
                   + attack_effects(args.profile, store, nq, progress, (MOS,)))
        build = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                               cwd=Path(__file__).resolve().parent).stdout.strip() or "?"
        meta = {"date": datetime.date.today().isoformat(), "build": build,
                "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, torch {torch.__version__}, "
                           f"{torch.get_num_threads()} torch thread(s) (trained models depend on it: float order)",
                "profile": args.profile, "victim": "DPH, 32 bits",
                "num_queries": f"{nq[FM]} (Fashion-MNIST), {nq[MOS]} (mosaics)"}
        tmp = Path(args.out).with_suffix(".tmp")
        tmp.write_text(json.dumps({"meta": meta, "effects": effects}, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, args.out)
        print(f"wrote {args.out}")
    if args.markdown:
        text = fidelity.ledger_markdown(fidelity.load_effects(Path(args.out)))
        Path(args.markdown).write_text(text, encoding="utf-8")
        print(f"wrote {args.markdown}")


if __name__ == "__main__":
    sys.exit(main())
