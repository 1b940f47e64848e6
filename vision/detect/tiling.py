"""Overlapping square tiles over a frame, so that small people reach the network at a size it
can see. A tile is (x0, y0, side) in frame pixels; tiles near the right and bottom edges are
moved inwards rather than padded, so every tile is full of picture (unless the frame is smaller
than one tile, when the one tile is padded)."""

from __future__ import annotations

import math


def tile_starts(length: int, side: int, overlap: int) -> list[int]:
    """Starts along one axis: as few tiles as cover `length` with at least `overlap` pixels
    shared between neighbours, spread evenly from 0 to length - side."""
    if not 0 <= overlap < side:
        raise ValueError(f"tile overlap must be in [0, {side}), got {overlap}")
    if length <= side:
        return [0]
    n = math.ceil((length - overlap) / (side - overlap))
    if n == 1:
        return [0]
    step = (length - side) / (n - 1)
    return [round(i * step) for i in range(n)]


def tiles(width: int, height: int, side: int, overlap: int) -> list[tuple[int, int, int]]:
    return [
        (x0, y0, side)
        for y0 in tile_starts(height, side, overlap)
        for x0 in tile_starts(width, side, overlap)
    ]
