"""The book's chapters run in the smoke profile and record sensible numbers.

Every notebook chapter listed in _toc.yml is executed once per session with
papermill (``scripts/run_chapters.py --profile smoke``, the ``smoke_chapters``
fixture of tests/conftest.py) into a temporary folder; the numbers it recorded (``saatlib.chapters.record``) are read
back and checked, generally (no duplicate names, MAP-like values in [0, 1])
and chapter by chapter. The chapters run in a run store of their own (tests/conftest.py), so they
share trained models as in ``make book``.
"""
from __future__ import annotations

import ast
import csv
import itertools
from pathlib import Path

import nbformat
import pytest
import torch

from saatlib.chapters.records import RECORD_PREFIX, _plain, read_records
from saatlib.chapters.runner import chapter_parameters, run_chapter, toc_notebooks
from saatlib.experiments.retrieval import HashRun, tie_order_maps
from saatlib.profiles import get_profile
from saatlib.store import RunStore

ROOT = Path(__file__).resolve().parent.parent

CHAPTERS = [p.stem for p in toc_notebooks()]
SMOKE = get_profile("smoke")
#: our Table I rows as chapters 4 and 6 name them
TABLE1_ROWS = ("Original", "HAG", "SDHA", "SAAT", "Original t-MAP", "P2P", "DHTA", "ProS-GAN", "THA", "SAAT-targeted")
TABLE2_COLUMNS = ("Original", "HAG", "SDHA", "SAAT")


def read_paper_csv(name: str) -> list[dict]:
    """The rows of one of the paper's CSV files (saatlib/resources), read with the csv module, ``#`` lines skipped."""
    with (ROOT / "saatlib" / "resources" / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if line.strip() and not line.startswith("#")))


PAPER_T1 = {(r["method"], r["dataset"], int(r["bits"])): float(r["value"])
            for r in read_paper_csv("paper_table1_attacks.csv")}
PAPER_T2 = {(r["defense"], r["attack"], r["dataset"], int(r["bits"])): float(r["value"])
            for r in read_paper_csv("paper_table2_defenses.csv")}
PAPER_DATASETS = sorted({ds for _, ds, _ in PAPER_T1})


@pytest.fixture(scope="module")
def executed(smoke_chapters):
    """``executed(stem)`` -> (path of the executed notebook, its records), from the session's one
    smoke-profile execution of every chapter (tests/conftest.py, shared with the render tests)."""
    done: dict[str, tuple[Path, dict]] = {}

    def run(stem: str):
        if stem not in CHAPTERS:
            pytest.skip(f"{stem} is not in _toc.yml")
        if stem not in done:
            out = smoke_chapters.notebook(stem)
            done[stem] = (out, read_records(out))
        return done[stem]

    return run


def _map_values(records: dict):
    """(name, value) of every recorded MAP (names holding "map" or starting "tie_"), lists flattened."""
    for name, value in records.items():
        if "map" in name.lower() or name.startswith("tie_"):
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, float):
                    yield name, v


def _datasets(records: dict, prefix: str) -> list[str]:
    """The datasets named after ``prefix`` in record names ``<prefix><dataset>.<...>``, sorted."""
    return sorted({k[len(prefix):].split(".")[0] for k in records if k.startswith(prefix)})


# --- every chapter ----------------------------------------------------------------------------

@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_runs_in_smoke_profile(executed, stem):
    path, records = executed(stem)
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["papermill"]["parameters"]["profile"] == "smoke"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error" or o.get("name") == "stderr"]
    assert not errors, f"{stem}: error or stderr output: {errors[:1]}"
    for name, value in _map_values(records):
        assert 0.0 <= value <= 1.0, f"{stem}: {name} = {value} is not in [0, 1]"


# --- chapter by chapter ------------------------------------------------------------------------

