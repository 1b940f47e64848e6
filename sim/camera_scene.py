"""What the simulated camera sees: people at known ground positions (standing alone, in groups,
or walking along a path) over a ground texture, and the ground truth tests check against.

A scenario is a JSON file (validated; a bad one is refused with the field named):

    {"name": "...", "seed": 1,
     "groups":  [{"name": "market", "lat": 27.57, "lon": 119.71, "people": 5, "spread_m": 1.2}],
     "people":  [{"lat": 27.5702, "lon": 119.7105}],
     "walkers": [{"path": [[27.5703, 119.7101], [27.5706, 119.7101]], "speed_mps": 1.3}]}

Positions are degrees; the scene works in metres north/east of an origin with the flat-earth
scaling the simulated vehicle itself uses (sim.geo, as ArduPilot's Location::offset).
A group's members are placed at random (from ``seed``) within ``spread_m`` of its centre, at
least 0.6 m apart and chained by gaps under 2 m; walkers pace their path back and forth.
The truth lists every person and the gatherings (at least 3 standing people chained by gaps
under 2 m, the detectors' default definition).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.geo import ne_between, offset

MIN_SPACING_M = 0.6
GATHERING_DISTANCE_M = 2.0
GATHERING_MIN_PEOPLE = 3
TEXTURE_SIZE = 4096
TEXTURE_RES_M = 0.05  # metres per texture pixel: a 205 m tile, finer than the camera's pixels


class SceneError(ValueError):
    """A scenario file that cannot be used, with the file and field at fault."""


class _Place(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class GroupSpec(_Place):
    name: str = ""
    people: int = Field(ge=1, le=60)
    spread_m: float = Field(default=1.2, gt=0, le=20)


class WalkerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: list[tuple[float, float]] = Field(min_length=2)
    speed_mps: float = Field(default=1.3, gt=0, le=5)

    @model_validator(mode="after")
    def _degrees(self) -> WalkerSpec:
        for lat, lon in self.path:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"path point {lat}, {lon} is not a latitude, longitude")
        return self


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    seed: int = 1
    groups: list[GroupSpec] = []
    people: list[_Place] = []
    walkers: list[WalkerSpec] = []


def load_scenario(path: Path) -> Scenario:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SceneError(f"scenario {path}: cannot read it ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise SceneError(f"scenario {path}: not valid JSON: {exc}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SceneError(f"scenario {path}: {where}: {first['msg']}") from None


@dataclass
class Person:
    id: int
    north: float
    east: float
    height_m: float
    sprite: int
    group: str | None = None
    path: np.ndarray | None = None  # (k, 2) north/east metres, for a walker
    speed_mps: float = 0.0

    def at(self, t: float) -> tuple[float, float]:
        """Where the person stands at simulated time ``t``."""
        if self.path is None:
            return self.north, self.east
        legs = np.diff(self.path, axis=0)
        lengths = np.hypot(legs[:, 0], legs[:, 1])
        total = float(lengths.sum())
        if total <= 0:
            return float(self.path[0, 0]), float(self.path[0, 1])
        s = (t * self.speed_mps) % (2 * total)
        s = s if s <= total else 2 * total - s  # back and forth
        for start, leg, length in zip(self.path[:-1], legs, lengths, strict=True):
            if s <= length or length == lengths[-1]:
                k = min(s / length, 1.0) if length > 0 else 0.0
                return float(start[0] + leg[0] * k), float(start[1] + leg[1] * k)
            s -= length
        return float(self.path[-1, 0]), float(self.path[-1, 1])


def _chained(points: np.ndarray, distance: float) -> bool:
    """Whether all points form one single-linkage group under ``distance``."""
    n = len(points)
    reached, frontier = {0}, [0]
    while frontier:
        i = frontier.pop()
        for j in range(n):
            if j not in reached and math.dist(points[i], points[j]) < distance:
                reached.add(j)
                frontier.append(j)
    return len(reached) == n


def _group_layout(rng: np.random.Generator, count: int, spread: float) -> np.ndarray:
    for _ in range(200):
        pts: list[tuple[float, float]] = []
        tries = 0
        while len(pts) < count and tries < 5000:
            tries += 1
            r, a = spread * math.sqrt(rng.random()), rng.random() * 2 * math.pi
            p = (r * math.cos(a), r * math.sin(a))
            if all(math.dist(p, q) >= MIN_SPACING_M for q in pts):
                pts.append(p)
        arr = np.array(pts)
        if len(arr) == count and (count < 2 or _chained(arr, GATHERING_DISTANCE_M * 0.9)):
            return arr
    raise SceneError(f"cannot place {count} people within {spread} m, {MIN_SPACING_M} m apart")


class Scene:
    """The people of a scenario in metres around ``origin`` (lat, lon)."""

    def __init__(self, scenario: Scenario, origin: tuple[float, float], sprites: int) -> None:
        self.scenario = scenario
        self.origin = origin
        rng = np.random.default_rng(scenario.seed)
        people: list[Person] = []

        def add(north: float, east: float, **kw) -> None:
            height = float(rng.uniform(1.55, 1.85))
            sprite = int(rng.integers(sprites)) if sprites else 0
            people.append(Person(len(people), north, east, height, sprite, **kw))

        for k, group in enumerate(scenario.groups):
            name = group.name or f"group-{k + 1}"
            n0, e0 = self.local(group.lat, group.lon)
            for dn, de in _group_layout(rng, group.people, group.spread_m):
                add(n0 + dn, e0 + de, group=name)
        for p in scenario.people:
            add(*self.local(p.lat, p.lon))
        for w in scenario.walkers:
            path = np.array([self.local(lat, lon) for lat, lon in w.path])
            add(float(path[0, 0]), float(path[0, 1]), path=path, speed_mps=w.speed_mps)
        self.people = people

    def local(self, lat: float, lon: float) -> tuple[float, float]:
        return ne_between(self.origin[0], self.origin[1], lat, lon)

    def geo(self, north: float, east: float) -> tuple[float, float]:
        return offset(self.origin[0], self.origin[1], north, east)

    def gatherings(self) -> list[list[Person]]:
        """Standing people chained by gaps under 2 m, at least 3 of them."""
        standing = [p for p in self.people if p.path is None]
        points = np.array([(p.north, p.east) for p in standing]).reshape(-1, 2)
        seen: set[int] = set()
        found = []
        for i in range(len(standing)):
            if i in seen:
                continue
            members, frontier = {i}, [i]
            while frontier:
                a = frontier.pop()
                near = np.flatnonzero(np.hypot(*(points - points[a]).T) < GATHERING_DISTANCE_M)
                for b in near.tolist():
                    if b not in members:
                        members.add(b)
                        frontier.append(b)
            seen |= members
            if len(members) >= GATHERING_MIN_PEOPLE:
                found.append([standing[m] for m in sorted(members)])
        return found

    def truth(self) -> dict:
        """People and gatherings with their positions (degrees), for tests and benchmarks."""
        people = []
        for p in self.people:
            lat, lon = self.geo(p.north, p.east)
            entry = {
                "id": p.id,
                "lat": lat,
                "lon": lon,
                "group": p.group,
                "walking": p.path is not None,
            }
            if p.path is not None:
                entry["path"] = [list(self.geo(n, e)) for n, e in p.path.tolist()]
                entry["speed_mps"] = p.speed_mps
            people.append(entry)
        gatherings = []
        for members in self.gatherings():
            n = float(np.mean([m.north for m in members]))
            e = float(np.mean([m.east for m in members]))
            lat, lon = self.geo(n, e)
            radius = max(math.hypot(m.north - n, m.east - e) for m in members)
            names = sorted({m.group or "" for m in members})
            gatherings.append(
                {
                    "lat": lat,
                    "lon": lon,
                    "count": len(members),
                    "radius_m": round(radius, 2),
                    "groups": names,
                    "people": [m.id for m in members],
                }
            )
        return {
            "scenario": self.scenario.name,
            "origin": list(self.origin),
            "people": people,
            "gatherings": gatherings,
        }


def _periodic_noise(rng: np.random.Generator, size: int, scale_px: float) -> np.ndarray:
    """Smooth noise that tiles seamlessly (filtered white noise, in the frequency domain),
    normalised to zero mean and unit deviation."""
    white = rng.standard_normal((size, size)).astype(np.float32)
    freq = np.fft.fftfreq(size).astype(np.float32)
    f2 = freq[:, None] ** 2 + freq[None, :] ** 2
    filtered = np.fft.irfft2(
        np.fft.rfft2(white) * np.exp(-f2[:, : size // 2 + 1] * (math.pi * scale_px) ** 2),
        s=(size, size),
    )
    filtered -= filtered.mean()
    return (filtered / (filtered.std() + 1e-9)).astype(np.float32)


def make_texture(seed: int = 1, size: int = TEXTURE_SIZE, grass=None, soil=None) -> np.ndarray:
    """A tiling ground texture (BGR): grass and bare earth in patches tens of metres wide,
    with clumps and grain down to a few centimetres. ``grass`` and ``soil`` are (mean, spread)
    BGR colours; the default grass is close to the lawn of vtest.avi's empty scene."""
    rng = np.random.default_rng(seed)
    grass = grass or ((25.0, 95.0, 70.0), (12.0, 16.0, 14.0))
    soil = soil or ((105.0, 125.0, 140.0), (14.0, 14.0, 14.0))
    px = 1.0 / TEXTURE_RES_M
    patches = _periodic_noise(rng, size, 12.0 * px)
    clumps = _periodic_noise(rng, size, 0.6 * px)
    grain = _periodic_noise(rng, size, 0.06 * px)
    blend = np.clip((patches + 0.4) * 2.5, 0.0, 1.0)[..., None]  # 1 = grass
    detail = (0.6 * clumps + 0.7 * grain)[..., None]
    g_mean, g_std = (np.array(v, np.float32) for v in grass)
    s_mean, s_std = (np.array(v, np.float32) for v in soil)
    image = blend * (g_mean + detail * g_std) + (1 - blend) * (s_mean + detail * s_std)
    return np.clip(image, 0, 255).astype(np.uint8)


def load_texture(cache_dir: Path, seed: int = 1) -> np.ndarray:
    path = cache_dir / f"ground-{seed}-{TEXTURE_SIZE}.png"
    if path.is_file():
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None and image.shape[:2] == (TEXTURE_SIZE, TEXTURE_SIZE):
            return image
    image = make_texture(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
    return image
