"""Which broadcast zone the aircraft is in, with hysteresis at the borders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from pyproj import Transformer
from shapely import prepared
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry


class LocalFrame:
    """An azimuthal equidistant projection centred on the zones: metres, little distortion over
    a township."""

    def __init__(self, lon0: float, lat0: float) -> None:
        proj = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m +no_defs"
        self._forward = Transformer.from_crs("EPSG:4326", proj, always_xy=True)

    @classmethod
    def around(cls, shapes: Sequence[BaseGeometry]) -> LocalFrame:
        xs = [s.centroid.x for s in shapes] or [0.0]
        ys = [s.centroid.y for s in shapes] or [0.0]
        return cls(sum(xs) / len(xs), sum(ys) / len(ys))

    def shape(self, lonlat: BaseGeometry) -> BaseGeometry:
        return shapely.transform(lonlat, self._forward.transform, interleaved=False)

    def point(self, lon: float, lat: float) -> Point:
        return Point(*self._forward.transform(lon, lat))


@dataclass(frozen=True)
class TrackedZone:
    name: str
    polygon: BaseGeometry  # lon/lat
    priority: int


class ZoneTracker:
    """Enter a zone only once ``hysteresis_m`` inside it; leave it only once ``hysteresis_m``
    outside it. Where zones overlap the higher priority wins (the plan refuses overlaps of equal
    priority)."""

    def __init__(self, zones: Sequence[TrackedZone], hysteresis_m: float) -> None:
        self.frame = LocalFrame.around([z.polygon for z in zones])
        self.hysteresis_m = hysteresis_m
        self._zones = {z.name: z for z in zones}
        self._inner = {}
        self._outer = {}
        for z in zones:
            local = self.frame.shape(z.polygon)
            self._inner[z.name] = prepared.prep(local.buffer(-hysteresis_m))
            self._outer[z.name] = prepared.prep(local.buffer(hysteresis_m))
        self.current: str | None = None

    def update(self, lat: float, lon: float) -> str | None:
        p = self.frame.point(lon, lat)
        entered = [z for z in self._zones.values() if self._inner[z.name].contains(p)]
        best = max(entered, key=lambda z: z.priority, default=None)
        if self.current is not None and self._outer[self.current].contains(p):
            keep = self._zones[self.current]
            if best is None or best.priority <= keep.priority:
                return self.current
        self.current = best.name if best else None
        return self.current
