"""Helpers for the planner tests: sample data paths and small grid files written on the fly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from missions.projection import LocalFrame

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
HOME = (27.57, 119.71)
FRAME = LocalFrame(*HOME)


def lonlat_ring(xy: list[tuple[float, float]]) -> list[list[float]]:
    """Local metres around HOME -> a closed GeoJSON ring of [lon, lat]."""
    ring = []
    for x, y in xy:
        lon, lat = FRAME.to_geo(x, y)
        ring.append([float(lon), float(lat)])
    return [*ring, ring[0]]


def feature(name: str | None, geometry: dict | None, **props) -> dict:
    properties = ({"name": name} if name else {}) | props
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def polygon(xy: list[tuple[float, float]], *holes: list[tuple[float, float]]) -> dict:
    return {"type": "Polygon", "coordinates": [lonlat_ring(xy), *(lonlat_ring(h) for h in holes)]}


def square(x: float, y: float, size: float) -> list[tuple[float, float]]:
    return [(x, y), (x + size, y), (x + size, y + size), (x, y + size)]


@pytest.fixture
def write_geojson(tmp_path: Path):
    def write(features: list[dict], name: str = "grids.geojson") -> Path:
        path = tmp_path / name
        doc = {"type": "FeatureCollection", "features": features}
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("PATROL_DATA_DIR", str(path))
    return path
