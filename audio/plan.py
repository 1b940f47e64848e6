"""Broadcast plans: zones mapped to playlists, quiet hours and priority messages, validated and
saved as one bundle (a zip of plan.json and the audio it needs) that the onboard agent reads."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import soundfile as sf
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from audio.schedule import QuietHours, parse_span, timezone
from audio.spec import BUNDLE_FORMAT, ZoneSpec, parse_bundle_plan, parse_spec, zone_label
from audio.zones import LocalFrame

FORMAT = BUNDLE_FORMAT
MIB = 1024 * 1024
# what a bundle's members may inflate to: plan.json (the spec is at most 5 MB too), and one
# message (48 kHz 16-bit mono: an hour is 330 MB; a message is at most minutes)
MAX_PLAN_JSON_BYTES = 5 * MIB
MAX_AUDIO_BYTES = 100 * MIB
MAX_BUNDLE_BYTES = 1024 * MIB  # all members: the agent's cache holds them on the companion
DURATION_TOLERANCE_S = 0.05
DEFAULT_HYSTERESIS_M = 15.0
DEFAULT_TIMEZONE = "Asia/Shanghai"
OVERLAP_TOLERANCE_M2 = 1.0
MAX_OVERLAPS_SHOWN = 20
# Zone outlines are simplified at centimetres before the geometry checks, then held to these:
# a village boundary drawn at a vertex a metre along 20 km has 20,000 vertices.
SIMPLIFY_M = 0.05
MAX_ZONE_VERTICES = 20_000
MAX_PLAN_VERTICES = 100_000


class PlanError(ValueError):
    """A plan that cannot be used; ``problems`` lists every reason, each naming its place."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PlanMessage:
    id: int
    title: str
    duration_s: float
    sha256: str
    path: Path  # where the audio is now (library file, or the agent's cache)


@dataclass(frozen=True)
class Playlist:
    messages: tuple[int, ...]
    loop: bool = True
    count: int = 1  # passes through the playlist per visit when not looping
    gap_s: float = 2.0
    volume: float = 1.0


@dataclass(frozen=True)
class Zone:
    name: str
    polygon: BaseGeometry  # lon/lat
    playlist: Playlist
    priority: int = 0
    alt_m: float | None = None  # planned flight altitude over the zone, for the audibility check


@dataclass(frozen=True)
class PriorityMessage:
    id: str
    message: int
    zones: tuple[str, ...] = ()  # empty: wherever the aircraft is inside any zone
    repeat: int = 1
    override_quiet: bool = False


@dataclass(frozen=True)
class BroadcastPlan:
    name: str
    timezone: str
    quiet_hours: tuple[str, ...]
    hysteresis_m: float
    zones: tuple[Zone, ...]
    priority_messages: tuple[PriorityMessage, ...]
    messages: Mapping[int, PlanMessage] = field(default_factory=dict)

    @property
    def quiet(self) -> QuietHours:
        return QuietHours(tuple(parse_span(s) for s in self.quiet_hours), timezone(self.timezone))

    def zone(self, name: str) -> Zone:
        return next(z for z in self.zones if z.name == name)


MessageResolver = Callable[[int | str], PlanMessage]


