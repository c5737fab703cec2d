"""The reproduction report's sentences say what the numbers say."""
import pytest

from saatlib import paper, report, report_text

NT_HOLDS = {"Original": 0.9, "HAG": 0.5, "SDHA": 0.6, "SAAT": 0.3,
            "Original t-MAP": 0.1, "P2P": 0.7, "DHTA": 0.8, "THA": 0.75, "SAAT-targeted": 0.72}
NT_FAILS = {**NT_HOLDS, "SAAT": 0.55}


def test_attack_claims_count_and_rank_ours_and_the_papers():
    ours = {"a": NT_HOLDS, "b": NT_FAILS}
    theirs = {"P": {"Original": 80.0, "HAG": 40.0, "SDHA": 30.0, "SAAT": 20.0,
                    "P2P": 50.0, "DHTA": 60.0, "THA": 70.0, "SAAT-targeted": 75.0}}
    text = report_text.attack_claims_markdown(ours, theirs, {"a": 10, "b": 20}, bits=32)
    # a: SAAT lowest holds, SAAT-targeted (0.72) below DHTA: 1; b: neither: 0; paper: both
    assert "hold in 2 of 2 cases; on our data in **1 of 4**" in text
    assert "* **a** (10 queries), MAP: SAAT 30.0 < HAG 50.0 < SDHA 60.0; SAAT lowest **holds**" in text
    assert "* **b** (20 queries)" in text and "SAAT lowest **does not hold**" in text
    assert "t-MAP: DHTA 80.0 > THA 75.0 > SAAT-targeted 72.0 > P2P 70.0" in text
    assert "* paper, P: MAP SAAT 20.0 < SDHA 30.0 < HAG 40.0" in text


def _rows(saat_saat, atrdh_hag):
    return {"none": {"Original": 0.9, "HAG": 0.3, "SDHA": 0.35, "SAAT": 0.3, "check": 0.28},
            "ATRDH": {"Original": 0.85, "HAG": atrdh_hag, "SDHA": 0.5, "SAAT": 0.5, "check": 0.5},
            "SAAT": {"Original": 0.8, "HAG": 0.6, "SDHA": 0.6, "SAAT": saat_saat, "check": 0.45}}


def test_defense_claims_state_the_ratio_and_each_verdict():
    ours = {"a": _rows(saat_saat=0.66, atrdh_hag=0.55), "b": _rows(saat_saat=0.45, atrdh_hag=0.7)}
    theirs = {ds: report.paper_table2_rows(ds, 32) for ds in paper.PAPER_DATASETS}
    text = report_text.defense_claims_markdown(ours, theirs, 32, check="check")
    assert "* **a**: SAAT-trained vs ATRDH-trained (HAG 60.0 vs 55.0, SDHA 60.0 vs 50.0, SAAT 66.0 vs 50.0)" in text
    assert "/ undefended = 2.20×: at least twice **holds**" in text
    assert "/ undefended = 1.50×: at least twice **does not hold**" in text
    b_line = next(line for line in text.splitlines() if line.startswith("* **b**"))
    assert "above under every attack **does not hold**" in b_line  # HAG 0.6 < 0.7, SAAT 0.45 < 0.5
    assert "* under the check attack, SAAT-trained above ATRDH-trained: a does not hold, b does not hold." in text
    paper_ratios = [report.defense_verdicts(r)["saat_over_none"] for r in theirs.values()]
    assert f"the ratio is {min(paper_ratios):.2f} to {max(paper_ratios):.2f}" in text


def test_paper_exceptions_are_the_false_cells():
    claims = report.paper_claims()
    exceptions = report_text.paper_exceptions(claims)
    assert set(exceptions) == set(report_text.PAPER_CLAIM_KEYS)
    for key, cells in exceptions.items():
        expected = sorted(f"{ds} {b} bits" for (ds, b), c in claims.items() if c[key] is False)
        assert cells == expected
    text = report_text.paper_claims_markdown(claims)
    assert f"({len(claims)} cells of dataset and bits)" in text
    for key, cells in exceptions.items():
        for cell in cells:
            assert cell in text


def test_paper_claims_text_says_every_cell_when_nothing_fails():
    claims = {("X", 32): dict.fromkeys(report_text.PAPER_CLAIM_KEYS, True)}
    text = report_text.paper_claims_markdown(claims)
    assert text.count("every cell") == 5 and "all but" not in text


