"""Hypothesis strategies for grid shapes in local metres: convex, concave (star) and holed."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from shapely.affinity import rotate
from shapely.geometry import MultiPoint, Polygon


@st.composite
def convex_polygons(draw) -> Polygon:
    size = draw(st.floats(20, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    pts = np.random.default_rng(seed).uniform(0, size, (draw(st.integers(3, 12)), 2))
    hull = MultiPoint(pts).convex_hull
    if not isinstance(hull, Polygon) or hull.area < 0.05 * size * size:
        return Polygon([(0, 0), (size, 0), (size, size * 0.6), (0, size * 0.6)])
    return hull


@st.composite
def concave_polygons(draw) -> Polygon:
    size = draw(st.floats(20, 300))
    n = draw(st.integers(5, 11))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    ang = (np.arange(n) + rng.uniform(-0.3, 0.3, n)) * 2 * math.pi / n
    rad = size / 2 * rng.uniform(0.35, 1.0, n)
    return Polygon(np.column_stack([rad * np.cos(ang), rad * np.sin(ang)]))


@st.composite
def holed_polygons(draw) -> Polygon:
    outer = draw(st.one_of(convex_polygons(), concave_polygons()))
    inner = outer.buffer(-0.2 * math.sqrt(outer.area))
    if inner.is_empty or inner.geom_type != "Polygon":
        return outer
    c = inner.representative_point()
    r = draw(st.floats(0.15, 0.6)) * math.sqrt(inner.area) / 2
    hole = c.buffer(r, quad_segs=4).intersection(inner)
    if hole.is_empty or hole.geom_type != "Polygon" or hole.area < 1:
        return outer
    return Polygon(outer.exterior.coords, [hole.exterior.coords])


def any_polygon():
    shapes = st.one_of(convex_polygons(), concave_polygons(), holed_polygons())
    return st.tuples(shapes, st.floats(0, 180)).map(
        lambda pa: rotate(pa[0], pa[1], origin="centroid")
    )
