"""Helpers for the book's chapters: set-up, recorded numbers, cached runs.

A chapter's first code cell after its ``parameters`` cell calls
:func:`setup`; every number a test should check is stored with
:func:`record` and read back from the executed notebook with
:func:`read_records`. :func:`run_chapter` executes a chapter with papermill,
refusing parameter names that the chapter does not declare (papermill itself
only warns and injects them anyway).

The expensive steps a chapter needs (training, encoding, evaluation) go
through the run store (:class:`saatlib.store.RunStore`), so a second run of a
chapter, or a later chapter asking for the same configuration, loads instead
of recomputing: :func:`load_run` and :func:`retrieval_scores`.
"""
from __future__ import annotations

import ast
import difflib
import logging
import math
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from saatlib.profiles import get_profile
from saatlib.store import RunStore

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
RECORD_PREFIX = "application/papermill.record/"
SCORES_KIND = "retrieval_scores"
SCORES_VERSION = 2  # 2: exact DMFL ties
#: Width of the book's text column, in inches: figures are sized to it.
BOOK_WIDTH = 7.0


# --- set-up ---------------------------------------------------------------------

def setup(profile: str = "default", device: str = "cpu", seed: int = 0) -> dict:
    """First cell of a chapter: check the parameters, quiet the logs, seed the
    RNGs and size matplotlib figures for the book's column.

    Returns:
        the profile's settings (:func:`saatlib.profiles.get_profile`), e.g.
        ``prof["eval"]["topk"]``.
    Raises:
        ValueError: unknown profile or device.
    """
    prof = get_profile(profile)
    try:
        torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'") from err
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available here; use device='cpu'")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("saatlib").setLevel(logging.WARNING)
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover - numpy comes with torch
        pass
    _style_figures()
    return prof


def _style_figures() -> None:
    import matplotlib as mpl

    try:
        import seaborn as sns

        sns.set_theme(style="whitegrid", context="notebook")
    except ImportError:  # pragma: no cover - seaborn is a dependency
        pass
    mpl.rcParams.update({
        "figure.figsize": (BOOK_WIDTH, 3.0),
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "figure.titlesize": 11,
    })
    try:  # figures built with matplotlib.figure.Figure display as PNG in a kernel
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        if get_ipython() is not None:
            set_matplotlib_formats("png")
    except ImportError:  # pragma: no cover - outside Jupyter
        pass


# --- tables ---------------------------------------------------------------------

#: How a table of the book shows a value that does not exist (e.g. a paper
#: value the paper does not report), instead of pandas' "NaN".
MISSING = "–"


def dash_missing(table, digits: int | None = 2):
    """``table`` (a pandas DataFrame) for display: numbers rounded to ``digits``
    (None: as they are), missing values (NaN, None) shown as :data:`MISSING`.

    Returns a new DataFrame of objects; the argument is not changed.
    """
    shown = table.round(digits) if digits is not None else table.copy()
    return shown.astype(object).where(shown.notna(), MISSING)


# --- recorded numbers ----------------------------------------------------------

def _plain(value: Any) -> Any:
    """``value`` as plain Python (bool, int, float, str, list, dict), for repr round trips."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot record a non-finite number ({value!r})")
        return float(value)  # numpy.float64 is a float whose repr ("np.float64(...)") does not read back
    if isinstance(value, torch.Tensor):
        return _plain(value.tolist())
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # numpy scalar
        return _plain(value.item())
    if hasattr(value, "tolist"):  # numpy array
        return _plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    raise TypeError(f"cannot record a {type(value).__name__}; record numbers, strings, lists or dicts")


def record(name: str, value: Any) -> None:
    """Store ``value`` under ``name`` in the executed notebook, invisibly.

    Uses ``myst_nb.glue(name, value, display=False)``: the value can be shown
    in the book's text with ``{glue:}`name``` and read back by
    :func:`read_records`. Values must be numbers, strings, booleans, or lists
    and dicts of them (torch and numpy scalars are converted). Record each
    name once per notebook: the book build refuses duplicate names.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("a record needs a non-empty string name")
    from myst_nb import glue

    glue(name, _plain(value), display=False)


