"""Hamming distance and bit packing."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_metrics_helpers import random_codes, ref_distances

from saatlib.metrics import hamming_distance, hamming_distance_packed, pack_codes, unpack_codes
from saatlib.metrics.packing import popcount_table


@pytest.mark.parametrize("bits", [1, 7, 8, 12, 64, 127, 128, 200, 256, 300])
def test_hamming_matches_bit_count(bits):
    gen = torch.Generator().manual_seed(bits)
    a, b = random_codes(9, bits, gen), random_codes(13, bits, gen)
    d = hamming_distance(a, b)
    assert d.dtype == torch.int64 and d.shape == (9, 13)
    assert np.array_equal(d.numpy(), ref_distances(a, b))


def test_hamming_formula_and_int_codes():
    a = torch.tensor([[1, -1, 1, 1]], dtype=torch.int8)
    b = torch.tensor([[1, -1, 1, 1], [-1, 1, -1, -1], [1, 1, 1, 1]], dtype=torch.int8)
    assert hamming_distance(a, b).tolist() == [[0, 4, 1]]
    assert hamming_distance(a.double(), b.double()).tolist() == [[0, 4, 1]]


@pytest.mark.parametrize("bits", [1, 5, 8, 13, 64, 100])
def test_pack_roundtrip_and_layout(bits):
    gen = torch.Generator().manual_seed(1)
    codes = random_codes(11, bits, gen)
    packed = pack_codes(codes)
    assert packed.dtype == torch.uint8 and packed.shape == (11, (bits + 7) // 8)
    assert torch.equal(unpack_codes(packed, bits), codes)
    expect = np.packbits((codes.numpy() > 0).astype(np.uint8), axis=1)  # MSB first, +1 -> 1
    assert np.array_equal(packed.numpy(), expect)


@pytest.mark.parametrize("bits", [3, 16, 64, 70])
def test_packed_distance_equals_unpacked(bits):
    gen = torch.Generator().manual_seed(bits)
    a, b = random_codes(20, bits, gen), random_codes(37, bits, gen)
    assert torch.equal(hamming_distance_packed(pack_codes(a), pack_codes(b)), hamming_distance(a, b))


def test_packed_distance_chunks(monkeypatch):
    import saatlib.metrics.packing as packing

    monkeypatch.setattr(packing, "_XOR_BLOCK", 16)  # force many query and database chunks
    gen = torch.Generator().manual_seed(5)
    a, b = random_codes(7, 24, gen), random_codes(10, 24, gen)
    assert torch.equal(hamming_distance_packed(pack_codes(a), pack_codes(b)), hamming_distance(a, b))


def test_popcount_table():
    table = popcount_table()
    assert table.tolist() == [bin(v).count("1") for v in range(256)]


def test_errors():
    good = torch.ones(2, 4)
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        hamming_distance(torch.zeros(2, 4), good)
    with pytest.raises(ValueError, match="code lengths differ"):
        hamming_distance(good, torch.ones(3, 5))
    with pytest.raises(ValueError, match="2-D"):
        hamming_distance(torch.ones(4), good)
    with pytest.raises(ValueError, match="uint8"):
        hamming_distance_packed(good, good)
    with pytest.raises(ValueError, match="packed widths differ"):
        hamming_distance_packed(torch.zeros(1, 2, dtype=torch.uint8), torch.zeros(1, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="bytes per code"):
        unpack_codes(torch.zeros(1, 2, dtype=torch.uint8), 20)
