"""Broadcast agents for the simulated copters of ``patrol serve --sim``: one ``patrol
broadcast-agent`` per copter on its companion port (SERIAL1), started when a plan with
broadcast playlists is first launched on it; a later launch replaces its plan.zip, which the
agent reloads. Each agent logs its plays to ``<data>/console/agents/v<sysid>/plays.jsonl``,
where the patrol report reads them (a real aircraft's agent log is uploaded instead)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from patrol.console.simulated import SimVehicle


class SimAgents:
    def __init__(self, data_dir: Path, speedup: float) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "console" / "agents"
        self.speedup = speedup
        self._processes: dict[int, subprocess.Popen] = {}

    def folder(self, sysid: int) -> Path:
        return self.root / f"v{sysid}"

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
