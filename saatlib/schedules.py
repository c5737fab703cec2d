"""Learning-rate schedules of hash-model training and of the defenses, written once.

Both are step decays: the learning rate is multiplied by ``gamma`` at each
milestone passed. Hash-model training (:func:`saatlib.hashing.train.train_hashing`)
decays per epoch, the defenses (:mod:`saatlib.defense.common`) per optimiser step.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

#: the hash-model training schedules :func:`lr_factor` knows
LR_SCHEDULES = ("thirds", "cosine", "none")


def step_decay(position: int, milestones: Sequence[int], gamma: float) -> float:
    """gamma ** (number of ``milestones`` at or before ``position``)."""
    return gamma ** sum(position >= m for m in milestones)


def multistep_factor(step: int, total_steps: int, milestones: Sequence[float], gamma: float) -> float:
    """The defenses' schedule: decay at fractions ``milestones`` of ``total_steps``, rounded down to whole
    steps (the released ``MultiStepLR(milestones=[epochs*len(loader)*1/2, ...*3/4])``)."""
    return step_decay(step, [int(m * total_steps) for m in milestones], gamma)


def lr_factor(epoch: int, epochs: int, schedule: str) -> float:
    """Hash-model training's multiplier at ``epoch``: ``"thirds"`` = x0.1 after each third of the
    epochs (rounded up; the released code), ``"cosine"``, or ``"none"``."""
    if schedule == "thirds":
        third = max(1, -(-epochs // 3))
        return step_decay(epoch, (third, 2 * third), 0.1)
    if schedule == "cosine":  # the cosine in float32, as every stored model of this schedule was trained
        return 0.5 * (1 + torch.cos(torch.tensor(math.pi * epoch / epochs)).item())
    if schedule == "none":
        return 1.0
    raise ValueError(f"unknown lr schedule {schedule!r}; choose 'thirds', 'cosine' or 'none'")
