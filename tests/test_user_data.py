"""A user's own data as they name it: every command takes ``--image-size`` (default: the
backbone's natural size, the images' own for the small CNN), outputs name the set by its
folder or ``--name``, ImageNet weights come from a local file, and ``--random-init``
never tries a download. Keys of runs that name no size stay what they were."""
import json
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from saatlib.cli import main
from saatlib.experiments.hash_models import hashing_config, load_data, natural_image_size
from saatlib.models import pretrained as pretrained_mod
from saatlib.models.pretrained import install_weights, pretrained_available, weights_cache_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from listfile_tools import make_multilabel_listfile  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    # 20 rows x 26 columns: the images' own side (shorter) is 20
    return make_multilabel_listfile(tmp_path_factory.mktemp("user") / "MyPhotos", n=48, size=20, width=26,
                                    train=32)


def test_default_image_size_is_the_backbones_natural_one(photos):
    small = hashing_config("listfile", "DPH", 16, "smoke", data_dir=str(photos), backbone="smallcnn")
    assert small["data"]["image_size"] == 20 and natural_image_size("listfile", "smallcnn", str(photos)) == 20
    assert load_data(small).query.image_shape == (3, 20, 20)
    alex = hashing_config("listfile", "DPH", 16, "smoke", data_dir=str(photos), backbone="alexnet")
    assert "image_size" not in alex["data"] and load_data(alex).query.image_shape == (3, 224, 224)
    assert hashing_config("fashion-mnist", "DPH", 16, "paper")["data"]["image_size"] == 224
    named = hashing_config("listfile", "DPH", 16, "smoke", data_dir=str(photos), backbone="alexnet", image_size=64)
    assert named["data"]["image_size"] == 64


@pytest.mark.parametrize("profile", ["smoke", "default"])
def test_book_profiles_keep_their_data_keys(profile):
    data = hashing_config("fashion-mnist", "CSQ", 32, profile)["data"]
    assert "image_size" not in data  # the loader's default, as before: the keys did not change
    # the mosaics are resized from their own 56x56 to 28x28, which the key says (it differs from the loader's)
    config = hashing_config("fashion-mnist-mosaics", "CSQ", 32, profile)
    assert config["data"]["image_size"] == 28
    assert load_data(config).query.image_shape == (1, 28, 28)
    assert load_data(hashing_config("fashion-mnist-mosaics", "CSQ", 32, profile, image_size=56)).query.image_shape \
        == (1, 56, 56)


def run_json(argv, capsys):
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_and_attack_take_the_image_size_and_name_the_set_by_its_folder(photos, tmp_path, capsys):
    common = ["--dataset", "listfile", "--data-dir", str(photos), "--profile", "smoke", "--bits", "8",
              "--runs-dir", str(tmp_path), "--no-progress", "--json", "--device", "cpu"]
    row = run_json(["train", *common, "--method", "DPH", "--epochs", "1", "--image-size", "12", "--topk", "10"],
                   capsys)
    assert row["dataset"] == "MyPhotos"
    cfg = hashing_config("listfile", "DPH", 8, "smoke", data_dir=str(photos), epochs=1, image_size=12)
    assert cfg["data"]["image_size"] == 12
    from saatlib.experiments.hash_models import HASH_KIND
    from saatlib.store import RunStore
    assert RunStore(tmp_path).has(HASH_KIND, cfg)  # trained at 12 px, not at the images' own 20
    row = run_json(["attack", *common, "--method", "SAAT", "--steps", "2", "--num-queries", "4", "--topk", "10",
                    "--image-size", "12", "--name", "Holiday"], capsys)
    assert row["dataset"] == "Holiday" and row["num_queries"] == 4


def test_random_init_never_tries_a_download(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def no_download(*args, **kwargs):
        raise AssertionError("a download was tried")

    monkeypatch.setattr(pretrained_mod, "load_torchvision_model", no_download)
    assert pretrained_available("alexnet", random_init=True) is False
    assert pretrained_available("smallcnn") is False


def test_missing_weights_say_where_to_put_them_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    code = main(["train", "--profile", "paper", "--dataset", "fashion-mnist", "--runs-dir", str(tmp_path / "r"),
                 "--device", "cpu"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(err) == 1
    assert weights_cache_path("alexnet")[1] in err[0] and "--random-init" in err[0]


def test_weights_from_a_local_file(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    torch.manual_seed(0)
    state = torchvision.models.get_model("resnet18", weights=None).state_dict()
    good = tmp_path / "resnet18.pth"
    torch.save(state, good)
    bad = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, bad)
    with pytest.raises(ValueError, match="not a state_dict"):
        install_weights("resnet18", bad)
    with pytest.raises(FileNotFoundError):
        install_weights("resnet18", tmp_path / "absent.pth")
    dest = install_weights("resnet18", good)
    assert dest == weights_cache_path("resnet18")[1] and Path(dest).read_bytes() == good.read_bytes()
    assert pretrained_available("resnet18") is True
    loaded = pretrained_mod.load_torchvision_model("resnet18", pretrained=True)
    assert torch.equal(loaded.conv1.weight, state["conv1.weight"])
    with pytest.raises(ValueError, match="already holds"):
        install_weights("resnet18", bad)


def test_attack_pnet_steps_reach_tha(photos, tmp_path, capsys):
    common = ["--dataset", "listfile", "--data-dir", str(photos), "--profile", "smoke", "--bits", "8",
              "--runs-dir", str(tmp_path), "--no-progress", "--json", "--device", "cpu", "--image-size", "12"]
    run_json(["attack", *common, "--method", "THA", "--targeted", "--steps", "2", "--pnet-steps", "3",
              "--num-queries", "4", "--topk", "10"], capsys)
    from saatlib.experiments.attacks import ATTACK_KIND
    from saatlib.store import RunStore
    (entry,) = RunStore(tmp_path).entries(ATTACK_KIND)
    assert entry["attack"]["cls"] == "THAAttack" and entry["attack"]["pnet_steps"] == 3
    capsys.readouterr()  # a parameter THA has, not SAAT: refused in one line, not ignored
    assert main(["attack", *common, "--method", "SAAT", "--pnet-steps", "3"]) == 2
    assert "--pnet-steps is a parameter of the attacks with a PrototypeNet (THA, ProS-GAN)" in capsys.readouterr().err
