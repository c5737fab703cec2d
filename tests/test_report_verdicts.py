"""saatlib.report.verdicts: the paper's claims checked on a table (ours, hand-made, and the paper's own)."""
import pytest

from report_tools import RESULTS
from saatlib.report import paper, tables, verdicts


def test_attack_verdicts_on_our_numbers():
    v = verdicts.attack_verdicts(tables.table1_column(RESULTS))
    assert v["saat_lowest_map"] is True and v["saat_highest_tmap"] is True
    assert v["non_targeted"] == ["SAAT", "SDHA", "HAG"]
    assert v["targeted"] == ["SAAT-targeted", "DHTA", "P2P", "THA", "ProS-GAN"]


def test_attack_verdicts_ties_and_losses():
    col = {"HAG": 0.1, "SDHA": 0.2, "SAAT": 0.1, "P2P": 0.5, "DHTA": 0.9, "THA": 0.1, "SAAT-targeted": 0.8}
    v = verdicts.attack_verdicts(col)
    assert v["saat_lowest_map"] is False  # a tie is not a win
    assert v["saat_highest_tmap"] is False
    assert v["non_targeted"] == ["HAG", "SAAT", "SDHA"]  # stable among equals
    assert v["targeted"] == ["DHTA", "SAAT-targeted", "P2P", "THA"]
    assert verdicts.attack_verdicts({"SAAT": 0.1})["saat_lowest_map"] is None
    assert verdicts.strictly_best({"SAAT": 0.1, "HAG": None}, "SAAT", ("HAG",), True) is None


def test_paper_orderings_at_32_bits():
    for ds in paper.PAPER_DATASETS:
        v = verdicts.attack_verdicts(tables.paper_table1_column(ds, 32))
        assert v["saat_lowest_map"] is True and v["saat_highest_tmap"] is True
        assert v["non_targeted"][0] == "SAAT"
    assert verdicts.paper_saat_first(32) == [True, True, True]
    assert verdicts.paper_saat_first(12) == [None, None, None]  # no 12-bit column


def test_defense_verdicts_on_the_paper():
    v = verdicts.defense_verdicts(tables.paper_table2_rows("NUS-WIDE", 32))
    assert v["beats"] == {"HAG": True, "SDHA": True, "SAAT": True}
    assert v["saat_beats_atrdh"] is True
    assert v["saat_over_none"] == pytest.approx(50.33 / 11.89)
    assert v["saat_doubles_none"] is True
    assert v["beats_cgat"] == {"HAG": None, "SDHA": None, "SAAT": None} and v["saat_beats_cgat"] is None
    # FLICKR-25K, 16 bits: the SAAT-trained model is below ATRDH's under HAG (38.05 < 41.92)
    v16 = verdicts.defense_verdicts(tables.paper_table2_rows("FLICKR-25K", 16))
    assert v16["beats"]["HAG"] is False and v16["beats"]["SAAT"] is False
    assert v16["saat_beats_atrdh"] is False


def test_defense_verdicts_missing_and_edge_values():
    rows = {"none": {"SAAT": 0.0}, "SAAT": {"HAG": 0.5, "SAAT": 0.1}}
    v = verdicts.defense_verdicts(rows)
    assert v["beats"] == {"HAG": None, "SDHA": None, "SAAT": None}
    assert v["saat_beats_atrdh"] is None
    assert v["saat_over_none"] is None  # zero denominator
    assert v["saat_doubles_none"] is True  # 0.1 >= 2 * 0
    v = verdicts.defense_verdicts({"none": {"SAAT": 0.2}, "SAAT": {"SAAT": 0.3},
                                   "ATRDH": {"HAG": 0.1, "SDHA": 0.1, "SAAT": 0.3},
                                   "CgAT": {"SAAT": 0.25}}, attacks=("SAAT",))
    assert v["beats"] == {"SAAT": False} and v["saat_beats_atrdh"] is False
    assert v["beats_cgat"] == {"SAAT": True} and v["saat_beats_cgat"] is True
    assert v["saat_over_none"] == pytest.approx(1.5) and v["saat_doubles_none"] is False
    v = verdicts.defense_verdicts({"none": {"SAAT": 0.25}, "SAAT": {"SAAT": 0.5}})  # exactly twice: doubles
    assert v["saat_over_none"] == 2.0 and v["saat_doubles_none"] is True


def test_paper_claims_cell_by_cell():
    claims = verdicts.paper_claims()
    assert len(claims) == 3 * 4  # three datasets, 16/32/48/64 bits
    assert all(c["saat_lowest_map"] and c["saat_highest_tmap"] for c in claims.values())
    # ProS-GAN (74.29, 72.33) is above SAAT-targeted (73.99, 70.68) on NUS-WIDE at 32 and 16 bits
    without = sorted(k for k, c in claims.items() if not c["saat_highest_tmap_with_prosgan"])
    assert without == [("NUS-WIDE", 16), ("NUS-WIDE", 32)]
    assert [k for k, c in claims.items() if not c["saat_beats_atrdh"]] == [("FLICKR-25K", 16)]
    assert all(c["saat_doubles_none"] for c in claims.values())
    assert claims["FLICKR-25K", 16]["saat_over_none"] == pytest.approx(30.55 / 14.92)
    assert list(verdicts.paper_claims([32])) == [(ds, 32) for ds in ("FLICKR-25K", "NUS-WIDE", "MS-COCO")]


def test_paper_exceptions_are_the_false_cells():
    assert verdicts.paper_exceptions(verdicts.paper_claims()) == {
        "saat_lowest_map": [], "saat_highest_tmap": [],
        "saat_highest_tmap_with_prosgan": ["NUS-WIDE 16 bits", "NUS-WIDE 32 bits"],
        "saat_beats_atrdh": ["FLICKR-25K 16 bits"], "saat_doubles_none": []}
    made_up = {("X", 8): {**dict.fromkeys(verdicts.PAPER_CLAIM_KEYS, True), "saat_lowest_map": None},
               ("Y", 4): {**dict.fromkeys(verdicts.PAPER_CLAIM_KEYS, False)}}
    out = verdicts.paper_exceptions(made_up)
    assert out["saat_lowest_map"] == ["Y 4 bits"]  # None (missing) is no exception
    assert out["saat_doubles_none"] == ["Y 4 bits"]
