"""Flags: what the camera found (a gathering, people without masks), placed on the map and queued
for an operator to review and hand to the ground staff.

One table of flags and one of review events, on the store's engine (SQLite by default,
PostgreSQL by URL), with JPEG crops and thumbnails as files under a media directory. The
pipeline writes observations; a flag's identity across frames is the tracker's ``(source,
track)``, so one gathering seen on many frames and sweep lines stays one flag, updated as it
grows or moves. The console and the terminal drive the review through :meth:`FlagStore.review`.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

FLAG_KINDS = ("gathering", "no_mask")
REVIEW_STATES = ("new", "confirmed", "dismissed", "assigned", "resolved")
# action -> (states it applies to, state it leads to; None keeps the state)
REVIEW_ACTIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "confirm": (frozenset({"new"}), "confirmed"),
    "dismiss": (frozenset({"new", "confirmed", "assigned"}), "dismissed"),
    "assign": (frozenset({"new", "confirmed", "assigned"}), "assigned"),
    "resolve": (frozenset({"assigned"}), "resolved"),
    "reopen": (frozenset({"dismissed", "resolved"}), "new"),
    "note": (frozenset(REVIEW_STATES), None),
}
MAX_JPEG_BYTES = 8 * 1024 * 1024
MAX_NOTE_CHARS = 2000
MAX_NAME_CHARS = 100


class FlagError(ValueError):
    """A flag that cannot be stored or a review step that is not allowed, with the reason."""


class Base(DeclarativeBase):
    pass


class FlagRow(Base):
    __tablename__ = "vision_flags"
    __table_args__ = (UniqueConstraint("source", "track", name="uq_vision_flags_track"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="new", index=True)
    count: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    error_m: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    grid: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    patrol_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    sortie_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(300), default="")
    track: Mapped[str | None] = mapped_column(String(100), nullable=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    observations: Mapped[int] = mapped_column(Integer, default=1)
    crop: Mapped[str | None] = mapped_column(String(300), nullable=True)
    thumbnail: Mapped[str | None] = mapped_column(String(300), nullable=True)
    assigned_to: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS), nullable=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FlagEventRow(Base):
    __tablename__ = "vision_flag_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("vision_flags.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[str | None] = mapped_column(String(300), nullable=True)


@dataclass(frozen=True)
class Observation:
    """One sighting from the pipeline: a new flag, or an update of the flag that has the same
    ``(source, track)``. Positions are WGS84 degrees; ``error_m`` is the expected error of the
    position (one sigma, metres); ``at`` is the frame's capture time (UTC)."""

    kind: str
    count: int
    confidence: float
    lat: float
    lon: float
    error_m: float
    at: datetime
    radius_m: float | None = None
    grid: str | None = None
    patrol_id: int | None = None
    sortie_id: int | None = None
    source: str = ""
    track: str | None = None
    crop_jpeg: bytes | None = None
    thumbnail_jpeg: bytes | None = None
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Flag:
    id: int
    kind: str
    state: str
    count: int
    confidence: float
    lat: float
    lon: float
    error_m: float
    radius_m: float | None
    grid: str | None
    patrol_id: int | None
    sortie_id: int | None
    source: str
    track: str | None
    first_seen: datetime
    last_seen: datetime
    observations: int
    crop: Path | None
    thumbnail: Path | None
    assigned_to: str | None
    detail: dict
    updated_at: datetime


@dataclass(frozen=True)
class FlagEvent:
    id: int
    flag_id: int
    at: datetime
    by: str
    action: str
    from_state: str
    to_state: str
    assignee: str | None
    note: str
    photo: Path | None


@dataclass(frozen=True)
class FlagFilter:
    """Which flags to list; ``None`` matches everything. Times compare with ``last_seen``."""

    kind: str | None = None
    state: str | None = None
    grid: str | None = None
    patrol_id: int | None = None
    sortie_id: int | None = None
    assigned_to: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _check_observation(obs: Observation) -> None:
    if obs.kind not in FLAG_KINDS:
        raise FlagError(f"flag kind {obs.kind!r}: must be one of {', '.join(FLAG_KINDS)}")
    if isinstance(obs.count, bool) or not isinstance(obs.count, int) or obs.count < 1:
        raise FlagError(f"flag count {obs.count!r}: must be a whole number of at least 1")
    numbers = {"confidence": obs.confidence, "lat": obs.lat, "lon": obs.lon,
               "error_m": obs.error_m}  # fmt: skip
    if obs.radius_m is not None:
        numbers["radius_m"] = obs.radius_m
    for name, value in numbers.items():
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise FlagError(f"flag {name} {value!r}: must be a finite number")
    if not 0.0 <= obs.confidence <= 1.0:
        raise FlagError(f"flag confidence {obs.confidence}: must be between 0 and 1")
    if not (-90.0 <= obs.lat <= 90.0 and -180.0 <= obs.lon <= 180.0):
        raise FlagError(f"flag position {obs.lat}, {obs.lon}: not a latitude, longitude")
    if obs.error_m < 0 or (obs.radius_m is not None and obs.radius_m < 0):
        raise FlagError("flag error_m and radius_m must not be negative")
    if obs.at.tzinfo is None:
        raise FlagError("flag time must be timezone-aware (UTC)")


