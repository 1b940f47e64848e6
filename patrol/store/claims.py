"""Who commands a vehicle: one live claim per vehicle (its link plus system id), taken
atomically by the controller process that flies it (``patrol fly``/``resume``, in a terminal
or as a console worker), kept alive by a heartbeat, and taken over only when stale: the
heartbeat is old and the process is gone. The claim names the controller's control socket,
through which the console watches and commands the vehicle (``patrol.runner.control``)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Engine, Integer, String, Text, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from patrol.link import parse_endpoint
from patrol.store.models import Base, aware, utcnow

STALE_AFTER = timedelta(seconds=15)  # a controller heartbeats every 2 s
# on this host a claim whose process is gone is stale at once (``patrol resume`` right after a
# crash re-attaches); one whose pid still runs but has not beaten for this long is a hung
# controller or a reused pid
HUNG_AFTER = timedelta(seconds=60)


class ClaimRefused(Exception):
    """The vehicle is commanded by another live controller."""


class ClaimRow(Base):
    __tablename__ = "vehicle_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle: Mapped[str] = mapped_column(String(300), unique=True)  # link + "#" + sysid
    connect: Mapped[str] = mapped_column(String(300))
    sysid: Mapped[int] = mapped_column(Integer)
    sortie_id: Mapped[int] = mapped_column(Integer)
    patrol_id: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    control_socket: Mapped[str] = mapped_column(Text)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class Claim:
    id: int
    vehicle: str
    connect: str
    sysid: int
    sortie_id: int
    patrol_id: int
    owner: str
    pid: int
    host: str
    control_socket: str
    claimed_at: datetime
    heartbeat_at: datetime

    def stale(self, now: datetime | None = None) -> bool:
        """The controller is gone: on this host its process is not running (or has not beaten
        for HUNG_AFTER); on another host, where its pid cannot be checked, no heartbeat for
        STALE_AFTER."""
        silent = (now or utcnow()) - self.heartbeat_at
        if self.host != socket.gethostname():
            return silent >= STALE_AFTER
        return not pid_alive(self.pid) or silent >= HUNG_AFTER

    def describe(self) -> str:
        return f"controller {self.owner} (pid {self.pid} on {self.host}, sortie {self.sortie_id})"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def vehicle_key(connect: str, sysid: int) -> str:
    """One vehicle: its transport (without ``@SYSID``) and system id."""
    return f"{parse_endpoint(connect).device}#{sysid}"


def _claim(row: ClaimRow) -> Claim:
    return Claim(
        row.id, row.vehicle, row.connect, row.sysid, row.sortie_id, row.patrol_id, row.owner,
        row.pid, row.host, row.control_socket, aware(row.claimed_at), aware(row.heartbeat_at),
    )  # fmt: skip


class ClaimStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        Base.metadata.create_all(engine, tables=[ClaimRow.__table__])

    def claim(
        self,
        connect: str,
        sysid: int,
        sortie_id: int,
        patrol_id: int,
        owner: str,
        control_socket: str,
    ) -> Claim:
        """Claim the vehicle for ``owner``; a stale claim is taken over, a live one refused
        (ClaimRefused names its holder). Re-claiming one's own vehicle just renews it."""
        key = vehicle_key(connect, sysid)
        for _attempt in range(3):
            with Session(self.engine) as s:
                held = s.scalars(select(ClaimRow).where(ClaimRow.vehicle == key)).first()
                if held is not None and held.owner != owner:
                    current = _claim(held)
                    if not current.stale():
                        raise ClaimRefused(
                            f"vehicle {sysid} on {key.partition('#')[0]} is commanded by "
                            f"{current.describe()}"
                        )
                    # take over: only if it is still that very claim (another may be faster)
                    s.execute(
                        delete(ClaimRow).where(
                            ClaimRow.id == held.id, ClaimRow.heartbeat_at == held.heartbeat_at
                        )
                    )
                elif held is not None:
                    s.delete(held)
                s.add(
                    ClaimRow(
                        vehicle=key, connect=connect, sysid=sysid, sortie_id=sortie_id,
                        patrol_id=patrol_id, owner=owner, pid=os.getpid(),
                        host=socket.gethostname(), control_socket=control_socket,
                        claimed_at=utcnow(), heartbeat_at=utcnow(),
                    )
                )  # fmt: skip
                try:
                    s.commit()
                except IntegrityError:  # another controller claimed it between our steps
                    s.rollback()
                    continue
            return self._by_vehicle(key)
        current = self._by_vehicle(key)
        where = key.partition("#")[0]
        raise ClaimRefused(f"vehicle {sysid} on {where} is commanded by {current.describe()}")

    def _by_vehicle(self, key: str) -> Claim:
        with Session(self.engine) as s:
            return _claim(s.scalars(select(ClaimRow).where(ClaimRow.vehicle == key)).one())

    def heartbeat(self, owner: str) -> int:
        with Session(self.engine) as s, s.begin():
            result = s.execute(
                update(ClaimRow).where(ClaimRow.owner == owner).values(heartbeat_at=utcnow())
            )
            return result.rowcount or 0

    def release(self, owner: str, sortie_id: int | None = None) -> None:
        query = delete(ClaimRow).where(ClaimRow.owner == owner)
        if sortie_id is not None:
            query = query.where(ClaimRow.sortie_id == sortie_id)
        with Session(self.engine) as s, s.begin():
            s.execute(query)

    def claims(self, live_only: bool = True) -> list[Claim]:
        with Session(self.engine) as s:
            found = [_claim(r) for r in s.scalars(select(ClaimRow).order_by(ClaimRow.id))]
        return [c for c in found if not (live_only and c.stale())]

    def for_sortie(self, sortie_id: int) -> Claim | None:
        return next((c for c in self.claims() if c.sortie_id == sortie_id), None)
