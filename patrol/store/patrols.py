"""Reading and writing patrols, sorties, events and reached items. Safe to call from several
threads (one short session per call)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from missions.items import Mission, MissionItem
from patrol.store import open_engine
from patrol.store.models import Base, Event, Patrol, ReachedItem, Sortie, utcnow

FINISHED = ("completed", "failed", "aborted")


def _item_json(item: MissionItem) -> dict:
    data = dataclasses.asdict(item)
    # JSON has no NaN: keep it as null
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in data.items()}


def _item_from_json(data: dict) -> MissionItem:
    return MissionItem(**{k: (math.nan if v is None else v) for k, v in data.items()})


def mission_to_json(mission: Mission) -> dict:
    return {
        "name": mission.name,
        "items": [_item_json(i) for i in mission.items],
        "fence": [_item_json(i) for i in mission.fence],
        "rally": [_item_json(i) for i in mission.rally],
        "params": dict(getattr(mission, "params", {}) or {}),
    }


def mission_from_json(data: dict) -> Mission:
    mission = Mission(
        items=[_item_from_json(i) for i in data["items"]],
        fence=[_item_from_json(i) for i in data.get("fence", [])],
        rally=[_item_from_json(i) for i in data.get("rally", [])],
        name=data.get("name", ""),
    )
    if data.get("params") and hasattr(mission, "params"):
        mission.params.update(data["params"])
    return mission


class PatrolStore:
    """The patrol tables on an engine (SQLite in the data directory by default)."""

    def __init__(self, engine: Engine | None = None, url: str | None = None) -> None:
        self.engine = engine or open_engine(url)
        Base.metadata.create_all(self.engine)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def create_patrol(self, name: str, sorties: Sequence[tuple[str, str, Mission]]) -> Patrol:
        """A new patrol with one sortie per (connect, plan path, mission)."""
        with self.session() as s, s.begin():
            patrol = Patrol(name=name, status="planned")
            for connect, plan_path, mission in sorties:
                patrol.sorties.append(
                    Sortie(connect=connect, plan_path=plan_path, mission=mission_to_json(mission))
                )
            s.add(patrol)
        return self.get_patrol(patrol.id)

    def get_patrol(self, patrol_id: int) -> Patrol | None:
        with self.session() as s:
            return s.scalar(
                select(Patrol)
                .where(Patrol.id == patrol_id)
                .options(
                    selectinload(Patrol.sorties).selectinload(Sortie.events),
                    selectinload(Patrol.sorties).selectinload(Sortie.reached),
                )
            )

    def list_patrols(self, limit: int = 50) -> list[Patrol]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(Patrol)
                    .order_by(Patrol.id.desc())
                    .limit(limit)
                    .options(selectinload(Patrol.sorties))
                )
            )

    def update_patrol(self, patrol_id: int, **fields: object) -> None:
        with self.session() as s, s.begin():
            patrol = s.get(Patrol, patrol_id)
            for key, value in fields.items():
                setattr(patrol, key, value)

    def update_sortie(self, sortie_id: int, **fields: object) -> None:
        with self.session() as s, s.begin():
            sortie = s.get(Sortie, sortie_id)
            for key, value in fields.items():
                setattr(sortie, key, value)

    def add_event(self, sortie_id: int, kind: str, detail: str) -> None:
        with self.session() as s, s.begin():
            s.add(Event(sortie_id=sortie_id, kind=kind, detail=detail, at=utcnow()))

    def add_reached(
        self,
        sortie_id: int,
        seq: int,
        lat: float | None = None,
        lon: float | None = None,
        inferred: bool = False,
    ) -> bool:
        """Record plan item ``seq`` as reached (once); returns False if it already was."""
        with self.session() as s, s.begin():
            known = s.scalar(
                select(ReachedItem.id).where(
                    ReachedItem.sortie_id == sortie_id, ReachedItem.seq == seq
                )
            )
            if known is not None:
                return False
            s.add(ReachedItem(sortie_id=sortie_id, seq=seq, lat=lat, lon=lon, inferred=inferred))
            sortie = s.get(Sortie, sortie_id)
            if sortie.last_reached is None or seq > sortie.last_reached:
                sortie.last_reached = seq
        return True

    def events(self, sortie_id: int, kind: str | None = None) -> list[Event]:
        with self.session() as s:
            query = select(Event).where(Event.sortie_id == sortie_id).order_by(Event.id)
            if kind:
                query = query.where(Event.kind == kind)
            return list(s.scalars(query))

    def reached_seqs(self, sortie_id: int) -> list[int]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(ReachedItem.seq)
                    .where(ReachedItem.sortie_id == sortie_id)
                    .order_by(ReachedItem.seq)
                )
            )
