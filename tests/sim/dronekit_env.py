"""Helpers for the tests that run dronekit2 (in its own virtual environment .venv-dronekit,
see scripts/setup.sh) against ``patrol sim`` started as a separate process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRONEKIT_PYTHON = ROOT / ".venv-dronekit" / "bin" / "python"
# SITL's default home (CMAC, Canberra): dronekit's suite flies to and sets home near it
CMAC_HOME = "-35.363261,149.165230,584,353"


def env_with_root() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


class PatrolSim:
    """``patrol sim`` on free ports; ``ports`` are vehicle 0's SERIAL0/1/2."""

    def __init__(self, state_dir: Path, speedup: float, home: str = CMAC_HOME):
        argv = [sys.executable, "-m", "patrol.cli", "sim", "--port", "0", "--speedup",
                f"{speedup:g}", f"--home={home}", "--state-dir", str(state_dir)]  # fmt: skip
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env_with_root()
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"tcp:([\d.]+):(\d+) \(serial1 (\d+), serial2 (\d+)\)", line)
        if found is None:
            self.stop()
            raise RuntimeError(f"patrol sim did not start: {line!r}")
        self.host = found.group(1)
        self.ports = tuple(int(found.group(i)) for i in (2, 3, 4))

    def url(self, serial: int = 0) -> str:
        return f"tcp:{self.host}:{self.ports[serial]}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
