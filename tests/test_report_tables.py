"""saatlib.report.tables: the reproduction tables (rows, columns, the paper's beside ours, settings), on
hand-made numbers and on the paper's CSV files read here with the csv module."""
import csv
from pathlib import Path

import pytest
import torch

from report_tools import RESULTS, attack_result as _attack
from saatlib.attack.registry import NON_TARGETED, TARGETED
from saatlib.profiles import get_profile
from saatlib.report import paper, tables, verdicts

RESOURCES = Path(__file__).resolve().parent.parent / "saatlib" / "resources"


def read_paper_csv(name: str) -> list[dict]:
    """The rows of one of the paper's CSV files, read without saatlib (``#`` lines skipped)."""
    with (RESOURCES / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if line.strip() and not line.startswith("#")))


PAPER_T1 = read_paper_csv("paper_table1_attacks.csv")
PAPER_T2 = read_paper_csv("paper_table2_defenses.csv")


# --- the rows, defined once --------------------------------------------------------------------

def test_table1_rows_follow_the_registry_and_the_papers_csv():
    assert tables.NON_TARGETED_ROWS == ("HAG", "SDHA", "SAAT") == NON_TARGETED
    assert tables.TARGETED_ROWS == ("P2P", "DHTA", "ProS-GAN", "THA", "SAAT-targeted")
    assert tables.TABLE1_ROWS == ("Original", "HAG", "SDHA", "SAAT", "Original t-MAP", "P2P", "DHTA", "ProS-GAN",
                                  "THA", "SAAT-targeted")
    # the paper's claim "SAAT-targeted above every targeted rival" is told without, then with, the generative one
    assert verdicts.ITERATIVE_TARGETED_ROWS == ("P2P", "DHTA", "THA", "SAAT-targeted")
    # the paper's rows are its CSV file's methods, in the file's order, with their metric
    paper_rows = list(dict.fromkeys((r["method"], r["metric"]) for r in PAPER_T1))
    assert [(r.name, r.metric) for r in tables.TABLE1 if r.in_paper] == paper_rows
    assert tables.PAPER_TABLE1_ROWS == ("Original", "HAG", "SDHA", "SAAT", "Original t-MAP", "P2P", "DHTA",
                                        "ProS-GAN", "THA", "SAAT-targeted")
    # every implemented row names its registry attack
    assert {(r.attack, r.targeted) for r in tables.TABLE1 if r.attack is not None} == \
        {*((a, False) for a in NON_TARGETED), *((a, True) for a in TARGETED)}
    assert tables.TABLE1_METRIC["Original t-MAP"] == "t-MAP" and tables.TABLE1_METRIC["SAAT"] == "MAP"


def test_table2_columns_are_the_papers():
    assert tables.TABLE2_ATTACKS == NON_TARGETED
    assert tables.TABLE2_COLUMNS == tuple(dict.fromkeys(r["attack"] for r in PAPER_T2))
    assert tables.TABLE2_COLUMNS == ("Original", "HAG", "SDHA", "SAAT")


def test_row_name():
    assert tables.row_name("SAAT", True) == "SAAT-targeted"
    assert tables.row_name("SAAT", False) == "SAAT" and tables.row_name("THA", True) == "THA"


def test_attacked_queries_caps_the_wish_by_the_profile():
    cap = get_profile("smoke")["attack"]["num_queries"]
    assert cap == 16
    assert tables.attacked_queries("smoke", "fashion-mnist", {"fashion-mnist": 100}) == 16
    assert tables.attacked_queries("smoke", "fashion-mnist", {"fashion-mnist": 3}) == 3
    assert tables.attacked_queries("smoke", "other", {"fashion-mnist": 3}) == 16  # no wish: the defense queries, capped
    # no wish: the queries of the profile's defense evaluation on that dataset (one query set for both tables)
    default = get_profile("default")["defense"]
    assert tables.attacked_queries("default", "fashion-mnist", None) == default["eval"]["num_queries"]
    # no per-dataset entry: the mosaics get the same query set size
    assert "datasets" not in default
    assert tables.attacked_queries("default", "fashion-mnist-mosaics", None) == default["eval"]["num_queries"]
    assert tables.attacked_queries("smoke", "x", 5) == 5
    assert tables.attacked_queries("paper", "x", 7) == 7  # the paper profile has no cap (None)
    assert tables.attacked_queries("paper", "x", None) is None


# --- Table I -----------------------------------------------------------------------------------

def test_table1_column_rows_and_sources():
    col = tables.table1_column(RESULTS)
    assert col == {"Original": 0.80, "HAG": 0.30, "SDHA": 0.25, "SAAT": 0.10, "Original t-MAP": 0.04,
                   "P2P": 0.60, "DHTA": 0.65, "ProS-GAN": 0.20, "THA": 0.55, "SAAT-targeted": 0.70}
    assert list(col) == list(tables.TABLE1_ROWS)
    # Original: the non-targeted SAAT run's benign MAP (0.80), not HAG's 0.81; Original t-MAP: targeted SAAT's