@pytest.mark.notebook
@pytest.mark.slow
def test_retrieval_chapter_records(executed):
    _, r = executed("01_retrieval")
    data = SMOKE["data"]
    assert (r["num_query"], r["num_database"], r["num_train"]) == \
        (data["num_query"], data["num_database"], data["num_train"])
    assert r["protocol_ok"] is True
    assert r["hamming_formula_ok"] is True
    # single-label, ten classes: chance relevance about 0.1; mosaics share labels far more often
    assert 0.05 < r["chance_relevance.fashion-mnist"] < 0.2
    assert r["chance_relevance.fashion-mnist-mosaics"] > r["chance_relevance.fashion-mnist"]
    assert r["map"] > r["chance_relevance.fashion-mnist"], "the hash model ranks no better than chance"
    # the tie-order records themselves are checked by enumeration in test_tie_order_maps_by_enumeration
    permuted = r["tie_permuted"]
    assert len(permuted) >= 5 and min(permuted) == r["tie_min"] and max(permuted) == r["tie_max"]
    assert r["tie_max"] > r["tie_min"], "no spread over tie orders: the chapter's point does not show"
    assert r["median_tied_at_cut"] >= 1


@pytest.mark.notebook
@pytest.mark.slow
def test_deep_hashing_chapter_records(executed):
    _, r = executed("02_deep_hashing")
    maps = {k: v for k, v in r.items() if k.startswith("map.")}
    datasets = _datasets(r, "map.")
    assert "fashion-mnist" in datasets
    assert len(maps) == 4 * len(datasets), f"expected 4 methods x {datasets}, got {sorted(maps)}"
    for name, value in maps.items():
        expected = r["map_expected." + name[len("map."):]]
        assert 0.0 < value <= 1.0
        assert abs(value - expected) < 0.1, f"{name}: stable {value} and tie-aware {expected} far apart"
    best_fm = max(v for k, v in maps.items() if k.startswith("map.fashion-mnist."))
    assert best_fm > 0.3, f"no method learns Fashion-MNIST even in the smoke profile (best MAP {best_fm})"


@pytest.mark.notebook
@pytest.mark.slow
def test_mainstay_chapter_records(executed):
    executed("02_deep_hashing")  # the models chapter 3 reuses, as in `make book`
    _, r = executed("03_mainstay_codes")
    assert r["enum_matched"] is True, "sign(d) does not reach the brute-force maximum of the DMFL objective"
    assert r["enum_bits"] >= 6 and r["enum_label_sets"] >= 2
    mainstay = {k: v for k, v in r.items() if k.startswith("mainstay_map.")}
    assert len(mainstay) == 4  # 2 datasets x 2 weightings
    for name, value in mainstay.items():
        assert value > 0.5, f"{name} = {value}: mainstay codes should retrieve their semantics well"
        dataset = name.split(".")[1]
        assert value > r[f"benign_map.{dataset}"] - 0.05
    assert r["weightings_differ.fashion-mnist"] == 0.0, "weightings must agree on single-label data"
    assert 0 <= r["bits_to_class_centre"] <= 32 and 0 <= r["bits_to_csq_centre"] <= 32


@pytest.mark.notebook
@pytest.mark.slow
def test_attacks_chapter_records(executed):
    executed("02_deep_hashing")
    _, r = executed("04_attacks")
    datasets = _datasets(r, "map_benign.")
    assert datasets, "no dataset recorded"
    for d in datasets:
        benign, tbenign = r[f"map_benign.{d}"], r[f"tmap_benign.{d}"]
        nt = {a: r[f"map.{d}.{a}"] for a in ("HAG", "SDHA", "SAAT")}
        tg = {a: r[f"tmap.{d}.{a}"] for a in ("P2P", "DHTA", "ProS-GAN", "THA", "SAAT")}
        assert nt["SAAT"] < benign, f"{d}: SAAT does not lower MAP ({nt['SAAT']} vs benign {benign})"
        assert max(tg.values()) > tbenign, f"{d}: no targeted attack raises t-MAP above {tbenign}"
        assert r[f"linf_within_budget.{d}"] is True
        # each comparison's mean per-query difference is the difference of the two MAPs (same queries),
        # and its label is the rule's
        for rival in ("HAG", "SDHA"):
            v = r[f"verdict.table1.SAAT<{rival}.{d}"]
            assert v["diff"] == pytest.approx(nt[rival] - nt["SAAT"], abs=1e-9)
            _check_label(v)
        for rival in ("P2P", "DHTA", "ProS-GAN", "THA"):
            v = r[f"verdict.table1.SAAT-targeted>{rival}.{d}"]
            assert v["diff"] == pytest.approx(tg["SAAT"] - tg[rival], abs=1e-9)
            _check_label(v)
        assert r[f"map_theory.{d}"] <= benign  # querying with -b* is no better than the benign query
    sweep = r["eps_sweep_map"]
    assert len(sweep) == len(r["eps_sweep_eps"]) and sweep[-1] < sweep[0], "a larger budget should hurt more"
    steps = r["steps_sweep_map"]
    assert len(steps) == len(r["steps_sweep_steps"]) and steps[-1] < steps[0]
    assert r["example_relevant_saat"] <= r["example_relevant_benign"]
    assert 0 <= r["explorer_initial_flipped"] <= 32
    ablation = {v: r[f"ablation_map.{v}"] for v in ("mask", "nomask", "linear")}
    for v in ("nomask", "linear"):
        assert r[f"verdict.ablation.mask<{v}.{datasets[0]}"]["diff"] == pytest.approx(ablation[v] - ablation["mask"],
                                                                                  abs=1e-9)
    assert r["comparisons_in_chapter"] == 3 + 6 * len(datasets)  # ablation 2, iterations 1, Table I 6 a dataset
    # ProS-GAN's training curve ends at Table I's t-MAP (the curve scores the same queries against the same targets)
    for d in datasets:
        curve = r[f"prosgan_curve.{d}"]
        assert len(curve) >= 1 and curve[-1] == pytest.approx(r[f"tmap.{d}.ProS-GAN"], abs=1e-9)
        assert r[f"prosgan_train_seconds.{d}"] > 0


