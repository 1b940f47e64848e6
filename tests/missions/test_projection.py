from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from shapely.geometry import Polygon

from missions.projection import LocalFrame, frame_for

FRAME = LocalFrame(27.57, 119.71)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.floats(-30_000, 30_000, allow_nan=False),
    st.floats(-30_000, 30_000, allow_nan=False),
)
def test_round_trip_to_the_centimetre(x, y):
    lon, lat = FRAME.to_geo(x, y)
    x2, y2 = FRAME.to_local(lon, lat)
    assert abs(x2 - x) < 0.01 and abs(y2 - y) < 0.01


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.floats(-80, 80), st.floats(-180, 180))
def test_the_frame_is_pyproj_transverse_mercator_from_wgs84(lat0, lon0):
    frame = LocalFrame(lat0, lon0)
    tmerc = f"+proj=tmerc +lat_0={lat0!r} +lon_0={lon0!r} +k=1 +x_0=0 +y_0=0 +ellps=WGS84"
    forward = Transformer.from_crs("EPSG:4326", tmerc, always_xy=True)
    lon = np.clip(lon0 + np.linspace(-0.3, 0.3, 7), -180, 180)
    lat = np.clip(lat0 + np.linspace(-0.3, 0.3, 7), -89, 89)
    x, y = frame.to_local(lon, lat)
    x2, y2 = forward.transform(lon, lat)
    assert np.abs(np.concatenate([x - x2, y - y2])).max() < 1e-6
    back = frame.to_geo(x, y)
    assert np.abs(np.concatenate([back[0] - lon, back[1] - lat])).max() < 1e-9


def test_geo_round_trip_of_geometries():
    poly = Polygon([(119.70, 27.56), (119.72, 27.56), (119.72, 27.58), (119.70, 27.58)])
    back = FRAME.geom_to_geo(FRAME.geom_to_local(poly))
    assert np.abs(np.asarray(back.exterior.coords) - np.asarray(poly.exterior.coords)).max() < 1e-9


def test_distances_match_the_ellipsoid():
    geod = Geod(ellps="WGS84")
    lon2, lat2 = 119.73, 27.59
    _, _, true = geod.inv(119.71, 27.57, lon2, lat2)
    x, y = FRAME.to_local(lon2, lat2)
    assert abs(np.hypot(x, y) - true) < 0.01  # 2.9 km, under a centimetre


def test_frame_for_is_centred():
    poly = Polygon([(119.0, 27.0), (119.2, 27.0), (119.2, 27.4), (119.0, 27.4)])
    f = frame_for([poly])
    assert (f.lat0, f.lon0) == (27.2, 119.1)
