"""``python -m saatlib reproduce``: the paper's Table I (and, on request, Table II) beside the paper's values."""
from __future__ import annotations

import argparse
import json
import sys

from saatlib.cli.common import add_common, dataset_label, precision_of
from saatlib.models.pretrained import install_weights
from saatlib.profiles import get_profile
from saatlib.hashing import method_names
from saatlib.report.reproduce import reproduce
from saatlib.report.tables import NON_TARGETED_ROWS, TARGETED_ROWS
from saatlib.seeding import set_threads
from saatlib.store import RunStore

HELP = (f"train the DPH victims, run the Table I attacks ({', '.join(NON_TARGETED_ROWS)}; "
        f"{', '.join(TARGETED_ROWS)}) and write CSV and Markdown tables with the paper's values beside ours")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    bits = next(a for a in p._actions if a.dest == "bits")  # several code lengths here
    bits.nargs, bits.default, bits.help = "+", [16, 32, 48, 64], "code lengths K (Table I: 16 32 48 64)"
    p.set_defaults(profile="paper")
    p.add_argument("--out", default="results", help="folder for table1_<dataset>_<profile>.csv / .md")
    p.add_argument("--hash-method", default="DPH", help=f"victim hashing method: {', '.join(method_names())}")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: the profile's)")
    p.add_argument("--batch-size", type=int, default=None, help="training batch size (default: the profile's)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the profile's)")
    p.add_argument("--num-train", type=int, default=None, help="training images (default: the profile's)")
    p.add_argument("--attack-steps", type=int, default=None, help="iterations of every iterative attack, not ProS-GAN (default: the "
                                                                  "profile's budgets)")
    p.add_argument("--pnet-steps", type=int, default=None, help="PrototypeNet training steps of THA and ProS-GAN "
                                                                "(default: the profile's, 30000 in 'paper')")
    p.add_argument("--prosgan-epochs", type=int, default=None, help="ProS-GAN's GAN epochs, half of them with a "
                                                                    "decaying lr (default: the profile's, 100 in "
                                                                    "'paper')")
    p.add_argument("--defense-epochs", type=int, default=None, help="epochs of every Table II defense (default: "
                                                                    "the profile's, 20/100/30 in 'paper')")
    p.add_argument("--num-queries", type=int, default=-1, help="queries attacked (default: the profile's)")
    p.add_argument("--topk", type=int, default=-1, help="MAP@topk (default: the profile's)")
    p.add_argument("--paper-dataset", default=None, help="the paper's dataset column to compare with "
                                                         "(default: --dataset)")
    p.add_argument("--plan", action="store_true",
                   help="print the plan (stages, forward/backward passes, status in the run store, time estimated "
                        "from a short calibration on this device) and exit")
    p.add_argument("--no-plan", action="store_true", help="start without the plan and the per-stage ETA lines")
    p.add_argument("--calibrate-seconds", type=float, default=2.0,
                   help="seconds of each kind of step timed for the plan's estimates")
    p.add_argument("--defenses", nargs="*", default=[], metavar="DEFENSE",
                   help="also fill Table II with these defenses (SAAT ATRDH, as the paper; the defended models are trained once and cached)")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    if args.weights:
        install_weights(args.backbone or get_profile(args.profile)["hashing"]["backbone"], args.weights)
    result = reproduce(
        args.dataset, args.bits, profile=args.profile, out_dir=args.out, data_dir=args.data_dir,
        hash_method=args.hash_method, seed=args.seed, random_init=args.random_init,
        paper_dataset=args.paper_dataset, store=RunStore(args.runs_dir), device=args.device,
        progress=not args.no_progress, attack_steps=args.attack_steps, num_queries=args.num_queries,
        topk=args.topk, defenses=args.defenses, recompute=args.recompute,
        backbone=args.backbone, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        image_size=args.image_size, num_train=args.num_train, precision=precision_of(args),
        pnet_steps=args.pnet_steps, defense_epochs=args.defense_epochs, prosgan_epochs=args.prosgan_epochs, name=dataset_label(args),
        plan=args.plan, say=None if args.no_plan or args.plan else _say, calibrate_seconds=args.calibrate_seconds,
    )
    if args.plan:
        if args.json:
            json.dump({k: result[k] for k in ("plan", "stages", "calibration")}, sys.stdout, default=float)
            sys.stdout.write("\n")
        else:
            print(result["plan"])
        return 0
    if args.json:
        result["verdicts"] = [dict(c.as_record(), key=c.key, dataset=c.dataset) for c in result["verdicts"]]
        json.dump(result, sys.stdout, default=float)
        sys.stdout.write("\n")
    else:
        for path in result["files"]:
            if path.endswith(".md"):
                print(open(path, encoding="utf-8").read())
        print("wrote " + ", ".join(result["files"]))
    return 0
