"""Multi-label mosaics: 2x2 grids of Fashion-MNIST garments.

A mosaic holds 1 to 4 garments (the count uniform over 1..4) on random tiles
of a 2x2 grid; the other tiles stay black. Its label is the union of its
garments' classes (multi-hot over the 10 classes), so two mosaics are relevant
to each other when they share a garment class: the multi-label relevance of
NUS-WIDE or MS-COCO, on data that fits a CPU.

Tiles are numbered row-major: 0 top-left, 1 top-right, 2 bottom-left,
3 bottom-right. Generation is vectorised (one loop over the 4 tiles).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

GRID = 2
NUM_TILES = GRID * GRID


@dataclass(frozen=True)
class Mosaics:
    """``images`` uint8 (N, C, 2h, 2w); ``labels`` float32 (N, num_classes) in {0, 1};
    ``tile_sources`` int64 (N, 4): the source index on each tile, -1 when empty."""

    images: torch.Tensor
    labels: torch.Tensor
    tile_sources: torch.Tensor


def _draw_sources(count: int, num_sources: int, gen: torch.Generator) -> torch.Tensor:
    """``count`` source indices: random permutations of all sources laid end to end,
    so no source repeats before every source has been used once."""
    rounds = -(-count // num_sources)
    perms = [torch.randperm(num_sources, generator=gen) for _ in range(rounds)]
    return torch.cat(perms)[:count] if perms else torch.zeros(0, dtype=torch.int64)


def make_mosaics(tiles: torch.Tensor, classes: torch.Tensor, num_mosaics: int,
                 generator: torch.Generator, num_classes: int = 10) -> Mosaics:
    """Build ``num_mosaics`` mosaics from the source images ``tiles``.

    Args:
        tiles: uint8 (M, C, h, w) source images (M >= 1).
        classes: int64 (M,) class of each source image, in 0..num_classes-1.
        num_mosaics: N >= 0.
        generator: CPU ``torch.Generator``; the result is a function of its state.
        num_classes: width of the label vectors.
    """
    if tiles.dim() != 4 or classes.shape != tiles.shape[:1] or tiles.shape[0] < 1:
        raise ValueError(f"need tiles (M, C, h, w) with M >= 1 and classes (M,); got {tuple(tiles.shape)} "
                         f"and {tuple(classes.shape)}")
    n = int(num_mosaics)
    _, c, h, w = tiles.shape
    counts = torch.randint(1, NUM_TILES + 1, (n,), generator=generator)
    ranks = torch.rand(n, NUM_TILES, generator=generator).argsort(dim=1).argsort(dim=1)
    occupied = ranks < counts[:, None]
    sources = torch.full((n, NUM_TILES), -1, dtype=torch.int64)
    sources[occupied] = _draw_sources(int(occupied.sum()), tiles.shape[0], generator)
    images = torch.zeros(n, c, GRID * h, GRID * w, dtype=tiles.dtype)
    labels = torch.zeros(n, num_classes, dtype=torch.float32)
    for tile in range(NUM_TILES):
        r, col = divmod(tile, GRID)
        rows = occupied[:, tile].nonzero().squeeze(1)
        src = sources[rows, tile]
        images[rows, :, r * h:(r + 1) * h, col * w:(col + 1) * w] = tiles[src]
        labels[rows, classes[src]] = 1.0
    return Mosaics(images, labels, sources)
