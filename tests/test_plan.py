"""The plan of a run (saatlib.experiments.plan, saatlib.report.plan): stage counts against
the arithmetic of the protocol, estimates against a given calibration, the status of each
stage as the run store fills (to do, resume after an interrupted epoch, done), and the
calibration itself."""
import pytest
import torch

from saatlib.experiments.attacks import run_attack
from saatlib.experiments.hash_models import get_hash_model, hashing_config, load_data
from saatlib.experiments.plan import STEP_KINDS, calibrate, plan_run
from saatlib.profiles import get_profile
from saatlib.report.plan import StageClock, format_seconds, plan_markdown
from saatlib.store import RunStore

pytestmark = pytest.mark.usefixtures("one_thread")
TINY = dict(num_query=12, num_database=100, num_train=70, epochs=2, batch_size=32)
CAL = {"train": 1e-3, "attack": 2e-3, "forward": 1e-4, "pnet": 1e-2, "device": "cpu", "device_name": "CPU",
       "image_size": [1, 28, 28], "backbone": "smallcnn", "batch": 32, "torch_threads": 1}
ATTACKS = [("SAAT", "SAAT", False), ("THA", "THA", True)]


class Stop(Exception):
    pass


def make_plan(store, cfg, splits, **kw):
    return plan_run([cfg], ATTACKS, "smoke", store, defenses=["SAAT"], defense_attacks=["HAG"], steps=3,
                    num_queries=5, topk=20, calibration=CAL, attack_overrides={"pnet_steps": 4}, splits=splits, **kw)


def test_stage_counts_estimates_and_status(tmp_path):
    store = RunStore(tmp_path)
    cfg = hashing_config("fashion-mnist", "DPH", 16, "smoke", **TINY)
    splits = load_data(cfg)
    plan = make_plan(store, cfg, splits)
    labels = [s.label for s in plan.stages]
    assert labels == ["train DPH victim, 16 bits", "encode train, database, queries, 16 bits",
                      "attack SAAT, 16 bits", "attack THA, 16 bits", "defend SAAT, 16 bits",
                      "SAAT-defended under HAG, 16 bits"]
    victim, encode, saat, tha, defend, under = plan.stages
    trained = 2 * (70 // 32) * 32  # epochs x whole batches x batch: 128 images
    assert (victim.images, victim.forward, victim.backward) == (trained, trained, trained)
    assert victim.seconds == pytest.approx(trained * 1e-3) and victim.status == "to do"
    assert encode.forward == 70 + 100 + 12 and encode.seconds == pytest.approx(182 * 1e-4)
    assert (saat.images, saat.backward) == (5 * 3, 5 * 3)
    assert saat.seconds == pytest.approx(15 * 2e-3 + 10 * 1e-4)
    assert tha.seconds == pytest.approx(15 * 2e-3 + 10 * 1e-4 + 4 * 1e-2)
    inner = get_profile("smoke")["defense"]["common"]["steps"]  # 2-step inner PGD, then benign + adversarial
    d_epochs = get_profile("smoke")["defense"]["SAAT"]["epochs"]
    d_images = d_epochs * (70 // 32) * 32
    assert (defend.images, defend.forward) == (d_images, d_images * (inner + 2))
    assert defend.seconds == pytest.approx(d_images * (inner * 2e-3 + 2 * 1e-3))
    q_def = get_profile("smoke")["defense"]["eval"]["num_queries"]
    assert under.images == min(5, q_def) * 3
    assert plan.total_seconds == pytest.approx(sum(s.seconds for s in plan.stages))
    assert plan.sizes["num_train"] == 70 and plan.sizes["attacked_queries"] == 5

    def stop(epoch, record):
        raise Stop

    with pytest.raises(Stop):  # interrupted after its first epoch: a checkpoint is left
        get_hash_model(cfg, splits, store, progress=False, callback=stop)
    victim = make_plan(store, cfg, splits).stages[0]
    assert victim.status == "resume after epoch 1" and victim.seconds == pytest.approx(trained / 2 * 1e-3)
    get_hash_model(cfg, splits, store, progress=False)
    run_attack(cfg, "SAAT", profile="smoke", steps=3, num_queries=5, topk=20, store=store, progress=False)
    plan = make_plan(store, cfg, splits)
    assert [s.status for s in plan.stages] == ["done", "done", "done", "to do", "to do", "to do"]
    assert plan.stages[2].seconds == 0.0

    text = plan_markdown(plan, "Plan: tiny")
    assert text.startswith("# Plan: tiny") and "| attack THA | 16 | 15 |" in text
    assert "6 stages, 3 to run" in text and "Calibrated on CPU (cpu, 1 torch threads), smallcnn at 28x28" in text
    said = []
    clock = StageClock(plan, said.append)
    clock.start("attack THA, 16 bits")
    assert said[0].startswith("[stage 4/6] attack THA, 16 bits: estimated")


def test_calibration_times_every_kind_of_step():
    cal = calibrate("smallcnn", 16, (1, 28, 28), 10, 100, batch_size=8, seconds=0.05, widths=[8, 8, 8])
    assert all(cal[k] > 0 for k in STEP_KINDS)
    assert cal["forward"] < cal["train"]  # a no-grad forward is cheaper than a training step
    assert cal["image_size"] == [1, 28, 28] and cal["device"] == "cpu"


def test_calibration_leaves_the_rng_alone():
    state = torch.get_rng_state()
    calibrate("smallcnn", 8, (1, 16, 16), 4, 20, batch_size=4, seconds=0.01, widths=[4, 4, 4])
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("seconds, text", [(None, "–"), (0, "0 s"), (59.4, "59 s"), (61, "1 min 1 s"),
                                           (3700, "1 h 1 min"), (90000, "1 d 1 h")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_paper_plan_at_nus_wide_size(tmp_path):
    from saatlib.report.plan import paper_plan
    cal = dict(CAL, backbone="alexnet", image_size=[3, 224, 224])
    plan, text = paper_plan("NUS-WIDE", bits=(32,), store=RunStore(tmp_path), calibration=cal)
    assert plan.sizes["num_train"] == 10500 and plan.sizes["num_database"] == 193734
    assert plan.sizes["attacked_queries"] == 2100 and plan.sizes["topk"] == 5000
    victim = plan.stages[0]
    assert victim.images == 100 * (10500 // 32) * 32  # the paper: 100 epochs of batch 32
    hag = next(s for s in plan.stages if s.what == "attack HAG")
    assert hag.images == 2100 * 2000  # every query, 2,000 iterations
    tha = next(s for s in plan.stages if s.what == "attack THA")
    assert tha.steps["pnet"] == 30000
    saat_def = next(s for s in plan.stages if s.what == "defend SAAT")
    assert saat_def.forward == 20 * (10500 // 32) * 32 * (7 + 2)  # 20 epochs, 7-step inner PGD + 2 passes
    # ProS-GAN: 100 epochs over the training set (released sizes), then one generator pass per query
    pros = next(s for s in plan.stages if s.what.startswith("attack ProS-GAN"))
    assert pros.images == 100 * 10500 + 2100 and pros.steps["pnet"] == 30000
    assert len(plan.stages) == 1 + 1 + 8 + 2 * (1 + 3) and "alexnet at 224x224" in text
