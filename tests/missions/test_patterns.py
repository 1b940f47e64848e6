from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point, Polygon, box

from missions.patterns import hover_points, perimeter


def test_perimeter_variants_are_reverse_pairs():
    p = perimeter(box(0, 0, 200, 120), 10)
    assert len(p.variants) % 2 == 0
    for a, b in zip(p.variants[::2], p.variants[1::2], strict=True):
        np.testing.assert_allclose(a[::-1], b)


def test_perimeter_inset():
    field = box(0, 0, 200, 100)
    p = perimeter(field, 10)
    ring = Polygon(p.path)
    assert ring.equals_exact(box(10, 10, 190, 90), tolerance=1) or ring.area == pytest.approx(
        180 * 80, rel=0.01
    )
    assert np.allclose(p.path[0], p.path[-1])


def test_perimeter_too_narrow_falls_back_with_a_note():
    p = perimeter(box(0, 0, 10, 100), 10)
    assert p.notes and "inset" in p.notes[0]


def test_hover_points_lattice_and_given():
    field = box(0, 0, 600, 300)
    lattice = hover_points(field, 300)
    assert lattice.hover and len(lattice.path) == 2
    given = np.array([[50.0, 50.0], [700.0, 50.0], [500.0, 250.0]])
    chosen = hover_points(field, 300, given)
    assert len(chosen.path) == 2 and "1 hover point" in chosen.notes[0]
    small = hover_points(box(0, 0, 40, 40), 300)
    assert len(small.path) == 1 and field.contains(Point(small.path[0]))
