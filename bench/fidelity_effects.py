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
- loss_pairs: the victim's benign MAP and its MAP under SAAT, trained on all pairs vs seen pairs;
- anchor_draw: P2P and DHTA t-MAP, per-query vs shared anchors (Fashion-MNIST);
- tha_pnet_batch: THA t-MAP, PrototypeNet batch 128 vs 32 (Fashion-MNIST);
- prosgan_bound, prosgan_hash_scale: ProS-GAN t-MAP, unbounded vs l_inf 8/255 (both datasets), tanh
  scale 1 vs the profile's (Fashion-MNIST), with the perturbation's mean l_inf and l_2 norms;
- prosgan_scoring: ProS-GAN t-MAP, its own scoring (whole database, unrestricted targets) vs SAAT's;
- ranking_ties: every Table I cell of Fashion-MNIST, ties by database index vs the expectation over
  tie orders (the codes of the cell's adversarial examples, stored beside them).

``--only NAME ...`` measures those rows alone and keeps the other rows' stored effects (each
effect records the date it was measured).
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


def effect(name, dataset, cell, released_ap, other_ap, note: str | None = None) -> dict:
    verdict = judge([a - b for a, b in zip(released_ap, other_ap)])
    gap, se = verdict.diff, verdict.se
    e = {"name": name, "dataset": SHORT[dataset], "cell": cell, "released": sum(released_ap) / len(released_ap),
         "other": sum(other_ap) / len(other_ap), "gap": gap, "se": se, "num_queries": len(released_ap),
         "date": datetime.date.today().isoformat()}
    if note:
        e["note"] = note
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


def _size(r: dict) -> str:
    p = r["perceptibility"]
    return f"l_inf {p['linf']:.3f}, l_2 {p['l2']:.2f}" if "l2" in p else f"l_inf {p['linf']:.3f}"


def issue20_effects(profile: str, store: RunStore, nq: dict, progress: bool) -> list[dict]:
    """P2P/DHTA anchors, THA's PrototypeNet batch and ProS-GAN's switches, on Fashion-MNIST."""
    from saatlib.attack.registry import build_attack
    from saatlib.experiments.prosgan import prosgan_own_scoring

    cfg = hashing_config(FM, "DPH", 32, profile)

    def run(attack, **kw):
        return run_attack(cfg, attack, True, profile, num_queries=nq[FM], store=store, progress=progress, **kw)

    out = []
    for attack in ("P2P", "DHTA"):
        out.append(effect("anchor_draw", FM, f"{attack} t-MAP", run(attack, anchor_draw="per_query")["ap"]["adversarial"],
                          run(attack, anchor_draw="shared")["ap"]["adversarial"]))
    out.append(effect("tha_pnet_batch", FM, "THA t-MAP", run("THA", pnet_batch_size=128)["ap"]["adversarial"],
                      run("THA", pnet_batch_size=32)["ap"]["adversarial"]))
    bounded, free = run("ProS-GAN"), run("ProS-GAN", bound="none")
    out.append(effect("prosgan_bound", FM, "ProS-GAN t-MAP", free["ap"]["adversarial"], bounded["ap"]["adversarial"],
                      f"perturbation {_size(bounded)} -> {_size(free)} (means over queries)"))
    mos = hashing_config(MOS, "DPH", 32, profile)
    b_mos, f_mos = (run_attack(mos, "ProS-GAN", True, profile, num_queries=nq[MOS], store=store, progress=progress,
                               **kw) for kw in ({}, {"bound": "none"}))
    out.append(effect("prosgan_bound", MOS, "ProS-GAN t-MAP", f_mos["ap"]["adversarial"], b_mos["ap"]["adversarial"],
                      f"perturbation {_size(b_mos)} -> {_size(f_mos)} (means over queries)"))
    released_scale = run("ProS-GAN", hash_scale=1.0)
    out.append(effect("prosgan_hash_scale", FM, "ProS-GAN t-MAP", released_scale["ap"]["adversarial"],
                      bounded["ap"]["adversarial"]))
    own = prosgan_own_scoring(cfg, build_attack("ProS-GAN", True, profile), profile, nq[FM], store, progress=progress)
    out.append(effect("prosgan_scoring", FM, "ProS-GAN t-MAP", own["ap"]["adversarial"], bounded["ap"]["adversarial"],
                      f"benign t-MAP {bounded['tmap_benign']:.3f} -> {own['tmap_benign']:.3f}"))
    return out