# --- chapter 5 ---------------------------------------------------------------------------------

def test_defense_verdict_says_why_not_twice_from_the_numbers():
    low = _rows(saat_saat=0.45, atrdh_hag=0.55)  # SAAT 0.45 vs undefended 0.30: 1.5x
    text, verdicts = report_text.defense_verdict_markdown({"a": low}, {"a": 2})
    assert verdicts["a"]["saat_over_none"] == pytest.approx(1.5)
    assert "keeps MAP 0.450 against 0.300 undefended: 1.5 times as much — **less than twice**" in text
    # the ceiling: benign 0.80 / 0.30 = 2.67; kept 0.45 / 0.80 = 56%
    assert "would reach 2.67 times; it keeps 56% of it, after 2 epoch(s)" in text
    assert "SAAT does **not** beat ATRDH under SAAT" in text  # 0.45 < 0.50
    high, _ = report_text.defense_verdict_markdown({"a": _rows(0.66, 0.55)}, {"a": 2})
    assert "(at least twice)" in high and "why not twice" not in high
    assert "SAAT beats ATRDH under every attack" in high


def test_masking_report_flags_a_defense_that_collapses_under_the_check_attack():
    under = {("a", "none"): {"HAG": 0.3, "SDHA": 0.35, "SAAT": 0.25, "check": 0.2},
             ("a", "SAAT"): {"HAG": 0.6, "SDHA": 0.62, "SAAT": 0.55, "check": 0.52},
             ("a", "ATRDH"): {"HAG": 0.7, "SDHA": 0.7, "SAAT": 0.65, "check": 0.3}}
    rows, text = report_text.masking_report(under, "check")
    gaps = {r["defense"]: r["check minus lowest"] for r in rows}
    assert gaps == pytest.approx({"none": -0.05, "SAAT": -0.03, "ATRDH": -0.35})
    assert "it goes below it on 3 of 3 models, by 0.030 to 0.350 MAP" in text
    assert "from ATRDH on a:" in text and "SAAT on a" not in text.split("from")[1].split(":")[0]
    assert "SAAT +0.320, ATRDH +0.100 MAP." in text
    clean = {k: {**v, "check": min(v["HAG"], v["SDHA"], v["SAAT"])} for k, v in under.items()}
    _, text = report_text.masking_report(clean, "check")
    assert "here it never goes below it" in text and "no sign" in text


def test_the_check_is_the_per_query_worst_case():
    from saatlib.attack.evaluate import worst_case_map

    results = [{"ap": {"adversarial": [0.5, 0.1, 0.4]}}, {"ap": {"adversarial": [0.2, 0.3, 0.4]}}]
    # per query min: 0.2, 0.1, 0.4 -> 0.7 / 3, below both MAPs (1/3 and 0.3)
    assert worst_case_map(results) == pytest.approx(0.7 / 3)


def test_eps_and_lambda_sentences_pick_the_right_values():
    text = report_text.eps_curve_markdown([2, 8, 16], {"none": [0.7, 0.2, 0.0], "SAAT": [0.72, 0.6, 0.4],
                                                       "CgAT": [0.71, 0.62, 0.45]})
    assert text.startswith("At 16/255, twice the training budget, the most robust model is **CgAT** "
                           "(MAP 0.450; undefended 0.000)")
    grid = {(0.0, 1e-4): {"map_benign": 0.85, "map_attack": 0.2}, (3.0, 1e-4): {"map_benign": 0.75,
            "map_attack": 0.6}, (3.0, 0.1): {"map_benign": 0.1, "map_attack": 0.1}}
    text = report_text.lambda_markdown(grid)
    assert "With mu = 0.0001: lambda 0: benign 0.850, under SAAT 0.200; lambda 3: benign 0.750" in text
    assert "changes by +0.400 and the benign MAP by -0.100." in text


# --- chapter 4 ---------------------------------------------------------------------------------

