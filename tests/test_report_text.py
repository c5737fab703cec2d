"""saatlib.report.text: the chapters' sentences say what the numbers say (hand-made numbers, and the
paper's values written out here)."""
import pytest

from saatlib.attack.evaluate import worst_case_map
from saatlib.report import comparisons, gpu_estimate, rule, tables, text, verdicts

NT_HOLDS = {"Original": 0.9, "HAG": 0.5, "SDHA": 0.6, "SAAT": 0.3,
            "Original t-MAP": 0.1, "P2P": 0.7, "DHTA": 0.8, "THA": 0.75, "SAAT-targeted": 0.72}
NT_FAILS = {**NT_HOLDS, "SAAT": 0.55}


def test_ranking_text():
    col = {"HAG": 0.30, "SDHA": 0.25, "SAAT": 0.10, "P2P": None}
    assert text.ranking_text(col, ("HAG", "SDHA", "SAAT"), True, scale=100) == "SAAT 10.0 < SDHA 25.0 < HAG 30.0"
    assert text.ranking_text(col, ("HAG", "SAAT"), False, digits=2) == "HAG 0.30 > SAAT 0.10"
    assert text.ranking_text(col, ("P2P",), False) == "–"


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

def test_the_check_is_the_per_query_worst_case():
    results = [{"ap": {"adversarial": [0.5, 0.1, 0.4]}}, {"ap": {"adversarial": [0.2, 0.3, 0.4]}}]
    # per query min: 0.2, 0.1, 0.4 -> 0.7 / 3, below both MAPs (1/3 and 0.3)
    assert worst_case_map(results) == pytest.approx(0.7 / 3)


def test_eps_budget_sentence_three_verdicts():
    eps, l2 = [2, 4, 8, 16], [0.5, 1.0, 2.0, 4.0]
    # benign 0.8; at 8/255 0.4, at 16/255 0.1: share (0.8 - 0.4) / (0.8 - 0.1) = 4/7 = 57%;
    # 16/255 keeps 0.1 / 0.4 = 25% of the MAP left at 8/255, so it removes 75%
    md, share = text.eps_budget_markdown(eps, [0.7, 0.6, 0.4, 0.1], l2, 0.8, reference=8)
    assert share == pytest.approx(4 / 7)
    assert md == ("At 8/255 SAAT takes MAP from 80.0 % to 40.0 %, 57% of the drop that 16/255 achieves (10.0 %); "
                  "at 4/255 MAP is still 60.0 %. The mean l_2 norm of the perturbation grows from 2.00 at 8/255 to "
                  "4.00 at 16/255. Here 8/255 does 57% of the damage in absolute terms, yet 16/255 still removes "
                  "75% of the MAP left at 8/255: the default budget is not a saturation point.")
    # at 8/255 0.2, at 16/255 0.15: share 0.6 / 0.65 = 92%, 16/255 keeps 75% -> most of the damage
    md, share = text.eps_budget_markdown(eps, [0.7, 0.6, 0.2, 0.15], l2, 0.8, reference=8)
    assert share == pytest.approx(0.6 / 0.65)
    assert md.endswith("Here 8/255 already does most of the damage of 16/255, so a larger budget mostly buys "
                       "visibility.")
    # at 8/255 0.5, at 16/255 0.3: share 0.3 / 0.5 = 60%, 16/255 keeps 60% -> a compromise
    md, _ = text.eps_budget_markdown(eps, [0.7, 0.6, 0.5, 0.3], l2, 0.8, reference=8)
    assert md.endswith("Here a larger budget still adds much damage: 8/255 is a compromise with visibility, not a "
                       "saturation point.")
    # another reference budget moves every statement with it
    md, share = text.eps_budget_markdown(eps, [0.7, 0.6, 0.5, 0.3], l2, 0.8, reference=4)
    assert md.startswith("At 4/255 SAAT takes MAP from 80.0 % to 60.0 %") and share == pytest.approx(0.2 / 0.5)
    # without the reference among them the middle budget is the reference; no drop: share 0
    md, share = text.eps_budget_markdown([1, 3, 5], [0.9, 0.95, 0.9], [0.1, 0.2, 0.3], 0.8, reference=8)
    assert md.startswith("At 3/255 SAAT takes MAP from 80.0 % to 95.0 %") and share == 0.0
    assert "is still" in md  # 1/255 is smaller than 3/255
    md, _ = text.eps_budget_markdown([8, 16], [0.4, 0.1], [1.0, 2.0], 0.8, reference=8)
    assert "is still" not in md


def _comparison(key, claim, diffs, dataset="fm", target=0.02):
    return comparisons.Comparison(key, claim, dataset, rule.judge(diffs, target))


def test_steps_sentence_states_the_judged_comparison():
    maps = {1: 0.5, 50: 0.3, 100: 0.2, 200: 0.18}
    c = _comparison("steps.more", "200 iterations leave a lower MAP than 100", [0.02, 0.03, 0.01])
    md = text.steps_markdown(maps, 100, c)
    assert md.startswith("MAP after 1 iteration: 50.0 %; after 100 (the profile's): 20.0 %; after 200: 18.0 %, "
                         "for 2 times the cost. 200 iterations leave a lower MAP than 100: **supported** (+2.0 ± 0.6")


