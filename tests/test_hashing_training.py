"""Training and encoding in the smoke profile: learns, is repeatable, caches."""
import pytest
import torch

from saatlib.hashing import encode
from saatlib.experiments.hash_models import get_hash_model, hashing_config, load_data, train_and_evaluate
from saatlib.store import RunStore


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("runs"))
    cfg = hashing_config("fashion-mnist", "CSQ", 16, "smoke", seed=0)
    return store, cfg, train_and_evaluate(cfg, store, progress=False, topk=100)


def test_smoke_training_learns_well_above_chance(smoke_run):
    _, _, record = smoke_run
    # chance MAP on 10 balanced classes is about 0.1
    assert 0.4 < record["map"] <= 1.0
    losses = [h["loss"] for h in record["history"]]
    assert losses[-1] < losses[0]


def test_second_request_loads_the_same_model(smoke_run):
    store, cfg, record = smoke_run
    again = train_and_evaluate(cfg, store, progress=False, topk=100)
    assert again["cached"] and not record["cached"]
    assert again["map"] == record["map"]


def test_same_seed_same_codes_and_map(smoke_run, tmp_path):
    _, cfg, record = smoke_run
    other = train_and_evaluate(cfg, RunStore(tmp_path), progress=False, topk=100)
    assert not other["cached"] and other["map"] == record["map"]
    splits = load_data(cfg)
    m1, _ = get_hash_model(cfg, splits, RunStore(tmp_path), progress=False)
    m2, _ = get_hash_model(cfg, splits, smoke_run[0], progress=False)
    assert torch.equal(encode(m1, splits.query)[0], encode(m2, splits.query)[0])



def test_different_seed_different_protocol_model_and_codes(smoke_run, tmp_path):
    """The seed is live: another seed draws other queries, initialises and trains another model."""
    store, cfg, record = smoke_run
    other_cfg = hashing_config("fashion-mnist", "CSQ", 16, "smoke", seed=1)
    other = train_and_evaluate(other_cfg, RunStore(tmp_path), progress=False, topk=100)
    splits, other_splits = load_data(cfg), load_data(other_cfg)
    assert not torch.equal(splits.query.labels, other_splits.query.labels)
    m0, _ = get_hash_model(cfg, splits, store, progress=False)
    m1, _ = get_hash_model(other_cfg, other_splits, RunStore(tmp_path), progress=False)
    for (name, w0), (_, w1) in zip(m0.named_parameters(), m1.named_parameters()):
        assert not torch.equal(w0, w1), name
    assert not torch.equal(encode(m0, splits.query)[0], encode(m1, splits.query)[0])
    assert other["map"] != record["map"]

def test_encode_is_plus_minus_one_and_restores_mode(smoke_run):
    store, cfg, _ = smoke_run
    splits = load_data(cfg)
    model, _ = get_hash_model(cfg, splits, store, progress=False)
    model.train()
    codes, labels = encode(model, splits.query, batch_size=33)
    assert model.training
    assert codes.shape == (len(splits.query), 16) and set(codes.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(labels, splits.query.labels)


def test_config_validation():
    with pytest.raises(ValueError, match="bit length"):
        hashing_config(bits=3)
    with pytest.raises(ValueError, match="unknown override"):
        hashing_config(epoch=3)
    with pytest.raises(ValueError, match="profile"):
        hashing_config(profile="fast")
