"""Benchmark: SDHA's loss vectorised over the batch vs. the per-query loop.

Times the loss alone and the loss with its backward pass (what one attack
iteration pays on top of the model), on random codes and labels shaped like
the book's default profile (5000 training items, 10 single-label classes),
then checks that both versions agree (loss and gradients w.r.t. x_adv and
h_adv).

    python bench/sdha_bench.py [--batch 32 128 512] [--repeats 50] [--train 5000] [--bits 32]
                               [--classes 10] [--multilabel] [--device cpu] [--threads N]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from saatlib.attack.sdha import sdha_loss  # noqa: E402
from saatlib.primitives import shares_label as relevance  # noqa: E402
from saatlib.attack.sdha_loop import sdha_loss_loop  # noqa: E402


def make_inputs(batch, train, bits, classes, multilabel, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    if multilabel:
        train_labels = (torch.rand(train, classes, generator=g) < 0.15).float()
        labels = (torch.rand(batch, classes, generator=g) < 0.15).float()
    else:
        train_labels = torch.eye(classes)[torch.randint(classes, (train,), generator=g)]
        labels = torch.eye(classes)[torch.randint(classes, (batch,), generator=g)]
    codes = torch.randint(0, 2, (train, bits), generator=g).float() * 2 - 1
    fallback = torch.randint(0, 2, (batch, bits), generator=g).float() * 2 - 1
    x = torch.rand(batch, 3, 32, 32, generator=g)
    x_adv = (x + (torch.rand(x.shape, generator=g) * 2 - 1) * 8 / 255).clamp(0, 1)
    h_adv = torch.tanh(torch.randn(batch, bits, generator=g))
    to = lambda t: t.to(device)  # noqa: E731
    rel = relevance(to(labels), to(train_labels)).float()  # as the attack passes it
    return to(x), to(x_adv), to(h_adv), rel, to(codes), to(fallback)


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, repeats):
    fn()  # warm-up
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return min(times)  # best of `repeats` (timeit's convention; robust to a busy machine)


def loss_and_grads(loss_fn, x, x_adv, h_adv, rel, codes, fallback):
    xa = x_adv.clone().requires_grad_(True)
    h = h_adv.clone().requires_grad_(True)
    loss = loss_fn(xa, x, h, rel, codes, fallback)
    gx, gh = torch.autograd.grad(loss, [xa, h])
    return loss.detach(), gx, gh


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, nargs="+", default=[32, 128, 512])
    p.add_argument("--train", type=int, default=5000)
    p.add_argument("--bits", type=int, default=32)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--multilabel", action="store_true")
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"device {args.device}, threads {torch.get_num_threads()}, N_train {args.train}, K {args.bits}, "
          f"C {args.classes} ({'multi' if args.multilabel else 'single'}-label)")
    for batch in args.batch:
        x, x_adv, h_adv, rel, codes, fallback = make_inputs(batch, args.train, args.bits, args.classes,
                                                             args.multilabel, args.device)
        with torch.no_grad():
            t_vec = timed(lambda: sdha_loss(x_adv, x, h_adv, rel, codes, fallback), args.device, args.repeats)
            t_loop = timed(lambda: sdha_loss_loop(x_adv, x, h_adv, rel, codes, fallback), args.device, args.repeats)
        tb_vec = timed(lambda: loss_and_grads(sdha_loss, x, x_adv, h_adv, rel, codes, fallback),
                       args.device, args.repeats)
        tb_loop = timed(lambda: loss_and_grads(sdha_loss_loop, x, x_adv, h_adv, rel, codes, fallback),
                        args.device, args.repeats)
        lv, gxv, ghv = loss_and_grads(sdha_loss, x, x_adv, h_adv, rel, codes, fallback)
        ll, gxl, ghl = loss_and_grads(sdha_loss_loop, x, x_adv, h_adv, rel, codes, fallback)
        print(f"batch size {batch} (mean relevant items per query {rel.float().sum(1).mean().item():.0f})")
        print(f"  loss only      : vectorised {t_vec * 1e3:8.3f} ms   loop {t_loop * 1e3:8.3f} ms   "
              f"ratio {t_loop / t_vec:6.1f}x")
        print(f"  loss + backward: vectorised {tb_vec * 1e3:8.3f} ms   loop {tb_loop * 1e3:8.3f} ms   "
              f"ratio {tb_loop / tb_vec:6.1f}x")
        print(f"  max |loss diff| {(lv - ll).abs().item():.3e} (loss {lv.item():.6f})   "
              f"max |grad diff| x_adv {(gxv - gxl).abs().max().item():.3e}, "
              f"h_adv {(ghv - ghl).abs().max().item():.3e} (max |grad h_adv| {ghl.abs().max().item():.3e})")


if __name__ == "__main__":
    main()
