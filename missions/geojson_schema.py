"""GeoJSON (RFC 7946) as the grid reader accepts it, declared as strict pydantic models.

Types are strict (a coordinate is a JSON number, never a string or a boolean); foreign members
and ``bbox`` are allowed. Two leniencies real exports need, and which geojson-pydantic's models
refuse: rings need not repeat their first position at the end, and a position may carry a
fourth value (a measure). Ring sizes and closure are checked after validation, where the
message can say which ring of which feature.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from missions.validation import Number

Position = Annotated[list[Number], Field(min_length=2, max_length=4)]


class _Geometry(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class Point(_Geometry):
    type: Literal["Point"]
    coordinates: Position


class MultiPoint(_Geometry):
    type: Literal["MultiPoint"]
    coordinates: list[Position]


class LineString(_Geometry):
    type: Literal["LineString"]
    coordinates: list[Position]


class MultiLineString(_Geometry):
    type: Literal["MultiLineString"]
    coordinates: list[list[Position]]


class Polygon(_Geometry):
    type: Literal["Polygon"]
    coordinates: list[list[Position]]


class MultiPolygon(_Geometry):
    type: Literal["MultiPolygon"]
    coordinates: list[list[list[Position]]]


class GeometryCollection(_Geometry):
    type: Literal["GeometryCollection"]
    geometries: list[Geometry]


Geometry = Annotated[
    Point | MultiPoint | LineString | MultiLineString | Polygon | MultiPolygon | GeometryCollection,
    Field(discriminator="type"),
]
GeometryCollection.model_rebuild()
GEOMETRY_TYPES = frozenset(
    (
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    )
)


class Feature(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    type: Literal["Feature"]
    geometry: Geometry | None = None
    properties: dict[str, Any] | None = None


class FeatureCollection(BaseModel):
    """The collection; each feature is validated on its own so that a bad one names itself."""

    model_config = ConfigDict(strict=True, extra="allow")
    type: Literal["FeatureCollection"]
    features: list[Any]
