"""saatlib.report.text: the chapters' sentences say what the numbers say (hand-made numbers, and the
paper's values written out here)."""
import pytest

from saatlib.attack.evaluate import worst_case_map
from saatlib.report import tables, text, verdicts

NT_HOLDS = {"Original": 0.9, "HAG": 0.5, "SDHA": 0.6, "SAAT": 0.3,
            "Original t-MAP": 0.1, "P2P": 0.7, "DHTA": 0.8, "THA": 0.75, "SAAT-targeted": 0.72}
NT_FAILS = {**NT_HOLDS, "SAAT": 0.55}


def test_ranking_text_and_holds_text():
    col = {"HAG": 0.30, "SDHA": 0.25, "SAAT": 0.10, "P2P": None}
    assert text.ranking_text(col, ("HAG", "SDHA", "SAAT"), True, scale=100) == "SAAT 10.0 < SDHA 25.0 < HAG 30.0"
    assert text.ranking_text(col, ("HAG", "SAAT"), False, digits=2) == "HAG 0.30 > SAAT 0.10"
    assert text.ranking_text(col, ("P2P",), False) == "–"
    assert [text.holds_text(v) for v in (True, False, None)] == ["holds", "does not hold", "cannot be checked"]


def test_attack_claims_count_and_rank_ours_and_the_papers():
    ours = {"a": NT_HOLDS, "b": NT_FAILS}
    theirs = {"P": {"Original": 80.0, "HAG": 40.0, "SDHA": 30.0, "SAAT": 20.0,
                    "P2P": 50.0, "DHTA": 60.0, "THA": 70.0, "SAAT-targeted": 75.0}}
    md = text.attack_claims_markdown(ours, theirs, {"a": 10, "b": 20}, bits=32)
    # a: SAAT lowest holds, SAAT-targeted (0.72) below DHTA: 1; b: neither: 0; paper: both
    assert "hold in 2 of 2 cases; on our data in **1 of 4**" in md
    assert "* **a** (10 queries), MAP: SAAT 30.0 < HAG 50.0 < SDHA 60.0; SAAT lowest **holds**" in md
    assert "* **b** (20 queries)" in md and "SAAT lowest **does not hold**" in md
    assert "t-MAP: DHTA 80.0 > THA 75.0 > SAAT-targeted 72.0 > P2P 70.0" in md
    assert "* paper, P: MAP SAAT 20.0 < SDHA 30.0 < HAG 40.0" in md


def _rows(saat_saat, atrdh_hag):
    return {"none": {"Original": 0.9, "HAG": 0.3, "SDHA": 0.35, "SAAT": 0.3, "check": 0.28},
            "ATRDH": {"Original": 0.85, "HAG": atrdh_hag, "SDHA": 0.5, "SAAT": 0.5, "check": 0.5},
            "SAAT": {"Original": 0.8, "HAG": 0.6, "SDHA": 0.6, "SAAT": saat_saat, "check": 0.45}}


def test_defense_claims_state_the_ratio_and_each_verdict():
    ours = {"a": _rows(saat_saat=0.66, atrdh_hag=0.55), "b": _rows(saat_saat=0.45, atrdh_hag=0.7)}
    theirs = {ds: tables.paper_table2_rows(ds, 32) for ds in ("FLICKR-25K", "NUS-WIDE", "MS-COCO")}
    md = text.defense_claims_markdown(ours, theirs, 32, check="check")
    assert "* **a**: SAAT-trained vs ATRDH-trained (HAG 60.0 vs 55.0, SDHA 60.0 vs 50.0, SAAT 66.0 vs 50.0)" in md
    assert "/ undefended = 2.20×: at least twice **holds**" in md
    assert "/ undefended = 1.50×: at least twice **does not hold**" in md
    b_line = next(line for line in md.splitlines() if line.startswith("* **b**"))
    assert "above under every attack **does not hold**" in b_line  # HAG 0.6 < 0.7, SAAT 0.45 < 0.5
    assert "* under the check attack, SAAT-trained above ATRDH-trained: a does not hold, b does not hold." in md
    # the paper at 32 bits (SAAT-trained MAP under SAAT / undefended): FLICKR-25K 34.77 / 14.53 = 2.39,
    # NUS-WIDE 50.33 / 11.89 = 4.23, MS-COCO 30.87 / 11.21 = 2.75; ATRDH is below SAAT everywhere
    assert md.startswith("In the paper (32 bits) the first claim holds on 3 of 3 datasets and the ratio is "
                         "2.39 to 4.23. Here:")


