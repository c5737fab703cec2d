"""The fidelity ledger: every known difference between saatlib and the released code.

The released code is the HEAD of ``xandery-geek/SAAT`` (commit 3743e69); CgAT's is
``xunguangwang/CgAT`` (0d4a334). Each :class:`Difference` names what the released
code does (file and function), what the library does by default, the switch
that selects the released behaviour, the value the ``paper`` profile uses, and
why. :data:`LEDGER` is the one list; :func:`ledger_rows` joins it with the
measured effects that ``bench/fidelity_effects.py`` writes to
``fidelity_effects.json`` beside this module (MAP with the released setting
minus MAP with the other, paired over the same queries, with its standard
error), and :func:`ledger_markdown` renders the table shown in chapter 6 and in
``FIDELITY.md``.

The ``paper`` profile uses the released behaviour for every row with a switch,
except where ``paper_value`` differs from ``released_value`` and ``why`` says
why; :func:`profile_value` reads the value a profile really uses, so a test
checks the table against the code.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from saatlib.attack.registry import build_attack
from saatlib.defense.registry import defense_params
from saatlib.experiments.hash_models import hashing_config

EFFECTS_PATH = Path(__file__).with_name("fidelity_effects.json")
RELEASED = "xandery-geek/SAAT@3743e69"


def _attack_setting(name: str, attr: str) -> Callable[[str], Any]:
    def read(profile: str):
        return getattr(build_attack(name, False, profile), attr)
    return read


def _targeted_setting(name: str, attr: str) -> Callable[[str], Any]:
    def read(profile: str):
        return getattr(build_attack(name, True, profile), attr)
    return read


def _defense_setting(method: str, key: str) -> Callable[[str], Any]:
    def read(profile: str):
        return defense_params(method, profile, "fashion-mnist")[key]
    return read


def _loss_pairs(profile: str):
    return hashing_config("fashion-mnist", "DPH", 32, profile)["train"].get("loss_pairs", "seen")


@dataclass(frozen=True)
class Difference:
    """One row of the ledger.

    Attributes:
        name: short identifier (the key of its measured effects).
        topic: what differs, in a few words.
        released: what the released code does, with file and function.
        library: what saatlib does by default.
        switch: the parameter that selects the behaviour (None: no switch, see ``why``).
        released_value, default_value, paper_value: the switch's value that does what
            the released code does, the library default, and the ``paper`` profile's.
        why: why the default (or the paper profile) differs, or why there is no switch.
        setting: reads the value a profile uses (for the consistency test).
    """

    name: str
    topic: str
    released: str
    library: str
    switch: str | None = None
    released_value: Any = None
    default_value: Any = None
    paper_value: Any = None
    why: str = ""
    setting: Callable[[str], Any] | None = field(default=None, compare=False, repr=False)


LEDGER: tuple[Difference, ...] = (
    Difference(
        "dmfl_weighting", "DMFL weights of the mainstay code",
        "cosine weights: w+ = cos(y, Y_j), w- = [cos = 0], each normalised (adv_attack.py::generate_mainstay_code, "
        "used by the attack and adv_training.py::saat)",
        "the same (cosine); the formula replaced in commit b47099e is kept as the ablation 'overlap'",
        "SAATAttack / SAATDefense weighting", "cosine", "cosine", "cosine",
        "no difference; the row measures the ablation: on single-label data the two weightings give the same code",
        _attack_setting("SAAT", "weighting")),
    Difference(
        "exact_ties", "DMFL ties (zero coefficients)",
        "torch.sign of a float32 sum: 0 on an exact zero, in practice the sign of rounding noise on bits whose "
        "coefficient is zero in exact arithmetic, such as bits constant over all training codes "
        "(adv_attack.py::generate_mainstay_code)",
        "float64 sum, |coefficient| below its rounding bound is a tie, and a tie gives +1",
        "mainstay_codes / SAATAttack / SAATDefense exact_ties", False, True, True,
        "rounding noise is not a behaviour: it changes with the device and the summation order, and a 0 bit is "
        "not a code; the paper profile keeps exact ties",
        _attack_setting("SAAT", "exact_ties")),
    Difference(
        "hag_sdha_step", "HAG's and SDHA's per-query step",
        "the loss is a mean over a batch of 128 queries (`attack.py --batch_size 128`), optimised by SGD lr 100 "
        "(model/attack_model/hag.py::adv_generator) or Adam (sdha.py::adv_generator): a query's step is that of "
        "a batch of 128, larger in the last, smaller batch",
        "every query steps as in a batch of 128, whatever its batch (the gradient is scaled by B/128)",
        "HAGAttack / SDHAAttack reference_batch", 128, 128, 128,
        "a query's adversarial example must not depend on its batch-mates; the released last batch is not "
        "reproduced. The row measures the previous build's step (a plain mean over one batch of all 100 queries: "
        "reference_batch=100)",
        _attack_setting("HAG", "reference_batch")),
    Difference(
        "attack_mode", "model mode in the inner maximisation",
        "train mode: model.train() before the loop, dropout on and batch statistics in the inner PGD "
        "(adv_training.py::saat, defense_model/atrdh.py; CgAT central_adv_train.py never calls eval)",
        "eval mode (the inference-mode model is attacked)",
        "defense attack_mode", "train", "eval", "train",
        "the default attacks the model as it is deployed; the SmallCNN has batch norm, so train mode also "
        "updates its running statistics with adversarial batches",
        _defense_setting("SAAT", "attack_mode")),
    Difference(
        "code_buffer", "U_ben aliased with the hash loss's buffer",
        "U_ben.data = train_code.data and model.U.data = train_code.data: one tensor, into which the loss writes "
        "relaxed outputs, so mainstay codes come partly from relaxed codes (adv_training.py::saat); CgAT's "
        "B_ben, U_ben and loss buffer are one tensor too (central_adv_train.py)",
        "U_ben holds signed codes only", "SAATDefense / CgATDefense code_buffer", "aliased", "signed", "aliased",
        "the aliasing reads as an accident of .data assignments; the default keeps the algorithm the paper "
        "describes (signed training codes)",
        _defense_setting("SAAT", "code_buffer")),
    Difference(
        "loss_pairs", "pairwise hash losses in the first epoch",
        "mean over B x N, all training items, the unvisited ones with zero rows "
        "(model/hash_model/dph.py, dpsh.py, hashnet.py::loss_function)",
        "mean over B x N', the N' items visited so far",
        "hashing config loss_pairs", "all", "seen", "all",
        "the default averages over pairs that exist; the two agree after the first epoch. Keys of stored "
        "default-profile models did not change (the entry is kept only when set)",
        _loss_pairs),
    Difference(
        "atrdh_hashnet_scale", "HashNet's tanh scale during ATRDH",
        "HashNet.forward counts every train-mode forward call, inner PGD calls included, and grows its scale "
        "(1 + 0.005 it)^0.5 every 200 calls (model/hash_model/hashnet.py::forward, defense_model/atrdh.py)",
        "defenses train at scale 1", None, None, None, None,
        "no switch: the released growth counts attack calls as iterations; Table II's victim is DPH, where "
        "the scale is 1 in both"),
    Difference(
        "cgat_setup", "CgAT's own training set-up",
        "random crop 224 of 256 and horizontal flip; DPSH eta 0.001 averaged, HashNet alpha 0.1 "
        "(xunguangwang/CgAT utils/data_provider.py, model/hashing_loss.py)",
        "no augmentation; every defense uses the victim's loss as released with SAAT", None, None, None, None,
        "no switch: the crop is an ImageNet-size recipe our 28x28 and 56x56 images do not have; one victim "
        "loss for all defenses keeps Table II a comparison of defenses (identical for DPH, the Table II victim: "
        "both average over B x N)"),
    Difference(
        "anchor_draw", "P2P's and DHTA's anchor draw",
        "a fresh np.random.choice of n database items carrying the target label for every query, and the "
        "theory t-MAP of those per-query anchors (model/attack_model/dhta.py::dhta)",
        "one anchor per (seed, target label vector), shared by the queries with that target",
        "AnchorAttack anchor_draw", "per_query", "shared", "per_query",
        "the shared anchor makes a query's target a function of its target label alone; the released draw is "
        "kept as the switch, seeded per query (seed and the image's bytes) so it does not depend on the batching",
        _targeted_setting("P2P", "anchor_draw")),
    Difference(
        "tha_pnet_batch", "THA's PrototypeNet batch",
        "np.random.choice of --batch_size label vectors per step, 128 in attack.py (model/attack_model/tha.py::tha)",
        "32 label vectors per step (ATRDH's batch; the docstring called 32 the released value until this row)",
        "THAAttack pnet_batch_size", 128, 32, 128,
        "the default keeps the stored default-profile THA runs; the paper profile uses the released 128",
        _targeted_setting("THA", "pnet_batch_size")),
    Difference(
        "prosgan_bound", "ProS-GAN's perturbation budget",
        "no l_inf bound: the adversarial image is the generator's tanh output mapped to [0, 1], limited only by "
        "the reconstruction loss (xunguangwang/ProS-GAN model/target_attack_gan.py::train, ::test)",
        "x_adv = clip(x + eps tanh(.), 0, 1): inside Table I's l_inf ball (8/255) in training and at test time",
        "ProSGANAttack bound", "none", "linf", "none",
        "Table I compares attacks at one budget; the paper profile keeps the released unbounded generator",
        _targeted_setting("ProS-GAN", "bound")),
    Difference(
        "prosgan_scoring", "ProS-GAN's t-MAP protocol",
        "t-MAP over the whole database, every query's target drawn uniformly from the database's unique label "
        "vectors (it may share labels with the query) (model/target_attack_gan.py::test)",
        "SAAT's protocol: t-MAP at the profile's cut-off (5000 in the paper), targets sharing no label with the "
        "query, the same targets for every targeted attack (saatlib.experiments.attacks.run_attack)",
        "saatlib.experiments.prosgan.prosgan_own_scoring (instead of run_attack)", "own", "saat", None,
        "Table I scores every targeted attack one way, SAAT's, in every profile (paper included: no profile "
        "entry); the released scoring is a function beside it"),
    Difference(
        "prosgan_hash_scale", "ProS-GAN's Hamming-alignment loss on a saturated victim",
        "1 - mean(f(x_adv) t) with the victim's tanh at scale 1 (model/target_attack_gan.py::train)",
        "ProSGANParams.hash_scale is 1 as released; the default profile's CPU setting uses 0.1 (and lr 1e-3 "
        "for the released 1e-4, with a quarter of the released widths: saatlib.profiles)",
        "ProSGANAttack hash_scale (the default profile's)", 1.0, 0.1, 1.0,
        "our CPU victims output |h| > 0.99 on most bits, so at scale 1 the loss has almost no gradient and "
        "the reconstruction term wins (bench/prosgan_bench.py); a scale < 1 is the tanh-scale device of the "
        "released PGD attacks (get_alpha)",
        _targeted_setting("ProS-GAN", "hash_scale")),
    Difference(
        "hag_sdha_reported_code", "HAG's and SDHA's reported code",
        "the code of h_hat = model(x_hat, alpha) computed before the last optimiser step and projection: the "
        "iterate before the final step (model/attack_model/hag.py::adv_generator, sdha.py::adv_generator)",
        "the code of the returned example, after the final step", None, None, None, None,
        "no switch: the released code scores an image it does not return; one step of 300 (default profile) "
        "or 1500-2000 (paper)"),
    Difference(
        "ranking_ties", "ranking ties in MAP and t-MAP",
        "np.argsort of Hamming distances (quicksort: ties in an order that depends on the data layout) "
        "(utils/hamming_matching.py::cal_map)",
        "ties broken by database index (a stable sort); metrics' ties='expected' gives the mean over tie orders",
        "saatlib.metrics average_precision / mean_average_precision ties", "unstable (np.argsort)", "stable",
        None,
        "no setting reproduces an unstable sort's order, which depends on the data layout; the measured "
        "effect compares ours with the expectation over random tie orders (ties='expected'), on the same "
        "codes, for every Table I cell of Fashion-MNIST (the benign MAP's spread over tie orders: "
        "saatlib.experiments.retrieval.tie_order_maps, chapter 2)"),
    Difference(
        "tha_dhta_version", "THA and DHTA",
        "SAAT's own versions (model/attack_model/tha.py, dhta.py), not the original repositories'",
        "SAAT's versions", None, None, None, None,
        "no switch: Table I compares attacks as the SAAT authors ran them"),
)


def by_name(name: str) -> Difference:
    for row in LEDGER:
        if row.name == name:
            return row
    raise KeyError(f"no ledger row {name!r}; rows: {[r.name for r in LEDGER]}")


def profile_value(row: Difference, profile: str):
    """The value of ``row``'s switch that ``profile`` uses (None for rows without a switch)."""
    return None if row.setting is None else row.setting(profile)


