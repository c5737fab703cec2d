"""saatlib.report.text.chapter4: chapter 4's sentences say what the numbers say (hand-made numbers, and the
paper's values written out here)."""
import pytest

from report_tools import comparison as _comparison
from saatlib.report import text


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


def test_steps_sentence_states_the_judged_comparison():
    maps = {1: 0.5, 50: 0.3, 100: 0.2, 200: 0.18}
    c = _comparison("steps.more", "200 iterations leave a lower MAP than 100", [0.02, 0.03, 0.01])
    md = text.steps_markdown(maps, 100, c)
    assert md.startswith("MAP after 1 iteration: 50.0 %; after 100 (the profile's): 20.0 %; after 200: 18.0 %, "
                         "for 2 times the cost. 200 iterations leave a lower MAP than 100: **supported** (+2.0 ± 0.6")


def test_paper_ordering_sentence_reads_the_papers_table():
    # at 32 bits ProS-GAN is above SAAT-targeted on NUS-WIDE only (74.29 > 73.99 in the CSV)
    md = text.paper_ordering_markdown(32)
    assert md == ("In the paper's Table I at 32 bits, SAAT has the lowest MAP on all 3 of its datasets; SAAT-targeted "
                  "has the highest t-MAP among P2P, DHTA and THA on all 3 of its datasets, and with the generative "
                  "ProS-GAN counted too on FLICKR-25K and MS-COCO (not NUS-WIDE).")
    assert text.paper_ordering_markdown(12) == "The paper's Table I has no 12-bit column."