def test_paper_claims_text_names_the_exceptions():
    md = text.paper_claims_markdown(verdicts.paper_claims())
    assert md.startswith("Reading the paper's tables at every code length (12 cells of dataset and bits): "
                         "SAAT has the lowest MAP in every cell; SAAT-targeted has the highest t-MAP among P2P, "
                         "DHTA and THA in every cell, and with the generative ProS-GAN among the rivals in all but "
                         "NUS-WIDE 16 bits, NUS-WIDE 32 bits.")
    assert "under all three attacks in all but FLICKR-25K 16 bits, and at least twice the undefended MAP under " \
           "the SAAT attack in every cell." in md


def test_paper_claims_text_says_every_cell_when_nothing_fails():
    claims = {("X", 32): dict.fromkeys(verdicts.PAPER_CLAIM_KEYS, True)}
    md = text.paper_claims_markdown(claims)
    assert md.count("every cell") == 5 and "all but" not in md


# --- chapter 5 ---------------------------------------------------------------------------------

def test_defense_verdict_says_why_not_twice_from_the_numbers():
    low = _rows(saat_saat=0.45, atrdh_hag=0.55)  # SAAT 0.45 vs undefended 0.30: 1.5x
    md, v = text.defense_verdict_markdown({"a": low}, {"a": 2})
    assert v["a"]["saat_over_none"] == pytest.approx(1.5)
    assert "keeps MAP 0.450 against 0.300 undefended: 1.5 times as much — **less than twice**" in md
    # the ceiling: benign 0.80 / 0.30 = 2.67; kept 0.45 / 0.80 = 56%
    assert ("* why not twice: even a SAAT model that kept its whole benign MAP (0.800) under the attack would "
            "reach 2.67 times; it keeps 56% of it, after 2 epoch(s) of adversarial training where the paper runs 20"
            in md)
    assert "SAAT does **not** beat ATRDH under SAAT" in md  # 0.45 < 0.50
    high, _ = text.defense_verdict_markdown({"a": _rows(0.66, 0.55)}, {"a": 2})
    assert "(at least twice)" in high and "why not twice" not in high
    assert "SAAT beats ATRDH under every attack" in high


def test_masking_report_flags_a_defense_that_collapses_under_the_check_attack():
    under = {("a", "none"): {"HAG": 0.3, "SDHA": 0.35, "SAAT": 0.25, "check": 0.2},
             ("a", "SAAT"): {"HAG": 0.6, "SDHA": 0.62, "SAAT": 0.55, "check": 0.52},
             ("a", "ATRDH"): {"HAG": 0.7, "SDHA": 0.7, "SAAT": 0.65, "check": 0.3}}
    rows, md = text.masking_report(under, "check")
    gaps = {r["defense"]: r["check minus lowest"] for r in rows}
    assert gaps == pytest.approx({"none": -0.05, "SAAT": -0.03, "ATRDH": -0.35})
    assert "it goes below it on 3 of 3 models, by 0.030 to 0.350 MAP" in md
    assert "from ATRDH on a:" in md and "SAAT on a" not in md.split("from")[1].split(":")[0]
    assert "SAAT +0.320, ATRDH +0.100 MAP." in md
    clean = {k: {**v, "check": min(v["HAG"], v["SDHA"], v["SAAT"])} for k, v in under.items()}
    _, md = text.masking_report(clean, "check")
    assert "here it never goes below it" in md and "no sign" in md
    # the undefended model is no defense: a large gap there is no sign of masking
    undefended_gap = {**clean, ("a", "none"): {**under["a", "none"], "check": 0.05}}
    _, md = text.masking_report(undefended_gap, "check")
    assert "it goes below it on 1 of 3 models, by 0.200 to 0.200 MAP" in md  # only the models below count
    assert "No defense loses more than 0.1 MAP to it beyond its lowest MAP in the table: no sign" in md


def test_the_check_is_the_per_query_worst_case():
    results = [{"ap": {"adversarial": [0.5, 0.1, 0.4]}}, {"ap": {"adversarial": [0.2, 0.3, 0.4]}}]
    # per query min: 0.2, 0.1, 0.4 -> 0.7 / 3, below both MAPs (1/3 and 0.3)
    assert worst_case_map(results) == pytest.approx(0.7 / 3)


