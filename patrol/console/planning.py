"""Turning a plan request from the console into a plan: stored grids to ``missions`` grids,
``missions.planner.plan_patrol``, the broadcast playlists per zone through ``audio.plan`` with
the audibility estimate at the plan's altitude."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field
from shapely.geometry import shape

from audio.audibility import check_altitude
from audio.plan import BroadcastPlan, PlanError, build_plan
from missions.camera import CAMERAS, camera_named
from missions.errors import PlanningError
from missions.grids import Grid
from missions.items import Mission
from missions.planner import Plan, PlanSettings, plan_patrol
from patrol.console.deps import BodyId
from patrol.console.errors import ApiError
from patrol.console.services import Console
from patrol.console.site import Home, SiteSettings
from patrol.runner.route import is_waypoint


class ZoneBroadcast(BaseModel):
    grid_id: BodyId
    messages: list[BodyId] = Field(min_length=1, description="message ids, played in this order")
    loop: bool = True
    count: int = Field(default=1, ge=1, le=1000)
    gap_s: float = Field(default=2.0, ge=0, le=3600)
    volume: float = Field(default=1.0, gt=0, le=1)


class PlanRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    grid_ids: list[BodyId] = Field(min_length=1)
    no_fly_ids: list[BodyId] | None = Field(
        default=None, description="no-fly zones to keep out of (default: every stored one)"
    )
    pattern: Literal["coverage", "perimeter", "points"] = "coverage"
    alt: float | None = Field(default=None, gt=0, le=1000, description="default: the site's")
    speed: float | None = Field(default=None, gt=0, le=20, description="default: the site's")
    spacing: float | None = Field(
        default=None, gt=0, le=1000,
        description="coverage line spacing; not given and no camera: the site's default",
    )  # fmt: skip
    camera: str | None = Field(default=None, description=", ".join(sorted(CAMERAS)))
    overlap: float = Field(default=20.0, ge=0, lt=100)
    angle: float | None = Field(default=None, ge=0, lt=360)
    loiter: float = Field(default=30.0, ge=0, le=3600)
    endurance_min: float | None = Field(default=None, gt=0, le=180)
    home: Home | None = Field(default=None, description="default: the township's home")
    broadcast: list[ZoneBroadcast] = Field(default_factory=list)


@dataclass
class PlanResult:
    request: PlanRequest  # with the site's defaults filled in
    plan: Plan
    broadcast_spec: dict | None
    broadcast: BroadcastPlan | None
    audibility: list[dict] = field(default_factory=list)


# a planner message that starts with one of these is about that field of the form
_FIELD_OF = {"altitude": "alt", "speed": "speed", "spacing": "spacing",
             "endurance": "endurance_min", "home": "home", "the coverage pattern": "spacing",
             "unknown camera": "camera", "overlap": "overlap", "loiter": "loiter"}  # fmt: skip


def _planning_error(exc: PlanningError) -> ApiError:
    message = str(exc)
    fields = {f: message for start, f in _FIELD_OF.items() if message.lower().startswith(start)}
    return ApiError(400, message, fields)


def _grids(c: Console, ids: list[int], kind: str, field_name: str) -> list[Grid]:
    found = []
    for grid_id in ids:
        stored = c.planning.grid(grid_id)
        if stored is None or stored.kind != kind:
            what = "grid" if kind == "grid" else "no-fly zone"
            raise ApiError(400, f"no {what} {grid_id}", {field_name: f"no {what} {grid_id}"})
        found.append(Grid(stored.name, shape(stored.geometry), stored.properties))
    return found


def with_defaults(req: PlanRequest, site: SiteSettings) -> PlanRequest:
    """The request with what it leaves out taken from the site settings (altitude, speed,
    coverage spacing when there is no camera, the township's home)."""
    given = req.model_fields_set
    update: dict = {}
    if req.alt is None:
        update["alt"] = site.plan_alt_m
    if req.speed is None:
        update["speed"] = site.plan_speed_ms
    if "spacing" not in given and req.camera is None:
        update["spacing"] = site.plan_spacing_m
    if req.home is None:
        if site.home is None:
            message = "give a home (take-off point): no township home is set on the Admin page"
            raise ApiError(400, message, {"home": message})
        update["home"] = site.home
    return req.model_copy(update=update)


def make_plan(c: Console, req: PlanRequest) -> PlanResult:
    req = with_defaults(req, c.site.current)
    grids = _grids(c, req.grid_ids, "grid", "grid_ids")
    no_fly_ids = (
        req.no_fly_ids if req.no_fly_ids is not None else [g.id for g in c.planning.grids("no_fly")]
    )
    no_fly = _grids(c, no_fly_ids, "no_fly", "no_fly_ids")
    if req.pattern == "coverage" and req.spacing is None and req.camera is None:
        message = "the coverage pattern needs a line spacing or a camera"
        raise ApiError(400, message, {"spacing": message})
    try:
        settings = PlanSettings(
            pattern=req.pattern, alt=req.alt, speed=req.speed, spacing=req.spacing,
            camera=camera_named(req.camera) if req.camera else None, overlap=req.overlap,
            angle=req.angle % 180 if req.angle is not None else None, loiter=req.loiter,
            endurance_min=req.endurance_min, home_alt=req.home.alt, name=req.name,
        )  # fmt: skip
        plan = plan_patrol(grids, settings, (req.home.lat, req.home.lon), no_fly)
    except PlanningError as exc:
        raise _planning_error(exc) from None
    result = PlanResult(req, plan, None, None)
    if req.broadcast:
        names = {g.id: g.name for g in c.planning.grids("grid")}
        spec = {
            "name": req.name,
            "zones": [
                {"grid": names.get(z.grid_id, f"#{z.grid_id}"), "messages": z.messages,
                 "loop": z.loop, "count": z.count, "gap_s": z.gap_s, "volume": z.volume,
                 "alt_m": req.alt}
                for z in req.broadcast
            ],
        }  # fmt: skip
        polygons = {g.name: g.polygon for g in grids}
        try:
            result.broadcast = build_plan(spec, c.library.plan_message, polygons)
        except PlanError as exc:
            raise ApiError(
                400, "the broadcast playlists have problems", {"broadcast": exc.problems[0]},
                exc.problems,
            ) from None  # fmt: skip
        result.broadcast_spec = spec
        s = c.site.current
        for zone in result.broadcast.zones:
            a = check_altitude(zone.name, s.speaker_spl, req.alt, s.min_level_db)
            result.audibility.append(
                {"zone": zone.name, "level_db": round(a.level_db, 1),
                 "max_alt_m": round(a.max_alt_m), "ok": a.ok, "text": a.describe()}
            )  # fmt: skip
    return result


def route_geojson(mission: Mission) -> dict:
    """The sortie's route as a LineString: home, every waypoint, home."""
    home = mission.home
    points = [[home.lon, home.lat]]
    points += [[i.lon, i.lat] for s, i in enumerate(mission.items) if s > 0 and is_waypoint(i)]
    points.append([home.lon, home.lat])
    return {"type": "LineString", "coordinates": points}


def sorties_json(plan: Plan) -> list[dict]:
    return [
        {
            "number": n,
            "name": m.name,
            "items": len(m.items),
            "length_m": round(length, 1),
            "flight_time_s": round(time, 1),
            "route": route_geojson(m),
        }
        for n, (m, length, time) in enumerate(
            zip(plan.sorties, plan.sortie_lengths, plan.sortie_times, strict=True), 1
        )
    ]
