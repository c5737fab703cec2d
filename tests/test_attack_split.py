"""Attacks split over processes (``torchrun``): each rank attacks its share of the query
batches and replays the random draws of the others, so the adversarial queries equal one
process's. Here: the replay of every attack leaves its generator where a real call does,
and two gloo processes on the CPU reproduce a single process's x_adv bit for bit."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from saatlib.attack.base import AttackContext
from saatlib.attack.evaluate import evaluate_attack
from saatlib.attack.registry import build_attack, build_check_attack
from saatlib.models import build_model

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("one_thread")

ATTACKS = [("SAAT", False, None), ("SAAT", False, "DI-FGSM"), ("SAAT", False, "VMI-FGSM"), ("SAAT", True, None),
           ("HAG", False, None), ("SDHA", False, None), ("P2P", True, None), ("DHTA", True, None),
           ("THA", True, None)]


def setup(n=10, bits=16, classes=4):
    g = torch.Generator().manual_seed(0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_model("smallcnn", bits, in_channels=1, widths=[4, 8, 8]).eval()
    x = torch.rand(n, 1, 16, 16, generator=g)
    labels = torch.eye(classes)[torch.randint(0, classes, (n,), generator=g)]
    codes = torch.randint(0, 2, (40, bits), generator=g).float() * 2 - 1
    code_labels = torch.eye(classes)[torch.arange(40) % classes]
    return model, x, labels, AttackContext(codes, code_labels, codes, code_labels, seed=0)


def make(name, targeted, rule):
    kwargs = {"pnet_steps": 3} if name == "THA" else {}
    return build_attack(name, targeted, "smoke", steps=3, rule=rule, **kwargs)


@pytest.mark.parametrize("name, targeted, rule", ATTACKS, ids=lambda v: str(v))
def test_replay_leaves_the_generator_where_the_attack_does(name, targeted, rule):
    model, x, labels, context = setup()
    attack = make(name, targeted, rule)
    attack.prepare(model, context)
    g_run, g_replay = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    start = g_run.get_state()
    attack(model, x, labels, context, g_run)
    attack.replay_draws(x, labels, context, g_replay)
    assert torch.equal(g_run.get_state(), g_replay.get_state())
    if name in ("SAAT", "THA", "P2P", "DHTA") and (name == "SAAT" or rule is not None):
        assert not torch.equal(g_run.get_state(), start)  # the attack does draw: the check can fail


def test_check_attack_replay():
    model, x, labels, context = setup()
    attack = build_check_attack("smoke", steps=2)
    g_run, g_replay = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    attack(model, x, labels, context, g_run)
    attack.replay_draws(x, labels, context, g_replay)
    assert torch.equal(g_run.get_state(), g_replay.get_state())


LAUNCHER = textwrap.dedent("""
    import sys, torch
    sys.path.insert(0, sys.argv[2])
    torch.set_num_threads(1)
    from saatlib import distributed
    from saatlib.attack.evaluate import evaluate_attack
    from test_attack_split import ATTACKS, make, setup
    distributed.init_from_env()
    model, x, labels, context = setup()
    out = {}
    for name, targeted, rule in ATTACKS:
        r = evaluate_attack(model, make(name, targeted, rule), x, labels, context, target_labels=labels.flip(0),
                            topk=20, batch_size=3, return_examples=True)
        out[f"{name}-{targeted}-{rule}"] = (r["x_adv"], r["map_adversarial"])
    if distributed.is_main():
        torch.save(out, sys.argv[1])
    distributed.cleanup()
""")


@pytest.mark.slow
def test_two_processes_attack_the_single_process_queries(tmp_path):
    (tmp_path / "launch.py").write_text(LAUNCHER)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(tmp_path / "launch.py"), str(tmp_path / "split.pt"), str(Path(__file__).parent)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    split = torch.load(tmp_path / "split.pt", weights_only=True)
    model, x, labels, context = setup()
    for name, targeted, rule in ATTACKS:  # 10 queries in 4 batches of 3: ranks 0 and 1 take two each
        single = evaluate_attack(model, make(name, targeted, rule), x, labels, context,
                                 target_labels=labels.flip(0), topk=20, batch_size=3, return_examples=True)
        x_adv, map_adv = split[f"{name}-{targeted}-{rule}"]
        assert torch.equal(x_adv, single["x_adv"]), (name, targeted, rule)
        assert map_adv == single["map_adversarial"]