def _parse(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def read_records(executed_notebook_path: str | os.PathLike, allow_duplicates: bool = False) -> dict[str, Any]:
    """Every value a notebook stored with :func:`record` (or ``myst_nb.glue``), by name.

    Raises:
        ValueError: a name is recorded by two outputs (``jupyter-book build -W``
            fails on such duplicate glue keys); ``allow_duplicates=True`` keeps
            the last value instead.
    """
    import nbformat

    nb = nbformat.read(str(executed_notebook_path), as_version=4)
    out: dict[str, Any] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook", {})
            name = scrap.get("name")
            if name is None:
                continue
            if name in out and not allow_duplicates:
                raise ValueError(f"{Path(executed_notebook_path).name}: {name!r} is recorded twice "
                                 "(jupyter-book -W refuses duplicate glue keys)")
            data = output.get("data", {})
            text = data.get(scrap.get("mime_prefix", "") + "text/plain", data.get(RECORD_PREFIX + "text/plain"))
            if text is not None:
                out[name] = _parse("".join(text) if isinstance(text, list) else text)
    return out


# --- executing chapters ----------------------------------------------------------

def _use_venv_kernel() -> None:
    share = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if share not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([share, *paths])


def chapter_parameters(path: str | os.PathLike) -> dict[str, Any]:
    """The parameters a chapter declares in its ``parameters`` cell, with their defaults (as source text)."""
    import papermill as pm

    return {name: info.get("default") for name, info in pm.inspect_notebook(str(path)).items()}


def run_chapter(path: str | os.PathLike, output_path: str | os.PathLike, *, kernel_name: str = "python3",
                cwd: str | os.PathLike | None = None, timeout: int | None = None, **parameters) -> Path:
    """Execute chapter ``path`` with papermill into ``output_path``.

    ``parameters`` override the chapter's ``parameters`` cell (e.g.
    ``profile="smoke"``); names the cell does not define are refused, so a
    typo cannot silently run the default settings. The kernel's working
    directory is ``cwd`` (default: the repository root), as for ``make chapters``.

    Returns:
        ``output_path`` as a :class:`~pathlib.Path`.
    Raises:
        ValueError: a parameter name the chapter does not declare (the message
            lists the declared ones and the closest match).
        papermill.PapermillExecutionError: a cell failed.
    """
    declared = chapter_parameters(path)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(f"{Path(path).name} has no parameter {', '.join(hints)}; "
                         f"its parameters are {sorted(declared)}")
    _use_venv_kernel()
    import papermill as pm

    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(path), str(output_path), parameters=parameters, kernel_name=kernel_name,
                        cwd=str(cwd or ROOT), progress_bar=False, log_output=False,
                        execution_timeout=timeout)
    return output_path


# --- cached runs for the chapters --------------------------------------------------

@dataclass
class HashRun:
    """A trained hash model and everything a chapter reads from it.

    Attributes:
        config: the hashing config (:func:`saatlib.experiments.hash_models.hashing_config`).
        splits: the :class:`~saatlib.data.RetrievalSplits` it was trained on.
        model: the model, in eval mode.
        codes: CPU tensors ``train_codes``, ``train_labels``, ``db_codes``,
            ``db_labels``, ``query_codes``, ``query_labels``.
        history: per-epoch training record (loss, terms, lr, seconds).
        cached: whether the model was loaded from the run store.
    """

    config: dict
    splits: Any
    model: Any
    codes: dict
    history: list
    cached: bool

    @property
    def label(self) -> str:
        return f"{self.config['method']} ({self.config['dataset']}, {self.config['bits']} bits)"