@pytest.mark.notebook
@pytest.mark.slow
def test_adversarial_training_chapter_records(executed):
    executed("02_deep_hashing")
    _, r = executed("05_adversarial_training")
    datasets = _datasets(r, "map_benign.")
    assert datasets
    attacks = ("HAG", "SDHA", "SAAT", "check")
    for d in datasets:
        assert r[f"train_seconds.{d}.none"] == 0.0
        defenses = [k.split(".")[2] for k in r if k.startswith(f"train_seconds.{d}.") and not k.endswith(".none")]
        assert set(defenses) == {"ATRDH", "CgAT", "SAAT"}
        for m in defenses:
            assert r[f"train_seconds.{d}.{m}"] > 0.0
        und = r[f"map_benign.{d}.none"]
        assert r[f"map.{d}.none.SAAT"] < und, "the SAAT attack does not hurt the undefended model"
        ratio = r[f"map.{d}.SAAT.SAAT"] / r[f"map.{d}.none.SAAT"]
        assert r[f"saat_over_undefended.{d}"] == pytest.approx(ratio)
        # mean per-query differences are differences of MAPs on the same queries; labels by the rule
        doubles = r[f"verdict.table2.SAAT>=2x.{d}"]
        assert doubles["diff"] == pytest.approx(r[f"map.{d}.SAAT.SAAT"] - 2 * r[f"map.{d}.none.SAAT"], abs=1e-9)
        _check_label(doubles)
        for rival in ("ATRDH", "CgAT"):
            for a in attacks:  # the check column too: its per-query worst case averages to its MAP
                v = r[f"verdict.table2.SAAT>{rival}.{a}.{d}"]
                assert v["diff"] == pytest.approx(r[f"map.{d}.SAAT.{a}"] - r[f"map.{d}.{rival}.{a}"], abs=1e-9)
                _check_label(v)
        for m in ("none", *defenses):  # the stronger check: the table's lowest minus the check, never negative
            lowest = min(r[f"map.{d}.{m}.{a}"] for a in attacks[:3])
            v = r[f"verdict.masking.stronger.{m}.{d}"]
            assert v["diff"] == pytest.approx(lowest - r[f"map.{d}.{m}.check"], abs=1e-9) and v["diff"] >= -1e-12
            assert (f"verdict.masking.transfer.{m}.{d}" in r) == (m != "none")
            _check_label(r[f"verdict.masking.large.{m}.{d}"])
    first = datasets[0] if len(datasets) == 1 else None
    eps = r["eps_curve_eps"]
    for m in ("none", "ATRDH", "CgAT", "SAAT"):
        curve = r[f"eps_curve.{m}"]
        assert len(curve) == len(eps) and r[f"eps_linf_ok.{m}"] is True
        assert curve[-1] <= curve[0] + 1e-9, f"{m}: MAP under attack grows with the budget"
    if first is not None and 8 in eps:
        assert r["eps_curve.SAAT"][eps.index(8)] == pytest.approx(r[f"map.{first}.SAAT.SAAT"], abs=1e-12)
    grid = {k: v for k, v in r.items() if k.startswith("grid.")}
    assert len(grid) >= 2 and all(0.0 <= v["map_benign"] <= 1.0 and 0.0 <= v["map_attack"] <= 1.0
                                  for v in grid.values())
    assert r["paper_rows"] == 6


