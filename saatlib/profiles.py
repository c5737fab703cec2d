"""Named presets of data sizes, epochs and iteration counts.

One option picks a profile everywhere (CLI ``--profile``, a chapter's
``profile`` parameter):

- ``smoke``   seconds: tiny data and one epoch, for tests and CI.
- ``default`` the CPU book: minutes on 2 cores, numbers worth reading.
- ``paper``   the paper's settings (Yuan et al. 2023, and the released code):
  AlexNet backbone, 100 epochs, SGD, MAP@5000; meant for a GPU and the real
  benchmark datasets.

Each profile is a dict of sections (``data``, ``hashing``, ``eval``, and the
sections later stages add: ``attack``, ``defense``). :func:`get_profile` returns
a deep copy, so callers may edit it freely.

The profiles are the one source of every default budget, in pixels of [0, 1]
(an image's values): the attacks' ``eps`` and ``steps``, the defenses' inner
``eps``, ``step_size`` and ``steps`` (``defense.common``) and the check attack
(``defense.eval.check``). A class's own default budget is the ``default``
profile's (:func:`default_attack_setting`, :func:`defense_budget`). The unit
"x/255" of the chapters and sentences converts here and only here
(:func:`from_255`, :func:`per_255`, :func:`label_255`).

The ``attack`` section gives an attack's parameters by field name, with no
per-attack code: an entry whose name is a field of the attack's ``Params``
sets it, either for every attack (a plain value, e.g. ``pnet_steps``) or per
attack (a table ``{"default": v, "<name>": v, "<name>-targeted": v}``,
e.g. ``eps`` and ``steps``); then an entry named after the attack (e.g.
``"ProS-GAN": {...}``) sets its own fields (:func:`attack_settings`).
"""
from __future__ import annotations

import copy
from typing import Any

#: side of the mosaics in the book's profiles (``smoke``, ``default``): their own 56x56 grids resized,
#: antialiased, so each garment is 14x14
BOOK_MOSAIC_SIZE = 28

PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {
        "data": {"num_query": 100, "num_database": 1000, "num_train": 500},
        "dataset_overrides": {"fashion-mnist-mosaics": {"image_size": BOOK_MOSAIC_SIZE}},
        "hashing": {
            "backbone": "smallcnn",
            "widths": [16, 32, 64],
            "epochs": 2,
            "batch_size": 64,
            "optimizer": "adam",
            "lr": 1e-3,
            "weight_decay": 0.0,
        },
        "eval": {"topk": 100},
        "attack": {
            "num_queries": 16,
            "eps": {"default": 8 / 255},
            "steps": {"default": 20, "SAAT": 10, "THA": 10},
            "pnet_steps": 50,
            # ProS-GAN (saatlib.attack.prosgan): seconds, to exercise the code path
            "ProS-GAN": {"epochs": 1, "decay_epochs": 0, "gen_dim": 8, "res_blocks": 1, "label_dim": 16,
                        "disc_dim": 8, "pnet_steps": 50, "pnet_hidden": 256},
        },
        "defense": {
            # seconds: two short epochs, 2-step inner PGD
            "common": {"batch_size": 32, "eps": 8 / 255, "step_size": 2 / 255, "steps": 2},
            "SAAT": {"epochs": 2},
            "ATRDH": {"epochs": 2},
            "CgAT": {"epochs": 2},
            "eval": {"num_queries": 16,
                     "check": {"steps": 10, "step_size": 2 / 255, "restarts": 2}},
        },
    },
    "default": {
        # the training set is the whole 10,000-item database: DPSH needs the
        # 10,000 to pass MAP@1000 = 0.80 (5,000 stalls near 0.77)
        "data": {"num_query": 1000, "num_database": 10000, "num_train": 10000},
        # the mosaics at 28x28: an attack's step costs ~5x less than at 56x56 (124
        # against 636 us a mosaic, 2-core machine) and DPH trains 3.4x faster (15 s
        # against 53 s) to a higher MAP@1000 (seed 0, 5,000 training mosaics: 0.845
        # against 0.806, +3.8 +- 0.3 points paired over the 1,000 queries, supported);
        # the 5,000 keep the four mosaic victims of chapter 2 near a minute together
        "dataset_overrides": {"fashion-mnist-mosaics": {"num_train": 5000, "image_size": BOOK_MOSAIC_SIZE}},
        "hashing": {
            # 16-32-64 channels: a quarter of the multiply-adds of 32-64-128, so
            # attacks and defenses run ~4x faster; it needs more epochs for the
            # same MAP (DPSH, seed 0: 0.802 after 12 epochs, 0.831 after 16;
            # 32-64-128 reached 0.818 after 12 in 1.3x the time)
            "backbone": "smallcnn",
            "widths": [16, 32, 64],
            "epochs": 16,
            "batch_size": 64,
            "optimizer": "adam",
            "lr": 1e-3,
            "weight_decay": 0.0,
            "lr_schedule": "cosine",
        },
        "eval": {"topk": 1000},
        "attack": {
            # fewer queries and iterations than the paper, so a CPU runs Table I in minutes
            "num_queries": 500,
            "eps": {"default": 8 / 255},
            "steps": {"default": 300, "SAAT": 100, "THA": 100},
            "pnet_steps": 2000,
            # ProS-GAN on the CPU (bench/prosgan_bench.py): a quarter of the released widths, one residual
            # block a side, 1,000 training images x 8 epochs (336 generator steps), 500 PrototypeNet steps;
            # lr 1e-3 and the victim's tanh at scale 0.1 in the alignment loss (saatlib.fidelity, row
            # "prosgan_hash_scale"): at the released 1e-4 and scale 1 t-MAP does not move in this budget.
            # Training: 17 s a dataset (2 threads, 28x28 images). No setting tried reaches half-way from benign
            # to theory t-MAP on Fashion-MNIST inside the l_inf ball (t-MAP 0.038 here, benign 0.018, theory
            # 0.992; at 4x the widths, 3 blocks and 2x the steps 0.047 against benign 0.023); the mosaics
            # reach 0.574 (benign 0.441, theory 0.963, half-way 0.702; at 56x56 0.647 against half-way 0.700)
            "ProS-GAN": {"gen_dim": 16, "res_blocks": 1, "label_dim": 32, "disc_dim": 16, "pnet_steps": 500,
                        "pnet_hidden": 512, "num_train": 1000, "epochs": 6, "decay_epochs": 2, "lr": 1e-3,
                        "hash_scale": 0.1},
        },
        "defense": {
            # the paper's inner PGD (7 steps of 2/255 in 8/255) and optimisers; a
            # step costs ~11 forward-backward passes, so few epochs: each defense
            # trains in 30-45 s on 2 idle cores (the 16-32-64 CNN, Fashion-MNIST)
            "common": {"batch_size": 64, "eps": 8 / 255, "step_size": 2 / 255, "steps": 7},
            "SAAT": {"epochs": 2},
            "ATRDH": {"epochs": 2},
            "CgAT": {"epochs": 2},
            # one query set per dataset for Table I and Table II (the chapters attack the
            # Table II queries in Table I too): 200 queries of each dataset (chapter 4
            # states the smallest difference this count detects)
            "eval": {"num_queries": 200,
                     "check": {"steps": 150, "step_size": 1 / 255, "restarts": 2}},
        },
    },
    "paper": {
        # None: the dataset's own split sizes (list-file datasets), or the
        # documented defaults of saatlib.data for the embedded data.
        "data": {"num_query": None, "num_database": None, "num_train": None},
        "hashing": {
            "backbone": "alexnet",
            "epochs": 100,
            "batch_size": 32,
            "optimizer": "sgd",
            "lr": 0.01,
            "weight_decay": 5e-4,
            # pairwise losses average over all N training items from the first step,
            # as the released losses do (saatlib.fidelity, row "loss_pairs")
            "loss_pairs": "all",
        },
        "eval": {"topk": 5000},
        "attack": {
            # the paper's budgets (reference section 3); P2P and DHTA use eps 0.032
            "num_queries": None,
            "eps": {"default": 8 / 255, "P2P": 0.032, "DHTA": 0.032},
            "steps": {"default": 2000, "SDHA": 1500, "SAAT": 100, "THA": 100},
            "pnet_steps": 30000,
            # THA's PrototypeNet draws --batch_size (128) labels per step (saatlib.fidelity, row "tha_pnet_batch")
            "THA": {"pnet_batch_size": 128},
            # P2P and DHTA draw a fresh anchor set for every query (saatlib.fidelity, row "anchor_draw")
            "anchor_draw": "per_query",
            # ProS-GAN as released: the released sizes and recipe (ProSGANParams defaults), no l_inf bound
            "ProS-GAN": {"bound": "none"},
        },
        "defense": {
            # the paper and released scripts: batch 32; SAAT 20, ATRDH 100, CgAT 30 epochs;
            # the inner PGD in train mode and (SAAT, CgAT) the aliased code buffer, as the
            # released scripts do (saatlib.fidelity, rows "attack_mode" and "code_buffer")
            "common": {"batch_size": 32, "eps": 8 / 255, "step_size": 2 / 255, "steps": 7, "attack_mode": "train"},
            "SAAT": {"epochs": 20, "code_buffer": "aliased"},
            "ATRDH": {"epochs": 100},
            "CgAT": {"epochs": 30, "code_buffer": "aliased"},
            "eval": {"num_queries": None,
                     "check": {"steps": 300, "step_size": 1 / 255, "restarts": 5}},
        },
    },
}


