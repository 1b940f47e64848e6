"""``patrol serve --sim N``: the built-in simulated copters as a subprocess (``patrol sim``; the
console never imports the simulator), their ports (and, with ``--camera``, their cameras' URLs)
read from what it prints.

A sim copter's camera feeds the detection of every patrol launched on it: the worker's ``patrol
fly`` gets ``--camera URL --camera-link tcp:HOST:SERIAL2`` with the options below (the sim's
1280x720 camera, ``nanodet-drone``, the detector for people 13-51 px tall as the camera sees
them from 30-40 m, README "Detection models"). The camera renders about ``CAMERA_WALL_FPS``
frames per wall second whatever the speed-up: the detector cannot take more, and rendering more
would take the CPU the flight and the detectors need."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

_VEHICLE_LINE = re.compile(
    r"vehicle (\d+) sysid (\d+): tcp:([^:]+):(\d+) \(serial1 (\d+), serial2 (\d+)\)"
)
_CAMERA_LINE = re.compile(r"^camera (\d+): (http://\S+) \(")
CAMERA_SIZE = "1280x720"
CAMERA_MODEL = "sim-720p"
CAMERA_DETECTOR = "nanodet-drone"
CAMERA_WALL_FPS = 4.0


def camera_options(speedup: float) -> tuple[str, ...]:
    """``patrol sim`` options for cameras the console's detection keeps up with."""
    fps = min(10.0, max(0.1, CAMERA_WALL_FPS / speedup))
    return ("--camera", "--camera-port", "0", "--camera-size", CAMERA_SIZE,
            "--camera-fps", f"{fps:.3g}")  # fmt: skip


def detection_options(speedup: float) -> list[str]:
    """``patrol fly`` options for the detection on a sim camera: at a high speed-up the
    detector sees a gathering in one or two frames per pass, so one frame confirms it."""
    confirm = "1" if speedup >= 5 else "2"
    return ["--camera-model", CAMERA_MODEL, "--camera-detector", CAMERA_DETECTOR,
            "--camera-confirm", confirm]  # fmt: skip


class SimError(RuntimeError):
    pass


@dataclass(frozen=True)
class SimVehicle:
    index: int
    sysid: int
    host: str
    port: int
    serial1: int  # the companion computer's port, where a broadcast agent connects
    serial2: int = 0  # the camera's pose link (the detection reads the aircraft's pose here)
    camera: str | None = None  # its camera's MJPEG URL (patrol sim --camera)
    # (the aircraft's UTC time at boot, the wall UTC time then): its GPS clock runs the sim's
    # speed-up times faster than the wall's
    clock: tuple[float, float] | None = None

    def wall_time(self, aircraft: datetime, speedup: float) -> datetime:
        """The wall time at which the aircraft's clock said ``aircraft`` (its play log's
        times are the aircraft's)."""
        if self.clock is None:
            return aircraft
        boot, wall = self.clock
        return datetime.fromtimestamp(wall + (aircraft.timestamp() - boot) / speedup, UTC)

    @property
    def connect(self) -> str:
        return f"tcp:{self.host}:{self.port}"

    @property
    def camera_link(self) -> str:
        return f"tcp:{self.host}:{self.serial2}"


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
        boot = float(int(time.time()))  # the GPS time the copters boot with
        command = [
            sys.executable, "-m", "patrol.cli", "--data-dir", str(self.data_dir), "sim",
            "--count", str(self.count), "--port", "0", "--speedup", f"{self.speedup:g}",
            "--home", self.home, "--state-dir", str(self.data_dir / "sim" / "console"),
            "--start-time", datetime.fromtimestamp(boot, UTC).isoformat(), *self.extra,
        ]  # fmt: skip
        # its own session: a Ctrl-C at the terminal reaches the console, which stops the
        # simulator after the patrols and agents that fly on it (stop())
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        found: list[SimVehicle] = []
        cameras: dict[int, str] = {}
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
                        camera = _CAMERA_LINE.match(line)
                        if camera:
                            cameras[int(camera.group(1))] = camera.group(2)
                        match = _VEHICLE_LINE.search(line)
                        if match:
                            i, sysid, host, port, s1, s2 = match.groups()
                            found.append(
                                SimVehicle(int(i), int(sysid), host, int(port), int(s1), int(s2),
                                           cameras.get(int(i)))
                            )  # fmt: skip
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
        booted = time.time()  # the copters are up: their clocks started about now
        self.vehicles = [replace(v, clock=(boot, booted)) for v in found]
        return self.vehicles

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
