"""``patrol serve --sim N``: the built-in simulated copters as a subprocess (``patrol sim``; the
console never imports the simulator), their ports read from what it prints."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_VEHICLE_LINE = re.compile(
    r"vehicle (\d+) sysid (\d+): tcp:([^:]+):(\d+) \(serial1 (\d+), serial2 (\d+)\)"
)


class SimError(RuntimeError):
    pass


@dataclass(frozen=True)
class SimVehicle:
    index: int
    sysid: int
    host: str
    port: int
    serial1: int  # the companion computer's port, where a broadcast agent connects

    @property
    def connect(self) -> str:
        return f"tcp:{self.host}:{self.port}"


class SimProcess:
    """``patrol sim --count N --port 0`` started and watched; ``vehicles`` once it is up."""

    def __init__(
        self,
        count: int,
        data_dir: Path,
        speedup: float,
        home: str,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.count = count
        self.data_dir = Path(data_dir)
        self.speedup = speedup
        self.home = home
        self.extra = extra
        self.vehicles: list[SimVehicle] = []
        self.process: subprocess.Popen[str] | None = None
        self.log_path = self.data_dir / "logs" / "console-sim.log"

    def start(self, timeout: float = 30.0) -> list[SimVehicle]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "patrol.cli", "--data-dir", str(self.data_dir), "sim",
            "--count", str(self.count), "--port", "0", "--speedup", f"{self.speedup:g}",
            "--home", self.home, "--state-dir", str(self.data_dir / "sim" / "console"),
            *self.extra,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        found: list[SimVehicle] = []
        lines: list[str] = []
        done = threading.Event()

        def read() -> None:
            assert self.process is not None and self.process.stdout is not None
            with self.log_path.open("a", encoding="utf-8") as log:
                for line in self.process.stdout:
                    log.write(line)
                    log.flush()
                    if not done.is_set():
                        lines.append(line.strip())
                        match = _VEHICLE_LINE.search(line)
                        if match:
                            i, sysid, host, port, s1, _s2 = match.groups()
                            found.append(SimVehicle(int(i), int(sysid), host, int(port), int(s1)))
                            if len(found) == self.count:
                                done.set()
            done.set()

        threading.Thread(target=read, name="sim-output", daemon=True).start()
        deadline = time.monotonic() + timeout
        while not done.wait(0.1):
            if time.monotonic() > deadline:
                self.stop()
                raise SimError(f"patrol sim did not start in {timeout:g} s")
        if len(found) != self.count:
            self.stop()
            raise SimError("patrol sim stopped: " + (lines[-1] if lines else "no output"))
        self.vehicles = found
        return found

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