def profile_names() -> list[str]:
    """Names of the known profiles, in order of cost."""
    return list(PROFILES)


def get_profile(name: str) -> dict[str, dict[str, Any]]:
    """Return a deep copy of profile ``name``.

    Raises:
        ValueError: ``name`` is not a known profile (the message lists them).
    """
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {profile_names()}")
    return copy.deepcopy(PROFILES[name])


#: the profile a class's own default budget comes from
DEFAULT_PROFILE = "default"
#: the fields that make a budget (l_inf radius, step, iterations), in pixels of [0, 1]
BUDGET_FIELDS = ("eps", "step_size", "steps")
#: entries of a profile's ``attack`` section that are not attack parameters
ATTACK_SECTION_KEYS = ("num_queries",)


def from_255(value: float) -> float:
    """A budget in units of 1/255 (``8`` for 8/255) in pixels of [0, 1]: ``value / 255``."""
    return float(value) / 255


def per_255(eps: float, ndigits: int | None = 3) -> float:
    """A budget in pixels of [0, 1] in units of 1/255 (``8 / 255`` -> ``8.0``), rounded to ``ndigits``
    (None: not rounded)."""
    value = float(eps) * 255
    return value if ndigits is None else round(value, ndigits)


def label_255(eps: float) -> str:
    """A budget in pixels as the book writes it: ``8 / 255`` -> ``"8/255"``."""
    return f"{per_255(eps):g}/255"


def _table_value(value, name: str, targeted_name: str | None):
    """A plain value, or the entry of a per-attack table for ``targeted_name``, ``name`` or ``default``."""
    if not isinstance(value, dict):
        return value
    for key in (targeted_name, name, "default"):
        if key is not None and key in value:
            return value[key]
    raise KeyError(name)


def attack_settings(profile: str, name: str, fields, targeted: bool = False) -> dict[str, Any]:
    """The parameters profile ``profile`` gives attack ``name`` (its registry name), among ``fields``
    (the names of its ``Params`` fields), by field name: the section's entry named after a field (a
    plain value, or a per-attack table read at ``<name>-targeted`` when ``targeted``, then ``<name>``,
    then ``default``), then the attack's own entry ``section[name]``."""
    section = get_profile(profile)["attack"]
    fields = set(fields)
    out: dict[str, Any] = {}
    for field in sorted(fields & set(section)):
        if field in ATTACK_SECTION_KEYS:
            continue
        try:
            out[field] = _table_value(section[field], name, f"{name}-targeted" if targeted else None)
        except KeyError:
            pass
    own = section.get(name, {})
    unknown = sorted(set(own) - fields)
    if unknown:
        raise ValueError(f"profile {profile!r} sets {unknown} for attack {name!r}, which has no such parameter")
    out.update(own)
    return out


