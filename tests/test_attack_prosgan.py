"""ProS-GAN: network shapes at three image sizes, its losses against hand computations, the
bound, seeded and resumable training, and networks reloaded from the run store."""
from __future__ import annotations

import math

import pytest
import torch

from saatlib.attack.base import AttackContext
from saatlib.attack.prosgan import ProSGANAttack
from saatlib.attack.prosgan_nets import (Discriminator, Generator, LabelEncoder, ProSPrototypeNet, disc_depth,
                                         lsgan_loss, prosgan_prototype_loss, upsamplings)
from saatlib.attack.prosgan_train import adversarial_image, linear_decay_factor, train_prosgan
from saatlib.models import build_model

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = dict(epochs=1, decay_epochs=1, batch_size=8, gen_dim=4, res_blocks=1, label_dim=8, disc_dim=4,
            pnet_steps=4, pnet_hidden=16)


@pytest.mark.parametrize("channels,side,ups,depth", [(1, 28, 2, 2), (3, 56, 3, 3), (3, 224, 4, 5)])
def test_network_shapes_follow_the_image(channels, side, ups, depth):
    """28x28x1, 56x56x3 and the released 224x224x3 (label map from 14x14, four doublings; a 5-layer
    discriminator down to 7x7)."""
    assert upsamplings(side) == ups and disc_depth(side) == depth
    torch.manual_seed(0)
    gen = Generator(channels, side, dim=4, res_blocks=1, label_dim=16)
    disc = Discriminator(channels, side, num_classes=7, dim=4)
    x = torch.rand(2, channels, side, side) * 2 - 1
    f = torch.randn(2, 512)
    assert LabelEncoder(channels, side, 16)(f).shape == (2, channels, side, side)
    o = gen(x, f)
    assert o.shape == x.shape and o.abs().max() < 1
    assert disc(x).shape == (2, 8)
    if side == 224:
        assert LabelEncoder(3, 224).start == 14  # the released 128 x 14 x 14 label map


def test_released_generator_sizes():
    """At 224x224x3 and the default widths: 64 -> 128 -> 256 channels, 3 + 3 residual blocks."""
    gen = Generator(3, 224)
    convs = [m for m in gen.image_encoder if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256] and convs[0].in_channels == 6
    assert len(gen.image_encoder) == 9 + 3 and len(gen.decoder) == 3 + 6
    assert gen.residual[0].in_channels == 64 + 3


def test_prototype_loss_by_hand():
    g = torch.Generator().manual_seed(1)
    h = torch.rand(3, 4, generator=g) * 2 - 1
    pred = torch.rand(3, 5, generator=g)
    labels = torch.tensor([[1, 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 0, 1]], dtype=torch.float)
    codes = (torch.rand(6, 4, generator=g) > 0.5).float() * 2 - 1
    code_labels = torch.eye(5)[[0, 1, 2, 3, 4, 2]]
    pair = 0.0
    for i in range(3):
        for j in range(6):
            theta = sum(h[i, k].item() * codes[j, k].item() for k in range(4)) / 2
            s = 1.0 if any(labels[i, c] and code_labels[j, c] for c in range(5)) else 0.0
            pair -= s * theta - math.log(1 + math.exp(theta))
    pair /= 6 * 3
    mse = sum((pred[i, c].item() - labels[i, c].item()) ** 2 for i in range(3) for c in range(5)) / 15
    quant = sum((math.copysign(1, h[i, k].item()) - h[i, k].item()) ** 2 for i in range(3) for k in range(4)) / 3
    expected = pair + mse + 1e-4 * quant
    assert prosgan_prototype_loss(h, pred, labels, codes, code_labels).item() == pytest.approx(expected, rel=1e-5)


def test_lsgan_loss_targets_real_zero_fake_one():
    """The released GANLoss: target [labels, 0] for "real", [labels, 1] for "fake"."""
    pred = torch.tensor([[0.5, 0.2, 0.1]])
    y = torch.tensor([[1.0, 0.0]])
    assert lsgan_loss(pred, y, True).item() == pytest.approx((0.25 + 0.04 + 0.01) / 3)
    assert lsgan_loss(pred, y, False).item() == pytest.approx((0.25 + 0.04 + 0.81) / 3)


