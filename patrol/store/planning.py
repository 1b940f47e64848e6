"""The console's planning tables: grids (village grids and no-fly zones, GeoJSON in WGS84) and
saved plans (settings, stats, the sorties as missions, the broadcast playlists per zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, DateTime, Engine, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from patrol.store.models import Base, aware, utcnow

GRID_KINDS = ("grid", "no_fly")


class PlanningStoreError(ValueError):
    pass


class GridRow(Base):
    __tablename__ = "console_grids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="grid")
    geometry: Mapped[dict] = mapped_column(JSON)  # GeoJSON Polygon/MultiPolygon, [lon, lat]
    properties: Mapped[dict] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PlanRow(Base):
    __tablename__ = "console_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict] = mapped_column(JSON)  # the request as given (grids by id, home ...)
    summary: Mapped[dict] = mapped_column(JSON)  # missions.planner.Plan.summary()
    sorties: Mapped[list] = mapped_column(JSON)  # patrol.store.patrols.mission_to_json each
    broadcast: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # audio.plan spec
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class StoredGrid:
    id: int
    name: str
    kind: str
    geometry: dict
    properties: dict
    source: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredPlan:
    id: int
    name: str
    settings: dict
    summary: dict
    sorties: list
    broadcast: dict | None
    created_by: str
    created_at: datetime


class PlanningStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        Base.metadata.create_all(engine, tables=[GridRow.__table__, PlanRow.__table__])

    # -- grids ------------------------------------------------------------------------------
    def add_grids(self, grids: list[dict], created_by: str, source: str) -> list[StoredGrid]:
        """Store ``grids`` (dicts with name, kind, geometry, properties) all or none: a name
        already taken refuses the lot."""
        names = [g["name"] for g in grids]
        with Session(self.engine) as s, s.begin():
            taken = set(s.scalars(select(GridRow.name).where(GridRow.name.in_(names))))
            if taken:
                raise PlanningStoreError(
                    "already stored under these names: " + ", ".join(sorted(taken))
                )
            rows = [
                GridRow(
                    name=g["name"], kind=g["kind"], geometry=g["geometry"],
                    properties=g.get("properties") or {}, source=source, created_by=created_by,
                )
                for g in grids
            ]  # fmt: skip
            s.add_all(rows)
            try:
                s.flush()
            except IntegrityError:
                raise PlanningStoreError("a grid name is already taken") from None
            return [_grid(r) for r in rows]

    def grids(self, kind: str | None = None) -> list[StoredGrid]:
        query = select(GridRow).order_by(GridRow.kind, GridRow.name)
        if kind:
            query = query.where(GridRow.kind == kind)
        with Session(self.engine) as s:
            return [_grid(r) for r in s.scalars(query)]

    def grid(self, grid_id: int) -> StoredGrid | None:
        with Session(self.engine) as s:
            row = s.get(GridRow, grid_id)
            return _grid(row) if row else None

    def update_grid(self, grid_id: int, **fields: object) -> StoredGrid:
        with Session(self.engine) as s:
            row = s.get(GridRow, grid_id)
            if row is None:
                raise LookupError(f"no grid {grid_id}")
            for key, value in fields.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            try:
                s.commit()
            except IntegrityError:
                raise PlanningStoreError(f"a grid named {fields.get('name')!r} exists") from None
            return _grid(row)

    def delete_grid(self, grid_id: int) -> None:
        with Session(self.engine) as s, s.begin():
            row = s.get(GridRow, grid_id)
            if row is None:
                raise LookupError(f"no grid {grid_id}")
            s.delete(row)

    # -- plans ------------------------------------------------------------------------------
    def add_plan(
        self,
        name: str,
        settings: dict,
        summary: dict,
        sorties: list,
        broadcast: dict | None,
        created_by: str,
    ) -> StoredPlan:
        row = PlanRow(
            name=name, settings=settings, summary=summary, sorties=sorties,
            broadcast=broadcast, created_by=created_by,
        )  # fmt: skip
        with Session(self.engine) as s, s.begin():
            s.add(row)
            s.flush()
            return _plan(row)

    def plans(self) -> list[StoredPlan]:
        with Session(self.engine) as s:
            return [_plan(r) for r in s.scalars(select(PlanRow).order_by(PlanRow.id.desc()))]

    def plan(self, plan_id: int) -> StoredPlan | None:
        with Session(self.engine) as s:
            row = s.get(PlanRow, plan_id)
            return _plan(row) if row else None

    def delete_plan(self, plan_id: int) -> None:
        with Session(self.engine) as s, s.begin():
            row = s.get(PlanRow, plan_id)
            if row is None:
                raise LookupError(f"no plan {plan_id}")
            s.delete(row)


def _grid(r: GridRow) -> StoredGrid:
    return StoredGrid(
        r.id, r.name, r.kind, r.geometry, dict(r.properties or {}), r.source, r.created_by,
        aware(r.created_at), aware(r.updated_at),
    )  # fmt: skip


def _plan(r: PlanRow) -> StoredPlan:
    return StoredPlan(
        r.id, r.name, r.settings, r.summary, list(r.sorties), r.broadcast, r.created_by,
        aware(r.created_at),
    )  # fmt: skip
