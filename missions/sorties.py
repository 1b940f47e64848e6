"""Cutting one long patrol route into sorties that each fit the battery, from and back to home."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from missions.errors import PlanningError
from missions.flight import (
    leg_lengths,
    path_cost,
    path_time,
    sortie_overhead,
    sortie_times,
    turn_times,
)
from missions.routing import Router

MIN_UTILISATION = 0.6  # end a sortie at a grid boundary if that still uses 60 % of the battery


@dataclass
class Route:
    """The whole patrol from home back to home, in local metres."""

    points: np.ndarray  # (N, 2)
    hover: np.ndarray  # (N,) seconds to hover at each point
    owner: np.ndarray  # (N,) grid index, -1 for transit points
    line_start: np.ndarray  # (N,) a sweep line starts here


class SortieCutter:
    """Cuts one patrol route into sorties (points, hover seconds) from and back to home that
    each fit an endurance, preferably between grids, otherwise inside a grid at the end of a
    sweep line (never halfway along one). What a cut works out (paths home, the turns onto
    and off the route) is kept for the next: a re-cut with less endurance."""

    def __init__(
        self,
        route: Route,
        router: Router,
        alt: float,
        speed: float,
        grid_name: Callable[[int], str],
    ) -> None:
        self.route, self.router, self.alt, self.speed = route, router, alt, speed
        self.grid_name = grid_name
        p, h = route.points, route.hover
        self.fixed = sortie_overhead(alt, speed)
        self.turns = np.concatenate([[0.0], turn_times(p, speed, h[1:-1] > 0), [0.0]])
        # t[i]: time from the first point after home to point i, turns and hovers on the way
        step = np.concatenate([[0.0], leg_lengths(p) / speed + self.turns[1:]])
        self.t = np.cumsum(step) + np.cumsum(h)
        last = len(p) - 2
        self.ends = sorted(
            ({i for i in range(1, last + 1) if route.owner[i] != route.owner[i + 1]} | {last}),
            reverse=True,
        )
        self._home_paths: dict[int, np.ndarray] = {}
        self._joins: dict[tuple[int, int], float] = {}

    def home_path(self, i: int) -> np.ndarray:
        """Point i to home, around the no-fly zones."""
        if i not in self._home_paths:
            self._home_paths[i] = self.router.path(self.route.points[i], np.zeros(2))
        return self._home_paths[i]

    def to_home(self, i: int) -> float:
        """Seconds from point i home, its corners included."""
        return path_time(self.home_path(i), self.speed)

    def turn(self, before: np.ndarray, at: np.ndarray, after: np.ndarray) -> float:
        """Seconds a corner adds, as path_cost ranks it (the cut sortie is timed in full)."""
        corner = np.array([before, at, after])
        return (path_cost(corner, self.speed) - float(leg_lengths(corner).sum())) / self.speed

    def join(self, i: int, side: int) -> float:
        """The turn at point i onto the route from home (side 1) or off it for home (-1)."""
        if (i, side) not in self._joins:
            p = self.route.points
            self._joins[i, side] = self.turn(self.home_path(i)[1], p[i], p[i + side])
        return self._joins[i, side]

    def junctions(self, a: int, b: int) -> float:
        """The turns where a sortie a..b joins the route from home and leaves it for home (the
        outbound path mirrors the way back), less the route's own turn at b."""
        if a == b:
            into_a = self.home_path(a)[1]
            return self.turn(into_a, self.route.points[a], into_a)
        return self.join(a, 1) + self.join(b, -1) - self.turns[b]

    def split(
        self, endurance_s: float | None, endurance_min: float | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The sorties, each within ``endurance_s`` seconds in the air (None: one sortie);
        ``endurance_min`` is what the operator gave, for messages. The route is cut where the
        estimate says, then every sortie is timed as flown (RTL home at its own speed), all
        at once; one over the budget ends a line earlier and the route is cut again after it."""
        p, h = self.route.points, self.route.hover
        if endurance_s is None:
            return [(p, h)]
        budget = endurance_s
        endurance_min = endurance_min or budget / 60
        spans = self._cut(1, budget, endurance_min)
        while True:
            pieces = [self._sortie(a, b) for a, b in spans]
            times = sortie_times(pieces, self.alt, self.speed)
            over = [k for k, (a, b) in enumerate(spans) if b > a and times[k] > budget]
            if not over:
                return pieces
            k = over[0]
            a, b = spans[k]
            b -= 2 if self.route.line_start[b - 1] and b - 1 > a else 1
            spans = [*spans[:k], (a, b), *self._cut(b + 1, budget, endurance_min)]

    def _sortie(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Points a..b of the route as a sortie from and back to home, with hover seconds."""
        p, h = self.route.points, self.route.hover
        out, back = self.home_path(a)[::-1], self.home_path(b)  # out mirrors the way back
        pts = np.vstack([out[:-1], p[a : b + 1], back[1:]])
        hov = np.concatenate([np.zeros(len(out) - 1), h[a : b + 1], np.zeros(len(back) - 1)])
        return pts, hov

    def _cut(self, a: int, budget: float, endurance_min: float) -> list[tuple[int, int]]:
        """The route from point a on cut into spans (first, last point) that the estimate
        fits in ``budget``: as far as it goes, ending at a grid's end when that still uses
        MIN_UTILISATION of the budget, else at a line's end."""
        t, p, h, o = self.t, self.route.points, self.route.hover, self.route.owner
        line_start = self.route.line_start
        last = len(p) - 2
        spans = []
        while a <= last:
            start = self.fixed + self.to_home(a) + h[a] - t[a]  # outbound equals the way back

            def fits(b: int, a: int = a, start: float = start) -> bool:
                if start + t[b] + float(np.hypot(*p[b])) / self.speed > budget:
                    return False  # not even in a straight line home
                return start + t[b] + self.junctions(a, b) + self.to_home(b) <= budget

            if not fits(a):
                who = self.grid_name(int(o[a])) if o[a] >= 0 else "a transit point"
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
            for e in (e for e in self.ends if a <= e <= b_any):
                if fits(e):
                    if start + t[e] >= MIN_UTILISATION * budget:
                        b = e
                    break
            spans.append((a, b))
            a = b + 1
        return spans
