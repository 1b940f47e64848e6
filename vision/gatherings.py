"""Gatherings: people clustered on the ground, tracked from frame to frame and across sweep
lines so that one gathering is one track (and one flag), updated as it grows or moves.

Clustering is single-linkage in ground metres (DBSCAN with one neighbour): people closer than
``distance_m`` to someone in the group belong to it; a group of at least ``min_size`` is a
gathering. It runs on each frame's people alone: pooling detections over frames would turn one
person walking past into a "gathering" of their own positions.

Tracking associates each frame's clusters with the tracks one to one (Hungarian assignment on
the distance between centres, within a gate that widens with the tracks' radii), so two groups
seen in one frame never merge, and a group seen again minutes later from the next sweep line
picks up its old track. A track is confirmed after ``confirm`` sightings.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

UNASSIGNED = 1e9


def cluster(points: np.ndarray, distance_m: float = 2.0, min_size: int = 3) -> list[np.ndarray]:
    """Index arrays of the groups of ``points`` (n, 2 metres) linked by gaps under
    ``distance_m``, keeping groups of at least ``min_size``, largest first."""
    points = np.asarray(points, float).reshape(-1, 2)
    n = len(points)
    if n == 0 or n < min_size:
        return []
    pairs = cKDTree(points).query_pairs(distance_m, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    groups = [np.flatnonzero(labels == k) for k in np.unique(labels)]
    groups = [g for g in groups if len(g) >= min_size]
    return sorted(groups, key=lambda g: (-len(g), int(g[0])))


@dataclass(frozen=True)
class Sighting:
    """One cluster in one frame: centre (north, east metres in the tracker's local frame),
    expected error of the centre, people counted, radius, mean detector score, and whether a
    member touched the frame's edge (then some of the group may be out of view)."""

    north: float
    east: float
    error_m: float
    count: int
    radius_m: float
    score: float
    at_edge: bool = False
    members: tuple[int, ...] = ()


@dataclass
class Track:
    id: str
    north: float
    east: float
    error_m: float
    count: int
    radius_m: float
    score: float
    first_t: float
    last_t: float
    seen: int = 1
    confirmed: bool = False
    adopted: bool = False  # continues a flag stored before (another sortie, a restart)
    sightings: list[tuple[float, Sighting]] = field(default_factory=list)

    def distance(self, s: Sighting) -> float:
        return float(np.hypot(self.north - s.north, self.east - s.east))


# (north, east) -> the id of an existing track to continue, or None
Adopt = Callable[[float, float], str | None]


class Tracker:
    """Tracks of one kind of finding; ids are ``prefix`` + a number."""

    def __init__(
        self,
        prefix: str = "g",
        gate_m: float = 4.0,
        confirm: int = 2,
        forget_s: float = 3600.0,
        adopt: Adopt | None = None,
        window_s: float = 20.0,
    ) -> None:
        self.prefix = prefix
        self.gate_m = gate_m
        self.confirm = confirm
        self.window_s = window_s
        self.forget_s = forget_s
        self.adopt = adopt
        self.tracks: list[Track] = []
        self._numbers = itertools.count(1)

    def _gate(self, track: Track, s: Sighting) -> float:
        return self.gate_m + 0.5 * (track.radius_m + s.radius_m)

    def update(self, t: float, sightings: list[Sighting]) -> list[tuple[Track, Sighting]]:
        """Assign this frame's sightings to tracks (new ones where none is close enough)."""
        self.tracks = [tr for tr in self.tracks if t - tr.last_t <= self.forget_s]
        result: list[tuple[Track, Sighting]] = []
        unmatched = list(range(len(sightings)))
        if self.tracks and sightings:
            cost = np.full((len(self.tracks), len(sightings)), UNASSIGNED)
            for i, tr in enumerate(self.tracks):
                for j, s in enumerate(sightings):
                    d = tr.distance(s)
                    if d <= self._gate(tr, s):
                        cost[i, j] = d
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols, strict=True):
                if cost[i, j] < UNASSIGNED:
                    self._follow(self.tracks[i], t, sightings[j])
                    result.append((self.tracks[i], sightings[j]))
                    unmatched.remove(j)
        for j in unmatched:
            s = sightings[j]
            result.append((self._new(t, s), s))
        return result

    def _new(self, t: float, s: Sighting) -> Track:
        adopted = self.adopt(s.north, s.east) if self.adopt is not None else None
        track = Track(
            adopted or f"{self.prefix}{next(self._numbers)}",
            s.north,
            s.east,
            s.error_m,
            s.count,
            s.radius_m,
            s.score,
            t,
            t,
            adopted=adopted is not None,
        )
        track.confirmed = track.adopted or self.confirm <= 1
        track.sightings.append((t, s))
        self.tracks.append(track)
        return track

    def _follow(self, track: Track, t: float, s: Sighting) -> None:
        track.seen += 1
        track.last_t = max(track.last_t, t)
        track.sightings.append((t, s))
        recent = [x for when, x in track.sightings if when >= track.last_t - self.window_s]
        track.sightings = [(w, x) for w, x in track.sightings if w >= track.last_t - self.window_s]
        best = [x for x in recent if not x.at_edge] or recent
        weights = np.array([1.0 / max(x.error_m, 0.01) ** 2 for x in best])
        track.north = float(np.average([x.north for x in best], weights=weights))
        track.east = float(np.average([x.east for x in best], weights=weights))
        # the sightings of one pass share their attitude and position errors: averaging them
        # does not shrink the error, so the centre keeps their (weighted) typical error
        track.error_m = float(np.average([x.error_m for x in best], weights=weights))
        track.count = max(x.count for x in recent)
        track.radius_m = max(x.radius_m for x in best)
        track.score = max(track.score, s.score)
        if track.seen >= self.confirm:
            track.confirmed = True
