"""Tie-aware (expected over tie orders) AP@k and precision@n from group counts.

A query's Hamming ranking is a sequence of tie groups v = 0, 1, ..., K (items at
distance v) whose internal order is arbitrary. Given, per query and group, the
number of items n_v and of relevant items r_v, these functions return the exact
expectation over uniformly random orders inside every group (independently).

Notation: c_v = sum_{u<v} n_u items and R_v = sum_{u<v} r_u relevant items come
before group v; positions of group v are c_v + 1 .. c_v + n_v.

**A whole group** (n items, r relevant, all inside the list). Position c + j is
relevant with probability r/n, and given that, the number of relevant items
among the j - 1 positions before it in the group has mean (j-1)(r-1)/(n-1), so

    E[sum_{relevant in group} P@pos] = (r/n) sum_{j=1}^{n} (R + 1 + (j-1)(r-1)/(n-1)) / (c + j)
                                     = (r/n) [ (R + 1) A + (r-1)/(n-1) B ],

with A = H(c+n) - H(c), B = sum_j (j-1)/(c+j) = n - (c+1) A, H the harmonic
numbers (the (r-1)/(n-1) term is 0 for n = 1).

**The boundary group** t that the cut at depth k splits: k' = k - c_t of its n_t
items enter the list, a uniformly random subset. The number m of relevant items
among them is hypergeometric (population n_t, r_t successes, k' draws), and AP
divides by M = R_t + m, which is random -- so E[AP] is *not* E[sum] / E[M].
Conditioning on m makes it exact: given m, the k' selected items are a uniformly
arranged group of k' items with m relevant, independent of the earlier groups, so

    E[AP] = sum_m P(m) * (S_full + S_b(m)) / (R_t + m)      (terms with R_t + m = 0 are 0),

S_full the expected sum of the whole groups v < t and S_b(m) the whole-group
formula with (n, r) = (k', m). The m-sum runs over a padded grid shared by the
queries of a chunk; the pmf comes from the ratio of consecutive terms (a cumulative
sum of logs, renormalised), which is cheaper and as accurate as ``lgamma``. When the list
holds the whole database (k = N) the boundary group is complete, m = r_t, and
the result is McSherry & Najork's tie-aware AP (ECIR 2008).

Expected precision@n is linear, so no conditioning is needed:
E[hits in the first n] = R_t + k' r_t / n_t.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["expected_average_precision", "expected_precision_at", "harmonic_numbers"]


def harmonic_numbers(n: int, device=None) -> Tensor:
    """(n + 1,) float64 tensor ``H[x] = sum_{j=1}^{x} 1/j`` (H[0] = 0)."""
    h = torch.zeros(n + 1, dtype=torch.float64, device=device)
    if n:
        h[1:] = (1.0 / torch.arange(1, n + 1, dtype=torch.float64, device=device)).cumsum(0)
    return h


def _boundary(n: Tensor, r: Tensor, depth: int):
    """Boundary group t of each query and the counts before it (all (Q,) tensors)."""
    c_le = n.cumsum(1)
    r_le = r.cumsum(1)
    t = (c_le < depth).sum(1).clamp(max=n.shape[1] - 1).unsqueeze(1)
    n_t = n.gather(1, t).squeeze(1)
    r_t = r.gather(1, t).squeeze(1)
    c_t = c_le.gather(1, t).squeeze(1) - n_t
    big_r = r_le.gather(1, t).squeeze(1) - r_t
    return t.squeeze(1), c_t, big_r, n_t, r_t


def _group_sum(c: Tensor, big_r: Tensor, n: Tensor, r: Tensor, h: Tensor) -> Tensor:
    """Expected sum of P@pos over the relevant items of whole groups (formula above)."""
    last = h.shape[0] - 1  # groups past the list end are masked by the caller
    ci = c.to(torch.int64).clamp(max=last)
    a = h[(ci + n.to(torch.int64)).clamp(max=last)] - h[ci]
    b = n - (c + 1.0) * a
    safe_n = n.clamp(min=1.0)
    slope = torch.where(n > 1, (r - 1.0) / (n - 1.0).clamp(min=1.0), torch.zeros_like(n))
    return torch.where(n > 0, (r / safe_n) * ((big_r + 1.0) * a + slope * b), torch.zeros_like(n))


def expected_average_precision(n: Tensor, r: Tensor, depth: int) -> Tensor:
    """Expected AP@depth over random tie orders.

    Args:
        n: (Q, K + 1) float64 number of database items at each distance (exact at least
            up to the group that holds the depth-th item).
        r: (Q, K + 1) float64 number of relevant items at each distance.
        depth: list length k, 1 <= k <= N.

    Returns:
        (Q,) float64 expected AP in [0, 1] (AP of a list without a relevant item is 0).
    """
    q, groups = n.shape
    dev = n.device
    h = harmonic_numbers(depth, dev)
    t, c_t, big_r_t, n_t, r_t = _boundary(n, r, depth)
    c = n.cumsum(1) - n
    big_r = r.cumsum(1) - r
    whole = torch.arange(groups, device=dev).unsqueeze(0) < t.unsqueeze(1)
    s_full = torch.where(whole, _group_sum(c, big_r, n, r, h), torch.zeros_like(n)).sum(1)

    k_b = depth - c_t  # items of the boundary group inside the list, >= 1
    p, m = _hypergeometric(n_t, r_t, k_b)
    col = lambda x: x.unsqueeze(1)  # noqa: E731
    # whole-group formula with (n, r) = (k_b, m); A and B depend on the query only
    a_b = h[depth] - h[c_t.to(torch.int64)]
    b_b = k_b - (c_t + 1.0) * a_b
    slope = torch.where(k_b > 1, b_b / (k_b - 1.0).clamp(min=1.0), torch.zeros_like(b_b))
    s_b = (m / col(k_b)) * (col((big_r_t + 1.0) * a_b) + (m - 1.0) * col(slope))
    found = col(big_r_t) + m
    ap = torch.where(found > 0, (col(s_full) + s_b) / found.clamp(min=1.0), torch.zeros_like(p))
    return (p * ap).sum(1)


def _hypergeometric(pop: Tensor, succ: Tensor, draws: Tensor) -> tuple[Tensor, Tensor]:
    """Hypergeometric pmf of every query on a shared grid m = 0..max support.

    Args:
        pop, succ, draws: (Q,) float64 population, successes, draws (draws <= pop).

    Returns:
        (p, m): (Q, G) pmf (0 outside each support) and the (1, G) grid of m values.
        Built from the ratio P(m+1)/P(m) = (s-m)(d-m) / ((m+1)(N-s-d+m+1)) by a
        cumulative sum of logs (one log per entry), then normalised.
    """
    lo = (draws - (pop - succ)).clamp(min=0.0).unsqueeze(1)
    hi = torch.minimum(succ, draws).unsqueeze(1)
    g = int(hi.max().item()) + 1 if hi.numel() else 1
    m = torch.arange(g, dtype=torch.float64, device=pop.device).unsqueeze(0)
    col = lambda x: x.unsqueeze(1)  # noqa: E731
    inside = (m >= lo) & (m < hi)  # where the ratio to the next m is defined and positive
    num = (col(succ) - m) * (col(draws) - m)
    den = (m + 1.0) * (col(pop - succ - draws) + m + 1.0)
    step = torch.where(inside, torch.log(num.clamp(min=1.0) / den.clamp(min=1.0)), torch.zeros_like(num))
    logp = step.cumsum(1) - step  # log P(m) - log P(lo) for lo <= m <= hi
    logp = torch.where((m >= lo) & (m <= hi), logp, torch.full_like(logp, float("-inf")))
    return torch.softmax(logp, dim=1), m


def expected_precision_at(n: Tensor, r: Tensor, depths) -> Tensor:
    """Expected precision@n over random tie orders.

    Args:
        n, r: (Q, K + 1) float64 group counts as in :func:`expected_average_precision`.
        depths: sequence of list lengths, each in [1, N].

    Returns:
        (Q, len(depths)) float64: E[relevant items among the first d] / d.
    """
    cols = []
    for d in depths:  # a handful of cut-offs, each vectorised over queries
        _, c_t, big_r_t, n_t, r_t = _boundary(n, r, int(d))
        k_b = int(d) - c_t
        cols.append((big_r_t + k_b * r_t / n_t.clamp(min=1.0)) / float(d))
    return torch.stack(cols, 1)