def test_linear_decay_is_the_released_schedule():
    """get_scheduler('linear') with n_epochs 50, n_epochs_decay 50, epoch_count 1."""
    assert [linear_decay_factor(e, 50, 50) for e in (0, 49)] == [1.0, 1.0]
    assert linear_decay_factor(50, 50, 50) == pytest.approx(1 - 1 / 51)
    assert linear_decay_factor(99, 50, 50) == pytest.approx(1 / 51)


def test_bound():
    x = torch.tensor([0.0, 0.5, 1.0, 0.99])
    o = torch.tensor([-1.0, 1.0, 1.0, 0.5])
    eps = 8 / 255
    assert torch.allclose(adversarial_image(o, x, eps, "linf"), torch.tensor([0.0, 0.5 + eps, 1.0, 1.0]))
    assert torch.equal(adversarial_image(o, x, eps, "none"), torch.tensor([0.0, 1.0, 1.0, 0.75]))


@pytest.fixture(scope="module")
def tiny():
    g = torch.Generator().manual_seed(0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_model("smallcnn", 16, in_channels=1).eval()
    images = torch.rand(40, 1, 28, 28, generator=g)
    labels = torch.eye(5)[torch.randint(5, (40,), generator=g)]
    codes = (torch.rand(40, 16, generator=g) > 0.5).float() * 2 - 1
    return model, images, labels, codes


def _train(tiny, seed=0, **kw):
    model, images, labels, codes = tiny
    params = ProSGANAttack(**{**TINY, **kw}).params
    return train_prosgan(model, images, labels, codes, labels, labels, params, seed, checkpoint=kw.get("ckpt"))


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_same_seed_same_generator(tiny):
    a, b, c = _train(tiny, 0), _train(tiny, 0), _train(tiny, 1)
    assert _same(a["generator"], b["generator"]) and _same(a["pnet"], b["pnet"])
    assert not _same(a["generator"], c["generator"])


def test_resumed_training_is_bit_identical(tiny, tmp_path):
    model, images, labels, codes = tiny
    params = ProSGANAttack(**TINY).params
    whole = train_prosgan(model, images, labels, codes, labels, labels, params, 0)
    ckpt = tmp_path / "checkpoint.pt"

    def stop(epoch, pnet, gen):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_prosgan(model, images, labels, codes, labels, labels, params, 0, checkpoint=ckpt, on_epoch=stop)
    assert torch.load(ckpt, weights_only=True)["epoch"] == 1
    resumed = train_prosgan(model, images, labels, codes, labels, labels, params, 0, checkpoint=ckpt)
    assert _same(whole["generator"], resumed["generator"]) and len(resumed["history"]) == 2


def test_examples_in_ball_and_box_and_released_bound_leaves_it(tiny):
    model, images, labels, codes = tiny
    ctx = AttackContext(codes, labels, codes, labels, seed=0, train_images=images)
    targets = torch.roll(labels[:6], 1, dims=1)
    attack = ProSGANAttack(**TINY)
    x_adv = attack(model, images[:6], targets, ctx)
    assert (x_adv - images[:6]).abs().max() <= attack.eps + 1e-6 and x_adv.min() >= 0 and x_adv.max() <= 1
    free = ProSGANAttack(**TINY, bound="none")
    assert (free(model, images[:6], targets, ctx) - images[:6]).abs().max() > 0.1
    # reference codes: the prototype codes of the target labels
    _, h, _ = attack.networks[0].heads(targets)
    assert torch.equal(attack.reference_codes(targets, ctx), torch.where(h >= 0, 1.0, -1.0))


def test_prototype_net_has_the_released_heads():
    net = ProSPrototypeNet(5, 16)
    f, h, c = net.heads(torch.eye(5)[:2])
    assert f.shape == (2, 512) and h.shape == (2, 16) and c.shape == (2, 5)
    assert net.feature[0].out_features == 4096 and 0 < c.min() and c.max() < 1


def test_networks_reloaded_from_the_store_give_identical_examples(tmp_path):
    from saatlib.attack.registry import build_attack
    from saatlib.experiments.attacks import hash_targets, model_codes, query_batch
    from saatlib.experiments.hash_models import get_hash_model, hashing_config, load_data
    from saatlib.experiments.prosgan import prosgan_key, prosgan_networks
    from saatlib.store import RunStore

    store = RunStore(tmp_path)
    cfg = hashing_config("fashion-mnist", "DPH", 16, "smoke")
    splits = load_data(cfg)
    model, _ = get_hash_model(cfg, splits, store, progress=False)
    codes = model_codes(cfg, model, splits, store)
    x, _ = query_batch(splits, 8)
    targets = hash_targets(cfg, store, codes)[:8]
    first, second = build_attack("ProS-GAN", True, "smoke"), build_attack("ProS-GAN", True, "smoke")
    trained = prosgan_networks(first, model, cfg, codes, splits, store, progress=False)
    loaded = prosgan_networks(second, model, cfg, codes, splits, store, progress=False)
    assert not trained["cached"] and loaded["cached"]
    assert not (store.path("prosgan", prosgan_key(cfg, first)) / "checkpoint.pt").exists()
    ctx = AttackContext(codes["train_codes"], codes["train_labels"], codes["db_codes"], codes["db_labels"])
    assert torch.equal(first(model, x, targets, ctx), second(model, x, targets, ctx))
    # ProS-GAN's own scoring: the same stored networks, the whole database, unrestricted targets
    from saatlib.experiments.prosgan import prosgan_own_scoring, unrestricted_targets
    own = prosgan_own_scoring(cfg, build_attack("ProS-GAN", True, "smoke"), "smoke", 8, store)
    assert own["topk"] is None and own["num_queries"] == 8 and not own["cached"]
    from saatlib.attack.evaluate import codes_of
    from saatlib.metrics import mean_average_precision
    t = unrestricted_targets(8, codes["db_labels"], cfg["seed"])
    adv = codes_of(model, first(model, x, t, ctx))
    assert own["map_adversarial"] == pytest.approx(mean_average_precision(adv, codes["db_codes"], t,
                                                                          codes["db_labels"], topk=None))
    assert prosgan_own_scoring(cfg, build_attack("ProS-GAN", True, "smoke"), "smoke", 8, store)["cached"]


def test_attack_cli_runs_prosgan(tmp_path):
    """``python -m saatlib attack --method ProS-GAN --targeted`` (smoke profile): trains, attacks, scores."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "saatlib", "attack", "--profile", "smoke", "--bits", "16",
                          "--hash-method", "DPH", "--method", "ProS-GAN", "--targeted", "--json", "--no-progress",
                          "--runs-dir", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert row["attack"] == "ProS-GAN" and row["targeted"] is True
    assert row["perceptibility"]["linf"] <= 8 / 255 + 1e-6 and 0 <= row["map_adversarial"] <= 1


def test_unrestricted_targets_are_uniform_over_the_unique_database_label_vectors():
    """ProS-GAN's own scoring draws every target from database_labels.unique(dim=0), whether or not it
    shares a label with the query: over 3000 draws from 3 vectors each comes up about a third of the time."""
    from saatlib.experiments.prosgan import unrestricted_targets

    db = torch.tensor([[1.0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 0], [0, 1, 0]])
    t = unrestricted_targets(3000, db, seed=2)
    assert torch.equal(t, unrestricted_targets(3000, db, seed=2))
    counts = [int((t == row).all(1).sum()) for row in torch.unique(db, dim=0)]
    assert sum(counts) == 3000 and all(900 < c < 1100 for c in counts)


def test_perceptibility_beside_score_lists_each_targeted_row():
    from saatlib.report.tables import perceptibility_beside_score

    def result(score, linf, l2):
        return {"map_adversarial": score, "perceptibility": {"linf": linf, "l2": l2, "mse": 0.0}}

    results = {("SAAT", True): result(0.5, 0.031, 0.4), ("ProS-GAN", True): result(0.2, 0.9, 3.0),
               ("SAAT", False): result(0.1, 0.031, 0.5)}
    assert perceptibility_beside_score(results) == {"SAAT-targeted": {"score": 0.5, "linf": 0.031, "l2": 0.4},
                                                    "ProS-GAN": {"score": 0.2, "linf": 0.9, "l2": 3.0}}
    assert list(perceptibility_beside_score(results, targeted=False)) == ["SAAT"]
