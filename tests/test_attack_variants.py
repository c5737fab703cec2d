"""Update rules of the transfer-style generators (BIM, DI-, NI-, SINI-, VMI-FGSM)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from saatlib.attack.engine import SAAT_SCHEDULE, LinfPGD, UpdateRule, tanh_scale
from saatlib.attack.saat import SAATAttack, mainstay_loss
from saatlib.attack.variants import (BIM, DIFGSM, NIFGSM, RULE_NAMES, SINIFGSM, VMIFGSM, diverse_input, make_rule,
                                     rule_random_start, saat_variant)
from saatlib.models import build_model

EPS, STEP, STEPS = 8 / 255, 1 / 255, 4


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def setup():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_model("smallcnn", 16, in_channels=1).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 1, 28, 28, generator=g)
    target = torch.randint(0, 2, (3, 16), generator=g).float() * 2 - 1
    return model, x, (lambda h: mainstay_loss(h, target, False))


def _perturb(rule, setup, random_start=False, seed=0):
    model, x, objective = setup
    engine = LinfPGD(EPS, STEP, STEPS, random_start, SAAT_SCHEDULE, rule)
    return engine.perturb(model, x, objective, torch.Generator().manual_seed(seed))


def test_factory_names_and_random_starts():
    kinds = {"PGD": UpdateRule, "BIM": BIM, "DI-FGSM": DIFGSM, "NI-FGSM": NIFGSM, "SINI-FGSM": SINIFGSM,
             "VMI-FGSM": VMIFGSM}
    assert tuple(kinds) == RULE_NAMES
    for name, kind in kinds.items():
        rule = make_rule(name)
        assert type(rule) is kind and rule.name == name
        attack = saat_variant(name, steps=2)
        assert attack.random_start == (name in ("PGD", "DI-FGSM")) == rule_random_start(rule)
        assert attack.name == ("SAAT" if name == "PGD" else f"SAAT-{name}")
    assert type(make_rule("vmi_fgsm")) is VMIFGSM and make_rule("VMI-FGSM", eps=0.1).eps == 0.1


@pytest.mark.parametrize("call, match", [
    (lambda: make_rule("FGSM"), "unknown update rule"), (lambda: make_rule("BIM", decay=1.0), "no options"),
    (lambda: DIFGSM(p=1.5), "p "), (lambda: DIFGSM(resize_rate=1.0), "resize_rate"),
    (lambda: NIFGSM(decay=-1), "decay"),
    (lambda: SINIFGSM(m=0), "m "), (lambda: SINIFGSM(scaling="x"), "scaling"), (lambda: VMIFGSM(n=0), "n "),
    (lambda: VMIFGSM(beta=-1), "beta"),
])
def test_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("size, top, left", [(25, 0, 2), (26, 1, 0), (27, 0, 0), (25, 2, 1)])
def test_diverse_input_is_resize_then_pad(size, top, left):
    x = torch.rand(2, 3, 28, 28, generator=torch.Generator().manual_seed(size))
    want = F.pad(F.interpolate(x, size=[size, size], mode="bilinear", align_corners=False),
                 [left, 28 - size - left, top, 28 - size - top], value=0)
    got = diverse_input(x, torch.tensor(float(size)), torch.tensor(float(top)), torch.tensor(float(left)))
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)


def test_degenerate_rules_reduce_to_pgd_and_bim(setup):
    pgd = _perturb(UpdateRule(), setup, random_start=True, seed=3)
    assert torch.equal(_perturb(DIFGSM(p=0.0), setup, random_start=True, seed=3), pgd)
    bim = _perturb(BIM(), setup)
    for rule in (NIFGSM(decay=0.0), SINIFGSM(m=1, decay=0.0), VMIFGSM(beta=0.0, decay=0.0, n=1)):
        torch.testing.assert_close(_perturb(rule, setup), bim, rtol=0, atol=1e-7)
    assert not torch.equal(_perturb(DIFGSM(p=1.0), setup, random_start=True, seed=3), pgd)


def _normalised(g):
    return g / g.abs().mean(dim=(1, 2, 3), keepdim=True)


def _released_style(setup, kind, decay=1.0, m=5, n=5, beta=1.5, seed=0):
    """The released generators' loops (ascent on cost = -loss), written out for comparison."""
    model, x, objective = setup
    gen = torch.Generator().manual_seed(seed)
    momentum, variance, adv = torch.zeros_like(x), torch.zeros_like(x), x.clone()

    def grad_cost(z, alpha):
        z = z.detach().requires_grad_(True)
        return torch.autograd.grad(-objective(model(z, alpha)), [z])[0]

    for i in range(STEPS):
        alpha = tanh_scale(i, STEPS)
        if kind == "NI":
            g = grad_cost(adv + decay * STEP * momentum, alpha)
            momentum = decay * momentum + _normalised(g)
        elif kind == "SINI":
            nes, total = adv + decay * STEP * momentum, torch.zeros_like(x)
            for j in range(m):
                nes = nes / 2 ** j
                total = total + grad_cost(nes, alpha)
            momentum = decay * momentum + _normalised(total / m)
        else:  # VMI
            g = grad_cost(adv, alpha)
            momentum = decay * momentum + _normalised(g + variance)
            neighbours = torch.zeros_like(x)
            for _ in range(n):
                noise = torch.rand(x.shape, generator=gen)
                neighbours = neighbours + grad_cost(adv + (2 * noise - 1) * beta * EPS, alpha)
            variance = neighbours / n - g
        adv = adv + STEP * momentum.sign()
        adv = (x + (adv - x).clamp(-EPS, EPS)).clamp(0, 1)
    return adv


@pytest.mark.parametrize("kind, rule", [("NI", NIFGSM()), ("SINI", SINIFGSM()), ("VMI", VMIFGSM(eps=EPS))])
def test_rules_match_the_released_loops(kind, rule, setup):
    torch.testing.assert_close(_perturb(rule, setup), _released_style(setup, kind), rtol=0, atol=1e-6)


def test_sini_paper_scaling_differs_from_released(setup):
    assert SINIFGSM(scaling="paper").divisors() == [1, 2, 4, 8, 16]
    assert SINIFGSM().divisors() == [1, 2, 8, 64, 1024]


def test_rule_instances_are_reusable(setup):
    rule = NIFGSM()
    first = _perturb(rule, setup)
    assert torch.equal(_perturb(rule, setup), first)  # state reset between calls


def test_saat_attack_with_rule(setup):
    model, x, _ = setup
    from saatlib.attack.base import AttackContext

    g = torch.Generator().manual_seed(2)
    codes = torch.randint(0, 2, (20, 16), generator=g).float() * 2 - 1
    labels = torch.eye(4)[torch.randint(4, (20,), generator=g)]
    context = AttackContext(codes, labels, codes, labels)
    attack = SAATAttack(steps=2, rule=make_rule("DI-FGSM"))
    x_adv = attack(model, x, torch.eye(4)[:3], context, torch.Generator().manual_seed(0))
    assert (x_adv - x).abs().max() <= EPS + 1e-6 and attack.config()["rule"]["name"] == "DI-FGSM"