def test_table1_column_without_saat_takes_another_benign_map():
    col = tables.table1_column({("HAG", False): _attack(0.3, 0.7), ("THA", True): _attack(0.5, 0.9, 0.02)})
    assert col == {"Original": 0.7, "HAG": 0.3, "Original t-MAP": 0.02, "THA": 0.5}
    assert list(col) == ["Original", "HAG", "Original t-MAP", "THA"]


def test_paper_table1_column_reads_the_csv():
    col = tables.paper_table1_column("NUS-WIDE", 32)
    assert col["Original"] == 77.47 and col["HAG"] == 13.32 and col["SDHA"] == 12.98 and col["SAAT"] == 11.89
    assert col["THA"] == 72.98 and col["SAAT-targeted"] == 73.99 and col["ProS-GAN"] == 74.29
    assert list(col) == list(tables.PAPER_TABLE1_ROWS)
    assert col["Original t-MAP"] is None
    for r in PAPER_T1:  # every value of the file, read here with the csv module
        assert tables.paper_table1_column(r["dataset"], int(r["bits"]))[r["method"]] == float(r["value"])
    assert all(v is None for v in tables.paper_table1_column("NUS-WIDE", 12).values())


def test_table1_side_by_side_in_percent():
    ours = {"fm": {"Original": 0.8, "SAAT": 0.1, "SAAT-targeted": 0.7}}
    theirs = {"P": {"Original": 80.0, "SAAT": 12.0, "ProS-GAN": 70.0}}
    t = tables.table1_side_by_side(ours, theirs)
    assert list(t) == ["metric", "ours fm", "paper P"]
    assert list(t["ours fm"]) == list(tables.PAPER_TABLE1_ROWS)
    assert t["metric"]["HAG"] == "MAP" and t["metric"]["ProS-GAN"] == "t-MAP"
    assert t["ours fm"]["Original"] == pytest.approx(80.0) and t["ours fm"]["SAAT-targeted"] == pytest.approx(70.0)
    assert t["ours fm"]["HAG"] is None and t["ours fm"]["ProS-GAN"] is None
    assert t["paper P"]["SAAT"] == 12.0 and t["paper P"]["ProS-GAN"] == 70.0 and t["paper P"]["HAG"] is None


def test_retained_shares():
    r = tables.retained({"Original": 0.8, "HAG": 0.4, "SDHA": None, "SAAT": 0.2})
    assert r == {"HAG": pytest.approx(0.5), "SDHA": None, "SAAT": pytest.approx(0.25)}
    assert tables.retained({"Original": 0.0, "HAG": 0.0})["HAG"] is None
    p = tables.retained(tables.paper_table1_column("FLICKR-25K", 32))
    assert p["SAAT"] == pytest.approx(14.53 / 82.28)
    side = tables.retained_side_by_side({"fm": {"Original": 0.5, "HAG": 0.25, "SDHA": 0.1, "SAAT": 0.05}},
                                        {"P": {"Original": 50.0, "HAG": 10.0, "SDHA": 5.0, "SAAT": 25.0}})
    assert side == {"ours fm": {"HAG": 0.5, "SDHA": pytest.approx(0.2), "SAAT": pytest.approx(0.1)},
                    "paper P": {"HAG": 0.2, "SDHA": 0.1, "SAAT": 0.5}}


# --- Table II ----------------------------------------------------------------------------------

def test_table2_row_from_an_evaluate_defense_dict():
    result = {"map_benign": 0.7, "map_under_attack": {"HAG": 0.5, "SDHA": 0.4, "SAAT": 0.3, "check": 0.2}}
    assert tables.table2_row(result) == {"Original": 0.7, "HAG": 0.5, "SDHA": 0.4, "SAAT": 0.3, "check": 0.2}


def test_paper_table2_rows_with_the_undefended_model_from_table1():
    rows = tables.paper_table2_rows("MS-COCO", 32)
    assert list(rows) == ["none", "ATRDH", "SAAT"]
    assert rows["none"] == {"Original": 57.41, "HAG": 13.97, "SDHA": 12.38, "SAAT": 11.21}
    assert rows["ATRDH"]["SAAT"] == 23.24 and rows["SAAT"]["SAAT"] == 30.87
    assert rows["SAAT"]["Original"] == 49.41
    assert list(tables.paper_table2_rows("MS-COCO", 32, undefended=False)) == ["ATRDH", "SAAT"]
    for r in PAPER_T2:  # every value of the file, read here with the csv module
        got = tables.paper_table2_rows(r["dataset"], int(r["bits"]))[r["defense"]][r["attack"]]
        assert got == float(r["value"])


