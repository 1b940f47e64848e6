"""QGroundControl .plan files as strict pydantic models: the keys, types and versions
QGroundControl checks when it loads one.

From QGroundControl's sources: ``PlanMasterController::loadFromFile`` (fileType "Plan",
groundStation, version 1; mission, geoFence and rallyPoints objects all required),
``MissionController::_loadJsonMissionFileV2`` (plannedHomePosition [lat, lon, alt], items,
firmwareType required; vehicleType, cruiseSpeed, hoverSpeed, globalPlanAltitudeMode optional
numbers), ``MissionItem::load`` (type, frame, command, params of 7 numbers or null,
autoContinue a boolean), ``GeoFenceController::load`` (version 2, circles and polygons
arrays, breachReturn [lat, lon, alt]), ``QGCFencePolygon::loadFromJson`` (version 1, inclusion
a boolean, polygon of [lat, lon]) and ``RallyPointController::load`` (version 2, points of
[lat, lon, alt]). A JSON null stands for NaN wherever QGroundControl reads a double.

``PlanFile`` is what a plan must be for QGroundControl to open it (what the writer is tested
against, and what ``patrol fly`` reads); ``PlanGrids`` is the looser view the grid reader takes
of plans other tools wrote: only the polygons it plans over need to be well formed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from missions.validation import Number, Whole

LatLon = Annotated[list[Number | None], Field(min_length=2, max_length=2)]
LatLonAlt = Annotated[list[Number | None], Field(min_length=3, max_length=3)]
LatLonFix = Annotated[list[Number], Field(min_length=2, max_length=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class SimpleItem(_Strict):
    type: Literal["SimpleItem"]
    command: Whole
    frame: Whole
    params: Annotated[list[Number | None], Field(min_length=7, max_length=7)]
    autoContinue: bool
    doJumpId: Whole | None = None


class MissionPart(_Strict):
    version: Literal[2]
    firmwareType: Whole
    vehicleType: Whole | None = None
    cruiseSpeed: Number | None = None
    hoverSpeed: Number | None = None
    globalPlanAltitudeMode: Whole | None = None
    plannedHomePosition: LatLonAlt
    items: list[dict[str, Any]]


class FencePolygon(_Strict):
    version: Literal[1]
    inclusion: bool
    polygon: list[LatLon]


class Circle(_Strict):
    center: LatLon
    radius: Number


class FenceCircle(_Strict):
    version: Literal[1]
    inclusion: bool
    circle: Circle


class GeoFence(_Strict):
    version: Literal[2]
    polygons: list[FencePolygon]
    circles: list[FenceCircle]
    breachReturn: LatLonAlt | None = None


class RallyPoints(_Strict):
    version: Literal[2]
    points: list[LatLonAlt]


class GridpatrolPart(_Strict):
    """Gridpatrol's own key (QGroundControl ignores it): the vehicle parameters to set."""

    name: str = ""
    params: dict[str, Number] = {}


class PlanFile(_Strict):
    fileType: Literal["Plan"]
    groundStation: str
    version: Literal[1]
    mission: MissionPart
    geoFence: GeoFence
    rallyPoints: RallyPoints
    gridpatrol: GridpatrolPart | None = None


class ReadablePlan(PlanFile):
    """What ``patrol fly`` reads: a ``PlanFile``; a geoFence or rallyPoints object of version 1
    is ignored, as QGroundControl ignores it."""

    geoFence: GeoFence | None
    rallyPoints: RallyPoints | None

    @model_validator(mode="before")
    @classmethod
    def _ignore_old_parts(cls, data: Any) -> Any:
        if isinstance(data, dict):
            old = [k for k in ("geoFence", "rallyPoints") if _version(data.get(k)) == 1]
            data = data | dict.fromkeys(old)
        return data


def _version(part: Any) -> Any:
    return part.get("version") if isinstance(part, dict) else None


# ---- the grid reader's view ---------------------------------------------------------------


class AnyFencePolygon(_Strict):
    inclusion: bool = True
    polygon: list[LatLonFix]


class AnyGeoFence(_Strict):
    polygons: list[AnyFencePolygon] = []
    circles: list[Any] = []
    polygon: list[LatLonFix] | None = None  # geoFence version 1 kept one inclusion polygon


class SurveyItem(_Strict):
    """A complex item with an area (Survey, Corridor Scan, Structure Scan)."""

    type: Literal["ComplexItem"]
    complexItemType: str = "survey"
    polygon: list[LatLonFix]


class AnyMission(_Strict):
    items: list[Any] = []


class PlanGrids(_Strict):
    fileType: Literal["Plan"]
    geoFence: AnyGeoFence | None = None
    mission: AnyMission | None = None
