"""saatlib.report: the reproduction chapter's tables and verdicts, on hand-made and paper numbers."""
import pytest

from saatlib import paper, report
from saatlib.profiles import get_profile


def _attack(adv, benign=0.8, tbenign=None):
    r = {"map_adversarial": adv, "map_benign": benign}
    if tbenign is not None:
        r["tmap_benign"] = tbenign
    return r


RESULTS = {("HAG", False): _attack(0.30, 0.81), ("SDHA", False): _attack(0.25, 0.81),
           ("SAAT", False): _attack(0.10, 0.80), ("P2P", True): _attack(0.60, 0.80, 0.05),
           ("DHTA", True): _attack(0.65, 0.80, 0.05), ("THA", True): _attack(0.55, 0.80, 0.05),
           ("SAAT", True): _attack(0.70, 0.80, 0.04)}


def test_attacked_queries_caps_the_wish_by_the_profile():
    cap = get_profile("smoke")["attack"]["num_queries"]
    assert report.attacked_queries("smoke", "fashion-mnist", {"fashion-mnist": 100}) == min(100, cap)
    assert report.attacked_queries("smoke", "fashion-mnist", {"fashion-mnist": 3}) == 3
    assert report.attacked_queries("smoke", "other", {"fashion-mnist": 3}) == cap  # no wish: the cap
    assert report.attacked_queries("smoke", "x", 5) == 5
    assert report.attacked_queries("paper", "x", 7) == 7  # the paper profile has no cap (None)
    assert report.attacked_queries("paper", "x", None) is None


def test_table1_column_rows_and_sources():
    col = report.table1_column(RESULTS)
    assert list(col) == list(report.TABLE1_ROWS)
    assert col["Original"] == 0.80  # the non-targeted SAAT run's benign MAP, not HAG's 0.81
    assert col["Original t-MAP"] == 0.04  # the targeted SAAT run's
    assert col["SAAT"] == 0.10 and col["SAAT-targeted"] == 0.70 and col["HAG"] == 0.30


def test_table1_column_without_saat_takes_another_benign_map():
    col = report.table1_column({("HAG", False): _attack(0.3, 0.7)})
    assert col == {"Original": 0.7, "HAG": 0.3}


def test_attack_verdicts_on_our_numbers():
    v = report.attack_verdicts(report.table1_column(RESULTS))
    assert v["saat_lowest_map"] is True and v["saat_highest_tmap"] is True
    assert v["non_targeted"] == ["SAAT", "SDHA", "HAG"]
    assert v["targeted"] == ["SAAT-targeted", "DHTA", "P2P", "THA"]


def test_attack_verdicts_ties_and_losses():
    col = {"HAG": 0.1, "SDHA": 0.2, "SAAT": 0.1, "P2P": 0.5, "DHTA": 0.9, "THA": 0.1, "SAAT-targeted": 0.8}
    v = report.attack_verdicts(col)
    assert v["saat_lowest_map"] is False  # a tie is not a win
    assert v["saat_highest_tmap"] is False
    assert v["non_targeted"] == ["HAG", "SAAT", "SDHA"]  # stable among equals
    assert report.attack_verdicts({"SAAT": 0.1})["saat_lowest_map"] is None


def test_paper_table1_column_reads_the_csv():
    col = report.paper_table1_column("NUS-WIDE", 32)
    assert col["Original"] == 77.47 and col["HAG"] == 13.32 and col["SDHA"] == 12.98 and col["SAAT"] == 11.89
    assert col["THA"] == 72.98 and col["SAAT-targeted"] == 73.99 and col["ProS-GAN"] == 74.29
    assert list(col) == list(report.PAPER_TABLE1_ROWS)
    assert col["Original t-MAP"] is None
    assert all(v is None for v in report.paper_table1_column("NUS-WIDE", 12).values())


def test_paper_orderings_at_32_bits():
    for ds in paper.PAPER_DATASETS:
        v = report.attack_verdicts(report.paper_table1_column(ds, 32))
        assert v["saat_lowest_map"] is True and v["saat_highest_tmap"] is True
        assert v["non_targeted"][0] == "SAAT"


def test_ranking_text_and_holds_text():
    col = {"HAG": 0.30, "SDHA": 0.25, "SAAT": 0.10, "P2P": None}
    assert report.ranking_text(col, report.NON_TARGETED_ROWS, True, scale=100) == "SAAT 10.0 < SDHA 25.0 < HAG 30.0"
    assert report.ranking_text(col, ("HAG", "SAAT"), False, digits=2) == "HAG 0.30 > SAAT 0.10"
    assert report.ranking_text(col, ("P2P",), False) == "–"
    assert [report.holds_text(v) for v in (True, False, None)] == ["holds", "does not hold", "cannot be checked"]


def test_retained_shares():
    r = report.retained({"Original": 0.8, "HAG": 0.4, "SDHA": None, "SAAT": 0.2})
    assert r == {"HAG": pytest.approx(0.5), "SDHA": None, "SAAT": pytest.approx(0.25)}
    assert report.retained({"Original": 0.0, "HAG": 0.0})["HAG"] is None
    p = report.retained(report.paper_table1_column("FLICKR-25K", 32))
    assert p["SAAT"] == pytest.approx(14.53 / 82.28)


