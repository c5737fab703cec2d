"""ProS-GAN's training curve: t-MAP after every epoch, against the benign and the prototype ("theory") t-MAP.

Trains ProS-GAN (no run store: the bench times training itself) against the
default-profile victim of each dataset (DPH, 32 bits) with the settings given,
and after every epoch prints the t-MAP@topk of the adversarial queries (SAAT's
scoring: the stored targets sharing no label with the query), the benign t-MAP
(the same targets, benign codes) and the theory t-MAP (the prototype codes), and
the training seconds so far (CPU and wall, the evaluations left out; the first point includes
loading the training images and the PrototypeNet). The target: t-MAP >= benign + (theory - benign) / 2.

    python bench/prosgan_bench.py --threads 1 --gen-dim 16 --res-blocks 1 --epochs 3 --decay-epochs 2
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time

import torch

from saatlib.attack.evaluate import codes_of
from saatlib.attack.prosgan import ProSGANAttack
from saatlib.attack.prosgan_train import adversarial_image, train_prosgan
from saatlib.experiments import hash_targets, load_run
from saatlib.experiments.attacks import query_batch
from saatlib.experiments.prosgan import training_images
from saatlib.metrics import average_precision
from saatlib.primitives import binarize
from saatlib.profiles import get_profile
from saatlib.seeding import set_threads
from saatlib.store import RunStore

log = logging.getLogger("prosgan_bench")


def curve(dataset: str, params, num_queries: int, topk: int, seed: int = 0) -> dict:
    run = load_run(dataset, "DPH", 32, "default", seed, "cpu")
    codes = run.codes
    x, y = query_batch(run.splits, num_queries)
    targets = hash_targets(run.config, RunStore(), codes)[: len(y)]
    db, db_y = codes["db_codes"], codes["db_labels"]

    def tmap(c):
        return float(average_precision(c, db, targets, db_y, topk=topk).mean())

    benign = tmap(codes_of(run.model, x))
    xt, yt = training_images(run.splits, params.num_train)
    points = []
    t0 = time.process_time()
    w0 = time.perf_counter()

    spent = {"cpu": 0.0, "wall": 0.0}  # evaluation time, left out of the training time

    def on_epoch(epoch, pnet, gen):
        c0, e0 = time.process_time(), time.perf_counter()
        with torch.no_grad():
            f, h, _ = pnet.heads(targets)
            x_adv = torch.cat([adversarial_image(gen(2 * x[s:s + 250] - 1, f[s:s + 250]), x[s:s + 250], params.eps,
                                                 params.bound) for s in range(0, len(x), 250)])
        adv = tmap(codes_of(run.model, x_adv))
        p = {"epoch": epoch, "tmap": adv, "theory": tmap(binarize(h)), "linf": float((x_adv - x).abs().amax()),
             "l2": float((x_adv - x).flatten(1).norm(dim=1).mean()), "cpu_s": c0 - t0 - spent["cpu"],
             "wall_s": e0 - w0 - spent["wall"]}
        points.append(p)
        log.info("%s epoch %d: t-MAP %.3f (benign %.3f, theory %.3f), l_inf %.4f, %.0f s", dataset, epoch, adv,
                 benign, p["theory"], p["linf"], p["wall_s"])
        spent["cpu"] += time.process_time() - c0
        spent["wall"] += time.perf_counter() - e0
        return {"tmap": adv}

    out = train_prosgan(run.model, xt, yt, codes["train_codes"], codes["train_labels"], db_y, params, seed,
                        on_epoch=on_epoch)
    theory = points[-1]["theory"] if points else None
    final = points[-1]["tmap"] if points else None
    return {"dataset": dataset, "benign": benign, "theory": theory, "final": final,
            "halfway": None if theory is None else benign + (theory - benign) / 2,
            "reached": None if theory is None else final >= benign + (theory - benign) / 2,
            "train_seconds": out["seconds"], "pnet_losses": out["pnet_losses"][-3:], "points": points,
            "history": out["history"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["fashion-mnist", "fashion-mnist-mosaics"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--num-queries", type=int, default=200)
    parser.add_argument("--topk", type=int, default=None, help="default: the default profile's cut-off")
    parser.add_argument("--json", default=None, help="also write the curves here")
    for f in dataclasses.fields(ProSGANAttack.Params):
        if f.name in ("bound",):
            parser.add_argument("--bound", default=None)
            continue
        kind = float if f.type in ("float",) else int
        parser.add_argument("--" + f.name.replace("_", "-"), type=kind, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    set_threads(args.threads)
    prof = get_profile("default")
    settings = dict(prof["attack"].get("ProS-GAN", {}))
    settings.update({f.name: getattr(args, f.name) for f in dataclasses.fields(ProSGANAttack.Params)
                     if getattr(args, f.name, None) is not None})
    params = ProSGANAttack(**settings).params
    topk = args.topk or prof["eval"]["topk"]
    log.info("settings: %s", params)
    results = [curve(d, params, args.num_queries, topk) for d in args.datasets]
    for r in results:
        log.info("%s: benign %.3f, theory %.3f, halfway %.3f, reached %.3f (%s) in %.0f s of training",
                 r["dataset"], r["benign"], r["theory"], r["halfway"], r["final"], r["reached"], r["train_seconds"])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"settings": dataclasses.asdict(params), "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
