"""What the two training loops (hash models, :func:`saatlib.hashing.train.train_hashing`; defenses,
:func:`saatlib.defense.common.adversarial_training`) share about an epoch: its progress bar, its
record (epoch, loss terms, learning rate, seconds) and the check that stops on a non-finite loss.

The loops stay two (merging them would change stored models); their records keep their own fields.
"""
from __future__ import annotations

import logging
import math

from tqdm.auto import tqdm

log = logging.getLogger(__name__)


def progress_bar(desc: str, total: int, initial: int = 0, enabled: bool = True, **kwargs):
    """The loops' progress bar (``tqdm``; nothing shown when not ``enabled``)."""
    return tqdm(total=total, initial=initial, desc=desc, disable=not enabled, **kwargs)


def epoch_record(name: str, epoch: int, fields: dict) -> dict:
    """``{"epoch": epoch, **fields}`` (the epoch's mean loss terms, learning rate, seconds, ..., in the
    loop's order), logged.

    Raises:
        FloatingPointError: a float field is NaN or infinite (the message names the run, the epoch and the
            terms, so the training stops there instead of storing a broken model).
    """
    record = {"epoch": epoch, **fields}
    bad = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise FloatingPointError(f"{name}: non-finite loss terms {bad} in epoch {epoch} ({record}); lower the "
                                 "learning rate or check the data")
    log.info("%s epoch %d: %s", name, epoch, record)
    return record
