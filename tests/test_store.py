"""Run store: keys, round trips, atomic writes, corrupt entries."""
import json

import pytest
import torch

from saatlib.store import CorruptRunError, RunStore, config_key


def test_key_is_stable_and_sensitive_to_every_field():
    a = {"method": "CSQ", "bits": 32, "train": {"lr": 0.001, "epochs": 3}}
    b = {"train": {"epochs": 3, "lr": 0.001}, "bits": 32, "method": "CSQ"}
    assert config_key(a) == config_key(b)
    assert config_key(a) != config_key(dict(a, bits=16))
    assert config_key(a) != config_key({**a, "train": {"lr": 0.001, "epochs": 4}})


def test_round_trip(tmp_path):
    store = RunStore(tmp_path)
    cfg = {"x": 1}
    state = {"w": torch.arange(4.0)}
    store.save("m", cfg, state_dict=state, tensors={"t": torch.ones(2)}, result={"map": 0.5})
    assert store.has("m", cfg) and not store.has("m", {"x": 2})
    assert torch.equal(store.load_state_dict("m", cfg)["w"], state["w"])
    assert torch.equal(store.load_tensors("m", cfg)["t"], torch.ones(2))
    assert store.load_result("m", cfg) == {"map": 0.5}
    assert store.entries("m") == [cfg]


def test_interrupted_save_leaves_no_entry_and_no_temp_file(tmp_path, monkeypatch):
    store = RunStore(tmp_path)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        store.save("m", {"x": 1}, state_dict={"w": torch.zeros(1)}, result={"a": 1})
    assert not store.has("m", {"x": 1})
    assert list(store.path("m", {"x": 1}).iterdir()) == []


def test_truncated_model_file_gives_clear_error_then_recompute(tmp_path):
    store = RunStore(tmp_path)
    cfg = {"x": 1}
    store.save("m", cfg, state_dict={"w": torch.zeros(100)}, result={})
    path = store.path("m", cfg) / "model.pt"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(CorruptRunError, match="recompute"):
        store.load_state_dict("m", cfg)
    calls = []
    result = store.cached_result("m", cfg, lambda: calls.append(1) or {"ok": True}, recompute=True)
    assert result == {"ok": True} and calls == [1]


def test_cached_result_computes_once(tmp_path):
    store = RunStore(tmp_path)
    calls = []
    for _ in range(3):
        store.cached_result("r", {"k": 1}, lambda: calls.append(1) or {"v": 2})
    assert calls == [1]


def test_stored_config_mismatch_is_reported(tmp_path):
    store = RunStore(tmp_path)
    store.save("m", {"x": 1}, result={})
    (store.path("m", {"x": 1}) / "config.json").write_text(json.dumps({"x": 2}))
    with pytest.raises(CorruptRunError):
        store.load_result("m", {"x": 1})