def test_table2_row_from_an_evaluate_defense_dict():
    result = {"map_benign": 0.7, "map_under_attack": {"HAG": 0.5, "SDHA": 0.4, "SAAT": 0.3, "check": 0.2}}
    assert report.table2_row(result) == {"Original": 0.7, "HAG": 0.5, "SDHA": 0.4, "SAAT": 0.3, "check": 0.2}


def test_paper_table2_rows_with_the_undefended_model_from_table1():
    rows = report.paper_table2_rows("MS-COCO", 32)
    assert list(rows) == ["none", "ATRDH", "SAAT"]
    assert rows["none"] == {"Original": 57.41, "HAG": 13.97, "SDHA": 12.38, "SAAT": 11.21}
    assert rows["ATRDH"]["SAAT"] == 23.24 and rows["SAAT"]["SAAT"] == 30.87
    assert rows["SAAT"]["Original"] == 49.41


def test_defense_verdicts_on_the_paper():
    v = report.defense_verdicts(report.paper_table2_rows("NUS-WIDE", 32))
    assert v["beats"] == {"HAG": True, "SDHA": True, "SAAT": True}
    assert v["saat_beats_atrdh"] is True
    assert v["saat_over_none"] == pytest.approx(50.33 / 11.89)
    assert v["saat_doubles_none"] is True
    # FLICKR-25K, 16 bits: the SAAT-trained model is below ATRDH's under HAG (38.05 < 41.92)
    v16 = report.defense_verdicts(report.paper_table2_rows("FLICKR-25K", 16))
    assert v16["beats"]["HAG"] is False and v16["beats"]["SAAT"] is False
    assert v16["saat_beats_atrdh"] is False


def test_defense_verdicts_missing_and_edge_values():
    rows = {"none": {"SAAT": 0.0}, "SAAT": {"HAG": 0.5, "SAAT": 0.1}}
    v = report.defense_verdicts(rows)
    assert v["beats"] == {"HAG": None, "SDHA": None, "SAAT": None}
    assert v["saat_beats_atrdh"] is None
    assert v["saat_over_none"] is None  # zero denominator
    assert v["saat_doubles_none"] is True  # 0.1 >= 2 * 0
    v = report.defense_verdicts({"none": {"SAAT": 0.2}, "SAAT": {"SAAT": 0.3},
                                 "ATRDH": {"HAG": 0.1, "SDHA": 0.1, "SAAT": 0.3}},
                                attacks=("SAAT",))
    assert v["beats"] == {"SAAT": False} and v["saat_beats_atrdh"] is False
    assert v["saat_over_none"] == pytest.approx(1.5) and v["saat_doubles_none"] is False


def test_paper_claims_cell_by_cell():
    claims = report.paper_claims()
    assert len(claims) == 3 * 4  # three datasets, 16/32/48/64 bits
    assert all(c["saat_lowest_map"] and c["saat_highest_tmap"] for c in claims.values())
    # ProS-GAN (74.29, 72.33) is above SAAT-targeted (73.99, 70.68) on NUS-WIDE at 32 and 16 bits
    without = sorted(k for k, c in claims.items() if not c["saat_highest_tmap_with_prosgan"])
    assert without == [("NUS-WIDE", 16), ("NUS-WIDE", 32)]
    assert [k for k, c in claims.items() if not c["saat_beats_atrdh"]] == [("FLICKR-25K", 16)]
    assert all(c["saat_doubles_none"] for c in claims.values())
    assert claims["FLICKR-25K", 16]["saat_over_none"] == pytest.approx(30.55 / 14.92)
    assert list(report.paper_claims([32])) == [(ds, 32) for ds in paper.PAPER_DATASETS]


def test_settings_table_reads_the_profiles():
    t = report.settings_table(("default", "paper"))
    assert t["backbone"] == {"default": "smallcnn", "paper": "alexnet"}
    assert t["backbone channels"] == {"default": "16-32-64", "paper": None}
    assert t["victim epochs"] == {"default": get_profile("default")["hashing"]["epochs"], "paper": 100}
    assert t["MAP@topk"] == {"default": 1000, "paper": 5000}
    assert t["HAG iterations"]["paper"] == 2000 and t["SDHA iterations"]["paper"] == 1500
    assert t["ATRDH defense epochs"] == {"default": 2, "paper": 100}
    assert t["num_train"]["paper"] is None
    assert t["victim optimizer"]["paper"] == "sgd lr 0.01"


def test_settings_table_shows_the_fidelity_switches_of_each_profile():
    t = report.settings_table(("default", "paper"))
    assert t["code_buffer (released: 'aliased')"] == {"default": "signed", "paper": "aliased"}
    assert t["attack_mode (released: 'train')"] == {"default": "eval", "paper": "train"}
    assert t["loss_pairs (released: 'all')"] == {"default": "seen", "paper": "all"}
    assert t["dmfl_weighting (released: 'cosine')"] == {"default": "cosine", "paper": "cosine"}


def test_paired_difference_hand_worked():
    # differences 0.1, 0.3, 0.2: mean 0.2, sample sd 0.1, se 0.1 / sqrt(3)
    mean, se = report.paired_difference([0.5, 0.6, 0.4], [0.4, 0.3, 0.2])
    assert mean == pytest.approx(0.2) and se == pytest.approx(0.1 / 3 ** 0.5)
    assert report.paired_difference([0.5], [0.1])[1] == 0.0