@pytest.mark.notebook
@pytest.mark.slow
def test_reproduction_chapter_records(executed):
    _, r = executed("06_reproduction")
    bits = r["bits"]
    datasets = _datasets(r, "table1.")
    assert datasets, "no Table I column recorded"
    _, r4 = executed("04_attacks")
    for d in datasets:
        col = {row: r[f"table1.{d}.{row.replace(' ', '-')}"] for row in TABLE1_ROWS}
        assert all(0.0 <= v <= 1.0 for v in col.values()), f"{d}: a MAP outside [0, 1]: {col}"
        assert col["SAAT"] < col["Original"], f"{d}: the SAAT attack does not lower MAP"
        assert 0 < r[f"num_queries.{d}"] <= SMOKE["attack"]["num_queries"]
        if f"map_benign.{d}" in r4:  # chapter 4's Table I column: the same runs under the same row names
            assert r4[f"num_queries.{d}"] == r[f"num_queries.{d}"]
            assert col["Original"] == r4[f"map_benign.{d}"] and col["Original t-MAP"] == r4[f"tmap_benign.{d}"]
            assert [col[a] for a in ("HAG", "SDHA", "SAAT")] == [r4[f"map.{d}.{a}"] for a in ("HAG", "SDHA", "SAAT")]
            assert [col[a] for a in ("P2P", "DHTA", "THA", "SAAT-targeted")] == \
                [r4[f"tmap.{d}.{a}"] for a in ("P2P", "DHTA", "THA", "SAAT")]
            assert col["ProS-GAN"] == r4[f"tmap.{d}.ProS-GAN"]
        assert r[f"retained.{d}.SAAT"] == pytest.approx(col["SAAT"] / col["Original"])
        if f"table2_num_queries.{d}" not in r:  # Table II runs on the chapter's defense_datasets only
            continue
        # Table II: every defense under every attack, and the verdicts recomputed
        t2 = {m: {a: r[f"table2.{d}.{m}.{a}"] for a in (*TABLE2_COLUMNS, "check")}
              for m in ("none", "ATRDH", "CgAT", "SAAT")}
        assert all(0.0 <= v <= 1.0 for row in t2.values() for v in row.values())
        beats = r[f"verdict.table2.SAAT>ATRDH.SAAT.{d}"]
        assert beats["diff"] == pytest.approx(t2["SAAT"]["SAAT"] - t2["ATRDH"]["SAAT"], abs=1e-9)
        assert r[f"table2_num_queries.{d}"] == r[f"num_queries.{d}"]  # one query set: Table I's and Table II's
        for a in TABLE2_COLUMNS:  # so the undefended row is Table I's
            assert t2["none"][a] == pytest.approx(col[a], abs=1e-12)
    # the paper's values as its CSV files hold them (read here with the csv module), its verdicts recomputed
    read = {k: v for k, v in r.items() if k.startswith(("paper.table1.", "paper.table2."))}
    at_bits = {**{("table1", ds, m): v for (m, ds, b), v in PAPER_T1.items() if b == bits},
               **{("table2", ds, m, a): v for (m, a, ds, b), v in PAPER_T2.items() if b == bits}}
    assert r["paper_rows"] == len(read) == len(at_bits) > 0
    assert {tuple(name.split(".")[1:]): value for name, value in read.items()} == at_bits
    assert any(f"table2_num_queries.{d}" in r for d in datasets), "no Table II recorded"
    verdicts = {k: v for k, v in r.items() if k.startswith("verdict.")}
    assert r["comparisons_in_chapter"] == len(verdicts) > 0
    assert r["paper_exceptions.saat_lowest_map"] == 0 and r["paper_exceptions.saat_beats_atrdh"] == 1