def load_run(dataset: str, method: str, bits: int = 32, profile: str = "default", seed: int = 0,
             device: str = "cpu", store: RunStore | None = None, **overrides) -> HashRun:
    """Train (or load from the run store) a hash model and encode its three sets (cached too).

    Two chapters asking for the same arguments share one model.
    """
    from saatlib.experiments.attacks import model_codes
    from saatlib.experiments.hash_models import get_hash_model, hashing_config, load_data

    store = store or RunStore()
    config = hashing_config(dataset, method, bits, profile, seed, **overrides)
    splits = load_data(config)
    model, rec = get_hash_model(config, splits, store, device, progress=False)
    codes = model_codes(config, model, splits, store, device)
    return HashRun(config, splits, model, codes, rec.get("history", []), rec["cached"])


def retrieval_scores(run: HashRun, topk: int | None, n_values=(10, 50, 100), store: RunStore | None = None) -> dict:
    """MAP@topk (stable and tie-aware), the precision-recall curve by Hamming
    radius and precision@N of ``run``'s queries against its database (cached).

    Returns:
        dict with ``map``, ``map_expected``, ``topk``, ``precision`` and
        ``recall`` (lists indexed by radius 0..K) and ``p_at_n`` ({N: value}).
    """
    from saatlib.metrics import mean_average_precision, precision_at_n, precision_recall_curve

    store = store or RunStore()
    c = run.codes
    n_db = c["db_codes"].shape[0]
    n_values = [n for n in n_values if n <= n_db]
    key = {"model": run.config, "topk": topk, "n_values": n_values, "version": SCORES_VERSION}

    def compute() -> dict:
        args = (c["query_codes"], c["db_codes"], c["query_labels"], c["db_labels"])
        precision, recall = precision_recall_curve(*args)
        p_at = precision_at_n(*args, n_values) if n_values else []
        return {
            "map": mean_average_precision(*args, topk=topk),
            "map_expected": mean_average_precision(*args, topk=topk, ties="expected"),
            "topk": topk,
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "p_at_n": {str(n): float(v) for n, v in zip(n_values, p_at)},
        }

    result = store.cached_result(SCORES_KIND, key, compute)
    result["p_at_n"] = dict(sorted(result["p_at_n"].items(), key=lambda kv: int(kv[0])))  # JSON sorts "100" < "50"
    return result


def top_retrievals(query_codes: torch.Tensor, db_codes: torch.Tensor, k: int = 10):
    """The first ``k`` database items of the Hamming ranking of each query.

    Ties are ordered by database index (a stable sort), as ``ties="stable"``
    in :mod:`saatlib.metrics`.

    Returns:
        (indices, distances): two int64 tensors (Q, k).
    """
    from saatlib.metrics import hamming_distance

    d = hamming_distance(query_codes, db_codes)
    k = min(k, d.shape[1])
    order = torch.sort(d, dim=1, stable=True).indices[:, :k]
    return order, d.gather(1, order)


def relevant_to(query_labels: torch.Tensor, item_labels: torch.Tensor) -> torch.Tensor:
    """Relevance of items to queries: share at least one label. (Q, C) x (Q, k, C) -> (Q, k) bool."""
    return (query_labels[:, None, :] * item_labels).sum(-1) > 0


def tie_order_maps(run: HashRun, topk: int | None, num_orders: int = 20, seed: int = 0,
                   store: RunStore | None = None) -> dict:
    """MAP@topk of ``run`` under different orders of tied database items (cached).

    The stable MAP ranks tied items by database index; permuting the database
    (codes and labels together) and taking the stable MAP again is the same as
    breaking the ties in a random order. ``num_orders`` random permutations
    (seeded) give the spread that an unstable sort, such as the quicksort
    of the released code, leaves to chance.

    Returns:
        dict with ``index_order`` (stable MAP of the database as stored),
        ``expected`` (tie-aware MAP), ``permuted`` (list of stable MAPs),
        ``min``, ``max``, ``topk``, ``num_orders``.
    """
    from saatlib.metrics import mean_average_precision

    store = store or RunStore()
    key = {"model": run.config, "topk": topk, "num_orders": num_orders, "seed": seed,
           "what": "tie_order_maps", "version": SCORES_VERSION}

    def compute() -> dict:
        c = run.codes
        q, ql, db, dbl = c["query_codes"], c["query_labels"], c["db_codes"], c["db_labels"]
        g = torch.Generator().manual_seed(seed)
        permuted = []
        for _ in range(num_orders):
            perm = torch.randperm(db.shape[0], generator=g)
            permuted.append(mean_average_precision(q, db[perm], ql, dbl[perm], topk=topk))
        return {
            "index_order": mean_average_precision(q, db, ql, dbl, topk=topk),
            "expected": mean_average_precision(q, db, ql, dbl, topk=topk, ties="expected"),
            "permuted": permuted, "min": min(permuted), "max": max(permuted),
            "topk": topk, "num_orders": num_orders,
        }

    return store.cached_result(SCORES_KIND, key, compute)


