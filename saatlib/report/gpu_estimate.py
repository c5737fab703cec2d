"""The one GPU measurement of ``bench/gpu_check.py`` and what it implies for the ``paper`` profile.

The measurement (images per second of the SAAT attack and of one SAAT
training epoch, AlexNet at 224x224) is kept in ``saatlib/resources/gpu_check.json``
with its machine and date: it was run by hand, not by the book's build.
:func:`paper_estimate` scales its fp32 rates to one dataset and code length of
the ``paper`` profile (iterations and epochs read from the profile), counting
one forward and backward pass per attack iteration, the SAAT attack's rate
for every attack, and the SAAT epoch's rate for every defense epoch
(the victim's plain epochs, one pass per image instead of about eight, are
counted at eight times that rate).
"""
from __future__ import annotations

import json
from pathlib import Path

from saatlib.attack.registry import build_attack, iterative
from saatlib.defense.registry import defense_params
from saatlib.profiles import hashing_settings
from saatlib.report.tables import TABLE1

RESOURCE = Path(__file__).resolve().parent.parent / "resources" / "gpu_check.json"
#: passes per image of one step of adversarial training (7-step inner PGD + the outer step), against plain training
AT_PASSES = 8


def measured() -> dict:
    """The stored measurement: ``machine``, ``date``, ``torch``, ``model``, ``columns`` and
    ``images_per_second`` (``{loop: [rate per column]}``)."""
    return json.loads(RESOURCE.read_text(encoding="utf-8"))


def paper_estimate(gpu: dict, num_train: int, num_query: int, profile: str = "paper") -> dict[str, float]:
    """Seconds of each stage of ``profile`` for one dataset and code length, from the fp32 rates of ``gpu``.

    Args:
        gpu: :func:`measured`.
        num_train, num_query: the dataset's training images and queries.
    Returns:
        ``{stage: seconds}``: ``victim`` (the profile's epochs of plain training), one entry per
        Table I attack (its iterations, scaled from the SAAT attack's 100), and one per defense (its epochs).
    """
    rates = gpu["images_per_second"]
    col = gpu["columns"].index("fp32")
    attack_rate = rates["SAAT attack, 100 iterations"][col]  # queries attacked to the end per second
    epoch_rate = rates["one epoch of SAAT adversarial training"][col]  # training images per second
    out = {"victim": hashing_settings(profile)[1]["epochs"] * num_train / (AT_PASSES * epoch_rate)}
    for row in TABLE1:
        if row.attack is not None and iterative(row.attack):  # a generative attack (ProS-GAN) has no iterations
            steps = build_attack(row.attack, row.targeted, profile).steps
            out[f"attack {row.name}"] = num_query / attack_rate * steps / 100
    for defense in ("SAAT", "ATRDH", "CgAT"):
        out[f"defense {defense}"] = defense_params(defense, profile)["epochs"] * num_train / epoch_rate
    return out


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def estimate_markdown(stages: dict[str, float]) -> str:
    """The estimate as one sentence per group: the victim, the attacks, the defenses, and the total."""
    attacks = {k.split(" ", 1)[1]: v for k, v in stages.items() if k.startswith("attack ")}
    defenses = {k.split(" ", 1)[1]: v for k, v in stages.items() if k.startswith("defense ")}
    total = sum(stages.values())
    return ("Estimated on that GPU: the victim's training " + _duration(stages["victim"]) + "; the attacks "
            + ", ".join(f"{n} {_duration(s)}" for n, s in attacks.items()) + "; the defenses "
            + ", ".join(f"{n} {_duration(s)}" for n, s in defenses.items())
            + f"; in all about {_duration(total)} for one code length. Memory was not measured. Treat all "
            "of this as an estimate until measured.")
