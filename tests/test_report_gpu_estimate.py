"""saatlib.report.gpu_estimate: the paper profile's GPU time from measured rates."""
import pytest

from saatlib.report import gpu_estimate


def test_gpu_estimate_scales_the_measured_rates_by_the_profile():
    gpu = {"columns": ["fp32", "bf16"], "images_per_second": {"SAAT attack, 100 iterations": [100, 1],
                                                               "one epoch of SAAT adversarial training": [500, 1]}}
    est = gpu_estimate.paper_estimate(gpu, num_train=1000, num_query=200)
    assert est["attack SAAT"] == pytest.approx(200 / 100)  # 100 iterations at the measured rate
    assert est["attack HAG"] == pytest.approx(200 / 100 * 2000 / 100)  # 2000 iterations in the paper profile
    assert est["defense ATRDH"] == pytest.approx(100 * 1000 / 500)  # 100 epochs
    assert est["victim"] == pytest.approx(100 * 1000 / (8 * 500))
