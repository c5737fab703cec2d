"""saatlib.report.comparisons and verdict_text: each claim's per-query differences, targets and wording,
checked against differences worked out here and the paper's CSV files read with the csv module."""
import csv
import statistics
from pathlib import Path

import pytest

from saatlib.report import comparisons as C
from saatlib.report import rule, verdict_text

ROOT = Path(__file__).resolve().parent.parent
PAPER = ("FLICKR-25K", "NUS-WIDE", "MS-COCO")


def _csv(name):
    with (ROOT / "saatlib" / "resources" / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if line.strip() and not line.startswith("#")))


T1 = {(r["method"], r["dataset"], int(r["bits"])): float(r["value"]) for r in _csv("paper_table1_attacks.csv")}
T2 = {(r["defense"], r["attack"], r["dataset"], int(r["bits"])): float(r["value"])
      for r in _csv("paper_table2_defenses.csv")}


def _result(ap, benign=None):
    return {"ap": {"adversarial": list(ap), "benign": list(benign or [0.9] * len(ap))}}


def _mean_se(diffs):
    return statistics.fmean(diffs), statistics.stdev(diffs) / len(diffs) ** 0.5


def test_table1_comparisons_per_query_and_the_papers_gap():
    saat, hag, sdha = [0.1, 0.2, 0.0, 0.3], [0.5, 0.6, 0.4, 0.5], [0.1, 0.25, 0.05, 0.28]
    t_saat, t_p2p = [0.7, 0.8, 0.6, 0.9], [0.6, 0.8, 0.5, 0.7]
    results = {("SAAT", False): _result(saat), ("HAG", False): _result(hag), ("SDHA", False): _result(sdha),
               ("SAAT", True): _result(t_saat), ("P2P", True): _result(t_p2p)}
    comps = {c.key: c for c in C.table1_comparisons("fm", results, 32)}
    assert list(comps) == ["table1.SAAT<HAG", "table1.SAAT<SDHA", "table1.SAAT-targeted>P2P"]
    hag_diffs = [h - s for h, s in zip(hag, saat)]  # positive: SAAT lower
    mean, se = _mean_se(hag_diffs)
    v = comps["table1.SAAT<HAG"].verdict
    assert (v.diff, v.se, v.n) == (pytest.approx(mean), pytest.approx(se), 4)
    assert v.label == rule.SUPPORTED  # 0.35 +- 0.029
    # the paper's gaps at 32 bits, and the target: their median
    gaps = {ds: (T1["HAG", ds, 32] - T1["SAAT", ds, 32]) / 100 for ds in PAPER}
    assert comps["table1.SAAT<HAG"].paper == pytest.approx(gaps)
    assert v.target == pytest.approx(statistics.median(gaps.values()))
    p2p = comps["table1.SAAT-targeted>P2P"]
    assert p2p.verdict.diff == pytest.approx(statistics.fmean(a - b for a, b in zip(t_saat, t_p2p)))
    assert p2p.paper["NUS-WIDE"] == pytest.approx((T1["SAAT-targeted", "NUS-WIDE", 32] - T1["P2P", "NUS-WIDE", 32]) / 100)
    assert p2p.claim == "SAAT-targeted reaches a higher t-MAP than P2P"


def test_a_small_paper_gap_is_taken_as_one_point():
    assert C.target_from({"a": 0.001, "b": -0.002, "c": None}) == rule.MIN_TARGET
    assert C.target_from({"a": None}) == rule.DEFAULT_TARGET
    assert C.target_from({"a": 0.05, "b": -0.07, "c": 0.03}) == pytest.approx(0.05)  # median of |gaps|


def _defended(per_attack, benign=(0.9, 0.8, 0.7)):
    attacks = {a: _result(ap, benign) for a, ap in per_attack.items()}
    return {"attacks": attacks}


