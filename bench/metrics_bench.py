"""Benchmark of saatlib.metrics: vectorised MAP against a plain per-query loop.

Run from the repository root::

    python bench/metrics_bench.py            # Q=2000, N=100,000, K=64, topk=5000, 21 labels
    python bench/metrics_bench.py --quick    # Q=200,  N=10,000 (seconds)

It prints, side by side: the per-query loop time (NumPy, released-code style but
with a stable argsort; run in a child process with ``--loop-threads`` BLAS threads,
default 1, since a plain loop gains nothing from more and loses a lot when another
process holds a core), the vectorised stable MAP time, the speed-up, the largest
absolute difference of per-query AP (and of MAP), the tie-aware MAP time, the
memory of packed vs unpacked codes per million 64-bit codes, and the peak memory
of the chunked computation (measured in a child process from the kernel's peak
RSS, unpacked and packed database).

Data: random +-1 codes; multi-label random labels (each of C labels with
probability 0.1, plus one guaranteed label per item), seed fixed.
Timings are wall-clock; the loop runs once, the vectorised call ``--repeats``
times (best and median reported; the speed-up uses the median). Other work on
the machine slows both: the load average is printed with the results.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _early_threads() -> None:
    """Apply ``--threads N`` to the BLAS/OpenMP pools before NumPy and torch load them."""
    for i, arg in enumerate(sys.argv):
        value = arg.split("=", 1)[1] if arg.startswith("--threads=") else (
            sys.argv[i + 1] if arg == "--threads" and i + 1 < len(sys.argv) else None)
        if value and value != "0":
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[var] = value


_early_threads()

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from saatlib.metrics import average_precision, mean_average_precision, pack_codes  # noqa: E402


def make_data(q: int, n: int, k: int, c: int, seed: int):
    """Random +-1 codes (float32) and multi-hot labels (float32) for queries and database."""
    gen = torch.Generator().manual_seed(seed)

    def codes(rows):
        return torch.randint(0, 2, (rows, k), generator=gen).float() * 2 - 1

    def labels(rows):
        y = (torch.rand(rows, c, generator=gen) < 0.1).float()
        y[torch.arange(rows), torch.randint(0, c, (rows,), generator=gen)] = 1.0
        return y

    return codes(q), codes(n), labels(q), labels(n)


def loop_average_precision(qb, db, ql, dl, topk):
    """Plain per-query loop (NumPy): distances, stable argsort, top k, AP. Returns (Q,) float64."""
    qb, db, ql, dl = (t.numpy() for t in (qb, db, ql, dl))
    k = db.shape[1]
    out = np.zeros(len(qb))
    for i in range(len(qb)):
        gnd = (ql[i] @ dl.T > 0).astype(np.float64)
        hamm = 0.5 * (k - db @ qb[i])
        order = np.argsort(hamm, kind="stable")
        top = gnd[order][:topk]
        found = int(top.sum())
        if found == 0:
            continue
        count = np.linspace(1, found, found)
        where = np.flatnonzero(top == 1) + 1.0
        out[i] = np.mean(count / where)
    return out


def timed(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times


def loop_child(args) -> None:
    """Child process: time the loop (BLAS threads as set in its environment), save the APs."""
    qb, db, ql, dl = make_data(args.queries, args.db, args.bits, args.labels, args.seed)
    t0 = time.perf_counter()
    ap = loop_average_precision(qb, db, ql, dl, args.topk)
    np.save(args.loop_child, ap)
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def run_loop(args):
    """Run the loop in a child process with ``--loop-threads`` BLAS/OpenMP threads: (AP, seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "ap.npy")
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.loop_threads)
        res = subprocess.run(_child_cmd(args) + ["--loop-child", out], capture_output=True, text=True,
                             check=True, env=env)
        seconds = json.loads(res.stdout.strip().splitlines()[-1])["seconds"]
        return np.load(out), seconds


def _child_cmd(args):
    return [sys.executable, __file__, "--queries", str(args.queries), "--db", str(args.db),
            "--bits", str(args.bits), "--topk", str(args.topk), "--labels", str(args.labels),
            "--seed", str(args.seed)] + (["--threads", str(args.threads)] if args.threads else [])


def peak_child(args) -> None:
    """Child process: peak RSS increase of one MAP call (database packed or not, per ``--peak-child``)."""
    qb, db, ql, dl = make_data(args.queries, args.db, args.bits, args.labels, args.seed)
    packed = args.peak_child == "packed"
    codes = pack_codes(db) if packed else db
    del db
    base = _rss_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS to the current RSS
    mean_average_precision(qb, codes, ql, dl, topk=args.topk, db_packed=packed)
    print(json.dumps({"MB": (_rss_kb("VmHWM") - base) / 1024}))


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure_peak(args) -> dict:
    """Peak RSS increase of a MAP call, unpacked and packed database, each in a fresh process."""
    out = {}
    for mode in ("unpacked", "packed"):
        try:
            res = subprocess.run(_child_cmd(args) + ["--peak-child", mode], capture_output=True, text=True,
                                 check=True, timeout=900)
            out[mode] = json.loads(res.stdout.strip().splitlines()[-1])["MB"]
        except (subprocess.SubprocessError, OSError, ValueError, KeyError) as err:  # no /proc, etc.
            out[mode] = f"not measured ({str(err)[:120]})"
    return out


