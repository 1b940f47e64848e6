"""Launch ArduPilot's own SITL binaries (``arducopter``) in place of the built-in copter, with
the same count, home, speedup and port layout (instance i on base_port + 10*i)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_PORT = 5760


@dataclass
class SitlInstance:
    index: int
    argv: list[str]
    workdir: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def sysid(self) -> int:
        return self.index + 1

    @property
    def ports(self) -> tuple[int, int, int]:
        return (self.port, self.port + 2, self.port + 3)


class SitlFleet:
    """``count`` SITL processes, each in its own working directory (its eeprom.bin, logs)."""

    def __init__(
        self,
        binary: str | Path,
        count: int = 1,
        home: tuple[float, float, float, float] = (27.57, 119.71, 200.0, 0.0),
        speedup: float = 1.0,
        base_port: int = DEFAULT_BASE_PORT,
        work_dir: str | Path = ".",
        defaults: str | Path | None = None,
        wipe: bool = False,
        model: str = "+",
        start_time: float | None = None,
    ):
        path = Path(binary)
        if not path.is_file():
            raise FileNotFoundError(f"SITL binary not found: {path}")
        if not os.access(path, os.X_OK):
            raise PermissionError(f"SITL binary is not executable: {path}")
        if defaults is not None and not Path(defaults).is_file():
            raise FileNotFoundError(f"SITL defaults file not found: {defaults}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self.binary = path.resolve()
        self.work_dir = Path(work_dir)
        self.start_time = start_time  # unix seconds the GPS reports at boot (SITL --start-time)
        self.instances = [
            self._instance(i, home, speedup, base_port, defaults, wipe, model) for i in range(count)
        ]

    def _instance(self, i, home, speedup, base_port, defaults, wipe, model) -> SitlInstance:
        workdir = self.work_dir / f"instance-{i}"
        lat, lon, alt, hdg = home
        argv = [str(self.binary), "--model", model, "--speedup", f"{speedup:g}"]
        argv += ["--home", f"{lat:.7f},{lon:.7f},{alt:g},{hdg:g}"]
        port = base_port + 10 * i
        if base_port != DEFAULT_BASE_PORT:
            argv += ["--base-port", str(port)]  # SITL wants it before -I
        argv += ["--instance", str(i), "--sysid", str(i + 1)]
        if defaults is not None:
            argv += ["--defaults", str(Path(defaults).resolve())]
        if self.start_time is not None:
            argv += ["--start-time", str(int(self.start_time))]
        if wipe:
            argv.append("-w")
        return SitlInstance(i, argv, workdir, port)

    def start(self) -> SitlFleet:
        try:
            for inst in self.instances:
                inst.workdir.mkdir(parents=True, exist_ok=True)
                log = open(inst.workdir / "sitl.log", "ab")  # noqa: SIM115 - owned by the child
                inst.process = subprocess.Popen(
                    inst.argv,
                    cwd=inst.workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                log.close()
        except OSError:
            self.stop()
            raise
        return self

    def poll(self) -> list[int | None]:
        """Exit status per instance (None while running)."""
        return [inst.process.poll() if inst.process else None for inst in self.instances]

    def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM each process group, then SIGKILL what is left after ``timeout_s``."""
        running = [i.process for i in self.instances if i.process and i.process.poll() is None]
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for proc in running:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def __enter__(self) -> SitlFleet:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