def test_eps_and_lambda_sentences_pick_the_right_values():
    md = text.eps_curve_markdown([2, 8, 16], {"none": [0.7, 0.2, 0.0], "SAAT": [0.72, 0.6, 0.4],
                                              "CgAT": [0.71, 0.62, 0.45]})
    assert md.startswith("At 16/255, twice the training budget, the most robust model is **CgAT** "
                         "(MAP 0.450; undefended 0.000)")
    grid = {(0.0, 1e-4): {"map_benign": 0.85, "map_attack": 0.2}, (3.0, 1e-4): {"map_benign": 0.75,
            "map_attack": 0.6}, (3.0, 0.1): {"map_benign": 0.1, "map_attack": 0.1}}
    md = text.lambda_markdown(grid)
    assert "With mu = 0.0001: lambda 0: benign 0.850, under SAAT 0.200; lambda 3: benign 0.750" in md
    assert "changes by +0.400 and the benign MAP by -0.100." in md


def test_defense_verdict_compares_cgat_and_states_the_benign_price():
    rows = {"none": {"Original": 0.85, "HAG": 0.2, "SDHA": 0.3, "SAAT": 0.2},
            "ATRDH": {"Original": 0.83, "HAG": 0.5, "SDHA": 0.55, "SAAT": 0.45},
            "CgAT": {"Original": 0.78, "HAG": 0.7, "SDHA": 0.66, "SAAT": 0.64},
            "SAAT": {"Original": 0.80, "HAG": 0.66, "SDHA": 0.67, "SAAT": 0.60}}
    md, _ = text.defense_verdict_markdown({"fm": rows}, {"fm": 2})
    # CgAT - SAAT: +0.04, -0.01, +0.04 -> ahead under HAG and SAAT
    assert "keeps at least as much MAP as SAAT under HAG, SAAT (CgAT minus SAAT: -0.010 to +0.040)" in md
    level = {**rows, "CgAT": {**rows["CgAT"], "HAG": 0.66}}  # level with SAAT under HAG: "at least as much"
    md, _ = text.defense_verdict_markdown({"fm": level}, {"fm": 2})
    assert "keeps at least as much MAP as SAAT under HAG, SAAT (CgAT minus SAAT: -0.010 to +0.040)" in md
    behind = {**rows, "CgAT": {**rows["CgAT"], "HAG": 0.6, "SAAT": 0.5}}
    md, _ = text.defense_verdict_markdown({"fm": behind}, {"fm": 2})
    assert "keeps less MAP than SAAT under every attack (CgAT minus SAAT: -0.100 to -0.010)" in md
    assert "against 0.850 undefended): ATRDH 0.830 (-0.020), CgAT 0.780 (-0.070), SAAT 0.800 (-0.050)" in md


# --- chapter 4 ---------------------------------------------------------------------------------

