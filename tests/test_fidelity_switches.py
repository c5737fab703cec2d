"""Each fidelity switch (saatlib.fidelity): a small hand-computed case where its two
settings differ, and the released setting gives the released value; the collapse
guard of the evaluation."""
import pytest
import torch

from saatlib import fidelity
from saatlib.attack.base import AttackContext
from saatlib.attack.evaluate import evaluate_attack
from saatlib.attack.hag import HAGAttack
from saatlib.data import data_loader
from saatlib.hashing.losses import build_loss
from saatlib.metrics import code_diversity, collapse_status, database_diversity
from saatlib.experiments.hash_models import hashing_config, load_data
from saatlib.profiles import get_profile
from saatlib.defense.registry import DEFENSES, defense_params
from saatlib.report.tables import table2_row
from saatlib.report.verdicts import defense_verdicts

pytestmark = pytest.mark.usefixtures("one_thread")


# --- loss_pairs ---------------------------------------------------------------------------------

def test_dph_over_seen_items_and_over_all_items_hand_worked():
    """N = 3, K = 2, one item seen: h = (0.5, -0.5) with label (1, 0) at index 0.
    seen: the pair (0, 0): h.h / K = 0.25, s = +1 -> (0.25 - 1)^2 = 0.5625.
    all (released dph.py: sum / (N B)): two zero rows, s = -1 -> (0 + 1)^2 = 1 each;
    (0.5625 + 1 + 1) / 3 = 0.8541666."""
    h, y, idx = torch.tensor([[0.5, -0.5]]), torch.tensor([[1.0, 0.0]]), torch.tensor([0])
    seen = build_loss("DPH", 3, 2, 2, pairs="seen")(h, y, idx)[0]
    every = build_loss("DPH", 3, 2, 2, pairs="all")(h, y, idx)[0]
    assert seen.item() == pytest.approx(0.5625)
    assert every.item() == pytest.approx((0.5625 + 2) / 3)


def test_dpsh_quantisation_is_divided_by_all_items_when_released():
    """DPSH's eta * ||sign(h) - h||^2 / (B N): with h = (0.5, -0.5), ||.||^2 = 0.5, eta = 50,
    B = 1: seen (N' = 1) 25, all (N = 4) 6.25."""
    h, y, idx = torch.tensor([[0.5, -0.5]]), torch.tensor([[1.0, 0.0]]), torch.tensor([0])
    q_seen = build_loss("DPSH", 4, 2, 2, pairs="seen")(h, y, idx)[1]["quantization"]
    q_all = build_loss("DPSH", 4, 2, 2, pairs="all")(h, y, idx)[1]["quantization"]
    assert q_seen.item() == pytest.approx(25.0) and q_all.item() == pytest.approx(6.25)


def test_the_paper_profile_trains_on_all_pairs_and_default_keys_are_unchanged():
    assert hashing_config("fashion-mnist", "DPH", 32, "paper")["train"]["loss_pairs"] == "all"
    assert "loss_pairs" not in hashing_config("fashion-mnist", "DPH", 32, "default")["train"]
    with pytest.raises(ValueError, match="released"):
        build_loss("DPH", 3, 2, 2, pairs="everything")


# --- defenses: attack_mode and code_buffer --------------------------------------------------------

class ModeRecorder(torch.nn.Module):
    """A tiny hash model that records its training flag at every forward call."""

    def __init__(self, bits=4, side=8):
        super().__init__()
        self.bits = bits
        self.fc = torch.nn.Linear(side * side, bits)
        self.modes: list[bool] = []

    def forward(self, x, alpha=1.0):
        self.modes.append(self.training)
        return torch.tanh(alpha * self.fc(x.flatten(1)))


@pytest.fixture(scope="module")
def tiny_train_set():
    cfg = hashing_config("fashion-mnist", "DPH", 4, "smoke", num_query=10, num_database=60, num_train=40,
                         image_size=8)
    return load_data(cfg).train


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_inner_maximisation_runs_in_the_chosen_mode(tiny_train_set, mode):
    torch.manual_seed(0)
    model = ModeRecorder()
    defense = DEFENSES["SAAT"](model, tiny_train_set, "DPH", {"attack_mode": mode, "steps": 3, "epochs": 1})
    x, _, _ = next(iter(data_loader(tiny_train_set, 8)))
    model.train()
    model.modes.clear()
    defense.perturb(x, lambda h: h.mean())
    assert model.modes == [mode == "train"] * 3
    assert model.training  # the engine restores the caller's mode


@pytest.mark.parametrize("method", ["SAAT", "CgAT"])
def test_aliased_code_buffer_holds_relaxed_codes_as_released(tiny_train_set, method):
    """Released: U_ben and the loss's U are one tensor; after a step the batch's rows hold
    the relaxed outputs, and the next centres are computed from them."""
    x, y, idx = next(iter(data_loader(tiny_train_set, 8)))
    out = {}
    for buffer in ("signed", "aliased"):
        torch.manual_seed(0)
        model = ModeRecorder()
        d = DEFENSES[method](model, tiny_train_set, "DPH", {"code_buffer": buffer, "steps": 2, "epochs": 1})
        d.total_steps = 1
        d.train_step(x, y, idx, 0)
        rows = d.codes[idx]
        out[buffer] = (d, rows)
        if buffer == "aliased":
            assert d.codes.data_ptr() == d.loss_fn.U.data_ptr()
            assert ((rows.abs() - 1).abs() > 1e-3).any(), "relaxed outputs, not signs, in the batch's rows"
            assert torch.allclose(d.centres(y), DEFENSES[method].centres(d, y))
        else:
            assert set(rows.unique().tolist()) <= {-1.0, 1.0}
            assert d.codes.data_ptr() != d.loss_fn.U.data_ptr()
    assert not torch.equal(out["signed"][1], out["aliased"][1])


