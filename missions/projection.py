"""A local metric frame (transverse Mercator centred on the patrol area) for planning in metres."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import shapely
from pyproj import Transformer

G = TypeVar("G", bound=shapely.Geometry)


class LocalFrame:
    """Transverse Mercator on WGS84 centred at (lat0, lon0): x east, y north, metres.

    Scale error stays below 1e-6 within tens of kilometres of the centre, so distances and
    areas in this frame are true to well under a centimetre per kilometre.
    """

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0 = lat0 = float(lat0)
        self.lon0 = lon0 = float(lon0)
        # the pipeline Transformer.from_crs("EPSG:4326", tmerc, always_xy=True) settles on,
        # given directly: from_crs searches PROJ's database for it, 25 ms each time
        self._tm = Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=tmerc +lat_0={lat0!r} +lon_0={lon0!r} +k=1 +x_0=0 +y_0=0 +ellps=WGS84"
        )

    def to_local(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Degrees (lon, lat) -> metres (x, y); arrays or scalars."""
        return self._tm.transform(lon, lat)

    def to_geo(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Metres (x, y) -> degrees (lon, lat); arrays or scalars."""
        return self._tm.transform(x, y, direction="INVERSE")

    def geom_to_local(self, geom: G) -> G:
        return shapely.transform(geom, self._coords_to_local)

    def geom_to_geo(self, geom: G) -> G:
        return shapely.transform(geom, self._coords_to_geo)

    def _coords_to_local(self, coords: np.ndarray) -> np.ndarray:
        x, y = self._tm.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def _coords_to_geo(self, coords: np.ndarray) -> np.ndarray:
        lon, lat = self._tm.transform(coords[:, 0], coords[:, 1], direction="INVERSE")
        return np.column_stack([lon, lat])


def frame_for(geoms: list[shapely.Geometry]) -> LocalFrame:
    """A frame centred on the bounding box of some lon/lat geometries."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray(geoms, dtype=object))
    return LocalFrame((ymin + ymax) / 2, (xmin + xmax) / 2)