def mainstay_scores(run: HashRun, topk: int | None, weighting: str = "cosine",
                    store: RunStore | None = None) -> dict:
    """Retrieval with each query's mainstay code as the query code (cached).

    The mainstay code of a query's own labels (:func:`saatlib.dmfl.mainstay_codes`,
    from the training codes and labels of ``run``) replaces the query's code;
    its MAP@topk says how well one code per label set retrieves that
    semantics, the target the SAAT attack pushes away from.

    Returns:
        dict with ``map`` and ``map_expected`` (mainstay codes as queries),
        ``benign_map`` (the queries' own codes), ``mean_bits_from_query``
        (mean Hamming distance between a query's code and its mainstay code),
        ``weighting``, ``topk``.
    """
    from saatlib.dmfl import mainstay_codes
    from saatlib.metrics import mean_average_precision

    store = store or RunStore()
    key = {"model": run.config, "topk": topk, "weighting": weighting, "what": "mainstay_scores",
           "version": SCORES_VERSION}

    def compute() -> dict:
        c = run.codes
        ms = mainstay_codes(c["query_labels"], c["train_codes"], c["train_labels"], weighting=weighting)
        args = (c["db_codes"], c["query_labels"], c["db_labels"])
        return {
            "map": mean_average_precision(ms, *args, topk=topk),
            "map_expected": mean_average_precision(ms, *args, topk=topk, ties="expected"),
            "benign_map": mean_average_precision(c["query_codes"], *args, topk=topk),
            "mean_bits_from_query": float((ms != c["query_codes"]).float().sum(1).mean()),
            "weighting": weighting, "topk": topk,
        }

    return store.cached_result(SCORES_KIND, key, compute)


def show_retrievals(runs: dict[str, HashRun] | HashRun, queries=(0, 1, 2), k: int = 10,
                    title: str | None = None):
    """Figure of queries and their top-k retrievals (:func:`saatlib.plots.retrieved_grid`).

    With one run, one row per query; with ``{name: run}`` (runs on the same
    dataset, e.g. one per method), one row per run and query, so the methods
    can be compared on the same query.
    """
    from saatlib.plots import retrieved_grid

    if isinstance(runs, HashRun):
        runs = {runs.config["method"]: runs}
    rows = [(name, run, int(q)) for q in queries for name, run in runs.items()]
    q_img, q_lab, r_img, r_lab, dist, titles = [], [], [], [], [], []
    for name, run, q in rows:
        c, s = run.codes, run.splits
        idx, d = top_retrievals(c["query_codes"][q:q + 1], c["db_codes"], k)
        q_img.append(s.query.batch([q])[0][0] if hasattr(s.query, "batch") else s.query[q][0])
        q_lab.append(c["query_labels"][q])
        r_img.append(s.database.batch(idx[0])[0] if hasattr(s.database, "batch")
                     else torch.stack([s.database[int(i)][0] for i in idx[0]]))
        r_lab.append(c["db_labels"][idx[0]])
        dist.append(d[0])
        titles.append(name if len(runs) > 1 and len(queries) == 1 else
                      f"{name}, query {q}" if len(runs) > 1 else f"query {q}")
    first = next(iter(runs.values()))
    return retrieved_grid(torch.stack(q_img), torch.stack(q_lab), torch.stack(r_img), torch.stack(r_lab),
                          torch.stack(dist), first.splits.class_names, row_titles=titles, title=title)
