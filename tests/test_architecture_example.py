"""The worked example of ARCHITECTURE.md ("## Adding an attack") runs and does what it says.

The first ```python block under that heading is executed as written (it builds
its own tiny random smallcnn victim and random images); the attack it defines
must stay within eps and [0, 1], change the codes of some queries compared with
no perturbation, be found by ``build_attack`` by name, and have its config in
the run-store key. The block must stay under 40 lines.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from saatlib.attack import registry
from saatlib.attack.base import AttackContext
from saatlib.attack.evaluate import codes_of
from saatlib.experiments.attacks import attack_key, cached_attack_result
from saatlib.profiles import get_profile
from saatlib.store import RunStore

ARCHITECTURE = Path(__file__).resolve().parent.parent / "ARCHITECTURE.md"
HEADING = "## Adding an attack"
MAX_LINES = 40

pytestmark = pytest.mark.usefixtures("one_thread")


def example_block() -> str:
    """The first ```python block after the heading, before the next heading of level 2 or 1."""
    text = ARCHITECTURE.read_text()
    lines = text.splitlines()
    assert HEADING in lines, f"{ARCHITECTURE.name} has no line {HEADING!r}"
    section = "\n".join(lines[lines.index(HEADING) + 1:])
    section = re.split(r"^#{1,2} ", section, maxsplit=1, flags=re.MULTILINE)[0]
    match = re.search(r"^```python\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    assert match, f"no ```python block under {HEADING!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The namespace the example leaves, run with a private attack registry and run store."""
    mp = pytest.MonkeyPatch()
    mp.setattr(registry, "_CLASSES", dict(registry._CLASSES))  # the registration does not outlive the module
    mp.setenv("SAAT_RUNS", str(tmp_path_factory.mktemp("example-runs")))
    namespace: dict = {"__name__": "architecture_example"}
    try:
        exec(compile(example_block(), str(ARCHITECTURE), "exec", dont_inherit=True), namespace)  # as a script
        yield namespace
    finally:
        mp.undo()


def test_block_is_under_40_lines():
    assert len(example_block().splitlines()) < MAX_LINES


def test_attack_stays_in_the_ball_and_the_box(example):
    attack, model, x = example["attack"], example["model"], example["images"][40:]
    context = AttackContext(**example["known"])
    x_adv = attack(model, x, example["labels"][40:], context, torch.Generator().manual_seed(0))
    assert x_adv.shape == x.shape and attack.eps > 0
    assert (x_adv - x).abs().max().item() <= attack.eps + 1e-6
    assert x_adv.min().item() >= 0.0 and x_adv.max().item() <= 1.0
    assert example["result"]["perceptibility"]["linf"] <= attack.eps + 1e-6


def test_attack_changes_codes_of_some_queries(example):
    attack, model, x = example["attack"], example["model"], example["images"][40:]
    context = AttackContext(**example["known"])
    baseline = codes_of(model, x)  # zero perturbation
    adv = codes_of(model, attack(model, x, example["labels"][40:], context, torch.Generator().manual_seed(0)))
    assert (adv != baseline).any(1).sum().item() >= 1


def test_build_attack_finds_it_by_name(example):
    built = registry.build_attack("fgsm-benign", profile="smoke")
    assert type(built) is type(example["attack"]) and built.config() == example["attack"].config()
    assert built.eps == get_profile("smoke")["attack"]["eps"]["default"]
    with pytest.raises(ValueError, match="targeted"):
        registry.build_attack("FGSM-benign", targeted=True)


def test_its_config_is_in_the_cache_key(example, tmp_path):
    attack = example["attack"]
    config = attack.config()
    assert config == {"eps": attack.eps}
    key = attack_key({"model": "tiny"}, attack, 8, None, 0)
    assert key["attack"] == dict(config, cls=type(attack).__name__)
    smaller = attack.replace(eps=attack.eps / 2)
    assert attack_key({"model": "tiny"}, smaller, 8, None, 0) != key
    # the example's run is stored under that key: asking again loads it, a changed eps runs anew
    args = (example["model"], {"model": "tiny"}, example["known"], example["images"][40:], example["labels"][40:],
            8, None, 0)
    store = RunStore(tmp_path)
    first = cached_attack_result(args[0], attack, *args[1:], store, progress=False)
    again = cached_attack_result(args[0], attack, *args[1:], store, progress=False)
    other = cached_attack_result(args[0], smaller, *args[1:], store, progress=False)
    assert (first["cached"], again["cached"], other["cached"]) == (False, True, False)
    assert again["map_adversarial"] == first["map_adversarial"] == example["result"]["map_adversarial"]
