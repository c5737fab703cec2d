"""saatlib.plots.attacks, saatlib.widgets.attacks and the attack runs behind them on small synthetic data.

The figures carry labelled axes and titles; the cached attack helpers
(:func:`saatlib.experiments.attacks.attack_with_examples`, the objective ablation)
store and reload their results (and agree with ``run_attack``'s cache); the
explorer draws a PNG and answers a slider from its precomputed grid.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from figure_checks import assert_labelled, data_axes  # noqa: E402
from saatlib.attack.registry import build_attack  # noqa: E402
from saatlib.data import InMemoryImageSet, RetrievalSplits  # noqa: E402
from saatlib.experiments import HashRun  # noqa: E402
from saatlib.experiments.ablation import ablation_loss, objective_ablation  # noqa: E402
from saatlib.experiments.attacks import ATTACK_KIND, EXAMPLES_KIND, attack_key, attack_with_examples  # noqa: E402
from saatlib.hashing import encode  # noqa: E402
from saatlib.metrics import hamming_distance, top_retrievals  # noqa: E402
from saatlib.models import build_model  # noqa: E402
from saatlib.plots import attacks as attack_plots  # noqa: E402
from saatlib.store import RunStore  # noqa: E402
from saatlib.widgets import attacks as aw  # noqa: E402

K, C, SIZE = 16, 4, 12
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Ankle boot"]


def _codes(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, (n, K), generator=g).float() * 2 - 1


def _labels(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.one_hot(torch.randint(0, C, (n,), generator=g), C).float()


def _images(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, SIZE, SIZE, generator=g)


def _adversarial(x: torch.Tensor, eps: float, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (x + eps * (2 * torch.rand(x.shape, generator=g) - 1)).clamp(0, 1)




# --- figures ------------------------------------------------------------------------------------

def test_amplified_maps_zero_to_mid_grey_and_clips():
    delta = torch.tensor([0.0, 0.01, -0.01, 1.0])
    out = attack_plots.amplified(delta, 25.0)
    assert out.tolist() == pytest.approx([0.5, 0.75, 0.25, 1.0])
    assert attack_plots.default_amplification([delta[:3]]) == pytest.approx(50.0)
    assert attack_plots.default_amplification([torch.zeros(3)]) == 1.0


def test_adversarial_gallery_rows_and_columns():
    x = _images(5)
    adv = {"HAG": _adversarial(x, 8 / 255, 1), "SAAT": _adversarial(x, 8 / 255, 2)}
    fig = attack_plots.adversarial_gallery(x, adv, captions=["a", "b", "c", "d", "e"], title="gallery")
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 5 * (1 + 2 * 2)
    assert "gallery" in fig.get_suptitle()
    row_labels = [t.get_text() for ax in fig.axes if not ax.images for t in ax.texts]
    assert row_labels[:3] == ["benign", "HAG", row_labels[2]] and row_labels[2].startswith("x_adv - x")
    assert [ax.get_title() for ax in shown[:1]] == ["a"]
    # without the benign row; a single tensor instead of a dict
    fig = attack_plots.adversarial_gallery(x, adv["SAAT"], benign_row=False, captions=list("abcde"))
    assert len([ax for ax in fig.axes if ax.images]) == 5 * 2
    fig.canvas.draw()
    # multi-hot labels: two-letter class codes above the images, their key in the title
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Ankle boot"]
    y = torch.tensor([[1.0, 0, 0, 1, 1], [0, 1, 0, 0, 0], [1, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 1, 1, 0]])
    fig = attack_plots.adversarial_gallery(x, adv, labels=y, class_names=names, title="gallery")
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown[::5]] == ["Ts Dr Bo", "Tr", "Ts Tr Pu", "Bo", "Pu Dr"]
    assert all(ax.title.get_fontsize() >= 8 for ax in shown[::5])  # benign row: every 5th axes
    assert "classes: Ts = T-shirt" in fig.get_suptitle()
    with pytest.raises(ValueError):
        attack_plots.adversarial_gallery(x, {"bad": x[:3]})
    with pytest.raises(ValueError):
        attack_plots.adversarial_gallery(x[:0], {})


def test_gallery_perturbation_row_shows_the_difference():
    x = torch.full((1, 1, SIZE, SIZE), 0.5)
    adv = x.clone()
    adv[..., 0, 0] += 4 / 255
    adv[..., 0, 1] -= 4 / 255
    fig = attack_plots.adversarial_gallery(x, {"A": adv}, amplify=0.5 / (4 / 255))
    pert = [ax for ax in fig.axes if ax.images][-1].images[0].get_array()
    assert float(pert[0, 0]) == pytest.approx(1.0) and float(pert[0, 1]) == pytest.approx(0.0, abs=1e-6)
    assert float(pert[5, 5]) == pytest.approx(0.5)


def test_retrieval_before_after_one_row_per_setting():
    q, ql = _images(1)[0], _labels(1)[0]
    db, db_labels = _images(30, 3), _labels(30, 3)
    rows = {}
    for i, name in enumerate(["benign", "SAAT", "SAAT-targeted"]):
        idx = torch.arange(i, i + 5)
        rows[name] = (q, db[idx], db_labels[idx], torch.arange(5))
    fig = attack_plots.retrieval_before_after(q, ql, rows, NAMES, title="before/after")
    assert len([ax for ax in fig.axes if ax.images]) == 3 * 6
    titles = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert titles == ["benign", "SAAT", "SAAT-targeted"]
    with pytest.raises(ValueError):
        attack_plots.retrieval_before_after(q, ql, {}, NAMES)


def test_curves_against_eps_and_steps():
    fig = attack_plots.map_vs_eps([1, 2, 4, 8, 16], {"SAAT": [0.8, 0.7, 0.5, 0.3, 0.2]},
                                  references={"benign": 0.9, "theory": 0.0}, title="eps")
    assert_labelled(fig)
    ax = data_axes(fig)[0]
    assert ax.get_xscale() == "log" and [t.get_text() for t in ax.get_xticklabels()][3] == "8/255"
    assert len(ax.lines) == 3  # the curve and two reference lines
    fig = attack_plots.map_vs_steps([10, 20, 50, 100], {"SAAT": [0.6, 0.5, 0.4, 0.3]}, references={"benign": 0.9})
    assert_labelled(fig)
    panels = {"fashion-mnist": {"SAAT": ([1, 2], [0.5, 0.4])}, "mosaics": {"SAAT": ([1, 2], [0.6, 0.5])}}
    fig = attack_plots.attack_curves(panels, "x", references={"fashion-mnist": {"b": 0.9}, "mosaics": {"b": 0.8}})
    assert_labelled(fig)
    assert {ax.get_title() for ax in data_axes(fig)} == {"fashion-mnist", "mosaics"}
    assert_labelled(attack_plots.attack_curves({"a": ([0, 1], [2, 3])}, "s", "loss", ylim=None, markers=False))


# --- cached attacks and the explorer ------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_run() -> HashRun:
    """A HashRun with a small random (untrained) hash model over random images."""
    def imageset(n, seed):
        return InMemoryImageSet(_images(n, seed), _labels(n, seed))

    train, query, database = imageset(40, 1), imageset(6, 2), imageset(50, 3)
    splits = RetrievalSplits("synthetic", train, query, database, num_classes=C, image_shape=(1, SIZE, SIZE),
                             class_names=NAMES)
    torch.manual_seed(0)
    model = build_model("smallcnn", K, 1, pretrained=False).eval()
    codes = {}
    for name, subset in (("train", train), ("db", database), ("query", query)):
        codes[f"{name}_codes"], codes[f"{name}_labels"] = encode(model, subset)
    config = {"dataset": "synthetic", "method": "DPH", "bits": K, "seed": 0,
              "data": {"num_query": 6, "num_database": 50, "num_train": 40, "seed": 0}, "version": "test"}
    return HashRun(config, splits, model, codes, [], True)


def test_attack_with_examples_stores_examples_and_matches_run_attack_key(tiny_run, tmp_path):
    store = RunStore(tmp_path)
    first = attack_with_examples(tiny_run, "SAAT", False, "smoke", steps=3, num_queries=4, topk=None, store=store)
    assert first["cached"] is False
    assert first["x_adv"].shape == (4, 1, SIZE, SIZE) and first["adv_codes"].shape == (4, K)
    assert float((first["x_adv"] - tiny_run.splits.query.images[:4]).abs().max()) <= 8 / 255 + 1e-6
    attack = build_attack("SAAT", False, "smoke", steps=3)
    assert store.has(ATTACK_KIND, attack_key(tiny_run.config, attack, 4, None, tiny_run.config["seed"])), \
        "the numbers must sit under run_attack's own key"
    again = attack_with_examples(tiny_run, "SAAT", False, "smoke", steps=3, num_queries=4, topk=None, store=store)
    assert again["cached"] is True
    assert torch.equal(again["x_adv"], first["x_adv"]) and again["map_adversarial"] == first["map_adversarial"]
    numbers = attack_with_examples(tiny_run, "SAAT", False, "smoke", steps=3, num_queries=4, topk=None, store=store,
                               examples=False)
    assert numbers["cached"] is True and "x_adv" not in numbers
    targeted = attack_with_examples(tiny_run, "SAAT", True, "smoke", steps=3, num_queries=4, topk=None, store=store)
    assert "tmap_benign" in targeted and targeted["targeted"] is True


def test_objective_ablation_variants(tiny_run, tmp_path):
    h = torch.tensor([[0.9, -0.9, -0.2]])
    b = torch.ones(1, 3)
    # the mask drops the bit at s = -0.9: mean of (s+2)s over the two others
    assert float(ablation_loss(h, b, "mask")) == pytest.approx(((2.9 * 0.9) + (1.8 * -0.2)) / 2)
    assert float(ablation_loss(h, b, "nomask")) == pytest.approx(((2.9 * 0.9) + (1.1 * -0.9) + (1.8 * -0.2)) / 3)
    assert float(ablation_loss(h, b, "linear")) == pytest.approx((0.9 - 0.9 - 0.2) / 3)
    with pytest.raises(ValueError):
        ablation_loss(h, b, "other")
    store = RunStore(tmp_path)
    out = objective_ablation(tiny_run, "smoke", num_queries=4, topk=None, steps=3, store=store)
    assert set(out) == {"mask", "nomask", "linear"}
    for r in out.values():
        assert 0.0 <= r["map"] <= 1.0 and 0.0 <= r["to_antipode"] <= 1.0 and 0 <= r["flipped"] <= K
    # the masked variant is the SAAT attack itself
    saat = attack_with_examples(tiny_run, "SAAT", False, "smoke", steps=3, num_queries=4, topk=None, store=store)
    assert out["mask"]["map"] == pytest.approx(saat["map_adversarial"])
    assert objective_ablation(tiny_run, "smoke", num_queries=4, topk=None, steps=3, store=store) == out


def test_explorer_grid_and_widget(tiny_run, tmp_path):
    store = RunStore(tmp_path)
    grid = aw.explorer_grid(tiny_run, [2, 8], [2, 4], num_queries=3, profile="smoke", store=store)
    assert set(grid) == {(2.0, 2), (2.0, 4), (8.0, 2), (8.0, 4)}
    for (e, _), entry in grid.items():
        assert entry["x_adv"].shape == (3, 1, SIZE, SIZE) and entry["linf"] <= e / 255 + 1e-6
    box = aw.attack_explorer(tiny_run, grid, k=5)
    eps, steps, query = box.controls
    assert (eps.value, steps.value) == (8.0, 4)  # largest eps <= 8, most iterations

    def lost(q):
        st = aw.explorer_state(tiny_run, grid, 8.0, 4, q, 5)
        return int(st["benign"]["relevant"].sum()) - int(st["adversarial"]["relevant"].sum())

    assert query.value == max(range(3), key=lost), "the first query shown is the one that loses most"
    assert aw.attack_explorer(tiny_run, grid, k=5, initial_query=1).controls[2].value == 1
    first = box.shown().children[-1].value
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and box.shown().children[1].value[:4] == b"\x89PNG"
    assert len(box.explorer.leaves) == len(grid) * 3, "every (eps, steps, query) is drawn in advance"
    eps.value = 2.0
    assert box.state["eps"] == 2.0 and "eps 2/255" in box.shown().children[0].value
    assert torch.equal(box.state["x_adv"], grid[2.0, 4]["x_adv"][box.state["query"]])
    other = 2 if query.value != 2 else 1
    query.value = other
    assert box.state["query"] == other and box.shown().children[-1].value != first
    st = box.state
    assert st["flipped"] == int((st["benign_code"] != st["adv_code"]).sum())
    assert len(st["benign"]["indices"]) == 5
    # a live kernel attacks a setting off the grid on demand, caches it in the run store
    box = aw.attack_explorer(tiny_run, grid, k=5, profile="smoke", store=store)
    before = len(store.entries(EXAMPLES_KIND))
    box.compute(5.0, 3)
    eps, steps, _ = box.controls
    assert (eps.value, steps.value) == (5.0, 3) and box.state["eps"] == 5.0 and box.state["steps"] == 3
    assert {(5.0, 2), (5.0, 3), (5.0, 4), (2.0, 3), (8.0, 3)} <= set(grid), "the grid stays rectangular"
    assert len(store.entries(EXAMPLES_KIND)) == before + 5
    assert [v for _, v in eps.options] == [2.0, 5.0, 8.0]
    assert grid[5.0, 3]["linf"] <= 5 / 255 + 1e-6
    with pytest.raises(ValueError):
        aw.attack_explorer(tiny_run, {})
    with pytest.raises(ValueError):
        aw.attack_explorer(tiny_run, grid, initial=(16, 4))
    with pytest.raises(ValueError):
        aw.attack_explorer(tiny_run, grid, queries=[5])
    with pytest.raises(ValueError):
        aw.attack_explorer(tiny_run, grid, queries=[0, 1], initial_query=2)


def test_retrieval_rows_rank_the_database(tiny_run):
    c = tiny_run.codes
    x = tiny_run.splits.query.images[0]
    rows = aw.retrieval_rows(tiny_run, {"benign": (x, c["query_codes"][0]), "flipped": (x, -c["query_codes"][0])}, k=4)
    assert list(rows) == ["benign", "flipped"]
    idx, dist = top_retrievals(c["query_codes"][:1], c["db_codes"], 4)
    image, images, labels, distances = rows["benign"]
    assert torch.equal(image, x) and images.shape == (4, 1, SIZE, SIZE)
    assert torch.equal(labels, c["db_labels"][idx[0]]) and torch.equal(distances, dist[0])
    assert torch.equal(images, tiny_run.splits.database.images[idx[0]])
    # -b ranks the database from the far end of b's ranking
    assert int(rows["flipped"][3][0]) == K - int(hamming_distance(c["query_codes"][:1], c["db_codes"]).max())
    fig = attack_plots.retrieval_before_after(x, c["query_labels"][0], rows, NAMES)
    assert len([ax for ax in fig.axes if ax.images]) == 2 * 5
