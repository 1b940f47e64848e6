"""Mission Planner / MAVProxy waypoint files (QGC WPL 110) and the files beside them.

A .waypoints file holds mission items only, so the fence and rally points go beside it in
files of the same format (fence: commands 5000-5004, rally: 5100), as MAVProxy's ``fence
save``/``rally save`` write them and its ``fence load``/``rally load`` and Mission Planner read
them, and the FENCE_* values go into a parameter file (``NAME,VALUE`` lines, as Mission Planner
saves them; MAVProxy's ``param load`` reads it):

    patrol.waypoints  patrol-fence.waypoints  patrol-rally.waypoints  patrol-fence.param

Reading a .waypoints file reads the three beside it too, when they are there.
"""

from __future__ import annotations

from pathlib import Path

from missions.errors import MissionFileError
from missions.items import FENCE, MISSION, RALLY, Mission, MissionItem
from missions.mission_frames import FROM_FILE, GLOBAL, TO_FILE

WPL_HEADER = "QGC WPL 110"
MAX_LINES = 100_000  # far more items than any autopilot stores


def companions(path: Path) -> dict[str, Path]:
    """The files beside a .waypoints file: fence, rally, params."""
    return {
        "fence": path.with_name(f"{path.stem}-fence{path.suffix}"),
        "rally": path.with_name(f"{path.stem}-rally{path.suffix}"),
        "params": path.with_name(f"{path.stem}-fence.param"),
    }


def waypoints_files(path: Path, m: Mission) -> dict[Path, str]:
    """The text of the .waypoints file and of the three beside it, always all four (an empty
    fence or rally file clears what an earlier plan left there)."""
    beside = companions(path)
    return {
        path: items_text(m.items, home_first=True),
        beside["fence"]: items_text(m.fence),
        beside["rally"]: items_text(m.rally),
        beside["params"]: "".join(f"{k},{_fmt(v)}\n" for k, v in sorted(m.params.items())),
    }


def _fmt(v: float) -> str:
    return repr(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def items_text(items: list[MissionItem], home_first: bool = False) -> str:
    """QGC WPL 110: one tab-separated line per item (seq, current, frame, command, param1-4,
    lat, lon, alt, autocontinue). A mission's line 0 is home and marked current."""
    lines = [WPL_HEADER]
    for seq, it in enumerate(items):
        fields = [
            str(seq),
            "1" if home_first and seq == 0 else "0",
            str(TO_FILE.get(it.frame, it.frame)),
            str(it.command),
            *(_fmt(v) for v in (it.param1, it.param2, it.param3, it.param4)),
            _fmt(it.lat),
            _fmt(it.lon),
            _fmt(it.alt),
            str(it.autocontinue),
        ]
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def read_waypoints(path: Path, text: str) -> Mission:
    items = parse_items(path, text, MISSION)
    if not items:
        raise MissionFileError(f"{path}: no mission items")
    home = items[0]
    items[0] = MissionItem(  # Mission Planner's home line: AMSL altitude
        home.command, GLOBAL, home.lat, home.lon, home.alt,
        home.param1, home.param2, home.param3, home.param4, home.autocontinue,
    )  # fmt: skip
    mission = Mission(items)
    beside = companions(path)
    if beside["fence"].is_file():
        mission.fence = parse_items(beside["fence"], _read(beside["fence"]), FENCE)
    if beside["rally"].is_file():
        mission.rally = parse_items(beside["rally"], _read(beside["rally"]), RALLY)
    if beside["params"].is_file():
        mission.params = _parse_params(beside["params"], _read(beside["params"]))
    return mission


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MissionFileError(f"{path}: cannot read: {exc}") from None


def parse_items(path: Path, text: str, mission_type: int) -> list[MissionItem]:
    lines = text.splitlines()
    if not lines or not lines[0].strip().startswith("QGC WPL"):
        raise MissionFileError(f"{path}: line 1: expected the header '{WPL_HEADER}'")
    if len(lines) > MAX_LINES:
        raise MissionFileError(f"{path}: {len(lines):,} lines, over the {MAX_LINES:,} read")
    items: list[MissionItem] = []
    for n, line in enumerate(lines[1:], 2):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) != 12:
            raise MissionFileError(f"{path}: line {n}: expected 12 fields, found {len(fields)}")
        try:
            seq, _current, frame, cmd = (int(f) for f in fields[:4])
            p1, p2, p3, p4, lat, lon, alt = (_finite(f) for f in fields[4:11])
            auto = int(_finite(fields[11]))
        except ValueError as exc:
            raise MissionFileError(f"{path}: line {n}: {str(exc)[:80]}") from None
        if seq != len(items):
            raise MissionFileError(f"{path}: line {n}: sequence {seq}, expected {len(items)}")
        items.append(
            MissionItem(
                cmd, FROM_FILE.get(frame, frame), lat, lon, alt, p1, p2, p3, p4, auto,
                mission_type=mission_type,
            )
        )  # fmt: skip
    return items


def _finite(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]!r} is not a finite number")
    return value


def _parse_params(path: Path, text: str) -> dict[str, float]:
    params = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#")[0].replace(",", " ").strip()
        if not line:
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError("expected NAME,VALUE")
            params[parts[0]] = _finite(parts[1])
        except ValueError as exc:
            raise MissionFileError(f"{path}: line {n}: {exc}") from None
    return params
