"""ArduCopter parameter table: SITL defaults, MAV_PARAM_TYPE semantics, aliases, persistence."""

from __future__ import annotations

import contextlib
import json
import math
import os
import struct
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

# Names renamed in this firmware; old names are still accepted and answered with the new one.
ALIASES = {
    "SYSID_THISMAV": "MAV_SYSID",
    "SYSID_MYGCS": "MAV_GCS_SYSID",
}
for _i in range(1, 4):
    for _suffix in (
        "RAW_SENS",
        "EXT_STAT",
        "RC_CHAN",
        "RAW_CTRL",
        "POSITION",
        "EXTRA1",
        "EXTRA2",
        "EXTRA3",
        "PARAMS",
        "ADSB",
    ):
        ALIASES[f"SR{_i - 1}_{_suffix}"] = f"MAV{_i}_{_suffix}"

_INT_RANGES = {
    mavlink.MAV_PARAM_TYPE_INT8: (-128, 127),
    mavlink.MAV_PARAM_TYPE_INT16: (-32768, 32767),
    mavlink.MAV_PARAM_TYPE_INT32: (-(2**31), 2**31 - 1),
}


def _float32(value: float) -> float:
    """``value`` as a REAL32 parameter holds it; ValueError for one no float32 holds."""
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        raise ValueError(f"{value} is beyond a 32-bit float") from None


def load_defaults() -> tuple[dict[str, float], dict[str, int]]:
    """The 1354 SITL parameter defaults and their MAV_PARAM_TYPEs, in SITL's index order."""
    data = resources.files("sim") / "data"
    values = json.loads((data / "params-defaults.json").read_text())
    types = json.loads((data / "params-types.json").read_text())
    return values, types


def param_order(defaults: dict[str, float]) -> list[str]:
    """SITL's index order (AP_Param's var_info order, as its @PARAM/param.pck lists it); a
    name missing from the recorded order goes to the end."""
    order = json.loads((resources.files("sim") / "data" / "params-order.json").read_text())
    known = [n for n in order if n in defaults]
    seen = set(known)
    return known + sorted(n for n in defaults if n not in seen)


def _state_parts(stored: object) -> tuple[dict, dict]:
    """``params`` (name -> number) and ``extra`` (an object) of a state file, or ValueError."""
    if not isinstance(stored, dict):
        raise ValueError("the state file is not a JSON object")
    params, extra = stored.get("params", {}), stored.get("extra", {})
    if not isinstance(params, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in params.values()
    ):
        raise ValueError("params is not an object of numbers")
    if not isinstance(extra, dict):
        raise ValueError("extra is not an object")
    return params, extra


class ParamStore:
    """Parameter values with ArduPilot semantics; changed values persist to ``path`` (JSON)."""

    def __init__(self, path: Path | None = None, overrides: dict[str, float] | None = None):
        defaults, types = load_defaults()
        self.names: list[str] = param_order(defaults)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.types = types
        self.defaults = defaults
        self.values: dict[str, float] = dict(defaults)
        self.path = path
        self.listeners: list[Callable[[str, float], None]] = []
        self.extra: dict = {}  # other persisted state (missions, signing key)
        self.damaged: str | None = None  # why the stored state was wiped at load, if it was
        self.overrides = {self.canonical(n) or n: v for n, v in (overrides or {}).items()}
        self.values.update(self.overrides)
        self._load()

    def __len__(self) -> int:
        return len(self.names)

    def canonical(self, name: str) -> str | None:
        """The parameter's canonical name (case-insensitive, old aliases accepted), or None."""
        upper = name.strip("\x00").upper()
        upper = ALIASES.get(upper, upper)
        return upper if upper in self.index else None

    def __getitem__(self, name: str) -> float:
        value = self.values.get(name)  # fast path: already the canonical name
        if value is not None:
            return value
        canon = self.canonical(name)
        if canon is None:
            raise KeyError(name)
        return self.values[canon]

    def get(self, name: str, default: float = 0.0) -> float:
        value = self.values.get(name)
        if value is not None:
            return value
        canon = self.canonical(name)
        return self.values[canon] if canon else default

    def type_of(self, name: str) -> int:
        return self.types[self.canonical(name) or name]

    def coerce(self, name: str, value: float) -> float:
        """The value as the parameter's type stores it (integers truncated, clamped)."""
        ptype = self.types[name]
        if ptype in _INT_RANGES:
            if math.isnan(value) or math.isinf(value):
                raise ValueError(f"{name}: {value} is not a valid integer value")
            low, high = _INT_RANGES[ptype]
            return float(max(low, min(high, int(value))))
        return _float32(value)

    def set(self, name: str, value: float, persist: bool = True) -> str | None:
        """Set a parameter; returns its canonical name, or None when unknown (no reply)."""
        canon = self.canonical(name)
        if canon is None:
            return None
        try:
            self.values[canon] = self.coerce(canon, float(value))
        except ValueError:
            return None
        if persist:
            self.save()
        for listener in self.listeners:
            listener(canon, self.values[canon])
        return canon

    def _load(self) -> None:
        """The changed values and extra state from ``path``. A file that is not the state this
        store writes (damaged, cut short, edited by hand) is set aside and the copter starts
        wiped, as after an eeprom erase, with ``damaged`` saying why."""
        if self.path is None or not self.path.exists():
            return
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            params, extra = _state_parts(stored)
            values = {}
            for name, value in params.items():
                canon = self.canonical(name)
                if canon is not None:
                    values[canon] = self.coerce(canon, float(value))
        except (OSError, ValueError, RecursionError) as exc:  # UnicodeError is a ValueError
            self.wipe(str(exc))
            return
        self.values.update(values)
        self.extra = extra

    def wipe(self, reason: str) -> None:
        """Forget the stored state (values back to the defaults, no extra state) because it is
        damaged; the file is kept beside as ``*.damaged`` for a look."""
        self.values = dict(self.defaults) | self.overrides
        self.extra = {}
        self.damaged = reason[:200]
        if self.path is not None and self.path.exists():
            with contextlib.suppress(OSError):  # kept or not, the copter starts wiped
                os.replace(self.path, self.path.with_name(self.path.name + ".damaged"))

    def save(self) -> None:
        """Write the values that differ from the defaults (atomically) to the state file."""
        if self.path is None:
            return
        changed = {n: v for n, v in self.values.items() if v != self.defaults.get(n)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"params": changed, "extra": self.extra}))  # C encoder: fast
        os.replace(tmp, self.path)
