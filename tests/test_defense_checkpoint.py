"""The defenses' per-epoch checkpoint (saatlib.defense.checkpoint): atomic writes."""
import pytest
import torch

from saatlib.defense.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, epoch=1, step=3, defense={"w": torch.ones(3)}, history=[{"epoch": 0, "loss": 1.0}])

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"partial bytes")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, epoch=2, step=6, defense={"w": torch.zeros(3)}, history=[])
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT_NAME]  # no temporary file left
    ckpt = load_checkpoint(path)
    assert ckpt["epoch"] == 1 and torch.equal(ckpt["defense"]["w"], torch.ones(3))
