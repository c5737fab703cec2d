"""Chapter 5's library parts: robustness against eps and the lambda/mu grid and explorer,
on a tiny smoke-profile victim."""
import ast
from pathlib import Path

import ipywidgets as w
import pytest

from saatlib.chapters.runner import chapter_parameters
from saatlib.experiments.hash_models import get_hash_model, hashing_config, load_data
from saatlib.store import RunStore
from saatlib.experiments import evaluate_defense
from saatlib.experiments.robustness import robustness_curve
from saatlib.widgets import defenses as dw

TINY = dict(num_query=20, num_database=200, num_train=96)
ROOT = Path(__file__).resolve().parent.parent


def chapter_parameter(stem: str, name: str):
    """The default of parameter ``name`` in chapter ``stem``'s parameters cell (a literal)."""
    return ast.literal_eval(chapter_parameters(ROOT / "book" / f"{stem}.ipynb")[name])


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def victim(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("runs"))
    cfg = hashing_config("fashion-mnist", "DPH", 16, "smoke", **TINY)
    get_hash_model(cfg, load_data(cfg), store, progress=False)
    return store, cfg


def test_robustness_curve_shares_the_evaluation_and_respects_the_budget(victim):
    store, cfg = victim
    row = evaluate_defense(cfg, "CgAT", "smoke", store, progress=False, num_queries=8, attacks=["SAAT"], check=False)
    curve = robustness_curve(cfg, "CgAT", (2, 8), "SAAT", "smoke", store, progress=False, num_queries=8)
    assert curve["eps_255"] == [2.0, 8.0] and curve["num_queries"] == 8
    assert curve["map_benign"] == pytest.approx(row["map_benign"], abs=1e-12)
    assert curve["map"][1] == pytest.approx(row["map_under_attack"]["SAAT"], abs=1e-12)  # same cached run
    for e, linf, m in zip(curve["eps_255"], curve["linf"], curve["map"]):
        assert linf <= e / 255 + 1e-6 and 0.0 <= m <= 1.0
    with pytest.raises(ValueError, match="eps must be positive"):
        robustness_curve(cfg, "CgAT", (0,), "SAAT", "smoke", store, progress=False, num_queries=8)


def test_lambda_mu_grid_trains_each_cell_with_its_weights(victim):
    store, cfg = victim
    grid = dw.lambda_mu_grid(cfg, (0.0, 1.0), (1e-4, 0.5), "smoke", store=store, num_queries=8)
    assert sorted(grid) == [(0.0, 1e-4), (0.0, 0.5), (1.0, 1e-4), (1.0, 0.5)]
    for (lam, mu), r in grid.items():
        assert 0.0 <= r["map_benign"] <= 1.0 and 0.0 <= r["map_attack"] <= 1.0
        for epoch in r["history"]:  # the outer loss is L_hash + lambda * adv + mu * quant (epoch means are linear)
            assert epoch["loss"] == pytest.approx(epoch["hash"] + lam * epoch["adv"] + mu * epoch["quant"],
                                                  rel=1e-5, abs=1e-6)
    assert grid[0.0, 1e-4]["history"] != grid[1.0, 1e-4]["history"]
    saat = evaluate_defense(cfg, "SAAT", "smoke", store, progress=False, num_queries=8, attacks=["SAAT"], check=False)
    assert grid[1.0, 1e-4]["map_attack"] == saat["map_under_attack"]["SAAT"]  # the defaults are the same run
    with pytest.raises(ValueError, match=">= 0"):
        dw.lambda_mu_grid(cfg, (-1.0,), (1e-4,), "smoke", store=store)


def test_lambda_mu_explorer_redraws_from_the_grid():
    hist = [{"loss": 1.0, "hash": 1.0, "adv": 0.0, "quant": 0.0}]
    grid = {(lam, mu): {"map_benign": 0.8 - lam / 10, "map_attack": 0.1 + lam / 10, "train_seconds": 1.0,
                        "history": hist}
            for lam in (0.0, 1.0, 3.0) for mu in (1e-4, 0.01)}
    box = dw.lambda_mu_explorer(grid, undefended={"map_benign": 0.9, "map_attack": 0.05})
    lam, mu = box.controls
    assert (lam.value, mu.value) == (1.0, 1e-4) and box.state["entry"] is grid[1.0, 1e-4]
    first = box.shown().children[-1].value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    lam.value = 3.0
    assert box.state["lambda"] == 3.0 and box.shown().children[-1].value != first
    assert "40.0</b> %" in box.shown().children[0].value  # MAP under attack of the chosen cell, in %


