"""GPU check: SAAT attack and SAAT adversarial training on AlexNet-sized inputs.

For fp32, bf16 autocast, and both with channels_last, on synthetic 224x224 RGB
images and AlexNet with random weights (``build_model('alexnet', 32, 3,
pretrained=False)``), prints images per second of

- the SAAT attack (:class:`saatlib.attack.SAATAttack`, 100 iterations: one
  image = one query attacked to the end);
- one epoch of SAAT adversarial training (inner PGD 7 steps of 2/255, outer
  step; batch 32): :class:`saatlib.defense.SAATDefense` (with ``--manual-at``,
  the same loop written here with library parts).

Both run through the library's own precision path (:class:`saatlib.compute.Precision`,
what ``--amp bf16`` and ``--channels-last`` turn on in every command), and the
summary compares them with the targets on one H200: SAAT attack >= 1,000
images/s (100 iterations each), SAAT epoch >= 2,000 images/s.

Needs only torch, torchvision, numpy, tqdm and saatlib. Without CUDA it runs a
tiny CPU version (64x64 images, a few iterations) that only checks the script.

    python bench/gpu_check.py [--attack-batch 256] [--steps 100] [--train-images 2048] [--batch 32]

Under autocast the hash model's output is cast back to float32 by
:class:`saatlib.compute.PrecisionView` (code buffers keep one dtype).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # saatlib without an install

from saatlib.attack import AttackContext, SAATAttack  # noqa: E402
from saatlib.compute import Precision  # noqa: E402
from saatlib.data import InMemoryImageSet  # noqa: E402
from saatlib.defense import SAATDefense, adversarial_training  # noqa: E402
from saatlib.models import build_model  # noqa: E402

BITS, CLASSES = 32, 21
MODES = (("fp32", Precision()), ("bf16", Precision("bf16")),
         ("fp32 channels_last", Precision(channels_last=True)), ("bf16 channels_last", Precision("bf16", True)))
TARGET_ATTACK, TARGET_EPOCH = 1000.0, 2000.0  # images/s on one H200


def say(*parts) -> None:
    print(*parts, flush=True)


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_model(device):
    torch.manual_seed(0)
    return build_model("alexnet", BITS, 3, pretrained=False).to(device)


def multi_hot(n: int, g: torch.Generator) -> torch.Tensor:
    y = (torch.rand(n, CLASSES, generator=g) < 0.15).float()
    y[y.sum(1) == 0, 0] = 1
    return y


def time_attack(model, x, labels, context, steps, device, precision) -> float:
    view = precision.wrap(model)  # what evaluate_attack does with --amp / --channels-last
    SAATAttack(steps=2)(view, x, labels, context, torch.Generator(device=device).manual_seed(0))  # warm-up
    sync(device)
    t0 = time.perf_counter()
    SAATAttack(steps=steps)(view, x, labels, context, torch.Generator(device=device).manual_seed(0))
    sync(device)
    return time.perf_counter() - t0


def manual_at_epoch(model, train_set, batch, device, precision) -> None:
    """SAAT's minimax written with library parts (``--manual-at``: the loop without the library's bookkeeping)."""
    from saatlib.attack.engine import LinfPGD
    from saatlib.data import data_loader
    from saatlib.dmfl import mainstay_codes
    from saatlib.hashing import binarize, build_loss, encode

    codes, labels = (t.to(device) for t in encode(model, train_set, device=device))
    model = precision.wrap(model)
    loss_fn = build_loss("DPH", len(train_set), model.bits, train_set.num_classes).to(device)
    loss_fn.U.copy_(codes), loss_fn.Y.copy_(labels), loss_fn.seen.fill_(True)
    pgd, g = LinfPGD(8 / 255, 2 / 255, 7, True, schedule=None), torch.Generator(device=device).manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, weight_decay=1e-5)
    for step, (x, y, idx) in enumerate(data_loader(train_set, batch, shuffle=True, drop_last=True)):
        x, y, idx = x.to(device, non_blocking=True), y.to(device), idx.to(device)
        centre = mainstay_codes(y, codes, labels, "cosine")
        x_adv = pgd.perturb(model, x, lambda h: (h * centre).mean(), g)
        model.train()
        h_adv, h = model(x_adv), model(x)
        codes[idx] = binarize(h.detach())
        centre = mainstay_codes(y, codes, labels, "cosine")
        loss = loss_fn(h, y, idx, step)[0] - (h_adv * centre).mean() + 1e-4 * (h_adv - h_adv.sign()).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def at_epoch(model, train_set, batch, device, precision, manual: bool) -> None:
    if manual:
        return manual_at_epoch(model, train_set, batch, device, precision)
    defense = SAATDefense(model, train_set, "DPH", {"epochs": 1, "batch_size": batch}, seed=0, device=device,
                          precision=precision)
    adversarial_training(defense, seed=0, progress=False)


def time_training(model, train_set, batch, device, precision, manual: bool) -> float:
    at_epoch(model, train_set.subset(torch.arange(2 * batch)), batch, device, precision, manual)  # warm-up
    sync(device)
    t0 = time.perf_counter()
    at_epoch(model, train_set, batch, device, precision, manual)
    sync(device)
    return time.perf_counter() - t0


def main() -> None:
    cuda = torch.cuda.is_available()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attack-batch", type=int, default=256 if cuda else 4)
    ap.add_argument("--steps", type=int, default=100 if cuda else 3, help="SAAT attack iterations")
    ap.add_argument("--train-images", type=int, default=2048 if cuda else 16, help="images in the AT epoch")
    ap.add_argument("--batch", type=int, default=32 if cuda else 8, help="adversarial-training batch")
    ap.add_argument("--size", type=int, default=224 if cuda else 64, help="image side")
    ap.add_argument("--manual-at", action="store_true", help="time the hand-written AT loop, not saatlib.defense")
    ap.add_argument("--modes", nargs="+", default=[m[0] for m in MODES], choices=[m[0] for m in MODES])
    args = ap.parse_args()
    device = torch.device("cuda" if cuda else "cpu")
    if cuda:
        torch.backends.cudnn.benchmark = True
        say(f"device: {torch.cuda.get_device_name(device)}, torch {torch.__version__}, cudnn.benchmark on, "
            f"TF32 matmul {torch.backends.cuda.matmul.allow_tf32}, TF32 conv {torch.backends.cudnn.allow_tf32}")
    else:
        torch.set_num_threads(1)
        say(f"no GPU: tiny CPU run ({args.size}x{args.size}, {args.steps} attack steps) that only checks the script; "
            "its numbers mean nothing")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.attack_batch, 3, args.size, args.size, generator=g)
    labels = multi_hot(args.attack_batch, g)
    train_y = multi_hot(args.train_images, g)
    train_codes = torch.randint(0, 2, (args.train_images, BITS), generator=g).float() * 2 - 1
    context = AttackContext(train_codes, train_y, train_codes, train_y).to(device)
    train_set = InMemoryImageSet(torch.randint(0, 256, (args.train_images, 3, args.size, args.size), generator=g,
                                               dtype=torch.uint8), train_y)
    say(f"attack: SAAT, {args.steps} iterations, batch {args.attack_batch}; adversarial training: "
        f"{args.train_images} images, batch {args.batch}, PGD 7 steps")
    rows = []
    for name, precision in MODES:
        if name not in args.modes:
            continue
        model = make_model(device)
        xb = x.to(device)
        t_att = time_attack(model, xb, labels.to(device), context, args.steps, device, precision)
        say(f"{name:20s} attack   {args.attack_batch / t_att:9.1f} images/s "
            f"({args.attack_batch * args.steps / t_att:9.0f} image-iterations/s, {t_att:.2f} s)")
        t_at = time_training(model, train_set, args.batch, device, precision, args.manual_at)
        say(f"{name:20s} AT epoch {args.train_images / t_at:9.1f} images/s ({t_at:.2f} s)")
        rows.append((name, args.attack_batch / t_att, args.train_images / t_at))
        del model, xb
        if cuda:
            torch.cuda.empty_cache()
    say(f"\nsummary (images/s; targets on one H200: attack >= {TARGET_ATTACK:.0f}, epoch >= {TARGET_EPOCH:.0f}):")
    say("  mode                 | SAAT attack | AT epoch | targets met")
    for name, a, t in rows:
        met = "yes" if a >= TARGET_ATTACK and t >= TARGET_EPOCH else "no"
        say(f"  {name:20s} | {a:11.1f} | {t:8.1f} | {met if cuda else 'n/a (CPU)'}")


if __name__ == "__main__":
    main()