def load_effects(path: Path = EFFECTS_PATH) -> dict:
    """The measured effects (``{"meta": ..., "effects": [...]}``; empty when not measured)."""
    if not Path(path).is_file():
        return {"meta": {}, "effects": []}
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _pct(x: float, sign: bool = False) -> str:
    value = round(100 * x, 1)
    value = 0.0 if value == 0 else value  # never "-0.0"
    return f"{value:+.1f}" if sign else f"{value:.1f}"


def effect_text(effect: dict, run_date: str | None = None) -> str:
    """'FM (200 queries), SAAT MAP: 18.3 → 18.0 (-0.3 ± 0.2)': the cell (in %) with the other setting, then with
    the released one, and the paired difference (released - other, points) with its standard error; an
    effect measured apart from the others (its date is not ``run_date``, the date of the ledger's
    measurement) adds, in brackets, its note and date."""
    text = (f"{effect['dataset']} ({effect['num_queries']} queries), {effect['cell']}: {_pct(effect['other'])} → "
            f"{_pct(effect['released'])} ({_pct(effect['gap'], True)} ± {_pct(effect['se'])})")
    extra = [effect["note"]] if effect.get("note") else []
    if effect.get("date") and effect["date"] != run_date:
        extra.append(f"measured {effect['date']}")
    return text + (f" [{'; '.join(extra)}]" if extra else "")


