import pytest

from patrol.timebase import TimeBase


def test_intervals_scale_and_patience_has_a_floor() -> None:
    real, fast = TimeBase(), TimeBase(40.0)
    assert real.wall(8.0) == 8.0 and fast.wall(8.0) == 0.2
    assert fast.vehicle(0.5) == 20.0
    assert real.patience(8.0) == 8.0  # a real aircraft: exactly the vehicle's time
    assert fast.patience(8.0) == 2.0  # sped up: never under 2 s of wall time
    assert fast.patience(0.5) == 0.5  # nor longer than the interval itself
    assert TimeBase(2.0).patience(8.0) == 4.0
    with pytest.raises(ValueError):
        TimeBase(0)
