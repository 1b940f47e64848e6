from shapely.geometry import shape

from audio.zones import TrackedZone, ZoneTracker
from tests.audio.plans import offset, square


def tracker(priority_b=0, overlap=False):
    a = TrackedZone("A", shape(square(0, 0, 300)), 0)
    b = TrackedZone(
        "B", shape(square(100, 100, 100) if overlap else square(0, 300, 300)), priority_b
    )
    return ZoneTracker([a, b], hysteresis_m=15)


def at(t, north, east):
    return t.update(*offset(north, east))


def test_enter_and_leave_with_hysteresis():
    t = tracker()
    assert at(t, 150, -5) is None
    assert at(t, 150, 10) is None  # inside, but not 15 m inside yet
    assert at(t, 150, 20) == "A"
    assert at(t, 150, -10) == "A"  # 10 m outside: still A
    assert at(t, 150, -20) is None


def test_shared_border_switches_only_past_the_band():
    t = tracker()
    assert at(t, 150, 250) == "A"
    assert at(t, 150, 310) == "A"
    assert at(t, 150, 290) == "A"
    assert at(t, 150, 320) == "B"
    assert at(t, 150, 290) == "B"


def test_higher_priority_overlap_wins():
    t = tracker(priority_b=1, overlap=True)
    assert at(t, 50, 50) == "A"
    assert at(t, 150, 150) == "B"
    assert at(t, 150, 210) == "B"  # 10 m outside B's east side: still B
    assert at(t, 150, 230) == "A"
