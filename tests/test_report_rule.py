"""saatlib.report.rule: one case of each label, worked by hand, and the numbers behind them."""
import math
import statistics

import pytest
import torch

from saatlib.report import rule


def _by_hand(diffs):
    mean, sd = statistics.fmean(diffs), statistics.stdev(diffs)
    return mean, sd, sd / math.sqrt(len(diffs))


def test_supported_mean_beyond_two_standard_errors():
    diffs = [0.1, 0.2, 0.3]  # mean 0.2, sd 0.1, se 0.1 / sqrt(3) = 0.0577: 0.2 > 0.115
    v = rule.judge(diffs, target=0.05)
    mean, sd, se = _by_hand(diffs)
    assert v.label == rule.SUPPORTED
    assert (v.diff, v.sd, v.se, v.n) == (pytest.approx(mean), pytest.approx(sd), pytest.approx(se), 3)
    assert v.mde == pytest.approx((2 + 0.8416) * se)


def test_contradicted_is_the_mirror_image():
    v = rule.judge([-0.1, -0.2, -0.3], target=0.05)
    assert v.label == rule.CONTRADICTED and v.diff == pytest.approx(-0.2)


def test_tie_when_a_difference_of_the_target_size_would_have_shown():
    diffs = [0.01, -0.01] * 50  # mean 0, se = 0.01005 / 10 = 0.001: detectable from 0.0029 <= 0.02
    v = rule.judge(diffs, target=0.02)
    _, _, se = _by_hand(diffs)
    assert v.label == rule.TIE and v.se == pytest.approx(se) and v.mde < 0.02


def test_underpowered_when_it_would_not_and_how_many_queries_would():
    diffs = [0.3, -0.3, 0.25, -0.2]  # mean 0.0125, se 0.15: within 2 se, detectable only from 0.43
    v = rule.judge(diffs, target=0.02)
    assert v.label == rule.UNDERPOWERED
    _, sd, _ = _by_hand(diffs)
    n = len(diffs)  # the smallest n whose detectable difference (2 + 0.8416) sd / sqrt(n) reaches 0.02, by a loop
    while (2 + 0.8416) * sd / math.sqrt(n) > 0.02:
        n += 1
    assert v.needed == n


def test_the_same_mean_changes_label_with_the_target_only_inside_the_noise():
    diffs = torch.tensor([0.05, -0.03, 0.04, -0.02, 0.01, 0.0])
    assert rule.judge(diffs, target=0.5).label == rule.TIE
    assert rule.judge(diffs, target=0.001).label == rule.UNDERPOWERED
    far = diffs + 1.0  # far beyond the noise: the target no longer matters
    assert rule.judge(far, target=0.5).label == rule.judge(far, target=0.001).label == rule.SUPPORTED


def test_one_query_and_identical_differences():
    assert rule.judge([0.0]).label == rule.TIE  # se 0, nothing to detect
    assert rule.judge([0.02, 0.02]).label == rule.SUPPORTED  # se 0, positive mean
    with pytest.raises(ValueError, match="at least one query"):
        rule.judge([])
    with pytest.raises(ValueError, match="target"):
        rule.judge([0.1], target=0)


def test_overall_label_of_a_claim_made_of_parts():
    S, T, U, C = rule.SUPPORTED, rule.TIE, rule.UNDERPOWERED, rule.CONTRADICTED
    assert rule.overall([S, S]) == S
    assert rule.overall([S, T]) == T
    assert rule.overall([S, T, U]) == U
    assert rule.overall([S, U, C]) == C
    with pytest.raises(ValueError):
        rule.overall([])
    with pytest.raises(ValueError):
        rule.overall(["holds"])


def test_false_alarms_are_the_two_sided_normal_tail():
    tail = 2 * (1 - statistics.NormalDist().cdf(2.0))
    assert rule.FALSE_ALARM == pytest.approx(tail)
    assert rule.expected_false_alarms(20) == pytest.approx(20 * tail)
