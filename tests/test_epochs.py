"""The epoch record both training loops write (saatlib.epochs)."""
from __future__ import annotations

import math

import pytest

from saatlib.epochs import epoch_record


def test_a_non_finite_epoch_stops_both_training_loops_with_a_clear_message():
    """The epoch record both loops write (saatlib.epochs): a NaN loss term stops the run, named."""
    ok = epoch_record("train DPH", 3, {"loss": 0.5, "lr": 1e-3, "seconds": 1.0})
    assert ok == {"epoch": 3, "loss": 0.5, "lr": 1e-3, "seconds": 1.0} and list(ok) == ["epoch", "loss", "lr", "seconds"]
    with pytest.raises(FloatingPointError, match=r"train DPH: non-finite loss terms \['quant'\] in epoch 2"):
        epoch_record("train DPH", 2, {"loss": 0.5, "quant": math.nan, "lr": 1e-3})