def _check_label(v: dict) -> None:
    """A recorded verdict's label is the rule's, worked out here: beyond 2 SE either way, else tie when
    (2 + 0.8416) SE reaches the target, else underpowered."""
    if v["diff"] > 2 * v["se"]:
        want = "supported"
    elif v["diff"] < -2 * v["se"]:
        want = "contradicted"
    else:
        want = "tie" if (2 + 0.8416) * v["se"] <= v["target"] else "underpowered"
    assert v["label"] == want, v


@pytest.mark.notebook
@pytest.mark.slow
def test_every_place_that_states_a_verdict_states_the_same(executed, smoke_chapters, tmp_path):
    """Chapters 4, 5 and 6 and reproduce's output give the same label, difference and standard error to
    the same comparison on the same data."""
    _, r4 = executed("04_attacks")
    _, r5 = executed("05_adversarial_training")
    _, r6 = executed("06_reproduction")
    v4, v5, v6 = ({k: v for k, v in r.items() if k.startswith("verdict.table")} for r in (r4, r5, r6))
    shared4, shared5 = set(v4) & set(v6), set(v5) & set(v6)
    assert shared4 == set(v4) and shared5 == set(v5), "chapter 6 states every Table I and Table II comparison"
    assert len(shared4) >= 5 and len(shared5) >= 5
    for k in shared4 | shared5:
        other = v4.get(k) or v5[k]
        assert {f: other[f] for f in ("label", "diff", "se", "n")} == {f: v6[k][f] for f in ("label", "diff", "se", "n")}
    # reproduce on the first dataset, in the same run store: the same labels for Table I's comparisons
    from saatlib.report.reproduce import reproduce
    d = next(iter(k.rsplit(".", 1)[1] for k in v4))
    out = reproduce(d, bits=(r6["bits"],), profile="smoke", out_dir=tmp_path, progress=False,
                    store=RunStore(smoke_chapters.runs))
    assert out["verdicts"], "reproduce judged nothing"
    for c in out["verdicts"]:
        mine = v6[f"verdict.{c.key}.{d}"]
        assert (c.label, c.verdict.n) == (mine["label"], mine["n"])
        assert c.verdict.diff == pytest.approx(mine["diff"], abs=1e-12)
    assert (tmp_path / f"verdicts_{d}_smoke.md").read_text().count("|") > 10


# --- chapter 1's tie orders, checked by enumeration --------------------------------------------

#: 6 database items of 3 bits and 2 classes; two queries. Query 0 (+,+,+), class 0: distances 0, 1, 1, 1, 0, 3,
#: its top 3 holds the tie group {0, 4} (item 4 relevant) and one of the group {1, 2, 3} (item 2 relevant).
#: Query 1 (-,+,-), class 1: distances 2, 1, 3, 1, 2, 1, its top 3 is the group {1, 3, 5} (1 and 3 relevant).
TIE_DB = [[1, 1, 1], [1, 1, -1], [1, -1, 1], [-1, 1, 1], [1, 1, 1], [-1, -1, -1]]
TIE_DB_Y = [[0, 1], [0, 1], [1, 0], [0, 1], [1, 0], [1, 0]]
TIE_Q, TIE_Q_Y = [[1, 1, 1], [-1, 1, -1]], [[1, 0], [0, 1]]


def _map_by_rank(rank_of: list[int], k: int) -> float:
    """MAP@k of the tie example with ties broken by ``rank_of[item]`` (lower first), by the definition:
    per query, the mean of P@j over the relevant positions j <= k (0 without any)."""
    aps = []
    for code, y in zip(TIE_Q, TIE_Q_Y):
        dist = [sum(a != b for a, b in zip(code, item)) for item in TIE_DB]
        order = sorted(range(len(TIE_DB)), key=lambda i: (dist[i], rank_of[i]))
        hits, total = 0, 0.0
        for j, i in enumerate(order[:k], 1):
            if any(a and b for a, b in zip(y, TIE_DB_Y[i])):
                hits += 1
                total += hits / j
        aps.append(total / hits if hits else 0.0)
    return sum(aps) / len(aps)


