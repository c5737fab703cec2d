"""saatlib.attack.evaluate: the check's per-query worst case over attacks."""
import pytest

from saatlib.attack.evaluate import worst_case_map


def test_the_check_is_the_per_query_worst_case():
    results = [{"ap": {"adversarial": [0.5, 0.1, 0.4]}}, {"ap": {"adversarial": [0.2, 0.3, 0.4]}}]
    # per query min: 0.2, 0.1, 0.4 -> 0.7 / 3, below both MAPs (1/3 and 0.3)
    assert worst_case_map(results) == pytest.approx(0.7 / 3)
