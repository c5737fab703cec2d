"""saatlib.plots and saatlib.widgets.retrieval on small synthetic data.

Every plotting function returns a matplotlib Figure whose data panels carry
axis labels (and image panels captions or titles); the widget builders draw
a PNG and redraw quickly when a control changes.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from figure_checks import assert_labelled, data_axes  # noqa: E402
from saatlib import plots  # noqa: E402
from saatlib.data import InMemoryImageSet, RetrievalSplits  # noqa: E402
from saatlib.dmfl import mainstay_codes  # noqa: E402
from saatlib.experiments import HashRun  # noqa: E402
from saatlib.metrics import hamming_distance, relevant_to, top_retrievals  # noqa: E402
from saatlib.plots import attacks as attack_plots  # noqa: E402
from saatlib.plots.training import trace_points  # noqa: E402
from saatlib.widgets import retrieval as widgets  # noqa: E402

K, C = 16, 5
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Ankle boot"]


def _codes(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, (n, K), generator=g).float() * 2 - 1


def _labels(n: int, seed: int = 0, multi: bool = False) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    y = torch.nn.functional.one_hot(torch.randint(0, C, (n,), generator=g), C).float()
    if multi:
        y = ((y + (torch.rand(n, C, generator=g) < 0.3).float()) > 0).float()
    return y


def _images(n: int, size: int = 12, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, size, size, generator=g)




def test_pr_curves_one_and_several_panels():
    curves = {"A": ([0.9, 0.8, 0.5], [0.1, 0.5, 1.0]), "B": ([0.7, 0.6, 0.5], [0.2, 0.6, 1.0])}
    assert_labelled(plots.pr_curves(curves))
    fig = plots.pr_curves({"set 1": curves, "set 2": curves})
    assert_labelled(fig)
    assert len(data_axes(fig)) == 2
    assert {ax.get_title() for ax in data_axes(fig)} == {"set 1", "set 2"}


def test_map_bars_from_dict_and_dataframe():
    table = {"fashion-mnist": {"DPH": 0.5, "CSQ": 0.7}, "mosaics": {"DPH": 0.6, "CSQ": 0.65}}
    fig = plots.map_bars(table)
    assert_labelled(fig)
    assert len(fig.axes[0].patches) == 4
    assert_labelled(plots.map_bars(pd.DataFrame(table), title="t"))


def test_bit_balance_and_correlation():
    codes = {"DPH": _codes(50, 1), "CSQ": _codes(50, 2)}
    assert_labelled(plots.bit_balance(codes))
    assert_labelled(plots.bit_balance(_codes(40)))
    constant = _codes(30)
    constant[:, 0] = 1.0  # a stuck bit must not break the correlation matrix
    fig = plots.bit_correlation({"A": constant, "B": _codes(30, 3)})
    assert all(ax.get_xlabel() == "bit" for ax in fig.axes if ax.get_label() != "<colorbar>")
    fig.canvas.draw()


def test_hamming_histogram_and_its_checks():
    q, db = _codes(6, 1), _codes(40, 2)
    rel = _labels(6, 1) @ _labels(40, 2).T > 0
    assert_labelled(plots.hamming_histogram(hamming_distance(q, db), rel, K))
    with pytest.raises(ValueError):
        plots.hamming_histogram(torch.zeros(3, dtype=torch.long), torch.zeros(4, dtype=torch.bool), K)


def test_code_matrix_and_tie_spread_and_loss_curves():
    fig = plots.code_matrix({"mainstay": _codes(C), "centre": _codes(C, 1)}, NAMES, title="codes")
    assert_labelled_images = [ax for ax in fig.axes if ax.images]
    assert len(assert_labelled_images) == 2 and all(ax.get_xlabel() == "bit" for ax in fig.axes)
    assert fig.axes[0].get_ylabel() == "class"
    assert_labelled(plots.tie_spread([0.50, 0.52, 0.51, 0.53, 0.49], 0.51, 0.50))
    history = [{"loss": 1.0 / (e + 1)} for e in range(4)]
    assert_labelled(plots.loss_curves({"DPH": history, "CSQ": history}))
    assert_labelled(plots.loss_curves({"set 1": {"DPH": history}, "set 2": {"CSQ": history}}))


def test_image_grid_captions_wrap():
    captions = [plots.label_text(y, NAMES) for y in _labels(7, multi=True)]
    fig = plots.image_grid(_images(7), captions, ncols=4, title="grid")
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 7 and fig.get_suptitle() == "grid"
    assert all(ax.get_title() for ax in shown), "every image needs its caption"
    long = plots.images.wrap_caption("Trouser+Sandal+Bag+Ankle boot", 12)
    assert long.count("\n") >= 2 and long.replace("\n", "") == "Trouser+Sandal+Bag+Ankle boot"
    with pytest.raises(ValueError):
        plots.image_grid([])


def test_image_grid_multi_label_captions_are_codes_with_a_key():
    y = _labels(12, multi=True)
    fig = plots.image_grid(_images(12), labels=y, class_names=NAMES, ncols=6, title="mosaics")
    shown = [ax for ax in fig.axes if ax.images]
    codes = plots.images.class_codes(NAMES)
    assert all(set(ax.get_title().split()) <= set(codes) for ax in shown)
    assert all(ax.title.get_fontsize() >= 8 for ax in shown), "captions readable at the page's width"
    assert all(ax.get_title().count("\n") == 0 for ax in shown), "a 6-column caption fits one line"
    head = fig.get_suptitle()
    assert head.startswith("mosaics\nclasses: ") and all(f"{c} = " in head for c in codes)
    captions, key = plots.images.label_captions(y[:1] * 0 + torch.eye(C)[:1], NAMES)
    assert captions == ["T-shirt"] and key is None  # one label each: short names, no key


def test_class_codes_are_short_and_unique():
    assert plots.images.class_codes(["T-shirt/top", "Trouser", "Ankle boot"]) == ["Ts", "Tr", "Bo"]
    assert plots.images.class_codes(["Shirt", "Shoe"]) == ["0", "1"]  # "Sh" twice: numbers instead


def test_label_text():
    y = torch.tensor([1.0, 0, 0, 0, 1.0])
    assert plots.label_text(y, NAMES) == "T-shirt+Boot"
    assert plots.label_text(y, NAMES, short=False, sep=", ") == "T-shirt/top, Ankle boot"
    assert plots.label_text(torch.zeros(5), NAMES) == "-"


def test_retrieved_grid_marks_relevance():
    q_lab, db_lab = _labels(2, 1, multi=True), _labels(30, 2, multi=True)
    idx, dist = top_retrievals(_codes(2, 1), _codes(30, 2), k=5)
    fig = plots.retrieved_grid(_images(2, seed=1), q_lab, _images(30, seed=2)[idx], db_lab[idx], dist, NAMES,
                               row_titles=["a", "b"], title="examples")
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 2 * 6
    relevant = relevant_to(q_lab, db_lab[idx])
    colours = [ax.spines["top"].get_edgecolor() for ax in images if ax.get_xlabel()]
    green = matplotlib.colors.to_rgba(plots._common.RELEVANT)
    assert sum(c == green for c in colours) == int(relevant.sum())
    retrieved = [ax for ax in images if ax.get_xlabel()]
    # the distance above each retrieved item, its labels (two-letter class codes: multi-label) below
    assert all(ax.get_title().split("\n")[-1].startswith("d=") for ax in retrieved)
    codes = plots.images.class_codes(NAMES)
    assert all(set(ax.get_xlabel().split()) <= set(codes) | {"-"} for ax in retrieved)
    assert "classes: " + codes[0] + " = " in fig._suptitle.get_text()
    with pytest.raises(ValueError):
        plots.retrieved_grid(_images(2), q_lab, _images(5), db_lab[:5])


def test_top_retrievals_is_stable():
    q = torch.ones(1, K)
    db = torch.ones(6, K)
    db[2, 0] = -1
    idx, dist = top_retrievals(q, db, k=6)
    assert idx.tolist() == [[0, 1, 3, 4, 5, 2]] and dist.tolist() == [[0, 0, 0, 0, 0, 1]]


# --- widgets ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fake_run() -> HashRun:
    """A HashRun over random images, labels and codes: no training needed."""
    def imageset(n, seed):
        return InMemoryImageSet(_images(n, seed=seed), _labels(n, seed, multi=True))

    train, query, database = imageset(40, 1), imageset(8, 2), imageset(60, 3)
    splits = RetrievalSplits("synthetic", train, query, database, num_classes=C, image_shape=(1, 12, 12),
                             class_names=NAMES)
    codes = {"train_codes": _codes(40, 1), "train_labels": train.labels, "query_codes": _codes(8, 2),
             "query_labels": query.labels, "db_codes": _codes(60, 3), "db_labels": database.labels}
    config = {"dataset": "synthetic", "method": "CSQ", "bits": K}
    return HashRun(config, splits, None, codes, [], True)


def test_relevant_to_is_shares_label_row_by_row(fake_run):
    c = fake_run.codes
    idx, _ = top_retrievals(c["query_codes"], c["db_codes"], 7)
    rel = relevant_to(c["query_labels"], c["db_labels"][idx])
    expected = (c["query_labels"][:, None, :] * c["db_labels"][idx]).sum(-1) > 0
    assert rel.shape == (8, 7) and torch.equal(rel, expected)
    assert relevant_to(c["query_labels"][:0], c["db_labels"][idx][:0]).shape == (0, 7)


def test_show_retrievals_one_run_and_several(fake_run):
    def row_titles(fig):
        return [t.get_text() for ax in fig.axes for t in ax.texts]

    fig = plots.show_retrievals(fake_run, queries=[0, 3], k=4, title="t")
    assert row_titles(fig) == ["query 0", "query 3"]
    assert sum(1 for ax in fig.axes if ax.images) == 2 * (1 + 4)
    fig = plots.show_retrievals({"CSQ": fake_run, "DPH": fake_run}, queries=[2], k=4)
    assert row_titles(fig) == ["CSQ", "DPH"]


def _picture(leaf) -> bytes:
    """PNG bytes of the last picture of an explorer output (figure_leaf)."""
    return leaf.children[-1].value


def test_query_browser_draws_and_updates(fake_run):
    box = widgets.query_browser({"CSQ": fake_run, "DPH": fake_run}, k=5)
    method, query = box.controls
    first = _picture(box.shown())
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(box.explorer.leaves) == 2 * 8, "every (method, query) is drawn in advance"
    query.value = 3
    assert _picture(box.shown()) != first and "query 3" in box.shown().children[0].value
    assert box.state["query"] == 3
    method.value = "DPH"
    assert "DPH" in box.shown().children[0].value and box.state["method"] == "DPH"


def test_query_browser_adds_a_query_in_a_live_kernel(fake_run):
    box = widgets.query_browser(fake_run, k=5, queries=[0, 1])
    _, query = box.controls
    box.explorer.add_option(1, "6", 6)
    assert query.value == 6 and box.state["query"] == 6 and "query 6" in box.shown().children[0].value
    assert [v for _, v in query.options] == [0, 1, 6]


def test_label_picker_computes_mainstay_codes(fake_run):
    box = widgets.label_picker(fake_run, k=5, initial_labels=(1,))
    weighting, first, second = box.controls
    c = fake_run.codes
    expected = mainstay_codes(torch.eye(C)[1:2], c["train_codes"], c["train_labels"])[0]
    assert torch.equal(box.state["code"], expected)
    assert _picture(box.shown())[:4] == b"\x89PNG"
    second.value = 3
    y = torch.zeros(1, C)
    y[0, [1, 3]] = 1
    assert box.state["labels"] == (1, 3)
    assert torch.equal(box.state["code"], mainstay_codes(y, c["train_codes"], c["train_labels"])[0])
    weighting.value = "cosine"
    assert torch.equal(box.state["code"],
                       mainstay_codes(y, c["train_codes"], c["train_labels"], weighting="cosine")[0])
    # (3, 1) is the same label set as (1, 3): one drawing serves both
    first.value, second.value = 3, 1
    assert box.shown() is box.explorer.leaf("cosine", 1, 3)


def test_label_picker_with_no_label_says_so_and_shows_no_figure(fake_run):
    """Unticking every label used to leave the previous figure on view."""
    box = widgets.label_picker(fake_run, k=5, initial_labels=(1, 2))
    _, first, second = box.controls
    assert any(isinstance(ch, w.Image) for ch in box.shown().children)
    first.value = second.value = -1
    shown = box.shown()
    assert "No label picked" in shown.children[0].value
    assert not any(isinstance(ch, w.Image) for ch in shown.children), "an old figure is still shown"
    assert box.state == {"labels": ()}
    second.value = 4
    assert box.state["labels"] == (4,) and any(isinstance(ch, w.Image) for ch in box.shown().children)
    with pytest.raises(ValueError):
        widgets.label_picker(fake_run, initial_labels=(0, 1, 2))


def test_defense_curves_use_the_trace_or_the_epochs():
    traced = [{"loss": 1.0, "hash": 0.5, "adv": -0.2, "trace": [{"step": 9, "hash": 0.6, "adv": -0.1},
                                                                  {"step": 14, "hash": 0.4, "adv": -0.3}]},
              {"loss": 0.9, "hash": 0.3, "adv": -0.5, "trace": [{"step": 24, "hash": 0.3, "adv": -0.5}]}]
    steps, values = trace_points(traced, "hash")
    assert steps.tolist() == [10, 15, 25] and values.tolist() == [0.6, 0.4, 0.3]
    plain = [{"hash": 0.5, "adv": -0.2}, {"hash": 0.25, "adv": -0.4}]
    steps, values = trace_points(plain, "adv")
    assert steps.tolist() == [1, 2] and values.tolist() == [-0.2, -0.4]
    assert trace_points(plain, "pnet")[0].size == 0
    fig = plots.defense_curves({"SAAT": traced, "CgAT": plain})
    assert_labelled(fig)
    hash_ax = data_axes(fig)[0]
    assert len(hash_ax.lines) == 2 and hash_ax.lines[0].get_xdata().tolist() == [10, 15, 25]


# --- readable at book width (issue 14) ------------------------------------------------------------

def test_defense_curves_draw_atrdh_on_axes_of_its_own():
    hist = [{"hash": 1.0, "adv": -0.5}, {"hash": 0.9, "adv": -0.8}]
    atrdh = [{"hash": 1.0, "adv": 1.9}, {"hash": 0.9, "adv": 1.7}]  # a squared error, not -h.c
    fig = plots.defense_curves({"ATRDH": atrdh, "CgAT": hist, "SAAT": hist})
    axes = data_axes(fig)
    assert len(axes) == 3
    by_title = {ax.get_title(): sorted(line.get_label() for line in ax.lines) for ax in axes}
    adv = [names for title, names in by_title.items() if "mean(h_adv" in title]
    assert adv == [["CgAT", "SAAT"]], by_title
    assert any(names == ["ATRDH"] and "ATRDH" in title for title, names in by_title.items() if title != "benign hash loss")
    assert all(ax.get_legend() is None for ax in axes) and fig.legends, "one figure legend, outside the panels"


def test_legends_sit_outside_the_data_and_bar_labels_stay_apart():
    history = [{"loss": 1.0}, {"loss": 0.5}]
    fig = plots.loss_curves({"a": {"DPH": history, "CSQ": history}, "b": {"DPH": history, "CSQ": history}})
    assert all(ax.get_legend() is None for ax in data_axes(fig)) and len(fig.legends) == 1
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["DPH", "CSQ"]
    shares = pd.DataFrame({f"col {i}": {"HAG": 0.5, "SDHA": 0.4, "SAAT": 0.1} for i in range(5)})
    shares.loc["HAG", "col 4"] = float("nan")  # a value the paper does not give: no bar label
    fig = plots.map_bars(shares)
    ax = data_axes(fig)[0]
    assert ax.get_legend() is None and fig.legends
    texts = [t for t in ax.texts if t.get_text()]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert texts and not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), \
        "bar value labels overlap"
    assert all(t.get_fontsize() >= 7 for t in texts)
    assert "nan" not in [t.get_text() for t in ax.texts]
    # values in %: labels in the given format, horizontal while they fit
    fig = plots.map_bars(shares.drop(columns="col 4") * 100, fmt="{:.0f}")
    labels = [t.get_text() for t in data_axes(fig)[0].texts if t.get_text()]
    assert "50" in labels and all(t.get_rotation() == 0 for t in data_axes(fig)[0].texts)


def test_attack_curves_keep_a_line_at_zero_off_the_axis():
    fig = attack_plots.map_vs_eps([1, 2, 4], {"SAAT": [0.5, 0.2, 0.0]}, references={"theory": 0.0})
    ax = data_axes(fig)[0]
    assert ax.get_ylim()[0] < 0.0, "a line at 0 would lie on the x axis"
