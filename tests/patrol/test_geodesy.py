import pytest

from patrol.geodesy import distance

HOME = (27.57, 119.71)


def test_distance_is_geodesic() -> None:
    assert distance(*HOME, HOME[0] + 0.01, HOME[1]) == pytest.approx(
        1108.1, abs=0.5
    )  # meridian arc at 27.6°N