def measured_on(meta: dict) -> str:
    """Where and on what the effects were measured: date, build, machine, profile, victim, queries."""
    if not meta:
        return "Not measured yet."
    build = f" by build {meta['build']}" if meta.get("build") else ""
    return (f"Measured {meta.get('date', '?')}{build} on {meta.get('machine', '?')}, "
            f"profile '{meta.get('profile', '?')}', victim {meta.get('victim', '?')}, "
            f"{meta.get('num_queries', '?')} queries (rows with a date in brackets: measured apart).")


def ledger_rows(effects: dict | None = None) -> list[dict]:
    """The ledger as dicts (one per :data:`LEDGER` row) with the measured ``effects`` texts."""
    effects = load_effects() if effects is None else effects
    out = []
    for row in LEDGER:
        measured = [e for e in effects.get("effects", []) if e["name"] == row.name]
        switch = "–" if row.switch is None else (f"{row.switch}: released {row.released_value!r}, "
                                                 f"default {row.default_value!r}, paper {row.paper_value!r}")
        out.append({"difference": row.topic, "released code": row.released, "saatlib default": row.library,
                    "switch": switch, "measured effect": "; ".join(effect_text(e, effects.get("meta", {}).get("date"))
                                                 for e in measured) or "–",
                    "why": row.why})
    return out


