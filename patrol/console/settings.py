"""What one console server is configured with (``patrol serve`` options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ConsoleSettings:
    data_dir: Path
    db_url: str | None = None  # None: SQLite in the data directory
    tls: bool = False  # served over HTTPS (cookies get Secure)
    behind_proxy: bool = False  # a TLS-terminating proxy in front: cookies get Secure too
    tile_url: str | None = None  # e.g. https://tile.example/{z}/{x}/{y}.png; None: plain base
    tile_attribution: str = ""
    session_lifetime: timedelta = timedelta(hours=12)
    max_upload_bytes: int = 50 * 1024 * 1024
    login_failures: int = 5  # per name and address within login_window
    login_window: timedelta = timedelta(minutes=5)
    vendor_dir: Path = REPO_ROOT / "node_modules"  # front-end libraries installed by npm ci
    connects: list[str] = field(default_factory=list)  # vehicles the operator can launch on
    speedup: float = 1.0  # the vehicles' speed-up (simulators); 1 for aircraft
    speaker_spl: float = 110.0  # loudspeaker rating for the audibility estimate, dB SPL at 1 m
    min_level_db: float = 65.0

    @property
    def secure_cookies(self) -> bool:
        return self.tls or self.behind_proxy
