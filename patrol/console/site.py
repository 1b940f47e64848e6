"""Site settings: what belongs to the running console and an admin may change in the browser
(the map tiles, the upload limit, plan defaults, the township's home, the loudspeaker, the
session lifetime). ``patrol serve``'s options give the starting values; a value an admin saves
(``patrol.store.site``) wins over them until it is reset. Every change is audited by the
router; the effective values are cached here and re-read after each change."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator

from audio.audibility import MIN_LEVEL_RANGE_DB, SPL_RANGE_DB
from patrol.console.settings import ConsoleSettings
from patrol.store.site import SiteStore

MAX_UPLOAD_MB = 1024


class Home(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    alt: float = Field(default=0.0, ge=-500, le=9000, description="metres above sea level")


class SiteSettings(BaseModel):
    """Every site setting with its checks. ``None`` for ``tile_url``: the plain base map;
    for ``home``: no township home (plans then need one each)."""

    tile_url: str | None = Field(
        default=None, max_length=500, description="https://host/{z}/{x}/{y}.png, or none"
    )
    tile_attribution: str = Field(default="", max_length=300)
    max_upload_mb: int = Field(default=50, ge=1, le=MAX_UPLOAD_MB)
    plan_alt_m: float = Field(default=40.0, gt=0, le=1000, description="plan altitude")
    plan_speed_ms: float = Field(default=8.0, gt=0, le=20, description="plan speed")
    plan_spacing_m: float = Field(default=60.0, gt=0, le=1000, description="sweep spacing")
    home: Home | None = Field(default=None, description="the township's take-off point")
    speaker_spl: float = Field(
        default=110.0, ge=SPL_RANGE_DB[0], le=SPL_RANGE_DB[1], description="dB SPL at 1 m"
    )
    min_level_db: float = Field(
        default=65.0, ge=MIN_LEVEL_RANGE_DB[0], le=MIN_LEVEL_RANGE_DB[1], description="dB needed"
    )
    session_hours: float = Field(default=12.0, ge=0.25, le=720)

    @field_validator("tile_url")
    @classmethod
    def _tile_template(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("a tile URL starts with https:// (or http://) and a host")
        if any(c.isspace() or c in "'\"<>;\\" for c in value):
            raise ValueError("a tile URL has no spaces, quotes, brackets or semicolons")
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in value]
        if missing:
            raise ValueError(f"a tile URL needs {', '.join(missing)}")
        return value

    @field_validator("tile_attribution")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(not c.isprintable() for c in value):
            raise ValueError("the attribution has control characters")
        return value.strip()

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 2**20

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.session_hours)

    def public(self) -> dict:
        """What every page may know (the maps and the plan form)."""
        return self.model_dump(
            include={"tile_url", "tile_attribution", "plan_alt_m", "plan_speed_ms",
                     "plan_spacing_m", "home", "max_upload_mb"}
        )  # fmt: skip


KEYS = tuple(SiteSettings.model_fields)


def from_command_line(settings: ConsoleSettings) -> dict:
    """The starting values ``patrol serve``'s options give."""
    return {
        "tile_url": settings.tile_url,
        "tile_attribution": settings.tile_attribution,
        "max_upload_mb": max(1, settings.max_upload_bytes // 2**20),
        "speaker_spl": settings.speaker_spl,
        "min_level_db": settings.min_level_db,
        "session_hours": settings.session_lifetime.total_seconds() / 3600,
    }


def content_security_policy(tile_url: str | None) -> str:
    tiles = ""
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        host = parts.netloc
        if "{s}" in urlsplit(tile_url).netloc and host.startswith("a."):
            host = "*." + host[2:]  # the {s} subdomains
        tiles = f" {parts.scheme}://{host}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{tiles}; media-src 'self' blob:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


class Site:
    """The effective site settings: the command line's, overlaid by what admins saved."""

    def __init__(self, settings: ConsoleSettings, store: SiteStore) -> None:
        self.base = from_command_line(settings)
        self.store = store
        self._lock = threading.Lock()
        self._current: SiteSettings | None = None
        self._csp = b""

    def _loaded(self) -> tuple[SiteSettings, bytes]:
        with self._lock:
            if self._current is None:
                self._current = self._load()
                self._csp = content_security_policy(self._current.tile_url).encode()
            return self._current, self._csp

    @property
    def current(self) -> SiteSettings:
        return self._loaded()[0]

    @property
    def csp(self) -> bytes:
        """The Content-Security-Policy header: the tile server's host may serve images."""
        return self._loaded()[1]

    def _load(self) -> SiteSettings:
        values = dict(self.base)
        for key, stored in self.store.all().items():
            if key not in KEYS:
                continue
            try:  # a stored value this version no longer accepts is left out
                SiteSettings.model_validate(values | {key: stored.value})
            except ValidationError:
                continue
            values[key] = stored.value
        return SiteSettings.model_validate(values)

    def sources(self) -> dict[str, dict]:
        """Per setting: who saved it and when, or that it comes from the command line."""
        stored = self.store.all()
        out = {}
        for key in KEYS:
            s = stored.get(key)
            out[key] = (
                {"from": "saved", "by": s.updated_by, "at": s.updated_at.isoformat()}
                if s
                else {"from": "command line" if key in self.base else "default"}
            )
        return out

    def change(self, values: dict, reset: tuple[str, ...], by: str) -> SiteSettings:
        """Check ``values`` (the settings given) with the rest, then store them; ``reset``
        keys go back to the command line's value. Raises ValidationError."""
        merged = self.current.model_dump() | values
        for key in reset:
            merged[key] = self.base.get(key, SiteSettings.model_fields[key].default)
        checked = SiteSettings.model_validate(merged)
        dumped = checked.model_dump(mode="json")
        self.store.save({k: dumped[k] for k in values}, by, reset)
        with self._lock:
            self._current = None
        return self.current