def ties_effects(profile: str, store: RunStore, nq: dict, progress: bool) -> list[dict]:
    """What ties decide in the Table I cells of Fashion-MNIST: per-query AP with ties broken by database
    index (ours) against the expectation over random tie orders (``ties="expected"``, what an unstable
    sort such as the released np.argsort gives on average), on the same codes."""
    from saatlib.attack.registry import NON_TARGETED, TARGETED
    from saatlib.experiments import attack_with_examples, hash_targets, load_run
    from saatlib.experiments.attacks import query_batch
    from saatlib.metrics import average_precision
    from saatlib.profiles import get_profile

    run = load_run(FM, "DPH", 32, profile, store=store)
    topk = get_profile(profile)["eval"]["topk"]
    n = nq[FM]
    _, y = query_batch(run.splits, n)
    targets = hash_targets(run.config, store, run.codes)[:n]
    db, db_y = run.codes["db_codes"], run.codes["db_labels"]

    def pair(codes, labels, cell):
        stable = average_precision(codes, db, labels, db_y, topk=topk).tolist()
        expected = average_precision(codes, db, labels, db_y, topk=topk, ties="expected").tolist()
        return effect("ranking_ties", FM, cell, expected, stable, "released: random tie order, its expectation")

    out = [pair(run.codes["query_codes"][:n], y, "Original MAP")]
    for targeted, names in ((False, NON_TARGETED), (True, TARGETED)):
        for name in names:
            r = attack_with_examples(run, name, targeted, profile, num_queries=n, store=store, progress=progress)
            cell = f"{name}{'-targeted' if targeted and name == 'SAAT' else ''} {'t-MAP' if targeted else 'MAP'}"
            out.append(pair(r["adv_codes"], targets if targeted else y, cell))
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
    p.add_argument("--only", nargs="+", default=None, help="measure these rows only, keep the others' effects")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.only_markdown:
        store, progress = RunStore(args.runs_dir), not args.no_progress
        nq = {FM: args.queries or attacked_queries(args.profile, FM, None),
              MOS: args.mosaic_queries or attacked_queries(args.profile, MOS, None)}
        if args.only:
            stored = fidelity.load_effects(Path(args.out))
            effects = [e for e in issue20_effects(args.profile, store, nq, progress) if e["name"] in args.only]
            if "ranking_ties" in args.only:
                effects += ties_effects(args.profile, store, nq, progress)
            effects = [e for e in stored["effects"] if e["name"] not in args.only] + effects
            write(args.out, stored["meta"], effects)
        else:
            # Fashion-MNIST first, the mosaics last (their victim is the costliest to train)
            effects = (attack_effects(args.profile, store, nq, progress, (FM,))
                       + defense_effects(args.profile, store, progress)
                       + loss_pairs_effects(args.profile, store, nq, progress)
                       + issue20_effects(args.profile, store, nq, progress)
                       + ties_effects(args.profile, store, nq, progress)
                       + attack_effects(args.profile, store, nq, progress, (MOS,)))
            write(args.out, meta_now(args, nq), effects)
    if args.markdown:
        text = fidelity.ledger_markdown(fidelity.load_effects(Path(args.out)))
        Path(args.markdown).write_text(text, encoding="utf-8")
        print(f"wrote {args.markdown}")


def meta_now(args, nq: dict) -> dict:
    build = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parent).stdout.strip() or "?"
    return {"date": datetime.date.today().isoformat(), "build": build,
            "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, torch {torch.__version__}, "
                       f"{torch.get_num_threads()} torch thread(s) (trained models depend on it: float order)",
            "profile": args.profile, "victim": "DPH, 32 bits",
            "num_queries": f"{nq[FM]} (Fashion-MNIST), {nq[MOS]} (mosaics)"}


def write(path, meta: dict, effects: list[dict]) -> None:
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "effects": effects}, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
