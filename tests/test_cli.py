"""The command line, run as a user would."""
import json
import subprocess
import sys

import pytest
import torch


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "saatlib", *args], capture_output=True, text=True, env=env)


@pytest.mark.slow
def test_train_json_then_cached(tmp_path):
    args = ["train", "--profile", "smoke", "--bits", "16", "--epochs", "1", "--json", "--no-progress", "--runs-dir",
            str(tmp_path)]
    first = run(*args)
    assert first.returncode == 0, first.stderr
    row = json.loads(first.stdout)
    assert 0.0 <= row["map"] <= 1.0 and row["cached"] is False and row["method"] == "CSQ"
    second = json.loads(run(*args).stdout)
    assert second["cached"] is True and second["map"] == row["map"]


def test_help_documents_options():
    out = run("train", "--help").stdout
    for option in ("--dataset", "--method", "--bits", "--profile", "--json", "--seed", "--device"):
        assert option in out


def test_bad_input_is_a_clear_error(tmp_path):
    bad = run("train", "--dataset", "imagenet-22k", "--runs-dir", str(tmp_path))
    assert bad.returncode == 2 and "fashion-mnist" in bad.stderr
    bad = run("train", "--bits", "2", "--runs-dir", str(tmp_path))
    assert bad.returncode == 2 and "bit length" in bad.stderr


def test_a_missing_cuda_device_is_one_line_saying_what_to_use(monkeypatch, capsys):
    import torch

    from saatlib.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", "--profile", "smoke", "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --device cuda: CUDA is not available") and \
        err[0].endswith("use --device cpu")


def test_an_unexpected_error_is_not_hidden(monkeypatch):
    """A bug (here a KeyError inside the command) shows its traceback instead of 'error:' and exit 2."""
    import pytest

    from saatlib import cli

    def broken(args):
        raise KeyError("a bug")

    monkeypatch.setattr(cli._train, "run", broken)
    with pytest.raises(KeyError, match="a bug"):
        cli.main(["train", "--profile", "smoke"])


def test_a_damaged_run_store_entry_is_one_line_saying_what_to_do(tmp_path, capsys):
    """A truncated model file in the run store: one 'error:' line naming the folder and the fix, exit 2."""
    from saatlib.cli import main
    from saatlib.experiments import hashing_config
    from saatlib.store import RunStore

    config = hashing_config("fashion-mnist", "CSQ", 16, profile="smoke")
    entry = RunStore(tmp_path).save("hash_model", config, state_dict={"w": torch.zeros(3)},
                                    result={"history": [], "train_seconds": 0.0})
    (entry / "model.pt").write_bytes(b"not a torch file")
    code = main(["train", "--profile", "smoke", "--bits", "16", "--no-progress", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: run-store entry") and "--recompute" in err[0]
