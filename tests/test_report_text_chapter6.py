"""saatlib.report.text.chapter6: chapter 6's sentences say what the numbers say (hand-made numbers, and the
paper's values written out here)."""
import pytest

from saatlib.report import text


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