def test_tie_order_maps_by_enumeration(tmp_path):
    """tie_order_maps, the numbers of chapter 1's last section, against a Python loop over every order.

    By hand, at k = 3. In index order query 0 ranks 0, 4, 1 (relevant at 2: AP 1/2) and query 1 ranks 1, 3, 5
    (AP 1): MAP 3/4. Over random tie orders, query 0: item 4 first (1/2) gives AP 5/6 with item 2 third (1/3)
    else 1; item 0 first gives 7/12 or 1/2: E = (17/18 + 19/36) / 2 = 53/72. Query 1: the irrelevant item
    first, second or third gives 7/12, 5/6, 1: E = 29/36. Expected MAP (53/72 + 58/72) / 2 = 111/144.
    """
    codes = {"db_codes": torch.tensor(TIE_DB, dtype=torch.float32), "db_labels": torch.tensor(TIE_DB_Y).float(),
             "query_codes": torch.tensor(TIE_Q, dtype=torch.float32), "query_labels": torch.tensor(TIE_Q_Y).float()}
    run = HashRun(config={"dataset": "tie-example"}, splits=None, model=None, codes=codes, history=[],
                       cached=True)
    ties = tie_order_maps(run, topk=3, num_orders=12, seed=3, store=RunStore(tmp_path))
    n = len(TIE_DB)
    every = [_map_by_rank([list(p).index(i) for i in range(n)], 3) for p in itertools.permutations(range(n))]
    assert ties["index_order"] == pytest.approx(3 / 4) == _map_by_rank(list(range(n)), 3)
    assert ties["expected"] == pytest.approx(111 / 144)
    assert ties["expected"] == pytest.approx(sum(every) / len(every))  # the mean over all 720 database orders
    # each random order: the database permuted by the seeded generator, ties broken by the permuted position
    g = torch.Generator().manual_seed(3)
    perms = [torch.randperm(n, generator=g).tolist() for _ in range(12)]
    assert ties["permuted"] == pytest.approx([_map_by_rank([p.index(i) for i in range(n)], 3) for p in perms])
    assert (ties["min"], ties["max"]) == (min(ties["permuted"]), max(ties["permuted"]))
    assert min(every) == pytest.approx(13 / 24) and max(every) == pytest.approx(1.0)  # (1/2 + 7/12) / 2 and 1


# --- chapters 4 to 6: sentences and helpers live in saatlib.report -----------------------------

#: chapter -> functions a cell may define: the short from-scratch versions checked against saatlib
TEACHING = {"04_attacks": {"saat_loss", "saat_pgd", "hag_loss", "hag", "p2p", "prosgan_generator_loss",
                           "prosgan_attack"},
            "05_adversarial_training": {"pgd", "clean_and_robust_map", "centre"}, "06_reproduction": set()}


def _cells(stem: str):
    nb = nbformat.read(ROOT / "book" / f"{stem}.ipynb", as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            yield ast.parse(c.source)


def _own_text(node: ast.AST) -> str:
    """The literal text of a string expression built in a cell (f-string parts, concatenations)."""
    return "".join(n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))


@pytest.mark.parametrize("stem", sorted(TEACHING))
def test_report_chapters_hold_no_helpers_and_no_verdict_text(stem):
    """Chapters 4-6 take their tables and sentences from saatlib.report: a cell defines no function but a
    from-scratch teaching version, and every Markdown it displays comes from a library call or a name
    bound to one, never a sentence written in the cell (a short caption of a table is no sentence)."""
    defined, built = set(), []
    for tree in _cells(stem):
        defined |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Markdown":
                arg = node.args[0]
                from_library = isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute)
                if not (isinstance(arg, ast.Name) or from_library or len(_own_text(arg)) <= 40):
                    built.append(ast.unparse(arg)[:80])
    assert defined <= TEACHING[stem], f"{stem}: helper functions defined in cells: {defined - TEACHING[stem]}"
    assert not built, f"{stem}: Markdown built in the notebook: {built}"


# --- run_chapter and the records -------------------------------------------------------------

@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_declares_its_parameters(stem):
    declared = chapter_parameters(ROOT / "book" / f"{stem}.ipynb")
    assert "profile" in declared
    # make lab and a reader's "Run All" follow $SAAT_PROFILE; papermill's -p still wins (injected after)
    assert declared["profile"].replace("'", '"') == 'os.environ.get("SAAT_PROFILE", "default")', declared["profile"]