def test_paper_profile_uses_the_released_defense_settings():
    for method in ("SAAT", "CgAT"):
        p = defense_params(method, "paper", "fashion-mnist")
        assert p["attack_mode"] == "train" and p["code_buffer"] == "aliased"
        d = defense_params(method, "default", "fashion-mnist")
        assert d["attack_mode"] == "eval" and d["code_buffer"] == "signed"
    assert defense_params("ATRDH", "paper", "fashion-mnist")["attack_mode"] == "train"


def test_a_bad_code_buffer_value_is_refused(tiny_train_set):
    with pytest.raises(ValueError, match="aliased"):
        DEFENSES["SAAT"](ModeRecorder(), tiny_train_set, "DPH", {"code_buffer": "shared", "epochs": 1})


# --- the ledger -----------------------------------------------------------------------------------

def test_every_ledger_switch_is_set_by_the_paper_profile_as_stated():
    """For each row with a switch, the paper profile's value is the one the ledger states."""
    prof = get_profile("paper")
    for row in fidelity.LEDGER:
        if row.switch is None or row.paper_value is None:
            continue
        assert fidelity.profile_value(row, "paper") == row.paper_value, row.name
        assert fidelity.profile_value(row, "default") == row.default_value, row.name
    assert prof["hashing"]["loss_pairs"] == "all"


# --- collapse guard -------------------------------------------------------------------------------

def test_code_diversity_hand_worked():
    codes = torch.tensor([[1.0, 1, -1], [1, 1, -1], [1, -1, -1], [1, -1, 1]])
    d = code_diversity(codes)
    # distinct rows: 3; bit 0 constant; |means| = (1, 0, 0.5) -> balance 0.5
    assert d == {"num_codes": 4, "distinct": 3, "constant_bits": 1, "bit_balance": 0.5}
    assert collapse_status(d, 3, 3) == "ok"
    assert collapse_status(d, 3, 4) == "near-collapsed"
    assert collapse_status(code_diversity(codes[:1].repeat(5, 1)), 3, 2) == "collapsed"


class OneCode(torch.nn.Module):
    """A model forced to emit one code whatever the image (a collapsed defense)."""

    bits = 8

    def __init__(self):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.linspace(-1, 1, 8))
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, alpha=1.0):
        return torch.tanh(alpha * (self.bias + 0 * self.w * x.flatten(1).sum(1, keepdim=True)))


def test_a_model_emitting_one_code_is_flagged_collapsed():
    g = torch.Generator().manual_seed(0)
    model = OneCode()
    x = torch.rand(6, 1, 8, 8, generator=g)
    labels = torch.eye(3)[torch.arange(6) % 3]
    with torch.no_grad():
        codes = torch.sign(model(torch.rand(30, 1, 8, 8, generator=g)))
    db_labels = torch.eye(3)[torch.arange(30) % 3]
    context = AttackContext(codes, db_labels, codes, db_labels)
    r = evaluate_attack(model, HAGAttack(steps=2), x, labels, context, topk=10)
    assert r["diversity"]["database"]["status"] == "collapsed"
    assert r["diversity"]["adversarial"]["distinct"] == 1
    assert r["map_adversarial"] == r["map_benign"]  # what a table would show as "perfectly robust"
    assert database_diversity(codes, db_labels)["label_sets"] == 3


def test_table2_row_of_a_collapsed_model_reports_no_robustness():
    result = {"defense": "SAAT", "map_benign": 0.1, "map_under_attack": {"HAG": 0.1, "SAAT": 0.1},
              "status": "collapsed"}
    row = table2_row(result)
    assert row == {"Original": 0.1, "HAG": None, "SAAT": None}
    verdict = defense_verdicts({"SAAT": row, "ATRDH": {"HAG": 0.05, "SAAT": 0.04}, "none": {"SAAT": 0.02}},
                               attacks=("HAG", "SAAT"))
    assert verdict["saat_beats_atrdh"] is None and verdict["saat_doubles_none"] is None
    ok = table2_row(dict(result, status="ok"))
    assert ok["SAAT"] == 0.1


def test_fidelity_page_is_generated_from_the_ledger():
    """FIDELITY.md is what ledger_markdown renders from the code and the measured effects."""
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "FIDELITY.md"
    assert page.read_text(encoding="utf-8") == fidelity.ledger_markdown()
    names = {e["name"] for e in fidelity.load_effects()["effects"]}
    assert names == {r.name for r in fidelity.LEDGER if r.switch is not None}, "every switch has a measured effect"


def test_ledger_list_has_every_row_and_its_effects():
    text = fidelity.ledger_list_markdown()
    for row in fidelity.LEDGER:
        assert f"**{row.topic}**" in text
    effects = fidelity.load_effects()
    for e in effects["effects"]:
        assert fidelity.effect_text(e, effects["meta"].get("date")) in text
