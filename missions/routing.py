"""Shortest paths around no-fly zones on a visibility graph (local metres).

Zones are inflated by a clearance; the graph's nodes are the corners of the inflated zones and
its edges the node pairs whose straight leg keeps out of the zones (plus most of the clearance).
All-pairs node distances are computed once with scipy's Dijkstra, so a query only has to find
which nodes its two ends can see.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Point

from missions.errors import PlanningError

MAX_NODES = 800  # corners of the inflated zones: the visibility graph checks every pair
# A leg counts as crossing a zone when it enters the zone grown by this share of the clearance;
# the inflated corners (quad_segs=2) keep chords at >= cos(22.5°) = 0.92 of it.
BLOCK_SHARE = 0.85


class Router:
    def __init__(self, zones: list[shapely.Geometry], clearance: float, names: list[str]) -> None:
        self.zones = zones
        self.names = names
        self.clearance = clearance
        if not zones:
            self.blocking = None
            self.nodes = np.zeros((0, 2))
            return
        self.blocking = shapely.union_all([z.buffer(clearance * BLOCK_SHARE) for z in zones])
        shapely.prepare(self.blocking)
        # Simplifying by a tenth of the clearance keeps every chord outside ``blocking`` while
        # dropping the many vertices of round zones (fewer nodes, faster queries).
        inflated = shapely.union_all([z.buffer(clearance, quad_segs=2) for z in zones]).simplify(
            clearance * 0.1
        )
        corners = [
            np.asarray(p.exterior.coords)[:-1]
            for p in shapely.get_parts(inflated)
            if p.geom_type == "Polygon"
        ]
        nodes = np.vstack(corners)
        if len(nodes) > MAX_NODES:
            raise PlanningError(
                f"the no-fly zones keep {len(nodes):,} corners after simplifying at "
                f"{clearance * 0.1:g} m, over the {MAX_NODES:,} routing around them handles: "
                "simplify the zones (a few dozen corners each is plenty)"
            )
        nodes = nodes[~shapely.intersects_xy(self.blocking, nodes[:, 0], nodes[:, 1])]
        self.nodes = nodes
        n = len(nodes)
        i, j = np.triu_indices(n, 1)
        legs = shapely.linestrings(np.stack([nodes[i], nodes[j]], axis=1))
        free = ~shapely.intersects(legs, self.blocking)
        w = np.full((n, n), np.inf)
        d = np.hypot(*(nodes[i] - nodes[j]).T)
        w[i[free], j[free]] = d[free]
        w[j[free], i[free]] = d[free]
        graph = np.where(np.isfinite(w), w, 0.0)
        self.dist, self.pred = dijkstra(graph, directed=False, return_predecessors=True)

    def blocked(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """For arrays of leg ends (N, 2), which legs cross a zone."""
        if self.blocking is None or len(a) == 0:
            return np.zeros(len(a), dtype=bool)
        return shapely.intersects(shapely.linestrings(np.stack([a, b], axis=1)), self.blocking)

    def zone_at(self, p: np.ndarray) -> str | None:
        """Name of the zone (with clearance) containing point ``p``, if any."""
        if self.blocking is None or not self.blocking.intersects(Point(p)):
            return None
        dists = [z.distance(Point(p)) for z in self.zones]
        return self.names[int(np.argmin(dists))]

    def _visible(self, p: np.ndarray) -> np.ndarray:
        return ~self.blocked(np.repeat(p[None, :], len(self.nodes), axis=0), self.nodes)

    def path(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Shortest path from a to b (both ends included) that keeps out of every zone."""
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        if not self.blocked(a[None], b[None])[0]:
            return np.array([a, b])
        for end, label in ((a, "start"), (b, "end")):
            zone = self.zone_at(end)
            if zone:
                raise PlanningError(f"leg {label} lies inside no-fly zone '{zone}' (or its margin)")
        va, vb = self._visible(a), self._visible(b)
        if not va.any() or not vb.any():
            raise PlanningError("no way around the no-fly zones between these points")
        da = np.where(va, np.hypot(*(self.nodes - a).T), np.inf)
        db = np.where(vb, np.hypot(*(self.nodes - b).T), np.inf)
        total = da[:, None] + self.dist + db[None, :]
        i, j = np.unravel_index(np.argmin(total), total.shape)
        if not np.isfinite(total[i, j]):
            raise PlanningError("no way around the no-fly zones between these points")
        chain = [j]
        while chain[-1] != i:
            chain.append(self.pred[i, chain[-1]])
        return np.vstack([a, self.nodes[chain[::-1]], b])