def ledger_markdown(effects: dict | None = None) -> str:
    """The ledger as a Markdown page (``FIDELITY.md``)."""
    effects = load_effects() if effects is None else effects
    meta = effects.get("meta", {})
    rows = ledger_rows(effects)
    cols = list(rows[0])
    lines = ["# Fidelity ledger", "",
             f"Every known difference between saatlib and the released code ({RELEASED}; CgAT: "
             "xunguangwang/CgAT@0d4a334). Generated by `python bench/fidelity_effects.py --markdown FIDELITY.md` "
             "from `saatlib/fidelity.py` and the measured effects in `saatlib/fidelity_effects.json`; do not edit "
             "by hand.", "",
             "Measured effect: the cell (MAP, %) with the other setting → with the released one (released − "
             "other, points, ± the paired standard error over the same queries). " + measured_on(meta), "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(str(r[c]).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(lines) + "\n"


def ledger_list_markdown(effects: dict | None = None) -> str:
    """The ledger as one short block per difference (title and five labelled lines), which reads
    at book width where a six-column table does not; first, where the effects were measured."""
    effects = load_effects() if effects is None else effects
    blocks = [measured_on(effects.get("meta", {}))]
    for row in ledger_rows(effects):
        blocks.append(f"**{row['difference']}**\n\n"
                      + "\n".join(f"- *{label}*: {row[key]}" for label, key in (
                          ("released code", "released code"), ("saatlib default", "saatlib default"),
                          ("switch", "switch"), ("measured effect", "measured effect"), ("why", "why"))))
    return "\n\n".join(blocks) + "\n"
