"""Flat-earth offsets in metres, as ArduPilot's Location::offset / get_distance_NE use them."""

from __future__ import annotations

import math

# ArduPilot's LOCATION_SCALING_FACTOR: metres per degree of latitude (WGS-84 equatorial radius).
METRES_PER_DEGREE = 6378100.0 * math.pi / 180.0


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The position ``north_m``/``east_m`` metres away from (lat, lon), in degrees."""
    dlat = north_m / METRES_PER_DEGREE
    dlon = east_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return lat + dlat, lon + dlon


def ne_between(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """North and east metres from point 1 to point 2."""
    north = (lat2 - lat1) * METRES_PER_DEGREE
    east = (lon2 - lon1) * METRES_PER_DEGREE * max(math.cos(math.radians(lat1)), 0.01)
    return north, east


def distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    north, east = ne_between(lat1, lon1, lat2, lon2)
    return math.hypot(north, east)
