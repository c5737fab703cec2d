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
schedule (the released defaults; :class:`AnchorParams`).

Anchors are drawn with a ``torch.Generator`` seeded with ``context.seed``,
batched and independent of the batching: an anchor is a function of the seed
and the target label vector only, so ``reference_codes`` on the whole query
set (the "theory" t-MAP) gives exactly the anchors the attack used batch by
batch. One consequence, unlike the released code (a fresh draw per query):
queries sharing a target label vector share its anchor (``anchor_draw="shared"``,
the default). ``anchor_draw="per_query"`` is the released behaviour
(``dhta.py::dhta`` calls ``np.random.choice`` for every query): each query's
draw is seeded with ``context.seed`` and the query image's bytes, so it is
still independent of the batching, and ``reference_codes_of`` returns those
per-query anchors for the theory t-MAP (the released ``anchor_code_arr``).
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Sequence

import torch

from saatlib.attack.base import AttackContext, EngineAttack, rule_param, schedule_param, set_params
from saatlib.attack.engine import SAAT_SCHEDULE, UpdateRule
from saatlib.primitives import binarize, check_budget, check_positive
from saatlib.profiles import default_attack_setting


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


ANCHOR_DRAWS = ("shared", "per_query")


def query_seed(seed: int, image: torch.Tensor) -> int:
    """A 63-bit seed from ``seed`` and the bytes of one image (C, H, W): the query's own draw."""
    data = image.detach().cpu().contiguous().numpy().tobytes()
    digest = hashlib.sha256(int(seed).to_bytes(8, "little", signed=True) + data).digest()
    return int.from_bytes(digest[:8], "little") & (2 ** 63 - 1)


def per_query_anchor_codes(x: torch.Tensor, target_labels: torch.Tensor, db_codes: torch.Tensor,
                           db_labels: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """Anchor codes (B, K) drawn afresh for every query: row i is :func:`anchor_codes` of row i's target
    with the seed :func:`query_seed` (seed, x[i]) (x: (B, C, H, W), the query images)."""
    if x.shape[0] != target_labels.shape[0]:
        raise ValueError(f"{x.shape[0]} images for {target_labels.shape[0]} target label rows")
    rows = [anchor_codes(target_labels[i:i + 1], db_codes, db_labels, n, query_seed(seed, x[i]))
            for i in range(x.shape[0])]
    return torch.cat(rows) if rows else torch.zeros(0, db_codes.shape[1], device=target_labels.device)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnchorParams:
    """Hyper-parameters of :class:`AnchorAttack` (P2P: n = 1, DHTA: n = 9).

    Args:
        n: database codes per anchor (1: P2P, 9: DHTA).
        eps: l_inf budget (default: the default profile's; released 0.032). step_size: (1/255). steps: (default: the default profile's; released 2000).
        random_start: start at a random point of the ball (released: no).
        rule: engine update rule (default: the signed gradient; None is the same).
        schedule: tanh scale a by tenths of the run (released: :data:`SAAT_SCHEDULE`; None: a = 1).
        anchor_draw: ``"shared"`` (one anchor per seed and target label vector) or
            ``"per_query"`` (released: a fresh draw for every query).
    """

    n: int = 9
    eps: float = default_attack_setting("P2P", "eps")  # the default profile's budget (P2P's = DHTA's)
    step_size: float = 1 / 255
    steps: int = default_attack_setting("P2P", "steps")
    random_start: bool = False
    rule: UpdateRule = dataclasses.field(default_factory=UpdateRule)
    schedule: Sequence[float] | None = SAAT_SCHEDULE
    anchor_draw: str = "shared"

    def __post_init__(self) -> None:
        if self.anchor_draw not in ANCHOR_DRAWS:
            raise ValueError(f"anchor_draw must be one of {ANCHOR_DRAWS}, got {self.anchor_draw!r}")
        if isinstance(self.n, bool) or int(self.n) != self.n or self.n < 1:
            raise ValueError(f"n (database codes per anchor) must be a positive integer, got {self.n!r}")
        eps, steps = check_budget(self.eps, self.steps)
        set_params(self, n=int(self.n), eps=eps, steps=steps, step_size=check_positive(self.step_size, "step_size"),
                   random_start=bool(self.random_start), rule=rule_param(self.rule),
                   schedule=schedule_param(self.schedule))


class AnchorAttack(EngineAttack):
    """Targeted attack towards an anchor code built from n database codes (parameters: :class:`AnchorParams`).

    Called with the TARGET labels; uses ``context.db_codes``, ``context.db_labels``, ``context.seed``.
    """

    Params = AnchorParams
    paper = "Bai et al., Targeted Attack for Deep Hashing based Retrieval, ECCV 2020"
    targeted = True

    @property
    def name(self) -> str:
        n = self.params.n
        return "P2P" if n == 1 else ("DHTA" if n == 9 else f"DHTA-n{n}")

    def reference_codes(self, labels: torch.Tensor, context: AttackContext) -> torch.Tensor:
        """The shared anchors of ``labels`` (with ``anchor_draw="per_query"`` see :meth:`reference_codes_of`)."""
        return anchor_codes(labels, context.db_codes, context.db_labels, self.n, context.seed)

    def reference_codes_of(self, x: torch.Tensor, labels: torch.Tensor, context: AttackContext) -> torch.Tensor:
        """The anchors the attack uses for the queries x (B, C, H, W) with target ``labels`` (B, L)."""
        if self.anchor_draw == "per_query":
            return per_query_anchor_codes(x, labels, context.db_codes, context.db_labels, self.n, context.seed)
        return self.reference_codes(labels, context)

    def __call__(self, model, x, labels, context: AttackContext, generator=None, record: bool = False):
        target = self.reference_codes_of(x, labels.to(x.device), context).to(x.device)
        return self.engine().perturb(model, x, lambda h: target_code_loss(h, target), generator, record)


class P2PAttack(AnchorAttack):
    """P2P: the anchor is the code of one database item carrying the target label (n = 1)."""

    paper = "P2P baseline of Bai et al., Targeted Attack for Deep Hashing based Retrieval, ECCV 2020"

    @classmethod
    def default_params(cls, **overrides) -> AnchorParams:
        return AnchorParams(**{"n": 1, **overrides})


class DHTAAttack(AnchorAttack):
    """DHTA: the anchor is the sign of the sum of 9 database codes carrying the target label."""