def test_lambda_mu_explorer_mu_slider_moves():
    """The mu slider used to have a single value: the chapter's grid has several, and moving mu switches the cell."""
    hist = [{"loss": 1.0, "hash": 1.0, "adv": 0.0, "quant": 0.0}]
    mus = chapter_parameter("05_adversarial_training", "mus")
    assert len(mus) >= 2, f"chapter 5's explorer has a single mu value: {mus}"
    grid = {(lam, mu): {"map_benign": 0.8 - mu, "map_attack": 0.1 + lam / 10, "train_seconds": 1.0,
                        "history": hist} for lam in (0.0, 1.0) for mu in mus}
    box = dw.lambda_mu_explorer(grid)
    lam, mu = box.controls
    assert mu in box.children[0].children, "the mu slider is shown"
    first = box.shown().children[-1].value
    mu.value = mus[1]
    assert box.state["mu"] == mus[1] and box.state["entry"] is grid[1.0, mus[1]]
    assert box.shown().children[-1].value != first
    # one value on an axis: no slider that cannot move, a line naming the value
    single = dw.lambda_mu_explorer({k: v for k, v in grid.items() if k[1] == mus[0]})
    row = single.children[0].children
    assert not any(isinstance(c, w.SelectionSlider) and c.description == "mu" for c in row)
    assert any(isinstance(c, w.HTML) and "mu =" in c.value for c in row)
    with pytest.raises(ValueError, match="not in the grid"):
        dw.lambda_mu_explorer(grid, initial=(2.0, 1e-4))
    with pytest.raises(ValueError, match="non-empty"):
        dw.lambda_mu_explorer({})


def test_lambda_mu_heat_maps_have_no_grid_lines_through_the_numbers():
    grid = {(lam, mu): {"map_benign": 0.8, "map_attack": 0.3 + lam / 10} for lam in (0.0, 1.0) for mu in (1e-4, 1.0)}
    fig = dw.lambda_mu_figure(grid)
    for ax in fig.axes:
        assert not any(line.get_visible() for line in ax.get_xgridlines() + ax.get_ygridlines())
        assert len(ax.texts) == 4  # one number per cell


def test_lambda_mu_explorer_shows_what_the_heat_maps_do_not():
    """The chosen cell's training curves (beside the lambda = 0 control) and its queries' AP under attack."""
    def hist(adv):
        return [{"loss": 1.0, "hash": 1.0, "adv": adv, "quant": 0.0,
                 "trace": [{"step": 9, "hash": 1.0, "adv": adv}, {"step": 19, "hash": 0.9, "adv": adv - 0.1}]}]
    grid = {(lam, 1e-4): {"map_benign": 0.8, "map_attack": 0.2 + lam / 10, "train_seconds": 1.0,
                          "history": hist(-0.5 * lam), "ap_attack": [0.1 * lam, 0.5, 0.9]} for lam in (0.0, 1.0)}
    fig = dw.lambda_mu_cell_figure(grid, (1.0, 1e-4), undefended={"ap_attack": [0.0, 0.1, 0.2]})
    curves, hist_ax = fig.axes[:2]
    labels = [line.get_label() for line in curves.lines]
    assert any("lambda 1" in s for s in labels) and any("control" in s for s in labels)
    assert len(hist_ax.patches) > 0 and "AP" in hist_ax.get_xlabel()
    box = dw.lambda_mu_explorer(grid, undefended={"map_benign": 0.9, "map_attack": 0.05, "ap_attack": [0.0, 0.1, 0.2]})
    heat = box.children[1]
    assert isinstance(heat, w.Image) and heat.value[:8] == b"\x89PNG\r\n\x1a\n"  # the heat maps, drawn once
    first = box.shown().children[-1].value
    box.controls[0].value = 0.0
    assert box.shown().children[-1].value != first
