"""Broadcast agents for the simulated copters of ``patrol serve --sim``: one ``patrol
broadcast-agent`` per copter on its companion port (SERIAL1), started when a plan with
broadcast playlists is first launched on it; a later launch replaces its plan.zip, which the
agent reloads. Each simulator the console starts is a session with a folder of its own,
``<data>/console/agents/<UTC start>/``: ``session.json`` (its copters, their clocks, the
speed-up) and ``v<sysid>/plays.jsonl``, the plays each agent logged, where the patrol report
reads them (a real aircraft's agent log is uploaded instead). Every session's aircraft clocks
start at the same time of day, so only the session a sortie flew in says which plays are its."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from patrol.console.simulated import SimVehicle

SESSION_FILE = "session.json"


class SimAgents:
    def __init__(self, data_dir: Path, speedup: float) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "console" / "agents"
        self.speedup = speedup
        self.session: Path | None = None
        self._processes: dict[int, subprocess.Popen] = {}

    def start_session(self, vehicles: list[SimVehicle]) -> None:
        """A simulator started: its copters' agents log under a new session folder."""
        now = datetime.now(UTC)
        session = self.root / now.strftime("%Y%m%dT%H%M%S.%fZ")
        session.mkdir(parents=True, exist_ok=True)
        record = {
            "started": now.isoformat(),
            "speedup": self.speedup,
            "vehicles": [asdict(v) for v in vehicles],
        }
        tmp = session / f"{SESSION_FILE}.tmp"
        tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(tmp, session / SESSION_FILE)
        self.session = session

    def folder(self, sysid: int) -> Path:
        if self.session is None:
            raise RuntimeError("no simulator session: start_session() first")
        return self.session / f"v{sysid}"

    def ensure(self, vehicle: SimVehicle, write_bundle: Callable[[Path], None]) -> None:
        """Give ``vehicle``'s agent the bundle ``write_bundle`` writes; start the agent."""
        folder = self.folder(vehicle.sysid)
        folder.mkdir(parents=True, exist_ok=True)
        plan = folder / "plan.zip"
        tmp = folder / "plan.zip.tmp"
        write_bundle(tmp)
        os.replace(tmp, plan)
        process = self._processes.get(vehicle.sysid)
        if process is not None and process.poll() is None:
            return
        command = [
            sys.executable, "-m", "patrol.cli", "--data-dir", str(self.data_dir),
            "broadcast-agent", "--connect", f"tcp:{vehicle.host}:{vehicle.serial1}",
            "--sysid", str(vehicle.sysid), "--plan", str(plan), "--sink", f"dir:{folder}",
            "--time-scale", f"{self.speedup:g}",
        ]  # fmt: skip
        with (folder / "agent.log").open("ab") as log:
            # its own session: a Ctrl-C at the terminal reaches the console, which stops
            # the agents (stop()) once the patrols on their copters have let go
            self._processes[vehicle.sysid] = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip

    def stop(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self._processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def sim_session_for(
    root: Path, connect: str, sysid: int, started: datetime
) -> tuple[Path, SimVehicle, float] | None:
    """Where the agent of a sortie flown on a simulated copter logged its plays: the latest
    session under ``root`` that began before ``started`` and had a copter on ``connect``
    with ``sysid``; with that copter (its clock) and the session's speed-up."""
    best: tuple[datetime, Path, SimVehicle, float] | None = None
    for path in Path(root).glob(f"*/{SESSION_FILE}"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            began = datetime.fromisoformat(record["started"])
            speedup = float(record["speedup"])
            vehicles = [_vehicle(v) for v in record["vehicles"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a session this console wrote
        if began > started or (best is not None and began <= best[0]):
            continue
        for vehicle in vehicles:
            if vehicle.connect == connect and vehicle.sysid == sysid:
                best = (began, path.parent / f"v{sysid}", vehicle, speedup)
    return best[1:] if best is not None else None


def _vehicle(fields: dict) -> SimVehicle:
    clock = fields.get("clock")
    return SimVehicle(**{**fields, "clock": tuple(clock) if clock is not None else None})


def read_plays(folder: Path) -> Iterator[dict]:
    """Every play an agent logged under ``folder`` (plays.jsonl), skipping torn lines."""
    path = Path(folder) / "plays.jsonl"
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            yield record