def test_table2_comparisons_check_is_the_per_query_worst_case_and_2x_is_per_query():
    none = _defended({"HAG": [0.2, 0.1, 0.3], "SDHA": [0.3, 0.2, 0.1], "SAAT": [0.1, 0.1, 0.2],
                      "check": [0.15, 0.3, 0.3]})
    atrdh = _defended({"HAG": [0.4, 0.3, 0.5], "SDHA": [0.5, 0.4, 0.3], "SAAT": [0.3, 0.3, 0.4],
                       "check": [0.2, 0.5, 0.6]})
    saat = _defended({"HAG": [0.6, 0.5, 0.5], "SDHA": [0.6, 0.4, 0.5], "SAAT": [0.5, 0.3, 0.45],
                      "check": [0.55, 0.2, 0.6]})
    comps = {c.key: c for c in C.table2_comparisons("fm", {"none": none, "ATRDH": atrdh, "SAAT": saat}, 32)}
    assert list(comps) == ["table2.SAAT>ATRDH.HAG", "table2.SAAT>ATRDH.SDHA", "table2.SAAT>ATRDH.SAAT",
                           "table2.SAAT>ATRDH.check", "table2.SAAT>=2x"]
    # the check's AP per query: the lowest over every attack run, by hand
    saat_check = [min(0.6, 0.6, 0.5, 0.55), min(0.5, 0.4, 0.3, 0.2), min(0.5, 0.5, 0.45, 0.6)]
    atrdh_check = [min(0.4, 0.5, 0.3, 0.2), min(0.3, 0.4, 0.3, 0.5), min(0.5, 0.3, 0.4, 0.6)]
    v = comps["table2.SAAT>ATRDH.check"].verdict
    assert v.diff == pytest.approx(statistics.fmean(a - b for a, b in zip(saat_check, atrdh_check)))
    assert comps["table2.SAAT>ATRDH.check"].paper == {}  # the paper has no check attack
    doubles = comps["table2.SAAT>=2x"]
    assert doubles.verdict.diff == pytest.approx(statistics.fmean([0.5 - 0.2, 0.3 - 0.2, 0.45 - 0.4]))
    assert doubles.paper["NUS-WIDE"] == pytest.approx(
        (T2["SAAT", "SAAT", "NUS-WIDE", 32] - 2 * T1["SAAT", "NUS-WIDE", 32]) / 100)
    hag = comps["table2.SAAT>ATRDH.HAG"]
    assert hag.paper["MS-COCO"] == pytest.approx((T2["SAAT", "HAG", "MS-COCO", 32] - T2["ATRDH", "HAG", "MS-COCO", 32]) / 100)
    with_cgat = C.table2_comparisons("fm", {"none": none, "SAAT": saat, "CgAT": atrdh}, 32, check=None)
    assert [c.key for c in with_cgat] == ["table2.SAAT>=2x", "table2.SAAT>CgAT.HAG", "table2.SAAT>CgAT.SDHA",
                                          "table2.SAAT>CgAT.SAAT"]
    assert all(c.verdict.target == rule.DEFAULT_TARGET for c in with_cgat[1:])


def test_masking_and_ablation_comparisons_signs():
    checks = {"lowest": [0.5, 0.4], "stronger": [0.3, 0.4], "white_box": [0.5, 0.45], "transfer": [0.6, 0.7],
              "large_budget": [0.2, 0.1], "chance": [0.1, 0.1]}
    comps = {c.key: c for c in C.masking_comparisons("fm", "SAAT", checks)}
    assert comps["masking.stronger.SAAT"].verdict.diff == pytest.approx(0.1)  # (0.2 + 0) / 2
    assert comps["masking.transfer.SAAT"].verdict.diff == pytest.approx(-0.175)  # transfer hurts less
    assert comps["masking.large.SAAT"].verdict.diff == pytest.approx(0.05)
    assert "masking.transfer.none" not in {c.key for c in C.masking_comparisons("fm", "none", checks)}
    ablation = {"mask": {"ap": [0.1, 0.2]}, "nomask": {"ap": [0.2, 0.2]}, "linear": {"ap": [0.0, 0.1]}}
    a = C.ablation_comparisons("fm", ablation, {"nomask": "no mask", "linear": "inner product"})
    assert [(c.key, round(c.verdict.diff, 6)) for c in a] == [("ablation.mask<nomask", 0.05),
                                                              ("ablation.mask<linear", -0.1)]