def build_plan(
    spec: Mapping[str, Any],
    resolve_message: MessageResolver,
    grids: Mapping[str, BaseGeometry] | None = None,
) -> BroadcastPlan:
    """Turn an operator's plan spec (parsed JSON) into a validated plan. Zones name a grid from
    ``grids`` (``"grid": NAME``) or carry a GeoJSON ``"geometry"``; messages are library ids or
    titles. The spec's types are checked strictly first (audio.spec); raises PlanError listing
    every problem, each with its place."""
    parsed, problems = parse_spec(dict(spec) if isinstance(spec, Mapping) else spec)
    if parsed is None:
        raise PlanError(problems)
    messages: dict[int, PlanMessage] = {}

    def message_id(ref: int | str, where: str) -> int | None:
        try:
            msg = resolve_message(ref)
        except (ValueError, LookupError):
            problems.append(f"{where}: unknown message {ref!r}")
            return None
        messages[msg.id] = msg
        return msg.id

    try:
        timezone(parsed.timezone)
    except ValueError as exc:
        problems.append(f"timezone: {exc}")
    for i, text in enumerate(parsed.quiet_hours):
        try:
            parse_span(text)
        except ValueError as exc:
            problems.append(f"quiet_hours[{i}]: {exc}")

    zones: list[Zone] = []
    for i, z in enumerate(parsed.zones):
        name = (z.name or z.grid or "").strip()
        where = zone_label(i, {"name": name})
        if not name:
            problems.append(f"{where}: needs a name or a grid")
            continue
        polygon = _zone_polygon(z, grids, where, problems)
        ids = [message_id(ref, f"{where}.messages[{j}]") for j, ref in enumerate(z.messages)]
        if not ids:
            problems.append(f"{where}: the playlist is empty")
        loop = z.loop if z.loop is not None else "count" not in z.model_fields_set
        playlist = Playlist(
            tuple(m for m in ids if m is not None), loop, z.count, z.gap_s, z.volume
        )
        if polygon is not None:
            zones.append(Zone(name, polygon, playlist, z.priority, z.alt_m))
    if not zones and not problems:
        problems.append("the plan has no zones")
    names = [z.name for z in zones]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"zone name {dup!r} is used more than once")
    problems.extend(_geometry_problems(zones, parsed.hysteresis_m))

    priority_messages: list[PriorityMessage] = []
    for i, p in enumerate(parsed.priority_messages):
        where = f"priority_messages[{i}]"
        mid = message_id(p.message, f"{where}.message")
        for n in p.zones:
            if n not in names:
                problems.append(f"{where}: unknown zone {n!r}")
        if mid is not None:
            pid = p.id or f"priority-{i}"
            priority_messages.append(
                PriorityMessage(pid, mid, tuple(p.zones), p.repeat, p.override_quiet)
            )
    pids = [p.id for p in priority_messages]
    for dup in sorted({n for n in pids if pids.count(n) > 1}):
        problems.append(f"priority message id {dup!r} is used more than once")

    if problems:
        raise PlanError(problems)
    return BroadcastPlan(
        parsed.name, parsed.timezone, tuple(parsed.quiet_hours), parsed.hysteresis_m,
        tuple(zones), tuple(priority_messages), messages,
    )  # fmt: skip


def _zone_polygon(
    z: ZoneSpec, grids: Mapping[str, BaseGeometry] | None, where: str, problems: list[str]
) -> BaseGeometry | None:
    if z.geometry is not None:
        try:
            polygon = shape(z.geometry.model_dump(exclude_none=True))
        except (ValueError, TypeError) as exc:
            problems.append(f"{where}: the geometry is not valid GeoJSON ({exc})")
            return None
    elif z.grid is not None:
        if grids is None:
            problems.append(f"{where}: names grid {z.grid!r} but no grids file was given")
            return None
        if z.grid not in grids:
            problems.append(f"{where}: no grid named {z.grid!r} in the grids file")
            return None
        polygon = grids[z.grid]
    else:
        problems.append(f"{where}: needs a grid or a geometry")
        return None
    if polygon.is_empty or not polygon.is_valid:
        problems.append(f"{where}: the polygon is empty or self-intersecting")
        return None
    minx, miny, maxx, maxy = polygon.bounds
    if not (minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90):
        problems.append(f"{where}: coordinates are not longitude/latitude degrees")
        return None
    return polygon


