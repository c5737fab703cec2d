"""Deep hashing: losses (DPH, DPSH, HashNet, CSQ), training and its hyper-parameters
(:class:`~saatlib.hashing.params.HashingParams`), and encoding."""
from saatlib.hashing.encode import binarize, encode
from saatlib.hashing.losses import LOSSES, HashLoss, build_loss, canonical_method, method_names
from saatlib.hashing.params import HashingParams
from saatlib.hashing.train import train_hashing

__all__ = ["LOSSES", "HashLoss", "HashingParams", "binarize", "build_loss", "canonical_method", "encode", "method_names",
           "train_hashing"]
