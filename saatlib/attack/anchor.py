"""Anchor-code targeted attacks: P2P (n = 1) and DHTA (n = 9).

DHTA: Bai et al., "Targeted Attack for Deep Hashing based Retrieval", ECCV 2020;
P2P (point-to-point) is its single-anchor baseline. For every query with target
label vector y_t, n database items carrying exactly the label vector y_t are
drawn (uniformly, with replacement, as ``np.random.choice`` does in the released
``dhta.py``); the anchor code is the sign of the sum of their codes (a zero sum,
possible only for even n, gives +1). When no database item carries exactly y_t,
the items sharing at least one label with y_t are used; when none does either,
a ValueError is raised.

The attack then minimises -mean(h_adv * anchor) with signed-gradient PGD:
eps 0.032, step 1/255, 2000 iterations, no random start, the tanh-scale
schedule (the released defaults).

Anchors are drawn with a ``torch.Generator`` seeded with ``context.seed``,
batched and independent of the batching: an anchor is a function of the seed
and the target label vector only, so ``reference_codes`` on the whole query
set (the "theory" t-MAP) gives exactly the anchors the attack used batch by
batch. One consequence, unlike the released code (a fresh draw per query):
queries sharing a target label vector share its anchor.
"""
from __future__ import annotations

import torch

from saatlib.attack.base import Attack, AttackContext
from saatlib.attack.engine import SAAT_SCHEDULE, LinfPGD, UpdateRule
from saatlib.primitives import binarize, check_budget, check_positive


def target_code_loss(h: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """-mean(h * target): pulls the relaxed codes towards the target codes (scalar, to minimise)."""
    return -(h * target).mean()


def anchor_candidates(target_labels: torch.Tensor, db_labels: torch.Tensor) -> torch.Tensor:
    """(B, N_db) bool: database items carrying exactly each target label vector
    (rows without any fall back to the items sharing a label with the target)."""
    if target_labels.dim() != 2 or db_labels.dim() != 2 or target_labels.shape[1] != db_labels.shape[1]:
        raise ValueError(f"target labels {tuple(target_labels.shape)} and database labels "
                         f"{tuple(db_labels.shape)} must be (B, C) and (N, C) with the same C")
    y = (target_labels > 0).float()
    yy = (db_labels.to(y.device) > 0).float()
    shared = y @ yy.t()
    exact = (shared == y.sum(1, keepdim=True)) & (shared == yy.sum(1)[None, :])
    share = shared > 0
    return torch.where(exact.any(1, keepdim=True), exact, share)


def anchor_codes(target_labels: torch.Tensor, db_codes: torch.Tensor, db_labels: torch.Tensor, n: int,
                 seed: int = 0) -> torch.Tensor:
    """Anchor codes (B, K) in {-1, 1}: sign of the sum of n database codes carrying each target label.

    Args:
        target_labels: (B, C) in {0, 1}. db_codes: (N, K) in {-1, 1}. db_labels: (N, C).
        n: codes per anchor (1: P2P, 9: DHTA). seed: seeds the draw.
    """
    if db_codes.shape[0] != db_labels.shape[0]:
        raise ValueError(f"db_codes ({db_codes.shape[0]} rows) and db_labels ({db_labels.shape[0]} rows) differ")
    cand = anchor_candidates(target_labels, db_labels)
    if not bool(cand.any(1).all()):  # one check per batch, outside any attack loop
        missing = (~cand.any(1)).nonzero().flatten().tolist()
        raise ValueError(f"no database item shares a label with the target labels of rows {missing}; "
                         "draw target labels from the database's label vectors")
    # Draw t of every row = the candidate with the highest score in row t of one seeded (n, N_db)
    # uniform matrix: uniform over the row's candidates, independent across t (so n draws with
    # replacement), and a function of (seed, candidate set) alone, hence of the target label
    # vector: the same anchors whatever the batching.
    gen = torch.Generator().manual_seed(int(seed))
    scores = torch.rand(n, db_labels.shape[0], generator=gen).to(cand.device)
    low = torch.full((), -1.0, device=cand.device)
    picks = torch.stack([torch.where(cand, scores[t], low).argmax(1) for t in range(n)], 1)  # (B, n)
    codes = db_codes.to(target_labels.device).float()
    total = codes[picks.to(codes.device)].sum(1)  # (B, K)
    return binarize(total)


class AnchorAttack(Attack):
    """Targeted attack towards an anchor code built from n database codes.

    Args:
        n: database codes per anchor (1: P2P, 9: DHTA).
        eps: l_inf budget (released 0.032). step_size: (1/255). steps: (2000).
        random_start: start at a random point of the ball (released: no).
        rule: engine update rule (default signed gradient).
    Called with the TARGET labels; uses ``context.db_codes``, ``context.db_labels``, ``context.seed``.
    """

    paper = "Bai et al., Targeted Attack for Deep Hashing based Retrieval, ECCV 2020"
    targeted = True

    def __init__(self, n: int = 9, eps: float = 0.032, step_size: float = 1 / 255, steps: int = 2000,
                 random_start: bool = False, rule: UpdateRule | None = None):
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise ValueError(f"n (database codes per anchor) must be a positive integer, got {n!r}")
        self.n = int(n)
        self.eps, self.steps = check_budget(eps, steps)
        self.step_size = check_positive(step_size, "step_size")
        self.random_start = bool(random_start)
        self.name = "P2P" if self.n == 1 else ("DHTA" if self.n == 9 else f"DHTA-n{self.n}")
        self.rule = rule
        self.engine = LinfPGD(self.eps, self.step_size, self.steps, self.random_start, SAAT_SCHEDULE, rule)

    def reference_codes(self, labels: torch.Tensor, context: AttackContext) -> torch.Tensor:
        return anchor_codes(labels, context.db_codes, context.db_labels, self.n, context.seed)

    def __call__(self, model, x, labels, context: AttackContext, generator=None, record: bool = False):
        target = self.reference_codes(labels.to(x.device), context).to(x.device)
        return self.engine.perturb(model, x, lambda h: target_code_loss(h, target), generator, record)


class P2PAttack(AnchorAttack):
    """P2P: the anchor is the code of one database item carrying the target label."""

    paper = "P2P baseline of Bai et al., Targeted Attack for Deep Hashing based Retrieval, ECCV 2020"

    def __init__(self, eps: float = 0.032, step_size: float = 1 / 255, steps: int = 2000,
                 random_start: bool = False, rule: UpdateRule | None = None):
        super().__init__(1, eps, step_size, steps, random_start, rule)


class DHTAAttack(AnchorAttack):
    """DHTA: the anchor is the sign of the sum of 9 database codes carrying the target label."""

    def __init__(self, eps: float = 0.032, step_size: float = 1 / 255, steps: int = 2000,
                 random_start: bool = False, rule: UpdateRule | None = None, n: int = 9):
        super().__init__(n, eps, step_size, steps, random_start, rule)