def _geometry_problems(zones: list[Zone], hysteresis_m: float) -> list[str]:
    """Zones too detailed, too narrow for the hysteresis, or overlapping at equal priority.
    The work is bounded: zones are simplified at SIMPLIFY_M and held to MAX_ZONE_VERTICES and
    MAX_PLAN_VERTICES first, and only zones of equal priority whose outlines meet are
    intersected."""
    if not zones:
        return []
    frame = LocalFrame.around([z.polygon for z in zones])
    local = [shapely.simplify(frame.shape(z.polygon), SIMPLIFY_M) for z in zones]
    counts = shapely.get_num_coordinates(local)
    problems = [
        f"zone {z.name!r} keeps {n:,} vertices after simplifying at {SIMPLIFY_M * 100:g} cm, "
        f"over the {MAX_ZONE_VERTICES:,} a zone may have (simplify it in a GIS)"
        for z, n in zip(zones, counts, strict=True)
        if n > MAX_ZONE_VERTICES
    ]
    if not problems and counts.sum() > MAX_PLAN_VERTICES:
        problems.append(
            f"the zones keep {int(counts.sum()):,} vertices in all, over the "
            f"{MAX_PLAN_VERTICES:,} a plan may have (simplify them or split the plan)"
        )
    if problems:
        return problems
    for z, outline in zip(zones, local, strict=True):
        if outline.buffer(-hysteresis_m).is_empty:
            problems.append(
                f"zone {z.name!r} is too narrow to enter with {hysteresis_m:g} m hysteresis"
            )
    geoms = np.array(local, dtype=object)
    priority = np.array([z.priority for z in zones])
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = (left < right) & (priority[left] == priority[right])
    left, right = left[keep], right[keep]
    order = np.lexsort((right, left))
    left, right = left[order], right[order]
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    overlaps = [
        (i, j, a) for i, j, a in zip(left, right, areas, strict=True) if a > OVERLAP_TOLERANCE_M2
    ]
    for i, j, overlap in overlaps[:MAX_OVERLAPS_SHOWN]:
        a, b = zones[i], zones[j]
        problems.append(
            f"zones {a.name!r} and {b.name!r} overlap by {overlap:.0f} m² with the same "
            f"priority {a.priority}; give the one that should win a higher priority"
        )
    if len(overlaps) > MAX_OVERLAPS_SHOWN:
        problems.append(f"... and {len(overlaps) - MAX_OVERLAPS_SHOWN} more overlapping pairs")
    return problems


# ---- the bundle the agent reads -------------------------------------------------------------


def plan_to_json(plan: BroadcastPlan) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "name": plan.name,
        "timezone": plan.timezone,
        "quiet_hours": list(plan.quiet_hours),
        "hysteresis_m": plan.hysteresis_m,
        "messages": {
            str(m.id): {
                "title": m.title,
                "duration_s": m.duration_s,
                "sha256": m.sha256,
                "file": f"audio/{m.id}.wav",
            }
            for m in plan.messages.values()
        },
        "zones": [
            {
                "name": z.name,
                "geometry": mapping(z.polygon),
                "priority": z.priority,
                "alt_m": z.alt_m,
                "messages": list(z.playlist.messages),
                "loop": z.playlist.loop,
                "count": z.playlist.count,
                "gap_s": z.playlist.gap_s,
                "volume": z.playlist.volume,
            }
            for z in plan.zones
        ],
        "priority_messages": [
            {
                "id": p.id,
                "message": p.message,
                "zones": list(p.zones),
                "repeat": p.repeat,
                "override_quiet": p.override_quiet,
            }
            for p in plan.priority_messages
        ],
    }