def test_paired_ap_gap_is_the_mean_and_standard_error_of_per_query_differences():
    import torch

    from saatlib.metrics import average_precision

    g = torch.Generator().manual_seed(0)
    db = torch.randint(0, 2, (50, 8), generator=g).float() * 2 - 1
    db_y = torch.eye(3)[torch.randint(3, (50,), generator=g)]
    q_y = torch.eye(3)[torch.randint(3, (6,), generator=g)]
    a = torch.randint(0, 2, (6, 8), generator=g).float() * 2 - 1
    b = -a
    diff = average_precision(a, db, q_y, db_y, topk=20) - average_precision(b, db, q_y, db_y, topk=20)
    mean, se = report.paired_ap_gap(a, b, db, q_y, db_y, 20)
    assert mean == pytest.approx(float(diff.mean())) and se == pytest.approx(float(diff.std() / 6 ** 0.5))
    assert report.paired_ap_gap(a, a, db, q_y, db_y, 20) == (0.0, 0.0)
    assert report.paired_ap_gap(a[:1], b[:1], db, q_y[:1], db_y, 20)[1] == 0.0


def test_attack_ordering_text_counts_holds_and_resolved_gaps():
    nt = {"a": {"HAG": 0.3, "SDHA": 0.4, "SAAT": 0.2}, "b": {"HAG": 0.3, "SDHA": 0.25, "SAAT": 0.28}}
    tg = {"a": {"P2P": 0.5, "DHTA": 0.6, "THA": 0.55, "SAAT": 0.7}, "b": {"P2P": 0.5, "DHTA": 0.6, "THA": 0.55,
                                                                         "SAAT": 0.58}}
    gaps = {"a": {False: ("HAG", -0.1, 0.01), True: ("DHTA", 0.1, 0.02)},
            "b": {False: ("SDHA", 0.03, 0.02), True: ("DHTA", -0.02, 0.05)}}
    text, resolved, verdicts = report_text.attack_ordering_markdown(nt, tg, gaps, {"a": 100, "b": 20},
                                                                    [True, True], 32)
    assert resolved == 2  # a's two gaps are beyond 2 standard errors, b's within
    assert verdicts == {"a": {"saat_lowest_map": True, "saat_highest_tmap": True},
                        "b": {"saat_lowest_map": False, "saat_highest_tmap": False}}
    assert text.startswith("In the paper (32 bits) SAAT is first in both rankings on all 2 datasets. "
                           "Here, the ordering **holds only in part** (2 of 4 comparisons)")
    assert "* **a** (100 queries): SAAT has the lowest MAP (0.200; HAG 0.300, SDHA 0.400)" in text
    assert "SAAT does **not** have the lowest MAP: SDHA reaches 0.250, SAAT 0.280" in text
    assert "SAAT-targeted does **not** have the highest t-MAP: DHTA reaches 0.600, SAAT-targeted 0.580" in text
    assert "per-query AP of SAAT minus HAG: -0.100 ± 0.010, beyond two standard errors" in text
    assert "2 of 4 gaps between SAAT and its closest rival exceed two standard errors" in text
    none, _, _ = report_text.attack_ordering_markdown(nt, tg, gaps, {"a": 1, "b": 1}, [True, None], 32)
    assert none.startswith("The paper has no 32-bit results to compare with.")
    tied = {"a": {**nt["a"], "HAG": 0.2}}  # level with HAG: not the lowest, and HAG is named
    text, _, verdicts = report_text.attack_ordering_markdown(tied, {"a": tg["a"]}, {"a": gaps["a"]}, {"a": 1},
                                                             [True], 32)
    assert verdicts["a"]["saat_lowest_map"] is False
    assert "SAAT does **not** have the lowest MAP: HAG reaches 0.200, SAAT 0.200" in text


def test_defense_verdict_compares_cgat_and_states_the_benign_price():
    rows = {"none": {"Original": 0.85, "HAG": 0.2, "SDHA": 0.3, "SAAT": 0.2},
            "ATRDH": {"Original": 0.83, "HAG": 0.5, "SDHA": 0.55, "SAAT": 0.45},
            "CgAT": {"Original": 0.78, "HAG": 0.7, "SDHA": 0.66, "SAAT": 0.64},
            "SAAT": {"Original": 0.80, "HAG": 0.66, "SDHA": 0.67, "SAAT": 0.60}}
    text, _ = report_text.defense_verdict_markdown({"fm": rows}, {"fm": 2})
    # CgAT - SAAT: +0.04, -0.01, +0.04 -> ahead under HAG and SAAT
    assert "keeps at least as much MAP as SAAT under HAG, SAAT (CgAT minus SAAT: -0.010 to +0.040)" in text
    assert "against 0.850 undefended): ATRDH 0.830 (-0.020), CgAT 0.780 (-0.070), SAAT 0.800 (-0.050)" in text