def default_attack_setting(name: str, field: str, targeted: bool = False):
    """The :data:`DEFAULT_PROFILE`'s value of ``field`` for attack ``name``: the default of a budget field
    (``eps``, ``steps``) of the attack's ``Params``, so that ``Attack()`` and
    ``build_attack(name, profile="default")`` agree."""
    section = get_profile(DEFAULT_PROFILE)["attack"]
    if field in section.get(name, {}):
        return section[name][field]
    return _table_value(section[field], name, f"{name}-targeted" if targeted else None)


def defense_budget(profile: str = DEFAULT_PROFILE, dataset: str | None = None) -> dict[str, Any]:
    """The defenses' inner PGD budget of ``profile`` (``eps``, ``step_size``, ``steps``, pixels of [0, 1]):
    ``defense.common``, updated by ``defense.datasets.<dataset>.common``."""
    defense = get_profile(profile).get("defense", {})
    common = dict(defense.get("common", {}))
    if dataset is not None:
        common.update(defense.get("datasets", {}).get(dataset, {}).get("common", {}))
    return {k: common[k] for k in BUDGET_FIELDS}


def attack_budget_255(profile: str = DEFAULT_PROFILE) -> float:
    """The profile's default attack budget (``attack.eps.default``) in units of 1/255 (``8.0``)."""
    return per_255(_table_value(get_profile(profile)["attack"]["eps"], "", None))


def training_budget_255(profile: str = DEFAULT_PROFILE, dataset: str | None = None) -> float:
    """The defenses' training budget (their inner PGD's ``eps``) of ``profile`` in units of 1/255."""
    return per_255(defense_budget(profile, dataset)["eps"])


def check_budget_settings(profile: str = DEFAULT_PROFILE, dataset: str | None = None) -> dict[str, Any]:
    """The check attack's settings of ``profile``: eps (the profile's default attack eps) and the
    ``defense.eval.check`` entries (``steps``, ``step_size``, ``restarts``)."""
    return {"eps": _table_value(get_profile(profile)["attack"]["eps"], "", None),
            **defense_eval_settings(profile, dataset)["check"]}


def hashing_settings(profile: str = DEFAULT_PROFILE, dataset: str | None = None) -> tuple[dict, dict]:
    """``(data, hashing)``: the profile's protocol sizes (updated by ``dataset_overrides.<dataset>``) and its
    victims' training settings (copies)."""
    prof = get_profile(profile)
    data = dict(prof["data"], **prof.get("dataset_overrides", {}).get(dataset, {}))
    return data, prof["hashing"]


def eval_topk(profile: str = DEFAULT_PROFILE) -> int | None:
    """The profile's MAP cut-off (``eval.topk``; None: the whole database)."""
    return get_profile(profile)["eval"]["topk"]


def attack_num_queries(profile: str = DEFAULT_PROFILE) -> int | None:
    """The queries the profile's attacks attack at most (``attack.num_queries``; None: all)."""
    return get_profile(profile)["attack"]["num_queries"]


def defense_settings(method: str, profile: str = DEFAULT_PROFILE, dataset: str | None = None) -> dict:
    """The profile's settings of defense ``method``, lowest precedence first: ``defense.common``, the
    method's entry, then the same two of ``defense.datasets.<dataset>``."""
    section = get_profile(profile).get("defense", {})
    per_dataset = section.get("datasets", {}).get(dataset, {}) if dataset is not None else {}
    params: dict = {}
    for level in (section, per_dataset):
        params.update(level.get("common", {}))
        params.update(level.get(method, {}))
    return params


def defense_eval_settings(profile: str = "default", dataset: str | None = None) -> dict:
    """The profile's defense-evaluation settings (``defense.eval``, updated by
    ``defense.datasets.<dataset>.eval``): ``num_queries``, ``attacks`` (None: the non-targeted attacks of
    Table I, :data:`saatlib.attack.registry.NON_TARGETED`; a profile may name others), ``check``."""
    prof = get_profile(profile)
    defense = prof.get("defense", {})
    section = dict(defense.get("eval", {}))
    if dataset is not None:
        section.update(defense.get("datasets", {}).get(dataset, {}).get("eval", {}))
    return {"num_queries": section.get("num_queries", prof["attack"]["num_queries"]),
            "attacks": list(section["attacks"]) if section.get("attacks") else None,
            "check": dict(section.get("check", {}))}