def write_bundle(plan: BroadcastPlan, path: Path) -> None:
    """Write the plan and its audio as one zip, atomically (a running agent that reloads the file
    never sees half of it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".zip", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("plan.json", json.dumps(plan_to_json(plan), ensure_ascii=False, indent=1))
            for m in plan.messages.values():
                zf.write(m.path, f"audio/{m.id}.wav")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_bundle(path: Path, cache_dir: Path) -> BroadcastPlan:
    """Read a bundle, extract its audio into ``cache_dir`` (by content hash, checked) and
    return the plan with message paths pointing there. Raises PlanError for a bad bundle:
    not a zip, members other than plan.json and audio/<id>.wav, plan.json over
    MAX_PLAN_JSON_BYTES or not matching the strict model, a file over MAX_AUDIO_BYTES (what a
    member declares and what it inflates to), audio not matching its checksum or length."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = {info.filename: info for info in zf.infolist()}
            foreign = sorted(n for n in members if n != "plan.json" and not _AUDIO.match(n))
            if foreign:
                raise PlanError([f"{path}: not a broadcast plan bundle (holds {foreign[0]!r})"])
            if "plan.json" not in members:
                raise PlanError([f"{path}: not a broadcast plan bundle (no plan.json)"])
            declared = sum(info.file_size for info in members.values())
            if declared > MAX_BUNDLE_BYTES:
                raise PlanError(
                    [f"{path}: its members inflate to {declared / MIB:,.1f} MB, over the "
                     f"{MAX_BUNDLE_BYTES // MIB:,} MB a bundle may hold"]
                )  # fmt: skip
            raw = _read_member(zf, members["plan.json"], MAX_PLAN_JSON_BYTES, path)
            data = _json(raw, path)
            parsed, problems = parse_bundle_plan(data)
            if parsed is None:
                raise PlanError(
                    [f"{path}: plan.json: {p.removeprefix('plan: ')}" for p in problems]
                )
            cache_dir.mkdir(parents=True, exist_ok=True)
            messages = {}
            for key, m in parsed.messages.items():
                if m.file not in members:
                    raise PlanError([f"{path}: message {key}: {m.file} is missing"])
                target = cache_dir / f"{m.sha256}.wav"
                if not target.exists():
                    blob = _read_member(zf, members[m.file], MAX_AUDIO_BYTES, path)
                    if hashlib.sha256(blob).hexdigest() != m.sha256:
                        raise PlanError([f"{path}: {m.file} does not match its checksum"])
                    _check_wav(blob, m.duration_s, f"{path}: {m.file}")
                    tmp = target.with_suffix(".part")
                    tmp.write_bytes(blob)
                    os.replace(tmp, target)
                messages[int(key)] = PlanMessage(int(key), m.title, m.duration_s, m.sha256, target)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as exc:
        raise PlanError([f"{path}: not a readable broadcast plan ({exc})"]) from None
    except (NotImplementedError, RuntimeError) as exc:  # a compression method or encryption
        raise PlanError([f"{path}: not a readable broadcast plan ({exc})"]) from None
    except OSError as exc:
        raise PlanError([f"{path}: cannot read: {exc.strerror or exc}"]) from None

    def resolve(ref: int | str) -> PlanMessage:
        if isinstance(ref, int) and ref in messages:
            return messages[ref]
        raise LookupError(ref)

    spec = {k: v for k, v in data.items() if k not in ("format", "messages")}
    return build_plan(spec, resolve)


_AUDIO = re.compile(r"^audio/[1-9][0-9]{0,18}\.wav$")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, path: Path) -> bytes:
    """A member's bytes, never more than ``limit``: what it declares is checked first, then
    what it inflates to (a declared size can lie)."""
    too_big = PlanError([f"{path}: {info.filename} is over {limit // MIB} MB (a zip bomb?)"])
    if info.file_size > limit:
        raise too_big
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise too_big
    return data


def _json(raw: bytes, path: Path) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise PlanError([f"{path}: plan.json is nested too deep"]) from None
    except ValueError as exc:  # not UTF-8, not JSON, an integer of thousands of digits
        raise PlanError([f"{path}: plan.json is not valid JSON ({exc})"]) from None


def _check_wav(blob: bytes, duration_s: float, where: str) -> None:
    """The audio is a WAV file of the length plan.json gives (the agent schedules by it)."""
    try:
        info = sf.info(io.BytesIO(blob))
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise PlanError([f"{where}: not a readable WAV file ({exc})"]) from None
    seconds = info.frames / info.samplerate if info.samplerate else 0.0
    if abs(seconds - duration_s) > DURATION_TOLERANCE_S:
        raise PlanError([f"{where}: lasts {seconds:.2f} s but plan.json says {duration_s:.2f} s"])