def test_attack_ordering_text_counts_holds_and_resolved_gaps():
    nt = {"a": {"HAG": 0.3, "SDHA": 0.4, "SAAT": 0.2}, "b": {"HAG": 0.3, "SDHA": 0.25, "SAAT": 0.28}}
    tg = {"a": {"P2P": 0.5, "DHTA": 0.6, "THA": 0.55, "SAAT": 0.7}, "b": {"P2P": 0.5, "DHTA": 0.6, "THA": 0.55,
                                                                         "SAAT": 0.58}}
    gaps = {"a": {False: ("HAG", -0.1, 0.01), True: ("DHTA", 0.1, 0.02)},
            "b": {False: ("SDHA", 0.03, 0.02), True: ("DHTA", -0.02, 0.05)}}
    md, resolved, v = text.attack_ordering_markdown(nt, tg, gaps, {"a": 100, "b": 20}, [True, True], 32)
    assert resolved == 2  # a's two gaps are beyond 2 standard errors, b's within
    assert v == {"a": {"saat_lowest_map": True, "saat_highest_tmap": True},
                 "b": {"saat_lowest_map": False, "saat_highest_tmap": False}}
    assert md.startswith("In the paper (32 bits) SAAT is first in both rankings on all 2 datasets. "
                         "Here, the ordering **holds only in part** (2 of 4 comparisons)")
    assert "* **a** (100 queries): SAAT has the lowest MAP (0.200; HAG 0.300, SDHA 0.400)" in md
    assert "SAAT does **not** have the lowest MAP: SDHA reaches 0.250, SAAT 0.280" in md
    assert "SAAT-targeted does **not** have the highest t-MAP: DHTA reaches 0.600, SAAT-targeted 0.580" in md
    assert "per-query AP of SAAT minus HAG: -0.100 ± 0.010, beyond two standard errors" in md
    assert "per-query AP of SAAT minus SDHA: +0.030 ± 0.020, within two standard errors" in md  # 1.5 se
    assert "2 of 4 gaps between SAAT and its closest rival exceed two standard errors" in md
    only_b, _, _ = text.attack_ordering_markdown({"b": nt["b"]}, {"b": tg["b"]}, {"b": gaps["b"]}, {"b": 20},
                                                 [True, False], 32)
    assert only_b.startswith("In the paper (32 bits) SAAT is not first everywhere. Here, the ordering **does not "
                             "hold at all** (0 of 2 comparisons)")
    assert only_b.endswith("0 of 2 gaps between SAAT and its closest rival exceed two standard errors of the "
                           "per-query differences: with this many queries, the ranking of the attacks is not resolved.")
    none, _, _ = text.attack_ordering_markdown(nt, tg, gaps, {"a": 1, "b": 1}, [True, None], 32)
    assert none.startswith("The paper has no 32-bit results to compare with.")
    tied = {"a": {**nt["a"], "HAG": 0.2}}  # level with HAG: not the lowest, and HAG is named
    md, _, v = text.attack_ordering_markdown(tied, {"a": tg["a"]}, {"a": gaps["a"]}, {"a": 1}, [True], 32)
    assert v["a"]["saat_lowest_map"] is False
    assert "SAAT does **not** have the lowest MAP: HAG reaches 0.200, SAAT 0.200" in md


ABLATION_LABELS = {"mask": "SAAT (masked)", "nomask": "no mask", "linear": "inner product"}


def test_ablation_sentence_names_the_lowest_map():
    md, best = text.ablation_markdown({"mask": {"map": 0.2}, "nomask": {"map": 0.25}, "linear": {"map": 0.3}},
                                      ABLATION_LABELS, "fm", 16)
    assert best == "mask"
    assert md == ("On fm, 16 queries: the masked objective reaches MAP 0.2000; without the mask 0.2500 (+0.0500), "
                  "with the plain inner product 0.3000 (+0.1000). The lowest MAP comes from **SAAT (masked)**, "
                  "as the paper argues.")
    md, best = text.ablation_markdown({"mask": {"map": 0.2}, "nomask": {"map": 0.15}, "linear": {"map": 0.3}},
                                      ABLATION_LABELS, "fm", 16)
    assert best == "nomask"
    assert "without the mask 0.1500 (-0.0500)" in md
    assert md.endswith("The lowest MAP comes from **no mask**: here the mask does not pay off.")


def test_eps_budget_sentence_three_verdicts():
    eps, l2 = [2, 4, 8, 16], [0.5, 1.0, 2.0, 4.0]
    # benign 0.8; at 8/255 0.4, at 16/255 0.1: share (0.8 - 0.4) / (0.8 - 0.1) = 4/7 = 57%;
    # 16/255 keeps 0.1 / 0.4 = 25% of the MAP left at 8/255, so it removes 75%
    md, share = text.eps_budget_markdown(eps, [0.7, 0.6, 0.4, 0.1], l2, 0.8)
    assert share == pytest.approx(4 / 7)
    assert md == ("At 8/255 SAAT takes MAP from 0.800 to 0.400, 57% of the drop that 16/255 achieves (0.100); "
                  "at 4/255 MAP is still 0.600. The mean l_2 norm of the perturbation grows from 2.00 at 8/255 to "
                  "4.00 at 16/255. Here 8/255 does 57% of the damage in absolute terms, yet 16/255 still removes "
                  "75% of the MAP left at 8/255: the default budget is not a saturation point.")
    # at 8/255 0.2, at 16/255 0.15: share 0.6 / 0.65 = 92%, 16/255 keeps 75% -> most of the damage
    md, share = text.eps_budget_markdown(eps, [0.7, 0.6, 0.2, 0.15], l2, 0.8)
    assert share == pytest.approx(0.6 / 0.65)
    assert md.endswith("Here 8/255 already does most of the damage of 16/255, so a larger budget mostly buys "
                       "visibility.")
    # at 8/255 0.5, at 16/255 0.3: share 0.3 / 0.5 = 60%, 16/255 keeps 60% -> a compromise
    md, _ = text.eps_budget_markdown(eps, [0.7, 0.6, 0.5, 0.3], l2, 0.8)
    assert md.endswith("Here a larger budget still adds much damage: 8/255 is a compromise with visibility, not a "
                       "saturation point.")
    # without 8/255 the middle budget is the reference; no smaller budget, no "still" clause; no drop: share 0
    md, share = text.eps_budget_markdown([1, 3, 5], [0.9, 0.95, 0.9], [0.1, 0.2, 0.3], 0.8)
    assert md.startswith("At 3/255 SAAT takes MAP from 0.800 to 0.950") and share == 0.0
    assert "is still" in md  # 1/255 is smaller than 3/255
    md, _ = text.eps_budget_markdown([8, 16], [0.4, 0.1], [1.0, 2.0], 0.8)
    assert "is still" not in md


