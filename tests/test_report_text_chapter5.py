"""saatlib.report.text.chapter5: chapter 5's sentences say what the numbers say (hand-made numbers)."""
from report_tools import comparison as _comparison
from saatlib.report import text


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
