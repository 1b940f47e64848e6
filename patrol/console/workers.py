"""Patrols launched from the console: each runs in a supervised worker, a subprocess running
the same ``patrol fly`` (or ``patrol resume``) code as a terminal would, with its claims and
control channel. The server records each worker (command, pid, who started it, its log) and its
exit. Workers run in their own session: a console restart leaves the aircraft's controller
running, and the restarted console finds it again through its claims."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import JSON, DateTime, Engine, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from missions.formats import write_mission
from patrol.console.settings import ConsoleSettings
from patrol.store.claims import pid_alive
from patrol.store.models import Base, aware, utcnow
from patrol.store.patrols import mission_from_json
from patrol.store.planning import StoredPlan

_PATROL_LINE = re.compile(r"^patrol (\d+): \d+ sortie")


class LaunchRow(Base):
    __tablename__ = "console_launches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # fly, resume
    plan_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    patrol_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    argv: Mapped[list] = mapped_column(JSON)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    log_path: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class Launch:
    id: int
    kind: str
    plan_id: int | None
    patrol_id: int | None
    pid: int | None
    started_by: str
    started_at: datetime
    ended_at: datetime | None
    exit_code: int | None
    log_path: str

    @property
    def running(self) -> bool:
        return self.ended_at is None


def _launch(r: LaunchRow) -> Launch:
    return Launch(
        r.id, r.kind, r.plan_id, r.patrol_id, r.pid, r.started_by, aware(r.started_at),
        aware(r.ended_at) if r.ended_at else None, r.exit_code, r.log_path,
    )  # fmt: skip


class Workers:
    def __init__(self, engine: Engine, settings: ConsoleSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.root = settings.data_dir / "console" / "launches"
        Base.metadata.create_all(engine, tables=[LaunchRow.__table__])
        self._processes: dict[int, subprocess.Popen] = {}
        self._watchers: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Adopt workers left by a previous console: watch those still running, close the
        records of those gone."""
        for launch in self.launches(running=True):
            threading.Thread(target=self._adopt, args=(launch,), daemon=True).start()

    # -- launching --------------------------------------------------------------------------
    def fly(
        self,
        plan: StoredPlan,
        connects: list[str],
        by: str,
        cameras: list[tuple[str, str]] | None = None,
        camera_options: list[str] | None = None,
        grids: dict | None = None,
    ) -> Launch:
        """Launch ``plan``, sortie i on ``connects[i]``; with ``cameras`` ((stream URL, pose
        link) per sortie, in order) a detection runs beside each sortie, its flags tagged with
        ``grids`` (a GeoJSON FeatureCollection)."""
        folder = self.root / f"plan-{plan.id}-{time.strftime('%Y%m%dT%H%M%S')}"
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for n, mission_json in enumerate(plan.sorties, 1):
            path = folder / f"sortie-{n}.plan"
            write_mission(path, mission_from_json(mission_json))
            files.append(str(path))
        argv = ["fly", *files]
        for connect in connects:
            argv += ["--connect", connect]
        argv += ["--name", plan.name]
        for url, link in cameras or []:
            argv += ["--camera", url, "--camera-link", link]
        if cameras:
            argv += camera_options or []
            if grids and grids.get("features"):
                path = folder / "grids.geojson"
                path.write_text(json.dumps(grids, ensure_ascii=False), encoding="utf-8")
                argv += ["--camera-grids", str(path)]
        return self._spawn("fly", argv, by, folder, plan_id=plan.id)

    def resume(self, patrol_id: int, by: str) -> Launch:
        folder = self.root / f"resume-{patrol_id}-{time.strftime('%Y%m%dT%H%M%S')}"
        folder.mkdir(parents=True, exist_ok=True)
        return self._spawn("resume", ["resume", str(patrol_id)], by, folder, patrol_id=patrol_id)

    def _spawn(
        self,
        kind: str,
        argv: list[str],
        by: str,
        folder: Path,
        plan_id: int | None = None,
        patrol_id: int | None = None,
    ) -> Launch:
        argv = [*argv, "--speedup", f"{self.settings.speedup:g}", "--wait", "60"]
        if self.settings.db_url:
            argv += ["--db", self.settings.db_url]
        command = [sys.executable, "-m", "patrol.cli", "--data-dir",
                   str(self.settings.data_dir), *argv]  # fmt: skip
        log_path = folder / "worker.log"
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PATROL_DATA_DIR": str(self.settings.data_dir),
        }
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, start_new_session=True,
            )  # fmt: skip
        row = LaunchRow(
            kind=kind, plan_id=plan_id, patrol_id=patrol_id, argv=argv, pid=process.pid,
            started_by=by, log_path=str(log_path),
        )  # fmt: skip
        with Session(self.engine) as s, s.begin():
            s.add(row)
            s.flush()
            launch = _launch(row)
        watcher = threading.Thread(target=self._watch, args=(launch, process), daemon=True)
        with self._lock:
            self._processes[launch.id] = process
            self._watchers.append(watcher)
        watcher.start()
        return launch

    # -- watching ---------------------------------------------------------------------------
    def _patrol_from_log(self, launch: Launch) -> None:
        if launch.patrol_id is not None:
            return
        try:
            text = Path(launch.log_path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
        for line in text.splitlines():
            match = _PATROL_LINE.match(line)
            if match:
                self._set(launch.id, patrol_id=int(match.group(1)))
                return

    def _watch(self, launch: Launch, process: subprocess.Popen) -> None:
        while process.poll() is None:
            self._patrol_from_log(self.launch(launch.id) or launch)
            time.sleep(0.5)
        self._patrol_from_log(self.launch(launch.id) or launch)
        self._set(launch.id, exit_code=process.returncode, ended_at=utcnow())
        with self._lock:
            self._processes.pop(launch.id, None)

    def _adopt(self, launch: Launch) -> None:
        while launch.pid is not None and pid_alive(launch.pid):
            time.sleep(1.0)
        self._patrol_from_log(launch)
        self._set(launch.id, ended_at=utcnow())  # not our child: its exit status is unknown

    def _set(self, launch_id: int, **fields: object) -> None:
        with Session(self.engine) as s, s.begin():
            row = s.get(LaunchRow, launch_id)
            for key, value in fields.items():
                setattr(row, key, value)

    # -- reading ----------------------------------------------------------------------------
    def launch(self, launch_id: int) -> Launch | None:
        with Session(self.engine) as s:
            row = s.get(LaunchRow, launch_id)
            return _launch(row) if row else None

    def launches(self, running: bool | None = None, limit: int = 50) -> list[Launch]:
        query = select(LaunchRow).order_by(LaunchRow.id.desc()).limit(limit)
        if running is not None:
            query = query.where(
                LaunchRow.ended_at.is_(None) if running else LaunchRow.ended_at.is_not(None)
            )
        with Session(self.engine) as s:
            return [_launch(r) for r in s.scalars(query)]

    def log_tail(self, launch: Launch, lines: int = 40) -> list[str]:
        try:
            text = Path(launch.log_path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]

    def stop_all(self, timeout: float = 20.0) -> None:
        """Detach the workers this server started (Ctrl-C, then quit watching: the aircraft
        carry on) and record their exits; tests, the benchmark and ``patrol demo`` end with
        it."""
        with self._lock:
            processes = list(self._processes.values())
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # the controller detaches cleanly
        for process in processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:  # each records its worker's exit before we go
            watcher.join(5)
