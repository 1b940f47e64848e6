"""What a patrol plan is asked for (``PlanSettings``), checked: every number finite and in a range
a real patrol can use, with the camera geometry the coverage figures assume."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from missions.camera import CAMERAS, Camera
from missions.coverage import MIN_COVERAGE_PCT
from missions.errors import PlanningError

PATTERNS = ("coverage", "perimeter", "points")
MIN_ALT, MAX_ALT = 5.0, 120.0
MAX_ALLOWED_ALT = 500.0  # even with --allow-altitude: above this a value is feet or a typo
MIN_SPEED, MAX_SPEED = 0.2, 20.0  # WPNAV_SPEED's range, 20-2000 cm/s
# Beyond these a value is a unit slip (centimetres for metres, seconds for minutes), not a plan.
MIN_SPACING = 1.0  # closer lines than a metre: a typo, and a route no battery flies
MAX_SPACING = 1000.0  # wider than a loudspeaker is heard or a camera sees from 120 m
MAX_OVERLAP = 95.0
MAX_ENDURANCE_MIN = 180.0  # multicopters fly 15-60 min on a battery
MAX_LOITER_S = 3600.0
MAX_DISTANCE_OPTION = 1000.0  # inset, clearance, fence margin (metres)
HOME_ALT_RANGE_M = (-500.0, 9000.0)  # AMSL, the Dead Sea shore to above Everest's base
GENERIC_CAMERA = "generic-1/2.3"
DEFAULT_HOVER_SPACING = 300.0  # about two loudspeaker reaches


@dataclass
class PlanSettings:
    pattern: str = "coverage"
    alt: float = 30.0
    speed: float = 8.0
    spacing: float | None = None
    camera: Camera | None = None
    overlap: float = 20.0
    angle: float | None = None  # sweep bearing in degrees from north; None searches
    loiter: float = 30.0
    endurance_min: float | None = None
    inset: float = 10.0  # perimeter margin inside the boundary
    clearance: float = 10.0  # distance kept from no-fly zones
    fence_margin: float = 30.0
    min_coverage: float = MIN_COVERAGE_PCT  # trim sweep ends while this much is still seen
    allow_altitude: bool = False
    home_alt: float = 0.0  # AMSL of the take-off point
    rally: list[tuple[float, float]] = field(default_factory=list)
    name: str = "patrol"

    def check(self) -> None:
        numbers = {
            "altitude": self.alt,
            "speed": self.speed,
            "spacing": self.spacing,
            "overlap": self.overlap,
            "sweep angle": self.angle,
            "loiter time": self.loiter,
            "endurance": self.endurance_min,
            "perimeter inset": self.inset,
            "no-fly clearance": self.clearance,
            "fence margin": self.fence_margin,
            "minimum coverage": self.min_coverage,
            "home altitude": self.home_alt,
        }
        for label, value in numbers.items():
            if value is not None and not math.isfinite(value):
                raise PlanningError(f"{label} must be a finite number, not {value}")
        if self.pattern not in PATTERNS:
            raise PlanningError(f"unknown pattern '{self.pattern}' (use {', '.join(PATTERNS)})")
        if not self.allow_altitude and not MIN_ALT <= self.alt <= MAX_ALT:
            raise PlanningError(
                f"altitude {self.alt:g} m is outside {MIN_ALT:g}-{MAX_ALT:g} m above take-off "
                "(China's light-drone ceiling is 120 m); use --allow-altitude if authorised"
            )
        if not 0 < self.alt <= MAX_ALLOWED_ALT:
            raise PlanningError(
                f"altitude {self.alt:g} m must be above the take-off point and at most "
                f"{MAX_ALLOWED_ALT:g} m"
            )
        low, high = HOME_ALT_RANGE_M
        if not low <= self.home_alt <= high:
            raise PlanningError(
                f"home altitude {self.home_alt:g} m AMSL is outside {low:g} to {high:g} m"
            )
        if not MIN_SPEED <= self.speed <= MAX_SPEED:
            raise PlanningError(
                f"speed {self.speed:g} m/s must be {MIN_SPEED:g}-{MAX_SPEED:g} m/s "
                "(ArduCopter's WPNAV_SPEED range)"
            )
        if self.spacing is not None:
            self._check_spacing(self.spacing, "spacing")
        if self.endurance_min is not None and self.endurance_min <= 0:
            raise PlanningError(f"endurance must be positive, not {self.endurance_min:g} min")
        if self.endurance_min is not None and self.endurance_min > MAX_ENDURANCE_MIN:
            raise PlanningError(
                f"endurance {self.endurance_min:g} min is over {MAX_ENDURANCE_MIN:g} min: "
                "give minutes of flight per battery"
            )
        if not 0 <= self.loiter <= MAX_LOITER_S:
            raise PlanningError(
                f"loiter time {self.loiter:g} s must be 0-{MAX_LOITER_S:g} s at each point"
            )
        if self.pattern == "coverage" and self.spacing is None and self.camera is None:
            raise PlanningError("the coverage pattern needs --spacing M or --camera NAME")
        if not 0 <= self.overlap <= MAX_OVERLAP:
            raise PlanningError(f"overlap {self.overlap:g}% must be 0-{MAX_OVERLAP:g}%")
        if self.camera is not None and self.spacing is None:
            spacing = self.camera.line_spacing(self.alt, self.overlap)
            self._check_spacing(spacing, f"camera {self.camera.name} line spacing")
        for label, value in (
            ("perimeter inset", self.inset),
            ("no-fly clearance", self.clearance),
            ("fence margin", self.fence_margin),
        ):
            if not 0 <= value <= MAX_DISTANCE_OPTION:
                raise PlanningError(f"{label} {value:g} m must be 0-{MAX_DISTANCE_OPTION:g} m")
        if self.fence_margin < 5:
            raise PlanningError(
                f"fence margin {self.fence_margin:g} m leaves no room to turn: use at least 5 m"
            )
        if not 50 <= self.min_coverage <= 100:
            raise PlanningError(f"minimum coverage {self.min_coverage:g}% must be 50-100%")

    @staticmethod
    def _check_spacing(spacing: float, label: str) -> None:
        if spacing < MIN_SPACING:
            raise PlanningError(f"{label} {spacing:.3g} m is under {MIN_SPACING:g} m: give metres")
        if spacing > MAX_SPACING:
            raise PlanningError(
                f"{label} {spacing:g} m is wider than {MAX_SPACING:g} m: give metres"
            )

    @property
    def line_spacing(self) -> float:
        if self.spacing is not None:
            return self.spacing
        if self.camera is not None:
            return self.camera.line_spacing(self.alt, self.overlap)
        return DEFAULT_HOVER_SPACING

    @property
    def footprint_camera(self) -> Camera | None:
        """The camera the coverage figures assume: the one given; for a coverage sweep
        without one, none (the footprint is the line spacing); otherwise the generic one."""
        if self.camera is not None:
            return self.camera
        return None if self.pattern == "coverage" else CAMERAS[GENERIC_CAMERA]

    @property
    def footprint_width(self) -> float:
        """Ground width the camera sees across track."""
        cam = self.footprint_camera
        return cam.footprint_width(self.alt) if cam else self.line_spacing

    @property
    def footprint_height(self) -> float:
        """Ground length the camera sees along track."""
        cam = self.footprint_camera
        return cam.footprint_height(self.alt) if cam else self.line_spacing


def footprint_note(s: PlanSettings) -> str:
    """One line on the camera geometry behind the coverage figures."""
    c = s.footprint_camera
    if c is None:
        return f"line spacing {s.line_spacing:.1f} m (camera footprint taken equal to it)"
    text = (
        f"camera {c.name}{'' if s.camera else ' (assumed)'}: footprint "
        f"{c.footprint_width(s.alt):.1f} x {c.footprint_height(s.alt):.1f} m at {s.alt:g} m, "
        f"{c.gsd_cm(s.alt):.2f} cm/px"
    )
    if s.pattern == "coverage":
        return f"{text}, line spacing {s.line_spacing:.1f} m at {s.overlap:g}% side overlap"
    if s.pattern == "points":
        return f"{text}; hover points {s.line_spacing:.0f} m apart, {s.loiter:g} s each"
    return f"{text}; boundary {s.inset:g} m inside"