def memory_per_million(bits: int) -> dict:
    codes = torch.randint(0, 2, (10_000, bits)).float() * 2 - 1
    scale = 1e6 / len(codes) / 2**20
    engine_copy = (bits + 1) * (2 if 2 * bits + 1 <= 255 else 4)
    return {
        "float32 (MB)": codes.element_size() * codes.numel() * scale,
        "int8 (MB)": codes.numel() * scale,
        "engine compute copy (MB)": engine_copy * 1e6 / 2**20,
        "packed uint8 (MB)": pack_codes(codes).numel() * scale,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small problem (Q=200, N=10,000)")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--db", type=int, default=100_000)
    parser.add_argument("--bits", type=int, default=64)
    parser.add_argument("--topk", type=int, default=5000)
    parser.add_argument("--labels", type=int, default=21)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    parser.add_argument("--loop-threads", type=int, default=1,
                        help="BLAS threads of the loop baseline (run in a child process; default 1)")
    parser.add_argument("--no-peak", action="store_true", help="skip the peak-memory child process")
    parser.add_argument("--peak-child", choices=("unpacked", "packed"), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--loop-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.queries, args.db, args.topk = 200, 10_000, 1000
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.peak_child:
        peak_child(args)
        return
    if args.loop_child:
        loop_child(args)
        return

    qb, db, ql, dl = make_data(args.queries, args.db, args.bits, args.labels, args.seed)
    print(f"Q={args.queries} N={args.db} K={args.bits} topk={args.topk} labels={args.labels} "
          f"torch={torch.__version__} torch threads={torch.get_num_threads()} cpus={os.cpu_count()}")

    def vec():
        return average_precision(qb, db, ql, dl, topk=args.topk)

    vec()  # warm-up (allocator, thread pool)
    load0 = os.getloadavg()[0]
    ap_vec, t_vec = timed(vec, args.repeats)  # default workers: torch's thread count
    ap_loop, t_loop = run_loop(args)
    t_loop = [t_loop]
    ap_vec2, t_vec2 = timed(vec, args.repeats)
    t_vec += t_vec2
    _, t_one = timed(lambda: average_precision(qb, db, ql, dl, topk=args.topk, workers=1), args.repeats)
    load1 = os.getloadavg()[0]
    _, t_exp = timed(lambda: mean_average_precision(qb, db, ql, dl, topk=args.topk, ties="expected"),
                     args.repeats)
    map_exp = mean_average_precision(qb, db, ql, dl, topk=args.topk, ties="expected")

    ap_loop = torch.from_numpy(ap_loop)
    diff_ap = float((ap_vec.cpu() - ap_loop).abs().max())
    diff_map = abs(float(ap_vec.mean()) - float(ap_loop.mean()))
    med = float(np.median(t_vec))
    rows = [
        (f"loop (NumPy, stable argsort, {args.loop_threads} BLAS thread(s))", f"{t_loop[0]:.3f} s"),
        ("vectorised stable MAP (median)", f"{med:.3f} s   (best {min(t_vec):.3f} s of {len(t_vec)})"),
        ("speed-up (loop / median)", f"{t_loop[0] / med:.1f}x   (vs best: {t_loop[0] / min(t_vec):.1f}x)"),
        ("vectorised, one worker thread (median)",
         f"{float(np.median(t_one)):.3f} s   (speed-up {t_loop[0] / float(np.median(t_one)):.1f}x)"),
        ("max |AP_loop - AP_vec| per query", f"{diff_ap:.3e}"),
        ("|MAP_loop - MAP_vec|", f"{diff_map:.3e}   (MAP = {float(ap_loop.mean()):.6f})"),
        ("tie-aware MAP (median)", f"{float(np.median(t_exp)):.3f} s   (MAP = {map_exp:.6f})"),
        ("load average during timing", f"{load0:.2f} .. {load1:.2f}"),
    ]
    for name, mb in memory_per_million(args.bits).items():
        rows.append((f"{args.bits}-bit codes, 1M, {name}", f"{mb:.1f}"))
    if not args.no_peak:
        peak = measure_peak(args)
        for name, mb in peak.items():
            rows.append((f"peak RSS increase, MAP call, {name} db", f"{mb:.1f} MB" if isinstance(mb, float) else mb))
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
