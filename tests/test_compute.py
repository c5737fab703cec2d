"""Device ``auto`` and the precision options (bf16 autocast, channels-last), on the CPU:
what they choose and compute, that they are off by default, and that turned on they get
run-store keys of their own while the keys of float32 runs stay what they were."""
import logging

import pytest
import torch

from saatlib.attack.registry import build_attack
from saatlib.cli import build_parser
from saatlib.compute import Precision, PrecisionView, resolve_device
from saatlib.data import InMemoryImageSet
from saatlib.experiments.attacks import ATTACK_KIND, attack_key, run_attack
from saatlib.experiments.defenses import defense_config, get_defended_model
from saatlib.experiments.hash_models import get_hash_model, hashing_config, load_data
from saatlib.hashing import train_hashing
from saatlib.models import build_model
from saatlib.store import RunStore, config_key

pytestmark = pytest.mark.usefixtures("one_thread")
BF16 = Precision("bf16")
TINY = dict(num_query=8, num_database=100, num_train=64, epochs=1, batch_size=32)


def test_auto_is_the_cpu_here_and_cuda_where_there_is_one(monkeypatch, caplog):
    with caplog.at_level(logging.INFO, logger="saatlib.compute"):
        assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert len(caplog.records) == 1 and "device auto" in caplog.records[0].getMessage()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Fake GPU")
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cpu") == "cpu" and resolve_device("cuda:1") == "cuda:1"


def test_cli_defaults_device_auto_and_float32():
    for command in ("train", "attack", "defend", "reproduce"):
        args = build_parser().parse_args([command])
        assert args.device == "auto" and args.amp == "none" and args.channels_last is False
    args = build_parser().parse_args(["attack", "--amp", "bf16", "--channels-last"])
    assert (args.amp, args.channels_last) == ("bf16", True)


def test_precision_checks_its_values():
    with pytest.raises(ValueError, match="autocast"):
        Precision("int8")
    assert Precision().key() is None and Precision.of(None) == Precision()
    assert Precision.of(BF16.key()) == BF16 and BF16.key() == {"autocast": "bf16", "channels_last": False}


def model_and_images():
    torch.manual_seed(0)
    model = build_model("smallcnn", 16, in_channels=3).eval()
    return model, torch.rand(6, 3, 16, 16)


def test_bf16_view_is_close_to_float32_but_not_equal():
    model, x = model_and_images()
    with torch.no_grad():
        h32 = model(x)
        h16 = BF16.wrap(model)(x)
        hcl = Precision(channels_last=True).wrap(model)(x)
    assert h16.dtype == torch.float32 and h16.shape == h32.shape
    assert not torch.equal(h16, h32)  # autocast is really on: bf16 rounding shows
    assert (h16 - h32).abs().max() < 0.1  # tanh outputs in (-1, 1); bf16 has 8 bits of mantissa
    assert torch.allclose(hcl, h32, atol=1e-5)
    assert Precision().wrap(model) is model


def test_view_keeps_the_model_state_dict_and_modes():
    model, _ = model_and_images()
    view = PrecisionView(model, Precision("bf16", channels_last=True))
    assert view.state_dict().keys() == model.state_dict().keys()
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    view.train()
    assert model.training
    view.eval()
    assert not model.training


def test_bf16_training_runs_and_differs_from_float32():
    g = torch.Generator().manual_seed(0)
    data = InMemoryImageSet((torch.rand(64, 3, 16, 16, generator=g) * 255).to(torch.uint8),
                            torch.eye(4)[torch.randint(0, 4, (64,), generator=g)])
    weights = {}
    for name, precision in (("fp32", None), ("bf16", BF16)):
        torch.manual_seed(0)
        model = build_model("smallcnn", 16, in_channels=3)
        history = train_hashing(model, data, "DPSH", 2, 16, progress=False, precision=precision)
        assert all(torch.isfinite(torch.tensor(h["loss"])) for h in history)
        weights[name] = model.hash_layer.weight.detach().clone()
    assert not torch.equal(weights["fp32"], weights["bf16"])
    assert (weights["fp32"] - weights["bf16"]).abs().max() < 0.05


def test_keys_unchanged_at_the_default_and_new_when_turned_on():
    plain = hashing_config("fashion-mnist", "DPH", 16, "smoke")
    for default in (None, Precision()):
        assert hashing_config("fashion-mnist", "DPH", 16, "smoke", precision=default) == plain
        assert defense_config(plain, "SAAT", "smoke", precision=default) == defense_config(plain, "SAAT", "smoke")
    assert "precision" not in plain["train"] and "precision" not in defense_config(plain, "SAAT", "smoke")
    attack = build_attack("SAAT", profile="smoke")
    assert attack_key(plain, attack, 8, 10, 0, Precision()) == attack_key(plain, attack, 8, 10, 0)
    assert "precision" not in attack_key(plain, attack, 8, 10, 0)
    on = hashing_config("fashion-mnist", "DPH", 16, "smoke", precision=BF16)
    assert on["train"]["precision"] == BF16.key() and config_key(on) != config_key(plain)
    assert defense_config(plain, "SAAT", "smoke", precision=BF16)["precision"] == BF16.key()
    assert attack_key(plain, attack, 8, 10, 0, BF16)["precision"] == BF16.key()


def test_bf16_attack_and_defense_are_stored_apart(tmp_path):
    store = RunStore(tmp_path)
    cfg = hashing_config("fashion-mnist", "DPH", 16, "smoke", **TINY)
    splits = load_data(cfg)
    get_hash_model(cfg, splits, store, progress=False)
    kw = dict(profile="smoke", steps=3, num_queries=8, topk=20, store=store, progress=False)
    r32 = run_attack(cfg, "SAAT", **kw)
    r16 = run_attack(cfg, "SAAT", precision=BF16, **kw)
    assert not r16["cached"] and r16["map_benign"] == r32["map_benign"]  # measured in float32 both times
    assert len(store.entries(ATTACK_KIND)) == 2
    assert run_attack(cfg, "SAAT", precision=BF16, **kw)["cached"]
    model, rec = get_defended_model(cfg, "SAAT", "smoke", store, progress=False, splits=splits, precision=BF16,
                                    epochs=1)
    assert rec["config"]["precision"] == BF16.key() and not rec["cached"]
    assert set(model.state_dict()) == set(build_model("smallcnn", 16, 1).state_dict())
