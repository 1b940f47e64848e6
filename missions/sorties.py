"""Cutting one long patrol route into sorties that each fit the battery, from and back to home."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from missions.errors import PlanningError
from missions.flight import leg_lengths, path_time, sortie_overhead, sortie_time, turn_times
from missions.routing import Router

MIN_UTILISATION = 0.6  # end a sortie at a grid boundary if that still uses 60 % of the battery


@dataclass
class Route:
    """The whole patrol from home back to home, in local metres."""

    points: np.ndarray  # (N, 2)
    hover: np.ndarray  # (N,) seconds to hover at each point
    owner: np.ndarray  # (N,) grid index, -1 for transit points
    line_start: np.ndarray  # (N,) a sweep line starts here


@dataclass
class SortieLimits:
    endurance_s: float | None  # seconds in the air per sortie; None: one sortie
    alt: float
    speed: float
    endurance_min: float | None = None  # as the operator gave it, for messages


def split_sorties(
    route: Route, router: Router, limits: SortieLimits, grid_name: Callable[[int], str]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut the patrol into sorties (points, hover seconds) from and back to home that each fit
    the endurance, preferably between grids, otherwise inside a grid at the end of a sweep
    line (never halfway along one)."""
    p, h, o, line_start = route.points, route.hover, route.owner, route.line_start
    if limits.endurance_s is None:
        return [(p, h)]
    s = limits
    budget = limits.endurance_s
    endurance_min = limits.endurance_min or budget / 60
    fixed = sortie_overhead(s.alt, s.speed)
    turns = np.concatenate([[0.0], turn_times(p, s.speed, h[1:-1] > 0), [0.0]])
    # t[i]: time from the first point after home to point i, turns and hovers on the way
    step = np.concatenate([[0.0], leg_lengths(p) / s.speed + turns[1:]])
    t = np.cumsum(step) + np.cumsum(h)
    home = np.zeros(2)
    paths: dict[int, np.ndarray] = {}

    def home_path(i: int) -> np.ndarray:
        if i not in paths:
            paths[i] = router.path(p[i], home)
        return paths[i]

    def to_home(i: int) -> float:
        """Straight home from point i, or around no-fly zones, its corners included."""
        return path_time(home_path(i), s.speed)

    def turn(before: np.ndarray, at: np.ndarray, after: np.ndarray) -> float:
        return float(turn_times(np.array([before, at, after]), s.speed)[0])

    def junctions(a: int, b: int) -> float:
        """The turns where a sortie a..b joins the route from home and leaves it for home (the
        outbound path mirrors the way back), less the route's own turn at b."""
        into_a, from_b = home_path(a)[1], home_path(b)[1]
        if a == b:
            return turn(into_a, p[a], into_a)
        return turn(into_a, p[a], p[a + 1]) + turn(p[b - 1], p[b], from_b) - turns[b]

    last = len(p) - 2
    ends = {i for i in range(1, last + 1) if o[i] != o[i + 1]} | {last}
    pieces: list[tuple[np.ndarray, np.ndarray]] = []
    a = 1
    while a <= last:
        start = fixed + to_home(a) + h[a] - t[a]  # outbound equals the way back

        def fits(b: int, a: int = a, start: float = start) -> bool:
            if start + t[b] + float(np.hypot(*p[b])) / s.speed > budget:
                return False  # not even in a straight line home
            return start + t[b] + junctions(a, b) + to_home(b) <= budget

        if not fits(a):
            who = grid_name(int(o[a])) if o[a] >= 0 else "a transit point"
            raise PlanningError(
                f"endurance {endurance_min:g} min is too short to fly to {who} and back"
            )
        b_max = int(np.searchsorted(t, budget - start, side="right")) - 1
        b_max = min(max(b_max, a), last)
        # to_home is not monotonic, but the furthest feasible point is near b_max
        b_any = next(b for b in range(b_max, a - 1, -1) if fits(b))
        if line_start[b_any] and b_any > a:
            b_any -= 1  # stop after the previous line rather than fly to a line's start
        b = b_any
        for e in sorted((e for e in ends if a <= e <= b_any), reverse=True):
            if fits(e):
                if start + t[e] >= MIN_UTILISATION * budget:
                    b = e
                break
        out = router.path(home, p[a])
        while True:  # the sortie as flown (RTL home at its own speed) must fit too
            back = router.path(p[b], home)
            pts = np.vstack([out[:-1], p[a : b + 1], back[1:]])
            hov = np.concatenate([np.zeros(len(out) - 1), h[a : b + 1], np.zeros(len(back) - 1)])
            if b == a or sortie_time(pts, hov, s.alt, s.speed) <= budget:
                break
            b -= 2 if line_start[b - 1] and b - 1 > a else 1
        pieces.append((pts, hov))
        a = b + 1
    return pieces
