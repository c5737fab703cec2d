"""Where and how the heavy loops compute: the device (``auto`` picks CUDA when present) and the
numeric precision of forward passes (bf16 autocast, channels-last memory layout).

- :func:`resolve_device`: ``"auto"`` -> ``"cuda"`` when CUDA is available (else ``"mps"``
  when Apple's MPS is, else ``"cpu"``), logged in one line; any other name is returned as given.
- :class:`Precision`: off by default (float32, the model's own layout), so every stored
  number stays what it was. Turned on, it applies to the attacks' optimisation and to the
  training loops (the victim's, the defenses'), and it enters their run-store keys
  (:meth:`Precision.key`), so its results never mix with float32 ones; measurements
  (codes, MAP) stay float32.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging

import torch
from torch import nn

log = logging.getLogger(__name__)

#: autocast dtypes by name
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device = "auto") -> str:
    """``"auto"``: the best device here (``cuda``, else ``mps``, else ``cpu``), said in one log line;
    any other value: ``str(device)`` unchanged (checking it is the caller's job)."""
    if str(device) != "auto":
        return str(device)
    if torch.cuda.is_available():
        chosen = "cuda"
        what = f"{torch.cuda.device_count()} CUDA device(s), cuda:0 = {torch.cuda.get_device_name(0)}"
    elif hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        chosen, what = "mps", "Apple MPS"
    else:
        chosen, what = "cpu", f"no GPU, {torch.get_num_threads()} torch CPU threads"
    log.info("device auto: %s (%s)", chosen, what)
    return chosen


@dataclasses.dataclass(frozen=True)
class Precision:
    """Numeric precision of forward passes in the attacks and training loops.

    Args:
        autocast: None (float32, the default) or ``"bf16"`` / ``"fp16"``: forward passes under
            ``torch.autocast`` of that dtype (the hash model's output is cast back to float32).
        channels_last: convert the model's weights and its inputs to the channels-last memory
            layout (faster convolutions on GPUs; values change only by float rounding).
    """

    autocast: str | None = None
    channels_last: bool = False

    def __post_init__(self) -> None:
        if self.autocast not in (None, *AUTOCAST_DTYPES):
            raise ValueError(f"autocast must be None or one of {sorted(AUTOCAST_DTYPES)}, got {self.autocast!r}")
        if not isinstance(self.channels_last, bool):
            raise ValueError(f"channels_last must be a bool, got {self.channels_last!r}")

    @classmethod
    def of(cls, value: "Precision | dict | None") -> "Precision":
        """A Precision from itself, from :meth:`key`'s dict, or None (the default)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        return cls(**value)

    @property
    def is_default(self) -> bool:
        return self == Precision()

    def key(self) -> dict | None:
        """The run-store key entry: None at the default (runs keep the keys they had), else the fields."""
        return None if self.is_default else dataclasses.asdict(self)

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` itself at the default; else a :class:`PrecisionView` of it (channels-last weights)."""
        return model if self.is_default else PrecisionView(model, self)


class PrecisionView(nn.Module):
    """``model`` run under a :class:`Precision`: forward(x, alpha) -> float32 (B, K).

    The model is a registered submodule (``train()`` / ``eval()`` reach it), but
    ``state_dict`` and ``load_state_dict`` are the model's own, so checkpoints
    and stored weights look the same with or without the view.
    """

    def __init__(self, model: nn.Module, precision: Precision):
        super().__init__()
        self.inner, self.precision = model, precision
        self.bits = getattr(model, "bits", None)
        if precision.channels_last:
            model.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        p = self.precision
        if p.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        context = (torch.autocast(device_type=x.device.type, dtype=AUTOCAST_DTYPES[p.autocast]) if p.autocast
                   else contextlib.nullcontext())
        with context:
            h = self.inner(x, alpha)
        return h.float()

    def state_dict(self, *args, **kwargs):
        return self.inner.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        return self.inner.load_state_dict(state_dict, strict=strict, assign=assign)