def _check_jpeg(data: bytes | None, what: str) -> None:
    if data is None:
        return
    if len(data) > MAX_JPEG_BYTES:
        raise FlagError(f"{what}: {len(data)} bytes, over the {MAX_JPEG_BYTES} byte limit")
    if not data.startswith(b"\xff\xd8\xff"):
        raise FlagError(f"{what}: not a JPEG image")


class FlagStore:
    """Flags on ``engine``; their images under ``media_dir/flags/<id>/``."""

    def __init__(self, engine: Engine, media_dir: Path) -> None:
        self.engine = engine
        self.media_dir = Path(media_dir)
        Base.metadata.create_all(engine)

    # -- the pipeline's side ----------------------------------------------------------------
    def record(self, obs: Observation) -> Flag:
        """Store a sighting: a new flag, or the flag with the same ``(source, track)`` updated
        (count, position, error, confidence, last seen, images). The review state is kept."""
        _check_observation(obs)
        _check_jpeg(obs.crop_jpeg, "flag crop")
        _check_jpeg(obs.thumbnail_jpeg, "flag thumbnail")
        written: list[Path] = []
        with Session(self.engine) as session:
            row = None
            if obs.track is not None:
                row = session.scalars(
                    select(FlagRow).where(FlagRow.source == obs.source, FlagRow.track == obs.track)
                ).first()
            if row is None:
                row = FlagRow(
                    kind=obs.kind, state="new", source=obs.source, track=obs.track,
                    first_seen=obs.at, observations=0, detail={},
                )  # fmt: skip
                session.add(row)
            elif row.kind != obs.kind:
                raise FlagError(
                    f"track {obs.track!r} of {obs.source!r} is a {row.kind} flag, not {obs.kind}"
                )
            row.count = obs.count
            row.confidence = max(obs.confidence, row.confidence or 0.0)
            row.lat, row.lon, row.error_m, row.radius_m = (
                obs.lat,
                obs.lon,
                obs.error_m,
                obs.radius_m,
            )
            for name in ("grid", "patrol_id", "sortie_id"):
                if getattr(obs, name) is not None:
                    setattr(row, name, getattr(obs, name))
            row.last_seen = obs.at
            row.observations = (row.observations or 0) + 1
            row.detail = {**(row.detail or {}), **obs.detail}
            row.updated_at = datetime.now(UTC)
            session.flush()  # assigns the id for the image paths
            try:
                if obs.crop_jpeg is not None:
                    row.crop = self._write(row.id, f"crop-{row.observations}.jpg", obs.crop_jpeg)
                    written.append(self.media_dir / row.crop)
                if obs.thumbnail_jpeg is not None:
                    name = f"frame-{row.observations}.jpg"
                    row.thumbnail = self._write(row.id, name, obs.thumbnail_jpeg)
                    written.append(self.media_dir / row.thumbnail)
                session.commit()
            except BaseException:
                for path in written:
                    path.unlink(missing_ok=True)
                raise
            return self._flag(row)

    def _write(self, flag_id: int, name: str, data: bytes) -> str:
        relative = f"flags/{flag_id}/{name}"
        path = self.media_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return relative

    # -- reading ----------------------------------------------------------------------------
    def get(self, flag_id: int) -> Flag:
        with Session(self.engine) as session:
            row = session.get(FlagRow, flag_id)
            if row is None:
                raise FlagError(f"no flag {flag_id}")
            return self._flag(row)

    def _where(self, query, flt: FlagFilter):  # type: ignore[no-untyped-def]
        for name in ("kind", "state", "grid", "patrol_id", "sortie_id", "assigned_to"):
            value = getattr(flt, name)
            if value is not None:
                query = query.where(getattr(FlagRow, name) == value)
        # times are stored in UTC; SQLite keeps no offset, so compare in UTC as well
        if flt.since is not None:
            query = query.where(FlagRow.last_seen >= flt.since.astimezone(UTC))
        if flt.until is not None:
            query = query.where(FlagRow.last_seen <= flt.until.astimezone(UTC))
        return query

    def list(self, flt: FlagFilter | None = None, limit: int = 200, offset: int = 0) -> list[Flag]:
        """Flags matching ``flt``, newest sighting first."""
        query = self._where(select(FlagRow), flt or FlagFilter())
        query = query.order_by(FlagRow.last_seen.desc(), FlagRow.id.desc())
        with Session(self.engine) as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            return [self._flag(r) for r in rows]

    def count(self, flt: FlagFilter | None = None) -> int:
        query = self._where(select(func.count(FlagRow.id)), flt or FlagFilter())
        with Session(self.engine) as session:
            return int(session.scalar(query) or 0)

    def history(self, flag_id: int) -> list[FlagEvent]:
        with Session(self.engine) as session:
            rows = session.scalars(
                select(FlagEventRow)
                .where(FlagEventRow.flag_id == flag_id)
                .order_by(FlagEventRow.id)
            ).all()
            return [self._event(r) for r in rows]

    # -- review -----------------------------------------------------------------------------
    def review(
        self,
        flag_id: int,
        action: str,
        by: str,
        note: str = "",
        assignee: str | None = None,
        photo_jpeg: bytes | None = None,
    ) -> Flag:
        """Apply a review step (REVIEW_ACTIONS) by user ``by``: confirm, dismiss, assign (to
        ``assignee``, a member of the ground staff), resolve (with a note or photo), reopen, or
        add a note. Raises FlagError for a step the flag's state does not allow."""
        if action not in REVIEW_ACTIONS:
            raise FlagError(f"review action {action!r}: one of {', '.join(REVIEW_ACTIONS)}")
        by = (by or "").strip()
        if not by or len(by) > MAX_NAME_CHARS:
            raise FlagError("a review step needs the name of who took it")
        if len(note) > MAX_NOTE_CHARS:
            raise FlagError(f"the note is longer than {MAX_NOTE_CHARS} characters")
        if action == "assign":
            assignee = (assignee or "").strip()
            if not assignee or len(assignee) > MAX_NAME_CHARS:
                raise FlagError("assign needs the name of a member of the ground staff")
        elif assignee is not None:
            raise FlagError(f"only assign takes an assignee, not {action}")
        if action == "note" and not note.strip() and photo_jpeg is None:
            raise FlagError("a note needs text or a photo")
        _check_jpeg(photo_jpeg, "follow-up photo")
        allowed, target = REVIEW_ACTIONS[action]
        with Session(self.engine) as session:
            row = session.get(FlagRow, flag_id, with_for_update=True)
            if row is None:
                raise FlagError(f"no flag {flag_id}")
            if row.state not in allowed:
                raise FlagError(f"flag {flag_id} is {row.state}: it cannot be {action}ed")
            before = row.state
            row.state = target or row.state
            if action == "assign":
                row.assigned_to = assignee
            elif action in ("dismiss", "reopen"):
                row.assigned_to = None
            row.updated_at = datetime.now(UTC)
            event = FlagEventRow(
                flag_id=flag_id, at=row.updated_at, by=by, action=action, from_state=before,
                to_state=row.state, assignee=assignee, note=note,
            )  # fmt: skip
            session.add(event)
            session.flush()
            written = None
            try:
                if photo_jpeg is not None:
                    event.photo = self._write(flag_id, f"followup-{event.id}.jpg", photo_jpeg)
                    written = self.media_dir / event.photo
                session.commit()
            except BaseException:
                if written is not None:
                    written.unlink(missing_ok=True)
                raise
            return self._flag(row)

    # -- rows to values ---------------------------------------------------------------------
    def _path(self, relative: str | None) -> Path | None:
        return self.media_dir / relative if relative else None

    def _flag(self, row: FlagRow) -> Flag:
        return Flag(
            row.id, row.kind, row.state, row.count, row.confidence, row.lat, row.lon,
            row.error_m, row.radius_m, row.grid, row.patrol_id, row.sortie_id, row.source,
            row.track, _utc(row.first_seen), _utc(row.last_seen), row.observations,
            self._path(row.crop), self._path(row.thumbnail), row.assigned_to,
            dict(row.detail or {}), _utc(row.updated_at),
        )  # fmt: skip

    def _event(self, row: FlagEventRow) -> FlagEvent:
        return FlagEvent(
            row.id, row.flag_id, _utc(row.at), row.by, row.action, row.from_state, row.to_state,
            row.assignee, row.note, self._path(row.photo),
        )  # fmt: skip


# -- export ---------------------------------------------------------------------------------
EXPORT_FIELDS = ("id", "kind", "state", "count", "confidence", "lat", "lon", "error_m",
                 "radius_m", "grid", "patrol_id", "sortie_id", "source", "first_seen",
                 "last_seen", "observations", "assigned_to")  # fmt: skip


def _export_value(flag: Flag, name: str) -> object:
    value = getattr(flag, name)
    return value.isoformat() if isinstance(value, datetime) else value


def _csv_cell(value: object) -> object:
    # a text cell a spreadsheet would run as a formula (a grid named "=HYPERLINK(...)")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def to_geojson(flags: Iterable[Flag]) -> dict:
    """A FeatureCollection of Points ([lon, lat], RFC 7946) with the flags' fields."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f.id,
                "geometry": {"type": "Point", "coordinates": [f.lon, f.lat]},
                "properties": {n: _export_value(f, n) for n in EXPORT_FIELDS},
            }
            for f in flags
        ],
    }


def to_csv(flags: Iterable[Flag]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for f in flags:
        writer.writerow([_csv_cell(_export_value(f, n)) for n in EXPORT_FIELDS])
    return out.getvalue()
