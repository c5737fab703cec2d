"""The victim's hashing training resumes exactly: after a kill -9 of the training process
(a real SIGKILL, in a subprocess) and after an exception, the resumed model equals an
uninterrupted run bit for bit; the checkpoint is atomic, plain data, and removed once stored."""
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from saatlib.checkpoint import CHECKPOINT_NAME
from saatlib.data import InMemoryImageSet
from saatlib.experiments.hash_models import HASH_KIND, get_hash_model, hashing_config, load_data
from saatlib.hashing import train_hashing
from saatlib.hashing.train import CHECKPOINT_FORMAT
from saatlib.store import RunStore

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(num_query=20, num_database=200, num_train=96, epochs=3, batch_size=32)

pytestmark = pytest.mark.usefixtures("one_thread")


class Interrupt(Exception):
    pass


def config():
    return hashing_config("fashion-mnist", "DPSH", 16, "smoke", **TINY)


def test_kill_9_during_victim_training_then_resume_gives_the_same_weights(tmp_path):
    cfg = config()
    splits = load_data(cfg)
    reference, rec = get_hash_model(cfg, splits, RunStore(tmp_path / "uninterrupted"), progress=False)
    assert not rec["cached"] and len(rec["history"]) == 3 and "resumed_from_epoch" not in rec
    store = RunStore(tmp_path / "killed")
    script = textwrap.dedent(f"""
        import os, signal, torch
        torch.set_num_threads(1)
        from saatlib.experiments.hash_models import get_hash_model, hashing_config
        from saatlib.store import RunStore
        cfg = hashing_config("fashion-mnist", "DPSH", 16, "smoke", **{TINY!r})
        def kill(epoch, record):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGKILL)
        get_hash_model(cfg, store=RunStore({str(store.root)!r}), progress=False, callback=kill)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, timeout=300, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    entry = store.path(HASH_KIND, cfg)
    assert not store.has(HASH_KIND, cfg)  # no complete entry: the run did not finish
    state = torch.load(entry / CHECKPOINT_NAME, map_location="cpu", weights_only=True)
    assert state["format"] == CHECKPOINT_FORMAT and state["epoch"] == 2 and len(state["history"]) == 2
    assert not [p.name for p in entry.iterdir() if p.name.endswith(".tmp")]  # no half-written file left
    torch.manual_seed(999)  # the caller's RNG state must not matter
    resumed, rec2 = get_hash_model(cfg, splits, store, progress=False)
    assert not rec2["cached"] and rec2["resumed_from_epoch"] == 2 and len(rec2["history"]) == 3
    assert [h["loss"] for h in rec2["history"]] == [h["loss"] for h in rec["history"]]
    for key, value in reference.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key
    assert store.has(HASH_KIND, cfg) and not (entry / CHECKPOINT_NAME).exists()
    again, rec3 = get_hash_model(cfg, splits, store, progress=False)
    assert rec3["cached"]


class DropoutHash(nn.Module):
    """A tiny hash model with dropout: resuming must restore the global RNG its masks draw from."""

    def __init__(self, bits=8):
        super().__init__()
        self.bits = bits
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32), nn.ReLU(), nn.Dropout(0.5),
                                 nn.Linear(32, bits))

    def forward(self, x, alpha=1.0):
        return torch.tanh(alpha * self.net(x))


def tiny_set(n=64):
    g = torch.Generator().manual_seed(0)
    labels = torch.eye(4)[torch.randint(0, 4, (n,), generator=g)]
    images = (torch.rand(n, 3, 8, 8, generator=g) * 255).to(torch.uint8)
    return InMemoryImageSet(images, labels)


def fresh_model():
    torch.manual_seed(0)
    return DropoutHash()


@pytest.mark.parametrize("method", ["DPH", "CSQ"])
def test_exception_then_resume_with_dropout_and_sgd(tmp_path, method):
    data = tiny_set()
    kwargs = dict(method=method, epochs=3, batch_size=16, optimizer="sgd", lr=0.05, weight_decay=5e-4,
                  lr_schedule="thirds", seed=3, progress=False, loss_pairs="all")
    model = fresh_model()
    torch.manual_seed(7)
    full = train_hashing(model, data, **kwargs)
    expected = {k: v.clone() for k, v in model.state_dict().items()}
    rng_after = torch.get_rng_state()

    def stop(epoch, record):
        if epoch == 0:
            raise Interrupt

    ckpt = tmp_path / CHECKPOINT_NAME
    part = fresh_model()
    torch.manual_seed(7)
    with pytest.raises(Interrupt):
        train_hashing(part, data, checkpoint=ckpt, callback=stop, **kwargs)
    torch.manual_seed(12345)  # whatever the RNG holds now, the checkpoint's state is restored
    resumed = fresh_model()  # a new process would rebuild the start model
    history = train_hashing(resumed, data, checkpoint=ckpt, **kwargs)
    assert [h["epoch"] for h in history] == [0, 1, 2]
    assert [h["loss"] for h in history] == [h["loss"] for h in full]
    for k, v in expected.items():
        assert torch.equal(resumed.state_dict()[k], v), k
    assert torch.equal(torch.get_rng_state(), rng_after)  # dropout drew the same masks in the same order


def test_an_unreadable_checkpoint_is_a_clear_error(tmp_path):
    ckpt = tmp_path / CHECKPOINT_NAME
    ckpt.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="delete it"):
        train_hashing(fresh_model(), tiny_set(), "DPH", 1, 16, progress=False, checkpoint=ckpt)
