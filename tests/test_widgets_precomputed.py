"""saatlib.widgets.precomputed: controls linked in the browser to nested stacks of precomputed outputs."""
import pytest

w = pytest.importorskip("ipywidgets")

from saatlib.widgets.precomputed import PrecomputedExplorer  # noqa: E402


def _explorer(key=None):
    a = w.Dropdown(options=[("one", 1), ("two", 2)], value=2, description="a")
    b = w.SelectionSlider(options=[("x", "x"), ("y", "y"), ("z", "z")], value="x", description="b")
    calls = []

    def render(va, vb):
        calls.append((va, vb))
        return w.HTML(f"{va}{vb}")

    return PrecomputedExplorer([a, b], render, key), a, b, calls


def test_every_combination_is_rendered_once_and_linked_in_the_browser():
    ex, a, b, calls = _explorer()
    assert sorted(calls) == [(va, vb) for va in (1, 2) for vb in "xyz"]
    assert ex.shown().value == "2x"
    root = ex.view.children[0]
    assert isinstance(root, w.Stack) and root.selected_index == 1
    # the browser, not the kernel, switches: each stack's selected_index follows a control's index by jslink
    links = [link for link in ex._links if link._model_name == "LinkModel"]
    assert len(links) == 1 + 2
    assert {(link.source[0], link.source[1], link.target[1]) for link in links} == \
        {(a, "index", "selected_index"), (b, "index", "selected_index")}
    assert all(link.target[0] in [st for st, _ in ex._stacks[0]] for link in links if link.source[0] is a)
    b.value = "z"
    a.value = 1
    assert ex.shown().value == "1z" and ex.values() == (1, "z")


def test_equal_keys_share_one_output():
    ex, a, b, calls = _explorer(key=lambda va, vb: vb)
    assert len(calls) == 3 and len(ex.leaves) == 3
    a.value = 1
    assert ex.shown() is ex.leaves["x"]


def test_add_option_grows_the_grid_and_relinks():
    ex, a, b, calls = _explorer()
    root = ex.view.children[0]
    ex.add_option(1, "w", "w")
    assert b.value == "w" and ex.shown().value == "2w"
    assert [v for _, v in b.options] == ["w", "x", "y", "z"]
    assert ex.view.children[0] is root, "the stacks on view are grown in place, not replaced"
    assert [c.value for c in root.children[1].children] == ["2w", "2x", "2y", "2z"]
    assert len(ex._links) == 1 + 2
    assert sum(1 for c in calls if c[1] == "w") == 2  # only the new combinations are rendered
    ex.add_option(0, "three", 3, select=False)
    assert a.value == 2 and b.value == "w" and ex.shown().value == "2w"
    assert len(ex._links) == 1 + 3, "one new stack (and link) for the new value of a"
    a.value = 3
    assert ex.shown().value == "3w"


def test_refuses_controls_without_options():
    with pytest.raises(ValueError):
        PrecomputedExplorer([], lambda: None)
    with pytest.raises(ValueError):
        PrecomputedExplorer([w.IntSlider()], lambda v: None)
