"""Attack hyper-parameters: explicit, complete, read at call time, all in the run-store key.

For every attack and every field of its ``Params`` dataclass: a different valid
value changes ``config()`` and the run-store key, and the attack's behaviour
(its adversarial examples, or the part of the attack the field governs).
The keys of the attacks the book runs with default values are pinned to the
ones computed before the parameters became explicit (stored runs stay valid).
"""
from __future__ import annotations

import dataclasses

import pytest
import torch
from attack_tools import registry_makers

import saatlib.attack as attack_pkg
import saatlib.attack.registry as registry
from saatlib.attack.anchor import AnchorParams
from saatlib.attack.base import Attack, AttackContext
from saatlib.attack.engine import LinfPGD
from saatlib.attack.hag import HAGAttack
from saatlib.attack.registry import build_attack, build_check_attack
from saatlib.attack.restart_pgd import RestartPGDAttack
from saatlib.attack.saat import SAATAttack
from saatlib.attack.sdha import SDHAAttack
from saatlib.attack.tha import THAAttack
from saatlib.attack.variants import NIFGSM, RULE_NAMES, VMIFGSM, make_rule, saat_variant
from saatlib.experiments.attacks import attack_key
from saatlib.models import build_model
from saatlib.store import config_key

BITS, CLASSES, STEPS = 16, 5, 3

pytestmark = pytest.mark.usefixtures("one_thread")

def attacks() -> dict:
    """``{label: make()}``: every registered attack each way it runs (the smoke profile's settings, made fast by
    field name as the property tests do: ``attack_tools.build_fast``), SAAT with an update-rule variant, the check
    attack."""
    out = registry_makers(STEPS)
    out["SAAT-VMI-FGSM"] = lambda: saat_variant("VMI-FGSM", steps=STEPS)
    out["PGD-restarts"] = lambda: RestartPGDAttack(steps=STEPS, restarts=2)
    return out


def cases(makers: dict) -> list[tuple[str, str]]:
    """(label, field) of every parameter field of every attack of ``makers``."""
    return [(name, f.name) for name, make in makers.items() for f in dataclasses.fields(make().params)]


ATTACKS = attacks()

#: a different valid value of every parameter field (by field name), from the current one
ALTERNATIVES = {
    "eps": lambda v: 2e-5,  # below what every attack moves in STEPS steps: the bound binds
    "steps": lambda v: v + 1,
    "step_size": lambda v: v * 2,
    "random_start": lambda v: not v,
    "schedule": lambda v: None,
    "rule": lambda v: NIFGSM() if v.name != "NI-FGSM" else NIFGSM(decay=0.5),
    "targeted": lambda v: not v,
    "weighting": lambda v: "overlap",
    "exact_ties": lambda v: not v,
    "lr": lambda v: v * 2,
    "momentum": lambda v: 0.5,
    "threshold": lambda v: 1.0,
    "beta": lambda v: 2.0,
    "weight": lambda v: 10.0,
    "sigma": lambda v: 2.0,
    "z": lambda v: 1.0,
    "reference_batch": lambda v: 4,
    "n": lambda v: 3,
    "restarts": lambda v: v + 1,
    "pnet_steps": lambda v: v + 2,
    "pnet_batch_size": lambda v: v + 3,
    "pnet_lr": lambda v: v * 10,
    "anchor_draw": lambda v: "per_query" if v == "shared" else "shared",
    # ProS-GAN's (a generative attack: its networks' training)
    "bound": lambda v: "none" if v == "linf" else "linf",
    "epochs": lambda v: v + 1,
    "decay_epochs": lambda v: v + 1,
    "batch_size": lambda v: v + 4,
    "rec_weight": lambda v: v / 2,
    "hash_weight": lambda v: v * 2,
    "adv_weight": lambda v: v * 2,
    "hash_scale": lambda v: v / 2,
    "disc_every": lambda v: 1 if v != 1 else 2,
    "gen_dim": lambda v: v + 2,
    "res_blocks": lambda v: v + 1,
    "label_dim": lambda v: v * 2,  # a multiple of 2^upsamplings
    "disc_dim": lambda v: v + 2,
    "pnet_hidden": lambda v: v + 8,
    "num_train": lambda v: 40 if v is None else v - 1,
}

CASES = cases(ATTACKS)


def _onehot(n: int, g: torch.Generator) -> torch.Tensor:
    return torch.eye(CLASSES)[torch.randint(CLASSES, (n,), generator=g)]


