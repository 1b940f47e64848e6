"""Grids and no-fly zones: import (GeoJSON, KML, .plan: every problem listed per feature,
nothing saved from a file with any), draw, rename, reshape, delete; the grids page."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from shapely.geometry import mapping, shape

from missions.errors import GridFileError
from missions.grids import Grid, geodesic_area, load_grids, read_grids
from patrol.console.deps import OPERATOR, RowId, audit, console, page, require
from patrol.console.errors import ApiError
from patrol.console.services import Console
from patrol.console.templating import render
from patrol.console.uploads import saved_upload
from patrol.store.accounts import SignedIn, User
from patrol.store.planning import PlanningStoreError, StoredGrid

router = APIRouter(tags=["grids"])
GRID_FILES = (".geojson", ".json", ".kml", ".plan")
Kind = Literal["grid", "no_fly"]


class GridIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: Kind = "grid"
    geometry: dict


class GridChange(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: Kind | None = None
    geometry: dict | None = None


def feature(g: StoredGrid) -> dict:
    return {
        "type": "Feature",
        "id": g.id,
        "geometry": g.geometry,
        "properties": {
            "id": g.id,
            "name": g.name,
            "kind": g.kind,
            "area_m2": round(geodesic_area(shape(g.geometry)), 1),
            "source": g.source,
            "created_by": g.created_by,
        },
    }


def _problems(exc: GridFileError, path: Path, shown: str) -> list[str]:
    """The checker's lines with our temporary file's name replaced by the browser's."""
    return [p.replace(str(path), shown) for p in exc.problems]


def checked_geometry(name: str, geometry: dict) -> dict:
    """A drawn polygon through the same checks as an imported file (missions.grids)."""
    doc = {"type": "Feature", "properties": {"name": name}, "geometry": geometry}
    with tempfile.TemporaryDirectory(prefix="gridpatrol-grid-") as folder:
        path = Path(folder) / "drawn.geojson"
        path.write_text(json.dumps(doc), encoding="utf-8")
        try:
            (grid,) = load_grids(path)
        except GridFileError as exc:
            reasons = [p.split(": ", 2)[-1] for p in exc.problems]
            raise ApiError(400, f"{name}: {'; '.join(reasons)}", {"geometry": reasons[0]}) from None
    return mapping(grid.polygon)


@router.get("/api/grids")
def list_grids(
    c: Annotated[Console, Depends(console)],
    _user: Annotated[User, Depends(require(OPERATOR, "reviewer"))],
    kind: Kind | None = None,
) -> dict:
    """Every grid and no-fly zone as a GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": [feature(g) for g in c.planning.grids(kind)]}


@router.post("/api/grids/import", status_code=201)
def import_grids(
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, Depends(require(OPERATOR))],
    file: Annotated[UploadFile, File()],
    kind: Annotated[Kind, Form()] = "grid",
    repair: Annotated[bool, Form()] = False,
) -> dict:
    """Import every polygon of a GeoJSON, KML or QGroundControl .plan file. A file with any
    problem saves nothing and answers 400 with ``problems``, one line per feature."""
    with saved_upload(file, GRID_FILES, c.site.current.max_upload_bytes) as (path, shown):
        try:
            read = read_grids(path, repair=repair)
        except GridFileError as exc:
            problems = _problems(exc, path, shown)
            message = f"{shown}: {len(problems)} problem(s), nothing imported"
            raise ApiError(400, message, {"file": problems[0]}, problems) from None
    grids: list[Grid] = read.grids
    notice = read.notice(pins_used=False, hover_hint=False)
    try:
        stored = c.planning.add_grids(
            [
                {"name": g.name, "kind": kind, "geometry": mapping(g.polygon),
                 "properties": _json_safe(g.properties)}
                for g in grids
            ],
            user.name,
            shown,
        )  # fmt: skip
    except PlanningStoreError as exc:
        raise ApiError(409, f"{shown}: {exc}; nothing imported", {"file": str(exc)}) from None
    audit(request, user, "grids-import", shown, f"{len(stored)} {kind}")
    repairs = [f"{g.name}: {r}" for g in grids for r in g.repairs]
    # what was not imported (pins, paths) and why, in the file's own words for the operator
    left_out = [notice.replace(str(path), shown)] if notice else []
    return {"imported": [feature(g) for g in stored], "repairs": repairs, "left_out": left_out}


def _json_safe(properties: dict) -> dict:
    return json.loads(json.dumps(properties, default=str))


@router.post("/api/grids", status_code=201)
def add_grid(
    body: GridIn,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, Depends(require(OPERATOR))],
) -> dict:
    """A grid drawn on the map, checked as an imported one would be."""
    name = body.name.strip()
    geometry = checked_geometry(name, body.geometry)
    try:
        (stored,) = c.planning.add_grids(
            [{"name": name, "kind": body.kind, "geometry": geometry}], user.name, "drawn"
        )
    except PlanningStoreError:
        raise ApiError(409, f"a grid named {name!r} exists", {"name": "name taken"}) from None
    audit(request, user, "grid-add", name, body.kind)
    return feature(stored)


def _grid(c: Console, grid_id: int) -> StoredGrid:
    grid = c.planning.grid(grid_id)
    if grid is None:
        raise ApiError(404, f"no grid {grid_id}")
    return grid


@router.patch("/api/grids/{grid_id}")
def change_grid(
    grid_id: RowId,
    body: GridChange,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, Depends(require(OPERATOR))],
) -> dict:
    """Rename, reshape or re-kind a grid."""
    grid = _grid(c, grid_id)
    fields: dict = {}
    if body.name is not None and body.name.strip() != grid.name:
        fields["name"] = body.name.strip()
    if body.kind is not None:
        fields["kind"] = body.kind
    if body.geometry is not None:
        fields["geometry"] = checked_geometry(fields.get("name", grid.name), body.geometry)
    try:
        stored = c.planning.update_grid(grid_id, **fields)
    except PlanningStoreError as exc:
        raise ApiError(409, str(exc), {"name": str(exc)}) from None
    audit(request, user, "grid-change", stored.name, ", ".join(fields) or "nothing")
    return feature(stored)


@router.delete("/api/grids/{grid_id}")
def delete_grid(
    grid_id: RowId,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, Depends(require(OPERATOR))],
) -> dict:
    grid = _grid(c, grid_id)
    c.planning.delete_grid(grid_id)
    audit(request, user, "grid-delete", grid.name)
    return {"ok": True}


@router.get("/grids", include_in_schema=False)
def grids_page(
    request: Request, signed_in: Annotated[SignedIn, Depends(page(OPERATOR))]
) -> HTMLResponse:
    return render(request, "grids.html", signed_in)