def test_points_never_writes_negative_zero():
    assert verdict_text.points(0.0283) == "+2.8"
    assert verdict_text.points(-0.0004) == "0.0" and verdict_text.points(0.0) == "0.0"
    assert verdict_text.points(-0.021) == "-2.1"
    assert verdict_text.points(0.4, sign=False) == "40.0"


def test_verdict_phrase_and_claims_table():
    v = rule.judge([0.3, -0.3, 0.25, -0.2], target=0.02)
    phrase = verdict_text.verdict_phrase(v)
    # sd 0.3065 (deviations 0.2875, -0.3125, 0.2375, -0.2125), se 0.1533, detectable 2.8416 x se = 0.4355
    assert phrase.startswith("**underpowered** (+1.2 ± 15.3 points, 4 queries, detectable from 43.6")
    assert f"about {v.needed:,} queries would detect a gap of 2.0" in phrase
    comps = [C.Comparison("table1.SAAT<HAG", "SAAT leaves a lower MAP than HAG", "fm", rule.judge([0.1, 0.2, 0.3]),
                          {"P": 0.07, "Q": None}),
             C.Comparison("table1.SAAT<HAG", "SAAT leaves a lower MAP than HAG", "mos", rule.judge([-0.1, -0.2]),
                          {"P": 0.07, "Q": None})]
    table = verdict_text.claims_table(comps)
    assert table == {"SAAT leaves a lower MAP than HAG": {
        "ours fm": "supported: +20.0 ± 5.8 (3 q.)", "ours mos": "contradicted: -15.0 ± 5.0 (2 q.)",
        "paper P": "+7.0", "paper Q": "–"}}
    bullets = verdict_text.family_bullets(comps)
    assert bullets[0] == ("* **fm**, 3 queries: SAAT has the lowest MAP: **supported** (HAG supported, "
                          "+20.0 ± 5.8)")
    assert "**contradicted**" in bullets[1]
    assert verdict_text.label_counts(comps) == "1 supported, 0 tie, 0 underpowered, 1 contradicted"


def test_sweep_comparisons_pick_their_sides():
    runs = {10: _result([0.5, 0.6]), 100: _result([0.3, 0.4]), 200: _result([0.2, 0.4])}
    c = C.steps_comparison("fm", runs, 100)
    assert c.claim == "200 iterations leave a lower MAP than 100" and c.verdict.diff == pytest.approx(0.05)
    curves = {"none": {"map": [0.5, 0.1], "ap": [[0.5, 0.5], [0.1, 0.1]]},
              "SAAT": {"map": [0.7, 0.45], "ap": [[0.7, 0.7], [0.4, 0.5]]},
              "CgAT": {"map": [0.7, 0.5], "ap": [[0.7, 0.7], [0.6, 0.4]]}}
    lead = C.curve_leader("fm", [8, 16], curves)  # at 16/255: CgAT 0.5 > SAAT 0.45 > none 0.1
    assert lead.claim == "CgAT keeps more MAP than SAAT at 16/255"
    assert lead.verdict.diff == pytest.approx(statistics.fmean([0.6 - 0.4, 0.4 - 0.5]))
    grid = {(0.0, 1e-4): {"ap_attack": [0.2, 0.3]}, (3.0, 1e-4): {"ap_attack": [0.5, 0.4]},
            (1.0, 1e-4): {"ap_attack": [0.9, 0.9]}, (3.0, 1.0): {"ap_attack": [0.0, 0.0]}}
    lam = C.lambda_comparison("fm", grid)
    assert lam.claim == "lambda 3 keeps more MAP under SAAT than lambda 0 (mu 0.0001)"
    assert lam.verdict.diff == pytest.approx(0.2)


def test_rule_text_states_the_rule_without_tex():
    """Generated Markdown is rendered as plain CommonMark (no math): the rule must read without TeX."""
    md = verdict_text.rule_markdown(7)
    assert "$" not in md and "\\" not in md
    assert "*d* > 2 SE" in md and "*d* < −2 SE" in md and "makes 7 comparisons" in md
    assert f"about {7 * rule.FALSE_ALARM:.1f} of them" in md
