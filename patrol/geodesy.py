"""Distances on the WGS84 ellipsoid."""

from __future__ import annotations

from pyproj import Geod

GEOD = Geod(ellps="WGS84")


def distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres on the WGS84 ellipsoid."""
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])
