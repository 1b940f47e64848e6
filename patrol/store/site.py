"""The console's site settings as an admin saved them (tile URL, upload limit, plan defaults,
the township's home, ...): one row per setting with who saved it and when. The console checks
the values (``patrol.console.site``); the store keeps them as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, DateTime, Engine, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from patrol.store.models import Base, aware, utcnow


class SettingRow(Base):
    __tablename__ = "console_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class StoredSetting:
    key: str
    value: object
    updated_by: str
    updated_at: datetime


class SiteStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        Base.metadata.create_all(engine, tables=[SettingRow.__table__])

    def all(self) -> dict[str, StoredSetting]:
        with Session(self.engine) as s:
            return {
                r.key: StoredSetting(r.key, r.value, r.updated_by, aware(r.updated_at))
                for r in s.scalars(select(SettingRow))
            }

    def save(self, values: dict[str, object], by: str, reset: tuple[str, ...] = ()) -> None:
        """Store ``values`` and forget the ``reset`` keys, in one transaction."""
        with Session(self.engine) as s, s.begin():
            if reset:
                s.execute(delete(SettingRow).where(SettingRow.key.in_(reset)))
            for key, value in values.items():
                row = s.get(SettingRow, key)
                if row is None:
                    s.add(SettingRow(key=key, value=value, updated_by=by, updated_at=utcnow()))
                else:
                    row.value, row.updated_by, row.updated_at = value, by, utcnow()