def test_misspelled_parameter_is_refused(tmp_path):
    chapter = ROOT / "book" / f"{CHAPTERS[0]}.ipynb" if CHAPTERS else None
    if chapter is None:
        pytest.skip("no chapter in _toc.yml")
    with pytest.raises(ValueError, match="did you mean 'profile'"):
        run_chapter(chapter, tmp_path / "out.ipynb", profle="smoke")
    assert not (tmp_path / "out.ipynb").exists(), "the chapter ran despite the bad parameter"


def _glue_output(name: str, text: str) -> dict:
    return nbformat.v4.new_output("display_data", data={RECORD_PREFIX + "text/plain": text},
                                  metadata={"scrapbook": {"name": name, "mime_prefix": RECORD_PREFIX}})


def test_read_records_round_trip(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("record(...)")
    values = {"map": 0.75, "ok": True, "n": 3, "name": "CSQ", "list": [0.1, 0.2], "nested": {"a": 1}}
    cell.outputs = [_glue_output(k, repr(_plain(v))) for k, v in values.items()]
    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text="hello\n"))
    nb.cells = [nbformat.v4.new_markdown_cell("text"), cell]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    assert read_records(tmp_path / "nb.ipynb") == values


def test_read_records_refuses_duplicates(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [_glue_output("map", "0.5"), _glue_output("map", "0.6")]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    with pytest.raises(ValueError, match="recorded twice"):
        read_records(tmp_path / "nb.ipynb")
    assert read_records(tmp_path / "nb.ipynb", allow_duplicates=True) == {"map": 0.6}


def test_plain_converts_tensors_and_refuses_others():
    import torch

    assert _plain(torch.tensor(0.5)) == 0.5
    assert _plain({"a": torch.tensor([1, 2])}) == {"a": [1, 2]}
    with pytest.raises(ValueError):
        _plain(float("nan"))
    with pytest.raises(TypeError):
        _plain(object())


# --- "build it before using it": every from-scratch cell ran and matched saatlib -----------------

#: chapter -> [(record of a cell's largest difference from saatlib, tolerance), ...]. The cells themselves
#: assert the equality (torch.testing.assert_close), so a mismatch fails the chapter's execution;
#: the records show that the cells are still there and ran.
SCRATCH = {
    "01_retrieval": [("scratch_ap_max_diff", 1e-12)],          # AP@k and MAP, float64
    "02_deep_hashing": [("scratch_loss_max_diff", 1e-4),       # DPH, DPSH, HashNet, CSQ, float32
                        ("scratch_net_max_diff", 1e-5),        # the network, both modes
                        ("scratch_train_max_diff", 1e-5)],     # the training loop vs train_hashing
    "03_mainstay_codes": [("scratch_mainstay_max_diff", 1e-5)],  # DMFL coefficients (cosine weighting)
    "04_attacks": [("scratch_attack_max_diff", 1e-5),          # SAAT's masked loss and PGD loop
                   ("scratch_hag_max_diff", 1e-5),             # HAG's loss and SGD loop
                   ("scratch_p2p_max_diff", 1e-5),             # P2P's PGD towards the anchor
                   ("scratch_prosgan_max_diff", 1e-6),         # ProS-GAN's one-pass attack
                   ("scratch_prosgan_loss_diff", 1e-5)],       # and its generator loss
    "05_adversarial_training": [("scratch_loop_max_diff", 1e-5),     # SAAT's epoch loop vs adversarial_training
                                ("scratch_atrdh_loss_diff", 1e-5)],  # one ATRDH step vs its train_step
}


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(SCRATCH))
def test_from_scratch_cell_matches_saatlib(executed, stem):
    if stem != "01_retrieval":
        executed("02_deep_hashing")  # the models the later chapters reuse, as in `make book`
    path, records = executed(stem)
    for name, tol in SCRATCH[stem]:
        assert name in records, f"{stem}: the from-scratch cell did not record {name!r} (removed, or not run)"
        assert 0.0 <= records[name] <= tol, f"{stem}: from scratch and saatlib differ by {records[name]} ({name})"
    nb = nbformat.read(path, as_version=4)
    asserting = [c for c in nb.cells if c.cell_type == "code" and "remove-cell" not in c.metadata.get("tags", [])
                 and ("assert_close" in c.source or "assert torch.equal" in c.source)]
    assert asserting, f"{stem}: no visible cell checks its from-scratch code against saatlib"
    if stem == "03_mainstay_codes":
        assert records["scratch_mainstay_decided_bits"] > 0
