"""Hash models: shapes, ranges, normalisation inside, pretrained-weight handling."""
import pytest
import torch

from saatlib.models import PretrainedWeightsMissing, build_model
from saatlib.models.pretrained import weights_cache_path


def test_smallcnn_output_in_open_interval_and_alpha_sharpens():
    torch.manual_seed(0)
    model = build_model("smallcnn", bits=24, in_channels=1).eval()
    x = torch.rand(5, 1, 28, 28)
    h1, h_small = model(x), model(x, alpha=0.1)
    assert h1.shape == (5, 24)
    assert h1.abs().max() < 1
    assert h_small.abs().mean() < h1.abs().mean()
    assert torch.equal(h1.sign(), h_small.sign())


def test_smallcnn_takes_mosaic_size():
    model = build_model("smallcnn", bits=16, in_channels=1).eval()
    assert model(torch.rand(2, 1, 56, 56)).shape == (2, 16)


def test_normalisation_is_inside_the_model():
    model = build_model("smallcnn", bits=8, in_channels=1)
    out = model.normalize(torch.full((1, 1, 2, 2), 0.5))
    assert torch.allclose(out, torch.zeros_like(out))


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_bits_rejected(bad):
    with pytest.raises(ValueError, match="bits"):
        build_model("smallcnn", bits=bad)


def test_unknown_backbone_lists_names():
    with pytest.raises(ValueError, match="smallcnn"):
        build_model("lenet", bits=8)


def test_missing_pretrained_weights_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    _, path = weights_cache_path("resnet18")
    with pytest.raises(PretrainedWeightsMissing) as err:
        build_model("resnet18", bits=16, in_channels=3, pretrained=True)
    assert path in str(err.value) and "random" in str(err.value)


def test_random_init_opt_in_and_cached_weights_are_used(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    model = build_model("resnet18", bits=16, in_channels=3, pretrained=True, allow_random_init=True)
    assert model.eval()(torch.rand(1, 3, 32, 32)).shape == (1, 16)
    # put a state dict where torchvision's cache looks: it must be loaded
    import torchvision

    ref = torchvision.models.resnet18(weights=None)
    _, path = weights_cache_path("resnet18")
    import os

    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(ref.state_dict(), path)
    loaded = build_model("resnet18", bits=16, in_channels=3, pretrained=True)
    assert torch.equal(loaded.backbone.net.conv1.weight, ref.conv1.weight)


def test_grey_input_feeds_rgb_backbone():
    model = build_model("resnet18", bits=8, in_channels=1, pretrained=False).eval()
    assert model(torch.rand(2, 1, 32, 32)).shape == (2, 8)


def test_smallcnn_widths_set_the_channels_and_are_checked():
    from saatlib.models.backbones import SmallCNN

    narrow, wide = SmallCNN(1), SmallCNN(1, widths=(32, 64, 128))
    assert [m.out_channels for m in narrow.modules() if isinstance(m, torch.nn.Conv2d)] == [16, 32, 64]
    assert [m.out_channels for m in wide.modules() if isinstance(m, torch.nn.Conv2d)] == [32, 64, 128]
    x = torch.rand(3, 1, 28, 28)
    assert narrow.eval()(x).shape == wide.eval()(x).shape == (3, SmallCNN.out_features)
    with pytest.raises(ValueError, match="three positive integers"):
        SmallCNN(1, widths=(16, 32))
    with pytest.raises(ValueError, match="smallcnn"):
        build_model("alexnet", bits=16, in_channels=3, pretrained=False, widths=(8, 8, 8))


def test_channels_last_layout_gives_the_values_of_the_usual_layout():
    """The layout is a speed choice only: the same weights in NCHW give the same output."""
    from saatlib.models.backbones import SmallCNN

    torch.manual_seed(0)
    net = SmallCNN(1).eval()
    ref = SmallCNN(1).eval()
    ref.load_state_dict(net.state_dict())
    ref.to(memory_format=torch.contiguous_format)
    ref.forward = lambda x: ref.fc(ref.pool(ref.features(x.contiguous())))
    x = torch.rand(4, 1, 28, 28)
    conv2 = net.features[1][0].weight  # (32, 16, 3, 3)
    assert conv2.is_contiguous(memory_format=torch.channels_last) and not conv2.is_contiguous()
    assert ref.features[1][0].weight.is_contiguous()
    torch.testing.assert_close(net(x), ref(x), rtol=1e-4, atol=1e-5)