def test_table2_side_by_side_in_percent():
    ours = {"fm": {"none": {"Original": 0.9, "HAG": 0.2, "check": 0.1}, "SAAT": {"Original": 0.8, "HAG": None}}}
    theirs = {"P": {"SAAT": {"Original": 60.0, "HAG": 50.0, "SDHA": 40.0, "SAAT": 30.0}}}
    t = tables.table2_side_by_side(ours, theirs, ("Original", "HAG", "check"))
    assert list(t) == [("ours fm", "none"), ("ours fm", "SAAT"), ("paper P", "SAAT")]
    assert t["ours fm", "none"] == {"Original": pytest.approx(90.0), "HAG": pytest.approx(20.0),
                                    "check": pytest.approx(10.0)}
    assert t["ours fm", "SAAT"] == {"Original": pytest.approx(80.0), "HAG": None, "check": None}
    assert t["paper P", "SAAT"] == {"Original": 60.0, "HAG": 50.0, "check": None}
    assert list(tables.table2_side_by_side({}, theirs)["paper P", "SAAT"]) == ["Original", "HAG", "SDHA", "SAAT"]


def test_benign_cost_in_points():
    ours = {"fm": {"none": {"Original": 0.80}, "SAAT": {"Original": 0.75}, "CgAT": {"Original": 0.82}},
            "no undefended": {"SAAT": {"Original": 0.5}}}
    theirs = {"P": {"none": {"Original": 77.0}, "SAAT": {"Original": 60.0}, "ATRDH": {"Original": None}}}
    assert tables.benign_cost(ours, theirs) == {"ours fm": {"SAAT": pytest.approx(-5.0), "CgAT": pytest.approx(2.0)},
                                                "paper P": {"SAAT": -17.0, "ATRDH": None}}


# --- per-query evidence ------------------------------------------------------------------------

#: 4 database items, K = 2: codes (+,+), (+,-), (-,+), (-,-); items 0 and 2 of class 0, 1 and 3 of class 1
DB = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
DB_Y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])


def test_relevant_in_top_k_hand_worked():
    q = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    y = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    # (+,+): top 2 are items 0, 1 (one of class 0); (-,-): items 3, 1 (none); top 3 adds item 2 to both
    assert tables.relevant_in_top_k(q, DB, y, DB_Y, 2).tolist() == [1, 0]
    assert tables.relevant_in_top_k(q, DB, y, DB_Y, 3).tolist() == [2, 1]


# --- settings and Markdown ---------------------------------------------------------------------

def test_settings_table_reads_the_profiles():
    t = tables.settings_table(("default", "paper"))
    assert t["backbone"] == {"default": "smallcnn", "paper": "alexnet"}
    assert t["backbone channels"] == {"default": "16-32-64", "paper": None}
    assert t["victim epochs"] == {"default": 16, "paper": 100}
    assert t["MAP@topk"] == {"default": 1000, "paper": 5000}
    assert t["HAG iterations"]["paper"] == 2000 and t["SDHA iterations"]["paper"] == 1500
    assert t["ATRDH defense epochs"] == {"default": 2, "paper": 100}
    assert t["num_train"]["paper"] is None
    assert t["victim optimizer"]["paper"] == "sgd lr 0.01"


def test_settings_table_shows_the_fidelity_switches_of_each_profile():
    t = tables.settings_table(("default", "paper"))
    assert t["code_buffer (released: 'aliased')"] == {"default": "signed", "paper": "aliased"}
    assert t["attack_mode (released: 'train')"] == {"default": "eval", "paper": "train"}
    assert t["loss_pairs (released: 'all')"] == {"default": "seen", "paper": "all"}
    assert t["dmfl_weighting (released: 'cosine')"] == {"default": "cosine", "paper": "cosine"}


def test_markdown_table():
    assert tables.markdown_table(["Method", "16 bits"], [["SAAT", "1.00 / 2.00"], ["a|b", 3]]) == (
        "| Method | 16 bits |\n|---|---|\n| SAAT | 1.00 / 2.00 |\n| a\\|b | 3 |")


def test_attack_update_reads_each_attacks_parameters():
    from saatlib.attack.registry import build_attack
    saat = tables.attack_update(build_attack("SAAT", False, "default"))
    assert saat == {"update": "sign step 1/255", "start": "random in the ball",
                    "tanh scale": "0.1x5 0.2 0.3 0.5 0.7 1"}  # five tenths at 0.1
    assert tables.attack_update(build_attack("HAG", False, "default"))["update"] == "SGD lr 100, momentum 0.9"
    assert tables.attack_update(build_attack("SDHA", False, "default"))["update"] == "Adam lr 0.01"
    assert tables.attack_update(build_attack("P2P", True, "default"))["start"] == "x"  # no random start
    pros = tables.attack_update(build_attack("ProS-GAN", True, "default"))
    assert pros == {"update": "one generator pass", "start": "x", "tanh scale": "-"}
    assert tables.attack_update(build_attack("THA", True, "default", schedule=None))["tanh scale"] == "a = 1"