@pytest.fixture(scope="module")
def setup():
    g = torch.Generator().manual_seed(0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_model("smallcnn", BITS, in_channels=1).eval()
    x = torch.rand(4, 1, 28, 28, generator=g)
    signs = lambda n: torch.randint(0, 2, (n, BITS), generator=g).float() * 2 - 1  # noqa: E731
    context = AttackContext(signs(60), _onehot(60, g), signs(80), _onehot(80, g), seed=7,
                            train_images=torch.rand(60, 1, 28, 28, generator=torch.Generator().manual_seed(1)))
    own = _onehot(4, g)
    return model, x, own, torch.roll(own, 1, dims=1), context


def _run(attack: Attack, setup, seed: int = 3, generator: torch.Generator | None = None) -> torch.Tensor:
    model, x, own, target, context = setup
    attack.prepare(model, context)
    return attack(model, x, target if attack.targeted else own, context,
                  generator or torch.Generator().manual_seed(seed))


def _changed(name: str, field: str) -> tuple[Attack, Attack]:
    attack = attacks()[name]()  # the registry as it is now
    old = getattr(attack.params, field)
    new = ALTERNATIVES[field](old)
    assert new != old, f"the alternative {field}={new!r} equals the current value"
    return attack, type(attack)(dataclasses.replace(attack.params, **{field: new}))


def test_every_field_has_an_alternative():
    missing = {f for _, f in CASES} - set(ALTERNATIVES)
    assert not missing, f"add a different valid value for {sorted(missing)} to ALTERNATIVES"


@pytest.mark.parametrize("name, field", CASES)
def test_a_changed_parameter_changes_config_and_key(name, field):
    attack, other = _changed(name, field)
    assert getattr(other, field) == getattr(other.params, field) != getattr(attack, field)
    assert other.config() != attack.config()
    assert other.config()[field] != attack.config()[field]
    assert attack_key({}, other, 10, 100, 0) != attack_key({}, attack, 10, 100, 0)
    assert config_key(attack_key({}, other, 10, 100, 0)) != config_key(attack_key({}, attack, 10, 100, 0))


def _weighting_context() -> tuple[torch.Tensor, AttackContext]:
    """The hand-worked case of tests/test_dmfl.py where cosine and overlap weights disagree on bit 2."""
    y = torch.tensor([[1.0, 0, 0, 0], [1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]])
    codes = torch.tensor([[+1.0, +1, +1, -1, -1], [-1, -1, -1, +1, +1], [+1, -1, +1, -1, +1]]).t()
    return torch.tensor([[1.0, 1, 0, 0]]), AttackContext(codes, y, codes, y)


def _tie_context() -> tuple[torch.Tensor, AttackContext]:
    """A bit constant over 3000 multi-label training codes: an exact tie that float32 noise decides."""
    g = torch.Generator().manual_seed(0)
    y = (torch.rand(3000, 6, generator=g) > 0.5).float()
    codes = torch.randint(0, 2, (3000, 8), generator=g).float() * 2 - 1
    codes[:, 3] = -1.0
    q = (torch.rand(64, 6, generator=g) > 0.6).float()
    q[q.sum(1) == 0, 0] = 1
    return q, AttackContext(codes, y, codes, y)


@pytest.mark.parametrize("name, field", CASES)
def test_a_changed_parameter_changes_behaviour(name, field, setup):
    """The attack reads the new value: its examples differ (same seed), or, where the tiny setup
    cannot show it in the examples, the part of the attack the field governs does."""
    attack, other = _changed(name, field)
    if (name.startswith("SAAT"), field) == (True, "weighting"):
        labels, context = _weighting_context()
        assert not torch.equal(attack.reference_codes(labels, context), other.reference_codes(labels, context))
    elif (name.startswith("SAAT"), field) == (True, "exact_ties"):
        labels, context = _tie_context()
        assert not torch.equal(attack.reference_codes(labels, context), other.reference_codes(labels, context))
    elif (name, field) == ("HAG", "threshold"):
        # a few steps never move a bit 1 + t away from its benign sign; a far bit is masked at t = 0.5, not at 1
        h = torch.tensor([[0.6, -0.4, 0.3, -0.8]])
        h_adv = torch.tensor([[-0.7, -0.5, 0.2, -0.9]])
        assert attack.loss(h_adv, h) != other.loss(h_adv, h)
    elif (name, field) == ("PGD-restarts", "restarts"):
        # the kept restart may be the same; every restart draws its random start from the generator
        gens = [torch.Generator().manual_seed(3) for _ in range(2)]
        _run(attack, setup, generator=gens[0])
        _run(other, setup, generator=gens[1])
        assert not torch.equal(gens[0].get_state(), gens[1].get_state())
    else:
        assert not torch.equal(_run(attack, setup), _run(other, setup))


@pytest.mark.parametrize("name", ATTACKS)
def test_replaced_eps_bounds_the_perturbation(name, setup):
    """After dataclasses.replace(params, eps=...) the l_inf norm is bounded by the new eps
    (and the attack moved beyond it with the old one, so the check can fail)."""
    attack = ATTACKS[name]()
    x = setup[1]
    small = 1e-3
    before = (_run(attack, setup) - x).abs().max().item()
    assert before > small + 1e-6 or name == "HAG"  # HAG's SGD moves ~1e-4 in three steps
    other = type(attack)(dataclasses.replace(attack.params, eps=small / 10 if name == "HAG" else small))
    after = (_run(other, setup) - x).abs().max().item()
    assert after <= other.eps + 1e-7 and other.eps < before


@pytest.mark.parametrize("name", [n for n in ATTACKS if hasattr(ATTACKS[n](), "engine")])
def test_engine_is_built_from_the_parameters_at_call_time(name):
    attack = ATTACKS[name]()
    assert "engine" not in vars(attack), "the engine must not be cached on the attack"
    p = dataclasses.replace(attack.params, eps=attack.eps / 2, step_size=attack.step_size * 3,
                            steps=attack.steps + 5, schedule=None)
    engine = type(attack)(p).engine()
    assert isinstance(engine, LinfPGD)
    assert (engine.eps, engine.step_size, engine.steps, engine.schedule) == (p.eps, p.step_size, p.steps, None)
    if hasattr(p, "rule"):
        assert engine.rule is p.rule and engine.random_start == p.random_start


def test_parameters_are_frozen_and_validated():
    attack = SAATAttack(steps=2)
    with pytest.raises(AttributeError, match="replace"):
        attack.eps = 0.1
    with pytest.raises(dataclasses.FrozenInstanceError):
        attack.params.eps = 0.1
    assert attack.replace(eps=0.1).eps == 0.1 and attack.eps == 8 / 255
    with pytest.raises(ValueError, match="eps"):
        attack.replace(eps=-1.0)
    with pytest.raises(ValueError, match="step_size"):
        RestartPGDAttack(step_size=0.0)
    with pytest.raises(ValueError, match="reference_batch"):
        HAGAttack(reference_batch=0)
    with pytest.raises(TypeError, match="no parameter 'stpes'"):
        SAATAttack(stpes=3)
    with pytest.raises(TypeError, match="SAATParams"):
        SAATAttack(AnchorParams())


def test_saat_rule_parameters_are_in_the_key():
    """Two SAAT attacks differing only in VMI-FGSM's beta (or n) have different keys; equal
    parameters give equal keys."""
    base = SAATAttack(rule=VMIFGSM(), random_start=False)
    keys = {config_key(attack_key({}, a, 10, 100, 0)) for a in
            (base, SAATAttack(rule=VMIFGSM(beta=2.0), random_start=False),
             SAATAttack(rule=VMIFGSM(n=20), random_start=False))}
    assert len(keys) == 3
    assert attack_key({}, base, 10, 100, 0) == attack_key({}, SAATAttack(rule=make_rule("VMI-FGSM"),
                                                                         random_start=False), 10, 100, 0)
    assert base.config()["rule"] == {"name": "VMI-FGSM", "eps": None, "n": 5, "beta": 1.5, "decay": 1.0}
    assert SAATAttack(rule=VMIFGSM(beta=2.0)).config()["rule"]["beta"] == 2.0


def test_vmi_radius_follows_the_attack_eps(setup):
    """VMI-FGSM's neighbourhood (beta * eps) uses the attack's eps unless the rule sets its own."""
    attack = saat_variant("VMI-FGSM", steps=STEPS)
    own = attack.replace(rule=VMIFGSM(eps=attack.eps))
    assert torch.equal(_run(attack, setup), _run(own, setup))
    assert not torch.equal(_run(attack, setup), _run(attack.replace(rule=VMIFGSM(eps=attack.eps / 4)), setup))


def test_config_holds_every_field():
    for make in ATTACKS.values():
        attack = make()
        assert list(attack.config()) == [f.name for f in dataclasses.fields(attack.params)]


# --- keys of the book's attacks, pinned ---------------------------------------------------------

#: config_key(attack_key({}, attack, 10, 100, 0)) as computed before the parameters were explicit
PINNED_KEYS = {
    ("HAG", False, "default", None): "1fa4ffe4a7bdddc9",
    ("SDHA", False, "default", None): "3d39e9b57d400127",
    ("SAAT", False, "default", None): "1fefe5bce480a866",
    ("SAAT", True, "default", None): "7b42a15ff94a498e",
    ("P2P", True, "default", None): "4f4a52dd6e310891",
    ("DHTA", True, "default", None): "2c3fdb215bf2b611",
    # the paper profile's THA changed on purpose (issue 20): PrototypeNet batch 128 as released, not 32
    ("THA", True, "paper", None): "2cf4ea76aae810a4",
    ("THA", True, "default", None): "c2999a9a05db5716",
    ("P2P", True, "paper", None): "f625301df51ad2d5",  # per-query anchors as released (issue 20)
    ("SAAT", False, "paper", "VMI-FGSM"): "cc411692c3c22477",
    ("SAAT", False, "smoke", "DI-FGSM"): "d29bf0a759ed8e61",
}


@pytest.mark.parametrize("name, targeted, profile, rule", list(PINNED_KEYS))
def test_book_attack_keys_did_not_change(name, targeted, profile, rule):
    attack = build_attack(name, targeted, profile, rule=rule)
    assert config_key(attack_key({}, attack, 10, 100, 0)) == PINNED_KEYS[(name, targeted, profile, rule)]


def test_check_attack_key_did_not_change():
    assert config_key(attack_key({}, build_check_attack("default", "fashion-mnist"), 10, 100, 0)) == "6b65d362cb59341c"


def test_rule_names_are_defined_once():
    assert attack_pkg.RULE_NAMES is RULE_NAMES and registry.RULE_NAMES is RULE_NAMES
    assert not hasattr(registry, "RULES")
