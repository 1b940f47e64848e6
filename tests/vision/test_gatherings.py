"""Clustering in ground metres and tracking: one gathering is one track across frames and
sweep lines; a person walking past never makes a gathering."""

import numpy as np
import pytest

from vision.gatherings import Sighting, Tracker, cluster


def test_single_linkage_chains_people_under_the_distance():
    # a chain 1.9 m apart is one group though its ends are 5.7 m apart; a gap of 2.1 m splits
    chain = [(0, 0), (1.9, 0), (3.8, 0), (5.7, 0)]
    apart = [(20, 0), (22.1, 0), (24.2, 0)]
    groups = cluster(np.array(chain + apart + [(50, 50)]))
    assert [g.tolist() for g in groups] == [[0, 1, 2, 3]]
    assert [g.tolist() for g in cluster(np.array(apart), distance_m=2.2)] == [[0, 1, 2]]
    assert cluster(np.array(chain[:2])) == []  # two people are no gathering
    assert [len(g) for g in cluster(np.array(chain + apart), min_size=2)] == [4]
    assert cluster(np.empty((0, 2))) == []


def sight(north, east, count=4, error=1.0, edge=False, radius=1.0):
    return Sighting(north, east, error, count, radius, 0.9, edge)


def test_a_group_seen_over_frames_and_from_the_next_sweep_line_is_one_track():
    tracker = Tracker(confirm=2)
    first = tracker.update(0.0, [sight(100, 50)])
    assert not first[0][0].confirmed
    for t in (1.0, 2.0, 3.0):
        [(track, _)] = tracker.update(t, [sight(100 + 0.3 * t, 50)])
        assert track.id == "g1" and track.confirmed
    # four minutes later, the next sweep line sees it 2.5 m off (another attitude error)
    [(again, _)] = tracker.update(240.0, [sight(101.5, 52)])
    assert again.id == "g1" and again.seen == 5
    assert len(tracker.tracks) == 1


def test_two_groups_in_one_frame_stay_two_tracks_however_close():
    tracker = Tracker()
    tracker.update(0.0, [sight(0, 0)])
    pairs = tracker.update(1.0, [sight(0, 1.0), sight(0, 4.0)])
    assert sorted(t.id for t, _ in pairs) == ["g1", "g2"]
    # the nearer one continues g1
    assert next(t.id for t, s in pairs if s.east == 1.0) == "g1"


def test_far_groups_start_their_own_tracks():
    tracker = Tracker(gate_m=4.0)
    tracker.update(0.0, [sight(0, 0)])
    [(track, _)] = tracker.update(1.0, [sight(0, 7.0, radius=1.0)])
    assert track.id == "g2"


def test_count_is_the_most_seen_at_once_and_the_edge_only_counts_when_nothing_better():
    tracker = Tracker(window_s=20.0)
    tracker.update(0.0, [sight(0, 0, count=3, edge=True, error=1.0)])
    tracker.update(1.0, [sight(0.4, 0, count=5, error=1.0)])
    [(track, _)] = tracker.update(2.0, [sight(0.6, 0, count=4, error=1.0)])
    assert track.count == 5  # a detector missed someone in the last frame
    assert track.north == pytest.approx(0.5)  # the two fully seen sightings, averaged
    [(track, _)] = tracker.update(300.0, [sight(0.5, 0, count=8)])
    assert track.count == 8  # it grew: the old pass no longer counts
    [(track, _)] = tracker.update(600.0, [sight(0.5, 0, count=3)])
    assert track.count == 3  # and it shrank


def test_a_person_walking_past_never_makes_a_gathering():
    """Pooled over frames a walker's own positions would form a tight chain; the clustering
    only ever sees one frame's people."""
    tracker = Tracker(confirm=1)
    walker = [(10 + 1.4 * 0.5 * k, 5) for k in range(30)]  # 1.4 m/s, a frame every 0.5 s
    standing = [(40, 0), (40, 3)]  # two people 3 m apart: no gathering either
    for k, position in enumerate(walker):
        people = np.array([position, *standing])
        groups = cluster(people)
        pairs = tracker.update(0.5 * k, [sight(*people[g].mean(axis=0), len(g)) for g in groups])
        assert pairs == []
    assert [len(g) for g in cluster(np.array(walker))] == [30]  # what pooling would give


def test_a_stored_flag_is_continued_by_a_new_track():
    tracker = Tracker(adopt=lambda n, e: "s1-g4" if abs(n) < 5 and abs(e) < 5 else None)
    [(mine, _)] = tracker.update(0.0, [sight(1, 1)])
    assert mine.id == "s1-g4" and mine.adopted and mine.confirmed
    [(other, _)] = tracker.update(0.0, [sight(100, 100)])
    assert other.id == "g1" and not other.confirmed
