"""Attack iterations per second on CPU: saatlib's SAAT attack vs a reference-style loop.

Same model (smallcnn, 28x28 grey, random weights, eval mode), same batch, same
mainstay codes and random start. Ours: :class:`saatlib.attack.SAATAttack` (the
LinfPGD engine: ``torch.autograd.grad`` w.r.t. the input only, no host sync).
Reference style (the released code's loop): ``loss.backward()`` (which also
fills every parameter's ``.grad``), ``x.grad.zero_()`` and a per-step
``loss.item()``. Both must produce the same adversarial batch; the script checks.

    python bench/attack_bench.py [--batch 32] [--steps 100] [--repeats 3] [--threads 1]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # saatlib without an install

from saatlib.attack import AttackContext, SAATAttack, mainstay_loss, tanh_scale  # noqa: E402
from saatlib.attack.engine import SAAT_SCHEDULE  # noqa: E402
from saatlib.models import build_model  # noqa: E402


def reference_attack(model, x, target, eps, step_size, steps, generator):
    """The released code's way: .backward() on the whole graph, .grad.zero_(), .item() each step."""
    noise = torch.rand(x.shape, generator=generator, dtype=x.dtype)
    x_adv = torch.min(torch.max(x + (2 * noise - 1) * eps, x - eps), x + eps).clamp(0, 1)
    x_adv.requires_grad_(True)
    losses = []
    for i in range(steps):
        loss = mainstay_loss(model(x_adv, tanh_scale(i, steps, SAAT_SCHEDULE)), target, False)
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            x_adv -= step_size * x_adv.grad.sign()
            x_adv.copy_(torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1))
        x_adv.grad.zero_()
    return x_adv.detach()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    g = torch.Generator().manual_seed(0)
    model = build_model("smallcnn", 32, 1, pretrained=False).eval()
    x = torch.rand(args.batch, 1, 28, 28, generator=g)
    labels = torch.eye(10)[torch.randint(0, 10, (args.batch,), generator=g)]
    train_labels = torch.eye(10)[torch.arange(500) % 10]
    train_codes = torch.randint(0, 2, (500, 32), generator=g).float() * 2 - 1
    context = AttackContext(train_codes, train_labels, train_codes, train_labels)
    attack = SAATAttack(steps=args.steps)
    target = attack.reference_codes(labels, context)

    def ours():
        return attack(model, x, labels, context, torch.Generator().manual_seed(1))

    def reference():
        return reference_attack(model, x, target, attack.eps, attack.step_size, args.steps,
                                torch.Generator().manual_seed(1))

    same = torch.equal(ours(), reference())  # also the warm-up
    times = {"ours": [], "reference": []}
    for _ in range(args.repeats):  # interleaved, so load changes hit both alike
        for name, fn in (("ours", ours), ("reference", reference)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    rate = {k: args.steps / statistics.median(v) for k, v in times.items()}
    print(f"SAAT attack, smallcnn 28x28, batch {args.batch}, {args.steps} steps, {args.threads} thread(s), "
          f"median of {args.repeats}")
    print(f"  ours (LinfPGD, autograd.grad)          {rate['ours']:8.1f} it/s")
    print(f"  reference (.backward, .item per step)  {rate['reference']:8.1f} it/s")
    print(f"  ratio ours / reference                 {rate['ours'] / rate['reference']:8.2f}x")
    print(f"  same adversarial batch: {same}")


if __name__ == "__main__":
    main()
