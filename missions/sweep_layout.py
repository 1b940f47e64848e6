"""Where the sweep lines go across a grid turned so that they run along x: how many, and where.

Lines are ``spacing`` apart; line k sees the band of height ``spacing`` around it, and the first
and last lines also see ``overhang`` beyond it when the camera's footprint is wider than the
spacing. The fewest lines that leave at most ``budget`` m² of the grid unseen are laid out
where they leave least, so a grid a hair wider than a whole number of spacings pays no extra
line for the hair; with nothing to give up, the lines are shifted within the slack to where
they are shortest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from missions.patterns import Area

OFFSETS = 17  # placements tried for the strip left unseen (at most one spacing high)
_OFFSETS = np.linspace(0.0, 1.0, OFFSETS)


@dataclass(frozen=True)
class Layout:
    centres: np.ndarray  # y of each line
    lo: np.ndarray  # each band's extent: what its line must span to see it all
    hi: np.ndarray
    missed: float  # m² of the grid outside every band

    @property
    def lines(self) -> int:
        return len(self.centres)


class AreaProfile:
    """The area of a polygon below any height, exactly: by Green's theorem the area below
    y = t is the sum over the edges, clipped to y <= t, of the integral of x dy (the cut along
    y = t adds nothing, dy being zero there). ``turned(m)`` is the same polygon rotated."""

    def __init__(self, area: Area) -> None:
        parts = shapely.get_parts(shapely.orient_polygons(area))
        rings = shapely.get_rings(parts)  # outer rings counter-clockwise, holes clockwise
        p1, p2 = [], []
        for ring in rings:
            xy = shapely.get_coordinates(ring)
            p1.append(xy[:-1])
            p2.append(xy[1:])
        self._set(np.vstack(p1), np.vstack(p2), float(area.area))

    def _set(self, p1: np.ndarray, p2: np.ndarray, total: float) -> None:
        self.p1, self.p2, self.total = p1, p2, total
        dy = p2[:, 1] - p1[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            self.slope = np.where(dy != 0, (p2[:, 0] - p1[:, 0]) / dy, 0.0)

    def turned(self, m: np.ndarray) -> AreaProfile:
        """The profile of the polygon turned by the rotation matrix ``m``."""
        out = object.__new__(AreaProfile)
        out._set(self.p1 @ m.T, self.p2 @ m.T, self.total)
        return out

    def below(self, t: np.ndarray) -> np.ndarray:
        """Area below each height in ``t``."""
        t = np.atleast_1d(np.asarray(t, dtype=float))[None, :]
        x1, y1 = self.p1[:, :1], self.p1[:, 1:]
        y2 = self.p2[:, 1:]
        ya, yb = np.minimum(y1, t), np.minimum(y2, t)
        slope = self.slope[:, None]
        xa = x1 + (ya - y1) * slope
        xb = x1 + (yb - y1) * slope
        return np.clip(((yb - ya) * (xa + xb) / 2).sum(axis=0), 0.0, self.total)

    def chords(self, t: np.ndarray) -> np.ndarray:
        """Length of the polygon along each horizontal line y in ``t``: the derivative of the
        area below, the crossing x of each edge signed by its direction."""
        t = np.atleast_1d(np.asarray(t, dtype=float))[None, :]
        y1, y2 = self.p1[:, 1:], self.p2[:, 1:]
        crosses = (np.minimum(y1, y2) <= t) & (t < np.maximum(y1, y2))
        x = self.p1[:, :1] + (t - y1) * self.slope[:, None]
        return np.abs((np.where(crosses, x, 0.0) * np.sign(y2 - y1)).sum(axis=0))


def _bands(centres: np.ndarray, spacing: float, overhang: float) -> tuple[np.ndarray, np.ndarray]:
    lo = centres - spacing / 2
    hi = centres + spacing / 2
    lo[0] -= overhang
    hi[-1] += overhang
    return lo, hi


def full_lines(height: float, spacing: float, overhang: float) -> int:
    """Lines that see all of a grid ``height`` high."""
    return max(1, math.ceil((height - 2 * overhang) / spacing - 1e-9))


def layouts(
    area: Area,
    spacing: float,
    overhang: float,
    budget: float,
    shift: bool = True,
    profile: AreaProfile | None = None,
) -> list[Layout]:
    """The layouts worth comparing, fewest lines first: the fewest lines that leave at most
    ``budget`` unseen (if fewer than all), and all lines, with ``shift`` moved within the
    slack to where they are shortest (else centred). ``profile`` is ``area``'s, if known."""
    _, ymin, _, ymax = area.bounds
    height = ymax - ymin
    n_full = full_lines(height, spacing, overhang)
    profile = profile or AreaProfile(area)
    out = [_full_layout(area, profile, spacing, overhang, n_full, shift)]
    if budget <= 0 or n_full == 1:
        return out
    fewest = None
    for n in range(n_full - 1, 0, -1):
        fewer = _fewer_layout(profile, ymin, height, spacing, overhang, n, budget)
        if fewer is None:
            break
        fewest = fewer
    return [fewest, *out] if fewest is not None else out


def _full_layout(
    area: Area, profile: AreaProfile, spacing: float, overhang: float, n: int, shift: bool
) -> Layout:
    _, ymin, _, ymax = area.bounds
    slack = n * spacing + 2 * overhang - (ymax - ymin)
    mid = (ymin + ymax) / 2
    base = mid + (np.arange(n) - (n - 1) / 2) * spacing
    best, best_len = base, math.inf
    # centred, or flush with either edge (where the grid is narrow, lines are short there)
    worth = shift and slack > max(0.5, 0.2 * spacing)
    for offset in (0.0, -slack / 2, slack / 2) if worth else (0.0,):
        centres = base + offset
        length = float(profile.chords(centres).sum()) if worth else 0.0
        if length < best_len - 0.5:
            best, best_len = centres, length
    lo, hi = _bands(best.copy(), spacing, overhang)
    return Layout(best, lo, hi, 0.0)


def _fewer_layout(
    profile: AreaProfile,
    ymin: float,
    height: float,
    spacing: float,
    overhang: float,
    n: int,
    budget: float,
) -> Layout | None:
    """``n`` lines leaving at most ``budget`` unseen, placed where they leave least; None if
    no placement does."""
    unseen = height - (n * spacing + 2 * overhang)  # strip height left to give up
    if unseen <= 0 or unseen > spacing + 1e-9:
        return None
    below = _OFFSETS * unseen  # of it, this much at the bottom
    cut = profile.below(np.concatenate([ymin + below, ymin + height - unseen + below]))
    missed = cut[:OFFSETS] + profile.total - cut[OFFSETS:]
    k = int(np.argmin(missed))
    if missed[k] > budget:
        return None
    y0 = ymin + below[k] + overhang  # bottom of the first band
    centres = y0 + (np.arange(n) + 0.5) * spacing
    lo, hi = _bands(centres.copy(), spacing, overhang)
    return Layout(centres, lo, hi, float(missed[k]))