def test_steps_sentence_three_cases():
    maps = {10: 0.5, 50: 0.3, 100: 0.2, 200: 0.2002}
    assert text.steps_markdown(maps, 100, 0.8) == (
        "MAP after 10 iterations: 0.500; after 100 (the profile's budget): 0.200; after 200: 0.200, no lower "
        "(+0.000), for 2 times the cost.")
    # drop 0.2 - 0.17 = 0.03 < 0.1 x (0.8 - 0.2): a small further drop
    assert "a further drop of 0.030, for 2 times" in text.steps_markdown({**maps, 200: 0.17}, 100, 0.8)
    assert "still a large drop, 0.150, for 2 times" in text.steps_markdown({**maps, 200: 0.05}, 100, 0.8)


# --- chapter 6 ---------------------------------------------------------------------------------

def test_retained_sentence_gives_the_papers_range_and_ours():
    ours = {"fm": {"Original": 0.8, "HAG": 0.4, "SDHA": 0.3, "SAAT": 0.2}}
    theirs = {"P": {"Original": 80.0, "SAAT": 8.0}, "Q": {"Original": 50.0, "SAAT": 15.0}, "R": {"SAAT": 1.0}}
    assert text.retained_markdown(ours, theirs) == \
        "In the paper SAAT leaves 10% to 30% of the benign MAP; here 25% on fm."


def test_benign_cost_sentence():
    rows = {"none": {"Original": 0.80}, "SAAT": {"Original": 0.75}, "CgAT": {"Original": 0.82}}
    assert text.benign_cost_markdown({"fm": rows}) == (
        "Here the defenses change the benign MAP by -5.0 to +2.0 points; where it rises, the victim had not "
        "finished learning: the defense's epochs also continue its training on benign images.")
    lower = {"none": {"Original": 0.80}, "SAAT": {"Original": 0.75}, "ATRDH": {"Original": 0.70}}
    assert text.benign_cost_markdown({"fm": lower}) == \
        "Here the defenses change the benign MAP by -10.0 to -5.0 points."
    assert text.benign_cost_markdown({"fm": {"SAAT": {"Original": 0.7}}}) == ""  # no undefended row


def test_claims_table_marks_each_verdict():
    ours = {"fm": {"saat_lowest_map": True, "saat_highest_tmap": False, "saat_beats_atrdh": None,
                   "saat_doubles_none": True, "saat_beats_cgat": False}}
    theirs = {"P": dict.fromkeys(("saat_lowest_map", "saat_highest_tmap", "saat_beats_atrdh", "saat_doubles_none"),
                                 True)}
    t = text.claims_table(ours, theirs)
    assert list(t) == ["ours fm", "paper P"]
    assert t["ours fm"] == {"Table I: SAAT lowest MAP": "yes", "Table I: SAAT-targeted highest t-MAP": "no",
                            "Table II: SAAT-trained above ATRDH under HAG, SDHA, SAAT": "–",
                            "Table II: SAAT-trained >= 2x undefended under SAAT": "yes",
                            "Table II (not in the paper): SAAT-trained above CgAT under HAG, SDHA, SAAT": "no"}
    assert list(t["paper P"].values()) == ["yes", "yes", "yes", "yes", "–"]  # no CgAT in the paper
