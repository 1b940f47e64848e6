"""Tables for patrols: a patrol has sorties (one plan flown by one vehicle), each sortie has
events (state changes, failsafes, operator commands, link changes) and reached items."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """A stored time as UTC-aware (SQLite hands back naive datetimes)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Patrol(Base):
    __tablename__ = "patrols"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(32), default="planned")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sorties: Mapped[list[Sortie]] = relationship(
        back_populates="patrol", order_by="Sortie.id", cascade="all, delete-orphan"
    )


class Sortie(Base):
    """One plan on one vehicle. ``mission`` is the plan as planned (JSON items, item 0 home);
    ``flying`` is what is on the vehicle now, with ``seq_map`` from its seqs to the plan's
    (the two differ after ``patrol resume``)."""

    __tablename__ = "sorties"

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"))
    connect: Mapped[str] = mapped_column(String(300))
    sysid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    plan_path: Mapped[str] = mapped_column(Text, default="")
    mission: Mapped[dict] = mapped_column(JSON)
    flying: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    seq_map: Mapped[list | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="planned")
    reason: Mapped[str] = mapped_column(Text, default="")
    last_reached: Mapped[int | None] = mapped_column(Integer, nullable=True)  # plan seq
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    tlog: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    patrol: Mapped[Patrol] = relationship(back_populates="sorties")
    events: Mapped[list[Event]] = relationship(
        back_populates="sortie", order_by="Event.id", cascade="all, delete-orphan"
    )
    reached: Mapped[list[ReachedItem]] = relationship(
        back_populates="sortie", order_by="ReachedItem.id", cascade="all, delete-orphan"
    )


class Event(Base):
    """``kind``: state, reached, failsafe, operator, statustext, mode, link, error."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    sortie_id: Mapped[int] = mapped_column(ForeignKey("sorties.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    sortie: Mapped[Sortie] = relationship(back_populates="events")


class ReachedItem(Base):
    __tablename__ = "reached_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    sortie_id: Mapped[int] = mapped_column(ForeignKey("sorties.id"))
    seq: Mapped[int] = mapped_column(Integer)  # in the plan's numbering
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    inferred: Mapped[bool] = mapped_column(default=False)  # from MISSION_CURRENT after a gap
    sortie: Mapped[Sortie] = relationship(back_populates="reached")
