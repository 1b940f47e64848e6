"""Flight patterns over one grid, in a local metric frame (x east, y north, metres): the
``Pattern`` every pattern returns, the perimeter and hover points (the coverage sweep lives in
``missions.coverage``).

A ``Pattern``'s ``variants`` are alternative paths over the same grid (other start corners,
other directions); variant ``2i + 1`` is always variant ``2i`` reversed so the grid ordering
can flip a grid by flipping its variant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

Area = Polygon | MultiPolygon


@dataclass
class Pattern:
    # the ways to fly the grid, each followed by its reverse (sweeps: as trimmed where the
    # pattern's choice already trimmed them, else every line across its band)
    variants: list[np.ndarray]
    hover: bool = False
    bearing: float | None = None  # sweep-line bearing (degrees from north), coverage only
    lines: int = 0  # sweep lines, coverage only
    notes: list[str] = field(default_factory=list)
    # The path flown for the variant the grid ordering chose (sweep ends trimmed), by index
    refine: Callable[[int], np.ndarray] | None = None
    costs: list[float] | None = None  # the variants' path_cost, when already known

    @property
    def path(self) -> np.ndarray:
        return self.variants[0]

    def final(self, variant: int = 0) -> np.ndarray:
        """The path flown for ``variant``."""
        return self.refine(variant) if self.refine else self.variants[variant]


def with_reverses(paths: list[np.ndarray]) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for p in paths:
        out += [p, p[::-1].copy()]
    return out


# ---- perimeter and points ----------------------------------------------------------------


def perimeter(area: Area, inset: float) -> Pattern:
    """Fly the boundary of every part of ``area``, ``inset`` metres inside it."""
    notes = []
    inner = area.buffer(-inset, quad_segs=2) if inset > 0 else area
    if inner.is_empty:
        notes.append(f"too narrow for a {inset:g} m inset: flying the boundary itself")
        inner = area
    parts = sorted(shapely.get_parts(inner.simplify(0.5)), key=lambda p: -p.area)
    loops = [np.asarray(p.exterior.coords) for p in parts if isinstance(p, Polygon)]
    if len(loops) == 1:
        ring = loops[0][:-1]
        starts = np.unique(np.linspace(0, len(ring) - 1, min(4, len(ring))).astype(int))
        base = [np.vstack([np.roll(ring, -s, axis=0), ring[s : s + 1]]) for s in starts]
    else:
        route = [loops[0]]
        rest = loops[1:]
        while rest:
            end = route[-1][-1]
            nxt = min(range(len(rest)), key=lambda i: np.hypot(*(rest[i][:-1] - end).T).min())
            ring = rest.pop(nxt)[:-1]
            s = int(np.argmin(np.hypot(*(ring - end).T)))
            route.append(np.vstack([np.roll(ring, -s, axis=0), ring[s : s + 1]]))
        base = [np.vstack(route)]
    return Pattern(with_reverses(base), notes=notes)


def hover_points(area: Area, spacing: float, given: np.ndarray | None = None) -> Pattern:
    """Hover points: the ``given`` ones inside the grid, else a lattice ``spacing`` apart clipped
    to the grid (one point on the grid if it is smaller than the lattice)."""
    notes = []
    if given is not None and len(given):
        inside = shapely.contains_xy(area, given[:, 0], given[:, 1])
        if not inside.all():
            notes.append(f"{int((~inside).sum())} hover point(s) outside the flyable grid dropped")
        pts = given[inside]
    else:
        xmin, ymin, xmax, ymax = area.bounds
        kx = max(1, math.ceil((xmax - xmin) / spacing))
        ky = max(1, math.ceil((ymax - ymin) / spacing))
        xs = (xmin + xmax) / 2 + (np.arange(kx) - (kx - 1) / 2) * spacing
        ys = (ymin + ymax) / 2 + (np.arange(ky) - (ky - 1) / 2) * spacing
        gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
        keep = shapely.contains_xy(area, gx, gy)
        pts = np.column_stack([gx[keep], gy[keep]])
    if not len(pts):
        p = area.point_on_surface()
        pts = np.array([[p.x, p.y]])
    return Pattern(with_reverses([_short_open_path(pts)]), hover=True, notes=notes)


def _short_open_path(pts: np.ndarray) -> np.ndarray:
    """Nearest-neighbour order improved by 2-opt (few points per grid)."""
    n = len(pts)
    if n < 3:
        return pts
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).T)
    order = [0]
    left = set(range(1, n))
    while left:
        nxt = min(left, key=lambda j: d[order[-1], j])
        order.append(nxt)
        left.remove(nxt)
    improved = True
    while improved:
        improved = False
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                a, b = order[i - 1], order[i]
                c = order[j]
                e = order[j + 1] if j + 1 < n else None
                old = d[a, b] + (d[c, e] if e is not None else 0)
                new = d[a, c] + (d[b, e] if e is not None else 0)
                if new < old - 1e-9:
                    order[i : j + 1] = order[i : j + 1][::-1]
                    improved = True
    return pts[order]
