"""Hash models: backbone + linear hash layer + tanh(a * .).

Inputs are raw pixels in [0, 1]; normalisation happens inside the model, so
every attack works in pixel space (reference section 1).
"""
from saatlib.models.backbones import BACKBONES, backbone_names, build_backbone
from saatlib.models.hash_model import HashModel, build_model
from saatlib.models.pretrained import PretrainedWeightsMissing

__all__ = [
    "BACKBONES",
    "HashModel",
    "PretrainedWeightsMissing",
    "backbone_names",
    "build_backbone",
    "build_model",
]
