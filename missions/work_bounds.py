"""Bounds on the planner's work, checked before the work starts: each is far beyond what a
township patrol needs, so past one the input is a slip or an attack, refused in one line."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from missions.errors import PlanningError
from missions.grids import Grid
from missions.plan_settings import PlanSettings

# Work bounds, checked before the work: each is far beyond a township patrol.
MAX_GRIDS = 2000
MAX_SWEEP_LINES = 20_000  # 40,000 waypoints: about 60 sorties of 700 items
MAX_HOVER_POINTS = 5000  # hours of hovering at 30 s each
MAX_GRID_HOVER_POINTS = 500  # the per-grid route through hover points is quadratic
SIMPLIFY_M = 0.01  # grids are simplified at a centimetre after projection
# Vertices left after that: geometry work (buffers, overlays) grows faster than their number
MAX_GRID_VERTICES = 20_000
MAX_PLAN_VERTICES = 50_000


def check_work(
    grids: list[Grid],
    areas: list[Polygon | MultiPolygon],
    given: list[np.ndarray | None],
    s: PlanSettings,
) -> None:
    """Refuse, before doing it, work no patrol needs: the bounds are far beyond a township."""
    if len(grids) > MAX_GRIDS:
        raise PlanningError(f"{len(grids):,} grids, over the {MAX_GRIDS:,} one plan may hold")
    counts = shapely.get_num_coordinates(np.asarray(areas, dtype=object))
    for grid, n in zip(grids, counts, strict=True):
        if n > MAX_GRID_VERTICES:
            raise PlanningError(
                f"grid '{grid.name}' keeps {n:,} vertices after simplifying at "
                f"{SIMPLIFY_M * 100:g} cm, over the {MAX_GRID_VERTICES:,} a grid may have: "
                "simplify it in a GIS (a vertex every metre or two is plenty)"
            )
    if counts.sum() > MAX_PLAN_VERTICES:
        raise PlanningError(
            f"the grids keep {counts.sum():,} vertices after simplifying at "
            f"{SIMPLIFY_M * 100:g} cm, over the {MAX_PLAN_VERTICES:,} a plan may have: "
            "simplify them in a GIS or plan fewer at a time (--grid)"
        )
    spacing = s.line_spacing
    if s.pattern == "coverage":
        parts = shapely.get_parts(np.asarray(areas, dtype=object))
        rects = shapely.oriented_envelope(parts)
        sides = np.diff(shapely.get_coordinates(rects).reshape(len(parts), -1, 2)[:, :3], axis=1)
        widths = np.hypot(sides[..., 0], sides[..., 1]).min(axis=1)
        lines = int(np.ceil(widths / spacing).sum())
        if lines > MAX_SWEEP_LINES:
            raise PlanningError(
                f"about {lines:,} sweep lines at {spacing:g} m spacing, over the "
                f"{MAX_SWEEP_LINES:,} a plan may have: use a wider --spacing"
            )
    elif s.pattern == "points":
        total = 0
        for grid, area, points in zip(grids, areas, given, strict=True):
            xmin, ymin, xmax, ymax = area.bounds
            lattice = math.ceil((xmax - xmin) / spacing) * math.ceil((ymax - ymin) / spacing)
            count = len(points) if points is not None else min(lattice, area.area / spacing**2)
            if points is None and (
                lattice > 100 * MAX_GRID_HOVER_POINTS or count > MAX_GRID_HOVER_POINTS
            ):
                raise PlanningError(
                    f"grid '{grid.name}' would need about {max(count, 1):,.0f} hover points "
                    f"{spacing:g} m apart, over the {MAX_GRID_HOVER_POINTS:,} a grid may have: "
                    "use a wider --spacing"
                )
            total += int(count) + 1
        if total > MAX_HOVER_POINTS:
            raise PlanningError(
                f"about {total:,} hover points, over the {MAX_HOVER_POINTS:,} a plan may have: "
                "use a wider --spacing"
            )