def _rows(saat_saat):
    return {"none": {"Original": 0.9, "HAG": 0.3, "SDHA": 0.35, "SAAT": 0.3, "check": 0.28},
            "ATRDH": {"Original": 0.85, "HAG": 0.5, "SDHA": 0.5, "SAAT": 0.5, "check": 0.5},
            "SAAT": {"Original": 0.8, "HAG": 0.6, "SDHA": 0.6, "SAAT": saat_saat, "check": 0.45}}


def test_defense_verdict_gives_each_label_the_ratio_and_its_ceiling():
    comps = [_comparison("table2.SAAT>ATRDH.HAG", "SAAT-trained keeps more MAP than ATRDH-trained under HAG",
                         [0.1, 0.12, 0.08]),
             _comparison("table2.SAAT>ATRDH.SAAT", "SAAT-trained keeps more MAP than ATRDH-trained under SAAT",
                         [-0.1, -0.12, -0.08]),
             _comparison("table2.SAAT>=2x", "SAAT-trained keeps at least 2x the undefended MAP under SAAT",
                         [-0.2, -0.1, -0.15])]
    md = text.defense_verdict_markdown(comps, {"fm": _rows(0.45)}, {"fm": 1}, 20)
    assert "* SAAT-trained above ATRDH-trained under every attack: **contradicted**" in md
    # 0.45 / 0.30 = 1.5; ceiling 0.80 / 0.30 = 2.7; kept 0.45 / 0.80 = 56%; one epoch, not "1 epoch(s)"
    assert "MAP 45.0 against 30.0 undefended, 1.5 times as much" in md
    assert ("would reach 2.7 times; it keeps 56% of it, after 1 epoch of adversarial training where the released "
            "script runs 20") in md
    assert "benign MAP, the price of each defense (points against 90.0 undefended): ATRDH -5.0, SAAT -10.0" in md


def test_masking_text_says_what_is_ruled_out_and_what_is_not():
    checks = {("fm", "SAAT"): {"large_eps": 64 / 255}, ("fm", "none"): {"large_eps": 64 / 255}}
    clean = [_comparison("masking.stronger.SAAT", "SAAT: a stronger attack (restarts) lowers MAP below the table's "
                         "strongest", [0.001, -0.001] * 50)]
    md = text.masking_markdown(clean, checks, 8)
    assert "MAP above chance at the large budget): none." in md
    assert "grows to 64/255 (8 times the training budget)" in md
    assert "they do not rule out attacks of other kinds" in md and "further" not in md
    found = [_comparison("masking.transfer.SAAT", "SAAT: examples transferred from the undefended model hurt "
                         "more than white-box ones", [0.2, 0.25, 0.3]),
             _comparison("masking.stronger.SAAT", "SAAT: stronger", [0.02, 0.03, 0.04]),
             _comparison("masking.stronger.none", "none: stronger", [0.2, 0.3, 0.4])]  # the undefended: no defense
    md = text.masking_markdown(found, checks, 8)
    assert "large budget): SAAT: examples transferred from the undefended model hurt more than white-box ones (fm, " \
           "+25.0 points)." in md
    assert "The stronger attack takes a further 3.0 to 3.0 points from SAAT (fm)" in md


def test_paper_ordering_sentence_reads_the_papers_table():
    # at 32 bits ProS-GAN is above SAAT-targeted on NUS-WIDE only (74.29 > 73.99 in the CSV)
    md = text.paper_ordering_markdown(32)
    assert md == ("In the paper's Table I at 32 bits, SAAT has the lowest MAP on all 3 of its datasets; SAAT-targeted "
                  "has the highest t-MAP among P2P, DHTA and THA on all 3 of its datasets, and with the generative "
                  "ProS-GAN counted too on FLICKR-25K and MS-COCO (not NUS-WIDE).")
    assert text.paper_ordering_markdown(12) == "The paper's Table I has no 12-bit column."


def test_gpu_estimate_scales_the_measured_rates_by_the_profile():
    gpu = {"columns": ["fp32", "bf16"], "images_per_second": {"SAAT attack, 100 iterations": [100, 1],
                                                               "one epoch of SAAT adversarial training": [500, 1]}}
    est = gpu_estimate.paper_estimate(gpu, num_train=1000, num_query=200)
    assert est["attack SAAT"] == pytest.approx(200 / 100)  # 100 iterations at the measured rate
    assert est["attack HAG"] == pytest.approx(200 / 100 * 2000 / 100)  # 2000 iterations in the paper profile
    assert est["defense ATRDH"] == pytest.approx(100 * 1000 / 500)  # 100 epochs
    assert est["victim"] == pytest.approx(100 * 1000 / (8 * 500))


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


def test_paper_table_captions_name_the_table_and_the_dataset():
    assert text.paper_table_caption("attacks", "NUS-WIDE").startswith("**The paper's Table I, NUS-WIDE**")
    assert "MAP (%) of each defended model" in text.paper_table_caption("defenses", "MS-COCO")
    with pytest.raises(ValueError, match="attacks' or 'defenses"):
        text.paper_table_caption("ablation", "NUS-WIDE")
