"""Geofence of a simulated copter: altitude, home circle and the uploaded polygons/circles."""

from __future__ import annotations

import math
from collections.abc import Sequence

from shapely.geometry import LineString, Point, Polygon

from sim.geo import ne_between
from sim.mission import Item

ALT_MAX = 1
CIRCLE = 2
POLYGON = 4

# MAV_FENCE_BREACH values for FENCE_STATUS.breach_type
BREACH_MINALT, BREACH_MAXALT, BREACH_BOUNDARY = 1, 2, 3


class Fence:
    """Evaluates FENCE_* parameters and the stored FENCE items against a position."""

    def __init__(self) -> None:
        self.enabled = False
        self.types = 7
        self.alt_max = 100.0
        self.radius = 150.0
        self.margin = 2.0
        self.inclusions: list[Polygon] = []
        self.exclusions: list[Polygon] = []
        self.incl_circles: list[tuple[float, float, float]] = []
        self.excl_circles: list[tuple[float, float, float]] = []
        self.breached = 0  # bitmask of breached types
        self.breach_count = 0
        self.breach_type = 0
        self.breach_time = 0.0
        self.recovery_until: float | None = None  # end of a manual recovery window

    def configure(self, params) -> None:
        self.enabled = params.get("FENCE_ENABLE") >= 1
        self.types = int(params.get("FENCE_TYPE"))
        self.alt_max = params.get("FENCE_ALT_MAX")
        self.radius = params.get("FENCE_RADIUS")
        self.margin = params.get("FENCE_MARGIN")

    def load(self, items: Sequence[Item], home: tuple[float, float, float]) -> None:
        """Build polygons (local metres from home) from FENCE items 5001-5004."""
        self.inclusions, self.exclusions = [], []
        self.incl_circles, self.excl_circles = [], []
        i = 0
        while i < len(items):
            item = items[i]
            if item.command in (5001, 5002):
                count = max(int(item.param1), 1)
                vertices = [
                    ne_between(home[0], home[1], it.lat, it.lon) for it in items[i : i + count]
                ]
                if len(vertices) >= 3:
                    poly = Polygon([(e, n) for n, e in vertices])
                    (self.inclusions if item.command == 5001 else self.exclusions).append(poly)
                i += count
                continue
            if item.command in (5003, 5004):
                n, e = ne_between(home[0], home[1], item.lat, item.lon)
                circle = (n, e, item.param1)
                (self.incl_circles if item.command == 5003 else self.excl_circles).append(circle)
            i += 1

    @property
    def has_polygon(self) -> bool:
        return bool(self.inclusions or self.exclusions or self.incl_circles or self.excl_circles)

    def violations(self, n: float, e: float, alt: float) -> int:
        """Bitmask of fence types the position is outside of (ignores FENCE_ENABLE)."""
        bad = 0
        if self.types & ALT_MAX and alt > self.alt_max:
            bad |= ALT_MAX
        if self.types & CIRCLE and math.hypot(n, e) > self.radius:
            bad |= CIRCLE
        if self.types & POLYGON and self.has_polygon:
            p = Point(e, n)
            outside = any(not poly.covers(p) for poly in self.inclusions)
            outside |= any(poly.contains(p) for poly in self.exclusions)
            outside |= any(math.hypot(n - cn, e - ce) > r for cn, ce, r in self.incl_circles)
            outside |= any(math.hypot(n - cn, e - ce) < r for cn, ce, r in self.excl_circles)
            if outside:
                bad |= POLYGON
        return bad

    def distance_along(self, n: float, e: float, dn: float, de: float, reach: float = 500.0):
        """Metres from (n, e) to the first horizontal fence edge in direction (dn, de), or
        None when no edge lies within ``reach``."""
        norm = math.hypot(dn, de)
        if norm < 1e-9:
            return None
        un, ue = dn / norm, de / norm
        best = None
        if self.types & CIRCLE:
            # ray from inside a circle of radius R centred on home
            b = n * un + e * ue
            c = n * n + e * e - self.radius**2
            disc = b * b - c
            if disc >= 0:
                t = -b + math.sqrt(disc)
                if t >= 0:
                    best = t
        if self.types & POLYGON:
            ray = LineString([(e, n), (e + ue * reach, n + un * reach)])
            origin = Point(e, n)
            for poly in self.inclusions + self.exclusions:
                hit = ray.intersection(poly.exterior)
                if not hit.is_empty:
                    d = origin.distance(hit)
                    best = d if best is None else min(best, d)
        return best if best is not None and best <= reach else None

    def allows(self, n: float, e: float, alt: float) -> bool:
        """Whether an enabled fence lets a guided target at this position be accepted."""
        return not self.enabled or self.violations(n, e, alt) == 0
